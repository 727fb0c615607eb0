"""Trace to JSON Lines and reservations to CSV: the formats, without any UI.

The window writes these in chunks with a progress dialog; ``serve`` (or a script) can use
:func:`write_trace_jsonl` and :func:`write_reservations_csv` directly. The trace holds no
secret by design (handshake headers are never traced), so an export holds none either.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from console.central.model import ReservationRecord, TraceEntry
from console.central.record_codec import reservation_record_to_dict, trace_entry_to_dict

__all__ = [
    "RESERVATION_CSV_COLUMNS",
    "TRACE_MESSAGE_TYPES",
    "SessionStart",
    "iso_utc",
    "reservation_csv_row",
    "reservations_csv_lines",
    "select_reservations",
    "select_trace",
    "session_start",
    "trace_entry_json",
    "trace_jsonl_line",
    "write_reservations_csv",
    "write_trace_jsonl",
]

TRACE_MESSAGE_TYPES = {2: "CALL", 3: "CALLRESULT", 4: "CALLERROR"}
"""OCPP-J message type numbers and their names."""

_CSV_FIELDS = {
    "reservation_id": "reservation_id",
    "station_id": "station_id",
    "connector_id": "connector_id",
    "id_tag": "id_tag",
    "parent_id_tag": "parent_id_tag",
    "created": "created_at",
    "expiry": "expiry_date",
    "answer": "confirmation",
    "state": "state",
    "transaction_id": "transaction_id",
    "error_code": "error_code",
    "error": "error",
    "answered": "answered_at",
    "latency_s": "latency",
    "cancel_sent": "cancel_sent_at",
    "cancel_answer": "cancel_status",
    "cancel_answered": "cancel_answered_at",
    "cancel_late": "cancel_late",
    "cancel_timed_out": "cancel_timed_out",
    "cancel_error_code": "cancel_error_code",
    "cancel_error": "cancel_error",
    "cancel_by_check": "cancel_by_check",
    "ocpp_version": "ocpp_version",
    "connector_type": "connector_type",
    "id_token_type": "id_token_type",
    "group_id_token_type": "group_id_token_type",
    "answer_reason": "status_reason",
    "answer_info": "status_detail",
    "cancel_answer_reason": "cancel_status_reason",
    "cancel_answer_info": "cancel_status_detail",
    "by_csms": "by_upstream",
    "cancel_by_csms": "cancel_by_upstream",
}
"""Each CSV column and the attempt's field it shows (the cancel attempt's after the 1.6
fields: all empty when no cancel was sent; its yes/no columns are ``true`` or ``false``).
The version and the 2.0.1 fields come last (statusInfo's reasonCode and additionalInfo as
``*_reason`` and ``*_info``), so a 1.6 reader's columns stay where they were; then whether
the site's own CSMS made the attempt and sent its cancel (proxy mode)."""

RESERVATION_CSV_COLUMNS = tuple(_CSV_FIELDS)

_JSON_NAMES = {
    "at": "time",
    "station_id": "station",
    "message_id": "id",
    "latency": "latency_s",
}
"""Trace entry fields that have another name in the JSON Lines export."""


def iso_utc(moment: datetime | None) -> str:
    """``2026-11-25T13:45:00.123Z`` (milliseconds, UTC), or "" for None."""
    if moment is None:
        return ""
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def trace_entry_json(entry: TraceEntry) -> dict[str, Any]:
    """One trace entry as a JSON object: its metadata and the frame parsed as JSON.

    ``message_type`` is the type's name. ``frame`` (last) is the parsed OCPP-J array when
    the text is JSON, otherwise the raw text (a broken frame, or a connection event's
    description).
    """
    values = trace_entry_to_dict(entry, iso_utc)
    text = values.pop("text")
    kind = values["message_type"]
    if kind is not None:
        values["message_type"] = TRACE_MESSAGE_TYPES.get(kind, str(kind))
    shown = {_JSON_NAMES.get(name, name): value for name, value in values.items()}
    frame: Any
    try:
        frame = json.loads(text)
    except ValueError:
        frame = text
    shown["frame"] = frame
    return shown


def trace_jsonl_line(entry: TraceEntry) -> str:
    """One JSON Lines line (with its newline) for a trace entry."""
    return json.dumps(trace_entry_json(entry), ensure_ascii=False, separators=(",", ":")) + "\n"


