"""The console-side reservation lifecycle, without a loop, a socket or a store: every
transition of the table, the effects each one asks for, and random sequences of
happenings that may only take transitions the table lists."""

from __future__ import annotations

import dataclasses
import typing
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from console.central.lifecycle import (
    AVAILABLE_GRACE,
    CONNECTOR_ZERO_UNSUPPORTED,
    EXPIRY_SLACK,
    NO_LONGER_HELD,
    REPLACED,
    TRANSITIONS,
    Answered,
    AnsweredLate,
    ArmExpiry,
    ArmGraceCheck,
    CallerGaveUp,
    CallFailed,
    Cancelled,
    ConnectorStatus,
    ConnectorZeroUnsupported,
    ConsoleRestarted,
    DisarmExpiry,
    DisarmGraceCheck,
    EndReplaced,
    ExpiryCheck,
    FailedLate,
    GraceOver,
    Happening,
    LostAfterSending,
    LostBeforeSending,
    NotConnected,
    Notify,
    Overridden,
    ReleaseConnector,
    Replaced,
    ReserveConnector,
    SaveRecord,
    StatusUpdated,
    TimedOut,
    TransactionStarted,
    Transition,
    TransitionError,
    allows,
    apply,
    note_cancel,
)
from console.central.model import (
    ACTIVE_STATES,
    FINAL_STATES,
    CancelAttempt,
    ReservationRecord,
    ReservationState,
)
from console.ocpp.enums import ChargePointStatus
from console.ocpp.reservation import CancelReservationStatus, ReservationStatus
from console.ocpp.v201.enums import ConnectorStatus as ConnectorStatus201

S = ReservationState
CREATED = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
ACCEPTED_AT = CREATED + timedelta(seconds=1)
EXPIRY = CREATED + timedelta(minutes=15)
LATER = ACCEPTED_AT + timedelta(minutes=5)
"""Well after the Available grace, well before the expiry."""
JUST_ACCEPTED = ACCEPTED_AT + timedelta(seconds=AVAILABLE_GRACE / 2)
NEAR_EXPIRY = EXPIRY - timedelta(seconds=EXPIRY_SLACK / 2)
HAPPENING_TYPES: frozenset[type[Happening]] = frozenset(typing.get_args(Happening))


def record_in(state: ReservationState, connector_id: int = 1) -> ReservationRecord:
    """An attempt on CP-1 that reached ``state`` the usual way."""
    sending = ReservationRecord(
        reservation_id=7,
        station_id="CP-1",
        connector_id=connector_id,
        id_tag="TAG",
        parent_id_tag=None,
        expiry_date=EXPIRY,
        created_at=CREATED,
        state=S.SENDING,
        updated_at=CREATED,
        history=((S.SENDING, CREATED),),
    )
    if state is S.SENDING:
        return sending
    if state is S.NO_RESPONSE:
        return apply(sending, TimedOut("no answer within 30 s"), ACCEPTED_AT).record
    accepted = apply(sending, Answered(ReservationStatus.ACCEPTED, 0.1), ACCEPTED_AT).record
    if state is S.ACCEPTED:
        return accepted
    # A final state: how it got there does not matter to what follows.
    return dataclasses.replace(
        accepted, state=state, history=(*accepted.history, (state, ACCEPTED_AT))
    )


# --- the table ----------------------------------------------------------------------------


def test_every_state_has_a_row_and_every_target_is_a_state() -> None:
    assert set(TRANSITIONS) == set(ReservationState)
    for row in TRANSITIONS.values():
        assert set(row) <= HAPPENING_TYPES
        for targets in row.values():
            assert targets
            assert targets <= set(ReservationState)


def test_the_final_states_are_the_empty_rows() -> None:
    assert {state for state, row in TRANSITIONS.items() if not row} == FINAL_STATES
    assert {S.ACCEPTED} == ACTIVE_STATES


def test_only_what_the_station_may_hold_is_used_or_cancelled() -> None:
    # Any attempt the station may hold (no_response: it may have taken it) can be used by
    # a StartTransaction or cancelled; nothing else can.
    for happening in (TransactionStarted, Cancelled):
        assert {s for s in ReservationState if allows(s, happening)} == {
            S.SENDING,
            S.NO_RESPONSE,
            S.ACCEPTED,
        }


