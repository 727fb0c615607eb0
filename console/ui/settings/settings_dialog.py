"""The settings dialog (Edit > Settings…): what the technician may type.

:class:`SettingsDialog` edits a :class:`ConsoleSettings` with every rule checked as one
types, shown at the field, and OK disabled while anything is wrong. Station keys are typed
once, hashed at once, and from then on shown only as "set". A change of the security
profile, the keys or "accept unknown stations" says, before OK, what the handshake will then
do with each connected station. What OK does is
:class:`~console.ui.settings.settings_controller.SettingsController`'s.

One thing despite its length: one form of four tabs whose fields are checked together
(the rules between fields are the settings model's, shown at each field).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from console.central.admission import AdmissionKind, predict_admission
from console.central.config import CentralSystemConfig, IdTagEntry
from console.central.security import hash_authorization_key
from console.central.settings import (
    ConsoleSettings,
)
from console.ocpp.enums import AuthorizationStatus
from console.ui.settings.consequences import (
    ADMISSION_FIELDS,
    admission_text,
)
from console.ui.settings.proxy_page import PROXY_FIELDS, PROXY_LABELS, ProxyPage

__all__ = ["FIELD_LABELS", "ConfigOf", "SettingsDialog"]

MIN_KEY_LENGTH = 8
MAX_KEY_LENGTH = 40
MAX_ID_TAG_LENGTH = 20

_PROFILES = (
    "0 — no security (ws://)",
    "1 — HTTP Basic password (ws://)",
    "2 — TLS + HTTP Basic password (wss://)",
    "3 — TLS with station certificates (wss://)",
)
FIELD_LABELS = {
    "host": "bind address",
    "port": "port",
    "security_profile": "security profile",
    "certfile": "server certificate",
    "keyfile": "server key",
    "cafile": "CA file",
    "authorization_keys": "station keys",
    "accept_unknown_stations": "accept unknown stations",
    "heartbeat_interval": "heartbeat interval",
    "call_timeout": "call timeout",
    "trace_limit": "trace size limit",
    "id_tags": "idTags",
    "data_dir": "data folder",
    "check_step_timeout": "check step time limit",
    "check_expiry_seconds": "check expiry",
    **PROXY_LABELS,
}


ConfigOf = Callable[[ConsoleSettings], CentralSystemConfig]
"""The Central System configuration some settings give (this run's command line included)."""


class SettingsDialog(QDialog):
    """Edits the console's settings; :meth:`settings` gives the result once OK is enabled.

    ``connected_stations``: the stations connected when it opened; a change of the security
    profile, the keys or "accept unknown stations" says, before OK, what the handshake will
    then do with each of them (``config_of`` turns the edited settings into the
    configuration the Central System will run with).
    """

    sig_validated = Signal(bool)
    """The fields were checked: True when everything is valid (OK enabled)."""

    def __init__(
        self,
        settings: ConsoleSettings,
        parent: QWidget | None = None,
        *,
        run_overrides: Mapping[str, Any] | None = None,
        connected_stations: Sequence[str] = (),
        config_of: ConfigOf | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("settings_dialog")
        self._connected_stations = list(connected_stations)
        self._config_of: ConfigOf = config_of or (lambda settings: settings.to_config())
        self.admission_label = QLabel()
        """What the handshake will do with each connected station (shown after a change
        of the security profile, the keys or "accept unknown stations")."""
        self.admission_label.setObjectName("admission_preview")
        self.admission_label.setWordWrap(True)
        self.admission_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.admission_label.setVisible(False)
        self.override_hint = QLabel(_override_text(run_overrides or {}))
        """Which values this run takes from the command line instead of these settings."""
        self.override_hint.setObjectName("override_hint")
        self.override_hint.setProperty("role", "field-hint")
        self.override_hint.setWordWrap(True)
        self.override_hint.setVisible(bool(run_overrides))
        self.setWindowTitle("Settings")
        self._original = settings
        self._keys: dict[str, str] = dict(settings.authorization_keys)
        self._errors: dict[str, QLabel] = {}
        self._result: ConsoleSettings | None = None

        self.host_edit = QLineEdit(settings.host)
        self.port_spin = QSpinBox()
        self.port_spin.setRange(0, 65535)
        self.port_spin.setSpecialValueText("0 (any free port)")
        self.port_spin.setValue(settings.port)
        self.profile_combo = QComboBox()
        self.profile_combo.addItems(_PROFILES)
        self.profile_combo.setCurrentIndex(settings.security_profile)
        self.certfile_edit = QLineEdit(_path_text(settings.certfile))
        self.keyfile_edit = QLineEdit(_path_text(settings.keyfile))
        self.cafile_edit = QLineEdit(_path_text(settings.cafile))
        self.accept_unknown_check = QCheckBox("Accept stations that are not in the key list")
        self.accept_unknown_check.setChecked(settings.accept_unknown_stations)

        self.key_list = QListWidget()
        self.key_station_edit = QLineEdit()
        self.key_station_edit.setPlaceholderText("Station id, e.g. CP-01")
        self.key_edit = QLineEdit()
        self.key_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.key_edit.setPlaceholderText("New AuthorizationKey (stored hashed, never shown)")
        self.key_state_label = QLabel()
        self.key_state_label.setProperty("role", "field-hint")
        self.set_key_button = QPushButton("Set key")
        self.remove_key_button = QPushButton("Remove key")

        self.heartbeat_spin = QSpinBox()
        self.heartbeat_spin.setRange(1, 86_400)
        self.heartbeat_spin.setSuffix(" s")
        self.heartbeat_spin.setValue(settings.heartbeat_interval)
        self.call_timeout_spin = QDoubleSpinBox()
        self.call_timeout_spin.setRange(0.5, 3600.0)
        self.call_timeout_spin.setDecimals(1)
        self.call_timeout_spin.setSuffix(" s")
        self.call_timeout_spin.setValue(settings.call_timeout)
        self.trace_limit_spin = QSpinBox()
        self.trace_limit_spin.setRange(100, 50_000_000)
        self.trace_limit_spin.setSingleStep(10_000)
        self.trace_limit_spin.setGroupSeparatorShown(True)
        self.trace_limit_spin.setSuffix(" frames")
        self.trace_limit_spin.setValue(settings.trace_limit)

        self.check_step_timeout_spin = QDoubleSpinBox()
        self.check_step_timeout_spin.setObjectName("check_step_timeout")
        self.check_step_timeout_spin.setRange(1.0, 300.0)
        self.check_step_timeout_spin.setDecimals(1)
        self.check_step_timeout_spin.setSuffix(" s")
        self.check_step_timeout_spin.setValue(settings.check_step_timeout)
        self.check_expiry_spin = QSpinBox()
        self.check_expiry_spin.setObjectName("check_expiry_seconds")
        self.check_expiry_spin.setRange(5, 600)
        self.check_expiry_spin.setSuffix(" s")
        self.check_expiry_spin.setValue(settings.check_expiry_seconds)

        self.id_tag_table = QTableWidget(0, 3)
        self.add_id_tag_button = QPushButton("Add idTag")
        self.remove_id_tag_button = QPushButton("Remove idTag")

        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.summary_label = QLabel()
        self.summary_label.setProperty("role", "field-error")
        self.summary_label.setWordWrap(True)

        self.tabs = QTabWidget()
        self._tab_titles: list[str] = []
        self._build()
        self._tab_titles = [self.tabs.tabText(i) for i in range(self.tabs.count())]
        for id_tag, entry in sorted(settings.id_tags.items()):
            self._add_id_tag_row(id_tag, entry)
        self._refresh_key_list()
        self._connect_signals()
        self.validate()

    # --- construction -----------------------------------------------------------------------

    def _build(self) -> None:
        tabs = self.tabs
        tabs.addTab(self._server_tab(), "Server")
        tabs.addTab(self._security_tab(), "Security")
        tabs.addTab(self._id_tags_tab(), "idTags")
        tabs.addTab(self._check_tab(), "Reservation check")
        self.proxy_page = ProxyPage(self._original, self._with_error, self.validate)
        tabs.addTab(self.proxy_page, "Proxy")
        restart_hint = QLabel(
            "Changes restart the Central System after you confirm; stations reconnect."
        )
        restart_hint.setProperty("role", "field-hint")
        layout = QVBoxLayout(self)
        layout.addWidget(self.override_hint)
        layout.addWidget(tabs)
        layout.addWidget(self.summary_label)
        bottom = QHBoxLayout()
        bottom.addWidget(restart_hint, 1)
        bottom.addWidget(self.buttons)
        layout.addLayout(bottom)
        self.resize(660, 520)

    def _server_tab(self) -> QWidget:
        page = QWidget()
        form = QFormLayout(page)
        self.host_edit.setToolTip("0.0.0.0 listens on every network of this laptop")
        form.addRow("Bind address", self._with_error("host", self.host_edit))
        form.addRow("Port", self._with_error("port", self.port_spin))
        form.addRow(
            "Heartbeat interval", self._with_error("heartbeat_interval", self.heartbeat_spin)
        )
        form.addRow("Call timeout", self._with_error("call_timeout", self.call_timeout_spin))
        form.addRow("Trace size limit", self._with_error("trace_limit", self.trace_limit_spin))
        hint = QLabel(
            "The heartbeat interval is what BootNotification tells stations; the call timeout "
            "is how long the console waits for a station's answer."
        )
        hint.setProperty("role", "field-hint")
        hint.setWordWrap(True)
        form.addRow(hint)
        return page

    _TAB_FIELDS = (
        frozenset({"host", "port", "heartbeat_interval", "call_timeout", "trace_limit"}),
        frozenset(
            {
                "security_profile",
                "certfile",
                "keyfile",
                "cafile",
                "accept_unknown_stations",
                "authorization_keys",
            }
        ),
        frozenset({"id_tags"}),
        frozenset({"check_step_timeout", "check_expiry_seconds"}),
        PROXY_FIELDS,
    )

    def _security_tab(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        form = QFormLayout()
        form.addRow("Security profile", self._with_error("security_profile", self.profile_combo))
        for name, edit, title in (
            ("certfile", self.certfile_edit, "Server certificate"),
            ("keyfile", self.keyfile_edit, "Server key"),
            ("cafile", self.cafile_edit, "CA (station certificates)"),
        ):
            edit.setObjectName(f"{name}_edit")
            edit.setPlaceholderText("PEM file")
            browse = QPushButton("Browse…")
            browse.clicked.connect(lambda _=False, e=edit, t=title: self._browse(e, t))
            row = QHBoxLayout()
            row.addWidget(edit, 1)
            row.addWidget(browse)
            holder = QWidget()
            holder.setLayout(row)
            row.setContentsMargins(0, 0, 0, 0)
            form.addRow(title, self._with_error(name, holder))
            edit.setProperty("settings_field", name)  # the edit shows red, not its row
        form.addRow("", self.accept_unknown_check)
        layout.addLayout(form)

        keys = QGroupBox("Station keys (profiles 1 and 2: HTTP Basic password)")
        keys_layout = QVBoxLayout(keys)
        self.key_list.setObjectName("key_list")
        self.key_list.setMaximumHeight(110)
        keys_layout.addWidget(self.key_list)
        entry = QFormLayout()
        entry.addRow("Station", self.key_station_edit)
        entry.addRow("New key", self.key_edit)
        entry.addRow("", self.key_state_label)
        keys_layout.addLayout(entry)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.remove_key_button)
        buttons.addWidget(self.set_key_button)
        keys_layout.addLayout(buttons)
        keys_layout.addWidget(self._error_label("authorization_keys"))
        layout.addWidget(keys)
        # Below everything it depends on, so that its lines never move a field.
        layout.addWidget(self.admission_label)
        return page

    def _id_tags_tab(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        hint = QLabel(
            "What Authorize and StartTransaction answer for each idTag; the parent idTag lets "
            "a card use a reservation made for its group."
        )
        hint.setWordWrap(True)
        hint.setProperty("role", "field-hint")
        layout.addWidget(hint)
        table = self.id_tag_table
        table.setObjectName("id_tag_table")
        table.setHorizontalHeaderLabels(["idTag", "Parent idTag", "Status"])
        table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        table.verticalHeader().setVisible(False)
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        layout.addWidget(table)
        layout.addWidget(self._error_label("id_tags"))
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.remove_id_tag_button)
        buttons.addWidget(self.add_id_tag_button)
        layout.addLayout(buttons)
        return page

    def _check_tab(self) -> QWidget:
        page = QWidget()
        form = QFormLayout(page)
        form.addRow(
            "Step time limit",
            self._with_error("check_step_timeout", self.check_step_timeout_spin),
        )
        form.addRow("Expiry step", self._with_error("check_expiry_seconds", self.check_expiry_spin))
        hint = QLabel(
            "How long each step of Check reservations… waits for the station's answer or "
            "StatusNotification, and how far ahead the expiry step's reservation expires (the "
            "check then waits that long). Used by the next check; no restart."
        )
        hint.setProperty("role", "field-hint")
        hint.setWordWrap(True)
        form.addRow(hint)
        return page

    def _error_label(self, name: str) -> QLabel:
        label = QLabel()
        label.setObjectName(f"{name}_error")
        label.setProperty("role", "field-error")
        label.setWordWrap(True)
        label.setVisible(False)
        self._errors[name] = label
        return label

    def _with_error(self, name: str, field: QWidget) -> QWidget:
        holder = QWidget()
        column = QVBoxLayout(holder)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(2)
        column.addWidget(field)
        column.addWidget(self._error_label(name))
        field.setProperty("settings_field", name)
        return holder

    def _connect_signals(self) -> None:
        for edit in (self.host_edit, self.certfile_edit, self.keyfile_edit, self.cafile_edit):
            edit.textChanged.connect(self.validate)
        for spin in (self.port_spin, self.heartbeat_spin, self.trace_limit_spin):
            spin.valueChanged.connect(self.validate)
        self.call_timeout_spin.valueChanged.connect(self.validate)
        self.check_step_timeout_spin.valueChanged.connect(self.validate)
        self.check_expiry_spin.valueChanged.connect(self.validate)
        self.profile_combo.currentIndexChanged.connect(self.validate)
        self.accept_unknown_check.toggled.connect(self.validate)
        self.id_tag_table.itemChanged.connect(self.validate)
        self.key_station_edit.textChanged.connect(self._refresh_key_state)
        self.key_edit.textChanged.connect(self._refresh_key_state)
        self.key_list.currentTextChanged.connect(self._on_key_row_chosen)
        self.set_key_button.clicked.connect(self.set_key)
        self.remove_key_button.clicked.connect(self.remove_key)
        self.add_id_tag_button.clicked.connect(lambda: self._add_id_tag_row("", IdTagEntry()))
        self.remove_id_tag_button.clicked.connect(self._remove_id_tag_row)
        self.buttons.accepted.connect(self._on_ok)
        self.buttons.rejected.connect(self.reject)

    # --- station keys -----------------------------------------------------------------------

    def key_state(self, station_id: str) -> str:
        """What the dialog shows of a station's key: "set" or "not set" (never the key)."""
        return "set" if station_id in self._keys else "not set"

    def set_key(self) -> None:
        station_id = self.key_station_edit.text().strip()
        key = self.key_edit.text()
        if self._key_problem(station_id, key) is not None:
            return
        self._keys[station_id] = hash_authorization_key(key)
        self.key_edit.clear()  # typed once, hashed, gone
        self._refresh_key_list()
        self._refresh_key_state()
        self.validate()

    def remove_key(self) -> None:
        station_id = self.key_station_edit.text().strip()
        if self._keys.pop(station_id, None) is not None:
            self._refresh_key_list()
            self._refresh_key_state()
            self.validate()

    def _key_problem(self, station_id: str, key: str) -> str | None:
        if not station_id:
            return "Type the station id"
        if "/" in station_id or len(station_id) > 48:
            return "A station id has no '/' and at most 48 characters"
        if not key:
            return f"Key {self.key_state(station_id)}; type a new key to set it"
        if not MIN_KEY_LENGTH <= len(key) <= MAX_KEY_LENGTH:
            return f"A key has {MIN_KEY_LENGTH} to {MAX_KEY_LENGTH} characters (16+ advised)"
        return None

    def _refresh_key_state(self) -> None:
        station_id = self.key_station_edit.text().strip()
        problem = self._key_problem(station_id, self.key_edit.text())
        self.set_key_button.setEnabled(problem is None)
        self.remove_key_button.setEnabled(station_id in self._keys)
        self.key_state_label.setText(problem or f"Key {self.key_state(station_id)}: press Set key")

    def _refresh_key_list(self) -> None:
        self.key_list.clear()
        for station_id in sorted(self._keys, key=str.casefold):
            self.key_list.addItem(f"{station_id} — key set")

    def _on_key_row_chosen(self, text: str) -> None:
        if text:
            self.key_station_edit.setText(text.split(" — ", 1)[0])

    # --- idTags -----------------------------------------------------------------------------

    def _add_id_tag_row(self, id_tag: str, entry: IdTagEntry) -> None:
        table = self.id_tag_table
        table.blockSignals(True)
        row = table.rowCount()
        table.insertRow(row)
        table.setItem(row, 0, QTableWidgetItem(id_tag))
        table.setItem(row, 1, QTableWidgetItem(entry.parent_id_tag or ""))
        status = QComboBox()
        for value in AuthorizationStatus:
            status.addItem(value.value, value.value)
        status.setCurrentIndex(status.findData(entry.status.value))
        status.currentIndexChanged.connect(self.validate)
        table.setCellWidget(row, 2, status)
        table.blockSignals(False)
        if not id_tag:
            table.setCurrentCell(row, 0)
            new_item = table.item(row, 0)
            if new_item is not None:
                table.editItem(new_item)
        self.validate()

    def _remove_id_tag_row(self) -> None:
        row = self.id_tag_table.currentRow()
        if row >= 0:
            self.id_tag_table.removeRow(row)
            self.validate()

    def _id_tags(self) -> tuple[dict[str, IdTagEntry], str | None]:
        found: dict[str, IdTagEntry] = {}
        seen: set[str] = set()
        table = self.id_tag_table
        for row in range(table.rowCount()):
            id_tag = _cell_text(table, row, 0)
            parent = _cell_text(table, row, 1)
            widget = table.cellWidget(row, 2)
            status = widget.currentData() if isinstance(widget, QComboBox) else "Accepted"
            if not id_tag:
                return found, f"Row {row + 1}: the idTag is empty"
            if len(id_tag) > MAX_ID_TAG_LENGTH or len(parent) > MAX_ID_TAG_LENGTH:
                return found, f"Row {row + 1}: an idTag has at most {MAX_ID_TAG_LENGTH} characters"
            if id_tag.casefold() in seen:
                return found, f"Row {row + 1}: {id_tag} is listed twice (idTags ignore case)"
            seen.add(id_tag.casefold())
            found[id_tag] = IdTagEntry(
                status=AuthorizationStatus(status), parent_id_tag=parent or None
            )
        return found, None

    # --- validation -------------------------------------------------------------------------

    def values(self) -> dict[str, Any]:
        """The fields as the settings model's values (not validated)."""
        id_tags, _problem = self._id_tags()
        return {
            "host": self.host_edit.text().strip(),
            "port": self.port_spin.value(),
            "security_profile": self.profile_combo.currentIndex(),
            "authorization_keys": dict(self._keys),
            "certfile": _path_or_none(self.certfile_edit.text()),
            "keyfile": _path_or_none(self.keyfile_edit.text()),
            "cafile": _path_or_none(self.cafile_edit.text()),
            "accept_unknown_stations": self.accept_unknown_check.isChecked(),
            "heartbeat_interval": self.heartbeat_spin.value(),
            "call_timeout": self.call_timeout_spin.value(),
            "trace_limit": self.trace_limit_spin.value(),
            "id_tags": id_tags,
            "check_step_timeout": self.check_step_timeout_spin.value(),
            "check_expiry_seconds": self.check_expiry_spin.value(),
            **self.proxy_page.values(),
        }

    def problems(self) -> dict[str, str]:
        """Field name -> what is wrong with it; empty when OK may be pressed."""
        found: dict[str, str] = {}
        candidate: ConsoleSettings | None = None
        try:
            candidate = ConsoleSettings.model_validate(self.values())
        except ValidationError as exc:
            for error in exc.errors():
                name = str(error["loc"][0]) if error["loc"] else "host"
                found.setdefault(name, _readable(error["msg"]))
        if candidate is not None:
            found.update(candidate.problems())
        _id_tags, id_tag_problem = self._id_tags()
        if id_tag_problem is not None:
            found["id_tags"] = id_tag_problem
        return found

    def validate(self) -> bool:
        """Check every field, show each problem under its field; enable OK if none."""
        problems = self.problems()
        for name, label in self._errors.items():
            text = problems.get(name, "")
            label.setText(text)
            label.setVisible(bool(text))
        for widget in self.findChildren(QWidget):
            name = widget.property("settings_field")
            if name:
                invalid = name in problems
                if widget.property("invalid") != invalid:
                    widget.setProperty("invalid", invalid)
                    widget.style().unpolish(widget)
                    widget.style().polish(widget)
        self.ok_button.setEnabled(not problems)
        self.summary_label.setText(
            "Fix first: " + ", ".join(FIELD_LABELS.get(n, n) for n in problems) if problems else ""
        )
        self.summary_label.setVisible(bool(problems))
        # A problem on a tab not shown must still be found: its title says so.
        for index, (title, names) in enumerate(
            zip(self._tab_titles, self._TAB_FIELDS, strict=False)
        ):
            self.tabs.setTabText(index, f"⚠ {title}" if names & problems.keys() else title)
        self._refresh_key_state()
        self._refresh_admission(problems)
        self.sig_validated.emit(not problems)
        return not problems

    def _refresh_admission(self, problems: Mapping[str, str]) -> None:
        """Say what the handshake will do with each connected station, before OK."""
        shown = ""
        refused = False
        changed = ADMISSION_FIELDS & {n for n, v in self.values().items() if self._differs(n, v)}
        if changed and not ADMISSION_FIELDS & problems.keys():
            try:
                config = self._config_of(ConsoleSettings.model_validate(self.values()))
            except ValueError:  # another field is invalid: said at that field
                config = None
            if config is not None:
                admissions = [predict_admission(config, s) for s in self._connected_stations]
                shown = admission_text(admissions)
                refused = any(a.kind is AdmissionKind.REFUSED for a in admissions)
        label = self.admission_label
        role = "field-error" if refused else "field-hint"
        if label.property("role") != role:
            label.setProperty("role", role)
            label.style().unpolish(label)
            label.style().polish(label)
        label.setText(shown)
        label.setVisible(bool(shown))

    def _differs(self, name: str, value: object) -> bool:
        return bool(getattr(self._original, name, value) != value)

    def settings(self) -> ConsoleSettings:
        """The edited settings (raises ``ValueError`` if a field is invalid)."""
        if self.problems():
            raise ValueError("the settings are not valid")
        return ConsoleSettings.model_validate(self.values())

    def result_settings(self) -> ConsoleSettings | None:
        """What OK accepted, or None if the dialog was cancelled."""
        return self._result

    def _on_ok(self) -> None:
        if not self.validate():
            return
        self._result = self.settings()
        self.accept()

    def _browse(self, edit: QLineEdit, title: str) -> None:
        dialog = QFileDialog(self, title, edit.text() or str(Path.home()))
        dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
        dialog.setNameFilters(["PEM files (*.pem *.crt *.key *.cer)", "All files (*)"])
        dialog.fileSelected.connect(edit.setText)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()


def _override_text(overrides: Mapping[str, Any]) -> str:
    """ "This run uses port 39143 from the command line; …" (empty without overrides)."""
    if not overrides:
        return ""
    parts = [
        f"{FIELD_LABELS.get(name, name.replace('_', ' '))} {value}"
        for name, value in sorted(overrides.items())
    ]
    return (
        f"This run uses {', '.join(parts)} from the command line. The values below are the "
        "saved settings: they apply when the console starts without those options, or as "
        "soon as you change them here."
    )


def _path_text(path: Path | None) -> str:
    return "" if path is None else str(path)


def _path_or_none(text: str) -> Path | None:
    text = text.strip()
    return Path(text).expanduser() if text else None


def _cell_text(table: QTableWidget, row: int, column: int) -> str:
    item = table.item(row, column)
    return item.text().strip() if item is not None else ""


def _readable(message: str) -> str:
    # pydantic says "Input should be greater than 0"; the field label says which input.
    message = message.removeprefix("Value error, ")  # our own validators' words
    return message.replace("Input should be", "Must be").replace("String should", "Must")
