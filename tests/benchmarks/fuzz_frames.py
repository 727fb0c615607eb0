"""Fuzz the Central System through a real socket: at least 100,000 generated frames.

Run: ``.venv/bin/python tests/benchmarks/fuzz_frames.py [--frames 100000] [--stations 4]``

A real :class:`CentralSystem` (127.0.0.1, port 0, SQLite in a temporary folder) takes
frames from ``--stations`` fuzzing connections at once (valid CALLs and the mutations of
``tests/reliability/strategies.random_frame``: wrong types, missing and extra fields, huge
numbers, deep nesting, lone surrogates, ids longer than 36, unknown actions, answers to
calls never made, broken JSON, binary frames), plus ``--utf8`` connections that each send
one text frame of invalid UTF-8 (the WebSocket layer must close those with 1007). A
well-behaved station keeps reserving all along. It prints: frames sent, CALLERRORs by code,
CALLRESULTs, frames dropped (traced, no answer), crashes (exceptions logged by the
console: must be 0), connections lost that should not be (must be 0), and the watcher's
ReserveNow round trips.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import json
import logging
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import websockets
from websockets.exceptions import ConnectionClosed

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from console.central.config import CentralSystemConfig
from console.central.model import ChangeEvent, ReservationState, TraceAppended
from console.central.server import CentralSystem
from tests.reliability.strategies import random_frame

_WINDOW = 200  # frames in flight per connection before waiting for a marker's answer


class _CrashCounter(logging.Handler):
    """Counts ERROR lines of the console's loggers (an exception it caught and logged)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.startswith(("console", "websockets", "asyncio")):
            self.records.append(record)


class _Tally:
    def __init__(self) -> None:
        self.sent = 0
        self.binary = 0
        self.errors: collections.Counter[str] = collections.Counter()
        self.results = 0
        self.calls_from_console = 0
        self.lost: list[str] = []


async def _fuzz_station(url: str, frames: int, rng: random.Random, tally: _Tally) -> None:
    async with websockets.connect(url, subprotocols=["ocpp1.6"], max_size=None) as websocket:
        marker_answered: dict[str, asyncio.Event] = {}

        async def read() -> None:
            async for message in websocket:
                frame = json.loads(message)
                if frame[0] == 2:
                    tally.calls_from_console += 1
                    await websocket.send(json.dumps([4, frame[1], "NotSupported", "", {}]))
                    continue
                event = marker_answered.pop(frame[1], None)
                if event is not None:
                    event.set()
                    continue
                if frame[0] == 3:
                    tally.results += 1
                else:
                    tally.errors[frame[2]] += 1

        reader = asyncio.create_task(read())
        sent = 0
        batch = 0
        try:
            while sent < frames:
                for _ in range(min(_WINDOW, frames - sent)):
                    frame = random_frame(rng)
                    tally.binary += isinstance(frame, bytes)
                    await websocket.send(frame)
                    sent += 1
                    tally.sent += 1
                batch += 1
                marker = f"marker-{batch}"
                answered = marker_answered[marker] = asyncio.Event()
                await websocket.send(json.dumps([2, marker, "Heartbeat", {}]))
                waiting = asyncio.create_task(answered.wait())
                await asyncio.wait({waiting, reader}, timeout=60, return_when="FIRST_COMPLETED")
                if not answered.is_set():
                    waiting.cancel()
                    tally.lost.append(f"{url}: no answer to {marker} (connection lost?)")
                    return
        except ConnectionClosed as exc:
            tally.lost.append(f"{url}: {exc}")
        finally:
            reader.cancel()


async def _invalid_utf8(url: str) -> int | None:
    """One text frame that is not UTF-8; returns the close code the console sent."""
    async with websockets.connect(url, subprotocols=["ocpp1.6"]) as websocket:
        await websocket.send(b'[2,"u","Heartbeat",{"bad":"\xc3\x28\xff"}]', text=True)
        try:
            await asyncio.wait_for(websocket.recv(), 10)
        except ConnectionClosed as exc:
            return exc.rcvd.code if exc.rcvd is not None else None
    return None


