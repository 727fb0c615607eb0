"""Proxy mode in the window: each station's link to the site's CSMS in the tree's
connection column, and the status bar saying where stations are carried on to."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from PySide6.QtCore import Qt

from console.app import build_window
from console.central.model import StationSnapshot, UpstreamState
from console.ui.stations.station_model import StationTreeModel, TreeColumn
from console.ui.window.main_window import MainWindow
from tests.ui.fakes import FakeCentralSystem

pytestmark = pytest.mark.qt_log_ignore("This plugin does not support")

T0 = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


def state_cell(model: StationTreeModel, station: StationSnapshot) -> str:
    model.apply_stations([station])
    return str(model.station_index(station.station_id, TreeColumn.STATE).data())


@pytest.mark.parametrize(
    ("connected", "upstream", "status", "shown"),
    [
        (True, None, None, "Online"),
        (True, UpstreamState.CONNECTED, None, "Online · via CSMS (connected)"),
        (False, UpstreamState.CONNECTING, None, "Offline · via CSMS (connecting)"),
        (False, UpstreamState.REFUSED, 401, "Offline · CSMS refused, HTTP 401"),
        (False, UpstreamState.GONE, None, "Offline · CSMS gone"),
        # The station left by itself: its closed upstream link is no news.
        (False, UpstreamState.CONNECTED, None, "Offline"),
        # Kept on the console while the CSMS is away.
        (True, UpstreamState.GONE, None, "Online · on the console alone (CSMS gone)"),
    ],
)
def test_the_connection_column_says_how_the_link_to_the_csms_stands(
    qtmodeltester,
    connected: bool,
    upstream: UpstreamState | None,
    status: int | None,
    shown: str,
) -> None:
    model = StationTreeModel(clock=lambda: T0)
    station = StationSnapshot(
        "CP-P", connected, state_since=T0, upstream=upstream, upstream_status=status
    )
    assert state_cell(model, station) == shown
    tooltip = model.station_index("CP-P", TreeColumn.NAME).data(Qt.ItemDataRole.ToolTipRole)
    assert ("Link to the site's CSMS" in tooltip) is (upstream is not None)
    qtmodeltester.check(model)


@pytest.fixture
def window_for(qtbot):  # type: ignore[no-untyped-def]
    windows: list[MainWindow] = []

    def build(fake: FakeCentralSystem) -> MainWindow:
        main = build_window(fake, flush_interval_ms=10)
        qtbot.addWidget(main)
        main.start()
        main.show()
        windows.append(main)
        return main

    yield build
    for main in windows:
        main.allow_close()
        main.close()


def test_the_status_bar_says_proxy_mode_and_where_to(qtbot, window_for) -> None:  # type: ignore[no-untyped-def]
    fake = FakeCentralSystem()
    fake.upstream = "wss://csms.example/ocpp"
    window = window_for(fake)
    qtbot.waitUntil(window.proxy_label.isVisible, timeout=2000)
    assert window.proxy_label.text() == "Proxy mode → wss://csms.example/ocpp"
    assert "wss://csms.example/ocpp/<station id>" in window.proxy_label.toolTip()


def test_the_status_bar_says_nothing_of_a_proxy_without_one(qtbot, window_for) -> None:  # type: ignore[no-untyped-def]
    window = window_for(FakeCentralSystem())
    qtbot.waitUntil(window.security_label.isVisible, timeout=2000)
    assert not window.proxy_label.isVisible()
