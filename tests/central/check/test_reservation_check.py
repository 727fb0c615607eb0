"""The reservation conformance check against real simulated stations on a real Central System.

A correct station passes every automatic step; each deliberate defect fails exactly the step
that covers it; cancelling (the technician's or the task's) and a disconnect leave nothing
held on the station that could be cancelled.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import itertools
import json
import re
from collections.abc import AsyncIterator, Callable, Iterable
from datetime import UTC, datetime, timedelta

import pytest
import pytest_asyncio
import websockets

from console.central.check.model import (
    CheckOutcome,
    CheckRequest,
    CheckResult,
    CheckStep,
    Verdict,
)
from console.central.check.plan import AVAILABILITY_STEPS
from console.central.check.runner import CheckOptions, ReservationCheck, derive_other_id_tag
from console.central.cli import wait_for_station
from console.central.model import ConnectorSnapshot, ReservationState, TraceDirection
from console.central.server import CentralSystem
from console.chargepoint.client import ClientOptions
from console.chargepoint.defects import Defect
from console.chargepoint.simulator import (
    Behaviour,
    SimulatedStation,
    SimulationOptions,
    SiteSimulator,
)
from console.ocpp.enums import ChargePointStatus
from console.ocpp.reservation import CancelReservationStatus
from tests.central.conftest import StartCentral

STATION = "CP-01"
ID_TAG = "CHECK-TAG"
OPTIONS = CheckOptions(step_timeout=4.0, expiry_seconds=2.0, guided_timeout=20.0)
SIMULATION = SimulationOptions(client=ClientOptions(backoff_initial=0.1, backoff_max=0.5))
AUTOMATIC = {
    CheckStep.RESERVE,
    CheckStep.SECOND_RESERVATION,
    CheckStep.REPLACE,
    CheckStep.CANCEL_UNKNOWN,
    CheckStep.CANCEL_HELD,
    CheckStep.EXPIRY,
    CheckStep.CONNECTOR_ZERO,
    CheckStep.SCHEMAS,
    *AVAILABILITY_STEPS,
}


@pytest_asyncio.fixture
async def central(start_central: StartCentral) -> CentralSystem:
    """A Central System on a real SQLite store in tmp_path (the results are stored)."""
    return await start_central()


@contextlib.asynccontextmanager
async def simulated(
    central: CentralSystem,
    behaviour: Behaviour = Behaviour.NORMAL,
    defects: Iterable[Defect] = (),
    connectors: int = 2,
) -> AsyncIterator[SimulatedStation]:
    """One simulated station, connected, booted, with its connectors reported."""
    site = SiteSimulator(
        f"ws://127.0.0.1:{central.port}",
        connectors=connectors,
        station_specs=[(STATION, behaviour)],
        options=SIMULATION,
        defects={STATION: set(defects)},
    )
    ready = asyncio.ensure_future(wait_for_station(central, STATION, 20, 10))
    await asyncio.sleep(0)  # let it subscribe before the station can connect
    await site.start()
    try:
        await ready
        yield site.station(STATION)
    finally:
        ready.cancel()
        await site.stop()


async def run_check(
    central: CentralSystem,
    connectors: Iterable[int] = (1,),
    *,
    guided: bool = False,
    options: CheckOptions = OPTIONS,
    on_result: Callable[[ReservationCheck, CheckResult], None] | None = None,
) -> tuple[ReservationCheck, CheckResult]:
    check = ReservationCheck(
        central, CheckRequest(STATION, list(connectors), ID_TAG, guided=guided), options
    )
    if on_result is not None:
        check.subscribe(lambda result: on_result(check, result))
    result = await asyncio.wait_for(check.run(), 60)
    return check, result


def verdicts(result: CheckResult) -> dict[tuple[CheckStep, int | None], Verdict]:
    return {(s.step, s.connector_id): s.verdict for s in result.steps}


def failed(result: CheckResult) -> set[CheckStep]:
    return {s.step for s in result.failed_steps}


def station_connectors(central: CentralSystem) -> list[ConnectorSnapshot]:
    """The station's connectors 1 and up, as the Central System saw them last."""
    return sorted(
        (c for c in central.connectors(STATION) if c.connector_id > 0),
        key=lambda c: c.connector_id,
    )


