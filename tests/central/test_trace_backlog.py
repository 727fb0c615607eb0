"""The trace lines waiting for the disk are bounded: past the bound, the station with more
than its share waiting is held back, the others are not, and nothing is lost."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from console.central.model import TraceDirection, TraceEntry
from console.central.persistence import WriteBehind
from console.central.store import Store

pytestmark = pytest.mark.asyncio

AT = datetime(2026, 11, 25, 14, tzinfo=UTC)
WAIT = 60.0


def _entries(station_id: str, first_seq: int, count: int) -> Iterator[TraceEntry]:
    for seq in range(first_seq, first_seq + count):
        yield TraceEntry(seq, AT, station_id, TraceDirection.IN, "[2,...]")


def _stored(path: Path) -> int:
    db = sqlite3.connect(path)
    try:
        return int(db.execute("SELECT count(*) FROM trace").fetchone()[0])
    finally:
        db.close()


async def test_a_slow_disk_holds_back_the_flooding_station_only(tmp_path: Path) -> None:
    path = tmp_path / "central.sqlite3"
    store = Store.open(path)
    slow = sqlite3.connect(path, isolation_level=None, timeout=60)
    # Every trace line now costs the writer some work: the flood outruns the disk.
    slow.execute(
        "CREATE TRIGGER slow_trace BEFORE INSERT ON trace BEGIN"
        " SELECT count(*) FROM (WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL"
        " SELECT x + 1 FROM n LIMIT 200) SELECT x FROM n); END"
    )
    writes = WriteBehind(store, limit=100, backlog_max=300)
    try:
        for entry in _entries("CP-CALM", 1, 3):
            writes.append_trace(entry)
        for entry in _entries("CP-FLOOD", 4, 3_000):
            writes.append_trace(entry)
        assert writes.backlog > 300
        assert writes.room_for("CP-CALM") is None
        gate = writes.room_for("CP-FLOOD")
        assert gate is not None
        await asyncio.wait_for(gate, WAIT)  # a batch was written: ask again
        slow.execute("DROP TRIGGER slow_trace")
        async with asyncio.timeout(WAIT):
            while (gate := writes.room_for("CP-FLOOD")) is not None:
                await gate
        assert writes.backlog <= 300
        writes.push()
        await asyncio.wait_for(store.flush(), WAIT)
        assert writes.backlog == 0
        assert _stored(path) == 3_003  # held back, nothing dropped
    finally:
        slow.close()
        store.close()
