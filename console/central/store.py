"""SQLite persistence of the Central System: stations, connectors, reservations, ids, trace
and reservation check runs.

One database file in the data folder, in WAL mode. Startup reads are synchronous (they run
before the server listens). After that the event loop never touches the disk: every write is
put on a queue and a single writer thread commits whatever has queued up in one transaction,
so a burst of frames becomes one commit, not thousands.

What must survive a SIGKILL (a reservation state change the caller was told about, an id
handed out) is awaited: :meth:`Store.save_reservation` returns a future that resolves once
the change is committed, :meth:`Store.allocate_reservation_id` returns only after the
counter is, and :meth:`Store.save_check` only after the check run is. WAL with
``synchronous=NORMAL`` makes a commit durable against the process being killed (not
against the machine losing power, which would cost an fsync per commit).

When the disk fails under it (full, read-only, broken file), the store does not raise into
the server: it sets :attr:`Store.error`, calls ``on_error`` once per new problem, keeps the
important writes (stations, connectors, reservations, the counter) in memory to retry them,
drops trace lines, and resolves every future so nobody hangs.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import os
import queue
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Final

from console.central.check.codec import check_from_json, check_to_json
from console.central.check.model import CheckResult
from console.central.model import (
    ConnectorSnapshot,
    ReservationRecord,
    ReservationState,
    StationSnapshot,
    TraceDirection,
    TraceEntry,
)
from console.ocpp.enums import ChargePointErrorCode, ChargePointStatus
from console.ocpp.reservation import ReservationStatus

__all__ = ["SCHEMA_VERSION", "Store", "StoreError"]

logger = logging.getLogger(__name__)


class StoreError(Exception):
    """The database cannot be used; the message says which file and why, for a human."""


# Each entry moves the schema one version up; entry i makes version i + 1. Never edit a
# released entry: add a new one (ALTER TABLE, new tables, data fixes) instead.
_MIGRATIONS: Final[tuple[tuple[str, ...], ...]] = (
    (
        """CREATE TABLE stations (
            station_id TEXT PRIMARY KEY,
            state_since TEXT,
            security_profile INTEGER NOT NULL,
            remote_address TEXT,
            vendor TEXT,
            model TEXT,
            serial_number TEXT,
            firmware_version TEXT,
            registration_status TEXT,
            last_message_at TEXT,
            last_heartbeat_at TEXT,
            heartbeat_interval INTEGER,
            reserve_connector_zero_supported INTEGER,
            number_of_connectors INTEGER,
            is_new INTEGER NOT NULL,
            note TEXT
        )""",
        """CREATE TABLE connectors (
            station_id TEXT NOT NULL,
            connector_id INTEGER NOT NULL,
            status TEXT,
            error_code TEXT,
            info TEXT,
            vendor_error_code TEXT,
            status_at TEXT,
            transaction_id INTEGER,
            id_tag TEXT,
            reservation_id INTEGER,
            PRIMARY KEY (station_id, connector_id)
        )""",
        # A reservation id may be tried again after a refusal, so an attempt is known by
        # (reservation id, station, creation time), with a plain integer key for history rows.
        """CREATE TABLE reservation_attempts (
            attempt_id INTEGER PRIMARY KEY,
            reservation_id INTEGER NOT NULL,
            station_id TEXT NOT NULL,
            created_at TEXT NOT NULL,
            connector_id INTEGER NOT NULL,
            id_tag TEXT NOT NULL,
            parent_id_tag TEXT,
            expiry_date TEXT NOT NULL,
            state TEXT NOT NULL,
            confirmation TEXT,
            error TEXT,
            error_code TEXT,
            transaction_id INTEGER,
            updated_at TEXT,
            answered_at TEXT,
            latency REAL,
            UNIQUE (reservation_id, station_id, created_at)
        )""",
        """CREATE TABLE reservation_history (
            attempt_id INTEGER NOT NULL REFERENCES reservation_attempts (attempt_id),
            position INTEGER NOT NULL,
            state TEXT NOT NULL,
            at TEXT NOT NULL,
            PRIMARY KEY (attempt_id, position)
        ) WITHOUT ROWID""",
        """CREATE TABLE counters (
            name TEXT PRIMARY KEY,
            value INTEGER NOT NULL
        )""",
        # id is the insertion order (seq restarts with each session); pruning deletes the
        # lowest ids, so the live rows stay one contiguous range.
        """CREATE TABLE trace (
            id INTEGER PRIMARY KEY,
            seq INTEGER NOT NULL,
            at TEXT NOT NULL,
            station_id TEXT NOT NULL,
            direction TEXT NOT NULL,
            text TEXT NOT NULL,
            message_type INTEGER,
            message_id TEXT,
            action TEXT,
            latency REAL,
            late INTEGER NOT NULL,
            error_code TEXT,
            note TEXT
        )""",
        "CREATE INDEX trace_by_station ON trace (station_id, id)",
        "CREATE INDEX trace_by_time ON trace (at)",
    ),
    (
        # One reservation check run: a few columns to find it by, the whole result (steps,
        # evidence frames, timeline) as console.central.check.codec's JSON.
        """CREATE TABLE reservation_checks (
            id INTEGER PRIMARY KEY,
            station_id TEXT NOT NULL,
            started_at TEXT NOT NULL,
            finished_at TEXT,
            outcome TEXT NOT NULL,
            result TEXT NOT NULL
        )""",
        "CREATE INDEX reservation_checks_by_station ON reservation_checks (station_id, id)",
    ),
)

SCHEMA_VERSION: Final = len(_MIGRATIONS)
"""The schema version this code writes."""

_RESERVATION_COUNTER: Final = "next_reservation_id"
_BATCH_MAX: Final = 5_000
"""Most queued writes committed in one transaction (bounds one commit's time)."""
_RETRY_INTERVAL: Final = 2.0
"""Seconds between attempts to write again after the disk failed."""
_RETRY_BUFFER_MAX: Final = 100_000
"""Most writes kept in memory for a retry while the disk fails; older ones are dropped."""
_JOIN_TIMEOUT: Final = 60.0


# --- conversions --------------------------------------------------------------------------


def _dt_text(value: datetime | None) -> str | None:
    """UTC text with a fixed width, so text order is time order and microseconds survive."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)  # everything inside is UTC; a naive time is too
    u = value.astimezone(UTC)
    return (
        f"{u.year:04d}-{u.month:02d}-{u.day:02d}T"
        f"{u.hour:02d}:{u.minute:02d}:{u.second:02d}.{u.microsecond:06d}Z"
    )


def _dt_value(text: str | None) -> datetime | None:
    if text is None:
        return None
    return _dt_required(text)


def _dt_required(text: str) -> datetime:
    value = datetime.fromisoformat(text)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _bool_value(value: int | None) -> bool | None:
    return None if value is None else bool(value)


def _bool_int(value: bool | None) -> int | None:
    return None if value is None else int(value)


# --- queued operations --------------------------------------------------------------------


class _Waiter:
    """Tells whoever waits (an asyncio future on its loop, or a thread) that a write is done."""

    __slots__ = ("_event", "_future", "_loop")

    def __init__(self, loop: asyncio.AbstractEventLoop | None) -> None:
        self._loop = loop
        self._future: asyncio.Future[None] | None = loop.create_future() if loop else None
        self._event = threading.Event()

    @property
    def future(self) -> asyncio.Future[None]:
        assert self._future is not None
        return self._future

    def wait(self, timeout: float | None = None) -> bool:
        return self._event.wait(timeout)

    def done(self) -> None:
        self._event.set()
        if self._loop is None or self._future is None:
            return
        # A closed loop raises RuntimeError: nobody is left to await the future then.
        with contextlib.suppress(RuntimeError):
            self._loop.call_soon_threadsafe(_resolve, self._future)


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():  # the caller may have cancelled it
        future.set_result(None)


@dataclass(slots=True)
class _SaveStation:
    station: StationSnapshot


@dataclass(slots=True)
class _SaveConnector:
    connector: ConnectorSnapshot


@dataclass(slots=True)
class _SaveReservation:
    record: ReservationRecord
    waiter: _Waiter | None = None


@dataclass(slots=True)
class _SaveCheck:
    check_id: int
    station_id: str
    started_at: datetime
    finished_at: datetime | None
    outcome: str
    result_json: str
    waiter: _Waiter | None = None


@dataclass(slots=True)
class _RaiseCounter:
    next_id: int
    waiter: _Waiter | None = None


@dataclass(slots=True)
class _AppendTrace:
    entry: TraceEntry


@dataclass(slots=True)
class _Barrier:
    waiter: _Waiter


@dataclass(slots=True)
class _Stop:
    pass


@dataclass(slots=True)
class _Wake:
    """Wakes the writer for what waits in the urgent lane."""


_Op = (
    _SaveStation
    | _SaveConnector
    | _SaveReservation
    | _SaveCheck
    | _RaiseCounter
    | _AppendTrace
    | _Barrier
)
_Queued = _Op | _Stop | _Wake
_Urgent = _SaveReservation | _SaveCheck | _RaiseCounter
_WAKE: Final = _Wake()


@dataclass(slots=True)
class _WriterState:
    """What only the writer thread touches."""

    degraded_since: float | None = None
    retry: list[_Op] = field(default_factory=list)
    dropped_trace: int = 0


# --- the store ----------------------------------------------------------------------------


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
    ) -> None:
        # Use Store.open(): it prepares the database these connections point at.
        self._path = path
        self._writer_db = writer_connection
        self._reader_db = reader_connection
        self._reader_lock = threading.Lock()
        self._trace_limit = max(1, trace_limit)
        self._on_error = on_error
        self._queue: queue.SimpleQueue[_Queued] = queue.SimpleQueue()
        # Reservation saves and counter raises are awaited by a caller: they skip ahead of
        # queued trace lines (a flooding station may queue tens of thousands), so an
        # acknowledgement waits for one batch at most, not for the whole backlog.
        self._urgent: collections.deque[_Urgent] = collections.deque()
        self._id_lock = threading.Lock()
        self._next_reservation_id = next_reservation_id
        self._next_check_id = next_check_id
        self._error: str | None = None
        self._lasting_error: str | None = None
        """What :attr:`error` returns to after a recovery (an in-memory store's reason)."""
        self._error_lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        with contextlib.suppress(RuntimeError):  # opened from a coroutine: report on its loop
            self._loop = asyncio.get_running_loop()
        self._closed = False
        self._close_lock = threading.Lock()
        # Taken briefly by every submit, so nothing can be queued behind the stop marker.
        self._accepting = True
        self._submit_lock = threading.Lock()
        self._state = _WriterState()
        self._thread = threading.Thread(
            target=self._run_writer, name=f"store-writer:{path.name}", daemon=True
        )
        self._thread.start()

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
            writer_db = _connect(path)
            _prepare(writer_db, path)
            next_id = _initial_reservation_id(writer_db)
            next_check_id = _initial_check_id(writer_db)
            _prune_trace(writer_db, max(1, trace_limit))
            reader_db = _connect(path)
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
        writer_db = _connect(target, uri=True)
        _prepare(writer_db, path)
        reader_db = _connect(target, uri=True)
        # One shared cache: without this a read would fail while a write is in progress.
        reader_db.execute("PRAGMA read_uncommitted=ON")
        store = cls(
            path,
            writer_db,
            reader_db,
            next_reservation_id=1,
            trace_limit=trace_limit,
            on_error=on_error,
        )
        store._error = store._lasting_error = reason
        logger.warning("Running without a database: nothing will be saved (%s)", reason)
        return store

    @property
    def path(self) -> Path:
        return self._path

    @property
    def error(self) -> str | None:
        """Why writes are not reaching the disk right now (None when they are)."""
        return self._error

    # --- startup reads -----------------------------------------------------------------

    def load_stations(self) -> list[StationSnapshot]:
        """Every known station, as not connected (nothing is connected after a restart)."""
        rows = self._read("SELECT * FROM stations ORDER BY station_id")
        return [
            StationSnapshot(
                station_id=row["station_id"],
                connected=False,
                state_since=_dt_value(row["state_since"]),
                security_profile=row["security_profile"],
                remote_address=row["remote_address"],
                vendor=row["vendor"],
                model=row["model"],
                serial_number=row["serial_number"],
                firmware_version=row["firmware_version"],
                registration_status=row["registration_status"],
                last_message_at=_dt_value(row["last_message_at"]),
                last_heartbeat_at=_dt_value(row["last_heartbeat_at"]),
                heartbeat_interval=row["heartbeat_interval"],
                reserve_connector_zero_supported=_bool_value(
                    row["reserve_connector_zero_supported"]
                ),
                number_of_connectors=row["number_of_connectors"],
                is_new=bool(row["is_new"]),
                note=row["note"],
            )
            for row in rows
        ]

    def load_connectors(self) -> list[ConnectorSnapshot]:
        """Every connector's last known state, by station and connector id."""
        rows = self._read("SELECT * FROM connectors ORDER BY station_id, connector_id")
        return [
            ConnectorSnapshot(
                station_id=row["station_id"],
                connector_id=row["connector_id"],
                status=None if row["status"] is None else ChargePointStatus(row["status"]),
                error_code=(
                    None if row["error_code"] is None else ChargePointErrorCode(row["error_code"])
                ),
                info=row["info"],
                vendor_error_code=row["vendor_error_code"],
                status_at=_dt_value(row["status_at"]),
                transaction_id=row["transaction_id"],
                id_tag=row["id_tag"],
                reservation_id=row["reservation_id"],
            )
            for row in rows
        ]

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
            history.setdefault(row["attempt_id"], []).append(
                (ReservationState(row["state"]), _dt_required(row["at"]))
            )
        return [
            ReservationRecord(
                reservation_id=row["reservation_id"],
                station_id=row["station_id"],
                connector_id=row["connector_id"],
                id_tag=row["id_tag"],
                parent_id_tag=row["parent_id_tag"],
                expiry_date=_dt_required(row["expiry_date"]),
                created_at=_dt_required(row["created_at"]),
                state=ReservationState(row["state"]),
                confirmation=(
                    None if row["confirmation"] is None else ReservationStatus(row["confirmation"])
                ),
                error=row["error"],
                error_code=row["error_code"],
                transaction_id=row["transaction_id"],
                updated_at=_dt_value(row["updated_at"]),
                answered_at=_dt_value(row["answered_at"]),
                latency=row["latency"],
                history=tuple(history.get(row["attempt_id"], ())),
            )
            for row in attempts
        ]

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
            parameters.append(_dt_text(since))
        if until is not None:
            conditions.append("at <= ?")
            parameters.append(_dt_text(until))
        where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
        parameters.append(max(0, limit))
        rows = self._read(f"SELECT * FROM trace{where} ORDER BY id DESC LIMIT ?", parameters)
        return [
            TraceEntry(
                seq=row["seq"],
                at=_dt_required(row["at"]),
                station_id=row["station_id"],
                direction=TraceDirection(row["direction"]),
                text=row["text"],
                message_type=row["message_type"],
                message_id=row["message_id"],
                action=row["action"],
                latency=row["latency"],
                late=bool(row["late"]),
                error_code=row["error_code"],
                note=row["note"],
            )
            for row in reversed(rows)
        ]

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
        await self._submit_awaited(_RaiseCounter(allocated + 1))
        return allocated

    async def note_reservation_id(self, used: int) -> None:
        """A caller chose ``used`` itself: never hand it (or anything below) out again."""
        with self._id_lock:
            self._next_reservation_id = max(self._next_reservation_id, used + 1)
            target = self._next_reservation_id
        await self._submit_awaited(_RaiseCounter(target))

    # --- writes ------------------------------------------------------------------------

    def save_station(self, s: StationSnapshot) -> None:
        """Queue an upsert of the station (by station id)."""
        self._submit(_SaveStation(s))

    def save_connector(self, c: ConnectorSnapshot) -> None:
        """Queue an upsert of the connector (by station id and connector id)."""
        self._submit(_SaveConnector(c))

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
        loop = self._running_loop()
        waiter = _Waiter(loop)
        if not self._submit(_SaveReservation(r, waiter)):
            return _done_future(loop)
        if loop is None:
            waiter.wait()
            return _done_future(None)
        return waiter.future

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
        op = _SaveCheck(
            check_id=check_id,
            station_id=result.station_id,
            started_at=result.started_at,
            finished_at=result.finished_at,
            outcome=str(result.outcome.value),
            # Encoded here, in the caller: a result the codec refuses raises to whoever
            # saves it instead of failing the writer's whole batch.
            result_json=check_to_json(result),
        )
        await self._submit_awaited(op)
        return check_id

    def append_trace(self, e: TraceEntry) -> None:
        """Queue a trace entry; the oldest entries beyond ``trace_limit`` are pruned."""
        self._submit(_AppendTrace(e))

    async def flush(self) -> None:
        """Return once everything queued before this call is committed (or given up)."""
        await self._submit_awaited(None)

    def close(self) -> None:
        """Commit what is queued, stop the writer and close the database (idempotent)."""
        with self._close_lock:
            if self._closed:
                return
            with self._submit_lock:
                self._accepting = False
                self._queue.put(_Stop())
            self._thread.join(_JOIN_TIMEOUT)
            if self._thread.is_alive():
                logger.error("The database writer for %s did not stop in time", self._path)
            else:
                self._drain_unwritten()
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

    # --- queueing ----------------------------------------------------------------------

    def _running_loop(self) -> asyncio.AbstractEventLoop | None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return None
        self._loop = loop  # on_error is called on it
        return loop

    def _submit(self, op: _Op) -> bool:
        with self._submit_lock:
            if self._accepting:
                if isinstance(op, _SaveReservation | _SaveCheck | _RaiseCounter):
                    self._urgent.append(op)
                    self._queue.put(_WAKE)
                else:
                    self._queue.put(op)
                return True
        logger.warning("A write to the closed database at %s was dropped", self._path)
        _release((op,))
        return False

    async def _submit_awaited(self, op: _Urgent | None) -> None:
        loop = self._running_loop()
        waiter = _Waiter(loop)
        if op is None:
            queued: _Op = _Barrier(waiter)
        else:
            op.waiter = waiter
            queued = op
        if self._submit(queued):
            if loop is None:  # pragma: no cover - an async method always has a loop
                waiter.wait()
                return
            await waiter.future

    # --- the writer thread -------------------------------------------------------------

    def _run_writer(self) -> None:
        db = self._writer_db
        try:
            stopping = False
            while not stopping:
                timeout = _RETRY_INTERVAL if self._state.retry else None
                try:
                    first = self._queue.get(timeout=timeout)
                except queue.Empty:
                    self._write([])  # only the retry buffer
                    continue
                batch: list[_Op] = self._take_urgent()
                item: _Queued = first
                while True:
                    if isinstance(item, _Stop):
                        stopping = True
                        break
                    if isinstance(item, _Wake):
                        batch.extend(self._take_urgent())
                    else:
                        batch.append(item)
                    if len(batch) >= _BATCH_MAX:
                        break
                    try:
                        item = self._queue.get_nowait()
                    except queue.Empty:
                        break
                self._write(batch)
            if self._urgent:  # cannot happen (each has a wake-up before the stop); cheap
                self._write(self._take_urgent())
            if self._state.retry:
                self._write([], final=True)
        except Exception:  # a bug here must not leave callers hanging forever
            logger.exception("The database writer for %s failed", self._path)
            self._report_error(f"the database writer for {self._path} failed; see the log")
            with self._submit_lock:
                self._accepting = False
            self._drain_unwritten()
        finally:
            with contextlib.suppress(sqlite3.Error):
                db.close()

    def _take_urgent(self) -> list[_Op]:
        taken: list[_Op] = []
        while self._urgent:
            taken.append(self._urgent.popleft())
        return taken

    def _drain_unwritten(self) -> None:
        """Release whoever waits on writes that will never be made (the writer is gone)."""
        _release(self._take_urgent())
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return
            if not isinstance(item, _Stop | _Wake):
                _release((item,))

    def _write(self, batch: list[_Op], *, final: bool = False) -> None:
        state = self._state
        now = time.monotonic()
        waiting = state.degraded_since is not None and (now - state.degraded_since) < (
            _RETRY_INTERVAL
        )
        if waiting and not final:
            # The disk failed a moment ago: do not hammer it; keep what matters for later.
            self._keep_for_retry(batch)
            _release(batch)
            return
        ops = _coalesce([*state.retry, *batch])
        try:
            self._commit(ops)
        except sqlite3.Error as exc:
            with contextlib.suppress(sqlite3.Error):
                self._writer_db.rollback()
            message = (
                f"cannot write to the database at {self._path}: {exc}; "
                "changes are kept in memory only and will be lost on exit"
            )
            logger.error("%s", message)
            # Error first: whoever a released waiter wakes must see it.
            self._report_error(message)
            state.degraded_since = now
            state.retry = []
            self._keep_for_retry(ops)
        except Exception as exc:
            # Not the disk: something in the data this code cannot write (a bug). Retrying
            # would fail the same way, so the batch is dropped, and the writer lives on.
            with contextlib.suppress(sqlite3.Error):
                self._writer_db.rollback()
            logger.exception("Cannot save %d changes to %s", len(ops), self._path)
            self._report_error(f"cannot save changes to the database at {self._path}: {exc!r}")
        else:
            if state.degraded_since is not None:
                logger.warning(
                    "Writing to the database at %s works again (%d trace lines were lost)",
                    self._path,
                    state.dropped_trace,
                )
                state.dropped_trace = 0
            state.degraded_since = None
            state.retry = []
            with self._error_lock:
                self._error = self._lasting_error
        _release(batch)

    def _keep_for_retry(self, ops: Iterable[_Op]) -> None:
        state = self._state
        for op in ops:
            if isinstance(op, _AppendTrace):
                state.dropped_trace += 1
            elif not isinstance(op, _Barrier):
                if isinstance(op, _SaveReservation | _SaveCheck | _RaiseCounter) and op.waiter:
                    # Its caller is told now (error says it is not on disk); the retry
                    # is for the disk only.
                    op.waiter.done()
                    op.waiter = None
                state.retry.append(op)
        state.retry = _coalesce(state.retry)
        if len(state.retry) > _RETRY_BUFFER_MAX:
            logger.error(
                "%d changes for %s dropped: too many kept in memory",
                len(state.retry) - _RETRY_BUFFER_MAX,
                self._path,
            )
            del state.retry[: len(state.retry) - _RETRY_BUFFER_MAX]

    def _commit(self, ops: list[_Op]) -> None:
        db = self._writer_db
        trace_rows: list[tuple[Any, ...]] = []
        db.execute("BEGIN IMMEDIATE")
        for op in ops:
            if isinstance(op, _AppendTrace):
                trace_rows.append(_trace_row(op.entry))
            elif isinstance(op, _SaveStation):
                _upsert_station(db, op.station)
            elif isinstance(op, _SaveConnector):
                _upsert_connector(db, op.connector)
            elif isinstance(op, _SaveReservation):
                _upsert_reservation(db, op.record)
                _raise_counter(db, op.record.reservation_id + 1)
            elif isinstance(op, _SaveCheck):
                _upsert_check(db, op)
            elif isinstance(op, _RaiseCounter):
                _raise_counter(db, op.next_id)
        if trace_rows:
            _insert_trace(db, trace_rows)
            _prune_trace(db, self._trace_limit)
        db.execute("COMMIT")

    def _report_error(self, message: str) -> None:
        with self._error_lock:
            if message == self._error:
                return
            self._error = message
        callback = self._on_error
        if callback is None:
            return
        loop = self._loop
        if loop is not None and not loop.is_closed():
            try:
                loop.call_soon_threadsafe(_call_safely, callback, message)
            except RuntimeError:
                pass
            else:
                return
        _call_safely(callback, message)


def _call_safely(callback: Callable[[str], None], message: str) -> None:
    try:
        callback(message)
    except Exception:
        logger.exception("The store's on_error callback failed")


def _coalesce(ops: list[_Op]) -> list[_Op]:
    """What has to be executed for ``ops``: the last save of each station, connector and
    check run, every reservation save in order, the highest counter, the trace. Waiters are not
    touched (:func:`_release` works on the original list)."""
    stations: dict[str, _Op] = {}
    connectors: dict[tuple[str, int], _Op] = {}
    counter: _RaiseCounter | None = None
    checks: dict[int, _Op] = {}
    others: list[_Op] = []
    for op in ops:
        if isinstance(op, _SaveCheck):
            # A run is saved whole each time: only its last version needs writing.
            checks.pop(op.check_id, None)
            checks[op.check_id] = op
        elif isinstance(op, _SaveStation):
            stations[op.station.station_id] = op
        elif isinstance(op, _SaveConnector):
            connectors[op.connector.station_id, op.connector.connector_id] = op
        elif isinstance(op, _RaiseCounter):
            if counter is None or op.next_id > counter.next_id:
                counter = _RaiseCounter(op.next_id)
        elif not isinstance(op, _Barrier):
            others.append(op)
    tail: list[_Op] = [] if counter is None else [counter]
    return [*stations.values(), *connectors.values(), *others, *checks.values(), *tail]


def _release(batch: Iterable[_Op]) -> None:
    for op in batch:
        if isinstance(op, _SaveReservation | _SaveCheck | _RaiseCounter | _Barrier) and op.waiter:
            op.waiter.done()


def _done_future(loop: asyncio.AbstractEventLoop | None) -> asyncio.Future[None]:
    if loop is not None:
        future: asyncio.Future[None] = loop.create_future()
        future.set_result(None)
        return future
    # No loop runs in this thread: a done future needs some loop to belong to. Awaiting a
    # done future never touches its loop, so a private, closed one will do.
    private = asyncio.new_event_loop()
    try:
        future = private.create_future()
        future.set_result(None)
    finally:
        private.close()
    return future


# --- SQL helpers (run in the thread that owns the connection) ------------------------------


def _connect(target: Path | str, *, uri: bool = False) -> sqlite3.Connection:
    # isolation_level=None: transactions are begun and committed explicitly.
    db = sqlite3.connect(
        target, timeout=10.0, isolation_level=None, check_same_thread=False, uri=uri
    )
    db.row_factory = sqlite3.Row
    return db


def _schema_version(db: sqlite3.Connection) -> int:
    found = db.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'"
    ).fetchone()
    if found is None:
        return 0
    row = db.execute("SELECT max(version) FROM schema_version").fetchone()
    return int(row[0] or 0)


def _prepare(db: sqlite3.Connection, path: Path) -> None:
    """Check the version (before changing anything), switch to WAL and migrate."""
    version = _schema_version(db)
    if version > SCHEMA_VERSION:
        raise StoreError(
            f"the database at {path} was written by a newer version of OCPP Console "
            f"(schema version {version}; this version knows up to {SCHEMA_VERSION}). "
            "Update the console, or choose another data folder."
        )
    mode = db.execute("PRAGMA journal_mode=WAL").fetchone()[0]
    if str(mode).lower() not in {"wal", "memory"}:
        logger.warning("The database at %s cannot use WAL (journal mode %s)", path, mode)
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("PRAGMA foreign_keys=ON")
    for target in range(version + 1, SCHEMA_VERSION + 1):
        db.execute("BEGIN IMMEDIATE")
        try:
            if target == 1:
                db.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
            for statement in _MIGRATIONS[target - 1]:
                db.execute(statement)
            db.execute("DELETE FROM schema_version")
            db.execute("INSERT INTO schema_version (version) VALUES (?)", (target,))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        logger.info("Database at %s migrated to schema version %d", path, target)


def _initial_reservation_id(db: sqlite3.Connection) -> int:
    row = db.execute("SELECT value FROM counters WHERE name = ?", (_RESERVATION_COUNTER,))
    stored = row.fetchone()
    highest = db.execute("SELECT max(reservation_id) FROM reservation_attempts").fetchone()[0]
    candidates = [1]
    if stored is not None:
        candidates.append(int(stored[0]))
    if highest is not None:
        candidates.append(int(highest) + 1)
    return max(candidates)


def _initial_check_id(db: sqlite3.Connection) -> int:
    highest = db.execute("SELECT max(id) FROM reservation_checks").fetchone()[0]
    return 1 if highest is None else int(highest) + 1


def _raise_counter(db: sqlite3.Connection, next_id: int) -> None:
    db.execute(
        "INSERT INTO counters (name, value) VALUES (?, ?)"
        " ON CONFLICT (name) DO UPDATE SET value = max(value, excluded.value)",
        (_RESERVATION_COUNTER, next_id),
    )


def _prune_trace(db: sqlite3.Connection, limit: int) -> None:
    # Ids are contiguous from the oldest live row (see the table), so this is a range delete
    # on the primary key: cheap enough to run after every batch.
    newest = db.execute("SELECT max(id) FROM trace").fetchone()[0]
    if newest is not None and newest > limit:
        db.execute("DELETE FROM trace WHERE id <= ?", (newest - limit,))


_TRACE_INSERT: Final = (
    "INSERT INTO trace (seq, at, station_id, direction, text, message_type,"
    " message_id, action, latency, late, error_code, note) VALUES "
)
_TRACE_ROW_PLACEHOLDERS: Final = "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
# 80 rows x 12 columns stays under SQLite's oldest limit of 999 parameters per statement.
_TRACE_ROWS_PER_INSERT: Final = 80


def _insert_trace(db: sqlite3.Connection, rows: list[tuple[Any, ...]]) -> None:
    """Insert trace rows, many per statement.

    The sqlite3 module lets go of the interpreter lock around every statement step; with
    one row per step (executemany) this thread must win the lock back from a busy event
    loop for each row, and under a flood of frames the trace backlog grew faster than it
    was written. Many rows per statement: far fewer hand-overs.
    """
    size = _TRACE_ROWS_PER_INSERT
    full, rest = divmod(len(rows), size)
    if full:
        statement = _TRACE_INSERT + ", ".join([_TRACE_ROW_PLACEHOLDERS] * size)
        db.executemany(
            statement,
            (
                [value for row in rows[start : start + size] for value in row]
                for start in range(0, full * size, size)
            ),
        )
    if rest:
        statement = _TRACE_INSERT + ", ".join([_TRACE_ROW_PLACEHOLDERS] * rest)
        db.execute(statement, [value for row in rows[full * size :] for value in row])


def _storable(row: tuple[Any, ...]) -> tuple[Any, ...]:
    """The row with every text SQLite can store: a lone surrogate becomes an escape.

    A station can put one in any string (``"\\ud800"`` is valid JSON); unrepaired, the
    UnicodeEncodeError would fail the whole batch, and every retry of it, so one
    station's garbage would keep every later change off the disk.
    """
    if all(type(v) is not str or v.isascii() for v in row):
        return row
    return tuple(_storable_text(v) if type(v) is str else v for v in row)


def _storable_text(value: str) -> str:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return value.encode("utf-8", "backslashreplace").decode("utf-8")
    return value


def _trace_row(e: TraceEntry) -> tuple[Any, ...]:
    return _storable(
        (
            e.seq,
            _dt_text(e.at),
            e.station_id,
            str(e.direction.value),
            e.text,
            e.message_type,
            e.message_id,
            e.action,
            e.latency,
            int(e.late),
            e.error_code,
            e.note,
        )
    )


_STATION_COLUMNS: Final = (
    "station_id",
    "state_since",
    "security_profile",
    "remote_address",
    "vendor",
    "model",
    "serial_number",
    "firmware_version",
    "registration_status",
    "last_message_at",
    "last_heartbeat_at",
    "heartbeat_interval",
    "reserve_connector_zero_supported",
    "number_of_connectors",
    "is_new",
    "note",
)


def _upsert_sql(table: str, columns: Sequence[str], key: Sequence[str]) -> str:
    updates = ", ".join(f"{c} = excluded.{c}" for c in columns if c not in key)
    return (
        f"INSERT INTO {table} ({', '.join(columns)})"
        f" VALUES ({', '.join('?' for _ in columns)})"
        f" ON CONFLICT ({', '.join(key)}) DO UPDATE SET {updates}"
    )


_STATION_UPSERT: Final = _upsert_sql("stations", _STATION_COLUMNS, ("station_id",))


def _upsert_station(db: sqlite3.Connection, s: StationSnapshot) -> None:
    db.execute(
        _STATION_UPSERT,
        _storable(
            (
                s.station_id,
                _dt_text(s.state_since),
                s.security_profile,
                s.remote_address,
                s.vendor,
                s.model,
                s.serial_number,
                s.firmware_version,
                s.registration_status,
                _dt_text(s.last_message_at),
                _dt_text(s.last_heartbeat_at),
                s.heartbeat_interval,
                _bool_int(s.reserve_connector_zero_supported),
                s.number_of_connectors,
                int(s.is_new),
                s.note,
            )
        ),
    )


_CONNECTOR_COLUMNS: Final = (
    "station_id",
    "connector_id",
    "status",
    "error_code",
    "info",
    "vendor_error_code",
    "status_at",
    "transaction_id",
    "id_tag",
    "reservation_id",
)
_CONNECTOR_UPSERT: Final = _upsert_sql(
    "connectors", _CONNECTOR_COLUMNS, ("station_id", "connector_id")
)


def _upsert_connector(db: sqlite3.Connection, c: ConnectorSnapshot) -> None:
    db.execute(
        _CONNECTOR_UPSERT,
        _storable(
            (
                c.station_id,
                c.connector_id,
                None if c.status is None else str(c.status.value),
                None if c.error_code is None else str(c.error_code.value),
                c.info,
                c.vendor_error_code,
                _dt_text(c.status_at),
                c.transaction_id,
                c.id_tag,
                c.reservation_id,
            )
        ),
    )


_ATTEMPT_COLUMNS: Final = (
    "reservation_id",
    "station_id",
    "created_at",
    "connector_id",
    "id_tag",
    "parent_id_tag",
    "expiry_date",
    "state",
    "confirmation",
    "error",
    "error_code",
    "transaction_id",
    "updated_at",
    "answered_at",
    "latency",
)
_ATTEMPT_UPSERT: Final = _upsert_sql(
    "reservation_attempts", _ATTEMPT_COLUMNS, ("reservation_id", "station_id", "created_at")
)


def _upsert_reservation(db: sqlite3.Connection, r: ReservationRecord) -> None:
    created_at = _dt_text(r.created_at)
    db.execute(
        _ATTEMPT_UPSERT,
        _storable(
            (
                r.reservation_id,
                r.station_id,
                created_at,
                r.connector_id,
                r.id_tag,
                r.parent_id_tag,
                _dt_text(r.expiry_date),
                str(r.state.value),
                None if r.confirmation is None else str(r.confirmation.value),
                r.error,
                r.error_code,
                r.transaction_id,
                _dt_text(r.updated_at),
                _dt_text(r.answered_at),
                r.latency,
            )
        ),
    )
    attempt_id = db.execute(
        "SELECT attempt_id FROM reservation_attempts"
        " WHERE reservation_id = ? AND station_id = ? AND created_at = ?",
        (r.reservation_id, r.station_id, created_at),
    ).fetchone()[0]
    if r.history:
        # The record carries its whole history: the stored rows mirror it.
        db.executemany(
            "INSERT INTO reservation_history (attempt_id, position, state, at)"
            " VALUES (?, ?, ?, ?)"
            " ON CONFLICT (attempt_id, position) DO UPDATE"
            " SET state = excluded.state, at = excluded.at",
            [
                (attempt_id, position, str(state.value), _dt_text(at))
                for position, (state, at) in enumerate(r.history)
            ],
        )
        db.execute(
            "DELETE FROM reservation_history WHERE attempt_id = ? AND position >= ?",
            (attempt_id, len(r.history)),
        )
        return
    last = db.execute(
        "SELECT position, state FROM reservation_history WHERE attempt_id = ?"
        " ORDER BY position DESC LIMIT 1",
        (attempt_id,),
    ).fetchone()
    if last is not None and last["state"] == r.state.value:
        return
    position = 0 if last is None else last["position"] + 1
    db.execute(
        "INSERT INTO reservation_history (attempt_id, position, state, at) VALUES (?, ?, ?, ?)",
        (attempt_id, position, str(r.state.value), _dt_text(r.updated_at or r.created_at)),
    )


_CHECK_UPSERT: Final = _upsert_sql(
    "reservation_checks",
    ("id", "station_id", "started_at", "finished_at", "outcome", "result"),
    ("id",),
)


def _upsert_check(db: sqlite3.Connection, op: _SaveCheck) -> None:
    db.execute(
        _CHECK_UPSERT,
        _storable(
            (
                op.check_id,
                op.station_id,
                _dt_text(op.started_at),
                _dt_text(op.finished_at),
                op.outcome,
                op.result_json,
            )
        ),
    )
