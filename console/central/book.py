"""The reservation book: every ReserveNow attempt, with the timers, storage and calls
around the console's lifecycle (DESIGN.md).

What may follow what lives in :mod:`console.central.lifecycle`, as pure code. The book
turns what happens (an answer, a timeout, a report from the station, one of its own
timers) into a happening, asks the lifecycle for the new record, and carries out the
effects it returns: keep and store the record, announce it, arm or disarm a timer, show
the reservation on its connector.

One thing despite its length: every ReserveNow and CancelReservation call, what the station
reports about reservations, and the book's own timers all turn into happenings for the same
records; the rules are in the lifecycle, what is left is carrying them out.

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
from datetime import UTC, datetime
from typing import TypeGuard

from pydantic import ValidationError

from console.central.events import ChangeFeed
from console.central.lifecycle import (
    CONNECTOR_ZERO_UNSUPPORTED,
    NO_EVSE_UNSUPPORTED,
    NO_LONGER_HELD,
    Answered,
    AnsweredLate,
    ArmExpiry,
    ArmGraceCheck,
    CallerGaveUp,
    CallFailed,
    Cancelled,
    ConnectorStatus,
    ConnectorZeroUnsupported,
    ConsoleRestarted,
    DisarmExpiry,
    DisarmGraceCheck,
    EndReplaced,
    ExpiryCheck,
    FailedLate,
    GraceOver,
    Happening,
    LostAfterSending,
    LostBeforeSending,
    NotConnected,
    Notify,
    Overridden,
    ReleaseConnector,
    Replaced,
    ReserveConnector,
    SaveRecord,
    StatusUpdated,
    TimedOut,
    TransactionStarted,
    Transition,
    allows,
    apply,
    note_cancel,
)
from console.central.model import (
    DEFAULT_ID_TOKEN_TYPE,
    CancelAttempt,
    CancelOutcome,
    ConnectorSnapshot,
    ConnectorState,
    ReservationChanged,
    ReservationRecord,
    ReservationState,
    ReserveRequest,
)
from console.central.persistence import Persistence
from console.central.registry import StationRegistry
from console.central.reservation_wire import (
    cancel_answer,
    cancel_request,
    cancel_reservation_id,
    reserve_answer,
    reserve_now_request,
    reserve_request_of,
)
from console.central.station import CallOutcome, StationConnection
from console.ocpp.base import OcppModel
from console.ocpp.enums import ChargePointStatus
from console.ocpp.errors import describe_validation
from console.ocpp.reservation import CancelReservationStatus
from console.ocpp.session import LateAnswer
from console.ocpp.versions import OcppVersion

__all__ = ["CONNECTOR_ZERO_UNSUPPORTED", "NO_LONGER_HELD", "ReservationBook"]

logger = logging.getLogger(__name__)

AttemptKey = tuple[int, str, datetime]
ConnectionLookup = Callable[[str], StationConnection | None]


_EXPIRY_RECHECK = 15.0
"""Seconds between wall-clock checks of an accepted reservation's expiry."""


def _key(record: ReservationRecord) -> AttemptKey:
    return (record.reservation_id, record.station_id, record.created_at)


def _now() -> datetime:
    return datetime.now(UTC)


