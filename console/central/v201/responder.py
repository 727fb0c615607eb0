"""Answers to every message a 2.0.1 station sends the Central System while it is commissioned.

The 2.0.1 counterpart of :class:`console.central.core.CoreResponder`. Each answer also updates
the live model (the station, its EVSEs and connectors) and the reservation book where a
message says something about a reservation: a TransactionEvent with ``reservationId`` uses
it, a ReservationStatusUpdate ends it (``Expired`` / ``Removed``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from console.central.book import ReservationBook
from console.central.config import CentralSystemConfig
from console.central.core import clock_time, describe_failure
from console.central.model import ConnectorSnapshot
from console.central.registry import StationRegistry
from console.central.station import StationConnection
from console.central.v201.device_model import (
    connector_facts,
    reservation_capability,
    reservation_variables_request,
)
from console.ocpp.base import OcppModel
from console.ocpp.session import CallReceived, LateAnswer
from console.ocpp.v201 import device_model as d
from console.ocpp.v201 import messages as m
from console.ocpp.v201 import reservation as r
from console.ocpp.v201.enums import (
    AuthorizationStatus,
    ConnectorStatus,
    DataTransferStatus,
    MessageTrigger,
    RegistrationStatus,
    ReportBase,
    ReservationUpdateStatus,
    TransactionEventType,
)
from console.ocpp.v201.types import IdToken, IdTokenInfo

__all__ = ["Responder201"]

logger = logging.getLogger(__name__)

_CONNECTOR = "Connector"
_AVAILABILITY_STATE = "AvailabilityState"


def _now() -> datetime:
    return datetime.now(UTC)


class Responder201:
    """Answers the messages of every 2.0.1 station (one instance for the whole server)."""

    def __init__(
        self, config: CentralSystemConfig, registry: StationRegistry, book: ReservationBook
    ) -> None:
        self._config = config
        self._registry = registry
        self._book = book
        self._report_ids = iter(range(1, 2**31))
        self._handlers: dict[str, Callable[[StationConnection, Any], OcppModel]] = {
            "Authorize": self._authorize,
            "BootNotification": self._boot_notification,
            "DataTransfer": self._data_transfer,
            "Heartbeat": self._heartbeat,
            "MeterValues": self._meter_values,
            "NotifyEvent": self._notify_event,
            "NotifyReport": self._notify_report,
            "ReservationStatusUpdate": self._reservation_status_update,
            "SecurityEventNotification": self._security_event,
            "StatusNotification": self._status_notification,
            "TransactionEvent": self._transaction_event,
        }

    def __call__(self, connection: StationConnection, event: CallReceived) -> OcppModel:
        self._registry.touch_station(connection.station_id, _now())
        handler = self._handlers.get(event.action)
        if handler is None:
            # The session only lets through actions a 2.0.1 Central System receives.
            raise LookupError(f"no handler for {event.action}")
        return handler(connection, event.request)

    def id_token_info(self, id_token: IdToken) -> IdTokenInfo:
        """What the settings' idTag list says of ``id_token`` (unknown tokens: Accepted);
        a parent idTag there is the token's group."""
        entry = self._config.id_tag_entry(id_token.id_token)
        if entry is None:
            return IdTokenInfo(status=AuthorizationStatus.ACCEPTED)
        group = None
        if entry.parent_id_tag is not None:
            group = IdToken(id_token=entry.parent_id_tag, type=id_token.type)
        return IdTokenInfo(status=AuthorizationStatus(entry.status.value), group_id_token=group)

    # --- boot and what the console asks then ---------------------------------------------

    def _boot_notification(
        self, connection: StationConnection, request: m.BootNotificationRequest
    ) -> OcppModel:
        station = request.charging_station
        interval = self._config.heartbeat_interval
        self._registry.update_station(
            connection.station_id,
            vendor=station.vendor_name,
            model=station.model,
            serial_number=station.serial_number,
            firmware_version=station.firmware_version,
            registration_status=RegistrationStatus.ACCEPTED.value,
            heartbeat_interval=interval,
        )
        logger.info(
            "station %s: boot (%s): %s %s, firmware %s",
            connection.station_id,
            request.reason.value,
            station.vendor_name,
            station.model,
            station.firmware_version or "?",
        )
        connection.spawn(self.after_boot(connection))
        return m.BootNotificationResponse(
            current_time=clock_time(_now()), interval=interval, status=RegistrationStatus.ACCEPTED
        )

    async def after_boot(self, connection: StationConnection) -> None:
        """Read the reservation controller, ask for the inventory (EVSEs, connectors and
        their types), then for the connectors' status. What a station will not say stays
        unknown; nothing here stops it from working."""
        station_id = connection.station_id
        outcome = await connection.call(
            reservation_variables_request(),
            on_late=lambda late: self._late_variables(station_id, late),
        )
        if outcome.aborted:
            return
        if isinstance(outcome.confirmation, d.GetVariablesResponse):
            self.apply_variables(station_id, outcome.confirmation)
        else:
            logger.info(
                "station %s: GetVariables ReservationCtrlr %s",
                station_id,
                describe_failure(outcome.error_code, outcome.error, outcome.timed_out),
            )
        if connection.proxied:
            # Through the proxy, whatever the station sends goes to the CSMS too: ask it
            # for nothing more than the read-only capability query above.
            return
        for request in (
            d.GetBaseReportRequest(
                request_id=next(self._report_ids), report_base=ReportBase.FULL_INVENTORY
            ),
            m.TriggerMessageRequest(requested_message=MessageTrigger.STATUS_NOTIFICATION),
        ):
            outcome = await connection.call(request)
            if outcome.aborted:
                return
            if outcome.confirmation is None:
                logger.info(
                    "station %s: %s %s",
                    station_id,
                    type(request).feature_name,
                    describe_failure(outcome.error_code, outcome.error, outcome.timed_out),
                )

    def apply_variables(
        self, station_id: str, response: d.GetVariablesResponse, *, late: bool = False
    ) -> None:
        """Keep what a GetVariables answer says of ReservationCtrlr in the registry."""
        capability = reservation_capability(response)
        self._registry.update_station(
            station_id,
            reservations_enabled=capability.enabled,
            reservations_available=capability.available,
            non_evse_specific=capability.non_evse_specific,
        )
        logger.info(
            "station %s: ReservationCtrlr Enabled=%s, Available=%s, NonEvseSpecific=%s%s",
            station_id,
            _shown(capability.enabled),
            _shown(capability.available),
            _shown(capability.non_evse_specific),
            " (late answer)" if late else "",
        )

    def _late_variables(self, station_id: str, late: LateAnswer) -> None:
        if isinstance(late.confirmation, d.GetVariablesResponse):
            self.apply_variables(station_id, late.confirmation, late=True)

    # --- what the station reports --------------------------------------------------------

    def _status_notification(
        self, connection: StationConnection, request: m.StatusNotificationRequest
    ) -> OcppModel:
        self._connector_status(
            connection.station_id,
            request.evse_id,
            request.connector_id,
            request.connector_status,
            request.timestamp,
        )
        return m.StatusNotificationResponse()

    def _notify_event(
        self, connection: StationConnection, request: d.NotifyEventRequest
    ) -> OcppModel:
        for event in request.event_data:
            evse = event.component.evse
            if (
                event.component.name == _CONNECTOR
                and event.variable.name == _AVAILABILITY_STATE
                and evse is not None
                and event.actual_value in _STATUS_VALUES
            ):
                self._connector_status(
                    connection.station_id,
                    evse.id,
                    evse.connector_id or 1,
                    ConnectorStatus(event.actual_value),
                    event.timestamp,
                )
        return d.NotifyEventResponse()

    def _notify_report(
        self, connection: StationConnection, request: d.NotifyReportRequest
    ) -> OcppModel:
        station_id = connection.station_id
        for fact in connector_facts(request.report_data or ()):
            changes: dict[str, Any] = {}
            if fact.connector_type is not None:
                changes["connector_type"] = fact.connector_type
            known = self._registry.connector(station_id, fact.connector_id, fact.evse_id)
            if fact.status is not None and (known is None or known.status is None):
                # A StatusNotification is newer than a report of the inventory.
                changes["status"] = fact.status
            self._registry.update_connector(
                station_id, fact.connector_id, evse_id=fact.evse_id, **changes
            )
        return d.NotifyReportResponse()

    def _connector_status(
        self,
        station_id: str,
        evse_id: int,
        connector_id: int,
        status: ConnectorStatus,
        at: datetime | None,
    ) -> None:
        before = self._registry.connector(station_id, connector_id, evse_id)
        changes: dict[str, Any] = {}
        if status is ConnectorStatus.AVAILABLE:
            # Available means no transaction (one may have ended while the console was away).
            changes.update(transaction_id=None, id_tag=None)
        if before is None or before.status != status or before.status_at is None:
            changes["status_at"] = at or _now()
        self._registry.update_connector(
            station_id, connector_id, evse_id=evse_id, status=status, **changes
        )
        if before is None or before.status != status:
            # The trace holds every status; the log keeps those a technician acts on.
            logger.log(
                logging.WARNING if status is ConnectorStatus.FAULTED else logging.DEBUG,
                "station %s: EVSE %d connector %d %s -> %s",
                station_id,
                evse_id,
                connector_id,
                before.status.value if before is not None and before.status else "?",
                status.value,
            )
        self._book.on_connector_status(station_id, evse_id, status)

    def _reservation_status_update(
        self, connection: StationConnection, request: r.ReservationStatusUpdateRequest
    ) -> OcppModel:
        self._book.on_status_update(
            connection.station_id,
            request.reservation_id,
            expired=request.reservation_update_status is ReservationUpdateStatus.EXPIRED,
        )
        return r.ReservationStatusUpdateResponse()

    def _authorize(self, connection: StationConnection, request: m.AuthorizeRequest) -> OcppModel:
        return m.AuthorizeResponse(id_token_info=self.id_token_info(request.id_token))

    def _transaction_event(
        self, connection: StationConnection, request: m.TransactionEventRequest
    ) -> OcppModel:
        station_id = connection.station_id
        transaction_id = request.transaction_info.transaction_id
        connector = self._transaction_connector(station_id, request)
        if request.event_type is TransactionEventType.ENDED:
            if connector is not None and connector.transaction_id == transaction_id:
                self._registry.update_connector(
                    station_id,
                    connector.connector_id,
                    evse_id=connector.evse_id,
                    transaction_id=None,
                    id_tag=None,
                )
            logger.info(
                "station %s: transaction %s ended (%s)",
                station_id,
                transaction_id,
                _value(request.transaction_info.stopped_reason) or "no reason given",
            )
        elif connector is not None and connector.transaction_id != transaction_id:
            self._registry.update_connector(
                station_id,
                connector.connector_id,
                evse_id=connector.evse_id,
                transaction_id=transaction_id,
                id_tag=request.id_token.id_token if request.id_token else connector.id_tag,
            )
            logger.info(
                "station %s: transaction %s on EVSE %d connector %d (%s)",
                station_id,
                transaction_id,
                connector.evse_id or 0,
                connector.connector_id,
                request.trigger_reason.value,
            )
        info = self.id_token_info(request.id_token) if request.id_token is not None else None
        evse_id = request.evse.id if request.evse is not None else 0
        if request.reservation_id is not None:
            self._book.on_transaction_started(
                station_id, evse_id, request.reservation_id, transaction_id
            )
        elif (
            request.event_type is TransactionEventType.STARTED
            and request.id_token is not None
            and info is not None
            and info.status is AuthorizationStatus.ACCEPTED
        ):
            group = info.group_id_token.id_token if info.group_id_token is not None else None
            self._book.on_foreign_transaction(
                station_id, evse_id, request.id_token.id_token, group, transaction_id
            )
        return m.TransactionEventResponse(id_token_info=info)

    def _transaction_connector(
        self, station_id: str, request: m.TransactionEventRequest
    ) -> ConnectorSnapshot | None:
        """The connector a TransactionEvent is about: the one it names (its EVSE's first
        connector when it names only the EVSE), else the one holding the transaction."""
        transaction_id = request.transaction_info.transaction_id
        if request.evse is not None:
            if request.evse.connector_id is not None:
                return self._registry.connector(
                    station_id, request.evse.connector_id, request.evse.id
                ) or ConnectorSnapshot(
                    station_id, request.evse.connector_id, evse_id=request.evse.id
                )
            known = self._registry.evse_connectors(station_id, request.evse.id)
            holding = [c for c in known if c.transaction_id == transaction_id]
            if holding or known:
                return (holding or known)[0]
            return ConnectorSnapshot(station_id, 1, evse_id=request.evse.id)
        found = self._registry.find_transaction(transaction_id)
        return found if found is not None and found.station_id == station_id else None

    def _meter_values(
        self, connection: StationConnection, request: m.MeterValuesRequest
    ) -> OcppModel:
        return m.MeterValuesResponse()

    def _heartbeat(self, connection: StationConnection, request: m.HeartbeatRequest) -> OcppModel:
        now = _now()
        self._registry.update_station(connection.station_id, last_heartbeat_at=now)
        return m.HeartbeatResponse(current_time=clock_time(now))

    def _data_transfer(
        self, connection: StationConnection, request: m.DataTransferRequest
    ) -> OcppModel:
        return m.DataTransferResponse(status=DataTransferStatus.UNKNOWN_VENDOR_ID)

    def _security_event(
        self, connection: StationConnection, request: m.SecurityEventNotificationRequest
    ) -> OcppModel:
        logger.info(
            "station %s: security event %s%s",
            connection.station_id,
            request.type,
            f" ({request.tech_info})" if request.tech_info else "",
        )
        self._registry.update_station(connection.station_id, note=f"security event: {request.type}")
        return m.SecurityEventNotificationResponse()


_STATUS_VALUES = frozenset(s.value for s in ConnectorStatus)


def _shown(value: bool | None) -> str:
    return "unknown" if value is None else str(value).lower()


def _value(member: Any) -> str | None:
    return None if member is None else str(member.value)
