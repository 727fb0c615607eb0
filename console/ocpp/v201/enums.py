"""Enumerations of OCPP 2.0.1, values spelled as on the wire (the official schemas' lists).

Each is named after its schema type without ``EnumType`` (``ConnectorStatusEnumType`` ->
``ConnectorStatus``); where that would read as an object type, after the field it fills
(``IdTokenEnumType`` -> ``IdTokenType``, ``ConnectorEnumType`` -> ``ConnectorType``).
Members are in the schemas' order.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "AttributeType",
    "AuthorizationStatus",
    "AuthorizeCertificateStatus",
    "BootReason",
    "CancelReservationStatus",
    "ChangeAvailabilityStatus",
    "ChargingProfileKind",
    "ChargingProfilePurpose",
    "ChargingRateUnit",
    "ChargingState",
    "ConnectorStatus",
    "ConnectorType",
    "CostKind",
    "DataTransferStatus",
    "DataType",
    "EventNotificationType",
    "EventTrigger",
    "GenericDeviceModelStatus",
    "GetVariableStatus",
    "HashAlgorithm",
    "IdTokenType",
    "Location",
    "Measurand",
    "MessageFormat",
    "MessageTrigger",
    "Mutability",
    "OperationalStatus",
    "Phase",
    "ReadingContext",
    "Reason",
    "RecurrencyKind",
    "RegistrationStatus",
    "ReportBase",
    "RequestStartStopStatus",
    "ReservationUpdateStatus",
    "ReserveNowStatus",
    "SetVariableStatus",
    "TransactionEventType",
    "TriggerMessageStatus",
    "TriggerReason",
]


class AttributeType(StrEnum):
    """Which value of a variable: the actual one, the target, or a bound (absent: Actual)."""

    ACTUAL = "Actual"
    TARGET = "Target"
    MIN_SET = "MinSet"
    MAX_SET = "MaxSet"


class AuthorizationStatus(StrEnum):
    """Whether an idToken may charge, and why not."""

    ACCEPTED = "Accepted"
    BLOCKED = "Blocked"
    CONCURRENT_TX = "ConcurrentTx"
    EXPIRED = "Expired"
    INVALID = "Invalid"
    NO_CREDIT = "NoCredit"
    NOT_ALLOWED_TYPE_EVSE = "NotAllowedTypeEVSE"
    NOT_AT_THIS_LOCATION = "NotAtThisLocation"
    NOT_AT_THIS_TIME = "NotAtThisTime"
    UNKNOWN = "Unknown"


class AuthorizeCertificateStatus(StrEnum):
    """The verdict on an ISO 15118 contract certificate."""

    ACCEPTED = "Accepted"
    SIGNATURE_ERROR = "SignatureError"
    CERTIFICATE_EXPIRED = "CertificateExpired"
    CERTIFICATE_REVOKED = "CertificateRevoked"
    NO_CERTIFICATE_AVAILABLE = "NoCertificateAvailable"
    CERT_CHAIN_ERROR = "CertChainError"
    CONTRACT_CANCELLED = "ContractCancelled"


class BootReason(StrEnum):
    """Why the station booted."""

    APPLICATION_RESET = "ApplicationReset"
    FIRMWARE_UPDATE = "FirmwareUpdate"
    LOCAL_RESET = "LocalReset"
    POWER_UP = "PowerUp"
    REMOTE_RESET = "RemoteReset"
    SCHEDULED_RESET = "ScheduledReset"
    TRIGGERED = "Triggered"
    UNKNOWN = "Unknown"
    WATCHDOG = "Watchdog"


class CancelReservationStatus(StrEnum):
    """A station's answer to CancelReservation."""

    ACCEPTED = "Accepted"
    REJECTED = "Rejected"


class ChangeAvailabilityStatus(StrEnum):
    """A station's answer to ChangeAvailability."""

    ACCEPTED = "Accepted"
    REJECTED = "Rejected"
    SCHEDULED = "Scheduled"


class ChargingProfileKind(StrEnum):
    """How a charging schedule's start is found."""

    ABSOLUTE = "Absolute"
    RECURRING = "Recurring"
    RELATIVE = "Relative"


class ChargingProfilePurpose(StrEnum):
    """What a charging profile limits."""

    CHARGING_STATION_EXTERNAL_CONSTRAINTS = "ChargingStationExternalConstraints"
    CHARGING_STATION_MAX_PROFILE = "ChargingStationMaxProfile"
    TX_DEFAULT_PROFILE = "TxDefaultProfile"
    TX_PROFILE = "TxProfile"


class ChargingRateUnit(StrEnum):
    """The unit of a charging limit."""

    W = "W"
    A = "A"


