"""How statuses, states and times look: text, colour and icon (never colour alone)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QIcon

from console.central.model import (
    CancelAttempt,
    CancelOutcome,
    ConnectorState,
    ReservationRecord,
    ReservationState,
)
from console.ocpp.enums import ChargePointStatus
from console.ocpp.reservation import CancelReservationStatus
from console.ocpp.v201.enums import ConnectorStatus
from console.ocpp.versions import OcppVersion
from console.ui.look.resources import icon

__all__ = [
    "Look",
    "cancel_attempt_text",
    "cancel_outcome_text",
    "connector_status_look",
    "format_age",
    "format_countdown",
    "format_local_time",
    "is_dark_scheme",
    "reservation_answer_text",
    "reservation_detail_text",
    "reservation_state_look",
    "reservation_target_text",
    "station_connection_look",
    "status_info_text",
]


def is_dark_scheme() -> bool:
    """Whether the window is dark: the system's colour scheme (Qt 6.5+), else the palette."""
    app = QGuiApplication.instance()
    if not isinstance(app, QGuiApplication):
        return False
    scheme = app.styleHints().colorScheme()
    if scheme != Qt.ColorScheme.Unknown:
        return scheme == Qt.ColorScheme.Dark
    return app.palette().window().color().lightness() < 128


@dataclass(frozen=True, slots=True)
class Look:
    """Text, colours and an icon name for one state.

    ``foreground``/``background`` are the light-scheme colours (also used on paper, e.g. the
    report); ``dark_foreground``/``dark_background`` are their counterparts on a dark
    window. The ``*_color()`` and ``screen_*`` accessors pick the pair of the current scheme.
    """

    text: str
    foreground: str
    background: str
    icon_name: str
    dark_foreground: str = "#e6e8eb"
    dark_background: str = "#2f3338"

    def icon(self) -> QIcon:
        return icon(self.icon_name)

    @property
    def screen_foreground(self) -> str:
        return self.dark_foreground if is_dark_scheme() else self.foreground

    @property
    def screen_background(self) -> str:
        return self.dark_background if is_dark_scheme() else self.background

    def foreground_color(self) -> QColor:
        return QColor(self.screen_foreground)

    def background_color(self) -> QColor:
        return QColor(self.screen_background)

    def role_data(self, role: int) -> QIcon | QColor | None:
        """A cell showing this look: its icon, text colour or cell colour for ``role``.

        None for every other role, so an item model's ``data()`` goes on to its own.
        """
        if role == Qt.ItemDataRole.DecorationRole:
            return self.icon()
        if role == Qt.ItemDataRole.ForegroundRole:
            return self.foreground_color()
        if role == Qt.ItemDataRole.BackgroundRole:
            return self.background_color()
        return None


def _colours(light_fg: str, light_bg: str, dark_fg: str, dark_bg: str) -> dict[str, str]:
    return {
        "foreground": light_fg,
        "background": light_bg,
        "dark_foreground": dark_fg,
        "dark_background": dark_bg,
    }


# Light: dark text on a pale tint (contrast 5.7-7.7:1, WCAG AA). Dark: light text on a deep
# tint (7.8-8.7:1), so a state reads as well on a dark window as on a light one.
_GREEN = _colours("#1d6b33", "#e3f4e8", "#9fe0b0", "#1c3a25")
_BLUE = _colours("#174f95", "#e2edfb", "#a9cbf5", "#1b2e4a")
_AMBER = _colours("#7a5200", "#fdf1d8", "#f5cd7a", "#3d2e10")
_PURPLE = _colours("#5e2d91", "#f0e7fa", "#d6baf5", "#33224b")
_RED = _colours("#a1141b", "#fde4e4", "#ffaaa8", "#4a1d20")
_GREY = _colours("#4b5058", "#eceef0", "#c9ced5", "#2e3237")

