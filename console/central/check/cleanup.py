"""The end of every reservation check: cancel whatever the station may still hold.

Runs whatever ended the check (a failure, the technician's cancel, the task being cancelled,
the station going away): every reservation the check sent that the station may hold is
cancelled, waiting for the station to come back and for late answers within the time limits.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from console.central.check.calls import StationCalls
from console.central.check.evidence import EvidenceObserver

if TYPE_CHECKING:
    from console.central.server import CentralSystem

__all__ = ["cancel_left_reservations"]

logger = logging.getLogger(__name__)


async def cancel_left_reservations(
    system: CentralSystem,
    station_id: str,
    calls: StationCalls,
    observer: EvidenceObserver,
    step_timeout: float,
) -> tuple[int, ...]:
    """Cancel every reservation the station may still hold; the ones that could not be
    cancelled (left behind)."""
    # A slow station answers after the Central System's call timeout: the clean-up
    # waits that long (and for a late answer), rather than call a reservation left
    # behind that the station did cancel.
    patience = step_timeout + system.config.call_timeout
    in_flight = calls.in_flight
    if in_flight:
        # A call the cancel interrupted: its answer says whether the station took it.
        await asyncio.wait(in_flight, timeout=patience)
    left_behind: list[int] = []
    for reservation_id in calls.may_hold():
        if not system.is_connected(station_id):
            back = await observer.wait_for(
                lambda: True if system.is_connected(station_id) else None,
                step_timeout,
                while_lost=True,
            )
            if back is None:
                left_behind.extend(r for r in calls.may_hold() if r >= reservation_id)
                break
        sent_from = len(observer.entries)
        outcome = await calls.cancel(reservation_id, patience)
        if outcome is not None and outcome.status is not None:
            continue
        late = await observer.wait_for(
            observer.cancel_answered(sent_from, reservation_id), patience, while_lost=True
        )
        if late is None:
            left_behind.append(reservation_id)
        else:
            calls.forget(reservation_id)
    if left_behind:
        logger.warning(
            "station %s: the check could not cancel reservation(s) %s",
            station_id,
            ", ".join(map(str, left_behind)),
        )
    return tuple(left_behind)


async def put_back_what_changed(
    system: CentralSystem, station_id: str, calls: StationCalls, step_timeout: float
) -> list[str]:
    """Stop the transactions the check caused and make Operative again every connector it
    may have left Inoperative; what could not be put back, for the log and the result."""
    if not system.is_connected(station_id):
        gone = [f"transaction {t}" for t in calls.transactions_caused()]
        gone += [f"connector {c} Inoperative" for c in calls.made_inoperative()]
        if gone:
            logger.warning(
                "station %s: gone before the check could put back %s", station_id, ", ".join(gone)
            )
        return gone
    patience = step_timeout + system.config.call_timeout
    left: list[str] = []
    for transaction_id in calls.transactions_caused():
        stopped = await calls.remote_stop(transaction_id, patience)
        if stopped is None or not stopped.accepted:
            left.append(f"transaction {transaction_id}")
    for connector_id in calls.made_inoperative():
        back = await calls.availability(connector_id, True, patience)
        if back is None or not back.accepted:
            left.append(f"connector {connector_id} Inoperative")
    if left:
        logger.warning("station %s: the check could not put back %s", station_id, ", ".join(left))
    return left
