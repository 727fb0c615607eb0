"""The vendored official OCPP 1.6 schemas and our validator of station frames against them.

* The files in ``console/ocpp/schemas/v16`` are the ``ocpp`` package's, byte for byte.
* Every keyword they use is implemented (loading all of them works), and an unknown one fails.
* Our verdict agrees with ``jsonschema.Draft4Validator`` (what the ``ocpp`` package validates
  with) on payloads generated from each schema, valid ones and sloppy ones (wrong types,
  missing or extra properties, strings too long, near-miss enum values, bad dates, ``true`` or
  ``1.0`` for integers, numbers that are not multiples of 0.1). ``jsonschema`` gets numbers as
  ``Decimal`` (as the ``ocpp`` package does for multipleOf) and a date-time format check that
  follows RFC 3339, written here independently of ours.
* Raw frames: CALL, CALLRESULT and CALLERROR, well-formed and broken.
"""

from __future__ import annotations

import json
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from console.ocpp import schema as schema_module
from console.ocpp.schema import (
    SchemaDefinitionError,
    available_actions,
    schema_problems,
    station_frame_problems,
)
from tests.ocpp.schema_payloads import (
    BAD_DATE_TIMES,
    VALID_DATE_TIMES,
    as_decimal,
    payloads,
    reference_date_time,
    reference_validator,
    schema_document,
)

VENDORED = Path(str(resources.files("console.ocpp"))) / "schemas" / "v16"
UPSTREAM = Path(str(resources.files("ocpp"))) / "v16" / "schemas"
SCHEMA_NAMES = sorted(path.stem for path in VENDORED.glob("*.json"))

EXAMPLES = settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


# --- the vendored files ---------------------------------------------------------------------


def test_vendored_folder_lists_the_same_files_as_the_ocpp_package() -> None:
    vendored = sorted(path.name for path in VENDORED.iterdir() if path.suffix == ".json")
    upstream = sorted(path.name for path in UPSTREAM.iterdir() if path.suffix == ".json")
    assert vendored == upstream
    assert len(vendored) == 78


@pytest.mark.parametrize("name", SCHEMA_NAMES)
def test_vendored_file_is_byte_identical(name: str) -> None:
    file_name = f"{name}.json"
    assert (VENDORED / file_name).read_bytes() == (UPSTREAM / file_name).read_bytes()


@pytest.mark.parametrize("name", SCHEMA_NAMES)
def test_every_schema_loads(name: str) -> None:
    # Loading compiles every keyword of the file (also unused definitions).
    check = schema_module._compiled("v16", name)
    assert callable(check)


def test_available_actions_are_the_request_schemas() -> None:
    actions = available_actions()
    assert {"ReserveNow", "CancelReservation", "StatusNotification", "Heartbeat"} <= actions
    assert not any(action.endswith("Response") for action in actions)
    assert len(actions) == 39
    assert all(f"{action}Response" in SCHEMA_NAMES for action in actions)


@pytest.mark.parametrize(
    "bad_schema",
    [
        {"type": "integer", "minimum": 0, "exclusiveMinimum": True},
        {"type": "integer", "exclusiveMaximum": 9},
        {"type": "string", "minLength": 1},
        {"type": "array", "uniqueItems": True},
        {"type": "object", "javaEnum": "x"},
        {"type": "object", "properties": {"a": {"type": "string", "pattern": "x"}}},
        {"type": "string", "format": "email"},
        {"$ref": "other.json#/definitions/x"},
        {"type": "decimal"},
        {"type": "array", "items": [{"type": "string"}]},
        {"enum": [1, 2]},
        # An unused definition is vetted too.
        {"type": "object", "definitions": {"Unused": {"type": "integer", "multipleOf": True}}},
    ],
)
def test_unknown_keywords_fail_at_load(bad_schema: dict[str, Any]) -> None:
    compiler = schema_module._SchemaCompiler("Test", bad_schema)
    with pytest.raises(SchemaDefinitionError):
        compiler.compile(bad_schema, "#")


def compile_schema(document: dict[str, Any]) -> Any:
    return schema_module._SchemaCompiler("Test", document).compile(document, "#")


def test_a_list_of_types_and_a_recursive_reference() -> None:
    # Not used by the 1.6 files today, but part of the subset a new file may use.
    check = compile_schema(
        {
            "definitions": {
                "Node": {
                    "type": "object",
                    "properties": {
                        "name": {"type": ["string", "null"]},
                        "child": {"$ref": "#/definitions/Node"},
                    },
                    "additionalProperties": False,
                }
            },
            "$ref": "#/definitions/Node",
        }
    )
    problems: list[str] = []
    check({"name": None, "child": {"name": "a", "child": {"name": 1.5}}}, "payload", problems)
    assert problems == ["child.child.name: 1.5 is not of type 'string' or 'null'"]


def test_action_that_is_no_schema_file() -> None:
    assert schema_problems("Frobnicate", {}, response=False) == [
        "no official OCPP 1.6 schema for action 'Frobnicate'"
    ]
    # The action comes from the station: it never names a path outside the folder.
    assert schema_problems("../v16/Heartbeat", {}, response=False) != []


