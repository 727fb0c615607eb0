"""One station's WebSocket connection: a reader loop around a sans-IO :class:`Session`.

The reader never waits for an answer to one of our own calls: a call is a future that the
reader resolves when the answer arrives, and a timer on the loop drives the session's
timeouts. Every frame in and out goes to the trace.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed
from websockets.frames import Close, CloseCode

from console.central.events import TraceLog
from console.central.model import TraceDirection
from console.ocpp.base import OcppModel
from console.ocpp.errors import ErrorCode
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
    OutgoingCall,
    OutgoingFrame,
    ResultReceived,
    Session,
    UnexpectedAnswer,
)

__all__ = ["CallOutcome", "StationConnection"]

logger = logging.getLogger(__name__)

_LATE_HANDLERS_KEPT = 256
_FAIR_SHARE = 0.002  # seconds one connection's reader may run before letting others in

CallHandler = Callable[["StationConnection", CallReceived], OcppModel]
LateHandler = Callable[[LateAnswer], None]


@dataclass(frozen=True, slots=True)
class CallOutcome:
    """How one of our calls to a station ended.

    Exactly one of: ``confirmation`` (a valid answer), ``error_code`` (a CALLERROR, or an
    answer its model rejects), ``timed_out`` (no answer in time; a late answer may still
    come), ``aborted`` (the connection ended first; ``sent`` says whether the station may
    have seen the call).
    """

    message_id: str | None
    confirmation: OcppModel | None = None
    error_code: str | None = None
    error: str | None = None
    latency: float | None = None
    timed_out: bool = False
    aborted: bool = False
    sent: bool = True


def describe_close(rcvd: Close | None, sent: Close | None, max_frame_size: int) -> str:
    """A readable reason for a closed connection."""
    if sent is not None and sent.code == CloseCode.MESSAGE_TOO_BIG:
        return f"closed with 1009: a frame was bigger than {max_frame_size} bytes"
    if rcvd is not None:
        reason = f" ({rcvd.reason})" if rcvd.reason else ""
        return f"closed by the station with {rcvd.code}{reason}"
    if sent is not None:
        reason = f" ({sent.reason})" if sent.reason else ""
        return f"closed by the console with {sent.code}{reason}"
    return "connection lost without a close frame"


class StationConnection:
    """The live connection of one station: reads frames, answers calls, makes calls."""

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
    ) -> None:
        self.station_id = station_id
        self.websocket = websocket
        self.security_profile = security_profile
        self._trace = trace
        self._handle_call = call_handler
        self._max_frame_size = max_frame_size
        self._loop = asyncio.get_running_loop()
        self.session = Session(Role.CENTRAL_SYSTEM, call_timeout=call_timeout)
        self._waiting: dict[str, asyncio.Future[CallOutcome]] = {}
        self._late_handlers: OrderedDict[str, LateHandler] = OrderedDict()
        self._received_at: dict[str, float] = {}
        self._timer: asyncio.TimerHandle | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self.closed = False
        self.close_reason: str | None = None
        self._closing_reason: str | None = None

    @property
    def remote_address(self) -> str | None:
        address = self.websocket.remote_address
        if isinstance(address, tuple) and len(address) >= 2:
            return f"{address[0]}:{address[1]}"
        return None if address is None else str(address)

    # --- the reader ---------------------------------------------------------------------

    async def run(self) -> str:
        """Read until the connection ends; returns why it ended."""
        reason = "connection lost"
        turn_started = self._loop.time()
        try:
            while True:
                try:
                    message = await self.websocket.recv()
                except ConnectionClosed as exc:
                    reason = describe_close(exc.rcvd, exc.sent, self._max_frame_size)
                    break
                now = self._loop.time()
                self._process(self.session.receive(message, now))
                await self._flush()
                self._reschedule()
                # recv() and send() do not yield while frames are queued and the socket
                # takes the answers: a flooding station would hold the loop for whole
                # socket buffers of frames, and every other station would wait.
                if now - turn_started >= _FAIR_SHARE:
                    await asyncio.sleep(0)
                    turn_started = self._loop.time()
        finally:
            if self._closing_reason is not None:
                reason = self._closing_reason
            self._finish(reason)
        return reason

    def _finish(self, reason: str) -> None:
        if self.closed:
            return
        self.closed = True
        self.close_reason = reason
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._process(self.session.close(reason))
        for future in self._waiting.values():
            if not future.done():
                future.set_result(CallOutcome(None, aborted=True, error=reason, sent=True))
        self._waiting.clear()
        self._late_handlers.clear()

    async def close(self, reason: str, code: int = CloseCode.NORMAL_CLOSURE) -> None:
        """Close the connection (e.g. replaced by a newer one, or the console stops)."""
        self._closing_reason = reason
        # Calls waiting on this connection end now: on a half-open link the close handshake
        # only ends when it times out, and nothing will answer them on a closing connection.
        if not self.closed:
            self._process(self.session.close(reason))
        await self.websocket.close(code, reason[:120])

    def spawn(self, coroutine: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        """Run a task that belongs to this connection (kept referenced until done)."""
        task = self._loop.create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.error(
                "station %s: background task failed",
                self.station_id,
                exc_info=task.exception(),
            )

    def cancel_tasks(self) -> None:
        for task in tuple(self._tasks):
            task.cancel()

    # --- our calls ----------------------------------------------------------------------

    async def call(
        self,
        request: OcppModel,
        *,
        call_timeout: float | None = None,
        on_late: LateHandler | None = None,
    ) -> CallOutcome:
        """Send a CALL (queued behind any outstanding one) and wait for how it ends."""
        if self.closed or self._closing_reason is not None:
            return CallOutcome(
                None,
                aborted=True,
                sent=False,
                error=self.close_reason or self._closing_reason or "not connected",
            )
        outgoing = self.session.call(request, self._loop.time(), call_timeout)
        future: asyncio.Future[CallOutcome] = self._loop.create_future()
        self._waiting[outgoing.message_id] = future
        if on_late is not None:
            self._late_handlers[outgoing.message_id] = on_late
            while len(self._late_handlers) > _LATE_HANDLERS_KEPT:
                self._late_handlers.popitem(last=False)
        await self._flush()
        self._reschedule()
        try:
            return await future
        finally:
            self._waiting.pop(outgoing.message_id, None)

    def _settle(self, call: OutgoingCall, outcome: CallOutcome, text: str) -> None:
        """An answer in time: to whoever waits, else (they stopped waiting) as a late one."""
        late_handler = self._late_handlers.pop(call.message_id, None)
        future = self._waiting.pop(call.message_id, None)
        if future is not None and not future.done():
            future.set_result(outcome)
            return
        if late_handler is not None:
            late_handler(
                LateAnswer(
                    call,
                    outcome.confirmation,
                    outcome.error_code,
                    outcome.error or "",
                    outcome.latency or 0.0,
                    text,
                )
            )

    def _resolve(self, message_id: str, outcome: CallOutcome) -> None:
        future = self._waiting.pop(message_id, None)
        if future is not None and not future.done():
            future.set_result(outcome)

    # --- timers -------------------------------------------------------------------------

    def _reschedule(self) -> None:
        deadline = self.session.next_deadline()
        if self._timer is not None:
            if deadline is not None and self._timer.when() == deadline:
                return
            self._timer.cancel()
            self._timer = None
        if deadline is not None and not self.closed:
            self._timer = self._loop.call_at(deadline, self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        if self.closed:
            return
        self._process(self.session.poll_timeouts(self._loop.time()))
        # A timeout may have released the next queued call: write it.
        self.spawn(self._flush())
        self._reschedule()

    # --- frames out ---------------------------------------------------------------------

    async def _flush(self) -> None:
        frames = self.session.data_to_send()
        for frame in frames:
            self._trace_out(frame)
        for frame in frames:
            try:
                await self.websocket.send(frame.text)
            except ConnectionClosed:
                # The reader sees the close too and aborts what is waiting.
                return

    def _trace_out(self, frame: OutgoingFrame) -> None:
        latency = None
        if frame.message_type != MessageType.CALL:
            received = self._received_at.pop(frame.message_id, None)
            if received is not None:
                latency = self._loop.time() - received
        self._trace.record(
            self.station_id,
            TraceDirection.OUT,
            frame.text,
            message_type=int(frame.message_type),
            message_id=frame.message_id,
            action=frame.action,
            latency=latency,
            error_code=frame.error_code,
        )

    # --- frames in ----------------------------------------------------------------------

    def _process(self, events: list[Event]) -> None:
        for event in events:
            try:
                self._on_event(event)
            except Exception:
                logger.exception("station %s: failed on %s", self.station_id, type(event).__name__)

    def _on_event(self, event: Event) -> None:
        record = self._trace.record
        sid = self.station_id
        inbound = TraceDirection.IN
        if isinstance(event, CallReceived):
            self._received_at[event.message_id] = self._loop.time()
            record(
                sid,
                inbound,
                event.text,
                message_type=MessageType.CALL,
                message_id=event.message_id,
                action=event.action,
            )
            self._answer(event)
        elif isinstance(event, CallRefused):
            self._received_at[event.message_id] = self._loop.time()
            record(
                sid,
                inbound,
                event.text,
                message_type=MessageType.CALL,
                message_id=event.message_id,
                action=event.action,
                error_code=event.code.value,
                note=event.description,
            )
            logger.warning(
                "station %s: refused %s: %s %s",
                sid,
                event.action,
                event.code.value,
                event.description,
            )
        elif isinstance(event, ResultReceived):
            record(
                sid,
                inbound,
                event.text,
                message_type=MessageType.CALL_RESULT,
                message_id=event.call.message_id,
                action=event.call.action,
                latency=event.latency,
            )
            self._settle(
                event.call,
                CallOutcome(
                    event.call.message_id, confirmation=event.confirmation, latency=event.latency
                ),
                event.text,
            )
        elif isinstance(event, ErrorReceived):
            record(
                sid,
                inbound,
                event.text,
                message_type=MessageType.CALL_ERROR,
                message_id=event.call.message_id,
                action=event.call.action,
                latency=event.latency,
                error_code=event.raw_code,
                note=event.description or None,
            )
            self._settle(
                event.call,
                CallOutcome(
                    event.call.message_id,
                    error_code=event.raw_code,
                    error=event.description,
                    latency=event.latency,
                ),
                event.text,
            )
        elif isinstance(event, AnswerInvalid):
            record(
                sid,
                inbound,
                event.text,
                message_id=event.call.message_id,
                action=event.call.action,
                latency=event.latency,
                error_code=event.code.value,
                note=f"invalid answer: {event.description}",
            )
            self._settle(
                event.call,
                CallOutcome(
                    event.call.message_id,
                    error_code=event.code.value,
                    error=f"invalid answer: {event.description}",
                    latency=event.latency,
                ),
                event.text,
            )
        elif isinstance(event, CallTimedOut):
            timeout = event.call.timeout
            record(
                sid,
                TraceDirection.EVENT,
                f"no answer to {event.call.action} within {timeout:g} s",
                message_id=event.call.message_id,
                action=event.call.action,
            )
            logger.warning(
                "station %s: no answer to %s within %g s", sid, event.call.action, timeout
            )
            self._resolve(
                event.call.message_id,
                CallOutcome(
                    event.call.message_id,
                    timed_out=True,
                    error=f"no answer within {timeout:g} s",
                ),
            )
        elif isinstance(event, CallAborted):
            if event.was_sent:
                record(
                    sid,
                    TraceDirection.EVENT,
                    f"{event.call.action} left without an answer: {event.reason}",
                    message_id=event.call.message_id,
                    action=event.call.action,
                )
            self._resolve(
                event.call.message_id,
                CallOutcome(
                    event.call.message_id,
                    aborted=True,
                    sent=event.was_sent,
                    error=event.reason,
                ),
            )
        elif isinstance(event, LateAnswer):
            record(
                sid,
                inbound,
                event.text,
                message_type=(
                    MessageType.CALL_RESULT
                    if event.confirmation is not None
                    else MessageType.CALL_ERROR
                ),
                message_id=event.call.message_id,
                action=event.call.action,
                latency=event.latency,
                late=True,
                error_code=event.error_code,
                note="late answer (after the timeout)",
            )
            handler = self._late_handlers.pop(event.call.message_id, None)
            if handler is not None:
                handler(event)
        elif isinstance(event, UnexpectedAnswer):
            record(
                sid,
                inbound,
                event.text,
                message_type=event.message_type,
                message_id=event.message_id,
                note="answer to no call of ours: dropped",
            )
        elif isinstance(event, FrameDropped):
            record(
                sid,
                inbound,
                event.text,
                message_id=event.message_id,
                note=f"dropped: {event.reason}",
            )
            logger.warning("station %s: dropped a frame: %s", sid, event.reason)

    def _answer(self, event: CallReceived) -> None:
        try:
            confirmation = self._handle_call(self, event)
            self.session.respond(event.message_id, confirmation)
        except Exception:
            logger.exception(
                "station %s: handling %s %s failed", self.station_id, event.action, event.message_id
            )
            if event.message_id in self.session.awaiting_our_answer:
                self.session.respond_error(
                    event.message_id,
                    ErrorCode.INTERNAL_ERROR,
                    f"the console failed handling {event.action}",
                )