def test_every_happening_applies_somewhere() -> None:
    used = {happening for row in TRANSITIONS.values() for happening in row}
    assert used == HAPPENING_TYPES


# --- each transition of the table ---------------------------------------------------------

Example = tuple[ReservationState, Happening, datetime, ReservationState]

EXAMPLES: list[Example] = [
    *[
        (S.SENDING, Answered(status, 0.2), LATER, S(status.value.lower()))
        for status in ReservationStatus
    ],
    (S.SENDING, CallFailed("NotSupported", "switched off", 0.2), LATER, S.ERROR),
    (S.SENDING, TimedOut("no answer within 30 s"), LATER, S.NO_RESPONSE),
    (S.SENDING, LostAfterSending("closed by the station with 1000"), LATER, S.NO_RESPONSE),
    (S.SENDING, CallerGaveUp(), LATER, S.NO_RESPONSE),
    (S.SENDING, ConsoleRestarted(), LATER, S.NO_RESPONSE),
    (S.SENDING, LostBeforeSending("connection lost"), LATER, S.OFFLINE),
    (S.SENDING, NotConnected(), LATER, S.OFFLINE),
    (S.SENDING, ConnectorZeroUnsupported(), LATER, S.ERROR),
    (S.SENDING, TransactionStarted(42), LATER, S.USED),
    (S.SENDING, Cancelled(), LATER, S.CANCELLED),
    *[
        (S.NO_RESPONSE, AnsweredLate(status, 40.0), LATER, S(status.value.lower()))
        for status in ReservationStatus
    ],
    (S.NO_RESPONSE, FailedLate("InternalError", "oops", 40.0), LATER, S.ERROR),
    (S.NO_RESPONSE, TransactionStarted(42), LATER, S.USED),
    (S.NO_RESPONSE, Cancelled(), LATER, S.CANCELLED),
    (S.ACCEPTED, TransactionStarted(42), LATER, S.USED),
    (S.ACCEPTED, Cancelled(), LATER, S.CANCELLED),
    (S.ACCEPTED, Replaced(), LATER, S.ENDED),
    (S.ACCEPTED, Overridden(77, "OTHER"), LATER, S.ENDED),
    (S.ACCEPTED, ConnectorStatus(1, ChargePointStatus.PREPARING), LATER, S.ACCEPTED),
    (S.ACCEPTED, ConnectorStatus(1, ChargePointStatus.FAULTED), LATER, S.ENDED),
    (S.ACCEPTED, ConnectorStatus(1, ChargePointStatus.AVAILABLE), NEAR_EXPIRY, S.EXPIRED),
    (S.ACCEPTED, GraceOver(ChargePointStatus.RESERVED), LATER, S.ACCEPTED),
    (S.ACCEPTED, GraceOver(ChargePointStatus.AVAILABLE), LATER, S.ENDED),
    (S.ACCEPTED, GraceOver(ChargePointStatus.AVAILABLE), NEAR_EXPIRY, S.EXPIRED),
    (S.ACCEPTED, ExpiryCheck(), LATER, S.ACCEPTED),
    (S.ACCEPTED, ExpiryCheck(), EXPIRY, S.EXPIRED),
    (S.ACCEPTED, ConsoleRestarted(), LATER, S.ACCEPTED),
    (S.ACCEPTED, ConsoleRestarted(), EXPIRY + timedelta(hours=3), S.EXPIRED),
    # 2.0.1: ReservationStatusUpdate, and a 2.0.1 connector status (Occupied ends nothing).
    (S.ACCEPTED, StatusUpdated(expired=True), LATER, S.EXPIRED),
    (S.ACCEPTED, StatusUpdated(expired=False), LATER, S.ENDED),
    (S.NO_RESPONSE, StatusUpdated(expired=True), LATER, S.EXPIRED),
    (S.NO_RESPONSE, StatusUpdated(expired=False), LATER, S.ENDED),
    (S.ACCEPTED, ConnectorStatus(1, ConnectorStatus201.OCCUPIED), LATER, S.ACCEPTED),
    (S.ACCEPTED, ConnectorStatus(1, ConnectorStatus201.UNAVAILABLE), LATER, S.ENDED),
]
_ANY_OF: dict[type[Happening], Happening] = {type(h): h for _, h, _, _ in EXAMPLES}


