"""Attacks on a running Central System, counted: tried, refused, and the damage (none).

Run: ``.venv/bin/python tests/benchmarks/attacks.py``

One real :class:`CentralSystem` per section (127.0.0.1, a free port, SQLite in a temporary
folder) with a well-behaved station connected all along; after each attack the script
checks that station still reserves (ReserveNow accepted) and is still connected. Sections:
password guessing under profile 1 (the per-address login throttle), borrowed and broken
credentials, station-id path tricks, slowloris handshakes, oversized frames, the
per-address connection cap, and a flood of CALLs (memory of this process before, at the
peak and after). TLS attacks (wrong CA, no client certificate, plain ws://) need a PKI and
are covered by ``tests/reliability/test_attacks.py``.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import websockets
from websockets.exceptions import ConnectionClosed, InvalidStatus

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from console.central.config import CentralSystemConfig  # noqa: E402
from console.central.model import ReservationState  # noqa: E402
from console.central.security import hash_authorization_key  # noqa: E402
from console.central.server import CentralSystem  # noqa: E402

KEY = "the-real-key-of-CP-GOOD"
OCPP = ["ocpp1.6"]
_results: list[tuple[str, int, int, str]] = []


def _basic(user: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def _rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


@asynccontextmanager
async def _central(**settings: Any) -> AsyncIterator[tuple[CentralSystem, Any]]:
    """A Central System and the good station (answers ReserveNow with Accepted)."""
    with tempfile.TemporaryDirectory() as folder:
        config = {"host": "127.0.0.1", "port": 0, "data_dir": Path(folder), "ping_interval": None}
        config.update(settings)
        central = CentralSystem(CentralSystemConfig(**config))
        await central.start()
        headers = _basic("CP-GOOD", KEY) if central.security_profile == 1 else {}
        url = f"ws://127.0.0.1:{central.port}/CP-GOOD"
        async with websockets.connect(url, subprotocols=OCPP, additional_headers=headers) as good:

            async def answer() -> None:
                async for message in good:
                    frame = json.loads(message)
                    if frame[0] == 2:
                        await good.send(json.dumps([3, frame[1], {"status": "Accepted"}]))

            answering = asyncio.create_task(answer())
            try:
                yield central, good
            finally:
                answering.cancel()
        await central.stop()


async def _good_station_fine(central: CentralSystem) -> str:
    started = time.perf_counter()
    expiry = datetime.now(UTC) + timedelta(minutes=10)
    record = await central.reserve_now("CP-GOOD", 1, "TAG", expiry)
    fine = record.state is ReservationState.ACCEPTED and central.is_connected("CP-GOOD")
    took = (time.perf_counter() - started) * 1000
    return f"good station {'fine' if fine else 'HURT'} (ReserveNow {took:.0f} ms)"


async def _status_of(url: str, **kwargs: Any) -> int:
    """The HTTP status of a handshake (101 when it was accepted)."""
    try:
        async with websockets.connect(url, subprotocols=OCPP, open_timeout=10, **kwargs):
            return 101
    except InvalidStatus as exc:
        return exc.response.status_code


def _record(name: str, tried: int, refused: int, note: str) -> None:
    _results.append((name, tried, refused, note))
    print(f"{name:<34}{tried:>8,}{refused:>9,}  {note}", flush=True)


async def password_guessing() -> None:
    keys = {"CP-GOOD": hash_authorization_key(KEY), "CP-A": hash_authorization_key("a-key")}
    async with _central(security_profile=1, authorization_keys=keys, login_failures_allowed=3) as (
        central,
        _,
    ):
        url = f"ws://127.0.0.1:{central.port}/CP-A"
        statuses: Counter[int] = Counter()
        started = time.perf_counter()
        for n in range(300):
            statuses[await _status_of(url, additional_headers=_basic("CP-A", f"guess-{n}"))] += 1
        took = time.perf_counter() - started
        _record(
            "password guessing (profile 1)",
            300,
            300 - statuses[101],
            f"{statuses[401]} checked (401), {statuses[429]} throttled (429) in {took:.1f} s;"
            f" {await _good_station_fine(central)}",
        )
        attempts = {
            "no password": {},
            "another station's key": _basic("CP-A", KEY),
            "another station's credentials": _basic("CP-GOOD", KEY),
            "not Basic": {"Authorization": "Bearer x"},
            "broken base64": {"Authorization": "Basic %%%"},
        }
    async with _central(security_profile=1, authorization_keys=keys) as (central, _):
        # Taking over the good station's id without its key (first: no throttle yet).
        status = await _status_of(f"ws://127.0.0.1:{central.port}/CP-GOOD")
        _record(
            "impersonating a connected station",
            1,
            int(status != 101),
            f"HTTP {status}; {await _good_station_fine(central)}",
        )
        url = f"ws://127.0.0.1:{central.port}/CP-A"
        refused = 0
        for headers in attempts.values():
            refused += await _status_of(url, additional_headers=headers) in (401, 429)
        _record(
            "borrowed / broken credentials",
            len(attempts),
            refused,
            await _good_station_fine(central),
        )


async def path_tricks() -> None:
    paths = [
        b"/../", b"/..%2F..%2Fetc%2Fpasswd", b"/%2F", b"/CP%2F1", b"/%00", b"/CP%001",
        b"/%20%20", b"/" + b"A" * 49, b"/" + b"A" * 5000, b"/%FF%FE", b"/", b"/CP%0A1",
        b"/CP%0D%0AX-Injected:%201", b"/%E2%80%AE", "/\u5145".encode(),
    ]  # fmt: skip
    async with _central() as (central, _):
        refused = 0
        for path in paths:
            reader, writer = await asyncio.open_connection("127.0.0.1", central.port)
            writer.write(
                b"GET " + path + b" HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
                b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                b"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: ocpp1.6\r\n\r\n"
            )
            head = await asyncio.wait_for(reader.read(200), 10)
            refused += not head.startswith(b"HTTP/1.1 101")
            writer.close()
        known = sorted(s.station_id for s in central.stations())
        _record(
            "station-id path tricks",
            len(paths),
            refused,
            f"stations known: {known}; {await _good_station_fine(central)}",
        )


async def slowloris(count: int = 500) -> None:
    async with _central(handshake_timeout=2.0) as (central, _):
        streams = []
        for n in range(count):
            reader, writer = await asyncio.open_connection("127.0.0.1", central.port)
            writer.write(f"GET /CP-SLOW-{n} HTTP/1.1\r\nHost: x\r\n".encode())
            streams.append((reader, writer))
        fine = await _good_station_fine(central)
        started = time.perf_counter()
        closed = 0
        for reader, writer in streams:
            rest = await asyncio.wait_for(reader.read(), 30)
            closed += b"101" not in rest
            writer.close()
        _record(
            "slowloris (half a handshake)",
            count,
            closed,
            f"all closed {time.perf_counter() - started:.1f} s later; during it {fine}",
        )


async def oversized_frames(count: int = 50) -> None:
    async with _central() as (central, _):
        closed_1009 = 0
        for n in range(count):
            url = f"ws://127.0.0.1:{central.port}/CP-BIG-{n}"
            async with websockets.connect(url, subprotocols=OCPP, max_size=None) as big:
                await big.send(
                    '[2,"1","DataTransfer",{"vendorId":"v","data":"' + "x" * 2**20 + '"}]'
                )
                try:
                    await asyncio.wait_for(big.recv(), 10)
                except ConnectionClosed as exc:
                    closed_1009 += exc.rcvd is not None and exc.rcvd.code == 1009
        _record(
            "oversized frames (1 MiB > 64 KiB)",
            count,
            closed_1009,
            f"closed with 1009; {await _good_station_fine(central)}",
        )


async def connection_cap(cap: int = 50, extra: int = 20) -> None:
    async with _central(max_connections_per_address=cap + 1) as (central, _):
        opened = []
        refused = 0
        for n in range(cap + extra):
            url = f"ws://127.0.0.1:{central.port}/CP-MANY-{n}"
            try:
                opened.append(await websockets.connect(url, subprotocols=OCPP))
            except InvalidStatus as exc:
                refused += exc.response.status_code == 429
        fine = await _good_station_fine(central)
        for websocket in opened:
            await websocket.close()
        _record(
            f"connections beyond the cap of {cap + 1}",
            extra,
            refused,
            f"{len(opened)} + the good station accepted; {fine}",
        )


_FLOODER = """
import asyncio, sys, websockets

