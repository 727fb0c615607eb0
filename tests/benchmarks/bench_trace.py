"""Benchmark of the message trace panel with 100,000 frames (run by hand, prints figures).

    .venv/bin/python tests/benchmarks/bench_trace.py [--frames 100000] [--batch 500]

The trace model and its panel (table + detail pane) run offscreen, shown at 1400x700. It
prints:

* the time to load the frames (one batch, as at start) and to take them in live batches of
  BATCH (as the change feed hands them over, Follow on: each batch scrolls to the newest);
* the time to apply a text filter (and to clear it), a station filter, problems only;
* the time to select a row and format its frame in the detail pane, and to jump to its answer;
* the model's data() calls while the view painted (what lazy formatting costs);
* the time to read the frames back from a real SQLite store (what an export of everything
  reads, off the event loop since ``stored_trace`` uses a worker thread), and one station's;
* peak memory (max RSS) and the memory the entries take.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from PySide6.QtCore import qInstallMessageHandler  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from console.central.export import trace_jsonl_line  # noqa: E402
from console.central.model import TraceDirection, TraceEntry  # noqa: E402
from console.central.store import Store  # noqa: E402
from console.ui.look.resources import style_sheet  # noqa: E402
from console.ui.trace.trace_model import TraceFilter, TraceTableModel  # noqa: E402
from console.ui.trace.trace_panel import TracePanel  # noqa: E402

ACTIONS = ["Heartbeat", "StatusNotification", "MeterValues", "ReserveNow", "Authorize"]


def make_frames(count: int, stations: int = 50) -> list[TraceEntry]:
    """Requests and answers, half each, with a CALLERROR every 997 frames."""
    start = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
    frames: list[TraceEntry] = []
    for seq in range(1, count + 1):
        pair, is_answer = divmod(seq - 1, 2)
        station = f"CP-{pair % stations + 1:03d}"
        action = ACTIONS[pair % len(ACTIONS)]
        at = start + timedelta(milliseconds=seq * 20)
        message_id = f"m{pair}"
        if not is_answer:
            payload = {"connectorId": 1, "status": "Available", "idTag": f"TAG-{pair % 977}"}
            text = json.dumps([2, message_id, action, payload])
            frames.append(
                TraceEntry(seq, at, station, TraceDirection.IN, text, 2, message_id, action)
            )
        elif seq % 997 == 0:
            text = json.dumps([4, message_id, "InternalError", "boom", {}])
            frames.append(
                TraceEntry(
                    seq,
                    at,
                    station,
                    TraceDirection.OUT,
                    text,
                    4,
                    message_id,
                    None,
                    0.004,
                    error_code="InternalError",
                )
            )
        else:
            text = json.dumps([3, message_id, {"currentTime": at.isoformat()}])
            frames.append(
                TraceEntry(seq, at, station, TraceDirection.OUT, text, 3, message_id, None, 0.002)
            )
    return frames


class CountingModel(TraceTableModel):
    """Counts data() calls, to show the view formats only what it paints."""

    calls = 0

    def data(self, index, role=0):  # type: ignore[no-untyped-def]
        CountingModel.calls += 1
        return super().data(index, role)


def timed(label: str, app: QApplication, action) -> float:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    action()
    app.processEvents()  # the view's reaction (layout, paint) counts too
    elapsed = time.perf_counter() - started
    print(f"  {label:<52} {elapsed * 1000:8.1f} ms")
    return elapsed


async def database_read(frames: list[TraceEntry]) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-trace-") as folder:
        store = Store.open(Path(folder) / "trace.sqlite3", trace_limit=len(frames))
        for entry in frames:
            store.append_trace(entry)
        await store.flush()
        started = time.perf_counter()
        everything = store.load_trace(50_000_000)
        read_all = time.perf_counter() - started
        started = time.perf_counter()
        one = store.load_trace(50_000_000, station_id="CP-007")
        read_one = time.perf_counter() - started
        started = time.perf_counter()
        size = sum(len(trace_jsonl_line(entry)) for entry in everything)
        formatted = time.perf_counter() - started
        store.close()
    print("database (SQLite, WAL)")
    print(f"  {f'read all {len(everything):,} lines':<52} {read_all * 1000:8.1f} ms")
    print(f"  {f'read one station ({len(one):,} lines)':<52} {read_one * 1000:8.1f} ms")
    label = f"format them as JSON Lines ({size / 1e6:.0f} MB)"
    print(f"  {label:<52} {formatted * 1000:8.1f} ms")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=500)
    args = parser.parse_args()

    # The offscreen platform's notes on size hints are noise here.
    qInstallMessageHandler(lambda _kind, _context, _message: None)
    app = QApplication(sys.argv[:1])
    app.setStyle("Fusion")
    app.setStyleSheet(style_sheet())
    tracemalloc.start()
    frames = make_frames(args.frames)
    entries_bytes = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    print(f"{args.frames:,} frames ({entries_bytes / 1e6:.0f} MB of TraceEntry objects)")

    model = CountingModel()
    panel = TracePanel(model)
    panel.resize(1400, 700)
    panel.show()
    app.processEvents()

    print("loading")
    timed(f"load {args.frames:,} frames in one batch (start)", app, lambda: panel.append(frames))
    painted = CountingModel.calls
    print(f"  data() calls so far: {painted:,} (the rows on screen, not {args.frames:,})")

    live_model = TraceTableModel()
    live = TracePanel(live_model)
    live.resize(1400, 700)
    live.show()
    batches = [frames[i : i + args.batch] for i in range(0, len(frames), args.batch)]
    started = time.perf_counter()
    worst = 0.0
    for batch in batches:
        one = time.perf_counter()
        live.append(batch)
        app.processEvents()
        worst = max(worst, time.perf_counter() - one)
    total = time.perf_counter() - started
    print(
        f"  live: {len(batches)} batches of {args.batch} with Follow  "
        f"{total * 1000:8.1f} ms total, {total / len(batches) * 1000:.2f} ms per batch "
        f"(worst {worst * 1000:.1f} ms)"
    )
    live.close()

    print("filtering (on all frames)")
    panel.text_edit.setText("tag-976")
    timed("text filter 'tag-976' (raw frame text)", app, panel.apply_filters)
    print(f"    {model.rowCount():,} rows match")
    panel.text_edit.setText("")
    timed("clear the text filter", app, panel.apply_filters)
    timed("station filter CP-007", app, lambda: panel.set_station_filter("CP-007"))
    timed("station filter off", app, lambda: panel.set_station_filter(None))
    timed("problems only", app, lambda: panel.errors_check.setChecked(True))
    print(f"    {model.rowCount():,} rows match")
    timed("problems only off", app, lambda: panel.errors_check.setChecked(False))
    timed(
        "set_filter(action=ReserveNow)",
        app,
        lambda: model.set_filter(TraceFilter(action="ReserveNow")),
    )
    timed("set_filter(none)", app, lambda: model.set_filter(TraceFilter()))

    print("selecting")
    timed("select row 50,000 and format its frame", app, lambda: panel.select_row(args.frames // 2))
    assert panel.detail.toPlainText()
    timed("jump to its answer", app, panel.jump_to_partner)
    timed("select the last row", app, lambda: panel.select_row(model.rowCount() - 1))

    asyncio.run(database_read(frames))

    rss_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"peak memory (max RSS): {rss_kib / 1024:.0f} MB")
    panel.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
