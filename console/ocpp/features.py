"""OCPP 1.6: which actions exist, who receives them, and their payload models.

``Feature`` and ``Role`` are shared by both versions (``console.ocpp.feature_table``) and
importable from here as ever; the 2.0.1 table is ``console.ocpp.v201.features``.
"""

from __future__ import annotations

from console.ocpp import messages as m
from console.ocpp import reservation as r
from console.ocpp.feature_table import BOTH, CP, CS, Feature, FeatureTable, Role

__all__ = ["FEATURES", "KNOWN_ACTIONS", "TABLE", "Feature", "Role", "feature_for"]


_MODELED = [
    Feature("Authorize", m.AuthorizeRequest, m.AuthorizeConfirmation, "Core", CS),
    Feature(
        "BootNotification", m.BootNotificationRequest, m.BootNotificationConfirmation, "Core", CS
    ),
    Feature("DataTransfer", m.DataTransferRequest, m.DataTransferConfirmation, "Core", BOTH),
    Feature(
        "DiagnosticsStatusNotification",
        m.DiagnosticsStatusNotificationRequest,
        m.DiagnosticsStatusNotificationConfirmation,
        "FirmwareManagement",
        CS,
    ),
    Feature(
        "FirmwareStatusNotification",
        m.FirmwareStatusNotificationRequest,
        m.FirmwareStatusNotificationConfirmation,
        "FirmwareManagement",
        CS,
    ),
    Feature("Heartbeat", m.HeartbeatRequest, m.HeartbeatConfirmation, "Core", CS),
    Feature("MeterValues", m.MeterValuesRequest, m.MeterValuesConfirmation, "Core", CS),
    Feature(
        "StartTransaction", m.StartTransactionRequest, m.StartTransactionConfirmation, "Core", CS
    ),
    Feature(
        "StatusNotification",
        m.StatusNotificationRequest,
        m.StatusNotificationConfirmation,
        "Core",
        CS,
    ),
    Feature("StopTransaction", m.StopTransactionRequest, m.StopTransactionConfirmation, "Core", CS),
    Feature(
        r.RESERVE_NOW_FEATURE_NAME,
        r.ReserveNowRequest,
        r.ReserveNowConfirmation,
        r.PROFILE_NAME,
        CP,
    ),
    Feature(
        r.CANCEL_RESERVATION_FEATURE_NAME,
        r.CancelReservationRequest,
        r.CancelReservationConfirmation,
        r.PROFILE_NAME,
        CP,
    ),
    Feature(
        "GetConfiguration", m.GetConfigurationRequest, m.GetConfigurationConfirmation, "Core", CP
    ),
    Feature(
        "ChangeAvailability",
        m.ChangeAvailabilityRequest,
        m.ChangeAvailabilityConfirmation,
        "Core",
        CP,
    ),
    Feature(
        "TriggerMessage",
        m.TriggerMessageRequest,
        m.TriggerMessageConfirmation,
        "RemoteTrigger",
        CP,
    ),
    Feature(
        "RemoteStartTransaction",
        m.RemoteStartTransactionRequest,
        m.RemoteStartTransactionConfirmation,
        "Core",
        CP,
    ),
    Feature(
        "RemoteStopTransaction",
        m.RemoteStopTransactionRequest,
        m.RemoteStopTransactionConfirmation,
        "Core",
        CP,
    ),
]

FEATURES: dict[str, Feature] = {f.action: f for f in _MODELED}

# Every OCPP 1.6 action (with the security whitepaper's), by who receives it. An action
# here that has no model is "known": calling it on us gets NotSupported, not NotImplemented.
KNOWN_ACTIONS: dict[str, frozenset[Role]] = {
    **{f.action: f.receivers for f in _MODELED},
    **dict.fromkeys(
        [
            "ChangeConfiguration",
            "ClearCache",
            "ClearChargingProfile",
            "GetCompositeSchedule",
            "GetDiagnostics",
            "GetLocalListVersion",
            "Reset",
            "SendLocalList",
            "SetChargingProfile",
            "UnlockConnector",
            "UpdateFirmware",
            "CertificateSigned",
            "DeleteCertificate",
            "ExtendedTriggerMessage",
            "GetInstalledCertificateIds",
            "GetLog",
            "InstallCertificate",
            "SignedUpdateFirmware",
        ],
        CP,
    ),
    **dict.fromkeys(
        [
            "LogStatusNotification",
            "SecurityEventNotification",
            "SignCertificate",
            "SignedFirmwareStatusNotification",
        ],
        CS,
    ),
}

TABLE = FeatureTable(FEATURES, KNOWN_ACTIONS)
"""The OCPP 1.6 feature table."""


def feature_for(action: str) -> Feature:
    """The modeled feature of an action; raises ``KeyError``."""
    return FEATURES[action]
