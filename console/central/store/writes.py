"""The writes the store queues, and how a batch of them is committed.

Each operation is one change (a station, a connector, a reservation attempt, a check run,
the id counter, a trace line) or a barrier; those a caller awaits carry a :class:`Waiter`.
:func:`commit` runs in the writer thread: it executes a coalesced batch as SQL in one
transaction.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final

from console.central.model import (
    ConnectorSnapshot,
    ReservationRecord,
    StationSnapshot,
    TraceEntry,
)
from console.central.store.codecs import (
    ATTEMPT_COLUMNS,
    CHECK_COLUMNS,
    CONNECTOR_COLUMNS,
    NO_EVSE,
    STATION_COLUMNS,
    TRACE_COLUMNS,
    Row,
    attempt_row,
    connector_row,
    dt_text,
    history_rows,
    station_row,
    trace_row,
)
from console.central.store.schema import RESERVATION_COUNTER

__all__ = [
    "AppendTrace",
    "Barrier",
    "Op",
    "RaiseCounter",
    "SaveCheck",
    "SaveConnector",
    "SaveReservation",
    "SaveStation",
    "Urgent",
    "Waiter",
    "coalesce",
    "commit",
    "done_future",
    "prune_trace",
    "raise_counter",
    "release",
]


# --- operations ---------------------------------------------------------------------------


class Waiter:
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
class SaveStation:
    station: StationSnapshot


@dataclass(slots=True)
class SaveConnector:
    connector: ConnectorSnapshot


@dataclass(slots=True)
class ForgetConnectors:
    station_id: str
    of_evses: bool
    """The 2.0.1 connectors (with an EVSE); else the 1.6 ones."""

    def covers(self, connector: ConnectorSnapshot) -> bool:
        return connector.station_id == self.station_id and (
            (connector.evse_id is not None) is self.of_evses
        )


@dataclass(slots=True)
class SaveReservation:
    record: ReservationRecord
    waiter: Waiter | None = None


@dataclass(slots=True)
class SaveCheck:
    check_id: int
    row: Row
    """Encoded by the caller: a result the codec refuses raises to whoever saves it."""
    waiter: Waiter | None = None


@dataclass(slots=True)
class RaiseCounter:
    next_id: int
    waiter: Waiter | None = None


@dataclass(slots=True)
class AppendTrace:
    """Trace entries in the order they happened (the write-behind hands over a batch: one
    queued operation instead of thousands); ``waiter`` is told once they are written."""

    entries: Sequence[TraceEntry]
    waiter: Waiter | None = None


@dataclass(slots=True)
class Barrier:
    waiter: Waiter


Op = (
    SaveStation
    | SaveConnector
    | ForgetConnectors
    | SaveReservation
    | SaveCheck
    | RaiseCounter
    | AppendTrace
    | Barrier
)
Urgent = SaveReservation | SaveCheck | RaiseCounter
"""Operations a caller awaits: they skip ahead of queued trace lines."""


def coalesce(ops: list[Op]) -> list[Op]:
    """What has to be executed for ``ops``: the last save of each station, connector and
    check run, every reservation save in order, the highest counter, the trace. Waiters are not
    touched (:func:`release` works on the original list)."""
    stations: dict[str, Op] = {}
    connectors: dict[tuple[str, int | None, int], SaveConnector] = {}
    forgets: list[Op] = []
    counter: RaiseCounter | None = None
    checks: dict[int, Op] = {}
    others: list[Op] = []
    for op in ops:
        if isinstance(op, SaveCheck):
            # A run is saved whole each time: only its last version needs writing.
            checks.pop(op.check_id, None)
            checks[op.check_id] = op
        elif isinstance(op, SaveStation):
            stations[op.station.station_id] = op
        elif isinstance(op, SaveConnector):
            connectors[op.connector.key] = op
        elif isinstance(op, ForgetConnectors):
            # Saves before the forget are gone with it; the forget runs before the saves
            # that remain (those that came after it).
            for key, save in list(connectors.items()):
                if op.covers(save.connector):
                    del connectors[key]
            forgets.append(op)
        elif isinstance(op, RaiseCounter):
            if counter is None or op.next_id > counter.next_id:
                counter = RaiseCounter(op.next_id)
        elif not isinstance(op, Barrier):
            others.append(op)
    tail: list[Op] = [] if counter is None else [counter]
    return [
        *stations.values(),
        *forgets,
        *connectors.values(),
        *others,
        *checks.values(),
        *tail,
    ]


def release(batch: Iterable[Op]) -> None:
    """Tell every waiter in ``batch`` that its write is done (or given up)."""
    for op in batch:
        if (
            isinstance(op, SaveReservation | SaveCheck | RaiseCounter | Barrier | AppendTrace)
            and op.waiter
        ):
            op.waiter.done()


def done_future(loop: asyncio.AbstractEventLoop | None) -> asyncio.Future[None]:
    """A future that is already done (on ``loop`` when there is one)."""
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


# --- SQL (run in the thread that owns the connection) -------------------------------------


def commit(db: sqlite3.Connection, ops: list[Op], trace_limit: int) -> None:
    """Execute ``ops`` (coalesced) in one transaction; the trace is pruned to ``trace_limit``.

    Raises what SQLite raises; the caller rolls back.
    """
    trace_rows: list[Row] = []
    db.execute("BEGIN IMMEDIATE")
    for op in ops:
        if isinstance(op, AppendTrace):
            trace_rows.extend(map(trace_row, op.entries))
        elif isinstance(op, SaveStation):
            db.execute(_STATION_UPSERT, station_row(op.station))
        elif isinstance(op, SaveConnector):
            db.execute(_CONNECTOR_UPSERT, connector_row(op.connector))
        elif isinstance(op, ForgetConnectors):
            evse = "evse_id != ?" if op.of_evses else "evse_id = ?"
            db.execute(
                f"DELETE FROM connectors WHERE station_id = ? AND {evse}",
                (op.station_id, NO_EVSE),
            )
        elif isinstance(op, SaveReservation):
            _upsert_reservation(db, op.record)
            raise_counter(db, op.record.reservation_id + 1)
        elif isinstance(op, SaveCheck):
            db.execute(_CHECK_UPSERT, op.row)
        elif isinstance(op, RaiseCounter):
            raise_counter(db, op.next_id)
    if trace_rows:
        _insert_trace(db, trace_rows)
        prune_trace(db, trace_limit)
    db.execute("COMMIT")


def raise_counter(db: sqlite3.Connection, next_id: int) -> None:
    db.execute(
        "INSERT INTO counters (name, value) VALUES (?, ?)"
        " ON CONFLICT (name) DO UPDATE SET value = max(value, excluded.value)",
        (RESERVATION_COUNTER, next_id),
    )


def prune_trace(db: sqlite3.Connection, limit: int) -> None:
    """Delete the oldest trace rows beyond the newest ``limit``."""
    # Ids are contiguous from the oldest live row (see the table), so this is a range delete
    # on the primary key: cheap enough to run after every batch.
    newest = db.execute("SELECT max(id) FROM trace").fetchone()[0]
    if newest is not None and newest > limit:
        db.execute("DELETE FROM trace WHERE id <= ?", (newest - limit,))


_TRACE_INSERT: Final = f"INSERT INTO trace ({', '.join(TRACE_COLUMNS)}) VALUES "
_TRACE_ROW_PLACEHOLDERS: Final = f"({', '.join('?' for _ in TRACE_COLUMNS)})"
# Rows per statement: under SQLite's oldest limit of 999 parameters (80 rows of 12 columns).
_TRACE_ROWS_PER_INSERT: Final = 999 // len(TRACE_COLUMNS) // 10 * 10


def _insert_trace(db: sqlite3.Connection, rows: list[Row]) -> None:
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


def _upsert_sql(table: str, columns: Sequence[str], key: Sequence[str]) -> str:
    updates = ", ".join(f"{c} = excluded.{c}" for c in columns if c not in key)
    return (
        f"INSERT INTO {table} ({', '.join(columns)})"
        f" VALUES ({', '.join('?' for _ in columns)})"
        f" ON CONFLICT ({', '.join(key)}) DO UPDATE SET {updates}"
    )


_STATION_UPSERT: Final = _upsert_sql("stations", STATION_COLUMNS, ("station_id",))
_CONNECTOR_UPSERT: Final = _upsert_sql(
    "connectors", CONNECTOR_COLUMNS, ("station_id", "evse_id", "connector_id")
)
_ATTEMPT_UPSERT: Final = _upsert_sql(
    "reservation_attempts", ATTEMPT_COLUMNS, ("reservation_id", "station_id", "created_at")
)
_CHECK_UPSERT: Final = _upsert_sql("reservation_checks", CHECK_COLUMNS, ("id",))


def _upsert_reservation(db: sqlite3.Connection, r: ReservationRecord) -> None:
    db.execute(_ATTEMPT_UPSERT, attempt_row(r))
    attempt_id = db.execute(
        "SELECT attempt_id FROM reservation_attempts"
        " WHERE reservation_id = ? AND station_id = ? AND created_at = ?",
        (r.reservation_id, r.station_id, dt_text(r.created_at)),
    ).fetchone()[0]
    if r.history:
        # The record carries its whole history: the stored rows mirror it.
        db.executemany(
            "INSERT INTO reservation_history (attempt_id, position, state, at)"
            " VALUES (?, ?, ?, ?)"
            " ON CONFLICT (attempt_id, position) DO UPDATE"
            " SET state = excluded.state, at = excluded.at",
            history_rows(attempt_id, r),
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
        (attempt_id, position, str(r.state.value), dt_text(r.updated_at or r.created_at)),
    )
