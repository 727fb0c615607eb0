"""Attacks on the Central System: passwords, TLS, station ids, resource limits, secrets.

Each refused attempt must get a clear HTTP answer (or a failed TLS handshake), a trace line,
and leave the stations already connected alone.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import ssl
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import websockets
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

from console.central.export import write_reservations_csv, write_trace_jsonl
from console.central.handshake import LoginThrottle
from console.central.model import (
    ReservationState,
    TraceAppended,
    TraceDirection,
    TraceEntry,
)
from console.central.security import hash_authorization_key
from console.central.server import CentralSystem
from tests.central.conftest import StartCentral
from tests.central.fakes import MemoryStore
from tests.central.ocpp_station import connected_station, wait_until
from tests.pki import make_ca, make_cert

KEY_A = "station-A-key-0123456789"
KEY_B = "station-B-key-9876543210"
WAIT = 10.0


def _basic(user: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


async def _refused(url: str, **kwargs: object) -> InvalidStatus:
    with pytest.raises(InvalidStatus) as caught:
        async with websockets.connect(url, open_timeout=5, **kwargs):  # type: ignore[arg-type]
            pass
    return caught.value


def _names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


_DATABASE_FILES = {"central.sqlite3", "central.sqlite3-wal", "central.sqlite3-shm"}


def _names_besides_the_database(folder: Path) -> list[str]:
    """What is in the data folder besides the console's own database files."""
    return [name for name in _names(folder) if name not in _DATABASE_FILES]


def _contents(folder: Path, *names: str) -> bytes:
    """The bytes of the named files (default: every file) of a folder."""
    return b"".join((folder / name).read_bytes() for name in names or _names(folder))


def _expiry() -> datetime:
    return datetime.now(UTC) + timedelta(minutes=10)


def _refusal_lines(central: CentralSystem) -> list[str]:
    return [
        e.text
        for e in central.recent_trace()
        if e.direction is TraceDirection.EVENT and "refused" in e.text
    ]


async def _profile_1(start_central: StartCentral, **overrides: object) -> CentralSystem:
    settings: dict[str, object] = {
        "store": MemoryStore(),
        "security_profile": 1,
        "accept_unknown_stations": False,
        "authorization_keys": {
            "CP-A": hash_authorization_key(KEY_A, method="pbkdf2"),
            "CP-B": hash_authorization_key(KEY_B, method="pbkdf2"),
        },
        "login_failures_allowed": 100,
    }
    settings.update(overrides)
    return await start_central(**settings)


# --- passwords ------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_profile_1_wrong_missing_and_borrowed_passwords(
    start_central: StartCentral,
) -> None:
    central = await _profile_1(start_central)
    url = f"ws://127.0.0.1:{central.port}/CP-A"
    ocpp = {"subprotocols": ["ocpp1.6"]}
    async with connected_station(central, "CP-A", additional_headers=_basic("CP-A", KEY_A)):
        attempts = {
            "wrong password": _basic("CP-A", "guess"),
            "no password": {},
            "B's valid key as A": _basic("CP-A", KEY_B),
            "B's credentials on A's URL": _basic("CP-B", KEY_B),
            "not Basic": {"Authorization": "Bearer abc"},
            "broken base64": {"Authorization": "Basic %%%"},
        }
        for what, headers in attempts.items():
            refused = await _refused(url, additional_headers=headers, **ocpp)
            assert refused.response.status_code == 401, what
        # None of them replaced (or even disturbed) the station that holds the id.
        assert central.is_connected("CP-A")
        record = await central.reserve_now("CP-A", 1, "TAG", _expiry())
        assert record.state is ReservationState.ACCEPTED
        snapshot = central.station("CP-A")
        assert snapshot is not None
        assert snapshot.note is None or "replaced" not in snapshot.note
    lines = _refusal_lines(central)
    assert len(lines) == len(attempts)
    assert sum("wrong AuthorizationKey" in line for line in lines) == 2
    assert any("not the station id" in line for line in lines)
    assert all(KEY_A not in line and KEY_B not in line for line in lines)


