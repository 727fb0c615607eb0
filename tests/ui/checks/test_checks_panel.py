"""The reservation checks panel: the stored checks, the chosen one in full, and its export."""

from __future__ import annotations

import csv
import json
import logging
import os
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QImage
from PySide6.QtWidgets import QApplication, QStyle, QTableView, QWidget
from pytestqt.qtbot import QtBot

from console.app import build_window
from console.central.check.codec import CHECK_CSV_COLUMNS, check_from_dict
from console.central.check.model import CheckOutcome, CheckResult, Verdict
from console.ui import export_folder
from console.ui.checks.check_export import (
    PICTURE_WIDTH,
    CheckExportDialog,
    CheckExportFormat,
    export_check,
)
from console.ui.checks.check_list_model import CheckColumn, CheckListModel
from console.ui.checks.check_steps_model import StepColumn
from console.ui.checks.check_timeline import TimelineLook, image_font, timeline_layout
from console.ui.checks.checks_panel import ChecksPanel, evidence_text
from console.ui.look.color_scheme import dark_palette, scheme_style_sheet
from console.ui.trace.export import ExportDialog
from tests.ui.fakes import CHECK_T0, FakeCentralSystem, sample_check_result

pytestmark = pytest.mark.qt_log_ignore("This plugin does not support")


class Archive:
    """A CheckArchive holding fixed results (oldest first, as the Central System gives them)."""

    def __init__(self, results: list[CheckResult]) -> None:
        self.results = results

    def checks(self) -> list[CheckResult]:
        return list(self.results)


class BrokenArchive:
    def checks(self) -> list[CheckResult]:
        raise OSError("database is locked")


def three_checks() -> list[CheckResult]:
    return [
        sample_check_result("CP-01", check_id=1),
        replace(
            sample_check_result(
                "CP-02",
                check_id=2,
                started_at=CHECK_T0 + timedelta(minutes=5),
                outcome=CheckOutcome.PASSED,
            ),
            firmware_version="2.0.1",
        ),
        sample_check_result(
            "CP-03", check_id=3, started_at=CHECK_T0 + timedelta(minutes=9), left_behind=(107,)
        ),
    ]


def make_panel(qtbot: QtBot, archive: object | None, tmp_path: Path | None = None) -> ChecksPanel:
    folder = tmp_path or Path.home()
    panel = ChecksPanel(archive, default_folder=lambda: folder)  # type: ignore[arg-type]
    qtbot.addWidget(panel)
    panel.resize(1400, 520)
    return panel


def shown_column(panel: ChecksPanel, column: CheckColumn) -> list[str]:
    return [panel.proxy.index(row, column).data() for row in range(panel.proxy.rowCount())]


def test_the_list_model_passes_the_model_tester(qtmodeltester, qapp) -> None:
    model = CheckListModel()
    model.set_results(three_checks())
    qtmodeltester.check(model, force_py=True)
    assert model.rowCount() == 3
    first = model.index(0, CheckColumn.OUTCOME)
    assert first.data() == "Failed"
    assert first.data(Qt.ItemDataRole.BackgroundRole) is not None
    assert model.index(0, CheckColumn.FAILED).data() == "1"
    assert model.index(1, CheckColumn.FIRMWARE).data() == "2.0.1"
    assert model.index(0, CheckColumn.IDENTITY).data() == "Acme Wallbox 22"
    assert "SN-0042" in model.index(0, CheckColumn.IDENTITY).data(Qt.ItemDataRole.ToolTipRole)
    assert model.index(2, CheckColumn.OUTCOME).data() == "Failed ⚠"
    assert "107" in model.index(2, CheckColumn.OUTCOME).data(Qt.ItemDataRole.ToolTipRole)
    # A newer copy of a run replaces its row; another run is added.
    row = model.add_result(replace(three_checks()[1], outcome=CheckOutcome.FAILED))
    assert row == 1
    assert model.rowCount() == 3
    assert model.index(1, CheckColumn.OUTCOME).data() == "Failed"
    model.add_result(sample_check_result("CP-04", check_id=None))
    assert model.rowCount() == 4
    qtmodeltester.check(model, force_py=True)


