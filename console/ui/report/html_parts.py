"""Pieces of the commissioning report's HTML (Qt's rich-text subset): escaping, times,
tables and cells, and the coloured box a verdict is shown in."""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import datetime

from console.central.verdict import Readiness, Reason, StationVerdict

__all__ = [
    "ALL_CLEAR",
    "ERROR",
    "MUTED",
    "READY",
    "VERDICT_COLOURS",
    "WARNING",
    "banner",
    "cell",
    "clock",
    "escape",
    "latency_text",
    "local_time",
    "plural",
    "reason_lines",
    "reason_text",
    "table",
    "verdict_cell",
    "zone",
]

# (text, background) pairs: the window's light-scheme colours, as the report is on paper.
ERROR = ("#a1141b", "#fde4e4")
WARNING = ("#7a5200", "#fdf1d8")
READY = ("#1d6b33", "#e3f4e8")
MUTED = "#5f6670"
VERDICT_COLOURS = {Readiness.READY: READY, Readiness.NEEDS_ATTENTION: ERROR}


def escape(value: object) -> str:
    """``value`` as HTML text (None: empty)."""
    return html.escape("" if value is None else str(value))


def local_time(moment: datetime | None) -> str:
    """A moment in full, in the laptop's time zone ("—" when unknown)."""
    if moment is None:
        return "—"
    local = moment.astimezone()
    return local.strftime("%Y-%m-%d %H:%M:%S %Z").strip()


def clock(moment: datetime | None, day_of: datetime | None) -> str:
    """A time in a table row: only the clock when it falls on the day of ``day_of``.

    Keeps the reservation table's time columns narrow enough not to wrap.
    """
    if moment is None:
        return "—"
    local = moment.astimezone()
    if day_of is not None and local.date() == day_of.astimezone().date():
        return local.strftime("%H:%M:%S")
    return local.strftime("%Y-%m-%d %H:%M:%S")


def zone(moment: datetime) -> str:
    """The name of the time zone ``moment`` is shown in."""
    local = moment.astimezone()
    return local.strftime("%Z").strip() or local.strftime("UTC%z")


def latency_text(seconds: float | None) -> str:
    """A latency in milliseconds ("—" when there was no answer)."""
    return "—" if seconds is None else f"{seconds * 1000:.0f} ms"


def plural(count: int, word: str) -> str:
    """E.g. "1 station", "2 stations"."""
    return f"{count} {word}{'' if count == 1 else 's'}"


_BANDED_ROW = "<tr bgcolor='#f5f7fa'>"


def table(
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
                f"<th width='{share}%'>{escape(text)}</th>"
                for text, share in zip(headers, widths, strict=True)
            )
            + "</tr></thead>"
        )
    elif headers:
        head = (
            "<thead><tr>"
            + "".join(f"<th>{escape(text)}</th>" for text in headers)
            + "</tr></thead>"
        )
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


def cell(
    text: object,
    colour: str | None = None,
    background: str | None = None,
    *,
    nowrap: bool = False,
) -> str:
    """A table cell holding ``text`` (escaped); ``nowrap`` keeps it on one line."""
    style = ""
    if colour:
        style += f"color:{colour};"
    attributes = f" bgcolor='{background}'" if background else ""
    if nowrap:
        attributes += " class='nowrap'"
    return f"<td{attributes} style='{style}'>{escape(text)}</td>"


def verdict_cell(verdict: StationVerdict) -> str:
    """A table cell with the verdict, in its colours."""
    colour, background = VERDICT_COLOURS[verdict.readiness]
    return (
        f"<td bgcolor='{background}' class='nowrap' style='color:{colour}; font-weight:bold;'>"
        f"{escape(verdict.readiness.value)}</td>"
    )


def reason_text(reason: Reason) -> str:
    """A reason, with since when (or when) in local time."""
    text = reason.text
    if reason.since is not None:
        text += f" since {local_time(reason.since)}"
    if reason.at is not None:
        text += f" (run {local_time(reason.at)})"
    return text


def reason_lines(reasons: Sequence[Reason]) -> str:
    """The reasons, one bulleted line each (HTML)."""
    return "<br>".join(f"• {escape(reason_text(r))}" for r in reasons)


def banner(readiness: Readiness, title: str, body: str) -> str:
    """A coloured box: the verdict in large letters, then what it rests on (HTML)."""
    colour, background = VERDICT_COLOURS[readiness]
    return (
        "<table border='0' cellspacing='0' cellpadding='6' width='100%'>"
        f"<tr><td bgcolor='{background}' class='verdict' style='color:{colour};'>"
        f"{escape(title)}</td></tr>"
        f"<tr><td bgcolor='{background}'>{body}</td></tr></table>"
    )


ALL_CLEAR = (
    "no Faulted or Unavailable connector, no refused reservation, the latest reservation "
    "check passed, no protocol problem."
)
