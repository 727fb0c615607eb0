"""The reservation conformance check against a station we did not write the OCPP layer of.

The station is built on the third-party ``ocpp`` package (``ocpp.v16.ChargePoint``), with
its schema validation on: it checks every call the console sends against the official
OCPP 1.6 JSON schemas and answers a CALLERROR to one that breaks them. On top of it sits a
small, plain reading of the Reservation profile's station-side rules (DESIGN.md,
"Reservation rules — station side"). The check must pass it, every call it makes must be
valid to that package (seen by the station, and again by jsonschema on the check's own
evidence), and one deliberate rule break must fail exactly the step that covers it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import ocpp
import pytest
import pytest_asyncio
import websockets
from jsonschema import Draft4Validator
from ocpp.routing import after, on
from ocpp.v16 import ChargePoint, call, call_result
from ocpp.v16.enums import Action

from console.central.check.model import CheckOutcome, CheckRequest, CheckResult, CheckStep, Verdict
from console.central.check.runner import CheckOptions, ReservationCheck
from console.central.cli import wait_for_station
from console.central.config import CentralSystemConfig
from console.central.model import TraceDirection
from console.central.server import CentralSystem

pytestmark = pytest.mark.asyncio

STATION = "CP-OCPP-PKG"
ID_TAG = "INTEROP-TAG"
CONNECTORS = 2
OPTIONS = CheckOptions(step_timeout=5.0, expiry_seconds=3.0, guided_timeout=10.0)
AUTOMATIC = [
    CheckStep.CAPABILITIES,
    CheckStep.RESERVE,
    CheckStep.SECOND_RESERVATION,
    CheckStep.REPLACE,
    CheckStep.CANCEL_UNKNOWN,
    CheckStep.CANCEL_HELD,
    CheckStep.CONNECTOR_ZERO,
    CheckStep.EXPIRY,
    CheckStep.SCHEMAS,
    CheckStep.INOPERATIVE,
    CheckStep.RESERVE_INOPERATIVE,
    CheckStep.REMOTE_START_OTHER,
    CheckStep.REPLACE_OCCUPIED,
]
SCHEMAS = Path(ocpp.__file__).parent / "v16" / "schemas"
CALL, CALL_RESULT, CALL_ERROR = 2, 3, 4


def _stamp() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Held:
    """A reservation the station holds, with the timer that ends it at its expiry."""

    reservation_id: int
    connector_id: int
    id_tag: str
    timer: asyncio.TimerHandle | None = None


class ReservingStation(ChargePoint):  # type: ignore[misc]
    """A station that follows the Reservation profile's station-side rules.

    It records every frame it receives and sends, so a test can tell whether its own
    (the ``ocpp`` package's) validation refused anything the console sent.
    """

    def __init__(self, station_id: str, connection: Any, zero_supported: str) -> None:
        super().__init__(station_id, connection, response_timeout=10)
        self.zero_supported = zero_supported
        self.held: dict[int, Held] = {}  # by connector id (0 included): one per connector
        self.reported: dict[int, str] = {}  # the last status sent, by connector
        self.received: list[str] = []
        self.sent: list[str] = []
        self.problems: list[str] = []  # the station's own calls that failed
        self.inoperative: set[int] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    # --- recording ----------------------------------------------------------------------

    async def route_message(self, raw_msg: str) -> None:
        self.received.append(raw_msg)
        await super().route_message(raw_msg)

    async def _send(self, message: str) -> None:
        self.sent.append(message)
        await super()._send(message)

    def call_errors_sent(self) -> list[str]:
        return [m for m in self.sent if json.loads(m)[0] == CALL_ERROR]

    def calls_unanswered(self) -> list[str]:
        """Calls received with no answer sent back (the package drops what it cannot unpack
        without a word, so a CALLERROR count alone would miss those)."""
        answers = (json.loads(m) for m in self.sent)
        answered = {a[1] for a in answers if a[0] in (CALL_RESULT, CALL_ERROR)}
        return [m for m in self.received if _is_call(m) and json.loads(m)[1] not in answered]

    # --- the rules ----------------------------------------------------------------------

    def _by_id(self, reservation_id: int) -> Held | None:
        return next((h for h in self.held.values() if h.reservation_id == reservation_id), None)

    def _busy(self, connector_id: int) -> bool:
        if connector_id in self.held:
            return True
        if connector_id == 0:
            # A connector-0 reservation needs one connector left free.
            return all(c in self.held for c in range(1, CONNECTORS + 1))
        return False

    def _drop(self, held: Held) -> None:
        if held.timer is not None:
            held.timer.cancel()
        del self.held[held.connector_id]

    def _expire(self, held: Held) -> None:
        # The station's own timer: nothing from the console is involved.
        if self.held.get(held.connector_id) is held:
            del self.held[held.connector_id]
            self._spawn(self._report_changes())

    def reserve_status(self, connector_id: int, reservation_id: int) -> str:
        """What ReserveNow answers, before anything changes (subclasses break rules here)."""
        if connector_id == 0 and self.zero_supported.casefold() != "true":
            return "Rejected"
        if connector_id < 0 or connector_id > CONNECTORS:
            return "Rejected"
        if connector_id in self.inoperative:
            return "Unavailable"
        old = self._by_id(reservation_id)
        if old is not None and old.connector_id == connector_id:
            return "Accepted"  # the same reservationId replaces
        return "Occupied" if self._busy(connector_id) else "Accepted"

    def cancel_status(self, reservation_id: int) -> str:
        return "Accepted" if self._by_id(reservation_id) is not None else "Rejected"

    @on(Action.reserve_now)
    def on_reserve_now(
        self, connector_id: int, expiry_date: str, id_tag: str, reservation_id: int, **_: Any
    ) -> Any:
        status = self.reserve_status(connector_id, reservation_id)
        if status == "Accepted":
            old = self._by_id(reservation_id)
            if old is not None:
                self._drop(old)
            delay = (datetime.fromisoformat(expiry_date) - datetime.now(UTC)).total_seconds()
            held = Held(reservation_id, connector_id, id_tag)
            held.timer = asyncio.get_running_loop().call_later(max(delay, 0.0), self._expire, held)
            self.held[connector_id] = held
        return call_result.ReserveNow(status=status)

    @after(Action.reserve_now)
    def after_reserve_now(self, **_: Any) -> None:
        # After the answer is sent: StatusNotification Reserved for what changed.
        self._spawn(self._report_changes())

    @on(Action.cancel_reservation)
    def on_cancel_reservation(self, reservation_id: int) -> Any:
        status = self.cancel_status(reservation_id)
        held = self._by_id(reservation_id)
        if status == "Accepted" and held is not None:
            self._drop(held)
        return call_result.CancelReservation(status=status)

    @after(Action.cancel_reservation)
    def after_cancel_reservation(self, **_: Any) -> None:
        self._spawn(self._report_changes())

    @on(Action.change_availability)
    def on_change_availability(self, connector_id: int, type: str) -> Any:
        targets = range(1, CONNECTORS + 1) if connector_id == 0 else [connector_id]
        for target in targets:
            if type == "Inoperative":
                self.inoperative.add(target)
                # A connector out of service ends its reservation.
                held = self.held.get(target)
                if held is not None:
                    self._drop(held)
            else:
                self.inoperative.discard(target)
        return call_result.ChangeAvailability(status="Accepted")

    @after(Action.change_availability)
    def after_change_availability(self, **_: Any) -> None:
        self._spawn(self._report_changes())

    @on(Action.remote_start_transaction)
    def on_remote_start(self, id_tag: str, connector_id: int | None = None, **_: Any) -> Any:
        # It charges nothing: only the reserved idTag could, and it has no EV plugged in.
        return call_result.RemoteStartTransaction(status="Rejected")

    # --- configuration, trigger, statuses ----------------------------------------------

    @on(Action.get_configuration)
    def on_get_configuration(self, key: list[str] | None = None) -> Any:
        known = {
            "SupportedFeatureProfiles": "Core,RemoteTrigger,Reservation",
            "ReserveConnectorZeroSupported": self.zero_supported,
            "NumberOfConnectors": str(CONNECTORS),
        }
        asked = key or list(known)
        return call_result.GetConfiguration(
            configuration_key=[
                {"key": k, "readonly": True, "value": known[k]} for k in asked if k in known
            ],
            unknown_key=[k for k in asked if k not in known] or None,
        )

    @on(Action.trigger_message)
    def on_trigger_message(self, requested_message: str, connector_id: int | None = None) -> Any:
        if requested_message != "StatusNotification":
            return call_result.TriggerMessage(status="NotImplemented")
        return call_result.TriggerMessage(status="Accepted")

    @after(Action.trigger_message)
    def after_trigger_message(
        self, requested_message: str, connector_id: int | None = None
    ) -> None:
        if requested_message == "StatusNotification":
            asked = range(CONNECTORS + 1) if connector_id is None else [connector_id]
            self._spawn(self._report(list(asked)))

    def status_of(self, connector_id: int) -> str:
        # Connector 0 has no Reserved status; a connector-0 reservation changes none.
        if connector_id in self.inoperative:
            return "Unavailable"
        return "Reserved" if connector_id != 0 and connector_id in self.held else "Available"

    async def _report(self, connectors: list[int]) -> None:
        for connector_id in connectors:
            status = self.status_of(connector_id)
            self.reported[connector_id] = status  # before the await: no double report
            await self.call(
                call.StatusNotification(
                    connector_id=connector_id,
                    error_code="NoError",
                    status=status,
                    timestamp=_stamp(),
                ),
                suppress=False,
            )

    async def _report_changes(self) -> None:
        changed = [c for c in range(1, CONNECTORS + 1) if self.reported.get(c) != self.status_of(c)]
        await self._report(changed)

    async def boot(self) -> None:
        answer = await self.call(
            call.BootNotification(
                charge_point_model="InteropModel",
                charge_point_vendor="OcppPackage",
                firmware_version="2.1.0",
            ),
            suppress=False,
        )
        assert answer.status == "Accepted"
        await self._report(list(range(CONNECTORS + 1)))

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            # Recorded, not raised: the tests assert there is none.
            self.problems.append(repr(task.exception()))

    async def close(self) -> None:
        for held in list(self.held.values()):
            if held.timer is not None:
                held.timer.cancel()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


class AcceptsUnknownCancel(ReservingStation):
    """Breaks one rule: cancelling a reservationId it does not hold answers Accepted."""

    def cancel_status(self, reservation_id: int) -> str:
        return "Accepted"


def _is_call(frame: str) -> bool:
    try:
        decoded = json.loads(frame)
    except ValueError:
        return False
    return isinstance(decoded, list) and bool(decoded) and decoded[0] == CALL


@cache
def _validator(schema_name: str) -> Draft4Validator:
    schema = json.loads((SCHEMAS / f"{schema_name}.json").read_text(encoding="utf-8-sig"))
    Draft4Validator.check_schema(schema)
    return Draft4Validator(schema)


# --- fixtures and helpers -----------------------------------------------------------------


@pytest_asyncio.fixture
async def central(tmp_path: Path) -> AsyncIterator[CentralSystem]:
    """A Central System on 127.0.0.1, port 0, with its SQLite store in tmp_path."""
    config = CentralSystemConfig(
        host="127.0.0.1", port=0, data_dir=tmp_path, call_timeout=10.0, ping_interval=None
    )
    system = CentralSystem(config)
    await system.start()
    yield system
    await system.stop()


@contextlib.asynccontextmanager
async def connected(
    central: CentralSystem,
    zero_supported: str,
    station_class: type[ReservingStation] = ReservingStation,
) -> AsyncIterator[ReservingStation]:
    """The station connected, booted and with every connector reported to the console."""
    ready = asyncio.ensure_future(wait_for_station(central, STATION, 20, 10))
    await asyncio.sleep(0)  # let it subscribe before the station can connect
    websocket = await websockets.connect(
        f"ws://127.0.0.1:{central.port}/{STATION}", subprotocols=["ocpp1.6"]
    )
    station = station_class(STATION, websocket, zero_supported)
    reader = asyncio.create_task(station.start())
    try:
        await asyncio.wait_for(station.boot(), 10)
        reported = await ready
        assert reported == dict.fromkeys(range(CONNECTORS + 1), "Available")
        yield station
    finally:
        ready.cancel()
        reader.cancel()
        with contextlib.suppress(BaseException):
            await reader
        await station.close()
        await websocket.close()


async def run_check(central: CentralSystem, connectors: tuple[int, ...]) -> CheckResult:
    check = ReservationCheck(central, CheckRequest(STATION, list(connectors), ID_TAG), OPTIONS)
    return await asyncio.wait_for(check.run(), 60)


def reasons(result: CheckResult) -> list[tuple[str, int | None, str, str]]:
    return [(s.step.value, s.connector_id, s.verdict.value, s.reason) for s in result.steps]


def assert_station_refused_nothing(station: ReservingStation) -> None:
    """The ``ocpp`` package's own validation found every call of the console valid."""
    calls = [json.loads(m) for m in station.received if _is_call(m)]
    actions = {c[2] for c in calls}
    assert {"GetConfiguration", "TriggerMessage", "ReserveNow", "CancelReservation"} <= actions
    assert station.call_errors_sent() == []
    assert station.calls_unanswered() == []
    assert station.problems == []


def out_frames_valid(result: CheckResult) -> list[str]:
    """Validate every frame the console sent during the check, as the evidence shows it,
    against the ``ocpp`` package's official schemas; returns the actions of the calls."""
    seen: dict[int, Any] = {}
    for step in result.steps:
        for entry in step.evidence:
            if entry.direction is TraceDirection.OUT:
                seen[entry.seq] = entry  # steps may share frames: each is validated once
    actions: list[str] = []
    for entry in sorted(seen.values(), key=lambda e: e.seq):
        frame = json.loads(entry.text)
        if frame[0] == CALL:
            _, _, action, payload = frame
            assert entry.action == action
            _validator(action).validate(payload)
            if "expiryDate" in payload:
                assert datetime.fromisoformat(payload["expiryDate"]).tzinfo is not None
            actions.append(action)
        elif frame[0] == CALL_RESULT:
            assert entry.action is not None, entry
            _validator(f"{entry.action}Response").validate(frame[2])
    return actions


# --- tests --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("zero_supported", "connectors", "zero_answer"),
    [("true", (1,), "Accepted"), ("false", (2, 1), "Rejected")],
)
async def test_the_check_passes_a_station_built_on_the_ocpp_package(
    central: CentralSystem, zero_supported: str, connectors: tuple[int, ...], zero_answer: str
) -> None:
    async with connected(central, zero_supported) as station:
        result = await run_check(central, connectors)
        # The clean-up left nothing held, as the station itself sees it.
        assert station.held == {}
        assert_station_refused_nothing(station)
        # Every reservation the check made ended with the connector back to Available.
        assert all(station.status_of(c) == "Available" for c in range(CONNECTORS + 1))
    assert result.outcome is CheckOutcome.PASSED, reasons(result)
    assert all(s.verdict is Verdict.PASSED for s in result.steps), reasons(result)
    assert {s.step for s in result.steps} == set(AUTOMATIC)
    assert result.left_behind == ()
    assert result.vendor == "OcppPackage"
    zero = next(s for s in result.steps if s.step is CheckStep.CONNECTOR_ZERO)
    assert f"ReserveConnectorZeroSupported={zero_supported}" in zero.reason
    assert f": {zero_answer}" in zero.reason
    for connector in connectors:
        expiry = next(
            s for s in result.steps if s.step is CheckStep.EXPIRY and s.connector_id == connector
        )
        assert "cancelling it afterwards: Rejected" in expiry.reason
    # Independently of the station: the check's own evidence against the schemas.
    actions = out_frames_valid(result)
    assert {"ReserveNow", "CancelReservation", "GetConfiguration"} <= set(actions)
    assert actions.count("ReserveNow") >= 4 * len(connectors) + 1


