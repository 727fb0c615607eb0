"""The commissioning report: one PDF per station or for the whole site, for the customer.

Built as HTML (Qt's rich-text subset) and printed with :class:`QPdfWriter` — Qt's own, no
new dependency. Per station: identity and firmware, how it connected, each connector's last
status, every reservation test with its outcome and times, its latest reservation
conformance check (identity at the time, steps with verdict and reason, the connector
timeline picture; earlier checks in one line each), and the problems the trace saw
(CALLERRORs, refused connections, timeouts, late answers).
"""

from __future__ import annotations

import asyncio
import html
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from PySide6.QtCore import QMarginsF, QObject, QSizeF, Qt, QUrl, Signal
from PySide6.QtGui import QImage, QPageLayout, QPageSize, QPdfWriter, QTextDocument
from PySide6.QtWidgets import QProgressDialog, QWidget

from console import __version__
from console.central.check.model import CheckArchive, CheckOutcome, CheckResult
from console.central.export import TRACE_MESSAGE_TYPES
from console.central.model import (
    ACTIVE_STATES,
    CentralSystemApi,
    ConnectorSnapshot,
    ReservationRecord,
    ReservationState,
    StationSnapshot,
    TraceEntry,
)
from console.ui.checks.check_steps_model import (
    format_duration,
    outcome_look,
    verdict_look,
    verdict_summary,
)
from console.ui.checks.check_timeline import timeline_image
from console.ui.look.presentation import connector_status_look, reservation_state_look
from console.ui.trace.export import STORED_TRACE_LIMIT
from console.ui.trace.trace_model import Highlight, highlight_of

__all__ = [
    "ReportData",
    "ReportRunner",
    "StationReport",
    "ended_at",
    "laid_out",
    "report_html",
    "report_images",
    "write_pdf",
]

_log = logging.getLogger(__name__)

MAX_PROBLEMS_LISTED = 200
"""Per station; beyond, the report says how many more there were."""


@dataclass(slots=True)
class StationReport:
    """What the report says about one station."""

    station: StationSnapshot
    connectors: list[ConnectorSnapshot] = field(default_factory=list)
    reservations: list[ReservationRecord] = field(default_factory=list)
    problems: list[TraceEntry] = field(default_factory=list)
    frames_seen: int = 0
    checks: list[CheckResult] = field(default_factory=list)
    """Its finished reservation checks, oldest first (the report details the latest)."""

    @property
    def latest_check(self) -> CheckResult | None:
        return self.checks[-1] if self.checks else None


@dataclass(slots=True)
class ReportData:
    """Everything the report shows, gathered before it is laid out."""

    generated_at: datetime
    scope: str
    """"Site" or the station id."""
    urls: list[str]
    security_profile: int
    stations: list[StationReport]
    version: str = __version__
    site_name: str | None = None
    """The site or customer the technician typed in, printed under the title."""


def _e(value: object) -> str:
    return html.escape("" if value is None else str(value))


def _time(moment: datetime | None) -> str:
    if moment is None:
        return "—"
    local = moment.astimezone()
    return local.strftime("%Y-%m-%d %H:%M:%S %Z").strip()


def _clock(moment: datetime | None, day_of: datetime | None) -> str:
    """A time in a table row: only the clock when it falls on the day of ``day_of``.

    Keeps the reservation table's time columns narrow enough not to wrap.
    """
    if moment is None:
        return "—"
    local = moment.astimezone()
    if day_of is not None and local.date() == day_of.astimezone().date():
        return local.strftime("%H:%M:%S")
    return local.strftime("%Y-%m-%d %H:%M:%S")


def _zone(moment: datetime) -> str:
    local = moment.astimezone()
    return local.strftime("%Z").strip() or local.strftime("UTC%z")


def ended_at(record: ReservationRecord) -> datetime | None:
    """When the reservation reached the state it is in, unless it is still held (or sent).

    From the record's history: the last time it entered its current state.
    """
    if record.state in ACTIVE_STATES or record.state is ReservationState.SENDING:
        return None
    for state, moment in reversed(record.history):
        if state is record.state:
            return moment
    return record.updated_at


def _latency(seconds: float | None) -> str:
    return "—" if seconds is None else f"{seconds * 1000:.0f} ms"


