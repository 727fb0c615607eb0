"""The form's attempts, one per station, matched to the records of the change feed (no Qt)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from console.central.model import ReservationRecord, ReservationState, ReserveRequest
from console.ui.reservations.sent_attempts import SentAttempts

SENT_AT = datetime(2025, 3, 1, 14, 0, tzinfo=UTC)


def draft(station_id: str, reservation_id: int) -> ReserveRequest:
    return ReserveRequest(
        station_id, 1, "TAG", SENT_AT + timedelta(minutes=15), None, reservation_id
    )


def record_of(request: ReserveRequest, created_at: datetime = SENT_AT) -> ReservationRecord:
    assert request.reservation_id is not None
    return ReservationRecord(
        reservation_id=request.reservation_id,
        station_id=request.station_id,
        connector_id=request.connector_id,
        id_tag=request.id_tag,
        parent_id_tag=None,
        expiry_date=request.expiry_date,
        created_at=created_at,
        state=ReservationState.SENDING,
    )


def test_each_station_waits_for_its_own_attempt_only() -> None:
    attempts = SentAttempts()
    slow, quick = draft("CP-01", 1), draft("CP-02", 2)
    attempts.start(slow, None)
    attempts.start(quick, None)
    assert attempts.waiting_stations() == ["CP-01", "CP-02"]
    answered = replace(record_of(quick), state=ReservationState.ACCEPTED)
    followed = attempts.follow(answered)
    assert followed is not None
    assert followed.record == answered
    assert not attempts.waiting("CP-02")
    assert attempts.waiting("CP-01")
    assert attempts.waiting_stations() == ["CP-01"]
    assert not attempts.waiting("CP-03")


def test_an_older_attempt_with_the_same_id_is_never_ours() -> None:
    attempts = SentAttempts()
    request = draft("CP-01", 7)
    older = record_of(request, created_at=SENT_AT - timedelta(minutes=5))
    attempts.start(request, older_than=older.created_at)
    assert attempts.follow(replace(older, state=ReservationState.ENDED)) is None
    ours = record_of(request)
    assert attempts.follow(ours) is not None
    # once named, only that very attempt (station, id, created_at) is followed
    assert attempts.follow(replace(ours, created_at=SENT_AT + timedelta(seconds=1))) is None
    assert attempts.follow(replace(ours, state=ReservationState.NO_RESPONSE)) is not None
    assert not attempts.waiting("CP-01")


def test_a_failure_inside_the_console_ends_the_wait_of_its_station() -> None:
    attempts = SentAttempts()
    request = draft("CP-01", 3)
    attempts.start(request, None)
    assert attempts.fail(draft("CP-01", 4), "not ours") is None
    failed = attempts.fail(request, "Reserving on CP-01 failed: gone")
    assert failed is not None
    assert failed.failure == "Reserving on CP-01 failed: gone"
    assert not attempts.waiting("CP-01")