def _is_int(value: object) -> TypeGuard[int]:
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
        """The highest 1.6 transaction id (2.0.1's are the stations' own texts)."""
        return max(
            (r.transaction_id for r in self._records.values() if _is_int(r.transaction_id)),
            default=0,
        )

    # --- start and stop -----------------------------------------------------------------

    def load(self, records: list[ReservationRecord]) -> None:
        """Take the stored attempts after a (re)start and settle what the stop left open."""
        now = _now()
        for record in records:
            self._records[_key(record)] = record
        for record in list(self._records.values()):
            if allows(record.state, ConsoleRestarted):
                self._apply(record, ConsoleRestarted(), now)

    def close(self) -> None:
        for timer in (*self._expiry_timers.values(), *self._available_rechecks.values()):
            timer.cancel()
        self._expiry_timers.clear()
        self._available_rechecks.clear()

    # --- ReserveNow ---------------------------------------------------------------------

    async def reserve_now(
        self, wanted: ReserveRequest, *, probe: bool = False
    ) -> ReservationRecord:
        """Send ReserveNow and return the attempt as it stands after the answer.

        Raises ``ValueError`` for arguments the protocol does not allow (nothing is sent
        and no id is used then). ``probe`` sends a connector-0 reservation even to a
        station that said it does not support them (the conformance check tests that the
        station refuses it).
        """
        station = self._registry.station(wanted.station_id)
        connection = self._connection_for(wanted.station_id)
        if connection is not None and not connection.closed:
            version = connection.version
        else:
            version = station.ocpp_version if station is not None else OcppVersion.V16
        self._validate(wanted, version)
        station_id, connector_id, id_tag = wanted.station_id, wanted.connector_id, wanted.id_tag
        expiry_date = wanted.expiry_date
        reservation_id = wanted.reservation_id
        if reservation_id is None:
            reservation_id = await self._store.allocate_reservation_id()
        else:
            await self._store.note_reservation_id(reservation_id)
        request = reserve_now_request(wanted, reservation_id, version)
        base = _new_attempt(wanted, reservation_id, version, _now())
        v201 = version is OcppVersion.V201
        if connection is None or connection.closed:
            return await self._open_final(base, NotConnected())
        if (
            connector_id == 0
            and not probe
            and station is not None
            and station.any_connector_reservable is False
        ):
            reason = NO_EVSE_UNSUPPORTED if v201 else CONNECTOR_ZERO_UNSUPPORTED
            return await self._open_final(base, ConnectorZeroUnsupported(reason))
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
            if allows(waiting.state, CallerGaveUp):
                self._apply(waiting, CallerGaveUp())
            raise
        record = self._records[key]
        happening = _reserve_outcome(outcome)
        if not allows(record.state, type(happening)):
            # Something else settled it meanwhile (e.g. a StartTransaction crossed it).
            await self._store.save_reservation(record)
            return record
        transition = apply(record, happening, _now())
        _log_reserve_outcome(transition.record)
        return await self._commit(transition)

    def _validate(self, wanted: ReserveRequest, version: OcppVersion) -> None:
        if not isinstance(wanted.station_id, str) or not wanted.station_id:
            raise ValueError("station_id must be a non-empty string")
        if not _is_int(wanted.connector_id):
            raise ValueError("connector_id must be an integer")
        if wanted.reservation_id is not None and not _is_int(wanted.reservation_id):
            raise ValueError("reservation_id must be an integer (or None to take the next one)")
        if not isinstance(wanted.expiry_date, datetime):
            raise ValueError("expiry_date must be a datetime")
        if wanted.expiry_date.tzinfo is None:
            raise ValueError("expiry_date must be timezone-aware")
        try:
            reserve_now_request(
                wanted, 0 if wanted.reservation_id is None else wanted.reservation_id, version
            )
        except ValidationError as exc:
            raise ValueError(f"invalid reservation: {describe_validation(exc)}") from None

    async def _open_final(self, base: ReservationRecord, happening: Happening) -> ReservationRecord:
        """Settle an attempt that was never sent (no ``sending`` record is announced)."""
        transition = apply(base, happening, _now())
        _log_reserve_outcome(transition.record)
        return await self._commit(transition)

    def _reconcile_reserve(self, key: AttemptKey, late: LateAnswer) -> None:
        record = self._records.get(key)
        if record is None or not allows(record.state, AnsweredLate):
            return
        happening: Happening
        answer = reserve_answer(late.confirmation)
        if answer is not None:
            logger.info(
                "station %s: late answer to reservation %d: %s",
                record.station_id,
                record.reservation_id,
                answer.status.value,
            )
            happening = AnsweredLate(answer.status, late.latency, answer.reason, answer.detail)
        else:
            happening = FailedLate(late.error_code or "error", late.description, late.latency)
        self._apply(record, happening)

    # --- CancelReservation --------------------------------------------------------------

    async def cancel_reservation(
        self, station_id: str, reservation_id: int, *, by_check: bool = False
    ) -> CancelOutcome:
        """Send CancelReservation; on Accepted the attempts the station held are cancelled.

        A Rejected answer leaves the records as they are (the outcome shows the answer).
        Whatever comes of it is kept on the reservation's latest attempt as its
        :class:`CancelAttempt` (and on the attempts it cancelled), committed before this
        returns; a late answer completes it. ``by_check``: the reservation check sends it.
        """
        if not isinstance(station_id, str) or not station_id:
            raise ValueError("station_id must be a non-empty string")
        if not _is_int(reservation_id):
            raise ValueError("reservation_id must be an integer")
        sent_at = _now()
        connection = self._connection_for(station_id)
        if connection is None or connection.closed:
            error = f"station {station_id} is not connected"
            attempt = CancelAttempt(sent_at, error=error, by_check=by_check)
            await self._settle_cancel(station_id, reservation_id, attempt)
            return CancelOutcome(reservation_id, station_id, None, error=error)
        logger.info("station %s: CancelReservation %d", station_id, reservation_id)
        outcome = await connection.call(
            cancel_request(reservation_id, connection.version),
            on_late=lambda late: self._reconcile_cancel(
                station_id, reservation_id, sent_at, by_check, late
            ),
        )
        answer = cancel_answer(outcome.confirmation)
        if answer is not None:
            status = answer.status
            logger.info(
                "station %s: cancel of reservation %d %s", station_id, reservation_id, status.value
            )
            answered = CancelAttempt(
                sent_at,
                status,
                _now(),
                by_check=by_check,
                status_reason=answer.reason,
                status_detail=answer.detail,
            )
            await self._settle_cancel(station_id, reservation_id, answered)
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
        failed = CancelAttempt(
            sent_at,
            answered_at=_now() if outcome.error_code is not None else None,
            timed_out=outcome.timed_out,
            error=error,
            error_code=outcome.error_code,
            by_check=by_check,
        )
        await self._settle_cancel(station_id, reservation_id, failed)
        return CancelOutcome(
            reservation_id,
            station_id,
            None,
            error=error,
            error_code=outcome.error_code,
            timed_out=outcome.timed_out,
        )

    async def _settle_cancel(
        self, station_id: str, reservation_id: int, attempt: CancelAttempt
    ) -> None:
        """:meth:`_note_cancel`, waiting until what it changed is committed."""
        saves = self._note_cancel(station_id, reservation_id, attempt)
        if saves:
            await asyncio.gather(*saves)

    def _note_cancel(
        self, station_id: str, reservation_id: int, attempt: CancelAttempt
    ) -> list[asyncio.Future[None]]:
        """Keep ``attempt`` on the records it concerns; Accepted cancels the held ones.

        The cancelled attempts carry it, and so does the latest attempt with this id (in
        whatever state: an ``expired`` one then says the station still held it), unless it
        already carries a newer cancel. Returns the saves (each failure is logged).
        """
        now = _now()
        transitions: list[Transition] = []
        if attempt.status is CancelReservationStatus.ACCEPTED:
            transitions = [
                apply(record, Cancelled(attempt), now)
                for record in self._attempts(station_id, reservation_id, Cancelled)
            ]
        moved = {_key(t.record) for t in transitions}
        latest = self.get(station_id, reservation_id)
        if (
            latest is not None
            and _key(latest) not in moved
            and (latest.cancel is None or latest.cancel.sent_at <= attempt.sent_at)
        ):
            transitions.append(note_cancel(latest, attempt))
        return [saved for t in transitions if (saved := self._carry_out(t)) is not None]

    def _reconcile_cancel(
        self,
        station_id: str,
        reservation_id: int,
        sent_at: datetime,
        by_check: bool,
        late: LateAnswer,
    ) -> None:
        noted = next(
            (
                r.cancel
                for r in self._records.values()
                if r.station_id == station_id
                and r.reservation_id == reservation_id
                and r.cancel is not None
                and r.cancel.sent_at == sent_at
            ),
            # The answer came before the timeout was noted: the timeout was all there was.
            CancelAttempt(sent_at, timed_out=True, by_check=by_check),
        )
        now = _now()
        answer = cancel_answer(late.confirmation)
        if answer is not None:
            status = answer.status
            logger.info(
                "station %s: late answer to the cancel of reservation %d: %s",
                station_id,
                reservation_id,
                status.value,
            )
            answered = dataclasses.replace(
                noted,
                status=status,
                answered_at=now,
                late=True,
                status_reason=answer.reason,
                status_detail=answer.detail,
            )
        else:
            code = late.error_code or "error"
            answered = dataclasses.replace(
                noted,
                answered_at=now,
                late=True,
                error=f"{code}: {late.description}" if late.description else code,
                error_code=code,
            )
        self._note_cancel(station_id, reservation_id, answered)

    # --- the site's own CSMS (proxy mode) -----------------------------------------------

    def on_upstream_call(
        self, station_id: str, request: OcppModel, outcome: CallOutcome, sent_at: datetime
    ) -> None:
        """The CSMS's ``request``, forwarded to ``station_id`` at ``sent_at``, ended as
        ``outcome`` (the station's answer or CALLERROR, none in time, or none before the
        link ended); called again with the same ``sent_at`` for a late answer.

        A ReserveNow is kept as an attempt made by the CSMS, which the lifecycle then
        follows as any other (the station's reports, the expiry, a CancelReservation); a
        CancelReservation is kept as the CSMS's cancel (Accepted cancels what it held).
        Other calls are not the book's.
        """
        asked = reserve_request_of(station_id, request)
        if asked is not None:
            wanted, reserved_id, version = asked
            self._upstream_reserve(
                _new_attempt(wanted, reserved_id, version, sent_at, by_upstream=True), outcome
            )
            return
        cancelled_id = cancel_reservation_id(request)
        if cancelled_id is not None:
            self._upstream_cancel(station_id, cancelled_id, outcome, sent_at)

    def _upstream_reserve(self, base: ReservationRecord, outcome: CallOutcome) -> None:
        happening = _reserve_outcome(outcome)
        known = self._records.get(_key(base))
        if known is None:
            logger.info(
                "station %s: the CSMS's ReserveNow %d on connector %d for %s: %s",
                base.station_id,
                base.reservation_id,
                base.connector_id,
                base.id_tag,
                type(happening).__name__,
            )
            _log_reserve_outcome(self._apply(base, happening).record)
            return
        # The same call again: its late answer.
        match happening:
            case Answered(status=status, latency=latency, reason=reason, detail=detail):
                happening = AnsweredLate(status, latency, reason, detail)
            case CallFailed(code=code, text=text, latency=latency):
                happening = FailedLate(code, text or "", latency)
        if allows(known.state, type(happening)):
            _log_reserve_outcome(self._apply(known, happening).record)

    def _upstream_cancel(
        self, station_id: str, reservation_id: int, outcome: CallOutcome, sent_at: datetime
    ) -> None:
        noted = next(
            (
                r.cancel
                for r in self._records.values()
                if r.station_id == station_id
                and r.reservation_id == reservation_id
                and r.cancel is not None
                and r.cancel.sent_at == sent_at
            ),
            None,
        )
        late = noted is not None and noted.timed_out
        answer = cancel_answer(outcome.confirmation)
        attempt = CancelAttempt(
            sent_at,
            None if answer is None else answer.status,
            None if outcome.timed_out or outcome.aborted else _now(),
            late=late,
            timed_out=outcome.timed_out or late,
            error=None if answer is not None else _cancel_error(outcome),
            error_code=outcome.error_code,
            status_reason=None if answer is None else answer.reason,
            status_detail=None if answer is None else answer.detail,
            by_upstream=True,
        )
        logger.info(
            "station %s: the CSMS's CancelReservation %d: %s",
            station_id,
            reservation_id,
            attempt.status.value if attempt.status is not None else attempt.error,
        )
        self._note_cancel(station_id, reservation_id, attempt)

    # --- what stations report -----------------------------------------------------------

    def on_transaction_started(
        self, station_id: str, connector_id: int, reservation_id: int, transaction_id: int | str
    ) -> ReservationRecord | None:
        """A StartTransaction (2.0.1: a TransactionEvent) carried ``reservation_id``: that
        reservation is used (``connector_id``: 2.0.1's evseId)."""
        held = self._attempts(station_id, reservation_id, TransactionStarted)
        if not held:
            logger.warning(
                "station %s: a transaction on connector %d names reservation %d, "
                "which the console does not know as held",
                station_id,
                connector_id,
                reservation_id,
            )
            return None
        latest = max(held, key=lambda r: r.created_at)
        logger.info(
            "station %s: reservation %d used by transaction %s on connector %d",
            station_id,
            reservation_id,
            transaction_id,
            connector_id,
        )
        return self._apply(latest, TransactionStarted(transaction_id)).record

    def on_foreign_transaction(
        self,
        station_id: str,
        connector_id: int,
        id_tag: str | None,
        parent: str | None,
        transaction_id: int | str,
    ) -> None:
        """A transaction started on ``connector_id`` (2.0.1: that EVSE) without a
        reservation id, for ``id_tag`` (whose parent or group the console knows as
        ``parent``). An accepted reservation held there for another idTag (and not for
        the card's parent) is over at once: the station gave the connector away, and no
        Available will come while the transaction runs."""
        for record in list(self._records.values()):
            if (
                record.station_id != station_id
                or record.connector_id != connector_id
                or connector_id == 0
                or not allows(record.state, Overridden)
                or _holds_for(record, id_tag, parent)
            ):
                continue
            self._apply(record, Overridden(transaction_id, id_tag))
            logger.warning(
                "station %s: reservation %d on connector %d overridden by transaction %s for %s",
                station_id,
                record.reservation_id,
                connector_id,
                transaction_id,
                id_tag or "an unnamed idTag",
            )

    def on_status_update(self, station_id: str, reservation_id: int, *, expired: bool) -> None:
        """2.0.1: ReservationStatusUpdate ``Expired`` (``expired``) or ``Removed``."""
        held = self._attempts(station_id, reservation_id, StatusUpdated)
        if not held:
            latest = self.get(station_id, reservation_id)
            if latest is not None and latest.state in (
                ReservationState.EXPIRED,
                ReservationState.ENDED,
                ReservationState.CANCELLED,
                ReservationState.USED,
            ):
                # The console's own expiry timer (or a status report) got there first.
                logger.debug(
                    "station %s: ReservationStatusUpdate for reservation %d, already %s",
                    station_id,
                    reservation_id,
                    latest.state.value,
                )
                return
            logger.info(
                "station %s: ReservationStatusUpdate for reservation %d, "
                "which the console does not know as held",
                station_id,
                reservation_id,
            )
            return
        latest = max(held, key=lambda r: r.created_at)
        transition = self._apply(latest, StatusUpdated(expired))
        if expired:
            logger.info("station %s: reservation %d expired", station_id, reservation_id)
        else:
            _log_gone(transition.record)

    def on_connector_status(
        self, station_id: str, connector_id: int, status: ConnectorState
    ) -> None:
        """Tell the station's accepted reservations what ``connector_id`` reported.

        Faulted or Unavailable ends the reservations it affects (connector 0: all);
        Available on a reservation's own connector says the station no longer holds it;
        see :mod:`console.central.lifecycle` for the rules.
        """
        now = _now()
        report = ConnectorStatus(connector_id, status)
        for record in list(self._records.values()):
            if record.station_id == station_id and allows(record.state, ConnectorStatus):
                transition = self._apply(record, report, now)
                if transition.changed:
                    _log_gone(transition.record)

    def _recheck_available(self, key: AttemptKey) -> None:
        self._available_rechecks.pop(key, None)
        record = self._records.get(key)
        if record is None or not allows(record.state, GraceOver):
            return
        status = self._status_of(record)
        transition = self._apply(record, GraceOver(status))
        if transition.changed:
            _log_gone(transition.record)
            return
        logger.info(
            "station %s: reservation %d kept: connector %d reported %s after Available",
            record.station_id,
            record.reservation_id,
            record.connector_id,
            status.value if status else "?",
        )

    def _status_of(self, record: ReservationRecord) -> ConnectorState | None:
        """What the reserved connector says now (2.0.1: the EVSE's connectors, a status
        other than Available first: one Reserved connector says the EVSE is held)."""
        if record.ocpp_version is OcppVersion.V16:
            connector = self._registry.connector(record.station_id, record.connector_id)
            return connector.status if connector is not None else None
        statuses = [
            c.status
            for c in self._registry.evse_connectors(record.station_id, record.connector_id)
            if c.status is not None
        ]
        held = [s for s in statuses if s != ChargePointStatus.AVAILABLE]
        return (held or statuses or [None])[0]

    def _expire(self, key: AttemptKey) -> None:
        self._expiry_timers.pop(key, None)
        record = self._records.get(key)
        if record is None or not allows(record.state, ExpiryCheck):
            return
        if self._apply(record, ExpiryCheck()).changed:
            logger.info(
                "station %s: reservation %d expired", record.station_id, record.reservation_id
            )

    def _end_replaced(self, newer: ReservationRecord) -> None:
        # Same id on the same station: the station replaced the older reservation.
        for older in self._attempts(newer.station_id, newer.reservation_id, Replaced):
            if older.created_at < newer.created_at:
                self._apply(older, Replaced())

    # --- carrying out what the lifecycle decided -----------------------------------------

    def _attempts(
        self, station_id: str, reservation_id: int, happening: type[Happening]
    ) -> list[ReservationRecord]:
        """The attempts with this id on this station whose state takes ``happening``."""
        return [
            r
            for r in self._records.values()
            if r.station_id == station_id
            and r.reservation_id == reservation_id
            and allows(r.state, happening)
        ]

    def _apply(
        self, record: ReservationRecord, happening: Happening, now: datetime | None = None
    ) -> Transition:
        """Move ``record`` by ``happening`` and carry out the effects (the save is not
        awaited: a failure is logged)."""
        transition = apply(record, happening, _now() if now is None else now)
        self._carry_out(transition)
        return transition

    async def _commit(self, transition: Transition) -> ReservationRecord:
        """Carry out ``transition`` and wait until its record is committed."""
        saved = self._carry_out(transition)
        if saved is not None:
            await saved
        return transition.record

    def _carry_out(self, transition: Transition) -> asyncio.Future[None] | None:
        """Carry out ``transition``'s effects in order; returns the save, if there is one."""
        record = transition.record
        key = _key(record)
        saved: asyncio.Future[None] | None = None
        for effect in transition.effects:
            match effect:
                case EndReplaced():
                    self._end_replaced(record)
                case SaveRecord():
                    self._records[key] = record
                    saved = self._store.save_reservation(record)
                    self._track_save(saved)
                case ReserveConnector():
                    for connector in self._reserved_connectors(record):
                        self._registry.update_connector(
                            connector.station_id,
                            connector.connector_id,
                            evse_id=connector.evse_id,
                            reservation_id=record.reservation_id,
                        )
                case ReleaseConnector():
                    for connector in self._reserved_connectors(record):
                        if connector.reservation_id == record.reservation_id:
                            self._registry.update_connector(
                                connector.station_id,
                                connector.connector_id,
                                evse_id=connector.evse_id,
                                reservation_id=None,
                            )
                case ArmExpiry(at=at):
                    self._arm_expiry(key, at)
                case DisarmExpiry():
                    _cancel(self._expiry_timers.pop(key, None))
                case ArmGraceCheck(at=at):
                    if key not in self._available_rechecks:
                        delay = max(0.0, (at - _now()).total_seconds())
                        self._available_rechecks[key] = asyncio.get_running_loop().call_later(
                            delay, self._recheck_available, key
                        )
                case DisarmGraceCheck():
                    _cancel(self._available_rechecks.pop(key, None))
                case Notify():
                    self._feed.emit(ReservationChanged(record))
        return saved

    def _reserved_connectors(self, record: ReservationRecord) -> list[ConnectorSnapshot]:
        """The connectors a held reservation shows on: its connector (1.6), or every
        connector of its EVSE (2.0.1; none for a reservation without an EVSE)."""
        if record.ocpp_version is OcppVersion.V201:
            return self._registry.evse_connectors(record.station_id, record.connector_id)
        connector = self._registry.connector(record.station_id, record.connector_id)
        if connector is None:
            return [ConnectorSnapshot(record.station_id, record.connector_id)]
        return [connector]

    def _put(self, record: ReservationRecord) -> None:
        self._records[_key(record)] = record
        self._track_save(self._store.save_reservation(record))
        self._feed.emit(ReservationChanged(record))

    def _track_save(self, future: asyncio.Future[None]) -> None:
        future.add_done_callback(_log_save_failure)

    def _arm_expiry(self, key: AttemptKey, at: datetime) -> None:
        _cancel(self._expiry_timers.pop(key, None))
        delay = max(0.0, (at - _now()).total_seconds())
        loop = asyncio.get_running_loop()
        # The loop's clock is monotonic and stands still while a laptop sleeps, so a long
        # timer would fire late by the length of the sleep: wake up at least every
        # _EXPIRY_RECHECK seconds and compare with the wall clock instead.
        self._expiry_timers[key] = loop.call_later(min(delay, _EXPIRY_RECHECK), self._expire, key)


