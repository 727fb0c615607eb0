"""The reservation conformance check through the proxy: our simulator connects to the
console in proxy mode, carried on to our own Central System, which keeps calling the
station while the console's check runs."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import pytest

from console.central.check.model import CheckOutcome, CheckRequest, Verdict
from console.central.check.runner import CheckOptions, ReservationCheck
from console.central.cli import wait_for_station
from console.central.server import CentralSystem
from console.chargepoint.client import ClientOptions
from console.chargepoint.simulator import Behaviour, SimulationOptions, SiteSimulator
from tests.central.conftest import StartCentral

STATION = "CP-PX"
OPTIONS = CheckOptions(step_timeout=4.0, expiry_seconds=2.0, guided_timeout=20.0)
SIMULATION = SimulationOptions(client=ClientOptions(backoff_initial=0.1, backoff_max=0.5))


async def keep_calling(upstream: CentralSystem, answers: list[str | None]) -> None:
    """The CSMS's own calls, one after the other, for as long as the check runs."""
    while True:
        outcome = await upstream.get_configuration(STATION, ["NumberOfConnectors"])
        answers.append(outcome.error)


@pytest.mark.asyncio
async def test_the_check_runs_through_the_proxy_while_the_csms_keeps_calling(
    start_central: StartCentral, tmp_path: Path
) -> None:
    upstream = await start_central(data_dir=tmp_path / "csms")
    proxy = await start_central(upstream_url=f"ws://127.0.0.1:{upstream.port}")
    site = SiteSimulator(
        f"ws://127.0.0.1:{proxy.port}",
        connectors=2,
        station_specs=[(STATION, Behaviour.NORMAL)],
        options=SIMULATION,
    )
    ready = asyncio.ensure_future(wait_for_station(proxy, STATION, 20, 10))
    await asyncio.sleep(0)  # let it subscribe before the station can connect
    await site.start()
    answers: list[str | None] = []
    calling: asyncio.Task[None] | None = None
    try:
        await ready
        calling = asyncio.create_task(keep_calling(upstream, answers))
        check = ReservationCheck(proxy, CheckRequest(STATION, [1], "CHECK-TAG"), OPTIONS)
        result = await asyncio.wait_for(check.run(), 60)
    finally:
        if calling is not None:
            calling.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await calling
        await site.stop()
    failed = [(s.step, s.reason) for s in result.steps if s.verdict is Verdict.FAILED]
    assert result.outcome is CheckOutcome.PASSED, failed
    assert result.through_proxy
    # The CSMS's calls went on, every one answered, none lost to the check's.
    assert len(answers) >= 10
    assert set(answers) == {None}
    # The check's reservations never reached the CSMS.
    assert upstream.reservations() == []
    stored = proxy.checks()
    assert stored
    assert stored[-1].through_proxy


@pytest.mark.asyncio
async def test_a_direct_check_says_it_was_not_through_the_proxy(
    start_central: StartCentral,
) -> None:
    central = await start_central()
    site = SiteSimulator(
        f"ws://127.0.0.1:{central.port}",
        connectors=1,
        station_specs=[(STATION, Behaviour.NORMAL)],
        options=SIMULATION,
    )
    ready = asyncio.ensure_future(wait_for_station(central, STATION, 20, 10))
    await asyncio.sleep(0)
    await site.start()
    try:
        await ready
        check = ReservationCheck(central, CheckRequest(STATION, [1], "CHECK-TAG"), OPTIONS)
        result = await asyncio.wait_for(check.run(), 60)
    finally:
        await site.stop()
    assert result.outcome is CheckOutcome.PASSED
    assert not result.through_proxy
