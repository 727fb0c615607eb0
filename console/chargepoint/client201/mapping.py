"""The one place where the 2.0.1 engine's plain values meet the 2.0.1 payload models.

The engine (:mod:`console.chargepoint.engine201`) spells its enums as on the wire, so each
mapping is "the same value in the other enum"; the functions here say which enum goes with
which field, so that no other module converts by hand.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TypeVar

import console.chargepoint.engine201 as e
from console.ocpp.v201 import enums as w
from console.ocpp.v201.reservation import ReserveNowRequest
from console.ocpp.v201.types import IdToken as IdTokenModel
from console.ocpp.v201.types import StatusInfo as StatusInfoModel

__all__ = [
    "availability_status",
    "cancel_status",
    "connector_status",
    "connector_type",
    "id_token",
    "id_token_model",
    "operational_status",
    "reservation_request",
    "reserve_now_status",
    "status_info",
    "update_status",
]

EnumT = TypeVar("EnumT", bound=StrEnum)


def _same(value: StrEnum, into: type[EnumT]) -> EnumT:
    """The member of ``into`` spelled as ``value`` (both enums follow the wire)."""
    return into(value.value)


def id_token(model: IdTokenModel) -> e.IdToken:
    return e.IdToken(model.id_token, _same(model.type, e.IdTokenType))


def id_token_model(value: e.IdToken) -> IdTokenModel:
    return IdTokenModel(id_token=value.id_token, type=_same(value.type, w.IdTokenType))


def connector_type(value: e.ConnectorType) -> w.ConnectorType:
    return _same(value, w.ConnectorType)


def reservation_request(model: ReserveNowRequest) -> e.ReservationRequest:
    """What a ReserveNow asks, for the engine."""
    return e.ReservationRequest(
        id=model.id,
        expiry_date_time=model.expiry_date_time,
        id_token=id_token(model.id_token),
        evse_id=model.evse_id,
        connector_type=(
            None if model.connector_type is None else _same(model.connector_type, e.ConnectorType)
        ),
        group_id_token=None if model.group_id_token is None else id_token(model.group_id_token),
    )


def status_info(value: e.StatusInfo | None) -> StatusInfoModel | None:
    if value is None:
        return None
    return StatusInfoModel(reason_code=value.reason_code, additional_info=value.additional_info)


def reserve_now_status(value: e.ReserveNowStatus) -> w.ReserveNowStatus:
    return _same(value, w.ReserveNowStatus)


def cancel_status(value: e.CancelReservationStatus) -> w.CancelReservationStatus:
    return _same(value, w.CancelReservationStatus)


def update_status(value: e.ReservationUpdateStatus) -> w.ReservationUpdateStatus:
    return _same(value, w.ReservationUpdateStatus)


def connector_status(value: e.ConnectorStatus) -> w.ConnectorStatus:
    return _same(value, w.ConnectorStatus)


def availability_status(value: e.ChangeAvailabilityStatus) -> w.ChangeAvailabilityStatus:
    return _same(value, w.ChangeAvailabilityStatus)


def operational_status(value: w.OperationalStatus) -> e.OperationalStatus:
    return _same(value, e.OperationalStatus)
