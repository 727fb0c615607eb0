"""The `ocpp-console serve` sub-command."""

from __future__ import annotations

import argparse


def serve(args: argparse.Namespace) -> int:
    raise SystemExit("not built yet")
