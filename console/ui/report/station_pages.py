"""A station's pages of the commissioning report: its verdict, identity and URL, each
connector's last status, every reservation test, its latest reservation conformance check
(identity at the time, the steps with verdict and reason, the connector timeline picture;
earlier checks in one line each), and the protocol problems the trace saw, one per exchange.
"""

from __future__ import annotations

from PySide6.QtGui import QImage

from console.central.model import ReservationRecord, StationSnapshot
from console.central.verdict import (
    ProblemKind,
    StationVerdict,
    TraceProblem,
    by_the_check,
    reservation_summary,
)
from console.ocpp.enums import ChargePointStatus
from console.ocpp.versions import OcppVersion
from console.ui.checks.check_steps_model import (
    format_duration,
    outcome_look,
    verdict_look,
    verdict_summary,
)
from console.ui.checks.check_timeline import timeline_image
from console.ui.look.presentation import (
    connector_status_look,
    reservation_detail_text,
    reservation_state_look,
)
from console.ui.report.html_parts import (
    ALL_CLEAR,
    ERROR,
    WARNING,
    banner,
    cell,
    clock,
    escape,
    latency_text,
    local_time,
    plural,
    reason_lines,
    table,
    zone,
)
from console.ui.report.report_model import ReportData, StationReport, ended_at

__all__ = [
    "MAX_PROBLEMS_LISTED",
    "TIMELINE_IMAGE_WIDTH",
    "TIMELINE_PRINT_WIDTH",
    "report_images",
    "station_pages",
]

MAX_PROBLEMS_LISTED = 200
"""Per station; beyond, the report says how many more there were."""

TIMELINE_IMAGE_WIDTH = 1000
"""Logical pixels of the timeline picture in the report (drawn twice as dense)."""
TIMELINE_PRINT_WIDTH = 740
"""Its width on the page, in points (the page is about 770 points wide)."""

_WARNING_KINDS = frozenset({ProblemKind.LATE_ANSWER, ProblemKind.NO_ANSWER})
_BLOCKING_STATUSES = frozenset({ChargePointStatus.FAULTED, ChargePointStatus.UNAVAILABLE})


def _station_verdict(verdict: StationVerdict) -> str:
    title = f"{verdict.station_id}: {verdict.readiness.value}"
    if verdict.ready:
        return banner(verdict.readiness, title, f"Ready to hand over: {ALL_CLEAR}")
    return banner(
        verdict.readiness,
        title,
        f"<b>Not ready to hand over:</b><br>{reason_lines(verdict.reasons)}",
    )


def station_pages(
    report: StationReport,
    number: int,
    verdict: StationVerdict,
    problems: list[TraceProblem],
    urls: list[str],
    data: ReportData,
) -> list[str]:
    """The HTML of a station's pages (``number``: its place in the report)."""
    station = report.station
    # Each station starts a page: the technician can hand one station's pages over.
    # The heading is the station id alone (readers find a station's pages by it); the
    # version is the identity's second line.
    out = [f"<h2 style='page-break-before: always'>Station {escape(station.station_id)}</h2>"]
    out.append(_station_verdict(verdict))
    if data.stored_in is not None:
        connection = "not known (made from the stored data)"
    else:
        connection = ("online" if station.connected else "offline") + (
            f" since {local_time(station.state_since)}" if station.state_since else ""
        )
    identity = [
        ("Station id", station.station_id),
        ("OCPP version", station.ocpp_version.value),
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
        ("Last message", local_time(station.last_message_at)),
        *_reservation_capability(station),
        ("Frames seen", report.frames_seen),
    ]
    out.append("<h3>Identity</h3>")
    # Two name/value pairs a row keeps a station's page short.
    pairs = [
        (f"<td><b>{escape(name)}</b></td>", cell(value if value not in (None, "") else "—"))
        for name, value in identity
    ]
    # Its URL, whole on one line (a URL broken over two lines gets typed wrong).
    url_cell = (
        "<td class='nowrap'>"
        + ("<br>".join(escape(url + station.station_id) for url in urls) or "—")
        + "</td>"
    )
    pairs.append(("<td><b>Connects to</b></td>", url_cell))
    rows = [
        [*pairs[i], *(pairs[i + 1] if i + 1 < len(pairs) else ("<td></td>", "<td></td>"))]
        for i in range(0, len(pairs), 2)
    ]
    out.append(table(None, rows))
    out.extend(_connector_section(report))
    out.extend(_reservation_section(report))
    out.extend(_check_section(report, number))
    out.extend(_problem_section(problems))
    return out


