"""The verdict on a station and a site (console.central.verdict): pure, no Qt, no I/O."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from console.central.check.model import CheckOutcome, CheckResult, CheckStep, StepResult, Verdict
from console.central.model import (
    ConnectorSnapshot,
    ReservationRecord,
    ReservationState,
    TraceDirection,
    TraceEntry,
)
from console.central.verdict import (
    ProblemKind,
    Readiness,
    ReasonKind,
    StationVerdict,
    by_the_check,
    is_problem,
    reservation_outcome,
    reservation_summary,
    site_verdict,
    station_verdict,
    trace_problems,
)
from console.ocpp.enums import ChargePointErrorCode, ChargePointStatus
from console.ocpp.reservation import ReservationStatus

T0 = datetime(2026, 11, 25, 14, 0, 0, tzinfo=UTC)
STATION = "CP-01"


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def connector(
    connector_id: int,
    status: ChargePointStatus | None = ChargePointStatus.AVAILABLE,
    error_code: ChargePointErrorCode | None = ChargePointErrorCode.NO_ERROR,
    since: datetime = T0,
) -> ConnectorSnapshot:
    return ConnectorSnapshot(STATION, connector_id, status, error_code, status_at=since)


def record(
    reservation_id: int,
    state: ReservationState,
    confirmation: ReservationStatus | None,
    *,
    created: float = 0,
    history: tuple[ReservationState, ...] = (),
    error_code: str | None = None,
) -> ReservationRecord:
    return ReservationRecord(
        reservation_id=reservation_id,
        station_id=STATION,
        connector_id=1,
        id_tag="TECH-1",
        parent_id_tag=None,
        expiry_date=at(created + 900),
        created_at=at(created),
        state=state,
        confirmation=confirmation,
        error_code=error_code,
        error=f"{error_code}: not supported" if error_code else None,
        history=tuple((s, at(created + n)) for n, s in enumerate(history or (state,))),
    )


def passed_check(started: float = 600, finished: float = 700) -> CheckResult:
    return CheckResult(
        check_id=1,
        station_id=STATION,
        started_at=at(started),
        finished_at=at(finished),
        connectors=(1,),
        id_tag="CHECK",
        outcome=CheckOutcome.PASSED,
        steps=(StepResult(CheckStep.RESERVE, 1, Verdict.PASSED, "ok"),),
    )


def entry(seq: int, direction: TraceDirection, **fields: object) -> TraceEntry:
    return TraceEntry(
        seq=seq,
        at=at(seq),
        station_id=STATION,
        direction=direction,
        text=str(fields.pop("text", "[]")),
        **fields,  # type: ignore[arg-type]
    )


def ready_station(**changes: object) -> StationVerdict:
    """A station with nothing against it, but for ``changes``."""
    parts: dict[str, object] = {
        "connectors": [connector(0), connector(1), connector(2)],
        "reservations": [
            record(
                1,
                ReservationState.USED,
                ReservationStatus.ACCEPTED,
                history=(
                    ReservationState.SENDING,
                    ReservationState.ACCEPTED,
                    ReservationState.USED,
                ),
            )
        ],
        "checks": [passed_check()],
        "problems": [],
    }
    parts.update(changes)
    return station_verdict(STATION, **parts)  # type: ignore[arg-type]


# --- one station --------------------------------------------------------------------------


def test_a_station_with_nothing_against_it_is_ready() -> None:
    verdict = ready_station()
    assert verdict.readiness is Readiness.READY
    assert verdict.ready
    assert verdict.reasons == ()


def test_a_faulted_connector_needs_attention_with_its_error_code_and_since_when() -> None:
    faulted = connector(
        1, ChargePointStatus.FAULTED, ChargePointErrorCode.GROUND_FAILURE, since=at(30)
    )
    verdict = ready_station(connectors=[connector(0), faulted, connector(2)])
    assert verdict.readiness is Readiness.NEEDS_ATTENTION
    [reason] = verdict.reasons
    assert reason.kind is ReasonKind.CONNECTOR
    assert reason.text == "Connector 1 is Faulted (GroundFailure)"
    assert reason.since == at(30)


def test_an_unavailable_station_needs_attention() -> None:
    down = ChargePointStatus.UNAVAILABLE
    verdict = ready_station(
        connectors=[connector(0, down, since=at(5)), connector(1, down), connector(2, down)]
    )
    texts = [r.text for r in verdict.reasons]
    assert texts == [
        "The station (connector 0) is Unavailable",
        "Connector 1 is Unavailable",
        "Connector 2 is Unavailable",
    ]
    assert verdict.reasons[0].since == at(5)


@pytest.mark.parametrize(
    "status",
    [
        ChargePointStatus.RESERVED,
        ChargePointStatus.CHARGING,
        ChargePointStatus.PREPARING,
        ChargePointStatus.FINISHING,
        None,
    ],
)
def test_a_connector_in_use_or_not_reported_yet_is_no_reason(
    status: ChargePointStatus | None,
) -> None:
    assert ready_station(connectors=[connector(1, status)]).ready


@pytest.mark.parametrize(
    ("state", "confirmation", "outcome"),
    [
        (ReservationState.REJECTED, ReservationStatus.REJECTED, "rejected"),
        (ReservationState.FAULTED, ReservationStatus.FAULTED, "faulted"),
        (ReservationState.OCCUPIED, ReservationStatus.OCCUPIED, "occupied"),
        (ReservationState.UNAVAILABLE, ReservationStatus.UNAVAILABLE, "unavailable"),
        (ReservationState.NO_RESPONSE, None, "no answer"),
    ],
)
def test_a_refused_reservation_needs_attention(
    state: ReservationState, confirmation: ReservationStatus | None, outcome: str
) -> None:
    used = record(1, ReservationState.USED, ReservationStatus.ACCEPTED)
    verdict = ready_station(reservations=[used, record(2, state, confirmation, created=5)])
    [reason] = verdict.reasons
    assert reason.kind is ReasonKind.RESERVATIONS
    assert f"Reservations refused: 1 of 2 reservation tests (1 {outcome})" in reason.text


def test_a_station_that_rejects_every_reservation_says_what_it_means() -> None:
    rejected = [record(n, ReservationState.REJECTED, ReservationStatus.REJECTED) for n in (1, 2)]
    [reason] = ready_station(reservations=rejected).reasons
    assert reason.text == (
        "Reservations refused: 2 of 2 reservation tests (2 rejected); a station that rejects "
        "is configured not to accept reservations"
    )


def test_a_callerror_to_a_reservation_needs_attention() -> None:
    failed = record(1, ReservationState.ERROR, None, error_code="NotSupported")
    [reason] = ready_station(reservations=[failed]).reasons
    assert "(1 error (NotSupported))" in reason.text


def test_reservations_the_station_took_are_no_reason() -> None:
    held = [
        record(1, ReservationState.ACCEPTED, ReservationStatus.ACCEPTED),
        record(2, ReservationState.EXPIRED, ReservationStatus.ACCEPTED),
        record(3, ReservationState.CANCELLED, ReservationStatus.ACCEPTED),
        record(4, ReservationState.ENDED, ReservationStatus.ACCEPTED),
        record(5, ReservationState.OFFLINE, None),  # never sent: the station said nothing
    ]
    assert ready_station(reservations=held).ready


def test_the_checks_own_reservations_are_left_to_the_check() -> None:
    # Step 2 of the check expects an Occupied: it is the check's, not a refusal.
    occupied = record(7, ReservationState.OCCUPIED, ReservationStatus.OCCUPIED, created=650)
    check = passed_check(600, 700)
    assert by_the_check(occupied, [check])
    assert not by_the_check(replace(occupied, created_at=at(701)), [check])
    assert not by_the_check(replace(occupied, station_id="CP-02"), [check])
    assert ready_station(reservations=[occupied], checks=[check]).ready
    late = replace(occupied, created_at=at(800))
    assert not ready_station(reservations=[late], checks=[check]).ready


def test_no_check_or_a_failed_one_needs_attention() -> None:
    [missing] = ready_station(checks=[]).reasons
    assert missing.kind is ReasonKind.CHECK
    assert missing.text == "No reservation conformance check was run"

    failed = replace(
        passed_check(),
        outcome=CheckOutcome.FAILED,
        steps=(StepResult(CheckStep.EXPIRY, 1, Verdict.FAILED, "still Reserved"),),
    )
    [reason] = ready_station(checks=[failed]).reasons
    assert reason.text == (
        "The latest reservation check failed (1 step: 7 A reservation expires by itself)"
    )
    assert reason.at == failed.started_at
    assert reason.since is None

    aborted = replace(passed_check(), outcome=CheckOutcome.ABORTED, reason="station lost")
    [reason] = ready_station(checks=[aborted]).reasons
    assert reason.text == "The latest reservation check did not finish (aborted: station lost)"

    left = replace(passed_check(), left_behind=(107, 108))
    [reason] = ready_station(checks=[left]).reasons
    assert reason.text == "The latest reservation check left reservation(s) 107, 108 on the station"

    running = replace(passed_check(), outcome=CheckOutcome.RUNNING, finished_at=None)
    assert [r.text for r in ready_station(checks=[running]).reasons] == [missing.text]


def test_the_latest_check_counts() -> None:
    failed = replace(passed_check(0, 100), outcome=CheckOutcome.FAILED)
    assert ready_station(checks=[failed, passed_check(600, 700)]).ready
    assert not ready_station(
        checks=[passed_check(0, 100), replace(failed, started_at=at(800))]
    ).ready


# --- the trace ----------------------------------------------------------------------------


def late_call() -> list[TraceEntry]:
    """The console's ReserveNow that timed out, then its late answer."""
    return [
        entry(1, TraceDirection.OUT, message_type=2, message_id="c-1", action="ReserveNow"),
        entry(
            2,
            TraceDirection.EVENT,
            text="no answer to ReserveNow within 30 s",
            message_id="c-1",
            action="ReserveNow",
        ),
        entry(
            3,
            TraceDirection.IN,
            message_type=3,
            message_id="c-1",
            action="ReserveNow",
            latency=33.2,
            late=True,
            note="late answer (after the timeout)",
        ),
    ]


