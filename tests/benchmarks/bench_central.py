"""The Central System under load, next to a minimal Central System built on the ``ocpp`` package.

Run: ``.venv/bin/python tests/benchmarks/bench_central.py`` (``--quick`` for a rough run;
``--help`` for the knobs).

For each station count (200, 500, 1000) N stations in a separate process connect over
loopback, boot, and then each sends StatusNotification, Heartbeat and MeterValues in turn
at ``--rate`` messages per second (one call outstanding per station, as OCPP wants),
while the server process makes a ReserveNow call every 100 ms to a random station. Then
the same with ``--rate 0`` (every station sends its next message as soon as the answer
came: saturation) to find the sustained messages/second. Each run is made against

* ``ours``: :class:`console.central.server.CentralSystem` with its real SQLite store
  (every frame traced and stored, the live model kept), and
* ``ocpp``: a minimal Central System on the ``ocpp`` package's ``ChargePoint`` (answers the
  same messages, keeps nothing, validates against the JSON schemas as that package does).

Printed per run: sustained messages/second (answered calls counted by the stations in the
measured window), ReserveNow round trip p50/p99 (measured in the server process), event
loop lag p99 (a 10 ms sleeper's lateness), server CPU use, and peak memory (max RSS) of
the server process. The saturation runs end with the ratio ours/ocpp.

Targets: at least 2x the ``ocpp`` package's sustained messages/second on one core; with
500 stations at 1 message/second each, ReserveNow p99 under 50 ms and loop lag p99 under
20 ms. The load generator takes one core too, so on a two-core machine the saturation
figures are bounded by it as well; they are comparable between the two servers.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import random
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import websockets

try:
    import resource
except ImportError:  # Windows
    resource = None  # type: ignore[assignment]

ROOT = Path(__file__).resolve().parents[2]
RESERVE_EVERY = 0.1
LAG_TICK = 0.01


def _percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]


def _peak_memory_mib() -> float:
    if resource is None:
        return float("nan")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Linux gives KiB, macOS bytes.
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def _cpu_seconds() -> float:
    times = os.times()
    return times.user + times.system


def _stamp() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _station_id(index: int) -> str:
    return f"BENCH-{index:04d}"


# --- the server process ---------------------------------------------------------------------


class _Measure:
    """ReserveNow round trips and loop lag, taken in the server process."""

    def __init__(self) -> None:
        self.reserve_times: list[float] = []
        self.reserve_failures = 0
        self.lags: list[float] = []

    async def lag_monitor(self, until: float) -> None:
        loop = asyncio.get_running_loop()
        while loop.time() < until:
            before = loop.time()
            await asyncio.sleep(LAG_TICK)
            self.lags.append(max(0.0, loop.time() - before - LAG_TICK))


async def _wait_for(count: Any, expected: int, limit: float = 120.0) -> None:
    deadline = time.monotonic() + limit
    while count() < expected:
        if time.monotonic() > deadline:
            raise TimeoutError(f"only {count()} of {expected} stations connected")
        await asyncio.sleep(0.2)


async def _serve_ours(
    stations: int, warmup: float, duration: float, memory_store: bool = False
) -> dict[str, Any]:
    from console.central.config import CentralSystemConfig
    from console.central.model import ReservationState
    from console.central.server import CentralSystem

    store = None
    if memory_store:
        sys.path.insert(0, str(ROOT))
        from tests.central.fakes import MemoryStore

        store = MemoryStore()
    with tempfile.TemporaryDirectory() as folder:
        central = CentralSystem(
            CentralSystemConfig(
                host="127.0.0.1",
                port=0,
                data_dir=Path(folder),
                call_timeout=10.0,
                ping_interval=None,
            ),
            store=store,
        )
        await central.start()
        print(f"PORT {central.port}", flush=True)
        await _wait_for(
            lambda: sum(1 for s in central.stations() if s.connected and s.registration_status),
            stations,
        )
        await asyncio.sleep(warmup)
        measure = _Measure()
        loop = asyncio.get_running_loop()
        until = loop.time() + duration
        lag_task = asyncio.create_task(measure.lag_monitor(until))
        cpu_before = _cpu_seconds()
        expiry = datetime.now(UTC) + timedelta(hours=1)
        while loop.time() < until:
            station_id = _station_id(random.randrange(stations))
            started = time.perf_counter()
            record = await central.reserve_now(station_id, 1, "BENCH", expiry)
            measure.reserve_times.append(time.perf_counter() - started)
            if record.state is not ReservationState.ACCEPTED:
                measure.reserve_failures += 1
            await asyncio.sleep(RESERVE_EVERY)
        await lag_task
        cpu = _cpu_seconds() - cpu_before
        result = _result(measure, cpu, duration)
        await central.stop()
        return result


async def _serve_ocpp(stations: int, warmup: float, duration: float) -> dict[str, Any]:
    from ocpp.routing import on
    from ocpp.v16 import ChargePoint, call, call_result
    from ocpp.v16.enums import Action, RegistrationStatus

    logging.getLogger("ocpp").setLevel(logging.WARNING)
    connected: dict[str, Any] = {}

    class MinimalCentral(ChargePoint):  # type: ignore[misc]
        @on(Action.boot_notification)
        def on_boot(self, **_: Any) -> Any:
            return call_result.BootNotification(
                current_time=_stamp(), interval=300, status=RegistrationStatus.accepted
            )

        @on(Action.heartbeat)
        def on_heartbeat(self, **_: Any) -> Any:
            return call_result.Heartbeat(current_time=_stamp())

        @on(Action.status_notification)
        def on_status(self, **_: Any) -> Any:
            return call_result.StatusNotification()

        @on(Action.meter_values)
        def on_meter_values(self, **_: Any) -> Any:
            return call_result.MeterValues()

    async def handler(websocket: Any) -> None:
        station_id = websocket.request.path.rsplit("/", 1)[-1]
        station = MinimalCentral(station_id, websocket, response_timeout=10)
        connected[station_id] = station
        with contextlib.suppress(websockets.ConnectionClosed):
            await station.start()
        connected.pop(station_id, None)

    server = await websockets.serve(
        handler,
        "127.0.0.1",
        0,
        subprotocols=["ocpp1.6"],  # type: ignore[list-item]
        compression=None,
        ping_interval=None,
    )
    port = next(iter(server.sockets)).getsockname()[1]
    print(f"PORT {port}", flush=True)
    await _wait_for(lambda: len(connected), stations)
    await asyncio.sleep(warmup)
    measure = _Measure()
    loop = asyncio.get_running_loop()
    until = loop.time() + duration
    lag_task = asyncio.create_task(measure.lag_monitor(until))
    cpu_before = _cpu_seconds()
    expiry = (datetime.now(UTC) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    reservation_id = 0
    while loop.time() < until:
        station = connected.get(_station_id(random.randrange(stations)))
        if station is None:
            await asyncio.sleep(RESERVE_EVERY)
            continue
        reservation_id += 1
        started = time.perf_counter()
        try:
            answer = await station.call(
                call.ReserveNow(
                    connector_id=1,
                    expiry_date=expiry,
                    id_tag="BENCH",
                    reservation_id=reservation_id,
                )
            )
            if answer is None or answer.status != "Accepted":
                measure.reserve_failures += 1
        except TimeoutError:
            measure.reserve_failures += 1
        measure.reserve_times.append(time.perf_counter() - started)
        await asyncio.sleep(RESERVE_EVERY)
    await lag_task
    cpu = _cpu_seconds() - cpu_before
    server.close()
    await server.wait_closed()
    return _result(measure, cpu, duration)


def _result(measure: _Measure, cpu: float, duration: float) -> dict[str, Any]:
    return {
        "reserve_p50_ms": _percentile(measure.reserve_times, 0.50) * 1000,
        "reserve_p99_ms": _percentile(measure.reserve_times, 0.99) * 1000,
        "reserve_calls": len(measure.reserve_times),
        "reserve_failures": measure.reserve_failures,
        "lag_p99_ms": _percentile(measure.lags, 0.99) * 1000,
        "lag_max_ms": max(measure.lags, default=float("nan")) * 1000,
        "cpu_percent": 100 * cpu / duration,
        "peak_mib": _peak_memory_mib(),
    }


def _pin(cpu: int) -> None:
    # "On one core": the server on CPU 0, the load generator on CPU 1 (Linux, 2+ CPUs).
    if hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) >= 2:
        os.sched_setaffinity(0, {cpu})


def run_server(args: argparse.Namespace) -> None:
    _pin(0)
    logging.basicConfig(level=logging.WARNING)
    if args.server == "ocpp":
        result = asyncio.run(_serve_ocpp(args.stations, args.warmup, args.duration))
    else:
        result = asyncio.run(
            _serve_ours(args.stations, args.warmup, args.duration, args.server == "ours-memory")
        )
    print("RESULT " + json.dumps(result), flush=True)


# --- the load process -----------------------------------------------------------------------


_ANSWERS = {
    "ReserveNow": {"status": "Accepted"},
    "CancelReservation": {"status": "Accepted"},
    "GetConfiguration": {
        "configurationKey": [
            {"key": "ReserveConnectorZeroSupported", "readonly": True, "value": "true"},
            {"key": "NumberOfConnectors", "readonly": True, "value": "2"},
        ]
    },
    "TriggerMessage": {"status": "Accepted"},
}


@dataclass
class _Counts:
    answered: int = 0
    errors: int = 0
    window_start: float = 0.0
    window_end: float = 0.0


class _LoadStation:
    """A bare station: sends its messages in turn, answers the server's calls at once."""

    def __init__(self, index: int, url: str, counts: _Counts) -> None:
        self.station_id = _station_id(index)
        self.url = url + self.station_id
        self.counts = counts
        self.pending: dict[str, asyncio.Future[list[Any]]] = {}
        self.sequence = 0
        self.websocket: Any = None
        self.reader: asyncio.Task[None] | None = None

    async def connect(self) -> None:
        self.websocket = await websockets.connect(
            self.url,
            subprotocols=["ocpp1.6"],  # type: ignore[list-item]
            compression=None,
            ping_interval=None,
            open_timeout=60,
        )
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        with contextlib.suppress(websockets.ConnectionClosed):
            async for message in self.websocket:
                frame = json.loads(message)
                if frame[0] == 2:
                    answer = _ANSWERS.get(frame[2], {})
                    await self.websocket.send(json.dumps([3, frame[1], answer]))
                else:
                    future = self.pending.pop(frame[1], None)
                    if future is not None and not future.done():
                        future.set_result(frame)

    async def call(self, action: str, payload: dict[str, Any]) -> list[Any]:
        self.sequence += 1
        message_id = str(self.sequence)
        future: asyncio.Future[list[Any]] = asyncio.get_running_loop().create_future()
        self.pending[message_id] = future
        await self.websocket.send(json.dumps([2, message_id, action, payload]))
        return await asyncio.wait_for(future, 30)

    async def boot(self) -> None:
        await self.call(
            "BootNotification", {"chargePointVendor": "Bench", "chargePointModel": "Load"}
        )

    def _message(self, turn: int) -> tuple[str, dict[str, Any]]:
        kind = turn % 3
        if kind == 0:
            status = "Available" if turn % 2 else "Preparing"
            return "StatusNotification", {
                "connectorId": 1 + turn % 2,
                "errorCode": "NoError",
                "status": status,
                "timestamp": _stamp(),
            }
        if kind == 1:
            return "Heartbeat", {}
        return "MeterValues", {
            "connectorId": 1,
            "meterValue": [
                {
                    "timestamp": _stamp(),
                    "sampledValue": [
                        {"value": str(1000 + turn), "measurand": "Energy.Active.Import.Register"}
                    ],
                }
            ],
        }

    async def run(self, rate: float, until: float) -> None:
        loop = asyncio.get_running_loop()
        period = 1.0 / rate if rate > 0 else 0.0
        next_send = loop.time() + random.random() * period
        turn = 0
        while True:
            if period:
                delay = next_send - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)
                next_send += period
            sent_at = loop.time()
            if sent_at >= until:
                return
            action, payload = self._message(turn)
            turn += 1
            try:
                frame = await self.call(action, payload)
            except (TimeoutError, websockets.ConnectionClosed):
                # The server stops after its window; only failures inside it count.
                if loop.time() < self.counts.window_end:
                    self.counts.errors += 1
                return
            done = loop.time()
            if frame[0] != 3:
                self.counts.errors += 1
            elif self.counts.window_start <= done < self.counts.window_end:
                self.counts.answered += 1

    async def close(self) -> None:
        if self.websocket is not None:
            await self.websocket.close()
        if self.reader is not None:
            with contextlib.suppress(BaseException):
                await self.reader


