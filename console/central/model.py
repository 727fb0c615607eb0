"""Read models and change events of the Central System: what a UI may see of it.

Everything here is an immutable snapshot. A UI takes the current snapshots once, then
subscribes to :class:`ChangeEvent`s, each about one row (a station, a connector, a
reservation, a trace entry), so a table updates one row, not everything.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Final, Protocol

from console.ocpp.base import OcppModel
from console.ocpp.enums import ChargePointErrorCode, ChargePointStatus
from console.ocpp.reservation import CancelReservationStatus, ReservationStatus
from console.ocpp.v201.enums import ConnectorStatus, ConnectorType, IdTokenType
from console.ocpp.versions import OcppVersion

__all__ = [
    "ACTIVE_STATES",
    "DEFAULT_ID_TOKEN_TYPE",
    "FINAL_STATES",
    "CancelAttempt",
    "CancelOutcome",
    "CentralSystemApi",
    "ChangeEvent",
    "ConnectorChanged",
    "ConnectorRemoved",
    "ConnectorSnapshot",
    "ConnectorState",
    "ReservationChanged",
    "ReservationRecord",
    "ReservationState",
    "ReserveRequest",
    "StationChanged",
    "StationSnapshot",
    "TraceAppended",
    "TraceDirection",
    "TraceEntry",
    "UpstreamState",
]


DEFAULT_ID_TOKEN_TYPE: Final = IdTokenType.CENTRAL
"""2.0.1: the idToken type a reservation gets when the technician names none (a token the
console hands out; the form offers the others, e.g. ISO14443 for an RFID card)."""


class ReservationState(StrEnum):
    """The console's lifecycle of one reservation attempt (DESIGN.md)."""

    SENDING = "sending"
    ACCEPTED = "accepted"
    FAULTED = "faulted"
    OCCUPIED = "occupied"
    REJECTED = "rejected"
    UNAVAILABLE = "unavailable"
    ERROR = "error"
    NO_RESPONSE = "no_response"
    OFFLINE = "offline"
    USED = "used"
    EXPIRED = "expired"
    CANCELLED = "cancelled"
    ENDED = "ended"


ACTIVE_STATES = frozenset({ReservationState.ACCEPTED})
"""States in which the station holds the reservation."""

FINAL_STATES = frozenset(
    {
        ReservationState.FAULTED,
        ReservationState.OCCUPIED,
        ReservationState.REJECTED,
        ReservationState.UNAVAILABLE,
        ReservationState.ERROR,
        ReservationState.OFFLINE,
        ReservationState.USED,
        ReservationState.EXPIRED,
        ReservationState.CANCELLED,
        ReservationState.ENDED,
    }
)
"""States nothing moves on from (``no_response`` may still be reconciled by a late answer)."""


ConnectorState = ChargePointStatus | ConnectorStatus
"""A connector's status as its station's version spells it: 1.6's ChargePointStatus, or
2.0.1's ConnectorStatusEnumType (Available, Occupied, Reserved, Unavailable, Faulted).
Both are ``StrEnum``s, so a status compares equal to its wire spelling in either version."""


class UpstreamState(StrEnum):
    """Proxy mode: a station's link onward to the site's own CSMS, as the window shows it."""

    CONNECTING = "connecting"
    CONNECTED = "connected"
    REFUSED = "refused"
    """The CSMS answered the handshake with an HTTP error (``upstream_status``)."""
    GONE = "gone"
    """The CSMS could not be reached, or ended the link."""


@dataclass(frozen=True, slots=True)
class StationSnapshot:
    """One station as the console knows it."""

    station_id: str
    connected: bool
    state_since: datetime | None = None
    """When it connected (if connected) or disconnected (if not)."""
    security_profile: int = 0
    remote_address: str | None = None
    vendor: str | None = None
    model: str | None = None
    serial_number: str | None = None
    firmware_version: str | None = None
    registration_status: str | None = None
    last_message_at: datetime | None = None
    last_heartbeat_at: datetime | None = None
    heartbeat_interval: int | None = None
    reserve_connector_zero_supported: bool | None = None
    """None until the station said (GetConfiguration), or when it would not say."""
    number_of_connectors: int | None = None
    is_new: bool = False
    """Not in the settings' station list: accepted because unknown stations are allowed."""
    note: str | None = None
    """The last noteworthy thing (e.g. "replaced by a new connection")."""
    ocpp_version: OcppVersion = OcppVersion.V16
    """The version of its current (or last) connection, from the subprotocol it chose."""
    reservations_enabled: bool | None = None
    """2.0.1: ``ReservationCtrlr.Enabled`` (None until the station said, or when it would not)."""
    reservations_available: bool | None = None
    """2.0.1: ``ReservationCtrlr.Available``."""
    non_evse_specific: bool | None = None
    """2.0.1: ``ReservationCtrlr.NonEvseSpecific``: a reservation may name no EVSE."""
    upstream: UpstreamState | None = None
    """Proxy mode: its link to the site's CSMS (None: the console is its Central System).
    Not stored: it describes the live link."""
    upstream_status: int | None = None
    """Proxy mode: the HTTP status the CSMS refused the station's link with."""

    @property
    def any_connector_reservable(self) -> bool | None:
        """Whether a reservation without a connector (1.6: connector 0) or without an EVSE
        (2.0.1) may be sent; None while the station has not said."""
        if self.ocpp_version is OcppVersion.V201:
            return self.non_evse_specific
        return self.reserve_connector_zero_supported