def held_on(station: SimulatedStation) -> list[int]:
    return [r.reservation_id for r in station.engine.reservations]


# --- a correct station --------------------------------------------------------------------


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("behaviour", "zero", "connectors"),
    [(Behaviour.NORMAL, "true", (1,)), (Behaviour.NO_CONNECTOR_ZERO, "false", (2, 1))],
)
async def test_a_correct_station_passes_every_automatic_step(
    central: CentralSystem, behaviour: Behaviour, zero: str, connectors: tuple[int, ...]
) -> None:
    async with simulated(central, behaviour) as station:
        check, result = await run_check(central, connectors)
        assert held_on(station) == []
    assert result.outcome is CheckOutcome.PASSED, [(s.step, s.reason) for s in result.steps]
    per_connector = [
        CheckStep.RESERVE,
        CheckStep.SECOND_RESERVATION,
        CheckStep.REPLACE,
        CheckStep.CANCEL_UNKNOWN,
        CheckStep.CANCEL_HELD,
    ]
    # Run order: the probe, 1-5 per connector (in the order asked), 6, 7 per connector, 9.
    assert [(s.step, s.connector_id) for s in result.steps] == [
        (CheckStep.CAPABILITIES, None),
        *((step, c) for c in connectors for step in per_connector),
        (CheckStep.CONNECTOR_ZERO, None),
        *((CheckStep.EXPIRY, c) for c in connectors),
        *((step, connectors[0]) for step in AVAILABILITY_STEPS),
        (CheckStep.SCHEMAS, None),
    ]
    assert all(s.verdict is Verdict.PASSED for s in result.steps)
    zero_step = next(s for s in result.steps if s.step is CheckStep.CONNECTOR_ZERO)
    assert f"ReserveConnectorZeroSupported={zero}" in zero_step.reason
    assert result.left_behind == ()
    assert result.finished_at is not None
    assert result.vendor is not None
    assert result.firmware_version is not None
    assert result.serial_number == f"SIM-{STATION}"
    probed = result.steps[0]
    assert "SupportedFeatureProfiles=Core" in probed.reason, probed.reason
    assert "NumberOfConnectors=2" in probed.reason
    # Evidence: the frames of each step, in and out.
    reserve = result.steps[1]
    assert any(
        e.direction is TraceDirection.OUT and e.action == "ReserveNow" for e in reserve.evidence
    )
    assert any(
        e.direction is TraceDirection.IN and e.action == "StatusNotification"
        for e in reserve.evidence
    )
    # The timeline: Reserved and Available on connector 1, spans with how they ended.
    for connector in connectors:
        seen = {p.status for p in result.statuses if p.connector_id == connector}
        assert {"Reserved", "Available"} <= seen
    ended_by = [s.ended_by for s in result.spans]
    assert "replaced" in ended_by
    assert "expired" in ended_by
    assert all(s.end is not None for s in result.spans)
    # Each span keeps the expiryDate the check sent (the timeline marks it): the expired
    # one ended at (or just after) its expiry, by the station's clock.
    sent: dict[tuple[int, int], set[datetime]] = {}
    for record in central.reservations():
        if record.station_id == STATION:
            key = (record.reservation_id, record.connector_id)
            sent.setdefault(key, set()).add(record.expiry_date)
    assert all(s.expiry in sent[(s.reservation_id, s.connector_id)] for s in result.spans)
    expired = next(s for s in result.spans if s.ended_by == "expired")
    assert expired.expiry is not None
    assert expired.end is not None
    assert expired.expiry - timedelta(seconds=1) <= expired.end
    # Stored, with its id; the reservations show in the table like any other.
    assert result.check_id is not None
    assert [c.check_id for c in central.checks()] == [result.check_id]
    assert central.checks()[0].outcome is CheckOutcome.PASSED
    made = [r for r in central.reservations() if r.station_id == STATION]
    assert len(made) >= 5
    assert not any(r.state is ReservationState.ACCEPTED for r in made)
    assert check.result == result


