"""What the Central System needs of its store (``console.central.store.Store`` is one).

Spelled as a protocol so the server is written against the contract, and a test can hand
in a stand-in.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Protocol

from console.central.model import (
    ConnectorSnapshot,
    ReservationRecord,
    StationSnapshot,
    TraceEntry,
)

__all__ = ["Persistence"]


class Persistence(Protocol):
    """Durable state: stations, connectors, reservation attempts, the id counter, trace."""

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

    def save_reservation(self, record: ReservationRecord) -> asyncio.Future[None]:
        """Resolves when the record is committed."""
        ...

    def append_trace(self, entry: TraceEntry) -> None: ...

    async def flush(self) -> None: ...

    def close(self) -> None: ...

    @property
    def error(self) -> str | None: ...
