"""The console's lifecycle of one reservation attempt, as pure code (DESIGN.md).

Everything that can happen to an attempt is a small frozen *happening*. :data:`TRANSITIONS`
says, for each state, which happenings it takes and which states each may lead to, and
:func:`apply` is the one function that moves a record: it returns the new record and the
*effects* the caller carries out (keep and store it, announce it, arm or disarm the expiry
timer, show it on its connector). Nothing here reads a clock, waits, or does I/O: ``now``
is an argument, so a test can walk every path without a loop or a socket.

A happening that the table does not list for a record's state raises :class:`TransitionError`.
When one report concerns several attempts (a StartTransaction, a StatusNotification, an
accepted cancel), the caller picks those whose state takes it with :func:`allows`.

In short::

    sending      -- the station's answer ----------> accepted | faulted | occupied
                                                      | rejected | unavailable
                 -- a CALLERROR, or connector 0 the
                    station does not support ------> error
                 -- no answer (timeout, lost) -----> no_response
                 -- nothing sent ------------------> offline
    no_response  -- a late answer / CALLERROR -----> what it says
    accepted     -- ExpiryCheck past the expiry ---> expired
                 -- a newer one with the same id --> ended
                 -- Faulted, Unavailable, Available
                    (the station no longer holds it) -> ended (or expired near the expiry)
    sending, no_response, accepted
                 -- StartTransaction with its id --> used
                 -- CancelReservation Accepted ----> cancelled

Every other state is final: no happening moves it on.

A cancel attempt (:class:`~console.central.model.CancelAttempt`) is kept on the record
whatever its state: :func:`note_cancel` notes one without moving the record, so that a
reservation the console had settled (say ``expired``) shows that the station still held it
when a cancel was accepted; ``Cancelled(attempt)`` moves a held one and notes it at once.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from console.central.model import (
    CancelAttempt,
    ConnectorState,
    ReservationRecord,
    ReservationState,
)
from console.ocpp.enums import ChargePointStatus
from console.ocpp.reservation import ReservationStatus

__all__ = [
    "AVAILABLE_GRACE",
    "CONNECTOR_ZERO_UNSUPPORTED",
    "EXPIRY_SLACK",
    "NO_EVSE_UNSUPPORTED",
    "NO_LONGER_HELD",
    "REMOVED",
    "REPLACED",
    "TRANSITIONS",
    "Answered",
    "AnsweredLate",
    "ArmExpiry",
    "ArmGraceCheck",
    "CallFailed",
    "CallerGaveUp",
    "Cancelled",
    "ConnectorStatus",
    "ConnectorZeroUnsupported",
    "ConsoleRestarted",
    "DisarmExpiry",
    "DisarmGraceCheck",
    "Effect",
    "EndReplaced",
    "ExpiryCheck",
    "FailedLate",
    "GraceOver",
    "Happening",
    "LostAfterSending",
    "LostBeforeSending",
    "NotConnected",
    "Notify",
    "Overridden",
    "ReleaseConnector",
    "Replaced",
    "ReserveConnector",
    "SaveRecord",
    "StatusUpdated",
    "TimedOut",
    "TransactionStarted",
    "Transition",
    "TransitionError",
    "accepted_at",
    "allows",
    "apply",
    "note_cancel",
]

CONNECTOR_ZERO_UNSUPPORTED = (
    "station does not support connector 0 reservations (ReserveConnectorZeroSupported=false)"
)
NO_EVSE_UNSUPPORTED = (
    "station does not allow reservations without an EVSE (ReservationCtrlr.NonEvseSpecific "
    "is not true)"
)
NO_LONGER_HELD = "station no longer holds it (connector reported Available)"
REPLACED = "replaced by a newer reservation with the same id"
REMOVED = (
    "station removed it (ReservationStatusUpdate Removed: its EVSE went Faulted or Unavailable)"
)

AVAILABLE_GRACE = 5.0
"""Seconds after an acceptance in which an ``Available`` report may still be stale.

