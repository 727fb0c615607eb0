"""Records as database rows and back: the columns of each table, in the order written.

Times are UTC text of a fixed width, so text order is time order and microseconds survive.
A trace entry and a reservation attempt become columns through
:mod:`console.central.record_codec` (the one place their fields are spelled out, shared
with the exports and the check results); stations, connectors and check runs are only
ever stored, so their columns are spelled here.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from datetime import datetime
from operator import itemgetter
from typing import Any, Final

from console.central.check.codec import check_to_json
from console.central.check.model import CheckResult
from console.central.model import (
    ConnectorSnapshot,
    ConnectorState,
    ReservationRecord,
    ReservationState,
    StationSnapshot,
    TraceEntry,
)
from console.central.record_codec import (
    CANCEL_ATTEMPT_FIELDS,
    PROXY_FIELDS,
    VERSION_FIELDS,
    PlainValues,
    read_reservation_record,
    reservation_record_to_dict,
    trace_entry_from_dict,
    trace_entry_to_dict,
    utc_from_text,
    utc_text,
)
from console.ocpp.enums import ChargePointErrorCode, ChargePointStatus
from console.ocpp.v201.enums import ConnectorStatus, ConnectorType
from console.ocpp.versions import OcppVersion

__all__ = [
    "ATTEMPT_COLUMNS",
    "CHECK_COLUMNS",
    "CONNECTOR_COLUMNS",
    "NO_EVSE",
    "STATION_COLUMNS",
    "TRACE_COLUMNS",
    "attempt_from_row",
    "attempt_row",
    "check_row",
    "connector_from_row",
    "connector_row",
    "dt_text",
    "history_entry_from_row",
    "history_rows",
    "station_from_row",
    "station_row",
    "storable",
    "trace_from_row",
    "trace_row",
]

Row = tuple[Any, ...]


# --- values -------------------------------------------------------------------------------


def dt_text(value: datetime | None) -> str | None:
    """UTC text with a fixed width, so text order is time order and microseconds survive."""
    return None if value is None else utc_text(value, fixed_width=True)


def _dt_value(text: str | None) -> datetime | None:
    return None if text is None else utc_from_text(text)


def _bool_value(value: int | None) -> bool | None:
    return None if value is None else bool(value)


def _bool_int(value: bool | None) -> int | None:
    return None if value is None else int(value)


def storable(row: Row) -> Row:
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


# --- trace --------------------------------------------------------------------------------

TRACE_COLUMNS: Final = (
    "seq",
    "at",
    "station_id",
    "direction",
    "text",
    "message_type",
    "message_id",
    "action",
    "latency",
    "late",
    "error_code",
    "note",
    "ocpp_version",
)
"""The columns a trace row is written with (``id`` is the insertion order)."""
_trace_values = itemgetter(*TRACE_COLUMNS)


def trace_row(entry: TraceEntry) -> Row:
    """The entry's values in :data:`TRACE_COLUMNS` order (``late`` is stored as 0 or 1)."""
    values: Row = _trace_values(trace_entry_to_dict(entry, dt_text))
    return storable(values)


def trace_from_row(row: sqlite3.Row) -> TraceEntry:
    return trace_entry_from_dict(row)


# --- stations and connectors --------------------------------------------------------------

STATION_COLUMNS: Final = (
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
    "ocpp_version",
    "reservations_enabled",
    "reservations_available",
    "non_evse_specific",
)


def station_row(s: StationSnapshot) -> Row:
    """The station's values in :data:`STATION_COLUMNS` order."""
    return storable(
        (
            s.station_id,
            dt_text(s.state_since),
            s.security_profile,
            s.remote_address,
            s.vendor,
            s.model,
            s.serial_number,
            s.firmware_version,
            s.registration_status,
            dt_text(s.last_message_at),
            dt_text(s.last_heartbeat_at),
            s.heartbeat_interval,
            _bool_int(s.reserve_connector_zero_supported),
            s.number_of_connectors,
            int(s.is_new),
            s.note,
            s.ocpp_version.value,
            _bool_int(s.reservations_enabled),
            _bool_int(s.reservations_available),
            _bool_int(s.non_evse_specific),
        )
    )


def station_from_row(row: sqlite3.Row) -> StationSnapshot:
    """The stored station, as not connected (nothing is connected after a restart)."""
    return StationSnapshot(
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
        reserve_connector_zero_supported=_bool_value(row["reserve_connector_zero_supported"]),
        number_of_connectors=row["number_of_connectors"],
        is_new=bool(row["is_new"]),
        note=row["note"],
        ocpp_version=OcppVersion(row["ocpp_version"]),
        reservations_enabled=_bool_value(row["reservations_enabled"]),
        reservations_available=_bool_value(row["reservations_available"]),
        non_evse_specific=_bool_value(row["non_evse_specific"]),
    )


