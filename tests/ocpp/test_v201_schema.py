"""The vendored official OCPP 2.0.1 schemas and our validator of station frames against them.

* The files in ``console/ocpp/schemas/v201`` are the ``ocpp`` package's, byte for byte.
* Every keyword they use is implemented (loading all 128 works), and no more than they use:
  ``javaEnum`` or ``exclusiveMinimum`` still fail at load (``test_schema.py``).
* Our verdict agrees with ``jsonschema.Draft4Validator`` (what the ``ocpp`` package validates
  2.0.1 with) on payloads generated from every 2.0.1 schema, valid ones and sloppy ones (the
  generators of ``schema_payloads.py``, with integers past ``minimum``/``maximum`` and lists
  past ``maxItems``), date-time included.
* Raw 2.0.1 frames: CALL, CALLRESULT and CALLERROR, the 2.0.1 error codes included.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from console.ocpp import schema as schema_module
from console.ocpp.schema import available_actions, schema_problems, station_frame_problems
from console.ocpp.v201.features import KNOWN_ACTIONS
from console.ocpp.versions import OcppVersion
from tests.ocpp.schema_payloads import (
    as_decimal,
    payloads,
    reference_validator,
    schema_document,
)

V201 = OcppVersion.V201
VENDORED = Path(str(resources.files("console.ocpp"))) / "schemas" / "v201"
UPSTREAM = Path(str(resources.files("ocpp"))) / "v201" / "schemas"
SCHEMA_NAMES = sorted(path.stem for path in VENDORED.glob("*.json"))

EXAMPLES = settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def split(name: str) -> tuple[str, bool]:
    """``ReserveNowRequest`` -> ("ReserveNow", False); ``ReserveNowResponse`` -> (.., True)."""
    if name.endswith("Response"):
        return name.removesuffix("Response"), True
    return name.removesuffix("Request"), False


# --- the vendored files ---------------------------------------------------------------------


def test_vendored_folder_lists_the_same_files_as_the_ocpp_package() -> None:
    vendored = sorted(path.name for path in VENDORED.iterdir())
    upstream = sorted(path.name for path in UPSTREAM.iterdir() if path.suffix == ".json")
    assert vendored == upstream
    assert len(vendored) == 128


@pytest.mark.parametrize("name", SCHEMA_NAMES)
def test_vendored_file_is_byte_identical(name: str) -> None:
    file_name = f"{name}.json"
    assert (VENDORED / file_name).read_bytes() == (UPSTREAM / file_name).read_bytes()


@pytest.mark.parametrize("name", SCHEMA_NAMES)
def test_every_schema_loads(name: str) -> None:
    # Loading compiles every keyword of the file (also unused definitions).
    assert callable(schema_module._compiled("v201", name))


def keywords(node: Any, found: set[str]) -> set[str]:
    """Every keyword of a schema, walking subschemas only (not enum members or property names)."""
    if isinstance(node, dict):
        found.update(node)
        for name, member in node.items():
            if name in ("properties", "definitions"):
                for sub in member.values():
                    keywords(sub, found)
            elif name in ("items", "additionalItems", "additionalProperties"):
                keywords(member, found)
    return found


def test_the_keywords_the_files_use_are_the_ones_implemented() -> None:
    used: set[str] = set()
    for name in SCHEMA_NAMES:
        keywords(schema_document(VENDORED, name), used)
    assert {"maxItems", "minimum", "maximum", "comment", "javaType", "default"} <= used
    assert used <= schema_module._KEYWORDS | schema_module._ANNOTATIONS
    assert {schema_document(VENDORED, name)["$schema"] for name in SCHEMA_NAMES} == {
        "http://json-schema.org/draft-06/schema#"
    }


def test_available_actions_are_the_request_schemas_and_the_known_actions() -> None:
    actions = available_actions(V201)
    assert len(actions) == 64
    assert {"ReserveNow", "ReservationStatusUpdate", "TransactionEvent"} <= actions
    assert all(f"{action}Request" in SCHEMA_NAMES for action in actions)
    assert all(f"{action}Response" in SCHEMA_NAMES for action in actions)
    assert actions == set(KNOWN_ACTIONS)
    # The 1.6 default is untouched.
    assert "ReservationStatusUpdate" not in available_actions()


def test_action_that_is_no_schema_file() -> None:
    assert schema_problems("Frobnicate", {}, response=False, version=V201) == [
        "no official OCPP 2.0.1 schema for action 'Frobnicate'"
    ]
    assert schema_problems("Frobnicate", {}, response=True, version=V201) == [
        "no official OCPP 2.0.1 schema for action 'Frobnicate' (response)"
    ]
    # Actions are named without the file's suffix, and never name a path outside the folder.
    assert schema_problems("HeartbeatRequest", {}, response=False, version=V201) != []
    assert schema_problems("../v16/Heartbeat", {}, response=False, version=V201) != []
    assert schema_problems("Heartbeat", {}, response=False, version=V201) == []


# --- agreement with jsonschema --------------------------------------------------------------


@pytest.mark.parametrize("name", SCHEMA_NAMES)
@EXAMPLES
@given(data=st.data())
def test_valid_payloads_are_valid_for_both(name: str, data: st.DataObject) -> None:
    document = schema_document(VENDORED, name)
    payload = data.draw(payloads(document, sloppy=False))
    action, is_response = split(name)
    assert reference_validator(VENDORED, name).is_valid(as_decimal(payload))
    assert schema_problems(action, payload, response=is_response, version=V201) == []
    assert schema_problems(action, as_decimal(payload), response=is_response, version=V201) == []


@pytest.mark.parametrize("name", SCHEMA_NAMES)
@settings(EXAMPLES, max_examples=16)
@given(data=st.data())
def test_sloppy_payloads_get_the_same_verdict(name: str, data: st.DataObject) -> None:
    document = schema_document(VENDORED, name)
    payload = data.draw(payloads(document, sloppy=True))
    action, is_response = split(name)
    expected_valid = reference_validator(VENDORED, name).is_valid(as_decimal(payload))
    problems = schema_problems(action, payload, response=is_response, version=V201)
    assert (problems == []) == expected_valid, (payload, problems)
    decimal_problems = schema_problems(
        action, as_decimal(payload), response=is_response, version=V201
    )
    assert (decimal_problems == []) == expected_valid, (payload, decimal_problems)


# --- the 2.0.1 keywords, readably ------------------------------------------------------------


def charging_needs(state_of_charge: object) -> dict[str, Any]:
    return {
        "evseId": 1,
        "chargingNeeds": {
            "requestedEnergyTransfer": "DC",
            "dcChargingParameters": {
                "evMaxCurrent": 200,
                "evMaxVoltage": 800,
                "stateOfCharge": state_of_charge,
            },
        },
    }


@pytest.mark.parametrize("state_of_charge", [0, 55, 100])
def test_integers_within_their_bounds(state_of_charge: int) -> None:
    payload = charging_needs(state_of_charge)
    assert schema_problems("NotifyEVChargingNeeds", payload, response=False, version=V201) == []
    assert reference_validator(VENDORED, "NotifyEVChargingNeedsRequest").is_valid(payload)


@pytest.mark.parametrize(
    ("state_of_charge", "problem"),
    [
        (-1, "-1 is less than the minimum of 0.0"),
        (101, "101 is more than the maximum of 100.0"),
        (2**70, f"{2**70} is more than the maximum of 100.0"),
        # Draft 4, as the ocpp package validates: 50.0 is no integer (draft 6 would take it).
        (50.0, "50.0 is not of type 'integer'"),
    ],
)
def test_integers_past_their_bounds(state_of_charge: object, problem: str) -> None:
    payload = charging_needs(state_of_charge)
    assert schema_problems("NotifyEVChargingNeeds", payload, response=False, version=V201) == [
        f"chargingNeeds.dcChargingParameters.stateOfCharge: {problem}"
    ]
    assert not reference_validator(VENDORED, "NotifyEVChargingNeedsRequest").is_valid(payload)


def hash_data(count: int) -> dict[str, Any]:
    item = {
        "hashAlgorithm": "SHA256",
        "issuerNameHash": "a",
        "issuerKeyHash": "b",
        "serialNumber": "c",
        "responderURL": "http://ocsp.example",
    }
    return {
        "idToken": {"idToken": "A", "type": "eMAID"},
        "iso15118CertificateHashData": [item] * count,
    }


def test_lists_past_max_items() -> None:
    for count in (1, 4):
        assert schema_problems("Authorize", hash_data(count), response=False, version=V201) == []
    assert schema_problems("Authorize", hash_data(5), response=False, version=V201) == [
        "iso15118CertificateHashData: 5 items, more than 4"
    ]
    assert schema_problems("Authorize", hash_data(0), response=False, version=V201) == [
        "iso15118CertificateHashData: 0 item(s), fewer than 1"
    ]


def reserve_now(**changes: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "id": 42,
        "expiryDateTime": "2026-11-25T15:00:00Z",
        "idToken": {"idToken": "12345", "type": "ISO14443"},
        "evseId": 1,
    }
    payload.update(changes)
    return {key: value for key, value in payload.items() if value is not None}


@pytest.mark.parametrize(
    ("payload", "problem"),
    [
        (
            reserve_now(expiryDateTime="2026-11-25 15:00:00"),
            "expiryDateTime: '2026-11-25 15:00:00' is not an RFC 3339 date-time",
        ),
        (
            reserve_now(expiryDateTime="2026-02-30T15:00:00Z"),
            "expiryDateTime: '2026-02-30T15:00:00Z' is not an RFC 3339 date-time",
        ),
        (reserve_now(idToken={"idToken": "1"}), "idToken.type: missing (required)"),
        (
            reserve_now(idToken={"idToken": "x" * 37, "type": "ISO14443"}),
            "has 37 characters, more than 36",
        ),
        (reserve_now(connectorType="CCS2"), "connectorType: 'CCS2' is not one of ['cCCS1', "),
        (reserve_now(evseId=True), "evseId: True is not of type 'integer'"),
        (reserve_now(id=None), "id: missing (required)"),
        (reserve_now(connectorId=1), "connectorId: not allowed"),
    ],
)
def test_reserve_now_problems(payload: dict[str, Any], problem: str) -> None:
    problems = schema_problems("ReserveNow", payload, response=False, version=V201)
    assert len(problems) == 1, problems
    assert problem in problems[0]


def test_custom_data_is_open_but_its_vendor_id_is_checked() -> None:
    good = reserve_now(customData={"vendorId": "com.example", "anything": [1, {"x": None}]})
    assert schema_problems("ReserveNow", good, response=False, version=V201) == []
    bad = reserve_now(customData={"anything": 1})
    assert schema_problems("ReserveNow", bad, response=False, version=V201) == [
        "customData.vendorId: missing (required)"
    ]


# --- raw 2.0.1 frames from a station --------------------------------------------------------


def test_a_valid_call_and_its_schema_by_version() -> None:
    frame = json.dumps(
        [
            2,
            "19223201",
            "StatusNotification",
            {
                "timestamp": "2026-11-25T15:00:00Z",
                "connectorStatus": "Reserved",
                "evseId": 1,
                "connectorId": 1,
            },
        ]
    )
    assert station_frame_problems(frame, version=V201) == []
    # The same frame is no 1.6 StatusNotification.
    assert "connectorId: missing (required)" not in station_frame_problems(frame)
    assert station_frame_problems(frame) != []


def test_call_result_checked_against_the_answered_action() -> None:
    good = json.dumps(
        [3, "1", {"status": "Rejected", "statusInfo": {"reasonCode": "NoReservations"}}]
    )
    assert station_frame_problems(good, answered_action="ReserveNow", version=V201) == []
    bad = json.dumps([3, "1", {"status": "Accepted", "statusInfo": {"reasonCode": "x" * 21}}])
    [problem] = station_frame_problems(bad, answered_action="ReserveNow", version=V201)
    assert problem.startswith("statusInfo.reasonCode: ")
    # statusInfo is no 1.6 property.
    assert station_frame_problems(good, answered_action="ReserveNow") == [
        "statusInfo: not allowed (the schema has no such property)"
    ]


@pytest.mark.parametrize(
    "code",
    [
        "FormatViolation",
        "OccurrenceConstraintViolation",
        "FormationViolation",
        "OccurenceConstraintViolation",
        "RpcFrameworkError",
        "MessageTypeNotSupported",
        "NotImplemented",
        "SecurityError",
    ],
)
def test_2_0_1_call_error_codes(code: str) -> None:
    assert station_frame_problems(json.dumps([4, "1", code, "", {}]), version=V201) == []


@pytest.mark.parametrize("code", ["RpcFrameworkError", "MessageTypeNotSupported"])
def test_the_2_0_1_only_codes_are_no_1_6_codes(code: str) -> None:
    assert station_frame_problems(json.dumps([4, "1", code, "", {}])) == [
        f"frame: error code {code!r} is not an OCPP 1.6 error code"
    ]


def test_unknown_call_error_code_and_unknown_action() -> None:
    assert station_frame_problems('[4, "1", "Oops", "", {}]', version=V201) == [
        "frame: error code 'Oops' is not an OCPP 2.0.1 error code"
    ]
    assert station_frame_problems('[2, "1", "Teleport", {}]', version=V201) == [
        "no official OCPP 2.0.1 schema for action 'Teleport'"
    ]


def test_message_ids_up_to_36_characters() -> None:
    assert station_frame_problems(json.dumps([2, "x" * 36, "Heartbeat", {}]), version=V201) == []
    assert station_frame_problems(json.dumps([2, "x" * 37, "Heartbeat", {}]), version=V201) == [
        f"frame: message id {'x' * 37!r} is 37 characters long, longer than 36"
    ]
