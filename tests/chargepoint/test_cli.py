"""``ocpp-console simulate`` as a real process against an ocpp-package Central System."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from datetime import timedelta

import pytest
from ocpp.v201 import call

from console.__main__ import build_parser
from console.chargepoint.cli import build_simulator
from console.chargepoint.simulator import Behaviour, SimulatedStation201
from console.ocpp.versions import OcppVersion
from tests.chargepoint.ocpp_central import ocpp_central
from tests.chargepoint.ocpp_central201 import frame_problems, ocpp_central201
from tests.chargepoint.ocpp_central201 import stamp as stamp201


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


def test_ocpp_versions_of_the_site() -> None:
    only_201 = build_simulator(
        parse("--url", "ws://127.0.0.1:1", "--stations", "7", "--ocpp", "2.0.1")
    )
    assert {s.version for s in only_201.stations} == {OcppVersion.V201}
    # Without evseId is a 2.0.1 station's own behaviour: its place in the mix.
    assert only_201.stations[4].behaviour is Behaviour.NON_EVSE_SPECIFIC
    assert isinstance(only_201.stations[0], SimulatedStation201)
    assert only_201.stations[0].engine.evse_ids == (1, 2)
    mixed = build_simulator(
        parse("--url", "ws://127.0.0.1:1", "--stations", "7", "--ocpp", "mixed")
    )
    assert [s.version.value for s in mixed.stations] == ["1.6"] * 4 + ["2.0.1"] * 3
    assert mixed.stations[4].behaviour is Behaviour.NO_CONNECTOR_ZERO
    default = build_simulator(parse("--url", "ws://127.0.0.1:1", "--stations", "2"))
    assert {s.version for s in default.stations} == {OcppVersion.V16}
    with pytest.raises(SystemExit, match=r"1\.6 stations only"):
        build_simulator(
            parse("--url", "ws://127.0.0.1:1", "--ocpp", "2.0.1", "--defect", "forgets_expiry")
        )


@pytest.mark.asyncio
@pytest.mark.skipif(sys.platform == "win32", reason="signals to a child process")
async def test_simulate_ocpp_201_against_an_ocpp_package_csms() -> None:
    async with ocpp_central201() as (url, state):
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
            "2",
            "--plain",
            "--ocpp",
            "2.0.1",
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
            central = await state.connection("SIM-02")
            answer = await central.call(
                call.ReserveNow(
                    id=1,
                    expiry_date_time=stamp201(timedelta(minutes=5)),
                    id_token={"id_token": "CARD-1", "type": "ISO14443"},
                    evse_id=2,
                ),
                suppress=False,
            )
            assert answer.status == "Accepted"
            await state.wait_status("SIM-02", 2, 2, "Reserved", within=30)
            process.send_signal(signal.SIGTERM)
            async with asyncio.timeout(30):
                _, stderr = await process.communicate()
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
    assert process.returncode == 0
    boot = state.messages("SIM-01", "BootNotification")[0]
    assert boot["charging_station"]["vendor_name"] == "Helion Charge"
    assert [f for f in state.frames if frame_problems(f)] == []
    log = stderr.decode()
    assert "station SIM-01: OCPP 2.0.1, normal, 2 EVSEs" in log
    assert "station SIM-02: registered" in log
    assert "Traceback" not in log
