"""The station-side Reservation rules, case by case (no I/O, time passed in)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from console.chargepoint.engine import (
    ChargingRefusedError,
    EndReason,
    ReservationEngine,
    StatusChange,
)
from console.ocpp.enums import AvailabilityStatus, ChargePointErrorCode, ChargePointStatus
from console.ocpp.reservation import (
    CancelReservationStatus,
    ReservationStatus,
    ReserveNowRequest,
)

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
LATER = NOW + timedelta(minutes=15)

A = ChargePointStatus.AVAILABLE
R = ChargePointStatus.RESERVED
FAULTED = ChargePointStatus.FAULTED
UNAVAILABLE = ChargePointStatus.UNAVAILABLE


def request(
    reservation_id: int = 1,
    connector_id: int = 1,
    id_tag: str = "CARD-1",
    parent_id_tag: str | None = None,
    expiry: datetime = LATER,
) -> ReserveNowRequest:
    return ReserveNowRequest(
        connector_id=connector_id,
        expiry_date=expiry,
        id_tag=id_tag,
        reservation_id=reservation_id,
        parent_id_tag=parent_id_tag,
    )


def statuses(engine: ReservationEngine) -> list[ChargePointStatus]:
    return [s.status for s in engine.all_statuses()]


# --- ReserveNow answers ----------------------------------------------------------------------


def test_accepted_reservation_reports_reserved() -> None:
    engine = ReservationEngine(2)
    result = engine.reserve_now(request(), NOW)
    assert result.status is ReservationStatus.ACCEPTED
    assert result.notifications == (StatusChange(1, R),)
    assert engine.reservation_on(1) is not None
    assert statuses(engine) == [A, R, A]


def test_same_reservation_id_replaces_the_reservation() -> None:
    engine = ReservationEngine(2)
    engine.reserve_now(request(7, connector_id=1, id_tag="OLD"), NOW)
    result = engine.reserve_now(request(7, connector_id=2, id_tag="NEW"), NOW)
    assert result.status is ReservationStatus.ACCEPTED
    assert result.replaced is not None
    assert result.replaced.id_tag == "OLD"
    assert [e.reason for e in result.ended] == [EndReason.REPLACED]
    assert set(result.notifications) == {StatusChange(1, A), StatusChange(2, R)}
    assert len(engine.reservations) == 1
    held = engine.reservation(7)
    assert held is not None
    assert (held.connector_id, held.id_tag) == (2, "NEW")


def test_same_reservation_id_on_the_same_connector_is_not_occupied_by_itself() -> None:
    engine = ReservationEngine(1)
    engine.reserve_now(request(7, id_tag="OLD"), NOW)
    result = engine.reserve_now(request(7, id_tag="NEW", expiry=LATER + timedelta(hours=1)), NOW)
    assert result.status is ReservationStatus.ACCEPTED
    assert result.notifications == ()  # still Reserved: nothing to tell
    held = engine.reservation(7)
    assert held is not None
    assert held.id_tag == "NEW"
    assert held.expiry_date == LATER + timedelta(hours=1)


def test_refused_replacement_leaves_the_old_reservation() -> None:
    engine = ReservationEngine(2)
    engine.reserve_now(request(7, connector_id=1), NOW)
    engine.set_fault(2, ChargePointErrorCode.GROUND_FAILURE)
    result = engine.reserve_now(request(7, connector_id=2), NOW)
    assert result.status is ReservationStatus.FAULTED
    held = engine.reservation(7)
    assert held is not None
    assert held.connector_id == 1


def test_second_reservation_on_a_reserved_connector_is_occupied() -> None:
    engine = ReservationEngine(2)
    engine.reserve_now(request(1, id_tag="CARD-1"), NOW)
    other_tag = engine.reserve_now(request(2, id_tag="CARD-2"), NOW)
    same_tag = engine.reserve_now(request(3, id_tag="card-1"), NOW)
    assert other_tag.status is ReservationStatus.OCCUPIED
    assert same_tag.status is ReservationStatus.OCCUPIED
    assert other_tag.notifications == ()
    assert [r.reservation_id for r in engine.reservations] == [1]


@pytest.mark.parametrize(
    "usage",
    ["plugged", "charging", "finishing"],
)
def test_occupied_connector_is_occupied(usage: str) -> None:
    engine = ReservationEngine(2)
    engine.plug_in(1)
    if usage != "plugged":
        engine.start_transaction(1, "SOMEONE")
    if usage == "finishing":
        engine.stop_transaction(1)
    assert engine.reserve_now(request(), NOW).status is ReservationStatus.OCCUPIED
    assert engine.reservations == ()


def test_faulted_connector_is_faulted() -> None:
    engine = ReservationEngine(2)
    engine.set_fault(1, ChargePointErrorCode.GROUND_FAILURE)
    assert engine.reserve_now(request(), NOW).status is ReservationStatus.FAULTED
    assert engine.status(1) == StatusChange(1, FAULTED, ChargePointErrorCode.GROUND_FAILURE)


def test_faulted_station_is_faulted_for_every_connector() -> None:
    engine = ReservationEngine(2)
    engine.set_fault(0, ChargePointErrorCode.INTERNAL_ERROR)
    assert engine.reserve_now(request(connector_id=2), NOW).status is ReservationStatus.FAULTED
    assert engine.reserve_now(request(connector_id=0), NOW).status is ReservationStatus.FAULTED


def test_unavailable_connector_and_station() -> None:
    engine = ReservationEngine(2)
    engine.change_availability(1, operative=False)
    assert engine.reserve_now(request(connector_id=1), NOW).status is (
        ReservationStatus.UNAVAILABLE
    )
    assert engine.reserve_now(request(connector_id=2), NOW).status is ReservationStatus.ACCEPTED
    station = ReservationEngine(2)
    result = station.change_availability(0, operative=False)
    assert result.status is AvailabilityStatus.ACCEPTED
    assert statuses(station) == [UNAVAILABLE] * 3
    assert station.reserve_now(request(connector_id=2), NOW).status is (
        ReservationStatus.UNAVAILABLE
    )


def test_reservations_switched_off_is_rejected() -> None:
    engine = ReservationEngine(2, reservations_enabled=False)
    assert engine.reserve_now(request(), NOW).status is ReservationStatus.REJECTED
    assert engine.reserve_now(request(connector_id=0), NOW).status is ReservationStatus.REJECTED
    assert engine.reservations == ()


def test_connector_zero_without_support_is_rejected() -> None:
    engine = ReservationEngine(2, reserve_connector_zero_supported=False)
    assert engine.reserve_now(request(connector_id=0), NOW).status is ReservationStatus.REJECTED
    assert engine.reserve_now(request(connector_id=1), NOW).status is ReservationStatus.ACCEPTED


def test_unknown_connector_and_past_expiry_are_rejected() -> None:
    engine = ReservationEngine(2)
    assert engine.reserve_now(request(connector_id=3), NOW).status is ReservationStatus.REJECTED
    past = request(expiry=NOW - timedelta(seconds=1))
    assert engine.reserve_now(past, NOW).status is ReservationStatus.REJECTED


# --- CancelReservation ------------------------------------------------------------------------


def test_cancel_held_reservation_is_accepted_and_reports_available() -> None:
    engine = ReservationEngine(2)
    engine.reserve_now(request(5), NOW)
    result = engine.cancel_reservation(5)
    assert result.status is CancelReservationStatus.ACCEPTED
    assert result.notifications == (StatusChange(1, A),)
    assert [e.reason for e in result.ended] == [EndReason.CANCELLED]
    assert engine.reservations == ()


@pytest.mark.parametrize("reservation_id", [0, 4, -1])
def test_cancel_unknown_reservation_is_rejected(reservation_id: int) -> None:
    engine = ReservationEngine(2)
    engine.reserve_now(request(5), NOW)
    result = engine.cancel_reservation(reservation_id)
    assert result.status is CancelReservationStatus.REJECTED
    assert result.notifications == ()
    assert len(engine.reservations) == 1


def test_cancel_twice_second_is_rejected() -> None:
    engine = ReservationEngine(1)
    engine.reserve_now(request(5), NOW)
    assert engine.cancel_reservation(5).status is CancelReservationStatus.ACCEPTED
    assert engine.cancel_reservation(5).status is CancelReservationStatus.REJECTED


# --- expiry ------------------------------------------------------------------------------------


def test_expiry_frees_the_connector_and_sends_available() -> None:
    engine = ReservationEngine(2)
    engine.reserve_now(request(3), NOW)
    assert engine.next_expiry() == LATER
    assert engine.tick(LATER - timedelta(seconds=1)).notifications == ()
    assert engine.reservation(3) is not None
    changes = engine.tick(LATER)
    assert changes.notifications == (StatusChange(1, A),)
    assert [(e.reservation.reservation_id, e.reason) for e in changes.ended] == [
        (3, EndReason.EXPIRED)
    ]
    assert engine.next_expiry() is None
    assert engine.may_start(1, "ANYONE").allowed


# --- who may charge ------------------------------------------------------------------------


def test_reserved_card_starts_and_transaction_carries_the_reservation_id() -> None:
    engine = ReservationEngine(2)
    engine.reserve_now(request(11, id_tag="CARD-1"), NOW)
    engine.plug_in(1)  # plugged in while reserved: still held for CARD-1
    decision = engine.may_start(1, "CARD-1")
    assert decision.allowed
    assert decision.reservation_id == 11
    started = engine.start_transaction(1, "CARD-1")
    assert started.reservation_id == 11
    assert [e.reason for e in started.ended] == [EndReason.USED]
    assert started.notifications == (StatusChange(1, ChargePointStatus.CHARGING),)
    assert engine.reservations == ()


def test_idtags_compare_case_insensitively() -> None:
    engine = ReservationEngine(1)
    engine.reserve_now(request(11, id_tag="Card-ABC"), NOW)
    assert engine.may_start(1, "cARD-abc").reservation_id == 11


def test_card_with_the_reserved_parent_starts() -> None:
    engine = ReservationEngine(1)
    engine.reserve_now(request(12, id_tag="DRIVER-1", parent_id_tag="FLEET"), NOW)
    assert not engine.may_start(1, "DRIVER-2").allowed  # parent not known yet
    engine.learn_parent("DRIVER-2", "fleet")  # from an Authorize answer
    started = engine.start_transaction(1, "DRIVER-2")
    assert started.reservation_id == 12


def test_parent_from_the_local_list() -> None:
    engine = ReservationEngine(1, local_list={"driver-3": "FLEET"})
    engine.reserve_now(request(13, id_tag="DRIVER-1", parent_id_tag="Fleet"), NOW)
    assert engine.may_start(1, "DRIVER-3").reservation_id == 13
    assert engine.may_start(1, "DRIVER-4", parent_id_tag="FLEET").reservation_id == 13


def test_any_other_card_is_refused_on_the_reserved_connector() -> None:
    engine = ReservationEngine(2)
    engine.reserve_now(request(11, id_tag="CARD-1", parent_id_tag="FLEET"), NOW)
    decision = engine.may_start(1, "STRANGER", parent_id_tag="OTHER")
    assert not decision.allowed
    assert "reserved" in decision.reason
    with pytest.raises(ChargingRefusedError):
        engine.start_transaction(1, "STRANGER")
    assert engine.reservation(11) is not None
    # The other connector is free for anyone, and it leaves the reservation alone.
    assert engine.start_transaction(2, "STRANGER").reservation_id is None
    assert engine.reservation(11) is not None


def test_reserved_card_on_another_connector_keeps_the_reservation() -> None:
    engine = ReservationEngine(2)
    engine.reserve_now(request(11, id_tag="CARD-1"), NOW)
    assert engine.start_transaction(2, "CARD-1").reservation_id is None
    assert engine.reservation(11) is not None


# --- connector 0 ---------------------------------------------------------------------------


def test_connector_zero_reservation_with_all_but_one_busy_blocks_the_last_one() -> None:
    engine = ReservationEngine(3)
    engine.start_transaction(1, "BUSY-1")
    engine.reserve_now(request(20, connector_id=2, id_tag="OTHER"), NOW)
    result = engine.reserve_now(request(21, connector_id=0, id_tag="ZERO"), NOW)
    assert result.status is ReservationStatus.ACCEPTED
    assert result.notifications == (StatusChange(3, R),)
    refused = engine.may_start(3, "SOMEONE")
    assert not refused.allowed
    assert "connector-0" in refused.reason
    # No connector is left for a further reservation.
    assert engine.reserve_now(request(22, connector_id=3), NOW).status is (
        ReservationStatus.OCCUPIED
    )
    assert engine.reserve_now(request(23, connector_id=0), NOW).status is (
        ReservationStatus.OCCUPIED
    )
    started = engine.start_transaction(3, "zero")
    assert started.reservation_id == 21


def test_connector_zero_reservation_blocks_the_last_free_one_when_another_starts() -> None:
    engine = ReservationEngine(2)
    accepted = engine.reserve_now(request(30, connector_id=0, id_tag="ZERO"), NOW)
    assert accepted.notifications == ()  # two free connectors, one kept: none blocked yet
    assert statuses(engine) == [A, A, A]
    engine.start_transaction(1, "SOMEONE")
    assert engine.status(2) == StatusChange(2, R)
    assert not engine.may_start(2, "SOMEONE-ELSE").allowed
    # The reserved idTag ends it on any connector.
    started = engine.start_transaction(2, "ZERO")
    assert started.reservation_id == 30
    assert [e.reason for e in started.ended] == [EndReason.USED]


def test_connector_zero_reservation_ends_on_any_connector() -> None:
    engine = ReservationEngine(3)
    engine.reserve_now(request(31, connector_id=0, id_tag="ZERO"), NOW)
    assert engine.start_transaction(2, "ZERO").reservation_id == 31
    assert engine.reservations == ()


def test_connector_zero_on_a_fully_busy_station_is_occupied() -> None:
    engine = ReservationEngine(2)
    engine.start_transaction(1, "A")
    engine.plug_in(2)
    assert engine.reserve_now(request(connector_id=0), NOW).status is ReservationStatus.OCCUPIED


def test_connector_zero_when_all_connectors_faulted_is_faulted() -> None:
    engine = ReservationEngine(2)
    engine.set_fault(1)
    engine.set_fault(2)
    assert engine.reserve_now(request(connector_id=0), NOW).status is ReservationStatus.FAULTED


# --- Faulted / Unavailable end reservations --------------------------------------------------


def test_fault_ends_the_reservation_of_the_connector() -> None:
    engine = ReservationEngine(2)
    engine.reserve_now(request(40, connector_id=1), NOW)
    engine.reserve_now(request(41, connector_id=2), NOW)
    changes = engine.set_fault(1, ChargePointErrorCode.GROUND_FAILURE)
    assert [(e.reservation.reservation_id, e.reason) for e in changes.ended] == [
        (40, EndReason.FAULTED)
    ]
    assert changes.notifications == (StatusChange(1, FAULTED, ChargePointErrorCode.GROUND_FAILURE),)
    assert engine.reservation(41) is not None
    cleared = engine.clear_fault(1)
    assert cleared.notifications == (StatusChange(1, A),)  # not Reserved again


def test_unavailable_ends_reservations() -> None:
    engine = ReservationEngine(2)
    engine.reserve_now(request(50, connector_id=1), NOW)
    engine.reserve_now(request(51, connector_id=0), NOW)
    result = engine.change_availability(0, operative=False)
    assert result.status is AvailabilityStatus.ACCEPTED
    assert {(e.reservation.reservation_id, e.reason) for e in result.ended} == {
        (50, EndReason.UNAVAILABLE),
        (51, EndReason.UNAVAILABLE),
    }
    assert engine.reservations == ()
    assert StatusChange(0, UNAVAILABLE) in result.notifications


def test_station_fault_ends_connector_zero_reservation() -> None:
    engine = ReservationEngine(2)
    engine.reserve_now(request(60, connector_id=0), NOW)
    changes = engine.set_fault(0, ChargePointErrorCode.INTERNAL_ERROR)
    assert [e.reason for e in changes.ended] == [EndReason.FAULTED]
    assert changes.notifications[0] == StatusChange(0, FAULTED, ChargePointErrorCode.INTERNAL_ERROR)


# --- availability and transactions ------------------------------------------------------------


def test_change_availability_during_a_transaction_is_scheduled() -> None:
    engine = ReservationEngine(1)
    engine.start_transaction(1, "A")
    result = engine.change_availability(1, operative=False)
    assert result.status is AvailabilityStatus.SCHEDULED
    assert engine.status(1).status is ChargePointStatus.CHARGING
    changes = engine.stop_transaction(1)
    assert changes.notifications == (StatusChange(1, UNAVAILABLE),)


def test_stop_and_unplug_return_to_available() -> None:
    engine = ReservationEngine(1)
    engine.plug_in(1)
    engine.start_transaction(1, "A")
    assert engine.stop_transaction(1).notifications == (
        StatusChange(1, ChargePointStatus.FINISHING),
    )
    assert engine.unplug(1).notifications == (StatusChange(1, A),)
    assert not engine.may_start(1, "B").reason


def test_charging_connector_refuses_a_second_start() -> None:
    engine = ReservationEngine(1)
    engine.start_transaction(1, "A")
    assert not engine.may_start(1, "A").allowed
    with pytest.raises(ValueError, match="stop the transaction"):
        engine.unplug(1)


def test_connector_zero_reservations_beyond_the_connectors_in_service_end() -> None:
    engine = ReservationEngine(3)
    engine.reserve_now(request(70, connector_id=0, id_tag="FIRST"), NOW)
    engine.reserve_now(request(71, connector_id=0, id_tag="SECOND"), NOW)
    assert engine.set_fault(1).ended == ()  # two connectors left for two reservations
    changes = engine.change_availability(2, operative=False)
    assert [(e.reservation.reservation_id, e.reason) for e in changes.ended] == [
        (71, EndReason.UNAVAILABLE)
    ]
    assert [r.reservation_id for r in engine.reservations] == [70]
    assert engine.status(3) == StatusChange(3, R)  # the last one is kept for FIRST
