"""The station tree and reservations table models: structure, updates, qtmodeltester."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from PySide6.QtCore import QModelIndex, QSortFilterProxyModel, Qt

from console.central.model import (
    CancelAttempt,
    ConnectorSnapshot,
    ReservationRecord,
    ReservationState,
    StationSnapshot,
)
from console.ocpp.enums import ChargePointErrorCode, ChargePointStatus
from console.ocpp.reservation import CancelReservationStatus, ReservationStatus
from console.ui.change_feed import ChangeFeed
from console.ui.reservations.reservation_model import ReservationColumn, ReservationTableModel
from console.ui.stations.station_model import ItemRole, StationTreeModel, TreeColumn
from tests.ui.fakes import FakeCentralSystem

T0 = datetime(2026, 5, 4, 10, 0, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


def station(station_id: str, connected: bool = True, **fields: object) -> StationSnapshot:
    return StationSnapshot(station_id=station_id, connected=connected, state_since=T0, **fields)  # type: ignore[arg-type]


def connector(
    station_id: str, connector_id: int, status: ChargePointStatus, **fields: object
) -> ConnectorSnapshot:
    return ConnectorSnapshot(
        station_id=station_id,
        connector_id=connector_id,
        status=status,
        status_at=T0,
        **fields,  # type: ignore[arg-type]
    )


def record(
    reservation_id: int,
    state: ReservationState,
    station_id: str = "CP-01",
    connector_id: int = 1,
    **fields: object,
) -> ReservationRecord:
    return ReservationRecord(
        reservation_id=reservation_id,
        station_id=station_id,
        connector_id=connector_id,
        id_tag="TAG-1",
        parent_id_tag=None,
        expiry_date=T0 + timedelta(minutes=30),
        created_at=T0,
        state=state,
        **fields,  # type: ignore[arg-type]
    )


def cell(model: StationTreeModel, station_id: str, connector_id: int, column: TreeColumn) -> object:
    return model.connector_index(station_id, connector_id, column).data()


def test_tree_under_inserts_removals_and_status_changes(qtmodeltester) -> None:
    model = StationTreeModel(clock=Clock())
    # the tester keeps listening: every insert, removal and change below is checked too
    qtmodeltester.check(model, force_py=True)
    model.apply_stations([station("CP-01"), station("CP-02", connected=False)])
    model.apply_connectors(
        [
            connector("CP-01", 2, ChargePointStatus.AVAILABLE),
            connector("CP-01", 1, ChargePointStatus.CHARGING, transaction_id=7, id_tag="ABC"),
            connector(
                "CP-02",
                1,
                ChargePointStatus.FAULTED,
                error_code=ChargePointErrorCode.GROUND_FAILURE,
            ),
        ]
    )
    assert model.rowCount() == 2
    assert model.rowCount(model.station_index("CP-01")) == 2
    # connectors are kept in id order whatever order they arrive in
    assert cell(model, "CP-01", 1, TreeColumn.NAME) == "Connector 1"
    assert cell(model, "CP-01", 1, TreeColumn.TRANSACTION) == "#7 · ABC"
    assert cell(model, "CP-02", 1, TreeColumn.ERROR) == "GroundFailure"

    # a status change is one dataChanged for that connector's row only
    changes: list[tuple[QModelIndex, QModelIndex]] = []
    model.dataChanged.connect(lambda a, b, roles=(): changes.append((a, b)))
    model.apply_connectors([connector("CP-01", 2, ChargePointStatus.FAULTED)])
    # (and the station row's summary cell: "Online · 1 faulted")
    assert [(a.row(), a.column()) for a, _b in changes if not a.parent().isValid()] == [
        (0, TreeColumn.STATE)
    ]
    changes = [(a, b) for a, b in changes if a.parent().isValid()]
    assert len(changes) == 1
    top_left, bottom_right = changes[0]
    assert top_left.parent() == model.station_index("CP-01")
    assert (top_left.row(), bottom_right.row()) == (1, 1)
    assert cell(model, "CP-01", 2, TreeColumn.STATE) == "Faulted"
    index = model.connector_index("CP-01", 2, TreeColumn.STATE)
    assert not index.data(Qt.ItemDataRole.DecorationRole).isNull()  # an icon, not colour alone

    # a new station, a station coming online, a new connector in the middle, removals
    model.apply_stations([station("CP-03"), station("CP-02", connected=True)])
    model.apply_connectors([connector("CP-01", 3, ChargePointStatus.AVAILABLE)])
    model.apply_connectors([connector("CP-03", 2, ChargePointStatus.AVAILABLE)])
    model.apply_connectors([connector("CP-03", 1, ChargePointStatus.PREPARING)])
    assert [model.index(r, 0, model.station_index("CP-03")).data() for r in range(2)] == [
        "Connector 1",
        "Connector 2",
    ]
    # its connector is faulted (GroundFailure): the station row says so
    assert model.station_index("CP-02", TreeColumn.STATE).data() == "Online · 1 faulted"
    model.remove_connector("CP-01", 2)
    model.remove_station("CP-02")
    assert [s.station_id for s in model.station_snapshots()] == ["CP-01", "CP-03"]
    assert model.connector_ids("CP-01") == [1, 3]
    # indexes of connectors of a station after a removed one still find their parent
    child = model.connector_index("CP-03", 2)
    assert child.parent().data() == "CP-03"
    assert model.online_count() == 2


def test_connector_zero_status_shows_on_the_station_row() -> None:
    model = StationTreeModel(clock=Clock())
    model.apply_stations([station("CP-01")])
    model.apply_connectors([connector("CP-01", 0, ChargePointStatus.UNAVAILABLE)])
    assert model.rowCount(model.station_index("CP-01")) == 0
    assert model.station_index("CP-01", TreeColumn.STATE).data() == "Online · Unavailable"


def test_reservation_shows_on_its_connector_and_counts_down(qtmodeltester) -> None:
    clock = Clock()
    model = StationTreeModel(clock=clock)
    model.apply_stations([station("CP-01")])
    model.apply_connectors([connector("CP-01", 1, ChargePointStatus.AVAILABLE)])
    model.apply_reservations([record(5, ReservationState.SENDING)])
    assert cell(model, "CP-01", 1, TreeColumn.RESERVATION) == ""
    model.apply_reservations([record(5, ReservationState.ACCEPTED)])
    model.apply_connectors([connector("CP-01", 1, ChargePointStatus.RESERVED, reservation_id=5)])
    assert cell(model, "CP-01", 1, TreeColumn.RESERVATION) == "#5 · TAG-1 · 30:00 left"
    index = model.connector_index("CP-01", 1, TreeColumn.RESERVATION)
    assert index.data(ItemRole.RESERVATION_ID) == 5
    clock.now = T0 + timedelta(minutes=29, seconds=1)
    changed: list[QModelIndex] = []
    model.dataChanged.connect(lambda a, b, roles=(): changed.append(a))
    model.tick()
    assert any(i.column() == TreeColumn.RESERVATION for i in changed)
    assert cell(model, "CP-01", 1, TreeColumn.RESERVATION) == "#5 · TAG-1 · 0:59 left"
    model.apply_reservations([record(5, ReservationState.CANCELLED)])
    model.apply_connectors(
        [connector("CP-01", 1, ChargePointStatus.AVAILABLE, reservation_id=None)]
    )
    assert cell(model, "CP-01", 1, TreeColumn.RESERVATION) == ""
    qtmodeltester.check(model, force_py=True)


def test_the_same_reservation_id_on_two_stations_does_not_mix_up_rows() -> None:
    model = StationTreeModel(clock=Clock())
    model.apply_stations([station("CP-01"), station("CP-02")])
    model.apply_connectors(
        [
            connector("CP-01", 1, ChargePointStatus.RESERVED, reservation_id=6),
            connector("CP-02", 2, ChargePointStatus.AVAILABLE),
        ]
    )
    model.apply_reservations(
        [
            record(6, ReservationState.ACCEPTED, station_id="CP-01"),
            record(6, ReservationState.SENDING, station_id="CP-02", connector_id=2),
        ]
    )
    assert cell(model, "CP-01", 1, TreeColumn.RESERVATION) == "#6 · TAG-1 · 30:00 left"
    assert cell(model, "CP-02", 2, TreeColumn.RESERVATION) == ""


def test_sorting_and_filtering_through_a_proxy(qtmodeltester) -> None:
    model = StationTreeModel(clock=Clock())
    model.apply_stations([station("CP-02"), station("CP-10"), station("CP-01")])
    model.apply_connectors(
        [
            connector("CP-02", 1, ChargePointStatus.FAULTED),
            connector("CP-10", 1, ChargePointStatus.AVAILABLE),
            connector("CP-01", 1, ChargePointStatus.AVAILABLE),
        ]
    )
    proxy = QSortFilterProxyModel()
    proxy.setSourceModel(model)
    proxy.setSortRole(ItemRole.SORT)
    proxy.setFilterRole(ItemRole.FILTER)
    proxy.setRecursiveFilteringEnabled(True)
    proxy.setAutoAcceptChildRows(True)
    proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
    proxy.sort(TreeColumn.NAME, Qt.SortOrder.AscendingOrder)
    assert [proxy.index(r, 0).data() for r in range(3)] == ["CP-01", "CP-02", "CP-10"]
    proxy.setFilterFixedString("faulted")
    assert [proxy.index(r, 0).data() for r in range(proxy.rowCount())] == ["CP-02"]
    qtmodeltester.check(proxy, force_py=True)


def test_reservations_table_keeps_every_attempt(qtmodeltester) -> None:
    clock = Clock()
    model = ReservationTableModel(clock=clock)
    qtmodeltester.check(model, force_py=True)
    model.apply_reservations([record(1, ReservationState.SENDING)])
    model.apply_reservations(
        [
            record(
                1, ReservationState.ACCEPTED, confirmation=ReservationStatus.ACCEPTED, latency=0.042
            ),
            record(
                2, ReservationState.ERROR, error_code="NotSupported", error="no reservations here"
            ),
            record(3, ReservationState.NO_RESPONSE, error="no answer within 30 s"),
        ]
    )
    assert model.rowCount() == 3

    def text(row: int, column: ReservationColumn) -> str:
        return model.index(row, column).data()

    assert text(0, ReservationColumn.STATE) == "Accepted"
    assert text(0, ReservationColumn.ANSWER) == "Accepted"
    assert text(0, ReservationColumn.LATENCY) == "42 ms"
    assert "(30:00 left)" in text(0, ReservationColumn.EXPIRY)
    assert text(1, ReservationColumn.DETAIL) == "NotSupported — no reservations here"
    assert text(2, ReservationColumn.STATE) == "No answer (timeout)"
    state_index = model.index(1, ReservationColumn.STATE)
    assert not state_index.data(Qt.ItemDataRole.DecorationRole).isNull()
    assert state_index.data(Qt.ItemDataRole.BackgroundRole) is not None
    # The cancel is the record's own: its row says what came of it.
    cancel = CancelAttempt(
        T0 + timedelta(seconds=5),
        CancelReservationStatus.ACCEPTED,
        T0 + timedelta(seconds=6),
    )
    model.apply_reservations([record(1, ReservationState.CANCELLED, cancel=cancel)])
    assert text(0, ReservationColumn.STATE) == "Cancelled"
    assert text(0, ReservationColumn.DETAIL) == f"cancel: Accepted at {hms(T0, seconds=6)}"


def hms(moment: datetime, seconds: float = 0) -> str:
    """``moment`` plus ``seconds`` as the table shows a time of today."""
    return (moment + timedelta(seconds=seconds)).astimezone().strftime("%H:%M:%S")


def test_the_detail_says_what_came_of_the_cancel_and_never_contradicts_the_state(
    qtmodeltester,
) -> None:
    model = ReservationTableModel(clock=Clock())
    qtmodeltester.check(model, force_py=True)
    timed_out = CancelAttempt(
        T0 + timedelta(seconds=10), timed_out=True, error="no answer within 30 s"
    )
    model.apply_reservations(
        [
            record(1, ReservationState.ACCEPTED, confirmation=ReservationStatus.ACCEPTED),
            record(2, ReservationState.ACCEPTED, confirmation=ReservationStatus.ACCEPTED),
            record(3, ReservationState.NO_RESPONSE, error="no answer within 30 s"),
            record(4, ReservationState.ACCEPTED, confirmation=ReservationStatus.ACCEPTED),
        ]
    )

    def detail(row: int) -> str:
        return model.index(row, ReservationColumn.DETAIL).data()

    # A cancel without an answer yet: the reservation is still held, as far as anyone knows.
    model.apply_reservations([record(1, ReservationState.ACCEPTED, cancel=timed_out)])
    assert detail(0) == f"cancel: no answer within 30 s (sent {hms(T0, 10)})"
    # ... then the station accepts it late: Cancelled, and the detail tells the whole story.
    late = CancelAttempt(
        T0 + timedelta(seconds=10),
        CancelReservationStatus.ACCEPTED,
        T0 + timedelta(seconds=52),
        late=True,
        timed_out=True,
        error="no answer within 30 s",
    )
    model.apply_reservations([record(1, ReservationState.CANCELLED, cancel=late)])
    assert model.index(0, ReservationColumn.STATE).data() == "Cancelled"
    assert detail(0) == f"cancel: no answer within 30 s, then Accepted (late) at {hms(T0, 52)}"

    # The check proved the station still held a reservation the console had expired.
    proved = CancelAttempt(
        T0 + timedelta(minutes=31),
        CancelReservationStatus.ACCEPTED,
        T0 + timedelta(minutes=31, seconds=1),
        by_check=True,
    )
    model.apply_reservations([record(2, ReservationState.EXPIRED, cancel=proved)])
    assert model.index(1, ReservationColumn.STATE).data() == "Expired"
    assert detail(1) == (
        "expired for the console, but the station still held it after the expiry "
        f"(reservation check, {hms(T0, 31 * 60 + 1)}): cancelled"
    )

    # A ReserveNow that got no answer, then a cancel: each error says which call it was.
    model.apply_reservations(
        [
            record(
                3,
                ReservationState.CANCELLED,
                error="no answer within 30 s",
                cancel=CancelAttempt(
                    T0 + timedelta(seconds=40),
                    CancelReservationStatus.ACCEPTED,
                    T0 + timedelta(seconds=41),
                ),
            )
        ]
    )
    assert detail(2) == f"ReserveNow: no answer within 30 s — cancel: Accepted at {hms(T0, 41)}"

    # Refused, and answered with a CALLERROR.
    rejected = CancelAttempt(
        T0 + timedelta(seconds=3), CancelReservationStatus.REJECTED, T0 + timedelta(seconds=4)
    )
    model.apply_reservations([record(4, ReservationState.ACCEPTED, cancel=rejected)])
    assert detail(3) == f"cancel: Rejected at {hms(T0, 4)}"
    refused = CancelAttempt(
        T0 + timedelta(seconds=5),
        answered_at=T0 + timedelta(seconds=6),
        error="NotImplemented: no such action",
        error_code="NotImplemented",
        by_check=True,
    )
    model.apply_reservations([record(4, ReservationState.ACCEPTED, cancel=refused)])
    assert detail(3) == (
        f"cancel by the reservation check: NotImplemented: no such action at {hms(T0, 6)}"
    )


@pytest.mark.parametrize("burst", [1, 500])
def test_change_feed_coalesces_a_burst_into_one_row_update(qtbot, burst: int) -> None:
    fake = FakeCentralSystem()
    fake.add_site(2, 2)
    model = StationTreeModel()
    feed = ChangeFeed(fake, flush_interval_ms=20)
    feed.sig_stations.connect(model.apply_stations)
    feed.sig_connectors.connect(model.apply_connectors)
    feed.start()
    assert model.rowCount() == 2
    changes: list[QModelIndex] = []
    model.dataChanged.connect(lambda a, b, roles=(): changes.append(a))
    statuses = [ChargePointStatus.CHARGING, ChargePointStatus.FAULTED]
    for number in range(burst):
        fake.set_connector("CP-01", 1, status=statuses[number % 2])
    assert changes == []  # nothing applied before the flush
    with qtbot.waitSignal(feed.sig_flushed, timeout=2000):
        pass
    assert len([index for index in changes if index.parent().isValid()]) == 1
    assert len(changes) == 2  # and the station row's summary cell
    assert cell(model, "CP-01", 1, TreeColumn.STATE) == statuses[(burst - 1) % 2].value
    assert feed.events_received == burst
    feed.stop()


def test_a_huge_burst_is_applied_in_slices_between_paints(qtbot, monkeypatch) -> None:
    fake = FakeCentralSystem()
    fake.add_site(300, 1)
    model = StationTreeModel()
    feed = ChangeFeed(fake, flush_interval_ms=10)
    feed.sig_stations.connect(model.apply_stations)
    feed.sig_connectors.connect(model.apply_connectors)
    feed.start()
    monkeypatch.setattr("console.ui.change_feed.SLICE_BUDGET_S", 0.0)
    batches: list[int] = []
    feed.sig_connectors.connect(lambda batch: batches.append(len(batch)))
    for number in range(1, 301):
        fake.set_connector(f"CP-{number:02d}", 1, status=ChargePointStatus.CHARGING)
    qtbot.waitUntil(lambda: sum(batches) == 300, timeout=5000)
    assert batches == [200, 100]  # one chunk per turn of the event loop
    assert all(
        cell(model, f"CP-{number:02d}", 1, TreeColumn.STATE) == "Charging"
        for number in range(1, 301)
    )
    feed.stop()


def test_a_station_row_sums_up_its_connectors() -> None:
    model = StationTreeModel(clock=Clock())
    model.apply_stations([station("CP-01")])
    model.apply_connectors(
        [
            connector("CP-01", 0, ChargePointStatus.AVAILABLE),
            connector("CP-01", 1, ChargePointStatus.AVAILABLE),
            connector("CP-01", 2, ChargePointStatus.AVAILABLE),
        ]
    )
    state = model.station_index("CP-01", TreeColumn.STATE)
    assert state.data() == "Online · Available"
    model.apply_connectors(
        [
            connector("CP-01", 1, ChargePointStatus.FAULTED),
            connector("CP-01", 2, ChargePointStatus.RESERVED),
        ]
    )
    assert model.station_index("CP-01", TreeColumn.STATE).data() == (
        "Online · 1 faulted, 1 reserved"
    )
    # the whole station unavailable: said once
    model.apply_connectors(
        [
            connector("CP-01", 0, ChargePointStatus.UNAVAILABLE),
            connector("CP-01", 1, ChargePointStatus.UNAVAILABLE),
            connector("CP-01", 2, ChargePointStatus.UNAVAILABLE),
        ]
    )
    assert model.station_index("CP-01", TreeColumn.STATE).data() == "Online · Unavailable"


def test_a_refused_answer_shows_on_its_connector_for_a_minute(qtmodeltester) -> None:
    clock = Clock()
    model = StationTreeModel(clock=clock)
    qtmodeltester.check(model)
    model.apply_stations([station("CP-01")])
    model.apply_connectors([connector("CP-01", 1, ChargePointStatus.AVAILABLE)])
    model.apply_reservations(
        [record(2, ReservationState.FAULTED, confirmation=ReservationStatus.FAULTED)]
    )
    assert cell(model, "CP-01", 1, TreeColumn.RESERVATION) == "#2 Faulted"
    index = model.connector_index("CP-01", 1, TreeColumn.RESERVATION)
    assert "Faulted" in index.data(Qt.ItemDataRole.ToolTipRole)
    clock.now = T0 + timedelta(seconds=61)
    model.tick()
    assert cell(model, "CP-01", 1, TreeColumn.RESERVATION) == ""
    assert "#2" in index.data(Qt.ItemDataRole.ToolTipRole)  # the tooltip still has it
    # an accepted reservation there replaces it
    model.apply_reservations([record(3, ReservationState.ACCEPTED, updated_at=clock.now)])
    assert str(cell(model, "CP-01", 1, TreeColumn.RESERVATION)).startswith("#3 · TAG-1")


def test_a_heartbeat_from_before_the_connection_is_not_shown_as_overdue() -> None:
    # After a restart of the console, the stored heartbeat is from the previous session.
    clock = Clock()
    model = StationTreeModel(clock=clock)
    old_beat = T0 - timedelta(minutes=15)
    model.apply_stations([station("CP-01", last_heartbeat_at=old_beat, heartbeat_interval=300)])
    index = model.station_index("CP-01", TreeColumn.HEARTBEAT)
    assert index.data() == "none yet"
    assert index.data(Qt.ItemDataRole.ForegroundRole) is None
    # Still none two intervals after connecting: now it is overdue.
    clock.now = T0 + timedelta(seconds=601)
    model.tick()
    model.apply_stations([station("CP-01", last_heartbeat_at=old_beat, heartbeat_interval=300)])
    index = model.station_index("CP-01", TreeColumn.HEARTBEAT)
    assert index.data(Qt.ItemDataRole.ForegroundRole) is not None
    # A heartbeat on this connection is shown as usual.
    model.apply_stations([station("CP-01", last_heartbeat_at=clock.now, heartbeat_interval=300)])
    index = model.station_index("CP-01", TreeColumn.HEARTBEAT)
    assert index.data() != "none yet"
    assert index.data(Qt.ItemDataRole.ForegroundRole) is None
    # A station that is not connected shows the age of its last heartbeat, never amber.
    model.apply_stations(
        [station("CP-01", connected=False, last_heartbeat_at=old_beat, heartbeat_interval=300)]
    )
    index = model.station_index("CP-01", TreeColumn.HEARTBEAT)
    assert index.data() != "none yet"
    assert index.data(Qt.ItemDataRole.ForegroundRole) is None
