"""Every reservation attempt with its lifecycle, as a Qt table model."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from enum import IntEnum
from typing import Any

from PySide6.QtCore import (
    QModelIndex,
    QObject,
    Qt,
)

from console.central.model import ReservationRecord
from console.ocpp.versions import OcppVersion
from console.ui.look.presentation import (
    format_countdown,
    format_latency,
    format_local_time,
    reservation_detail_text,
    reservation_state_look,
    status_info_text,
)
from console.ui.look.table_model import AnyIndex, ReadOnlyTableModel
from console.ui.stations.station_model import ItemRole

__all__ = ["BY_THE_CSMS", "ReservationColumn", "ReservationTableModel"]

BY_THE_CSMS = "by the CSMS"
"""What an attempt the site's own CSMS made (proxy mode) says beside when it was sent."""

Clock = Callable[[], datetime]


class ReservationColumn(IntEnum):
    """The columns of the reservations table."""

    ID = 0
    STATION = 1
    VERSION = 2
    CONNECTOR = 3
    ID_TAG = 4
    STATE = 5
    ANSWER = 6
    DETAIL = 7
    EXPIRY = 8
    TRANSACTION = 9
    SENT = 10
    LATENCY = 11
    PARENT = 12


_HEADERS = {
    ReservationColumn.ID: "Id",
    ReservationColumn.STATION: "Station",
    ReservationColumn.VERSION: "OCPP",
    ReservationColumn.CONNECTOR: "Connector / EVSE",
    ReservationColumn.ID_TAG: "idTag",
    ReservationColumn.STATE: "State",
    ReservationColumn.ANSWER: "Station answer",
    ReservationColumn.DETAIL: "Detail",
    ReservationColumn.EXPIRY: "Expiry",
    ReservationColumn.TRANSACTION: "Transaction",
    ReservationColumn.SENT: "Sent",
    ReservationColumn.LATENCY: "Latency",
    ReservationColumn.PARENT: "Parent / group",
}

_LAST_COLUMN = max(ReservationColumn)
_RowKey = tuple[str, int, datetime]


