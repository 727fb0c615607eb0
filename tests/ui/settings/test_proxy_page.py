"""The settings dialog's Proxy page: the upstream URL checked as one types, the CA (wss://
only), keep-stations, and what OK gives."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from console.central.settings import ConsoleSettings
from console.ui.settings.settings_dialog import SettingsDialog

pytestmark = pytest.mark.qt_log_ignore("This plugin does not support")

PROXY_TAB = 4


def make_dialog(qtbot, settings: ConsoleSettings | None = None) -> SettingsDialog:
    dialog = SettingsDialog(settings or ConsoleSettings())
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.tabs.setCurrentIndex(PROXY_TAB)
    return dialog


def error_text(dialog: SettingsDialog, name: str) -> str:
    label = dialog._errors[name]
    return "" if label.isHidden() else label.text()


def test_an_empty_url_means_no_proxy(qtbot) -> None:
    dialog = make_dialog(qtbot)
    page = dialog.proxy_page
    assert dialog.tabs.tabText(PROXY_TAB) == "Proxy"
    assert page.url_edit.text() == ""
    assert not page.keep_check.isEnabled()  # nothing to keep stations from
    assert not page.browse_button.isEnabled()
    assert "No proxy" in page.mode_label.text()
    assert dialog.ok_button.isEnabled()
    assert dialog.settings().upstream_url is None


def test_the_url_is_checked_as_one_types(qtbot) -> None:
    dialog = make_dialog(qtbot)
    page = dialog.proxy_page
    qtbot.keyClicks(page.url_edit, "http://csms")
    assert "ws:// or wss://" in error_text(dialog, "upstream_url")
    assert page.url_edit.property("invalid") is True
    assert not dialog.ok_button.isEnabled()
    assert dialog.tabs.tabText(PROXY_TAB) == "⚠ Proxy"
    assert "upstream URL" in dialog.summary_label.text()
    assert page.mode_label.text() == ""  # no "Proxy mode" for a URL that is not one
    page.url_edit.clear()
    qtbot.keyClicks(page.url_edit, "wss://")
    assert "needs a host" in error_text(dialog, "upstream_url")
    qtbot.keyClicks(page.url_edit, "csms.example.com/ocpp")
    assert error_text(dialog, "upstream_url") == ""
    assert dialog.ok_button.isEnabled()
    assert dialog.tabs.tabText(PROXY_TAB) == "Proxy"
    assert page.keep_check.isEnabled()
    assert page.browse_button.isEnabled()
    assert "wss://csms.example.com/ocpp/<station id>" in page.mode_label.text()


def test_the_ca_file_goes_with_wss_only_and_must_exist(qtbot, tmp_path: Path) -> None:
    ca = tmp_path / "csms-ca.pem"
    ca.write_text("-----BEGIN-----", encoding="utf-8")
    dialog = make_dialog(qtbot, ConsoleSettings(upstream_url="wss://csms"))
    page = dialog.proxy_page
    page.cafile_edit.setText(str(tmp_path / "missing.pem"))
    assert "no such file" in error_text(dialog, "upstream_cafile")
    assert not dialog.ok_button.isEnabled()
    page.cafile_edit.setText(str(ca))
    assert dialog.ok_button.isEnabled()
    page.url_edit.setText("ws://csms")
    assert not page.browse_button.isEnabled()
    assert "only a wss://" in error_text(dialog, "upstream_cafile")
    page.cafile_edit.clear()
    assert not page.cafile_edit.isEnabled()  # nothing to read it: off until wss://
    assert dialog.ok_button.isEnabled()


def test_ok_gives_the_proxy_settings_and_they_come_back_in_the_fields(
    qtbot, tmp_path: Path
) -> None:
    ca = tmp_path / "csms-ca.pem"
    ca.write_text("-----BEGIN-----", encoding="utf-8")
    dialog = make_dialog(qtbot)
    page = dialog.proxy_page
    qtbot.keyClicks(page.url_edit, "wss://csms.example.com:8443/ocpp/")
    page.cafile_edit.setText(str(ca))
    qtbot.mouseClick(page.keep_check, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    result = dialog.result_settings()
    assert result is not None
    assert result.upstream_url == "wss://csms.example.com:8443/ocpp"
    assert result.upstream_cafile == ca
    assert result.upstream_keep_stations is True
    again = make_dialog(qtbot, result)
    assert again.proxy_page.url_edit.text() == "wss://csms.example.com:8443/ocpp"
    assert again.proxy_page.keep_check.isChecked()
    assert again.settings() == result
    # Looked at by a person: SETTINGS_SHOTS=<folder> keeps the page as a PNG.
    folder = os.environ.get("SETTINGS_SHOTS")
    if folder:
        again.resize(700, 520)
        assert again.grab().save(str(Path(folder) / "settings-proxy-page.png"))
