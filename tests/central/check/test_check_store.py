"""Reservation check runs in the store: save, update, load, reopen, migration, bad rows."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import pytest_asyncio

from console.central.check.codec import check_to_json
from console.central.check.model import (
    CheckOutcome,
    CheckResult,
    CheckStep,
    ReservationSpan,
    StatusPoint,
    StepResult,
    Verdict,
)
from console.central.model import ReservationRecord, ReservationState, TraceDirection, TraceEntry
from console.central.store import SCHEMA_VERSION, Store
from console.central.store.schema import MIGRATIONS
from tests.central.fakes import MemoryStore

T0 = datetime(2026, 11, 25, 15, 0, 0, 500_000, tzinfo=UTC)
WAIT = 30.0


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "console.sqlite3"


@pytest_asyncio.fixture
async def store(db_path: Path) -> AsyncIterator[Store]:
    opened = Store.open(db_path)
    yield opened
    opened.close()


def _frame(seq: int, station_id: str = "CP-1") -> TraceEntry:
    return TraceEntry(
        seq=seq,
        at=T0 + timedelta(milliseconds=seq),
        station_id=station_id,
        direction=TraceDirection.IN if seq % 2 else TraceDirection.OUT,
        text=f'[2,"m{seq}","StatusNotification",{{"connectorId":1,"status":"Reserved"}}]',
        message_type=2,
        message_id=f"m{seq}",
        action="StatusNotification",
        latency=0.01 * seq if seq % 2 else None,
    )


def _result(
    station_id: str = "CP-1",
    *,
    started_at: datetime = T0,
    check_id: int | None = None,
    frames: int = 2,
) -> CheckResult:
    return CheckResult(
        check_id=check_id,
        station_id=station_id,
        started_at=started_at,
        connectors=(1,),
        id_tag="TAG-1",
        vendor="Acme",
        model="Volt 22",
        firmware_version="1.2.3",
        steps=(
            StepResult(
                CheckStep.RESERVE,
                1,
                Verdict.RUNNING,
                started_at=started_at,
                evidence=tuple(_frame(seq, station_id) for seq in range(frames)),
            ),
            StepResult(CheckStep.SCHEMAS, None),
        ),
        statuses=(StatusPoint(started_at, 1, "Reserved"),),
        spans=(ReservationSpan(11, 1, "TAG-1", started_at, None),),
    )


def _finished(result: CheckResult) -> CheckResult:
    done = result.started_at + timedelta(seconds=40)
    steps = (
        dataclasses.replace(result.steps[0], verdict=Verdict.PASSED, finished_at=done),
        dataclasses.replace(result.steps[1], verdict=Verdict.PASSED, reason="all valid"),
    )
    spans = (dataclasses.replace(result.spans[0], end=done, ended_by="cancelled"),)
    return dataclasses.replace(
        result, steps=steps, spans=spans, finished_at=done, outcome=CheckOutcome.PASSED
    )


def _rows(db_path: Path) -> list[tuple[object, ...]]:
    db = sqlite3.connect(db_path)
    try:
        return db.execute(
            "SELECT id, station_id, started_at, finished_at, outcome FROM reservation_checks"
            " ORDER BY id"
        ).fetchall()
    finally:
        db.close()


@pytest.mark.asyncio
async def test_save_assigns_ids_update_replaces_and_load_is_oldest_first(
    store: Store, db_path: Path
) -> None:
    later = _result("CP-1", started_at=T0 + timedelta(hours=1))
    earlier = _result("CP-2", started_at=T0)
    first_id = await asyncio.wait_for(store.save_check(later), WAIT)
    second_id = await asyncio.wait_for(store.save_check(earlier), WAIT)
    assert (first_id, second_id) == (1, 2)

    updated = _finished(dataclasses.replace(later, check_id=first_id))
    assert await asyncio.wait_for(store.save_check(updated), WAIT) == first_id

    loaded = store.load_checks()
    # Oldest run first (by when it started, not when it was saved).
    assert loaded == [dataclasses.replace(earlier, check_id=second_id), updated]
    # Committed before save_check returned: another connection sees it.
    assert _rows(db_path) == [
        (1, "CP-1", "2026-11-25T16:00:00.500000Z", "2026-11-25T16:00:40.500000Z", "passed"),
        (2, "CP-2", "2026-11-25T15:00:00.500000Z", None, "running"),
    ]


@pytest.mark.asyncio
async def test_runs_survive_a_reopen_and_ids_go_on(db_path: Path) -> None:
    with Store.open(db_path) as first:
        check_id = await asyncio.wait_for(first.save_check(_result()), WAIT)
        saved = _finished(dataclasses.replace(_result(), check_id=check_id))
        await asyncio.wait_for(first.save_check(saved), WAIT)
    with Store.open(db_path) as second:
        assert second.load_checks() == [saved]
        next_id = await asyncio.wait_for(second.save_check(_result("CP-9")), WAIT)
        assert next_id == check_id + 1
        assert [r.check_id for r in second.load_checks()] == [check_id, next_id]


@pytest.mark.asyncio
async def test_a_chosen_id_is_stored_as_it_is_and_never_handed_out_again(store: Store) -> None:
    assert await asyncio.wait_for(store.save_check(_result(check_id=50)), WAIT) == 50
    assert await asyncio.wait_for(store.save_check(_result()), WAIT) == 51
    assert [r.check_id for r in store.load_checks()] == [50, 51]


@pytest.mark.asyncio
async def test_concurrent_saves_of_new_runs_get_distinct_ids(store: Store) -> None:
    results = [_result(f"CP-{n}", started_at=T0 + timedelta(seconds=n)) for n in range(20)]
    ids = await asyncio.wait_for(asyncio.gather(*(store.save_check(r) for r in results)), WAIT)
    assert sorted(ids) == list(range(1, 21))
    loaded = store.load_checks()
    assert [r.station_id for r in loaded] == [f"CP-{n}" for n in range(20)]
    assert [r.check_id for r in loaded] == ids


@pytest.mark.asyncio
async def test_a_run_with_200_evidence_frames_round_trips(store: Store) -> None:
    big = _finished(_result(frames=200))
    check_id = await asyncio.wait_for(store.save_check(big), WAIT)
    (loaded,) = store.load_checks()
    assert loaded == dataclasses.replace(big, check_id=check_id)
    assert len(loaded.steps[0].evidence) == 200
    assert loaded.steps[0].evidence[199].latency == pytest.approx(1.99)


@pytest.mark.asyncio
async def test_the_in_memory_store_keeps_runs_too() -> None:
    with Store.in_memory("disk full") as memory:
        check_id = await asyncio.wait_for(memory.save_check(_result()), WAIT)
        update = _finished(dataclasses.replace(_result(), check_id=check_id))
        assert await asyncio.wait_for(memory.save_check(update), WAIT) == check_id
        assert memory.load_checks() == [update]


@pytest.mark.asyncio
async def test_a_row_that_cannot_be_read_is_skipped_with_a_warning(
    db_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with Store.open(db_path) as first:
        good_id = await asyncio.wait_for(first.save_check(_result("CP-OK")), WAIT)
    newer = json.loads(check_to_json(_result("CP-NEW")))
    newer["version"] = 99
    db = sqlite3.connect(db_path)
    try:
        db.executemany(
            "INSERT INTO reservation_checks (id, station_id, started_at, outcome, result)"
            " VALUES (?, ?, ?, 'passed', ?)",
            [
                (10, "CP-BAD", "2026-11-25T10:00:00.000000Z", "{not json"),
                (11, "CP-NEW", "2026-11-25T11:00:00.000000Z", json.dumps(newer)),
                (12, "CP-ODD", "2026-11-25T12:00:00.000000Z", '{"format": "other"}'),
            ],
        )
        db.commit()
    finally:
        db.close()
    caplog.set_level(logging.WARNING, logger="console.central.store")
    with Store.open(db_path) as second:
        loaded = second.load_checks()
        assert [r.check_id for r in loaded] == [good_id]
        assert loaded[0].station_id == "CP-OK"
        # Ids of unreadable rows are not reused either (the row is still there).
        assert await asyncio.wait_for(second.save_check(_result()), WAIT) == 13
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    for station_id in ("CP-BAD", "CP-NEW", "CP-ODD"):
        assert any(f"Station {station_id}: stored reservation check" in w for w in warnings)
    assert any("newer console" in w for w in warnings)


def _create_schema_version_1(db_path: Path) -> None:
    """A database as the console before check runs were stored left it."""
    db_path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(db_path, isolation_level=None)
    try:
        db.execute("BEGIN")
        db.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
        # Released migrations are never edited, so entry 0 is exactly version 1's schema.
        for statement in MIGRATIONS[0]:
            db.execute(statement)
        db.execute("INSERT INTO schema_version (version) VALUES (1)")
        db.execute(
            "INSERT INTO reservation_attempts (reservation_id, station_id, created_at,"
            " connector_id, id_tag, expiry_date, state)"
            " VALUES (7, 'CP-OLD', '2026-11-24T09:00:00.000000Z', 1, 'TAG',"
            " '2026-11-24T10:00:00.000000Z', 'accepted')"
        )
        db.execute("INSERT INTO counters (name, value) VALUES ('next_reservation_id', 8)")
        db.execute("COMMIT")
    finally:
        db.close()


@pytest.mark.asyncio
async def test_a_version_1_database_is_migrated_and_keeps_its_data(db_path: Path) -> None:
    _create_schema_version_1(db_path)
    assert SCHEMA_VERSION >= 2
    with Store.open(db_path) as migrated:
        assert migrated.load_checks() == []
        (old,) = migrated.load_reservations()
        assert (old.reservation_id, old.station_id, old.state) == (
            7,
            "CP-OLD",
            ReservationState.ACCEPTED,
        )
        assert isinstance(old, ReservationRecord)
        assert migrated.peek_reservation_id() == 8
        check_id = await asyncio.wait_for(migrated.save_check(_result()), WAIT)
        assert check_id == 1
    db = sqlite3.connect(db_path)
    try:
        assert db.execute("SELECT version FROM schema_version").fetchall() == [(SCHEMA_VERSION,)]
    finally:
        db.close()
    with Store.open(db_path) as reopened:
        assert [r.check_id for r in reopened.load_checks()] == [1]


@pytest.mark.asyncio
async def test_saving_to_a_closed_store_does_not_hang(db_path: Path) -> None:
    closed = Store.open(db_path)
    closed.close()
    assert await asyncio.wait_for(closed.save_check(_result()), WAIT) == 1


@pytest.mark.asyncio
async def test_the_memory_fake_follows_the_same_contract() -> None:
    fake = MemoryStore()
    later = _result("CP-1", started_at=T0 + timedelta(hours=1))
    first_id = await fake.save_check(later)
    second_id = await fake.save_check(_result("CP-2"))
    assert first_id != second_id
    updated = _finished(dataclasses.replace(later, check_id=first_id))
    assert await fake.save_check(updated) == first_id
    assert [r.station_id for r in fake.load_checks()] == ["CP-2", "CP-1"]
    assert fake.load_checks()[1] == updated


@pytest.mark.asyncio
async def test_runs_saved_while_the_disk_fails_are_written_when_it_works_again(
    db_path: Path,
) -> None:
    errors: list[str] = []
    store = Store.open(db_path, on_error=errors.append)
    try:
        # Another connection makes every write fail, as a full or broken disk would.
        saboteur = sqlite3.connect(db_path, isolation_level=None)
        saboteur.execute(
            "CREATE TRIGGER break_writes BEFORE INSERT ON reservation_checks"
            " BEGIN SELECT RAISE(ABORT, 'disk I/O error (simulated)'); END"
        )
        # Neither raises nor hangs; the id is handed out all the same.
        check_id = await asyncio.wait_for(store.save_check(_result()), WAIT)
        assert check_id == 1
        assert store.error is not None
        assert "simulated" in store.error
        final = _finished(dataclasses.replace(_result(), check_id=check_id))
        assert await asyncio.wait_for(store.save_check(final), WAIT) == check_id
        assert await asyncio.wait_for(store.save_check(_result("CP-2")), WAIT) == 2
        saboteur.execute("DROP TRIGGER break_writes")
        saboteur.close()
    finally:
        store.close()  # the final attempt writes what was kept in memory
    assert errors
    with Store.open(db_path) as reopened:
        loaded = reopened.load_checks()
        assert [r.check_id for r in loaded] == [1, 2]
        assert loaded[0] == final  # the last version of the run, not the first
