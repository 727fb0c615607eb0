"""An OCPP 1.6-J station client over ``websockets`` (asyncio), around the sans-IO Session.

One :class:`StationClient` is one station: it connects to ``<url>/<station id>`` with the
``ocpp1.6`` subprotocol (``ws://`` or ``wss://``, HTTP Basic, client certificates), boots,
beats, reports every status change, and answers the Central System's calls, the
Reservation profile's through its :class:`~console.chargepoint.engine.ReservationEngine`.

The connection itself (reader, ordered writer, call timeouts, late answers) is an
:class:`~console.link.OcppLink`; here are the station's answers and its own calls. One
watcher per station ends expired reservations, online or not. The engine outlives
connections, so reservations survive a reconnect (and are reported again as ``Reserved``
after the next boot).

It is one module because every part of it reads and changes the same station's state (the
engine, the transactions, the meter, the live link): its connection loop, its own calls and
its answers to the Central System's calls.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import ssl
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidHandshake, InvalidURI
from websockets.typing import Subprotocol

from console.chargepoint.engine import (
    Changes,
    ChargingRefusedError,
    Reservation,
    ReservationEngine,
    StatusChange,
)
from console.link import CallOutcome, OcppLink
from console.ocpp.base import OcppModel
from console.ocpp.enums import (
    AuthorizationStatus,
    AvailabilityType,
    ChargePointErrorCode,
    DataTransferStatus,
    DiagnosticsStatus,
    FirmwareStatus,
    Measurand,
    MessageTrigger,
    ReadingContext,
    RegistrationStatus,
    RemoteStartStopStatus,
    StopReason,
    TriggerMessageStatus,
    UnitOfMeasure,
)
from console.ocpp.features import Role
from console.ocpp.messages import (
    AuthorizeConfirmation,
    AuthorizeRequest,
    BootNotificationConfirmation,
    BootNotificationRequest,
    ChangeAvailabilityConfirmation,
    ChangeAvailabilityRequest,
    DataTransferConfirmation,
    DiagnosticsStatusNotificationRequest,
    FirmwareStatusNotificationRequest,
    GetConfigurationConfirmation,
    GetConfigurationRequest,
    HeartbeatRequest,
    IdTagInfo,
    KeyValue,
    MeterValue,
    MeterValuesRequest,
    RemoteStartTransactionConfirmation,
    RemoteStartTransactionRequest,
    RemoteStopTransactionConfirmation,
    RemoteStopTransactionRequest,
    SampledValue,
    StartTransactionConfirmation,
    StartTransactionRequest,
    StatusNotificationRequest,
    StopTransactionRequest,
    TriggerMessageConfirmation,
    TriggerMessageRequest,
)
from console.ocpp.reservation import (
    CancelReservationConfirmation,
    CancelReservationRequest,
    ReservationStatus,
    ReserveNowConfirmation,
    ReserveNowRequest,
)
from console.ocpp.session import (
    AnswerInvalid,
    CallReceived,
    CallRefused,
    CallTimedOut,
    ErrorReceived,
    Event,
    FrameDropped,
    LateAnswer,
    Session,
    UnexpectedAnswer,
)

__all__ = [
    "OCPP_SUBPROTOCOL",
    "CallFailedError",
    "ChargingOutcome",
    "ClientOptions",
    "NotConnectedError",
    "StationClient",
    "StationIdentity",
    "client_ssl_context",
    "station_url",
]

logger = logging.getLogger(__name__)

OCPP_SUBPROTOCOL = "ocpp1.6"
_SUPPORTED_PROFILES = "Core,Reservation,RemoteTrigger"
_SIMULATED_POWER_W = 7400.0

ConfirmationT = TypeVar("ConfirmationT", bound=OcppModel)


class NotConnectedError(Exception):
    """A call made while the station has no connection."""


class CallFailedError(Exception):
    """A call of ours got a CALLERROR, an invalid answer, no answer, or was aborted."""


@dataclass(frozen=True, slots=True)
class StationIdentity:
    """What BootNotification tells of the station."""

    vendor: str = "OCPP Console"
    model: str = "Simulated AC"
    firmware: str = "1.0.0"
    serial: str | None = None


@dataclass(frozen=True, slots=True)
class ClientOptions:
    """Timings of a station. Tests shorten them; the defaults suit a real site."""

    call_timeout: float = 30.0
    # Delay before answering the Central System's calls (a slow station).
    answer_delay: float = 0.0
    backoff_initial: float = 1.0
    backoff_max: float = 30.0
    # Used until the BootNotification answer gives one (and when it gives 0).
    heartbeat_interval: float = 300.0
    boot_retry_interval: float = 30.0
    meter_interval: float = 60.0
    open_timeout: float = 10.0
    close_timeout: float = 2.0
    ping_interval: float | None = None


@dataclass(frozen=True, slots=True)
class ChargingOutcome:
    """What became of presenting an idTag (or of a remote start)."""

    started: bool
    connector_id: int
    id_tag: str
    transaction_id: int | None = None
    reservation_id: int | None = None
    reason: str = ""


@dataclass(slots=True)
class _Transaction:
    transaction_id: int
    id_tag: str
    meter_start: int
    started_at: float
    reservation_id: int | None


class _StationLink(OcppLink):
    """One connection of a station: the link, answering with the station's rules."""

    peer_name = "the Central System"
    own_name = "the station"

    def __init__(
        self,
        station_id: str,
        websocket: ClientConnection,
        *,
        call_timeout: float,
        answer: Callable[[_StationLink, CallReceived], None],
    ) -> None:
        super().__init__(
            websocket,
            Session(Role.CHARGE_POINT, call_timeout=call_timeout),
            name=f"station {station_id}",
        )
        self.station_id = station_id
        self._answer = answer
        # Delayed answers of a slow station, dropped with the connection.
        self.delayed_answers: dict[str, asyncio.TimerHandle] = {}

    def _answer_call(self, event: CallReceived) -> None:
        self._answer(self, event)

    def _observe(self, event: Event) -> None:
        sid = self.station_id
        match event:
            case CallRefused(action=action, code=code, description=description):
                logger.warning(
                    "station %s: refused %s from the Central System: %s %s",
                    sid,
                    action,
                    code.value,
                    description,
                )
            case LateAnswer(call=call):
                logger.info("station %s: late answer to %s", sid, call.action)
            case UnexpectedAnswer() | FrameDropped():
                logger.warning("station %s: dropped frame %s", sid, event.text[:200])


