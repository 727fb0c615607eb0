"""What proxy mode costs: the latency the console adds per forwarded frame, and the
throughput at saturation, next to the same stations connected to the CSMS directly.

Run: ``.venv/bin/python tests/benchmarks/bench_proxy.py`` (``--quick`` for a rough run;
``--help`` for the knobs).

Three processes: the upstream CSMS (websockets + json, answers every call, keeps nothing:
its cost is the same in both runs), the console in proxy mode (``CentralSystem`` with
``upstream_url``, its real SQLite store tracing every frame, the log at INFO to a file, as
``ocpp-console proxy`` runs), and the load (:mod:`ws_load`: raw-socket stations, the
``site`` mix, one call outstanding per station). Each figure comes from two runs:

* ``direct``: the stations connect to the upstream CSMS;
* ``proxy``: the stations connect to the console, which carries each on to the CSMS.

A station's round trip through the proxy crosses it twice (its CALL goes up, the CSMS's
answer comes down), so the latency added per forwarded frame is half the difference of
the round trips; both are printed, at p50 and p99. First at ``--rate`` messages per
second per station with ``--stations`` stations (issue 16: 200 at 1/s), then at
saturation (each station sends its next message as soon as the answer came).

On a 2-core machine the proxy runs on CPU 0 and the load and the upstream share CPU 1 (in
both runs, so the difference is the proxy's).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import websockets
from ws_load import MIXES
from ws_load import run_load as run_ws_load

ROOT = Path(__file__).resolve().parents[2]


def _pin(cpu: int) -> None:
    if hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) >= 2:
        os.sched_setaffinity(0, {cpu})


def _stamp() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


async def _until_stdin_closes() -> None:
    """Serve until the orchestrator closes our stdin (it does once the load is done)."""
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.read)


# --- the upstream CSMS ------------------------------------------------------------------------


async def _serve_upstream() -> None:
    def answer(action: str) -> dict[str, Any]:
        if action == "BootNotification":
            return {"currentTime": _stamp(), "interval": 300, "status": "Accepted"}
        if action == "Heartbeat":
            return {"currentTime": _stamp()}
        return {}

    async def handler(websocket: Any) -> None:
        with contextlib.suppress(websockets.ConnectionClosed):
            async for message in websocket:
                frame = json.loads(message)
                if frame[0] == 2:
                    await websocket.send(json.dumps([3, frame[1], answer(frame[2])]))

    server = await websockets.serve(
        handler,
        "127.0.0.1",
        0,
        subprotocols=["ocpp1.6"],  # type: ignore[list-item]
        compression=None,
        ping_interval=None,
        max_queue=None,
    )
    port = next(iter(server.sockets)).getsockname()[1]
    print(f"PORT {port}", flush=True)
    await _until_stdin_closes()
    server.close()
    await server.wait_closed()


# --- the console in proxy mode ----------------------------------------------------------------


async def _serve_proxy(upstream_url: str) -> None:
    from console.central.config import CentralSystemConfig
    from console.central.server import CentralSystem

    with tempfile.TemporaryDirectory() as folder:
        central = CentralSystem(
            CentralSystemConfig(
                host="127.0.0.1",
                port=0,
                data_dir=Path(folder),
                ping_interval=None,
                upstream_url=upstream_url,
            )
        )
        await central.start()
        print(f"PORT {central.port}", flush=True)
        try:
            await _until_stdin_closes()
        finally:
            await central.stop()


# --- the orchestrator -------------------------------------------------------------------------


def _start(role: str, *extra: str, log: Any = None) -> tuple[subprocess.Popen[str], int]:
    process = subprocess.Popen(
        [sys.executable, str(Path(__file__).resolve()), "--role", role, *extra],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line.startswith("PORT "):
        process.kill()
        raise RuntimeError(f"the {role} did not start: {line!r}")
    return process, int(line.split()[1])


def _stop(process: subprocess.Popen[str]) -> None:
    assert process.stdin is not None
    process.stdin.close()
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()


def _load(url: str, stations: int, rate: float, args: argparse.Namespace) -> dict[str, Any]:
    output = subprocess.run(
        [
            sys.executable,
            str(Path(__file__).resolve()),
            "--role",
            "load",
            "--url",
            url,
            "--stations",
            str(stations),
            "--rate",
            str(rate),
            "--mix",
            args.mix,
            "--warmup",
            str(args.warmup),
            "--duration",
            str(args.duration),
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=True,
    ).stdout
    for line in output.splitlines():
        if line.startswith("RESULT "):
            return dict(json.loads(line[len("RESULT ") :]))
    raise RuntimeError(f"no result from the load: {output!r}")


def one_run(proxied: bool, stations: int, rate: float, args: argparse.Namespace) -> dict[str, Any]:
    upstream, upstream_port = _start("upstream")
    upstream_url = f"ws://127.0.0.1:{upstream_port}/ocpp"
    try:
        if not proxied:
            return _load(upstream_url + "/", stations, rate, args)
        with tempfile.TemporaryFile("w+") as log:
            proxy, proxy_port = _start("proxy", "--upstream", upstream_url, log=log)
            try:
                return _load(f"ws://127.0.0.1:{proxy_port}/", stations, rate, args)
            finally:
                _stop(proxy)
    finally:
        _stop(upstream)


def _show(name: str, stations: int, rate: float, result: dict[str, Any]) -> None:
    shown_rate = f"{rate:g}/s" if rate > 0 else "max"
    print(
        f"{name:6} {stations:4} stations @ {shown_rate:>5}: {result['msgs_per_s']:7.0f} msgs/s"
        f" | round trip p50 {result['p50_ms']:6.2f} ms p99 {result['p99_ms']:7.2f} ms"
        f" | load CPU {result['load_cpu_percent']:3.0f}% | errors {result['errors']}",
        flush=True,
    )


def _added(direct: dict[str, Any], proxy: dict[str, Any]) -> None:
    for share in ("p50", "p99"):
        round_trip = proxy[f"{share}_ms"] - direct[f"{share}_ms"]
        print(
            f"added by the proxy at {share}: {round_trip:6.2f} ms per round trip,"
            f" {round_trip / 2:6.2f} ms per forwarded frame",
            flush=True,
        )


def orchestrate(args: argparse.Namespace) -> None:
    load = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    print(
        f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs (proxy on CPU 0, load and"
        f" upstream on CPU 1), load average {load[0]:.2f} before the run, mix {args.mix},"
        f" {args.duration:g} s windows after {args.warmup:g} s warm-up",
        flush=True,
    )
    print(f"-- fixed rate: {args.stations} stations, each {args.rate:g} message(s)/second")
    direct = one_run(False, args.stations, args.rate, args)
    _show("direct", args.stations, args.rate, direct)
    proxy = one_run(True, args.stations, args.rate, args)
    _show("proxy", args.stations, args.rate, proxy)
    _added(direct, proxy)
    print("-- saturation: each station sends its next message as soon as it is answered")
    direct = one_run(False, args.saturate_stations, 0.0, args)
    _show("direct", args.saturate_stations, 0.0, direct)
    proxy = one_run(True, args.saturate_stations, 0.0, args)
    _show("proxy", args.saturate_stations, 0.0, proxy)
    if direct["msgs_per_s"]:
        print(f"sustained msgs/s proxy/direct: {proxy['msgs_per_s'] / direct['msgs_per_s']:.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--role", choices=("orchestrate", "upstream", "proxy", "load"), default="orchestrate"
    )
    parser.add_argument("--upstream", help="proxy role: the CSMS URL")
    parser.add_argument("--url", help="load role: where the stations connect")
    parser.add_argument("--stations", type=int, default=200)
    parser.add_argument("--saturate-stations", type=int, default=200)
    parser.add_argument("--rate", type=float, default=1.0)
    parser.add_argument("--mix", choices=MIXES, default="site")
    parser.add_argument("--warmup", type=float, default=5.0)
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--quick", action="store_true", help="short windows (rough figures)")
    args = parser.parse_args()
    if args.quick:
        args.warmup, args.duration = 2.0, 5.0
    if args.role == "upstream":
        _pin(1)
        asyncio.run(_serve_upstream())
    elif args.role == "proxy":
        _pin(0)
        logging.basicConfig(
            level=logging.INFO,
            format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
            datefmt="%H:%M:%S",
        )
        asyncio.run(_serve_proxy(args.upstream))
    elif args.role == "load":
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
    else:
        orchestrate(args)


if __name__ == "__main__":
    main()
