"""The 2.0.1 station-side reservation rules (H01-H04), one test per rule (no I/O, time
passed in). Random sequences of events are in test_engine201_properties.py."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from functools import cache
from importlib import resources
from typing import Any

import pytest
from jsonschema import Draft6Validator

from console.chargepoint.engine201 import (
    CancelReservationStatus,
    ChangeAvailabilityStatus,
    ConnectorStatus,
    ConnectorStatusChange,
    ConnectorType,
    EndReason,
    IdToken,
    IdTokenType,
    OperationalStatus,
    ReservationEngine201,
    ReservationRequest,
    ReservationSettings,
    ReservationStatusUpdate,
    ReservationUpdateStatus,
    ReserveNowStatus,
    StatusInfo,
)

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
LATER = NOW + timedelta(minutes=15)

A = ConnectorStatus.AVAILABLE
R = ConnectorStatus.RESERVED
OC = ConnectorStatus.OCCUPIED
F = ConnectorStatus.FAULTED
U = ConnectorStatus.UNAVAILABLE
TYPE2 = ConnectorType.C_TYPE2
CCS2 = ConnectorType.C_CCS2

ANY_EVSE = ReservationSettings(non_evse_specific=True)


def station(
    *evses: list[ConnectorType], settings: ReservationSettings = ANY_EVSE
) -> ReservationEngine201:
    """EVSE 1, 2, ... with those connector types; non-EVSE-specific reservations allowed."""
    layout = dict(enumerate(evses or ([TYPE2],), start=1))
    return ReservationEngine201(layout, settings=settings)


def request(
    reservation_id: int = 1,
    evse_id: int | None = 1,
    token: str = "CARD-1",
    *,
    connector_type: ConnectorType | None = None,
    group: str | None = None,
    expiry: datetime = LATER,
) -> ReservationRequest:
    return ReservationRequest(
        id=reservation_id,
        expiry_date_time=expiry,
        id_token=IdToken(token),
        evse_id=evse_id,
        connector_type=connector_type,
        group_id_token=IdToken(group, IdTokenType.CENTRAL) if group else None,
    )


def statuses(engine: ReservationEngine201) -> list[ConnectorStatus]:
    """Every connector's status, EVSE by EVSE."""
    return [s.status for s in engine.all_statuses()]


def changed(result: Any) -> set[tuple[int, int, ConnectorStatus]]:
    return {(c.evse_id, c.connector_id, c.status) for c in result.connector_changes}


# --- H01: ReserveNow answers -------------------------------------------------------------------


def test_H01_FR_02_same_id_replaces_the_reservation() -> None:
    engine = station([TYPE2], [TYPE2])
    engine.reserve_now(request(7, evse_id=1, token="OLD"), NOW)
    result = engine.reserve_now(request(7, evse_id=2, token="NEW"), NOW)
    assert result.status is ReserveNowStatus.ACCEPTED
    assert result.replaced is not None
    assert result.replaced.id_token.id_token == "OLD"
    assert [e.reason for e in result.ended] == [EndReason.REPLACED]
    assert result.status_updates == ()  # the CSMS knows: it sent the replacement
    assert changed(result) == {(1, 1, A), (2, 1, R)}
    held = engine.reservation(7)
    assert held is not None
    assert (held.evse_id, held.id_token.id_token) == (2, "NEW")
    assert len(engine.reservations) == 1


def test_H01_FR_02_replacing_on_the_same_evse_is_not_occupied_by_itself() -> None:
    engine = station([TYPE2])
    engine.reserve_now(request(7, token="OLD"), NOW)
    engine.plug_in(1, 1, NOW)  # someone else's car: changes nothing (G01.FR.09)
    result = engine.reserve_now(request(7, token="NEW", expiry=LATER + timedelta(hours=1)), NOW)
    assert result.status is ReserveNowStatus.ACCEPTED
    assert result.connector_changes == ()
    held = engine.reservation(7)
    assert held is not None
    assert held.expiry_date_time == LATER + timedelta(hours=1)


