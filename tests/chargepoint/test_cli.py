"""``ocpp-console simulate`` as a real process against an ocpp-package Central System."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys

import pytest

from console.__main__ import build_parser
from console.chargepoint.cli import build_simulator
from console.chargepoint.simulator import Behaviour
from tests.chargepoint.ocpp_central import ocpp_central


def parse(*argv: str) -> argparse.Namespace:
    return build_parser().parse_args(["simulate", *argv])


def test_mixed_behaviours_unless_plain() -> None:
    mixed = build_simulator(parse("--url", "ws://127.0.0.1:1", "--stations", "8"))
    assert [s.station_id for s in mixed.stations][:2] == ["SIM-01", "SIM-02"]
    assert mixed.stations[1].behaviour is Behaviour.FAULTED
    assert mixed.stations[7].behaviour is Behaviour.NORMAL
    plain = build_simulator(
        parse("--url", "ws://127.0.0.1:1", "--stations", "3", "--plain", "--prefix", "X-")
    )
    assert {s.behaviour for s in plain.stations} == {Behaviour.NORMAL}
    assert plain.stations[2].station_id == "X-03"
    assert plain.stations[0].engine.number_of_connectors == 2


def test_bad_arguments_exit_with_a_message() -> None:
    with pytest.raises(SystemExit, match="ws://"):
        build_simulator(parse("--url", "http://127.0.0.1:1"))
    with pytest.raises(SystemExit, match="at least 1"):
        build_simulator(parse("--url", "ws://127.0.0.1:1", "--stations", "0"))


@pytest.mark.asyncio
@pytest.mark.skipif(sys.platform == "win32", reason="signals to a child process")
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
async def test_simulate_runs_until_stopped_and_closes_cleanly(signum: signal.Signals) -> None:
    async with ocpp_central() as (url, state):
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "console",
            "simulate",
            "--url",
            url,
            "--stations",
            "2",
            "--connectors",
            "1",
            "--plain",
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            await state.wait_for(
                lambda: (
                    {r.station_id for r in state.received if r.action == "StatusNotification"}
                    == {"SIM-01", "SIM-02"}
                ),
                within=30,
            )
            process.send_signal(signum)
            async with asyncio.timeout(30):
                _, stderr = await process.communicate()
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
        # Each station closed its connection with a close frame, not by just vanishing.
        for station_id in ("SIM-01", "SIM-02"):
            websocket = state.connections[station_id][-1]._connection
            async with asyncio.timeout(10):
                await websocket.wait_closed()
            assert websocket.protocol.close_rcvd is not None, station_id
    assert process.returncode == 0
    log = stderr.decode()
    assert "station SIM-01: registered" in log
    assert "stopping 2 simulated stations" in log
    assert "Traceback" not in log
