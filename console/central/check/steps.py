"""The steps of the reservation check: one function per :class:`CheckStep`, named after it.

Each step gets a :class:`~console.central.check.context.StepContext` (the station, the
request, the timings, the evidence observer, the calls, when it started) and what earlier
steps found as plain arguments, and returns a
:class:`~console.central.check.context.StepVerdict` (a step whose findings a later step
needs returns a subclass that carries them). Nothing is kept between steps but what the
runner passes on.

============================  ==========================================================
:func:`reserve`               1. ReserveNow on a free connector -> Accepted, then Reserved.
:func:`second_reservation`    2. Another idTag and reservationId -> Occupied.
:func:`replace`               3. Step 1's reservationId with another idTag -> Accepted.
:func:`cancel_unknown`        4. CancelReservation of an id never sent -> Rejected.
:func:`cancel_held`           5. CancelReservation of the held id -> Accepted, then Available.
:func:`connector_zero`        6. Connector 0 as ``ReserveConnectorZeroSupported`` says.
:func:`expiry`                7. A short expiry -> Available after it, with nothing sent.
:func:`cards`                 8. (guided) Another card is refused; the reserved one charges.
:func:`schemas`               9. Every frame of the station against the official schemas.
============================  ==========================================================
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta

from console.central.check.context import (
    CancelUnknownVerdict,
    ReserveVerdict,
    SecondReservationVerdict,
    StepContext,
    StepVerdict,
    failed,
    not_available_now,
    passed,
    seconds_text,
    skipped,
)
from console.central.check.evidence import call_field
from console.central.check.model import StatusPoint, Verdict
from console.central.model import TraceDirection, TraceEntry
from console.central.proxy.relay import Route
from console.ocpp.base import same_id_tag
from console.ocpp.enums import ChargePointStatus
from console.ocpp.frames import MessageType
from console.ocpp.reservation import CancelReservationStatus, ReservationStatus
from console.ocpp.schema import station_frame_problems
from console.ocpp.versions import OcppVersion

__all__ = [
    "RESERVE_CONNECTOR_ZERO_SUPPORTED",
    "cancel_held",
    "cancel_unknown",
    "cards",
    "connector_zero",
    "expiry",
    "replace",
    "reserve",
    "schemas",
    "second_reservation",
]

_CSMS_CALLS_THAT_MAY_FREE = frozenset(
    {
        "CancelReservation",
        "ChangeAvailability",
        "RemoteStartTransaction",
        "ReserveNow",
        "Reset",
        "UnlockConnector",
    }
)
"""Proxy mode: the CSMS's calls (forwarded to the station while the check waits for an
expiry) that could free the reservation; its other calls (GetConfiguration, DataTransfer,
...) prove nothing either way."""


def _from_the_csms(entry: TraceEntry) -> bool:
    """A call the site's CSMS made, forwarded to the station (proxy mode)."""
    return entry.note is not None and entry.note.startswith(Route.TO_STATION.value)


RESERVE_CONNECTOR_ZERO_SUPPORTED = "ReserveConnectorZeroSupported"

_EARLY_TOLERANCE = 1.0
"""Seconds an ``Available`` may come before the expiry and still count as at the expiry.

Expiry dates travel to the whole second and a station's clock is rarely exactly the
console's; a station that frees the connector a whole second or more early breaks the rule.
"""

_HELD_FOR = timedelta(minutes=10)
"""How far ahead the expiry of the reservations that are cancelled by the check lies: long
enough for the slowest station, short enough that one the clean-up could not cancel does
not block the connector for long."""

_SHOWN_PROBLEMS = 10


def _now() -> datetime:
    return datetime.now(UTC)


# --- steps 1-5, on each connector ------------------------------------------------------------


