"""Deliberately defective stations: each :class:`Defect` breaks one Reservation rule.

The reservation conformance check (issue #9) must tell a station that follows the rules
from one that breaks exactly one of them, and say which. A
:class:`DefectiveReservationEngine` is a :class:`~console.chargepoint.engine.ReservationEngine`
that breaks the rules named by its defects and follows every other: each defect is one
override below, and an engine without defects behaves exactly as the plain one.

Build one through the simulator: ``SimulatedStation(..., defects={Defect.FORGETS_EXPIRY})``,
``SiteSimulator(url, defects={"CP-01": {Defect.FORGETS_EXPIRY}})`` or
``ocpp-console simulate --defect forgets_expiry``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from enum import StrEnum

from console.chargepoint.engine import (
    CancelResult,
    Changes,
    EndedReservation,
    ReservationEngine,
    ReserveResult,
    StartDecision,
    StatusChange,
)
from console.ocpp.enums import ChargePointStatus
from console.ocpp.reservation import (
    CancelReservationStatus,
    ReservationStatus,
    ReserveNowRequest,
)

__all__ = ["Defect", "DefectiveReservationEngine", "parse_defects"]


class Defect(StrEnum):
    """One Reservation rule a simulated station breaks on purpose."""

    FORGETS_EXPIRY = "forgets_expiry"
    """Never ends a reservation at its expiryDate: no ``Available``, it still holds it
    (cancelling it later is Accepted)."""
    ACCEPTS_SECOND_RESERVATION = "accepts_second_reservation"
    """Accepts a ReserveNow with a new reservationId on a connector already reserved
    (instead of Occupied) and holds both; the connector stays ``Reserved`` until the last
    of them ends, then reports ``Available``."""
    ACCEPTS_CONNECTOR_ZERO_UNSUPPORTED = "accepts_connector_zero_unsupported"
    """Reports ``ReserveConnectorZeroSupported`` false, yet accepts ReserveNow on connector 0
    (when a connector is free for it, as a supporting station would)."""
    NEVER_SENDS_RESERVED = "never_sends_reserved"
    """Holds reservations by the rules but never sends StatusNotification ``Reserved``
    (not after ReserveNow, not after a boot or a TriggerMessage); it still sends
    ``Available`` when a reservation ends, since it went Reserved -> Available inside."""
    ACCEPTS_UNKNOWN_CANCEL = "accepts_unknown_cancel"
    """Answers Accepted to CancelReservation of an id it never held; nothing changes and no
    StatusNotification is sent. (Ids of reservations it held and that ended, by expiry for
    one, are still Rejected: only unknown ids are mishandled.)"""

    KEEPS_RESERVATION_WHEN_INOPERATIVE = "keeps_reservation_when_inoperative"
    """Keeps a reservation when its connector goes Inoperative (or Faulted): it reports
    ``Unavailable`` but still holds it (cancelling it then is Accepted), and the connector
    comes back ``Reserved`` when Operative again."""
    ACCEPTS_REPLACEMENT_ONTO_OCCUPIED = "accepts_replacement_onto_occupied"
    """Accepts a ReserveNow with the id of a held reservation on a connector reserved for
    another idTag (instead of Occupied), and silently drops that other reservation."""
    STARTS_REMOTE_FOR_OTHER_ID_TAG = "starts_remote_for_other_id_tag"
    """Starts a RemoteStartTransaction for any idTag on a reserved connector, using up the
    reservation (a card presented there is still refused)."""


def parse_defects(names: Iterable[str]) -> frozenset[Defect]:
    """Defects by name (``ValueError`` naming the known ones for an unknown name)."""
    defects: set[Defect] = set()
    for name in names:
        try:
            defects.add(Defect(name.strip().lower()))
        except ValueError:
            known = ", ".join(d.value for d in Defect)
            raise ValueError(f"unknown defect {name!r} (known: {known})") from None
    return frozenset(defects)


class DefectiveReservationEngine(ReservationEngine):
    """A :class:`ReservationEngine` that breaks the rules its ``defects`` name, and only those.

    With :data:`Defect.ACCEPTS_CONNECTOR_ZERO_UNSUPPORTED` the station reports
    ``ReserveConnectorZeroSupported`` false whatever ``reserve_connector_zero_supported``
    says (that is the defect: it says false and acts as if true).
    """

    def __init__(
        self,
        connectors: int,
        *,
        defects: Iterable[Defect],
        reservations_enabled: bool = True,
        reserve_connector_zero_supported: bool = True,
        local_list: Mapping[str, str | None] | None = None,
    ) -> None:
        self.defects = frozenset(defects)
        if Defect.ACCEPTS_CONNECTOR_ZERO_UNSUPPORTED in self.defects:
            reserve_connector_zero_supported = False
        super().__init__(
            connectors,
            reservations_enabled=reservations_enabled,
            reserve_connector_zero_supported=reserve_connector_zero_supported,
            local_list=local_list,
        )
        # Every reservationId this station ever accepted (for ACCEPTS_UNKNOWN_CANCEL).
        self._ever_held: set[int] = set()
        # A held reservation is being moved to another connector (for
        # ACCEPTS_REPLACEMENT_ONTO_OCCUPIED).
        self._moving = False

    def has(self, defect: Defect) -> bool:
        return defect in self.defects

    # --- forgets_expiry -----------------------------------------------------------------

    def tick(self, now: datetime) -> Changes:
        if self.has(Defect.FORGETS_EXPIRY):
            return Changes()  # expired reservations are kept, nothing is reported
        return super().tick(now)

    def next_expiry(self) -> datetime | None:
        if self.has(Defect.FORGETS_EXPIRY):
            return None  # nothing will ever expire: the client's expiry watcher sleeps
        return super().next_expiry()

    # --- accepts_second_reservation -----------------------------------------------------

    def _refuses_reserved_connector(self, connector_id: int) -> bool:
        if self.has(Defect.ACCEPTS_SECOND_RESERVATION) or self._moving:
            return False
        return super()._refuses_reserved_connector(connector_id)

    # --- accepts_connector_zero_unsupported ---------------------------------------------

    def _takes_connector_zero(self) -> bool:
        if self.has(Defect.ACCEPTS_CONNECTOR_ZERO_UNSUPPORTED):
            return True
        return super()._takes_connector_zero()

    # --- never_sends_reserved -----------------------------------------------------------

    def _reported(self, statuses: tuple[StatusChange, ...]) -> tuple[StatusChange, ...]:
        reported = super()._reported(statuses)
        if self.has(Defect.NEVER_SENDS_RESERVED):
            return tuple(s for s in reported if s.status is not ChargePointStatus.RESERVED)
        return reported

    # --- accepts_unknown_cancel ---------------------------------------------------------

    def reserve_now(self, request: ReserveNowRequest, now: datetime) -> ReserveResult:
        held = self.reservation(request.reservation_id)
        there = self.reservation_on(request.connector_id) if request.connector_id else None
        # A held reservation moving onto a connector another reservation holds.
        self._moving = (
            self.has(Defect.ACCEPTS_REPLACEMENT_ONTO_OCCUPIED)
            and held is not None
            and there is not None
            and there.reservation_id != held.reservation_id
        )
        try:
            result = super().reserve_now(request, now)
        finally:
            moving, self._moving = self._moving, False
        if result.status is ReservationStatus.ACCEPTED:
            self._ever_held.add(request.reservation_id)
            if moving:
                # The other reservation on that connector is gone, and nothing says so.
                for other in self.reservations:
                    if (
                        other.connector_id == request.connector_id
                        and other.reservation_id != request.reservation_id
                    ):
                        del self._reservations[other.reservation_id]
        return result

    def cancel_reservation(self, reservation_id: int) -> CancelResult:
        if (
            self.has(Defect.ACCEPTS_UNKNOWN_CANCEL)
            and self.reservation(reservation_id) is None
            and reservation_id not in self._ever_held
        ):
            return CancelResult(status=CancelReservationStatus.ACCEPTED)
        return super().cancel_reservation(reservation_id)

    # --- keeps_reservation_when_inoperative ---------------------------------------------

    def _end_blocked_reservations(self, cause: int | None = None) -> list[EndedReservation]:
        if self.has(Defect.KEEPS_RESERVATION_WHEN_INOPERATIVE):
            return []  # out of service, and the reservations are kept all the same
        return super()._end_blocked_reservations(cause)

    # --- starts_remote_for_other_id_tag -------------------------------------------------

    def may_start(
        self,
        connector_id: int,
        id_tag: str,
        parent_id_tag: str | None = None,
        *,
        remote: bool = False,
    ) -> StartDecision:
        decision = super().may_start(connector_id, id_tag, parent_id_tag, remote=remote)
        if decision.allowed or not remote or not self.has(Defect.STARTS_REMOTE_FOR_OTHER_ID_TAG):
            return decision
        held = self.reservation_on(connector_id)
        if (
            held is not None
            and self._blocked_status(connector_id) is None
            and not self.in_transaction(connector_id)
        ):
            return StartDecision(True, held.reservation_id)
        return decision
