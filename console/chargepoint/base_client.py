"""What every station client shares, whatever OCPP version it speaks.

:class:`BaseStationClient` is one station's life on the wire: it connects to
``<url>/<station id>`` offering its version's subprotocol (``ws://`` or ``wss://``, HTTP
Basic, client certificates), reconnects with a doubling backoff, follows the Central System
to a new URL (:meth:`~BaseStationClient.retarget`), goes offline and online on request,
boots and beats, answers the Central System's calls (after a delay, for a slow station),
makes its own calls, and owns every task it starts. One watcher per station ends expired
reservations, online or not.

A subclass brings the version: its BootNotification, its Heartbeat, what it reports after
a boot, its answers (:meth:`~BaseStationClient._dispatch`) and its reservation engine's
expiry. The 1.6 client is :class:`~console.chargepoint.client.StationClient`, the 2.0.1
one :class:`~console.chargepoint.client201.StationClient201`.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import ssl
from abc import ABC, abstractmethod
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar, TypeVar
from urllib.parse import quote

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidHandshake, InvalidURI
from websockets.typing import Subprotocol

from console.link import CallOutcome, OcppLink
from console.ocpp.base import OcppModel
from console.ocpp.features import Role
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
from console.ocpp.versions import OcppVersion

__all__ = [
    "Answer",
    "BaseStationClient",
    "CallFailedError",
    "ClientOptions",
    "NotConnectedError",
    "Registration",
    "StationIdentity",
    "client_ssl_context",
    "station_url",
]

logger = logging.getLogger(__name__)

ConfirmationT = TypeVar("ConfirmationT", bound=OcppModel)

Answer = tuple[OcppModel, Callable[[], None] | None]
"""The answer to a call of the Central System's, and what to do once it is sent."""


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
class Registration:
    """What a BootNotification answer says, in any version."""

    accepted: bool
    interval: int
    status: str


class _StationLink(OcppLink):
    """One connection of a station: the link, answering with the station's rules."""

    peer_name = "the Central System"
    own_name = "the station"

    def __init__(
        self,
        station_id: str,
        websocket: ClientConnection,
        *,
        version: OcppVersion,
        call_timeout: float,
        answer: Callable[[_StationLink, CallReceived], None],
    ) -> None:
        super().__init__(
            websocket,
            Session(Role.CHARGE_POINT, call_timeout=call_timeout, version=version),
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


def utc_now() -> datetime:
    return datetime.now(UTC)


class BaseStationClient(ABC):
    """One station of some OCPP version: connection, boot, heartbeat, calls and answers."""

    version: ClassVar[OcppVersion]
    _boot_answer: ClassVar[type[OcppModel]]

    def __init__(
        self,
        url: str,
        station_id: str,
        *,
        identity: StationIdentity | None = None,
        password: str | None = None,
        ssl_context: ssl.SSLContext | None = None,
        options: ClientOptions | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.url = url
        self.station_id = station_id
        self.identity = identity or StationIdentity()
        self.options = options or ClientOptions()
        self._password = password
        self._ssl = ssl_context
        self._clock = clock
        self._heartbeat_interval = self.options.heartbeat_interval
        self._link: _StationLink | None = None
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

    # --- what a version supplies --------------------------------------------------------

    @abstractmethod
    def _boot_request(self) -> OcppModel:
        """The BootNotification to send."""

    @abstractmethod
    def _registration(self, answer: OcppModel) -> Registration:
        """What the BootNotification answer says."""

    @abstractmethod
    def _heartbeat_request(self) -> OcppModel:
        """A Heartbeat."""

    @abstractmethod
    def _after_boot(self) -> None:
        """Report what the Central System must learn after every boot."""

    @abstractmethod
    def _dispatch(self, request: OcppModel) -> Answer:
        """The answer to a call of the Central System's, and what to do once it is sent."""

    @abstractmethod
    def _expire(self, now: datetime) -> datetime | None:
        """End what expired by ``now`` and report it; when the next reservation expires."""

    @abstractmethod
    def _meter_tick(self) -> None:
        """The periodic meter values (while registered)."""

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

    def _spawn_and_forget(self, coroutine: Coroutine[Any, Any, Any], what: str) -> None:
        self._spawn(coroutine, what)

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
        subprotocol = self.version.subprotocol
        while not self._stopping:
            await self._online.wait()
            self._reconnect_now.clear()
            url = station_url(self.url, self.station_id)  # read each time: see retarget()
            try:
                websocket = await connect(
                    url,
                    subprotocols=[Subprotocol(subprotocol)],
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
            if websocket.subprotocol != subprotocol:
                logger.warning(
                    "station %s: the Central System did not confirm subprotocol %s",
                    self.station_id,
                    subprotocol,
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
            version=self.version,
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

    async def _boot_and_beat(self) -> None:
        request = self._boot_request()
        while True:
            try:
                answer = await self.call(request, self._boot_answer)
            except CallFailedError as exc:
                logger.warning("station %s: BootNotification failed: %s", self.station_id, exc)
                await asyncio.sleep(self.options.boot_retry_interval)
                continue
            registration = self._registration(answer)
            interval = float(registration.interval) if registration.interval > 0 else None
            if registration.accepted:
                self._heartbeat_interval = interval or self.options.heartbeat_interval
                break
            retry = interval or self.options.boot_retry_interval
            logger.info(
                "station %s: BootNotification %s; retrying in %.0f s",
                self.station_id,
                registration.status,
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
        self._after_boot()
        while True:
            await asyncio.sleep(self._heartbeat_interval)
            self._send_nowait(self._heartbeat_request())

    async def _meter_loop(self) -> None:
        while True:
            await asyncio.sleep(self.options.meter_interval)
            if self.booted:
                self._meter_tick()

    async def _watch_expiry(self) -> None:
        while True:
            self._wake_expiry.clear()
            now = self._clock()
            upcoming = self._expire(now)
            delay = None if upcoming is None else max((upcoming - now).total_seconds(), 0.0)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(delay):
                    await self._wake_expiry.wait()

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
