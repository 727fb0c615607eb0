"""The commissioning report for a demo site: its text (HTML and PDF) and progress/cancel."""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import QUrl
from PySide6.QtGui import QImage, QTextDocument

from console import __version__
from console.central.check.model import STEP_TITLES, CheckOutcome, step_number
from console.central.model import (
    ConnectorSnapshot,
    ReservationRecord,
    ReservationState,
    StationSnapshot,
)
from console.ocpp.reservation import ReservationStatus
from console.ui.report.report import (
    ReportData,
    StationReport,
    laid_out,
    report_html,
    report_images,
    write_pdf,
)
from tests.ui.export_site import (  # noqa: F401 (the fixture)
    Site,
    make_site_fixture,
    secrets,
)
from tests.ui.fakes import CHECK_T0, sample_check_result
from tests.ui.report.report_site import (  # noqa: F401 (the fixture)
    DEMO,
    demo_site_fixture,
    pdf_text,
    write_report,
)

pytestmark = pytest.mark.qt_log_ignore("This plugin does not support")


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


# --- what a reservation test shows, the site's name, the layout ------------------------------


def reservation_row(html: str, id_tag: str) -> list[str]:
    """The cells' texts of the reservation table's row of ``id_tag``."""
    row = next(r for r in re.findall(r"<tr[^>]*>(.*?)</tr>", html, re.S) if id_tag in r)
    return [re.sub(r"<[^>]+>", "", cell) for cell in re.findall(r"<td[^>]*>(.*?)</td>", row)]


def clock(moment: datetime) -> str:
    return moment.astimezone().strftime("%H:%M:%S")


def test_every_reservation_test_shows_its_expiry_and_when_it_ended(
    demo_site: Site, tmp_path: Path
) -> None:
    text = write_report(demo_site, tmp_path / "site.pdf", None)
    html = demo_site.window.trace_tools.reporter.last_html
    assert html is not None
    assert "Expiry" in text
    assert "Ended" in text
    records = {r.id_tag: r for r in demo_site.central.reservations()}
    for id_tag in ("TECH-0001", "TECH-0002", "TECH-0003", "TECH-0006"):
        record = records[id_tag]
        cells = reservation_row(html, id_tag)
        assert len(cells) == 11
        assert clock(record.created_at) in cells[3]
        assert clock(record.expiry_date) in cells[7]
        if record.state is ReservationState.ACCEPTED:
            assert cells[9] == "—"  # still held: it has not ended
        else:
            # The time it entered its final state, from the record's history.
            final = next(m for s, m in reversed(record.history) if s is record.state)
            assert clock(final) in cells[9]
    assert records["TECH-0003"].state is ReservationState.REJECTED


def test_the_site_name_is_printed_and_proposed_again(demo_site: Site, tmp_path: Path) -> None:
    path = tmp_path / "Documents" / "new folder" / "site.pdf"  # the folder does not exist yet
    text = write_report(demo_site, path, "CP-01", site_name="  Parking Nord  —  Müller & Söhne ")
    assert "Site: Parking Nord — Müller & Söhne" in text
    assert path.read_bytes().startswith(b"%PDF")
    tools = demo_site.window.trace_tools
    dialog = tools.open_report_dialog()
    assert dialog.site_edit.text() == "Parking Nord — Müller & Söhne"
    dialog.site_edit.clear()
    assert dialog.site_name() is None
    dialog.reject()
    assert "Site:" not in write_report(demo_site, tmp_path / "plain.pdf", "CP-01", "")
    # A folder that cannot be made (a file is in the way): a message box says why.
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder", encoding="utf-8")
    with demo_site.qtbot.waitSignal(tools.reporter.sig_failed, timeout=20_000):
        tools.start(tools.reporter.run("CP-01", blocker / "report.pdf"))
    box = tools.error_box
    assert box is not None
    demo_site.qtbot.waitUntil(box.isVisible)
    assert str(blocker / "report.pdf") in box.text()
    assert box.informativeText()
    box.accept()


T0 = datetime(2026, 11, 25, 14, 0, 0, tzinfo=UTC)
SHORT_COLUMNS = {"Id", "Conn.", "Sent", "Answered", "Latency", "Answer", "Expiry", "Ended"}


def long_detail_report() -> ReportData:
    station = StationSnapshot("CP-01", True, T0, vendor="Acme", firmware_version="1.2.3")
    records = [
        ReservationRecord(
            reservation_id=n,
            station_id="CP-01",
            connector_id=1,
            id_tag=f"TECH-{n:04}",
            parent_id_tag="FLEET-PARENT-TAG" if n == 2 else None,
            expiry_date=T0 + timedelta(minutes=30),
            created_at=T0 + timedelta(minutes=n),
            state=ReservationState.ERROR,
            confirmation=None if n == 1 else ReservationStatus.REJECTED,
            error="NotSupported: the station says it does not support reservations at all "
            "on this firmware version, whatever the connector and the idTag " * 2,
            error_code="NotSupported",
            answered_at=T0 + timedelta(minutes=n, seconds=1),
            latency=1.234,
            history=((ReservationState.ERROR, T0 + timedelta(minutes=n, seconds=1)),),
        )
        for n in range(1, 4)
    ]
    connector = ConnectorSnapshot("CP-01", 1, status_at=T0)
    return ReportData(
        generated_at=T0,
        scope="Site",
        urls=["ws://10.0.0.2:9000/ocpp"],
        security_profile=1,
        stations=[StationReport(station, [connector], records, [], 42)],
    )