@dataclass(frozen=True, slots=True)
class ConnectorSnapshot:
    """One connector as its StatusNotifications left it.

    1.6: ``evse_id`` is None and ``connector_id`` numbers the station's connectors (0 = the
    station as a whole). 2.0.1: the connector ``connector_id`` of EVSE ``evse_id`` (both
    from 1), as the station's StatusNotification and NotifyEvent AvailabilityState name it.
    """

    station_id: str
    connector_id: int
    status: ConnectorState | None = None
    error_code: ChargePointErrorCode | None = None
    info: str | None = None
    vendor_error_code: str | None = None
    status_at: datetime | None = None
    transaction_id: int | str | None = None
    """The running transaction (1.6: the console's integer; 2.0.1: the station's text)."""
    id_tag: str | None = None
    """The idTag of the running transaction."""
    reservation_id: int | None = None
    """The active (accepted) reservation on this connector (2.0.1: on its EVSE), if any."""
    evse_id: int | None = None
    """2.0.1: the EVSE this connector belongs to; None on 1.6."""
    connector_type: ConnectorType | None = None
    """2.0.1: the connector's type, when the station reported it (NotifyReport)."""

    @property
    def key(self) -> tuple[str, int | None, int]:
        """What tells this connector from every other: station, EVSE (None on 1.6), connector."""
        return (self.station_id, self.evse_id, self.connector_id)


@dataclass(frozen=True, slots=True)
class CancelAttempt:
    """The last CancelReservation the console sent for a reservation, and what came of it.

    A cancel moves no state by itself: the station's Accepted cancels a held attempt, and
    for a record that the console had already settled (e.g. ``expired``) it shows that the
    station still held the reservation. Kept on the record so that its row, its export and a
    restart say what happened to the cancel, however late the answer came.
    """

    sent_at: datetime
    status: CancelReservationStatus | None = None
    """The station's answer, in time or late; None while none came."""
    answered_at: datetime | None = None
    """When the answer (or the CALLERROR) came."""
    late: bool = False
    """The answer came after the console had stopped waiting for it."""
    timed_out: bool = False
    """No answer within the call timeout."""
    error: str | None = None
    """Why no answer came in time (the timeout, a lost connection, the station offline), or
    a CALLERROR's code and text."""
    error_code: str | None = None
    """The CALLERROR's code."""
    by_check: bool = False
    """Sent by the reservation check (one of its steps, or its clean-up)."""
    status_reason: str | None = None
    """2.0.1: the answer's ``statusInfo.reasonCode``, when it gave one."""
    status_detail: str | None = None
    """2.0.1: the answer's ``statusInfo.additionalInfo``."""
    by_upstream: bool = False
    """Proxy mode: the site's own CSMS sent it (the console forwarded it and its answer)."""


@dataclass(frozen=True, slots=True)
class ReservationRecord:
    """One reservation attempt and where it stands."""

    reservation_id: int
    station_id: str
    connector_id: int
    id_tag: str
    parent_id_tag: str | None
    expiry_date: datetime
    created_at: datetime
    state: ReservationState
    confirmation: ReservationStatus | None = None
    error: str | None = None
    """CALLERROR code and text, or a timeout / offline reason."""
    error_code: str | None = None
    transaction_id: int | str | None = None
    """The transaction that used it (1.6: an integer; 2.0.1: the station's text)."""
    updated_at: datetime | None = None
    answered_at: datetime | None = None
    latency: float | None = None
    history: tuple[tuple[ReservationState, datetime], ...] = field(default=())
    cancel: CancelAttempt | None = None
    """The last CancelReservation sent for this reservation while this was its latest
    attempt (or the one that cancelled it), and what came of it."""
    ocpp_version: OcppVersion = OcppVersion.V16
    """The version the station spoke when the attempt was made. On 2.0.1 ``connector_id``
    is the evseId (0: none, any EVSE), ``id_tag`` the idToken's value and
    ``parent_id_tag`` the groupIdToken's value."""
    connector_type: ConnectorType | None = None
    """2.0.1: the requested ``connectorType``."""
    id_token_type: IdTokenType | None = None
    """2.0.1: the idToken's type."""
    group_id_token_type: IdTokenType | None = None
    """2.0.1: the groupIdToken's type (when there is a group token)."""
    status_reason: str | None = None
    """2.0.1: the answer's ``statusInfo.reasonCode``, when it gave one."""
    status_detail: str | None = None
    """2.0.1: the answer's ``statusInfo.additionalInfo``."""
    by_upstream: bool = False
    """Proxy mode: the site's own CSMS made it (its ReserveNow and the station's answer
    passed through the console, which follows the attempt as for its own)."""

    @property
    def active(self) -> bool:
        return self.state in ACTIVE_STATES


