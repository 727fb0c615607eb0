"""Exports: the JSON Lines and CSV formats, and exporting from the window (real site)."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QMessageBox, QWidget

from console.central.export import (
    RESERVATION_CSV_COLUMNS,
    iso_utc,
    reservation_csv_row,
    trace_entry_json,
    trace_jsonl_line,
    write_reservations_csv,
    write_trace_jsonl,
)
from console.central.model import (
    ReservationRecord,
    ReservationState,
    TraceAppended,
    TraceDirection,
    TraceEntry,
)
from console.chargepoint.simulator import Behaviour
from console.ocpp.reservation import ReservationStatus
from console.ui import export_folder
from console.ui.export_folder import ExportFolder
from console.ui.report.report import ReportRunner
from console.ui.trace import trace_tools
from console.ui.trace.export import ExportDialog, ExportKind, ExportOptions, ExportRunner
from console.ui.trace.trace_tools import TraceTools
from tests.ui.export_site import (  # noqa: F401 (the fixture)
    Site,
    make_site_fixture,
    secrets,
)
from tests.ui.fakes import FakeCentralSystem

pytestmark = pytest.mark.qt_log_ignore("This plugin does not support")

T0 = datetime(2026, 11, 25, 10, 0, 0, 123456, tzinfo=UTC)
JSONL_KEYS = {
    "seq",
    "time",
    "station",
    "direction",
    "message_type",
    "id",
    "action",
    "latency_s",
    "late",
    "error_code",
    "note",
    "ocpp_version",
    "frame",
}


# --- formats --------------------------------------------------------------------------------


def test_jsonl_line_holds_the_metadata_and_the_parsed_frame() -> None:
    entry = TraceEntry(
        seq=7,
        at=T0,
        station_id="CP-01",
        direction=TraceDirection.IN,
        text='[4,"c2","NotSupported","no",{}]',
        message_type=4,
        message_id="c2",
        action="ReserveNow",
        latency=0.031,
        error_code="NotSupported",
    )
    line = trace_jsonl_line(entry)
    assert line.endswith("\n")
    assert line.count("\n") == 1
    obj = json.loads(line)
    assert set(obj) == JSONL_KEYS
    assert obj["time"] == "2026-11-25T10:00:00.123Z"
    assert obj["direction"] == "in"
    assert obj["message_type"] == "CALLERROR"
    assert obj["frame"] == [4, "c2", "NotSupported", "no", {}]
    assert (obj["id"], obj["action"], obj["latency_s"], obj["late"]) == (
        "c2",
        "ReserveNow",
        0.031,
        False,
    )
    event = TraceEntry(
        1, T0, "CP-09", TraceDirection.EVENT, "refused (401)", note="handshake refused"
    )
    assert trace_entry_json(event)["frame"] == "refused (401)"  # not JSON: the raw text
    assert trace_entry_json(event)["message_type"] is None


def test_csv_row_of_an_attempt(tmp_path: Path) -> None:
    record = ReservationRecord(
        reservation_id=12,
        station_id="CP-02",
        connector_id=1,
        id_tag="TECH-1",
        parent_id_tag="FLEET",
        expiry_date=T0 + timedelta(hours=1),
        created_at=T0,
        state=ReservationState.USED,
        confirmation=ReservationStatus.ACCEPTED,
        transaction_id=55,
        answered_at=T0 + timedelta(milliseconds=40),
        latency=0.04,
    )
    row = dict(zip(RESERVATION_CSV_COLUMNS, reservation_csv_row(record), strict=True))
    assert row["reservation_id"] == "12"
    assert row["parent_id_tag"] == "FLEET"
    assert row["created"] == iso_utc(T0)
    assert row["expiry"] == "2026-11-25T11:00:00.123Z"
    assert (row["answer"], row["state"], row["transaction_id"]) == ("Accepted", "used", "55")
    assert row["latency_s"] == "0.040"
    path = tmp_path / "r.csv"
    assert write_reservations_csv(path, [record, record]) == 2
    rows = list(csv.reader(path.read_text(encoding="utf-8").splitlines()))
    assert rows[0] == list(RESERVATION_CSV_COLUMNS)
    assert len(rows) == 3
    assert write_trace_jsonl(tmp_path / "t.jsonl", []) == 0


# --- from the window ------------------------------------------------------------------------


def read_jsonl(path: Path) -> list[dict[str, object]]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines]


def export_through_the_dialog(
    site: Site, kind: ExportKind, path: Path, station: str | None
) -> None:
    tools = site.window.trace_tools
    action = (
        tools.export_trace_action if kind is ExportKind.TRACE else tools.export_reservations_action
    )
    action.trigger()
    dialog = tools.dialog
    assert isinstance(dialog, ExportDialog)
    assert dialog.isVisible()
    dialog.set_station(station)
    dialog.path_edit.setText(str(path))
    with site.qtbot.waitSignal(tools.exporter.sig_finished, timeout=20_000):
        dialog.buttons.accepted.emit()


@pytest.fixture
def site(make_site: Callable[[list[tuple[str, Behaviour]]], Site]) -> Site:
    site = make_site([("CP-01", Behaviour.NORMAL), ("CP-02", Behaviour.NO_RESERVATIONS)])
    site.refuse_a_station("CP-09")
    assert site.reserve("CP-01", 1, "TECH-0001").state is ReservationState.ACCEPTED
    assert site.reserve("CP-02", 2, "TECH-0002").state is ReservationState.REJECTED
    return site


def test_trace_export_of_one_station_from_the_database(site: Site, tmp_path: Path) -> None:
    path = tmp_path / "cp01.jsonl"
    export_through_the_dialog(site, ExportKind.TRACE, path, "CP-01")
    lines = read_jsonl(path)
    stored = site.driver.run(site.central.stored_trace(limit=100_000, station_id="CP-01"))
    assert [line["seq"] for line in lines] == [entry.seq for entry in stored]
    assert all(set(line) == JSONL_KEYS for line in lines)
    assert {line["station"] for line in lines} == {"CP-01"}
    times = [str(line["time"]) for line in lines]
    assert all(t.endswith("Z") and "T" in t for t in times)
    assert times == sorted(times)
    reserve = next(
        line for line in lines if line["action"] == "ReserveNow" and line["message_type"] == "CALL"
    )
    frame = reserve["frame"]
    assert isinstance(frame, list)
    assert frame[0] == 2
    assert frame[2] == "ReserveNow"
    assert frame[3]["idTag"] == "TECH-0001"
    assert reserve["ocpp_version"] == "1.6"
    answer = next(
        line
        for line in lines
        if line["id"] == reserve["id"] and line["message_type"] == "CALLRESULT"
    )
    assert answer["direction"] == "in"
    assert answer["frame"][2] == {"status": "Accepted"}
    assert isinstance(answer["latency_s"], float)
    boot = next(line for line in lines if line["action"] == "BootNotification")
    assert boot["direction"] == "in"
    # No secret, whatever the station sent in its handshake.
    text = path.read_text(encoding="utf-8")
    for secret in secrets(["CP-01"]):
        assert secret not in text


def test_trace_export_of_all_stations_holds_the_refusal_and_no_secret(
    site: Site, tmp_path: Path
) -> None:
    path = tmp_path / "all.jsonl"
    export_through_the_dialog(site, ExportKind.TRACE, path, None)
    lines = read_jsonl(path)
    assert {"CP-01", "CP-02", "CP-09"} <= {str(line["station"]) for line in lines}
    refusal = next(line for line in lines if line["station"] == "CP-09")
    assert refusal["direction"] == "event"
    assert refusal["note"] == "handshake refused"
    assert isinstance(refusal["frame"], str)
    assert "refused" in refusal["frame"]
    text = path.read_text(encoding="utf-8")
    for secret in secrets(["CP-01", "CP-02", "CP-09"]):
        assert secret not in text


def test_trace_export_for_a_time_range(site: Site, tmp_path: Path) -> None:
    stored = site.driver.run(site.central.stored_trace(limit=100_000))
    reserve = next(e for e in stored if e.action == "ReserveNow" and e.station_id == "CP-02")
    since, until = reserve.at, reserve.at + timedelta(milliseconds=800)
    path = tmp_path / "range.jsonl"
    written = site.driver.run(
        site.window.trace_tools.export(ExportOptions(ExportKind.TRACE, path, None, since, until))
    )
    lines = read_jsonl(path)
    expected = [e.seq for e in stored if since <= e.at <= until]
    assert written == len(lines) == len(expected) > 0
    assert [line["seq"] for line in lines] == expected
    assert lines[0]["action"] == "ReserveNow"
    assert all(iso_utc(since) <= str(line["time"]) <= iso_utc(until) for line in lines)


def test_reservations_csv_of_one_station(site: Site, tmp_path: Path) -> None:
    site.reserve("CP-01", 2, "TECH-0003")
    path = tmp_path / "cp01.csv"
    export_through_the_dialog(site, ExportKind.RESERVATIONS, path, "CP-01")
    rows = list(csv.DictReader(path.read_text(encoding="utf-8").splitlines()))
    assert list(rows[0]) == list(RESERVATION_CSV_COLUMNS)
    assert [
        (r["station_id"], r["connector_id"], r["id_tag"], r["answer"], r["state"]) for r in rows
    ] == [
        ("CP-01", "1", "TECH-0001", "Accepted", "accepted"),
        ("CP-01", "2", "TECH-0003", "Accepted", "accepted"),
    ]
    for row in rows:
        assert row["created"] <= row["answered"] < row["expiry"]  # ms: may be equal
        assert float(row["latency_s"]) >= 0
    all_path = tmp_path / "all.csv"
    export_through_the_dialog(site, ExportKind.RESERVATIONS, all_path, None)
    all_rows = list(csv.DictReader(all_path.read_text(encoding="utf-8").splitlines()))
    rejected = [r for r in all_rows if r["station_id"] == "CP-02"]
    assert [(r["answer"], r["state"]) for r in rejected] == [("Rejected", "rejected")]
    assert len(all_rows) == 3


def test_a_cancelled_export_leaves_no_file(site: Site, tmp_path: Path) -> None:
    tools = site.window.trace_tools
    tools.exporter.chunk_lines = 3
    path = tmp_path / "cancelled.jsonl"
    seen: list[int] = []

    def cancel_at_first_chunk(written: int, _total: int) -> None:
        seen.append(written)
        assert tools.exporter.writer is not None
        tools.exporter.writer.dialog.cancel()  # the Cancel button

    tools.exporter.sig_progress.connect(cancel_at_first_chunk)
    with site.qtbot.waitSignal(tools.exporter.sig_cancelled, timeout=20_000):
        task = tools.start(tools.export(ExportOptions(ExportKind.TRACE, path)))
        assert tools.running_jobs() == 1
    site.qtbot.waitUntil(task.done)
    assert task.result() is None
    assert seen == [3]
    assert not path.exists()
    assert not path.with_name(path.name + ".part").exists()


def test_the_dialog_takes_a_file_from_the_file_dialog_and_a_range(qtbot, tmp_path: Path) -> None:
    now = datetime(2026, 11, 25, 12, 0, 0, tzinfo=UTC)
    dialog = ExportDialog(ExportKind.RESERVATIONS, ["CP-01", "CP-02"], now=now)
    qtbot.addWidget(dialog)
    dialog.open()
    options = dialog.options()
    assert (options.station_id, options.since, options.until) == (None, None, None)
    assert options.path.suffix == ".csv"
    files = dialog.browse()
    assert files.testOption(files.Option.DontUseNativeDialog)
    chosen = tmp_path / "chosen.csv"
    with qtbot.waitSignal(files.fileSelected):
        files.selectFile(str(chosen))
        files.accept()
    dialog.set_station("CP-02")
    dialog.set_range(now - timedelta(hours=2), now)
    options = dialog.options()
    assert options.path == chosen
    assert options.station_id == "CP-02"
    assert options.since == now - timedelta(hours=2)
    assert options.until == now
    assert options.since.tzinfo is not None


# --- where the file goes, and what a failure shows ------------------------------------------


def test_export_into_a_folder_that_does_not_exist_yet_creates_it(
    site: Site, tmp_path: Path
) -> None:
    trace_path = tmp_path / "Documents" / "site" / "trace.jsonl"
    export_through_the_dialog(site, ExportKind.TRACE, trace_path, None)
    assert read_jsonl(trace_path)
    csv_path = tmp_path / "Other" / "reservations.csv"
    export_through_the_dialog(site, ExportKind.RESERVATIONS, csv_path, None)
    assert csv_path.read_text(encoding="utf-8").startswith("reservation_id")


def test_a_failed_export_says_why_in_a_message_box(site: Site, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder", encoding="utf-8")
    path = blocker / "trace.jsonl"  # its "folder" is a file: no mkdir can help
    tools = site.window.trace_tools
    tools.export_trace_action.trigger()
    dialog = tools.dialog
    assert isinstance(dialog, ExportDialog)
    dialog.path_edit.setText(str(path))
    with site.qtbot.waitSignal(tools.exporter.sig_failed, timeout=20_000):
        dialog.buttons.accepted.emit()
    box = tools.error_box
    assert box is not None
    site.qtbot.waitUntil(box.isVisible)
    assert box.icon() is QMessageBox.Icon.Warning
    assert str(path) in box.text()
    assert "Not a directory" in box.informativeText() or "exists" in box.informativeText()
    assert not path.exists()
    box.accept()


def test_the_default_folder_is_documents_when_it_exists_else_home(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    documents = tmp_path / "Documents"
    monkeypatch.setattr(
        export_folder.QStandardPaths, "writableLocation", lambda _location: str(documents)
    )
    monkeypatch.setattr(export_folder.Path, "home", lambda: tmp_path)
    assert trace_tools.default_folder() == tmp_path  # no Documents folder
    documents.mkdir()
    assert trace_tools.default_folder() == documents


@pytest.fixture
def documents(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """The user's Documents folder (in tmp_path)."""
    folder = tmp_path / "Documents"
    folder.mkdir()
    monkeypatch.setattr(
        export_folder.QStandardPaths, "writableLocation", lambda _location: str(folder)
    )
    return folder


