"""The "Reservation checks" panel: every stored check, and the chosen one in full.

The list holds what the archive (the Central System's database) kept, oldest run at the
bottom, and every check that ends while the window is open (:meth:`ChecksPanel.add_result`).
Choosing one shows its identity and outcome, its connector timeline, its steps, and the
frames of the chosen step. "Export check…" writes it as JSON or as CSV (one row per step),
with the timeline as a PNG beside it if asked.

The list's model is :mod:`~console.ui.checks.check_list_model`, the export
:mod:`~console.ui.checks.check_export`; what stays is the panel's layout, which adapts its
splitters to the screen (1366x768 first) and is one thing for that reason.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import (
    QEvent,
    QModelIndex,
    QObject,
    QSize,
    QSortFilterProxyModel,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import (
    QAction,
    QFontDatabase,
    QKeySequence,
    QResizeEvent,
    QShowEvent,
    QTextOption,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QScrollArea,
    QSplitter,
    QStyle,
    QTableView,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from console.central.check.model import CheckArchive, CheckResult, StepResult
from console.central.export import TRACE_MESSAGE_TYPES
from console.central.model import TraceDirection, TraceEntry
from console.ui.checks.check_export import CheckExportDialog, CheckExportFormat, export_check
from console.ui.checks.check_list_model import (
    SORT_ROLE,
    CheckColumn,
    CheckListModel,
    Clock,
    connectors_text,
    identity_text,
    same_run,
)
from console.ui.checks.check_steps_model import (
    CheckStepsModel,
    fit_step_columns,
    outcome_look,
    steps_table_width,
    verdict_look,
    verdict_summary,
)
from console.ui.checks.timeline_view import CheckTimeline
from console.ui.export_folder import default_folder as documents_or_home
from console.ui.look.presentation import format_latency

__all__ = ["ChecksPanel", "evidence_text"]

_log = logging.getLogger(__name__)


# The texts each column of the list should show whole (longer ones are elided, the tooltip
# or the summary above the steps has them); the Outcome cell also holds its icon.
_LIST_CELL_SAMPLES = {
    CheckColumn.STATION: "CP-0001",
    CheckColumn.IDENTITY: "Acme Wallbox 22",
    CheckColumn.FIRMWARE: "10.3.57",
    CheckColumn.STARTED: "00:00:00",
    CheckColumn.CONNECTORS: "1, 2",
    CheckColumn.OUTCOME: "Cancelled ⚠",
    CheckColumn.FAILED: "99",
}
_LIST_MAX_SHARE = 0.4
"""Side by side, the list of checks takes at most this share of the panel's width."""
_DETAIL_MIN_WIDTH = 840
"""Side by side only when the details get this much beside the list (else stacked): the
steps table with a readable Reason column, and the frames beside it."""
_NARROW_HIDDEN = (CheckColumn.IDENTITY,)
"""Left out of the list when that keeps it beside the details (a laptop screen): the
summary above the steps and the Station cell's tooltip still say them."""
_ARRANGE_MIN_WIDTH = 500
"""Narrower, the panel is not laid out yet (or hardly usable): its splitters are left be."""
_STACKED_MIN_HEIGHT = 420
"""Below this height the panel stays side by side however narrow (then it scrolls)."""
_STACKED_LIST_ROWS = 4
"""Stacked, the list shows about this many checks above the details."""
_EVIDENCE_MIN_WIDTH = 240
_REASON_WANTED_WIDTH = 420
"""On a wide panel, the steps table widens until its Reason column has this much."""
_ARROWS = {TraceDirection.IN: "← in", TraceDirection.OUT: "→ out", TraceDirection.EVENT: "• event"}


def evidence_text(step: StepResult | None) -> str:
    """The frames of a step, oldest first: a line of what it is, then the frame as sent."""
    if step is None:
        return ""
    # The whole verdict and reason lead: the steps table shows only the reason's start.
    verdict = verdict_look(step.verdict).text + (f": {step.reason}" if step.reason else "")
    if not step.evidence:
        return f"Step {step.number}: no frame was exchanged in this step.\n{verdict}"
    count = len(step.evidence)
    blocks = [
        f"Step {step.number}: {step.title} — {count} frame{'' if count == 1 else 's'}\n"
        f"{step.reference}\n{verdict}"
    ]
    for entry in step.evidence:
        blocks.append(_frame_block(entry))
    return "\n\n".join(blocks)