def test_stored_checks_are_listed_newest_first_and_the_newest_is_shown(
    qtbot: QtBot, tmp_path: Path
) -> None:
    panel = make_panel(qtbot, Archive(three_checks()))
    panel.show()
    qtbot.waitExposed(panel)
    assert shown_column(panel, CheckColumn.STATION) == ["CP-03", "CP-02", "CP-01"]
    chosen = panel.selected_result()
    assert chosen is not None
    assert chosen.station_id == "CP-03"
    assert panel.timeline.result() == chosen
    assert panel.steps_model.rowCount() == 9
    summary = panel.summary.text()
    for text in ("CP-03", "Acme Wallbox 22", "firmware 1.4.2", "SN-0042", "CHECK-TAG", "Failed"):
        assert text in summary
    assert "7 passed, 1 failed, 1 skipped" in summary
    # The failed step is chosen first, its frames shown.
    current = panel.steps_table.currentIndex()
    assert panel.steps_model.index(current.row(), StepColumn.VERDICT).data() == "Failed"
    assert "ReserveNow" in panel.evidence.toPlainText()
    assert "CALLRESULT" in panel.evidence.toPlainText()
    # Left behind: said loudly.
    assert panel.left_behind_label.isVisible()
    assert "107" in panel.left_behind_label.text()
    assert panel.count_label.text() == "3 checks, newest first"
    _keep_shot(panel, "checks_panel.png")
    # Another check: its own steps, no warning.
    panel.select_row(1)
    chosen = panel.selected_result()
    assert chosen is not None
    assert chosen.station_id == "CP-02"
    assert not panel.left_behind_label.isVisible()
    panel.select_step(0)
    assert panel.evidence.toPlainText().startswith("Step 1: Reserve a free connector")


def test_the_timeline_gets_the_room_it_needs(qtbot: QtBot) -> None:
    panel = make_panel(qtbot, Archive(three_checks()))
    panel.show()
    qtbot.waitExposed(panel)
    wanted = panel.timeline.preferred_height(panel.timeline_scroll.viewport().width())
    qtbot.waitUntil(lambda: panel.detail_splitter.sizes()[0] >= wanted)


def test_a_finished_check_is_added_and_shown_and_a_newer_copy_replaces_it(qtbot: QtBot) -> None:
    panel = make_panel(qtbot, Archive(three_checks()))
    later = CHECK_T0 + timedelta(minutes=20)
    running = sample_check_result("CP-07", check_id=None, started_at=later, finished=False)
    panel.add_result(running)
    assert panel.model.rowCount() == 4
    chosen = panel.selected_result()
    assert chosen is not None
    assert chosen.station_id == "CP-07"
    assert chosen.outcome is CheckOutcome.RUNNING
    panel.select_step(2)
    done = replace(
        sample_check_result("CP-07", check_id=12, started_at=later),
        outcome=CheckOutcome.PASSED,
        reason="",
    )
    panel.add_result(done)
    assert panel.model.rowCount() == 4
    assert panel.selected_result() == done
    assert panel.steps_table.currentIndex().row() == 2  # the chosen step stays chosen
    assert shown_column(panel, CheckColumn.STATION)[0] == "CP-07"
    assert shown_column(panel, CheckColumn.OUTCOME)[0] == "Passed"
    # While another check is read, a newer copy of a listed run does not take the view away.
    panel.select_row(2)
    reading = panel.selected_result()
    assert reading is not None
    assert reading.station_id != "CP-07"
    panel.add_result(replace(done, reason="stored again"))
    assert panel.selected_result() == reading
    assert panel.model.rowCount() == 4


