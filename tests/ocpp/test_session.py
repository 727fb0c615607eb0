"""The session state machine: a station and a Central System paired in memory."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from console.ocpp import messages as m
from console.ocpp.base import OcppModel
from console.ocpp.errors import ErrorCode, parse_error_code
from console.ocpp.features import FEATURES, Role
from console.ocpp.frames import MAX_MESSAGE_ID_LENGTH, MessageType
from console.ocpp.reservation import (
    CancelReservationConfirmation,
    CancelReservationRequest,
    CancelReservationStatus,
    ReservationStatus,
    ReserveNowConfirmation,
    ReserveNowRequest,
)
from console.ocpp.session import (
    AnswerInvalid,
    CallAborted,
    CallReceived,
    CallRefused,
    CallTimedOut,
    ErrorReceived,
    Event,
    FrameDropped,
    LateAnswer,
    OutgoingCall,
    OutgoingFrame,
    ResultReceived,
    Session,
    UnexpectedAnswer,
)

NOW = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)
EXPIRY = NOW + timedelta(hours=1)


def counter(prefix: str) -> Callable[[], str]:
    numbers = iter(range(1, 1_000_000))
    return lambda: f"{prefix}-{next(numbers)}"


def central(**options: Any) -> Session:
    return Session(Role.CENTRAL_SYSTEM, id_factory=counter("cs"), **options)


def station(**options: Any) -> Session:
    return Session(Role.CHARGE_POINT, id_factory=counter("cp"), **options)


def reserve(reservation_id: int = 7, connector_id: int = 1) -> ReserveNowRequest:
    return ReserveNowRequest(
        connector_id=connector_id, expiry_date=EXPIRY, id_tag="TAG1", reservation_id=reservation_id
    )


def status(connector_id: int = 1, state: str = "Available") -> m.StatusNotificationRequest:
    return m.StatusNotificationRequest(
        connector_id=connector_id, error_code="NoError", status=state, timestamp=NOW
    )


ACCEPTED = ReserveNowConfirmation(status=ReservationStatus.ACCEPTED)


def texts(session: Session) -> list[str]:
    return [frame.text for frame in session.data_to_send()]


def deliver(sender: Session, receiver: Session, now: float) -> list[Event]:
    """Every frame the sender has written, read by the receiver."""
    events: list[Event] = []
    for text in texts(sender):
        events.extend(receiver.receive(text, now))
    return events


def one(events: list[Event]) -> Event:
    assert len(events) == 1, events
    return events[0]


def call_error(text: str) -> tuple[str, str, str, dict[str, Any]]:
    """The id, code, description and details of a CALLERROR text, checking its shape."""
    kind, message_id, code, description, details = json.loads(text)
    assert kind == 4
    assert parse_error_code(code) is not None
    assert ErrorCode(code) is not None  # the 1.6 spelling, not a 2.0.1 one
    assert isinstance(description, str)
    assert isinstance(details, dict)
    return message_id, code, description, details


# --- queueing, ids, crossing ----------------------------------------------------------------


def test_a_second_call_waits_until_the_first_is_answered() -> None:
    cs, cp = central(), station()
    first = cs.call(reserve(1), now=0.0)
    second = cs.call(CancelReservationRequest(reservation_id=1), now=0.0)
    assert cs.outstanding is first
    assert cs.queued == 1
    assert second.sent_at is None
    [sent] = texts(cs)
    assert json.loads(sent)[:3] == [2, "cs-1", "ReserveNow"]
    assert texts(cs) == []  # nothing more until the answer

    received = one(cp.receive(sent, 1.0))
    assert isinstance(received, CallReceived)
    cp.respond(received.message_id, ACCEPTED)
    result = one(deliver(cp, cs, 2.0))
    assert isinstance(result, ResultReceived)
    assert result.call is first
    assert result.confirmation == ACCEPTED
    assert result.latency == 2.0

    # The answer releases the queued call, sent at the time of the answer.
    assert cs.outstanding is second
    assert second.sent_at == 2.0
    [sent] = texts(cs)
    assert json.loads(sent) == [2, "cs-2", "CancelReservation", {"reservationId": 1}]


def test_message_ids_are_unique_per_connection() -> None:
    cs, cp = central(), station()
    seen = []
    for number in range(50):
        call = cs.call(CancelReservationRequest(reservation_id=number), now=float(number))
        seen.append(call.message_id)
        received = one(deliver(cs, cp, float(number)))
        assert isinstance(received, CallReceived)
        cp.respond(received.message_id, CancelReservationConfirmation(status="Rejected"))
        assert isinstance(one(deliver(cp, cs, float(number))), ResultReceived)
    assert len(set(seen)) == 50


def test_default_ids_are_short_and_differ_between_connections() -> None:
    sessions = [Session(Role.CENTRAL_SYSTEM), Session(Role.CENTRAL_SYSTEM)]
    ids = []
    for session in sessions:
        for number in range(20):
            ids.append(session.call(CancelReservationRequest(reservation_id=number), 0).message_id)
    assert len(set(ids)) == 40
    assert all(1 <= len(message_id) <= MAX_MESSAGE_ID_LENGTH for message_id in ids)


def test_calls_cross_and_both_are_answered() -> None:
    cs, cp = central(), station()
    ours = cs.call(reserve(), now=0.0)
    theirs = cp.call(status(), now=0.0)
    # Both are on the wire at once: one outstanding call per direction.
    at_cp = one(deliver(cs, cp, 0.1))
    at_cs = one(deliver(cp, cs, 0.1))
    assert isinstance(at_cp, CallReceived)
    assert isinstance(at_cs, CallReceived)
    assert at_cp.message_id == ours.message_id
    assert at_cs.message_id == theirs.message_id
    assert at_cs.request == status()

    # Each answers while its own call is still outstanding.
    assert cs.outstanding is ours
    assert cp.outstanding is theirs
    cs.respond(at_cs.message_id, m.StatusNotificationConfirmation())
    cp.respond(at_cp.message_id, ACCEPTED)
    [cs_result] = deliver(cp, cs, 0.2)
    [cp_result] = deliver(cs, cp, 0.2)
    assert isinstance(cs_result, ResultReceived)
    assert isinstance(cp_result, ResultReceived)
    assert cs_result.call is ours
    assert cs_result.confirmation == ACCEPTED
    assert cp_result.call is theirs
    assert cp_result.confirmation == m.StatusNotificationConfirmation()
    assert cs.outstanding is None
    assert cp.outstanding is None


def test_crossing_calls_with_the_same_id_are_kept_apart() -> None:
    # Both sides use "1" for their first call: our answer and their call never mix.
    cs = Session(Role.CENTRAL_SYSTEM, id_factory=lambda: "1")
    cp = Session(Role.CHARGE_POINT, id_factory=lambda: "1")
    ours = cs.call(reserve(), now=0.0)
    cp.call(m.HeartbeatRequest(), now=0.0)
    at_cp = one(deliver(cs, cp, 0.0))
    at_cs = one(deliver(cp, cs, 0.0))
    assert isinstance(at_cp, CallReceived)
    assert isinstance(at_cs, CallReceived)
    cp.respond("1", ACCEPTED)
    result = one(deliver(cp, cs, 0.0))
    assert isinstance(result, ResultReceived)
    assert result.call is ours
    assert cs.awaiting_our_answer == frozenset({"1"})


def test_data_to_send_describes_each_frame() -> None:
    cs, cp = central(), station()
    cs.call(reserve(), now=0.0)
    [frame] = cs.data_to_send()
    assert isinstance(frame, OutgoingFrame)
    assert (frame.message_type, frame.message_id, frame.action, frame.error_code) == (
        MessageType.CALL,
        "cs-1",
        "ReserveNow",
        None,
    )
    one(cp.receive(frame.text, 0.0))
    cp.respond("cs-1", ACCEPTED)
    [answer] = cp.data_to_send()
    assert (answer.message_type, answer.message_id, answer.action) == (
        MessageType.CALL_RESULT,
        "cs-1",
        "ReserveNow",
    )
    assert answer.text == '[3,"cs-1",{"status":"Accepted"}]'


# --- timeouts and late answers --------------------------------------------------------------


def test_a_call_times_out_by_the_given_time_and_the_next_one_goes() -> None:
    cs = central(call_timeout=30.0)
    first = cs.call(reserve(1), now=100.0)
    second = cs.call(reserve(2), now=101.0)
    assert cs.next_deadline() == 130.0
    assert cs.poll_timeouts(129.999) == []
    assert cs.outstanding is first
    [timed_out] = cs.poll_timeouts(130.0)
    assert isinstance(timed_out, CallTimedOut)
    assert timed_out.call is first
    assert cs.outstanding is second
    assert second.sent_at == 130.0
    assert cs.next_deadline() == 160.0
    assert [json.loads(t)[1] for t in texts(cs)] == ["cs-1", "cs-2"]


def test_a_timeout_per_call() -> None:
    cs = central(call_timeout=30.0)
    cs.call(reserve(), now=0.0, timeout=5.0)
    assert cs.next_deadline() == 5.0
    assert isinstance(one(cs.poll_timeouts(5.0)), CallTimedOut)
    assert cs.next_deadline() is None
    assert cs.poll_timeouts(1000.0) == []


def test_one_poll_times_out_several_calls_with_no_time() -> None:
    cs = central()
    calls = [cs.call(reserve(n), now=0.0, timeout=0.0) for n in range(3)]
    events = cs.poll_timeouts(0.0)
    assert [e.call for e in events if isinstance(e, CallTimedOut)] == calls
    assert cs.outstanding is None


def test_a_late_answer_is_reported_late_and_not_matched_to_the_next_call() -> None:
    cs, cp = central(call_timeout=10.0), station()
    first = cs.call(reserve(1), now=0.0)
    one(deliver(cs, cp, 0.0))
    cs.poll_timeouts(10.0)  # first timed out
    second = cs.call(reserve(2), now=11.0)
    one(deliver(cs, cp, 11.0))
    assert cs.outstanding is second

    cp.respond(first.message_id, ACCEPTED)
    late = one(deliver(cp, cs, 12.5))
    assert isinstance(late, LateAnswer)
    assert late.call is first
    assert late.confirmation == ACCEPTED
    assert late.error_code is None
    assert late.latency == 12.5
    assert cs.outstanding is second  # still waiting for its own answer

    # The same late answer again: nothing to reconcile any more.
    again = one(cs.receive(late.text, 13.0))
    assert isinstance(again, UnexpectedAnswer)

    cp.respond(second.message_id, ReserveNowConfirmation(status="Occupied"))
    result = one(deliver(cp, cs, 14.0))
    assert isinstance(result, ResultReceived)
    assert result.call is second
    assert result.confirmation == ReserveNowConfirmation(status="Occupied")


def test_a_late_call_error_and_a_late_broken_answer() -> None:
    cs = central(call_timeout=1.0)
    first = cs.call(reserve(1), now=0.0)
    second = cs.call(reserve(2), now=0.0)
    cs.poll_timeouts(1.0)
    cs.poll_timeouts(2.0)
    assert cs.outstanding is None
    error = one(cs.receive('[4,"cs-1","OccurrenceConstraintViolation","no idTag",{}]', 3.0))
    assert isinstance(error, LateAnswer)
    assert (error.call, error.confirmation) == (first, None)
    assert error.error_code == "OccurrenceConstraintViolation"  # as received
    assert error.description == "no idTag"
    broken = one(cs.receive('[3,"cs-2",{"status":"Maybe"}]', 3.0))
    assert isinstance(broken, LateAnswer)
    assert broken.call is second
    assert broken.confirmation is None
    assert broken.error_code == ErrorCode.PROPERTY_CONSTRAINT_VIOLATION


def test_a_result_before_the_timeout_was_polled_still_counts() -> None:
    cs = central(call_timeout=1.0)
    cs.call(reserve(), now=0.0)
    result = one(cs.receive('[3,"cs-1",{"status":"Accepted"}]', 5.0))
    assert isinstance(result, ResultReceived)
    assert cs.poll_timeouts(5.0) == []


# --- answers that do not fit ----------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        '[3,"nobody",{"status":"Accepted"}]',
        '[4,"nobody","GenericError","",{}]',
    ],
)
def test_an_answer_with_an_unknown_id_is_unexpected(text: str) -> None:
    cs = central()
    waiting = cs.call(reserve(), now=0.0)
    event = one(cs.receive(text, 1.0))
    assert isinstance(event, UnexpectedAnswer)
    assert event.message_id == "nobody"
    assert event.text == text
    assert cs.outstanding is waiting
    assert texts(cs) == [texts_of_call(waiting)]  # no CALLERROR for an answer


def texts_of_call(call: OutgoingCall) -> str:
    payload = json.dumps(call.request.to_payload(), separators=(",", ":"))
    return f'[2,"{call.message_id}","{call.action}",{payload}]'


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ({"status": "Maybe"}, ErrorCode.PROPERTY_CONSTRAINT_VIOLATION),
        ({}, ErrorCode.OCCURENCE_CONSTRAINT_VIOLATION),
        ({"status": 1}, ErrorCode.TYPE_CONSTRAINT_VIOLATION),
        ({"status": None}, ErrorCode.TYPE_CONSTRAINT_VIOLATION),
        ({"status": "Accepted", "extra": 1}, ErrorCode.FORMATION_VIOLATION),
    ],
)
def test_a_broken_answer_to_the_outstanding_call_is_invalid(
    payload: dict[str, Any], code: ErrorCode
) -> None:
    cs = central()
    first = cs.call(reserve(1), now=0.0)
    second = cs.call(reserve(2), now=0.0)
    texts(cs)
    event = one(cs.receive(json.dumps([3, "cs-1", payload]), 0.5))
    assert isinstance(event, AnswerInvalid)
    assert event.call is first
    assert event.code == code
    assert event.description
    assert event.latency == 0.5
    # The call is over; the next one goes.
    assert cs.outstanding is second
    assert len(texts(cs)) == 1
    assert cs.awaiting_our_answer == frozenset()


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ('[3,"cs-1"]', ErrorCode.PROTOCOL_ERROR),
        ('[3,"cs-1",{},{}]', ErrorCode.PROTOCOL_ERROR),
        ('[3,"cs-1",[]]', ErrorCode.FORMATION_VIOLATION),
        ('[4,"cs-1",1,"",{}]', ErrorCode.FORMATION_VIOLATION),
    ],
)
def test_a_broken_frame_answering_the_outstanding_call_is_invalid(
    text: str, code: ErrorCode
) -> None:
    cs = central()
    first = cs.call(reserve(), now=0.0)
    texts(cs)
    event = one(cs.receive(text, 1.0))
    assert isinstance(event, AnswerInvalid)
    assert (event.call, event.code) == (first, code)
    assert cs.outstanding is None
    assert texts(cs) == []  # an answer is never answered


def test_a_broken_answer_to_nothing_is_dropped() -> None:
    cs = central()
    cs.call(reserve(), now=0.0)
    texts(cs)
    event = one(cs.receive('[3,"other",[]]', 1.0))
    assert isinstance(event, FrameDropped)
    assert event.message_id == "other"
    assert cs.outstanding is not None
    assert texts(cs) == []


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("NotImplemented", ErrorCode.NOT_IMPLEMENTED),
        ("FormationViolation", ErrorCode.FORMATION_VIOLATION),
        ("FormatViolation", ErrorCode.FORMATION_VIOLATION),
        ("OccurenceConstraintViolation", ErrorCode.OCCURENCE_CONSTRAINT_VIOLATION),
        ("OccurrenceConstraintViolation", ErrorCode.OCCURENCE_CONSTRAINT_VIOLATION),
        ("SecurityError", ErrorCode.SECURITY_ERROR),
        ("SomethingElse", None),
    ],
)
def test_a_call_error_answer_accepts_both_spellings(raw: str, code: ErrorCode | None) -> None:
    assert parse_error_code(raw) == code
    cs = central()
    call = cs.call(reserve(), now=0.0)
    event = one(cs.receive(json.dumps([4, "cs-1", raw, "why", {"hint": 1}]), 2.0))
    assert isinstance(event, ErrorReceived)
    assert event.call is call
    assert event.code == code
    assert event.raw_code == raw
    assert (event.description, event.details, event.latency) == ("why", {"hint": 1}, 2.0)
    assert cs.outstanding is None


# --- incoming calls: every CALLERROR path ----------------------------------------------------


def refused(
    session: Session, text: str
) -> tuple[CallRefused, tuple[str, str, str, dict[str, Any]]]:
    event = one(session.receive(text, 0.0))
    assert isinstance(event, CallRefused), event
    [answer] = session.data_to_send()
    assert answer.message_type is MessageType.CALL_ERROR
    assert answer.error_code == event.code
    parts = call_error(answer.text)
    assert parts[0] == event.message_id
    assert parts[1] == event.code
    assert session.awaiting_our_answer == frozenset()
    return event, parts


def call_text(action: str, payload: dict[str, Any], message_id: str = "9") -> str:
    return json.dumps([2, message_id, action, payload])


VALID_BOOT = {"chargePointVendor": "ACME", "chargePointModel": "X1"}
VALID_RESERVE = {
    "connectorId": 1,
    "expiryDate": "2026-11-25T15:00:00Z",
    "idTag": "TAG1",
    "reservationId": 7,
}


REMOTE_START = {
    "idTag": "A",
    "chargingProfile": {
        "chargingProfileId": 1,
        "stackLevel": 0,
        "chargingProfilePurpose": "TxProfile",
        "chargingProfileKind": "Absolute",
        "chargingSchedule": {
            "chargingRateUnit": "A",
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16.5}],
        },
    },
}


def test_a_valid_remote_start_with_a_charging_profile_is_typed() -> None:
    event = one(station().receive(call_text("RemoteStartTransaction", REMOTE_START), 0.0))
    assert isinstance(event, CallReceived)
    assert isinstance(event.request, m.RemoteStartTransactionRequest)
    assert event.request.charging_profile is not None
    [period] = event.request.charging_profile.charging_schedule.charging_schedule_period
    assert period.limit == 16.5


@pytest.mark.parametrize(
    ("role", "text", "code"),
    [
        pytest.param(
            Role.CENTRAL_SYSTEM,
            call_text("Teleport", {}),
            ErrorCode.NOT_IMPLEMENTED,
            id="unknown action",
        ),
        pytest.param(
            Role.CHARGE_POINT,
            call_text("bootnotification", VALID_BOOT),
            ErrorCode.NOT_IMPLEMENTED,
            id="action in the wrong case",
        ),
        pytest.param(
            Role.CENTRAL_SYSTEM,
            call_text("ReserveNow", VALID_RESERVE),
            ErrorCode.NOT_SUPPORTED,
            id="ReserveNow sent to the Central System",
        ),
        pytest.param(
            Role.CHARGE_POINT,
            call_text("BootNotification", VALID_BOOT),
            ErrorCode.NOT_SUPPORTED,
            id="BootNotification sent to a station",
        ),
        pytest.param(
            Role.CHARGE_POINT,
            call_text("Reset", {"type": "Soft"}),
            ErrorCode.NOT_SUPPORTED,
            id="known action we have no model of",
        ),
        pytest.param(
            Role.CENTRAL_SYSTEM,
            call_text("SecurityEventNotification", {"type": "x", "timestamp": "x"}),
            ErrorCode.NOT_SUPPORTED,
            id="security whitepaper action",
        ),
        pytest.param(
            Role.CHARGE_POINT,
            call_text("ReserveNow", {k: v for k, v in VALID_RESERVE.items() if k != "idTag"}),
            ErrorCode.OCCURENCE_CONSTRAINT_VIOLATION,
            id="missing field",
        ),
        pytest.param(
            Role.CENTRAL_SYSTEM,
            call_text("Heartbeat", {"now": 1}),
            ErrorCode.FORMATION_VIOLATION,
            id="unknown field",
        ),
        pytest.param(
            Role.CHARGE_POINT,
            call_text("ReserveNow", {**VALID_RESERVE, "connectorId": "1"}),
            ErrorCode.TYPE_CONSTRAINT_VIOLATION,
            id="wrong type",
        ),
        pytest.param(
            Role.CENTRAL_SYSTEM,
            call_text("MeterValues", {"connectorId": 1, "meterValue": {"value": "1"}}),
            ErrorCode.TYPE_CONSTRAINT_VIOLATION,
            id="object for a list",
        ),
        pytest.param(
            Role.CHARGE_POINT,
            call_text("ReserveNow", {**VALID_RESERVE, "expiryDate": 1764082800}),
            ErrorCode.TYPE_CONSTRAINT_VIOLATION,
            id="date as a number",
        ),
        pytest.param(
            Role.CHARGE_POINT,
            call_text("ReserveNow", {**VALID_RESERVE, "idTag": "T" * 21}),
            ErrorCode.PROPERTY_CONSTRAINT_VIOLATION,
            id="too long",
        ),
        pytest.param(
            Role.CHARGE_POINT,
            call_text("ReserveNow", {**VALID_RESERVE, "connectorId": -1}),
            ErrorCode.PROPERTY_CONSTRAINT_VIOLATION,
            id="out of range",
        ),
        pytest.param(
            Role.CENTRAL_SYSTEM,
            call_text(
                "StatusNotification", {"connectorId": 1, "errorCode": "NoError", "status": "Busy"}
            ),
            ErrorCode.PROPERTY_CONSTRAINT_VIOLATION,
            id="unknown enum value",
        ),
        pytest.param(
            Role.CENTRAL_SYSTEM,
            call_text(
                "StatusNotification", {"connectorId": 1, "errorCode": 0, "status": "Faulted"}
            ),
            ErrorCode.TYPE_CONSTRAINT_VIOLATION,
            id="a number for an enum value",
        ),
        pytest.param(
            Role.CHARGE_POINT,
            call_text("RemoteStartTransaction", REMOTE_START).replace("16.5", "1e400"),
            ErrorCode.PROPERTY_CONSTRAINT_VIOLATION,
            id="a limit JSON reads as infinity",
        ),
        pytest.param(
            Role.CHARGE_POINT,
            call_text("RemoteStartTransaction", REMOTE_START).replace("16.5", "16.55"),
            ErrorCode.PROPERTY_CONSTRAINT_VIOLATION,
            id="a limit that is no multiple of 0.1",
        ),
        pytest.param(
            Role.CENTRAL_SYSTEM,
            call_text("MeterValues", {"connectorId": 1, "meterValue": []}),
            ErrorCode.PROPERTY_CONSTRAINT_VIOLATION,
            id="empty list",
        ),
        pytest.param(
            Role.CENTRAL_SYSTEM,
            '[2,"9","Heartbeat",[]]',
            ErrorCode.FORMATION_VIOLATION,
            id="payload not an object",
        ),
        pytest.param(
            Role.CENTRAL_SYSTEM,
            '[2,"9","Heartbeat",{},{}]',
            ErrorCode.PROTOCOL_ERROR,
            id="CALL of five elements",
        ),
        pytest.param(
            Role.CENTRAL_SYSTEM,
            '[2,"9"]',
            ErrorCode.PROTOCOL_ERROR,
            id="CALL without action",
        ),
        pytest.param(
            Role.CENTRAL_SYSTEM,
            '[7,"9","Heartbeat",{}]',
            ErrorCode.PROTOCOL_ERROR,
            id="unknown message type",
        ),
        pytest.param(
            Role.CENTRAL_SYSTEM,
            '[2,"","Heartbeat",{}]',
            ErrorCode.PROTOCOL_ERROR,
            id="empty id",
        ),
        pytest.param(
            Role.CENTRAL_SYSTEM,
            json.dumps([2, "x" * 37, "Heartbeat", {}]),
            ErrorCode.PROTOCOL_ERROR,
            id="id of 37 characters",
        ),
    ],
)
def test_incoming_calls_are_refused_with_the_right_code(
    role: Role, text: str, code: ErrorCode
) -> None:
    session = Session(role)
    event, (message_id, wire_code, description, details) = refused(session, text)
    assert event.code is code
    assert wire_code == code.value
    assert message_id == json.loads(text)[1]  # the peer's own id, to match its call
    assert description == event.description
    assert details == {}
    assert event.text == text


def test_a_call_the_session_is_configured_not_to_take_is_not_supported() -> None:
    cp = Session(Role.CHARGE_POINT, supported_actions={"ReserveNow"})
    event, _ = refused(cp, call_text("CancelReservation", {"reservationId": 1}))
    assert event.code is ErrorCode.NOT_SUPPORTED
    assert isinstance(one(cp.receive(call_text("ReserveNow", VALID_RESERVE), 0.0)), CallReceived)


@pytest.mark.parametrize(
    "text",
    [
        "not json",
        "",
        '{"a":1}',
        "[]",
        '[2,1,"Heartbeat",{}]',
        '[2,null,"Heartbeat",{}]',
        '[2,"9","MeterValues",{"x":NaN}]',
        "[" * 50_000 + "]" * 50_000,
    ],
)
def test_a_frame_whose_id_cannot_be_read_is_dropped(text: str) -> None:
    session = central()
    event = one(session.receive(text, 0.0))
    assert isinstance(event, FrameDropped)
    assert event.message_id is None
    assert event.reason
    assert event.text == text
    assert session.data_to_send() == []


def test_a_call_error_to_an_id_with_a_lone_surrogate_is_still_sendable() -> None:
    session = central()
    event, (message_id, _, _, _) = refused(session, '[2,"\\ud800","Teleport\\udfff",{}]')
    assert event.code is ErrorCode.NOT_IMPLEMENTED
    assert message_id == "\ud800"


def test_a_binary_frame_is_dropped_and_shown_readably() -> None:
    session = central()
    event = one(session.receive(b'[2,"9","Heartbeat",{}]', 0.0))
    assert isinstance(event, FrameDropped)
    assert "binary" in event.reason
    assert "Heartbeat" in event.text
    assert session.data_to_send() == []


def test_a_second_call_under_an_unanswered_id_is_dropped() -> None:
    cs = central()
    first = one(cs.receive(call_text("Heartbeat", {}), 0.0))
    assert isinstance(first, CallReceived)
    again = one(cs.receive(call_text("Heartbeat", {}), 0.0))
    assert isinstance(again, FrameDropped)
    assert again.message_id == "9"
    broken_again = one(cs.receive('[2,"9","Heartbeat",[]]', 0.0))
    assert isinstance(broken_again, CallRefused)
    assert "duplicate" in broken_again.description
    assert cs.data_to_send() == []  # never two answers under one id
    cs.respond("9", m.HeartbeatConfirmation(current_time=NOW))
    assert len(cs.data_to_send()) == 1


def test_an_answered_id_may_be_used_again() -> None:
    cs = central()
    assert isinstance(one(cs.receive(call_text("Heartbeat", {}), 0.0)), CallReceived)
    cs.respond("9", m.HeartbeatConfirmation(current_time=NOW))
    assert isinstance(one(cs.receive(call_text("Heartbeat", {}), 1.0)), CallReceived)


def test_a_valid_call_is_typed() -> None:
    cp = station()
    event = one(cp.receive(call_text("ReserveNow", {**VALID_RESERVE, "parentIdTag": "P"}), 0.0))
    assert isinstance(event, CallReceived)
    assert event.action == "ReserveNow"
    assert event.request == ReserveNowRequest(
        connector_id=1,
        expiry_date=datetime(2026, 11, 25, 15, tzinfo=UTC),
        id_tag="TAG1",
        parent_id_tag="P",
        reservation_id=7,
    )
    assert cp.awaiting_our_answer == frozenset({"9"})


# --- our answers --------------------------------------------------------------------------


def test_respond_checks_the_confirmation_type() -> None:
    cp = station()
    one(cp.receive(call_text("ReserveNow", VALID_RESERVE), 0.0))
    with pytest.raises(TypeError, match="ReserveNow"):
        cp.respond("9", CancelReservationConfirmation(status="Accepted"))
    assert cp.awaiting_our_answer == frozenset({"9"})  # still to be answered
    assert cp.data_to_send() == []
    cp.respond("9", ACCEPTED)
    assert texts(cp) == ['[3,"9",{"status":"Accepted"}]']
    with pytest.raises(KeyError):
        cp.respond("9", ACCEPTED)  # answered already
    with pytest.raises(KeyError):
        cp.respond("never", ACCEPTED)


def test_respond_error_answers_with_a_call_error() -> None:
    cs = central()
    one(cs.receive(call_text("BootNotification", VALID_BOOT), 0.0))
    cs.respond_error("9", ErrorCode.INTERNAL_ERROR, "handler failed", {"where": "boot"})
    [frame] = cs.data_to_send()
    assert frame.text == '[4,"9","InternalError","handler failed",{"where":"boot"}]'
    assert (frame.message_type, frame.action, frame.error_code) == (
        MessageType.CALL_ERROR,
        "BootNotification",
        "InternalError",
    )
    with pytest.raises(KeyError):
        cs.respond_error("9", ErrorCode.INTERNAL_ERROR)


class NotReallyReserveNow(OcppModel):
    feature_name: ClassVar[str] = "ReserveNow"


def test_call_checks_who_sends_what() -> None:
    with pytest.raises(ValueError, match="does not send"):
        station().call(reserve(), now=0.0)
    with pytest.raises(ValueError, match="does not send"):
        central().call(status(), now=0.0)
    with pytest.raises(ValueError, match="does not send"):
        central().call(m.IdTagInfo(status="Accepted"), now=0.0)
    with pytest.raises(TypeError):
        central().call(NotReallyReserveNow(), now=0.0)
    # DataTransfer goes both ways.
    for session in (central(), station()):
        session.call(m.DataTransferRequest(vendor_id="acme"), now=0.0)
        assert len(session.data_to_send()) == 1


def test_cancel_queued() -> None:
    cs = central()
    sent = cs.call(reserve(1), now=0.0)
    queued = cs.call(reserve(2), now=0.0)
    aborted = cs.cancel_queued(queued, "operator cancelled")
    assert aborted == CallAborted(queued, "operator cancelled", was_sent=False)
    assert cs.queued == 0
    assert cs.cancel_queued(sent) is None  # already on the wire
    assert cs.cancel_queued(queued) is None


def test_close_aborts_every_call_not_answered() -> None:
    cs = central()
    sent = cs.call(reserve(1), now=0.0)
    queued = [cs.call(reserve(n), now=0.0) for n in (2, 3)]
    one(cs.receive(call_text("Heartbeat", {}), 0.0))
    events = cs.close("connection lost")
    assert events == [
        CallAborted(sent, "connection lost", was_sent=True),
        CallAborted(queued[0], "connection lost", was_sent=False),
        CallAborted(queued[1], "connection lost", was_sent=False),
    ]
    assert cs.outstanding is None
    assert cs.queued == 0
    assert cs.awaiting_our_answer == frozenset()
    assert cs.next_deadline() is None
    with pytest.raises(RuntimeError):
        cs.call(reserve(4), now=1.0)
    assert cs.close("again") == []


# --- a whole conversation -------------------------------------------------------------------


Responder = Callable[[CallReceived], OcppModel]


class Link:
    """A station and a Central System session wired to each other in memory."""

    def __init__(self, cs_answers: dict[str, Responder], cp_answers: dict[str, Responder]):
        self.cs = central()
        self.cp = station()
        self.answers = {id(self.cs): cs_answers, id(self.cp): cp_answers}
        self.events: dict[str, list[Event]] = {"cs": [], "cp": []}
        self.now = 0.0

    def pump(self) -> None:
        """Carry frames both ways, answering every call, until nothing moves."""
        moved = True
        while moved:
            moved = False
            for sender, receiver, name in ((self.cs, self.cp, "cp"), (self.cp, self.cs, "cs")):
                for text in texts(sender):
                    moved = True
                    self.now += 0.01
                    for event in receiver.receive(text, self.now):
                        self.events[name].append(event)
                        if isinstance(event, CallReceived):
                            answer = self.answers[id(receiver)][event.action](event)
                            receiver.respond(event.message_id, answer)

    def results(self, name: str) -> Iterator[ResultReceived]:
        for event in self.events[name]:
            assert isinstance(event, ResultReceived | CallReceived), event
            if isinstance(event, ResultReceived):
                yield event


def test_a_whole_conversation_boot_status_reserve_authorize_start() -> None:
    reservations: dict[int, ReserveNowRequest] = {}

    def reserve_now(event: CallReceived) -> OcppModel:
        assert isinstance(event.request, ReserveNowRequest)
        reservations[event.request.reservation_id] = event.request
        return ReserveNowConfirmation(status=ReservationStatus.ACCEPTED)

    def start(event: CallReceived) -> OcppModel:
        assert isinstance(event.request, m.StartTransactionRequest)
        assert event.request.reservation_id == 7
        return m.StartTransactionConfirmation(
            id_tag_info=m.IdTagInfo(status="Accepted"), transaction_id=1001
        )

    link = Link(
        cs_answers={
            "BootNotification": lambda e: m.BootNotificationConfirmation(
                current_time=NOW, interval=300, status="Accepted"
            ),
            "StatusNotification": lambda e: m.StatusNotificationConfirmation(),
            "Authorize": lambda e: m.AuthorizeConfirmation(
                id_tag_info=m.IdTagInfo(status="Accepted", parent_id_tag="FLEET")
            ),
            "StartTransaction": start,
        },
        cp_answers={"ReserveNow": reserve_now},
    )
    cs, cp = link.cs, link.cp

    boot = cp.call(
        m.BootNotificationRequest(charge_point_vendor="ACME", charge_point_model="X1"), 0
    )
    available = cp.call(status(1, "Available"), 0)  # queued behind the boot
    link.pump()
    reservation = cs.call(
        ReserveNowRequest(connector_id=1, expiry_date=EXPIRY, id_tag="TAG1", reservation_id=7), 0
    )
    link.pump()
    reserved = cp.call(status(1, "Reserved"), 0)
    authorize = cp.call(m.AuthorizeRequest(id_tag="TAG1"), 0)
    start_transaction = cp.call(
        m.StartTransactionRequest(
            connector_id=1, id_tag="TAG1", meter_start=0, timestamp=NOW, reservation_id=7
        ),
        0,
    )
    link.pump()

    cp_results = {r.call.message_id: r for r in link.results("cp")}
    assert list(cp_results) == [
        boot.message_id,
        available.message_id,
        reserved.message_id,
        authorize.message_id,
        start_transaction.message_id,
    ]
    assert cp_results[boot.message_id].confirmation == m.BootNotificationConfirmation(
        current_time=NOW, interval=300, status="Accepted"
    )
    authorized = cp_results[authorize.message_id].confirmation
    assert isinstance(authorized, m.AuthorizeConfirmation)
    assert authorized.id_tag_info.parent_id_tag == "FLEET"
    started = cp_results[start_transaction.message_id].confirmation
    assert isinstance(started, m.StartTransactionConfirmation)
    assert started.transaction_id == 1001

    [cs_result] = link.results("cs")
    assert cs_result.call is reservation
    assert cs_result.confirmation == ReserveNowConfirmation(status="Accepted")
    assert reservations[7].id_tag == "TAG1"

    # What the Central System saw, in order, as typed requests.
    seen = [e.request for e in link.events["cs"] if isinstance(e, CallReceived)]
    assert [type(r).__name__ for r in seen] == [
        "BootNotificationRequest",
        "StatusNotificationRequest",
        "StatusNotificationRequest",
        "AuthorizeRequest",
        "StartTransactionRequest",
    ]
    assert seen[2] == status(1, "Reserved")
    assert isinstance(seen[4], m.StartTransactionRequest)
    assert seen[4].reservation_id == 7
    # Nothing left hanging on either side.
    for session in (cs, cp):
        assert session.outstanding is None
        assert session.queued == 0
        assert session.awaiting_our_answer == frozenset()


def test_cancel_reservation_round_trip() -> None:
    link = Link(
        cs_answers={},
        cp_answers={
            "CancelReservation": lambda e: CancelReservationConfirmation(
                status=CancelReservationStatus.REJECTED
            )
        },
    )
    cancel = link.cs.call(CancelReservationRequest(reservation_id=-1), 0)
    link.pump()
    [result] = link.results("cs")
    assert result.call is cancel
    assert result.confirmation == CancelReservationConfirmation(status="Rejected")


# --- anything a peer may send ---------------------------------------------------------------


JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-5, 5)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40)
    | st.sampled_from(sorted(FEATURES))
    | st.sampled_from(["me-1", "me-2", "x" * 37, "", "9"]),
    lambda children: (
        st.lists(children, max_size=6)
        | st.dictionaries(
            st.text(max_size=12) | st.sampled_from(["connectorId", "idTag", "status"]),
            children,
            max_size=5,
        )
    ),
    max_leaves=25,
)
IDS = st.text(max_size=40) | st.sampled_from(["me-1", "me-2", "9", "x" * 37])
PAYLOADS = st.dictionaries(
    st.sampled_from(["status", "currentTime", "interval", "idTagInfo", "transactionId", "x"]),
    JSON | st.sampled_from(["Accepted", "Rejected", "2026-11-25T14:00:00Z"]),
    max_size=4,
)
FRAMES = (
    st.tuples(st.sampled_from([2, 3, 4]), IDS, st.sampled_from(sorted(FEATURES)), JSON)
    | st.tuples(st.just(2), IDS, st.sampled_from(sorted(FEATURES)), PAYLOADS)
    | st.tuples(st.just(3), IDS, PAYLOADS)
    | st.tuples(st.just(4), IDS, st.sampled_from([*ErrorCode, "FormatViolation"]), st.text(), JSON)
).map(lambda parts: json.dumps(list(parts)))
PEER_TEXT = st.text(max_size=80) | JSON.map(json.dumps) | FRAMES | st.binary(max_size=30)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts_in=st.lists(PEER_TEXT, min_size=1, max_size=6), role=st.sampled_from(list(Role)))
def test_receive_never_raises_and_answers_only_with_valid_call_errors(
    texts_in: list[str | bytes], role: Role
) -> None:
    session = Session(role, id_factory=counter("me"))
    if role is Role.CENTRAL_SYSTEM:
        session.call(reserve(), now=0.0)
    else:
        session.call(status(), now=0.0)
    session.data_to_send()
    peer_ids = set()
    for step, text in enumerate(texts_in):
        with contextlib.suppress(Exception):  # anything goes in here
            peer_ids.add(json.loads(text)[1])
        events = session.receive(text, float(step))
        assert all(isinstance(e, Event) for e in events)
        for event in events:
            if isinstance(event, CallReceived):
                session.respond_error(event.message_id, ErrorCode.NOT_SUPPORTED, "test")
        for frame in session.data_to_send():
            kind = json.loads(frame.text)[0]
            if kind == MessageType.CALL_ERROR:
                message_id, _, _, _ = call_error(frame.text)
                # A CALLERROR answers the peer under the peer's own id, even one longer
                # than 36 characters: the id was readable, and the peer learns why.
                assert message_id in peer_ids
                assert frame.text.encode()  # always encodable as UTF-8
            else:
                assert kind == MessageType.CALL
                assert len(json.loads(frame.text)[1]) <= MAX_MESSAGE_ID_LENGTH
