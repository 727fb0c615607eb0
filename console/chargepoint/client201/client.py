"""An OCPP 2.0.1 station client, driven by the 2.0.1 reservation engine.

One :class:`StationClient201` is one 2.0.1 station: the connection loop is the shared
:class:`~console.chargepoint.base_client.BaseStationClient` (offering ``ocpp2.0.1``); here
are its own calls — BootNotification, Heartbeat, StatusNotification per EVSE and connector
(and NotifyEvent ``AvailabilityState`` with it), Authorize, TransactionEvent, MeterValues,
ReservationStatusUpdate — and what a driver or technician does at it. Its answers to the
CSMS's calls are in :mod:`~console.chargepoint.client201.answers`, its variables in
:mod:`~console.chargepoint.client201.variables`.

The reservation rules (H01-H04) are the engine's
(:class:`~console.chargepoint.engine201.ReservationEngine201`): every change it returns
goes through :meth:`StationClient201.apply`, which sends the connector statuses and the
ReservationStatusUpdates (Expired, Removed) it implies.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import ssl
from collections.abc import Callable, Coroutine, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import console.chargepoint.engine201 as e
from console.chargepoint.base_client import (
    Answer,
    BaseStationClient,
    CallFailedError,
    ClientOptions,
    NotConnectedError,
    Registration,
    StationIdentity,
    utc_now,
)
from console.chargepoint.client201.answers import CallAnswers201
from console.chargepoint.client201.device_model import StationVariables
from console.chargepoint.client201.mapping import (
    connector_status,
    id_token_model,
    update_status,
)
from console.chargepoint.client201.transactions import Transaction201, energy_sample, stop_trigger
from console.chargepoint.client201.variables import station_variables
from console.ocpp.base import OcppModel
from console.ocpp.v201.device_model import EventData, NotifyEventRequest
from console.ocpp.v201.enums import (
    AuthorizationStatus,
    BootReason,
    ChargingState,
    EventNotificationType,
    EventTrigger,
    ReadingContext,
    Reason,
    RegistrationStatus,
    TransactionEventType,
    TriggerReason,
)
from console.ocpp.v201.messages import (
    AuthorizeRequest,
    AuthorizeResponse,
    BootNotificationRequest,
    BootNotificationResponse,
    ChargingStation,
    HeartbeatRequest,
    MeterValuesRequest,
    StatusNotificationRequest,
    TransactionEventResponse,
)
from console.ocpp.v201.reservation import ReservationStatusUpdateRequest
from console.ocpp.v201.types import EVSE, Component, IdTokenInfo, Variable
from console.ocpp.versions import OcppVersion

__all__ = ["ChargingOutcome201", "StationClient201"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ChargingOutcome201:
    """What became of presenting an idToken at an EVSE (or of a remote start)."""

    started: bool
    evse_id: int
    id_token: str
    transaction_id: str | None = None
    reservation_id: int | None = None
    reason: str = ""


class StationClient201(BaseStationClient):
    """One OCPP 2.0.1 station: connection, boot, heartbeat, status, calls and answers.

    ``on_reservation_accepted`` is called with each reservation the station accepted (after
    the answer went out). ``availability_events``: also report every connector status as
    NotifyEvent (component Connector, variable AvailabilityState), as H01.FR.20 allows.
    """

    version = OcppVersion.V201
    _boot_answer = BootNotificationResponse

    def __init__(
        self,
        url: str,
        station_id: str,
        engine: e.ReservationEngine201,
        *,
        identity: StationIdentity | None = None,
        password: str | None = None,
        ssl_context: ssl.SSLContext | None = None,
        options: ClientOptions | None = None,
        clock: Callable[[], datetime] = utc_now,
        on_reservation_accepted: Callable[[e.Reservation], None] | None = None,
        availability_events: bool = True,
    ) -> None:
        super().__init__(
            url,
            station_id,
            identity=identity,
            password=password,
            ssl_context=ssl_context,
            options=options,
            clock=clock,
        )
        self.engine = engine
        self.on_reservation_accepted = on_reservation_accepted
        self.availability_events = availability_events
        self._transactions: dict[int, Transaction201] = {}  # by evseId
        self._meter_wh = 0
        self._event_ids = itertools.count(1)
        self.variables: StationVariables = station_variables(self)
        self._answers = CallAnswers201(self)

    # --- state --------------------------------------------------------------------------

    def now(self) -> datetime:
        return self._clock()

    def transaction(self, evse_id: int) -> Transaction201 | None:
        return self._transactions.get(evse_id)

    def transaction_id(self, evse_id: int) -> str | None:
        transaction = self._transactions.get(evse_id)
        return None if transaction is None else transaction.transaction_id

    @property
    def transactions(self) -> tuple[Transaction201, ...]:
        return tuple(self._transactions.values())

    def set_heartbeat_interval(self, seconds: float) -> None:
        """From the next beat on (OCPPCommCtrlr.HeartbeatInterval)."""
        self._heartbeat_interval = seconds

    def meter_wh(self, evse_id: int | None = None) -> int:
        transaction = None if evse_id is None else self._transactions.get(evse_id)
        if transaction is None:
            return self._meter_wh
        return transaction.meter(asyncio.get_running_loop().time())

    def wake_expiry(self) -> None:
        self._wake_expiry.set()

    # --- the version's part of the connection ------------------------------------------

    def boot_request(self, reason: BootReason = BootReason.POWER_UP) -> BootNotificationRequest:
        identity = self.identity
        return BootNotificationRequest(
            charging_station=ChargingStation(
                vendor_name=identity.vendor,
                model=identity.model,
                firmware_version=identity.firmware,
                serial_number=identity.serial,
            ),
            reason=reason,
        )

    def _boot_request(self) -> OcppModel:
        return self.boot_request()

    def _registration(self, answer: OcppModel) -> Registration:
        assert isinstance(answer, BootNotificationResponse)
        return Registration(
            answer.status is RegistrationStatus.ACCEPTED, answer.interval, answer.status.value
        )

    def _heartbeat_request(self) -> OcppModel:
        return HeartbeatRequest()

    def _after_boot(self) -> None:
        self.report_statuses(self.engine.all_statuses())

    def _dispatch(self, request: OcppModel) -> Answer:
        return self._answers.dispatch(request)

    def _expire(self, now: datetime) -> datetime | None:
        changes = self.engine.tick(now)
        if changes.ended or changes.connector_changes:
            self.apply(changes)
        return self.engine.next_expiry()

    def _meter_tick(self) -> None:
        for transaction in list(self._transactions.values()):
            self.send_nowait(
                transaction.event(
                    TransactionEventType.UPDATED,
                    TriggerReason.METER_VALUE_PERIODIC,
                    self._clock(),
                    wh=self.meter_wh(transaction.evse_id),
                )
            )

    # --- our calls ----------------------------------------------------------------------

    def send_nowait(self, request: OcppModel) -> None:
        """A call whose answer nobody waits for."""
        self._send_nowait(request)

    def spawn(self, coroutine: Coroutine[Any, Any, Any], what: str) -> None:
        """Run ``coroutine`` as a task of the station's."""
        self._spawn_and_forget(coroutine, what)

    def apply(self, changes: e.Changes) -> None:
        """Tell the CSMS what a change of the engine means: ReservationStatusUpdates for the
        reservations that expired or were removed, then the connectors' new statuses."""
        for ended in changes.ended:
            logger.info(
                "station %s: reservation %s ended (%s)",
                self.station_id,
                ended.reservation.reservation_id,
                ended.reason.value,
            )
        if not self.booted:
            if changes.status_updates:
                logger.info(
                    "station %s: not registered; %d ReservationStatusUpdate(s) not sent",
                    self.station_id,
                    len(changes.status_updates),
                )
            return
        for update in changes.status_updates:
            self._send_nowait(
                ReservationStatusUpdateRequest(
                    reservation_id=update.reservation_id,
                    reservation_update_status=update_status(update.reservation_update_status),
                )
            )
        self.report_statuses(changes.connector_changes)

    def report_statuses(self, changes: Iterable[e.ConnectorStatusChange]) -> None:
        """StatusNotification per connector (and one NotifyEvent with them all)."""
        changes = tuple(changes)
        if not self.booted or not changes:
            return
        now = self._clock()
        for change in changes:
            self._send_nowait(
                StatusNotificationRequest(
                    timestamp=now,
                    connector_status=connector_status(change.status),
                    evse_id=change.evse_id,
                    connector_id=change.connector_id,
                )
            )
        if self.availability_events:
            self._send_nowait(
                NotifyEventRequest(
                    generated_at=now,
                    seq_no=0,
                    event_data=[
                        EventData(
                            event_id=next(self._event_ids),
                            timestamp=now,
                            trigger=EventTrigger.DELTA,
                            actual_value=change.status.value,
                            component=Component(
                                name="Connector",
                                evse=EVSE(id=change.evse_id, connector_id=change.connector_id),
                            ),
                            variable=Variable(name="AvailabilityState"),
                            event_notification_type=EventNotificationType.HARD_WIRED_NOTIFICATION,
                        )
                        for change in changes
                    ],
                )
            )

    def send_meter_values(self, evse_id: int, context: ReadingContext) -> None:
        self._send_nowait(
            MeterValuesRequest(
                evse_id=evse_id,
                meter_value=[energy_sample(self.meter_wh(evse_id), context, self._clock())],
            )
        )

    # --- what a driver or technician does -----------------------------------------------

    async def authorize(self, id_token: e.IdToken) -> IdTokenInfo:
        """Authorize a token; the groupIdToken the answer tells is remembered."""
        answer = await self.call(
            AuthorizeRequest(id_token=id_token_model(id_token)), AuthorizeResponse
        )
        info = answer.id_token_info
        if info.status is AuthorizationStatus.ACCEPTED:
            group = info.group_id_token
            self.engine.learn_group(id_token.id_token, None if group is None else group.id_token)
        return info

    async def present_id_token(
        self,
        id_token: e.IdToken,
        evse_id: int,
        connector_id: int = 1,
        *,
        authorize: bool = True,
    ) -> ChargingOutcome201:
        """A driver holds a card to an EVSE's reader: Authorize, then, if the rules allow,
        the transaction starts (its TransactionEvent carries the reservation it consumes)
        and the cable goes in."""
        value = id_token.id_token
        if authorize:
            try:
                info = await self.authorize(id_token)
            except (CallFailedError, NotConnectedError) as exc:
                return ChargingOutcome201(False, evse_id, value, reason=str(exc))
            if info.status is not AuthorizationStatus.ACCEPTED:
                return ChargingOutcome201(
                    False, evse_id, value, reason=f"Authorize: {info.status.value}"
                )
        result = self.engine.authorize(evse_id, id_token, self._clock())
        if not result.allowed:
            logger.info(
                "station %s: %s refused on EVSE %s: %s",
                self.station_id,
                value,
                evse_id,
                result.reason,
            )
            return ChargingOutcome201(False, evse_id, value, reason=result.reason)
        self.apply(result)
        return await self.start_transaction(
            evse_id, connector_id, id_token, result.reservation_id, TriggerReason.AUTHORIZED
        )

    async def start_transaction(
        self,
        evse_id: int,
        connector_id: int,
        id_token: e.IdToken,
        reservation_id: int | None,
        trigger: TriggerReason,
        remote_start_id: int | None = None,
    ) -> ChargingOutcome201:
        """Start the transaction of a token authorized on an EVSE, then plug in."""
        transaction = Transaction201(
            evse_id=evse_id,
            connector_id=connector_id,
            id_token=id_token,
            meter_start=self._meter_wh,
            started_at=asyncio.get_running_loop().time(),
            reservation_id=reservation_id,
            remote_start_id=remote_start_id,
        )
        self._transactions[evse_id] = transaction
        started = transaction.event(
            TransactionEventType.STARTED,
            trigger,
            self._clock(),
            wh=transaction.meter_start,
            context=ReadingContext.TRANSACTION_BEGIN,
            charging_state=ChargingState.IDLE,
        )
        value = id_token.id_token
        try:
            answer = await self.call(started, TransactionEventResponse)
        except (CallFailedError, NotConnectedError) as exc:
            # A real station would queue it; the simulator gives the transaction up.
            self._transactions.pop(evse_id, None)
            self.apply(self.engine.end_authorization(evse_id, self._clock()))
            return ChargingOutcome201(False, evse_id, value, reason=str(exc))
        logger.info(
            "station %s: transaction %s started on EVSE %s for %s%s",
            self.station_id,
            transaction.transaction_id,
            evse_id,
            value,
            "" if reservation_id is None else f" (reservation {reservation_id})",
        )
        self.plug_in(evse_id, connector_id)
        info = answer.id_token_info
        if info is not None and info.status is not AuthorizationStatus.ACCEPTED:
            await self.stop_transaction(evse_id, Reason.DE_AUTHORIZED)
            return ChargingOutcome201(
                False,
                evse_id,
                value,
                transaction.transaction_id,
                reservation_id,
                reason=f"TransactionEvent: {info.status.value}",
            )
        return ChargingOutcome201(True, evse_id, value, transaction.transaction_id, reservation_id)

    async def stop_transaction(
        self, evse_id: int, reason: Reason = Reason.LOCAL, *, unplug: bool = True
    ) -> bool:
        """End the transaction on an EVSE (and take the cable out); False if none."""
        transaction = self._transactions.pop(evse_id, None)
        if transaction is None:
            return False
        wh = transaction.meter(asyncio.get_running_loop().time())
        self._meter_wh = max(self._meter_wh, wh)
        ended = transaction.event(
            TransactionEventType.ENDED,
            stop_trigger(reason),
            self._clock(),
            wh=wh,
            context=ReadingContext.TRANSACTION_END,
            charging_state=ChargingState.EV_CONNECTED if not unplug else ChargingState.IDLE,
            stopped_reason=reason,
        )
        if unplug:
            self.apply(self.engine.unplug(evse_id, self._clock()))
        else:
            self.apply(self.engine.end_authorization(evse_id, self._clock()))
        try:
            await self.call(ended, TransactionEventResponse)
        except (CallFailedError, NotConnectedError) as exc:
            logger.warning(
                "station %s: TransactionEvent Ended not delivered: %s", self.station_id, exc
            )
        logger.info(
            "station %s: transaction %s stopped on EVSE %s (%s)",
            self.station_id,
            transaction.transaction_id,
            evse_id,
            reason.value,
        )
        return True

    def plug_in(self, evse_id: int, connector_id: int = 1) -> None:
        """A cable goes in; with a transaction there it starts charging."""
        self.apply(self.engine.plug_in(evse_id, connector_id, self._clock()))
        transaction = self._transactions.get(evse_id)
        if transaction is not None and not transaction.plugged:
            transaction.plugged = True
            self._send_nowait(
                transaction.event(
                    TransactionEventType.UPDATED,
                    TriggerReason.CABLE_PLUGGED_IN,
                    self._clock(),
                    charging_state=ChargingState.CHARGING,
                )
            )

    def unplug(self, evse_id: int) -> None:
        """The cable comes out (a transaction there ends: use :meth:`stop_transaction`)."""
        if evse_id in self._transactions:
            self.spawn(self.stop_transaction(evse_id, Reason.EV_DISCONNECTED), "unplugged")
            return
        self.apply(self.engine.unplug(evse_id, self._clock()))

    def fault(self, evse_id: int | None = None, connector_id: int | None = None) -> None:
        """The station (no EVSE), an EVSE or a connector goes Faulted."""
        logger.info("station %s: %s faulted", self.station_id, _where(evse_id, connector_id))
        self.apply(self.engine.set_fault(self._clock(), evse_id=evse_id, connector_id=connector_id))

    def clear_fault(self, evse_id: int | None = None, connector_id: int | None = None) -> None:
        logger.info("station %s: %s fault cleared", self.station_id, _where(evse_id, connector_id))
        self.apply(
            self.engine.clear_fault(self._clock(), evse_id=evse_id, connector_id=connector_id)
        )

    def set_availability(
        self, operative: bool, evse_id: int | None = None, connector_id: int | None = None
    ) -> None:
        """Take the station, an EVSE or a connector in or out of service, as on site."""
        status = e.OperationalStatus.OPERATIVE if operative else e.OperationalStatus.INOPERATIVE
        self.apply(
            self.engine.change_availability(
                status, self._clock(), evse_id=evse_id, connector_id=connector_id
            )
        )


def _where(evse_id: int | None, connector_id: int | None) -> str:
    if evse_id is None:
        return "the station"
    if connector_id is None:
        return f"EVSE {evse_id}"
    return f"connector {connector_id} of EVSE {evse_id}"
