"""The commissioning report: one PDF per station or for the whole site, for the customer.

Built as HTML (Qt's rich-text subset, :mod:`console.ui.report.report_html`) and printed with
:class:`QPdfWriter` (:mod:`console.ui.report.report_pdf`) — Qt's own, no new dependency. It
opens on the verdict (:mod:`console.central.verdict`): the site's, then each station's, Ready
or Needs attention with the reasons. Per station: identity and firmware, how it connected,
each connector's last status, every reservation test with how it ended, its latest
reservation conformance check, and the protocol problems the trace saw; a sign-off block
ends it. :class:`ReportRunner` gathers the data from the running Central System with a
progress dialog; ``ocpp-console report`` makes the same PDF from the data folder
(:mod:`console.ui.report.report_command`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QProgressDialog, QWidget

from console.central.check.model import CheckArchive, CheckResult
from console.central.model import CentralSystemApi
from console.ui.report.report_html import report_html, report_images
from console.ui.report.report_model import (
    ReportData,
    StationReport,
    ended_at,
    finished_checks,
    gather_report,
)
from console.ui.report.report_pdf import laid_out, write_pdf

__all__ = [
    "ReportData",
    "ReportRunner",
    "StationReport",
    "ended_at",
    "laid_out",
    "report_html",
    "report_images",
    "write_pdf",
]

_log = logging.getLogger(__name__)


class ReportRunner(QObject):
    """Gathers a report's data (the trace from the database), then writes the PDF."""

    sig_finished = Signal(str)
    """(path): the report is written."""
    sig_cancelled = Signal()
    """The technician cancelled; no file was written."""
    sig_failed = Signal(str)
    """(message): writing failed."""
    sig_progress = Signal(int, int)
    """(stations done, stations in all)."""

    def __init__(
        self,
        central: CentralSystemApi,
        check_archive: CheckArchive | None = None,
        parent: QObject | None = None,
        *,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        super().__init__(parent)
        self._central = central
        self._check_archive = check_archive
        self._dialog_parent: QWidget | None = None
        self._clock = clock or (lambda: datetime.now(UTC))
        self.dialog: QProgressDialog | None = None
        self.last_html: str | None = None
        """The HTML of the last report written (tests read its text)."""
        self._cancelled = False

    def set_dialog_parent(self, widget: QWidget | None) -> None:
        """Show the progress dialog over ``widget`` (the window), modal to it."""
        self._dialog_parent = widget

    def cancel(self) -> None:
        self._cancelled = True

    async def gather(self, station_id: str | None, site_name: str | None = None) -> ReportData:
        """Collect what the report shows for one station (None: the whole site)."""
        return await gather_report(
            self._central,
            None if station_id is None else [station_id],
            self._finished_checks(),
            generated_at=self._clock(),
            site_name=site_name,
            on_station=self._step,
            stopped=lambda: self._cancelled,
        )

    def _finished_checks(self) -> dict[str, list[CheckResult]]:
        """The stored reservation checks of each station, oldest first (running ones left out)."""
        if self._check_archive is None:
            return {}
        try:
            results = self._check_archive.checks()
        except Exception:
            # A report without its checks is still worth writing; the log says why.
            _log.exception("reading the reservation checks for the report failed")
            return {}
        return finished_checks(results)

    async def run(self, station_id: str | None, path: Path, site_name: str | None = None) -> bool:
        """Write the report to ``path``; False if cancelled or failed.

        ``site_name``: the site or customer, printed under the title (optional).
        """
        self._cancelled = False
        dialog = QProgressDialog("Gathering the report…", "Cancel", 0, 1, self._dialog_parent)
        dialog.setWindowTitle("Commissioning report")
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.setMinimumDuration(400)
        dialog.setAutoClose(False)
        dialog.setAutoReset(False)
        dialog.canceled.connect(self.cancel)
        self.dialog = dialog
        try:
            data = await self.gather(station_id, site_name)
            if self._cancelled:
                _log.info("report to %s cancelled", path)
                self.sig_cancelled.emit()
                return False
            dialog.setLabelText(f"Writing {path.name}…")
            await asyncio.sleep(0)
            self.last_html = report_html(data)
            write_pdf(self.last_html, path, report_images(data))
        except Exception as exc:
            _log.exception("writing the report to %s failed", path)
            self.sig_failed.emit(f"Writing the report to {path} failed: {exc}")
            return False
        finally:
            dialog.reset()
            dialog.close()
            dialog.deleteLater()
            self.dialog = None
        _log.info("commissioning report (%s) written to %s", data.scope, path)
        self.sig_finished.emit(str(path))
        return True

    def _step(self, done: int, total: int) -> None:
        if self.dialog is not None:
            self.dialog.setRange(0, max(1, total))
            self.dialog.setValue(done)
        self.sig_progress.emit(done, total)