def test_H01_FR_02_a_refused_replacement_leaves_the_old_reservation() -> None:
    engine = station([TYPE2], [TYPE2])
    engine.reserve_now(request(7, evse_id=1), NOW)
    engine.reserve_now(request(8, evse_id=2, token="OTHER"), NOW)
    engine.set_fault(NOW, evse_id=2)  # removes 8
    result = engine.reserve_now(request(7, evse_id=2), NOW)
    assert result.status is ReserveNowStatus.FAULTED
    assert result.ended == ()
    assert [r.reservation_id for r in engine.reservations] == [7]
    assert statuses(engine) == [R, F]


@pytest.mark.parametrize(
    "settings",
    [
        ReservationSettings(enabled=False, non_evse_specific=True),
        ReservationSettings(available=False, non_evse_specific=True),
    ],
)
def test_H01_FR_01_rejected_when_reservations_are_disabled_or_unavailable(
    settings: ReservationSettings,
) -> None:
    engine = station([TYPE2], settings=settings)
    for evse_id in (1, None):
        result = engine.reserve_now(request(evse_id=evse_id), NOW)
        assert result.status is ReserveNowStatus.REJECTED
        assert result.status_info is not None
        assert result.status_info.reason_code == "NotEnabled"
    assert engine.reservations == ()
    assert statuses(engine) == [A]


@pytest.mark.parametrize("evse_id", [None, 0])
def test_H01_FR_19_no_evse_id_is_rejected_unless_non_evse_specific(evse_id: int | None) -> None:
    strict = station([TYPE2], settings=ReservationSettings())
    refused = strict.reserve_now(request(evse_id=evse_id), NOW)
    assert refused.status is ReserveNowStatus.REJECTED
    assert refused.status_info is not None
    assert "NonEvseSpecific" in (refused.status_info.additional_info or "")
    assert strict.reserve_now(request(evse_id=1), NOW).status is ReserveNowStatus.ACCEPTED
    lenient = station([TYPE2])
    assert lenient.reserve_now(request(evse_id=evse_id), NOW).status is ReserveNowStatus.ACCEPTED
    held = lenient.reservation(1)
    assert held is not None
    assert held.evse_id is None  # evseId 0 names no EVSE either


def test_H01_occupied_when_the_evse_is_in_use_or_reserved_already() -> None:
    engine = station([TYPE2], [TYPE2], [TYPE2], [TYPE2])
    engine.plug_in(1, 1, NOW)
    engine.authorize(2, IdToken("DRIVER"), NOW)  # authorized, cable not in yet
    engine.reserve_now(request(30, evse_id=3, token="CARD-1"), NOW)
    assert engine.reserve_now(request(1, evse_id=1), NOW).status is ReserveNowStatus.OCCUPIED
    assert engine.reserve_now(request(2, evse_id=2), NOW).status is ReserveNowStatus.OCCUPIED
    # Reserved already: Occupied for any token, the same one included.
    assert engine.reserve_now(request(3, evse_id=3), NOW).status is ReserveNowStatus.OCCUPIED
    assert engine.reserve_now(request(4, evse_id=3, token="card-1"), NOW).status is (
        ReserveNowStatus.OCCUPIED
    )
    assert engine.reserve_now(request(5, evse_id=4), NOW).status is ReserveNowStatus.ACCEPTED
    assert sorted(r.reservation_id for r in engine.reservations) == [5, 30]