def _failure(action: str, outcome: CallOutcome) -> str:
    """Why a call of ours got no answer to use."""
    match outcome.ended_by:
        case ErrorReceived(raw_code=code, description=description):
            return f"{action} got CALLERROR {code}: {description}"
        case AnswerInvalid(description=description):
            return f"{action} got an invalid answer: {description}"
        case CallTimedOut():
            return f"{action} timed out"
    return f"{action}: {outcome.error}"


def station_url(base_url: str, station_id: str) -> str:
    """The URL a station connects to: the station id is the last path segment."""
    return f"{base_url.rstrip('/')}/{quote(station_id, safe='')}"


def client_ssl_context(
    cafile: Path | str | None = None,
    certfile: Path | str | None = None,
    keyfile: Path | str | None = None,
) -> ssl.SSLContext:
    """A TLS context trusting ``cafile`` (or the system's CAs), with a client certificate."""
    context = ssl.create_default_context(cafile=str(cafile) if cafile else None)
    if certfile is not None:
        context.load_cert_chain(str(certfile), str(keyfile) if keyfile else None)
    return context


def _utc_now() -> datetime:
    return datetime.now(UTC)


class StationClient:
    """One OCPP 1.6-J station: connection, boot, heartbeat, status, calls and answers.

    ``on_reservation_accepted`` is called with each reservation the station accepted (after
    the answer went out); the simulator's ``card_arrives`` behaviour hangs on it.
    """

    def __init__(
        self,
        url: str,
        station_id: str,
        engine: ReservationEngine,
        *,
        identity: StationIdentity | None = None,
        password: str | None = None,
        ssl_context: ssl.SSLContext | None = None,
        options: ClientOptions | None = None,
        clock: Callable[[], datetime] = _utc_now,
        on_reservation_accepted: Callable[[Reservation], None] | None = None,
    ) -> None:
        self.url = url
        self.station_id = station_id
        self.engine = engine
        self.identity = identity or StationIdentity()
        self.options = options or ClientOptions()
        self.on_reservation_accepted = on_reservation_accepted
        self._password = password
        self._ssl = ssl_context
        self._clock = clock
        self._heartbeat_interval = self.options.heartbeat_interval
        self._link: _StationLink | None = None
        self._transactions: dict[int, _Transaction] = {}
        self._meter_wh = 0
        self._tasks: set[asyncio.Task[Any]] = set()
        self._run_task: asyncio.Task[None] | None = None
        self._online = asyncio.Event()
        self._online.set()
        self._reconnect_now = asyncio.Event()
        self._wake_expiry = asyncio.Event()
        self._booted = asyncio.Event()
        self._stopping = False
        self.connection_count = 0
        self.boot_count = 0

    # --- state --------------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        return self._link is not None

    @property
    def booted(self) -> bool:
        """Connected and registered (BootNotification Accepted)."""
        return self._booted.is_set()

    @property
    def heartbeat_interval(self) -> float:
        return self._heartbeat_interval

    def transaction_id(self, connector_id: int) -> int | None:
        transaction = self._transactions.get(connector_id)
        return None if transaction is None else transaction.transaction_id

    async def wait_booted(self) -> None:
        """Until the station is registered (wrap in ``asyncio.timeout``)."""
        await self._booted.wait()

    # --- lifecycle ----------------------------------------------------------------------

    async def start(self) -> None:
        """Start connecting (in the background; see :meth:`wait_booted`)."""
        if self._run_task is not None:
            return
        self._stopping = False
        self._run_task = asyncio.create_task(
            self._run(), name=f"station {self.station_id} connection"
        )
        self._run_task.add_done_callback(self._task_done)
        self._spawn(self._watch_expiry(), "expiry")

    async def stop(self) -> None:
        """Disconnect and end every task of the station."""
        self._stopping = True
        tasks = [t for t in (self._run_task, *self._tasks) if t is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._run_task = None
        self._tasks.clear()

    async def go_offline(self) -> None:
        """Drop the connection and stay away until :meth:`go_online`."""
        self._online.clear()
        link = self._link
        if link is not None:
            logger.info("station %s: going offline", self.station_id)
            await link.close("going offline", tell_peer=False)

    async def go_online(self) -> None:
        """Connect again at once (no backoff wait)."""
        self._online.set()
        self._reconnect_now.set()

    def retarget(self, url: str) -> None:
        """Dial ``url`` from now on: the Central System moved (a new port or address).

        A connection to the old URL is closed; a station waiting to reconnect dials the new
        URL at once instead of after its backoff. A station kept offline stays offline.
        """
        if url == self.url:
            return
        logger.info("station %s: the Central System is now at %s", self.station_id, url)
        self.url = url
        self._reconnect_now.set()
        link = self._link
        if link is not None:
            self._spawn(link.close("the Central System moved"), "leave the old URL")

    def _spawn(self, coroutine: Coroutine[Any, Any, Any], what: str) -> asyncio.Task[Any]:
        task = asyncio.create_task(coroutine, name=f"station {self.station_id} {what}")
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if task.cancelled():
            return
        error = task.exception()
        if error is not None and not isinstance(error, NotConnectedError | CallFailedError):
            logger.error(
                "station %s: task %s failed", self.station_id, task.get_name(), exc_info=error
            )

    # --- connection loop ----------------------------------------------------------------

    def _headers(self) -> dict[str, str]:
        if self._password is None:
            return {}
        secret = f"{self.station_id}:{self._password}".encode()
        return {"Authorization": "Basic " + base64.b64encode(secret).decode("ascii")}

    async def _run(self) -> None:
        failures = 0
        while not self._stopping:
            await self._online.wait()
            self._reconnect_now.clear()
            url = station_url(self.url, self.station_id)  # read each time: see retarget()
            try:
                websocket = await connect(
                    url,
                    subprotocols=[Subprotocol(OCPP_SUBPROTOCOL)],
                    additional_headers=self._headers(),
                    ssl=self._ssl if url.startswith("wss://") else None,
                    open_timeout=self.options.open_timeout,
                    close_timeout=self.options.close_timeout,
                    ping_interval=self.options.ping_interval,
                    compression=None,
                    proxy=None,
                )
            except (OSError, InvalidHandshake, TimeoutError) as exc:
                failures += 1
                delay = self._backoff(failures)
                logger.warning(
                    "station %s: cannot connect to %s (%s); retrying in %.1f s",
                    self.station_id,
                    url,
                    exc,
                    delay,
                )
                await self._pause(delay)
                continue
            except InvalidURI:
                logger.error("station %s: %s is not a WebSocket URL", self.station_id, url)
                raise
            if websocket.subprotocol != OCPP_SUBPROTOCOL:
                logger.warning(
                    "station %s: the Central System did not confirm subprotocol %s",
                    self.station_id,
                    OCPP_SUBPROTOCOL,
                )
            self.connection_count += 1
            logger.info("station %s: connected to %s", self.station_id, url)
            booted = await self._serve(websocket)
            if self._stopping:
                break
            # A connection that got as far as a boot resets the backoff.
            failures = 1 if booted else failures + 1
            delay = self._backoff(failures)
            if self._online.is_set():
                logger.info(
                    "station %s: connection closed; reconnecting in %.1f s",
                    self.station_id,
                    delay,
                )
                await self._pause(delay)

    def _backoff(self, failures: int) -> float:
        return float(
            min(self.options.backoff_max, self.options.backoff_initial * 2 ** max(failures - 1, 0))
        )

    async def _pause(self, delay: float) -> None:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(delay):
                await self._reconnect_now.wait()

    async def _serve(self, websocket: ClientConnection) -> bool:
        """Read until the connection ends; says whether the station had booted."""
        link = _StationLink(
            self.station_id,
            websocket,
            call_timeout=self.options.call_timeout,
            answer=self._answer,
        )
        self._link = link
        link.spawn(self._boot_and_beat(), name=f"station {self.station_id} boot")
        link.spawn(self._meter_loop(), name=f"station {self.station_id} meter values")
        booted = False
        try:
            await link.run()
        finally:
            booted = self._booted.is_set()
            self._link = None
            self._booted.clear()
            for handle in link.delayed_answers.values():
                handle.cancel()
            await link.end_tasks()
            with contextlib.suppress(Exception):
                await websocket.close()
        return booted

    # --- our calls ----------------------------------------------------------------------

    async def call(self, request: OcppModel, expect: type[ConfirmationT]) -> ConfirmationT:
        """Send a call and wait for its answer (raises CallFailedError/NotConnectedError)."""
        link = self._link
        if link is None:
            raise NotConnectedError(f"station {self.station_id} is not connected")
        outcome = await link.call(request)
        answer = outcome.confirmation
        if answer is None:
            raise CallFailedError(_failure(request.feature_name, outcome))
        if not isinstance(answer, expect):
            raise CallFailedError(f"unexpected answer {type(answer).__name__}")
        return answer

    def _send_nowait(self, request: OcppModel) -> None:
        """A call whose answer nobody waits for (status, heartbeat, meter values)."""
        link = self._link
        if link is None:
            return
        action = request.feature_name
        future = link.start_call(request)
        future.add_done_callback(lambda done: self._log_failure(action, done))

    def _log_failure(self, action: str, future: asyncio.Future[CallOutcome]) -> None:
        if future.cancelled():
            return
        outcome = future.result()
        if outcome.confirmation is None:
            logger.info("station %s: %s", self.station_id, _failure(action, outcome))

    def notify(self, changes: Changes | tuple[StatusChange, ...]) -> None:
        """Send the StatusNotifications of a change (when registered; else after boot)."""
        notifications = changes.notifications if isinstance(changes, Changes) else changes
        if isinstance(changes, Changes):
            for ended in changes.ended:
                logger.info(
                    "station %s: reservation %s ended (%s)",
                    self.station_id,
                    ended.reservation.reservation_id,
                    ended.reason.value,
                )
        if not self.booted:
            return
        for change in notifications:
            self._send_nowait(
                StatusNotificationRequest(
                    connector_id=change.connector_id,
                    error_code=change.error_code,
                    status=change.status,
                    timestamp=self._clock(),
                )
            )

    async def _boot_and_beat(self) -> None:
        identity = self.identity
        request = BootNotificationRequest(
            charge_point_vendor=identity.vendor,
            charge_point_model=identity.model,
            firmware_version=identity.firmware,
            charge_point_serial_number=identity.serial,
        )
        while True:
            try:
                answer = await self.call(request, BootNotificationConfirmation)
            except CallFailedError as exc:
                logger.warning("station %s: BootNotification failed: %s", self.station_id, exc)
                await asyncio.sleep(self.options.boot_retry_interval)
                continue
            interval = float(answer.interval) if answer.interval > 0 else None
            if answer.status is RegistrationStatus.ACCEPTED:
                self._heartbeat_interval = interval or self.options.heartbeat_interval
                break
            retry = interval or self.options.boot_retry_interval
            logger.info(
                "station %s: BootNotification %s; retrying in %.0f s",
                self.station_id,
                answer.status.value,
                retry,
            )
            await asyncio.sleep(retry)
        self.boot_count += 1
        self._booted.set()
        logger.info(
            "station %s: registered (heartbeat every %.0f s)",
            self.station_id,
            self._heartbeat_interval,
        )
        # After every boot the Central System learns every connector's status (Reserved
        # ones included: reservations survive reconnects).
        self.notify(self.engine.reported_statuses())
        while True:
            await asyncio.sleep(self._heartbeat_interval)
            self._send_nowait(HeartbeatRequest())

    async def _meter_loop(self) -> None:
        while True:
            await asyncio.sleep(self.options.meter_interval)
            if self.booted:
                for connector_id in list(self._transactions):
                    self._send_meter_values(connector_id)

    def _meter_reading(self, connector_id: int) -> int:
        transaction = self._transactions.get(connector_id)
        if transaction is None:
            return self._meter_wh
        elapsed = asyncio.get_running_loop().time() - transaction.started_at
        return transaction.meter_start + int(elapsed * _SIMULATED_POWER_W / 3600)

    def _send_meter_values(self, connector_id: int, context: ReadingContext | None = None) -> None:
        transaction = self._transactions.get(connector_id)
        self._send_nowait(
            MeterValuesRequest(
                connector_id=connector_id,
                transaction_id=None if transaction is None else transaction.transaction_id,
                meter_value=[
                    MeterValue(
                        timestamp=self._clock(),
                        sampled_value=[
                            SampledValue(
                                value=str(self._meter_reading(connector_id)),
                                context=context or ReadingContext.SAMPLE_PERIODIC,
                                measurand=Measurand.ENERGY_ACTIVE_IMPORT_REGISTER,
                                unit=UnitOfMeasure.WH,
                            )
                        ],
                    )
                ],
            )
        )

    async def _watch_expiry(self) -> None:
        while True:
            self._wake_expiry.clear()
            now = self._clock()
            changes = self.engine.tick(now)
            if changes.ended or changes.notifications:
                self.notify(changes)
            upcoming = self.engine.next_expiry()
            delay = None if upcoming is None else max((upcoming - now).total_seconds(), 0.0)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(delay):
                    await self._wake_expiry.wait()

    # --- what a driver does -------------------------------------------------------------

    async def authorize(self, id_tag: str) -> IdTagInfo:
        """Authorize an idTag; the parent idTag it tells is remembered by the engine."""
        answer = await self.call(AuthorizeRequest(id_tag=id_tag), AuthorizeConfirmation)
        info = answer.id_tag_info
        if info.status is AuthorizationStatus.ACCEPTED:
            self.engine.learn_parent(id_tag, info.parent_id_tag)
        return info

    def plug_in(self, connector_id: int) -> None:
        self.notify(self.engine.plug_in(connector_id))

    def unplug(self, connector_id: int) -> None:
        self.notify(self.engine.unplug(connector_id))

    def fault(
        self,
        connector_id: int,
        error_code: ChargePointErrorCode = ChargePointErrorCode.OTHER_ERROR,
    ) -> None:
        logger.info(
            "station %s: connector %s faulted (%s)", self.station_id, connector_id, error_code
        )
        self.notify(self.engine.set_fault(connector_id, error_code))

    def clear_fault(self, connector_id: int) -> None:
        logger.info("station %s: connector %s fault cleared", self.station_id, connector_id)
        self.notify(self.engine.clear_fault(connector_id))

    def set_availability(self, connector_id: int, operative: bool) -> None:
        self.notify(self.engine.change_availability(connector_id, operative))

    async def present_id_tag(
        self, id_tag: str, connector_id: int, *, authorize: bool = True
    ) -> ChargingOutcome:
        """A driver holds a card to the reader at a connector: Authorize, then charge if
        the rules allow (StartTransaction carries the reservation it uses)."""
        parent: str | None = None
        if authorize:
            try:
                info = await self.authorize(id_tag)
            except (CallFailedError, NotConnectedError) as exc:
                return ChargingOutcome(False, connector_id, id_tag, reason=str(exc))
            if info.status is not AuthorizationStatus.ACCEPTED:
                return ChargingOutcome(
                    False, connector_id, id_tag, reason=f"Authorize: {info.status.value}"
                )
            parent = info.parent_id_tag
        decision = self.engine.may_start(connector_id, id_tag, parent)
        if not decision.allowed:
            logger.info(
                "station %s: %s refused on connector %s: %s",
                self.station_id,
                id_tag,
                connector_id,
                decision.reason,
            )
            return ChargingOutcome(False, connector_id, id_tag, reason=decision.reason)
        return await self._start_transaction(connector_id, id_tag, parent)

    async def _start_transaction(
        self, connector_id: int, id_tag: str, parent: str | None
    ) -> ChargingOutcome:
        self.plug_in(connector_id)
        try:
            started = self.engine.start_transaction(connector_id, id_tag, parent)
        except ChargingRefusedError as exc:
            return ChargingOutcome(False, connector_id, id_tag, reason=str(exc))
        loop = asyncio.get_running_loop()
        meter_start = self._meter_wh
        request = StartTransactionRequest(
            connector_id=connector_id,
            id_tag=id_tag,
            meter_start=meter_start,
            timestamp=self._clock(),
            reservation_id=started.reservation_id,
        )
        self.notify(started)
        try:
            answer = await self.call(request, StartTransactionConfirmation)
        except (CallFailedError, NotConnectedError) as exc:
            # A real station would queue it; the simulator gives the transaction up.
            self.notify(self.engine.stop_transaction(connector_id))
            self.unplug(connector_id)
            return ChargingOutcome(False, connector_id, id_tag, reason=str(exc))
        self._transactions[connector_id] = _Transaction(
            answer.transaction_id, id_tag, meter_start, loop.time(), started.reservation_id
        )
        logger.info(
            "station %s: transaction %s started on connector %s for %s%s",
            self.station_id,
            answer.transaction_id,
            connector_id,
            id_tag,
            "" if started.reservation_id is None else f" (reservation {started.reservation_id})",
        )
        if answer.id_tag_info.status is not AuthorizationStatus.ACCEPTED:
            await self.stop_transaction(connector_id, StopReason.DE_AUTHORIZED)
            return ChargingOutcome(
                False,
                connector_id,
                id_tag,
                answer.transaction_id,
                started.reservation_id,
                reason=f"StartTransaction: {answer.id_tag_info.status.value}",
            )
        return ChargingOutcome(
            True, connector_id, id_tag, answer.transaction_id, started.reservation_id
        )

    async def stop_transaction(
        self,
        connector_id: int,
        reason: StopReason = StopReason.LOCAL,
        *,
        unplug: bool = True,
    ) -> bool:
        """End the transaction on a connector (and take the cable out); False if none."""
        transaction = self._transactions.pop(connector_id, None)
        if transaction is None:
            return False
        meter_stop = self._meter_reading_for(transaction)
        self._meter_wh = max(self._meter_wh, meter_stop)
        self.notify(self.engine.stop_transaction(connector_id))
        request = StopTransactionRequest(
            meter_stop=meter_stop,
            timestamp=self._clock(),
            transaction_id=transaction.transaction_id,
            id_tag=transaction.id_tag,
            reason=reason,
        )
        try:
            await self.call(request, OcppModel)
        except (CallFailedError, NotConnectedError) as exc:
            logger.warning("station %s: StopTransaction not delivered: %s", self.station_id, exc)
        logger.info(
            "station %s: transaction %s stopped on connector %s (%s)",
            self.station_id,
            transaction.transaction_id,
            connector_id,
            reason.value,
        )
        if unplug:
            self.unplug(connector_id)
        return True

    def _meter_reading_for(self, transaction: _Transaction) -> int:
        elapsed = asyncio.get_running_loop().time() - transaction.started_at
        return transaction.meter_start + int(elapsed * _SIMULATED_POWER_W / 3600)

    # --- the Central System's calls -----------------------------------------------------

    def _answer(self, link: _StationLink, event: CallReceived) -> None:
        """Answer a call of the Central System's (an exception answers InternalError)."""
        confirmation, after = self._dispatch(event.request)
        if self.options.answer_delay > 0:
            handle = asyncio.get_running_loop().call_later(
                self.options.answer_delay,
                self._deliver,
                link,
                event.message_id,
                confirmation,
                after,
            )
            link.delayed_answers[event.message_id] = handle
        else:
            self._deliver(link, event.message_id, confirmation, after)

    def _deliver(
        self,
        link: _StationLink,
        message_id: str,
        confirmation: OcppModel,
        after: Callable[[], None] | None,
    ) -> None:
        link.delayed_answers.pop(message_id, None)
        if self._link is not link:
            logger.info("station %s: answer dropped, connection gone", self.station_id)
            return
        link.respond(message_id, confirmation)
        if after is not None:
            after()

    def _dispatch(self, request: OcppModel) -> tuple[OcppModel, Callable[[], None] | None]:
        """The answer to a call, and what to do once it is sent."""
        if isinstance(request, ReserveNowRequest):
            return self._on_reserve_now(request)
        if isinstance(request, CancelReservationRequest):
            result = self.engine.cancel_reservation(request.reservation_id)
            logger.info(
                "station %s: CancelReservation %s -> %s",
                self.station_id,
                request.reservation_id,
                result.status.value,
            )
            return CancelReservationConfirmation(status=result.status), lambda: self.notify(result)
        if isinstance(request, GetConfigurationRequest):
            return self._on_get_configuration(request), None
        if isinstance(request, ChangeAvailabilityRequest):
            operative = request.type is AvailabilityType.OPERATIVE
            availability = self.engine.change_availability(request.connector_id, operative)
            return (
                ChangeAvailabilityConfirmation(status=availability.status),
                lambda: self.notify(availability),
            )
        if isinstance(request, TriggerMessageRequest):
            return self._on_trigger(request)
        if isinstance(request, RemoteStartTransactionRequest):
            return self._on_remote_start(request)
        if isinstance(request, RemoteStopTransactionRequest):
            return self._on_remote_stop(request)
        return DataTransferConfirmation(status=DataTransferStatus.UNKNOWN_VENDOR_ID), None

    def _on_reserve_now(
        self, request: ReserveNowRequest
    ) -> tuple[OcppModel, Callable[[], None] | None]:
        result = self.engine.reserve_now(request, self._clock())
        logger.info(
            "station %s: ReserveNow %s (connector %s, %s) -> %s",
            self.station_id,
            request.reservation_id,
            request.connector_id,
            request.id_tag,
            result.status.value,
        )
        self._wake_expiry.set()

        def after() -> None:
            self.notify(result)
            reservation = self.engine.reservation(request.reservation_id)
            if (
                result.status is ReservationStatus.ACCEPTED
                and reservation is not None
                and self.on_reservation_accepted is not None
            ):
                self.on_reservation_accepted(reservation)

        return ReserveNowConfirmation(status=result.status), after

    def _configuration(self) -> dict[str, tuple[str, bool]]:
        engine = self.engine
        profiles = _SUPPORTED_PROFILES if engine.reservations_enabled else "Core,RemoteTrigger"
        return {
            "ReserveConnectorZeroSupported": (
                "true" if engine.reserve_connector_zero_supported else "false",
                True,
            ),
            "NumberOfConnectors": (str(engine.number_of_connectors), True),
            "HeartbeatInterval": (str(int(self._heartbeat_interval)), False),
            "MeterValueSampleInterval": (str(int(self.options.meter_interval)), False),
            "SupportedFeatureProfiles": (profiles, True),
        }

    def _on_get_configuration(self, request: GetConfigurationRequest) -> OcppModel:
        known = self._configuration()
        by_folded = {key.casefold(): key for key in known}
        wanted = request.key if request.key else list(known)
        found: list[KeyValue] = []
        unknown: list[str] = []
        for key in wanted:
            name = by_folded.get(key.casefold())
            if name is None:
                unknown.append(key)
            else:
                value, readonly = known[name]
                found.append(KeyValue(key=name, readonly=readonly, value=value))
        return GetConfigurationConfirmation(
            configuration_key=found or None, unknown_key=unknown or None
        )

    def _on_trigger(
        self, request: TriggerMessageRequest
    ) -> tuple[OcppModel, Callable[[], None] | None]:
        connector_id = request.connector_id
        if connector_id is not None and connector_id > self.engine.number_of_connectors:
            return TriggerMessageConfirmation(status=TriggerMessageStatus.REJECTED), None
        wanted = request.requested_message
        after: Callable[[], None]
        if wanted is MessageTrigger.STATUS_NOTIFICATION:
            statuses = self.engine.reported_statuses()
            chosen = tuple(
                s for s in statuses if connector_id is None or s.connector_id == connector_id
            )
            after = lambda: self.notify(chosen)  # noqa: E731
        elif wanted is MessageTrigger.HEARTBEAT:
            after = lambda: self._send_nowait(HeartbeatRequest())  # noqa: E731
        elif wanted is MessageTrigger.BOOT_NOTIFICATION:
            identity = self.identity
            boot = BootNotificationRequest(
                charge_point_vendor=identity.vendor,
                charge_point_model=identity.model,
                firmware_version=identity.firmware,
                charge_point_serial_number=identity.serial,
            )
            after = lambda: self._send_nowait(boot)  # noqa: E731
        elif wanted is MessageTrigger.METER_VALUES:
            connectors = [connector_id] if connector_id is not None else list(self._transactions)

            def after() -> None:
                for c in connectors or [0]:
                    self._send_meter_values(c, ReadingContext.TRIGGER)

        elif wanted is MessageTrigger.DIAGNOSTICS_STATUS_NOTIFICATION:
            idle_diagnostics = DiagnosticsStatusNotificationRequest(status=DiagnosticsStatus.IDLE)
            after = lambda: self._send_nowait(idle_diagnostics)  # noqa: E731
        else:
            idle_firmware = FirmwareStatusNotificationRequest(status=FirmwareStatus.IDLE)
            after = lambda: self._send_nowait(idle_firmware)  # noqa: E731
        return TriggerMessageConfirmation(status=TriggerMessageStatus.ACCEPTED), after

    def _on_remote_start(
        self, request: RemoteStartTransactionRequest
    ) -> tuple[OcppModel, Callable[[], None] | None]:
        candidates = (
            [request.connector_id]
            if request.connector_id is not None
            else list(self.engine.connector_ids)
        )
        chosen = next(
            (
                c
                for c in candidates
                if c <= self.engine.number_of_connectors
                and self.engine.may_start(c, request.id_tag).allowed
            ),
            None,
        )
        if chosen is None:
            return RemoteStartTransactionConfirmation(status=RemoteStartStopStatus.REJECTED), None
        id_tag = request.id_tag
        return (
            RemoteStartTransactionConfirmation(status=RemoteStartStopStatus.ACCEPTED),
            lambda: self._spawn_and_forget(
                self._start_transaction(chosen, id_tag, None), "remote start"
            ),
        )

    def _on_remote_stop(
        self, request: RemoteStopTransactionRequest
    ) -> tuple[OcppModel, Callable[[], None] | None]:
        chosen = next(
            (
                c
                for c, t in self._transactions.items()
                if t.transaction_id == request.transaction_id
            ),
            None,
        )
        if chosen is None:
            return RemoteStopTransactionConfirmation(status=RemoteStartStopStatus.REJECTED), None
        return (
            RemoteStopTransactionConfirmation(status=RemoteStartStopStatus.ACCEPTED),
            lambda: self._spawn_and_forget(
                self.stop_transaction(chosen, StopReason.REMOTE), "remote stop"
            ),
        )

    def _spawn_and_forget(self, coroutine: Coroutine[Any, Any, Any], what: str) -> None:
        self._spawn(coroutine, what)