def test_a_late_call_is_one_problem() -> None:
    [problem] = trace_problems(late_call())
    assert problem.kind is ProblemKind.LATE_ANSWER
    assert [e.seq for e in problem.entries] == [2, 3]
    assert problem.at == at(2)
    assert problem.message_id == "c-1"
    assert problem.action == "ReserveNow"
    assert problem.text.startswith("No answer to ReserveNow within 30 s; CALLRESULT — ReserveNow")
    assert "33.2 s after the call" in problem.text
    [reason] = ready_station(problems=trace_problems(late_call())).reasons
    assert reason.kind is ReasonKind.PROTOCOL
    assert reason.text == "1 protocol problem in the trace (1 late answer)"


def test_the_station_and_the_console_may_use_the_same_message_id() -> None:
    lines = [
        *late_call(),
        # The station's own call "c-1", refused with a CALLERROR: another exchange.
        entry(
            4,
            TraceDirection.IN,
            message_type=2,
            message_id="c-1",
            action="StatusNotification",
            error_code="PropertyConstraintViolation",
            note="connectorId out of range",
        ),
        entry(
            5,
            TraceDirection.OUT,
            message_type=4,
            message_id="c-1",
            error_code="PropertyConstraintViolation",
        ),
    ]
    problems = trace_problems(lines)
    assert [(p.kind, len(p.entries)) for p in problems] == [
        (ProblemKind.LATE_ANSWER, 2),
        (ProblemKind.REFUSED_CALL, 2),
    ]


