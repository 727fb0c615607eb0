"""Starting the console with a broken or newer settings file: a message, defaults, a backup."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PySide6.QtCore import QEvent
from PySide6.QtWidgets import QApplication, QMessageBox

from console import app as console_app
from console.central.server import CentralSystem
from console.central.settings import SCHEMA_VERSION, ConsoleSettings, load_settings, settings_path
from console.chargepoint.simulator import SiteSimulator
from console.ui.event_loop import ConsoleEventLoop
from console.ui.window.main_window import MainWindow

pytestmark = pytest.mark.qt_log_ignore("This plugin does not support")


def start_console(qapp: QApplication, data_dir: Path) -> dict[str, object]:
    """Run a console session as ``run()`` does, note what it shows, close it."""
    loaded = load_settings()
    overrides = {"host": "127.0.0.1", "port": 0, "data_dir": data_dir}
    seen: dict[str, object] = {"loaded": loaded}

    async def look_then_close(
        window: MainWindow, central: CentralSystem, _site: SiteSimulator | None
    ) -> None:
        seen["status"] = window.statusBar().currentMessage()
        boxes = [w for w in qapp.topLevelWidgets() if isinstance(w, QMessageBox) and w.isVisible()]
        seen["boxes"] = [box.text() for box in boxes]
        for box in boxes:
            box.done(0)
        seen["heartbeat"] = central.config.heartbeat_interval
        seen["window"] = window
        window.close()

    reporter = console_app._ErrorReporter()
    loop = ConsoleEventLoop(qapp)
    try:
        code = loop.run_until_complete(
            console_app._console_session(
                qapp,
                loaded.settings.to_config(**overrides),
                None,
                reporter,
                look_then_close,
                loaded=loaded,
                overrides=overrides,
            )
        )
    finally:
        loop.close()
        # Closed windows stay top-level widgets until deleted; later tests look for theirs.
        window = seen.get("window")
        if isinstance(window, MainWindow):
            window.deleteLater()
            QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete.value)
    seen["code"] = code
    return seen


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b'{"schema_version": 1, "heartbeat_interval": -5', "not valid JSON"),
        (b'{"schema_version": 1, "heartbeat_interval": -5}', "invalid values"),
        (
            json.dumps({"schema_version": SCHEMA_VERSION + 1, "heartbeat_interval": 5}).encode(),
            "newer console",
        ),
    ],
)
def test_an_unusable_settings_file_is_said_kept_and_the_defaults_run(
    qapp: QApplication, data_dir: Path, content: bytes, reason: str
) -> None:
    path = settings_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)

    seen = start_console(qapp, data_dir)

    assert seen["code"] == 0
    loaded = seen["loaded"]
    assert loaded.settings == ConsoleSettings()  # type: ignore[attr-defined]
    backup: Path = loaded.backup  # type: ignore[attr-defined]
    assert backup.parent == path.parent
    assert backup.name.startswith("settings.json.broken-")
    assert backup.read_bytes() == content  # kept byte for byte
    assert reason in str(seen["status"])
    assert str(backup) in str(seen["status"])
    assert any(reason in text for text in seen["boxes"])  # type: ignore[attr-defined]
    assert seen["heartbeat"] == ConsoleSettings().heartbeat_interval
    # closing saved nothing over it: no settings file was written behind the user's back
    assert not path.exists()
    assert backup.read_bytes() == content


def test_a_good_settings_file_is_used_without_a_message(qapp: QApplication, data_dir: Path) -> None:
    path = settings_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(ConsoleSettings(heartbeat_interval=77).model_dump_json(), encoding="utf-8")
    seen = start_console(qapp, data_dir)
    assert seen["heartbeat"] == 77
    assert seen["boxes"] == []
    assert "settings" not in str(seen["status"]).lower()
    assert list(path.parent.glob("settings.json.broken-*")) == []


def test_a_wrong_check_value_is_said_and_the_rest_of_the_file_is_used(
    qapp: QApplication, data_dir: Path
) -> None:
    path = settings_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    good = json.loads(ConsoleSettings(heartbeat_interval=77).model_dump_json())
    path.write_text(json.dumps({**good, "check_step_timeout": 9999}), encoding="utf-8")
    seen = start_console(qapp, data_dir)
    assert seen["code"] == 0
    assert seen["heartbeat"] == 77  # the rest of the file was used
    assert "check_step_timeout" in str(seen["status"])
    assert any("check_step_timeout" in text for text in seen["boxes"])  # type: ignore[attr-defined]
    assert list(path.parent.glob("settings.json.broken-*")) == []
