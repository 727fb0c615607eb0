"""Reservation check results as JSON and CSV: the one format the store, exports and report share.

:func:`check_to_dict` gives a JSON-ready dict (ISO 8601 UTC dates, enums as their values,
every evidence frame with its metadata) tagged with :data:`CHECK_FORMAT` and
:data:`CHECK_FORMAT_VERSION`; :func:`check_from_dict` reads it back exactly, and refuses
(``ValueError`` naming the field) anything malformed or written by a newer console, so a
half-read result never reaches the window. :func:`checks_to_csv_rows` flattens results to
one CSV row per step for a spreadsheet.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Final, TypeVar

from console.central.check.model import (
    CheckOutcome,
    CheckResult,
    CheckStep,
    ReservationSpan,
    StatusPoint,
    StepResult,
    Verdict,
)
from console.central.export import iso_utc
from console.central.model import TraceEntry
from console.central.record_codec import read_trace_entry, trace_entry_to_dict, utc_text
from console.ocpp.versions import OcppVersion

__all__ = [
    "CHECK_CSV_COLUMNS",
    "CHECK_FORMAT",
    "CHECK_FORMAT_VERSION",
    "check_csv_rows",
    "check_from_dict",
    "check_from_json",
    "check_to_dict",
    "check_to_json",
    "checks_csv_lines",
    "checks_to_csv_rows",
]

CHECK_FORMAT: Final = "ocpp-console.reservation-check"
"""The ``format`` tag of every encoded result."""
CHECK_FORMAT_VERSION: Final = 2
"""The version this console writes (and the newest it reads). 2 added the OCPP version of
the result and its steps, each step's official reference, the N/A verdict and a status
point's EVSE; version 1 results read as 1.6."""

CHECK_CSV_COLUMNS: Final = (
    "station_id",
    "vendor",
    "model",
    "firmware_version",
    "ocpp_version",
    "check_started",
    "step",
    "step_title",
    "reference",
    "connector_id",
    "verdict",
    "reason",
    "step_started",
    "step_finished",
)
"""The header of :func:`checks_to_csv_rows`, one row per step."""

_E = TypeVar("_E", bound=StrEnum)
_T = TypeVar("_T")

# --- encoding -----------------------------------------------------------------------------


def _date_text(moment: datetime | None) -> str | None:
    """UTC ``YYYY-MM-DDTHH:MM:SS[.ffffff]Z``: microseconds only when there are any."""
    return None if moment is None else utc_text(moment, fixed_width=False)


def _frame_dict(entry: TraceEntry, station_id: str) -> dict[str, Any]:
    frame = trace_entry_to_dict(entry, _date_text)
    own = frame.pop("station_id")
    if own != station_id:
        # Evidence is the checked station's frames; written (last) only if one ever is not.
        frame["station_id"] = own
    return frame


def _step_dict(step: StepResult, station_id: str) -> dict[str, Any]:
    return {
        "step": step.step.value,
        "number": step.number,
        "title": step.title,
        "reference": step.reference,
        "ocpp_version": step.ocpp_version.value,
        "connector_id": step.connector_id,
        "verdict": step.verdict.value,
        "reason": step.reason,
        "prompt": step.prompt,
        "started_at": _date_text(step.started_at),
        "finished_at": _date_text(step.finished_at),
        "evidence": [_frame_dict(entry, station_id) for entry in step.evidence],
    }


def _status_dict(point: StatusPoint) -> dict[str, Any]:
    found: dict[str, Any] = {
        "at": _date_text(point.at),
        "connector_id": point.connector_id,
        "status": point.status,
    }
    if point.evse_id is not None:
        found["evse_id"] = point.evse_id
    return found


