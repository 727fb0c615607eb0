"""Faults of the network and of the station: every one gives the reservation record the
right state and the trace the right line.

The station is scripted frame by frame on a raw websockets client, so a test decides
exactly when it answers, answers twice, stops reading, or drops the TCP connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import websockets
from websockets.asyncio.client import ClientConnection

from console.central.model import ReservationRecord, ReservationState, TraceDirection, TraceEntry
from console.central.server import CentralSystem
from tests.central.conftest import StartCentral
from tests.central.fakes import MemoryStore
from tests.central.ocpp_station import wait_until

pytestmark = pytest.mark.asyncio

_WAIT = 10.0


def _expiry() -> datetime:
    return datetime.now(UTC) + timedelta(minutes=15)


@contextlib.asynccontextmanager
async def _station(central: CentralSystem, station_id: str) -> AsyncIterator[ClientConnection]:
    url = f"ws://127.0.0.1:{central.port}/{station_id}"
    async with websockets.connect(url, subprotocols=["ocpp1.6"], close_timeout=1) as websocket:
        await wait_until(central, lambda: central.is_connected(station_id))
        yield websocket


async def _next_call(websocket: ClientConnection, action: str) -> list[Any]:
    """The next CALL of ``action`` from the console (other frames are skipped)."""
    while True:
        frame = json.loads(await asyncio.wait_for(websocket.recv(), _WAIT))
        if frame[0] == 2 and frame[2] == action:
            return list(frame)


async def _answer(websocket: ClientConnection, call: list[Any], payload: dict[str, Any]) -> None:
    await websocket.send(json.dumps([3, call[1], payload]))


async def _call(websocket: ClientConnection, message_id: str, action: str, payload: Any) -> Any:
    """A CALL of the station's; returns the console's answer payload."""
    await websocket.send(json.dumps([2, message_id, action, payload]))
    while True:
        frame = json.loads(await asyncio.wait_for(websocket.recv(), _WAIT))
        if frame[0] in (3, 4) and frame[1] == message_id:
            return frame[2]


def _trace_line(
    central: CentralSystem, station_id: str, match: Callable[[TraceEntry], bool]
) -> Callable[[], TraceEntry | None]:
    def find() -> TraceEntry | None:
        return next(
            (e for e in central.recent_trace() if e.station_id == station_id and match(e)), None
        )

    return find


def _in_state(
    central: CentralSystem, station_id: str, reservation_id: int, state: ReservationState
) -> Callable[[], ReservationRecord | None]:
    def check() -> ReservationRecord | None:
        record = central.reservation(station_id, reservation_id)
        return record if record is not None and record.state is state else None

    return check


async def _accepted_reservation(
    central: CentralSystem, websocket: ClientConnection, station_id: str
) -> ReservationRecord:
    reserving = asyncio.create_task(central.reserve_now(station_id, 1, "TAG", _expiry()))
    await _answer(websocket, await _next_call(websocket, "ReserveNow"), {"status": "Accepted"})
    record = await asyncio.wait_for(reserving, _WAIT)
    assert record.state is ReservationState.ACCEPTED
    return record


async def test_station_drops_the_tcp_connection_mid_reserve_now(central: CentralSystem) -> None:
    async with _station(central, "CP-DROP") as websocket:
        reserving = asyncio.create_task(central.reserve_now("CP-DROP", 1, "TAG", _expiry()))
        await _next_call(websocket, "ReserveNow")
        websocket.transport.abort()  # no close frame: the cable is pulled
        record = await asyncio.wait_for(reserving, _WAIT)
    assert record.state is ReservationState.NO_RESPONSE  # the station may have taken it
    assert record.error is not None
    assert record.error.startswith("connection lost before the answer")
    line = await wait_until(
        central,
        _trace_line(central, "CP-DROP", lambda e: "ReserveNow left without an answer" in e.text),
    )
    assert line.direction is TraceDirection.EVENT
    gone = await wait_until(
        central, _trace_line(central, "CP-DROP", lambda e: e.text.startswith("disconnected"))
    )
    assert "without a close frame" in gone.text
    snapshot = central.station("CP-DROP")
    assert snapshot is not None
    assert not snapshot.connected


async def test_station_closes_cleanly_mid_reserve_now(central: CentralSystem) -> None:
    async with _station(central, "CP-BYE") as websocket:
        reserving = asyncio.create_task(central.reserve_now("CP-BYE", 1, "TAG", _expiry()))
        await _next_call(websocket, "ReserveNow")
        await websocket.close(1001, "rebooting")
        record = await asyncio.wait_for(reserving, _WAIT)
    assert record.state is ReservationState.NO_RESPONSE
    assert record.error is not None
    assert "closed by the station with 1001 (rebooting)" in record.error
    await wait_until(
        central,
        _trace_line(central, "CP-BYE", lambda e: "disconnected: closed by the station" in e.text),
    )


async def test_station_drops_mid_cancel_reservation(central: CentralSystem) -> None:
    async with _station(central, "CP-CANCEL") as websocket:
        record = await _accepted_reservation(central, websocket, "CP-CANCEL")
        cancelling = asyncio.create_task(
            central.cancel_reservation("CP-CANCEL", record.reservation_id)
        )
        await _next_call(websocket, "CancelReservation")
        websocket.transport.abort()
        outcome = await asyncio.wait_for(cancelling, _WAIT)
    assert outcome.status is None
    assert outcome.error is not None
    assert outcome.error.startswith("connection lost before the answer")
    # Nobody knows whether the station cancelled it: the record stays as it was.
    kept = central.reservation("CP-CANCEL", record.reservation_id)
    assert kept is not None
    assert kept.state is ReservationState.ACCEPTED
    await wait_until(
        central,
        _trace_line(
            central, "CP-CANCEL", lambda e: "CancelReservation left without an answer" in e.text
        ),
    )


async def test_station_drops_during_a_transaction_and_comes_back(central: CentralSystem) -> None:
    async with _station(central, "CP-TX") as websocket:
        record = await _accepted_reservation(central, websocket, "CP-TX")
        started = await _call(
            websocket,
            "start-1",
            "StartTransaction",
            {
                "connectorId": 1,
                "idTag": "TAG",
                "meterStart": 0,
                "timestamp": datetime.now(UTC).isoformat(),
                "reservationId": record.reservation_id,
            },
        )
        transaction_id = started["transactionId"]
        used = await wait_until(
            central, _in_state(central, "CP-TX", record.reservation_id, ReservationState.USED)
        )
        assert used.transaction_id == transaction_id
        websocket.transport.abort()
    await wait_until(central, lambda: not central.is_connected("CP-TX"))
    after_drop = central.reservation("CP-TX", record.reservation_id)
    assert after_drop is not None
    assert after_drop.state is ReservationState.USED  # a dropped link ends nothing
    async with _station(central, "CP-TX") as websocket:
        stopped = await _call(
            websocket,
            "stop-1",
            "StopTransaction",
            {
                "meterStop": 100,
                "timestamp": datetime.now(UTC).isoformat(),
                "transactionId": transaction_id,
            },
        )
        assert stopped == {}  # no idTag sent, so no idTagInfo back
    final = central.reservation("CP-TX", record.reservation_id)
    assert final is not None
    assert final.state is ReservationState.USED
    assert final.transaction_id == transaction_id
    texts = [e.text for e in central.recent_trace() if e.station_id == "CP-TX"]
    assert sum(1 for t in texts if t.startswith("connected from")) == 2
    assert any("StopTransaction" in t for t in texts)


async def test_a_late_rejection_settles_a_no_response(start_central: StartCentral) -> None:
    central = await start_central(store=MemoryStore(), call_timeout=0.5)
    async with _station(central, "CP-LATE") as websocket:
        record = await central.reserve_now("CP-LATE", 1, "TAG", _expiry())
        assert record.state is ReservationState.NO_RESPONSE
        call = await _next_call(websocket, "ReserveNow")
        await _answer(websocket, call, {"status": "Rejected"})
        settled = await wait_until(
            central,
            _in_state(central, "CP-LATE", record.reservation_id, ReservationState.REJECTED),
        )
    assert settled.error == "late answer"
    assert [s for s, _ in settled.history][-2:] == [
        ReservationState.NO_RESPONSE,
        ReservationState.REJECTED,
    ]
    late = next(e for e in central.recent_trace() if e.late)
    assert late.action == "ReserveNow"
    assert late.note == "late answer (after the timeout)"


async def test_a_station_answering_twice_counts_once(central: CentralSystem) -> None:
    async with _station(central, "CP-TWICE") as websocket:
        reserving = asyncio.create_task(central.reserve_now("CP-TWICE", 1, "TAG", _expiry()))
        call = await _next_call(websocket, "ReserveNow")
        await _answer(websocket, call, {"status": "Accepted"})
        await _answer(websocket, call, {"status": "Rejected"})
        record = await asyncio.wait_for(reserving, _WAIT)
        # A Heartbeat after both: once answered, both answers were read.
        await _call(websocket, "hb-1", "Heartbeat", {})
    assert record.state is ReservationState.ACCEPTED
    kept = central.reservation("CP-TWICE", record.reservation_id)
    assert kept is not None
    assert kept.state is ReservationState.ACCEPTED
    assert kept.history == record.history
    second = [e for e in central.recent_trace() if e.message_id == call[1] and e.note is not None]
    assert [e.note for e in second] == ["answer to no call of ours: dropped"]
    assert "Rejected" in second[0].text


async def test_a_new_connection_replaces_a_half_open_one(central: CentralSystem) -> None:
    url = f"ws://127.0.0.1:{central.port}/CP-HALF"
    async with _station(central, "CP-HALF") as old:
        reserving = asyncio.create_task(central.reserve_now("CP-HALF", 1, "TAG", _expiry()))
        await _next_call(old, "ReserveNow")
        # Half-open: the old link is still there but reads (and answers) nothing.
        old.transport.pause_reading()
        async with websockets.connect(url, subprotocols=["ocpp1.6"]) as new:
            record = await asyncio.wait_for(reserving, _WAIT)
            assert record.state is ReservationState.NO_RESPONSE
            assert record.error is not None
            assert "replaced by a new connection" in record.error
            second = await _accepted_reservation(central, new, "CP-HALF")
            assert second.reservation_id != record.reservation_id
            assert central.is_connected("CP-HALF")
        old.transport.abort()
    replaced = await wait_until(
        central,
        _trace_line(central, "CP-HALF", lambda e: "replaced the previous one" in e.text),
    )
    assert replaced.text.startswith("connected from")


async def test_a_stalled_network_is_noticed_by_the_keepalive(start_central: StartCentral) -> None:
    central = await start_central(
        store=MemoryStore(), ping_interval=0.3, ping_timeout=0.3, close_timeout=0.5
    )
    async with _station(central, "CP-STALL") as websocket:
        reserving = asyncio.create_task(central.reserve_now("CP-STALL", 1, "TAG", _expiry()))
        await _next_call(websocket, "ReserveNow")
        # Nothing read any more, so no pong goes back: to the console the link is stalled.
        websocket.transport.pause_reading()
        record = await asyncio.wait_for(reserving, _WAIT)
        websocket.transport.abort()
    assert record.state is ReservationState.NO_RESPONSE
    assert record.error is not None
    assert "keepalive ping timeout" in record.error
    gone = await wait_until(
        central, _trace_line(central, "CP-STALL", lambda e: e.text.startswith("disconnected"))
    )
    assert "1011" in gone.text
    assert "keepalive ping timeout" in gone.text
    snapshot = central.station("CP-STALL")
    assert snapshot is not None
    assert not snapshot.connected
