"""Run by test_storage: a Central System whose files may not grow past a limit (as on a
full disk, through RLIMIT_FSIZE), a station filling the trace until writes fail, then a
reservation. Prints one JSON line with what happened."""

from __future__ import annotations

import asyncio
import json
import resource
import signal
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import websockets

from console.central.config import CentralSystemConfig
from console.central.server import CentralSystem


async def _answer(websocket: websockets.ClientConnection, replies: asyncio.Queue[str]) -> None:
    async for message in websocket:
        frame = json.loads(message)
        if frame[0] == 2:
            await websocket.send(json.dumps([3, frame[1], {"status": "Accepted"}]))
        else:
            replies.put_nowait(frame[1])


async def main(data_dir: Path, limit: int) -> None:
    central = CentralSystem(
        CentralSystemConfig(host="127.0.0.1", port=0, data_dir=data_dir, ping_interval=None)
    )
    await central.start()
    # From here on no file may grow past the limit: writes fail with EFBIG, like ENOSPC.
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, resource.RLIM_INFINITY))
    url = f"ws://127.0.0.1:{central.port}/CP-FULL"
    sent = 0
    async with websockets.connect(url, subprotocols=["ocpp1.6"]) as websocket:
        replies: asyncio.Queue[str] = asyncio.Queue()
        answering = asyncio.create_task(_answer(websocket, replies))
        data = "x" * 8000
        while central.store_error is None and sent < 2000:
            sent += 1
            frame = [2, f"dt-{sent}", "DataTransfer", {"vendorId": "fill", "data": data}]
            await websocket.send(json.dumps(frame))
            await asyncio.wait_for(replies.get(), 10)
            if sent % 20 == 0:
                await central.stored_trace(limit=1)  # waits for the writer
        expiry = datetime.now(UTC) + timedelta(minutes=10)
        record = await central.reserve_now("CP-FULL", 1, "TAG", expiry)
        await websocket.send(json.dumps([2, "hb", "Heartbeat", {}]))
        heartbeat = await asyncio.wait_for(replies.get(), 10)
        summary = {
            "frames": sent,
            "store_error": central.store_error,
            "reservation": record.state.value,
            "heartbeat_answered": heartbeat == "hb",
            "connected": central.is_connected("CP-FULL"),
        }
        answering.cancel()
    await central.stop()
    print(json.dumps(summary), flush=True)


if __name__ == "__main__":
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a failed write, not a dead process
    asyncio.run(main(Path(sys.argv[1]), int(sys.argv[2])))
