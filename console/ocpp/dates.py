"""The one date-time type of OCPP payloads.

Sent as UTC ``YYYY-MM-DDTHH:MM:SSZ``; read leniently (ISO 8601, with or without a
fraction, ``Z`` or any offset; no offset means UTC). Inside, always timezone-aware.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import BeforeValidator, PlainSerializer, TypeAdapter, ValidationError
from pydantic_core import PydanticCustomError

__all__ = ["OcppDateTime", "format_ocpp_datetime", "parse_ocpp_datetime"]

_NATIVE = TypeAdapter(datetime)


def _shown(value: str) -> str:
    # A peer's text in an error message: short, and never a lone surrogate, which pydantic
    # cannot render (rendering would raise UnicodeEncodeError out of the validation).
    return value[:40].encode("utf-8", "backslashreplace").decode("utf-8")


def _aware_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    if value.tzinfo is UTC:
        return value
    try:
        return value.astimezone(UTC)
    except OverflowError:
        # 0001-01-01T00:00:00+02:00 has no UTC time a datetime can hold; an error the
        # peer caused must come out as a validation error, never escape.
        raise PydanticCustomError(
            "datetime_parsing", "date-time out of range: {value}", {"value": _shown(str(value))}
        ) from None


def _read(value: Any) -> datetime:
    if isinstance(value, datetime):
        return _aware_utc(value)
    if not isinstance(value, str):
        # pydantic would take a number as a Unix time; on the wire a date is a string.
        raise PydanticCustomError("datetime_type", "a date must be an ISO 8601 string")
    text = value.strip()
    if len(text) < 16 or text[10] not in "Tt ":
        raise PydanticCustomError(
            "datetime_parsing", "not an ISO 8601 date-time: {value}", {"value": _shown(value)}
        )
    # The C parser first: it takes everything we send and most of what peers send, in a
    # fraction of pydantic's time; pydantic's parser then takes what it does not
    # (lower-case "t"/"z", for one).
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        try:
            parsed = _NATIVE.validate_python(text)
        except ValidationError:
            raise PydanticCustomError(
                "datetime_parsing", "not an ISO 8601 date-time: {value}", {"value": _shown(value)}
            ) from None
    return _aware_utc(parsed)


def _write(value: datetime) -> str:
    # isoformat, not strftime: several times faster, and it pads years below 1000
    # ("0999-...") where strftime("%Y") does not on every platform.
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    return value.replace(tzinfo=None).isoformat(timespec="seconds") + "Z"


def parse_ocpp_datetime(value: str | datetime) -> datetime:
    """Parse a date as OCPP peers send it; raises ``pydantic.ValidationError``."""
    return _ADAPTER.validate_python(value)


def format_ocpp_datetime(value: datetime) -> str:
    """Format a date as we send it: UTC, whole seconds, ``Z``."""
    if value.tzinfo is None:
        raise ValueError("naive datetimes are not allowed; attach a timezone")
    return _write(value)


OcppDateTime = Annotated[
    datetime,
    BeforeValidator(_read),
    PlainSerializer(_write, return_type=str, when_used="json"),
]
"""A timezone-aware datetime that travels as ``YYYY-MM-DDTHH:MM:SSZ``."""

_ADAPTER: TypeAdapter[datetime] = TypeAdapter(OcppDateTime)