def _reservation_capability(station: StationSnapshot) -> list[tuple[str, str]]:
    """What the station said of reservations: 1.6 connector 0, 2.0.1 ReservationCtrlr."""
    if station.ocpp_version is OcppVersion.V201:
        return [
            ("ReservationCtrlr", _ctrlr_text(station)),
            ("Reserves any EVSE", _YES_NO[station.non_evse_specific]),
        ]
    return [("Reserves connector 0", _YES_NO[station.reserve_connector_zero_supported])]


_YES_NO = {True: "yes", False: "no", None: "unknown"}


def _ctrlr_text(station: StationSnapshot) -> str:
    return (
        f"enabled: {_YES_NO[station.reservations_enabled]}, "
        f"available: {_YES_NO[station.reservations_available]}"
    )


def _connector_section(report: StationReport) -> list[str]:
    if report.station.ocpp_version is OcppVersion.V201 or any(
        c.evse_id is not None for c in report.connectors
    ):
        return _evse_section(report)
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
                cell(
                    "0 (station)" if connector.connector_id == 0 else connector.connector_id,
                    nowrap=True,
                ),
                cell(look.text, look.foreground, look.background),
                cell(connector.error_code.value if connector.error_code else "—"),
                cell(connector.info or connector.vendor_error_code or "—"),
                cell(local_time(connector.status_at)),
            ]
        )
    out.append(table(["Connector", "Status", "Error code", "Info", "Since"], rows))
    return out


def _evse_section(report: StationReport) -> list[str]:
    """2.0.1: each EVSE's connectors, with their type."""
    out = ["<h3>EVSEs and connectors (last status)</h3>"]
    shown = sorted(
        (c for c in report.connectors if c.evse_id is not None),
        key=lambda c: (c.evse_id or 0, c.connector_id),
    )
    if not shown:
        out.append("<p class='muted'>No StatusNotification received.</p>")
        return out
    rows = []
    for connector in shown:
        look = connector_status_look(connector.status)
        rows.append(
            [
                cell(connector.evse_id, nowrap=True),
                cell(connector.connector_id, nowrap=True),
                cell(connector.connector_type.value if connector.connector_type else "—"),
                cell(look.text, look.foreground, look.background),
                cell(local_time(connector.status_at)),
            ]
        )
    out.append(table(["EVSE", "Connector", "Type", "Status", "Since"], rows))
    return out


