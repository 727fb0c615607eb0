"""What the Central System needs of its store (``console.central.store.Store`` is one).

Spelled as a protocol so the server is written against the contract, and a test can hand
in a stand-in.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Protocol

from console.central.check.model import CheckResult
from console.central.model import (
    ConnectorSnapshot,
    ReservationRecord,
    StationSnapshot,
    TraceEntry,
)

__all__ = ["Persistence", "SnapshotSink", "WriteBehind"]


class SnapshotSink(Protocol):
    """Where the live model and the trace are written (no waiting for the disk)."""

    def save_station(self, station: StationSnapshot) -> None: ...

    def save_connector(self, connector: ConnectorSnapshot) -> None: ...

    def forget_connectors(self, station_id: str, *, of_evses: bool) -> None:
        """Drop the station's stored connectors: the 2.0.1 ones (``of_evses``) or the 1.6
        ones (without an EVSE)."""
        ...

    def append_trace(self, entry: TraceEntry) -> None: ...


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

    async def flush(self) -> None: ...

    def close(self) -> None: ...

    @property
    def error(self) -> str | None: ...


class WriteBehind:
    """Hands the store stations, connectors and trace lines in batches, a few times a second.

    Under load a station sends a frame every few milliseconds; writing each change the
    moment it happens would wake the store's writer thread that often, and each wake-up
    takes the interpreter lock from the event loop. Batched, the writer wakes ~10 times a
    second, and of a station or connector only the last state in a batch is written.
    Reservations are not batched: their commits are awaited (see ``save_reservation``).
    """

    def __init__(self, store: Persistence, interval: float = 0.1, limit: int = 2000) -> None:
        self._store = store
        self._interval = interval
        self._limit = limit
        self._stations: dict[str, StationSnapshot] = {}
        self._connectors: dict[tuple[str, int | None, int], ConnectorSnapshot] = {}
        self._trace: list[TraceEntry] = []
        self._timer: asyncio.TimerHandle | None = None

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
        if len(self._trace) >= self._limit:
            self.push()
        else:
            self._later()

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
        for entry in trace:
            self._store.append_trace(entry)
