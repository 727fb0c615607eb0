"""The report must not hide a problem: the verdict first, reservation tests that say how
they ended, a late call counted once, page numbers, headings kept with their lines, URLs
never broken, and a sign-off block (read back from the PDF with pdftotext)."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PySide6.QtGui import QTextDocument
from PySide6.QtWidgets import QApplication

from console.central.check.model import CheckOutcome
from console.central.model import (
    ConnectorSnapshot,
    ReservationRecord,
    ReservationState,
    StationSnapshot,
    TraceDirection,
    TraceEntry,
)
from console.central.verdict import ProblemKind
from console.ocpp.enums import ChargePointErrorCode, ChargePointStatus
from console.ocpp.reservation import ReservationStatus
from console.ui.report.report import ReportData, StationReport, laid_out, report_html, write_pdf
from console.ui.report.report_pdf import keep_headings_with_their_lines
from tests.ui.export_site import Site, make_site_fixture  # noqa: F401 (the fixture)
from tests.ui.fakes import sample_check_result
from tests.ui.report.report_site import (  # noqa: F401 (the fixture)
    demo_site_fixture,
    flat,
    pages,
    pdf_text,
    station_sections,
    write_report,
)

pytestmark = pytest.mark.qt_log_ignore("This plugin does not support")

T0 = datetime(2026, 11, 25, 14, 0, 0, tzinfo=UTC)


def local(moment: datetime | None) -> str:
    """A moment as the report prints it."""
    assert moment is not None
    return moment.astimezone().strftime("%Y-%m-%d %H:%M:%S %Z").strip()


def need_pdftotext(path: Path) -> str:
    extracted = pdf_text(path)
    if extracted is None:
        pytest.skip("pdftotext is not installed (apt-get install poppler-utils)")
    # The PDF's fonts set "ff" and "fi" as one glyph (a ligature): read them as letters.
    return unicodedata.normalize("NFKC", extracted)


def summary_rows(text: str) -> dict[str, str]:
    """The summary table's line of each station (pdftotext -layout keeps a row on a line)."""
    first_station = re.search(r"\n\s*Station \S+\s*\n", text)
    assert first_station is not None
    summary = text[text.index("Summary") : first_station.start()]
    rows = {}
    for line in summary.splitlines():
        found = re.match(r"\s*(CP-\d\d)\s", line)
        if found:
            rows[found.group(1)] = line
    return rows


# --- the demo site: a faulted, an unavailable and a refusing station --------------------------


@pytest.fixture
def site_report(demo_site: Site, tmp_path: Path) -> tuple[Site, str]:
    """The whole site's PDF as text; CP-07 passed its reservation check (and is Ready)."""
    result = replace(
        sample_check_result("CP-07", check_id=None, started_at=T0),
        outcome=CheckOutcome.PASSED,
    )
    demo_site.driver.run(demo_site.central.save_check(result))
    path = tmp_path / "site.pdf"
    write_report(demo_site, path, None, site_name="Parking Nord")
    return demo_site, need_pdftotext(path)


def test_the_site_verdict_comes_first(site_report: tuple[Site, str]) -> None:
    _site, text = site_report
    verdict = text.index("Site verdict: Needs attention")
    assert verdict < text.index("Summary") < text.index("Station CP-01")
    assert "Site verdict" not in text[verdict + 1 :]
    first_page = flat(pages(text)[0])
    assert "5 of 6 stations need attention" in first_page
    # What needs attention is on the first page, before anything else.
    for expected in ("CP-02", "GroundFailure", "CP-04", "Unavailable", "CP-03", "1 rejected"):
        assert expected in first_page


def test_a_faulted_station_needs_attention_with_its_error_code_and_since_when(
    site_report: tuple[Site, str],
) -> None:
    site, text = site_report
    faulted = next(c for c in site.central.connectors("CP-02") if c.connector_id == 1)
    assert faulted.status is ChargePointStatus.FAULTED
    section = flat(station_sections(text)["CP-02"])
    assert section.startswith("CP-02: Needs attention")
    assert f"Connector 1 is Faulted (GroundFailure) since {local(faulted.status_at)}" in section
    assert "Needs attention" in summary_rows(text)["CP-02"]