def test_H01_faulted_and_unavailable_per_evse_and_station() -> None:
    engine = station([TYPE2], [TYPE2], [CCS2, TYPE2])
    engine.set_fault(NOW, evse_id=1)
    engine.change_availability(OperationalStatus.INOPERATIVE, NOW, evse_id=2)
    engine.set_fault(NOW, evse_id=3, connector_id=1)
    assert engine.reserve_now(request(evse_id=1), NOW).status is ReserveNowStatus.FAULTED
    assert engine.reserve_now(request(evse_id=2), NOW).status is ReserveNowStatus.UNAVAILABLE
    # One faulted connector of two: the EVSE serves with the other, not with that type.
    ccs = request(evse_id=3, connector_type=CCS2)
    assert engine.reserve_now(ccs, NOW).status is ReserveNowStatus.FAULTED
    assert engine.reserve_now(request(evse_id=3), NOW).status is ReserveNowStatus.ACCEPTED
    whole = station([TYPE2], [TYPE2])
    whole.set_fault(NOW)
    assert whole.reserve_now(request(evse_id=2), NOW).status is ReserveNowStatus.FAULTED
    assert whole.reserve_now(request(evse_id=None), NOW).status is ReserveNowStatus.FAULTED
    off = station([TYPE2])
    off.change_availability(OperationalStatus.INOPERATIVE, NOW)
    assert off.reserve_now(request(evse_id=None), NOW).status is ReserveNowStatus.UNAVAILABLE


def test_H01_without_evse_the_answer_follows_the_evses_that_would_suit() -> None:
    faulted = station([TYPE2], [TYPE2])
    faulted.set_fault(NOW, evse_id=1)
    faulted.set_fault(NOW, evse_id=2)
    assert faulted.reserve_now(request(evse_id=None), NOW).status is ReserveNowStatus.FAULTED
    mixed = station([TYPE2], [TYPE2])
    mixed.set_fault(NOW, evse_id=1)
    mixed.change_availability(OperationalStatus.INOPERATIVE, NOW, evse_id=2)
    assert mixed.reserve_now(request(evse_id=None), NOW).status is ReserveNowStatus.UNAVAILABLE
    busy = station([TYPE2], [CCS2])
    busy.plug_in(1, 1, NOW)
    type2 = request(evse_id=None, connector_type=TYPE2)
    assert busy.reserve_now(type2, NOW).status is ReserveNowStatus.OCCUPIED
    assert busy.reserve_now(request(evse_id=None), NOW).status is ReserveNowStatus.ACCEPTED


def test_H01_connector_type_must_match_a_connector() -> None:
    engine = station([TYPE2], [CCS2, TYPE2])
    wrong = engine.reserve_now(request(1, evse_id=1, connector_type=CCS2), NOW)
    assert wrong.status is ReserveNowStatus.REJECTED
    assert wrong.status_info is not None
    assert wrong.status_info.reason_code == "UnknownConnectorType"
    nowhere = engine.reserve_now(
        request(2, evse_id=None, connector_type=ConnectorType.C_TESLA), NOW
    )
    assert nowhere.status is ReserveNowStatus.REJECTED
    right = engine.reserve_now(request(3, evse_id=2, connector_type=CCS2), NOW)
    assert right.status is ReserveNowStatus.ACCEPTED
    assert engine.reservations[0].connector_type is CCS2


def test_H01_unknown_evse_and_past_expiry_are_rejected_with_a_reason() -> None:
    engine = station([TYPE2])
    unknown = engine.reserve_now(request(evse_id=9), NOW)
    assert unknown.status is ReserveNowStatus.REJECTED
    assert unknown.status_info == StatusInfo("UnknownEvse", "this station has no EVSE 9")
    past = engine.reserve_now(request(expiry=NOW), NOW)
    assert past.status is ReserveNowStatus.REJECTED
    assert past.status_info is not None
    assert past.status_info.reason_code == "InvalidValue"


def test_status_info_keeps_to_the_schema_bounds() -> None:
    with pytest.raises(ValueError, match="reasonCode"):
        StatusInfo("x" * 21)
    with pytest.raises(ValueError, match="additionalInfo"):
        StatusInfo("Unspecified", "x" * 513)
    with pytest.raises(ValueError, match="idToken"):
        IdToken("x" * 37)


