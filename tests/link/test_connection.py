"""The connection shell both sides use: two real links over a WebSocket on 127.0.0.1."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from typing import TypeVar

import pytest
from websockets.asyncio.client import connect
from websockets.asyncio.connection import Connection
from websockets.asyncio.server import ServerConnection, serve
from websockets.typing import Subprotocol

from console.link import CallOutcome, OcppLink
from console.ocpp.base import OcppModel
from console.ocpp.enums import (
    ChargePointErrorCode,
    ChargePointStatus,
    MessageTrigger,
    RegistrationStatus,
    TriggerMessageStatus,
)
from console.ocpp.errors import ErrorCode
from console.ocpp.features import Role
from console.ocpp.frames import MessageType
from console.ocpp.messages import (
    BootNotificationConfirmation,
    BootNotificationRequest,
    GetConfigurationConfirmation,
    GetConfigurationRequest,
    HeartbeatConfirmation,
    HeartbeatRequest,
    StatusNotificationConfirmation,
    StatusNotificationRequest,
    TriggerMessageConfirmation,
    TriggerMessageRequest,
)
from console.ocpp.session import (
    CallAborted,
    CallReceived,
    CallTimedOut,
    ErrorReceived,
    Event,
    LateAnswer,
    OutgoingFrame,
    ResultReceived,
    Session,
)

pytestmark = pytest.mark.asyncio

WAIT = 10.0
NOW = datetime(2030, 1, 1, tzinfo=UTC)
BOOT = BootNotificationRequest(charge_point_vendor="Vendor", charge_point_model="Model")
BOOTED = BootNotificationConfirmation(
    current_time=NOW, interval=300, status=RegistrationStatus.ACCEPTED
)

T = TypeVar("T")
Answer = Callable[[OcppModel], OcppModel]


async def within(awaitable: Awaitable[T]) -> T:
    async with asyncio.timeout(WAIT):
        return await awaitable


def keys_echoed(*keys: str) -> GetConfigurationConfirmation:
    """The answer the station gives a GetConfiguration of ``keys`` (tells calls apart)."""
    return GetConfigurationConfirmation(unknown_key=list(keys))


def echo_keys(request: OcppModel) -> OcppModel:
    assert isinstance(request, GetConfigurationRequest)
    return keys_echoed(*(request.key or ()))


class RecordingLink(OcppLink):
    """A link that answers the actions it has an answer for and holds the others for the
    test to answer; it keeps every event and every frame it writes."""

    def __init__(
        self, websocket: Connection, role: Role, answers: dict[str, Answer], call_timeout: float
    ) -> None:
        super().__init__(websocket, Session(role, call_timeout=call_timeout), name=str(role))
        self.answers = answers
        self.after_answer: dict[str, Callable[[], None]] = {}
        self.held: asyncio.Queue[CallReceived] = asyncio.Queue()
        self.events: list[Event] = []
        self.frames_out: list[OutgoingFrame] = []
        self.ended: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self.gate: asyncio.Future[None] | None = None
        """While set and not done, the link reads no frame (see ``_read_gate``)."""

    def _read_gate(self) -> asyncio.Future[None] | None:
        return self.gate if self.gate is not None and not self.gate.done() else None

    def _answer_call(self, event: CallReceived) -> None:
        answer = self.answers.get(event.action)
        if answer is None:
            self.held.put_nowait(event)
            return
        self.respond(event.message_id, answer(event.request))
        after = self.after_answer.get(event.action)
        if after is not None:
            after()

    def _observe(self, event: Event) -> None:
        self.events.append(event)

    def _frame_out(self, frame: OutgoingFrame) -> None:
        self.frames_out.append(frame)

    async def run_to_end(self) -> None:
        self.ended.set_result(await self.run())

    async def next_held(self) -> CallReceived:
        return await within(self.held.get())


class CentralSide(RecordingLink):
    peer_name = "the station"
    own_name = "the console"


class StationSide(RecordingLink):
    peer_name = "the Central System"
    own_name = "the station"


@contextlib.asynccontextmanager
async def link_pair(
    *, central_timeout: float = 5.0, station_timeout: float = 5.0
) -> AsyncIterator[tuple[CentralSide, StationSide]]:
    """A Central System's link and a station's link, connected over a real socket.

    The console answers Heartbeat and holds everything else; the station answers
    GetConfiguration (echoing the keys) and holds everything else.
    """
    accepted: asyncio.Queue[CentralSide] = asyncio.Queue()

    async def handler(websocket: ServerConnection) -> None:
        link = CentralSide(
            websocket,
            Role.CENTRAL_SYSTEM,
            {"Heartbeat": lambda _: HeartbeatConfirmation(current_time=NOW)},
            central_timeout,
        )
        await accepted.put(link)
        await link.run_to_end()

    server = await serve(
        handler, "127.0.0.1", 0, subprotocols=[Subprotocol("ocpp1.6")], compression=None
    )
    port = next(iter(server.sockets)).getsockname()[1]
    try:
        websocket = await within(
            connect(
                f"ws://127.0.0.1:{port}/CP-1",
                subprotocols=[Subprotocol("ocpp1.6")],
                compression=None,
            )
        )
        station = StationSide(
            websocket, Role.CHARGE_POINT, {"GetConfiguration": echo_keys}, station_timeout
        )
        reading = asyncio.create_task(station.run_to_end())
        central = await within(accepted.get())
        try:
            yield central, station
        finally:
            await station.close("test over")
            await within(reading)
            await within(central.ended)
    finally:
        server.close()
        await server.wait_closed()


def received(link: RecordingLink) -> list[str]:
    """The actions of the peer's calls the link took, in order."""
    return [e.action for e in link.events if isinstance(e, CallReceived)]


