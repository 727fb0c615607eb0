"""One live OCPP-J connection: the asyncio shell around a sans-IO :class:`Session`.

Both sides use it: the Central System for each station that connects, the station client
for its connection to a Central System. A subclass says how calls of the peer are
answered (:meth:`OcppLink._answer_call`) and what it makes of every event (the trace, the
log); everything else lives here, once:

- the reader, which never waits for an answer to one of our own calls: a call is a future
  that the reader resolves when the answer arrives, so calls may cross and the peer's
  calls are answered while ours wait;
- the ordered writer: frames leave in the order the Session produced them;
- the call deadline timer that drives the Session's timeouts (one outstanding CALL per
  direction is the Session's rule; further calls wait in its queue);
- late answers, which go to the handler the caller gave and are never matched to a newer
  call;
- the tasks that belong to the connection, cancelled when it ends.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any, ClassVar, assert_never

from websockets.asyncio.connection import Connection
from websockets.exceptions import ConnectionClosed
from websockets.frames import Close, CloseCode

from console.ocpp.base import OcppModel
from console.ocpp.errors import ErrorCode
from console.ocpp.session import (
    AnswerInvalid,
    CallAborted,
    CallReceived,
    CallTimedOut,
    ErrorReceived,
    Event,
    LateAnswer,
    OutgoingCall,
    OutgoingFrame,
    ResultReceived,
    Session,
)

__all__ = [
    "FAIR_SHARE",
    "CallEnding",
    "CallOutcome",
    "LateHandler",
    "OcppLink",
    "describe_close",
    "outcome_of",
]

logger = logging.getLogger(__name__)

_LATE_HANDLERS_KEPT = 256
FAIR_SHARE = 0.002
"""Seconds one connection's reader may run before letting other connections in."""

LateHandler = Callable[[LateAnswer], None]


@dataclass(frozen=True, slots=True)
class CallOutcome:
    """How one of our calls ended.

    Exactly one of: ``confirmation`` (a valid answer), ``error_code`` (a CALLERROR, or an
    answer its model rejects), ``timed_out`` (no answer in time; a late answer may still
    come), ``aborted`` (the connection ended first; ``sent`` says whether the peer may
    have seen the call). ``ended_by`` is the Session's event that ended it (None when the
    call was never made because the connection had ended).
    """

    message_id: str | None
    confirmation: OcppModel | None = None
    error_code: str | None = None
    error: str | None = None
    latency: float | None = None
    timed_out: bool = False
    aborted: bool = False
    sent: bool = True
    ended_by: Event | None = None


CallEnding = ResultReceived | ErrorReceived | AnswerInvalid | CallTimedOut | CallAborted
"""The Session's events that end one of our calls."""


def outcome_of(event: CallEnding) -> CallOutcome:
    """The outcome an event gives the call it ends."""
    match event:
        case ResultReceived(call=call, confirmation=confirmation, latency=latency):
            return CallOutcome(
                call.message_id, confirmation=confirmation, latency=latency, ended_by=event
            )
        case ErrorReceived(call=call, raw_code=code, description=description, latency=latency):
            return CallOutcome(
                call.message_id, error_code=code, error=description, latency=latency, ended_by=event
            )
        case AnswerInvalid(call=call, code=code, description=description, latency=latency):
            return CallOutcome(
                call.message_id,
                error_code=code.value,
                error=f"invalid answer: {description}",
                latency=latency,
                ended_by=event,
            )
        case CallTimedOut(call=call):
            return CallOutcome(
                call.message_id,
                timed_out=True,
                error=f"no answer within {call.timeout:g} s",
                ended_by=event,
            )
        case CallAborted(call=call, reason=reason, was_sent=was_sent):
            return CallOutcome(
                call.message_id, aborted=True, sent=was_sent, error=reason, ended_by=event
            )
    assert_never(event)


