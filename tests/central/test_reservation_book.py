"""ReserveNow / CancelReservation end to end: a station built on the ``ocpp`` package
answers every way a station can, and the reservation book records each outcome."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from ocpp.exceptions import NotSupportedError
from ocpp.routing import on
from ocpp.v16 import call, call_result
from ocpp.v16.enums import Action

from console.central.book import CONNECTOR_ZERO_UNSUPPORTED
from console.central.model import (
    ChangeEvent,
    ReservationChanged,
    ReservationState,
    TraceEntry,
)
from console.central.server import CentralSystem
from console.ocpp.reservation import CancelReservationStatus, ReservationStatus
from tests.central.conftest import StartCentral
from tests.central.fakes import MemoryStore
from tests.central.ocpp_station import (
    OcppStation,
    connected_station,
    minutes_from_now,
    record_in_state,
    wait_until,
)

pytestmark = pytest.mark.asyncio


async def test_boot_status_and_accepted_reservation(central: CentralSystem) -> None:
    events: list[ChangeEvent] = []
    central.subscribe(events.append)
    async with connected_station(central, "CP-1") as station:
        await station.status(1, "Available")
        snapshot = await wait_until(
            central,
            lambda: (s := central.station("CP-1")) and s.number_of_connectors == 2 and s,
        )
        assert snapshot.connected
        assert snapshot.vendor == "TestVendor"
        assert snapshot.model == "TestModel"
        assert snapshot.firmware_version == "1.2.3"
        assert snapshot.reserve_connector_zero_supported is False
        assert snapshot.registration_status == "Accepted"

        first_id = central.peek_reservation_id()
        record = await central.reserve_now(
            "CP-1", 1, "TAG-1", minutes_from_now(15), parent_id_tag="PARENT"
        )
        assert record.state is ReservationState.ACCEPTED
        assert record.confirmation is ReservationStatus.ACCEPTED
        assert record.reservation_id == first_id
        assert record.latency is not None
        assert [state for state, _ in record.history] == [
            ReservationState.SENDING,
            ReservationState.ACCEPTED,
        ]
        assert central.peek_reservation_id() == first_id + 1
        sent = station.reserve_requests[-1]
        assert sent["id_tag"] == "TAG-1"
        assert sent["parent_id_tag"] == "PARENT"
        assert sent["reservation_id"] == first_id
        connector = next(c for c in central.connectors("CP-1") if c.connector_id == 1)
        assert connector.reservation_id == first_id
    states = [e.reservation.state for e in events if isinstance(e, ReservationChanged)]
    assert states == [ReservationState.SENDING, ReservationState.ACCEPTED]
    actions = {entry.action for entry in central.recent_trace() if entry.action}
    assert {"BootNotification", "GetConfiguration", "TriggerMessage", "ReserveNow"} <= actions
    answer = next(
        e for e in central.recent_trace() if e.action == "ReserveNow" and e.message_type == 3
    )
    assert answer.latency is not None


@pytest.mark.parametrize(
    ("status", "state"),
    [
        ("Faulted", ReservationState.FAULTED),
        ("Occupied", ReservationState.OCCUPIED),
        ("Rejected", ReservationState.REJECTED),
        ("Unavailable", ReservationState.UNAVAILABLE),
    ],
)
async def test_refusals_are_recorded(
    central: CentralSystem, status: str, state: ReservationState
) -> None:
    async with connected_station(central, "CP-R") as station:
        station.reserve_status = status
        record = await central.reserve_now("CP-R", 1, "TAG", minutes_from_now(15))
    assert record.state is state
    assert record.confirmation == ReservationStatus(status)
    assert record in central.reservations()
    connector = [c for c in central.connectors("CP-R") if c.connector_id == 1]
    assert all(c.reservation_id is None for c in connector)


async def test_callerror_is_an_error_with_its_code(central: CentralSystem) -> None:
    async def refuse(_payload: dict[str, Any]) -> Any:
        raise NotSupportedError(description="reservations are switched off")

    async with connected_station(central, "CP-E") as station:
        station.reserve_behaviour = refuse
        record = await central.reserve_now("CP-E", 1, "TAG", minutes_from_now(15))
    assert record.state is ReservationState.ERROR
    assert record.error_code == "NotSupported"
    assert record.error is not None
    assert "reservations are switched off" in record.error
    assert record.confirmation is None


async def test_late_answer_reconciles_a_no_response(impatient_central: CentralSystem) -> None:
    central = impatient_central
    release = asyncio.Event()

    async def answer_late(_payload: dict[str, Any]) -> Any:
        await release.wait()
        return call_result.ReserveNow(status="Accepted")

    async with connected_station(central, "CP-L") as station:
        station.reserve_behaviour = answer_late
        record = await central.reserve_now("CP-L", 1, "TAG", minutes_from_now(15))
        assert record.state is ReservationState.NO_RESPONSE
        assert record.error is not None
        assert "no answer within 1 s" in record.error
        release.set()
        reconciled = await wait_until(
            central,
            record_in_state(central, "CP-L", record.reservation_id, ReservationState.ACCEPTED),
        )
    assert reconciled.confirmation is ReservationStatus.ACCEPTED
    assert [s for s, _ in reconciled.history] == [
        ReservationState.SENDING,
        ReservationState.NO_RESPONSE,
        ReservationState.ACCEPTED,
    ]
    late = [e for e in central.recent_trace() if e.late]
    assert late
    assert late[-1].action == "ReserveNow"


async def test_no_answer_at_all_is_no_response(impatient_central: CentralSystem) -> None:
    central = impatient_central
    never = asyncio.Event()

    async def stay_silent(_payload: dict[str, Any]) -> Any:
        await never.wait()

    async with connected_station(central, "CP-S") as station:
        station.reserve_behaviour = stay_silent
        record = await central.reserve_now("CP-S", 1, "TAG", minutes_from_now(15))
    assert record.state is ReservationState.NO_RESPONSE
    assert record.confirmation is None
    assert any(
        e.action == "ReserveNow" and "no answer" in e.text
        for e in central.recent_trace()
        if e.direction == "event"
    )


async def test_socket_dropped_mid_call(central: CentralSystem) -> None:
    never = asyncio.Event()

    async with connected_station(central, "CP-D") as station:

        async def drop(_payload: dict[str, Any]) -> Any:
            station._connection.transport.abort()
            await never.wait()

        station.reserve_behaviour = drop
        record = await central.reserve_now("CP-D", 1, "TAG", minutes_from_now(15))
        assert record.state is ReservationState.NO_RESPONSE
        assert record.error is not None
        assert "connection lost before the answer" in record.error
        gone = await wait_until(
            central, lambda: (s := central.station("CP-D")) and not s.connected and s
        )
    assert gone.note


async def test_offline_station_gets_an_offline_record(central: CentralSystem) -> None:
    record = await central.reserve_now("NOBODY", 1, "TAG", minutes_from_now(15))
    assert record.state is ReservationState.OFFLINE
    assert record.error == "station NOBODY is not connected"
    assert record in central.reservations()


async def test_cancel_accepted_and_rejected(central: CentralSystem) -> None:
    async with connected_station(central, "CP-C") as station:
        record = await central.reserve_now("CP-C", 1, "TAG", minutes_from_now(15))
        assert record.state is ReservationState.ACCEPTED

        station.cancel_status = "Rejected"
        refused = await central.cancel_reservation("CP-C", record.reservation_id)
        assert refused.status is CancelReservationStatus.REJECTED
        assert central.reservation("CP-C", record.reservation_id).state is ReservationState.ACCEPTED  # type: ignore[union-attr]

        station.cancel_status = "Accepted"
        outcome = await central.cancel_reservation("CP-C", record.reservation_id)
        assert outcome.status is CancelReservationStatus.ACCEPTED
        assert outcome.error is None
        cancelled = central.reservation("CP-C", record.reservation_id)
        assert cancelled is not None
        assert cancelled.state is ReservationState.CANCELLED
        connector = next(c for c in central.connectors("CP-C") if c.connector_id == 1)
        assert connector.reservation_id is None


async def test_start_transaction_with_reservation_id_uses_it(central: CentralSystem) -> None:
    async with connected_station(central, "CP-U") as station:
        record = await central.reserve_now("CP-U", 2, "TAG", minutes_from_now(15))
        answer = await station.call(
            call.StartTransaction(
                connector_id=2,
                id_tag="TAG",
                meter_start=0,
                timestamp=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                reservation_id=record.reservation_id,
            )
        )
        used = await wait_until(
            central, record_in_state(central, "CP-U", record.reservation_id, ReservationState.USED)
        )
        assert used.transaction_id == answer.transaction_id
        connector = next(c for c in central.connectors("CP-U") if c.connector_id == 2)
        assert connector.transaction_id == answer.transaction_id
        assert connector.reservation_id is None


async def test_connector_faulted_ends_it(central: CentralSystem) -> None:
    async with connected_station(central, "CP-F") as station:
        record = await central.reserve_now("CP-F", 1, "TAG", minutes_from_now(15))
        await station.status(1, "Faulted", "GroundFailure")
        ended = await wait_until(
            central, record_in_state(central, "CP-F", record.reservation_id, ReservationState.ENDED)
        )
    assert ended.error == "connector 1 went Faulted"


async def test_expiry_expires_it(central: CentralSystem) -> None:
    async with connected_station(central, "CP-X"):
        expiry = datetime.now(UTC) + timedelta(seconds=1.5)
        record = await central.reserve_now("CP-X", 1, "TAG", expiry)
        assert record.state is ReservationState.ACCEPTED
        expired = await wait_until(
            central,
            record_in_state(central, "CP-X", record.reservation_id, ReservationState.EXPIRED),
        )
    assert expired.history[-1][0] is ReservationState.EXPIRED


async def test_expiry_follows_the_wall_clock_after_the_laptop_slept(
    central: CentralSystem, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The loop's monotonic clock stands still during suspend; the wall clock does not.
    # Simulate waking up two hours later: the reservation (one hour) must expire at the
    # next re-check, not an hour of loop time later.
    from console.central import book

    monkeypatch.setattr(book, "_EXPIRY_RECHECK", 0.05)
    async with connected_station(central, "CP-S"):
        record = await central.reserve_now("CP-S", 1, "TAG", minutes_from_now(60))
        assert record.state is ReservationState.ACCEPTED
        woke_at = datetime.now(UTC) + timedelta(hours=2)
        monkeypatch.setattr(book, "_now", lambda: woke_at)
        expired = await wait_until(
            central,
            record_in_state(central, "CP-S", record.reservation_id, ReservationState.EXPIRED),
        )
    assert expired.history[-1] == (ReservationState.EXPIRED, woke_at)


async def test_connector_zero_refused_when_unsupported(central: CentralSystem) -> None:
    async with connected_station(central, "CP-Z") as station:
        await wait_until(
            central,
            lambda: (s := central.station("CP-Z")) and s.reserve_connector_zero_supported is False,
        )
        record = await central.reserve_now("CP-Z", 0, "TAG", minutes_from_now(15))
        assert record.state is ReservationState.ERROR
        assert record.error == CONNECTOR_ZERO_UNSUPPORTED
        assert station.reserve_requests == []


async def test_connector_zero_sent_when_supported(central: CentralSystem) -> None:
    async with connected_station(central, "CP-Z1", boot=False) as station:
        station.reserve_connector_zero = "true"
        await station.boot()
        await wait_until(
            central,
            lambda: (s := central.station("CP-Z1")) and s.reserve_connector_zero_supported,
        )
        record = await central.reserve_now("CP-Z1", 0, "TAG", minutes_from_now(15))
    assert record.state is ReservationState.ACCEPTED
    assert station.reserve_requests[-1]["connector_id"] == 0


async def test_caller_id_is_noted_and_invalid_input_refused(central: CentralSystem) -> None:
    async with connected_station(central, "CP-I"):
        record = await central.reserve_now(
            "CP-I", 1, "TAG", minutes_from_now(15), reservation_id=500
        )
        assert record.reservation_id == 500
        assert central.peek_reservation_id() == 501
        with pytest.raises(ValueError, match="id_tag"):
            await central.reserve_now("CP-I", 1, "X" * 21, minutes_from_now(15))
        with pytest.raises(ValueError, match="timezone"):
            await central.reserve_now("CP-I", 1, "TAG", datetime(2030, 1, 1))
        with pytest.raises(ValueError, match="connector_id"):
            await central.reserve_now("CP-I", -1, "TAG", minutes_from_now(15))
        with pytest.raises(ValueError, match="reservation_id"):
            await central.cancel_reservation("CP-I", "7")  # type: ignore[arg-type]
    assert central.peek_reservation_id() == 501


async def test_acknowledged_states_are_committed_before_returning(
    start_central: StartCentral,
) -> None:
    store = MemoryStore()
    central = await start_central(store=store)
    async with connected_station(central, "CP-K"):
        record = await central.reserve_now("CP-K", 1, "TAG", minutes_from_now(15))
        assert store.saved_reservations[-1] == record
        outcome = await central.cancel_reservation("CP-K", record.reservation_id)
        assert outcome.status is CancelReservationStatus.ACCEPTED
        assert store.saved_reservations[-1].state is ReservationState.CANCELLED


async def test_a_failing_listener_does_not_break_the_server(central: CentralSystem) -> None:
    def broken(_event: ChangeEvent) -> None:
        raise RuntimeError("listener bug")

    central.subscribe(broken)
    async with connected_station(central, "CP-B"):
        record = await central.reserve_now("CP-B", 1, "TAG", minutes_from_now(15))
    assert record.state is ReservationState.ACCEPTED


class _PlainStation(OcppStation):
    """A station that implements neither GetConfiguration nor TriggerMessage."""

    def on_get_configuration(self, **payload: Any) -> Any:  # not routed: NotImplemented
        raise AssertionError("not routed")

    def on_trigger_message(self, **payload: Any) -> Any:
        raise AssertionError("not routed")


async def test_station_without_configuration_support_still_works(
    central: CentralSystem,
) -> None:
    async with connected_station(
        central, "CP-PLAIN", boot=False, station_class=_PlainStation
    ) as station:
        await station.boot()

        # The console asked twice and got NotImplemented both times.
        def refused_twice() -> list[TraceEntry] | None:
            refused = [
                e
                for e in central.recent_trace()
                if e.station_id == "CP-PLAIN" and e.error_code == "NotImplemented"
            ]
            return refused if len(refused) == 2 else None

        answers = await wait_until(central, refused_twice)
        assert {e.action for e in answers} == {"GetConfiguration", "TriggerMessage"}
        snapshot = central.station("CP-PLAIN")
        assert snapshot is not None
        assert snapshot.reserve_connector_zero_supported is None
        record = await central.reserve_now("CP-PLAIN", 0, "TAG", minutes_from_now(15))
        assert record.state is ReservationState.ACCEPTED
        assert station.reserve_requests[-1]["connector_id"] == 0


async def test_cancel_without_connection_or_answer(impatient_central: CentralSystem) -> None:
    central = impatient_central
    outcome = await central.cancel_reservation("NOBODY", 3)
    assert outcome.status is None
    assert outcome.error == "station NOBODY is not connected"
    never = asyncio.Event()

    class SilentCancel(OcppStation):
        @on(Action.cancel_reservation)
        async def on_cancel_reservation(self, **payload: Any) -> Any:
            await never.wait()

    async with connected_station(central, "CP-SC", station_class=SilentCancel):
        record = await central.reserve_now("CP-SC", 1, "TAG", minutes_from_now(15))
        outcome = await central.cancel_reservation("CP-SC", record.reservation_id)
    assert outcome.status is None
    assert outcome.error is not None
    assert "no answer" in outcome.error
    assert outcome.timed_out
    still = central.reservation("CP-SC", record.reservation_id)
    assert still is not None
    assert still.state is ReservationState.ACCEPTED


async def test_same_id_again_replaces_the_older_reservation(central: CentralSystem) -> None:
    async with connected_station(central, "CP-SAME"):
        first = await central.reserve_now(
            "CP-SAME", 1, "TAG-1", minutes_from_now(15), reservation_id=77
        )
        second = await central.reserve_now(
            "CP-SAME", 1, "TAG-2", minutes_from_now(30), reservation_id=77
        )
    assert second.state is ReservationState.ACCEPTED
    older = [r for r in central.reservations() if r.created_at == first.created_at]
    assert older[0].state is ReservationState.ENDED
    assert older[0].error == "replaced by a newer reservation with the same id"


async def test_caller_giving_up_leaves_a_record_the_answer_settles(
    central: CentralSystem,
) -> None:
    release = asyncio.Event()
    asked = asyncio.Event()

    async def answer_when_released(_payload: dict[str, Any]) -> Any:
        asked.set()
        await release.wait()
        return call_result.ReserveNow(status="Accepted")

    async with connected_station(central, "CP-GIVEUP") as station:
        station.reserve_behaviour = answer_when_released
        reservation_id = central.peek_reservation_id()
        attempt = asyncio.create_task(
            central.reserve_now("CP-GIVEUP", 1, "TAG", minutes_from_now(15))
        )
        await asyncio.wait_for(asked.wait(), 10)
        attempt.cancel()
        with pytest.raises(asyncio.CancelledError):
            await attempt
        waiting = central.reservation("CP-GIVEUP", reservation_id)
        assert waiting is not None
        assert waiting.state is ReservationState.NO_RESPONSE
        release.set()
        settled = await wait_until(
            central,
            record_in_state(central, "CP-GIVEUP", reservation_id, ReservationState.ACCEPTED),
        )
    assert settled.confirmation is ReservationStatus.ACCEPTED


async def test_a_cancel_that_times_out_says_so_in_a_field(
    impatient_central: CentralSystem,
) -> None:
    # The window shows a cancel that got no answer as "no response", not as an error:
    # it reads ``timed_out``, not the words of ``error``.
    central = impatient_central
    offline = await central.cancel_reservation("NOBODY", 3)
    assert offline.timed_out is False
    never = asyncio.Event()

    class SilentCancel(OcppStation):
        @on(Action.cancel_reservation)
        async def on_cancel_reservation(self, **payload: Any) -> Any:
            await never.wait()

    async with connected_station(central, "CP-TO", station_class=SilentCancel):
        record = await central.reserve_now("CP-TO", 1, "TAG", minutes_from_now(15))
        outcome = await central.cancel_reservation("CP-TO", record.reservation_id)
    assert outcome.status is None
    assert outcome.timed_out is True
    assert outcome.error_code is None

    class RefusingCancel(OcppStation):
        @on(Action.cancel_reservation)
        def on_cancel_reservation(self, **payload: Any) -> Any:
            raise NotSupportedError(description="no cancelling here")

    async with connected_station(central, "CP-CE", station_class=RefusingCancel):
        record = await central.reserve_now("CP-CE", 1, "TAG", minutes_from_now(15))
        failed = await central.cancel_reservation("CP-CE", record.reservation_id)
    assert failed.error_code == "NotSupported"
    assert failed.timed_out is False
