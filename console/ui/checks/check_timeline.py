"""The reservation check's connector timeline: status over time with the reservation spans.

One lane per connector of the check (connector 0 too when the station reported on it):
coloured status segments from the StatusNotifications, the reservations the check made as
labelled bars under them with a marker at each one's expiryDate, faint numbered marks where
each step began, and a time axis in seconds/minutes since the start with the wall clock at
both ends. Where steps follow each other within milliseconds the axis is broken
(:mod:`console.ui.checks.timeline_axis`): those stretches are widened, marked on the axis,
and the long quiet ones (the expiry wait) take what is left. The window's view also zooms.

One thing despite its length: the geometry, the painting and the tooltips are three views of
the same picture and share its private measures (margins, lane heights, label placement,
where the axis is broken); apart, each would have to export them to the others.

:func:`paint_timeline` draws it; the window's view
(:class:`console.ui.checks.timeline_view.CheckTimeline`, which also zooms) and the report's
(and the export's) :func:`timeline_image` both call it, so the picture is the same on screen and
on paper; the exported picture adds a heading (station, outcome) above it.
:func:`timeline_layout` gives the geometry without painting (hover tooltips, tests).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetricsF,
    QImage,
    QPainter,
    QPalette,
    QPen,
)

from console.central.check.model import (
    CheckResult,
    ReservationSpan,
    StatusPoint,
    StepResult,
    Verdict,
)
from console.ui.checks.check_list_model import connectors_text, identity_text
from console.ui.checks.check_steps_model import outcome_look, verdict_summary
from console.ui.checks.timeline_axis import Spread, TimeAxis, ZoomedStretch, broken_axis
from console.ui.look.presentation import format_latency

__all__ = [
    "MAX_ZOOM",
    "NO_STATUS_TEXT",
    "STATUS_COLOURS",
    "TimelineLayout",
    "TimelineLook",
    "image_font",
    "offset_text",
    "paint_timeline",
    "precise_offset_text",
    "status_colour",
    "timeline_image",
    "timeline_layout",
    "view_text",
]

NO_STATUS_TEXT = "no status reported yet"
"""What a lane (or the whole picture) says before the station sent any StatusNotification."""


@dataclass(frozen=True, slots=True)
class _StatusColour:
    fill: str
    text: str
    label: str


# One colour per status (the window's tints are too pale for thin bands, and several share
# one hue): mid-tone fills that read on a light and on a dark background alike.
STATUS_COLOURS: dict[str, _StatusColour] = {
    "Available": _StatusColour("#2e8b57", "#ffffff", "Available"),
    "Preparing": _StatusColour("#3b7dd8", "#ffffff", "Preparing"),
    "Charging": _StatusColour("#1d4f91", "#ffffff", "Charging"),
    "SuspendedEVSE": _StatusColour("#b7791f", "#ffffff", "Suspended (EVSE)"),
    "SuspendedEV": _StatusColour("#e2b04a", "#2b2100", "Suspended (EV)"),
    "Finishing": _StatusColour("#2b8a8a", "#ffffff", "Finishing"),
    "Reserved": _StatusColour("#7b3fc4", "#ffffff", "Reserved"),
    "Unavailable": _StatusColour("#7d848e", "#ffffff", "Unavailable"),
    "Faulted": _StatusColour("#c53030", "#ffffff", "Faulted"),
}
_OTHER_STATUS = _StatusColour("#a9a08c", "#1b1f24", "")


def status_colour(status: str) -> QColor:
    """The fill of a status segment (an unknown status gets a neutral one)."""
    return QColor(STATUS_COLOURS.get(status, _OTHER_STATUS).fill)


@dataclass(frozen=True, slots=True)
class TimelineLook:
    """The colours around the status segments: background, text, lines, the span bars."""

    background: str
    text: str
    muted: str
    grid: str
    lane: str
    step_mark: str
    span_fill: str
    span_border: str
    span_text: str
    left_behind: str
    expiry: str = "#d9480f"
    """The marker at a reservation's expiryDate."""
    zoomed: str = "#e8a33d"
    """The band under a widened stretch of the axis (where the axis is broken)."""

    @classmethod
    def paper(cls) -> TimelineLook:
        """For the printed report (and any light window)."""
        return cls(
            background="#ffffff",
            text="#1b1f24",
            muted="#5f6670",
            grid="#c9ced5",
            lane="#f3f5f7",
            step_mark="#9aa3ad",
            span_fill="#efe6fb",
            span_border="#7b3fc4",
            span_text="#3d1a6e",
            left_behind="#c53030",
        )

    @classmethod
    def dark(cls) -> TimelineLook:
        return cls(
            background="#181a1d",
            text="#e6e8eb",
            muted="#9aa1aa",
            grid="#3a3f45",
            lane="#22262a",
            step_mark="#5d6570",
            span_fill="#33224b",
            span_border="#b48ae8",
            span_text="#e3d4f7",
            left_behind="#ff6b6b",
            expiry="#ff922b",
            zoomed="#b7791f",
        )

    @classmethod
    def for_palette(cls, palette: QPalette) -> TimelineLook:
        """The look that suits a widget's palette: dark when its base is dark."""
        base = palette.color(QPalette.ColorRole.Base)
        look = cls.dark() if base.lightness() < 128 else cls.paper()
        return replace(
            look,
            background=base.name(),
            text=palette.color(QPalette.ColorRole.Text).name(),
        )


# --- geometry -------------------------------------------------------------------------------

_MARGIN = 6.0
_GUTTER_PAD = 10.0
_LANE_GAP = 6.0
_SPAN_GAP = 2.0
_SWATCH = 11.0
_LEGEND_SPACING = 14.0
_MIN_TICK_GAP = 18.0
_NICE_STEPS: tuple[float, ...] = (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5)
_NICE_STEPS += (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600)
_NICE_STEPS += (7200, 10800, 21600, 43200, 86400)
_STEP_LABEL_PAD = 6.0
"""A step number's label is its text plus this much."""
_STEP_GAP = 6.0
"""Pixels between the labels of two steps that the broken axis draws apart."""
_SHORT_THING = 4.0
"""The least width a status or a reservation gets from the broken axis (to be seen at all)."""
_EXPIRY_FLAG = 4.0
MAX_ZOOM = 1000.0
"""The window's view zooms in at most this far (a 20 s check: 50 px per ms on a laptop)."""


