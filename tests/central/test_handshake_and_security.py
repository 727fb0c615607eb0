"""Who may connect: subprotocol, station id, HTTP Basic, unknown stations, TLS, limits."""

from __future__ import annotations

import asyncio
import base64
import logging
import ssl
from pathlib import Path

import pytest
import websockets
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus
from websockets.typing import Subprotocol

from console.central.config import CentralSystemConfig
from console.central.handshake import (
    HandshakeRefusal,
    check_credentials,
    check_handshake,
    station_id_from_path,
)
from console.central.model import TraceDirection
from console.central.security import (
    build_server_ssl_context,
    hash_authorization_key,
    parse_basic_authorization,
    verify_authorization_key,
)
from console.central.server import CentralSystem
from tests.central.conftest import StartCentral
from tests.central.fakes import MemoryStore
from tests.central.ocpp_station import connected_station, wait_until
from tests.pki import make_test_pki

PASSWORD = "0123456789abcdef-secret"


def _basic(user: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


# --- pure checks ----------------------------------------------------------------------------


def test_hash_and_verify_authorization_keys() -> None:
    for method in ("scrypt", "pbkdf2"):
        hashed = hash_authorization_key(PASSWORD, method=method)
        assert PASSWORD not in hashed
        assert verify_authorization_key(PASSWORD, hashed)
        assert not verify_authorization_key(PASSWORD + "x", hashed)
    assert hash_authorization_key("k") != hash_authorization_key("k")  # salted
    assert not verify_authorization_key("k", "scrypt$broken")
    assert not verify_authorization_key("k", "md5$abc$def")


def test_parse_basic_authorization() -> None:
    credentials = parse_basic_authorization(_basic("CP-1", "pa:ss")["Authorization"])
    assert credentials is not None
    assert (credentials.user, credentials.password) == ("CP-1", "pa:ss")
    assert "pa:ss" not in repr(credentials)
    assert parse_basic_authorization(None) is None
    assert parse_basic_authorization("Bearer abc") is None
    assert parse_basic_authorization("Basic !!!") is None
    assert parse_basic_authorization("Basic " + base64.b64encode(b"nocolon").decode()) is None


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/CP-1", "CP-1"),
        ("/ocpp/site/CP%20two?x=1", "CP two"),
        ("/", None),
        ("/ocpp/", None),
        ("/%FF", None),
        ("/a%2Fb", None),
        ("/%0A", None),
        ("/" + "x" * 49, None),
    ],
)
def test_station_id_from_path(path: str, expected: str | None) -> None:
    result = station_id_from_path(path)
    if expected is None:
        assert isinstance(result, HandshakeRefusal)
        assert result.status == 400
    else:
        assert result == expected


def test_check_handshake_and_credentials() -> None:
    config = CentralSystemConfig(
        security_profile=1,
        accept_unknown_stations=False,
        authorization_keys={"CP-1": hash_authorization_key(PASSWORD, method="pbkdf2")},
    )
    assert check_handshake(config, "/CP-1") == "CP-1"
    unknown = check_handshake(config, "/CP-9")
    assert isinstance(unknown, HandshakeRefusal)
    assert unknown.status == 403
    assert check_credentials(config, "CP-1", _basic("CP-1", PASSWORD)["Authorization"]) is None
    wrong_user = check_credentials(config, "CP-1", _basic("CP-2", PASSWORD)["Authorization"])
    assert wrong_user is not None
    assert wrong_user.status == 401


def test_ssl_context_needs_files() -> None:
    assert build_server_ssl_context(1, None, None, None) is None
    with pytest.raises(ValueError, match="certificate"):
        build_server_ssl_context(2, None, None, None)


# --- over real sockets ----------------------------------------------------------------------


async def _refused(url: str, **kwargs: object) -> InvalidStatus:
    with pytest.raises(InvalidStatus) as caught:
        async with websockets.connect(url, open_timeout=5, **kwargs):  # type: ignore[arg-type]
            pass
    return caught.value


def _refusals(central: CentralSystem) -> list[str]:
    return [
        e.text
        for e in central.recent_trace()
        if e.direction is TraceDirection.EVENT and "refused" in e.text
    ]


@pytest.mark.asyncio
async def test_a_url_without_a_station_id_is_refused(central: CentralSystem) -> None:
    bad_id = await _refused(f"ws://127.0.0.1:{central.port}/", subprotocols=["ocpp1.6"])
    assert bad_id.response.status_code == 400
    lines = _refusals(central)
    assert len(lines) == 1
    assert "station id" in lines[0]