def _frame_block(entry: TraceEntry) -> str:
    local = entry.at.astimezone()
    head = [
        local.strftime("%H:%M:%S.") + f"{local.microsecond // 1000:03d}",
        _ARROWS.get(entry.direction, entry.direction.value),
    ]
    if entry.message_type is not None:
        head.append(TRACE_MESSAGE_TYPES.get(entry.message_type, str(entry.message_type)))
    if entry.action:
        head.append(entry.action)
    if entry.latency is not None:
        head.append(f"({format_latency(entry.latency)}{', LATE' if entry.late else ''})")
    elif entry.late:
        head.append("(LATE)")
    if entry.error_code:
        head.append(f"error {entry.error_code}")
    if entry.note:
        head.append(f"— {entry.note}")
    return "  ".join(head) + "\n" + entry.text


# --- the panel ------------------------------------------------------------------------------


class ChecksPanel(QWidget):
    """Every reservation check run on this install, and the chosen one: timeline, steps, frames."""

    sig_message = Signal(str)
    """A short note for the status bar (e.g. where an export was written)."""
    sig_failed = Signal(str)
    """(message): an export failed."""
    sig_exported = Signal(list)
    """(list of str paths): an export wrote these files."""

    def __init__(
        self,
        archive: CheckArchive | None = None,
        parent: QWidget | None = None,
        *,
        clock: Clock | None = None,
        default_folder: Callable[[], Path] | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("checks_panel")
        self._default_folder = default_folder or documents_or_home
        self.model = CheckListModel(self, clock=clock)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setSortRole(SORT_ROLE)
        self.steps_model = CheckStepsModel(self, clock=clock)
        self.dialog: CheckExportDialog | None = None
        """The open export dialog, if any (tests fill it in)."""

        self.table = QTableView()
        self.table.setObjectName("checks_table")
        self.summary = QLabel()
        self.summary.setObjectName("check_summary")
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.left_behind_label = QLabel()
        self.left_behind_label.setObjectName("check_left_behind")
        self.left_behind_label.setProperty("role", "answer")
        self.left_behind_label.setWordWrap(True)
        self.left_behind_label.setVisible(False)
        self.timeline = CheckTimeline()
        self.steps_table = QTableView()
        self.steps_table.setObjectName("check_steps_table")
        self.evidence = QPlainTextEdit()
        self.evidence.setObjectName("check_evidence")
        self.evidence.setReadOnly(True)
        # Wrapped (a frame's JSON anywhere): beside the steps the view is narrow on a laptop,
        # and nothing of a frame hides to the right.
        self.evidence.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        self.evidence.setWordWrapMode(QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere)
        self.evidence.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.evidence.setPlaceholderText("Select a step to read the frames it exchanged")
        self.count_label = QLabel()
        self.count_label.setProperty("role", "field-hint")
        self.export_action = QAction("Export check…", self)
        self.export_action.setToolTip("Write the selected check as JSON or CSV (and its timeline)")
        self.export_action.setShortcut(QKeySequence("Ctrl+Shift+X"))
        self.export_action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.export_action.setEnabled(False)
        self.addAction(self.export_action)

        self._build()
        self._connect_signals()
        self._load(archive)

    # --- construction -----------------------------------------------------------------------

    def _build(self) -> None:
        table = self.table
        table.setModel(self.proxy)
        table.setSortingEnabled(True)
        table.sortByColumn(CheckColumn.STARTED, Qt.SortOrder.DescendingOrder)  # newest first
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        table.setAlternatingRowColors(True)
        table.setWordWrap(False)
        table.verticalHeader().setVisible(False)
        table.verticalHeader().setDefaultSectionSize(24)
        table.horizontalHeader().setStretchLastSection(False)
        self._list_column_widths: dict[CheckColumn, int] = {}
        self._fit_list_columns()

        steps = self.steps_table
        steps.setModel(self.steps_model)
        steps.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        steps.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        steps.setAlternatingRowColors(True)
        steps.setWordWrap(False)
        steps.verticalHeader().setVisible(False)
        steps.verticalHeader().setDefaultSectionSize(22)
        fit_step_columns(steps)

        export_button = QToolButton()
        export_button.setObjectName("check_export_button")
        export_button.setDefaultAction(self.export_action)
        export_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)

        list_box = QWidget()
        list_layout = QVBoxLayout(list_box)
        list_layout.setContentsMargins(0, 0, 0, 0)
        list_layout.addWidget(self.count_label)
        list_layout.addWidget(table, 1)

        timeline_scroll = QScrollArea()
        timeline_scroll.setObjectName("check_timeline_scroll")
        timeline_scroll.setWidget(self.timeline)
        timeline_scroll.setWidgetResizable(True)
        timeline_scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        timeline_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.timeline_scroll = timeline_scroll

        steps_and_frames = QSplitter(Qt.Orientation.Horizontal)
        steps_and_frames.addWidget(steps)
        steps_and_frames.addWidget(self.evidence)
        steps_and_frames.setStretchFactor(0, 2)
        steps_and_frames.setStretchFactor(1, 1)
        steps_and_frames.setChildrenCollapsible(False)
        self.steps_splitter = steps_and_frames
        self._steps_sized_by_hand = False
        steps_and_frames.splitterMoved.connect(self._on_steps_split_moved)

        detail_split = QSplitter(Qt.Orientation.Vertical)
        detail_split.addWidget(timeline_scroll)
        detail_split.addWidget(steps_and_frames)
        detail_split.setStretchFactor(0, 1)
        detail_split.setStretchFactor(1, 2)
        detail_split.setChildrenCollapsible(False)
        self.detail_splitter = detail_split
        # Small minimums: as a tab beside the message trace, the panel must not make the
        # bottom dock area taller than the trace alone would (the tree keeps its room).
        for widget in (timeline_scroll, self.steps_table, self.evidence, self.table):
            widget.setMinimumHeight(24)
        self._timeline_sized_by_hand = False
        detail_split.splitterMoved.connect(self._on_detail_split_moved)
        detail_split.installEventFilter(self)
        steps.viewport().installEventFilter(self)  # the Step column follows its width

        detail = QWidget()
        detail_layout = QVBoxLayout(detail)
        detail_layout.setContentsMargins(0, 0, 0, 0)
        summary_row = QHBoxLayout()
        summary_row.addWidget(self.summary, 1)
        summary_row.addWidget(export_button, 0, Qt.AlignmentFlag.AlignTop)
        detail_layout.addLayout(summary_row)
        detail_layout.addWidget(self.left_behind_label)
        detail_layout.addWidget(detail_split, 1)

        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.setObjectName("checks_splitter")
        splitter.addWidget(list_box)
        splitter.addWidget(detail)
        splitter.setStretchFactor(0, 2)
        splitter.setStretchFactor(1, 5)
        splitter.setChildrenCollapsible(False)
        self.splitter = splitter
        self._list_sized_by_hand = False
        self._arrange_pending = False
        splitter.splitterMoved.connect(self._on_list_split_moved)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(splitter)

    def _connect_signals(self) -> None:
        self.table.selectionModel().currentRowChanged.connect(self._on_check_chosen)
        self.steps_table.selectionModel().currentRowChanged.connect(self._on_step_chosen)
        self.steps_model.modelReset.connect(self.evidence.clear)
        self.export_action.triggered.connect(self.open_export_dialog)
        self.model.rowsInserted.connect(self._refresh_count)
        self.model.modelReset.connect(self._refresh_count)

    def _load(self, archive: CheckArchive | None) -> None:
        results: list[CheckResult] = []
        if archive is not None:
            try:
                results = list(archive.checks())
            except Exception:
                # The window must open even when the database cannot be read.
                _log.exception("reading the stored reservation checks failed")
        self.model.set_results(results)
        if results:
            self.select_row(0)  # the newest (sorted newest first)
        else:
            self._show(None)

    # --- sizes -------------------------------------------------------------------------------

    def sizeHint(self) -> QSize:
        # No taller than the message trace it shares the bottom dock area with: the window's
        # first layout is computed from it (the station tree keeps its room).
        return QSize(900, 200)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._arrange()
        self._arrange_again()
        self._fit_timeline()

    def _arrange_again(self) -> None:
        if not self._arrange_pending:
            # Again once the splitters inside have their new sizes (the steps and frames).
            self._arrange_pending = True
            QTimer.singleShot(0, self, self._arrange_later)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self._arrange()
        self._arrange_again()
        # A tab brought to the front: the timeline was left alone while it was hidden.
        QTimer.singleShot(0, self, self._fit_timeline)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.detail_splitter and event.type() == QEvent.Type.Resize:
            # After the splitter's own resize, which shares the new height by stretch.
            QTimer.singleShot(0, self, self._fit_timeline)
        elif watched is self.steps_table.viewport() and event.type() == QEvent.Type.Resize:
            fit_step_columns(self.steps_table)
        return super().eventFilter(watched, event)

    def is_stacked(self) -> bool:
        """Whether the list of checks is above the details (the panel is too narrow for
        both side by side)."""
        return self.splitter.orientation() == Qt.Orientation.Vertical

    def _fit_list_columns(self) -> None:
        """The list's columns as wide as their header (with the sort arrow) and usual text."""
        table = self.table
        header = table.horizontalHeader()
        style = table.style()
        header_pad = 2 * style.pixelMetric(QStyle.PixelMetric.PM_HeaderMargin, None, header) + 6
        sort_arrow = 16  # every column sorts: the arrow must not push the header text out
        cell_pad = 2 * (style.pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin) + 1) + 6
        icon = style.pixelMetric(QStyle.PixelMetric.PM_SmallIconSize, None, table) + 4
        for column, sample in _LIST_CELL_SAMPLES.items():
            title = str(self.model.headerData(column, Qt.Orientation.Horizontal) or "")
            cell = table.fontMetrics().horizontalAdvance(sample) + cell_pad
            if column == CheckColumn.OUTCOME:
                cell += icon
            heading = header.fontMetrics().horizontalAdvance(title) + header_pad + sort_arrow
            self._list_column_widths[column] = max(cell, heading)
            header.resizeSection(column, self._list_column_widths[column])

    def list_width(self, *, narrow: bool = False) -> int:
        """The width the list of checks needs to show every column (``narrow``: all but
        those a laptop screen leaves out), its frame and scroll bar included."""
        table = self.table
        scroll_bar = table.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent, None, table)
        # The fitted widths, not the sections' (a hidden section is 0 wide).
        shown = sum(
            width
            for column, width in self._list_column_widths.items()
            if not (narrow and column in _NARROW_HIDDEN)
        )
        return shown + scroll_bar + 2 * table.frameWidth()

    def _on_list_split_moved(self, _position: int, _index: int) -> None:
        self._list_sized_by_hand = True

    def _on_steps_split_moved(self, _position: int, _index: int) -> None:
        self._steps_sized_by_hand = True

    def _arrange_later(self) -> None:
        self._arrange_pending = False
        self._arrange()

    def _arrange(self) -> None:
        """Side by side when the details keep their room beside the whole list, else the
        list above them; the steps table as wide as its columns want, the frames the rest."""
        width = self.splitter.width()
        if width < _ARRANGE_MIN_WIDTH or self.visibleRegion().isEmpty():
            # Not laid out yet, or a tab behind the trace: setting a splitter's sizes then
            # makes the window lay its docks out again, undoing their first sizes.
            return
        list_width = self.list_width()
        narrow = width < list_width + _DETAIL_MIN_WIDTH
        # Stacked only when shown and tall enough: the list and the details one above the
        # other add up their minimum heights, and the panel must not push the dock area
        # taller (a hidden tab still has Qt's first 640x480 before any layout).
        side_by_side = (
            width >= self.list_width(narrow=True) + _DETAIL_MIN_WIDTH
            or not self.isVisible()
            or self.height() < _STACKED_MIN_HEIGHT
        )
        if narrow and side_by_side:
            list_width = self.list_width(narrow=True)
        for column in _NARROW_HIDDEN:
            # Only on a change: every call would make the window's layout run again.
            if self.table.isColumnHidden(column) != (narrow and side_by_side):
                self.table.setColumnHidden(column, narrow and side_by_side)
        orientation = Qt.Orientation.Horizontal if side_by_side else Qt.Orientation.Vertical
        if orientation != self.splitter.orientation():
            self.splitter.setOrientation(orientation)
            self._list_sized_by_hand = False
        if not self._list_sized_by_hand:
            if side_by_side:
                shown = min(list_width, int(width * _LIST_MAX_SHARE))
                _set_sizes(self.splitter, [shown, width - shown])
            else:
                height = self.splitter.height()
                rows = self.table.verticalHeader().defaultSectionSize() * _STACKED_LIST_ROWS
                shown = min(
                    rows + self.table.horizontalHeader().height() + 30, max(80, height // 3)
                )
                _set_sizes(self.splitter, [shown, max(0, height - shown)])
        if not self._steps_sized_by_hand:
            total = sum(self.steps_splitter.sizes())
            if total > 0:
                wanted = steps_table_width(self.steps_table, _REASON_WANTED_WIDTH)
                steps = max(total // 2, min(wanted, total - _EVIDENCE_MIN_WIDTH))
                _set_sizes(self.steps_splitter, [steps, total - steps])

    def _on_detail_split_moved(self, _position: int, _index: int) -> None:
        self._timeline_sized_by_hand = True

    def _fit_timeline(self) -> None:
        """Give the timeline the height it needs (until the technician moves the divider)."""
        if self._timeline_sized_by_hand or self.visibleRegion().isEmpty():
            # As in _arrange: a hidden tab's new sizes would lay the window's docks out again.
            return
        total = sum(self.detail_splitter.sizes())
        if total <= 0:
            return
        wanted = self.timeline.preferred_height(max(300, self.timeline_scroll.viewport().width()))
        # The steps keep room for a few rows at least.
        timeline = min(wanted + 2, max(60, total - 120))
        self.detail_splitter.setSizes([timeline, total - timeline])

    # --- contents ---------------------------------------------------------------------------

    def add_result(self, result: CheckResult) -> None:
        """A check ended (or a running one changed): add its row or refresh it.

        A new run is chosen at once (it is what the technician just did); a newer copy of a
        run refreshes the view only when that run is the one shown.
        """
        shown = self.selected_result()
        known = any(same_run(held, result) for held in self.model.results())
        row = self.model.add_result(result)
        index = self.proxy.mapFromSource(self.model.index(row, 0))
        if shown is not None and same_run(shown, result):
            self._show(result)  # the same run, newer: keep the chosen step
        elif not known:
            self.table.setCurrentIndex(index)
            self.table.scrollTo(index)

    def results(self) -> list[CheckResult]:
        return self.model.results()

    def select_row(self, row: int) -> None:
        """Select the row shown at ``row`` (0: the top one)."""
        self.table.setCurrentIndex(self.proxy.index(row, 0))

    def selected_result(self) -> CheckResult | None:
        index = self.table.currentIndex()
        if not index.isValid():
            return None
        return self.model.result(self.proxy.mapToSource(index).row())

    def select_step(self, row: int) -> None:
        index = self.steps_model.index(row, 0)
        self.steps_table.setCurrentIndex(index)
        self.steps_table.scrollTo(index)

    def _on_check_chosen(self, current: QModelIndex, _previous: QModelIndex) -> None:
        result = (
            self.model.result(self.proxy.mapToSource(current).row()) if current.isValid() else None
        )
        self._show(result)

    def _show(self, result: CheckResult | None) -> None:
        step_row = self.steps_table.currentIndex().row()
        same = (
            result is not None
            and (held := self.steps_model.result()) is not None
            and same_run(held, result)
        )
        self.steps_model.set_result(result)
        self.timeline.set_result(result)
        self._fit_timeline()
        self.export_action.setEnabled(result is not None)
        self.summary.setText(self._summary_html(result))
        if result is not None and result.left_behind:
            ids = ", ".join(str(i) for i in result.left_behind)
            self.left_behind_label.setText(
                f"⚠ Reservations left behind on {result.station_id}: {ids}. The clean-up could "
                "not cancel them: cancel them from the reservations table or at the station."
            )
            self.left_behind_label.setStyleSheet(
                "color: #ffffff; background: #c53030; font-weight: 600;"
            )
            self.left_behind_label.setVisible(True)
        else:
            self.left_behind_label.setVisible(False)
        if same and step_row >= 0:
            self.steps_table.setCurrentIndex(self.steps_model.index(step_row, 0))
            self._on_step_chosen(self.steps_model.index(step_row, 0), QModelIndex())
        elif result is not None and result.failed_steps:
            # The first failed step is what the technician wants to read first.
            failed = result.failed_steps[0]
            self.select_step(result.steps.index(failed))
        else:
            self.evidence.clear()

    def _summary_html(self, result: CheckResult | None) -> str:
        if result is None:
            if self.model.rowCount() == 0:
                return (
                    "No reservation check has run yet. Select a station and choose "
                    "<b>Check reservations…</b> (its context menu or the toolbar)."
                )
            return "Select a check to see its steps, timeline and frames."
        look = outcome_look(result.outcome)
        identity = " · ".join(
            part
            for part in (
                identity_text(result) if identity_text(result) != "—" else None,
                f"firmware {result.firmware_version}" if result.firmware_version else None,
                f"serial {result.serial_number}" if result.serial_number else None,
            )
            if part
        )
        started = result.started_at.astimezone().strftime("%Y-%m-%d %H:%M:%S")
        outcome = (
            f"<span style='color:{look.screen_foreground}; background:{look.screen_background};'>"
            f"&nbsp;{_html(look.text)}&nbsp;</span>"
        )
        lines = [
            f"<b>{_html(result.station_id)}</b>"
            + (f" — {_html(identity)}" if identity else "")
            + f" &nbsp; {outcome} &nbsp; {_html(verdict_summary(result))}",
            f"Started {_html(started)} · idTag {_html(result.id_tag)} · connectors "
            f"{_html(connectors_text(result))}" + (" · guided" if result.guided else ""),
        ]
        if result.reason:
            lines.append(_html(result.reason))
        return "<br>".join(lines)

    def _on_step_chosen(self, current: QModelIndex, _previous: QModelIndex) -> None:
        step = self.steps_model.step(current.row()) if current.isValid() else None
        self.evidence.setPlainText(evidence_text(step))

    def _refresh_count(self) -> None:
        total = self.model.rowCount()
        self.count_label.setText(
            f"{total} check" + ("" if total == 1 else "s") + (", newest first" if total > 1 else "")
        )

    # --- export -----------------------------------------------------------------------------

    def open_export_dialog(self) -> CheckExportDialog | None:
        """Ask where to export the selected check (open(), never exec())."""
        result = self.selected_result()
        if result is None:
            self.sig_message.emit("Select a check to export it")
            return None
        dialog = CheckExportDialog(result, self, default_folder=self._default_folder())
        dialog.accepted.connect(
            lambda: self.export(
                dialog.check, dialog.path(), dialog.kind(), picture=dialog.picture()
            )
        )
        dialog.finished.connect(dialog.deleteLater)
        self.dialog = dialog
        dialog.open()
        return dialog

    def export(
        self, result: CheckResult, path: Path, kind: CheckExportFormat, *, picture: bool
    ) -> list[Path] | None:
        """Write the files; the paths written (None if it failed: sig_failed says why)."""
        try:
            written = export_check(result, path, kind, picture=picture)
        except Exception as exc:
            _log.exception("exporting the check of %s to %s failed", result.station_id, path)
            self.sig_failed.emit(f"Exporting the check to {path} failed: {exc}")
            return None
        _log.info("exported the check of %s to %s", result.station_id, ", ".join(map(str, written)))
        self.sig_exported.emit([str(p) for p in written])
        self.sig_message.emit("Check exported to " + ", ".join(str(p) for p in written))
        return written


def _set_sizes(splitter: QSplitter, sizes: list[int]) -> None:
    # Only on a change (within a pixel of rounding): each call lays the panel out again.
    if any(abs(a - b) > 1 for a, b in zip(splitter.sizes(), sizes, strict=True)):
        splitter.setSizes(sizes)


def _html(text: str) -> str:
    return html.escape(text, quote=False)
