"""The embedded OCPP 1.6-J Central System: a websockets server and what it knows.

:class:`CentralSystem` is what the window (and ``ocpp-console serve``) uses: start and
stop it, read the snapshots, subscribe to changes, reserve and cancel.

One thing despite its length: it is the Central System's facade and its handshake gate; the
protocol lives in :mod:`~console.central.core` and the book, storage in the store, the
connection shell in :mod:`console.link`. What is left is composition and the read model the
window and outside tools rely on (DESIGN.md "Public contracts").
"""

from __future__ import annotations

import asyncio
import dataclasses
import http
import logging
import math
import ssl
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.http11 import Request, Response
from websockets.typing import Subprotocol

from console.central.book import ReservationBook
from console.central.check.model import CheckResult
from console.central.config import CentralSystemConfig
from console.central.core import CoreResponder
from console.central.events import ChangeFeed, TraceLog
from console.central.handshake import (
    SUPPORTED_VERSIONS,
    HandshakeRefusal,
    LoginThrottle,
    check_client_certificate,
    check_credentials,
    check_handshake,
    choose_version,
    no_version_reason,
    offered_subprotocols,
    station_id_from_path,
)
from console.central.model import (
    CancelOutcome,
    CentralSystemApi,
    ChangeEvent,
    ConnectorSnapshot,
    ReservationRecord,
    ReserveRequest,
    StationSnapshot,
    TraceEntry,
    UpstreamState,
)
from console.central.persistence import Persistence, WriteBehind
from console.central.proxy import ProxyGate
from console.central.registry import StationRegistry
from console.central.remote_calls import RemoteCalls, RemoteOutcome
from console.central.security import build_server_ssl_context
from console.central.site_urls import lan_first, station_urls
from console.central.station import CallHandler, StationConnection
from console.central.v201.responder import Responder201
from console.ocpp import messages as m
from console.ocpp.v201.enums import ConnectorType, IdTokenType
from console.ocpp.versions import OcppVersion

__all__ = ["CentralSystem", "ConfigurationOutcome"]

logger = logging.getLogger(__name__)

# websockets logs every handshake header at DEBUG, the Authorization header (a station's
# password) included, so its logger never goes below WARNING whatever the command line
# asks; its INFO lines (connection open/closed) repeat what this module logs anyway.
_WEBSOCKETS_LOGGER = logging.getLogger("console.central.websockets")
_WEBSOCKETS_LOGGER.setLevel(logging.WARNING)

_TRACE_MEMORY = 10_000
_UNKNOWN_STATION = "?"


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class ConfigurationOutcome:
    """What a station answered to GetConfiguration (or why it did not)."""

    values: dict[str, str | None] = field(default_factory=dict)
    """The keys the station knows, spelled as the station spelled them."""
    unknown_keys: tuple[str, ...] = ()
    error: str | None = None
    """The CALLERROR code and text, the timeout, or why nothing was sent; None if answered."""

    def value(self, key: str) -> str | None:
        """The value of ``key`` (compared case-insensitively), None if absent or unset."""
        folded = key.casefold()
        return next((v for k, v in self.values.items() if k.casefold() == folded), None)


