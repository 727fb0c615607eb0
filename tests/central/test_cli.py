"""``ocpp-console serve``: settings from the file and the options; a clean stop on SIGTERM."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import websockets

from console.central.cli import config_from_args

ROOT = Path(__file__).resolve().parents[2]


def test_options_override_the_settings_file(tmp_path: Path) -> None:
    # serve reads the same settings.json as the window's settings dialog.
    settings = tmp_path / "settings.json"
    settings.write_text(
        json.dumps(
            {
                "schema_version": 1,
                "port": 9100,
                "heartbeat_interval": 60,
                "id_tags": {"T1": {"status": "Blocked"}},
            }
        )
    )
    args = argparse.Namespace(host="127.0.0.1", port=9200, data_dir=tmp_path, call_timeout=None)
    config = config_from_args(args, settings)
    assert config.port == 9200
    assert config.heartbeat_interval == 60
    assert config.host == "127.0.0.1"
    assert config.id_tags["T1"].status == "Blocked"


def test_a_settings_file_that_cannot_be_used_stops_serve_and_is_left_alone(
    tmp_path: Path,
) -> None:
    settings = tmp_path / "settings.json"
    settings.write_text('{"schema_version": 99, "port": 1}')
    args = argparse.Namespace(host=None, port=None, data_dir=tmp_path, call_timeout=None)
    with pytest.raises(ValueError, match="newer console"):
        config_from_args(args, settings)
    assert settings.read_text() == '{"schema_version": 99, "port": 1}'


@pytest.mark.skipif(sys.platform == "win32", reason="SIGTERM")
@pytest.mark.asyncio
async def test_serve_logs_and_stops_on_sigterm(data_dir: Path) -> None:
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "console",
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        "--data-dir",
        str(data_dir),
        cwd=ROOT,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    assert child.stderr is not None
    lines: list[str] = []
    port = None
    while port is None:
        line = (await asyncio.wait_for(child.stderr.readline(), 30)).decode()
        assert line, "serve ended early: " + "".join(lines)
        lines.append(line)
        if "stations connect to ws://127.0.0.1:" in line:
            port = int(line.split("ws://127.0.0.1:")[1].split("/")[0])
    async with websockets.connect(
        f"ws://127.0.0.1:{port}/CP-CLI", subprotocols=["ocpp1.6"]
    ) as websocket:
        await websocket.send('[2,"1","Heartbeat",{}]')
        await asyncio.wait_for(websocket.recv(), 10)
    child.send_signal(signal.SIGTERM)
    _, rest = await asyncio.wait_for(child.communicate(), 30)
    output = "".join(lines) + rest.decode()
    assert child.returncode == 0
    assert "station CP-CLI: connected" in output
    assert "Central System stopped" in output


def test_serve_reports_an_unusable_data_folder(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the data folder should be")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "console",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--data-dir",
            str(blocker),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert "cannot start the Central System" in result.stderr
    assert "Traceback" not in result.stderr
