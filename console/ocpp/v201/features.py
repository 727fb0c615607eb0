"""OCPP 2.0.1: which actions exist, who receives them, and their payload models.

Modeled: every message a 2.0.1 station exchanges while it is commissioned. Known: every
action of OCPP 2.0.1 (one per pair of official schemas), so that a call of one we do not
model is answered NotSupported, not NotImplemented. ``profile`` is the functional block of
the 2.0.1 specification the action belongs to.
"""

from __future__ import annotations

from console.ocpp.feature_table import BOTH, CP, CS, Feature, FeatureTable, Role
from console.ocpp.v201 import device_model as d
from console.ocpp.v201 import messages as m
from console.ocpp.v201 import reservation as r

__all__ = ["FEATURES", "KNOWN_ACTIONS", "TABLE", "feature_for"]

_MODELED = [
    # Station -> Central System.
    Feature(
        "BootNotification",
        m.BootNotificationRequest,
        m.BootNotificationResponse,
        "Provisioning",
        CS,
    ),
    Feature("Heartbeat", m.HeartbeatRequest, m.HeartbeatResponse, "Availability", CS),
    Feature(
        "StatusNotification",
        m.StatusNotificationRequest,
        m.StatusNotificationResponse,
        "Availability",
        CS,
    ),
    Feature("NotifyEvent", d.NotifyEventRequest, d.NotifyEventResponse, "Diagnostics", CS),
    Feature("NotifyReport", d.NotifyReportRequest, d.NotifyReportResponse, "Provisioning", CS),
    Feature("Authorize", m.AuthorizeRequest, m.AuthorizeResponse, "Authorization", CS),
    Feature(
        "TransactionEvent",
        m.TransactionEventRequest,
        m.TransactionEventResponse,
        "Transactions",
        CS,
    ),
    Feature("MeterValues", m.MeterValuesRequest, m.MeterValuesResponse, "MeterValues", CS),
    Feature(
        r.RESERVATION_STATUS_UPDATE_FEATURE_NAME,
        r.ReservationStatusUpdateRequest,
        r.ReservationStatusUpdateResponse,
        r.FUNCTIONAL_BLOCK,
        CS,
    ),
    Feature(
        "SecurityEventNotification",
        m.SecurityEventNotificationRequest,
        m.SecurityEventNotificationResponse,
        "Security",
        CS,
    ),
    # Central System -> station.
    Feature(
        r.RESERVE_NOW_FEATURE_NAME,
        r.ReserveNowRequest,
        r.ReserveNowResponse,
        r.FUNCTIONAL_BLOCK,
        CP,
    ),
    Feature(
        r.CANCEL_RESERVATION_FEATURE_NAME,
        r.CancelReservationRequest,
        r.CancelReservationResponse,
        r.FUNCTIONAL_BLOCK,
        CP,
    ),
    Feature("GetVariables", d.GetVariablesRequest, d.GetVariablesResponse, "Provisioning", CP),
    Feature("SetVariables", d.SetVariablesRequest, d.SetVariablesResponse, "Provisioning", CP),
    Feature("GetBaseReport", d.GetBaseReportRequest, d.GetBaseReportResponse, "Provisioning", CP),
    Feature(
        "ChangeAvailability",
        m.ChangeAvailabilityRequest,
        m.ChangeAvailabilityResponse,
        "Availability",
        CP,
    ),
    Feature(
        "TriggerMessage", m.TriggerMessageRequest, m.TriggerMessageResponse, "RemoteControl", CP
    ),
    Feature(
        "RequestStartTransaction",
        m.RequestStartTransactionRequest,
        m.RequestStartTransactionResponse,
        "RemoteControl",
        CP,
    ),
    Feature(
        "RequestStopTransaction",
        m.RequestStopTransactionRequest,
        m.RequestStopTransactionResponse,
        "RemoteControl",
        CP,
    ),
    # Both ways.
    Feature("DataTransfer", m.DataTransferRequest, m.DataTransferResponse, "DataTransfer", BOTH),
]

FEATURES: dict[str, Feature] = {f.action: f for f in _MODELED}

KNOWN_ACTIONS: dict[str, frozenset[Role]] = {
    **{f.action: f.receivers for f in _MODELED},
    **dict.fromkeys(
        [
            "CertificateSigned",
            "ClearCache",
            "ClearChargingProfile",
            "ClearDisplayMessage",
            "ClearVariableMonitoring",
            "CostUpdated",
            "CustomerInformation",
            "DeleteCertificate",
            "GetChargingProfiles",
            "GetCompositeSchedule",
            "GetDisplayMessages",
            "GetInstalledCertificateIds",
            "GetLocalListVersion",
            "GetLog",
            "GetMonitoringReport",
            "GetReport",
            "GetTransactionStatus",
            "InstallCertificate",
            "PublishFirmware",
            "Reset",
            "SendLocalList",
            "SetChargingProfile",
            "SetDisplayMessage",
            "SetMonitoringBase",
            "SetMonitoringLevel",
            "SetNetworkProfile",
            "SetVariableMonitoring",
            "UnlockConnector",
            "UnpublishFirmware",
            "UpdateFirmware",
        ],
        CP,
    ),
    **dict.fromkeys(
        [
            "ClearedChargingLimit",
            "FirmwareStatusNotification",
            "Get15118EVCertificate",
            "GetCertificateStatus",
            "LogStatusNotification",
            "NotifyChargingLimit",
            "NotifyCustomerInformation",
            "NotifyDisplayMessages",
            "NotifyEVChargingNeeds",
            "NotifyEVChargingSchedule",
            "NotifyMonitoringReport",
            "PublishFirmwareStatusNotification",
            "ReportChargingProfiles",
            "SignCertificate",
        ],
        CS,
    ),
}

TABLE = FeatureTable(FEATURES, KNOWN_ACTIONS)
"""The OCPP 2.0.1 feature table."""


def feature_for(action: str) -> Feature:
    """The modeled feature of an action; raises ``KeyError``."""
    return FEATURES[action]
