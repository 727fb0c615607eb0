"""Cyclic garbage is collected on the Qt thread, never by a worker thread."""

from __future__ import annotations

import gc
import threading

from PySide6.QtCore import QObject

from console.ui.garbage import MainThreadGarbageCollector


class _Cycle(QObject):
    destroyed_in: list[str] = []

    def __init__(self) -> None:
        super().__init__()
        self.me = self  # a reference cycle: only the cyclic collector frees it

    def __del__(self) -> None:
        _Cycle.destroyed_in.append(threading.current_thread().name)


def test_automatic_collection_is_off_and_the_timer_collects_on_the_qt_thread(qtbot) -> None:
    # The autouse fixture already runs one collector; this one checks its own behaviour.
    assert not gc.isenabled()
    collector = MainThreadGarbageCollector(interval_ms=10)
    try:
        _Cycle.destroyed_in.clear()
        _Cycle()
        # Allocation in a worker thread must not free the cycle there.
        worker = threading.Thread(target=lambda: [[] for _ in range(100_000)], name="worker")
        worker.start()
        worker.join()
        assert "worker" not in _Cycle.destroyed_in
        # Enough live allocations to cross the first threshold (freed ones count back down).
        kept = [[] for _ in range(gc.get_threshold()[0] + 10)]
        qtbot.waitUntil(lambda: bool(_Cycle.destroyed_in), timeout=5000)
        assert _Cycle.destroyed_in == [threading.main_thread().name]
        del kept
    finally:
        collector.stop()
        collector.deleteLater()
    gc.disable()  # the autouse fixture's collector is still in charge of this test