@dataclass(slots=True)
class Segment:
    """One status from its StatusNotification to the next one (or the end of the picture)."""

    rect: QRectF
    point: StatusPoint
    end: datetime
    open_end: bool
    """No later status: it lasted at least until the end of the picture."""


@dataclass(slots=True)
class SpanBar:
    rect: QRectF
    span: ReservationSpan
    left_behind: bool
    label: str = ""
    """"#id how it ended", or just "#id" where the longer one has no room (or nothing)."""
    label_rect: QRectF = field(default_factory=QRectF)
    """Inside the bar, or just after it when the bar is too short."""
    label_inside: bool = True
    expiry_x: float | None = None
    """Where its expiryDate is marked (None: unknown, or outside the picture)."""

    @property
    def expiry_rect(self) -> QRectF | None:
        """The marker's area (hover, tests)."""
        if self.expiry_x is None:
            return None
        return QRectF(
            self.expiry_x - _EXPIRY_FLAG,
            self.rect.top() - _EXPIRY_FLAG,
            2 * _EXPIRY_FLAG,
            self.rect.height() + 2 * _EXPIRY_FLAG,
        )


@dataclass(slots=True)
class StepMark:
    x: float
    label_rect: QRectF | None
    """Where its number is written (None: told by an earlier mark's label, close by)."""
    step: StepResult
    label: str = ""
    """"3", or "1-5" for steps that began too close together to be numbered one by one."""
    group: tuple[StepResult, ...] = ()
    """The steps the label stands for (its tooltip lists them)."""

    @property
    def failed(self) -> bool:
        return any(step.verdict is Verdict.FAILED for step in self.group)


@dataclass(slots=True)
class Lane:
    connector_id: int
    rect: QRectF
    """The whole lane (label gutter excluded)."""
    band: QRectF
    """Where its status segments are drawn."""
    label_rect: QRectF
    segments: list[Segment] = field(default_factory=list)
    spans: list[SpanBar] = field(default_factory=list)


@dataclass(slots=True)
class LegendItem:
    swatch: QRectF
    text_rect: QRectF
    text: str
    kind: str
    """A status value, or "span" for the reservation bar."""


@dataclass(slots=True)
class Tick:
    x: float
    text: str
    label_rect: QRectF | None = None
    """Where its text is written (None: no room beside the others)."""


@dataclass(slots=True)
class Break:
    """A widened stretch of a broken axis, where it is drawn (clipped to the view)."""

    stretch: ZoomedStretch
    left: float
    right: float


@dataclass(slots=True)
class Heading:
    """The exported picture's first lines: the station, the outcome, what was checked."""

    title: str
    title_rect: QRectF
    outcome: str
    outcome_rect: QRectF
    outcome_colours: tuple[str, str]
    """(text, fill) of the outcome's chip."""
    summary: str
    summary_rect: QRectF
    details: str
    details_rect: QRectF


@dataclass(slots=True)
class TimelineLayout:
    """Where every part of the picture goes (computed once per paint or hover)."""

    rect: QRectF
    start: datetime
    end: datetime
    plot_left: float
    plot_right: float
    height: float
    """The height the picture needs (from rect.top())."""
    axis: TimeAxis | None = None
    """Where each moment goes along the whole (zoomed) plot; None until laid out."""
    zoom: float = 1.0
    """The whole plot is this many times wider than the view (the window zooms)."""
    pan: float = 0.0
    """Pixels of the zoomed plot scrolled out on the left."""
    legend: list[LegendItem] = field(default_factory=list)
    lanes: list[Lane] = field(default_factory=list)
    steps: list[StepMark] = field(default_factory=list)
    ticks: list[Tick] = field(default_factory=list)
    axis_y: float = 0.0
    tick_label_y: float = 0.0
    clock_y: float = 0.0
    step_row: QRectF = field(default_factory=QRectF)
    breaks: list[Break] = field(default_factory=list)
    heading: Heading | None = None
    empty: bool = False
    running: bool = False

    def x_of(self, moment: datetime) -> float:
        """The x of a moment (clamped to the plot)."""
        return min(self.plot_right, max(self.plot_left, self.unclamped_x(moment)))

    def unclamped_x(self, moment: datetime) -> float:
        """The x of a moment on the zoomed plot (left or right of the view when outside)."""
        seconds = (_aware(moment) - self.start).total_seconds()
        if self.axis is None:
            total = (self.end - self.start).total_seconds()
            share = min(1.0, max(0.0, seconds / total)) if total > 0 else 0.0
            return self.plot_left + share * (self.plot_right - self.plot_left)
        return self.plot_left - self.pan + self.axis.position(seconds)

    def moment_at(self, x: float) -> datetime:
        """The moment drawn at ``x`` (clamped to the picture's time range)."""
        if self.axis is None:
            return self.start
        seconds = self.axis.seconds_at(x - self.plot_left + self.pan)
        return self.start + timedelta(seconds=seconds)

    @property
    def view_width(self) -> float:
        return self.plot_right - self.plot_left

    def lane(self, connector_id: int) -> Lane | None:
        return next((lane for lane in self.lanes if lane.connector_id == connector_id), None)

    def tooltip_at(self, position: QPointF) -> str | None:
        """What is under ``position``: a reservation, a step, a status; None if nothing."""
        for lane in self.lanes:
            for bar in lane.spans:
                marker = bar.expiry_rect
                if bar.rect.adjusted(-2, -2, 2, 2).contains(position) or (
                    marker is not None and marker.contains(position)
                ):
                    return _span_tooltip(bar, self.running)
        for mark in self.steps:
            if mark.label_rect is not None and mark.label_rect.adjusted(-3, -2, 3, 2).contains(
                position
            ):
                return "\n".join(_step_tooltip(step) for step in mark.group)
        for lane in self.lanes:
            for segment in lane.segments:
                if segment.rect.contains(position):
                    return _segment_tooltip(lane.connector_id, segment, self.running)
        for item in self.legend:
            if item.swatch.united(item.text_rect).contains(position):
                return _legend_tooltip(item)
        if self.axis_y - 6 <= position.y() <= self.clock_y:
            for piece in self.breaks:
                if piece.left - 3 <= position.x() <= piece.right + 3:
                    return _break_tooltip(piece.stretch, self.axis)
        return None


