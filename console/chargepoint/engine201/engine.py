"""The station-side rules of OCPP 2.0.1 reservations (H01-H04), as plain code.

One :class:`ReservationEngine201` per station holds its EVSEs (each with its connectors
and their connector types), its reservations and who is authorized where. It reads no
clock: every method takes ``now`` and first ends the reservations whose
``expiryDateTime`` is reached, so the engine is never behind the time it is told. It does
no I/O: every method returns what the station must send (the answer, the connector
statuses that changed, the reservations that ended and so the ReservationStatusUpdates),
and the caller sends it.

The rules:

* ReserveNow with the ``id`` of a reservation held replaces it (H01.FR.02); a refused
  replacement leaves the old one in place.
* Rejected when ``ReservationCtrlr`` Enabled or Available is false (H01.FR.01), when
  there is no ``evseId`` and NonEvseSpecific is not true (H01.FR.19), for an EVSE or a
  connectorType the station does not have, and for an expiry already passed; each with a
  ``statusInfo`` saying why.
* For an EVSE: Faulted / Unavailable when the station or the EVSE is (or all its
  connectors, of the asked type when one is asked); Occupied when a cable is in, a token
  is authorized there, it is reserved already (for any token), or a reservation without
  EVSE needs it; otherwise Accepted, and every connector of the EVSE reports Reserved
  (H01.FR.20).
* Without an EVSE (H01.FR.07/09): Accepted when every reservation without EVSE, the new
  one too, can still be given a free EVSE of its own with a connector of its type;
  otherwise Occupied, Faulted or Unavailable by the EVSEs that would suit it. The free
  EVSEs the reservations need report Reserved and are refused to other tokens: as many
  reservations as free EVSEs reserves all of them (H01.FR.23/24; see ``matching``).
* A token, or its groupIdToken, that matches a reservation (ignoring case) consumes it
  at authorization (H03.FR.09/10): :meth:`ReservationEngine201.authorize` says which
  reservationId the following TransactionEvent carries. Another token is refused on a
  reserved EVSE, and a cable plugged into a Reserved EVSE without the right token
  changes nothing: the connectors stay Reserved (G01.FR.09 / G03.FR.09).
* A reservation ends at its ``expiryDateTime`` (ReservationStatusUpdate Expired; the
  connectors report Available again), when its EVSE goes Faulted or Unavailable, or a
  reservation without EVSE no longer has one to be kept for (ReservationStatusUpdate
  Removed; the newest give way first). CancelReservation is Accepted for a reservation
  held (its connectors report Available; no ReservationStatusUpdate) and Rejected for any
  other (H02).

Connector statuses are derived from the state (a fault, then availability, then who is
authorized, reservations, and the cable), and every change is the difference between
the statuses before and after, so no status is forgotten or told twice. The EVSEs' own
state (connector types, faults, availability, cable, token) is a
:class:`~console.chargepoint.engine201.station.StationState`; this module holds the
reservations and the rules binding the two.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from console.chargepoint.engine201.matching import feasible, keep_oldest, needed
from console.chargepoint.engine201.station import StationState
from console.chargepoint.engine201.values import (
    AuthorizationDecision,
    AuthorizeResult,
    AvailabilityResult,
    CancelReservationResult,
    CancelReservationStatus,
    ChangeAvailabilityStatus,
    Changes,
    ConnectorStatus,
    ConnectorStatusChange,
    ConnectorType,
    EndedReservation,
    EndReason,
    IdToken,
    OperationalStatus,
    Reservation,
    ReservationRequest,
    ReservationSettings,
    ReserveNowResult,
    ReserveNowStatus,
    StatusInfo,
)

__all__ = ["ReservationEngine201"]

_Statuses = dict[tuple[int, int], ConnectorStatus]


@dataclass(slots=True)
class _Step:
    """One operation in progress: the statuses before it and the reservations it ended."""

    before: _Statuses
    ended: list[EndedReservation] = field(default_factory=list)


class ReservationEngine201:
    """The EVSEs, connectors and reservations of one 2.0.1 station, and the rules binding
    them.

    ``evses`` maps each evseId to its connectors' types (connectorId 1, 2, ...).
    ``groups`` maps idTokens to their groupIdToken (the local authorization list);
    :meth:`learn_group` adds what an Authorize answer told.
    """

    def __init__(
        self,
        evses: Mapping[int, Sequence[ConnectorType]],
        *,
        settings: ReservationSettings | None = None,
        groups: Mapping[str, str | None] | None = None,
    ) -> None:
        self._state = StationState(evses)
        self._evses = self._state.evses
        self.settings = settings or ReservationSettings()
        self._reservations: dict[int, Reservation] = {}  # oldest first
        self._groups: dict[str, str | None] = {}
        for id_token, group in (groups or {}).items():
            self.learn_group(id_token, group)

    # --- reading ------------------------------------------------------------------------

    @property
    def evse_ids(self) -> tuple[int, ...]:
        return tuple(self._evses)

    def connector_ids(self, evse_id: int) -> tuple[int, ...]:
        return tuple(self._state.evse(evse_id).connectors)

    def connector_type(self, evse_id: int, connector_id: int) -> ConnectorType:
        return self._state.connector(evse_id, connector_id).type

    @property
    def reservations(self) -> tuple[Reservation, ...]:
        """The reservations held, oldest first."""
        return tuple(self._reservations.values())

    def reservation(self, reservation_id: int) -> Reservation | None:
        return self._reservations.get(reservation_id)

    def reservation_on(self, evse_id: int) -> Reservation | None:
        """The reservation of that very EVSE (reservations without EVSE not included)."""
        return self._specific().get(evse_id)

    def next_expiry(self) -> datetime | None:
        """When the next reservation expires: the caller's next call with ``now`` then."""
        return min((r.expiry_date_time for r in self._reservations.values()), default=None)

    def kept_evses(self) -> frozenset[int]:
        """The free EVSEs the reservations without EVSE need (reported Reserved)."""
        return self._kept()

    def authorized_token(self, evse_id: int) -> IdToken | None:
        """The token authorized on that EVSE (its transaction's), if any."""
        return self._state.evse(evse_id).authorized

    def cable(self, evse_id: int) -> int | None:
        """The connector of that EVSE with a cable in, if any."""
        return self._state.evse(evse_id).cable

    def charging(self, evse_id: int) -> bool:
        """Whether a token is authorized on that EVSE and the cable is in."""
        evse = self._state.evse(evse_id)
        return evse.authorized is not None and evse.cable is not None

    def status(self, evse_id: int, connector_id: int) -> ConnectorStatus:
        self._state.connector(evse_id, connector_id)
        return self._statuses()[evse_id, connector_id]

    def all_statuses(self) -> tuple[ConnectorStatusChange, ...]:
        """Every connector's status: what a station reports after (re)booting."""
        return tuple(ConnectorStatusChange(e, c, s) for (e, c), s in self._statuses().items())

    def group_of(self, id_token: str) -> str | None:
        return self._groups.get(id_token.casefold())

    def learn_group(self, id_token: str, group_id_token: str | None) -> None:
        """Remember a token's groupIdToken (from the local list or an Authorize answer)."""
        self._groups[id_token.casefold()] = group_id_token

    # --- derived state ------------------------------------------------------------------

    def _specific(self) -> dict[int, Reservation]:
        return {r.evse_id: r for r in self._reservations.values() if r.evse_id is not None}

    def _unnamed(self) -> list[Reservation]:
        """The reservations without EVSE, oldest first."""
        return [r for r in self._reservations.values() if r.evse_id is None]

    def _free(self) -> list[int]:
        """EVSEs a reservation without EVSE may be kept on: in service, nobody authorized,
        not reserved by evseId, and no cable in (one plugged in while Reserved counts as
        none: it changes nothing, G01.FR.09)."""
        specific = self._specific()
        return [
            e
            for e, evse in self._evses.items()
            if self._state.evse_block(e) is None
            and evse.authorized is None
            and e not in specific
            and (evse.cable is None or evse.cable_waiting)
        ]

    def _demand(self, connector_type: ConnectorType | None, free: Sequence[int]) -> frozenset[int]:
        return frozenset(e for e in free if self._state.suits(e, connector_type))

    def _demands(
        self, reservations: Sequence[Reservation], free: Sequence[int]
    ) -> list[frozenset[int]]:
        return [self._demand(r.connector_type, free) for r in reservations]

    def _kept(self) -> frozenset[int]:
        unnamed = self._unnamed()
        if not unnamed:
            return frozenset()
        return needed(self._demands(unnamed, self._free()))

    def _reserved(self) -> set[int]:
        return set(self._specific()) | self._kept()

    def _statuses(self) -> _Statuses:
        reserved = self._reserved()
        statuses: _Statuses = {}
        for e, evse in self._evses.items():
            for c in evse.connectors:
                block = self._state.connector_block(e, c)
                if block is not None:
                    statuses[e, c] = block
                elif evse.authorized is not None:
                    # A reservation consumed at authorization leaves the connectors
                    # Available until the cable is in (H03).
                    statuses[e, c] = (
                        ConnectorStatus.OCCUPIED if evse.cable == c else ConnectorStatus.AVAILABLE
                    )
                elif e in reserved and (evse.cable is None or evse.cable_waiting):
                    statuses[e, c] = ConnectorStatus.RESERVED
                elif evse.cable == c:
                    statuses[e, c] = ConnectorStatus.OCCUPIED
                else:
                    statuses[e, c] = ConnectorStatus.AVAILABLE
        return statuses

    # --- one operation: expire, change, settle, tell -------------------------------------

    def _begin(self, now: datetime) -> _Step:
        step = _Step(before=self._statuses())
        for reservation in [r for r in self._reservations.values() if r.expiry_date_time <= now]:
            self._end(step, reservation, EndReason.EXPIRED)
        return step

    def _end(self, step: _Step, reservation: Reservation, reason: EndReason) -> None:
        del self._reservations[reservation.reservation_id]
        step.ended.append(EndedReservation(reservation, reason))

    def _finish(self, step: _Step) -> Changes:
        self._state.apply_scheduled_availability()
        self._settle(step)
        after = self._statuses()
        changes = tuple(
            ConnectorStatusChange(e, c, status)
            for (e, c), status in after.items()
            if step.before.get((e, c)) is not status
        )
        return Changes(connector_changes=changes, ended=tuple(step.ended))

    def _settle(self, step: _Step) -> None:
        """Remove what can no longer be kept, and let go of cables no longer waiting."""
        for evse_id, reservation in self._specific().items():
            if not self._state.suits(evse_id, reservation.connector_type):
                self._end(step, reservation, EndReason.REMOVED)
        unnamed = self._unnamed()
        verdicts = keep_oldest(self._demands(unnamed, self._free()))
        for reservation, kept in zip(unnamed, verdicts, strict=True):
            if not kept:
                self._end(step, reservation, EndReason.REMOVED)
        # A cable plugged in while Reserved becomes an occupied EVSE once that EVSE is no
        # longer reserved. One at a time: each one let go may make the others needed.
        while True:
            reserved = self._reserved()
            stale = [
                evse
                for e, evse in self._evses.items()
                if evse.cable_waiting and (evse.authorized is not None or e not in reserved)
            ]
            if not stale:
                return
            stale[0].cable_waiting = False

    # --- H01: ReserveNow ----------------------------------------------------------------

    def reserve_now(self, request: ReservationRequest, now: datetime) -> ReserveNowResult:
        """Answer ReserveNow and apply it."""
        step = self._begin(now)
        evse_id = request.evse_id or None  # evseId 0 names no EVSE
        refusal = self._refusal(request, evse_id, now)
        if refusal is not None:
            return self._answer(step, ReserveNowStatus.REJECTED, refusal)
        if self._state.station.faulted:
            return self._answer(step, ReserveNowStatus.FAULTED)
        if not self._state.station.operative:
            return self._answer(step, ReserveNowStatus.UNAVAILABLE)
        # Same id: judge the new one as if the old one were gone, and replace it only when
        # the new one is accepted (a refused update leaves the old one, in its place).
        held = dict(self._reservations)
        previous = self._reservations.pop(request.id, None)
        if evse_id is None:
            status = self._judge_any(request.connector_type)
        else:
            status = self._judge_evse(evse_id, request.connector_type)
        if status is not ReserveNowStatus.ACCEPTED:
            self._reservations = held
            return self._answer(step, status)
        self._reservations[request.id] = Reservation(
            reservation_id=request.id,
            expiry_date_time=request.expiry_date_time,
            id_token=request.id_token,
            evse_id=evse_id,
            connector_type=request.connector_type,
            group_id_token=request.group_id_token,
        )
        if previous is not None:
            step.ended.append(EndedReservation(previous, EndReason.REPLACED))
        return self._answer(step, ReserveNowStatus.ACCEPTED, replaced=previous)

    def _answer(
        self,
        step: _Step,
        status: ReserveNowStatus,
        status_info: StatusInfo | None = None,
        replaced: Reservation | None = None,
    ) -> ReserveNowResult:
        changes = self._finish(step)
        return ReserveNowResult(
            status=status,
            status_info=status_info,
            replaced=replaced,
            connector_changes=changes.connector_changes,
            ended=changes.ended,
        )

    def _refusal(
        self, request: ReservationRequest, evse_id: int | None, now: datetime
    ) -> StatusInfo | None:
        """Why ReserveNow is Rejected, if it is."""
        if not (self.settings.enabled and self.settings.available):
            return StatusInfo("NotEnabled", "reservations are not enabled on this station")
        if evse_id is None and not self.settings.non_evse_specific:
            return StatusInfo(
                "UnsupportedRequest",
                "an evseId is required: ReservationCtrlr.NonEvseSpecific is not true",
            )
        if evse_id is not None and evse_id not in self._evses:
            return StatusInfo("UnknownEvse", f"this station has no EVSE {evse_id}")
        evses = list(self._evses) if evse_id is None else [evse_id]
        if not any(self._state.has_type(e, request.connector_type) for e in evses):
            where = "this station" if evse_id is None else f"EVSE {evse_id}"
            return StatusInfo(
                "UnknownConnectorType", f"{where} has no connector of type {request.connector_type}"
            )
        if request.expiry_date_time <= now:
            return StatusInfo("InvalidValue", "expiryDateTime has passed")
        return None

    def _judge_evse(self, evse_id: int, connector_type: ConnectorType | None) -> ReserveNowStatus:
        block = self._state.evse_block(evse_id, connector_type)
        if block is ConnectorStatus.FAULTED:
            return ReserveNowStatus.FAULTED
        if block is ConnectorStatus.UNAVAILABLE:
            return ReserveNowStatus.UNAVAILABLE
        evse = self._evses[evse_id]
        plugged = evse.cable is not None and not evse.cable_waiting
        if evse.authorized is not None or plugged or evse_id in self._reserved():
            return ReserveNowStatus.OCCUPIED
        return ReserveNowStatus.ACCEPTED

    def _judge_any(self, connector_type: ConnectorType | None) -> ReserveNowStatus:
        free = self._free()
        demands = [*self._demands(self._unnamed(), free), self._demand(connector_type, free)]
        if feasible(demands):
            return ReserveNowStatus.ACCEPTED
        blocks = [
            self._state.evse_block(e, connector_type)
            for e in self._evses
            if self._state.has_type(e, connector_type)
        ]
        if any(b is None for b in blocks):
            return ReserveNowStatus.OCCUPIED
        if all(b is ConnectorStatus.FAULTED for b in blocks):
            return ReserveNowStatus.FAULTED
        return ReserveNowStatus.UNAVAILABLE

    # --- H02: CancelReservation, H04: expiry --------------------------------------------

    def cancel_reservation(self, reservation_id: int, now: datetime) -> CancelReservationResult:
        """Answer CancelReservation and apply it (no ReservationStatusUpdate follows)."""
        step = self._begin(now)
        reservation = self._reservations.get(reservation_id)
        if reservation is None:
            changes = self._finish(step)
            return CancelReservationResult(
                status=CancelReservationStatus.REJECTED,
                status_info=StatusInfo("NotFound", f"no reservation {reservation_id} is held"),
                connector_changes=changes.connector_changes,
                ended=changes.ended,
            )
        self._end(step, reservation, EndReason.CANCELLED)
        changes = self._finish(step)
        return CancelReservationResult(
            status=CancelReservationStatus.ACCEPTED,
            connector_changes=changes.connector_changes,
            ended=changes.ended,
        )

    def tick(self, now: datetime) -> Changes:
        """Time passes: end the reservations whose expiryDateTime is reached (Expired)."""
        return self._finish(self._begin(now))

    # --- H03: use a reserved EVSE -------------------------------------------------------

    def may_authorize(
        self, evse_id: int, id_token: IdToken, group_id_token: str | None = None
    ) -> AuthorizationDecision:
        """Whether ``id_token`` may charge on ``evse_id`` now, and which reservation it uses.

        ``group_id_token`` None means: what the local list or an Authorize answer told.
        """
        evse = self._state.evse(evse_id)
        token = id_token.id_token
        group = group_id_token if group_id_token is not None else self.group_of(token)
        if self._state.evse_block(evse_id) is not None:
            return AuthorizationDecision(False, reason=f"EVSE {evse_id} is out of service")
        if evse.authorized is not None:
            return AuthorizationDecision(False, reason=f"EVSE {evse_id} is in use")
        specific = self._specific().get(evse_id)
        if specific is not None:
            if specific.matches(token, group):
                return AuthorizationDecision(True, specific.reservation_id)
            return AuthorizationDecision(
                False, reason=f"EVSE {evse_id} is reserved for another idToken"
            )
        unnamed = self._unnamed()
        others_free = [e for e in self._free() if e != evse_id]
        for reservation in unnamed:
            if not (
                reservation.matches(token, group)
                and self._state.suits(evse_id, reservation.connector_type)
            ):
                continue
            rest = [r for r in unnamed if r is not reservation]
            if feasible(self._demands(rest, others_free)):
                return AuthorizationDecision(True, reservation.reservation_id)
        if not feasible(self._demands(unnamed, others_free)):
            return AuthorizationDecision(
                False, reason=f"EVSE {evse_id} is kept for a reservation without EVSE"
            )
        return AuthorizationDecision(True)

    def authorize(
        self,
        evse_id: int,
        id_token: IdToken,
        now: datetime,
        group_id_token: str | None = None,
    ) -> AuthorizeResult:
        """A token is presented on an EVSE (at its reader, or by RequestStartTransaction).

        Allowed: the token is authorized there and the reservation it matches is consumed
        (ended Used); the TransactionEvent that follows carries ``reservation_id``.
        Refused: nothing changes (a Reserved connector stays Reserved).
        """
        self._state.evse(evse_id)  # an unknown EVSE raises before anything changes
        step = self._begin(now)
        decision = self.may_authorize(evse_id, id_token, group_id_token)
        if decision.allowed:
            if decision.reservation_id is not None:
                self._end(step, self._reservations[decision.reservation_id], EndReason.USED)
            evse = self._evses[evse_id]
            evse.authorized = id_token
            evse.cable_waiting = False
        changes = self._finish(step)
        return AuthorizeResult(
            allowed=decision.allowed,
            reservation_id=decision.reservation_id,
            reason=decision.reason,
            connector_changes=changes.connector_changes,
            ended=changes.ended,
        )

    def end_authorization(self, evse_id: int, now: datetime) -> Changes:
        """The authorization on that EVSE ends (token presented again, remote stop, or no
        cable in time); a cable still in keeps its connector Occupied."""
        evse = self._state.evse(evse_id)
        step = self._begin(now)
        evse.authorized = None
        return self._finish(step)

    def plug_in(self, evse_id: int, connector_id: int, now: datetime) -> Changes:
        """A cable is plugged in (nothing happens when the EVSE has one already).

        Into a Reserved EVSE without the right token authorized, this changes nothing: the
        connectors stay Reserved and the EVSE stays kept (G01.FR.09).
        """
        self._state.connector(evse_id, connector_id)
        evse = self._evses[evse_id]
        step = self._begin(now)
        if evse.cable is None:
            waiting = evse.authorized is None and evse_id in self._reserved()
            evse.cable = connector_id
            evse.cable_waiting = waiting
        return self._finish(step)

    def unplug(self, evse_id: int, now: datetime) -> Changes:
        """The cable is taken out; the authorization (the transaction) ends with it."""
        evse = self._state.evse(evse_id)
        step = self._begin(now)
        evse.cable = None
        evse.cable_waiting = False
        evse.authorized = None
        return self._finish(step)

    # --- faults and availability (G03/G04/G05) ------------------------------------------

    def set_fault(
        self, now: datetime, *, evse_id: int | None = None, connector_id: int | None = None
    ) -> Changes:
        """The station (no evse_id), an EVSE, or a connector goes Faulted; the reservations
        that can no longer be kept end Removed."""
        return self._put_fault(now, evse_id, connector_id, faulted=True)

    def clear_fault(
        self, now: datetime, *, evse_id: int | None = None, connector_id: int | None = None
    ) -> Changes:
        return self._put_fault(now, evse_id, connector_id, faulted=False)

    def _put_fault(
        self, now: datetime, evse_id: int | None, connector_id: int | None, *, faulted: bool
    ) -> Changes:
        target = self._state.target(evse_id, connector_id)
        step = self._begin(now)
        target.faulted = faulted
        return self._finish(step)

    def change_availability(
        self,
        operational: OperationalStatus,
        now: datetime,
        *,
        evse_id: int | None = None,
        connector_id: int | None = None,
    ) -> AvailabilityResult:
        """ChangeAvailability for the station, an EVSE or a connector: Accepted, Scheduled
        while an EVSE concerned is in use, Rejected for one the station does not have."""
        step = self._begin(now)
        if not self._state.knows(evse_id, connector_id):
            changes = self._finish(step)
            return AvailabilityResult(
                status=ChangeAvailabilityStatus.REJECTED,
                status_info=StatusInfo("UnknownEvse", "no such EVSE or connector"),
                connector_changes=changes.connector_changes,
                ended=changes.ended,
            )
        operative = operational is OperationalStatus.OPERATIVE
        target = self._state.target(evse_id, connector_id)
        concerned = self._evses.values() if evse_id is None else [self._evses[evse_id]]
        status = ChangeAvailabilityStatus.ACCEPTED
        if not operative and any(evse.in_use for evse in concerned):
            target.inoperative_scheduled = True
            status = ChangeAvailabilityStatus.SCHEDULED
        else:
            target.operative = operative
            target.inoperative_scheduled = False
        changes = self._finish(step)
        return AvailabilityResult(
            status=status, connector_changes=changes.connector_changes, ended=changes.ended
        )
