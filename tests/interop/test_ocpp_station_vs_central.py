"""Every Core message of a station built with the ``ocpp`` package, against our Central
System. The ``ocpp`` package checks each of our answers against the official OCPP 1.6
JSON schemas, so an answer that breaks them fails here."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import pytest_asyncio
from ocpp.v16 import call

from console.central.config import CentralSystemConfig, IdTagEntry
from console.central.server import CentralSystem
from tests.central.fakes import MemoryStore
from tests.central.ocpp_station import connected_station, wait_until

pytestmark = pytest.mark.asyncio


def _stamp() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest_asyncio.fixture
async def central(tmp_path: Path) -> AsyncIterator[CentralSystem]:
    config = CentralSystemConfig(
        host="127.0.0.1",
        port=0,
        data_dir=tmp_path,
        call_timeout=10.0,
        heartbeat_interval=42,
        ping_interval=None,
        id_tags={
            "CHILD": IdTagEntry(parent_id_tag="FLEET"),
            "BLOCKED": IdTagEntry(status="Blocked"),
        },
    )
    system = CentralSystem(config, store=MemoryStore())
    await system.start()
    yield system
    await system.stop()


async def test_boot_heartbeat_interval_and_heartbeat(central: CentralSystem) -> None:
    async with connected_station(central, "CP-CORE", boot=False) as station:
        boot = await station.boot()
        assert boot.status == "Accepted"
        assert boot.interval == 42
        beat = await station.call(call.Heartbeat())
        assert beat.current_time.endswith("Z")
        snapshot = await wait_until(
            central, lambda: (s := central.station("CP-CORE")) and s.last_heartbeat_at and s
        )
        assert snapshot.heartbeat_interval == 42


async def test_authorize_with_id_tag_list(central: CentralSystem) -> None:
    async with connected_station(central, "CP-AUTH") as station:
        child = await station.call(call.Authorize(id_tag="child"))
        assert child.id_tag_info["status"] == "Accepted"
        assert child.id_tag_info["parent_id_tag"] == "FLEET"
        blocked = await station.call(call.Authorize(id_tag="BLOCKED"))
        assert blocked.id_tag_info["status"] == "Blocked"
        anyone = await station.call(call.Authorize(id_tag="SOMEONE"))
        assert anyone.id_tag_info == {"status": "Accepted"}


async def test_transaction_meter_values_and_stop(central: CentralSystem) -> None:
    async with connected_station(central, "CP-TX") as station:
        started = await station.call(
            call.StartTransaction(
                connector_id=1, id_tag="CHILD", meter_start=10, timestamp=_stamp()
            )
        )
        assert started.id_tag_info["parent_id_tag"] == "FLEET"
        second = await station.call(
            call.StartTransaction(connector_id=2, id_tag="T2", meter_start=0, timestamp=_stamp())
        )
        assert second.transaction_id > started.transaction_id
        connector = next(c for c in central.connectors("CP-TX") if c.connector_id == 1)
        assert connector.transaction_id == started.transaction_id
        assert connector.id_tag == "CHILD"
        await station.call(
            call.MeterValues(
                connector_id=1,
                transaction_id=started.transaction_id,
                meter_value=[
                    {
                        "timestamp": _stamp(),
                        "sampledValue": [
                            {"value": "12.5", "measurand": "Energy.Active.Import.Register"}
                        ],
                    }
                ],
            )
        )
        stopped = await station.call(
            call.StopTransaction(
                meter_stop=99,
                timestamp=_stamp(),
                transaction_id=started.transaction_id,
                id_tag="CHILD",
                reason="Local",
            )
        )
        assert stopped.id_tag_info["status"] == "Accepted"
        connector = next(c for c in central.connectors("CP-TX") if c.connector_id == 1)
        assert connector.transaction_id is None


async def test_data_transfer_and_status_notifications(central: CentralSystem) -> None:
    async with connected_station(central, "CP-MISC") as station:
        transfer = await station.call(call.DataTransfer(vendor_id="com.example", data="x"))
        assert transfer.status == "UnknownVendorId"
        await station.call(call.DiagnosticsStatusNotification(status="Uploading"))
        await station.call(call.FirmwareStatusNotification(status="Installing"))
        snapshot = central.station("CP-MISC")
        assert snapshot is not None
        assert snapshot.note == "firmware: Installing"
        await station.status(0, "Unavailable", "OtherError")
        await station.status(1, "Charging")
        connectors = {c.connector_id: c for c in central.connectors("CP-MISC")}
        assert connectors[0].status == "Unavailable"
        assert connectors[0].error_code == "OtherError"
        assert connectors[1].status == "Charging"
    traced = {(e.action, e.direction.value) for e in central.recent_trace()}
    for action in ("DataTransfer", "DiagnosticsStatusNotification", "FirmwareStatusNotification"):
        assert (action, "in") in traced
        assert (action, "out") in traced
