"""The commissioning report as HTML (the subset Qt's QTextDocument renders).

Order matters to the reader who signs it: the verdict first (the site's, then each
station's that needs attention, with its reasons), the summary table, then a page per
station opening on its own verdict, and the sign-off block last. Per station: identity and
the URL it connects to, each connector's last status, every reservation test with how it
ended, its latest reservation conformance check (identity at the time, steps with verdict
and reason, the connector timeline picture; earlier checks in one line each), and the
protocol problems the trace saw, one per exchange.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import datetime

from PySide6.QtGui import QImage

from console.central.check_model import CheckResult
from console.central.model import ReservationRecord
from console.central.verdict import (
    ProblemKind,
    Readiness,
    Reason,
    SiteVerdict,
    StationVerdict,
    TraceProblem,
    by_the_check,
    reservation_summary,
)
from console.ocpp.enums import ChargePointStatus
from console.ui.checks.check_steps_model import (
    format_duration,
    outcome_look,
    verdict_look,
    verdict_summary,
)
from console.ui.checks.check_timeline import timeline_image
from console.ui.look.presentation import connector_status_look, reservation_state_look
from console.ui.report.report_model import ReportData, StationReport, ended_at

__all__ = [
    "MAX_PROBLEMS_LISTED",
    "TIMELINE_IMAGE_WIDTH",
    "TIMELINE_PRINT_WIDTH",
    "report_html",
    "report_images",
    "report_title",
]

MAX_PROBLEMS_LISTED = 200
"""Per station; beyond, the report says how many more there were."""

TIMELINE_IMAGE_WIDTH = 1000
"""Logical pixels of the timeline picture in the report (drawn twice as dense)."""
TIMELINE_PRINT_WIDTH = 740
"""Its width on the page, in points (the page is about 770 points wide)."""

_ERROR = ("#a1141b", "#fde4e4")
_WARNING = ("#7a5200", "#fdf1d8")
_READY = ("#1d6b33", "#e3f4e8")
_MUTED = "#5f6670"
_VERDICT_COLOURS = {Readiness.READY: _READY, Readiness.NEEDS_ATTENTION: _ERROR}
_WARNING_KINDS = frozenset({ProblemKind.LATE_ANSWER, ProblemKind.NO_ANSWER})
_BLOCKING_STATUSES = frozenset({ChargePointStatus.FAULTED, ChargePointStatus.UNAVAILABLE})


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


def _latency(seconds: float | None) -> str:
    return "—" if seconds is None else f"{seconds * 1000:.0f} ms"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


_CSS = """
body { font-family: sans-serif; font-size: 9pt; color: #1b1f24; }
h1 { font-size: 17pt; color: #1f4e8c; margin-bottom: 2px; }
h2 { font-size: 13pt; color: #1f4e8c; margin-top: 18px; margin-bottom: 4px; }
h3 { font-size: 10pt; color: #33404d; margin-top: 10px; margin-bottom: 3px; }
table { border-collapse: collapse; }
th { background-color: #eef1f5; text-align: left; font-weight: bold; white-space: nowrap; }
td.nowrap, p.nowrap { white-space: nowrap; }
p.site { font-size: 12pt; margin-top: 0px; }
td.muted, p.muted { color: #5f6670; }
td.verdict { font-size: 14pt; font-weight: bold; }
td.signline { padding-top: 14px; }
table.dense td, table.dense th { font-size: 8pt; }
"""


def report_title(data: ReportData) -> str:
    """The report's title (also at the foot of every page)."""
    if data.scope == "Site":
        title = "Commissioning report — whole site"
    elif len(data.stations) > 1:
        title = f"Commissioning report — stations {data.scope}"
    else:
        title = f"Commissioning report — station {data.scope}"
    return f"{title} — {data.site_name}" if data.site_name else title


def report_html(data: ReportData) -> str:
    """The report as HTML (the subset QTextDocument renders)."""
    problems = [report.protocol_problems for report in data.stations]
    verdicts = [
        report.verdict(found) for report, found in zip(data.stations, problems, strict=True)
    ]
    site = SiteVerdict(tuple(verdicts))
    heading = report_title(data).removesuffix(f" — {data.site_name}")
    out: list[str] = [
        f"<html><head><title>{_e(report_title(data))}</title><style>{_CSS}</style></head><body>",
        f"<h1>{_e(heading)}</h1>",
    ]
    if data.site_name:
        out.append(f"<p class='site'><b>Site:</b> {_e(data.site_name)}</p>")
    out.append(_site_verdict(data, site))
    out.append(
        f"<p class='muted'>Generated {_e(_time(data.generated_at))} by OCPP Console "
        f"{_e(data.version)}. Security profile {data.security_profile}.</p>"
    )
    if data.stored_in is not None:
        out.append(
            "<p class='muted'>Made from the data stored in the folder below, without the "
            "Central System running: connections are shown as last seen.</p>"
            f"<p class='nowrap'>{_e(data.stored_in)}</p>"
        )
    out.append(_station_urls(data.urls))
    out.append(_summary(data, verdicts, problems))
    for number, station_report in enumerate(data.stations):
        out.extend(
            _station_section(
                station_report, number, verdicts[number], problems[number], data.urls, data
            )
        )
    out.extend(_sign_off(data, site))
    out.append("</body></html>")
    return "\n".join(out)


_BANDED_ROW = "<tr bgcolor='#f5f7fa'>"


def _table(
    headers: list[str] | None,
    rows: list[list[str]],
    width: str = "100%",
    widths: list[int] | None = None,
    *,
    dense: bool = False,
) -> str:
    """A table; ``widths`` in percent per column, or Qt shares the width by content.
    ``dense``: a smaller font, for the tables with many columns.

    Left to itself, Qt's layout squeezed short columns until their headers broke mid-word.
    The header row repeats at the top of a page when the table goes on over it.
    """
    # No cell borders (Qt draws them unevenly); a shaded header and banded rows instead.
    if headers and widths:
        assert len(widths) == len(headers), "one width per column"
        head = (
            "<thead><tr>"
            + "".join(
                f"<th width='{share}%'>{_e(text)}</th>"
                for text, share in zip(headers, widths, strict=True)
            )
            + "</tr></thead>"
        )
    elif headers:
        head = "<thead><tr>" + "".join(f"<th>{_e(text)}</th>" for text in headers) + "</tr></thead>"
    else:
        head = ""
    body = "".join(
        (_BANDED_ROW if number % 2 else "<tr>") + "".join(cells) + "</tr>"
        for number, cells in enumerate(rows)
    )
    css_class = " class='dense'" if dense else ""
    return (
        f"<table{css_class} border='0' cellspacing='0' cellpadding='3' width='{width}'>"
        f"{head}{body}</table>"
    )


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


def _verdict_cell(verdict: StationVerdict) -> str:
    colour, background = _VERDICT_COLOURS[verdict.readiness]
    return (
        f"<td bgcolor='{background}' class='nowrap' style='color:{colour}; font-weight:bold;'>"
        f"{_e(verdict.readiness.value)}</td>"
    )


def _reason_text(reason: Reason) -> str:
    return reason.text + (f" since {_time(reason.since)}" if reason.since is not None else "")


def _reason_lines(reasons: Sequence[Reason]) -> str:
    return "<br>".join(f"• {_e(_reason_text(r))}" for r in reasons)


def _banner(readiness: Readiness, title: str, body: str) -> str:
    """A coloured box: the verdict in large letters, then what it rests on (HTML)."""
    colour, background = _VERDICT_COLOURS[readiness]
    return (
        "<table border='0' cellspacing='0' cellpadding='6' width='100%'>"
        f"<tr><td bgcolor='{background}' class='verdict' style='color:{colour};'>"
        f"{_e(title)}</td></tr>"
        f"<tr><td bgcolor='{background}'>{body}</td></tr></table>"
    )


_ALL_CLEAR = (
    "no Faulted or Unavailable connector, no refused reservation, the latest reservation "
    "check passed, no protocol problem."
)


def _site_verdict(data: ReportData, site: SiteVerdict) -> str:
    """The verdict the reader sees first: the site's, and why."""
    label = "Site verdict" if data.scope == "Site" else "Verdict"
    title = f"{label}: {site.readiness.value}"
    total = len(site.stations)
    if not total:
        return _banner(site.readiness, title, "No station is in this report.")
    if site.ready:
        every = "The station is" if total == 1 else f"All {total} stations are"
        return _banner(site.readiness, title, f"{every} ready: {_ALL_CLEAR}")
    needing = site.needing_attention
    rows = "".join(
        f"<tr><td class='nowrap' width='9%'><b>{_e(verdict.station_id)}</b></td>"
        f"<td>{_reason_lines(verdict.reasons)}</td></tr>"
        for verdict in needing
    )
    body = (
        f"<b>{len(needing)} of {_plural(total, 'station')} "
        f"need{'s' if len(needing) == 1 else ''} attention.</b> "
        "Do not sign off a station that needs attention: fix what is listed, then make the "
        "report again."
        f"<table border='0' cellspacing='0' cellpadding='2' width='100%'>{rows}</table>"
    )
    return _banner(site.readiness, title, body)


def _station_urls(urls: list[str]) -> str:
    """Where stations connect, one URL a line that never breaks."""
    if not urls:
        return "<p class='muted'>Stations connect to: —</p>"
    rows = "".join(f"<tr><td class='nowrap'>{_e(url)}&lt;station id&gt;</td></tr>" for url in urls)
    return (
        "<p class='muted'>Stations connect to (with their station id at the end):</p>"
        f"<table border='0' cellspacing='0' cellpadding='1'>{rows}</table>"
    )


def _tests_text(report: StationReport) -> str:
    tested = report.tested_reservations
    by_check = len(report.reservations) - len(tested)
    text = f"{len(tested)}: {reservation_summary(tested)}" if tested else "none"
    if by_check:
        text += f" (and {by_check} by the check)"
    return text


def _summary(
    data: ReportData, verdicts: list[StationVerdict], problems: list[list[TraceProblem]]
) -> str:
    rows = []
    for report, verdict, found in zip(data.stations, verdicts, problems, strict=True):
        station = report.station
        if data.stored_in is not None:
            now = _clock(station.last_message_at, data.generated_at)
        else:
            now = "online" if station.connected else "offline"
        rows.append(
            [
                _cell(station.station_id, nowrap=True),
                _verdict_cell(verdict),
                _cell(" ".join(filter(None, [station.vendor, station.model])) or "—"),
                _cell(station.firmware_version or "—"),
                _cell(now, nowrap=True),
                _cell(sum(1 for c in report.connectors if c.connector_id > 0)),
                _cell(_tests_text(report)),
                _check_summary_cell(report.latest_check),
                _cell(
                    len(found),
                    _ERROR[0] if found else None,
                    _ERROR[1] if found else None,
                ),
            ]
        )
    return "<h2>Summary</h2>" + _table(
        [
            "Station",
            "Verdict",
            "Vendor / model",
            "Firmware",
            "Now" if data.stored_in is None else "Last seen",
            "Conn.",
            "Reservation tests",
            "Check",
            "Problems",
        ],
        rows,
        widths=[8, 12, 17, 9, 8, 5, 20, 12, 9],
    )


def _check_summary_cell(check: CheckResult | None) -> str:
    if check is None:
        return _cell("not run", _MUTED)
    look = outcome_look(check.outcome)
    failed = len(check.failed_steps)
    text = look.text + (f" ({failed} step{'s' if failed != 1 else ''})" if failed else "")
    if check.left_behind:
        text += " — reservations left behind"
    return _cell(text, look.foreground, look.background)


def _station_verdict(verdict: StationVerdict) -> str:
    title = f"{verdict.station_id}: {verdict.readiness.value}"
    if verdict.ready:
        return _banner(verdict.readiness, title, f"Ready to hand over: {_ALL_CLEAR}")
    return _banner(
        verdict.readiness,
        title,
        f"<b>Not ready to hand over:</b><br>{_reason_lines(verdict.reasons)}",
    )


def _station_section(
    report: StationReport,
    number: int,
    verdict: StationVerdict,
    problems: list[TraceProblem],
    urls: list[str],
    data: ReportData,
) -> list[str]:
    station = report.station
    # Each station starts a page: the technician can hand one station's pages over.
    out = [f"<h2 style='page-break-before: always'>Station {_e(station.station_id)}</h2>"]
    out.append(_station_verdict(verdict))
    if data.stored_in is not None:
        connection = "not known (made from the stored data)"
    else:
        connection = ("online" if station.connected else "offline") + (
            f" since {_time(station.state_since)}" if station.state_since else ""
        )
    identity = [
        ("Station id", station.station_id),
        ("Vendor", station.vendor),
        ("Model", station.model),
        ("Serial number", station.serial_number),
        ("Firmware", station.firmware_version),
        ("Registration", station.registration_status),
        ("Connection", connection),
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
    # Its URL, whole on one line (a URL broken over two lines gets typed wrong).
    url_cell = (
        "<td class='nowrap'>"
        + ("<br>".join(_e(url + station.station_id) for url in urls) or "—")
        + "</td>"
    )
    pairs.append(("<td><b>Connects to</b></td>", url_cell))
    rows = [
        [*pairs[i], *(pairs[i + 1] if i + 1 < len(pairs) else ("<td></td>", "<td></td>"))]
        for i in range(0, len(pairs), 2)
    ]
    out.append(_table(None, rows))
    out.extend(_connector_section(report))
    out.extend(_reservation_section(report))
    out.extend(_check_section(report, number))
    out.extend(_problem_section(problems))
    return out


def _connector_section(report: StationReport) -> list[str]:
    out = ["<h3>Connectors (last status)</h3>"]
    # Connector 0 is the station itself: shown when it stands in the way.
    shown = [
        c
        for c in sorted(report.connectors, key=lambda c: c.connector_id)
        if c.connector_id > 0 or c.status in _BLOCKING_STATUSES
    ]
    if not shown:
        out.append("<p class='muted'>No StatusNotification received.</p>")
        return out
    rows = []
    for connector in shown:
        look = connector_status_look(connector.status)
        rows.append(
            [
                _cell(
                    "0 (station)" if connector.connector_id == 0 else connector.connector_id,
                    nowrap=True,
                ),
                _cell(look.text, look.foreground, look.background),
                _cell(connector.error_code.value if connector.error_code else "—"),
                _cell(connector.info or connector.vendor_error_code or "—"),
                _cell(_time(connector.status_at)),
            ]
        )
    out.append(_table(["Connector", "Status", "Error code", "Info", "Since"], rows))
    return out


def _reservation_section(report: StationReport) -> list[str]:
    out = ["<h3>Reservation tests</h3>"]
    if not report.reservations:
        out.append("<p class='muted'>No reservation was tested.</p>")
        return out
    tested = report.tested_reservations
    if tested:
        out.append(
            f"<p>{_e(_plural(len(tested), 'reservation test'))}: "
            f"{_e(reservation_summary(tested))}.</p>"
        )
    records = sorted(report.reservations, key=lambda r: r.created_at)
    # One day for the whole table: a time on that day shows without its date.
    day = records[0].created_at
    out.append(
        f"<p class='muted'>Times in {_e(_zone(day))}, on "
        f"{_e(day.astimezone().strftime('%Y-%m-%d'))} unless a date is shown."
        + (
            " Rows marked (check) were made by the reservation check."
            if len(tested) < len(records)
            else ""
        )
        + "</p>"
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
                _cell(_reservation_detail(record, by_the_check(record, report.checks))),
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
            widths=[4, 5, 12, 7, 8, 7, 8, 14, 10, 7, 18],
            dense=True,
        )
    )
    return out


def _reservation_detail(record: ReservationRecord, by_check: bool) -> str:
    error = record.error or ""
    # The error text often starts with its code already ("NotSupported: …").
    code = record.error_code if record.error_code and record.error_code not in error else None
    parts = [
        f"transaction #{record.transaction_id}" if record.transaction_id is not None else None,
        code,
        error or None,
        "(check)" if by_check else None,
    ]
    return " — ".join(part for part in parts if part) or "—"


def _problem_section(problems: list[TraceProblem]) -> list[str]:
    out = ["<h3>Protocol problems seen</h3>"]
    if not problems:
        out.append("<p>None: no CALLERROR, invalid frame, refused connection or timeout.</p>")
        return out
    late = sum(1 for p in problems if p.kind is ProblemKind.LATE_ANSWER)
    out.append(
        f"<p>{_e(_plural(len(problems), 'problem'))}"
        + (f"; a call answered late counts once ({_plural(late, 'late answer')})" if late else "")
        + ".</p>"
    )
    rows = []
    for problem in problems[:MAX_PROBLEMS_LISTED]:
        colour = _WARNING[0] if problem.kind in _WARNING_KINDS else _ERROR[0]
        rows.append(
            [
                _cell(_time(problem.at), nowrap=True),
                _cell(problem.kind.value, colour, nowrap=True),
                _cell(problem.message_id or "—", nowrap=True),
                _cell(problem.text),
            ]
        )
    out.append(_table(["Time", "Kind", "Message id", "What"], rows, widths=[17, 13, 17, 53]))
    more = len(problems) - MAX_PROBLEMS_LISTED
    if more > 0:
        out.append(f"<p class='muted'>… and {more} more (see the trace export).</p>")
    return out


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
            f"<td bgcolor='{_ERROR[1]}' style='color:{_ERROR[0]}; font-weight:bold;'>"
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
                        _ERROR[0] if older.left_behind else None,
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


def _sign_off(data: ReportData, site: SiteVerdict) -> list[str]:
    """The block the technician and the site owner sign, restating the verdict."""
    blank = "_" * 40
    stations = ", ".join(report.station.station_id for report in data.stations) or "—"
    if site.ready:
        statement = (
            f"Verdict of this report: <b>{_e(site.readiness.value)}</b>. Every station "
            "listed is ready to hand over."
        )
    else:
        needing = ", ".join(v.station_id for v in site.needing_attention) or "—"
        statement = (
            f"Verdict of this report: <b>{_e(site.readiness.value)}</b> ({_e(needing)}). "
            "A station that needs attention is not ready to hand over: do not sign it off "
            "until its reasons are fixed and a new report reads Ready."
        )
    rows = [
        ("Technician", blank),
        ("Date", blank),
        ("Site name", data.site_name or blank),
        ("Stations", stations),
        ("Signature", blank),
    ]
    table_rows = "".join(
        f"<tr><td class='signline' width='20%' style='white-space: nowrap;'><b>{_e(name)}:</b>"
        f"</td><td class='signline'>{_e(value)}</td></tr>"
        for name, value in rows
    )
    return [
        "<h2>Sign-off</h2>",
        f"<p>{statement}</p>",
        f"<table border='0' cellspacing='0' cellpadding='4' width='70%'>{table_rows}</table>",
    ]
