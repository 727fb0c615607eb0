"""The OCPP versions, their subprotocol names, and their feature tables."""

from __future__ import annotations

import enum

import pytest

from console.ocpp import features as v16_features
from console.ocpp.feature_table import Feature, Role
from console.ocpp.features import Feature as Feature16
from console.ocpp.features import Role as Role16
from console.ocpp.tables import FEATURE_TABLES, feature_table
from console.ocpp.v201 import features as v201_features
from console.ocpp.versions import OcppVersion


def test_versions_are_spelled_as_people_write_them() -> None:
    assert issubclass(OcppVersion, enum.StrEnum)
    assert [v.value for v in OcppVersion] == ["1.6", "2.0.1"]
    assert f"OCPP {OcppVersion.V201}" == "OCPP 2.0.1"


@pytest.mark.parametrize(
    ("version", "subprotocol"), [(OcppVersion.V16, "ocpp1.6"), (OcppVersion.V201, "ocpp2.0.1")]
)
def test_subprotocols(version: OcppVersion, subprotocol: str) -> None:
    assert version.subprotocol == subprotocol
    assert OcppVersion.from_subprotocol(subprotocol) is version


@pytest.mark.parametrize("name", ["ocpp2.0", "OCPP1.6", "ocpp2.1", "1.6", "", "ocpp1.6 "])
def test_other_subprotocols_are_no_version(name: str) -> None:
    assert OcppVersion.from_subprotocol(name) is None


def test_each_version_has_its_table() -> None:
    assert set(FEATURE_TABLES) == set(OcppVersion)
    assert feature_table(OcppVersion.V16) is v16_features.TABLE
    assert feature_table(OcppVersion.V201) is v201_features.TABLE
    assert feature_table(OcppVersion.V16).features is v16_features.FEATURES
    assert feature_table(OcppVersion.V16).known_actions is v16_features.KNOWN_ACTIONS
    assert "ReservationStatusUpdate" in feature_table(OcppVersion.V201).receivable(
        Role.CENTRAL_SYSTEM
    )
    assert "ReserveNow" in feature_table(OcppVersion.V16).receivable(Role.CHARGE_POINT)


def test_feature_and_role_are_still_importable_from_the_1_6_table() -> None:
    assert Feature16 is Feature
    assert Role16 is Role
