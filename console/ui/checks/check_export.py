"""Exporting one reservation check: JSON (the whole result) or CSV (one row per step), with
the timeline as a PNG beside it, and the dialog that asks where."""

from __future__ import annotations

import contextlib
import os
from enum import StrEnum
from pathlib import Path

from PySide6.QtCore import (
    QByteArray,
)
from PySide6.QtGui import (
    QImageWriter,
)
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from console.central.check.codec import check_to_json, checks_csv_lines
from console.central.check.model import CheckResult
from console.central.export import iso_utc
from console.ui.checks.check_timeline import timeline_image
from console.ui.export_folder import default_folder as documents_or_home
from console.ui.export_folder import export_file_name

__all__ = [
    "PICTURE_WIDTH",
    "CheckExportDialog",
    "CheckExportFormat",
    "export_check",
    "picture_fields",
]

PICTURE_WIDTH = 1200
"""Logical width of the exported timeline picture (drawn twice as dense)."""

# --- export ---------------------------------------------------------------------------------


class CheckExportFormat(StrEnum):
    JSON = "json"
    CSV = "csv"


def export_check(
    result: CheckResult, path: Path, kind: CheckExportFormat, *, picture: bool = False
) -> list[Path]:
    """Write ``result`` to ``path`` (and its timeline to ``path`` with .png); the files written.

    Each file is written whole to ``<name>.part`` first: a failure leaves no half file.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    if kind is CheckExportFormat.JSON:
        text = check_to_json(result, indent=2) + "\n"
    else:
        text = "".join(checks_csv_lines([result]))
    written = [_write_whole(path, text.encode("utf-8"))]
    if picture:
        png = path.with_suffix(".png")
        if png == path:
            png = path.with_name(path.name + ".png")
        # A picture on its own (mailed, pasted in a ticket): it says whose check it is and
        # how it ended, in its heading and in its PNG text fields.
        image = timeline_image(result, PICTURE_WIDTH, scale=2, heading=True)
        for key, value in picture_fields(result).items():
            image.setText(key, value)
        part = png.with_name(png.name + ".part")
        try:
            writer = QImageWriter(str(part), QByteArray(b"png"))
            if not writer.write(image):
                raise OSError(f"could not write {png}: {writer.errorString()}")
            os.replace(part, png)
        finally:
            with contextlib.suppress(OSError):
                part.unlink(missing_ok=True)
        written.append(png)
    return written


def picture_fields(result: CheckResult) -> dict[str, str]:
    """The PNG text fields of the exported timeline (what a file browser or script reads)."""
    fields = {
        "Title": f"Reservation check of {result.station_id}: {result.outcome.value}",
        "Station": result.station_id,
        "Outcome": result.outcome.value,
        "Started": iso_utc(result.started_at),
    }
    if result.finished_at is not None:
        fields["Finished"] = iso_utc(result.finished_at)
    identity = " ".join(part for part in (result.vendor, result.model) if part)
    if identity:
        fields["Station model"] = identity
    if result.firmware_version:
        fields["Firmware"] = result.firmware_version
    fields["Software"] = "OCPP Console"
    return fields


def _write_whole(path: Path, data: bytes) -> Path:
    part = path.with_name(path.name + ".part")
    try:
        part.write_bytes(data)
        os.replace(part, path)
    finally:
        with contextlib.suppress(OSError):
            part.unlink(missing_ok=True)
    return path


class CheckExportDialog(QDialog):
    """Asks where to export one check, as JSON or CSV, and whether to add the timeline PNG."""

    def __init__(
        self,
        result: CheckResult,
        parent: QWidget | None = None,
        *,
        default_folder: Path | None = None,
    ) -> None:
        super().__init__(parent)
        self.check = result
        """The check to export."""
        self.setWindowTitle(f"Export the check of {result.station_id}")
        folder = default_folder or documents_or_home()
        name = export_file_name(
            "reservation-check", result.station_id, result.started_at, "json", seconds=True
        )
        self.format_combo = QComboBox()
        self.format_combo.addItem("JSON (the whole result, with the frames)", "json")
        self.format_combo.addItem("CSV (one row per step)", "csv")
        self.path_edit = QLineEdit(str(folder / name))
        self.path_edit.setObjectName("check_export_path")
        self.picture_check = QCheckBox("Also save the timeline picture (PNG) next to it")
        self.picture_check.setChecked(True)
        self.browse_button = QPushButton("Browse…")
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setText("Export")
        self.file_dialog: QFileDialog | None = None

        path_row = QHBoxLayout()
        path_row.addWidget(self.path_edit, 1)
        path_row.addWidget(self.browse_button)
        form = QFormLayout()
        form.addRow("Format", self.format_combo)
        form.addRow("File", path_row)
        form.addRow("", self.picture_check)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.buttons)
        self.setMinimumWidth(600)

        self.format_combo.currentIndexChanged.connect(self._follow_format)
        self.path_edit.textChanged.connect(lambda text: ok.setEnabled(bool(text.strip())))
        self.browse_button.clicked.connect(self.browse)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)

    def kind(self) -> CheckExportFormat:
        return CheckExportFormat(self.format_combo.currentData())

    def set_kind(self, kind: CheckExportFormat) -> None:
        self.format_combo.setCurrentIndex(max(0, self.format_combo.findData(kind.value)))

    def _follow_format(self, _index: int) -> None:
        # The file's extension follows the chosen format (unless the technician typed another).
        path = self.path()
        if path.suffix.lower() in (".json", ".csv", ""):
            self.path_edit.setText(str(path.with_suffix("." + self.kind().value)))

    def browse(self) -> QFileDialog:
        """Open a (non-native, so testable) file dialog; the chosen file fills the path."""
        suffix = self.kind().value
        dialog = QFileDialog(self, "Export the check to", self.path_edit.text())
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setOption(QFileDialog.Option.DontUseNativeDialog, True)
        dialog.setNameFilter("JSON (*.json)" if suffix == "json" else "CSV (*.csv)")
        dialog.setDefaultSuffix(suffix)
        dialog.fileSelected.connect(self.path_edit.setText)
        self.file_dialog = dialog
        dialog.open()
        return dialog

    def path(self) -> Path:
        return Path(self.path_edit.text().strip()).expanduser()

    def picture(self) -> bool:
        return self.picture_check.isChecked()
