"""The ``serve`` and ``check`` sub-commands: the Central System headless, logging to stderr.

Settings come from the same ``settings.json`` the window's settings dialog writes
(:mod:`console.central.settings`), then from the command line, which wins. A settings file
that cannot be used stops the command with the reason (headless, nobody would see that the
defaults were taken); the file is left as it is. Ctrl+C or SIGTERM stops it cleanly.

``check`` waits for one station, runs the automatic steps of the reservation conformance
check against it (:mod:`console.central.check`), prints one line per step and
exits 0 when no step failed, 1 when one did, 2 when the check could not run.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import signal
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

from pydantic import ValidationError

from console.central.check.codec import check_to_json
from console.central.check.model import (
    CheckOptions,
    CheckOutcome,
    CheckRequest,
    CheckResult,
    Verdict,
)
from console.central.check.runner import ReservationCheck
from console.central.config import CentralSystemConfig
from console.central.model import ChangeEvent, TraceAppended, TraceDirection
from console.central.server import CentralSystem
from console.central.settings import (
    ConsoleSettings,
    command_line_overrides,
    read_settings,
    settings_path,
    settings_problem,
)
from console.central.store import StoreError
from console.ocpp.frames import MessageType
from console.ocpp.versions import OcppVersion

__all__ = ["check", "config_from_args", "proxy", "serve", "settings_from_args", "wait_for_station"]

logger = logging.getLogger(__name__)

T = TypeVar("T")

EXIT_PASSED = 0
EXIT_FAILED = 1
EXIT_COULD_NOT_RUN = 2
_SIGNAL_EXIT_CODES = {signal.SIGINT: 130, signal.SIGTERM: 143}
_VERDICT_TAGS = {
    Verdict.PASSED: "PASS",
    Verdict.FAILED: "FAIL",
    Verdict.SKIPPED: "SKIP",
    Verdict.NOT_APPLICABLE: "N/A",
}


def settings_from_args(settings_file: Path | None = None) -> ConsoleSettings:
    """The settings file's settings (the defaults if there is none).

    Raises ``ValueError`` (with the file and the reason) for a file that cannot be used.
    """
    path = settings_file or settings_path()
    settings = ConsoleSettings()
    if path.is_file():
        raw = path.read_bytes()
        problem = settings_problem(raw)
        if problem is not None:
            raise ValueError(f"the settings file {path} cannot be used: {problem}")
        settings, note = read_settings(raw)
        logger.info("settings read from %s", path)
        if note is not None:
            logger.warning("the settings file %s %s", path, note)
    return settings


def config_from_args(
    args: argparse.Namespace, settings_file: Path | None = None
) -> CentralSystemConfig:
    """The settings file (if any) overlaid with the options given on the command line.

    Raises ``ValueError`` (with the file and the reason) for a file that cannot be used.
    """
    return settings_from_args(settings_file).to_config(**command_line_overrides(args))


async def _run(config: CentralSystemConfig) -> int:
    # Headless, nobody would see that nothing is saved: an unusable data folder stops it.
    central = CentralSystem(config, memory_fallback=False)
    try:
        await central.start()
    except (OSError, ValueError, StoreError) as exc:
        logger.error("cannot start the Central System: %s", exc)
        return 1
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        # Windows has no add_signal_handler; Ctrl+C then cancels this task instead.
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, stop.set)
    for url in central.urls():
        logger.info("stations connect to %s<station id>", url)
    try:
        await stop.wait()
        logger.info("stopping")
    finally:
        await central.stop()
    return 0


def serve(args: argparse.Namespace) -> int:
    """Run until Ctrl+C / SIGTERM; returns the process exit code."""
    try:
        config = config_from_args(args)
    except (OSError, ValueError, ValidationError) as exc:
        print(f"ocpp-console serve: bad settings: {exc}", file=sys.stderr)
        return 2
    try:
        return asyncio.run(_run(config))
    except KeyboardInterrupt:
        return 0


def proxy(args: argparse.Namespace) -> int:
    """``serve`` in proxy mode: every station is carried on to ``--upstream``."""
    try:
        base = config_from_args(args)
        config = CentralSystemConfig(
            **{
                **dict(base),
                "upstream_url": args.upstream,
                "upstream_cafile": args.upstream_cafile or base.upstream_cafile,
                "upstream_keep_stations": bool(getattr(args, "keep_stations", False)),
            }
        )
    except (OSError, ValueError, ValidationError) as exc:
        print(f"ocpp-console proxy: bad settings: {exc}", file=sys.stderr)
        return 2
    logger.info("proxy mode: stations are carried on to %s/<station id>", config.upstream_url)
    if config.upstream_keep_stations:
        logger.info("proxy mode: while the CSMS is away, stations stay on the console")
    try:
        return asyncio.run(_run(config))
    except KeyboardInterrupt:
        return 0


# --- ocpp-console check -------------------------------------------------------------------


class StationNotReadyError(Exception):
    """The station did not connect and boot in time (the message says what was missing)."""


async def wait_for_station(
    system: CentralSystem, station_id: str, seconds: float, settle: float
) -> dict[int, str]:
    """Wait until ``station_id`` connected and booted (within ``seconds``), then until it
    reported its connectors after the console's TriggerMessage (within ``settle`` more).

    Returns the statuses it reported since its boot, by connector. A station that has
    answered the TriggerMessage and reported every connector it has is ready at once; one
    that does less is taken as it is after ``settle``. Raises :class:`StationNotReadyError`.
    """
    loop = asyncio.get_running_loop()
    changed = asyncio.Event()
    booted = False
    triggered = False
    statuses: dict[int, str] = {}
    since_trigger: set[int] = set()

    def on_change(event: ChangeEvent) -> None:
        nonlocal booted, triggered
        changed.set()
        if not isinstance(event, TraceAppended) or event.entry.station_id != station_id:
            return
        entry = event.entry
        if entry.direction is not TraceDirection.IN:
            return
        if entry.message_type == MessageType.CALL and entry.action == "BootNotification":
            booted = True
        elif (
            booted
            and entry.message_type in (MessageType.CALL_RESULT, MessageType.CALL_ERROR)
            and entry.action == "TriggerMessage"
        ):
            triggered = True
        elif (
            booted
            and entry.message_type == MessageType.CALL
            and entry.action == "StatusNotification"
        ):
            try:
                payload = json.loads(entry.text)[3]
                # 2.0.1 names the EVSE and spells the field connectorStatus: the EVSE is
                # what a 2.0.1 check reserves (the last status of one of its connectors).
                where = int(payload.get("evseId", payload["connectorId"]))
                statuses[where] = str(payload.get("status", payload.get("connectorStatus")))
            except (ValueError, LookupError, TypeError, AttributeError):
                return
            if triggered:
                since_trigger.add(where)

    def reported_all() -> bool:
        station = system.station(station_id)
        count = None if station is None else station.number_of_connectors
        if not triggered:
            return False
        if count is None:
            return any(c > 0 for c in since_trigger)
        return all(c in since_trigger for c in range(1, count + 1))

    async def until(condition: Callable[[], bool], deadline: float) -> bool:
        while not condition():
            remaining = deadline - loop.time()
            if remaining <= 0:
                return False
            changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), remaining)
        return True

    unsubscribe = system.subscribe(on_change)
    try:
        if not await until(lambda: booted, loop.time() + seconds):
            if system.is_connected(station_id):
                raise StationNotReadyError(
                    f"station {station_id} connected but sent no BootNotification "
                    f"within {seconds:g} s"
                )
            raise StationNotReadyError(
                f"station {station_id} did not connect within {seconds:g} s"
                + _others_connected(system, station_id)
            )
        await until(reported_all, loop.time() + settle)
        if not system.is_connected(station_id):
            raise StationNotReadyError(f"station {station_id} disconnected right after its boot")
        return statuses
    finally:
        unsubscribe()


def _others_connected(system: CentralSystem, station_id: str, shown: int = 5) -> str:
    """Which other stations did connect (a mistyped id is the usual reason), or ""."""
    others = sorted(
        s.station_id for s in system.stations() if s.connected and s.station_id != station_id
    )
    if not others:
        return ""
    more = f" and {len(others) - shown} more" if len(others) > shown else ""
    return f"; connected instead: {', '.join(others[:shown])}{more} (is the id right?)"


def _step_line(result: CheckResult, index: int) -> str:
    """The step's verdict line, then its official reference on a line of its own."""
    step = result.steps[index]
    noun = "EVSE" if step.ocpp_version is OcppVersion.V201 else "connector"
    where = "" if step.connector_id is None else f" ({noun} {step.connector_id})"
    return (
        f"[{_VERDICT_TAGS[step.verdict]}] {step.number} {step.title}{where}: {step.reason}\n"
        f"      {step.reference}"
    )


