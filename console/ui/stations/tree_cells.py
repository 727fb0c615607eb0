"""Texts and colours of the station tree's cells that need no index bookkeeping.

Plain functions of the snapshots (and of "now"), so the tree model keeps to Qt's item
model contract and these read on their own.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from PySide6.QtGui import QColor

from console.central.model import (
    ConnectorSnapshot,
    ConnectorState,
    ReservationRecord,
    ReservationState,
    StationSnapshot,
    UpstreamState,
)
from console.ocpp.enums import ChargePointStatus
from console.ocpp.v201.enums import ConnectorStatus
from console.ocpp.versions import OcppVersion
from console.ui.look.presentation import (
    Look,
    connector_status_look,
    format_countdown,
    reservation_state_look,
)
from console.ui.stations.station_nodes import EvseNode, StationNode

__all__ = [
    "all_connectors",
    "answer_time",
    "connection_text",
    "connector_name",
    "evse_state",
    "evse_tooltip",
    "heartbeat_colour",
    "heartbeat_this_connection",
    "reservation_text",
    "station_state_text",
    "station_tooltip",
    "timestamp",
]

# Which of an EVSE's connector statuses speaks for the EVSE row (the most telling first).
# Compared by spelling (==), so 1.6 and 2.0.1 statuses both find their place.
_EVSE_STATUS_ORDER: tuple[str, ...] = (
    ConnectorStatus.FAULTED,
    ConnectorStatus.UNAVAILABLE,
    ConnectorStatus.OCCUPIED,
    ChargePointStatus.CHARGING,
    ConnectorStatus.RESERVED,
    ConnectorStatus.AVAILABLE,
)


def all_connectors(node: StationNode) -> Iterable[ConnectorSnapshot]:
    """Every connector row of a station: its 1.6 connectors and its EVSEs' connectors."""
    for child in node.children:
        if isinstance(child, EvseNode):
            yield from child.connectors
        else:
            yield child


def upstream_text(station: StationSnapshot) -> str:
    """Proxy mode: how the station's link to the site's CSMS stands ("" when not proxied)."""
    state = station.upstream
    if state is None:
        return ""
    if state is UpstreamState.REFUSED:
        status = f", HTTP {station.upstream_status}" if station.upstream_status else ""
        return f"CSMS refused{status}"
    if state is UpstreamState.GONE:
        return "CSMS gone"
    return f"via CSMS ({state.value})"


def connection_text(station: StationSnapshot, online_text: str) -> str:
    """ "Online", through the proxy "Online · via CSMS (connected)"; a station the CSMS
    refused or lost: "Offline · CSMS refused, HTTP 401" (or, kept on the console alone,
    "Online · on the console alone (CSMS gone)")."""
    upstream = upstream_text(station)
    state = station.upstream
    if not upstream or (not station.connected and state is UpstreamState.CONNECTED):
        return online_text
    if station.connected and state in (UpstreamState.REFUSED, UpstreamState.GONE):
        return f"{online_text} · on the console alone ({upstream})"
    return f"{online_text} · {upstream}"


def station_state_text(
    node: StationNode, connection: str, zero_look: Look | None, *, summary: bool = True
) -> str:
    """ "Online · 1 faulted, 1 reserved": the station row sums up its connectors."""
    parts = [connection]
    counts: dict[str, int] = {}
    connectors = list(all_connectors(node))
    if summary and node.snapshot.connected:
        for connector in connectors:
            if connector.status is not None and connector.status != ChargePointStatus.AVAILABLE:
                name = connector_status_look(connector.status).text.lower()
                counts[name] = counts.get(name, 0) + 1
    zero = node.zero
    # connector 0 "Available" says nothing when some connector is not
    if (
        zero_look is not None
        and zero is not None
        and zero.status
        and (not counts or zero.status != ChargePointStatus.AVAILABLE)
    ):
        parts.append(zero_look.text)
    elif (
        zero is None
        and summary
        and node.snapshot.connected
        and connectors
        and all(c.status == ChargePointStatus.AVAILABLE for c in connectors)
    ):
        # No connector 0 (2.0.1 has none): every connector Available says it all.
        parts.append(connector_status_look(ChargePointStatus.AVAILABLE).text)
    zero_name = zero_look.text.lower() if zero_look is not None else ""
    if list(counts) == [zero_name] and counts[zero_name] == len(connectors):
        counts = {}  # "Unavailable" on connector 0 and on every connector: said once is enough
    if counts:
        parts.append(", ".join(f"{count} {name}" for name, count in counts.items()))
    return " · ".join(parts)


