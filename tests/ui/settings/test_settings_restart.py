"""Settings that need a restart: confirmed, saved, the Central System restarted in place.

A real Central System (SQLite in tmp_path), the window, and simulated stations that
reconnect with backoff; everything on one qasync loop driven by qtbot's waits.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from console import app as console_app
from console.app import build_window
from console.central.server import CentralSystem
from console.central.settings import ConsoleSettings, SettingsLoad, load_settings
from console.chargepoint.client import ClientOptions
from console.chargepoint.simulator import Behaviour, SimulationOptions, SiteSimulator
from console.ui.settings.settings_controller import SettingsController
from console.ui.window.main_window import MainWindow
from tests.ui.conftest import LoopDriver

pytestmark = pytest.mark.qt_log_ignore("This plugin does not support")

WAIT_MS = 20_000
STATION = "CP-RESTART"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def listening(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(2)
        return probe.connect_ex(("127.0.0.1", port)) == 0


@dataclass
class Console:
    central: CentralSystem
    window: MainWindow
    controller: SettingsController
    settings_file: Path
    demo: dict[str, SiteSimulator]
    """``demo["site"]``: the simulated site the console follows with, as ``--demo`` does."""


@pytest.fixture
def console(qtbot, loop_driver: LoopDriver, tmp_path: Path, data_dir: Path) -> Iterator[Console]:
    settings_file = tmp_path / "config" / "settings.json"
    settings = ConsoleSettings(host="127.0.0.1", port=free_port(), heartbeat_interval=300)
    overrides = {"data_dir": data_dir, "ping_interval": None, "call_timeout": 5.0}
    central = CentralSystem(settings.to_config(**overrides))
    loop_driver.run(central.start())
    window = build_window(central, flush_interval_ms=20)
    qtbot.addWidget(window)
    window.start()
    window.show()
    demo: dict[str, SiteSimulator] = {}
    controller = console_app._settings_controller(
        window,
        central,
        SettingsLoad(settings, settings_file),
        overrides,
        demo_site=lambda: demo.get("site"),
    )
    yield Console(central, window, controller, settings_file, demo)
    window.allow_close()
    window.close()
    loop_driver.run(controller.wait_idle())
    loop_driver.run(central.stop())


def station(port: int) -> SiteSimulator:
    return SiteSimulator(
        f"ws://127.0.0.1:{port}",
        connectors=1,
        station_specs=[(STATION, Behaviour.NORMAL)],
        options=SimulationOptions(client=ClientOptions(backoff_initial=0.1, backoff_max=0.5)),
    )


def test_a_confirmed_change_restarts_in_place_and_the_station_reconnects(
    qtbot, loop_driver: LoopDriver, console: Console
) -> None:
    central, window, controller = console.central, console.window, console.controller
    port = central.port
    simulator = station(port)
    loop_driver.run(simulator.start())
    try:
        loop_driver.run(asyncio.wait_for(simulator.wait_booted(), 20))
        qtbot.waitUntil(lambda: central.is_connected(STATION), timeout=WAIT_MS)
        qtbot.waitUntil(
            lambda: window.online_label.text() == "1 of 1 stations online", timeout=WAIT_MS
        )

        controller.apply(controller.settings.model_copy(update={"heartbeat_interval": 30}))
        box = controller.confirmation
        assert isinstance(box, QMessageBox)
        assert "heartbeat interval" in box.text()
        assert "1 connected station" in box.informativeText()
        assert not console.settings_file.exists()  # nothing saved before the answer
        restart_button = next(b for b in box.buttons() if b.text() == "Restart now")
        with qtbot.waitSignal(controller.sig_applied, timeout=WAIT_MS):
            restart_button.click()

        assert central.running
        assert central.port == port
        assert central.config.heartbeat_interval == 30
        assert load_settings(console.settings_file).settings.heartbeat_interval == 30
        # the station was dropped by the restart and came back by itself
        qtbot.waitUntil(lambda: central.is_connected(STATION), timeout=WAIT_MS)
        qtbot.waitUntil(
            lambda: window.online_label.text() == "1 of 1 stations online", timeout=WAIT_MS
        )
        snapshot = central.station(STATION)
        assert snapshot is not None
        qtbot.waitUntil(
            lambda: (central.station(STATION) or snapshot).heartbeat_interval == 30,
            timeout=WAIT_MS,
        )
    finally:
        loop_driver.run(simulator.stop())


def test_a_new_port_listens_the_old_one_closes_and_a_station_connects_there(
    qtbot, loop_driver: LoopDriver, console: Console
) -> None:
    central, window, controller = console.central, console.window, console.controller
    old_port = central.port
    new_port = free_port()
    assert listening(old_port)
    # a station already configured for the new port: it retries with backoff until it listens
    simulator = station(new_port)
    loop_driver.run(simulator.start())
    try:
        new = controller.settings.model_copy(update={"port": new_port})
        task = controller.restart_with(new)
        loop_driver.run(asyncio.wait_for(asyncio.shield(task), 20))
        assert central.port == new_port
        assert listening(new_port)
        assert not listening(old_port)
        assert f":{new_port}/" in window.urls_label.text()
        assert load_settings(console.settings_file).settings.port == new_port
        qtbot.waitUntil(lambda: central.is_connected(STATION), timeout=WAIT_MS)
        loop_driver.run(asyncio.wait_for(simulator.wait_booted(), 20))
    finally:
        loop_driver.run(simulator.stop())


def test_a_port_that_cannot_be_used_keeps_the_old_one_and_says_so(
    qtbot, loop_driver: LoopDriver, console: Console
) -> None:
    central, controller = console.central, console.controller
    old_port = central.port
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = int(taken.getsockname()[1])
        with qtbot.waitSignal(controller.sig_failed, timeout=WAIT_MS) as blocker:
            controller.restart_with(controller.settings.model_copy(update={"port": busy}))
    assert "could not restart" in blocker.args[0]
    assert central.running
    assert central.port == old_port
    assert listening(old_port)


def test_ctrl_comma_opens_the_dialog_and_cancel_at_the_question_changes_nothing(
    qtbot, loop_driver: LoopDriver, console: Console
) -> None:
    central, window, controller = console.central, console.window, console.controller
    port = central.port
    window.activateWindow()
    window.menus.settings_action.trigger()  # Edit > Settings… (Ctrl+,)
    dialog = controller.dialog
    assert dialog is not None
    assert dialog.isVisible()
    assert dialog.port_spin.value() == port
    dialog.port_spin.setValue(free_port())
    dialog.ok_button.click()
    box = controller.confirmation
    assert isinstance(box, QMessageBox)
    assert "port" in box.text()
    box.button(QMessageBox.StandardButton.Cancel).click()
    qtbot.waitUntil(lambda: controller.confirmation is None, timeout=WAIT_MS)
    assert central.port == port
    assert controller.settings.port == port
    assert not console.settings_file.exists()


def test_a_port_change_takes_the_demo_stations_along(
    qtbot, loop_driver: LoopDriver, console: Console
) -> None:
    central, window, controller = console.central, console.window, console.controller
    site = SiteSimulator.demo(
        f"ws://127.0.0.1:{central.port}",
        7,
        options=SimulationOptions(client=ClientOptions(backoff_initial=0.1, backoff_max=0.5)),
    )
    ids = [s.station_id for s in site.stations]
    console.demo["site"] = site
    loop_driver.run(site.start())
    try:
        qtbot.waitUntil(lambda: window.station_model.online_count() == 7, timeout=WAIT_MS)
        new_port = free_port()
        controller.apply(controller.settings.model_copy(update={"port": new_port}))
        box = controller.confirmation
        assert isinstance(box, QMessageBox)
        question = box.informativeText()
        assert f"ws://127.0.0.1:{new_port}/<station id>" in question
        assert "The 7 stations of the demo follow the console there by themselves" in question
        assert "reconnect by themselves" not in question
        messages: list[str] = []
        controller.sig_message.connect(messages.append)
        restart_button = next(b for b in box.buttons() if b.text() == "Restart now")
        with qtbot.waitSignal(controller.sig_applied, timeout=WAIT_MS):
            restart_button.click()
        assert central.port == new_port
        assert listening(new_port)
        assert messages[-1] == (
            "Restarted with the new settings: stations connect to "
            f"ws://127.0.0.1:{new_port}/<station id>"
        )

        # every demo station came back, on the new port, as the window shows it
        def all_back() -> bool:
            return all(
                central.is_connected(s.station_id) and s.client.connection_count >= 2
                for s in site.stations
            )

        qtbot.waitUntil(all_back, timeout=WAIT_MS)
        qtbot.waitUntil(lambda: window.station_model.online_count() == 7, timeout=WAIT_MS)
        assert {s.client.url for s in site.stations} == {f"ws://127.0.0.1:{new_port}"}
        assert sorted(ids) == sorted(s.station_id for s in central.stations() if s.connected)
    finally:
        loop_driver.run(site.stop())


def test_a_port_change_says_each_real_station_must_be_re_pointed_to_the_new_url(
    qtbot, loop_driver: LoopDriver, console: Console
) -> None:
    central, controller = console.central, console.controller
    simulator = station(central.port)  # a station of the site: not the demo's
    loop_driver.run(simulator.start())
    try:
        qtbot.waitUntil(lambda: central.is_connected(STATION), timeout=WAIT_MS)
        new_port = free_port()
        controller.apply(controller.settings.model_copy(update={"port": new_port}))
        box = controller.confirmation
        assert isinstance(box, QMessageBox)
        question = box.informativeText()
        assert f"ws://127.0.0.1:{new_port}/<station id>" in question
        assert "Each real station must be re-pointed to it in its own configuration" in question
        assert f"Connected now: {STATION}." in question
        assert "reconnect by themselves" not in question
        box.button(QMessageBox.StandardButton.Cancel).click()
        qtbot.waitUntil(lambda: controller.confirmation is None, timeout=WAIT_MS)
    finally:
        loop_driver.run(simulator.stop())


def test_an_upstream_url_saved_in_the_dialog_restarts_in_proxy_mode(
    qtbot, loop_driver: LoopDriver, console: Console
) -> None:
    central, window, controller = console.central, console.window, console.controller
    upstream = f"ws://127.0.0.1:{free_port()}/ocpp"
    assert central.upstream_url is None
    dialog = controller.open_dialog()
    dialog.tabs.setCurrentWidget(dialog.proxy_page)
    qtbot.keyClicks(dialog.proxy_page.url_edit, upstream)
    qtbot.mouseClick(dialog.proxy_page.keep_check, Qt.MouseButton.LeftButton)
    assert dialog.ok_button.isEnabled()
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: controller.confirmation is not None, timeout=WAIT_MS)
    box = controller.confirmation
    assert isinstance(box, QMessageBox)
    assert "upstream URL" in box.text()
    assert f"carried on to {upstream}/<station id>" in box.informativeText()
    restart_button = next(b for b in box.buttons() if b.text() == "Restart now")
    with qtbot.waitSignal(controller.sig_applied, timeout=WAIT_MS):
        restart_button.click()

    assert central.running
    assert central.config.upstream_url == upstream
    assert central.config.upstream_keep_stations is True
    assert central.upstream_url == upstream
    saved = load_settings(console.settings_file).settings
    assert saved.upstream_url == upstream
    assert saved.upstream_keep_stations is True
    assert window.proxy_label.isVisibleTo(window)
    assert upstream in window.proxy_label.text()

    # Emptying the field turns proxy mode off again, through the same restart.
    task = controller.restart_with(controller.settings.model_copy(update={"upstream_url": None}))
    loop_driver.run(asyncio.wait_for(asyncio.shield(task), 20))
    assert central.config.upstream_url is None
    assert not window.proxy_label.isVisibleTo(window)
