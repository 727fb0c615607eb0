"""The station-side rules of OCPP 2.0.1 reservations (H01-H04) as a pure engine.

:class:`ReservationEngine201` is the 2.0.1 counterpart of the 1.6
:class:`~console.chargepoint.engine.ReservationEngine`: time passed in, no I/O, every
method returns what the station must send. Its inputs and outputs are the plain values of
:mod:`~console.chargepoint.engine201.values`, spelled as on the wire; the EVSEs' own state
is in :mod:`~console.chargepoint.engine201.station`, and which EVSEs the reservations
without EVSE need is worked out in :mod:`~console.chargepoint.engine201.matching`.
"""

from console.chargepoint.engine201.engine import ReservationEngine201
from console.chargepoint.engine201.values import (
    AuthorizationDecision,
    AuthorizeResult,
    AvailabilityResult,
    CancelReservationResult,
    CancelReservationStatus,
    ChangeAvailabilityStatus,
    Changes,
    ConnectorStatus,
    ConnectorStatusChange,
    ConnectorType,
    EndedReservation,
    EndReason,
    IdToken,
    IdTokenType,
    OperationalStatus,
    Reservation,
    ReservationRequest,
    ReservationSettings,
    ReservationStatusUpdate,
    ReservationUpdateStatus,
    ReserveNowResult,
    ReserveNowStatus,
    StatusInfo,
    same_token,
)

__all__ = [
    "AuthorizationDecision",
    "AuthorizeResult",
    "AvailabilityResult",
    "CancelReservationResult",
    "CancelReservationStatus",
    "ChangeAvailabilityStatus",
    "Changes",
    "ConnectorStatus",
    "ConnectorStatusChange",
    "ConnectorType",
    "EndReason",
    "EndedReservation",
    "IdToken",
    "IdTokenType",
    "OperationalStatus",
    "Reservation",
    "ReservationEngine201",
    "ReservationRequest",
    "ReservationSettings",
    "ReservationStatusUpdate",
    "ReservationUpdateStatus",
    "ReserveNowResult",
    "ReserveNowStatus",
    "StatusInfo",
    "same_token",
]
