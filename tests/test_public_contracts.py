"""DESIGN.md "Public contracts": every name other code and outside checks rely on, imported
as the design writes it, with the values, fields and signatures it promises."""

from __future__ import annotations

import dataclasses
import enum
import inspect
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

EXPIRY = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)


# --- console.ocpp.reservation -------------------------------------------------------------


def test_the_reservation_profile_names() -> None:
    from console.ocpp.reservation import (
        CANCEL_RESERVATION_FEATURE_NAME,
        PROFILE_NAME,
        RESERVE_NOW_FEATURE_NAME,
    )

    assert PROFILE_NAME == "Reservation"
    assert RESERVE_NOW_FEATURE_NAME == "ReserveNow"
    assert CANCEL_RESERVATION_FEATURE_NAME == "CancelReservation"


def test_the_reservation_statuses_are_str_enums_spelled_as_on_the_wire() -> None:
    from console.ocpp.reservation import CancelReservationStatus, ReservationStatus

    assert issubclass(ReservationStatus, enum.StrEnum)
    assert issubclass(CancelReservationStatus, enum.StrEnum)
    assert [s.value for s in ReservationStatus] == [
        "Accepted",
        "Faulted",
        "Occupied",
        "Rejected",
        "Unavailable",
    ]
    assert [s.value for s in CancelReservationStatus] == ["Accepted", "Rejected"]


# Each model, its feature_name, and its fields with their camelCase aliases.
_MODELS: dict[str, tuple[str, dict[str, str]]] = {
    "ReserveNowRequest": (
        "ReserveNow",
        {
            "connector_id": "connectorId",
            "expiry_date": "expiryDate",
            "id_tag": "idTag",
            "reservation_id": "reservationId",
            "parent_id_tag": "parentIdTag",
        },
    ),
    "ReserveNowConfirmation": ("ReserveNow", {"status": "status"}),
    "CancelReservationRequest": ("CancelReservation", {"reservation_id": "reservationId"}),
    "CancelReservationConfirmation": ("CancelReservation", {"status": "status"}),
}


@pytest.mark.parametrize("name", sorted(_MODELS))
def test_each_reservation_model_has_its_feature_name_fields_and_aliases(name: str) -> None:
    from console.ocpp import reservation

    model: type[BaseModel] = getattr(reservation, name)
    feature_name, aliases = _MODELS[name]
    assert issubclass(model, BaseModel)
    assert model.feature_name == feature_name  # type: ignore[attr-defined]
    assert {field: info.alias for field, info in model.model_fields.items()} == aliases
    assert model.model_config.get("frozen") is True
    assert model.model_config.get("extra") == "forbid"


def test_reserve_now_request_is_built_by_field_name_or_alias_and_gives_the_wire_payload() -> None:
    from console.ocpp.reservation import ReserveNowRequest

    wire = {
        "connectorId": 1,
        "expiryDate": "2030-01-02T03:04:05Z",
        "idTag": "TAG-1",
        "reservationId": 7,
    }
    by_name = ReserveNowRequest(
        connector_id=1, expiry_date=EXPIRY, id_tag="TAG-1", reservation_id=7
    )
    by_alias = ReserveNowRequest(connectorId=1, expiryDate=EXPIRY, idTag="TAG-1", reservationId=7)
    assert by_name == by_alias == ReserveNowRequest.model_validate(wire)
    assert by_name.parent_id_tag is None
    assert by_name.model_dump(mode="json", by_alias=True, exclude_none=True) == wire
    with pytest.raises(ValidationError):
        by_name.id_tag = "OTHER"  # frozen
    with pytest.raises(ValidationError):
        ReserveNowRequest.model_validate({**wire, "extra": 1})


