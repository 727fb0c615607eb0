"""What pressing OK in the settings dialog does: save, and restart when the change needs it.

:class:`SettingsController` opens the :class:`SettingsDialog` (``open()`` + ``finished``,
never ``exec()``), saves the result, and restarts the Central System after a confirmation
when the change needs it. The confirmation says what the restart does to the site: which
stations come back by themselves, which must be re-pointed to a new URL (named), and which
the new security settings will refuse.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QGridLayout, QMessageBox, QSizePolicy, QSpacerItem, QWidget

from console.central.admission import predict_admission
from console.central.config import CentralSystemConfig
from console.central.settings import (
    RESTART_FIELDS,
    ConsoleSettings,
    changed_fields,
    save_settings,
)
from console.central.site_urls import site_url
from console.ui.settings.consequences import ADMISSION_FIELDS, refused_text, restart_text
from console.ui.settings.settings_dialog import FIELD_LABELS, SettingsDialog

__all__ = ["Restart", "SettingsController"]

_log = logging.getLogger(__name__)


Restart = Callable[[CentralSystemConfig], Awaitable[None]]
"""Stops the Central System and starts it again with this configuration."""


class SettingsController(QObject):
    """Opens the dialog, saves what it returns, restarts the Central System when needed.

    ``overrides`` are the command-line options of this run: they keep winning over the
    settings until the technician changes that same setting in the dialog.
    ``connected_stations`` gives the ids of the stations connected now;
    ``following_stations`` those that follow the console to a new URL by themselves (the
    demo's simulated stations), so that the restart question says which stations must be
    re-pointed by hand.
    """

    sig_message = Signal(str)
    """Something to tell the technician (status bar)."""
    sig_applied = Signal(object)
    """ConsoleSettings: saved and, if needed, the Central System runs with them."""
    sig_failed = Signal(str)
    """Saving or restarting failed; the text says why."""

    def __init__(
        self,
        settings: ConsoleSettings,
        path: Path,
        restart: Restart,
        parent_widget: QWidget,
        *,
        overrides: Mapping[str, Any] | None = None,
        connected_stations: Callable[[], Sequence[str]] = lambda: (),
        following_stations: Callable[[], Collection[str]] = lambda: (),
        keep_existing_file: bool = False,
        running_port: Callable[[], int | None] = lambda: None,
    ) -> None:
        super().__init__(parent_widget)
        self.settings = settings
        self.path = path
        self.overrides: dict[str, Any] = dict(overrides or {})
        self._restart = restart
        self._parent_widget = parent_widget
        self._connected_stations = connected_stations
        self._following_stations = following_stations
        self._running_port = running_port
        # The file found at start could not be used nor moved aside: never save over it.
        self._keep_existing_file = keep_existing_file
        self._tasks: set[asyncio.Task[None]] = set()
        self.dialog: SettingsDialog | None = None
        self.confirmation: QMessageBox | None = None

    def config(self) -> CentralSystemConfig:
        """The Central System configuration: the settings with this run's overrides."""
        return self.settings.to_config(**self.overrides)

    def config_for(self, new: ConsoleSettings) -> CentralSystemConfig:
        """The configuration ``new`` would run with: the command line keeps winning for the
        fields ``new`` leaves as they are (as after :meth:`apply`)."""
        changed = changed_fields(self.settings, new)
        return new.to_config(
            **{name: value for name, value in self.overrides.items() if name not in changed}
        )

    def station_url(self) -> str:
        """The URL the site's stations use now (``…/`` + their id)."""
        return site_url(self.config(), self._running_port())

    def run_overrides(self) -> dict[str, Any]:
        """The command-line values this run uses (the port it really listens on for port 0)."""
        shown = dict(self.overrides)
        port = self._running_port()
        if "port" in shown and port:
            shown["port"] = port
        return shown

    def open_dialog(self) -> SettingsDialog:
        if self.dialog is not None:
            self.dialog.raise_()
            return self.dialog
        dialog = SettingsDialog(
            self.settings,
            self._parent_widget,
            run_overrides=self.run_overrides(),
            connected_stations=list(self._connected_stations()),
            config_of=self.config_for,
        )
        dialog.finished.connect(lambda _code, d=dialog: self._on_dialog_finished(d))
        self.dialog = dialog
        dialog.open()
        return dialog

    def _on_dialog_finished(self, dialog: SettingsDialog) -> None:
        self.dialog = None
        new = dialog.result_settings()
        dialog.deleteLater()
        if new is not None:
            self.apply(new)

    def apply(self, new: ConsoleSettings) -> None:
        """Save ``new``; ask first when the Central System must restart for it."""
        changed = changed_fields(self.settings, new)
        if not changed:
            return
        if not changed & RESTART_FIELDS:
            self._save(new, changed)
            return
        names = ", ".join(sorted(FIELD_LABELS.get(name, name) for name in changed))
        box = QMessageBox(self._parent_widget)
        box.setObjectName("restart_confirmation")
        box.setIcon(QMessageBox.Icon.Question)
        box.setWindowTitle("Restart the Central System?")
        box.setText(f"Changed: {names}.")
        box.setInformativeText(self.restart_question(new))
        _widen(box, 480)  # a URL and the stations to re-point: not a column of three words
        restart_button = box.addButton("Restart now", QMessageBox.ButtonRole.AcceptRole)
        later_button = box.addButton("Save, restart later", QMessageBox.ButtonRole.ActionRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(restart_button)

        def on_finished(_result: int) -> None:
            self.confirmation = None
            clicked = box.clickedButton()
            if clicked is restart_button:
                self.restart_with(new)
            elif clicked is later_button:
                self._save(new, changed)
                self.sig_message.emit("Settings saved; they apply at the next start")
            box.deleteLater()

        box.finished.connect(on_finished)
        self.confirmation = box
        box.open()

    def restart_question(self, new: ConsoleSettings) -> str:
        """What restarting with ``new`` does to the stations, for the confirmation."""
        online = list(self._connected_stations())
        config = self.config_for(new)
        new_url = site_url(config) if config.port else None
        text = restart_text(
            connected=online,
            following=set(self._following_stations()),
            old_url=self.station_url(),
            new_url=new_url,
        )
        if config.upstream_url != self.config().upstream_url:
            text += "\n\n" + (
                f"Proxy mode: each station is then carried on to {config.upstream_url}/"
                "<station id>."
                if config.upstream_url
                else "Proxy mode ends: the console is then the stations' Central System."
            )
        if ADMISSION_FIELDS & changed_fields(self.settings, new):
            refused = refused_text([predict_admission(config, s) for s in online])
            if refused:
                text += "\n\n" + refused
        return text

    def restart_with(self, new: ConsoleSettings) -> asyncio.Task[None]:
        """Save ``new`` and restart the Central System with it (no question asked)."""
        changed = changed_fields(self.settings, new)
        if not self._save(new, changed):
            raise RuntimeError("the settings could not be saved")
        task = asyncio.get_running_loop().create_task(self._restart_now())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def wait_idle(self) -> None:
        """Wait for a restart under way (the console closes only after it)."""
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _restart_now(self) -> None:
        self.sig_message.emit("Restarting the Central System…")
        try:
            await self._restart(self.config())
        except Exception as exc:
            _log.exception("restarting the Central System failed")
            self.sig_failed.emit(f"The Central System could not restart: {exc}")
            return
        self.sig_message.emit(
            f"Restarted with the new settings: stations connect to {self.station_url()}<station id>"
        )
        self.sig_applied.emit(self.settings)

    def _save(self, new: ConsoleSettings, changed: set[str]) -> bool:
        try:
            save_settings(new, self.path, keep_existing=self._keep_existing_file)
        except OSError as exc:
            _log.error("cannot save the settings to %s: %s", self.path, exc)
            self.sig_failed.emit(f"The settings could not be saved to {self.path}: {exc}")
            return False
        self.settings = new
        self._keep_existing_file = False
        # The technician chose these values now: the command line no longer pins them.
        for name in changed:
            self.overrides.pop(name, None)
        if not changed & RESTART_FIELDS:
            self.sig_applied.emit(new)
        return True


def _widen(box: QMessageBox, width: int) -> None:
    # QMessageBox sizes itself from its text and ignores setMinimumWidth; a spacer across
    # its grid is the documented way round.
    layout = box.layout()
    if isinstance(layout, QGridLayout):
        spacer = QSpacerItem(width, 0, QSizePolicy.Policy.Minimum, QSizePolicy.Policy.Expanding)
        layout.addItem(spacer, layout.rowCount(), 0, 1, layout.columnCount())