async def test_a_broken_rule_fails_exactly_its_step(central: CentralSystem) -> None:
    async with connected(central, "true", AcceptsUnknownCancel) as station:
        result = await run_check(central, (1,))
        assert station.held == {}
        assert_station_refused_nothing(station)
    assert result.outcome is CheckOutcome.FAILED
    failed = [(s.step, s.connector_id) for s in result.failed_steps]
    assert failed == [(CheckStep.CANCEL_UNKNOWN, 1)], reasons(result)
    assert "station answered Accepted" in result.failed_steps[0].reason
    assert all(
        s.verdict is Verdict.PASSED for s in result.steps if s.step is not CheckStep.CANCEL_UNKNOWN
    ), reasons(result)
    assert result.left_behind == ()
    out_frames_valid(result)


async def test_the_station_refuses_an_invalid_call_so_its_silence_means_something() -> None:
    """The station's validation is really on: an invalid ReserveNow gets a CALLERROR."""

    class Connection:
        def __init__(self) -> None:
            self.sent: list[str] = []

        async def send(self, message: str) -> None:
            self.sent.append(message)

    connection = Connection()
    station = ReservingStation(STATION, connection, "true")
    invalid = [CALL, "bad-1", "ReserveNow", {"connectorId": "one", "idTag": "X"}]
    await station.route_message(json.dumps(invalid))
    valid = [
        CALL,
        "good-1",
        "ReserveNow",
        {"connectorId": 1, "expiryDate": "2099-01-01T00:00:00Z", "idTag": "X", "reservationId": 7},
    ]
    await station.route_message(json.dumps(valid))
    refusals = [json.loads(m)[1:3] for m in station.call_errors_sent()]
    assert refusals == [["bad-1", "TypeConstraintViolation"]]
    assert station.calls_unanswered() == []
    answers = [json.loads(m) for m in connection.sent]
    assert [CALL_RESULT, "good-1", {"status": "Accepted"}] in answers
    assert station.held[1].reservation_id == 7
    await station.close()
