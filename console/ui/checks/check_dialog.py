"""The "Check reservations…" dialog: pick connectors and an idTag, run the check, watch it.

The dialog is opened with ``open()``/``show()`` (never ``exec()``: the check runs on the
same asyncio loop as the window). It asks the
:class:`~console.central.check.service.CheckService` to start the check and follows it; the
service owns the task, so closing the dialog asks the service to cancel the check and the
clean-up (cancelling every reservation the check made) finishes all the same.

It is over 600 lines because it is one dialog with two pages that share one state machine
(setup, running, cancelling, finished); its models and its timeline are modules of their own.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable
from datetime import UTC, datetime

from PySide6.QtCore import QEvent, QItemSelection, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QFontDatabase, QTextCursor, QTextOption
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QDialog,
    QFormLayout,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from console.central.check.model import (
    CheckOutcome,
    CheckRequest,
    CheckResult,
    StepResult,
    Verdict,
)
from console.central.check.service import CheckEnded, CheckService, RunningCheck
from console.central.model import StationSnapshot, TraceDirection, TraceEntry
from console.ocpp.enums import ChargePointStatus
from console.ui.checks.check_steps_model import (
    CheckStepsModel,
    fit_step_columns,
    outcome_look,
    verdict_look,
    verdict_summary,
)
from console.ui.checks.timeline_view import CheckTimeline
from console.ui.look.field_messages import error_label, field_stack, show_message
from console.ui.look.presentation import Look, connector_status_look
from console.ui.look.resources import icon
from console.ui.reservations.reservation_rules import id_tag_problem
from console.ui.stations.station_model import StationTreeModel

__all__ = ["CheckState", "ReservationCheckDialog", "evidence_lines"]

_log = logging.getLogger(__name__)

Clock = Callable[[], datetime]

INTRO_TEXT = (
    "Reservations will be made and cancelled on the connectors you pick, for the idTag below "
    "and for that idTag with -OTHER appended. Only Available connectors can be picked. Every "
    "reservation the check makes is cancelled at the end, even if you stop it. Nothing is "
    "charged, except in the guided step: there you present cards at the station and the "
    "reserved card starts charging."
)
CANCELLING_TEXT = "Cancelling — cancelling the reservations the check made…"

_WIDEST_STEP = 380
"""The Step column when the dialog has room: every step's title whole."""
_ROW_HEIGHT = 24
_RUN_PAGE_SIZE = (1060, 760)
_EVIDENCE_MIN_HEIGHT = 120
# Words as well as arrows: a monospace font draws arrows small.
_DIRECTIONS = {
    TraceDirection.OUT: "OUT →",
    TraceDirection.IN: "IN  ←",
    TraceDirection.EVENT: "    •",
}


class CheckState(enum.Enum):
    """Where the dialog is: choosing, running, cancelling, finished."""

    SETUP = "setup"
    RUNNING = "running"
    CANCELLING = "cancelling"
    FINISHED = "finished"