def test_each_kind_of_problem() -> None:
    lines = [
        entry(1, TraceDirection.IN, message_type=2, message_id="s-1", action="Heartbeat"),
        entry(2, TraceDirection.OUT, message_type=3, message_id="s-1", latency=0.001),
        entry(3, TraceDirection.EVENT, text="connected from 10.0.0.7", note="connected"),
        entry(4, TraceDirection.EVENT, text="wrong AuthorizationKey", note="handshake refused"),
        entry(
            5,
            TraceDirection.IN,
            message_type=4,
            message_id="c-2",
            action="ReserveNow",
            error_code="NotSupported",
        ),
        entry(
            6,
            TraceDirection.IN,
            message_id="c-3",
            action="CancelReservation",
            error_code="FormationViolation",
            note="invalid answer: status missing",
        ),
        entry(7, TraceDirection.IN, text="[2, 3", note="dropped: not JSON"),
        entry(
            8,
            TraceDirection.IN,
            message_type=3,
            message_id="zz",
            note="answer to no call of ours: dropped",
        ),
        entry(
            9,
            TraceDirection.EVENT,
            text="GetConfiguration left without an answer: connection closed",
            message_id="c-4",
            action="GetConfiguration",
        ),
    ]
    assert not is_problem(lines[0])
    assert not is_problem(lines[1])
    assert not is_problem(lines[2])
    kinds = [p.kind for p in trace_problems(lines)]
    assert kinds == [
        ProblemKind.CONNECTION_REFUSED,
        ProblemKind.CALL_ERROR,
        ProblemKind.INVALID_ANSWER,
        ProblemKind.INVALID_FRAME,
        ProblemKind.INVALID_FRAME,
        ProblemKind.NO_ANSWER,
    ]
    [reason] = ready_station(problems=trace_problems(lines)).reasons
    assert reason.text == (
        "6 protocol problems in the trace (1 connection refused, 1 invalid answer, "
        "2 invalid frames, 1 CALLERROR, 1 unanswered call)"
    )
    assert reason.since == at(4)


