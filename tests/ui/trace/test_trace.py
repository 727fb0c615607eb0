"""The message trace: model (qtmodeltester, pairing, cap), panel filters, pause/follow."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QFont

from console.app import build_window
from console.central.model import TraceAppended, TraceDirection, TraceEntry
from console.ui.trace.trace_model import (
    Highlight,
    TraceColumn,
    TraceFilter,
    TraceTableModel,
    format_frame,
    highlight_of,
)
from console.ui.trace.trace_panel import TracePanel
from tests.ui.fakes import FakeCentralSystem

pytestmark = pytest.mark.qt_log_ignore("This plugin does not support")

T0 = datetime(2026, 11, 25, 10, 0, 0, tzinfo=UTC)
IN, OUT, EVENT = TraceDirection.IN, TraceDirection.OUT, TraceDirection.EVENT


class Frames:
    """Builds trace entries with increasing sequence numbers and times."""

    def __init__(self) -> None:
        self.seq = 0

    def __call__(
        self,
        station_id: str,
        direction: TraceDirection,
        text: str,
        **fields: object,
    ) -> TraceEntry:
        self.seq += 1
        return TraceEntry(
            seq=self.seq,
            at=T0 + timedelta(seconds=self.seq),
            station_id=station_id,
            direction=direction,
            text=text,
            **fields,  # type: ignore[arg-type]
        )


def call(
    frames: Frames,
    station: str,
    direction: TraceDirection,
    mid: str,
    action: str,
    payload: dict[str, object] | None = None,
) -> TraceEntry:
    text = json.dumps([2, mid, action, payload or {}])
    return frames(station, direction, text, message_type=2, message_id=mid, action=action)


def result(
    frames: Frames,
    station: str,
    direction: TraceDirection,
    mid: str,
    payload: dict[str, object],
    **fields: object,
) -> TraceEntry:
    text = json.dumps([3, mid, payload])
    return frames(station, direction, text, message_type=3, message_id=mid, **fields)


def sample_trace() -> list[TraceEntry]:
    """Two stations: a reservation, a heartbeat, a CALLERROR, a late answer, a refusal."""
    f = Frames()
    return [
        f("CP-01", EVENT, "connected from 127.0.0.1:5000 (security profile 0)"),  # 0
        call(f, "CP-01", IN, "1", "BootNotification", {"chargePointVendor": "Acme"}),  # 1
        result(f, "CP-01", OUT, "1", {"status": "Accepted"}, latency=0.002),  # 2
        call(f, "CP-01", OUT, "c1", "ReserveNow", {"reservationId": 7, "idTag": "TECH-1"}),  # 3
        call(f, "CP-02", IN, "c1", "Heartbeat"),  # 4: same id, other station
        result(f, "CP-01", IN, "c1", {"status": "Accepted"}, action="ReserveNow", latency=0.05),
        result(f, "CP-02", OUT, "c1", {"currentTime": "2026-11-25T10:00:06Z"}, latency=0.001),
        call(f, "CP-02", OUT, "c2", "ReserveNow", {"reservationId": 8, "idTag": "TECH-2"}),  # 7
        f(
            "CP-02",
            IN,
            json.dumps([4, "c2", "NotSupported", "no reservations here", {}]),
            message_type=4,
            message_id="c2",
            action="ReserveNow",
            error_code="NotSupported",
            latency=0.03,
        ),  # 8
        call(f, "CP-02", OUT, "c3", "CancelReservation", {"reservationId": 8}),  # 9
        f(
            "CP-02",
            EVENT,
            "no answer to CancelReservation within 2 s",
            message_id="c3",
            action="CancelReservation",
        ),  # 10
        result(
            f,
            "CP-02",
            IN,
            "c3",
            {"status": "Rejected"},
            action="CancelReservation",
            latency=2.5,
            late=True,
        ),  # 11
        f(
            "CP-09",
            EVENT,
            "handshake from 10.0.0.9 refused (401 Unauthorized): bad password",
            note="handshake refused",
        ),  # 12
    ]


@pytest.fixture
def panel(qtbot) -> TracePanel:
    model = TraceTableModel()
    widget = TracePanel(model)
    qtbot.addWidget(widget)
    widget.resize(1200, 500)
    widget.show()
    widget.append(sample_trace())
    return widget


def shown(panel: TracePanel) -> list[int]:
    return [panel.model.entry(row).seq for row in range(panel.model.rowCount())]


# --- the model ------------------------------------------------------------------------------


def test_model_passes_qtmodeltester_while_appending_filtering_and_dropping(qtmodeltester) -> None:
    model = TraceTableModel(capacity=40)
    qtmodeltester.check(model, force_py=True)
    trace = sample_trace()
    model.append(trace)
    model.set_filter(TraceFilter(station_id="CP-02"))
    model.set_paused(True)
    frames = Frames()
    frames.seq = 100
    model.append([call(frames, "CP-02", IN, str(n), "Heartbeat") for n in range(50)])
    model.set_paused(False)
    model.set_filter(TraceFilter(text="heartbeat"))
    qtmodeltester.check(model, force_py=True)
    # Capacity 40: the oldest went, in a chunk, and the shown rows went with them.
    assert len(model.buffer) <= 40
    assert model.rowCount() == len(model.buffer)
    assert model.entry(model.rowCount() - 1).seq == 150


def test_cells_are_formatted_on_demand(panel: TracePanel) -> None:
    model = panel.model
    row = 5  # CP-01's answer to ReserveNow
    assert model.index(row, TraceColumn.STATION).data() == "CP-01"
    assert model.index(row, TraceColumn.DIRECTION).data() == "← in"
    assert model.index(row, TraceColumn.TYPE).data() == "CALLRESULT"
    assert model.index(row, TraceColumn.ACTION).data() == "ReserveNow"
    assert model.index(row, TraceColumn.MESSAGE_ID).data() == "c1"
    assert model.index(row, TraceColumn.LATENCY).data() == "50 ms"
    assert not model.index(row, TraceColumn.DIRECTION).data(Qt.ItemDataRole.DecorationRole).isNull()
    # The central's answer to a station's call carries no action: the request's is shown.
    assert model.index(2, TraceColumn.ACTION).data() == "BootNotification"
    assert model.index(3, TraceColumn.DIRECTION).data() == "→ out"


def test_late_answers_callerrors_and_refusals_stand_out(panel: TracePanel) -> None:
    model = panel.model
    looks = {}
    for row in (5, 8, 10, 11, 12):
        entry = model.entry(row)
        index = model.index(row, TraceColumn.TYPE)
        font = index.data(Qt.ItemDataRole.FontRole)
        looks[row] = (
            highlight_of(entry),
            isinstance(font, QFont) and font.bold(),
            index.data(Qt.ItemDataRole.DecorationRole) is not None,
            index.data(Qt.ItemDataRole.BackgroundRole) is not None,
        )
    assert looks[5] == (Highlight.NORMAL, False, False, False)
    assert looks[8] == (Highlight.ERROR, True, True, True)  # CALLERROR
    assert looks[10] == (Highlight.WARNING, True, True, True)  # timeout
    assert looks[11] == (Highlight.WARNING, True, True, True)  # late answer
    assert looks[12] == (Highlight.ERROR, True, True, True)  # refused connection
    assert model.index(8, TraceColumn.TYPE).data() == "CALLERROR NotSupported"
    assert model.index(11, TraceColumn.LATENCY).data() == "2500 ms LATE"
    assert model.index(10, TraceColumn.TYPE).data() == "no answer"
    assert model.index(12, TraceColumn.TYPE).data() == "refused"
    assert model.index(0, TraceColumn.TYPE).data() == "event"
    assert "bad password" in model.index(12, TraceColumn.ACTION).data()


def test_a_restarted_central_numbering_from_one_again_is_still_shown() -> None:
    model = TraceTableModel()
    trace = sample_trace()
    model.append(trace)
    model.append(sample_trace()[:3])  # seq 1, 2, 3 again
    assert model.rowCount() == len(trace) + 3
    # The new BootNotification pairs with its own answer, not the old one.
    assert model.partner_row(len(trace) + 1) == len(trace) + 2


def test_detail_pane_shows_the_selected_frame_indented(panel: TracePanel) -> None:
    panel.select_row(3)
    text = panel.detail.toPlainText()
    assert text.startswith("OUT  CP-01")
    assert "CALL ReserveNow id=c1" in text
    assert '  "ReserveNow",' in text  # indented JSON
    assert '"idTag": "TECH-1"' in text
    assert format_frame(panel.model.entry(12)).endswith("bad password")


# --- pairing --------------------------------------------------------------------------------


def test_jump_from_request_to_answer_and_back(qtbot, panel: TracePanel) -> None:
    panel.select_row(3)  # CP-01 ReserveNow c1 (out)
    assert panel.jump_action.isEnabled()
    assert panel.jump_action.text() == "Jump to answer"
    assert panel.jump_to_partner()
    assert panel.selected_row() == 5  # not CP-02's c1 (row 4/6)
    assert panel.jump_action.text() == "Jump to request"
    assert panel.jump_to_partner()
    assert panel.selected_row() == 3
    # A station's call pairs with the Central System's answer (ids are per sender).
    panel.select_row(4)
    panel.jump_action.trigger()
    assert panel.selected_row() == 6
    # The late answer is linked to its request, not to anything after it.
    panel.select_row(11)
    assert panel.jump_to_partner()
    assert panel.selected_row() == 9


def test_double_click_jumps_to_the_partner(qtbot, panel: TracePanel) -> None:
    panel.select_row(7)
    rect = panel.table.visualRect(panel.model.index(7, TraceColumn.ACTION))
    qtbot.mouseClick(panel.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.mouseDClick(panel.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert panel.selected_row() == 8  # the CALLERROR


def test_jump_to_a_partner_hidden_by_the_filter_says_so(qtbot, panel: TracePanel) -> None:
    panel.set_direction_filter(OUT)
    row = next(r for r in range(panel.model.rowCount()) if panel.model.entry(r).seq == 4)
    panel.select_row(row)
    with qtbot.waitSignal(panel.sig_message, check_params_cb=lambda t: "hidden" in t):
        assert not panel.jump_to_partner()


# --- filters --------------------------------------------------------------------------------


def test_station_filter(panel: TracePanel) -> None:
    assert [panel.station_combo.itemText(i) for i in range(panel.station_combo.count())] == [
        "All stations",
        "CP-01",
        "CP-02",
        "CP-09",
    ]
    panel.set_station_filter("CP-01")
    assert shown(panel) == [1, 2, 3, 4, 6]
    panel.set_station_filter(None)
    assert len(shown(panel)) == 13


def test_action_filter_includes_answers_without_an_action(panel: TracePanel) -> None:
    panel.set_action_filter("BootNotification")
    assert shown(panel) == [2, 3]
    panel.set_action_filter("ReserveNow")
    assert shown(panel) == [4, 6, 8, 9]


def test_direction_filter(panel: TracePanel) -> None:
    panel.set_direction_filter(EVENT)
    assert shown(panel) == [1, 11, 13]
    panel.set_direction_filter(IN)
    assert all(panel.model.entry(r).direction is IN for r in range(panel.model.rowCount()))
    assert len(shown(panel)) == 5


def test_problems_only_filter(panel: TracePanel) -> None:
    panel.errors_check.setChecked(True)
    assert shown(panel) == [9, 11, 12, 13]


def test_text_filter_searches_the_raw_frame_after_typing_pauses(qtbot, panel: TracePanel) -> None:
    panel.set_station_filter(None)
    with qtbot.waitSignal(panel.model.modelReset, timeout=5000):
        panel.text_edit.setText("tech-2")  # case-insensitive
    assert shown(panel) == [8]
    panel.set_station_filter("CP-01")  # filters combine
    assert shown(panel) == []
    assert panel.count_label.text() == "0 of 13"


def test_the_selected_frame_stays_selected_when_filtering(panel: TracePanel) -> None:
    panel.select_row(5)
    panel.set_station_filter("CP-01")
    assert panel.selected_entry() is not None
    assert panel.selected_entry().seq == 6  # type: ignore[union-attr]


# --- pause and follow -----------------------------------------------------------------------


def test_pause_holds_new_frames_and_resume_shows_them(panel: TracePanel) -> None:
    frames = Frames()
    frames.seq = 100
    panel.pause_action.trigger()
    assert panel.model.paused
    assert panel.pause_action.text() == "Resume"
    panel.append([call(frames, "CP-01", IN, str(n), "Heartbeat") for n in range(3)])
    assert panel.model.rowCount() == 13
    assert len(panel.model.buffer) == 16
    assert panel.waiting_label.text() == "Paused — 3 new"
    # Filtering while paused applies to what is shown, not to what waits.
    panel.set_action_filter("Heartbeat")
    assert shown(panel) == [5, 7]  # CP-02's Heartbeat and its answer
    panel.pause_action.trigger()
    assert shown(panel) == [5, 7, 101, 102, 103]
    assert panel.waiting_label.text() == ""


def test_follow_keeps_the_newest_frame_in_sight(qtbot, panel: TracePanel) -> None:
    frames = Frames()
    frames.seq = 100
    scroll = panel.table.verticalScrollBar()
    panel.follow_check.setChecked(True)
    panel.append([call(frames, "CP-01", IN, str(n), "Heartbeat") for n in range(300)])
    qtbot.waitUntil(lambda: scroll.maximum() > 0 and scroll.value() == scroll.maximum())
    panel.follow_check.setChecked(False)
    scroll.setValue(0)
    panel.append([call(frames, "CP-01", IN, f"x{n}", "Heartbeat") for n in range(50)])
    assert scroll.value() == 0


# --- in the window --------------------------------------------------------------------------


def test_window_has_the_trace_dock_and_menu_entries(qtbot) -> None:
    central = FakeCentralSystem()
    central.add_site(2, 2)
    window = build_window(central, flush_interval_ms=10)
    qtbot.addWidget(window)
    window.start()
    tools = window.trace_tools
    assert tools.dock.widget() is tools.panel
    texts = [action.text() for action in window.menuBar().actions()]
    assert any(text.replace("&", "") == "File" for text in texts)
    file_actions = window.menus.file_menu.actions()
    assert tools.export_trace_action in file_actions
    assert tools.export_reservations_action in file_actions
    assert tools.report_action in file_actions
    assert file_actions[-1].text() == "&Quit"  # Quit stays last
    for entry in sample_trace():
        central.emit(TraceAppended(entry))
    qtbot.waitUntil(lambda: tools.model.rowCount() == 13, timeout=5000)
    window.allow_close()
    window.close()


def test_scrolling_up_stops_follow_and_back_to_the_end_resumes_it(qtbot, panel: TracePanel) -> None:
    frames = Frames()
    frames.seq = 100
    panel.append([call(frames, "CP-01", IN, str(n), "Heartbeat") for n in range(300)])
    scroll = panel.table.verticalScrollBar()
    qtbot.waitUntil(lambda: scroll.maximum() > 0 and scroll.value() == scroll.maximum())
    scroll.triggerAction(scroll.SliderAction.SliderPageStepSub)
    qtbot.waitUntil(lambda: not panel.follow_check.isChecked())
    scroll.triggerAction(scroll.SliderAction.SliderToMaximum)
    qtbot.waitUntil(panel.follow_check.isChecked)


def test_follow_shows_the_newest_matching_row_after_a_filter_change(
    qtbot, panel: TracePanel
) -> None:
    frames = Frames()
    frames.seq = 100
    panel.append([call(frames, "CP-01", IN, str(n), "Heartbeat") for n in range(300)])
    scroll = panel.table.verticalScrollBar()
    assert panel.follow_check.isChecked()

    def at_the_newest_row() -> bool:
        last = panel.model.rowCount() - 1
        rect = panel.table.visualRect(panel.model.index(last, 0))
        return (
            scroll.maximum() > 0
            and scroll.value() == scroll.maximum()
            and panel.table.viewport().rect().contains(rect.center())
        )

    def laid_out_without_scrolling() -> None:
        # Let the view lay the few rows out, as it does between two clicks.
        qtbot.waitUntil(lambda: scroll.maximum() == 0, timeout=5000)

    # Each filter first narrows to a few rows, then widens again to many.
    panel.errors_check.setChecked(True)  # "Problems only"
    laid_out_without_scrolling()
    panel.errors_check.setChecked(False)
    qtbot.waitUntil(at_the_newest_row, timeout=5000)
    panel.set_action_filter("BootNotification")  # the action list
    laid_out_without_scrolling()
    panel.set_action_filter("Heartbeat")
    qtbot.waitUntil(at_the_newest_row, timeout=5000)
    with qtbot.waitSignal(panel.model.modelReset, timeout=5000):
        panel.text_edit.setText("TECH-2")  # the text
    laid_out_without_scrolling()
    with qtbot.waitSignal(panel.model.modelReset, timeout=5000):
        panel.text_edit.setText("")
    qtbot.waitUntil(at_the_newest_row, timeout=5000)
    assert panel.follow_check.isChecked()


def test_without_follow_a_filter_change_keeps_the_selected_row_in_sight(
    qtbot, panel: TracePanel
) -> None:
    frames = Frames()
    frames.seq = 100
    panel.append([call(frames, "CP-01", IN, str(n), "Heartbeat") for n in range(300)])
    panel.follow_check.setChecked(False)
    panel.select_row(150)
    selected = panel.selected_entry()
    assert selected is not None
    panel.set_action_filter("Heartbeat")
    assert panel.selected_entry() == selected
    row = panel.selected_row()
    assert row is not None
    rect = panel.table.visualRect(panel.model.index(row, 0))
    assert panel.table.viewport().rect().contains(rect.center())
    assert not panel.follow_check.isChecked()


# --- the frames of one reservation ----------------------------------------------------------


def test_the_reservation_filter_keeps_its_calls_answers_and_timeouts(qapp) -> None:
    model = TraceTableModel()
    trace = sample_trace()
    f = Frames()
    f.seq = len(trace)
    later = [
        call(f, "CP-01", IN, "s1", "StartTransaction", {"connectorId": 1, "reservationId": 7}),
        result(f, "CP-01", OUT, "s1", {"transactionId": 3}, action="StartTransaction"),
        call(f, "CP-02", OUT, "c4", "ReserveNow", {"reservationId": 7, "idTag": "OTHER"}),
        call(f, "CP-01", OUT, "c5", "CancelReservation", {"reservationId": 70}),
    ]
    model.append(trace + later)
    seqs = lambda: [model.entry(row).seq for row in range(model.rowCount())]  # noqa: E731
    # CP-02's reservation 8: ReserveNow, its CALLERROR, the cancel, its timeout, the late answer
    model.set_filter(TraceFilter(station_id="CP-02", reservation_id=8))
    assert seqs() == [8, 9, 10, 11, 12]
    # CP-01's reservation 7: ReserveNow and answer, the transaction that used it and its answer
    model.set_filter(TraceFilter(station_id="CP-01", reservation_id=7))
    assert seqs() == [4, 6, 14, 15]
    # frames arriving later are kept or left out the same way
    model.append([result(f, "CP-01", IN, "c5", {"status": "Rejected"})])
    assert seqs() == [4, 6, 14, 15]


def test_the_panel_shows_one_reservation_and_back(qtbot, panel: TracePanel) -> None:
    panel.errors_check.setChecked(True)
    panel.text_edit.setText("something")
    assert panel.show_reservation("CP-02", 8) == 5
    assert shown(panel) == [8, 9, 10, 11, 12]
    assert panel.station_combo.currentData() == "CP-02"
    assert not panel.errors_check.isChecked()
    assert panel.text_edit.text() == ""
    selected = panel.selected_entry()
    assert selected is not None
    assert selected.seq == 8
    assert panel.reservation_chip.isVisible()
    assert panel.count_label.text() == "5 of 13"
    # another station in the combo: the reservation filter (of CP-02) goes
    panel.station_combo.setCurrentIndex(panel.station_combo.findData("CP-01"))
    panel.station_combo.activated.emit(panel.station_combo.currentIndex())
    assert panel.reservation_filter() is None
    assert not panel.reservation_chip.isVisible()
    assert shown(panel) == [1, 2, 3, 4, 6]
    # none held: the status bar hears why the trace is empty
    with qtbot.waitSignal(panel.sig_message) as message:
        assert panel.show_reservation("CP-01", 99) == 0
    assert "No frame of reservation 99 on CP-01" in message.args[0]
    panel.clear_reservation_filter()
    assert len(shown(panel)) == 13
