"""The store: one SQLite database file, opened, read at startup and written in the background.

Startup reads are synchronous (they run before the server listens). After that the event
loop never touches the disk: every write is handed to the :class:`Writer` thread. What must
survive a SIGKILL is awaited: :meth:`Store.save_reservation` returns a future that resolves
once the change is committed, :meth:`Store.allocate_reservation_id` returns only after the
counter is, and :meth:`Store.save_check` only after the check run is.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sqlite3
import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from console.central.check.codec import check_from_json
from console.central.check.model import CheckResult
from console.central.model import (
    ConnectorSnapshot,
    ReservationRecord,
    ReservationState,
    StationSnapshot,
    TraceEntry,
)
from console.central.store.codecs import (
    attempt_from_row,
    check_row,
    connector_from_row,
    dt_text,
    history_entry_from_row,
    station_from_row,
    trace_from_row,
)
from console.central.store.schema import (
    SCHEMA_VERSION,
    StoreError,
    connect,
    initial_check_id,
    initial_reservation_id,
    prepare,
)
from console.central.store.writer import Writer
from console.central.store.writes import (
    AppendTrace,
    ForgetConnectors,
    RaiseCounter,
    SaveCheck,
    SaveConnector,
    SaveReservation,
    SaveStation,
    prune_trace,
)

__all__ = ["Store"]

logger = logging.getLogger(__name__)


class Store:
    """SQLite (stdlib) persistence in WAL mode with one writer thread.

    The event loop never waits on disk: ``save_*`` and ``append_trace`` only queue; the
    writer thread batches queued writes into transactions. Reads (``load_*``) are for startup
    and see what is committed (``await flush()`` first to include what is still queued).
    """

    def __init__(
        self,
        path: Path,
        writer_connection: sqlite3.Connection,
        reader_connection: sqlite3.Connection,
        *,
        next_reservation_id: int,
        trace_limit: int,
        on_error: Callable[[str], None] | None,
        next_check_id: int = 1,
        lasting_error: str | None = None,
    ) -> None:
        # Use Store.open(): it prepares the database these connections point at.
        self._path = path
        self._reader_db = reader_connection
        self._reader_lock = threading.Lock()
        self._id_lock = threading.Lock()
        self._next_reservation_id = next_reservation_id
        self._next_check_id = next_check_id
        self._closed = False
        self._close_lock = threading.Lock()
        self._writer = Writer(
            path,
            writer_connection,
            trace_limit=trace_limit,
            on_error=on_error,
            lasting_error=lasting_error,
        )

    # --- opening -----------------------------------------------------------------------

    @classmethod
    def open(
        cls,
        path: Path,
        *,
        trace_limit: int = 200_000,
        on_error: Callable[[str], None] | None = None,
    ) -> Store:
        """Open (creating it if needed) the database at ``path`` and start the writer.

        Raises :class:`StoreError` when the folder or file cannot be used, the file is not a
        database, or it was written by a newer version of the console.
        """
        path = Path(path)
        if path.is_dir():
            raise StoreError(f"cannot open database at {path}: it is a folder, not a file")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(
                f"cannot create the data folder {path.parent}: {exc.strerror or exc}"
            ) from exc
        # SQLite would only say "unable to open database file" or "readonly database".
        # WAL also needs to create files next to the database, hence the folder check.
        if not os.access(path.parent, os.W_OK | os.X_OK):
            raise StoreError(
                f"cannot open database at {path}: the folder {path.parent} is read-only"
            )
        if path.exists() and not os.access(path, os.R_OK | os.W_OK):
            raise StoreError(f"cannot open database at {path}: the file is read-only")
        writer_db: sqlite3.Connection | None = None
        reader_db: sqlite3.Connection | None = None
        try:
            writer_db = connect(path)
            prepare(writer_db, path)
            next_id = initial_reservation_id(writer_db)
            next_check_id = initial_check_id(writer_db)
            prune_trace(writer_db, max(1, trace_limit))
            reader_db = connect(path)
            reader_db.execute("PRAGMA query_only=ON")
        except sqlite3.Error as exc:
            for db in (writer_db, reader_db):
                if db is not None:
                    db.close()
            raise StoreError(f"cannot open database at {path}: {exc}") from exc
        except StoreError:
            if writer_db is not None:
                writer_db.close()
            raise
        logger.info("Database open at %s (schema version %d)", path, SCHEMA_VERSION)
        return cls(
            path,
            writer_db,
            reader_db,
            next_reservation_id=next_id,
            trace_limit=trace_limit,
            on_error=on_error,
            next_check_id=next_check_id,
        )

    @classmethod
    def in_memory(
        cls,
        reason: str | None = None,
        *,
        trace_limit: int = 200_000,
        on_error: Callable[[str], None] | None = None,
    ) -> Store:
        """A store that keeps everything in this process only: nothing survives an exit.

        For when :meth:`open` failed and the console should run anyway; ``reason`` (the
        failure's message) becomes :attr:`error`, so the window can say that nothing is saved.
        """
        target = f"file:ocpp-console-{uuid.uuid4().hex}?mode=memory&cache=shared"
        path = Path(":memory:")
        writer_db = connect(target, uri=True)
        prepare(writer_db, path)
        reader_db = connect(target, uri=True)
        # One shared cache: without this a read would fail while a write is in progress.
        reader_db.execute("PRAGMA read_uncommitted=ON")
        store = cls(
            path,
            writer_db,
            reader_db,
            next_reservation_id=1,
            trace_limit=trace_limit,
            on_error=on_error,
            lasting_error=reason,
        )
        logger.warning("Running without a database: nothing will be saved (%s)", reason)
        return store

    @property
    def path(self) -> Path:
        return self._path

    @property
    def error(self) -> str | None:
        """Why writes are not reaching the disk right now (None when they are)."""
        return self._writer.error

    # --- startup reads -----------------------------------------------------------------

    def load_stations(self) -> list[StationSnapshot]:
        """Every known station, as not connected (nothing is connected after a restart)."""
        rows = self._read("SELECT * FROM stations ORDER BY station_id")
        return [station_from_row(row) for row in rows]

    def load_connectors(self) -> list[ConnectorSnapshot]:
        """Every connector's last known state, by station and connector id."""
        rows = self._read("SELECT * FROM connectors ORDER BY station_id, connector_id")
        return [connector_from_row(row) for row in rows]

    def load_reservations(self) -> list[ReservationRecord]:
        """Every reservation attempt with its full history, oldest first."""
        with self._reader_lock:
            db = self._reader()
            attempts = db.execute(
                "SELECT * FROM reservation_attempts ORDER BY created_at, attempt_id"
            ).fetchall()
            history_rows = db.execute(
                "SELECT attempt_id, state, at FROM reservation_history"
                " ORDER BY attempt_id, position"
            ).fetchall()
        history: dict[int, list[tuple[ReservationState, datetime]]] = {}
        for row in history_rows:
            history.setdefault(row["attempt_id"], []).append(history_entry_from_row(row))
        return [attempt_from_row(row, history.get(row["attempt_id"], ())) for row in attempts]

    def load_trace(
        self,
        limit: int = 10_000,
        station_id: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> list[TraceEntry]:
        """The newest ``limit`` trace entries matching the filters, oldest first.

        ``since`` and ``until`` are inclusive.
        """
        conditions: list[str] = []
        parameters: list[Any] = []
        if station_id is not None:
            conditions.append("station_id = ?")
            parameters.append(station_id)
        if since is not None:
            conditions.append("at >= ?")
            parameters.append(dt_text(since))
        if until is not None:
            conditions.append("at <= ?")
            parameters.append(dt_text(until))
        where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
        parameters.append(max(0, limit))
        rows = self._read(f"SELECT * FROM trace{where} ORDER BY id DESC LIMIT ?", parameters)
        return [trace_from_row(row) for row in reversed(rows)]

    def load_checks(self) -> list[CheckResult]:
        """Every stored reservation check run, oldest first.

        A row whose result cannot be read (damaged, or written by a newer console) is
        skipped with a warning: one bad row must not hide the others, nor stop the start.
        """
        rows = self._read(
            "SELECT id, station_id, result FROM reservation_checks ORDER BY started_at, id"
        )
        results: list[CheckResult] = []
        for row in rows:
            try:
                result = check_from_json(row["result"])
            except ValueError as exc:
                logger.warning(
                    "Station %s: stored reservation check %d in %s skipped, it cannot be read: %s",
                    row["station_id"],
                    row["id"],
                    self._path,
                    exc,
                )
                continue
            if result.check_id != row["id"]:
                result = replace(result, check_id=row["id"])
            results.append(result)
        return results

    def _read(self, sql: str, parameters: Sequence[Any] = ()) -> list[sqlite3.Row]:
        with self._reader_lock:
            return self._reader().execute(sql, parameters).fetchall()

    def _reader(self) -> sqlite3.Connection:
        if self._closed:
            raise StoreError(f"the database at {self._path} is closed")
        return self._reader_db

    # --- the reservation id counter ----------------------------------------------------

    def peek_reservation_id(self) -> int:
        """The id the next :meth:`allocate_reservation_id` returns (no I/O)."""
        return self._next_reservation_id

    async def allocate_reservation_id(self) -> int:
        """A fresh reservation id, committed to disk before it is returned."""
        with self._id_lock:
            allocated = self._next_reservation_id
            self._next_reservation_id = allocated + 1
        await self._writer.submit_awaited(RaiseCounter(allocated + 1))
        return allocated

    async def note_reservation_id(self, used: int) -> None:
        """A caller chose ``used`` itself: never hand it (or anything below) out again."""
        with self._id_lock:
            self._next_reservation_id = max(self._next_reservation_id, used + 1)
            target = self._next_reservation_id
        await self._writer.submit_awaited(RaiseCounter(target))

    # --- writes ------------------------------------------------------------------------

    def save_station(self, s: StationSnapshot) -> None:
        """Queue an upsert of the station (by station id)."""
        self._writer.submit(SaveStation(s))

    def save_connector(self, c: ConnectorSnapshot) -> None:
        """Queue an upsert of the connector (by station id and connector id)."""
        self._writer.submit(SaveConnector(c))

    def forget_connectors(self, station_id: str, *, of_evses: bool) -> None:
        """Queue the removal of the station's 2.0.1 (``of_evses``) or 1.6 connectors."""
        self._writer.submit(ForgetConnectors(station_id, of_evses))

    def save_reservation(self, r: ReservationRecord) -> asyncio.Future[None]:
        """Queue an upsert of the attempt and its history; the future resolves once committed.

        An attempt is known by (reservation id, station id, created_at). Its history rows
        mirror ``r.history``; a record with an empty history appends its state whenever it
        differs from the last one stored. Called without a running event loop, this waits
        for the commit and returns a future that is already done.
        """
        with self._id_lock:
            # Ids seen in records are never handed out again either.
            self._next_reservation_id = max(self._next_reservation_id, r.reservation_id + 1)
        return self._writer.submit_for_future(SaveReservation(r))

    async def save_check(self, result: CheckResult) -> int:
        """Store a reservation check run; returns its id once it is committed.

        A result without ``check_id`` gets a new id (a new row); one with an id replaces
        that row. The id is handed out here, not by SQLite, so it is known at once and a
        run saved again while the first save is queued still updates one row. When the disk
        fails the id is still returned (:attr:`error` says the run is in memory only).
        """
        with self._id_lock:
            check_id = self._next_check_id if result.check_id is None else result.check_id
            self._next_check_id = max(self._next_check_id, check_id + 1)
        if result.check_id != check_id:
            result = replace(result, check_id=check_id)
        # Encoded here, in the caller: a result the codec refuses raises to whoever saves
        # it instead of failing the writer's whole batch.
        op = SaveCheck(check_id, check_row(result))
        await self._writer.submit_awaited(op)
        return check_id

    def append_trace(self, e: TraceEntry) -> None:
        """Queue a trace entry; the oldest entries beyond ``trace_limit`` are pruned."""
        self._writer.submit(AppendTrace((e,)))

    def append_traces(self, entries: Sequence[TraceEntry]) -> asyncio.Future[None]:
        """Queue trace entries (in order) as one write; the future resolves once they are
        committed, or given up (the disk failed: :attr:`error` says so)."""
        return self._writer.submit_for_future(AppendTrace(entries))

    async def flush(self) -> None:
        """Return once everything queued before this call is committed (or given up)."""
        await self._writer.submit_awaited(None)

    def close(self) -> None:
        """Commit what is queued, stop the writer and close the database (idempotent)."""
        with self._close_lock:
            if self._closed:
                return
            self._writer.stop()
            with self._reader_lock:
                self._closed = True
                self._reader_db.close()
        logger.info("Database closed at %s", self._path)

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
