"""Our simulated 2.0.1 stations against a CSMS written with the third-party ``ocpp`` package.

The ``ocpp`` package sends ReserveNow, CancelReservation and the rest, and validates every
request and answer in both directions against the official OCPP 2.0.1 JSON schemas; at the
end of every test each frame our stations sent is checked once more (``jsonschema`` and our
own checker). The reservation rules H01-H04 are proven end to end over real sockets: each
test is named after the requirement it shows.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
import pytest_asyncio
from ocpp.exceptions import NotSupportedError
from ocpp.v201 import call

from console.chargepoint.client import ClientOptions
from console.chargepoint.simulator import (
    Behaviour,
    SimulatedStation201,
    SimulationOptions,
    SiteSimulator,
)
from console.ocpp.versions import OcppVersion
from tests.chargepoint.ocpp_central201 import (
    WAIT,
    CentralState201,
    OcppCentral201,
    frame_problems,
    ocpp_central201,
    stamp,
)

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
    state: CentralState201

    def station(self, behaviour: Behaviour) -> SimulatedStation201:
        found = next(s for s in self.simulator.stations if s.behaviour is behaviour)
        assert isinstance(found, SimulatedStation201)
        return found

    def id_of(self, behaviour: Behaviour) -> str:
        return self.station(behaviour).station_id

    async def central(self, behaviour: Behaviour) -> OcppCentral201:
        return await self.state.connection(self.id_of(behaviour))


@pytest_asyncio.fixture
async def site() -> AsyncIterator[Site]:
    """One 2.0.1 station per behaviour, ids CP-01.., EVSE 1 (Type 2) and EVSE 2 (CCS2 and
    CHAdeMO), all registered; every frame they sent is valid when the test ends."""
    state = CentralState201(groups={"CHILD": "FLEET"}, refused_tokens={"BLOCKED"})
    async with ocpp_central201(state) as (url, _):
        simulator = SiteSimulator(
            url,
            stations=len(Behaviour),
            connectors=2,
            behaviours=list(Behaviour),
            options=OPTIONS,
            ocpp_version=OcppVersion.V201,
        )
        await simulator.start()
        try:
            async with asyncio.timeout(WAIT):
                await simulator.wait_booted()
            yield Site(simulator, state)
        finally:
            await simulator.stop()
    assert state.frames
    problems = {f.text: p for f in state.frames if (p := frame_problems(f))}
    assert problems == {}


def token(value: str, kind: str = "ISO14443") -> dict[str, str]:
    return {"id_token": value, "type": kind}


def reserve(
    reservation_id: int,
    id_token: str = "CARD-1",
    evse_id: int | None = 1,
    *,
    group: str | None = None,
    connector_type: str | None = None,
    expires_in: timedelta = timedelta(minutes=15),
) -> call.ReserveNow:
    return call.ReserveNow(
        id=reservation_id,
        expiry_date_time=stamp(expires_in),
        id_token=token(id_token),
        evse_id=evse_id,
        group_id_token=None if group is None else token(group, "Central"),
        connector_type=connector_type,
    )


async def ask(central: OcppCentral201, request: Any) -> Any:
    return await central.call(request, suppress=False)


def reservation_updates(site: Site, station_id: str) -> list[tuple[int, str]]:
    return [
        (p["reservation_id"], p["reservation_update_status"])
        for p in site.state.messages(station_id, "ReservationStatusUpdate")
    ]


# --- boot and statuses ----------------------------------------------------------------------


async def test_boot_and_status_of_every_connector(site: Site) -> None:
    station_id = site.id_of(Behaviour.NORMAL)
    boot = site.state.messages(station_id, "BootNotification")[0]
    assert boot["reason"] == "PowerUp"
    assert boot["charging_station"] == {
        "vendor_name": "Helion Charge",
        "model": "HX Twin 22",
        "firmware_version": "4.0.2",
        "serial_number": f"SIM-{station_id}",
    }
    for evse_id, connector_id in ((1, 1), (2, 1), (2, 2)):
        status = await site.state.wait_status(station_id, evse_id, connector_id, "Available")
        assert status["timestamp"].endswith("Z")
    event = await site.state.wait_message(station_id, "NotifyEvent")
    assert {
        (d["component"]["evse"]["id"], d["component"]["evse"]["connector_id"], d["actual_value"])
        for d in event["event_data"]
    } == {(1, 1, "Available"), (2, 1, "Available"), (2, 2, "Available")}
    assert {d["variable"]["name"] for d in event["event_data"]} == {"AvailabilityState"}
    await site.state.wait_status(site.id_of(Behaviour.FAULTED), 1, 1, "Faulted")
    await site.state.wait_status(site.id_of(Behaviour.FAULTED), 2, 2, "Available")
    await site.state.wait_status(site.id_of(Behaviour.UNAVAILABLE), 2, 2, "Unavailable")


# --- H01 ReserveNow -------------------------------------------------------------------------


async def test_h01_fr_20_accepted_for_an_evse_reserves_every_connector(site: Site) -> None:
    station_id = site.id_of(Behaviour.NORMAL)
    central = await site.central(Behaviour.NORMAL)
    mark = site.state.mark()
    answer = await ask(central, reserve(11, "CARD-1", evse_id=2))
    assert answer.status == "Accepted"
    await site.state.wait_for(
        lambda: (
            {(2, 1, "Reserved"), (2, 2, "Reserved")} <= set(site.state.statuses(station_id, mark))
        )
    )
    assert (1, 1, "Reserved") not in site.state.statuses(station_id, mark)
    event = await site.state.wait_message(
        station_id,
        "NotifyEvent",
        lambda p: any(d["actual_value"] == "Reserved" for d in p["event_data"]),
        since=mark,
    )
    assert {d["component"]["evse"]["connector_id"] for d in event["event_data"]} == {1, 2}


async def test_h01_fr_19_no_evse_rejected_unless_non_evse_specific(site: Site) -> None:
    normal = await site.central(Behaviour.NORMAL)
    refused = await ask(normal, reserve(21, evse_id=None))
    assert refused.status == "Rejected"
    assert refused.status_info["reason_code"] == "UnsupportedRequest"
    variables = await ask(
        normal,
        call.GetVariables(
            get_variable_data=[
                {"component": {"name": "ReservationCtrlr"}, "variable": {"name": name}}
                for name in ("Enabled", "Available", "NonEvseSpecific")
            ]
        ),
    )
    assert [r["attribute_value"] for r in variables.get_variable_result] == [
        "true",
        "true",
        "false",
    ]

    # H01.FR.07/23: reservations without EVSE keep EVSEs free; as many reservations as
    # free EVSEs reserves them all, and one more is Occupied.
    station_id = site.id_of(Behaviour.NON_EVSE_SPECIFIC)
    flexible = await site.central(Behaviour.NON_EVSE_SPECIFIC)
    mark = site.state.mark()
    assert (await ask(flexible, reserve(22, "ANY-1", evse_id=None))).status == "Accepted"
    assert not any(s == "Reserved" for *_, s in site.state.statuses(station_id, mark))
    assert (await ask(flexible, reserve(23, "ANY-2", evse_id=None))).status == "Accepted"
    await site.state.wait_for(
        lambda: (
            {(1, 1, "Reserved"), (2, 1, "Reserved"), (2, 2, "Reserved")}
            <= set(site.state.statuses(station_id, mark))
        )
    )
    assert (await ask(flexible, reserve(24, "ANY-3", evse_id=None))).status == "Occupied"
    assert (await ask(flexible, reserve(25, "ANY-3", evse_id=1))).status == "Occupied"


async def test_h01_fr_02_same_id_replaces_and_occupied_for_another(site: Site) -> None:
    station_id = site.id_of(Behaviour.NORMAL)
    central = await site.central(Behaviour.NORMAL)
    assert (await ask(central, reserve(31, "CARD-1", evse_id=1))).status == "Accepted"
    await site.state.wait_status(station_id, 1, 1, "Reserved")
    assert (await ask(central, reserve(32, "CARD-2", evse_id=1))).status == "Occupied"
    mark = site.state.mark()
    assert (await ask(central, reserve(31, "CARD-1", evse_id=2))).status == "Accepted"
    await site.state.wait_for(
        lambda: (
            {(1, 1, "Available"), (2, 1, "Reserved"), (2, 2, "Reserved")}
            <= set(site.state.statuses(station_id, mark))
        )
    )
    reservations = site.station(Behaviour.NORMAL).engine.reservations
    assert [(r.reservation_id, r.evse_id) for r in reservations] == [(31, 2)]
    assert reservation_updates(site, station_id) == []  # a replacement tells nothing


async def test_h01_fr_01_rejected_while_reservations_are_disabled(site: Site) -> None:
    central = await site.central(Behaviour.NO_RESERVATIONS)
    refused = await ask(central, reserve(41))
    assert refused.status == "Rejected"
    assert refused.status_info["reason_code"] == "NotEnabled"
    enabled = {"component": {"name": "ReservationCtrlr"}, "variable": {"name": "Enabled"}}
    answer = await ask(central, call.GetVariables(get_variable_data=[enabled]))
    assert answer.get_variable_result[0]["attribute_value"] == "false"
    switched = await ask(
        central, call.SetVariables(set_variable_data=[{**enabled, "attribute_value": "true"}])
    )
    assert switched.set_variable_result[0]["attribute_status"] == "Accepted"
    assert (await ask(central, reserve(42))).status == "Accepted"


async def test_h01_faulted_unavailable_and_occupied_evses(site: Site) -> None:
    faulted = await site.central(Behaviour.FAULTED)
    assert (await ask(faulted, reserve(51, evse_id=1))).status == "Faulted"
    assert (await ask(faulted, reserve(52, evse_id=2))).status == "Accepted"
    unavailable = await site.central(Behaviour.UNAVAILABLE)
    assert (await ask(unavailable, reserve(53, evse_id=2))).status == "Unavailable"
    occupied_id = site.id_of(Behaviour.OCCUPIED)
    started = await site.state.wait_message(occupied_id, "TransactionEvent")
    assert started["event_type"] == "Started"
    assert "reservation_id" not in started
    await site.state.wait_status(occupied_id, 1, 1, "Occupied")
    occupied = await site.central(Behaviour.OCCUPIED)
    assert (await ask(occupied, reserve(54, evse_id=1))).status == "Occupied"
    assert (await ask(occupied, reserve(55, evse_id=9))).status == "Rejected"


# --- H02 CancelReservation ------------------------------------------------------------------


async def test_h02_cancel_accepted_then_available_without_status_update(site: Site) -> None:
    station_id = site.id_of(Behaviour.NORMAL)
    central = await site.central(Behaviour.NORMAL)
    assert (await ask(central, reserve(61, evse_id=2))).status == "Accepted"
    await site.state.wait_status(station_id, 2, 2, "Reserved")
    mark = site.state.mark()
    cancelled = await ask(central, call.CancelReservation(reservation_id=61))
    assert cancelled.status == "Accepted"
    await site.state.wait_for(
        lambda: (
            {(2, 1, "Available"), (2, 2, "Available")} <= set(site.state.statuses(station_id, mark))
        )
    )
    for unknown in (61, 0, 999):
        refused = await ask(central, call.CancelReservation(reservation_id=unknown))
        assert refused.status == "Rejected"
    assert reservation_updates(site, station_id) == []


# --- H04 expiry and removal -----------------------------------------------------------------


async def test_h04_expiry_sends_expired_and_available(site: Site) -> None:
    station_id = site.id_of(Behaviour.NORMAL)
    central = await site.central(Behaviour.NORMAL)
    answer = await ask(central, reserve(71, evse_id=1, expires_in=timedelta(seconds=2)))
    assert answer.status == "Accepted"
    mark = site.state.mark()
    await site.state.wait_message(station_id, "ReservationStatusUpdate")
    assert reservation_updates(site, station_id) == [(71, "Expired")]
    await site.state.wait_status(station_id, 1, 1, "Available", since=mark)
    assert site.station(Behaviour.NORMAL).engine.reservations == ()
    assert (await ask(central, call.CancelReservation(reservation_id=71))).status == "Rejected"


async def test_h04_faulted_or_unavailable_evse_removes_the_reservation(site: Site) -> None:
    station = site.station(Behaviour.NORMAL)
    station_id = station.station_id
    central = await site.central(Behaviour.NORMAL)
    assert (await ask(central, reserve(81, evse_id=2))).status == "Accepted"
    assert (await ask(central, reserve(82, "CARD-2", evse_id=1))).status == "Accepted"
    await station.fault(2)
    await site.state.wait_message(station_id, "ReservationStatusUpdate")
    assert reservation_updates(site, station_id) == [(81, "Removed")]
    await site.state.wait_status(station_id, 2, 2, "Faulted")
    assert (await ask(central, call.CancelReservation(reservation_id=81))).status == "Rejected"
    availability = await ask(
        central, call.ChangeAvailability(operational_status="Inoperative", evse={"id": 1})
    )
    assert availability.status == "Accepted"
    await site.state.wait_for(lambda: len(reservation_updates(site, station_id)) == 2)
    assert reservation_updates(site, station_id)[-1] == (82, "Removed")
    await site.state.wait_status(station_id, 1, 1, "Unavailable")


# --- H03 use ------------------------------------------------------------------------------------


async def test_h03_group_token_consumes_at_authorization_others_refused(site: Site) -> None:
    station = site.station(Behaviour.NORMAL)
    station_id = station.station_id
    central = await site.central(Behaviour.NORMAL)
    answer = await ask(central, reserve(91, "OWNER", evse_id=1, group="FLEET"))
    assert answer.status == "Accepted"
    await site.state.wait_status(station_id, 1, 1, "Reserved")
    stranger = await station.present_id_token("STRANGER", 1)
    assert not stranger.started
    assert "reserved" in stranger.reason
    # G01.FR.09: plugging in without the right token changes nothing.
    mark = site.state.mark()
    await station.plug_in(1)
    await station.unplug(1)
    assert site.state.statuses(station_id, mark) == []
    assert site.state.messages(station_id, "TransactionEvent") == []
    refused = await station.present_id_token("BLOCKED", 1)
    assert refused.reason == "Authorize: Invalid"
    child = await station.present_id_token("child", 1)  # Authorize tells its group FLEET
    assert child.started
    assert child.reservation_id == 91
    started = await site.state.wait_message(station_id, "TransactionEvent")
    assert started["event_type"] == "Started"
    assert started["trigger_reason"] == "Authorized"
    assert started["reservation_id"] == 91
    assert started["id_token"] == token("child")
    assert started["evse"] == {"id": 1, "connector_id": 1}
    assert started["transaction_info"]["transaction_id"] == child.transaction_id
    await site.state.wait_status(station_id, 1, 1, "Occupied")
    assert (await ask(central, call.CancelReservation(reservation_id=91))).status == "Rejected"
    assert reservation_updates(site, station_id) == []  # used: told by the TransactionEvent
    assert await station.stop_transaction(1)
    ended = await site.state.wait_message(
        station_id, "TransactionEvent", lambda p: p["event_type"] == "Ended"
    )
    assert ended["transaction_info"]["stopped_reason"] == "Local"
    assert "reservation_id" not in ended
    await site.state.wait_status(station_id, 1, 1, "Available", since=mark)


async def test_h03_the_reserved_card_arrives_and_its_transaction_carries_the_reservation(
    site: Site,
) -> None:
    station_id = site.id_of(Behaviour.CARD_ARRIVES)
    central = await site.central(Behaviour.CARD_ARRIVES)
    answer = await ask(central, reserve(101, "Driver-7", evse_id=2, connector_type="cCCS2"))
    assert answer.status == "Accepted"
    started = await site.state.wait_message(station_id, "TransactionEvent")
    assert started["reservation_id"] == 101
    assert started["evse"] == {"id": 2, "connector_id": 1}
    assert started["id_token"] == token("Driver-7")
    assert site.state.messages(station_id, "Authorize") == [{"id_token": token("Driver-7")}]
    await site.state.wait_status(station_id, 2, 1, "Occupied")
    updated = await site.state.wait_message(
        station_id,
        "TransactionEvent",
        lambda p: p["trigger_reason"] == "MeterValuePeriodic",
    )
    (sample,) = updated["meter_value"][0]["sampled_value"]
    assert sample["measurand"] == "Energy.Active.Import.Register"
    assert (await ask(central, call.CancelReservation(reservation_id=101))).status == "Rejected"


# --- the device model and the other calls ---------------------------------------------------


async def test_get_variables_unknown_and_base_report(site: Site) -> None:
    station_id = site.id_of(Behaviour.NORMAL)
    central = await site.central(Behaviour.NORMAL)
    answer = await ask(
        central,
        call.GetVariables(
            get_variable_data=[
                {"component": {"name": "NoSuchCtrlr"}, "variable": {"name": "Enabled"}},
                {"component": {"name": "ReservationCtrlr"}, "variable": {"name": "Nope"}},
                {
                    "component": {"name": "Connector", "evse": {"id": 2, "connector_id": 2}},
                    "variable": {"name": "ConnectorType"},
                },
                {
                    "component": {"name": "OCPPCommCtrlr"},
                    "variable": {"name": "HeartbeatInterval"},
                    "attribute_type": "Target",
                },
            ]
        ),
    )
    assert [
        (r["attribute_status"], r.get("attribute_value")) for r in answer.get_variable_result
    ] == [
        ("UnknownComponent", None),
        ("UnknownVariable", None),
        ("Accepted", "cG105"),
        ("NotSupportedAttributeType", None),
    ]
    report = await ask(central, call.GetBaseReport(request_id=7, report_base="FullInventory"))
    assert report.status == "Accepted"
    parts = await site.state.wait_for(
        lambda: (
            (found := site.state.messages(station_id, "NotifyReport"))
            and not found[-1].get("tbc", False)
            and found
        )
    )
    assert [p["seq_no"] for p in parts] == list(range(len(parts)))
    assert {p["request_id"] for p in parts} == {7}
    data = [d for p in parts for d in p["report_data"]]
    named = {
        (
            d["component"]["name"],
            d["component"].get("evse", {}).get("id"),
            d["component"].get("evse", {}).get("connector_id"),
            d["variable"]["name"],
        ): d["variable_attribute"][0]["value"]
        for d in data
    }
    assert named[("ReservationCtrlr", None, None, "NonEvseSpecific")] == "false"
    assert named[("Connector", 1, 1, "ConnectorType")] == "cType2"
    assert named[("Connector", 2, 1, "ConnectorType")] == "cCCS2"
    assert named[("EVSE", 2, None, "AvailabilityState")] == "Available"


async def test_trigger_change_availability_remote_start_and_stop(site: Site) -> None:
    station_id = site.id_of(Behaviour.NORMAL)
    central = await site.central(Behaviour.NORMAL)
    mark = site.state.mark()
    trigger = await ask(
        central,
        call.TriggerMessage(
            requested_message="StatusNotification", evse={"id": 2, "connector_id": 2}
        ),
    )
    assert trigger.status == "Accepted"
    await site.state.wait_status(station_id, 2, 2, "Available", since=mark)
    assert (await ask(central, call.TriggerMessage(requested_message="Heartbeat"))).status == (
        "Accepted"
    )
    await site.state.wait_message(station_id, "Heartbeat")
    boot = await ask(central, call.TriggerMessage(requested_message="BootNotification"))
    assert boot.status == "Rejected"  # F06.FR.17: already accepted
    meter = await ask(central, call.TriggerMessage(requested_message="MeterValues", evse={"id": 1}))
    assert meter.status == "Accepted"
    values = await site.state.wait_message(station_id, "MeterValues")
    assert values["evse_id"] == 1
    unknown = await ask(central, call.TriggerMessage(requested_message="Heartbeat", evse={"id": 9}))
    assert unknown.status == "Rejected"

    remote = await ask(
        central,
        call.RequestStartTransaction(id_token=token("REMOTE", "Central"), remote_start_id=5),
    )
    assert remote.status == "Accepted"
    started = await site.state.wait_message(station_id, "TransactionEvent")
    assert started["trigger_reason"] == "RemoteStart"
    assert started["transaction_info"]["remote_start_id"] == 5
    transaction_id = started["transaction_info"]["transaction_id"]
    busy = await ask(
        central,
        call.RequestStartTransaction(
            id_token=token("OTHER"), remote_start_id=6, evse_id=started["evse"]["id"]
        ),
    )
    assert busy.status == "Rejected"
    stop = await ask(central, call.RequestStopTransaction(transaction_id=transaction_id))
    assert stop.status == "Accepted"
    ended = await site.state.wait_message(
        station_id, "TransactionEvent", lambda p: p["event_type"] == "Ended"
    )
    assert ended["trigger_reason"] == "RemoteStop"
    assert ended["transaction_info"]["stopped_reason"] == "Remote"
    again = await ask(central, call.RequestStopTransaction(transaction_id=transaction_id))
    assert again.status == "Rejected"
    data = await ask(central, call.DataTransfer(vendor_id="com.example"))
    assert data.status == "UnknownVendorId"
    with pytest.raises(NotSupportedError):
        await ask(central, call.Reset(type="Immediate"))


async def test_slow_station_answers_after_the_timeout(site: Site) -> None:
    station_id = site.id_of(Behaviour.SLOW)
    central = await site.central(Behaviour.SLOW)
    central._response_timeout = 0.5
    with pytest.raises(asyncio.TimeoutError):
        await ask(central, reserve(111, evse_id=1))
    # It accepted all the same: the Reserved status follows the late answer.
    await site.state.wait_status(station_id, 1, 1, "Reserved")


async def test_reservation_kept_across_a_reconnect(site: Site) -> None:
    station = site.station(Behaviour.NORMAL)
    station_id = station.station_id
    first = await site.central(Behaviour.NORMAL)
    assert (await ask(first, reserve(121, evse_id=1))).status == "Accepted"
    await site.state.wait_status(station_id, 1, 1, "Reserved")
    await station.go_offline()
    mark = site.state.mark()
    await station.go_online()
    second = await site.state.connection(station_id, 2)
    await site.state.wait_status(station_id, 1, 1, "Reserved", since=mark)
    assert (await ask(second, call.CancelReservation(reservation_id=121))).status == "Accepted"
