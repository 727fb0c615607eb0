"""The SIGKILL loop of tests/benchmarks/kill_loop.py, two quick runs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "kill_loop.py"


def test_two_sigkills_lose_nothing_acknowledged() -> None:
    finished = subprocess.run(
        [sys.executable, str(SCRIPT), "--runs", "2", "--max-wait", "0.6", "--seed", "3"],
        capture_output=True,
        text=True,
        timeout=50,
        check=False,
    )
    assert finished.returncode == 0, finished.stdout + finished.stderr
    figures = dict(
        line.split(":", 1) for line in finished.stdout.splitlines() if not line.startswith("run ")
    )
    assert int(figures["acknowledged state changes"]) > 0
    assert int(figures["lost"]) == 0
    assert int(figures["id counter went back"]) == 0
    assert int(figures["integrity_check not ok"]) == 0
