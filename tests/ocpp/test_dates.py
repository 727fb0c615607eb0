"""OCPP dates: sent as UTC YYYY-MM-DDTHH:MM:SSZ, read leniently, always aware inside."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from console.ocpp.dates import format_ocpp_datetime, parse_ocpp_datetime
from console.ocpp.messages import HeartbeatConfirmation

WIRE_FORMAT = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
NOON = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-25T12:00:00Z", NOON),
        ("2026-11-25T12:00:00.000Z", NOON),
        ("2026-11-25T12:00:00.5Z", NOON + timedelta(milliseconds=500)),
        ("2026-11-25T12:00:00.123456Z", NOON + timedelta(microseconds=123456)),
        # More digits than a datetime holds: truncated, not refused.
        ("2026-11-25T12:00:00.123456789Z", NOON + timedelta(microseconds=123456)),
        ("2026-11-25T14:00:00+02:00", NOON),
        ("2026-11-25T14:00:00.250+02:00", NOON + timedelta(milliseconds=250)),
        ("2026-11-25T07:30:00-04:30", NOON),
        ("2026-11-25T12:00:00+00:00", NOON),
        ("2026-11-25T12:00:00-00:00", NOON),
        ("2026-11-25T14:00:00+0200", NOON),
        # No offset at all means UTC.
        ("2026-11-25T12:00:00", NOON),
        ("2026-11-25T12:00", NOON),
        ("2026-11-25 12:00:00Z", NOON),
        # Lower-case separators, as a few firmwares send them.
        ("2026-11-25t12:00:00z", NOON),
        (" 2026-11-25T12:00:00Z ", NOON),
    ],
)
def test_read_leniently(text: str, expected: datetime) -> None:
    parsed = parse_ocpp_datetime(text)
    assert parsed == expected
    assert parsed.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    "value",
    [
        "",
        "tomorrow",
        "2026-11-25",  # a date without a time
        "12:00:00",
        "2026-13-01T00:00:00Z",
        "2026-02-30T00:00:00Z",
        "2026-11-25T25:00:00Z",
        "2026-11-25T12:00:00+25:00",
        "2026-11-25X12:00:00Z",
        "2026-11-25T12:00:00Zjunk",
        "0001-01-01T00:00:00+02:00",  # before the first UTC time a datetime holds
        "9999-12-31T23:59:59-02:00",  # after the last
        1764072000,
        1764072000.0,
        True,
        None,
        ["2026-11-25T12:00:00Z"],
        {"date": "2026-11-25T12:00:00Z"},
    ],
)
def test_garbage_and_numbers_are_rejected(value: Any) -> None:
    with pytest.raises(ValidationError):
        parse_ocpp_datetime(value)


def test_naive_datetimes_read_as_utc_and_aware_ones_are_kept() -> None:
    assert parse_ocpp_datetime(datetime(2026, 11, 25, 12)) == NOON
    assert parse_ocpp_datetime(datetime(2026, 11, 25, 12)).tzinfo is not None
    two_hours_east = timezone(timedelta(hours=2))
    assert parse_ocpp_datetime(datetime(2026, 11, 25, 14, tzinfo=two_hours_east)) == NOON


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (NOON, "2026-11-25T12:00:00Z"),
        (NOON + timedelta(microseconds=999_999), "2026-11-25T12:00:00Z"),
        (datetime(2026, 11, 25, 14, tzinfo=timezone(timedelta(hours=2))), "2026-11-25T12:00:00Z"),
        (datetime(2026, 1, 1, 0, 30, tzinfo=timezone(timedelta(hours=1))), "2025-12-31T23:30:00Z"),
        (datetime(999, 1, 2, 3, 4, 5, tzinfo=UTC), "0999-01-02T03:04:05Z"),
    ],
)
def test_sent_as_utc_whole_seconds_with_z(value: datetime, text: str) -> None:
    assert format_ocpp_datetime(value) == text
    assert HeartbeatConfirmation(current_time=value).to_payload() == {"currentTime": text}


def test_naive_datetimes_are_not_formatted() -> None:
    with pytest.raises(ValueError, match="naive"):
        format_ocpp_datetime(datetime(2026, 11, 25, 12))


def test_a_model_keeps_its_dates_aware_and_in_utc() -> None:
    beat = HeartbeatConfirmation.model_validate({"currentTime": "2026-11-25T13:00:00+01:00"})
    assert beat.current_time == NOON
    assert beat.current_time.tzinfo is UTC
    assert beat.model_dump(mode="json") == {"currentTime": "2026-11-25T12:00:00Z"}


# A busy shared machine must not fail a test: no deadline, no speed health check.
@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.datetimes(
        min_value=datetime(1000, 1, 2),
        max_value=datetime(9999, 12, 30),
        timezones=st.builds(
            timezone, st.integers(-23 * 60, 23 * 60).map(lambda m: timedelta(minutes=m))
        ),
    )
)
def test_any_aware_datetime_round_trips_to_the_second(value: datetime) -> None:
    text = format_ocpp_datetime(value)
    assert WIRE_FORMAT.fullmatch(text)
    back = parse_ocpp_datetime(text)
    assert back.tzinfo is not None
    assert back == value.replace(microsecond=0)


# A busy shared machine must not fail a test: no deadline, no speed health check.
@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=40))
def test_any_text_parses_or_fails_with_a_validation_error(text: str) -> None:
    try:
        parsed = parse_ocpp_datetime(text)
    except ValidationError:
        return
    assert parsed.tzinfo is not None
