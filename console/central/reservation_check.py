"""The reservation conformance check (issue #9): drive a station through the Reservation rules.

:class:`ReservationCheck` runs the steps of :class:`~console.central.check_model.CheckStep`
against one connected station, through the Central System's public calls (so every
reservation it makes shows in the reservations table and the book stays right):

1. ReserveNow on a free connector -> Accepted, then StatusNotification ``Reserved``.
2. Another idTag and reservationId on the same connector -> Occupied.
3. The reservationId of step 1 with another idTag -> Accepted (it replaces).
4. CancelReservation of an id the station never got -> Rejected.
5. CancelReservation of the held id -> Accepted, then ``Available``.
6. Connector 0 as ``ReserveConnectorZeroSupported`` says (Accepted if true, else Rejected).
7. A reservation expiring a few seconds ahead -> Accepted, ``Reserved``, ``Available`` after
   the expiry with nothing sent by the console meanwhile; cancelling it then -> Rejected.
8. (guided) Another card is refused on the reserved connector; the reserved card's
   StartTransaction carries the reservationId.
9. Every frame the station sent during the check against the official schemas.

They run in that order: 1-5 on each connector asked for, 6 once, 7 on each connector, 8 on
the first, 9 last. Each rule is judged by one step: a step that depends on an earlier one
(a reservation to replace, cancel or let expire) is skipped when that one could not give it.
A call the station leaves unanswered past the step's time limit fails its step and stops the
steps that call the station (every later call would wait behind it: one call at a time);
step 9 still runs.

What it sees of the station comes from the Central System's change feed: every trace line of
the station while it runs (the evidence of each step) and every StatusNotification (the
timeline). Waiting for a status is waiting on that feed, never polling. Whatever happens
(a failure, the technician's cancel, the task being cancelled, the station going away), every
reservation the check made that the station may still hold is cancelled at the end.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

from console.central.check_model import (
    CheckFactory,
    CheckOutcome,
    CheckRequest,
    CheckResult,
    CheckRunner,
    CheckStep,
    ReservationSpan,
    StatusPoint,
    StepResult,
    Verdict,
    step_number,
)
from console.central.events import Listeners
from console.central.model import (
    CancelOutcome,
    ChangeEvent,
    ReservationChanged,
    ReservationRecord,
    ReservationState,
    StationChanged,
    TraceAppended,
    TraceDirection,
    TraceEntry,
)
from console.ocpp.base import same_id_tag
from console.ocpp.enums import ChargePointStatus
from console.ocpp.frames import MessageType
from console.ocpp.reservation import CancelReservationStatus, ReservationStatus
from console.ocpp.schema import station_frame_problems

if TYPE_CHECKING:
    from console.central.server import CentralSystem

__all__ = ["CheckOptions", "ReservationCheck", "check_factory", "derive_other_id_tag"]

logger = logging.getLogger(__name__)

T = TypeVar("T")

RESERVE_CONNECTOR_ZERO_SUPPORTED = "ReserveConnectorZeroSupported"

_FIRST_CONNECTOR_STEPS = (
    CheckStep.RESERVE,
    CheckStep.SECOND_RESERVATION,
    CheckStep.REPLACE,
    CheckStep.CANCEL_UNKNOWN,
    CheckStep.CANCEL_HELD,
)
_PER_CONNECTOR_STEPS = (*_FIRST_CONNECTOR_STEPS, CheckStep.EXPIRY)

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
_CHECK_CANCELLED = "check cancelled"
_OTHER_SUFFIX = "-OTHER"
_MAX_ID_TAG = 20


def _now() -> datetime:
    return datetime.now(UTC)


def _seconds(value: float) -> str:
    return f"{value:g} s" if value < 10 else f"{round(value)} s"


def derive_other_id_tag(id_tag: str) -> str:
    """An idTag that differs from ``id_tag`` case-insensitively, at most 20 characters."""
    other = id_tag[: _MAX_ID_TAG - len(_OTHER_SUFFIX)] + _OTHER_SUFFIX
    if other.casefold() == id_tag.casefold():
        other = "CHECK" + _OTHER_SUFFIX
    return other


@dataclass(frozen=True, slots=True)
class CheckOptions:
    """Timings of the check (the settings give the first two)."""

    step_timeout: float = 10.0
    """Seconds each step waits for an answer or a StatusNotification."""
    expiry_seconds: float = 20.0
    """How far ahead the expiry of step 7's reservation lies."""
    guided_timeout: float = 180.0
    """Seconds the guided step waits for the technician at the station."""
    other_id_tag: str | None = None
    """The idTag of steps 2 and 3 (default: derived from the request's idTag)."""


def check_factory(system: CentralSystem, options: CheckOptions | None = None) -> CheckFactory:
    """Runners bound to ``system`` (what the composition root gives the window)."""
    chosen = options or CheckOptions()

    def make(request: CheckRequest) -> CheckRunner:
        return ReservationCheck(system, request, chosen)

    return make


class _AbortError(Exception):
    """The check cannot go on (the reason is the message)."""


class _StationLostError(_AbortError):
    """The station disconnected."""


class _TooSlowError(Exception):
    """A call got no answer within the step's time limit: the later steps are not run."""


@dataclass(slots=True)
class _Verdict:
    verdict: Verdict
    reason: str
    evidence: tuple[TraceEntry, ...] | None = None
    """The frames that prove it, when not simply those of the step's time."""


def _passed(reason: str) -> _Verdict:
    return _Verdict(Verdict.PASSED, reason)


def _failed(reason: str) -> _Verdict:
    return _Verdict(Verdict.FAILED, reason)


def _skipped(reason: str) -> _Verdict:
    return _Verdict(Verdict.SKIPPED, reason)