async def _load(args: argparse.Namespace) -> dict[str, Any]:
    counts = _Counts()
    stations = [_LoadStation(i, args.url, counts) for i in range(args.stations)]
    gate = asyncio.Semaphore(50)

    async def bring_up(station: _LoadStation) -> None:
        async with gate:
            await station.connect()
            await station.boot()

    await asyncio.gather(*(bring_up(s) for s in stations))
    loop = asyncio.get_running_loop()
    counts.window_start = loop.time() + args.warmup
    counts.window_end = counts.window_start + args.duration
    # Keep the load on a little past the window so the server's window sees it too.
    until = counts.window_end + 2.0
    await asyncio.gather(*(s.run(args.rate, until) for s in stations))
    await asyncio.gather(*(s.close() for s in stations))
    return {"msgs_per_s": counts.answered / args.duration, "errors": counts.errors}


def run_load(args: argparse.Namespace) -> None:
    _pin(1)
    result = asyncio.run(_load(args))
    print("RESULT " + json.dumps(result), flush=True)


# --- the orchestrator -----------------------------------------------------------------------


def _result_line(process: subprocess.Popen[str]) -> dict[str, Any]:
    assert process.stdout is not None
    for line in process.stdout:
        if line.startswith("RESULT "):
            return dict(json.loads(line[len("RESULT ") :]))
    raise RuntimeError(f"no result from {process.args}")


