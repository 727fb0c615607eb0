"""The engine's values and the 2.0.1 payload models meet in one place, for every value."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import pytest

from console.chargepoint import engine201 as e
from console.chargepoint.client201 import mapping
from console.ocpp.v201 import enums as w
from console.ocpp.v201.reservation import ReserveNowRequest

PAIRS = [
    (e.ReserveNowStatus, w.ReserveNowStatus, mapping.reserve_now_status),
    (e.CancelReservationStatus, w.CancelReservationStatus, mapping.cancel_status),
    (e.ReservationUpdateStatus, w.ReservationUpdateStatus, mapping.update_status),
    (e.ConnectorStatus, w.ConnectorStatus, mapping.connector_status),
    (e.ChangeAvailabilityStatus, w.ChangeAvailabilityStatus, mapping.availability_status),
    (e.ConnectorType, w.ConnectorType, mapping.connector_type),
]


@pytest.mark.parametrize(
    ("ours", "wire", "convert"), PAIRS, ids=lambda p: getattr(p, "__name__", "")
)
def test_every_engine_value_has_its_wire_value(
    ours: type[StrEnum], wire: type[StrEnum], convert: Callable[[Any], StrEnum]
) -> None:
    assert {convert(member).value for member in ours} == {member.value for member in wire}
    for member in ours:
        assert isinstance(convert(member), wire)


def test_operational_status_and_tokens_both_ways() -> None:
    for member in w.OperationalStatus:
        assert mapping.operational_status(member).value == member.value
    for kind in e.IdTokenType:
        token = e.IdToken("Card-1", kind)
        assert mapping.id_token(mapping.id_token_model(token)) == token


def test_a_reserve_now_payload_becomes_the_engine_request() -> None:
    request = ReserveNowRequest.model_validate(
        {
            "id": 7,
            "expiryDateTime": "2030-01-01T10:00:00Z",
            "idToken": {"idToken": "OWNER", "type": "eMAID"},
            "groupIdToken": {"idToken": "FLEET", "type": "Central"},
            "evseId": 2,
            "connectorType": "cCCS2",
        }
    )
    assert mapping.reservation_request(request) == e.ReservationRequest(
        id=7,
        expiry_date_time=datetime(2030, 1, 1, 10, tzinfo=UTC),
        id_token=e.IdToken("OWNER", e.IdTokenType.E_MAID),
        evse_id=2,
        connector_type=e.ConnectorType.C_CCS2,
        group_id_token=e.IdToken("FLEET", e.IdTokenType.CENTRAL),
    )
    assert mapping.status_info(None) is None
    info = mapping.status_info(e.StatusInfo("NotEnabled", "off"))
    assert info is not None
    assert info.model_dump(by_alias=True, exclude_none=True) == {
        "reasonCode": "NotEnabled",
        "additionalInfo": "off",
    }
