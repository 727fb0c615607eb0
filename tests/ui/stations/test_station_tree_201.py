"""The station tree with 2.0.1 stations: version column, EVSE rows, connector rows, removal."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from PySide6.QtCore import QSortFilterProxyModel, Qt

from console.central.model import (
    ConnectorChanged,
    ConnectorRemoved,
    ConnectorSnapshot,
    ReservationRecord,
    ReservationState,
    StationChanged,
    StationSnapshot,
)
from console.ocpp.enums import ChargePointStatus
from console.ocpp.v201.enums import ConnectorStatus, ConnectorType, IdTokenType
from console.ocpp.versions import OcppVersion
from console.ui.change_feed import ChangeFeed
from console.ui.stations.station_model import ItemRole, StationTreeModel, TreeColumn
from tests.ui.fakes import FakeCentralSystem

T0 = datetime(2026, 5, 4, 10, 0, 0, tzinfo=UTC)
V201 = OcppVersion.V201


def station201(station_id: str = "CS-201", **fields: object) -> StationSnapshot:
    return StationSnapshot(
        station_id=station_id,
        connected=True,
        state_since=T0,
        ocpp_version=V201,
        **fields,  # type: ignore[arg-type]
    )


def plug(
    evse_id: int,
    connector_id: int,
    status: ConnectorStatus = ConnectorStatus.AVAILABLE,
    station_id: str = "CS-201",
    **fields: object,
) -> ConnectorSnapshot:
    return ConnectorSnapshot(
        station_id=station_id,
        connector_id=connector_id,
        evse_id=evse_id,
        status=status,
        status_at=T0,
        **fields,  # type: ignore[arg-type]
    )


def names(model: StationTreeModel, parent) -> list[str]:
    return [model.index(r, 0, parent).data() for r in range(model.rowCount(parent))]


def test_a_201_station_shows_its_version_and_evses_with_their_connectors(qtmodeltester) -> None:
    model = StationTreeModel(clock=lambda: T0)
    qtmodeltester.check(model, force_py=True)
    model.apply_stations([station201(), StationSnapshot("CP-16", connected=True, state_since=T0)])
    # EVSE 2 before EVSE 1, connector 2 before connector 1: the tree keeps them in order
    model.apply_connectors(
        [
            plug(2, 1, ConnectorStatus.FAULTED),
            plug(1, 2, connector_type=ConnectorType.C_CCS2),
            plug(1, 1, ConnectorStatus.OCCUPIED, transaction_id="tx-9", id_tag="CARD"),
            ConnectorSnapshot("CP-16", 1, status=ChargePointStatus.AVAILABLE),
        ]
    )
    assert model.station_index("CS-201", TreeColumn.VERSION).data() == "2.0.1"
    assert model.station_index("CP-16", TreeColumn.VERSION).data() == "1.6"
    assert names(model, model.station_index("CS-201")) == ["EVSE 1", "EVSE 2"]
    evse1 = model.evse_index("CS-201", 1)
    assert names(model, evse1) == ["Connector 1", "Connector 2 · cCCS2"]
    assert names(model, model.station_index("CP-16")) == ["Connector 1"]  # 1.6 unchanged
    # statuses of 2.0.1 look right: Occupied has its own look, the EVSE row the telling one
    occupied = model.connector_index("CS-201", 1, TreeColumn.STATE, evse_id=1)
    assert occupied.data() == "Occupied"
    assert not occupied.data(Qt.ItemDataRole.DecorationRole).isNull()
    assert model.evse_index("CS-201", 1, TreeColumn.STATE).data() == "Occupied, Available"
    assert model.evse_index("CS-201", 2, TreeColumn.STATE).data() == "Faulted"
    assert model.station_index("CS-201", TreeColumn.STATE).data() == (
        "Online · 1 occupied, 1 faulted"
    )
    transaction = model.connector_index("CS-201", 1, TreeColumn.TRANSACTION, evse_id=1)
    assert transaction.data() == "#tx-9 · CARD"
    # what a reservation from a row names: the EVSE, on its row and its connectors' rows
    assert evse1.data(ItemRole.CONNECTOR_ID) == 1
    second = model.connector_index("CS-201", 1, evse_id=2)
    assert second.data(ItemRole.CONNECTOR_ID) == 2
    assert second.data(ItemRole.EVSE_ID) == 2
    assert second.parent() == model.evse_index("CS-201", 2)
    assert second.parent().parent() == model.station_index("CS-201")
    assert model.evse_ids("CS-201") == [1, 2]
    assert model.connector_ids("CS-201") == []
    # a status change updates the connector row and its EVSE row
    model.apply_connectors([plug(2, 1, ConnectorStatus.AVAILABLE)])
    assert model.evse_index("CS-201", 2, TreeColumn.STATE).data() == "Available"


def test_an_evse_reservation_counts_down_on_the_evse_row(qtmodeltester) -> None:
    now = [T0]
    model = StationTreeModel(clock=lambda: now[0])
    qtmodeltester.check(model, force_py=True)
    model.apply_stations([station201()])
    model.apply_connectors([plug(1, 1, ConnectorStatus.RESERVED, reservation_id=5), plug(2, 1)])
    record = ReservationRecord(
        reservation_id=5,
        station_id="CS-201",
        connector_id=1,  # the EVSE on 2.0.1
        id_tag="A" * 36,
        parent_id_tag="GROUP-1",
        expiry_date=T0 + timedelta(minutes=10),
        created_at=T0,
        state=ReservationState.ACCEPTED,
        ocpp_version=V201,
        id_token_type=IdTokenType.ISO14443,
        connector_type=ConnectorType.C_TYPE2,
    )
    model.apply_reservations([record])
    cell = model.evse_index("CS-201", 1, TreeColumn.RESERVATION)
    assert cell.data() == f"#5 · {'A' * 36} · 10:00 left"
    tooltip = cell.data(Qt.ItemDataRole.ToolTipRole)
    assert "ISO14443" in tooltip
    assert "group GROUP-1" in tooltip
    assert "cType2" in tooltip
    assert model.evse_index("CS-201", 2, TreeColumn.RESERVATION).data() == ""
    # its connectors point at it (cancel from a connector row), without repeating it
    row = model.connector_index("CS-201", 1, evse_id=1)
    assert row.data(ItemRole.RESERVATION_ID) == 5
    assert row.siblingAtColumn(TreeColumn.RESERVATION).data() == ""
    now[0] = T0 + timedelta(minutes=4)
    model.tick()
    assert cell.data() == f"#5 · {'A' * 36} · 6:00 left"
    # the same number on a 1.6 connector of another station is another place
    assert model.active_reservation("CS-201", 1) is None
    assert model.active_reservation("CS-201", 1, by_evse=True) == record


def test_a_station_back_with_the_other_version_loses_its_old_rows(qtbot, qtmodeltester) -> None:
    central = FakeCentralSystem()
    central.set_station("CS-X", connected=True)
    central.set_connector("CS-X", 1, status=ChargePointStatus.AVAILABLE)
    central.set_connector("CS-X", 2, status=ChargePointStatus.CHARGING)
    model = StationTreeModel()
    qtmodeltester.check(model, force_py=True)
    feed = ChangeFeed(central, flush_interval_ms=10)
    feed.sig_stations.connect(model.apply_stations)
    feed.sig_connectors_removed.connect(model.apply_removed_connectors)
    feed.sig_connectors.connect(model.apply_connectors)
    feed.start()
    assert names(model, model.station_index("CS-X")) == ["Connector 1", "Connector 2"]

    # it comes back on 2.0.1: old rows removed, EVSE rows in; all in one batch
    old = central.connectors("CS-X")
    central.emit(StationChanged(station201("CS-X")))
    for snapshot in old:
        central.emit(ConnectorRemoved(snapshot))
    central.emit(ConnectorChanged(plug(1, 1, station_id="CS-X")))
    with qtbot.waitSignal(feed.sig_flushed, timeout=2000):
        pass
    assert names(model, model.station_index("CS-X")) == ["EVSE 1"]
    assert model.station_index("CS-X", TreeColumn.VERSION).data() == "2.0.1"
    assert model.connector("CS-X", 1) is None

    # and back to 1.6: the EVSE goes with its last connector
    central.emit(StationChanged(StationSnapshot("CS-X", connected=True)))
    central.emit(ConnectorRemoved(plug(1, 1, station_id="CS-X")))
    central.emit(ConnectorChanged(ConnectorSnapshot("CS-X", 1, status=ChargePointStatus.AVAILABLE)))
    with qtbot.waitSignal(feed.sig_flushed, timeout=2000):
        pass
    assert names(model, model.station_index("CS-X")) == ["Connector 1"]
    assert model.evse_ids("CS-X") == []
    feed.stop()


def test_a_removal_and_a_later_change_of_the_same_row_in_one_batch_keep_the_row(qtbot) -> None:
    central = FakeCentralSystem()
    central.set_station("CS-1", connected=True)
    feed = ChangeFeed(central, flush_interval_ms=10)
    removed: list[list[ConnectorSnapshot]] = []
    changed: list[list[ConnectorSnapshot]] = []
    feed.sig_connectors_removed.connect(removed.append)
    feed.sig_connectors.connect(changed.append)
    feed.start()
    snapshot = plug(1, 1, station_id="CS-1")
    central.emit(ConnectorRemoved(snapshot))
    central.emit(ConnectorChanged(snapshot))
    with qtbot.waitSignal(feed.sig_flushed, timeout=2000):
        pass
    assert removed == []
    assert changed == [[snapshot]]
    central.emit(ConnectorChanged(snapshot))
    central.emit(ConnectorRemoved(snapshot))
    with qtbot.waitSignal(feed.sig_flushed, timeout=2000):
        pass
    assert removed == [[snapshot]]
    assert changed == [[snapshot]]
    feed.stop()


def test_filtering_finds_201_stations_and_evses_through_a_proxy(qtmodeltester) -> None:
    model = StationTreeModel(clock=lambda: T0)
    model.apply_stations([station201(), StationSnapshot("CP-16", connected=True)])
    model.apply_connectors([plug(1, 1, ConnectorStatus.OCCUPIED), plug(2, 1)])
    proxy = QSortFilterProxyModel()
    proxy.setSourceModel(model)
    proxy.setRecursiveFilteringEnabled(True)
    proxy.setFilterRole(ItemRole.FILTER)
    proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
    qtmodeltester.check(proxy, force_py=True)
    proxy.setFilterFixedString("2.0.1")
    assert proxy.rowCount() == 1
    proxy.setFilterFixedString("occupied")
    station = proxy.index(0, 0)
    assert station.data() == "CS-201"
    assert proxy.rowCount(station) == 1  # only EVSE 1