A station can send a StatusNotification it prepared before taking the reservation (e.g.
the answer to the TriggerMessage after boot) just after its Accepted answer; the
``Reserved`` report then follows. An ``Available`` that arrives this soon after the
acceptance is only acted on if the connector still says ``Available`` when it is over
(:class:`GraceOver`).
"""

EXPIRY_SLACK = 2.0
"""Seconds before the expiry in which a freed connector counts as the reservation expiring."""


# --- what can happen to an attempt ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Answered:
    """The station answered ReserveNow (2.0.1: with its statusInfo, if it gave one)."""

    status: ReservationStatus
    latency: float | None = None
    reason: str | None = None
    detail: str | None = None


@dataclass(frozen=True, slots=True)
class CallFailed:
    """The station answered ReserveNow with a CALLERROR (or an answer that could not be read)."""

    code: str
    text: str | None = None
    latency: float | None = None


@dataclass(frozen=True, slots=True)
class TimedOut:
    """No answer in time; the station may have taken it."""

    detail: str | None = None


@dataclass(frozen=True, slots=True)
class LostAfterSending:
    """The connection ended after the frame was written; the station may have taken it."""

    detail: str | None = None


@dataclass(frozen=True, slots=True)
class LostBeforeSending:
    """The connection ended while the call still waited in the queue: nothing was sent."""

    detail: str | None = None


@dataclass(frozen=True, slots=True)
class NotConnected:
    """The station was not connected: nothing was sent."""


@dataclass(frozen=True, slots=True)
class ConnectorZeroUnsupported:
    """The station said it takes no connector-0 reservations (2.0.1: none without an EVSE):
    the console sent nothing."""

    reason: str = CONNECTOR_ZERO_UNSUPPORTED


@dataclass(frozen=True, slots=True)
class CallerGaveUp:
    """Whoever waited for the answer stopped waiting (e.g. the window closed)."""


@dataclass(frozen=True, slots=True)
class ConsoleRestarted:
    """The console started again and found this attempt as the last run left it."""


@dataclass(frozen=True, slots=True)
class AnsweredLate:
    """The station answered ReserveNow after the console stopped waiting."""

    status: ReservationStatus
    latency: float | None = None
    reason: str | None = None
    detail: str | None = None


@dataclass(frozen=True, slots=True)
class FailedLate:
    """A CALLERROR (or an unreadable answer) to ReserveNow after the timeout."""

    code: str
    text: str
    latency: float | None = None


@dataclass(frozen=True, slots=True)
class TransactionStarted:
    """A StartTransaction (2.0.1: a TransactionEvent) carried this reservation's id."""

    transaction_id: int | str


@dataclass(frozen=True, slots=True)
class Overridden:
    """A transaction for another idTag started on the reserved connector (2.0.1: EVSE)
    without this reservation's id: the station gave the connector away."""

    transaction_id: int | str
    id_tag: str | None


@dataclass(frozen=True, slots=True)
class Cancelled:
    """The station accepted a CancelReservation of this id (``attempt``: that cancel, kept
    on the record; None leaves the record's cancel attempt as it is)."""

    attempt: CancelAttempt | None = None


@dataclass(frozen=True, slots=True)
class Replaced:
    """A newer attempt with the same id on the same station was accepted."""


@dataclass(frozen=True, slots=True)
class ConnectorStatus:
    """The station reported ``status`` for ``connector_id`` (0: the station as a whole;
    2.0.1: for a connector of EVSE ``connector_id``, which the record calls its connector)."""

    connector_id: int
    status: ConnectorState


@dataclass(frozen=True, slots=True)
class StatusUpdated:
    """2.0.1: ReservationStatusUpdate for this reservation: ``Expired`` or ``Removed``."""

    expired: bool
    """Expired (else Removed: its EVSE went Faulted or Unavailable)."""


@dataclass(frozen=True, slots=True)
class GraceOver:
    """The grace after the acceptance is over; the connector now says ``status``."""

    status: ConnectorState | None


@dataclass(frozen=True, slots=True)
class ExpiryCheck:
    """The console's expiry timer woke up: time to compare ``now`` with the expiry."""


Happening = (
    Answered
    | CallFailed
    | TimedOut
    | LostAfterSending
    | LostBeforeSending
    | NotConnected
    | ConnectorZeroUnsupported
    | CallerGaveUp
    | ConsoleRestarted
    | AnsweredLate
    | FailedLate
    | TransactionStarted
    | Overridden
    | Cancelled
    | Replaced
    | ConnectorStatus
    | StatusUpdated
    | GraceOver
    | ExpiryCheck
)


# --- the table ----------------------------------------------------------------------------

_S = ReservationState
_ANSWERS = frozenset({_S.ACCEPTED, _S.FAULTED, _S.OCCUPIED, _S.REJECTED, _S.UNAVAILABLE})
_NOTHING: Mapping[type[Happening], frozenset[ReservationState]] = {}