async def reserve(ctx: StepContext, connector_id: int) -> ReserveVerdict:
    """Step 1, ``CheckStep.RESERVE``: ReserveNow on a free connector -> Accepted, then
    StatusNotification ``Reserved``."""
    timeout = ctx.options.step_timeout
    since = len(ctx.observer.statuses)
    reservation_id, record = await ctx.calls.reserve(
        connector_id, ctx.id_tag, ctx.expiry_in(_HELD_FOR)
    )
    if record is not None and record.confirmation is ReservationStatus.REJECTED:
        return ReserveVerdict(
            Verdict.FAILED,
            f"expected Accepted, {ctx.answer(record)} (what a station configured "
            "not to accept reservations answers: enable them and check again)",
            rejected=True,
        )
    if record is None or record.confirmation is not ReservationStatus.ACCEPTED:
        return ReserveVerdict(Verdict.FAILED, f"expected Accepted, {ctx.answer(record)}")
    seen = await ctx.observer.wait_for(
        ctx.observer.status_since(since, connector_id, [ChargePointStatus.RESERVED]), timeout
    )
    if seen is None:
        return ReserveVerdict(
            Verdict.FAILED,
            f"Accepted, but no StatusNotification Reserved for connector "
            f"{connector_id} within {seconds_text(timeout)}",
            held=reservation_id,
        )
    return ReserveVerdict(
        Verdict.PASSED,
        f"reservation {reservation_id} Accepted, then StatusNotification Reserved",
        held=reservation_id,
    )


async def second_reservation(ctx: StepContext, connector_id: int, held: int | None) -> StepVerdict:
    """Step 2, ``CheckStep.SECOND_RESERVATION``: another idTag and reservationId on the
    reserved connector -> Occupied."""
    if held is None:
        return skipped("no reservation held (step 1 was not Accepted)")
    reservation_id, record = await ctx.calls.reserve(
        connector_id, ctx.other_id_tag, ctx.expiry_in(_HELD_FOR)
    )
    if record is not None and record.confirmation is ReservationStatus.OCCUPIED:
        return passed(f"reservation {reservation_id} for {ctx.other_id_tag}: Occupied")
    if record is not None and record.confirmation is ReservationStatus.ACCEPTED:
        # Cancelled at once, so the later steps see one reservation as planned.
        cancelled = await ctx.calls.cancel(reservation_id)
        return SecondReservationVerdict(
            Verdict.FAILED,
            f"expected Occupied, station answered Accepted (a second reservation on "
            f"a reserved connector); cancelling it: {ctx.cancel_answer(cancelled)}",
            accepts_second=True,
        )
    return failed(f"expected Occupied, {ctx.answer(record)}")


async def replace(ctx: StepContext, connector_id: int, held: int | None) -> StepVerdict:
    """Step 3, ``CheckStep.REPLACE``: the reservationId of step 1 with another idTag ->
    Accepted (it replaces)."""
    if held is None:
        return skipped("no reservation held (step 1 was not Accepted)")
    reservation_id, record = await ctx.calls.reserve(
        connector_id, ctx.other_id_tag, ctx.expiry_in(_HELD_FOR), held
    )
    if record is not None and record.confirmation is ReservationStatus.ACCEPTED:
        return passed(f"reservation {reservation_id} again for {ctx.other_id_tag}: Accepted")
    return failed(f"expected Accepted, {ctx.answer(record)}")


async def cancel_unknown(ctx: StepContext) -> CancelUnknownVerdict:
    """Step 4, ``CheckStep.CANCEL_UNKNOWN``: CancelReservation of an id the station never
    got -> Rejected."""
    unknown = await ctx.system.allocate_reservation_id()
    outcome = await ctx.calls.cancel(unknown)
    if outcome is not None and outcome.status is CancelReservationStatus.REJECTED:
        return CancelUnknownVerdict(
            Verdict.PASSED, f"cancelling reservation {unknown} (never sent): Rejected"
        )
    if outcome is not None and outcome.status is CancelReservationStatus.ACCEPTED:
        return CancelUnknownVerdict(
            Verdict.FAILED,
            f"expected Rejected for reservation {unknown} (never sent), station answered Accepted",
            accepts_unknown_cancel=True,
        )
    return CancelUnknownVerdict(Verdict.FAILED, f"expected Rejected, {ctx.cancel_answer(outcome)}")


