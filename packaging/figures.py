"""Print the packaging figures: installer size, installed size, cold start to window shown.

Usage: .venv/bin/python packaging/figures.py [OUT]   (OUT: packaging/linux/build_deb.sh's
output folder, default packaging/out). Start-up is timed from spawning the frozen
executable to its "window shown" log line, on a real X screen when Xvfb is installed
(offscreen otherwise), five runs, the first one reported as the cold start.
"""

from __future__ import annotations

import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _mib(n: int) -> str:
    return f"{n / 2**20:.1f} MiB"


def _tree_size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink())


def _time_to_window(executable: Path, env: dict[str, str], timeout: float = 30.0) -> float:
    with tempfile.TemporaryDirectory() as home:
        run_env = {
            **env,
            "HOME": home,
            "XDG_CONFIG_HOME": f"{home}/config",
            "XDG_DATA_HOME": f"{home}/data",
        }
        started = time.perf_counter()
        proc = subprocess.Popen(
            [str(executable), "--port", "0"],
            env=run_env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            assert proc.stderr is not None
            deadline = started + timeout
            for line in proc.stderr:
                if "window shown" in line:
                    return time.perf_counter() - started
                if time.perf_counter() > deadline:
                    break
            raise RuntimeError("the window was not shown")
        finally:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _display() -> tuple[dict[str, str], subprocess.Popen[bytes] | None, str]:
    env = dict(os.environ)
    if shutil.which("Xvfb"):
        display = ":97"
        xvfb = subprocess.Popen(["Xvfb", display, "-screen", "0", "1600x1000x24"])
        time.sleep(1)  # Xvfb has no readiness signal; this is set-up, not a measurement
        env.update(DISPLAY=display, QT_QPA_PLATFORM="xcb")
        return env, xvfb, "Xvfb (xcb)"
    env["QT_QPA_PLATFORM"] = "offscreen"
    return env, None, "offscreen"


def main() -> int:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "packaging" / "out"
    debs = sorted(out.glob("ocpp-console_*.deb"))
    folder = out / "dist" / "ocpp-console"
    if not debs or not folder.is_dir():
        print(f"no build in {out}: run packaging/linux/build_deb.sh first", file=sys.stderr)
        return 2
    deb = debs[-1]
    print(f"installer            {deb.name}: {_mib(deb.stat().st_size)} (target < 80 MB)")
    print(f"installed size       {_mib(_tree_size(folder))} (/opt/ocpp-console)")
    env, xvfb, where = _display()
    try:
        runs = [_time_to_window(folder / "ocpp-console", env) for _ in range(5)]
    finally:
        if xvfb is not None:
            xvfb.terminate()
            xvfb.wait()
    print(
        f"start to window shown cold {runs[0]:.2f} s, warm median {statistics.median(runs[1:]):.2f}"
        f" s ({where}; target < 2 s)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
