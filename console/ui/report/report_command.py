"""``ocpp-console report``: the commissioning PDF from a data folder, headless.

For automation, and for an office that has the data folder but not the window: the same
report as File > Commissioning report…, made from what the console stored (stations,
connectors, reservations, the trace, the reservation checks) without starting the Central
System. Qt draws the PDF offscreen when there is no display. Prints where the report went
and its verdict; exits 0 when it is written, 2 when the data folder, the settings or a
station id cannot be used, 1 when the file cannot be written.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

from pydantic import ValidationError
from PySide6.QtGui import QGuiApplication

from console.central.cli import config_from_args
from console.central.stored_site import StoredSite, StoredSiteError
from console.ui.report.report_html import report_html, report_images
from console.ui.report.report_model import finished_checks, gather_report
from console.ui.report.report_pdf import write_pdf

__all__ = ["EXIT_BAD_INPUT", "EXIT_NOT_WRITTEN", "EXIT_WRITTEN", "run_report_command"]

_log = logging.getLogger(__name__)

EXIT_WRITTEN = 0
EXIT_NOT_WRITTEN = 1
EXIT_BAD_INPUT = 2

_PROGRAM = "ocpp-console report"


def _fail(message: str, code: int) -> int:
    print(f"{_PROGRAM}: {message}", file=sys.stderr, flush=True)
    return code


def _output_problem(path: Path) -> str | None:
    """Why the report cannot be written to ``path`` (None: it looks writable)."""
    if path.is_dir():
        return f"cannot write the report to {path}: it is a folder"
    folder = path.parent
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        return f"cannot write the report to {path}: {existing} is not a folder"
    if not os.access(existing, os.W_OK | os.X_OK):
        return f"cannot write the report to {path}: the folder {existing} is read-only"
    if path.exists() and not os.access(path, os.W_OK):
        return f"cannot write the report to {path}: the file is read-only"
    return None


def _headless_platform() -> None:
    """Draw offscreen unless told otherwise: a report needs no screen, and over ssh (or on a
    server) there is none to connect to."""
    if os.environ.get("QT_QPA_PLATFORM"):
        return
    if sys.platform in ("win32", "darwin"):
        return  # always a display there, and the native platform has the fonts
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        os.environ["QT_QPA_PLATFORM"] = "offscreen"


def run_report_command(args: argparse.Namespace) -> int:
    """Write the report ``args`` ask for; returns the process exit code."""
    out = Path(args.out).expanduser()
    problem = _output_problem(out)
    if problem is not None:
        return _fail(problem, EXIT_BAD_INPUT)
    try:
        config = config_from_args(args)
    except (OSError, ValueError, ValidationError) as exc:
        return _fail(f"bad settings: {exc}", EXIT_BAD_INPUT)
    try:
        site = StoredSite.open(config)
    except StoredSiteError as exc:
        return _fail(str(exc), EXIT_BAD_INPUT)
    with site:
        known = sorted(s.station_id for s in site.stations())
        wanted: list[str] | None = list(dict.fromkeys(args.station)) if args.station else None
        unknown = [sid for sid in wanted or [] if sid not in known]
        if unknown:
            return _fail(
                f"no station {', '.join(unknown)} in {config.resolved_data_dir()} "
                f"(stations there: {', '.join(known) or 'none'})",
                EXIT_BAD_INPUT,
            )
        _headless_platform()
        _app = QGuiApplication.instance() or QGuiApplication([sys.argv[0] or "ocpp-console"])
        data = asyncio.run(
            gather_report(
                site,
                wanted,
                finished_checks(site.checks()),
                generated_at=datetime.now(UTC),
                site_name=(" ".join(args.site.split()) if args.site else None),
                stored_in=config.resolved_data_dir(),
            )
        )
    try:
        write_pdf(report_html(data), out, report_images(data))
    except OSError as exc:
        _log.debug("writing %s failed", out, exc_info=True)
        return _fail(f"cannot write the report to {out}: {exc}", EXIT_NOT_WRITTEN)
    verdict = data.verdict()
    needing = ", ".join(v.station_id for v in verdict.needing_attention)
    print(f"Report written to {out.resolve()}", flush=True)
    print(
        f"Verdict: {verdict.readiness.value}" + (f" ({needing})" if needing else ""),
        flush=True,
    )
    return EXIT_WRITTEN
