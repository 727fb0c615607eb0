"""A proxied station's connection: the station's link, its upstream link, and the relay
between them.

The station's side is a :class:`~console.central.station.StationConnection` whose frames
go through a :class:`~console.central.proxy.relay.Relay` instead of straight into the
Session: the station's calls go upstream unchanged (and are shown to the console's
responder only to keep the tree, the statuses and the reservations current; its answer is
thrown away), the upstream's frames come back unchanged, and the console's own calls
(reserve, cancel, the check) take their turn with the upstream's.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError
from websockets.asyncio.client import ClientConnection
from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from console.central.events import TraceLog
from console.central.model import TraceDirection, UpstreamState
from console.central.proxy.relay import Relay, Route, peek_frame
from console.central.proxy.watch import UpstreamCallObserver, UpstreamCallWatch
from console.central.station import CallHandler, StationConnection, TraceLine
from console.link import LateHandler, describe_close
from console.ocpp.base import OcppModel
from console.ocpp.features import Role
from console.ocpp.frames import MessageType
from console.ocpp.session import CallReceived, Event, OutgoingFrame, Session
from console.ocpp.versions import OcppVersion

__all__ = ["ProxiedStationConnection"]

logger = logging.getLogger(__name__)


def _now() -> datetime:
    return datetime.now(UTC)


class ProxiedStationConnection(StationConnection):
    """One station carried on to the upstream CSMS, with the console in between."""

    proxied = True

    def __init__(
        self,
        station_id: str,
        websocket: ServerConnection,
        upstream: ClientConnection,
        *,
        upstream_url: str,
        trace: TraceLog,
        call_handler: CallHandler,
        call_timeout: float,
        max_frame_size: int,
        security_profile: int,
        version: OcppVersion = OcppVersion.V16,
        upstream_observer: UpstreamCallObserver | None = None,
        upstream_changed: Callable[[str, UpstreamState, int | None], None] | None = None,
    ) -> None:
        self.relay = Relay(call_timeout=call_timeout)
        session = Session(
            Role.CENTRAL_SYSTEM,
            call_timeout=call_timeout,
            version=version,
            id_factory=self.relay.new_id,
        )
        self.relay.attach(session)
        super().__init__(
            station_id,
            websocket,
            trace=trace,
            call_handler=call_handler,
            call_timeout=call_timeout,
            max_frame_size=max_frame_size,
            security_profile=security_profile,
            version=version,
            session=session,
        )
        self.upstream = upstream
        self.upstream_url = upstream_url
        self.ended_by: str | None = None
        """Which side ended the proxied link: "the station", "the CSMS" or "the console"."""
        self._upstream_writing = asyncio.Lock()
        self._upstream_changed = upstream_changed
        self._watch = (
            None
            if upstream_observer is None
            else UpstreamCallWatch(station_id, session.table, upstream_observer)
        )

    # --- the station's side -------------------------------------------------------------

    async def run(self) -> str:
        self.spawn(self._read_upstream(), name=f"upstream of {self.station_id}")
        reason = "connection lost"
        try:
            reason = await super().run()
        finally:
            if self._watch is not None:
                self._watch.link_ended(f"connection lost before the answer: {reason}")
            if self.ended_by is None:
                self.ended_by = "the station" if self._closing_reason is None else "the console"
                self._trace.event(
                    self.station_id,
                    f"{self.ended_by} ended the proxied link ({reason}): the console closes "
                    f"its link to the CSMS",
                    note="proxy",
                    ocpp_version=self.version,
                )
            await self.upstream.close(1000, f"{self.ended_by} ended the link"[:120])
        return reason

    def _receive(self, message: str | bytes, now: float) -> list[Event]:
        text = message if isinstance(message, str) else message.decode("utf-8", "replace")
        got = self.relay.from_station(text, now)
        if got.forwarded:
            frame = got.frame or peek_frame(text)
            request = (
                self._observe_call(text, frame) if frame.message_type is MessageType.CALL else None
            )
            if self._watch is not None and frame.message_type is not MessageType.CALL:
                self._watch.answered(text, frame, _now())
            self._record_as_is(
                TraceLine(
                    text,
                    None if frame.message_type is None else int(frame.message_type),
                    frame.message_id,
                    frame.action or got.answered_action,
                    direction=TraceDirection.IN,
                    note=Route.TO_UPSTREAM.value,
                    message=request,
                )
            )
        return got.events

    def _observe_call(self, text: str, frame: Any) -> OcppModel | None:
        """Show the station's call to the console's responder (for its side effects on
        the tree, the statuses and the book); its answer is the CSMS's, not ours."""
        feature = self.session.table.features.get(frame.action or "")
        if feature is None or not isinstance(frame.payload, dict):
            return None
        try:
            request = feature.request.from_payload(frame.payload)
        except ValidationError:
            return None
        try:
            self._handle_call(self, CallReceived(frame.message_id, frame.action, request, text))
        except Exception:
            logger.exception("station %s: observing %s failed", self.station_id, frame.action)
        return request

    def _outgoing(self) -> list[OutgoingFrame]:
        return self.relay.to_station()

    def _next_deadline(self) -> float | None:
        return self.relay.next_deadline()

    def _poll_timeouts(self, now: float) -> list[Event]:
        events, upstream_timeouts = self.relay.poll(now)
        for timed_out in upstream_timeouts:
            if self._watch is not None:
                self._watch.timed_out(timed_out.message_id, timed_out.timeout)
            self._trace.event(
                self.station_id,
                f"the station did not answer the CSMS's {timed_out.action} within "
                f"{timed_out.timeout:g} s: the console's calls go on (a late answer still "
                "goes to the CSMS)",
                note="proxy",
                ocpp_version=self.version,
            )
        return events

    def _start_call(
        self, request: OcppModel, call_timeout: float | None, on_late: LateHandler | None
    ) -> asyncio.Future[Any]:
        future = super()._start_call(request, call_timeout, on_late)
        if not future.done():
            # Held in the Session: sent now only if nobody's call is outstanding.
            self.relay.call_queued(self._loop.time())
            self._reschedule()
        return future

    def _frame_out(self, frame: OutgoingFrame) -> None:
        if frame.note is None:
            super()._frame_out(frame)
            return
        peeked = peek_frame(frame.text)
        request = None
        if self._watch is not None and peeked.message_type is MessageType.CALL:
            request = self._watch.forwarded(peeked, _now())
        self._record_as_is(
            TraceLine(
                frame.text,
                None if peeked.message_type is None else int(peeked.message_type),
                peeked.message_id,
                frame.action,
                direction=TraceDirection.OUT,
                note=frame.note,
                message=request,
            )
        )

    def _record(self, line: TraceLine) -> None:
        # Every frame the Session makes or takes is the console's own business with the
        # station: its injected calls, and the station's answers to them.
        marker = {
            TraceDirection.OUT: Route.INJECTED.value,
            TraceDirection.IN: Route.TO_CONSOLE.value,
        }.get(line.direction)
        if marker is not None:
            line = replace(line, note=marker if line.note is None else f"{marker}; {line.note}")
        super()._record(line)

    def _record_as_is(self, line: TraceLine) -> None:
        super()._record(line)

    async def _flush(self) -> None:
        await super()._flush()
        self._reschedule()
        await self._flush_upstream()

    # --- the upstream's side ------------------------------------------------------------

    async def _flush_upstream(self) -> None:
        async with self._upstream_writing:
            for text in self.relay.to_upstream():
                try:
                    await self.upstream.send(text)
                except ConnectionClosed:
                    return  # the upstream reader sees it and ends the station's link

    async def _read_upstream(self) -> None:
        while True:
            try:
                message = await self.upstream.recv()
            except ConnectionClosed as exc:
                reason = describe_close(exc.rcvd, exc.sent, None, peer="the CSMS", us="the console")
                break
            text = message if isinstance(message, str) else message.decode("utf-8", "replace")
            logger.debug("station %s: CSMS > %s", self.station_id, text)
            self.relay.from_upstream(text, self._loop.time())
            await self._flush()
        if self.closed or self.ended_by is not None:
            return
        self.ended_by = "the CSMS"
        if self._upstream_changed is not None:
            self._upstream_changed(self.station_id, UpstreamState.GONE, None)
        self._trace.event(
            self.station_id,
            f"the CSMS ended the proxied link ({reason}): the console closes the station's "
            "connection (it reconnects by itself)",
            note="proxy",
            ocpp_version=self.version,
        )
        logger.warning("station %s: upstream link ended: %s", self.station_id, reason)
        # 1012 (service restart): the station comes back when the CSMS does.
        await self.close(f"the CSMS ended the link: {reason}", 1012)