# --- H01: what an accepted reservation reports --------------------------------------------------


def test_H01_FR_20_every_connector_of_the_reserved_evse_reports_reserved() -> None:
    engine = station([TYPE2], [CCS2, TYPE2, ConnectorType.OTHER_3PH])
    result = engine.reserve_now(request(evse_id=2), NOW)
    assert result.status is ReserveNowStatus.ACCEPTED
    assert result.connector_changes == (
        ConnectorStatusChange(2, 1, R),
        ConnectorStatusChange(2, 2, R),
        ConnectorStatusChange(2, 3, R),
    )
    assert statuses(engine) == [A, R, R, R]


def test_H01_FR_07_without_evse_one_evse_is_kept_for_the_token() -> None:
    engine = station([TYPE2], [TYPE2])
    result = engine.reserve_now(request(1, evse_id=None, token="ZERO"), NOW)
    assert result.status is ReserveNowStatus.ACCEPTED
    assert result.connector_changes == ()  # two free EVSEs, one kept: none named yet
    assert engine.may_authorize(1, IdToken("SOMEONE")).allowed
    engine.authorize(1, IdToken("SOMEONE"), NOW)
    assert statuses(engine) == [A, R]  # the last free one is kept now
    refused = engine.may_authorize(2, IdToken("SOMEONE-ELSE"))
    assert not refused.allowed
    assert "kept" in refused.reason
    used = engine.authorize(2, IdToken("zero"), NOW)
    assert used.reservation_id == 1
    assert [e.reason for e in used.ended] == [EndReason.USED]


def test_H01_FR_23_as_many_reservations_as_free_evses_reserves_them_all() -> None:
    engine = station([TYPE2], [TYPE2], [TYPE2])
    engine.plug_in(3, 1, NOW)
    engine.reserve_now(request(1, evse_id=None, token="FIRST"), NOW)
    assert statuses(engine) == [A, A, OC]
    second = engine.reserve_now(request(2, evse_id=None, token="SECOND"), NOW)
    assert second.status is ReserveNowStatus.ACCEPTED
    assert changed(second) == {(1, 1, R), (2, 1, R)}
    third = engine.reserve_now(request(3, evse_id=None, token="THIRD"), NOW)
    assert third.status is ReserveNowStatus.OCCUPIED
    specific = engine.reserve_now(request(4, evse_id=1, token="FOURTH"), NOW)
    assert specific.status is ReserveNowStatus.OCCUPIED  # kept for the two above
    # H02.FR.06: one cancelled, the rest are no longer all kept.
    cancelled = engine.cancel_reservation(2, NOW)
    assert changed(cancelled) == {(1, 1, A), (2, 1, A)}


def test_H01_FR_24_a_connector_type_keeps_an_evse_of_that_type() -> None:
    engine = station([TYPE2], [CCS2], [CCS2])
    engine.reserve_now(request(1, evse_id=None, token="AC", connector_type=TYPE2), NOW)
    # One Type2 reservation, one free EVSE with Type2: that one is reserved.
    assert statuses(engine) == [R, A, A]
    assert not engine.may_authorize(1, IdToken("STRANGER")).allowed
    assert engine.may_authorize(2, IdToken("STRANGER")).allowed
    engine.reserve_now(request(2, evse_id=None, token="DC", connector_type=CCS2), NOW)
    assert statuses(engine) == [R, A, A]
    engine.reserve_now(request(3, evse_id=None, token="DC2", connector_type=CCS2), NOW)
    assert statuses(engine) == [R, R, R]
    full = engine.reserve_now(request(4, evse_id=None, token="MORE"), NOW)
    assert full.status is ReserveNowStatus.OCCUPIED
    # The Type2 driver may not take a CCS2 EVSE kept for others with their reservation.
    assert engine.may_authorize(2, IdToken("AC")).reservation_id is None
    assert engine.may_authorize(1, IdToken("ac")).reservation_id == 1


