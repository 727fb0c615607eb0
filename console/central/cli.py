"""The ``ocpp-console serve`` sub-command: the Central System headless, logging to stderr.

Settings come from the same ``settings.json`` the window's settings dialog writes
(:mod:`console.central.settings`), then from the command line, which wins. A settings file
that cannot be used stops ``serve`` with the reason (headless, nobody would see that the
defaults were taken); the file is left as it is. Ctrl+C or SIGTERM stops it cleanly.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from pathlib import Path

from pydantic import ValidationError

from console.central.config import CentralSystemConfig
from console.central.server import CentralSystem
from console.central.settings import (
    ConsoleSettings,
    command_line_overrides,
    settings_path,
    settings_problem,
)
from console.central.store import StoreError

__all__ = ["config_from_args", "serve"]

logger = logging.getLogger(__name__)


def config_from_args(
    args: argparse.Namespace, settings_file: Path | None = None
) -> CentralSystemConfig:
    """The settings file (if any) overlaid with the options given on the command line.

    Raises ``ValueError`` (with the file and the reason) for a file that cannot be used.
    """
    path = settings_file or settings_path()
    settings = ConsoleSettings()
    if path.is_file():
        raw = path.read_bytes()
        problem = settings_problem(raw)
        if problem is not None:
            raise ValueError(f"the settings file {path} cannot be used: {problem}")
        settings = ConsoleSettings.model_validate_json(raw)
        logger.info("settings read from %s", path)
    return settings.to_config(**command_line_overrides(args))


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