def test_the_folder_last_written_to_is_proposed_next_time_and_next_run(
    documents: Path, tmp_path: Path
) -> None:
    store = tmp_path / "config" / "exports.ini"
    folders = ExportFolder(QSettings(str(store), QSettings.Format.IniFormat))
    assert folders.folder() == documents  # nothing written yet
    site_a = tmp_path / "site-a"
    site_a.mkdir()
    folders.remember(site_a / "trace.jsonl")
    assert folders.folder() == site_a
    again = ExportFolder(QSettings(str(store), QSettings.Format.IniFormat))  # the next run
    assert again.folder() == site_a
    site_a.rmdir()  # gone (an unplugged stick): Documents again
    assert again.folder() == documents


def test_each_dialog_proposes_the_folder_of_the_last_export(
    site: Site, documents: Path, tmp_path: Path
) -> None:
    tools = site.window.trace_tools
    tools.export_trace_action.trigger()
    first = tools.dialog
    assert isinstance(first, ExportDialog)
    assert first.options().path.parent == documents  # not the working directory
    first.reject()
    target = tmp_path / "site-a" / "cp01.jsonl"
    export_through_the_dialog(site, ExportKind.TRACE, target, "CP-01")
    tools.export_reservations_action.trigger()
    reservations = tools.dialog
    assert isinstance(reservations, ExportDialog)
    assert reservations.options().path.parent == target.parent
    reservations.reject()
    tools.report_action.trigger()
    report = tools.dialog
    assert isinstance(report, trace_tools.ReportDialog)
    assert report.path().parent == target.parent
    report.reject()
    assert ExportFolder().folder() == target.parent  # and after a restart


