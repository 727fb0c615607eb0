"""CALLERROR codes: 1.6 spellings out, both spellings in, validation failures mapped."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from console.ocpp import messages as m
from console.ocpp.base import OcppModel
from console.ocpp.errors import (
    ErrorCode,
    OcppError,
    describe_validation,
    error_code_for_validation,
    parse_error_code,
)
from console.ocpp.reservation import ReserveNowRequest


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
