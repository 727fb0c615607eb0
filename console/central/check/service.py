"""The check service: owns every reservation check that runs in the application.

Views (the check dialog, the checks panel) ask it to start a check and listen to what it
publishes; they never hold the task that runs it. The composition root builds one
:class:`CheckService` and awaits :meth:`CheckService.stop` on shutdown, before the Central
System stops, so every running check cancels the reservations it made while the station
can still be reached.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass

from console.central.check.model import CheckFactory, CheckRequest, CheckResult, CheckRunner
from console.central.events import Listeners

__all__ = ["CheckEnded", "CheckService", "RunningCheck"]

logger = logging.getLogger(__name__)

STOP_WITHIN = 60.0
"""Seconds :meth:`CheckService.stop` waits for the clean-ups before it cancels the tasks."""


@dataclass(frozen=True, slots=True)
class CheckEnded:
    """A check the service ran has ended (normally after its clean-up)."""

    result: CheckResult
    """Its last state (outcome ``running`` only if it broke or was interrupted)."""
    error: Exception | None = None
    """The runner broke inside the console: reservations it made may still be held."""
    interrupted: bool = False
    """Its task was cancelled (the service stopping and the clean-up taking too long, or
    the loop closing) after the clean-up had its chance."""

    @property
    def completed(self) -> bool:
        """It ran to its end (passed, failed, cancelled or aborted) and cleaned up."""
        return self.error is None and not self.interrupted


class RunningCheck:
    """One check the service runs: follow it, skip its waiting step, ask it to stop.

    Listeners run on the event loop, synchronously, in the order they subscribed.
    """

    def __init__(
        self,
        request: CheckRequest,
        runner: CheckRunner,
        *,
        on_end: Callable[[RunningCheck], None] | None = None,
    ) -> None:
        self.request = request
        self.runner = runner
        self._on_end = on_end
        """Told last, once every listener of this check heard how it ended."""
        self._ended: CheckEnded | None = None
        self._done = asyncio.Event()
        self._cancel_requested = False
        self._end_listeners = Listeners[CheckEnded]()
        self._cancel_listeners = Listeners[RunningCheck]()

    @property
    def station_id(self) -> str:
        return self.request.station_id

    @property
    def result(self) -> CheckResult:
        """The latest state of the run."""
        return self.runner.result

    @property
    def ended(self) -> CheckEnded | None:
        """How it ended (None while it runs)."""
        return self._ended

    @property
    def cancel_requested(self) -> bool:
        return self._cancel_requested

    def subscribe(self, listener: Callable[[CheckResult], None]) -> Callable[[], None]:
        """Call ``listener`` with every new state of the run; returns an unsubscribe."""
        return self.runner.subscribe(listener)

    def subscribe_end(self, listener: Callable[[CheckEnded], None]) -> Callable[[], None]:
        """Call ``listener`` once the check has ended (at once if it already has)."""
        if self._ended is not None:
            listener(self._ended)
            return lambda: None
        return self._end_listeners.subscribe(listener)

    def subscribe_cancel(self, listener: Callable[[RunningCheck], None]) -> Callable[[], None]:
        """Call ``listener`` when someone asks the check to stop (its clean-up starts)."""
        return self._cancel_listeners.subscribe(listener)

    def cancel(self) -> None:
        """Stop after the current exchange; the clean-up runs, then the check ends."""
        if self._cancel_requested or self._ended is not None:
            return
        self._cancel_requested = True
        self.runner.cancel()
        self._cancel_listeners.emit(self)

    def skip_current_step(self) -> None:
        """Give up waiting in the current step (the guided step)."""
        if self._ended is None:
            self.runner.skip_current_step()

    async def wait(self) -> CheckEnded:
        """Wait until it has ended (a cancellation of the caller does not stop the check)."""
        await self._done.wait()
        if self._ended is None:  # pragma: no cover - _done is set only with _ended
            raise RuntimeError("the check has not ended")
        return self._ended

    async def run(self) -> None:
        """Run the check to its end and tell every listener how it ended.

        The service's task runs this, once. Only a cancellation of that task raises
        (``CancelledError``, after the runner's clean-up and the listeners).
        """
        try:
            result = await self.runner.run()
        except asyncio.CancelledError:
            # The runner cleaned up (as far as it could) before it re-raised.
            self._end(CheckEnded(self.runner.result, interrupted=True))
            raise
        except Exception as exc:
            logger.exception("station %s: the reservation check failed", self.station_id)
            self._end(CheckEnded(self.runner.result, error=exc))
            return
        self._end(CheckEnded(result))

    def _end(self, ended: CheckEnded) -> None:
        self._ended = ended
        self._done.set()
        self._end_listeners.emit(ended)
        if self._on_end is not None:
            self._on_end(self)


class CheckService:
    """Starts reservation checks, keeps each running one, and stops them all on shutdown.

    One check per station at a time (two would reserve against each other). ``subscribe()``
    tells of every check that ends, whoever started it.
    """

    def __init__(self, factory: CheckFactory) -> None:
        self._factory = factory
        self._running: dict[str, RunningCheck] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._ended = Listeners[CheckEnded]()

    def start(self, request: CheckRequest) -> RunningCheck:
        """Start a check now, on the running loop (the factory's errors are raised)."""
        loop = asyncio.get_running_loop()
        if self.running_on(request.station_id) is not None:
            raise RuntimeError(f"a reservation check already runs on {request.station_id}")
        check = RunningCheck(request, self._factory(request), on_end=self._forget)
        logger.info(
            "station %s: reservation check started on connectors %s (guided: %s)",
            request.station_id,
            list(request.connectors),
            request.guided,
        )
        self._running[request.station_id] = check
        task = loop.create_task(check.run(), name=f"reservation check of {request.station_id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return check

    def running(self) -> tuple[RunningCheck, ...]:
        """The checks that have not ended yet, in the order they started."""
        return tuple(c for c in self._running.values() if c.ended is None)

    def running_on(self, station_id: str) -> RunningCheck | None:
        """The check running on ``station_id``, if one is."""
        check = self._running.get(station_id)
        return check if check is not None and check.ended is None else None

    def cancel(self, check: RunningCheck) -> None:
        """Ask ``check`` to stop; its clean-up runs, then it ends as cancelled."""
        check.cancel()

    def subscribe(self, listener: Callable[[CheckEnded], None]) -> Callable[[], None]:
        """Call ``listener`` with every check that ends; returns an unsubscribe."""
        return self._ended.subscribe(listener)

    def stop_all(self) -> None:
        """Ask every running check to stop (each cleans up in its own time)."""
        for check in self.running():
            check.cancel()

    async def stop(self, within: float = STOP_WITHIN) -> None:
        """Stop every running check and wait for their clean-ups (before the server stops).

        A clean-up still going after ``within`` seconds is cancelled.
        """
        self.stop_all()
        tasks = set(self._tasks)
        if not tasks:
            return
        try:
            _done, pending = await asyncio.wait(tasks, timeout=within)
        except asyncio.CancelledError:
            for task in tasks:
                task.cancel()
            raise
        for task in pending:
            logger.error("%s: the clean-up took over %.0f s; stopped", task.get_name(), within)
            task.cancel()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)

    def _forget(self, check: RunningCheck) -> None:
        if self._running.get(check.station_id) is check:
            del self._running[check.station_id]
        if check.ended is not None:
            self._ended.emit(check.ended)
