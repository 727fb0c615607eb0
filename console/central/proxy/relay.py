"""Where each frame of a proxied station goes, and whose CALL the station gets next.

No I/O and no clock (time is an argument), like the Session it wraps. Three parties share
the station's link: the station, the upstream CSMS and the console. The rules kept here:

- frames are forwarded unchanged (the same text) both ways;
- the station hears one outstanding CALL at a time from "its Central System", which is
  now two callers: the upstream's CALL waits while the console's is outstanding and the
  console's waits while the upstream's is (until answered or timed out); when both wait
  they take turns;
- a station answer is routed by who has the outstanding call (then by id), never by id
  alone: the station's answers to the console's calls never go upstream;
- the console's message ids never repeat one the upstream used on this link;
- the station's own CALLs always go upstream at once, whatever the console waits for.
"""

from __future__ import annotations

import json
import os
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from enum import StrEnum

from console.ocpp.frames import MessageType
from console.ocpp.session import Event, OutgoingFrame, Session

__all__ = ["Relay", "Route", "StationInput", "UpstreamCallTimedOut", "peek_frame"]

_MEMORY = 4096


class Route(StrEnum):
    """How a frame crossed the console (the trace's note)."""

    TO_UPSTREAM = "station → CSMS (forwarded)"
    TO_STATION = "CSMS → station (forwarded)"
    INJECTED = "console → station (injected by the console)"
    TO_CONSOLE = "station → console (answer to the console's call, not forwarded)"


@dataclass(frozen=True, slots=True)
class PeekedFrame:
    """What routing needs of a frame: its type, id and action where they can be read."""

    message_type: MessageType | None
    message_id: str | None
    action: str | None
    payload: object = None


def peek_frame(text: str) -> PeekedFrame:
    """Read a frame's head without judging it (the peers judge what they receive)."""
    try:
        data = json.loads(text)
    except ValueError:
        return PeekedFrame(None, None, None)
    if not isinstance(data, list) or len(data) < 2:
        return PeekedFrame(None, None, None)
    try:
        kind: MessageType | None = MessageType(data[0])
    except (ValueError, TypeError):
        kind = None
    message_id = data[1] if isinstance(data[1], str) else None
    if kind is MessageType.CALL and len(data) >= 3 and isinstance(data[2], str):
        return PeekedFrame(kind, message_id, data[2], data[3] if len(data) > 3 else None)
    return PeekedFrame(kind, message_id, None, data[2] if len(data) > 2 else None)


@dataclass(slots=True)
class _UpstreamCall:
    text: str
    message_id: str | None
    action: str | None
    received_at: float
    sent_at: float | None = None


@dataclass(frozen=True, slots=True)
class UpstreamCallTimedOut:
    """The station did not answer the upstream's CALL in time: the console's calls go on
    (a late answer still goes upstream)."""

    message_id: str | None
    action: str | None
    timeout: float


@dataclass(slots=True)
class StationInput:
    """What one frame of the station's gave: the Session's events (answers to the
    console's calls) and whether it was forwarded upstream."""

    events: list[Event] = field(default_factory=list)
    forwarded: bool = False
    frame: PeekedFrame | None = None
    answered_action: str | None = None
    """The action of the upstream's CALL this answer of the station's answers (the trace
    pairs them; the frame itself does not say)."""


def _remember(memory: OrderedDict[str, object], key: str, value: object = None) -> None:
    memory[key] = value
    memory.move_to_end(key)
    while len(memory) > _MEMORY:
        memory.popitem(last=False)


