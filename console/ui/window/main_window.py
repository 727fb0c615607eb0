"""The console's main window: the live station tree, the reservations, the form, the status bar.

One thing despite its length: the window places the views of every feature (their models and
widgets live in stations/, reservations/, trace/, checks/) and connects them to the services
it is given, in one :meth:`MainWindow._connect_signals`. What remains here is what ties them
together: the selection shared by the tree and the table, the cancel (asked, then followed
in a banner), the context menus and the first-start sizes. The lower panels' tabs live in
bottom_panels, the station URLs in status_bar, the shortcuts' precedence in shortcuts.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from PySide6.QtCore import (
    QByteArray,
    QModelIndex,
    QPersistentModelIndex,
    QPoint,
    QSortFilterProxyModel,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import (
    QAction,
    QCloseEvent,
    QKeySequence,
    QPainter,
    QPaintEvent,
    QPalette,
    QResizeEvent,
    QShowEvent,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDockWidget,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMenu,
    QPushButton,
    QTableView,
    QToolButton,
    QTreeView,
    QWidget,
)

from console.central.check.model import CheckArchive, CheckResult
from console.central.check.service import CheckEnded, CheckService
from console.central.model import (
    CancelOutcome,
    CentralSystemApi,
    ReservationRecord,
    ReservationState,
    TraceDirection,
    TraceEntry,
)
from console.ocpp.reservation import CancelReservationStatus
from console.ui.change_feed import ChangeFeed
from console.ui.checks.check_dialog import ReservationCheckDialog
from console.ui.checks.check_steps_model import verdict_summary
from console.ui.checks.checks_panel import ChecksPanel
from console.ui.look.presentation import (
    Look,
    cancel_outcome_text,
    reservation_answer_text,
    reservation_state_look,
)
from console.ui.look.resources import icon
from console.ui.report.report import ReportRunner
from console.ui.reservations.cancel_confirmation import CancelConfirmation
from console.ui.reservations.reservation_form import ReservationDraft, ReservationForm
from console.ui.reservations.reservation_model import ReservationColumn, ReservationTableModel
from console.ui.reservations.reservation_requests import ReservationRequests
from console.ui.reservations.reservations_panel import ReservationFilterProxy, ReservationsPanel
from console.ui.stations.station_model import ItemRole, StationTreeModel, TreeColumn
from console.ui.trace.export import ExportRunner
from console.ui.trace.trace_tools import TraceTools
from console.ui.window.bottom_panels import BottomPanels
from console.ui.window.menus import MenuActions, build_menus, show_about
from console.ui.window.shortcuts import WindowShortcutGuard
from console.ui.window.status_bar import StationUrlsBar

__all__ = ["MainWindow", "StationTreeView", "WindowServices"]

_log = logging.getLogger(__name__)

Clock = Callable[[], datetime]

# States in which a reservation may be held by the station, so cancelling it makes sense.
_CANCELLABLE = frozenset({ReservationState.ACCEPTED, ReservationState.NO_RESPONSE})

# The Central System's note on a refused WebSocket handshake (wrong subprotocol, bad password).
_REFUSED_NOTE = "handshake refused"

_TREE_WIDTHS = {
    TreeColumn.NAME: 200,  # room for "EVSE 1" / "Connector 2 · cCCS2" two levels down
    TreeColumn.VERSION: 50,
    TreeColumn.STATE: 190,
    TreeColumn.SINCE: 70,
    TreeColumn.ERROR: 105,
    TreeColumn.RESERVATION: 185,
    TreeColumn.TRANSACTION: 160,
    TreeColumn.VENDOR: 180,
    TreeColumn.FIRMWARE: 85,
    TreeColumn.SECURITY: 70,
    TreeColumn.LAST_MESSAGE: 115,
    TreeColumn.HEARTBEAT: 100,
}
_TABLE_WIDTHS = {
    ReservationColumn.ID: 45,
    ReservationColumn.STATION: 70,
    ReservationColumn.VERSION: 50,
    ReservationColumn.CONNECTOR: 135,
    ReservationColumn.ID_TAG: 95,
    ReservationColumn.STATE: 140,
    ReservationColumn.ANSWER: 120,
    ReservationColumn.DETAIL: 210,
    ReservationColumn.EXPIRY: 145,
    ReservationColumn.TRANSACTION: 100,
    ReservationColumn.SENT: 70,
    ReservationColumn.LATENCY: 75,
    ReservationColumn.PARENT: 100,
}


_URLS_MIN_WIDTH = 300
_URLS_MAX_WIDTH = 620
_URLS_SHARE = 0.4
"""Of the window's width, for the station URLs in the status bar (the rest: messages)."""
_FORM_DOCK_MIN_WIDTH = 300
_CHECKS_DOCK_SHARE = 0.45
"""Of the window's height, for the checks dock when a check has just finished."""
_SCROLL_TO_NEW_AT_MOST = 5
"""More rows at once are history being loaded, not an attempt just made: no scrolling."""
CANCEL_BANNER_HIDE_MS = 15_000
"""A successful cancel's banner hides itself after this long (failures stay until closed)."""