@pytest.mark.asyncio
async def test_brute_force_from_one_address_is_made_to_wait(start_central: StartCentral) -> None:
    central = await _profile_1(start_central, login_failures_allowed=3, login_backoff=30.0)
    url = f"ws://127.0.0.1:{central.port}/CP-A"
    ocpp = {"subprotocols": ["ocpp1.6"]}
    answers = [
        await _refused(url, additional_headers=_basic("CP-A", f"guess-{n}"), **ocpp)
        for n in range(3)
    ]
    assert [a.response.status_code for a in answers] == [401, 401, 401]
    assert "Retry-After" not in answers[0].response.headers
    assert answers[2].response.headers["Retry-After"] == "30"
    # Now even the right key waits: the password is not looked at (nor scrypt run).
    locked = await _refused(url, additional_headers=_basic("CP-A", KEY_A), **ocpp)
    assert locked.response.status_code == 429
    assert int(locked.response.headers["Retry-After"]) <= 30
    # Another station behind the same address (one NAT address for a whole site) is not
    # slowed down by CP-A's failures: the wait is per address and station id.
    async with websockets.connect(
        f"ws://127.0.0.1:{central.port}/CP-B",
        additional_headers=_basic("CP-B", KEY_B),
        open_timeout=5,
        **ocpp,
    ) as other:
        await other.send('[2,"1","Heartbeat",{}]')
        assert '"currentTime"' in str(await asyncio.wait_for(other.recv(), 5))
    lines = _refusal_lines(central)
    assert "127.0.0.1 must wait 30 s" in lines[2]
    assert "too many failed logins of CP-A from 127.0.0.1" in lines[3]
    assert len(lines) == 4
    assert not central.is_connected("CP-A")


def test_login_throttle_backs_off_doubles_caps_and_forgets() -> None:
    throttle = LoginThrottle(
        allowed=2, backoff=1.0, backoff_max=5.0, forget_after=100.0, max_addresses=3
    )
    assert throttle.failed("a", "CP", 0.0) == 0.0
    assert throttle.wait_left("a", "CP", 0.0) == 0.0
    assert throttle.failed("a", "CP", 0.0) == 1.0
    assert throttle.wait_left("a", "CP", 0.5) == 0.5
    assert throttle.wait_left("a", "CP", 1.0) == 0.0
    assert throttle.failed("a", "CP", 1.0) == 2.0
    assert throttle.failed("a", "CP", 3.0) == 4.0
    assert throttle.failed("a", "CP", 7.0) == 5.0  # capped
    throttle.succeeded("a", "CP")
    assert throttle.wait_left("a", "CP", 7.0) == 0.0
    throttle.failed("b", "CP", 0.0)
    throttle.failed("b", "CP", 0.0)
    assert throttle.wait_left("b", "CP", 200.0) == 0.0  # quiet long enough: forgotten
    for address in ("c", "d", "e", "f"):
        throttle.failed(address, "CP", 300.0)
    assert len(throttle) == 3  # bounded memory, the oldest go first


def test_login_throttle_counts_each_station_id_apart() -> None:
    throttle = LoginThrottle(allowed=2, backoff=10.0)
    assert throttle.failed("10.0.0.1", "CP-A", 0.0) == 0.0
    assert throttle.failed("10.0.0.1", "CP-A", 0.0) == 10.0
    assert throttle.wait_left("10.0.0.1", "CP-A", 1.0) == 9.0
    # Same address, other stations: not slowed down.
    assert throttle.wait_left("10.0.0.1", "CP-B", 1.0) == 0.0
    assert throttle.failed("10.0.0.1", "CP-B", 1.0) == 0.0
    # Same station id from another address: its own count too.
    assert throttle.wait_left("10.0.0.2", "CP-A", 1.0) == 0.0


# --- TLS ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The site's CA (server and a station certificate) and a rogue CA (its own pair)."""
    folder = tmp_path_factory.mktemp("attack-pki")
    for ca in ("site-ca", "rogue-ca"):
        make_ca(folder, ca)
    make_cert(folder, "server", "site-ca", "/CN=localhost", server=True)
    make_cert(folder, "station", "site-ca", "/CN=CP-TLS", server=False)
    make_cert(folder, "rogue-server", "rogue-ca", "/CN=localhost", server=True)
    make_cert(folder, "rogue-station", "rogue-ca", "/CN=CP-TLS", server=False)
    return folder


def _client_context(pki: Path, trust: str, certificate: str | None = None) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(pki / f"{trust}.pem"))
    if certificate is not None:
        context.load_cert_chain(pki / f"{certificate}.pem", pki / f"{certificate}.key")
    return context


