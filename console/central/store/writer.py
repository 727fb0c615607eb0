"""The store's one writer thread: it commits whatever has queued up in one transaction.

A burst of frames becomes one commit, not thousands. Writes a caller awaits (reservation
saves, check runs, the id counter) go in an urgent lane that skips ahead of queued trace
lines. When the disk fails, the writer sets :attr:`Writer.error`, calls ``on_error`` once
per new problem, keeps the important writes in memory to retry them every few seconds,
drops trace lines, and releases every waiter so nobody hangs.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import queue
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from console.central.store.writes import (
    AppendTrace,
    Barrier,
    Op,
    RaiseCounter,
    SaveCheck,
    SaveReservation,
    Urgent,
    Waiter,
    coalesce,
    commit,
    done_future,
    release,
)

__all__ = ["Writer"]

logger = logging.getLogger(__name__)

_BATCH_MAX: Final = 5_000
"""Most queued writes (trace lines counted one by one) committed in one transaction, about
(bounds one commit's time)."""
_RETRY_INTERVAL: Final = 2.0
"""Seconds between attempts to write again after the disk failed."""
_RETRY_BUFFER_MAX: Final = 100_000
"""Most writes kept in memory for a retry while the disk fails; older ones are dropped."""
_JOIN_TIMEOUT: Final = 60.0


@dataclass(slots=True)
class _Stop:
    pass


@dataclass(slots=True)
class _Wake:
    """Wakes the writer for what waits in the urgent lane."""


_Queued = Op | _Stop | _Wake
_WAKE: Final = _Wake()


@dataclass(slots=True)
class _WriterState:
    """What only the writer thread touches."""

    degraded_since: float | None = None
    retry: list[Op] = field(default_factory=list)
    dropped_trace: int = 0


class Writer:
    """The thread that owns the writing connection and commits queued writes in batches.

    :meth:`submit` only queues (the event loop never waits on the disk);
    :meth:`submit_awaited` and :meth:`submit_for_future` tell the caller once the write is
    committed, or given up.
    """

    def __init__(
        self,
        path: Path,
        connection: sqlite3.Connection,
        *,
        trace_limit: int,
        on_error: Callable[[str], None] | None,
        lasting_error: str | None = None,
    ) -> None:
        self._path = path
        self._db = connection
        self._trace_limit = max(1, trace_limit)
        self._on_error = on_error
        self._queue: queue.SimpleQueue[_Queued] = queue.SimpleQueue()
        # Reservation saves and counter raises are awaited by a caller: they skip ahead of
        # queued trace lines (a flooding station may queue tens of thousands), so an
        # acknowledgement waits for one batch at most, not for the whole backlog.
        self._urgent: collections.deque[Urgent] = collections.deque()
        self._error = lasting_error
        self._lasting_error = lasting_error
        """What :attr:`error` returns to after a recovery (an in-memory store's reason)."""
        self._error_lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        with contextlib.suppress(RuntimeError):  # opened from a coroutine: report on its loop
            self._loop = asyncio.get_running_loop()
        # Taken briefly by every submit, so nothing can be queued behind the stop marker.
        self._accepting = True
        self._submit_lock = threading.Lock()
        self._state = _WriterState()
        self._thread = threading.Thread(
            target=self._run, name=f"store-writer:{path.name}", daemon=True
        )
        self._thread.start()

    @property
    def error(self) -> str | None:
        """Why writes are not reaching the disk right now (None when they are)."""
        return self._error

    # --- queueing ----------------------------------------------------------------------

    def running_loop(self) -> asyncio.AbstractEventLoop | None:
        """The caller's running loop, if any (``on_error`` is called on it from now on)."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return None
        self._loop = loop
        return loop

    def submit(self, op: Op) -> bool:
        """Queue ``op``; False (its waiter released) when the writer no longer accepts."""
        with self._submit_lock:
            if self._accepting:
                if isinstance(op, SaveReservation | SaveCheck | RaiseCounter):
                    self._urgent.append(op)
                    self._queue.put(_WAKE)
                else:
                    self._queue.put(op)
                return True
        logger.warning("A write to the closed database at %s was dropped", self._path)
        release((op,))
        return False

    async def submit_awaited(self, op: Urgent | None) -> None:
        """Queue ``op`` (None: a barrier) and return once it is committed or given up."""
        loop = self.running_loop()
        waiter = Waiter(loop)
        if op is None:
            queued: Op = Barrier(waiter)
        else:
            op.waiter = waiter
            queued = op
        if self.submit(queued):
            if loop is None:  # pragma: no cover - an async method always has a loop
                waiter.wait()
                return
            await waiter.future

    def submit_for_future(self, op: SaveReservation | AppendTrace) -> asyncio.Future[None]:
        """Queue ``op``; the future resolves once it is committed or given up.

        Called without a running event loop, this waits for the commit and returns a
        future that is already done.
        """
        loop = self.running_loop()
        waiter = Waiter(loop)
        op.waiter = waiter
        if not self.submit(op):
            return done_future(loop)
        if loop is None:
            waiter.wait()
            return done_future(None)
        return waiter.future

    def stop(self) -> None:
        """Commit what is queued and stop the thread (the connection is closed with it)."""
        with self._submit_lock:
            self._accepting = False
            self._queue.put(_Stop())
        self._thread.join(_JOIN_TIMEOUT)
        if self._thread.is_alive():
            logger.error("The database writer for %s did not stop in time", self._path)
        else:
            self._drain_unwritten()

    # --- the thread --------------------------------------------------------------------

    def _run(self) -> None:
        db = self._db
        try:
            stopping = False
            while not stopping:
                timeout = _RETRY_INTERVAL if self._state.retry else None
                try:
                    first = self._queue.get(timeout=timeout)
                except queue.Empty:
                    self._write([])  # only the retry buffer
                    continue
                batch: list[Op] = self._take_urgent()
                size = len(batch)
                item: _Queued = first
                while True:
                    if isinstance(item, _Stop):
                        stopping = True
                        break
                    if isinstance(item, _Wake):
                        urgent = self._take_urgent()
                        batch.extend(urgent)
                        size += len(urgent)
                    else:
                        batch.append(item)
                        size += len(item.entries) if isinstance(item, AppendTrace) else 1
                    if size >= _BATCH_MAX:
                        break
                    try:
                        item = self._queue.get_nowait()
                    except queue.Empty:
                        break
                self._write(batch)
            if self._urgent:  # cannot happen (each has a wake-up before the stop); cheap
                self._write(self._take_urgent())
            if self._state.retry:
                self._write([], final=True)
        except Exception:  # a bug here must not leave callers hanging forever
            logger.exception("The database writer for %s failed", self._path)
            self._report_error(f"the database writer for {self._path} failed; see the log")
            with self._submit_lock:
                self._accepting = False
            self._drain_unwritten()
        finally:
            with contextlib.suppress(sqlite3.Error):
                db.close()

    def _take_urgent(self) -> list[Op]:
        taken: list[Op] = []
        while self._urgent:
            taken.append(self._urgent.popleft())
        return taken

    def _drain_unwritten(self) -> None:
        """Release whoever waits on writes that will never be made (the writer is gone)."""
        release(self._take_urgent())
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return
            if not isinstance(item, _Stop | _Wake):
                release((item,))

    def _write(self, batch: list[Op], *, final: bool = False) -> None:
        state = self._state
        now = time.monotonic()
        waiting = state.degraded_since is not None and (now - state.degraded_since) < (
            _RETRY_INTERVAL
        )
        if waiting and not final:
            # The disk failed a moment ago: do not hammer it; keep what matters for later.
            self._keep_for_retry(batch)
            release(batch)
            return
        ops = coalesce([*state.retry, *batch])
        try:
            commit(self._db, ops, self._trace_limit)
        except sqlite3.Error as exc:
            with contextlib.suppress(sqlite3.Error):
                self._db.rollback()
            message = (
                f"cannot write to the database at {self._path}: {exc}; "
                "changes are kept in memory only and will be lost on exit"
            )
            logger.error("%s", message)
            # Error first: whoever a released waiter wakes must see it.
            self._report_error(message)
            state.degraded_since = now
            state.retry = []
            self._keep_for_retry(ops)
        except Exception as exc:
            # Not the disk: something in the data this code cannot write (a bug). Retrying
            # would fail the same way, so the batch is dropped, and the writer lives on.
            with contextlib.suppress(sqlite3.Error):
                self._db.rollback()
            logger.exception("Cannot save %d changes to %s", len(ops), self._path)
            self._report_error(f"cannot save changes to the database at {self._path}: {exc!r}")
        else:
            if state.degraded_since is not None:
                logger.warning(
                    "Writing to the database at %s works again (%d trace lines were lost)",
                    self._path,
                    state.dropped_trace,
                )
                state.dropped_trace = 0
            state.degraded_since = None
            state.retry = []
            with self._error_lock:
                self._error = self._lasting_error
        release(batch)

    def _keep_for_retry(self, ops: Iterable[Op]) -> None:
        state = self._state
        for op in ops:
            if isinstance(op, AppendTrace):
                state.dropped_trace += len(op.entries)
            elif not isinstance(op, Barrier):
                if isinstance(op, SaveReservation | SaveCheck | RaiseCounter) and op.waiter:
                    # Its caller is told now (error says it is not on disk); the retry
                    # is for the disk only.
                    op.waiter.done()
                    op.waiter = None
                state.retry.append(op)
        state.retry = coalesce(state.retry)
        if len(state.retry) > _RETRY_BUFFER_MAX:
            logger.error(
                "%d changes for %s dropped: too many kept in memory",
                len(state.retry) - _RETRY_BUFFER_MAX,
                self._path,
            )
            del state.retry[: len(state.retry) - _RETRY_BUFFER_MAX]

    def _report_error(self, message: str) -> None:
        with self._error_lock:
            if message == self._error:
                return
            self._error = message
        callback = self._on_error
        if callback is None:
            return
        loop = self._loop
        if loop is not None and not loop.is_closed():
            try:
                loop.call_soon_threadsafe(_call_safely, callback, message)
            except RuntimeError:
                pass
            else:
                return
        _call_safely(callback, message)


def _call_safely(callback: Callable[[str], None], message: str) -> None:
    try:
        callback(message)
    except Exception:
        logger.exception("The store's on_error callback failed")
