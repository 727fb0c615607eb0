"""Deliberately defective stations: each defect breaks its one Reservation rule, and only it.

First at engine level (time passed in): one example per defect showing the exact deviation,
and a differential property (a defective engine against a correct one under random event
sequences: they agree until the defect's own rule, and differ there only as the defect
says). Then end to end over real sockets, against a Central System built with the ``ocpp``
package: a correct station, and one station per defect, go through the automatic steps of
the reservation conformance check (issue #9) and each defective one fails its step only.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import pytest_asyncio
from hypothesis import event, example, given, settings
from hypothesis import strategies as st
from ocpp.v16 import call

from console.__main__ import build_parser
from console.chargepoint.cli import build_simulator
from console.chargepoint.client import ClientOptions
from console.chargepoint.defects import Defect, DefectiveReservationEngine, parse_defects
from console.chargepoint.engine import (
    CancelResult,
    Changes,
    ChargingRefusedError,
    EndReason,
    ReservationEngine,
    ReserveResult,
    StatusChange,
)
from console.chargepoint.simulator import Behaviour, SimulationOptions, SiteSimulator
from console.ocpp.enums import ChargePointStatus
from console.ocpp.reservation import (
    CancelReservationStatus,
    ReservationStatus,
    ReserveNowRequest,
)
from tests.chargepoint.ocpp_central import WAIT, CentralState, OcppCentral, ocpp_central, stamp
from tests.chargepoint.test_engine_properties import CONNECTORS, START, TAGS, operation

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
LATER = NOW + timedelta(minutes=15)

A = ChargePointStatus.AVAILABLE
R = ChargePointStatus.RESERVED
ACCEPTED = ReservationStatus.ACCEPTED
OCCUPIED = ReservationStatus.OCCUPIED
REJECTED = ReservationStatus.REJECTED
CANCEL_ACCEPTED = CancelReservationStatus.ACCEPTED
CANCEL_REJECTED = CancelReservationStatus.REJECTED


def request(
    reservation_id: int = 1,
    connector_id: int = 1,
    id_tag: str = "CARD-1",
    expiry: datetime = LATER,
) -> ReserveNowRequest:
    return ReserveNowRequest(
        connector_id=connector_id,
        expiry_date=expiry,
        id_tag=id_tag,
        reservation_id=reservation_id,
    )


def defective(*defects: Defect, connectors: int = 2, **kwargs: Any) -> DefectiveReservationEngine:
    return DefectiveReservationEngine(connectors, defects=defects, **kwargs)


def statuses(engine: ReservationEngine) -> list[ChargePointStatus]:
    return [s.status for s in engine.all_statuses()]


def test_defects_have_the_names_the_check_uses() -> None:
    assert [d.value for d in Defect] == [
        "forgets_expiry",
        "accepts_second_reservation",
        "accepts_connector_zero_unsupported",
        "never_sends_reserved",
        "accepts_unknown_cancel",
        "keeps_reservation_when_inoperative",
        "accepts_replacement_onto_occupied",
        "starts_remote_for_other_id_tag",
    ]
    assert parse_defects([" Forgets_Expiry", "never_sends_reserved"]) == {
        Defect.FORGETS_EXPIRY,
        Defect.NEVER_SENDS_RESERVED,
    }
    with pytest.raises(ValueError, match="accepts_unknown_cancel"):
        parse_defects(["forgets_everything"])


# --- one example per defect ------------------------------------------------------------------


def test_forgets_expiry_keeps_the_reservation_past_its_expiry() -> None:
    engine = defective(Defect.FORGETS_EXPIRY)
    accepted = engine.reserve_now(request(1, expiry=NOW + timedelta(seconds=3)), NOW)
    assert accepted.status is ACCEPTED
    assert accepted.notifications == (StatusChange(1, R),)
    # The deviation: nothing ends at the expiry, nothing is reported, and the station's
    # expiry watcher is told there is nothing to wait for.
    assert engine.tick(NOW + timedelta(hours=1)) == Changes()
    assert engine.next_expiry() is None
    assert engine.reservation(1) is not None
    assert statuses(engine) == [A, R, A]
    # Every other rule holds: the connector is still refused to others, a second
    # reservation is Occupied, an unknown id is Rejected, cancelling the held one frees it.
    assert not engine.may_start(1, "STRANGER").allowed
    assert engine.reserve_now(request(2, id_tag="CARD-2"), NOW).status is OCCUPIED
    assert engine.cancel_reservation(99).status is CANCEL_REJECTED
    cancelled = engine.cancel_reservation(1)
    assert cancelled.status is CANCEL_ACCEPTED
    assert cancelled.notifications == (StatusChange(1, A),)


def test_a_correct_engine_ends_the_same_reservation_at_its_expiry() -> None:
    engine = ReservationEngine(2)
    engine.reserve_now(request(1, expiry=NOW + timedelta(seconds=3)), NOW)
    assert engine.next_expiry() == NOW + timedelta(seconds=3)
    assert engine.tick(NOW + timedelta(seconds=2)) == Changes()
    expired = engine.tick(NOW + timedelta(seconds=3))
    assert expired.notifications == (StatusChange(1, A),)
    assert [e.reason for e in expired.ended] == [EndReason.EXPIRED]


def test_accepts_second_reservation_holds_both_until_the_last_ends() -> None:
    engine = defective(Defect.ACCEPTS_SECOND_RESERVATION)
    assert engine.reserve_now(request(1, id_tag="CARD-1"), NOW).status is ACCEPTED
    # The deviation: a new reservationId on the reserved connector is Accepted, not Occupied.
    second = engine.reserve_now(request(2, id_tag="CARD-2"), NOW)
    assert second.status is ACCEPTED
    assert second.notifications == ()  # the connector was Reserved already
    assert [r.reservation_id for r in engine.reservations] == [1, 2]
    # Both cards may charge there, nobody else.
    assert engine.may_start(1, "card-2").reservation_id == 2
    assert engine.may_start(1, "CARD-1").reservation_id == 1
    assert not engine.may_start(1, "STRANGER").allowed
    # Cancelling one leaves the connector Reserved; the last one frees it.
    first_gone = engine.cancel_reservation(1)
    assert first_gone.status is CANCEL_ACCEPTED
    assert first_gone.notifications == ()
    assert statuses(engine) == [A, R, A]
    last_gone = engine.cancel_reservation(2)
    assert last_gone.notifications == (StatusChange(1, A),)
    # Every other rule holds: an occupied connector is Occupied, the same id replaces,
    # an unknown id is Rejected.
    engine.start_transaction(2, "DRIVER")
    assert engine.reserve_now(request(3, connector_id=2), NOW).status is OCCUPIED
    engine.reserve_now(request(4, id_tag="OLD"), NOW)
    replaced = engine.reserve_now(request(4, id_tag="NEW"), NOW)
    assert replaced.replaced is not None
    assert [r.id_tag for r in engine.reservations] == ["NEW"]
    assert engine.cancel_reservation(99).status is CANCEL_REJECTED


def test_accepts_connector_zero_while_saying_it_is_unsupported() -> None:
    # Whatever it was told, the defective station says connector 0 is unsupported ...
    engine = defective(
        Defect.ACCEPTS_CONNECTOR_ZERO_UNSUPPORTED, reserve_connector_zero_supported=True
    )
    assert engine.reserve_connector_zero_supported is False
    # ... and accepts a reservation there all the same.
    zero = engine.reserve_now(request(1, connector_id=0), NOW)
    assert zero.status is ACCEPTED
    assert engine.reservation(1) is not None
    # Connector 0 is judged as a supporting station would judge it: a second connector-0
    # reservation keeps the last free connector, a third finds none.
    assert engine.reserve_now(request(2, connector_id=0), NOW).status is ACCEPTED
    assert statuses(engine) == [A, R, R]
    assert engine.reserve_now(request(3, connector_id=0), NOW).status is OCCUPIED
    # Specific connectors follow the rules.
    assert engine.reserve_now(request(4, connector_id=1), NOW).status is OCCUPIED


@pytest.mark.parametrize(
    ("supported", "expected"), [(True, ACCEPTED), (False, REJECTED)], ids=["normal", "no_zero"]
)
def test_a_correct_engine_answers_connector_zero_as_configured(
    supported: bool, expected: ReservationStatus
) -> None:
    engine = ReservationEngine(2, reserve_connector_zero_supported=supported)
    assert engine.reserve_now(request(1, connector_id=0), NOW).status is expected


def test_never_sends_reserved_but_sends_available_when_it_ends() -> None:
    engine = defective(Defect.NEVER_SENDS_RESERVED)
    accepted = engine.reserve_now(request(1, expiry=NOW + timedelta(seconds=3)), NOW)
    assert accepted.status is ACCEPTED
    # The deviation: no Reserved is reported, now or after a boot / TriggerMessage ...
    assert accepted.notifications == ()
    assert engine.reported_statuses() == (
        StatusChange(0, A),
        StatusChange(2, A),
    )
    # ... though the station holds the connector Reserved inside, by the rules.
    assert statuses(engine) == [A, R, A]
    assert not engine.may_start(1, "STRANGER").allowed
    assert engine.reserve_now(request(2, id_tag="CARD-2"), NOW).status is OCCUPIED
    # Reserved -> Available is reported, on expiry and on cancel.
    expired = engine.tick(NOW + timedelta(seconds=3))
    assert expired.notifications == (StatusChange(1, A),)
    engine.reserve_now(request(3, connector_id=2), NOW)
    cancelled = engine.cancel_reservation(3)
    assert cancelled.status is CANCEL_ACCEPTED
    assert cancelled.notifications == (StatusChange(2, A),)
    # Other statuses are reported as usual.
    assert engine.plug_in(1).notifications == (StatusChange(1, ChargePointStatus.PREPARING),)


def test_accepts_unknown_cancel_changes_nothing() -> None:
    engine = defective(Defect.ACCEPTS_UNKNOWN_CANCEL)
    engine.reserve_now(request(1, expiry=NOW + timedelta(seconds=3)), NOW)
    # The deviation: Accepted for an id it never held, and nothing else happens.
    unknown = engine.cancel_reservation(99)
    assert unknown == CancelResult(status=CANCEL_ACCEPTED)
    assert unknown.notifications == ()
    assert unknown.ended == ()
    assert [r.reservation_id for r in engine.reservations] == [1]
    assert statuses(engine) == [A, R, A]
    # Ids it held are answered by the rules: the held one is cancelled (Available) ...
    held = engine.cancel_reservation(1)
    assert held.status is CANCEL_ACCEPTED
    assert held.notifications == (StatusChange(1, A),)
    # ... and one that ended (cancelled, or expired) is Rejected.
    assert engine.cancel_reservation(1).status is CANCEL_REJECTED
    engine.reserve_now(request(2, expiry=NOW + timedelta(seconds=3)), NOW)
    engine.tick(NOW + timedelta(seconds=3))
    assert engine.cancel_reservation(2).status is CANCEL_REJECTED


def test_an_engine_without_defects_is_the_correct_one() -> None:
    engine = defective()
    assert engine.reserve_now(request(1), NOW).status is ACCEPTED
    assert engine.reserve_now(request(2), NOW).status is OCCUPIED
    assert engine.cancel_reservation(99).status is CANCEL_REJECTED


# --- a defect changes its rule and nothing else (differential property) ----------------------


# Mostly reservations, cancels and waits (where the defects are), among every other event.
_reserve = st.tuples(
    st.just("reserve"),
    st.integers(1, 4),
    st.integers(0, 2),
    st.sampled_from(TAGS),
    st.integers(1, 30),
)
reservation_heavy = st.one_of(
    _reserve,
    _reserve,
    _reserve,
    st.tuples(st.just("cancel"), st.integers(0, 6)),
    st.tuples(st.just("wait"), st.integers(1, 20)),
    operation,
)


def run(engine: ReservationEngine, op: tuple[Any, ...], now: datetime) -> Any:
    """Apply one random operation; its outcome, comparable between two engines."""
    kind = op[0]
    result: Changes | None
    if kind == "wait":
        result = engine.tick(now)
    elif kind == "reserve":
        _, reservation_id, connector_id, tag, minutes = op
        result = engine.reserve_now(
            ReserveNowRequest(
                connector_id=connector_id,
                expiry_date=now + timedelta(minutes=minutes),
                id_tag=tag,
                reservation_id=reservation_id,
            ),
            now,
        )
    elif kind == "cancel":
        result = engine.cancel_reservation(op[1])
    elif kind == "start":
        try:
            result = engine.start_transaction(op[1], op[2])
        except ChargingRefusedError as exc:
            return ("refused", str(exc))
    elif kind == "stop":
        result = engine.stop_transaction(op[1])
    elif kind == "plug":
        result = engine.plug_in(op[1])
    elif kind == "unplug":
        result = None if engine.in_transaction(op[1]) else engine.unplug(op[1])
    elif kind == "fault":
        result = engine.set_fault(op[1])
    elif kind == "clear":
        result = engine.clear_fault(op[1])
    elif kind == "availability":
        result = engine.change_availability(op[1], op[2])
    else:
        raise AssertionError(kind)
    return result


def state(engine: ReservationEngine) -> Any:
    """Everything observable: statuses, reservations, and who may charge where."""
    return (
        engine.all_statuses(),
        engine.reservations,
        tuple(
            engine.may_start(c, tag) for c in engine.connector_ids for tag in [*TAGS, "STRANGER"]
        ),
    )


def without_reserved(outcome: Any) -> Any:
    if not isinstance(outcome, Changes):
        return outcome
    kept = tuple(n for n in outcome.notifications if n.status is not R)
    return (type(outcome), outcome.ended, kept, getattr(outcome, "status", None))


def check_divergence(
    defect: Defect,
    op: tuple[Any, ...],
    expected: Any,
    got: Any,
    held_before: dict[int, int],
) -> None:
    """``got`` differs from the correct ``expected``: only as ``defect`` allows."""
    kind = op[0]
    if defect is Defect.FORGETS_EXPIRY:
        assert kind == "wait", op
        assert expected.ended
        assert all(e.reason is EndReason.EXPIRED for e in expected.ended)
        assert got == Changes()
    elif defect is Defect.ACCEPTS_SECOND_RESERVATION:
        assert kind == "reserve", op
        _, reservation_id, connector_id, *_ = op
        assert connector_id != 0
        assert (expected.status, got.status) == (OCCUPIED, ACCEPTED)
        # Refused by the rules only because another reservation holds the connector.
        assert any(c == connector_id and r != reservation_id for r, c in held_before.items())
    elif defect is Defect.ACCEPTS_CONNECTOR_ZERO_UNSUPPORTED:
        assert kind == "reserve", op
        assert op[2] == 0
        assert expected.status is REJECTED
        assert got.status is not REJECTED
    elif defect is Defect.ACCEPTS_UNKNOWN_CANCEL:
        assert kind == "cancel", op
        assert expected == CancelResult(status=CANCEL_REJECTED)
        assert got == CancelResult(status=CANCEL_ACCEPTED)
    elif defect is Defect.KEEPS_RESERVATION_WHEN_INOPERATIVE:
        # Out of service (a fault, Inoperative): the rules end reservations, it keeps them.
        assert getattr(expected, "ended", ()), op
        assert len(getattr(got, "ended", ())) < len(expected.ended), op
    elif defect is Defect.ACCEPTS_REPLACEMENT_ONTO_OCCUPIED:
        assert kind == "reserve", op
        _, reservation_id, connector_id, *_ = op
        assert (expected.status, got.status) == (OCCUPIED, ACCEPTED)
        # A held reservation moved onto a connector another one holds.
        assert held_before.get(reservation_id) not in (None, connector_id)
        assert any(c == connector_id and r != reservation_id for r, c in held_before.items())
    else:
        raise AssertionError(f"{defect} changed {op}: {expected} -> {got}")


@pytest.mark.parametrize("defect", list(Defect))
@settings(max_examples=200, deadline=None)
@given(ops=st.lists(reservation_heavy, min_size=3, max_size=40))
# Every defect's deviation at least once, whatever the random draws.
@example(
    ops=[
        ("reserve", 1, 1, "A", 10),
        ("reserve", 2, 1, "B", 10),
        ("cancel", 6),
        ("reserve", 3, 0, "C", 10),
        ("wait", 20),
    ]
)
def test_a_defect_breaks_its_rule_and_no_other(defect: Defect, ops: list[tuple[Any, ...]]) -> None:
    zero_supported = defect is not Defect.ACCEPTS_CONNECTOR_ZERO_UNSUPPORTED
    correct = ReservationEngine(CONNECTORS, reserve_connector_zero_supported=zero_supported)
    faulty = DefectiveReservationEngine(CONNECTORS, defects={defect})
    assert faulty.reserve_connector_zero_supported is zero_supported
    ever_held: set[int] = set()
    now = START
    for op in ops:
        if op[0] == "wait":
            now += timedelta(minutes=op[1])
        held_before = {r.reservation_id: r.connector_id for r in correct.reservations}
        expected = run(correct, op, now)
        got = run(faulty, op, now)
        if defect is Defect.NEVER_SENDS_RESERVED:
            assert without_reserved(got) == without_reserved(expected)
            if got != expected:
                event("never_sends_reserved held a Reserved back")
            if isinstance(got, Changes):
                assert all(n.status is not R for n in got.notifications)
            assert state(faulty) == state(correct)
            assert faulty.reported_statuses() == tuple(
                s for s in correct.all_statuses() if s.status is not R
            )
            continue
        if isinstance(expected, ReserveResult) and expected.status is ACCEPTED:
            ever_held.add(op[1])
        if got != expected:
            if defect is Defect.ACCEPTS_UNKNOWN_CANCEL:
                assert op[1] not in ever_held  # ids it held are answered by the rules
            check_divergence(defect, op, expected, got, held_before)
            event(f"{defect.value} deviated")
        if state(faulty) != state(correct):
            # From here on the two stations hold different reservations: they can no
            # longer be compared (the divergence was the defect's own, checked above).
            assert got != expected
            return


# --- end to end: the check's automatic steps against each defective station ------------------

OPTIONS = SimulationOptions(
    client=ClientOptions(call_timeout=5.0, backoff_initial=0.05, backoff_max=0.2)
)
CHECKED = [None, *Defect]
# Each defect fails the step of issue #9 that covers its rule, and only that one.
FAILING_STEP: dict[Defect | None, set[int]] = {
    None: set(),
    Defect.NEVER_SENDS_RESERVED: {1},
    Defect.ACCEPTS_SECOND_RESERVATION: {2},
    Defect.ACCEPTS_UNKNOWN_CANCEL: {4},
    Defect.ACCEPTS_CONNECTOR_ZERO_UNSUPPORTED: {6},
    Defect.FORGETS_EXPIRY: {7},
    # Steps 11-14 (ChangeAvailability, RemoteStartTransaction, a replacement onto a
    # reserved connector) are beyond this mini check: these pass steps 1-7, and the real
    # check fails exactly their step (tests/central/check/test_reservation_check.py).
    Defect.KEEPS_RESERVATION_WHEN_INOPERATIVE: set(),
    Defect.STARTS_REMOTE_FOR_OTHER_ID_TAG: set(),
    Defect.ACCEPTS_REPLACEMENT_ONTO_OCCUPIED: set(),
}
SHORT_EXPIRY = timedelta(seconds=2)
# How long after the expiry the Available may come (generous: a loaded machine).
EXPIRY_GRACE = 6.0


def station_for(defect: Defect | None, behaviour: Behaviour = Behaviour.NORMAL) -> str:
    suffix = "OK" if defect is None else defect.value.upper()[:14]
    return f"{behaviour.value[:4].upper()}-{suffix}"


@dataclass
class DefectSite:
    simulator: SiteSimulator
    state: CentralState


@pytest_asyncio.fixture
async def defect_site() -> AsyncIterator[DefectSite]:
    """A correct station (connector 0 supported, and one without) and one per defect."""
    specs = [(station_for(d), Behaviour.NORMAL) for d in CHECKED]
    specs.append((station_for(None, Behaviour.NO_CONNECTOR_ZERO), Behaviour.NO_CONNECTOR_ZERO))
    async with ocpp_central() as (url, state):
        simulator = SiteSimulator(
            url,
            connectors=2,
            station_specs=specs,
            options=OPTIONS,
            defects={station_for(d): {d} for d in Defect},
        )
        await simulator.start()
        try:
            async with asyncio.timeout(WAIT):
                await simulator.wait_booted()
            # The statuses a boot sends may still be on their way: let them all arrive,
            # so that a test's StatusNotifications are its own.
            for station in simulator.stations:
                central = await state.connection(station.station_id)
                await MiniCheck(state, central, station.station_id).barrier()
            yield DefectSite(simulator, state)
        finally:
            await simulator.stop()


class MiniCheck:
    """The automatic steps of the conformance check, as plainly as the issue states them.

    Absence of a StatusNotification is judged without sleeping: a TriggerMessage(Heartbeat)
    sent afterwards comes back behind everything the station sent before it.
    """

    def __init__(self, state: CentralState, central: OcppCentral, station_id: str) -> None:
        self.state = state
        self.central = central
        self.station_id = station_id
        self.failures: dict[int, str] = {}

    def mark(self) -> int:
        return len(self.state.received)

    def statuses_since(self, mark: int, connector_id: int) -> list[str]:
        return [
            r.payload["status"]
            for r in self.state.received[mark:]
            if r.station_id == self.station_id
            and r.action == "StatusNotification"
            and r.payload["connector_id"] == connector_id
        ]

    async def barrier(self) -> None:
        """Until everything the station sent so far has arrived."""
        mark = self.mark()
        answer = await self.call(call.TriggerMessage(requested_message="Heartbeat"))
        assert answer.status == "Accepted"
        await self.state.wait_for(
            lambda: any(
                r.station_id == self.station_id and r.action == "Heartbeat"
                for r in self.state.received[mark:]
            )
        )

    async def call(self, request: Any) -> Any:
        return await self.central.call(request, suppress=False)

    async def reserve(
        self, connector_id: int, id_tag: str, reservation_id: int, expires_in: timedelta
    ) -> str:
        answer = await self.call(
            call.ReserveNow(
                connector_id=connector_id,
                expiry_date=stamp(expires_in),
                id_tag=id_tag,
                reservation_id=reservation_id,
            )
        )
        status: str = answer.status
        return status

    async def cancel(self, reservation_id: int) -> str:
        answer = await self.call(call.CancelReservation(reservation_id=reservation_id))
        status: str = answer.status
        return status

    def judge(self, step: int, ok: bool, reason: str) -> None:
        if not ok:
            self.failures[step] = reason

    async def run(self, connector_id: int = 1) -> dict[int, str]:
        """Steps 1-7; the failed ones with their reasons."""
        later = timedelta(minutes=15)
        mark = self.mark()
        first = await self.reserve(connector_id, "CHECK-A", 101, later)
        await self.barrier()
        reserved = "Reserved" in self.statuses_since(mark, connector_id)
        self.judge(1, first == "Accepted" and reserved, f"{first}, Reserved sent: {reserved}")

        second = await self.reserve(connector_id, "CHECK-B", 102, later)
        self.judge(2, second == "Occupied", second)
        if second == "Accepted":
            await self.cancel(102)  # clean up at once: the next steps need one reservation

        replaced = await self.reserve(connector_id, "CHECK-C", 101, later)
        self.judge(3, replaced == "Accepted", replaced)

        unknown = await self.cancel(9_999)
        self.judge(4, unknown == "Rejected", unknown)

        mark = self.mark()
        held = await self.cancel(101)
        await self.barrier()
        freed = self.statuses_since(mark, connector_id)[-1:] == ["Available"]
        self.judge(5, held == "Accepted" and freed, f"{held}, Available sent: {freed}")

        configuration = await self.call(
            call.GetConfiguration(key=["ReserveConnectorZeroSupported"])
        )
        supported = any(
            k["key"] == "ReserveConnectorZeroSupported" and k.get("value") == "true"
            for k in configuration.configuration_key or []
        )
        zero = await self.reserve(0, "CHECK-A", 103, later)
        self.judge(6, zero == ("Accepted" if supported else "Rejected"), f"{supported}: {zero}")
        if zero == "Accepted":
            await self.cancel(103)

        # Step 7 judges the expiry (its Reserved was step 1's matter).
        mark = self.mark()
        expiring = await self.reserve(connector_id, "CHECK-A", 104, SHORT_EXPIRY)
        try:
            await self.state.wait_for(
                lambda: "Available" in self.statuses_since(mark, connector_id),
                SHORT_EXPIRY.total_seconds() + EXPIRY_GRACE,
            )
            expired = True
        except TimeoutError:
            expired = False
        after = await self.cancel(104)
        self.judge(
            7,
            expiring == "Accepted" and expired and after == "Rejected",
            f"{expiring}, Available after expiry: {expired}, cancel after: {after}",
        )
        return self.failures


@pytest.mark.asyncio
async def test_each_defective_station_fails_only_its_step(defect_site: DefectSite) -> None:
    state = defect_site.state
    checks: dict[str, MiniCheck] = {}
    for station in defect_site.simulator.stations:
        checks[station.station_id] = MiniCheck(
            state, await state.connection(station.station_id), station.station_id
        )
    # All at once: step 7's expiry wait is paid once.
    results = await asyncio.gather(*(check.run() for check in checks.values()))
    failures = dict(zip(checks, results, strict=True))
    for defect in CHECKED:
        station_id = station_for(defect)
        assert set(failures[station_id]) == FAILING_STEP[defect], (station_id, failures[station_id])
    assert failures[station_for(None, Behaviour.NO_CONNECTOR_ZERO)] == {}
    # The check left nothing behind but what a defect keeps: the forgotten expiry was
    # cancelled by step 7's last call, so every station is free again.
    for station in defect_site.simulator.stations:
        assert station.engine.reservations == (), station.station_id


@pytest.mark.asyncio
async def test_a_short_expiry_ends_by_itself_at_the_second(defect_site: DefectSite) -> None:
    """Step 7 relies on it: no message from the Central System after ReserveNow, and the
    station reports Available once the expiry (3 s ahead) is reached, not before."""
    state = defect_site.state
    station_id = station_for(None)
    central = await state.connection(station_id)
    expiry = stamp(timedelta(seconds=3))
    mark = len(state.received)
    answer = await central.call(
        call.ReserveNow(connector_id=2, expiry_date=expiry, id_tag="CARD-1", reservation_id=61),
        suppress=False,
    )
    assert answer.status == "Accepted"
    available = await state.wait_for(
        lambda: next(
            (
                r.payload
                for r in state.received[mark:]
                if r.station_id == station_id
                and r.action == "StatusNotification"
                and r.payload["connector_id"] == 2
                and r.payload["status"] == "Available"
            ),
            None,
        ),
        3 + EXPIRY_GRACE,
    )
    sent_at = datetime.fromisoformat(available["timestamp"].replace("Z", "+00:00"))
    assert sent_at >= datetime.fromisoformat(expiry.replace("Z", "+00:00"))
    assert "Reserved" in [
        r.payload["status"]
        for r in state.received[mark:]
        if r.station_id == station_id and r.action == "StatusNotification"
    ]
    assert defect_site.simulator.station(station_id).engine.reservations == ()


@pytest.mark.asyncio
async def test_only_the_reserved_card_charges_on_every_station(defect_site: DefectSite) -> None:
    """Step 8 relies on it (and no defect touches it): another card is refused after its
    Authorize, with no StartTransaction; the reserved card's StartTransaction carries the
    reservationId."""
    state = defect_site.state

    async def cards(station_id: str) -> None:
        central = await state.connection(station_id)
        answer = await central.call(
            call.ReserveNow(
                connector_id=1,
                expiry_date=stamp(timedelta(minutes=15)),
                id_tag="CARD-A",
                reservation_id=71,
            ),
            suppress=False,
        )
        assert answer.status == "Accepted", station_id
        station = defect_site.simulator.station(station_id)
        refused = await station.present_id_tag("CARD-B", 1)
        assert not refused.started, station_id
        assert "reserved for another idTag" in refused.reason
        assert [p["id_tag"] for p in state.messages(station_id, "Authorize")] == ["CARD-B"]
        assert state.messages(station_id, "StartTransaction") == []
        started = await station.present_id_tag("card-a", 1)
        assert started.started, (station_id, started.reason)
        assert started.reservation_id == 71
        start = state.messages(station_id, "StartTransaction")
        assert [(p["id_tag"], p["reservation_id"], p["connector_id"]) for p in start] == [
            ("card-a", 71, 1)
        ]
        assert station.engine.reservations == ()
        assert station.engine.in_transaction(1)

    await asyncio.gather(*(cards(s.station_id) for s in defect_site.simulator.stations))


@pytest.mark.asyncio
async def test_triggered_statuses_hold_reserved_back_only_when_defective(
    defect_site: DefectSite,
) -> None:
    state = defect_site.state

    async def triggered(station_id: str) -> list[str]:
        central = await state.connection(station_id)
        answer = await central.call(
            call.ReserveNow(
                connector_id=2,
                expiry_date=stamp(timedelta(minutes=15)),
                id_tag="CARD-A",
                reservation_id=81,
            ),
            suppress=False,
        )
        assert answer.status == "Accepted"
        mark = len(state.received)
        trigger = call.TriggerMessage(requested_message="StatusNotification", connector_id=2)
        assert (await central.call(trigger, suppress=False)).status == "Accepted"
        check = MiniCheck(state, central, station_id)
        await check.barrier()
        return check.statuses_since(mark, 2)

    assert await triggered(station_for(None)) == ["Reserved"]
    assert await triggered(station_for(Defect.NEVER_SENDS_RESERVED)) == []


def test_site_defects_per_station_and_from_the_command_line() -> None:
    site = SiteSimulator(
        "ws://127.0.0.1:1",
        stations=2,
        defects={"CP-02": {Defect.FORGETS_EXPIRY, Defect.ACCEPTS_UNKNOWN_CANCEL}},
    )
    plain, faulty = site.stations
    assert plain.defects == frozenset()
    assert type(plain.engine) is ReservationEngine
    assert isinstance(faulty.engine, DefectiveReservationEngine)
    assert faulty.engine.defects == {Defect.FORGETS_EXPIRY, Defect.ACCEPTS_UNKNOWN_CANCEL}
    with pytest.raises(ValueError, match="CP-09"):
        SiteSimulator("ws://127.0.0.1:1", stations=2, defects={"CP-09": {Defect.FORGETS_EXPIRY}})

    # Behaviours stay what they were: NO_CONNECTOR_ZERO still says false, correctly.
    zero = SiteSimulator(
        "ws://127.0.0.1:1", behaviours=[Behaviour.NO_CONNECTOR_ZERO], stations=1
    ).stations[0]
    assert zero.engine.reserve_connector_zero_supported is False
    assert zero.engine.reserve_now(request(1, connector_id=0), NOW).status is REJECTED

    arguments = ["simulate", "--url", "ws://127.0.0.1:1", "--stations", "3", "--plain"]
    args = build_parser().parse_args(
        [*arguments, "--defect", "never_sends_reserved", "--defect", "accepts_second_reservation"]
    )
    simulator = build_simulator(args)
    for station in simulator.stations:
        assert station.defects == {Defect.NEVER_SENDS_RESERVED, Defect.ACCEPTS_SECOND_RESERVATION}
    assert build_simulator(build_parser().parse_args(arguments)).stations[0].defects == set()
    with pytest.raises(SystemExit, match="forgets_expiry"):
        build_simulator(build_parser().parse_args([*arguments, "--defect", "leaky"]))
