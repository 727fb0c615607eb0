"""The message trace panel: filters, the frame table, and the selected frame in full."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from PySide6.QtCore import QModelIndex, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QFontDatabase, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QSplitter,
    QTableView,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from console.central.model import TraceDirection, TraceEntry
from console.ui.trace.trace_model import TraceColumn, TraceFilter, TraceTableModel, format_frame

__all__ = ["TracePanel"]

_log = logging.getLogger(__name__)

TEXT_FILTER_DELAY_MS = 250
"""Typing in the search field filters once the typing pauses, not on every key."""

_COLUMN_WIDTHS = {
    TraceColumn.TIME: 105,
    TraceColumn.STATION: 80,
    TraceColumn.VERSION: 50,
    TraceColumn.DIRECTION: 85,
    TraceColumn.TYPE: 215,
    TraceColumn.ACTION: 160,
    TraceColumn.MESSAGE_ID: 110,
    TraceColumn.LATENCY: 80,
}
_DIRECTIONS: list[tuple[str, TraceDirection | None]] = [
    ("All directions", None),
    ("← in (from stations)", TraceDirection.IN),
    ("→ out (to stations)", TraceDirection.OUT),
    ("• events", TraceDirection.EVENT),
]


class TracePanel(QWidget):
    """Every frame in and out, live; select one to read it, jump between request and answer.

    :meth:`append` takes the batches of the window's change feed. Follow keeps the newest
    frame in sight; Pause freezes the table (frames keep arriving and are shown on resume).
    """

    sig_message = Signal(str)
    """A short note for the status bar (e.g. the linked frame is hidden by the filters)."""

    def __init__(self, model: TraceTableModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("trace_panel")
        self.model = model

        self.station_combo = QComboBox()
        self.station_combo.setObjectName("trace_station")
        self.action_combo = QComboBox()
        self.action_combo.setObjectName("trace_action")
        self.direction_combo = QComboBox()
        self.errors_check = QCheckBox("Problems only")
        self.errors_check.setToolTip("Only CALLERRORs, refused connections, timeouts, late answers")
        self.text_edit = QLineEdit()
        self.text_edit.setObjectName("trace_text")
        self.text_edit.setPlaceholderText("Search the frames' text…")
        self.text_edit.setClearButtonEnabled(True)
        self.follow_check = QCheckBox("Follow")
        self.follow_check.setToolTip("Keep the newest frame in sight")
        self.follow_check.setChecked(True)
        self.pause_action = QAction("Pause", self)
        self.pause_action.setCheckable(True)
        self.pause_action.setShortcut(QKeySequence("Ctrl+Shift+P"))
        self.pause_action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.pause_action.setToolTip(
            "Freeze the table; new frames are kept and shown on resume (Ctrl+Shift+P)"
        )
        self.jump_action = QAction("Jump to answer", self)
        self.jump_action.setShortcut(QKeySequence("Ctrl+J"))
        self.jump_action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.jump_action.setEnabled(False)
        self.waiting_label = QLabel()
        self.waiting_label.setProperty("role", "field-hint")
        self.count_label = QLabel()
        self.count_label.setProperty("role", "field-hint")
        self.reservation_chip = QToolButton()
        self.reservation_chip.setObjectName("trace_reservation_filter")
        self.reservation_chip.setVisible(False)
        self._reservation: tuple[str, int] | None = None
        """(station id, reservation id) while only that reservation's frames show."""

        self.table = QTableView()
        self.table.setObjectName("trace_table")
        self.detail = QPlainTextEdit()
        self.detail.setObjectName("trace_detail")
        self.detail.setReadOnly(True)
        self.detail.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.detail.setPlaceholderText("Select a frame to read it in full")

        self._text_timer = QTimer(self)
        self._text_timer.setSingleShot(True)
        self._text_timer.setInterval(TEXT_FILTER_DELAY_MS)

        self._build()
        self._connect_signals()
        self._refresh_choices()
        self._refresh_labels()

    # --- construction -----------------------------------------------------------------------

    def _build(self) -> None:
        self.station_combo.addItem("All stations", None)
        self.action_combo.addItem("All actions", None)
        for text, direction in _DIRECTIONS:
            # Plain strings: Qt would not give an enum member back from itemData.
            self.direction_combo.addItem(text, None if direction is None else direction.value)
        self.station_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.action_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)

        pause_button = QToolButton()
        pause_button.setDefaultAction(self.pause_action)
        pause_button.setObjectName("trace_pause")
        jump_button = QToolButton()
        jump_button.setDefaultAction(self.jump_action)
        jump_button.setObjectName("trace_jump")
        self.addAction(self.pause_action)
        self.addAction(self.jump_action)

        controls = QHBoxLayout()
        controls.setContentsMargins(0, 0, 0, 0)
        controls.addWidget(self.reservation_chip)
        controls.addWidget(self.station_combo)
        controls.addWidget(self.action_combo)
        controls.addWidget(self.direction_combo)
        controls.addWidget(self.errors_check)
        controls.addWidget(self.text_edit, 1)
        controls.addWidget(self.follow_check)
        controls.addWidget(pause_button)
        controls.addWidget(jump_button)
        controls.addWidget(self.waiting_label)
        controls.addWidget(self.count_label)

        table = self.table
        table.setModel(self.model)
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        table.setAlternatingRowColors(True)
        table.setWordWrap(False)
        table.setShowGrid(False)
        table.setIconSize(table.iconSize().expandedTo(table.iconSize()))
        # Fixed row heights and no vertical header keep 100,000 rows cheap to lay out.
        vertical = table.verticalHeader()
        vertical.setVisible(False)
        vertical.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        vertical.setDefaultSectionSize(22)
        header = table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        for column, width in _COLUMN_WIDTHS.items():
            header.resizeSection(column, width)

        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(table)
        splitter.addWidget(self.detail)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        splitter.setChildrenCollapsible(False)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(controls)
        layout.addWidget(splitter, 1)

    def _connect_signals(self) -> None:
        self.station_combo.activated.connect(self._on_station_chosen)
        self.reservation_chip.clicked.connect(self.clear_reservation_filter)
        self.action_combo.activated.connect(self.apply_filters)
        self.direction_combo.activated.connect(self.apply_filters)
        self.errors_check.toggled.connect(self.apply_filters)
        self.text_edit.textChanged.connect(lambda _text: self._text_timer.start())
        self._text_timer.timeout.connect(self.apply_filters)
        self.pause_action.toggled.connect(self.set_paused)
        self.follow_check.toggled.connect(self._on_follow_toggled)
        self.jump_action.triggered.connect(self.jump_to_partner)
        self.table.doubleClicked.connect(lambda _index: self.jump_to_partner())
        self.table.selectionModel().currentRowChanged.connect(self._on_current_changed)
        self.model.modelReset.connect(self._after_reset)
        self.table.verticalScrollBar().actionTriggered.connect(self._on_user_scrolled)

    # --- feeding ----------------------------------------------------------------------------

    def append(self, entries: Iterable[TraceEntry]) -> None:
        """New trace entries (the change feed's batch, or what the Central System holds)."""
        stations, actions = len(self.model.stations()), len(self.model.actions())
        self.model.append(entries)
        if (stations, actions) != (len(self.model.stations()), len(self.model.actions())):
            self._refresh_choices()
        self._refresh_labels()
        if self.follow_check.isChecked() and not self.model.paused:
            self.table.scrollToBottom()

    # --- filters ----------------------------------------------------------------------------

    def current_filter(self) -> TraceFilter:
        """The filter the controls describe."""
        return TraceFilter(
            station_id=self.station_combo.currentData(),
            action=self.action_combo.currentData(),
            direction=_direction(self.direction_combo.currentData()),
            errors_only=self.errors_check.isChecked(),
            text=self.text_edit.text().strip(),
            reservation_id=None if self._reservation is None else self._reservation[1],
        )

    def apply_filters(self) -> None:
        """Show what the controls ask for; the selected frame stays selected if it still shows.

        With Follow on, the newest matching frame is then in sight; with Follow off, the
        selected frame (the reset alone would leave the view at the oldest rows).
        """
        self._text_timer.stop()
        row = self.selected_row()
        selected = None if row is None else self.model.absolute(row)
        self.model.set_filter(self.current_filter())
        if selected is not None:
            self.select_absolute(selected)
        if self.follow_check.isChecked():
            self.table.scrollToBottom()
        self._refresh_labels()

    def show_reservation(self, station_id: str, reservation_id: int) -> int:
        """Only the frames of one reservation: its ReserveNow and answer, its cancel, the
        transaction that used it. The other filters are cleared; the first frame is
        selected. Returns how many frames show."""
        self._reservation = (station_id, reservation_id)
        self.reservation_chip.setText(f"Reservation {reservation_id} on {station_id}  ✕")
        self.reservation_chip.setToolTip(
            f"Only the frames of reservation {reservation_id} on {station_id}: "
            "click to show every frame again"
        )
        self.reservation_chip.setVisible(True)
        self._refresh_choices()
        self.station_combo.setCurrentIndex(max(0, self.station_combo.findData(station_id)))
        self.action_combo.setCurrentIndex(0)
        self.direction_combo.setCurrentIndex(0)
        self.errors_check.blockSignals(True)
        self.errors_check.setChecked(False)
        self.errors_check.blockSignals(False)
        self.text_edit.blockSignals(True)
        self.text_edit.clear()
        self.text_edit.blockSignals(False)
        self.follow_check.setChecked(False)  # the selection below stays in sight
        self.apply_filters()
        shown = self.model.rowCount()
        if shown:
            self.select_row(0)
        else:
            self.sig_message.emit(
                f"No frame of reservation {reservation_id} on {station_id} is held in the "
                "trace (File > Export trace reads the older ones from the database)"
            )
        return shown

    def reservation_filter(self) -> tuple[str, int] | None:
        """(station id, reservation id) while the trace shows only that reservation."""
        return self._reservation

    def clear_reservation_filter(self) -> None:
        """Show every frame again (of every station: the station came with the reservation)."""
        self._reservation = None
        self.reservation_chip.setVisible(False)
        self.station_combo.setCurrentIndex(0)
        self.apply_filters()

    def _on_station_chosen(self, _index: int) -> None:
        # Another station: the reservation filter (about one station) no longer applies.
        chosen = self.station_combo.currentData()
        if self._reservation is not None and self._reservation[0] != chosen:
            self._reservation = None
            self.reservation_chip.setVisible(False)
        self.apply_filters()

    def set_station_filter(self, station_id: str | None) -> None:
        self._refresh_choices()
        self.station_combo.setCurrentIndex(max(0, self.station_combo.findData(station_id)))
        self.apply_filters()

    def set_action_filter(self, action: str | None) -> None:
        self._refresh_choices()
        self.action_combo.setCurrentIndex(max(0, self.action_combo.findData(action)))
        self.apply_filters()

    def set_direction_filter(self, direction: TraceDirection | None) -> None:
        value = None if direction is None else direction.value
        self.direction_combo.setCurrentIndex(max(0, self.direction_combo.findData(value)))
        self.apply_filters()

    def _refresh_choices(self) -> None:
        for combo, values in (
            (self.station_combo, self.model.stations()),
            (self.action_combo, self.model.actions()),
        ):
            chosen = combo.currentData()
            combo.blockSignals(True)
            while combo.count() > 1:
                combo.removeItem(1)
            for value in values:
                combo.addItem(value, value)
            combo.setCurrentIndex(max(0, combo.findData(chosen)))
            combo.blockSignals(False)

    # --- pause and follow -------------------------------------------------------------------

    def set_paused(self, paused: bool) -> None:
        """Freeze (or unfreeze) the table; frames keep being held meanwhile."""
        if self.pause_action.isChecked() != paused:
            self.pause_action.setChecked(paused)  # re-enters through toggled
            return
        self.model.set_paused(paused)
        self.pause_action.setText("Resume" if paused else "Pause")
        self._refresh_labels()
        if not paused and self.follow_check.isChecked():
            self.table.scrollToBottom()

    def _on_user_scrolled(self, _action: int) -> None:
        # Scrolling up to read something stops Follow; scrolling back to the end resumes it.
        # actionTriggered fires before the move: look once it is done.
        QTimer.singleShot(0, self._follow_if_at_the_end)

    def _follow_if_at_the_end(self) -> None:
        bar = self.table.verticalScrollBar()
        self.follow_check.setChecked(bar.value() >= bar.maximum())

    def _on_follow_toggled(self, follow: bool) -> None:
        if follow:
            self.table.scrollToBottom()

    def _refresh_labels(self) -> None:
        waiting = self.model.waiting_count()
        self.waiting_label.setText(f"Paused — {waiting} new" if self.model.paused else "")
        shown, held = self.model.rowCount(), len(self.model.buffer)
        self.count_label.setText(f"{shown:,} of {held:,}" if shown != held else f"{held:,} frames")

    # --- selection, detail, pairing ---------------------------------------------------------

    def selected_row(self) -> int | None:
        index = self.table.selectionModel().currentIndex()
        if index.isValid() and self.table.selectionModel().isSelected(index):
            return index.row()
        return None

    def selected_entry(self) -> TraceEntry | None:
        row = self.selected_row()
        return None if row is None else self.model.entry(row)

    def select_row(self, row: int) -> None:
        self.table.selectRow(row)
        self.table.scrollTo(self.model.index(row, 0), QAbstractItemView.ScrollHint.PositionAtCenter)

    def select_absolute(self, absolute: int) -> bool:
        """Select the row showing the buffer's entry number ``absolute``, if it shows."""
        row = self.model.row_of_absolute(absolute)
        if row is None:
            return False
        self.select_row(row)
        return True

    def jump_to_partner(self) -> bool:
        """Select the answer of the selected request, or the request of the selected answer."""
        row = self.selected_row()
        if row is None:
            return False
        partner = self.model.partner_row(row)
        if partner is None:
            if self.model.has_partner(row):
                self.sig_message.emit("The linked frame is hidden by the filters")
            else:
                self.sig_message.emit("No linked request or answer is held for this frame")
            return False
        self.select_row(partner)
        return True

    def _on_current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if not current.isValid():
            self.detail.clear()
            self.jump_action.setEnabled(False)
            return
        entry = self.model.entry(current.row())
        # Formatting happens here, for the one selected frame only.
        self.detail.setPlainText(format_frame(entry))
        self.jump_action.setEnabled(self.model.has_partner(current.row()))
        self.jump_action.setText("Jump to answer" if entry.message_type == 2 else "Jump to request")

    def _after_reset(self) -> None:
        self.detail.clear()
        self.jump_action.setEnabled(False)


def _direction(value: object) -> TraceDirection | None:
    return TraceDirection(value) if isinstance(value, str) and value else None
