"""What a step of the reservation check works with, and what it returns.

The runner makes one :class:`StepContext` per step it runs (frozen: a step changes nothing in
it); the step returns a :class:`StepVerdict`, or a subclass carrying what a later step needs
of it. The reason lines' wording of the station's answers is here, shared by every step.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from console.central.check.calls import StationCalls
from console.central.check.evidence import EvidenceObserver
from console.central.check.model import CheckOptions, Verdict
from console.central.model import (
    CancelOutcome,
    ReservationRecord,
    ReservationState,
    TraceDirection,
    TraceEntry,
)
from console.ocpp.enums import ChargePointStatus
from console.ocpp.frames import MessageType

if TYPE_CHECKING:
    from console.central.server import CentralSystem

__all__ = [
    "CancelUnknownVerdict",
    "ReserveVerdict",
    "SecondReservationVerdict",
    "StepContext",
    "StepVerdict",
    "failed",
    "not_available_now",
    "passed",
    "seconds_text",
    "skipped",
]


def _now() -> datetime:
    return datetime.now(UTC)


def seconds_text(value: float) -> str:
    """A duration as a reason line says it (``2.5 s``, ``12 s``)."""
    return f"{value:g} s" if value < 10 else f"{round(value)} s"


@dataclass(frozen=True, slots=True)
class StepVerdict:
    """What a step found: its verdict and why."""

    verdict: Verdict
    reason: str
    evidence: tuple[TraceEntry, ...] | None = None
    """The frames that prove it, when not simply those of the step's time."""


@dataclass(frozen=True, slots=True)
class ReserveVerdict(StepVerdict):
    """Step 1's verdict, with what steps 2, 3, 5, 6 and 7 need of it."""

    held: int | None = None
    """The reservation the station Accepted (steps 2, 3 and 5 work on it)."""
    rejected: bool = False
    """The station Rejected it (what a station configured not to take reservations says)."""


@dataclass(frozen=True, slots=True)
class CancelUnknownVerdict(StepVerdict):
    """Step 4's verdict, with what step 7 needs of it."""

    accepts_unknown_cancel: bool = False
    """The station answers Accepted to cancelling any id, even one it never got."""


@dataclass(frozen=True, slots=True)
class SecondReservationVerdict(StepVerdict):
    """Step 2's verdict, with what step 14 needs of it."""

    accepts_second: bool = False
    """The station Accepted a second reservation on a reserved connector (then a
    replacement onto one says nothing more)."""


def passed(reason: str) -> StepVerdict:
    return StepVerdict(Verdict.PASSED, reason)


def failed(reason: str) -> StepVerdict:
    return StepVerdict(Verdict.FAILED, reason)


def skipped(reason: str) -> StepVerdict:
    return StepVerdict(Verdict.SKIPPED, reason)


@dataclass(frozen=True, slots=True)
class StepContext:
    """What one step works with (the runner makes one for each step it runs)."""

    system: CentralSystem
    station_id: str
    id_tag: str
    """The request's idTag (the reserved card)."""
    other_id_tag: str
    """The idTag of steps 2 and 3."""
    options: CheckOptions
    observer: EvidenceObserver
    calls: StationCalls
    started_at: datetime
    """When this step started: a call sent before it belongs to an earlier step."""
    show_prompt: Callable[[str], None]
    """Tell the technician what to do at the station (the guided step)."""
    skip_requested: Callable[[], bool]
    """The technician gave up waiting in this step."""

    def expiry_in(self, ahead: timedelta) -> datetime:
        """A moment ``ahead`` from now, in whole seconds (as it travels), rounded up so it is
        never sooner than asked."""
        moment = _now() + ahead
        if moment.microsecond:
            moment = moment.replace(microsecond=0) + timedelta(seconds=1)
        return moment

    def no_answer(self, action: str) -> str:
        """Why a call of this step came back empty-handed within its time limit:
        unanswered, or never sent because an earlier call still waits for its answer (one
        call at a time per direction) -- then this step says nothing about its own rule."""
        limit = seconds_text(self.options.step_timeout)
        sent = any(
            e.direction is TraceDirection.OUT
            and e.message_type == MessageType.CALL
            and e.action == action
            and e.at >= self.started_at
            for e in self.observer.entries
        )
        if sent:
            return f"no answer to {action} within {limit}"
        return (
            f"{action} not even sent within {limit}: the station had not answered an "
            "earlier call yet (one call at a time; a slow station needs a longer step "
            "time limit in the settings)"
        )

    def answer(self, record: ReservationRecord | None) -> str:
        """What the station answered to a ReserveNow, for a reason line."""
        if record is None:
            return self.no_answer("ReserveNow")
        if record.confirmation is not None:
            return f"station answered {record.confirmation.value}"
        if record.state is ReservationState.ERROR:
            error = record.error or "error"
            if "invalid answer" in error:
                return f"station gave an {error.split(': ', 1)[-1]}"
            return f"station answered CALLERROR {error}"
        if record.state is ReservationState.OFFLINE:
            return f"nothing sent: {record.error}"
        return f"no answer ({record.error or 'no answer'})"

    def cancel_answer(self, outcome: CancelOutcome | None) -> str:
        """What the station answered to a CancelReservation, for a reason line."""
        if outcome is None:
            return self.no_answer("CancelReservation")
        if outcome.status is not None:
            return f"station answered {outcome.status.value}"
        if outcome.error_code is not None:
            return f"station answered CALLERROR {outcome.error}"
        return f"no answer ({outcome.error})"


def not_available_now(system: CentralSystem, station_id: str, connector_id: int) -> str | None:
    """Why ``connector_id`` cannot be reserved now (a card may have started charging on
    it during the check), or None when it is Available or its status is unknown."""
    status = next(
        (c.status for c in system.connectors(station_id) if c.connector_id == connector_id),
        None,
    )
    if status is None or status is ChargePointStatus.AVAILABLE:
        return None
    return f"connector {connector_id} is {status.value} now, not Available"
