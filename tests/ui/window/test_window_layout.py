"""The window's default layout: the station tree above the lower panels' tabs, the form narrow."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, QRect, Qt
from PySide6.QtWidgets import QAbstractItemView, QApplication, QTableView, QTreeView

from console.app import build_window
from console.central.model import ReservationRecord, ReservationState, TraceDirection, TraceEntry
from console.ui.look.color_scheme import dark_palette, scheme_style_sheet
from console.ui.window.main_window import MainWindow
from console.ui.window.window_state import layout_store, restore_layout, save_layout
from tests.ui.fakes import FakeCentralSystem, sample_check_result

pytestmark = pytest.mark.qt_log_ignore("This plugin does not support")


def open_window(qtbot, width: int = 1024, height: int = 700) -> MainWindow:
    fake = FakeCentralSystem()
    fake.add_site(7, 2)
    window = build_window(fake, flush_interval_ms=10)
    qtbot.addWidget(window)
    window.start()
    window.resize(width, height)
    return window


def close(window: MainWindow) -> None:
    window.allow_close()
    window.close()


LAPTOP = (1366, 700)
"""A maximized window on a 1366x768 laptop screen: the taskbar and the title bar take the rest."""
FULL_HD = (1920, 1010)
"""The same on a 1920x1080 screen."""


@pytest.fixture
def restore_look(qapp: QApplication) -> Iterator[None]:
    palette, sheet = qapp.palette(), qapp.styleSheet()
    yield
    qapp.setPalette(palette)
    qapp.setStyleSheet(sheet)


def rows_in_view(view: QAbstractItemView) -> int:
    """Whole rows the view shows at once."""
    if isinstance(view, QTreeView):
        row_height = view.sizeHintForRow(0)
    else:
        assert isinstance(view, QTableView)
        row_height = view.verticalHeader().defaultSectionSize()
    assert row_height > 0
    return view.viewport().height() // row_height


def keep_shot(window: MainWindow, tmp_path: Path, name: str) -> None:
    """A screenshot to look at (OCPP_CONSOLE_SHOTS=/tmp keeps it)."""
    folder = Path(os.environ.get("OCPP_CONSOLE_SHOTS") or tmp_path)
    assert window.grab().save(str(folder / name))


def with_attempts(fake: FakeCentralSystem, count: int) -> None:
    expiry = datetime.now(UTC) + timedelta(hours=1)
    for number in range(1, count + 1):
        fake.set_reservation(
            ReservationRecord(
                reservation_id=number,
                station_id=f"CP-0{1 + number % 7}",
                connector_id=1,
                id_tag=f"CARD-{number}",
                parent_id_tag=None,
                expiry_date=expiry,
                created_at=datetime.now(UTC) - timedelta(minutes=number),
                state=ReservationState.EXPIRED,
            )
        )


def fake_trace(count: int) -> list[TraceEntry]:
    at = datetime.now(UTC)
    return [
        TraceEntry(
            seq=number,
            at=at + timedelta(milliseconds=number),
            station_id="CP-01",
            direction=TraceDirection.IN,
            text=f'[2,"m{number}","Heartbeat",{{}}]',
            message_type=2,
            message_id=f"m{number}",
            action="Heartbeat",
        )
        for number in range(1, count + 1)
    ]


@pytest.mark.parametrize(
    ("size", "tree_rows", "panel_rows"),
    [(LAPTOP, 12, 7), (FULL_HD, 20, 12)],
    ids=["laptop", "full-hd"],
)
@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
def test_the_default_layout_gives_the_tree_and_the_panel_in_front_room(
    qtbot,
    qapp: QApplication,
    restore_look: None,
    tmp_path: Path,
    size: tuple[int, int],
    tree_rows: int,
    panel_rows: int,
    dark: bool,
) -> None:
    """At 1366x768 a first start showed one trace row and two reservation rows (one after
    the checks had been shown): the lower panels are now tabs of one bottom area."""
    if dark:
        qapp.setPalette(dark_palette())
    qapp.setStyleSheet(scheme_style_sheet(dark))
    fake = FakeCentralSystem()
    fake.add_site(7, 2)
    with_attempts(fake, 30)
    window = build_window(fake, flush_interval_ms=10)
    qtbot.addWidget(window)
    window.start()
    window.resize(*size)
    window.show()
    qtbot.waitUntil(lambda: window.default_layout_applied, timeout=2000)
    qtbot.waitUntil(lambda: window.reservation_model.rowCount() == 30, timeout=2000)
    scheme = "dark" if dark else "light"

    # the reservations, the trace and the checks: tabs of one area, the reservations in front
    trace_dock = window.trace_tools.dock
    assert set(window.tabifiedDockWidgets(window.reservations_dock)) == {
        trace_dock,
        window.checks_dock,
    }
    assert window.bottom_panels.front() is window.reservations_dock
    assert not window.bottom_panels.has_title_bar(window.reservations_dock)  # its tab names it
    assert rows_in_view(window.tree) >= tree_rows
    assert rows_in_view(window.table) >= panel_rows
    # the tree, what a technician watches, keeps the larger part
    assert window.tree.height() > window.reservations_dock.height()
    # the form: narrow, and whole (its send button in view)
    form = window.form
    assert window.form_dock.width() <= 330
    assert form.height() >= form.minimumSizeHint().height()
    send = form.send_button
    assert form.rect().contains(QRect(send.mapTo(form, QPoint(0, 0)), send.size()))
    # ... and in view without scrolling: the fields scroll, Send stays below them
    assert send.visibleRegion().boundingRect() == send.rect()
    # ... and in view without scrolling: the form's scroll area shows all of it
    assert send.visibleRegion().boundingRect() == send.rect()
    keep_shot(window, tmp_path, f"layout-{size[0]}-{scheme}-reservations.png")

    # the trace in front (Ctrl+T): as many rows
    window.trace_tools.trace_view_action.trigger()
    qtbot.waitUntil(lambda: window.bottom_panels.front() is trace_dock, timeout=2000)
    window.trace_tools.panel.append(fake_trace(40))
    assert rows_in_view(window.trace_tools.panel.table) >= panel_rows
    assert rows_in_view(window.tree) >= tree_rows
    keep_shot(window, tmp_path, f"layout-{size[0]}-{scheme}-trace.png")

    # a check ends (its panel in front, taller), then back to the reservations: still room
    window.show_check(sample_check_result())
    qtbot.waitUntil(lambda: window.bottom_panels.front() is window.checks_dock, timeout=2000)
    window.reservations_dock.toggleViewAction().trigger()
    qtbot.waitUntil(lambda: window.bottom_panels.front() is window.reservations_dock, timeout=2000)
    assert rows_in_view(window.table) >= panel_rows
    assert rows_in_view(window.tree) >= tree_rows - 2
    close(window)


def test_the_view_menu_brings_a_panel_behind_to_the_front(qtbot) -> None:
    window = open_window(qtbot)
    window.show()
    qtbot.waitUntil(lambda: window.default_layout_applied, timeout=2000)
    panels = window.bottom_panels
    trace_toggle = window.trace_tools.trace_view_action
    assert panels.front() is window.reservations_dock
    # behind another tab, the trace is not hidden by its toggle: it comes to the front
    trace_toggle.trigger()
    qtbot.waitUntil(lambda: panels.front() is window.trace_tools.dock, timeout=2000)
    assert trace_toggle.isChecked()
    # in front, the toggle closes it; another panel shows
    trace_toggle.trigger()
    qtbot.waitUntil(window.trace_tools.dock.isHidden, timeout=2000)
    assert not trace_toggle.isChecked()
    qtbot.waitUntil(lambda: panels.front() is not None, timeout=2000)
    # closed, it comes back in front
    trace_toggle.trigger()
    qtbot.waitUntil(lambda: panels.front() is window.trace_tools.dock, timeout=2000)
    # a panel alone in the area shows its own title bar (with float and close)
    window.checks_dock.close()
    window.reservations_dock.close()
    qtbot.waitUntil(lambda: panels.has_title_bar(window.trace_tools.dock), timeout=2000)
    close(window)


def test_a_remembered_layout_wins_over_the_default(qtbot, tmp_path: Path) -> None:
    store_path = tmp_path / "window.ini"
    first = open_window(qtbot)
    first.show()
    qtbot.waitUntil(lambda: first.default_layout_applied, timeout=2000)
    first.trace_tools.trace_view_action.trigger()
    default_height = first.trace_tools.dock.height()
    first.resizeDocks([first.trace_tools.dock], [default_height - 80], Qt.Orientation.Vertical)
    qtbot.waitUntil(lambda: first.trace_tools.dock.height() < default_height - 40, timeout=2000)
    height = first.trace_tools.dock.height()
    save_layout(first, layout_store(store_path))
    close(first)

    second = open_window(qtbot)
    assert restore_layout(second, layout_store(store_path))
    second.show()
    qtbot.wait(50)  # the default layout would be applied on the next turn of the event loop
    assert not second.default_layout_applied
    qtbot.waitUntil(lambda: second.bottom_panels.front() is second.trace_tools.dock)
    assert second.trace_tools.dock.height() == height
    close(second)


def test_a_layout_saved_before_the_reservations_tab_is_not_forced_on_the_window(
    qtbot, tmp_path: Path
) -> None:
    """A window.ini of layout version 2 (the reservations under the tree, the trace a strip
    below) has no reservations dock: restored, it would float the new dock or keep the
    trace's strip. It is ignored and the first-start layout applies."""
    store_path = tmp_path / "window.ini"
    old = open_window(qtbot)
    old.removeDockWidget(old.reservations_dock)
    store = layout_store(store_path)
    save_layout(old, store)
    store.setValue("window/version", 2)
    store.setValue("window/state", old.saveState(2))
    store.sync()
    close(old)

    window = open_window(qtbot)
    assert not restore_layout(window, layout_store(store_path))
    window.show()
    qtbot.waitUntil(lambda: window.default_layout_applied, timeout=2000)
    assert window.bottom_panels.front() is window.reservations_dock
    close(window)