def test_without_an_archive_the_panel_is_empty_and_says_what_to_do(
    qtbot: QtBot, caplog: pytest.LogCaptureFixture
) -> None:
    panel = make_panel(qtbot, None)
    assert panel.model.rowCount() == 0
    assert "No reservation check has run yet" in panel.summary.text()
    assert not panel.export_action.isEnabled()
    assert panel.timeline.result() is None
    assert panel.open_export_dialog() is None
    with caplog.at_level(logging.ERROR):
        broken = make_panel(qtbot, BrokenArchive())
    assert broken.model.rowCount() == 0
    assert "reading the stored reservation checks failed" in caplog.text
    broken.add_result(sample_check_result())
    assert broken.export_action.isEnabled()


def test_evidence_text_lists_every_frame_with_direction_and_latency() -> None:
    step = sample_check_result().steps[0]
    text = evidence_text(step)
    assert text.splitlines()[0] == "Step 1: Reserve a free connector — 2 frames"
    assert "→ out  CALL  ReserveNow" in text
    assert "← in  CALLRESULT  ReserveNow  (40 ms)" in text
    assert step.evidence[0].text in text
    no_frames = next(s for s in sample_check_result().steps if not s.evidence)
    assert "no frame was exchanged" in evidence_text(no_frames)
    assert evidence_text(None) == ""


def test_long_frames_wrap_in_the_panel_evidence(qtbot: QtBot) -> None:
    result = sample_check_result()
    step = result.steps[0]
    long_text = '[3,"m0",{"data":"' + "0123456789abcdef" * 40 + '"}]'
    long_step = replace(step, evidence=(replace(step.evidence[0], text=long_text),))
    panel = make_panel(qtbot, Archive([replace(result, steps=(long_step, *result.steps[1:]))]))
    panel.resize(1000, 700)
    panel.show()
    qtbot.waitExposed(panel)
    panel.select_step(0)
    view = panel.evidence
    assert long_text in view.toPlainText()
    qtbot.waitUntil(lambda: view.viewport().width() > 100)
    assert view.horizontalScrollBar().maximum() == 0
    lines = [
        view.document().findBlockByNumber(n).layout().lineCount()
        for n in range(view.document().blockCount())
    ]
    assert max(lines) > 3  # the frame's one line, wrapped


# --- export ---------------------------------------------------------------------------------


def open_dialog(panel: ChecksPanel) -> CheckExportDialog:
    panel.export_action.trigger()
    dialog = panel.dialog
    assert isinstance(dialog, CheckExportDialog)
    return dialog


def test_export_json_with_the_timeline_picture(qtbot: QtBot, tmp_path: Path) -> None:
    panel = make_panel(qtbot, Archive(three_checks()), tmp_path)
    chosen = panel.selected_result()
    assert chosen is not None
    dialog = open_dialog(panel)
    assert dialog.kind() is CheckExportFormat.JSON
    assert dialog.path().parent == tmp_path
    assert dialog.path().name.startswith("reservation-check-CP-03-")
    assert dialog.path().suffix == ".json"
    assert dialog.picture()
    target = tmp_path / "out" / "check.json"  # the folder does not exist yet
    dialog.path_edit.setText(str(target))
    with qtbot.waitSignal(panel.sig_exported, timeout=10_000) as exported:
        dialog.buttons.accepted.emit()
    assert exported.args == [[str(target), str(target.with_suffix(".png"))]]
    data = json.loads(target.read_text(encoding="utf-8"))
    assert check_from_dict(data) == chosen
    picture = QImage(str(target.with_suffix(".png")))
    assert not picture.isNull()
    assert picture.width() >= 2000  # drawn twice as dense as its logical width
    assert sorted(p.name for p in target.parent.iterdir()) == ["check.json", "check.png"]


