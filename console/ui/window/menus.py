"""The window's menu bar: every main action, with its keyboard shortcut shown beside it.

The actions themselves belong to the window and its panels, which hand them over in a
:class:`MenuActions`; this module only arranges them into File, Edit, View, Reservation and
Help, and adds the few that are about the application (Settings…, Quit, About), for the
window and the composition root to connect.
"""

from __future__ import annotations

import platform
from dataclasses import dataclass

from PySide6 import __version__ as pyside_version
from PySide6.QtCore import Qt, qVersion
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu, QMenuBar, QMessageBox, QWidget

import console
from console.central.paths import default_config_dir, default_data_dir
from console.ui.look.resources import icon

__all__ = ["PROJECT_URL", "MenuActions", "WindowMenus", "about_text", "build_menus", "show_about"]

PROJECT_URL = "https://www.openchargealliance.org/protocols/ocpp-16/"
"""Where the protocol the console speaks is described (shown in About)."""


@dataclass(frozen=True, slots=True)
class MenuActions:
    """The actions the window and its panels own, for the menus to arrange."""

    export_trace: QAction
    export_reservations: QAction
    report: QAction
    filter: QAction
    form_toggle: QAction
    """The reservation form dock's toggle."""
    expand: QAction
    collapse: QAction
    active_only: QAction
    trace_toggle: QAction
    """The message trace dock's toggle."""
    reservations_toggle: QAction
    """The reservations dock's toggle (a tab of the bottom area, like the trace)."""
    checks_toggle: QAction
    """The reservation checks dock's toggle."""
    reserve: QAction
    cancel: QAction
    check: QAction
    """Hidden (by the window) when the console has no check runner."""


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
    """File > Quit (Ctrl+Q): the window closes itself."""
    about_action: QAction
    """Help > About (F1): the window shows :func:`show_about`."""


def build_menus(bar: QMenuBar, actions: MenuActions, owner: QWidget) -> WindowMenus:
    """Fill ``bar`` with the actions; returns the menus for others to extend.

    ``owner`` holds the application-wide actions made here and their shortcuts (the window).
    """
    file_menu = bar.addMenu("&File")
    edit_menu = bar.addMenu("&Edit")
    view_menu = bar.addMenu("&View")
    reservation_menu = bar.addMenu("&Reservation")
    help_menu = bar.addMenu("&Help")

    file_menu.addAction(actions.export_trace)
    file_menu.addAction(actions.export_reservations)
    file_menu.addSeparator()
    file_menu.addAction(actions.report)
    quit_action = QAction("&Quit", owner)
    quit_action.setShortcut(QKeySequence("Ctrl+Q"))  # Cmd+Q on macOS
    quit_action.setMenuRole(QAction.MenuRole.QuitRole)
    file_menu.addSeparator()
    file_menu.addAction(quit_action)

    settings_action = QAction("&Settings…", owner)
    settings_action.setShortcut(QKeySequence("Ctrl+,"))
    settings_action.setMenuRole(QAction.MenuRole.PreferencesRole)
    settings_action.setToolTip("Port, security, station keys, idTags (Ctrl+,)")
    edit_menu.addAction(actions.filter)
    edit_menu.addSeparator()
    edit_menu.addAction(settings_action)

    form_toggle = actions.form_toggle
    form_toggle.setText("Reservation &form")
    form_toggle.setShortcut(QKeySequence("Ctrl+Shift+F"))
    view_menu.addAction(form_toggle)
    view_menu.addSeparator()
    actions.expand.setShortcut(QKeySequence("Ctrl+Shift+E"))
    actions.collapse.setShortcut(QKeySequence("Ctrl+Shift+C"))
    view_menu.addAction(actions.expand)
    view_menu.addAction(actions.collapse)
    view_menu.addSeparator()
    view_menu.addAction(actions.active_only)
    view_menu.addSeparator()
    # The lower panels, tabs of one area: each entry brings its panel to the front.
    reservations_toggle = actions.reservations_toggle
    reservations_toggle.setText("Reservations")
    reservations_toggle.setShortcut(QKeySequence("Ctrl+Shift+R"))
    checks_toggle = actions.checks_toggle
    checks_toggle.setText("Reservation checks")
    checks_toggle.setShortcut(QKeySequence("Ctrl+Shift+H"))  # H: the checks' history
    view_menu.addAction(reservations_toggle)
    view_menu.addAction(actions.trace_toggle)
    view_menu.addAction(checks_toggle)

    reservation_menu.addAction(actions.reserve)
    reservation_menu.addAction(actions.cancel)
    reservation_menu.addSeparator()
    reservation_menu.addAction(actions.check)

    about_action = QAction(icon("app"), "&About OCPP Console", owner)
    about_action.setShortcut(QKeySequence("F1"))
    about_action.setMenuRole(QAction.MenuRole.AboutRole)
    help_menu.addAction(about_action)

    # Shortcuts must work with the menu bar hidden (e.g. a kiosk) and inside docks.
    for action in (
        quit_action,
        settings_action,
        form_toggle,
        reservations_toggle,
        checks_toggle,
        about_action,
    ):
        action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        owner.addAction(action)
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


def show_about(parent: QWidget, station_urls: list[str]) -> QMessageBox:
    """Open (never exec) the About box over ``parent``."""
    box = QMessageBox(parent)
    box.setWindowTitle("About OCPP Console")
    box.setIconPixmap(icon("app").pixmap(64, 64))
    box.setTextFormat(Qt.TextFormat.RichText)
    box.setText(about_text(station_urls))
    box.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.setObjectName("about_box")
    box.open()
    return box
