"""The commissioning report for a demo site: its text (HTML and PDF) and progress/cancel."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtGui import QTextDocument

from console import __version__
from console.central.model import ReservationState
from console.chargepoint.simulator import Behaviour
from console.ui.trace_tools import ReportDialog
from tests.ui.export_site import (  # noqa: F401 (the fixture)
    Site,
    make_site_fixture,
    secrets,
)

pytestmark = pytest.mark.qt_log_ignore("This plugin does not support")

DEMO = [
    ("CP-01", Behaviour.NORMAL),
    ("CP-02", Behaviour.FAULTED),
    ("CP-03", Behaviour.NO_RESERVATIONS),
    ("CP-06", Behaviour.SLOW),
]


@pytest.fixture
def demo_site(make_site: Callable[[list[tuple[str, Behaviour]]], Site]) -> Site:
    site = make_site(DEMO)
    site.refuse_a_station("CP-09")
    assert site.reserve("CP-01", 1, "TECH-0001").state is ReservationState.ACCEPTED
    assert site.reserve("CP-02", 1, "TECH-0002").state is ReservationState.FAULTED
    assert site.reserve("CP-03", 2, "TECH-0003").state is ReservationState.REJECTED
    slow = site.reserve("CP-06", 1, "TECH-0006")
    assert slow.state is ReservationState.NO_RESPONSE
    # The slow station's late answer reconciles the record (and is traced as late).
    site.qtbot.waitUntil(
        lambda: any(e.late for e in site.central.recent_trace() if e.station_id == "CP-06"),
        timeout=20_000,
    )
    return site


def write_report(site: Site, path: Path, station_id: str | None) -> str:
    tools = site.window.trace_tools
    tools.report_action.trigger()
    dialog = tools.dialog
    assert isinstance(dialog, ReportDialog)
    dialog.set_station(station_id)
    dialog.path_edit.setText(str(path))
    with site.qtbot.waitSignal(tools.reporter.sig_finished, timeout=30_000):
        dialog.buttons.accepted.emit()
    html = tools.reporter.last_html
    assert html is not None
    document = QTextDocument()
    document.setHtml(html)
    return document.toPlainText()


def pdf_text(path: Path) -> str | None:
    tool = shutil.which("pdftotext")
    if tool is None:
        return None
    done = subprocess.run(
        [tool, "-layout", str(path), "-"], capture_output=True, text=True, check=True, timeout=30
    )
    return done.stdout


def test_site_report_lists_every_station_test_and_problem(demo_site: Site, tmp_path: Path) -> None:
    path = tmp_path / "site.pdf"
    text = write_report(demo_site, path, None)
    assert "Commissioning report — whole site" in text
    assert f"OCPP Console {__version__}" in text
    assert "Security profile 1" in text
    for station_id, _behaviour in DEMO:
        assert f"Station {station_id}" in text
    # Identity, firmware, connectors with their last status.
    station = demo_site.central.station("CP-01")
    assert station is not None
    assert station.vendor
    assert station.vendor in text
    assert station.firmware_version
    assert station.firmware_version in text
    assert station.serial_number is None or station.serial_number in text
    assert "Faulted" in text  # CP-02's connector 1 and its reservation answer
    # Every reservation test: outcome and times.
    for id_tag in ("TECH-0001", "TECH-0002", "TECH-0003", "TECH-0006"):
        assert id_tag in text
    assert "Accepted" in text
    assert "Rejected" in text
    assert "Late answer" in text  # CP-06
    assert "No answer" in text  # CP-06's timeout
    assert " ms" in text  # latencies
    # Secrets never, refusals only when the station belongs to the report.
    for secret in secrets(["CP-01", "CP-02", "CP-03", "CP-06", "CP-09"]):
        assert secret not in text
    assert path.read_bytes().startswith(b"%PDF")
    extracted = pdf_text(path)
    if extracted is None:
        pytest.skip("pdftotext is not installed: the PDF's text was not checked")
    assert "Commissioning report" in extracted
    assert "TECH-0001" in extracted
    assert "CP-06" in extracted
    for secret in secrets(["CP-01", "CP-09"]):
        assert secret not in extracted


def test_station_report_holds_only_that_station(demo_site: Site, tmp_path: Path) -> None:
    path = tmp_path / "cp03.pdf"
    text = write_report(demo_site, path, "CP-03")
    assert "Commissioning report — station CP-03" in text
    assert "Station CP-03" in text
    assert "Station CP-01" not in text
    assert "TECH-0003" in text
    assert "TECH-0001" not in text
    assert "Rejected" in text
    assert path.read_bytes().startswith(b"%PDF")


def test_a_refused_station_shows_in_its_report(demo_site: Site, tmp_path: Path) -> None:
    # CP-09 never connected: it is not a station of the site, but its refusals are traced;
    # the report of the site lists what the known stations did.
    tools = demo_site.window.trace_tools
    data = demo_site.driver.run(tools.reporter.gather(None))
    assert [report.station.station_id for report in data.stations] == [s for s, _ in DEMO]
    slow = next(r for r in data.stations if r.station.station_id == "CP-06")
    kinds = {(e.late, e.direction.value) for e in slow.problems}
    assert (True, "in") in kinds  # the late answer
    assert (False, "event") in kinds  # the timeout


def test_cancelling_the_report_writes_nothing(demo_site: Site, tmp_path: Path) -> None:
    tools = demo_site.window.trace_tools
    path = tmp_path / "cancelled.pdf"
    tools.reporter.sig_progress.connect(lambda _done, _total: tools.reporter.cancel())
    with demo_site.qtbot.waitSignal(tools.reporter.sig_cancelled, timeout=20_000):
        task = tools.start(tools.reporter.run(None, path))
    demo_site.qtbot.waitUntil(task.done)
    assert task.result() is False
    assert not path.exists()
