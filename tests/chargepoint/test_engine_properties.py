"""Properties of the reservation engine under random sequences of station events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from console.chargepoint.engine import (
    Changes,
    ChargingRefusedError,
    ReservationEngine,
    StatusChange,
)
from console.ocpp.enums import ChargePointErrorCode, ChargePointStatus
from console.ocpp.reservation import (
    CancelReservationStatus,
    ReservationStatus,
    ReserveNowRequest,
)

START = datetime(2026, 1, 1, tzinfo=UTC)
CONNECTORS = 3
TAGS = ["A", "a", "B", "C"]

connector = st.integers(min_value=1, max_value=CONNECTORS)
any_connector = st.integers(min_value=0, max_value=CONNECTORS)
operation = st.one_of(
    st.tuples(
        st.just("reserve"),
        st.integers(1, 5),
        any_connector,
        st.sampled_from(TAGS),
        st.integers(1, 30),
    ),
    st.tuples(st.just("cancel"), st.integers(0, 5)),
    st.tuples(st.just("start"), connector, st.sampled_from(TAGS)),
    st.tuples(st.just("stop"), connector),
    st.tuples(st.just("plug"), connector),
    st.tuples(st.just("unplug"), connector),
    st.tuples(st.just("fault"), any_connector),
    st.tuples(st.just("clear"), any_connector),
    st.tuples(st.just("availability"), any_connector, st.booleans()),
    st.tuples(st.just("wait"), st.integers(1, 20)),
)


def apply(engine: ReservationEngine, op: tuple[Any, ...], now: datetime) -> Changes | None:
    kind = op[0]
    if kind == "reserve":
        _, reservation_id, connector_id, tag, minutes = op
        request = ReserveNowRequest(
            connector_id=connector_id,
            expiry_date=now + timedelta(minutes=minutes),
            id_tag=tag,
            reservation_id=reservation_id,
        )
        held_before = {r.reservation_id for r in engine.reservations}
        result = engine.reserve_now(request, now)
        if result.status is ReservationStatus.ACCEPTED:
            assert engine.reservation(reservation_id) is not None
        else:
            assert result.notifications == ()
            assert {r.reservation_id for r in engine.reservations} == held_before
        return result
    if kind == "cancel":
        held = engine.reservation(op[1]) is not None
        cancelled = engine.cancel_reservation(op[1])
        assert (cancelled.status is CancelReservationStatus.ACCEPTED) == held
        return cancelled
    if kind == "start":
        decision = engine.may_start(op[1], op[2])
        try:
            started = engine.start_transaction(op[1], op[2])
        except ChargingRefusedError:
            assert not decision.allowed
            return None
        assert decision.allowed
        assert started.reservation_id == decision.reservation_id
        return started
    if kind == "stop":
        return engine.stop_transaction(op[1])
    if kind == "plug":
        return engine.plug_in(op[1])
    if kind == "unplug":
        return None if engine.in_transaction(op[1]) else engine.unplug(op[1])
    if kind == "fault":
        return engine.set_fault(op[1], ChargePointErrorCode.GROUND_FAILURE)
    if kind == "clear":
        return engine.clear_fault(op[1])
    if kind == "availability":
        return engine.change_availability(op[1], op[2])
    raise AssertionError(kind)


@settings(max_examples=300, deadline=None)
@given(st.lists(operation, max_size=40))
def test_notifications_replay_to_the_current_statuses(ops: list[tuple[Any, ...]]) -> None:
    """Every status change is reported exactly when it happens: replaying the
    notifications over the first statuses gives the statuses now; and the rules hold."""
    engine = ReservationEngine(CONNECTORS)
    reported: dict[int, StatusChange] = {s.connector_id: s for s in engine.all_statuses()}
    now = START
    for op in ops:
        if op[0] == "wait":
            now += timedelta(minutes=op[1])
            changes: Changes | None = engine.tick(now)
        else:
            changes = apply(engine, op, now)
        for change in changes.notifications if changes else ():
            assert reported[change.connector_id] != change, "a notification that changes nothing"
            reported[change.connector_id] = change
        assert reported == {s.connector_id: s for s in engine.all_statuses()}
        check_rules(engine, now)


def check_rules(engine: ReservationEngine, now: datetime) -> None:
    reservations = engine.reservations
    specific = [r.connector_id for r in reservations if r.connector_id]
    assert len(specific) == len(set(specific)), "two reservations on one connector"
    zero = [r for r in reservations if r.connector_id == 0]
    for reservation in reservations:
        assert reservation.expiry_date > now, "an expired reservation is still held"
        if reservation.connector_id:
            status = engine.status(reservation.connector_id).status
            assert status not in (ChargePointStatus.FAULTED, ChargePointStatus.UNAVAILABLE)
            # Nobody else may charge there; the reserved tag (any case) may.
            assert not engine.may_start(reservation.connector_id, "STRANGER").allowed
            if status in (ChargePointStatus.AVAILABLE, ChargePointStatus.RESERVED):
                assert status is ChargePointStatus.RESERVED
                decision = engine.may_start(reservation.connector_id, reservation.id_tag.lower())
                assert decision.reservation_id == reservation.reservation_id
    if zero:
        in_service = [
            c
            for c in engine.connector_ids
            if engine.status(c).status
            not in (ChargePointStatus.FAULTED, ChargePointStatus.UNAVAILABLE)
        ]
        assert len(zero) <= len(in_service), "a connector-0 reservation with no connector"
        # Connectors nobody is using, without a reservation of their own.
        startable = [
            c
            for c in engine.connector_ids
            if engine.status(c).status in (ChargePointStatus.AVAILABLE, ChargePointStatus.RESERVED)
            and engine.reservation_on(c) is None
        ]
        stranger_may_take = [c for c in startable if engine.may_start(c, "STRANGER").allowed]
        # Whatever a stranger takes, one connector is left for each connector-0 idTag.
        if stranger_may_take:
            assert len(startable) - 1 >= len(zero)
        for reservation in zero:
            for c in startable:
                assert engine.may_start(c, reservation.id_tag).reservation_id is not None
