"""Python's cyclic garbage collection, run on the Qt thread only.

The Central System's store has a writer thread, and exports read the database in worker
threads. Python runs its cyclic collector in whichever thread happens to allocate when a
threshold is crossed, so a QObject caught in a reference cycle could be destroyed in one
of those threads; Qt then complains ("Timers cannot be stopped from another thread") or
crashes. Switching automatic collection off and collecting from a timer on the Qt thread
keeps every QObject's end on the thread that owns it.
"""

from __future__ import annotations

import gc
import logging

from PySide6.QtCore import QObject, QTimer

__all__ = ["MainThreadGarbageCollector"]

_log = logging.getLogger(__name__)


class MainThreadGarbageCollector(QObject):
    """Disables automatic collection and collects on the Qt thread every ``interval_ms``."""

    def __init__(self, parent: QObject | None = None, interval_ms: int = 500) -> None:
        super().__init__(parent)
        self._thresholds = gc.get_threshold()
        self._was_enabled = gc.isenabled()
        gc.disable()
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.check)
        self._timer.start()

    def check(self) -> None:
        """Collect the generations whose thresholds are crossed, like gc would."""
        counts = gc.get_count()
        if counts[0] <= self._thresholds[0]:
            return
        generation = 0
        if counts[1] > self._thresholds[1]:
            generation = 1
            if counts[2] > self._thresholds[2]:
                generation = 2
        gc.collect(generation)

    def stop(self) -> None:
        """Collect once more here, and give collection back to Python."""
        self._timer.stop()
        gc.collect()
        if self._was_enabled:
            gc.enable()
