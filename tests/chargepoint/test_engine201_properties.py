"""Properties of the 2.0.1 reservation engine under random sequences of station events.

After every event: the statuses told replay to the statuses now; every reservation that
ended got exactly one ending, of a kind that event may cause; a reserved or kept EVSE never
lets another token charge; the reservations without EVSE always fit the free EVSEs (checked
by brute force, apart from the engine's own matching); and what each connector reports
matches the state.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import permutations
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from console.chargepoint.engine201 import (
    CancelReservationStatus,
    Changes,
    ConnectorStatus,
    ConnectorStatusChange,
    ConnectorType,
    EndReason,
    IdToken,
    OperationalStatus,
    Reservation,
    ReservationEngine201,
    ReservationRequest,
    ReservationSettings,
    ReserveNowStatus,
)

START = datetime(2026, 1, 1, tzinfo=UTC)
TYPE2 = ConnectorType.C_TYPE2
CCS2 = ConnectorType.C_CCS2
LAYOUT = {1: [TYPE2], 2: [CCS2, TYPE2], 3: [CCS2]}
TAGS = ["A", "a", "B", "C"]
STRANGER = IdToken("STRANGER")
BLOCKED = {ConnectorStatus.FAULTED, ConnectorStatus.UNAVAILABLE}

evse = st.integers(1, len(LAYOUT))
connector = st.integers(1, 2)
# The station itself faults or goes unavailable less often than an EVSE or a connector.
target = st.one_of(
    st.tuples(evse, st.none()), st.tuples(evse, connector), st.tuples(evse, st.none()), st.none()
)
reserve = st.tuples(
    st.just("reserve"),
    st.integers(1, 5),
    st.integers(0, len(LAYOUT)),  # 0: no evseId
    st.sampled_from([None, None, TYPE2, CCS2, ConnectorType.C_TESLA]),
    st.sampled_from(TAGS),
    st.sampled_from([None, "FLEET"]),
    st.integers(1, 30),
)
authorize_token = st.tuples(
    st.just("authorize"),
    evse,
    st.sampled_from([*TAGS, "STRANGER"]),
    st.sampled_from([None, "fleet", "OTHER"]),
)
plug = st.tuples(st.just("plug"), evse, connector)
# Drawn uniformly among the branches: the repeated ones are the frequent events.
operation = st.one_of(
    reserve,
    reserve,
    reserve,
    authorize_token,
    authorize_token,
    plug,
    plug,
    st.tuples(st.just("cancel"), st.integers(0, 5)),
    st.tuples(st.just("end_authorization"), evse),
    st.tuples(st.just("unplug"), evse),
    st.tuples(st.just("fault"), target),
    st.tuples(st.just("clear"), target),
    st.tuples(st.just("availability"), target, st.booleans()),
    st.tuples(st.just("wait"), st.integers(1, 20)),
)

# The events that may end a reservation Removed: faults and unavailability, and a
# scheduled unavailability that takes effect when an EVSE is left.
REMOVING = {"fault", "availability", "unplug", "end_authorization"}


def where(engine: ReservationEngine201, place: tuple[int, int | None] | None) -> dict[str, Any]:
    if place is None:
        return {}
    evse_id, connector_id = place
    if connector_id is not None:
        connector_id = min(connector_id, len(engine.connector_ids(evse_id)))
    return {"evse_id": evse_id, "connector_id": connector_id}


def apply(engine: ReservationEngine201, op: tuple[Any, ...], now: datetime) -> Changes:
    kind = op[0]
    if kind == "reserve":
        _, reservation_id, evse_id, connector_type, tag, group, minutes = op
        request = ReservationRequest(
            id=reservation_id,
            expiry_date_time=now + timedelta(minutes=minutes),
            id_token=IdToken(tag),
            evse_id=evse_id,
            connector_type=connector_type,
            group_id_token=IdToken(group) if group else None,
        )
        held_before = engine.reservations
        result = engine.reserve_now(request, now)
        if result.status is not ReserveNowStatus.ACCEPTED:
            assert result.connector_changes == ()
            assert engine.reservations == held_before
        return result
    if kind == "cancel":
        held = engine.reservation(op[1]) is not None
        cancelled = engine.cancel_reservation(op[1], now)
        assert (cancelled.status is CancelReservationStatus.ACCEPTED) == held
        return cancelled
    if kind == "authorize":
        return authorize(engine, op[1], IdToken(op[2]), op[3], now)
    if kind == "end_authorization":
        return engine.end_authorization(op[1], now)
    if kind == "plug":
        evse_id, connector_id = op[1], min(op[2], len(engine.connector_ids(op[1])))
        before = {c: engine.status(evse_id, c) for c in engine.connector_ids(evse_id)}
        plugged = engine.plug_in(evse_id, connector_id, now)
        if set(before.values()) == {ConnectorStatus.RESERVED}:
            assert plugged.connector_changes == (), "a cable changed a Reserved EVSE (G01.FR.09)"
        return plugged
    if kind == "unplug":
        return engine.unplug(op[1], now)
    if kind == "fault":
        return engine.set_fault(now, **where(engine, op[1]))
    if kind == "clear":
        return engine.clear_fault(now, **where(engine, op[1]))
    if kind == "availability":
        operational = OperationalStatus.OPERATIVE if op[2] else OperationalStatus.INOPERATIVE
        return engine.change_availability(operational, now, **where(engine, op[1]))
    raise AssertionError(kind)


def authorize(
    engine: ReservationEngine201, evse_id: int, token: IdToken, group: str | None, now: datetime
) -> Changes:
    specific = engine.reservation_on(evse_id)
    kept = engine.kept_evses()
    decision = engine.may_authorize(evse_id, token, group)
    result = engine.authorize(evse_id, token, now, group)
    assert (result.allowed, result.reservation_id) == (decision.allowed, decision.reservation_id)
    if not result.allowed:
        assert (result.connector_changes, result.ended) == ((), ()), "a refusal changed things"
    elif specific is not None:
        assert result.reservation_id == specific.reservation_id, "a reserved EVSE taken"
        assert specific.matches(token.id_token, group or engine.group_of(token.id_token))
    elif evse_id in kept:
        assert result.reservation_id is not None, "a kept EVSE taken without a reservation"
    return result


def check_endings(
    op: tuple[Any, ...],
    result: Changes,
    live: dict[int, Reservation],
    engine: ReservationEngine201,
    now: datetime,
) -> None:
    """Every reservation that ends is told once, by the ending its event may cause."""
    for ended in result.ended:
        reservation = ended.reservation
        assert live.pop(reservation.reservation_id) == reservation, "ended twice or never held"
        if ended.reason is EndReason.EXPIRED:
            assert reservation.expiry_date_time <= now
        elif ended.reason is EndReason.USED:
            assert op[0] == "authorize"
            assert getattr(result, "reservation_id", None) == reservation.reservation_id
        elif ended.reason is EndReason.CANCELLED:
            assert op[0] == "cancel"
            assert op[1] == reservation.reservation_id
        elif ended.reason is EndReason.REPLACED:
            assert op[0] == "reserve"
            assert op[1] == reservation.reservation_id
        else:
            assert op[0] in REMOVING, f"{op[0]} removed a reservation"
    told = [e for e in result.ended if e.reason in (EndReason.EXPIRED, EndReason.REMOVED)]
    assert len(result.status_updates) == len(told)
    if op[0] == "reserve" and getattr(result, "status", None) is ReserveNowStatus.ACCEPTED:
        accepted = engine.reservation(op[1])
        assert accepted is not None
        live[op[1]] = accepted
    assert live == {r.reservation_id: r for r in engine.reservations}, "an ending not told"


@settings(max_examples=200, deadline=None)
@given(st.lists(operation, min_size=20, max_size=60), st.sampled_from([True, True, False]))
def test_random_events_keep_every_rule(ops: list[tuple[Any, ...]], non_evse: bool) -> None:
    engine = ReservationEngine201(LAYOUT, settings=ReservationSettings(non_evse_specific=non_evse))
    reported = {(s.evse_id, s.connector_id): s for s in engine.all_statuses()}
    live: dict[int, Reservation] = {}
    now = START
    for op in ops:
        if op[0] == "wait":
            now += timedelta(minutes=op[1])
            result = engine.tick(now)
        else:
            result = apply(engine, op, now)
        check_endings(op, result, live, engine, now)
        for change in result.connector_changes:
            place = (change.evse_id, change.connector_id)
            assert reported[place] != change, "a status told that did not change"
            reported[place] = change
        assert reported == {(s.evse_id, s.connector_id): s for s in engine.all_statuses()}
        check_rules(engine, now)


def check_rules(engine: ReservationEngine201, now: datetime) -> None:
    statuses = {(s.evse_id, s.connector_id): s.status for s in engine.all_statuses()}
    specific = {r.evse_id: r for r in engine.reservations if r.evse_id is not None}
    unnamed = [r for r in engine.reservations if r.evse_id is None]
    kept = engine.kept_evses()
    assert not kept & specific.keys()
    for reservation in engine.reservations:
        assert reservation.expiry_date_time > now, "an expired reservation is still held"
    for evse_id in engine.evse_ids:
        own = [statuses[evse_id, c] for c in engine.connector_ids(evse_id)]
        if evse_id in specific or evse_id in kept:
            # H01.FR.20 / 23: every connector Reserved, but those out of service.
            assert set(own) <= {ConnectorStatus.RESERVED, *BLOCKED}
            assert ConnectorStatus.RESERVED in own
            assert not engine.may_authorize(evse_id, STRANGER).allowed
            assert engine.authorized_token(evse_id) is None
        else:
            assert ConnectorStatus.RESERVED not in own
        for c in engine.connector_ids(evse_id):
            if statuses[evse_id, c] is ConnectorStatus.OCCUPIED:
                assert engine.cable(evse_id) == c
    for evse_id, reservation in specific.items():
        decision = engine.may_authorize(evse_id, reservation.id_token)
        assert decision.reservation_id == reservation.reservation_id
    free = free_evses(engine, statuses, specific)
    demands = [{e for e in free if suits(engine, statuses, e, r.connector_type)} for r in unnamed]
    assert fits(demands, free), "reservations without EVSE beyond the free EVSEs"
    assert kept == {e for e in free if not fits([d - {e} for d in demands], free)}
    for reservation in unnamed:
        # H01.FR.07: the token can still charge somewhere, using its reservation.
        uses = [engine.may_authorize(e, reservation.id_token) for e in engine.evse_ids]
        assert any(u.reservation_id is not None for u in uses)


def suits(
    engine: ReservationEngine201,
    statuses: dict[tuple[int, int], ConnectorStatus],
    evse_id: int,
    connector_type: ConnectorType | None,
) -> bool:
    return any(
        statuses[evse_id, c] not in BLOCKED
        and (connector_type is None or engine.connector_type(evse_id, c) is connector_type)
        for c in engine.connector_ids(evse_id)
    )


def free_evses(
    engine: ReservationEngine201,
    statuses: dict[tuple[int, int], ConnectorStatus],
    specific: dict[int | None, Reservation],
) -> list[int]:
    """EVSEs in service, nobody authorized, not reserved by evseId, no cable but one that
    waits in a Reserved EVSE: read from what the engine shows, not from its insides."""
    free = []
    for evse_id in engine.evse_ids:
        cable = engine.cable(evse_id)
        # A cable in a Reserved EVSE changes nothing (G01.FR.09), even in a faulted connector.
        waiting = cable is not None and any(
            statuses[evse_id, c] is ConnectorStatus.RESERVED for c in engine.connector_ids(evse_id)
        )
        if (
            suits(engine, statuses, evse_id, None)
            and engine.authorized_token(evse_id) is None
            and evse_id not in specific
            and (cable is None or waiting)
        ):
            free.append(evse_id)
    return free


def fits(demands: list[set[int]], free: list[int]) -> bool:
    """Brute force: some order of distinct free EVSEs meets every demand."""
    return any(
        all(e in d for e, d in zip(chosen, demands, strict=True))
        for chosen in permutations(free, len(demands))
    )


def test_replaying_changes_needs_a_first_report() -> None:
    """The statuses a station reports after booting are the base the changes apply to."""
    engine = ReservationEngine201(LAYOUT)
    assert engine.all_statuses() == (
        ConnectorStatusChange(1, 1, ConnectorStatus.AVAILABLE),
        ConnectorStatusChange(2, 1, ConnectorStatus.AVAILABLE),
        ConnectorStatusChange(2, 2, ConnectorStatus.AVAILABLE),
        ConnectorStatusChange(3, 1, ConnectorStatus.AVAILABLE),
    )
