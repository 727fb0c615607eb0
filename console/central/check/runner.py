"""The reservation conformance check (issue #9): drive a station through the Reservation rules.

:class:`ReservationCheck` runs the steps of :class:`~console.central.check.model.CheckStep`
(one function each in :mod:`console.central.check.steps`) against one connected station,
through the Central System's public calls, so every reservation it makes shows in the
reservations table and the book stays right. This module is the orchestration: the order
of the steps, their time limits, what one step passes on to the next, publishing the
result, and the clean-up.

The steps run in this order: 1-5 on each connector asked for, 6 once, 7 on each connector,
8 on the first, 9 last. Each rule is judged by one step: a step that depends on an earlier
one (a reservation to replace, cancel or let expire) is skipped when that one could not give
it. A call the station leaves unanswered past the step's time limit fails its step and stops
the steps that call the station (every later call would wait behind it: one call at a
time); step 9 still runs.

What it sees of the station comes from the evidence observer
(:mod:`console.central.check.evidence`). Whatever happens (a failure, the technician's
cancel, the task being cancelled, the station going away), every reservation the check made
that the station may still hold is cancelled at the end.

It is about 600 lines because it is one thing, the life of one run from its plan to its
stored result; what a step does, what the station did and how a call is made are in the
modules beside it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

from console.central.check import steps, steps201
from console.central.check.calls import StationCalls
from console.central.check.capabilities import Capabilities, probe
from console.central.check.context import (
    StepContext,
    StepVerdict,
    seconds_text,
)
from console.central.check.evidence import EvidenceObserver, StationLostError
from console.central.check.model import (
    CheckFactory,
    CheckOptions,
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
from console.central.model import TraceEntry, UpstreamState
from console.ocpp.enums import ChargePointStatus
from console.ocpp.v201.enums import ConnectorType
from console.ocpp.versions import OcppVersion

if TYPE_CHECKING:
    from console.central.server import CentralSystem

__all__ = ["CheckOptions", "ReservationCheck", "check_factory", "derive_other_id_tag"]

logger = logging.getLogger(__name__)

V = TypeVar("V", bound=StepVerdict)

_FIRST_CONNECTOR_STEPS = (
    CheckStep.RESERVE,
    CheckStep.SECOND_RESERVATION,
    CheckStep.REPLACE,
    CheckStep.CANCEL_UNKNOWN,
    CheckStep.CANCEL_HELD,
)
_PER_CONNECTOR_STEPS = (*_FIRST_CONNECTOR_STEPS, CheckStep.EXPIRY)

_CHECK_CANCELLED = "check cancelled"
_OTHER_SUFFIX = "-OTHER"
_MAX_ID_TAG = 20


def _now() -> datetime:
    return datetime.now(UTC)


def derive_other_id_tag(id_tag: str) -> str:
    """An idTag that differs from ``id_tag`` case-insensitively, at most 20 characters."""
    other = id_tag[: _MAX_ID_TAG - len(_OTHER_SUFFIX)] + _OTHER_SUFFIX
    if other.casefold() == id_tag.casefold():
        other = "CHECK" + _OTHER_SUFFIX
    return other


def check_factory(system: CentralSystem, options: CheckOptions | None = None) -> CheckFactory:
    """Runners bound to ``system`` (what the composition root gives the check service)."""
    chosen = options or CheckOptions()

    def make(request: CheckRequest) -> CheckRunner:
        return ReservationCheck(system, request, chosen)

    return make


class _AbortError(Exception):
    """The check cannot go on (the reason is the message)."""


class _TooSlowError(Exception):
    """A call got no answer within the step's time limit: the later steps are not run."""


