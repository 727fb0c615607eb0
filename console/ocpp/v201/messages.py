"""OCPP 2.0.1 messages a station exchanges while it is commissioned, besides the reservation
(``reservation``) and device-model (``device_model``) ones.

Station to Central System: BootNotification, Heartbeat, StatusNotification, Authorize,
TransactionEvent, MeterValues, SecurityEventNotification. Central System to station:
ChangeAvailability, TriggerMessage, RequestStartTransaction, RequestStopTransaction. Both
ways: DataTransfer. Each request's answer is its ``...Response``.
"""

from __future__ import annotations

from typing import Annotated, ClassVar

from pydantic import Field, JsonValue

from console.ocpp.base import Integer, Number
from console.ocpp.dates import OcppDateTime
from console.ocpp.v201.charging import ChargingProfile
from console.ocpp.v201.enums import (
    AuthorizeCertificateStatus,
    BootReason,
    ChangeAvailabilityStatus,
    ChargingState,
    ConnectorStatus,
    DataTransferStatus,
    MessageTrigger,
    OperationalStatus,
    Reason,
    RegistrationStatus,
    RequestStartStopStatus,
    TransactionEventType,
    TriggerMessageStatus,
    TriggerReason,
)
from console.ocpp.v201.types import (
    EVSE,
    Boolean,
    EvseNumber,
    IdToken,
    IdTokenInfo,
    MessageContent,
    MeterValue,
    OCSPRequestData,
    StatusInfo,
    String20,
    String25,
    String36,
    String50,
    String255,
    String5500,
    V201Model,
)

__all__ = [
    "AuthorizeRequest",
    "AuthorizeResponse",
    "BootNotificationRequest",
    "BootNotificationResponse",
    "ChangeAvailabilityRequest",
    "ChangeAvailabilityResponse",
    "ChargingStation",
    "DataTransferRequest",
    "DataTransferResponse",
    "HeartbeatRequest",
    "HeartbeatResponse",
    "MeterValuesRequest",
    "MeterValuesResponse",
    "Modem",
    "RequestStartTransactionRequest",
    "RequestStartTransactionResponse",
    "RequestStopTransactionRequest",
    "RequestStopTransactionResponse",
    "SecurityEventNotificationRequest",
    "SecurityEventNotificationResponse",
    "StatusNotificationRequest",
    "StatusNotificationResponse",
    "Transaction",
    "TransactionEventRequest",
    "TransactionEventResponse",
    "TriggerMessageRequest",
    "TriggerMessageResponse",
]


# --- BootNotification, Heartbeat, StatusNotification ---------------------------------------


class Modem(V201Model):
    """The station's wireless modem, if it has one."""

    iccid: String20 | None = None
    imsi: String20 | None = None


class ChargingStation(V201Model):
    """The station as it describes itself at boot."""

    serial_number: String25 | None = None
    model: String20
    modem: Modem | None = None
    vendor_name: String50
    firmware_version: String50 | None = None


class BootNotificationRequest(V201Model):
    """A station that has booted, saying what it is and why it booted."""

    feature_name: ClassVar[str] = "BootNotification"

    charging_station: ChargingStation
    reason: BootReason


class BootNotificationResponse(V201Model):
    """Whether the station is registered, the time, and the heartbeat interval."""

    feature_name: ClassVar[str] = "BootNotification"

    current_time: OcppDateTime
    interval: Integer
    status: RegistrationStatus
    status_info: StatusInfo | None = None


class HeartbeatRequest(V201Model):
    """A station telling it is alive."""

    feature_name: ClassVar[str] = "Heartbeat"


class HeartbeatResponse(V201Model):
    """The Central System's time."""

    feature_name: ClassVar[str] = "Heartbeat"

    current_time: OcppDateTime


class StatusNotificationRequest(V201Model):
    """The status of one connector of one EVSE."""

    feature_name: ClassVar[str] = "StatusNotification"

    timestamp: OcppDateTime
    connector_status: ConnectorStatus
    evse_id: EvseNumber
    connector_id: EvseNumber


class StatusNotificationResponse(V201Model):
    """The Central System's (empty) answer to StatusNotification."""

    feature_name: ClassVar[str] = "StatusNotification"


# --- Authorize, TransactionEvent, MeterValues ----------------------------------------------


class AuthorizeRequest(V201Model):
    """Ask whether an idToken may charge (with ISO 15118 certificate data, optionally)."""

    feature_name: ClassVar[str] = "Authorize"

    id_token: IdToken
    certificate: String5500 | None = None
    iso15118_certificate_hash_data: (
        Annotated[list[OCSPRequestData], Field(min_length=1, max_length=4)] | None
    ) = None


class AuthorizeResponse(V201Model):
    """What the Central System knows of the idToken."""

    feature_name: ClassVar[str] = "Authorize"

    id_token_info: IdTokenInfo
    certificate_status: AuthorizeCertificateStatus | None = None