def _aware(moment: datetime) -> datetime:
    # A result read from somewhere naive is UTC (everything inside the console is aware).
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _time_range(result: CheckResult) -> tuple[datetime, datetime]:
    moments = [_aware(result.started_at)]
    if result.finished_at is not None:
        moments.append(_aware(result.finished_at))
    moments.extend(_aware(point.at) for point in result.statuses)
    for span in result.spans:
        moments.append(_aware(span.start))
        if span.end is not None:
            moments.append(_aware(span.end))
    for step in result.steps:
        moments.extend(_aware(m) for m in (step.started_at, step.finished_at) if m is not None)
        moments.extend(_aware(entry.at) for entry in step.evidence)
    # The picture starts when the check did: a status reported before (the connector's state
    # when the check began) is drawn from the start; "0 s" is the check's first moment.
    start = _aware(result.started_at)
    end = max(moments)
    if (end - start).total_seconds() < 1:
        end = start + timedelta(seconds=1)
    return start, end


def _lane_ids(result: CheckResult) -> list[int]:
    ids = {c for c in result.connectors if c != 0}
    ids.update(point.connector_id for point in result.statuses)
    ids.update(span.connector_id for span in result.spans)
    if 0 in result.connectors and any(s.connector_id == 0 for s in result.steps):
        ids.add(0)  # the check reserved connector 0: its lane says what came of it
    return sorted(ids)


def _span_rows(spans: Iterable[ReservationSpan], end: datetime) -> list[list[ReservationSpan]]:
    """Overlapping reservations (a replaced one and its successor) go on separate rows."""
    rows: list[list[ReservationSpan]] = []
    row_ends: list[datetime] = []
    for span in sorted(spans, key=lambda s: (_aware(s.start), s.reservation_id)):
        start = _aware(span.start)
        stop = max(start, _aware(span.end) if span.end is not None else end)
        for number, row_end in enumerate(row_ends):
            if start >= row_end:
                rows[number].append(span)
                row_ends[number] = stop
                break
        else:
            rows.append([span])
            row_ends.append(stop)
    return rows


def _numbers_text(steps: Iterable[StepResult]) -> str:
    """The step numbers, runs shortened: "1\u20135,7"."""
    numbers = sorted({step.number for step in steps})
    runs: list[list[int]] = []
    for number in numbers:
        if runs and number == runs[-1][-1] + 1:
            runs[-1].append(number)
        else:
            runs.append([number])
    return ",".join(
        f"{run[0]}\u2013{run[-1]}" if len(run) > 2 else ",".join(map(str, run)) for run in runs
    )


def _label_mark(
    mark: StepMark, metrics: QFontMetricsF, line: float, top: float, limit: float
) -> None:
    mark.label = _numbers_text(mark.group)
    width = metrics.horizontalAdvance(mark.label) + 6
    left = min(mark.x - width / 2, limit - width)
    mark.label_rect = QRectF(left, top, width, line)


def _nice_step(total_seconds: float, max_ticks: int) -> float:
    max_ticks = max(1, max_ticks)
    for nice in _NICE_STEPS:
        if total_seconds / nice <= max_ticks:
            return float(nice)
    # Longer than days: 1, 2, 5, 10, 20, 50... days.
    days = 1.0
    factors = (2.0, 2.5, 2.0)
    turn = 0
    while total_seconds / (days * 86400) > max_ticks:
        days *= factors[turn % 3]
        turn += 1
    return days * 86400


def offset_text(seconds: float) -> str:
    """A time since the start, short: "45 s", "2 min", "2:30 min", "1 h 05", "3 d"."""
    whole = round(seconds)
    if whole < 60:
        return f"{whole} s"
    if whole < 3600:
        minutes, rest = divmod(whole, 60)
        return f"{minutes} min" if rest == 0 else f"{minutes}:{rest:02d} min"
    if whole < 2 * 86400:
        hours, rest = divmod(whole, 3600)
        return f"{hours} h" if rest == 0 else f"{hours} h {rest // 60:02d}"
    return f"{whole / 86400:g} d"


def _clock_text(moment: datetime, with_date: bool) -> str:
    local = moment.astimezone()
    return local.strftime("%Y-%m-%d %H:%M:%S" if with_date else "%H:%M:%S")


def precise_offset_text(seconds: float) -> str:
    """A time since the start to the millisecond: "0.2 ms", "31 ms", "20.245 s", "1:20.5 min"."""
    if seconds <= 0:
        return "0 s"
    if seconds < 0.01:
        return f"{seconds * 1000:.1f} ms"
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 60:
        return f"{seconds:.3f}".rstrip("0").rstrip(".") + " s"
    minutes, rest = divmod(seconds, 60)
    return f"{int(minutes)}:" + f"{rest:06.3f}".rstrip("0").rstrip(".") + " min"


def _tick_text(seconds: float, step: float) -> str:
    if step >= 1 or seconds == 0:
        return offset_text(seconds)
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    decimals = 1 if step >= 0.1 else 2 if step >= 0.01 else 3
    if seconds < 60:
        return f"{seconds:.{decimals}f} s"
    minutes, rest = divmod(seconds, 60)
    return f"{int(minutes)}:{rest:0{3 + decimals}.{decimals}f} min"


def _expiry_in(span: ReservationSpan, start: datetime, end: datetime) -> datetime | None:
    """The span's expiryDate, if it falls within the picture (else nothing to mark)."""
    if span.expiry is None:
        return None
    expiry = _aware(span.expiry)
    return expiry if start <= expiry <= end else None


def _legend_kinds(result: CheckResult, start: datetime, end: datetime) -> list[str]:
    present = {point.status for point in result.statuses}
    kinds = [status for status in STATUS_COLOURS if status in present]
    kinds.extend(sorted(present - set(STATUS_COLOURS)))
    if result.spans:
        kinds.append("span")
    if any(_expiry_in(span, start, end) is not None for span in result.spans):
        kinds.append("expiry")
    return kinds


_LEGEND_TEXTS = {"span": "reservation (id, how it ended)", "expiry": "its expiryDate"}


