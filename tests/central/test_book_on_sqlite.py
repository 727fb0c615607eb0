"""The reservation book over the real SQLite store: what a caller is told is on disk, what
ends a reservation, and what a restart after a crash settles."""

from __future__ import annotations

import asyncio
import dataclasses
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from ocpp.exceptions import NotSupportedError
from ocpp.routing import on
from ocpp.v16 import call, call_result
from ocpp.v16.enums import Action

from console.central.config import CentralSystemConfig, IdTagEntry
from console.central.model import ReservationRecord, ReservationState, StationSnapshot
from console.central.store import Store
from console.ocpp.reservation import CancelReservationStatus
from tests.central.conftest import StartCentral
from tests.central.ocpp_station import (
    OcppStation,
    connected_station,
    minutes_from_now,
    record_in_state,
    wait_until,
)

pytestmark = pytest.mark.asyncio


class _WatchedStore:
    """The real store, noting each reservation save's commit future."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.saves: list[tuple[ReservationRecord, asyncio.Future[None]]] = []

    def save_reservation(self, record: ReservationRecord) -> asyncio.Future[None]:
        future = self.store.save_reservation(record)
        self.saves.append((record, future))
        return future

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)


def _stored_state(database: Path, reservation_id: int) -> str | None:
    # A connection of its own: sees only what the writer has committed.
    with sqlite3.connect(database) as db:
        row = db.execute(
            "SELECT state FROM reservation_attempts WHERE reservation_id = ?"
            " ORDER BY attempt_id DESC LIMIT 1",
            (reservation_id,),
        ).fetchone()
    return None if row is None else str(row[0])


async def test_acknowledged_states_are_on_disk_before_returning(
    start_central: StartCentral, data_dir: Path
) -> None:
    database = CentralSystemConfig(data_dir=data_dir).database_path()
    watched = _WatchedStore(Store.open(database))
    try:
        central = await start_central(store=watched)
        async with connected_station(central, "CP-K"):
            record = await central.reserve_now("CP-K", 1, "TAG", minutes_from_now(15))
            # No await since the return: the commit was awaited inside, or it is not done
            # (its future is resolved on the loop, which has not run since).
            saved, committed = watched.saves[-1]
            assert saved == record
            assert committed.done()
            assert _stored_state(database, record.reservation_id) == "accepted"
            outcome = await central.cancel_reservation("CP-K", record.reservation_id)
            assert outcome.status is CancelReservationStatus.ACCEPTED
            saved, committed = watched.saves[-1]
            assert saved.state is ReservationState.CANCELLED
            assert committed.done()
            assert _stored_state(database, record.reservation_id) == "cancelled"
    finally:
        watched.store.close()


async def test_connector_unavailable_ends_its_reservation_only(
    start_central: StartCentral,
) -> None:
    central = await start_central()
    async with connected_station(central, "CP-V") as station:
        first = await central.reserve_now("CP-V", 1, "TAG-1", minutes_from_now(15))
        second = await central.reserve_now("CP-V", 2, "TAG-2", minutes_from_now(15))
        await station.status(2, "Unavailable")
        ended = await wait_until(
            central,
            record_in_state(central, "CP-V", second.reservation_id, ReservationState.ENDED),
        )
        assert ended.error == "connector 2 went Unavailable"
        kept = central.reservation("CP-V", first.reservation_id)
        assert kept is not None
        assert kept.state is ReservationState.ACCEPTED


@pytest.mark.parametrize("status", ["Unavailable", "Faulted"])
async def test_a_status_on_connector_zero_ends_every_reservation(
    start_central: StartCentral, status: str
) -> None:
    central = await start_central()
    async with connected_station(central, "CP-Z") as station:
        records = [
            await central.reserve_now("CP-Z", connector, f"TAG-{connector}", minutes_from_now(15))
            for connector in (1, 2)
        ]
        await station.status(0, status)
        for record in records:
            ended = await wait_until(
                central,
                record_in_state(central, "CP-Z", record.reservation_id, ReservationState.ENDED),
            )
            assert ended.error == f"connector 0 went {status}"
            connector = next(
                c for c in central.connectors("CP-Z") if c.connector_id == record.connector_id
            )
            assert connector.reservation_id is None


async def test_available_on_connector_zero_ends_nothing(start_central: StartCentral) -> None:
    central = await start_central()
    async with connected_station(central, "CP-A0") as station:
        record = await central.reserve_now("CP-A0", 1, "TAG", minutes_from_now(15))
        await station.status(0, "Available")
        # A later report on connector 1 is applied after the one on connector 0.
        await station.status(1, "Reserved")
        await wait_until(
            central,
            lambda: any(
                c.connector_id == 1 and c.status is not None and c.status.value == "Reserved"
                for c in central.connectors("CP-A0")
            ),
        )
        kept = central.reservation("CP-A0", record.reservation_id)
        assert kept is not None
        assert kept.state is ReservationState.ACCEPTED


async def _crashed_site(
    database: Path, now: datetime
) -> tuple[ReservationRecord, ReservationRecord]:
    """What a console killed mid-call leaves: a station still marked connected, an attempt
    still SENDING, and an accepted reservation whose expiry passed while it was down."""
    store = Store.open(database)
    try:
        store.save_station(
            StationSnapshot(
                station_id="CP-CRASH",
                connected=True,
                state_since=now - timedelta(hours=2),
                vendor="Crashed",
            )
        )
        sending = ReservationRecord(
            reservation_id=41,
            station_id="CP-CRASH",
            connector_id=1,
            id_tag="TAG-S",
            parent_id_tag=None,
            expiry_date=now + timedelta(hours=1),
            created_at=now - timedelta(minutes=5),
            state=ReservationState.SENDING,
            history=((ReservationState.SENDING, now - timedelta(minutes=5)),),
        )
        accepted_at = now - timedelta(hours=1)
        accepted = ReservationRecord(
            reservation_id=42,
            station_id="CP-CRASH",
            connector_id=2,
            id_tag="TAG-E",
            parent_id_tag=None,
            expiry_date=now - timedelta(minutes=30),
            created_at=accepted_at,
            state=ReservationState.ACCEPTED,
            history=(
                (ReservationState.SENDING, accepted_at),
                (ReservationState.ACCEPTED, accepted_at),
            ),
        )
        await store.save_reservation(sending)
        await store.save_reservation(accepted)
    finally:
        store.close()
    return sending, accepted


async def test_a_restart_after_a_crash_settles_what_was_left_open(
    start_central: StartCentral, data_dir: Path
) -> None:
    database = CentralSystemConfig(data_dir=data_dir).database_path()
    sending, accepted = await _crashed_site(database, datetime.now(UTC))

    central = await start_central()  # the real store on that file
    station = central.station("CP-CRASH")
    assert station is not None
    assert not station.connected
    assert station.vendor == "Crashed"
    unanswered = central.reservation("CP-CRASH", sending.reservation_id)
    assert unanswered is not None
    assert unanswered.state is ReservationState.NO_RESPONSE
    assert unanswered.error == "the console stopped before the station answered"
    expired = central.reservation("CP-CRASH", accepted.reservation_id)
    assert expired is not None
    assert expired.state is ReservationState.EXPIRED
    await central.stop()

    # What the restart settled is stored, not only shown.
    again = await start_central()
    states = {r.reservation_id: r.state for r in again.reservations()}
    assert states[sending.reservation_id] is ReservationState.NO_RESPONSE
    assert states[accepted.reservation_id] is ReservationState.EXPIRED
    assert _stored_state(database, accepted.reservation_id) == "expired"


async def test_a_late_callerror_to_reserve_now_is_an_error(start_central: StartCentral) -> None:
    central = await start_central(call_timeout=1.0)
    release = asyncio.Event()

    async def refuse_late(_payload: dict[str, Any]) -> Any:
        await release.wait()
        raise NotSupportedError(description="reservations are switched off")

    async with connected_station(central, "CP-LE") as station:
        station.reserve_behaviour = refuse_late
        record = await central.reserve_now("CP-LE", 1, "TAG", minutes_from_now(15))
        assert record.state is ReservationState.NO_RESPONSE
        release.set()
        settled = await wait_until(
            central,
            record_in_state(central, "CP-LE", record.reservation_id, ReservationState.ERROR),
        )
    assert settled.error_code == "NotSupported"
    assert settled.error == "NotSupported: reservations are switched off (late answer)"
    assert settled.confirmation is None
    assert [s for s, _ in settled.history] == [
        ReservationState.SENDING,
        ReservationState.NO_RESPONSE,
        ReservationState.ERROR,
    ]
    assert any(e.late and e.action == "ReserveNow" for e in central.recent_trace())


class _SlowCancelStation(OcppStation):
    """Answers CancelReservation only once the test releases it."""

    def __init__(self, station_id: str, connection: Any) -> None:
        super().__init__(station_id, connection)
        self.release_cancel = asyncio.Event()

    @on(Action.cancel_reservation)
    async def on_cancel_reservation(self, **payload: Any) -> Any:
        await self.release_cancel.wait()
        return call_result.CancelReservation(status=self.cancel_status)


@pytest.mark.parametrize(
    ("answer", "final"),
    [("Accepted", ReservationState.CANCELLED), ("Rejected", ReservationState.ACCEPTED)],
)
async def test_a_late_cancel_answer_settles_the_reservation(
    start_central: StartCentral, answer: str, final: ReservationState
) -> None:
    central = await start_central(call_timeout=1.0)
    async with connected_station(central, "CP-LC", station_class=_SlowCancelStation) as station:
        assert isinstance(station, _SlowCancelStation)
        record = await central.reserve_now("CP-LC", 1, "TAG", minutes_from_now(15))
        assert record.state is ReservationState.ACCEPTED
        outcome = await central.cancel_reservation("CP-LC", record.reservation_id)
        assert outcome.status is None
        assert outcome.error is not None
        assert "no answer" in outcome.error
        held = central.reservation("CP-LC", record.reservation_id)
        assert held is not None
        assert held.state is ReservationState.ACCEPTED
        # The record says what came of the cancel so far: no answer in time.
        waiting = held.cancel
        assert waiting is not None
        assert (waiting.status, waiting.timed_out, waiting.late) == (None, True, False)
        assert waiting.error == "no answer within 1 s"
        assert waiting.answered_at is None
        assert not waiting.by_check
        station.cancel_status = answer
        station.release_cancel.set()
        await wait_until(
            central,
            lambda: any(e.late and e.action == "CancelReservation" for e in central.recent_trace()),
        )
        settled = await wait_until(
            central,
            lambda: (
                found
                if (found := central.reservation("CP-LC", record.reservation_id)) is not None
                and found.state is final
                and found.cancel is not None
                and found.cancel.late
                else None
            ),
        )
    assert settled.state is final
    # The late answer completes the same attempt: when it was sent, that it got no answer
    # in time, and what the station answered at last.
    answered = settled.cancel
    assert answered is not None
    assert answered.answered_at is not None
    assert answered.answered_at > waiting.sent_at
    assert answered == dataclasses.replace(
        waiting,
        status=CancelReservationStatus(answer),
        answered_at=answered.answered_at,
        late=True,
    )
    await central.stop()

    # A restart keeps it.
    again = await start_central()
    reloaded = again.reservation("CP-LC", record.reservation_id)
    assert reloaded is not None
    assert reloaded.state is final
    assert reloaded.cancel == answered


async def test_a_cancel_accepted_after_the_expiry_stays_on_the_expired_record(
    start_central: StartCentral,
) -> None:
    central = await start_central()
    async with connected_station(central, "CP-HX"):
        expiry = datetime.now(UTC) + timedelta(seconds=1)
        record = await central.reserve_now("CP-HX", 1, "TAG", expiry)
        assert record.state is ReservationState.ACCEPTED
        # The station says nothing at the expiry: the console's own timer expires it.
        expired = await wait_until(
            central,
            record_in_state(central, "CP-HX", record.reservation_id, ReservationState.EXPIRED),
        )
        assert expired.cancel is None
        # The check's cancel afterwards: the station accepts it, so it still held it.
        outcome = await central.cancel_reservation_by_check("CP-HX", record.reservation_id)
        assert outcome.status is CancelReservationStatus.ACCEPTED
        proved = central.reservation("CP-HX", record.reservation_id)
    assert proved is not None
    assert proved.state is ReservationState.EXPIRED  # for the console, it had expired
    assert proved.history == expired.history
    cancel = proved.cancel
    assert cancel is not None
    assert cancel.status is CancelReservationStatus.ACCEPTED
    assert cancel.by_check
    assert not cancel.late
    assert not cancel.timed_out
    assert cancel.answered_at is not None
    assert cancel.sent_at > expiry
    await central.stop()

    again = await start_central()
    reloaded = again.reservation("CP-HX", record.reservation_id)
    assert reloaded is not None
    assert reloaded.state is ReservationState.EXPIRED
    assert reloaded.cancel == cancel


async def test_after_a_restart_available_clears_the_old_transaction_and_faulted_keeps_its_since(
    start_central: StartCentral,
) -> None:
    central = await start_central()
    async with connected_station(central, "CP-RS") as station:
        await station.status(2, "Faulted", "GroundFailure")
        started = await station.call(
            call.StartTransaction(
                connector_id=1,
                id_tag="TAG",
                meter_start=0,
                timestamp=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            )
        )
        await station.status(1, "Charging")
        faulted_since = next(
            c for c in central.connectors("CP-RS") if c.connector_id == 2
        ).status_at
        assert faulted_since is not None
    await central.stop()

    again = await start_central()
    charging = next(c for c in again.connectors("CP-RS") if c.connector_id == 1)
    assert charging.transaction_id == started.transaction_id
    async with connected_station(again, "CP-RS") as station:
        # The transaction ended while the console was closed; the StopTransaction is lost.
        await station.status(1, "Available")
        later = datetime.now(UTC) + timedelta(minutes=5)
        await _status_at(station, 2, "GroundFailure", later)
        connectors = {c.connector_id: c for c in again.connectors("CP-RS")}
        assert connectors[1].transaction_id is None
        assert connectors[1].id_tag is None
        assert connectors[2].status_at == faulted_since
        # Another error is another fault: its own since.
        await _status_at(station, 2, "HighTemperature", later)
        refaulted = next(c for c in again.connectors("CP-RS") if c.connector_id == 2)
        assert refaulted.status_at == later.replace(microsecond=0)


async def _status_at(station: OcppStation, connector_id: int, error: str, at: datetime) -> None:
    await station.call(
        call.StatusNotification(
            connector_id=connector_id,
            error_code=error,
            status="Faulted",
            timestamp=at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        )
    )


@pytest.mark.asyncio
async def test_a_transaction_for_another_card_ends_the_reservation_at_once(
    start_central: StartCentral,
) -> None:
    """The station gave the reserved connector to another card (a StartTransaction without
    the reservation's id): the reservation is over now, not when Available comes; a card of
    the reservation's parent does not end it."""
    central = await start_central(id_tags={"SIBLING": IdTagEntry(parent_id_tag="FLEET")})
    async with connected_station(central, "CP-OVR") as station:
        expiry = datetime.now(UTC) + timedelta(minutes=30)
        kept = await central.reserve_now("CP-OVR", 2, "CARD-A", expiry, parent_id_tag="FLEET")
        taken = await central.reserve_now("CP-OVR", 1, "CARD-A", expiry)
        stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        await station.call(
            call.StartTransaction(connector_id=2, id_tag="sibling", meter_start=0, timestamp=stamp)
        )
        await station.call(
            call.StartTransaction(connector_id=1, id_tag="CARD-B", meter_start=0, timestamp=stamp)
        )
        ended = await wait_until(
            central,
            record_in_state(central, "CP-OVR", taken.reservation_id, ReservationState.ENDED),
        )
        assert "overrode" in (ended.error or "")
        assert "CARD-B" in (ended.error or "")
        still = central.reservation("CP-OVR", kept.reservation_id)
        assert still is not None
        assert still.state is ReservationState.ACCEPTED
