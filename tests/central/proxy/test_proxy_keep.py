"""Proxy mode with ``upstream_keep_stations``: while the CSMS refuses (or is away) the
station stays on the console, which answers it; once the CSMS takes the link again the
station is asked to reconnect, and is carried on as usual."""

from __future__ import annotations

import asyncio
import http
import json

import pytest
import websockets
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from console.central.model import UpstreamState
from console.central.proxy import ProxiedStationConnection
from tests.central.conftest import StartCentral
from tests.central.ocpp_station import wait_until
from tests.central.proxy.upstream_peer import WAIT, raw_upstream

BOOT = '[2,"b-1","BootNotification",{"chargePointVendor":"V","chargePointModel":"M"}]'


async def until_closed(station: ClientConnection) -> ConnectionClosed:
    """Read (the console's own calls after the boot too) until the console closes."""
    while True:
        try:
            await asyncio.wait_for(station.recv(), WAIT)
        except ConnectionClosed as exc:
            return exc


@pytest.mark.asyncio
async def test_a_kept_station_is_answered_by_the_console_until_the_csms_is_back(
    start_central: StartCentral,
) -> None:
    async with raw_upstream() as upstream:
        upstream.refuse_with = http.HTTPStatus.UNAUTHORIZED
        central = await start_central(
            upstream_url=upstream.url,
            upstream_keep_stations=True,
            upstream_backoff=0.05,
            upstream_backoff_max=0.1,
        )
        url = f"ws://127.0.0.1:{central.port}/CP-K"
        async with websockets.connect(url, subprotocols=["ocpp1.6"]) as station:
            await station.send(BOOT)
            answer = json.loads(await asyncio.wait_for(station.recv(), WAIT))
            # The console answered as the Central System: nobody upstream saw it.
            assert answer[:2] == [3, "b-1"]
            assert answer[2]["status"] == "Accepted"
            assert upstream.links == []
            snapshot = central.station("CP-K")
            assert snapshot is not None
            assert snapshot.connected
            assert snapshot.upstream is UpstreamState.REFUSED
            assert snapshot.upstream_status == 401
            connection = central._connections["CP-K"]
            assert not isinstance(connection, ProxiedStationConnection)
            # The CSMS takes links again: the station is told to reconnect (1012).
            upstream.refuse_with = None
            closed = await until_closed(station)
        assert closed.rcvd is not None
        assert closed.rcvd.code == 1012
        texts = [e.text for e in central.recent_trace() if e.station_id == "CP-K"]
        assert any("the console keeps the station" in t for t in texts)
        assert any("the CSMS is back" in t for t in texts)
        # Reconnecting, it is carried on to the CSMS as usual.
        probes = len(upstream.links)
        async with websockets.connect(url, subprotocols=["ocpp1.6"]) as station:
            link = await upstream.link(probes)
            await station.send(BOOT)
            assert await link.frame(0) == BOOT
        connected = central.station("CP-K")
        assert connected is not None
        assert connected.upstream is UpstreamState.CONNECTED


@pytest.mark.asyncio
async def test_without_the_setting_a_refused_station_is_closed(
    start_central: StartCentral,
) -> None:
    async with raw_upstream() as upstream:
        upstream.refuse_with = http.HTTPStatus.FORBIDDEN
        central = await start_central(upstream_url=upstream.url)
        url = f"ws://127.0.0.1:{central.port}/CP-N"
        async with websockets.connect(url, subprotocols=["ocpp1.6"]) as station:
            with pytest.raises(ConnectionClosed) as closed:
                await asyncio.wait_for(station.recv(), WAIT)
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 1013
        await wait_until(central, lambda: not central.is_connected("CP-N") or None)


def test_the_proxy_command_takes_keep_stations() -> None:
    from console.__main__ import build_parser

    parser = build_parser()
    kept = parser.parse_args(["proxy", "--upstream", "ws://csms", "--keep-stations"])
    assert kept.keep_stations
    assert not parser.parse_args(["proxy", "--upstream", "ws://csms"]).keep_stations
