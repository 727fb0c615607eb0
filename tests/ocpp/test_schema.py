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
import re
from datetime import datetime
from decimal import Decimal
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft4Validator, FormatChecker

from console.ocpp import schema as schema_module
from console.ocpp.schema import (
    SchemaDefinitionError,
    available_actions,
    schema_problems,
    station_frame_problems,
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
    check = schema_module._compiled(name)
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
        {"type": "integer", "minimum": 0},
        {"type": "object", "properties": {"a": {"type": "string", "pattern": "x"}}},
        {"type": "string", "format": "email"},
        {"$ref": "other.json#/definitions/x"},
        {"type": "decimal"},
        {"type": "array", "items": [{"type": "string"}]},
        {"enum": [1, 2]},
        # An unused definition is vetted too.
        {"type": "object", "definitions": {"Unused": {"type": "integer", "maximum": 9}}},
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

REFERENCE_DATE_TIME = re.compile(
    r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)", re.ASCII
)


def reference_date_time(value: object) -> bool:
    """RFC 3339 date-time, as jsonschema checks it with rfc3339-validator (independent code)."""
    if not isinstance(value, str):
        return True
    match = REFERENCE_DATE_TIME.fullmatch(value.upper())
    if match is None:
        return False
    try:
        # strptime refuses year 0, day 31 of a 30-day month, hour 24 and second 60.
        datetime.strptime(match[1], "%Y-%m-%dT%H:%M:%S")
    except ValueError:
        return False
    offset = match[3]
    return offset == "Z" or (int(offset[1:3]) <= 23 and int(offset[4:6]) <= 59)


def schema_document(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(
        (VENDORED / f"{name}.json").read_text(encoding="utf-8-sig"), parse_float=Decimal
    )
    return document


@cache
def reference_validator(name: str) -> Draft4Validator:
    checker = FormatChecker(formats=())
    checker.checks("date-time")(reference_date_time)
    document = schema_document(name)
    Draft4Validator.check_schema(document)
    return Draft4Validator(document, format_checker=checker)


def as_decimal(value: Any) -> Any:
    """The value as a JSON reader with parse_float=Decimal would give it."""
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, dict):
        return {key: as_decimal(member) for key, member in value.items()}
    if isinstance(value, list):
        return [as_decimal(member) for member in value]
    return value


def resolve(document: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        target: Any = document
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


VALID_DATE_TIMES = st.builds(
    lambda moment, fraction, offset: moment.isoformat(timespec="seconds") + fraction + offset,
    st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31)),
    st.sampled_from(["", ".0", ".123", ".123456789"]),
    st.sampled_from(["Z", "z", "+00:00", "-05:30", "+23:59"]),
)
BAD_DATE_TIMES = st.sampled_from(
    [
        "2024-01-01T00:00:00",
        "2024-01-01 00:00:00Z",
        "2024-02-30T00:00:00Z",
        "2023-02-29T00:00:00Z",
        "2024-02-29T24:00:00Z",
        "2024-01-01T23:59:60Z",
        "2024-13-01T00:00:00Z",
        "0000-01-01T00:00:00Z",
        "2024-01-01T00:00:00+24:00",
        "2024-01-01T00:00:00+0100",
        "2024-01-01T00:00:00.Z",
        "2024-01-01T00:00Z",
        "24-01-01T00:00:00Z",
        "2024-01-01T00:00:00Z ",
        "2024-01-01T00:00:00Z\n",
        "\uff12024-01-01T00:00:00Z",
        "",
    ]
)
ANY_JUNK = st.one_of(
    st.sampled_from(
        [None, True, False, 0, 1, -1, 1.0, -0.0, 2.5, 1e20, Decimal("1.0"), "", [], {}, [1]]
    ),
    st.integers(),
    st.floats(min_value=-1e9, max_value=1e9),
    st.text(max_size=5),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)


