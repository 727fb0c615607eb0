"""Sends ReserveNow / CancelReservation without blocking the window, and reports back."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from PySide6.QtCore import QObject, Signal

from console.central.model import CancelOutcome, CentralSystemApi, ReservationRecord
from console.ui.reservations.reservation_form import ReservationDraft

__all__ = ["ReservationRequests"]

_log = logging.getLogger(__name__)


class ReservationRequests(QObject):
    """Owns the asyncio tasks of the reservation calls the technician starts.

    Each call is a task on the single qasync loop, so the window keeps repainting while a
    station takes its time, and calls to different stations run side by side (a slow station
    holds up only its own calls). Failures inside the console (a bug, a closed Central
    System) are logged and reported through :attr:`sig_request_failed`, never lost.
    """

    sig_reserve_answered = Signal(object)
    """ReservationRecord: ReserveNow finished (answered, refused, timed out or offline)."""
    sig_cancel_answered = Signal(object)
    """CancelOutcome: CancelReservation finished."""
    sig_request_failed = Signal(str)
    """A request could not be made at all; the text says why."""
    sig_reserve_failed = Signal(object, str)
    """ReservationDraft, text: that ReserveNow could not be made at all (also reported on
    :attr:`sig_request_failed`), so the form can free its station."""

    def __init__(self, central: CentralSystemApi, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._central = central
        self._tasks: set[asyncio.Task[Any]] = set()

    def reserve(self, draft: ReservationDraft) -> asyncio.Task[Any]:
        """Start ReserveNow for ``draft``; the answer arrives on :attr:`sig_reserve_answered`."""
        _log.info(
            "%s: reserving connector %d for an idTag (reservation %s)",
            draft.station_id,
            draft.connector_id,
            draft.reservation_id,
        )
        return self._start(
            self._reserve(draft),
            f"Reserving on {draft.station_id}",
            on_failure=lambda text: self.sig_reserve_failed.emit(draft, text),
        )

    def cancel(self, station_id: str, reservation_id: int) -> asyncio.Task[Any]:
        """Start CancelReservation; the outcome arrives on :attr:`sig_cancel_answered`."""
        _log.info("%s: cancelling reservation %d", station_id, reservation_id)
        return self._start(self._cancel(station_id, reservation_id), f"Cancelling on {station_id}")

    def pending(self) -> int:
        return len(self._tasks)

    async def aclose(self) -> None:
        """Cancel what is still running (the window is closing)."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _reserve(self, draft: ReservationDraft) -> None:
        record: ReservationRecord = await self._central.reserve(draft)
        self.sig_reserve_answered.emit(record)

    async def _cancel(self, station_id: str, reservation_id: int) -> None:
        outcome: CancelOutcome = await self._central.cancel_reservation(station_id, reservation_id)
        self.sig_cancel_answered.emit(outcome)

    def _start(
        self,
        work: Coroutine[Any, Any, None],
        what: str,
        on_failure: Callable[[str], None] | None = None,
    ) -> asyncio.Task[Any]:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)

        def finished(done: asyncio.Task[Any]) -> None:
            self._tasks.discard(done)
            if done.cancelled():
                return
            error = done.exception()
            if error is not None:
                _log.error("%s failed", what, exc_info=error)
                text = f"{what} failed: {error or type(error).__name__}"
                self.sig_request_failed.emit(text)
                if on_failure is not None:
                    on_failure(text)

        task.add_done_callback(finished)
        return task
