"""The "Proxy" page of the settings dialog: the site's own CSMS the console stands in front of.

An upstream URL turns proxy mode on (empty: off): each station is carried on to
``<url>/<station id>`` and the console watches. The page only holds the fields; the dialog
checks them with every other field (the rules are the settings model's) and shows each
problem under its field.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QWidget,
)

from console.central.settings import ConsoleSettings

__all__ = ["PROXY_FIELDS", "PROXY_LABELS", "ProxyPage"]

PROXY_FIELDS = frozenset({"upstream_url", "upstream_cafile", "upstream_keep_stations"})
PROXY_LABELS = {
    "upstream_url": "upstream URL",
    "upstream_cafile": "upstream CA file",
    "upstream_keep_stations": "keep stations while the CSMS is away",
}

WithError = Callable[[str, QWidget], QWidget]
"""The dialog's way to put a field above its error line (and mark it with its name)."""


class ProxyPage(QWidget):
    """The proxy fields; ``with_error`` is the dialog's, so their problems show as the
    other tabs' do. ``changed`` is called whenever a field changes (the dialog validates)."""

    def __init__(
        self, settings: ConsoleSettings, with_error: WithError, changed: Callable[[], object]
    ) -> None:
        super().__init__()
        self.setObjectName("proxy_page")
        self.url_edit = QLineEdit(settings.upstream_url or "")
        self.url_edit.setObjectName("upstream_url_edit")
        self.url_edit.setPlaceholderText("Empty: no proxy. e.g. wss://csms.example.com/ocpp")
        self.cafile_edit = QLineEdit(_path_text(settings.upstream_cafile))
        self.cafile_edit.setObjectName("upstream_cafile_edit")
        self.cafile_edit.setPlaceholderText("PEM file; empty: the system's CAs")
        self.browse_button = QPushButton("Browse…")
        self.keep_check = QCheckBox("Keep stations on the console while the CSMS is away")
        self.keep_check.setObjectName("upstream_keep_stations_check")
        self.keep_check.setChecked(settings.upstream_keep_stations)
        self.mode_label = QLabel()
        self.mode_label.setObjectName("proxy_mode_hint")
        self.mode_label.setProperty("role", "field-hint")
        self.mode_label.setWordWrap(True)
        self.mode_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        form = QFormLayout(self)
        form.addRow("Upstream URL", with_error("upstream_url", self.url_edit))
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.cafile_edit, 1)
        row.addWidget(self.browse_button)
        holder = QWidget()
        holder.setLayout(row)
        form.addRow("CA file (wss://)", with_error("upstream_cafile", holder))
        self.cafile_edit.setProperty("settings_field", "upstream_cafile")  # the edit shows red
        form.addRow("", self.keep_check)
        keep_hint = QLabel(
            "The console answers a station itself while the CSMS is unreachable or refuses it."
        )
        keep_hint.setObjectName("upstream_keep_stations_hint")
        keep_hint.setProperty("role", "field-hint")  # one line: no wrap, no gap above it
        form.addRow("", keep_hint)
        self.keep_check.setToolTip(
            "Checked: the station stays connected, and goes back through the proxy once the "
            "CSMS takes it again. Unchecked: it is disconnected and reconnects by its own logic."
        )
        form.addRow(self.mode_label)

        self.url_edit.textChanged.connect(self._refresh)
        self.cafile_edit.textChanged.connect(self._refresh)
        for signal in (
            self.url_edit.textChanged,
            self.cafile_edit.textChanged,
            self.keep_check.toggled,
        ):
            signal.connect(changed)
        self.browse_button.clicked.connect(self._browse)
        self._refresh()

    def values(self) -> dict[str, Any]:
        """The fields as the settings model's values (not validated)."""
        url = self.url_edit.text().strip()
        cafile = self.cafile_edit.text().strip()
        return {
            "upstream_url": url or None,
            "upstream_cafile": Path(cafile).expanduser() if cafile else None,
            "upstream_keep_stations": self.keep_check.isChecked(),
        }

    def _refresh(self) -> None:
        url = self.url_edit.text().strip().rstrip("/")
        tls = url.startswith("wss:")
        # Only TLS reads the CA: the chooser is off for ws:// (a path kept there is flagged).
        self.browse_button.setEnabled(tls)
        self.cafile_edit.setEnabled(tls or bool(self.cafile_edit.text().strip()))
        self.keep_check.setEnabled(bool(url))
        try:
            valid = ConsoleSettings(upstream_url=url).upstream_url
        except ValueError:
            self.mode_label.setText("")  # the field's own error line says why
            return
        self.mode_label.setText(
            f"Proxy mode: each station is carried on to {valid}/<station id>; the console "
            "watches and may act. Saving restarts the Central System."
            if valid
            else "No proxy: the console is the stations' Central System."
        )

    def _browse(self) -> None:
        edit = self.cafile_edit
        dialog = QFileDialog(self, "CA of the CSMS", edit.text() or str(Path.home()))
        dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
        dialog.setNameFilters(["PEM files (*.pem *.crt *.cer)", "All files (*)"])
        dialog.fileSelected.connect(edit.setText)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()


def _path_text(path: Path | None) -> str:
    return "" if path is None else str(path)
