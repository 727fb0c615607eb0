"""The steps of a reservation check as a Qt table: one row per step and connector.

The runner publishes a whole new :class:`~console.central.model.CheckResult` after every
change; :meth:`CheckStepsModel.set_result` compares it with the shown one and signals only
the rows that changed, so a live table keeps its selection and scroll position.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from enum import IntEnum
from typing import Any

from PySide6.QtCore import QModelIndex, QObject, Qt
from PySide6.QtWidgets import QHeaderView, QStyle, QTableView

from console.central.check.model import CheckOutcome, CheckResult, StepResult, Verdict
from console.central.model import ReservationState
from console.ui.look.presentation import Look, connector_status_look, reservation_state_look
from console.ui.look.table_model import AnyIndex, ReadOnlyTableModel

__all__ = [
    "CheckStepsModel",
    "StepColumn",
    "fit_step_columns",
    "format_duration",
    "outcome_look",
    "verdict_look",
    "verdict_summary",
]

Clock = Callable[[], datetime]


class StepColumn(IntEnum):
    """The columns of the steps table."""

    NUMBER = 0
    STEP = 1
    CONNECTOR = 2
    VERDICT = 3
    REASON = 4
    DURATION = 5


_HEADERS = {
    StepColumn.NUMBER: "#",
    StepColumn.STEP: "Step",
    StepColumn.CONNECTOR: "Conn.",
    StepColumn.VERDICT: "Verdict",
    StepColumn.REASON: "Reason",
    StepColumn.DURATION: "Duration",
}
_HEADER_TOOLTIPS = {
    StepColumn.NUMBER: "The step's number in the Reservation profile's rules",
    StepColumn.CONNECTOR: "Connector (station: a step about the whole station)",
    StepColumn.REASON: "Why the step passed, failed or was skipped (all of it in the tooltip)",
    StepColumn.DURATION: "How long the step took",
}
_LAST_COLUMN = max(StepColumn)
# The widest texts the narrow columns hold: they must never be cut off.
_WIDEST_CELLS = {
    StepColumn.NUMBER: "99",
    StepColumn.CONNECTOR: "station",
    StepColumn.DURATION: "9 min 05 s",
}
_WIDEST_VERDICT = "Running…"
STEP_TITLE_WIDTH = (160, 300)
"""The Step column's narrowest and widest (the longest titles), in pixels."""
REASON_MIN_WIDTH = 220
"""The Reason column gets at least this before the Step column is narrowed below its best."""

# The reservation looks already carry the colours a technician knows from the window
# (green = went well, red = refused, blue = in progress, grey = nothing happened); a
# verdict only needs its own word.
_VERDICT_LOOKS: dict[Verdict, Look] = {
    Verdict.PENDING: replace(connector_status_look(None), text="Pending"),
    Verdict.RUNNING: replace(reservation_state_look(ReservationState.SENDING), text="Running…"),
    Verdict.PASSED: replace(reservation_state_look(ReservationState.ACCEPTED), text="Passed"),
    Verdict.FAILED: replace(reservation_state_look(ReservationState.REJECTED), text="Failed"),
    Verdict.SKIPPED: replace(reservation_state_look(ReservationState.CANCELLED), text="Skipped"),
    # Neither a pass nor a fail: the station cannot take the step (the reason says why).
    Verdict.NOT_APPLICABLE: replace(connector_status_look(None), text="N/A"),
}
_OUTCOME_LOOKS: dict[CheckOutcome, Look] = {
    CheckOutcome.RUNNING: replace(_VERDICT_LOOKS[Verdict.RUNNING], text="Running…"),
    CheckOutcome.PASSED: replace(_VERDICT_LOOKS[Verdict.PASSED], text="Passed"),
    CheckOutcome.FAILED: replace(_VERDICT_LOOKS[Verdict.FAILED], text="Failed"),
    CheckOutcome.CANCELLED: replace(_VERDICT_LOOKS[Verdict.SKIPPED], text="Cancelled"),
    CheckOutcome.ABORTED: replace(
        reservation_state_look(ReservationState.NO_RESPONSE), text="Aborted"
    ),
}


def verdict_look(verdict: Verdict) -> Look:
    """Text, colours and icon of a step's verdict."""
    return _VERDICT_LOOKS[verdict]


def outcome_look(outcome: CheckOutcome) -> Look:
    """Text, colours and icon of a whole check's outcome."""
    return _OUTCOME_LOOKS[outcome]


