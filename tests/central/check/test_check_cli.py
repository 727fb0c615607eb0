"""``ocpp-console check`` end to end: a real subprocess, a simulated station started here."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import pytest_asyncio

from console.central.cli import StationNotReadyError, wait_for_station
from console.central.paths import default_config_dir
from console.chargepoint.client import ClientOptions
from console.chargepoint.defects import Defect
from console.chargepoint.simulator import Behaviour, SimulationOptions, SiteSimulator
from tests.central.conftest import StartCentral

ROOT = Path(__file__).resolve().parents[3]
STATION = "CP-CLI"
URL_LINE = re.compile(r"Configure the station with ws://127\.0\.0\.1:(\d+)/" + STATION)


@dataclass
class CheckProcess:
    child: asyncio.subprocess.Process
    lines: list[str] = field(default_factory=list)
    site: SiteSimulator | None = None

    async def line(self) -> str:
        assert self.child.stdout is not None
        text = (await asyncio.wait_for(self.child.stdout.readline(), 30)).decode()
        assert text, "check ended early: " + "".join(self.lines)
        self.lines.append(text)
        return text

    async def until(self, pattern: str) -> re.Match[str]:
        while True:
            found = re.search(pattern, await self.line())
            if found is not None:
                return found

    async def finish(self) -> tuple[int, str, str]:
        out, err = await asyncio.wait_for(self.child.communicate(), 60)
        assert self.child.returncode is not None
        return self.child.returncode, "".join(self.lines) + out.decode(), err.decode()


@pytest.fixture(autouse=True)
def short_check_settings() -> None:
    """The check's settings (in the redirected config folder): short steps and expiry."""
    folder = default_config_dir()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "settings.json").write_text(
        json.dumps({"schema_version": 1, "check_step_timeout": 4, "check_expiry_seconds": 5})
    )


@pytest_asyncio.fixture
async def start_check(data_dir: Path) -> AsyncIterator[object]:
    started: list[CheckProcess] = []

    async def start(*options: str, wait: float = 30) -> CheckProcess:
        child = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "console",
            "--log-level",
            "WARNING",
            "check",
            "--station",
            STATION,
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--data-dir",
            str(data_dir),
            "--wait",
            str(wait),
            *options,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={**os.environ, "PYTHONWARNINGS": "ignore"},
        )
        process = CheckProcess(child)
        started.append(process)
        return process

    yield start
    for process in started:
        if process.site is not None:
            await process.site.stop()
        if process.child.returncode is None:
            process.child.kill()
            await process.child.wait()


async def connect_station(process: CheckProcess, defects: Iterable[Defect] = ()) -> SiteSimulator:
    port = int((await process.until(URL_LINE.pattern)).group(1))
    site = SiteSimulator(
        f"ws://127.0.0.1:{port}",
        connectors=2,
        station_specs=[(STATION, Behaviour.NORMAL)],
        options=SimulationOptions(client=ClientOptions(backoff_initial=0.1, backoff_max=0.5)),
        defects={STATION: set(defects)},
    )
    process.site = site
    await site.start()
    return site


@pytest.mark.asyncio
async def test_check_passes_a_correct_station(start_check: object) -> None:
    process: CheckProcess = await start_check()  # type: ignore[operator]
    await connect_station(process)
    code, output, errors = await process.finish()
    assert code == 0, output + errors
    assert re.search(r"^\[PASS\] 1 Reserve a free connector \(connector 1\): .+$", output, re.M)
    assert "[PASS] 9 Every frame valid against the official schemas: " in output
    # Step 0, the capability probe, passes too; each line is followed by its reference.
    assert len(re.findall(r"^\[PASS\] \d ", output, re.M)) == 9
    assert re.search(r"^\[PASS\] 0 Capabilities .*SupportedFeatureProfiles=", output, re.M)
    assert re.search(r"^\[PASS\] 7 .*\n      TC_047_CS · 1\.6 §5\.13 ", output, re.M)
    assert "[FAIL]" not in output
    assert f"Reservation check of {STATION} (Voltaris VX-22 AC, firmware 2.3.1, OCPP 1.6)" in output
    assert "13 passed, 0 failed, 0 skipped, 0 N/A: PASSED" in output
    assert "Traceback" not in errors


@pytest.mark.asyncio
async def test_check_exits_1_for_a_defective_station(start_check: object) -> None:
    process: CheckProcess = await start_check("--connector", "2", "--id-tag", "TECH-1")  # type: ignore[operator]
    site = await connect_station(process, [Defect.ACCEPTS_UNKNOWN_CANCEL])
    code, output, errors = await process.finish()
    assert code == 1, output + errors
    assert re.search(
        r"^\[FAIL\] 4 Cancelling an unknown reservation is Rejected \(connector 2\): "
        r"expected Rejected .*station answered Accepted$",
        output,
        re.M,
    )
    assert len(re.findall(r"^\[PASS\] ", output, re.M)) == 12
    assert "12 passed, 1 failed, 0 skipped, 0 N/A: FAILED" in output
    assert site.station(STATION).engine.reservations == ()


@pytest.mark.skipif(sys.platform == "win32", reason="SIGTERM")
@pytest.mark.asyncio
async def test_sigterm_cancels_the_check_and_cleans_up(start_check: object) -> None:
    process: CheckProcess = await start_check()  # type: ignore[operator]
    site = await connect_station(process)
    await process.until(r"^\[PASS\] 1 ")
    # Step 1's reservation is held now; the signal must not leave it behind.
    process.child.send_signal(signal.SIGTERM)
    code, output, errors = await process.finish()
    assert code == 143, output + errors
    assert "CANCELLED (check cancelled)" in output
    assert "[SKIP] 9 Every frame valid against the official schemas: check cancelled" in output
    assert site.station(STATION).engine.reservations == ()


@pytest.mark.asyncio
async def test_check_exits_2_when_the_station_never_comes(start_check: object) -> None:
    process: CheckProcess = await start_check(wait=0.5)  # type: ignore[operator]
    code, output, errors = await process.finish()
    assert code == 2
    assert f"station {STATION} did not connect within 0.5 s" in errors
    assert URL_LINE.search(output)


@pytest.mark.asyncio
async def test_waiting_for_a_mistyped_id_names_the_stations_that_connected(
    start_central: StartCentral,
) -> None:
    central = await start_central()
    site = SiteSimulator(
        f"ws://127.0.0.1:{central.port}",
        connectors=1,
        station_specs=[("SIM-01", Behaviour.NORMAL)],
    )
    ready = asyncio.ensure_future(wait_for_station(central, "SIM-01", 20, 5))
    await asyncio.sleep(0)
    await site.start()
    try:
        await ready
        with pytest.raises(StationNotReadyError) as raised:
            await wait_for_station(central, "SIM-1", 0.2, 0.2)
    finally:
        await site.stop()
    assert str(raised.value) == (
        "station SIM-1 did not connect within 0.2 s; connected instead: SIM-01 (is the id right?)"
    )
