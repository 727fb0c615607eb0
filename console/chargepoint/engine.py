"""The station-side rules of the OCPP 1.6 Reservation profile, as plain code.

One :class:`ReservationEngine` per station holds the state of its connectors and its
reservations. It reads no clock (time is an argument) and does no I/O: every change
returns what the station must tell the Central System (the StatusNotifications) and which
reservations ended, and the caller (the client, a test) sends them.

Every SHALL of the profile is here:

* ReserveNow with the reservationId of a reservation held replaces that reservation.
* Otherwise the answer is Accepted when the connector can be reserved; Occupied when the
  station or connector is occupied or already reserved (for any idTag); Faulted /
  Unavailable when the station or connector is in that state; Rejected when the station
  takes no reservations, or for connector 0 without ``ReserveConnectorZeroSupported``.
* After Accepted the connector reports ``Reserved`` and refuses charging to every idTag
  but the reserved one or one whose parent idTag matches (idTags compare
  case-insensitively; the parent is known from the local list or from an Authorize answer).
* A reservation ends when a transaction starts for its idTag (on its connector, or on any
  connector for connector 0; StartTransaction then carries the reservationId), when its
  expiry date is reached (the connector reports ``Available``), or when the station or
  connector goes Faulted or Unavailable.
* CancelReservation is Accepted for a reservationId held (the connector reports
  ``Available``) and Rejected for any other (0 included).
* A connector-0 reservation keeps one connector free for its idTag: while as many free
  connectors are left as there are connector-0 reservations, those connectors report
  ``Reserved`` and refuse every other idTag.

Connector statuses are derived (fault, then availability, then what the cable and the
transaction say, then reservations), and every change is the difference between the
statuses before and after, so no notification is ever forgotten or sent twice.

One thing despite its length: the rules of the profile act on one shared state (a connector
reserved, occupied, faulted) and each rule's case needs the others'; split, every part would
reach into the same state.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from console.ocpp.base import same_id_tag
from console.ocpp.enums import (
    AvailabilityStatus,
    ChargePointErrorCode,
    ChargePointStatus,
)
from console.ocpp.reservation import (
    CancelReservationStatus,
    ReservationStatus,
    ReserveNowRequest,
)

__all__ = [
    "AvailabilityResult",
    "CancelResult",
    "Changes",
    "ChargingRefusedError",
    "EndReason",
    "EndedReservation",
    "Reservation",
    "ReservationEngine",
    "ReserveResult",
    "StartDecision",
    "StatusChange",
    "TransactionStart",
]

# What a connector's cable and transaction say, before faults, availability and reservations.
_IN_USE = frozenset(
    {
        ChargePointStatus.PREPARING,
        ChargePointStatus.CHARGING,
        ChargePointStatus.SUSPENDED_EV,
        ChargePointStatus.SUSPENDED_EVSE,
        ChargePointStatus.FINISHING,
    }
)
_IN_TRANSACTION = frozenset(
    {
        ChargePointStatus.CHARGING,
        ChargePointStatus.SUSPENDED_EV,
        ChargePointStatus.SUSPENDED_EVSE,
    }
)


class EndReason(StrEnum):
    """Why a reservation ended."""

    USED = "used"
    EXPIRED = "expired"
    CANCELLED = "cancelled"
    REPLACED = "replaced"
    FAULTED = "faulted"
    UNAVAILABLE = "unavailable"


@dataclass(frozen=True, slots=True)
class Reservation:
    """A reservation the station holds."""

    reservation_id: int
    connector_id: int
    id_tag: str
    expiry_date: datetime
    parent_id_tag: str | None = None

    def matches(self, id_tag: str, parent_id_tag: str | None) -> bool:
        """Whether ``id_tag`` (with that parent) may use this reservation."""
        return same_id_tag(id_tag, self.id_tag) or same_id_tag(parent_id_tag, self.parent_id_tag)


@dataclass(frozen=True, slots=True)
class StatusChange:
    """A StatusNotification the station must send."""

    connector_id: int
    status: ChargePointStatus
    error_code: ChargePointErrorCode = ChargePointErrorCode.NO_ERROR


@dataclass(frozen=True, slots=True)
class EndedReservation:
    reservation: Reservation
    reason: EndReason


@dataclass(frozen=True, slots=True, kw_only=True)
class Changes:
    """What a change of the station's state means for the Central System."""

    notifications: tuple[StatusChange, ...] = ()
    ended: tuple[EndedReservation, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class ReserveResult(Changes):
    """The answer to ReserveNow, and what it changed."""

    status: ReservationStatus
    replaced: Reservation | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class CancelResult(Changes):
    status: CancelReservationStatus


@dataclass(frozen=True, slots=True, kw_only=True)
class AvailabilityResult(Changes):
    status: AvailabilityStatus


@dataclass(frozen=True, slots=True, kw_only=True)
class TransactionStart(Changes):
    """A transaction started; StartTransaction must carry ``reservation_id`` when set."""

    reservation_id: int | None = None


@dataclass(frozen=True, slots=True)
class StartDecision:
    """Whether an idTag may start charging on a connector, and under which reservation."""

    allowed: bool
    reservation_id: int | None = None
    reason: str = ""


class ChargingRefusedError(Exception):
    """A transaction the rules do not allow."""


@dataclass(slots=True)
class _Connector:
    # Cable and transaction: Available, Preparing, Charging, SuspendedEV(SE), Finishing.
    usage: ChargePointStatus = ChargePointStatus.AVAILABLE
    fault: ChargePointErrorCode | None = None
    operative: bool = True
    # ChangeAvailability(Inoperative) during a transaction takes effect when it ends.
    inoperative_scheduled: bool = False


@dataclass(slots=True)
class _Station:
    fault: ChargePointErrorCode | None = None
    operative: bool = True
    inoperative_scheduled: bool = False
    connectors: dict[int, _Connector] = field(default_factory=dict)


class ReservationEngine:
    """The connectors and reservations of one station, and the rules binding them.

    ``local_list`` maps idTags to their parent idTag (the station's local authorization
    list); :meth:`learn_parent` adds what an Authorize answer told.
    """

    def __init__(
        self,
        connectors: int,
        *,
        reservations_enabled: bool = True,
        reserve_connector_zero_supported: bool = True,
        local_list: Mapping[str, str | None] | None = None,
    ) -> None:
        if connectors < 1:
            raise ValueError("a station has at least one connector")
        self.number_of_connectors = connectors
        self.reservations_enabled = reservations_enabled
        self.reserve_connector_zero_supported = reserve_connector_zero_supported
        self._station = _Station(connectors={c: _Connector() for c in range(1, connectors + 1)})
        self._reservations: dict[int, Reservation] = {}
        self._parents: dict[str, str | None] = {}
        for id_tag, parent in (local_list or {}).items():
            self.learn_parent(id_tag, parent)

    # --- reading ------------------------------------------------------------------------

    @property
    def connector_ids(self) -> range:
        return range(1, self.number_of_connectors + 1)

    @property
    def reservations(self) -> tuple[Reservation, ...]:
        """The reservations held, oldest first."""
        return tuple(self._reservations.values())

    def reservation(self, reservation_id: int) -> Reservation | None:
        return self._reservations.get(reservation_id)

    def reservation_on(self, connector_id: int) -> Reservation | None:
        """The reservation of that very connector (connector-0 reservations not included)."""
        for reservation in self._reservations.values():
            if reservation.connector_id == connector_id:
                return reservation
        return None

    def next_expiry(self) -> datetime | None:
        """When :meth:`tick` has something to do next."""
        return min((r.expiry_date for r in self._reservations.values()), default=None)

    def in_transaction(self, connector_id: int) -> bool:
        return self._connector(connector_id).usage in _IN_TRANSACTION

    def plugged_in(self, connector_id: int) -> bool:
        return self._connector(connector_id).usage is not ChargePointStatus.AVAILABLE

    def status(self, connector_id: int) -> StatusChange:
        """What connector ``connector_id`` (0: the station) reports now."""
        return self._statuses()[connector_id]

    def all_statuses(self) -> tuple[StatusChange, ...]:
        """Every status, connector 0 first: what a station sends after (re)booting."""
        statuses = self._statuses()
        return tuple(statuses[c] for c in sorted(statuses))

    def reported_statuses(self) -> tuple[StatusChange, ...]:
        """What the station tells of :meth:`all_statuses` (after a boot, when triggered)."""
        return self._reported(self.all_statuses())

    def parent_of(self, id_tag: str) -> str | None:
        return self._parents.get(id_tag.casefold())

    def learn_parent(self, id_tag: str, parent_id_tag: str | None) -> None:
        """Remember an idTag's parent (from the local list or an Authorize answer)."""
        self._parents[id_tag.casefold()] = parent_id_tag

    # --- derived state ------------------------------------------------------------------

    def _connector(self, connector_id: int) -> _Connector:
        try:
            return self._station.connectors[connector_id]
        except KeyError:
            raise ValueError(f"no connector {connector_id}") from None

    def _blocked_status(self, connector_id: int) -> StatusChange | None:
        """Faulted / Unavailable from the station or the connector, if so."""
        connector = self._connector(connector_id)
        fault = self._station.fault or connector.fault
        if fault is not None:
            return StatusChange(connector_id, ChargePointStatus.FAULTED, fault)
        if not (self._station.operative and connector.operative):
            return StatusChange(connector_id, ChargePointStatus.UNAVAILABLE)
        return None

    def _free_connectors(self) -> list[int]:
        """Connectors anyone could start on, before connector-0 reservations."""
        reserved = {r.connector_id for r in self._reservations.values()}
        return [
            c
            for c in self.connector_ids
            if self._blocked_status(c) is None
            and self._connector(c).usage is ChargePointStatus.AVAILABLE
            and c not in reserved
        ]

    def _zero_reservations(self) -> list[Reservation]:
        return [r for r in self._reservations.values() if r.connector_id == 0]

    def _held_for_zero(self) -> set[int]:
        # Each connector-0 reservation holds one free connector; while there are no more
        # free connectors than such reservations, every free one is kept (Reserved).
        free = self._free_connectors()
        zero = len(self._zero_reservations())
        return set(free) if zero and len(free) <= zero else set()

    def _statuses(self) -> dict[int, StatusChange]:
        statuses: dict[int, StatusChange] = {}
        if self._station.fault is not None:
            statuses[0] = StatusChange(0, ChargePointStatus.FAULTED, self._station.fault)
        elif not self._station.operative:
            statuses[0] = StatusChange(0, ChargePointStatus.UNAVAILABLE)
        else:
            statuses[0] = StatusChange(0, ChargePointStatus.AVAILABLE)
        reserved = {r.connector_id for r in self._reservations.values()} | self._held_for_zero()
        for c in self.connector_ids:
            blocked = self._blocked_status(c)
            usage = self._connector(c).usage
            if blocked is not None:
                statuses[c] = blocked
            elif usage is not ChargePointStatus.AVAILABLE:
                statuses[c] = StatusChange(c, usage)
            elif c in reserved:
                statuses[c] = StatusChange(c, ChargePointStatus.RESERVED)
            else:
                statuses[c] = StatusChange(c, ChargePointStatus.AVAILABLE)
        return statuses

    def _changes_since(self, before: dict[int, StatusChange]) -> tuple[StatusChange, ...]:
        after = self._statuses()
        return self._reported(tuple(after[c] for c in sorted(after) if after[c] != before.get(c)))

    # --- hooks (a deliberately defective station overrides them; see chargepoint.defects) ---

    def _reported(self, statuses: tuple[StatusChange, ...]) -> tuple[StatusChange, ...]:
        """The StatusNotifications the station sends for these statuses: all of them."""
        return statuses

    def _refuses_reserved_connector(self, connector_id: int) -> bool:
        """Occupied for a connector already reserved (for any idTag)."""
        return self.reservation_on(connector_id) is not None

    def _takes_connector_zero(self) -> bool:
        """Whether ReserveNow on connector 0 may be accepted: as configured."""
        return self.reserve_connector_zero_supported

    def _end_blocked_reservations(self, cause: int | None = None) -> list[EndedReservation]:
        """Rule (3): a reservation ends when its station or connector is Faulted/Unavailable.

        ``cause`` is the connector whose change prompted the check, if one did.
        """
        ended: list[EndedReservation] = []
        for reservation in [r for r in self._reservations.values() if r.connector_id]:
            blocked = self._blocked_status(reservation.connector_id)
            if blocked is not None:
                ended.append(EndedReservation(reservation, self._end_reason(blocked)))
        zero = self._zero_reservations()
        station = self._statuses()[0]
        if station.status is not ChargePointStatus.AVAILABLE:
            ended += [EndedReservation(r, self._end_reason(station)) for r in zero]
        else:
            # Each connector-0 reservation needs a connector in service to be kept for it;
            # the newest ones end when faults or unavailability leave too few.
            blocked_connectors = [
                b for c in self.connector_ids if (b := self._blocked_status(c)) is not None
            ]
            excess = len(zero) - (self.number_of_connectors - len(blocked_connectors))
            if excess > 0:
                cause_status = self._blocked_status(cause) if cause else None
                if cause_status is not None:
                    reason = self._end_reason(cause_status)
                else:
                    faulted = any(b.status is ChargePointStatus.FAULTED for b in blocked_connectors)
                    reason = EndReason.FAULTED if faulted else EndReason.UNAVAILABLE
                ended += [EndedReservation(r, reason) for r in zero[-excess:]]
        for gone in ended:
            del self._reservations[gone.reservation.reservation_id]
        return ended

    @staticmethod
    def _end_reason(status: StatusChange) -> EndReason:
        if status.status is ChargePointStatus.FAULTED:
            return EndReason.FAULTED
        return EndReason.UNAVAILABLE

    # --- the Reservation profile --------------------------------------------------------

    def reserve_now(self, request: ReserveNowRequest, now: datetime) -> ReserveResult:
        """Answer ReserveNow and apply it."""
        if not self.reservations_enabled:
            return ReserveResult(status=ReservationStatus.REJECTED)
        connector_id = request.connector_id
        if connector_id == 0 and not self._takes_connector_zero():
            return ReserveResult(status=ReservationStatus.REJECTED)
        if connector_id > self.number_of_connectors:
            # A connector the station does not have: nothing can be reserved.
            return ReserveResult(status=ReservationStatus.REJECTED)
        if request.expiry_date <= now:
            return ReserveResult(status=ReservationStatus.REJECTED)
        before = self._statuses()
        # Same reservationId: judge the new one as if the old one were gone, and replace
        # it only when the new one is accepted (a refused update leaves the old in place).
        previous = self._reservations.pop(request.reservation_id, None)
        status = self._judge(connector_id)
        if status is not ReservationStatus.ACCEPTED:
            if previous is not None:
                self._reservations[previous.reservation_id] = previous
            return ReserveResult(status=status)
        self._reservations[request.reservation_id] = Reservation(
            reservation_id=request.reservation_id,
            connector_id=connector_id,
            id_tag=request.id_tag,
            expiry_date=request.expiry_date,
            parent_id_tag=request.parent_id_tag,
        )
        ended = () if previous is None else (EndedReservation(previous, EndReason.REPLACED),)
        return ReserveResult(
            status=ReservationStatus.ACCEPTED,
            replaced=previous,
            ended=ended,
            notifications=self._changes_since(before),
        )

    def _judge(self, connector_id: int) -> ReservationStatus:
        if self._station.fault is not None:
            return ReservationStatus.FAULTED
        if not self._station.operative:
            return ReservationStatus.UNAVAILABLE
        if connector_id == 0:
            free = self._free_connectors()
            if len(free) > len(self._zero_reservations()):
                return ReservationStatus.ACCEPTED
            blocked = [self._blocked_status(c) for c in self.connector_ids]
            if all(b is not None and b.status is ChargePointStatus.FAULTED for b in blocked):
                return ReservationStatus.FAULTED
            if all(b is not None for b in blocked):
                return ReservationStatus.UNAVAILABLE
            return ReservationStatus.OCCUPIED
        blocked_status = self._blocked_status(connector_id)
        if blocked_status is not None:
            return (
                ReservationStatus.FAULTED
                if blocked_status.status is ChargePointStatus.FAULTED
                else ReservationStatus.UNAVAILABLE
            )
        if self._connector(connector_id).usage is not ChargePointStatus.AVAILABLE:
            return ReservationStatus.OCCUPIED
        if self._refuses_reserved_connector(connector_id):
            return ReservationStatus.OCCUPIED
        if connector_id in self._held_for_zero():
            return ReservationStatus.OCCUPIED
        return ReservationStatus.ACCEPTED

    def cancel_reservation(self, reservation_id: int) -> CancelResult:
        """Answer CancelReservation and apply it."""
        if reservation_id not in self._reservations:
            return CancelResult(status=CancelReservationStatus.REJECTED)
        before = self._statuses()
        reservation = self._reservations.pop(reservation_id)
        return CancelResult(
            status=CancelReservationStatus.ACCEPTED,
            ended=(EndedReservation(reservation, EndReason.CANCELLED),),
            notifications=self._changes_since(before),
        )

    def tick(self, now: datetime) -> Changes:
        """End the reservations whose expiry date is reached."""
        expired = [r for r in self._reservations.values() if r.expiry_date <= now]
        if not expired:
            return Changes()
        before = self._statuses()
        for reservation in expired:
            del self._reservations[reservation.reservation_id]
        return Changes(
            notifications=self._changes_since(before),
            ended=tuple(EndedReservation(r, EndReason.EXPIRED) for r in expired),
        )

    # --- charging -----------------------------------------------------------------------

    def may_start(
        self,
        connector_id: int,
        id_tag: str,
        parent_id_tag: str | None = None,
        *,
        remote: bool = False,
    ) -> StartDecision:
        """Whether ``id_tag`` may start a transaction on ``connector_id`` now.

        ``parent_id_tag`` None means: what the local list or an Authorize answer told.
        ``remote``: asked by RemoteStartTransaction (the same rules; a defective station
        may not follow them there).
        """
        parent = parent_id_tag if parent_id_tag is not None else self.parent_of(id_tag)
        if self._blocked_status(connector_id) is not None:
            return StartDecision(False, reason=f"connector {connector_id} is out of service")
        if self.in_transaction(connector_id):
            return StartDecision(False, reason=f"connector {connector_id} is charging")
        if self._connector(connector_id).usage is ChargePointStatus.FINISHING:
            return StartDecision(False, reason=f"connector {connector_id} is finishing")
        # One reservation per connector by the rules (a defective station may hold more).
        own = [r for r in self._reservations.values() if r.connector_id == connector_id]
        if own:
            usable = next((r for r in own if r.matches(id_tag, parent)), None)
            if usable is not None:
                return StartDecision(True, usable.reservation_id)
            return StartDecision(
                False, reason=f"connector {connector_id} is reserved for another idTag"
            )
        for reservation in self._zero_reservations():
            if reservation.matches(id_tag, parent):
                return StartDecision(True, reservation.reservation_id)
        if connector_id in self._held_for_zero():
            return StartDecision(
                False, reason=f"connector {connector_id} is kept for a connector-0 reservation"
            )
        return StartDecision(True)

    def start_transaction(
        self,
        connector_id: int,
        id_tag: str,
        parent_id_tag: str | None = None,
        *,
        remote: bool = False,
    ) -> TransactionStart:
        """A transaction starts and the reservation it uses ends (else ChargingRefusedError)."""
        decision = self.may_start(connector_id, id_tag, parent_id_tag, remote=remote)
        if not decision.allowed:
            raise ChargingRefusedError(decision.reason)
        before = self._statuses()
        ended: tuple[EndedReservation, ...] = ()
        if decision.reservation_id is not None:
            used = self._reservations.pop(decision.reservation_id)
            ended = (EndedReservation(used, EndReason.USED),)
        self._connector(connector_id).usage = ChargePointStatus.CHARGING
        return TransactionStart(
            reservation_id=decision.reservation_id,
            ended=ended,
            notifications=self._changes_since(before),
        )

    def _set_usage(self, connector_id: int, usage: ChargePointStatus) -> Changes:
        before = self._statuses()
        self._connector(connector_id).usage = usage
        return Changes(notifications=self._changes_since(before))

    def plug_in(self, connector_id: int) -> Changes:
        """A cable is plugged in (Preparing), unless a transaction runs already."""
        if self._connector(connector_id).usage is not ChargePointStatus.AVAILABLE:
            return Changes()
        return self._set_usage(connector_id, ChargePointStatus.PREPARING)

    def suspend(self, connector_id: int, by_ev: bool = True) -> Changes:
        if not self.in_transaction(connector_id):
            return Changes()
        usage = ChargePointStatus.SUSPENDED_EV if by_ev else ChargePointStatus.SUSPENDED_EVSE
        return self._set_usage(connector_id, usage)

    def stop_transaction(self, connector_id: int) -> Changes:
        """The transaction ends; the cable is still in (Finishing)."""
        if not self.in_transaction(connector_id):
            return Changes()
        before = self._statuses()
        connector = self._connector(connector_id)
        connector.usage = ChargePointStatus.FINISHING
        self._apply_scheduled_availability()
        return Changes(
            notifications=self._changes_since(before),
            ended=tuple(self._end_blocked_reservations(connector_id)),
        )

    def unplug(self, connector_id: int) -> Changes:
        """The cable is taken out: the connector is free again."""
        if self.in_transaction(connector_id):
            raise ValueError(f"connector {connector_id} is charging: stop the transaction first")
        return self._set_usage(connector_id, ChargePointStatus.AVAILABLE)

    # --- faults and availability --------------------------------------------------------

    def set_fault(
        self,
        connector_id: int,
        error_code: ChargePointErrorCode = ChargePointErrorCode.OTHER_ERROR,
    ) -> Changes:
        """Connector ``connector_id`` (0: the whole station) goes Faulted."""
        if error_code is ChargePointErrorCode.NO_ERROR:
            raise ValueError("a fault needs an error code other than NoError")
        return self._change(connector_id, lambda: self._put_fault(connector_id, error_code))

    def clear_fault(self, connector_id: int) -> Changes:
        return self._change(connector_id, lambda: self._put_fault(connector_id, None))

    def _put_fault(self, connector_id: int, fault: ChargePointErrorCode | None) -> None:
        if connector_id == 0:
            self._station.fault = fault
        else:
            self._connector(connector_id).fault = fault

    def change_availability(self, connector_id: int, operative: bool) -> AvailabilityResult:
        """ChangeAvailability: Accepted, or Scheduled while a transaction runs there."""
        if connector_id != 0 and connector_id not in self._station.connectors:
            return AvailabilityResult(status=AvailabilityStatus.REJECTED)
        targets = list(self.connector_ids) if connector_id == 0 else [connector_id]
        busy = not operative and any(self.in_transaction(c) for c in targets)
        if busy:
            if connector_id == 0:
                self._station.inoperative_scheduled = True
            else:
                self._connector(connector_id).inoperative_scheduled = True
            return AvailabilityResult(status=AvailabilityStatus.SCHEDULED)
        changes = self._change(connector_id, lambda: self._put_operative(connector_id, operative))
        return AvailabilityResult(
            status=AvailabilityStatus.ACCEPTED,
            notifications=changes.notifications,
            ended=changes.ended,
        )

    def _put_operative(self, connector_id: int, operative: bool) -> None:
        if connector_id == 0:
            self._station.operative = operative
            self._station.inoperative_scheduled = False
        else:
            connector = self._connector(connector_id)
            connector.operative = operative
            connector.inoperative_scheduled = False

    def _apply_scheduled_availability(self) -> None:
        if self._station.inoperative_scheduled and not any(
            self.in_transaction(c) for c in self.connector_ids
        ):
            self._put_operative(0, False)
        for c, connector in self._station.connectors.items():
            if connector.inoperative_scheduled and not self.in_transaction(c):
                self._put_operative(c, False)

    def _change(self, connector_id: int, mutate: Callable[[], None]) -> Changes:
        before = self._statuses()
        mutate()
        ended = self._end_blocked_reservations(connector_id)
        return Changes(notifications=self._changes_since(before), ended=tuple(ended))
