"""The ``ocpp-console serve`` sub-command: the Central System headless, logging to stderr.

Settings come from ``<config dir>/central.json`` when that file exists (the fields of
:class:`CentralSystemConfig`, e.g. ``authorization_keys`` with hashed keys and ``id_tags``),
then from the command line, which wins. Ctrl+C or SIGTERM stops it cleanly.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import signal
import sys
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from console.central.config import CentralSystemConfig
from console.central.paths import default_config_dir
from console.central.server import CentralSystem
from console.central.store import StoreError

__all__ = ["SETTINGS_FILE_NAME", "config_from_args", "serve"]

logger = logging.getLogger(__name__)

SETTINGS_FILE_NAME = "central.json"

_ARGUMENT_FIELDS = {
    "host": "host",
    "port": "port",
    "data_dir": "data_dir",
    "heartbeat_interval": "heartbeat_interval",
    "call_timeout": "call_timeout",
    "security_profile": "security_profile",
    "certfile": "certfile",
    "keyfile": "keyfile",
    "cafile": "cafile",
}


def config_from_args(
    args: argparse.Namespace, settings_file: Path | None = None
) -> CentralSystemConfig:
    """The settings file (if any) overlaid with the options given on the command line."""
    path = settings_file or default_config_dir() / SETTINGS_FILE_NAME
    values: dict[str, Any] = {}
    if path.is_file():
        loaded = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(loaded, dict):
            raise ValueError(f"{path}: expected a JSON object")
        values.update(loaded)
        logger.info("settings read from %s", path)
    for argument, field in _ARGUMENT_FIELDS.items():
        value = getattr(args, argument, None)
        if value is not None:
            values[field] = value
    return CentralSystemConfig.model_validate(values)


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
