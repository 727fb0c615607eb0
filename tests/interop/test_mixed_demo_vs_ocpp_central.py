"""The console's demo site is mixed: the first half of its stations speak 1.6, the rest
2.0.1, all on one URL. Here against a server that answers each connection with the
``ocpp`` package's Central System of the version the station chose."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from console.chargepoint.client import ClientOptions
from console.chargepoint.simulator import (
    SimulatedStation,
    SimulatedStation201,
    SimulationOptions,
    SiteSimulator,
    demo_behaviours,
    demo_versions,
)
from console.ocpp.versions import OcppVersion
from tests.chargepoint.ocpp_central import WAIT, CentralState, OcppCentral
from tests.chargepoint.ocpp_central201 import CentralState201, OcppCentral201, frame_problems


@contextlib.asynccontextmanager
async def both_versions(state16: CentralState, state201: CentralState201) -> AsyncIterator[str]:
    """One port, both subprotocols: each connection goes to the CSMS of its version."""

    async def handler(websocket: ServerConnection) -> None:
        assert websocket.request is not None
        station_id = websocket.request.path.rstrip("/").rsplit("/", 1)[-1]
        central: OcppCentral | OcppCentral201
        if websocket.subprotocol == "ocpp2.0.1":
            central = OcppCentral201(station_id, websocket, state201)
            state201.connections.setdefault(station_id, []).append(central)
        else:
            central = OcppCentral(station_id, websocket, state16)
            state16.connections.setdefault(station_id, []).append(central)
        with contextlib.suppress(ConnectionClosed):
            await central.start()

    server = await serve(
        handler,
        "127.0.0.1",
        0,
        subprotocols=[Subprotocol("ocpp2.0.1"), Subprotocol("ocpp1.6")],
        compression=None,
    )
    port = next(iter(server.sockets)).getsockname()[1]
    try:
        yield f"ws://127.0.0.1:{port}"
    finally:
        server.close()
        await server.wait_closed()


def test_the_demo_versions() -> None:
    assert demo_versions(7) == {
        "CP-01": OcppVersion.V16,
        "CP-02": OcppVersion.V16,
        "CP-03": OcppVersion.V16,
        "CP-04": OcppVersion.V16,
        "CP-05": OcppVersion.V201,
        "CP-06": OcppVersion.V201,
        "CP-07": OcppVersion.V201,
    }
    assert demo_versions(1) == {"CP-01": OcppVersion.V16}
    assert list(demo_versions(2).values()) == [OcppVersion.V16, OcppVersion.V201]


@pytest.mark.asyncio
async def test_the_demo_site_speaks_both_versions_on_one_url() -> None:
    state16, state201 = CentralState(), CentralState201()
    async with both_versions(state16, state201) as url:
        site = SiteSimulator.demo(
            url,
            7,
            options=SimulationOptions(
                client=ClientOptions(backoff_initial=0.05, backoff_max=0.2),
                slow_answer_delay=0.5,
            ),
        )
        assert [s.station_id for s in site.stations] == [sid for sid, _ in demo_behaviours(7)]
        await site.start()
        try:
            async with asyncio.timeout(WAIT):
                await site.wait_booted()
        finally:
            await site.stop()
    by_version = {s.station_id: s.version for s in site.stations}
    assert all(isinstance(s, SimulatedStation) for s in site.stations[:4])
    assert all(isinstance(s, SimulatedStation201) for s in site.stations[4:])
    booted16 = {r.station_id for r in state16.received if r.action == "BootNotification"}
    booted201 = {r.station_id for r in state201.received if r.action == "BootNotification"}
    assert booted16 == {sid for sid, v in by_version.items() if v is OcppVersion.V16}
    assert booted201 == {sid for sid, v in by_version.items() if v is OcppVersion.V201}
    vendors = {
        r.payload["charging_station"]["vendor_name"]
        for r in state201.received
        if r.action == "BootNotification"
    } | {
        r.payload["charge_point_vendor"] for r in state16.received if r.action == "BootNotification"
    }
    assert len(vendors) == 7  # every demo station tells a vendor of its own
    assert [f for f in state201.frames if frame_problems(f)] == []
