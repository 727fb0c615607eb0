"""The 1.6 steps that use ChangeAvailability and RemoteStartTransaction, and what the check
puts back: against real simulated stations on a real Central System.

The correct station and each defect are in test_reservation_check.py (with every other
step); here: their evidence, a cancel in the middle of an Inoperative, a station that does
not take ChangeAvailability, and a refused reserved card in the guided step.
"""

from __future__ import annotations

import asyncio

import pytest
import pytest_asyncio

from console.central.check.model import CheckOutcome, CheckResult, CheckStep, Verdict
from console.central.check.plan import AVAILABILITY_STEPS
from console.central.check.references import step_reference
from console.central.check.runner import CheckOptions, ReservationCheck
from console.central.model import TraceDirection
from console.central.server import CentralSystem
from console.ocpp.enums import ChargePointStatus
from console.ocpp.versions import OcppVersion
from tests.central.check.test_reservation_check import (
    ID_TAG,
    held_on,
    run_check,
    simulated,
    station_connectors,
)
from tests.central.conftest import StartCentral


@pytest_asyncio.fixture
async def central(start_central: StartCentral) -> CentralSystem:
    return await start_central()


@pytest.mark.asyncio
async def test_the_availability_steps_show_their_calls_and_reference(
    central: CentralSystem,
) -> None:
    async with simulated(central) as station:
        _, result = await run_check(central)
        assert held_on(station) == []
    by_step = {s.step: s for s in result.steps}
    sent = {
        step: [e.action for e in by_step[step].evidence if e.direction is TraceDirection.OUT]
        for step in AVAILABILITY_STEPS
    }
    assert "ChangeAvailability" in sent[CheckStep.INOPERATIVE]
    assert "ChangeAvailability" in sent[CheckStep.RESERVE_INOPERATIVE]
    assert "RemoteStartTransaction" in sent[CheckStep.REMOTE_START_OTHER]
    assert sent[CheckStep.REPLACE_OCCUPIED].count("ReserveNow") == 3
    assert "Inoperative: Accepted, then Unavailable" in by_step[CheckStep.INOPERATIVE].reason
    assert "cancelling it afterwards: Rejected" in by_step[CheckStep.INOPERATIVE].reason
    assert "reservation" in by_step[CheckStep.RESERVE_INOPERATIVE].reason
    assert "Unavailable" in by_step[CheckStep.RESERVE_INOPERATIVE].reason
    assert step_reference("reserve_inoperative", OcppVersion.V16).startswith("TC_048_3_CS · ")
    # No transaction of the other idTag, and every connector Available again.
    assert not [
        e
        for e in central.recent_trace()
        if e.action == "StartTransaction" and e.direction is TraceDirection.IN
    ]
    assert [c.status for c in station_connectors(central)] == [ChargePointStatus.AVAILABLE] * 2


@pytest.mark.asyncio
async def test_cancelling_while_a_connector_is_inoperative_makes_it_operative_again(
    central: CentralSystem,
) -> None:
    def cancel_when_unavailable(check: ReservationCheck, result: CheckResult) -> None:
        running = next((s for s in result.steps if s.verdict is Verdict.RUNNING), None)
        inoperative = running is not None and running.step is CheckStep.RESERVE_INOPERATIVE
        if inoperative and any(p.status == "Unavailable" for p in result.statuses):
            check.cancel()

    async with simulated(central) as station:
        _, result = await run_check(central, on_result=cancel_when_unavailable)
        assert held_on(station) == []
        assert station.engine.status(1).status is ChargePointStatus.AVAILABLE
        operative = [
            e
            for e in central.recent_trace()
            if e.action == "ChangeAvailability"
            and e.direction is TraceDirection.OUT
            and '"Operative"' in e.text
        ]
        assert operative, "the clean-up made the connector Operative again"
    assert result.outcome is CheckOutcome.CANCELLED
    assert result.left_behind == ()


@pytest.mark.asyncio
async def test_a_refused_reserved_card_fails_the_guided_step(central: CentralSystem) -> None:
    """The station reads the reserved card (Authorize, here in lower case) and starts
    nothing: a refusal (a reader that compares idTags by letter case), not a skip."""
    presented: list[asyncio.Task[object]] = []
    prompts: list[str] = []

    async with simulated(central) as station:

        def technician(check: ReservationCheck, result: CheckResult) -> None:
            step = next(s for s in result.steps if s.step is CheckStep.CARDS)
            if step.prompt is None or (prompts and prompts[-1] == step.prompt):
                return
            prompts.append(step.prompt)
            if "other than" in step.prompt:
                presented.append(asyncio.ensure_future(station.present_id_tag("SOMEONE", 1)))
            else:
                # Authorize only: the station refuses to start for it.
                presented.append(asyncio.ensure_future(station.client.authorize(ID_TAG.lower())))

        options = CheckOptions(step_timeout=2.0, expiry_seconds=3.0, guided_timeout=20.0)
        _, result = await run_check(central, guided=True, on_result=technician, options=options)
        await asyncio.gather(*presented)
        assert held_on(station) == []
    cards = next(s for s in result.steps if s.step is CheckStep.CARDS)
    assert cards.verdict is Verdict.FAILED, cards.reason
    assert "the station refused the reserved card" in cards.reason
    assert f"Authorize for {ID_TAG.lower()}" in cards.reason
    assert result.outcome is CheckOutcome.FAILED