_TLS_FAILURES = (ssl.SSLError, OSError, ConnectionClosed, InvalidHandshake, EOFError)


async def _heartbeat(url: str, **kwargs: object) -> str:
    async with websockets.connect(
        url,
        subprotocols=["ocpp1.6"],
        open_timeout=5,
        **kwargs,  # type: ignore[arg-type]
    ) as websocket:
        await websocket.send('[2,"1","Heartbeat",{}]')
        return str(await asyncio.wait_for(websocket.recv(), 5))


@pytest.mark.asyncio
async def test_profile_2_wrong_ca_and_plain_ws_are_refused(
    start_central: StartCentral, pki: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    central = await start_central(
        store=MemoryStore(),
        security_profile=2,
        certfile=pki / "server.pem",
        keyfile=pki / "server.key",
        authorization_keys={"CP-TLS": hash_authorization_key(KEY_A, method="pbkdf2")},
    )
    wss = f"wss://127.0.0.1:{central.port}/CP-TLS"
    # A station that trusts another CA will not talk to this server (it may be an impostor).
    with pytest.raises(ssl.SSLCertVerificationError):
        await _heartbeat(
            wss,
            ssl=_client_context(pki, "rogue-ca"),
            additional_headers=_basic("CP-TLS", KEY_A),
        )
    # Plain ws:// on the TLS port: no TLS handshake, no WebSocket, nothing leaks.
    with pytest.raises(_TLS_FAILURES):
        await _heartbeat(
            f"ws://127.0.0.1:{central.port}/CP-TLS", additional_headers=_basic("CP-TLS", KEY_A)
        )
    assert not central.is_connected("CP-TLS")
    answer = await _heartbeat(
        wss, ssl=_client_context(pki, "site-ca"), additional_headers=_basic("CP-TLS", KEY_A)
    )
    assert "currentTime" in answer
    console_errors = [
        r for r in caplog.records if r.name.startswith("console") and r.levelno >= logging.ERROR
    ]
    assert console_errors == []


@pytest.mark.asyncio
async def test_profile_3_needs_a_certificate_from_the_site_ca(
    start_central: StartCentral, pki: Path
) -> None:
    central = await start_central(
        store=MemoryStore(),
        security_profile=3,
        certfile=pki / "server.pem",
        keyfile=pki / "server.key",
        cafile=pki / "site-ca.pem",
    )
    url = f"wss://127.0.0.1:{central.port}/CP-TLS"
    with pytest.raises(_TLS_FAILURES):  # no client certificate
        await _heartbeat(url, ssl=_client_context(pki, "site-ca"))
    with pytest.raises(_TLS_FAILURES):  # a certificate from the rogue CA
        await _heartbeat(url, ssl=_client_context(pki, "site-ca", "rogue-station"))
    with pytest.raises(_TLS_FAILURES):  # plain ws://
        await _heartbeat(f"ws://127.0.0.1:{central.port}/CP-TLS")
    assert central.station("CP-TLS") is None
    answer = await _heartbeat(url, ssl=_client_context(pki, "site-ca", "station"))
    assert "currentTime" in answer
    snapshot = central.station("CP-TLS")
    assert snapshot is not None
    assert snapshot.security_profile == 3


@pytest.mark.asyncio
async def test_profile_3_certificate_of_one_station_cannot_impersonate_another(
    start_central: StartCentral, pki: Path
) -> None:
    central = await start_central(
        store=MemoryStore(),
        security_profile=3,
        certfile=pki / "server.pem",
        keyfile=pki / "server.key",
        cafile=pki / "site-ca.pem",
    )
    events: list[TraceEntry] = []
    central.subscribe(lambda e: events.append(e.entry) if isinstance(e, TraceAppended) else None)
    # A genuine site certificate, but issued to CP-TLS: it must not open CP-OTHER.
    with pytest.raises(InvalidStatus) as refused:
        await _heartbeat(
            f"wss://127.0.0.1:{central.port}/CP-OTHER",
            ssl=_client_context(pki, "site-ca", "station"),
        )
    assert refused.value.response.status_code == 403
    assert central.station("CP-OTHER") is None
    assert any(
        "client certificate is for commonName 'CP-TLS', not for station CP-OTHER" in e.text
        for e in events
    )


# --- station ids ------------------------------------------------------------------------------


async def _raw_handshake(port: int, path: bytes, extra: bytes = b"") -> tuple[int, bytes]:
    """A WebSocket handshake written by hand (so the path is sent exactly as given)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(
            b"GET " + path + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
            b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            b"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: ocpp1.6\r\n" + extra + b"\r\n"
        )
        await writer.drain()
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), WAIT)
        status = int(head.split(b" ", 2)[1])
        body = b""
        if status != 101:
            body = await asyncio.wait_for(reader.read(4096), WAIT)
        return status, body
    finally:
        writer.close()


@pytest.mark.parametrize(
    "path",
    [
        b"/../",
        b"/..%2F..%2Fetc%2Fpasswd",
        b"/%2F",
        b"/CP%2F1",
        b"/%00",
        b"/CP%001",
        b"/%20%20%20",
        b"/" + b"A" * 49,
        b"/%FF%FE",
        b"/",
        b"/CP%0A1",
    ],
)
@pytest.mark.asyncio
async def test_path_tricks_in_the_station_id_are_refused(
    central: CentralSystem, data_dir: Path, path: bytes
) -> None:
    status, body = await _raw_handshake(central.port, path)
    assert status == 400
    assert b"station id" in body
    assert central.stations() == []
    assert _names_besides_the_database(data_dir) == []  # nothing written from an id


@pytest.mark.parametrize(
    ("path", "station_id"),
    [
        (b"/%C3%A9t%C3%A9-1", "\u00e9t\u00e9-1"),
        (b"/%E5%85%85%E7%94%B5%E6%A1%A9", "\u5145\u7535\u6869"),
        (b"/..", ".."),
        (b"/ocpp/CP-9", "CP-9"),
        (b"/" + b"B" * 48, "B" * 48),
    ],
)
@pytest.mark.asyncio
async def test_odd_but_harmless_ids_are_plain_text(
    central: CentralSystem, data_dir: Path, path: bytes, station_id: str
) -> None:
    status, _ = await _raw_handshake(central.port, path)
    assert status == 101
    snapshot = await wait_until(central, lambda: central.station(station_id))
    assert snapshot.station_id == station_id
    assert _names_besides_the_database(data_dir) == []  # an id never becomes a file


@pytest.mark.asyncio
async def test_raw_non_ascii_bytes_in_the_request_line_are_refused(central: CentralSystem) -> None:
    # HTTP allows only ASCII there: websockets' parser drops the connection without an answer.
    with pytest.raises(asyncio.IncompleteReadError):
        await _raw_handshake(central.port, "/\u5145\u7535".encode())
    assert central.stations() == []
    async with connected_station(central, "CP-AFTER"):
        assert central.is_connected("CP-AFTER")


# --- resource limits --------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_an_oversized_frame_closes_only_its_connection(
    start_central: StartCentral,
) -> None:
    central = await start_central(store=MemoryStore(), max_frame_size=4096)
    async with connected_station(central, "CP-OK"):
        url = f"ws://127.0.0.1:{central.port}/CP-HUGE"
        async with websockets.connect(url, subprotocols=["ocpp1.6"], max_size=None) as huge:
            await huge.send('[2,"1","DataTransfer",{"vendorId":"v","data":"' + "x" * 2**20 + '"}]')
            with pytest.raises(ConnectionClosed) as closed:
                await asyncio.wait_for(huge.recv(), WAIT)
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 1009
        record = await central.reserve_now("CP-OK", 1, "TAG", _expiry())
        assert record.state is ReservationState.ACCEPTED


@pytest.mark.asyncio
async def test_connections_per_address_are_capped(start_central: StartCentral) -> None:
    central = await start_central(store=MemoryStore(), max_connections_per_address=3)
    base = f"ws://127.0.0.1:{central.port}"
    ocpp = {"subprotocols": ["ocpp1.6"]}
    first = await websockets.connect(f"{base}/CP-1", **ocpp)  # type: ignore[arg-type]
    others = [await websockets.connect(f"{base}/CP-{n}", **ocpp) for n in (2, 3)]  # type: ignore[arg-type]
    try:
        refused = await _refused(f"{base}/CP-4", **ocpp)
        assert refused.response.status_code == 429
        assert b"limit per address" in refused.response.body
        await first.close()
        await wait_until(central, lambda: not central.is_connected("CP-1"))
        async with websockets.connect(f"{base}/CP-5", **ocpp) as fifth:  # type: ignore[arg-type]
            await fifth.send('[2,"1","Heartbeat",{}]')
            assert "currentTime" in str(await asyncio.wait_for(fifth.recv(), WAIT))
    finally:
        for websocket in others:
            await websocket.close()
    assert any("limit per address" in line for line in _refusal_lines(central))


@pytest.mark.asyncio
async def test_slowloris_handshakes_are_closed_and_others_still_connect(
    start_central: StartCentral,
) -> None:
    central = await start_central(store=MemoryStore(), handshake_timeout=0.5)
    slow = []
    for n in range(20):
        reader, writer = await asyncio.open_connection("127.0.0.1", central.port)
        # Half a request, and then nothing: the server must not wait for the rest forever.
        writer.write(f"GET /CP-SLOW-{n} HTTP/1.1\r\nHost: 127.0.0.1\r\n".encode())
        await writer.drain()
        slow.append((reader, writer))
    async with connected_station(central, "CP-FAST"):
        record = await central.reserve_now("CP-FAST", 1, "TAG", _expiry())
        assert record.state is ReservationState.ACCEPTED
    for reader, writer in slow:
        rest = await asyncio.wait_for(reader.read(), WAIT)  # EOF: the server hung up
        assert b"101" not in rest
        writer.close()
    assert all(s.station_id == "CP-FAST" for s in central.stations())


@pytest.mark.asyncio
async def test_a_flood_of_calls_leaves_others_served_and_is_all_answered(
    start_central: StartCentral,
) -> None:
    central = await start_central(store=MemoryStore())
    url = f"ws://127.0.0.1:{central.port}/CP-FLOOD"
    flood = 20_000
    async with (
        connected_station(central, "CP-CALM"),
        websockets.connect(url, subprotocols=["ocpp1.6"], max_queue=1) as flooder,
    ):

        async def send_all() -> None:
            for n in range(flood):
                await flooder.send(f'[2,"f{n}","Heartbeat",{{}}]')

        sending = asyncio.create_task(send_all())
        records = [await central.reserve_now("CP-CALM", 1, "TAG", _expiry()) for _ in range(5)]
        assert all(r.state is ReservationState.ACCEPTED for r in records)
        answered = 0
        while answered < flood:
            await asyncio.wait_for(flooder.recv(), WAIT)
            answered += 1
        await sending
    assert answered == flood  # every call answered, none dropped or crashed
    assert len(central.recent_trace()) <= 10_000  # the trace in memory stays bounded


# --- secrets ------------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_no_secret_in_logs_trace_database_or_exports(
    start_central: StartCentral,
    data_dir: Path,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    secret = "Very-Secret-AuthKey-42"
    wrong = "Wrong-Guess-AuthKey-43"
    central = await start_central(
        security_profile=1,
        authorization_keys={"CP-S": hash_authorization_key(secret)},
        login_failures_allowed=100,
    )  # the real SQLite store in data_dir
    url = f"ws://127.0.0.1:{central.port}/CP-S"
    await _refused(url, subprotocols=["ocpp1.6"], additional_headers=_basic("CP-S", wrong))
    async with connected_station(central, "CP-S", additional_headers=_basic("CP-S", secret)):
        record = await central.reserve_now("CP-S", 1, "TAG", _expiry())
        assert record.state is ReservationState.ACCEPTED
    stored = await central.stored_trace()
    assert any("refused" in e.text for e in stored)
    write_trace_jsonl(tmp_path / "trace.jsonl", stored)
    write_reservations_csv(tmp_path / "reservations.csv", central.reservations())
    recent = "\n".join(f"{e.text} {e.note}" for e in central.recent_trace())
    await central.stop()
    # The test's own websockets client logs the headers it sends: those lines are not ours.
    logs = "\n".join(
        record.getMessage()
        for record in caplog.records
        if not record.name.startswith("websockets.client")
    )
    files = _contents(data_dir)
    exports = _contents(tmp_path, "trace.jsonl", "reservations.csv").decode()
    assert "CP-S" in logs
    assert b"CP-S" in files
    assert "CP-S" in exports
    for password in (secret, wrong):
        header = base64.b64encode(f"CP-S:{password}".encode()).decode()
        for found_in, text in (("logs", logs), ("trace", recent), ("exports", exports)):
            assert password not in text, found_in
            assert header not in text, found_in
        assert password.encode() not in files
        assert header.encode() not in files
    assert b"Basic " not in files