@pytest.mark.parametrize(
    "change",
    [
        {"connectorId": -1},
        {"expiryDate": None},
        {"idTag": ""},
        {"idTag": "A" * 21},
        {"parentIdTag": "B" * 21},
        {"reservationId": None},
    ],
)
def test_reserve_now_request_refuses_what_the_seed_forbids(change: dict[str, Any]) -> None:
    from console.ocpp.reservation import ReserveNowRequest

    payload: dict[str, Any] = {
        "connectorId": 0,
        "expiryDate": "2030-01-02T03:04:05Z",
        "idTag": "TAG",
        "reservationId": -5,
    }
    ReserveNowRequest.model_validate(payload)  # connector 0 and any integer id are fine
    payload.update(change)
    payload = {key: value for key, value in payload.items() if value is not None}
    with pytest.raises(ValidationError):
        ReserveNowRequest.model_validate(payload)


# --- console.central ----------------------------------------------------------------------


def test_the_central_contract_imports_from_the_package() -> None:
    from console.central import (
        CancelOutcome,
        CentralSystem,
        CentralSystemConfig,
        ReservationRecord,
        ReservationState,
    )
    from console.central.config import CentralSystemConfig as ConfigItself
    from console.central.model import CancelOutcome as OutcomeItself
    from console.central.model import ReservationRecord as RecordItself
    from console.central.model import ReservationState as StateItself
    from console.central.server import CentralSystem as SystemItself

    assert CentralSystem is SystemItself
    assert CentralSystemConfig is ConfigItself
    assert ReservationRecord is RecordItself
    assert ReservationState is StateItself
    assert CancelOutcome is OutcomeItself


def test_the_console_lifecycle_states() -> None:
    from console.central import ReservationState

    assert issubclass(ReservationState, enum.StrEnum)
    assert {s.value for s in ReservationState} == {
        "sending",
        "accepted",
        "faulted",
        "occupied",
        "rejected",
        "unavailable",
        "error",
        "no_response",
        "offline",
        "used",
        "expired",
        "cancelled",
        "ended",
    }


def test_a_reservation_record_has_at_least_the_promised_fields() -> None:
    from console.central import CancelOutcome, ReservationRecord

    fields = {f.name for f in dataclasses.fields(ReservationRecord)}
    assert {
        "reservation_id",
        "station_id",
        "connector_id",
        "id_tag",
        "parent_id_tag",
        "expiry_date",
        "confirmation",
        "state",
        "error",
    } <= fields
    assert {"reservation_id", "station_id", "status"} <= {
        f.name for f in dataclasses.fields(CancelOutcome)
    }


def test_the_config_takes_the_promised_settings(tmp_path: Path) -> None:
    from console.central import CentralSystemConfig

    config = CentralSystemConfig(
        host="127.0.0.1", port=0, data_dir=tmp_path, call_timeout=5.0, security_profile=1
    )
    assert (config.host, config.port, config.data_dir, config.call_timeout) == (
        "127.0.0.1",
        0,
        tmp_path,
        5.0,
    )
    assert config.security_profile == 1


_COROUTINES = ("start", "stop", "reserve_now", "cancel_reservation")
_METHODS = (
    "stations",
    "station",
    "connectors",
    "reservations",
    "reservation",
    "recent_trace",
    "subscribe",
    "urls",
)


def test_the_central_system_has_the_promised_methods() -> None:
    from console.central import CentralSystem

    for name in _COROUTINES:
        assert inspect.iscoroutinefunction(getattr(CentralSystem, name)), name
    for name in _METHODS:
        method = getattr(CentralSystem, name)
        assert callable(method), name
        assert not inspect.iscoroutinefunction(method), name
    assert isinstance(inspect.getattr_static(CentralSystem, "port"), property)
    assert list(inspect.signature(CentralSystem.station).parameters) == ["self", "station_id"]
    connectors = inspect.signature(CentralSystem.connectors).parameters
    assert list(connectors) == ["self", "station_id"]
    assert connectors["station_id"].default is None
    assert list(inspect.signature(CentralSystem.reservation).parameters) == [
        "self",
        "station_id",
        "reservation_id",
    ]
    assert list(inspect.signature(CentralSystem.cancel_reservation).parameters) == [
        "self",
        "station_id",
        "reservation_id",
    ]


