"""Is a station ready to hand over? A verdict with its reasons, from what the console knows.

The commissioning report prints it first, for the site and for each station, so that nobody
signs off a faulted charger: a station is *Ready* only when nothing below speaks against it,
and the site only when every station is. What speaks against a station:

- a connector (or the station, connector 0) whose last status is Faulted or Unavailable;
- a reservation the technician tried that the station refused (Rejected, Faulted, Occupied,
  Unavailable, a CALLERROR, no answer);
- no reservation conformance check, or a latest one that did not pass or left reservations
  behind;
- protocol problems in the trace (CALLERRORs, invalid frames, refused connections, calls left
  without an answer). A call answered late counts once: its timeout and its late answer are
  one problem.

Plain functions over snapshots, records, check results and trace entries: no Qt, no I/O, no
clock (times are the records' own), so the report, the command line and the tests agree.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from console.central.check.model import CheckOutcome, CheckResult
from console.central.model import (
    ConnectorSnapshot,
    ReservationRecord,
    ReservationState,
    TraceDirection,
    TraceEntry,
)
from console.ocpp.enums import ChargePointErrorCode, ChargePointStatus

__all__ = [
    "REFUSED_STATES",
    "ProblemKind",
    "Readiness",
    "Reason",
    "ReasonKind",
    "SiteVerdict",
    "StationVerdict",
    "TraceProblem",
    "by_the_check",
    "is_problem",
    "reservation_outcome",
    "reservation_summary",
    "site_verdict",
    "station_verdict",
    "trace_problems",
]


class Readiness(StrEnum):
    """The verdict itself, spelled as the report prints it."""

    READY = "Ready"
    NEEDS_ATTENTION = "Needs attention"


class ReasonKind(StrEnum):
    """What a reason is about (the report groups and colours by it)."""

    CONNECTOR = "connector"
    RESERVATIONS = "reservations"
    CHECK = "check"
    PROTOCOL = "protocol"
    SITE = "site"


@dataclass(frozen=True, slots=True)
class Reason:
    """One thing that keeps a station from being Ready, in a line a site owner understands."""

    kind: ReasonKind
    text: str
    since: datetime | None = None
    """When it started (a connector's status, the first problem), for the report to print
    in local time."""
    at: datetime | None = None
    """When it happened (a check's run), for the report to print in local time."""


@dataclass(frozen=True, slots=True)
class StationVerdict:
    """One station's verdict: Ready when there is no reason against it."""

    station_id: str
    reasons: tuple[Reason, ...] = ()

    @property
    def readiness(self) -> Readiness:
        return Readiness.NEEDS_ATTENTION if self.reasons else Readiness.READY

    @property
    def ready(self) -> bool:
        return not self.reasons


@dataclass(frozen=True, slots=True)
class SiteVerdict:
    """The verdict of every station in a report: Ready only if each one is (and there is one)."""

    stations: tuple[StationVerdict, ...]

    @property
    def readiness(self) -> Readiness:
        ready = bool(self.stations) and all(s.ready for s in self.stations)
        return Readiness.READY if ready else Readiness.NEEDS_ATTENTION

    @property
    def ready(self) -> bool:
        return self.readiness is Readiness.READY

    @property
    def needing_attention(self) -> tuple[StationVerdict, ...]:
        return tuple(s for s in self.stations if not s.ready)


def site_verdict(stations: Iterable[StationVerdict]) -> SiteVerdict:
    """The site's verdict over its stations' verdicts."""
    return SiteVerdict(tuple(stations))


# --- the trace: one problem per exchange -----------------------------------------------------

_REFUSED_NOTE = "handshake refused"
_CALL, _CALL_RESULT, _CALL_ERROR = 2, 3, 4


class ProblemKind(StrEnum):
    """What went wrong in one exchange (or connection), as the report's "Kind" column says."""

    CONNECTION_REFUSED = "Connection refused"
    LATE_ANSWER = "Late answer"
    """The call timed out, then its answer came (one problem, not two)."""
    REFUSED_CALL = "Refused call"
    """The station sent a call the console answered with a CALLERROR (an invalid frame)."""
    INVALID_ANSWER = "Invalid answer"
    CALL_ERROR = "CALLERROR"
    NO_ANSWER = "No answer"
    INVALID_FRAME = "Invalid frame"
    """A frame that could not be read or matched (dropped)."""


# When one exchange holds several problem lines, the kind that says most wins.
_KIND_ORDER = (
    ProblemKind.CONNECTION_REFUSED,
    ProblemKind.LATE_ANSWER,
    ProblemKind.REFUSED_CALL,
    ProblemKind.INVALID_ANSWER,
    ProblemKind.INVALID_FRAME,
    ProblemKind.CALL_ERROR,
    ProblemKind.NO_ANSWER,
)


@dataclass(frozen=True, slots=True)
class TraceProblem:
    """One problem the trace shows: an exchange that went wrong, or a refused connection."""

    kind: ProblemKind
    entries: tuple[TraceEntry, ...]
    """Its trace lines, oldest first (a late call: the timeout, then the late answer)."""

    @property
    def at(self) -> datetime:
        return self.entries[0].at

    @property
    def station_id(self) -> str:
        return self.entries[0].station_id

    @property
    def message_id(self) -> str | None:
        return self.entries[0].message_id

    @property
    def action(self) -> str | None:
        return next((e.action for e in self.entries if e.action), None)

    @property
    def text(self) -> str:
        """What happened, in one line."""
        return "; ".join(_entry_text(entry) for entry in self.entries)


def _problem_kind(entry: TraceEntry) -> ProblemKind | None:
    """The kind of problem one trace line shows, or None for a line that is fine."""
    if entry.direction is TraceDirection.EVENT:
        if entry.note == _REFUSED_NOTE:
            return ProblemKind.CONNECTION_REFUSED
        # An event about a call: it got no answer (timed out, or the connection went).
        return ProblemKind.NO_ANSWER if entry.message_id is not None else None
    if entry.late:
        return ProblemKind.LATE_ANSWER
    if entry.message_type == _CALL and entry.error_code is not None:
        return ProblemKind.REFUSED_CALL
    if entry.direction is TraceDirection.IN and (
        entry.message_type is None or "dropped" in (entry.note or "")
    ):
        # Unreadable, or an answer to no call: dropped. With an action, it answered one of
        # the console's calls but did not fit it.
        if entry.message_type is None and entry.action and entry.error_code:
            return ProblemKind.INVALID_ANSWER
        return ProblemKind.INVALID_FRAME
    if entry.message_type == _CALL_ERROR:
        return ProblemKind.CALL_ERROR
    if entry.error_code is not None:
        return ProblemKind.INVALID_ANSWER
    return None


def is_problem(entry: TraceEntry) -> bool:
    """Whether this trace line shows a problem (a CALLERROR, a timeout, a late answer, an
    invalid or dropped frame, a refused connection)."""
    return _problem_kind(entry) is not None


def _exchange(entry: TraceEntry) -> tuple[str, str, str] | None:
    """(station, message id, who called): the lines of one call and its answer share it.

    Message ids are unique per sender only, so the station's call "1" and the console's
    call "1" are two exchanges.
    """
    if entry.message_id is None or entry.note == _REFUSED_NOTE:
        return None
    inbound = entry.direction is TraceDirection.IN
    if entry.direction is TraceDirection.EVENT:
        caller = "console"  # timeouts and abandoned calls are the console's calls
    elif entry.message_type == _CALL:
        caller = "station" if inbound else "console"
    elif entry.message_type is None:
        # Unreadable: an answer to a call of the console's (it names the call's action), or
        # a frame of the station's own that the console answers with a CALLERROR.
        caller = "console" if entry.action else "station"
    else:
        caller = "console" if inbound else "station"
    return entry.station_id, entry.message_id, caller


def trace_problems(entries: Iterable[TraceEntry]) -> list[TraceProblem]:
    """The problems in ``entries`` (oldest first), one per exchange that went wrong.

    A call that timed out and was answered late is one problem (kind Late answer) made of
    both lines; a call the console refused and its CALLERROR are one problem too.
    """
    lines: dict[object, list[tuple[ProblemKind, TraceEntry]]] = {}
    for number, entry in enumerate(entries):
        kind = _problem_kind(entry)
        if kind is None:
            continue
        key: object = _exchange(entry)
        lines.setdefault(number if key is None else key, []).append((kind, entry))
    problems = [
        TraceProblem(
            min((kind for kind, _ in found), key=_KIND_ORDER.index),
            tuple(entry for _, entry in found),
        )
        for found in lines.values()
    ]
    return sorted(problems, key=lambda p: p.at)


_MESSAGE_TYPE_NAMES = {_CALL: "CALL", _CALL_RESULT: "CALLRESULT", _CALL_ERROR: "CALLERROR"}


def _entry_text(entry: TraceEntry) -> str:
    if entry.direction is TraceDirection.EVENT:
        text = entry.text
        return text[:1].upper() + text[1:]
    parts = [
        _MESSAGE_TYPE_NAMES.get(entry.message_type or 0, ""),
        entry.action or "",
        entry.error_code or "",
        entry.note or "",
    ]
    if entry.late and entry.latency is not None:
        parts.append(f"{entry.latency:.1f} s after the call")
    return " — ".join(part for part in parts if part)


# --- reservations ----------------------------------------------------------------------------

REFUSED_STATES = frozenset(
    {
        ReservationState.REJECTED,
        ReservationState.FAULTED,
        ReservationState.OCCUPIED,
        ReservationState.UNAVAILABLE,
        ReservationState.ERROR,
        ReservationState.NO_RESPONSE,
    }
)
"""How a reservation attempt ends when the station did not take it."""

_ANSWER_STATES = frozenset(
    {
        ReservationState.ACCEPTED,
        ReservationState.REJECTED,
        ReservationState.FAULTED,
        ReservationState.OCCUPIED,
        ReservationState.UNAVAILABLE,
    }
)
_STATE_WORDS = {
    ReservationState.ACCEPTED: "still held",
    ReservationState.NO_RESPONSE: "no answer",
    ReservationState.OFFLINE: "not sent (offline)",
    ReservationState.SENDING: "sending",
}


def reservation_outcome(record: ReservationRecord) -> str:
    """How one attempt ended, e.g. "accepted → used", "rejected", "no answer", "error
    (NotSupported)", "accepted late → cancelled"."""
    state = record.state
    if state is ReservationState.ERROR:
        code = record.error_code or (record.error or "").split(":")[0].strip()
        return f"error ({code})" if code else "error"
    if record.confirmation is None:
        word = _STATE_WORDS.get(state, state.value)
        if state in (ReservationState.NO_RESPONSE, ReservationState.OFFLINE):
            return word
        if state is ReservationState.SENDING:
            return word
        return f"no answer → {word}"
    answer = record.confirmation.value.lower()
    if any(s is ReservationState.NO_RESPONSE for s, _ in record.history):
        answer += " late"
    if state is ReservationState.ACCEPTED:
        return f"{answer}, {_STATE_WORDS[state]}"
    if state in _ANSWER_STATES:
        return answer
    return f"{answer} → {_STATE_WORDS.get(state, state.value)}"


def reservation_summary(records: Iterable[ReservationRecord]) -> str:
    """Each way the attempts ended with its count, e.g. "1 accepted → used, 2 rejected"."""
    counts = Counter(reservation_outcome(r) for r in sorted(records, key=lambda r: r.created_at))
    return ", ".join(f"{count} {outcome}" for outcome, count in counts.items())


def by_the_check(record: ReservationRecord, checks: Iterable[CheckResult]) -> bool:
    """Whether ``record`` was made by one of these reservation checks (on its station, while
    it ran). The check answers for those itself: step 2 expects an Occupied, for instance."""
    for check in checks:
        if check.station_id != record.station_id or record.created_at < check.started_at:
            continue
        if check.finished_at is None or record.created_at <= check.finished_at:
            return True
    return False


# --- one station ------------------------------------------------------------------------------

_BLOCKING_STATUSES = (ChargePointStatus.FAULTED, ChargePointStatus.UNAVAILABLE)


def _connector_reasons(connectors: Iterable[ConnectorSnapshot]) -> list[Reason]:
    reasons = []
    for connector in sorted(connectors, key=lambda c: c.connector_id):
        if connector.status not in _BLOCKING_STATUSES:
            continue
        assert connector.status is not None
        which = (
            "The station (connector 0)"
            if connector.connector_id == 0
            else f"Connector {connector.connector_id}"
        )
        text = f"{which} is {connector.status.value}"
        code = connector.error_code
        details = [
            code.value if code is not None and code is not ChargePointErrorCode.NO_ERROR else None,
            connector.vendor_error_code,
            connector.info,
        ]
        shown = [detail for detail in details if detail]
        if shown:
            text += f" ({', '.join(shown)})"
        reasons.append(Reason(ReasonKind.CONNECTOR, text, connector.status_at))
    return reasons


def _reservation_reasons(records: Sequence[ReservationRecord]) -> list[Reason]:
    refused = [r for r in records if r.state in REFUSED_STATES]
    if not refused:
        return []
    of = f"{len(refused)} of {len(records)} reservation test{'s' if len(records) != 1 else ''}"
    text = f"Reservations refused: {of} ({reservation_summary(refused)})"
    if all(r.state is ReservationState.REJECTED for r in refused):
        text += "; a station that rejects is configured not to accept reservations"
    return [Reason(ReasonKind.RESERVATIONS, text)]


def _check_reasons(checks: Sequence[CheckResult]) -> list[Reason]:
    finished = [c for c in checks if c.outcome is not CheckOutcome.RUNNING]
    if not finished:
        return [Reason(ReasonKind.CHECK, "No reservation conformance check was run")]
    latest = max(finished, key=lambda c: c.started_at)
    reasons = []
    if latest.outcome is CheckOutcome.FAILED:
        steps = ", ".join(f"{s.number} {s.title}" for s in latest.failed_steps)
        count = len(latest.failed_steps)
        text = "The latest reservation check failed"
        if count:
            text += f" ({count} step{'s' if count != 1 else ''}: {steps})"
        reasons.append(Reason(ReasonKind.CHECK, text, at=latest.started_at))
    elif latest.outcome in (CheckOutcome.ABORTED, CheckOutcome.CANCELLED):
        text = f"The latest reservation check did not finish ({latest.outcome.value}"
        text += f": {latest.reason})" if latest.reason else ")"
        reasons.append(Reason(ReasonKind.CHECK, text, at=latest.started_at))
    if latest.left_behind:
        ids = ", ".join(map(str, latest.left_behind))
        reasons.append(
            Reason(
                ReasonKind.CHECK,
                f"The latest reservation check left reservation(s) {ids} on the station",
                at=latest.started_at,
            )
        )
    return reasons


_PROBLEM_WORDS = {
    ProblemKind.CONNECTION_REFUSED: ("connection refused", "connections refused"),
    ProblemKind.LATE_ANSWER: ("late answer", "late answers"),
    ProblemKind.REFUSED_CALL: ("refused call", "refused calls"),
    ProblemKind.INVALID_ANSWER: ("invalid answer", "invalid answers"),
    ProblemKind.INVALID_FRAME: ("invalid frame", "invalid frames"),
    ProblemKind.CALL_ERROR: ("CALLERROR", "CALLERRORs"),
    ProblemKind.NO_ANSWER: ("unanswered call", "unanswered calls"),
}


def _problem_reasons(problems: Sequence[TraceProblem]) -> list[Reason]:
    if not problems:
        return []
    counts = Counter(p.kind for p in problems)
    kinds = ", ".join(
        f"{counts[kind]} {_PROBLEM_WORDS[kind][counts[kind] != 1]}"
        for kind in _KIND_ORDER
        if counts[kind]
    )
    count = len(problems)
    return [
        Reason(
            ReasonKind.PROTOCOL,
            f"{count} protocol problem{'s' if count != 1 else ''} in the trace ({kinds})",
            problems[0].at,
        )
    ]


def station_verdict(
    station_id: str,
    connectors: Iterable[ConnectorSnapshot],
    reservations: Iterable[ReservationRecord],
    checks: Sequence[CheckResult],
    problems: Sequence[TraceProblem],
) -> StationVerdict:
    """The verdict on one station.

    ``connectors``: its last statuses (connector 0 included); ``reservations``: its attempts
    (those its checks made are left to the checks); ``checks``: its stored reservation checks;
    ``problems``: its trace's (:func:`trace_problems`).
    """
    tried = [r for r in reservations if not by_the_check(r, checks)]
    reasons = [
        *_connector_reasons(connectors),
        *_reservation_reasons(tried),
        *_check_reasons(checks),
        *_problem_reasons(problems),
    ]
    return StationVerdict(station_id, tuple(reasons))