def _new_attempt(
    wanted: ReserveRequest,
    reservation_id: int,
    version: OcppVersion,
    created: datetime,
    *,
    by_upstream: bool = False,
) -> ReservationRecord:
    """The ``sending`` record of a ReserveNow sent at ``created``."""
    v201 = version is OcppVersion.V201
    parent_id_tag = wanted.parent_id_tag
    return ReservationRecord(
        reservation_id=reservation_id,
        station_id=wanted.station_id,
        connector_id=wanted.connector_id,
        id_tag=wanted.id_tag,
        parent_id_tag=parent_id_tag,
        expiry_date=wanted.expiry_date,
        created_at=created,
        state=ReservationState.SENDING,
        updated_at=created,
        history=((ReservationState.SENDING, created),),
        ocpp_version=version,
        connector_type=wanted.connector_type if v201 else None,
        id_token_type=(wanted.id_token_type or DEFAULT_ID_TOKEN_TYPE) if v201 else None,
        group_id_token_type=(
            (wanted.group_id_token_type or wanted.id_token_type or DEFAULT_ID_TOKEN_TYPE)
            if v201 and parent_id_tag is not None
            else None
        ),
        by_upstream=by_upstream,
    )


def _reserve_outcome(outcome: CallOutcome) -> Happening:
    """What the end of a ReserveNow call means for its attempt."""
    answer = reserve_answer(outcome.confirmation)
    if answer is not None:
        return Answered(answer.status, outcome.latency, answer.reason, answer.detail)
    if outcome.error_code is not None:
        return CallFailed(outcome.error_code, outcome.error, outcome.latency)
    if outcome.timed_out:
        return TimedOut(outcome.error)
    if outcome.sent:
        return LostAfterSending(outcome.error)
    return LostBeforeSending(outcome.error)