@dataclass(frozen=True, slots=True)
class ReserveRequest:
    """A ReserveNow the console is asked to send: the parameters of ``reserve_now``.

    The one place they are spelled: ``CentralSystem.reserve_now`` (the public call) builds
    one, and the window, the book and test stand-ins pass it on.
    """

    station_id: str
    connector_id: int
    id_tag: str
    expiry_date: datetime
    parent_id_tag: str | None = None
    reservation_id: int | None = None
    """None: the next id of the persisted counter."""
    connector_type: ConnectorType | None = None
    """2.0.1 only: the ``connectorType`` to reserve."""
    id_token_type: IdTokenType | None = None
    """2.0.1 only: the idToken's type (None: :data:`DEFAULT_ID_TOKEN_TYPE`)."""
    group_id_token_type: IdTokenType | None = None
    """2.0.1 only: the groupIdToken's type (None: the idToken's)."""


@dataclass(frozen=True, slots=True)
class CancelOutcome:
    """A CancelReservation attempt: the station's answer, or why there was none."""

    reservation_id: int
    station_id: str
    status: CancelReservationStatus | None
    error: str | None = None
    error_code: str | None = None
    timed_out: bool = False
    """No answer within the call timeout (the station may still have cancelled it)."""


class TraceDirection(StrEnum):
    IN = "in"
    OUT = "out"
    EVENT = "event"
    """Not a frame: a connection, refusal, drop or timeout worth a trace line."""


@dataclass(frozen=True, slots=True)
class TraceEntry:
    """One frame in or out (or one connection event), with what the trace shows."""

    seq: int
    at: datetime
    station_id: str
    direction: TraceDirection
    text: str
    message_type: int | None = None
    message_id: str | None = None
    action: str | None = None
    latency: float | None = None
    """For an answer: seconds since the request it answers was sent."""
    late: bool = False
    error_code: str | None = None
    note: str | None = None
    ocpp_version: OcppVersion | None = None
    """The version of the connection the frame went over (None for an event without one)."""
    message: OcppModel | None = field(default=None, compare=False)
    """The validated request (of a CALL) or answer (of a CALLRESULT) the frame carries,
    so that listeners read it without parsing ``text``; None for anything else, for a frame
    the session refused, and for entries read back from storage (only ``text`` is kept)."""


@dataclass(frozen=True, slots=True)
class StationChanged:
    station: StationSnapshot


@dataclass(frozen=True, slots=True)
class ConnectorChanged:
    connector: ConnectorSnapshot


@dataclass(frozen=True, slots=True)
class ConnectorRemoved:
    """A connector the station no longer has: it came back speaking the other version,
    whose connectors are numbered otherwise (1.6 without EVSEs, 2.0.1 with)."""

    connector: ConnectorSnapshot


@dataclass(frozen=True, slots=True)
class ReservationChanged:
    reservation: ReservationRecord


@dataclass(frozen=True, slots=True)
class TraceAppended:
    entry: TraceEntry


ChangeEvent = (
    StationChanged | ConnectorChanged | ConnectorRemoved | ReservationChanged | TraceAppended
)


class CentralSystemApi(Protocol):
    """What the UI uses of the Central System (a fake can stand in for it in tests).

    Complete, so that no view probes for a method: DESIGN.md's read models, the stored
    trace and the two reservation calls. The stored reservation checks are the separate
    :class:`console.central.check.model.CheckArchive` (the Central System is one).
    """

    def stations(self) -> list[StationSnapshot]: ...

    def station(self, station_id: str) -> StationSnapshot | None: ...

    def connectors(self, station_id: str | None = None) -> list[ConnectorSnapshot]: ...

    def reservations(self) -> list[ReservationRecord]: ...

    def reservation(self, station_id: str, reservation_id: int) -> ReservationRecord | None:
        """The latest attempt with this reservation id on this station."""
        ...

    def recent_trace(self, limit: int = 10_000) -> list[TraceEntry]: ...

    async def stored_trace(
        self,
        limit: int = 10_000,
        station_id: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> list[TraceEntry]:
        """The trace the database keeps (more than memory does), oldest first."""
        ...

    def subscribe(self, listener: Callable[[ChangeEvent], None]) -> Callable[[], None]:
        """Call ``listener`` with every change from now on; returns an unsubscribe."""
        ...

    def peek_reservation_id(self) -> int:
        """The id the next reservation would get (the form shows it)."""
        ...

    def urls(self) -> list[str]:
        """The URL(s) stations must be configured with, one per local address."""
        ...

    @property
    def security_profile(self) -> int: ...

    @property
    def upstream_url(self) -> str | None:
        """Proxy mode: the site's CSMS each station is carried on to (None: not proxying)."""
        ...

    @property
    def port(self) -> int:
        """The port stations connect to (RuntimeError while the Central System is stopped)."""
        ...

    async def reserve(self, request: ReserveRequest) -> ReservationRecord:
        """Send ReserveNow; the attempt as it stands once the station answered (or did not)."""
        ...

    async def cancel_reservation(self, station_id: str, reservation_id: int) -> CancelOutcome: ...
