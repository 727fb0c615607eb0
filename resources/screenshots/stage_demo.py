"""Open the real console with a demo site and use it as a technician would, for the screenshot.

    /work/shared/tools/screenshot /tmp/demo.png 12 \
        .venv/bin/python resources/screenshots/stage_demo.py
    convert /tmp/demo.png -crop 1536x940+32+30 +repage resources/screenshots/demo.png

It runs ``ocpp-console --demo 7`` (every simulated behaviour once) on a free port with a
throwaway data folder, then, through the reservation form, reserves a connector on several
stations — the answers (Accepted, Faulted, Unavailable, Rejected, a timeout in progress, the
reserved card arriving) then show in the form, the tree and the reservations table.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile

from console.__main__ import build_parser
from console.app import run
from console.central.server import CentralSystem
from console.chargepoint.simulator import SiteSimulator
from console.ui.window.main_window import MainWindow

RESERVATIONS = [
    ("CP-01", 1, "TECH-0001"),
    ("CP-02", 1, "TECH-0002"),
    ("CP-03", 2, "TECH-0003"),
    ("CP-04", 1, "TECH-0004"),
    ("CP-07", 1, "FLEET-0042"),
    ("CP-05", 2, "TECH-0005"),
    ("CP-06", 2, "TECH-0006"),  # the slow station last: its timeout is still running
]


async def stage(window: MainWindow, central: CentralSystem, site: SiteSimulator | None) -> None:
    if site is not None:
        await asyncio.wait_for(site.wait_booted(), 20)
    await asyncio.sleep(1.0)  # let the boot-time GetConfiguration answers arrive
    for station_id, connector_id, id_tag in RESERVATIONS:
        # The form sends one ReserveNow at a time: wait for the previous answer first.
        for _ in range(100):
            if not window.form.in_flight():
                break
            await asyncio.sleep(0.1)
        window.select_connector(station_id, connector_id)
        window.open_reservation_form()
        window.form.id_tag_edit.setText(id_tag)
        window.form.send()
        await asyncio.sleep(0.4)
    window.select_connector("CP-05", 2)
    window.tree.scrollToTop()


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="ocpp-console-demo-") as folder:
        args = build_parser().parse_args(["--demo", "7", "--port", "0", "--data-dir", folder])
        return run(args, after_start=stage)


if __name__ == "__main__":
    sys.exit(main())