async def cancel_held(ctx: StepContext, connector_id: int, held: int | None) -> StepVerdict:
    """Step 5, ``CheckStep.CANCEL_HELD``: CancelReservation of the held id -> Accepted, then
    ``Available``."""
    if held is None:
        return skipped("no reservation held (step 1 was not Accepted)")
    timeout = ctx.options.step_timeout
    since = len(ctx.observer.statuses)
    outcome = await ctx.calls.cancel(held)
    if outcome is None or outcome.status is not CancelReservationStatus.ACCEPTED:
        return failed(f"expected Accepted, {ctx.cancel_answer(outcome)}")
    seen = await ctx.observer.wait_for(
        ctx.observer.status_since(since, connector_id, [ChargePointStatus.AVAILABLE]), timeout
    )
    if seen is None:
        return failed(
            f"Accepted, but no StatusNotification Available for connector "
            f"{connector_id} within {seconds_text(timeout)}"
        )
    return passed(f"reservation {held} cancelled: Accepted, then Available")


# --- step 6, once ------------------------------------------------------------------------------


async def connector_zero(ctx: StepContext) -> StepVerdict:
    """Step 6, ``CheckStep.CONNECTOR_ZERO``: connector 0 as ``ReserveConnectorZeroSupported``
    says (Accepted if true, else Rejected)."""
    config = await ctx.calls.bounded(
        ctx.system.get_configuration(ctx.station_id, [RESERVE_CONNECTOR_ZERO_SUPPORTED])
    )
    if config is None:
        return failed(ctx.no_answer("GetConfiguration"))
    if config.error is not None:
        return failed(f"GetConfiguration {RESERVE_CONNECTOR_ZERO_SUPPORTED}: {config.error}")
    value = config.value(RESERVE_CONNECTOR_ZERO_SUPPORTED)
    supported = value is not None and value.strip().casefold() == "true"
    said = (
        f"{RESERVE_CONNECTOR_ZERO_SUPPORTED}={value}"
        if value is not None
        else f"{RESERVE_CONNECTOR_ZERO_SUPPORTED} not reported"
    )
    expected = ReservationStatus.ACCEPTED if supported else ReservationStatus.REJECTED
    reservation_id, record = await ctx.calls.reserve(
        0, ctx.id_tag, ctx.expiry_in(_HELD_FOR), probe=True
    )
    cancel_note = ""
    if record is not None and record.confirmation is ReservationStatus.ACCEPTED:
        cancelled = await ctx.calls.cancel(reservation_id)
        cancel_note = f"; cancelled after: {ctx.cancel_answer(cancelled)}"
    if record is not None and record.confirmation is expected:
        return passed(
            f"{said}; connector 0 reservation {reservation_id}: {expected.value}{cancel_note}"
        )
    return failed(f"expected {expected.value} ({said}), {ctx.answer(record)}{cancel_note}")


# --- step 7, on each connector -----------------------------------------------------------------


