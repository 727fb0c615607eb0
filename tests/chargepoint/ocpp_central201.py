"""A 2.0.1 CSMS written with the third-party ``ocpp`` package, for testing our 2.0.1 stations.

The ``ocpp`` package validates every message in both directions against the official
OCPP 2.0.1 JSON schemas (its validation is left on), so a station message that breaks them
never reaches a handler here and the test waiting for it fails. Besides, every raw frame a
station sends is kept (:attr:`CentralState201.frames`) and checked once more at the end of
each test, with ``jsonschema`` against the vendored schemas and with our own checker.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import cache
from importlib import resources
from typing import Any

import jsonschema
from ocpp.routing import on
from ocpp.v201 import ChargePoint, call_result
from ocpp.v201.enums import Action
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from console.ocpp.schema import station_frame_problems
from console.ocpp.versions import OcppVersion

WAIT = 10.0


def stamp(after: timedelta = timedelta()) -> str:
    """A UTC date as OCPP sends it, ``after`` from now."""
    return (datetime.now(UTC) + after).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Received:
    station_id: str
    action: str
    payload: dict[str, Any]


@dataclass(frozen=True)
class Frame:
    """A raw frame a station sent; ``answers``: the action of our call it answers."""

    station_id: str
    text: str
    answers: str | None


@cache
def _validator(name: str) -> jsonschema.Draft4Validator:
    folder = resources.files("console.ocpp") / "schemas" / "v201"
    document = json.loads((folder / f"{name}.json").read_text(encoding="utf-8"))
    return jsonschema.Draft4Validator(document)


def frame_problems(frame: Frame) -> list[str]:
    """What is wrong with a station's frame: by ``jsonschema`` (Draft 4, as the ``ocpp``
    package) against the vendored 2.0.1 schemas, and by our own checker."""
    problems = station_frame_problems(frame.text, frame.answers, OcppVersion.V201)
    message = json.loads(frame.text, parse_float=Decimal)
    if message[0] == 2:
        name, payload = f"{message[2]}Request", message[3]
    elif message[0] == 3 and frame.answers is not None:
        name, payload = f"{frame.answers}Response", message[2]
    else:
        return problems
    problems += [error.message for error in _validator(name).iter_errors(payload)]
    return problems


@dataclass
class CentralState201:
    """What the ocpp-package CSMS answers, and everything it received."""

    boot_status: str = "Accepted"
    heartbeat_interval: int = 300
    groups: dict[str, str] = field(default_factory=dict)  # idToken (upper) -> groupIdToken
    refused_tokens: set[str] = field(default_factory=set)  # upper
    received: list[Received] = field(default_factory=list)
    frames: list[Frame] = field(default_factory=list)
    connections: dict[str, list[OcppCentral201]] = field(default_factory=dict)
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    def record(self, station_id: str, action: str, payload: dict[str, Any]) -> None:
        self.received.append(Received(station_id, action, payload))
        self.changed.set()

    def messages(self, station_id: str, action: str) -> list[dict[str, Any]]:
        return [
            r.payload for r in self.received if r.station_id == station_id and r.action == action
        ]

    def mark(self) -> int:
        """A point in what was received: :meth:`wait_message` ``since`` it."""
        return len(self.received)

    async def wait_for(self, predicate: Callable[[], Any], within: float = WAIT) -> Any:
        """Until ``predicate()`` is truthy (checked after every message); returns it."""
        async with asyncio.timeout(within):
            while True:
                self.changed.clear()
                result = predicate()
                if result:
                    return result
                await self.changed.wait()

    async def wait_message(
        self,
        station_id: str,
        action: str,
        match: Callable[[dict[str, Any]], bool] = lambda _: True,
        within: float = WAIT,
        since: int = 0,
    ) -> dict[str, Any]:
        def find() -> list[dict[str, Any]] | None:
            for r in self.received[since:]:
                if r.station_id == station_id and r.action == action and match(r.payload):
                    return [r.payload]  # a list: an empty payload is a message all the same
            return None

        found: list[dict[str, Any]] = await self.wait_for(find, within)
        return found[0]

    async def wait_status(
        self,
        station_id: str,
        evse_id: int,
        connector_id: int,
        status: str,
        within: float = WAIT,
        since: int = 0,
    ) -> dict[str, Any]:
        return await self.wait_message(
            station_id,
            "StatusNotification",
            lambda p: (
                (p["evse_id"], p["connector_id"], p["connector_status"])
                == (evse_id, connector_id, status)
            ),
            within,
            since,
        )

    def statuses(self, station_id: str, since: int = 0) -> list[tuple[int, int, str]]:
        """(evseId, connectorId, status) of every StatusNotification since a mark."""
        return [
            (r.payload["evse_id"], r.payload["connector_id"], r.payload["connector_status"])
            for r in self.received[since:]
            if r.station_id == station_id and r.action == "StatusNotification"
        ]

    async def connection(self, station_id: str, number: int = 1) -> OcppCentral201:
        """The ``number``-th connection of a station (1: the first), once it is there."""
        found: OcppCentral201 = await self.wait_for(
            lambda: (
                len(self.connections.get(station_id, [])) >= number
                and self.connections[station_id][number - 1]
            )
        )
        return found


class OcppCentral201(ChargePoint):  # type: ignore[misc]
    """The CSMS side of one 2.0.1 station's connection, built on ``ocpp``."""

    def __init__(self, station_id: str, connection: Any, state: CentralState201) -> None:
        super().__init__(station_id, connection, response_timeout=WAIT)
        self.state = state
        self._our_calls: dict[str, str] = {}  # message id -> action

    async def route_message(self, raw_msg: str) -> None:
        message = json.loads(raw_msg)
        answers = self._our_calls.get(message[1]) if message[0] in (3, 4) else None
        self.state.frames.append(Frame(self.id, raw_msg, answers))
        await super().route_message(raw_msg)

    async def _send(self, message: str) -> None:
        frame = json.loads(message)
        if frame[0] == 2:
            self._our_calls[frame[1]] = frame[2]
        await super()._send(message)

    def _record(self, action: str, payload: dict[str, Any]) -> None:
        self.state.record(self.id, action, payload)

    def _id_token_info(self, id_token: str) -> dict[str, Any]:
        key = id_token.upper()
        info: dict[str, Any] = {
            "status": "Invalid" if key in self.state.refused_tokens else "Accepted"
        }
        group = self.state.groups.get(key)
        if group is not None:
            info["group_id_token"] = {"id_token": group, "type": "Central"}
        return info

    @on(Action.boot_notification)
    def on_boot_notification(self, **payload: Any) -> Any:
        self._record("BootNotification", payload)
        return call_result.BootNotification(
            current_time=stamp(),
            interval=self.state.heartbeat_interval,
            status=self.state.boot_status,
        )

    @on(Action.heartbeat)
    def on_heartbeat(self, **payload: Any) -> Any:
        self._record("Heartbeat", payload)
        return call_result.Heartbeat(current_time=stamp())

    @on(Action.status_notification)
    def on_status_notification(self, **payload: Any) -> Any:
        self._record("StatusNotification", payload)
        return call_result.StatusNotification()

    @on(Action.notify_event)
    def on_notify_event(self, **payload: Any) -> Any:
        self._record("NotifyEvent", payload)
        return call_result.NotifyEvent()

    @on(Action.notify_report)
    def on_notify_report(self, **payload: Any) -> Any:
        self._record("NotifyReport", payload)
        return call_result.NotifyReport()

    @on(Action.authorize)
    def on_authorize(self, **payload: Any) -> Any:
        self._record("Authorize", payload)
        return call_result.Authorize(
            id_token_info=self._id_token_info(payload["id_token"]["id_token"])
        )

    @on(Action.transaction_event)
    def on_transaction_event(self, **payload: Any) -> Any:
        self._record("TransactionEvent", payload)
        token = payload.get("id_token")
        if token is None:
            return call_result.TransactionEvent()
        return call_result.TransactionEvent(id_token_info=self._id_token_info(token["id_token"]))

    @on(Action.meter_values)
    def on_meter_values(self, **payload: Any) -> Any:
        self._record("MeterValues", payload)
        return call_result.MeterValues()

    @on(Action.reservation_status_update)
    def on_reservation_status_update(self, **payload: Any) -> Any:
        self._record("ReservationStatusUpdate", payload)
        return call_result.ReservationStatusUpdate()


@contextlib.asynccontextmanager
async def ocpp_central201(
    state: CentralState201 | None = None,
) -> AsyncIterator[tuple[str, CentralState201]]:
    """Serve an ocpp-package 2.0.1 CSMS on 127.0.0.1, port 0; yields (url, state)."""
    central_state = state or CentralState201()

    async def handler(websocket: ServerConnection) -> None:
        assert websocket.request is not None
        station_id = websocket.request.path.rstrip("/").rsplit("/", 1)[-1]
        central = OcppCentral201(station_id, websocket, central_state)
        central_state.connections.setdefault(station_id, []).append(central)
        central_state.changed.set()
        with contextlib.suppress(ConnectionClosed):
            await central.start()

    server: Server = await serve(
        handler, "127.0.0.1", 0, subprotocols=[Subprotocol("ocpp2.0.1")], compression=None
    )
    port = next(iter(server.sockets)).getsockname()[1]
    try:
        yield f"ws://127.0.0.1:{port}", central_state
    finally:
        server.close()
        await server.wait_closed()
