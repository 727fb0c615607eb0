"""The message trace in its dock, the exports and the commissioning report.

The window builds :class:`TraceTools` with the services it was given and places the dock
and the actions; everything else about the trace's tools lives here, so the window's own
file stays about stations and reservations.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDockWidget,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from console.central.export import SessionStart, session_start
from console.central.model import CentralSystemApi
from console.ui.export_folder import ExportFolder, default_folder
from console.ui.report.report import ReportRunner
from console.ui.trace.export import ExportDialog, ExportKind, ExportOptions, ExportRunner
from console.ui.trace.trace_model import TraceTableModel
from console.ui.trace.trace_panel import TracePanel

__all__ = ["ReportDialog", "TraceTools", "default_folder"]

_log = logging.getLogger(__name__)

INITIAL_TRACE = 10_000
"""Frames the panel shows at start (the Central System's in-memory trace)."""
SESSION_LOOKBACK = 10_000
"""Frames looked at for where today's session starts (as many as the console holds)."""


class TraceTools(QObject):
    """The trace panel (a dock), the export and report actions, and their running jobs.

    ``parent`` is the widget the dock, the dialogs and the actions' shortcuts belong to (the
    window); it is given, never searched for. ``export_folder``: the folder the dialogs
    propose (default: the remembered one, in the config folder).
    """

    def __init__(
        self,
        central: CentralSystemApi,
        exporter: ExportRunner,
        reporter: ReportRunner,
        parent: QWidget,
        *,
        export_folder: ExportFolder | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        super().__init__(parent)
        self._central = central
        self._parent_widget = parent
        self._clock = clock or (lambda: datetime.now(UTC))
        self.run_started = self._clock()
        """When this run of the console began (the window is built as the server starts)."""
        self.export_folder = export_folder or ExportFolder()
        self.model = TraceTableModel(self)
        self.panel = TracePanel(self.model)
        self.dock = QDockWidget("Message trace", parent)
        self.dock.setObjectName("trace_dock")
        self.dock.setWidget(self.panel)

        self.exporter = exporter
        self.reporter = reporter
        self._tasks: set[asyncio.Task[Any]] = set()
        self.dialog: QDialog | None = None
        """The open export/report dialog, if any (tests fill it in)."""
        self.site_name = ""
        """The last site / customer typed in the report dialog (proposed again next time)."""
        self.error_box: QMessageBox | None = None
        """The last "export/report failed" message, if any (tests read it)."""

        self.export_trace_action = QAction("Export trace…", parent)
        self.export_trace_action.setShortcut(QKeySequence("Ctrl+E"))
        self.export_reservations_action = QAction("Export reservations…", parent)
        self.export_reservations_action.setShortcut(QKeySequence("Ctrl+Alt+E"))
        self.report_action = QAction("Commissioning report…", parent)
        self.report_action.setShortcut(QKeySequence("Ctrl+P"))
        self.trace_view_action = self.dock.toggleViewAction()
        self.trace_view_action.setText("Message trace")
        self.trace_view_action.setShortcut(QKeySequence("Ctrl+T"))
        for action in (
            self.export_trace_action,
            self.export_reservations_action,
            self.report_action,
            self.trace_view_action,
        ):
            # The shortcuts work with the menu bar hidden and inside docks.
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            parent.addAction(action)

        self.export_trace_action.triggered.connect(
            lambda: self.open_export_dialog(ExportKind.TRACE)
        )
        self.export_reservations_action.triggered.connect(
            lambda: self.open_export_dialog(ExportKind.RESERVATIONS)
        )
        self.report_action.triggered.connect(self.open_report_dialog)
        # The next dialog proposes the folder the last file went to.
        exporter.sig_finished.connect(lambda path, _rows: self.export_folder.remember(Path(path)))
        reporter.sig_finished.connect(lambda path: self.export_folder.remember(Path(path)))

        # What the Central System already holds; the feed subscribes in window.start(),
        # later and on the same thread, so nothing comes twice.
        self.panel.append(central.recent_trace(INITIAL_TRACE))

    def _station_ids(self) -> list[str]:
        return sorted(station.station_id for station in self._central.stations())

    # --- dialogs ----------------------------------------------------------------------------

    def session(self) -> SessionStart:
        """Where today's session starts, from the frames the console holds."""
        return session_start(
            self._central.recent_trace(SESSION_LOOKBACK),
            run_started=self.run_started,
            now=self._clock(),
            limit=SESSION_LOOKBACK,
        )

    def open_export_dialog(self, kind: ExportKind) -> ExportDialog:
        """Ask what to export (never exec(): the dialog is opened, its answer handled later)."""
        dialog = ExportDialog(
            kind,
            self._station_ids(),
            self._parent_widget,
            now=self._clock(),
            default_folder=self.export_folder.folder(),
            session=self.session(),
        )
        station_id = self.panel.current_filter().station_id
        if station_id is not None:
            dialog.set_station(station_id)
        dialog.accepted.connect(lambda: self.start(self.exporter.run(dialog.options())))
        dialog.finished.connect(dialog.deleteLater)
        self.dialog = dialog
        dialog.open()
        return dialog

    def open_report_dialog(self) -> ReportDialog:
        dialog = ReportDialog(
            self._station_ids(), self._parent_widget, default_folder=self.export_folder.folder()
        )
        dialog.site_edit.setText(self.site_name)
        dialog.accepted.connect(lambda: self._write_report(dialog))
        dialog.finished.connect(dialog.deleteLater)
        self.dialog = dialog
        dialog.open()
        return dialog

    def _write_report(self, dialog: ReportDialog) -> None:
        site_name = dialog.site_name()
        self.site_name = site_name or ""
        self.start(self.reporter.run(dialog.station_id(), dialog.path(), site_name))

    def show_failure(self, title: str, text: str) -> QMessageBox:
        """Say why an export or report failed, in a box the technician cannot miss.

        The status bar alone went unnoticed. open(), never exec(): the event loop (and the
        stations) keep running while the box shows.
        """
        what, _, reason = text.partition(" failed: ")
        box = QMessageBox(
            QMessageBox.Icon.Warning,
            title,
            f"{what} failed." if reason else text,
            QMessageBox.StandardButton.Ok,
            self._parent_widget,
        )
        if reason:
            box.setInformativeText(reason)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.finished.connect(lambda _result: self._forget_error_box(box))
        self.error_box = box
        box.open()
        return box

    def _forget_error_box(self, box: QMessageBox) -> None:
        if self.error_box is box:
            self.error_box = None

    async def export(self, options: ExportOptions) -> int | None:
        """Export without the dialog (rows written, or None)."""
        return await self.exporter.run(options)

    def start(self, job: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        """Run a job on the event loop, keeping a reference until it ends."""
        task = asyncio.ensure_future(job)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def running_jobs(self) -> int:
        return len(self._tasks)


class ReportDialog(QDialog):
    """Asks for the report's scope (the site or one station), the site's name and the file."""

    def __init__(
        self,
        station_ids: list[str],
        parent: QWidget | None = None,
        *,
        default_folder: Path | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Commissioning report")
        self.station_combo = QComboBox()
        self.station_combo.addItem("Whole site", None)
        for station_id in station_ids:
            self.station_combo.addItem(station_id, station_id)
        stamp = datetime.now(UTC).astimezone().strftime("%Y%m%d-%H%M")
        folder = default_folder or Path.home()
        self.path_edit = QLineEdit(str(folder / f"commissioning-report-{stamp}.pdf"))
        self.path_edit.setObjectName("report_path")
        self.site_edit = QLineEdit()
        self.site_edit.setObjectName("report_site")
        self.site_edit.setPlaceholderText("Optional: printed under the title")
        self.site_edit.setClearButtonEnabled(True)
        self.browse_button = QPushButton("Browse…")
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Write report")
        self.file_dialog: QFileDialog | None = None
        path_row = QHBoxLayout()
        path_row.addWidget(self.path_edit, 1)
        path_row.addWidget(self.browse_button)
        form = QFormLayout()
        form.addRow("Site / customer", self.site_edit)
        form.addRow("Report on", self.station_combo)
        form.addRow("PDF file", path_row)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.buttons)
        self.setMinimumWidth(560)
        self.browse_button.clicked.connect(self.browse)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)

    def browse(self) -> QFileDialog:
        dialog = QFileDialog(self, "Write the report to", self.path_edit.text())
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setOption(QFileDialog.Option.DontUseNativeDialog, True)
        dialog.setNameFilter("PDF (*.pdf)")
        dialog.setDefaultSuffix("pdf")
        dialog.fileSelected.connect(self.path_edit.setText)
        self.file_dialog = dialog
        dialog.open()
        return dialog

    def station_id(self) -> str | None:
        value = self.station_combo.currentData()
        return value if isinstance(value, str) else None

    def set_station(self, station_id: str | None) -> None:
        self.station_combo.setCurrentIndex(max(0, self.station_combo.findData(station_id)))

    def site_name(self) -> str | None:
        """The site or customer typed in, or None when left empty."""
        return " ".join(self.site_edit.text().split()) or None

    def path(self) -> Path:
        return Path(self.path_edit.text().strip()).expanduser()
