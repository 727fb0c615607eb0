"""The reservation check against a simulated OCPP 2.0.1 station on a real Central System.

The same steps as 1.6 where the rule is the same (numbered alike), judged the 2.0.1 way:
Reserved on every connector of the EVSE, ReservationStatusUpdate Expired at the expiry, no
evseId as NonEvseSpecific says, a connector type when the station reported one.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from console.central.check.model import CheckOutcome, CheckRequest, CheckStep, Verdict
from console.central.check.runner import CheckOptions, ReservationCheck
from console.central.cli import wait_for_station
from console.central.server import CentralSystem
from console.chargepoint.client import ClientOptions
from console.chargepoint.simulator import Behaviour, SimulationOptions, SiteSimulator
from console.ocpp.versions import OcppVersion
from tests.central.conftest import StartCentral

STATION = "CP-201"
OPTIONS = CheckOptions(step_timeout=4.0, expiry_seconds=2.0)
SIMULATION = SimulationOptions(client=ClientOptions(backoff_initial=0.1, backoff_max=0.5))


@pytest_asyncio.fixture
async def central(start_central: StartCentral) -> CentralSystem:
    return await start_central()


@contextlib.asynccontextmanager
async def simulated(
    central: CentralSystem, behaviour: Behaviour = Behaviour.NORMAL
) -> AsyncIterator[SiteSimulator]:
    site = SiteSimulator(
        f"ws://127.0.0.1:{central.port}",
        connectors=2,
        station_specs=[(STATION, behaviour)],
        options=SIMULATION,
        ocpp_version=OcppVersion.V201,
    )
    ready = asyncio.ensure_future(wait_for_station(central, STATION, 20, 4))
    await asyncio.sleep(0)
    await site.start()
    try:
        await ready
        yield site
    finally:
        ready.cancel()
        await site.stop()


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("behaviour", "non_evse"), [(Behaviour.NORMAL, "false"), (Behaviour.NON_EVSE_SPECIFIC, "true")]
)
async def test_a_correct_201_station_passes_or_is_not_applicable(
    central: CentralSystem, behaviour: Behaviour, non_evse: str
) -> None:
    async with simulated(central, behaviour):
        check = ReservationCheck(central, CheckRequest(STATION, [1], "CHECK-TAG"), OPTIONS)
        result = await asyncio.wait_for(check.run(), 60)
        held = [r for r in central.reservations() if r.state.value == "accepted"]
    assert result.ocpp_version is OcppVersion.V201
    reasons = [(s.step, s.verdict, s.reason) for s in result.steps]
    assert result.outcome is CheckOutcome.PASSED, "\n".join(map(str, reasons))
    assert [s.step for s in result.steps] == [
        CheckStep.CAPABILITIES,
        CheckStep.RESERVE,
        CheckStep.SECOND_RESERVATION,
        CheckStep.REPLACE,
        CheckStep.CANCEL_UNKNOWN,
        CheckStep.CANCEL_HELD,
        CheckStep.CONNECTOR_ZERO,
        CheckStep.CONNECTOR_TYPE,
        CheckStep.EXPIRY,
        CheckStep.SCHEMAS,
    ], reasons
    by_step = {s.step: s for s in result.steps}
    assert f"NonEvseSpecific={non_evse}" in by_step[CheckStep.CAPABILITIES].reason
    assert f"NonEvseSpecific={non_evse}" in by_step[CheckStep.CONNECTOR_ZERO].reason
    assert "every connector" in by_step[CheckStep.RESERVE].reason
    assert "ReservationStatusUpdate Expired" in by_step[CheckStep.EXPIRY].reason
    for step in result.steps:
        assert step.ocpp_version is OcppVersion.V201
        if step.step is CheckStep.CONNECTOR_TYPE and step.verdict is Verdict.NOT_APPLICABLE:
            assert "connector type" in step.reason
            continue
        assert step.verdict is Verdict.PASSED, step
    assert by_step[CheckStep.EXPIRY].reference.startswith("TC_H_07 · H04")
    assert result.left_behind == ()
    assert held == []
