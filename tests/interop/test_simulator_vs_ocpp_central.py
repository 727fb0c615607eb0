"""Our simulated stations against a Central System written with the third-party ``ocpp``
package. The ``ocpp`` package sends ReserveNow and CancelReservation and validates every
request and answer in both directions against the official OCPP 1.6 JSON schemas."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
import pytest_asyncio
from ocpp.exceptions import NotSupportedError
from ocpp.v16 import call

from console.chargepoint.client import ClientOptions
from console.chargepoint.simulator import Behaviour, SimulationOptions, SiteSimulator
from tests.chargepoint.ocpp_central import WAIT, CentralState, ocpp_central, stamp

pytestmark = pytest.mark.asyncio

OPTIONS = SimulationOptions(
    client=ClientOptions(
        call_timeout=5.0, backoff_initial=0.05, backoff_max=0.2, meter_interval=0.3
    ),
    slow_answer_delay=1.5,
    card_arrives_after=0.1,
)


@dataclass
class Site:
    simulator: SiteSimulator
    state: CentralState


@pytest_asyncio.fixture
async def site() -> AsyncIterator[Site]:
    """One station per behaviour, ids CP-01.., two connectors each, all registered."""
    state = CentralState(parents={"CHILD": "FLEET"})
    async with ocpp_central(state) as (url, _):
        simulator = SiteSimulator(
            url,
            stations=len(Behaviour),
            connectors=2,
            behaviours=list(Behaviour),
            options=OPTIONS,
        )
        await simulator.start()
        try:
            async with asyncio.timeout(WAIT):
                await simulator.wait_booted()
            yield Site(simulator, state)
        finally:
            await simulator.stop()


def station_of(site: Site, behaviour: Behaviour) -> str:
    return next(s.station_id for s in site.simulator.stations if s.behaviour is behaviour)


def reserve(
    connector_id: int = 1,
    id_tag: str = "CARD-1",
    reservation_id: int = 1,
    parent_id_tag: str | None = None,
    expires_in: timedelta = timedelta(minutes=15),
) -> call.ReserveNow:
    return call.ReserveNow(
        connector_id=connector_id,
        expiry_date=stamp(expires_in),
        id_tag=id_tag,
        reservation_id=reservation_id,
        parent_id_tag=parent_id_tag,
    )


async def test_boot_and_statuses_of_every_connector(site: Site) -> None:
    station_id = station_of(site, Behaviour.NORMAL)
    boot = site.state.messages(station_id, "BootNotification")[0]
    assert boot["charge_point_vendor"] == "Voltaris"
    assert boot["charge_point_serial_number"] == f"SIM-{station_id}"
    for connector_id in (0, 1, 2):
        status = await site.state.wait_status(station_id, connector_id, "Available")
        assert status["error_code"] == "NoError"
    faulted = await site.state.wait_status(station_of(site, Behaviour.FAULTED), 1, "Faulted")
    assert faulted["error_code"] == "GroundFailure"
    await site.state.wait_status(station_of(site, Behaviour.UNAVAILABLE), 0, "Unavailable")


async def test_reserve_occupied_cancel_and_available(site: Site) -> None:
    station_id = station_of(site, Behaviour.NORMAL)
    central = await site.state.connection(station_id)
    accepted = await central.call(reserve(1, "CARD-1", 11), suppress=False)
    assert accepted.status == "Accepted"
    await site.state.wait_status(station_id, 1, "Reserved")
    occupied = await central.call(reserve(1, "CARD-2", 12), suppress=False)
    assert occupied.status == "Occupied"
    before = len(site.state.messages(station_id, "StatusNotification"))
    cancelled = await central.call(call.CancelReservation(reservation_id=11), suppress=False)
    assert cancelled.status == "Accepted"
    await site.state.wait_for(
        lambda: len(site.state.messages(station_id, "StatusNotification")) > before
    )
    last = site.state.messages(station_id, "StatusNotification")[-1]
    assert (last["connector_id"], last["status"]) == (1, "Available")
    for unknown in (11, 0, 999):
        refused = await central.call(call.CancelReservation(reservation_id=unknown), suppress=False)
        assert refused.status == "Rejected"


async def test_same_reservation_id_replaces(site: Site) -> None:
    station_id = station_of(site, Behaviour.NORMAL)
    central = await site.state.connection(station_id)
    assert (await central.call(reserve(1, "CARD-1", 21), suppress=False)).status == "Accepted"
    assert (await central.call(reserve(2, "CARD-1", 21), suppress=False)).status == "Accepted"
    await site.state.wait_status(station_id, 2, "Reserved")
    engine = site.simulator.station(station_id).engine
    assert [r.connector_id for r in engine.reservations] == [2]
    # Connector 1 went back to Available after being Reserved.
    statuses = [
        p["status"]
        for p in site.state.messages(station_id, "StatusNotification")
        if p["connector_id"] == 1
    ]
    assert statuses[-2:] == ["Reserved", "Available"]


async def test_expiry_sends_available(site: Site) -> None:
    station_id = station_of(site, Behaviour.NORMAL)
    central = await site.state.connection(station_id)
    answer = await central.call(
        reserve(2, "CARD-1", 31, expires_in=timedelta(seconds=2)), suppress=False
    )
    assert answer.status == "Accepted"
    reserved = await site.state.wait_status(station_id, 2, "Reserved")
    count = site.state.received.index(next(r for r in site.state.received if r.payload is reserved))
    await site.state.wait_for(
        lambda: any(
            r.station_id == station_id
            and r.action == "StatusNotification"
            and r.payload["connector_id"] == 2
            and r.payload["status"] == "Available"
            for r in site.state.received[count + 1 :]
        )
    )
    assert site.simulator.station(station_id).engine.reservations == ()
    refused = await central.call(call.CancelReservation(reservation_id=31), suppress=False)
    assert refused.status == "Rejected"


async def test_station_refusing_reservations_answers_rejected(site: Site) -> None:
    station_id = station_of(site, Behaviour.NO_RESERVATIONS)
    central = await site.state.connection(station_id)
    for connector_id in (0, 1):
        answer = await central.call(reserve(connector_id, "CARD-1", 41), suppress=False)
        assert answer.status == "Rejected"
    assert site.simulator.station(station_id).engine.reservations == ()


async def test_connector_zero_support(site: Site) -> None:
    without = station_of(site, Behaviour.NO_CONNECTOR_ZERO)
    central = await site.state.connection(without)
    configuration = await central.call(
        call.GetConfiguration(key=["ReserveConnectorZeroSupported", "NoSuchKey"]), suppress=False
    )
    assert configuration.configuration_key == [
        {"key": "ReserveConnectorZeroSupported", "readonly": True, "value": "false"}
    ]
    assert configuration.unknown_key == ["NoSuchKey"]
    assert (await central.call(reserve(0, "CARD-1", 51), suppress=False)).status == "Rejected"
    assert (await central.call(reserve(1, "CARD-1", 52), suppress=False)).status == "Accepted"

    with_zero = station_of(site, Behaviour.NORMAL)
    central = await site.state.connection(with_zero)
    assert (await central.call(reserve(0, "ZERO", 53), suppress=False)).status == "Accepted"
    assert (await central.call(reserve(1, "OTHER", 54), suppress=False)).status == "Accepted"
    # Connector 2 is the last free one: kept for ZERO, so it reports Reserved.
    await site.state.wait_status(with_zero, 2, "Reserved")
    assert (await central.call(reserve(2, "THIRD", 55), suppress=False)).status == "Occupied"


async def test_faulted_unavailable_and_occupied_answers(site: Site) -> None:
    faulted = station_of(site, Behaviour.FAULTED)
    central = await site.state.connection(faulted)
    assert (await central.call(reserve(1, "CARD-1", 61), suppress=False)).status == "Faulted"
    assert (await central.call(reserve(2, "CARD-1", 62), suppress=False)).status == "Accepted"
    # Connector 2 faults too: its reservation ends, a cancel finds nothing.
    await site.simulator.station(faulted).fault(2)
    await site.state.wait_status(faulted, 2, "Faulted")
    cancel = await central.call(call.CancelReservation(reservation_id=62), suppress=False)
    assert cancel.status == "Rejected"

    unavailable = station_of(site, Behaviour.UNAVAILABLE)
    central = await site.state.connection(unavailable)
    assert (await central.call(reserve(1, "CARD-1", 63), suppress=False)).status == "Unavailable"

    occupied = station_of(site, Behaviour.OCCUPIED)
    started = await site.state.wait_message(occupied, "StartTransaction")
    assert started["connector_id"] == 1
    assert "reservation_id" not in started
    await site.state.wait_status(occupied, 1, "Charging")
    central = await site.state.connection(occupied)
    assert (await central.call(reserve(1, "CARD-1", 64), suppress=False)).status == "Occupied"


async def test_meter_values_during_a_transaction(site: Site) -> None:
    occupied = station_of(site, Behaviour.OCCUPIED)
    await site.state.wait_message(occupied, "StartTransaction")
    transaction_id = await site.state.wait_for(lambda: site.state.assigned_transactions)
    meter = await site.state.wait_message(occupied, "MeterValues")
    assert meter["connector_id"] == 1
    assert meter["transaction_id"] in transaction_id
    (sample,) = meter["meter_value"][0]["sampled_value"]
    assert sample["measurand"] == "Energy.Active.Import.Register"
    assert sample["unit"] == "Wh"
    assert int(sample["value"]) >= 0
    # None from stations without a transaction.
    assert site.state.messages(station_of(site, Behaviour.NORMAL), "MeterValues") == []


async def test_card_arrives_and_start_transaction_carries_the_reservation(site: Site) -> None:
    station_id = station_of(site, Behaviour.CARD_ARRIVES)
    central = await site.state.connection(station_id)
    answer = await central.call(reserve(2, "Driver-7", 71), suppress=False)
    assert answer.status == "Accepted"
    await site.state.wait_status(station_id, 2, "Reserved")
    started = await site.state.wait_message(station_id, "StartTransaction")
    assert started["reservation_id"] == 71
    assert started["connector_id"] == 2
    assert started["id_tag"] == "Driver-7"
    await site.state.wait_status(station_id, 2, "Charging")
    assert site.state.messages(station_id, "Authorize") == [{"id_tag": "Driver-7"}]
    refused = await central.call(call.CancelReservation(reservation_id=71), suppress=False)
    assert refused.status == "Rejected"  # used: it ended


async def test_other_card_refused_parent_card_accepted(site: Site) -> None:
    station_id = station_of(site, Behaviour.NORMAL)
    station = site.simulator.station(station_id)
    central = await site.state.connection(station_id)
    answer = await central.call(reserve(1, "OWNER", 81, parent_id_tag="FLEET"), suppress=False)
    assert answer.status == "Accepted"
    stranger = await station.present_id_tag("STRANGER", 1)
    assert not stranger.started
    assert "reserved" in stranger.reason
    assert site.state.messages(station_id, "StartTransaction") == []
    child = await station.present_id_tag("child", 1)  # Authorize tells its parent FLEET
    assert child.started
    assert child.reservation_id == 81
    started = await site.state.wait_message(station_id, "StartTransaction")
    assert started["reservation_id"] == 81
    assert await station.stop_transaction(1)
    stopped = await site.state.wait_message(station_id, "StopTransaction")
    assert stopped["transaction_id"] == child.transaction_id
    await site.state.wait_status(station_id, 1, "Finishing")


async def test_slow_station_answers_after_the_timeout(site: Site) -> None:
    station_id = station_of(site, Behaviour.SLOW)
    central = await site.state.connection(station_id)
    central._response_timeout = 0.5
    with pytest.raises(asyncio.TimeoutError):
        await central.call(reserve(1, "CARD-1", 91), suppress=False)
    # It accepted all the same: the Reserved status follows the late answer.
    await site.state.wait_status(station_id, 1, "Reserved")


async def test_other_calls_and_unsupported_action(site: Site) -> None:
    station_id = station_of(site, Behaviour.NORMAL)
    central = await site.state.connection(station_id)
    configuration = await central.call(call.GetConfiguration(), suppress=False)
    keys = {k["key"]: k["value"] for k in configuration.configuration_key}
    assert keys["NumberOfConnectors"] == "2"
    assert keys["HeartbeatInterval"] == "300"
    trigger = await central.call(call.TriggerMessage(requested_message="Heartbeat"), suppress=False)
    assert trigger.status == "Accepted"
    await site.state.wait_message(station_id, "Heartbeat")
    availability = await central.call(
        call.ChangeAvailability(connector_id=2, type="Inoperative"), suppress=False
    )
    assert availability.status == "Accepted"
    await site.state.wait_status(station_id, 2, "Unavailable")
    assert (await central.call(reserve(2, "CARD-1", 95), suppress=False)).status == "Unavailable"
    remote = await central.call(
        call.RemoteStartTransaction(id_tag="REMOTE", connector_id=1), suppress=False
    )
    assert remote.status == "Accepted"
    started = await site.state.wait_message(station_id, "StartTransaction")
    assert started["id_tag"] == "REMOTE"
    transaction_id = site.state.assigned_transactions[-1]
    stop = await central.call(
        call.RemoteStopTransaction(transaction_id=transaction_id), suppress=False
    )
    assert stop.status == "Accepted"
    stopped = await site.state.wait_message(station_id, "StopTransaction")
    assert stopped["reason"] == "Remote"
    with pytest.raises(NotSupportedError):
        await central.call(call.Reset(type="Soft"), suppress=False)


async def test_reservation_kept_across_a_reconnect(site: Site) -> None:
    station_id = station_of(site, Behaviour.NORMAL)
    station = site.simulator.station(station_id)
    first = await site.state.connection(station_id)
    assert (await first.call(reserve(2, "CARD-1", 99), suppress=False)).status == "Accepted"
    await site.state.wait_status(station_id, 2, "Reserved")
    await station.go_offline()
    await station.go_online()
    second = await site.state.connection(station_id, 2)
    await site.state.wait_for(lambda: len(site.state.messages(station_id, "BootNotification")) == 2)
    # After the new boot, connector 2 is reported Reserved again.
    await site.state.wait_for(lambda: reserved_reports(site, station_id) == 2)
    cancelled = await second.call(call.CancelReservation(reservation_id=99), suppress=False)
    assert cancelled.status == "Accepted"


def reserved_reports(site: Site, station_id: str) -> int:
    return sum(
        1
        for p in site.state.messages(station_id, "StatusNotification")
        if (p["connector_id"], p["status"]) == (2, "Reserved")
    )
