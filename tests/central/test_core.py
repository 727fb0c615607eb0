"""The Core profile answers of the Central System."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime

import pytest
import websockets

from console.central import core
from console.central.core import clock_time
from console.central.server import CentralSystem


def test_clock_time_rounds_to_the_nearest_second() -> None:
    assert clock_time(datetime(2026, 1, 1, 12, 0, 0, 499_999, tzinfo=UTC)) == datetime(
        2026, 1, 1, 12, 0, 0, tzinfo=UTC
    )
    assert clock_time(datetime(2026, 1, 1, 12, 0, 0, 500_000, tzinfo=UTC)) == datetime(
        2026, 1, 1, 12, 0, 1, tzinfo=UTC
    )
    assert clock_time(datetime(2026, 12, 31, 23, 59, 59, 900_000, tzinfo=UTC)) == datetime(
        2027, 1, 1, 0, 0, 0, tzinfo=UTC
    )


@pytest.mark.asyncio
async def test_current_time_is_rounded_not_truncated(
    central: CentralSystem, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Stations set their clock from currentTime: 12:00:00.8 must read 12:00:01, not 12:00:00.
    monkeypatch.setattr(core, "_now", lambda: datetime(2026, 1, 1, 12, 0, 0, 800_000, tzinfo=UTC))
    async with websockets.connect(
        f"ws://127.0.0.1:{central.port}/CP-CLOCK", subprotocols=["ocpp1.6"], open_timeout=5
    ) as websocket:
        await websocket.send(
            '[2,"b","BootNotification",{"chargePointVendor":"V","chargePointModel":"M"}]'
        )
        boot = json.loads(await asyncio.wait_for(websocket.recv(), 5))
        while boot[0] != 3:  # the console's own calls after the boot may come first
            boot = json.loads(await asyncio.wait_for(websocket.recv(), 5))
        assert boot[2]["currentTime"] == "2026-01-01T12:00:01Z"
        await websocket.send('[2,"h","Heartbeat",{}]')
        beat = json.loads(await asyncio.wait_for(websocket.recv(), 5))
        while beat[0] != 3 or beat[1] != "h":
            beat = json.loads(await asyncio.wait_for(websocket.recv(), 5))
        assert beat[2]["currentTime"] == "2026-01-01T12:00:01Z"