def test_reserve_now_takes_its_parameters_as_designed() -> None:
    from console.central import CentralSystem

    parameters = inspect.signature(CentralSystem.reserve_now).parameters
    designed = [
        ("station_id", inspect.Parameter.empty),
        ("connector_id", inspect.Parameter.empty),
        ("id_tag", inspect.Parameter.empty),
        ("expiry_date", inspect.Parameter.empty),
        ("parent_id_tag", None),
        ("reservation_id", None),
    ]
    positional = [
        (p.name, p.default)
        for p in parameters.values()
        if p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD and p.name != "self"
    ]
    assert positional == designed
    # Anything more (the 2.0.1 fields, the check's probe) is keyword-only with a default.
    for extra in parameters.values():
        if extra.kind is not inspect.Parameter.POSITIONAL_OR_KEYWORD:
            assert extra.kind is inspect.Parameter.KEYWORD_ONLY, extra.name
            assert extra.default is not inspect.Parameter.empty, extra.name


@pytest.mark.asyncio
async def test_reserve_now_works_with_positional_and_keyword_arguments(tmp_path: Path) -> None:
    from console.central import (
        CancelOutcome,
        CentralSystem,
        CentralSystemConfig,
        ReservationRecord,
        ReservationState,
    )

    system = CentralSystem(
        CentralSystemConfig(host="127.0.0.1", port=0, data_dir=tmp_path, ping_interval=None)
    )
    await system.start()
    try:
        assert system.port > 0
        assert any(str(system.port) in url for url in system.urls())
        changes: list[object] = []
        unsubscribe = system.subscribe(changes.append)
        expiry = datetime.now(UTC) + timedelta(hours=1)
        positional = await system.reserve_now("CP-NONE", 1, "TAG-1", expiry, "PARENT", 41)
        by_keyword = await system.reserve_now(
            station_id="CP-NONE",
            connector_id=2,
            id_tag="TAG-2",
            expiry_date=expiry,
            parent_id_tag=None,
            reservation_id=42,
        )
        defaults = await system.reserve_now("CP-NONE", 0, "TAG-3", expiry)
        unsubscribe()
        for record in (positional, by_keyword, defaults):
            assert isinstance(record, ReservationRecord)
            assert record.state is ReservationState.OFFLINE  # no station connected
            assert record.confirmation is None
            assert record.error
        assert (positional.reservation_id, positional.parent_id_tag) == (41, "PARENT")
        assert (by_keyword.reservation_id, by_keyword.connector_id) == (42, 2)
        assert defaults.reservation_id == 43  # the counter moved past the ids used
        assert system.reservation("CP-NONE", 42) == by_keyword
        assert system.reservations() == [positional, by_keyword, defaults]
        assert changes
        assert system.stations() == []
        assert system.station("CP-NONE") is None
        assert system.connectors() == []
        assert system.recent_trace() == []
        cancel = await system.cancel_reservation("CP-NONE", 41)
        assert isinstance(cancel, CancelOutcome)
        assert cancel.status is None
    finally:
        await system.stop()


# --- console.chargepoint ------------------------------------------------------------------


def test_the_station_side_contract_imports_from_the_package() -> None:
    from console.chargepoint import ReservationEngine, SiteSimulator, StationClient
    from console.chargepoint.client import StationClient as ClientItself
    from console.chargepoint.engine import ReservationEngine as EngineItself
    from console.chargepoint.simulator import SiteSimulator as SimulatorItself

    assert ReservationEngine is EngineItself
    assert StationClient is ClientItself
    assert SiteSimulator is SimulatorItself
    # The engine is plain code: time is passed in.
    assert "now" in inspect.signature(ReservationEngine.reserve_now).parameters