# --- defective stations: exactly their step fails ----------------------------------------


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("defect", "step", "reason"),
    [
        (Defect.NEVER_SENDS_RESERVED, CheckStep.RESERVE, "no StatusNotification Reserved"),
        (Defect.ACCEPTS_SECOND_RESERVATION, CheckStep.SECOND_RESERVATION, "expected Occupied"),
        (Defect.ACCEPTS_UNKNOWN_CANCEL, CheckStep.CANCEL_UNKNOWN, "expected Rejected"),
        (Defect.ACCEPTS_CONNECTOR_ZERO_UNSUPPORTED, CheckStep.CONNECTOR_ZERO, "expected Rejected"),
        (Defect.FORGETS_EXPIRY, CheckStep.EXPIRY, "no StatusNotification Available"),
        (
            Defect.KEEPS_RESERVATION_WHEN_INOPERATIVE,
            CheckStep.INOPERATIVE,
            "cancelling it afterwards was Accepted",
        ),
        (
            Defect.ACCEPTS_REPLACEMENT_ONTO_OCCUPIED,
            CheckStep.REPLACE_OCCUPIED,
            "expected Occupied, station answered Accepted; Y did not stay intact",
        ),
        (
            Defect.STARTS_REMOTE_FOR_OTHER_ID_TAG,
            CheckStep.REMOTE_START_OTHER,
            "the station started a transaction for CHECK-TAG-OTHER on connector 1",
        ),
    ],
)
async def test_each_defect_fails_exactly_its_step(
    central: CentralSystem, defect: Defect, step: CheckStep, reason: str
) -> None:
    async with simulated(central, defects=[defect]) as station:
        _, result = await run_check(central)
        assert held_on(station) == []
    assert result.outcome is CheckOutcome.FAILED
    assert failed(result) == {step}, [(s.step, s.reason) for s in result.failed_steps]
    assert reason in result.failed_steps[0].reason
    others = {s.step: s for s in result.steps if s.step is not step}
    if defect is Defect.ACCEPTS_SECOND_RESERVATION:
        # The same rule (Occupied on a reserved connector): judged once, by step 2.
        replaced = others.pop(CheckStep.REPLACE_OCCUPIED)
        assert replaced.verdict is Verdict.SKIPPED
        assert "step 2 showed" in replaced.reason
    assert all(s.verdict is Verdict.PASSED for s in others.values()), [
        (s.step, s.verdict, s.reason) for s in others.values()
    ]
    assert result.left_behind == ()
    assert [c.status for c in station_connectors(central)] == [ChargePointStatus.AVAILABLE] * 2
    if defect is Defect.NEVER_SENDS_RESERVED:
        expiry = next(s for s in result.steps if s.step is CheckStep.EXPIRY)
        assert "no Reserved (see step 1)" in expiry.reason
    if defect is Defect.FORGETS_EXPIRY:
        assert "still held it" in result.failed_steps[0].reason
        # The reservations table says what the check proved, not only "expired".
        match = re.search(r"reservation (\d+) \(expiry", result.failed_steps[0].reason)
        assert match is not None
        record = central.reservation(STATION, int(match.group(1)))
        assert record is not None
        assert record.state is ReservationState.EXPIRED
        assert record.cancel is not None
        assert record.cancel.status is CancelReservationStatus.ACCEPTED
        assert record.cancel.by_check


# --- stopping -----------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_cancel_mid_way_leaves_nothing_held(central: CentralSystem) -> None:
    def cancel_at_replace(check: ReservationCheck, result: CheckResult) -> None:
        step = next(s for s in result.steps if s.step is CheckStep.REPLACE)
        if step.verdict is Verdict.RUNNING:
            check.cancel()

    async with simulated(central) as station:
        _, result = await run_check(central, on_result=cancel_at_replace)
        assert held_on(station) == []
    assert result.outcome is CheckOutcome.CANCELLED
    by_step = {s.step: s for s in result.steps}
    assert by_step[CheckStep.RESERVE].verdict is Verdict.PASSED
    assert by_step[CheckStep.REPLACE].verdict is Verdict.SKIPPED
    assert by_step[CheckStep.SCHEMAS].reason == "check cancelled"
    assert result.left_behind == ()
    assert central.checks()[-1].outcome is CheckOutcome.CANCELLED


