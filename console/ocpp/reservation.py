"""The OCPP 1.6 Reservation profile: ReserveNow and CancelReservation.

Both are sent by the Central System and answered by the Charge Point.
"""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar

from console.ocpp.base import CiString20, ConnectorId, IdToken, Integer, OcppModel
from console.ocpp.dates import OcppDateTime

__all__ = [
    "CANCEL_RESERVATION_FEATURE_NAME",
    "PROFILE_NAME",
    "RESERVE_NOW_FEATURE_NAME",
    "CancelReservationConfirmation",
    "CancelReservationRequest",
    "CancelReservationStatus",
    "ReservationStatus",
    "ReserveNowConfirmation",
    "ReserveNowRequest",
]

PROFILE_NAME = "Reservation"
RESERVE_NOW_FEATURE_NAME = "ReserveNow"
CANCEL_RESERVATION_FEATURE_NAME = "CancelReservation"


class ReservationStatus(StrEnum):
    """A station's answer to ReserveNow."""

    ACCEPTED = "Accepted"
    FAULTED = "Faulted"
    OCCUPIED = "Occupied"
    REJECTED = "Rejected"
    UNAVAILABLE = "Unavailable"


class CancelReservationStatus(StrEnum):
    """A station's answer to CancelReservation."""

    ACCEPTED = "Accepted"
    REJECTED = "Rejected"


class ReserveNowRequest(OcppModel):
    """Reserve a connector (0 = any connector of the station) for an idTag until expiry."""

    feature_name: ClassVar[str] = RESERVE_NOW_FEATURE_NAME

    connector_id: ConnectorId
    expiry_date: OcppDateTime
    id_tag: IdToken
    # Declared before reservation_id so that the wire payload's keys come out sorted.
    parent_id_tag: CiString20 | None = None
    reservation_id: Integer


class ReserveNowConfirmation(OcppModel):
    feature_name: ClassVar[str] = RESERVE_NOW_FEATURE_NAME

    status: ReservationStatus


class CancelReservationRequest(OcppModel):
    feature_name: ClassVar[str] = CANCEL_RESERVATION_FEATURE_NAME

    reservation_id: Integer


class CancelReservationConfirmation(OcppModel):
    feature_name: ClassVar[str] = CANCEL_RESERVATION_FEATURE_NAME

    status: CancelReservationStatus
