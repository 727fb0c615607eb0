"""Composition root: QApplication, the qasync loop, the Central System and the window."""

from __future__ import annotations

import argparse


def run(args: argparse.Namespace) -> int:
    """Open the console window (with ``--demo``, also a simulated site)."""
    raise SystemExit("the console window is not built yet; use `ocpp-console serve`")