# --- agreement with jsonschema --------------------------------------------------------------


@pytest.mark.parametrize("name", SCHEMA_NAMES)
@EXAMPLES
@given(data=st.data())
def test_valid_payloads_are_valid_for_both(name: str, data: st.DataObject) -> None:
    document = schema_document(VENDORED, name)
    payload = data.draw(payloads(document, sloppy=False))
    action, is_response = name.removesuffix("Response"), name.endswith("Response")
    assert reference_validator(VENDORED, name).is_valid(as_decimal(payload))
    assert schema_problems(action, payload, response=is_response) == []
    assert schema_problems(action, as_decimal(payload), response=is_response) == []


@pytest.mark.parametrize("name", SCHEMA_NAMES)
@settings(EXAMPLES, max_examples=16)
@given(data=st.data())
def test_sloppy_payloads_get_the_same_verdict(name: str, data: st.DataObject) -> None:
    document = schema_document(VENDORED, name)
    payload = data.draw(payloads(document, sloppy=True))
    action, is_response = name.removesuffix("Response"), name.endswith("Response")
    expected_valid = reference_validator(VENDORED, name).is_valid(as_decimal(payload))
    problems = schema_problems(action, payload, response=is_response)
    assert (problems == []) == expected_valid, (payload, problems)
    decimal_problems = schema_problems(action, as_decimal(payload), response=is_response)
    assert (decimal_problems == []) == expected_valid, (payload, decimal_problems)


@given(text=VALID_DATE_TIMES | BAD_DATE_TIMES | st.text(alphabet="0123456789-:T.Z+ ", max_size=30))
@settings(max_examples=200, deadline=None)
def test_date_time_rule_matches_the_reference(text: str) -> None:
    assert schema_module._is_date_time(text) == reference_date_time(text)


# --- readable problems ----------------------------------------------------------------------


def status_notification(**changes: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "connectorId": 1,
        "errorCode": "NoError",
        "status": "Reserved",
        "timestamp": "2026-11-25T15:00:00Z",
    }
    payload.update(changes)
    return {key: value for key, value in payload.items() if value is not None}


@pytest.mark.parametrize(
    ("payload", "problem"),
    [
        (status_notification(connectorId=True), "connectorId: True is not of type 'integer'"),
        (status_notification(connectorId=1.0), "connectorId: 1.0 is not of type 'integer'"),
        (status_notification(status=None), "status: missing (required)"),
        (status_notification(status="Foo"), "status: 'Foo' is not one of ['Available', "),
        (status_notification(info="x" * 51), "info: 'xxxxx"),
        (status_notification(info="x" * 51), "has 51 characters, more than 50"),
        (status_notification(colour=1), "colour: not allowed"),
        (
            status_notification(timestamp="2026-11-25 15:00:00"),
            "timestamp: '2026-11-25 15:00:00' is not an RFC 3339 date-time",
        ),
    ],
)
def test_problems_name_the_path_and_the_rule(payload: dict[str, Any], problem: str) -> None:
    problems = schema_problems("StatusNotification", payload, response=False)
    assert len(problems) == 1
    assert problem in problems[0]


def test_nested_paths() -> None:
    payload = {
        "connectorId": 1,
        "transactionId": 7,
        "meterValue": [
            {"timestamp": "2026-11-25T15:00:00Z", "sampledValue": [{"value": "1"}]},
            {"timestamp": "2026-11-25T15:00:00Z", "sampledValue": [{"value": 2}]},
        ],
    }
    assert schema_problems("MeterValues", payload, response=False) == [
        "meterValue[1].sampledValue[0].value: 2 is not of type 'string'"
    ]
    assert schema_problems("MeterValues", [], response=False) == [
        "payload: [] is not of type 'object'"
    ]
    assert schema_problems("Heartbeat", {"a b": 1}, response=False) == [
        '["a b"]: not allowed (the schema has no such property)'
    ]


def test_multiple_of_is_decided_on_the_decimal_value() -> None:
    def profile(limit: object) -> dict[str, Any]:
        return {
            "connectorId": 1,
            "csChargingProfiles": {
                "chargingProfileId": 1,
                "stackLevel": 0,
                "chargingProfilePurpose": "TxDefaultProfile",
                "chargingProfileKind": "Absolute",
                "chargingSchedule": {
                    "chargingRateUnit": "A",
                    "chargingSchedulePeriod": [{"startPeriod": 0, "limit": limit}],
                },
            },
        }

    for good in (21.4, 0.3, 16, Decimal("21.40"), 1e300):
        assert schema_problems("SetChargingProfile", profile(good), response=False) == []
    for bad in (21.45, 0.1 + 0.2, Decimal("0.05"), float("inf")):
        problems = schema_problems("SetChargingProfile", profile(bad), response=False)
        assert len(problems) == 1
        assert "is not a multiple of 0.1" in problems[0]


# --- raw frames from a station --------------------------------------------------------------


def call(
    payload: object, message_id: object = "19223201", action: str = "StatusNotification"
) -> str:
    return json.dumps([2, message_id, action, payload])