CONNECTOR_COLUMNS: Final = (
    "station_id",
    "evse_id",
    "connector_id",
    "status",
    "error_code",
    "info",
    "vendor_error_code",
    "status_at",
    "transaction_id",
    "id_tag",
    "reservation_id",
    "connector_type",
)
NO_EVSE: Final = 0
"""The stored ``evse_id`` of a 1.6 connector (2.0.1 EVSEs are numbered from 1)."""


def connector_row(c: ConnectorSnapshot) -> Row:
    """The connector's values in :data:`CONNECTOR_COLUMNS` order."""
    return storable(
        (
            c.station_id,
            NO_EVSE if c.evse_id is None else c.evse_id,
            c.connector_id,
            None if c.status is None else str(c.status.value),
            None if c.error_code is None else str(c.error_code.value),
            c.info,
            c.vendor_error_code,
            dt_text(c.status_at),
            c.transaction_id,
            c.id_tag,
            c.reservation_id,
            None if c.connector_type is None else c.connector_type.value,
        )
    )


def connector_from_row(row: sqlite3.Row) -> ConnectorSnapshot:
    evse_id = None if row["evse_id"] == NO_EVSE else row["evse_id"]
    status: ConnectorState | None = None
    if row["status"] is not None:
        status = (
            ChargePointStatus(row["status"]) if evse_id is None else ConnectorStatus(row["status"])
        )
    connector_type = row["connector_type"]
    return ConnectorSnapshot(
        station_id=row["station_id"],
        evse_id=evse_id,
        connector_type=None if connector_type is None else ConnectorType(connector_type),
        connector_id=row["connector_id"],
        status=status,
        error_code=(None if row["error_code"] is None else ChargePointErrorCode(row["error_code"])),
        info=row["info"],
        vendor_error_code=row["vendor_error_code"],
        status_at=_dt_value(row["status_at"]),
        transaction_id=(
            row["transaction_id"]
            if evse_id is None or row["transaction_id"] is None
            else str(row["transaction_id"])
        ),
        id_tag=row["id_tag"],
        reservation_id=row["reservation_id"],
    )


# --- reservation attempts -----------------------------------------------------------------

ATTEMPT_COLUMNS: Final = (
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
    *CANCEL_ATTEMPT_FIELDS,
    *VERSION_FIELDS,
    *PROXY_FIELDS,
)
"""The columns an attempt is written with (``attempt_id`` is SQLite's); the cancel attempt's
came with schema version 3."""
_attempt_values = itemgetter(*ATTEMPT_COLUMNS)


def attempt_row(record: ReservationRecord) -> Row:
    """The attempt's values in :data:`ATTEMPT_COLUMNS` order (its history is other rows)."""
    values: Row = _attempt_values(reservation_record_to_dict(record, dt_text))
    return storable(values)


def attempt_from_row(
    row: sqlite3.Row, history: Iterable[tuple[ReservationState, datetime]]
) -> ReservationRecord:
    return read_reservation_record(PlainValues(row), history)


def history_rows(attempt_id: int, record: ReservationRecord) -> list[Row]:
    """``(attempt_id, position, state, at)`` for each state in the record's history."""
    return [
        (attempt_id, position, str(state.value), dt_text(at))
        for position, (state, at) in enumerate(record.history)
    ]


def history_entry_from_row(row: sqlite3.Row) -> tuple[ReservationState, datetime]:
    return (ReservationState(row["state"]), utc_from_text(row["at"]))


# --- reservation check runs ---------------------------------------------------------------

CHECK_COLUMNS: Final = ("id", "station_id", "started_at", "finished_at", "outcome", "result")
"""A few columns to find a run by, and the whole result as the check codec's JSON."""


def check_row(result: CheckResult) -> Row:
    """The run's values in :data:`CHECK_COLUMNS` order (it must have its ``check_id``).

    Raises ``ValueError`` for a result the check codec refuses.
    """
    if result.check_id is None:
        raise ValueError("a check run is stored under its check_id; this one has none")
    return storable(
        (
            result.check_id,
            result.station_id,
            dt_text(result.started_at),
            dt_text(result.finished_at),
            str(result.outcome.value),
            check_to_json(result),
        )
    )
