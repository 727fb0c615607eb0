"""Answers to every station-to-Central-System message of OCPP 1.6 Core.

Each answer also updates the live model of the station and its connectors, and the
reservation book where a message says something about a reservation.
"""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from console.central.book import ReservationBook
from console.central.config import CentralSystemConfig
from console.central.model import ConnectorSnapshot
from console.central.registry import StationRegistry
from console.central.station import StationConnection
from console.ocpp import messages as m
from console.ocpp.base import OcppModel
from console.ocpp.enums import (
    AuthorizationStatus,
    ChargePointErrorCode,
    ChargePointStatus,
    DataTransferStatus,
    MessageTrigger,
    RegistrationStatus,
)
from console.ocpp.session import CallReceived, LateAnswer

__all__ = ["CoreResponder", "clock_time", "describe_failure", "parse_bool"]

logger = logging.getLogger(__name__)

RESERVE_CONNECTOR_ZERO_SUPPORTED = "ReserveConnectorZeroSupported"
NUMBER_OF_CONNECTORS = "NumberOfConnectors"

# Transaction ids start above the seconds since this date, so that ids handed out after a
# restart do not repeat those of earlier runs even when the database lost them.
_TRANSACTION_EPOCH = datetime(2024, 1, 1, tzinfo=UTC).timestamp()


def _now() -> datetime:
    return datetime.now(UTC)


def clock_time(moment: datetime) -> datetime:
    """``moment`` rounded to the nearest second, for the currentTime stations set their
    clock from: the wire carries whole seconds, and truncating would leave every station
    up to a second behind."""
    return (moment + timedelta(microseconds=500_000)).replace(microsecond=0)


def parse_bool(value: str | None) -> bool | None:
    if value is None:
        return None
    folded = value.strip().casefold()
    if folded in ("true", "1", "yes"):
        return True
    if folded in ("false", "0", "no"):
        return False
    return None


def _parse_int(value: str | None) -> int | None:
    try:
        return None if value is None else int(value.strip())
    except ValueError:
        return None


def describe_failure(error_code: str | None, error: str | None, timed_out: bool) -> str:
    """Why a call got no usable answer, for a log line ("refused with CALLERROR ...")."""
    if error_code is not None and error is not None and error.startswith("invalid answer"):
        # An answer its model rejects (not a CALLERROR from the station).
        return f"gave an {error} ({error_code})"
    if error_code is not None:
        detail = f" ({error})" if error else ""
        return f"refused with CALLERROR {error_code}{detail}"
    if timed_out:
        return "not answered (timeout)"
    return f"not answered ({error or 'no answer'})"


def _status_since(
    before: ConnectorSnapshot | None, request: m.StatusNotificationRequest
) -> datetime:
    """Since when the connector is in the reported state: a station repeats its status on
    every reconnect, and a Faulted connector has been faulted since it first said so."""
    if (
        before is not None
        and before.status_at is not None
        and before.status is request.status
        and before.error_code is request.error_code
    ):
        return before.status_at
    return request.timestamp or _now()