class ChargingState(StrEnum):
    """Where a transaction stands electrically."""

    CHARGING = "Charging"
    EV_CONNECTED = "EVConnected"
    SUSPENDED_EV = "SuspendedEV"
    SUSPENDED_EVSE = "SuspendedEVSE"
    IDLE = "Idle"


class ConnectorStatus(StrEnum):
    """A connector's status (2.0.1 has five; a plugged-in connector is Occupied)."""

    AVAILABLE = "Available"
    OCCUPIED = "Occupied"
    RESERVED = "Reserved"
    UNAVAILABLE = "Unavailable"
    FAULTED = "Faulted"


class ConnectorType(StrEnum):
    """The physical kind of a connector (plug and socket standards)."""

    C_CCS1 = "cCCS1"
    C_CCS2 = "cCCS2"
    C_G105 = "cG105"
    C_TESLA = "cTesla"
    C_TYPE1 = "cType1"
    C_TYPE2 = "cType2"
    S309_1P_16A = "s309-1P-16A"
    S309_1P_32A = "s309-1P-32A"
    S309_3P_16A = "s309-3P-16A"
    S309_3P_32A = "s309-3P-32A"
    S_BS1361 = "sBS1361"
    S_CEE_7_7 = "sCEE-7-7"
    S_TYPE2 = "sType2"
    S_TYPE3 = "sType3"
    OTHER1PH_MAX16A = "Other1PhMax16A"
    OTHER1PH_OVER16A = "Other1PhOver16A"
    OTHER3PH = "Other3Ph"
    PAN = "Pan"
    W_INDUCTIVE = "wInductive"
    W_RESONANT = "wResonant"
    UNDETERMINED = "Undetermined"
    UNKNOWN = "Unknown"


class CostKind(StrEnum):
    """What a cost in a sales tariff measures."""

    CARBON_DIOXIDE_EMISSION = "CarbonDioxideEmission"
    RELATIVE_PRICE_PERCENTAGE = "RelativePricePercentage"
    RENEWABLE_GENERATION_PERCENTAGE = "RenewableGenerationPercentage"


class DataTransferStatus(StrEnum):
    """An answer to DataTransfer."""

    ACCEPTED = "Accepted"
    REJECTED = "Rejected"
    UNKNOWN_MESSAGE_ID = "UnknownMessageId"
    UNKNOWN_VENDOR_ID = "UnknownVendorId"


class DataType(StrEnum):
    """The data type of a device-model variable."""

    STRING = "string"
    DECIMAL = "decimal"
    INTEGER = "integer"
    DATE_TIME = "dateTime"
    BOOLEAN = "boolean"
    OPTION_LIST = "OptionList"
    SEQUENCE_LIST = "SequenceList"
    MEMBER_LIST = "MemberList"


class EventNotificationType(StrEnum):
    """What made the station report an event."""

    HARD_WIRED_NOTIFICATION = "HardWiredNotification"
    HARD_WIRED_MONITOR = "HardWiredMonitor"
    PRECONFIGURED_MONITOR = "PreconfiguredMonitor"
    CUSTOM_MONITOR = "CustomMonitor"


class EventTrigger(StrEnum):
    """The kind of monitor that fired."""

    ALERTING = "Alerting"
    DELTA = "Delta"
    PERIODIC = "Periodic"


class GenericDeviceModelStatus(StrEnum):
    """A station's answer to a device-model request such as GetBaseReport."""

    ACCEPTED = "Accepted"
    REJECTED = "Rejected"
    NOT_SUPPORTED = "NotSupported"
    EMPTY_RESULT_SET = "EmptyResultSet"


class GetVariableStatus(StrEnum):
    """The result of reading one variable."""

    ACCEPTED = "Accepted"
    REJECTED = "Rejected"
    UNKNOWN_COMPONENT = "UnknownComponent"
    UNKNOWN_VARIABLE = "UnknownVariable"
    NOT_SUPPORTED_ATTRIBUTE_TYPE = "NotSupportedAttributeType"


class HashAlgorithm(StrEnum):
    """A hash algorithm of certificate data."""

    SHA256 = "SHA256"
    SHA384 = "SHA384"
    SHA512 = "SHA512"


class IdTokenType(StrEnum):
    """The kind of an idToken (RFID card, key code, eMAID, ...)."""

    CENTRAL = "Central"
    E_MAID = "eMAID"
    ISO14443 = "ISO14443"
    ISO15693 = "ISO15693"
    KEY_CODE = "KeyCode"
    LOCAL = "Local"
    MAC_ADDRESS = "MacAddress"
    NO_AUTHORIZATION = "NoAuthorization"