def _axis_for(
    result: CheckResult, start: datetime, end: datetime, width: float, metrics: QFontMetricsF
) -> TimeAxis:
    """The axis: linear, or broken so that each step's number and each short status or
    reservation can be told apart (:mod:`console.ui.checks.timeline_axis`)."""

    def since(moment: datetime) -> float:
        return (_aware(moment) - start).total_seconds()

    moments: list[float] = []
    spreads: list[Spread] = []
    begun = sorted(
        (since(step.started_at), step.number) for step in result.steps if step.started_at
    )
    for (before, first), (after, second) in itertools.pairwise(begun):
        labels = metrics.horizontalAdvance(str(first)) + metrics.horizontalAdvance(str(second))
        spreads.append(Spread(before, after, labels / 2 + _STEP_LABEL_PAD + _STEP_GAP))
    total = (end - start).total_seconds()
    for step in result.steps:
        moments.extend(since(m) for m in (step.started_at, step.finished_at) if m is not None)
    by_connector: dict[int, list[float]] = {}
    for point in result.statuses:
        by_connector.setdefault(point.connector_id, []).append(since(point.at))
    for times in by_connector.values():
        times.sort()
        moments.extend(times)
        for begin, stop in zip(times, [*times[1:], total], strict=True):
            spreads.append(Spread(begin, stop, _SHORT_THING))
    for span in result.spans:
        begin = since(span.start)
        stop = since(span.end) if span.end is not None else total
        moments.extend((begin, stop))
        spreads.append(Spread(begin, stop, _SHORT_THING))
        expiry = _expiry_in(span, start, end)
        if expiry is not None:
            moments.append(since(expiry))
    return broken_axis(total, width, moments, spreads)


