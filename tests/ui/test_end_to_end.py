"""The window with a real Central System (port 0, SQLite in tmp_path) and simulated stations.

Everything runs on one qasync loop driven by qtbot's waits (see tests/ui/conftest.py), as
in the application: the window, the Central System and the stations share the Qt thread.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus
from websockets.typing import Subprotocol

from console.app import build_window
from console.central.config import CentralSystemConfig
from console.central.model import ReservationRecord, ReservationState
from console.central.server import CentralSystem
from console.chargepoint.client import ClientOptions
from console.chargepoint.simulator import Behaviour, SimulationOptions, SiteSimulator
from console.ui.reservations.reservation_model import ReservationColumn
from console.ui.stations.station_model import TreeColumn
from console.ui.window.main_window import MainWindow
from tests.ui.conftest import LoopDriver

pytestmark = pytest.mark.qt_log_ignore("This plugin does not support")

CALL_TIMEOUT = 2.0
SLOW_ANSWER_DELAY = 5.0
WAIT_MS = 15_000


@dataclass
class Site:
    central: CentralSystem
    simulator: SiteSimulator
    window: MainWindow


@pytest.fixture
def make_site(
    qtbot, loop_driver: LoopDriver, data_dir: Path
) -> Iterator[Callable[[list[tuple[str, Behaviour]]], Site]]:
    started: list[Site] = []

    def make(specs: list[tuple[str, Behaviour]]) -> Site:
        central = CentralSystem(
            CentralSystemConfig(
                host="127.0.0.1",
                port=0,
                data_dir=data_dir,
                call_timeout=CALL_TIMEOUT,
                ping_interval=None,
            )
        )
        loop_driver.run(central.start())
        options = SimulationOptions(
            client=ClientOptions(backoff_initial=0.1, backoff_max=0.5),
            slow_answer_delay=SLOW_ANSWER_DELAY,
            card_arrives_after=0.3,
        )
        simulator = SiteSimulator(
            f"ws://127.0.0.1:{central.port}",
            connectors=2,
            station_specs=specs,
            options=options,
        )
        window = build_window(central, flush_interval_ms=20)
        qtbot.addWidget(window)
        window.start()
        window.show()
        site = Site(central, simulator, window)
        started.append(site)
        loop_driver.run(simulator.start())
        loop_driver.run(asyncio.wait_for(simulator.wait_booted(), 20))
        for station_id, _behaviour in specs:
            qtbot.waitUntil(
                lambda s=station_id: _status(window, s, 2) not in (None, "No status yet"),
                timeout=WAIT_MS,
            )
        return site

    yield make
    for site in started:
        site.window.allow_close()
        site.window.close()
        loop_driver.run(site.simulator.stop())
        loop_driver.run(site.central.stop())


def _status(window: MainWindow, station_id: str, connector_id: int) -> str | None:
    return _cell(window, station_id, connector_id, TreeColumn.STATE)


def _cell(window: MainWindow, station_id: str, connector_id: int, column: int) -> str | None:
    index = window.station_model.connector_index(station_id, connector_id, column)
    return index.data() if index.isValid() else None


def _table_state(window: MainWindow, record: ReservationRecord) -> str | None:
    row = window.reservation_model.latest_row(record.station_id, record.reservation_id)
    if row is None:
        return None
    return window.reservation_model.index(row, ReservationColumn.STATE).data()


def reserve_through_the_form(
    qtbot, window: MainWindow, station_id: str, connector_id: int, id_tag: str
) -> ReservationRecord:
    """Select the connector row, open the form there, type the idTag, press Send."""
    window.select_connector(station_id, connector_id)
    window.open_reservation_form()
    form = window.form
    assert form.selected_station_id() == station_id
    assert form.selected_connector_id() == connector_id
    form.id_tag_edit.clear()
    qtbot.keyClicks(form.id_tag_edit, id_tag)
    assert form.send_button.isEnabled(), form.validation_errors()
    with qtbot.waitSignal(window.requests.sig_reserve_answered, timeout=WAIT_MS) as blocker:
        qtbot.mouseClick(form.send_button, Qt.MouseButton.LeftButton)
    record: ReservationRecord = blocker.args[0]
    return record


def test_reserve_then_cancel_on_a_normal_station(qtbot, make_site) -> None:
    site = make_site([("CP-01", Behaviour.NORMAL)])
    window = site.window
    qtbot.waitUntil(lambda: _status(window, "CP-01", 1) == "Available", timeout=WAIT_MS)

    record = reserve_through_the_form(qtbot, window, "CP-01", 1, "E2E-CARD")
    assert record.state is ReservationState.ACCEPTED
    assert "connector 1: Accepted" in window.form.answer_text()
    # the connector row shows the reservation while it is active
    qtbot.waitUntil(lambda: _status(window, "CP-01", 1) == "Reserved", timeout=WAIT_MS)
    qtbot.waitUntil(
        lambda: (_cell(window, "CP-01", 1, TreeColumn.RESERVATION) or "").startswith(
            f"#{record.reservation_id} · E2E-CARD · "
        ),
        timeout=WAIT_MS,
    )
    assert _table_state(window, record) == "Accepted"

    # cancel it from the connector row with the Delete key, once confirmed
    window.select_connector("CP-01", 1)
    window.tree.setFocus()
    qtbot.keyClick(window.tree, Qt.Key.Key_Delete)
    box = window.cancel_confirmation
    assert box is not None
    with qtbot.waitSignal(window.requests.sig_cancel_answered, timeout=WAIT_MS):
        qtbot.mouseClick(box.confirm_button, Qt.MouseButton.LeftButton)
    assert window.cancel_answer_text() == (
        f"Cancel reservation {record.reservation_id} on CP-01: Accepted"
    )
    qtbot.waitUntil(lambda: _status(window, "CP-01", 1) == "Available", timeout=WAIT_MS)
    qtbot.waitUntil(
        lambda: _cell(window, "CP-01", 1, TreeColumn.RESERVATION) == "", timeout=WAIT_MS
    )
    qtbot.waitUntil(lambda: _table_state(window, record) == "Cancelled", timeout=WAIT_MS)


@pytest.mark.parametrize(
    ("behaviour", "ready_status", "answer"),
    [
        (Behaviour.OCCUPIED, "Charging", "Occupied"),
        (Behaviour.FAULTED, "Faulted", "Faulted"),
        (Behaviour.UNAVAILABLE, "Unavailable", "Unavailable"),
        (Behaviour.NO_RESERVATIONS, "Available", "Rejected"),
    ],
)
def test_each_refusal_is_shown_in_the_form_and_the_table(
    qtbot, make_site, behaviour: Behaviour, ready_status: str, answer: str
) -> None:
    site = make_site([("CP-09", behaviour)])
    window = site.window
    qtbot.waitUntil(lambda: _status(window, "CP-09", 1) == ready_status, timeout=WAIT_MS)

    record = reserve_through_the_form(qtbot, window, "CP-09", 1, "REFUSED-1")
    assert record.confirmation is not None
    assert record.confirmation.value == answer
    assert f"connector 1: {answer}" in window.form.answer_text()
    qtbot.waitUntil(lambda: _table_state(window, record) == answer, timeout=WAIT_MS)
    row = window.reservation_model.latest_row("CP-09", record.reservation_id)
    assert row is not None
    assert window.reservation_model.index(row, ReservationColumn.ANSWER).data() == answer
    # the connector row shows the refusal for a while (no reservation is held there)
    assert _cell(window, "CP-09", 1, TreeColumn.RESERVATION) == (
        f"#{record.reservation_id} {answer}"
    )


def test_a_station_that_does_not_answer_shows_the_timeout(qtbot, make_site) -> None:
    site = make_site([("CP-06", Behaviour.SLOW)])
    window = site.window
    record = reserve_through_the_form(qtbot, window, "CP-06", 1, "SLOW-CARD")
    assert record.state is ReservationState.NO_RESPONSE
    assert "No answer (timeout)" in window.form.answer_text()
    qtbot.waitUntil(lambda: _table_state(window, record) == "No answer (timeout)", timeout=WAIT_MS)


def _table_detail(window: MainWindow, record: ReservationRecord) -> str:
    row = window.reservation_model.latest_row(record.station_id, record.reservation_id)
    if row is None:
        return ""
    return str(window.reservation_model.index(row, ReservationColumn.DETAIL).data())


def test_a_cancel_accepted_late_says_so_on_its_cancelled_row(
    qtbot, make_site, loop_driver: LoopDriver
) -> None:
    site = make_site([("CP-06", Behaviour.SLOW)])
    window = site.window
    record = reserve_through_the_form(qtbot, window, "CP-06", 1, "SLOW-CARD")
    assert record.state is ReservationState.NO_RESPONSE
    # The late Accepted makes it held; then a cancel gets its answer as late.
    qtbot.waitUntil(lambda: _table_state(window, record) == "Accepted", timeout=WAIT_MS)
    outcome = loop_driver.run(site.central.cancel_reservation("CP-06", record.reservation_id))
    assert outcome.timed_out
    qtbot.waitUntil(
        lambda: _table_detail(window, record).startswith(
            "ReserveNow: late answer — cancel: no answer within 2 s (sent "
        ),
        timeout=WAIT_MS,
    )
    assert _table_state(window, record) == "Accepted"
    qtbot.waitUntil(lambda: _table_state(window, record) == "Cancelled", timeout=WAIT_MS)
    qtbot.waitUntil(lambda: "(late) at" in _table_detail(window, record), timeout=WAIT_MS)
    assert re.fullmatch(
        r"ReserveNow: late answer — cancel: no answer within 2 s, then Accepted \(late\) "
        r"at \d\d:\d\d:\d\d",
        _table_detail(window, record),
    ), _table_detail(window, record)


def test_the_reserved_card_arriving_turns_the_record_to_used(qtbot, make_site) -> None:
    site = make_site([("CP-07", Behaviour.CARD_ARRIVES)])
    window = site.window
    record = reserve_through_the_form(qtbot, window, "CP-07", 1, "FLEET-42")
    assert record.state is ReservationState.ACCEPTED
    qtbot.waitUntil(lambda: _table_state(window, record) == "Used", timeout=WAIT_MS)
    qtbot.waitUntil(lambda: _status(window, "CP-07", 1) == "Charging", timeout=WAIT_MS)
    transaction = _cell(window, "CP-07", 1, TreeColumn.TRANSACTION) or ""
    assert transaction.startswith("#")
    assert transaction.endswith("FLEET-42")
    row = window.reservation_model.latest_row("CP-07", record.reservation_id)
    assert row is not None
    assert window.reservation_model.index(row, ReservationColumn.TRANSACTION).data().startswith("#")
    assert _cell(window, "CP-07", 1, TreeColumn.RESERVATION) == ""


def test_a_refused_handshake_is_shown_in_the_status_bar(
    qtbot, make_site, loop_driver: LoopDriver
) -> None:
    site = make_site([("CP-01", Behaviour.NORMAL)])

    async def connect_with_a_bad_station_id() -> str:
        # (A subprotocol the console does not speak is no HTTP refusal any more: that
        # handshake completes and the connection is closed at once, DESIGN.md.)
        try:
            async with connect(
                f"ws://127.0.0.1:{site.central.port}/WRONG%0901",
                subprotocols=[Subprotocol("ocpp1.6")],
            ):
                return "accepted"
        except InvalidStatus as refusal:
            return str(refusal.response.status_code)

    assert loop_driver.run(connect_with_a_bad_station_id()) == "400"
    qtbot.waitUntil(
        lambda: "handshake from" in site.window.statusBar().currentMessage(),
        timeout=WAIT_MS,
    )
    assert "refused" in site.window.statusBar().currentMessage()


def test_a_reservation_ends_when_its_connector_faults_and_expires_on_time(
    qtbot, make_site, loop_driver: LoopDriver
) -> None:
    site = make_site([("CP-01", Behaviour.NORMAL)])
    window = site.window
    qtbot.waitUntil(lambda: _status(window, "CP-01", 2) == "Available", timeout=WAIT_MS)

    ended = reserve_through_the_form(qtbot, window, "CP-01", 1, "FAULT-ME")
    assert ended.state is ReservationState.ACCEPTED
    loop_driver.run(site.simulator.station("CP-01").fault(1))
    qtbot.waitUntil(lambda: _table_state(window, ended) == "Ended", timeout=WAIT_MS)
    assert _cell(window, "CP-01", 1, TreeColumn.RESERVATION) == ""

    window.select_connector("CP-01", 2)
    window.open_reservation_form()
    window.form.set_expiry(datetime.now(UTC) + timedelta(seconds=3), to_the_minute=False)
    expiring = reserve_through_the_form(qtbot, window, "CP-01", 2, "SHORT-ONE")
    assert expiring.state is ReservationState.ACCEPTED
    qtbot.waitUntil(lambda: _table_state(window, expiring) == "Expired", timeout=WAIT_MS)
    qtbot.waitUntil(lambda: _status(window, "CP-01", 2) == "Available", timeout=WAIT_MS)


def test_a_slow_station_holds_up_only_its_own_reservation(qtbot, make_site) -> None:
    site = make_site([("CP-06", Behaviour.SLOW), ("CP-01", Behaviour.NORMAL)])
    window, form = site.window, site.window.form
    qtbot.waitUntil(lambda: _status(window, "CP-01", 1) == "Available", timeout=WAIT_MS)
    window.select_connector("CP-06", 1)
    window.open_reservation_form()
    qtbot.keyClicks(form.id_tag_edit, "SLOW-CARD")
    qtbot.mouseClick(form.send_button, Qt.MouseButton.LeftButton)
    assert not form.send_button.isEnabled()

    # while CP-06 takes its time, CP-01 is reserved through the same form
    answered: list[ReservationRecord] = []
    window.requests.sig_reserve_answered.connect(answered.append)
    record = reserve_through_the_form(qtbot, window, "CP-01", 1, "QUICK-CARD")
    assert record.state is ReservationState.ACCEPTED
    assert [r.station_id for r in answered] == ["CP-01"]
    assert form.in_flight("CP-06")
    assert "connector 1: Accepted" in form.answer_text()

    window.select_connector("CP-06", 1)
    window.open_reservation_form()
    assert "sending to CP-06" in form.answer_text()  # the waiting station says so
    qtbot.waitUntil(lambda: "No answer (timeout)" in form.answer_text(), timeout=WAIT_MS)
    assert form.send_button.isEnabled()


def test_the_form_never_offers_an_id_the_central_system_used_meanwhile(
    qtbot, make_site, loop_driver: LoopDriver
) -> None:
    site = make_site([("CP-01", Behaviour.NORMAL)])
    window, form = site.window, site.window.form
    qtbot.waitUntil(lambda: _status(window, "CP-01", 2) == "Available", timeout=WAIT_MS)
    window.select_connector("CP-01", 1)
    window.open_reservation_form()
    offered = int(form.reservation_id_edit.text())
    # reservations made while the form stays open (as the reservation check makes them)
    expiry = datetime.now(UTC) + timedelta(minutes=30)
    for _ in range(3):
        loop_driver.run(site.central.reserve_now("CP-01", 2, "CHECK-CARD", expiry))
    qtbot.waitUntil(lambda: form.reservation_id_edit.text() == str(offered + 3), timeout=WAIT_MS)
    form.id_tag_edit.clear()
    qtbot.keyClicks(form.id_tag_edit, "FORM-CARD")
    with qtbot.waitSignal(window.requests.sig_reserve_answered, timeout=WAIT_MS) as blocker:
        qtbot.mouseClick(form.send_button, Qt.MouseButton.LeftButton)
    assert blocker.args[0].reservation_id == offered + 3
    ids = [r.reservation_id for r in site.central.reservations() if r.station_id == "CP-01"]
    assert sorted(ids) == list(range(offered, offered + 4))  # one reservation per id


def test_a_refusal_is_explained_before_and_after_sending(qtbot, make_site) -> None:
    site = make_site([("CP-02", Behaviour.FAULTED), ("CP-04", Behaviour.NO_RESERVATIONS)])
    window, form = site.window, site.window.form
    qtbot.waitUntil(lambda: _status(window, "CP-02", 1) == "Faulted", timeout=WAIT_MS)
    window.select_connector("CP-02", 1)
    window.open_reservation_form()
    # before sending: the connector's fault, and what the station will answer
    qtbot.waitUntil(form.connector_hint.isVisible, timeout=WAIT_MS)
    assert form.connector_hint.text() == (
        "Faulted (GroundFailure): the station will answer Faulted"
    )
    faulted = reserve_through_the_form(qtbot, window, "CP-02", 1, "FAULT-CARD")
    assert faulted.state is ReservationState.FAULTED
    assert "Connector 1 is Faulted (GroundFailure)" in form.answer_text()

    rejected = reserve_through_the_form(qtbot, window, "CP-04", 1, "REJECT-CARD")
    assert rejected.state is ReservationState.REJECTED
    assert "connector 1: Rejected" in form.answer_text()
    assert "The station is configured not to accept reservations." in form.answer_text()
