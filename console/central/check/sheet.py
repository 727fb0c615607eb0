"""The result of a running check as its listeners see it: every change is a new CheckResult.

The runner (:mod:`console.central.check.runner`) decides; this keeps the published
:class:`~console.central.check.model.CheckResult` and the index of the running step, and
turns what the evidence observer sees into the running step's frames and the timeline.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from console.central.check.model import (
    CheckResult,
    CheckStep,
    ReservationSpan,
    StatusPoint,
    Verdict,
)
from console.central.events import Listeners
from console.central.model import ConnectorSnapshot, StationSnapshot, TraceEntry, UpstreamState

__all__ = ["ResultSheet"]


class ResultSheet:
    """The published result of one run, and which step is running."""

    def __init__(self, result: CheckResult, entries: Callable[[], Sequence[TraceEntry]]) -> None:
        self._result = result
        self._entries = entries
        self._listeners = Listeners[CheckResult]()
        self.current: int | None = None
        """The index of the running step."""

    @property
    def result(self) -> CheckResult:
        return self._result

    def subscribe(self, listener: Callable[[CheckResult], None]) -> Callable[[], None]:
        return self._listeners.subscribe(listener)

    def begin(self, station: StationSnapshot, connectors: Sequence[ConnectorSnapshot]) -> None:
        """The station's identity, and what each connector was when the check began, so
        its timeline lane starts with a status (the station reports nothing until
        something changes)."""
        initial = tuple(
            StatusPoint(
                c.status_at or self._result.started_at, c.connector_id, c.status.value, c.evse_id
            )
            for c in connectors
            if c.status is not None
        )
        self.publish(
            vendor=station.vendor,
            model=station.model,
            firmware_version=station.firmware_version,
            serial_number=station.serial_number,
            statuses=(*initial, *self._result.statuses),
            through_proxy=station.upstream is UpstreamState.CONNECTED,
        )

    def publish(self, **changes: Any) -> None:
        self._result = dataclasses.replace(self._result, **changes)
        self._listeners.emit(self._result)

    def set_step(self, index: int, **changes: Any) -> None:
        steps_now = list(self._result.steps)
        steps_now[index] = dataclasses.replace(steps_now[index], **changes)
        self.publish(steps=tuple(steps_now))

    def index(self, step: CheckStep, connector_id: int | None) -> int:
        for index, result in enumerate(self._result.steps):
            if result.step is step and result.connector_id == connector_id:
                return index
        raise LookupError(f"step {step} on {connector_id} is not planned")

    def skip(self, step: CheckStep, connector_id: int | None, reason: str) -> None:
        self.set_step(self.index(step, connector_id), verdict=Verdict.SKIPPED, reason=reason)

    def skip_rest(self, reason: str) -> None:
        skipped = tuple(
            dataclasses.replace(s, verdict=Verdict.SKIPPED, reason=reason, prompt=None)
            if s.verdict in (Verdict.PENDING, Verdict.RUNNING)
            else s
            for s in self._result.steps
        )
        if self.current is not None:
            index = self.current
            skipped = (
                *skipped[:index],
                dataclasses.replace(
                    skipped[index], finished_at=datetime.now(UTC), evidence=self.frames_of(index)
                ),
                *skipped[index + 1 :],
            )
        self.publish(steps=skipped)

    def frames_of(self, index: int) -> tuple[TraceEntry, ...]:
        """The station's frames since step ``index`` started (its evidence)."""
        started = self._result.steps[index].started_at
        if started is None:
            return ()
        return tuple(e for e in self._entries() if e.at >= started)

    def on_frame(self, _entry: TraceEntry, points: tuple[StatusPoint, ...]) -> None:
        changes: dict[str, Any] = {}
        if points:
            changes["statuses"] = (*self._result.statuses, *points)
        if self.current is not None:
            # The running step's frames show as they come (what was sent, what came
            # back), not only once it has its verdict.
            index = self.current
            steps_now = list(self._result.steps)
            steps_now[index] = dataclasses.replace(steps_now[index], evidence=self.frames_of(index))
            changes["steps"] = tuple(steps_now)
        if changes:
            self.publish(**changes)

    def on_spans(self, spans: tuple[ReservationSpan, ...]) -> None:
        self.publish(spans=spans)
