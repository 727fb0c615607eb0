"""The settings dialog: values in and out, validation at the fields, keys never shown."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QDialog, QWidget

from console.central.config import IdTagEntry
from console.central.security import verify_authorization_key
from console.central.settings import ConsoleSettings
from console.ocpp.enums import AuthorizationStatus
from console.ui.settings.settings_controller import SettingsController
from console.ui.settings.settings_dialog import SettingsDialog

pytestmark = pytest.mark.qt_log_ignore("This plugin does not support")


@pytest.fixture
def pem_files(tmp_path: Path) -> dict[str, Path]:
    files = {name: tmp_path / f"{name}.pem" for name in ("cert", "key", "ca")}
    for path in files.values():
        path.write_text("-----BEGIN-----", encoding="utf-8")
    return files


def make_dialog(qtbot, settings: ConsoleSettings | None = None) -> SettingsDialog:
    dialog = SettingsDialog(settings or ConsoleSettings())
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def error_text(dialog: SettingsDialog, name: str) -> str:
    label = dialog._errors[name]
    return "" if label.isHidden() else label.text()


def test_the_fields_show_the_settings_and_give_them_back_unchanged(qtbot, pem_files) -> None:
    settings = ConsoleSettings(
        host="127.0.0.1",
        port=9100,
        security_profile=2,
        certfile=pem_files["cert"],
        keyfile=pem_files["key"],
        heartbeat_interval=42,
        call_timeout=7.5,
        trace_limit=12_345,
        accept_unknown_stations=False,
        id_tags={"CARD-1": IdTagEntry(parent_id_tag="FLEET")},
    ).with_authorization_key("CP-01", "key-of-cp-01-xyz")
    dialog = make_dialog(qtbot, settings)
    assert dialog.port_spin.value() == 9100
    assert dialog.profile_combo.currentIndex() == 2
    assert dialog.ok_button.isEnabled()
    assert dialog.settings() == settings


def test_a_key_is_shown_as_set_only_and_stored_hashed(qtbot) -> None:
    dialog = make_dialog(qtbot)
    dialog.key_station_edit.setText("CP-07")
    assert "not set" in dialog.key_state_label.text()
    assert not dialog.set_key_button.isEnabled()
    qtbot.keyClicks(dialog.key_edit, "short")
    assert "8 to 40" in dialog.key_state_label.text()
    assert not dialog.set_key_button.isEnabled()
    qtbot.keyClicks(dialog.key_edit, "-but-now-long-enough")
    assert dialog.set_key_button.isEnabled()
    qtbot.mouseClick(dialog.set_key_button, Qt.MouseButton.LeftButton)
    assert dialog.key_edit.text() == ""  # gone from the field at once
    assert dialog.key_state("CP-07") == "set"
    assert [dialog.key_list.item(i).text() for i in range(dialog.key_list.count())] == [
        "CP-07 — key set"
    ]
    stored = dialog.settings().authorization_keys["CP-07"]
    assert "short-but-now-long-enough" not in stored
    assert verify_authorization_key("short-but-now-long-enough", stored)
    # reopening the dialog never shows the key either: only "set"
    again = make_dialog(qtbot, dialog.settings())
    again.key_station_edit.setText("CP-07")
    assert "Key set" in again.key_state_label.text()
    assert again.key_edit.text() == ""
    qtbot.mouseClick(again.remove_key_button, Qt.MouseButton.LeftButton)
    assert again.settings().authorization_keys == {}


def test_profile_two_needs_certificate_and_key_and_ok_waits_for_them(qtbot, pem_files) -> None:
    dialog = make_dialog(qtbot)
    dialog.profile_combo.setCurrentIndex(2)
    assert not dialog.ok_button.isEnabled()
    assert "needs this file" in error_text(dialog, "certfile")
    assert "needs this file" in error_text(dialog, "keyfile")
    assert error_text(dialog, "cafile") == ""
    assert dialog.certfile_edit.property("invalid") is True  # shown red at the field
    dialog.certfile_edit.setText(str(pem_files["cert"].parent / "missing.pem"))
    assert "no such file" in error_text(dialog, "certfile")
    dialog.certfile_edit.setText(str(pem_files["cert"]))
    dialog.keyfile_edit.setText(str(pem_files["key"]))
    assert dialog.ok_button.isEnabled()
    dialog.profile_combo.setCurrentIndex(3)
    assert "CA" in error_text(dialog, "cafile")
    assert not dialog.ok_button.isEnabled()
    assert "CA file" in dialog.summary_label.text()
    dialog.cafile_edit.setText(str(pem_files["ca"]))
    assert dialog.ok_button.isEnabled()
    assert dialog.certfile_edit.property("invalid") is False


def test_bind_address_and_idtags_are_checked(qtbot) -> None:
    dialog = make_dialog(qtbot)
    dialog.host_edit.clear()
    assert error_text(dialog, "host")
    assert not dialog.ok_button.isEnabled()
    dialog.host_edit.setText("0.0.0.0")
    assert dialog.ok_button.isEnabled()

    qtbot.mouseClick(dialog.add_id_tag_button, Qt.MouseButton.LeftButton)
    assert "empty" in error_text(dialog, "id_tags")
    assert not dialog.ok_button.isEnabled()
    table = dialog.id_tag_table
    table.item(0, 0).setText("CARD-A")
    table.item(0, 1).setText("FLEET")
    qtbot.mouseClick(dialog.add_id_tag_button, Qt.MouseButton.LeftButton)
    table.item(1, 0).setText("card-a")
    assert "twice" in error_text(dialog, "id_tags")
    table.item(1, 0).setText("X" * 21)
    assert "at most 20" in error_text(dialog, "id_tags")
    table.item(1, 0).setText("LOST-CARD")
    status = table.cellWidget(1, 2)
    assert isinstance(status, QComboBox)
    status.setCurrentIndex(status.findData("Blocked"))
    assert dialog.ok_button.isEnabled()
    id_tags = dialog.settings().id_tags
    assert id_tags["CARD-A"].parent_id_tag == "FLEET"
    assert id_tags["LOST-CARD"].status is AuthorizationStatus.BLOCKED


def test_spin_boxes_keep_port_and_heartbeat_in_range(qtbot) -> None:
    dialog = make_dialog(qtbot)
    dialog.port_spin.setValue(70_000)
    assert dialog.port_spin.value() == 65535
    dialog.heartbeat_spin.setValue(0)
    assert dialog.heartbeat_spin.value() == 1  # heartbeat > 0
    assert dialog.ok_button.isEnabled()


def test_ok_gives_the_result_cancel_gives_none(qtbot) -> None:
    dialog = make_dialog(qtbot)
    dialog.port_spin.setValue(9200)
    with qtbot.waitSignal(dialog.finished, timeout=2000) as blocker:
        qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    assert blocker.args == [QDialog.DialogCode.Accepted.value]
    result = dialog.result_settings()
    assert result is not None
    assert result.port == 9200
    cancelled = make_dialog(qtbot)
    cancelled.port_spin.setValue(9300)
    cancelled.reject()
    assert cancelled.result_settings() is None


def test_command_line_overrides_are_pointed_out(qtbot) -> None:
    plain = make_dialog(qtbot, ConsoleSettings(port=9000))
    assert not plain.override_hint.isVisible()
    dialog = SettingsDialog(ConsoleSettings(port=9000), run_overrides={"port": 39143})
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.port_spin.value() == 9000  # the saved setting, as before
    assert dialog.override_hint.isVisible()
    assert dialog.override_hint.text().startswith("This run uses port 39143 from the command line.")


def test_the_controller_shows_the_port_this_run_really_uses(qtbot, tmp_path: Path) -> None:
    parent = QWidget()
    qtbot.addWidget(parent)

    async def restart(_config: object) -> None:
        raise AssertionError("not restarted")

    controller = SettingsController(
        ConsoleSettings(port=9000),
        tmp_path / "settings.json",
        restart,
        parent,
        overrides={"port": 0},
        running_port=lambda: 39143,
    )
    assert controller.run_overrides() == {"port": 39143}
    dialog = controller.open_dialog()
    assert "port 39143 from the command line" in dialog.override_hint.text()
    dialog.reject()


# --- what a security change does to the connected stations, said before OK ------------------


def preview(dialog: SettingsDialog) -> str:
    label = dialog.admission_label
    return "" if label.isHidden() else label.text()


def test_a_security_change_says_what_happens_to_each_connected_station(qtbot) -> None:
    settings = ConsoleSettings().with_authorization_key("CP-01", "key-of-cp-01-xyz")
    dialog = SettingsDialog(settings, connected_stations=["CP-01", "CP-02"])
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.tabs.setCurrentIndex(1)
    assert preview(dialog) == ""  # nothing changed yet: nothing to say

    dialog.profile_combo.setCurrentIndex(1)
    assert preview(dialog).splitlines() == [
        "After OK, the 2 stations connected now:",
        "CP-01 — has a key: must send it",
        "CP-02 — no key: let in (unknown stations are accepted)",
    ]
    assert dialog.admission_label.property("role") == "field-hint"
    assert dialog.admission_label.isVisible()  # on the Security tab, where the change is made

    dialog.accept_unknown_check.setChecked(False)
    lines = preview(dialog).splitlines()
    assert lines[1] == "CP-01 — has a key: must send it"
    assert lines[2] == (
        "CP-02 — will be refused: unknown station CP-02 (unknown stations are not accepted)"
    )
    assert dialog.admission_label.property("role") == "field-error"

    dialog.accept_unknown_check.setChecked(True)
    dialog.profile_combo.setCurrentIndex(0)
    assert preview(dialog) == ""  # back as it was


def test_the_preview_follows_the_key_list_and_the_command_line(qtbot, tmp_path: Path) -> None:
    parent = QWidget()
    qtbot.addWidget(parent)

    async def restart(_config: object) -> None:
        raise AssertionError("not restarted")

    # This run has --security-profile 1; the saved profile is 0.
    controller = SettingsController(
        ConsoleSettings(),
        tmp_path / "settings.json",
        restart,
        parent,
        overrides={"security_profile": 1},
        connected_stations=lambda: ["CP-01", "CP-02"],
    )
    dialog = controller.open_dialog()
    dialog.key_station_edit.setText("CP-02")
    dialog.key_edit.setText("key-of-cp-02-xyz")
    dialog.set_key()
    # a key is set: with profile 1 (from the command line) CP-02 must now send it
    assert preview(dialog).splitlines()[1:] == [
        "CP-01 — no key: let in (unknown stations are accepted)",
        "CP-02 — has a key: must send it",
    ]
    dialog.reject()


def test_the_restart_question_names_the_stations_that_will_be_refused(
    qtbot, tmp_path: Path
) -> None:
    parent = QWidget()
    qtbot.addWidget(parent)

    async def restart(_config: object) -> None:
        raise AssertionError("not restarted")

    settings = ConsoleSettings(host="127.0.0.1", port=9000).with_authorization_key(
        "CP-01", "key-of-cp-01-xyz"
    )
    controller = SettingsController(
        settings,
        tmp_path / "settings.json",
        restart,
        parent,
        connected_stations=lambda: ["CP-01", "CP-02"],
    )
    new = settings.model_copy(update={"security_profile": 1, "accept_unknown_stations": False})
    question = controller.restart_question(new)
    assert "reconnect by themselves" in question  # same URL: profile 1 is still ws://
    assert question.endswith("1 station connected now will be refused after the restart: CP-02.")
    controller.apply(new)
    assert controller.confirmation is not None
    assert controller.confirmation.informativeText() == question
    controller.confirmation.reject()