class Relay:
    """The routing of one proxied station's link; the console's calls go through
    ``session`` (whose sending it holds and releases)."""

    def __init__(self, *, call_timeout: float) -> None:
        self.call_timeout = call_timeout
        """How long an upstream CALL may block the console's calls without an answer."""
        self._prefix = "c" + os.urandom(6).hex()
        self._counter = 0
        self._session: Session | None = None
        self._console_ids: OrderedDict[str, object] = OrderedDict()
        self._upstream_ids: OrderedDict[str, object] = OrderedDict()
        self._station_calls: OrderedDict[str, object] = OrderedDict()
        self._upstream_call: _UpstreamCall | None = None
        self._upstream_waiting: deque[_UpstreamCall] = deque()
        self._upstream_late: OrderedDict[str, object] = OrderedDict()
        self._last_turn_upstream = False
        self._to_station: list[OutgoingFrame] = []
        self._to_upstream: list[str] = []

    # --- set-up -------------------------------------------------------------------------

    def new_id(self) -> str:
        """A message id for the console's next call (the Session's id factory)."""
        while True:
            self._counter += 1
            candidate = f"{self._prefix}-{self._counter}"
            if candidate not in self._upstream_ids:
                _remember(self._console_ids, candidate)
                return candidate

    def attach(self, session: Session) -> None:
        """The Session of the console's own calls (built with :meth:`new_id`)."""
        session.hold_calls = True
        self._session = session

    @property
    def session(self) -> Session:
        if self._session is None:
            raise RuntimeError("no Session attached")
        return self._session

    # --- state --------------------------------------------------------------------------

    @property
    def upstream_outstanding(self) -> str | None:
        """The id of the upstream's CALL the station has and has not answered."""
        return None if self._upstream_call is None else self._upstream_call.message_id

    @property
    def upstream_waiting(self) -> int:
        """Upstream CALLs held while the console's call is outstanding."""
        return len(self._upstream_waiting)

    def is_console_id(self, message_id: str) -> bool:
        return message_id in self._console_ids

    def next_deadline(self) -> float | None:
        deadlines = [self.session.next_deadline()]
        call = self._upstream_call
        if call is not None and call.sent_at is not None:
            deadlines.append(call.sent_at + self.call_timeout)
        present = [d for d in deadlines if d is not None]
        return min(present) if present else None

    def to_station(self) -> list[OutgoingFrame]:
        """Frames to write to the station, in order; taking them empties the outbox."""
        self._drain_session()
        out, self._to_station = self._to_station, []
        return out

    def to_upstream(self) -> list[str]:
        """Texts to write upstream, in order; taking them empties the outbox."""
        out, self._to_upstream = self._to_upstream, []
        return out

    # --- frames in ----------------------------------------------------------------------

    def from_station(self, text: str, now: float) -> StationInput:
        """One frame of the station's."""
        frame = peek_frame(text)
        message_id = frame.message_id
        if frame.message_type is MessageType.CALL or message_id is None:
            # The station's calls are the CSMS's to answer; whatever cannot be read is
            # too (the proxy judges nothing it forwards).
            if frame.message_type is MessageType.CALL and message_id is not None:
                _remember(self._station_calls, message_id, (frame.action,))
            self._to_upstream.append(text)
            return StationInput(forwarded=True, frame=frame)
        session = self.session
        outstanding = session.outstanding
        if outstanding is not None and outstanding.message_id == message_id:
            events = session.receive(text, now)
            self._advance(now)
            return StationInput(events=events, frame=frame)
        upstream = self._upstream_call
        if upstream is not None and upstream.message_id == message_id:
            self._upstream_call = None
            self._to_upstream.append(text)
            self._advance(now)
            return StationInput(forwarded=True, frame=frame, answered_action=upstream.action)
        if message_id in self._upstream_late:
            action = self._upstream_late.pop(message_id)
            self._to_upstream.append(text)
            return StationInput(
                forwarded=True,
                frame=frame,
                answered_action=action if isinstance(action, str) else None,
            )
        if message_id in self._console_ids:
            # A late answer to one of ours (the Session knows it), never the upstream's.
            return StationInput(events=session.receive(text, now), frame=frame)
        # An answer to nothing known: the upstream may know what it answers.
        self._to_upstream.append(text)
        return StationInput(forwarded=True, frame=frame)

    def from_upstream(self, text: str, now: float) -> PeekedFrame:
        """One frame of the upstream's: its answers go to the station at once, its CALLs
        when it is the upstream's turn."""
        frame = peek_frame(text)
        if frame.message_type is MessageType.CALL:
            if frame.message_id is not None:
                _remember(self._upstream_ids, frame.message_id)
            self._upstream_waiting.append(
                _UpstreamCall(text, frame.message_id, frame.action, received_at=now)
            )
            self._advance(now)
            return frame
        action = None
        if frame.message_id is not None:
            asked = self._station_calls.pop(frame.message_id, None)
            if isinstance(asked, tuple):
                action = asked[0]
        self._forward_to_station(text, frame, action, Route.TO_STATION)
        return frame

    # --- the console's calls and time ---------------------------------------------------

    def call_queued(self, now: float) -> None:
        """The console queued a call on the Session: send it if it is its turn."""
        self._advance(now)

    def poll(self, now: float) -> tuple[list[Event], list[UpstreamCallTimedOut]]:
        """Time out the console's call or the upstream's (then the next caller's turn)."""
        events = self.session.poll_timeouts(now)
        timed_out: list[UpstreamCallTimedOut] = []
        call = self._upstream_call
        if (
            call is not None
            and call.sent_at is not None
            and now >= call.sent_at + self.call_timeout
        ):
            self._upstream_call = None
            if call.message_id is not None:
                _remember(self._upstream_late, call.message_id, call.action)
            timed_out.append(UpstreamCallTimedOut(call.message_id, call.action, self.call_timeout))
        self._advance(now)
        return events, timed_out

    def _advance(self, now: float) -> None:
        session = self.session
        if session.outstanding is not None or self._upstream_call is not None:
            return
        console_waits = session.queued > 0
        upstream_waits = bool(self._upstream_waiting)
        if console_waits and (not upstream_waits or self._last_turn_upstream):
            session.send_queued(now)
            self._last_turn_upstream = False
            self._drain_session()
        elif upstream_waits:
            call = self._upstream_waiting.popleft()
            call.sent_at = now
            self._upstream_call = call
            self._last_turn_upstream = True
            held = now - call.received_at
            note = Route.TO_STATION.value
            if held > 0:
                note += f"; held {held:.3f} s behind the console's call"
            frame = PeekedFrame(MessageType.CALL, call.message_id, call.action)
            self._forward_to_station(call.text, frame, call.action, note)

    def _forward_to_station(
        self,
        text: str,
        frame: PeekedFrame,
        action: str | None,
        note: str,
    ) -> None:
        # The console's own frames made so far leave first: the order is the order made.
        self._drain_session()
        self._to_station.append(
            OutgoingFrame(
                text,
                frame.message_type if frame.message_type is not None else MessageType.CALL,
                frame.message_id or "",
                action,
                note=note,
            )
        )

    def _drain_session(self) -> None:
        if self._session is None:
            return
        for frame in self._session.data_to_send():
            self._to_station.append(frame)