def _problem_kind(entry: TraceEntry) -> str:
    if entry.note == "handshake refused":
        return "Connection refused"
    if entry.late:
        return "Late answer"
    if entry.message_type == 4:
        return "CALLERROR"
    if entry.message_id is not None and entry.message_type is None:
        return "No answer" if entry.direction.value == "event" else "Invalid answer"
    if entry.error_code:
        return "Refused call"
    return "Problem"


def _problem_text(entry: TraceEntry) -> str:
    if entry.direction.value == "event":
        return entry.text
    parts = [entry.action or "", entry.error_code or "", entry.note or ""]
    kind = TRACE_MESSAGE_TYPES.get(entry.message_type or 0)
    if kind and entry.message_type != 4:
        parts.insert(0, kind)
    return " — ".join(part for part in parts if part)


_CSS = """
body { font-family: sans-serif; font-size: 9pt; color: #1b1f24; }
h1 { font-size: 17pt; color: #1f4e8c; margin-bottom: 2px; }
h2 { font-size: 13pt; color: #1f4e8c; margin-top: 18px; margin-bottom: 4px; }
h3 { font-size: 10pt; color: #33404d; margin-top: 10px; margin-bottom: 3px; }
table { border-collapse: collapse; }
th { background-color: #eef1f5; text-align: left; font-weight: bold; white-space: nowrap; }
td.nowrap { white-space: nowrap; }
p.site { font-size: 12pt; margin-top: 0px; }
td.muted, p.muted { color: #5f6670; }
"""


def report_html(data: ReportData) -> str:
    """The report as HTML (the subset QTextDocument renders)."""
    out: list[str] = [f"<html><head><style>{_CSS}</style></head><body>"]
    title = (
        "Commissioning report — whole site"
        if data.scope == "Site"
        else f"Commissioning report — station {_e(data.scope)}"
    )
    out.append(f"<h1>{title}</h1>")
    if data.site_name:
        out.append(f"<p class='site'><b>Site:</b> {_e(data.site_name)}</p>")
    out.append(
        f"<p class='muted'>Generated {_e(_time(data.generated_at))} by OCPP Console "
        f"{_e(data.version)}. Security profile {data.security_profile}. "
        f"Stations connect to: {_e(', '.join(data.urls) or '—')}</p>"
    )
    out.append(_summary(data))
    for number, station_report in enumerate(data.stations):
        out.extend(_station_section(station_report, number))
    out.append("</body></html>")
    return "\n".join(out)


_BANDED_ROW = "<tr bgcolor='#f5f7fa'>"


def _table(
    headers: list[str] | None,
    rows: list[list[str]],
    width: str = "100%",
    widths: list[int] | None = None,
) -> str:
    """A table; ``widths`` in percent per column, or Qt shares the width by content.

    Left to itself, Qt's layout squeezed short columns until their headers broke mid-word.
    """
    # No cell borders (Qt draws them unevenly); a shaded header and banded rows instead.
    if headers and widths:
        assert len(widths) == len(headers), "one width per column"
        head = (
            "<tr>"
            + "".join(
                f"<th width='{share}%'>{_e(text)}</th>"
                for text, share in zip(headers, widths, strict=True)
            )
            + "</tr>"
        )
    elif headers:
        head = "<tr>" + "".join(f"<th>{_e(text)}</th>" for text in headers) + "</tr>"
    else:
        head = ""
    body = "".join(
        (_BANDED_ROW if number % 2 else "<tr>") + "".join(cells) + "</tr>"
        for number, cells in enumerate(rows)
    )
    return f"<table border='0' cellspacing='0' cellpadding='3' width='{width}'>{head}{body}</table>"


def _cell(
    text: object,
    colour: str | None = None,
    background: str | None = None,
    *,
    nowrap: bool = False,
) -> str:
    style = ""
    if colour:
        style += f"color:{colour};"
    attributes = f" bgcolor='{background}'" if background else ""
    if nowrap:
        attributes += " class='nowrap'"
    return f"<td{attributes} style='{style}'>{_e(text)}</td>"


def _summary(data: ReportData) -> str:
    rows = []
    for report in data.stations:
        station = report.station
        accepted = sum(1 for r in report.reservations if r.confirmation is not None)
        rows.append(
            [
                _cell(station.station_id),
                _cell(" ".join(filter(None, [station.vendor, station.model])) or "—"),
                _cell(station.firmware_version or "—"),
                _cell("online" if station.connected else "offline"),
                _cell(len(report.connectors)),
                _cell(f"{len(report.reservations)} ({accepted} answered)"),
                _check_summary_cell(report.latest_check),
                _cell(
                    len(report.problems),
                    "#a1141b" if report.problems else None,
                    "#fde4e4" if report.problems else None,
                ),
            ]
        )
    return "<h2>Summary</h2>" + _table(
        [
            "Station",
            "Vendor / model",
            "Firmware",
            "Now",
            "Connectors",
            "Reservation tests",
            "Reservation check",
            "Problems",
        ],
        rows,
    )


