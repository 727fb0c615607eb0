"""The pure parts of the link: how a closed connection is described, how a call ended."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from websockets.frames import Close, CloseCode

from console.link import CallOutcome, describe_close, outcome_of
from console.ocpp.errors import ErrorCode
from console.ocpp.features import FEATURES
from console.ocpp.messages import HeartbeatConfirmation, HeartbeatRequest
from console.ocpp.session import (
    AnswerInvalid,
    CallAborted,
    CallTimedOut,
    ErrorReceived,
    OutgoingCall,
    ResultReceived,
)

NOW = datetime(2030, 1, 1, tzinfo=UTC)


def test_describe_close_names_who_closed() -> None:
    normal = Close(CloseCode.NORMAL_CLOSURE, "bye")
    going = Close(CloseCode.GOING_AWAY, "")
    names: dict[str, Any] = {"peer": "the station", "us": "the console"}
    assert describe_close(normal, None, 1024, **names) == "closed by the station with 1000 (bye)"
    assert describe_close(None, going, 1024, **names) == "closed by the console with 1001"
    assert describe_close(None, None, 1024, **names) == "connection lost without a close frame"
    too_big = Close(CloseCode.MESSAGE_TOO_BIG, "")
    assert describe_close(None, too_big, 1024, **names) == (
        "closed with 1009: a frame was bigger than 1024 bytes"
    )
    assert describe_close(None, too_big, None) == "closed with 1009: a frame was too big"


def test_outcome_of_each_ending() -> None:
    call = OutgoingCall(
        "m1", "Heartbeat", HeartbeatRequest(), FEATURES["Heartbeat"], 2.0, 0.0, sent_at=0.0
    )
    answer = HeartbeatConfirmation(current_time=NOW)
    assert outcome_of(ResultReceived(call, answer, 0.5, "[3]")) == CallOutcome(
        "m1", confirmation=answer, latency=0.5, ended_by=ResultReceived(call, answer, 0.5, "[3]")
    )
    error = outcome_of(ErrorReceived(call, None, "Odd", "no", {}, 0.1, "[4]"))
    assert (error.error_code, error.error, error.latency) == ("Odd", "no", 0.1)
    invalid = outcome_of(AnswerInvalid(call, ErrorCode.FORMATION_VIOLATION, "bad", 0.1, "[3]"))
    assert (invalid.error_code, invalid.error) == ("FormationViolation", "invalid answer: bad")
    timed_out = outcome_of(CallTimedOut(call))
    assert (timed_out.timed_out, timed_out.error) == (True, "no answer within 2 s")
    aborted = outcome_of(CallAborted(call, "gone", was_sent=False))
    assert (aborted.aborted, aborted.sent, aborted.error) == (True, False, "gone")
