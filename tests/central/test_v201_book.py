"""2.0.1 reservations in the book exactly as 1.6 ones: a late answer reconciles the attempt
(statusInfo included), every attempt is kept, and all of it survives a restart of the
console on the same SQLite file."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from console.central.model import ReservationState
from console.ocpp.reservation import ReservationStatus
from console.ocpp.v201.enums import ConnectorStatus, ConnectorType, IdTokenType
from console.ocpp.versions import OcppVersion
from tests.central.conftest import StartCentral
from tests.central.ocpp_station import record_in_state, wait_until
from tests.central.ocpp_station201 import connected_station201

pytestmark = pytest.mark.asyncio


def _expiry() -> datetime:
    return (datetime.now(UTC) + timedelta(minutes=40)).replace(microsecond=0)


async def test_a_late_2_0_1_answer_reconciles_the_attempt(start_central: StartCentral) -> None:
    central = await start_central(call_timeout=0.5)
    release = asyncio.Event()
    async with connected_station201(central, "CP-LATE") as station:
        station.reserve_gate = release
        station.reserve_status_info = {"reason_code": "Slow", "additional_info": "busy"}
        record = await central.reserve_now("CP-LATE", 1, "CARD", _expiry())
        assert record.state is ReservationState.NO_RESPONSE
        release.set()
        reconciled = await wait_until(
            central,
            record_in_state(central, "CP-LATE", record.reservation_id, ReservationState.ACCEPTED),
        )
        assert reconciled.confirmation is ReservationStatus.ACCEPTED
        assert (reconciled.status_reason, reconciled.status_detail) == ("Slow", "busy")
        late = [e for e in central.recent_trace() if e.station_id == "CP-LATE" and e.late]
        assert len(late) == 1
        assert late[0].ocpp_version is OcppVersion.V201


async def test_2_0_1_records_stations_and_connectors_survive_a_restart(
    start_central: StartCentral,
) -> None:
    central = await start_central()
    async with connected_station201(central, "CP-KEEP") as station:
        await station.evse_status(1, "Available")
        station.reserve_status = "Rejected"
        station.reserve_status_info = {"reason_code": "Disabled"}
        refused = await central.reserve_now(
            "CP-KEEP", 1, "CARD-1", _expiry(), id_token_type=IdTokenType.ISO14443
        )
        station.reserve_status = "Accepted"
        station.reserve_status_info = None
        held = await central.reserve_now(
            "CP-KEEP",
            1,
            "CARD-1",
            _expiry(),
            parent_id_tag="GROUP",
            reservation_id=refused.reservation_id,
            connector_type=ConnectorType.C_TYPE2,
        )
        assert (refused.state, held.state) == (ReservationState.REJECTED, ReservationState.ACCEPTED)
        await station.evse_status(1, "Reserved")
        await wait_until(
            central,
            lambda: all(
                c.status == ConnectorStatus.RESERVED
                for c in central.connectors("CP-KEEP")
                if c.evse_id == 1
            ),
        )
    await central.stop()

    again = await start_central()
    station = again.station("CP-KEEP")
    assert station is not None
    assert station.ocpp_version is OcppVersion.V201
    assert station.non_evse_specific is False
    connectors = again.connectors("CP-KEEP")
    assert [(c.evse_id, c.connector_id) for c in connectors] == [(1, 1), (1, 2), (2, 1)]
    assert connectors[0].status is ConnectorStatus.RESERVED
    assert connectors[0].connector_type is ConnectorType.C_TYPE2
    attempts = [r for r in again.reservations() if r.station_id == "CP-KEEP"]
    assert len(attempts) == 2
    first, second = sorted(attempts, key=lambda r: r.created_at)
    assert (first.state, first.status_reason, first.id_token_type) == (
        ReservationState.REJECTED,
        "Disabled",
        IdTokenType.ISO14443,
    )
    assert second.ocpp_version is OcppVersion.V201
    assert (second.connector_type, second.parent_id_tag, second.group_id_token_type) == (
        ConnectorType.C_TYPE2,
        "GROUP",
        IdTokenType.CENTRAL,
    )
