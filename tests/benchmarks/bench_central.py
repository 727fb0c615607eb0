"""The Central System under load, next to a minimal ``ocpp``-package CSMS and a bare server.

Run: ``.venv/bin/python tests/benchmarks/bench_central.py`` (``--quick`` for a rough run;
``--soak 600`` for the memory soak alone; ``--help`` for the knobs).

N stations in a separate process (:mod:`ws_load`, raw sockets, pinned to CPU 1) connect
over loopback, boot, and send the ``--mix`` of messages (default ``site``: 60%
StatusNotification whose status changes every time, 20% Heartbeat, 20% MeterValues with
ten sampled values; ``plain``: the original three-message cycle), one call outstanding per
station as OCPP wants. The server process (pinned to CPU 0) makes a ReserveNow call every
100 ms to a random station. First at ``--rate`` messages per second per station for each
of ``--station-counts``, then at saturation (each station sends its next message as soon as
the answer came) from ``--saturate-stations``. Each run is made against

* ``ours``: :class:`console.central.server.CentralSystem` with its real SQLite store
  (every frame traced and stored, the live model kept) and the log at INFO to a file, as
  ``ocpp-console serve`` runs;
* ``ocpp``: a minimal Central System on the ``ocpp`` package's ``ChargePoint`` (answers the
  same messages, keeps nothing, validates against the JSON schemas as that package does);
* ``bare``: websockets + json, no validation, nothing kept, no ReserveNow: the ceiling of
  a Python server on this machine, and the proof that the load generator is not the
  bottleneck (it drives this one several times faster than the others; the load's own CPU
  share is printed too).

Printed per run: sustained messages/second (answers counted by the stations in the
measured window) and their round trip p50/p99 as the stations saw it, ReserveNow round
trip p50/p99 (measured in the server process), event loop lag p99 (a 10 ms sleeper's
lateness), server CPU use, the server's resident memory at the start and end of the
window and its peak, and the load process's CPU use. The saturation runs end with the
ratios between the servers.

Targets (issue 17): >= 13,000 msgs/s at saturation on the ``site`` mix with 200 stations
(half the bare ceiling); at 500 stations x 1 message/second, ReserveNow p99 under 20 ms and
loop lag p99 under 10 ms; memory flat over a 10-minute soak at 1,000 stations x 1/s.
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
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import websockets
from ws_load import MIXES
from ws_load import run_load as run_ws_load

try:
    import resource
except ImportError:  # Windows
    resource = None  # type: ignore[assignment]

ROOT = Path(__file__).resolve().parents[2]
RESERVE_EVERY = 0.1
LAG_TICK = 0.01
MEMORY_EVERY = 5.0


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


def _resident_mib() -> float:
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return float("nan")
    return pages * os.sysconf("SC_PAGE_SIZE") / (1024 * 1024)


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
        self.resident: list[float] = []

    async def memory_monitor(self, until: float) -> None:
        loop = asyncio.get_running_loop()
        while loop.time() < until:
            self.resident.append(_resident_mib())
            await asyncio.sleep(min(MEMORY_EVERY, max(0.0, until - loop.time())))
        self.resident.append(_resident_mib())

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
        memory_task = asyncio.create_task(measure.memory_monitor(until))
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
        await memory_task
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
    memory_task = asyncio.create_task(measure.memory_monitor(until))
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
    await memory_task
    cpu = _cpu_seconds() - cpu_before
    server.close()
    await server.wait_closed()
    return _result(measure, cpu, duration)


async def _serve_bare(stations: int, warmup: float, duration: float) -> dict[str, Any]:
    """websockets + json: answers every call, validates nothing, keeps nothing."""
    connected: set[str] = set()

    def answer(action: str) -> dict[str, Any]:
        if action == "BootNotification":
            return {"currentTime": _stamp(), "interval": 300, "status": "Accepted"}
        if action == "Heartbeat":
            return {"currentTime": _stamp()}
        return {}

    async def handler(websocket: Any) -> None:
        station_id = websocket.request.path.rsplit("/", 1)[-1]
        connected.add(station_id)
        with contextlib.suppress(websockets.ConnectionClosed):
            async for message in websocket:
                frame = json.loads(message)
                if frame[0] == 2:
                    await websocket.send(json.dumps([3, frame[1], answer(frame[2])]))
        connected.discard(station_id)

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
    until = asyncio.get_running_loop().time() + duration
    cpu_before = _cpu_seconds()
    await asyncio.gather(measure.lag_monitor(until), measure.memory_monitor(until))
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
        "resident_mib": measure.resident,
    }


def _pin(cpu: int) -> None:
    # "On one core": the server on CPU 0, the load generator on CPU 1 (Linux, 2+ CPUs).
    if hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) >= 2:
        os.sched_setaffinity(0, {cpu})


def run_server(args: argparse.Namespace) -> None:
    _pin(0)
    # As ``ocpp-console serve`` logs (its default level and format); stderr goes to a file.
    logging.basicConfig(
        level=args.log_level,
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
    )
    if args.server == "ocpp":
        result = asyncio.run(_serve_ocpp(args.stations, args.warmup, args.duration))
    elif args.server == "bare":
        result = asyncio.run(_serve_bare(args.stations, args.warmup, args.duration))
    else:
        result = asyncio.run(
            _serve_ours(args.stations, args.warmup, args.duration, args.server == "ours-memory")
        )
    print("RESULT " + json.dumps(result), flush=True)


# --- the load process -----------------------------------------------------------------------


def run_load(args: argparse.Namespace) -> None:
    _pin(1)
    result = asyncio.run(
        run_ws_load(
            args.url,
            args.stations,
            mix=args.mix,
            rate=args.rate,
            warmup=args.warmup,
            duration=args.duration,
        )
    )
    print("RESULT " + json.dumps(result), flush=True)


# --- the orchestrator -----------------------------------------------------------------------


def _result_line(process: subprocess.Popen[str]) -> dict[str, Any]:
    assert process.stdout is not None
    for line in process.stdout:
        if line.startswith("RESULT "):
            return dict(json.loads(line[len("RESULT ") :]))
    raise RuntimeError(f"no result from {process.args}")


def one_run(server: str, stations: int, rate: float, args: argparse.Namespace) -> dict[str, Any]:
    script = str(Path(__file__).resolve())
    common = [
        "--stations",
        str(stations),
        "--warmup",
        str(args.warmup),
        "--duration",
        str(args.duration),
    ]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with tempfile.TemporaryFile("w+") as server_log:
        server_process = subprocess.Popen(
            [
                sys.executable,
                script,
                "--role",
                "server",
                "--server",
                server,
                "--log-level",
                args.log_level,
                *common,
            ],
            stdout=subprocess.PIPE,
            stderr=server_log,
            text=True,
            env=env,
        )
        try:
            assert server_process.stdout is not None
            port_line = server_process.stdout.readline()
            if not port_line.startswith("PORT "):
                server_process.wait(timeout=60)
                server_log.seek(0)
                raise RuntimeError(f"the {server} server did not start: {server_log.read()}")
            url = f"ws://127.0.0.1:{int(port_line.split()[1])}/"
            load_process = subprocess.Popen(
                [
                    sys.executable,
                    script,
                    "--role",
                    "load",
                    "--url",
                    url,
                    "--rate",
                    str(rate),
                    "--mix",
                    args.mix,
                    *common,
                ],
                stdout=subprocess.PIPE,
                text=True,
                env=env,
            )
            server_result = _result_line(server_process)
            load_result = _result_line(load_process)
            load_process.wait(timeout=60)
        finally:
            server_process.wait(timeout=60)
        server_log.seek(0)
        log_lines = sum(1 for _ in server_log)
    return {**load_result, **server_result, "log_lines": log_lines}


def _show(server: str, stations: int, rate: float, result: dict[str, Any]) -> None:
    shown_rate = f"{rate:g}/s" if rate > 0 else "max"
    resident = result["resident_mib"] or [float("nan")]
    print(
        f"{server:5} {stations:5} stations @ {shown_rate:>5}: "
        f"{result['msgs_per_s']:7.0f} msgs/s p50 {result['p50_ms']:5.1f} ms"
        f" p99 {result['p99_ms']:6.1f} ms | ReserveNow p50 {result['reserve_p50_ms']:5.1f} ms"
        f" p99 {result['reserve_p99_ms']:6.1f} ms ({result['reserve_calls']} calls,"
        f" {result['reserve_failures']} not accepted) | loop lag p99"
        f" {result['lag_p99_ms']:5.1f} ms | CPU {result['cpu_percent']:3.0f}% |"
        f" RSS {resident[0]:4.0f}->{resident[-1]:4.0f} MiB, peak {result['peak_mib']:4.0f} |"
        f" load CPU {result['load_cpu_percent']:3.0f}% | errors {result['errors']}"
        f" | log lines {result['log_lines']}",
        flush=True,
    )


def _conditions(args: argparse.Namespace) -> None:
    load = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    print(
        f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs (server on CPU 0, load on"
        f" CPU 1), load average {load[0]:.2f} before the run, mix {args.mix},"
        f" {args.duration:g} s windows after {args.warmup:g} s warm-up, log {args.log_level}",
        flush=True,
    )


def orchestrate(args: argparse.Namespace) -> None:
    counts = [int(n) for n in args.station_counts.split(",") if n]
    servers = args.servers.split(",")
    _conditions(args)
    if counts:
        print(f"-- fixed rate: each station sends {args.rate:g} message(s)/second")
    for stations in counts:
        for server in servers:
            if server == "bare":
                continue  # no ReserveNow there: nothing to compare at a fixed rate
            _show(server, stations, args.rate, one_run(server, stations, args.rate, args))
    print("-- saturation: each station sends its next message as soon as it is answered")
    sustained: dict[str, float] = {}
    for server in servers:
        result = one_run(server, args.saturate_stations, 0.0, args)
        _show(server, args.saturate_stations, 0.0, result)
        sustained[server] = result["msgs_per_s"]
    for mine, theirs in (("ours", "ocpp"), ("ours", "bare"), ("ocpp", "bare")):
        if sustained.get(mine) and sustained.get(theirs):
            print(f"sustained msgs/s {mine}/{theirs}: {sustained[mine] / sustained[theirs]:.2f}x")


def soak(args: argparse.Namespace) -> None:
    """Ours alone at ``--soak-stations`` x ``--rate`` for ``--soak`` seconds: memory."""
    args.duration = args.soak
    _conditions(args)
    result = one_run("ours", args.soak_stations, args.rate, args)
    _show("ours", args.soak_stations, args.rate, result)
    resident = result["resident_mib"]
    shown = ", ".join(f"{value:.0f}" for value in resident)
    print(f"resident MiB every {MEMORY_EVERY:g} s: {shown}")
    if len(resident) >= 4:
        half = len(resident) // 2
        first, second = resident[:half], resident[half:]
        print(
            f"first half max {max(first):.0f} MiB, second half max {max(second):.0f} MiB,"
            f" growth over the second half {second[-1] - second[0]:+.1f} MiB"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--role", choices=("orchestrate", "server", "load"), default="orchestrate")
    parser.add_argument(
        "--server",
        choices=("ours", "ours-memory", "ocpp", "bare"),
        default="ours",
        help="ours-memory: ours with an in-memory store instead of SQLite",
    )
    parser.add_argument("--servers", default="ours,ocpp,bare")
    parser.add_argument("--mix", choices=MIXES, default="site")
    parser.add_argument("--station-counts", default="500", help="for the fixed-rate runs")
    parser.add_argument("--saturate-stations", type=int, default=200)
    parser.add_argument("--stations", type=int, default=200)
    parser.add_argument("--rate", type=float, default=1.0, help="messages/second per station")
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--duration", type=float, default=15.0)
    parser.add_argument("--log-level", default="INFO", choices=("DEBUG", "INFO", "WARNING"))
    parser.add_argument("--soak", type=float, default=0.0, help="seconds of the memory soak")
    parser.add_argument("--soak-stations", type=int, default=1000)
    parser.add_argument("--url", default="ws://127.0.0.1:9000/")
    parser.add_argument("--quick", action="store_true", help="5 s windows")
    args = parser.parse_args()
    if args.quick:
        args.duration = 5.0
        args.warmup = 1.0
    if args.role == "server":
        run_server(args)
    elif args.role == "load":
        run_load(args)
    elif args.soak:
        soak(args)
    else:
        orchestrate(args)


if __name__ == "__main__":
    main()
