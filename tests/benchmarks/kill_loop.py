"""SIGKILL the Central System at random points of a stream of reservations, many times.

Run: ``.venv/bin/python tests/benchmarks/kill_loop.py [--runs 50] [--stations 4]``

Each run starts a child process (this script with ``--child``): a real
:class:`CentralSystem` on the same data folder every time, with ``--stations`` scripted
stations in the same process answering ReserveNow (mostly Accepted, some Rejected/Occupied)
and CancelReservation. The child reserves on every station at once, cancels some accepted
reservations, and prints one line per state change acknowledged to it (``reserve_now`` or
``cancel_reservation`` returned). The driver SIGKILLs it at a random moment, then checks the
database: ``PRAGMA integrity_check`` is ok, every acknowledged state change is in the
stored history of its reservation, and the id counter is past every id acknowledged and
never went back. It prints runs, acknowledged changes, lost (must be 0) and counter
regressions (must be 0); the exit code is 0 only when nothing was lost.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import select
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))


# --- the child: a Central System and its stations, reserving until killed --------------------


async def _station(url: str, rng: random.Random) -> None:
    import websockets

    statuses = ["Accepted"] * 6 + ["Rejected", "Occupied"]
    async with websockets.connect(url, subprotocols=["ocpp1.6"]) as websocket:
        async for message in websocket:
            frame = json.loads(message)
            if frame[0] != 2:
                continue
            if frame[2] == "ReserveNow":
                payload = {"status": rng.choice(statuses)}
            elif frame[2] == "CancelReservation":
                payload = {"status": "Accepted"}
            else:
                await websocket.send(json.dumps([4, frame[1], "NotSupported", "", {}]))
                continue
            await websocket.send(json.dumps([3, frame[1], payload]))


async def _reserve_forever(central: object, station_id: str, rng: random.Random) -> None:
    from console.central.model import ReservationState
    from console.central.server import CentralSystem

    assert isinstance(central, CentralSystem)
    while True:
        expiry = datetime.now(UTC) + timedelta(hours=1)
        record = await central.reserve_now(station_id, 1, "KILL-TAG", expiry)
        print(f"ack {station_id} {record.reservation_id} {record.state.value}", flush=True)
        if record.state is ReservationState.ACCEPTED and rng.random() < 0.3:
            outcome = await central.cancel_reservation(station_id, record.reservation_id)
            if outcome.status is not None and outcome.status.value == "Accepted":
                print(f"ack {station_id} {record.reservation_id} cancelled", flush=True)


async def _child(data_dir: Path, stations: int, seed: int) -> None:
    from console.central.config import CentralSystemConfig
    from console.central.server import CentralSystem

    central = CentralSystem(
        CentralSystemConfig(host="127.0.0.1", port=0, data_dir=data_dir, ping_interval=None)
    )
    await central.start()
    print(f"counter {central.peek_reservation_id()}", flush=True)
    rng = random.Random(seed)
    ids = [f"CP-K{n}" for n in range(stations)]
    answering = [
        asyncio.create_task(
            _station(f"ws://127.0.0.1:{central.port}/{i}", random.Random(rng.random()))
        )
        for i in ids
    ]
    all_connected = asyncio.Event()

    def check(_event: object) -> None:
        if all(central.is_connected(i) for i in ids):
            all_connected.set()

    unsubscribe = central.subscribe(check)
    check(None)
    await all_connected.wait()
    unsubscribe()
    await asyncio.gather(
        *(_reserve_forever(central, i, random.Random(rng.random())) for i in ids), *answering
    )


# --- the driver ------------------------------------------------------------------------------


def _check(database: Path, acknowledged: dict[tuple[str, int], set[str]]) -> tuple[str, int, int]:
    """(integrity_check result, acknowledged changes missing, next reservation id)."""
    from console.central.store import Store

    # Store.open first: it is what the console does on restart (and it recovers the WAL).
    store = Store.open(database)
    try:
        counter = store.peek_reservation_id()
    finally:
        store.close()
    db = sqlite3.connect(database)
    try:
        integrity = db.execute("PRAGMA integrity_check").fetchone()[0]
        stored: dict[tuple[str, int], set[str]] = {}
        for station_id, reservation_id, state in db.execute(
            "SELECT a.station_id, a.reservation_id, h.state FROM reservation_attempts a"
            " JOIN reservation_history h ON h.attempt_id = a.attempt_id"
        ):
            stored.setdefault((station_id, reservation_id), set()).add(state)
    finally:
        db.close()
    lost = sum(len(states - stored.get(key, set())) for key, states in acknowledged.items())
    return str(integrity), lost, counter


def drive(runs: int, stations: int, seed: int, max_wait: float) -> int:
    rng = random.Random(seed)
    acknowledged: dict[tuple[str, int], set[str]] = {}
    changes = 0
    lost_total = 0
    regressions = 0
    bad_integrity = 0
    last_counter = 0
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        data_dir = Path(folder)
        database = data_dir / "central.sqlite3"
        for run in range(runs):
            child = subprocess.Popen(
                [sys.executable, __file__, "--child", str(data_dir), str(stations), str(run)],
                cwd=ROOT,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                env={**os.environ, "PYTHONWARNINGS": "ignore"},
            )
            assert child.stdout is not None
            fd = child.stdout.fileno()
            output = b""
            # Wait for the child's first line (it is up), then kill it at a random moment.
            while b"\n" not in output:
                ready, _, _ = select.select([fd], [], [], 30)
                chunk = os.read(fd, 65536) if ready else b""
                if not chunk:
                    print(f"run {run}: the child did not start")
                    child.kill()
                    child.wait()
                    return 2
                output += chunk
            kill_at = time.monotonic() + rng.uniform(0.05, max_wait)
            while (left := kill_at - time.monotonic()) > 0:
                ready, _, _ = select.select([fd], [], [], left)
                if ready:
                    output += os.read(fd, 65536)
            child.send_signal(signal.SIGKILL)
            child.wait()
            while chunk := os.read(fd, 65536):  # what was written before the kill
                output += chunk
            child.stdout.close()
            text = output.decode()
            # Only complete lines were acknowledged before the kill.
            lines = text.split("\n")[:-1]
            start_counter = int(lines[0].split()[1])
            if start_counter < last_counter:
                regressions += 1
            acks = [line.split() for line in lines if line.startswith("ack ")]
            for parts in acks:
                key = (parts[1], int(parts[2]))
                if parts[3] not in acknowledged.setdefault(key, set()):
                    acknowledged[key].add(parts[3])
                    changes += 1
            integrity, lost, counter = _check(database, acknowledged)
            bad_integrity += integrity != "ok"
            highest = max((rid for _, rid in acknowledged), default=0)
            if counter <= highest or counter < last_counter:
                regressions += 1
            last_counter = counter
            lost_total = lost  # cumulative: every acknowledged change is checked each run
            print(
                f"run {run + 1:3d}: {len(acks):4d} acknowledged this run, integrity {integrity},"
                f" lost {lost}, next id {counter}",
                flush=True,
            )
    elapsed = time.perf_counter() - started
    print(f"runs:                          {runs} ({elapsed:.0f} s)")
    print(f"acknowledged state changes:    {changes}")
    print(f"lost:                          {lost_total}")
    print(f"id counter went back:          {regressions}")
    print(f"integrity_check not ok:        {bad_integrity}")
    return 0 if lost_total == 0 and regressions == 0 and bad_integrity == 0 else 1


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        asyncio.run(_child(Path(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])))
        sys.exit(0)
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--stations", type=int, default=4)
    parser.add_argument("--seed", type=int, default=9)
    parser.add_argument("--max-wait", type=float, default=1.5, help="longest life of a child (s)")
    arguments = parser.parse_args()
    sys.exit(drive(arguments.runs, arguments.stations, arguments.seed, arguments.max_wait))