def one_run(
    server: str, stations: int, rate: float, warmup: float, duration: float
) -> dict[str, Any]:
    script = str(Path(__file__).resolve())
    common = ["--stations", str(stations), "--warmup", str(warmup), "--duration", str(duration)]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    server_process = subprocess.Popen(
        [sys.executable, script, "--role", "server", "--server", server, *common],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert server_process.stdout is not None
        port_line = server_process.stdout.readline()
        if not port_line.startswith("PORT "):
            raise RuntimeError(f"the {server} server did not start: {port_line!r}")
        url = f"ws://127.0.0.1:{int(port_line.split()[1])}/"
        load_process = subprocess.Popen(
            [sys.executable, script, "--role", "load", "--url", url, "--rate", str(rate), *common],
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        server_result = _result_line(server_process)
        load_result = _result_line(load_process)
        load_process.wait(timeout=60)
    finally:
        server_process.wait(timeout=60)
    return {**load_result, **server_result}


def _show(server: str, stations: int, rate: float, result: dict[str, Any]) -> None:
    shown_rate = f"{rate:g}/s" if rate > 0 else "max"
    print(
        f"{server:5} {stations:5} stations @ {shown_rate:>5}: "
        f"{result['msgs_per_s']:8.0f} msgs/s | ReserveNow p50 {result['reserve_p50_ms']:6.1f} ms"
        f" p99 {result['reserve_p99_ms']:7.1f} ms ({result['reserve_calls']} calls,"
        f" {result['reserve_failures']} not accepted) | loop lag p99"
        f" {result['lag_p99_ms']:6.1f} ms | CPU {result['cpu_percent']:4.0f}% |"
        f" peak {result['peak_mib']:5.0f} MiB | errors {result['errors']}",
        flush=True,
    )


def orchestrate(args: argparse.Namespace) -> None:
    counts = [int(n) for n in args.station_counts.split(",")]
    servers = args.servers.split(",")
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, {args.duration:g} s windows")
    print(f"-- fixed rate: each station sends {args.rate:g} message(s)/second")
    for stations in counts:
        for server in servers:
            _show(
                server,
                stations,
                args.rate,
                one_run(server, stations, args.rate, args.warmup, args.duration),
            )
    print("-- saturation: each station sends its next message as soon as it is answered")
    sustained: dict[str, float] = {}
    for server in servers:
        result = one_run(server, args.saturate_stations, 0.0, args.warmup, args.duration)
        _show(server, args.saturate_stations, 0.0, result)
        sustained[server] = result["msgs_per_s"]
    if "ours" in sustained and "ocpp" in sustained and sustained["ocpp"] > 0:
        print(f"sustained msgs/s ours/ocpp: {sustained['ours'] / sustained['ocpp']:.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--role", choices=("orchestrate", "server", "load"), default="orchestrate")
    parser.add_argument(
        "--server",
        choices=("ours", "ours-memory", "ocpp"),
        default="ours",
        help="ours-memory: ours with an in-memory store instead of SQLite",
    )
    parser.add_argument("--servers", default="ours,ocpp")
    parser.add_argument("--station-counts", default="200,500,1000")
    parser.add_argument("--saturate-stations", type=int, default=200)
    parser.add_argument("--stations", type=int, default=200)
    parser.add_argument("--rate", type=float, default=1.0, help="messages/second per station")
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--url", default="ws://127.0.0.1:9000/")
    parser.add_argument("--quick", action="store_true", help="200,500 stations, 5 s windows")
    args = parser.parse_args()
    if args.quick:
        args.station_counts = "200,500"
        args.duration = 5.0
        args.warmup = 1.0
    if args.role == "server":
        run_server(args)
    elif args.role == "load":
        run_load(args)
    else:
        orchestrate(args)


if __name__ == "__main__":
    main()
