"""A reconnect storm: 1000 stations connecting at once, and again after the server restarts.

Run: ``.venv/bin/python tests/benchmarks/reconnect_storm.py [--stations 1000]``

The Central System runs in this process (127.0.0.1, a free port, SQLite in a temporary
folder); the stations are a :class:`SiteSimulator` in a child process, all started at once
(each connects, boots, reports its connectors; the console asks each for its configuration
and status). The script times how long until every station is connected, restarts the
Central System on the same port (every station is dropped and reconnects with its backoff)
and times that too, then stops the stations. It prints, for this process: asyncio tasks,
open file descriptors and resident memory before the storm, with every station online,
and after the stations left, plus each storm's time. Target: all online within 10 s, and
tasks and descriptors back to their level afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from console.central.config import CentralSystemConfig  # noqa: E402
from console.central.model import ChangeEvent  # noqa: E402
from console.central.server import CentralSystem  # noqa: E402

# --- the stations (child process) --------------------------------------------------------------


async def _stations(url: str, count: int) -> None:
    from console.chargepoint.client import ClientOptions
    from console.chargepoint.simulator import SimulationOptions, SiteSimulator

    options = SimulationOptions(
        client=ClientOptions(backoff_initial=0.5, backoff_max=2.0, open_timeout=20.0)
    )
    site = SiteSimulator(url, stations=count, connectors=1, options=options)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    await site.start()
    await stop.wait()
    await site.stop()


# --- the Central System (this process) ----------------------------------------------------------


def _figures() -> tuple[int, int, float]:
    """(asyncio tasks, open file descriptors, resident memory in MiB) of this process."""
    gc.collect()
    rss_kib = 0
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            rss_kib = int(line.split()[1])
    return len(asyncio.all_tasks()), len(os.listdir("/proc/self/fd")), rss_kib / 1024


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def _all_online(central: CentralSystem, ids: list[str], limit: float) -> float | None:
    """Seconds until every station is connected (None if not within ``limit``)."""
    started = time.perf_counter()
    done = asyncio.Event()
    online = {i for i in ids if central.is_connected(i)}

    def on_change(_event: ChangeEvent) -> None:
        # Cheap enough: only stations not yet seen are looked at.
        for station_id in [i for i in ids if i not in online]:
            if central.is_connected(station_id):
                online.add(station_id)
        if len(online) == len(ids):
            done.set()

    unsubscribe = central.subscribe(on_change)
    on_change(None)  # type: ignore[arg-type]
    try:
        await asyncio.wait_for(done.wait(), limit)
    except TimeoutError:
        print(f"  only {len(online)} of {len(ids)} online after {limit:.0f} s")
        return None
    finally:
        unsubscribe()
    return time.perf_counter() - started


async def main(count: int, limit: float) -> int:
    from console.chargepoint.simulator import station_ids

    logging.basicConfig(level=logging.ERROR)
    ids = station_ids(count)
    port = _free_port()
    ok = True
    with tempfile.TemporaryDirectory() as folder:

        def config() -> CentralSystemConfig:
            return CentralSystemConfig(
                host="127.0.0.1", port=port, data_dir=Path(folder), ping_interval=None
            )

        central = CentralSystem(config())
        await central.start()
        before = _figures()
        child = await asyncio.create_subprocess_exec(
            sys.executable,
            __file__,
            "--child",
            f"ws://127.0.0.1:{port}/",
            str(count),
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            env={**os.environ, "PYTHONWARNINGS": "ignore"},
        )
        try:
            first = await _all_online(central, ids, limit)
            online = _figures()
            print(
                f"storm 1: {count} stations online in {first:.2f} s (from the child's start)"
                if first
                else "storm 1: FAILED"
            )
            ok &= first is not None
            await central.stop()
            stopped = _figures()
            restarted_at = time.perf_counter()
            central = CentralSystem(config())
            await central.start()
            second = await _all_online(central, ids, limit)
            if second is not None:  # counted from the restart on
                second = time.perf_counter() - restarted_at
            print(
                f"storm 2 (after a restart): {count} stations online in {second:.2f} s"
                if second
                else "storm 2: FAILED"
            )
            ok &= second is not None
            online_again = _figures()
        finally:
            child.send_signal(signal.SIGTERM)
            await asyncio.wait_for(child.wait(), 60)
        gone = await _wait_all_gone(central, ids)
        after = _figures()
        await central.stop()
        final = _figures()
    print("                                  tasks    fds   RSS MiB")
    for label, (tasks, fds, rss) in (
        ("before the storm", before),
        ("all online", online),
        ("server stopped", stopped),
        ("all online after the restart", online_again),
        (f"stations gone ({gone})", after),
        ("server stopped again", final),
    ):
        print(f"  {label:<30}{tasks:>7}{fds:>7}{rss:>10.1f}")
    leaked_tasks = after[0] - before[0]
    leaked_fds = after[1] - before[1]
    print(f"tasks left over: {leaked_tasks}, file descriptors left over: {leaked_fds}")
    ok &= leaked_tasks <= 0 and leaked_fds <= 0
    return 0 if ok else 1


async def _wait_all_gone(central: CentralSystem, ids: list[str]) -> str:
    done = asyncio.Event()

    def check(_event: ChangeEvent | None) -> None:
        if not any(central.is_connected(i) for i in ids):
            done.set()

    unsubscribe = central.subscribe(check)
    check(None)
    try:
        await asyncio.wait_for(done.wait(), 30)
        return "all"
    except TimeoutError:
        return f"{sum(central.is_connected(i) for i in ids)} left"
    finally:
        unsubscribe()


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        logging.basicConfig(level=logging.ERROR)
        asyncio.run(_stations(sys.argv[2], int(sys.argv[3])))
        sys.exit(0)
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stations", type=int, default=1000)
    parser.add_argument("--limit", type=float, default=10.0, help="seconds allowed per storm")
    arguments = parser.parse_args()
    sys.exit(asyncio.run(main(arguments.stations, arguments.limit)))
