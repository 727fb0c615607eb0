"""The window's default layout: the station tree gets the room, the form and trace stay small."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from console.app import build_window
from console.central.model import ReservationRecord, ReservationState
from console.ui.window.main_window import MainWindow
from console.ui.window.window_state import layout_store, restore_layout, save_layout
from tests.ui.fakes import FakeCentralSystem

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


def test_the_default_layout_gives_the_tree_the_most_room(qtbot) -> None:
    window = open_window(qtbot)
    window.show()
    qtbot.waitUntil(lambda: window.default_layout_applied, timeout=2000)
    tree, reservations = window.splitter.sizes()
    # about ten rows of stations and connectors at 1024x700, more than the other two parts
    assert tree > 1.5 * reservations
    assert tree > window.tree.sizeHintForRow(0) * 10
    assert tree > window.trace_tools.dock.height()
    assert window.trace_tools.dock.height() < window.height() * 0.3
    assert window.form_dock.width() <= 320
    assert window.form_dock.width() < window.width() * 0.32
    close(window)


def test_a_remembered_layout_wins_over_the_default(qtbot, tmp_path: Path) -> None:
    store_path = tmp_path / "window.ini"
    first = open_window(qtbot)
    first.show()
    qtbot.waitUntil(lambda: first.default_layout_applied, timeout=2000)
    first.splitter.setSizes([200, 300])
    sizes = first.splitter.sizes()
    save_layout(first, layout_store(store_path))
    close(first)

    second = open_window(qtbot)
    assert restore_layout(second, layout_store(store_path))
    second.show()
    qtbot.wait(50)  # the default layout would be applied on the next turn of the event loop
    assert not second.default_layout_applied
    assert second.splitter.sizes() == sizes
    close(second)


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
