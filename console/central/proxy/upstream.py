"""Dialing the site's own CSMS for one station, and when to try again after it failed.

The console opens ``<upstream_url>/<station id>`` offering only the subprotocol the
station chose, with the station's HTTP Basic credentials (or the ones configured for
it), and verifies a ``wss://`` upstream against the system store or the configured CA
file: there is no setting that turns verification off.
"""

from __future__ import annotations

import base64
import http
import logging
import math
import ssl
from dataclasses import dataclass
from urllib.parse import quote

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidHandshake, InvalidStatus
from websockets.typing import Subprotocol

from console.central.config import CentralSystemConfig
from console.central.model import UpstreamState
from console.ocpp.versions import OcppVersion

__all__ = [
    "UpstreamBackoff",
    "UpstreamDialer",
    "UpstreamError",
    "UpstreamState",
    "build_upstream_ssl_context",
]

logger = logging.getLogger(__name__)


class UpstreamError(Exception):
    """The upstream could not be reached or refused the station (``status``: its HTTP
    status, when it answered one)."""

    def __init__(self, reason: str, status: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


def build_upstream_ssl_context(config: CentralSystemConfig) -> ssl.SSLContext | None:
    """The TLS context for a ``wss://`` upstream (None for ``ws://``): the system store,
    or only the configured CA file."""
    url = config.upstream_url
    if url is None or not url.startswith("wss://"):
        return None
    cafile = None if config.upstream_cafile is None else str(config.upstream_cafile)
    # create_default_context verifies the chain and the host name; given a CA file it
    # trusts that file alone.
    return ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=cafile)


def _basic(station_id: str, password: str) -> str:
    token = base64.b64encode(f"{station_id}:{password}".encode()).decode("ascii")
    return f"Basic {token}"


class UpstreamDialer:
    """Opens the upstream link of each station that connects (proxy mode)."""

    def __init__(self, config: CentralSystemConfig) -> None:
        if config.upstream_url is None:
            raise ValueError("no upstream URL configured")
        self.base_url = config.upstream_url
        self._config = config
        self._ssl = build_upstream_ssl_context(config)

    def url_for(self, station_id: str) -> str:
        return f"{self.base_url}/{quote(station_id, safe='')}"

    def authorization_for(self, station_id: str, station_authorization: str | None) -> str | None:
        """The configured credentials of this station if any, else the station's own."""
        configured = self._config.upstream_credentials.get(station_id)
        if configured is not None:
            return _basic(station_id, configured.get_secret_value())
        return station_authorization

    async def dial(
        self, station_id: str, version: OcppVersion, station_authorization: str | None
    ) -> ClientConnection:
        """Open the station's upstream link; raises :class:`UpstreamError`."""
        url = self.url_for(station_id)
        headers = {}
        authorization = self.authorization_for(station_id, station_authorization)
        if authorization is not None:
            headers["Authorization"] = authorization
        try:
            websocket = await connect(
                url,
                subprotocols=[Subprotocol(version.subprotocol)],
                additional_headers=headers,
                ssl=self._ssl,
                compression=None,
                open_timeout=self._config.handshake_timeout,
                close_timeout=self._config.close_timeout,
                ping_interval=self._config.ping_interval,
                ping_timeout=self._config.ping_timeout,
                max_size=self._config.max_frame_size,
                # Retrying is the station's own reconnect logic (and the backoff here).
                logger=logging.getLogger("console.central.proxy.websockets"),
            )
        except InvalidStatus as exc:
            status = exc.response.status_code
            try:
                phrase = http.HTTPStatus(status).phrase
            except ValueError:
                phrase = ""
            raise UpstreamError(f"refused with HTTP {status} {phrase}".rstrip(), status) from exc
        except ssl.SSLError as exc:
            raise UpstreamError(f"TLS failed: {exc.reason or exc}") from exc
        except (OSError, InvalidHandshake, TimeoutError) as exc:
            raise UpstreamError(f"unreachable: {exc or type(exc).__name__}") from exc
        if websocket.subprotocol != version.subprotocol:
            await websocket.close(1002, "no OCPP version in common")
            raise UpstreamError(
                f"the CSMS did not take {version.subprotocol} "
                f"(it answered {websocket.subprotocol or 'no subprotocol'})"
            )
        return websocket


@dataclass(slots=True)
class _Failures:
    count: int
    until: float


class UpstreamBackoff:
    """When each station's upstream link may be dialed again (time is an argument).

    After a failure the station is refused for ``first`` seconds, doubling with each
    failure in a row up to ``longest``; a link that worked clears it.
    """

    def __init__(self, first: float, longest: float) -> None:
        self.first = first
        self.longest = longest
        self._failures: dict[str, _Failures] = {}

    def wait_left(self, station_id: str, now: float) -> float:
        failures = self._failures.get(station_id)
        return 0.0 if failures is None else max(0.0, failures.until - now)

    def failed(self, station_id: str, now: float) -> float:
        """Count a failure; returns the wait before the next try."""
        failures = self._failures.get(station_id)
        count = 1 if failures is None else failures.count + 1
        wait = min(self.longest, self.first * 2.0 ** (count - 1))
        self._failures[station_id] = _Failures(count, now + wait)
        return wait

    def succeeded(self, station_id: str) -> None:
        self._failures.pop(station_id, None)

    @staticmethod
    def retry_after(wait: float) -> int:
        return max(1, math.ceil(wait))