@pytest.mark.asyncio
async def test_task_cancellation_cleans_up_then_raises(central: CentralSystem) -> None:
    async with simulated(central) as station:
        check = ReservationCheck(central, CheckRequest(STATION, [1], ID_TAG), OPTIONS)
        second_running = asyncio.Event()
        check.subscribe(
            lambda r: (
                second_running.set()
                if any(
                    s.step is CheckStep.SECOND_RESERVATION and s.verdict is Verdict.RUNNING
                    for s in r.steps
                )
                else None
            )
        )
        task = asyncio.ensure_future(check.run())
        await asyncio.wait_for(second_running.wait(), 30)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert held_on(station) == []
    assert check.result.outcome is CheckOutcome.CANCELLED
    assert check.result.finished_at is not None


@pytest.mark.asyncio
async def test_a_station_that_disconnects_aborts_the_check(central: CentralSystem) -> None:
    gone: list[asyncio.Task[None]] = []

    async with simulated(central) as station:

        def drop_at_cancel_unknown(check: ReservationCheck, result: CheckResult) -> None:
            step = next(s for s in result.steps if s.step is CheckStep.CANCEL_UNKNOWN)
            if step.verdict is Verdict.RUNNING and not gone:
                gone.append(asyncio.ensure_future(station.go_offline()))

        options = CheckOptions(step_timeout=2.0, expiry_seconds=3.0)
        _, result = await run_check(central, on_result=drop_at_cancel_unknown, options=options)
        await asyncio.gather(*gone)
    assert result.outcome is CheckOutcome.ABORTED
    assert "disconnected" in result.reason
    by_step = {s.step: s for s in result.steps}
    assert by_step[CheckStep.RESERVE].verdict is Verdict.PASSED
    assert by_step[CheckStep.EXPIRY].verdict is Verdict.SKIPPED
    assert by_step[CheckStep.SCHEMAS].verdict is Verdict.SKIPPED
    # The station went away holding step 1's reservation: said loudly.
    assert result.left_behind != ()


@pytest.mark.asyncio
async def test_a_connector_that_is_not_available_is_skipped(central: CentralSystem) -> None:
    async with simulated(central, Behaviour.FAULTED) as station:
        _, result = await run_check(central, (1, 2))
        assert held_on(station) == []
    skipped = [s for s in result.steps if s.connector_id == 1]
    assert len(skipped) == 10  # 1-5, 7 and the availability steps 11-14
    assert all(s.verdict is Verdict.SKIPPED for s in skipped)
    assert skipped[0].reason == "connector 1 is Faulted, not Available"
    # The timeline starts with each connector's status at the start (never reported again).
    first = {p.connector_id: p for p in reversed(result.statuses)}
    assert first[1].status == "Faulted"
    assert first[1].at <= result.started_at
    assert all(s.verdict is Verdict.PASSED for s in result.steps if s.connector_id != 1)
    assert result.outcome is CheckOutcome.PASSED


@pytest.mark.asyncio
async def test_a_card_using_the_expiry_reservation_skips_the_expiry_step(
    central: CentralSystem,
) -> None:
    """The reserved card arrives during step 7 (as CP-07 of the demo does): the reservation
    ends by a transaction, which is right; the expiry cannot be seen, so the step is
    skipped with that reason, not failed. The running step's frames show as they come."""
    presented: list[asyncio.Task[object]] = []
    live_evidence: list[int] = []

    async with simulated(central) as station:

        def driver(check: ReservationCheck, result: CheckResult) -> None:
            running = next((s for s in result.steps if s.verdict is Verdict.RUNNING), None)
            if running is None:
                return
            if running.evidence:
                live_evidence.append(len(running.evidence))
            if running.step is CheckStep.EXPIRY and not presented and station.engine.reservations:
                presented.append(asyncio.ensure_future(station.present_id_tag(ID_TAG, 1)))

        options = CheckOptions(step_timeout=4.0, expiry_seconds=30.0)
        _, result = await run_check(central, guided=True, on_result=driver, options=options)
        await asyncio.gather(*presented)
        await station.stop_transaction(1)
        assert held_on(station) == []
    expiry = next(s for s in result.steps if s.step is CheckStep.EXPIRY)
    assert expiry.verdict is Verdict.SKIPPED, expiry.reason
    assert "was used before its expiry" in expiry.reason
    assert f"transaction for {ID_TAG} on connector 1" in expiry.reason
    assert "used" in [s.ended_by for s in result.spans]
    # The card's transaction goes on: the guided step cannot reserve the connector.
    cards = next(s for s in result.steps if s.step is CheckStep.CARDS)
    assert cards.verdict is Verdict.SKIPPED, cards.reason
    assert re.fullmatch(r"connector 1 is (Preparing|Charging) now, not Available", cards.reason)
    assert result.outcome is CheckOutcome.PASSED
    assert live_evidence, "no step showed its frames while it ran"