# --- how a reservation ended --------------------------------------------------------------


@pytest.mark.parametrize(
    ("made", "outcome"),
    [
        (record(1, ReservationState.USED, ReservationStatus.ACCEPTED), "accepted → used"),
        (record(1, ReservationState.EXPIRED, ReservationStatus.ACCEPTED), "accepted → expired"),
        (
            record(1, ReservationState.CANCELLED, ReservationStatus.ACCEPTED),
            "accepted → cancelled",
        ),
        (record(1, ReservationState.ENDED, ReservationStatus.ACCEPTED), "accepted → ended"),
        (record(1, ReservationState.ACCEPTED, ReservationStatus.ACCEPTED), "accepted, still held"),
        (record(1, ReservationState.REJECTED, ReservationStatus.REJECTED), "rejected"),
        (record(1, ReservationState.OCCUPIED, ReservationStatus.OCCUPIED), "occupied"),
        (record(1, ReservationState.NO_RESPONSE, None), "no answer"),
        (record(1, ReservationState.OFFLINE, None), "not sent (offline)"),
        (
            record(1, ReservationState.ERROR, None, error_code="NotSupported"),
            "error (NotSupported)",
        ),
        (
            record(
                1,
                ReservationState.USED,
                ReservationStatus.ACCEPTED,
                history=(
                    ReservationState.SENDING,
                    ReservationState.NO_RESPONSE,
                    ReservationState.ACCEPTED,
                    ReservationState.USED,
                ),
            ),
            "accepted late → used",
        ),
        (record(1, ReservationState.CANCELLED, None), "no answer → cancelled"),
    ],
)
def test_how_each_attempt_ended(made: ReservationRecord, outcome: str) -> None:
    assert reservation_outcome(made) == outcome


def test_a_rejected_attempt_does_not_read_like_a_used_one() -> None:
    used = record(1, ReservationState.USED, ReservationStatus.ACCEPTED)
    rejected = record(2, ReservationState.REJECTED, ReservationStatus.REJECTED, created=5)
    assert reservation_summary([used]) != reservation_summary([rejected])
    assert reservation_summary([rejected, used]) == "1 accepted → used, 1 rejected"
    assert reservation_summary([used, replace(used, reservation_id=3)]) == "2 accepted → used"
    assert reservation_summary([]) == ""


# --- the site -----------------------------------------------------------------------------


def test_the_site_is_ready_only_when_every_station_is() -> None:
    ready = ready_station()
    faulted = ready_station(
        connectors=[connector(1, ChargePointStatus.FAULTED, ChargePointErrorCode.GROUND_FAILURE)]
    )
    assert site_verdict([ready, replace(ready, station_id="CP-02")]).readiness is Readiness.READY
    site = site_verdict([ready, replace(faulted, station_id="CP-02")])
    assert site.readiness is Readiness.NEEDS_ATTENTION
    assert not site.ready
    assert [v.station_id for v in site.needing_attention] == ["CP-02"]
    assert site_verdict([]).readiness is Readiness.NEEDS_ATTENTION  # nothing to sign off
    assert str(Readiness.NEEDS_ATTENTION) == "Needs attention"
