"""An OCPP 1.6-J station client over ``websockets`` (asyncio), around the sans-IO Session.

One :class:`StationClient` is one station: it connects to ``<url>/<station id>`` with the
``ocpp1.6`` subprotocol (``ws://`` or ``wss://``, HTTP Basic, client certificates), boots,
beats, reports every status change, and answers the Central System's calls, the
Reservation profile's through its :class:`~console.chargepoint.engine.ReservationEngine`.

The connection loop (reconnects with backoff, TLS and HTTP Basic, retarget, offline and
online, the tasks it owns, boot and heartbeat) is the version-free
:class:`~console.chargepoint.base_client.BaseStationClient`; here are the 1.6 station's
answers and its own calls. The engine outlives connections, so reservations survive a
reconnect (and are reported again as ``Reserved`` after the next boot).
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from console.chargepoint.base_client import (
    Answer,
    BaseStationClient,
    CallFailedError,
    ClientOptions,
    NotConnectedError,
    Registration,
    StationIdentity,
    client_ssl_context,
    station_url,
    utc_now,
)
from console.chargepoint.engine import (
    Changes,
    ChargingRefusedError,
    Reservation,
    ReservationEngine,
    StatusChange,
)
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
from console.ocpp.versions import OcppVersion

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

OCPP_SUBPROTOCOL = OcppVersion.V16.subprotocol
_SUPPORTED_PROFILES = "Core,Reservation,RemoteTrigger"
_SIMULATED_POWER_W = 7400.0


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


class StationClient(BaseStationClient):
    """One OCPP 1.6-J station: connection, boot, heartbeat, status, calls and answers.

    ``on_reservation_accepted`` is called with each reservation the station accepted (after
    the answer went out); the simulator's ``card_arrives`` behaviour hangs on it.
    """

    version = OcppVersion.V16
    _boot_answer = BootNotificationConfirmation

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
        clock: Callable[[], datetime] = utc_now,
        on_reservation_accepted: Callable[[Reservation], None] | None = None,
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
        self._transactions: dict[int, _Transaction] = {}
        self._meter_wh = 0

    # --- state --------------------------------------------------------------------------

    def transaction_id(self, connector_id: int) -> int | None:
        transaction = self._transactions.get(connector_id)
        return None if transaction is None else transaction.transaction_id

    # --- the version's part of the connection ------------------------------------------

    def _boot_request(self) -> OcppModel:
        identity = self.identity
        return BootNotificationRequest(
            charge_point_vendor=identity.vendor,
            charge_point_model=identity.model,
            firmware_version=identity.firmware,
            charge_point_serial_number=identity.serial,
        )

    def _registration(self, answer: OcppModel) -> Registration:
        assert isinstance(answer, BootNotificationConfirmation)
        return Registration(
            answer.status is RegistrationStatus.ACCEPTED, answer.interval, answer.status.value
        )

    def _heartbeat_request(self) -> OcppModel:
        return HeartbeatRequest()

    def _after_boot(self) -> None:
        self.notify(self.engine.reported_statuses())

    def _meter_tick(self) -> None:
        for connector_id in list(self._transactions):
            self._send_meter_values(connector_id)

    def _expire(self, now: datetime) -> datetime | None:
        changes = self.engine.tick(now)
        if changes.ended or changes.notifications:
            self.notify(changes)
        return self.engine.next_expiry()

    # --- our calls ----------------------------------------------------------------------

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
        self, connector_id: int, id_tag: str, parent: str | None, *, remote: bool = False
    ) -> ChargingOutcome:
        self.plug_in(connector_id)
        try:
            started = self.engine.start_transaction(connector_id, id_tag, parent, remote=remote)
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

    def _dispatch(self, request: OcppModel) -> Answer:
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

    def _on_reserve_now(self, request: ReserveNowRequest) -> Answer:
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

    def _on_trigger(self, request: TriggerMessageRequest) -> Answer:
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
            boot = self._boot_request()
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

    def _on_remote_start(self, request: RemoteStartTransactionRequest) -> Answer:
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
                and self.engine.may_start(c, request.id_tag, remote=True).allowed
            ),
            None,
        )
        if chosen is None:
            return RemoteStartTransactionConfirmation(status=RemoteStartStopStatus.REJECTED), None
        id_tag = request.id_tag
        return (
            RemoteStartTransactionConfirmation(status=RemoteStartStopStatus.ACCEPTED),
            lambda: self._spawn_and_forget(
                self._start_transaction(chosen, id_tag, None, remote=True), "remote start"
            ),
        )

    def _on_remote_stop(self, request: RemoteStopTransactionRequest) -> Answer:
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