def _check_summary_cell(check: CheckResult | None) -> str:
    if check is None:
        return _cell("not run", "#5f6670")
    look = outcome_look(check.outcome)
    failed = len(check.failed_steps)
    text = look.text + (f" ({failed} step{'s' if failed != 1 else ''})" if failed else "")
    if check.left_behind:
        text += " — reservations left behind"
    return _cell(text, look.foreground, look.background)


def _station_section(report: StationReport, number: int = 0) -> list[str]:
    station = report.station
    # Each station starts a page: the technician can hand one station's pages over.
    out = [f"<h2 style='page-break-before: always'>Station {_e(station.station_id)}</h2>"]
    identity = [
        ("Station id", station.station_id),
        ("Vendor", station.vendor),
        ("Model", station.model),
        ("Serial number", station.serial_number),
        ("Firmware", station.firmware_version),
        ("Registration", station.registration_status),
        (
            "Connection",
            ("online" if station.connected else "offline")
            + (f" since {_time(station.state_since)}" if station.state_since else ""),
        ),
        ("Address", station.remote_address),
        ("Security profile", station.security_profile),
        (
            "Heartbeat interval",
            f"{station.heartbeat_interval} s" if station.heartbeat_interval else None,
        ),
        ("Last message", _time(station.last_message_at)),
        (
            "Reserves connector 0",
            {True: "yes", False: "no", None: "unknown"}[station.reserve_connector_zero_supported],
        ),
        ("Frames seen", report.frames_seen),
    ]
    out.append("<h3>Identity</h3>")
    # Two name/value pairs a row keeps a station's page short.
    pairs = [
        (f"<td><b>{_e(name)}</b></td>", _cell(value if value not in (None, "") else "—"))
        for name, value in identity
    ]
    rows = [
        [*pairs[i], *(pairs[i + 1] if i + 1 < len(pairs) else ("<td></td>", "<td></td>"))]
        for i in range(0, len(pairs), 2)
    ]
    out.append(_table(None, rows))

    out.append("<h3>Connectors (last status)</h3>")
    if report.connectors:
        rows = []
        for connector in sorted(report.connectors, key=lambda c: c.connector_id):
            look = connector_status_look(connector.status)
            rows.append(
                [
                    _cell(connector.connector_id),
                    _cell(look.text, look.foreground, look.background),
                    _cell(connector.error_code.value if connector.error_code else "—"),
                    _cell(connector.info or connector.vendor_error_code or "—"),
                    _cell(_time(connector.status_at)),
                ]
            )
        out.append(_table(["Connector", "Status", "Error code", "Info", "Since"], rows))
    else:
        out.append("<p class='muted'>No StatusNotification received.</p>")

    out.append("<h3>Reservation tests</h3>")
    if report.reservations:
        records = sorted(report.reservations, key=lambda r: r.created_at)
        # One day for the whole table: a time on that day shows without its date.
        day = records[0].created_at
        out.append(
            f"<p class='muted'>Times in {_e(_zone(day))}, on "
            f"{_e(day.astimezone().strftime('%Y-%m-%d'))} unless a date is shown.</p>"
        )
        rows = []
        for record in records:
            look = reservation_state_look(record.state)
            rows.append(
                [
                    _cell(record.reservation_id, nowrap=True),
                    _cell(record.connector_id, nowrap=True),
                    _cell(
                        record.id_tag
                        + (f" (parent {record.parent_id_tag})" if record.parent_id_tag else "")
                    ),
                    _cell(_clock(record.created_at, day), nowrap=True),
                    _cell(_clock(record.answered_at, day), nowrap=True),
                    _cell(_latency(record.latency), nowrap=True),
                    _cell(
                        record.confirmation.value if record.confirmation else "no answer",
                        nowrap=True,
                    ),
                    _cell(_clock(record.expiry_date, day), nowrap=True),
                    _cell(look.text, look.foreground, look.background),
                    _cell(_clock(ended_at(record), day), nowrap=True),
                    _cell(_reservation_detail(record)),
                ]
            )
        out.append(
            _table(
                [
                    "Id",
                    "Conn.",
                    "idTag",
                    "Sent",
                    "Answered",
                    "Latency",
                    "Answer",
                    "Expiry",
                    "Final state",
                    "Ended",
                    "Detail",
                ],
                rows,
                widths=[4, 5, 12, 7, 8, 7, 8, 7, 12, 7, 23],
            )
        )
    else:
        out.append("<p class='muted'>No reservation was tested.</p>")

    out.extend(_check_section(report, number))

    out.append("<h3>Problems seen</h3>")
    if report.problems:
        rows = []
        for entry in report.problems[:MAX_PROBLEMS_LISTED]:
            error = highlight_of(entry) is Highlight.ERROR
            colour = "#a1141b" if error else "#7a5200"
            rows.append(
                [
                    _cell(_time(entry.at), nowrap=True),
                    _cell(_problem_kind(entry), colour, nowrap=True),
                    _cell(entry.message_id or "—", nowrap=True),
                    _cell(_problem_text(entry)),
                ]
            )
        out.append(_table(["Time", "Kind", "Message id", "What"], rows, widths=[17, 13, 17, 53]))
        more = len(report.problems) - MAX_PROBLEMS_LISTED
        if more > 0:
            out.append(f"<p class='muted'>… and {more} more (see the trace export).</p>")
    else:
        out.append("<p>None: no CALLERROR, refused connection, timeout or late answer.</p>")
    return out


