"""Coalesces the Central System's change events into at most ~10 model updates a second."""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal, SignalInstance

from console.central.model import (
    CentralSystemApi,
    ChangeEvent,
    ConnectorChanged,
    ConnectorRemoved,
    ConnectorSnapshot,
    ReservationChanged,
    ReservationRecord,
    StationChanged,
    StationSnapshot,
    TraceAppended,
    TraceEntry,
)

__all__ = ["ChangeFeed"]

_log = logging.getLogger(__name__)

DEFAULT_FLUSH_INTERVAL_MS = 100
CONNECTOR_CHUNK = 200
ConnectorKey = tuple[str, int | None, int]
"""A connector row: station, EVSE (None on 1.6), connector (``ConnectorSnapshot.key``)."""
SLICE_BUDGET_S = 0.008
"""After this long applying one batch, the rest waits for the next turn of the loop."""


class ChangeFeed(QObject):
    """Subscribes to a :class:`CentralSystemApi` and hands its changes to the models in batches.

    Events are buffered keyed by the row they are about, so a connector that changed 50 times
    in 100 ms costs one row update. A burst of thousands of events a second therefore never
    floods the Qt thread with repaints. Each batch is emitted in a fixed order (stations,
    removed connectors, connectors, reservations, trace) so a connector never refers to a
    station the tree lacks, and a station that changed version loses its old rows first.
    """

    sig_stations = Signal(object)
    """list[StationSnapshot]: the latest snapshot of each station that changed."""
    sig_connectors_removed = Signal(object)
    """list[ConnectorSnapshot]: connectors the station no longer has (it came back speaking
    the other version); emitted before :attr:`sig_connectors` of the same batch."""
    sig_connectors = Signal(object)
    """list[ConnectorSnapshot]: the latest snapshot of each connector that changed."""
    sig_reservations = Signal(object)
    """list[ReservationRecord]: the latest record of each reservation that changed."""
    sig_trace = Signal(object)
    """list[TraceEntry]: new trace entries, oldest first."""
    sig_flushed = Signal()
    """A batch has been applied (the views are up to date)."""

    def __init__(
        self,
        central: CentralSystemApi,
        parent: QObject | None = None,
        *,
        flush_interval_ms: int = DEFAULT_FLUSH_INTERVAL_MS,
    ) -> None:
        super().__init__(parent)
        self._central = central
        self._stations: dict[str, StationSnapshot] = {}
        self._connectors: dict[ConnectorKey, ConnectorSnapshot] = {}
        self._removed: dict[ConnectorKey, ConnectorSnapshot] = {}
        self._reservations: dict[tuple[str, int, object], ReservationRecord] = {}
        self._trace: list[TraceEntry] = []
        self._unsubscribe: Callable[[], None] | None = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._interval_ms = flush_interval_ms
        self._timer.timeout.connect(self.flush)
        self.busy_seconds = 0.0
        """Total time spent applying batches to the models (the benchmark reads it)."""
        self.events_received = 0

    def start(self) -> None:
        """Load the current state and subscribe to every change from now on."""
        for station in self._central.stations():
            self._stations[station.station_id] = station
        for connector in self._central.connectors():
            self._connectors[connector.key] = connector
        for record in self._central.reservations():
            self._reservations[_reservation_key(record)] = record
        self._unsubscribe = self._central.subscribe(self._on_event)
        self.flush(complete=True)

    def stop(self) -> None:
        """Unsubscribe; buffered changes are dropped."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        self._timer.stop()

    def pending(self) -> bool:
        """Changes are waiting for the next flush."""
        return bool(
            self._stations or self._removed or self._connectors or self._reservations or self._trace
        )

    def _on_event(self, event: ChangeEvent) -> None:
        # Called by the Central System on the (single, qasync) event-loop thread.
        self.events_received += 1
        match event:
            case ConnectorChanged(connector=connector):
                # The latest word on a row wins: a change after a removal brings it back.
                self._removed.pop(connector.key, None)
                self._connectors[connector.key] = connector
            case ConnectorRemoved(connector=connector):
                self._connectors.pop(connector.key, None)
                self._removed[connector.key] = connector
            case StationChanged(station=station):
                self._stations[station.station_id] = station
            case ReservationChanged(reservation=record):
                self._reservations[_reservation_key(record)] = record
            case TraceAppended(entry=entry):
                self._trace.append(entry)
        if not self._timer.isActive():
            self._timer.start(self._interval_ms)

    def flush(self, *, complete: bool = False) -> None:
        """Hand the buffered changes to the models.

        Connector changes go in chunks; once a slice has taken :data:`SLICE_BUDGET_S`, the
        rest waits for the next turn of the event loop (``complete`` hands over everything),
        so painting and input never wait behind a huge burst.
        """
        self._timer.stop()
        if not self.pending():
            return
        started = time.perf_counter()
        deadline = started + SLICE_BUDGET_S
        stations = list(self._stations.values())
        self._stations = {}
        self._emit(self.sig_stations, stations)
        removed = list(self._removed.values())
        self._removed = {}
        self._emit(self.sig_connectors_removed, removed)
        while self._connectors:
            chunk = _take(self._connectors, CONNECTOR_CHUNK)
            self._emit(self.sig_connectors, chunk)
            if not complete and time.perf_counter() > deadline:
                break
        reservations = list(self._reservations.values())
        self._reservations = {}
        self._emit(self.sig_reservations, reservations)
        trace, self._trace = self._trace, []
        self._emit(self.sig_trace, trace)
        self.sig_flushed.emit()
        self.busy_seconds += time.perf_counter() - started
        if self._connectors:
            self._timer.start(0)  # the rest right after Qt has painted and handled input

    def _emit(self, signal: SignalInstance, batch: list[Any]) -> None:
        if not batch:
            return
        # A faulty slot must not lose the rest of the batch: each signal is guarded.
        try:
            signal.emit(batch)
        except Exception:
            _log.exception("applying %d changes to the window failed", len(batch))


def _take(buffer: dict[Any, ConnectorSnapshot], count: int) -> list[ConnectorSnapshot]:
    keys = list(itertools.islice(buffer, count))
    return [buffer.pop(key) for key in keys]


def _reservation_key(record: ReservationRecord) -> tuple[str, int, object]:
    # The technician may reuse a reservation id: each attempt (created_at) is its own row.
    return (record.station_id, record.reservation_id, record.created_at)
