"""The Central System's availability, remote start and remote stop calls, in both versions.

Against the ``ocpp`` package's stations (they validate every call of ours against the
official schemas before a handler sees it) and against our simulators (what the station
does after answering reaches the registry).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable

import pytest
import pytest_asyncio

from console.central.cli import wait_for_station
from console.central.model import ConnectorState
from console.central.server import CentralSystem
from console.chargepoint.client import ClientOptions
from console.chargepoint.simulator import Behaviour, SimulationOptions, SiteSimulator
from console.ocpp.enums import ChargePointStatus
from console.ocpp.versions import OcppVersion
from tests.central.conftest import StartCentral
from tests.central.ocpp_station import connected_station, wait_until
from tests.central.ocpp_station201 import connected_station201

SIMULATION = SimulationOptions(client=ClientOptions(backoff_initial=0.1, backoff_max=0.5))


@pytest_asyncio.fixture
async def central(start_central: StartCentral) -> CentralSystem:
    return await start_central()


@contextlib.asynccontextmanager
async def simulated(
    central: CentralSystem, station_id: str, version: OcppVersion
) -> AsyncIterator[SiteSimulator]:
    site = SiteSimulator(
        f"ws://127.0.0.1:{central.port}",
        connectors=2,
        station_specs=[(station_id, Behaviour.NORMAL)],
        options=SIMULATION,
        ocpp_version=version,
    )
    ready = asyncio.ensure_future(wait_for_station(central, station_id, 20, 4))
    await asyncio.sleep(0)  # let it subscribe before the station can connect
    await site.start()
    try:
        await ready
        yield site
    finally:
        ready.cancel()
        await site.stop()


def status_of(
    central: CentralSystem, station_id: str, connector_id: int, evse_id: int | None
) -> Callable[[], ConnectorState | None]:
    def check() -> ConnectorState | None:
        for c in central.connectors(station_id):
            if c.connector_id == connector_id and c.evse_id == evse_id:
                return c.status
        return None

    return check


def no_transaction(
    central: CentralSystem, station_id: str, connector_id: int, evse_id: int | None
) -> bool:
    return not any(
        c.transaction_id is not None
        for c in central.connectors(station_id)
        if c.connector_id == connector_id and c.evse_id == evse_id
    )


# --- the ocpp package's stations (schemas validated on their side) ---------------------------


@pytest.mark.asyncio
async def test_v16_calls_reach_the_ocpp_station_as_the_schemas_say(
    central: CentralSystem,
) -> None:
    async with connected_station(central, "PKG-16") as station:
        inoperative = await central.change_availability("PKG-16", 2, operative=False)
        station.availability_status = "Scheduled"
        operative = await central.change_availability("PKG-16", 0, operative=True)
        started = await central.remote_start("PKG-16", 1, "TAG-1")
        station.remote_status = "Rejected"
        stopped = await central.remote_stop("PKG-16", 42)
    assert (inoperative.action, inoperative.status, inoperative.accepted) == (
        "ChangeAvailability",
        "Accepted",
        True,
    )
    assert (operative.status, operative.accepted) == ("Scheduled", False)
    assert (started.action, started.status) == ("RemoteStartTransaction", "Accepted")
    assert (stopped.action, stopped.status, stopped.text) == (
        "RemoteStopTransaction",
        "Rejected",
        "Rejected",
    )
    assert station.remote_requests == [
        ("ChangeAvailability", {"connector_id": 2, "type": "Inoperative"}),
        ("ChangeAvailability", {"connector_id": 0, "type": "Operative"}),
        ("RemoteStartTransaction", {"id_tag": "TAG-1", "connector_id": 1}),
        ("RemoteStopTransaction", {"transaction_id": 42}),
    ]


@pytest.mark.asyncio
async def test_v201_calls_name_the_evse_and_the_id_token(central: CentralSystem) -> None:
    async with connected_station201(central, "PKG-201") as station:
        inoperative = await central.change_availability("PKG-201", 1, operative=False)
        whole = await central.change_availability("PKG-201", 0, operative=True)
        started = await central.remote_start("PKG-201", 2, "TAG-2")
        station.remote_status = "Rejected"
        stopped = await central.remote_stop("PKG-201", "tx-7")
    assert [o.status for o in (inoperative, whole, started)] == ["Accepted"] * 3
    assert (started.action, stopped.action, stopped.status) == (
        "RequestStartTransaction",
        "RequestStopTransaction",
        "Rejected",
    )
    assert station.asked("ChangeAvailability") == [
        {"evse": {"id": 1}, "operational_status": "Inoperative"},
        {"operational_status": "Operative"},
    ]
    (start,) = station.asked("RequestStartTransaction")
    assert start["evse_id"] == 2
    assert start["id_token"] == {"id_token": "TAG-2", "type": "Central"}
    assert isinstance(start["remote_start_id"], int)
    assert station.asked("RequestStopTransaction") == [{"transaction_id": "tx-7"}]


@pytest.mark.asyncio
async def test_no_station_says_why_nothing_was_sent(central: CentralSystem) -> None:
    outcome = await central.change_availability("GONE", 1, operative=False)
    assert outcome.status is None
    assert outcome.error == "station GONE is not connected"
    assert not outcome.accepted
    with pytest.raises(ValueError, match=">= 0"):
        await central.remote_start("GONE", -1, "TAG")


@pytest.mark.asyncio
async def test_a_callerror_comes_back_as_the_reason(central: CentralSystem) -> None:
    async with connected_station(central, "PKG-ERR") as station:

        def refuse(**_: object) -> object:
            raise NotImplementedError

        station.route_map["RemoteStopTransaction"]["_on_action"] = refuse
        outcome = await central.remote_stop("PKG-ERR", 1)
    assert outcome.status is None
    assert outcome.error is not None
    assert outcome.error.startswith("InternalError")


# --- our simulators: what the station does after it answered ---------------------------------


@pytest.mark.asyncio
async def test_v16_simulator_goes_unavailable_and_back_and_charges_on_a_remote_start(
    central: CentralSystem,
) -> None:
    async with simulated(central, "SIM-16", OcppVersion.V16):
        outcome = await central.change_availability("SIM-16", 1, operative=False)
        assert outcome.accepted
        await wait_until(
            central,
            lambda: status_of(central, "SIM-16", 1, None)() == ChargePointStatus.UNAVAILABLE,
        )
        assert (await central.change_availability("SIM-16", 1, operative=True)).accepted
        await wait_until(
            central,
            lambda: status_of(central, "SIM-16", 1, None)() == ChargePointStatus.AVAILABLE,
        )
        assert (await central.remote_start("SIM-16", 2, "REMOTE-1")).accepted
        running: int | str = await wait_until(
            central,
            lambda: next(
                (
                    c.transaction_id
                    for c in central.connectors("SIM-16")
                    if c.connector_id == 2 and c.transaction_id is not None
                ),
                None,
            ),
        )
        assert (await central.remote_stop("SIM-16", running)).accepted
        await wait_until(central, lambda: no_transaction(central, "SIM-16", 2, None))


@pytest.mark.asyncio
async def test_v201_simulator_takes_the_evse_out_and_back(central: CentralSystem) -> None:
    async with simulated(central, "SIM-201", OcppVersion.V201):
        assert (await central.change_availability("SIM-201", 1, operative=False)).accepted
        await wait_until(
            central,
            lambda: status_of(central, "SIM-201", 1, 1)() == ChargePointStatus.UNAVAILABLE,
        )
        assert (await central.change_availability("SIM-201", 1, operative=True)).accepted
        await wait_until(
            central,
            lambda: status_of(central, "SIM-201", 1, 1)() == ChargePointStatus.AVAILABLE,
        )
        started = await central.remote_start("SIM-201", 2, "REMOTE-2")
        assert started.accepted
        running: int | str = await wait_until(
            central,
            lambda: next(
                (
                    c.transaction_id
                    for c in central.connectors("SIM-201")
                    if c.evse_id == 2 and c.transaction_id is not None
                ),
                None,
            ),
        )
        assert (await central.remote_stop("SIM-201", running)).accepted
        await wait_until(central, lambda: no_transaction(central, "SIM-201", 1, 2))
