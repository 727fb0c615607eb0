"""``ocpp-console report`` end to end: a data folder filled by a real Central System run
(simulated stations, reservations, a real reservation check), then the report made from it
headless, in a subprocess with no display, and read back with pdftotext."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import unicodedata
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from console.central.check.model import CheckOutcome, CheckRequest
from console.central.check.runner import CheckOptions, ReservationCheck
from console.central.cli import wait_for_station
from console.central.config import CentralSystemConfig
from console.central.model import ChangeEvent, ReservationState
from console.central.server import CentralSystem
from console.chargepoint.client import ClientOptions
from console.chargepoint.simulator import Behaviour, SimulationOptions, SiteSimulator
from tests.ui.report.report_site import flat, pages, pdf_text, station_sections

ROOT = Path(__file__).resolve().parents[3]
SITE = [
    ("CP-01", Behaviour.NORMAL),
    ("CP-02", Behaviour.FAULTED),
    ("CP-03", Behaviour.NO_RESERVATIONS),
    ("CP-04", Behaviour.UNAVAILABLE),
    ("CP-07", Behaviour.CARD_ARRIVES),
]
CHECK_OPTIONS = CheckOptions(step_timeout=4.0, expiry_seconds=2.0)


async def until(central: CentralSystem, condition: Callable[[], bool], seconds: float) -> None:
    """Wait (on the Central System's changes, not a sleep) until ``condition()`` holds."""
    changed = asyncio.Event()

    def on_change(_event: ChangeEvent) -> None:
        changed.set()

    unsubscribe = central.subscribe(on_change)
    try:
        async with asyncio.timeout(seconds):
            while not condition():
                changed.clear()
                await changed.wait()
    finally:
        unsubscribe()


async def fill(data_dir: Path) -> None:
    """A session on a site: a check of CP-01, then a reservation on every station."""
    central = CentralSystem(
        CentralSystemConfig(host="127.0.0.1", port=0, data_dir=data_dir, ping_interval=None)
    )
    await central.start()
    site = SiteSimulator(
        f"ws://127.0.0.1:{central.port}",
        connectors=2,
        station_specs=SITE,
        options=SimulationOptions(
            client=ClientOptions(backoff_initial=0.1, backoff_max=0.5), card_arrives_after=0.3
        ),
    )
    ready = asyncio.ensure_future(wait_for_station(central, "CP-01", 20, 10))
    await asyncio.sleep(0)  # let it subscribe before the station can connect
    try:
        await site.start()
        await ready
        await until(
            central,
            lambda: all(
                any(c.connector_id == 2 and c.status is not None for c in central.connectors(s))
                for s, _ in SITE
            ),
            20,
        )
        check = ReservationCheck(central, CheckRequest("CP-01", [1], "CHECK-TAG"), CHECK_OPTIONS)
        result = await asyncio.wait_for(check.run(), 60)
        assert result.outcome is CheckOutcome.PASSED, [(s.step, s.reason) for s in result.steps]
        expiry = datetime.now(UTC) + timedelta(minutes=30)
        expected = {
            "CP-01": ReservationState.ACCEPTED,
            "CP-02": ReservationState.FAULTED,
            "CP-03": ReservationState.REJECTED,
            "CP-04": ReservationState.UNAVAILABLE,
            "CP-07": ReservationState.ACCEPTED,
        }
        for station_id, state in expected.items():
            record = await central.reserve_now(
                station_id, 2 if station_id == "CP-01" else 1, f"TECH-{station_id}", expiry
            )
            assert record.state is state, station_id
        await until(
            central,
            lambda: any(
                r.station_id == "CP-07" and r.state is ReservationState.USED
                for r in central.reservations()
            ),
            20,
        )
    finally:
        ready.cancel()
        await site.stop()
        await central.stop()


def report(*options: str) -> subprocess.CompletedProcess[str]:
    """``ocpp-console report`` in a child process without a display."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("QT_QPA_PLATFORM", "DISPLAY", "WAYLAND_DISPLAY")
    }
    return subprocess.run(
        [sys.executable, "-m", "console", "--log-level", "WARNING", "report", *options],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**env, "PYTHONWARNINGS": "ignore"},
        check=False,
    )


def read(path: Path) -> str:
    extracted = pdf_text(path)
    if extracted is None:
        pytest.skip("pdftotext is not installed (apt-get install poppler-utils)")
    return unicodedata.normalize("NFKC", extracted)


@pytest.mark.asyncio
async def test_the_report_is_made_headless_from_the_data_folder(
    data_dir: Path, tmp_path: Path
) -> None:
    await fill(data_dir)
    out = tmp_path / "reports" / "site.pdf"  # the folder is made
    done = report("--data-dir", str(data_dir), "--site", "Parking  Nord", "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert f"Report written to {out.resolve()}" in done.stdout
    assert "Verdict: Needs attention (CP-02, CP-03, CP-04, CP-07)" in done.stdout
    assert out.read_bytes().startswith(b"%PDF")

    text = read(out)
    first = flat(pages(text)[0])
    assert first.startswith("Commissioning report — whole site Site: Parking Nord")
    assert "Site verdict: Needs attention" in first
    assert "Made from the data stored in the folder below" in first
    assert any(line.strip() == str(data_dir) for line in pages(text)[0].splitlines())
    sections = {k: flat(v) for k, v in station_sections(text).items()}
    assert list(sections) == [s for s, _ in SITE]
    # CP-01 passed its check and took its reservation: the only station ready.
    assert sections["CP-01"].startswith("CP-01: Ready")
    assert "1 reservation test: 1 accepted, still held." in sections["CP-01"]
    assert "Rows marked (check) were made by the reservation check." in sections["CP-01"]
    assert sections["CP-02"].startswith("CP-02: Needs attention")
    assert "Connector 1 is Faulted (GroundFailure) since" in sections["CP-02"]
    assert "The station (connector 0) is Unavailable since" in sections["CP-04"]
    assert "Reservations refused: 1 of 1 reservation test (1 rejected)" in sections["CP-03"]
    assert "1 reservation test: 1 accepted → used." in sections["CP-07"]
    assert "No reservation conformance check was run" in sections["CP-07"]
    # Made without the server: no "online" claimed, the URL from the settings, whole.
    assert "not known (made from the stored data)" in sections["CP-01"]
    assert any("ws://127.0.0.1:9000/CP-01" in line for line in text.splitlines())
    found = pages(text)
    assert all(f"Page {n} of {len(found)}" in page for n, page in enumerate(found, start=1))
    sign_off = flat(found[-1])
    assert "Sign-off" in sign_off
    assert "Site name: Parking Nord" in sign_off
    assert re.search(r"Signature: _{20,}", sign_off)

    # Some stations only, named in any order (and twice).
    some = tmp_path / "some.pdf"
    done = report(
        "--data-dir",
        str(data_dir),
        "--station",
        "CP-02",
        "CP-01",
        "--station",
        "CP-02",
        "--out",
        str(some),
    )
    assert done.returncode == 0, done.stderr
    text = read(some)
    assert "Commissioning report — stations CP-01, CP-02" in text
    assert list(station_sections(text)) == ["CP-01", "CP-02"]
    assert "Verdict: Needs attention" in text
    assert "Verdict: Needs attention (CP-02)" in done.stdout


@pytest.mark.parametrize(
    ("problem", "message"),
    [
        ("missing folder", "does not exist"),
        ("not the console's", "no console database in"),
        ("a file in the way", "is not a folder"),
        ("a folder as the file", "it is a folder"),
        ("unknown station", "no station CP-99 in"),
    ],
)
def test_a_report_that_cannot_be_made_says_why(
    problem: str, message: str, data_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "report.pdf"
    folder = data_dir
    if problem == "missing folder":
        folder = tmp_path / "nowhere"
    elif problem == "a file in the way":
        blocker = tmp_path / "a-file"
        blocker.write_text("not a folder", encoding="utf-8")
        out = blocker / "report.pdf"
    elif problem == "a folder as the file":
        out = tmp_path
    if problem in ("a file in the way", "a folder as the file", "unknown station"):
        asyncio.run(fill_empty(data_dir))
    options = ["--data-dir", str(folder), "--out", str(out)]
    if problem == "unknown station":
        options += ["--station", "CP-99"]
    done = report(*options)
    assert done.returncode == 2
    assert done.stderr.startswith("ocpp-console report: ")
    assert message in done.stderr
    assert "Traceback" not in done.stderr
    assert not out.is_file()


async def fill_empty(data_dir: Path) -> None:
    """A console that ran once, no station ever connected."""
    central = CentralSystem(CentralSystemConfig(host="127.0.0.1", port=0, data_dir=data_dir))
    await central.start()
    await central.stop()
