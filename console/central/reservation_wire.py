"""ReserveNow and CancelReservation as each OCPP version spells them, and their answers read
back the same way for both.

The book speaks one API for both versions (DESIGN.md): a :class:`ReserveRequest` whose
``connector_id`` is the 1.6 connector or the 2.0.1 evseId (0: none), ``id_tag`` the idTag or
the idToken's value, ``parent_id_tag`` the parentIdTag or the groupIdToken's value. This is
the one place that turns it into a version's payload, and a version's answer into the
status (spelled alike in both versions) with 2.0.1's ``statusInfo``.
"""

from __future__ import annotations

from dataclasses import dataclass

from console.central.model import DEFAULT_ID_TOKEN_TYPE, ReserveRequest
from console.ocpp import reservation as v16
from console.ocpp.base import OcppModel
from console.ocpp.reservation import CancelReservationStatus, ReservationStatus
from console.ocpp.v201 import reservation as v201
from console.ocpp.v201.types import IdToken, StatusInfo
from console.ocpp.versions import OcppVersion

__all__ = [
    "CancelAnswer",
    "ReserveAnswer",
    "cancel_answer",
    "cancel_request",
    "cancel_reservation_id",
    "reserve_answer",
    "reserve_now_request",
    "reserve_request_of",
]


@dataclass(frozen=True, slots=True)
class ReserveAnswer:
    """A station's answer to ReserveNow, in either version."""

    status: ReservationStatus
    reason: str | None = None
    """2.0.1: ``statusInfo.reasonCode``."""
    detail: str | None = None
    """2.0.1: ``statusInfo.additionalInfo``."""


@dataclass(frozen=True, slots=True)
class CancelAnswer:
    """A station's answer to CancelReservation, in either version."""

    status: CancelReservationStatus
    reason: str | None = None
    detail: str | None = None


def reserve_now_request(
    wanted: ReserveRequest, reservation_id: int, version: OcppVersion
) -> OcppModel:
    """The ReserveNow payload of ``version``; raises ``pydantic.ValidationError`` for
    values the version does not allow (e.g. a 2.0.1 idToken over 36 characters)."""
    if version is OcppVersion.V16:
        return v16.ReserveNowRequest(
            connector_id=wanted.connector_id,
            expiry_date=wanted.expiry_date,
            id_tag=wanted.id_tag,
            parent_id_tag=wanted.parent_id_tag,
            reservation_id=reservation_id,
        )
    token_type = wanted.id_token_type or DEFAULT_ID_TOKEN_TYPE
    group = None
    if wanted.parent_id_tag is not None:
        group = IdToken(
            id_token=wanted.parent_id_tag, type=wanted.group_id_token_type or token_type
        )
    return v201.ReserveNowRequest(
        id=reservation_id,
        expiry_date_time=wanted.expiry_date,
        id_token=IdToken(id_token=wanted.id_tag, type=token_type),
        evse_id=wanted.connector_id if wanted.connector_id != 0 else None,
        connector_type=wanted.connector_type,
        group_id_token=group,
    )


def reserve_request_of(
    station_id: str, message: OcppModel
) -> tuple[ReserveRequest, int, OcppVersion] | None:
    """What a ReserveNow of either version sent to ``station_id`` asks, its reservation id
    and its version (None: it is not one); the inverse of :func:`reserve_now_request` (for
    a CSMS's ReserveNow, in proxy mode)."""
    if isinstance(message, v16.ReserveNowRequest):
        wanted = ReserveRequest(
            station_id,
            message.connector_id,
            message.id_tag,
            message.expiry_date,
            message.parent_id_tag,
        )
        return wanted, message.reservation_id, OcppVersion.V16
    if isinstance(message, v201.ReserveNowRequest):
        group = message.group_id_token
        wanted = ReserveRequest(
            station_id,
            message.evse_id or 0,
            message.id_token.id_token,
            message.expiry_date_time,
            None if group is None else group.id_token,
            connector_type=message.connector_type,
            id_token_type=message.id_token.type,
            group_id_token_type=None if group is None else group.type,
        )
        return wanted, message.id, OcppVersion.V201
    return None


def cancel_reservation_id(message: OcppModel) -> int | None:
    """The reservation a CancelReservation of either version names (None: not one)."""
    if isinstance(message, v16.CancelReservationRequest | v201.CancelReservationRequest):
        return message.reservation_id
    return None


def cancel_request(reservation_id: int, version: OcppVersion) -> OcppModel:
    """The CancelReservation payload of ``version``."""
    if version is OcppVersion.V16:
        return v16.CancelReservationRequest(reservation_id=reservation_id)
    return v201.CancelReservationRequest(reservation_id=reservation_id)


def reserve_answer(message: OcppModel | None) -> ReserveAnswer | None:
    """What a ReserveNow answer of either version says (None: it is not one)."""
    if isinstance(message, v16.ReserveNowConfirmation):
        return ReserveAnswer(message.status)
    if isinstance(message, v201.ReserveNowResponse):
        reason, detail = _status_info(message.status_info)
        return ReserveAnswer(ReservationStatus(message.status.value), reason, detail)
    return None


def cancel_answer(message: OcppModel | None) -> CancelAnswer | None:
    """What a CancelReservation answer of either version says (None: it is not one)."""
    if isinstance(message, v16.CancelReservationConfirmation):
        return CancelAnswer(message.status)
    if isinstance(message, v201.CancelReservationResponse):
        reason, detail = _status_info(message.status_info)
        return CancelAnswer(CancelReservationStatus(message.status.value), reason, detail)
    return None


def _status_info(info: StatusInfo | None) -> tuple[str | None, str | None]:
    if info is None:
        return None, None
    return info.reason_code, info.additional_info
