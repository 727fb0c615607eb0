"""The console follows what the station reports: reservations it no longer holds end,
late GetConfiguration answers still count, and the after-boot log lines say what happened."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from ocpp.routing import on
from ocpp.v16 import call, call_result
from ocpp.v16.enums import Action

from console.central import lifecycle
from console.central.book import NO_LONGER_HELD, ReservationBook
from console.central.model import ReservationState
from console.central.server import CentralSystem
from tests.central.conftest import StartCentral
from tests.central.ocpp_station import (
    OcppStation,
    connected_station,
    minutes_from_now,
    record_in_state,
    wait_until,
)

pytestmark = pytest.mark.asyncio


def _connector_reservation(
    central: CentralSystem, station_id: str, connector_id: int
) -> int | None:
    connector = next(
        (c for c in central.connectors(station_id) if c.connector_id == connector_id), None
    )
    return None if connector is None else connector.reservation_id


@pytest.fixture
def no_grace(monkeypatch: pytest.MonkeyPatch) -> None:
    """Act on an Available report at once (the reservations here were accepted earlier)."""
    monkeypatch.setattr(lifecycle, "AVAILABLE_GRACE", 0.0)


class _LogWaiter(logging.Handler):
    """Resolves a future when a log line containing ``text`` is emitted."""

    def __init__(self, text: str) -> None:
        super().__init__(logging.INFO)
        self.text = text
        self.found: asyncio.Future[str] = asyncio.get_running_loop().create_future()

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if self.text in message and not self.found.done():
            self.found.set_result(message)


@pytest.fixture
def core_log() -> Iterator[logging.Logger]:
    core_logger = logging.getLogger("console.central.core")
    level = core_logger.level
    core_logger.setLevel(logging.INFO)
    yield core_logger
    core_logger.setLevel(level)


@contextlib.contextmanager
def _watching(core_logger: logging.Logger, waiter: _LogWaiter) -> Iterator[_LogWaiter]:
    core_logger.addHandler(waiter)
    try:
        yield waiter
    finally:
        core_logger.removeHandler(waiter)


# --- 1. reservations the station no longer holds ----------------------------------------


@pytest.mark.usefixtures("no_grace")
async def test_available_after_a_restart_ends_the_lingering_reservation(
    start_central: StartCentral,
) -> None:
    central = await start_central()
    async with connected_station(central, "CP-R") as station:
        await station.status(1, "Available")
        held = await central.reserve_now("CP-R", 1, "CARD-R1", minutes_from_now(45))
        assert held.state is ReservationState.ACCEPTED
        await station.status(1, "Reserved")
    await central.stop()

    again = await start_central()
    # Kept at load: the station may well still hold it.
    loaded = again.reservation("CP-R", held.reservation_id)
    assert loaded is not None
    assert loaded.state is ReservationState.ACCEPTED
    assert _connector_reservation(again, "CP-R", 1) == held.reservation_id
    async with connected_station(again, "CP-R") as station:
        # The station rebooted meanwhile and lost it: its connector is free.
        await station.status(1, "Available")
        ended = await wait_until(
            again, record_in_state(again, "CP-R", held.reservation_id, ReservationState.ENDED)
        )
    assert ended.error == NO_LONGER_HELD
    assert _connector_reservation(again, "CP-R", 1) is None


@pytest.mark.usefixtures("no_grace")
async def test_available_at_the_expiry_is_expired(
    central: CentralSystem, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A station frees the connector when the reservation expires; the console's timer
    # may come a moment later. (A huge slack stands in for "within 2 s of the expiry".)
    monkeypatch.setattr(lifecycle, "EXPIRY_SLACK", 3600.0)
    async with connected_station(central, "CP-E") as station:
        record = await central.reserve_now("CP-E", 1, "TAG", minutes_from_now(15))
        await station.status(1, "Available")
        expired = await wait_until(
            central,
            record_in_state(central, "CP-E", record.reservation_id, ReservationState.EXPIRED),
        )
    assert expired.error is None
    assert _connector_reservation(central, "CP-E", 1) is None


@pytest.mark.usefixtures("no_grace")
async def test_preparing_then_start_transaction_uses_it(central: CentralSystem) -> None:
    async with connected_station(central, "CP-P") as station:
        record = await central.reserve_now("CP-P", 1, "TAG", minutes_from_now(15))
        await station.status(1, "Reserved")
        # Stations report Preparing before the StartTransaction that uses the reservation.
        await station.status(1, "Preparing")
        assert central.reservation("CP-P", record.reservation_id).state is (  # type: ignore[union-attr]
            ReservationState.ACCEPTED
        )
        await station.call(
            call.StartTransaction(
                connector_id=1,
                id_tag="TAG",
                meter_start=0,
                timestamp=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                reservation_id=record.reservation_id,
            )
        )
        await station.status(1, "Charging")
        used = await wait_until(
            central, record_in_state(central, "CP-P", record.reservation_id, ReservationState.USED)
        )
    assert ReservationState.ENDED not in [state for state, _ in used.history]


@pytest.mark.usefixtures("no_grace")
async def test_available_elsewhere_ends_nothing(central: CentralSystem) -> None:
    async with connected_station(central, "CP-O") as station:
        record = await central.reserve_now("CP-O", 1, "TAG", minutes_from_now(15))
        # Each status call returns after the console handled it.
        await station.status(2, "Available")
        await station.status(0, "Available")
        await station.status(1, "Reserved")
        assert central.reservation("CP-O", record.reservation_id).state is (  # type: ignore[union-attr]
            ReservationState.ACCEPTED
        )
        assert _connector_reservation(central, "CP-O", 1) == record.reservation_id
        await station.status(1, "Available")
        assert central.reservation("CP-O", record.reservation_id).state is (  # type: ignore[union-attr]
            ReservationState.ENDED
        )


async def test_an_available_just_after_the_acceptance_waits_for_reserved(
    central: CentralSystem, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An Available the station prepared before taking the reservation can arrive right
    # after its Accepted answer; the Reserved report follows. Only an Available that
    # still stands when the grace is over ends the reservation.
    monkeypatch.setattr(lifecycle, "AVAILABLE_GRACE", 3.0)
    rechecked: list[int] = []
    both_rechecked = asyncio.get_running_loop().create_future()
    original = ReservationBook._recheck_available

    def recheck(self: ReservationBook, key: Any) -> None:
        original(self, key)
        rechecked.append(key[0])
        if len(rechecked) == 2 and not both_rechecked.done():
            both_rechecked.set_result(None)

    monkeypatch.setattr(ReservationBook, "_recheck_available", recheck)
    async with connected_station(central, "CP-G") as station:
        kept = await central.reserve_now("CP-G", 1, "TAG", minutes_from_now(15))
        lost = await central.reserve_now("CP-G", 2, "TAG", minutes_from_now(15))
        await station.status(1, "Available")
        await station.status(1, "Reserved")
        await station.status(2, "Available")
        assert central.reservation("CP-G", lost.reservation_id).state is (  # type: ignore[union-attr]
            ReservationState.ACCEPTED
        )
        await asyncio.wait_for(both_rechecked, 15)
    assert sorted(rechecked) == sorted([kept.reservation_id, lost.reservation_id])
    assert central.reservation("CP-G", kept.reservation_id).state is ReservationState.ACCEPTED  # type: ignore[union-attr]
    still = central.reservation("CP-G", lost.reservation_id)
    assert still is not None
    assert still.state is ReservationState.ENDED
    assert still.error == NO_LONGER_HELD
    assert _connector_reservation(central, "CP-G", 1) == kept.reservation_id
    assert _connector_reservation(central, "CP-G", 2) is None


# --- 2. a late GetConfiguration answer ------------------------------------------------


class _SlowConfigurationStation(OcppStation):
    """Answers GetConfiguration only when the test releases it (after the timeout)."""

    def __init__(self, station_id: str, connection: Any) -> None:
        super().__init__(station_id, connection)
        self.release = asyncio.Event()

    @on(Action.get_configuration)
    async def on_get_configuration(self, **payload: Any) -> Any:
        self.configuration_asked.set()
        await self.release.wait()
        return call_result.GetConfiguration(
            configuration_key=[
                {"key": "ReserveConnectorZeroSupported", "readonly": True, "value": "true"},
                {"key": "NumberOfConnectors", "readonly": True, "value": "3"},
            ]
        )


async def test_a_late_configuration_answer_still_applies(
    impatient_central: CentralSystem,
) -> None:
    central = impatient_central
    async with connected_station(
        central, "CP-SLOW", boot=False, station_class=_SlowConfigurationStation
    ) as station:
        assert isinstance(station, _SlowConfigurationStation)
        await station.boot()
        await wait_until(
            central,
            lambda: any(
                e.station_id == "CP-SLOW" and "no answer to GetConfiguration" in e.text
                for e in central.recent_trace()
            ),
        )
        snapshot = central.station("CP-SLOW")
        assert snapshot is not None
        assert snapshot.reserve_connector_zero_supported is None
        station.release.set()
        updated = await wait_until(
            central,
            lambda: (s := central.station("CP-SLOW")) and s.number_of_connectors == 3 and s,
        )
    assert updated.reserve_connector_zero_supported is True
    assert any(e.late and e.action == "GetConfiguration" for e in central.recent_trace())


# --- 3. the after-boot log lines ------------------------------------------------------


class _RefusingStation(OcppStation):
    """A station that implements neither GetConfiguration nor TriggerMessage."""

    def on_get_configuration(self, **payload: Any) -> Any:  # not routed: NotImplemented
        raise AssertionError("not routed")

    def on_trigger_message(self, **payload: Any) -> Any:
        raise AssertionError("not routed")


async def test_a_callerror_is_logged_as_refused(
    central: CentralSystem, core_log: logging.Logger
) -> None:
    waiter = _LogWaiter("TriggerMessage StatusNotification")
    with _watching(core_log, waiter):
        async with connected_station(
            central, "CP-NI", boot=False, station_class=_RefusingStation
        ) as station:
            await station.boot()
            line = await asyncio.wait_for(waiter.found, 15)
    assert "refused with CALLERROR NotImplemented" in line
    assert "not answered" not in line


class _SilentStation(OcppStation):
    """Never answers GetConfiguration (and so, being busy, nothing after it in time)."""

    @on(Action.get_configuration)
    async def on_get_configuration(self, **payload: Any) -> Any:
        await asyncio.Event().wait()


async def test_a_timeout_is_logged_as_not_answered(
    impatient_central: CentralSystem, core_log: logging.Logger
) -> None:
    waiter = _LogWaiter("TriggerMessage StatusNotification")
    with _watching(core_log, waiter):
        async with connected_station(
            impatient_central, "CP-MUTE", boot=False, station_class=_SilentStation
        ) as station:
            await station.boot()
            line = await asyncio.wait_for(waiter.found, 15)
    assert "not answered (timeout)" in line
    assert "CALLERROR" not in line