def check_to_dict(result: CheckResult) -> dict[str, Any]:
    """The result as plain JSON values (``json.dumps`` takes it as it is).

    ``number``, ``title`` and ``reference`` of each step are written for a human reading
    the file; they follow from ``step`` and its version and are not read back.
    """
    return {
        "format": CHECK_FORMAT,
        "version": CHECK_FORMAT_VERSION,
        "check_id": result.check_id,
        "station_id": result.station_id,
        "ocpp_version": result.ocpp_version.value,
        "vendor": result.vendor,
        "model": result.model,
        "firmware_version": result.firmware_version,
        "serial_number": result.serial_number,
        "started_at": _date_text(result.started_at),
        "finished_at": _date_text(result.finished_at),
        "connectors": list(result.connectors),
        "id_tag": result.id_tag,
        "guided": result.guided,
        "outcome": result.outcome.value,
        "reason": result.reason,
        "left_behind": list(result.left_behind),
        "through_proxy": result.through_proxy,
        "steps": [_step_dict(step, result.station_id) for step in result.steps],
        "statuses": [_status_dict(p) for p in result.statuses],
        "spans": [
            {
                "reservation_id": s.reservation_id,
                "connector_id": s.connector_id,
                "id_tag": s.id_tag,
                "start": _date_text(s.start),
                "end": _date_text(s.end),
                "ended_by": s.ended_by,
                "expiry": _date_text(s.expiry),
            }
            for s in result.spans
        ],
    }


def check_to_json(result: CheckResult, *, indent: int | None = None) -> str:
    """:func:`check_to_dict` as JSON text (ASCII only: any string a station sent survives)."""
    return json.dumps(check_to_dict(result), ensure_ascii=True, allow_nan=False, indent=indent)


# --- decoding -----------------------------------------------------------------------------


class _Reader:
    """Reads one JSON object's fields, each checked; errors name the field's path."""

    __slots__ = ("_data", "_defaults", "_path", "_seen")

    def __init__(self, data: object, path: str) -> None:
        if not isinstance(data, Mapping):
            raise ValueError(f"{path or 'check'}: expected a JSON object, got {_kind(data)}")
        self._data: Mapping[Any, Any] = data
        self._path = path
        self._seen: set[str] = set()
        self._defaults: dict[str, Any] = {}

    def default(self, name: str, value: Any) -> None:
        """Read ``value`` for the field ``name`` when it is absent or null."""
        self._defaults[name] = value

    def _where(self, name: str) -> str:
        return f"{self._path}.{name}" if self._path else name

    def _get(self, name: str, *, optional: bool) -> Any:
        self._seen.add(name)
        if name in self._defaults and self._data.get(name) is None:
            return self._defaults[name]
        if name not in self._data:
            if optional:
                return None
            raise ValueError(f"{self._where(name)}: missing")
        return self._data[name]

    def raw(self, name: str) -> Any:
        """The value as it is (None when absent)."""
        return self._get(name, optional=True)

    def ignore(self, *names: str) -> None:
        self._seen.update(names)

    def text(self, name: str) -> str:
        value = self._get(name, optional=False)
        if not isinstance(value, str):
            raise ValueError(f"{self._where(name)}: expected a string, got {_kind(value)}")
        return value

    def optional_text(self, name: str) -> str | None:
        value = self._get(name, optional=True)
        if value is None:
            return None
        if not isinstance(value, str):
            raise ValueError(f"{self._where(name)}: expected a string or null, got {_kind(value)}")
        return value

    def integer(self, name: str) -> int:
        value = self._get(name, optional=False)
        if not _is_int(value):
            raise ValueError(f"{self._where(name)}: expected an integer, got {_kind(value)}")
        return int(value)

    def optional_integer(self, name: str) -> int | None:
        value = self._get(name, optional=True)
        if value is None:
            return None
        if not _is_int(value):
            raise ValueError(
                f"{self._where(name)}: expected an integer or null, got {_kind(value)}"
            )
        return int(value)

    def optional_id(self, name: str) -> int | str | None:
        value = self._get(name, optional=True)
        if value is None or isinstance(value, str):
            return value
        if not _is_int(value):
            raise ValueError(
                f"{self._where(name)}: expected an integer, a string or null, got {_kind(value)}"
            )
        return int(value)

    def optional_number(self, name: str) -> float | None:
        value = self._get(name, optional=True)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"{self._where(name)}: expected a number or null, got {_kind(value)}")
        if not math.isfinite(value):
            raise ValueError(f"{self._where(name)}: expected a finite number, got {value!r}")
        return float(value)

    def boolean(self, name: str) -> bool:
        value = self._get(name, optional=False)
        if not isinstance(value, bool):
            raise ValueError(f"{self._where(name)}: expected true or false, got {_kind(value)}")
        return value

    def date(self, name: str) -> datetime:
        value = self._get(name, optional=False)
        return _parse_date(value, self._where(name))

    def optional_date(self, name: str) -> datetime | None:
        value = self._get(name, optional=True)
        return None if value is None else _parse_date(value, self._where(name))

    def choice(self, name: str, kind: type[_E]) -> _E:
        value = self.text(name)
        try:
            return kind(value)
        except ValueError:
            allowed = ", ".join(member.value for member in kind)
            raise ValueError(f"{self._where(name)}: {value!r} is not one of {allowed}") from None

    def integers(self, name: str) -> tuple[int, ...]:
        values = self._list(name)
        for index, value in enumerate(values):
            if not _is_int(value):
                raise ValueError(
                    f"{self._where(name)}[{index}]: expected an integer, got {_kind(value)}"
                )
        return tuple(int(value) for value in values)

    def objects(self, name: str, read: Callable[[_Reader], _T]) -> tuple[_T, ...]:
        where = self._where(name)
        return tuple(
            _read_object(item, f"{where}[{index}]", read)
            for index, item in enumerate(self._list(name))
        )

    def _list(self, name: str) -> list[Any]:
        value = self._get(name, optional=False)
        if not isinstance(value, list):
            raise ValueError(f"{self._where(name)}: expected a list, got {_kind(value)}")
        return value

    def finish(self) -> None:
        """Refuse fields this version does not know (a typo or another format)."""
        unknown = sorted(str(key) for key in self._data if key not in self._seen)
        if unknown:
            where = self._path or "check"
            raise ValueError(f"{where}: unknown field(s) {', '.join(map(repr, unknown))}")