def test_valid_status_notification_call() -> None:
    assert station_frame_problems(call(status_notification())) == []


def test_status_with_trailing_space_is_refused() -> None:
    problems = station_frame_problems(call(status_notification(status="Reserved ")))
    assert len(problems) == 1
    assert problems[0].startswith("status: 'Reserved ' is not one of")


def test_call_result_checked_against_the_answered_action() -> None:
    frame = json.dumps([3, "19223201", {"status": "Acepted"}])
    problems = station_frame_problems(frame, answered_action="ReserveNow")
    assert len(problems) == 1
    assert problems[0].startswith("status: 'Acepted' is not one of ['Accepted', ")
    good = json.dumps([3, "19223201", {"status": "Accepted"}])
    assert station_frame_problems(good, answered_action="ReserveNow") == []
    assert station_frame_problems(good, answered_action="CancelReservation") == []
    assert station_frame_problems(good, answered_action="Heartbeat") == [
        "currentTime: missing (required)",
        "status: not allowed (the schema has no such property)",
    ]


def test_call_result_without_the_answered_action() -> None:
    frame = json.dumps([3, "19223201", {"status": "Accepted"}])
    assert station_frame_problems(frame) == ["frame: cannot tell which call this answers"]


def test_numbers_in_frames_are_read_as_written() -> None:
    # 1.0 is no integer (draft 4), 21.4 is a multiple of 0.1 (no binary rounding).
    assert station_frame_problems(
        '[3, "1", {"status": "Accepted", "schedule": {"duration": 1.0}}]', "GetCompositeSchedule"
    )
    period = '{"startPeriod": 0, "limit": 21.4}'
    frame = (
        '[3, "1", {"status": "Accepted", "connectorId": 1, "chargingSchedule": '
        f'{{"chargingRateUnit": "W", "chargingSchedulePeriod": [{period}]}}}}]'
    )
    assert station_frame_problems(frame, "GetCompositeSchedule") == []
    assert station_frame_problems(
        frame.replace("21.4", "21.40000000000000001"), "GetCompositeSchedule"
    )


@pytest.mark.parametrize(
    "frame",
    [
        '[4, "19223201", "OccurenceConstraintViolation", "idTag missing", {}]',
        '[4, "19223201", "OccurrenceConstraintViolation", "", {"field": "idTag"}]',
        '[4, "19223201", "FormatViolation", "", {}]',
        '[4, "19223201", "NotImplemented", "", {}]',
    ],
)
def test_good_call_errors(frame: str) -> None:
    assert station_frame_problems(frame) == []


@pytest.mark.parametrize(
    ("frame", "problem"),
    [
        (
            '[4, "1", "NotAnErrorCode", "", {}]',
            "error code 'NotAnErrorCode' is not an OCPP 1.6 error code",
        ),
        ('[4, "1", 42, "", {}]', "error code 42 is not a string"),
        ('[4, "1", "GenericError", null, {}]', "error description None is not a string"),
        ('[4, "1", "GenericError", "", []]', "error details [] is not an object"),
        ('[4, "1", "GenericError", ""]', "4 elements, a [4, id, code, description, details] has 5"),
        ('[4, 1, "GenericError", "", {}]', "message id 1 is not a string"),
    ],
)
def test_broken_call_errors(frame: str, problem: str) -> None:
    problems = station_frame_problems(frame)
    assert len(problems) == 1
    assert problems[0] == f"frame: {problem}"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("hello", "frame: not JSON"),
        ('[2, "1", "Heartbeat", {}', "frame: not JSON"),
        ('[2, "1", "Heartbeat", {"x": NaN}]', "frame: not JSON (NaN is not a JSON value)"),
        ('{"a": 1}', "frame: a JSON object, not an array"),
        ("[]", "frame: an empty array"),
        ('[5, "1", {}]', "frame: unknown message type 5"),
        ('[true, "1", {}]', "frame: unknown message type True"),
        ('[2.0, "1", "Heartbeat", {}]', "frame: unknown message type 2.0"),
        ('[2, "1", "Heartbeat"]', "frame: 3 elements, a [2, id, action, payload] has 4"),
        ('[2, "1", 7, {}]', "frame: action 7 is not a string"),
        ('[2, "1", "Teleport", {}]', "no official OCPP 1.6 schema for action 'Teleport'"),
    ],
)
def test_broken_frames(text: str, problem: str) -> None:
    problems = station_frame_problems(text)
    assert problems
    assert problems[0].startswith(problem)


def test_message_id_longer_than_36_characters() -> None:
    assert station_frame_problems(call({}, message_id="x" * 36, action="Heartbeat")) == []
    problems = station_frame_problems(call({}, message_id="x" * 37, action="Heartbeat"))
    assert problems == [
        f"frame: message id {'x' * 37!r} is 37 characters long, longer than 36",
    ]


def test_frame_problems_keep_payload_problems_too() -> None:
    problems = station_frame_problems(call({"colour": 1}, message_id=7))
    assert problems[0] == "frame: message id 7 is not a string"
    assert "connectorId: missing (required)" in problems