def test_short_columns_never_wrap_even_beside_a_long_detail(qapp) -> None:
    document = laid_out(report_html(long_detail_report()))
    assert document.pageCount() >= 2  # also lays every block out
    time_of_day = re.compile(r"^\d\d:\d\d:\d\d$")
    checked: set[str] = set()
    wrapped_detail = False
    block = document.begin()
    while block.isValid():
        text = block.text().replace("\xa0", " ")  # no-wrap cells hold non-breaking spaces
        lines = block.layout().lineCount()
        if text in SHORT_COLUMNS or time_of_day.match(text) or text.endswith(" ms"):
            assert lines == 1, f"{text!r} wraps over {lines} lines"
            checked.add("time" if time_of_day.match(text) else text)
        if text.startswith("NotSupported: the station"):
            wrapped_detail = lines > 1
        block = block.next()
    assert checked >= SHORT_COLUMNS | {"time", "1234 ms"}
    assert wrapped_detail  # the long text wraps in its own column instead


# --- the reservation conformance check ------------------------------------------------------


def check_report() -> ReportData:
    """CP-01 checked twice (the latest left a reservation behind), CP-02 never."""
    older = replace(
        sample_check_result("CP-01", check_id=1, started_at=CHECK_T0 - timedelta(days=1)),
        firmware_version="1.4.1",
        outcome=CheckOutcome.PASSED,
    )
    latest = sample_check_result("CP-01", check_id=2, left_behind=(107,))
    station = StationSnapshot(
        "CP-01", True, CHECK_T0, vendor="Acme", model="Wallbox 22", firmware_version="1.4.3"
    )
    return ReportData(
        generated_at=CHECK_T0,
        scope="Site",
        urls=["ws://10.0.0.2:9000/"],
        security_profile=1,
        stations=[
            StationReport(station, [], [], [], 42, checks=[older, latest]),
            StationReport(replace(station, station_id="CP-02"), [], [], [], 0),
        ],
    )


def test_the_latest_reservation_check_is_in_the_report(qapp, tmp_path: Path) -> None:
    data = check_report()
    html = report_html(data)
    images = report_images(data)
    document = laid_out(html, images)
    text = document.toPlainText()
    assert "Reservation conformance check" in text
    # The summary says how each station's latest check went.
    assert "Failed (1 step) — reservations left behind" in text
    assert "not run" in text
    # Identity at the time of the check, the steps with verdict and reason.
    for expected in ("SN-0042", "CHECK-TAG", "7 passed, 1 failed, 1 skipped", "took 1 min 24 s"):
        assert expected in text
    assert "The station ran firmware 1.4.2 during this check; it reports 1.4.3 now." in text
    for step, title in STEP_TITLES.items():
        # The sample has the nine steps of issue #9 (not the probe, not steps 11-14).
        if step_number(step) in range(1, 10):
            assert title in text
    assert "Run through the proxy" not in text
    assert "still Reserved 20 s after the expiry" in text
    assert "RESERVATIONS LEFT BEHIND on the station: 107" in text
    # The earlier check in one line; CP-02 says it was never checked.
    assert "Earlier checks of this station" in text
    assert "1.4.1" in text
    assert "No reservation conformance check was run on this station." in text
    # The timeline picture: one per checked station, given to the document.
    assert list(images) == ["check-timeline-0.png"]
    assert "<img src='check-timeline-0.png'" in html
    resource = document.resource(
        QTextDocument.ResourceType.ImageResource, QUrl("check-timeline-0.png")
    )
    assert isinstance(resource, QImage)
    assert not resource.isNull()
    assert resource.width() >= 1000

    path = tmp_path / "checks.pdf"
    write_pdf(html, path, images)
    extracted = pdf_text(path)
    if extracted is None:
        pytest.skip("pdftotext is not installed: the PDF's text was not checked")
    flat = " ".join(extracted.split())
    assert "Reservation conformance check" in flat
    assert "A reservation expires by itself" in flat
    assert "still Reserved 20 s after the expiry" in flat
    assert "LEFT BEHIND on the station: 107" in flat
    lister = shutil.which("pdfimages")
    if lister is not None:
        listing = subprocess.run(
            [lister, "-list", str(path)], capture_output=True, text=True, check=True, timeout=30
        ).stdout
        assert len(listing.strip().splitlines()) >= 3  # two header lines, then the picture


def test_a_check_run_through_the_proxy_says_so(qapp) -> None:
    data = check_report()
    station = data.stations[0]
    latest = replace(station.checks[-1], through_proxy=True)
    data = replace(data, stations=[replace(station, checks=[*station.checks[:-1], latest])])
    text = laid_out(report_html(data), report_images(data)).toPlainText()
    assert "Run through the proxy: the station stayed on the site's own CSMS" in text


def test_a_check_stored_by_the_central_system_is_in_the_station_report(
    demo_site: Site, tmp_path: Path
) -> None:
    station = demo_site.central.station("CP-03")
    assert station is not None
    for number, (minutes, outcome) in enumerate(
        [(-30, CheckOutcome.FAILED), (0, CheckOutcome.PASSED)]
    ):
        result = replace(
            sample_check_result(
                "CP-03", check_id=None, started_at=datetime.now(UTC) + timedelta(minutes=minutes)
            ),
            outcome=outcome,
            vendor=station.vendor,
            firmware_version=f"fw-{number}",
        )
        demo_site.driver.run(demo_site.central.save_check(result))
    path = tmp_path / "cp03-checked.pdf"
    text = write_report(demo_site, path, "CP-03")
    assert "Reservation conformance check" in text
    assert "Passed" in text
    assert "fw-1" in text  # the latest in full
    assert "Earlier checks of this station" in text
    assert "fw-0" in text
    extracted = pdf_text(path)
    if extracted is None:
        pytest.skip("pdftotext is not installed: the PDF's text was not checked")
    assert "Reservation conformance check" in extracted
    assert "Only the reserved card may charge" in " ".join(extracted.split())
