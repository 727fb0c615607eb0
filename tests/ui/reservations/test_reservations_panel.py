"""The reservations panel: filters by station, state, active only and text; sort; cancel."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMenu

from console.app import build_window
from console.central.model import (
    ReservationRecord,
    ReservationState,
    TraceAppended,
    TraceDirection,
    TraceEntry,
)
from console.ocpp.reservation import ReservationStatus
from console.ui.reservations.reservation_model import ReservationColumn, ReservationTableModel
from console.ui.reservations.reservations_panel import ReservationFilterProxy
from console.ui.window.main_window import MainWindow
from tests.ui.fakes import FakeCentralSystem

pytestmark = pytest.mark.qt_log_ignore("This plugin does not support")

START = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


def attempt(
    reservation_id: int,
    station_id: str,
    state: ReservationState,
    *,
    id_tag: str = "CARD",
    minutes: int = 0,
    error: str | None = None,
    transaction_id: int | None = None,
) -> ReservationRecord:
    created = START + timedelta(minutes=minutes)
    confirmation = {
        ReservationState.ACCEPTED: ReservationStatus.ACCEPTED,
        ReservationState.USED: ReservationStatus.ACCEPTED,
        ReservationState.OCCUPIED: ReservationStatus.OCCUPIED,
        ReservationState.REJECTED: ReservationStatus.REJECTED,
    }.get(state)
    return ReservationRecord(
        reservation_id=reservation_id,
        station_id=station_id,
        connector_id=1,
        id_tag=id_tag,
        parent_id_tag="FLEET" if reservation_id % 2 else None,
        expiry_date=datetime.now(UTC) + timedelta(hours=1),
        created_at=created,
        state=state,
        confirmation=confirmation,
        error=error,
        transaction_id=transaction_id,
    )


HISTORY = [
    attempt(1, "CP-01", ReservationState.USED, id_tag="ALICE", transaction_id=77),
    attempt(2, "CP-01", ReservationState.ACCEPTED, id_tag="BOB", minutes=1),
    attempt(3, "CP-02", ReservationState.OCCUPIED, id_tag="ALICE", minutes=2),
    attempt(4, "CP-02", ReservationState.ERROR, minutes=3, error="NotSupported — no profile"),
    attempt(5, "CP-03", ReservationState.ACCEPTED, id_tag="CAROL", minutes=4),
    attempt(6, "CP-03", ReservationState.NO_RESPONSE, minutes=5, error="no answer in 30 s"),
]


@pytest.fixture
def fake() -> FakeCentralSystem:
    central = FakeCentralSystem()
    central.add_site(3, 2)
    for record in HISTORY:
        central.set_reservation(record)
    return central


@pytest.fixture
def window(qtbot, fake: FakeCentralSystem) -> MainWindow:
    main = build_window(fake, flush_interval_ms=10)
    qtbot.addWidget(main)
    main.start()
    main.show()
    yield main
    main.allow_close()
    main.close()


def shown_ids(window: MainWindow) -> list[int]:
    proxy = window.reservation_proxy
    return [int(proxy.index(row, ReservationColumn.ID).data()) for row in range(proxy.rowCount())]


def test_every_attempt_shows_with_its_columns(window: MainWindow) -> None:
    assert shown_ids(window) == [1, 2, 3, 4, 5, 6]
    model = window.reservation_model
    row = model.latest_row("CP-01", 1)
    assert row is not None
    values = {column: model.index(row, column).data() for column in ReservationColumn}
    assert values[ReservationColumn.STATION] == "CP-01"
    assert values[ReservationColumn.ID_TAG] == "ALICE"
    assert values[ReservationColumn.PARENT] == "FLEET"
    assert values[ReservationColumn.STATE] == "Used"
    assert values[ReservationColumn.ANSWER] == "Accepted"
    assert values[ReservationColumn.TRANSACTION] == "#77"
    active_row = model.latest_row("CP-01", 2)
    assert active_row is not None
    assert "left)" in model.index(active_row, ReservationColumn.EXPIRY).data()
    error_row = model.latest_row("CP-02", 4)
    assert error_row is not None
    assert "NotSupported" in model.index(error_row, ReservationColumn.DETAIL).data()
    assert window.reservations_panel.count_label.text() == "6 attempts"


def test_station_filter_lists_every_station_and_narrows_the_table(window: MainWindow) -> None:
    panel = window.reservations_panel
    combo = panel.station_combo
    assert [combo.itemText(i) for i in range(combo.count())] == [
        "All stations",
        "CP-01",
        "CP-02",
        "CP-03",
    ]
    combo.setCurrentIndex(combo.findData("CP-02"))
    assert shown_ids(window) == [3, 4]
    assert panel.count_label.text() == "2 of 6 attempts shown"
    panel.set_station_filter(None)
    assert shown_ids(window) == [1, 2, 3, 4, 5, 6]


def test_state_filter_and_active_only_toggle(qtbot, window: MainWindow) -> None:
    panel = window.reservations_panel
    panel.set_state_filter(ReservationState.ERROR)
    assert shown_ids(window) == [4]
    panel.set_state_filter(None)
    qtbot.mouseClick(panel.active_only_check, Qt.MouseButton.LeftButton)
    assert shown_ids(window) == [2, 5]
    assert panel.active_only_action.isChecked()
    # Ctrl+Shift+A toggles it back, from anywhere in the window
    qtbot.keyClick(
        window,
        Qt.Key.Key_A,
        Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
    )
    assert not panel.active_only_check.isChecked()
    assert shown_ids(window) == [1, 2, 3, 4, 5, 6]


def test_text_and_filters_add_up(qtbot, window: MainWindow) -> None:
    panel = window.reservations_panel
    qtbot.keyClicks(panel.text_edit, "alice")
    assert shown_ids(window) == [1, 3]
    panel.set_station_filter("CP-02")
    assert shown_ids(window) == [3]
    panel.text_edit.clear()
    qtbot.keyClicks(panel.text_edit, "no answer")
    assert shown_ids(window) == []
    panel.set_station_filter("CP-03")
    assert shown_ids(window) == [6]


def test_a_new_station_appears_in_the_combo_and_live_rows_obey_the_filter(
    qtbot, window: MainWindow, fake: FakeCentralSystem
) -> None:
    panel = window.reservations_panel
    panel.set_state_filter(ReservationState.ACCEPTED)
    fake.set_reservation(attempt(7, "CP-09", ReservationState.ACCEPTED, minutes=9))
    fake.set_reservation(attempt(8, "CP-09", ReservationState.REJECTED, minutes=10))
    qtbot.waitUntil(lambda: window.reservation_model.rowCount() == 8, timeout=2000)
    assert panel.station_combo.findData("CP-09") > 0
    assert shown_ids(window) == [2, 5, 7]
    # a record moving out of the filtered state leaves the table
    fake.set_reservation(attempt(2, "CP-01", ReservationState.CANCELLED, minutes=1))
    qtbot.waitUntil(lambda: shown_ids(window) == [5, 7], timeout=2000)


def test_sorting_by_a_column(window: MainWindow) -> None:
    window.table.sortByColumn(ReservationColumn.ID_TAG, Qt.SortOrder.AscendingOrder)
    tags = [
        window.reservation_proxy.index(row, ReservationColumn.ID_TAG).data()
        for row in range(window.reservation_proxy.rowCount())
    ]
    assert tags == sorted(tags, key=str.casefold)
    window.table.sortByColumn(ReservationColumn.ID, Qt.SortOrder.DescendingOrder)
    assert shown_ids(window) == [6, 5, 4, 3, 2, 1]


def test_cancel_from_the_panel_with_delete(
    qtbot, loop_driver, window: MainWindow, fake: FakeCentralSystem
) -> None:
    window.reservations_panel.set_station_filter("CP-03")
    window.table.setFocus()
    window.table.selectRow(0)  # reservation 5, accepted
    assert window.cancel_button.isEnabled()
    qtbot.keyClick(window.table, Qt.Key.Key_Delete)
    box = window.cancel_confirmation
    assert box is not None  # a cancel cannot be undone: Delete asks first
    assert box.reservation_id == 5
    assert fake.cancel_calls == []
    qtbot.mouseClick(box.confirm_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: fake.cancel_calls == [("CP-03", 5)], timeout=5000)
    qtbot.waitUntil(lambda: "Accepted" in window.cancel_answer_text(), timeout=5000)
    row = window.reservation_model.latest_row("CP-03", 5)
    assert row is not None
    qtbot.waitUntil(
        lambda: window.reservation_model.index(row, ReservationColumn.STATE).data() == "Cancelled",
        timeout=5000,
    )


def test_the_filter_proxy_passes_the_model_tester(qtmodeltester) -> None:
    model = ReservationTableModel()
    proxy = ReservationFilterProxy()
    proxy.setSourceModel(model)
    qtmodeltester.check(proxy, force_py=True)
    model.apply_reservations(HISTORY[:3])
    proxy.set_station("CP-01")
    proxy.set_active_only(True)
    model.apply_reservations(HISTORY[3:])
    proxy.set_text("bob")
    assert proxy.rowCount() == 1
    proxy.set_station(None)
    proxy.set_active_only(False)
    proxy.set_text("")
    assert proxy.rowCount() == len(HISTORY)


# --- asking before a cancel, the main filter, the frames of a reservation ------------------


def test_delete_on_a_reserved_connector_asks_and_keeping_it_sends_nothing(
    qtbot, loop_driver, window: MainWindow, fake: FakeCentralSystem
) -> None:
    fake.set_connector("CP-03", 1, reservation_id=5)
    qtbot.waitUntil(lambda: window.station_model.reservation("CP-03", 5) is not None)
    window.select_connector("CP-03", 1)
    window.tree.setFocus()
    qtbot.keyClick(window.tree, Qt.Key.Key_Delete)
    box = window.cancel_confirmation
    assert box is not None
    # opened, not exec()'d: the test goes on while it shows, and so does the event loop
    qtbot.waitUntil(box.isVisible)
    assert box.text() == "Cancel reservation 5 on CP-03?"
    assert "CAROL" in box.informativeText()
    assert "connector 1" in box.informativeText()
    assert box.defaultButton() is box.keep_button  # Enter keeps it
    qtbot.mouseClick(box.keep_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.cancel_confirmation is None)
    qtbot.wait(50)
    assert fake.cancel_calls == []
    assert not window.cancel_banner.isVisible()


def test_the_main_filter_says_it_narrows_the_reservations_too(qtbot, window: MainWindow) -> None:
    panel = window.reservations_panel
    window.bottom_panels.bring_to_front(window.reservations_dock)
    assert "reservations" in window.filter_edit.placeholderText()
    assert not panel.main_filter_note.isVisible()
    qtbot.keyClicks(window.filter_edit, "CP-02")
    assert shown_ids(window) == [3, 4]
    assert panel.count_label.text() == "2 of 6 attempts shown"
    # the table says why four attempts are missing, and how to see them again
    assert panel.main_filter_note.isVisible()
    assert "main filter “CP-02”" in panel.main_filter_label.text()
    qtbot.mouseClick(panel.main_filter_clear, Qt.MouseButton.LeftButton)
    assert window.filter_edit.text() == ""
    assert shown_ids(window) == [1, 2, 3, 4, 5, 6]
    assert not panel.main_filter_note.isVisible()


def _frame(seq: int, station_id: str, direction, text: str, **fields) -> TraceEntry:
    return TraceEntry(
        seq=seq,
        at=START + timedelta(seconds=seq),
        station_id=station_id,
        direction=direction,
        text=text,
        **fields,
    )


def test_a_reservation_shows_its_frames_in_the_trace(
    qtbot, window: MainWindow, fake: FakeCentralSystem
) -> None:
    out, into = TraceDirection.OUT, TraceDirection.IN
    frames = [
        _frame(
            1,
            "CP-03",
            out,
            '[2,"a","ReserveNow",{"reservationId":5,"connectorId":1}]',
            message_type=2,
            message_id="a",
            action="ReserveNow",
        ),
        _frame(
            2,
            "CP-03",
            into,
            '[2,"h","Heartbeat",{}]',
            message_type=2,
            message_id="h",
            action="Heartbeat",
        ),
        _frame(3, "CP-03", into, '[3,"a",{"status":"Accepted"}]', message_type=3, message_id="a"),
        _frame(
            4,
            "CP-01",
            out,
            '[2,"b","ReserveNow",{"reservationId":5,"connectorId":1}]',
            message_type=2,
            message_id="b",
            action="ReserveNow",
        ),
        _frame(
            5,
            "CP-03",
            out,
            '[2,"c","CancelReservation",{"reservationId":6}]',
            message_type=2,
            message_id="c",
            action="CancelReservation",
        ),
        _frame(
            6,
            "CP-03",
            out,
            '[2,"d","CancelReservation",{"reservationId":5}]',
            message_type=2,
            message_id="d",
            action="CancelReservation",
        ),
        _frame(7, "CP-03", into, '[3,"d",{"status":"Accepted"}]', message_type=3, message_id="d"),
    ]
    for entry in frames:
        fake.emit(TraceAppended(entry))
    trace = window.trace_tools.panel
    qtbot.waitUntil(lambda: trace.model.rowCount() == len(frames))
    window.reservations_panel.set_station_filter("CP-03")
    index = window.reservation_proxy.index(0, 0)  # reservation 5 on CP-03
    window.table.customContextMenuRequested.emit(window.table.visualRect(index).center())
    menu = next(menu for menu in window.findChildren(QMenu) if menu.isVisible())
    show = next(a for a in menu.actions() if a.text() == "Show frames in trace")
    menu.close()
    show.trigger()
    # the trace in front, with the ReserveNow, its answer, the cancel and its answer only
    assert window.bottom_panels.front() is window.trace_tools.dock
    assert [trace.model.entry(row).seq for row in range(trace.model.rowCount())] == [1, 3, 6, 7]
    assert trace.selected_entry() == frames[0]
    assert trace.reservation_chip.isVisible()
    assert "Reservation 5 on CP-03" in trace.reservation_chip.text()
    assert "4 frame(s) of reservation 5 on CP-03" in window.statusBar().currentMessage()
    # the chip shows every frame again
    qtbot.mouseClick(trace.reservation_chip, Qt.MouseButton.LeftButton)
    assert trace.model.rowCount() == len(frames)
    assert not trace.reservation_chip.isVisible()


def test_an_attempt_the_csms_made_says_so_and_its_cancel_too(
    window: MainWindow, fake: FakeCentralSystem, qtbot
) -> None:
    from dataclasses import replace

    from console.central.model import CancelAttempt
    from console.ocpp.reservation import CancelReservationStatus

    made = replace(
        attempt(9, "CP-02", ReservationState.CANCELLED, minutes=6),
        by_upstream=True,
        cancel=CancelAttempt(START, CancelReservationStatus.ACCEPTED, START, by_upstream=True),
    )
    fake.set_reservation(made)
    model = window.reservation_model
    qtbot.waitUntil(lambda: model.latest_row("CP-02", 9) is not None, timeout=2000)
    row = model.latest_row("CP-02", 9)
    assert row is not None
    sent = model.index(row, ReservationColumn.SENT)
    assert sent.data().endswith("· by the CSMS")
    assert "site's CSMS" in sent.data(Qt.ItemDataRole.ToolTipRole)
    assert "cancel by the CSMS: Accepted" in model.index(row, ReservationColumn.DETAIL).data()
    own = model.latest_row("CP-01", 2)
    assert own is not None
    assert "CSMS" not in model.index(own, ReservationColumn.SENT).data()
    # The text filter finds them.
    window.reservations_panel.text_edit.setText("by the CSMS")
    qtbot.waitUntil(lambda: shown_ids(window) == [9], timeout=2000)
