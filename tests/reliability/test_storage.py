"""A data folder that cannot be used, or a disk that fills up: a clear message, the
Central System keeps running (in memory), nothing crashes."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from console.central.config import CentralSystemConfig
from console.central.model import ReservationState
from console.central.server import CentralSystem
from console.central.store import StoreError
from tests.central.ocpp_station import connected_station

ROOT = Path(__file__).resolve().parents[2]


async def _works_in_memory(central: CentralSystem) -> None:
    first = central.peek_reservation_id()
    async with connected_station(central, "CP-MEM"):
        record = await central.reserve_now(
            "CP-MEM", 1, "TAG", datetime.now(UTC) + timedelta(minutes=5)
        )
    assert record.state is ReservationState.ACCEPTED
    assert record.reservation_id == first
    assert central.peek_reservation_id() == first + 1
    assert await central.stored_trace(station_id="CP-MEM")  # the in-memory store answers


def _config(data_dir: Path) -> CentralSystemConfig:
    return CentralSystemConfig(host="127.0.0.1", port=0, data_dir=data_dir, ping_interval=None)


@pytest.mark.asyncio
async def test_a_data_folder_that_is_a_file_runs_in_memory(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the data folder should be")
    central = CentralSystem(_config(blocker))
    await central.start()
    try:
        assert central.running
        assert central.store_error is not None
        assert str(blocker) in central.store_error
        await _works_in_memory(central)
    finally:
        await central.stop()
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert any("running in memory: nothing will be saved" in line for line in errors)
    assert blocker.read_text() == "a file where the data folder should be"


@pytest.mark.asyncio
async def test_a_read_only_data_folder_runs_in_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "read-only"
    folder.mkdir()
    real_access = os.access

    def access(path: object, mode: int) -> bool:
        # Tests run as root, who may write anywhere: pretend the folder is read-only.
        if Path(str(path)) == folder and mode & os.W_OK:
            return False
        return real_access(path, mode)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "access", access)
    central = CentralSystem(_config(folder))
    await central.start()
    try:
        assert central.store_error is not None
        assert "read-only" in central.store_error
        await _works_in_memory(central)
    finally:
        await central.stop()
    assert list(folder.iterdir()) == []


@pytest.mark.asyncio
async def test_without_the_fallback_the_error_is_raised(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    central = CentralSystem(_config(blocker), memory_fallback=False)
    with pytest.raises((StoreError, OSError)):
        await central.start()
    assert not central.running


def test_a_disk_that_fills_up_is_reported_and_the_console_goes_on(tmp_path: Path) -> None:
    finished = subprocess.run(
        [sys.executable, "-m", "tests.reliability.disk_full_child", str(tmp_path), "400000"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=50,
        check=False,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    assert finished.returncode == 0, finished.stderr[-2000:]
    assert "Traceback" not in finished.stderr
    summary = json.loads(finished.stdout.strip().splitlines()[-1])
    assert summary["store_error"] is not None
    assert "cannot write to the database" in summary["store_error"]
    assert "kept in memory" in summary["store_error"]
    assert summary["reservation"] == "accepted"
    assert summary["heartbeat_answered"]
    assert summary["connected"]
    db = sqlite3.connect(tmp_path / "central.sqlite3")
    try:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        db.close()


@pytest.mark.asyncio
async def test_a_reservation_save_skips_ahead_of_a_trace_backlog(tmp_path: Path) -> None:
    # Found by attacks.py: under a flood of CALLs the trace queued tens of thousands of
    # lines, and a reservation's acknowledgement waited behind all of them (seconds).
    from console.central.model import ReservationRecord, TraceDirection, TraceEntry
    from console.central.store import Store

    path = tmp_path / "central.sqlite3"
    at = datetime(2026, 11, 25, 14, tzinfo=UTC)
    store = Store.open(path)
    slow = sqlite3.connect(path, isolation_level=None, timeout=60)
    # Every trace line now costs the writer some work: the backlog takes seconds to write.
    slow.execute(
        "CREATE TRIGGER slow_trace BEFORE INSERT ON trace BEGIN"
        " SELECT count(*) FROM (WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL"
        " SELECT x + 1 FROM n LIMIT 200) SELECT x FROM n); END"
    )
    try:
        backlog = 20_000
        for seq in range(1, backlog + 1):
            store.append_trace(TraceEntry(seq, at, "CP-FLOOD", TraceDirection.IN, "[2,...]"))
        record = ReservationRecord(
            reservation_id=7,
            station_id="CP-CALM",
            connector_id=1,
            id_tag="TAG",
            parent_id_tag=None,
            expiry_date=at + timedelta(hours=1),
            created_at=at,
            state=ReservationState.ACCEPTED,
            history=((ReservationState.ACCEPTED, at),),
        )
        await asyncio.wait_for(store.save_reservation(record), 60)
        assert _count(path, "reservation_attempts") == 1
        assert _count(path, "trace") < backlog  # it did not wait for the whole backlog
        slow.execute("DROP TRIGGER slow_trace")
        await asyncio.wait_for(store.flush(), 60)
        assert _count(path, "trace") == backlog  # nothing lost
    finally:
        slow.close()
        store.close()


def _count(database: Path, table: str) -> int:
    db = sqlite3.connect(database)
    try:
        return int(db.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
    finally:
        db.close()
