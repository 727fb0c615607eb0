"""The console's own calls on a proxied station keep OCPP-J's rules (an `ocpp` package
station, the console in proxy mode, a recording upstream)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
import websockets
from ocpp.routing import on
from ocpp.v16 import call_result
from ocpp.v16.enums import Action

from console.central.proxy import ProxiedStationConnection
from console.central.server import CentralSystem
from console.ocpp.reservation import CancelReservationStatus
from tests.central.conftest import StartCentral
from tests.central.ocpp_station import OcppStation
from tests.central.proxy.upstream_peer import WAIT, RawUpstream, UpstreamLink, raw_upstream


class OrderedStation(OcppStation):
    """Keeps the order of the calls it got; ReserveNow waits for ``gate``."""

    def __init__(self, station_id: str, connection: Any) -> None:
        super().__init__(station_id, connection)
        self.calls: list[str] = []
        self._handling: set[asyncio.Task[None]] = set()
        self.gate = asyncio.Event()
        self.got_call = asyncio.Condition()

        async def held(payload: dict[str, Any]) -> Any:
            await self.gate.wait()
            return call_result.ReserveNow(status="Accepted")

        self.reserve_behaviour = held

    async def route_message(self, raw_msg: str) -> None:
        message = json.loads(raw_msg)
        if message[0] == 2:
            async with self.got_call:
                self.calls.append(message[2])
                self.got_call.notify_all()
            if message[2] == "ReserveNow":
                # The package awaits each handler before reading on: a held ReserveNow
                # would stop the station reading answers to its own calls.
                task = asyncio.create_task(super().route_message(raw_msg))
                self._handling.add(task)
                task.add_done_callback(self._handling.discard)
                return
        await super().route_message(raw_msg)

    async def until_called(self, count: int) -> None:
        async with self.got_call:
            await asyncio.wait_for(self.got_call.wait_for(lambda: len(self.calls) >= count), WAIT)

    @on(Action.clear_cache)
    def on_clear_cache(self, **payload: Any) -> Any:
        return call_result.ClearCache(status="Accepted")


RESERVE = (
    '[2,"u-1","ReserveNow",{"connectorId":1,"expiryDate":"2099-01-01T00:00:00Z",'
    '"idTag":"CSMS-TAG","reservationId":501}]'
)


@contextlib.asynccontextmanager
async def proxied_station(
    start_central: StartCentral, **settings: Any
) -> AsyncIterator[tuple[CentralSystem, RawUpstream, UpstreamLink, OrderedStation]]:
    async with raw_upstream() as upstream:
        central = await start_central(upstream_url=upstream.url, **settings)
        websocket = await websockets.connect(
            f"ws://127.0.0.1:{central.port}/CP-I", subprotocols=["ocpp1.6"]
        )
        station = OrderedStation("CP-I", websocket)
        reader = asyncio.create_task(station.start())
        try:
            link = await upstream.link()
            booting = asyncio.create_task(station.boot())
            boot = json.loads(await link.frame(0))
            assert boot[2] == "BootNotification"
            await link.send(
                json.dumps(
                    [
                        3,
                        boot[1],
                        {
                            "currentTime": "2025-01-01T00:00:00Z",
                            "interval": 300,
                            "status": "Accepted",
                        },
                    ]
                )
            )
            await asyncio.wait_for(booting, WAIT)
            # The console's own capability query after the boot (injected, answered to it).
            await asyncio.wait_for(station.configuration_asked.wait(), WAIT)
            yield central, upstream, link, station
        finally:
            reader.cancel()
            with contextlib.suppress(BaseException):
                await reader
            await websocket.close()


def connection_of(central: CentralSystem) -> ProxiedStationConnection:
    connection = central._connections["CP-I"]
    assert isinstance(connection, ProxiedStationConnection)
    return connection


async def until_queued(connection: ProxiedStationConnection) -> None:
    # The console's call is queued synchronously once its task runs: yield until it did.
    for _ in range(1000):
        if connection.session.queued:
            return
        await asyncio.sleep(0)
    raise AssertionError("the console's call was never queued")


def ids_seen_upstream(link: UpstreamLink) -> set[str]:
    return {json.loads(text)[1] for text in link.received}


@pytest.mark.asyncio
async def test_the_consoles_call_waits_for_the_upstreams_and_its_ids_never_go_upstream(
    start_central: StartCentral,
) -> None:
    async with proxied_station(start_central) as (central, _upstream, link, station):
        await link.send(RESERVE)
        await station.until_called(2)  # GetConfiguration (ours), then the CSMS's ReserveNow
        connection = connection_of(central)
        cancel = asyncio.create_task(central.cancel_reservation("CP-I", 77))
        await until_queued(connection)
        assert station.calls == ["GetConfiguration", "ReserveNow"]
        assert connection.relay.upstream_outstanding == "u-1"
        station.gate.set()
        assert json.loads(await link.frame(1)) == [3, "u-1", {"status": "Accepted"}]
        outcome = await asyncio.wait_for(cancel, WAIT)
        assert outcome.status is CancelReservationStatus.ACCEPTED
        assert station.calls == ["GetConfiguration", "ReserveNow", "CancelReservation"]
        console_ids = {
            e.message_id
            for e in central.recent_trace()
            if e.station_id == "CP-I"
            and e.message_id
            and connection.relay.is_console_id(e.message_id)
        }
        assert len(console_ids) == 2  # GetConfiguration and CancelReservation
        assert not console_ids & ids_seen_upstream(link)


@pytest.mark.asyncio
async def test_the_upstreams_call_waits_for_ours_while_the_stations_call_goes_up_at_once(
    start_central: StartCentral,
) -> None:
    async with proxied_station(start_central) as (central, _upstream, link, station):
        reserve = asyncio.create_task(
            central.reserve_now("CP-I", 1, "TAG-1", expiry_date=_in_an_hour())
        )
        await station.until_called(2)  # our ReserveNow, held in the station
        # The station calls while our call waits for its answer: that goes upstream.
        status = asyncio.create_task(station.status(1, "Available"))
        up = json.loads(await link.frame(1))
        assert up[2] == "StatusNotification"
        await link.send(json.dumps([3, up[1], {}]))
        await asyncio.wait_for(status, WAIT)
        # The upstream calls now: it waits behind ours.
        await link.send('[2,"u-2","ClearCache",{}]')
        await link.send('[2,"u-3","ClearCache",{}]')  # and a second one (the CSMS is wrong)
        connection = connection_of(central)
        for _ in range(1000):
            if connection.relay.upstream_waiting:
                break
            await asyncio.sleep(0)
        assert connection.relay.upstream_waiting >= 1
        assert station.calls == ["GetConfiguration", "ReserveNow"]
        station.gate.set()
        record = await asyncio.wait_for(reserve, WAIT)
        assert record.confirmation is not None
        assert record.confirmation.value == "Accepted"
        assert json.loads(await link.frame(2)) == [3, "u-2", {"status": "Accepted"}]
        assert json.loads(await link.frame(3)) == [3, "u-3", {"status": "Accepted"}]
        assert station.calls == ["GetConfiguration", "ReserveNow", "ClearCache", "ClearCache"]
        # The station's answer to our ReserveNow never went upstream: only the CSMS's.
        answers = [json.loads(t)[1] for t in link.received if json.loads(t)[0] == 3]
        assert answers == ["u-2", "u-3"]
        assert not any(connection.relay.is_console_id(i) for i in ids_seen_upstream(link))


def _in_an_hour() -> Any:
    from datetime import UTC, datetime, timedelta

    return datetime.now(UTC) + timedelta(hours=1)