def test_the_trace_dialog_proposes_a_named_file_from_the_start_of_todays_session(
    qtbot, documents: Path, tmp_path: Path
) -> None:
    now = datetime(2026, 11, 25, 15, 0).astimezone()  # 15:00 local time
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    run_started = now - timedelta(hours=2)
    clock = [run_started]
    central = FakeCentralSystem()
    central.add_site(2, 1)

    def frame(seq: int, station_id: str, at: datetime) -> None:
        entry = TraceEntry(seq, at, station_id, TraceDirection.IN, "[2]")
        central.emit(TraceAppended(entry))

    frame(1, "CP-01", midnight - timedelta(hours=2))  # yesterday
    frame(2, "CP-01", midnight + timedelta(hours=8, seconds=30))  # this morning, a run before
    host = QWidget()
    qtbot.addWidget(host)
    tools = TraceTools(
        central,
        ExportRunner(central),
        ReportRunner(central),
        host,
        export_folder=ExportFolder(QSettings(str(tmp_path / "e.ini"), QSettings.Format.IniFormat)),
        clock=lambda: clock[0],
    )
    frame(3, "CP-02", run_started + timedelta(seconds=12))  # the first frame of this run
    frame(4, "CP-01", run_started + timedelta(seconds=20))
    clock[0] = now
    tools.export_trace_action.trigger()
    dialog = tools.dialog
    assert isinstance(dialog, ExportDialog)
    # A name that says what it holds, in Documents; "From" the first frame of this run.
    options = dialog.options()
    assert options.path == documents / "ocpp-trace-all-stations-2026-11-25-1500.jsonl"
    assert dialog.since_check.isChecked()
    assert options.since == run_started + timedelta(seconds=12)
    assert options.until is None
    # One station: its name in the file's, "From" its first frame today.
    dialog.set_station("CP-01")
    options = dialog.options()
    assert options.path == documents / "ocpp-trace-CP-01-2026-11-25-1500.jsonl"
    assert options.since == midnight + timedelta(hours=8, seconds=30)
    # What the technician typed or set stays when the station changes.
    dialog.path_edit.setText(str(tmp_path / "mine.jsonl"))
    dialog.since_edit.setDateTime(dialog.since_edit.dateTime().addSecs(-3600))
    chosen_since = dialog.options().since
    dialog.set_station("CP-02")
    assert dialog.options().path == tmp_path / "mine.jsonl"
    assert dialog.options().since == chosen_since
    dialog.reject()
    # The reservations: every attempt by default, "From" ready at the session's start.
    tools.export_reservations_action.trigger()
    reservations = tools.dialog
    assert isinstance(reservations, ExportDialog)
    assert reservations.options().since is None
    assert reservations.options().path.name == "ocpp-reservations-all-stations-2026-11-25-1500.csv"
    reservations.since_check.setChecked(True)
    assert reservations.options().since == run_started + timedelta(seconds=12)
    reservations.reject()
