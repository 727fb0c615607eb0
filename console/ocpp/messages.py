"""Core-profile payloads a station sends, and the calls the console sends to stations."""

from __future__ import annotations

from typing import Annotated, ClassVar

from pydantic import Field, field_validator

from console.ocpp.base import (
    CiString20,
    CiString25,
    CiString50,
    CiString255,
    CiString500,
    ConnectorId,
    Decimal1,
    IdToken,
    Integer,
    OcppModel,
    PositiveConnectorId,
    Text,
)
from console.ocpp.dates import OcppDateTime
from console.ocpp.enums import (
    AuthorizationStatus,
    AvailabilityStatus,
    AvailabilityType,
    ChargePointErrorCode,
    ChargePointStatus,
    ChargingProfileKind,
    ChargingProfilePurpose,
    ChargingRateUnit,
    DataTransferStatus,
    DiagnosticsStatus,
    FirmwareStatus,
    Location,
    Measurand,
    MessageTrigger,
    Phase,
    ReadingContext,
    RecurrencyKind,
    RegistrationStatus,
    RemoteStartStopStatus,
    StopReason,
    TriggerMessageStatus,
    UnitOfMeasure,
    ValueFormat,
)

# --- shared types ------------------------------------------------------------------------


class IdTagInfo(OcppModel):
    status: AuthorizationStatus
    expiry_date: OcppDateTime | None = None
    parent_id_tag: CiString20 | None = None


class SampledValue(OcppModel):
    value: Text
    context: ReadingContext | None = None
    format: ValueFormat | None = None
    measurand: Measurand | None = None
    phase: Phase | None = None
    location: Location | None = None
    unit: UnitOfMeasure | None = None


class MeterValue(OcppModel):
    timestamp: OcppDateTime
    sampled_value: Annotated[list[SampledValue], Field(min_length=1)]


class TransactionSampledValue(SampledValue):
    @field_validator("unit")
    @classmethod
    def _no_hertz(cls, unit: UnitOfMeasure | None) -> UnitOfMeasure | None:
        # The official StopTransaction schema's unit list lacks Hertz (MeterValues has it).
        if unit is UnitOfMeasure.HERTZ:
            raise ValueError("Hertz is not a unit StopTransaction allows")
        return unit


class TransactionMeterValue(OcppModel):
    timestamp: OcppDateTime
    sampled_value: Annotated[list[TransactionSampledValue], Field(min_length=1)]


class ChargingSchedulePeriod(OcppModel):
    start_period: Integer
    limit: Decimal1
    number_phases: Integer | None = None


class ChargingSchedule(OcppModel):
    charging_rate_unit: ChargingRateUnit
    charging_schedule_period: list[ChargingSchedulePeriod]
    duration: Integer | None = None
    start_schedule: OcppDateTime | None = None
    min_charging_rate: Decimal1 | None = None


class ChargingProfile(OcppModel):
    charging_profile_id: Integer
    stack_level: Annotated[int, Field(strict=True, ge=0)]
    charging_profile_purpose: ChargingProfilePurpose
    charging_profile_kind: ChargingProfileKind
    charging_schedule: ChargingSchedule
    transaction_id: Integer | None = None
    recurrency_kind: RecurrencyKind | None = None
    valid_from: OcppDateTime | None = None
    valid_to: OcppDateTime | None = None


class KeyValue(OcppModel):
    key: CiString50
    readonly: bool = Field(strict=True)
    value: CiString500 | None = None


# --- station -> Central System -------------------------------------------------------------


class AuthorizeRequest(OcppModel):
    feature_name: ClassVar[str] = "Authorize"
    id_tag: IdToken


class AuthorizeConfirmation(OcppModel):
    feature_name: ClassVar[str] = "Authorize"
    id_tag_info: IdTagInfo


class BootNotificationRequest(OcppModel):
    feature_name: ClassVar[str] = "BootNotification"
    charge_point_vendor: CiString20
    charge_point_model: CiString20
    charge_point_serial_number: CiString25 | None = None
    charge_box_serial_number: CiString25 | None = None
    firmware_version: CiString50 | None = None
    iccid: CiString20 | None = None
    imsi: CiString20 | None = None
    meter_type: CiString25 | None = None
    meter_serial_number: CiString25 | None = None


class BootNotificationConfirmation(OcppModel):
    feature_name: ClassVar[str] = "BootNotification"
    current_time: OcppDateTime
    interval: Integer
    status: RegistrationStatus


class DataTransferRequest(OcppModel):
    feature_name: ClassVar[str] = "DataTransfer"
    vendor_id: CiString255
    message_id: CiString50 | None = None
    data: Text | None = None