def test_H01_FR_24_types_that_overlap_keep_what_they_need() -> None:
    # EVSE 1 has both types, EVSE 2 only Type2: a CCS2 and a Type2 reservation need both.
    engine = station([CCS2, TYPE2], [TYPE2])
    engine.reserve_now(request(1, evse_id=None, token="DC", connector_type=CCS2), NOW)
    engine.reserve_now(request(2, evse_id=None, token="AC", connector_type=TYPE2), NOW)
    assert engine.kept_evses() == {1, 2}
    assert statuses(engine) == [R, R, R]
    # The Type2 driver on EVSE 1 would leave the CCS2 one without an EVSE.
    assert engine.may_authorize(1, IdToken("AC")).reservation_id is None
    assert not engine.may_authorize(1, IdToken("AC")).allowed
    assert engine.may_authorize(2, IdToken("AC")).reservation_id == 2


# --- H03: use ---------------------------------------------------------------------------------


def test_H03_FR_09_a_matching_token_consumes_the_reservation_at_authorization() -> None:
    engine = station([TYPE2], [TYPE2])
    engine.reserve_now(request(11, evse_id=1, token="Card-ABC"), NOW)
    result = engine.authorize(1, IdToken("cARD-abc"), NOW)
    assert result.allowed
    assert result.reservation_id == 11  # H03.FR.10: the TransactionEvent carries it
    assert [e.reason for e in result.ended] == [EndReason.USED]
    assert result.status_updates == ()
    assert engine.reservations == ()
    # Consumed: Available until the cable is in, then Occupied.
    assert changed(result) == {(1, 1, A)}
    assert changed(engine.plug_in(1, 1, NOW)) == {(1, 1, OC)}
    assert engine.charging(1)


def test_H03_FR_09_a_matching_group_id_token_consumes_the_reservation() -> None:
    engine = ReservationEngine201({1: [TYPE2], 2: [TYPE2]}, groups={"driver-3": "FLEET"})
    engine.reserve_now(request(12, evse_id=1, token="DRIVER-1", group="Fleet"), NOW)
    engine.reserve_now(request(13, evse_id=2, token="DRIVER-1", group="Fleet"), NOW)
    assert not engine.may_authorize(1, IdToken("DRIVER-2")).allowed  # group not known yet
    engine.learn_group("DRIVER-2", "fleet")  # from an Authorize answer
    assert engine.authorize(1, IdToken("DRIVER-2"), NOW).reservation_id == 12
    assert engine.may_authorize(2, IdToken("DRIVER-3")).reservation_id == 13  # local list
    told = engine.may_authorize(2, IdToken("DRIVER-4"), group_id_token="FLEET")
    assert told.reservation_id == 13


def test_G01_FR_09_another_token_is_refused_and_plugging_in_changes_nothing() -> None:
    engine = station([TYPE2, CCS2], [TYPE2])
    engine.reserve_now(request(21, evse_id=1, token="CARD-1"), NOW)
    plugged = engine.plug_in(1, 1, NOW)
    assert plugged.connector_changes == ()
    assert statuses(engine) == [R, R, A]
    refused = engine.authorize(1, IdToken("STRANGER"), NOW)
    assert not refused.allowed
    assert "reserved" in refused.reason
    assert refused.connector_changes == ()
    assert refused.ended == ()
    assert engine.reservation(21) is not None
    # The other EVSE is free for anyone, and leaves the reservation alone.
    assert engine.authorize(2, IdToken("STRANGER"), NOW).reservation_id is None
    # Cable first, then the reserved token: Occupied, reservation consumed (H03 S1 #2).
    used = engine.authorize(1, IdToken("CARD-1"), NOW)
    assert used.reservation_id == 21
    assert changed(used) == {(1, 1, OC), (1, 2, A)}


