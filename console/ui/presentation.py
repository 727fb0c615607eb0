"""How statuses, states and times look: text, colour and icon (never colour alone)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from PySide6.QtGui import QColor, QIcon

from console.central.model import CancelOutcome, ReservationRecord, ReservationState
from console.ocpp.enums import ChargePointStatus
from console.ui.resources import icon

__all__ = [
    "Look",
    "cancel_outcome_text",
    "connector_status_look",
    "format_age",
    "format_countdown",
    "format_local_time",
    "reservation_answer_text",
    "reservation_state_look",
    "station_connection_look",
]


@dataclass(frozen=True, slots=True)
class Look:
    """Text, a readable text colour, a light background and an icon name for one state."""

    text: str
    foreground: str
    background: str
    icon_name: str

    def icon(self) -> QIcon:
        return icon(self.icon_name)

    def foreground_color(self) -> QColor:
        return QColor(self.foreground)

    def background_color(self) -> QColor:
        return QColor(self.background)


_GREEN = ("#1d6b33", "#e3f4e8")
_BLUE = ("#174f95", "#e2edfb")
_AMBER = ("#7a5200", "#fdf1d8")
_PURPLE = ("#5e2d91", "#f0e7fa")
_RED = ("#a1141b", "#fde4e4")
_GREY = ("#4b5058", "#eceef0")

_STATUS_LOOKS: dict[ChargePointStatus, Look] = {
    ChargePointStatus.AVAILABLE: Look("Available", *_GREEN, "status-available"),
    ChargePointStatus.PREPARING: Look("Preparing", *_BLUE, "status-preparing"),
    ChargePointStatus.CHARGING: Look("Charging", *_BLUE, "status-charging"),
    ChargePointStatus.SUSPENDED_EVSE: Look("Suspended (EVSE)", *_AMBER, "status-suspended"),
    ChargePointStatus.SUSPENDED_EV: Look("Suspended (EV)", *_AMBER, "status-suspended"),
    ChargePointStatus.FINISHING: Look("Finishing", *_BLUE, "status-finishing"),
    ChargePointStatus.RESERVED: Look("Reserved", *_PURPLE, "status-reserved"),
    ChargePointStatus.UNAVAILABLE: Look("Unavailable", *_GREY, "status-unavailable"),
    ChargePointStatus.FAULTED: Look("Faulted", *_RED, "status-faulted"),
}
_UNKNOWN_STATUS = Look("No status yet", *_GREY, "status-unknown")

_STATE_LOOKS: dict[ReservationState, Look] = {
    ReservationState.SENDING: Look("Sending…", *_BLUE, "state-sending"),
    ReservationState.ACCEPTED: Look("Accepted", *_GREEN, "status-available"),
    ReservationState.FAULTED: Look("Faulted", *_RED, "status-faulted"),
    ReservationState.OCCUPIED: Look("Occupied", *_AMBER, "status-suspended"),
    ReservationState.REJECTED: Look("Rejected", *_RED, "state-error"),
    ReservationState.UNAVAILABLE: Look("Unavailable", *_GREY, "status-unavailable"),
    ReservationState.ERROR: Look("Error (CALLERROR)", *_RED, "state-error"),
    ReservationState.NO_RESPONSE: Look("No answer (timeout)", *_AMBER, "state-timeout"),
    ReservationState.OFFLINE: Look("Station offline", *_GREY, "state-offline"),
    ReservationState.USED: Look("Used", *_BLUE, "state-used"),
    ReservationState.EXPIRED: Look("Expired", *_GREY, "state-timeout"),
    ReservationState.CANCELLED: Look("Cancelled", *_GREY, "state-ended"),
    ReservationState.ENDED: Look("Ended", *_GREY, "state-ended"),
}

_ONLINE = Look("Online", *_GREEN, "station-online")
_OFFLINE = Look("Offline", *_GREY, "station-offline")


def connector_status_look(status: ChargePointStatus | None) -> Look:
    """The look of a connector status (or of "no StatusNotification yet")."""
    if status is None:
        return _UNKNOWN_STATUS
    return _STATUS_LOOKS.get(status, _UNKNOWN_STATUS)


def reservation_state_look(state: ReservationState) -> Look:
    """The look of a reservation's lifecycle state."""
    return _STATE_LOOKS[state]


def station_connection_look(connected: bool) -> Look:
    """The look of a station's connection."""
    return _ONLINE if connected else _OFFLINE


def reservation_answer_text(record: ReservationRecord) -> str:
    """One line saying what the station answered (or why nothing came back)."""
    look = reservation_state_look(record.state)
    if record.state is ReservationState.SENDING:
        return f"Reservation {record.reservation_id}: sending to {record.station_id}…"
    parts = [f"Reservation {record.reservation_id} on {record.station_id}"]
    parts.append(f"connector {record.connector_id}: {look.text}")
    if record.confirmation is not None and record.confirmation.value != look.text:
        parts.append(f"(station answered {record.confirmation.value})")
    if record.error_code and record.error_code not in (record.error or ""):
        parts.append(f"— {record.error_code}")
    if record.error:
        parts.append(f"— {record.error}")
    return " ".join(parts)


def cancel_outcome_text(outcome: CancelOutcome) -> str:
    """One line saying how a CancelReservation went."""
    head = f"Cancel reservation {outcome.reservation_id} on {outcome.station_id}: "
    if outcome.status is not None:
        return head + outcome.status.value
    detail = outcome.error or "no answer"
    if outcome.error_code and outcome.error_code not in detail:
        detail = f"{outcome.error_code} — {detail}"
    return head + detail


def format_age(moment: datetime | None, now: datetime) -> str:
    """How long ago ``moment`` was, compactly ("4 s", "3 min", "2 h 5 min")."""
    if moment is None:
        return "—"
    seconds = max(0, int((now - moment).total_seconds()))
    if seconds < 60:
        return f"{seconds} s ago"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min ago"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min ago"
    return f"{hours // 24} days ago"


def format_countdown(until: datetime, now: datetime) -> str:
    """Time left until ``until`` as m:ss / h:mm:ss, or "expired"."""
    left = until - now
    if left <= timedelta(0):
        return "expired"
    seconds = int(left.total_seconds())
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return f"{hours}:{minutes:02d}:{seconds:02d} left"
    return f"{minutes}:{seconds:02d} left"


def format_local_time(moment: datetime | None, now: datetime | None = None) -> str:
    """A moment in the laptop's local time; the date only when it is not today."""
    if moment is None:
        return "—"
    local = moment.astimezone()
    if now is not None and local.date() == now.astimezone().date():
        return local.strftime("%H:%M:%S")
    return local.strftime("%Y-%m-%d %H:%M:%S")
