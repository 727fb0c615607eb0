"""Proxy mode end to end: our simulator and the `ocpp` package's station, through the
console, to our own Central System, the `ocpp` package's CSMS, and `ocpp-console proxy`."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import websockets

from console.central.model import ReservationState
from console.central.server import CentralSystem
from console.chargepoint.base_client import BaseStationClient
from console.chargepoint.client import ClientOptions, StationClient, StationIdentity
from console.chargepoint.client201 import StationClient201
from console.chargepoint.engine import ReservationEngine
from console.chargepoint.engine201.engine import ReservationEngine201
from console.ocpp.v201.enums import ConnectorType
from console.ocpp.versions import OcppVersion
from tests.central.conftest import StartCentral
from tests.central.ocpp_station import OcppStation, record_in_state, wait_until
from tests.central.proxy.upstream_peer import WAIT, raw_upstream
from tests.chargepoint.ocpp_central import ocpp_central

ROOT = Path(__file__).resolve().parents[3]
FAST = ClientOptions(
    call_timeout=5.0,
    backoff_initial=0.05,
    backoff_max=0.2,
    boot_retry_interval=0.2,
    heartbeat_interval=300,
)


def simulator(version: OcppVersion, url: str, station_id: str) -> BaseStationClient:
    identity = StationIdentity("ProxyVendor", "P-1", "9.9")
    if version is OcppVersion.V201:
        engine = ReservationEngine201({1: [ConnectorType.C_CCS2], 2: [ConnectorType.C_CCS2]})
        return StationClient201(url, station_id, engine, identity=identity, options=FAST)
    return StationClient(url, station_id, ReservationEngine(2), identity=identity, options=FAST)


def in_an_hour() -> datetime:
    return datetime.now(UTC) + timedelta(hours=1)


def booted(central: CentralSystem, station_id: str) -> bool:
    station = central.station(station_id)
    return station is not None and station.connected and station.vendor == "ProxyVendor"


@pytest.mark.asyncio
@pytest.mark.parametrize("version", [OcppVersion.V16, OcppVersion.V201])
async def test_our_simulator_through_the_proxy_to_our_own_central_system(
    start_central: StartCentral, tmp_path: Path, version: OcppVersion
) -> None:
    upstream = await start_central(data_dir=tmp_path)
    proxy = await start_central(upstream_url=f"ws://127.0.0.1:{upstream.port}")
    station = simulator(version, f"ws://127.0.0.1:{proxy.port}", "CP-E2E")
    await station.start()
    try:
        await wait_until(upstream, lambda: booted(upstream, "CP-E2E"))
        await wait_until(proxy, lambda: booted(proxy, "CP-E2E"))
        snapshot = upstream.station("CP-E2E")
        assert snapshot is not None
        assert snapshot.ocpp_version is version
        # Both Central Systems reserve at once: each gets its own answer.
        from_upstream, from_console = await asyncio.gather(
            upstream.reserve_now("CP-E2E", 1, "UP-TAG", in_an_hour(), reservation_id=11),
            proxy.reserve_now("CP-E2E", 2, "CON-TAG", in_an_hour(), reservation_id=12),
        )
        assert from_upstream.state is ReservationState.ACCEPTED
        assert from_console.state is ReservationState.ACCEPTED
        # The upstream never saw the console's reservation, and the console's trace holds
        # the upstream's (forwarded).
        assert upstream.reservation("CP-E2E", 12) is None
        # The console keeps the upstream's reservation as made by the CSMS.
        by_csms = await wait_until(
            proxy, record_in_state(proxy, "CP-E2E", 11, ReservationState.ACCEPTED)
        )
        assert by_csms.by_upstream
        assert by_csms.ocpp_version is version
        assert (by_csms.connector_id, by_csms.id_tag) == (1, "UP-TAG")
        own = proxy.reservation("CP-E2E", 12)
        assert own is not None
        assert not own.by_upstream
        forwarded = [
            e
            for e in proxy.recent_trace()
            if e.action == "ReserveNow" and e.note and "forwarded" in e.note
        ]
        assert forwarded
    finally:
        await station.stop()


@pytest.mark.asyncio
async def test_upstream_down_and_up_again_the_station_follows(
    start_central: StartCentral, tmp_path: Path
) -> None:
    upstream = await start_central(data_dir=tmp_path / "a")
    port = upstream.port
    proxy = await start_central(
        upstream_url=f"ws://127.0.0.1:{port}", upstream_backoff=0.05, upstream_backoff_max=0.2
    )
    station = simulator(OcppVersion.V16, f"ws://127.0.0.1:{proxy.port}", "CP-DU")
    await station.start()
    try:
        await wait_until(upstream, lambda: booted(upstream, "CP-DU"))
        await upstream.stop()
        await wait_until(proxy, lambda: not proxy.is_connected("CP-DU") or None)
        again = await start_central(data_dir=tmp_path / "b", port=port)
        await wait_until(again, lambda: booted(again, "CP-DU"), wait=WAIT)
        await wait_until(proxy, lambda: proxy.is_connected("CP-DU") or None)
        texts = [e.text for e in proxy.recent_trace() if e.station_id == "CP-DU"]
        assert any("the CSMS ended the proxied link" in t for t in texts)
        assert sum("upstream connected" in t for t in texts) >= 2
    finally:
        await station.stop()


@pytest.mark.asyncio
async def test_the_ocpp_package_station_through_the_proxy_to_the_ocpp_package_csms(
    start_central: StartCentral,
) -> None:
    async with ocpp_central() as (url, state):
        proxy = await start_central(upstream_url=url)
        async with websockets.connect(
            f"ws://127.0.0.1:{proxy.port}/CP-PKG", subprotocols=["ocpp1.6"]
        ) as websocket:
            station = OcppStation("CP-PKG", websocket)
            reader = asyncio.create_task(station.start())
            try:
                answer = await station.boot()
                assert answer.status == "Accepted"
                await station.status(1, "Available")
                await state.wait_message("CP-PKG", "StatusNotification")
                await wait_until(
                    proxy,
                    lambda: any(c.status == "Available" for c in proxy.connectors("CP-PKG")),
                )
                record = await proxy.reserve_now("CP-PKG", 1, "TAG", in_an_hour())
                assert record.state is ReservationState.ACCEPTED
                assert state.messages("CP-PKG", "BootNotification")
            finally:
                reader.cancel()


@pytest.mark.skipif(sys.platform == "win32", reason="SIGTERM")
@pytest.mark.asyncio
async def test_the_proxy_command_carries_a_station_on(data_dir: Path) -> None:
    async with raw_upstream() as upstream:
        child = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "console",
            "proxy",
            "--upstream",
            upstream.url,
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--data-dir",
            str(data_dir),
            cwd=ROOT,
            stderr=subprocess.PIPE,
            env={**os.environ, "PYTHONWARNINGS": "ignore"},
        )
        assert child.stderr is not None
        lines: list[str] = []
        port = None
        while port is None:
            line = (await asyncio.wait_for(child.stderr.readline(), 30)).decode()
            assert line, "proxy ended early: " + "".join(lines)
            lines.append(line)
            if "stations connect to ws://127.0.0.1:" in line:
                port = int(line.split("ws://127.0.0.1:")[1].split("/")[0])
        async with websockets.connect(
            f"ws://127.0.0.1:{port}/CP-CLI", subprotocols=["ocpp1.6"]
        ) as websocket:
            link = await upstream.link()
            await websocket.send('[2,"1","Heartbeat",{}]')
            assert await link.frame(0) == '[2,"1","Heartbeat",{}]'
        child.send_signal(signal.SIGTERM)
        _, rest = await asyncio.wait_for(child.communicate(), 30)
        output = "".join(lines) + rest.decode()
        assert child.returncode == 0
        assert "carried on to " + upstream.url + "/CP-CLI" in output


@pytest.mark.asyncio
async def test_a_restart_without_upstream_url_ends_proxy_mode(start_central: StartCentral) -> None:
    # The settings dialog restarts in place (stop, new config, start): emptying the
    # upstream URL there must leave no proxy behind, or a station is sent to a CSMS that
    # is no longer configured (here: nothing listens) and never boots.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        nowhere = probe.getsockname()[1]
    central = await start_central(upstream_url=f"ws://127.0.0.1:{nowhere}")
    await central.stop()
    central.config = central.config.model_copy(update={"upstream_url": None})
    await central.start()
    station = simulator(OcppVersion.V16, f"ws://127.0.0.1:{central.port}", "CP-OFF")
    await station.start()
    try:
        await wait_until(central, lambda: booted(central, "CP-OFF") or None, wait=WAIT)
        texts = [e.text for e in central.recent_trace() if e.station_id == "CP-OFF"]
        assert not any("through the proxy" in t for t in texts)
    finally:
        await station.stop()
