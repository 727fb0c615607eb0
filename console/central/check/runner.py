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

The plan and which connectors are Available are in :mod:`console.central.check.plan`, the
clean-up's calls in :mod:`console.central.check.cleanup`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from functools import partial
from typing import TYPE_CHECKING, TypeVar

from console.central.check import steps, steps201, steps_availability
from console.central.check.calls import StationCalls
from console.central.check.capabilities import Capabilities, probe
from console.central.check.cleanup import cancel_left_reservations, put_back_what_changed
from console.central.check.context import (
    SecondReservationVerdict,
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
    StepResult,
    Verdict,
    step_number,
)
from console.central.check.plan import (
    AVAILABILITY_STEPS,
    FIRST_CONNECTOR_STEPS,
    PER_CONNECTOR_STEPS,
    ConnectorFindings,
    available_now,
    checked_request,
    connector_type_choice,
    derive_other_id_tag,
    plan_steps,
)
from console.central.check.sheet import ResultSheet
from console.ocpp.versions import OcppVersion

if TYPE_CHECKING:
    from console.central.server import CentralSystem

__all__ = ["CheckOptions", "ReservationCheck", "check_factory", "derive_other_id_tag"]

logger = logging.getLogger(__name__)

V = TypeVar("V", bound=StepVerdict)

_CHECK_CANCELLED = "check cancelled"


