"""The main window on the fake Central System: wiring, form, cancel, status bar, closing."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QMenu

from console.app import build_window
from console.central.model import CancelOutcome, ReservationState, ReserveRequest
from console.central.site_urls import lan_first
from console.ocpp.enums import ChargePointStatus
from console.ocpp.reservation import ReservationStatus
from console.ui.look.presentation import reservation_state_look
from console.ui.reservations.reservation_model import ReservationColumn
from console.ui.stations.station_model import TreeColumn
from console.ui.window.main_window import MainWindow
from tests.ui.conftest import LoopDriver
from tests.ui.fakes import FakeCentralSystem

pytestmark = pytest.mark.qt_log_ignore("This plugin does not support")


@pytest.fixture
def fake() -> FakeCentralSystem:
    central = FakeCentralSystem()
    central.add_site(3, 2)
    central.set_station("CP-03", connected=False)
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


def flushed(qtbot, window: MainWindow) -> None:
    """Wait until the feed has handed every change it holds to the views."""
    if window.feed.pending():
        with qtbot.waitSignal(window.feed.sig_flushed, timeout=2000):
            pass


def connector_cell(window: MainWindow, station_id: str, connector_id: int, column: int) -> str:
    return window.station_model.connector_index(station_id, connector_id, column).data()


def test_status_bar_shows_urls_security_and_online_count(window: MainWindow) -> None:
    assert "ws://192.0.2.10:9000/" in window.urls_label.text()
    assert window.security_label.text() == "Security profile 0"
    assert window.online_label.text() == "2 of 3 stations online"


def test_status_bar_lists_the_lan_url_first_and_copies_it(qtbot, window: MainWindow, fake) -> None:
    fake.urls = lambda: ["ws://127.0.0.1:9000/", "ws://192.168.1.20:9000/"]  # loopback first
    window.resize(1366, 700)
    window.refresh_status_bar()
    bar = window.urls_label
    assert bar.urls() == ["ws://192.168.1.20:9000/", "ws://127.0.0.1:9000/"]
    # what to append is shown, the LAN address where the eye lands, loopback last
    assert bar.full_text() == (
        "Stations connect to: ws://192.168.1.20:9000/<station id>   "
        "ws://127.0.0.1:9000/<station id>"
    )
    assert bar.text().startswith("Stations connect to: ws://192.168.1.20:9000/<station id>")
    assert "ws://192.168.1.20:9000/CP-01" in bar.toolTip()
    # a narrow window shortens the bar, never the first URL
    window.resize(760, 600)
    qtbot.waitUntil(lambda: "…" in bar.text())
    assert "ws://192.168.1.20:9000/<station id>" in bar.text()
    window.resize(1366, 700)
    qtbot.waitUntil(bar.copy_button.isVisible)
    QGuiApplication.clipboard().clear()
    qtbot.mouseClick(bar.copy_button, Qt.MouseButton.LeftButton)
    assert QGuiApplication.clipboard().text() == "ws://192.168.1.20:9000/"
    assert "Copied ws://192.168.1.20:9000/" in window.statusBar().currentMessage()


@pytest.mark.parametrize(
    ("urls", "ordered"),
    [
        (
            ["ws://127.0.0.1:9000/", "ws://10.0.0.5:9000/"],
            ["ws://10.0.0.5:9000/", "ws://127.0.0.1:9000/"],
        ),
        (
            ["wss://[::1]:9000/", "wss://[fd00::5]:9000/"],
            ["wss://[fd00::5]:9000/", "wss://[::1]:9000/"],
        ),
        (
            ["ws://localhost:9000/", "ws://site-pc.local:9000/"],
            ["ws://site-pc.local:9000/", "ws://localhost:9000/"],
        ),
        (["ws://127.0.0.1:9000/"], ["ws://127.0.0.1:9000/"]),
    ],
    ids=["ipv4", "ipv6", "names", "loopback-only"],
)
def test_urls_are_ordered_lan_first(urls: list[str], ordered: list[str]) -> None:
    assert lan_first(urls) == ordered


def test_live_updates_reach_the_tree(qtbot, window: MainWindow, fake) -> None:
    fake.set_connector("CP-01", 2, status=ChargePointStatus.FAULTED)
    flushed(qtbot, window)
    assert connector_cell(window, "CP-01", 2, TreeColumn.STATE) == "Faulted"
    fake.set_station("CP-03", connected=True)
    flushed(qtbot, window)
    assert window.online_label.text() == "3 of 3 stations online"


def test_filter_box_narrows_the_tree(qtbot, window: MainWindow, fake) -> None:
    fake.set_connector("CP-02", 1, status=ChargePointStatus.FAULTED)
    flushed(qtbot, window)
    qtbot.keyClicks(window.filter_edit, "faulted")
    proxy = window.station_proxy
    assert [proxy.index(r, 0).data() for r in range(proxy.rowCount())] == ["CP-02"]
    assert proxy.rowCount(proxy.index(0, 0)) == 1  # only the faulted connector


def test_ctrl_r_opens_the_form_on_the_selected_connector(qtbot, window: MainWindow) -> None:
    window.form_dock.hide()
    window.select_connector("CP-02", 2)
    qtbot.keyClick(window, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)
    assert window.form_dock.isVisible()
    assert window.form.selected_station_id() == "CP-02"
    assert window.form.selected_connector_id() == 2


def test_reserve_then_cancel_through_the_window(
    qtbot, loop_driver: LoopDriver, window: MainWindow, fake
) -> None:
    window.select_connector("CP-01", 1)
    window.open_reservation_form()
    qtbot.keyClicks(window.form.id_tag_edit, "CARD-7")
    with qtbot.waitSignal(window.requests.sig_reserve_answered, timeout=5000):
        qtbot.mouseClick(window.form.send_button, Qt.MouseButton.LeftButton)
    assert fake.reserve_calls == [("CP-01", 1, "CARD-7")]
    assert "Accepted" in window.form.answer_text()
    flushed(qtbot, window)
    assert connector_cell(window, "CP-01", 1, TreeColumn.STATE) == "Reserved"
    assert connector_cell(window, "CP-01", 1, TreeColumn.RESERVATION).startswith("#1 · CARD-7")
    assert window.reservation_model.rowCount() == 1
    assert window.form.reservation_id_edit.text() == "2"  # the next id is offered

    # cancel with the Delete key on the reserved connector row, once confirmed
    window.select_connector("CP-01", 1)
    assert window.cancel_action.isEnabled()
    window.tree.setFocus()
    qtbot.keyClick(window.tree, Qt.Key.Key_Delete)
    box = window.cancel_confirmation
    assert box is not None
    with qtbot.waitSignal(window.requests.sig_cancel_answered, timeout=5000):
        qtbot.mouseClick(box.confirm_button, Qt.MouseButton.LeftButton)
    assert fake.cancel_calls == [("CP-01", 1)]
    assert window.cancel_answer_text() == "Cancel reservation 1 on CP-01: Accepted"
    flushed(qtbot, window)
    assert connector_cell(window, "CP-01", 1, TreeColumn.STATE) == "Available"
    assert connector_cell(window, "CP-01", 1, TreeColumn.RESERVATION) == ""
    assert window.reservation_model.index(0, ReservationColumn.STATE).data() == "Cancelled"


def test_a_refusal_is_shown_in_the_form_and_the_table(
    qtbot, loop_driver: LoopDriver, window: MainWindow, fake
) -> None:
    fake.answers["CP-02"] = ReservationStatus.OCCUPIED
    window.select_connector("CP-02", 1)
    window.open_reservation_form()
    qtbot.keyClicks(window.form.id_tag_edit, "CARD-8")
    with qtbot.waitSignal(window.requests.sig_reserve_answered, timeout=5000):
        window.form.send()
    assert "Occupied" in window.form.answer_text()
    flushed(qtbot, window)
    assert window.reservation_model.index(0, ReservationColumn.STATE).data() == "Occupied"
    # nothing to cancel on a refused reservation
    window.table.selectRow(0)
    assert window.selected_reservation() is None
    assert not window.cancel_button.isEnabled()


def test_a_failing_request_is_reported_not_lost(
    qtbot, loop_driver: LoopDriver, window: MainWindow, fake
) -> None:
    async def broken(*_args, **_kwargs):
        raise ConnectionError("the Central System is gone")

    fake.reserve = broken  # type: ignore[method-assign]
    window.select_connector("CP-01", 2)
    window.open_reservation_form()
    qtbot.keyClicks(window.form.id_tag_edit, "CARD-9")
    with qtbot.waitSignal(window.requests.sig_request_failed, timeout=5000):
        window.form.send()
    assert "the Central System is gone" in window.statusBar().currentMessage()
    assert "the Central System is gone" in window.form.answer_text()


def test_closing_asks_first(qtbot, window: MainWindow) -> None:
    with qtbot.waitSignal(window.sig_close_requested, timeout=1000):
        window.close()
    assert window.isVisible()  # still open until the services have stopped
    window.allow_close()
    window.close()
    assert not window.isVisible()


def test_context_menu_offers_reserve_and_cancel(qtbot, window: MainWindow) -> None:
    index = window.station_proxy.mapFromSource(window.station_model.connector_index("CP-01", 1))
    assert index != QModelIndex()
    rect = window.tree.visualRect(index)
    window.tree.customContextMenuRequested.emit(rect.center())
    menus = [menu for menu in window.findChildren(QMenu) if menu.isVisible()]
    texts = [action.text() for menu in menus for action in menu.actions()]
    assert "Reserve connector 1 of CP-01…" in texts
    for menu in menus:
        menu.close()


def test_delete_in_a_text_field_edits_text_and_cancels_nothing(qtbot, window: MainWindow) -> None:
    window.select_connector("CP-01", 1)
    window.open_reservation_form()
    edit = window.form.id_tag_edit
    edit.setFocus()
    qtbot.keyClicks(edit, "AB")
    qtbot.keyClick(edit, Qt.Key.Key_Home)
    with qtbot.assertNotEmitted(window.requests.sig_cancel_answered):
        qtbot.keyClick(edit, Qt.Key.Key_Delete)
    assert edit.text() == "B"
    assert not window.cancel_answer.isVisible()


def test_uncaught_errors_are_logged_and_shown(window: MainWindow, caplog) -> None:
    from console.app import _ErrorReporter

    reporter = _ErrorReporter()
    reporter.window = window
    try:
        raise ValueError("a slot broke")
    except ValueError as error:
        reporter.excepthook(type(error), error, error.__traceback__)
    assert "Internal error: ValueError: a slot broke" in window.statusBar().currentMessage()
    assert any("a slot broke" in record.getMessage() for record in caplog.records)


def test_a_status_message_has_room_next_to_the_urls(qtbot, window: MainWindow) -> None:
    window.resize(1024, 700)
    text = "Exported 120 rows to /tmp/reservations.csv"
    window.statusBar().showMessage(text, 5000)
    qtbot.waitUntil(lambda: window.statusBar().currentMessage() == text, timeout=2000)
    status = window.statusBar()
    permanent = [window.urls_label, window.security_label, window.online_label]
    qtbot.waitUntil(lambda: all(w.isVisible() for w in permanent), timeout=2000)
    # the message is painted left of the permanent widgets: that area must hold it
    message_area = min(w.geometry().left() for w in permanent)
    assert message_area > status.fontMetrics().horizontalAdvance(text)
    # a long URL list is elided; the tooltip keeps every URL
    assert window.urls_label.width() <= 420
    assert "ws://127.0.0.1:9000/" in window.urls_label.toolTip()
    assert "ws://127.0.0.1:9000/" in window.urls_label.full_text()


def wait_active(qtbot, window: MainWindow, station_id: str, reservation_id: int) -> None:
    def active() -> bool:
        record = window.station_model.reservation(station_id, reservation_id)
        return record is not None and record.active

    qtbot.waitUntil(active, timeout=3000)


def test_the_cancel_banner_follows_a_late_answer_and_hides(
    qtbot, loop_driver: LoopDriver, window: MainWindow, fake
) -> None:
    loop_driver.run(
        fake.reserve(ReserveRequest("CP-01", 1, "CARD-9", datetime.now(UTC) + timedelta(hours=1)))
    )
    wait_active(qtbot, window, "CP-01", 1)

    async def no_answer_in_time(station_id: str, reservation_id: int) -> CancelOutcome:
        return CancelOutcome(reservation_id, station_id, None, error="no answer within 30 s")

    fake.cancel_reservation = no_answer_in_time
    window.select_connector("CP-01", 1)
    with qtbot.waitSignal(window.requests.sig_cancel_answered, timeout=5000):
        window.cancel_selected_reservation()
    assert "no answer within 30 s" in window.cancel_answer_text()
    assert window.cancel_banner.isVisible()
    # the late answer cancels it: the banner says so, and hides a while later
    record = fake.reservations()[0]
    window._cancel_hide_timer.setInterval(50)
    fake.set_reservation(replace(record, state=ReservationState.CANCELLED))
    flushed(qtbot, window)
    assert window.cancel_answer_text() == (
        "Cancel reservation 1 on CP-01: the reservation is now Cancelled"
    )
    qtbot.waitUntil(lambda: not window.cancel_banner.isVisible(), timeout=3000)


def banner_look(window: MainWindow) -> str:
    return window.cancel_answer.styleSheet()


def look_of(state: ReservationState) -> str:
    look = reservation_state_look(state)
    return f"color: {look.screen_foreground}; background: {look.screen_background};"


@pytest.mark.parametrize(
    ("outcome", "state"),
    [
        (
            CancelOutcome(1, "CP-01", None, error="no answer within 30 s", timed_out=True),
            ReservationState.NO_RESPONSE,
        ),
        (
            CancelOutcome(
                1, "CP-01", None, error="InternalError: boom", error_code="InternalError"
            ),
            ReservationState.ERROR,
        ),
    ],
    ids=["timed-out", "callerror"],
)
def test_a_cancel_that_timed_out_shows_the_no_response_look(
    qtbot, loop_driver: LoopDriver, window: MainWindow, fake, outcome, state
) -> None:
    assert look_of(ReservationState.NO_RESPONSE) != look_of(ReservationState.ERROR)
    loop_driver.run(
        fake.reserve(ReserveRequest("CP-01", 1, "CARD-5", datetime.now(UTC) + timedelta(hours=1)))
    )
    wait_active(qtbot, window, "CP-01", 1)

    async def answer(_station_id: str, _reservation_id: int) -> CancelOutcome:
        return outcome

    fake.cancel_reservation = answer
    window.select_connector("CP-01", 1)
    with qtbot.waitSignal(window.requests.sig_cancel_answered, timeout=5000):
        window.cancel_selected_reservation()
    assert window.cancel_banner.isVisible()
    assert outcome.error is not None
    assert outcome.error in window.cancel_answer_text()
    # The timeout is a field of the outcome, not a word to look for in its text.
    assert banner_look(window) == look_of(state)


def test_the_cancel_banner_can_be_closed(qtbot, loop_driver: LoopDriver, window, fake) -> None:
    fake.answers["CP-02"] = ReservationStatus.ACCEPTED
    loop_driver.run(
        fake.reserve(ReserveRequest("CP-02", 2, "CARD-3", datetime.now(UTC) + timedelta(hours=1)))
    )
    wait_active(qtbot, window, "CP-02", 1)
    window.select_connector("CP-02", 2)
    with qtbot.waitSignal(window.requests.sig_cancel_answered, timeout=5000):
        window.cancel_selected_reservation()
    assert window.cancel_banner.isVisible()
    assert window._cancel_hide_timer.isActive()  # a success hides itself
    qtbot.mouseClick(window.cancel_banner_close, Qt.MouseButton.LeftButton)
    assert not window.cancel_banner.isVisible()


def _placeholder_pixels(window: MainWindow) -> int:
    """Pixels of the tree's viewport that are not its background (text drawn on it)."""
    image = window.tree.viewport().grab().toImage()
    background = image.pixel(image.width() - 1, image.height() - 1)
    return sum(
        1
        for y in range(0, min(image.height(), 120), 2)
        for x in range(0, image.width(), 2)
        if image.pixel(x, y) != background
    )


