"""Exporting the trace (JSON Lines) and the reservations (CSV): the dialog and the writer.

The formats live in :mod:`console.central.export`; here they are written in chunks on the
event loop with a progress dialog that can cancel. A cancelled or failed export leaves no
partial file: lines go to ``<file>.part``, renamed only once complete.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path

from PySide6.QtCore import QDateTime, QObject, Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateTimeEdit,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QProgressDialog,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from console.central.export import (
    SessionStart,
    reservations_csv_lines,
    select_reservations,
    trace_jsonl_line,
)
from console.central.model import CentralSystemApi, TraceEntry
from console.ui.export_folder import default_folder as documents_or_home
from console.ui.export_folder import export_file_name

__all__ = [
    "ExportDialog",
    "ExportKind",
    "ExportOptions",
    "ExportRunner",
    "ProgressWriter",
]

_log = logging.getLogger(__name__)

CHUNK_LINES = 2000
"""Lines written between two turns of the event loop (painting, input, the stations)."""
STORED_TRACE_LIMIT = 50_000_000
"""Read the whole range the database holds (it is itself capped by the settings)."""


class ExportKind(StrEnum):
    TRACE = "trace"
    RESERVATIONS = "reservations"


@dataclass(frozen=True, slots=True)
class ExportOptions:
    """What to export, where to."""

    kind: ExportKind
    path: Path
    station_id: str | None = None
    """None: every station."""
    since: datetime | None = None
    until: datetime | None = None


class ProgressWriter(QObject):
    """Writes lines to a file in chunks, showing progress; cancelling removes the file.

    One instance per job. :meth:`cancel` (or the progress dialog's Cancel button) stops it
    at the next chunk.
    """

    sig_progress = Signal(int, int)
    """(lines written, lines in all) after each chunk."""

    def __init__(
        self,
        parent_widget: QWidget | None,
        title: str,
        *,
        chunk_lines: int = CHUNK_LINES,
        show_after_ms: int = 400,
    ) -> None:
        super().__init__(parent_widget)
        self._chunk = max(1, chunk_lines)
        self._cancelled = False
        self.dialog = QProgressDialog(title, "Cancel", 0, 100, parent_widget)
        self.dialog.setWindowTitle(title)
        self.dialog.setWindowModality(Qt.WindowModality.WindowModal)
        self.dialog.setMinimumDuration(show_after_ms)
        self.dialog.setAutoClose(False)
        self.dialog.setAutoReset(False)
        self.dialog.canceled.connect(self.cancel)

    @property
    def cancelled(self) -> bool:
        # The dialog's cancel() slot (Escape) sets wasCanceled without emitting canceled.
        return self._cancelled or self.dialog.wasCanceled()

    def cancel(self) -> None:
        self._cancelled = True

    def set_label(self, text: str) -> None:
        self.dialog.setLabelText(text)

    async def write(self, path: Path, lines: Iterable[str], total: int) -> int | None:
        """Write every line; the number written, or None if cancelled (nothing left behind)."""
        part = path.with_name(path.name + ".part")
        self.dialog.setRange(0, max(1, total))
        self.dialog.setValue(0)
        written = 0
        try:
            # The proposed folder (Documents) or a typed one may not exist yet.
            path.parent.mkdir(parents=True, exist_ok=True)
            with part.open("w", encoding="utf-8", newline="") as stream:
                iterator: Iterator[str] = iter(lines)
                while True:
                    chunk = [line for _, line in zip(range(self._chunk), iterator, strict=False)]
                    if chunk:
                        stream.write("".join(chunk))
                        written += len(chunk)
                        self.dialog.setValue(min(written, max(1, total)))
                        self.sig_progress.emit(written, total)
                    if len(chunk) < self._chunk:
                        break
                    # Let Qt paint and the stations talk, then look at the Cancel button.
                    await asyncio.sleep(0)
                    if self.cancelled:
                        break
            if self.cancelled:
                part.unlink(missing_ok=True)
                return None
            os.replace(part, path)
            return written
        except BaseException:
            with contextlib.suppress(OSError):
                part.unlink(missing_ok=True)
            raise
        finally:
            self.dialog.reset()
            self.dialog.close()


class ExportRunner(QObject):
    """Runs exports: reads the data (the trace from the database), writes it with progress."""

    sig_finished = Signal(str, int)
    """(path, rows written): an export is complete."""
    sig_cancelled = Signal(str)
    """(path): an export was cancelled; no file was left."""
    sig_failed = Signal(str)
    """(message): an export failed (e.g. the folder is not writable)."""
    sig_progress = Signal(int, int)
    """(rows written, rows in all) after each chunk of the running export."""

    def __init__(
        self,
        central: CentralSystemApi,
        parent: QObject | None = None,
        *,
        chunk_lines: int = CHUNK_LINES,
    ) -> None:
        super().__init__(parent)
        self._central = central
        self._dialog_parent: QWidget | None = None
        self.chunk_lines = chunk_lines
        self.writer: ProgressWriter | None = None
        """The running job's writer (tests cancel through it)."""

    def set_dialog_parent(self, widget: QWidget | None) -> None:
        """Show the progress dialogs over ``widget`` (the window), modal to it."""
        self._dialog_parent = widget

    async def run(self, options: ExportOptions) -> int | None:
        """Export; the number of rows written, or None if cancelled or failed."""
        what = "trace" if options.kind is ExportKind.TRACE else "reservations"
        writer = ProgressWriter(
            self._dialog_parent, f"Exporting the {what}", chunk_lines=self.chunk_lines
        )
        self.writer = writer
        writer.sig_progress.connect(self.sig_progress)
        try:
            if options.kind is ExportKind.TRACE:
                writer.set_label("Reading the trace from the database…")
                entries = await self._trace(options)
                writer.set_label(f"Writing {len(entries):,} frames to {options.path.name}…")
                written = await writer.write(
                    options.path, map(trace_jsonl_line, entries), len(entries)
                )
            else:
                records = select_reservations(
                    self._central.reservations(), options.station_id, options.since, options.until
                )
                writer.set_label(f"Writing {len(records):,} reservations to {options.path.name}…")
                written = await writer.write(
                    options.path, reservations_csv_lines(records), len(records) + 1
                )
                if written is not None:
                    written -= 1  # the header
        except Exception as exc:
            _log.exception("exporting the %s to %s failed", what, options.path)
            self.sig_failed.emit(f"Exporting the {what} to {options.path} failed: {exc}")
            return None
        finally:
            self.writer = None
            writer.deleteLater()
        if written is None:
            _log.info("export of the %s to %s cancelled", what, options.path)
            self.sig_cancelled.emit(str(options.path))
            return None
        _log.info("exported %d %s rows to %s", written, what, options.path)
        self.sig_finished.emit(str(options.path), written)
        return written

    async def _trace(self, options: ExportOptions) -> list[TraceEntry]:
        return await self._central.stored_trace(
            limit=STORED_TRACE_LIMIT,
            station_id=options.station_id,
            since=options.since,
            until=options.until,
        )


class ExportDialog(QDialog):
    """Asks what to export: one station or all, a time range, and the file.

    It proposes a file named after what it holds (kind, station, date) in ``default_folder``
    (the last folder used, else Documents), and, given the ``session``, a "From" at the
    start of today's session: checked for the trace, ready to check for the reservations.
    Both follow the chosen station until the technician changes them.
    """

    def __init__(
        self,
        kind: ExportKind,
        station_ids: list[str],
        parent: QWidget | None = None,
        *,
        now: datetime | None = None,
        default_folder: Path | None = None,
        session: SessionStart | None = None,
    ) -> None:
        super().__init__(parent)
        self.kind = kind
        self._now = now or datetime.now(UTC)
        self._session = session
        is_trace = kind is ExportKind.TRACE
        self.setWindowTitle("Export the trace" if is_trace else "Export the reservations")
        self.station_combo = QComboBox()
        self.station_combo.addItem("All stations", None)
        for station_id in station_ids:
            self.station_combo.addItem(station_id, station_id)
        self.since_check = QCheckBox("From")
        since = session.of(None) if session is not None else self._now - timedelta(hours=8)
        self.since_edit = _date_time_edit(since)
        self.until_check = QCheckBox("To")
        self.until_edit = _date_time_edit(self._now)
        self.since_edit.setEnabled(False)
        self.until_edit.setEnabled(False)
        if session is not None:
            self.since_check.setToolTip(
                "Proposed: the start of today's session (all stations: the first frame of "
                "this run; one station: its first frame today)"
            )
        self._since_chosen = False
        """The technician set "From" (then a station change leaves it alone)."""
        self._folder = default_folder or documents_or_home()
        self._suffix = "jsonl" if is_trace else "csv"
        self.path_edit = QLineEdit()
        self.path_edit.setObjectName("export_path")
        self._proposed_path = ""
        self._propose_path()
        self.browse_button = QPushButton("Browse…")
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setText("Export")
        self.file_dialog: QFileDialog | None = None

        range_row = QHBoxLayout()
        range_row.addWidget(self.since_check)
        range_row.addWidget(self.since_edit)
        range_row.addWidget(self.until_check)
        range_row.addWidget(self.until_edit)
        path_row = QHBoxLayout()
        path_row.addWidget(self.path_edit, 1)
        path_row.addWidget(self.browse_button)
        form = QFormLayout()
        form.addRow("Station", self.station_combo)
        form.addRow("Time range", range_row)
        form.addRow("File", path_row)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.buttons)
        self.setMinimumWidth(620)

        self.since_check.toggled.connect(self.since_edit.setEnabled)
        self.until_check.toggled.connect(self.until_edit.setEnabled)
        # A trace export is about a session: from its start unless told otherwise.
        self.since_check.setChecked(is_trace and session is not None)
        self.since_check.toggled.connect(self._choose_since)
        self.since_edit.dateTimeChanged.connect(self._choose_since)
        self.station_combo.currentIndexChanged.connect(self._follow_station)
        self.path_edit.textChanged.connect(lambda text: ok.setEnabled(bool(text.strip())))
        self.browse_button.clicked.connect(self.browse)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)

    def _propose_path(self) -> None:
        name = export_file_name(
            f"ocpp-{self.kind.value}", self.station_combo.currentData(), self._now, self._suffix
        )
        self._proposed_path = str(self._folder / name)
        self.path_edit.setText(self._proposed_path)

    def _choose_since(self) -> None:
        self._since_chosen = True

    def _follow_station(self, _index: int) -> None:
        # What the dialog proposed follows the station; what the technician typed stays.
        if self.path_edit.text() == self._proposed_path:
            self._propose_path()
        if self._session is not None and not self._since_chosen:
            self.since_edit.blockSignals(True)
            try:
                self.since_edit.setDateTime(_qt_time(self._session.of(self.station_id())))
            finally:
                self.since_edit.blockSignals(False)

    def station_id(self) -> str | None:
        value = self.station_combo.currentData()
        return value if isinstance(value, str) else None

    def browse(self) -> QFileDialog:
        """Open a (non-native, so testable) file dialog; the chosen file fills the path."""
        is_trace = self.kind is ExportKind.TRACE
        dialog = QFileDialog(self, "Export to", self.path_edit.text())
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setOption(QFileDialog.Option.DontUseNativeDialog, True)
        dialog.setNameFilter("JSON Lines (*.jsonl)" if is_trace else "CSV (*.csv)")
        dialog.setDefaultSuffix("jsonl" if is_trace else "csv")
        dialog.fileSelected.connect(self.path_edit.setText)
        self.file_dialog = dialog
        dialog.open()
        return dialog

    def options(self) -> ExportOptions:
        return ExportOptions(
            kind=self.kind,
            path=Path(self.path_edit.text().strip()).expanduser(),
            station_id=self.station_combo.currentData(),
            since=_utc(self.since_edit.dateTime()) if self.since_check.isChecked() else None,
            until=_utc(self.until_edit.dateTime()) if self.until_check.isChecked() else None,
        )

    def set_station(self, station_id: str | None) -> None:
        self.station_combo.setCurrentIndex(max(0, self.station_combo.findData(station_id)))

    def set_range(self, since: datetime | None, until: datetime | None) -> None:
        self._since_chosen = True
        self.since_check.setChecked(since is not None)
        self.until_check.setChecked(until is not None)
        if since is not None:
            self.since_edit.setDateTime(_qt_time(since))
        if until is not None:
            self.until_edit.setDateTime(_qt_time(until))


def _date_time_edit(moment: datetime) -> QDateTimeEdit:
    edit = QDateTimeEdit(_qt_time(moment))
    edit.setCalendarPopup(True)
    edit.setDisplayFormat("yyyy-MM-dd HH:mm:ss")
    return edit


def _qt_time(moment: datetime) -> QDateTime:
    return QDateTime.fromSecsSinceEpoch(int(moment.timestamp()))


def _utc(value: QDateTime) -> datetime:
    return datetime.fromtimestamp(value.toSecsSinceEpoch(), UTC)
