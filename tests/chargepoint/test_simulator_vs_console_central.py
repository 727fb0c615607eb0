"""Our simulated stations against our own Central System: the console's reservation
lifecycle (accepted, rejected, occupied, faulted, unavailable, used, cancelled, ended)
driven by real stations over real sockets."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

import pytest
import pytest_asyncio

from console.central.config import CentralSystemConfig
from console.central.model import ReservationState
from console.central.server import CentralSystem
from console.chargepoint.client import ClientOptions
from console.chargepoint.simulator import (
    DEMO_ORDER,
    SimulationOptions,
    SiteSimulator,
    demo_behaviours,
)
from console.ocpp.reservation import CancelReservationStatus, ReservationStatus
from console.ocpp.versions import OcppVersion
from tests.central.fakes import MemoryStore

WAIT = 10.0
T = TypeVar("T")


@dataclass
class Site:
    central: CentralSystem
    simulator: SiteSimulator


async def wait_until(central: CentralSystem, probe: Callable[[], T | None]) -> T:
    """Until ``probe()`` gives something, re-checked on every change of the Central System."""
    changed = asyncio.Event()
    unsubscribe = central.subscribe(lambda _event: changed.set())
    try:
        async with asyncio.timeout(WAIT):
            while True:
                changed.clear()
                found = probe()
                if found:
                    return found
                await changed.wait()
    finally:
        unsubscribe()


@pytest_asyncio.fixture
async def site(tmp_path: Path) -> AsyncIterator[Site]:
    config = CentralSystemConfig(
        host="127.0.0.1", port=0, data_dir=tmp_path, call_timeout=2.5, ping_interval=None
    )
    central = CentralSystem(config, store=MemoryStore())
    await central.start()
    # The 1.6 demo: these tests follow the 1.6 rules (connector 0, GetConfiguration).
    simulator = SiteSimulator.demo(
        f"ws://127.0.0.1:{central.port}",
        len(DEMO_ORDER),
        ocpp_version=OcppVersion.V16,
        options=SimulationOptions(
            client=ClientOptions(backoff_initial=0.05, backoff_max=0.2),
            slow_answer_delay=3.5,
            card_arrives_after=0.1,
        ),
    )
    await simulator.start()
    try:
        async with asyncio.timeout(WAIT):
            await simulator.wait_booted()
        yield Site(central, simulator)
    finally:
        await simulator.stop()
        await central.stop()


def expiry() -> datetime:
    return datetime.now(UTC) + timedelta(minutes=15)


def test_demo_behaviours_cycle_in_order() -> None:
    demo = demo_behaviours(9)
    assert [station_id for station_id, _ in demo][:3] == ["CP-01", "CP-02", "CP-03"]
    assert [behaviour.value for _, behaviour in demo] == [
        "normal",
        "faulted",
        "unavailable",
        "no_reservations",
        "no_connector_zero",
        "slow",
        "card_arrives",
        "normal",
        "faulted",
    ]
    assert demo_behaviours(120)[0][0] == "CP-001"


@pytest.mark.asyncio
async def test_every_answer_reaches_the_console(site: Site) -> None:
    central = site.central
    expected = {
        "CP-01": ReservationStatus.ACCEPTED,
        "CP-02": ReservationStatus.FAULTED,
        "CP-03": ReservationStatus.UNAVAILABLE,
        "CP-04": ReservationStatus.REJECTED,
    }
    for station_id, status in expected.items():
        record = await central.reserve_now(station_id, 1, "CARD-1", expiry())
        assert record.confirmation is status, station_id
    # The console learned from our GetConfiguration answer that CP-05 has no connector 0
    # reservations, and refuses to send one; CP-01 has them.
    await wait_until(
        central,
        lambda: (s := central.station("CP-05")) and s.reserve_connector_zero_supported is False,
    )
    known = central.station("CP-01")
    assert known is not None
    assert known.reserve_connector_zero_supported is True
    assert known.number_of_connectors == 2
    zero = await central.reserve_now("CP-05", 0, "CARD-1", expiry())
    assert zero.state is ReservationState.ERROR
    assert zero.confirmation is None
    slow = await central.reserve_now("CP-06", 1, "CARD-1", expiry())
    assert slow.state is ReservationState.NO_RESPONSE
    # The late answer reconciles the attempt.
    await wait_until(
        central,
        lambda: (
            (r := central.reservation("CP-06", slow.reservation_id))
            and r.confirmation is ReservationStatus.ACCEPTED
        ),
    )


@pytest.mark.asyncio
async def test_card_arrives_and_the_reservation_is_used(site: Site) -> None:
    central = site.central
    record = await central.reserve_now("CP-07", 2, "Driver-9", expiry())
    assert record.state is ReservationState.ACCEPTED
    used = await wait_until(
        central,
        lambda: (
            (r := central.reservation("CP-07", record.reservation_id))
            and r.state is ReservationState.USED
            and r
        ),
    )
    assert used.reservation_id == record.reservation_id


@pytest.mark.asyncio
async def test_occupied_cancel_and_fault_end(site: Site) -> None:
    central = site.central
    first = await central.reserve_now("CP-01", 1, "CARD-1", expiry())
    assert first.confirmation is ReservationStatus.ACCEPTED
    second = await central.reserve_now("CP-01", 1, "CARD-2", expiry())
    assert second.confirmation is ReservationStatus.OCCUPIED
    cancel = await central.cancel_reservation("CP-01", first.reservation_id)
    assert cancel.status is CancelReservationStatus.ACCEPTED
    third = await central.reserve_now("CP-01", 2, "CARD-3", expiry())
    assert third.confirmation is ReservationStatus.ACCEPTED
    await site.simulator.station("CP-01").fault(2)
    ended = await wait_until(
        central,
        lambda: (
            (r := central.reservation("CP-01", third.reservation_id))
            and r.state in (ReservationState.ENDED, ReservationState.CANCELLED)
            and r
        ),
    )
    assert ended.state is ReservationState.ENDED


@pytest.mark.asyncio
async def test_the_slow_station_late_configuration_answer_counts(site: Site) -> None:
    # CP-06 answers GetConfiguration after the console's call timeout: the late answer
    # still tells the console what the station supports.
    central = site.central
    slow = await wait_until(
        central,
        lambda: (s := central.station("CP-06")) and s.number_of_connectors is not None and s,
    )
    assert slow.reserve_connector_zero_supported is True
    assert slow.number_of_connectors == 2
    assert any(
        e.station_id == "CP-06" and e.late and e.action == "GetConfiguration"
        for e in central.recent_trace()
    )
