"""Fixtures for window tests: a qasync loop that synchronous pytest-qt tests can drive.

pytest-qt's blocking waits (``waitUntil``, ``waitSignal``) spin a nested Qt event loop. A
qasync loop created with ``already_running=True`` is the running asyncio loop while they
spin, so asyncio tasks (the Central System, the simulator, the window's requests) make
progress inside every qtbot wait, and the test itself stays synchronous. This avoids the
trap of async tests on a qasync loop, where qtbot's waits do not see signals.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Iterator
from typing import Any, TypeVar

import pytest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from console.ui.event_loop import ConsoleEventLoop
from console.ui.garbage import MainThreadGarbageCollector

T = TypeVar("T")


class LoopDriver:
    """Runs coroutines on a qasync loop from a synchronous test, through qtbot waits."""

    def __init__(self, app: QApplication, qtbot: QtBot) -> None:
        self.qtbot = qtbot
        self._app = app
        self.loop = ConsoleEventLoop(app, already_running=True)

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 20.0) -> T:
        """Run ``coro`` to its end while Qt (and asyncio) keep running; return its result."""
        task = self.loop.create_task(coro)
        self.qtbot.waitUntil(task.done, timeout=int(timeout * 1000))
        return task.result()

    def close(self) -> None:
        pending = [t for t in asyncio.all_tasks(self.loop) if not t.done()]
        for task in pending:
            task.cancel()
        if pending:
            self.qtbot.waitUntil(lambda: all(t.done() for t in pending), timeout=10_000)
        self.run(self.loop.shutdown_asyncgens(), timeout=10)
        # Leave "running" without app.exit() (which would end the next qtbot wait at once).
        self.loop._QEventLoop__is_running = False  # type: ignore[attr-defined]
        self._app.aboutToQuit.disconnect(self.loop._after_run_forever)
        asyncio.events._set_running_loop(None)
        self.loop.close()


@pytest.fixture(autouse=True)
def _collect_on_the_qt_thread(qapp: QApplication) -> Iterator[None]:
    # As in the app: a QObject in a reference cycle must not be collected (and destroyed)
    # by the store's writer thread or an export's worker thread.
    collector = MainThreadGarbageCollector()
    yield
    collector.stop()
    collector.deleteLater()


@pytest.fixture
def loop_driver(qapp: QApplication, qtbot: QtBot) -> Iterator[LoopDriver]:
    driver = LoopDriver(qapp, qtbot)
    yield driver
    driver.close()
