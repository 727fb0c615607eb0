"""The state machine of one OCPP-J connection, with no I/O and no clock.

Text frames go in through :meth:`Session.receive`, typed events come out; frames to
write are collected with :meth:`Session.data_to_send`. Time is always an argument
(seconds on any monotonic scale), so whole conversations run in tests in microseconds.

Rules kept here: one outstanding CALL per direction (further calls are queued; calls
from the peer may cross ours), message ids unique per connection, answers matched by
id, timeouts decided by ``now``, late answers reported as late and never matched to a
newer call, and incoming calls either validated into typed requests or answered with
the CALLERROR the specification asks for.

One Session speaks one OCPP version (``version``, 1.6 unless told): the version's feature
table decides which actions exist and which are typed, and CALLERROR codes go out spelled as
that version spells them (2.0.1: ``FormatViolation``, ``OccurrenceConstraintViolation``);
both spellings are read in either version.
"""

from __future__ import annotations

import itertools
import os
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from console.ocpp.base import OcppModel
from console.ocpp.errors import (
    ErrorCode,
    describe_validation,
    error_code_for_validation,
    parse_error_code,
    wire_spelling,
)
from console.ocpp.feature_table import Feature, FeatureTable, Role
from console.ocpp.frames import (
    Call,
    CallError,
    CallResult,
    FrameError,
    MessageType,
    parse_frame,
    serialize_call,
    serialize_frame,
    serialize_result,
)
from console.ocpp.tables import feature_table
from console.ocpp.versions import OcppVersion

__all__ = [
    "AnswerInvalid",
    "CallAborted",
    "CallReceived",
    "CallRefused",
    "CallTimedOut",
    "ErrorReceived",
    "Event",
    "FrameDropped",
    "LateAnswer",
    "OutgoingCall",
    "OutgoingFrame",
    "ResultReceived",
    "Session",
    "UnexpectedAnswer",
]

_LATE_MEMORY = 256


@dataclass(slots=True)
class OutgoingCall:
    """A CALL we make: queued, then sent, then answered, timed out or aborted."""

    message_id: str
    action: str
    request: OcppModel
    feature: Feature
    timeout: float
    queued_at: float
    sent_at: float | None = None

    @property
    def deadline(self) -> float | None:
        return None if self.sent_at is None else self.sent_at + self.timeout


@dataclass(frozen=True, slots=True)
class OutgoingFrame:
    """A frame ready to be written, with what the trace needs to know of it.

    ``message`` is the request (of a CALL) or confirmation (of a CALLRESULT) the frame
    carries, so that nobody downstream parses the text back; None for a CALLERROR.
    """

    text: str
    message_type: MessageType
    message_id: str
    action: str | None
    error_code: str | None = None
    message: OcppModel | None = None
    note: str | None = None
    """What the trace says of a frame someone else made (a proxy's forwarded frame)."""


# --- events ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CallReceived:
    """A valid CALL from the peer; answer it with ``respond`` or ``respond_error``."""

    message_id: str
    action: str
    request: OcppModel
    text: str


@dataclass(frozen=True, slots=True)
class CallRefused:
    """A CALL from the peer that could not be taken; a CALLERROR was queued for it."""

    message_id: str
    action: str | None
    code: ErrorCode
    description: str
    text: str


@dataclass(frozen=True, slots=True)
class ResultReceived:
    call: OutgoingCall
    confirmation: OcppModel
    latency: float
    text: str


@dataclass(frozen=True, slots=True)
class ErrorReceived:
    """The peer answered our call with a CALLERROR."""

    call: OutgoingCall
    code: ErrorCode | None
    raw_code: str
    description: str
    details: dict[str, Any]
    latency: float
    text: str


@dataclass(frozen=True, slots=True)
class AnswerInvalid:
    """The peer answered our call with something its confirmation model rejects."""

    call: OutgoingCall
    code: ErrorCode
    description: str
    latency: float
    text: str


@dataclass(frozen=True, slots=True)
class CallTimedOut:
    call: OutgoingCall


@dataclass(frozen=True, slots=True)
class CallAborted:
    """A call that will never be answered: the connection ended (or it was never sent)."""

    call: OutgoingCall
    reason: str
    was_sent: bool


