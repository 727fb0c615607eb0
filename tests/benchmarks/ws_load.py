"""A load generator for the Central System benchmarks that costs as little CPU as possible.

Each station is an :class:`asyncio.Protocol` on a raw socket that speaks just enough of
RFC 6455 (the opening handshake, unfragmented text frames, ping/pong, close). No
``websockets`` and no coroutine per message: an answer arrives in ``data_received`` and
the station's next message is written from there, so one core drives tens of thousands of
messages per second. That matters because the load must never be what limits the figures:
the benchmark shows it by driving a bare websockets + json server much faster than the
servers it compares.

Frames the station sends are masked with the all-zero key (allowed by RFC 6455 section
5.3, which asks only that a client mask; the server unmasks with any key), so the payload
goes out as it is and masking costs nothing.

Messages (``mix``):

* ``plain``: StatusNotification, Heartbeat and MeterValues (one sampled value) in turn;
  the status alternates Available / Preparing over two connectors (the original bench).
* ``site``: out of every five messages three StatusNotification whose status changes every
  time (Available -> Preparing -> Charging -> Available ...), one Heartbeat and one
  MeterValues with ten sampled values.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import random
import struct
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

__all__ = ["MIXES", "LoadCounts", "run_load"]

MIXES = ("plain", "site")

_ANSWERS: dict[str, Any] = {
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
_STATUS_CYCLE = ("Available", "Preparing", "Charging")
_MEASURANDS = (
    ("Energy.Active.Import.Register", "Wh"),
    ("Power.Active.Import", "W"),
    ("Current.Import", "A"),
    ("Voltage", "V"),
    ("Temperature", "Celsius"),
    ("SoC", "Percent"),
    ("Current.Offered", "A"),
    ("Power.Offered", "W"),
    ("Frequency", None),
    ("Energy.Active.Export.Register", "Wh"),
)
_MASK = b"\x00\x00\x00\x00"


def _stamp() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class _Clock:
    """The timestamp the stations put in their messages, taken once a second (cheap)."""

    def __init__(self) -> None:
        self.text = _stamp()
        self._handle: asyncio.TimerHandle | None = None

    def start(self) -> None:
        self.text = _stamp()
        self._handle = asyncio.get_running_loop().call_later(1.0, self.start)

    def stop(self) -> None:
        if self._handle is not None:
            self._handle.cancel()


@dataclass
class LoadCounts:
    """What the stations saw; only answers inside the window count."""

    answered: int = 0
    errors: int = 0
    window_start: float = float("inf")
    window_end: float = float("inf")
    latencies: list[float] = field(default_factory=list)


def _frame(text: str) -> bytes:
    """A masked (all-zero key) client text frame."""
    payload = text.encode()
    size = len(payload)
    if size < 126:
        header = struct.pack("!BB", 0x81, 0x80 | size)
    elif size < 65536:
        header = struct.pack("!BBH", 0x81, 0x80 | 126, size)
    else:
        header = struct.pack("!BBQ", 0x81, 0x80 | 127, size)
    return header + _MASK + payload


def _control(opcode: int, payload: bytes = b"") -> bytes:
    return struct.pack("!BB", 0x80 | opcode, 0x80 | len(payload)) + _MASK + payload


class _Station(asyncio.Protocol):
    """One station on a raw socket; sends its next message when the last one is answered
    (``period`` 0), or every ``period`` seconds with one call outstanding at most."""

    def __init__(
        self, index: int, mix: str, counts: LoadCounts, clock: _Clock, period: float
    ) -> None:
        self.station_id = f"BENCH-{index:04d}"
        self._mix = mix
        self._counts = counts
        self._clock = clock
        self._period = period
        self._loop = asyncio.get_running_loop()
        self._transport: asyncio.Transport | None = None
        self._buffer = bytearray()
        self._open = False
        self._handshake: asyncio.Future[None] = self._loop.create_future()
        self._booted: asyncio.Future[None] = self._loop.create_future()
        self._sequence = 0
        self._turn = 0
        self._status = [0, 0]
        self._sent_at = 0.0
        self._outstanding = False
        self._running = False
        self._until = float("inf")
        self._next_send = 0.0
        self.closed: asyncio.Future[None] = self._loop.create_future()

    # --- the connection ----------------------------------------------------------------

    async def open(self, host: str, port: int, path: str) -> None:
        await self._loop.create_connection(lambda: self, host, port)
        key = base64.b64encode(os.urandom(16)).decode()
        assert self._transport is not None
        self._transport.write(
            (
                f"GET {path}{self.station_id} HTTP/1.1\r\nHost: {host}:{port}\r\n"
                "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
                "Sec-WebSocket-Protocol: ocpp1.6\r\n\r\n"
            ).encode()
        )
        await asyncio.wait_for(self._handshake, 60)
        self._send_call(
            "BootNotification", {"chargePointVendor": "Bench", "chargePointModel": "Load"}
        )
        await asyncio.wait_for(self._booted, 60)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport

    def connection_lost(self, exc: Exception | None) -> None:
        for future in (self._handshake, self._booted, self.closed):
            if not future.done():
                future.set_result(None)
        if self._running and self._loop.time() < self._counts.window_end:
            self._counts.errors += 1
        self._running = False

    def close(self) -> None:
        self._running = False
        if self._transport is not None and not self._transport.is_closing():
            self._transport.write(_control(0x8, struct.pack("!H", 1000)))
            self._transport.close()

    def data_received(self, data: bytes) -> None:
        buffer = self._buffer
        buffer += data
        if not self._open:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            status_line = bytes(buffer[: buffer.find(b"\r\n")])
            del buffer[: end + 4]
            if b" 101 " not in status_line:
                raise ConnectionError(f"{self.station_id}: handshake refused: {status_line!r}")
            self._open = True
            self._handshake.set_result(None)
        while len(buffer) >= 2:
            opcode = buffer[0] & 0x0F
            size = buffer[1] & 0x7F
            start = 2
            if size == 126:
                if len(buffer) < 4:
                    return
                size = struct.unpack_from("!H", buffer, 2)[0]
                start = 4
            elif size == 127:
                if len(buffer) < 10:
                    return
                size = struct.unpack_from("!Q", buffer, 2)[0]
                start = 10
            end = start + size
            if len(buffer) < end:
                return
            payload = bytes(buffer[start:end])
            del buffer[:end]
            if opcode == 0x1:
                self._on_text(payload)
            elif opcode == 0x9:
                assert self._transport is not None
                self._transport.write(_control(0xA, payload))
            elif opcode == 0x8:
                assert self._transport is not None
                self._transport.close()
                return

    # --- messages ----------------------------------------------------------------------

    def _on_text(self, payload: bytes) -> None:
        if payload.startswith(b"[2"):
            frame = json.loads(payload)
            answer = json.dumps([3, frame[1], _ANSWERS.get(frame[2], {})])
            assert self._transport is not None
            self._transport.write(_frame(answer))
            return
        # One call outstanding: any answer is the answer to it.
        self._outstanding = False
        if not self._booted.done():
            self._booted.set_result(None)
            return
        now = self._loop.time()
        counts = self._counts
        if not payload.startswith(b"[3"):
            counts.errors += 1
        elif counts.window_start <= now < counts.window_end:
            counts.answered += 1
            counts.latencies.append(now - self._sent_at)
        if self._running and not self._period:
            self._send_next()

    def _send_call(self, action: str, payload: dict[str, Any]) -> None:
        self._sequence += 1
        assert self._transport is not None
        self._outstanding = True
        self._sent_at = self._loop.time()
        self._transport.write(_frame(json.dumps([2, str(self._sequence), action, payload])))

    def start(self, until: float) -> None:
        """Send until ``until`` (loop time)."""
        self._running = True
        self._until = until
        if self._period:
            self._next_send = self._loop.time() + random.random() * self._period
            self._loop.call_at(self._next_send, self._tick)
        else:
            self._send_next()

    def _tick(self) -> None:
        if not self._running:
            return
        self._next_send += self._period
        if not self._outstanding:
            self._send_next()
        if self._running:
            self._loop.call_at(self._next_send, self._tick)

    def _send_next(self) -> None:
        if self._loop.time() >= self._until or self._transport is None:
            self._running = False
            return
        action, payload = self._message()
        self._send_call(action, payload)

    def _message(self) -> tuple[str, dict[str, Any]]:
        turn = self._turn
        self._turn += 1
        if self._mix == "plain":
            return _plain_message(turn, self._clock.text)
        kind = turn % 5
        if kind in (0, 1, 3):
            connector = 1
            self._status[0] = (self._status[0] + 1) % len(_STATUS_CYCLE)
            return "StatusNotification", {
                "connectorId": connector,
                "errorCode": "NoError",
                "status": _STATUS_CYCLE[self._status[0]],
                "timestamp": self._clock.text,
            }
        if kind == 2:
            return "Heartbeat", {}
        return "MeterValues", {
            "connectorId": 1,
            "meterValue": [
                {
                    "timestamp": self._clock.text,
                    "sampledValue": [
                        _sampled(measurand, unit, turn + i)
                        for i, (measurand, unit) in enumerate(_MEASURANDS)
                    ],
                }
            ],
        }


def _sampled(measurand: str, unit: str | None, value: int) -> dict[str, str]:
    sampled = {
        "value": str(value),
        "context": "Sample.Periodic",
        "measurand": measurand,
        "location": "Outlet",
    }
    if unit is not None:
        sampled["unit"] = unit
    return sampled


def _plain_message(turn: int, stamp: str) -> tuple[str, dict[str, Any]]:
    kind = turn % 3
    if kind == 0:
        return "StatusNotification", {
            "connectorId": 1 + turn % 2,
            "errorCode": "NoError",
            "status": "Available" if turn % 2 else "Preparing",
            "timestamp": stamp,
        }
    if kind == 1:
        return "Heartbeat", {}
    return "MeterValues", {
        "connectorId": 1,
        "meterValue": [
            {
                "timestamp": stamp,
                "sampledValue": [
                    {"value": str(1000 + turn), "measurand": "Energy.Active.Import.Register"}
                ],
            }
        ],
    }


async def run_load(
    url: str,
    stations: int,
    *,
    mix: str,
    rate: float,
    warmup: float,
    duration: float,
) -> dict[str, Any]:
    """Connect and boot ``stations``, then load the server; returns what they counted.

    ``rate`` 0: each station sends its next message as soon as the last is answered.
    """
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    path = parts.path if parts.path.endswith("/") else parts.path + "/"
    loop = asyncio.get_running_loop()
    counts = LoadCounts()
    clock = _Clock()
    clock.start()
    period = 1.0 / rate if rate > 0 else 0.0
    fleet = [_Station(i, mix, counts, clock, period) for i in range(stations)]
    gate = asyncio.Semaphore(50)

    async def bring_up(station: _Station) -> None:
        async with gate:
            await station.open(host, port, path)

    await asyncio.gather(*(bring_up(s) for s in fleet))
    counts.window_start = loop.time() + warmup
    counts.window_end = counts.window_start + duration
    # Keep the load on a little past the window so the server's window sees it too.
    until = counts.window_end + 2.0
    cpu_before, started = _cpu_seconds(), loop.time()
    for station in fleet:
        station.start(until)
    await asyncio.sleep(until - loop.time())
    cpu, elapsed = _cpu_seconds() - cpu_before, loop.time() - started
    clock.stop()
    for station in fleet:
        station.close()
    await asyncio.wait([asyncio.ensure_future(s.closed) for s in fleet], timeout=10)
    latencies = sorted(counts.latencies)
    return {
        "msgs_per_s": counts.answered / duration,
        "errors": counts.errors,
        "p50_ms": _at(latencies, 0.50) * 1000,
        "p99_ms": _at(latencies, 0.99) * 1000,
        "load_cpu_percent": 100 * cpu / elapsed,
    }


def _cpu_seconds() -> float:
    times = os.times()
    return times.user + times.system


def _at(ordered: list[float], share: float) -> float:
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))]