# Keyed by the wire spelling: 1.6's ChargePointStatus and 2.0.1's ConnectorStatusEnumType
# share most of it (both are StrEnums, equal to their spelling); 2.0.1 adds Occupied.
_STATUS_LOOKS: dict[str, Look] = {
    ChargePointStatus.AVAILABLE: Look("Available", icon_name="status-available", **_GREEN),
    ChargePointStatus.PREPARING: Look("Preparing", icon_name="status-preparing", **_BLUE),
    ChargePointStatus.CHARGING: Look("Charging", icon_name="status-charging", **_BLUE),
    ChargePointStatus.SUSPENDED_EVSE: Look(
        "Suspended (EVSE)", icon_name="status-suspended", **_AMBER
    ),
    ChargePointStatus.SUSPENDED_EV: Look("Suspended (EV)", icon_name="status-suspended", **_AMBER),
    ChargePointStatus.FINISHING: Look("Finishing", icon_name="status-finishing", **_BLUE),
    ChargePointStatus.RESERVED: Look("Reserved", icon_name="status-reserved", **_PURPLE),
    ChargePointStatus.UNAVAILABLE: Look("Unavailable", icon_name="status-unavailable", **_GREY),
    ChargePointStatus.FAULTED: Look("Faulted", icon_name="status-faulted", **_RED),
    ConnectorStatus.OCCUPIED: Look("Occupied", icon_name="status-charging", **_BLUE),
}
_UNKNOWN_STATUS = Look("No status yet", icon_name="status-unknown", **_GREY)

_STATE_LOOKS: dict[ReservationState, Look] = {
    ReservationState.SENDING: Look("Sending…", icon_name="state-sending", **_BLUE),
    ReservationState.ACCEPTED: Look("Accepted", icon_name="status-available", **_GREEN),
    ReservationState.FAULTED: Look("Faulted", icon_name="status-faulted", **_RED),
    ReservationState.OCCUPIED: Look("Occupied", icon_name="status-suspended", **_AMBER),
    ReservationState.REJECTED: Look("Rejected", icon_name="state-error", **_RED),
    ReservationState.UNAVAILABLE: Look("Unavailable", icon_name="status-unavailable", **_GREY),
    ReservationState.ERROR: Look("Error (CALLERROR)", icon_name="state-error", **_RED),
    ReservationState.NO_RESPONSE: Look("No answer (timeout)", icon_name="state-timeout", **_AMBER),
    ReservationState.OFFLINE: Look("Station offline", icon_name="state-offline", **_GREY),
    ReservationState.USED: Look("Used", icon_name="state-used", **_BLUE),
    ReservationState.EXPIRED: Look("Expired", icon_name="state-timeout", **_GREY),
    ReservationState.CANCELLED: Look("Cancelled", icon_name="state-ended", **_GREY),
    ReservationState.ENDED: Look("Ended", icon_name="state-ended", **_GREY),
}

_ONLINE = Look("Online", icon_name="station-online", **_GREEN)
_OFFLINE = Look("Offline", icon_name="station-offline", **_GREY)


def connector_status_look(status: ConnectorState | None) -> Look:
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
    parts.append(f"{reservation_target_text(record)}: {look.text}")
    if record.confirmation is not None and record.confirmation.value != look.text:
        parts.append(f"(station answered {record.confirmation.value})")
    info = status_info_text(record.status_reason, record.status_detail)
    if info:
        parts.append(f"— {info}")
    if record.error_code and record.error_code not in (record.error or ""):
        parts.append(f"— {record.error_code}")
    if record.error:
        parts.append(f"— {record.error}")
    return " ".join(parts)


def reservation_target_text(record: ReservationRecord) -> str:
    """What the attempt reserved: "connector 2" (1.6), "EVSE 2" or "any EVSE" (2.0.1)."""
    if record.ocpp_version is OcppVersion.V201:
        return "any EVSE" if record.connector_id == 0 else f"EVSE {record.connector_id}"
    return f"connector {record.connector_id}"


def status_info_text(reason: str | None, detail: str | None) -> str:
    """A 2.0.1 answer's statusInfo: "reason NoEvse (EVSE 3 is not there)"; "" without one."""
    if not reason and not detail:
        return ""
    text = f"reason {reason}" if reason else "reason not given"
    return f"{text} ({detail})" if detail else text


