"""What the Central System needs of its store (``console.central.store.Store`` is one).

Spelled as a protocol so the server is written against the contract, and a test can hand
in a stand-in.
"""

from __future__ import annotations

import asyncio
import functools
from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from console.central.check.model import CheckResult
from console.central.model import (
    ConnectorSnapshot,
    ReservationRecord,
    StationSnapshot,
    TraceEntry,
)

__all__ = ["Persistence", "SnapshotSink", "TraceSink", "WriteBehind"]


class SnapshotSink(Protocol):
    """Where the live model and the trace are written (no waiting for the disk)."""

    def save_station(self, station: StationSnapshot) -> None: ...

    def save_connector(self, connector: ConnectorSnapshot) -> None: ...

    def forget_connectors(self, station_id: str, *, of_evses: bool) -> None:
        """Drop the station's stored connectors: the 2.0.1 ones (``of_evses``) or the 1.6
        ones (without an EVSE)."""
        ...

    def append_trace(self, entry: TraceEntry) -> None: ...


class TraceSink(Protocol):
    """Where the trace goes, and whether a station's next frames may be taken yet."""

    def append_trace(self, entry: TraceEntry) -> None: ...

    def room_for(self, station_id: str) -> asyncio.Future[None] | None: ...


class Persistence(Protocol):
    """Durable state: stations, connectors, reservation attempts, the id counter, trace,
    reservation check runs."""

    def load_stations(self) -> list[StationSnapshot]: ...

    def load_connectors(self) -> list[ConnectorSnapshot]: ...

    def load_reservations(self) -> list[ReservationRecord]: ...

    def load_trace(
        self,
        limit: int = 10_000,
        station_id: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> list[TraceEntry]: ...

    def peek_reservation_id(self) -> int: ...

    async def allocate_reservation_id(self) -> int:
        """The next id, durable before it is returned."""
        ...

    async def note_reservation_id(self, used: int) -> None:
        """A caller typed ``used``: the counter moves past it."""
        ...

    def save_station(self, station: StationSnapshot) -> None: ...

    def save_connector(self, connector: ConnectorSnapshot) -> None: ...

    def forget_connectors(self, station_id: str, *, of_evses: bool) -> None: ...

    def save_reservation(self, record: ReservationRecord) -> asyncio.Future[None]:
        """Resolves when the record is committed."""
        ...

    async def save_check(self, result: CheckResult) -> int:
        """Store a reservation check run (a new row when ``check_id`` is None, else that
        row); returns its id once committed."""
        ...

    def load_checks(self) -> list[CheckResult]:
        """Every stored reservation check run, oldest first."""
        ...

    def append_trace(self, entry: TraceEntry) -> None: ...

    def append_traces(self, entries: Sequence[TraceEntry]) -> asyncio.Future[None]:
        """Queue trace entries (in order); resolves once they are committed or given up."""
        ...

    async def flush(self) -> None: ...

    def close(self) -> None: ...

    @property
    def error(self) -> str | None: ...


class WriteBehind:
    """Hands the store stations, connectors and trace lines in batches, a few times a second.

    Under load a station sends a frame every few milliseconds; writing each change the
    moment it happens would wake the store's writer thread that often, and each wake-up
    takes the interpreter lock from the event loop. Batched, the writer wakes ~10 times a
    second, the trace lines of a batch go to it as one write, and of a station or connector
    only the last state in a batch is written. Reservations are not batched: their commits
    are awaited (see ``save_reservation``).

    The trace lines not written yet are bounded: past ``backlog_max`` of them (a disk
    slower than the flood of frames), :meth:`room_for` holds back the stations that have
    more than their share waiting, so that the flooding station is slowed, not every
    station, and memory stays bounded.
    """

    def __init__(
        self,
        store: Persistence,
        interval: float = 0.1,
        limit: int = 2000,
        *,
        backlog_max: int = 20_000,
    ) -> None:
        self._store = store
        self._interval = interval
        self._limit = limit
        self._stations: dict[str, StationSnapshot] = {}
        self._connectors: dict[tuple[str, int | None, int], ConnectorSnapshot] = {}
        self._trace: list[TraceEntry] = []
        self._timer: asyncio.TimerHandle | None = None
        self._backlog_max = backlog_max
        self._backlog = 0
        """Trace lines taken and not written yet (here, or queued in the store)."""
        self._unwritten: dict[str, int] = {}
        """Of those, how many each station's."""
        self._written: asyncio.Future[None] | None = None
        """Resolved when the store has written (or given up) the next batch of trace lines."""

    def save_station(self, station: StationSnapshot) -> None:
        self._stations[station.station_id] = station
        self._later()

    def save_connector(self, connector: ConnectorSnapshot) -> None:
        self._connectors[connector.key] = connector
        self._later()

    def forget_connectors(self, station_id: str, *, of_evses: bool) -> None:
        # Saves queued before the forget would bring the rows back: drop them, and pass
        # the forget on now (saves queued after it follow it to the store).
        for key, connector in list(self._connectors.items()):
            if connector.station_id == station_id and (connector.evse_id is not None) is of_evses:
                del self._connectors[key]
        self._store.forget_connectors(station_id, of_evses=of_evses)

    def append_trace(self, entry: TraceEntry) -> None:
        self._trace.append(entry)
        self._backlog += 1
        unwritten = self._unwritten
        unwritten[entry.station_id] = unwritten.get(entry.station_id, 0) + 1
        if len(self._trace) >= self._limit:
            self.push()
        else:
            self._later()

    # --- the bound on unwritten trace lines ---------------------------------------------

    @property
    def backlog(self) -> int:
        """Trace lines taken and not written yet."""
        return self._backlog

    def room_for(self, station_id: str) -> asyncio.Future[None] | None:
        """None when ``station_id`` may go on; else a future to await before it does (then
        ask again): the backlog is past its bound and this station has more than its share
        of it waiting."""
        if self._backlog <= self._backlog_max:
            return None
        share = self._backlog_max // max(1, len(self._unwritten))
        if self._unwritten.get(station_id, 0) <= share:
            return None
        if self._written is None:
            self._written = asyncio.get_running_loop().create_future()
        # Shielded: one waiter cancelled (its connection closed) must not cancel the others.
        return asyncio.shield(self._written)

    def _trace_written(self, entries: list[TraceEntry], _: asyncio.Future[None]) -> None:
        self._backlog -= len(entries)
        unwritten = self._unwritten
        for station_id, count in Counter(entry.station_id for entry in entries).items():
            left = unwritten.get(station_id, 0) - count
            if left > 0:
                unwritten[station_id] = left
            else:
                unwritten.pop(station_id, None)
        written, self._written = self._written, None
        if written is not None and not written.done():
            written.set_result(None)

    # --- handing over -------------------------------------------------------------------

    def _later(self) -> None:
        if self._timer is None:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                self.push()
                return
            self._timer = loop.call_later(self._interval, self.push)

    def push(self) -> None:
        """Hand everything waiting to the store now."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        stations, self._stations = self._stations, {}
        connectors, self._connectors = self._connectors, {}
        trace, self._trace = self._trace, []
        for station in stations.values():
            self._store.save_station(station)
        for connector in connectors.values():
            self._store.save_connector(connector)
        if trace:
            written = self._store.append_traces(trace)
            if written.done():  # a store that writes at once, or no loop runs
                self._trace_written(trace, written)
            else:
                written.add_done_callback(functools.partial(self._trace_written, trace))