TIMELINE_IMAGE_WIDTH = 1000
"""Logical pixels of the timeline picture in the report (drawn twice as dense)."""
TIMELINE_PRINT_WIDTH = 740
"""Its width on the page, in points (the page is about 770 points wide)."""


def _timeline_name(number: int) -> str:
    """The document resource of the timeline of the ``number``-th station's latest check."""
    return f"check-timeline-{number}.png"


def report_images(data: ReportData) -> dict[str, QImage]:
    """The pictures :func:`report_html` refers to (each station's latest check timeline)."""
    images: dict[str, QImage] = {}
    for number, report in enumerate(data.stations):
        check = report.latest_check
        if check is not None:
            images[_timeline_name(number)] = timeline_image(check, TIMELINE_IMAGE_WIDTH, scale=2)
    return images


def _check_section(report: StationReport, number: int) -> list[str]:
    """The station's latest reservation check in full; the earlier ones in a line each.

    The latest, because the report tells the customer what the station does now (earlier
    runs were usually before a fix or a firmware update); the earlier ones stay listed so
    that nothing run is hidden.
    """
    check = report.latest_check
    if check is None:
        return [
            "<h3>Reservation conformance check</h3>",
            "<p class='muted'>No reservation conformance check was run on this station.</p>",
        ]
    # On a page of its own: its picture and steps read together (and it can be handed over).
    out = ["<h3 style='page-break-before: always'>Reservation conformance check</h3>"]
    look = outcome_look(check.outcome)
    if check.left_behind:
        ids = ", ".join(str(i) for i in check.left_behind)
        out.append(
            "<table border='0' cellspacing='0' cellpadding='5' width='100%'><tr>"
            "<td bgcolor='#fde4e4' style='color:#a1141b; font-weight:bold;'>"
            f"⚠ RESERVATIONS LEFT BEHIND on the station: {_e(ids)}. The check could not "
            "cancel them; cancel them before handing the station over.</td></tr></table>"
        )
    when = _time(check.started_at)
    if check.finished_at is not None:
        seconds = (check.finished_at - check.started_at).total_seconds()
        when += f" (took {format_duration(seconds)})"
    identity = [
        ("When", when),
        ("Outcome", None),
        ("Vendor", check.vendor),
        ("Steps", verdict_summary(check)),
        ("Model", check.model),
        ("idTag used", check.id_tag),
        ("Firmware", check.firmware_version),
        ("Connectors", ", ".join(str(c) for c in check.connectors) or "—"),
        ("Serial number", check.serial_number),
        ("Guided step", "run" if check.guided else "not run"),
    ]
    cells = []
    for name, value in identity:
        if name == "Outcome":
            value_cell = _cell(
                look.text + (f" — {check.reason}" if check.reason else ""),
                look.foreground,
                look.background,
            )
        else:
            value_cell = _cell(value if value not in (None, "") else "—")
        cells.append((f"<td><b>{_e(name)}</b></td>", value_cell))
    rows = [[*cells[i], *cells[i + 1]] for i in range(0, len(cells) - 1, 2)]
    out.append(_table(None, rows, widths=None))
    now_firmware = report.station.firmware_version
    if check.firmware_version and now_firmware and check.firmware_version != now_firmware:
        out.append(
            f"<p class='muted'>The station ran firmware {_e(check.firmware_version)} during "
            f"this check; it reports {_e(now_firmware)} now.</p>"
        )
    out.append(f"<p><img src='{_timeline_name(number)}' width='{TIMELINE_PRINT_WIDTH}'></p>")
    step_rows = []
    for step in check.steps:
        verdict = verdict_look(step.verdict)
        step_seconds = (
            (step.finished_at - step.started_at).total_seconds()
            if step.started_at is not None and step.finished_at is not None
            else None
        )
        step_rows.append(
            [
                _cell(step.number, nowrap=True),
                _cell(step.title),
                _cell("station" if step.connector_id is None else step.connector_id, nowrap=True),
                _cell(verdict.text, verdict.foreground, verdict.background, nowrap=True),
                _cell(" ".join(step.reason.split()) or "—"),
                _cell(format_duration(step_seconds) or "—", nowrap=True),
            ]
        )
    out.append(
        _table(
            ["#", "Step", "Conn.", "Verdict", "Reason", "Took"],
            step_rows,
            widths=[3, 36, 6, 8, 39, 8],
        )
    )
    earlier = report.checks[:-1]
    if earlier:
        out.append("<p><b>Earlier checks of this station</b></p>")
        rows = []
        for older in reversed(earlier):
            older_look = outcome_look(older.outcome)
            rows.append(
                [
                    _cell(_time(older.started_at), nowrap=True),
                    _cell(older_look.text, older_look.foreground, older_look.background),
                    _cell(verdict_summary(older)),
                    _cell(older.firmware_version or "—"),
                    _cell(
                        ", ".join(str(i) for i in older.left_behind) if older.left_behind else "—",
                        "#a1141b" if older.left_behind else None,
                    ),
                ]
            )
        out.append(
            _table(
                ["Started", "Outcome", "Steps", "Firmware", "Left behind"],
                rows,
                widths=[22, 12, 36, 15, 15],
            )
        )
    return out


