"""The check service: it starts checks, keeps them while they run, cancels them, stops them all.

The real check runs against a real simulated station on a real Central System; two fake
runners stand for a runner that breaks and one whose clean-up never ends.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from console.central.check.model import (
    CheckOutcome,
    CheckRequest,
    CheckResult,
    CheckRunner,
    CheckStep,
    StepResult,
    Verdict,
)
from console.central.check.runner import check_factory
from console.central.check.service import CheckEnded, CheckService, RunningCheck
from console.central.server import CentralSystem
from tests.central.check.test_reservation_check import ID_TAG, OPTIONS, STATION, held_on, simulated

WAIT = 30.0
T0 = datetime(2026, 5, 4, 10, 0, 0, tzinfo=UTC)


def request(station_id: str = STATION) -> CheckRequest:
    return CheckRequest(station_id, [1], ID_TAG)


def active_reservations(central: CentralSystem) -> list[int]:
    return [r.reservation_id for r in central.reservations() if r.active]


async def until_the_station_holds_one(
    check: RunningCheck, station_holds: Callable[[], bool]
) -> None:
    """Wait (on the check's own changes) until the station holds a reservation it made."""
    holding = asyncio.Event()

    def look(_result: CheckResult) -> None:
        if station_holds():
            holding.set()

    unsubscribe = check.subscribe(look)
    try:
        await asyncio.wait_for(holding.wait(), WAIT)
    finally:
        unsubscribe()


@pytest.mark.asyncio
async def test_a_started_check_is_kept_while_it_runs_and_told_to_its_listeners(
    central: CentralSystem,
) -> None:
    service = CheckService(check_factory(central, OPTIONS))
    everything_ended: list[CheckEnded] = []
    service.subscribe(everything_ended.append)
    async with simulated(central) as station:
        check = service.start(request())
        assert service.running() == (check,)
        assert service.running_on(STATION) is check
        assert check.ended is None
        progress: list[CheckResult] = []
        check.subscribe(progress.append)
        ended_here: list[CheckEnded] = []
        check.subscribe_end(ended_here.append)
        ended = await asyncio.wait_for(check.wait(), 60)
        assert held_on(station) == []
    assert ended.completed
    assert ended.result.outcome is CheckOutcome.PASSED, [
        (s.step, s.reason) for s in ended.result.steps
    ]
    assert ended.result.check_id is not None  # stored
    assert ended_here == [ended]
    assert everything_ended == [ended]
    # Every step was seen running, then with its verdict, as it happened.
    assert any(
        s.step is CheckStep.RESERVE and s.verdict is Verdict.RUNNING
        for result in progress
        for s in result.steps
    )
    assert progress[-1] == ended.result
    assert service.running() == ()
    assert service.running_on(STATION) is None
    # A listener that comes late hears it at once.
    late: list[CheckEnded] = []
    check.subscribe_end(late.append)
    assert late == [ended]


@pytest.mark.asyncio
async def test_cancelling_one_check_cleans_up_and_ends_it_cancelled(
    central: CentralSystem,
) -> None:
    service = CheckService(check_factory(central, OPTIONS))
    async with simulated(central) as station:
        check = service.start(request())
        cancelling: list[RunningCheck] = []
        check.subscribe_cancel(cancelling.append)
        await until_the_station_holds_one(check, lambda: bool(held_on(station)))
        service.cancel(check)
        service.cancel(check)  # asked twice: told once
        assert cancelling == [check]
        assert check.cancel_requested
        ended = await asyncio.wait_for(check.wait(), 60)
        assert held_on(station) == []
    assert ended.completed
    assert ended.result.outcome is CheckOutcome.CANCELLED
    assert ended.result.left_behind == ()
    assert active_reservations(central) == []
    assert service.running() == ()


@pytest.mark.asyncio
async def test_stop_leaves_nothing_running_and_nothing_held_on_the_station(
    central: CentralSystem,
) -> None:
    service = CheckService(check_factory(central, OPTIONS))
    ended: list[CheckEnded] = []
    service.subscribe(ended.append)
    async with simulated(central) as station:
        check = service.start(request())
        await until_the_station_holds_one(check, lambda: bool(held_on(station)))
        await asyncio.wait_for(service.stop(), 60)
        assert service.running() == ()
        assert held_on(station) == []
    assert [e.result.outcome for e in ended] == [CheckOutcome.CANCELLED]
    assert ended[0].completed
    assert ended[0].result.left_behind == ()
    assert active_reservations(central) == []
    await service.stop()  # nothing left to stop: returns at once


@pytest.mark.asyncio
async def test_stop_all_asks_every_check_to_stop_without_waiting(central: CentralSystem) -> None:
    service = CheckService(check_factory(central, OPTIONS))
    async with simulated(central) as station:
        check = service.start(request())
        await until_the_station_holds_one(check, lambda: bool(held_on(station)))
        service.stop_all()
        assert check.cancel_requested
        assert check.ended is None  # the clean-up runs in the check's own task
        ended = await asyncio.wait_for(check.wait(), 60)
        assert held_on(station) == []
    assert ended.result.outcome is CheckOutcome.CANCELLED
    assert service.running() == ()


@pytest.mark.asyncio
async def test_one_check_per_station_and_a_factory_error_keeps_nothing(
    central: CentralSystem,
) -> None:
    service = CheckService(check_factory(central, OPTIONS))
    check = service.start(request())  # not connected: it aborts at once
    with pytest.raises(RuntimeError, match="already runs"):
        service.start(request())
    ended = await asyncio.wait_for(check.wait(), WAIT)
    assert ended.result.outcome is CheckOutcome.ABORTED
    with pytest.raises(ValueError, match="at least one connector"):
        service.start(CheckRequest(STATION, [], ID_TAG))
    assert service.running() == ()


class _StubbornRunner:
    """A runner whose run() never returns by itself (or raises ``error`` once released)."""

    def __init__(self, request: CheckRequest, error: Exception | None = None) -> None:
        self._result = CheckResult(
            check_id=None,
            station_id=request.station_id,
            started_at=T0,
            connectors=tuple(request.connectors),
            id_tag=request.id_tag,
            steps=(StepResult(CheckStep.RESERVE, 1),),
        )
        self.error = error
        self.release = asyncio.Event()
        self.cancel_calls = 0

    @property
    def result(self) -> CheckResult:
        return self._result

    def subscribe(self, listener: Callable[[CheckResult], None]) -> Callable[[], None]:
        return lambda: None

    async def run(self) -> CheckResult:
        await self.release.wait()
        if self.error is not None:
            raise self.error
        return self._result

    def cancel(self) -> None:
        self.cancel_calls += 1

    def skip_current_step(self) -> None:
        pass


@pytest.mark.asyncio
async def test_a_clean_up_that_never_ends_is_cancelled_after_the_limit() -> None:
    runners: list[_StubbornRunner] = []

    def make(request: CheckRequest) -> CheckRunner:
        runners.append(_StubbornRunner(request))
        return runners[-1]

    service = CheckService(make)
    check = service.start(request())
    ended: list[CheckEnded] = []
    service.subscribe(ended.append)
    await service.stop(within=0.2)
    assert runners[0].cancel_calls == 1
    assert service.running() == ()
    assert len(ended) == 1
    assert ended[0].interrupted
    assert not ended[0].completed
    assert check.ended == ended[0]


@pytest.mark.asyncio
async def test_a_runner_that_breaks_ends_with_its_error(caplog: pytest.LogCaptureFixture) -> None:
    runners: list[_StubbornRunner] = []

    def make(request: CheckRequest) -> CheckRunner:
        runners.append(_StubbornRunner(request, RuntimeError("store is gone")))
        return runners[-1]

    service = CheckService(make)
    check = service.start(request())
    runners[0].release.set()
    ended = await asyncio.wait_for(check.wait(), WAIT)
    assert isinstance(ended.error, RuntimeError)
    assert not ended.completed
    assert service.running() == ()
    assert any("reservation check failed" in r.getMessage() for r in caplog.records)