# --- calls in both directions ---------------------------------------------------------------


async def test_the_reader_answers_calls_while_its_own_call_waits() -> None:
    async with link_pair() as (central, station):
        boot = asyncio.ensure_future(station.call(BOOT))
        held = await central.next_held()
        assert held.action == "BootNotification"
        assert held.request == BOOT
        # The station waits for its boot answer, and still reads and answers.
        for key in ("a", "b", "c"):
            outcome = await within(central.call(GetConfigurationRequest(key=[key])))
            assert outcome.confirmation == keys_echoed(key)
        assert not boot.done()
        central.respond(held.message_id, BOOTED)
        outcome = await within(boot)
        assert outcome.confirmation == BOOTED
        assert outcome.message_id == held.message_id
        assert outcome.latency is not None
        assert outcome.latency >= 0


async def test_calls_cross_one_outstanding_each_way() -> None:
    async with link_pair() as (central, station):
        del station.answers["GetConfiguration"]  # held too
        boot = asyncio.ensure_future(station.call(BOOT))
        held_boot = await central.next_held()
        config = asyncio.ensure_future(central.call(GetConfigurationRequest(key=["x"])))
        held_config = await station.next_held()
        # Both directions have a call outstanding at once.
        assert station.session.outstanding is not None
        assert central.session.outstanding is not None
        station.respond(held_config.message_id, keys_echoed("x"))
        central.respond(held_boot.message_id, BOOTED)
        assert (await within(config)).confirmation == keys_echoed("x")
        assert (await within(boot)).confirmation == BOOTED


async def test_a_second_call_waits_until_the_first_is_answered() -> None:
    async with link_pair() as (central, station):
        del station.answers["GetConfiguration"]
        first = asyncio.ensure_future(central.call(GetConfigurationRequest(key=["first"])))
        second = asyncio.ensure_future(central.call(GetConfigurationRequest(key=["second"])))
        held_first = await station.next_held()
        assert central.session.queued == 1
        # A round trip the other way: had the second call been written, it would have
        # come in before this answer.
        heartbeat = await within(station.call(HeartbeatRequest()))
        assert heartbeat.confirmation == HeartbeatConfirmation(current_time=NOW)
        assert station.held.empty()
        assert received(station) == ["GetConfiguration"]
        station.respond(held_first.message_id, keys_echoed("first"))
        assert (await within(first)).confirmation == keys_echoed("first")
        held_second = await station.next_held()
        assert held_second.request == GetConfigurationRequest(key=["second"])
        station.respond(held_second.message_id, keys_echoed("second"))
        assert (await within(second)).confirmation == keys_echoed("second")


async def test_a_call_without_waiting_resolves_its_future() -> None:
    async with link_pair() as (_, station):
        future = station.start_call(HeartbeatRequest())
        outcome = await within(future)
        assert outcome.confirmation == HeartbeatConfirmation(current_time=NOW)
        assert isinstance(outcome.ended_by, ResultReceived)


# --- timeouts and late answers ----------------------------------------------------------------


async def test_a_late_answer_goes_to_its_handler_and_not_to_the_next_call() -> None:
    async with link_pair(central_timeout=0.2) as (central, station):
        del station.answers["GetConfiguration"]
        late: list[LateAnswer] = []
        got_late = asyncio.Event()

        def on_late(answer: LateAnswer) -> None:
            late.append(answer)
            got_late.set()

        first = await within(central.call(GetConfigurationRequest(key=["first"]), on_late=on_late))
        assert first.timed_out
        assert first.error == "no answer within 0.2 s"
        assert isinstance(first.ended_by, CallTimedOut)
        held_first = await station.next_held()
        second = asyncio.ensure_future(
            central.call(GetConfigurationRequest(key=["second"]), call_timeout=WAIT)
        )
        held_second = await station.next_held()
        # The first answer comes while the second call is outstanding.
        station.respond(held_first.message_id, keys_echoed("first"))
        await within(got_late.wait())
        (answer,) = late
        assert answer.call.message_id == first.message_id == held_first.message_id
        assert answer.confirmation == keys_echoed("first")
        assert not second.done()
        station.respond(held_second.message_id, keys_echoed("second"))
        outcome = await within(second)
        assert outcome.confirmation == keys_echoed("second")
        assert outcome.message_id == held_second.message_id
        assert late == [answer]


