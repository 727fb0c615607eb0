"""Fixtures: a started Central System on 127.0.0.1, port 0.

The call timeout is generous (a loaded test machine must not time out a normal call);
tests about timeouts pass a short one.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest_asyncio

from console.central.config import CentralSystemConfig
from console.central.server import CentralSystem

StartCentral = Callable[..., Awaitable[CentralSystem]]


@pytest_asyncio.fixture
async def start_central(data_dir: Path) -> AsyncIterator[StartCentral]:
    """Start Central Systems with settings overrides; every one is stopped afterwards."""
    started: list[CentralSystem] = []

    async def start(store: Any = None, **overrides: Any) -> CentralSystem:
        settings: dict[str, Any] = {
            "host": "127.0.0.1",
            "port": 0,
            "data_dir": data_dir,
            "call_timeout": 10.0,
            "ping_interval": None,
        }
        settings.update(overrides)
        central = CentralSystem(CentralSystemConfig(**settings), store=store)
        await central.start()
        started.append(central)
        return central

    yield start
    for central in reversed(started):
        await central.stop()


@pytest_asyncio.fixture
async def central(start_central: StartCentral) -> CentralSystem:
    """A Central System on the real SQLite store, in a temporary folder (what it is told
    to keep goes through the real writer and its commits)."""
    return await start_central()


@pytest_asyncio.fixture
async def impatient_central(start_central: StartCentral) -> CentralSystem:
    """A Central System that waits only 1 s for an answer (for tests about timeouts)."""
    return await start_central(call_timeout=1.0)
