"""A site as the data folder holds it: what the console stored, read without starting it.

``ocpp-console report`` makes the commissioning report in an office, or from a script, from
the database a session left behind (stations, connectors, reservations, the trace and the
reservation checks). :class:`StoredSite` offers the same read methods the report uses of a
running Central System, and says plainly when a folder is not the console's.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from pathlib import Path
from types import TracebackType

from console.central.check.model import CheckResult
from console.central.config import DATABASE_FILE_NAME, CentralSystemConfig
from console.central.model import (
    ConnectorSnapshot,
    ReservationRecord,
    StationSnapshot,
    TraceEntry,
)
from console.central.site_urls import lan_first, station_urls
from console.central.store import Store, StoreError

__all__ = ["StoredSite", "StoredSiteError"]

logger = logging.getLogger(__name__)

_KEEP_EVERY_TRACE_LINE = 2**62
"""The trace limit the store is opened with: reading a report must prune nothing."""


class StoredSiteError(Exception):
    """The data folder cannot be read as the console's (the message says why, for a human)."""


class StoredSite:
    """The stored data of one data folder, read-only in use (nothing is written to it).

    :meth:`open` it, read, then :meth:`close` it (or use it as a context manager).
    """

    def __init__(self, config: CentralSystemConfig, store: Store) -> None:
        self.config = config
        self._store = store
        self._stations = store.load_stations()
        self._connectors = store.load_connectors()

    @classmethod
    def open(cls, config: CentralSystemConfig) -> StoredSite:
        """Open the database of ``config``'s data folder; raises :class:`StoredSiteError`."""
        folder = config.resolved_data_dir()
        database = config.database_path()
        if not folder.is_dir():
            raise StoredSiteError(
                f"the data folder {folder} does not exist"
                if not folder.exists()
                else f"{folder} is not a folder"
            )
        if not database.is_file():
            raise StoredSiteError(
                f"no console database in {folder} (no {DATABASE_FILE_NAME}): "
                "is it the data folder of OCPP Console?"
            )
        try:
            store = Store.open(database, trace_limit=_KEEP_EVERY_TRACE_LINE)
        except (StoreError, OSError) as exc:
            raise StoredSiteError(str(exc)) from exc
        try:
            return cls(config, store)
        except Exception as exc:
            store.close()
            raise StoredSiteError(f"cannot read the database at {database}: {exc}") from exc

    @property
    def path(self) -> Path:
        return self._store.path

    def close(self) -> None:
        self._store.close()

    def __enter__(self) -> StoredSite:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # --- what the report reads (as of a running Central System) ----------------------------

    def stations(self) -> list[StationSnapshot]:
        """Every stored station (as not connected: nothing is, without the server)."""
        return list(self._stations)

    def connectors(self, station_id: str | None = None) -> list[ConnectorSnapshot]:
        return [c for c in self._connectors if station_id is None or c.station_id == station_id]

    def reservations(self) -> list[ReservationRecord]:
        return self._store.load_reservations()

    def checks(self) -> list[CheckResult]:
        """Every stored reservation check, oldest first."""
        return self._store.load_checks()

    async def stored_trace(
        self,
        limit: int = 10_000,
        station_id: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> list[TraceEntry]:
        """Trace lines from the database, oldest first (read in a worker thread)."""
        return await asyncio.to_thread(self._store.load_trace, limit, station_id, since, until)

    @property
    def security_profile(self) -> int:
        return self.config.security_profile

    def urls(self) -> list[str]:
        """``ws[s]://ADDRESS:PORT/`` as the settings would have the console listen."""
        return lan_first(station_urls(self.config))
