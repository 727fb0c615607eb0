"""The Central System over the real SQLite store: a restart keeps what it knew, and a
SIGKILL loses nothing a caller was told."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from console.central.model import ReservationState
from tests.central.conftest import StartCentral
from tests.central.ocpp_station import connected_station

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.asyncio


async def test_restart_keeps_stations_reservations_and_trace(
    start_central: StartCentral,
) -> None:
    expiry = datetime.now(UTC) + timedelta(hours=1)
    central = await start_central()
    async with connected_station(central, "CP-P") as station:
        await station.status(1, "Available")
        accepted = await central.reserve_now("CP-P", 1, "TAG-A", expiry)
        station.reserve_status = "Occupied"
        occupied = await central.reserve_now("CP-P", 2, "TAG-B", expiry)
    offline = await central.reserve_now("CP-GONE", 1, "TAG-C", expiry)
    next_id = central.peek_reservation_id()
    trace_count = len(central.recent_trace())
    await central.stop()

    again = await start_central()
    station_after = again.station("CP-P")
    assert station_after is not None
    assert not station_after.connected
    assert station_after.vendor == "TestVendor"
    assert station_after.reserve_connector_zero_supported is False
    records = {r.reservation_id: r for r in again.reservations()}
    assert records[accepted.reservation_id].state is ReservationState.ACCEPTED
    assert records[accepted.reservation_id].history == accepted.history
    assert records[occupied.reservation_id].state is ReservationState.OCCUPIED
    assert records[offline.reservation_id].state is ReservationState.OFFLINE
    assert again.peek_reservation_id() == next_id
    connector = next(c for c in again.connectors("CP-P") if c.connector_id == 1)
    assert connector.reservation_id == accepted.reservation_id
    assert len(again.recent_trace()) >= trace_count
    boots = await again.stored_trace(station_id="CP-P")
    assert any(e.action == "BootNotification" for e in boots)
    assert all(e.station_id == "CP-P" for e in boots)
    newer = await again.reserve_now("CP-P", 1, "TAG-D", expiry)
    assert newer.reservation_id == next_id


async def test_sigkill_loses_nothing_acknowledged(data_dir: Path) -> None:
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.central.sigkill_child",
        str(data_dir),
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    acknowledged: dict[int, str] = {}
    try:
        assert child.stdout is not None
        while len(acknowledged) < 25:
            line = await asyncio.wait_for(child.stdout.readline(), 30)
            assert line, "the child ended early"
            reservation_id, state = line.decode().split()
            acknowledged[int(reservation_id)] = state
    finally:
        child.send_signal(signal.SIGKILL)
        await child.wait()

    from console.central.config import CentralSystemConfig
    from console.central.store import Store

    store = Store.open(CentralSystemConfig(data_dir=data_dir).database_path())
    try:
        stored = {r.reservation_id: r.state.value for r in store.load_reservations()}
        assert store.peek_reservation_id() > max(acknowledged)
    finally:
        store.close()
    for reservation_id, state in acknowledged.items():
        assert stored.get(reservation_id) == state