def test_the_examples_walk_every_transition_of_the_table() -> None:
    listed = {
        (state, happening, target)
        for state, row in TRANSITIONS.items()
        for happening, targets in row.items()
        for target in targets
    }
    walked = {(state, type(happening), target) for state, happening, _, target in EXAMPLES}
    assert walked == listed


@pytest.mark.parametrize(
    ("state", "happening", "now", "target"),
    EXAMPLES,
    ids=[f"{s.value}-{type(h).__name__}-{t.value}" for s, h, _, t in EXAMPLES],
)
def test_each_transition(
    state: ReservationState, happening: Happening, now: datetime, target: ReservationState
) -> None:
    record = record_in(state)
    transition = apply(record, happening, now)
    assert transition.record.state is target
    if target is state:
        assert not transition.changed
        assert transition.record is record
    else:
        assert transition.changed
        assert transition.record.history == (*record.history, (target, now))
        assert transition.record.updated_at == now
        assert transition.effects[-1] == Notify()


def test_a_happening_the_table_does_not_list_raises_and_changes_nothing() -> None:
    for state, row in TRANSITIONS.items():
        record = record_in(state)
        for happening_type in HAPPENING_TYPES - set(row):
            happening = _ANY_OF[happening_type]
            with pytest.raises(TransitionError, match=happening_type.__name__) as raised:
                apply(record, happening, LATER)
            assert raised.value.state is state
            assert raised.value.happening == happening
            assert not allows(state, happening_type)


# --- what each transition sets and asks for -----------------------------------------------


def test_accepted_answer_holds_the_connector_arms_the_expiry_and_ends_older_ones() -> None:
    transition = apply(record_in(S.SENDING), Answered(ReservationStatus.ACCEPTED, 0.25), LATER)
    record = transition.record
    assert record.confirmation is ReservationStatus.ACCEPTED
    assert record.error is None
    assert record.error_code is None
    assert record.answered_at == LATER
    assert record.latency == 0.25
    # Older attempts with the same id end first, so the connector ends up showing this one.
    assert transition.effects == (
        EndReplaced(),
        SaveRecord(),
        ReserveConnector(),
        ArmExpiry(EXPIRY),
        Notify(),
    )


@pytest.mark.parametrize(
    "status",
    [s for s in ReservationStatus if s is not ReservationStatus.ACCEPTED],
)
def test_a_refusal_is_stored_and_announced_only(status: ReservationStatus) -> None:
    transition = apply(record_in(S.SENDING), Answered(status, 0.1), LATER)
    assert transition.record.confirmation is status
    assert transition.effects == (SaveRecord(), Notify())


def test_a_callerror_keeps_its_code_and_text() -> None:
    failed = apply(record_in(S.SENDING), CallFailed("NotSupported", "off", 0.3), LATER).record
    assert (failed.error, failed.error_code, failed.answered_at, failed.latency) == (
        "NotSupported: off",
        "NotSupported",
        LATER,
        0.3,
    )
    assert failed.confirmation is None
    bare = apply(record_in(S.SENDING), CallFailed("InternalError"), LATER).record
    assert bare.error == "InternalError"


@pytest.mark.parametrize(
    ("happening", "state", "error"),
    [
        (TimedOut("no answer within 30 s"), S.NO_RESPONSE, "no answer within 30 s"),
        (TimedOut(), S.NO_RESPONSE, "no answer"),
        (LostAfterSending("gone"), S.NO_RESPONSE, "connection lost before the answer: gone"),
        (LostBeforeSending("gone"), S.OFFLINE, "connection lost before sending: gone"),
        (NotConnected(), S.OFFLINE, "station CP-1 is not connected"),
        (ConnectorZeroUnsupported(), S.ERROR, CONNECTOR_ZERO_UNSUPPORTED),
        (CallerGaveUp(), S.NO_RESPONSE, "the console stopped waiting for the answer"),
        (ConsoleRestarted(), S.NO_RESPONSE, "the console stopped before the station answered"),
    ],
)
def test_no_answer_says_why(happening: Happening, state: ReservationState, error: str) -> None:
    transition = apply(record_in(S.SENDING), happening, LATER)
    assert transition.record.state is state
    assert transition.record.error == error
    assert transition.record.error_code is None
    assert transition.record.answered_at is None
    assert transition.effects == (SaveRecord(), Notify())