async def expiry(ctx: StepContext, connector_id: int, accepts_unknown_cancel: bool) -> StepVerdict:
    """Step 7, ``CheckStep.EXPIRY``: a reservation expiring a few seconds ahead -> Accepted,
    ``Reserved``, ``Available`` after the expiry with nothing sent by the console meanwhile;
    cancelling it then -> Rejected (unless step 4 showed the station accepts any cancel)."""
    still_held = ctx.calls.held_on(connector_id)
    if still_held:
        return skipped(
            f"connector {connector_id} may still hold reservation "
            f"{', '.join(map(str, still_held))} of an earlier step (no answer said it was "
            "refused or cancelled)"
        )
    observer = ctx.observer
    timeout = ctx.options.step_timeout
    expires = ctx.expiry_in(timedelta(seconds=ctx.options.expiry_seconds))
    since = len(observer.statuses)
    sent_at = len(observer.entries)
    reservation_id, record = await ctx.calls.reserve(connector_id, ctx.id_tag, expires)
    if record is None or record.confirmation is not ReservationStatus.ACCEPTED:
        return failed(f"expected Accepted, {ctx.answer(record)}")
    accepted_at = len(observer.entries)
    notes = [f"reservation {reservation_id} (expiry {expires:%H:%M:%S}) Accepted"]
    to_expiry = (expires - _now()).total_seconds()

    def unless_used(
        found: Callable[[], tuple[int, StatusPoint] | None],
    ) -> Callable[[], tuple[int, StatusPoint] | TraceEntry | None]:
        # A card presented meanwhile ends the reservation by a transaction (rule 1):
        # the expiry can then not be seen, which is no fault of the station.
        def check() -> tuple[int, StatusPoint] | TraceEntry | None:
            start = observer.start_with(reservation_id, sent_at)
            return start if start is not None else found()

        return check

    # Reserved first (or Available straight away: no Reserved, step 1 covers that).
    first: tuple[int, StatusPoint] | TraceEntry | None = await observer.wait_for(
        unless_used(
            observer.status_since(
                since, connector_id, [ChargePointStatus.RESERVED, ChargePointStatus.AVAILABLE]
            )
        ),
        min(timeout, to_expiry + timeout),
    )
    if isinstance(first, TraceEntry):
        return _used_before_expiry(ctx, reservation_id, first)
    available: tuple[int, StatusPoint] | TraceEntry | None = None
    if first is None or first[1].status != ChargePointStatus.RESERVED:
        notes.append("no Reserved (see step 1)")
        available = first
    else:
        notes.append("Reserved")
    failure: str | None = None
    if available is None:
        after = since if first is None else first[0] + 1
        wait = (expires - _now()).total_seconds() + timeout
        available = await observer.wait_for(
            unless_used(observer.status_since(after, connector_id, [ChargePointStatus.AVAILABLE])),
            max(wait, 0.0),
        )
    if isinstance(available, TraceEntry):
        return _used_before_expiry(ctx, reservation_id, available)
    if available is None:
        failure = (
            f"no StatusNotification Available for connector {connector_id} within "
            f"{seconds_text(timeout)} after the expiry"
        )
    else:
        point = available[1]
        early = (expires - point.at).total_seconds()
        if early > _EARLY_TOLERANCE:
            failure = (
                f"Available came {seconds_text(round(early, 1))} before the expiry "
                f"({point.at:%H:%M:%S}, expiry {expires:%H:%M:%S})"
            )
        else:
            late = max(0.0, -early)
            notes.append(f"Available {seconds_text(round(late, 1))} after the expiry")
            ctx.calls.ended(reservation_id, point.at, "expired")
    until = None if available is None else available[1].at
    sent = [
        e
        for e in observer.entries[accepted_at:]
        if e.direction is TraceDirection.OUT
        and e.message_type == MessageType.CALL
        and (until is None or e.at <= until)
        and (not _from_the_csms(e) or e.action in _CSMS_CALLS_THAT_MAY_FREE)
    ]
    if sent and failure is None:
        sender = "the CSMS" if _from_the_csms(sent[0]) else "the console"
        failure = (
            f"{sender} sent {sent[0].action or 'a call'} to the station while waiting "
            "for the expiry, so the Available does not prove the station freed it by itself"
        )
    # Cancelling it afterwards: the station must no longer hold it.
    outcome = await ctx.calls.cancel(reservation_id)
    if outcome is not None and outcome.status is CancelReservationStatus.REJECTED:
        notes.append("cancelling it afterwards: Rejected")
    elif outcome is not None and outcome.status is CancelReservationStatus.ACCEPTED:
        if available is None:
            notes.append("cancelling it afterwards: Accepted (the station still held it)")
        elif accepts_unknown_cancel:
            notes.append(
                "cancelling it afterwards: Accepted, as for any id it does not hold (step 4)"
            )
        elif failure is None:
            failure = (
                "expected Rejected when cancelling the expired reservation, "
                "station answered Accepted (it still held it)"
            )
    else:
        note = f"cancelling it afterwards: {ctx.cancel_answer(outcome)}"
        if failure is None:
            failure = f"expected Rejected when cancelling it afterwards, {note}"
    if failure is not None:
        return failed(f"{failure}; " + "; ".join(notes))
    return passed("; ".join(notes))


