"""A test station written with the third-party ``ocpp`` package, and waiting helpers."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import websockets
from ocpp.routing import on
from ocpp.v16 import ChargePoint, call, call_result
from ocpp.v16.enums import Action

from console.central.model import ChangeEvent, ReservationRecord, ReservationState
from console.central.server import CentralSystem

T = TypeVar("T")

ReserveBehaviour = Callable[[dict[str, Any]], Awaitable[Any]]


class OcppStation(ChargePoint):  # type: ignore[misc]
    """A station that answers ReserveNow/CancelReservation as the test tells it."""

    def __init__(self, station_id: str, connection: Any) -> None:
        super().__init__(station_id, connection, response_timeout=10)
        self.reserve_status = "Accepted"
        self.reserve_behaviour: ReserveBehaviour | None = None
        self.cancel_status = "Accepted"
        self.reserve_connector_zero = "false"
        self.reserve_requests: list[dict[str, Any]] = []
        self.configuration_asked = asyncio.Event()
        self.trigger_asked = asyncio.Event()
        self.availability_status = "Accepted"
        self.remote_status = "Accepted"
        self.remote_requests: list[tuple[str, dict[str, Any]]] = []

    @on(Action.change_availability)
    def on_change_availability(self, **payload: Any) -> Any:
        self.remote_requests.append(("ChangeAvailability", payload))
        return call_result.ChangeAvailability(status=self.availability_status)

    @on(Action.remote_start_transaction)
    def on_remote_start(self, **payload: Any) -> Any:
        self.remote_requests.append(("RemoteStartTransaction", payload))
        return call_result.RemoteStartTransaction(status=self.remote_status)

    @on(Action.remote_stop_transaction)
    def on_remote_stop(self, **payload: Any) -> Any:
        self.remote_requests.append(("RemoteStopTransaction", payload))
        return call_result.RemoteStopTransaction(status=self.remote_status)

    @on(Action.reserve_now)
    async def on_reserve_now(self, **payload: Any) -> Any:
        self.reserve_requests.append(payload)
        if self.reserve_behaviour is not None:
            return await self.reserve_behaviour(payload)
        return call_result.ReserveNow(status=self.reserve_status)

    @on(Action.cancel_reservation)
    def on_cancel_reservation(self, **payload: Any) -> Any:
        return call_result.CancelReservation(status=self.cancel_status)

    @on(Action.get_configuration)
    def on_get_configuration(self, **payload: Any) -> Any:
        self.configuration_asked.set()
        return call_result.GetConfiguration(
            configuration_key=[
                {
                    "key": "ReserveConnectorZeroSupported",
                    "readonly": True,
                    "value": self.reserve_connector_zero,
                },
                {"key": "NumberOfConnectors", "readonly": True, "value": "2"},
            ]
        )

    @on(Action.trigger_message)
    def on_trigger_message(self, **payload: Any) -> Any:
        self.trigger_asked.set()
        return call_result.TriggerMessage(status="Accepted")

    async def boot(self) -> Any:
        return await self.call(
            call.BootNotification(
                charge_point_model="TestModel",
                charge_point_vendor="TestVendor",
                firmware_version="1.2.3",
            )
        )

    async def status(self, connector_id: int, status: str, error_code: str = "NoError") -> Any:
        return await self.call(
            call.StatusNotification(
                connector_id=connector_id,
                error_code=error_code,
                status=status,
                timestamp=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            )
        )


@contextlib.asynccontextmanager
async def connected_station(
    central: CentralSystem,
    station_id: str,
    *,
    boot: bool = True,
    station_class: type[OcppStation] = OcppStation,
    **connect_kwargs: Any,
) -> AsyncIterator[OcppStation]:
    """Connect an :class:`OcppStation`, boot it (and wait for the console's questions)."""
    url = f"ws://127.0.0.1:{central.port}/{station_id}"
    connect_kwargs.setdefault("subprotocols", ["ocpp1.6"])
    websocket = await websockets.connect(url, **connect_kwargs)
    station = station_class(station_id, websocket)
    reader = asyncio.create_task(station.start())
    try:
        if boot:
            await station.boot()
            await asyncio.wait_for(station.trigger_asked.wait(), 10)
        yield station
    finally:
        reader.cancel()
        with contextlib.suppress(BaseException):
            await reader
        await websocket.close()


async def wait_until(central: CentralSystem, check: Callable[[], T | None], wait: float = 10) -> T:
    """Wait (on the change feed, no polling) until ``check()`` gives something truthy."""
    found = check()
    if found:
        return found
    loop = asyncio.get_running_loop()
    done: asyncio.Future[T] = loop.create_future()

    def listener(_event: ChangeEvent) -> None:
        if done.done():
            return
        value = check()
        if value:
            done.set_result(value)

    unsubscribe = central.subscribe(listener)
    try:
        return await asyncio.wait_for(done, wait)
    finally:
        unsubscribe()


def minutes_from_now(minutes: float) -> datetime:
    """An expiry ``minutes`` ahead (UTC)."""
    return datetime.now(UTC) + timedelta(minutes=minutes)


def record_in_state(
    central: CentralSystem, station_id: str, reservation_id: int, state: ReservationState
) -> Callable[[], ReservationRecord | None]:
    """A ``wait_until`` check: the reservation's record once it is in ``state``."""

    def check() -> ReservationRecord | None:
        record = central.reservation(station_id, reservation_id)
        return record if record is not None and record.state is state else None

    return check