def test_an_unavailable_station_needs_attention(site_report: tuple[Site, str]) -> None:
    site, text = site_report
    station = next(c for c in site.central.connectors("CP-04") if c.connector_id == 0)
    assert station.status is ChargePointStatus.UNAVAILABLE
    section = flat(station_sections(text)["CP-04"])
    assert section.startswith("CP-04: Needs attention")
    assert f"The station (connector 0) is Unavailable since {local(station.status_at)}" in section
    assert "Connector 1 is Unavailable" in section
    assert "Reservations refused: 1 of 1 reservation test (1 unavailable)" in section
    assert "Needs attention" in summary_rows(text)["CP-04"]


def test_a_station_that_rejects_every_reservation_needs_attention(
    site_report: tuple[Site, str],
) -> None:
    _site, text = site_report
    section = flat(station_sections(text)["CP-03"])
    assert section.startswith("CP-03: Needs attention")
    assert "Reservations refused: 1 of 1 reservation test (1 rejected)" in section
    assert "configured not to accept reservations" in section


def test_a_station_with_nothing_against_it_is_ready(site_report: tuple[Site, str]) -> None:
    _site, text = site_report
    assert flat(station_sections(text)["CP-07"]).startswith("CP-07: Ready")
    assert "Ready" in summary_rows(text)["CP-07"]
    assert "Needs attention" not in summary_rows(text)["CP-07"]
    # Every other station misses its check at least.
    assert "No reservation conformance check was run" in flat(station_sections(text)["CP-01"])


def summary_cells(html: str, station_id: str) -> list[str]:
    """The texts of the summary table's cells in the row of ``station_id``."""
    summary = html[html.index("<h2>Summary</h2>") :]
    row = next(r for r in re.findall(r"<tr[^>]*>(.*?)</tr>", summary, re.S) if station_id in r)
    return [re.sub(r"<[^>]+>", "", cell) for cell in re.findall(r"<td[^>]*>(.*?)</td>", row)]


def test_reservation_tests_say_how_each_attempt_ended(site_report: tuple[Site, str]) -> None:
    site, text = site_report
    html = site.window.trace_tools.reporter.last_html
    assert html is not None
    tests = {sid: summary_cells(html, sid)[7] for sid in ("CP-01", "CP-03", "CP-04", "CP-07")}
    assert tests == {
        "CP-01": "1: 1 accepted, still held",
        "CP-03": "1: 1 rejected",
        "CP-04": "1: 1 unavailable",
        "CP-07": "1: 1 accepted → used",
    }
    assert "answered" not in " ".join(summary_rows(text).values())
    # On paper too (the summary's cell may wrap; the station's line does not).
    assert "1: 1 rejected" in summary_rows(text)["CP-03"]
    assert "1 reservation test: 1 accepted → used." in flat(station_sections(text)["CP-07"])
    assert "1 reservation test: 1 rejected." in flat(station_sections(text)["CP-03"])


def test_a_late_call_counts_once(demo_site: Site, tmp_path: Path) -> None:
    # CP-06 answers every call of the console after the call timeout: each call is a
    # timeout line, and each late answer one more line. GetConfiguration's came late at
    # least (the demo site waited for it); how many calls there were depends on the timing.
    data = demo_site.driver.run(demo_site.window.trace_tools.reporter.gather("CP-06"))
    [slow] = data.stations
    timeouts = {e.message_id for e in slow.problems if e.direction is TraceDirection.EVENT}
    late = [e for e in slow.problems if e.late]
    assert late
    assert {"GetConfiguration", "ReserveNow"} <= {e.action for e in slow.problems}
    assert len(slow.problems) == len(timeouts) + len(late)  # the trace lines
    problems = slow.protocol_problems
    assert len(problems) == len(timeouts)  # one per call
    kinds = {p.action: p.kind for p in problems}
    assert kinds["GetConfiguration"] is ProblemKind.LATE_ANSWER
    assert kinds["ReserveNow"] in (ProblemKind.NO_ANSWER, ProblemKind.LATE_ANSWER)
    assert all(len(p.entries) == 2 for p in problems if p.kind is ProblemKind.LATE_ANSWER)
    path = tmp_path / "cp06.pdf"
    write_report(demo_site, path, "CP-06")
    text = need_pdftotext(path)
    count = len(timeouts)
    assert re.search(rf"CP-06 .* {count}\s*$", summary_rows(text)["CP-06"])
    section = flat(station_sections(text)["CP-06"])
    assert f"{count} problems; a call answered late counts once" in section
    assert f"{count} protocol problems in the trace" in section