def test_G01_FR_09_a_waiting_cable_is_occupied_once_the_reservation_ends() -> None:
    engine = station([TYPE2])
    engine.reserve_now(request(22), NOW)
    engine.plug_in(1, 1, NOW)
    cancelled = engine.cancel_reservation(22, NOW)
    assert changed(cancelled) == {(1, 1, OC)}
    assert engine.reserve_now(request(23), NOW).status is ReserveNowStatus.OCCUPIED


def test_H03_the_reserved_token_elsewhere_keeps_the_reservation() -> None:
    engine = station([TYPE2], [TYPE2])
    engine.reserve_now(request(24, evse_id=1, token="CARD-1"), NOW)
    assert engine.authorize(2, IdToken("CARD-1"), NOW).reservation_id is None
    assert engine.reservation(24) is not None


def test_H03_an_authorized_evse_is_in_use_for_every_other_token() -> None:
    engine = station([TYPE2])
    engine.authorize(1, IdToken("FIRST"), NOW)
    assert not engine.may_authorize(1, IdToken("SECOND")).allowed
    engine.end_authorization(1, NOW)
    assert engine.may_authorize(1, IdToken("SECOND")).allowed


# --- H04 / removal: how reservations end --------------------------------------------------------


def test_H04_expiry_sends_expired_and_reports_available() -> None:
    engine = station([CCS2, TYPE2])
    engine.reserve_now(request(3), NOW)
    assert engine.next_expiry() == LATER
    early = engine.tick(LATER - timedelta(seconds=1))
    assert (early.connector_changes, early.ended) == ((), ())
    expired = engine.tick(LATER)
    assert expired.status_updates == (ReservationStatusUpdate(3, ReservationUpdateStatus.EXPIRED),)
    assert changed(expired) == {(1, 1, A), (1, 2, A)}
    assert engine.next_expiry() is None
    assert engine.tick(LATER + timedelta(hours=1)).ended == ()  # told once


def test_H04_an_expired_reservation_cannot_be_used_even_before_a_tick() -> None:
    engine = station([TYPE2])
    engine.reserve_now(request(4, token="LATE"), NOW)
    result = engine.authorize(1, IdToken("LATE"), LATER)
    assert result.allowed
    assert result.reservation_id is None
    assert [(e.reason, e.status_update) for e in result.ended] == [
        (EndReason.EXPIRED, ReservationStatusUpdate(4, ReservationUpdateStatus.EXPIRED))
    ]


@pytest.mark.parametrize("cause", ["fault", "unavailable", "station"])
def test_H04_evse_faulted_or_unavailable_removes_its_reservation(cause: str) -> None:
    engine = station([TYPE2], [TYPE2])
    engine.reserve_now(request(40, evse_id=1), NOW)
    engine.reserve_now(request(41, evse_id=2, token="OTHER"), NOW)
    if cause == "fault":
        changes = engine.set_fault(NOW, evse_id=1)
    elif cause == "unavailable":
        changes = engine.change_availability(OperationalStatus.INOPERATIVE, NOW, evse_id=1)
    else:
        changes = engine.set_fault(NOW)
    removed = ReservationUpdateStatus.REMOVED
    if cause == "station":
        assert set(changes.status_updates) == {
            ReservationStatusUpdate(40, removed),
            ReservationStatusUpdate(41, removed),
        }
        return
    assert changes.status_updates == (ReservationStatusUpdate(40, removed),)
    assert engine.reservation(41) is not None
    status = F if cause == "fault" else U
    assert changed(changes) == {(1, 1, status)}
    cleared = (
        engine.clear_fault(NOW, evse_id=1)
        if cause == "fault"
        else engine.change_availability(OperationalStatus.OPERATIVE, NOW, evse_id=1)
    )
    assert changed(cleared) == {(1, 1, A)}  # not Reserved again


