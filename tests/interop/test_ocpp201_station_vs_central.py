"""A 2.0.1 station built with the ``ocpp`` package against our Central System: boot, the
device model the console reads, EVSEs and connectors, and reservations end to end (H01-H04,
console side). The package checks every call and answer of ours against the official OCPP
2.0.1 schemas; every frame the console sent is also checked here against the vendored ones."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jsonschema
import pytest
import pytest_asyncio
from ocpp.v201 import call

from console.central.config import CentralSystemConfig, IdTagEntry
from console.central.model import ReservationState, TraceDirection
from console.central.server import CentralSystem
from console.ocpp.reservation import CancelReservationStatus, ReservationStatus
from console.ocpp.v201.enums import ConnectorStatus, ConnectorType, IdTokenType
from console.ocpp.versions import OcppVersion
from tests.central.ocpp_station import record_in_state, wait_until
from tests.central.ocpp_station201 import connected_station201, stamp

pytestmark = pytest.mark.asyncio

SCHEMAS = Path(__file__).parents[2] / "console" / "ocpp" / "schemas" / "v201"


@pytest_asyncio.fixture
async def central(tmp_path: Path) -> AsyncIterator[CentralSystem]:
    config = CentralSystemConfig(
        host="127.0.0.1",
        port=0,
        data_dir=tmp_path,
        call_timeout=10.0,
        heartbeat_interval=42,
        ping_interval=None,
        id_tags={"CHILD": IdTagEntry(parent_id_tag="FLEET")},
    )
    system = CentralSystem(config)
    await system.start()
    yield system
    await system.stop()


def _expiry(minutes: float = 30) -> datetime:
    return (datetime.now(UTC) + timedelta(minutes=minutes)).replace(microsecond=0)


def _assert_every_frame_out_validates(central: CentralSystem, station_id: str) -> int:
    """Each CALL and CALLRESULT the console sent this station, against the official schema
    of its action; returns how many were checked."""
    actions: dict[str, str] = {}
    checked = 0
    for entry in central.recent_trace():
        if entry.station_id != station_id or entry.message_type not in (2, 3):
            continue
        frame = json.loads(entry.text)
        if entry.message_type == 2:
            actions[frame[1]] = frame[2]
        if entry.direction is not TraceDirection.OUT:
            continue
        assert entry.ocpp_version is OcppVersion.V201
        if entry.message_type == 2:
            name, payload = f"{frame[2]}Request", frame[3]
        else:
            name, payload = f"{actions[frame[1]]}Response", frame[2]
        schema = json.loads((SCHEMAS / f"{name}.json").read_text(encoding="utf-8"))
        jsonschema.validate(payload, schema, format_checker=jsonschema.FormatChecker())
        checked += 1
    return checked


async def test_boot_reads_the_reservation_controller_and_the_inventory(
    central: CentralSystem,
) -> None:
    async with connected_station201(central, "CP-201", boot=False) as station:
        station.variables["NonEvseSpecific"] = "true"
        boot = await station.boot()
        assert boot.status == "Accepted"
        assert boot.interval == 42
        snapshot = await wait_until(
            central,
            lambda: (s := central.station("CP-201")) and s.non_evse_specific is not None and s,
        )
        assert snapshot.ocpp_version is OcppVersion.V201
        assert (snapshot.vendor, snapshot.model, snapshot.firmware_version) == (
            "TestVendor",
            "TestModel201",
            "2.0.1-a",
        )
        assert (snapshot.reservations_enabled, snapshot.reservations_available) == (True, True)
        assert snapshot.non_evse_specific is True
        asked = station.asked("GetVariables")[0]["get_variable_data"]
        assert {(d["component"]["name"], d["variable"]["name"]) for d in asked} == {
            ("ReservationCtrlr", "Enabled"),
            ("ReservationCtrlr", "Available"),
            ("ReservationCtrlr", "NonEvseSpecific"),
        }
        await station.report_sent.wait()
        connectors = await wait_until(
            central, lambda: len(c := central.connectors("CP-201")) == 3 and c
        )
        assert [(c.evse_id, c.connector_id, c.connector_type) for c in connectors] == [
            (1, 1, ConnectorType.C_TYPE2),
            (1, 2, ConnectorType.C_TYPE2),
            (2, 1, ConnectorType.C_TYPE2),
        ]
        beat = await station.call(call.Heartbeat())
        assert beat.current_time.endswith("Z")
        assert _assert_every_frame_out_validates(central, "CP-201") >= 5


async def test_a_missing_non_evse_specific_counts_as_false(central: CentralSystem) -> None:
    async with connected_station201(central, "CP-NOVAR", boot=False) as station:
        del station.variables["NonEvseSpecific"]
        await station.boot()
        snapshot = await wait_until(
            central,
            lambda: (s := central.station("CP-NOVAR")) and s.reservations_enabled and s,
        )
        assert snapshot.non_evse_specific is False
        record = await central.reserve_now("CP-NOVAR", 0, "CARD", _expiry())
        assert record.state is ReservationState.ERROR
        assert "NonEvseSpecific" in (record.error or "")
        assert station.asked("ReserveNow") == []


async def test_statuses_and_availability_events_per_evse_and_connector(
    central: CentralSystem,
) -> None:
    async with connected_station201(central, "CP-ST") as station:
        await station.status(1, 1, "Available")
        await station.status(1, 2, "Occupied")
        await station.call(
            call.NotifyEvent(
                generated_at=stamp(),
                seq_no=0,
                event_data=[
                    {
                        "event_id": 1,
                        "timestamp": stamp(),
                        "trigger": "Delta",
                        "actual_value": "Unavailable",
                        "component": {"name": "Connector", "evse": {"id": 2, "connector_id": 1}},
                        "variable": {"name": "AvailabilityState"},
                        "event_notification_type": "HardWiredNotification",
                    }
                ],
            )
        )
        statuses = await wait_until(
            central,
            lambda: (
                {(c.evse_id, c.connector_id): c.status for c in central.connectors("CP-ST")}
                if all(
                    c.status is not None and c.status_at is not None
                    for c in central.connectors("CP-ST")
                )
                and len(central.connectors("CP-ST")) == 3
                else None
            ),
        )
        assert statuses == {
            (1, 1): ConnectorStatus.AVAILABLE,
            (1, 2): ConnectorStatus.OCCUPIED,
            (2, 1): ConnectorStatus.UNAVAILABLE,
        }


async def test_reserve_an_evse_accepted_reserved_and_used_at_authorization(
    central: CentralSystem,
) -> None:
    async with connected_station201(central, "CP-RES") as station:
        await station.evse_status(1, "Available")
        expiry = _expiry()
        record = await central.reserve_now(
            "CP-RES",
            1,
            "04a1b2c3",
            expiry,
            parent_id_tag="FLEET",
            connector_type=ConnectorType.C_TYPE2,
            id_token_type=IdTokenType.ISO14443,
        )
        assert record.state is ReservationState.ACCEPTED
        assert record.confirmation is ReservationStatus.ACCEPTED
        assert record.ocpp_version is OcppVersion.V201
        sent = station.asked("ReserveNow")[0]
        assert sent == {
            "id": record.reservation_id,
            "expiry_date_time": expiry.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "id_token": {"id_token": "04a1b2c3", "type": "ISO14443"},
            "evse_id": 1,
            "connector_type": "cType2",
            "group_id_token": {"id_token": "FLEET", "type": "ISO14443"},
        }
        # H01.FR.20: every connector of the EVSE reports Reserved; the console shows the
        # reservation on each.
        await station.evse_status(1, "Reserved")
        shown = await wait_until(
            central,
            lambda: (
                [
                    c.reservation_id
                    for c in central.connectors("CP-RES")
                    if c.evse_id == 1 and c.status == ConnectorStatus.RESERVED
                ]
                or None
            ),
        )
        assert shown == [record.reservation_id, record.reservation_id]
        # H03: consumed at authorization; the TransactionEvent carries the reservationId.
        await station.call(
            call.TransactionEvent(
                event_type="Started",
                timestamp=stamp(),
                trigger_reason="Authorized",
                seq_no=0,
                transaction_info={"transaction_id": "TX-201-1"},
                reservation_id=record.reservation_id,
                evse={"id": 1, "connector_id": 1},
                id_token={"id_token": "04A1B2C3", "type": "ISO14443"},
            )
        )
        used = await wait_until(
            central,
            record_in_state(central, "CP-RES", record.reservation_id, ReservationState.USED),
        )
        assert used.transaction_id == "TX-201-1"
        connector = central.connectors("CP-RES")[0]
        assert (connector.evse_id, connector.transaction_id) == (1, "TX-201-1")
        assert _assert_every_frame_out_validates(central, "CP-RES") >= 6


async def test_an_answer_with_status_info_is_kept(central: CentralSystem) -> None:
    async with connected_station201(central, "CP-NO") as station:
        station.reserve_status = "Rejected"
        station.reserve_status_info = {"reason_code": "Disabled", "additional_info": "off today"}
        record = await central.reserve_now("CP-NO", 2, "CARD", _expiry())
        assert record.state is ReservationState.REJECTED
        assert (record.status_reason, record.status_detail) == ("Disabled", "off today")
        stored = central.reservation("CP-NO", record.reservation_id)
        assert stored is not None
        assert stored.status_reason == "Disabled"


async def test_no_evse_when_the_station_allows_it(central: CentralSystem) -> None:
    async with connected_station201(central, "CP-ANY", boot=False) as station:
        station.variables["NonEvseSpecific"] = "true"
        await station.boot()
        await wait_until(central, lambda: (s := central.station("CP-ANY")) and s.non_evse_specific)
        record = await central.reserve_now("CP-ANY", 0, "CARD", _expiry())
        assert record.state is ReservationState.ACCEPTED
        assert "evse_id" not in station.asked("ReserveNow")[0]
        assert station.asked("ReserveNow")[0]["id_token"] == {"id_token": "CARD", "type": "Central"}


@pytest.mark.parametrize(
    ("update", "state"),
    [("Expired", ReservationState.EXPIRED), ("Removed", ReservationState.ENDED)],
)
async def test_reservation_status_update_ends_it(
    central: CentralSystem, update: str, state: ReservationState
) -> None:
    async with connected_station201(central, "CP-END") as station:
        record = await central.reserve_now("CP-END", 2, "CARD", _expiry())
        assert record.state is ReservationState.ACCEPTED
        await station.reservation_update(record.reservation_id, update)
        ended = await wait_until(
            central, record_in_state(central, "CP-END", record.reservation_id, state)
        )
        if state is ReservationState.ENDED:
            assert "Removed" in (ended.error or "")


async def test_cancel_reservation_accepted_and_rejected(central: CentralSystem) -> None:
    async with connected_station201(central, "CP-CAN") as station:
        record = await central.reserve_now("CP-CAN", 1, "CARD", _expiry())
        outcome = await central.cancel_reservation("CP-CAN", record.reservation_id)
        assert outcome.status is CancelReservationStatus.ACCEPTED
        cancelled = central.reservation("CP-CAN", record.reservation_id)
        assert cancelled is not None
        assert cancelled.state is ReservationState.CANCELLED
        station.cancel_status = "Rejected"
        outcome = await central.cancel_reservation("CP-CAN", 999_999)
        assert outcome.status is CancelReservationStatus.REJECTED
        assert station.asked("CancelReservation") == [
            {"reservation_id": record.reservation_id},
            {"reservation_id": 999_999},
        ]


async def test_authorize_and_transactions_answer_with_id_token_info(
    central: CentralSystem,
) -> None:
    async with connected_station201(central, "CP-AUTH") as station:
        child = await station.call(
            call.Authorize(id_token={"id_token": "child", "type": "ISO14443"})
        )
        assert child.id_token_info["status"] == "Accepted"
        assert child.id_token_info["group_id_token"] == {"id_token": "FLEET", "type": "ISO14443"}
        ended = await station.call(
            call.TransactionEvent(
                event_type="Ended",
                timestamp=stamp(),
                trigger_reason="StopAuthorized",
                seq_no=1,
                transaction_info={"transaction_id": "TX-9", "stopped_reason": "Local"},
                id_token={"id_token": "ANY", "type": "Central"},
            )
        )
        assert ended.id_token_info == {"status": "Accepted"}
        meter = await station.call(
            call.MeterValues(
                evse_id=1,
                meter_value=[
                    {
                        "timestamp": stamp(),
                        "sampled_value": [{"value": 12.5}],
                    }
                ],
            )
        )
        assert meter is not None
        security = await station.call(
            call.SecurityEventNotification(type="StartupOfTheDevice", timestamp=stamp())
        )
        assert security is not None
        data = await station.call(call.DataTransfer(vendor_id="acme"))
        assert data.status == "UnknownVendorId"
        assert _assert_every_frame_out_validates(central, "CP-AUTH") >= 8


async def test_a_transaction_for_another_token_on_the_reserved_evse_ends_it(
    central: CentralSystem,
) -> None:
    async with connected_station201(central, "CP-OVR") as station:
        record = await central.reserve_now("CP-OVR", 1, "CARD", _expiry())
        await station.call(
            call.TransactionEvent(
                event_type="Started",
                timestamp=stamp(),
                trigger_reason="Authorized",
                seq_no=0,
                transaction_info={"transaction_id": "TX-OTHER"},
                evse={"id": 1, "connector_id": 1},
                id_token={"id_token": "SOMEONE-ELSE", "type": "ISO14443"},
            )
        )
        ended = await wait_until(
            central,
            record_in_state(central, "CP-OVR", record.reservation_id, ReservationState.ENDED),
        )
        assert "overrode" in (ended.error or "")
