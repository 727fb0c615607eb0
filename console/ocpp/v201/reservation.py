"""OCPP 2.0.1 functional block H, Reservation: ReserveNow, CancelReservation and
ReservationStatusUpdate.

The Central System sends ReserveNow and CancelReservation; the station answers them, and
tells of a reservation that ended on its own (expired, or removed because its EVSE went
Faulted or Unavailable) with ReservationStatusUpdate.
"""

from __future__ import annotations

from typing import ClassVar

from console.ocpp.base import Integer
from console.ocpp.dates import OcppDateTime
from console.ocpp.v201.enums import (
    CancelReservationStatus,
    ConnectorType,
    ReservationUpdateStatus,
    ReserveNowStatus,
)
from console.ocpp.v201.types import EvseNumber, IdToken, StatusInfo, V201Model

__all__ = [
    "CANCEL_RESERVATION_FEATURE_NAME",
    "FUNCTIONAL_BLOCK",
    "RESERVATION_STATUS_UPDATE_FEATURE_NAME",
    "RESERVE_NOW_FEATURE_NAME",
    "CancelReservationRequest",
    "CancelReservationResponse",
    "ReservationStatusUpdateRequest",
    "ReservationStatusUpdateResponse",
    "ReserveNowRequest",
    "ReserveNowResponse",
]

FUNCTIONAL_BLOCK = "Reservation"
RESERVE_NOW_FEATURE_NAME = "ReserveNow"
CANCEL_RESERVATION_FEATURE_NAME = "CancelReservation"
RESERVATION_STATUS_UPDATE_FEATURE_NAME = "ReservationStatusUpdate"


class ReserveNowRequest(V201Model):
    """Reserve an EVSE (or, without ``evseId``, any EVSE) for an idToken until expiry.

    ``id`` is the reservation's id; a request with the id of a held reservation replaces it.
    A ``groupIdToken`` lets every token of that group use the reservation.
    """

    feature_name: ClassVar[str] = RESERVE_NOW_FEATURE_NAME

    id: Integer
    expiry_date_time: OcppDateTime
    connector_type: ConnectorType | None = None
    id_token: IdToken
    evse_id: EvseNumber | None = None
    group_id_token: IdToken | None = None


class ReserveNowResponse(V201Model):
    """A station's answer to ReserveNow, with the reason where it gives one."""

    feature_name: ClassVar[str] = RESERVE_NOW_FEATURE_NAME

    status: ReserveNowStatus
    status_info: StatusInfo | None = None


class CancelReservationRequest(V201Model):
    """Cancel a reservation by its id."""

    feature_name: ClassVar[str] = CANCEL_RESERVATION_FEATURE_NAME

    reservation_id: Integer


class CancelReservationResponse(V201Model):
    """A station's answer to CancelReservation: Accepted if it held the reservation."""

    feature_name: ClassVar[str] = CANCEL_RESERVATION_FEATURE_NAME

    status: CancelReservationStatus
    status_info: StatusInfo | None = None


class ReservationStatusUpdateRequest(V201Model):
    """A station telling that a reservation ended on its own: Expired or Removed."""

    feature_name: ClassVar[str] = RESERVATION_STATUS_UPDATE_FEATURE_NAME

    reservation_id: Integer
    reservation_update_status: ReservationUpdateStatus


class ReservationStatusUpdateResponse(V201Model):
    """The Central System's (empty) answer to ReservationStatusUpdate."""

    feature_name: ClassVar[str] = RESERVATION_STATUS_UPDATE_FEATURE_NAME
