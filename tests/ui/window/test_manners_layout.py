"""Desktop manners: layout remembered, shortcuts in the menus, About, icons."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import QMessageBox

from console.app import build_window
from console.central.paths import default_config_dir
from console.ui.reservations.reservation_model import ReservationColumn
from console.ui.stations.station_model import TreeColumn
from console.ui.window.main_window import MainWindow
from console.ui.window.menus import about_text
from console.ui.window.window_state import layout_store, restore_layout, save_layout
from tests.ui.fakes import FakeCentralSystem

pytestmark = pytest.mark.qt_log_ignore("This plugin does not support")


def open_window(qtbot) -> MainWindow:
    fake = FakeCentralSystem()
    fake.add_site(2, 2)
    window = build_window(fake, flush_interval_ms=10)
    qtbot.addWidget(window)
    window.start()
    return window


def close(window: MainWindow) -> None:
    window.allow_close()
    window.close()


def test_geometry_docks_splitter_and_columns_come_back(qtbot, tmp_path: Path) -> None:
    store_path = tmp_path / "window.ini"
    first = open_window(qtbot)
    assert not restore_layout(first, layout_store(store_path))  # nothing saved yet
    first.show()
    qtbot.waitUntil(lambda: first.default_layout_applied)
    first.form_dock.hide()
    # the offscreen screen is 800 px wide, narrower than the window may be: restoreGeometry
    # fits a window to its screen, so the height is what shows the geometry came back
    first.resize(first.minimumSizeHint().width(), 555)
    assert first.height() == 555
    first.table.horizontalHeader().resizeSection(ReservationColumn.ID_TAG, 222)
    first.tree.header().resizeSection(TreeColumn.NAME, 260)
    # the split between the tree and the lower panels' tabs, and the panel in front
    first.trace_tools.trace_view_action.trigger()
    first.resizeDocks([first.trace_tools.dock], [180], Qt.Orientation.Vertical)
    qtbot.waitUntil(lambda: first.bottom_panels.front() is first.trace_tools.dock)
    qtbot.waitUntil(lambda: first.tree.height() > 200)  # resizeDocks: in a later pass
    tree_height = first.tree.height()
    save_layout(first, layout_store(store_path))
    close(first)

    second = open_window(qtbot)
    assert restore_layout(second, layout_store(store_path))
    second.show()
    assert second.height() == 555
    assert second.width() <= max(first.width(), second.screen().availableGeometry().width())
    assert second.form_dock.isHidden()
    assert second.table.horizontalHeader().sectionSize(ReservationColumn.ID_TAG) == 222
    assert second.tree.header().sectionSize(TreeColumn.NAME) == 260
    qtbot.waitUntil(lambda: second.bottom_panels.front() is second.trace_tools.dock)
    qtbot.waitUntil(lambda: second.tree.height() == tree_height)
    close(second)


def test_the_layout_lives_in_the_config_folder() -> None:
    store = layout_store()
    assert Path(store.fileName()) == default_config_dir() / "window.ini"


def test_a_layout_of_another_version_is_ignored(qtbot, tmp_path: Path) -> None:
    store = layout_store(tmp_path / "window.ini")
    store.setValue("window/version", 999)
    store.setValue("window/geometry", b"garbage")
    window = open_window(qtbot)
    assert not restore_layout(window, store)
    close(window)


def test_every_main_action_has_a_shortcut_shown_in_a_menu(qtbot) -> None:
    window = open_window(qtbot)
    menus = window.menus
    titles = [action.text() for action in window.menuBar().actions()]
    assert titles[:5] == ["&File", "&Edit", "&View", "&Reservation", "&Help"]
    in_menus = {
        action.text(): action.shortcut().toString()
        for menu in (menus.file_menu, menus.edit_menu, menus.view_menu, menus.reservation_menu)
        for action in menu.actions()
        if not action.isSeparator()
    }
    assert in_menus["&Settings…"] == "Ctrl+,"
    assert in_menus["&Quit"] == "Ctrl+Q"
    assert in_menus["Reserve…"] == "Ctrl+R"
    assert in_menus["Cancel reservation"] == "Del"
    assert in_menus["Filter"] == "Ctrl+F"
    assert in_menus["Active reservations only"] == "Ctrl+Shift+A"
    for text, shortcut in in_menus.items():
        if text not in ("Export…",):  # other parts may add theirs
            assert shortcut, f"{text} has no shortcut"
    assert menus.about_action.shortcut().toString() == "F1"
    close(window)


def test_about_shows_version_and_urls(qtbot) -> None:
    text = about_text(["ws://192.0.2.10:9000/"])
    assert "0.1.0" in text
    assert "ws://192.0.2.10:9000/&lt;station id&gt;" in text
    assert "https://" in text
    window = open_window(qtbot)
    window.show()
    window.menus.about_action.trigger()
    box = window.findChild(QMessageBox, "about_box")
    assert box is not None
    assert box.isVisible()
    assert "OCPP Console 0.1.0" in box.text()
    box.done(0)
    close(window)


def test_the_icons_are_scalable(qtbot) -> None:
    window = open_window(qtbot)
    icon = window.reserve_action.icon()
    # SVG icons: crisp at any device pixel ratio (HiDPI)
    assert not icon.pixmap(QSize(16, 16)).isNull()
    assert icon.pixmap(QSize(64, 64)).width() == 64
    close(window)
