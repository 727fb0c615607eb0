"""Benchmark of the window under a storm of status changes (run by hand, prints figures).

    .venv/bin/python tests/benchmarks/bench_ui.py [--seconds 30] [--stations 1000]
        [--connectors 2] [--rate 2000] [--no-startup]

The window runs on the fake Central System (tests/ui/fakes.py) with STATIONS x CONNECTORS
connectors; RATE StatusNotification-like changes a second arrive on the Qt thread (as the
real Central System delivers them) for SECONDS. It prints:

* the Qt thread's event-loop lag p50 / p99 / max (how late a 20 ms timer fires);
* the time spent applying model updates per second of wall time (ChangeFeed batches,
  including the proxy models and the views' reaction to the signals);
* peak memory (max RSS) of the process;
* the time from process start to the window shown, for this process and (unless
  --no-startup) for a real ``ocpp-console`` process with its Central System.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

_SCRIPT_STARTED = time.monotonic()
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from PySide6.QtCore import QElapsedTimer, Qt, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from console.app import build_window  # noqa: E402
from console.ocpp.enums import ChargePointStatus  # noqa: E402
from console.ui.look.resources import style_sheet  # noqa: E402
from tests.ui.fakes import FakeCentralSystem  # noqa: E402

LAG_PROBE_MS = 20
TICK_MS = 10
STATUSES = [
    ChargePointStatus.AVAILABLE,
    ChargePointStatus.PREPARING,
    ChargePointStatus.CHARGING,
    ChargePointStatus.SUSPENDED_EV,
    ChargePointStatus.FINISHING,
    ChargePointStatus.FAULTED,
    ChargePointStatus.UNAVAILABLE,
]


def seconds_since_process_start() -> float:
    """Wall time since the kernel started this process (Linux), else since the script began."""
    try:
        fields = Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()
        started_ticks = int(fields[19])
        uptime = float(Path("/proc/uptime").read_text().split()[0])
        return uptime - started_ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return time.monotonic() - _SCRIPT_STARTED


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def real_console_startup(timeout: float = 60.0) -> float | None:
    """Seconds from spawning ``ocpp-console`` (offscreen) to its "window shown" log line."""
    executable = Path(sys.executable).with_name("ocpp-console")
    command = [str(executable)] if executable.exists() else [sys.executable, "-m", "console"]
    with tempfile.TemporaryDirectory() as folder:
        env = dict(os.environ, QT_QPA_PLATFORM="offscreen", XDG_CONFIG_HOME=folder)
        started = time.monotonic()
        process = subprocess.Popen(
            [*command, "--port", "0", "--data-dir", folder],
            stderr=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            text=True,
            env=env,
        )
        try:
            assert process.stderr is not None
            while time.monotonic() - started < timeout:
                line = process.stderr.readline()
                if not line:
                    return None
                if "window shown" in line:
                    return time.monotonic() - started
            return None
        finally:
            process.terminate()
            process.wait(10)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--stations", type=int, default=1000)
    parser.add_argument("--connectors", type=int, default=2)
    parser.add_argument("--rate", type=int, default=2000, help="status changes per second")
    parser.add_argument("--no-startup", action="store_true", help="skip the real-process start")
    options = parser.parse_args()

    app = QApplication(sys.argv[:1])
    app.setStyle("Fusion")
    app.setStyleSheet(style_sheet())
    fake = FakeCentralSystem()
    station_ids = fake.add_site(options.stations, options.connectors)
    window = build_window(fake)
    window.start()
    window.show()
    app.processEvents()
    shown_after = seconds_since_process_start()

    rng = random.Random(7)
    sent = 0
    clock = QElapsedTimer()
    clock.start()

    def produce() -> None:
        nonlocal sent
        # Send what the elapsed time owes, so the rate holds even when a tick comes late.
        due = int(options.rate * clock.elapsed() / 1000)
        while sent < due:
            fake.set_connector(
                rng.choice(station_ids),
                rng.randint(1, options.connectors),
                status=rng.choice(STATUSES),
            )
            sent += 1

    lags: list[float] = []
    last_probe = time.perf_counter()

    def probe() -> None:
        nonlocal last_probe
        now = time.perf_counter()
        lags.append(max(0.0, (now - last_probe) * 1000 - LAG_PROBE_MS))
        last_probe = now

    producer = QTimer()
    producer.setTimerType(Qt.TimerType.PreciseTimer)
    producer.timeout.connect(produce)
    producer.start(TICK_MS)
    prober = QTimer()
    prober.setTimerType(Qt.TimerType.PreciseTimer)
    prober.timeout.connect(probe)
    prober.start(LAG_PROBE_MS)
    busy_before = window.feed.busy_seconds
    # exit(), not quit(): quit() asks the window to close, and the window waits for its services.
    QTimer.singleShot(int(options.seconds * 1000), lambda: app.exit(0))
    app.exec()
    elapsed = clock.elapsed() / 1000
    producer.stop()
    prober.stop()
    busy = window.feed.busy_seconds - busy_before
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    print(
        f"window: {options.stations} stations x {options.connectors} connectors, "
        f"{sent / elapsed:.0f} status changes/s for {elapsed:.1f} s "
        f"({window.feed.events_received} events)"
    )
    print(
        f"Qt-thread loop lag: p50 {percentile(lags, 0.5):.1f} ms, "
        f"p99 {percentile(lags, 0.99):.1f} ms, max {max(lags):.1f} ms "
        f"(mean {statistics.fmean(lags):.1f} ms, {len(lags)} probes)"
    )
    print(
        f"model updates: {busy / elapsed * 1000:.1f} ms per second of wall time "
        f"({busy / elapsed * 100:.1f}% of the Qt thread)"
    )
    print(f"peak memory (max RSS): {peak_mb:.0f} MB")
    print(f"window shown {shown_after:.2f} s after process start (this process, fake site)")
    if not options.no_startup:
        startup = real_console_startup()
        if startup is None:
            print("real ocpp-console: no 'window shown' line (see its log)")
        else:
            print(f"real ocpp-console: window shown {startup:.2f} s after spawning the process")
    window.allow_close()
    window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