class ReservationCheckDialog(QDialog):
    """Sets up and runs one reservation check on one station, with live progress.

    The setup page lists the station's connectors (only Available ones can be picked) and
    asks for the idTag; the run page shows every step as it runs, the prompt of the guided
    step, the frames behind the selected step, and the verdicts at the end. The check runs
    in the check service: its errors are shown here, and closing the dialog while it runs
    asks first, then has the service cancel the check and closes once the clean-up is done.
    """

    sig_finished = Signal(object)
    """CheckResult: the check ended (passed, failed, cancelled or aborted) and cleaned up."""
    sig_failed = Signal(str)
    """The check could not start or broke inside the console; the text says why."""

    def __init__(
        self,
        stations: StationTreeModel,
        station_id: str,
        checks: CheckService,
        parent: QWidget | None = None,
        *,
        connector_id: int | None = None,
        clock: Clock | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("check_dialog")
        self.setWindowTitle(f"Check reservations — {station_id}")
        self.setWindowIcon(icon("check-reservations"))
        self._stations = stations
        self.station_id = station_id
        self._checks = checks
        self._clock: Clock = clock or (lambda: datetime.now(UTC))
        self._preselect = connector_id
        self._state = CheckState.SETUP
        self._check: RunningCheck | None = None
        self._unsubscribe: list[Callable[[], None]] = []
        self._close_when_done = False
        self._splitter_moved = False
        """The technician dragged the run page's splitter: leave the sizes alone."""
        self._shown_prompt: str | None = None
        self._evidence_shown: tuple[int | None, int] = (None, 0)
        """(row, number of frames) the evidence view holds, to append only what is new."""
        self.final_result: CheckResult | None = None
        self.confirm_box: QMessageBox | None = None
        """The "stop the check?" question while it is open."""

        # --- setup page
        self.intro_label = QLabel(INTRO_TEXT)
        self.intro_label.setWordWrap(True)
        self.station_label = QLabel()
        self.station_label.setObjectName("check_station")
        self.station_label.setWordWrap(True)
        self.connector_box = QGroupBox("Connectors to check")
        self.connector_layout = QVBoxLayout(self.connector_box)
        self.connector_checks: dict[int, QCheckBox] = {}
        self.no_connector_label = QLabel("The station has not reported any connector yet.")
        self.no_connector_label.setProperty("role", "field-hint")
        self.connector_layout.addWidget(self.no_connector_label)
        self.connector_error = error_label()
        self.id_tag_edit = QLineEdit()
        self.id_tag_edit.setObjectName("check_id_tag")
        self.id_tag_edit.setPlaceholderText("the card's idTag, 1 to 20 characters")
        self.id_tag_error = error_label()
        self.guided_check = QCheckBox(
            "Include the guided card step (you present cards at the station)"
        )
        self.guided_check.setObjectName("check_guided")
        self.start_button = QPushButton(icon("check-reservations"), "Start")
        self.start_button.setObjectName("check_start")
        self.start_button.setDefault(True)
        self.setup_close_button = QPushButton("Close")

        # --- run page
        self.status_label = QLabel()
        self.status_label.setObjectName("check_status")
        self.status_label.setWordWrap(True)
        self.status_label.setProperty("role", "answer")
        self.prompt_label = QLabel()
        self.prompt_label.setObjectName("check_prompt")
        self.prompt_label.setWordWrap(True)
        self.skip_button = QPushButton("Skip this step")
        self.skip_button.setObjectName("check_skip")
        self.prompt_banner = _prompt_banner(self.prompt_label, self.skip_button)
        self.prompt_banner.setVisible(False)
        self.steps_model = CheckStepsModel(self, clock=self._clock)
        self.steps_view = QTableView()
        self.steps_view.setObjectName("check_steps")
        self.timeline = CheckTimeline()
        """The connectors' statuses over time with the check's reservations, live."""
        self.evidence_title = QLabel("Evidence: select a step")
        self.evidence_title.setProperty("role", "field-hint")
        self.evidence_title.setWordWrap(True)  # a long reason must not widen the dialog
        self.evidence_view = QPlainTextEdit()
        self.evidence_view.setObjectName("check_evidence")
        self.evidence_view.setReadOnly(True)
        # Wrapped, anywhere (a frame's JSON has no spaces): a long frame stays readable
        # instead of running off to the right, as in the checks panel.
        self.evidence_view.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        self.evidence_view.setWordWrapMode(QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere)
        self.evidence_view.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.evidence_view.setPlaceholderText("No frames for this step (yet).")
        self.summary_label = QLabel()
        self.summary_label.setObjectName("check_summary")
        self.summary_label.setWordWrap(True)
        self.summary_label.setVisible(False)
        self.left_behind_label = QLabel()
        self.left_behind_label.setObjectName("check_left_behind")
        self.left_behind_label.setWordWrap(True)
        self.left_behind_label.setVisible(False)
        self.cancel_button = QPushButton("Cancel check")
        self.cancel_button.setObjectName("check_cancel")
        self.run_close_button = QPushButton("Close")
        self.run_close_button.setObjectName("check_close")
        self.run_close_button.setEnabled(False)

        self.pages = QStackedWidget()
        self.setup_page = self._build_setup_page()
        self.run_page = self._build_run_page()
        self.pages.addWidget(self.setup_page)
        self.pages.addWidget(self.run_page)
        layout = QVBoxLayout(self)
        layout.addWidget(self.pages)

        self._second_timer = QTimer(self)
        self._second_timer.setInterval(1000)
        self._connect_signals()
        self.refresh_station()
        self.resize(720, 460)

    # --- construction -----------------------------------------------------------------------

    def _build_setup_page(self) -> QWidget:
        page = QWidget()
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.addRow("Station", self.station_label)
        form.addRow("idTag", field_stack(self.id_tag_edit, self.id_tag_error))
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.start_button)
        buttons.addWidget(self.setup_close_button)
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.intro_label)
        layout.addSpacing(6)
        layout.addLayout(form)
        layout.addWidget(self.connector_box)
        layout.addWidget(self.connector_error)
        layout.addWidget(self.guided_check)
        layout.addStretch(1)
        layout.addLayout(buttons)
        return page

    def _build_run_page(self) -> QWidget:
        view = self.steps_view
        view.setModel(self.steps_model)
        view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        view.setAlternatingRowColors(True)
        view.setWordWrap(False)
        view.verticalHeader().setVisible(False)
        view.verticalHeader().setDefaultSectionSize(_ROW_HEIGHT)
        # The reason takes what is left: no sideways scrolling on a laptop screen.
        fit_step_columns(view, widest_step=_WIDEST_STEP)
        view.viewport().installEventFilter(self)  # the Step column follows its width

        evidence = QWidget()
        evidence_layout = QVBoxLayout(evidence)
        evidence_layout.setContentsMargins(0, 0, 0, 0)
        evidence_layout.setSpacing(2)
        evidence_layout.addWidget(self.evidence_title)
        evidence_layout.addWidget(self.evidence_view)

        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(view)
        splitter.addWidget(self.timeline)
        splitter.addWidget(evidence)
        splitter.setChildrenCollapsible(False)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        splitter.setStretchFactor(2, 2)
        self.run_splitter = splitter

        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.run_close_button)
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.status_label)
        layout.addWidget(self.prompt_banner)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.summary_label)
        layout.addWidget(self.left_behind_label)
        layout.addLayout(buttons)
        return page

    def _connect_signals(self) -> None:
        self.id_tag_edit.textChanged.connect(self.validate)
        self.id_tag_edit.returnPressed.connect(self.start)
        self.start_button.clicked.connect(self.start)
        self.setup_close_button.clicked.connect(self.reject)
        self.cancel_button.clicked.connect(self.cancel_check)
        self.run_close_button.clicked.connect(self.reject)
        self.skip_button.clicked.connect(self.skip_step)
        self._stations.sig_stations_changed.connect(self._on_stations_changed)
        self._stations.dataChanged.connect(self._on_stations_changed)
        self.steps_view.selectionModel().selectionChanged.connect(self._on_step_selected)
        self._second_timer.timeout.connect(self.steps_model.tick)
        self.run_splitter.splitterMoved.connect(self._on_splitter_moved)

    # --- setup ------------------------------------------------------------------------------

    @property
    def state(self) -> CheckState:
        return self._state

    def _on_stations_changed(self, *_args: object) -> None:
        if self._state is CheckState.SETUP:
            self.refresh_station()

    def refresh_station(self) -> None:
        """Show the station and its connectors as the window knows them now."""
        station = self._stations.station(self.station_id)
        self.station_label.setText(_station_text(self.station_id, station))
        ids = self._stations.connector_ids(self.station_id)
        if list(self.connector_checks) != ids:
            self._rebuild_connector_checks(ids)
        for connector_id, box in self.connector_checks.items():
            snapshot = self._stations.connector(self.station_id, connector_id)
            status = snapshot.status if snapshot is not None else None
            available = status is ChargePointStatus.AVAILABLE
            label = f"Connector {connector_id} — {connector_status_look(status).text}"
            if not available:
                label += " (only Available connectors can be checked)"
                box.setChecked(False)
            if box.text() != label:
                box.setText(label)
            box.setEnabled(available)
        self.validate()

    def _rebuild_connector_checks(self, ids: list[int]) -> None:
        picked = {i for i, box in self.connector_checks.items() if box.isChecked()}
        first_time = not self.connector_checks
        for box in self.connector_checks.values():
            self.connector_layout.removeWidget(box)
            box.deleteLater()
        self.connector_checks = {}
        for connector_id in ids:
            box = QCheckBox()
            box.setObjectName(f"check_connector_{connector_id}")
            box.toggled.connect(self.validate)
            self.connector_checks[connector_id] = box
            self.connector_layout.addWidget(box)
        self.no_connector_label.setVisible(not ids)
        if first_time:
            picked = self._initial_pick(ids)
        for connector_id in picked:
            if connector_id in self.connector_checks:
                self.connector_checks[connector_id].setChecked(True)

    def _initial_pick(self, ids: list[int]) -> set[int]:
        """The connector the technician started from, else the first Available one."""
        available = [
            i
            for i in ids
            if (c := self._stations.connector(self.station_id, i)) is not None
            and c.status is ChargePointStatus.AVAILABLE
        ]
        if self._preselect in available:
            return {self._preselect}
        if self._preselect is not None and self._preselect != 0:
            return set()  # the one they asked for is not Available: say so, pick none
        return set(available[:1])

    def picked_connectors(self) -> list[int]:
        return [
            i for i, box in self.connector_checks.items() if box.isChecked() and box.isEnabled()
        ]

    def validation_errors(self) -> dict[str, str]:
        """Field -> what is wrong (empty when the check can start)."""
        errors: dict[str, str] = {}
        station = self._stations.station(self.station_id)
        if station is None or not station.connected:
            errors["station"] = f"{self.station_id} is not connected"
        if not self.picked_connectors():
            errors["connectors"] = "Pick at least one Available connector"
        problem = id_tag_problem(self.id_tag_edit.text())
        if problem:
            errors["id_tag"] = problem
        return errors

    def validate(self) -> bool:
        """Show what is wrong at its field; Start is enabled only when nothing is."""
        errors = self.validation_errors()
        connector_text = errors.get("connectors") or errors.get("station") or ""
        show_message(self.connector_error, connector_text)
        # Typing starts empty: say "required" only once the technician has typed something.
        id_tag_text = errors.get("id_tag", "") if self.id_tag_edit.isModified() else ""
        show_message(self.id_tag_error, id_tag_text)
        invalid = "id_tag" in errors and self.id_tag_edit.isModified()
        if self.id_tag_edit.property("invalid") != invalid:
            self.id_tag_edit.setProperty("invalid", invalid)
            self.id_tag_edit.style().unpolish(self.id_tag_edit)
            self.id_tag_edit.style().polish(self.id_tag_edit)
        self.id_tag_edit.setToolTip(errors.get("id_tag", ""))
        valid = not errors
        self.start_button.setEnabled(valid and self._state is CheckState.SETUP)
        self.start_button.setToolTip("" if valid else "\n".join(errors.values()))
        return valid

    def request(self) -> CheckRequest | None:
        """What the technician asked for, or None while the setup is invalid."""
        if not self.validate():
            return None
        return CheckRequest(
            station_id=self.station_id,
            connectors=tuple(self.picked_connectors()),
            id_tag=self.id_tag_edit.text().strip(),
            guided=self.guided_check.isChecked(),
        )

    # --- running ----------------------------------------------------------------------------

    def start(self) -> None:
        """Start the check (from the Start button); the run page follows it live."""
        if self._state is not CheckState.SETUP:
            return
        request = self.request()
        if request is None:
            return
        try:
            check = self._checks.start(request)
        except Exception as exc:
            _log.exception("%s: the reservation check could not start", self.station_id)
            self._show_error_text(f"The check could not start: {exc}")
            self.sig_failed.emit(f"{self.station_id}: the reservation check could not start: {exc}")
            return
        self._check = check
        self._state = CheckState.RUNNING
        self.pages.setCurrentWidget(self.run_page)
        self._fit_run_page()
        self.cancel_button.setEnabled(True)
        self.run_close_button.setEnabled(False)
        # The service's task has not run yet: nothing is missed by listening now.
        self._unsubscribe = [
            check.subscribe(self._on_result),
            check.subscribe_cancel(self._on_cancelling),
            check.subscribe_end(self._on_end),
        ]
        self._on_result(check.result)
        self._second_timer.start()
        # After this page's layout pass: the splitter's sizes are shares of its real height.
        QTimer.singleShot(0, self, self._share_run_page)

    def _fit_run_page(self) -> None:
        width, height = _RUN_PAGE_SIZE
        screen = self.screen()
        if screen is None:
            self.resize(max(self.width(), width), max(self.height(), height))
            return
        available = screen.availableGeometry()
        width = min(width, int(available.width() * 0.95))
        height = min(height, int(available.height() * 0.9))
        self.resize(max(self.width(), width), max(self.height(), height))
        # It grew from where the smaller setup page sat: on a laptop's 768 rows its bottom
        # (and the Cancel / Close buttons) would fall off the screen. Move it back on.
        frame = self.frameGeometry()
        x = max(available.left(), min(frame.left(), available.right() + 1 - frame.width()))
        y = max(available.top(), min(frame.top(), available.bottom() + 1 - frame.height()))
        if (x, y) != (frame.left(), frame.top()):
            self.move(x, y)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.steps_view.viewport() and event.type() == QEvent.Type.Resize:
            fit_step_columns(self.steps_view, widest_step=_WIDEST_STEP)
        return super().eventFilter(watched, event)

    def _on_splitter_moved(self, _position: int, _index: int) -> None:
        self._splitter_moved = True

    def _grow_timeline(self) -> None:
        """Give the timeline the height it needs as lanes and spans appear (from the
        evidence view, which scrolls), unless the technician has arranged the page."""
        if self._splitter_moved or self.pages.currentWidget() is not self.run_page:
            return
        sizes = self.run_splitter.sizes()
        wanted = self.timeline.preferred_height(max(self.timeline.width(), 600))
        missing = wanted - sizes[1]
        spare = sizes[2] - _EVIDENCE_MIN_HEIGHT
        if missing > 0 and spare > 0:
            moved = min(missing, spare)
            self.run_splitter.setSizes([sizes[0], sizes[1] + moved, sizes[2] - moved])

    def _share_run_page(self) -> None:
        """Every step row visible, the whole timeline, the rest for the evidence."""
        total = sum(self.run_splitter.sizes())
        table = (
            self.steps_view.horizontalHeader().height()
            + self.steps_model.rowCount() * _ROW_HEIGHT
            + 2 * self.steps_view.frameWidth()
            + 4
        )
        timeline = self.timeline.preferred_height(max(self.timeline.width(), 600))
        evidence = max(_EVIDENCE_MIN_HEIGHT, total - table - timeline)
        self.run_splitter.setSizes([table, timeline, evidence])

    def _on_end(self, ended: CheckEnded) -> None:
        if ended.error is not None:
            exc = ended.error
            self._finish(ended.result, error=f"{type(exc).__name__}: {exc}")
            self.sig_failed.emit(f"{self.station_id}: the reservation check failed: {exc}")
            return
        self._finish(ended.result, error=None)
        if not ended.interrupted:
            self.sig_finished.emit(ended.result)

    def cancel_check(self) -> None:
        """Ask the service to stop the check; it cancels what it reserved, then ends."""
        if self._state is not CheckState.RUNNING or self._check is None:
            return
        _log.info("%s: cancelling the reservation check", self.station_id)
        self._checks.cancel(self._check)

    def _on_cancelling(self, _check: RunningCheck) -> None:
        # Here, or from the service (the console closing): the clean-up has started.
        if self._state is not CheckState.RUNNING:
            return
        self._state = CheckState.CANCELLING
        self.cancel_button.setEnabled(False)
        self.skip_button.setEnabled(False)
        self._show_status(outcome_look(CheckOutcome.CANCELLED), CANCELLING_TEXT)

    def skip_step(self) -> None:
        """Give up the step that waits for the technician (the guided card step)."""
        if self._state is not CheckState.RUNNING or self._check is None:
            return
        self.skip_button.setEnabled(False)
        self.skip_button.setText("Skipping…")
        self._check.skip_current_step()

    def is_running(self) -> bool:
        """The check has started and run() has not returned yet."""
        return self._state in (CheckState.RUNNING, CheckState.CANCELLING)

    def _on_result(self, result: CheckResult) -> None:
        self.steps_model.set_result(result)
        self._show_prompt(result)
        self._refresh_evidence()
        self._refresh_timeline(result)
        if self._state is CheckState.RUNNING:
            self._show_status(outcome_look(CheckOutcome.RUNNING), _progress_text(result))

    def _finish(self, result: CheckResult, *, error: str | None) -> None:
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe = []
        self._second_timer.stop()
        self._state = CheckState.FINISHED
        self.final_result = result
        self.steps_model.set_result(result)
        self._refresh_evidence()
        self._refresh_timeline(result)
        self.prompt_banner.setVisible(False)
        self.cancel_button.setEnabled(False)
        self.run_close_button.setEnabled(True)
        self.run_close_button.setDefault(True)
        if error is not None:
            self._show_status(
                outcome_look(CheckOutcome.ABORTED),
                f"The check broke inside the console: {error}. "
                "Reservations it made may still be held; see the reservations table.",
            )
        else:
            look = outcome_look(result.outcome)
            text = f"{look.text} — {verdict_summary(result)}"
            if result.reason:
                text += f" ({result.reason})"
            if result.spans and not result.left_behind:
                # The promise of the setup page kept, said where the technician looks.
                text += " · nothing it reserved is left on the station"
            self._show_status(look, text)
        failed = result.failed_steps
        self.summary_label.setText(
            "Failed: " + "; ".join(f"{s.number}. {s.title}" for s in failed) if failed else ""
        )
        self.summary_label.setVisible(bool(failed))
        self._show_left_behind(result)
        _log.info(
            "%s: reservation check ended %s (%s)",
            self.station_id,
            result.outcome.value,
            verdict_summary(result),
        )
        if self._close_when_done:
            self.done(QDialog.DialogCode.Rejected)

    # --- what the run page shows ------------------------------------------------------------

    def status_text(self) -> str:
        return self.status_label.text()

    def prompt_text(self) -> str | None:
        """The guided step's prompt while the banner shows it."""
        return self.prompt_label.text() if self.prompt_banner.isVisibleTo(self) else None

    def _show_status(self, look: Look, text: str) -> None:
        self.status_label.setText(text)
        self.status_label.setStyleSheet(
            f"color: {look.screen_foreground}; background: {look.screen_background}; padding: 4px;"
        )

    def _show_error_text(self, text: str) -> None:
        show_message(self.connector_error, text)

    def _show_prompt(self, result: CheckResult) -> None:
        prompt = next(
            (s.prompt for s in result.steps if s.verdict is Verdict.RUNNING and s.prompt),
            None,
        )
        running = self._state is CheckState.RUNNING
        if prompt != self._shown_prompt:
            self._shown_prompt = prompt
            self.prompt_label.setText(prompt or "")
            self.skip_button.setText("Skip this step")
            self.skip_button.setEnabled(running)
        self.prompt_banner.setVisible(prompt is not None and running)

    def _show_left_behind(self, result: CheckResult) -> None:
        if not result.left_behind:
            self.left_behind_label.setVisible(False)
            return
        ids = ", ".join(str(i) for i in result.left_behind)
        self.left_behind_label.setText(
            f"⚠ The clean-up could not cancel reservation(s) {ids} on {result.station_id}: "
            "the station may still hold them. Cancel them from the reservations table, or "
            "they end at their expiry time."
        )
        look = outcome_look(CheckOutcome.FAILED)
        self.left_behind_label.setStyleSheet(
            f"color: {look.screen_foreground}; background: {look.screen_background};"
            f" border: 2px solid {look.screen_foreground}; padding: 6px; font-weight: bold;"
        )
        self.left_behind_label.setVisible(True)

    def _on_step_selected(self, _selected: QItemSelection, _deselected: QItemSelection) -> None:
        self._refresh_evidence()

    def shown_step_row(self) -> int | None:
        """The step whose frames the evidence view shows: the selected one, else the
        running one, else the first that failed, else the last with frames."""
        rows = self.steps_view.selectionModel().selectedRows()
        if rows:
            return rows[0].row()
        running = self.steps_model.running_row()
        if running is not None:
            return running
        steps = [self.steps_model.step(row) for row in range(self.steps_model.rowCount())]
        for row, step in enumerate(steps):
            if step is not None and step.verdict is Verdict.FAILED:
                return row
        last: int | None = None
        for row, step in enumerate(steps):
            if step is not None and step.evidence and step.verdict is Verdict.PASSED:
                last = row
        return last

    def _refresh_evidence(self) -> None:
        row = self.shown_step_row()
        step = self.steps_model.step(row) if row is not None else None
        if step is None:
            self.evidence_title.setText("Evidence: select a step")
            self.evidence_view.clear()
            self._evidence_shown = (None, 0)
            return
        self.evidence_title.setText(_evidence_title(step))
        shown_row, shown_count = self._evidence_shown
        frames = step.evidence
        if shown_row == row and shown_count == len(frames):
            return
        if shown_row == row and shown_count < len(frames):
            # The running step's frames grow: append only the new ones (keeps the scroll).
            for line in evidence_lines(frames[shown_count:]):
                self.evidence_view.appendPlainText(line)
        else:
            self.evidence_view.setPlainText("\n".join(evidence_lines(frames)))
            self.evidence_view.moveCursor(QTextCursor.MoveOperation.Start)
        self._evidence_shown = (row, len(frames))

    def _refresh_timeline(self, result: CheckResult) -> None:
        self.timeline.set_result(result)
        self._grow_timeline()

    # --- closing ----------------------------------------------------------------------------

    def reject(self) -> None:
        # Esc, the Close buttons and the window's close button all come here.
        if self._state is CheckState.RUNNING:
            self._ask_to_stop()
            return
        if self._state is CheckState.CANCELLING:
            # The clean-up must finish: the dialog closes by itself once it has.
            self._close_when_done = True
            self._show_status(
                outcome_look(CheckOutcome.CANCELLED),
                CANCELLING_TEXT + " (this closes by itself when done)",
            )
            return
        super().reject()

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.is_running():
            event.ignore()
            self.reject()
            return
        super().closeEvent(event)

    def _ask_to_stop(self) -> None:
        if self.confirm_box is not None:
            self.confirm_box.raise_()
            return
        box = QMessageBox(self)
        box.setObjectName("check_stop_confirmation")
        box.setIcon(QMessageBox.Icon.Question)
        box.setWindowTitle("Stop the check?")
        box.setText("The reservation check is still running.")
        box.setInformativeText(
            "Stop it? The reservations it made are cancelled first; the window closes when "
            "that is done."
        )
        stop_button = box.addButton("Stop and close", QMessageBox.ButtonRole.AcceptRole)
        box.addButton("Keep running", QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(stop_button)

        def on_finished(_code: int) -> None:
            self.confirm_box = None
            if box.clickedButton() is stop_button and self._state is CheckState.RUNNING:
                self._close_when_done = True
                self.cancel_check()
            box.deleteLater()

        box.finished.connect(on_finished)
        self.confirm_box = box
        box.open()


def evidence_lines(entries: tuple[TraceEntry, ...] | list[TraceEntry]) -> list[str]:
    """One line per frame: local time with milliseconds, direction, the frame itself."""
    lines = []
    for entry in entries:
        at = entry.at.astimezone().strftime("%H:%M:%S.%f")[:-3]
        arrow = _DIRECTIONS.get(entry.direction, "    •")
        extra = ""
        if entry.late:
            extra += "  (late answer)"
        if entry.latency is not None:
            extra += f"  ({entry.latency * 1000:.0f} ms)"
        if entry.note and entry.direction is not TraceDirection.EVENT:
            extra += f"  [{entry.note}]"
        lines.append(f"{at}  {arrow}  {entry.text}{extra}")
    return lines


def _evidence_title(step: StepResult) -> str:
    where = "the station" if step.connector_id is None else f"connector {step.connector_id}"
    count = len(step.evidence)
    frames = "1 frame" if count == 1 else f"{count} frames"
    title = (
        f"Evidence of step {step.number} on {where}: {frames} "
        "(OUT → sent to the station, IN ← from the station)"
    )
    if step.reason:
        # All of it: the steps table shows only the reason's first line, elided.
        title += f"\n{verdict_look(step.verdict).text}: {step.reason}"
    return title


def _progress_text(result: CheckResult) -> str:
    total = len(result.steps)
    for step in result.steps:
        if step.verdict is Verdict.RUNNING:
            where = "" if step.connector_id is None else f" (connector {step.connector_id})"
            return f"Running step {step.number} of {total}: {step.title}{where}"
    if all(s.verdict is Verdict.PENDING for s in result.steps):
        return "Starting the check…"
    if any(s.verdict is Verdict.PENDING for s in result.steps):
        return "Running…"
    return "Finishing — cancelling what the check reserved…"


def _station_text(station_id: str, station: StationSnapshot | None) -> str:
    if station is None:
        return f"{station_id} (not known)"
    parts = [station_id]
    identity = " ".join(p for p in (station.vendor, station.model) if p)
    if identity:
        parts.append(identity)
    if station.firmware_version:
        parts.append(f"firmware {station.firmware_version}")
    text = " — ".join(parts)
    return text if station.connected else text + " (offline)"


def _prompt_banner(label: QLabel, button: QPushButton) -> QFrame:
    banner = QFrame()
    banner.setObjectName("check_prompt_banner")
    banner.setFrameShape(QFrame.Shape.StyledPanel)
    look = connector_status_look(ChargePointStatus.SUSPENDED_EV)  # amber: "your turn"
    banner.setStyleSheet(
        f"QFrame#check_prompt_banner {{ background: {look.screen_background}; }}"
        f" QLabel {{ color: {look.screen_foreground}; font-weight: bold; }}"
    )
    layout = QHBoxLayout(banner)
    title = QLabel("At the station:")
    layout.addWidget(title, 0, Qt.AlignmentFlag.AlignTop)
    layout.addWidget(label, 1)
    layout.addWidget(button, 0, Qt.AlignmentFlag.AlignTop)
    return banner