def _first_available(
    system: CentralSystem, station_id: str, statuses: dict[int, str]
) -> int | None:
    """The first Available connector (2.0.1: EVSE whose every connector is Available)."""
    station = system.station(station_id)
    if station is not None and station.ocpp_version is OcppVersion.V201:
        evses: dict[int, list[str]] = {}
        for c in system.connectors(station_id):
            if c.evse_id is not None:
                evses.setdefault(c.evse_id, []).append(str(c.status))
        return next((e for e in sorted(evses) if all(s == "Available" for s in evses[e])), None)
    return next((c for c in sorted(statuses) if c > 0 and statuses[c] == "Available"), None)


def _summary(result: CheckResult) -> list[str]:
    counts = {
        verdict: sum(1 for s in result.steps if s.verdict is verdict) for verdict in _VERDICT_TAGS
    }
    identity = " ".join(p for p in (result.vendor, result.model) if p) or "unknown station"
    firmware = f", firmware {result.firmware_version}" if result.firmware_version else ""
    lines = [
        f"Reservation check of {result.station_id} ({identity}{firmware}, OCPP "
        f"{result.ocpp_version}): "
        f"{counts[Verdict.PASSED]} passed, {counts[Verdict.FAILED]} failed, "
        f"{counts[Verdict.SKIPPED]} skipped, {counts[Verdict.NOT_APPLICABLE]} N/A: "
        f"{result.outcome.value.upper()}" + (f" ({result.reason})" if result.reason else "")
    ]
    if result.left_behind:
        lines.append(
            "WARNING: reservation(s) "
            + ", ".join(map(str, result.left_behind))
            + " could not be cancelled; the station may still hold them"
        )
    return lines


