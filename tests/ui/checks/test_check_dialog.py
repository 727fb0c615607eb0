"""The reservation check in the window: the steps model, the dialog, its wiring.

The dialog tests drive a :class:`FakeCheckRunner` step by step on the qasync loop of
:class:`LoopDriver`; one end-to-end test runs the real check against a simulated station.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtWidgets import QMenu, QStyle
from pytestqt.qtbot import QtBot

from console import app as console_app
from console.app import build_window
from console.central.check.model import (
    CheckOutcome,
    CheckRequest,
    CheckResult,
    CheckStep,
    ReservationSpan,
    Verdict,
)
from console.central.check.runner import CheckOptions, ReservationCheck, check_factory
from console.central.check.service import CheckService
from console.central.config import CentralSystemConfig
from console.central.model import (
    ConnectorSnapshot,
    StationSnapshot,
    TraceDirection,
    TraceEntry,
)
from console.central.server import CentralSystem
from console.central.settings import RESTART_FIELDS, ConsoleSettings, changed_fields
from console.chargepoint.client import ClientOptions
from console.chargepoint.simulator import Behaviour, SimulationOptions, SiteSimulator
from console.ocpp.enums import ChargePointStatus
from console.ui.checks.check_dialog import (
    CANCELLING_TEXT,
    CheckState,
    ReservationCheckDialog,
    evidence_lines,
)
from console.ui.checks.check_steps_model import (
    CheckStepsModel,
    StepColumn,
    format_duration,
    verdict_summary,
)
from console.ui.settings.settings_dialog import SettingsDialog
from console.ui.stations.station_model import StationTreeModel
from console.ui.window.main_window import MainWindow
from tests.ui.conftest import LoopDriver
from tests.ui.fakes import FakeCentralSystem, FakeCheckFactory, FakeCheckRunner, check_steps

# Showing a window offscreen makes Qt say this (as in the other window tests).
pytestmark = pytest.mark.qt_log_ignore("This plugin does not support")

T0 = datetime(2026, 5, 4, 10, 0, 0, tzinfo=UTC)


def fresh_result(connectors: tuple[int, ...] = (1,), *, guided: bool = False) -> CheckResult:
    return CheckResult(
        check_id=None,
        station_id="CP-01",
        started_at=T0,
        connectors=connectors,
        id_tag="CARD1",
        guided=guided,
        steps=check_steps(connectors, guided=guided),
    )


def with_step(result: CheckResult, row: int, **fields: object) -> CheckResult:
    steps = list(result.steps)
    steps[row] = replace(steps[row], **fields)  # type: ignore[arg-type]
    return replace(result, steps=tuple(steps))


# --- the steps model --------------------------------------------------------------------------


def test_steps_model_shows_every_step_with_its_connector(qtmodeltester) -> None:
    model = CheckStepsModel(clock=lambda: T0)
    model.set_result(fresh_result(guided=True))
    qtmodeltester.check(model, force_py=True)
    assert model.rowCount() == 9  # the steps of issue #9 in the fake plan
    first = [model.index(0, column).data() for column in StepColumn]
    assert first == ["1", "Reserve a free connector", "1", "Pending", "", ""]
    zero_row = [s.step for s in model.result().steps].index(CheckStep.CONNECTOR_ZERO)
    assert model.index(zero_row, StepColumn.CONNECTOR).data() == "station"
    assert model.headerData(StepColumn.VERDICT, Qt.Orientation.Horizontal) == "Verdict"


def test_steps_model_signals_only_the_rows_that_changed(qtmodeltester, qtbot) -> None:
    now = [T0]
    model = CheckStepsModel(clock=lambda: now[0])
    result = fresh_result()
    model.set_result(result)
    qtmodeltester.check(model, force_py=True)
    changed: list[tuple[int, int]] = []
    model.dataChanged.connect(
        lambda top, bottom, _roles=(): changed.append((top.row(), bottom.row()))
    )
    resets: list[bool] = []
    model.modelReset.connect(lambda: resets.append(True))

    running = with_step(result, 1, verdict=Verdict.RUNNING, started_at=T0)
    model.set_result(running)
    assert changed == [(1, 1)]
    assert model.running_row() == 1
    verdict = model.index(1, StepColumn.VERDICT)
    assert verdict.data() == "Running…"
    assert verdict.data(Qt.ItemDataRole.DecorationRole) is not None
    assert verdict.data(Qt.ItemDataRole.BackgroundRole) is not None

    now[0] = T0 + timedelta(seconds=3)
    changed.clear()
    model.tick()  # the running step's duration moves on
    assert changed == [(1, 1)]
    assert model.index(1, StepColumn.DURATION).data() == "3.0 s"

    reason = "ReserveNow answered Accepted, but no StatusNotification Reserved came\nwithin 10 s"
    failed = with_step(
        running,
        1,
        verdict=Verdict.FAILED,
        reason=reason,
        finished_at=T0 + timedelta(seconds=12),
    )
    changed.clear()
    model.set_result(failed)
    model.set_result(failed)  # the same again: nothing to signal
    assert changed == [(1, 1)]
    assert resets == []
    assert model.index(1, StepColumn.VERDICT).data() == "Failed"
    assert model.index(1, StepColumn.DURATION).data() == "12 s"
    assert model.index(1, StepColumn.REASON).data() == reason.splitlines()[0]
    assert reason in model.index(1, StepColumn.REASON).data(Qt.ItemDataRole.ToolTipRole)
    qtmodeltester.check(model, force_py=True)


def test_steps_model_inserts_added_steps_and_resets_for_another_run(qtmodeltester) -> None:
    model = CheckStepsModel(clock=lambda: T0)
    full = fresh_result()
    model.set_result(replace(full, steps=full.steps[:3]))
    inserted: list[tuple[int, int]] = []
    model.rowsInserted.connect(lambda _parent, first, last: inserted.append((first, last)))
    model.set_result(full)
    assert inserted == [(3, len(full.steps) - 1)]
    resets: list[bool] = []
    model.modelReset.connect(lambda: resets.append(True))
    model.set_result(fresh_result(connectors=(2,)))
    assert resets == [True]
    assert model.index(0, StepColumn.CONNECTOR).data() == "2"
    model.set_result(None)
    assert model.rowCount() == 0
    assert model.step(0) is None
    assert not model.index(0, 0, QModelIndex()).isValid()
    qtmodeltester.check(model, force_py=True)


def test_verdict_summary_and_durations() -> None:
    result = fresh_result(guided=True)
    verdicts = [Verdict.PASSED] * 7 + [Verdict.FAILED, Verdict.SKIPPED]
    result = replace(
        result,
        steps=tuple(replace(s, verdict=v) for s, v in zip(result.steps, verdicts, strict=True)),
    )
    assert verdict_summary(result) == "7 passed, 1 failed, 1 skipped"
    assert format_duration(None) == ""
    assert format_duration(0.42) == "420 ms"
    assert format_duration(4.25) == "4.2 s"
    assert format_duration(125) == "2 min 05 s"


# --- the dialog with a fake runner -----------------------------------------------------------


def site_model(
    statuses: dict[int, ChargePointStatus] | None = None, *, connected: bool = True
) -> StationTreeModel:
    """One station, CP-01, with connectors in these statuses."""
    model = StationTreeModel()
    model.apply_stations(
        [
            StationSnapshot(
                station_id="CP-01",
                connected=connected,
                state_since=T0,
                vendor="Acme",
                model="Wallbox 22",
                firmware_version="1.4.2",
            )
        ]
    )
    statuses = statuses or {
        1: ChargePointStatus.AVAILABLE,
        2: ChargePointStatus.CHARGING,
        3: ChargePointStatus.AVAILABLE,
    }
    model.apply_connectors(
        [
            ConnectorSnapshot(station_id="CP-01", connector_id=i, status=s, status_at=T0)
            for i, s in statuses.items()
        ]
    )
    return model


@pytest.fixture
def make_dialog(
    qtbot: QtBot, loop_driver: LoopDriver
) -> Callable[..., tuple[ReservationCheckDialog, FakeCheckFactory]]:
    def make(
        model: StationTreeModel | None = None, connector_id: int | None = None
    ) -> tuple[ReservationCheckDialog, FakeCheckFactory]:
        factory = FakeCheckFactory()
        model = model or site_model()
        dialog = ReservationCheckDialog(
            model, "CP-01", CheckService(factory), connector_id=connector_id
        )
        model.setParent(dialog)  # lives as long as the dialog
        qtbot.addWidget(dialog)
        dialog.show()
        return dialog, factory

    return make


def start_check(
    qtbot: QtBot, dialog: ReservationCheckDialog, factory: FakeCheckFactory, id_tag: str = "CARD1"
) -> FakeCheckRunner:
    qtbot.keyClicks(dialog.id_tag_edit, id_tag)
    assert dialog.start_button.isEnabled()
    qtbot.mouseClick(dialog.start_button, Qt.MouseButton.LeftButton)
    runner = factory.last
    qtbot.waitUntil(lambda: runner.run_started)
    assert dialog.state is CheckState.RUNNING
    assert dialog.pages.currentWidget() is dialog.run_page
    return runner


def frame(seq: int, direction: TraceDirection, text: str) -> TraceEntry:
    return TraceEntry(
        seq=seq, at=T0 + timedelta(seconds=seq), station_id="CP-01", direction=direction, text=text
    )


def test_setup_offers_only_available_connectors(make_dialog) -> None:
    dialog, _factory = make_dialog(connector_id=3)
    boxes = dialog.connector_checks
    assert sorted(boxes) == [1, 2, 3]
    assert boxes[1].isEnabled()
    assert boxes[3].isEnabled()
    assert not boxes[2].isEnabled()
    assert "Charging" in boxes[2].text()
    assert dialog.picked_connectors() == [3]  # the connector the technician started from
    assert "Acme Wallbox 22" in dialog.station_label.text()
    assert "firmware 1.4.2" in dialog.station_label.text()
    assert "Only Available connectors can be picked" in dialog.intro_label.text()


def test_the_setup_page_says_what_the_check_will_do(make_dialog) -> None:
    dialog, _factory = make_dialog()
    intro = dialog.intro_label.text()
    assert "-OTHER" in intro  # the second idTag of steps 2 and 3
    assert "cancelled at the end, even if you stop it" in intro
    assert "reserved card starts charging" in intro  # the guided step does charge


def test_a_connector_that_stops_being_available_is_unpicked(make_dialog) -> None:
    model = site_model()
    dialog, _factory = make_dialog(model, connector_id=1)
    assert dialog.picked_connectors() == [1]
    model.apply_connectors(
        [
            ConnectorSnapshot(
                station_id="CP-01",
                connector_id=1,
                status=ChargePointStatus.PREPARING,
                status_at=T0,
            )
        ]
    )
    assert not dialog.connector_checks[1].isEnabled()
    assert dialog.picked_connectors() == []
    assert dialog.connector_error.text() == "Pick at least one Available connector"


def test_id_tag_is_checked_as_one_types_and_start_waits_for_a_valid_setup(
    make_dialog, qtbot: QtBot
) -> None:
    dialog, factory = make_dialog(connector_id=1)
    assert not dialog.start_button.isEnabled()  # no idTag yet
    qtbot.keyClicks(dialog.id_tag_edit, "X" * 21)
    assert not dialog.start_button.isEnabled()
    assert dialog.id_tag_error.isVisibleTo(dialog)
    assert dialog.id_tag_error.text() == "idTag has 21 characters; at most 20"
    qtbot.keyClick(dialog.id_tag_edit, Qt.Key.Key_Backspace)
    assert dialog.start_button.isEnabled()
    assert not dialog.id_tag_error.isVisibleTo(dialog)
    dialog.id_tag_edit.selectAll()
    qtbot.keyClick(dialog.id_tag_edit, Qt.Key.Key_Delete)
    assert dialog.id_tag_error.text() == "idTag is required"
    assert not dialog.start_button.isEnabled()
    qtbot.keyClicks(dialog.id_tag_edit, "CARD1")
    dialog.connector_checks[1].setChecked(False)  # nothing picked
    assert not dialog.start_button.isEnabled()
    assert dialog.connector_error.text() == "Pick at least one Available connector"
    dialog.start()  # refused while invalid
    assert factory.runners == []


def test_an_offline_station_cannot_be_checked(make_dialog) -> None:
    dialog, _factory = make_dialog(site_model(connected=False), connector_id=1)
    dialog.id_tag_edit.setText("CARD1")
    assert not dialog.start_button.isEnabled()
    assert "not connected" in dialog.connector_error.text()
    assert "(offline)" in dialog.station_label.text()


def test_the_grown_run_page_stays_on_the_screen(make_dialog, qtbot: QtBot) -> None:
    """Opened low on a small screen, the taller run page moves up: its buttons stay visible."""
    dialog, factory = make_dialog()
    available = dialog.screen().availableGeometry()
    low = available.bottom() - dialog.frameGeometry().height()
    dialog.move(available.left(), low)
    start_check(qtbot, dialog, factory)
    assert dialog.height() > 460  # it did grow
    assert dialog.frameGeometry().top() < low  # moved up
    assert available.contains(dialog.frameGeometry()), (available, dialog.frameGeometry())


def test_the_run_page_is_readable_on_a_laptop_screen(
    make_dialog, qtbot: QtBot, tmp_path: Path
) -> None:
    """At what the run page gets on a 1366x768 screen: the reason readable, headers whole."""
    dialog, factory = make_dialog()
    runner = start_check(qtbot, dialog, factory)
    # What the run page grows to on a 1366x768 screen (the offscreen screen is another).
    dialog.resize(1060, 662)
    now = datetime.now(UTC)
    reason = "ReserveNow answered Accepted, but no StatusNotification Reserved came within 10 s"
    runner.update_step(
        CheckStep.RESERVE,
        verdict=Verdict.FAILED,
        started_at=now - timedelta(seconds=130),
        finished_at=now - timedelta(seconds=5),
        reason=reason,
        evidence=(frame(1, TraceDirection.OUT, '[2,"1","ReserveNow",{"connectorId":1}]'),),
    )
    runner.update_step(CheckStep.SECOND_RESERVATION, verdict=Verdict.RUNNING, started_at=now)
    dialog.steps_view.selectRow(0)
    assert f"Failed: {reason}" in dialog.evidence_title.text()  # whole, where the cell elides
    view = dialog.steps_view
    qtbot.waitUntil(lambda: view.viewport().width() > 900)
    assert dialog.grab().save(str(tmp_path / "check-dialog-1366.png"))
    header = view.horizontalHeader()
    assert header.sectionSize(StepColumn.REASON) >= 300
    assert header.length() <= view.viewport().width()  # no sideways scrolling
    margin = 2 * view.style().pixelMetric(QStyle.PixelMetric.PM_HeaderMargin, None, header)
    for column in StepColumn:
        text = str(dialog.steps_model.headerData(column, Qt.Orientation.Horizontal))
        needed = header.fontMetrics().horizontalAdvance(text) + margin
        assert header.sectionSize(column) >= needed, column.name
    cells = view.fontMetrics()
    assert cells.horizontalAdvance("2 min 05 s") < header.sectionSize(StepColumn.DURATION)
    assert cells.horizontalAdvance("Running…") + 16 < header.sectionSize(StepColumn.VERDICT)
    # every title whole where the dialog has the room
    longest = max(cells.horizontalAdvance(step.title) for step in dialog.steps_model.result().steps)
    assert header.sectionSize(StepColumn.STEP) > longest
    runner.finish()


def test_the_run_page_follows_the_runner_live(make_dialog, qtbot: QtBot) -> None:
    dialog, factory = make_dialog(connector_id=3)
    dialog.guided_check.setChecked(True)
    runner = start_check(qtbot, dialog, factory, id_tag=" CARD1 ")
    assert runner.request == CheckRequest(
        station_id="CP-01", connectors=(3,), id_tag="CARD1", guided=True
    )
    steps = dialog.steps_model
    assert steps.rowCount() == 9  # the fake plan: steps 1-9, guided
    assert dialog.status_text() == "Starting the check…"

    runner.update_step(
        CheckStep.RESERVE,
        verdict=Verdict.RUNNING,
        started_at=T0,
        evidence=(frame(1, TraceDirection.OUT, '[2,"1","ReserveNow",{"connectorId":3}]'),),
    )
    assert steps.index(0, StepColumn.VERDICT).data() == "Running…"
    assert dialog.status_text().startswith("Running step 1 of 9: Reserve a free connector")
    assert "→" in dialog.evidence_view.toPlainText()  # the running step's frames
    assert "ReserveNow" in dialog.evidence_view.toPlainText()
    runner.update_step(
        CheckStep.RESERVE,
        evidence=(
            frame(1, TraceDirection.OUT, '[2,"1","ReserveNow",{"connectorId":3}]'),
            frame(2, TraceDirection.IN, '[3,"1",{"status":"Accepted"}]'),
        ),
    )
    lines = dialog.evidence_view.toPlainText().splitlines()
    assert len(lines) == 2
    assert "←" in lines[1]
    assert "Accepted" in lines[1]
    runner.update_step(
        CheckStep.RESERVE, verdict=Verdict.PASSED, reason="Accepted, then Reserved", finished_at=T0
    )
    assert steps.index(0, StepColumn.VERDICT).data() == "Passed"
    assert not dialog.prompt_banner.isVisibleTo(dialog)

    prompt = "Present another card (not CARD1) at connector 3"
    runner.update_step(CheckStep.CARDS, verdict=Verdict.RUNNING, started_at=T0, prompt=prompt)
    assert dialog.prompt_text() == prompt
    qtbot.mouseClick(dialog.skip_button, Qt.MouseButton.LeftButton)
    assert runner.skip_calls == 1
    assert not dialog.skip_button.isEnabled()  # once per prompt
    runner.update_step(CheckStep.CARDS, verdict=Verdict.SKIPPED, reason="skipped by the technician")
    assert dialog.prompt_text() is None

    # Selecting a step shows its frames.
    dialog.steps_view.selectRow(0)
    assert "Evidence of step 1 on connector 3: 2 frames" in dialog.evidence_title.text()

    with qtbot.waitSignal(dialog.sig_finished, timeout=5000) as finished:
        runner.finish()
    result = finished.args[0]
    assert isinstance(result, CheckResult)
    assert result.outcome is CheckOutcome.PASSED
    assert dialog.state is CheckState.FINISHED
    assert dialog.status_text() == "Passed — 1 passed, 8 skipped"
    assert not dialog.summary_label.isVisibleTo(dialog)  # no failed step to name
    assert dialog.run_close_button.isEnabled()
    assert not dialog.cancel_button.isEnabled()
    assert not dialog.left_behind_label.isVisibleTo(dialog)
    assert runner.listeners == 0  # unsubscribed
    assert dialog.timeline.result() == result  # the picture shows the final state


def test_cancel_shows_cancelling_until_the_runner_returns(make_dialog, qtbot: QtBot) -> None:
    dialog, factory = make_dialog(connector_id=1)
    runner = start_check(qtbot, dialog, factory)
    runner.update_step(CheckStep.RESERVE, verdict=Verdict.RUNNING, started_at=T0)
    qtbot.mouseClick(dialog.cancel_button, Qt.MouseButton.LeftButton)
    assert runner.cancel_calls == 1
    assert dialog.state is CheckState.CANCELLING
    assert dialog.status_text() == CANCELLING_TEXT
    assert not dialog.cancel_button.isEnabled()
    assert not dialog.run_close_button.isEnabled()
    runner.update_step(CheckStep.RESERVE, verdict=Verdict.SKIPPED, reason="cancelled")
    assert dialog.status_text() == CANCELLING_TEXT  # a late update does not hide it

    with qtbot.waitSignal(dialog.sig_finished, timeout=5000):
        runner.finish(
            CheckOutcome.CANCELLED, reason="cancelled by the technician", left_behind=(7,)
        )
    # Reservations left behind: no "nothing left" promise in the status line.
    assert dialog.status_text() == "Cancelled — 8 skipped (cancelled by the technician)"
    warning = dialog.left_behind_label
    assert warning.isVisibleTo(dialog)
    assert "could not cancel reservation(s) 7 on CP-01" in warning.text()
    assert dialog.isVisible()  # the technician reads the result, then closes
    qtbot.mouseClick(dialog.run_close_button, Qt.MouseButton.LeftButton)
    assert not dialog.isVisible()


def test_a_clean_end_says_nothing_is_left_on_the_station(make_dialog, qtbot: QtBot) -> None:
    dialog, factory = make_dialog()
    runner = start_check(qtbot, dialog, factory)
    span = ReservationSpan(7, 1, "CARD1", T0, T0 + timedelta(seconds=1), "cancelled")
    with qtbot.waitSignal(dialog.sig_finished, timeout=5000):
        runner.finish(CheckOutcome.CANCELLED, reason="check cancelled", spans=(span,))
    assert dialog.status_text() == (
        "Cancelled — 8 skipped (check cancelled) · nothing it reserved is left on the station"
    )
    assert not dialog.left_behind_label.isVisibleTo(dialog)


def test_a_failed_step_is_named_and_its_frames_shown_at_the_end(make_dialog, qtbot) -> None:
    dialog, factory = make_dialog(connector_id=1)
    runner = start_check(qtbot, dialog, factory)
    answer = frame(1, TraceDirection.IN, '[3,"7",{"status":"Accepted"}]')
    runner.update_step(CheckStep.RESERVE, verdict=Verdict.PASSED, reason="ok")
    runner.update_step(
        CheckStep.CANCEL_UNKNOWN,
        verdict=Verdict.FAILED,
        reason="cancelling reservation 3 (never sent): Accepted; expected Rejected",
        evidence=(answer,),
    )
    with qtbot.waitSignal(dialog.sig_finished, timeout=5000):
        runner.finish()
    assert dialog.status_text() == "Failed — 1 passed, 1 failed, 6 skipped"
    assert dialog.summary_label.isVisibleTo(dialog)
    assert dialog.summary_label.text() == (
        "Failed: 4. Cancelling an unknown reservation is Rejected"
    )
    assert dialog.shown_step_row() == 3  # the failed step's frames, without a click
    assert '"status":"Accepted"' in dialog.evidence_view.toPlainText()


LONG_FRAME = (
    '[2,"c-0001","DataTransfer",{"vendorId":"com.example","messageId":"diagnostics","data":"'
    + "0123456789abcdef" * 40
    + '"}]'
)


def test_long_frames_wrap_in_the_evidence(make_dialog, qtbot) -> None:
    dialog, factory = make_dialog(connector_id=1)
    runner = start_check(qtbot, dialog, factory)
    runner.update_step(
        CheckStep.RESERVE,
        verdict=Verdict.FAILED,
        reason="a long frame",
        evidence=(frame(1, TraceDirection.IN, LONG_FRAME),),
    )
    with qtbot.waitSignal(dialog.sig_finished, timeout=5000):
        runner.finish()
    view = dialog.evidence_view
    assert LONG_FRAME in view.toPlainText().replace("\n", "")  # all of it, none elided
    dialog.resize(900, dialog.height())
    qtbot.waitUntil(lambda: view.isVisible() and view.viewport().width() > 100)
    # Wrapped: the frame takes several lines of the view's width, nothing runs off right.
    assert view.horizontalScrollBar().maximum() == 0
    block = view.document().findBlockByNumber(0)
    assert block.layout().lineCount() > 3


def test_closing_while_running_asks_then_cancels_and_closes_after_the_clean_up(
    make_dialog, qtbot: QtBot
) -> None:
    dialog, factory = make_dialog(connector_id=1)
    runner = start_check(qtbot, dialog, factory)

    dialog.close()
    box = dialog.confirm_box
    assert box is not None
    assert box.isVisible()
    assert dialog.isVisible()
    keep = next(b for b in box.buttons() if b.text() == "Keep running")
    qtbot.mouseClick(keep, Qt.MouseButton.LeftButton)
    assert runner.cancel_calls == 0
    assert dialog.state is CheckState.RUNNING

    qtbot.keyClick(dialog, Qt.Key.Key_Escape)  # Esc asks too
    box = dialog.confirm_box
    assert box is not None
    stop = next(b for b in box.buttons() if b.text() == "Stop and close")
    qtbot.mouseClick(stop, Qt.MouseButton.LeftButton)
    assert runner.cancel_calls == 1
    assert dialog.status_text() == CANCELLING_TEXT
    assert dialog.isVisible()  # until the clean-up is done

    dialog.close()  # again, while cancelling: still waits for the clean-up
    assert dialog.isVisible()
    assert runner.cancel_calls == 1
    with qtbot.waitSignal(dialog.finished, timeout=5000):
        runner.finish(CheckOutcome.CANCELLED)
    assert not dialog.isVisible()
    assert dialog.final_result is not None
    assert dialog.final_result.outcome is CheckOutcome.CANCELLED


def test_a_broken_runner_is_logged_and_shown(make_dialog, qtbot: QtBot, caplog) -> None:
    dialog, factory = make_dialog(connector_id=1)
    runner = start_check(qtbot, dialog, factory)
    with (
        qtbot.waitSignal(dialog.sig_failed, timeout=5000) as failed,
        qtbot.assertNotEmitted(dialog.sig_finished),
    ):
        runner.fail(RuntimeError("store is gone"))
    assert "store is gone" in failed.args[0]
    assert "store is gone" in dialog.status_text()
    assert dialog.run_close_button.isEnabled()
    assert any("reservation check failed" in r.getMessage() for r in caplog.records)


def test_a_factory_that_cannot_start_says_why(make_dialog, qtbot: QtBot) -> None:
    def broken(_request: CheckRequest) -> FakeCheckRunner:
        raise RuntimeError("the station disconnected")

    model = site_model()
    dialog = ReservationCheckDialog(model, "CP-01", CheckService(broken), connector_id=1)
    model.setParent(dialog)
    qtbot.addWidget(dialog)
    dialog.id_tag_edit.setText("CARD1")
    with qtbot.waitSignal(dialog.sig_failed, timeout=2000):
        dialog.start()
    assert dialog.state is CheckState.SETUP
    assert "the station disconnected" in dialog.connector_error.text()


# --- the window's "Check reservations…" ------------------------------------------------------


@pytest.fixture
def fake_site() -> FakeCentralSystem:
    central = FakeCentralSystem()
    central.add_site(2, 2)
    central.set_station("CP-02", connected=False)
    return central


def open_window(qtbot: QtBot, central: FakeCentralSystem, **options: object) -> MainWindow:
    window = build_window(central, flush_interval_ms=10, **options)  # type: ignore[arg-type]
    qtbot.addWidget(window)
    window.start()
    window.show()
    return window


def context_menu_texts(window: MainWindow, station_id: str, connector_id: int) -> list[str]:
    index = window.station_proxy.mapFromSource(
        window.station_model.connector_index(station_id, connector_id)
    )
    window.tree.customContextMenuRequested.emit(window.tree.visualRect(index).center())
    menus = [menu for menu in window.findChildren(QMenu) if menu.isVisible()]
    texts = [action.text() for menu in menus for action in menu.actions() if action.isEnabled()]
    for menu in menus:
        menu.close()
        menu.deleteLater()
    return texts


def test_without_a_check_service_the_window_offers_no_check(qtbot, fake_site) -> None:
    window = open_window(qtbot, fake_site)
    try:
        window.select_connector("CP-01", 1)
        assert not window.check_action.isVisible()
        assert window.open_check_dialog("CP-01", 1) is None
        assert not any("Check reservations" in t for t in context_menu_texts(window, "CP-01", 1))
    finally:
        window.allow_close()
        window.close()


def test_the_check_action_follows_the_selection_and_opens_one_dialog_per_station(
    qtbot, fake_site, loop_driver: LoopDriver
) -> None:
    factory = FakeCheckFactory()
    window = open_window(qtbot, fake_site, checks=CheckService(factory))
    try:
        assert window.check_action.isVisible()
        assert window.check_action.shortcut().toString() == "Ctrl+Shift+K"
        assert window.check_action in window.menus.reservation_menu.actions()
        assert not window.check_action.isEnabled()  # nothing selected
        window.select_connector("CP-02", 1)
        assert not window.check_action.isEnabled()  # offline
        window.select_connector("CP-01", 2)
        assert window.check_action.isEnabled()
        assert "Check reservations of CP-01…" in context_menu_texts(window, "CP-01", 2)

        window.check_action.trigger()
        dialog = window.check_dialogs["CP-01"]
        assert dialog.isVisible()
        assert not dialog.isModal()  # the window stays usable while a check runs
        assert dialog.picked_connectors() == [2]  # the connector it was opened from
        window.check_action.trigger()
        assert window.check_dialogs == {"CP-01": dialog}  # the same one again

        runner = start_check(qtbot, dialog, factory)
        with qtbot.waitSignal(window.sig_check_finished, timeout=5000) as finished:
            runner.finish()
        assert finished.args[0].station_id == "CP-01"
        assert "Reservation check of CP-01: passed" in window.statusBar().currentMessage()
        dialog.close()
        assert window.check_dialogs == {}
    finally:
        window.allow_close()
        window.close()


def test_the_console_closing_cancels_a_running_check_and_waits_for_it(
    qtbot, fake_site, loop_driver: LoopDriver
) -> None:
    factory = FakeCheckFactory()
    window = open_window(qtbot, fake_site, checks=CheckService(factory))
    try:
        dialog = window.open_check_dialog("CP-01", 1)
        assert dialog is not None
        runner = start_check(qtbot, dialog, factory)
        assert window.checks is not None
        stopping = loop_driver.loop.create_task(window.checks.stop())
        qtbot.waitUntil(lambda: runner.cancel_calls == 1)
        assert not stopping.done()  # waits for the clean-up
        runner.finish(CheckOutcome.CANCELLED)
        qtbot.waitUntil(stopping.done)
        assert dialog.state is CheckState.FINISHED
    finally:
        window.allow_close()
        window.close()


def test_the_settings_dialog_edits_the_check_timings(qtbot) -> None:
    dialog = SettingsDialog(ConsoleSettings(check_step_timeout=12.5, check_expiry_seconds=30))
    qtbot.addWidget(dialog)
    titles = [dialog.tabs.tabText(i) for i in range(dialog.tabs.count())]
    assert "Reservation check" in titles
    assert dialog.check_step_timeout_spin.value() == 12.5
    assert dialog.check_expiry_spin.value() == 30
    dialog.check_expiry_spin.setValue(45)
    edited = dialog.settings()
    assert (edited.check_step_timeout, edited.check_expiry_seconds) == (12.5, 45)
    # Used by the next check as they are: saving them restarts nothing.
    assert not changed_fields(ConsoleSettings(), edited) - {
        "check_step_timeout",
        "check_expiry_seconds",
    }
    assert not changed_fields(ConsoleSettings(), edited) & RESTART_FIELDS


# --- end to end: the real check against a simulated station -----------------------------------

E2E_OPTIONS = CheckOptions(step_timeout=4.0, expiry_seconds=2.0, guided_timeout=20.0)
E2E_WAIT_MS = 20_000


@dataclass
class RealSite:
    central: CentralSystem
    simulator: SiteSimulator
    window: MainWindow


@pytest.fixture
def real_site(qtbot, loop_driver: LoopDriver, data_dir: Path) -> Iterator[RealSite]:
    """The window on a real Central System with one correct simulated station, CP-01."""
    central = CentralSystem(
        CentralSystemConfig(
            host="127.0.0.1", port=0, data_dir=data_dir, call_timeout=4.0, ping_interval=None
        )
    )
    loop_driver.run(central.start())
    simulator = SiteSimulator(
        f"ws://127.0.0.1:{central.port}",
        connectors=2,
        station_specs=[("CP-01", Behaviour.NORMAL)],
        options=SimulationOptions(client=ClientOptions(backoff_initial=0.1, backoff_max=0.5)),
    )
    window = build_window(
        central, flush_interval_ms=20, checks=CheckService(check_factory(central, E2E_OPTIONS))
    )
    qtbot.addWidget(window)
    try:
        window.start()
        window.show()
        loop_driver.run(simulator.start())
        loop_driver.run(asyncio.wait_for(simulator.wait_booted(), 20))
        qtbot.waitUntil(
            lambda: (
                (c := window.station_model.connector("CP-01", 1)) is not None
                and c.status is ChargePointStatus.AVAILABLE
            ),
            timeout=E2E_WAIT_MS,
        )
        yield RealSite(central, simulator, window)
    finally:
        window.allow_close()
        window.close()
        loop_driver.run(simulator.stop())
        loop_driver.run(central.stop())


def open_real_dialog(qtbot, window: MainWindow) -> ReservationCheckDialog:
    window.select_connector("CP-01", 1)
    window.check_action.trigger()
    dialog = window.check_dialogs["CP-01"]
    assert dialog.picked_connectors() == [1]
    qtbot.keyClicks(dialog.id_tag_edit, "CHECK-TAG")
    return dialog


def test_the_real_check_passes_a_correct_simulated_station(
    qtbot, real_site: RealSite, tmp_path: Path
) -> None:
    dialog = open_real_dialog(qtbot, real_site.window)
    # Screenshots for a person to look at: OCPP_CONSOLE_SHOTS=/tmp keeps them.
    shots = Path(os.environ.get("OCPP_CONSOLE_SHOTS", str(tmp_path)))
    with qtbot.waitSignal(dialog.sig_finished, timeout=60_000) as finished:
        qtbot.mouseClick(dialog.start_button, Qt.MouseButton.LeftButton)
        dialog.resize(1060, 760)  # the offscreen screen is small; show the intended size
        qtbot.waitUntil(
            lambda: dialog.steps_model.index(1, StepColumn.VERDICT).data() == "Passed",
            timeout=E2E_WAIT_MS,
        )
        assert dialog.state is CheckState.RUNNING
        assert "GetConfiguration" in _evidence_of(dialog, 0)  # step 0, the probe
        assert "ReserveNow" in _evidence_of(dialog, 1)
        assert dialog.grab().save(str(shots / "check_dialog_running.png"))
    result: CheckResult = finished.args[0]
    assert dialog.grab().save(str(shots / "check_dialog_finished.png"))

    assert result.outcome is CheckOutcome.PASSED, [(s.step, s.reason) for s in result.steps]
    assert {s.step for s in result.steps} == set(CheckStep) - {
        CheckStep.CARDS,
        CheckStep.CONNECTOR_TYPE,  # 2.0.1 only
    }
    assert all(s.verdict is Verdict.PASSED for s in result.steps)
    assert result.left_behind == ()
    assert dialog.status_text().startswith("Passed — 13 passed")  # the probe too
    assert not dialog.left_behind_label.isVisibleTo(dialog)
    # Everything the check reserved was cancelled or expired.
    assert not [r.reservation_id for r in real_site.central.reservations() if r.active]


def test_cancelling_the_real_check_midway_leaves_nothing_on_the_station(
    qtbot, real_site: RealSite
) -> None:
    dialog = open_real_dialog(qtbot, real_site.window)
    station = real_site.simulator.station("CP-01")
    with qtbot.waitSignal(dialog.sig_finished, timeout=60_000) as finished:
        qtbot.mouseClick(dialog.start_button, Qt.MouseButton.LeftButton)
        # Cancel while the station holds a reservation the check made.
        qtbot.waitUntil(lambda: bool(station.engine.reservations), timeout=E2E_WAIT_MS)
        qtbot.mouseClick(dialog.cancel_button, Qt.MouseButton.LeftButton)
        assert dialog.status_text() == CANCELLING_TEXT
    result: CheckResult = finished.args[0]
    assert result.outcome is CheckOutcome.CANCELLED
    assert result.left_behind == ()
    assert list(station.engine.reservations) == []  # the clean-up cancelled what it held
    assert dialog.status_text().startswith("Cancelled")
    assert not [r.reservation_id for r in real_site.central.reservations() if r.active]


def _evidence_of(dialog: ReservationCheckDialog, row: int) -> str:
    step = dialog.steps_model.step(row)
    return "\n".join(evidence_lines(step.evidence)) if step is not None else ""


def test_the_app_times_each_check_by_the_settings_of_that_moment(data_dir: Path) -> None:
    central = CentralSystem(CentralSystemConfig(host="127.0.0.1", port=0, data_dir=data_dir))
    settings = [ConsoleSettings(check_step_timeout=7.5, check_expiry_seconds=30)]
    make = console_app._reservation_checks(central, lambda: settings[0])
    request = CheckRequest(station_id="CP-01", connectors=[1], id_tag="CARD1")
    first = make(request)
    settings[0] = ConsoleSettings(check_step_timeout=3.0, check_expiry_seconds=12)
    second = make(request)  # changed in Settings: the next check uses it, no restart
    assert isinstance(first, ReservationCheck)
    assert isinstance(second, ReservationCheck)
    # The options are the runner's own business; this is the one place that shows them.
    assert (first._options.step_timeout, first._options.expiry_seconds) == (7.5, 30)
    assert (second._options.step_timeout, second._options.expiry_seconds) == (3.0, 12)
