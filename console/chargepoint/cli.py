"""The ``ocpp-console simulate`` sub-command: simulated stations against any Central System."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import ssl

from console.chargepoint.client import client_ssl_context
from console.chargepoint.defects import parse_defects
from console.chargepoint.simulation import DEMO_ORDER_201, demo_versions
from console.chargepoint.simulator import (
    DEMO_ORDER,
    Behaviour,
    SimulatedStation,
    SiteSimulator,
    station_ids,
)
from console.ocpp.versions import OcppVersion

__all__ = ["build_simulator", "simulate"]

logger = logging.getLogger(__name__)


def _ssl_context(args: argparse.Namespace) -> ssl.SSLContext | None:
    wants_tls = str(args.url).startswith("wss://")
    if not wants_tls:
        if args.cafile or args.certfile:
            logger.warning("--cafile/--certfile/--keyfile are ignored for a ws:// URL")
        return None
    return client_ssl_context(args.cafile, args.certfile, args.keyfile)


def build_simulator(args: argparse.Namespace) -> SiteSimulator:
    """The site the command line describes (a mix of behaviours unless ``--plain``; every
    station speaks ``--ocpp``'s version, or the first half 1.6 and the rest 2.0.1 for
    ``mixed``; every 1.6 station breaks the rules each ``--defect`` names)."""
    if args.stations < 1 or args.connectors < 1:
        raise SystemExit("--stations and --connectors must be at least 1")
    if not str(args.url).startswith(("ws://", "wss://")):
        raise SystemExit(f"--url must start with ws:// or wss:// (got {args.url})")
    try:
        defects = parse_defects(getattr(args, "defect", None) or ())
    except ValueError as exc:
        raise SystemExit(f"--defect: {exc}") from None
    ids = station_ids(args.stations, args.prefix)
    chosen = getattr(args, "ocpp", "1.6")
    if chosen == "mixed":
        versions = demo_versions(args.stations, args.prefix)
    else:
        versions = dict.fromkeys(ids, OcppVersion(chosen))
    ids_16 = [station_id for station_id in ids if versions[station_id] is OcppVersion.V16]
    if defects and not ids_16:
        raise SystemExit("--defect: deliberate defects are for 1.6 stations only")
    order = DEMO_ORDER_201 if chosen == OcppVersion.V201 else DEMO_ORDER
    behaviours = [Behaviour.NORMAL] if args.plain else list(order)
    return SiteSimulator(
        args.url,
        stations=args.stations,
        connectors=args.connectors,
        behaviours=behaviours,
        prefix=args.prefix,
        password=args.password,
        ssl=_ssl_context(args),
        defects=dict.fromkeys(ids_16, defects) if defects else None,
        versions=versions,
    )


def _stop_on_sigterm(stop: asyncio.Event) -> None:
    """SIGTERM (``kill``, a service manager) stops the site like Ctrl+C: with close frames."""
    loop = asyncio.get_running_loop()
    try:
        loop.add_signal_handler(signal.SIGTERM, stop.set)
    except (NotImplementedError, RuntimeError):
        # No loop signal handlers (Windows): a plain handler that wakes the loop.
        signal.signal(signal.SIGTERM, lambda _signum, _frame: loop.call_soon_threadsafe(stop.set))


async def _run(simulator: SiteSimulator) -> None:
    stop = asyncio.Event()
    _stop_on_sigterm(stop)
    await simulator.start()
    for station in simulator.stations:
        if isinstance(station, SimulatedStation):
            logger.info(
                "station %s: OCPP 1.6, %s, %d connectors%s",
                station.station_id,
                station.behaviour.value,
                station.engine.number_of_connectors,
                "".join(f", defect {d.value}" for d in sorted(station.defects)),
            )
        else:
            logger.info(
                "station %s: OCPP 2.0.1, %s, %d EVSEs",
                station.station_id,
                station.behaviour.value,
                len(station.engine.evse_ids),
            )
    try:
        await stop.wait()  # until SIGTERM, or Ctrl+C cancels us
        logger.info("SIGTERM received")
    finally:
        logger.info("stopping %d simulated stations", len(simulator.stations))
        await simulator.stop()


def simulate(args: argparse.Namespace) -> int:
    """Run the simulated site until Ctrl+C or SIGTERM."""
    simulator = build_simulator(args)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_run(simulator))
    return 0
