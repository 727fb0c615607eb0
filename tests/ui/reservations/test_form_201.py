"""The window with a real 2.0.1 station (the ``ocpp`` package's) on a real Central System
(port 0, SQLite in tmp_path): the tree's EVSEs, the form adapting to the station's version,
ReserveNow from the form as the station receives it, and the reservation's lifecycle in
the table. Everything runs on one qasync loop driven by qtbot's waits (tests/ui/conftest.py).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt

from console.app import build_window
from console.central.config import CentralSystemConfig
from console.central.model import ReservationRecord, ReservationState
from console.central.server import CentralSystem
from console.ocpp.v201.enums import ConnectorType, IdTokenType
from console.ui.reservations.reservation_model import ReservationColumn
from console.ui.stations.station_model import TreeColumn
from console.ui.window.main_window import MainWindow
from tests.central.ocpp_station import OcppStation, connected_station
from tests.central.ocpp_station201 import OcppStation201, connected_station201
from tests.ui.conftest import LoopDriver

pytestmark = pytest.mark.qt_log_ignore("This plugin does not support")

WAIT_MS = 15_000
TOKEN_36 = "T" * 36


@dataclass
class Site:
    central: CentralSystem
    window: MainWindow
    stack: contextlib.AsyncExitStack[Any]


@pytest.fixture
def site(qtbot, loop_driver: LoopDriver, data_dir: Path) -> Iterator[Site]:
    central = CentralSystem(
        CentralSystemConfig(
            host="127.0.0.1", port=0, data_dir=data_dir, call_timeout=5.0, ping_interval=None
        )
    )
    loop_driver.run(central.start())
    window = build_window(central, flush_interval_ms=20)
    qtbot.addWidget(window)
    window.resize(1366, 768)
    window.start()
    window.show()
    stack = contextlib.AsyncExitStack()
    yield Site(central, window, stack)
    window.allow_close()
    window.close()
    loop_driver.run(stack.aclose())
    loop_driver.run(central.stop())


def connect201(
    loop_driver: LoopDriver, site: Site, station_id: str, *, non_evse_specific: bool = False
) -> OcppStation201:
    """A booted 2.0.1 station (EVSE 1: connectors 1, 2; EVSE 2: connector 1), all Available."""

    async def connect() -> OcppStation201:
        station = await site.stack.enter_async_context(
            connected_station201(site.central, station_id, boot=False)
        )
        station.variables["NonEvseSpecific"] = str(non_evse_specific).lower()
        await station.boot()
        await station.trigger_asked.wait()
        await station.report_sent.wait()
        for evse_id in station.EVSES:
            await station.evse_status(evse_id, "Available")
        return station

    station = loop_driver.run(connect())
    model = site.window.station_model
    loop_driver.qtbot.waitUntil(
        lambda: (
            model.evse_index(station_id, 2, TreeColumn.STATE).data() == "Available"
            and model.station(station_id).non_evse_specific is non_evse_specific
        ),  # type: ignore[union-attr]
        timeout=WAIT_MS,
    )
    return station


def connect16(loop_driver: LoopDriver, site: Site, station_id: str) -> OcppStation:
    async def connect() -> OcppStation:
        station = await site.stack.enter_async_context(connected_station(site.central, station_id))
        await station.status(1, "Available")
        return station

    station = loop_driver.run(connect())
    loop_driver.qtbot.waitUntil(
        lambda: (
            site.window.station_model.connector_index(station_id, 1, TreeColumn.STATE).data()
            == "Available"
        ),
        timeout=WAIT_MS,
    )
    return station


def items(combo) -> list[str]:
    return [combo.itemText(i) for i in range(combo.count())]


def type_token(qtbot, edit, text: str) -> None:
    edit.clear()
    qtbot.keyClicks(edit, text)


def table_cell(window: MainWindow, record: ReservationRecord, column: ReservationColumn) -> str:
    row = window.reservation_model.latest_row(record.station_id, record.reservation_id)
    assert row is not None
    return str(window.reservation_model.index(row, column).data())


def test_the_tree_shows_the_version_and_the_evses_with_their_connectors(
    qtbot, loop_driver: LoopDriver, site: Site
) -> None:
    connect201(loop_driver, site, "CS-201")
    connect16(loop_driver, site, "CP-16")
    model = site.window.station_model
    assert model.station_index("CS-201", TreeColumn.VERSION).data() == "2.0.1"
    assert model.station_index("CP-16", TreeColumn.VERSION).data() == "1.6"
    station = model.station_index("CS-201")
    assert [model.index(r, 0, station).data() for r in range(model.rowCount(station))] == [
        "EVSE 1",
        "EVSE 2",
    ]
    evse1 = model.evse_index("CS-201", 1)
    # the types come from the station's NotifyReport
    assert [model.index(r, 0, evse1).data() for r in range(model.rowCount(evse1))] == [
        "Connector 1 · cType2",
        "Connector 2 · cType2",
    ]
    # the view shows them: the EVSE rows are expanded under their station
    proxy_index = site.window.station_proxy.mapFromSource(evse1)
    qtbot.waitUntil(lambda: site.window.tree.isExpanded(proxy_index.parent()), timeout=WAIT_MS)


def test_the_form_adapts_to_the_stations_version(
    qtbot, loop_driver: LoopDriver, site: Site
) -> None:
    connect201(loop_driver, site, "CS-201")
    connect201(loop_driver, site, "CS-ANY", non_evse_specific=True)
    connect16(loop_driver, site, "CP-16")
    window, form = site.window, site.window.form

    window.select_evse("CS-201", 2)
    window.open_reservation_form()
    assert form.selected_station_id() == "CS-201"
    assert form.selected_connector_id() == 2
    assert form.connector_label.text() == "EVSE"
    assert form.id_tag_label.text() == "idToken"
    # NonEvseSpecific false: no "any EVSE" to pick
    assert items(form.connector_combo) == ["EVSE 1", "EVSE 2"]
    assert form.id_token_type_combo.isVisible()
    assert form.selected_id_token_type() is IdTokenType.CENTRAL
    assert form.connector_type_combo.isVisible()
    assert form.selected_connector_type() is None
    type_token(qtbot, form.id_tag_edit, TOKEN_36)
    assert "id_tag" not in form.validation_errors()
    assert form.send_button.isEnabled()
    type_token(qtbot, form.id_tag_edit, TOKEN_36 + "X")
    assert form.validation_errors()["id_tag"] == "idToken has 37 characters; at most 36"
    type_token(qtbot, form.parent_edit, "G" * 37)
    assert "at most 36" in form.validation_errors()["parent_id_tag"]

    # NonEvseSpecific true: "any EVSE" is offered
    form.set_target("CS-ANY", None)
    assert items(form.connector_combo) == ["any EVSE", "EVSE 1", "EVSE 2"]

    # a 1.6 station: connector, idTag of 20 at most
    window.select_connector("CP-16", 1)
    window.open_reservation_form()
    assert form.connector_label.text() == "Connector"
    assert form.id_tag_label.text() == "idTag"
    assert not form.id_token_type_combo.isVisible()
    assert not form.connector_type_combo.isVisible()
    assert items(form.connector_combo)[0] == "0 — any connector"
    type_token(qtbot, form.parent_edit, "")
    type_token(qtbot, form.id_tag_edit, "A" * 21)
    assert form.validation_errors()["id_tag"] == "idTag has 21 characters; at most 20"
    assert not form.send_button.isEnabled()
    type_token(qtbot, form.id_tag_edit, "A" * 20)
    assert form.send_button.isEnabled(), form.validation_errors()


def test_send_from_the_form_reaches_the_station_and_expires_on_its_word(
    qtbot, loop_driver: LoopDriver, site: Site
) -> None:
    station = connect201(loop_driver, site, "CS-201")
    window, form = site.window, site.window.form
    window.select_evse("CS-201", 1)
    window.open_reservation_form()
    type_token(qtbot, form.id_tag_edit, TOKEN_36)
    form.id_token_type_combo.setCurrentIndex(
        form.id_token_type_combo.findData(IdTokenType.ISO14443)
    )
    form.connector_type_combo.setCurrentIndex(
        form.connector_type_combo.findData(ConnectorType.C_TYPE2)
    )
    type_token(qtbot, form.parent_edit, "FLEET-7")
    with qtbot.waitSignal(window.requests.sig_reserve_answered, timeout=WAIT_MS) as blocker:
        qtbot.mouseClick(form.send_button, Qt.MouseButton.LeftButton)
    record: ReservationRecord = blocker.args[0]
    assert record.state is ReservationState.ACCEPTED

    # what the station received (the package validated it against the 2.0.1 schema)
    [payload] = station.asked("ReserveNow")
    assert payload["id"] == record.reservation_id
    assert payload["evse_id"] == 1
    assert payload["connector_type"] == "cType2"
    assert payload["id_token"] == {"id_token": TOKEN_36, "type": "ISO14443"}
    # the group token takes the idToken's type unless told otherwise
    assert payload["group_id_token"] == {"id_token": "FLEET-7", "type": "ISO14443"}
    assert "EVSE 1: Accepted" in form.answer_text()

    # the table: version, EVSE, then the station's word ends it
    assert table_cell(window, record, ReservationColumn.VERSION) == "2.0.1"
    assert table_cell(window, record, ReservationColumn.CONNECTOR) == "EVSE 1 · cType2"
    qtbot.waitUntil(
        lambda: str(
            window.station_model.evse_index("CS-201", 1, TreeColumn.RESERVATION).data()
        ).startswith(f"#{record.reservation_id} · {TOKEN_36}"),
        timeout=WAIT_MS,
    )
    loop_driver.run(station.reservation_update(record.reservation_id, "Expired"))
    qtbot.waitUntil(
        lambda: table_cell(window, record, ReservationColumn.STATE) == "Expired", timeout=WAIT_MS
    )
    assert site.central.reservation("CS-201", record.reservation_id).state is (  # type: ignore[union-attr]
        ReservationState.EXPIRED
    )
    assert window.station_model.evse_index("CS-201", 1, TreeColumn.RESERVATION).data() == ""


def test_a_refusal_with_status_info_shows_it_in_the_form_and_the_table(
    qtbot, loop_driver: LoopDriver, site: Site
) -> None:
    station = connect201(loop_driver, site, "CS-201")
    station.reserve_status = "Rejected"
    station.reserve_status_info = {"reason_code": "NoReservations", "additional_info": "off"}
    window, form = site.window, site.window.form
    window.select_evse("CS-201", 2)
    window.open_reservation_form()
    type_token(qtbot, form.id_tag_edit, "CARD-1")
    with qtbot.waitSignal(window.requests.sig_reserve_answered, timeout=WAIT_MS) as blocker:
        qtbot.mouseClick(form.send_button, Qt.MouseButton.LeftButton)
    record: ReservationRecord = blocker.args[0]
    assert record.state is ReservationState.REJECTED
    assert "reason NoReservations (off)" in form.answer_text()
    assert table_cell(window, record, ReservationColumn.ANSWER) == "Rejected · NoReservations"
    assert "reason NoReservations (off)" in table_cell(window, record, ReservationColumn.DETAIL)