def test_a_late_answer_reconciles_and_says_it_was_late() -> None:
    transition = apply(
        record_in(S.NO_RESPONSE), AnsweredLate(ReservationStatus.ACCEPTED, 31.5), LATER
    )
    record = transition.record
    assert record.state is S.ACCEPTED
    assert record.confirmation is ReservationStatus.ACCEPTED
    assert record.error == "late answer"
    assert record.latency == 31.5
    assert [s for s, _ in record.history] == [S.SENDING, S.NO_RESPONSE, S.ACCEPTED]
    assert ReserveConnector() in transition.effects
    assert ArmExpiry(EXPIRY) in transition.effects
    failed = apply(record_in(S.NO_RESPONSE), FailedLate("InternalError", "oops", 31.5), LATER)
    assert failed.record.error == "InternalError: oops (late answer)"
    assert failed.record.error_code == "InternalError"


_LEAVING_ACCEPTED = (SaveRecord(), ReleaseConnector(), DisarmExpiry(), DisarmGraceCheck(), Notify())


def test_used_keeps_the_transaction_and_frees_the_connector() -> None:
    transition = apply(record_in(S.ACCEPTED), TransactionStarted(42), LATER)
    assert transition.record.state is S.USED
    assert transition.record.transaction_id == 42
    assert transition.effects == _LEAVING_ACCEPTED
    # From a state that held no connector, there is nothing to free.
    crossed = apply(record_in(S.SENDING), TransactionStarted(42), LATER)
    assert crossed.effects == (SaveRecord(), Notify())


def test_cancelled_and_replaced_free_the_connector() -> None:
    cancelled = apply(record_in(S.ACCEPTED), Cancelled(), LATER)
    assert cancelled.effects == _LEAVING_ACCEPTED
    assert cancelled.record.error is None
    replaced = apply(record_in(S.ACCEPTED), Replaced(), LATER)
    assert replaced.record.error == REPLACED
    assert replaced.effects == _LEAVING_ACCEPTED


_CANCEL = CancelAttempt(
    LATER - timedelta(seconds=31),
    CancelReservationStatus.ACCEPTED,
    LATER,
    late=True,
    timed_out=True,
    error="no answer within 30 s",
)


def test_a_cancel_keeps_its_attempt_on_the_record_it_cancels() -> None:
    cancelled = apply(record_in(S.ACCEPTED), Cancelled(_CANCEL), LATER)
    assert cancelled.record.state is S.CANCELLED
    assert cancelled.record.cancel == _CANCEL
    assert cancelled.effects == _LEAVING_ACCEPTED
    # Without one, whatever the record carried stays.
    noted = dataclasses.replace(record_in(S.ACCEPTED), cancel=_CANCEL)
    assert apply(noted, Cancelled(), LATER).record.cancel == _CANCEL


@pytest.mark.parametrize("state", sorted(ReservationState))
def test_a_cancel_attempt_is_noted_in_any_state_without_moving_it(
    state: ReservationState,
) -> None:
    record = record_in(state)
    noted = note_cancel(record, _CANCEL)
    assert noted.record == dataclasses.replace(record, cancel=_CANCEL)
    assert noted.effects == (SaveRecord(), Notify())
    # The same attempt again changes nothing.
    assert note_cancel(noted.record, _CANCEL) == Transition(noted.record)


@pytest.mark.parametrize("status", [ChargePointStatus.FAULTED, ChargePointStatus.UNAVAILABLE])
@pytest.mark.parametrize("reported", [0, 2])
def test_faulted_or_unavailable_ends_it_on_its_connector_or_connector_zero(
    status: ChargePointStatus, reported: int
) -> None:
    transition = apply(
        record_in(S.ACCEPTED, connector_id=2), ConnectorStatus(reported, status), LATER
    )
    assert transition.record.state is S.ENDED
    assert transition.record.error == f"connector {reported} went {status.value}"
    assert transition.effects == _LEAVING_ACCEPTED


