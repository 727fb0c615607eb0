"""OCPP 1.6 and 2.0.1 on one port: the station's order of preference, a station offering
neither, a station coming back with the other version, and HTTP Basic for 2.0.1."""

from __future__ import annotations

import asyncio
import base64
from datetime import UTC, datetime, timedelta

import pytest
import websockets
from websockets.exceptions import ConnectionClosed, InvalidStatus

from console.central.model import ReservationState, TraceDirection
from console.central.security import hash_authorization_key
from console.central.server import CentralSystem
from console.ocpp.versions import OcppVersion
from tests.central.conftest import StartCentral
from tests.central.ocpp_station import connected_station, wait_until
from tests.central.ocpp_station201 import connected_station201

pytestmark = pytest.mark.asyncio

PASSWORD = "a-good-long-authorization-key"


def _expiry() -> datetime:
    return datetime.now(UTC) + timedelta(minutes=20)


def _basic(user: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


@pytest.mark.parametrize(
    ("offered", "chosen"),
    [
        (["ocpp2.0.1", "ocpp1.6"], "ocpp2.0.1"),
        (["ocpp1.6", "ocpp2.0.1"], "ocpp1.6"),
        (["ocpp2.1", "ocpp1.6"], "ocpp1.6"),
        (["ocpp2.0.1"], "ocpp2.0.1"),
    ],
)
async def test_the_station_s_first_offer_the_console_speaks_wins(
    central: CentralSystem, offered: list[str], chosen: str
) -> None:
    url = f"ws://127.0.0.1:{central.port}/CP-PREF"
    async with websockets.connect(url, subprotocols=offered) as websocket:  # type: ignore[arg-type]
        assert websocket.subprotocol == chosen
        snapshot = await wait_until(
            central, lambda: (s := central.station("CP-PREF")) and s.connected and s
        )
        assert snapshot.ocpp_version.subprotocol == chosen


@pytest.mark.parametrize("offered", [["ocpp2.1"], []])
async def test_a_station_offering_no_version_the_console_speaks_is_closed(
    central: CentralSystem, offered: list[str]
) -> None:
    url = f"ws://127.0.0.1:{central.port}/CP-NONE"
    async with websockets.connect(url, subprotocols=offered or None) as websocket:  # type: ignore[arg-type]
        # The handshake completes without a subprotocol (OCPP-J 2.0.1 part 4) ...
        assert websocket.subprotocol is None
        # ... and the console closes the connection at once, saying why.
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(websocket.recv(), 10)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 1002
    events = [
        e.text
        for e in central.recent_trace()
        if e.station_id == "CP-NONE" and e.direction is TraceDirection.EVENT
    ]
    assert len(events) == 1
    assert "no OCPP version in common" in events[0]
    assert ("ocpp2.1" if offered else "none") in events[0]
    assert central.station("CP-NONE") is None


async def test_a_1_6_and_a_2_0_1_station_at_once(central: CentralSystem) -> None:
    async with (
        connected_station(central, "CP-16") as old,
        connected_station201(central, "CP-201") as new,
    ):
        await old.status(1, "Available")
        await new.evse_status(1, "Available")
        first = await central.reserve_now("CP-16", 1, "CARD-16", _expiry())
        second = await central.reserve_now("CP-201", 1, "CARD-201", _expiry())
        assert (first.state, second.state) == (ReservationState.ACCEPTED,) * 2
        assert (first.ocpp_version, second.ocpp_version) == (OcppVersion.V16, OcppVersion.V201)
        assert old.reserve_requests[0]["id_tag"] == "CARD-16"
        assert new.asked("ReserveNow")[0]["id_token"]["id_token"] == "CARD-201"
        versions = {s.station_id: s.ocpp_version for s in central.stations()}
        assert versions == {"CP-16": OcppVersion.V16, "CP-201": OcppVersion.V201}
        by_station = {(c.station_id, c.evse_id) for c in central.connectors()}
        assert ("CP-16", None) in by_station
        assert ("CP-201", 1) in by_station


async def test_a_station_that_comes_back_with_the_other_version_is_that_version(
    central: CentralSystem,
) -> None:
    async with connected_station(central, "CP-SWAP") as old:
        await old.status(1, "Available")
        await old.status(2, "Available")
        await wait_until(central, lambda: len(central.connectors("CP-SWAP")) == 2)
    async with connected_station201(central, "CP-SWAP") as new:
        # From its first frame: the boot was a 2.0.1 BootNotification, the console's
        # questions were 2.0.1 ones, and the 1.6 connectors are gone.
        connectors = await wait_until(
            central,
            lambda: (
                (c := central.connectors("CP-SWAP")) and all(x.evse_id is not None for x in c) and c
            ),
        )
        assert len(connectors) == 3
        station = central.station("CP-SWAP")
        assert station is not None
        assert station.ocpp_version is OcppVersion.V201
        record = await central.reserve_now("CP-SWAP", 2, "CARD", _expiry())
        assert record.state is ReservationState.ACCEPTED
        assert new.asked("ReserveNow")[0]["evse_id"] == 2
    async with connected_station(central, "CP-SWAP") as old_again:
        await old_again.status(1, "Available")
        await wait_until(
            central,
            lambda: [c.evse_id for c in central.connectors("CP-SWAP")] == [None],
        )
        record = await central.reserve_now("CP-SWAP", 1, "CARD", _expiry())
        assert record.ocpp_version is OcppVersion.V16
        assert old_again.reserve_requests[0]["connector_id"] == 1


async def test_http_basic_works_for_2_0_1_as_for_1_6(start_central: StartCentral) -> None:
    central = await start_central(
        security_profile=1,
        accept_unknown_stations=False,
        authorization_keys={"CP-B": hash_authorization_key(PASSWORD, method="pbkdf2")},
    )
    url = f"ws://127.0.0.1:{central.port}/CP-B"
    with pytest.raises(InvalidStatus) as wrong:
        async with websockets.connect(
            url,
            subprotocols=["ocpp2.0.1"],  # type: ignore[list-item]
            additional_headers=_basic("CP-B", "not-it"),
        ):
            pass
    assert wrong.value.response.status_code == 401
    async with connected_station201(
        central, "CP-B", additional_headers=_basic("CP-B", PASSWORD)
    ) as station:
        assert station.variables_asked.is_set()
        snapshot = central.station("CP-B")
        assert snapshot is not None
        assert (snapshot.security_profile, snapshot.ocpp_version) == (1, OcppVersion.V201)
