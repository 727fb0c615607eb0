"""What the check sees of its station: the evidence observer.

:class:`EvidenceObserver` listens to the Central System's change feed while a check runs and
collects, for one station, every trace line (the evidence of each step), every
StatusNotification (the timeline, and what the steps wait for), the spans of the
reservations the check made, and whether the station went away. Waiting for something the
station does is waiting on this observer (woken by each change), never polling.

Reading what a frame carries (:func:`_payload`, and :func:`call_field` for the steps) is done
here and nowhere else in the check, so the way frames reach listeners can change in one place.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from console.central.check.model import ReservationSpan, StatusPoint
from console.central.model import (
    ChangeEvent,
    ReservationChanged,
    ReservationRecord,
    ReservationState,
    StationChanged,
    TraceAppended,
    TraceDirection,
    TraceEntry,
)
from console.ocpp.frames import MessageType

if TYPE_CHECKING:
    from console.central.server import CentralSystem

__all__ = ["EvidenceObserver", "StationLostError", "call_field"]

T = TypeVar("T")

FrameListener = Callable[[TraceEntry, tuple[StatusPoint, ...]], None]
"""Told of each frame of the station (and the status points it carried, if any)."""
SpansListener = Callable[[tuple[ReservationSpan, ...]], None]
"""Told of the spans of the check's reservations each time one starts or ends."""


class StationLostError(Exception):
    """The station disconnected (the reason is the message)."""


def _now() -> datetime:
    return datetime.now(UTC)


def _payload(
    entry: TraceEntry, direction: TraceDirection = TraceDirection.IN
) -> dict[str, Any] | None:
    """The payload of a CALL in ``direction`` (None if it is not one or cannot be read).

    A valid call carries its request model; one the session refused carries none, and
    its payload is read from the frame as it came (a refused call still shows what the
    station sent).
    """
    if entry.direction is not direction or entry.message_type != MessageType.CALL:
        return None
    if entry.message is not None:
        return entry.message.to_payload()
    try:
        frame = json.loads(entry.text)
    except ValueError:
        return None
    if isinstance(frame, list) and len(frame) >= 4 and isinstance(frame[3], dict):
        return frame[3]
    return None


def call_field(entry: TraceEntry, name: str) -> object:
    """Field ``name`` (wire spelling) of the station's CALL ``entry`` (None if absent)."""
    return (_payload(entry) or {}).get(name)


def _status_points(entry: TraceEntry) -> tuple[StatusPoint, ...]:
    """The connector statuses a station's call reports: a StatusNotification (1.6 ``status``;
    2.0.1 ``connectorStatus`` with its ``evseId``), or a 2.0.1 NotifyEvent's
    ``Connector.AvailabilityState`` (H01.FR.20 allows either)."""
    payload = _payload(entry)
    if payload is None:
        return ()
    if entry.action == "StatusNotification":
        connector_id = payload.get("connectorId")
        status = payload.get("status", payload.get("connectorStatus"))
        evse_id = payload.get("evseId")
        if isinstance(connector_id, int) and isinstance(status, str):
            evse = evse_id if isinstance(evse_id, int) else None
            return (StatusPoint(entry.at, connector_id, status, evse),)
        return ()
    if entry.action != "NotifyEvent":
        return ()
    points: list[StatusPoint] = []
    for datum in payload.get("eventData") or ():
        if not isinstance(datum, dict):
            continue
        component, variable = datum.get("component") or {}, datum.get("variable") or {}
        where = component.get("evse") or {}
        evse_id, connector_id = where.get("id"), where.get("connectorId")
        value = datum.get("actualValue")
        if (
            component.get("name") == "Connector"
            and variable.get("name") == "AvailabilityState"
            and isinstance(evse_id, int)
            and isinstance(connector_id, int)
            and isinstance(value, str)
        ):
            points.append(StatusPoint(entry.at, connector_id, value, evse_id))
    return tuple(points)


