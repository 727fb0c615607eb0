"""The 2.0.1 steps of the reservation check (the TC_H family) that differ from 1.6's.

A 2.0.1 reservation names an EVSE (the Central System's ``connector_id`` is the evseId), is
shown Reserved on *every* connector of it (StatusNotification or NotifyEvent, H01.FR.20),
ends at expiry with ReservationStatusUpdate ``Expired`` (H04), and a cancel frees every
connector with no ReservationStatusUpdate (H02). Steps 2-4 and 9 are the same as in 1.6
(:mod:`console.central.check.steps`); these are 1, 5, 6, 7 and 10.
"""

from __future__ import annotations

from datetime import timedelta

from console.central.check.context import (
    ReserveVerdict,
    StepContext,
    StepVerdict,
    failed,
    passed,
    seconds_text,
    skipped,
)
from console.central.check.evidence import call_field
from console.central.check.model import Verdict
from console.central.model import TraceEntry
from console.ocpp.reservation import CancelReservationStatus, ReservationStatus
from console.ocpp.v201.enums import ConnectorType

__all__ = ["cancel_held", "connector_type", "evse_connectors", "expiry", "no_evse", "reserve"]

_HELD_FOR = timedelta(minutes=10)
_RESERVED = "Reserved"
_AVAILABLE = "Available"
_STATUS_UPDATE = "ReservationStatusUpdate"
_EARLY_TOLERANCE = 1.0


def evse_connectors(ctx: StepContext, evse_id: int) -> list[int]:
    """The connectors of ``evse_id`` the station reported (at least connector 1)."""
    found = sorted(
        c.connector_id for c in ctx.system.connectors(ctx.station_id) if c.evse_id == evse_id
    )
    return found or [1]


async def _reserved_everywhere(ctx: StepContext, since: int, evse_id: int) -> str | None:
    """None once every connector of the EVSE reported Reserved, else why not."""
    connectors = evse_connectors(ctx, evse_id)
    timeout = ctx.options.step_timeout
    seen = await ctx.observer.wait_for(
        ctx.observer.evse_status_since(since, evse_id, connectors, [_RESERVED]), timeout
    )
    if seen is not None:
        return None
    reported = sorted(
        {p.connector_id for p in ctx.observer.statuses[since:] if p.evse_id == evse_id}
        & set(connectors)
    )
    return (
        f"Accepted, but not every connector of EVSE {evse_id} ({', '.join(map(str, connectors))}) "
        f"reported Reserved within {seconds_text(timeout)}"
        + (f" (only {', '.join(map(str, reported))})" if reported else "")
    )


async def reserve(ctx: StepContext, connector_id: int) -> ReserveVerdict:
    """Step 1 on 2.0.1: ReserveNow for an EVSE -> Accepted, then Reserved for every connector
    of that EVSE (StatusNotification or NotifyEvent AvailabilityState)."""
    since = len(ctx.observer.statuses)
    reservation_id, record = await ctx.calls.reserve(
        connector_id, ctx.id_tag, ctx.expiry_in(_HELD_FOR)
    )
    if record is None or record.confirmation is not ReservationStatus.ACCEPTED:
        return ReserveVerdict(
            Verdict.FAILED,
            f"expected Accepted, {ctx.answer(record)}",
            rejected=record is not None and record.confirmation is ReservationStatus.REJECTED,
        )
    missing = await _reserved_everywhere(ctx, since, connector_id)
    if missing is not None:
        return ReserveVerdict(Verdict.FAILED, missing, held=reservation_id)
    return ReserveVerdict(
        Verdict.PASSED,
        f"reservation {reservation_id} for EVSE {connector_id} Accepted, then Reserved on "
        "every connector",
        held=reservation_id,
    )


async def cancel_held(ctx: StepContext, connector_id: int, held: int | None) -> StepVerdict:
    """Step 5 on 2.0.1: CancelReservation -> Accepted, then Available for each connector of
    the EVSE, and no ReservationStatusUpdate (H02: the CSMS asked for it)."""
    if held is None:
        return skipped("no reservation held (step 1 was not Accepted)")
    observer = ctx.observer
    timeout = ctx.options.step_timeout
    since, sent_from = len(observer.statuses), len(observer.entries)
    outcome = await ctx.calls.cancel(held)
    if outcome is None or outcome.status is not CancelReservationStatus.ACCEPTED:
        return failed(f"expected Accepted, {ctx.cancel_answer(outcome)}")
    connectors = evse_connectors(ctx, connector_id)
    seen = await observer.wait_for(
        observer.evse_status_since(since, connector_id, connectors, [_AVAILABLE]), timeout
    )
    if seen is None:
        return failed(
            f"Accepted, but not every connector of EVSE {connector_id} reported Available "
            f"within {seconds_text(timeout)}"
        )
    updates = observer.incoming_since(sent_from, _STATUS_UPDATE)
    if updates:
        return failed(
            f"Accepted and Available, but the station sent ReservationStatusUpdate "
            f"{call_field(updates[0], 'reservationUpdateStatus')} for a reservation the "
            "console cancelled (H02 sends none)"
        )
    return passed(f"reservation {held} cancelled: Accepted, then Available on every connector")


