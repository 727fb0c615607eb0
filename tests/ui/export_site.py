"""A real site for the export and report tests: a Central System (security profile 1,
SQLite in tmp_path), simulated stations using a password, and the window."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from console.app import build_window
from console.central.config import CentralSystemConfig
from console.central.model import ReservationRecord, TraceDirection
from console.central.security import hash_authorization_key
from console.central.server import CentralSystem
from console.chargepoint.client import ClientOptions
from console.chargepoint.simulator import Behaviour, SimulationOptions, SiteSimulator
from console.ui.window.main_window import MainWindow
from tests.ui.conftest import LoopDriver

PASSWORD = "s3cret-Passw0rd-4-test"
"""The stations' AuthorizationKey: it must never show in an export or a report."""
WRONG_PASSWORD = "not-the-right-one-42"
CALL_TIMEOUT = 1.5
SLOW_ANSWER_DELAY = 3.0
WAIT_MS = 20_000


@dataclass
class Site:
    central: CentralSystem
    simulator: SiteSimulator
    window: MainWindow
    driver: LoopDriver
    qtbot: QtBot

    def reserve(self, station_id: str, connector_id: int, id_tag: str) -> ReservationRecord:
        expiry = datetime.now(UTC) + timedelta(minutes=30)
        return self.driver.run(
            self.central.reserve_now(station_id, connector_id, id_tag, expiry), timeout=20
        )

    def refuse_a_station(self, station_id: str) -> None:
        """A station with the wrong password tries once: a refused handshake in the trace."""
        intruder = SiteSimulator(
            f"ws://127.0.0.1:{self.central.port}",
            connectors=1,
            station_specs=[(station_id, Behaviour.NORMAL)],
            password=WRONG_PASSWORD,
            options=SimulationOptions(client=ClientOptions(backoff_initial=5, backoff_max=5)),
        )
        self.driver.run(intruder.start())
        self.qtbot.waitUntil(
            lambda: any(
                e.station_id == station_id and e.direction is TraceDirection.EVENT
                for e in self.central.recent_trace()
            ),
            timeout=WAIT_MS,
        )
        self.driver.run(intruder.stop())


@pytest.fixture(name="make_site")
def make_site_fixture(
    qtbot: QtBot, loop_driver: LoopDriver, tmp_path: Path
) -> Iterator[Callable[[list[tuple[str, Behaviour]]], Site]]:
    started: list[Site] = []

    def make(specs: list[tuple[str, Behaviour]]) -> Site:
        key = hash_authorization_key(PASSWORD, method="pbkdf2")
        central = CentralSystem(
            CentralSystemConfig(
                host="127.0.0.1",
                port=0,
                data_dir=tmp_path / "data",
                call_timeout=CALL_TIMEOUT,
                ping_interval=None,
                security_profile=1,
                # CP-09 is known but comes with the wrong password (refuse_a_station).
                authorization_keys={station_id: key for station_id, _ in [*specs, ("CP-09", 0)]},
                accept_unknown_stations=False,
            )
        )
        loop_driver.run(central.start())
        simulator = SiteSimulator(
            f"ws://127.0.0.1:{central.port}",
            connectors=2,
            station_specs=specs,
            password=PASSWORD,
            options=SimulationOptions(
                client=ClientOptions(backoff_initial=0.1, backoff_max=0.5),
                slow_answer_delay=SLOW_ANSWER_DELAY,
                card_arrives_after=0.3,
            ),
        )
        window = build_window(central, flush_interval_ms=20, check_archive=central)
        qtbot.addWidget(window)
        window.start()
        window.show()
        site = Site(central, simulator, window, loop_driver, qtbot)
        started.append(site)
        loop_driver.run(simulator.start())
        loop_driver.run(asyncio.wait_for(simulator.wait_booted(), 20))
        for station_id, _behaviour in specs:
            qtbot.waitUntil(
                lambda s=station_id: any(
                    c.connector_id == 2 and c.status is not None for c in central.connectors(s)
                ),
                timeout=WAIT_MS,
            )
        return site

    yield make
    for site in started:
        site.window.allow_close()
        site.window.close()
        loop_driver.run(site.simulator.stop())
        loop_driver.run(site.central.stop())


def secrets(station_ids: list[str]) -> list[str]:
    """What must never appear: the passwords and the Basic credentials built from them."""
    found = [PASSWORD, WRONG_PASSWORD, "Authorization:"]
    for station_id in station_ids:
        for password in (PASSWORD, WRONG_PASSWORD):
            found.append(base64.b64encode(f"{station_id}:{password}".encode()).decode())
    return found