def _place_ticks(
    layout: TimelineLayout, axis: TimeAxis, metrics: QFontMetricsF, line: float
) -> None:
    """Ticks at round times since the start, and at both ends of each widened stretch
    (written to the millisecond: the round ones would not say what the stretch holds)."""
    widest = metrics.horizontalAdvance("00:00 min") + _MIN_TICK_GAP
    total = axis.total
    step = _nice_step(total, int(total * axis.scale // widest)) if total > 0 else 1.0
    candidates: list[tuple[float, str]] = []
    for piece in layout.breaks:
        stretch = piece.stretch
        for seconds in (stretch.start, stretch.end):
            if seconds > 0:
                candidates.append((seconds, precise_offset_text(seconds)))
    count = int(total // step + 1e-9) if total > 0 else 0
    candidates.extend(
        (number * step, _tick_text(number * step, step)) for number in range(count + 1)
    )
    taken: list[QRectF] = []
    low = layout.rect.left() + _MARGIN
    for seconds, text in candidates:
        x = layout.unclamped_x(layout.start + timedelta(seconds=seconds))
        if x < layout.plot_left - 0.5 or x > layout.plot_right + 0.5:
            continue
        if any(abs(tick.x - x) < 0.5 for tick in layout.ticks):
            continue  # a round time at a stretch's end: written once
        width = metrics.horizontalAdvance(text) + 1
        left = max(low, min(x - width / 2, layout.plot_right - width))
        label = QRectF(left, layout.tick_label_y, width, line)
        free = not any(label.adjusted(-4, 0, 4, 0).intersects(other) for other in taken)
        if free:
            taken.append(label)
        layout.ticks.append(Tick(x, text, label if free else None))
    layout.ticks.sort(key=lambda tick: tick.x)


def _heading(
    result: CheckResult, rect: QRectF, y: float, font: QFont, look_dark: bool
) -> tuple[Heading, float]:
    """The exported picture's heading at ``y``: the lines and where the next part starts."""
    metrics = QFontMetricsF(font)
    bold = QFont(font)
    bold.setBold(True)
    bold_metrics = QFontMetricsF(bold)
    line = max(metrics.height(), bold_metrics.height())
    left = rect.left() + _MARGIN
    right = rect.right() - _MARGIN
    title = f"Reservation check of {result.station_id}"
    title_width = min(bold_metrics.horizontalAdvance(title) + 1, max(10.0, right - left))
    title_rect = QRectF(left, y, title_width, line)
    outcome = outcome_look(result.outcome)
    chip_text = outcome.text.upper()
    chip_left = title_rect.right() + 10
    chip_rect = QRectF(chip_left, y, bold_metrics.horizontalAdvance(chip_text) + 12, line)
    colours = (
        (outcome.dark_foreground, outcome.dark_background)
        if look_dark
        else (outcome.foreground, outcome.background)
    )
    summary_rect = QRectF(chip_rect.right() + 10, y, max(0.0, right - chip_rect.right() - 10), line)
    identity = identity_text(result)
    started = _aware(result.started_at).astimezone().strftime("%Y-%m-%d %H:%M:%S")
    details = " · ".join(
        part
        for part in (
            identity if identity != "—" else None,
            f"firmware {result.firmware_version}" if result.firmware_version else None,
            f"started {started}",
            f"idTag {result.id_tag}",
            f"connector{'s' if len(result.connectors) != 1 else ''} {connectors_text(result)}",
            result.reason or None,
        )
        if part
    )
    details_rect = QRectF(left, y + line + 2, max(10.0, right - left), metrics.height())
    heading = Heading(
        title,
        title_rect,
        chip_text,
        chip_rect,
        colours,
        verdict_summary(result),
        summary_rect,
        details,
        details_rect,
    )
    return heading, details_rect.bottom() + 8


def timeline_layout(
    rect: QRectF,
    result: CheckResult,
    font: QFont,
    *,
    zoom: float = 1.0,
    pan: float = 0.0,
    heading: bool = False,
    dark: bool = False,
) -> TimelineLayout:
    """The geometry of the picture of ``result`` in ``rect`` (top-down; height as needed).

    ``zoom``: the plot is drawn that many times wider than ``rect`` allows, ``pan`` pixels
    of it scrolled out on the left (the window's zoomed view). ``heading``: the station,
    outcome and what was checked first (the exported picture; ``dark``: its colours).
    """
    metrics = QFontMetricsF(font)
    line = metrics.height()
    start, end = _time_range(result)
    lane_ids = _lane_ids(result)
    gutter = max(
        [metrics.horizontalAdvance(f"Connector {c}") for c in lane_ids]
        or [metrics.horizontalAdvance("Connector 1")]
    )
    plot_left = rect.left() + _MARGIN + gutter + _GUTTER_PAD
    right_pad = metrics.horizontalAdvance("00:00:00") / 2 + _MARGIN
    plot_right = max(plot_left + 10.0, rect.right() - right_pad)
    zoom = min(MAX_ZOOM, max(1.0, zoom if math.isfinite(zoom) else 1.0))
    whole_width = (plot_right - plot_left) * zoom
    pan = min(whole_width - (plot_right - plot_left), max(0.0, pan if math.isfinite(pan) else 0))
    layout = TimelineLayout(
        rect=QRectF(rect),
        start=start,
        end=end,
        plot_left=plot_left,
        plot_right=plot_right,
        height=0.0,
        zoom=zoom,
        pan=pan,
        running=result.finished_at is None,
    )
    y = rect.top() + _MARGIN
    if heading:
        layout.heading, y = _heading(result, rect, y, font, dark)
    if not lane_ids and not result.statuses:
        layout.empty = True
        layout.height = y - rect.top() + _MARGIN + line * 3
        return layout
    axis = _axis_for(result, start, end, whole_width, metrics)
    layout.axis = axis

    # Legend: the statuses this picture holds, then the reservation bar; wraps if need be.
    x = rect.left() + _MARGIN
    for kind in _legend_kinds(result, start, end):
        text = _LEGEND_TEXTS.get(kind) or (
            STATUS_COLOURS[kind].label if kind in STATUS_COLOURS else kind
        )
        width = _SWATCH + 4 + metrics.horizontalAdvance(text)
        if x > rect.left() + _MARGIN and x + width > rect.right() - _MARGIN:
            x = rect.left() + _MARGIN
            y += line + 2
        swatch = QRectF(x, y + (line - _SWATCH) / 2, _SWATCH, _SWATCH)
        text_rect = QRectF(x + _SWATCH + 4, y, metrics.horizontalAdvance(text) + 1, line)
        layout.legend.append(LegendItem(swatch, text_rect, text, kind))
        x += width + _LEGEND_SPACING
    if layout.legend:
        y += line + 6

    # Step numbers above the lanes.
    layout.step_row = QRectF(plot_left, y, plot_right - plot_left, line)
    y += line + 2
    band_height = max(line + 6, 20.0)
    span_height = line + 4
    for connector_id in lane_ids:
        spans = [s for s in result.spans if s.connector_id == connector_id]
        rows = _span_rows(spans, end)
        height = _LANE_GAP / 2 + band_height + len(rows) * (span_height + _SPAN_GAP) + _LANE_GAP
        lane_rect = QRectF(plot_left, y, plot_right - plot_left, height)
        band = QRectF(plot_left, y + _LANE_GAP / 2, plot_right - plot_left, band_height)
        label = QRectF(rect.left() + _MARGIN, band.top(), gutter, band_height)
        lane = Lane(connector_id, lane_rect, band, label)
        points = sorted(
            (p for p in result.statuses if p.connector_id == connector_id),
            key=lambda p: _aware(p.at),
        )
        for number, point in enumerate(points):
            following = points[number + 1] if number + 1 < len(points) else None
            stop = _aware(following.at) if following is not None else end
            left = layout.x_of(point.at)
            right = layout.x_of(stop)
            if zoom > 1 and right <= left and not plot_left < left < plot_right:
                continue  # out of the zoomed view
            lane.segments.append(
                Segment(
                    QRectF(left, band.top(), max(0.0, right - left), band.height()),
                    point,
                    stop,
                    following is None,
                )
            )
        left_behind = set(result.left_behind)
        row_top = band.bottom() + _SPAN_GAP
        for row in rows:
            bars = []
            for span in row:
                bar = _span_bar(layout, span, end, row_top, span_height, left_behind)
                if bar is not None:
                    bars.append(bar)
            _place_span_labels(bars, plot_left, rect.right() - _MARGIN, metrics)
            lane.spans.extend(bars)
            row_top += span_height + _SPAN_GAP
        layout.lanes.append(lane)
        y += height
    lanes_bottom = y

    # Step boundaries: a line at each step's start. Steps that began too close together to
    # be numbered one by one (on a narrow picture even the broken axis cannot part them)
    # share one label.
    open_mark: StepMark | None = None
    limit = rect.right() - _MARGIN
    for step in sorted(
        (s for s in result.steps if s.started_at is not None),
        key=lambda s: (_aware(s.started_at), s.number),  # type: ignore[arg-type]
    ):
        assert step.started_at is not None
        mark_x = layout.unclamped_x(step.started_at)
        if mark_x < plot_left - 0.5 or mark_x > plot_right + 0.5:
            continue  # out of the zoomed view
        mark = StepMark(layout.x_of(step.started_at), None, step)
        layout.steps.append(mark)
        if open_mark is not None and open_mark.label_rect is not None:
            room = metrics.horizontalAdvance(str(step.number)) / 2 + 4
            if mark.x - room < open_mark.label_rect.right():
                open_mark.group += (step,)
                _label_mark(open_mark, metrics, line, layout.step_row.top(), limit)
                continue
        mark.group = (step,)
        _label_mark(mark, metrics, line, layout.step_row.top(), limit)
        open_mark = mark

    # The axis: ticks at a round number of seconds/minutes since the start, and the
    # widened stretches where it is broken.
    layout.axis_y = lanes_bottom + 2
    layout.tick_label_y = layout.axis_y + 4
    for stretch in axis.stretches:
        left = plot_left - pan + stretch.left
        right = plot_left - pan + stretch.right
        if right >= plot_left and left <= plot_right:
            layout.breaks.append(Break(stretch, max(plot_left, left), min(plot_right, right)))
    _place_ticks(layout, axis, metrics, line)
    layout.clock_y = layout.tick_label_y + line
    layout.height = layout.clock_y + line + _MARGIN - rect.top()
    return layout


def _span_bar(
    layout: TimelineLayout,
    span: ReservationSpan,
    end: datetime,
    top: float,
    height: float,
    left_behind: set[int],
) -> SpanBar | None:
    """The bar of one reservation in the view (None: zoomed out of it)."""
    left = layout.unclamped_x(span.start)
    right = layout.unclamped_x(span.end if span.end is not None else end)
    right = max(right, left + 3.0)  # a reservation of a millisecond is still seen
    if right < layout.plot_left or left > layout.plot_right:
        return None
    left = min(layout.plot_right - 3.0, max(layout.plot_left, left))
    right = min(layout.plot_right, max(left + 3.0, right))
    bar = SpanBar(QRectF(left, top, right - left, height), span, span.reservation_id in left_behind)
    expiry = _expiry_in(span, layout.start, end)
    if expiry is not None:
        x = layout.unclamped_x(expiry)
        if layout.plot_left - 0.5 <= x <= layout.plot_right + 0.5:
            bar.expiry_x = x
    return bar


# --- painting -------------------------------------------------------------------------------


def paint_timeline(
    painter: QPainter,
    rect: QRectF,
    result: CheckResult | None,
    look: TimelineLook,
    *,
    zoom: float = 1.0,
    pan: float = 0.0,
    heading: bool = False,
) -> TimelineLayout | None:
    """Paint the timeline of ``result`` into ``rect`` with ``painter``'s font.

    ``zoom``, ``pan`` and ``heading`` as :func:`timeline_layout` takes them. Returns the
    layout painted (None when there is no result at all).
    """
    painter.save()
    try:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.fillRect(rect, QColor(look.background))
        font = painter.font()
        if result is None:
            _centered_text(painter, rect, "No check selected", look.muted)
            return None
        layout = timeline_layout(
            rect, result, font, zoom=zoom, pan=pan, heading=heading, dark=_is_dark(look)
        )
        if layout.heading is not None:
            _paint_heading(painter, layout.heading, look, font)
        if layout.empty:
            below = layout.heading.details_rect.bottom() if layout.heading else rect.top()
            _centered_text(
                painter,
                QRectF(rect.left(), below, rect.width(), rect.bottom() - below),
                NO_STATUS_TEXT,
                look.muted,
            )
            return layout
        metrics = QFontMetricsF(font)
        _paint_legend(painter, layout, look)
        for lane in layout.lanes:
            _paint_lane(painter, lane, look, metrics)
        _paint_steps(painter, layout, look)
        for lane in layout.lanes:
            _paint_spans(painter, lane, look, metrics)
        _paint_axis(painter, layout, look, metrics)
        return layout
    finally:
        painter.restore()


def _centered_text(painter: QPainter, rect: QRectF, text: str, colour: str) -> None:
    painter.setPen(QColor(colour))
    painter.drawText(rect, int(Qt.AlignmentFlag.AlignCenter), text)


def _is_dark(look: TimelineLook) -> bool:
    return QColor(look.background).lightness() < 128


def _paint_heading(painter: QPainter, heading: Heading, look: TimelineLook, font: QFont) -> None:
    left_middle = int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
    bold = QFont(font)
    bold.setBold(True)
    painter.setFont(bold)
    bold_metrics = QFontMetricsF(bold)
    painter.setPen(QColor(look.text))
    title = bold_metrics.elidedText(
        heading.title, Qt.TextElideMode.ElideRight, heading.title_rect.width()
    )
    painter.drawText(heading.title_rect, left_middle, title)
    text_colour, fill = heading.outcome_colours
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor(fill))
    painter.drawRoundedRect(heading.outcome_rect, 3, 3)
    painter.setPen(QColor(text_colour))
    painter.drawText(heading.outcome_rect, int(Qt.AlignmentFlag.AlignCenter), heading.outcome)
    painter.setFont(font)
    metrics = QFontMetricsF(font)
    painter.setPen(QColor(look.text))
    painter.drawText(
        heading.summary_rect,
        left_middle,
        metrics.elidedText(
            heading.summary, Qt.TextElideMode.ElideRight, heading.summary_rect.width()
        ),
    )
    painter.setPen(QColor(look.muted))
    painter.drawText(
        heading.details_rect,
        left_middle,
        metrics.elidedText(
            heading.details, Qt.TextElideMode.ElideRight, heading.details_rect.width()
        ),
    )


def _paint_legend(painter: QPainter, layout: TimelineLayout, look: TimelineLook) -> None:
    for item in layout.legend:
        if item.kind == "span":
            painter.setPen(QPen(QColor(look.span_border), 1))
            painter.setBrush(QColor(look.span_fill))
            painter.drawRoundedRect(item.swatch.adjusted(0, 2, 0, -2), 2, 2)
        elif item.kind == "expiry":
            _paint_expiry_marker(
                painter, item.swatch.center().x(), item.swatch.adjusted(0, 2, 0, -2), look
            )
        else:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(status_colour(item.kind))
            painter.drawRoundedRect(item.swatch, 2, 2)
        painter.setPen(QColor(look.text))
        painter.drawText(
            item.text_rect,
            int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter),
            item.text,
        )


def _paint_lane(painter: QPainter, lane: Lane, look: TimelineLook, metrics: QFontMetricsF) -> None:
    painter.setPen(QColor(look.text))
    painter.drawText(
        lane.label_rect,
        int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter),
        f"Connector {lane.connector_id}",
    )
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor(look.lane))
    painter.drawRect(lane.band)
    if not lane.segments:
        painter.setPen(QColor(look.muted))
        painter.drawText(
            lane.band.adjusted(6, 0, -6, 0),
            int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter),
            NO_STATUS_TEXT,
        )
    for segment in lane.segments:
        colours = STATUS_COLOURS.get(segment.point.status, _OTHER_STATUS)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(colours.fill))
        painter.drawRect(segment.rect)
        label = colours.label or segment.point.status
        room = segment.rect.width() - 6
        if room >= metrics.horizontalAdvance("Res…"):
            text = metrics.elidedText(label, Qt.TextElideMode.ElideRight, room)
            painter.setPen(QColor(colours.text))
            painter.drawText(
                segment.rect.adjusted(3, 0, -3, 0),
                int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter),
                text,
            )
        # A thin divider shows two notifications of the same status one after the other.
        painter.setPen(QPen(QColor(look.background), 1))
        painter.drawLine(segment.rect.topLeft(), segment.rect.bottomLeft())
    painter.setPen(QPen(QColor(look.grid), 1))
    painter.drawLine(
        QPointF(lane.rect.left(), lane.rect.bottom()),
        QPointF(lane.rect.right(), lane.rect.bottom()),
    )


