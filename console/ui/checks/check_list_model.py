"""The list of reservation checks in the checks panel, as a Qt table model: one row a run."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from enum import IntEnum
from typing import Any

from PySide6.QtCore import (
    QModelIndex,
    QObject,
    Qt,
)

from console.central.check.model import CheckOutcome, CheckResult
from console.ui.checks.check_steps_model import (
    outcome_look,
    verdict_summary,
)
from console.ui.look.presentation import format_local_time
from console.ui.look.table_model import AnyIndex, ReadOnlyTableModel

__all__ = [
    "SORT_ROLE",
    "CheckColumn",
    "CheckListModel",
    "Clock",
    "connectors_text",
    "identity_text",
    "same_run",
]

Clock = Callable[[], datetime]

SORT_ROLE = Qt.ItemDataRole.UserRole + 1
"""A value that sorts a column in its natural order (times as timestamps, counts as ints)."""


class CheckColumn(IntEnum):
    STATION = 0
    IDENTITY = 1
    FIRMWARE = 2
    STARTED = 3
    CONNECTORS = 4
    OUTCOME = 5
    FAILED = 6


_HEADERS = {
    CheckColumn.STATION: "Station",
    CheckColumn.IDENTITY: "Vendor / model",
    CheckColumn.FIRMWARE: "Firmware",
    CheckColumn.STARTED: "Started",
    CheckColumn.CONNECTORS: "Conn.",
    CheckColumn.OUTCOME: "Outcome",
    CheckColumn.FAILED: "Failed",
}


def same_run(a: CheckResult, b: CheckResult) -> bool:
    """Two copies of one run (a running copy has no database id yet)."""
    if a.check_id is not None and a.check_id == b.check_id:
        return True
    return a.station_id == b.station_id and a.started_at == b.started_at


def connectors_text(result: CheckResult) -> str:
    return ", ".join(str(c) for c in result.connectors) or "—"


def identity_text(result: CheckResult) -> str:
    return " ".join(part for part in (result.vendor, result.model) if part) or "—"


class CheckListModel(ReadOnlyTableModel):
    """The stored checks, one row each (a newer copy of a run replaces its row)."""

    def __init__(self, parent: QObject | None = None, *, clock: Clock | None = None) -> None:
        super().__init__(CheckColumn, _HEADERS, parent)
        self._clock: Clock = clock or (lambda: datetime.now(UTC))
        self._results: list[CheckResult] = []

    def set_results(self, results: list[CheckResult]) -> None:
        self.beginResetModel()
        self._results = list(results)
        self.endResetModel()

    def add_result(self, result: CheckResult) -> int:
        """Add a run, or replace the row of the same run; returns its row."""
        for row, held in enumerate(self._results):
            if same_run(held, result):
                self._results[row] = result
                self.dataChanged.emit(self.index(row, 0), self.index(row, len(CheckColumn) - 1))
                return row
        row = len(self._results)
        self.beginInsertRows(QModelIndex(), row, row)
        self._results.append(result)
        self.endInsertRows()
        return row

    def result(self, row: int) -> CheckResult | None:
        return self._results[row] if 0 <= row < len(self._results) else None

    def results(self) -> list[CheckResult]:
        return list(self._results)

    def row_total(self) -> int:
        return len(self._results)

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._results):
            return None
        result = self._results[index.row()]
        column = CheckColumn(index.column())
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(result, column)
        if role == SORT_ROLE:
            return self._sort_key(result, column)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(result, column)
        if (
            column == CheckColumn.OUTCOME
            and (look_data := outcome_look(result.outcome).role_data(role)) is not None
        ):
            return look_data
        if column == CheckColumn.FAILED:
            if role == Qt.ItemDataRole.TextAlignmentRole:
                return int(Qt.AlignmentFlag.AlignCenter)
            if role == Qt.ItemDataRole.ForegroundRole and result.failed_steps:
                return outcome_look(CheckOutcome.FAILED).foreground_color()
        return None

    def _display(self, result: CheckResult, column: CheckColumn) -> str:
        match column:
            case CheckColumn.STATION:
                return result.station_id
            case CheckColumn.IDENTITY:
                return identity_text(result)
            case CheckColumn.FIRMWARE:
                return result.firmware_version or "—"
            case CheckColumn.STARTED:
                return format_local_time(result.started_at, self._clock())
            case CheckColumn.CONNECTORS:
                return connectors_text(result)
            case CheckColumn.OUTCOME:
                text = outcome_look(result.outcome).text
                return text + (" ⚠" if result.left_behind else "")
            case CheckColumn.FAILED:
                return str(len(result.failed_steps))
        return ""  # pragma: no cover - every column is matched above

    def _sort_key(self, result: CheckResult, column: CheckColumn) -> Any:
        if column == CheckColumn.STARTED:
            return result.started_at.timestamp()
        if column == CheckColumn.FAILED:
            return len(result.failed_steps)
        return self._display(result, column).casefold()

    def _tooltip(self, result: CheckResult, column: CheckColumn) -> str | None:
        if column == CheckColumn.OUTCOME:
            text = f"{outcome_look(result.outcome).text}: {verdict_summary(result)}"
            if result.reason:
                text += f"\n{result.reason}"
            if result.left_behind:
                text += "\nLeft behind on the station: " + ", ".join(
                    str(i) for i in result.left_behind
                )
            return text
        if column == CheckColumn.STARTED:
            return result.started_at.astimezone().strftime("%Y-%m-%d %H:%M:%S %Z")
        if column == CheckColumn.STATION:
            return " · ".join(
                part
                for part in (
                    result.station_id,
                    identity_text(result),
                    f"firmware {result.firmware_version or '—'}",
                    f"serial {result.serial_number}" if result.serial_number else "",
                )
                if part
            )
        if column == CheckColumn.IDENTITY and result.serial_number:
            return f"Serial number {result.serial_number}"
        return None


# --- evidence -------------------------------------------------------------------------------