def test_export_csv_one_row_per_step_without_picture(qtbot: QtBot, tmp_path: Path) -> None:
    panel = make_panel(qtbot, Archive(three_checks()), tmp_path)
    panel.select_row(2)  # CP-01
    dialog = open_dialog(panel)
    dialog.set_kind(CheckExportFormat.CSV)
    assert dialog.path().suffix == ".csv"  # the extension follows the format
    dialog.picture_check.setChecked(False)
    target = tmp_path / "steps.csv"
    dialog.path_edit.setText(str(target))
    with qtbot.waitSignal(panel.sig_message, timeout=10_000) as message:
        dialog.buttons.accepted.emit()
    assert str(target) in message.args[0]
    with target.open(encoding="utf-8", newline="") as stream:
        rows = list(csv.reader(stream))
    assert tuple(rows[0]) == CHECK_CSV_COLUMNS
    assert len(rows) == 1 + 9
    column = {name: number for number, name in enumerate(rows[0])}
    assert {row[column["station_id"]] for row in rows[1:]} == {"CP-01"}
    verdicts = [row[column["verdict"]] for row in rows[1:]]
    assert verdicts.count(Verdict.FAILED.value) == 1
    assert not target.with_suffix(".png").exists()


def test_browsing_fills_the_path_and_a_failed_export_says_why(qtbot: QtBot, tmp_path: Path) -> None:
    panel = make_panel(qtbot, Archive(three_checks()), tmp_path)
    dialog = open_dialog(panel)
    file_dialog = dialog.browse()
    assert file_dialog.testOption(file_dialog.Option.DontUseNativeDialog)
    chosen = str(tmp_path / "picked.json")
    file_dialog.fileSelected.emit(chosen)
    assert dialog.path_edit.text() == chosen
    file_dialog.reject()
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder", encoding="utf-8")
    dialog.path_edit.setText(str(blocker / "check.json"))
    with qtbot.waitSignal(panel.sig_failed, timeout=10_000) as failed:
        dialog.buttons.accepted.emit()
    assert str(blocker / "check.json") in failed.args[0]


def test_export_check_leaves_no_part_file(tmp_path: Path, qapp) -> None:
    result = sample_check_result()
    written = export_check(result, tmp_path / "x.json", CheckExportFormat.JSON, picture=True)
    assert [p.name for p in written] == ["x.json", "x.png"]
    assert not list(tmp_path.glob("*.part"))


def test_the_exported_picture_says_whose_check_how_it_ended_and_the_expiry(
    tmp_path: Path, qapp
) -> None:
    result = sample_check_result("CP-77", outcome=CheckOutcome.FAILED)
    [_, png] = export_check(result, tmp_path / "x.json", CheckExportFormat.JSON, picture=True)
    picture = QImage(str(png))
    # In its PNG text fields (a file browser, a script) ...
    assert picture.text("Station") == "CP-77"
    assert picture.text("Outcome") == "failed"
    assert picture.text("Title") == "Reservation check of CP-77: failed"
    assert picture.text("Started") == "2026-11-25T14:00:00.000Z"
    # ... and in the picture: its heading is the one the timeline draws for this result
    # (station and outcome), and step 7's expiryDate is marked on its reservation.
    layout = timeline_layout(
        QRectF(0, 0, PICTURE_WIDTH, 10_000), result, image_font(), heading=True
    )
    heading = layout.heading
    assert heading is not None
    assert heading.title == "Reservation check of CP-77"
    assert heading.outcome == "FAILED"
    ratio = picture.width() / PICTURE_WIDTH
    chip = heading.outcome_rect
    fill = picture.pixelColor(int((chip.left() + 3) * ratio), int(chip.center().y() * ratio))
    assert fill.name() == QColor(heading.outcome_colours[1]).name()
    bar = next(b for lane in layout.lanes for b in lane.spans if b.span.reservation_id == 107)
    assert bar.expiry_x is not None
    marker = picture.pixelColor(int(bar.expiry_x * ratio), int(bar.rect.center().y() * ratio))
    assert marker.name() == QColor(TimelineLook.paper().expiry).name()
    assert "expiry" in [item.kind for item in layout.legend]


# --- in the window --------------------------------------------------------------------------


