"""The composition root: one qasync loop, the demo site, the close sequence, a taken port."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from console import app as console_app
from console.central.config import CentralSystemConfig
from console.ui.event_loop import ConsoleEventLoop

pytestmark = pytest.mark.qt_log_ignore("This plugin does not support")


@pytest.fixture
def taken_port() -> Iterator[int]:
    """A port some other program listens on."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        yield listener.getsockname()[1]


def _port_is_free(port: int) -> bool:
    with socket.socket() as probe:
        # Closed connections linger in TIME_WAIT; only a listener still bound should count.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _run_session(qapp: QApplication, config: CentralSystemConfig, demo: int | None) -> int:
    reporter = console_app._ErrorReporter()
    loop = ConsoleEventLoop(qapp)
    try:
        return loop.run_until_complete(console_app._console_session(qapp, config, demo, reporter))
    finally:
        loop.close()


def test_demo_takes_a_free_port_and_closing_stops_everything(
    qapp: QApplication, data_dir: Path, taken_port: int
) -> None:
    config = CentralSystemConfig(host="127.0.0.1", port=taken_port, data_dir=data_dir)
    seen: dict[str, object] = {}

    def close_when_the_site_is_up() -> None:
        windows = [w for w in qapp.topLevelWidgets() if isinstance(w, console_app.MainWindow)]
        window = windows[0] if windows else None
        if window is None or window.station_model.online_count() < 2:
            QTimer.singleShot(50, close_when_the_site_is_up)
            return
        seen["message"] = window.statusBar().currentMessage()
        seen["urls"] = window.urls_label.text()
        seen["port"] = window.central.port  # type: ignore[attr-defined]
        seen["central"] = window.central
        window.close()  # as the technician does: the session stops the site, then central

    QTimer.singleShot(50, close_when_the_site_is_up)
    assert _run_session(qapp, config, demo=2) == 0
    port = seen["port"]
    assert isinstance(port, int)
    assert port != taken_port
    assert f"Port {taken_port} is in use: listening on port {port} instead" in str(seen["message"])
    assert f"ws://127.0.0.1:{port}/" in str(seen["urls"])
    assert not seen["central"].running  # type: ignore[attr-defined]
    assert _port_is_free(port)  # the Central System really stopped listening
    assert not any(w.isVisible() for w in qapp.topLevelWidgets())


def test_a_taken_port_without_demo_is_a_clear_message(
    qapp: QApplication, data_dir: Path, taken_port: int
) -> None:
    config = CentralSystemConfig(host="127.0.0.1", port=taken_port, data_dir=data_dir)
    seen: list[str] = []

    def acknowledge() -> None:
        boxes = [w for w in qapp.topLevelWidgets() if isinstance(w, QMessageBox) and w.isVisible()]
        if not boxes:
            QTimer.singleShot(50, acknowledge)
            return
        seen.append(boxes[0].text())
        boxes[0].done(0)

    QTimer.singleShot(50, acknowledge)
    assert _run_session(qapp, config, demo=None) == 1
    assert f"cannot listen on 127.0.0.1:{taken_port}" in seen[0]
    assert "--port" in seen[0]


def test_self_test_round_trips_a_reservation_in_a_real_process(tmp_path: Path) -> None:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", XDG_CONFIG_HOME=str(tmp_path))
    result = subprocess.run(
        [sys.executable, "-m", "console", "--self-test"],
        capture_output=True,
        text=True,
        env=env,
        timeout=50,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.startswith("self-test: OK: ")
    assert "ReserveNow Accepted, shown in the window, CancelReservation Accepted" in result.stdout
    assert "Traceback" not in result.stderr


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child process is POSIX")
def test_ctrl_c_stops_the_central_system_cleanly(tmp_path: Path) -> None:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", XDG_CONFIG_HOME=str(tmp_path))
    process = subprocess.Popen(
        [sys.executable, "-m", "console", "--port", "0", "--data-dir", str(tmp_path)],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    assert process.stderr is not None
    lines: list[str] = []
    try:
        for line in process.stderr:
            lines.append(line)
            if "window shown" in line:
                break
        process.send_signal(signal.SIGINT)
        _, rest = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    output = "".join(lines) + rest
    assert process.returncode == 130, output[-2000:]
    assert "Central System stopped" in output
    assert "Traceback" not in output


def test_run_collects_garbage_on_the_qt_thread_until_it_ends(
    qapp: QApplication, monkeypatch: pytest.MonkeyPatch
) -> None:
    events: list[str] = []

    class RecordingCollector(console_app.MainThreadGarbageCollector):
        def __init__(self, parent: object = None) -> None:
            events.append("installed" if QApplication.instance() is not None else "no app")
            super().__init__(parent)  # type: ignore[arg-type]

        def stop(self) -> None:
            events.append("stopped")
            super().stop()

    async def quick_self_test(_reporter: object) -> int:
        events.append("ran")
        return 0

    monkeypatch.setattr(console_app, "MainThreadGarbageCollector", RecordingCollector)
    monkeypatch.setattr(console_app, "_self_test", quick_self_test)
    # sys.excepthook and the Qt message handler stay pytest's (pytest-qt reads Qt warnings)
    monkeypatch.setattr(console_app, "_install_error_hooks", lambda _reporter: None)
    args = console_app.argparse.Namespace(self_test=True, demo=None)
    monkeypatch.setattr(console_app, "command_line_overrides", lambda _args: {})
    assert console_app.run(args) == 0
    assert events == ["installed", "ran", "stopped"]