async def no_evse(ctx: StepContext) -> StepVerdict:
    """Step 6 on 2.0.1: ReserveNow without evseId -> Accepted if NonEvseSpecific is true,
    else Rejected (H01.FR.19)."""
    station = ctx.system.station(ctx.station_id)
    value = None if station is None else station.non_evse_specific
    said = (
        "NonEvseSpecific not reported" if value is None else f"NonEvseSpecific={str(value).lower()}"
    )
    expected = ReservationStatus.ACCEPTED if value else ReservationStatus.REJECTED
    reservation_id, record = await ctx.calls.reserve(
        0, ctx.id_tag, ctx.expiry_in(_HELD_FOR), probe=True
    )
    note = ""
    if record is not None and record.confirmation is ReservationStatus.ACCEPTED:
        note = f"; cancelled after: {ctx.cancel_answer(await ctx.calls.cancel(reservation_id))}"
    if record is not None and record.confirmation is expected:
        return passed(f"{said}; reservation {reservation_id} without evseId: {expected}{note}")
    return failed(f"expected {expected} ({said}), {ctx.answer(record)}{note}")


async def connector_type(ctx: StepContext, evse_id: int, wanted: ConnectorType) -> StepVerdict:
    """Step 10 on 2.0.1: a reservation for a connectorType the station reported -> Accepted
    (without evseId when NonEvseSpecific is true, as TC_H_15; else on the EVSE that has it)."""
    station = ctx.system.station(ctx.station_id)
    evse = 0 if station is not None and station.non_evse_specific else evse_id
    where = "without evseId" if evse == 0 else f"on EVSE {evse}"
    reservation_id, record = await ctx.calls.reserve_typed(
        evse, ctx.id_tag, ctx.expiry_in(_HELD_FOR), wanted
    )
    if record is None or record.confirmation is not ReservationStatus.ACCEPTED:
        return failed(f"connectorType {wanted} {where}: expected Accepted, {ctx.answer(record)}")
    cancelled = await ctx.calls.cancel(reservation_id)
    return passed(
        f"reservation {reservation_id} for connectorType {wanted} {where}: Accepted; "
        f"cancelled after: {ctx.cancel_answer(cancelled)}"
    )


async def expiry(ctx: StepContext, connector_id: int) -> StepVerdict:
    """Step 7 on 2.0.1: a reservation expiring a few seconds ahead -> Accepted, Reserved,
    then ReservationStatusUpdate Expired and Available on every connector, with nothing
    sent by the console meanwhile (TC_H_07, H04)."""
    still_held = ctx.calls.held_on(connector_id)
    if still_held:
        return skipped(
            f"EVSE {connector_id} may still hold reservation "
            f"{', '.join(map(str, still_held))} of an earlier step"
        )
    observer = ctx.observer
    timeout = ctx.options.step_timeout
    expires = ctx.expiry_in(timedelta(seconds=ctx.options.expiry_seconds))
    since, sent_from = len(observer.statuses), len(observer.entries)
    reservation_id, record = await ctx.calls.reserve(connector_id, ctx.id_tag, expires)
    if record is None or record.confirmation is not ReservationStatus.ACCEPTED:
        return failed(f"expected Accepted, {ctx.answer(record)}")
    notes = [f"reservation {reservation_id} (expiry {expires:%H:%M:%S}) Accepted"]
    connectors = evse_connectors(ctx, connector_id)

    def expired() -> TraceEntry | None:
        used = observer.start_with(reservation_id, sent_from)
        if used is not None:
            return used
        for update in observer.incoming_since(sent_from, _STATUS_UPDATE):
            if call_field(update, "reservationId") == reservation_id:
                return update
        return None

    wait = (expires - ctx.started_at).total_seconds() + 2 * timeout
    update = await observer.wait_for(expired, max(wait, timeout))
    if update is None:
        return failed(
            f"no ReservationStatusUpdate for reservation {reservation_id} within "
            f"{seconds_text(timeout)} after the expiry; " + "; ".join(notes)
        )
    if update.action == "TransactionEvent":
        ctx.calls.ended(reservation_id, update.at, "used")
        return skipped(
            f"reservation {reservation_id} was used before its expiry (an idToken was "
            "presented); run the check again with no card presented"
        )
    status = call_field(update, "reservationUpdateStatus")
    at = update.at
    ctx.calls.ended(reservation_id, at, "expired")
    early = (expires - at).total_seconds()
    if status != "Expired":
        return failed(f"ReservationStatusUpdate {status}, expected Expired; " + "; ".join(notes))
    if early > _EARLY_TOLERANCE:
        return failed(
            f"ReservationStatusUpdate Expired came {seconds_text(round(early, 1))} before "
            f"the expiry; " + "; ".join(notes)
        )
    notes.append(
        f"ReservationStatusUpdate Expired {seconds_text(round(max(0.0, -early), 1))} after"
    )
    available = await observer.wait_for(
        observer.evse_status_since(since, connector_id, connectors, [_AVAILABLE]), timeout
    )
    if available is None:
        return failed(
            f"no Available for every connector of EVSE {connector_id} within "
            f"{seconds_text(timeout)} after it expired; " + "; ".join(notes)
        )
    notes.append("Available on every connector")
    return passed("; ".join(notes))