def describe_close(
    rcvd: Close | None,
    sent: Close | None,
    max_frame_size: int | None,
    *,
    peer: str = "the peer",
    us: str = "us",
) -> str:
    """A readable reason for a closed connection."""
    if sent is not None and sent.code == CloseCode.MESSAGE_TOO_BIG:
        if max_frame_size is None:
            return "closed with 1009: a frame was too big"
        return f"closed with 1009: a frame was bigger than {max_frame_size} bytes"
    if rcvd is not None:
        reason = f" ({rcvd.reason})" if rcvd.reason else ""
        return f"closed by {peer} with {rcvd.code}{reason}"
    if sent is not None:
        reason = f" ({sent.reason})" if sent.reason else ""
        return f"closed by {us} with {sent.code}{reason}"
    return "connection lost without a close frame"


class OcppLink:
    """One live OCPP-J connection: reads frames, answers the peer's calls, makes ours.

    Subclasses answer the peer's calls in :meth:`_answer_call` (at once or later, with
    :meth:`respond`), and may watch every Session event (:meth:`_observe`, called before
    the link acts on it) and every frame written (:meth:`_frame_out`). ``peer_name`` and
    ``own_name`` word the close description and error texts.
    """

    peer_name: ClassVar[str] = "the peer"
    own_name: ClassVar[str] = "us"

    def __init__(
        self,
        websocket: Connection,
        session: Session,
        *,
        name: str,
        max_frame_size: int | None = None,
    ) -> None:
        self.websocket = websocket
        self.session = session
        self.name = name
        """How log lines name this connection (e.g. ``station CP-1``)."""
        self._max_frame_size = max_frame_size
        self._loop = asyncio.get_running_loop()
        self._waiting: dict[str, asyncio.Future[CallOutcome]] = {}
        self._late_handlers: OrderedDict[str, LateHandler] = OrderedDict()
        self._timer: asyncio.TimerHandle | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._writing = asyncio.Lock()
        self._processing = False
        self._flush_scheduled = False
        self.closed = False
        self.close_reason: str | None = None
        self._closing_reason: str | None = None

    @property
    def remote_address(self) -> str | None:
        address = self.websocket.remote_address
        if isinstance(address, tuple) and len(address) >= 2:
            return f"{address[0]}:{address[1]}"
        return None if address is None else str(address)

    # --- what a subclass supplies ------------------------------------------------------

    def _answer_call(self, event: CallReceived) -> None:
        """Answer a call of the peer's with :meth:`respond` (now or later).

        An exception answers it with an InternalError.
        """
        raise NotImplementedError(f"{type(self).__name__} takes no calls")

    def _observe(self, event: Event) -> None:
        """See an event of the Session before the link acts on it (trace, log)."""

    def _frame_out(self, frame: OutgoingFrame) -> None:
        """See a frame as it is taken to be written."""

    def _receive(self, message: str | bytes, now: float) -> list[Event]:
        """Take one frame of the peer's; the Session's events to act on."""
        return self.session.receive(message, now)

    def _outgoing(self) -> list[OutgoingFrame]:
        """The frames to write now, in order."""
        return self.session.data_to_send()

    def _next_deadline(self) -> float | None:
        """When :meth:`_poll_timeouts` has something to do next."""
        return self.session.next_deadline()

    def _poll_timeouts(self, now: float) -> list[Event]:
        return self.session.poll_timeouts(now)

    def _read_gate(self) -> Awaitable[object] | None:
        """Something to await before the next frame is read (then asked again), or None to
        read on. The peer's frames wait in the socket meanwhile: this slows the peer."""
        return None

    # --- the reader ---------------------------------------------------------------------

    async def run(self) -> str:
        """Read until the connection ends; returns why it ended."""
        reason = "connection lost"
        turn_started = self._loop.time()
        try:
            while True:
                gate = self._read_gate()
                while gate is not None:
                    await gate
                    gate = self._read_gate()
                try:
                    message = await self.websocket.recv()
                except ConnectionClosed as exc:
                    reason = describe_close(
                        exc.rcvd,
                        exc.sent,
                        self._max_frame_size,
                        peer=self.peer_name,
                        us=self.own_name,
                    )
                    break
                now = self._loop.time()
                logger.debug("%s < %s", self.name, message)
                answered = self._process(self._receive(message, now))
                await self._flush()
                self._reschedule()
                if answered:
                    # Let whoever awaited that answer act on it before the next frame (a
                    # call of the peer's right behind the answer may depend on it).
                    await asyncio.sleep(0)
                    turn_started = self._loop.time()
                elif now - turn_started >= FAIR_SHARE:
                    # recv() and send() do not yield while frames are queued and the socket
                    # takes the answers: a flooding peer would hold the loop for whole
                    # socket buffers of frames, and every other connection would wait.
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
        self.cancel_tasks()

    async def close(
        self, reason: str, code: int = CloseCode.NORMAL_CLOSURE, *, tell_peer: bool = True
    ) -> None:
        """Close the connection (replaced by a newer one, going offline, stopping...).

        ``tell_peer`` puts ``reason`` in the close frame.
        """
        self._closing_reason = reason
        # Calls waiting on this connection end now: on a half-open link the close handshake
        # only ends when it times out, and nothing will answer them on a closing connection.
        if not self.closed:
            self._process(self.session.close(reason))
        await self.websocket.close(code, reason[:120] if tell_peer else "")

    # --- the tasks of the connection ----------------------------------------------------

    def spawn(
        self, coroutine: Coroutine[Any, Any, Any], name: str | None = None
    ) -> asyncio.Task[Any]:
        """Run a task that belongs to this connection (kept referenced until done, and
        cancelled when the connection ends)."""
        task = self._loop.create_task(coroutine, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        if self.closed:
            task.cancel()
        return task

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.error("%s: background task failed", self.name, exc_info=task.exception())

    def cancel_tasks(self) -> None:
        for task in tuple(self._tasks):
            task.cancel()

    async def end_tasks(self) -> None:
        """Cancel the connection's tasks and wait until they have ended."""
        tasks = tuple(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    # --- our calls ----------------------------------------------------------------------

    async def call(
        self,
        request: OcppModel,
        *,
        call_timeout: float | None = None,
        on_late: LateHandler | None = None,
    ) -> CallOutcome:
        """Send a CALL (queued behind any outstanding one) and wait for how it ends.

        ``on_late`` gets the answer if it comes after the timeout (or after the caller
        stopped waiting).
        """
        future = self._start_call(request, call_timeout, on_late)
        try:
            if not future.done():  # done at once: never made, the connection had ended
                await self._flush()
            return await future
        finally:
            if not future.done():
                # The caller stopped waiting: an answer goes to ``on_late``.
                future.cancel()

    def start_call(
        self,
        request: OcppModel,
        *,
        call_timeout: float | None = None,
        on_late: LateHandler | None = None,
    ) -> asyncio.Future[CallOutcome]:
        """Send a CALL without waiting: the future tells how it ends."""
        future = self._start_call(request, call_timeout, on_late)
        self._flush_soon()
        return future

    def _start_call(
        self, request: OcppModel, call_timeout: float | None, on_late: LateHandler | None
    ) -> asyncio.Future[CallOutcome]:
        future: asyncio.Future[CallOutcome] = self._loop.create_future()
        if self.closed or self._closing_reason is not None:
            future.set_result(
                CallOutcome(
                    None,
                    aborted=True,
                    sent=False,
                    error=self.close_reason or self._closing_reason or "not connected",
                )
            )
            return future
        outgoing = self.session.call(request, self._loop.time(), call_timeout)
        message_id = outgoing.message_id
        self._waiting[message_id] = future
        future.add_done_callback(lambda done: self._stop_waiting(message_id, done))
        if on_late is not None:
            self._late_handlers[message_id] = on_late
            while len(self._late_handlers) > _LATE_HANDLERS_KEPT:
                self._late_handlers.popitem(last=False)
        self._reschedule()
        return future

    def _stop_waiting(self, message_id: str, future: asyncio.Future[CallOutcome]) -> None:
        if self._waiting.get(message_id) is future:
            del self._waiting[message_id]

    def _settle(self, call: OutgoingCall, outcome: CallOutcome, text: str) -> bool:
        """An answer in time: to whoever waits, else (they stopped waiting) as a late one.

        Says whether someone waiting got it.
        """
        late_handler = self._late_handlers.pop(call.message_id, None)
        future = self._waiting.pop(call.message_id, None)
        if future is not None and not future.done():
            future.set_result(outcome)
            return True
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
        return False

    def _resolve(self, message_id: str, outcome: CallOutcome) -> None:
        future = self._waiting.pop(message_id, None)
        if future is not None and not future.done():
            future.set_result(outcome)

    # --- our answers --------------------------------------------------------------------

    def respond(self, message_id: str, confirmation: OcppModel) -> None:
        """Answer a call of the peer's."""
        self.session.respond(message_id, confirmation)
        self._flush_soon()

    def respond_error(self, message_id: str, code: ErrorCode, description: str = "") -> None:
        """Answer a call of the peer's with a CALLERROR."""
        self.session.respond_error(message_id, code, description)
        self._flush_soon()

    def _take_call(self, event: CallReceived) -> None:
        try:
            self._answer_call(event)
        except Exception:
            logger.exception("%s: handling %s %s failed", self.name, event.action, event.message_id)
            if event.message_id in self.session.awaiting_our_answer:
                self.respond_error(
                    event.message_id,
                    ErrorCode.INTERNAL_ERROR,
                    f"{self.own_name} failed handling {event.action}",
                )

    # --- timers -------------------------------------------------------------------------

    def _reschedule(self) -> None:
        deadline = self._next_deadline()
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
        self._process(self._poll_timeouts(self._loop.time()))
        # A timeout may have released the next queued call: write it.
        self._flush_soon()
        self._reschedule()

    # --- frames out ---------------------------------------------------------------------

    def _flush_soon(self) -> None:
        """Write what the Session has to send, from a task of the connection.

        Not while events are processed: whoever processes them flushes afterwards (the
        reader awaits it), and a task per answer would only find nothing to write.
        """
        if self._processing or self._flush_scheduled or self.closed:
            return
        self._flush_scheduled = True
        self.spawn(self._scheduled_flush())

    async def _scheduled_flush(self) -> None:
        self._flush_scheduled = False
        await self._flush()

    async def _flush(self) -> None:
        # One writer at a time, and each takes the Session's frames only once it writes:
        # frames leave in the order the Session produced them.
        async with self._writing:
            frames = self._outgoing()
            for frame in frames:
                try:
                    self._frame_out(frame)
                except Exception:
                    logger.exception("%s: failed on an outgoing frame", self.name)
            for frame in frames:
                logger.debug("%s > %s", self.name, frame.text)
                try:
                    await self.websocket.send(frame.text)
                except ConnectionClosed:
                    # The reader sees the close too and aborts what is waiting.
                    return

    # --- events -------------------------------------------------------------------------

    def _process(self, events: list[Event]) -> bool:
        """Act on the Session's events; says whether one resolved a call someone awaits."""
        answered = False
        # Restored, not cleared, should processing ever nest.
        was_processing, self._processing = self._processing, True
        try:
            for event in events:
                try:
                    self._observe(event)
                except Exception:
                    logger.exception("%s: failed observing %s", self.name, type(event).__name__)
                try:
                    answered = self._act(event) or answered
                except Exception:
                    logger.exception("%s: failed on %s", self.name, type(event).__name__)
        finally:
            self._processing = was_processing
        return answered

    def _act(self, event: Event) -> bool:
        match event:
            case CallReceived():
                self._take_call(event)
            case ResultReceived() | ErrorReceived() | AnswerInvalid():
                return self._settle(event.call, outcome_of(event), event.text)
            case CallTimedOut() | CallAborted():
                self._resolve(event.call.message_id, outcome_of(event))
            case LateAnswer():
                handler = self._late_handlers.pop(event.call.message_id, None)
                if handler is not None:
                    handler(event)
        # A refused call, an answer to no call of ours, a dropped frame: only observed.
        return False