@dataclasses.dataclass(frozen=True, slots=True)
class _ConnectorFindings:
    """What steps 1-5 on the connectors found that steps 6 and 7 need."""

    rejected: frozenset[int] = frozenset()
    """Connectors whose step 1 reservation the station Rejected."""
    accepts_unknown_cancel: bool = False
    """Step 4 on some connector: the station accepts cancelling an id it never got."""


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
        # The plan follows the station's version when the check is made (it connected; a
        # runner made before the Central System started plans 1.6 and aborts when run).
        station = system.station(request.station_id) if system.running else None
        self._version = OcppVersion.V16 if station is None else station.ocpp_version
        self._capabilities = Capabilities(self._version)
        self._system = system
        self._request = request
        self._options = options
        self._station_id = request.station_id
        self._other_id_tag = other
        self._listeners = Listeners[CheckResult]()
        self._result = CheckResult(
            check_id=None,
            station_id=request.station_id,
            started_at=_now(),
            connectors=tuple(request.connectors),
            id_tag=request.id_tag,
            steps=tuple(
                StepResult(step, connector, ocpp_version=self._version)
                for step, connector in self._plan(request, self._version)
            ),
            guided=request.guided,
            ocpp_version=self._version,
        )
        self._observer = EvidenceObserver(request.station_id, self._on_frame, self._on_spans)
        self._calls = StationCalls(system, request.station_id, self._observer, options.step_timeout)
        # Where the run stands (what the technician's skip and cancel act on).
        self._current: int | None = None
        """The index of the running step."""
        self._skip_requested = False
        self._cancel_requested = False
        self._steps_task: asyncio.Task[None] | None = None
        self._started = False

    @staticmethod
    def _plan(request: CheckRequest, version: OcppVersion) -> list[tuple[CheckStep, int | None]]:
        # In the order they run, which is the order of their numbers for one connector.
        plan: list[tuple[CheckStep, int | None]] = [(CheckStep.CAPABILITIES, None)]
        plan.extend(
            (step, connector) for connector in request.connectors for step in _FIRST_CONNECTOR_STEPS
        )
        plan.append((CheckStep.CONNECTOR_ZERO, None))
        if version is OcppVersion.V201:
            plan.append((CheckStep.CONNECTOR_TYPE, None))
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
        self._observer.wake()

    async def run(self) -> CheckResult:
        if self._started:
            raise RuntimeError("a ReservationCheck runs once")
        self._started = True
        self._publish(started_at=_now())
        stop_listening = self._observer.listen(self._system)
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
            slow: str | None = None
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
                except (_AbortError, StationLostError) as exc:
                    outcome, reason = CheckOutcome.ABORTED, str(exc)
                except _TooSlowError as exc:
                    slow = str(exc)
                except Exception as exc:
                    # A bug must not leave reservations behind: clean up all the same.
                    logger.exception("station %s: the reservation check failed", self._station_id)
                    outcome, reason = CheckOutcome.ABORTED, f"internal error: {exc!r}"
            if outcome is not None:
                self._skip_rest(reason)
            if outcome is None and slow is not None:
                reason = slow.removeprefix("not run: ")
            # The clean-up and the save run to their end whatever cancels this task
            # (each call is bounded by the step timeout).
            finishing = asyncio.create_task(self._finish(outcome, reason))
            while not finishing.done():
                try:
                    await asyncio.shield(finishing)
                except asyncio.CancelledError:
                    task_cancelled = True
            finishing.result()
        finally:
            stop_listening()
        if task_cancelled:
            raise asyncio.CancelledError
        return self._result

    # --- publishing ---------------------------------------------------------------------

    def _publish(self, **changes: Any) -> None:
        self._result = dataclasses.replace(self._result, **changes)
        self._listeners.emit(self._result)

    def _set_step(self, index: int, **changes: Any) -> None:
        steps_now = list(self._result.steps)
        steps_now[index] = dataclasses.replace(steps_now[index], **changes)
        self._publish(steps=tuple(steps_now))

    def _skip_rest(self, reason: str) -> None:
        skipped = tuple(
            dataclasses.replace(s, verdict=Verdict.SKIPPED, reason=reason, prompt=None)
            if s.verdict in (Verdict.PENDING, Verdict.RUNNING)
            else s
            for s in self._result.steps
        )
        if self._current is not None:
            index = self._current
            skipped = (
                *skipped[:index],
                dataclasses.replace(
                    skipped[index], finished_at=_now(), evidence=self._frames_of(index)
                ),
                *skipped[index + 1 :],
            )
        self._publish(steps=skipped)

    def _frames_of(self, index: int) -> tuple[TraceEntry, ...]:
        """The station's frames since step ``index`` started (its evidence)."""
        started = self._result.steps[index].started_at
        if started is None:
            return ()
        return tuple(e for e in self._observer.entries if e.at >= started)

    def _on_frame(self, _entry: TraceEntry, points: tuple[StatusPoint, ...]) -> None:
        changes: dict[str, Any] = {}
        if points:
            changes["statuses"] = (*self._result.statuses, *points)
        if self._current is not None:
            # The running step's frames show as they come (what was sent, what came
            # back), not only once it has its verdict.
            index = self._current
            steps_now = list(self._result.steps)
            steps_now[index] = dataclasses.replace(
                steps_now[index], evidence=self._frames_of(index)
            )
            changes["steps"] = tuple(steps_now)
        if changes:
            self._publish(**changes)

    def _on_spans(self, spans: tuple[ReservationSpan, ...]) -> None:
        self._publish(spans=spans)

    # --- running one step ---------------------------------------------------------------

    def _index(self, step: CheckStep, connector_id: int | None) -> int:
        for index, result in enumerate(self._result.steps):
            if result.step is step and result.connector_id == connector_id:
                return index
        raise LookupError(f"step {step} on {connector_id} is not planned")

    def _context(self, index: int, started_at: datetime) -> StepContext:
        return StepContext(
            system=self._system,
            station_id=self._station_id,
            id_tag=self._request.id_tag,
            other_id_tag=self._other_id_tag,
            options=self._options,
            observer=self._observer,
            calls=self._calls,
            started_at=started_at,
            show_prompt=partial(self._show_prompt, index),
            skip_requested=lambda: self._skip_requested,
        )

    def _show_prompt(self, index: int, prompt: str) -> None:
        self._set_step(index, prompt=prompt)

    async def _step(
        self,
        step: CheckStep,
        connector_id: int | None,
        body: Callable[[StepContext], Awaitable[V]],
    ) -> V:
        """Run ``body`` as ``step`` on ``connector_id``: mark it running, give it its time
        limits, record its verdict and evidence, and say whether the run can go on."""
        index = self._index(step, connector_id)
        self._current = index
        self._skip_requested = False
        timeouts = self._calls.timeouts
        started_at = _now()
        self._set_step(index, verdict=Verdict.RUNNING, started_at=started_at)
        try:
            outcome = await body(self._context(index, started_at))
        except StationLostError as exc:
            self._record(index, step, connector_id, StepVerdict(Verdict.SKIPPED, str(exc)))
            raise
        self._record(index, step, connector_id, outcome)
        if self._observer.lost is not None:
            raise StationLostError(self._observer.lost)
        if self._calls.timeouts > timeouts and outcome.verdict is Verdict.FAILED:
            raise _TooSlowError(
                f"not run: the station did not answer within the step time limit "
                f"({seconds_text(self._options.step_timeout)}) in step {step_number(step)}; a "
                "slow station needs a longer limit (Settings, Reservation check)"
            )
        return outcome

    def _record(
        self, index: int, step: CheckStep, connector_id: int | None, outcome: StepVerdict
    ) -> None:
        lost = self._observer.lost
        if lost is not None and outcome.verdict is not Verdict.PASSED:
            # Whatever went wrong, the station leaving is the reason.
            outcome = StepVerdict(Verdict.SKIPPED, lost)
        self._set_step(
            index,
            verdict=outcome.verdict,
            reason=outcome.reason,
            prompt=None,
            finished_at=_now(),
            evidence=self._frames_of(index) if outcome.evidence is None else outcome.evidence,
        )
        self._current = None
        where = "" if connector_id is None else f" (connector {connector_id})"
        logger.info(
            "station %s: check step %d%s %s: %s",
            self._station_id,
            step_number(step),
            where,
            outcome.verdict.value,
            outcome.reason,
        )

    def _skip(self, step: CheckStep, connector_id: int | None, reason: str) -> None:
        index = self._index(step, connector_id)
        self._set_step(index, verdict=Verdict.SKIPPED, reason=reason)

    def _not_applicable(self, step: CheckStep, connector_id: int | None, reason: str) -> None:
        index = self._index(step, connector_id)
        self._set_step(index, verdict=Verdict.NOT_APPLICABLE, reason=reason)
        logger.info(
            "station %s: check step %d N/A: %s", self._station_id, step_number(step), reason
        )

    @property
    def _v201(self) -> bool:
        return self._version is OcppVersion.V201

    def _available_now(self) -> dict[int, str | None]:
        """What blocks each connector asked for (None: Available). 2.0.1: an EVSE is
        Available when every connector of it is."""
        connectors = self._system.connectors(self._station_id)
        found: dict[int, str | None] = {}
        for wanted in self._request.connectors:
            if self._v201:
                mine = [c.status for c in connectors if c.evse_id == wanted]
                if mine and all(s == ChargePointStatus.AVAILABLE for s in mine):
                    found[wanted] = None
                else:
                    shown = ", ".join(str(s) for s in mine) or "of unknown status"
                    found[wanted] = f"EVSE {wanted} is {shown}, not Available"
                continue
            status = next((c.status for c in connectors if c.connector_id == wanted), None)
            if status is ChargePointStatus.AVAILABLE:
                found[wanted] = None
            else:
                shown = "of unknown status" if status is None else status.value
                found[wanted] = f"connector {wanted} is {shown}, not Available"
        return found

    # --- the order of the steps ---------------------------------------------------------

    async def _run_steps(self) -> None:
        system = self._system
        station_id = self._station_id
        station = system.station(station_id)
        if station is None or not system.is_connected(station_id):
            raise _AbortError(f"station {station_id} is not connected")
        if station.ocpp_version is not self._version:
            raise _AbortError(
                f"station {station_id} reconnected with OCPP {station.ocpp_version} since "
                "the check was planned: start it again"
            )
        connectors = system.connectors(station_id)
        # What each connector was when the check began, so its timeline lane starts with
        # a status (the station reports nothing until something changes).
        initial = tuple(
            StatusPoint(
                c.status_at or self._result.started_at,
                c.connector_id,
                c.status.value,
                c.evse_id,
            )
            for c in connectors
            if c.status is not None
        )
        self._publish(
            vendor=station.vendor,
            model=station.model,
            firmware_version=station.firmware_version,
            serial_number=station.serial_number,
            statuses=(*initial, *self._result.statuses),
            through_proxy=station.upstream is UpstreamState.CONNECTED,
        )
        try:
            await self._probe_then_steps()
        except _TooSlowError as exc:
            # Every later call would queue behind the unanswered one (one call at a time):
            # their verdicts would say nothing about the station's rules.
            for index, planned in enumerate(self._result.steps):
                if planned.step is not CheckStep.SCHEMAS and planned.verdict is Verdict.PENDING:
                    self._set_step(index, verdict=Verdict.SKIPPED, reason=str(exc))
            await self._step(CheckStep.SCHEMAS, None, steps.schemas)
            raise
        await self._step(CheckStep.SCHEMAS, None, steps.schemas)

    async def _probe_then_steps(self) -> None:
        """Step 0, then steps 1-8 on the connectors that are Available (or N/A for all of
        them when the probe says the station takes no reservations)."""
        probed = await self._step(CheckStep.CAPABILITIES, None, probe)
        if probed.found is not None:
            self._capabilities = probed.found
        cannot = self._capabilities.not_applicable(CheckStep.RESERVE)
        if cannot is not None:
            for index, planned in enumerate(self._result.steps):
                if planned.verdict is Verdict.PENDING and planned.step is not CheckStep.SCHEMAS:
                    self._set_step(index, verdict=Verdict.NOT_APPLICABLE, reason=cannot)
            return
        available: list[int] = []
        for connector_id, blocked in self._available_now().items():
            if blocked is None:
                available.append(connector_id)
                continue
            for step in _PER_CONNECTOR_STEPS:
                self._skip(step, connector_id, blocked)
            if self._request.guided and connector_id == self._request.connectors[0]:
                self._skip(CheckStep.CARDS, connector_id, blocked)
        if not available:
            raise _AbortError(
                "no Available "
                + ("EVSE" if self._v201 else "connector")
                + " among "
                + ", ".join(str(c) for c in self._request.connectors)
            )
        await self._steps_with_calls(available)

    async def _steps_with_calls(self, available: list[int]) -> None:
        """Steps 1-8, in the order of their numbers (1-5 and 7 on each connector)."""
        found = _ConnectorFindings()
        for connector_id in available:
            busy = self._available_now().get(connector_id)
            if busy is not None:
                # It was Available when the check began; the steps of another connector took
                # long enough for that to change.
                for step in _FIRST_CONNECTOR_STEPS:
                    self._skip(step, connector_id, busy)
                continue
            found = await self._connector_steps(connector_id, found)
        rejected = [c for c in available if c in found.rejected]
        if rejected and len(rejected) == len(available):
            self._skip(
                CheckStep.CONNECTOR_ZERO,
                None,
                "the station rejected the reservation of step 1 (it may be configured not to "
                "accept reservations), so connector 0 says nothing more",
            )
        else:
            await self._step(
                CheckStep.CONNECTOR_ZERO,
                None,
                steps201.no_evse if self._v201 else steps.connector_zero,
            )
        if self._v201:
            await self._connector_type_step(available)
        for connector_id in available:
            if connector_id in found.rejected:
                self._skip(
                    CheckStep.EXPIRY,
                    connector_id,
                    f"the station rejected the reservation of step 1 on connector "
                    f"{connector_id}, so there is no reservation to let expire",
                )
                continue
            busy = self._available_now().get(connector_id)
            if busy is not None:
                self._skip(CheckStep.EXPIRY, connector_id, busy)
                continue
            if self._v201:
                await self._step(
                    CheckStep.EXPIRY,
                    connector_id,
                    partial(steps201.expiry, connector_id=connector_id),
                )
                continue
            await self._step(
                CheckStep.EXPIRY,
                connector_id,
                partial(
                    steps.expiry,
                    connector_id=connector_id,
                    accepts_unknown_cancel=found.accepts_unknown_cancel,
                ),
            )
        first = self._request.connectors[0]
        if self._request.guided and first in available and self._v201:
            # The 2.0.1 guided step (TransactionEvent with reservationId) is not built yet:
            # said, not silently left out.
            self._skip(CheckStep.CARDS, first, "the guided step runs on OCPP 1.6 stations only")
        elif self._request.guided and first in available:
            await self._step(CheckStep.CARDS, first, partial(steps.cards, connector_id=first))

    async def _connector_type_step(self, available: list[int]) -> None:
        """Step 10 (2.0.1): reserve by a connector type the station reported, on an EVSE
        that has it (N/A when it reported none from the enum)."""
        cannot = self._capabilities.not_applicable(CheckStep.CONNECTOR_TYPE)
        if cannot is not None:
            self._not_applicable(CheckStep.CONNECTOR_TYPE, None, cannot)
            return
        for evse in available:
            for value in self._capabilities.connector_types.get(evse, ()):
                try:
                    wanted = ConnectorType(value)
                except ValueError:
                    continue
                await self._step(
                    CheckStep.CONNECTOR_TYPE,
                    None,
                    partial(steps201.connector_type, evse_id=evse, wanted=wanted),
                )
                return
        self._not_applicable(
            CheckStep.CONNECTOR_TYPE,
            None,
            "no EVSE checked reported a connector type from the 2.0.1 enum",
        )

    async def _connector_steps(
        self, connector_id: int, found: _ConnectorFindings
    ) -> _ConnectorFindings:
        """Steps 1-5 on one connector; what they found added to ``found``."""
        reserved = await self._step(
            CheckStep.RESERVE,
            connector_id,
            partial(steps201.reserve if self._v201 else steps.reserve, connector_id=connector_id),
        )
        held = reserved.held
        await self._step(
            CheckStep.SECOND_RESERVATION,
            connector_id,
            partial(steps.second_reservation, connector_id=connector_id, held=held),
        )
        await self._step(
            CheckStep.REPLACE,
            connector_id,
            partial(steps.replace, connector_id=connector_id, held=held),
        )
        unknown = await self._step(CheckStep.CANCEL_UNKNOWN, connector_id, steps.cancel_unknown)
        await self._step(
            CheckStep.CANCEL_HELD,
            connector_id,
            partial(
                steps201.cancel_held if self._v201 else steps.cancel_held,
                connector_id=connector_id,
                held=held,
            ),
        )
        return _ConnectorFindings(
            rejected=found.rejected | {connector_id} if reserved.rejected else found.rejected,
            accepts_unknown_cancel=found.accepts_unknown_cancel or unknown.accepts_unknown_cancel,
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
        """Cancel every reservation the station may still hold (waiting for the station to
        come back, and for late answers, within the time limits)."""
        system, station_id, calls, observer = (
            self._system,
            self._station_id,
            self._calls,
            self._observer,
        )
        timeout = self._options.step_timeout
        # A slow station answers after the Central System's call timeout: the clean-up
        # waits that long (and for a late answer), rather than call a reservation left
        # behind that the station did cancel.
        patience = timeout + system.config.call_timeout
        in_flight = calls.in_flight
        if in_flight:
            # A call the cancel interrupted: its answer says whether the station took it.
            await asyncio.wait(in_flight, timeout=patience)
        left_behind: list[int] = []
        for reservation_id in calls.may_hold():
            if not system.is_connected(station_id):
                back = await observer.wait_for(
                    lambda: True if system.is_connected(station_id) else None,
                    timeout,
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
        self._publish(left_behind=tuple(left_behind))


def _conforms(check: ReservationCheck) -> CheckRunner:
    # mypy checks here that ReservationCheck is what the check service drives.
    return check