def _used_before_expiry(ctx: StepContext, reservation_id: int, start: TraceEntry) -> StepVerdict:
    ctx.calls.ended(reservation_id, start.at, "used")
    return skipped(
        f"reservation {reservation_id} was used before its expiry: the station started a "
        f"transaction for {call_field(start, 'idTag')} on connector "
        f"{call_field(start, 'connectorId')} at {start.at:%H:%M:%S} carrying it (a card was "
        "presented), so the expiry could not be seen; run the check again with no card presented"
    )


# --- step 8, guided, on the first connector ----------------------------------------------------

_SKIP = TraceEntry(
    seq=-1,
    at=datetime.min.replace(tzinfo=UTC),
    station_id="",
    direction=TraceDirection.EVENT,
    text="skipped",
)
"""What a guided wait returns when the technician skips it."""


async def cards(ctx: StepContext, connector_id: int) -> StepVerdict:
    """Step 8, ``CheckStep.CARDS`` (guided): another card is refused on the reserved
    connector; the reserved card's StartTransaction carries the reservationId."""
    busy = not_available_now(ctx.system, ctx.station_id, connector_id)
    if busy is not None:
        return skipped(busy)
    expires = ctx.expiry_in(timedelta(seconds=2 * ctx.options.guided_timeout) + _HELD_FOR)
    reservation_id, record = await ctx.calls.reserve(connector_id, ctx.id_tag, expires)
    if record is None or record.confirmation is not ReservationStatus.ACCEPTED:
        return failed(f"could not reserve connector {connector_id}: {ctx.answer(record)}")
    outcome = await _present_cards(ctx, connector_id, reservation_id)
    if ctx.calls.holds(reservation_id):
        await ctx.calls.cancel(reservation_id)
    return outcome


def _incoming_call(
    ctx: StepContext, since: int, actions: Iterable[str], id_tag_matches: Callable[[object], bool]
) -> Callable[[], TraceEntry | None]:
    """The first incoming call of ``actions`` since ``since`` whose idTag matches (or
    :data:`_SKIP` once the technician skipped)."""

    def found() -> TraceEntry | None:
        if ctx.skip_requested():
            return _SKIP
        return ctx.observer.incoming_call(since, actions, id_tag_matches)

    return found