@pytest.mark.asyncio
async def test_a_station_without_the_reservation_profile_is_not_applicable(
    central: CentralSystem,
) -> None:
    """The probe reads SupportedFeatureProfiles without Reservation: every reservation step
    is N/A with that reason (neither a pass nor a fail), nothing is reserved, the frames
    are still checked."""
    async with simulated(central, Behaviour.NO_RESERVATIONS) as station:
        _, result = await run_check(central)
        assert held_on(station) == []
    by_step = {s.step: s for s in result.steps}
    assert by_step[CheckStep.CAPABILITIES].verdict is Verdict.PASSED
    assert by_step[CheckStep.SCHEMAS].verdict is Verdict.PASSED
    others = [s for s in result.steps if s.step not in (CheckStep.CAPABILITIES, CheckStep.SCHEMAS)]
    assert others
    for step in others:
        assert step.verdict is Verdict.NOT_APPLICABLE, step
        assert "does not list Reservation" in step.reason
    assert result.failed_steps == ()
    assert not any(r.station_id == STATION for r in central.reservations())


@pytest.mark.asyncio
async def test_a_station_slower_than_the_step_limit_stops_the_check_and_is_cleaned_up(
    start_central: StartCentral,
) -> None:
    """A station slower than the step time limit (CP-06 of the demo): the probe (step 0)
    fails with no answer and the later steps are not run (each call would wait behind the unanswered
    one, one call at a time); the frames are still checked, and the clean-up waits for the
    slow answers instead of calling the reservation left behind."""
    central = await start_central(call_timeout=20.0)
    slow = SimulationOptions(
        client=ClientOptions(backoff_initial=0.1, backoff_max=0.5), slow_answer_delay=3.0
    )
    site = SiteSimulator(
        f"ws://127.0.0.1:{central.port}",
        connectors=1,
        station_specs=[(STATION, Behaviour.SLOW)],
        options=slow,
    )
    ready = asyncio.ensure_future(wait_for_station(central, STATION, 20, 10))
    await asyncio.sleep(0)
    await site.start()
    try:
        await ready
        options = CheckOptions(step_timeout=1.0, expiry_seconds=5.0)
        _, result = await run_check(central, options=options)
        station = site.station(STATION)
        assert held_on(station) == []
    finally:
        await site.stop()
    by_step = {s.step: s for s in result.steps}
    probed = by_step[CheckStep.CAPABILITIES]
    assert probed.verdict is Verdict.FAILED
    assert "no answer to GetConfiguration within 1 s" in probed.reason
    not_run = [s for s in result.steps if s.step not in (CheckStep.CAPABILITIES, CheckStep.SCHEMAS)]
    assert not_run
    for step in not_run:
        assert step.verdict is Verdict.SKIPPED, step
        assert "did not answer within the step time limit (1 s) in step 0" in step.reason
    assert by_step[CheckStep.SCHEMAS].verdict is Verdict.PASSED
    assert result.outcome is CheckOutcome.FAILED
    assert "step time limit" in result.reason
    assert result.left_behind == ()
    assert not any(r.state is ReservationState.ACCEPTED for r in central.reservations()), (
        central.reservations()
    )


# --- the guided step ----------------------------------------------------------------------


