"""A trace entry and a reservation attempt as plain values: the one place each is spelled out
field by field.

The store's rows, the JSON Lines and CSV exports and the evidence frames of a check result
are all made from :func:`trace_entry_to_dict` and :func:`reservation_record_to_dict`, and
read back through :func:`read_trace_entry` and :func:`read_reservation_record`, so a field
is added (or renamed) here once. Each user chooses how a time is written (the store keeps
microseconds at a fixed width, an export shows milliseconds) and how strictly values are
checked on the way in: the store takes its own rows as they are (:class:`PlainValues`), a
check result file is checked value by value (``console.central.check.codec``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Final, Protocol, TypeVar, cast

from console.central.model import (
    CancelAttempt,
    ReservationRecord,
    ReservationState,
    TraceDirection,
    TraceEntry,
)
from console.ocpp.reservation import CancelReservationStatus, ReservationStatus
from console.ocpp.v201.enums import ConnectorType, IdTokenType
from console.ocpp.versions import OcppVersion

__all__ = [
    "CANCEL_ATTEMPT_FIELDS",
    "PROXY_FIELDS",
    "VERSION_FIELDS",
    "DateText",
    "FieldSource",
    "PlainValues",
    "read_reservation_record",
    "read_trace_entry",
    "reservation_record_to_dict",
    "trace_entry_from_dict",
    "trace_entry_to_dict",
    "utc_from_text",
    "utc_text",
]

_E = TypeVar("_E", bound=StrEnum)

DateText = Callable[[datetime], str | None]
"""How a user of the codec writes a time (always given one, never None)."""


# --- to plain values ----------------------------------------------------------------------


def trace_entry_to_dict(entry: TraceEntry, date_text: DateText) -> dict[str, Any]:
    """Every kept field of ``entry`` under its own name, in field order: the direction as
    its value, the time as ``date_text`` writes it, the rest as it is."""
    return {
        "seq": entry.seq,
        "at": date_text(entry.at),
        "station_id": entry.station_id,
        "direction": entry.direction.value,
        "text": entry.text,
        "message_type": entry.message_type,
        "message_id": entry.message_id,
        "action": entry.action,
        "latency": entry.latency,
        "late": entry.late,
        "error_code": entry.error_code,
        "note": entry.note,
        "ocpp_version": None if entry.ocpp_version is None else entry.ocpp_version.value,
    }


def reservation_record_to_dict(record: ReservationRecord, date_text: DateText) -> dict[str, Any]:
    """Every kept field of ``record`` but its history under its own name, in field order:
    enums as their values, times as ``date_text`` writes them (None stays None). The cancel
    attempt comes last, field by field as ``cancel_<field>`` (all None when there is none)."""
    return {
        "reservation_id": record.reservation_id,
        "station_id": record.station_id,
        "connector_id": record.connector_id,
        "id_tag": record.id_tag,
        "parent_id_tag": record.parent_id_tag,
        "expiry_date": date_text(record.expiry_date),
        "created_at": date_text(record.created_at),
        "state": record.state.value,
        "confirmation": None if record.confirmation is None else record.confirmation.value,
        "error": record.error,
        "error_code": record.error_code,
        "transaction_id": record.transaction_id,
        "updated_at": None if record.updated_at is None else date_text(record.updated_at),
        "answered_at": None if record.answered_at is None else date_text(record.answered_at),
        "latency": record.latency,
        **_cancel_attempt_to_dict(record.cancel, date_text),
        "ocpp_version": record.ocpp_version.value,
        "connector_type": _value(record.connector_type),
        "id_token_type": _value(record.id_token_type),
        "group_id_token_type": _value(record.group_id_token_type),
        "status_reason": record.status_reason,
        "status_detail": record.status_detail,
        "cancel_status_reason": None if record.cancel is None else record.cancel.status_reason,
        "cancel_status_detail": None if record.cancel is None else record.cancel.status_detail,
        "by_upstream": record.by_upstream,
        "cancel_by_upstream": None if record.cancel is None else record.cancel.by_upstream,
    }


def _value(member: StrEnum | None) -> str | None:
    return None if member is None else member.value


def _cancel_attempt_to_dict(attempt: CancelAttempt | None, date_text: DateText) -> dict[str, Any]:
    if attempt is None:
        return dict.fromkeys(CANCEL_ATTEMPT_FIELDS)
    return {
        "cancel_sent_at": date_text(attempt.sent_at),
        "cancel_status": None if attempt.status is None else attempt.status.value,
        "cancel_answered_at": (
            None if attempt.answered_at is None else date_text(attempt.answered_at)
        ),
        "cancel_late": attempt.late,
        "cancel_timed_out": attempt.timed_out,
        "cancel_error": attempt.error,
        "cancel_error_code": attempt.error_code,
        "cancel_by_check": attempt.by_check,
    }


CANCEL_ATTEMPT_FIELDS: Final = (
    "cancel_sent_at",
    "cancel_status",
    "cancel_answered_at",
    "cancel_late",
    "cancel_timed_out",
    "cancel_error",
    "cancel_error_code",
    "cancel_by_check",
)
"""The names a record's cancel attempt is written under, in order, after its 1.6 fields."""

