"""Which WebSocket handshakes the Central System takes, and the HTTP answer to the others.

Kept free of I/O: the server hands in what the request said, this decides.
"""

from __future__ import annotations

import enum
import http
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final
from urllib.parse import unquote

from console.central.config import CentralSystemConfig
from console.central.security import parse_basic_authorization, verify_authorization_key
from console.ocpp.versions import OcppVersion

__all__ = [
    "MAX_STATION_ID_LENGTH",
    "OCPP_SUBPROTOCOL",
    "SUPPORTED_VERSIONS",
    "HandshakeRefusal",
    "KeyRule",
    "LoginThrottle",
    "check_credentials",
    "check_handshake",
    "choose_version",
    "key_rule",
    "no_key_reason",
    "no_version_reason",
    "offered_subprotocols",
    "station_id_from_path",
]

OCPP_SUBPROTOCOL = OcppVersion.V16.subprotocol
"""The 1.6 subprotocol (kept for callers that name it; see :data:`SUPPORTED_VERSIONS`)."""
SUPPORTED_VERSIONS: Final = (OcppVersion.V201, OcppVersion.V16)
"""The versions the Central System speaks on its one port."""
MAX_STATION_ID_LENGTH = 48


@dataclass(frozen=True, slots=True)
class HandshakeRefusal:
    """Why a handshake is refused, and with which HTTP status."""

    status: http.HTTPStatus
    reason: str
    station_id: str | None = None
    ask_for_credentials: bool = False
    retry_after: int | None = None
    """Seconds the client should wait before trying again (sent as Retry-After)."""


def station_id_from_path(path: str) -> str | HandshakeRefusal:
    """The station id: the last segment of the URL path, percent-decoded."""
    segment = path.split("?", 1)[0].split("#", 1)[0].rsplit("/", 1)[-1]
    if not segment:
        return HandshakeRefusal(
            http.HTTPStatus.BAD_REQUEST,
            "no station id in the URL path (expected ws://HOST:PORT/<station id>)",
        )
    try:
        station_id = unquote(segment, errors="strict")
    except UnicodeDecodeError:
        return HandshakeRefusal(
            http.HTTPStatus.BAD_REQUEST, "the station id in the URL is not valid UTF-8"
        )
    if not station_id.strip():
        return HandshakeRefusal(http.HTTPStatus.BAD_REQUEST, "the station id in the URL is blank")
    if not station_id.isprintable() or "/" in station_id:
        return HandshakeRefusal(
            http.HTTPStatus.BAD_REQUEST,
            f"the station id {station_id!r} contains characters a station id may not have",
        )
    if len(station_id) > MAX_STATION_ID_LENGTH:
        return HandshakeRefusal(
            http.HTTPStatus.BAD_REQUEST,
            f"the station id is longer than {MAX_STATION_ID_LENGTH} characters",
        )
    return station_id


def offered_subprotocols(header_values: Iterable[str]) -> list[str]:
    return [p.strip() for value in header_values for p in value.split(",") if p.strip()]


def choose_version(offered: Iterable[str]) -> OcppVersion | None:
    """The first version the station offers that the console speaks: the station lists
    its subprotocols in its order of preference. None: it offers none of them (the
    handshake then completes without a subprotocol and the connection is closed at once,
    as OCPP-J 2.0.1 part 4 says)."""
    for name in offered:
        version = OcppVersion.from_subprotocol(name)
        if version in SUPPORTED_VERSIONS:
            return version
    return None


def no_version_reason(offered: Sequence[str]) -> str:
    """Why a station that offered no version the console speaks is closed."""
    shown = ", ".join(offered) if offered else "none"
    speaks = ", ".join(v.subprotocol for v in SUPPORTED_VERSIONS)
    return (
        f"no OCPP version in common: the station offered {shown} "
        f"(Sec-WebSocket-Protocol); the console speaks {speaks}"
    )


def check_handshake(config: CentralSystemConfig, path: str) -> str | HandshakeRefusal:
    """Everything but the password and the version: the station id (returned) or why it
    is refused. (A station offering no version the console speaks is not refused here: see
    :func:`choose_version`.)"""
    station_id = station_id_from_path(path)
    if isinstance(station_id, HandshakeRefusal):
        return station_id
    if not config.accept_unknown_stations and not config.is_known_station(station_id):
        return HandshakeRefusal(
            http.HTTPStatus.FORBIDDEN,
            f"unknown station {station_id} (unknown stations are not accepted)",
            station_id,
        )
    return station_id


def certificate_common_name(peercert: object) -> str | None:
    """The subject's commonName of a peer certificate as ``ssl`` returns it, if any."""
    if not isinstance(peercert, dict):
        return None
    for rdn in peercert.get("subject", ()):
        for key, value in rdn:
            if key == "commonName" and isinstance(value, str):
                return value
    return None


def check_client_certificate(station_id: str, peercert: object) -> HandshakeRefusal | None:
    """Security profile 3: the certificate (already verified against the CA by TLS) must
    name this station in its subject's commonName, as the OCPP 1.6 security whitepaper
    asks; otherwise any station of the site could connect under another station's id."""
    common_name = certificate_common_name(peercert)
    if common_name == station_id:
        return None
    shown = "no commonName" if common_name is None else f"commonName {common_name!r}"
    return HandshakeRefusal(
        http.HTTPStatus.FORBIDDEN,
        f"the client certificate is for {shown}, not for station {station_id}",
        station_id,
    )


