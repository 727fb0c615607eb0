"""What the trace gets from a station's connection: one line per event, and the validated
request or answer model with each frame, so that listeners never parse frames back."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime

import pytest
import websockets

from console.central.model import ChangeEvent, TraceAppended, TraceDirection, TraceEntry
from console.central.server import CentralSystem
from console.central.station import TraceLine, trace_line
from console.ocpp.enums import ChargePointStatus
from console.ocpp.errors import ErrorCode
from console.ocpp.features import FEATURES
from console.ocpp.frames import MessageType
from console.ocpp.messages import (
    HeartbeatConfirmation,
    HeartbeatRequest,
    StatusNotificationRequest,
)
from console.ocpp.reservation import ReservationStatus, ReserveNowConfirmation, ReserveNowRequest
from console.ocpp.session import (
    CallAborted,
    CallRefused,
    CallTimedOut,
    LateAnswer,
    OutgoingCall,
)
from tests.central.ocpp_station import connected_station, minutes_from_now, wait_until

_WAIT = 10.0


@pytest.mark.asyncio
async def test_trace_entries_carry_the_request_and_answer_models(central: CentralSystem) -> None:
    appended: list[TraceEntry] = []

    def listener(event: ChangeEvent) -> None:
        if isinstance(event, TraceAppended):
            appended.append(event.entry)

    central.subscribe(listener)
    async with connected_station(central, "CP-M") as station:
        await station.status(1, "Available")
        expiry = minutes_from_now(15).replace(microsecond=0)
        record = await central.reserve_now("CP-M", 1, "TAG-M", expiry)
    sent = next(
        e
        for e in appended
        if e.action == "ReserveNow"
        and e.direction is TraceDirection.OUT
        and e.message_type == MessageType.CALL
    )
    assert sent.message == ReserveNowRequest(
        connector_id=1, expiry_date=expiry, id_tag="TAG-M", reservation_id=record.reservation_id
    )
    answer = next(
        e
        for e in appended
        if e.message_id == sent.message_id and e.message_type == MessageType.CALL_RESULT
    )
    assert answer.direction is TraceDirection.IN
    assert answer.message == ReserveNowConfirmation(status=ReservationStatus.ACCEPTED)
    status = next(
        e for e in appended if e.action == "StatusNotification" and e.direction is TraceDirection.IN
    )
    assert isinstance(status.message, StatusNotificationRequest)
    assert status.message.status is ChargePointStatus.AVAILABLE
    # Our answer to it carries its model too.
    confirmed = next(
        e
        for e in appended
        if e.message_id == status.message_id and e.direction is TraceDirection.OUT
    )
    assert confirmed.message is not None
    assert confirmed.message.feature_name == "StatusNotification"
    # What listeners got is what the trace keeps.
    kept = {e.seq: e for e in central.recent_trace()}
    assert kept[sent.seq].message == sent.message


@pytest.mark.asyncio
async def test_a_refused_call_is_traced_without_a_model(central: CentralSystem) -> None:
    url = f"ws://127.0.0.1:{central.port}/CP-R"
    async with websockets.connect(url, subprotocols=["ocpp1.6"], close_timeout=1) as websocket:
        await wait_until(central, lambda: central.is_connected("CP-R"))
        bad = {"connectorId": 1, "errorCode": "NoError", "status": "Sleeping"}
        await websocket.send(json.dumps([2, "s1", "StatusNotification", bad]))
        answer = json.loads(await asyncio.wait_for(websocket.recv(), _WAIT))
        assert answer[:3] == [4, "s1", "PropertyConstraintViolation"]
    refused = next(e for e in central.recent_trace() if e.message_id == "s1")
    assert refused.direction is TraceDirection.IN
    assert refused.message_type == MessageType.CALL
    assert refused.error_code == "PropertyConstraintViolation"
    assert refused.message is None


def _call(action: str = "Heartbeat", timeout: float = 2.0) -> OutgoingCall:
    request = HeartbeatRequest()
    return OutgoingCall("m1", action, request, FEATURES[action], timeout, 0.0, sent_at=0.0)


def test_trace_lines_of_events_that_are_not_frames() -> None:
    call = _call()
    assert trace_line(CallTimedOut(call)) == TraceLine(
        "no answer to Heartbeat within 2 s",
        None,
        "m1",
        "Heartbeat",
        direction=TraceDirection.EVENT,
    )
    assert trace_line(CallAborted(call, "gone", was_sent=True)) == TraceLine(
        "Heartbeat left without an answer: gone",
        None,
        "m1",
        "Heartbeat",
        direction=TraceDirection.EVENT,
    )
    # A call never sent left nothing on the wire.
    assert trace_line(CallAborted(call, "gone", was_sent=False)) is None


def test_trace_lines_of_late_answers_and_refusals() -> None:
    answer = HeartbeatConfirmation(current_time=datetime(2030, 1, 1, tzinfo=UTC))
    late = trace_line(LateAnswer(_call(), answer, None, "", 3.0, "[3]"))
    assert late is not None
    assert (late.message_type, late.late, late.message, late.latency) == (
        MessageType.CALL_RESULT,
        True,
        answer,
        3.0,
    )
    assert late.note == "late answer (after the timeout)"
    late_error = trace_line(LateAnswer(_call(), None, "InternalError", "boom", 3.0, "[4]"))
    assert late_error is not None
    assert (late_error.message_type, late_error.error_code, late_error.message) == (
        MessageType.CALL_ERROR,
        "InternalError",
        None,
    )
    refused = trace_line(
        CallRefused("r1", "Reset", ErrorCode.NOT_SUPPORTED, "Reset is not supported", "[2]")
    )
    assert refused == TraceLine(
        "[2]",
        MessageType.CALL,
        "r1",
        "Reset",
        error_code="NotSupported",
        note="Reset is not supported",
    )