async def _watcher(central: CentralSystem, stop: asyncio.Event, tally: _Tally) -> list[float]:
    """A well-behaved station answering ReserveNow; the console reserves on it all along."""
    url = f"ws://127.0.0.1:{central.port}/CP-WATCH"
    times: list[float] = []
    async with websockets.connect(url, subprotocols=["ocpp1.6"]) as websocket:

        async def answer() -> None:
            async for message in websocket:
                frame = json.loads(message)
                if frame[0] == 2:
                    await websocket.send(json.dumps([3, frame[1], {"status": "Accepted"}]))

        answering = asyncio.create_task(answer())
        while not stop.is_set():
            started = time.perf_counter()
            expiry = datetime.now(UTC) + timedelta(minutes=30)
            record = await central.reserve_now("CP-WATCH", 1, "WATCH", expiry)
            if record.state is not ReservationState.ACCEPTED:
                tally.lost.append(f"CP-WATCH: reservation {record.state.value}: {record.error}")
            times.append(time.perf_counter() - started)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 0.2)
        if answering.done():
            tally.lost.append("CP-WATCH: connection lost")
        answering.cancel()
    return times


async def main(frames: int, stations: int, utf8: int, seed: int) -> int:
    crashes = _CrashCounter()
    logging.getLogger().addHandler(crashes)
    logging.getLogger().setLevel(logging.ERROR)
    loop = asyncio.get_running_loop()
    loop_errors: list[dict[str, object]] = []
    loop.set_exception_handler(lambda _loop, context: loop_errors.append(context))
    with tempfile.TemporaryDirectory() as folder:
        central = CentralSystem(
            CentralSystemConfig(host="127.0.0.1", port=0, data_dir=Path(folder), ping_interval=None)
        )
        await central.start()
        dropped = collections.Counter[str]()

        def on_change(event: ChangeEvent) -> None:
            if isinstance(event, TraceAppended) and event.entry.note:
                note = event.entry.note
                if note.startswith("dropped"):
                    dropped[note.split(":")[1].strip() if ":" in note else note] += 1
                elif note.startswith("answer to no call"):
                    dropped["answer to no call"] += 1

        central.subscribe(on_change)
        tally = _Tally()
        stop = asyncio.Event()
        watcher = asyncio.create_task(_watcher(central, stop, tally))
        rng = random.Random(seed)
        per_station = frames // stations
        started = time.perf_counter()
        await asyncio.gather(
            *(
                _fuzz_station(
                    f"ws://127.0.0.1:{central.port}/CP-FUZZ-{n}",
                    per_station + (frames % stations if n == 0 else 0),
                    random.Random(rng.getrandbits(64)),
                    tally,
                )
                for n in range(stations)
            )
        )
        codes_1007 = [
            await _invalid_utf8(f"ws://127.0.0.1:{central.port}/CP-UTF8-{n}") for n in range(utf8)
        ]
        elapsed = time.perf_counter() - started
        stop.set()
        round_trips = await watcher
        await central.stop()
    crash_count = len(crashes.records) + len(loop_errors)
    not_1007 = [code for code in codes_1007 if code != 1007]
    print(
        f"frames sent:                  {tally.sent:,} ({tally.binary:,} binary) in {elapsed:.1f} s"
    )
    print(f"  + invalid UTF-8 text frames: {utf8} (closed with 1007: {utf8 - len(not_1007)})")
    print(f"CALLRESULTs:                  {tally.results:,}")
    print(f"CALLERRORs by code:           {sum(tally.errors.values()):,}")
    for code, count in tally.errors.most_common():
        print(f"  {code:<30}{count:,}")
    print(f"dropped (traced, no answer):  {sum(dropped.values()):,}")
    for reason, count in dropped.most_common(8):
        print(f"  {reason[:60]:<60}{count:,}")
    print(f"console's calls answered:     {tally.calls_from_console:,}")
    print(
        f"watcher ReserveNow accepted:  {len(round_trips)} (max {max(round_trips) * 1000:.0f} ms)"
    )
    print(f"crashes:                      {crash_count}")
    for record in crashes.records[:5]:
        print(f"  {record.name}: {record.getMessage()[:200]}")
    for context in loop_errors[:5]:
        print(f"  loop: {context.get('message')}")
    print(f"connections lost (should not): {len(tally.lost) + len(not_1007)}")
    for line in tally.lost[:5]:
        print(f"  {line}")
    return 0 if crash_count == 0 and not tally.lost and not not_1007 else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--frames", type=int, default=100_000)
    parser.add_argument("--stations", type=int, default=4)
    parser.add_argument("--utf8", type=int, default=20, help="connections sending invalid UTF-8")
    parser.add_argument("--seed", type=int, default=2026)
    arguments = parser.parse_args()
    sys.exit(
        asyncio.run(main(arguments.frames, arguments.stations, arguments.utf8, arguments.seed))
    )