def payloads(document: dict[str, Any], *, sloppy: bool) -> st.SearchStrategy[Any]:
    """Payloads from a schema: valid ones, or (sloppy) each value sometimes made wrong."""

    def build(node: dict[str, Any]) -> st.SearchStrategy[Any]:
        node = resolve(document, node)
        valid, wrong = of_type(node)
        if not sloppy:
            return valid
        return st.integers(0, 9).flatmap(
            lambda pick: st.one_of(wrong, ANY_JUNK) if pick == 0 else valid
        )

    def of_type(node: dict[str, Any]) -> tuple[st.SearchStrategy[Any], st.SearchStrategy[Any]]:
        kind = node.get("type")
        if isinstance(kind, list):
            kind = kind[0]
        if kind == "object" or "properties" in node:
            return objects(node)
        if kind == "array":
            item = build(node.get("items", {}))
            minimum = node.get("minItems", 0)
            return (
                st.lists(item, min_size=minimum, max_size=minimum + 2),
                st.lists(item, max_size=max(minimum - 1, 0)),
            )
        if "enum" in node:
            members = node["enum"]
            return st.sampled_from(members), st.sampled_from(members).flatmap(
                lambda member: st.sampled_from(
                    [member + " ", member.lower(), member.upper(), member[:-1]]
                )
            )
        if kind == "string":
            if node.get("format") == "date-time":
                return VALID_DATE_TIMES, BAD_DATE_TIMES
            limit = node.get("maxLength", 30)
            # At the limit and one past it by repetition: hypothesis draws no 10,000 chars.
            return (
                st.text(max_size=min(limit, 40)) | st.characters().map(lambda c: c * limit),
                st.characters().map(lambda c: c * (limit + 1)),
            )
        if kind == "integer":
            return (
                st.integers(min_value=-(2**40), max_value=2**40),
                st.sampled_from([True, False, 1.0, 0.0, 3.0, Decimal("1"), Decimal("1.0"), 1.5]),
            )
        if kind == "number":
            tenths = st.integers(-(10**6), 10**6)
            return (
                tenths.map(lambda n: n / 10) | tenths | tenths.map(lambda n: Decimal(n) / 10),
                st.sampled_from([21.45, 0.30000000000000004, 0.01, -0.05, True, "1.0"])
                | st.floats(-1e6, 1e6)
                | tenths.map(lambda n: Decimal(n) / 100),
            )
        if kind == "boolean":
            return st.booleans(), st.sampled_from([0, 1, "true", None])
        return ANY_JUNK, ANY_JUNK

    def objects(node: dict[str, Any]) -> tuple[st.SearchStrategy[Any], st.SearchStrategy[Any]]:
        properties = node.get("properties", {})
        required = [name for name in node.get("required", []) if name in properties]
        optional = {name: build(sub) for name, sub in properties.items() if name not in required}
        valid = st.fixed_dictionaries(
            {name: build(properties[name]) for name in required}, optional=optional
        )
        if not sloppy:
            return valid, valid
        wrong_shape = st.one_of(
            # A required property dropped.
            valid.flatmap(
                lambda payload: st.sampled_from(required or [None]).map(
                    lambda name: {k: v for k, v in payload.items() if k != name}
                )
            ),
            # A property the schema does not have (or a near-miss spelling of one).
            st.tuples(valid, st.sampled_from([*properties, "extra"]), ANY_JUNK).map(
                lambda parts: {**parts[0], parts[1] + "X": parts[2]}
            ),
            ANY_JUNK,
        )
        return valid, wrong_shape

    return build(document)


@pytest.mark.parametrize("name", SCHEMA_NAMES)
@EXAMPLES
@given(data=st.data())
def test_valid_payloads_are_valid_for_both(name: str, data: st.DataObject) -> None:
    document = schema_document(name)
    payload = data.draw(payloads(document, sloppy=False))
    action, is_response = name.removesuffix("Response"), name.endswith("Response")
    assert reference_validator(name).is_valid(as_decimal(payload))
    assert schema_problems(action, payload, response=is_response) == []
    assert schema_problems(action, as_decimal(payload), response=is_response) == []


@pytest.mark.parametrize("name", SCHEMA_NAMES)
@settings(EXAMPLES, max_examples=16)
@given(data=st.data())
def test_sloppy_payloads_get_the_same_verdict(name: str, data: st.DataObject) -> None:
    document = schema_document(name)
    payload = data.draw(payloads(document, sloppy=True))
    action, is_response = name.removesuffix("Response"), name.endswith("Response")
    expected_valid = reference_validator(name).is_valid(as_decimal(payload))
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