def _to(*states: ReservationState) -> frozenset[ReservationState]:
    return frozenset(states)


TRANSITIONS: Final[
    Mapping[ReservationState, Mapping[type[Happening], frozenset[ReservationState]]]
] = {
    _S.SENDING: {
        Answered: _ANSWERS,
        CallFailed: _to(_S.ERROR),
        TimedOut: _to(_S.NO_RESPONSE),
        LostAfterSending: _to(_S.NO_RESPONSE),
        CallerGaveUp: _to(_S.NO_RESPONSE),
        ConsoleRestarted: _to(_S.NO_RESPONSE),
        LostBeforeSending: _to(_S.OFFLINE),
        NotConnected: _to(_S.OFFLINE),
        ConnectorZeroUnsupported: _to(_S.ERROR),
        # A StartTransaction or an accepted cancel may cross the answer.
        TransactionStarted: _to(_S.USED),
        Cancelled: _to(_S.CANCELLED),
    },
    _S.NO_RESPONSE: {
        AnsweredLate: _ANSWERS,
        FailedLate: _to(_S.ERROR),
        TransactionStarted: _to(_S.USED),
        Cancelled: _to(_S.CANCELLED),
        # The station held it after all, and tells it is over.
        StatusUpdated: _to(_S.EXPIRED, _S.ENDED),
    },
    _S.ACCEPTED: {
        TransactionStarted: _to(_S.USED),
        Overridden: _to(_S.ENDED),
        Cancelled: _to(_S.CANCELLED),
        Replaced: _to(_S.ENDED),
        StatusUpdated: _to(_S.EXPIRED, _S.ENDED),
        # A state in its own row: the happening may leave the record as it is.
        ConnectorStatus: _to(_S.ACCEPTED, _S.ENDED, _S.EXPIRED),
        GraceOver: _to(_S.ACCEPTED, _S.ENDED, _S.EXPIRED),
        ExpiryCheck: _to(_S.ACCEPTED, _S.EXPIRED),
        ConsoleRestarted: _to(_S.ACCEPTED, _S.EXPIRED),
    },
    _S.FAULTED: _NOTHING,
    _S.OCCUPIED: _NOTHING,
    _S.REJECTED: _NOTHING,
    _S.UNAVAILABLE: _NOTHING,
    _S.ERROR: _NOTHING,
    _S.OFFLINE: _NOTHING,
    _S.USED: _NOTHING,
    _S.EXPIRED: _NOTHING,
    _S.CANCELLED: _NOTHING,
    _S.ENDED: _NOTHING,
}
"""state -> happening -> the states it may lead to. An empty row: a final state."""


# --- what the caller carries out ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EndReplaced:
    """End the older accepted attempts with this id on this station (:class:`Replaced`),
    before this record is kept: the connector then shows the newer one."""


@dataclass(frozen=True, slots=True)
class SaveRecord:
    """Keep the new record in place of the old one and store it."""


@dataclass(frozen=True, slots=True)
class ReserveConnector:
    """The record's connector shows this reservation."""


@dataclass(frozen=True, slots=True)
class ReleaseConnector:
    """The record's connector no longer shows this reservation (if it still showed it)."""


@dataclass(frozen=True, slots=True)
class ArmExpiry:
    """(Re)arm the expiry timer to look again by ``at`` (:class:`ExpiryCheck`)."""

    at: datetime


@dataclass(frozen=True, slots=True)
class DisarmExpiry:
    """Drop the expiry timer."""


@dataclass(frozen=True, slots=True)
class ArmGraceCheck:
    """Read the connector's status at ``at`` (:class:`GraceOver`), unless a look is already due."""

    at: datetime


@dataclass(frozen=True, slots=True)
class DisarmGraceCheck:
    """Drop a pending :class:`ArmGraceCheck`."""


@dataclass(frozen=True, slots=True)
class Notify:
    """Announce the new record (a ``ReservationChanged``)."""


Effect = (
    EndReplaced
    | SaveRecord
    | ReserveConnector
    | ReleaseConnector
    | ArmExpiry
    | DisarmExpiry
    | ArmGraceCheck
    | DisarmGraceCheck
    | Notify
)


@dataclass(frozen=True, slots=True)
class Transition:
    """What :func:`apply` decided: the record after the happening, and what to carry out."""

    record: ReservationRecord
    effects: tuple[Effect, ...] = ()

    @property
    def changed(self) -> bool:
        """Whether the record moved (a new record to keep, store and announce)."""
        return SaveRecord() in self.effects


