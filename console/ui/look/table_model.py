"""The part every flat, read-only table model of the window shares."""

from __future__ import annotations

from collections.abc import Mapping
from enum import IntEnum
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt

__all__ = ["AnyIndex", "ReadOnlyTableModel"]

AnyIndex = QModelIndex | QPersistentModelIndex


class ReadOnlyTableModel(QAbstractTableModel):
    """A table whose columns are an ``IntEnum`` with a header text each; rows come from
    :meth:`row_total`, cells from the subclass's ``data``. Rows are selectable, not editable."""

    def __init__(
        self, columns: type[IntEnum], headers: Mapping[Any, str], parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self._columns = columns
        self._headers = headers

    def row_total(self) -> int:
        """How many rows the table shows."""
        raise NotImplementedError

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else self.row_total()

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._columns)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if orientation == Qt.Orientation.Horizontal and 0 <= section < len(self._columns):
            return self._headers[self._columns(section)]
        if orientation == Qt.Orientation.Vertical:
            return section + 1
        return None

    def flags(self, index: AnyIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