class StationTreeView(QTreeView):
    """The station tree; empty, it says why and what to do instead of staying blank."""

    def __init__(self) -> None:
        super().__init__()
        self._placeholder = ""

    def set_placeholder_text(self, text: str) -> None:
        if text != self._placeholder:
            self._placeholder = text
            self.viewport().update()

    def placeholder_text(self) -> str:
        """What the empty tree shows (also when a filter hides every row)."""
        return self._placeholder

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        model = self.model()
        if model is None or model.rowCount() > 0 or not self._placeholder:
            return
        painter = QPainter(self.viewport())
        try:
            painter.setPen(self.palette().color(QPalette.ColorRole.PlaceholderText))
            area = self.viewport().rect().adjusted(24, 24, -24, -24)
            painter.drawText(
                area,
                int(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
                | int(Qt.TextFlag.TextWordWrap),
                self._placeholder,
            )
        finally:
            painter.end()


@dataclass(frozen=True, slots=True)
class WindowServices:
    """What the window shows and drives, built by the composition root (:mod:`console.app`)."""

    feed: ChangeFeed
    """The Central System's changes, in batches, for the views."""
    requests: ReservationRequests
    """ReserveNow / CancelReservation as tasks, answers as signals."""
    exporter: ExportRunner
    """File > Export of the trace and the reservations."""
    reporter: ReportRunner
    """File > Commissioning report."""


class MainWindow(QMainWindow):
    """The window a technician works in; it shows the Central System, it does not run it.

    It builds only its own widgets and item models; the services come in through
    ``services`` and are connected in one place, :meth:`_connect_signals`. Closing it does not
    close it at once: :attr:`sig_close_requested` lets the composition root stop the Central
    System first, then it calls :meth:`allow_close` and closes it.
    """

    sig_close_requested = Signal()
    """The technician asked to close the window; shut the services down, then allow_close()."""
    sig_check_finished = Signal(object)
    """CheckResult: a reservation check started from this window ended (and was cleaned up)."""

    def __init__(
        self,
        central: CentralSystemApi,
        services: WindowServices,
        parent: QWidget | None = None,
        *,
        clock: Clock | None = None,
        checks: CheckService | None = None,
        check_archive: CheckArchive | None = None,
    ) -> None:
        super().__init__(parent)
        self.central = central
        self.checks = checks
        """Runs reservation checks; without it the "Check reservations…" action is hidden."""
        self.check_dialogs: dict[str, ReservationCheckDialog] = {}
        """The open check dialog of each station (one per station at a time)."""
        self._clock: Clock = clock or (lambda: datetime.now(UTC))
        self._close_allowed = False
        self._layout_restored = False
        self._default_layout_scheduled = False
        self.default_layout_applied = False
        """The first-start sizes were applied (no remembered layout was restored)."""
        self.setWindowTitle("OCPP Console")
        self.setWindowIcon(icon("app"))
        self.resize(1500, 900)

        self._services = services
        self.feed = services.feed
        self.requests = services.requests
        self.station_model = StationTreeModel(self, clock=self._clock)
        self.reservation_model = ReservationTableModel(self, clock=self._clock)
        self.station_proxy = _tree_proxy(self.station_model)
        self.station_proxy.setParent(self)
        self.reservation_proxy = _table_proxy(self.reservation_model)
        self.reservation_proxy.setParent(self)

        self.form = ReservationForm(
            self.station_model, central.peek_reservation_id, clock=self._clock
        )
        self.form_dock = QDockWidget("Reserve a connector or an EVSE", self)
        self.form_dock.setObjectName("reservation_form_dock")
        self.form_dock.setWidget(self.form)
        self.form_dock.setFeatures(
            QDockWidget.DockWidgetFeature.DockWidgetClosable
            | QDockWidget.DockWidgetFeature.DockWidgetMovable
            | QDockWidget.DockWidgetFeature.DockWidgetFloatable
        )
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.form_dock)

        self.tree = StationTreeView()
        self.tree.setObjectName("station_tree")
        self.table = QTableView()
        self.table.setObjectName("reservation_table")
        self.filter_edit = QLineEdit()
        self.cancel_button = QPushButton(icon("cancel-reservation"), "Cancel reservation")
        self.cancel_answer = QLabel()
        self.cancel_answer.setProperty("role", "answer")
        self.cancel_answer.setWordWrap(True)
        self.cancel_banner_close = QToolButton()
        self.cancel_banner_close.setText("✕")
        self.cancel_banner_close.setToolTip("Hide this answer")
        self.cancel_banner_close.setAutoRaise(True)
        self.cancel_banner = _banner(self.cancel_answer, self.cancel_banner_close)
        self.cancel_banner.setVisible(False)
        self.cancel_confirmation: CancelConfirmation | None = None
        """The open "Cancel reservation N?" box, if any."""
        self._cancel_target: tuple[str, int, datetime] | None = None
        """The attempt the last cancel was about, while its outcome may still change."""
        self._cancel_hide_timer = QTimer(self)
        self._cancel_hide_timer.setSingleShot(True)
        self._cancel_hide_timer.setInterval(CANCEL_BANNER_HIDE_MS)
        self.urls_label = StationUrlsBar(max_width=_URLS_MIN_WIDTH)  # see resizeEvent
        self.proxy_label = QLabel()
        self.proxy_label.setObjectName("proxy_mode")
        self.security_label = QLabel()
        self.online_label = QLabel()

        self.reserve_action = QAction(icon("reserve"), "Reserve…", self)
        self.cancel_action = QAction(icon("cancel-reservation"), "Cancel reservation", self)
        self.check_action = QAction(icon("check-reservations"), "Check reservations…", self)
        self.expand_action = QAction("Expand all", self)
        self.collapse_action = QAction("Collapse all", self)
        self.filter_action = QAction("Filter", self)

        self._second_timer = QTimer(self)
        self._second_timer.setInterval(1000)

        self._build_views()
        self._build_toolbar_and_status_bar()
        self.trace_tools = TraceTools(central, services.exporter, services.reporter, self)
        self.checks_panel = ChecksPanel(
            check_archive, self, default_folder=self.trace_tools.export_folder.folder
        )
        self.checks_dock = self._build_checks_dock(self.checks_panel)
        self.bottom_panels = BottomPanels(
            self, [self.reservations_dock, self.trace_tools.dock, self.checks_dock]
        )
        """The reservations, the trace and the checks: tabs of the bottom area."""
        self.menus = build_menus(
            self.menuBar(),
            MenuActions(
                export_trace=self.trace_tools.export_trace_action,
                export_reservations=self.trace_tools.export_reservations_action,
                report=self.trace_tools.report_action,
                filter=self.filter_action,
                form_toggle=self.form_dock.toggleViewAction(),
                expand=self.expand_action,
                collapse=self.collapse_action,
                active_only=self.reservations_panel.active_only_action,
                trace_toggle=self.trace_tools.trace_view_action,
                reservations_toggle=self.reservations_dock.toggleViewAction(),
                checks_toggle=self.checks_dock.toggleViewAction(),
                reserve=self.reserve_action,
                cancel=self.cancel_action,
                check=self.check_action,
            ),
            self,
        )
        self.shortcut_guard = WindowShortcutGuard(self)
        """The window's shortcuts win over a focused text field's editing keys."""
        self._connect_signals()

    # --- construction -----------------------------------------------------------------------

    def _build_views(self) -> None:
        tree = self.tree
        tree.setModel(self.station_proxy)
        tree.setSortingEnabled(True)
        tree.sortByColumn(TreeColumn.NAME, Qt.SortOrder.AscendingOrder)
        tree.setAlternatingRowColors(True)
        tree.setUniformRowHeights(True)  # keeps thousands of rows cheap to lay out
        tree.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        tree.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        tree.setAllColumnsShowFocus(True)
        header = tree.header()
        header.setStretchLastSection(True)
        for column, width in _TREE_WIDTHS.items():
            header.resizeSection(column, width)

        table = self.table
        table.setModel(self.reservation_proxy)
        table.setSortingEnabled(True)
        table.sortByColumn(-1, Qt.SortOrder.AscendingOrder)  # arrival order until asked
        table.setAlternatingRowColors(True)
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        table.verticalHeader().setVisible(False)
        table.verticalHeader().setDefaultSectionSize(24)
        table.setWordWrap(False)
        table_header = table.horizontalHeader()
        table_header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        table_header.setStretchLastSection(True)
        for table_column, width in _TABLE_WIDTHS.items():
            table_header.resizeSection(table_column, width)

        self.cancel_button.setEnabled(False)
        self.reservations_panel = ReservationsPanel(
            self.reservation_model,
            self.reservation_proxy,
            table,
            self.cancel_button,
            self.cancel_banner,
        )
        reservations = self.reservations_panel

        # The station tree is what a technician watches: the central widget, all of the
        # window's new space; the reservations are a tab of the bottom area.
        self.setCentralWidget(tree)
        self.reservations_dock = QDockWidget("Reservations", self)
        self.reservations_dock.setObjectName("reservations_dock")
        self.reservations_dock.setWidget(reservations)
        self.reservations_dock.setToolTip(
            "Every reservation attempt, this session and earlier ones"
        )

    def _build_toolbar_and_status_bar(self) -> None:
        self.reserve_action.setShortcut(QKeySequence("Ctrl+R"))
        self.reserve_action.setToolTip("Reserve a connector (Ctrl+R)")
        self.cancel_action.setShortcut(QKeySequence(Qt.Key.Key_Delete))
        self.cancel_action.setToolTip("Cancel the selected reservation (Delete)")
        self.cancel_action.setEnabled(False)
        self.check_action.setShortcut(QKeySequence("Ctrl+Shift+K"))
        self.check_action.setToolTip(
            "Check that the selected station follows the reservation rules (Ctrl+Shift+K)"
        )
        self.check_action.setEnabled(False)
        self.check_action.setVisible(self.checks is not None)
        self.filter_action.setShortcut(QKeySequence.StandardKey.Find)
        self.addAction(self.filter_action)
        toolbar = self.addToolBar("Main")
        toolbar.setObjectName("main_toolbar")
        toolbar.setMovable(False)
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        toolbar.addAction(self.reserve_action)
        toolbar.addAction(self.cancel_action)
        toolbar.addAction(self.check_action)
        toolbar.addSeparator()
        toolbar.addAction(self.expand_action)
        toolbar.addAction(self.collapse_action)
        toolbar.addSeparator()
        self.filter_edit.setPlaceholderText(
            "Filter stations and reservations: id, status, idTag, error… (Ctrl+F)"
        )
        self.filter_edit.setToolTip(
            "Narrows the station tree and the reservations table alike (Ctrl+F)"
        )
        self.filter_edit.setClearButtonEnabled(True)
        self.filter_edit.setMaximumWidth(440)
        toolbar.addWidget(self.filter_edit)

        status = self.statusBar()
        # No stretch: the left part of the bar is where showMessage() texts (errors, answers,
        # exports) appear. The URLs stay on the right, elided, the full list in the tooltip.
        status.addPermanentWidget(self.urls_label)
        status.addPermanentWidget(self.proxy_label)
        status.addPermanentWidget(self.security_label)
        status.addPermanentWidget(self.online_label)
        self.refresh_status_bar()

    def _connect_signals(self) -> None:
        feed = self.feed
        feed.sig_stations.connect(self.station_model.apply_stations)
        feed.sig_connectors_removed.connect(self.station_model.apply_removed_connectors)
        feed.sig_connectors.connect(self.station_model.apply_connectors)
        feed.sig_reservations.connect(self.station_model.apply_reservations)
        feed.sig_reservations.connect(self.reservation_model.apply_reservations)
        feed.sig_reservations.connect(self._on_reservations_changed)
        feed.sig_trace.connect(self._on_trace)
        feed.sig_flushed.connect(self._on_flushed)

        if self.checks is not None:
            # Every check that ends is listed in the checks panel, whoever started it.
            self.destroyed.connect(self.checks.subscribe(self._on_check_ended))

        self.form.sig_send_requested.connect(self._on_send_requested)
        self.requests.sig_reserve_answered.connect(self._on_reserve_answered)
        self.requests.sig_cancel_answered.connect(self._on_cancel_answered)
        self.requests.sig_request_failed.connect(self.report_error)
        self.requests.sig_reserve_failed.connect(self.form.show_failure)

        self.reserve_action.triggered.connect(self.open_reservation_form)
        self.cancel_action.triggered.connect(self.ask_to_cancel_selected_reservation)
        self.check_action.triggered.connect(self._check_selected_station)
        self.cancel_button.clicked.connect(self.ask_to_cancel_selected_reservation)
        self.expand_action.triggered.connect(self.tree.expandAll)
        self.collapse_action.triggered.connect(self.tree.collapseAll)
        self.filter_action.triggered.connect(self._focus_filter)
        self.filter_edit.textChanged.connect(self._apply_filter)
        self.reservations_panel.sig_clear_main_filter.connect(self.filter_edit.clear)

        self.tree.customContextMenuRequested.connect(self._tree_context_menu)
        self.table.customContextMenuRequested.connect(self._table_context_menu)
        self.tree.selectionModel().currentRowChanged.connect(self._on_tree_row_changed)
        self.table.selectionModel().currentRowChanged.connect(self._on_table_row_changed)
        # Filtering keeps the current row but may change the selection: follow both.
        self.table.selectionModel().selectionChanged.connect(self._update_cancel_enabled)
        self.tree.doubleClicked.connect(lambda _index: self.open_reservation_form())
        self.station_proxy.rowsInserted.connect(self._expand_new_stations)
        self.reservation_model.rowsInserted.connect(self._scroll_to_new_attempts)

        self._second_timer.timeout.connect(self._on_second)
        self._cancel_hide_timer.timeout.connect(self.hide_cancel_answer)
        self.cancel_banner_close.clicked.connect(self.hide_cancel_answer)

        menus = self.menus
        self.urls_label.sig_copied.connect(
            lambda url: self.statusBar().showMessage(
                f"Copied {url} — add the station's id after it", 10000
            )
        )
        menus.quit_action.triggered.connect(self.close)
        menus.about_action.triggered.connect(lambda: show_about(self, self.central.urls()))

        tools = self.trace_tools
        feed.sig_trace.connect(tools.panel.append)
        tools.panel.sig_message.connect(lambda text: self.statusBar().showMessage(text, 5000))
        exporter, reporter = self._services.exporter, self._services.reporter
        exporter.sig_finished.connect(
            lambda path, count: self.statusBar().showMessage(
                f"Exported {count:,} rows to {path}", 15000
            )
        )
        exporter.sig_cancelled.connect(
            lambda path: self.statusBar().showMessage(f"Export to {path} cancelled", 10000)
        )
        exporter.sig_failed.connect(self.report_error)
        exporter.sig_failed.connect(lambda text: tools.show_failure("Export failed", text))
        reporter.sig_finished.connect(
            lambda path: self.statusBar().showMessage(f"Report written to {path}", 15000)
        )
        reporter.sig_cancelled.connect(
            lambda: self.statusBar().showMessage("Report cancelled", 10000)
        )
        reporter.sig_failed.connect(self.report_error)
        reporter.sig_failed.connect(lambda text: tools.show_failure("Report failed", text))

        checks = self.checks_panel
        self.sig_check_finished.connect(self.show_check)
        checks.sig_message.connect(lambda text: self.statusBar().showMessage(text, 15000))
        checks.sig_failed.connect(self.report_error)
        checks.sig_failed.connect(lambda text: tools.show_failure("Export failed", text))
        checks.sig_exported.connect(lambda paths: tools.export_folder.remember(Path(paths[0])))

    def start(self) -> None:
        """Load what the Central System knows and follow its changes."""
        self.feed.start()
        self.tree.expandAll()
        self._second_timer.start()
        self.refresh_status_bar()

    # --- the form ---------------------------------------------------------------------------

    def open_reservation_form(self) -> None:
        """Show the form, pre-filled with the selected station and connector."""
        station_id, connector_id = self._selected_tree_target()
        self.form.refresh_stations()
        self.form.set_target(station_id, connector_id)
        self.form.prepare()
        self.form_dock.show()
        self.form_dock.raise_()
        self.form.id_tag_edit.setFocus()

    def _on_send_requested(self, draft: ReservationDraft) -> None:
        self.statusBar().showMessage(
            f"Sending ReserveNow to {draft.station_id} ({_draft_target(draft)})…", 5000
        )
        self.requests.reserve(draft)

    def _on_reserve_answered(self, record: ReservationRecord) -> None:
        # The form follows its attempt through the feed only (so a late answer reaches it
        # the same way). The Central System published the record before returning it: hand
        # the batch over now, so that the form, the tree and the table say what this says.
        self.feed.flush()
        self.statusBar().showMessage(reservation_answer_text(record), 15000)

    def _on_trace(self, entries: list[TraceEntry]) -> None:
        # A station that cannot connect is the first thing a technician must hear about.
        for entry in entries:
            if entry.direction is TraceDirection.EVENT and entry.note == _REFUSED_NOTE:
                self.report_error(f"{entry.station_id}: {entry.text}")

    def _on_reservations_changed(self, records: list[ReservationRecord]) -> None:
        for record in records:
            self.form.show_record(record)
            self._follow_cancelled_record(record)
        # The ids offered stay fresh (a check may have used some) and the "id N is active"
        # note follows the reservations.
        self.form.refresh_reservation_id()
        self._update_cancel_enabled()

    # --- cancelling -------------------------------------------------------------------------

    def selected_reservation(self) -> tuple[str, int] | None:
        """(station id, reservation id) of the selected cancellable reservation, if any."""
        table_index = self.table.selectionModel().currentIndex()
        if table_index.isValid() and self.table.selectionModel().isSelected(table_index):
            source = self.reservation_proxy.mapToSource(table_index)
            record = self.reservation_model.record(source.row())
            if record.state in _CANCELLABLE:
                return record.station_id, record.reservation_id
            return None
        tree_index = self.tree.selectionModel().currentIndex()
        if tree_index.isValid():
            reservation_id = tree_index.data(ItemRole.RESERVATION_ID)
            station_id = tree_index.data(ItemRole.STATION_ID)
            if reservation_id is not None and station_id is not None:
                return station_id, int(reservation_id)
        return None

    def ask_to_cancel_selected_reservation(self) -> CancelConfirmation | None:
        """Ask before cancelling the selected reservation (Delete, the buttons, the menus).

        A cancel cannot be taken back. The box is opened, not exec()'d; the cancel is sent
        once the technician confirms, for the reservation selected when it was asked.
        """
        target = self.selected_reservation()
        if target is None:
            self.statusBar().showMessage("Select an active reservation to cancel it", 5000)
            return None
        station_id, reservation_id = target
        if self.cancel_confirmation is not None:
            self.cancel_confirmation.close()
        box = CancelConfirmation(
            station_id,
            reservation_id,
            self.station_model.reservation(station_id, reservation_id),
            lambda: self.cancel_reservation(station_id, reservation_id),
            self,
        )
        box.finished.connect(lambda _result, b=box: self._forget_cancel_confirmation(b))
        self.cancel_confirmation = box
        box.open()
        return box

    def _forget_cancel_confirmation(self, box: CancelConfirmation) -> None:
        if self.cancel_confirmation is box:
            self.cancel_confirmation = None

    def show_reservation_frames(self, station_id: str, reservation_id: int) -> None:
        """The trace in front, showing only this reservation's frames."""
        self.bottom_panels.bring_to_front(self.trace_tools.dock)
        shown = self.trace_tools.panel.show_reservation(station_id, reservation_id)
        if shown:
            self.statusBar().showMessage(
                f"The trace shows the {shown} frame(s) of reservation {reservation_id} on "
                f"{station_id}",
                10000,
            )

    def cancel_selected_reservation(self) -> None:
        """Cancel the selected reservation now, without asking."""
        target = self.selected_reservation()
        if target is None:
            self.statusBar().showMessage("Select an active reservation to cancel it", 5000)
            return
        self.cancel_reservation(*target)

    def cancel_reservation(self, station_id: str, reservation_id: int) -> None:
        """Send CancelReservation; the banner and the status bar follow its answer."""
        record = self.station_model.reservation(station_id, reservation_id)
        self._cancel_target = (
            (station_id, reservation_id, record.created_at) if record is not None else None
        )
        self._show_cancel_answer(
            reservation_state_look(ReservationState.SENDING),
            f"Cancel reservation {reservation_id} on {station_id}: sending…",
        )
        self.requests.cancel(station_id, reservation_id)

    def _on_cancel_answered(self, outcome: CancelOutcome) -> None:
        text = cancel_outcome_text(outcome)
        if outcome.status is not None:
            self._cancel_target = None  # answered: no later change can correct the banner
        if outcome.status is CancelReservationStatus.ACCEPTED:
            look = reservation_state_look(ReservationState.ACCEPTED)
        elif outcome.status is CancelReservationStatus.REJECTED:
            look = reservation_state_look(ReservationState.REJECTED)
        elif outcome.timed_out:
            look = reservation_state_look(ReservationState.NO_RESPONSE)
        else:
            look = reservation_state_look(ReservationState.ERROR)
        self._show_cancel_answer(look, text)
        if outcome.status is CancelReservationStatus.ACCEPTED:
            self._cancel_hide_timer.start()
        self.statusBar().showMessage(text, 15000)
        self._update_cancel_enabled()

    def _follow_cancelled_record(self, record: ReservationRecord) -> None:
        """A late answer (or expiry) settles a cancel the banner said had no answer."""
        target = self._cancel_target
        if target is None or (record.station_id, record.reservation_id, record.created_at) != (
            target
        ):
            return
        if record.active:
            return
        self._cancel_target = None
        look = reservation_state_look(record.state)
        self._show_cancel_answer(
            look,
            f"Cancel reservation {record.reservation_id} on {record.station_id}: "
            f"the reservation is now {look.text}",
        )
        if record.state is ReservationState.CANCELLED:
            self._cancel_hide_timer.start()
        self.statusBar().showMessage(self.cancel_answer.text(), 15000)

    def hide_cancel_answer(self) -> None:
        """Hide the cancel banner (its close button, or a while after a success)."""
        self._cancel_hide_timer.stop()
        self.cancel_banner.setVisible(False)

    def _show_cancel_answer(self, look: Look, text: str) -> None:
        self.cancel_answer.setText(text)
        self.cancel_answer.setStyleSheet(
            f"color: {look.screen_foreground}; background: {look.screen_background};"
        )
        self._cancel_hide_timer.stop()
        self.cancel_banner.setVisible(True)

    def cancel_answer_text(self) -> str:
        return self.cancel_answer.text()

    def _update_cancel_enabled(self) -> None:
        enabled = self.selected_reservation() is not None
        self.cancel_action.setEnabled(enabled)
        self.cancel_button.setEnabled(enabled)

    # --- the reservation check --------------------------------------------------------------

    def _station_connected(self, station_id: str | None) -> bool:
        station = self.station_model.station(station_id) if station_id else None
        return station is not None and station.connected

    def _update_check_enabled(self) -> None:
        station_id, _connector_id = self._selected_tree_target()
        self.check_action.setEnabled(
            self.checks is not None and self._station_connected(station_id)
        )

    def open_check_dialog(
        self, station_id: str | None = None, connector_id: int | None = None
    ) -> ReservationCheckDialog | None:
        """Open the check dialog for a station (default: the selected station/connector).

        One dialog per station: asking again shows the open one.
        """
        if self.checks is None:
            return None
        if station_id is None:
            station_id, connector_id = self._selected_tree_target()
        if station_id is None or not self._station_connected(station_id):
            self.statusBar().showMessage("Select a connected station to check it", 5000)
            return None
        existing = self.check_dialogs.get(station_id)
        if existing is not None:
            existing.show()
            existing.raise_()
            existing.activateWindow()
            return existing
        dialog = ReservationCheckDialog(
            self.station_model,
            station_id,
            self.checks,
            self,
            connector_id=connector_id,
            clock=self._clock,
        )
        dialog.sig_failed.connect(self.report_error)
        dialog.finished.connect(lambda _code, d=dialog: self._forget_check_dialog(d))
        self.check_dialogs[station_id] = dialog
        dialog.show()  # not modal: the window stays usable while a check runs
        dialog.activateWindow()  # typing goes to its idTag field at once
        dialog.id_tag_edit.setFocus()
        return dialog

    def _check_selected_station(self) -> None:
        # A slot without arguments: triggered(bool) must not become a station id.
        self.open_check_dialog()

    def _on_check_ended(self, ended: CheckEnded) -> None:
        if ended.completed:
            self._on_check_finished(ended.result)

    def _on_check_finished(self, result: CheckResult) -> None:
        text = (
            f"Reservation check of {result.station_id}: {result.outcome.value} "
            f"({verdict_summary(result)})"
        )
        if result.left_behind:
            self.report_error(
                f"{text}; reservation(s) {', '.join(map(str, result.left_behind))} "
                "could not be cancelled"
            )
        else:
            self.statusBar().showMessage(text, 30000)
        self.sig_check_finished.emit(result)

    def _build_checks_dock(self, panel: ChecksPanel) -> QDockWidget:
        # A tab of the bottom area, behind the others until a check ends.
        dock = QDockWidget("Reservation checks", self)
        dock.setObjectName("checks_dock")
        dock.setWidget(panel)
        return dock

    def show_check(self, result: CheckResult) -> None:
        """List a check's result in the checks panel and bring the panel to the front."""
        self.checks_panel.add_result(result)
        self.bottom_panels.bring_to_front(self.checks_dock)
        # The trace's short strip is too small to read a check: give it room, once.
        wanted = int(self.height() * _CHECKS_DOCK_SHARE)
        if self.checks_dock.height() < wanted:
            self.resizeDocks([self.checks_dock], [wanted], Qt.Orientation.Vertical)

    def _forget_check_dialog(self, dialog: ReservationCheckDialog) -> None:
        if self.check_dialogs.get(dialog.station_id) is dialog:
            del self.check_dialogs[dialog.station_id]
        dialog.deleteLater()

    # --- selection and menus ----------------------------------------------------------------

    def _selected_tree_target(self) -> tuple[str | None, int | None]:
        index = self.tree.selectionModel().currentIndex()
        if not index.isValid():
            return None, None
        station_id = index.data(ItemRole.STATION_ID)
        connector_id = index.data(ItemRole.CONNECTOR_ID)
        return station_id, connector_id

    def select_connector(self, station_id: str, connector_id: int) -> None:
        """Select a connector row (connector 0: the station row)."""
        self._select(self.station_model.connector_index(station_id, connector_id))

    def select_evse(self, station_id: str, evse_id: int) -> None:
        """Select a 2.0.1 EVSE row."""
        self._select(self.station_model.evse_index(station_id, evse_id))

    def _select(self, source: QModelIndex) -> None:
        index = self.station_proxy.mapFromSource(source)
        if index.isValid():
            self.tree.setCurrentIndex(index)

    def _on_tree_row_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if current.isValid():
            self.table.selectionModel().clearSelection()
        self._update_cancel_enabled()
        self._update_check_enabled()

    def _on_table_row_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if current.isValid():
            self.tree.selectionModel().clearSelection()
            self.tree.selectionModel().setCurrentIndex(
                QModelIndex(), self.tree.selectionModel().SelectionFlag.NoUpdate
            )
        self._update_cancel_enabled()

    def _tree_context_menu(self, position: QPoint) -> None:
        index = self.tree.indexAt(position)
        if not index.isValid():
            return
        self.tree.setCurrentIndex(index)
        station_id = index.data(ItemRole.STATION_ID)
        connector_id = index.data(ItemRole.CONNECTOR_ID)
        menu = QMenu(self)
        if connector_id is None:
            where = "this station"
        elif index.data(ItemRole.EVSE_ID) is not None:
            where = f"EVSE {connector_id}"
        else:
            where = f"connector {connector_id}"
        reserve = menu.addAction(icon("reserve"), f"Reserve {where} of {station_id}…")
        reserve.triggered.connect(self.open_reservation_form)
        reservation_id = index.data(ItemRole.RESERVATION_ID)
        if reservation_id is not None:
            cancel = menu.addAction(
                icon("cancel-reservation"), f"Cancel reservation {reservation_id}…"
            )
            cancel.triggered.connect(self.ask_to_cancel_selected_reservation)
            frames = menu.addAction(f"Show frames of reservation {reservation_id} in trace")
            frames.triggered.connect(
                lambda: self.show_reservation_frames(station_id, int(reservation_id))
            )
        if self.checks is not None:
            menu.addSeparator()
            check = menu.addAction(
                icon("check-reservations"), f"Check reservations of {station_id}…"
            )
            check.setEnabled(self._station_connected(station_id))
            check.triggered.connect(lambda: self.open_check_dialog(station_id, connector_id))
        menu.popup(self.tree.viewport().mapToGlobal(position))

    def _table_context_menu(self, position: QPoint) -> None:
        index = self.table.indexAt(position)
        if not index.isValid():
            return
        self.table.selectRow(index.row())
        record = self.reservation_model.record(self.reservation_proxy.mapToSource(index).row())
        menu = QMenu(self)
        cancel = menu.addAction(icon("cancel-reservation"), "Cancel this reservation…")
        cancel.setEnabled(self.selected_reservation() is not None)
        cancel.triggered.connect(self.ask_to_cancel_selected_reservation)
        frames = menu.addAction("Show frames in trace")
        frames.setToolTip("Its ReserveNow and answer, its CancelReservation, in the trace")
        frames.triggered.connect(
            lambda: self.show_reservation_frames(record.station_id, record.reservation_id)
        )
        menu.popup(self.table.viewport().mapToGlobal(position))

    def _focus_filter(self) -> None:
        self.filter_edit.setFocus()
        self.filter_edit.selectAll()

    def _apply_filter(self, text: str) -> None:
        self.station_proxy.setFilterFixedString(text)
        self.reservation_proxy.set_main_filter(text)  # the panel says so while it hides rows
        if text:
            self.tree.expandAll()

    def _expand_new_stations(self, parent: QModelIndex, first: int, last: int) -> None:
        # New stations, and a 2.0.1 station's new EVSEs, open with their connectors in view.
        if parent.isValid() and parent.parent().isValid():
            return
        for row in range(first, last + 1):
            self.tree.expand(self.station_proxy.index(row, 0, parent))

    # --- periodic and status ----------------------------------------------------------------

    def _on_second(self) -> None:
        self.station_model.tick()
        self.reservation_model.tick()
        self.form.validate()
        self.refresh_status_bar()

    def _on_flushed(self) -> None:
        self.refresh_status_bar()
        self._update_cancel_enabled()
        self._update_check_enabled()

    def refresh_status_bar(self) -> None:
        self.urls_label.set_urls(self.central.urls())
        self._fit_urls_width(self.width())
        urls = self.urls_label.urls()  # the LAN address first
        self.security_label.setText(f"Security profile {self.central.security_profile}")
        self._refresh_proxy_label(self.central.upstream_url)
        self._refresh_tree_placeholder(urls)
        total = len(self.station_model.station_snapshots())
        self.online_label.setText(f"{self.station_model.online_count()} of {total} stations online")

    def _refresh_proxy_label(self, upstream_url: str | None) -> None:
        self.proxy_label.setVisible(upstream_url is not None)
        if upstream_url is None:
            return
        self.proxy_label.setText(f"Proxy mode → {upstream_url}")
        self.proxy_label.setToolTip(
            "Proxy mode: each station that connects is carried on to "
            f"{upstream_url}/<station id> (the site's own CSMS); the console watches and may "
            "call the station itself"
        )

    def _refresh_tree_placeholder(self, urls: list[str]) -> None:
        if self.station_model.rowCount() > 0:
            text = "No station or connector matches the filter."
        else:
            where = f"{urls[0]}<station id>" if urls else "ws://HOST:PORT/<station id>"
            text = f"No station has connected yet. Configure stations with: {where}"
            if len(urls) > 1:
                text += "\n(or any address in the status bar)"
        self.tree.set_placeholder_text(text)

    def report_error(self, text: str) -> None:
        """Show an error from anywhere in the console (also logged by whoever reports it)."""
        self.statusBar().showMessage("⚠ " + text, 30000)

    # --- layout -----------------------------------------------------------------------------

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit_urls_width(event.size().width())

    def _fit_urls_width(self, window_width: int) -> None:
        # The URLs take a share of the status bar (the rest is for the messages on its left),
        # never so little that the first URL is cut.
        share = max(_URLS_MIN_WIDTH, min(_URLS_MAX_WIDTH, int(window_width * _URLS_SHARE)))
        width = max(share, self.urls_label.width_for_first_url())
        if width != self.urls_label.maximumWidth():
            self.urls_label.setMaximumWidth(width)
            status_layout = self.statusBar().layout()
            if status_layout is not None:
                status_layout.activate()  # now, with the window's new width: not a pass later

    def restoreGeometry(self, geometry: QByteArray | bytes | bytearray | memoryview) -> bool:
        # A remembered layout (window_state) wins over the default one applied at first show.
        restored = super().restoreGeometry(geometry)
        self._layout_restored = self._layout_restored or restored
        return restored

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self._layout_restored and not self._default_layout_scheduled:
            self._default_layout_scheduled = True
            # After this show's layout pass: the sizes below are shares of the real heights.
            QTimer.singleShot(0, self.apply_default_layout)

    def apply_default_layout(self) -> None:
        """Sizes for a first start: the form narrow, the tree above the lower panels' tabs."""
        if self._layout_restored:
            return
        self.default_layout_applied = True
        form_width = max(self.form.minimumSizeHint().width(), _FORM_DOCK_MIN_WIDTH)
        self.resizeDocks([self.form_dock], [form_width], Qt.Orientation.Horizontal)
        self.bottom_panels.apply_default_height(self.height())
        # resizeDocks only takes effect in the next layout pass: run it now, so the sizes
        # are in place when this returns.
        layout = self.layout()
        if layout is not None:
            layout.activate()

    def _scroll_to_new_attempts(self, _parent: QModelIndex, first: int, last: int) -> None:
        # A new attempt (the one just sent) must be seen, wherever the table is sorted. After
        # the view's delayed layout: before it, the scroll bar does not reach the new row yet.
        if last - first < _SCROLL_TO_NEW_AT_MOST and self.reservation_model.rowCount() > 1:
            row = QPersistentModelIndex(self.reservation_model.index(last, 0))
            QTimer.singleShot(0, self, lambda: self._scroll_to(row))

    def _scroll_to(self, row: QPersistentModelIndex) -> None:
        if row.isValid():
            self.table.doItemsLayout()  # the scroll range must already include the new row
            source = self.reservation_model.index(row.row(), row.column())
            index = self.reservation_proxy.mapFromSource(source)
            if index.isValid():
                self.table.scrollTo(index)

    # --- closing ----------------------------------------------------------------------------

    def allow_close(self) -> None:
        """The services are stopped: the next close() really closes."""
        self._close_allowed = True

    def closeEvent(self, event: QCloseEvent) -> None:
        if self._close_allowed:
            self._second_timer.stop()
            self.feed.stop()
            event.accept()
            return
        event.ignore()
        self.statusBar().showMessage("Stopping the Central System…")
        self.sig_close_requested.emit()


def _banner(label: QLabel, close_button: QToolButton) -> QWidget:
    holder = QWidget()
    holder.setObjectName("cancel_banner")
    layout = QHBoxLayout(holder)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.addWidget(label, 1)
    layout.addWidget(close_button, 0, Qt.AlignmentFlag.AlignTop)
    return holder


def _tree_proxy(model: StationTreeModel) -> QSortFilterProxyModel:
    proxy = QSortFilterProxyModel()
    proxy.setSourceModel(model)
    proxy.setSortRole(ItemRole.SORT)
    proxy.setFilterRole(ItemRole.FILTER)
    proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
    proxy.setSortCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
    proxy.setRecursiveFilteringEnabled(True)
    proxy.setAutoAcceptChildRows(True)
    return proxy


def _table_proxy(model: ReservationTableModel) -> ReservationFilterProxy:
    proxy = ReservationFilterProxy()
    proxy.setSourceModel(model)
    return proxy


def _draft_target(draft: ReservationDraft) -> str:
    # Only a 2.0.1 draft carries an idToken type: its number is the EVSE.
    if draft.id_token_type is None:
        return f"connector {draft.connector_id}"
    return "any EVSE" if draft.connector_id == 0 else f"EVSE {draft.connector_id}"