async def _present_cards(ctx: StepContext, connector_id: int, reservation_id: int) -> StepVerdict:
    observer = ctx.observer
    id_tag = ctx.id_tag
    guided = ctx.options.guided_timeout
    # 1. Another card: an Authorize may come, no StartTransaction may follow it.
    ctx.show_prompt(
        f"Present a card other than {id_tag} at connector {connector_id} and plug in: "
        "the station must not start charging"
    )
    seen = await observer.wait_for(
        _incoming_call(
            ctx,
            len(observer.entries),
            ("Authorize", "StartTransaction"),
            lambda tag: isinstance(tag, str) and not same_id_tag(tag, id_tag),
        ),
        guided,
    )
    if seen is _SKIP:
        return skipped("skipped by the technician")
    if seen is None:
        return skipped(f"no card presented within {seconds_text(guided)}")
    other_tag = str(call_field(seen, "idTag"))
    start = seen if seen.action == "StartTransaction" else None
    if start is None:
        start = await observer.wait_for(
            _incoming_call(
                ctx,
                observer.entries.index(seen) + 1,
                ("StartTransaction",),
                lambda tag: same_id_tag(tag, other_tag),
            ),
            ctx.options.step_timeout,
        )
    if start is _SKIP:
        return skipped("skipped by the technician")
    if start is not None and call_field(start, "connectorId") == connector_id:
        return failed(
            f"the station started a transaction for {other_tag} on connector "
            f"{connector_id}, reserved for {id_tag}"
        )
    refused = f"{other_tag} refused on the reserved connector"
    # 2. The reserved card: its StartTransaction names our reservation.
    ctx.show_prompt(
        f"Now present card {id_tag} at connector {connector_id} (plugged in): charging must start"
    )

    def same(tag: object) -> bool:
        return same_id_tag(tag, id_tag)

    first = await observer.wait_for(
        _incoming_call(ctx, len(observer.entries), ("Authorize", "StartTransaction"), same),
        guided,
    )
    if first is _SKIP:
        return skipped(f"{refused}; the rest skipped by the technician")
    if first is None:
        return skipped(f"{refused}; no StartTransaction for {id_tag} within {seconds_text(guided)}")
    start = first
    if first.action != "StartTransaction":
        # The station read the reserved card (in any letter case): a StartTransaction
        # must follow, else it refused the card (not a card that never came).
        start = await observer.wait_for(
            _incoming_call(ctx, observer.entries.index(first) + 1, ("StartTransaction",), same),
            ctx.options.step_timeout,
        )
        if start is _SKIP:
            return skipped(f"{refused}; the rest skipped by the technician")
        if start is None:
            return failed(
                f"{refused}; the station refused the reserved card: Authorize for "
                f"{call_field(first, 'idTag')} at {first.at:%H:%M:%S}, and no StartTransaction "
                f"for {id_tag} within {seconds_text(ctx.options.step_timeout)}"
            )
    carried = call_field(start, "reservationId")
    if carried == reservation_id:
        ctx.calls.ended(reservation_id, start.at, "used")
        return passed(
            f"{refused}; {id_tag}'s StartTransaction carried reservationId {reservation_id}"
        )
    return failed(
        f"{refused}; {id_tag}'s StartTransaction carried reservationId "
        f"{carried if carried is not None else 'none'}, expected {reservation_id}"
    )


# --- step 9, last -----------------------------------------------------------------------------


async def schemas(ctx: StepContext) -> StepVerdict:
    """Step 9, ``CheckStep.SCHEMAS``: every frame the station sent during the check against
    the official schemas."""
    problems: list[str] = []
    at_fault: list[TraceEntry] = []
    checked = 0
    station = ctx.system.station(ctx.station_id)
    version = OcppVersion.V16 if station is None else station.ocpp_version
    for entry in ctx.observer.entries:
        if entry.direction is not TraceDirection.IN:
            continue
        checked += 1
        if entry.message_type is None:
            # The session could not read it (not JSON, no id, an answer it rejects...).
            found = [entry.note or "not a frame the console could read"]
        else:
            answered = entry.action if entry.message_type == MessageType.CALL_RESULT else None
            found = station_frame_problems(entry.text, answered_action=answered, version=version)
        if found:
            at_fault.append(entry)
            problems.extend(f"{problem}: {entry.text}" for problem in found)
    if not problems:
        if checked == 1:
            return passed("1 frame from the station, valid")
        return passed(f"{checked} frames from the station, all valid")
    shown = "; ".join(problems[:_SHOWN_PROBLEMS])
    more = len(problems) - _SHOWN_PROBLEMS
    extra = f"; and {more} more" if more > 0 else ""
    return StepVerdict(
        Verdict.FAILED,
        f"{len(problems)} problem(s) in {checked} frames: {shown}{extra}",
        tuple(at_fault),
    )