class Location(StrEnum):
    """Where a value was measured."""

    BODY = "Body"
    CABLE = "Cable"
    EV = "EV"
    INLET = "Inlet"
    OUTLET = "Outlet"


class Measurand(StrEnum):
    """What a sampled value measures."""

    CURRENT_EXPORT = "Current.Export"
    CURRENT_IMPORT = "Current.Import"
    CURRENT_OFFERED = "Current.Offered"
    ENERGY_ACTIVE_EXPORT_REGISTER = "Energy.Active.Export.Register"
    ENERGY_ACTIVE_IMPORT_REGISTER = "Energy.Active.Import.Register"
    ENERGY_REACTIVE_EXPORT_REGISTER = "Energy.Reactive.Export.Register"
    ENERGY_REACTIVE_IMPORT_REGISTER = "Energy.Reactive.Import.Register"
    ENERGY_ACTIVE_EXPORT_INTERVAL = "Energy.Active.Export.Interval"
    ENERGY_ACTIVE_IMPORT_INTERVAL = "Energy.Active.Import.Interval"
    ENERGY_ACTIVE_NET = "Energy.Active.Net"
    ENERGY_REACTIVE_EXPORT_INTERVAL = "Energy.Reactive.Export.Interval"
    ENERGY_REACTIVE_IMPORT_INTERVAL = "Energy.Reactive.Import.Interval"
    ENERGY_REACTIVE_NET = "Energy.Reactive.Net"
    ENERGY_APPARENT_NET = "Energy.Apparent.Net"
    ENERGY_APPARENT_IMPORT = "Energy.Apparent.Import"
    ENERGY_APPARENT_EXPORT = "Energy.Apparent.Export"
    FREQUENCY = "Frequency"
    POWER_ACTIVE_EXPORT = "Power.Active.Export"
    POWER_ACTIVE_IMPORT = "Power.Active.Import"
    POWER_FACTOR = "Power.Factor"
    POWER_OFFERED = "Power.Offered"
    POWER_REACTIVE_EXPORT = "Power.Reactive.Export"
    POWER_REACTIVE_IMPORT = "Power.Reactive.Import"
    SOC = "SoC"
    VOLTAGE = "Voltage"


class MessageFormat(StrEnum):
    """The format of a message shown to the driver."""

    ASCII = "ASCII"
    HTML = "HTML"
    URI = "URI"
    UTF8 = "UTF8"


class MessageTrigger(StrEnum):
    """A message the Central System asks a station to send (TriggerMessage)."""

    BOOT_NOTIFICATION = "BootNotification"
    LOG_STATUS_NOTIFICATION = "LogStatusNotification"
    FIRMWARE_STATUS_NOTIFICATION = "FirmwareStatusNotification"
    HEARTBEAT = "Heartbeat"
    METER_VALUES = "MeterValues"
    SIGN_CHARGING_STATION_CERTIFICATE = "SignChargingStationCertificate"
    SIGN_V2G_CERTIFICATE = "SignV2GCertificate"
    STATUS_NOTIFICATION = "StatusNotification"
    TRANSACTION_EVENT = "TransactionEvent"
    SIGN_COMBINED_CERTIFICATE = "SignCombinedCertificate"
    PUBLISH_FIRMWARE_STATUS_NOTIFICATION = "PublishFirmwareStatusNotification"


class Mutability(StrEnum):
    """Whether a variable attribute can be read, written, or both."""

    READ_ONLY = "ReadOnly"
    WRITE_ONLY = "WriteOnly"
    READ_WRITE = "ReadWrite"


class OperationalStatus(StrEnum):
    """The availability ChangeAvailability asks for."""

    INOPERATIVE = "Inoperative"
    OPERATIVE = "Operative"


class Phase(StrEnum):
    """The phase, or pair of phases, a value was measured on."""

    L1 = "L1"
    L2 = "L2"
    L3 = "L3"
    N = "N"
    L1_N = "L1-N"
    L2_N = "L2-N"
    L3_N = "L3-N"
    L1_L2 = "L1-L2"
    L2_L3 = "L2-L3"
    L3_L1 = "L3-L1"


class ReadingContext(StrEnum):
    """Why a value was sampled."""

    INTERRUPTION_BEGIN = "Interruption.Begin"
    INTERRUPTION_END = "Interruption.End"
    OTHER = "Other"
    SAMPLE_CLOCK = "Sample.Clock"
    SAMPLE_PERIODIC = "Sample.Periodic"
    TRANSACTION_BEGIN = "Transaction.Begin"
    TRANSACTION_END = "Transaction.End"
    TRIGGER = "Trigger"