def _reservation_detail(record: ReservationRecord) -> str:
    error = record.error or ""
    # The error text often starts with its code already ("NotSupported: …").
    code = record.error_code if record.error_code and record.error_code not in error else None
    parts = [
        f"transaction #{record.transaction_id}" if record.transaction_id is not None else None,
        code,
        error or None,
    ]
    return " — ".join(part for part in parts if part) or "—"


PAGE_LAYOUT = QPageLayout(
    QPageSize(QPageSize.PageSizeId.A4),
    QPageLayout.Orientation.Landscape,
    QMarginsF(12, 12, 12, 12),
    QPageLayout.Unit.Millimeter,
)
"""A4 landscape: the reservation table's eleven columns need the width."""


def laid_out(document_html: str, images: dict[str, QImage] | None = None) -> QTextDocument:
    """The report laid out on the PDF's pages (tests measure its tables through this).

    ``images``: the pictures the HTML refers to by name (:func:`report_images`).
    """
    document = QTextDocument()
    for name, image in (images or {}).items():
        document.addResource(QTextDocument.ResourceType.ImageResource, QUrl(name), image)
    document.setHtml(document_html)
    # Lay out at the page's size in points so fonts print at their point size.
    page = PAGE_LAYOUT.paintRect(QPageLayout.Unit.Point)
    document.setPageSize(QSizeF(page.width(), page.height()))
    return document