def test_every_page_has_its_number(site_report: tuple[Site, str]) -> None:
    _site, text = site_report
    found = pages(text)
    assert len(found) >= 7  # the summary, then a page per station at least
    for number, page in enumerate(found, start=1):
        assert f"Page {number} of {len(found)}" in page


def test_the_report_ends_with_a_sign_off_block(site_report: tuple[Site, str]) -> None:
    _site, text = site_report
    last = flat(pages(text)[-1])
    assert "Sign-off" in last
    sign_off = last[last.index("Sign-off") :]
    assert "Verdict of this report: Needs attention (CP-01, CP-02, CP-03, CP-04, CP-06)" in sign_off
    assert "do not sign it off" in sign_off
    for field in ("Technician:", "Date:", "Site name: Parking Nord", "Signature:"):
        assert field in sign_off
    assert re.search(r"Signature: _{20,}", sign_off)
    assert text.index("Sign-off") > text.index("Station CP-07")


def test_each_station_url_is_whole_on_one_line(site_report: tuple[Site, str]) -> None:
    site, text = site_report
    lines = text.splitlines()
    base = f"ws://127.0.0.1:{site.central.port}/"
    assert any(base + "<station id>" in line for line in lines)
    for station_id in ("CP-01", "CP-02", "CP-03", "CP-04", "CP-06", "CP-07"):
        assert any(base + station_id in line for line in lines), station_id


# --- the layout, on made-up data --------------------------------------------------------------

LONG_URL = "ws://commissioning-laptop.parking-nord.site-network.example:9000/"
LONG_ID = "PARKHAUS-NORD-EBENE-2-LADEPUNKT-17"


def made_up_report(reservations: int = 1, late_calls: int = 0) -> ReportData:
    """One station (a long id, a long URL), ``reservations`` rejected tests, late calls."""
    station = StationSnapshot(LONG_ID, True, T0, vendor="Acme", firmware_version="1.2.3")
    records = [
        ReservationRecord(
            reservation_id=n,
            station_id=LONG_ID,
            connector_id=1,
            id_tag=f"TECH-{n:04}",
            parent_id_tag=None,
            expiry_date=T0 + timedelta(minutes=30),
            created_at=T0 + timedelta(seconds=n),
            state=ReservationState.REJECTED,
            confirmation=ReservationStatus.REJECTED,
            history=((ReservationState.REJECTED, T0 + timedelta(seconds=n)),),
        )
        for n in range(1, reservations + 1)
    ]
    problems: list[TraceEntry] = []
    for n in range(late_calls):
        at = T0 + timedelta(minutes=n)
        problems += [
            TraceEntry(
                2 * n,
                at,
                LONG_ID,
                TraceDirection.EVENT,
                "no answer to ReserveNow within 30 s",
                message_id=f"c-{n}",
                action="ReserveNow",
            ),
            TraceEntry(
                2 * n + 1,
                at + timedelta(seconds=40),
                LONG_ID,
                TraceDirection.IN,
                f'[3,"c-{n}",{{"status":"Accepted"}}]',
                message_type=3,
                message_id=f"c-{n}",
                action="ReserveNow",
                latency=40.0,
                late=True,
                note="late answer (after the timeout)",
            ),
        ]
    connectors = [
        ConnectorSnapshot(
            LONG_ID,
            1,
            ChargePointStatus.FAULTED,
            ChargePointErrorCode.GROUND_FAILURE,
            status_at=T0,
        )
    ]
    return ReportData(
        generated_at=T0,
        scope="Site",
        urls=[LONG_URL, "ws://192.168.100.200:9000/"],
        security_profile=0,
        stations=[StationReport(station, connectors, records, problems, 42)],
    )


