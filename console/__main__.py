"""The ``ocpp-console`` command line.

``ocpp-console [--demo [N]]`` opens the console window; ``ocpp-console serve`` runs the
Central System headless; ``ocpp-console simulate`` runs simulated stations against any
OCPP 1.6-J Central System; ``ocpp-console report`` writes the commissioning report from the
stored data. Each sub-command imports only the layer it needs.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from console import __version__

DEFAULT_PORT = 9000
# Seven, so that every behaviour of the simulated site (normal, faulted, unavailable, refusing
# reservations, no connector 0, slow, the reserved card arriving) shows at once.
DEFAULT_DEMO_STATIONS = 7


def _add_data_dir_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="folder for the database (default: the per-user data folder)",
    )


def _add_server_options(parser: argparse.ArgumentParser, *, defaults_from_settings: bool) -> None:
    parser.add_argument("--host", default=None, help="address to listen on (default 0.0.0.0)")
    parser.add_argument(
        "--port", type=int, default=None, help=f"port to listen on (default {DEFAULT_PORT})"
    )
    _add_data_dir_option(parser)
    if not defaults_from_settings:
        parser.add_argument(
            "--heartbeat-interval", type=int, default=None, help="seconds, sent in BootNotification"
        )
        parser.add_argument(
            "--call-timeout", type=float, default=None, help="seconds to wait for an answer"
        )
        parser.add_argument("--security-profile", type=int, choices=(0, 1, 2, 3), default=None)
        parser.add_argument("--certfile", type=Path, default=None, help="TLS certificate (PEM)")
        parser.add_argument("--keyfile", type=Path, default=None, help="TLS private key (PEM)")
        parser.add_argument("--cafile", type=Path, default=None, help="CA for client certificates")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ocpp-console",
        description="OCPP 1.6-J Central System console for commissioning EV charging stations.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument(
        "--log-level", default="INFO", choices=("DEBUG", "INFO", "WARNING", "ERROR")
    )
    parser.add_argument(
        "--demo",
        nargs="?",
        type=int,
        const=DEFAULT_DEMO_STATIONS,
        default=None,
        metavar="N",
        help=f"also start N simulated stations (default {DEFAULT_DEMO_STATIONS})",
    )
    parser.add_argument(
        "--self-test",
        action="store_true",
        help="round-trip a reservation with a simulated station, open the window offscreen, exit",
    )
    _add_server_options(parser, defaults_from_settings=True)
    sub = parser.add_subparsers(dest="command")

    serve = sub.add_parser("serve", help="run the Central System headless")
    _add_server_options(serve, defaults_from_settings=False)

    proxy = sub.add_parser(
        "proxy",
        help="run headless between the stations and the site's own CSMS (proxy mode)",
    )
    _add_server_options(proxy, defaults_from_settings=False)
    proxy.add_argument(
        "--upstream",
        required=True,
        metavar="URL",
        help="the CSMS each station is carried on to, as <URL>/<station id> (ws:// or wss://)",
    )
    proxy.add_argument(
        "--upstream-cafile",
        type=Path,
        default=None,
        metavar="FILE",
        help="the CA that signs a wss:// upstream's certificate (default: the system store)",
    )
    proxy.add_argument(
        "--keep-stations",
        action="store_true",
        help="while the CSMS is unreachable or refuses a station, keep the station on the "
        "console (which answers it) instead of closing its connection",
    )

    check = sub.add_parser(
        "check",
        help="run the reservation conformance check against one station (headless)",
    )
    _add_server_options(check, defaults_from_settings=False)
    check.add_argument("--station", required=True, help="the station id to check")
    check.add_argument(
        "--connector",
        type=int,
        default=None,
        help="connector (2.0.1: EVSE) to check; default: the first Available one",
    )
    check.add_argument(
        "--json",
        action="store_true",
        help="print the result as JSON on stdout (the progress goes to stderr)",
    )
    check.add_argument("--id-tag", default="CONSOLE-CHECK", help="idTag of the reservations")
    check.add_argument(
        "--wait",
        type=float,
        default=300.0,
        help="seconds to wait for the station to connect and boot (default 300)",
    )

    report = sub.add_parser(
        "report",
        help="write the commissioning report (PDF) from the stored data, without the window",
    )
    _add_data_dir_option(report)
    report.add_argument("--site", default=None, help="the site or customer, printed on it")
    report.add_argument(
        "--station",
        nargs="+",
        action="extend",
        default=None,
        metavar="ID",
        help="only these stations (repeatable; default: every station)",
    )
    report.add_argument("--out", type=Path, required=True, help="the PDF file to write")

    simulate = sub.add_parser("simulate", help="run simulated stations against a Central System")
    simulate.add_argument("--url", required=True, help="e.g. ws://127.0.0.1:9000")
    simulate.add_argument("--stations", type=int, default=DEFAULT_DEMO_STATIONS)
    simulate.add_argument("--connectors", type=int, default=2)
    simulate.add_argument("--prefix", default="SIM-", help="station id prefix")
    simulate.add_argument(
        "--password", default=None, help="HTTP Basic password (AuthorizationKey) for every station"
    )
    simulate.add_argument("--cafile", type=Path, default=None, help="CA to trust for wss://")
    simulate.add_argument("--certfile", type=Path, default=None, help="client certificate (PEM)")
    simulate.add_argument("--keyfile", type=Path, default=None, help="client key (PEM)")
    simulate.add_argument(
        "--ocpp",
        choices=["1.6", "2.0.1", "mixed"],
        default="1.6",
        help="the OCPP version the stations speak; mixed: the first half 1.6, the rest 2.0.1 "
        "(default 1.6)",
    )
    simulate.add_argument(
        "--plain",
        action="store_true",
        help="every station behaves normally (default: a mix of commissioning behaviours)",
    )
    simulate.add_argument(
        "--defect",
        action="append",
        default=[],
        metavar="NAME",
        help="every station breaks this reservation rule on purpose (repeatable): "
        "forgets_expiry, accepts_second_reservation, accepts_connector_zero_unsupported, "
        "never_sends_reserved, accepts_unknown_cancel",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=args.log_level,
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
    )
    if args.command == "serve":
        from console.central.cli import serve

        return serve(args)
    if args.command == "proxy":
        from console.central.cli import proxy

        return proxy(args)
    if args.command == "check":
        from console.central.cli import check

        return check(args)
    if args.command == "report":
        # The PDF is drawn by Qt: the UI layer, reached through the composition root.
        from console.app import report

        return report(args)
    if args.command == "simulate":
        from console.chargepoint.cli import simulate

        return simulate(args)
    from console.app import run

    return run(args)


if __name__ == "__main__":
    sys.exit(main())