class ReservationTableModel(ReadOnlyTableModel):
    """One row per reservation attempt (rejected ones too), in the order they were made.

    Rows update in place as the record moves through its lifecycle (sending -> answer ->
    used / expired / cancelled / ended); the record's cancel attempt shows in its "Detail"
    column (:func:`reservation_detail_text`), so a late answer or a restart keeps it right.
    """

    def __init__(self, parent: QObject | None = None, *, clock: Clock | None = None) -> None:
        super().__init__(ReservationColumn, _HEADERS, parent)
        self._clock: Clock = clock or (lambda: datetime.now(UTC))
        self._records: list[ReservationRecord] = []
        self._row_of: dict[_RowKey, int] = {}
        self._now = self._clock()

    def apply_reservations(self, records: Iterable[ReservationRecord]) -> None:
        """Show these records: known attempts update their row, new ones are appended."""
        new: list[ReservationRecord] = []
        for record in records:
            row = self._row_of.get(_key(record))
            if row is None:
                new.append(record)
            else:
                self._records[row] = record
                self._row_changed(row)
        if new:
            first = len(self._records)
            self.beginInsertRows(QModelIndex(), first, first + len(new) - 1)
            for offset, record in enumerate(new):
                self._records.append(record)
                self._row_of[_key(record)] = first + offset
            self.endInsertRows()

    def tick(self) -> None:
        """Refresh the countdowns of active reservations; call once a second."""
        self._now = self._clock()
        for row, record in enumerate(self._records):
            if record.active:
                index = self.index(row, ReservationColumn.EXPIRY)
                self.dataChanged.emit(index, index, [Qt.ItemDataRole.DisplayRole])

    def record(self, row: int) -> ReservationRecord:
        return self._records[row]

    def records(self) -> list[ReservationRecord]:
        return list(self._records)

    def latest_row(self, station_id: str, reservation_id: int) -> int | None:
        """The row of the newest attempt with this id on this station."""
        for row in range(len(self._records) - 1, -1, -1):
            record = self._records[row]
            if record.reservation_id == reservation_id and record.station_id == station_id:
                return row
        return None

    # --- QAbstractTableModel ----------------------------------------------------------------

    def row_total(self) -> int:
        return len(self._records)

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._records):
            return None
        record = self._records[index.row()]
        column = ReservationColumn(index.column())
        if role == ItemRole.STATION_ID:
            return record.station_id
        if role == ItemRole.CONNECTOR_ID:
            return record.connector_id
        if role == ItemRole.RESERVATION_ID:
            return record.reservation_id
        if role == ItemRole.FILTER:
            return " ".join(str(self._display(record, c)) for c in ReservationColumn)
        look = reservation_state_look(record.state)
        if column == ReservationColumn.STATE:
            if (look_data := look.role_data(role)) is not None:
                return look_data
            if role == Qt.ItemDataRole.ToolTipRole:
                return (
                    " → ".join(
                        f"{state.value} {format_local_time(at)}" for state, at in record.history
                    )
                    or None
                )
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(record, column)
        if role == ItemRole.SORT:
            return self._sort_value(record, column)
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(record, column)
        numeric = column in (ReservationColumn.ID, ReservationColumn.LATENCY) or (
            column == ReservationColumn.CONNECTOR and record.ocpp_version is OcppVersion.V16
        )
        if role == Qt.ItemDataRole.TextAlignmentRole and numeric:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    # --- cells ------------------------------------------------------------------------------

    def _display(self, record: ReservationRecord, column: ReservationColumn) -> str:
        match column:
            case ReservationColumn.ID:
                return str(record.reservation_id)
            case ReservationColumn.STATION:
                return record.station_id
            case ReservationColumn.VERSION:
                return record.ocpp_version.value
            case ReservationColumn.CONNECTOR:
                if record.ocpp_version is not OcppVersion.V201:
                    return str(record.connector_id)
                where = "any EVSE" if record.connector_id == 0 else f"EVSE {record.connector_id}"
                plug = f" · {record.connector_type.value}" if record.connector_type else ""
                return where + plug
            case ReservationColumn.ID_TAG:
                return record.id_tag
            case ReservationColumn.PARENT:
                return record.parent_id_tag or ""
            case ReservationColumn.STATE:
                return reservation_state_look(record.state).text
            case ReservationColumn.ANSWER:
                if record.confirmation is None:
                    return "—"
                # 2.0.1: the answer's statusInfo reason beside it (the detail has it all)
                reason = f" · {record.status_reason}" if record.status_reason else ""
                return record.confirmation.value + reason
            case ReservationColumn.DETAIL:
                return reservation_detail_text(record, self._now)
            case ReservationColumn.EXPIRY:
                expiry = format_local_time(record.expiry_date, self._now)
                if record.active:
                    return f"{expiry} ({format_countdown(record.expiry_date, self._now)})"
                return expiry
            case ReservationColumn.TRANSACTION:
                return "" if record.transaction_id is None else f"#{record.transaction_id}"
            case ReservationColumn.SENT:
                sent = format_local_time(record.created_at, self._now)
                return f"{sent} · {BY_THE_CSMS}" if record.by_upstream else sent
            case ReservationColumn.LATENCY:
                return format_latency(record.latency)
        return ""

    def _tooltip(self, record: ReservationRecord, column: ReservationColumn) -> str | None:
        match column:
            case ReservationColumn.DETAIL:
                return self._display(record, column) or None
            case ReservationColumn.SENT if record.by_upstream:
                return (
                    "Made by the site's CSMS: the console forwarded its ReserveNow to the "
                    "station and follows the answer and what becomes of the reservation"
                )
            case ReservationColumn.ANSWER:
                info = status_info_text(record.status_reason, record.status_detail)
                return f"statusInfo: {info}" if info else None
            case ReservationColumn.ID_TAG if record.id_token_type is not None:
                return f"idToken {record.id_tag} (type {record.id_token_type.value})"
            case ReservationColumn.PARENT if record.parent_id_tag and record.group_id_token_type:
                return (
                    f"groupIdToken {record.parent_id_tag} (type {record.group_id_token_type.value})"
                )
            case ReservationColumn.CONNECTOR if record.ocpp_version is OcppVersion.V201:
                return "2.0.1: the EVSE reserved (any EVSE: the station keeps one free)" + (
                    f", connector type {record.connector_type.value}"
                    if record.connector_type
                    else ""
                )
        return None

    def _sort_value(self, record: ReservationRecord, column: ReservationColumn) -> Any:
        match column:
            case ReservationColumn.ID:
                return record.reservation_id
            case ReservationColumn.CONNECTOR:
                return record.connector_id
            case ReservationColumn.EXPIRY:
                return record.expiry_date.timestamp()
            case ReservationColumn.SENT:
                return record.created_at.timestamp()
            case ReservationColumn.LATENCY:
                return -1.0 if record.latency is None else record.latency
            case ReservationColumn.TRANSACTION:
                return -1 if record.transaction_id is None else record.transaction_id
        return self._display(record, column).lower()

    def _row_changed(self, row: int) -> None:
        self.dataChanged.emit(self.index(row, 0), self.index(row, _LAST_COLUMN))


def _key(record: ReservationRecord) -> _RowKey:
    return (record.station_id, record.reservation_id, record.created_at)
