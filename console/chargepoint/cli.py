"""The `ocpp-console simulate` sub-command."""

from __future__ import annotations

import argparse


def simulate(args: argparse.Namespace) -> int:
    raise SystemExit("not built yet")
