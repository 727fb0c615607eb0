"""What the console tells a technician about a ReserveNow before and after sending it:
pure functions over snapshots, so every case is one line of data."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from console.central.model import ConnectorSnapshot, ReservationRecord, ReservationState
from console.central.reserve_advice import expected_refusal, id_collision, refusal_meaning
from console.ocpp.enums import ChargePointErrorCode, ChargePointStatus
from console.ocpp.reservation import ReservationStatus
from console.ocpp.v201.enums import ConnectorStatus
from console.ocpp.versions import OcppVersion

NOW = datetime(2025, 3, 1, 14, 2, 37, tzinfo=UTC)


def connector(
    connector_id: int,
    status: ChargePointStatus | None,
    error_code: ChargePointErrorCode | None = None,
    reservation_id: int | None = None,
) -> ConnectorSnapshot:
    return ConnectorSnapshot(
        station_id="CP-01",
        connector_id=connector_id,
        status=status,
        error_code=error_code,
        reservation_id=reservation_id,
    )


def record(
    state: ReservationState,
    *,
    reservation_id: int = 4,
    station_id: str = "CP-01",
    connector_id: int = 1,
) -> ReservationRecord:
    answer = {
        ReservationState.ACCEPTED: ReservationStatus.ACCEPTED,
        ReservationState.REJECTED: ReservationStatus.REJECTED,
        ReservationState.FAULTED: ReservationStatus.FAULTED,
        ReservationState.OCCUPIED: ReservationStatus.OCCUPIED,
        ReservationState.UNAVAILABLE: ReservationStatus.UNAVAILABLE,
    }.get(state)
    return ReservationRecord(
        reservation_id=reservation_id,
        station_id=station_id,
        connector_id=connector_id,
        id_tag="TAG",
        parent_id_tag=None,
        expiry_date=NOW + timedelta(minutes=15),
        created_at=NOW,
        state=state,
        confirmation=answer,
    )


AVAILABLE = ChargePointStatus.AVAILABLE
FAULTED = ChargePointStatus.FAULTED
GROUND = ChargePointErrorCode.GROUND_FAILURE


@pytest.mark.parametrize(
    ("chosen", "station", "reservation_id", "expected"),
    [
        (connector(1, AVAILABLE), connector(0, AVAILABLE), 4, None),
        (connector(1, None), None, 4, None),
        (
            connector(1, FAULTED, GROUND),
            connector(0, AVAILABLE),
            4,
            "Faulted (GroundFailure): the station will answer Faulted",
        ),
        (
            connector(1, FAULTED, ChargePointErrorCode.NO_ERROR),
            None,
            4,
            "Faulted: the station will answer Faulted",
        ),
        (
            connector(1, ChargePointStatus.UNAVAILABLE),
            None,
            4,
            "Unavailable: the station will answer Unavailable",
        ),
        (
            connector(1, AVAILABLE),
            connector(0, FAULTED, ChargePointErrorCode.HIGH_TEMPERATURE),
            4,
            "Station Faulted (HighTemperature): it will answer Faulted",
        ),
        (
            connector(1, AVAILABLE),
            connector(0, ChargePointStatus.UNAVAILABLE),
            4,
            "Station Unavailable: it will answer Unavailable",
        ),
        (
            connector(1, ChargePointStatus.CHARGING),
            None,
            4,
            "Charging: the station will answer Occupied",
        ),
        (
            connector(1, ChargePointStatus.RESERVED, reservation_id=9),
            None,
            4,
            "Reserved (reservation 9): the station will answer Occupied",
        ),
        # the same id: a replacement, which the station accepts
        (connector(1, ChargePointStatus.RESERVED, reservation_id=4), None, 4, None),
        # connector 0: only the station as a whole decides what is certain
        (connector(0, AVAILABLE), connector(0, AVAILABLE), 4, None),
    ],
)
def test_the_answer_a_status_makes_certain(
    chosen: ConnectorSnapshot,
    station: ConnectorSnapshot | None,
    reservation_id: int,
    expected: str | None,
) -> None:
    assert expected_refusal(chosen, station, reservation_id) == expected


def test_each_refusal_says_what_it_means() -> None:
    assert refusal_meaning(record(ReservationState.REJECTED)) == (
        "The station is configured not to accept reservations."
    )
    zero = refusal_meaning(record(ReservationState.REJECTED, connector_id=0))
    assert zero is not None
    assert "connector 0" in zero
    assert "configured not to accept reservations" in zero
    faulted = refusal_meaning(record(ReservationState.FAULTED), connector(1, FAULTED, GROUND))
    assert faulted == "Connector 1 is Faulted (GroundFailure): no reservation until it is repaired."
    assert "Faulted" in (refusal_meaning(record(ReservationState.FAULTED)) or "")
    assert "Unavailable" in (refusal_meaning(record(ReservationState.UNAVAILABLE)) or "")
    assert "in use, or already reserved" in (
        refusal_meaning(record(ReservationState.OCCUPIED)) or ""
    )
    for state in (ReservationState.ACCEPTED, ReservationState.NO_RESPONSE, ReservationState.USED):
        assert refusal_meaning(record(state)) is None


def test_a_2_0_1_refusal_names_the_reservation_controller_and_the_station_s_reason() -> None:
    rejected = dataclasses.replace(
        record(ReservationState.REJECTED, connector_id=0),
        ocpp_version=OcppVersion.V201,
        status_reason="NoEvse",
        status_detail="name an EVSE",
    )
    meaning = refusal_meaning(rejected) or ""
    assert "NonEvseSpecific" in meaning
    assert meaning.endswith("The station says NoEvse: name an EVSE.")
    plain = dataclasses.replace(record(ReservationState.REJECTED), ocpp_version=OcppVersion.V201)
    assert "ReservationCtrlr.Enabled" in (refusal_meaning(plain) or "")


def test_a_2_0_1_connector_occupied_or_reserved_is_refused_ahead() -> None:
    occupied = ConnectorSnapshot("CP-01", 1, ConnectorStatus.OCCUPIED, evse_id=1)
    assert "Occupied" in (expected_refusal(occupied, None, 4) or "")
    reserved = ConnectorSnapshot("CP-01", 1, ConnectorStatus.RESERVED, evse_id=1, reservation_id=3)
    assert expected_refusal(reserved, None, 4) is not None
    assert (
        expected_refusal(ConnectorSnapshot("CP-01", 1, ConnectorStatus.AVAILABLE), None, 4) is None
    )


def test_an_id_held_anywhere_is_named() -> None:
    here = record(ReservationState.ACCEPTED, connector_id=2)
    there = record(ReservationState.ACCEPTED, station_id="CP-02", connector_id=0)
    gone = record(ReservationState.EXPIRED, station_id="CP-03")
    other_id = record(ReservationState.ACCEPTED, reservation_id=5, station_id="CP-04")
    assert id_collision(4, "CP-01", [gone, other_id]) is None
    assert id_collision(4, "CP-01", [here]) == (
        "Replaces reservation 4 on this station (connector 2)"
    )
    assert id_collision(4, "CP-01", [there]) == "Id 4 is active on CP-02 (any connector)"
    assert id_collision(4, "CP-01", [there, here]) == (
        "Replaces reservation 4 on this station (connector 2); also active on CP-02 (any connector)"
    )
    assert id_collision(4, None, [here]) == "Id 4 is active on CP-01 (connector 2)"
