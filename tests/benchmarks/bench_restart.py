"""How long a settings restart takes, and until every station is back.

Run: ``.venv/bin/python tests/benchmarks/bench_restart.py [stations]`` (default 50).

A Central System on a fixed loopback port with N simulated stations (client backoff 0.5 s)
is restarted in place with a new heartbeat interval (``console.app.restart_central``, as the
settings dialog does); prints the stop+start time and when all N stations are connected
again.
"""

from __future__ import annotations

import asyncio
import socket
import sys
import tempfile
import time
from pathlib import Path

from console.app import restart_central
from console.central.model import ChangeEvent
from console.central.server import CentralSystem
from console.central.settings import ConsoleSettings
from console.chargepoint.client import ClientOptions
from console.chargepoint.simulator import SimulationOptions, SiteSimulator


async def measure(stations: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = int(probe.getsockname()[1])
        settings = ConsoleSettings(host="127.0.0.1", port=port)
        extra = {"data_dir": Path(folder), "ping_interval": None}
        central = CentralSystem(settings.to_config(**extra))
        await central.start()
        site = SiteSimulator(
            f"ws://127.0.0.1:{port}",
            stations=stations,
            connectors=2,
            options=SimulationOptions(client=ClientOptions(backoff_initial=0.5, backoff_max=5)),
        )
        await site.start()
        await asyncio.wait_for(site.wait_booted(), 60)
        all_back = asyncio.Event()

        def on_change(_event: ChangeEvent) -> None:
            known = central.stations() if central.running else []
            if len(known) >= stations and all(central.is_connected(s.station_id) for s in known):
                all_back.set()

        started = time.perf_counter()
        await restart_central(central, settings.to_config(heartbeat_interval=60, **extra))
        restarted = time.perf_counter()
        unsubscribe = central.subscribe(on_change)
        await asyncio.wait_for(all_back.wait(), 60)
        back = time.perf_counter()
        unsubscribe()
        print(
            f"restart (stop + start): {1000 * (restarted - started):.0f} ms; "
            f"all {stations} stations connected again after {1000 * (back - started):.0f} ms "
            "(client backoff 0.5 s)"
        )
        await site.stop()
        await central.stop()


if __name__ == "__main__":
    asyncio.run(measure(int(sys.argv[1]) if len(sys.argv) > 1 else 50))