def _read_object(data: object, path: str, read: Callable[[_Reader], _T]) -> _T:
    reader = _Reader(data, path)
    value = read(reader)
    reader.finish()
    return value


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return f"the number {value!r}"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f"the string {shown!r}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, Mapping):
        return "an object"
    return type(value).__name__


def _parse_date(value: object, where: str) -> datetime:
    if not isinstance(value, str):
        raise ValueError(f"{where}: expected an ISO 8601 date, got {_kind(value)}")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{where}: {_kind(value)} is not an ISO 8601 date") from None
    if moment.tzinfo is None:
        raise ValueError(f"{where}: {value!r} has no UTC offset (written as ...Z)")
    return moment.astimezone(UTC)


def _read_frame(station_id: str) -> Callable[[_Reader], TraceEntry]:
    def read(r: _Reader) -> TraceEntry:
        r.default("station_id", station_id)  # written only for another station's frame
        return read_trace_entry(r)

    return read


def _read_step(station_id: str) -> Callable[[_Reader], StepResult]:
    def read(r: _Reader) -> StepResult:
        # Derived from "step" and its version, for human readers.
        r.ignore("number", "title", "reference")
        r.default("ocpp_version", OcppVersion.V16.value)  # absent before version 2
        return StepResult(
            step=r.choice("step", CheckStep),
            connector_id=r.optional_integer("connector_id"),
            verdict=r.choice("verdict", Verdict),
            reason=r.text("reason"),
            prompt=r.optional_text("prompt"),
            started_at=r.optional_date("started_at"),
            finished_at=r.optional_date("finished_at"),
            evidence=r.objects("evidence", _read_frame(station_id)),
            ocpp_version=r.choice("ocpp_version", OcppVersion),
        )

    return read


def _read_status(r: _Reader) -> StatusPoint:
    return StatusPoint(
        at=r.date("at"),
        connector_id=r.integer("connector_id"),
        status=r.text("status"),
        evse_id=r.optional_integer("evse_id"),
    )