def _reservation_section(report: StationReport) -> list[str]:
    out = ["<h3>Reservation tests</h3>"]
    if not report.reservations:
        out.append("<p class='muted'>No reservation was tested.</p>")
        return out
    tested = report.tested_reservations
    if tested:
        out.append(
            f"<p>{escape(plural(len(tested), 'reservation test'))}: "
            f"{escape(reservation_summary(tested))}.</p>"
        )
    records = sorted(report.reservations, key=lambda r: r.created_at)
    # One day for the whole table: a time on that day shows without its date.
    day = records[0].created_at
    out.append(
        f"<p class='muted'>Times in {escape(zone(day))}, on "
        f"{escape(day.astimezone().strftime('%Y-%m-%d'))} unless a date is shown."
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
                cell(record.reservation_id, nowrap=True),
                cell(_reserved_where(record), nowrap=True),
                cell(_token_text(record)),
                cell(clock(record.created_at, day), nowrap=True),
                cell(clock(record.answered_at, day), nowrap=True),
                cell(latency_text(record.latency), nowrap=True),
                # (2.0.1: the answer's statusInfo is in Detail: this column stays short)
                cell(
                    record.confirmation.value if record.confirmation else "no answer",
                    nowrap=True,
                ),
                cell(clock(record.expiry_date, day), nowrap=True),
                cell(look.text, look.foreground, look.background),
                cell(clock(ended_at(record), day), nowrap=True),
                cell(_reservation_detail(record, by_the_check(record, report.checks))),
            ]
        )
    out.append(
        table(
            [
                "Id",
                "Conn.",  # 2.0.1 rows say "EVSE n"
                "idTag / idToken",
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


def _reserved_where(record: ReservationRecord) -> str:
    """1.6: the connector; 2.0.1: "EVSE 2" / "any EVSE", with the connector type asked."""
    if record.ocpp_version is not OcppVersion.V201:
        return str(record.connector_id)
    where = "any EVSE" if record.connector_id == 0 else f"EVSE {record.connector_id}"
    return where + (f" {record.connector_type.value}" if record.connector_type else "")


def _token_text(record: ReservationRecord) -> str:
    """The idTag (1.6) or the idToken with its type (2.0.1), and the parent / group token."""
    token = record.id_tag
    if record.id_token_type is not None:
        token += f" ({record.id_token_type.value})"
    if record.parent_id_tag:
        label = "group" if record.ocpp_version is OcppVersion.V201 else "parent"
        kind = f" {record.group_id_token_type.value}" if record.group_id_token_type else ""
        token += f" ({label} {record.parent_id_tag}{kind})"
    return token


def _reservation_detail(record: ReservationRecord, by_check: bool) -> str:
    # The same words as the reservations table's Detail (its error, and what came of its
    # cancel), so the report and the window never tell two stories.
    parts = [
        f"transaction #{record.transaction_id}" if record.transaction_id is not None else None,
        reservation_detail_text(record) or None,
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
        f"<p>{escape(plural(len(problems), 'problem'))}"
        + (f"; a call answered late counts once ({plural(late, 'late answer')})" if late else "")
        + ".</p>"
    )
    rows = []
    for problem in problems[:MAX_PROBLEMS_LISTED]:
        colour = WARNING[0] if problem.kind in _WARNING_KINDS else ERROR[0]
        rows.append(
            [
                cell(local_time(problem.at), nowrap=True),
                cell(problem.kind.value, colour, nowrap=True),
                cell(problem.message_id or "—", nowrap=True),
                cell(problem.text),
            ]
        )
    out.append(table(["Time", "Kind", "Message id", "What"], rows, widths=[17, 13, 17, 53]))
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
            f"<td bgcolor='{ERROR[1]}' style='color:{ERROR[0]}; font-weight:bold;'>"
            f"⚠ RESERVATIONS LEFT BEHIND on the station: {escape(ids)}. The check could not "
            "cancel them; cancel them before handing the station over.</td></tr></table>"
        )
    when = local_time(check.started_at)
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
            value_cell = cell(
                look.text + (f" — {check.reason}" if check.reason else ""),
                look.foreground,
                look.background,
            )
        else:
            value_cell = cell(value if value not in (None, "") else "—")
        cells.append((f"<td><b>{escape(name)}</b></td>", value_cell))
    rows = [[*cells[i], *cells[i + 1]] for i in range(0, len(cells) - 1, 2)]
    out.append(table(None, rows, widths=None))
    now_firmware = report.station.firmware_version
    if check.firmware_version and now_firmware and check.firmware_version != now_firmware:
        out.append(
            f"<p class='muted'>The station ran firmware {escape(check.firmware_version)} during "
            f"this check; it reports {escape(now_firmware)} now.</p>"
        )
    if check.through_proxy:
        out.append(
            "<p class='muted'>Run through the proxy: the station stayed on the site's own "
            "CSMS, whose calls took turns with the check's.</p>"
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
                cell(step.number, nowrap=True),
                cell(f"{step.title} — {step.reference}"),
                cell("station" if step.connector_id is None else step.connector_id, nowrap=True),
                cell(verdict.text, verdict.foreground, verdict.background, nowrap=True),
                cell(" ".join(step.reason.split()) or "—"),
                cell(format_duration(step_seconds) or "—", nowrap=True),
            ]
        )
    out.append(
        table(
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
                    cell(local_time(older.started_at), nowrap=True),
                    cell(older_look.text, older_look.foreground, older_look.background),
                    cell(verdict_summary(older)),
                    cell(older.firmware_version or "—"),
                    cell(
                        ", ".join(str(i) for i in older.left_behind) if older.left_behind else "—",
                        ERROR[0] if older.left_behind else None,
                    ),
                ]
            )
        out.append(
            table(
                ["Started", "Outcome", "Steps", "Firmware", "Left behind"],
                rows,
                widths=[22, 12, 36, 15, 15],
            )
        )
    return out
