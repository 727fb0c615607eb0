"""The stored and exported forms of a trace entry and a reservation attempt, to the byte.

The database columns, the JSON Lines export, the reservation CSV and the evidence frames of
a stored check result are read by other versions of the console and by outside tools: what
each holds for a given record is pinned here, whatever code produces it.
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from console.central.check.codec import check_from_json, check_to_dict, check_to_json
from console.central.check.model import CheckOutcome, CheckResult, CheckStep, StepResult, Verdict
from console.central.export import (
    reservation_csv_row,
    reservations_csv_lines,
    trace_entry_json,
    trace_jsonl_line,
)
from console.central.model import (
    CancelAttempt,
    ConnectorSnapshot,
    ReservationRecord,
    ReservationState,
    StationSnapshot,
    TraceDirection,
    TraceEntry,
)
from console.central.store import Store
from console.ocpp.enums import ChargePointErrorCode, ChargePointStatus
from console.ocpp.reservation import CancelReservationStatus, ReservationStatus

T0 = datetime(2026, 11, 25, 12, 0, 0, 123456, tzinfo=UTC)

ANSWER = TraceEntry(
    seq=42,
    at=T0,
    station_id="CP-1",
    direction=TraceDirection.IN,
    text='[3,"m-7",{"status":"Accepted"}]',
    message_type=3,
    message_id="m-7",
    action="ReserveNow",
    latency=0.25,
    late=True,
    error_code=None,
    note="late answer",
)
EVENT = TraceEntry(
    seq=43,
    at=T0.replace(microsecond=0) + timedelta(seconds=1),
    station_id="CP-1",
    direction=TraceDirection.EVENT,
    text="connection closed (1006)",
)
ERROR = TraceEntry(
    seq=44,
    at=T0 + timedelta(seconds=2),
    station_id="CP-1",
    direction=TraceDirection.OUT,
    text='[4,"x","FormationViolation","bad",{}]',
    message_type=4,
    message_id="x",
    error_code="FormationViolation",
)
RECORD = ReservationRecord(
    reservation_id=9,
    station_id="CP-1",
    connector_id=2,
    id_tag="TAG-1",
    parent_id_tag="PARENT",
    expiry_date=T0 + timedelta(hours=1),
    created_at=T0,
    state=ReservationState.ACCEPTED,
    confirmation=ReservationStatus.ACCEPTED,
    error=None,
    error_code=None,
    transaction_id=None,
    updated_at=T0 + timedelta(seconds=1),
    answered_at=T0 + timedelta(seconds=1),
    latency=0.5,
    history=(
        (ReservationState.SENDING, T0),
        (ReservationState.ACCEPTED, T0 + timedelta(seconds=1)),
    ),
)
FAILED = ReservationRecord(
    reservation_id=10,
    station_id="CP-2",
    connector_id=0,
    id_tag="TAG-2",
    parent_id_tag=None,
    expiry_date=T0 + timedelta(minutes=15),
    created_at=T0 + timedelta(seconds=3),
    state=ReservationState.ERROR,
    error="NotSupported: no reservations here",
    error_code="NotSupported",
    transaction_id=77,
)

LATE_CANCELLED = dataclasses.replace(
    RECORD,
    reservation_id=11,
    state=ReservationState.CANCELLED,
    history=(
        *RECORD.history,
        (ReservationState.CANCELLED, T0 + timedelta(seconds=45)),
    ),
    cancel=CancelAttempt(
        sent_at=T0 + timedelta(seconds=10),
        status=CancelReservationStatus.ACCEPTED,
        answered_at=T0 + timedelta(seconds=45),
        late=True,
        timed_out=True,
        error="no answer within 30 s",
    ),
)
HELD_AFTER_EXPIRY = dataclasses.replace(
    RECORD,
    reservation_id=12,
    state=ReservationState.EXPIRED,
    history=(*RECORD.history, (ReservationState.EXPIRED, T0 + timedelta(hours=1))),
    cancel=CancelAttempt(
        sent_at=T0 + timedelta(hours=1, seconds=5),
        status=CancelReservationStatus.ACCEPTED,
        answered_at=T0 + timedelta(hours=1, seconds=5, microseconds=80000),
        by_check=True,
    ),
)
CANCEL_REFUSED = dataclasses.replace(
    FAILED,
    reservation_id=13,
    state=ReservationState.ACCEPTED,
    cancel=CancelAttempt(
        sent_at=T0 + timedelta(seconds=20),
        answered_at=T0 + timedelta(seconds=20, microseconds=5000),
        error="NotImplemented: CancelReservation is not supported",
        error_code="NotImplemented",
    ),
)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store.open(tmp_path / "console.sqlite3")
    yield opened
    opened.close()


def _raw(store: Store, sql: str) -> list[tuple[Any, ...]]:
    db = sqlite3.connect(store.path)
    try:
        return [tuple(row) for row in db.execute(sql).fetchall()]
    finally:
        db.close()


@pytest.mark.asyncio
async def test_a_trace_entry_is_stored_column_by_column(store: Store) -> None:
    for entry in (ANSWER, EVENT, ERROR):
        store.append_trace(entry)
    await store.flush()
    rows = _raw(
        store,
        "SELECT id, seq, at, station_id, direction, text, message_type, message_id, action,"
        " latency, late, typeof(late), error_code, note FROM trace ORDER BY id",
    )
    assert rows == [
        (
            1,
            42,
            "2026-11-25T12:00:00.123456Z",
            "CP-1",
            "in",
            '[3,"m-7",{"status":"Accepted"}]',
            3,
            "m-7",
            "ReserveNow",
            0.25,
            1,
            "integer",
            None,
            "late answer",
        ),
        (
            2,
            43,
            "2026-11-25T12:00:01.000000Z",
            "CP-1",
            "event",
            "connection closed (1006)",
            None,
            None,
            None,
            None,
            0,
            "integer",
            None,
            None,
        ),
        (
            3,
            44,
            "2026-11-25T12:00:02.123456Z",
            "CP-1",
            "out",
            '[4,"x","FormationViolation","bad",{}]',
            4,
            "x",
            None,
            None,
            0,
            "integer",
            "FormationViolation",
            None,
        ),
    ]
    assert store.load_trace() == [ANSWER, EVENT, ERROR]


@pytest.mark.asyncio
async def test_a_reservation_attempt_is_stored_column_by_column(store: Store) -> None:
    await store.save_reservation(RECORD)
    await store.save_reservation(FAILED)
    attempts = _raw(
        store,
        "SELECT attempt_id, reservation_id, station_id, created_at, connector_id, id_tag,"
        " parent_id_tag, expiry_date, state, confirmation, error, error_code, transaction_id,"
        " updated_at, answered_at, latency FROM reservation_attempts ORDER BY attempt_id",
    )
    assert attempts == [
        (
            1,
            9,
            "CP-1",
            "2026-11-25T12:00:00.123456Z",
            2,
            "TAG-1",
            "PARENT",
            "2026-11-25T13:00:00.123456Z",
            "accepted",
            "Accepted",
            None,
            None,
            None,
            "2026-11-25T12:00:01.123456Z",
            "2026-11-25T12:00:01.123456Z",
            0.5,
        ),
        (
            2,
            10,
            "CP-2",
            "2026-11-25T12:00:03.123456Z",
            0,
            "TAG-2",
            None,
            "2026-11-25T12:15:00.123456Z",
            "error",
            None,
            "NotSupported: no reservations here",
            "NotSupported",
            77,
            None,
            None,
            None,
        ),
    ]
    history = _raw(
        store,
        "SELECT attempt_id, position, state, at FROM reservation_history"
        " ORDER BY attempt_id, position",
    )
    assert history == [
        (1, 0, "sending", "2026-11-25T12:00:00.123456Z"),
        (1, 1, "accepted", "2026-11-25T12:00:01.123456Z"),
        (2, 0, "error", "2026-11-25T12:00:03.123456Z"),
    ]
    loaded = store.load_reservations()
    assert loaded[0] == RECORD
    assert loaded[1] == dataclasses.replace(
        FAILED, history=((ReservationState.ERROR, FAILED.created_at),)
    )


@pytest.mark.asyncio
async def test_a_cancel_attempt_is_stored_column_by_column(store: Store) -> None:
    for record in (RECORD, LATE_CANCELLED, HELD_AFTER_EXPIRY, CANCEL_REFUSED):
        await store.save_reservation(record)
    cancels = _raw(
        store,
        "SELECT reservation_id, cancel_sent_at, cancel_status, cancel_answered_at, cancel_late,"
        " cancel_timed_out, cancel_error, cancel_error_code, cancel_by_check,"
        " typeof(cancel_late), typeof(cancel_by_check) FROM reservation_attempts"
        " ORDER BY attempt_id",
    )
    assert cancels == [
        (9, None, None, None, None, None, None, None, None, "null", "null"),
        (
            11,
            "2026-11-25T12:00:10.123456Z",
            "Accepted",
            "2026-11-25T12:00:45.123456Z",
            1,
            1,
            "no answer within 30 s",
            None,
            0,
            "integer",
            "integer",
        ),
        (
            12,
            "2026-11-25T13:00:05.123456Z",
            "Accepted",
            "2026-11-25T13:00:05.203456Z",
            0,
            0,
            None,
            None,
            1,
            "integer",
            "integer",
        ),
        (
            13,
            "2026-11-25T12:00:20.123456Z",
            None,
            "2026-11-25T12:00:20.128456Z",
            0,
            0,
            "NotImplemented: CancelReservation is not supported",
            "NotImplemented",
            0,
            "integer",
            "integer",
        ),
    ]
    loaded = {r.reservation_id: r for r in store.load_reservations()}
    assert loaded[9] == RECORD
    assert loaded[11] == LATE_CANCELLED
    assert loaded[12] == HELD_AFTER_EXPIRY
    assert loaded[13].cancel == CANCEL_REFUSED.cancel


@pytest.mark.asyncio
async def test_a_station_and_a_connector_are_stored_column_by_column(store: Store) -> None:
    store.save_station(
        StationSnapshot(
            station_id="CP-1",
            connected=True,
            state_since=T0,
            security_profile=2,
            remote_address="10.0.0.7:51234",
            vendor="Acme",
            model="Volt 22",
            serial_number=None,
            firmware_version="1.2.3",
            registration_status="Accepted",
            last_message_at=T0,
            last_heartbeat_at=None,
            heartbeat_interval=300,
            reserve_connector_zero_supported=False,
            number_of_connectors=2,
            is_new=True,
            note=None,
        )
    )
    store.save_connector(
        ConnectorSnapshot(
            station_id="CP-1",
            connector_id=1,
            status=ChargePointStatus.RESERVED,
            error_code=ChargePointErrorCode.NO_ERROR,
            status_at=T0,
            reservation_id=9,
        )
    )
    await store.flush()
    assert _raw(store, "SELECT * FROM stations") == [
        (
            "CP-1",
            "2026-11-25T12:00:00.123456Z",
            2,
            "10.0.0.7:51234",
            "Acme",
            "Volt 22",
            None,
            "1.2.3",
            "Accepted",
            "2026-11-25T12:00:00.123456Z",
            None,
            300,
            0,
            2,
            1,
            None,
            "1.6",
            None,
            None,
            None,
        )
    ]
    assert _raw(store, "SELECT * FROM connectors") == [
        (
            "CP-1",
            0,
            1,
            "Reserved",
            "NoError",
            None,
            None,
            "2026-11-25T12:00:00.123456Z",
            None,
            None,
            9,
            None,
        )
    ]


def test_a_trace_entry_exports_as_one_json_line() -> None:
    assert trace_jsonl_line(ANSWER) == (
        '{"seq":42,"time":"2026-11-25T12:00:00.123Z","station":"CP-1","direction":"in",'
        '"message_type":"CALLRESULT","id":"m-7","action":"ReserveNow","latency_s":0.25,'
        '"late":true,"error_code":null,"note":"late answer","ocpp_version":null,'
        '"frame":[3,"m-7",{"status":"Accepted"}]}\n'
    )
    assert trace_jsonl_line(EVENT) == (
        '{"seq":43,"time":"2026-11-25T12:00:01.000Z","station":"CP-1","direction":"event",'
        '"message_type":null,"id":null,"action":null,"latency_s":null,"late":false,'
        '"error_code":null,"note":null,"ocpp_version":null,'
        '"frame":"connection closed (1006)"}\n'
    )
    assert list(trace_entry_json(ERROR)) == [
        "seq",
        "time",
        "station",
        "direction",
        "message_type",
        "id",
        "action",
        "latency_s",
        "late",
        "error_code",
        "note",
        "ocpp_version",
        "frame",
    ]
    assert trace_entry_json(ERROR)["message_type"] == "CALLERROR"
    odd = TraceEntry(
        seq=1, at=T0, station_id="CP-1", direction=TraceDirection.IN, text="[]", message_type=7
    )
    assert trace_entry_json(odd)["message_type"] == "7"


def test_a_reservation_attempt_exports_as_one_csv_row() -> None:
    assert reservation_csv_row(RECORD) == [
        "9",
        "CP-1",
        "2",
        "TAG-1",
        "PARENT",
        "2026-11-25T12:00:00.123Z",
        "2026-11-25T13:00:00.123Z",
        "Accepted",
        "accepted",
        "",
        "",
        "",
        "2026-11-25T12:00:01.123Z",
        "0.500",
        # No cancel was sent: its columns are empty.
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        # A 1.6 attempt: the version, and no 2.0.1 fields.
        "1.6",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        # The console made it (not the site's CSMS), and sent no cancel.
        "false",
        "",
    ]
    assert "".join(reservations_csv_lines([FAILED])) == (
        "reservation_id,station_id,connector_id,id_tag,parent_id_tag,created,expiry,answer,"
        "state,transaction_id,error_code,error,answered,latency_s,"
        "cancel_sent,cancel_answer,cancel_answered,cancel_late,cancel_timed_out,"
        "cancel_error_code,cancel_error,cancel_by_check,"
        "ocpp_version,connector_type,id_token_type,group_id_token_type,"
        "answer_reason,answer_info,cancel_answer_reason,cancel_answer_info,"
        "by_csms,cancel_by_csms\r\n"
        "10,CP-2,0,TAG-2,,2026-11-25T12:00:03.123Z,2026-11-25T12:15:00.123Z,,error,77,"
        "NotSupported,NotSupported: no reservations here,,,,,,,,,,,1.6,,,,,,,,false,\r\n"
    )


def test_a_cancel_attempt_exports_after_the_attempt_columns() -> None:
    assert reservation_csv_row(LATE_CANCELLED)[-19:-10] == [
        "0.500",
        "2026-11-25T12:00:10.123Z",
        "Accepted",
        "2026-11-25T12:00:45.123Z",
        "true",
        "true",
        "",
        "no answer within 30 s",
        "false",
    ]
    assert reservation_csv_row(HELD_AFTER_EXPIRY)[-19:-10] == [
        "0.500",
        "2026-11-25T13:00:05.123Z",
        "Accepted",
        "2026-11-25T13:00:05.203Z",
        "false",
        "false",
        "",
        "",
        "true",
    ]
    assert "".join(reservations_csv_lines([CANCEL_REFUSED])).splitlines()[1] == (
        "13,CP-2,0,TAG-2,,2026-11-25T12:00:03.123Z,2026-11-25T12:15:00.123Z,,accepted,77,"
        "NotSupported,NotSupported: no reservations here,,,"
        "2026-11-25T12:00:20.123Z,,2026-11-25T12:00:20.128Z,false,false,NotImplemented,"
        "NotImplemented: CancelReservation is not supported,false,1.6,,,,,,,,false,false"
    )


def _check_with(*evidence: TraceEntry) -> CheckResult:
    return CheckResult(
        check_id=3,
        station_id="CP-1",
        started_at=T0,
        connectors=(1,),
        id_tag="CHECK",
        finished_at=T0 + timedelta(minutes=1),
        outcome=CheckOutcome.PASSED,
        reason="all steps passed",
        steps=(
            StepResult(
                CheckStep.RESERVE,
                1,
                verdict=Verdict.PASSED,
                reason="Accepted",
                evidence=evidence,
            ),
        ),
    )


def test_a_trace_entry_is_check_evidence_field_by_field() -> None:
    other = TraceEntry(
        seq=45, at=T0, station_id="CP-OTHER", direction=TraceDirection.OUT, text="[2]"
    )
    result = _check_with(ANSWER, EVENT, other)
    evidence = check_to_dict(result)["steps"][0]["evidence"]
    assert json.dumps(evidence) == (
        '[{"seq": 42, "at": "2026-11-25T12:00:00.123456Z", "direction": "in", '
        '"text": "[3,\\"m-7\\",{\\"status\\":\\"Accepted\\"}]", "message_type": 3, '
        '"message_id": "m-7", "action": "ReserveNow", "latency": 0.25, "late": true, '
        '"error_code": null, "note": "late answer", "ocpp_version": null}, '
        '{"seq": 43, "at": "2026-11-25T12:00:01Z", "direction": "event", '
        '"text": "connection closed (1006)", "message_type": null, "message_id": null, '
        '"action": null, "latency": null, "late": false, "error_code": null, "note": null, '
        '"ocpp_version": null}, '
        '{"seq": 45, "at": "2026-11-25T12:00:00.123456Z", "direction": "out", "text": "[2]", '
        '"message_type": null, "message_id": null, "action": null, "latency": null, '
        '"late": false, "error_code": null, "note": null, "ocpp_version": null, '
        '"station_id": "CP-OTHER"}]'
    )
    assert check_from_json(check_to_json(result)).steps[0].evidence == (ANSWER, EVENT, other)
