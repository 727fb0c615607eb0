"""The change feed the UI subscribes to, and the trace every frame goes to."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Generic, TypeVar

from console.central.model import ChangeEvent, TraceAppended, TraceDirection, TraceEntry
from console.central.persistence import TraceSink
from console.ocpp.base import OcppModel
from console.ocpp.versions import OcppVersion

__all__ = ["ChangeFeed", "Listeners", "TraceLog"]

logger = logging.getLogger(__name__)

E = TypeVar("E")


class Listeners(Generic[E]):
    """Calls every subscribed listener, synchronously on the loop, with each event.

    A listener that raises is logged and otherwise ignored: a broken view must never
    break the server.
    """

    def __init__(self) -> None:
        self._listeners: list[Callable[[E], None]] = []

    def subscribe(self, listener: Callable[[E], None]) -> Callable[[], None]:
        self._listeners.append(listener)

        def unsubscribe() -> None:
            with contextlib.suppress(ValueError):
                self._listeners.remove(listener)

        return unsubscribe

    def emit(self, event: E) -> None:
        # A copy: a listener may unsubscribe (itself or others) while being called.
        for listener in tuple(self._listeners):
            try:
                listener(event)
            except Exception:
                logger.exception("listener %r failed on %s", listener, type(event).__name__)


class ChangeFeed(Listeners[ChangeEvent]):
    """The Central System's changes (stations, connectors, reservations, trace)."""


class TraceLog:
    """Numbers trace entries, keeps the recent ones in memory, stores and announces them."""

    def __init__(
        self,
        feed: ChangeFeed,
        store: TraceSink,
        *,
        memory: int = 10_000,
        loaded: list[TraceEntry] | None = None,
    ) -> None:
        self._feed = feed
        self._store = store
        self._recent: deque[TraceEntry] = deque(loaded or (), maxlen=memory)
        last_seq = max((entry.seq for entry in self._recent), default=0)
        self._seq = itertools.count(last_seq + 1)

    def record(
        self,
        station_id: str,
        direction: TraceDirection,
        text: str,
        *,
        message_type: int | None = None,
        message_id: str | None = None,
        action: str | None = None,
        latency: float | None = None,
        late: bool = False,
        error_code: str | None = None,
        note: str | None = None,
        message: OcppModel | None = None,
        ocpp_version: OcppVersion | None = None,
    ) -> TraceEntry:
        entry = TraceEntry(
            seq=next(self._seq),
            at=datetime.now(UTC),
            station_id=station_id,
            direction=direction,
            text=text,
            message_type=message_type,
            message_id=message_id,
            action=action,
            latency=latency,
            late=late,
            error_code=error_code,
            note=note,
            ocpp_version=ocpp_version,
            message=message,
        )
        self._recent.append(entry)
        self._store.append_trace(entry)
        self._feed.emit(TraceAppended(entry))
        return entry

    def event(
        self,
        station_id: str,
        text: str,
        *,
        note: str | None = None,
        ocpp_version: OcppVersion | None = None,
    ) -> TraceEntry:
        """A trace line that is not a frame (connection, refusal, drop, timeout)."""
        return self.record(
            station_id, TraceDirection.EVENT, text, note=note, ocpp_version=ocpp_version
        )

    def room_for(self, station_id: str) -> asyncio.Future[None] | None:
        """None when the station's frames may be read on; else what to await first (the
        trace lines not written yet are past their bound, and this station has more than
        its share of them)."""
        return self._store.room_for(station_id)

    def recent(self, limit: int = 10_000) -> list[TraceEntry]:
        if limit <= 0:
            return []
        if limit >= len(self._recent):
            return list(self._recent)
        return list(itertools.islice(self._recent, len(self._recent) - limit, None))