class CentralSystem:
    """The Central System stations connect to (``ws[s]://HOST:PORT/<station id>``).

    Implements :class:`console.central.model.CentralSystemApi`. Listeners given to
    :meth:`subscribe` are called synchronously on the event loop; one that raises is logged
    and never breaks the server. ``store`` replaces the SQLite store (tests).
    """

    def __init__(
        self,
        config: CentralSystemConfig,
        *,
        store: Persistence | None = None,
        memory_fallback: bool = True,
    ) -> None:
        self.config = config
        self._given_store = store
        self._memory_fallback = memory_fallback
        self._store: Persistence | None = None
        self._writes: WriteBehind | None = None
        self._feed = ChangeFeed()
        self._server: Server | None = None
        self._connections: dict[str, StationConnection] = {}
        self._remote = RemoteCalls(self._connections.get)
        self._trace: TraceLog | None = None
        self._registry: StationRegistry | None = None
        self._book: ReservationBook | None = None
        self._core: CoreResponder | None = None
        self._responders: dict[OcppVersion, CallHandler] = {}
        self._ssl: ssl.SSLContext | None = None
        self._port: int | None = None
        self._closers: set[asyncio.Task[None]] = set()
        self._logins = LoginThrottle(
            allowed=config.login_failures_allowed,
            backoff=config.login_backoff,
            backoff_max=config.login_backoff_max,
        )
        self._per_address: dict[str, int] = {}
        self._proxy: ProxyGate | None = None

    # --- life cycle ---------------------------------------------------------------------

    async def start(self) -> None:
        """Open the store, load what it holds, and listen. Raises OSError if the port is taken."""
        if self._server is not None:
            raise RuntimeError("the Central System is already running")
        config = self.config
        self._ssl = build_server_ssl_context(
            config.security_profile, config.certfile, config.keyfile, config.cafile
        )
        store = self._given_store or self._open_store_or_memory()
        self._store = store
        self._writes = WriteBehind(store)
        self._trace = TraceLog(
            self._feed,
            self._writes,
            memory=_TRACE_MEMORY,
            loaded=store.load_trace(limit=_TRACE_MEMORY),
        )
        stations = [_disconnected(s) if s.connected else s for s in store.load_stations()]
        self._registry = StationRegistry(
            self._feed, self._writes, stations, store.load_connectors()
        )
        self._book = ReservationBook(self._feed, store, self._registry, self._connections.get)
        self._book.load(store.load_reservations())
        self._core = CoreResponder(config, self._registry, self._book)
        self._proxy = None  # a restart may turn proxy mode off
        if config.upstream_url is not None:
            registry = self._registry

            def upstream_changed(station_id: str, state: UpstreamState, status: int | None) -> None:
                registry.update_station(station_id, upstream=state, upstream_status=status)

            self._proxy = ProxyGate(
                config, self._trace, self._book.on_upstream_call, upstream_changed
            )
        self._responders = {
            OcppVersion.V16: self._core,
            OcppVersion.V201: Responder201(config, self._registry, self._book),
        }
        try:
            self._server = await serve(
                self._handle_connection,
                config.host,
                config.port,
                subprotocols=[Subprotocol(v.subprotocol) for v in SUPPORTED_VERSIONS],
                select_subprotocol=_select_subprotocol,
                process_request=self._process_request,
                compression=None,
                open_timeout=config.handshake_timeout,
                close_timeout=config.close_timeout,
                ping_interval=config.ping_interval,
                ping_timeout=config.ping_timeout,
                max_size=config.max_frame_size,
                ssl=self._ssl,
                logger=_WEBSOCKETS_LOGGER,
            )
        except BaseException:
            self._book.close()
            self._writes.push()
            if self._given_store is None:
                store.close()
            self._store = None
            raise
        sockets = list(self._server.sockets)
        self._port = int(sockets[0].getsockname()[1]) if sockets else config.port
        logger.info(
            "Central System listening on %s (security profile %d)",
            ", ".join(self.urls()),
            config.security_profile,
        )

    def _open_store(self) -> Persistence:
        from console.central.store import Store

        folder = self.config.resolved_data_dir()
        folder.mkdir(parents=True, exist_ok=True)
        return Store.open(
            self.config.database_path(),
            trace_limit=self.config.trace_limit,
            on_error=self._on_store_error,
        )

    def _open_store_or_memory(self) -> Persistence:
        from console.central.store import Store, StoreError

        try:
            return self._open_store()
        except (StoreError, OSError) as exc:
            if not self._memory_fallback:
                raise
            reason = str(exc) if isinstance(exc, StoreError) else f"data folder: {exc}"
            # The window must still work (a commissioning session can go on); store_error
            # tells it that nothing is being saved.
            logger.error("%s; running in memory: nothing will be saved", reason)
            return Store.in_memory(
                reason, trace_limit=self.config.trace_limit, on_error=self._on_store_error
            )

    def _on_store_error(self, message: str) -> None:
        logger.error("database: %s", message)

    async def stop(self) -> None:
        """Close every connection and the server, then flush and close the store."""
        server, self._server = self._server, None
        if server is None:
            return
        server.close(close_connections=True)
        await server.wait_closed()
        for connection in list(self._connections.values()):
            connection.cancel_tasks()
        if self._closers:
            await asyncio.gather(*self._closers, return_exceptions=True)
        if self._book is not None:
            self._book.close()
        if self._writes is not None:
            self._writes.push()
        if self._store is not None:
            await self._store.flush()
            if self._given_store is None:
                self._store.close()
        logger.info("Central System stopped")

    @property
    def running(self) -> bool:
        return self._server is not None

    @property
    def port(self) -> int:
        """The port listened on (the chosen one when the settings said 0)."""
        if self._port is None:
            raise RuntimeError("the Central System is not started")
        return self._port

    @property
    def security_profile(self) -> int:
        return self.config.security_profile

    @property
    def upstream_url(self) -> str | None:
        """Proxy mode: the site's CSMS stations are carried on to (None: not proxying)."""
        return self.config.upstream_url

    @property
    def store_error(self) -> str | None:
        """The store's last error (e.g. disk full, or why it runs in memory), if any."""
        return None if self._store is None else self._store.error

    def urls(self) -> list[str]:
        """``ws[s]://ADDRESS:PORT/`` for each address stations may use, LAN ones first."""
        return lan_first(station_urls(self.config, self._port))

    # --- read models --------------------------------------------------------------------

    def stations(self) -> list[StationSnapshot]:
        return self._need_registry().stations()

    def station(self, station_id: str) -> StationSnapshot | None:
        return self._need_registry().station(station_id)

    def connectors(self, station_id: str | None = None) -> list[ConnectorSnapshot]:
        return self._need_registry().connectors(station_id)

    def reservations(self) -> list[ReservationRecord]:
        return self._need_book().records()

    def reservation(self, station_id: str, reservation_id: int) -> ReservationRecord | None:
        """The latest attempt with this id on this station."""
        return self._need_book().get(station_id, reservation_id)

    def recent_trace(self, limit: int = 10_000) -> list[TraceEntry]:
        return [] if self._trace is None else self._trace.recent(limit)

    async def stored_trace(
        self,
        limit: int = 10_000,
        station_id: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> list[TraceEntry]:
        """Trace lines from the database (it keeps more than memory does), oldest first."""
        if self._store is None:
            raise RuntimeError("the Central System is not started")
        if self._writes is not None:
            self._writes.push()
        await self._store.flush()
        # Off the loop: reading 200,000 lines takes ~2 s, the window and the stations must
        # not wait (the store's reader connection is shared across threads under a lock).
        return await asyncio.to_thread(self._store.load_trace, limit, station_id, since, until)

    def subscribe(self, listener: Callable[[ChangeEvent], None]) -> Callable[[], None]:
        return self._feed.subscribe(listener)

    def peek_reservation_id(self) -> int:
        if self._store is None:
            raise RuntimeError("the Central System is not started")
        return self._store.peek_reservation_id()

    def is_connected(self, station_id: str) -> bool:
        connection = self._connections.get(station_id)
        return connection is not None and not connection.closed

    # --- reservations -------------------------------------------------------------------

    async def reserve_now(
        self,
        station_id: str,
        connector_id: int,
        id_tag: str,
        expiry_date: datetime,
        parent_id_tag: str | None = None,
        reservation_id: int | None = None,
        *,
        connector_type: ConnectorType | None = None,
        id_token_type: IdTokenType | None = None,
        group_id_token_type: IdTokenType | None = None,
        probe: bool = False,
    ) -> ReservationRecord:
        """Reserve a connector; returns the attempt once the station answered (or did not).

        The same call for both versions: on a 2.0.1 station ``connector_id`` is the evseId
        (0: none, any EVSE), ``id_tag`` the idToken's value and ``parent_id_tag`` the
        groupIdToken's; the 2.0.1-only fields are the keyword arguments (ignored on 1.6).
        See :mod:`console.central.book` for the states. Raises ``ValueError`` for
        arguments the protocol does not allow. ``probe`` sends a connector-0 reservation
        even when the station said it does not take them (the conformance check).
        """
        request = ReserveRequest(
            station_id,
            connector_id,
            id_tag,
            expiry_date,
            parent_id_tag,
            reservation_id,
            connector_type=connector_type,
            id_token_type=id_token_type,
            group_id_token_type=group_id_token_type,
        )
        return await self.reserve(request, probe=probe)

    async def reserve(self, request: ReserveRequest, *, probe: bool = False) -> ReservationRecord:
        """:meth:`reserve_now` with its parameters in one object (what the window sends)."""
        return await self._need_book().reserve_now(request, probe=probe)

    async def cancel_reservation(self, station_id: str, reservation_id: int) -> CancelOutcome:
        """Cancel a reservation at the station; Accepted marks its attempts cancelled.

        The attempt is kept on the reservation's record (``cancel``).
        """
        return await self._need_book().cancel_reservation(station_id, reservation_id)

    async def cancel_reservation_by_check(
        self, station_id: str, reservation_id: int
    ) -> CancelOutcome:
        """:meth:`cancel_reservation` sent by the reservation check: the record's cancel
        attempt says so (e.g. that the check proved an expired one still held)."""
        return await self._need_book().cancel_reservation(station_id, reservation_id, by_check=True)

    async def allocate_reservation_id(self) -> int:
        """A fresh id from the persisted counter (e.g. one no station holds, never sent)."""
        if self._store is None:
            raise RuntimeError("the Central System is not started")
        return await self._store.allocate_reservation_id()

    # --- configuration ------------------------------------------------------------------

    async def get_configuration(self, station_id: str, keys: Sequence[str]) -> ConfigurationOutcome:
        """Ask the station for configuration ``keys``; what it says it supports is applied."""
        core = self._core
        if core is None:
            raise RuntimeError("the Central System is not started")
        connection = self._connections.get(station_id)
        if connection is None or connection.closed:
            return ConfigurationOutcome(error=f"station {station_id} is not connected")
        if connection.version is not OcppVersion.V16:
            return ConfigurationOutcome(
                error=f"station {station_id} speaks OCPP {connection.version}: "
                "GetConfiguration is OCPP 1.6 (2.0.1 reads its device model)"
            )
        outcome = await connection.call(m.GetConfigurationRequest(key=list(keys) or None))
        answer = outcome.confirmation
        if isinstance(answer, m.GetConfigurationConfirmation):
            core.apply_configuration(station_id, answer)
            return ConfigurationOutcome(
                values={kv.key: kv.value for kv in answer.configuration_key or ()},
                unknown_keys=tuple(answer.unknown_key or ()),
            )
        if outcome.error_code is not None:
            detail = f": {outcome.error}" if outcome.error else ""
            error = f"{outcome.error_code}{detail}"
        elif outcome.timed_out:
            error = outcome.error or "no answer"
        else:
            error = f"connection lost: {outcome.error}"
        logger.warning("station %s: GetConfiguration failed: %s", station_id, error)
        return ConfigurationOutcome(error=error)

    # --- availability, remote start and stop (the conformance check's calls) ------------

    async def change_availability(
        self, station_id: str, connector_id: int, operative: bool
    ) -> RemoteOutcome:
        """ChangeAvailability for a connector (2.0.1: an EVSE; 0: the whole station)."""
        return await self._remote.change_availability(station_id, connector_id, operative)

    async def remote_start(self, station_id: str, connector_id: int, id_tag: str) -> RemoteOutcome:
        """1.6 RemoteStartTransaction, 2.0.1 RequestStartTransaction (evseId)."""
        return await self._remote.remote_start(station_id, connector_id, id_tag)

    async def remote_stop(self, station_id: str, transaction_id: int | str) -> RemoteOutcome:
        """1.6 RemoteStopTransaction, 2.0.1 RequestStopTransaction."""
        return await self._remote.remote_stop(station_id, transaction_id)

    # --- conformance check results ------------------------------------------------------

    async def save_check(self, result: CheckResult) -> CheckResult:
        """Store a check's result; returns it with its database id."""
        if self._store is None:
            raise RuntimeError("the Central System is not started")
        check_id = await self._store.save_check(result)
        return dataclasses.replace(result, check_id=check_id)

    def checks(self) -> list[CheckResult]:
        """Every stored check result, oldest first."""
        if self._store is None:
            raise RuntimeError("the Central System is not started")
        return self._store.load_checks()

    # --- connections --------------------------------------------------------------------

    async def _process_request(
        self, connection: ServerConnection, request: Request
    ) -> Response | None:
        decision = check_handshake(self.config, request.path)
        address = _host_of(connection.remote_address)
        cap = self.config.max_connections_per_address
        if (
            isinstance(decision, str)
            and cap is not None
            and self._per_address.get(address, 0) >= cap
        ):
            decision = HandshakeRefusal(
                http.HTTPStatus.TOO_MANY_REQUESTS,
                f"{address} already holds {cap} connections (the limit per address)",
                decision,
            )
        if isinstance(decision, str) and self.config.security_profile in (1, 2):
            decision = await self._check_login(address, decision, request)
        if isinstance(decision, str) and self._proxy is not None:
            loop = asyncio.get_running_loop()
            decision = self._proxy.admit(decision, loop.time()) or decision
        if isinstance(decision, str) and self.config.security_profile == 3:
            peercert = connection.transport.get_extra_info("peercert")
            decision = check_client_certificate(decision, peercert) or decision
        if isinstance(decision, str):
            return None
        return self._refuse(connection, request, decision)

    async def _check_login(
        self, address: str, station_id: str, request: Request
    ) -> str | HandshakeRefusal:
        loop = asyncio.get_running_loop()
        wait = self._logins.wait_left(address, station_id, loop.time())
        if wait > 0:
            # Refused before the password is even looked at: guessing costs time and no CPU.
            return HandshakeRefusal(
                http.HTTPStatus.TOO_MANY_REQUESTS,
                f"too many failed logins of {station_id} from {address}; "
                f"retry in {math.ceil(wait)} s",
                station_id,
                retry_after=math.ceil(wait),
            )
        authorization = request.headers.get("Authorization")
        # scrypt is slow on purpose: keep it off the loop.
        refusal = await asyncio.to_thread(check_credentials, self.config, station_id, authorization)
        if refusal is None:
            self._logins.succeeded(address, station_id)
            return station_id
        wait = self._logins.failed(address, station_id, loop.time())
        if wait > 0:
            refusal = dataclasses.replace(
                refusal,
                reason=f"{refusal.reason}; {address} must wait {math.ceil(wait)} s",
                retry_after=math.ceil(wait),
            )
        return refusal

    def _refuse(
        self, connection: ServerConnection, request: Request, refusal: HandshakeRefusal
    ) -> Response:
        station_id = refusal.station_id or _UNKNOWN_STATION
        remote = _format_address(connection.remote_address)
        logger.warning(
            "station %s: handshake from %s refused (%d): %s",
            station_id,
            remote,
            refusal.status,
            refusal.reason,
        )
        trace = self._need_trace()
        trace.event(
            station_id,
            f"handshake from {remote} refused ({int(refusal.status)} "
            f"{refusal.status.phrase}): {refusal.reason}",
            note="handshake refused",
        )
        response = connection.respond(refusal.status, refusal.reason + "\n")
        headers: Headers = response.headers
        if refusal.ask_for_credentials:
            headers["WWW-Authenticate"] = 'Basic realm="OCPP", charset="UTF-8"'
        if refusal.retry_after is not None:
            headers["Retry-After"] = str(refusal.retry_after)
        return response

    async def _handle_connection(self, websocket: ServerConnection) -> None:
        request = websocket.request
        station_id = station_id_from_path(request.path if request is not None else "")
        if isinstance(station_id, HandshakeRefusal):  # checked in the handshake already
            return
        registry = self._need_registry()
        version = OcppVersion.from_subprotocol(websocket.subprotocol or "")
        if version is None:
            await self._close_without_version(station_id, websocket, request)
            return
        responder = self._responders.get(version)
        assert responder is not None
        connection: StationConnection
        if self._proxy is not None:
            loop = asyncio.get_running_loop()
            proxied = await self._proxy.carry(
                station_id, websocket, version, responder, loop.time()
            )
            if proxied is None:
                return
            connection = proxied
        else:
            connection = StationConnection(
                station_id,
                websocket,
                trace=self._need_trace(),
                call_handler=responder,
                call_timeout=self.config.call_timeout,
                max_frame_size=self.config.max_frame_size,
                security_profile=self.config.security_profile,
                version=version,
            )
        address = _host_of(websocket.remote_address)
        self._per_address[address] = self._per_address.get(address, 0) + 1
        previous = self._connections.get(station_id)
        self._connections[station_id] = connection
        remote = connection.remote_address or "?"
        known = self.config.is_known_station(station_id)
        note = None
        if previous is not None and not previous.closed:
            note = f"a new connection from {remote} replaced the previous one"
            self._close_in_background(previous, f"replaced by a new connection from {remote}")
        registry.update_station(
            station_id,
            connected=True,
            state_since=_now(),
            security_profile=self.config.security_profile,
            remote_address=remote,
            is_new=not known,
            note=note,
            ocpp_version=version,
        )
        # A station that comes back with the other version is that version from now on:
        # the other version's connectors (numbered otherwise) are gone.
        registry.forget_connectors(station_id, keep_evse=version is OcppVersion.V201)
        self._need_trace().event(
            station_id,
            f"connected from {remote} with OCPP {version} "
            f"(security profile {self.config.security_profile})"
            + (" through the proxy" if connection.proxied else "")
            + (f"; {note}" if note else ""),
            ocpp_version=version,
        )
        logger.info(
            "station %s: connected from %s with OCPP %s%s%s%s",
            station_id,
            remote,
            version,
            " through the proxy" if connection.proxied else "",
            "" if known else " (new station)",
            f"; {note}" if note else "",
        )
        reason = "connection lost"
        try:
            reason = await connection.run()
        finally:
            left = self._per_address.pop(address, 1) - 1
            if left > 0:
                self._per_address[address] = left
            connection.cancel_tasks()
            self._trace_disconnect(connection, reason)

    async def _close_without_version(
        self, station_id: str, websocket: ServerConnection, request: Request | None
    ) -> None:
        """Close a connection whose handshake agreed on no OCPP version, saying why."""
        offered = offered_subprotocols(
            request.headers.get_all("Sec-WebSocket-Protocol") if request is not None else ()
        )
        reason = no_version_reason(offered)
        remote = _format_address(websocket.remote_address)
        logger.warning("station %s: connection from %s closed: %s", station_id, remote, reason)
        self._need_trace().event(
            station_id, f"connection from {remote} closed: {reason}", note="no OCPP version"
        )
        # 1002 (protocol error); the reason is cut to what a close frame carries.
        await websocket.close(1002, reason.encode()[:120].decode(errors="ignore"))

    def _trace_disconnect(self, connection: StationConnection, reason: str) -> None:
        station_id = connection.station_id
        self._need_trace().event(
            station_id, f"disconnected: {reason}", ocpp_version=connection.version
        )
        logger.info("station %s: disconnected: %s", station_id, reason)
        if self._connections.get(station_id) is connection:
            del self._connections[station_id]
            self._need_registry().update_station(
                station_id, connected=False, state_since=_now(), note=reason
            )

    def _close_in_background(self, connection: StationConnection, reason: str) -> None:
        task = asyncio.get_running_loop().create_task(connection.close(reason))
        self._closers.add(task)
        task.add_done_callback(self._closers.discard)

    # --- helpers ------------------------------------------------------------------------

    def _need_registry(self) -> StationRegistry:
        if self._registry is None:
            raise RuntimeError("the Central System is not started")
        return self._registry

    def _need_book(self) -> ReservationBook:
        if self._book is None:
            raise RuntimeError("the Central System is not started")
        return self._book

    def _need_trace(self) -> TraceLog:
        if self._trace is None:
            raise RuntimeError("the Central System is not started")
        return self._trace


def _disconnected(station: StationSnapshot) -> StationSnapshot:
    # Stored as connected means the console stopped (or died) while it was.
    from dataclasses import replace

    return replace(station, connected=False, note="the console stopped while connected")


def _host_of(address: object) -> str:
    # The IP alone: one host's connections come from many ports.
    if isinstance(address, tuple) and address:
        return str(address[0])
    return "?" if address is None else str(address)


def _format_address(address: object) -> str:
    if isinstance(address, tuple) and len(address) >= 2:
        return f"{address[0]}:{address[1]}"
    return "?" if address is None else str(address)


def _conforms_to_the_api(system: CentralSystem) -> CentralSystemApi:
    # mypy checks here that CentralSystem is what the window expects.
    return system


def _select_subprotocol(
    connection: ServerConnection, offered: Sequence[Subprotocol]
) -> Subprotocol | None:
    """The station's first offer that the console speaks; None completes the handshake
    without a subprotocol (the connection is then closed, saying why)."""
    version = choose_version(offered)
    return None if version is None else Subprotocol(version.subprotocol)
