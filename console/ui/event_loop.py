"""The one asyncio loop of the console: qasync's Qt-driven loop, with asyncio's timer contract.

qasync 0.28 departs from asyncio in two ways that break code written for the standard loop
(the Central System and the simulator are):

* ``call_later`` / ``call_at`` return a plain :class:`asyncio.Handle`, without ``when()``;
* the Qt timer behind them counts whole milliseconds (truncated) and is a *coarse* timer,
  which Qt lets fire up to 5 % early — so an expiry timer could run before its moment,
  see nothing due, and never be re-armed.

:class:`ConsoleEventLoop` returns real :class:`asyncio.TimerHandle` objects and never runs a
timed callback before its time (it re-arms for the remainder instead). ``call_soon`` stays
as immediate as before.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Callable
from typing import Any

import qasync

__all__ = ["ConsoleEventLoop"]

# qasync truncates delays to whole milliseconds; one more keeps a timer from firing early.
_QT_TIMER_SLACK = 0.001


class ConsoleEventLoop(qasync.QEventLoop):  # type: ignore[misc]
    """qasync's loop with asyncio-conformant timers (see the module docstring)."""

    def call_soon(
        self,
        callback: Callable[..., Any],
        *args: Any,
        context: contextvars.Context | None = None,
    ) -> asyncio.Handle:
        handle = asyncio.Handle(callback, args, self, context=context)
        self._add_callback(handle, 0)
        return handle

    def call_later(
        self,
        delay: float,
        callback: Callable[..., Any],
        *args: Any,
        context: contextvars.Context | None = None,
    ) -> asyncio.TimerHandle:
        return self.call_at(self.time() + max(0.0, delay), callback, *args, context=context)

    def call_at(
        self,
        when: float,
        callback: Callable[..., Any],
        *args: Any,
        context: contextvars.Context | None = None,
    ) -> asyncio.TimerHandle:
        timer = asyncio.TimerHandle(when, callback, args, self, context=context)
        self._arm(timer)
        return timer

    def _arm(self, timer: asyncio.TimerHandle) -> None:
        remaining = timer.when() - self.time()
        trigger = asyncio.Handle(self._fire, (timer,), self)
        self._add_callback(trigger, max(0.0, remaining) + _QT_TIMER_SLACK if remaining > 0 else 0)

    def _fire(self, timer: asyncio.TimerHandle) -> None:
        if timer.cancelled():
            return
        if self.time() < timer.when():
            self._arm(timer)  # the Qt timer came early: wait for the rest
            return
        timer._run()
