"""The ReserveNow attempts the form sent, one per station, followed through the change feed.

Requests to different stations are independent: each station has its own last attempt,
and only a station whose attempt is still unanswered waits. No Qt here: the form asks
which attempt a record belongs to and what to show for the chosen station.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from console.central.model import ReservationRecord, ReservationState, ReserveRequest

__all__ = ["SentAttempt", "SentAttempts"]

AttemptKey = tuple[str, int, datetime]
"""(station, reservation id, created_at): one attempt, even when an id is reused."""


@dataclass(slots=True)
class SentAttempt:
    """One ReserveNow the form sent, and what became of it so far."""

    draft: ReserveRequest
    older_than: datetime | None
    """created_at of the attempt with the same id known when the form sent (not this one)."""
    record: ReservationRecord | None = None
    """The attempt's latest record, once the feed named it."""
    failure: str | None = None
    """Why the console could not make the request at all (not an answer of the station)."""

    @property
    def waiting(self) -> bool:
        """Sent, and neither answered, timed out, nor failed inside the console."""
        if self.failure is not None:
            return False
        return self.record is None or self.record.state is ReservationState.SENDING

    def claims(self, record: ReservationRecord) -> bool:
        """Whether ``record`` is this attempt (and remember it when it is the first one)."""
        if self.record is not None:
            return _key(record) == _key(self.record)
        # Not known yet: the first record of this very request names it. The feed may bring
        # it already answered ("sending" and the answer in one batch); an older attempt
        # with the same id is never it.
        if not _same_request(self.draft, record):
            return False
        return self.older_than is None or record.created_at > self.older_than


class SentAttempts:
    """The last attempt the form sent to each station."""

    def __init__(self) -> None:
        self._by_station: dict[str, SentAttempt] = {}

    def start(self, draft: ReserveRequest, older_than: datetime | None) -> SentAttempt:
        """Follow a new attempt; it replaces the station's previous one."""
        attempt = SentAttempt(draft=draft, older_than=older_than)
        self._by_station[draft.station_id] = attempt
        return attempt

    def follow(self, record: ReservationRecord) -> SentAttempt | None:
        """The attempt ``record`` belongs to, updated with it; None if it is none of ours."""
        attempt = self._by_station.get(record.station_id)
        if attempt is None or not attempt.claims(record):
            return None
        attempt.record = record
        return attempt

    def fail(self, draft: ReserveRequest, text: str) -> SentAttempt | None:
        """The request of ``draft`` could not be made: its attempt, marked, if followed."""
        attempt = self._by_station.get(draft.station_id)
        if attempt is None or attempt.draft != draft:
            return None
        attempt.failure = text
        return attempt

    def of(self, station_id: str | None) -> SentAttempt | None:
        """The last attempt sent to ``station_id``, if any."""
        return None if station_id is None else self._by_station.get(station_id)

    def waiting(self, station_id: str | None) -> bool:
        attempt = self.of(station_id)
        return attempt is not None and attempt.waiting

    def waiting_stations(self) -> list[str]:
        """The stations whose attempt is still unanswered, in the order they were sent."""
        return [station for station, attempt in self._by_station.items() if attempt.waiting]


def _key(record: ReservationRecord) -> AttemptKey:
    return (record.station_id, record.reservation_id, record.created_at)


def _same_request(draft: ReserveRequest, record: ReservationRecord) -> bool:
    """Whether ``record`` is what ``draft`` asked for (its created_at is not known yet)."""
    return (
        record.station_id == draft.station_id
        and (draft.reservation_id is None or record.reservation_id == draft.reservation_id)
        and record.connector_id == draft.connector_id
        and record.id_tag == draft.id_tag
    )