class Reason(StrEnum):
    """Why a transaction stopped."""

    DE_AUTHORIZED = "DeAuthorized"
    EMERGENCY_STOP = "EmergencyStop"
    ENERGY_LIMIT_REACHED = "EnergyLimitReached"
    EV_DISCONNECTED = "EVDisconnected"
    GROUND_FAULT = "GroundFault"
    IMMEDIATE_RESET = "ImmediateReset"
    LOCAL = "Local"
    LOCAL_OUT_OF_CREDIT = "LocalOutOfCredit"
    MASTER_PASS = "MasterPass"
    OTHER = "Other"
    OVERCURRENT_FAULT = "OvercurrentFault"
    POWER_LOSS = "PowerLoss"
    POWER_QUALITY = "PowerQuality"
    REBOOT = "Reboot"
    REMOTE = "Remote"
    SOC_LIMIT_REACHED = "SOCLimitReached"
    STOPPED_BY_EV = "StoppedByEV"
    TIME_LIMIT_REACHED = "TimeLimitReached"
    TIMEOUT = "Timeout"


class RecurrencyKind(StrEnum):
    """How a recurring charging profile repeats."""

    DAILY = "Daily"
    WEEKLY = "Weekly"


class RegistrationStatus(StrEnum):
    """The Central System's answer to BootNotification."""

    ACCEPTED = "Accepted"
    PENDING = "Pending"
    REJECTED = "Rejected"


class ReportBase(StrEnum):
    """Which device-model report GetBaseReport asks for."""

    CONFIGURATION_INVENTORY = "ConfigurationInventory"
    FULL_INVENTORY = "FullInventory"
    SUMMARY_INVENTORY = "SummaryInventory"


class RequestStartStopStatus(StrEnum):
    """A station's answer to RequestStartTransaction or RequestStopTransaction."""

    ACCEPTED = "Accepted"
    REJECTED = "Rejected"


class ReservationUpdateStatus(StrEnum):
    """How a reservation ended on its own (ReservationStatusUpdate)."""

    EXPIRED = "Expired"
    REMOVED = "Removed"


class ReserveNowStatus(StrEnum):
    """A station's answer to ReserveNow."""

    ACCEPTED = "Accepted"
    FAULTED = "Faulted"
    OCCUPIED = "Occupied"
    REJECTED = "Rejected"
    UNAVAILABLE = "Unavailable"


class SetVariableStatus(StrEnum):
    """The result of writing one variable."""

    ACCEPTED = "Accepted"
    REJECTED = "Rejected"
    UNKNOWN_COMPONENT = "UnknownComponent"
    UNKNOWN_VARIABLE = "UnknownVariable"
    NOT_SUPPORTED_ATTRIBUTE_TYPE = "NotSupportedAttributeType"
    REBOOT_REQUIRED = "RebootRequired"


class TransactionEventType(StrEnum):
    """Where a TransactionEvent stands in its transaction."""

    ENDED = "Ended"
    STARTED = "Started"
    UPDATED = "Updated"


class TriggerMessageStatus(StrEnum):
    """A station's answer to TriggerMessage."""

    ACCEPTED = "Accepted"
    REJECTED = "Rejected"
    NOT_IMPLEMENTED = "NotImplemented"


class TriggerReason(StrEnum):
    """What made the station send a TransactionEvent."""

    AUTHORIZED = "Authorized"
    CABLE_PLUGGED_IN = "CablePluggedIn"
    CHARGING_RATE_CHANGED = "ChargingRateChanged"
    CHARGING_STATE_CHANGED = "ChargingStateChanged"
    DEAUTHORIZED = "Deauthorized"
    ENERGY_LIMIT_REACHED = "EnergyLimitReached"
    EV_COMMUNICATION_LOST = "EVCommunicationLost"
    EV_CONNECT_TIMEOUT = "EVConnectTimeout"
    METER_VALUE_CLOCK = "MeterValueClock"
    METER_VALUE_PERIODIC = "MeterValuePeriodic"
    TIME_LIMIT_REACHED = "TimeLimitReached"
    TRIGGER = "Trigger"
    UNLOCK_COMMAND = "UnlockCommand"
    STOP_AUTHORIZED = "StopAuthorized"
    EV_DEPARTED = "EVDeparted"
    EV_DETECTED = "EVDetected"
    REMOTE_STOP = "RemoteStop"
    REMOTE_START = "RemoteStart"
    ABNORMAL_CONDITION = "AbnormalCondition"
    SIGNED_DATA_RECEIVED = "SignedDataReceived"
    RESET_COMMAND = "ResetCommand"
