"""What the 2.0.1 reservation engine takes and returns: plain values spelled as on the wire.

These are deliberately not the pydantic payload models of ``console.ocpp``: the engine knows
nothing of frames or validation, and the station code maps between the two. The enum values
are the 2.0.1 wire spellings, so that mapping is ``Enum(model.field)`` and back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

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
    "ReservationRequest",
    "ReservationSettings",
    "ReservationStatusUpdate",
    "ReservationUpdateStatus",
    "ReserveNowResult",
    "ReserveNowStatus",
    "StatusInfo",
    "same_token",
]

# StatusInfoType bounds of the 2.0.1 schemas.
REASON_CODE_MAX = 20
ADDITIONAL_INFO_MAX = 512
ID_TOKEN_MAX = 36


class ReserveNowStatus(StrEnum):
    """ReserveNowStatusEnumType."""

    ACCEPTED = "Accepted"
    FAULTED = "Faulted"
    OCCUPIED = "Occupied"
    REJECTED = "Rejected"
    UNAVAILABLE = "Unavailable"


class CancelReservationStatus(StrEnum):
    """CancelReservationStatusEnumType."""

    ACCEPTED = "Accepted"
    REJECTED = "Rejected"


class ReservationUpdateStatus(StrEnum):
    """ReservationUpdateStatusEnumType: why a ReservationStatusUpdate is sent."""

    EXPIRED = "Expired"
    REMOVED = "Removed"


class ConnectorStatus(StrEnum):
    """ConnectorStatusEnumType (StatusNotification; NotifyEvent AvailabilityState too)."""

    AVAILABLE = "Available"
    OCCUPIED = "Occupied"
    RESERVED = "Reserved"
    UNAVAILABLE = "Unavailable"
    FAULTED = "Faulted"


class OperationalStatus(StrEnum):
    """OperationalStatusEnumType of ChangeAvailability."""

    INOPERATIVE = "Inoperative"
    OPERATIVE = "Operative"


class ChangeAvailabilityStatus(StrEnum):
    """ChangeAvailabilityStatusEnumType."""

    ACCEPTED = "Accepted"
    REJECTED = "Rejected"
    SCHEDULED = "Scheduled"


class IdTokenType(StrEnum):
    """IdTokenEnumType."""

    CENTRAL = "Central"
    E_MAID = "eMAID"
    ISO14443 = "ISO14443"
    ISO15693 = "ISO15693"
    KEY_CODE = "KeyCode"
    LOCAL = "Local"
    MAC_ADDRESS = "MacAddress"
    NO_AUTHORIZATION = "NoAuthorization"


class ConnectorType(StrEnum):
    """ConnectorEnumType."""

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
    OTHER_1PH_MAX_16A = "Other1PhMax16A"
    OTHER_1PH_OVER_16A = "Other1PhOver16A"
    OTHER_3PH = "Other3Ph"
    PAN = "Pan"
    W_INDUCTIVE = "wInductive"
    W_RESONANT = "wResonant"
    UNDETERMINED = "Undetermined"
    UNKNOWN = "Unknown"


def same_token(left: str | None, right: str | None) -> bool:
    """Whether two idToken values are the same card: both given, equal ignoring case."""
    return left is not None and right is not None and left.casefold() == right.casefold()


@dataclass(frozen=True, slots=True)
class IdToken:
    """IdTokenType: a token's value and how it was presented."""

    id_token: str
    type: IdTokenType = IdTokenType.ISO14443

    def __post_init__(self) -> None:
        if len(self.id_token) > ID_TOKEN_MAX:
            raise ValueError(f"an idToken has at most {ID_TOKEN_MAX} characters")


@dataclass(frozen=True, slots=True)
class StatusInfo:
    """StatusInfoType: why an answer is what it is (shown to the technician)."""

    reason_code: str
    additional_info: str | None = None

    def __post_init__(self) -> None:
        if not 0 < len(self.reason_code) <= REASON_CODE_MAX:
            raise ValueError(f"a reasonCode has 1..{REASON_CODE_MAX} characters")
        if self.additional_info is not None and len(self.additional_info) > ADDITIONAL_INFO_MAX:
            raise ValueError(f"additionalInfo has at most {ADDITIONAL_INFO_MAX} characters")