VERSION_FIELDS: Final = (
    "ocpp_version",
    "connector_type",
    "id_token_type",
    "group_id_token_type",
    "status_reason",
    "status_detail",
    "cancel_status_reason",
    "cancel_status_detail",
)
"""The names written after the cancel attempt: the version and the 2.0.1 fields (the
cancel's statusInfo last)."""

PROXY_FIELDS: Final = ("by_upstream", "cancel_by_upstream")
"""The names written last: whether the site's CSMS made the attempt, and sent its cancel
(proxy mode)."""


# --- back from plain values ---------------------------------------------------------------


class FieldSource(Protocol):
    """Where a record's plain values are read back from: one typed read per field name.

    The source decides how much to check: :class:`PlainValues` trusts what this console
    wrote itself; the check codec's reader refuses anything malformed, naming the field.
    """

    def integer(self, name: str) -> int: ...

    def optional_integer(self, name: str) -> int | None: ...

    def optional_id(self, name: str) -> int | str | None:
        """An id that is an integer in 1.6 and a string in 2.0.1 (a transaction id)."""
        ...

    def text(self, name: str) -> str: ...

    def optional_text(self, name: str) -> str | None: ...

    def optional_number(self, name: str) -> float | None: ...

    def boolean(self, name: str) -> bool: ...

    def date(self, name: str) -> datetime: ...

    def optional_date(self, name: str) -> datetime | None: ...

    def choice(self, name: str, kind: type[_E]) -> _E: ...


def read_trace_entry(fields: FieldSource) -> TraceEntry:
    """The entry whose fields :func:`trace_entry_to_dict` wrote."""
    return TraceEntry(
        seq=fields.integer("seq"),
        at=fields.date("at"),
        station_id=fields.text("station_id"),
        direction=fields.choice("direction", TraceDirection),
        text=fields.text("text"),
        message_type=fields.optional_integer("message_type"),
        message_id=fields.optional_text("message_id"),
        action=fields.optional_text("action"),
        latency=fields.optional_number("latency"),
        late=fields.boolean("late"),
        error_code=fields.optional_text("error_code"),
        note=fields.optional_text("note"),
        ocpp_version=_optional_choice(fields, "ocpp_version", OcppVersion),
    )


def read_reservation_record(
    fields: FieldSource, history: Iterable[tuple[ReservationState, datetime]] = ()
) -> ReservationRecord:
    """The attempt whose fields :func:`reservation_record_to_dict` wrote, with ``history``."""
    confirmation = fields.optional_text("confirmation")
    version = _optional_choice(fields, "ocpp_version", OcppVersion) or OcppVersion.V16
    transaction_id = fields.optional_id("transaction_id")
    if version is OcppVersion.V201 and transaction_id is not None:
        # 2.0.1's transaction ids are texts; SQLite turns a numeric one into an integer.
        transaction_id = str(transaction_id)
    return ReservationRecord(
        reservation_id=fields.integer("reservation_id"),
        station_id=fields.text("station_id"),
        connector_id=fields.integer("connector_id"),
        id_tag=fields.text("id_tag"),
        parent_id_tag=fields.optional_text("parent_id_tag"),
        expiry_date=fields.date("expiry_date"),
        created_at=fields.date("created_at"),
        state=fields.choice("state", ReservationState),
        confirmation=None if confirmation is None else ReservationStatus(confirmation),
        error=fields.optional_text("error"),
        error_code=fields.optional_text("error_code"),
        transaction_id=transaction_id,
        updated_at=fields.optional_date("updated_at"),
        answered_at=fields.optional_date("answered_at"),
        latency=fields.optional_number("latency"),
        history=tuple(history),
        cancel=_read_cancel_attempt(fields),
        ocpp_version=version,
        connector_type=_optional_choice(fields, "connector_type", ConnectorType),
        id_token_type=_optional_choice(fields, "id_token_type", IdTokenType),
        group_id_token_type=_optional_choice(fields, "group_id_token_type", IdTokenType),
        status_reason=fields.optional_text("status_reason"),
        status_detail=fields.optional_text("status_detail"),
        by_upstream=fields.boolean("by_upstream"),
    )