def evse_state(evse: EvseNode) -> tuple[Look, str]:
    """An EVSE row's status: its connectors' one status, or the most telling of them first
    ("Occupied, Available"), with the look of that one."""
    statuses: list[ConnectorState] = []
    for connector in evse.connectors:
        if connector.status is not None and connector.status not in statuses:
            statuses.append(connector.status)
    if not statuses:
        look = connector_status_look(None)
        return look, look.text
    statuses.sort(key=_evse_rank)
    look = connector_status_look(statuses[0])
    return look, ", ".join(connector_status_look(s).text for s in statuses)


def _evse_rank(status: ConnectorState) -> int:
    for rank, spelling in enumerate(_EVSE_STATUS_ORDER):
        if status == spelling:
            return rank
    return 3  # 1.6-only activity statuses (Preparing, Finishing, ...): beside Occupied


def connector_name(connector: ConnectorSnapshot) -> str:
    """ "Connector 2", or on 2.0.1 with its type: "Connector 2 · cCCS2"."""
    name = f"Connector {connector.connector_id}"
    if connector.connector_type is not None:
        name += f" · {connector.connector_type.value}"
    return name


def evse_tooltip(evse: EvseNode) -> str:
    lines = [f"EVSE {evse.evse_id} of {evse.station.snapshot.station_id}"]
    for connector in evse.connectors:
        status = connector_status_look(connector.status).text
        lines.append(f"{connector_name(connector)}: {status}")
    lines.append("A 2.0.1 reservation holds the whole EVSE (all its connectors).")
    return "\n".join(lines)


def answer_time(record: ReservationRecord) -> datetime:
    return record.answered_at or record.updated_at or record.created_at


def reservation_text(record: ReservationRecord, now: datetime) -> str:
    return (
        f"#{record.reservation_id} · {record.id_tag} · {format_countdown(record.expiry_date, now)}"
    )


def timestamp(moment: datetime | None) -> float:
    return moment.timestamp() if moment is not None else 0.0


def heartbeat_this_connection(station: StationSnapshot) -> datetime | None:
    """The last heartbeat if it came on the station's current connection (one stored from
    an earlier session, before a restart of the console, says nothing about this link)."""
    beat = station.last_heartbeat_at
    if beat is None or (station.state_since is not None and beat < station.state_since):
        return None
    return beat


def heartbeat_colour(station: StationSnapshot, now: datetime) -> QColor | None:
    # Overdue heartbeats (more than two intervals) are shown amber: the link may be gone.
    # Counted from the connection's start until its first heartbeat.
    if not station.connected or not station.heartbeat_interval:
        return None
    since = heartbeat_this_connection(station) or station.state_since
    if since is None:
        return None
    if now - since > timedelta(seconds=2 * station.heartbeat_interval):
        return reservation_state_look(ReservationState.NO_RESPONSE).foreground_color()
    return None


def station_tooltip(station: StationSnapshot) -> str:
    lines = [f"{station.station_id} (OCPP {station.ocpp_version.value})"]
    if station.remote_address:
        lines.append(f"Address: {station.remote_address}")
    if station.upstream is not None:
        status = f" (HTTP {station.upstream_status})" if station.upstream_status else ""
        lines.append(f"Link to the site's CSMS: {station.upstream.value}{status}")
    if station.serial_number:
        lines.append(f"Serial: {station.serial_number}")
    if station.registration_status:
        lines.append(f"Registration: {station.registration_status}")
    if station.ocpp_version is OcppVersion.V201:
        for name, value in (
            ("Enabled", station.reservations_enabled),
            ("Available", station.reservations_available),
            ("NonEvseSpecific", station.non_evse_specific),
        ):
            if value is not None:
                lines.append(f"ReservationCtrlr.{name}: {str(value).lower()}")
    elif station.reserve_connector_zero_supported is not None:
        lines.append(f"ReserveConnectorZeroSupported: {station.reserve_connector_zero_supported}")
    if station.is_new:
        lines.append("Not in the station list (accepted as a new station)")
    if station.note:
        lines.append(station.note)
    return "\n".join(lines)
