"""One station's WebSocket connection on the Central System's side.

The link (:class:`~console.link.OcppLink`) reads, writes, times out and settles calls;
here the station's calls are handed to the Central System's handler, and every event and
every frame goes to the trace, each with the request or answer model it carries.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass

from websockets.asyncio.server import ServerConnection

from console.central.events import TraceLog
from console.central.model import TraceDirection
from console.link import CallOutcome, LateHandler, OcppLink
from console.ocpp.base import OcppModel
from console.ocpp.features import Role
from console.ocpp.frames import MessageType
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
    OutgoingFrame,
    ResultReceived,
    Session,
    UnexpectedAnswer,
)
from console.ocpp.versions import OcppVersion

__all__ = [
    "CallHandler",
    "CallOutcome",
    "LateHandler",
    "StationConnection",
    "TraceLine",
    "trace_line",
]

logger = logging.getLogger(__name__)

CallHandler = Callable[["StationConnection", CallReceived], OcppModel]


@dataclass(frozen=True, slots=True)
class TraceLine:
    """What the trace shows of one event (the fields of :meth:`TraceLog.record`)."""

    text: str
    message_type: int | None
    message_id: str | None
    action: str | None
    direction: TraceDirection = TraceDirection.IN
    latency: float | None = None
    late: bool = False
    error_code: str | None = None
    note: str | None = None
    message: OcppModel | None = None


def trace_line(event: Event) -> TraceLine | None:
    """The trace line of a Session event (None: the event shows nothing)."""
    match event:
        case CallReceived(message_id=message_id, action=action):
            return TraceLine(
                event.text, MessageType.CALL, message_id, action, message=event.request
            )
        case CallRefused(message_id=message_id, action=action):
            return TraceLine(
                event.text,
                MessageType.CALL,
                message_id,
                action,
                error_code=event.code.value,
                note=event.description,
            )
        case ResultReceived(call=call):
            return TraceLine(
                event.text,
                MessageType.CALL_RESULT,
                call.message_id,
                call.action,
                latency=event.latency,
                message=event.confirmation,
            )
        case ErrorReceived(call=call):
            return TraceLine(
                event.text,
                MessageType.CALL_ERROR,
                call.message_id,
                call.action,
                latency=event.latency,
                error_code=event.raw_code,
                note=event.description or None,
            )
        case AnswerInvalid(call=call):
            return TraceLine(
                event.text,
                None,
                call.message_id,
                call.action,
                latency=event.latency,
                error_code=event.code.value,
                note=f"invalid answer: {event.description}",
            )
        case CallTimedOut(call=call):
            return TraceLine(
                f"no answer to {call.action} within {call.timeout:g} s",
                None,
                call.message_id,
                call.action,
                direction=TraceDirection.EVENT,
            )
        case CallAborted(call=call, was_sent=True):
            return TraceLine(
                f"{call.action} left without an answer: {event.reason}",
                None,
                call.message_id,
                call.action,
                direction=TraceDirection.EVENT,
            )
        case LateAnswer(call=call):
            return TraceLine(
                event.text,
                (
                    MessageType.CALL_RESULT
                    if event.confirmation is not None
                    else MessageType.CALL_ERROR
                ),
                call.message_id,
                call.action,
                latency=event.latency,
                late=True,
                error_code=event.error_code,
                note="late answer (after the timeout)",
                message=event.confirmation,
            )
        case UnexpectedAnswer(message_id=message_id, message_type=message_type):
            return TraceLine(
                event.text,
                message_type,
                message_id,
                None,
                note="answer to no call of ours: dropped",
            )
        case FrameDropped(message_id=message_id, reason=reason):
            return TraceLine(event.text, None, message_id, None, note=f"dropped: {reason}")
    # A call that was never sent, aborted: nothing happened on the wire.
    return None


class StationConnection(OcppLink):
    """The live connection of one station: reads frames, answers calls, makes calls."""

    peer_name = "the station"
    own_name = "the console"
    proxied = False
    """True when the station is carried on to an upstream CSMS (proxy mode): the console
    then only observes the station's calls, and calls the station only when asked to."""

    def __init__(
        self,
        station_id: str,
        websocket: ServerConnection,
        *,
        trace: TraceLog,
        call_handler: CallHandler,
        call_timeout: float,
        max_frame_size: int,
        security_profile: int,
        version: OcppVersion = OcppVersion.V16,
        session: Session | None = None,
    ) -> None:
        super().__init__(
            websocket,
            session or Session(Role.CENTRAL_SYSTEM, call_timeout=call_timeout, version=version),
            name=f"station {station_id}",
            max_frame_size=max_frame_size,
        )
        self.station_id = station_id
        self.security_profile = security_profile
        self.version = version
        """The OCPP version of this connection (the subprotocol the station chose)."""
        self._trace = trace
        self._handle_call = call_handler
        # When each call of the station's came in: the trace shows how long we took.
        self._received_at: dict[str, float] = {}

    def _read_gate(self) -> asyncio.Future[None] | None:
        # A disk slower than this station's flood of frames: the trace waits for no one,
        # so the station does (see WriteBehind.room_for).
        return self._trace.room_for(self.station_id)

    def _answer_call(self, event: CallReceived) -> None:
        self.respond(event.message_id, self._handle_call(self, event))

    def _observe(self, event: Event) -> None:
        if isinstance(event, CallReceived | CallRefused):
            self._received_at[event.message_id] = self._loop.time()
        line = trace_line(event)
        if line is not None:
            self._record(line)
        sid = self.station_id
        match event:
            case CallRefused(action=action, code=code, description=description):
                logger.warning(
                    "station %s: refused %s: %s %s", sid, action, code.value, description
                )
            case CallTimedOut(call=call):
                logger.warning(
                    "station %s: no answer to %s within %g s", sid, call.action, call.timeout
                )
            case FrameDropped(reason=reason):
                logger.warning("station %s: dropped a frame: %s", sid, reason)

    def _frame_out(self, frame: OutgoingFrame) -> None:
        latency = None
        if frame.message_type != MessageType.CALL:
            received = self._received_at.pop(frame.message_id, None)
            if received is not None:
                latency = self._loop.time() - received
        self._record(
            TraceLine(
                frame.text,
                int(frame.message_type),
                frame.message_id,
                frame.action,
                direction=TraceDirection.OUT,
                latency=latency,
                error_code=frame.error_code,
                message=frame.message,
            )
        )

    def _record(self, line: TraceLine) -> None:
        self._trace.record(
            self.station_id,
            line.direction,
            line.text,
            message_type=line.message_type,
            message_id=line.message_id,
            action=line.action,
            latency=line.latency,
            late=line.late,
            error_code=line.error_code,
            note=line.note,
            message=line.message,
            ocpp_version=self.version,
        )