def _optional_choice(fields: FieldSource, name: str, kind: type[_E]) -> _E | None:
    return None if fields.optional_text(name) is None else fields.choice(name, kind)


def _read_cancel_attempt(fields: FieldSource) -> CancelAttempt | None:
    sent_at = fields.optional_date("cancel_sent_at")
    if sent_at is None:
        return None
    status = fields.optional_text("cancel_status")
    return CancelAttempt(
        sent_at=sent_at,
        status=None if status is None else CancelReservationStatus(status),
        answered_at=fields.optional_date("cancel_answered_at"),
        late=fields.boolean("cancel_late"),
        timed_out=fields.boolean("cancel_timed_out"),
        error=fields.optional_text("cancel_error"),
        error_code=fields.optional_text("cancel_error_code"),
        by_check=fields.boolean("cancel_by_check"),
        status_reason=fields.optional_text("cancel_status_reason"),
        status_detail=fields.optional_text("cancel_status_detail"),
        by_upstream=fields.boolean("cancel_by_upstream"),
    )


def utc_text(moment: datetime, *, fixed_width: bool) -> str:
    """UTC ``YYYY-MM-DDTHH:MM:SS.ffffffZ``; the fraction always when ``fixed_width`` (text
    order is then time order), else only when there is one. A naive time is taken as UTC
    (everything inside is)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    u = moment.astimezone(UTC)
    fraction = f".{u.microsecond:06d}" if fixed_width or u.microsecond else ""
    return (
        f"{u.year:04d}-{u.month:02d}-{u.day:02d}T"
        f"{u.hour:02d}:{u.minute:02d}:{u.second:02d}{fraction}Z"
    )


def utc_from_text(text: str) -> datetime:
    """An ISO 8601 time as written here, in UTC (a time without an offset is UTC)."""
    value = datetime.fromisoformat(text)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class ValueLookup(Protocol):
    """A row of values by column name (a dict, or an ``sqlite3.Row``)."""

    def __getitem__(self, name: str, /) -> Any: ...


class PlainValues:
    """Values this console wrote itself (a row of its own database), taken as they are:
    no checks beyond turning texts back into times and enums."""

    __slots__ = ("_values",)

    def __init__(self, values: ValueLookup) -> None:
        self._values = values

    def integer(self, name: str) -> int:
        return cast(int, self._values[name])

    def optional_integer(self, name: str) -> int | None:
        return cast("int | None", self._values[name])

    def optional_id(self, name: str) -> int | str | None:
        return cast("int | str | None", self._values[name])

    def text(self, name: str) -> str:
        return cast(str, self._values[name])

    def optional_text(self, name: str) -> str | None:
        return cast("str | None", self._values[name])

    def optional_number(self, name: str) -> float | None:
        return cast("float | None", self._values[name])

    def boolean(self, name: str) -> bool:
        return bool(self._values[name])

    def date(self, name: str) -> datetime:
        return utc_from_text(self._values[name])

    def optional_date(self, name: str) -> datetime | None:
        text = self._values[name]
        return None if text is None else utc_from_text(text)

    def choice(self, name: str, kind: type[_E]) -> _E:
        return kind(self._values[name])


def trace_entry_from_dict(values: ValueLookup) -> TraceEntry:
    """:func:`read_trace_entry` of values this console wrote (no checks)."""
    return read_trace_entry(PlainValues(values))