def _paint_spans(painter: QPainter, lane: Lane, look: TimelineLook, metrics: QFontMetricsF) -> None:
    for bar in lane.spans:
        border = look.left_behind if bar.left_behind else look.span_border
        painter.setPen(QPen(QColor(border), 2 if bar.left_behind else 1))
        painter.setBrush(QColor(look.span_fill))
        painter.drawRoundedRect(bar.rect, 3, 3)
        if bar.span.end is None:
            # Still held: an arrow head says it goes on past the picture's end.
            tip = QPointF(bar.rect.right(), bar.rect.center().y())
            painter.setBrush(QColor(border))
            painter.drawPolygon([tip, tip + QPointF(-6, -4), tip + QPointF(-6, 4)])
        if bar.label:
            colour = look.left_behind if bar.left_behind else look.span_text
            painter.setPen(QColor(colour if bar.label_inside else look.text))
            painter.drawText(
                bar.label_rect,
                int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter),
                bar.label,
            )
        if bar.expiry_x is not None:
            _paint_expiry_marker(painter, bar.expiry_x, bar.rect, look)


def _paint_expiry_marker(painter: QPainter, x: float, around: QRectF, look: TimelineLook) -> None:
    """A line across the bar at its expiryDate, a flag on top (a timer running out)."""
    colour = QColor(look.expiry)
    top = around.top() - _EXPIRY_FLAG + 1
    painter.setPen(QPen(colour, 2))
    painter.drawLine(QPointF(x, top), QPointF(x, around.bottom() + 2))
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(colour)
    painter.drawPolygon(
        [
            QPointF(x - _EXPIRY_FLAG, top - 1),
            QPointF(x + _EXPIRY_FLAG, top - 1),
            QPointF(x, top + _EXPIRY_FLAG),
        ]
    )