def test_H04_a_faulted_connector_of_two_keeps_the_evse_reservation() -> None:
    engine = station([CCS2, TYPE2])
    engine.reserve_now(request(42), NOW)
    changes = engine.set_fault(NOW, evse_id=1, connector_id=1)
    assert changes.ended == ()
    assert statuses(engine) == [F, R]
    # A reservation for the type that faulted cannot be served: removed.
    typed = station([CCS2, TYPE2])
    typed.reserve_now(request(43, connector_type=CCS2), NOW)
    assert typed.set_fault(NOW, evse_id=1, connector_id=1).status_updates == (
        ReservationStatusUpdate(43, ReservationUpdateStatus.REMOVED),
    )


def test_H04_reservations_without_evse_beyond_the_evses_in_service_are_removed() -> None:
    engine = station([TYPE2], [TYPE2], [TYPE2])
    engine.reserve_now(request(70, evse_id=None, token="FIRST"), NOW)
    engine.reserve_now(request(71, evse_id=None, token="SECOND"), NOW)
    assert engine.set_fault(NOW, evse_id=1).ended == ()  # two EVSEs left for two
    changes = engine.change_availability(OperationalStatus.INOPERATIVE, NOW, evse_id=2)
    assert changes.status_updates == (
        ReservationStatusUpdate(71, ReservationUpdateStatus.REMOVED),  # the newest gives way
    )
    assert [r.reservation_id for r in engine.reservations] == [70]
    assert statuses(engine) == [F, U, R]


# --- H02: CancelReservation -------------------------------------------------------------------


def test_H02_cancel_a_held_reservation_is_accepted_and_reports_available() -> None:
    engine = station([CCS2, TYPE2])
    engine.reserve_now(request(5), NOW)
    result = engine.cancel_reservation(5, NOW)
    assert result.status is CancelReservationStatus.ACCEPTED
    assert result.status_info is None
    assert changed(result) == {(1, 1, A), (1, 2, A)}
    assert [e.reason for e in result.ended] == [EndReason.CANCELLED]
    assert result.status_updates == ()  # no ReservationStatusUpdate after a cancel
    assert engine.reservations == ()


@pytest.mark.parametrize("reservation_id", [0, 4, -1])
def test_H02_cancel_an_unknown_reservation_is_rejected(reservation_id: int) -> None:
    engine = station([TYPE2])
    engine.reserve_now(request(5), NOW)
    result = engine.cancel_reservation(reservation_id, NOW)
    assert result.status is CancelReservationStatus.REJECTED
    assert result.status_info is not None
    assert result.status_info.reason_code == "NotFound"
    assert result.connector_changes == ()
    assert len(engine.reservations) == 1
    assert engine.cancel_reservation(5, NOW).status is CancelReservationStatus.ACCEPTED
    assert engine.cancel_reservation(5, NOW).status is CancelReservationStatus.REJECTED


# --- availability -----------------------------------------------------------------------------


def test_change_availability_while_in_use_is_scheduled() -> None:
    engine = station([TYPE2], [TYPE2])
    engine.authorize(1, IdToken("A"), NOW)
    engine.plug_in(1, 1, NOW)
    result = engine.change_availability(OperationalStatus.INOPERATIVE, NOW, evse_id=1)
    assert result.status is ChangeAvailabilityStatus.SCHEDULED
    assert statuses(engine) == [OC, A]
    assert changed(engine.unplug(1, NOW)) == {(1, 1, U)}
    unknown = engine.change_availability(OperationalStatus.INOPERATIVE, NOW, evse_id=3)
    assert unknown.status is ChangeAvailabilityStatus.REJECTED


