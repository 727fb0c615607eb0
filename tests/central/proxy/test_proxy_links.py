"""Proxy mode on loopback: a real station, the console in proxy mode, a real upstream."""

from __future__ import annotations

import asyncio
import base64
import http
import ssl
from pathlib import Path

import pytest
import websockets
from websockets.exceptions import ConnectionClosed, InvalidStatus

from console.central.model import UpstreamState
from console.central.proxy import ProxiedStationConnection, Route
from console.central.server import CentralSystem
from tests.central.conftest import StartCentral
from tests.central.ocpp_station import wait_until
from tests.central.proxy.upstream_peer import WAIT, raw_upstream
from tests.pki import make_ca, make_test_pki


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def notes(central: CentralSystem, station_id: str) -> list[str]:
    return [e.note or "" for e in central.recent_trace() if e.station_id == station_id]


def events(central: CentralSystem, station_id: str) -> list[str]:
    return [
        e.text for e in central.recent_trace() if e.station_id == station_id and e.note == "proxy"
    ]


def connected_upstream(central: CentralSystem, station_id: str) -> bool | None:
    station = central.station(station_id)
    return (station is not None and station.upstream is UpstreamState.CONNECTED) or None


@pytest.mark.asyncio
@pytest.mark.parametrize("subprotocol", ["ocpp1.6", "ocpp2.0.1"])
async def test_frames_pass_byte_for_byte_both_ways_with_the_stations_version_and_credentials(
    start_central: StartCentral, subprotocol: str
) -> None:
    async with raw_upstream() as upstream:
        central = await start_central(upstream_url=upstream.url + "/")
        credentials = basic("CP-1", "s3cret")
        async with websockets.connect(
            f"ws://127.0.0.1:{central.port}/CP-1",
            subprotocols=[subprotocol],
            additional_headers={"Authorization": credentials},
        ) as station:
            link = await upstream.link()
            assert link.path == "/ocpp/CP-1"
            assert link.subprotocol == subprotocol
            assert link.authorization == credentials
            odd_call = '[2,  "hb-1","Heartbeat" ,{ } ]'
            await station.send(odd_call)
            assert await link.frame(0) == odd_call
            odd_answer = '[3,"hb-1",{"currentTime":"2025-01-01T00:00:00Z"}  ]'
            await link.send(odd_answer)
            assert await asyncio.wait_for(station.recv(), WAIT) == odd_answer
            upstream_call = '[2, "u-7", "ClearCache", {}]'
            await link.send(upstream_call)
            assert await asyncio.wait_for(station.recv(), WAIT) == upstream_call
            station_answer = '[3,"u-7",{"status" : "Accepted"}]'
            await station.send(station_answer)
            assert await link.frame(1) == station_answer
        shown = notes(central, "CP-1")
        assert Route.TO_UPSTREAM.value in shown
        assert Route.TO_STATION.value in shown


@pytest.mark.asyncio
async def test_configured_credentials_replace_the_stations(start_central: StartCentral) -> None:
    async with raw_upstream() as upstream:
        central = await start_central(
            upstream_url=upstream.url, upstream_credentials={"CP-2": "from-settings"}
        )
        async with websockets.connect(
            f"ws://127.0.0.1:{central.port}/CP-2",
            subprotocols=["ocpp1.6"],
            additional_headers={"Authorization": basic("CP-2", "station's")},
        ):
            link = await upstream.link()
            assert link.authorization == basic("CP-2", "from-settings")


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = make_test_pki(tmp_path_factory.mktemp("pki"))
    make_ca(folder, "other-ca")
    return folder


def server_tls(pki: Path) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(pki / "server.pem", pki / "server.key")
    return context


