"""The OCPP 2.0.1 device model: reading and writing variables, reports, and events.

GetVariables and SetVariables (the Central System reads or writes component variables, such
as ``ReservationCtrlr.Enabled``), GetBaseReport with the NotifyReport messages that carry the
report, and NotifyEvent (a station reporting a variable that changed, such as a connector's
``AvailabilityState``).
"""

from __future__ import annotations

from typing import Annotated, ClassVar

from pydantic import Field

from console.ocpp.base import Integer, Number
from console.ocpp.dates import OcppDateTime
from console.ocpp.v201.enums import (
    AttributeType,
    DataType,
    EventNotificationType,
    EventTrigger,
    GenericDeviceModelStatus,
    GetVariableStatus,
    Mutability,
    ReportBase,
    SetVariableStatus,
)
from console.ocpp.v201.types import (
    Boolean,
    Component,
    StatusInfo,
    String16,
    String36,
    String50,
    String500,
    String1000,
    String2500,
    V201Model,
    Variable,
)

__all__ = [
    "EventData",
    "GetBaseReportRequest",
    "GetBaseReportResponse",
    "GetVariableData",
    "GetVariableResult",
    "GetVariablesRequest",
    "GetVariablesResponse",
    "NotifyEventRequest",
    "NotifyEventResponse",
    "NotifyReportRequest",
    "NotifyReportResponse",
    "ReportData",
    "SetVariableData",
    "SetVariableResult",
    "SetVariablesRequest",
    "SetVariablesResponse",
    "VariableAttribute",
    "VariableCharacteristics",
]


# --- GetVariables / SetVariables -------------------------------------------------------------


class GetVariableData(V201Model):
    """One variable to read (absent ``attributeType``: Actual)."""

    attribute_type: AttributeType | None = None
    component: Component
    variable: Variable


class GetVariableResult(V201Model):
    """The value of one variable read, or why it could not be read."""

    attribute_status_info: StatusInfo | None = None
    attribute_status: GetVariableStatus
    attribute_type: AttributeType | None = None
    attribute_value: String2500 | None = None
    component: Component
    variable: Variable


class GetVariablesRequest(V201Model):
    """Read variables of the station's device model."""

    feature_name: ClassVar[str] = "GetVariables"

    get_variable_data: Annotated[list[GetVariableData], Field(min_length=1)]


class GetVariablesResponse(V201Model):
    """One result per variable asked for."""

    feature_name: ClassVar[str] = "GetVariables"

    get_variable_result: Annotated[list[GetVariableResult], Field(min_length=1)]


class SetVariableData(V201Model):
    """One variable to write, with its new value."""

    attribute_type: AttributeType | None = None
    attribute_value: String1000
    component: Component
    variable: Variable


class SetVariableResult(V201Model):
    """Whether one variable was written, or why not."""

    attribute_type: AttributeType | None = None
    attribute_status: SetVariableStatus
    attribute_status_info: StatusInfo | None = None
    component: Component
    variable: Variable


class SetVariablesRequest(V201Model):
    """Write variables of the station's device model."""

    feature_name: ClassVar[str] = "SetVariables"

    set_variable_data: Annotated[list[SetVariableData], Field(min_length=1)]


class SetVariablesResponse(V201Model):
    """One result per variable written."""

    feature_name: ClassVar[str] = "SetVariables"

    set_variable_result: Annotated[list[SetVariableResult], Field(min_length=1)]


# --- GetBaseReport / NotifyReport ------------------------------------------------------------


class GetBaseReportRequest(V201Model):
    """Ask for a report of the device model; it comes in NotifyReport messages."""

    feature_name: ClassVar[str] = "GetBaseReport"

    request_id: Integer
    report_base: ReportBase


class GetBaseReportResponse(V201Model):
    """Whether the station will send the report."""

    feature_name: ClassVar[str] = "GetBaseReport"

    status: GenericDeviceModelStatus
    status_info: StatusInfo | None = None


class VariableAttribute(V201Model):
    """One attribute (Actual, Target, MinSet, MaxSet) of a variable, with its value."""

    type: AttributeType | None = None
    value: String2500 | None = None
    mutability: Mutability | None = None
    persistent: Boolean | None = None
    constant: Boolean | None = None


class VariableCharacteristics(V201Model):
    """What a variable holds: its data type, unit, limits and allowed values."""

    unit: String16 | None = None
    data_type: DataType
    min_limit: Number | None = None
    max_limit: Number | None = None
    values_list: String1000 | None = None
    supports_monitoring: Boolean


class ReportData(V201Model):
    """One variable of a report, with its attributes and characteristics."""

    component: Component
    variable: Variable
    variable_attribute: Annotated[list[VariableAttribute], Field(min_length=1, max_length=4)]
    variable_characteristics: VariableCharacteristics | None = None


class NotifyReportRequest(V201Model):
    """One part of a report (``tbc``: more parts follow, numbered by ``seqNo``)."""

    feature_name: ClassVar[str] = "NotifyReport"

    request_id: Integer
    generated_at: OcppDateTime
    report_data: Annotated[list[ReportData], Field(min_length=1)] | None = None
    tbc: Boolean | None = None
    seq_no: Integer


class NotifyReportResponse(V201Model):
    """The Central System's (empty) answer to NotifyReport."""

    feature_name: ClassVar[str] = "NotifyReport"


# --- NotifyEvent -----------------------------------------------------------------------------


class EventData(V201Model):
    """One event: a variable of a component that changed or crossed a monitor's threshold."""

    event_id: Integer
    timestamp: OcppDateTime
    trigger: EventTrigger
    cause: Integer | None = None
    actual_value: String2500
    tech_code: String50 | None = None
    tech_info: String500 | None = None
    cleared: Boolean | None = None
    transaction_id: String36 | None = None
    component: Component
    variable_monitoring_id: Integer | None = None
    event_notification_type: EventNotificationType
    variable: Variable


class NotifyEventRequest(V201Model):
    """Events a station reports (``tbc``: more messages follow, numbered by ``seqNo``)."""

    feature_name: ClassVar[str] = "NotifyEvent"

    generated_at: OcppDateTime
    tbc: Boolean | None = None
    seq_no: Integer
    event_data: Annotated[list[EventData], Field(min_length=1)]


class NotifyEventResponse(V201Model):
    """The Central System's (empty) answer to NotifyEvent."""

    feature_name: ClassVar[str] = "NotifyEvent"
