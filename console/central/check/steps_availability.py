"""The 1.6 steps that need more than ReserveNow and CancelReservation (issue #15).

They use Core calls every 1.6 station takes: ChangeAvailability (a connector out of service
ends its reservation and refuses a new one) and RemoteStartTransaction (another idTag may
not charge on a reserved connector); and a replacement that would land on a connector
reserved by someone else. What they change (availability, a transaction they caused) they
put back themselves; the clean-up does it when a step is interrupted.

============================  ==========================================================
:func:`inoperative`           11. Inoperative on a reserved connector ends it; Operative
                              -> Available.
:func:`reserve_inoperative`   12. ReserveNow on an Inoperative connector -> Unavailable.
:func:`remote_start_other`    13. A remote start for another idTag on a reserved
                              connector neither charges nor drops the reservation.
:func:`replace_occupied`      14. A replacement onto a connector reserved by another ->
                              Occupied, the other reservation intact.
============================  ==========================================================
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from datetime import timedelta

from console.central.check.context import (
    StepContext,
    StepVerdict,
    failed,
    not_available_now,
    passed,
    seconds_text,
    skipped,
)
from console.central.check.model import CheckStep, Verdict
from console.central.model import TraceEntry
from console.central.remote_calls import RemoteOutcome
from console.ocpp.base import same_id_tag
from console.ocpp.enums import ChargePointStatus
from console.ocpp.reservation import CancelReservationStatus, ReservationStatus

__all__ = ["BODIES", "inoperative", "remote_start_other", "replace_occupied", "reserve_inoperative"]

_HELD_FOR = timedelta(minutes=10)


class _NotTakenError(Exception):
    """The station does not take a call the step needs (NotImplemented, NotSupported)."""


def _refuse_not_taken(outcome: RemoteOutcome | None) -> None:
    if outcome is not None and outcome.not_implemented:
        raise _NotTakenError(
            f"the station answered {outcome.error} to {outcome.action}, so this rule cannot "
            "be checked on it"
        )


def _not_applicable_when_not_taken(
    body: Callable[..., Awaitable[StepVerdict]],
) -> Callable[..., Awaitable[StepVerdict]]:
    """A step that needs a call the station does not take is N/A, with the reason; what
    it reserved meanwhile is cancelled so the next step finds the connector free."""

    @functools.wraps(body)
    async def step(ctx: StepContext, connector_id: int, **findings: bool) -> StepVerdict:
        try:
            return await body(ctx, connector_id, **findings)
        except _NotTakenError as exc:
            for reservation_id in ctx.calls.may_hold():
                await ctx.calls.cancel(reservation_id)
            return StepVerdict(Verdict.NOT_APPLICABLE, str(exc))

    return step


def _said(outcome: RemoteOutcome | None, ctx: StepContext, action: str) -> str:
    return ctx.no_answer(action) if outcome is None else f"station answered {outcome.text}"


async def _reserved(ctx: StepContext, connector_id: int, id_tag: str) -> int | str:
    """A reservation held on ``connector_id`` (its id, once Reserved came or the time
    limit passed), or why there is none (a str)."""
    since = len(ctx.observer.statuses)
    reservation_id, record = await ctx.calls.reserve(connector_id, id_tag, ctx.expiry_in(_HELD_FOR))
    if record is None or record.confirmation is not ReservationStatus.ACCEPTED:
        return f"could not reserve connector {connector_id} (see step 1): {ctx.answer(record)}"
    # Reserved is step 1's to judge; waiting for it keeps the order of the statuses clear.
    await ctx.observer.wait_for(
        ctx.observer.status_since(since, connector_id, [ChargePointStatus.RESERVED]),
        ctx.options.step_timeout,
    )
    return reservation_id


async def _set_availability(
    ctx: StepContext, connector_id: int, operative: bool
) -> tuple[str | None, str]:
    """ChangeAvailability and the status it must bring: (failure or None, note)."""
    action = "Operative" if operative else "Inoperative"
    wanted = ChargePointStatus.AVAILABLE if operative else ChargePointStatus.UNAVAILABLE
    since = len(ctx.observer.statuses)
    outcome = await ctx.calls.availability(connector_id, operative)
    _refuse_not_taken(outcome)
    if outcome is None or not outcome.accepted:
        return (
            f"ChangeAvailability {action}: expected Accepted, "
            f"{_said(outcome, ctx, 'ChangeAvailability')}",
            "",
        )
    seen = await ctx.observer.wait_for(
        ctx.observer.status_since(since, connector_id, [wanted]), ctx.options.step_timeout
    )
    if seen is None:
        return (
            f"ChangeAvailability {action} Accepted, but no StatusNotification {wanted.value} "
            f"for connector {connector_id} within {seconds_text(ctx.options.step_timeout)}",
            "",
        )
    return None, f"{action}: Accepted, then {wanted.value}"


@_not_applicable_when_not_taken
async def inoperative(
    ctx: StepContext, connector_id: int, *, accepts_unknown_cancel: bool = False
) -> StepVerdict:
    """Step 11: ChangeAvailability Inoperative on a reserved connector -> Unavailable and
    the reservation is gone (cancelling it afterwards -> Rejected, unless step 4 showed the
    station accepts any cancel); Operative -> Available."""
    busy = not_available_now(ctx.system, ctx.station_id, connector_id)
    if busy is not None:
        return skipped(busy)
    held = await _reserved(ctx, connector_id, ctx.id_tag)
    if isinstance(held, str):
        return skipped(held)
    notes = [f"reservation {held} on connector {connector_id}"]
    failure, note = await _set_availability(ctx, connector_id, operative=False)
    if note:
        notes.append(note)
    cancelled = await ctx.calls.cancel(held)
    if cancelled is not None and cancelled.status is CancelReservationStatus.REJECTED:
        ctx.calls.ended(held, ctx.observer.entries[-1].at, "ended")
        notes.append("cancelling it afterwards: Rejected (it ended)")
    elif (
        cancelled is not None
        and cancelled.status is CancelReservationStatus.ACCEPTED
        and accepts_unknown_cancel
    ):
        notes.append("cancelling it afterwards: Accepted, as for any id it does not hold (step 4)")
    elif cancelled is not None and cancelled.status is CancelReservationStatus.ACCEPTED:
        failure = failure or (
            "the station still held the reservation on the Inoperative connector: "
            "cancelling it afterwards was Accepted (a reservation ends when its connector "
            "goes Unavailable)"
        )
    else:
        failure = failure or (
            f"cancelling it afterwards: expected Rejected, {ctx.cancel_answer(cancelled)}"
        )
    back, note = await _set_availability(ctx, connector_id, operative=True)
    if note:
        notes.append(note)
    failure = failure or back
    if failure is not None:
        return failed(f"{failure}; " + "; ".join(notes))
    return passed("; ".join(notes))


@_not_applicable_when_not_taken
async def reserve_inoperative(ctx: StepContext, connector_id: int) -> StepVerdict:
    """Step 12 (TC_048_3): ReserveNow on an Inoperative connector -> Unavailable."""
    busy = not_available_now(ctx.system, ctx.station_id, connector_id)
    if busy is not None:
        return skipped(busy)
    failure, note = await _set_availability(ctx, connector_id, operative=False)
    notes = [note] if note else []
    if failure is None:
        reservation_id, record = await ctx.calls.reserve(
            connector_id, ctx.id_tag, ctx.expiry_in(_HELD_FOR)
        )
        if record is not None and record.confirmation is ReservationStatus.UNAVAILABLE:
            notes.append(f"reservation {reservation_id}: Unavailable")
        else:
            failure = (
                "ReserveNow on the Inoperative connector: expected Unavailable, "
                f"{ctx.answer(record)}"
            )
            if record is not None and record.confirmation is ReservationStatus.ACCEPTED:
                cancelled = await ctx.calls.cancel(reservation_id)
                failure += f"; cancelling it: {ctx.cancel_answer(cancelled)}"
    back, note = await _set_availability(ctx, connector_id, operative=True)
    if note:
        notes.append(note)
    failure = failure or back
    if failure is not None:
        return failed(f"{failure}; " + "; ".join(notes))
    return passed("; ".join(notes))


@_not_applicable_when_not_taken
async def remote_start_other(ctx: StepContext, connector_id: int) -> StepVerdict:
    """Step 13: RemoteStartTransaction for another idTag on the reserved connector: no
    StartTransaction for it, and the reservation still held (cancelling it -> Accepted,
    then Available). A transaction it caused is stopped."""
    busy = not_available_now(ctx.system, ctx.station_id, connector_id)
    if busy is not None:
        return skipped(busy)
    held = await _reserved(ctx, connector_id, ctx.id_tag)
    if isinstance(held, str):
        return skipped(held)
    observer = ctx.observer
    other = ctx.other_id_tag
    sent_from = len(observer.entries)
    started = await ctx.calls.remote_start(connector_id, other)
    _refuse_not_taken(started)
    notes = [
        f"reservation {held} for {ctx.id_tag}; RemoteStartTransaction for {other}: "
        f"{_said(started, ctx, 'RemoteStartTransaction')}"
    ]
    failure: str | None = None

    def charging() -> TraceEntry | None:
        return observer.incoming_call(
            sent_from, ("StartTransaction",), lambda tag: same_id_tag(tag, other)
        )

    # Accepted promises a transaction: wait for it the step's time; a refusal is taken at
    # its word (and whatever came meanwhile still counts).
    wait = ctx.options.step_timeout if started is not None and started.accepted else 0.0
    start = await observer.wait_for(charging, wait) if wait else charging()
    if start is not None:
        failure = (
            f"the station started a transaction for {other} on connector {connector_id}, "
            f"reserved for {ctx.id_tag}"
        )
        await _stop_caused(ctx, connector_id, other)
    cancelled = await ctx.calls.cancel(held)
    if cancelled is not None and cancelled.status is CancelReservationStatus.ACCEPTED:
        notes.append("the reservation still held (cancelling it: Accepted)")
    else:
        failure = failure or (
            f"the remote start dropped the reservation: cancelling it, expected Accepted, "
            f"{ctx.cancel_answer(cancelled)}"
        )
    if failure is not None:
        return failed(f"{failure}; " + "; ".join(notes))
    return passed("; ".join(notes))


async def _stop_caused(ctx: StepContext, connector_id: int, id_tag: str) -> None:
    """Stop the transaction the check caused on ``connector_id`` (the registry has its id
    once the console answered the StartTransaction)."""

    def running() -> int | str | None:
        for connector in ctx.system.connectors(ctx.station_id):
            if (
                connector.connector_id == connector_id
                and connector.transaction_id is not None
                and same_id_tag(connector.id_tag or "", id_tag)
            ):
                return connector.transaction_id
        return None

    transaction_id: int | str | None = await ctx.observer.wait_for(
        running, ctx.options.step_timeout
    )
    if transaction_id is None:
        return
    ctx.calls.caused(transaction_id)
    await ctx.calls.remote_stop(transaction_id)


async def replace_occupied(ctx: StepContext, connector_id: int) -> StepVerdict:
    """Step 14: reservation X on this connector, Y (another idTag) on a second one;
    ReserveNow with X's id on the second connector -> Occupied, and Y intact (cancelling
    it -> Accepted)."""
    second = next(
        (
            c.connector_id
            for c in ctx.system.connectors(ctx.station_id)
            if c.evse_id is None
            and c.connector_id not in (0, connector_id)
            and c.status == ChargePointStatus.AVAILABLE
        ),
        None,
    )
    if second is None:
        return StepVerdict(
            Verdict.NOT_APPLICABLE,
            f"needs a second Available connector besides connector {connector_id}",
        )
    x = await _reserved(ctx, connector_id, ctx.id_tag)
    if isinstance(x, str):
        return skipped(x)
    y = await _reserved(ctx, second, ctx.other_id_tag)
    if isinstance(y, str):
        return skipped(y)
    notes = [f"X {x} on connector {connector_id}, Y {y} on connector {second}"]
    failure: str | None = None
    _, record = await ctx.calls.reserve(second, ctx.id_tag, ctx.expiry_in(_HELD_FOR), x)
    if record is not None and record.confirmation is ReservationStatus.OCCUPIED:
        notes.append(f"ReserveNow {x} on connector {second}: Occupied")
    else:
        failure = f"ReserveNow {x} on connector {second}: expected Occupied, {ctx.answer(record)}"
    cancelled = await ctx.calls.cancel(y)
    if cancelled is not None and cancelled.status is CancelReservationStatus.ACCEPTED:
        notes.append(f"Y intact (cancelling {y}: Accepted)")
    else:
        lost = (
            f"Y did not stay intact: cancelling {y}, expected Accepted, "
            f"{ctx.cancel_answer(cancelled)}"
        )
        failure = lost if failure is None else f"{failure}; {lost}"
    cancel_x = await ctx.calls.cancel(x)
    notes.append(f"cancelling X {x}: {ctx.cancel_answer(cancel_x)}")
    if failure is not None:
        return failed(f"{failure}; " + "; ".join(notes))
    return passed("; ".join(notes))


BODIES: dict[CheckStep, Callable[..., Awaitable[StepVerdict]]] = {
    CheckStep.INOPERATIVE: inoperative,
    CheckStep.RESERVE_INOPERATIVE: reserve_inoperative,
    CheckStep.REMOTE_START_OTHER: remote_start_other,
    CheckStep.REPLACE_OCCUPIED: replace_occupied,
}
"""Each step's function, for the runner."""
