"""What the answers and the device model of a 2.0.1 station use of its client.

A protocol, so that :mod:`~console.chargepoint.client201.answers` and
:mod:`~console.chargepoint.client201.variables` need not import the client that holds
them (:class:`~console.chargepoint.client201.client.StationClient201` is the one station
that has all of this).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

import console.chargepoint.engine201 as e
from console.chargepoint.base_client import ClientOptions, StationIdentity
from console.chargepoint.client201.transactions import Transaction201
from console.ocpp.base import OcppModel
from console.ocpp.v201.enums import BootReason, ReadingContext, Reason, TriggerReason
from console.ocpp.v201.messages import BootNotificationRequest

if TYPE_CHECKING:
    from console.chargepoint.client201.device_model import StationVariables

__all__ = ["Station201"]


class Station201(Protocol):
    """A 2.0.1 station as its answers and variables see it."""

    station_id: str
    engine: e.ReservationEngine201
    identity: StationIdentity
    options: ClientOptions
    variables: StationVariables
    on_reservation_accepted: Callable[[e.Reservation], None] | None

    @property
    def booted(self) -> bool: ...

    @property
    def heartbeat_interval(self) -> float: ...

    @property
    def transactions(self) -> tuple[Transaction201, ...]: ...

    def now(self) -> datetime: ...

    def transaction(self, evse_id: int) -> Transaction201 | None: ...

    def meter_wh(self, evse_id: int | None = None) -> int: ...

    def set_heartbeat_interval(self, seconds: float) -> None: ...

    def wake_expiry(self) -> None: ...

    def boot_request(self, reason: BootReason = ...) -> BootNotificationRequest: ...

    def send_nowait(self, request: OcppModel) -> None: ...

    def spawn(self, coroutine: Coroutine[Any, Any, Any], what: str) -> None: ...

    def apply(self, changes: e.Changes) -> None: ...

    def report_statuses(self, changes: Iterable[e.ConnectorStatusChange]) -> None: ...

    def send_meter_values(self, evse_id: int, context: ReadingContext) -> None: ...

    async def start_transaction(
        self,
        evse_id: int,
        connector_id: int,
        id_token: e.IdToken,
        reservation_id: int | None,
        trigger: TriggerReason,
        remote_start_id: int | None = None,
    ) -> object: ...

    async def stop_transaction(
        self, evse_id: int, reason: Reason = ..., *, unplug: bool = ...
    ) -> bool: ...