def select_trace(
    entries: Iterable[TraceEntry],
    station_id: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[TraceEntry]:
    """The entries of one station (None: all) between ``since`` and ``until`` (inclusive)."""
    return [
        entry
        for entry in entries
        if (station_id is None or entry.station_id == station_id)
        and (since is None or entry.at >= since)
        and (until is None or entry.at <= until)
    ]


def select_reservations(
    records: Iterable[ReservationRecord],
    station_id: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[ReservationRecord]:
    """The attempts on one station (None: all) created between ``since`` and ``until``."""
    chosen = [
        record
        for record in records
        if (station_id is None or record.station_id == station_id)
        and (since is None or record.created_at >= since)
        and (until is None or record.created_at <= until)
    ]
    chosen.sort(key=lambda record: record.created_at)
    return chosen


def reservation_csv_row(record: ReservationRecord) -> list[str]:
    """One attempt as CSV cells, in :data:`RESERVATION_CSV_COLUMNS` order ("" for none)."""
    values = reservation_record_to_dict(record, iso_utc)
    if record.latency is not None:
        values["latency"] = f"{record.latency:.3f}"
    cells = (values[field] for field in _CSV_FIELDS.values())
    return [_csv_cell(cell) for cell in cells]


def _csv_cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def reservations_csv_lines(records: Iterable[ReservationRecord]) -> Iterator[str]:
    """The CSV text, header first, one string per line (each with its line ending)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def line(cells: Iterable[str]) -> str:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(cells)
        return buffer.getvalue()

    yield line(RESERVATION_CSV_COLUMNS)
    for record in records:
        yield line(reservation_csv_row(record))


def write_trace_jsonl(path: Path, entries: Iterable[TraceEntry]) -> int:
    """Write the entries as JSON Lines; returns how many were written."""
    count = 0
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="\n") as stream:
        for entry in entries:
            stream.write(trace_jsonl_line(entry))
            count += 1
    return count


def write_reservations_csv(path: Path, records: Iterable[ReservationRecord]) -> int:
    """Write the attempts as CSV (with a header); returns how many rows were written."""
    count = -1
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as stream:
        for text in reservations_csv_lines(records):
            stream.write(text)
            count += 1
    return count


# --- where "today's session" starts (the export dialog's "From") -----------------------------


@dataclass(frozen=True, slots=True)
class SessionStart:
    """Where an export of today's session starts: for every station, the first frame of
    this run of the console; for one station, its first frame today (or of this run, if
    the run began before midnight)."""

    run: datetime
    """The first frame of this run (the run's start before any frame came)."""
    since: datetime
    """Midnight today (local time), or the run's start if earlier."""
    stations: Mapping[str, datetime] = field(default_factory=dict)
    """Each station's first frame since :attr:`since`, among the frames looked at."""
    complete: bool = True
    """The frames looked at go back to :attr:`since` (else earlier ones may be missing)."""

    def of(self, station_id: str | None) -> datetime:
        """The "From" for one station (None: every station)."""
        if station_id is None:
            return self.run
        if not self.complete:
            # The session's first frames were not all at hand: from its start, none left out.
            return self.since
        return self.stations.get(station_id, self.run)


def session_start(
    entries: Iterable[TraceEntry], *, run_started: datetime, now: datetime, limit: int | None
) -> SessionStart:
    """Today's session in ``entries`` (the frames the console holds in memory, which it
    loaded from the database at start and added to since; at most ``limit`` of them)."""
    midnight = now.astimezone().replace(hour=0, minute=0, second=0, microsecond=0)
    since = min(midnight, run_started)
    first_of_run: datetime | None = None
    oldest: datetime | None = None
    count = 0
    stations: dict[str, datetime] = {}
    for entry in entries:
        count += 1
        at = entry.at
        oldest = at if oldest is None else min(oldest, at)
        if at >= run_started and (first_of_run is None or at < first_of_run):
            first_of_run = at
        if at >= since and (entry.station_id not in stations or at < stations[entry.station_id]):
            stations[entry.station_id] = at
    reaches_back = oldest is not None and oldest < since
    complete = reaches_back or limit is None or count < limit
    return SessionStart(first_of_run or run_started, since, stations, complete)
