"""The demo site the report tests write reports of, and how they write and read them."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtGui import QTextDocument

from console.central.model import ReservationState
from console.chargepoint.simulator import Behaviour
from console.ui.trace.trace_tools import ReportDialog
from tests.ui.export_site import Site

DEMO = [
    ("CP-01", Behaviour.NORMAL),
    ("CP-02", Behaviour.FAULTED),
    ("CP-03", Behaviour.NO_RESERVATIONS),
    ("CP-04", Behaviour.UNAVAILABLE),
    ("CP-06", Behaviour.SLOW),
    ("CP-07", Behaviour.CARD_ARRIVES),
]


@pytest.fixture(name="demo_site")
def demo_site_fixture(make_site: Callable[[list[tuple[str, Behaviour]]], Site]) -> Site:
    site = make_site(DEMO)
    site.refuse_a_station("CP-09")
    assert site.reserve("CP-01", 1, "TECH-0001").state is ReservationState.ACCEPTED
    assert site.reserve("CP-02", 1, "TECH-0002").state is ReservationState.FAULTED
    assert site.reserve("CP-03", 2, "TECH-0003").state is ReservationState.REJECTED
    assert site.reserve("CP-04", 1, "TECH-0004").state is ReservationState.UNAVAILABLE
    assert site.reserve("CP-07", 1, "TECH-0007").state is ReservationState.ACCEPTED
    slow = site.reserve("CP-06", 1, "TECH-0006")
    assert slow.state is ReservationState.NO_RESPONSE
    # The slow station's late answer reconciles the record (and is traced as late).
    site.qtbot.waitUntil(
        lambda: any(e.late for e in site.central.recent_trace() if e.station_id == "CP-06"),
        timeout=20_000,
    )
    # CP-07's reserved card arrives: its reservation is used.
    site.qtbot.waitUntil(
        lambda: any(
            r.id_tag == "TECH-0007" and r.state is ReservationState.USED
            for r in site.central.reservations()
        ),
        timeout=20_000,
    )
    return site


def write_report(
    site: Site, path: Path, station_id: str | None, site_name: str | None = None
) -> str:
    tools = site.window.trace_tools
    tools.report_action.trigger()
    dialog = tools.dialog
    assert isinstance(dialog, ReportDialog)
    dialog.set_station(station_id)
    if site_name is not None:
        dialog.site_edit.setText(site_name)
    dialog.path_edit.setText(str(path))
    with site.qtbot.waitSignal(tools.reporter.sig_finished, timeout=30_000):
        dialog.buttons.accepted.emit()
    html = tools.reporter.last_html
    assert html is not None
    document = QTextDocument()
    document.setHtml(html)
    return document.toPlainText()


def pdf_text(path: Path) -> str | None:
    tool = shutil.which("pdftotext")
    if tool is None:
        return None
    done = subprocess.run(
        [tool, "-layout", str(path), "-"], capture_output=True, text=True, check=True, timeout=30
    )
    return done.stdout


def flat(text: str) -> str:
    """The text with every run of white space (line ends too) as one space."""
    return " ".join(text.split())


def station_sections(text: str) -> dict[str, str]:
    """The text of each station's pages, from its heading to the next station's (the last
    one runs to the end: the sign-off)."""
    parts = re.split(r"\n\s*Station (\S+)\s*\n", text)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def pages(text: str) -> list[str]:
    """pdftotext's pages (it ends each with a form feed)."""
    return text.split("\f")[:-1] if text.endswith("\f") else text.split("\f")
