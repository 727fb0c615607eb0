"""An in-memory stand-in for the SQLite store (for tests that are not about storage)."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Sequence
from datetime import datetime

from console.central.check.model import CheckResult
from console.central.model import (
    ConnectorSnapshot,
    ReservationRecord,
    StationSnapshot,
    TraceEntry,
)


class MemoryStore:
    """Keeps what the Central System saves; ``saved_reservations`` keeps every version."""

    def __init__(self) -> None:
        self.stations: dict[str, StationSnapshot] = {}
        self.connectors: dict[tuple[str, int], ConnectorSnapshot] = {}
        self.reservations: dict[tuple[int, str, datetime], ReservationRecord] = {}
        self.saved_reservations: list[ReservationRecord] = []
        self.trace: list[TraceEntry] = []
        self.counter = 1
        self.checks: dict[int, CheckResult] = {}
        self.closed = False

    def load_stations(self) -> list[StationSnapshot]:
        return list(self.stations.values())

    def load_connectors(self) -> list[ConnectorSnapshot]:
        return list(self.connectors.values())

    def load_reservations(self) -> list[ReservationRecord]:
        return list(self.reservations.values())

    def load_trace(
        self,
        limit: int = 10_000,
        station_id: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> list[TraceEntry]:
        return self.trace[-limit:]

    def peek_reservation_id(self) -> int:
        return self.counter

    async def allocate_reservation_id(self) -> int:
        used = self.counter
        self.counter += 1
        return used

    async def note_reservation_id(self, used: int) -> None:
        self.counter = max(self.counter, used + 1)

    def save_station(self, station: StationSnapshot) -> None:
        self.stations[station.station_id] = station

    def save_connector(self, connector: ConnectorSnapshot) -> None:
        self.connectors[(connector.station_id, connector.connector_id)] = connector

    def save_reservation(self, record: ReservationRecord) -> asyncio.Future[None]:
        self.reservations[(record.reservation_id, record.station_id, record.created_at)] = record
        self.saved_reservations.append(record)
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        future.set_result(None)
        return future

    async def save_check(self, result: CheckResult) -> int:
        check_id = result.check_id
        if check_id is None:
            check_id = max(self.checks, default=0) + 1
            result = dataclasses.replace(result, check_id=check_id)
        self.checks[check_id] = result
        return check_id

    def load_checks(self) -> list[CheckResult]:
        return sorted(self.checks.values(), key=lambda r: (r.started_at, r.check_id or 0))

    def append_trace(self, entry: TraceEntry) -> None:
        self.trace.append(entry)

    def append_traces(self, entries: Sequence[TraceEntry]) -> asyncio.Future[None]:
        self.trace.extend(entries)
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        future.set_result(None)
        return future

    async def flush(self) -> None:
        return None

    def close(self) -> None:
        self.closed = True

    @property
    def error(self) -> str | None:
        return None