def _span_labels(span: ReservationSpan, left_behind: bool) -> list[str]:
    ended = "LEFT BEHIND" if left_behind else (span.ended_by or "held")
    return [f"#{span.reservation_id} {ended}", f"#{span.reservation_id}"]


def _place_span_labels(
    row: list[SpanBar], lower: float, limit: float, metrics: QFontMetricsF
) -> None:
    """Write each bar's label inside it, or after it up to the next bar of its row (the
    last one, at the picture's end: before it)."""
    for number, bar in enumerate(row):
        room_after = (row[number + 1].rect.left() if number + 1 < len(row) else limit) - (
            bar.rect.right() + 4
        )
        previous_end = lower
        if number > 0:
            before = row[number - 1]
            previous_end = max(
                before.rect.right(), before.label_rect.right() if before.label else lower
            )
        for text in _span_labels(bar.span, bar.left_behind):
            width = metrics.horizontalAdvance(text) + 1
            if width <= bar.rect.width() - 8:
                bar.label = text
                bar.label_rect = bar.rect.adjusted(4, 0, -4, 0)
                bar.label_inside = True
                break
            if width <= room_after:
                bar.label = text
                bar.label_rect = QRectF(
                    bar.rect.right() + 4, bar.rect.top(), width, bar.rect.height()
                )
                bar.label_inside = False
                break
            # At the end of the picture: before the bar, if nothing is written there.
            if number + 1 == len(row) and bar.rect.left() - 4 - width > previous_end + 4:
                bar.label = text
                bar.label_rect = QRectF(
                    bar.rect.left() - 4 - width, bar.rect.top(), width, bar.rect.height()
                )
                bar.label_inside = False
                break


def _paint_steps(painter: QPainter, layout: TimelineLayout, look: TimelineLook) -> None:
    if not layout.lanes:
        return
    top = layout.step_row.bottom()
    bottom = layout.axis_y
    pen = QPen(QColor(look.step_mark), 1, Qt.PenStyle.DashLine)
    for mark in layout.steps:
        painter.setPen(pen)
        painter.drawLine(QPointF(mark.x, top), QPointF(mark.x, bottom))
        if mark.label_rect is not None:
            # A failed step's number in red: where to look on the picture.
            painter.setPen(QColor(look.left_behind if mark.failed else look.muted))
            painter.drawText(mark.label_rect, int(Qt.AlignmentFlag.AlignCenter), mark.label)


def _paint_axis(
    painter: QPainter, layout: TimelineLayout, look: TimelineLook, metrics: QFontMetricsF
) -> None:
    axis = layout.axis_y
    # Where the axis is broken: a band under the widened stretch, a break at each end.
    for piece in layout.breaks:
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(look.zoomed))
        painter.drawRect(QRectF(piece.left, axis - 2.5, max(1.0, piece.right - piece.left), 5))
    painter.setPen(QPen(QColor(look.grid), 1))
    painter.drawLine(QPointF(layout.plot_left, axis), QPointF(layout.plot_right, axis))
    for piece in layout.breaks:
        # Not at the axis' own ends: nothing is left out there.
        total = layout.axis.total if layout.axis is not None else 0.0
        for x, shown in (
            (piece.left, piece.stretch.start > 0),
            (piece.right, piece.stretch.end < total),
        ):
            if shown and layout.plot_left - 0.5 <= x <= layout.plot_right + 0.5:
                _paint_break(painter, x, axis, look)
    line = metrics.height()
    for tick in layout.ticks:
        painter.setPen(QPen(QColor(look.grid), 1))
        painter.drawLine(QPointF(tick.x, axis), QPointF(tick.x, axis + 3))
        if tick.label_rect is None:
            continue
        painter.setPen(QColor(look.muted))
        painter.drawText(
            tick.label_rect,
            int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop),
            tick.text,
        )
    # The wall clock at both ends (the date when the check crossed midnight).
    start_text = "started " + _clock_text(layout.start, with_date=True)
    end_day_differs = layout.start.astimezone().date() != layout.end.astimezone().date()
    end_text = ("until now " if layout.running else "ended ") + _clock_text(
        layout.end, with_date=end_day_differs
    )
    painter.setPen(QColor(look.text))
    row = QRectF(
        layout.rect.left() + _MARGIN,
        layout.clock_y,
        layout.rect.width() - 2 * _MARGIN,
        line,
    )
    painter.drawText(row, int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop), start_text)
    if metrics.horizontalAdvance(start_text + end_text) + 20 < row.width():
        painter.drawText(
            row, int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop), end_text
        )
    view = view_text(layout)
    if view and metrics.horizontalAdvance(start_text + end_text + view) + 60 < row.width():
        painter.setPen(QColor(look.muted))
        painter.drawText(row, int(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop), view)


