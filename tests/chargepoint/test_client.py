"""The station client against a tiny in-test WebSocket server that speaks raw OCPP-J frames."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import ssl
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.server import ServerConnection, serve
from websockets.typing import Subprotocol

from console.chargepoint.client import (
    ClientOptions,
    StationClient,
    StationIdentity,
    client_ssl_context,
    station_url,
)
from console.chargepoint.engine import ReservationEngine
from tests.chargepoint.ocpp_central import stamp
from tests.pki import make_test_pki

WAIT = 10.0
FAST = ClientOptions(
    call_timeout=5.0,
    backoff_initial=0.05,
    backoff_max=0.2,
    boot_retry_interval=0.2,
    heartbeat_interval=300,
)


class RawServer:
    """Accepts station connections and hands them to the test, frame by frame."""

    def __init__(self) -> None:
        self.connections: asyncio.Queue[ServerConnection] = asyncio.Queue()
        self.url = ""

    async def handler(self, websocket: ServerConnection) -> None:
        await self.connections.put(websocket)
        await websocket.wait_closed()

    async def accept(self) -> ServerConnection:
        async with asyncio.timeout(WAIT):
            return await self.connections.get()


@contextlib.asynccontextmanager
async def raw_server(ssl_context: ssl.SSLContext | None = None) -> AsyncIterator[RawServer]:
    raw = RawServer()
    server = await serve(
        raw.handler,
        "127.0.0.1",
        0,
        subprotocols=[Subprotocol("ocpp1.6")],
        ssl=ssl_context,
        compression=None,
    )
    port = next(iter(server.sockets)).getsockname()[1]
    raw.url = f"{'wss' if ssl_context else 'ws'}://127.0.0.1:{port}"
    try:
        yield raw
    finally:
        server.close()
        await server.wait_closed()


@contextlib.asynccontextmanager
async def running(client: StationClient) -> AsyncIterator[StationClient]:
    await client.start()
    try:
        yield client
    finally:
        await client.stop()


async def receive(websocket: ServerConnection) -> list[Any]:
    async with asyncio.timeout(WAIT):
        frame: list[Any] = json.loads(await websocket.recv())
    return frame


async def expect_call(websocket: ServerConnection, action: str) -> tuple[str, dict[str, Any]]:
    frame = await receive(websocket)
    assert frame[0] == 2, frame
    assert frame[2] == action, frame
    return frame[1], frame[3]


async def answer(websocket: ServerConnection, message_id: str, payload: dict[str, Any]) -> None:
    await websocket.send(json.dumps([3, message_id, payload]))


async def boot(websocket: ServerConnection, interval: int = 300, status: str = "Accepted") -> None:
    message_id, _ = await expect_call(websocket, "BootNotification")
    await answer(
        websocket, message_id, {"currentTime": stamp(), "interval": interval, "status": status}
    )


async def statuses(websocket: ServerConnection, count: int) -> list[dict[str, Any]]:
    found = []
    for _ in range(count):
        message_id, payload = await expect_call(websocket, "StatusNotification")
        await answer(websocket, message_id, {})
        found.append(payload)
    return found


def client_for(url: str, station_id: str = "CP-T", **kwargs: Any) -> StationClient:
    options = kwargs.pop("options", FAST)
    return StationClient(
        url,
        station_id,
        kwargs.pop("engine", ReservationEngine(2)),
        identity=StationIdentity("Testvendor", "T-1", "0.1"),
        options=options,
        **kwargs,
    )


def test_station_url_takes_the_id_as_last_segment() -> None:
    assert station_url("ws://h:9000/", "CP-1") == "ws://h:9000/CP-1"
    assert station_url("ws://h:9000/ocpp", "CP 1/A") == "ws://h:9000/ocpp/CP%201%2FA"


@pytest.mark.asyncio
async def test_handshake_path_subprotocol_basic_auth_and_boot() -> None:
    async with raw_server() as server, running(client_for(server.url, "CP-AUTH", password="s3")):
        websocket = await server.accept()
        assert websocket.request is not None
        assert websocket.request.path == "/CP-AUTH"
        assert websocket.subprotocol == "ocpp1.6"
        expected = base64.b64encode(b"CP-AUTH:s3").decode()
        assert websocket.request.headers["Authorization"] == f"Basic {expected}"
        _, payload = await expect_call(websocket, "BootNotification")
        assert payload == {
            "chargePointVendor": "Testvendor",
            "chargePointModel": "T-1",
            "firmwareVersion": "0.1",
        }


@pytest.mark.asyncio
async def test_boot_rejected_then_pending_retries_at_the_interval() -> None:
    async with raw_server() as server, running(client_for(server.url)) as client:
        websocket = await server.accept()
        await boot(websocket, interval=1, status="Rejected")
        # Nothing else may come before the next BootNotification.
        await boot(websocket, interval=1, status="Pending")
        await boot(websocket, interval=1)
        found = await statuses(websocket, 3)
        assert [(s["connectorId"], s["status"]) for s in found] == [
            (0, "Available"),
            (1, "Available"),
            (2, "Available"),
        ]
        assert client.booted
        assert client.heartbeat_interval == 1
        message_id, _ = await expect_call(websocket, "Heartbeat")
        await answer(websocket, message_id, {"currentTime": stamp()})


@pytest.mark.asyncio
async def test_keeps_reading_while_its_own_call_waits() -> None:
    async with raw_server() as server, running(client_for(server.url)):
        websocket = await server.accept()
        boot_id, _ = await expect_call(websocket, "BootNotification")
        # The boot is not answered; calls from us are answered all the same.
        await websocket.send(
            json.dumps([2, "c1", "GetConfiguration", {"key": ["numberofconnectors"]}])
        )
        assert await receive(websocket) == [
            3,
            "c1",
            {"configurationKey": [{"key": "NumberOfConnectors", "readonly": True, "value": "2"}]},
        ]
        await websocket.send(json.dumps([2, "c2", "FlyToTheMoon", {}]))
        assert (await receive(websocket))[:3] == [4, "c2", "NotImplemented"]
        await websocket.send(json.dumps([2, "c3", "Reset", {"type": "Soft"}]))
        assert (await receive(websocket))[:3] == [4, "c3", "NotSupported"]
        await websocket.send(json.dumps([2, "c4", "ReserveNow", {"connectorId": 1}]))
        assert (await receive(websocket))[:3] == [4, "c4", "OccurenceConstraintViolation"]
        await answer(
            websocket, boot_id, {"currentTime": stamp(), "interval": 300, "status": "Accepted"}
        )
        assert len(await statuses(websocket, 3)) == 3


@pytest.mark.asyncio
async def test_reserve_now_answer_comes_before_the_reserved_status() -> None:
    engine = ReservationEngine(2)
    async with raw_server() as server, running(client_for(server.url, engine=engine)):
        websocket = await server.accept()
        await boot(websocket)
        await statuses(websocket, 3)
        reserve = {
            "connectorId": 2,
            "expiryDate": "2099-01-01T00:00:00Z",
            "idTag": "CARD",
            "reservationId": 5,
        }
        await websocket.send(json.dumps([2, "r1", "ReserveNow", reserve]))
        assert await receive(websocket) == [3, "r1", {"status": "Accepted"}]
        (reserved,) = await statuses(websocket, 1)
        assert (reserved["connectorId"], reserved["status"]) == (2, "Reserved")
        await websocket.send(json.dumps([2, "r2", "CancelReservation", {"reservationId": 0}]))
        assert await receive(websocket) == [3, "r2", {"status": "Rejected"}]
        await websocket.send(json.dumps([2, "r3", "CancelReservation", {"reservationId": 5}]))
        assert await receive(websocket) == [3, "r3", {"status": "Accepted"}]
        (available,) = await statuses(websocket, 1)
        assert (available["connectorId"], available["status"]) == (2, "Available")
        assert engine.reservations == ()


@pytest.mark.asyncio
async def test_trigger_status_and_change_availability() -> None:
    async with raw_server() as server, running(client_for(server.url)):
        websocket = await server.accept()
        await boot(websocket)
        await statuses(websocket, 3)
        trigger = {"requestedMessage": "StatusNotification", "connectorId": 2}
        await websocket.send(json.dumps([2, "t1", "TriggerMessage", trigger]))
        assert await receive(websocket) == [3, "t1", {"status": "Accepted"}]
        (status,) = await statuses(websocket, 1)
        assert status["connectorId"] == 2
        await websocket.send(
            json.dumps([2, "a1", "ChangeAvailability", {"connectorId": 0, "type": "Inoperative"}])
        )
        assert await receive(websocket) == [3, "a1", {"status": "Accepted"}]
        found = await statuses(websocket, 3)
        assert {s["status"] for s in found} == {"Unavailable"}


@pytest.mark.asyncio
async def test_call_timeout_then_retry_and_reconnect_after_close() -> None:
    options = ClientOptions(
        call_timeout=0.3, backoff_initial=0.05, backoff_max=0.2, boot_retry_interval=0.1
    )
    async with raw_server() as server, running(client_for(server.url, options=options)) as client:
        websocket = await server.accept()
        first_id, _ = await expect_call(websocket, "BootNotification")  # never answered
        second_id, _ = await expect_call(websocket, "BootNotification")
        assert second_id != first_id
        await websocket.close()
        again = await server.accept()
        await boot(again)
        await statuses(again, 3)
        assert client.connection_count == 2
        assert client.booted


@pytest.mark.asyncio
async def test_retarget_leaves_the_old_url_and_dials_the_new_one_at_once() -> None:
    # A backoff far longer than the test may wait: only retarget() can make it dial now.
    slow = ClientOptions(call_timeout=5.0, backoff_initial=60.0, backoff_max=60.0)
    async with (
        raw_server() as old,
        raw_server() as new,
        running(client_for(old.url, "CP-MOVE", options=slow)) as client,
    ):
        websocket = await old.accept()
        await boot(websocket)
        await statuses(websocket, 3)
        client.retarget(new.url)
        async with asyncio.timeout(WAIT):
            await websocket.wait_closed()  # the old connection is left
        moved = await new.accept()
        assert moved.request is not None
        assert moved.request.path == "/CP-MOVE"
        await boot(moved)
        await statuses(moved, 3)
        assert client.url == new.url
        assert client.booted


@pytest.mark.asyncio
async def test_retarget_wakes_a_station_waiting_out_its_backoff() -> None:
    # The Central System stopped (a restart on another port): the station waits 60 s.
    slow = ClientOptions(call_timeout=5.0, backoff_initial=60.0, backoff_max=60.0)
    async with contextlib.AsyncExitStack() as stack:
        new = await stack.enter_async_context(raw_server())
        old_server = contextlib.AsyncExitStack()
        old = await old_server.enter_async_context(raw_server())
        client = await stack.enter_async_context(
            running(client_for(old.url, "CP-WAIT", options=slow))
        )
        websocket = await old.accept()
        await boot(websocket)
        await old_server.aclose()  # the old port is gone
        client.retarget(new.url)
        moved = await new.accept()
        assert moved.request is not None
        assert moved.request.path == "/CP-WAIT"


@pytest.mark.asyncio
async def test_wss_with_client_certificate(certificates: Path) -> None:
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(certificates / "server.pem", certificates / "server.key")
    server_context.load_verify_locations(certificates / "ca.pem")
    server_context.verify_mode = ssl.CERT_REQUIRED
    context = client_ssl_context(
        certificates / "ca.pem", certificates / "client.pem", certificates / "client.key"
    )
    async with (
        raw_server(server_context) as server,
        running(client_for(server.url, "CP-TLS", password="pw", ssl_context=context)),
    ):
        websocket = await server.accept()
        assert websocket.request is not None
        assert websocket.request.headers["Authorization"].startswith("Basic ")
        await boot(websocket)
        assert len(await statuses(websocket, 3)) == 3


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A throwaway CA, a server certificate for 127.0.0.1 and a client certificate."""
    return make_test_pki(tmp_path_factory.mktemp("pki"))


def test_backoff_doubles_up_to_the_cap() -> None:
    client = client_for(
        "ws://127.0.0.1:1", options=ClientOptions(backoff_initial=1.0, backoff_max=30.0)
    )
    assert [client._backoff(n) for n in range(1, 8)] == [1, 2, 4, 8, 16, 30, 30]


@pytest.mark.asyncio
async def test_offline_station_keeps_state_and_refuses_cards_politely() -> None:
    engine = ReservationEngine(2)
    async with raw_server() as server, running(client_for(server.url, engine=engine)) as client:
        websocket = await server.accept()
        await boot(websocket)
        await statuses(websocket, 3)
        await client.go_offline()
        assert not client.connected
        outcome = await client.present_id_tag("CARD", 1)
        assert not outcome.started
        assert "not connected" in outcome.reason
        client.fault(2)  # while offline: reported after the next boot
        await client.go_online()
        again = await server.accept()
        await boot(again)
        found = await statuses(again, 3)
        assert (found[2]["connectorId"], found[2]["status"]) == (2, "Faulted")