class KeyRule(enum.Enum):
    """What HTTP Basic (security profiles 1 and 2) asks of one station."""

    NOT_ASKED = "not asked"
    """No password is asked: another profile, or a station without a key let in."""
    MUST_SEND = "must send"
    """The station has a key and must send it."""
    NONE_SET = "none set"
    """A password is asked but no key is set: refused whatever it sends."""


def key_rule(config: CentralSystemConfig, station_id: str) -> KeyRule:
    """Whether this station must send its AuthorizationKey (cheap: no hashing)."""
    if config.security_profile not in (1, 2):
        return KeyRule.NOT_ASKED
    has_key = station_id in config.authorization_keys
    if config.accept_unknown_stations and not has_key:
        # "Accept stations that are not in the key list": a station without a key is let
        # in as without the profile; only the stations that have a key must prove it.
        return KeyRule.NOT_ASKED
    return KeyRule.MUST_SEND if has_key else KeyRule.NONE_SET


def check_credentials(
    config: CentralSystemConfig, station_id: str, authorization: str | None
) -> HandshakeRefusal | None:
    """HTTP Basic of security profiles 1 and 2 (slow: scrypt; run it off the loop)."""
    rule = key_rule(config, station_id)
    if rule is KeyRule.NOT_ASKED:
        return None
    credentials = parse_basic_authorization(authorization)
    if credentials is None:
        reason = (
            "no HTTP Basic credentials"
            if not authorization
            else "unreadable Authorization header (HTTP Basic expected)"
        )
        return HandshakeRefusal(
            http.HTTPStatus.UNAUTHORIZED, reason, station_id, ask_for_credentials=True
        )
    if credentials.user != station_id:
        return HandshakeRefusal(
            http.HTTPStatus.UNAUTHORIZED,
            "the HTTP Basic user is not the station id",
            station_id,
            ask_for_credentials=True,
        )
    hashed = config.authorization_keys.get(station_id)
    if rule is KeyRule.NONE_SET or hashed is None:
        return HandshakeRefusal(
            http.HTTPStatus.UNAUTHORIZED,
            no_key_reason(station_id),
            station_id,
            ask_for_credentials=True,
        )
    if not verify_authorization_key(credentials.password, hashed):
        return HandshakeRefusal(
            http.HTTPStatus.UNAUTHORIZED,
            "wrong AuthorizationKey",
            station_id,
            ask_for_credentials=True,
        )
    return None


def no_key_reason(station_id: str) -> str:
    """Why a station that must send a key, but has none set, is refused."""
    return f"no AuthorizationKey is configured for station {station_id}"


@dataclass(slots=True)
class _Failures:
    count: int
    last: float
    locked_until: float


class LoginThrottle:
    """Slows down password guessing: failed logins are counted per remote address and
    station id, so that one station with a wrong key does not slow down the other stations
    behind the same address (a site behind one NAT address).

    After ``allowed`` failures in a row, the address must wait ``backoff`` seconds, doubled
    for each further failure up to ``backoff_max``; while it waits, its handshakes are
    refused at once (HTTP 429 with Retry-After) without checking the password, so guessing
    costs no CPU (scrypt) either. A success clears that login; one quiet for
    ``forget_after`` seconds starts afresh. At most ``max_addresses`` logins are remembered
    (the oldest forgotten first), so the table cannot grow without bound. Time is an
    argument.
    """

    def __init__(
        self,
        *,
        allowed: int = 3,
        backoff: float = 1.0,
        backoff_max: float = 60.0,
        forget_after: float = 900.0,
        max_addresses: int = 10_000,
    ) -> None:
        self.allowed = allowed
        self.backoff = backoff
        self.backoff_max = backoff_max
        self.forget_after = forget_after
        self.max_addresses = max_addresses
        self._failures: OrderedDict[tuple[str, str], _Failures] = OrderedDict()

    def wait_left(self, address: str, station_id: str, now: float) -> float:
        """Seconds this station at this address must still wait before its password is
        checked (0: none)."""
        key = (address, station_id)
        failures = self._failures.get(key)
        if failures is None:
            return 0.0
        if now - failures.last > self.forget_after:
            del self._failures[key]
            return 0.0
        return max(0.0, failures.locked_until - now)

    def failed(self, address: str, station_id: str, now: float) -> float:
        """Count a failed login; returns how long it must now wait (0: none)."""
        key = (address, station_id)
        failures = self._failures.pop(key, None)
        if failures is None or now - failures.last > self.forget_after:
            failures = _Failures(0, now, now)
        failures.count += 1
        failures.last = now
        beyond = failures.count - self.allowed
        wait = 0.0 if beyond < 0 else min(self.backoff_max, self.backoff * 2.0**beyond)
        failures.locked_until = now + wait
        self._failures[key] = failures
        while len(self._failures) > self.max_addresses:
            self._failures.popitem(last=False)
        return wait

    def succeeded(self, address: str, station_id: str) -> None:
        self._failures.pop((address, station_id), None)

    def __len__(self) -> int:
        return len(self._failures)