@dataclass(frozen=True, slots=True)
class LateAnswer:
    """An answer to a call that had already timed out.

    Exactly one of ``confirmation`` and ``error_code`` is set (``problem`` says why the
    answer could not be read, when it could not).
    """

    call: OutgoingCall
    confirmation: OcppModel | None
    error_code: str | None
    description: str
    latency: float
    text: str


@dataclass(frozen=True, slots=True)
class UnexpectedAnswer:
    """An answer whose id matches no call we are waiting for: dropped."""

    message_id: str
    message_type: MessageType
    text: str


@dataclass(frozen=True, slots=True)
class FrameDropped:
    """A frame that could not be answered (its id was unreadable, or it was a broken
    answer, or a duplicate): dropped and traced."""

    reason: str
    text: str
    message_id: str | None = None


Event = (
    CallReceived
    | CallRefused
    | ResultReceived
    | ErrorReceived
    | AnswerInvalid
    | CallTimedOut
    | CallAborted
    | LateAnswer
    | UnexpectedAnswer
    | FrameDropped
)


def _default_ids() -> Callable[[], str]:
    # A random prefix per connection and a counter: unique, short, cheap.
    prefix = os.urandom(6).hex()
    counter = itertools.count(1)
    return lambda: f"{prefix}-{next(counter)}"


@dataclass(slots=True)
class _Pending:
    action: str
    feature: Feature


