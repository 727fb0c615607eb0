"""A fake Central System for widget tests and the UI benchmark.

It implements the whole :class:`console.central.model.CentralSystemApi` in memory (a test
holds it to the protocol): tests set stations and connectors, and decide what each station
"answers" to ReserveNow / CancelReservation.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from console.central.check.model import (
    CheckOutcome,
    CheckRequest,
    CheckResult,
    CheckStep,
    ReservationSpan,
    StatusPoint,
    StepResult,
    Verdict,
    step_number,
)
from console.central.export import select_trace
from console.central.model import (
    CancelAttempt,
    CancelOutcome,
    ChangeEvent,
    ConnectorChanged,
    ConnectorSnapshot,
    ReservationChanged,
    ReservationRecord,
    ReservationState,
    ReserveRequest,
    StationChanged,
    StationSnapshot,
    TraceAppended,
    TraceDirection,
    TraceEntry,
)
from console.ocpp.enums import ChargePointStatus
from console.ocpp.reservation import CancelReservationStatus, ReservationStatus

_ANSWER_STATES = {
    ReservationStatus.ACCEPTED: ReservationState.ACCEPTED,
    ReservationStatus.FAULTED: ReservationState.FAULTED,
    ReservationStatus.OCCUPIED: ReservationState.OCCUPIED,
    ReservationStatus.REJECTED: ReservationState.REJECTED,
    ReservationStatus.UNAVAILABLE: ReservationState.UNAVAILABLE,
}


def now() -> datetime:
    return datetime.now(UTC)


class FakeCentralSystem:
    """In-memory stand-in for the Central System (same read models, same events)."""

    def __init__(self) -> None:
        self._stations: dict[str, StationSnapshot] = {}
        self._connectors: dict[tuple[str, int], ConnectorSnapshot] = {}
        self._reservations: dict[int, ReservationRecord] = {}
        self._listeners: list[Callable[[ChangeEvent], None]] = []
        self._trace: list[TraceEntry] = []
        self._next_id = 1
        self.answers: dict[str, ReservationStatus] = {}
        """What a station answers to ReserveNow (default Accepted)."""
        self.reserve_calls: list[tuple[str, int, str]] = []
        self.cancel_calls: list[tuple[str, int]] = []
        self.security = 0
        self.upstream: str | None = None
        """Proxy mode's CSMS (None: not proxying)."""

    # --- test controls ---------------------------------------------------------------------

    def emit(self, event: ChangeEvent) -> None:
        if isinstance(event, TraceAppended):
            self._trace.append(event.entry)
        for listener in list(self._listeners):
            listener(event)

    def set_station(self, station_id: str, **fields: object) -> StationSnapshot:
        current = self._stations.get(station_id) or StationSnapshot(
            station_id=station_id, connected=True, state_since=now()
        )
        snapshot = replace(current, **fields)  # type: ignore[arg-type]
        self._stations[station_id] = snapshot
        self.emit(StationChanged(snapshot))
        return snapshot

    def set_connector(self, station_id: str, connector_id: int, **fields: object) -> None:
        current = self._connectors.get((station_id, connector_id)) or ConnectorSnapshot(
            station_id=station_id, connector_id=connector_id
        )
        snapshot = replace(current, status_at=now(), **fields)  # type: ignore[arg-type]
        self._connectors[(station_id, connector_id)] = snapshot
        self.emit(ConnectorChanged(snapshot))

    def add_site(self, stations: int, connectors: int, prefix: str = "CP-") -> list[str]:
        ids = []
        for number in range(1, stations + 1):
            station_id = f"{prefix}{number:02d}"
            ids.append(station_id)
            self.set_station(
                station_id,
                vendor="Acme",
                model="Wallbox 22",
                firmware_version="1.4.2",
                reserve_connector_zero_supported=True,
                number_of_connectors=connectors,
                last_message_at=now(),
                last_heartbeat_at=now(),
                heartbeat_interval=300,
            )
            for connector_id in range(1, connectors + 1):
                self.set_connector(station_id, connector_id, status=ChargePointStatus.AVAILABLE)
        return ids

    def set_reservation(self, record: ReservationRecord) -> None:
        self._reservations[record.reservation_id] = record
        self.emit(ReservationChanged(record))

    # --- CentralSystemApi ------------------------------------------------------------------

    def stations(self) -> list[StationSnapshot]:
        return list(self._stations.values())

    def station(self, station_id: str) -> StationSnapshot | None:
        return self._stations.get(station_id)

    def connectors(self, station_id: str | None = None) -> list[ConnectorSnapshot]:
        return [
            c for c in self._connectors.values() if station_id is None or c.station_id == station_id
        ]

    def reservations(self) -> list[ReservationRecord]:
        return list(self._reservations.values())

    def reservation(self, station_id: str, reservation_id: int) -> ReservationRecord | None:
        record = self._reservations.get(reservation_id)
        return record if record is not None and record.station_id == station_id else None

    def recent_trace(self, limit: int = 10_000) -> list[TraceEntry]:
        return self._trace[-limit:] if limit > 0 else []

    async def stored_trace(
        self,
        limit: int = 10_000,
        station_id: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> list[TraceEntry]:
        chosen = select_trace(self._trace, station_id, since, until)
        return chosen[-limit:] if limit > 0 else []

    def subscribe(self, listener: Callable[[ChangeEvent], None]) -> Callable[[], None]:
        self._listeners.append(listener)

        def unsubscribe() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return unsubscribe

    def peek_reservation_id(self) -> int:
        return self._next_id

    def urls(self) -> list[str]:
        return ["ws://192.0.2.10:9000/", "ws://127.0.0.1:9000/"]

    @property
    def security_profile(self) -> int:
        return self.security

    @property
    def upstream_url(self) -> str | None:
        return self.upstream

    @property
    def port(self) -> int:
        return 9000

    async def reserve(self, request: ReserveRequest) -> ReservationRecord:
        station_id, connector_id = request.station_id, request.connector_id
        self.reserve_calls.append((station_id, connector_id, request.id_tag))
        reservation_id = request.reservation_id
        if reservation_id is None:
            reservation_id = self._next_id
        self._next_id = max(self._next_id, reservation_id + 1)
        record = ReservationRecord(
            reservation_id=reservation_id,
            station_id=station_id,
            connector_id=connector_id,
            id_tag=request.id_tag,
            parent_id_tag=request.parent_id_tag,
            expiry_date=request.expiry_date,
            created_at=now(),
            state=ReservationState.SENDING,
        )
        self.set_reservation(record)
        await asyncio.sleep(0)
        station = self._stations.get(station_id)
        if station is None or not station.connected:
            record = replace(record, state=ReservationState.OFFLINE, error="station offline")
        else:
            answer = self.answers.get(station_id, ReservationStatus.ACCEPTED)
            record = replace(
                record, state=_ANSWER_STATES[answer], confirmation=answer, latency=0.01
            )
            if answer is ReservationStatus.ACCEPTED and connector_id > 0:
                self.set_connector(
                    station_id,
                    connector_id,
                    status=ChargePointStatus.RESERVED,
                    reservation_id=reservation_id,
                )
        self.set_reservation(record)
        return record

    async def cancel_reservation(self, station_id: str, reservation_id: int) -> CancelOutcome:
        self.cancel_calls.append((station_id, reservation_id))
        await asyncio.sleep(0)
        record = self._reservations.get(reservation_id)
        if record is None or not record.active:
            if record is not None:
                rejected = CancelAttempt(now(), CancelReservationStatus.REJECTED, now())
                self.set_reservation(replace(record, cancel=rejected))
            return CancelOutcome(reservation_id, station_id, CancelReservationStatus.REJECTED)
        accepted = CancelAttempt(now(), CancelReservationStatus.ACCEPTED, now())
        self.set_reservation(replace(record, state=ReservationState.CANCELLED, cancel=accepted))
        if record.connector_id > 0:
            self.set_connector(
                station_id,
                record.connector_id,
                status=ChargePointStatus.AVAILABLE,
                reservation_id=None,
            )
        return CancelOutcome(reservation_id, station_id, CancelReservationStatus.ACCEPTED)


# --- the reservation check ------------------------------------------------------------------


def check_steps(connectors: tuple[int, ...], *, guided: bool = False) -> tuple[StepResult, ...]:
    """Pending steps in the runner's order: steps on the first connector, 6 and 9 station-wide."""
    first = connectors[0] if connectors else 1
    steps: list[StepResult] = []
    # The steps of issue #9 (the probe and the 2.0.1-only step are not in these fakes).
    for step in (s for s in CheckStep if 1 <= step_number(s) <= 9):
        if step is CheckStep.CARDS and not guided:
            continue
        connector_id = None if step in (CheckStep.CONNECTOR_ZERO, CheckStep.SCHEMAS) else first
        steps.append(StepResult(step=step, connector_id=connector_id))
    return tuple(steps)


class FakeCheckRunner:
    """A :class:`~console.central.check.model.CheckRunner` a test drives step by step.

    ``run()`` waits until the test calls :meth:`finish` (or :meth:`fail`); every change the
    test makes is published to the subscribers, as the real runner does.
    """

    def __init__(self, request: CheckRequest) -> None:
        self.request = request
        connectors = tuple(request.connectors)
        self._result = CheckResult(
            check_id=None,
            station_id=request.station_id,
            started_at=now(),
            connectors=connectors,
            id_tag=request.id_tag,
            guided=request.guided,
            steps=check_steps(connectors, guided=request.guided),
        )
        self._listeners: list[Callable[[CheckResult], None]] = []
        self._finished = asyncio.Event()
        self._error: BaseException | None = None
        self.run_started = False
        self.run_returned = False
        self.cancel_calls = 0
        self.skip_calls = 0

    # --- CheckRunner ------------------------------------------------------------------------

    @property
    def result(self) -> CheckResult:
        return self._result

    def subscribe(self, listener: Callable[[CheckResult], None]) -> Callable[[], None]:
        self._listeners.append(listener)

        def unsubscribe() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return unsubscribe

    async def run(self) -> CheckResult:
        self.run_started = True
        await self._finished.wait()
        if self._error is not None:
            raise self._error
        self.run_returned = True
        return self._result

    def cancel(self) -> None:
        self.cancel_calls += 1

    def skip_current_step(self) -> None:
        self.skip_calls += 1

    # --- test controls ----------------------------------------------------------------------

    @property
    def listeners(self) -> int:
        return len(self._listeners)

    def publish(self, result: CheckResult) -> None:
        self._result = result
        for listener in list(self._listeners):
            listener(result)

    def update_step(self, step: CheckStep, **fields: object) -> StepResult:
        """Change one step (the first row of that step) and publish the new result."""
        steps = list(self._result.steps)
        row = next(i for i, s in enumerate(steps) if s.step is step)
        steps[row] = replace(steps[row], **fields)  # type: ignore[arg-type]
        self.publish(replace(self._result, steps=tuple(steps)))
        return steps[row]

    def finish(self, outcome: CheckOutcome | None = None, **fields: object) -> None:
        """Publish the last state and let run() return it (outcome from the verdicts)."""
        steps = tuple(
            replace(s, verdict=Verdict.SKIPPED, reason="not run")
            if s.verdict in (Verdict.PENDING, Verdict.RUNNING)
            else s
            for s in self._result.steps
        )
        if outcome is None:
            failed = any(s.verdict is Verdict.FAILED for s in steps)
            outcome = CheckOutcome.FAILED if failed else CheckOutcome.PASSED
        final = replace(
            self._result,
            steps=steps,
            outcome=outcome,
            finished_at=now(),
            **fields,  # type: ignore[arg-type]
        )
        self.publish(final)
        self._finished.set()

    def fail(self, error: BaseException) -> None:
        """Make run() raise ``error`` (a bug in the runner)."""
        self._error = error
        self._finished.set()


class FakeCheckFactory:
    """A :data:`~console.central.check.model.CheckFactory` that hands out fake runners."""

    def __init__(self) -> None:
        self.runners: list[FakeCheckRunner] = []

    def __call__(self, request: CheckRequest) -> FakeCheckRunner:
        runner = FakeCheckRunner(request)
        self.runners.append(runner)
        return runner

    @property
    def last(self) -> FakeCheckRunner:
        return self.runners[-1]


# --- reservation check results (fabricated, until the runner's own are used) ----------------

CHECK_T0 = datetime(2026, 11, 25, 14, 0, 0, tzinfo=UTC)


def check_trace(station_id: str, at: datetime, seq: int, text: str, **fields: Any) -> TraceEntry:
    """One frame of a check's evidence."""
    return TraceEntry(
        seq=seq, at=at, station_id=station_id, direction=TraceDirection.OUT, text=text, **fields
    )


def sample_check_result(
    station_id: str = "CP-01",
    *,
    check_id: int | None = 1,
    started_at: datetime = CHECK_T0,
    outcome: CheckOutcome = CheckOutcome.FAILED,
    left_behind: tuple[int, ...] = (),
    finished: bool = True,
) -> CheckResult:
    """A whole check of connector 1 (and connector 0), step 7 failed (expiry forgotten)."""
    t0 = started_at

    def at(seconds: float) -> datetime:
        return t0 + timedelta(seconds=seconds)

    verdicts = {
        CheckStep.EXPIRY: (Verdict.FAILED, "still Reserved 20 s after the expiry"),
        CheckStep.CARDS: (Verdict.SKIPPED, "not asked for (guided step)"),
    }
    steps = []
    starts = [0, 6, 10, 14, 18, 26, 34, 80, 82]
    # The nine steps of issue #9 (the probe and the 2.0.1-only step are not in this sample).
    nine = [s for s in CheckStep if 1 <= step_number(s) <= 9]
    for number, step in enumerate(nine):
        verdict, reason = verdicts.get(step, (Verdict.PASSED, "as the rules say"))
        begin = at(starts[number])
        end = at(starts[number + 1] if number + 1 < len(starts) else 84)
        evidence = (
            check_trace(
                station_id,
                begin,
                number * 2 + 1,
                f'[2,"m{number}","ReserveNow",{{"connectorId":1,"reservationId":{100 + number}}}]',
                message_type=2,
                message_id=f"m{number}",
                action="ReserveNow",
            ),
            replace(
                check_trace(
                    station_id,
                    begin + timedelta(milliseconds=40),
                    number * 2 + 2,
                    f'[3,"m{number}",{{"status":"Accepted"}}]',
                    message_type=3,
                    message_id=f"m{number}",
                    action="ReserveNow",
                    latency=0.04,
                ),
                direction=TraceDirection.IN,
            ),
        )
        steps.append(
            StepResult(
                step=step,
                connector_id=None if step is CheckStep.SCHEMAS else 1,
                verdict=verdict,
                reason=reason,
                started_at=begin,
                finished_at=end,
                evidence=evidence if step is not CheckStep.CARDS else (),
            )
        )
    statuses = (
        StatusPoint(at(-2), 1, "Available"),
        StatusPoint(at(1), 1, "Reserved"),
        StatusPoint(at(19), 1, "Available"),
        StatusPoint(at(35), 1, "Reserved"),
        StatusPoint(at(0), 0, "Available"),
    )
    spans = (
        ReservationSpan(101, 1, "CHECK-TAG", at(0.5), at(10.5), "replaced"),
        ReservationSpan(101, 1, "CHECK-TAG-2", at(10.5), at(18.5), "cancelled"),
        ReservationSpan(106, 0, "CHECK-TAG", at(27), at(30), "cancelled"),
        ReservationSpan(
            107,
            1,
            "CHECK-TAG",
            at(34.5),
            at(83) if finished else None,
            "cancelled" if finished else None,
            expiry=at(60),  # step 7's short expiry, which the station forgot
        ),
    )
    return CheckResult(
        check_id=check_id,
        station_id=station_id,
        started_at=t0,
        connectors=(1,),
        id_tag="CHECK-TAG",
        vendor="Acme",
        model="Wallbox 22",
        firmware_version="1.4.2",
        serial_number="SN-0042",
        finished_at=at(84) if finished else None,
        outcome=outcome if finished else CheckOutcome.RUNNING,
        steps=tuple(steps),
        statuses=statuses,
        spans=spans,
        left_behind=left_behind,
    )
