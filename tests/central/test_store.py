"""The SQLite store: round trips, restart, the id counter, trace pruning, failures, SIGKILL."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from console.central.model import (
    CancelAttempt,
    ConnectorSnapshot,
    ReservationRecord,
    ReservationState,
    StationSnapshot,
    TraceDirection,
    TraceEntry,
)
from console.central.store import SCHEMA_VERSION, Store, StoreError
from console.central.store.schema import MIGRATIONS
from console.ocpp.enums import ChargePointErrorCode, ChargePointStatus
from console.ocpp.reservation import CancelReservationStatus, ReservationStatus

T0 = datetime(2026, 11, 25, 12, 0, 0, 123456, tzinfo=UTC)
WAIT = 30.0


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "console.sqlite3"


@pytest.fixture
def store(db_path: Path) -> Iterator[Store]:
    opened = Store.open(db_path)
    yield opened
    opened.close()


def _station(station_id: str = "CP-1", **changes: object) -> StationSnapshot:
    base = StationSnapshot(
        station_id=station_id,
        connected=True,
        state_since=T0,
        security_profile=1,
        remote_address="10.0.0.7:51234",
        vendor="Acme",
        model="Volt 22",
        serial_number="SN-9",
        firmware_version="1.2.3",
        registration_status="Accepted",
        last_message_at=T0 + timedelta(seconds=5),
        last_heartbeat_at=T0 + timedelta(seconds=4),
        heartbeat_interval=300,
        reserve_connector_zero_supported=False,
        number_of_connectors=2,
        is_new=True,
        note="replaced by a new connection",
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def _connector(connector_id: int = 1, **changes: object) -> ConnectorSnapshot:
    base = ConnectorSnapshot(
        station_id="CP-1",
        connector_id=connector_id,
        status=ChargePointStatus.RESERVED,
        error_code=ChargePointErrorCode.NO_ERROR,
        info="info text",
        vendor_error_code="V42",
        status_at=T0,
        transaction_id=17,
        id_tag="TAG-1",
        reservation_id=5,
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def _reservation(reservation_id: int = 5, **changes: object) -> ReservationRecord:
    base = ReservationRecord(
        reservation_id=reservation_id,
        station_id="CP-1",
        connector_id=1,
        id_tag="TAG-1",
        parent_id_tag="PARENT",
        expiry_date=T0 + timedelta(hours=1),
        created_at=T0,
        state=ReservationState.SENDING,
        updated_at=T0,
        history=((ReservationState.SENDING, T0),),
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def _advance(
    record: ReservationRecord, state: ReservationState, at: datetime, **changes: object
) -> ReservationRecord:
    return dataclasses.replace(
        record,
        state=state,
        updated_at=at,
        history=(*record.history, (state, at)),
        **changes,  # type: ignore[arg-type]
    )


def _trace(seq: int, station_id: str = "CP-1", at: datetime = T0) -> TraceEntry:
    return TraceEntry(seq=seq, at=at, station_id=station_id, direction=TraceDirection.IN, text="x")


# --- round trips ------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_station_round_trip_comes_back_disconnected(store: Store) -> None:
    saved = _station()
    bare = StationSnapshot(station_id="CP-2", connected=False)
    store.save_station(saved)
    store.save_station(bare)
    await store.flush()
    loaded = {s.station_id: s for s in store.load_stations()}
    assert loaded["CP-1"] == dataclasses.replace(saved, connected=False)
    assert loaded["CP-2"] == bare
    assert loaded["CP-1"].state_since is not None
    assert loaded["CP-1"].state_since.tzinfo is not None


@pytest.mark.asyncio
async def test_station_upsert_keeps_only_the_latest(store: Store) -> None:
    store.save_station(_station(vendor="Old"))
    store.save_station(_station(vendor="New", reserve_connector_zero_supported=None))
    await store.flush()
    [loaded] = store.load_stations()
    assert loaded.vendor == "New"
    assert loaded.reserve_connector_zero_supported is None


@pytest.mark.asyncio
async def test_connector_round_trip_and_upsert(store: Store) -> None:
    store.save_connector(_connector(1))
    store.save_connector(ConnectorSnapshot(station_id="CP-1", connector_id=0))
    store.save_connector(_connector(2, status=ChargePointStatus.FAULTED))
    store.save_connector(
        _connector(2, status=ChargePointStatus.SUSPENDED_EVSE, error_code=None, info=None)
    )
    await store.flush()
    loaded = store.load_connectors()
    assert [(c.station_id, c.connector_id) for c in loaded] == [
        ("CP-1", 0),
        ("CP-1", 1),
        ("CP-1", 2),
    ]
    assert loaded[0] == ConnectorSnapshot(station_id="CP-1", connector_id=0)
    assert loaded[1] == _connector(1)
    assert loaded[1].status is ChargePointStatus.RESERVED
    assert loaded[2].status is ChargePointStatus.SUSPENDED_EVSE
    assert loaded[2].error_code is None


@pytest.mark.asyncio
async def test_reservation_keeps_full_history(store: Store) -> None:
    record = _reservation()
    await store.save_reservation(record)
    record = _advance(
        record,
        ReservationState.ACCEPTED,
        T0 + timedelta(seconds=1),
        confirmation=ReservationStatus.ACCEPTED,
        answered_at=T0 + timedelta(seconds=1),
        latency=0.25,
    )
    await store.save_reservation(record)
    record = _advance(record, ReservationState.USED, T0 + timedelta(minutes=3), transaction_id=9)
    await store.save_reservation(record)
    [loaded] = store.load_reservations()
    assert loaded == record
    assert [state for state, _ in loaded.history] == [
        ReservationState.SENDING,
        ReservationState.ACCEPTED,
        ReservationState.USED,
    ]
    assert loaded.confirmation is ReservationStatus.ACCEPTED
    assert loaded.state is ReservationState.USED


@pytest.mark.asyncio
async def test_every_reservation_state_and_status_round_trips(store: Store) -> None:
    records = []
    for number, state in enumerate(ReservationState):
        confirmation = list(ReservationStatus)[number % len(ReservationStatus)]
        records.append(
            _reservation(
                100 + number,
                state=state,
                confirmation=confirmation,
                error="CALLERROR InternalError: boom",
                error_code="InternalError",
                created_at=T0 + timedelta(seconds=number),
                history=((state, T0 + timedelta(seconds=number)),),
            )
        )
    await asyncio.gather(*(store.save_reservation(r) for r in records))
    assert store.load_reservations() == records


@pytest.mark.asyncio
async def test_a_retried_id_is_a_separate_attempt(store: Store) -> None:
    first = _advance(_reservation(7), ReservationState.REJECTED, T0 + timedelta(seconds=1))
    second = _reservation(7, created_at=T0 + timedelta(minutes=1))
    await store.save_reservation(first)
    await store.save_reservation(second)
    assert store.load_reservations() == [first, second]


@pytest.mark.asyncio
async def test_records_without_history_append_one_row_per_state_change(store: Store) -> None:
    record = _reservation(history=())
    await store.save_reservation(record)
    await store.save_reservation(record)  # same state again: no new row
    accepted_at = T0 + timedelta(seconds=2)
    await store.save_reservation(
        dataclasses.replace(record, state=ReservationState.ACCEPTED, updated_at=accepted_at)
    )
    [loaded] = store.load_reservations()
    assert loaded.history == (
        (ReservationState.SENDING, T0),
        (ReservationState.ACCEPTED, accepted_at),
    )


@pytest.mark.asyncio
async def test_datetimes_come_back_as_the_same_instant_in_utc(store: Store) -> None:
    plus_two = timezone(timedelta(hours=2))
    local = datetime(2026, 11, 25, 14, 0, 0, 1, tzinfo=plus_two)
    store.save_station(_station(state_since=local, last_message_at=None))
    await store.flush()
    [loaded] = store.load_stations()
    assert loaded.state_since == local
    assert loaded.state_since is not None
    assert loaded.state_since.utcoffset() == timedelta(0)
    assert loaded.last_message_at is None


def test_save_reservation_without_a_loop_commits_at_once(store: Store) -> None:
    future = store.save_reservation(_reservation())
    assert future.done()
    assert store.load_reservations() == [_reservation()]


# --- restart ------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_reopening_keeps_everything(db_path: Path) -> None:
    first = Store.open(db_path)
    store_record = _advance(_reservation(), ReservationState.CANCELLED, T0 + timedelta(hours=1))
    first.save_station(_station())
    first.save_connector(_connector())
    await first.save_reservation(store_record)
    for seq in range(1, 6):
        first.append_trace(_trace(seq))
    allocated = await first.allocate_reservation_id()
    first.close()

    second = Store.open(db_path)
    try:
        assert second.load_stations() == [dataclasses.replace(_station(), connected=False)]
        assert second.load_connectors() == [_connector()]
        assert second.load_reservations() == [store_record]
        assert [e.seq for e in second.load_trace()] == [1, 2, 3, 4, 5]
        assert second.load_trace()[0] == _trace(1)
        assert second.peek_reservation_id() > allocated
    finally:
        second.close()


def test_close_is_idempotent_and_later_writes_are_dropped(db_path: Path) -> None:
    store = Store.open(db_path)
    store.close()
    store.close()
    store.save_station(_station())  # must not raise
    assert store.save_reservation(_reservation()).done()
    with pytest.raises(StoreError, match="closed"):
        store.load_stations()


# --- the id counter -----------------------------------------------------------------------


@pytest.mark.asyncio
async def test_id_counter_never_goes_back(db_path: Path) -> None:
    store = Store.open(db_path)
    assert store.peek_reservation_id() == 1
    assert await store.allocate_reservation_id() == 1
    assert await store.allocate_reservation_id() == 2
    assert store.peek_reservation_id() == 3
    await store.note_reservation_id(41)
    assert store.peek_reservation_id() == 42
    await store.note_reservation_id(10)  # lower: no change
    assert store.peek_reservation_id() == 42
    store.close()

    store = Store.open(db_path)
    assert store.peek_reservation_id() == 42
    assert await store.allocate_reservation_id() == 42
    store.close()

    store = Store.open(db_path)
    try:
        assert await store.allocate_reservation_id() == 43
    finally:
        store.close()


@pytest.mark.asyncio
async def test_concurrent_allocations_are_unique(store: Store) -> None:
    ids = await asyncio.gather(*(store.allocate_reservation_id() for _ in range(200)))
    assert sorted(ids) == list(range(1, 201))


@pytest.mark.asyncio
async def test_a_saved_reservation_id_is_never_handed_out(db_path: Path) -> None:
    store = Store.open(db_path)
    await store.save_reservation(_reservation(500))
    assert store.peek_reservation_id() == 501
    store.close()
    store = Store.open(db_path)
    try:
        assert await store.allocate_reservation_id() == 501
    finally:
        store.close()


# --- the trace ----------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_trace_pruning_keeps_the_newest(db_path: Path) -> None:
    store = Store.open(db_path, trace_limit=100)
    try:
        for seq in range(1, 1001):
            store.append_trace(_trace(seq))
        await store.flush()
        kept = store.load_trace(limit=10_000)
        assert [e.seq for e in kept] == list(range(901, 1001))
    finally:
        store.close()
    with sqlite3.connect(db_path) as db:
        assert db.execute("SELECT count(*) FROM trace").fetchone()[0] == 100
    db.close()


@pytest.mark.asyncio
async def test_a_lower_limit_prunes_on_open(db_path: Path) -> None:
    store = Store.open(db_path)
    for seq in range(1, 51):
        store.append_trace(_trace(seq))
    store.close()
    store = Store.open(db_path, trace_limit=10)
    try:
        assert [e.seq for e in store.load_trace()] == list(range(41, 51))
    finally:
        store.close()


@pytest.mark.asyncio
async def test_load_trace_filters(store: Store) -> None:
    entries = [
        _trace(seq, station_id=f"CP-{seq % 2}", at=T0 + timedelta(seconds=seq))
        for seq in range(1, 21)
    ]
    entries.append(
        TraceEntry(
            seq=21,
            at=T0 + timedelta(seconds=21),
            station_id="CP-1",
            direction=TraceDirection.OUT,
            text='[3,"m1",{"status":"Accepted"}]',
            message_type=3,
            message_id="m1",
            action="ReserveNow",
            latency=0.125,
            late=True,
            error_code="GenericError",
            note="late answer",
        )
    )
    for entry in entries:
        store.append_trace(entry)
    await store.flush()

    assert store.load_trace() == entries
    assert [e.seq for e in store.load_trace(limit=3)] == [19, 20, 21]
    assert [e.seq for e in store.load_trace(station_id="CP-0")] == list(range(2, 21, 2))
    window = store.load_trace(since=T0 + timedelta(seconds=5), until=T0 + timedelta(seconds=8))
    assert [e.seq for e in window] == [5, 6, 7, 8]
    combined = store.load_trace(limit=2, station_id="CP-1", since=T0 + timedelta(seconds=4))
    assert [e.seq for e in combined] == [19, 21]
    assert combined[-1] == entries[-1]
    assert store.load_trace(station_id="nobody") == []


@pytest.mark.asyncio
async def test_appending_does_not_block_the_loop(store: Store) -> None:
    ticks = 0
    stop = asyncio.Event()

    async def ticker() -> None:
        nonlocal ticks
        while not stop.is_set():
            ticks += 1
            await asyncio.sleep(0)

    task = asyncio.create_task(ticker())
    await asyncio.sleep(0)
    ticks_before = ticks
    for seq in range(1, 10_001):
        store.append_trace(_trace(seq))
        if seq % 500 == 0:
            await asyncio.sleep(0)  # as a server would, between frames
    appended_ticks = ticks
    await asyncio.wait_for(store.flush(), WAIT)
    flushed_ticks = ticks
    stop.set()
    await task
    assert appended_ticks > ticks_before
    # The commit ran in the writer thread while the loop kept ticking.
    assert flushed_ticks > appended_ticks
    assert len(store.load_trace(limit=20_000)) == 10_000


# --- schema and broken databases ----------------------------------------------------------


def test_migrates_an_empty_file(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    db_path.write_bytes(b"")
    store = Store.open(db_path)
    try:
        assert store.load_stations() == []
        assert store.peek_reservation_id() == 1
    finally:
        store.close()
    db = sqlite3.connect(db_path)
    try:
        assert db.execute("SELECT version FROM schema_version").fetchall() == [(SCHEMA_VERSION,)]
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        db.close()


def _a_version_2_file(db_path: Path) -> None:
    """A file as the console before cancel attempts left it: schema version 2, one attempt."""
    db_path.parent.mkdir(parents=True)
    db = sqlite3.connect(db_path)
    try:
        db.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
        for statement in (*MIGRATIONS[0], *MIGRATIONS[1]):
            db.execute(statement)
        db.execute("INSERT INTO schema_version VALUES (2)")
        db.execute(
            "INSERT INTO reservation_attempts (attempt_id, reservation_id, station_id,"
            " created_at, connector_id, id_tag, parent_id_tag, expiry_date, state,"
            " confirmation, error, error_code, transaction_id, updated_at, answered_at, latency)"
            " VALUES (1, 5, 'CP-1', '2026-11-25T12:00:00.123456Z', 1, 'TAG-1', NULL,"
            " '2026-11-25T13:00:00.123456Z', 'cancelled', 'Accepted', NULL, NULL, NULL,"
            " '2026-11-25T12:00:09.123456Z', '2026-11-25T12:00:01.123456Z', 0.25)"
        )
        db.execute(
            "INSERT INTO reservation_history VALUES"
            " (1, 0, 'sending', '2026-11-25T12:00:00.123456Z'),"
            " (1, 1, 'accepted', '2026-11-25T12:00:01.123456Z'),"
            " (1, 2, 'cancelled', '2026-11-25T12:00:09.123456Z')"
        )
        db.commit()
    finally:
        db.close()


@pytest.mark.asyncio
async def test_a_version_2_file_migrates_and_keeps_its_attempts(db_path: Path) -> None:
    _a_version_2_file(db_path)
    store = Store.open(db_path)
    try:
        (old,) = store.load_reservations()
        assert old.state is ReservationState.CANCELLED
        assert old.latency == 0.25
        assert [state for state, _ in old.history] == [
            ReservationState.SENDING,
            ReservationState.ACCEPTED,
            ReservationState.CANCELLED,
        ]
        assert old.cancel is None  # nothing was kept of its cancel then
        attempt = CancelAttempt(
            T0 + timedelta(seconds=8),
            CancelReservationStatus.ACCEPTED,
            T0 + timedelta(seconds=9),
            by_check=True,
        )
        await store.save_reservation(dataclasses.replace(old, cancel=attempt))
        assert store.peek_reservation_id() == 6
    finally:
        store.close()
    db = sqlite3.connect(db_path)
    try:
        assert db.execute("SELECT version FROM schema_version").fetchall() == [(SCHEMA_VERSION,)]
    finally:
        db.close()
    again = Store.open(db_path)
    try:
        (kept,) = again.load_reservations()
        assert kept == dataclasses.replace(old, cancel=attempt)
    finally:
        again.close()


def test_a_newer_schema_is_refused_and_left_alone(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    db = sqlite3.connect(db_path)
    db.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
    db.execute("INSERT INTO schema_version VALUES (?)", (SCHEMA_VERSION + 1,))
    db.commit()
    db.close()
    before = db_path.read_bytes()
    with pytest.raises(StoreError, match="newer version") as caught:
        Store.open(db_path)
    assert str(db_path) in str(caught.value)
    assert db_path.read_bytes() == before
    assert not db_path.with_name(db_path.name + "-wal").exists()


def test_a_file_that_is_not_a_database_is_refused(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    db_path.write_bytes(b"this is a text file, not SQLite\n" * 100)
    with pytest.raises(StoreError, match="not a database") as caught:
        Store.open(db_path)
    assert str(db_path) in str(caught.value)


def test_a_folder_in_place_of_the_file_is_refused(db_path: Path) -> None:
    db_path.mkdir(parents=True)
    with pytest.raises(StoreError, match="folder"):
        Store.open(db_path)


def test_a_data_folder_that_cannot_be_created_is_refused(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the data folder should be")
    with pytest.raises(StoreError, match="data folder"):
        Store.open(blocker / "console.sqlite3")


def test_a_read_only_data_folder_is_refused(db_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Tests run as root, who may write anywhere: pretend the folder is read-only.
    db_path.parent.mkdir(parents=True)
    real_access = os.access

    def access(path: object, mode: int) -> bool:
        if Path(str(path)) == db_path.parent and mode & os.W_OK:
            return False
        return real_access(path, mode)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "access", access)
    with pytest.raises(StoreError, match="read-only") as caught:
        Store.open(db_path)
    assert str(db_path.parent) in str(caught.value)
    assert not db_path.exists()


@pytest.mark.asyncio
async def test_failing_writes_degrade_and_recover(db_path: Path) -> None:
    errors: list[str] = []
    store = Store.open(db_path, on_error=errors.append)
    try:
        # Another connection makes every write fail, as a full or broken disk would.
        saboteur = sqlite3.connect(db_path, isolation_level=None)
        saboteur.execute(
            "CREATE TRIGGER break_writes BEFORE INSERT ON reservation_attempts"
            " BEGIN SELECT RAISE(ABORT, 'disk I/O error (simulated)'); END"
        )
        await asyncio.wait_for(store.save_reservation(_reservation(1)), WAIT)
        assert store.error is not None
        assert "simulated" in store.error
        assert str(db_path) in store.error
        await asyncio.sleep(0)  # on_error is delivered on the loop
        assert len(errors) == 1
        # Further writes neither raise nor hang, and the same problem is reported once.
        store.save_station(_station())
        store.append_trace(_trace(1))
        await asyncio.wait_for(store.save_reservation(_reservation(2)), WAIT)
        await asyncio.wait_for(store.flush(), WAIT)
        assert await asyncio.wait_for(store.allocate_reservation_id(), WAIT) == 3
        assert len(errors) == 1

        saboteur.execute("DROP TRIGGER break_writes")
        saboteur.close()
    finally:
        store.close()  # the final attempt writes what was kept in memory
    reopened = Store.open(db_path)
    try:
        assert [r.reservation_id for r in reopened.load_reservations()] == [1, 2]
        assert [s.station_id for s in reopened.load_stations()] == ["CP-1"]
        assert reopened.peek_reservation_id() == 4
    finally:
        reopened.close()


@pytest.mark.asyncio
async def test_a_write_that_cannot_be_made_does_not_stop_the_writer(
    db_path: Path, request: pytest.FixtureRequest
) -> None:
    errors: list[str] = []
    store = Store.open(db_path, on_error=errors.append)
    request.addfinalizer(store.close)
    broken = dataclasses.replace(_trace(1), at="not a time")  # type: ignore[arg-type]
    store.append_trace(broken)
    await asyncio.wait_for(store.flush(), WAIT)
    assert len(errors) == 1
    assert "cannot save" in errors[0]
    assert str(db_path) in errors[0]
    # The writer lives on: later writes are committed, and the error clears with them.
    await asyncio.wait_for(store.save_reservation(_reservation()), WAIT)
    assert store.load_reservations() == [_reservation()]
    assert store.error is None


@pytest.mark.asyncio
async def test_in_memory_store_works_and_says_nothing_is_saved() -> None:
    reason = "cannot open database at /nowhere: disk is full"
    store = Store.in_memory(reason)
    try:
        assert store.error == reason
        store.save_station(_station())
        store.append_trace(_trace(1))
        assert await asyncio.wait_for(store.allocate_reservation_id(), WAIT) == 1
        await asyncio.wait_for(store.save_reservation(_reservation(9)), WAIT)
        assert [s.station_id for s in store.load_stations()] == ["CP-1"]
        assert store.load_reservations() == [_reservation(9)]
        assert store.load_trace() == [_trace(1)]
        assert store.error == reason  # a successful commit does not hide it
    finally:
        store.close()
    other = Store.in_memory()
    try:
        assert other.load_stations() == []
        assert other.error is None
    finally:
        other.close()


@pytest.mark.asyncio
async def test_many_saves_of_one_row_in_a_burst_keep_the_last(store: Store) -> None:
    for n in range(1, 501):
        store.save_connector(_connector(1, transaction_id=n))
        store.save_station(_station(heartbeat_interval=n))
    await store.flush()
    assert [c.transaction_id for c in store.load_connectors()] == [500]
    assert [s.heartbeat_interval for s in store.load_stations()] == [500]


# --- SIGKILL ------------------------------------------------------------------------------


def test_sigkill_loses_nothing_that_was_acknowledged(db_path: Path) -> None:
    child_script = Path(__file__).with_name("store_sigkill_child.py")
    child = subprocess.Popen(
        [sys.executable, str(child_script), str(db_path)],
        stdout=subprocess.PIPE,
        text=True,
    )
    acknowledged: list[str] = []
    try:
        assert child.stdout is not None
        for line in child.stdout:
            acknowledged.append(line.strip())
            if len(acknowledged) >= 400:
                break
        child.send_signal(signal.SIGKILL)
        # Lines printed between the last read and the kill were acknowledged too.
        rest, _ = child.communicate(timeout=WAIT)
        acknowledged.extend(line.strip() for line in rest.splitlines() if line.strip())
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(WAIT)
    assert child.returncode == -signal.SIGKILL
    assert acknowledged[0] == "ready"

    ids = [int(line.split()[1]) for line in acknowledged if line.startswith("id ")]
    noted = [int(line.split()[1]) for line in acknowledged if line.startswith("noted ")]
    states = [line.split()[1:] for line in acknowledged if line.startswith("state ")]
    assert len(ids) > 10
    assert states

    store = Store.open(db_path)
    try:
        assert store.peek_reservation_id() > max(ids + noted)
        stored = {
            (r.reservation_id, r.created_at): [state.value for state, _ in r.history]
            for r in store.load_reservations()
        }
        for reservation_id, state, created in states:
            key = (int(reservation_id), datetime.fromisoformat(created))
            assert key in stored, f"reservation {reservation_id} lost"
            assert state in stored[key], f"state {state} of {reservation_id} lost"
    finally:
        store.close()
    db = sqlite3.connect(db_path)
    try:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        db.close()