class Transaction(V201Model):
    """A transaction as a TransactionEvent tells of it."""

    transaction_id: String36
    charging_state: ChargingState | None = None
    time_spent_charging: Integer | None = None
    stopped_reason: Reason | None = None
    remote_start_id: Integer | None = None


class TransactionEventRequest(V201Model):
    """A transaction started, changed or ended (``reservationId``: the reservation it used)."""

    feature_name: ClassVar[str] = "TransactionEvent"

    event_type: TransactionEventType
    meter_value: Annotated[list[MeterValue], Field(min_length=1)] | None = None
    timestamp: OcppDateTime
    trigger_reason: TriggerReason
    seq_no: Integer
    offline: Boolean | None = None
    number_of_phases_used: Integer | None = None
    cable_max_current: Integer | None = None
    reservation_id: Integer | None = None
    transaction_info: Transaction
    evse: EVSE | None = None
    id_token: IdToken | None = None


class TransactionEventResponse(V201Model):
    """The Central System's answer: cost, priority, and what it knows of the idToken."""

    feature_name: ClassVar[str] = "TransactionEvent"

    total_cost: Number | None = None
    charging_priority: Integer | None = None
    id_token_info: IdTokenInfo | None = None
    updated_personal_message: MessageContent | None = None


class MeterValuesRequest(V201Model):
    """Meter values of an EVSE (0: the station's main meter) outside transactions."""

    feature_name: ClassVar[str] = "MeterValues"

    evse_id: EvseNumber
    meter_value: Annotated[list[MeterValue], Field(min_length=1)]


class MeterValuesResponse(V201Model):
    """The Central System's (empty) answer to MeterValues."""

    feature_name: ClassVar[str] = "MeterValues"


class SecurityEventNotificationRequest(V201Model):
    """A security event at the station (a type from the specification's list, or a vendor's)."""

    feature_name: ClassVar[str] = "SecurityEventNotification"

    type: String50
    timestamp: OcppDateTime
    tech_info: String255 | None = None


class SecurityEventNotificationResponse(V201Model):
    """The Central System's (empty) answer to SecurityEventNotification."""

    feature_name: ClassVar[str] = "SecurityEventNotification"


# --- Central System -> station -------------------------------------------------------------


class ChangeAvailabilityRequest(V201Model):
    """Make the station, an EVSE or a connector Operative or Inoperative."""

    feature_name: ClassVar[str] = "ChangeAvailability"

    evse: EVSE | None = None
    operational_status: OperationalStatus


class ChangeAvailabilityResponse(V201Model):
    """Accepted, Rejected, or Scheduled (after a running transaction)."""

    feature_name: ClassVar[str] = "ChangeAvailability"

    status: ChangeAvailabilityStatus
    status_info: StatusInfo | None = None


class TriggerMessageRequest(V201Model):
    """Ask the station to send a message now (for an EVSE, where it applies)."""

    feature_name: ClassVar[str] = "TriggerMessage"

    evse: EVSE | None = None
    requested_message: MessageTrigger


class TriggerMessageResponse(V201Model):
    """Whether the station will send the message."""

    feature_name: ClassVar[str] = "TriggerMessage"

    status: TriggerMessageStatus
    status_info: StatusInfo | None = None


class RequestStartTransactionRequest(V201Model):
    """Start a transaction for an idToken remotely (``remoteStartId`` comes back in it)."""

    feature_name: ClassVar[str] = "RequestStartTransaction"

    evse_id: EvseNumber | None = None
    group_id_token: IdToken | None = None
    id_token: IdToken
    remote_start_id: Integer
    charging_profile: ChargingProfile | None = None


class RequestStartTransactionResponse(V201Model):
    """Whether the station will start it (and the transaction, if one is running already)."""

    feature_name: ClassVar[str] = "RequestStartTransaction"

    status: RequestStartStopStatus
    status_info: StatusInfo | None = None
    transaction_id: String36 | None = None


class RequestStopTransactionRequest(V201Model):
    """Stop a transaction remotely."""

    feature_name: ClassVar[str] = "RequestStopTransaction"

    transaction_id: String36


class RequestStopTransactionResponse(V201Model):
    """Whether the station will stop it."""

    feature_name: ClassVar[str] = "RequestStopTransaction"

    status: RequestStartStopStatus
    status_info: StatusInfo | None = None


# --- both ways -----------------------------------------------------------------------------


class DataTransferRequest(V201Model):
    """Vendor-specific data; ``data`` is any JSON value."""

    feature_name: ClassVar[str] = "DataTransfer"

    message_id: String50 | None = None
    data: JsonValue | None = None
    vendor_id: String255


class DataTransferResponse(V201Model):
    """The answer to DataTransfer, with any JSON value as ``data``."""

    feature_name: ClassVar[str] = "DataTransfer"

    status: DataTransferStatus
    status_info: StatusInfo | None = None
    data: JsonValue | None = None