async def main(url, count):
    async with websockets.connect(url, subprotocols=["ocpp1.6"], max_queue=4) as ws:
        async def send():
            for n in range(count):
                await ws.send('[2,"f%d","Heartbeat",{}]' % n)
        sending = asyncio.create_task(send())
        for _ in range(count):
            await ws.recv()
        await sending
    print(count)

asyncio.run(main(sys.argv[1], int(sys.argv[2])))
"""


async def call_flood(count: int = 100_000) -> None:
    """A station (in its own process) sends CALLs as fast as it can."""
    async with _central() as (central, _):
        url = f"ws://127.0.0.1:{central.port}/CP-FLOOD"
        before = _rss_mib()
        peak = before
        flooder = await asyncio.create_subprocess_exec(
            sys.executable, "-c", _FLOODER, url, str(count), stdout=asyncio.subprocess.PIPE
        )
        assert flooder.stdout is not None
        finished = asyncio.create_task(flooder.stdout.read())
        checks: list[str] = []
        latencies: list[float] = []
        started_at = time.perf_counter()
        while not finished.done():
            started = time.perf_counter()
            checks.append(await _good_station_fine(central))
            latencies.append(time.perf_counter() - started)
            peak = max(peak, _rss_mib())
            await asyncio.wait({finished}, timeout=0.1)
        took = time.perf_counter() - started_at
        answered = int((await finished).decode().strip() or 0)
        await flooder.wait()
        after = _rss_mib()
        hurt = sum("HURT" in c for c in checks)
        latencies.sort()
        _record(
            "flood of CALLs (Heartbeat)",
            count,
            0,
            f"{answered:,} answered in {took:.1f} s; RSS {before:.0f} -> peak {peak:.0f} ->"
            f" {after:.0f} MiB; the good station reserved {len(checks)}x meanwhile (median"
            f" {latencies[len(latencies) // 2] * 1000:.0f} ms, slowest"
            f" {latencies[-1] * 1000:.0f} ms), hurt {hurt}x",
        )


async def main() -> int:
    logging.basicConfig(level=logging.CRITICAL)
    print(f"{'attack':<34}{'tried':>8}{'refused':>9}  what happened")
    await password_guessing()
    await path_tricks()
    await slowloris()
    await oversized_frames()
    await connection_cap()
    await call_flood()
    tried = sum(r[1] for r in _results[:-1])
    refused = sum(r[2] for r in _results[:-1])
    hurt = sum("HURT" in r[3] for r in _results)
    print(f"refusable attempts: {tried:,} tried, {refused:,} refused; good station hurt: {hurt}")
    return 0 if tried == refused and hurt == 0 else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