async def _unless_stopped(work: Awaitable[T], stopping: asyncio.Event) -> T | None:
    """``work``'s result, or None if ``stopping`` is set first (``work`` is cancelled)."""
    task = asyncio.ensure_future(work)
    stopper = asyncio.ensure_future(stopping.wait())
    try:
        await asyncio.wait({task, stopper}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopper.cancel()
    if task.done():
        return task.result()
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    return None


async def _check(
    config: CentralSystemConfig,
    options: CheckOptions,
    station_id: str,
    connector_id: int | None,
    id_tag: str,
    wait: float,
    as_json: bool = False,
) -> int:
    # With --json stdout holds the result alone; what a person follows goes to stderr.
    out = sys.stderr if as_json else sys.stdout
    central = CentralSystem(config, memory_fallback=False)
    try:
        await central.start()
    except (OSError, ValueError, StoreError) as exc:
        logger.error("cannot start the Central System: %s", exc)
        return EXIT_COULD_NOT_RUN
    stopping = asyncio.Event()
    exit_codes: list[int] = []
    runner: ReservationCheck | None = None

    def on_signal(signum: signal.Signals) -> None:
        exit_codes.append(_SIGNAL_EXIT_CODES[signum])
        logger.info("%s: stopping the check (reservations made are cancelled)", signum.name)
        stopping.set()
        if runner is not None:
            runner.cancel()

    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        # Windows has no add_signal_handler; Ctrl+C then cancels this task instead.
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, on_signal, signum)
    try:
        for url in central.urls():
            print(f"Configure the station with {url}{station_id}", file=out, flush=True)
        print(
            f"Waiting up to {wait:g} s for {station_id} to connect and boot ...",
            file=out,
            flush=True,
        )
        try:
            statuses = await _unless_stopped(
                wait_for_station(central, station_id, wait, options.step_timeout), stopping
            )
        except StationNotReadyError as exc:
            print(f"ocpp-console check: {exc}", file=sys.stderr, flush=True)
            return EXIT_COULD_NOT_RUN
        if statuses is None:
            return exit_codes[0]
        if connector_id is None:
            connector_id = _first_available(central, station_id, statuses)
            if connector_id is None:
                shown = ", ".join(f"{c} {s}" for c, s in sorted(statuses.items()) if c > 0)
                print(
                    f"ocpp-console check: {station_id} has no Available connector"
                    + (f" ({shown})" if shown else " (it reported none)"),
                    file=sys.stderr,
                    flush=True,
                )
                return EXIT_COULD_NOT_RUN
        runner = ReservationCheck(
            central, CheckRequest(station_id, [connector_id], id_tag), options
        )
        station = central.station(station_id)
        v201 = station is not None and station.ocpp_version is OcppVersion.V201
        print(
            f"Checking reservations on {'EVSE' if v201 else 'connector'} {connector_id} "
            f"with idTag {id_tag}",
            file=out,
            flush=True,
        )
        printed: set[int] = set()

        def print_finished(result: CheckResult) -> None:
            for index, step in enumerate(result.steps):
                if index not in printed and step.verdict in _VERDICT_TAGS:
                    printed.add(index)
                    print(_step_line(result, index), file=out, flush=True)

        runner.subscribe(print_finished)
        if stopping.is_set():
            runner.cancel()
        result = await runner.run()
        for line in _summary(result):
            print(line, file=out, flush=True)
        if as_json:
            print(check_to_json(result, indent=2), flush=True)
        if result.outcome is CheckOutcome.CANCELLED:
            return exit_codes[0] if exit_codes else _SIGNAL_EXIT_CODES[signal.SIGINT]
        if result.outcome is CheckOutcome.ABORTED:
            return EXIT_COULD_NOT_RUN
        return EXIT_FAILED if result.failed_steps else EXIT_PASSED
    finally:
        await central.stop()


def check(args: argparse.Namespace) -> int:
    """``ocpp-console check``: returns the process exit code (0 passed, 1 failed, 2 not run)."""
    id_tag: str = args.id_tag
    if not 1 <= len(id_tag) <= 20:
        print("ocpp-console check: --id-tag must have 1 to 20 characters", file=sys.stderr)
        return EXIT_COULD_NOT_RUN
    if args.connector is not None and args.connector < 1:
        print("ocpp-console check: --connector must be 1 or more", file=sys.stderr)
        return EXIT_COULD_NOT_RUN
    try:
        settings = settings_from_args()
        config = settings.to_config(**command_line_overrides(args))
    except (OSError, ValueError, ValidationError) as exc:
        print(f"ocpp-console check: bad settings: {exc}", file=sys.stderr)
        return EXIT_COULD_NOT_RUN
    options = CheckOptions(
        step_timeout=settings.check_step_timeout,
        expiry_seconds=float(settings.check_expiry_seconds),
    )
    try:
        return asyncio.run(
            _check(
                config,
                options,
                args.station,
                args.connector,
                id_tag,
                args.wait,
                getattr(args, "json", False),
            )
        )
    except KeyboardInterrupt:
        return _SIGNAL_EXIT_CODES[signal.SIGINT]
