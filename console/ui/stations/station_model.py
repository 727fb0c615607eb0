"""The live tree of stations and their connectors, as a Qt item model.

One thing despite its length: a tree model's index bookkeeping, row updates and per-column
cell texts belong to one class (Qt's item model contract); the looks come from
:mod:`console.ui.look.presentation`.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import IntEnum
from typing import Any

from PySide6.QtCore import (
    QAbstractItemModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import QColor

from console.central.model import (
    ConnectorSnapshot,
    ReservationRecord,
    ReservationState,
    StationSnapshot,
)
from console.ocpp.enums import ChargePointErrorCode, ChargePointStatus
from console.ui.look.presentation import (
    Look,
    connector_status_look,
    format_age,
    format_countdown,
    format_local_time,
    reservation_answer_text,
    reservation_state_look,
    station_connection_look,
)

__all__ = ["ItemRole", "StationTreeModel", "TreeColumn"]

AnyIndex = QModelIndex | QPersistentModelIndex
Clock = Callable[[], datetime]


class TreeColumn(IntEnum):
    """The columns of the station tree."""

    NAME = 0
    STATE = 1
    SINCE = 2
    ERROR = 3
    RESERVATION = 4
    TRANSACTION = 5
    VENDOR = 6
    FIRMWARE = 7
    SECURITY = 8
    LAST_MESSAGE = 9
    HEARTBEAT = 10


_HEADERS = {
    TreeColumn.NAME: "Station / connector",
    TreeColumn.STATE: "Connection / status",
    TreeColumn.SINCE: "Since",
    TreeColumn.ERROR: "Error code",
    TreeColumn.RESERVATION: "Reservation",
    TreeColumn.TRANSACTION: "Transaction",
    TreeColumn.VENDOR: "Vendor / model",
    TreeColumn.FIRMWARE: "Firmware",
    TreeColumn.SECURITY: "Security",
    TreeColumn.LAST_MESSAGE: "Last message",
    TreeColumn.HEARTBEAT: "Heartbeat",
}

_LAST_COLUMN = max(TreeColumn)
_COLUMN_COUNT = len(TreeColumn)
# What a StatusNotification can change on a connector row. Leaving the id column out keeps
# a proxy sorted by id from re-sorting on every status change.
_FIRST_STATUS_COLUMN = TreeColumn.STATE
_LAST_STATUS_COLUMN = TreeColumn.TRANSACTION


class ItemRole(IntEnum):
    """Extra data roles the views and the form use."""

    SORT = Qt.ItemDataRole.UserRole + 1
    STATION_ID = Qt.ItemDataRole.UserRole + 2
    CONNECTOR_ID = Qt.ItemDataRole.UserRole + 3
    """None on a station row."""
    RESERVATION_ID = Qt.ItemDataRole.UserRole + 4
    """The active reservation shown on the row, if any."""
    FILTER = Qt.ItemDataRole.UserRole + 5
    """All the row's texts in one string, for the filter box."""


@dataclass(slots=True)
class _StationNode:
    key: int
    """Stable, never reused: a connector index's internal id names its station."""
    snapshot: StationSnapshot
    connectors: list[ConnectorSnapshot] = field(default_factory=list)
    """Connectors 1..n, by id."""
    zero: ConnectorSnapshot | None = None
    """Connector 0: the station as a whole."""


_NO_ERROR = ChargePointErrorCode.NO_ERROR

REFUSAL_SHOWN_FOR = timedelta(seconds=60)
"""How long a refused answer ("#2 Faulted") shows in a connector's reservation cell."""
_REFUSED_STATES = frozenset(
    {
        ReservationState.FAULTED,
        ReservationState.OCCUPIED,
        ReservationState.REJECTED,
        ReservationState.UNAVAILABLE,
        ReservationState.ERROR,
        ReservationState.NO_RESPONSE,
        ReservationState.OFFLINE,
    }
)