@pytest.mark.asyncio
async def test_guided_cards_pass_on_a_correct_station(central: CentralSystem) -> None:
    presented: list[asyncio.Task[object]] = []
    prompts: list[str] = []

    async with simulated(central) as station:

        def technician(check: ReservationCheck, result: CheckResult) -> None:
            step = next(s for s in result.steps if s.step is CheckStep.CARDS)
            if step.prompt is None or (prompts and prompts[-1] == step.prompt):
                return
            prompts.append(step.prompt)
            card = "SOMEONE-ELSE" if "other than" in step.prompt else ID_TAG
            presented.append(asyncio.ensure_future(station.present_id_tag(card, 1)))

        options = CheckOptions(step_timeout=2.0, expiry_seconds=3.0, guided_timeout=20.0)
        _, result = await run_check(central, guided=True, on_result=technician, options=options)
        outcomes = await asyncio.gather(*presented)
        await station.stop_transaction(1)
        assert held_on(station) == []
    cards = next(s for s in result.steps if s.step is CheckStep.CARDS)
    assert cards.verdict is Verdict.PASSED, cards.reason
    assert prompts == [
        f"Present a card other than {ID_TAG} at connector 1 and plug in: "
        "the station must not start charging",
        f"Now present card {ID_TAG} at connector 1 (plugged in): charging must start",
    ]
    assert [getattr(o, "started", None) for o in outcomes] == [False, True]
    assert "used" in [s.ended_by for s in result.spans]
    assert result.outcome is CheckOutcome.PASSED
    assert [s.step for s in result.steps][-2:] == [CheckStep.CARDS, CheckStep.SCHEMAS]


@pytest.mark.asyncio
async def test_the_guided_step_can_be_skipped(central: CentralSystem) -> None:
    async with simulated(central) as station:

        def skip(check: ReservationCheck, result: CheckResult) -> None:
            if any(s.step is CheckStep.CARDS and s.prompt for s in result.steps):
                check.skip_current_step()

        _, result = await run_check(central, guided=True, on_result=skip)
        assert held_on(station) == []
    cards = next(s for s in result.steps if s.step is CheckStep.CARDS)
    assert cards.verdict is Verdict.SKIPPED
    assert cards.reason == "skipped by the technician"
    assert result.outcome is CheckOutcome.PASSED


# --- schemas ------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_an_invalid_frame_fails_the_schema_step(central: CentralSystem) -> None:
    """A hand-written station: correct answers, but one StatusNotification with a bad field."""
    url = f"ws://127.0.0.1:{central.port}/{STATION}"
    held: dict[int, int] = {}
    message_ids = itertools.count(1)
    async with websockets.connect(url, subprotocols=["ocpp1.6"]) as ws:  # type: ignore[list-item]

        async def send(frame: list[object]) -> None:
            await ws.send(json.dumps(frame))

        def status(
            connector: int, value: str, extra: dict[str, object] | None = None
        ) -> list[object]:
            payload: dict[str, object] = {
                "connectorId": connector,
                "errorCode": "NoError",
                "status": value,
            }
            payload.update(extra or {})
            return [2, f"s{next(message_ids)}", "StatusNotification", payload]

        await send(
            [2, "boot", "BootNotification", {"chargePointVendor": "Raw", "chargePointModel": "R1"}]
        )
        check_task: asyncio.Future[CheckResult] | None = None
        expiry_timers: list[asyncio.TimerHandle] = []
        sends: list[asyncio.Task[None]] = []
        sent_bad = False
        sent_broken = False
        loop = asyncio.get_running_loop()

        async def serve() -> None:
            nonlocal check_task, sent_bad, sent_broken
            async for message in ws:
                frame = json.loads(message)
                if frame[0] != 2:
                    if frame[1] == "boot":
                        await send(status(1, "Available"))
                    continue
                message_id, action, payload = frame[1], frame[2], frame[3]
                if action == "GetConfiguration":
                    await send(
                        [
                            3,
                            message_id,
                            {
                                "configurationKey": [
                                    {
                                        "key": "ReserveConnectorZeroSupported",
                                        "readonly": True,
                                        "value": "false",
                                    }
                                ]
                            },
                        ]
                    )
                elif action == "TriggerMessage":
                    await send([3, message_id, {"status": "Accepted"}])
                    await send(status(1, "Available"))
                elif action == "ReserveNow":
                    rid, connector = payload["reservationId"], payload["connectorId"]
                    if connector == 0:
                        await send([3, message_id, {"status": "Rejected"}])
                    elif rid in held or connector not in held.values():
                        held[rid] = connector
                        await send([3, message_id, {"status": "Accepted"}])
                        # The defect under test: a status field the schema does not allow.
                        extra = None if sent_bad else {"info": "x" * 60}
                        sent_bad = True
                        await send(status(connector, "Reserved", extra))
                        expiry = datetime.fromisoformat(payload["expiryDate"])
                        delay = (expiry - datetime.now(UTC)).total_seconds()
                        if delay < 60:

                            def expire(rid: int = rid) -> None:
                                if held.pop(rid, None) is not None:
                                    sends.append(loop.create_task(send(status(1, "Available"))))

                            expiry_timers.append(loop.call_later(delay + 0.05, expire))
                    else:
                        await send([3, message_id, {"status": "Occupied"}])
                elif action == "CancelReservation":
                    rid = payload["reservationId"]
                    if not sent_broken:
                        sent_broken = True
                        await ws.send('[2, "broken", "Heartbeat", {')  # not even JSON
                    if held.pop(rid, None) is not None:
                        await send([3, message_id, {"status": "Accepted"}])
                        await send(status(1, "Available"))
                    else:
                        await send([3, message_id, {"status": "Rejected"}])
                else:
                    await send([4, message_id, "NotImplemented", "", {}])

        server = asyncio.ensure_future(serve())
        try:
            await wait_for_station(central, STATION, 20, 10)
            _, result = await run_check(central)
        finally:
            server.cancel()
            for timer in expiry_timers:
                timer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await server
    assert failed(result) == {CheckStep.SCHEMAS}, [(s.step, s.reason) for s in result.failed_steps]
    schemas = result.failed_steps[0]
    assert "StatusNotification" in schemas.reason
    assert '"info": "' + "x" * 60 in schemas.reason
    assert '[2, "broken", "Heartbeat", {' in schemas.reason
    assert schemas.reason.startswith("2 problem(s) in ")
    # The evidence of the schema step: the frames at fault.
    assert [e.message_type for e in schemas.evidence] == [2, None]
    assert held == {}