def write_pdf(document_html: str, path: Path, images: dict[str, QImage] | None = None) -> None:
    """Lay the HTML out on A4 pages and write the PDF (creating its folder if need be)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = QPdfWriter(str(path))
    writer.setTitle("OCPP Console commissioning report")
    writer.setCreator(f"OCPP Console {__version__}")
    writer.setResolution(300)
    writer.setPageLayout(PAGE_LAYOUT)
    laid_out(document_html, images).print_(writer)
    if not path.is_file():
        raise OSError(f"could not write {path}")


class ReportRunner(QObject):
    """Gathers a report's data (the trace from the database), then writes the PDF."""

    sig_finished = Signal(str)
    """(path): the report is written."""
    sig_cancelled = Signal()
    """The technician cancelled; no file was written."""
    sig_failed = Signal(str)
    """(message): writing failed."""
    sig_progress = Signal(int, int)
    """(stations done, stations in all)."""

    def __init__(
        self,
        central: CentralSystemApi,
        check_archive: CheckArchive | None = None,
        parent: QObject | None = None,
        *,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        super().__init__(parent)
        self._central = central
        self._check_archive = check_archive
        self._dialog_parent: QWidget | None = None
        self._clock = clock or (lambda: datetime.now(UTC))
        self.dialog: QProgressDialog | None = None
        self.last_html: str | None = None
        """The HTML of the last report written (tests read its text)."""
        self._cancelled = False

    def set_dialog_parent(self, widget: QWidget | None) -> None:
        """Show the progress dialog over ``widget`` (the window), modal to it."""
        self._dialog_parent = widget

    def cancel(self) -> None:
        self._cancelled = True

    async def gather(self, station_id: str | None, site_name: str | None = None) -> ReportData:
        """Collect what the report shows for one station (None: the whole site)."""
        stations = sorted(self._central.stations(), key=lambda s: s.station_id)
        if station_id is not None:
            stations = [s for s in stations if s.station_id == station_id]
        records = self._central.reservations()
        checks = self._finished_checks()
        reports: list[StationReport] = []
        for number, station in enumerate(stations):
            sid = station.station_id
            trace = await self._central.stored_trace(limit=STORED_TRACE_LIMIT, station_id=sid)
            reports.append(
                StationReport(
                    station=station,
                    connectors=[c for c in self._central.connectors(sid) if c.connector_id > 0]
                    or self._central.connectors(sid),
                    reservations=[r for r in records if r.station_id == sid],
                    problems=[
                        entry
                        for entry in trace
                        if highlight_of(entry) in (Highlight.ERROR, Highlight.WARNING)
                    ],
                    frames_seen=sum(1 for entry in trace if entry.message_type is not None),
                    checks=checks.get(sid, []),
                )
            )
            self._step(number + 1, len(stations))
            await asyncio.sleep(0)
            if self._cancelled:
                break
        return ReportData(
            generated_at=self._clock(),
            scope="Site" if station_id is None else station_id,
            urls=self._central.urls(),
            security_profile=self._central.security_profile,
            stations=reports,
            site_name=site_name or None,
        )

    def _finished_checks(self) -> dict[str, list[CheckResult]]:
        """The stored reservation checks of each station, oldest first (running ones left out)."""
        if self._check_archive is None:
            return {}
        try:
            results = self._check_archive.checks()
        except Exception:
            # A report without its checks is still worth writing; the log says why.
            _log.exception("reading the reservation checks for the report failed")
            return {}
        by_station: dict[str, list[CheckResult]] = {}
        for result in sorted(results, key=lambda r: r.started_at):
            if result.outcome is not CheckOutcome.RUNNING:
                by_station.setdefault(result.station_id, []).append(result)
        return by_station

    async def run(self, station_id: str | None, path: Path, site_name: str | None = None) -> bool:
        """Write the report to ``path``; False if cancelled or failed.

        ``site_name``: the site or customer, printed under the title (optional).
        """
        self._cancelled = False
        dialog = QProgressDialog("Gathering the report…", "Cancel", 0, 1, self._dialog_parent)
        dialog.setWindowTitle("Commissioning report")
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.setMinimumDuration(400)
        dialog.setAutoClose(False)
        dialog.setAutoReset(False)
        dialog.canceled.connect(self.cancel)
        self.dialog = dialog
        try:
            data = await self.gather(station_id, site_name)
            if self._cancelled:
                _log.info("report to %s cancelled", path)
                self.sig_cancelled.emit()
                return False
            dialog.setLabelText(f"Writing {path.name}…")
            await asyncio.sleep(0)
            self.last_html = report_html(data)
            write_pdf(self.last_html, path, report_images(data))
        except Exception as exc:
            _log.exception("writing the report to %s failed", path)
            self.sig_failed.emit(f"Writing the report to {path} failed: {exc}")
            return False
        finally:
            dialog.reset()
            dialog.close()
            dialog.deleteLater()
            self.dialog = None
        _log.info("commissioning report (%s) written to %s", data.scope, path)
        self.sig_finished.emit(str(path))
        return True

    def _step(self, done: int, total: int) -> None:
        if self.dialog is not None:
            self.dialog.setRange(0, max(1, total))
            self.dialog.setValue(done)
        self.sig_progress.emit(done, total)
