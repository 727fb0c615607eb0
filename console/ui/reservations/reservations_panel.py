"""The reservations panel: every attempt the book holds, filtered by station, state and text.

The table shows this session's attempts and the earlier ones the Central System loaded from
its database. :class:`ReservationFilterProxy` narrows it without copying a record;
:class:`ReservationsPanel` is the filter bar above the window's table, with the cancel button.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import (
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
    Signal,
)
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from console.central.model import ReservationState
from console.ui.look.presentation import reservation_state_look
from console.ui.reservations.reservation_model import ReservationTableModel
from console.ui.stations.station_model import ItemRole

__all__ = ["ALL", "ReservationFilterProxy", "ReservationsPanel"]

ALL = ""
"""The combo entries' data meaning "no filter" (every station, every state)."""

AnyIndex = QModelIndex | QPersistentModelIndex


class ReservationFilterProxy(QSortFilterProxyModel):
    """Sorts the reservation table and keeps the rows that pass every filter.

    The filters add up: station, state, active only, the panel's text (every column's
    text, case-insensitive) and the window's main filter box (the same match), which the
    panel names whenever it hides rows.
    """

    sig_filters_changed = Signal()
    """A filter changed (the panel updates its "n of m" count)."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._station_id: str | None = None
        self._state: ReservationState | None = None
        self._active_only = False
        self._text = ""
        self._main_filter = ""
        self.setSortRole(ItemRole.SORT)
        self.setFilterRole(ItemRole.FILTER)
        self.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)

    def set_station(self, station_id: str | None) -> None:
        self._change(lambda: setattr(self, "_station_id", station_id or None))

    def set_state(self, state: ReservationState | None) -> None:
        self._change(lambda: setattr(self, "_state", state))

    def set_active_only(self, active_only: bool) -> None:
        self._change(lambda: setattr(self, "_active_only", active_only))

    def set_text(self, text: str) -> None:
        self._change(lambda: setattr(self, "_text", text.strip().casefold()))

    def set_main_filter(self, text: str) -> None:
        """The window's main filter (Ctrl+F), which narrows the tree and this table alike."""
        self._change(lambda: setattr(self, "_main_filter", text.strip()))

    def main_filter(self) -> str:
        """The main filter's text as typed (empty: none)."""
        return self._main_filter

    def _change(self, apply: Callable[[], None]) -> None:
        # Qt 6.10 replaced invalidateFilter() by this begin/end pair around the change.
        self.beginFilterChange()
        apply()
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)
        self.sig_filters_changed.emit()

    def filterAcceptsRow(self, source_row: int, source_parent: AnyIndex) -> bool:
        model = self.sourceModel()
        if not isinstance(model, ReservationTableModel) or source_parent.isValid():
            return super().filterAcceptsRow(source_row, source_parent)
        record = model.record(source_row)
        if self._station_id is not None and record.station_id != self._station_id:
            return False
        if self._state is not None and record.state is not self._state:
            return False
        if self._active_only and not record.active:
            return False
        if self._text or self._main_filter:
            row_text = str(model.index(source_row, 0).data(ItemRole.FILTER) or "").casefold()
            if self._text not in row_text or self._main_filter.casefold() not in row_text:
                return False
        return super().filterAcceptsRow(source_row, source_parent)