def test_an_empty_tree_says_how_to_connect_stations(qtbot) -> None:
    empty = FakeCentralSystem()
    window = build_window(empty, flush_interval_ms=10)
    qtbot.addWidget(window)
    window.start()
    window.show()
    assert window.tree.placeholder_text() == (
        "No station has connected yet. Configure stations with: "
        "ws://192.0.2.10:9000/<station id>\n(or any address in the status bar)"
    )
    assert _placeholder_pixels(window) > 0
    # no station chosen in the form: no connector to choose either
    assert not window.form.connector_combo.isEnabled()
    empty.add_site(1, 2)
    qtbot.waitUntil(lambda: window.station_model.rowCount() == 1, timeout=2000)
    # with a station listed, the placeholder is not drawn: the same picture without it
    with_text = window.tree.viewport().grab().toImage()
    window.tree.set_placeholder_text("")
    assert window.tree.viewport().grab().toImage() == with_text
    assert window.form.connector_combo.isEnabled()
    window.allow_close()
    window.close()


def test_a_slow_station_holds_up_only_its_own_reservations(
    qtbot, loop_driver: LoopDriver, window: MainWindow, fake
) -> None:
    release = asyncio.Event()
    answer_at_once = fake.reserve

    async def slow_on_cp02(request: ReserveRequest):
        if request.station_id == "CP-02":
            await release.wait()  # as a station that takes the whole call timeout
        return await answer_at_once(request)

    fake.reserve = slow_on_cp02  # type: ignore[method-assign]
    form = window.form
    window.select_connector("CP-02", 1)
    window.open_reservation_form()
    qtbot.keyClicks(form.id_tag_edit, "SLOW-1")
    form.send()
    assert not form.send_button.isEnabled()  # CP-02 waits

    window.select_connector("CP-01", 2)
    window.open_reservation_form()
    assert form.send_button.isEnabled()  # CP-01 does not
    assert form.answer_text() == ""  # nor does it show CP-02's attempt
    with qtbot.waitSignal(window.requests.sig_reserve_answered, timeout=5000) as blocker:
        qtbot.mouseClick(form.send_button, Qt.MouseButton.LeftButton)
    assert blocker.args[0].station_id == "CP-01"
    assert "Reservation 2 on CP-01 connector 2: Accepted" in form.answer_text()
    assert form.in_flight("CP-02")
    assert form.waiting_label.text() == "Still waiting for an answer from CP-02"

    with qtbot.waitSignal(window.requests.sig_reserve_answered, timeout=5000) as blocker:
        release.set()
    assert (blocker.args[0].station_id, blocker.args[0].reservation_id) == ("CP-02", 1)
    flushed(qtbot, window)
    assert not form.in_flight()
    window.select_connector("CP-02", 1)
    window.open_reservation_form()
    assert "Reservation 1 on CP-02 connector 1: Accepted" in form.answer_text()


def test_the_form_offers_a_fresh_id_after_reservations_made_elsewhere(
    qtbot, loop_driver: LoopDriver, window: MainWindow, fake
) -> None:
    window.select_connector("CP-01", 1)
    window.open_reservation_form()
    assert window.form.reservation_id_edit.text() == "1"
    expiry = datetime.now(UTC) + timedelta(hours=1)
    for connector_id in (1, 2, 1, 2, 1):  # a check on CP-01 uses ids 1-5
        loop_driver.run(fake.reserve(ReserveRequest("CP-01", connector_id, "CHECK", expiry)))
    flushed(qtbot, window)
    assert window.form.reservation_id_edit.text() == "6"  # without reopening the form
    qtbot.keyClicks(window.form.id_tag_edit, "CARD-6")
    with qtbot.waitSignal(window.form.sig_send_requested, timeout=1000) as blocker:
        window.form.send()
    assert blocker.args[0].reservation_id == 6
