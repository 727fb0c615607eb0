"""The reservation book: every ReserveNow attempt and where it stands (DESIGN.md).

``sending`` -> the station's answer (``accepted``/``faulted``/``occupied``/``rejected``/
``unavailable``), or ``error`` (a CALLERROR, or an answer that could not be read), or
``no_response``, or ``offline``. ``accepted`` then ends as ``used``, ``expired``,
``cancelled`` or ``ended``.

How a call that got no answer is recorded:

- the timeout passed: ``no_response`` — the station may hold the reservation; a late
  answer moves the record to what the station answered, and a StartTransaction with the
  reservation id still makes it ``used``;
- the connection dropped after the frame was written: also ``no_response`` (error
  "connection lost before the answer: ..."), for the same reason: the station may have
  taken it;
- the station was not connected, or the connection dropped while the call still waited
  in the queue: ``offline`` — nothing reached the station.

Each state change makes a new immutable record, is stored, and is announced as a
:class:`ReservationChanged`. The changes a caller of :meth:`ReservationBook.reserve_now`
or :meth:`ReservationBook.cancel_reservation` gets back are committed to the store
before the call returns, so a crash right after loses nothing acknowledged.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import ValidationError

from console.central.events import ChangeFeed
from console.central.model import (
    CancelOutcome,
    ReservationChanged,
    ReservationRecord,
    ReservationState,
)
from console.central.persistence import Persistence
from console.central.registry import StationRegistry
from console.central.station import CallOutcome, StationConnection
from console.ocpp.enums import ChargePointStatus
from console.ocpp.errors import describe_validation
from console.ocpp.reservation import (
    CancelReservationConfirmation,
    CancelReservationRequest,
    CancelReservationStatus,
    ReservationStatus,
    ReserveNowConfirmation,
    ReserveNowRequest,
)
from console.ocpp.session import LateAnswer

__all__ = ["CONNECTOR_ZERO_UNSUPPORTED", "NO_LONGER_HELD", "ReservationBook"]

logger = logging.getLogger(__name__)

CONNECTOR_ZERO_UNSUPPORTED = (
    "station does not support connector 0 reservations (ReserveConnectorZeroSupported=false)"
)

_STATE_FOR_STATUS = {
    ReservationStatus.ACCEPTED: ReservationState.ACCEPTED,
    ReservationStatus.FAULTED: ReservationState.FAULTED,
    ReservationStatus.OCCUPIED: ReservationState.OCCUPIED,
    ReservationStatus.REJECTED: ReservationState.REJECTED,
    ReservationStatus.UNAVAILABLE: ReservationState.UNAVAILABLE,
}

# States in which the station may hold the reservation (no_response: it may have taken it).
_MAY_BE_HELD = frozenset(
    {ReservationState.ACCEPTED, ReservationState.NO_RESPONSE, ReservationState.SENDING}
)

AttemptKey = tuple[int, str, datetime]
ConnectionLookup = Callable[[str], StationConnection | None]


_EXPIRY_RECHECK = 15.0
"""Seconds between wall-clock checks of an accepted reservation's expiry."""

_AVAILABLE_GRACE = 5.0
"""Seconds after an acceptance in which an ``Available`` report may still be stale.

A station can send a StatusNotification it prepared before taking the reservation (e.g.
the answer to the TriggerMessage after boot) just after its Accepted answer; the
``Reserved`` report then follows. An ``Available`` that arrives this soon after the
acceptance is only acted on if the connector still says ``Available`` when it is over.
"""

_EXPIRY_SLACK = 2.0
"""Seconds before the expiry in which a freed connector counts as the reservation expiring."""

NO_LONGER_HELD = "station no longer holds it (connector reported Available)"


def _key(record: ReservationRecord) -> AttemptKey:
    return (record.reservation_id, record.station_id, record.created_at)


def _now() -> datetime:
    return datetime.now(UTC)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


