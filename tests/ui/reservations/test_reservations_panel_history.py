"""The reservations panel after a restart of the console: earlier attempts come back from SQLite."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from console.app import build_window
from console.central.config import CentralSystemConfig
from console.central.model import ReservationState
from console.central.server import CentralSystem
from console.chargepoint.client import ClientOptions
from console.chargepoint.simulator import SimulationOptions, SiteSimulator
from console.ui.reservations.reservation_model import ReservationColumn
from tests.ui.conftest import LoopDriver

pytestmark = pytest.mark.qt_log_ignore("This plugin does not support")

WAIT_MS = 15_000


def config(data_dir: Path) -> CentralSystemConfig:
    return CentralSystemConfig(
        host="127.0.0.1", port=0, data_dir=data_dir, call_timeout=5.0, ping_interval=None
    )


def test_history_is_shown_after_a_restart_of_the_console(
    qtbot, loop_driver: LoopDriver, data_dir: Path
) -> None:
    # --- first session: one accepted reservation, one to a station that is offline --------
    first = CentralSystem(config(data_dir))
    loop_driver.run(first.start())
    simulator = SiteSimulator(
        f"ws://127.0.0.1:{first.port}",
        stations=1,
        connectors=2,
        options=SimulationOptions(client=ClientOptions(backoff_initial=0.1, backoff_max=0.5)),
    )
    try:
        loop_driver.run(simulator.start())
        loop_driver.run(asyncio.wait_for(simulator.wait_booted(), 20))
        station_id = first.stations()[0].station_id
        expiry = datetime.now(UTC) + timedelta(hours=1)
        accepted = loop_driver.run(first.reserve_now(station_id, 1, "HISTORY-1", expiry))
        offline = loop_driver.run(first.reserve_now("CP-GONE", 1, "HISTORY-2", expiry))
    finally:
        loop_driver.run(simulator.stop())
        loop_driver.run(first.stop())
    assert accepted.state is ReservationState.ACCEPTED
    assert offline.state is ReservationState.OFFLINE

    # --- the console starts again on the same data folder ---------------------------------
    second = CentralSystem(config(data_dir))
    loop_driver.run(second.start())
    window = build_window(second, flush_interval_ms=20)
    qtbot.addWidget(window)
    try:
        window.start()
        window.show()
        model = window.reservation_model
        qtbot.waitUntil(lambda: model.rowCount() == 2, timeout=WAIT_MS)
        row = model.latest_row(station_id, accepted.reservation_id)
        assert row is not None
        assert model.index(row, ReservationColumn.ID_TAG).data() == "HISTORY-1"
        assert model.index(row, ReservationColumn.ANSWER).data() == "Accepted"
        offline_row = model.latest_row("CP-GONE", offline.reservation_id)
        assert offline_row is not None
        assert model.index(offline_row, ReservationColumn.STATE).data() == "Station offline"
        panel = window.reservations_panel
        assert panel.station_combo.findData("CP-GONE") > 0
        panel.set_station_filter("CP-GONE")
        assert window.reservation_proxy.rowCount() == 1
        # the next id continues after the earlier session's
        assert second.peek_reservation_id() > offline.reservation_id
    finally:
        window.allow_close()
        window.close()
        loop_driver.run(second.stop())
