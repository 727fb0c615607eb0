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
    ReservationEngine,
    ReserveResult,
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
        if self.has(Defect.ACCEPTS_SECOND_RESERVATION):
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
        result = super().reserve_now(request, now)
        if result.status is ReservationStatus.ACCEPTED:
            self._ever_held.add(request.reservation_id)
        return result

    def cancel_reservation(self, reservation_id: int) -> CancelResult:
        if (
            self.has(Defect.ACCEPTS_UNKNOWN_CANCEL)
            and self.reservation(reservation_id) is None
            and reservation_id not in self._ever_held
        ):
            return CancelResult(status=CancelReservationStatus.ACCEPTED)
        return super().cancel_reservation(reservation_id)