async def test_an_answer_nobody_waits_for_any_more_goes_to_the_late_handler() -> None:
    async with link_pair() as (central, station):
        del station.answers["GetConfiguration"]
        late: list[LateAnswer] = []
        got_late = asyncio.Event()

        def on_late(answer: LateAnswer) -> None:
            late.append(answer)
            got_late.set()

        waiting = asyncio.ensure_future(
            central.call(GetConfigurationRequest(key=["k"]), on_late=on_late)
        )
        held = await station.next_held()
        waiting.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await waiting
        station.respond(held.message_id, keys_echoed("k"))
        await within(got_late.wait())
        assert [a.confirmation for a in late] == [keys_echoed("k")]


# --- answers ----------------------------------------------------------------------------------


async def test_a_failing_handler_answers_internal_error() -> None:
    def broken(_: OcppModel) -> OcppModel:
        raise RuntimeError("boom")

    async with link_pair() as (central, station):
        station.answers["GetConfiguration"] = broken
        outcome = await within(central.call(GetConfigurationRequest()))
        assert outcome.error_code == ErrorCode.INTERNAL_ERROR.value
        assert outcome.error == "the station failed handling GetConfiguration"
        assert isinstance(outcome.ended_by, ErrorReceived)


async def test_frames_leave_in_the_order_they_were_made() -> None:
    status = StatusNotificationRequest(
        connector_id=1,
        error_code=ChargePointErrorCode.NO_ERROR,
        status=ChargePointStatus.AVAILABLE,
    )
    async with link_pair() as (central, station):
        station.answers["TriggerMessage"] = lambda _: TriggerMessageConfirmation(
            status=TriggerMessageStatus.ACCEPTED
        )
        sent: list[asyncio.Future[CallOutcome]] = []
        station.after_answer["TriggerMessage"] = lambda: sent.append(station.start_call(status))
        trigger = TriggerMessageRequest(requested_message=MessageTrigger.STATUS_NOTIFICATION)
        outcome = await within(central.call(trigger))
        assert outcome.confirmation == TriggerMessageConfirmation(
            status=TriggerMessageStatus.ACCEPTED
        )
        held = await central.next_held()
        assert held.request == status
        # The answer was written before the call made right after it, and each frame
        # written carries its model.
        written = [(f.message_type, f.action, f.message) for f in station.frames_out]
        assert written[-2:] == [
            (MessageType.CALL_RESULT, "TriggerMessage", outcome.confirmation),
            (MessageType.CALL, "StatusNotification", status),
        ]
        answered = [e for e in central.events if isinstance(e, ResultReceived | CallReceived)]
        assert [type(e) for e in answered[-2:]] == [ResultReceived, CallReceived]
        central.respond(held.message_id, StatusNotificationConfirmation())
        assert (await within(sent[0])).confirmation == StatusNotificationConfirmation()


# --- the end of a connection ------------------------------------------------------------------


async def test_closing_aborts_waiting_calls_and_says_why() -> None:
    async with link_pair() as (central, station):
        del station.answers["GetConfiguration"]
        waiting = asyncio.ensure_future(central.call(GetConfigurationRequest()))
        queued = asyncio.ensure_future(central.call(GetConfigurationRequest(key=["q"])))
        await station.next_held()
        await station.close("going away")
        sent_one, queued_one = await within(asyncio.gather(waiting, queued))
        assert sent_one.aborted
        assert sent_one.sent
        assert queued_one.aborted
        assert not queued_one.sent
        assert await within(station.ended) == "going away"
        reason = await within(central.ended)
        assert reason == "closed by the station with 1000 (going away)"
        assert sent_one.error == reason
        assert isinstance(sent_one.ended_by, CallAborted)
        # A call on an ended link is never made.
        late = await within(central.call(GetConfigurationRequest()))
        assert late.aborted
        assert not late.sent
        assert late.error == reason
        assert late.ended_by is None


async def test_the_tasks_of_a_connection_end_with_it() -> None:
    never = asyncio.Event()
    async with link_pair() as (central, station):
        task = central.spawn(never.wait(), name="waits forever")
        await station.close("bye")
        await within(central.ended)
        with pytest.raises(asyncio.CancelledError):
            await within(task)
        after = central.spawn(never.wait())
        with pytest.raises(asyncio.CancelledError):
            await within(after)
    await station.end_tasks()


# --- holding back a peer ----------------------------------------------------------------------


async def test_a_read_gate_holds_the_peers_frames_until_it_opens() -> None:
    async with link_pair() as (central, station):
        # The gate is looked at before each read: one frame lets the reader past the
        # read that was already waiting when the gate closed.
        central.gate = asyncio.get_running_loop().create_future()
        first = await within(station.call(HeartbeatRequest()))
        assert first.confirmation is not None
        held = station.start_call(HeartbeatRequest())
        done, _ = await asyncio.wait({held}, timeout=0.3)
        assert not done  # not read, so not answered
        assert received(central) == ["Heartbeat"]
        central.gate.set_result(None)
        outcome = await within(held)
        assert outcome.confirmation is not None
        assert received(central) == ["Heartbeat", "Heartbeat"]