class DataTransferConfirmation(OcppModel):
    feature_name: ClassVar[str] = "DataTransfer"
    status: DataTransferStatus
    data: Text | None = None


class DiagnosticsStatusNotificationRequest(OcppModel):
    feature_name: ClassVar[str] = "DiagnosticsStatusNotification"
    status: DiagnosticsStatus


class DiagnosticsStatusNotificationConfirmation(OcppModel):
    feature_name: ClassVar[str] = "DiagnosticsStatusNotification"


class FirmwareStatusNotificationRequest(OcppModel):
    feature_name: ClassVar[str] = "FirmwareStatusNotification"
    status: FirmwareStatus


class FirmwareStatusNotificationConfirmation(OcppModel):
    feature_name: ClassVar[str] = "FirmwareStatusNotification"


class HeartbeatRequest(OcppModel):
    feature_name: ClassVar[str] = "Heartbeat"


class HeartbeatConfirmation(OcppModel):
    feature_name: ClassVar[str] = "Heartbeat"
    current_time: OcppDateTime


class MeterValuesRequest(OcppModel):
    feature_name: ClassVar[str] = "MeterValues"
    connector_id: ConnectorId
    meter_value: Annotated[list[MeterValue], Field(min_length=1)]
    transaction_id: Integer | None = None


class MeterValuesConfirmation(OcppModel):
    feature_name: ClassVar[str] = "MeterValues"


class StartTransactionRequest(OcppModel):
    feature_name: ClassVar[str] = "StartTransaction"
    connector_id: PositiveConnectorId
    id_tag: IdToken
    meter_start: Integer
    timestamp: OcppDateTime
    reservation_id: Integer | None = None


class StartTransactionConfirmation(OcppModel):
    feature_name: ClassVar[str] = "StartTransaction"
    id_tag_info: IdTagInfo
    transaction_id: Integer


class StatusNotificationRequest(OcppModel):
    feature_name: ClassVar[str] = "StatusNotification"
    connector_id: ConnectorId
    error_code: ChargePointErrorCode
    status: ChargePointStatus
    info: CiString50 | None = None
    timestamp: OcppDateTime | None = None
    vendor_id: CiString255 | None = None
    vendor_error_code: CiString50 | None = None


class StatusNotificationConfirmation(OcppModel):
    feature_name: ClassVar[str] = "StatusNotification"


class StopTransactionRequest(OcppModel):
    feature_name: ClassVar[str] = "StopTransaction"
    meter_stop: Integer
    timestamp: OcppDateTime
    transaction_id: Integer
    id_tag: IdToken | None = None
    reason: StopReason | None = None
    transaction_data: list[TransactionMeterValue] | None = None


class StopTransactionConfirmation(OcppModel):
    feature_name: ClassVar[str] = "StopTransaction"
    id_tag_info: IdTagInfo | None = None


# --- Central System -> station -------------------------------------------------------------


class GetConfigurationRequest(OcppModel):
    feature_name: ClassVar[str] = "GetConfiguration"
    key: list[CiString50] | None = None


class GetConfigurationConfirmation(OcppModel):
    feature_name: ClassVar[str] = "GetConfiguration"
    configuration_key: list[KeyValue] | None = None
    unknown_key: list[CiString50] | None = None


class ChangeAvailabilityRequest(OcppModel):
    feature_name: ClassVar[str] = "ChangeAvailability"
    connector_id: ConnectorId
    type: AvailabilityType


class ChangeAvailabilityConfirmation(OcppModel):
    feature_name: ClassVar[str] = "ChangeAvailability"
    status: AvailabilityStatus


class TriggerMessageRequest(OcppModel):
    feature_name: ClassVar[str] = "TriggerMessage"
    requested_message: MessageTrigger
    connector_id: PositiveConnectorId | None = None


class TriggerMessageConfirmation(OcppModel):
    feature_name: ClassVar[str] = "TriggerMessage"
    status: TriggerMessageStatus


class RemoteStartTransactionRequest(OcppModel):
    feature_name: ClassVar[str] = "RemoteStartTransaction"
    id_tag: IdToken
    connector_id: PositiveConnectorId | None = None
    charging_profile: ChargingProfile | None = None


class RemoteStartTransactionConfirmation(OcppModel):
    feature_name: ClassVar[str] = "RemoteStartTransaction"
    status: RemoteStartStopStatus


class RemoteStopTransactionRequest(OcppModel):
    feature_name: ClassVar[str] = "RemoteStopTransaction"
    transaction_id: Integer


class RemoteStopTransactionConfirmation(OcppModel):
    feature_name: ClassVar[str] = "RemoteStopTransaction"
    status: RemoteStartStopStatus