class EvidenceObserver:
    """Collects what one station does while a check runs, and lets the steps wait for it.

    ``listen(system)`` subscribes to the Central System's changes until the returned
    function is called. Each frame of the station is appended to :attr:`entries` (a
    StatusNotification also to :attr:`statuses`) and reported to ``on_frame``; the
    reservations named by :meth:`track` get spans, reported to ``on_spans``.
    """

    def __init__(self, station_id: str, on_frame: FrameListener, on_spans: SpansListener) -> None:
        self._station_id = station_id
        self._on_frame = on_frame
        self._on_spans = on_spans
        self._entries: list[TraceEntry] = []
        self._statuses: list[StatusPoint] = []
        self._lost: str | None = None
        self._waiters: list[asyncio.Future[None]] = []
        self._ours: set[int] = set()
        self._spans: list[ReservationSpan] = []
        self._span_index: dict[tuple[int, datetime], int] = {}

    # --- what it collected ----------------------------------------------------------------

    @property
    def entries(self) -> Sequence[TraceEntry]:
        """Every trace line of the station since the check began, in order."""
        return self._entries

    @property
    def statuses(self) -> Sequence[StatusPoint]:
        """Every StatusNotification the station sent since the check began, in order."""
        return self._statuses

    @property
    def lost(self) -> str | None:
        """Why the station is gone (None while it is connected)."""
        return self._lost

    # --- listening ------------------------------------------------------------------------

    def listen(self, system: CentralSystem) -> Callable[[], None]:
        """Follow ``system``'s changes; the returned function stops it and ends every wait."""
        unsubscribe = system.subscribe(self.on_change)

        def stop() -> None:
            unsubscribe()
            for waiter in self._waiters:
                if not waiter.done():
                    waiter.cancel()

        return stop

    def on_change(self, event: ChangeEvent) -> None:
        if isinstance(event, TraceAppended):
            entry = event.entry
            if entry.station_id != self._station_id:
                return
            self._entries.append(entry)
            points = _status_points(entry)
            self._statuses.extend(points)
            self._on_frame(entry, points)
            self.wake()
        elif isinstance(event, StationChanged):
            station = event.station
            if station.station_id == self._station_id and not station.connected:
                if self._lost is None:
                    self._lost = f"station disconnected ({station.note or 'connection lost'})"
                self.wake()
            elif station.station_id == self._station_id:
                self.wake()
        elif isinstance(event, ReservationChanged):
            self._on_reservation(event.reservation)

    # --- the check's reservations ---------------------------------------------------------

    def track(self, reservation_id: int) -> None:
        """``reservation_id`` is one the check sent: its spans are drawn."""
        self._ours.add(reservation_id)

    def _on_reservation(self, record: ReservationRecord) -> None:
        if record.station_id != self._station_id or record.reservation_id not in self._ours:
            return
        key = (record.reservation_id, record.created_at)
        index = self._span_index.get(key)
        if record.state is ReservationState.ACCEPTED and index is None:
            self._span_index[key] = len(self._spans)
            self._spans.append(
                ReservationSpan(
                    record.reservation_id,
                    record.connector_id,
                    record.id_tag,
                    record.answered_at or record.updated_at or _now(),
                    None,
                    expiry=record.expiry_date,
                )
            )
        elif index is not None and self._spans[index].end is None and not record.active:
            replaced = record.error is not None and "replaced" in record.error
            self._spans[index] = dataclasses.replace(
                self._spans[index],
                end=record.updated_at or _now(),
                ended_by="replaced" if replaced else record.state.value,
            )
        else:
            return
        self._on_spans(tuple(self._spans))

    def end_span(self, reservation_id: int, at: datetime, ended_by: str) -> None:
        """The latest span of ``reservation_id`` ended (overrides what the book thought)."""
        found = [index for (rid, _), index in self._span_index.items() if rid == reservation_id]
        if not found:
            return
        index = max(found)
        span = self._spans[index]
        if span.end is not None and span.ended_by == ended_by:
            return  # the book saw the same end already
        self._spans[index] = dataclasses.replace(span, end=at, ended_by=ended_by)
        self._on_spans(tuple(self._spans))

    # --- waiting --------------------------------------------------------------------------

    def wake(self) -> None:
        """Let every wait look again (something changed, or the technician skipped)."""
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    async def wait_for(
        self,
        found: Callable[[], T | None],
        seconds: float,
        *,
        while_lost: bool = False,
    ) -> T | None:
        """``found()``'s first non-None value, re-evaluated on every change, or None after
        ``seconds``. Raises :class:`StationLostError` if the station goes away."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while True:
            value = found()
            if value is not None:
                return value
            if self._lost is not None and not while_lost:
                raise StationLostError(self._lost)
            remaining = deadline - loop.time()
            if remaining <= 0:
                return None
            waiter: asyncio.Future[None] = loop.create_future()
            self._waiters.append(waiter)
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for swallows a cancel that
            # comes as the waiter is woken, and the technician's cancel would be lost.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(remaining):
                    await waiter

    # --- what to look for -----------------------------------------------------------------

    def status_since(
        self, since: int, connector_id: int, wanted: Iterable[str]
    ) -> Callable[[], tuple[int, StatusPoint] | None]:
        """The first of ``wanted`` statuses of ``connector_id`` from status ``since`` on,
        with its position in :attr:`statuses`."""
        statuses = {str(s) for s in wanted}

        def found() -> tuple[int, StatusPoint] | None:
            for index in range(since, len(self._statuses)):
                point = self._statuses[index]
                if point.connector_id == connector_id and point.status in statuses:
                    return index, point
            return None

        return found

    def evse_status_since(
        self, since: int, evse_id: int, connectors: Iterable[int], wanted: Iterable[str]
    ) -> Callable[[], tuple[int, StatusPoint] | None]:
        """2.0.1: once every connector of ``evse_id`` reported one of ``wanted`` from status
        ``since`` on, the last of those reports with its position in :attr:`statuses`."""
        statuses = {str(s) for s in wanted}
        expected = set(connectors)

        def found() -> tuple[int, StatusPoint] | None:
            seen: set[int] = set()
            for index in range(since, len(self._statuses)):
                point = self._statuses[index]
                if point.evse_id == evse_id and point.status in statuses:
                    seen.add(point.connector_id)
                    if expected <= seen:
                        return index, point
            return None

        return found

    def incoming_since(self, since: int, action: str) -> list[TraceEntry]:
        """The station's calls of ``action`` since entry ``since``."""
        return [
            e
            for e in self._entries[since:]
            if e.direction is TraceDirection.IN
            and e.message_type == MessageType.CALL
            and e.action == action
        ]

    def start_with(self, reservation_id: int, since: int) -> TraceEntry | None:
        """The station's first StartTransaction (2.0.1: TransactionEvent) since ``since``
        carrying ``reservation_id``."""
        for entry in self._entries[since:]:
            payload = _payload(entry)
            if (
                payload is not None
                and entry.action in ("StartTransaction", "TransactionEvent")
                and payload.get("reservationId") == reservation_id
            ):
                return entry
        return None

    def incoming_call(
        self, since: int, actions: Iterable[str], id_tag_matches: Callable[[object], bool]
    ) -> TraceEntry | None:
        """The station's first call of ``actions`` since ``since`` whose idTag matches."""
        wanted = frozenset(actions)
        for entry in self._entries[since:]:
            payload = _payload(entry)
            if (
                payload is not None
                and entry.action in wanted
                and id_tag_matches(payload.get("idTag"))
            ):
                return entry
        return None

    def cancel_answered(self, since: int, reservation_id: int) -> Callable[[], str | None]:
        """The station's answer (even a late one) to the CancelReservation of
        ``reservation_id`` sent after entry ``since``: Accepted or Rejected, either way it
        no longer holds the reservation."""

        def found() -> str | None:
            message_id = None
            for entry in self._entries[since:]:
                if message_id is None:
                    if entry.action != "CancelReservation":
                        continue
                    sent = _payload(entry, TraceDirection.OUT)
                    if sent is not None and sent.get("reservationId") == reservation_id:
                        message_id = entry.message_id
                elif (
                    entry.direction is TraceDirection.IN
                    and entry.message_id == message_id
                    and entry.message_type == MessageType.CALL_RESULT
                ):
                    return entry.text
            return None

        return found