def _payload(
    entry: TraceEntry, direction: TraceDirection = TraceDirection.IN
) -> dict[str, Any] | None:
    """The payload of a CALL in ``direction`` (None if it is not one or cannot be read).

    A valid call carries its request model; one the session refused carries none, and
    its payload is read from the frame as it came (a refused call still shows what the
    station sent).
    """
    if entry.direction is not direction or entry.message_type != MessageType.CALL:
        return None
    if entry.message is not None:
        return entry.message.to_payload()
    try:
        frame = json.loads(entry.text)
    except ValueError:
        return None
    if isinstance(frame, list) and len(frame) >= 4 and isinstance(frame[3], dict):
        return frame[3]
    return None


class ReservationCheck:
    """One run of the reservation conformance check against one station (a CheckRunner).

    ``run()`` drives the steps, cleans up, stores the result and returns it; ``cancel()``
    stops it at the next await (the clean-up still runs); listeners given to
    ``subscribe()`` get every new :class:`CheckResult`.
    """

    def __init__(
        self,
        system: CentralSystem,
        request: CheckRequest,
        options: CheckOptions | None = None,
    ) -> None:
        options = options or CheckOptions()
        if not request.connectors:
            raise ValueError("the check needs at least one connector")
        if any(c < 1 for c in request.connectors):
            raise ValueError("connectors are numbered from 1 (connector 0 is step 6's)")
        if not 1 <= len(request.id_tag) <= _MAX_ID_TAG:
            raise ValueError("the idTag must have 1 to 20 characters")
        other = options.other_id_tag or derive_other_id_tag(request.id_tag)
        if other.casefold() == request.id_tag.casefold() or len(other) > _MAX_ID_TAG:
            raise ValueError("the other idTag must differ from the idTag and have <= 20 chars")
        # A connector asked for twice is checked once.
        request = dataclasses.replace(request, connectors=tuple(dict.fromkeys(request.connectors)))
        self._system = system
        self._request = request
        self._options = options
        self._station_id = request.station_id
        self._other_id_tag = other
        self._listeners = Listeners[CheckResult]()
        plan = self._plan(request)
        self._result = CheckResult(
            check_id=None,
            station_id=request.station_id,
            started_at=_now(),
            connectors=tuple(request.connectors),
            id_tag=request.id_tag,
            steps=tuple(StepResult(step, connector) for step, connector in plan),
            guided=request.guided,
        )
        # What the station did while the check ran.
        self._entries: list[TraceEntry] = []
        self._statuses: list[StatusPoint] = []
        self._lost: str | None = None
        self._waiters: list[asyncio.Future[None]] = []
        # Reservations the check sent that the station may hold: id -> connector.
        self._may_hold: dict[int, int] = {}
        self._ours: set[int] = set()
        self._span_index: dict[tuple[int, datetime], int] = {}
        self._in_flight: set[asyncio.Future[Any]] = set()
        self._accepts_unknown_cancel = False
        self._rejected: set[int] = set()
        """Connectors whose step 1 reservation the station Rejected."""
        self._unanswered = False
        """A call of the running step got no answer within the step's time limit."""
        self._slow: str | None = None
        """Why the steps stopped early: the station did not answer in time."""
        self._current: int | None = None
        self._skip_requested = False
        self._cancel_requested = False
        self._steps_task: asyncio.Task[None] | None = None
        self._started = False

    @staticmethod
    def _plan(request: CheckRequest) -> list[tuple[CheckStep, int | None]]:
        # In the order they run, which is the order of their numbers for one connector.
        plan: list[tuple[CheckStep, int | None]] = [
            (step, connector) for connector in request.connectors for step in _FIRST_CONNECTOR_STEPS
        ]
        plan.append((CheckStep.CONNECTOR_ZERO, None))
        plan.extend((CheckStep.EXPIRY, connector) for connector in request.connectors)
        if request.guided:
            plan.append((CheckStep.CARDS, request.connectors[0]))
        plan.append((CheckStep.SCHEMAS, None))
        return plan

    # --- the CheckRunner protocol -------------------------------------------------------

    @property
    def result(self) -> CheckResult:
        return self._result

    @property
    def other_id_tag(self) -> str:
        """The idTag steps 2 and 3 use."""
        return self._other_id_tag

    def subscribe(self, listener: Callable[[CheckResult], None]) -> Callable[[], None]:
        return self._listeners.subscribe(listener)

    def cancel(self) -> None:
        if self._cancel_requested:
            return
        self._cancel_requested = True
        logger.info("station %s: reservation check cancelled", self._station_id)
        if self._steps_task is not None and not self._steps_task.done():
            self._steps_task.cancel()

    def skip_current_step(self) -> None:
        self._skip_requested = True
        self._wake()

    async def run(self) -> CheckResult:
        if self._started:
            raise RuntimeError("a ReservationCheck runs once")
        self._started = True
        self._publish(started_at=_now())
        unsubscribe = self._system.subscribe(self._on_change)
        task_cancelled = False
        try:
            logger.info(
                "station %s: reservation check on connector(s) %s for %s",
                self._station_id,
                ", ".join(map(str, self._request.connectors)),
                self._request.id_tag,
            )
            outcome: CheckOutcome | None = None
            reason = ""
            if self._cancel_requested:
                outcome, reason = CheckOutcome.CANCELLED, _CHECK_CANCELLED
            else:
                self._steps_task = asyncio.create_task(self._run_steps())
                try:
                    await self._steps_task
                except asyncio.CancelledError:
                    current = asyncio.current_task()
                    task_cancelled = current is not None and current.cancelling() > 0
                    outcome, reason = CheckOutcome.CANCELLED, _CHECK_CANCELLED
                except _AbortError as exc:
                    outcome, reason = CheckOutcome.ABORTED, str(exc)
                except Exception as exc:
                    # A bug must not leave reservations behind: clean up all the same.
                    logger.exception("station %s: the reservation check failed", self._station_id)
                    outcome, reason = CheckOutcome.ABORTED, f"internal error: {exc!r}"
            if outcome is not None:
                self._skip_rest(reason)
            # The clean-up and the save run to their end whatever cancels this task
            # (each call is bounded by the step timeout).
            if outcome is None and self._slow is not None:
                reason = self._slow.removeprefix("not run: ")
            finishing = asyncio.create_task(self._finish(outcome, reason))
            while not finishing.done():
                try:
                    await asyncio.shield(finishing)
                except asyncio.CancelledError:
                    task_cancelled = True
            finishing.result()
        finally:
            unsubscribe()
            for waiter in self._waiters:
                if not waiter.done():
                    waiter.cancel()
        if task_cancelled:
            raise asyncio.CancelledError
        return self._result

    # --- publishing ---------------------------------------------------------------------

    def _publish(self, **changes: Any) -> None:
        self._result = dataclasses.replace(self._result, **changes)
        self._listeners.emit(self._result)

    def _set_step(self, index: int, **changes: Any) -> None:
        steps = list(self._result.steps)
        steps[index] = dataclasses.replace(steps[index], **changes)
        self._publish(steps=tuple(steps))

    def _skip_rest(self, reason: str) -> None:
        steps = tuple(
            dataclasses.replace(s, verdict=Verdict.SKIPPED, reason=reason, prompt=None)
            if s.verdict in (Verdict.PENDING, Verdict.RUNNING)
            else s
            for s in self._result.steps
        )
        if self._current is not None:
            index = self._current
            steps = (
                *steps[:index],
                dataclasses.replace(
                    steps[index], finished_at=_now(), evidence=self._evidence(index)
                ),
                *steps[index + 1 :],
            )
        self._publish(steps=steps)

    # --- what the Central System tells --------------------------------------------------

    def _on_change(self, event: ChangeEvent) -> None:
        if isinstance(event, TraceAppended):
            entry = event.entry
            if entry.station_id != self._station_id:
                return
            self._entries.append(entry)
            changes: dict[str, Any] = {}
            payload = _payload(entry)
            if payload is not None and entry.action == "StatusNotification":
                connector_id, status = payload.get("connectorId"), payload.get("status")
                if isinstance(connector_id, int) and isinstance(status, str):
                    point = StatusPoint(entry.at, connector_id, status)
                    self._statuses.append(point)
                    changes["statuses"] = (*self._result.statuses, point)
            if self._current is not None:
                # The running step's frames show as they come (what was sent, what came
                # back), not only once it has its verdict.
                steps = list(self._result.steps)
                index = self._current
                steps[index] = dataclasses.replace(steps[index], evidence=self._evidence(index))
                changes["steps"] = tuple(steps)
            if changes:
                self._publish(**changes)
            self._wake()
        elif isinstance(event, StationChanged):
            station = event.station
            if station.station_id == self._station_id and not station.connected:
                if self._lost is None:
                    self._lost = f"station disconnected ({station.note or 'connection lost'})"
                self._wake()
            elif station.station_id == self._station_id:
                self._wake()
        elif isinstance(event, ReservationChanged):
            self._on_reservation(event.reservation)

    def _on_reservation(self, record: ReservationRecord) -> None:
        if record.station_id != self._station_id or record.reservation_id not in self._ours:
            return
        key = (record.reservation_id, record.created_at)
        spans = list(self._result.spans)
        index = self._span_index.get(key)
        if record.state is ReservationState.ACCEPTED and index is None:
            self._span_index[key] = len(spans)
            spans.append(
                ReservationSpan(
                    record.reservation_id,
                    record.connector_id,
                    record.id_tag,
                    record.answered_at or record.updated_at or _now(),
                    None,
                )
            )
        elif index is not None and spans[index].end is None and not record.active:
            replaced = record.error is not None and "replaced" in record.error
            spans[index] = dataclasses.replace(
                spans[index],
                end=record.updated_at or _now(),
                ended_by="replaced" if replaced else record.state.value,
            )
        else:
            return
        self._publish(spans=tuple(spans))

    def _end_span(self, reservation_id: int, at: datetime, ended_by: str) -> None:
        """The latest span of ``reservation_id`` ended (overrides what the book thought)."""
        found = [index for (rid, _), index in self._span_index.items() if rid == reservation_id]
        if not found:
            return
        index = max(found)
        spans = list(self._result.spans)
        if spans[index].end is not None and spans[index].ended_by == ended_by:
            return  # the book saw the same end already
        spans[index] = dataclasses.replace(spans[index], end=at, ended_by=ended_by)
        self._publish(spans=tuple(spans))

    def _wake(self) -> None:
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    async def _wait_for(
        self,
        found: Callable[[], T | None],
        seconds: float,
        *,
        while_lost: bool = False,
    ) -> T | None:
        """``found()``'s first non-None value, re-evaluated on every change, or None after
        ``seconds``. Raises :class:`_StationLostError` if the station goes away."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while True:
            value = found()
            if value is not None:
                return value
            if self._lost is not None and not while_lost:
                raise _StationLostError(self._lost)
            remaining = deadline - loop.time()
            if remaining <= 0:
                return None
            waiter: asyncio.Future[None] = loop.create_future()
            self._waiters.append(waiter)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(waiter, remaining)

    def _status_since(
        self, since: int, connector_id: int, wanted: Iterable[str]
    ) -> Callable[[], tuple[int, StatusPoint] | None]:
        statuses = {str(s) for s in wanted}

        def found() -> tuple[int, StatusPoint] | None:
            for index in range(since, len(self._statuses)):
                point = self._statuses[index]
                if point.connector_id == connector_id and point.status in statuses:
                    return index, point
            return None

        return found

    # --- calls to the station (bounded, never half-abandoned) ---------------------------

    async def _bounded(self, call: Awaitable[T], limit: float | None = None) -> T | None:
        """The call's result, or None if it takes longer than ``limit`` seconds (default: the
        step's time limit).

        The call itself goes on (shielded): the book settles its record when the answer
        comes, and the clean-up waits for it before cancelling what may be held.
        """
        future = asyncio.ensure_future(call)
        self._in_flight.add(future)
        future.add_done_callback(self._call_done)
        try:
            return await asyncio.wait_for(
                asyncio.shield(future), self._options.step_timeout if limit is None else limit
            )
        except TimeoutError:
            self._unanswered = True
            return None

    def _call_done(self, future: asyncio.Future[Any]) -> None:
        self._in_flight.discard(future)
        if not future.cancelled() and future.exception() is not None:
            logger.error(
                "station %s: a call of the check failed",
                self._station_id,
                exc_info=future.exception(),
            )

    async def _reserve(
        self,
        connector_id: int,
        id_tag: str,
        expiry: datetime,
        reservation_id: int | None = None,
        *,
        probe: bool = False,
    ) -> tuple[int, ReservationRecord | None]:
        """ReserveNow through the book; the id is known (and may be held) before it is sent."""
        if reservation_id is None:
            reservation_id = await self._system.allocate_reservation_id()
        fresh = reservation_id not in self._may_hold
        self._ours.add(reservation_id)
        self._may_hold[reservation_id] = connector_id
        record = await self._bounded(
            self._system.reserve_now(
                self._station_id,
                connector_id,
                id_tag,
                expiry,
                reservation_id=reservation_id,
                probe=probe,
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
        return reservation_id, record

    async def _cancel(
        self, reservation_id: int, limit: float | None = None
    ) -> CancelOutcome | None:
        outcome = await self._bounded(
            self._system.cancel_reservation(self._station_id, reservation_id), limit
        )
        if outcome is not None and outcome.status is not None:
            # Accepted: it is gone; Rejected: the station says it does not hold it.
            self._may_hold.pop(reservation_id, None)
            if outcome.status is CancelReservationStatus.ACCEPTED:
                self._end_span(reservation_id, _now(), "cancelled")
        return outcome

    def _cancel_answered(self, since: int, reservation_id: int) -> Callable[[], str | None]:
        """The station's answer (even a late one) to the CancelReservation of
        ``reservation_id`` sent after entry ``since``: Accepted or Rejected, either way it
        no longer holds the reservation."""

        def found() -> str | None:
            message_id = None
            for entry in self._entries[since:]:
                if message_id is None:
                    if entry.action != "CancelReservation":
                        continue
                    sent = _payload(entry, TraceDirection.OUT)
                    if sent is not None and sent.get("reservationId") == reservation_id:
                        message_id = entry.message_id
                elif (
                    entry.direction is TraceDirection.IN
                    and entry.message_id == message_id
                    and entry.message_type == MessageType.CALL_RESULT
                ):
                    return entry.text
            return None

        return found

    def _expiry(self, ahead: timedelta) -> datetime:
        # Whole seconds (as it travels), rounded up so it is never sooner than asked.
        moment = _now() + ahead
        if moment.microsecond:
            moment = moment.replace(microsecond=0) + timedelta(seconds=1)
        return moment

    def _no_answer(self, action: str) -> str:
        """Why a call of the running step came back empty-handed within its time limit:
        unanswered, or never sent because an earlier call still waits for its answer (one
        call at a time per direction) -- then this step says nothing about its own rule."""
        limit = _seconds(self._options.step_timeout)
        started = None if self._current is None else self._result.steps[self._current].started_at
        sent = any(
            e.direction is TraceDirection.OUT
            and e.message_type == MessageType.CALL
            and e.action == action
            and (started is None or e.at >= started)
            for e in self._entries
        )
        if sent:
            return f"no answer to {action} within {limit}"
        return (
            f"{action} not even sent within {limit}: the station had not answered an "
            "earlier call yet (one call at a time; a slow station needs a longer step "
            "time limit in the settings)"
        )

    def _answer(self, record: ReservationRecord | None) -> str:
        """What the station answered to a ReserveNow, for a reason line."""
        if record is None:
            return self._no_answer("ReserveNow")
        if record.confirmation is not None:
            return f"station answered {record.confirmation.value}"
        if record.state is ReservationState.ERROR:
            error = record.error or "error"
            if "invalid answer" in error:
                return f"station gave an {error.split(': ', 1)[-1]}"
            return f"station answered CALLERROR {error}"
        if record.state is ReservationState.OFFLINE:
            return f"nothing sent: {record.error}"
        return f"no answer ({record.error or 'no answer'})"

    def _cancel_answer(self, outcome: CancelOutcome | None) -> str:
        if outcome is None:
            return self._no_answer("CancelReservation")
        if outcome.status is not None:
            return f"station answered {outcome.status.value}"
        if outcome.error_code is not None:
            return f"station answered CALLERROR {outcome.error}"
        return f"no answer ({outcome.error})"

    # --- running the steps --------------------------------------------------------------

    def _index(self, step: CheckStep, connector_id: int | None) -> int:
        for index, result in enumerate(self._result.steps):
            if result.step is step and result.connector_id == connector_id:
                return index
        raise LookupError(f"step {step} on {connector_id} is not planned")

    def _evidence(self, index: int) -> tuple[TraceEntry, ...]:
        started = self._result.steps[index].started_at
        if started is None:
            return ()
        return tuple(e for e in self._entries if e.at >= started)

    async def _step(
        self,
        step: CheckStep,
        connector_id: int | None,
        body: Callable[[], Awaitable[_Verdict]],
    ) -> Verdict:
        index = self._index(step, connector_id)
        self._current = index
        self._skip_requested = False
        self._unanswered = False
        self._set_step(index, verdict=Verdict.RUNNING, started_at=_now())
        where = "" if connector_id is None else f" (connector {connector_id})"
        try:
            outcome = await body()
        except _StationLostError as exc:
            outcome = _skipped(str(exc))
        if self._lost is not None and outcome.verdict is not Verdict.PASSED:
            # Whatever went wrong, the station leaving is the reason.
            outcome = _skipped(self._lost)
        self._set_step(
            index,
            verdict=outcome.verdict,
            reason=outcome.reason,
            prompt=None,
            finished_at=_now(),
            evidence=self._evidence(index) if outcome.evidence is None else outcome.evidence,
        )
        self._current = None
        logger.info(
            "station %s: check step %d%s %s: %s",
            self._station_id,
            step_number(step),
            where,
            outcome.verdict.value,
            outcome.reason,
        )
        if self._lost is not None:
            raise _StationLostError(self._lost)
        if self._unanswered and outcome.verdict is Verdict.FAILED:
            raise _TooSlowError(
                f"not run: the station did not answer within the step time limit "
                f"({_seconds(self._options.step_timeout)}) in step {step_number(step)}; a "
                "slow station needs a longer limit (Settings, Reservation check)"
            )
        return outcome.verdict

    def _skip(self, step: CheckStep, connector_id: int | None, reason: str) -> None:
        index = self._index(step, connector_id)
        self._set_step(index, verdict=Verdict.SKIPPED, reason=reason)

    async def _run_steps(self) -> None:
        system = self._system
        station_id = self._station_id
        station = system.station(station_id)
        if station is None or not system.is_connected(station_id):
            raise _AbortError(f"station {station_id} is not connected")
        connectors = system.connectors(station_id)
        # What each connector was when the check began, so its timeline lane starts with
        # a status (the station reports nothing until something changes).
        initial = tuple(
            StatusPoint(c.status_at or self._result.started_at, c.connector_id, c.status.value)
            for c in connectors
            if c.status is not None
        )
        self._publish(
            vendor=station.vendor,
            model=station.model,
            firmware_version=station.firmware_version,
            serial_number=station.serial_number,
            statuses=(*initial, *self._result.statuses),
        )
        statuses = {c.connector_id: c.status for c in connectors}
        available: list[int] = []
        for connector_id in self._request.connectors:
            status = statuses.get(connector_id)
            if status is ChargePointStatus.AVAILABLE:
                available.append(connector_id)
                continue
            shown = "of unknown status" if status is None else status.value
            for step in _PER_CONNECTOR_STEPS:
                self._skip(
                    step, connector_id, f"connector {connector_id} is {shown}, not Available"
                )
            if self._request.guided and connector_id == self._request.connectors[0]:
                self._skip(CheckStep.CARDS, connector_id, f"connector {connector_id} is {shown}")
        if not available:
            raise _AbortError(
                "no Available connector among "
                + ", ".join(str(c) for c in self._request.connectors)
            )
        try:
            await self._steps_with_calls(available)
        except _TooSlowError as exc:
            # Every later call would queue behind the unanswered one (one call at a time):
            # their verdicts would say nothing about the station's rules.
            self._slow = str(exc)
            for index, planned in enumerate(self._result.steps):
                if planned.step is not CheckStep.SCHEMAS and planned.verdict is Verdict.PENDING:
                    self._set_step(index, verdict=Verdict.SKIPPED, reason=self._slow)
        await self._step(CheckStep.SCHEMAS, None, self._schemas)

    async def _steps_with_calls(self, available: list[int]) -> None:
        """Steps 1-8, in the order of their numbers (1-5 and 7 on each connector)."""
        for connector_id in available:
            busy = self._not_available_now(connector_id)
            if busy is not None:
                # It was Available when the check began; the steps of another connector took
                # long enough for that to change.
                for step in _FIRST_CONNECTOR_STEPS:
                    self._skip(step, connector_id, busy)
                continue
            await self._connector_steps(connector_id)
        rejected = [c for c in available if c in self._rejected]
        if rejected and len(rejected) == len(available):
            self._skip(
                CheckStep.CONNECTOR_ZERO,
                None,
                "the station rejected the reservation of step 1 (it may be configured not to "
                "accept reservations), so connector 0 says nothing more",
            )
        else:
            await self._step(CheckStep.CONNECTOR_ZERO, None, self._connector_zero)
        for connector_id in available:
            if connector_id in self._rejected:
                self._skip(
                    CheckStep.EXPIRY,
                    connector_id,
                    f"the station rejected the reservation of step 1 on connector "
                    f"{connector_id}, so there is no reservation to let expire",
                )
                continue
            busy = self._not_available_now(connector_id)
            if busy is not None:
                self._skip(CheckStep.EXPIRY, connector_id, busy)
                continue
            await self._step(
                CheckStep.EXPIRY, connector_id, partial(self._expiry_step, connector_id)
            )
        first = self._request.connectors[0]
        if self._request.guided and first in available:
            await self._step(CheckStep.CARDS, first, lambda: self._cards(first))

    async def _connector_steps(self, connector_id: int) -> None:
        held: list[int] = []  # the reservation of step 1 (when accepted)

        async def reserve() -> _Verdict:
            since = len(self._statuses)
            reservation_id, record = await self._reserve(
                connector_id, self._request.id_tag, self._expiry(_HELD_FOR)
            )
            if record is not None and record.confirmation is ReservationStatus.REJECTED:
                self._rejected.add(connector_id)
                return _failed(
                    f"expected Accepted, {self._answer(record)} (what a station configured "
                    "not to accept reservations answers: enable them and check again)"
                )
            if record is None or record.confirmation is not ReservationStatus.ACCEPTED:
                return _failed(f"expected Accepted, {self._answer(record)}")
            held.append(reservation_id)
            seen = await self._wait_for(
                self._status_since(since, connector_id, [ChargePointStatus.RESERVED]),
                self._options.step_timeout,
            )
            if seen is None:
                return _failed(
                    f"Accepted, but no StatusNotification Reserved for connector "
                    f"{connector_id} within {_seconds(self._options.step_timeout)}"
                )
            return _passed(
                f"reservation {reservation_id} Accepted, then StatusNotification Reserved"
            )

        async def second() -> _Verdict:
            if not held:
                return _skipped("no reservation held (step 1 was not Accepted)")
            reservation_id, record = await self._reserve(
                connector_id, self._other_id_tag, self._expiry(_HELD_FOR)
            )
            if record is not None and record.confirmation is ReservationStatus.OCCUPIED:
                return _passed(f"reservation {reservation_id} for {self._other_id_tag}: Occupied")
            if record is not None and record.confirmation is ReservationStatus.ACCEPTED:
                # Cancelled at once, so the later steps see one reservation as planned.
                cancelled = await self._cancel(reservation_id)
                return _failed(
                    f"expected Occupied, station answered Accepted (a second reservation on "
                    f"a reserved connector); cancelling it: {self._cancel_answer(cancelled)}"
                )
            return _failed(f"expected Occupied, {self._answer(record)}")

        async def replace() -> _Verdict:
            if not held:
                return _skipped("no reservation held (step 1 was not Accepted)")
            reservation_id, record = await self._reserve(
                connector_id, self._other_id_tag, self._expiry(_HELD_FOR), held[0]
            )
            if record is not None and record.confirmation is ReservationStatus.ACCEPTED:
                return _passed(
                    f"reservation {reservation_id} again for {self._other_id_tag}: Accepted"
                )
            return _failed(f"expected Accepted, {self._answer(record)}")

        async def cancel_unknown() -> _Verdict:
            unknown = await self._system.allocate_reservation_id()
            outcome = await self._cancel(unknown)
            if outcome is not None and outcome.status is CancelReservationStatus.REJECTED:
                return _passed(f"cancelling reservation {unknown} (never sent): Rejected")
            if outcome is not None and outcome.status is CancelReservationStatus.ACCEPTED:
                self._accepts_unknown_cancel = True
                return _failed(
                    f"expected Rejected for reservation {unknown} (never sent), "
                    "station answered Accepted"
                )
            return _failed(f"expected Rejected, {self._cancel_answer(outcome)}")

        async def cancel_held() -> _Verdict:
            if not held:
                return _skipped("no reservation held (step 1 was not Accepted)")
            since = len(self._statuses)
            outcome = await self._cancel(held[0])
            if outcome is None or outcome.status is not CancelReservationStatus.ACCEPTED:
                return _failed(f"expected Accepted, {self._cancel_answer(outcome)}")
            seen = await self._wait_for(
                self._status_since(since, connector_id, [ChargePointStatus.AVAILABLE]),
                self._options.step_timeout,
            )
            if seen is None:
                return _failed(
                    f"Accepted, but no StatusNotification Available for connector "
                    f"{connector_id} within {_seconds(self._options.step_timeout)}"
                )
            return _passed(f"reservation {held[0]} cancelled: Accepted, then Available")

        await self._step(CheckStep.RESERVE, connector_id, reserve)
        await self._step(CheckStep.SECOND_RESERVATION, connector_id, second)
        await self._step(CheckStep.REPLACE, connector_id, replace)
        await self._step(CheckStep.CANCEL_UNKNOWN, connector_id, cancel_unknown)
        await self._step(CheckStep.CANCEL_HELD, connector_id, cancel_held)

    async def _expiry_step(self, connector_id: int) -> _Verdict:
        still_held = [rid for rid, c in self._may_hold.items() if c == connector_id]
        if still_held:
            return _skipped(
                f"connector {connector_id} may still hold reservation "
                f"{', '.join(map(str, still_held))} of an earlier step (no answer said it was "
                "refused or cancelled)"
            )
        timeout = self._options.step_timeout
        expiry = self._expiry(timedelta(seconds=self._options.expiry_seconds))
        since = len(self._statuses)
        sent_at = len(self._entries)
        reservation_id, record = await self._reserve(connector_id, self._request.id_tag, expiry)
        if record is None or record.confirmation is not ReservationStatus.ACCEPTED:
            return _failed(f"expected Accepted, {self._answer(record)}")
        accepted_at = len(self._entries)
        notes = [f"reservation {reservation_id} (expiry {expiry:%H:%M:%S}) Accepted"]
        to_expiry = (expiry - _now()).total_seconds()

        def unless_used(
            found: Callable[[], tuple[int, StatusPoint] | None],
        ) -> Callable[[], tuple[int, StatusPoint] | TraceEntry | None]:
            # A card presented meanwhile ends the reservation by a transaction (rule 1):
            # the expiry can then not be seen, which is no fault of the station.
            def check() -> tuple[int, StatusPoint] | TraceEntry | None:
                start = self._start_with(reservation_id, sent_at)
                return start if start is not None else found()

            return check

        # Reserved first (or Available straight away: no Reserved, step 1 covers that).
        first: tuple[int, StatusPoint] | TraceEntry | None = await self._wait_for(
            unless_used(
                self._status_since(
                    since, connector_id, [ChargePointStatus.RESERVED, ChargePointStatus.AVAILABLE]
                )
            ),
            min(timeout, to_expiry + timeout),
        )
        if isinstance(first, TraceEntry):
            return self._used_before_expiry(reservation_id, first)
        available: tuple[int, StatusPoint] | TraceEntry | None = None
        if first is None or first[1].status != ChargePointStatus.RESERVED:
            notes.append("no Reserved (see step 1)")
            available = first
        else:
            notes.append("Reserved")
        failure: str | None = None
        if available is None:
            after = since if first is None else first[0] + 1
            wait = (expiry - _now()).total_seconds() + timeout
            available = await self._wait_for(
                unless_used(self._status_since(after, connector_id, [ChargePointStatus.AVAILABLE])),
                max(wait, 0.0),
            )
        if isinstance(available, TraceEntry):
            return self._used_before_expiry(reservation_id, available)
        if available is None:
            failure = (
                f"no StatusNotification Available for connector {connector_id} within "
                f"{_seconds(timeout)} after the expiry"
            )
        else:
            point = available[1]
            early = (expiry - point.at).total_seconds()
            if early > _EARLY_TOLERANCE:
                failure = (
                    f"Available came {_seconds(round(early, 1))} before the expiry "
                    f"({point.at:%H:%M:%S}, expiry {expiry:%H:%M:%S})"
                )
            else:
                late = max(0.0, -early)
                notes.append(f"Available {_seconds(round(late, 1))} after the expiry")
                self._may_hold.pop(reservation_id, None)
                self._end_span(reservation_id, point.at, "expired")
        until = None if available is None else available[1].at
        sent = [
            e
            for e in self._entries[accepted_at:]
            if e.direction is TraceDirection.OUT
            and e.message_type == MessageType.CALL
            and (until is None or e.at <= until)
        ]
        if sent and failure is None:
            failure = (
                f"the console sent {sent[0].action or 'a call'} to the station while waiting "
                "for the expiry, so the Available does not prove the station freed it by itself"
            )
        # Cancelling it afterwards: the station must no longer hold it.
        outcome = await self._cancel(reservation_id)
        if outcome is not None and outcome.status is CancelReservationStatus.REJECTED:
            notes.append("cancelling it afterwards: Rejected")
        elif outcome is not None and outcome.status is CancelReservationStatus.ACCEPTED:
            if available is None:
                notes.append("cancelling it afterwards: Accepted (the station still held it)")
            elif self._accepts_unknown_cancel:
                notes.append(
                    "cancelling it afterwards: Accepted, as for any id it does not hold (step 4)"
                )
            elif failure is None:
                failure = (
                    "expected Rejected when cancelling the expired reservation, "
                    "station answered Accepted (it still held it)"
                )
        else:
            note = f"cancelling it afterwards: {self._cancel_answer(outcome)}"
            if failure is None:
                failure = f"expected Rejected when cancelling it afterwards, {note}"
        if failure is not None:
            return _failed(f"{failure}; " + "; ".join(notes))
        return _passed("; ".join(notes))

    def _start_with(self, reservation_id: int, since: int) -> TraceEntry | None:
        """The station's first StartTransaction since ``since`` carrying ``reservation_id``."""
        for entry in self._entries[since:]:
            payload = _payload(entry)
            if (
                payload is not None
                and entry.action == "StartTransaction"
                and payload.get("reservationId") == reservation_id
            ):
                return entry
        return None

    def _used_before_expiry(self, reservation_id: int, start: TraceEntry) -> _Verdict:
        payload = _payload(start) or {}
        self._may_hold.pop(reservation_id, None)
        self._end_span(reservation_id, start.at, "used")
        return _skipped(
            f"reservation {reservation_id} was used before its expiry: the station started a "
            f"transaction for {payload.get('idTag')} on connector {payload.get('connectorId')} "
            f"at {start.at:%H:%M:%S} carrying it (a card was presented), so the expiry could "
            "not be seen; run the check again with no card presented"
        )

    async def _connector_zero(self) -> _Verdict:
        config = await self._bounded(
            self._system.get_configuration(self._station_id, [RESERVE_CONNECTOR_ZERO_SUPPORTED])
        )
        if config is None:
            return _failed(self._no_answer("GetConfiguration"))
        if config.error is not None:
            return _failed(f"GetConfiguration {RESERVE_CONNECTOR_ZERO_SUPPORTED}: {config.error}")
        value = config.value(RESERVE_CONNECTOR_ZERO_SUPPORTED)
        supported = value is not None and value.strip().casefold() == "true"
        said = (
            f"{RESERVE_CONNECTOR_ZERO_SUPPORTED}={value}"
            if value is not None
            else f"{RESERVE_CONNECTOR_ZERO_SUPPORTED} not reported"
        )
        expected = ReservationStatus.ACCEPTED if supported else ReservationStatus.REJECTED
        reservation_id, record = await self._reserve(
            0, self._request.id_tag, self._expiry(_HELD_FOR), probe=True
        )
        cancel_note = ""
        if record is not None and record.confirmation is ReservationStatus.ACCEPTED:
            cancelled = await self._cancel(reservation_id)
            cancel_note = f"; cancelled after: {self._cancel_answer(cancelled)}"
        if record is not None and record.confirmation is expected:
            return _passed(
                f"{said}; connector 0 reservation {reservation_id}: {expected.value}{cancel_note}"
            )
        return _failed(f"expected {expected.value} ({said}), {self._answer(record)}{cancel_note}")

    def _not_available_now(self, connector_id: int) -> str | None:
        """Why ``connector_id`` cannot be reserved now (a card may have started charging on
        it during the check), or None when it is Available or its status is unknown."""
        status = next(
            (
                c.status
                for c in self._system.connectors(self._station_id)
                if c.connector_id == connector_id
            ),
            None,
        )
        if status is None or status is ChargePointStatus.AVAILABLE:
            return None
        return f"connector {connector_id} is {status.value} now, not Available"

    async def _cards(self, connector_id: int) -> _Verdict:
        busy = self._not_available_now(connector_id)
        if busy is not None:
            return _skipped(busy)
        id_tag = self._request.id_tag
        expiry = self._expiry(timedelta(seconds=2 * self._options.guided_timeout) + _HELD_FOR)
        reservation_id, record = await self._reserve(connector_id, id_tag, expiry)
        if record is None or record.confirmation is not ReservationStatus.ACCEPTED:
            return _failed(f"could not reserve connector {connector_id}: {self._answer(record)}")
        outcome = await self._present_cards(connector_id, reservation_id)
        if reservation_id in self._may_hold:
            await self._cancel(reservation_id)
        return outcome

    def _incoming_call(
        self, since: int, actions: Iterable[str], id_tag_matches: Callable[[object], bool]
    ) -> Callable[[], TraceEntry | None]:
        """The first incoming call of ``actions`` since ``since`` whose idTag matches (or
        :data:`_SKIP` once the technician skipped)."""
        wanted = frozenset(actions)

        def found() -> TraceEntry | None:
            if self._skip_requested:
                return _SKIP
            for entry in self._entries[since:]:
                payload = _payload(entry)
                if (
                    payload is not None
                    and entry.action in wanted
                    and id_tag_matches(payload.get("idTag"))
                ):
                    return entry
            return None

        return found

    async def _present_cards(self, connector_id: int, reservation_id: int) -> _Verdict:
        id_tag = self._request.id_tag
        index = self._index(CheckStep.CARDS, connector_id)
        guided = self._options.guided_timeout
        # 1. Another card: an Authorize may come, no StartTransaction may follow it.
        self._set_step(
            index,
            prompt=(
                f"Present a card other than {id_tag} at connector {connector_id} and plug in: "
                "the station must not start charging"
            ),
        )
        seen = await self._wait_for(
            self._incoming_call(
                len(self._entries),
                ("Authorize", "StartTransaction"),
                lambda tag: isinstance(tag, str) and not same_id_tag(tag, id_tag),
            ),
            guided,
        )
        if seen is _SKIP:
            return _skipped("skipped by the technician")
        if seen is None:
            return _skipped(f"no card presented within {_seconds(guided)}")
        other_tag = str((_payload(seen) or {}).get("idTag"))
        start = seen if seen.action == "StartTransaction" else None
        if start is None:
            start = await self._wait_for(
                self._incoming_call(
                    self._entries.index(seen) + 1,
                    ("StartTransaction",),
                    lambda tag: same_id_tag(tag, other_tag),
                ),
                self._options.step_timeout,
            )
        if start is _SKIP:
            return _skipped("skipped by the technician")
        if start is not None and (_payload(start) or {}).get("connectorId") == connector_id:
            return _failed(
                f"the station started a transaction for {other_tag} on connector "
                f"{connector_id}, reserved for {id_tag}"
            )
        refused = f"{other_tag} refused on the reserved connector"
        # 2. The reserved card: its StartTransaction names our reservation.
        self._set_step(
            index,
            prompt=(
                f"Now present card {id_tag} at connector {connector_id} (plugged in): "
                "charging must start"
            ),
        )
        start = await self._wait_for(
            self._incoming_call(
                len(self._entries), ("StartTransaction",), lambda tag: same_id_tag(tag, id_tag)
            ),
            guided,
        )
        if start is _SKIP:
            return _skipped(f"{refused}; the rest skipped by the technician")
        if start is None:
            return _skipped(
                f"{refused}; no StartTransaction for {id_tag} within {_seconds(guided)}"
            )
        carried = (_payload(start) or {}).get("reservationId")
        if carried == reservation_id:
            self._may_hold.pop(reservation_id, None)
            self._end_span(reservation_id, start.at, "used")
            return _passed(
                f"{refused}; {id_tag}'s StartTransaction carried reservationId {reservation_id}"
            )
        return _failed(
            f"{refused}; {id_tag}'s StartTransaction carried reservationId "
            f"{carried if carried is not None else 'none'}, expected {reservation_id}"
        )

    async def _schemas(self) -> _Verdict:
        problems: list[str] = []
        at_fault: list[TraceEntry] = []
        checked = 0
        for entry in self._entries:
            if entry.direction is not TraceDirection.IN:
                continue
            checked += 1
            if entry.message_type is None:
                # The session could not read it (not JSON, no id, an answer it rejects...).
                found = [entry.note or "not a frame the console could read"]
            else:
                answered = entry.action if entry.message_type == MessageType.CALL_RESULT else None
                found = station_frame_problems(entry.text, answered_action=answered)
            if found:
                at_fault.append(entry)
                problems.extend(f"{problem}: {entry.text}" for problem in found)
        if not problems:
            if checked == 1:
                return _passed("1 frame from the station, valid")
            return _passed(f"{checked} frames from the station, all valid")
        shown = "; ".join(problems[:_SHOWN_PROBLEMS])
        more = len(problems) - _SHOWN_PROBLEMS
        extra = f"; and {more} more" if more > 0 else ""
        return _Verdict(
            Verdict.FAILED,
            f"{len(problems)} problem(s) in {checked} frames: {shown}{extra}",
            tuple(at_fault),
        )

    # --- the end ------------------------------------------------------------------------

    async def _finish(self, outcome: CheckOutcome | None, reason: str) -> None:
        await self._clean_up()
        if outcome is None:
            failed = any(s.verdict is Verdict.FAILED for s in self._result.steps)
            outcome = CheckOutcome.FAILED if failed else CheckOutcome.PASSED
        self._publish(finished_at=_now(), outcome=outcome, reason=reason)
        logger.info(
            "station %s: reservation check %s%s",
            self._station_id,
            outcome.value,
            f" ({reason})" if reason else "",
        )
        try:
            saved = await self._system.save_check(self._result)
        except Exception:
            logger.exception("station %s: storing the check result failed", self._station_id)
            return
        self._publish(check_id=saved.check_id)

    async def _clean_up(self) -> None:
        timeout = self._options.step_timeout
        # A slow station answers after the Central System's call timeout: the clean-up
        # waits that long (and for a late answer), rather than call a reservation left
        # behind that the station did cancel.
        patience = timeout + self._system.config.call_timeout
        if self._in_flight:
            # A call the cancel interrupted: its answer says whether the station took it.
            await asyncio.wait(set(self._in_flight), timeout=patience)
        left_behind: list[int] = []
        for reservation_id in sorted(self._may_hold):
            if not self._system.is_connected(self._station_id):
                back = await self._wait_for(
                    lambda: True if self._system.is_connected(self._station_id) else None,
                    timeout,
                    while_lost=True,
                )
                if back is None:
                    left_behind.extend(r for r in sorted(self._may_hold) if r >= reservation_id)
                    break
            sent_from = len(self._entries)
            outcome = await self._cancel(reservation_id, patience)
            if outcome is not None and outcome.status is not None:
                continue
            late = await self._wait_for(
                self._cancel_answered(sent_from, reservation_id), patience, while_lost=True
            )
            if late is None:
                left_behind.append(reservation_id)
            else:
                self._may_hold.pop(reservation_id, None)
        if left_behind:
            logger.warning(
                "station %s: the check could not cancel reservation(s) %s",
                self._station_id,
                ", ".join(map(str, left_behind)),
            )
        self._publish(left_behind=tuple(left_behind))


_SKIP = TraceEntry(
    seq=-1,
    at=datetime.min.replace(tzinfo=UTC),
    station_id="",
    direction=TraceDirection.EVENT,
    text="skipped",
)
"""What a guided wait returns when the technician skips it."""


def _conforms(check: ReservationCheck) -> CheckRunner:
    # mypy checks here that ReservationCheck is what the window drives.
    return check
