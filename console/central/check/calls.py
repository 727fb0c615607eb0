"""The check's calls to its station: bounded in time, never half-abandoned.

Every ReserveNow and CancelReservation of the check goes through the Central System's public
calls (so it shows in the reservations table and the book stays right) and through
:class:`StationCalls`, which keeps the ledger of the reservations the station may hold: the
clean-up cancels exactly those.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from console.central.check.evidence import EvidenceObserver
from console.central.model import CancelOutcome, ReservationRecord, ReservationState
from console.central.remote_calls import RemoteOutcome
from console.ocpp.reservation import CancelReservationStatus, ReservationStatus
from console.ocpp.v201.enums import ConnectorType

if TYPE_CHECKING:
    from console.central.server import CentralSystem

__all__ = ["StationCalls"]

logger = logging.getLogger(__name__)

T = TypeVar("T")


class StationCalls:
    """The calls one check makes to one station, and what the station may still hold.

    A call that takes longer than the step's time limit comes back as None (and counts in
    :attr:`timeouts`), but goes on: the book settles its record when the answer comes, and
    the clean-up waits for it (:attr:`in_flight`) before cancelling what may be held.
    """

    def __init__(
        self,
        system: CentralSystem,
        station_id: str,
        observer: EvidenceObserver,
        step_timeout: float,
    ) -> None:
        self._system = system
        self._station_id = station_id
        self._observer = observer
        self._step_timeout = step_timeout
        self._may_hold: dict[int, int] = {}
        """Reservations the check sent that the station may hold: id -> connector."""
        self._in_flight: set[asyncio.Future[Any]] = set()
        self._inoperative: set[int] = set()
        """Connectors the check may have made Inoperative (the clean-up makes them
        Operative again)."""
        self._transactions: set[int | str] = set()
        """Transactions the check may have caused (the clean-up stops them)."""
        self.timeouts = 0
        """How many calls got no answer within their time limit so far."""

    # --- the ledger -----------------------------------------------------------------------

    def may_hold(self) -> list[int]:
        """The reservation ids the station may still hold, in ascending order."""
        return sorted(self._may_hold)

    def holds(self, reservation_id: int) -> bool:
        """The station may still hold ``reservation_id``."""
        return reservation_id in self._may_hold

    def held_on(self, connector_id: int) -> list[int]:
        """The reservation ids the station may still hold on ``connector_id``."""
        return [rid for rid, c in self._may_hold.items() if c == connector_id]

    def forget(self, reservation_id: int) -> None:
        """The station no longer holds ``reservation_id`` (it answered a cancel for it)."""
        self._may_hold.pop(reservation_id, None)

    def ended(self, reservation_id: int, at: datetime, ended_by: str) -> None:
        """The station ended ``reservation_id`` by itself (``expired``, ``used``) at ``at``."""
        self._may_hold.pop(reservation_id, None)
        self._observer.end_span(reservation_id, at, ended_by)

    def made_inoperative(self) -> list[int]:
        """The connectors the check may have left Inoperative."""
        return sorted(self._inoperative)

    def caused(self, transaction_id: int | str) -> None:
        """A transaction the check caused runs (stopped by the step or by the clean-up)."""
        self._transactions.add(transaction_id)

    def transactions_caused(self) -> list[int | str]:
        """The transactions the check caused that it has not seen stopped."""
        return list(self._transactions)

    @property
    def in_flight(self) -> set[asyncio.Future[Any]]:
        """Calls still waiting for their answer (a copy)."""
        return set(self._in_flight)

    # --- the calls ------------------------------------------------------------------------

    async def bounded(self, call: Awaitable[T], limit: float | None = None) -> T | None:
        """The call's result, or None if it takes longer than ``limit`` seconds (default: the
        step's time limit). The call itself goes on (shielded)."""
        future = asyncio.ensure_future(call)
        self._in_flight.add(future)
        future.add_done_callback(self._call_done)
        try:
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for swallows a cancel that
            # comes as the answer does, and the check would go on after it was cancelled.
            async with asyncio.timeout(self._step_timeout if limit is None else limit):
                return await asyncio.shield(future)
        except TimeoutError:
            self.timeouts += 1
            return None

    def _call_done(self, future: asyncio.Future[Any]) -> None:
        self._in_flight.discard(future)
        if not future.cancelled() and future.exception() is not None:
            logger.error(
                "station %s: a call of the check failed",
                self._station_id,
                exc_info=future.exception(),
            )

    async def reserve(
        self,
        connector_id: int,
        id_tag: str,
        expiry: datetime,
        reservation_id: int | None = None,
        *,
        probe: bool = False,
        connector_type: ConnectorType | None = None,
    ) -> tuple[int, ReservationRecord | None]:
        """ReserveNow through the book; the id is known (and may be held) before it is sent.

        ``connector_type`` is 2.0.1's (ignored on 1.6)."""
        if reservation_id is None:
            reservation_id = await self._system.allocate_reservation_id()
        fresh = reservation_id not in self._may_hold
        previous = self._may_hold.get(reservation_id)
        self._observer.track(reservation_id)
        self._may_hold[reservation_id] = connector_id
        record = await self.bounded(
            self._system.reserve_now(
                self._station_id,
                connector_id,
                id_tag,
                expiry,
                reservation_id=reservation_id,
                probe=probe,
                connector_type=connector_type,
            )
        )
        if (
            fresh
            and record is not None
            and record.state not in (ReservationState.NO_RESPONSE, ReservationState.SENDING)
            and record.confirmation is not ReservationStatus.ACCEPTED
        ):
            # Refused (or never sent): the station does not hold this id.
            del self._may_hold[reservation_id]
        elif (
            previous is not None
            and record is not None
            and record.confirmation is not None
            and record.confirmation is not ReservationStatus.ACCEPTED
        ):
            # A refused replacement leaves the reservation where it was.
            self._may_hold[reservation_id] = previous
        return reservation_id, record

    async def reserve_typed(
        self, connector_id: int, id_tag: str, expiry: datetime, connector_type: ConnectorType
    ) -> tuple[int, ReservationRecord | None]:
        """2.0.1: ReserveNow for a connector type (``connector_id`` 0: without evseId)."""
        return await self.reserve(
            connector_id, id_tag, expiry, probe=connector_id == 0, connector_type=connector_type
        )

    async def cancel(self, reservation_id: int, limit: float | None = None) -> CancelOutcome | None:
        """CancelReservation through the book (None: no answer within the limit); the
        reservation's record keeps it as the check's cancel."""
        outcome = await self.bounded(
            self._system.cancel_reservation_by_check(self._station_id, reservation_id), limit
        )
        if outcome is not None and outcome.status is not None:
            # Accepted: it is gone; Rejected: the station says it does not hold it.
            self._may_hold.pop(reservation_id, None)
            if outcome.status is CancelReservationStatus.ACCEPTED:
                self._observer.end_span(reservation_id, datetime.now(UTC), "cancelled")
        return outcome

    async def availability(
        self, connector_id: int, operative: bool, limit: float | None = None
    ) -> RemoteOutcome | None:
        """ChangeAvailability (None: no answer within the limit); an Inoperative the
        station may have taken is remembered until an Operative is Accepted."""
        if not operative:
            self._inoperative.add(connector_id)
        outcome = await self.bounded(
            self._system.change_availability(self._station_id, connector_id, operative), limit
        )
        # Operative Accepted, or an Inoperative Rejected: the connector is in service.
        taken = outcome is not None and outcome.accepted
        refused = outcome is not None and outcome.status == "Rejected"
        if (operative and taken) or (not operative and refused):
            self._inoperative.discard(connector_id)
        return outcome

    async def remote_start(self, connector_id: int, id_tag: str) -> RemoteOutcome | None:
        """RemoteStartTransaction (None: no answer within the step's limit)."""
        return await self.bounded(self._system.remote_start(self._station_id, connector_id, id_tag))

    async def remote_stop(
        self, transaction_id: int | str, limit: float | None = None
    ) -> RemoteOutcome | None:
        """RemoteStopTransaction of a transaction the check caused."""
        outcome = await self.bounded(
            self._system.remote_stop(self._station_id, transaction_id), limit
        )
        if outcome is not None and outcome.status is not None:
            self._transactions.discard(transaction_id)
        return outcome
