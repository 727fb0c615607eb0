"""The window's menu bar: every main action, with its keyboard shortcut shown beside it.

The actions themselves belong to the window (and to the panels); this module only arranges
them into File, Edit, View, Reservation and Help, and adds the few that are about the
application (Settings…, Quit, About). Other parts add their own actions to the menus held
by :class:`WindowMenus` (e.g. File > Export).
"""

from __future__ import annotations

import platform
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6 import __version__ as pyside_version
from PySide6.QtCore import Qt, qVersion
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu, QMessageBox

import console
from console.central.paths import default_config_dir, default_data_dir
from console.ui.look.resources import icon

if TYPE_CHECKING:
    from console.ui.window.main_window import MainWindow

__all__ = ["PROJECT_URL", "WindowMenus", "about_text", "build_menus"]

PROJECT_URL = "https://www.openchargealliance.org/protocols/ocpp-16/"
"""Where the protocol the console speaks is described (shown in About)."""


@dataclass(frozen=True, slots=True)
class WindowMenus:
    """The menus of the window and the application-wide actions they hold."""

    file_menu: QMenu
    edit_menu: QMenu
    view_menu: QMenu
    reservation_menu: QMenu
    help_menu: QMenu
    settings_action: QAction
    """Edit > Settings… (Ctrl+,): the composition root opens the settings dialog."""
    quit_action: QAction
    about_action: QAction


def build_menus(window: MainWindow) -> WindowMenus:
    """Fill the window's menu bar with its actions; returns the menus for others to extend."""
    bar = window.menuBar()
    file_menu = bar.addMenu("&File")
    edit_menu = bar.addMenu("&Edit")
    view_menu = bar.addMenu("&View")
    reservation_menu = bar.addMenu("&Reservation")
    help_menu = bar.addMenu("&Help")

    quit_action = QAction("&Quit", window)
    quit_action.setShortcut(QKeySequence("Ctrl+Q"))  # Cmd+Q on macOS
    quit_action.setMenuRole(QAction.MenuRole.QuitRole)
    quit_action.triggered.connect(window.close)
    file_menu.addSeparator()
    file_menu.addAction(quit_action)

    settings_action = QAction("&Settings…", window)
    settings_action.setShortcut(QKeySequence("Ctrl+,"))
    settings_action.setMenuRole(QAction.MenuRole.PreferencesRole)
    settings_action.setToolTip("Port, security, station keys, idTags (Ctrl+,)")
    edit_menu.addAction(window.filter_action)
    edit_menu.addSeparator()
    edit_menu.addAction(settings_action)

    form_toggle = window.form_dock.toggleViewAction()
    form_toggle.setText("Reservation &form")
    form_toggle.setShortcut(QKeySequence("Ctrl+Shift+F"))
    view_menu.addAction(form_toggle)
    view_menu.addSeparator()
    window.expand_action.setShortcut(QKeySequence("Ctrl+Shift+E"))
    window.collapse_action.setShortcut(QKeySequence("Ctrl+Shift+C"))
    view_menu.addAction(window.expand_action)
    view_menu.addAction(window.collapse_action)
    view_menu.addSeparator()
    view_menu.addAction(window.reservations_panel.active_only_action)

    reservation_menu.addAction(window.reserve_action)
    reservation_menu.addAction(window.cancel_action)
    reservation_menu.addSeparator()
    # Hidden (with the window's action) when the console has no check runner.
    reservation_menu.addAction(window.check_action)

    about_action = QAction(icon("app"), "&About OCPP Console", window)
    about_action.setShortcut(QKeySequence("F1"))
    about_action.setMenuRole(QAction.MenuRole.AboutRole)
    about_action.triggered.connect(lambda: _show_about(window))
    help_menu.addAction(about_action)

    # Shortcuts must work with the menu bar hidden (e.g. a kiosk) and inside docks.
    for action in (quit_action, settings_action, form_toggle, about_action):
        action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        window.addAction(action)
    return WindowMenus(
        file_menu=file_menu,
        edit_menu=edit_menu,
        view_menu=view_menu,
        reservation_menu=reservation_menu,
        help_menu=help_menu,
        settings_action=settings_action,
        quit_action=quit_action,
        about_action=about_action,
    )


def about_text(station_urls: list[str]) -> str:
    """The About box: version, where stations connect, where the files are (rich text)."""
    urls = "<br>".join(f"<code>{url}&lt;station id&gt;</code>" for url in station_urls)
    return (
        f"<h3>OCPP Console {console.__version__}</h3>"
        "<p>An OCPP 1.6-J Central System for commissioning EV charging stations.</p>"
        f"<p><b>Stations connect to</b><br>{urls or '—'}</p>"
        f"<p><b>Settings</b>: <code>{default_config_dir()}</code><br>"
        f"<b>Data</b>: <code>{default_data_dir()}</code></p>"
        f'<p>OCPP 1.6: <a href="{PROJECT_URL}">{PROJECT_URL}</a></p>'
        f"<p>Qt {qVersion()}, PySide6 {pyside_version}, Python {platform.python_version()}</p>"
    )


def _show_about(window: MainWindow) -> None:
    box = QMessageBox(window)
    box.setWindowTitle("About OCPP Console")
    box.setIconPixmap(icon("app").pixmap(64, 64))
    box.setTextFormat(Qt.TextFormat.RichText)
    box.setText(about_text(window.central.urls()))
    box.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.setObjectName("about_box")
    box.open()