@pytest.mark.asyncio
async def test_profile_1_basic_auth(
    start_central: StartCentral, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    central = await start_central(
        store=MemoryStore(),
        security_profile=1,
        accept_unknown_stations=False,
        authorization_keys={"CP-1": hash_authorization_key(PASSWORD)},
    )
    url = f"ws://127.0.0.1:{central.port}/CP-1"
    wrong = await _refused(
        url, subprotocols=["ocpp1.6"], additional_headers=_basic("CP-1", "not-it")
    )
    assert wrong.response.status_code == 401
    assert wrong.response.headers["WWW-Authenticate"].startswith("Basic")
    missing = await _refused(url, subprotocols=["ocpp1.6"])
    assert missing.response.status_code == 401
    unknown = await _refused(
        f"ws://127.0.0.1:{central.port}/CP-9",
        subprotocols=["ocpp1.6"],
        additional_headers=_basic("CP-9", PASSWORD),
    )
    assert unknown.response.status_code == 403
    traced = "\n".join(_refusals(central))
    assert "wrong AuthorizationKey" in traced
    assert "no HTTP Basic credentials" in traced
    assert "unknown station CP-9" in traced
    assert PASSWORD not in traced
    assert "not-it" not in traced

    async with connected_station(
        central, "CP-1", additional_headers=_basic("CP-1", PASSWORD)
    ) as station:
        assert station.configuration_asked.is_set()
        snapshot = central.station("CP-1")
        assert snapshot is not None
        assert snapshot.connected
        assert snapshot.security_profile == 1
        assert not snapshot.is_new
    # The console's own lines (the test's client logs its headers itself).
    ours = "\n".join(
        record.getMessage() for record in caplog.records if record.name.startswith("console")
    )
    secret = base64.b64encode(f"CP-1:{PASSWORD}".encode()).decode()
    assert "station CP-1: connected" in ours
    assert PASSWORD not in ours
    assert secret not in ours
    assert "not-it" not in ours


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A throwaway CA, a server certificate for 127.0.0.1 and a client certificate."""
    return make_test_pki(tmp_path_factory.mktemp("pki"))


async def _heartbeat(url: str, context: ssl.SSLContext, subprotocol: Subprotocol) -> str:
    async with websockets.connect(
        url, subprotocols=[subprotocol], ssl=context, open_timeout=5
    ) as websocket:
        await websocket.send('[2,"1","Heartbeat",{}]')
        return str(await asyncio.wait_for(websocket.recv(), 5))


def _client_context(pki: Path, *, with_certificate: bool) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(pki / "ca.pem"))
    if with_certificate:
        context.load_cert_chain(pki / "client.pem", pki / "client.key")
    return context


@pytest.mark.asyncio
@pytest.mark.parametrize("subprotocol", ["ocpp1.6", "ocpp2.0.1"])
async def test_profile_2_tls_with_basic_auth(
    start_central: StartCentral, certificates: Path, subprotocol: Subprotocol
) -> None:
    central = await start_central(
        store=MemoryStore(),
        security_profile=2,
        certfile=certificates / "server.pem",
        keyfile=certificates / "server.key",
        authorization_keys={"CP-TLS": hash_authorization_key(PASSWORD, method="pbkdf2")},
    )
    assert all(url.startswith("wss://") for url in central.urls())
    url = f"wss://127.0.0.1:{central.port}/CP-TLS"
    context = _client_context(certificates, with_certificate=False)
    refused = await _refused(url, subprotocols=[subprotocol], ssl=context)
    assert refused.response.status_code == 401
    async with websockets.connect(
        url,
        subprotocols=[subprotocol],
        ssl=context,
        additional_headers=_basic("CP-TLS", PASSWORD),
        open_timeout=5,
    ) as websocket:
        await websocket.send('[2,"1","Heartbeat",{}]')
        answer = await asyncio.wait_for(websocket.recv(), 5)
        assert '"currentTime"' in str(answer)
    snapshot = central.station("CP-TLS")
    assert snapshot is not None
    assert snapshot.security_profile == 2
    assert snapshot.ocpp_version.subprotocol == subprotocol


@pytest.mark.asyncio
@pytest.mark.parametrize("subprotocol", ["ocpp1.6", "ocpp2.0.1"])
async def test_profile_3_mutual_tls(
    start_central: StartCentral, certificates: Path, subprotocol: Subprotocol
) -> None:
    central = await start_central(
        store=MemoryStore(),
        security_profile=3,
        certfile=certificates / "server.pem",
        keyfile=certificates / "server.key",
        cafile=certificates / "ca.pem",
    )
    url = f"wss://127.0.0.1:{central.port}/CP-TLS"
    # Without a client certificate the TLS handshake fails (TLS 1.3 may only tell on read).
    with pytest.raises((ssl.SSLError, OSError, ConnectionClosed, InvalidHandshake, EOFError)):
        await _heartbeat(url, _client_context(certificates, with_certificate=False), subprotocol)
    async with websockets.connect(
        url,
        subprotocols=[subprotocol],
        ssl=_client_context(certificates, with_certificate=True),
        open_timeout=5,
    ) as websocket:
        await websocket.send('[2,"1","Heartbeat",{}]')
        answer = await asyncio.wait_for(websocket.recv(), 5)
        assert '"currentTime"' in str(answer)
    snapshot = central.station("CP-TLS")
    assert snapshot is not None
    assert snapshot.security_profile == 3
    assert snapshot.ocpp_version.subprotocol == subprotocol


@pytest.mark.asyncio
async def test_oversized_frame_closes_with_1009(start_central: StartCentral) -> None:
    central = await start_central(store=MemoryStore(), max_frame_size=2048)
    url = f"ws://127.0.0.1:{central.port}/CP-BIG"
    async with websockets.connect(url, subprotocols=["ocpp1.6"], max_size=None) as websocket:
        payload = "x" * 4096
        await websocket.send(f'[2,"1","DataTransfer",{{"vendorId":"v","data":"{payload}"}}]')
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(websocket.recv(), 5)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 1009
    line = await wait_until(
        central,
        lambda: next((e for e in central.recent_trace() if "1009" in e.text), None),
    )
    assert line.station_id == "CP-BIG"
    assert "2048" in line.text


@pytest.mark.asyncio
async def test_second_connection_replaces_the_first(central: CentralSystem) -> None:
    url = f"ws://127.0.0.1:{central.port}/CP-TWICE"
    async with (
        websockets.connect(url, subprotocols=["ocpp1.6"]) as first,
        websockets.connect(url, subprotocols=["ocpp1.6"]) as second,
    ):
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(first.recv(), 5)
        assert closed.value.rcvd is not None
        assert "replaced" in closed.value.rcvd.reason
        await second.send('[2,"1","Heartbeat",{}]')
        assert "currentTime" in str(await asyncio.wait_for(second.recv(), 5))
        snapshot = central.station("CP-TWICE")
        assert snapshot is not None
        assert snapshot.connected
        assert snapshot.note is not None
        assert "replaced" in snapshot.note


def test_profile_1_lets_in_a_station_without_a_key_when_unknown_stations_are_accepted() -> None:
    # The settings' label: "Accept stations that are not in the key list".
    config = CentralSystemConfig(
        security_profile=1,
        accept_unknown_stations=True,
        authorization_keys={"CP-1": hash_authorization_key(PASSWORD, method="pbkdf2")},
    )
    assert check_credentials(config, "CP-2", None) is None
    assert check_credentials(config, "CP-2", _basic("CP-2", "anything")["Authorization"]) is None
    # A station that has a key must still prove it.
    refused = check_credentials(config, "CP-1", None)
    assert refused is not None
    assert refused.status == 401
    wrong = check_credentials(config, "CP-1", _basic("CP-1", "not-it")["Authorization"])
    assert wrong is not None
    assert wrong.reason == "wrong AuthorizationKey"
    strict = config.model_copy(update={"accept_unknown_stations": False})
    assert check_handshake(strict, "/CP-2") != "CP-2"


@pytest.mark.asyncio
async def test_profile_1_with_one_key_lets_the_other_stations_in(
    start_central: StartCentral,
) -> None:
    central = await start_central(
        store=MemoryStore(),
        security_profile=1,
        accept_unknown_stations=True,
        authorization_keys={"CP-1": hash_authorization_key(PASSWORD, method="pbkdf2")},
    )
    async with connected_station(central, "CP-2") as station:
        assert station.configuration_asked.is_set()
        snapshot = central.station("CP-2")
        assert snapshot is not None
        assert snapshot.connected
    wrong = await _refused(
        f"ws://127.0.0.1:{central.port}/CP-1",
        subprotocols=["ocpp1.6"],
        additional_headers=_basic("CP-1", "not-it"),
    )
    assert wrong.response.status_code == 401