class TransitionError(ValueError):
    """A happening that the table does not list for the record's state."""

    def __init__(self, state: ReservationState, happening: Happening) -> None:
        super().__init__(f"{type(happening).__name__} does not apply to a {state.value} record")
        self.state = state
        self.happening = happening


# --- the transition function --------------------------------------------------------------


def allows(state: ReservationState, happening: type[Happening]) -> bool:
    """Whether a record in ``state`` takes ``happening`` (see :data:`TRANSITIONS`)."""
    return happening in TRANSITIONS[state]


def apply(record: ReservationRecord, happening: Happening, now: datetime) -> Transition:
    """The record after ``happening`` at ``now``, and the effects to carry out.

    Raises :class:`TransitionError` if the table does not list ``happening`` for the record's
    state; the record is then left as it is.
    """
    targets = TRANSITIONS[record.state].get(type(happening))
    if targets is None:
        raise TransitionError(record.state, happening)
    transition = _decide(record, happening, now)
    if transition.record.state not in targets:  # pragma: no cover - the table and _decide disagree
        raise AssertionError(
            f"{type(happening).__name__} took a {record.state.value} record to "
            f"{transition.record.state.value}, which the table does not list"
        )
    return transition


def _decide(record: ReservationRecord, happening: Happening, now: datetime) -> Transition:
    match happening:
        case Answered(status=status, latency=latency, reason=reason, detail=detail):
            return _answered(record, status, latency, now, error=None, reason=reason, detail=detail)
        case AnsweredLate(status=status, latency=latency, reason=reason, detail=detail):
            return _answered(
                record, status, latency, now, error="late answer", reason=reason, detail=detail
            )
        case CallFailed(code=code, text=text, latency=latency):
            return _move(
                record,
                _S.ERROR,
                now,
                error=f"{code}: {text}" if text else code,
                error_code=code,
                answered_at=now,
                latency=latency,
            )
        case FailedLate(code=code, text=text, latency=latency):
            return _move(
                record,
                _S.ERROR,
                now,
                error=f"{code}: {text} (late answer)",
                error_code=code,
                answered_at=now,
                latency=latency,
            )
        case TimedOut(detail=detail):
            return _move(record, _S.NO_RESPONSE, now, error=detail or "no answer")
        case LostAfterSending(detail=detail):
            error = f"connection lost before the answer: {detail}"
            return _move(record, _S.NO_RESPONSE, now, error=error)
        case LostBeforeSending(detail=detail):
            error = f"connection lost before sending: {detail}"
            return _move(record, _S.OFFLINE, now, error=error)
        case NotConnected():
            error = f"station {record.station_id} is not connected"
            return _move(record, _S.OFFLINE, now, error=error)
        case ConnectorZeroUnsupported(reason=reason):
            return _move(record, _S.ERROR, now, error=reason)
        case CallerGaveUp():
            error = "the console stopped waiting for the answer"
            return _move(record, _S.NO_RESPONSE, now, error=error)
        case ConsoleRestarted() if record.state is _S.SENDING:
            error = "the console stopped before the station answered"
            return _move(record, _S.NO_RESPONSE, now, error=error)
        case ConsoleRestarted() | ExpiryCheck():
            if record.expiry_date > now:
                # Woken early (or to re-check against the wall clock): not expired yet.
                return Transition(record, (ArmExpiry(record.expiry_date),))
            return _move(record, _S.EXPIRED, now)
        case TransactionStarted(transaction_id=transaction_id):
            return _move(record, _S.USED, now, transaction_id=transaction_id)
        case Overridden(transaction_id=transaction_id, id_tag=id_tag):
            error = (
                f"station overrode the reservation: transaction {transaction_id} started "
                f"for {id_tag or 'another idTag'} without it"
            )
            return _move(record, _S.ENDED, now, error=error)
        case Cancelled(attempt=attempt):
            if attempt is None:
                return _move(record, _S.CANCELLED, now)
            return _move(record, _S.CANCELLED, now, cancel=attempt)
        case Replaced():
            return _move(record, _S.ENDED, now, error=REPLACED)
        case StatusUpdated(expired=expired):
            if expired:
                return _move(record, _S.EXPIRED, now)
            return _move(record, _S.ENDED, now, error=REMOVED)
        case ConnectorStatus(connector_id=connector_id, status=status):
            return _connector_status(record, connector_id, status, now)
        case GraceOver(status=status):
            if status != ChargePointStatus.AVAILABLE:
                return Transition(record)  # a Reserved (or other) report came meanwhile
            return _not_held(record, now)