@pytest.mark.parametrize(
    "report",
    [
        ConnectorStatus(2, ChargePointStatus.FAULTED),
        ConnectorStatus(2, ChargePointStatus.AVAILABLE),
        ConnectorStatus(0, ChargePointStatus.AVAILABLE),
        ConnectorStatus(1, ChargePointStatus.PREPARING),
        ConnectorStatus(1, ChargePointStatus.CHARGING),
        ConnectorStatus(1, ChargePointStatus.RESERVED),
    ],
)
def test_reports_that_end_nothing(report: ConnectorStatus) -> None:
    record = record_in(S.ACCEPTED, connector_id=1)
    assert apply(record, report, LATER) == Transition(record)


def test_an_available_right_after_the_acceptance_is_looked_at_again() -> None:
    record = record_in(S.ACCEPTED)
    transition = apply(record, ConnectorStatus(1, ChargePointStatus.AVAILABLE), JUST_ACCEPTED)
    settled = ACCEPTED_AT + timedelta(seconds=AVAILABLE_GRACE)
    assert transition == Transition(record, (ArmGraceCheck(settled),))
    # When the grace is over, what the connector says then decides.
    assert apply(record, GraceOver(ChargePointStatus.RESERVED), settled) == Transition(record)
    assert apply(record, GraceOver(None), settled) == Transition(record)
    ended = apply(record, GraceOver(ChargePointStatus.AVAILABLE), settled)
    assert ended.record.state is S.ENDED
    assert ended.record.error == NO_LONGER_HELD


def test_an_available_later_ends_it_or_expires_it_near_the_expiry() -> None:
    record = record_in(S.ACCEPTED)
    available = ConnectorStatus(1, ChargePointStatus.AVAILABLE)
    ended = apply(record, available, LATER)
    assert ended.record.state is S.ENDED
    assert ended.record.error == NO_LONGER_HELD
    assert ended.effects == _LEAVING_ACCEPTED
    expired = apply(record, available, NEAR_EXPIRY)
    assert expired.record.state is S.EXPIRED
    assert expired.record.error is None


def test_the_grace_counts_from_the_last_acceptance() -> None:
    # A late acceptance: the grace starts when the answer came, not when it was sent.
    late = apply(
        record_in(S.NO_RESPONSE), AnsweredLate(ReservationStatus.ACCEPTED, 60.0), LATER
    ).record
    soon = LATER + timedelta(seconds=AVAILABLE_GRACE / 2)
    transition = apply(late, ConnectorStatus(1, ChargePointStatus.AVAILABLE), soon)
    assert transition.effects == (ArmGraceCheck(LATER + timedelta(seconds=AVAILABLE_GRACE)),)


def test_the_expiry_timer_looks_at_the_clock_it_is_given() -> None:
    record = record_in(S.ACCEPTED)
    assert apply(record, ExpiryCheck(), LATER) == Transition(record, (ArmExpiry(EXPIRY),))
    expired = apply(record, ExpiryCheck(), EXPIRY)
    assert expired.record.state is S.EXPIRED
    assert expired.record.history[-1] == (S.EXPIRED, EXPIRY)
    assert expired.effects == _LEAVING_ACCEPTED


def test_a_restart_keeps_an_accepted_reservation_until_its_expiry() -> None:
    record = record_in(S.ACCEPTED)
    assert apply(record, ConsoleRestarted(), LATER) == Transition(record, (ArmExpiry(EXPIRY),))
    woke = EXPIRY + timedelta(days=1)
    assert apply(record, ConsoleRestarted(), woke).record.state is S.EXPIRED


# --- any sequence of happenings -----------------------------------------------------------

_STATUSES = st.sampled_from(ReservationStatus)
_LATENCIES = st.none() | st.floats(min_value=0, max_value=120, allow_nan=False)
_CODES = st.sampled_from(["NotSupported", "InternalError", "FormationViolation", "error"])
_TEXTS = st.text(max_size=12)
_CONNECTOR_STATUSES = st.sampled_from(ChargePointStatus) | st.sampled_from(ConnectorStatus201)