class Session:
    """One OCPP-J connection of one ``version`` seen from one side (``role``)."""

    def __init__(
        self,
        role: Role,
        *,
        version: OcppVersion = OcppVersion.V16,
        call_timeout: float = 30.0,
        supported_actions: Iterable[str] | None = None,
        id_factory: Callable[[], str] | None = None,
    ) -> None:
        self.role = role
        self.version = version
        self.table: FeatureTable = feature_table(version)
        self.call_timeout = call_timeout
        receivable = self.table.receivable(role)
        self._supported = set(receivable if supported_actions is None else supported_actions)
        self._new_id = id_factory or _default_ids()
        self._queue: deque[OutgoingCall] = deque()
        self._outstanding: OutgoingCall | None = None
        self._timed_out: OrderedDict[str, OutgoingCall] = OrderedDict()
        self._incoming: dict[str, _Pending] = {}
        self._outbox: list[OutgoingFrame] = []
        self._closed = False
        self.hold_calls = False
        """While True, queued calls are sent only by :meth:`send_queued`: someone else
        shares this direction of the connection (proxy mode, where the upstream CSMS calls
        the station too) and decides whose turn it is."""

    # --- state --------------------------------------------------------------------------

    @property
    def outstanding(self) -> OutgoingCall | None:
        """The call sent and not yet answered, if any."""
        return self._outstanding

    @property
    def queued(self) -> int:
        return len(self._queue)

    @property
    def awaiting_our_answer(self) -> frozenset[str]:
        """Ids of the peer's calls we have not answered yet."""
        return frozenset(self._incoming)

    def next_deadline(self) -> float | None:
        """When :meth:`poll_timeouts` has something to do next."""
        return None if self._outstanding is None else self._outstanding.deadline

    def data_to_send(self) -> list[OutgoingFrame]:
        """Frames to write, in order; taking them empties the outbox."""
        out, self._outbox = self._outbox, []
        return out

    # --- our calls ----------------------------------------------------------------------

    def call(self, request: OcppModel, now: float, timeout: float | None = None) -> OutgoingCall:
        """Queue a CALL; it is sent at once when no other call of ours is outstanding."""
        if self._closed:
            raise RuntimeError("session closed")
        action = type(request).feature_name
        feature = self.table.features.get(action)
        if feature is None or (self.role in feature.receivers and len(feature.receivers) == 1):
            raise ValueError(f"{self.role} does not send {action or type(request).__name__}")
        if not isinstance(request, feature.request):
            raise TypeError(
                f"{type(request).__name__} is not the OCPP {self.version} request of {action}"
            )
        outgoing = OutgoingCall(
            message_id=self._new_id(),
            action=action,
            request=request,
            feature=feature,
            timeout=self.call_timeout if timeout is None else timeout,
            queued_at=now,
        )
        self._queue.append(outgoing)
        self._send_next(now)
        return outgoing

    def send_queued(self, now: float) -> OutgoingCall | None:
        """Send the next queued call now, held or not (when nothing of ours is outstanding)."""
        if self._outstanding is not None or not self._queue:
            return None
        held, self.hold_calls = self.hold_calls, False
        try:
            self._send_next(now)
        finally:
            self.hold_calls = held
        return self._outstanding

    def _send_next(self, now: float) -> None:
        if self._outstanding is not None or not self._queue or self.hold_calls:
            return
        outgoing = self._queue.popleft()
        outgoing.sent_at = now
        self._outstanding = outgoing
        text = serialize_call(outgoing.message_id, outgoing.action, outgoing.request)
        self._outbox.append(
            OutgoingFrame(
                text,
                MessageType.CALL,
                outgoing.message_id,
                outgoing.action,
                message=outgoing.request,
            )
        )

    def poll_timeouts(self, now: float) -> list[Event]:
        """Time out the outstanding call if its deadline has passed (then send the next)."""
        events: list[Event] = []
        while self._outstanding is not None:
            deadline = self._outstanding.deadline
            if deadline is None or now < deadline:
                break
            expired = self._outstanding
            self._outstanding = None
            self._remember_late(expired)
            events.append(CallTimedOut(expired))
            self._send_next(now)
        return events

    def _remember_late(self, call: OutgoingCall) -> None:
        self._timed_out[call.message_id] = call
        while len(self._timed_out) > _LATE_MEMORY:
            self._timed_out.popitem(last=False)

    def cancel_queued(self, call: OutgoingCall, reason: str = "cancelled") -> CallAborted | None:
        """Withdraw a call that was not sent yet."""
        try:
            self._queue.remove(call)
        except ValueError:
            return None
        return CallAborted(call, reason, was_sent=False)

    def close(self, reason: str) -> list[Event]:
        """The connection ended: every call not answered is aborted."""
        self._closed = True
        events: list[Event] = []
        if self._outstanding is not None:
            events.append(CallAborted(self._outstanding, reason, was_sent=True))
            self._outstanding = None
        while self._queue:
            events.append(CallAborted(self._queue.popleft(), reason, was_sent=False))
        self._incoming.clear()
        return events

    # --- our answers --------------------------------------------------------------------

    def respond(self, message_id: str, confirmation: OcppModel) -> None:
        """Answer a call of the peer's."""
        pending = self._incoming.pop(message_id, None)
        if pending is None:
            raise KeyError(f"no call {message_id!r} waits for an answer")
        if not isinstance(confirmation, pending.feature.confirmation):
            self._incoming[message_id] = pending
            raise TypeError(f"{type(confirmation).__name__} does not answer {pending.action}")
        text = serialize_result(message_id, confirmation)
        self._outbox.append(
            OutgoingFrame(
                text, MessageType.CALL_RESULT, message_id, pending.action, message=confirmation
            )
        )

    def respond_error(
        self,
        message_id: str,
        code: ErrorCode,
        description: str = "",
        details: dict[str, Any] | None = None,
    ) -> None:
        """Answer a call of the peer's with a CALLERROR."""
        pending = self._incoming.pop(message_id, None)
        if pending is None:
            raise KeyError(f"no call {message_id!r} waits for an answer")
        self._queue_error(message_id, pending.action, code, description, details)

    def _queue_error(
        self,
        message_id: str,
        action: str | None,
        code: ErrorCode,
        description: str,
        details: dict[str, Any] | None = None,
    ) -> None:
        spelling = wire_spelling(code, self.version)
        text = serialize_frame(CallError(message_id, spelling, description, details or {}))
        self._outbox.append(
            OutgoingFrame(text, MessageType.CALL_ERROR, message_id, action, spelling)
        )

    # --- incoming -----------------------------------------------------------------------

    def receive(self, text: str | bytes, now: float) -> list[Event]:
        """Take one frame from the peer. Never raises for anything the peer sends."""
        shown = text if isinstance(text, str) else repr(bytes(text)[:200])
        try:
            frame = parse_frame(text)
        except FrameError as exc:
            return self._broken(exc, shown, now)
        if isinstance(frame, Call):
            return [self._incoming_call(frame, shown)]
        return self._incoming_answer(frame, shown, now)

    def _broken(self, exc: FrameError, text: str, now: float) -> list[Event]:
        if exc.message_id is None:
            return [FrameDropped(f"{exc.code}: {exc.description}", text)]
        if exc.message_type == MessageType.CALL or exc.message_type is None:
            return [self._refuse(exc.message_id, exc.action, exc.code, exc.description, text)]
        # A broken answer: nothing to answer, but the call it answers need not wait.
        call = self._outstanding
        if call is not None and call.message_id == exc.message_id:
            self._outstanding = None
            latency = now - (call.sent_at or now)
            self._send_next(now)
            return [AnswerInvalid(call, exc.code, exc.description, latency, text)]
        return [FrameDropped(f"{exc.code}: {exc.description}", text, exc.message_id)]

    def _refuse(
        self, message_id: str, action: str | None, code: ErrorCode, description: str, text: str
    ) -> CallRefused:
        if message_id in self._incoming:
            # Answering twice under one id would confuse the peer more than silence.
            return CallRefused(message_id, action, code, description + " (duplicate id)", text)
        self._queue_error(message_id, action, code, description)
        return CallRefused(message_id, action, code, description, text)

    def _incoming_call(self, frame: Call, text: str) -> Event:
        action = frame.action
        if frame.message_id in self._incoming:
            return FrameDropped(
                "duplicate message id of a call not answered yet", text, frame.message_id
            )
        receivers = self.table.known_actions.get(action)
        if receivers is None:
            return self._refuse(
                frame.message_id,
                action,
                ErrorCode.NOT_IMPLEMENTED,
                f"unknown action {action}",
                text,
            )
        feature = self.table.features.get(action)
        if self.role not in receivers or feature is None or action not in self._supported:
            return self._refuse(
                frame.message_id,
                action,
                ErrorCode.NOT_SUPPORTED,
                f"{action} is not supported by this {self.role}",
                text,
            )
        try:
            request = feature.request.from_payload(frame.payload)
        except ValidationError as exc:
            return self._refuse(
                frame.message_id,
                action,
                error_code_for_validation(exc),
                describe_validation(exc),
                text,
            )
        self._incoming[frame.message_id] = _Pending(action, feature)
        return CallReceived(frame.message_id, action, request, text)

    def _incoming_answer(self, frame: CallResult | CallError, text: str, now: float) -> list[Event]:
        call = self._outstanding
        if call is not None and call.message_id == frame.message_id:
            self._outstanding = None
            event = self._match(call, frame, text, now)
            self._send_next(now)
            return [event]
        late = self._timed_out.pop(frame.message_id, None)
        if late is not None:
            return [self._late(late, frame, text, now)]
        return [UnexpectedAnswer(frame.message_id, frame.message_type, text)]

    def _match(
        self, call: OutgoingCall, frame: CallResult | CallError, text: str, now: float
    ) -> Event:
        latency = now - (call.sent_at if call.sent_at is not None else now)
        if isinstance(frame, CallError):
            return ErrorReceived(
                call,
                parse_error_code(frame.error_code),
                frame.error_code,
                frame.description,
                frame.details,
                latency,
                text,
            )
        try:
            confirmation = call.feature.confirmation.from_payload(frame.payload)
        except ValidationError as exc:
            return AnswerInvalid(
                call, error_code_for_validation(exc), describe_validation(exc), latency, text
            )
        return ResultReceived(call, confirmation, latency, text)

    def _late(
        self, call: OutgoingCall, frame: CallResult | CallError, text: str, now: float
    ) -> Event:
        latency = now - (call.sent_at if call.sent_at is not None else now)
        if isinstance(frame, CallError):
            return LateAnswer(call, None, frame.error_code, frame.description, latency, text)
        try:
            confirmation = call.feature.confirmation.from_payload(frame.payload)
        except ValidationError as exc:
            code = error_code_for_validation(exc)
            return LateAnswer(call, None, code.value, describe_validation(exc), latency, text)
        return LateAnswer(call, confirmation, None, "", latency, text)
