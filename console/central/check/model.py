"""What a reservation conformance check found: plain immutable records (no I/O).

A :class:`CheckResult` is one run of the check against one station: the station's identity
when it ran, the connectors and idTag used, one :class:`StepResult` per step (with the
frames that prove its verdict), and a timeline (connector statuses and reservation spans)
for the picture in the window and the report. The runner
(:mod:`console.central.check.runner`) publishes a new ``CheckResult`` after every
change, so a view only ever replaces its copy. :class:`CheckRequest` and
:class:`CheckOptions` are what a run is asked to do and how it is timed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from console.central.check.references import step_reference, step_title
from console.central.model import TraceEntry
from console.ocpp.versions import OcppVersion

__all__ = [
    "STEPS_V16",
    "STEPS_V201",
    "STEP_TITLES",
    "CheckArchive",
    "CheckFactory",
    "CheckOptions",
    "CheckOutcome",
    "CheckRequest",
    "CheckResult",
    "CheckRunner",
    "CheckStep",
    "ReservationSpan",
    "StatusPoint",
    "StepResult",
    "Verdict",
    "step_number",
]


class CheckStep(StrEnum):
    """The steps of the check (issue #9; the capability probe, 2.0.1 and more: issue #15).

    A step judges the same rule in both versions (1.6 connector, 2.0.1 EVSE); its title and
    its official reference depend on the version (:mod:`console.central.check.references`).
    """

    CAPABILITIES = "capabilities"
    """0. The capability probe (what a test lab's PICS says): what the station can take."""
    RESERVE = "reserve"
    """1. ReserveNow on a free connector -> Accepted, then StatusNotification Reserved."""
    SECOND_RESERVATION = "second_reservation"
    """2. Another idTag and reservationId on the same connector -> Occupied."""
    REPLACE = "replace"
    """3. The same reservationId with another idTag -> Accepted (replaces)."""
    CANCEL_UNKNOWN = "cancel_unknown"
    """4. CancelReservation of an id the station does not hold -> Rejected."""
    CANCEL_HELD = "cancel_held"
    """5. CancelReservation of the held id -> Accepted, then StatusNotification Available."""
    CONNECTOR_ZERO = "connector_zero"
    """6. ReserveNow on connector 0 -> as ``ReserveConnectorZeroSupported`` says."""
    EXPIRY = "expiry"
    """7. A short expiry -> Accepted, Reserved, Available after the expiry by itself."""
    CARDS = "cards"
    """8. (guided) Another card is refused; the reserved card's StartTransaction names it."""
    SCHEMAS = "schemas"
    """9. Every frame the station sent validates against the official schemas."""
    CONNECTOR_TYPE = "connector_type"
    """10. (2.0.1) A reservation for a connectorType the station has -> Accepted."""
    INOPERATIVE = "inoperative"
    """11. (1.6) Inoperative on a reserved connector ends the reservation; Operative ->
    Available."""
    RESERVE_INOPERATIVE = "reserve_inoperative"
    """12. (1.6) ReserveNow on an Inoperative connector -> Unavailable."""
    REMOTE_START_OTHER = "remote_start_other"
    """13. (1.6) A remote start for another idTag on a reserved connector neither charges
    nor drops the reservation."""
    REPLACE_OCCUPIED = "replace_occupied"
    """14. (1.6) A replacement onto a connector reserved by another -> Occupied, the other
    reservation intact."""


STEPS_V16: tuple[CheckStep, ...] = (
    CheckStep.CAPABILITIES,
    CheckStep.RESERVE,
    CheckStep.SECOND_RESERVATION,
    CheckStep.REPLACE,
    CheckStep.CANCEL_UNKNOWN,
    CheckStep.CANCEL_HELD,
    CheckStep.CONNECTOR_ZERO,
    CheckStep.EXPIRY,
    CheckStep.CARDS,
    CheckStep.SCHEMAS,
    CheckStep.INOPERATIVE,
    CheckStep.RESERVE_INOPERATIVE,
    CheckStep.REMOTE_START_OTHER,
    CheckStep.REPLACE_OCCUPIED,
)
"""The 1.6 steps by number (0-9, 11-14; the steps of issue #9 keep their numbers 1-9)."""

STEPS_V201: tuple[CheckStep, ...] = (
    *STEPS_V16[: STEPS_V16.index(CheckStep.SCHEMAS) + 1],
    CheckStep.CONNECTOR_TYPE,
)
"""The 2.0.1 steps by number: the same rule has the same number in both versions."""


def steps_of(version: OcppVersion) -> tuple[CheckStep, ...]:
    """The steps a check of a station of ``version`` can plan."""
    return STEPS_V201 if version is OcppVersion.V201 else STEPS_V16


def step_number(step: CheckStep) -> int:
    """The number of ``step``, as the issue, the window and the report count them (the
    same in both versions: 0 is the probe, 1-9 the steps of issue #9)."""
    return list(CheckStep).index(step)


STEP_TITLES: dict[CheckStep, str] = {
    step: step_title(step.value, OcppVersion.V16) for step in STEPS_V16
}
"""What the window, the report and the command line call each 1.6 step (see
:func:`~console.central.check.references.step_title` for both versions)."""


class Verdict(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    PASSED = "passed"
    FAILED = "failed"
    SKIPPED = "skipped"
    NOT_APPLICABLE = "n/a"
    """The station cannot take this step (its capabilities say so; the reason says which).
    Neither a pass nor a fail."""


class CheckOutcome(StrEnum):
    """How a whole run ended (``running`` while it runs)."""

    RUNNING = "running"
    PASSED = "passed"
    """Every step that ran passed (skipped and N/A steps do not fail a check)."""
    FAILED = "failed"
    """At least one step failed."""
    CANCELLED = "cancelled"
    """The technician (or a signal) stopped it; what ran is kept, the rest is skipped."""
    ABORTED = "aborted"
    """It could not go on (the station disconnected, no Available connector, ...)."""


@dataclass(frozen=True, slots=True)
class StepResult:
    """One step on one connector (or on the station: connector_id None)."""

    step: CheckStep
    connector_id: int | None
    verdict: Verdict = Verdict.PENDING
    reason: str = ""
    """Why this verdict, in one line a technician understands."""
    prompt: str | None = None
    """While a guided step waits for the technician: what to do at the station."""
    started_at: datetime | None = None
    finished_at: datetime | None = None
    evidence: tuple[TraceEntry, ...] = ()
    """The frames (in and out) of this station while the step ran, in order."""
    ocpp_version: OcppVersion = OcppVersion.V16
    """The version of the station it ran against (its title and reference follow it)."""

    @property
    def number(self) -> int:
        return step_number(self.step)

    @property
    def title(self) -> str:
        return step_title(self.step.value, self.ocpp_version)

    @property
    def reference(self) -> str:
        """The official test case and requirement this step stands for (one line)."""
        return step_reference(self.step.value, self.ocpp_version)


@dataclass(frozen=True, slots=True)
class StatusPoint:
    """A StatusNotification the station sent during the check."""

    at: datetime
    connector_id: int
    status: str
    evse_id: int | None = None
    """2.0.1: the EVSE of the connector (None on 1.6)."""


@dataclass(frozen=True, slots=True)
class ReservationSpan:
    """A reservation the check made, from its Accepted answer to its end."""

    reservation_id: int
    connector_id: int
    id_tag: str
    start: datetime
    end: datetime | None
    """None while it is held."""
    ended_by: str | None = None
    """``cancelled``, ``expired``, ``replaced``, ``used``, ... (None while held)."""
    expiry: datetime | None = None
    """The expiryDate the check sent (None in results stored before it was kept)."""


@dataclass(frozen=True, slots=True)
class CheckResult:
    """One run of the reservation check against one station."""

    check_id: int | None
    """The database id (None until it is first stored)."""
    station_id: str
    started_at: datetime
    connectors: tuple[int, ...]
    id_tag: str
    vendor: str | None = None
    model: str | None = None
    firmware_version: str | None = None
    serial_number: str | None = None
    finished_at: datetime | None = None
    outcome: CheckOutcome = CheckOutcome.RUNNING
    reason: str = ""
    """Why it was aborted or cancelled (empty otherwise)."""
    steps: tuple[StepResult, ...] = ()
    statuses: tuple[StatusPoint, ...] = ()
    spans: tuple[ReservationSpan, ...] = ()
    guided: bool = False
    left_behind: tuple[int, ...] = field(default=())
    """Reservation ids the clean-up could not cancel (should be empty; shown loudly)."""
    ocpp_version: OcppVersion = OcppVersion.V16
    """The station's version when it ran (1.6 in results stored before 2.0.1 was checked);
    on 2.0.1 ``connectors`` are EVSE ids."""
    through_proxy: bool = False
    """Proxy mode: the station was carried on to the site's CSMS while the check ran (its
    calls took turns with the CSMS's)."""

    @property
    def failed_steps(self) -> tuple[StepResult, ...]:
        return tuple(s for s in self.steps if s.verdict is Verdict.FAILED)


@dataclass(frozen=True, slots=True)
class CheckRequest:
    """What the technician asked for in the dialog (or on the command line)."""

    station_id: str
    connectors: Sequence[int]
    id_tag: str
    guided: bool = False
    """Also run step 8, which waits for the technician to present cards at the station."""


@dataclass(frozen=True, slots=True)
class CheckOptions:
    """Timings of the check (the settings give the first two)."""

    step_timeout: float = 10.0
    """Seconds each step waits for an answer or a StatusNotification."""
    expiry_seconds: float = 20.0
    """How far ahead the expiry of step 7's reservation lies."""
    guided_timeout: float = 180.0
    """Seconds the guided step waits for the technician at the station."""
    other_id_tag: str | None = None
    """The idTag of steps 2 and 3 (default: derived from the request's idTag)."""


class CheckRunner(Protocol):
    """One run of the check, as the window drives it (a fake can stand in for it in tests)."""

    @property
    def result(self) -> CheckResult:
        """The latest state of the run."""
        ...

    def subscribe(self, listener: Callable[[CheckResult], None]) -> Callable[[], None]:
        """Call ``listener`` with every new state of the run; returns an unsubscribe."""
        ...

    async def run(self) -> CheckResult:
        """Run every step, clean up, store the result and return it.

        After :meth:`cancel` it still returns (outcome ``cancelled``), once the clean-up is
        done; only a cancellation of the task itself raises ``CancelledError`` (after the
        clean-up).
        """
        ...

    def cancel(self) -> None:
        """Stop after the current exchange, cancel every reservation made, then finish."""
        ...

    def skip_current_step(self) -> None:
        """Give up waiting in the current step (the guided step: "I cannot present cards")."""
        ...


CheckFactory = Callable[[CheckRequest], CheckRunner]
"""How the window gets a runner (the composition root binds it to the Central System)."""


class CheckArchive(Protocol):
    """Where the window reads the stored results (the Central System is one)."""

    def checks(self) -> list[CheckResult]:
        """Every stored run, oldest first."""
        ...
