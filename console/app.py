"""Composition root: QApplication, the qasync loop, the Central System and the window.

Everything is built and wired here, once: one QApplication, ONE asyncio loop (qasync's,
driving Qt's), the Central System listening on it, the simulated site for ``--demo``, and
the window. Closing the window stops the simulator, then the Central System, then Qt.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import sys
import tempfile
import time
import traceback
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any

from PySide6.QtCore import QMessageLogContext, Qt, QTimer, QtMsgType, qInstallMessageHandler
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QMessageBox

from console.central.check.model import (
    CheckArchive,
    CheckFactory,
    CheckOptions,
    CheckRequest,
    CheckRunner,
)
from console.central.check.runner import check_factory
from console.central.check.service import CheckService
from console.central.config import CentralSystemConfig
from console.central.model import CentralSystemApi, ReservationState
from console.central.server import CentralSystem
from console.central.settings import (
    ConsoleSettings,
    SettingsLoad,
    command_line_overrides,
    load_settings,
    settings_path,
)
from console.central.site_urls import WILDCARD_HOSTS
from console.chargepoint.simulator import SiteSimulator
from console.ui.change_feed import DEFAULT_FLUSH_INTERVAL_MS, ChangeFeed
from console.ui.event_loop import ConsoleEventLoop
from console.ui.garbage import MainThreadGarbageCollector
from console.ui.look.color_scheme import follow_color_scheme
from console.ui.look.resources import icon
from console.ui.report.report import ReportRunner
from console.ui.reservations.reservation_requests import ReservationRequests
from console.ui.settings.settings_controller import SettingsController
from console.ui.trace.export import ExportRunner
from console.ui.window.main_window import MainWindow, WindowServices
from console.ui.window.window_state import layout_store, restore_layout, save_layout

__all__ = ["AfterStart", "build_window", "report", "run"]

_log = logging.getLogger(__name__)
_qt_log = logging.getLogger("qt")
_PROCESS_STARTED = time.monotonic()

DEMO_CONNECTORS = 2


AfterStart = Callable[[MainWindow, CentralSystem, SiteSimulator | None], Awaitable[None]]
"""Something to do once the window is up (the screenshot script stages a site with it)."""


def run(args: argparse.Namespace, *, after_start: AfterStart | None = None) -> int:
    """Open the console window (with ``--demo``, also a simulated site); the exit code."""
    # settings.json in the per-user config folder; the command line wins for this run only.
    loaded = load_settings()
    overrides = command_line_overrides(args)
    try:
        config = loaded.settings.to_config(**overrides)
    except ValueError as exc:
        print(f"ocpp-console: bad settings: {exc}", file=sys.stderr)
        return 2
    self_test = bool(getattr(args, "self_test", False))
    if self_test:
        # The self-test runs on build machines and when a technician checks the install:
        # never pop up a window there.
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    app = _application()
    # Cyclic garbage is collected on this (the Qt) thread only, never by the store's writer
    # thread or an export worker, where a QObject in a cycle must not be destroyed.
    collector = MainThreadGarbageCollector(app)
    reporter = _ErrorReporter()
    _install_error_hooks(reporter)
    try:
        with asyncio.Runner(loop_factory=lambda: ConsoleEventLoop(app)) as runner:
            runner.get_loop().set_exception_handler(reporter.loop_exception)
            if self_test:
                return runner.run(_self_test(reporter))
            return runner.run(
                _console_session(
                    app,
                    config,
                    getattr(args, "demo", None),
                    reporter,
                    after_start,
                    loaded=loaded,
                    overrides=overrides,
                )
            )
    except KeyboardInterrupt:
        # Ctrl+C in the terminal: the session has already stopped the site and the server.
        _log.info("interrupted")
        return 130
    finally:
        collector.stop()
        collector.deleteLater()


def _application() -> QApplication:
    existing = QApplication.instance()
    if not isinstance(existing, QApplication):
        # Qt 6 always scales for HiDPI; pass fractional factors (125 %, 150 %) through
        # instead of rounding them, so the SVG icons and text stay crisp and sized right.
        QGuiApplication.setHighDpiScaleFactorRoundingPolicy(
            Qt.HighDpiScaleFactorRoundingPolicy.PassThrough
        )
    app = existing if isinstance(existing, QApplication) else QApplication(sys.argv[:1])
    app.setApplicationName("OCPP Console")
    app.setOrganizationName("ocpp-console")
    app.setDesktopFileName("ocpp-console")
    app.setStyle("Fusion")  # the same readable look on every OS
    follow_color_scheme(app)  # light or dark as the system is, and when it switches
    app.setWindowIcon(icon("app"))
    # The window decides when Qt may quit: only after the Central System has stopped.
    app.setQuitOnLastWindowClosed(False)
    return app


def build_window(
    central: CentralSystemApi,
    *,
    flush_interval_ms: int = DEFAULT_FLUSH_INTERVAL_MS,
    clock: Callable[[], datetime] | None = None,
    checks: CheckService | None = None,
    check_archive: CheckArchive | None = None,
) -> MainWindow:
    """The window on ``central`` with the services it shows and drives, connected.

    The console session and the self-test build their window here, and so do the tests.
    ``check_archive``: the stored reservation checks (the checks panel and the report).
    """
    services = WindowServices(
        feed=ChangeFeed(central, flush_interval_ms=flush_interval_ms),
        requests=ReservationRequests(central),
        exporter=ExportRunner(central),
        reporter=ReportRunner(central, check_archive),
    )
    window = MainWindow(central, services, clock=clock, checks=checks, check_archive=check_archive)
    for service in (services.feed, services.requests, services.exporter, services.reporter):
        service.setParent(window)  # Qt deletes them with the window
    services.exporter.set_dialog_parent(window)
    services.reporter.set_dialog_parent(window)
    return window


async def _console_session(
    app: QApplication,
    config: CentralSystemConfig,
    demo_stations: int | None,
    reporter: _ErrorReporter,
    after_start: AfterStart | None = None,
    *,
    loaded: SettingsLoad | None = None,
    overrides: dict[str, Any] | None = None,
) -> int:
    central = CentralSystem(config)
    notice: str | None = None
    try:
        await central.start()
    except OSError as exc:
        if demo_stations is None:
            message = (
                f"The Central System cannot listen on {config.host}:{config.port}: "
                f"{exc.strerror or exc}.\n\nAnother program (or another console) is using "
                "that port. Close it, or start the console with --port <another port>."
            )
            _log.error("cannot listen on %s:%d: %s", config.host, config.port, exc)
            await _show_message(QMessageBox.Icon.Critical, "Port in use", message)
            return 1
        # A demo must simply work: take any free port and say so.
        _log.warning("port %d is in use (%s); the demo takes a free port", config.port, exc)
        central = CentralSystem(config.model_copy(update={"port": 0}))
        await central.start()
        notice = f"Port {config.port} is in use: listening on port {central.port} instead"

    settings_controller: SettingsController | None = None

    def current_settings() -> ConsoleSettings:
        # The check reads its timings when it starts: a change in Settings applies at once.
        if settings_controller is not None:
            return settings_controller.settings
        return loaded.settings if loaded is not None else ConsoleSettings()

    checks = CheckService(_reservation_checks(central, current_settings))
    window = build_window(central, checks=checks, check_archive=central)
    reporter.window = window
    simulator: SiteSimulator | None = None
    settings_controller = _settings_controller(
        window, central, loaded, overrides, demo_site=lambda: simulator
    )
    layout = layout_store()
    closing = asyncio.Event()
    window.sig_close_requested.connect(closing.set)
    # Lets Python run its signal handlers (Ctrl+C) while Qt sits idle in C++.
    wakeup = QTimer()
    wakeup.timeout.connect(lambda: None)
    wakeup.start(500)
    try:
        window.start()
        if not restore_layout(window, layout):
            _fit_to_screen(window, app)
        window.show()
        _log.info("window shown %.2f s after start", time.monotonic() - _PROCESS_STARTED)
        if notice:
            window.report_error(notice)
        if loaded is not None and loaded.message:
            window.report_error(loaded.message)
            _open_message(window, QMessageBox.Icon.Warning, "Settings not used", loaded.message)
        elif loaded is not None and loaded.note:
            window.report_error(loaded.note)
            _open_message(window, QMessageBox.Icon.Warning, "Some settings not used", loaded.note)
        if central.store_error:
            # The data folder could not be used: the console runs in memory (issue 8).
            window.report_error(f"Nothing is being saved: {central.store_error}")
        if demo_stations:
            simulator = await _start_demo_site(_demo_url(central), demo_stations)
        if after_start is not None:
            await after_start(window, central, simulator)
        await closing.wait()
        return 0
    finally:
        wakeup.stop()
        # A running check cancels the reservations it made while the server still runs.
        await checks.stop()
        await window.requests.aclose()
        if simulator is not None:
            try:
                await simulator.stop()
            except Exception:
                _log.exception("stopping the simulated site failed")
        await settings_controller.wait_idle()
        await central.stop()
        save_layout(window, layout)
        window.allow_close()
        window.close()
        reporter.window = None
        app.processEvents()


def _reservation_checks(
    central: CentralSystem, current_settings: Callable[[], ConsoleSettings]
) -> CheckFactory:
    """Check runners bound to ``central``, timed by the settings as they are at each start."""

    def make(request: CheckRequest) -> CheckRunner:
        settings = current_settings()
        options = CheckOptions(
            step_timeout=settings.check_step_timeout,
            expiry_seconds=settings.check_expiry_seconds,
        )
        return check_factory(central, options)(request)

    return make


def _settings_controller(
    window: MainWindow,
    central: CentralSystem,
    loaded: SettingsLoad | None,
    overrides: dict[str, Any] | None,
    *,
    demo_site: Callable[[], SiteSimulator | None] = lambda: None,
) -> SettingsController:
    """The settings controller of the window; ``demo_site``: the simulated site of
    ``--demo`` (if any), which follows the Central System to a new port or address."""

    async def restart(config: CentralSystemConfig) -> None:
        try:
            await restart_central(central, config)
        finally:
            # Also when the new settings failed and the old ones came back: with port 0
            # that is another port too.
            site = demo_site()
            if site is not None and central.running:
                site.retarget(_demo_url(central))
            window.refresh_status_bar()

    def following() -> list[str]:
        site = demo_site()
        return [] if site is None else [station.station_id for station in site.stations]

    controller = SettingsController(
        loaded.settings if loaded is not None else ConsoleSettings(),
        loaded.path if loaded is not None else settings_path(),
        restart,
        window,
        overrides=overrides,
        connected_stations=lambda: [s.station_id for s in central.stations() if s.connected],
        following_stations=following,
        keep_existing_file=loaded is not None and loaded.message is not None,
        running_port=lambda: _port_of(central),
    )
    window.menus.settings_action.triggered.connect(controller.open_dialog)
    controller.sig_message.connect(lambda text: window.statusBar().showMessage(text, 10000))
    controller.sig_failed.connect(window.report_error)
    return controller


async def restart_central(central: CentralSystem, config: CentralSystemConfig) -> None:
    """Stop the Central System and start it again, in place, with ``config``.

    The object stays the same, so the window and its subscriptions carry on; the book and
    the stations come back from the database; stations reconnect by themselves. If the new
    configuration cannot start (port taken, TLS file unreadable), the previous one is
    started again and the error is raised for the caller to show.
    """
    previous = central.config
    await central.stop()
    central.config = config
    try:
        await central.start()
    except Exception:
        _log.exception("the Central System cannot start with the new settings; back to the old")
        central.config = previous
        await central.start()
        raise
    _log.info("Central System restarted with new settings")


def _open_message(parent: MainWindow, kind: QMessageBox.Icon, title: str, text: str) -> None:
    # Shown without waiting for it: the window works while it is open.
    box = QMessageBox(kind, title, text, QMessageBox.StandardButton.Ok, parent)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.open()


def _port_of(central: CentralSystem) -> int | None:
    """The port the Central System listens on, None while it is stopped."""
    try:
        return central.port
    except RuntimeError:
        return None


def _fit_to_screen(window: MainWindow, app: QApplication) -> None:
    screen = app.primaryScreen()
    if screen is None:
        return
    available = screen.availableGeometry()
    width = min(1700, int(available.width() * 0.96))
    height = min(1050, int(available.height() * 0.94))
    window.resize(width, height)
    window.move(
        available.x() + (available.width() - width) // 2,
        available.y() + (available.height() - height) // 2,
    )


def _demo_url(central: CentralSystem) -> str:
    """Where the demo's simulated stations, on this machine, reach the Central System."""
    host = central.config.host
    if host in WILDCARD_HOSTS or host == "localhost":
        host = "127.0.0.1"
    elif ":" in host:
        host = f"[{host}]"
    scheme = "wss" if central.config.security_profile >= 2 else "ws"
    return f"{scheme}://{host}:{central.port}"