# --- small things -------------------------------------------------------------------------


def test_the_other_id_tag_differs_and_fits() -> None:
    for tag in ("A", "check", "X" * 20, "ABCDEFGHIJKLMN-OTHER", "abcdefghijklmn-other"):
        other = derive_other_id_tag(tag)
        assert other.casefold() != tag.casefold()
        assert 1 <= len(other) <= 20


def test_a_request_without_connectors_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one connector"):
        ReservationCheck(object(), CheckRequest(STATION, [], ID_TAG))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="differ"):
        ReservationCheck(
            object(),  # type: ignore[arg-type]
            CheckRequest(STATION, [1], ID_TAG),
            CheckOptions(other_id_tag=ID_TAG.lower()),
        )


@pytest.mark.asyncio
async def test_a_station_not_connected_aborts_at_once(central: CentralSystem) -> None:
    _, result = await run_check(central)
    assert result.outcome is CheckOutcome.ABORTED
    assert result.reason == f"station {STATION} is not connected"
    assert all(s.verdict is Verdict.SKIPPED for s in result.steps)
    assert central.checks()[-1].outcome is CheckOutcome.ABORTED


# --- the Central System's additions the check uses ----------------------------------------


@pytest.mark.asyncio
async def test_get_configuration_probe_and_fresh_ids(central: CentralSystem) -> None:
    offline = await central.get_configuration(STATION, ["ReserveConnectorZeroSupported"])
    assert offline.error == f"station {STATION} is not connected"
    async with simulated(central, Behaviour.NO_CONNECTOR_ZERO):
        answer = await central.get_configuration(
            STATION, ["reserveconnectorzerosupported", "NoSuchKey"]
        )
        assert answer.error is None
        assert answer.values == {"ReserveConnectorZeroSupported": "false"}
        assert answer.value("RESERVECONNECTORZEROSUPPORTED") == "false"
        assert answer.unknown_keys == ("NoSuchKey",)
        station = central.station(STATION)
        assert station is not None
        assert station.reserve_connector_zero_supported is False
        expiry = datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=5)
        # By default the book refuses connector 0 itself (nothing sent) ...
        local = await central.reserve_now(STATION, 0, ID_TAG, expiry)
        assert local.state is ReservationState.ERROR
        assert local.confirmation is None
        # ... a probe asks the station, which must refuse it.
        probed = await central.reserve_now(STATION, 0, ID_TAG, expiry, probe=True)
        assert probed.state is ReservationState.REJECTED
        first = await central.allocate_reservation_id()
        second = await central.allocate_reservation_id()
        assert second > first > probed.reservation_id
        assert central.peek_reservation_id() > second
        outcome = await central.cancel_reservation(STATION, first)
        assert outcome.status is not None
        assert outcome.status.value == "Rejected"