def test_a_layout_saved_before_the_checks_dock_is_not_forced_on_the_window(
    qtbot, tmp_path: Path
) -> None:
    """A window.ini of the window without the Reservation checks dock (layout version 1)
    would squeeze that dock beside the trace: it is ignored, the dock stays a tab."""
    store_path = tmp_path / "window.ini"
    old = open_window(qtbot)
    old.removeDockWidget(old.checks_dock)
    store = layout_store(store_path)
    save_layout(old, store)
    store.setValue("window/version", 1)
    store.setValue("window/state", old.saveState(1))
    store.sync()
    close(old)

    window = open_window(qtbot)
    assert not restore_layout(window, layout_store(store_path))
    assert window.checks_dock in window.tabifiedDockWidgets(window.trace_tools.dock)
    close(window)


def test_a_new_attempt_is_scrolled_into_view(qtbot) -> None:
    window = open_window(qtbot)
    window.show()
    expiry = datetime.now(UTC) + timedelta(hours=1)
    records = [
        ReservationRecord(
            reservation_id=number,
            station_id="CP-01",
            connector_id=1,
            id_tag=f"T{number}",
            parent_id_tag=None,
            expiry_date=expiry,
            created_at=datetime.now(UTC) + timedelta(seconds=number),
            state=ReservationState.EXPIRED,
        )
        for number in range(1, 61)
    ]
    window.reservation_model.apply_reservations(records)
    window.table.scrollToTop()
    newest = ReservationRecord(
        reservation_id=99,
        station_id="CP-02",
        connector_id=1,
        id_tag="NEWEST",
        parent_id_tag=None,
        expiry_date=expiry,
        created_at=datetime.now(UTC) + timedelta(minutes=5),
        state=ReservationState.SENDING,
    )
    window.reservation_model.apply_reservations([newest])
    row = window.reservation_model.latest_row("CP-02", 99)
    assert row is not None
    index = window.reservation_proxy.mapFromSource(window.reservation_model.index(row, 0))
    qtbot.waitUntil(
        lambda: window.table.viewport().rect().intersects(window.table.visualRect(index)),
        timeout=2000,
    )
    close(window)