class ReservationBook:
    """Every reservation attempt of this install, with the console's lifecycle."""

    def __init__(
        self,
        feed: ChangeFeed,
        store: Persistence,
        registry: StationRegistry,
        connection_for: ConnectionLookup,
    ) -> None:
        self._feed = feed
        self._store = store
        self._registry = registry
        self._connection_for = connection_for
        self._records: dict[AttemptKey, ReservationRecord] = {}
        self._expiry_timers: dict[AttemptKey, asyncio.TimerHandle] = {}
        self._available_rechecks: dict[AttemptKey, asyncio.TimerHandle] = {}

    # --- reading ------------------------------------------------------------------------

    def records(self) -> list[ReservationRecord]:
        return sorted(self._records.values(), key=lambda r: (r.created_at, r.reservation_id))

    def get(self, station_id: str, reservation_id: int) -> ReservationRecord | None:
        """The latest attempt with this id on this station."""
        found = [
            r
            for r in self._records.values()
            if r.station_id == station_id and r.reservation_id == reservation_id
        ]
        return max(found, key=lambda r: r.created_at) if found else None

    def max_transaction_id(self) -> int:
        return max((r.transaction_id or 0 for r in self._records.values()), default=0)

    # --- start and stop -----------------------------------------------------------------

    def load(self, records: list[ReservationRecord]) -> None:
        """Take the stored attempts after a (re)start and settle what the stop left open."""
        now = _now()
        for record in records:
            self._records[_key(record)] = record
        for record in list(self._records.values()):
            if record.state is ReservationState.SENDING:
                # The console stopped while waiting: the station may have taken it.
                self._change(
                    record,
                    ReservationState.NO_RESPONSE,
                    error="the console stopped before the station answered",
                )
            elif record.state is ReservationState.ACCEPTED:
                if record.expiry_date <= now:
                    self._change(record, ReservationState.EXPIRED)
                else:
                    self._schedule_expiry(record)

    def close(self) -> None:
        for timer in (*self._expiry_timers.values(), *self._available_rechecks.values()):
            timer.cancel()
        self._expiry_timers.clear()
        self._available_rechecks.clear()

    # --- ReserveNow ---------------------------------------------------------------------

    async def reserve_now(
        self,
        station_id: str,
        connector_id: int,
        id_tag: str,
        expiry_date: datetime,
        parent_id_tag: str | None = None,
        reservation_id: int | None = None,
        *,
        probe: bool = False,
    ) -> ReservationRecord:
        """Send ReserveNow and return the attempt as it stands after the answer.

        Raises ``ValueError`` for arguments the protocol does not allow (nothing is sent
        and no id is used then). ``probe`` sends a connector-0 reservation even to a
        station that said it does not support them (the conformance check tests that the
        station refuses it).
        """
        self._validate(station_id, connector_id, id_tag, expiry_date, parent_id_tag, reservation_id)
        if reservation_id is None:
            reservation_id = await self._store.allocate_reservation_id()
        else:
            await self._store.note_reservation_id(reservation_id)
        request = ReserveNowRequest(
            connector_id=connector_id,
            expiry_date=expiry_date,
            id_tag=id_tag,
            parent_id_tag=parent_id_tag,
            reservation_id=reservation_id,
        )
        created = _now()
        base = ReservationRecord(
            reservation_id=reservation_id,
            station_id=station_id,
            connector_id=connector_id,
            id_tag=id_tag,
            parent_id_tag=parent_id_tag,
            expiry_date=expiry_date,
            created_at=created,
            state=ReservationState.SENDING,
            updated_at=created,
            history=((ReservationState.SENDING, created),),
        )
        station = self._registry.station(station_id)
        connection = self._connection_for(station_id)
        if connection is None or connection.closed:
            return await self._open_final(
                base, ReservationState.OFFLINE, f"station {station_id} is not connected"
            )
        if (
            connector_id == 0
            and not probe
            and station is not None
            and station.reserve_connector_zero_supported is False
        ):
            return await self._open_final(base, ReservationState.ERROR, CONNECTOR_ZERO_UNSUPPORTED)
        self._put(base)
        key = _key(base)
        logger.info(
            "station %s: ReserveNow %d on connector %d for %s (expires %s)",
            station_id,
            reservation_id,
            connector_id,
            id_tag,
            expiry_date.isoformat(),
        )
        try:
            outcome = await connection.call(
                request, on_late=lambda late: self._reconcile_reserve(key, late)
            )
        except asyncio.CancelledError:
            # The caller gave up (e.g. the window closed); an answer still reconciles it.
            waiting = self._records[key]
            if waiting.state is ReservationState.SENDING:
                self._change(
                    waiting,
                    ReservationState.NO_RESPONSE,
                    error="the console stopped waiting for the answer",
                )
            raise
        record = self._records[key]
        if record.state is not ReservationState.SENDING:
            # Something else settled it meanwhile (e.g. a StartTransaction crossed it).
            await self._store.save_reservation(record)
            return record
        record = self._apply_reserve_outcome(record, outcome)
        await self._store.save_reservation(record)
        return record

    def _validate(
        self,
        station_id: str,
        connector_id: int,
        id_tag: str,
        expiry_date: datetime,
        parent_id_tag: str | None,
        reservation_id: int | None,
    ) -> None:
        if not isinstance(station_id, str) or not station_id:
            raise ValueError("station_id must be a non-empty string")
        if not _is_int(connector_id):
            raise ValueError("connector_id must be an integer")
        if reservation_id is not None and not _is_int(reservation_id):
            raise ValueError("reservation_id must be an integer (or None to take the next one)")
        if not isinstance(expiry_date, datetime):
            raise ValueError("expiry_date must be a datetime")
        if expiry_date.tzinfo is None:
            raise ValueError("expiry_date must be timezone-aware")
        try:
            ReserveNowRequest(
                connector_id=connector_id,
                expiry_date=expiry_date,
                id_tag=id_tag,
                parent_id_tag=parent_id_tag,
                reservation_id=0 if reservation_id is None else reservation_id,
            )
        except ValidationError as exc:
            raise ValueError(f"invalid reservation: {describe_validation(exc)}") from None

    async def _open_final(
        self, base: ReservationRecord, state: ReservationState, error: str
    ) -> ReservationRecord:
        record = self._next(base, state, error=error)
        self._records[_key(record)] = record
        logger.warning(
            "station %s: reservation %d not sent: %s",
            record.station_id,
            record.reservation_id,
            error,
        )
        self._feed.emit(ReservationChanged(record))
        await self._store.save_reservation(record)
        return record

    def _apply_reserve_outcome(
        self, record: ReservationRecord, outcome: CallOutcome
    ) -> ReservationRecord:
        answered = _now()
        if isinstance(outcome.confirmation, ReserveNowConfirmation):
            status = outcome.confirmation.status
            logger.info(
                "station %s: reservation %d %s",
                record.station_id,
                record.reservation_id,
                status.value,
            )
            return self._answered(record, status, outcome.latency, answered)
        if outcome.error_code is not None:
            logger.warning(
                "station %s: reservation %d answered with an error: %s %s",
                record.station_id,
                record.reservation_id,
                outcome.error_code,
                outcome.error,
            )
            return self._change(
                record,
                ReservationState.ERROR,
                error=f"{outcome.error_code}: {outcome.error}"
                if outcome.error
                else outcome.error_code,
                error_code=outcome.error_code,
                answered_at=answered,
                latency=outcome.latency,
            )
        if outcome.timed_out:
            error = outcome.error or "no answer"
        elif outcome.sent:
            error = f"connection lost before the answer: {outcome.error}"
        else:
            logger.warning(
                "station %s: reservation %d not sent: %s",
                record.station_id,
                record.reservation_id,
                outcome.error,
            )
            return self._change(
                record,
                ReservationState.OFFLINE,
                error=f"connection lost before sending: {outcome.error}",
            )
        logger.warning(
            "station %s: reservation %d: %s", record.station_id, record.reservation_id, error
        )
        return self._change(record, ReservationState.NO_RESPONSE, error=error)

    def _answered(
        self,
        record: ReservationRecord,
        status: ReservationStatus,
        latency: float | None,
        answered: datetime,
        *,
        late: bool = False,
    ) -> ReservationRecord:
        state = _STATE_FOR_STATUS[status]
        if state is ReservationState.ACCEPTED:
            self._end_replaced(record)
        return self._change(
            record,
            state,
            confirmation=status,
            error="late answer" if late else None,
            error_code=None,
            answered_at=answered,
            latency=latency,
        )

    def _end_replaced(self, newer: ReservationRecord) -> None:
        # Same id on the same station: the station replaced the older reservation.
        for older in list(self._records.values()):
            if (
                older.station_id == newer.station_id
                and older.reservation_id == newer.reservation_id
                and older.created_at < newer.created_at
                and older.state is ReservationState.ACCEPTED
            ):
                self._change(
                    older,
                    ReservationState.ENDED,
                    error="replaced by a newer reservation with the same id",
                )

    def _reconcile_reserve(self, key: AttemptKey, late: LateAnswer) -> None:
        record = self._records.get(key)
        if record is None or record.state is not ReservationState.NO_RESPONSE:
            return
        answered = _now()
        if isinstance(late.confirmation, ReserveNowConfirmation):
            status = late.confirmation.status
            logger.info(
                "station %s: late answer to reservation %d: %s",
                record.station_id,
                record.reservation_id,
                status.value,
            )
            self._answered(record, status, late.latency, answered, late=True)
        else:
            code = late.error_code or "error"
            self._change(
                record,
                ReservationState.ERROR,
                error=f"{code}: {late.description} (late answer)",
                error_code=code,
                answered_at=answered,
                latency=late.latency,
            )

    # --- CancelReservation --------------------------------------------------------------

    async def cancel_reservation(self, station_id: str, reservation_id: int) -> CancelOutcome:
        """Send CancelReservation; on Accepted the attempts the station held are cancelled.

        A Rejected answer leaves the records as they are (the outcome shows the answer).
        """
        if not isinstance(station_id, str) or not station_id:
            raise ValueError("station_id must be a non-empty string")
        if not _is_int(reservation_id):
            raise ValueError("reservation_id must be an integer")
        connection = self._connection_for(station_id)
        if connection is None or connection.closed:
            return CancelOutcome(
                reservation_id, station_id, None, error=f"station {station_id} is not connected"
            )
        logger.info("station %s: CancelReservation %d", station_id, reservation_id)
        outcome = await connection.call(
            CancelReservationRequest(reservation_id=reservation_id),
            on_late=lambda late: self._reconcile_cancel(station_id, reservation_id, late),
        )
        if isinstance(outcome.confirmation, CancelReservationConfirmation):
            status = outcome.confirmation.status
            logger.info(
                "station %s: cancel of reservation %d %s", station_id, reservation_id, status.value
            )
            if status is CancelReservationStatus.ACCEPTED:
                await self._cancelled(station_id, reservation_id)
            return CancelOutcome(reservation_id, station_id, status)
        if outcome.error_code is not None:
            error = (
                f"{outcome.error_code}: {outcome.error}" if outcome.error else outcome.error_code
            )
        elif outcome.timed_out:
            error = outcome.error or "no answer"
        elif outcome.sent:
            error = f"connection lost before the answer: {outcome.error}"
        else:
            error = f"connection lost before sending: {outcome.error}"
        logger.warning(
            "station %s: cancel of reservation %d failed: %s", station_id, reservation_id, error
        )
        return CancelOutcome(
            reservation_id,
            station_id,
            None,
            error=error,
            error_code=outcome.error_code,
            timed_out=outcome.timed_out,
        )

    async def _cancelled(self, station_id: str, reservation_id: int) -> None:
        saves = [
            self._store.save_reservation(
                self._change(record, ReservationState.CANCELLED, save=False)
            )
            for record in list(self._records.values())
            if record.station_id == station_id
            and record.reservation_id == reservation_id
            and record.state in _MAY_BE_HELD
        ]
        if saves:
            await asyncio.gather(*saves)

    def _reconcile_cancel(self, station_id: str, reservation_id: int, late: LateAnswer) -> None:
        if (
            isinstance(late.confirmation, CancelReservationConfirmation)
            and late.confirmation.status is CancelReservationStatus.ACCEPTED
        ):
            for record in list(self._records.values()):
                if (
                    record.station_id == station_id
                    and record.reservation_id == reservation_id
                    and record.state in _MAY_BE_HELD
                ):
                    self._change(record, ReservationState.CANCELLED)

    # --- what stations report -----------------------------------------------------------

    def on_transaction_started(
        self, station_id: str, connector_id: int, reservation_id: int, transaction_id: int
    ) -> ReservationRecord | None:
        """A StartTransaction carried ``reservation_id``: that reservation is used."""
        held = [
            r
            for r in self._records.values()
            if r.station_id == station_id
            and r.reservation_id == reservation_id
            and r.state in _MAY_BE_HELD
        ]
        if not held:
            logger.warning(
                "station %s: StartTransaction on connector %d names reservation %d, "
                "which the console does not know as held",
                station_id,
                connector_id,
                reservation_id,
            )
            return None
        latest = max(held, key=lambda r: r.created_at)
        logger.info(
            "station %s: reservation %d used by transaction %d on connector %d",
            station_id,
            reservation_id,
            transaction_id,
            connector_id,
        )
        return self._change(latest, ReservationState.USED, transaction_id=transaction_id)

    def on_connector_status(
        self, station_id: str, connector_id: int, status: ChargePointStatus
    ) -> None:
        """Faulted or Unavailable ends the reservations it affects (connector 0: all).

        ``Available`` on a connector with an accepted reservation for that connector says
        the station no longer holds it (it expired, or the station lost it, e.g. in a
        reboot or while the console was closed): see :meth:`_connector_available`. Other
        statuses (Preparing, Charging, ...) end nothing: a station usually reports
        Preparing before the StartTransaction that uses the reservation.
        """
        if status is ChargePointStatus.AVAILABLE:
            self._connector_available(station_id, connector_id)
            return
        if status not in (ChargePointStatus.FAULTED, ChargePointStatus.UNAVAILABLE):
            return
        for record in list(self._records.values()):
            if (
                record.station_id == station_id
                and record.state is ReservationState.ACCEPTED
                and (connector_id in (0, record.connector_id))
            ):
                logger.info(
                    "station %s: reservation %d ended: connector %d went %s",
                    station_id,
                    record.reservation_id,
                    connector_id,
                    status.value,
                )
                self._change(
                    record,
                    ReservationState.ENDED,
                    error=f"connector {connector_id} went {status.value}",
                )

    def _connector_available(self, station_id: str, connector_id: int) -> None:
        if connector_id == 0:
            # The station as a whole: says nothing about any one reservation.
            return
        now = _now()
        for record in list(self._records.values()):
            if (
                record.station_id != station_id
                or record.connector_id != connector_id
                or record.state is not ReservationState.ACCEPTED
            ):
                continue
            key = _key(record)
            settled = _accepted_at(record) + timedelta(seconds=_AVAILABLE_GRACE)
            if now < settled:
                # Maybe a report the station made before it took the reservation: look
                # again when the grace is over (a Reserved report meanwhile wins).
                if key not in self._available_rechecks:
                    delay = (settled - now).total_seconds()
                    self._available_rechecks[key] = asyncio.get_running_loop().call_later(
                        delay, self._recheck_available, key
                    )
                continue
            self._end_not_held(record)

    def _recheck_available(self, key: AttemptKey) -> None:
        self._available_rechecks.pop(key, None)
        record = self._records.get(key)
        if record is None or record.state is not ReservationState.ACCEPTED:
            return
        connector = self._registry.connector(record.station_id, record.connector_id)
        if connector is None or connector.status is not ChargePointStatus.AVAILABLE:
            logger.info(
                "station %s: reservation %d kept: connector %d reported %s after Available",
                record.station_id,
                record.reservation_id,
                record.connector_id,
                connector.status.value if connector is not None and connector.status else "?",
            )
            return
        self._end_not_held(record)

    def _end_not_held(self, record: ReservationRecord) -> None:
        if record.expiry_date - _now() <= timedelta(seconds=_EXPIRY_SLACK):
            # The station freed the connector at the expiry (our timer may be a bit late).
            logger.info(
                "station %s: reservation %d expired (connector %d reported Available)",
                record.station_id,
                record.reservation_id,
                record.connector_id,
            )
            self._change(record, ReservationState.EXPIRED)
            return
        logger.warning(
            "station %s: reservation %d ended: connector %d reported Available, "
            "the station no longer holds it",
            record.station_id,
            record.reservation_id,
            record.connector_id,
        )
        self._change(record, ReservationState.ENDED, error=NO_LONGER_HELD)

    # --- state changes ------------------------------------------------------------------

    def _next(
        self, record: ReservationRecord, state: ReservationState, **changes: Any
    ) -> ReservationRecord:
        now = _now()
        return dataclasses.replace(
            record,
            state=state,
            updated_at=now,
            history=(*record.history, (state, now)),
            **changes,
        )

    def _put(self, record: ReservationRecord) -> None:
        self._records[_key(record)] = record
        self._track_save(self._store.save_reservation(record))
        self._feed.emit(ReservationChanged(record))

    def _change(
        self,
        record: ReservationRecord,
        state: ReservationState,
        *,
        save: bool = True,
        **changes: Any,
    ) -> ReservationRecord:
        """Move ``record`` to ``state``: the new record replaces it, is stored, announced.

        With ``save=False`` the caller stores it (to await the commit).
        """
        updated = self._next(record, state, **changes)
        key = _key(updated)
        self._records[key] = updated
        self._sync_connector(record, updated)
        if updated.state is ReservationState.ACCEPTED:
            self._schedule_expiry(updated)
        else:
            for timers in (self._expiry_timers, self._available_rechecks):
                timer = timers.pop(key, None)
                if timer is not None:
                    timer.cancel()
        if save:
            self._track_save(self._store.save_reservation(updated))
        self._feed.emit(ReservationChanged(updated))
        return updated

    def _track_save(self, future: asyncio.Future[None]) -> None:
        future.add_done_callback(_log_save_failure)

    def _sync_connector(self, before: ReservationRecord, after: ReservationRecord) -> None:
        connector = self._registry.connector(after.station_id, after.connector_id)
        if after.state is ReservationState.ACCEPTED:
            self._registry.update_connector(
                after.station_id, after.connector_id, reservation_id=after.reservation_id
            )
        elif (
            before.state is ReservationState.ACCEPTED
            and connector is not None
            and connector.reservation_id == after.reservation_id
        ):
            self._registry.update_connector(
                after.station_id, after.connector_id, reservation_id=None
            )

    def _schedule_expiry(self, record: ReservationRecord) -> None:
        key = _key(record)
        old = self._expiry_timers.pop(key, None)
        if old is not None:
            old.cancel()
        delay = max(0.0, (record.expiry_date - _now()).total_seconds())
        loop = asyncio.get_running_loop()
        # The loop's clock is monotonic and stands still while a laptop sleeps, so a long
        # timer would fire late by the length of the sleep: wake up at least every
        # _EXPIRY_RECHECK seconds and compare with the wall clock instead.
        self._expiry_timers[key] = loop.call_later(min(delay, _EXPIRY_RECHECK), self._expire, key)

    def _expire(self, key: AttemptKey) -> None:
        self._expiry_timers.pop(key, None)
        record = self._records.get(key)
        if record is None or record.state is not ReservationState.ACCEPTED:
            return
        if record.expiry_date > _now():
            # Woken to re-check (or a timer fired early): not expired yet.
            self._schedule_expiry(record)
            return
        logger.info("station %s: reservation %d expired", record.station_id, record.reservation_id)
        self._change(record, ReservationState.EXPIRED)


def _accepted_at(record: ReservationRecord) -> datetime:
    """When ``record`` last became ``accepted`` (by the console's clock)."""
    for state, at in reversed(record.history):
        if state is ReservationState.ACCEPTED:
            return at
    return record.answered_at or record.updated_at or record.created_at


def _log_save_failure(future: asyncio.Future[None]) -> None:
    if future.cancelled():
        return
    exc = future.exception()
    if exc is not None:
        logger.error("storing a reservation failed: %s", exc)
