"""The seed's Reservation-profile rules, case by case (console.ocpp.reservation)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from enum import StrEnum
from typing import Any

import pytest
from pydantic import ValidationError

from console.ocpp import reservation
from console.ocpp.features import FEATURES, Role
from console.ocpp.frames import Call, serialize_frame
from console.ocpp.reservation import (
    CANCEL_RESERVATION_FEATURE_NAME,
    PROFILE_NAME,
    RESERVE_NOW_FEATURE_NAME,
    CancelReservationConfirmation,
    CancelReservationRequest,
    CancelReservationStatus,
    ReservationStatus,
    ReserveNowConfirmation,
    ReserveNowRequest,
)
from console.ocpp.session import Session

EXPIRY = datetime(2026, 11, 25, 14, 30, tzinfo=UTC)
EXPIRY_TEXT = "2026-11-25T14:30:00Z"


def reserve_now_payload(**changes: Any) -> dict[str, Any]:
    """A valid ReserveNow payload with some keys changed (None removes a key)."""
    payload: dict[str, Any] = {
        "connectorId": 1,
        "expiryDate": EXPIRY_TEXT,
        "idTag": "12345",
        "parentIdTag": "00000",
        "reservationId": 42,
    }
    for key, value in changes.items():
        if value is None:
            payload.pop(key, None)
        else:
            payload[key] = value
    return payload


# --- public constants ----------------------------------------------------------------------


def test_public_names_of_the_profile() -> None:
    assert PROFILE_NAME == "Reservation"
    assert RESERVE_NOW_FEATURE_NAME == "ReserveNow"
    assert CANCEL_RESERVATION_FEATURE_NAME == "CancelReservation"
    assert set(reservation.__all__) >= {
        "PROFILE_NAME",
        "RESERVE_NOW_FEATURE_NAME",
        "CANCEL_RESERVATION_FEATURE_NAME",
        "ReservationStatus",
        "CancelReservationStatus",
        "ReserveNowRequest",
        "ReserveNowConfirmation",
        "CancelReservationRequest",
        "CancelReservationConfirmation",
    }


def test_statuses_are_str_enums_spelled_as_on_the_wire() -> None:
    assert issubclass(ReservationStatus, StrEnum)
    assert issubclass(CancelReservationStatus, StrEnum)
    assert [s.value for s in ReservationStatus] == [
        "Accepted",
        "Faulted",
        "Occupied",
        "Rejected",
        "Unavailable",
    ]
    assert [s.value for s in CancelReservationStatus] == ["Accepted", "Rejected"]
    assert ReservationStatus("Occupied") is ReservationStatus.OCCUPIED
    assert str(CancelReservationStatus.REJECTED) == "Rejected"


def test_feature_names_and_registry() -> None:
    assert ReserveNowRequest.feature_name == "ReserveNow"
    assert ReserveNowConfirmation.feature_name == "ReserveNow"
    assert CancelReservationRequest.feature_name == "CancelReservation"
    assert CancelReservationConfirmation.feature_name == "CancelReservation"
    for action, request, confirmation in [
        ("ReserveNow", ReserveNowRequest, ReserveNowConfirmation),
        ("CancelReservation", CancelReservationRequest, CancelReservationConfirmation),
    ]:
        feature = FEATURES[action]
        assert feature.request is request
        assert feature.confirmation is confirmation
        assert feature.profile == PROFILE_NAME
        # The Central System sends both; only the station receives them.
        assert feature.receivers == frozenset({Role.CHARGE_POINT})


# --- ReserveNow.req -----------------------------------------------------------------------


def test_valid_reserve_now_with_parent_id_tag() -> None:
    request = ReserveNowRequest.model_validate(reserve_now_payload())
    assert request.connector_id == 1
    assert request.expiry_date == EXPIRY
    assert request.expiry_date.tzinfo is not None
    assert request.id_tag == "12345"
    assert request.parent_id_tag == "00000"
    assert request.reservation_id == 42


def test_valid_reserve_now_without_parent_id_tag() -> None:
    request = ReserveNowRequest.model_validate(reserve_now_payload(parentIdTag=None))
    assert request.parent_id_tag is None
    assert "parentIdTag" not in request.to_payload()


def test_connector_zero_is_valid() -> None:
    assert ReserveNowRequest.model_validate(reserve_now_payload(connectorId=0)).connector_id == 0


@pytest.mark.parametrize("reservation_id", [0, -1, 2**31 - 1, -(2**31)])
def test_any_integer_is_a_reservation_id(reservation_id: int) -> None:
    request = ReserveNowRequest.model_validate(reserve_now_payload(reservationId=reservation_id))
    assert request.reservation_id == reservation_id


def test_id_tags_of_exactly_twenty_characters_are_valid() -> None:
    request = ReserveNowRequest.model_validate(
        reserve_now_payload(idTag="A" * 20, parentIdTag="B" * 20)
    )
    assert (request.id_tag, request.parent_id_tag) == ("A" * 20, "B" * 20)


@pytest.mark.parametrize(
    ("changes", "error_type", "location"),
    [
        pytest.param({"idTag": None}, "missing", "idTag", id="no idTag"),
        pytest.param({"expiryDate": None}, "missing", "expiryDate", id="no expiryDate"),
        pytest.param({"connectorId": None}, "missing", "connectorId", id="no connectorId"),
        pytest.param({"reservationId": None}, "missing", "reservationId", id="no reservationId"),
        pytest.param({"connectorId": -1}, "greater_than_equal", "connectorId", id="connector -1"),
        pytest.param({"idTag": "X" * 21}, "string_too_long", "idTag", id="idTag 21 chars"),
        pytest.param({"idTag": ""}, "string_too_short", "idTag", id="empty idTag"),
        pytest.param(
            {"parentIdTag": "Y" * 21}, "string_too_long", "parentIdTag", id="parentIdTag 21 chars"
        ),
        pytest.param({"connectorId": "1"}, "int_type", "connectorId", id="connectorId as text"),
        pytest.param({"connectorId": 1.5}, "int_type", "connectorId", id="connectorId float"),
        pytest.param({"connectorId": True}, "int_type", "connectorId", id="connectorId bool"),
        pytest.param({"reservationId": "42"}, "int_type", "reservationId", id="reservationId text"),
        pytest.param({"idTag": 12345}, "string_type", "idTag", id="idTag a number"),
        pytest.param({"expiryDate": "tomorrow"}, "datetime_parsing", "expiryDate", id="bad date"),
        pytest.param({"expiryDate": 1764081000}, "datetime_type", "expiryDate", id="date number"),
        pytest.param({"surprise": 1}, "extra_forbidden", "surprise", id="extra property"),
    ],
)
def test_invalid_reserve_now_is_rejected(
    changes: dict[str, Any], error_type: str, location: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        ReserveNowRequest.model_validate(reserve_now_payload(**changes))
    [error] = caught.value.errors()
    assert error["type"] == error_type
    assert error["loc"] == (location,)


def test_built_by_field_name_and_by_alias_alike() -> None:
    by_name = ReserveNowRequest(
        connector_id=1, expiry_date=EXPIRY, id_tag="12345", parent_id_tag="00000", reservation_id=42
    )
    by_alias = ReserveNowRequest(
        connectorId=1, expiryDate=EXPIRY, idTag="12345", parentIdTag="00000", reservationId=42
    )
    assert by_name == by_alias
    assert by_name == ReserveNowRequest.model_validate(reserve_now_payload())
    assert ReserveNowConfirmation(status="Accepted") == ReserveNowConfirmation.model_validate(
        {"status": "Accepted"}
    )


def test_parent_id_tag_defaults_to_none() -> None:
    request = ReserveNowRequest(connector_id=0, expiry_date=EXPIRY, id_tag="A", reservation_id=1)
    assert request.parent_id_tag is None


def test_models_are_frozen() -> None:
    request = ReserveNowRequest.model_validate(reserve_now_payload())
    with pytest.raises(ValidationError):
        request.id_tag = "other"  # type: ignore[misc]


def test_wire_payload_is_the_model_dump_of_the_contract() -> None:
    request = ReserveNowRequest.model_validate(reserve_now_payload(parentIdTag=None))
    expected = {
        "connectorId": 1,
        "expiryDate": EXPIRY_TEXT,
        "idTag": "12345",
        "reservationId": 42,
    }
    assert request.model_dump(mode="json", by_alias=True, exclude_none=True) == expected
    assert request.to_payload() == expected


def test_expiry_is_sent_in_utc_whatever_zone_it_was_built_in() -> None:
    local = EXPIRY.astimezone(timezone(timedelta(hours=2)))
    request = ReserveNowRequest(connector_id=1, expiry_date=local, id_tag="A", reservation_id=7)
    assert request.to_payload()["expiryDate"] == EXPIRY_TEXT
    assert request.expiry_date == EXPIRY


def test_the_seed_call_serializes_exactly() -> None:
    request = ReserveNowRequest(
        connector_id=1, expiry_date=EXPIRY, id_tag="12345", parent_id_tag="00000", reservation_id=42
    )
    expected = (
        '[2,"1234","ReserveNow",{"connectorId":1,"expiryDate":"2026-11-25T14:30:00Z",'
        '"idTag":"12345","parentIdTag":"00000","reservationId":42}]'
    )
    assert serialize_frame(Call("1234", "ReserveNow", request.to_payload())) == expected
    # And the same through a session, the way the Central System sends it.
    session = Session(Role.CENTRAL_SYSTEM, id_factory=lambda: "1234")
    session.call(request, now=0.0)
    [frame] = session.data_to_send()
    assert frame.text == expected


def test_the_seed_call_round_trips() -> None:
    request = ReserveNowRequest.model_validate(reserve_now_payload())
    text = serialize_frame(Call("1234", "ReserveNow", request.to_payload()))
    assert ReserveNowRequest.model_validate(json.loads(text)[3]) == request


# --- ReserveNow.conf ----------------------------------------------------------------------


@pytest.mark.parametrize("status", list(ReservationStatus))
def test_every_reservation_status_is_valid(status: ReservationStatus) -> None:
    confirmation = ReserveNowConfirmation.model_validate({"status": status.value})
    assert confirmation.status is status
    assert confirmation.to_payload() == {"status": status.value}


@pytest.mark.parametrize(
    ("payload", "error_type"),
    [
        pytest.param({"status": "Maybe"}, "enum", id="unknown status"),
        pytest.param({"status": "accepted"}, "enum", id="wrong case"),
        pytest.param({"status": ""}, "enum", id="empty status"),
        pytest.param({"status": None}, "enum", id="null status"),
        pytest.param({}, "missing", id="no status"),
        pytest.param({"status": "Accepted", "reason": "ok"}, "extra_forbidden", id="extra"),
    ],
)
def test_invalid_reserve_now_confirmation_is_rejected(
    payload: dict[str, Any], error_type: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        ReserveNowConfirmation.model_validate(payload)
    assert caught.value.errors()[0]["type"] == error_type


# --- CancelReservation --------------------------------------------------------------------


@pytest.mark.parametrize("reservation_id", [42, 0, -1])
def test_cancel_reservation_takes_any_integer(reservation_id: int) -> None:
    request = CancelReservationRequest.model_validate({"reservationId": reservation_id})
    assert request.reservation_id == reservation_id
    assert CancelReservationRequest(reservation_id=reservation_id) == request
    assert request.to_payload() == {"reservationId": reservation_id}


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param({}, id="no reservationId"),
        pytest.param({"reservationId": "42"}, id="as text"),
        pytest.param({"reservationId": 4.2}, id="as float"),
        pytest.param({"reservationId": 42, "connectorId": 1}, id="extra"),
    ],
)
def test_invalid_cancel_reservation_is_rejected(payload: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        CancelReservationRequest.model_validate(payload)


@pytest.mark.parametrize("status", ["Accepted", "Rejected"])
def test_cancel_confirmation_statuses(status: str) -> None:
    confirmation = CancelReservationConfirmation.model_validate({"status": status})
    assert confirmation.status == CancelReservationStatus(status)


@pytest.mark.parametrize(
    "payload",
    [{"status": "Occupied"}, {"status": ""}, {}, {"status": "Accepted", "extra": True}],
)
def test_invalid_cancel_confirmation_is_rejected(payload: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        CancelReservationConfirmation.model_validate(payload)


def test_integers_beyond_64_bits_are_refused_at_the_edge() -> None:
    # SQLite stores 64-bit integers; a huge id must fail validation, not the database.
    assert CancelReservationRequest(reservation_id=2**63 - 1).reservation_id == 2**63 - 1
    with pytest.raises(ValidationError):
        CancelReservationRequest.model_validate({"reservationId": 2**63})
    with pytest.raises(ValidationError):
        CancelReservationRequest.model_validate({"reservationId": -(2**63) - 1})