class CoreResponder:
    """Answers the Core messages of every station (one instance for the whole server)."""

    def __init__(
        self,
        config: CentralSystemConfig,
        registry: StationRegistry,
        book: ReservationBook,
    ) -> None:
        self._config = config
        self._registry = registry
        self._book = book
        first = max(
            registry.max_transaction_id(),
            book.max_transaction_id(),
            int(time.time() - _TRANSACTION_EPOCH),
        )
        self._transaction_ids = itertools.count(first + 1)
        self._handlers: dict[str, Callable[[StationConnection, OcppModel], OcppModel]] = {
            "Authorize": self._authorize,
            "BootNotification": self._boot_notification,
            "DataTransfer": self._data_transfer,
            "DiagnosticsStatusNotification": self._diagnostics_status,
            "FirmwareStatusNotification": self._firmware_status,
            "Heartbeat": self._heartbeat,
            "MeterValues": self._meter_values,
            "StartTransaction": self._start_transaction,
            "StatusNotification": self._status_notification,
            "StopTransaction": self._stop_transaction,
        }

    def __call__(self, connection: StationConnection, event: CallReceived) -> OcppModel:
        self._registry.touch_station(connection.station_id, _now())
        handler = self._handlers.get(event.action)
        if handler is None:
            # The session only lets through actions we receive; all are handled above.
            raise LookupError(f"no handler for {event.action}")
        return handler(connection, event.request)

    def id_tag_info(self, id_tag: str) -> m.IdTagInfo:
        entry = self._config.id_tag_entry(id_tag)
        if entry is None:
            return m.IdTagInfo(status=AuthorizationStatus.ACCEPTED)
        return m.IdTagInfo(status=entry.status, parent_id_tag=entry.parent_id_tag)

    # --- handlers -----------------------------------------------------------------------

    def _authorize(self, connection: StationConnection, request: OcppModel) -> OcppModel:
        assert isinstance(request, m.AuthorizeRequest)
        return m.AuthorizeConfirmation(id_tag_info=self.id_tag_info(request.id_tag))

    def _boot_notification(self, connection: StationConnection, request: OcppModel) -> OcppModel:
        assert isinstance(request, m.BootNotificationRequest)
        station_id = connection.station_id
        interval = self._config.heartbeat_interval
        self._registry.update_station(
            station_id,
            vendor=request.charge_point_vendor,
            model=request.charge_point_model,
            serial_number=request.charge_point_serial_number or request.charge_box_serial_number,
            firmware_version=request.firmware_version,
            registration_status=RegistrationStatus.ACCEPTED.value,
            heartbeat_interval=interval,
        )
        logger.info(
            "station %s: boot: %s %s, firmware %s",
            station_id,
            request.charge_point_vendor,
            request.charge_point_model,
            request.firmware_version or "?",
        )
        connection.spawn(self.after_boot(connection))
        return m.BootNotificationConfirmation(
            current_time=clock_time(_now()), interval=interval, status=RegistrationStatus.ACCEPTED
        )

    async def after_boot(self, connection: StationConnection) -> None:
        """Ask what the station supports, then for its connectors' status.

        A station that answers NotSupported/NotImplemented, or not at all, still works:
        what it would not say stays unknown.
        """
        station_id = connection.station_id
        outcome = await connection.call(
            m.GetConfigurationRequest(key=[RESERVE_CONNECTOR_ZERO_SUPPORTED, NUMBER_OF_CONNECTORS]),
            on_late=lambda late: self._late_configuration(station_id, late),
        )
        if outcome.aborted:
            return
        if isinstance(outcome.confirmation, m.GetConfigurationConfirmation):
            self.apply_configuration(station_id, outcome.confirmation)
        else:
            logger.info(
                "station %s: GetConfiguration %s",
                station_id,
                describe_failure(outcome.error_code, outcome.error, outcome.timed_out),
            )
        if connection.proxied:
            # Through the proxy, whatever the station sends goes to the CSMS too: ask it
            # for nothing more than the read-only capability query above.
            return
        outcome = await connection.call(
            m.TriggerMessageRequest(requested_message=MessageTrigger.STATUS_NOTIFICATION)
        )
        if (
            not isinstance(outcome.confirmation, m.TriggerMessageConfirmation)
            and not outcome.aborted
        ):
            logger.info(
                "station %s: TriggerMessage StatusNotification %s",
                station_id,
                describe_failure(outcome.error_code, outcome.error, outcome.timed_out),
            )

    def apply_configuration(
        self, station_id: str, confirmation: m.GetConfigurationConfirmation, *, late: bool = False
    ) -> None:
        """Take what a GetConfiguration answer says the station supports into the registry."""
        values = {kv.key.casefold(): kv.value for kv in confirmation.configuration_key or ()}
        zero = parse_bool(values.get(RESERVE_CONNECTOR_ZERO_SUPPORTED.casefold()))
        count = _parse_int(values.get(NUMBER_OF_CONNECTORS.casefold()))
        self._registry.update_station(
            station_id, reserve_connector_zero_supported=zero, number_of_connectors=count
        )
        logger.info(
            "station %s: ReserveConnectorZeroSupported=%s, NumberOfConnectors=%s%s",
            station_id,
            "unknown" if zero is None else str(zero).lower(),
            "unknown" if count is None else count,
            " (late answer)" if late else "",
        )

    def _late_configuration(self, station_id: str, late: LateAnswer) -> None:
        # A slow station's answer after the timeout still says what it supports.
        if isinstance(late.confirmation, m.GetConfigurationConfirmation):
            self.apply_configuration(station_id, late.confirmation, late=True)

    def _data_transfer(self, connection: StationConnection, request: OcppModel) -> OcppModel:
        assert isinstance(request, m.DataTransferRequest)
        return m.DataTransferConfirmation(status=DataTransferStatus.UNKNOWN_VENDOR_ID)

    def _diagnostics_status(self, connection: StationConnection, request: OcppModel) -> OcppModel:
        assert isinstance(request, m.DiagnosticsStatusNotificationRequest)
        self._registry.update_station(
            connection.station_id, note=f"diagnostics: {request.status.value}"
        )
        return m.DiagnosticsStatusNotificationConfirmation()

    def _firmware_status(self, connection: StationConnection, request: OcppModel) -> OcppModel:
        assert isinstance(request, m.FirmwareStatusNotificationRequest)
        self._registry.update_station(
            connection.station_id, note=f"firmware: {request.status.value}"
        )
        return m.FirmwareStatusNotificationConfirmation()

    def _heartbeat(self, connection: StationConnection, request: OcppModel) -> OcppModel:
        now = _now()
        self._registry.update_station(connection.station_id, last_heartbeat_at=now)
        return m.HeartbeatConfirmation(current_time=clock_time(now))

    def _meter_values(self, connection: StationConnection, request: OcppModel) -> OcppModel:
        return m.MeterValuesConfirmation()

    def _start_transaction(self, connection: StationConnection, request: OcppModel) -> OcppModel:
        assert isinstance(request, m.StartTransactionRequest)
        station_id = connection.station_id
        transaction_id = next(self._transaction_ids)
        info = self.id_tag_info(request.id_tag)
        if info.status is AuthorizationStatus.ACCEPTED:
            self._registry.update_connector(
                station_id,
                request.connector_id,
                transaction_id=transaction_id,
                id_tag=request.id_tag,
            )
        logger.info(
            "station %s: transaction %d started on connector %d for %s (%s)",
            station_id,
            transaction_id,
            request.connector_id,
            request.id_tag,
            info.status.value,
        )
        if request.reservation_id is not None:
            self._book.on_transaction_started(
                station_id, request.connector_id, request.reservation_id, transaction_id
            )
        elif info.status is AuthorizationStatus.ACCEPTED:
            self._book.on_foreign_transaction(
                station_id, request.connector_id, request.id_tag, info.parent_id_tag, transaction_id
            )
        return m.StartTransactionConfirmation(id_tag_info=info, transaction_id=transaction_id)

    def _status_notification(self, connection: StationConnection, request: OcppModel) -> OcppModel:
        assert isinstance(request, m.StatusNotificationRequest)
        station_id = connection.station_id
        before = self._registry.connector(station_id, request.connector_id)
        changes: dict[str, Any] = {}
        if request.status is ChargePointStatus.AVAILABLE:
            # Available means no transaction: one that ended while the console was closed
            # (or whose StopTransaction never came) must not linger on the connector.
            changes.update(transaction_id=None, id_tag=None)
        self._registry.update_connector(
            station_id,
            request.connector_id,
            status=request.status,
            error_code=request.error_code,
            info=request.info,
            vendor_error_code=request.vendor_error_code,
            status_at=_status_since(before, request),
            **changes,
        )
        if before is None or before.status != request.status:
            # The trace holds every status; the log keeps those a technician acts on.
            problem = (
                request.status is ChargePointStatus.FAULTED
                or request.error_code is not ChargePointErrorCode.NO_ERROR
            )
            logger.log(
                logging.WARNING if problem else logging.DEBUG,
                "station %s: connector %d %s -> %s (%s)",
                station_id,
                request.connector_id,
                before.status.value if before is not None and before.status else "?",
                request.status.value,
                request.error_code.value,
            )
        self._book.on_connector_status(station_id, request.connector_id, request.status)
        return m.StatusNotificationConfirmation()

    def _stop_transaction(self, connection: StationConnection, request: OcppModel) -> OcppModel:
        assert isinstance(request, m.StopTransactionRequest)
        station_id = connection.station_id
        connector = self._registry.find_transaction(request.transaction_id)
        if connector is not None and connector.station_id == station_id:
            self._registry.update_connector(
                station_id, connector.connector_id, transaction_id=None, id_tag=None
            )
        logger.info(
            "station %s: transaction %d stopped (%s)",
            station_id,
            request.transaction_id,
            request.reason.value if request.reason else "no reason given",
        )
        info = self.id_tag_info(request.id_tag) if request.id_tag else None
        return m.StopTransactionConfirmation(id_tag_info=info)
