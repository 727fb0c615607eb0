"""The check's connector timeline: what is drawn where (pixels), tooltips, any result."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PySide6.QtCore import QEvent, QPoint, QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QHelpEvent, QImage, QPainter, QPalette, QWheelEvent
from PySide6.QtWidgets import QApplication, QToolTip
from pytestqt.qtbot import QtBot

from console.central.check.model import (
    CheckOutcome,
    CheckResult,
    CheckStep,
    ReservationSpan,
    StatusPoint,
    StepResult,
    Verdict,
)
from console.ui.checks.check_timeline import (
    NO_STATUS_TEXT,
    STATUS_COLOURS,
    TimelineLook,
    image_font,
    offset_text,
    paint_timeline,
    timeline_image,
    timeline_layout,
    view_text,
)
from console.ui.checks.timeline_view import CheckTimeline
from tests.ui.fakes import sample_check_result

# The offscreen platform cannot raise a tooltip window; it says so.
pytestmark = pytest.mark.qt_log_ignore("This plugin does not support")

T0 = datetime(2026, 11, 25, 14, 0, 0, tzinfo=UTC)
WIDTH = 600


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def simple_result(**changes: object) -> CheckResult:
    """Connector 1: Available, Reserved from 10 s to 30 s, Available; reservation 7 on it."""
    result = CheckResult(
        check_id=3,
        station_id="CP-01",
        started_at=T0,
        connectors=(1,),
        id_tag="TAG-1",
        finished_at=at(60),
        outcome=CheckOutcome.PASSED,
        steps=(
            StepResult(CheckStep.RESERVE, 1, Verdict.PASSED, "Accepted", None, at(9), at(11)),
            StepResult(CheckStep.CANCEL_HELD, 1, Verdict.PASSED, "Accepted", None, at(29), at(31)),
        ),
        statuses=(
            StatusPoint(at(0), 1, "Available"),
            StatusPoint(at(10), 1, "Reserved"),
            StatusPoint(at(30), 1, "Available"),
        ),
        spans=(ReservationSpan(7, 1, "TAG-1", at(10), at(30), "cancelled"),),
    )
    return replace(result, **changes)  # type: ignore[arg-type]


def pixel(image: QImage, x: float, y: float) -> str:
    return image.pixelColor(int(x), int(y)).name()


def layout_of(result: CheckResult):
    return timeline_layout(QRectF(0, 0, WIDTH, 10_000), result, image_font())


def test_a_reserved_segment_is_drawn_where_the_station_was_reserved(qapp: QApplication) -> None:
    result = simple_result()
    image = timeline_image(result, WIDTH)
    layout = layout_of(result)
    lane = layout.lane(1)
    assert lane is not None
    y = lane.band.bottom() - 2  # below the status's name written in the segment
    reserved = STATUS_COLOURS["Reserved"].fill
    available = STATUS_COLOURS["Available"].fill
    assert pixel(image, layout.x_of(at(20)), y) == reserved
    assert pixel(image, layout.x_of(at(28)), lane.band.top() + 2) == reserved
    assert pixel(image, layout.x_of(at(5)), y) == available
    assert pixel(image, layout.x_of(at(50)), y) == available
    # 10 s to 30 s of a 60 s check: the Reserved segment spans a third of the plot.
    segment = next(s for s in lane.segments if s.point.status == "Reserved")
    plot = layout.plot_right - layout.plot_left
    assert abs(segment.rect.width() - plot / 3) < 1
    assert abs(segment.rect.left() - (layout.plot_left + plot / 6)) < 1


def test_the_reservation_span_is_a_bar_under_its_lane_with_its_id(qapp: QApplication) -> None:
    result = simple_result()
    image = timeline_image(result, WIDTH)
    lane = layout_of(result).lane(1)
    assert lane is not None
    [bar] = lane.spans
    assert bar.rect.top() >= lane.band.bottom()
    assert bar.label == "#7 cancelled"
    assert bar.label_inside
    look = TimelineLook.paper()
    # Its fill at the right end (the label is written at the left), its border on top.
    assert pixel(image, bar.rect.right() - 4, bar.rect.center().y()) == look.span_fill
    assert pixel(image, bar.rect.center().x(), bar.rect.top()) != look.background
    # Where there is no reservation, below the lane, nothing is drawn.
    assert pixel(image, bar.rect.left() - 20, bar.rect.center().y()) == look.background


def test_a_reservation_left_behind_is_drawn_loudly(qapp: QApplication) -> None:
    result = simple_result(left_behind=(7,))
    lane = layout_of(result).lane(1)
    assert lane is not None
    [bar] = lane.spans
    assert bar.left_behind
    assert "LEFT BEHIND" in bar.label
    image = timeline_image(result, WIDTH)
    border = QColor(pixel(image, bar.rect.right() - 6, bar.rect.bottom() - 0.5))
    assert border.red() > 150
    assert border.green() < 100
    assert "LEFT BEHIND" in (layout_of(result).tooltip_at(bar.rect.center()) or "")


def test_overlapping_reservations_get_rows_and_a_short_one_its_label_beside_it(
    qapp: QApplication,
) -> None:
    result = sample_check_result()
    layout = layout_of(result)
    lane = layout.lane(1)
    assert lane is not None
    rows = {bar.rect.top() for bar in lane.spans}
    assert len(rows) == 1  # replaced then cancelled: one after the other, one row
    lane_zero = layout.lane(0)
    assert lane_zero is not None
    [short] = lane_zero.spans
    assert short.label == "#106 cancelled"
    assert not short.label_inside
    assert short.label_rect.left() > short.rect.right()
    overlapping = simple_result(
        spans=(
            ReservationSpan(7, 1, "TAG-1", at(10), at(30), "cancelled"),
            ReservationSpan(8, 1, "TAG-2", at(20), None, None),
        )
    )
    lane = layout_of(overlapping).lane(1)
    assert lane is not None
    assert len({bar.rect.top() for bar in lane.spans}) == 2


def test_step_marks_and_time_axis(qapp: QApplication) -> None:
    layout = layout_of(simple_result())
    numbers = [mark.step.number for mark in layout.steps]
    assert numbers == [1, 5]
    assert all(mark.label_rect is not None for mark in layout.steps)
    assert abs(layout.steps[0].x - layout.x_of(at(9))) < 0.01
    ticks = [tick.text for tick in layout.ticks]
    assert ticks[0] == "0 s"
    assert "1 min" in ticks or "30 s" in ticks
    assert [offset_text(s) for s in (5, 60, 150, 3600, 3900, 3 * 86400)] == [
        "5 s",
        "1 min",
        "2:30 min",
        "1 h",
        "1 h 05",
        "3 d",
    ]


def test_an_empty_result_says_no_status_reported_yet(qapp: QApplication, qtbot: QtBot) -> None:
    nothing = simple_result(connectors=(), statuses=(), spans=(), steps=(), finished_at=None)
    layout = layout_of(nothing)
    assert layout.empty
    image = timeline_image(nothing, 400, 80)
    background = QColor(TimelineLook.paper().background).name()
    middle_row = [pixel(image, x, 40) for x in range(100, 300)]
    assert any(colour != background for colour in middle_row)  # the text
    # A connector without any StatusNotification: its lane says so.
    quiet = simple_result(statuses=(), spans=())
    lane = layout_of(quiet).lane(1)
    assert lane is not None
    assert lane.segments == []
    timeline_image(quiet, 400)
    widget = CheckTimeline()
    qtbot.addWidget(widget)
    widget.resize(500, 120)
    widget.set_result(nothing)
    assert not widget.grab().isNull()
    widget.set_result(None)
    assert not widget.grab().isNull()
    assert widget.tooltip_at(QPointF(250, 60)) is None
    assert NO_STATUS_TEXT == "no status reported yet"


def test_the_widget_tells_what_is_under_the_mouse(qapp: QApplication, qtbot: QtBot) -> None:
    widget = CheckTimeline()
    qtbot.addWidget(widget)
    widget.set_result(simple_result())
    widget.resize(WIDTH, widget.sizeHint().height())
    widget.show()
    qtbot.waitExposed(widget)
    assert widget.sizeHint().height() >= 80
    layout = widget.layout_now()
    assert layout is not None
    lane = layout.lane(1)
    assert lane is not None
    segment_point = QPointF(layout.x_of(at(20)), lane.band.center().y())
    text = widget.tooltip_at(segment_point)
    assert text is not None
    assert "Connector 1: Reserved" in text
    assert "20 s" in text
    span_text = widget.tooltip_at(lane.spans[0].rect.center())
    assert span_text is not None
    assert "Reservation 7 for TAG-1" in span_text
    assert "cancelled" in span_text
    label = layout.steps[0].label_rect
    assert label is not None
    step_text = widget.tooltip_at(label.center())
    assert step_text is not None
    assert step_text.startswith("Step 1: Reserve a free connector")
    assert widget.tooltip_at(QPointF(2, 2 + layout.height)) is None
    # A real tooltip event shows the text.
    position = segment_point.toPoint()
    event = QHelpEvent(QEvent.Type.ToolTip, position, widget.mapToGlobal(position))
    QApplication.sendEvent(widget, event)
    qtbot.waitUntil(lambda: "Reserved" in QToolTip.text())
    QToolTip.hideText()
    nothing = QHelpEvent(QEvent.Type.ToolTip, QPoint(1, 1), widget.mapToGlobal(QPoint(1, 1)))
    QApplication.sendEvent(widget, nothing)


def test_a_dark_palette_gives_a_dark_picture(qapp: QApplication, qtbot: QtBot) -> None:
    widget = CheckTimeline()
    qtbot.addWidget(widget)
    palette = widget.palette()
    palette.setColor(QPalette.ColorRole.Base, QColor("#181a1d"))
    palette.setColor(QPalette.ColorRole.Text, QColor("#e6e8eb"))
    widget.setPalette(palette)
    widget.set_result(simple_result())
    widget.resize(WIDTH, widget.sizeHint().height())
    image = widget.grab().toImage()
    corner = image.pixelColor(2, 2)
    assert corner.lightness() < 60
    assert widget.look().span_fill == TimelineLook.dark().span_fill
    layout = widget.layout_now()
    assert layout is not None
    lane = layout.lane(1)
    assert lane is not None
    ratio = image.devicePixelRatio()
    x, y = layout.x_of(at(20)) * ratio, lane.band.center().y() * ratio
    assert image.pixelColor(int(x), int(y)).name() == STATUS_COLOURS["Reserved"].fill


def test_a_running_check_draws_its_held_reservation_to_the_end(qapp: QApplication) -> None:
    result = sample_check_result(finished=False)
    layout = layout_of(result)
    lane = layout.lane(1)
    assert lane is not None
    held = next(bar for bar in lane.spans if bar.span.end is None)
    assert abs(held.rect.right() - layout.plot_right) < 1
    assert held.label.endswith("held")
    assert "still held" in (layout.tooltip_at(held.rect.center()) or "")
    image = timeline_image(result, 900, look=TimelineLook.dark(), scale=2)
    assert image.width() == 1800
    assert image.devicePixelRatio() == 2


# --- any result at all ----------------------------------------------------------------------

moments = st.floats(min_value=-3600, max_value=7 * 86400, allow_nan=False).map(
    lambda s: T0 + timedelta(seconds=s)
)
statuses = st.builds(
    StatusPoint,
    moments,
    st.integers(min_value=0, max_value=4),
    st.sampled_from([*STATUS_COLOURS, "Weird", ""]),
)
spans = st.builds(
    ReservationSpan,
    st.integers(min_value=-(2**31), max_value=2**31),
    st.integers(min_value=0, max_value=4),
    st.text(max_size=20),
    moments,
    st.none() | moments,
    st.none() | st.sampled_from(["cancelled", "expired", "replaced", "used"]),
)
steps = st.builds(
    StepResult,
    st.sampled_from(list(CheckStep)),
    st.none() | st.integers(min_value=0, max_value=4),
    st.sampled_from(list(Verdict)),
    st.text(max_size=40),
    st.none(),
    st.none() | moments,
    st.none() | moments,
)
results = st.builds(
    CheckResult,
    st.none() | st.integers(min_value=1),
    st.text(min_size=1, max_size=10),
    moments,
    st.lists(st.integers(min_value=0, max_value=4), max_size=3).map(tuple),
    st.text(max_size=20),
    finished_at=st.none() | moments,
    steps=st.lists(steps, max_size=6).map(tuple),
    statuses=st.lists(statuses, max_size=15).map(tuple),
    spans=st.lists(spans, max_size=6).map(tuple),
    left_behind=st.lists(st.integers(), max_size=2).map(tuple),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    result=results,
    width=st.integers(min_value=1, max_value=1400),
    probes=st.lists(st.tuples(st.floats(-50, 1500), st.floats(-50, 600)), max_size=5),
)
def test_any_result_paints_and_answers_tooltips(
    qapp: QApplication, result: CheckResult, width: int, probes: list[tuple[float, float]]
) -> None:
    image = timeline_image(result, width)
    assert not image.isNull()
    layout = layout_of(result)
    assert layout.height > 0
    for x, y in probes:
        layout.tooltip_at(QPointF(x, y))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    result=results,
    zoom=st.floats(0, 2000, allow_nan=False),
    pan=st.floats(-1e6, 1e7, allow_nan=False),
    heading=st.booleans(),
    probes=st.lists(st.tuples(st.floats(-50, 700), st.floats(-50, 600)), max_size=5),
)
def test_any_result_paints_zoomed_anywhere(
    qapp: QApplication,
    result: CheckResult,
    zoom: float,
    pan: float,
    heading: bool,
    probes: list[tuple[float, float]],
) -> None:
    image = QImage(WIDTH, 400, QImage.Format.Format_ARGB32_Premultiplied)
    painter = QPainter(image)
    try:
        painter.setFont(image_font())
        layout = paint_timeline(
            painter,
            QRectF(0, 0, WIDTH, 400),
            result,
            TimelineLook.paper(),
            zoom=zoom,
            pan=pan,
            heading=heading,
        )
    finally:
        painter.end()
    assert layout is not None
    assert layout.plot_left <= layout.plot_right
    for lane in layout.lanes:
        for segment in lane.segments:
            assert layout.plot_left - 0.01 <= segment.rect.left()
            assert segment.rect.right() <= layout.plot_right + 0.01
        for bar in lane.spans:
            assert layout.plot_left - 0.01 <= bar.rect.left()
            assert bar.rect.right() <= layout.plot_right + 0.01
    for mark in layout.steps:
        assert layout.plot_left - 0.01 <= mark.x <= layout.plot_right + 0.01
    for x, y in probes:
        layout.tooltip_at(QPointF(x, y))
    view_text(layout)


def quick_steps() -> tuple[StepResult, ...]:
    """Steps 1-5 a millisecond apart, step 7 (failed) 10 ms after the start."""
    quick = [
        StepResult(step, 1, Verdict.PASSED, "ok", None, at(number * 0.001), at(number * 0.001))
        for number, step in enumerate(list(CheckStep)[1:6])
    ]
    failed = StepResult(CheckStep.EXPIRY, 1, Verdict.FAILED, "still Reserved", None, at(0.01))
    return (*quick, failed)


def red_in(image: QImage, rect: QRectF) -> bool:
    colours = [
        image.pixelColor(x, y)
        for x in range(int(rect.left()), int(rect.right()))
        for y in range(int(rect.top()), int(rect.bottom()))
    ]
    return any(c.red() > 150 and c.green() < 100 for c in colours)


def test_steps_taken_within_milliseconds_are_apart_and_numbered(qapp: QApplication) -> None:
    # On a linear axis of 60 s the six steps of the first 10 ms fall on one pixel: the
    # axis is broken there, so that each step has its own readable number.
    result = simple_result(steps=quick_steps())
    layout = layout_of(result)
    assert [mark.label for mark in layout.steps] == ["1", "2", "3", "4", "5", "7"]
    rects = [mark.label_rect for mark in layout.steps]
    assert all(rect is not None for rect in rects)
    for before, after in itertools.pairwise(rects):
        assert before is not None
        assert after is not None
        assert after.left() >= before.right() + 2  # apart, in order
    marked = layout.steps[-1]
    assert marked.failed
    assert marked.label_rect is not None
    image = timeline_image(result, WIDTH)
    assert red_in(image, marked.label_rect)
    assert not red_in(image, layout.steps[0].label_rect or QRectF())
    # The widened stretch is shown on the axis (a band, a tick in ms at its end) and told
    # in a tooltip; the long quiet rest stays linear and keeps most of the width.
    [piece] = layout.breaks
    assert piece.stretch.start == 0
    assert piece.stretch.end == pytest.approx(0.01)
    assert piece.right - piece.left < (layout.plot_right - layout.plot_left) / 4
    end_tick = next(tick for tick in layout.ticks if abs(tick.x - piece.right) < 0.5)
    assert end_tick.text == "10 ms"
    assert end_tick.label_rect is not None
    band = QColor(pixel(image, (piece.left + piece.right) / 2, layout.axis_y + 1.5))
    assert _close(band, QColor(TimelineLook.paper().zoomed))
    tooltip = layout.tooltip_at(QPointF((piece.left + piece.right) / 2, layout.axis_y))
    assert tooltip is not None
    assert "widened" in tooltip
    assert "0 s to 10 ms" in tooltip
    ten_seconds = layout.x_of(at(30)) - layout.x_of(at(20))
    assert layout.x_of(at(50)) - layout.x_of(at(40)) == pytest.approx(ten_seconds, abs=0.01)
    assert ten_seconds * 6 > (layout.plot_right - layout.plot_left) * 0.75
    # What is drawn after the stretch is still where it happened.
    lane = layout.lane(1)
    assert lane is not None
    reserved = STATUS_COLOURS["Reserved"].fill
    assert pixel(image, layout.x_of(at(20)), lane.band.bottom() - 2) == reserved


def test_a_narrow_picture_still_groups_steps_it_cannot_part(qapp: QApplication) -> None:
    result = simple_result(steps=quick_steps())
    width = 180
    layout = timeline_layout(QRectF(0, 0, width, 10_000), result, image_font())
    labelled = [mark for mark in layout.steps if mark.label_rect is not None]
    assert len(layout.steps) == 6  # every step keeps its line
    assert len(labelled) < 6
    assert "\u2013" in "".join(mark.label for mark in labelled)  # "1\u20133" and the like
    failed = next(mark for mark in labelled if mark.failed)
    assert failed.label_rect is not None
    tooltip = layout.tooltip_at(failed.label_rect.center())
    assert tooltip is not None
    assert "still Reserved" in tooltip
    assert red_in(timeline_image(result, width), failed.label_rect)


def test_a_check_whose_steps_are_apart_keeps_a_linear_axis(qapp: QApplication) -> None:
    for result in (simple_result(), sample_check_result()):
        layout = timeline_layout(QRectF(0, 0, 900, 10_000), result, image_font())
        assert layout.breaks == []
        assert layout.axis is not None
        assert not layout.axis.broken


def test_the_expiry_date_is_marked_on_its_reservation(qapp: QApplication) -> None:
    expiring = ReservationSpan(7, 1, "TAG-1", at(10), at(30.4), "expired", expiry=at(30))
    later = ReservationSpan(8, 1, "TAG-1", at(40), at(45), "cancelled", expiry=at(640))
    result = simple_result(spans=(expiring, later))
    layout = layout_of(result)
    lane = layout.lane(1)
    assert lane is not None
    bar = next(b for b in lane.spans if b.span.reservation_id == 7)
    assert bar.expiry_x == pytest.approx(layout.x_of(at(30)))
    # Expiring ten minutes after the check: no marker in the picture, its tooltip says it.
    other = next(b for b in lane.spans if b.span.reservation_id == 8)
    assert other.expiry_x is None
    assert f"expiryDate {_local_clock(at(640))}" in (layout.tooltip_at(other.rect.center()) or "")
    assert "expiry" in [item.kind for item in layout.legend]
    image = timeline_image(result, WIDTH)
    expiry_colour = QColor(TimelineLook.paper().expiry)
    column = [
        QColor(pixel(image, bar.expiry_x, y))
        for y in range(int(bar.rect.top()), int(bar.rect.bottom()))
    ]
    assert all(_close(colour, expiry_colour) for colour in column)
    marker = bar.expiry_rect
    assert marker is not None
    tooltip = layout.tooltip_at(marker.center())
    assert tooltip is not None
    assert tooltip.startswith("Reservation 7 for TAG-1")
    assert f"expiryDate {_local_clock(at(30))} (expired 400 ms after it)" in tooltip
    # Without an expiry (a result stored before it was kept) nothing is marked.
    plain = layout_of(simple_result())
    assert all(b.expiry_x is None for lane in plain.lanes for b in lane.spans)
    assert "expiry" not in [item.kind for item in plain.legend]


def _local_clock(moment: datetime) -> str:
    return moment.astimezone().strftime("%H:%M:%S")


def _close(one: QColor, other: QColor) -> bool:
    return all(abs(a - b) <= 40 for a, b in zip(one.getRgb()[:3], other.getRgb()[:3], strict=True))


def test_the_heading_says_the_station_and_the_outcome(qapp: QApplication) -> None:
    result = sample_check_result("CP-77", outcome=CheckOutcome.FAILED)
    bare = timeline_image(result, 900)
    headed = timeline_image(result, 900, heading=True)
    assert headed.height() > bare.height()
    layout = timeline_layout(QRectF(0, 0, 900, 10_000), result, image_font(), heading=True)
    heading = layout.heading
    assert heading is not None
    assert heading.title == "Reservation check of CP-77"
    assert heading.outcome == "FAILED"
    assert heading.summary.startswith("7 passed, 1 failed")
    assert "started 2026-" in heading.details
    # The chip is drawn in the outcome's colours; the timeline sits below the heading.
    chip = heading.outcome_rect
    fill = QColor(pixel(headed, chip.left() + 2, chip.center().y()))
    assert _close(fill, QColor(heading.outcome_colours[1]))
    assert layout.legend[0].swatch.top() > heading.details_rect.bottom()
    assert layout_of(result).heading is None  # the window and the report: no heading


def test_a_reservation_at_the_very_end_is_labelled_before_its_bar(qapp: QApplication) -> None:
    result = simple_result(
        spans=(ReservationSpan(9, 0, "TAG-1", at(60), at(60), "cancelled"),),
    )
    lane = layout_of(result).lane(0)
    assert lane is not None
    [bar] = lane.spans
    assert bar.label == "#9 cancelled"
    assert bar.label_rect.right() < bar.rect.left()


# --- zooming in the window ------------------------------------------------------------------


def wheel(widget: CheckTimeline, x: float, notches: int, modifiers: Qt.KeyboardModifier) -> None:
    position = QPointF(x, 40)
    event = QWheelEvent(
        position,
        QPointF(widget.mapToGlobal(position.toPoint())),
        QPoint(),
        QPoint(0, 120 * notches),
        Qt.MouseButton.NoButton,
        modifiers,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(widget, event)


def test_the_window_zooms_into_time_around_the_mouse(qapp: QApplication, qtbot: QtBot) -> None:
    widget = CheckTimeline()
    qtbot.addWidget(widget)
    result = simple_result(steps=quick_steps())
    widget.set_result(result)
    widget.resize(WIDTH, widget.sizeHint().height())
    widget.show()
    qtbot.waitExposed(widget)
    whole = widget.layout_now()
    assert whole is not None
    anchor = whole.x_of(at(20))
    # Ctrl+wheel zooms in around the mouse: the moment under it stays put.
    wheel(widget, anchor, 4, Qt.KeyboardModifier.ControlModifier)
    assert widget.zoom() == pytest.approx(CheckTimeline.ZOOM_STEP**4)
    zoomed = widget.layout_now()
    assert zoomed is not None
    assert zoomed.x_of(at(20)) == pytest.approx(anchor, abs=0.5)
    ten_seconds = zoomed.x_of(at(25)) - zoomed.x_of(at(15))
    assert ten_seconds > 2 * (whole.x_of(at(25)) - whole.x_of(at(15)))
    # What left the view is not drawn (nor hovered): the quick steps are left of it.
    assert all(mark.x >= zoomed.plot_left for mark in zoomed.steps)
    assert not widget.grab().isNull()
    # A plain wheel is left to the panel's scrolling; Shift+wheel and a drag move along.
    wheel(widget, anchor, 1, Qt.KeyboardModifier.NoModifier)
    assert widget.zoom() == pytest.approx(CheckTimeline.ZOOM_STEP**4)
    before = widget.pan()
    wheel(widget, anchor, -1, Qt.KeyboardModifier.ShiftModifier)
    assert widget.pan() > before
    before = widget.pan()
    qtbot.mousePress(widget, Qt.MouseButton.LeftButton, pos=QPoint(300, 40))
    qtbot.mouseMove(widget, QPoint(250, 40))
    qtbot.mouseRelease(widget, Qt.MouseButton.LeftButton, pos=QPoint(250, 40))
    assert widget.pan() == pytest.approx(before + 50)
    # Zoomed far into the first 10 ms, the broken axis relaxes (the zoom does the work)
    # and the steps are far apart.
    widget.reset_zoom()
    first = widget.layout_now()
    assert first is not None
    widget.set_zoom(600, first.x_of(at(0.005)))
    deep = widget.layout_now()
    assert deep is not None
    widened = min(piece.stretch.factor for piece in first.breaks)
    assert all(piece.stretch.factor < widened / 100 for piece in deep.breaks)
    marks = [mark.x for mark in deep.steps]
    assert len(marks) >= 3
    assert min(b - a for a, b in itertools.pairwise(marks)) >= 18
    assert any(tick.text.endswith("ms") for tick in deep.ticks if tick.label_rect is not None)
    # 0 shows the whole check again; so does a new check.
    widget.setFocus()
    qtbot.keyClick(widget, Qt.Key.Key_0)
    assert widget.zoom() == 1
    widget.set_zoom(4)
    widget.set_result(replace(result, started_at=at(-3600), check_id=4))
    assert widget.zoom() == 1
    # A running check's newer copy keeps the zoom.
    widget.set_zoom(4)
    widget.set_result(replace(widget.result(), finished_at=at(61)))  # type: ignore[arg-type]
    assert widget.zoom() == 4