def verdict_summary(result: CheckResult) -> str:
    """How the steps ended, e.g. "7 passed, 1 failed, 1 skipped" (zero counts left out)."""
    order = (
        Verdict.PASSED,
        Verdict.FAILED,
        Verdict.SKIPPED,
        Verdict.NOT_APPLICABLE,
        Verdict.RUNNING,
        Verdict.PENDING,
    )
    counts = dict.fromkeys(order, 0)
    for step in result.steps:
        counts[step.verdict] += 1
    parts = [f"{counts[verdict]} {verdict.value}" for verdict in order if counts[verdict]]
    return ", ".join(parts) if parts else "no steps"


def format_duration(seconds: float | None) -> str:
    """A step's duration: "35 ms", "4.2 s", "12 s", "2 min 05 s" (empty when unknown)."""
    if seconds is None:
        return ""
    seconds = max(0.0, seconds)
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 10:
        return f"{seconds:.1f} s"
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes, rest = divmod(int(seconds), 60)
    return f"{minutes} min {rest:02d} s"


class CheckStepsModel(ReadOnlyTableModel):
    """The steps of one check run (one row per :class:`StepResult`), updated in place.

    Rows are keyed by (step, connector): a new result with the same rows signals
    ``dataChanged`` only for the rows whose step record changed; rows the runner adds later
    are inserted, and a different set of rows (another run) resets the model.
    """

    def __init__(self, parent: QObject | None = None, *, clock: Clock | None = None) -> None:
        super().__init__(StepColumn, _HEADERS, parent)
        self._clock: Clock = clock or (lambda: datetime.now(UTC))
        self._result: CheckResult | None = None
        self._steps: tuple[StepResult, ...] = ()

    # --- updates ----------------------------------------------------------------------------

    def set_result(self, result: CheckResult | None) -> None:
        """Show ``result`` (None: empty); only rows that changed are signalled."""
        old_steps = self._steps
        new_steps = result.steps if result is not None else ()
        self._result = result
        old_keys = [_key(step) for step in old_steps]
        new_keys = [_key(step) for step in new_steps]
        if new_keys[: len(old_keys)] != old_keys:
            self.beginResetModel()
            self._steps = new_steps
            self.endResetModel()
            return
        changed = [row for row, step in enumerate(old_steps) if new_steps[row] != step]
        if len(new_steps) > len(old_steps):
            self.beginInsertRows(QModelIndex(), len(old_steps), len(new_steps) - 1)
            self._steps = new_steps
            self.endInsertRows()
        else:
            self._steps = new_steps
        for row in changed:
            self._row_changed(row)

    def tick(self) -> None:
        """Refresh the running steps' durations (call about once a second)."""
        for row, step in enumerate(self._steps):
            if step.verdict is Verdict.RUNNING:
                index = self.index(row, StepColumn.DURATION)
                self.dataChanged.emit(index, index, [Qt.ItemDataRole.DisplayRole])

    def result(self) -> CheckResult | None:
        return self._result

    def step(self, row: int) -> StepResult | None:
        """The step shown on ``row`` (None outside the table)."""
        return self._steps[row] if 0 <= row < len(self._steps) else None

    def running_row(self) -> int | None:
        """The row of the step that runs now, if any."""
        for row, step in enumerate(self._steps):
            if step.verdict is Verdict.RUNNING:
                return row
        return None

    # --- QAbstractTableModel ----------------------------------------------------------------

    def row_total(self) -> int:
        return len(self._steps)

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._steps):
            return None
        step = self._steps[index.row()]
        column = StepColumn(index.column())
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(step, column)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(step, column)
        if (
            column == StepColumn.VERDICT
            and (look_data := verdict_look(step.verdict).role_data(role)) is not None
        ):
            return look_data
        if role == Qt.ItemDataRole.TextAlignmentRole and column in (
            StepColumn.NUMBER,
            StepColumn.DURATION,
        ):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if (
            role == Qt.ItemDataRole.ToolTipRole
            and orientation == Qt.Orientation.Horizontal
            and 0 <= section < len(StepColumn)
        ):
            return _HEADER_TOOLTIPS.get(StepColumn(section))
        return super().headerData(section, orientation, role)

    # --- cells ------------------------------------------------------------------------------

    def _display(self, step: StepResult, column: StepColumn) -> str:
        match column:
            case StepColumn.NUMBER:
                return str(step.number)
            case StepColumn.STEP:
                return step.title
            case StepColumn.CONNECTOR:
                return "station" if step.connector_id is None else str(step.connector_id)
            case StepColumn.VERDICT:
                return verdict_look(step.verdict).text
            case StepColumn.REASON:
                # One line in the cell; the whole text is in the tooltip.
                return step.reason.splitlines()[0] if step.reason else ""
            case StepColumn.DURATION:
                return format_duration(self._seconds(step))
        return ""  # pragma: no cover - every column is matched above

    def _tooltip(self, step: StepResult, column: StepColumn) -> str | None:
        if column == StepColumn.STEP:
            return f"Step {step.number}: {step.title}\n{step.reference}"
        if column in (StepColumn.REASON, StepColumn.VERDICT):
            text = verdict_look(step.verdict).text
            if step.reason:
                text += f": {step.reason}"
            if step.prompt:
                text += f"\n\nAt the station: {step.prompt}"
            return text
        return None

    def _seconds(self, step: StepResult) -> float | None:
        if step.started_at is None:
            return None
        end = step.finished_at
        if end is None:
            if step.verdict is not Verdict.RUNNING:
                return None
            end = self._clock()
        return (end - step.started_at).total_seconds()

    def _row_changed(self, row: int) -> None:
        self.dataChanged.emit(self.index(row, 0), self.index(row, _LAST_COLUMN))