class ReservationsPanel(QWidget):
    """The filter bar, the cancel button and the answer line around the reservations table.

    When the window's main filter hides attempts, a line above the table says so and
    offers to show them all again.
    """

    sig_clear_main_filter = Signal()
    """The technician asked to show the attempts the main filter hides (clear it)."""

    def __init__(
        self,
        model: ReservationTableModel,
        proxy: ReservationFilterProxy,
        table: QTableView,
        cancel_button: QPushButton,
        cancel_answer: QWidget,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("reservations_panel")
        self.model = model
        self.proxy = proxy
        self.table = table
        self.station_combo = QComboBox()
        self.station_combo.setObjectName("reservation_station_filter")
        self.state_combo = QComboBox()
        self.state_combo.setObjectName("reservation_state_filter")
        self.active_only_check = QCheckBox("Active only")
        self.text_edit = QLineEdit()
        self.text_edit.setObjectName("reservation_text_filter")
        self.count_label = QLabel()
        self.count_label.setProperty("role", "field-hint")
        self.main_filter_label = QLabel()
        self.main_filter_label.setObjectName("reservation_main_filter_note")
        self.main_filter_label.setProperty("role", "field-hint")
        self.main_filter_clear = QToolButton()
        self.main_filter_clear.setText("Show all")
        self.main_filter_clear.setToolTip("Clear the main filter (the tree shows everything too)")
        self.main_filter_note = QWidget()
        self.main_filter_note.setVisible(False)
        self.active_only_action = QAction("Active reservations only", self)
        self.active_only_action.setCheckable(True)
        self.active_only_action.setShortcut(QKeySequence("Ctrl+Shift+A"))
        self.active_only_action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)

        self._build(cancel_button, cancel_answer)
        self._connect_signals()
        self._refresh_stations()
        self._refresh_count()

    def _build(self, cancel_button: QPushButton, cancel_answer: QWidget) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 0)
        layout.setSpacing(4)
        # One row of filters, count and cancel: the dock's tab names the panel, and every
        # line saved is a row of the table on a laptop screen.
        filters = QHBoxLayout()
        self.station_combo.addItem("All stations", ALL)
        self.station_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.station_combo.setToolTip("Show the reservations of one station")
        self.state_combo.addItem("All states", ALL)
        for state in ReservationState:
            look = reservation_state_look(state)
            self.state_combo.addItem(look.icon(), look.text, state.value)
        self.state_combo.setToolTip("Show the reservations in one lifecycle state")
        self.active_only_check.setToolTip(
            "Only the reservations a station holds now (Ctrl+Shift+A)"
        )
        self.text_edit.setPlaceholderText("Search reservations: id, idTag, error…")
        self.text_edit.setToolTip(
            "Every reservation attempt, this session and earlier ones: search them"
        )
        self.text_edit.setClearButtonEnabled(True)
        filters.addWidget(QLabel("Station"))
        filters.addWidget(self.station_combo)
        filters.addWidget(QLabel("State"))
        filters.addWidget(self.state_combo)
        filters.addWidget(self.active_only_check)
        filters.addWidget(self.text_edit, 1)
        filters.addWidget(self.count_label)
        filters.addWidget(cancel_button)
        layout.addLayout(filters)
        note = QHBoxLayout(self.main_filter_note)
        note.setContentsMargins(0, 0, 0, 0)
        note.addWidget(self.main_filter_label, 1)
        note.addWidget(self.main_filter_clear)
        layout.addWidget(self.main_filter_note)
        layout.addWidget(cancel_answer)
        layout.addWidget(self.table)
        self.addAction(self.active_only_action)

    def _connect_signals(self) -> None:
        self.station_combo.currentIndexChanged.connect(self._on_station_chosen)
        self.state_combo.currentIndexChanged.connect(self._on_state_chosen)
        self.active_only_check.toggled.connect(self.proxy.set_active_only)
        self.active_only_check.toggled.connect(self.active_only_action.setChecked)
        self.active_only_action.toggled.connect(self.active_only_check.setChecked)
        self.text_edit.textChanged.connect(self.proxy.set_text)
        self.proxy.sig_filters_changed.connect(self._refresh_count)
        self.model.rowsInserted.connect(self._on_rows_inserted)
        self.model.modelReset.connect(self._refresh_stations)
        self.proxy.rowsInserted.connect(self._refresh_count)
        self.proxy.rowsRemoved.connect(self._refresh_count)
        self.proxy.modelReset.connect(self._refresh_count)
        self.proxy.layoutChanged.connect(self._refresh_count)
        self.main_filter_clear.clicked.connect(self.sig_clear_main_filter)

    # --- filters ----------------------------------------------------------------------------

    def set_station_filter(self, station_id: str | None) -> None:
        """Show one station's reservations (None: all); adds the station to the combo."""
        if station_id and self.station_combo.findData(station_id) < 0:
            self._refresh_stations(extra=station_id)
        index = self.station_combo.findData(station_id or ALL)
        self.station_combo.setCurrentIndex(max(index, 0))

    def set_state_filter(self, state: ReservationState | None) -> None:
        index = self.state_combo.findData(state.value if state is not None else ALL)
        self.state_combo.setCurrentIndex(max(index, 0))

    def _on_station_chosen(self, _index: int) -> None:
        self.proxy.set_station(self.station_combo.currentData() or None)

    def _on_state_chosen(self, _index: int) -> None:
        value = self.state_combo.currentData()
        self.proxy.set_state(ReservationState(value) if value else None)

    def _on_rows_inserted(self, _parent: QModelIndex, first: int, last: int) -> None:
        known = {self.station_combo.itemData(i) for i in range(self.station_combo.count())}
        if any(self.model.record(row).station_id not in known for row in range(first, last + 1)):
            self._refresh_stations()
        self._refresh_count()

    def _refresh_stations(self, extra: str | None = None) -> None:
        stations = {record.station_id for record in self.model.records()}
        if extra:
            stations.add(extra)
        chosen = self.station_combo.currentData() or ALL
        self.station_combo.blockSignals(True)
        try:
            self.station_combo.clear()
            self.station_combo.addItem("All stations", ALL)
            for station_id in sorted(stations, key=str.casefold):
                self.station_combo.addItem(station_id, station_id)
            self.station_combo.setCurrentIndex(max(self.station_combo.findData(chosen), 0))
        finally:
            self.station_combo.blockSignals(False)

    def _refresh_count(self) -> None:
        shown, total = self.proxy.rowCount(), self.model.rowCount()
        attempts = "attempt" if total == 1 else "attempts"
        self.count_label.setText(
            f"{shown} of {total} {attempts} shown" if shown != total else f"{total} {attempts}"
        )
        self.count_label.setToolTip(f"{shown} of {total} reservation attempts shown")
        main_filter = self.proxy.main_filter()
        if main_filter:
            self.main_filter_label.setText(
                f"Filtered by the main filter “{main_filter}” (Ctrl+F): it narrows the "
                "stations and these reservations alike"
            )
        self.main_filter_note.setVisible(bool(main_filter))