def cancel_outcome_text(outcome: CancelOutcome) -> str:
    """One line saying how a CancelReservation went."""
    head = f"Cancel reservation {outcome.reservation_id} on {outcome.station_id}: "
    if outcome.status is not None:
        return head + outcome.status.value
    detail = outcome.error or "no answer"
    if outcome.error_code and outcome.error_code not in detail:
        detail = f"{outcome.error_code} — {detail}"
    return head + detail


def cancel_attempt_text(attempt: CancelAttempt, now: datetime | None = None) -> str:
    """What came of a reservation's cancel, e.g. "cancel: Accepted at 14:05:12" or
    "cancel: no answer within 30 s, then Accepted (late) at 14:05:12"."""
    head = "cancel: "
    if attempt.by_check:
        head = "cancel by the reservation check: "
    elif attempt.by_upstream:
        head = "cancel by the CSMS: "
    answered = format_local_time(attempt.answered_at, now)
    info = status_info_text(attempt.status_reason, attempt.status_detail)
    status = f"{attempt.status.value}, {info}" if attempt.status is not None and info else None
    if attempt.status is not None and not attempt.late:
        return head + f"{status or attempt.status.value} at {answered}"
    if attempt.status is not None:
        waited = attempt.error or "no answer in time"
        return head + f"{waited}, then {status or attempt.status.value} (late) at {answered}"
    if attempt.late:  # a CALLERROR after the timeout: the error is now that
        return head + f"no answer in time, then {_error_text(attempt)} (late) at {answered}"
    if attempt.answered_at is not None:  # a CALLERROR in time
        return head + f"{_error_text(attempt)} at {answered}"
    return head + f"{_error_text(attempt)} (sent {format_local_time(attempt.sent_at, now)})"


def _error_text(attempt: CancelAttempt) -> str:
    error = attempt.error or "no answer"
    if attempt.error_code and attempt.error_code not in error:
        return f"{attempt.error_code} — {error}"
    return error


_HELD_ONCE = {
    ReservationState.EXPIRED: "expired for the console, but the station still held it after "
    "the expiry",
    ReservationState.ENDED: "ended for the console, but the station still held it",
    ReservationState.USED: "used for the console, but the station still held it",
}
"""States the console reached from ``accepted`` on its own (or on the station's word), which
a cancel the station accepted afterwards contradicts."""


def reservation_detail_text(record: ReservationRecord, now: datetime | None = None) -> str:
    """The reservations table's "Detail": why the attempt is where it stands, and what came
    of its cancel, never contradicting its state.

    A cancel the station accepted for an attempt the console had already settled as
    expired (or ended, or used) says what it proved: "expired for the console, but the
    station still held it after the expiry (reservation check, 14:10:05): cancelled".
    """
    parts: list[str] = []
    error = record.error or ""
    if record.error_code and record.error_code not in error:
        error = f"{record.error_code} — {error}" if error else record.error_code
    attempt = record.cancel
    if error:
        # With a cancel beside it, say which call the error was about.
        parts.append(f"ReserveNow: {error}" if attempt is not None else error)
    info = status_info_text(record.status_reason, record.status_detail)
    if info:
        # 2.0.1: why the station answered as it did, in its own words.
        parts.append(f"ReserveNow {info}" if attempt is not None else info)
    if attempt is not None:
        if attempt.status is CancelReservationStatus.ACCEPTED and record.state in _HELD_ONCE:
            source = "reservation check" if attempt.by_check else "cancel"
            if attempt.by_upstream:
                source = "cancel by the CSMS"
            when = format_local_time(attempt.answered_at, now)
            if attempt.late:
                when += ", answer late"
            parts.append(f"{_HELD_ONCE[record.state]} ({source}, {when}): cancelled")
        else:
            parts.append(cancel_attempt_text(attempt, now))
    return " — ".join(parts)


def format_latency(seconds: float | None) -> str:
    """A round trip: "85 ms" below a second, "40.1 s" from a second on (never cut off)."""
    if seconds is None:
        return ""
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 100:
        return f"{seconds:.1f} s"
    return f"{seconds:.0f} s"


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