def _key(step: StepResult) -> tuple[str, int | None]:
    return (step.step.value, step.connector_id)


def fit_step_columns(view: QTableView, *, widest_step: int = STEP_TITLE_WIDTH[1]) -> None:
    """Size a steps table's columns in its font: the narrow ones to their widest text and
    header, the Step column to what is left after the Reason's minimum (within
    :data:`STEP_TITLE_WIDTH`); the Reason column stretches and elides (tooltip: all of it).

    Call it again when the view's width changes (the Step column follows). ``widest_step``:
    the Step column's width when there is room (a dialog may give it more).
    """
    header = view.horizontalHeader()
    style = view.style()
    # A header section draws its text between two margins, a cell between two focus margins;
    # the extra pixels keep Fusion's frame lines off the text.
    header_pad = 2 * style.pixelMetric(QStyle.PixelMetric.PM_HeaderMargin, None, header) + 8
    cell_pad = 2 * (style.pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin, None, view) + 1) + 4
    header_metrics = header.fontMetrics()
    cell_metrics = view.fontMetrics()
    model = view.model()

    def header_width(column: StepColumn) -> int:
        text = str(model.headerData(column, Qt.Orientation.Horizontal) or "")
        return header_metrics.horizontalAdvance(text) + header_pad

    header.setStretchLastSection(False)
    header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    header.setSectionResizeMode(StepColumn.REASON, QHeaderView.ResizeMode.Stretch)
    fixed = 0
    for column, widest in _WIDEST_CELLS.items():
        width = max(header_width(column), cell_metrics.horizontalAdvance(widest) + cell_pad)
        header.resizeSection(column, width)
        fixed += width
    icon = view.iconSize().width()
    if icon <= 0:
        icon = style.pixelMetric(QStyle.PixelMetric.PM_SmallIconSize, None, view)
    verdict = max(
        header_width(StepColumn.VERDICT),
        icon + 4 + cell_metrics.horizontalAdvance(_WIDEST_VERDICT) + cell_pad,
    )
    header.resizeSection(StepColumn.VERDICT, verdict)
    fixed += verdict
    room = view.viewport().width() - fixed - REASON_MIN_WIDTH
    header.resizeSection(StepColumn.STEP, max(STEP_TITLE_WIDTH[0], min(widest_step, room)))


def steps_table_width(view: QTableView, reason_width: int = REASON_MIN_WIDTH) -> int:
    """The width a steps table needs to show every column but the Reason whole and the
    Reason at ``reason_width`` (its frame and vertical scroll bar included)."""
    header = view.horizontalHeader()
    fixed = sum(header.sectionSize(column) for column in StepColumn if column != StepColumn.STEP)
    fixed -= header.sectionSize(StepColumn.REASON)
    scroll_bar = view.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent, None, view)
    return fixed + STEP_TITLE_WIDTH[1] + reason_width + scroll_bar + 2 * view.frameWidth()
