"""A 2.0.1 test station written with the third-party ``ocpp`` package (schema validation on).

The package validates every call it receives from our Central System and every answer to
its own calls against the official OCPP 2.0.1 JSON schemas, so a payload of ours that breaks
them never reaches a handler here.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import websockets
from ocpp.routing import on
from ocpp.v201 import ChargePoint, call, call_result
from ocpp.v201.enums import Action

from console.central.server import CentralSystem

__all__ = ["OcppStation201", "connected_station201", "stamp"]


def stamp() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class OcppStation201(ChargePoint):  # type: ignore[misc]
    """Two EVSEs (EVSE 1: connectors 1 and 2, EVSE 2: connector 1) that answer as the test
    says, and keep every request the console made."""

    EVSES: dict[int, tuple[int, ...]] = {1: (1, 2), 2: (1,)}

    def __init__(self, station_id: str, connection: Any) -> None:
        super().__init__(station_id, connection, response_timeout=10)
        self.reserve_status = "Accepted"
        self.reserve_status_info: dict[str, str] | None = None
        self.reserve_gate: asyncio.Event | None = None
        self.cancel_status = "Accepted"
        self.variables = {"Enabled": "true", "Available": "true", "NonEvseSpecific": "false"}
        self.requests: list[tuple[str, dict[str, Any]]] = []
        self.variables_asked = asyncio.Event()
        self.report_asked = asyncio.Event()
        self.trigger_asked = asyncio.Event()
        self.report_sent = asyncio.Event()
        self.availability_status = "Accepted"
        self.remote_status = "Accepted"

    def asked(self, action: str) -> list[dict[str, Any]]:
        return [payload for name, payload in self.requests if name == action]

    @on(Action.change_availability)
    def on_change_availability(self, **payload: Any) -> Any:
        self.requests.append(("ChangeAvailability", payload))
        return call_result.ChangeAvailability(status=self.availability_status)

    @on(Action.request_start_transaction)
    def on_request_start(self, **payload: Any) -> Any:
        self.requests.append(("RequestStartTransaction", payload))
        return call_result.RequestStartTransaction(status=self.remote_status)

    @on(Action.request_stop_transaction)
    def on_request_stop(self, **payload: Any) -> Any:
        self.requests.append(("RequestStopTransaction", payload))
        return call_result.RequestStopTransaction(status=self.remote_status)

    @on(Action.reserve_now)
    async def on_reserve_now(self, **payload: Any) -> Any:
        self.requests.append(("ReserveNow", payload))
        if self.reserve_gate is not None:
            # A slow station: the answer waits until the test opens the gate.
            await self.reserve_gate.wait()
        return call_result.ReserveNow(
            status=self.reserve_status, status_info=self.reserve_status_info
        )

    @on(Action.cancel_reservation)
    def on_cancel_reservation(self, **payload: Any) -> Any:
        self.requests.append(("CancelReservation", payload))
        return call_result.CancelReservation(status=self.cancel_status)

    @on(Action.get_variables)
    def on_get_variables(self, get_variable_data: list[dict[str, Any]], **_: Any) -> Any:
        self.requests.append(("GetVariables", {"get_variable_data": get_variable_data}))
        results = []
        for data in get_variable_data:
            name = data["variable"]["name"]
            value = self.variables.get(name)
            result: dict[str, Any] = {
                "component": data["component"],
                "variable": data["variable"],
                "attribute_status": "Accepted" if value is not None else "UnknownVariable",
            }
            if value is not None:
                result["attribute_value"] = value
            results.append(result)
        self.variables_asked.set()
        return call_result.GetVariables(get_variable_result=results)

    @on(Action.get_base_report)
    def on_get_base_report(self, request_id: int, report_base: str, **_: Any) -> Any:
        self.requests.append(("GetBaseReport", {"request_id": request_id}))
        self.report_asked.set()
        asyncio.get_running_loop().create_task(self._send_report(request_id))
        return call_result.GetBaseReport(status="Accepted")

    async def _send_report(self, request_id: int) -> None:
        data = [
            {
                "component": {"name": "Connector", "evse": {"id": evse, "connector_id": c}},
                "variable": {"name": "ConnectorType"},
                "variable_attribute": [{"type": "Actual", "value": "cType2"}],
            }
            for evse, connectors in self.EVSES.items()
            for c in connectors
        ]
        await self.call(
            call.NotifyReport(
                request_id=request_id, generated_at=stamp(), seq_no=0, report_data=data
            )
        )
        self.report_sent.set()

    @on(Action.trigger_message)
    def on_trigger_message(self, **payload: Any) -> Any:
        self.requests.append(("TriggerMessage", payload))
        self.trigger_asked.set()
        return call_result.TriggerMessage(status="Accepted")

    async def boot(self) -> Any:
        return await self.call(
            call.BootNotification(
                charging_station={
                    "model": "TestModel201",
                    "vendor_name": "TestVendor",
                    "firmware_version": "2.0.1-a",
                },
                reason="PowerUp",
            )
        )

    async def status(self, evse_id: int, connector_id: int, status: str) -> Any:
        return await self.call(
            call.StatusNotification(
                timestamp=stamp(),
                connector_status=status,
                evse_id=evse_id,
                connector_id=connector_id,
            )
        )

    async def evse_status(self, evse_id: int, status: str) -> None:
        for connector_id in self.EVSES[evse_id]:
            await self.status(evse_id, connector_id, status)

    async def reservation_update(self, reservation_id: int, status: str) -> Any:
        return await self.call(
            call.ReservationStatusUpdate(
                reservation_id=reservation_id, reservation_update_status=status
            )
        )


@contextlib.asynccontextmanager
async def connected_station201(
    central: CentralSystem,
    station_id: str,
    *,
    boot: bool = True,
    subprotocols: list[str] | None = None,
    **connect_kwargs: Any,
) -> AsyncIterator[OcppStation201]:
    """Connect an :class:`OcppStation201`, boot it and wait for the console's questions
    (ReservationCtrlr, the inventory, the statuses) and the report's arrival."""
    url = f"ws://127.0.0.1:{central.port}/{station_id}"
    websocket = await websockets.connect(
        url, subprotocols=subprotocols or ["ocpp2.0.1"], **connect_kwargs
    )
    station = OcppStation201(station_id, websocket)
    reader = asyncio.create_task(station.start())
    try:
        if boot:
            await station.boot()
            await asyncio.wait_for(station.trigger_asked.wait(), 10)
            await asyncio.wait_for(station.report_sent.wait(), 10)
        yield station
    finally:
        reader.cancel()
        with contextlib.suppress(BaseException):
            await reader
        await websocket.close()
