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

from console.central.check_model import CheckOutcome, CheckResult, StepResult, Verdict
from console.central.model import ReservationState
from console.ui.presentation import Look, connector_status_look, reservation_state_look
from console.ui.table_model import AnyIndex, ReadOnlyTableModel

__all__ = [
    "CheckStepsModel",
    "StepColumn",
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
    StepColumn.CONNECTOR: "Connector",
    StepColumn.VERDICT: "Verdict",
    StepColumn.REASON: "Reason",
    StepColumn.DURATION: "Duration",
}
_LAST_COLUMN = max(StepColumn)

# The reservation looks already carry the colours a technician knows from the window
# (green = went well, red = refused, blue = in progress, grey = nothing happened); a
# verdict only needs its own word.
_VERDICT_LOOKS: dict[Verdict, Look] = {
    Verdict.PENDING: replace(connector_status_look(None), text="Pending"),
    Verdict.RUNNING: replace(reservation_state_look(ReservationState.SENDING), text="Running…"),
    Verdict.PASSED: replace(reservation_state_look(ReservationState.ACCEPTED), text="Passed"),
    Verdict.FAILED: replace(reservation_state_look(ReservationState.REJECTED), text="Failed"),
    Verdict.SKIPPED: replace(reservation_state_look(ReservationState.CANCELLED), text="Skipped"),
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
    order = (Verdict.PASSED, Verdict.FAILED, Verdict.SKIPPED, Verdict.RUNNING, Verdict.PENDING)
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
            return f"Step {step.number}: {step.title}"
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