def view_text(layout: TimelineLayout) -> str:
    """What a zoomed view shows, e.g. "zoom x16: 1.2 s to 2.5 s" (empty when not zoomed)."""
    if layout.zoom <= 1:
        return ""
    first = (layout.moment_at(layout.plot_left) - layout.start).total_seconds()
    last = (layout.moment_at(layout.plot_right) - layout.start).total_seconds()
    return (
        f"zoom \u00d7{layout.zoom:.3g}: {precise_offset_text(first)} to "
        f"{precise_offset_text(last)} (0 resets)"
    )


def _paint_break(painter: QPainter, x: float, axis: float, look: TimelineLook) -> None:
    """The usual sign of a broken axis: two slanted strokes across it."""
    painter.setPen(QPen(QColor(look.background), 4))
    painter.drawLine(QPointF(x - 2, axis + 5), QPointF(x + 2, axis - 5))
    painter.setPen(QPen(QColor(look.muted), 1.2))
    for offset in (-2.0, 2.0):
        painter.drawLine(QPointF(x + offset - 3, axis + 5), QPointF(x + offset + 1, axis - 5))


# --- tooltips -------------------------------------------------------------------------------


def _duration(seconds: float) -> str:
    if seconds < 1:
        return format_latency(seconds)
    return offset_text(seconds)


def _segment_tooltip(connector_id: int, segment: Segment, running: bool) -> str:
    point = segment.point
    label = STATUS_COLOURS.get(point.status, _OTHER_STATUS).label or point.status
    start = _aware(point.at)
    until = (
        ("now" if running else "the end of the check")
        if segment.open_end
        else _clock_text(segment.end, with_date=False)
    )
    lasted = (segment.end - start).total_seconds()
    return (
        f"Connector {connector_id}: {label}\n"
        f"from {_clock_text(start, with_date=False)} until {until} ({_duration(lasted)}"
        + (" or more)" if segment.open_end else ")")
    )


def _expiry_text(span: ReservationSpan) -> str:
    """ "expiryDate 14:01:00", and how the end compares: "(expired 400 ms after it)"."""
    assert span.expiry is not None
    expiry = _aware(span.expiry)
    text = f"expiryDate {_clock_text(expiry, with_date=False)}"
    if span.end is not None:
        delta = (_aware(span.end) - expiry).total_seconds()
        how = span.ended_by or "ended"
        text += f" ({how} {_duration(abs(delta))} {'after' if delta >= 0 else 'before'} it)"
    return text


def _break_tooltip(stretch: ZoomedStretch, axis: TimeAxis | None) -> str:
    shown = f"{precise_offset_text(stretch.start)} to {precise_offset_text(stretch.end)}"
    rest = ""
    if axis is not None and axis.scale > 0:
        rest = f"; elsewhere 1 s is {axis.scale:.3g} px"
    return (
        f"Axis widened \u00d7{stretch.factor:.3g} from {shown}, so that the steps in it can "
        f"be told apart{rest}"
    )


def _span_tooltip(bar: SpanBar, running: bool) -> str:
    span = bar.span
    head = f"Reservation {span.reservation_id} for {span.id_tag} on connector {span.connector_id}"
    start = _clock_text(_aware(span.start), with_date=False)
    if span.end is None:
        held = "still held" if running else "held at the end of the check"
        body = f"accepted {start}, {held}"
    else:
        body = f"accepted {start}, ended {_clock_text(_aware(span.end), with_date=False)}" + (
            f" ({span.ended_by})" if span.ended_by else ""
        )
    if span.expiry is not None:
        body += "\n" + _expiry_text(span)
    if bar.left_behind:
        body += "\nLEFT BEHIND: the clean-up could not cancel it; cancel it at the station"
    return f"{head}\n{body}"


def _step_tooltip(step: StepResult) -> str:
    where = f" (connector {step.connector_id})" if step.connector_id is not None else ""
    text = f"Step {step.number}: {step.title}{where} — {step.verdict.value}"
    return text + (f"\n{step.reason}" if step.reason else "")


def _legend_tooltip(item: LegendItem) -> str:
    if item.kind == "span":
        return "A reservation the check made: from its Accepted answer to its end"
    if item.kind == "expiry":
        return "The expiryDate the check sent in the reservation's ReserveNow"
    return f"StatusNotification {item.kind}"


# --- the image ------------------------------------------------------------------------------


IMAGE_FONT_PIXELS = 12
"""The font of the picture in the report and the export (the widget uses its own)."""


def image_font() -> QFont:
    """The font :func:`timeline_image` paints with (the same size on every screen)."""
    font = QFont()
    font.setPixelSize(IMAGE_FONT_PIXELS)
    return font


def timeline_image(
    result: CheckResult,
    width: int,
    height: int | None = None,
    *,
    look: TimelineLook | None = None,
    scale: float = 1.0,
    heading: bool = False,
) -> QImage:
    """The timeline as an image (the report and the PNG export): ``width`` x ``height``
    logical pixels (height: as the picture needs), drawn ``scale`` times denser.

    ``heading``: the station, the outcome and what was checked above it (a picture on its
    own, the export; the report says them in its text).
    """
    font = image_font()
    width = max(100, int(width))
    chosen = look or TimelineLook.paper()
    if height is None:
        layout = timeline_layout(
            QRectF(0, 0, width, 10_000), result, font, heading=heading, dark=_is_dark(chosen)
        )
        height = math.ceil(layout.height)
    height = max(40, int(height))
    scale = max(0.25, float(scale))
    image = QImage(
        int(width * scale), int(height * scale), QImage.Format.Format_ARGB32_Premultiplied
    )
    image.setDevicePixelRatio(scale)
    image.fill(QColor(chosen.background))
    painter = QPainter(image)
    try:
        painter.setFont(font)
        paint_timeline(painter, QRectF(0, 0, width, height), result, chosen, heading=heading)
    finally:
        painter.end()
    return image
