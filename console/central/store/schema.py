"""The database's schema: the migrations that build it, and opening a file at a known version.

Each migration moves the schema one version up and is never edited once released; a file
written by a newer console is refused before anything in it changes.
"""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path
from typing import Final

__all__ = [
    "MIGRATIONS",
    "RESERVATION_COUNTER",
    "SCHEMA_VERSION",
    "StoreError",
    "connect",
    "initial_check_id",
    "initial_reservation_id",
    "prepare",
]

logger = logging.getLogger(__name__)


class StoreError(Exception):
    """The database cannot be used; the message says which file and why, for a human."""


# Each entry moves the schema one version up; entry i makes version i + 1. Never edit a
# released entry: add a new one (ALTER TABLE, new tables, data fixes) instead.
MIGRATIONS: Final[tuple[tuple[str, ...], ...]] = (
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
    (
        # The last CancelReservation of an attempt and what came of it (all NULL: none was
        # sent, as for every attempt stored before this version).
        "ALTER TABLE reservation_attempts ADD COLUMN cancel_sent_at TEXT",
        "ALTER TABLE reservation_attempts ADD COLUMN cancel_status TEXT",
        "ALTER TABLE reservation_attempts ADD COLUMN cancel_answered_at TEXT",
        "ALTER TABLE reservation_attempts ADD COLUMN cancel_late INTEGER",
        "ALTER TABLE reservation_attempts ADD COLUMN cancel_timed_out INTEGER",
        "ALTER TABLE reservation_attempts ADD COLUMN cancel_error TEXT",
        "ALTER TABLE reservation_attempts ADD COLUMN cancel_error_code TEXT",
        "ALTER TABLE reservation_attempts ADD COLUMN cancel_by_check INTEGER",
    ),
    (
        # OCPP 2.0.1 beside 1.6. A station's version and its ReservationCtrlr variables.
        "ALTER TABLE stations ADD COLUMN ocpp_version TEXT NOT NULL DEFAULT '1.6'",
        "ALTER TABLE stations ADD COLUMN reservations_enabled INTEGER",
        "ALTER TABLE stations ADD COLUMN reservations_available INTEGER",
        "ALTER TABLE stations ADD COLUMN non_evse_specific INTEGER",
        # A 2.0.1 connector is known by its EVSE too: evse_id 0 stands for "none" (1.6),
        # which no 2.0.1 connector has (EVSEs are numbered from 1).
        """CREATE TABLE connectors_by_evse (
            station_id TEXT NOT NULL,
            evse_id INTEGER NOT NULL,
            connector_id INTEGER NOT NULL,
            status TEXT,
            error_code TEXT,
            info TEXT,
            vendor_error_code TEXT,
            status_at TEXT,
            transaction_id INTEGER,
            id_tag TEXT,
            reservation_id INTEGER,
            connector_type TEXT,
            PRIMARY KEY (station_id, evse_id, connector_id)
        )""",
        """INSERT INTO connectors_by_evse (station_id, evse_id, connector_id, status,
            error_code, info, vendor_error_code, status_at, transaction_id, id_tag,
            reservation_id)
        SELECT station_id, 0, connector_id, status, error_code, info, vendor_error_code,
            status_at, transaction_id, id_tag, reservation_id FROM connectors""",
        "DROP TABLE connectors",
        "ALTER TABLE connectors_by_evse RENAME TO connectors",
        # What a 2.0.1 attempt asked for and what its answers said (NULL on 1.6 attempts).
        "ALTER TABLE reservation_attempts ADD COLUMN ocpp_version TEXT NOT NULL DEFAULT '1.6'",
        "ALTER TABLE reservation_attempts ADD COLUMN connector_type TEXT",
        "ALTER TABLE reservation_attempts ADD COLUMN id_token_type TEXT",
        "ALTER TABLE reservation_attempts ADD COLUMN group_id_token_type TEXT",
        "ALTER TABLE reservation_attempts ADD COLUMN status_reason TEXT",
        "ALTER TABLE reservation_attempts ADD COLUMN status_detail TEXT",
        "ALTER TABLE reservation_attempts ADD COLUMN cancel_status_reason TEXT",
        "ALTER TABLE reservation_attempts ADD COLUMN cancel_status_detail TEXT",
        "ALTER TABLE trace ADD COLUMN ocpp_version TEXT",
    ),
    (
        # Proxy mode: attempts the site's own CSMS made, and cancels it sent (0 / NULL for
        # everything stored before: the console made those itself).
        "ALTER TABLE reservation_attempts ADD COLUMN by_upstream INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE reservation_attempts ADD COLUMN cancel_by_upstream INTEGER",
    ),
)

SCHEMA_VERSION: Final = len(MIGRATIONS)
"""The schema version this code writes."""

RESERVATION_COUNTER: Final = "next_reservation_id"
"""The ``counters`` row that holds the next reservation id."""


def connect(target: Path | str, *, uri: bool = False) -> sqlite3.Connection:
    # isolation_level=None: transactions are begun and committed explicitly.
    db = sqlite3.connect(
        target, timeout=10.0, isolation_level=None, check_same_thread=False, uri=uri
    )
    db.row_factory = sqlite3.Row
    return db


def schema_version(db: sqlite3.Connection) -> int:
    """The version the file is at (0: a new, empty file)."""
    found = db.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'"
    ).fetchone()
    if found is None:
        return 0
    row = db.execute("SELECT max(version) FROM schema_version").fetchone()
    return int(row[0] or 0)


def prepare(db: sqlite3.Connection, path: Path) -> None:
    """Check the version (before changing anything), switch to WAL and migrate."""
    version = schema_version(db)
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
            for statement in MIGRATIONS[target - 1]:
                db.execute(statement)
            db.execute("DELETE FROM schema_version")
            db.execute("INSERT INTO schema_version (version) VALUES (?)", (target,))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        logger.info("Database at %s migrated to schema version %d", path, target)


def initial_reservation_id(db: sqlite3.Connection) -> int:
    """The next reservation id: past the counter and past every id in an attempt."""
    row = db.execute("SELECT value FROM counters WHERE name = ?", (RESERVATION_COUNTER,))
    stored = row.fetchone()
    highest = db.execute("SELECT max(reservation_id) FROM reservation_attempts").fetchone()[0]
    candidates = [1]
    if stored is not None:
        candidates.append(int(stored[0]))
    if highest is not None:
        candidates.append(int(highest) + 1)
    return max(candidates)


def initial_check_id(db: sqlite3.Connection) -> int:
    """The next reservation check run's id."""
    highest = db.execute("SELECT max(id) FROM reservation_checks").fetchone()[0]
    return 1 if highest is None else int(highest) + 1
