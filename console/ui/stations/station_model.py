"""The live tree of stations, their EVSEs (2.0.1) and connectors, as a Qt item model.

One thing despite its length: a tree model's index bookkeeping, row updates and per-column
cell texts belong to one class (Qt's item model contract); the rows themselves are the
plain containers of :mod:`.station_nodes`, the texts that need no index come from
:mod:`.tree_cells`, the looks from :mod:`console.ui.look.presentation`.

Internal ids: 0 on a station row; a station's key on its children (1.6 connectors, 2.0.1
EVSEs); an EVSE's key on its connectors. Keys are never reused.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
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

from console.central.model import (
    ConnectorSnapshot,
    ReservationRecord,
    ReservationState,
    StationSnapshot,
)
from console.ocpp.enums import ChargePointErrorCode, ChargePointStatus
from console.ocpp.versions import OcppVersion
from console.ui.look.presentation import (
    connector_status_look,
    format_age,
    format_local_time,
    reservation_answer_text,
    reservation_state_look,
    station_connection_look,
)
from console.ui.stations import tree_cells as cells
from console.ui.stations.station_nodes import EvseNode, StationNode, connector_position

__all__ = ["ItemRole", "Place", "StationTreeModel", "TreeColumn"]

AnyIndex = QModelIndex | QPersistentModelIndex
Clock = Callable[[], datetime]

Place = tuple[str, bool, int]
"""Where a reservation is held: (station, by EVSE, number). 1.6: (station, False, connector
id; 0 = the station); 2.0.1: (station, True, EVSE id; 0 = any EVSE, shown on the station)."""


class TreeColumn(IntEnum):
    """The columns of the station tree."""

    NAME = 0
    VERSION = 1
    STATE = 2
    SINCE = 3
    ERROR = 4
    RESERVATION = 5
    TRANSACTION = 6
    VENDOR = 7
    FIRMWARE = 8
    SECURITY = 9
    LAST_MESSAGE = 10
    HEARTBEAT = 11


_HEADERS = {
    TreeColumn.NAME: "Station / connector",
    TreeColumn.VERSION: "OCPP",
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
    """What a reservation made from this row names: the connector (1.6), the EVSE (2.0.1, on
    an EVSE row and on its connectors' rows); None on a station row."""
    RESERVATION_ID = Qt.ItemDataRole.UserRole + 4
    """The active reservation shown on the row, if any."""
    FILTER = Qt.ItemDataRole.UserRole + 5
    """All the row's texts in one string, for the filter box."""
    EVSE_ID = Qt.ItemDataRole.UserRole + 6
    """2.0.1: the EVSE of an EVSE row or of a connector row; None elsewhere."""


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


def _place(record: ReservationRecord) -> Place:
    return (record.station_id, record.ocpp_version is OcppVersion.V201, record.connector_id)


class StationTreeModel(QAbstractItemModel):
    """Stations (top level), their connectors (1.6) or EVSEs with connectors (2.0.1), fed
    by :class:`ChangeFeed` batches.

    Every change is a fine-grained model signal: ``dataChanged`` for the rows that changed,
    ``beginInsertRows``/``beginRemoveRows`` for a connector or EVSE that came or went. The
    reservation column counts down: :meth:`tick` (once a second) refreshes only the age and
    countdown cells.
    """

    sig_stations_changed = Signal()
    """The set of stations, their connection or their connectors changed (the form listens)."""

    def __init__(self, parent: QObject | None = None, *, clock: Clock | None = None) -> None:
        super().__init__(parent)
        self._clock: Clock = clock or (lambda: datetime.now(UTC))
        self._nodes: list[StationNode] = []
        self._row_of: dict[str, int] = {}
        self._by_key: dict[int, StationNode | EvseNode] = {}
        self._keys = itertools.count(1)
        self._records: dict[tuple[str, int], ReservationRecord] = {}
        """The latest record per (station, reservation id): rows show the active one."""
        self._active_on: dict[Place, int] = {}
        """Place -> reservation id of the active reservation held there."""
        self._last_refusal: dict[Place, ReservationRecord] = {}
        """Place -> the last attempt there that the station refused or missed."""
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
        """Show these connector snapshots (new connectors, and EVSEs, are inserted in order)."""
        # parent key -> changed child rows (low, high), or None: all of them (rows shifted)
        changed: dict[int, tuple[int, int] | None] = {}
        evses_changed: set[EvseNode] = set()
        stations_changed: set[int] = set()
        zero_changed: set[int] = set()
        inserted = False
        for snapshot in connectors:
            node = self._station_node(snapshot.station_id)
            stations_changed.add(self._row_of[snapshot.station_id])
            if snapshot.evse_id is None and snapshot.connector_id == 0:
                node.zero = snapshot
                zero_changed.add(self._row_of[snapshot.station_id])
                continue
            evse: EvseNode | None = None
            if snapshot.evse_id is None:
                parent_key = node.key
                position, found = node.connector_position(snapshot.connector_id)
            else:
                evse = node.evses.get(snapshot.evse_id)
                if evse is None:
                    evse = self._insert_evse(node, snapshot.evse_id)
                    inserted = True
                evses_changed.add(evse)
                parent_key = evse.key
                position, found = connector_position(evse.connectors, snapshot.connector_id)
            if found:
                if evse is None:
                    node.children[position] = snapshot
                else:
                    evse.connectors[position] = snapshot
                span = changed.get(parent_key, (position, position))
                if span is not None:
                    changed[parent_key] = (min(span[0], position), max(span[1], position))
                continue
            self.beginInsertRows(self._parent_index(parent_key), position, position)
            if evse is None:
                node.children.insert(position, snapshot)
                node.renumber(position)
            else:
                evse.connectors.insert(position, snapshot)
            self.endInsertRows()
            changed[parent_key] = None  # rows after the insert shifted
            inserted = True
        for parent_key, span in changed.items():
            parent = self._parent_index(parent_key)
            if not parent.isValid():
                continue
            low, high = span if span is not None else (0, self.rowCount(parent) - 1)
            if high >= low:
                self.dataChanged.emit(
                    self.index(low, _FIRST_STATUS_COLUMN, parent),
                    self.index(high, _LAST_STATUS_COLUMN, parent),
                )
        for evse in evses_changed:
            if self._by_key.get(evse.key) is evse:
                parent = self.index(self._row_of[evse.station.snapshot.station_id], 0)
                self.dataChanged.emit(
                    self.index(evse.row, _FIRST_STATUS_COLUMN, parent),
                    self.index(evse.row, _LAST_STATUS_COLUMN, parent),
                )
        for row in zero_changed:
            self._station_row_changed(row)  # connector 0 fills its error and reservation cells
        for row in stations_changed - zero_changed:
            # The station row's state sums its connectors up ("Online · 1 faulted").
            state = self.index(row, TreeColumn.STATE)
            self.dataChanged.emit(state, state)
        if inserted:
            self.sig_stations_changed.emit()

    def apply_removed_connectors(self, connectors: Iterable[ConnectorSnapshot]) -> None:
        """Drop the rows of connectors a station no longer has (it came back speaking the
        other version); an EVSE goes with its last connector."""
        removed = False
        for snapshot in connectors:
            row = self._row_of.get(snapshot.station_id)
            if row is None:
                continue
            node = self._nodes[row]
            if snapshot.evse_id is None and snapshot.connector_id == 0:
                node.zero = None
                self._station_row_changed(row)
                continue
            if snapshot.evse_id is None:
                position, found = node.connector_position(snapshot.connector_id)
                if found:
                    self._remove_child(node, row, position)
                    removed = True
                continue
            evse = node.evses.get(snapshot.evse_id)
            if evse is None:
                continue
            position, found = connector_position(evse.connectors, snapshot.connector_id)
            if not found:
                continue
            removed = True
            if len(evse.connectors) == 1:
                self._remove_child(node, row, evse.row)
                del node.evses[evse.evse_id]
                del self._by_key[evse.key]
                continue
            self.beginRemoveRows(self.index(evse.row, 0, self.index(row, 0)), position, position)
            del evse.connectors[position]
            self.endRemoveRows()
        if removed:
            self.sig_stations_changed.emit()

    def apply_reservations(self, records: Iterable[ReservationRecord]) -> None:
        """Track reservations so that rows show the active one with a countdown."""
        touched: set[Place] = set()
        for record in records:
            record_key = (record.station_id, record.reservation_id)
            previous = self._records.get(record_key)
            if previous is not None and previous.created_at > record.created_at:
                continue  # an older attempt with a reused id: the newer one counts
            self._records[record_key] = record
            where = _place(record)
            if previous is not None:
                old_where = _place(previous)
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
        for place in touched:
            index = self.place_index(place)
            if index.isValid():
                self.dataChanged.emit(index, index.siblingAtColumn(_LAST_COLUMN))

    def remove_station(self, station_id: str) -> None:
        """Forget a station and its connectors."""
        row = self._row_of.get(station_id)
        if row is None:
            return
        self.beginRemoveRows(QModelIndex(), row, row)
        node = self._nodes.pop(row)
        del self._by_key[node.key]
        for evse in node.evses.values():
            del self._by_key[evse.key]
        self._row_of = {n.snapshot.station_id: i for i, n in enumerate(self._nodes)}
        self.endRemoveRows()
        self.sig_stations_changed.emit()

    def remove_connector(self, station_id: str, connector_id: int) -> None:
        """Forget one (1.6) connector of a station."""
        self.apply_removed_connectors([ConnectorSnapshot(station_id, connector_id)])

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
            if self._now - cells.answer_time(record) <= REFUSAL_SHOWN_FOR + timedelta(seconds=2)
        ]
        for place in [*self._active_on, *recent]:
            index = self.place_index(place, TreeColumn.RESERVATION)
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
        """The (1.6) connector ids (1..n) known for a station."""
        row = self._row_of.get(station_id)
        if row is None:
            return []
        node = self._nodes[row]
        known = [c.connector_id for c in node.children if isinstance(c, ConnectorSnapshot)]
        if not known and not node.evses and node.snapshot.number_of_connectors:
            return list(range(1, node.snapshot.number_of_connectors + 1))
        return known

    def evse_ids(self, station_id: str) -> list[int]:
        """2.0.1: the EVSE ids known for a station, in order."""
        row = self._row_of.get(station_id)
        return [] if row is None else sorted(self._nodes[row].evses)

    def evse_connectors(self, station_id: str, evse_id: int) -> list[ConnectorSnapshot]:
        """2.0.1: the connectors of one EVSE, by number."""
        row = self._row_of.get(station_id)
        evse = None if row is None else self._nodes[row].evses.get(evse_id)
        return [] if evse is None else list(evse.connectors)

    def connector(
        self, station_id: str, connector_id: int, evse_id: int | None = None
    ) -> ConnectorSnapshot | None:
        """A 1.6 connector (0: the station), or with ``evse_id`` a 2.0.1 connector."""
        row = self._row_of.get(station_id)
        if row is None:
            return None
        node = self._nodes[row]
        if evse_id is not None:
            evse = node.evses.get(evse_id)
            if evse is None:
                return None
            position, found = connector_position(evse.connectors, connector_id)
            return evse.connectors[position] if found else None
        if connector_id == 0:
            return node.zero
        position, found = node.connector_position(connector_id)
        child = node.children[position] if found else None
        return child if isinstance(child, ConnectorSnapshot) else None

    def reservation(self, station_id: str, reservation_id: int) -> ReservationRecord | None:
        """The latest attempt with this reservation id on this station, if any."""
        return self._records.get((station_id, reservation_id))

    def active_reservation(
        self, station_id: str, number: int, *, by_evse: bool = False
    ) -> ReservationRecord | None:
        """The accepted reservation held on connector ``number`` (1.6; 0 = the station) or,
        ``by_evse``, on EVSE ``number`` (2.0.1; 0 = any EVSE), if any."""
        place: Place = (station_id, by_evse, number)
        reservation_id = self._active_on.get(place)
        if reservation_id is None:
            held = self._held_by_station(place)
            reservation_id = held
        if reservation_id is None:
            return None
        record = self._records.get((station_id, reservation_id))
        if record is None or not record.active:
            # The station says it is reserved but the record is not here (yet).
            return None
        return record

    def station_index(self, station_id: str, column: int = 0) -> QModelIndex:
        row = self._row_of.get(station_id)
        return QModelIndex() if row is None else self.index(row, column)

    def connector_index(
        self, station_id: str, connector_id: int, column: int = 0, *, evse_id: int | None = None
    ) -> QModelIndex:
        """The index of a connector row (1.6 connector 0 is the station row; with
        ``evse_id`` a 2.0.1 connector)."""
        row = self._row_of.get(station_id)
        if row is None:
            return QModelIndex()
        node = self._nodes[row]
        if evse_id is not None:
            evse = node.evses.get(evse_id)
            if evse is None:
                return QModelIndex()
            position, found = connector_position(evse.connectors, connector_id)
            if not found:
                return QModelIndex()
            return self.index(position, column, self.index(evse.row, 0, self.index(row, 0)))
        if connector_id == 0:
            return self.index(row, column)
        position, found = node.connector_position(connector_id)
        return self.index(position, column, self.index(row, 0)) if found else QModelIndex()

    def evse_index(self, station_id: str, evse_id: int, column: int = 0) -> QModelIndex:
        """The index of a 2.0.1 EVSE row."""
        row = self._row_of.get(station_id)
        evse = None if row is None else self._nodes[row].evses.get(evse_id)
        if row is None or evse is None:
            return QModelIndex()
        return self.index(evse.row, column, self.index(row, 0))

    def place_index(self, place: Place, column: int = 0) -> QModelIndex:
        """The row showing the reservations of ``place``."""
        station_id, by_evse, number = place
        if by_evse and number != 0:
            return self.evse_index(station_id, number, column)
        return self.connector_index(station_id, number, column)

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
        if parent.column() != 0:
            return QModelIndex()
        key = parent.internalId()
        if key == 0:
            parent_row = parent.row()
            if parent_row >= len(self._nodes):
                return QModelIndex()
            node = self._nodes[parent_row]
            if row >= len(node.children):
                return QModelIndex()
            return self.createIndex(row, column, node.key)
        owner = self._by_key.get(key)
        if not isinstance(owner, StationNode) or parent.row() >= len(owner.children):
            return QModelIndex()
        evse = owner.children[parent.row()]
        if not isinstance(evse, EvseNode) or row >= len(evse.connectors):
            return QModelIndex()
        return self.createIndex(row, column, evse.key)

    def parent(self, child: AnyIndex = QModelIndex()) -> QModelIndex:  # type: ignore[override]  # noqa: B008
        if not child.isValid():
            return QModelIndex()
        key = child.internalId()
        if key == 0:
            return QModelIndex()
        owner = self._by_key.get(key)
        if owner is None:
            return QModelIndex()
        if isinstance(owner, EvseNode):
            return self.createIndex(owner.row, 0, owner.station.key)
        return self.createIndex(self._row_of[owner.snapshot.station_id], 0, 0)

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        if not parent.isValid():
            return len(self._nodes)
        if parent.column() != 0:
            return 0
        key = parent.internalId()
        if key == 0:
            return len(self._nodes[parent.row()].children)
        owner = self._by_key.get(key)
        if isinstance(owner, StationNode) and parent.row() < len(owner.children):
            child = owner.children[parent.row()]
            return len(child.connectors) if isinstance(child, EvseNode) else 0
        return 0

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
        column = TreeColumn(index.column())
        if key == 0:
            return self._station_data(self._nodes[index.row()], column, role)
        owner = self._by_key[key]
        if isinstance(owner, EvseNode):
            return self._connector_data(owner.connectors[index.row()], column, role)
        child = owner.children[index.row()]
        if isinstance(child, EvseNode):
            return self._evse_data(child, column, role)
        return self._connector_data(child, column, role)

    # --- cells ----------------------------------------------------------------------------------

    def _station_data(self, node: StationNode, column: TreeColumn, role: int) -> Any:
        station = node.snapshot
        if role == ItemRole.STATION_ID:
            return station.station_id
        if role in (ItemRole.CONNECTOR_ID, ItemRole.EVSE_ID):
            return None
        if role == ItemRole.RESERVATION_ID:
            record = self._station_reservation(station)
            return None if record is None else record.reservation_id
        look = station_connection_look(station.connected)
        if role == ItemRole.FILTER:
            # Without the connectors' summary: "faulted" must find the faulted connector,
            # not every connector of its station (children of a matching row all show).
            zero_look = connector_status_look(node.zero.status) if node.zero else None
            return " ".join(
                cells.station_state_text(
                    node, cells.connection_text(station, look.text), zero_look, summary=False
                )
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
                return cells.station_tooltip(station)
            return None
        if column == TreeColumn.STATE:
            zero_look = connector_status_look(node.zero.status) if node.zero else None
            if role in (Qt.ItemDataRole.DisplayRole, ItemRole.SORT):
                return cells.station_state_text(
                    node, cells.connection_text(station, look.text), zero_look
                )
            if role == Qt.ItemDataRole.ForegroundRole:
                return look.foreground_color()
            if role == Qt.ItemDataRole.BackgroundRole:
                return look.background_color()
            if role == Qt.ItemDataRole.ToolTipRole:
                return station.note or (station.remote_address and f"from {station.remote_address}")
            return None
        if column == TreeColumn.VERSION and role == Qt.ItemDataRole.ToolTipRole:
            return f"Speaks OCPP {station.ocpp_version.value} ({station.ocpp_version.subprotocol})"
        if role == ItemRole.SORT:
            return self._station_sort_value(node, column)
        if role == Qt.ItemDataRole.ForegroundRole and column == TreeColumn.HEARTBEAT:
            return cells.heartbeat_colour(station, self._now)
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        match column:
            case TreeColumn.VERSION:
                return station.ocpp_version.value
            case TreeColumn.SINCE:
                return format_local_time(station.state_since, self._now)
            case TreeColumn.ERROR:
                zero = node.zero
                if zero is not None and zero.error_code and zero.error_code != _NO_ERROR:
                    return zero.error_code.value
                return ""
            case TreeColumn.RESERVATION:
                record = self._station_reservation(station)
                return "" if record is None else cells.reservation_text(record, self._now)
            case TreeColumn.VENDOR:
                return " / ".join(p for p in (station.vendor, station.model) if p) or "—"
            case TreeColumn.FIRMWARE:
                return station.firmware_version or "—"
            case TreeColumn.SECURITY:
                return f"profile {station.security_profile}"
            case TreeColumn.LAST_MESSAGE:
                return format_age(station.last_message_at, self._now)
            case TreeColumn.HEARTBEAT:
                if station.connected and cells.heartbeat_this_connection(station) is None:
                    return "none yet"
                return format_age(station.last_heartbeat_at, self._now)
        return ""

    def _station_sort_value(self, node: StationNode, column: TreeColumn) -> Any:
        station = node.snapshot
        if column == TreeColumn.LAST_MESSAGE:
            return cells.timestamp(station.last_message_at)
        if column == TreeColumn.HEARTBEAT:
            return cells.timestamp(station.last_heartbeat_at)
        if column == TreeColumn.SINCE:
            return cells.timestamp(station.state_since)
        return str(self._station_data(node, column, Qt.ItemDataRole.DisplayRole) or "").lower()

    def _station_reservation(self, station: StationSnapshot) -> ReservationRecord | None:
        """A reservation of the whole station: 1.6 connector 0, 2.0.1 without an EVSE."""
        by_evse = station.ocpp_version is OcppVersion.V201
        return self.active_reservation(station.station_id, 0, by_evse=by_evse)

    def _evse_data(self, evse: EvseNode, column: TreeColumn, role: int) -> Any:
        station_id = evse.station.snapshot.station_id
        if role == ItemRole.STATION_ID:
            return station_id
        if role in (ItemRole.CONNECTOR_ID, ItemRole.EVSE_ID):
            return evse.evse_id
        if role == ItemRole.RESERVATION_ID:
            record = self.active_reservation(station_id, evse.evse_id, by_evse=True)
            return None if record is None else record.reservation_id
        if role == ItemRole.FILTER:
            return (
                station_id
                + " "
                + " ".join(
                    str(self._evse_data(evse, c, Qt.ItemDataRole.DisplayRole) or "")
                    for c in TreeColumn
                )
            )
        if column == TreeColumn.NAME:
            if role == Qt.ItemDataRole.DisplayRole:
                return f"EVSE {evse.evse_id}"
            if role == ItemRole.SORT:
                return evse.evse_id
            if role == Qt.ItemDataRole.ToolTipRole:
                return cells.evse_tooltip(evse)
            return None
        if column == TreeColumn.STATE:
            look, text = cells.evse_state(evse)
            if role in (Qt.ItemDataRole.DisplayRole, ItemRole.SORT):
                return text
            return look.role_data(role)
        if column == TreeColumn.RESERVATION:
            return self._reservation_cell((station_id, True, evse.evse_id), role)
        if column == TreeColumn.SINCE and role in (Qt.ItemDataRole.DisplayRole, ItemRole.SORT):
            moments = [c.status_at for c in evse.connectors if c.status_at is not None]
            latest = max(moments, default=None)
            if role == ItemRole.SORT:
                return cells.timestamp(latest)
            return format_local_time(latest, self._now)
        if role == ItemRole.SORT:
            return ""
        return "" if role == Qt.ItemDataRole.DisplayRole else None

    def _connector_data(self, connector: ConnectorSnapshot, column: TreeColumn, role: int) -> Any:
        if role == ItemRole.STATION_ID:
            return connector.station_id
        if role == ItemRole.CONNECTOR_ID:
            # What a reservation from here names: on 2.0.1 the connector's EVSE.
            return connector.connector_id if connector.evse_id is None else connector.evse_id
        if role == ItemRole.EVSE_ID:
            return connector.evse_id
        place = self._connector_place(connector)
        if role == ItemRole.RESERVATION_ID:
            station_id, by_evse, number = place
            record = self.active_reservation(station_id, number, by_evse=by_evse)
            return None if record is None else record.reservation_id
        if role == ItemRole.FILTER:
            # A connector matches on its own texts and on its station's id.
            return (
                connector.station_id
                + " "
                + " ".join(
                    str(self._connector_data(connector, c, Qt.ItemDataRole.DisplayRole) or "")
                    for c in TreeColumn
                )
            )
        look = connector_status_look(connector.status)
        if column == TreeColumn.NAME:
            if role == Qt.ItemDataRole.DisplayRole:
                return cells.connector_name(connector)
            if role == ItemRole.SORT:
                return connector.connector_id
            if role == Qt.ItemDataRole.ToolTipRole and connector.evse_id is not None:
                kind = connector.connector_type.value if connector.connector_type else "not said"
                return f"EVSE {connector.evse_id}, connector {connector.connector_id}; type: {kind}"
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
            if connector.evse_id is not None:
                # 2.0.1 reserves the EVSE: its row above shows the reservation.
                return "" if role == Qt.ItemDataRole.DisplayRole else None
            return self._reservation_cell(place, role, connector)
        if role not in (Qt.ItemDataRole.DisplayRole, ItemRole.SORT):
            return None
        match column:
            case TreeColumn.SINCE:
                if role == ItemRole.SORT:
                    return cells.timestamp(connector.status_at)
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

    def _reservation_cell(
        self, place: Place, role: int, connector: ConnectorSnapshot | None = None
    ) -> Any:
        """The reservation cell of a 1.6 connector row or a 2.0.1 EVSE row."""
        station_id, by_evse, number = place
        record = self.active_reservation(station_id, number, by_evse=by_evse)
        if record is None:
            return self._refusal_data(place, role, connector)
        if role == Qt.ItemDataRole.DisplayRole:
            return cells.reservation_text(record, self._now)
        if role == ItemRole.SORT:
            return cells.timestamp(record.expiry_date)
        if role == Qt.ItemDataRole.ForegroundRole:
            # the purple of "Reserved", in the pair of the current light/dark scheme
            return connector_status_look(ChargePointStatus.RESERVED).foreground_color()
        if role == Qt.ItemDataRole.ToolTipRole:
            label = "group" if by_evse else "parent"
            parent = f", {label} {record.parent_id_tag}" if record.parent_id_tag else ""
            kind = f" ({record.id_token_type.value})" if record.id_token_type else ""
            plug = f", {record.connector_type.value} only" if record.connector_type else ""
            return (
                f"Reservation {record.reservation_id} for {record.id_tag}{kind}{parent}{plug}, "
                f"until {format_local_time(record.expiry_date)}"
            )
        return None

    def _refusal_data(self, place: Place, role: int, connector: ConnectorSnapshot | None) -> Any:
        """A row without a reservation: the last refused answer there, for a while."""
        refusal = self._last_refusal.get(place)
        recent = refusal is not None and self._now - cells.answer_time(refusal) <= REFUSAL_SHOWN_FOR
        if role == Qt.ItemDataRole.DisplayRole:
            if connector is not None and connector.reservation_id is not None:
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
                f"({format_local_time(cells.answer_time(refusal))})"
            )
        return None

    # --- internals ------------------------------------------------------------------------------

    @staticmethod
    def _connector_place(connector: ConnectorSnapshot) -> Place:
        if connector.evse_id is None:
            return (connector.station_id, False, connector.connector_id)
        return (connector.station_id, True, connector.evse_id)

    def _held_by_station(self, place: Place) -> int | None:
        """The reservation id the station itself reports on a place (its connectors' word)."""
        station_id, by_evse, number = place
        if by_evse:
            if number == 0:
                return None
            held = (c.reservation_id for c in self.evse_connectors(station_id, number))
            return next((r for r in held if r is not None), None)
        connector = self.connector(station_id, number)
        return None if connector is None else connector.reservation_id

    def _station_node(self, station_id: str) -> StationNode:
        row = self._row_of.get(station_id)
        if row is None:
            # A status before the station itself: show a placeholder until it arrives.
            self._insert_station(StationSnapshot(station_id=station_id, connected=False))
            row = self._row_of[station_id]
        return self._nodes[row]

    def _insert_station(self, snapshot: StationSnapshot) -> None:
        row = len(self._nodes)
        self.beginInsertRows(QModelIndex(), row, row)
        node = StationNode(key=next(self._keys), snapshot=snapshot)
        self._nodes.append(node)
        self._row_of[snapshot.station_id] = row
        self._by_key[node.key] = node
        self.endInsertRows()

    def _insert_evse(self, node: StationNode, evse_id: int) -> EvseNode:
        position, _found = node.evse_position(evse_id)
        station_index = self.index(self._row_of[node.snapshot.station_id], 0)
        self.beginInsertRows(station_index, position, position)
        evse = EvseNode(key=next(self._keys), station=node, evse_id=evse_id)
        node.children.insert(position, evse)
        node.evses[evse_id] = evse
        node.renumber(position)
        self._by_key[evse.key] = evse
        self.endInsertRows()
        return evse

    def _remove_child(self, node: StationNode, row: int, position: int) -> None:
        self.beginRemoveRows(self.index(row, 0), position, position)
        del node.children[position]
        node.renumber(position)
        self.endRemoveRows()

    def _parent_index(self, key: int) -> QModelIndex:
        """The row whose children carry internal id ``key`` (a station or an EVSE)."""
        owner = self._by_key.get(key)
        if isinstance(owner, StationNode):
            return self.index(self._row_of[owner.snapshot.station_id], 0)
        if isinstance(owner, EvseNode):
            return self.createIndex(owner.row, 0, owner.station.key)
        return QModelIndex()

    def _station_row_changed(self, row: int) -> None:
        self.dataChanged.emit(self.index(row, 0), self.index(row, _LAST_COLUMN))