@pytest.mark.asyncio
async def test_cancelled_before_it_runs_sends_nothing(central: CentralSystem) -> None:
    async with simulated(central):
        check = ReservationCheck(central, CheckRequest(STATION, [1], ID_TAG), OPTIONS)
        check.cancel()
        result = await asyncio.wait_for(check.run(), 30)
    assert result.outcome is CheckOutcome.CANCELLED
    assert {s.verdict for s in result.steps} == {Verdict.SKIPPED}
    assert not [r for r in central.reservations() if r.station_id == STATION]


# --- audit: paths no test executed before ---------------------------------------------------


@pytest.mark.asyncio
async def test_the_clean_up_takes_a_late_cancel_answer_as_cancelled(
    start_central: StartCentral,
) -> None:
    """The station turns slow mid-check: the clean-up's CancelReservation outlives the
    Central System's call timeout, and the late answer (not a second cancel, nor a
    reservation called left behind) settles it."""
    central = await start_central(call_timeout=1.0)

    async with simulated(central) as station:

        def slow_then_cancel(check: ReservationCheck, result: CheckResult) -> None:
            step = next(s for s in result.steps if s.step is CheckStep.REPLACE)
            if step.verdict is Verdict.RUNNING and not station.client.options.answer_delay:
                station.client.options = dataclasses.replace(
                    station.client.options, answer_delay=1.5
                )
                check.cancel()

        options = CheckOptions(step_timeout=4.0, expiry_seconds=2.0)
        _, result = await run_check(central, on_result=slow_then_cancel, options=options)
        assert held_on(station) == []
    assert result.outcome is CheckOutcome.CANCELLED
    assert result.left_behind == ()
    late_cancels = [
        e
        for e in central.recent_trace()
        if e.late and e.action == "CancelReservation" and e.direction is TraceDirection.IN
    ]
    assert late_cancels
    cancels_sent = [
        e
        for e in central.recent_trace()
        if e.action == "CancelReservation" and e.direction is TraceDirection.OUT
    ]
    # One cancel per reservation held: the late answer was not taken for silence.
    sent_ids = [json.loads(e.text)[3]["reservationId"] for e in cancels_sent]
    assert len(sent_ids) == len(set(sent_ids))


@pytest.mark.asyncio
async def test_the_reserved_card_in_another_letter_case_is_the_reserved_card(
    central: CentralSystem,
) -> None:
    """idTags compare case-insensitively: the reserved card read as lower case is not
    'another card', and its StartTransaction passes the guided step."""
    presented: list[asyncio.Task[object]] = []
    prompts: list[str] = []

    async with simulated(central) as station:

        def technician(check: ReservationCheck, result: CheckResult) -> None:
            step = next(s for s in result.steps if s.step is CheckStep.CARDS)
            if step.prompt is None or (prompts and prompts[-1] == step.prompt):
                return
            prompts.append(step.prompt)
            card = "SOMEONE-ELSE" if "other than" in step.prompt else ID_TAG.lower()
            presented.append(asyncio.ensure_future(station.present_id_tag(card, 1)))

        options = CheckOptions(step_timeout=2.0, expiry_seconds=3.0, guided_timeout=20.0)
        _, result = await run_check(central, guided=True, on_result=technician, options=options)
        outcomes = await asyncio.gather(*presented)
        await station.stop_transaction(1)
    assert ID_TAG.lower() != ID_TAG
    cards = next(s for s in result.steps if s.step is CheckStep.CARDS)
    assert cards.verdict is Verdict.PASSED, cards.reason
    assert [getattr(o, "started", None) for o in outcomes] == [False, True]
    starts = [
        e
        for e in central.recent_trace()
        if e.action == "StartTransaction" and e.direction is TraceDirection.IN
    ]
    assert json.loads(starts[-1].text)[3]["idTag"] == ID_TAG.lower()
