"""A Central System written with the third-party ``ocpp`` package, for testing our stations.

The ``ocpp`` package validates every message in both directions against the official
OCPP 1.6 JSON schemas (its validation is left on), so a station message that breaks them
never reaches a handler here and the test waiting for it fails.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from ocpp.routing import on
from ocpp.v16 import ChargePoint, call_result
from ocpp.v16.enums import Action
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

WAIT = 10.0


def stamp(after: timedelta = timedelta()) -> str:
    """A UTC date as OCPP sends it, ``after`` from now."""
    return (datetime.now(UTC) + after).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Received:
    station_id: str
    action: str
    payload: dict[str, Any]


@dataclass
class CentralState:
    """What the ocpp-package Central System answers, and everything it received."""

    boot_answers: list[tuple[str, int]] = field(default_factory=list)  # (status, interval)
    heartbeat_interval: int = 300
    parents: dict[str, str] = field(default_factory=dict)  # idTag (upper) -> parent
    received: list[Received] = field(default_factory=list)
    connections: dict[str, list[OcppCentral]] = field(default_factory=dict)
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    transaction_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(100))
    assigned_transactions: list[int] = field(default_factory=list)

    def record(self, station_id: str, action: str, payload: dict[str, Any]) -> None:
        self.received.append(Received(station_id, action, payload))
        self.changed.set()

    def messages(self, station_id: str, action: str) -> list[dict[str, Any]]:
        return [
            r.payload for r in self.received if r.station_id == station_id and r.action == action
        ]

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
    ) -> dict[str, Any]:
        # Wrapped in a list: an empty payload ({}) is a message all the same.
        found: list[dict[str, Any]] = await self.wait_for(
            lambda: next(([p] for p in self.messages(station_id, action) if match(p)), None),
            within,
        )
        return found[0]

    async def wait_status(
        self, station_id: str, connector_id: int, status: str, within: float = WAIT
    ) -> dict[str, Any]:
        return await self.wait_message(
            station_id,
            "StatusNotification",
            lambda p: p["connector_id"] == connector_id and p["status"] == status,
            within,
        )

    async def connection(self, station_id: str, number: int = 1) -> OcppCentral:
        """The ``number``-th connection of a station (1: the first), once it is there."""
        found: OcppCentral = await self.wait_for(
            lambda: (
                len(self.connections.get(station_id, [])) >= number
                and self.connections[station_id][number - 1]
            )
        )
        return found


class OcppCentral(ChargePoint):  # type: ignore[misc]
    """The Central System side of one station's connection, built on ``ocpp``."""

    def __init__(self, station_id: str, connection: Any, state: CentralState) -> None:
        super().__init__(station_id, connection, response_timeout=WAIT)
        self.state = state

    def _record(self, action: str, payload: dict[str, Any]) -> None:
        self.state.record(self.id, action, payload)

    @on(Action.boot_notification)
    def on_boot_notification(self, **payload: Any) -> Any:
        self._record("BootNotification", payload)
        status, interval = (
            self.state.boot_answers.pop(0)
            if self.state.boot_answers
            else ("Accepted", self.state.heartbeat_interval)
        )
        return call_result.BootNotification(current_time=stamp(), interval=interval, status=status)

    @on(Action.heartbeat)
    def on_heartbeat(self, **payload: Any) -> Any:
        self._record("Heartbeat", payload)
        return call_result.Heartbeat(current_time=stamp())

    @on(Action.status_notification)
    def on_status_notification(self, **payload: Any) -> Any:
        self._record("StatusNotification", payload)
        return call_result.StatusNotification()

    def _id_tag_info(self, id_tag: str) -> dict[str, Any]:
        parent = self.state.parents.get(id_tag.upper())
        info: dict[str, Any] = {"status": "Accepted"}
        if parent is not None:
            info["parentIdTag"] = parent
        return info

    @on(Action.authorize)
    def on_authorize(self, **payload: Any) -> Any:
        self._record("Authorize", payload)
        return call_result.Authorize(id_tag_info=self._id_tag_info(payload["id_tag"]))

    @on(Action.start_transaction)
    def on_start_transaction(self, **payload: Any) -> Any:
        transaction_id = next(self.state.transaction_ids)
        self.state.assigned_transactions.append(transaction_id)
        self._record("StartTransaction", payload)
        return call_result.StartTransaction(
            transaction_id=transaction_id,
            id_tag_info=self._id_tag_info(payload["id_tag"]),
        )

    @on(Action.stop_transaction)
    def on_stop_transaction(self, **payload: Any) -> Any:
        self._record("StopTransaction", payload)
        return call_result.StopTransaction()

    @on(Action.meter_values)
    def on_meter_values(self, **payload: Any) -> Any:
        self._record("MeterValues", payload)
        return call_result.MeterValues()

    @on(Action.diagnostics_status_notification)
    def on_diagnostics_status(self, **payload: Any) -> Any:
        self._record("DiagnosticsStatusNotification", payload)
        return call_result.DiagnosticsStatusNotification()


@contextlib.asynccontextmanager
async def ocpp_central(
    state: CentralState | None = None,
) -> AsyncIterator[tuple[str, CentralState]]:
    """Serve an ocpp-package Central System on 127.0.0.1, port 0; yields (url, state)."""
    central_state = state or CentralState()

    async def handler(websocket: ServerConnection) -> None:
        assert websocket.request is not None
        station_id = websocket.request.path.rstrip("/").rsplit("/", 1)[-1]
        central = OcppCentral(station_id, websocket, central_state)
        central_state.connections.setdefault(station_id, []).append(central)
        central_state.changed.set()
        with contextlib.suppress(ConnectionClosed):
            await central.start()

    server: Server = await serve(
        handler, "127.0.0.1", 0, subprotocols=[Subprotocol("ocpp1.6")], compression=None
    )
    port = next(iter(server.sockets)).getsockname()[1]
    try:
        yield f"ws://127.0.0.1:{port}", central_state
    finally:
        server.close()
        await server.wait_closed()
