"""CALLERROR codes: 1.6 spellings out (2.0.1 ones on 2.0.1 connections), both spellings in,
validation failures mapped."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from console.ocpp import messages as m
from console.ocpp.base import OcppModel
from console.ocpp.errors import (
    V201_ONLY_ERROR_CODES,
    ErrorCode,
    OcppError,
    describe_validation,
    error_code_for_validation,
    is_error_code,
    parse_error_code,
    wire_spelling,
)
from console.ocpp.reservation import ReserveNowRequest
from console.ocpp.versions import OcppVersion


def test_codes_are_spelled_as_ocpp_1_6_spells_them() -> None:
    assert {code.value for code in ErrorCode} == {
        "NotImplemented",
        "NotSupported",
        "InternalError",
        "ProtocolError",
        "SecurityError",
        "FormationViolation",
        "PropertyConstraintViolation",
        "OccurenceConstraintViolation",
        "TypeConstraintViolation",
        "GenericError",
    }


@pytest.mark.parametrize(
    ("text", "code"),
    [
        *[(code.value, code) for code in ErrorCode],
        ("FormatViolation", ErrorCode.FORMATION_VIOLATION),
        ("OccurrenceConstraintViolation", ErrorCode.OCCURENCE_CONSTRAINT_VIOLATION),
        ("formationviolation", None),
        ("", None),
        ("MessageTypeNotSupported", None),
    ],
)
def test_parse_error_code(text: str, code: ErrorCode | None) -> None:
    assert parse_error_code(text) is code


def failure(model: type[OcppModel], payload: dict[str, Any]) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        model.model_validate(payload)
    return caught.value


RESERVE = {"connectorId": 1, "expiryDate": "2026-11-25T15:00:00Z", "idTag": "A", "reservationId": 1}


@pytest.mark.parametrize(
    ("model", "payload", "code"),
    [
        (ReserveNowRequest, {**RESERVE, "extra": 1}, ErrorCode.FORMATION_VIOLATION),
        # An unknown property decides even when something else is wrong too.
        (ReserveNowRequest, {"extra": 1}, ErrorCode.FORMATION_VIOLATION),
        (ReserveNowRequest, {}, ErrorCode.OCCURENCE_CONSTRAINT_VIOLATION),
        (ReserveNowRequest, {**RESERVE, "idTag": 5}, ErrorCode.TYPE_CONSTRAINT_VIOLATION),
        (ReserveNowRequest, {**RESERVE, "idTag": None}, ErrorCode.TYPE_CONSTRAINT_VIOLATION),
        (ReserveNowRequest, {**RESERVE, "connectorId": 1.0}, ErrorCode.TYPE_CONSTRAINT_VIOLATION),
        (ReserveNowRequest, {**RESERVE, "expiryDate": "x"}, ErrorCode.TYPE_CONSTRAINT_VIOLATION),
        (ReserveNowRequest, {**RESERVE, "idTag": ""}, ErrorCode.PROPERTY_CONSTRAINT_VIOLATION),
        (
            ReserveNowRequest,
            {**RESERVE, "connectorId": -3},
            ErrorCode.PROPERTY_CONSTRAINT_VIOLATION,
        ),
        (m.HeartbeatConfirmation, {"currentTime": 5}, ErrorCode.TYPE_CONSTRAINT_VIOLATION),
        (m.AuthorizeConfirmation, {"idTagInfo": "x"}, ErrorCode.TYPE_CONSTRAINT_VIOLATION),
        (
            m.AuthorizeConfirmation,
            {"idTagInfo": {"status": "Fine"}},
            ErrorCode.PROPERTY_CONSTRAINT_VIOLATION,
        ),
        (
            m.AuthorizeConfirmation,
            {"idTagInfo": {"status": 2}},
            ErrorCode.TYPE_CONSTRAINT_VIOLATION,
        ),
        (m.KeyValue, {"key": "k", "readonly": "yes"}, ErrorCode.TYPE_CONSTRAINT_VIOLATION),
        (
            m.ChargingSchedulePeriod,
            {"startPeriod": 0, "limit": 1.25},
            ErrorCode.PROPERTY_CONSTRAINT_VIOLATION,
        ),
    ],
)
def test_validation_failures_map_to_the_code_the_spec_asks_for(
    model: type[OcppModel], payload: dict[str, Any], code: ErrorCode
) -> None:
    assert error_code_for_validation(failure(model, payload)) is code


def test_describe_validation_names_the_fields_and_counts_the_rest() -> None:
    text = describe_validation(failure(ReserveNowRequest, {"a": 1, "b": 2, "c": 3, "d": 4}))
    assert "connectorId" in text
    assert text.endswith("more")
    assert describe_validation(failure(ReserveNowRequest, {**RESERVE, "idTag": ""})).startswith(
        "idTag:"
    )


def test_ocpp_error_carries_its_code() -> None:
    error = OcppError(ErrorCode.NOT_SUPPORTED, "no reservations here", {"connector": 1})
    assert (error.code, error.description, error.details) == (
        ErrorCode.NOT_SUPPORTED,
        "no reservations here",
        {"connector": 1},
    )
    assert "NotSupported" in str(error)
    assert OcppError(ErrorCode.GENERIC_ERROR).details == {}


# --- per version ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "spelled_2_0_1"),
    [
        (ErrorCode.FORMATION_VIOLATION, "FormatViolation"),
        (ErrorCode.OCCURENCE_CONSTRAINT_VIOLATION, "OccurrenceConstraintViolation"),
        (ErrorCode.PROPERTY_CONSTRAINT_VIOLATION, "PropertyConstraintViolation"),
        (ErrorCode.NOT_IMPLEMENTED, "NotImplemented"),
    ],
)
def test_wire_spelling_per_version(code: ErrorCode, spelled_2_0_1: str) -> None:
    assert wire_spelling(code) == code.value
    assert wire_spelling(code, OcppVersion.V16) == code.value
    assert wire_spelling(code, OcppVersion.V201) == spelled_2_0_1
    # What we send, we read back as the same code.
    assert parse_error_code(wire_spelling(code, OcppVersion.V201)) is code


@pytest.mark.parametrize(
    ("text", "known_1_6", "known_2_0_1"),
    [
        ("FormationViolation", True, True),
        ("FormatViolation", True, True),
        ("OccurrenceConstraintViolation", True, True),
        ("GenericError", True, True),
        ("RpcFrameworkError", False, True),
        ("MessageTypeNotSupported", False, True),
        ("formatviolation", False, False),
        ("", False, False),
    ],
)
def test_is_error_code_per_version(text: str, known_1_6: bool, known_2_0_1: bool) -> None:
    assert is_error_code(text) is known_1_6
    assert is_error_code(text, OcppVersion.V16) is known_1_6
    assert is_error_code(text, OcppVersion.V201) is known_2_0_1
    assert text not in V201_ONLY_ERROR_CODES or parse_error_code(text) is None
