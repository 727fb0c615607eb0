"""Run by test_persistence: a Central System and a bare station in one process, reserving
in a loop and printing each acknowledged reservation, until the test kills it (SIGKILL)."""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import websockets

from console.central.config import CentralSystemConfig
from console.central.server import CentralSystem


async def _answer_everything(websocket: websockets.ClientConnection) -> None:
    async for message in websocket:
        frame = json.loads(message)
        if frame[0] == 2:
            await websocket.send(json.dumps([3, frame[1], {"status": "Accepted"}]))


async def main(data_dir: Path) -> None:
    central = CentralSystem(
        CentralSystemConfig(host="127.0.0.1", port=0, data_dir=data_dir, ping_interval=None)
    )
    await central.start()
    url = f"ws://127.0.0.1:{central.port}/CP-KILL"
    async with websockets.connect(url, subprotocols=["ocpp1.6"]) as websocket:
        answering = asyncio.create_task(_answer_everything(websocket))
        expiry = datetime.now(UTC) + timedelta(hours=1)
        while True:
            record = await central.reserve_now("CP-KILL", 1, "TAG", expiry)
            print(f"{record.reservation_id} {record.state.value}", flush=True)
            if answering.done():
                break


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1])))