_HAPPENINGS: dict[type[Happening], st.SearchStrategy[Happening]] = {
    Answered: st.builds(Answered, _STATUSES, _LATENCIES),
    CallFailed: st.builds(CallFailed, _CODES, st.none() | _TEXTS, _LATENCIES),
    TimedOut: st.builds(TimedOut, st.none() | _TEXTS),
    LostAfterSending: st.builds(LostAfterSending, st.none() | _TEXTS),
    LostBeforeSending: st.builds(LostBeforeSending, st.none() | _TEXTS),
    NotConnected: st.just(NotConnected()),
    ConnectorZeroUnsupported: st.just(ConnectorZeroUnsupported()),
    CallerGaveUp: st.just(CallerGaveUp()),
    ConsoleRestarted: st.just(ConsoleRestarted()),
    AnsweredLate: st.builds(AnsweredLate, _STATUSES, _LATENCIES),
    FailedLate: st.builds(FailedLate, _CODES, _TEXTS, _LATENCIES),
    TransactionStarted: st.builds(
        TransactionStarted, st.integers(1, 10_000) | st.text(min_size=1, max_size=36)
    ),
    Cancelled: st.just(Cancelled()),
    Replaced: st.just(Replaced()),
    Overridden: st.builds(
        Overridden, st.integers(1, 10_000) | st.text(min_size=1, max_size=36), st.none() | _TEXTS
    ),
    ConnectorStatus: st.builds(ConnectorStatus, st.integers(0, 3), _CONNECTOR_STATUSES),
    GraceOver: st.builds(GraceOver, st.none() | _CONNECTOR_STATUSES),
    StatusUpdated: st.builds(StatusUpdated, st.booleans()),
    ExpiryCheck: st.just(ExpiryCheck()),
}
_STEPS = st.lists(
    st.tuples(
        st.one_of(*_HAPPENINGS.values()),
        # Seconds since the last step: now and then just inside the grace or the expiry.
        st.sampled_from([0.0, 1.0, AVAILABLE_GRACE, 800.0, 895.0])
        | st.floats(min_value=0, max_value=400, allow_nan=False),
    ),
    max_size=25,
)


def test_the_sequences_draw_every_kind_of_happening() -> None:
    assert set(_HAPPENINGS) == HAPPENING_TYPES


def _taken(before: ReservationRecord, transition: Transition, now: datetime) -> None:
    """What every transition must satisfy, whatever came before."""
    after = transition.record
    assert after.state in TRANSITIONS
    if not transition.changed:
        assert after is before
        assert SaveRecord() not in transition.effects
        assert Notify() not in transition.effects
        return
    assert after.history == (*before.history, (after.state, now))
    assert after.updated_at == now
    assert (after.reservation_id, after.station_id, after.created_at) == (
        before.reservation_id,
        before.station_id,
        before.created_at,
    )
    entered = after.state is S.ACCEPTED and before.state is not S.ACCEPTED
    left = before.state is S.ACCEPTED and after.state is not S.ACCEPTED
    assert (ReserveConnector() in transition.effects) == entered
    assert (ArmExpiry(after.expiry_date) in transition.effects) == entered
    assert (ReleaseConnector() in transition.effects) == left
    assert (DisarmExpiry() in transition.effects) == left


@settings(max_examples=300)
@given(start=st.sampled_from([S.SENDING, S.NO_RESPONSE, S.ACCEPTED]), steps=_STEPS)
def test_any_sequence_takes_only_transitions_from_the_table(
    start: ReservationState, steps: list[tuple[Happening, float]]
) -> None:
    record = record_in(start)
    now = ACCEPTED_AT
    final_since: ReservationRecord | None = None
    for happening, wait in steps:
        now += timedelta(seconds=wait)
        state = record.state
        if not allows(state, type(happening)):
            with pytest.raises(TransitionError):
                apply(record, happening, now)
            continue
        transition = apply(record, happening, now)
        assert transition.record.state in TRANSITIONS[state][type(happening)]
        _taken(record, transition, now)
        record = transition.record
        if record.state in FINAL_STATES and final_since is None:
            final_since = record
    # Terminal states stay terminal: once final, the record never moved again.
    if final_since is not None:
        assert record is final_since
    # Each step of the history is one the table allows, in the order of the clock.
    for (earlier, at), (later, then) in zip(record.history, record.history[1:], strict=False):
        assert any(later in targets for targets in TRANSITIONS[earlier].values())
        assert at <= then
    assert record.state in TRANSITIONS