def _answered(
    record: ReservationRecord,
    status: ReservationStatus,
    latency: float | None,
    now: datetime,
    *,
    error: str | None,
    reason: str | None = None,
    detail: str | None = None,
) -> Transition:
    state = _STATE_FOR_STATUS[status]
    return _move(
        record,
        state,
        now,
        first=(EndReplaced(),) if state is _S.ACCEPTED else (),
        confirmation=status,
        error=error,
        error_code=None,
        answered_at=now,
        latency=latency,
        status_reason=reason,
        status_detail=detail,
    )


_STATE_FOR_STATUS: Final = {
    ReservationStatus.ACCEPTED: _S.ACCEPTED,
    ReservationStatus.FAULTED: _S.FAULTED,
    ReservationStatus.OCCUPIED: _S.OCCUPIED,
    ReservationStatus.REJECTED: _S.REJECTED,
    ReservationStatus.UNAVAILABLE: _S.UNAVAILABLE,
}


def _connector_status(
    record: ReservationRecord, connector_id: int, status: ConnectorState, now: datetime
) -> Transition:
    if connector_id not in (0, record.connector_id):
        return Transition(record)  # another connector
    if status in (ChargePointStatus.FAULTED, ChargePointStatus.UNAVAILABLE):
        # Connector 0 speaks for the whole station: it ends every reservation on it.
        return _move(record, _S.ENDED, now, error=f"connector {connector_id} went {status.value}")
    if status != ChargePointStatus.AVAILABLE or connector_id == 0:
        # Preparing, Charging, ... end nothing: a station usually reports Preparing
        # before the StartTransaction that uses the reservation. Connector 0 Available
        # says nothing about any one reservation.
        return Transition(record)
    # Available: the station no longer holds it (it expired, or the station lost it, e.g.
    # in a reboot or while the console was closed) -- unless the report is stale.
    settled = accepted_at(record) + timedelta(seconds=AVAILABLE_GRACE)
    if now < settled:
        # Maybe a report the station made before it took the reservation: look again
        # when the grace is over (a Reserved report meanwhile wins).
        return Transition(record, (ArmGraceCheck(settled),))
    return _not_held(record, now)


def _not_held(record: ReservationRecord, now: datetime) -> Transition:
    if record.expiry_date - now <= timedelta(seconds=EXPIRY_SLACK):
        # The station freed the connector at the expiry (the console's timer may be late).
        return _move(record, _S.EXPIRED, now)
    return _move(record, _S.ENDED, now, error=NO_LONGER_HELD)


def _move(
    record: ReservationRecord,
    state: ReservationState,
    now: datetime,
    *,
    first: tuple[Effect, ...] = (),
    **changes: Any,
) -> Transition:
    """``record`` in ``state`` from ``now``, with what entering or leaving ``accepted`` needs."""
    updated = dataclasses.replace(
        record, state=state, updated_at=now, history=(*record.history, (state, now)), **changes
    )
    effects: list[Effect] = [*first, SaveRecord()]
    was_held = record.state is _S.ACCEPTED
    if state is _S.ACCEPTED and not was_held:
        effects += [ReserveConnector(), ArmExpiry(updated.expiry_date)]
    elif was_held and state is not _S.ACCEPTED:
        effects += [ReleaseConnector(), DisarmExpiry(), DisarmGraceCheck()]
    effects.append(Notify())
    return Transition(updated, tuple(effects))


def note_cancel(record: ReservationRecord, attempt: CancelAttempt) -> Transition:
    """``record`` with ``attempt`` as its cancel attempt, in the state it was in.

    Not a happening of :data:`TRANSITIONS`: what the cancel says about the state is
    :class:`Cancelled`, for the states that take it. This only keeps what was asked and
    answered, so a final record (``expired``, ``ended``, ...) can say that the station still
    held it, and a held one that the cancel got no answer for says so.
    """
    if record.cancel == attempt:
        return Transition(record)
    return Transition(dataclasses.replace(record, cancel=attempt), (SaveRecord(), Notify()))


def accepted_at(record: ReservationRecord) -> datetime:
    """When ``record`` last became ``accepted`` (by the console's clock)."""
    for state, at in reversed(record.history):
        if state is _S.ACCEPTED:
            return at
    return record.answered_at or record.updated_at or record.created_at
