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

from console.central.check.model import CheckResult
from console.central.verdict import SiteVerdict, StationVerdict, TraceProblem, reservation_summary
from console.ui.checks.check_steps_model import outcome_look
from console.ui.report.html_parts import (
    ALL_CLEAR,
    ERROR,
    MUTED,
    banner,
    cell,
    clock,
    escape,
    local_time,
    plural,
    reason_lines,
    table,
    verdict_cell,
)
from console.ui.report.report_model import ReportData, StationReport
from console.ui.report.station_pages import report_images, station_pages

__all__ = ["report_html", "report_images", "report_title"]


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
        f"<html><head><title>{escape(report_title(data))}</title><style>{_CSS}</style></head><body>",
        f"<h1>{escape(heading)}</h1>",
    ]
    if data.site_name:
        out.append(f"<p class='site'><b>Site:</b> {escape(data.site_name)}</p>")
    out.append(_site_verdict(data, site))
    out.append(
        f"<p class='muted'>Generated {escape(local_time(data.generated_at))} by OCPP Console "
        f"{escape(data.version)}. Security profile {data.security_profile}.</p>"
    )
    if data.stored_in is not None:
        out.append(
            "<p class='muted'>Made from the data stored in the folder below, without the "
            "Central System running: connections are shown as last seen.</p>"
            f"<p class='nowrap'>{escape(data.stored_in)}</p>"
        )
    out.append(_station_urls(data.urls))
    out.append(_summary(data, verdicts, problems))
    for number, station_report in enumerate(data.stations):
        out.extend(
            station_pages(
                station_report, number, verdicts[number], problems[number], data.urls, data
            )
        )
    out.extend(_sign_off(data, site))
    out.append("</body></html>")
    return "\n".join(out)


def _site_verdict(data: ReportData, site: SiteVerdict) -> str:
    """The verdict the reader sees first: the site's, and why."""
    label = "Site verdict" if data.scope == "Site" else "Verdict"
    title = f"{label}: {site.readiness.value}"
    total = len(site.stations)
    if not total:
        return banner(site.readiness, title, "No station is in this report.")
    if site.ready:
        every = "The station is" if total == 1 else f"All {total} stations are"
        return banner(site.readiness, title, f"{every} ready: {ALL_CLEAR}")
    needing = site.needing_attention
    rows = "".join(
        f"<tr><td class='nowrap' width='9%'><b>{escape(verdict.station_id)}</b></td>"
        f"<td>{reason_lines(verdict.reasons)}</td></tr>"
        for verdict in needing
    )
    body = (
        f"<b>{len(needing)} of {plural(total, 'station')} "
        f"need{'s' if len(needing) == 1 else ''} attention.</b> "
        "Do not sign off a station that needs attention: fix what is listed, then make the "
        "report again."
        f"<table border='0' cellspacing='0' cellpadding='2' width='100%'>{rows}</table>"
    )
    return banner(site.readiness, title, body)


def _station_urls(urls: list[str]) -> str:
    """Where stations connect, one URL a line that never breaks."""
    if not urls:
        return "<p class='muted'>Stations connect to: —</p>"
    rows = "".join(
        f"<tr><td class='nowrap'>{escape(url)}&lt;station id&gt;</td></tr>" for url in urls
    )
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
            now = clock(station.last_message_at, data.generated_at)
        else:
            now = "online" if station.connected else "offline"
        rows.append(
            [
                cell(station.station_id, nowrap=True),
                cell(station.ocpp_version.value, nowrap=True),
                verdict_cell(verdict),
                cell(" ".join(filter(None, [station.vendor, station.model])) or "—"),
                cell(station.firmware_version or "—"),
                cell(now, nowrap=True),
                cell(sum(1 for c in report.connectors if c.connector_id > 0 or c.evse_id)),
                cell(_tests_text(report)),
                _check_summary_cell(report.latest_check),
                cell(
                    len(found),
                    ERROR[0] if found else None,
                    ERROR[1] if found else None,
                ),
            ]
        )
    return "<h2>Summary</h2>" + table(
        [
            "Station",
            "OCPP",
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
        widths=[8, 5, 13, 12, 9, 8, 5, 16, 15, 9],
    )


def _check_summary_cell(check: CheckResult | None) -> str:
    if check is None:
        return cell("not run", MUTED)
    look = outcome_look(check.outcome)
    failed = len(check.failed_steps)
    text = look.text + (f" ({failed} step{'s' if failed != 1 else ''})" if failed else "")
    if check.left_behind:
        text += " — reservations left behind"
    return cell(text, look.foreground, look.background)


def _sign_off(data: ReportData, site: SiteVerdict) -> list[str]:
    """The block the technician and the site owner sign, restating the verdict."""
    blank = "_" * 40
    stations = ", ".join(report.station.station_id for report in data.stations) or "—"
    if site.ready:
        statement = (
            f"Verdict of this report: <b>{escape(site.readiness.value)}</b>. Every station "
            "listed is ready to hand over."
        )
    else:
        needing = ", ".join(v.station_id for v in site.needing_attention) or "—"
        statement = (
            f"Verdict of this report: <b>{escape(site.readiness.value)}</b> ({escape(needing)}). "
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
        f"<tr><td class='signline' width='20%' style='white-space: nowrap;'><b>{escape(name)}:</b>"
        f"</td><td class='signline'>{escape(value)}</td></tr>"
        for name, value in rows
    )
    return [
        "<h2>Sign-off</h2>",
        f"<p>{statement}</p>",
        f"<table border='0' cellspacing='0' cellpadding='4' width='70%'>{table_rows}</table>",
    ]