async def _start_demo_site(url: str, stations: int) -> SiteSimulator:
    simulator = SiteSimulator.demo(url, stations, connectors=DEMO_CONNECTORS)
    await simulator.start()
    _log.info("demo: %d simulated stations connect to %s", stations, url)
    return simulator


async def _self_test(reporter: _ErrorReporter) -> int:
    """ReserveNow and CancelReservation with one simulated station, seen in the window.

    Prints one line: "self-test: OK ..." (exit 0) or "self-test: FAILED: <reason>" (exit 1).
    """
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="ocpp-console-self-test-") as folder:
        central = CentralSystem(
            CentralSystemConfig(host="127.0.0.1", port=0, data_dir=Path(folder), call_timeout=10)
        )
        window: MainWindow | None = None
        simulator: SiteSimulator | None = None
        try:
            await central.start()
            window = build_window(central, flush_interval_ms=20)
            reporter.window = window
            window.start()
            window.show()
            simulator = SiteSimulator(f"ws://127.0.0.1:{central.port}", stations=1, connectors=2)
            await simulator.start()
            station_id = await _wait_for(lambda: _first_online(central), within=20.0)
            record = await central.reserve_now(
                station_id, 1, "SELFTEST", datetime.now(UTC) + timedelta(minutes=5)
            )
            if record.state is not ReservationState.ACCEPTED:
                raise RuntimeError(f"ReserveNow ended {record.state.value}: {record.error}")
            shown = window
            await _wait_for(
                lambda: "yes" if shown.station_model.active_reservation(station_id, 1) else None,
                within=10.0,
            )
            outcome = await central.cancel_reservation(station_id, record.reservation_id)
            if outcome.status is None or outcome.status.value != "Accepted":
                raise RuntimeError(f"CancelReservation: {outcome.status or outcome.error}")
            await _wait_for(
                lambda: None if shown.station_model.active_reservation(station_id, 1) else "yes",
                within=10.0,
            )
        except Exception as exc:
            _log.exception("self-test failed")
            print(f"self-test: FAILED: {type(exc).__name__}: {exc}")
            return 1
        finally:
            if simulator is not None:
                await simulator.stop()
            await central.stop()
            if window is not None:
                window.allow_close()
                window.close()
            reporter.window = None
        print(
            f"self-test: OK: Central System on port {central.port}, station {station_id}: "
            f"ReserveNow Accepted, shown in the window, CancelReservation Accepted "
            f"({time.monotonic() - started:.1f} s)"
        )
        return 0