def test_the_window_lists_stored_checks_and_adds_each_finished_one(qtbot: QtBot) -> None:
    window = build_window(
        FakeCentralSystem(), flush_interval_ms=20, check_archive=Archive(three_checks())
    )
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    # As in the app: the first-start layout is in place long before a check ends.
    qtbot.waitUntil(lambda: window.default_layout_applied)
    dock = window.checks_dock
    # a tab of the bottom area, beside the reservations and the trace
    assert dock in window.tabifiedDockWidgets(window.trace_tools.dock)
    assert window.checks_panel.model.rowCount() == 3
    assert dock.toggleViewAction() in window.menus.view_menu.actions()
    finished = sample_check_result("CP-05", check_id=9, started_at=CHECK_T0 + timedelta(hours=1))
    window.sig_check_finished.emit(finished)
    assert window.checks_panel.model.rowCount() == 4
    assert window.checks_panel.selected_result() == finished
    assert dock.isVisible()
    qtbot.waitUntil(lambda: not dock.visibleRegion().isEmpty())
    qtbot.waitUntil(lambda: dock.height() >= window.height() * 0.4)
    _keep_shot(window, "checks_window.png")
    window.allow_close()
    window.close()


def test_the_window_proposes_the_folder_a_check_was_exported_to(
    qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    documents = tmp_path / "Documents"
    documents.mkdir()
    monkeypatch.setattr(
        export_folder.QStandardPaths, "writableLocation", lambda _location: str(documents)
    )
    window = build_window(FakeCentralSystem(), check_archive=Archive(three_checks()))
    qtbot.addWidget(window)
    panel = window.checks_panel
    dialog = open_dialog(panel)
    assert dialog.path().parent == documents
    started = dialog.check.started_at.astimezone().strftime("%Y-%m-%d-%H%M%S")
    assert dialog.path().name == f"reservation-check-CP-03-{started}.json"
    target = tmp_path / "site-b" / "check.json"
    dialog.path_edit.setText(str(target))
    with qtbot.waitSignal(panel.sig_exported, timeout=10_000):
        dialog.buttons.accepted.emit()
    # The next export of anything starts in that folder.
    assert open_dialog(panel).path().parent == target.parent
    window.trace_tools.export_trace_action.trigger()
    trace_dialog = window.trace_tools.dialog
    assert isinstance(trace_dialog, ExportDialog)
    assert trace_dialog.options().path.parent == target.parent
    window.allow_close()
    window.close()


def test_without_an_archive_the_window_has_an_empty_checks_panel(qtbot: QtBot) -> None:
    window = build_window(FakeCentralSystem())
    qtbot.addWidget(window)
    assert window.checks_panel.model.rowCount() == 0
    assert not window.checks_panel.export_action.isEnabled()
    window.allow_close()
    window.close()


@pytest.fixture
def restore_look(qapp: QApplication) -> Iterator[None]:
    palette, sheet = qapp.palette(), qapp.styleSheet()
    yield
    qapp.setPalette(palette)
    qapp.setStyleSheet(sheet)


def header_text_fits(table: QTableView, column: int, *, sort_arrow: int = 0) -> bool:
    header = table.horizontalHeader()
    text = str(table.model().headerData(column, Qt.Orientation.Horizontal))
    margin = table.style().pixelMetric(QStyle.PixelMetric.PM_HeaderMargin, None, header)
    needed = header.fontMetrics().horizontalAdvance(text) + 2 * margin + sort_arrow
    return header.sectionSize(column) >= needed


@pytest.mark.parametrize("size", [(1366, 768), (1920, 1080)], ids=["laptop", "full-hd"])
@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
def test_the_panel_is_readable_on_a_laptop_and_a_full_hd_screen(
    qtbot: QtBot, qapp: QApplication, restore_look: None, tmp_path: Path, size, dark: bool
) -> None:
    if dark:
        qapp.setPalette(dark_palette())
    qapp.setStyleSheet(scheme_style_sheet(dark))
    stored = [
        sample_check_result("CP-01", check_id=1),
        replace(
            sample_check_result("CP-02", check_id=2, outcome=CheckOutcome.CANCELLED),
            left_behind=(107,),
        ),
    ]
    window = build_window(FakeCentralSystem(), flush_interval_ms=20, check_archive=Archive(stored))
    qtbot.addWidget(window)
    window.resize(*size)
    window.show()
    qtbot.waitExposed(window)
    qtbot.waitUntil(lambda: window.default_layout_applied)
    # As when a check ends: the panel in front, with the room the window gives it then.
    window.show_check(stored[0])
    panel = window.checks_panel
    assert panel.model.rowCount() == 2
    qtbot.waitUntil(lambda: not panel.visibleRegion().isEmpty())
    qtbot.waitUntil(lambda: panel.steps_table.viewport().width() > 300)
    qtbot.waitUntil(lambda: window.checks_dock.height() >= window.height() * 0.3)
    qapp.processEvents()  # the panel's deferred arrangement
    failed_row = next(
        row for row in range(9) if panel.steps_model.step(row).verdict.value == "failed"
    )
    panel.select_step(failed_row)
    shot = tmp_path / f"checks-{size[0]}-{'dark' if dark else 'light'}.png"
    assert window.grab().save(str(shot))

    assert not panel.is_stacked()  # side by side on both screens
    steps = panel.steps_table
    steps_header = steps.horizontalHeader()
    assert steps_header.sectionSize(StepColumn.REASON) >= 200
    # every column in view: no sideways scrolling to reach the Duration
    assert steps_header.length() <= steps.viewport().width()
    for column in StepColumn:
        if column != StepColumn.REASON:
            assert header_text_fits(steps, column), column.name
    # the narrow cells hold their widest texts
    metrics = steps.fontMetrics()
    assert metrics.horizontalAdvance("station") < steps_header.sectionSize(StepColumn.CONNECTOR)
    assert metrics.horizontalAdvance("Running…") + 16 < steps_header.sectionSize(StepColumn.VERDICT)
    assert metrics.horizontalAdvance("2 min 05 s") < steps_header.sectionSize(StepColumn.DURATION)
    assert panel.evidence.width() >= 200
    # the whole reason leads the frames of the chosen step
    assert "Failed: still Reserved 20 s after the expiry" in panel.evidence.toPlainText()

    table = panel.table
    shown = [c for c in CheckColumn if not table.isColumnHidden(c)]
    assert table.horizontalHeader().length() <= table.viewport().width()
    for column in shown:
        assert header_text_fits(table, column, sort_arrow=12), column.name
    if size[0] >= 1920:
        assert shown == list(CheckColumn)
    else:
        # vendor / model is left out on a laptop: the summary and the tooltip say it
        assert shown == [c for c in CheckColumn if c != CheckColumn.IDENTITY]
        tooltip = panel.proxy.index(0, CheckColumn.STATION).data(Qt.ItemDataRole.ToolTipRole)
        assert "Acme Wallbox 22" in tooltip
        assert "firmware" in tooltip
    window.allow_close()
    window.close()


def test_a_narrow_panel_puts_the_list_above_the_details(qtbot: QtBot) -> None:
    panel = make_panel(qtbot, Archive(three_checks()))
    panel.show()
    qtbot.waitExposed(panel)
    assert not panel.is_stacked()
    panel.resize(900, 600)
    qtbot.waitUntil(panel.is_stacked)
    assert not any(panel.table.isColumnHidden(c) for c in CheckColumn)
    list_height, detail_height = panel.splitter.sizes()
    assert detail_height > 2 * list_height  # the details keep the room
    panel.resize(1600, 600)
    qtbot.waitUntil(lambda: not panel.is_stacked())
    assert not any(panel.table.isColumnHidden(c) for c in CheckColumn)
    # a short panel (a strip of the bottom dock area) stays side by side: stacked, its
    # minimum height would grow the dock area
    panel.resize(900, 300)
    assert not panel.is_stacked()
    assert panel.table.isColumnHidden(CheckColumn.IDENTITY)


def _keep_shot(widget: QWidget, name: str) -> None:
    """A screenshot for a person to look at, only when asked: OCPP_CONSOLE_SHOTS=/tmp."""
    folder = os.environ.get("OCPP_CONSOLE_SHOTS")
    if folder:
        assert widget.grab().save(str(Path(folder) / name))