def test_one_late_call_is_one_problem_in_the_summary_and_the_section(
    qapp: QApplication,
) -> None:
    text = laid_out(report_html(made_up_report(late_calls=1))).toPlainText()
    summary = text[text.index("Summary") : text.index(f"Station {LONG_ID}")]
    assert summary.rstrip().endswith("\n1")  # the Problems column, the last of the row
    assert "1 problem; a call answered late counts once (1 late answer)" in text
    assert "1 protocol problem in the trace (1 late answer)" in text
    assert "No answer" in text  # the timeout, in the late answer's one row


def test_a_url_is_never_broken(qapp: QApplication, tmp_path: Path) -> None:
    path = tmp_path / "urls.pdf"
    write_pdf(report_html(made_up_report()), path)
    lines = need_pdftotext(path).splitlines()
    for url in (LONG_URL + "<station id>", LONG_URL + LONG_ID, "ws://192.168.100.200:9000/"):
        assert any(url in line for line in lines), url


def heading_pages(report: ReportData) -> list[tuple[str, int, int]]:
    """(heading, its page, the page of the line under it) for every heading of the report."""
    document = laid_out(report_html(report))
    layout = document.documentLayout()
    height = document.pageSize().height()
    found = []
    block = document.begin()
    while block.isValid():
        if block.blockFormat().headingLevel() > 0:
            follower = block.next()
            while follower.isValid() and not follower.text().strip():
                follower = follower.next()
            if follower.isValid():
                found.append(
                    (
                        block.text(),
                        int(layout.blockBoundingRect(block).top() // height),
                        int(layout.blockBoundingRect(follower).bottom() // height),
                    )
                )
        block = block.next()
    return found


def test_no_heading_is_left_alone_at_the_foot_of_a_page(qapp: QApplication) -> None:
    # As the reservation table grows, each heading below it passes the foot of a page once.
    for count in range(1, 40):
        for heading, page, next_line_page in heading_pages(made_up_report(count, late_calls=3)):
            assert page == next_line_page, f"{count} reservations: {heading!r} ends page {page}"


def test_the_sign_off_of_a_ready_site(qapp: QApplication) -> None:
    ready = made_up_report(reservations=0)
    report = ready.stations[0]
    report.connectors = [replace(report.connectors[0], status=ChargePointStatus.AVAILABLE)]
    report.checks = [
        replace(sample_check_result(LONG_ID, started_at=T0), outcome=CheckOutcome.PASSED)
    ]
    text = " ".join(laid_out(report_html(ready)).toPlainText().split())
    assert text.index("Site verdict: Ready") < text.index("Summary")
    assert "The station is ready" in text
    assert f"{LONG_ID}: Ready" in text
    assert "Verdict of this report: Ready. Every station listed is ready to hand over." in text
    assert "Site name: ____" in text  # no site name given: a line to write it on


def test_every_heading_and_line_reaches_the_paper(qapp: QApplication, tmp_path: Path) -> None:
    # Headings moved to the next page: the document is laid out again; nothing may be lost.
    report = made_up_report(14, late_calls=3)
    first = report.stations[0]
    for station_id in ("CP-02", "CP-03"):
        report.stations.append(
            replace(first, station=replace(first.station, station_id=station_id))
        )
    html = report_html(report)
    probe = QTextDocument()
    probe.setHtml(html)
    probe.setPageSize(laid_out(html).pageSize())
    assert keep_headings_with_their_lines(probe) > 0
    document = laid_out(html)
    expected = []
    block = document.begin()
    while block.isValid():
        if block.text().strip() and block.blockFormat().headingLevel() > 0:
            expected.append(flat(block.text()))
        block = block.next()
    path = tmp_path / "moved.pdf"
    write_pdf(html, path)
    text = flat(need_pdftotext(path))
    position = 0
    for heading in expected:
        position = text.index(heading, position)  # each one, in order
    for line in ("3 problems; a call answered late counts once", "Verdict of this report"):
        assert text.count(line) == (3 if line.startswith("3") else 1)