@pytest.mark.asyncio
async def test_a_wss_upstream_is_verified_against_the_given_ca(
    start_central: StartCentral, pki: Path
) -> None:
    async with raw_upstream(server_tls(pki)) as upstream:
        central = await start_central(upstream_url=upstream.url, upstream_cafile=pki / "ca.pem")
        async with websockets.connect(
            f"ws://127.0.0.1:{central.port}/CP-TLS", subprotocols=["ocpp1.6"]
        ) as station:
            link = await upstream.link()
            await station.send('[2,"a","Heartbeat",{}]')
            assert await link.frame(0) == '[2,"a","Heartbeat",{}]'


@pytest.mark.asyncio
async def test_a_wss_upstream_signed_by_another_ca_is_refused(
    start_central: StartCentral, pki: Path
) -> None:
    async with raw_upstream(server_tls(pki)) as upstream:
        central = await start_central(
            upstream_url=upstream.url, upstream_cafile=pki / "other-ca.pem"
        )
        async with websockets.connect(
            f"ws://127.0.0.1:{central.port}/CP-TLS", subprotocols=["ocpp1.6"]
        ) as station:
            with pytest.raises(ConnectionClosed) as closed:
                await asyncio.wait_for(station.recv(), WAIT)
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 1013
        assert upstream.links == []
        assert any("TLS failed" in text for text in events(central, "CP-TLS"))


@pytest.mark.asyncio
async def test_a_refusing_upstream_closes_the_station_and_backs_off(
    start_central: StartCentral,
) -> None:
    async with raw_upstream() as upstream:
        upstream.refuse_with = http.HTTPStatus.UNAUTHORIZED
        central = await start_central(upstream_url=upstream.url, upstream_backoff=30.0)
        url = f"ws://127.0.0.1:{central.port}/CP-R"
        async with websockets.connect(url, subprotocols=["ocpp1.6"]) as station:
            with pytest.raises(ConnectionClosed) as closed:
                await asyncio.wait_for(station.recv(), WAIT)
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 1013
        assert "HTTP 401" in (closed.value.rcvd.reason or "")
        assert any("upstream refused" in t and "HTTP 401" in t for t in events(central, "CP-R"))
        snapshot = central.station("CP-R")
        assert snapshot is not None
        assert snapshot.upstream is UpstreamState.REFUSED
        assert snapshot.upstream_status == 401
        # Within the backoff the station is turned away at the handshake, saying when to retry.
        with pytest.raises(InvalidStatus) as refused:
            await websockets.connect(url, subprotocols=["ocpp1.6"])
        assert refused.value.response.status_code == 503
        assert refused.value.response.headers["Retry-After"] == "30"


@pytest.mark.asyncio
async def test_upstream_gone_closes_the_station_and_the_trace_says_the_csms_ended_it(
    start_central: StartCentral,
) -> None:
    async with raw_upstream() as upstream:
        central = await start_central(upstream_url=upstream.url)
        async with websockets.connect(
            f"ws://127.0.0.1:{central.port}/CP-G", subprotocols=["ocpp1.6"]
        ) as station:
            link = await upstream.link()
            await wait_until(central, lambda: connected_upstream(central, "CP-G"))
            await link.websocket.close(1001, "going away")
            with pytest.raises(ConnectionClosed) as closed:
                await asyncio.wait_for(station.recv(), WAIT)
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 1012
        assert any("the CSMS ended the proxied link" in t for t in events(central, "CP-G"))
        gone = central.station("CP-G")
        assert gone is not None
        assert gone.upstream is UpstreamState.GONE
        assert gone.upstream_status is None


@pytest.mark.asyncio
async def test_the_station_ending_it_closes_the_upstream_link(start_central: StartCentral) -> None:
    async with raw_upstream() as upstream:
        central = await start_central(upstream_url=upstream.url)
        async with websockets.connect(
            f"ws://127.0.0.1:{central.port}/CP-S", subprotocols=["ocpp1.6"]
        ):
            link = await upstream.link()
        await asyncio.wait_for(link.websocket.wait_closed(), WAIT)
        assert any("the station ended the proxied link" in t for t in events(central, "CP-S"))
        connection = central._connections.get("CP-S")
        assert connection is None or isinstance(connection, ProxiedStationConnection)
