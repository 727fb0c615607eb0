"""Proxy mode: the console between a station and the site's own CSMS.

:class:`ProxyGate` is what the Central System asks when a station connects: may it
connect now (the backoff after the upstream failed), and its link carried on upstream.
"""

from __future__ import annotations

import asyncio
import http
import logging
from collections.abc import Callable

from websockets.asyncio.server import ServerConnection

from console.central.config import CentralSystemConfig
from console.central.events import TraceLog
from console.central.handshake import HandshakeRefusal
from console.central.proxy.link import ProxiedStationConnection
from console.central.proxy.relay import Relay, Route
from console.central.proxy.upstream import (
    UpstreamBackoff,
    UpstreamDialer,
    UpstreamError,
    UpstreamState,
)
from console.central.proxy.watch import UpstreamCallObserver
from console.central.station import CallHandler, StationConnection
from console.ocpp.versions import OcppVersion

__all__ = [
    "ProxiedStationConnection",
    "ProxyGate",
    "Relay",
    "Route",
    "UpstreamDialer",
    "UpstreamError",
    "UpstreamState",
    "UpstreamStateListener",
]

logger = logging.getLogger(__name__)

UpstreamStateListener = Callable[[str, UpstreamState, int | None], None]
"""Told a station's upstream state (and the HTTP status the CSMS refused it with)."""


def _ignore_state(station_id: str, state: UpstreamState, status: int | None) -> None:
    pass


class ProxyGate:
    """Carries each station that connects on to ``<upstream_url>/<station id>``."""

    def __init__(
        self,
        config: CentralSystemConfig,
        trace: TraceLog,
        upstream_observer: UpstreamCallObserver | None = None,
        upstream_changed: UpstreamStateListener | None = None,
    ) -> None:
        self.dialer = UpstreamDialer(config)
        self._upstream_observer = upstream_observer
        self._upstream_changed = upstream_changed or _ignore_state
        self.backoff = UpstreamBackoff(config.upstream_backoff, config.upstream_backoff_max)
        self._config = config
        self._trace = trace

    def admit(self, station_id: str, now: float) -> HandshakeRefusal | None:
        """Refuse a station while its upstream link waits out its backoff (unless stations
        are kept on the console meanwhile)."""
        wait = self.backoff.wait_left(station_id, now)
        if wait <= 0 or self._config.upstream_keep_stations:
            return None
        retry = UpstreamBackoff.retry_after(wait)
        return HandshakeRefusal(
            http.HTTPStatus.SERVICE_UNAVAILABLE,
            f"the CSMS at {self.dialer.base_url} is not reachable for {station_id}; "
            f"retry in {retry} s",
            station_id,
            retry_after=retry,
        )

    async def carry(
        self,
        station_id: str,
        websocket: ServerConnection,
        version: OcppVersion,
        responder: CallHandler,
        now: float,
    ) -> StationConnection | None:
        """Dial the upstream for this station; when it cannot be reached or refuses it:
        the station on the console alone (``upstream_keep_stations``), else None (the
        station closed, the trace and the log say why)."""
        url = self.dialer.url_for(station_id)
        request = websocket.request
        authorization = None if request is None else request.headers.get("Authorization")
        self._upstream_changed(station_id, UpstreamState.CONNECTING, None)
        self._trace.event(
            station_id,
            f"upstream {UpstreamState.CONNECTING}: {url} with OCPP {version}",
            note="proxy",
            ocpp_version=version,
        )
        try:
            upstream = await self.dialer.dial(station_id, version, authorization)
        except UpstreamError as exc:
            wait = self.backoff.failed(station_id, now)
            state = UpstreamState.REFUSED if exc.status is not None else UpstreamState.GONE
            self._upstream_changed(station_id, state, exc.status)
            if self._config.upstream_keep_stations:
                return self._keep(station_id, websocket, version, responder, exc, state, wait)
            text = (
                f"upstream {state}: {url} {exc.reason}; the console closes the station's "
                f"connection (next try in {wait:g} s)"
            )
            self._trace.event(station_id, text, note="proxy", ocpp_version=version)
            logger.warning("station %s: upstream %s: %s", station_id, url, exc.reason)
            # 1013 (try again later): the station's own reconnect logic takes over.
            await websocket.close(1013, f"upstream {state}: {exc.reason}"[:120])
            return None
        self.backoff.succeeded(station_id)
        self._upstream_changed(station_id, UpstreamState.CONNECTED, None)
        self._trace.event(
            station_id,
            f"upstream {UpstreamState.CONNECTED}: {url} with OCPP {version}",
            note="proxy",
            ocpp_version=version,
        )
        logger.info("station %s: carried on to %s", station_id, url)
        config = self._config
        return ProxiedStationConnection(
            station_id,
            websocket,
            upstream,
            upstream_url=url,
            trace=self._trace,
            call_handler=responder,
            call_timeout=config.call_timeout,
            max_frame_size=config.max_frame_size,
            security_profile=config.security_profile,
            version=version,
            upstream_observer=self._upstream_observer,
            upstream_changed=self._upstream_changed,
        )

    def _keep(
        self,
        station_id: str,
        websocket: ServerConnection,
        version: OcppVersion,
        responder: CallHandler,
        failure: UpstreamError,
        state: UpstreamState,
        wait: float,
    ) -> StationConnection:
        """The station on the console alone, until the CSMS takes its link again."""
        url = self.dialer.url_for(station_id)
        self._trace.event(
            station_id,
            f"upstream {state}: {url} {failure.reason}; the console keeps the station and "
            f"answers it as its Central System until the CSMS is back (next try in {wait:g} s)",
            note="proxy",
            ocpp_version=version,
        )
        logger.warning(
            "station %s: upstream %s: %s; kept on the console alone", station_id, url, failure
        )
        config = self._config
        connection = StationConnection(
            station_id,
            websocket,
            trace=self._trace,
            call_handler=responder,
            call_timeout=config.call_timeout,
            max_frame_size=config.max_frame_size,
            security_profile=config.security_profile,
            version=version,
        )
        request = websocket.request
        authorization = None if request is None else request.headers.get("Authorization")
        connection.spawn(
            self._until_upstream_back(connection, authorization, wait),
            name=f"upstream retry of {station_id}",
        )
        return connection

    async def _until_upstream_back(
        self, connection: StationConnection, authorization: str | None, wait: float
    ) -> None:
        """Dial the CSMS again with backoff; once it takes the link, close the station's
        connection so that it reconnects through the proxy (the CSMS then sees its boot)."""
        station_id, version = connection.station_id, connection.version
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(wait)
            try:
                probe = await self.dialer.dial(station_id, version, authorization)
            except UpstreamError as exc:
                wait = self.backoff.failed(station_id, loop.time())
                logger.info(
                    "station %s: the CSMS still %s; next try in %g s", station_id, exc, wait
                )
                continue
            break
        # The probe only proves the CSMS is back: the station's reconnect makes the link.
        await probe.close(1000, "the station reconnects")
        self.backoff.succeeded(station_id)
        self._trace.event(
            station_id,
            "the CSMS is back: the console closes the station's connection so that it "
            "reconnects through the proxy",
            note="proxy",
            ocpp_version=version,
        )
        logger.info("station %s: the CSMS is back; the station reconnects through it", station_id)
        # 1012 (service restart): reconnect now.
        await connection.close("the CSMS is back: reconnect through the proxy", 1012)