def _cancel_error(outcome: CallOutcome) -> str:
    """Why a cancel got no answer, as the record keeps it."""
    if outcome.error_code is not None:
        return f"{outcome.error_code}: {outcome.error}" if outcome.error else outcome.error_code
    if outcome.timed_out:
        return outcome.error or "no answer"
    return f"connection lost before the answer: {outcome.error}"


def _log_reserve_outcome(record: ReservationRecord) -> None:
    if record.confirmation is not None:
        logger.info(
            "station %s: reservation %d %s",
            record.station_id,
            record.reservation_id,
            record.confirmation.value,
        )
    else:
        logger.warning(
            "station %s: reservation %d %s: %s",
            record.station_id,
            record.reservation_id,
            record.state.value,
            record.error,
        )


def _log_gone(record: ReservationRecord) -> None:
    """Log why a report from the station ended an accepted reservation."""
    if record.state is ReservationState.EXPIRED:
        logger.info(
            "station %s: reservation %d expired (connector %d reported Available)",
            record.station_id,
            record.reservation_id,
            record.connector_id,
        )
        return
    # Losing a reservation unasked is worth a warning; a fault is the station's news.
    logger.log(
        logging.WARNING if record.error == NO_LONGER_HELD else logging.INFO,
        "station %s: reservation %d ended: %s",
        record.station_id,
        record.reservation_id,
        record.error,
    )


def _holds_for(record: ReservationRecord, id_tag: str | None, parent: str | None) -> bool:
    """Whether ``record`` lets the card ``id_tag`` (whose parent or group is ``parent``)
    charge: its own idTag, or one with the reservation's parent idTag (case-insensitive)."""
    reserved = {record.id_tag.casefold()}
    if record.parent_id_tag is not None:
        reserved.add(record.parent_id_tag.casefold())
    cards = {t.casefold() for t in (id_tag, parent) if t is not None}
    return bool(reserved & cards)


def _cancel(timer: asyncio.TimerHandle | None) -> None:
    if timer is not None:
        timer.cancel()


def _log_save_failure(future: asyncio.Future[None]) -> None:
    if future.cancelled():
        return
    exc = future.exception()
    if exc is not None:
        logger.error("storing a reservation failed: %s", exc)
