"""The window's view of a check's connector timeline: the picture, zoomable into time.

The picture itself (geometry, painting, tooltips) is :mod:`console.ui.checks.check_timeline`;
this widget paints it at the zoom and position the technician chose.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QEvent, QPointF, QRectF, QSize, Qt
from PySide6.QtGui import (
    QHelpEvent,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QWheelEvent,
)
from PySide6.QtWidgets import QToolTip, QWidget

from console.central.check.model import CheckResult
from console.ui.checks.check_timeline import (
    MAX_ZOOM,
    TimelineLayout,
    TimelineLook,
    paint_timeline,
    timeline_layout,
)

__all__ = ["CheckTimeline"]


class CheckTimeline(QWidget):
    """The timeline of one check result, with a tooltip for whatever is under the mouse.

    It zooms into time: Ctrl+wheel (or +, -) around the mouse, drag or Shift+wheel (or the
    arrow keys) to move along, 0 or a double-click to see the whole check again. Zoomed in,
    the broken axis relaxes until it is linear.
    """

    ZOOM_STEP = 1.25
    """One wheel notch or key press zooms this much."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("check_timeline")
        self._result: CheckResult | None = None
        self._zoom = 1.0
        self._pan = 0.0
        self._drag_from: tuple[float, float] | None = None
        """(mouse x, pan) where a drag began."""
        self.setMouseTracking(True)
        self.setMinimumHeight(60)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setWhatsThis(
            "Ctrl+wheel or + and - zoom into time around the mouse; drag or Shift+wheel "
            "moves along; 0 or a double-click shows the whole check."
        )

    def set_result(self, result: CheckResult | None) -> None:
        """Show this result (a running check's newer copy replaces the old one)."""
        previous = self._result
        self._result = result
        if result is None or previous is None or not _same_run(previous, result):
            self._zoom, self._pan = 1.0, 0.0  # another check: the whole of it first
        self.updateGeometry()
        self.update()

    def result(self) -> CheckResult | None:
        return self._result

    def look(self) -> TimelineLook:
        return TimelineLook.for_palette(self.palette())

    def layout_now(self) -> TimelineLayout | None:
        """The geometry of what is painted now (tests and tooltips use it)."""
        if self._result is None:
            return None
        return timeline_layout(
            QRectF(self.rect()), self._result, self.font(), zoom=self._zoom, pan=self._pan
        )

    # --- zoom -------------------------------------------------------------------------------

    def zoom(self) -> float:
        """How many times wider than the view the whole check is drawn (1: all of it)."""
        return self._zoom

    def set_zoom(self, zoom: float, anchor_x: float | None = None) -> None:
        """Zoom to ``zoom``, keeping the moment at ``anchor_x`` (default: the middle) still."""
        layout = self.layout_now()
        zoom = min(MAX_ZOOM, max(1.0, zoom))
        if layout is None or layout.axis is None:
            self._zoom, self._pan = zoom, 0.0
            self.update()
            return
        x = layout.plot_left + layout.view_width / 2 if anchor_x is None else anchor_x
        x = min(layout.plot_right, max(layout.plot_left, x))
        moment = layout.moment_at(x)
        self._zoom = zoom
        after = self.layout_now()
        if after is not None and after.axis is not None:
            seconds = (moment - after.start).total_seconds()
            self._pan = after.axis.position(seconds) - (x - after.plot_left)
        self._clamp_pan()
        self.update()

    def zoom_in(self, anchor_x: float | None = None) -> None:
        self.set_zoom(self._zoom * self.ZOOM_STEP, anchor_x)

    def zoom_out(self, anchor_x: float | None = None) -> None:
        self.set_zoom(self._zoom / self.ZOOM_STEP, anchor_x)

    def reset_zoom(self) -> None:
        self._zoom, self._pan = 1.0, 0.0
        self.update()

    def pan(self) -> float:
        """Pixels of the zoomed check scrolled out on the left."""
        return self._pan

    def pan_by(self, pixels: float) -> None:
        self._pan += pixels
        self._clamp_pan()
        self.update()

    def _clamp_pan(self) -> None:
        layout = self.layout_now()
        if layout is None:
            self._pan = 0.0
            return
        self._pan = layout.pan  # the layout clamps it to the zoomed plot

    def wheelEvent(self, event: QWheelEvent) -> None:
        modifiers = event.modifiers()
        delta = event.angleDelta()
        x = event.position().x()
        if modifiers & Qt.KeyboardModifier.ControlModifier and delta.y():
            self.set_zoom(self._zoom * self.ZOOM_STEP ** (delta.y() / 120), x)
            event.accept()
            return
        sideways = delta.x() or (delta.y() if modifiers & Qt.KeyboardModifier.ShiftModifier else 0)
        if sideways and self._zoom > 1:
            self.pan_by(-sideways / 120 * 60)
            event.accept()
            return
        event.ignore()  # the panel around it scrolls

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() is Qt.MouseButton.LeftButton and self._zoom > 1:
            self._drag_from = (event.position().x(), self._pan)
            self.setCursor(Qt.CursorShape.ClosedHandCursor)
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._drag_from is not None:
            start_x, start_pan = self._drag_from
            self._pan = start_pan - (event.position().x() - start_x)
            self._clamp_pan()
            self.update()
            event.accept()
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self._drag_from is not None:
            self._drag_from = None
            self.unsetCursor()
            event.accept()
            return
        super().mouseReleaseEvent(event)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        if self._zoom > 1:
            self.reset_zoom()
        else:
            self.set_zoom(self._zoom * self.ZOOM_STEP**4, event.position().x())
        event.accept()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        if key in (Qt.Key.Key_Plus, Qt.Key.Key_Equal):
            self.zoom_in()
        elif key == Qt.Key.Key_Minus:
            self.zoom_out()
        elif key == Qt.Key.Key_0:
            self.reset_zoom()
        elif key in (Qt.Key.Key_Left, Qt.Key.Key_Right) and self._zoom > 1:
            self.pan_by((-1 if key == Qt.Key.Key_Left else 1) * max(20.0, self.width() / 10))
        else:
            super().keyPressEvent(event)
            return
        event.accept()

    # --- size and painting ------------------------------------------------------------------

    def preferred_height(self, width: int) -> int:
        if self._result is None:
            return 80
        layout = timeline_layout(QRectF(0, 0, width, 10_000), self._result, self.font())
        return math.ceil(layout.height)

    def sizeHint(self) -> QSize:
        width = max(600, self.width())
        return QSize(width, self.preferred_height(width))

    def minimumSizeHint(self) -> QSize:
        return QSize(300, min(self.preferred_height(max(300, self.width())), 120))

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        try:
            paint_timeline(
                painter,
                QRectF(self.rect()),
                self._result,
                self.look(),
                zoom=self._zoom,
                pan=self._pan,
            )
        finally:
            painter.end()

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip and isinstance(event, QHelpEvent):
            text = self.tooltip_at(QPointF(event.pos()))
            if text:
                QToolTip.showText(event.globalPos(), text, self)
            else:
                QToolTip.hideText()
                event.ignore()
            return True
        if event.type() == QEvent.Type.PaletteChange:
            self.update()
        return super().event(event)

    def tooltip_at(self, position: QPointF) -> str | None:
        layout = self.layout_now()
        return None if layout is None or layout.empty else layout.tooltip_at(position)


def _same_run(one: CheckResult, other: CheckResult) -> bool:
    return one.station_id == other.station_id and one.started_at == other.started_at