def test_an_unknown_evse_or_connector_raises_before_anything_changes() -> None:
    engine = station([TYPE2])
    engine.reserve_now(request(1), NOW)
    calls = [
        lambda: engine.plug_in(1, 2, LATER),
        lambda: engine.authorize(2, IdToken("CARD-1"), LATER),
        lambda: engine.end_authorization(3, LATER),
        lambda: engine.unplug(3, LATER),
        lambda: engine.set_fault(LATER, evse_id=2),
        lambda: engine.clear_fault(LATER, evse_id=1, connector_id=2),
    ]
    for call in calls:
        with pytest.raises(ValueError, match=r"no (EVSE|connector)"):
            call()
    assert engine.reservation(1) is not None  # its expiry is still to be told
    assert engine.tick(LATER).status_updates == (
        ReservationStatusUpdate(1, ReservationUpdateStatus.EXPIRED),
    )


# --- the values are the wire's ----------------------------------------------------------------


@cache
def schema(name: str) -> dict[str, Any]:
    path = resources.files("ocpp") / "v201" / "schemas" / f"{name}.json"
    loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8-sig"))
    return loaded


@pytest.mark.parametrize(
    ("enum", "message", "definition"),
    [
        (ReserveNowStatus, "ReserveNowResponse", "ReserveNowStatusEnumType"),
        (CancelReservationStatus, "CancelReservationResponse", "CancelReservationStatusEnumType"),
        (
            ReservationUpdateStatus,
            "ReservationStatusUpdateRequest",
            "ReservationUpdateStatusEnumType",
        ),
        (ConnectorStatus, "StatusNotificationRequest", "ConnectorStatusEnumType"),
        (IdTokenType, "ReserveNowRequest", "IdTokenEnumType"),
        (ConnectorType, "ReserveNowRequest", "ConnectorEnumType"),
        (OperationalStatus, "ChangeAvailabilityRequest", "OperationalStatusEnumType"),
        (
            ChangeAvailabilityStatus,
            "ChangeAvailabilityResponse",
            "ChangeAvailabilityStatusEnumType",
        ),
    ],
)
def test_enum_values_are_the_2_0_1_wire_spellings(
    enum: type[Any], message: str, definition: str
) -> None:
    assert [m.value for m in enum] == schema(message)["definitions"][definition]["enum"]


def test_answers_and_updates_fit_the_official_schemas() -> None:
    """The answers with their statusInfo, and the updates, as the station code will send
    them, validate against the official 2.0.1 schemas."""
    engine = station([TYPE2], settings=ReservationSettings())
    answers = [
        engine.reserve_now(request(evse_id=None), NOW),
        engine.reserve_now(request(evse_id=7), NOW),
        engine.reserve_now(request(evse_id=1, connector_type=CCS2), NOW),
        engine.reserve_now(request(expiry=NOW), NOW),
        engine.reserve_now(request(9), NOW),
    ]
    for answer in answers:
        payload: dict[str, Any] = {"status": answer.status.value}
        if answer.status_info is not None:
            payload["statusInfo"] = {
                "reasonCode": answer.status_info.reason_code,
                "additionalInfo": answer.status_info.additional_info,
            }
        Draft6Validator(schema("ReserveNowResponse")).validate(payload)
    cancel = engine.cancel_reservation(1, NOW)
    assert cancel.status_info is not None
    Draft6Validator(schema("CancelReservationResponse")).validate(
        {
            "status": cancel.status.value,
            "statusInfo": {"reasonCode": cancel.status_info.reason_code},
        }
    )
    for update in engine.tick(LATER).status_updates:
        Draft6Validator(schema("ReservationStatusUpdateRequest")).validate(
            {
                "reservationId": update.reservation_id,
                "reservationUpdateStatus": update.reservation_update_status.value,
            }
        )


def test_the_engine_is_importable_from_the_package_beside_the_1_6_one() -> None:
    from console.chargepoint import ReservationEngine
    from console.chargepoint import ReservationEngine201 as Exported
    from console.chargepoint.engine import ReservationEngine as Engine16

    assert Exported is ReservationEngine201
    assert ReservationEngine is Engine16