class StationTreeModel(QAbstractItemModel):
    """Stations (top level) and their connectors (children), fed by :class:`ChangeFeed` batches.

    Every change is a fine-grained model signal: ``dataChanged`` for the rows that changed,
    ``beginInsertRows`` for a new station or connector. The reservation column counts down:
    :meth:`tick` (once a second) refreshes only the age and countdown cells.
    """

    sig_stations_changed = Signal()
    """The set of stations, their connection or their connectors changed (the form listens)."""

    def __init__(self, parent: QObject | None = None, *, clock: Clock | None = None) -> None:
        super().__init__(parent)
        self._clock: Clock = clock or (lambda: datetime.now(UTC))
        self._nodes: list[_StationNode] = []
        self._row_of: dict[str, int] = {}
        self._by_key: dict[int, _StationNode] = {}
        self._keys = itertools.count(1)
        self._records: dict[tuple[str, int], ReservationRecord] = {}
        """The latest record per (station, reservation id): connector rows show the active one."""
        self._active_on: dict[tuple[str, int], int] = {}
        self._last_refusal: dict[tuple[str, int], ReservationRecord] = {}
        """(station, connector) -> the last attempt there that the station refused or missed."""
        """(station, connector) -> reservation id of the active reservation held there."""
        self._now = self._clock()

    # --- feeding -------------------------------------------------------------------------

    def apply_stations(self, stations: Iterable[StationSnapshot]) -> None:
        """Show these station snapshots (new stations are appended)."""
        for snapshot in stations:
            row = self._row_of.get(snapshot.station_id)
            if row is None:
                self._insert_station(snapshot)
            else:
                self._nodes[row].snapshot = snapshot
                self._station_row_changed(row)
        self.sig_stations_changed.emit()

    def apply_connectors(self, connectors: Iterable[ConnectorSnapshot]) -> None:
        """Show these connector snapshots (new connectors are inserted in id order)."""
        changed_rows: dict[int, tuple[int, int]] = {}
        station_rows_changed: set[int] = set()
        inserted = False
        for snapshot in connectors:
            row = self._row_of.get(snapshot.station_id)
            if row is None:
                # A status before the station itself: show a placeholder until it arrives.
                self._insert_station(
                    StationSnapshot(station_id=snapshot.station_id, connected=False)
                )
                row = self._row_of[snapshot.station_id]
            node = self._nodes[row]
            if snapshot.connector_id == 0:
                node.zero = snapshot
                station_rows_changed.add(row)
                continue
            child = _find_connector(node.connectors, snapshot.connector_id)
            if child is not None and node.connectors[child].connector_id == snapshot.connector_id:
                node.connectors[child] = snapshot
                low, high = changed_rows.get(row, (child, child))
                changed_rows[row] = (min(low, child), max(high, child))
            else:
                position = len(node.connectors) if child is None else child
                self.beginInsertRows(self.index(row, 0), position, position)
                node.connectors.insert(position, snapshot)
                self.endInsertRows()
                # Rows after the insert shifted: report the whole station's children.
                changed_rows.pop(row, None)
                inserted = True
        for row, (low, high) in changed_rows.items():
            parent = self.index(row, 0)
            self.dataChanged.emit(
                self.index(low, _FIRST_STATUS_COLUMN, parent),
                self.index(high, _LAST_STATUS_COLUMN, parent),
            )
        for row in station_rows_changed:
            self._station_row_changed(row)
        for row in changed_rows.keys() - station_rows_changed:
            # The station row's state sums its connectors up ("Online · 1 faulted").
            state = self.index(row, TreeColumn.STATE)
            self.dataChanged.emit(state, state)
        if inserted:
            self.sig_stations_changed.emit()

    def apply_reservations(self, records: Iterable[ReservationRecord]) -> None:
        """Track reservations so that connector rows show the active one with a countdown."""
        touched: set[tuple[str, int]] = set()
        for record in records:
            record_key = (record.station_id, record.reservation_id)
            previous = self._records.get(record_key)
            if previous is not None and previous.created_at > record.created_at:
                continue  # an older attempt with a reused id: the newer one counts
            self._records[record_key] = record
            where = (record.station_id, record.connector_id)
            if previous is not None:
                old_where = (previous.station_id, previous.connector_id)
                if self._active_on.get(old_where) == record.reservation_id:
                    del self._active_on[old_where]
                touched.add(old_where)
            if record.state in _REFUSED_STATES:
                self._last_refusal[where] = record
            elif record.state is ReservationState.ACCEPTED:
                self._last_refusal.pop(where, None)
            if record.active:
                self._active_on[where] = record.reservation_id
            elif self._active_on.get(where) == record.reservation_id:
                del self._active_on[where]
            touched.add(where)
        for station_id, connector_id in touched:
            self._connector_row_changed(station_id, connector_id)

    def remove_station(self, station_id: str) -> None:
        """Forget a station and its connectors."""
        row = self._row_of.get(station_id)
        if row is None:
            return
        self.beginRemoveRows(QModelIndex(), row, row)
        node = self._nodes.pop(row)
        del self._by_key[node.key]
        self._row_of = {n.snapshot.station_id: i for i, n in enumerate(self._nodes)}
        self.endRemoveRows()
        self.sig_stations_changed.emit()

    def remove_connector(self, station_id: str, connector_id: int) -> None:
        """Forget one connector of a station."""
        row = self._row_of.get(station_id)
        if row is None:
            return
        node = self._nodes[row]
        child = _find_connector(node.connectors, connector_id)
        if child is None or node.connectors[child].connector_id != connector_id:
            return
        self.beginRemoveRows(self.index(row, 0), child, child)
        del node.connectors[child]
        self.endRemoveRows()

    def tick(self) -> None:
        """Refresh the time-dependent cells (ages and countdowns); call once a second."""
        self._now = self._clock()
        if not self._nodes:
            return
        last = len(self._nodes) - 1
        self.dataChanged.emit(
            self.index(0, TreeColumn.LAST_MESSAGE),
            self.index(last, TreeColumn.HEARTBEAT),
            [Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ForegroundRole],
        )
        recent = [
            where
            for where, record in self._last_refusal.items()
            if self._now - _answer_time(record) <= REFUSAL_SHOWN_FOR + timedelta(seconds=2)
        ]
        for station_id, connector_id in [*self._active_on, *recent]:
            index = self.connector_index(station_id, connector_id, TreeColumn.RESERVATION)
            if index.isValid():
                self.dataChanged.emit(index, index, [Qt.ItemDataRole.DisplayRole])

    # --- queries (the form and the window use these) --------------------------------------

    def station_snapshots(self) -> list[StationSnapshot]:
        """Every station, in arrival order."""
        return [node.snapshot for node in self._nodes]

    def station(self, station_id: str) -> StationSnapshot | None:
        row = self._row_of.get(station_id)
        return None if row is None else self._nodes[row].snapshot

    def connector_ids(self, station_id: str) -> list[int]:
        """The connector ids (1..n) known for a station."""
        row = self._row_of.get(station_id)
        if row is None:
            return []
        node = self._nodes[row]
        known = [c.connector_id for c in node.connectors]
        if not known and node.snapshot.number_of_connectors:
            return list(range(1, node.snapshot.number_of_connectors + 1))
        return known

    def connector(self, station_id: str, connector_id: int) -> ConnectorSnapshot | None:
        row = self._row_of.get(station_id)
        if row is None:
            return None
        node = self._nodes[row]
        if connector_id == 0:
            return node.zero
        child = _find_connector(node.connectors, connector_id)
        if child is None or node.connectors[child].connector_id != connector_id:
            return None
        return node.connectors[child]

    def reservation(self, station_id: str, reservation_id: int) -> ReservationRecord | None:
        """The latest attempt with this reservation id on this station, if any."""
        return self._records.get((station_id, reservation_id))

    def active_reservation(self, station_id: str, connector_id: int) -> ReservationRecord | None:
        """The accepted reservation held on this connector (0 = the station), if any."""
        connector = self.connector(station_id, connector_id)
        reservation_id = connector.reservation_id if connector is not None else None
        if reservation_id is None:
            reservation_id = self._active_on.get((station_id, connector_id))
        if reservation_id is None:
            return None
        record = self._records.get((station_id, reservation_id))
        if record is not None and not record.active:
            return None
        if record is None:
            # The station says it is reserved but the record is not here (yet): show the id.
            return None
        return record

    def station_index(self, station_id: str, column: int = 0) -> QModelIndex:
        row = self._row_of.get(station_id)
        return QModelIndex() if row is None else self.index(row, column)

    def connector_index(self, station_id: str, connector_id: int, column: int = 0) -> QModelIndex:
        """The index of a connector row (connector 0 is the station row)."""
        row = self._row_of.get(station_id)
        if row is None:
            return QModelIndex()
        if connector_id == 0:
            return self.index(row, column)
        node = self._nodes[row]
        child = _find_connector(node.connectors, connector_id)
        if child is None or node.connectors[child].connector_id != connector_id:
            return QModelIndex()
        return self.index(child, column, self.index(row, 0))

    def online_count(self) -> int:
        return sum(1 for node in self._nodes if node.snapshot.connected)

    # --- QAbstractItemModel -----------------------------------------------------------------

    # These four are called hundreds of thousands of times a second by the proxy and the
    # view during a burst: plain list and dict look-ups only, no hasIndex() round trips.

    def index(self, row: int, column: int, parent: AnyIndex = QModelIndex()) -> QModelIndex:  # noqa: B008
        if not 0 <= column < _COLUMN_COUNT or row < 0:
            return QModelIndex()
        if not parent.isValid():
            if row >= len(self._nodes):
                return QModelIndex()
            return self.createIndex(row, column, 0)
        if parent.internalId() != 0 or parent.column() != 0:
            return QModelIndex()
        parent_row = parent.row()
        if parent_row >= len(self._nodes):
            return QModelIndex()
        node = self._nodes[parent_row]
        if row >= len(node.connectors):
            return QModelIndex()
        return self.createIndex(row, column, node.key)

    def parent(self, child: AnyIndex = QModelIndex()) -> QModelIndex:  # type: ignore[override]  # noqa: B008
        if not child.isValid():
            return QModelIndex()
        key = child.internalId()
        if key == 0:
            return QModelIndex()
        node = self._by_key.get(key)
        if node is None:
            return QModelIndex()
        return self.createIndex(self._row_of[node.snapshot.station_id], 0, 0)

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        if not parent.isValid():
            return len(self._nodes)
        if parent.internalId() != 0 or parent.column() != 0:
            return 0
        return len(self._nodes[parent.row()].connectors)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return _COLUMN_COUNT

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        horizontal = orientation == Qt.Orientation.Horizontal
        if horizontal and role == Qt.ItemDataRole.DisplayRole and 0 <= section < len(TreeColumn):
            return _HEADERS[TreeColumn(section)]
        return None

    def flags(self, index: AnyIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        key = index.internalId()
        if key == 0:
            node = self._nodes[index.row()]
            return self._station_data(node, TreeColumn(index.column()), role)
        node = self._by_key[key]
        connector = node.connectors[index.row()]
        return self._connector_data(node, connector, TreeColumn(index.column()), role)

    # --- cells ----------------------------------------------------------------------------------

    def _station_data(self, node: _StationNode, column: TreeColumn, role: int) -> Any:
        station = node.snapshot
        if role == ItemRole.STATION_ID:
            return station.station_id
        if role == ItemRole.CONNECTOR_ID:
            return None
        if role == ItemRole.RESERVATION_ID:
            record = self.active_reservation(station.station_id, 0)
            return None if record is None else record.reservation_id
        look = station_connection_look(station.connected)
        if role == ItemRole.FILTER:
            # Without the connectors' summary: "faulted" must find the faulted connector,
            # not every connector of its station (children of a matching row all show).
            zero_look = connector_status_look(node.zero.status) if node.zero else None
            return " ".join(
                _station_state_text(node, look.text, zero_look, summary=False)
                if c == TreeColumn.STATE
                else str(self._station_data(node, c, Qt.ItemDataRole.DisplayRole) or "")
                for c in TreeColumn
            )
        if column == TreeColumn.NAME:
            if role in (Qt.ItemDataRole.DisplayRole, ItemRole.SORT):
                return station.station_id
            if role == Qt.ItemDataRole.DecorationRole:
                return look.icon()
            if role == Qt.ItemDataRole.ToolTipRole:
                return _station_tooltip(station)
            return None
        if column == TreeColumn.STATE:
            zero_look = connector_status_look(node.zero.status) if node.zero else None
            if role in (Qt.ItemDataRole.DisplayRole, ItemRole.SORT):
                return _station_state_text(node, look.text, zero_look)
            if role == Qt.ItemDataRole.ForegroundRole:
                return look.foreground_color()
            if role == Qt.ItemDataRole.BackgroundRole:
                return look.background_color()
            if role == Qt.ItemDataRole.ToolTipRole:
                return station.note or (station.remote_address and f"from {station.remote_address}")
            return None
        if role == ItemRole.SORT:
            return self._station_sort_value(node, column)
        if role == Qt.ItemDataRole.ForegroundRole and column == TreeColumn.HEARTBEAT:
            return _heartbeat_colour(station, self._now)
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        match column:
            case TreeColumn.SINCE:
                return format_local_time(station.state_since, self._now)
            case TreeColumn.ERROR:
                zero = node.zero
                if zero is not None and zero.error_code and zero.error_code != _NO_ERROR:
                    return zero.error_code.value
                return ""
            case TreeColumn.RESERVATION:
                record = self.active_reservation(station.station_id, 0)
                return "" if record is None else _reservation_text(record, self._now)
            case TreeColumn.VENDOR:
                return " / ".join(p for p in (station.vendor, station.model) if p) or "—"
            case TreeColumn.FIRMWARE:
                return station.firmware_version or "—"
            case TreeColumn.SECURITY:
                return f"profile {station.security_profile}"
            case TreeColumn.LAST_MESSAGE:
                return format_age(station.last_message_at, self._now)
            case TreeColumn.HEARTBEAT:
                if station.connected and _heartbeat_this_connection(station) is None:
                    return "none yet"
                return format_age(station.last_heartbeat_at, self._now)
        return ""

    def _station_sort_value(self, node: _StationNode, column: TreeColumn) -> Any:
        station = node.snapshot
        if column == TreeColumn.LAST_MESSAGE:
            return _timestamp(station.last_message_at)
        if column == TreeColumn.HEARTBEAT:
            return _timestamp(station.last_heartbeat_at)
        if column == TreeColumn.SINCE:
            return _timestamp(station.state_since)
        return str(self._station_data(node, column, Qt.ItemDataRole.DisplayRole) or "").lower()

    def _connector_data(
        self, node: _StationNode, connector: ConnectorSnapshot, column: TreeColumn, role: int
    ) -> Any:
        if role == ItemRole.STATION_ID:
            return connector.station_id
        if role == ItemRole.CONNECTOR_ID:
            return connector.connector_id
        if role == ItemRole.RESERVATION_ID:
            record = self.active_reservation(connector.station_id, connector.connector_id)
            return None if record is None else record.reservation_id
        if role == ItemRole.FILTER:
            # A connector matches on its own texts and on its station's id.
            return (
                connector.station_id
                + " "
                + " ".join(
                    str(self._connector_data(node, connector, c, Qt.ItemDataRole.DisplayRole) or "")
                    for c in TreeColumn
                )
            )
        look = connector_status_look(connector.status)
        if column == TreeColumn.NAME:
            if role == Qt.ItemDataRole.DisplayRole:
                return f"Connector {connector.connector_id}"
            if role == ItemRole.SORT:
                return connector.connector_id
            return None
        if column == TreeColumn.STATE:
            if role in (Qt.ItemDataRole.DisplayRole, ItemRole.SORT):
                return look.text
            if (look_data := look.role_data(role)) is not None:
                return look_data
            if role == Qt.ItemDataRole.ToolTipRole:
                return connector.info or None
            return None
        if column == TreeColumn.RESERVATION:
            record = self.active_reservation(connector.station_id, connector.connector_id)
            if record is None:
                return self._refusal_data(connector, role)
            if role == Qt.ItemDataRole.DisplayRole:
                return _reservation_text(record, self._now)
            if role == ItemRole.SORT:
                return _timestamp(record.expiry_date)
            if role == Qt.ItemDataRole.ForegroundRole:
                # the purple of "Reserved", in the pair of the current light/dark scheme
                return connector_status_look(ChargePointStatus.RESERVED).foreground_color()
            if role == Qt.ItemDataRole.ToolTipRole:
                parent = f", parent {record.parent_id_tag}" if record.parent_id_tag else ""
                return (
                    f"Reservation {record.reservation_id} for {record.id_tag}{parent}, "
                    f"until {format_local_time(record.expiry_date)}"
                )
            return None
        if role not in (Qt.ItemDataRole.DisplayRole, ItemRole.SORT):
            return None
        match column:
            case TreeColumn.SINCE:
                if role == ItemRole.SORT:
                    return _timestamp(connector.status_at)
                return format_local_time(connector.status_at, self._now)
            case TreeColumn.ERROR:
                if connector.error_code and connector.error_code != _NO_ERROR:
                    vendor = (
                        f" ({connector.vendor_error_code})" if connector.vendor_error_code else ""
                    )
                    return connector.error_code.value + vendor
                return ""
            case TreeColumn.TRANSACTION:
                if connector.transaction_id is None:
                    return ""
                tag = f" · {connector.id_tag}" if connector.id_tag else ""
                return f"#{connector.transaction_id}{tag}"
        return ""

    def _refusal_data(self, connector: ConnectorSnapshot, role: int) -> Any:
        """A connector without a reservation: the last refused answer there, for a while."""
        refusal = self._last_refusal.get((connector.station_id, connector.connector_id))
        recent = refusal is not None and self._now - _answer_time(refusal) <= REFUSAL_SHOWN_FOR
        if role == Qt.ItemDataRole.DisplayRole:
            if connector.reservation_id is not None:
                return f"#{connector.reservation_id}"
            if refusal is not None and recent:
                return f"#{refusal.reservation_id} {reservation_state_look(refusal.state).text}"
            return ""
        if refusal is None:
            return None
        if role == Qt.ItemDataRole.ForegroundRole and recent:
            return reservation_state_look(refusal.state).foreground_color()
        if role == Qt.ItemDataRole.ToolTipRole:
            # The tooltip keeps the last answer after the cell has let it go.
            return (
                f"Last reservation attempt here: #{refusal.reservation_id} for "
                f"{refusal.id_tag}: {reservation_answer_text(refusal)} "
                f"({format_local_time(_answer_time(refusal))})"
            )
        return None

    # --- internals ------------------------------------------------------------------------------

    def _insert_station(self, snapshot: StationSnapshot) -> None:
        row = len(self._nodes)
        self.beginInsertRows(QModelIndex(), row, row)
        node = _StationNode(key=next(self._keys), snapshot=snapshot)
        self._nodes.append(node)
        self._row_of[snapshot.station_id] = row
        self._by_key[node.key] = node
        self.endInsertRows()

    def _station_row_changed(self, row: int) -> None:
        self.dataChanged.emit(self.index(row, 0), self.index(row, _LAST_COLUMN))

    def _connector_row_changed(self, station_id: str, connector_id: int) -> None:
        index = self.connector_index(station_id, connector_id)
        if index.isValid():
            self.dataChanged.emit(index, index.siblingAtColumn(_LAST_COLUMN))


def _find_connector(connectors: list[ConnectorSnapshot], connector_id: int) -> int | None:
    """The position of ``connector_id`` or of the first connector after it (None: at the end)."""
    for position, connector in enumerate(connectors):
        if connector.connector_id >= connector_id:
            return position
    return None


def _answer_time(record: ReservationRecord) -> datetime:
    return record.answered_at or record.updated_at or record.created_at


def _station_state_text(
    node: _StationNode, connection: str, zero_look: Look | None, *, summary: bool = True
) -> str:
    """ "Online · 1 faulted, 1 reserved": the station row sums up its connectors."""
    parts = [connection]
    counts: dict[str, int] = {}
    if summary and node.snapshot.connected:
        for connector in node.connectors:
            if connector.status is not None and connector.status != ChargePointStatus.AVAILABLE:
                name = connector_status_look(connector.status).text.lower()
                counts[name] = counts.get(name, 0) + 1
    zero = node.zero
    # connector 0 "Available" says nothing when some connector is not
    if (
        zero_look is not None
        and zero is not None
        and zero.status
        and (not counts or zero.status is not ChargePointStatus.AVAILABLE)
    ):
        parts.append(zero_look.text)
    zero_name = zero_look.text.lower() if zero_look is not None else ""
    if list(counts) == [zero_name] and counts[zero_name] == len(node.connectors):
        counts = {}  # "Unavailable" on connector 0 and on every connector: said once is enough
    if counts:
        parts.append(", ".join(f"{count} {name}" for name, count in counts.items()))
    return " · ".join(parts)


def _reservation_text(record: ReservationRecord, now: datetime) -> str:
    return (
        f"#{record.reservation_id} · {record.id_tag} · {format_countdown(record.expiry_date, now)}"
    )


def _timestamp(moment: datetime | None) -> float:
    return moment.timestamp() if moment is not None else 0.0


def _heartbeat_this_connection(station: StationSnapshot) -> datetime | None:
    """The last heartbeat if it came on the station's current connection (one stored from
    an earlier session, before a restart of the console, says nothing about this link)."""
    beat = station.last_heartbeat_at
    if beat is None or (station.state_since is not None and beat < station.state_since):
        return None
    return beat


def _heartbeat_colour(station: StationSnapshot, now: datetime) -> QColor | None:
    # Overdue heartbeats (more than two intervals) are shown amber: the link may be gone.
    # Counted from the connection's start until its first heartbeat.
    if not station.connected or not station.heartbeat_interval:
        return None
    since = _heartbeat_this_connection(station) or station.state_since
    if since is None:
        return None
    if now - since > timedelta(seconds=2 * station.heartbeat_interval):
        return reservation_state_look(ReservationState.NO_RESPONSE).foreground_color()
    return None


def _station_tooltip(station: StationSnapshot) -> str:
    lines = [station.station_id]
    if station.remote_address:
        lines.append(f"Address: {station.remote_address}")
    if station.serial_number:
        lines.append(f"Serial: {station.serial_number}")
    if station.registration_status:
        lines.append(f"Registration: {station.registration_status}")
    if station.reserve_connector_zero_supported is not None:
        lines.append(f"ReserveConnectorZeroSupported: {station.reserve_connector_zero_supported}")
    if station.is_new:
        lines.append("Not in the station list (accepted as a new station)")
    if station.note:
        lines.append(station.note)
    return "\n".join(lines)