def _now() -> datetime:
    return datetime.now(UTC)


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
        request, other = checked_request(request, options)
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
        self._sheet = ResultSheet(
            CheckResult(
                check_id=None,
                station_id=request.station_id,
                started_at=_now(),
                connectors=tuple(request.connectors),
                id_tag=request.id_tag,
                steps=tuple(
                    StepResult(step, connector, ocpp_version=self._version)
                    for step, connector in plan_steps(request, self._version)
                ),
                guided=request.guided,
                ocpp_version=self._version,
            ),
            lambda: self._observer.entries,
        )
        self._observer = EvidenceObserver(
            request.station_id, self._sheet.on_frame, self._sheet.on_spans
        )
        self._calls = StationCalls(system, request.station_id, self._observer, options.step_timeout)
        # Where the run stands (what the technician's skip and cancel act on).
        self._skip_requested = False
        self._cancel_requested = False
        self._steps_task: asyncio.Task[None] | None = None
        self._started = False

    # --- the CheckRunner protocol -------------------------------------------------------

    @property
    def result(self) -> CheckResult:
        return self._sheet.result

    @property
    def other_id_tag(self) -> str:
        """The idTag steps 2 and 3 use."""
        return self._other_id_tag

    def subscribe(self, listener: Callable[[CheckResult], None]) -> Callable[[], None]:
        return self._sheet.subscribe(listener)

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
        self._sheet.publish(started_at=_now())
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
                self._sheet.skip_rest(reason)
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
        return self._sheet.result

    # --- running one step ---------------------------------------------------------------

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
        self._sheet.set_step(index, prompt=prompt)

    async def _step(
        self,
        step: CheckStep,
        connector_id: int | None,
        body: Callable[[StepContext], Awaitable[V]],
    ) -> V:
        """Run ``body`` as ``step`` on ``connector_id``: mark it running, give it its time
        limits, record its verdict and evidence, and say whether the run can go on."""
        index = self._sheet.index(step, connector_id)
        self._sheet.current = index
        self._skip_requested = False
        timeouts = self._calls.timeouts
        started_at = _now()
        self._sheet.set_step(index, verdict=Verdict.RUNNING, started_at=started_at)
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
        self._sheet.set_step(
            index,
            verdict=outcome.verdict,
            reason=outcome.reason,
            prompt=None,
            finished_at=_now(),
            evidence=self._sheet.frames_of(index) if outcome.evidence is None else outcome.evidence,
        )
        self._sheet.current = None
        where = "" if connector_id is None else f" (connector {connector_id})"
        logger.info(
            "station %s: check step %d%s %s: %s",
            self._station_id,
            step_number(step),
            where,
            outcome.verdict.value,
            outcome.reason,
        )

    def _not_applicable(self, step: CheckStep, connector_id: int | None, reason: str) -> None:
        index = self._sheet.index(step, connector_id)
        self._sheet.set_step(index, verdict=Verdict.NOT_APPLICABLE, reason=reason)
        logger.info(
            "station %s: check step %d N/A: %s", self._station_id, step_number(step), reason
        )

    @property
    def _v201(self) -> bool:
        return self._version is OcppVersion.V201

    def _available_now(self) -> dict[int, str | None]:
        return available_now(
            self._system, self._station_id, self._request.connectors, self._version
        )

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
        self._sheet.begin(station, system.connectors(station_id))
        try:
            await self._probe_then_steps()
        except _TooSlowError as exc:
            # Every later call would queue behind the unanswered one (one call at a time):
            # their verdicts would say nothing about the station's rules.
            for index, planned in enumerate(self._sheet.result.steps):
                if planned.step is not CheckStep.SCHEMAS and planned.verdict is Verdict.PENDING:
                    self._sheet.set_step(index, verdict=Verdict.SKIPPED, reason=str(exc))
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
            for index, planned in enumerate(self._sheet.result.steps):
                if planned.verdict is Verdict.PENDING and planned.step is not CheckStep.SCHEMAS:
                    self._sheet.set_step(index, verdict=Verdict.NOT_APPLICABLE, reason=cannot)
            return
        available: list[int] = []
        for connector_id, blocked in self._available_now().items():
            if blocked is None:
                available.append(connector_id)
                continue
            for step in PER_CONNECTOR_STEPS:
                self._sheet.skip(step, connector_id, blocked)
            if connector_id == self._request.connectors[0]:
                if not self._v201:
                    for step in AVAILABILITY_STEPS:
                        self._sheet.skip(step, connector_id, blocked)
                if self._request.guided:
                    self._sheet.skip(CheckStep.CARDS, connector_id, blocked)
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
        found = ConnectorFindings()
        for connector_id in available:
            busy = self._available_now().get(connector_id)
            if busy is not None:
                # It was Available when the check began; the steps of another connector took
                # long enough for that to change.
                for step in FIRST_CONNECTOR_STEPS:
                    self._sheet.skip(step, connector_id, busy)
                continue
            found = await self._connector_steps(connector_id, found)
        rejected = [c for c in available if c in found.rejected]
        if rejected and len(rejected) == len(available):
            self._sheet.skip(
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
                self._sheet.skip(
                    CheckStep.EXPIRY,
                    connector_id,
                    f"the station rejected the reservation of step 1 on connector "
                    f"{connector_id}, so there is no reservation to let expire",
                )
                continue
            busy = self._available_now().get(connector_id)
            if busy is not None:
                self._sheet.skip(CheckStep.EXPIRY, connector_id, busy)
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
        if not self._v201:
            await self._availability_steps(first, available, found)
        if self._request.guided and first in available and self._v201:
            # The 2.0.1 guided step (TransactionEvent with reservationId) is not built yet:
            # said, not silently left out.
            self._sheet.skip(
                CheckStep.CARDS, first, "the guided step runs on OCPP 1.6 stations only"
            )
        elif self._request.guided and first in available:
            await self._step(CheckStep.CARDS, first, partial(steps.cards, connector_id=first))

    async def _availability_steps(
        self, first: int, available: list[int], found: ConnectorFindings
    ) -> None:
        """1.6 steps 11-14 on the first connector asked for (skipped when it is not
        Available or rejected reservations)."""
        if first not in available:
            return  # skipped with the reason when the check began
        blocked = self._available_now().get(first)
        if first in found.rejected:
            blocked = (
                f"the station rejected the reservation of step 1 on connector {first}, so "
                "there is no reservation to take out of service"
            )
        for step in AVAILABILITY_STEPS:
            if blocked is not None:
                self._sheet.skip(step, first, blocked)
                continue
            if step is CheckStep.REPLACE_OCCUPIED and found.accepts_second:
                self._sheet.skip(
                    step,
                    first,
                    "step 2 showed the station accepts a second reservation on a reserved "
                    "connector: a replacement onto one says nothing more",
                )
                continue
            body = partial(steps_availability.BODIES[step], connector_id=first)
            if step is CheckStep.INOPERATIVE:
                body = partial(body, accepts_unknown_cancel=found.accepts_unknown_cancel)
            await self._step(step, first, body)
            blocked = self._available_now().get(first)

    async def _connector_type_step(self, available: list[int]) -> None:
        """Step 10 (2.0.1): reserve by a connector type the station reported, on an EVSE
        that has it (N/A when it reported none from the enum)."""
        cannot = self._capabilities.not_applicable(CheckStep.CONNECTOR_TYPE)
        if cannot is not None:
            self._not_applicable(CheckStep.CONNECTOR_TYPE, None, cannot)
            return
        chosen = connector_type_choice(self._capabilities, available)
        if chosen is None:
            self._not_applicable(
                CheckStep.CONNECTOR_TYPE,
                None,
                "no EVSE checked reported a connector type from the 2.0.1 enum",
            )
            return
        evse, wanted = chosen
        await self._step(
            CheckStep.CONNECTOR_TYPE,
            None,
            partial(steps201.connector_type, evse_id=evse, wanted=wanted),
        )

    async def _connector_steps(
        self, connector_id: int, found: ConnectorFindings
    ) -> ConnectorFindings:
        """Steps 1-5 on one connector; what they found added to ``found``."""
        reserved = await self._step(
            CheckStep.RESERVE,
            connector_id,
            partial(steps201.reserve if self._v201 else steps.reserve, connector_id=connector_id),
        )
        held = reserved.held
        second = await self._step(
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
        return ConnectorFindings(
            rejected=found.rejected | {connector_id} if reserved.rejected else found.rejected,
            accepts_unknown_cancel=found.accepts_unknown_cancel or unknown.accepts_unknown_cancel,
            accepts_second=found.accepts_second
            or (isinstance(second, SecondReservationVerdict) and second.accepts_second),
        )

    # --- the end ------------------------------------------------------------------------

    async def _finish(self, outcome: CheckOutcome | None, reason: str) -> None:
        await self._clean_up()
        if outcome is None:
            failed = any(s.verdict is Verdict.FAILED for s in self._sheet.result.steps)
            outcome = CheckOutcome.FAILED if failed else CheckOutcome.PASSED
        self._sheet.publish(finished_at=_now(), outcome=outcome, reason=reason)
        logger.info(
            "station %s: reservation check %s%s",
            self._station_id,
            outcome.value,
            f" ({reason})" if reason else "",
        )
        try:
            saved = await self._system.save_check(self._sheet.result)
        except Exception:
            logger.exception("station %s: storing the check result failed", self._station_id)
            return
        self._sheet.publish(check_id=saved.check_id)

    async def _clean_up(self) -> None:
        """Cancel every reservation the station may still hold."""
        left_behind = await cancel_left_reservations(
            self._system,
            self._station_id,
            self._calls,
            self._observer,
            self._options.step_timeout,
        )
        # Availability and transactions after the reservations: an Operative connector
        # must not come back Reserved for a reservation the check left.
        await put_back_what_changed(
            self._system, self._station_id, self._calls, self._options.step_timeout
        )
        self._sheet.publish(left_behind=left_behind)


def _conforms(check: ReservationCheck) -> CheckRunner:
    # mypy checks here that ReservationCheck is what the check service drives.
    return check