def _read_span(r: _Reader) -> ReservationSpan:
    return ReservationSpan(
        reservation_id=r.integer("reservation_id"),
        connector_id=r.integer("connector_id"),
        id_tag=r.text("id_tag"),
        start=r.date("start"),
        end=r.optional_date("end"),
        ended_by=r.optional_text("ended_by"),
        expiry=r.optional_date("expiry"),  # absent in results stored before it was kept
    )


def check_from_dict(data: object) -> CheckResult:
    """The result :func:`check_to_dict` encoded.

    Raises ``ValueError`` naming the field when anything is missing, of the wrong type or
    unknown, when ``format`` is not :data:`CHECK_FORMAT`, or when ``version`` is newer than
    this console reads.
    """
    r = _Reader(data, "")
    fmt = r.raw("format")
    if fmt != CHECK_FORMAT:
        raise ValueError(
            f"not a reservation check result (format {fmt!r}, expected {CHECK_FORMAT!r})"
        )
    version = r.integer("version")
    if version > CHECK_FORMAT_VERSION:
        raise ValueError(
            f"the reservation check result was written by a newer console (version "
            f"{version}; this console reads up to version {CHECK_FORMAT_VERSION})"
        )
    if version < 1:
        raise ValueError(f"version: {version} is not a valid version")
    station_id = r.text("station_id")
    r.default("ocpp_version", OcppVersion.V16.value)  # absent before version 2
    r.default("through_proxy", False)  # absent in results stored before it was kept
    result = CheckResult(
        check_id=r.optional_integer("check_id"),
        station_id=station_id,
        started_at=r.date("started_at"),
        connectors=r.integers("connectors"),
        id_tag=r.text("id_tag"),
        vendor=r.optional_text("vendor"),
        model=r.optional_text("model"),
        firmware_version=r.optional_text("firmware_version"),
        serial_number=r.optional_text("serial_number"),
        finished_at=r.optional_date("finished_at"),
        outcome=r.choice("outcome", CheckOutcome),
        reason=r.text("reason"),
        steps=r.objects("steps", _read_step(station_id)),
        statuses=r.objects("statuses", _read_status),
        spans=r.objects("spans", _read_span),
        guided=r.boolean("guided"),
        left_behind=r.integers("left_behind"),
        ocpp_version=r.choice("ocpp_version", OcppVersion),
        through_proxy=r.boolean("through_proxy"),
    )
    r.finish()
    return result


def check_from_json(text: str | bytes) -> CheckResult:
    """:func:`check_from_dict` of JSON text; ``ValueError`` for text that is not JSON too."""
    try:
        data = json.loads(text)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"not JSON: {exc}") from None
    return check_from_dict(data)


# --- CSV ----------------------------------------------------------------------------------


def check_csv_rows(result: CheckResult) -> list[list[str]]:
    """One row per step of one result, in :data:`CHECK_CSV_COLUMNS` order (no header)."""
    return [
        [
            result.station_id,
            result.vendor or "",
            result.model or "",
            result.firmware_version or "",
            result.ocpp_version.value,
            iso_utc(result.started_at),
            str(step.number),
            step.title,
            step.reference,
            "" if step.connector_id is None else str(step.connector_id),
            step.verdict.value,
            step.reason,
            iso_utc(step.started_at),
            iso_utc(step.finished_at),
        ]
        for step in result.steps
    ]


def checks_to_csv_rows(results: Iterable[CheckResult]) -> list[list[str]]:
    """The header, then one row per step of every result (for ``csv.writer.writerows``)."""
    rows: list[list[str]] = [list(CHECK_CSV_COLUMNS)]
    for result in results:
        rows.extend(check_csv_rows(result))
    return rows


def checks_csv_lines(results: Iterable[CheckResult]) -> Iterator[str]:
    """The CSV text, header first, one string per line (each with its line ending)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in checks_to_csv_rows(results):
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(row)
        yield buffer.getvalue()