@dataclass(frozen=True, slots=True)
class ReservationSettings:
    """The station's ``ReservationCtrlr`` variables.

    ``non_evse_specific`` is False when the station leaves the variable out: only a
    present and true NonEvseSpecific allows a ReserveNow without evseId (H01.FR.19).
    """

    enabled: bool = True
    available: bool = True
    non_evse_specific: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class ReservationRequest:
    """What a ReserveNowRequest asks: the fields of the message, snake_case.

    ``evse_id`` None (or 0) asks for any EVSE, ``connector_type`` None for any type.
    """

    id: int
    expiry_date_time: datetime
    id_token: IdToken
    evse_id: int | None = None
    connector_type: ConnectorType | None = None
    group_id_token: IdToken | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Reservation:
    """A reservation the station holds; ``evse_id`` None: one EVSE kept, none named."""

    reservation_id: int
    expiry_date_time: datetime
    id_token: IdToken
    evse_id: int | None = None
    connector_type: ConnectorType | None = None
    group_id_token: IdToken | None = None

    def matches(self, id_token: str, group_id_token: str | None = None) -> bool:
        """Whether a token (with that group) may use this reservation (H03.FR.09/10)."""
        own_group = self.group_id_token.id_token if self.group_id_token else None
        return same_token(id_token, self.id_token.id_token) or same_token(group_id_token, own_group)


@dataclass(frozen=True, slots=True)
class ConnectorStatusChange:
    """A connector's new status, to send as StatusNotification or as NotifyEvent
    (component Connector, variable AvailabilityState): the station's choice."""

    evse_id: int
    connector_id: int
    status: ConnectorStatus


@dataclass(frozen=True, slots=True)
class ReservationStatusUpdate:
    """A ReservationStatusUpdateRequest the station must send."""

    reservation_id: int
    reservation_update_status: ReservationUpdateStatus


class EndReason(StrEnum):
    """Why a reservation ended; only Expired and Removed are told by ReservationStatusUpdate.

    Used is told by the TransactionEvent's reservationId, Cancelled by the
    CancelReservation answer, Replaced by the ReserveNow answer.
    """

    USED = "used"
    EXPIRED = "expired"
    CANCELLED = "cancelled"
    REPLACED = "replaced"
    REMOVED = "removed"


_UPDATE_FOR = {
    EndReason.EXPIRED: ReservationUpdateStatus.EXPIRED,
    EndReason.REMOVED: ReservationUpdateStatus.REMOVED,
}


@dataclass(frozen=True, slots=True)
class EndedReservation:
    """A reservation that ended, and why."""

    reservation: Reservation
    reason: EndReason

    @property
    def status_update(self) -> ReservationStatusUpdate | None:
        """The ReservationStatusUpdate this ending must send, if any."""
        update = _UPDATE_FOR.get(self.reason)
        if update is None:
            return None
        return ReservationStatusUpdate(self.reservation.reservation_id, update)


@dataclass(frozen=True, slots=True, kw_only=True)
class Changes:
    """What a change of the station's state means for the CSMS: connector statuses that
    changed, and reservations that ended (the ReservationStatusUpdates follow from them)."""

    connector_changes: tuple[ConnectorStatusChange, ...] = ()
    ended: tuple[EndedReservation, ...] = ()

    @property
    def status_updates(self) -> tuple[ReservationStatusUpdate, ...]:
        """The ReservationStatusUpdates to send, in the order the reservations ended."""
        return tuple(u for e in self.ended if (u := e.status_update) is not None)


@dataclass(frozen=True, slots=True, kw_only=True)
class ReserveNowResult(Changes):
    """The ReserveNow answer (status, statusInfo), and what accepting it changed."""

    status: ReserveNowStatus
    status_info: StatusInfo | None = None
    replaced: Reservation | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class CancelReservationResult(Changes):
    """The CancelReservation answer, and what cancelling changed (no status update: H02)."""

    status: CancelReservationStatus
    status_info: StatusInfo | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class AvailabilityResult(Changes):
    """The ChangeAvailability answer, and what it changed."""

    status: ChangeAvailabilityStatus
    status_info: StatusInfo | None = None


@dataclass(frozen=True, slots=True)
class AuthorizationDecision:
    """Whether a token may charge on an EVSE, and which reservation that consumes.

    ``reservation_id`` is the reservation the token uses: the TransactionEvent that
    follows (Started, or Updated with triggerReason Authorized) must carry it.
    """

    allowed: bool
    reservation_id: int | None = None
    reason: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class AuthorizeResult(Changes):
    """A token presented at an EVSE: the decision, and what consuming the reservation
    changed."""

    allowed: bool
    reservation_id: int | None = None
    reason: str = ""
