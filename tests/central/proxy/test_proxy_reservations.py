"""Reservations the site's CSMS makes on a proxied station: kept in the book as made by the
CSMS, with their answers and lifecycle (an `ocpp` package station, the console in proxy
mode, a recording upstream that plays the CSMS)."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from ocpp.v16 import call

from console.central.export import RESERVATION_CSV_COLUMNS, reservation_csv_row
from console.central.model import ReservationState
from console.central.server import CentralSystem
from console.ocpp.reservation import CancelReservationStatus, ReservationStatus
from tests.central.conftest import StartCentral
from tests.central.ocpp_station import record_in_state, wait_until
from tests.central.proxy.test_proxy_injection import RESERVE, proxied_station
from tests.central.proxy.upstream_peer import WAIT, UpstreamLink


async def answer_next_call(link: UpstreamLink, index: int, payload: dict[str, object]) -> None:
    """Answer the station's ``index``-th frame upstream (a CALL) as the CSMS."""
    frame = json.loads(await link.frame(index))
    assert frame[0] == 2
    await link.send(json.dumps([3, frame[1], payload]))


def csv_cell(record: object, column: str) -> str:
    return reservation_csv_row(record)[RESERVATION_CSV_COLUMNS.index(column)]  # type: ignore[arg-type]


@pytest.mark.asyncio
async def test_the_csmss_reservation_is_kept_as_its_own_and_used_by_its_transaction(
    start_central: StartCentral,
) -> None:
    async with proxied_station(start_central) as (central, _upstream, link, station):
        station.gate.set()
        await link.send(RESERVE)
        assert json.loads(await link.frame(1)) == [3, "u-1", {"status": "Accepted"}]
        record = await wait_until(
            central, record_in_state(central, "CP-I", 501, ReservationState.ACCEPTED)
        )
        assert record.by_upstream
        assert (record.connector_id, record.id_tag) == (1, "CSMS-TAG")
        assert record.expiry_date == datetime(2099, 1, 1, tzinfo=UTC)
        assert record.confirmation is ReservationStatus.ACCEPTED
        assert record.latency is not None
        connector = await wait_until(
            central,
            lambda: next((c for c in central.connectors("CP-I") if c.connector_id == 1), None),
        )
        assert connector.reservation_id == 501
        assert csv_cell(record, "by_csms") == "true"
        # The station starts charging on it: the transaction carries the CSMS's id.
        starting = asyncio.create_task(
            station.call(
                call.StartTransaction(
                    connector_id=1,
                    id_tag="CSMS-TAG",
                    meter_start=0,
                    timestamp="2025-01-01T00:00:00Z",
                    reservation_id=501,
                )
            )
        )
        await answer_next_call(
            link, 2, {"transactionId": 9001, "idTagInfo": {"status": "Accepted"}}
        )
        await asyncio.wait_for(starting, WAIT)
        used = await wait_until(
            central, record_in_state(central, "CP-I", 501, ReservationState.USED)
        )
        assert used.by_upstream


@pytest.mark.asyncio
async def test_the_csmss_cancel_cancels_its_reservation_and_says_it_was_the_csms(
    start_central: StartCentral,
) -> None:
    async with proxied_station(start_central) as (central, _upstream, link, station):
        station.gate.set()
        await link.send(RESERVE)
        await wait_until(central, record_in_state(central, "CP-I", 501, ReservationState.ACCEPTED))
        await link.send('[2,"u-2","CancelReservation",{"reservationId":501}]')
        assert json.loads(await link.frame(2)) == [3, "u-2", {"status": "Accepted"}]
        record = await wait_until(
            central, record_in_state(central, "CP-I", 501, ReservationState.CANCELLED)
        )
        assert record.cancel is not None
        assert record.cancel.by_upstream
        assert not record.cancel.by_check
        assert record.cancel.status is CancelReservationStatus.ACCEPTED
        assert csv_cell(record, "cancel_by_csms") == "true"
        connector = next(c for c in central.connectors("CP-I") if c.connector_id == 1)
        assert connector.reservation_id is None


@pytest.mark.asyncio
async def test_a_refused_and_a_late_answer_to_the_csms_are_followed(
    start_central: StartCentral,
) -> None:
    async with proxied_station(start_central, call_timeout=0.5) as (central, _up, link, station):
        # No answer within the timeout: the attempt waits as no_response.
        await link.send(RESERVE)
        waiting = await wait_until(
            central, record_in_state(central, "CP-I", 501, ReservationState.NO_RESPONSE)
        )
        assert waiting.by_upstream
        # The late answer still goes upstream, and settles the same attempt.
        station.gate.set()
        assert json.loads(await link.frame(1)) == [3, "u-1", {"status": "Accepted"}]
        late = await wait_until(
            central, record_in_state(central, "CP-I", 501, ReservationState.ACCEPTED)
        )
        assert late.created_at == waiting.created_at
        assert late.error == "late answer"
        # A refusal is kept too (every attempt is).
        station.reserve_status = "Occupied"
        station.reserve_behaviour = None
        await link.send(RESERVE.replace('"u-1"', '"u-3"').replace("501", "502"))
        refused = await wait_until(
            central, record_in_state(central, "CP-I", 502, ReservationState.OCCUPIED)
        )
        assert refused.by_upstream
        assert len([r for r in central.reservations() if r.by_upstream]) == 2


@pytest.mark.asyncio
async def test_the_csmss_attempt_survives_a_restart(
    start_central: StartCentral, data_dir: Path
) -> None:
    async with proxied_station(start_central) as (central, _upstream, link, station):
        station.gate.set()
        await link.send(RESERVE)
        await wait_until(central, record_in_state(central, "CP-I", 501, ReservationState.ACCEPTED))
        await link.send('[2,"u-2","CancelReservation",{"reservationId":501}]')
        await wait_until(central, record_in_state(central, "CP-I", 501, ReservationState.CANCELLED))
        await central.stop()
    again: CentralSystem = await start_central(data_dir=data_dir)
    record = again.reservation("CP-I", 501)
    assert record is not None
    assert record.by_upstream
    assert record.cancel is not None
    assert record.cancel.by_upstream
    assert all(not r.by_upstream for r in again.reservations() if r.reservation_id != 501)