def _first_online(central: CentralSystem) -> str | None:
    for station in central.stations():
        if station.connected and central.connectors(station.station_id):
            return station.station_id
    return None


async def _wait_for(probe: Callable[[], str | None], within: float) -> str:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        value = probe()
        if value is not None:
            return value
        await asyncio.sleep(0.05)
    raise TimeoutError(f"nothing after {within:.0f} s")


async def _show_message(kind: QMessageBox.Icon, title: str, text: str) -> None:
    # Never exec() a dialog inside a coroutine: open() it and wait for `finished`.
    box = QMessageBox(kind, title, text)
    done = asyncio.get_running_loop().create_future()

    def on_finished(_result: int) -> None:
        if not done.done():
            done.set_result(None)

    box.finished.connect(on_finished)
    box.open()
    await done


# --- errors: logged and shown, never lost ---------------------------------------------------


class _ErrorReporter:
    """Sends uncaught errors (slots, tasks, Qt warnings) to the log and to the window."""

    def __init__(self) -> None:
        self.window: MainWindow | None = None

    def show(self, text: str) -> None:
        if self.window is not None:
            with contextlib.suppress(RuntimeError):  # the window is already gone
                self.window.report_error(text)

    def excepthook(
        self,
        kind: type[BaseException],
        error: BaseException,
        trace: TracebackType | None,
    ) -> None:
        if issubclass(kind, KeyboardInterrupt):
            sys.__excepthook__(kind, error, trace)
            return
        _log.error(
            "uncaught error: %s", "".join(traceback.format_exception(kind, error, trace)).rstrip()
        )
        self.show(f"Internal error: {kind.__name__}: {error}")

    def loop_exception(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        error = context.get("exception")
        message = context.get("message", "error in the event loop")
        _log.error("%s", message, exc_info=error)
        self.show(f"Internal error: {error or message}")


_QT_LEVELS = {
    QtMsgType.QtDebugMsg: logging.DEBUG,
    QtMsgType.QtInfoMsg: logging.INFO,
    QtMsgType.QtWarningMsg: logging.WARNING,
    QtMsgType.QtCriticalMsg: logging.ERROR,
    QtMsgType.QtFatalMsg: logging.CRITICAL,
}


def _qt_message(kind: QtMsgType, context: QMessageLogContext, message: str) -> None:
    _qt_log.log(_QT_LEVELS.get(kind, logging.WARNING), "%s", message)


def _install_error_hooks(reporter: _ErrorReporter) -> None:
    sys.excepthook = reporter.excepthook
    qInstallMessageHandler(_qt_message)


def report(args: argparse.Namespace) -> int:
    """``ocpp-console report``: the commissioning PDF from the stored data (no window, no
    Central System started); the exit code."""
    from console.ui.report.report_command import run_report_command

    return run_report_command(args)
