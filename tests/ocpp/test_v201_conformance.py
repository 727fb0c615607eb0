"""Our OCPP 2.0.1 payload models against the official 2.0.1 JSON schemas (shipped in ``ocpp``).

Both directions, for every request and response model in the 2.0.1 ``FEATURES``:

* the models' fields are the schemas' properties, with the same required sets, at every level
  (through ``$ref``), and only ``customData`` is open to further properties;
* generated valid instances dump to payloads the official schema accepts, that our own
  validator accepts, and that read back to the same payload;
* payloads the schema rejects (mutations of valid ones: a required field dropped, a wrong JSON
  type, a string one character too long, an unknown enum value, an unknown property, a list
  too short or too long, an integer past its bound) are rejected by our model.

Stricter than the schemas on purpose (not checked in that direction): EVSE and connector
numbers are never negative, and integers stay within 64 bits.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft4Validator
from pydantic import BaseModel, ValidationError

from console.ocpp.base import OcppModel
from console.ocpp.feature_table import Role
from console.ocpp.frames import Call, serialize_frame
from console.ocpp.schema import schema_problems
from console.ocpp.session import Session
from console.ocpp.v201 import device_model, messages, reservation
from console.ocpp.v201.enums import ConnectorType, IdTokenType, ReserveNowStatus
from console.ocpp.v201.features import FEATURES, KNOWN_ACTIONS, TABLE
from console.ocpp.v201.types import EVSE, CustomData, IdToken, StatusInfo
from console.ocpp.versions import OcppVersion
from tests.ocpp import model_payloads
from tests.ocpp.model_payloads import (
    accepted_schema_rejections,
    as_decimal_json,
    check_fields,
    model_strategy,
    nested_model,
)

V201_SCHEMAS = Path(str(resources.files("ocpp"))) / "v201" / "schemas"
EXAMPLES = settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
EXPIRY = datetime(2026, 11, 25, 14, 30, tzinfo=UTC)


def schema_text(name: str) -> str:
    return model_payloads.schema_text(V201_SCHEMAS, name)


def validator(name: str) -> Draft4Validator:
    return model_payloads.validator(V201_SCHEMAS, name)


MODELS = [
    pytest.param(feature.request, f"{action}Request", id=f"{action}.req")
    for action, feature in FEATURES.items()
] + [
    pytest.param(feature.confirmation, f"{action}Response", id=f"{action}.conf")
    for action, feature in FEATURES.items()
]

COMMISSIONING = {
    "BootNotification",
    "Heartbeat",
    "StatusNotification",
    "NotifyEvent",
    "Authorize",
    "TransactionEvent",
    "MeterValues",
    "ReserveNow",
    "CancelReservation",
    "ReservationStatusUpdate",
    "GetVariables",
    "SetVariables",
    "GetBaseReport",
    "NotifyReport",
    "ChangeAvailability",
    "TriggerMessage",
    "RequestStartTransaction",
    "RequestStopTransaction",
    "DataTransfer",
    "SecurityEventNotification",
}


# --- the table ------------------------------------------------------------------------------


def test_every_message_of_commissioning_is_modeled() -> None:
    assert set(FEATURES) == COMMISSIONING
    assert TABLE.features is FEATURES


def test_every_known_action_is_a_2_0_1_action_with_both_schemas() -> None:
    upstream = {path.stem.removesuffix("Request") for path in V201_SCHEMAS.glob("*Request.json")}
    assert set(KNOWN_ACTIONS) == upstream
    for action in KNOWN_ACTIONS:
        for name in (f"{action}Request", f"{action}Response"):
            assert json.loads(schema_text(name))["type"] == "object", name


@pytest.mark.parametrize(
    ("action", "receivers"),
    [
        ("BootNotification", {Role.CENTRAL_SYSTEM}),
        ("ReservationStatusUpdate", {Role.CENTRAL_SYSTEM}),
        ("NotifyReport", {Role.CENTRAL_SYSTEM}),
        ("ReserveNow", {Role.CHARGE_POINT}),
        ("GetVariables", {Role.CHARGE_POINT}),
        ("RequestStartTransaction", {Role.CHARGE_POINT}),
        ("DataTransfer", {Role.CENTRAL_SYSTEM, Role.CHARGE_POINT}),
        ("SignCertificate", {Role.CENTRAL_SYSTEM}),
        ("Reset", {Role.CHARGE_POINT}),
    ],
)
def test_who_receives_what(action: str, receivers: set[Role]) -> None:
    assert KNOWN_ACTIONS[action] == receivers


def all_models() -> set[type[OcppModel]]:
    found: set[type[OcppModel]] = set()

    def walk(model: type[OcppModel]) -> None:
        if model in found:
            return
        found.add(model)
        for field in model.model_fields.values():
            inner = nested_model(field.annotation)
            if inner is not None:
                walk(inner)

    for feature in FEATURES.values():
        walk(feature.request)
        walk(feature.confirmation)
    return found


@pytest.mark.parametrize("action", sorted(FEATURES))
def test_each_model_names_its_feature(action: str) -> None:
    feature = FEATURES[action]
    assert feature.request.feature_name == action
    assert feature.confirmation.feature_name == action
    assert feature.request.__name__ == f"{action}Request"
    assert feature.confirmation.__name__ == f"{action}Response"


def test_every_model_is_frozen_and_closed_but_custom_data() -> None:
    models = all_models()
    assert {IdToken, EVSE, StatusInfo, CustomData} <= models
    for model in models:
        assert issubclass(model, BaseModel)
        assert model.model_config.get("frozen") is True, model
        assert model.model_config.get("extra") == ("allow" if model is CustomData else "forbid")
        assert model.__doc__, model


# --- valid instances -> payloads the schema accepts -----------------------------------------


@pytest.mark.parametrize(("model", "schema_name"), MODELS)
def test_model_fields_are_the_schema_properties(model: type[OcppModel], schema_name: str) -> None:
    check_fields(model, json.loads(schema_text(schema_name)), schema_name)


@pytest.mark.parametrize(("model", "schema_name"), MODELS)
@EXAMPLES
@given(data=st.data())
def test_generated_instances_validate_against_the_official_schema(
    model: type[OcppModel], schema_name: str, data: st.DataObject
) -> None:
    instance = data.draw(model_strategy(model))
    payload = instance.to_payload()
    errors = [e.message for e in validator(schema_name).iter_errors(as_decimal_json(payload))]
    assert errors == [], payload
    # Our own validator agrees.
    response = schema_name.endswith("Response")
    action = model.feature_name
    assert schema_problems(action, payload, response=response, version=OcppVersion.V201) == []
    # The payload reads back into the same payload (dates lose only their fraction).
    assert model.model_validate(json.loads(json.dumps(payload))).to_payload() == payload


# --- payloads the schema rejects are rejected by our models -------------------------------


@pytest.mark.parametrize(("model", "schema_name"), MODELS)
@EXAMPLES
@given(data=st.data())
def test_payloads_the_schema_rejects_are_rejected(
    model: type[OcppModel], schema_name: str, data: st.DataObject
) -> None:
    payload = json.loads(json.dumps(data.draw(model_strategy(model)).to_payload()))
    checked, accepted = accepted_schema_rejections(model, payload, validator(schema_name))
    assert accepted == []
    assert checked > 0  # at least the unknown property


def test_null_for_an_optional_property_reads_as_absent() -> None:
    # As in 1.6: stations send null for "not set"; refusing the message would help nobody.
    response = reservation.ReserveNowResponse.model_validate(
        {"status": "Accepted", "statusInfo": None}
    )
    assert response.status_info is None
    assert response.to_payload() == {"status": "Accepted"}
    with pytest.raises(ValidationError):
        reservation.ReserveNowResponse.model_validate({"status": None})


# --- the models, by example ------------------------------------------------------------------


def test_the_reserve_now_call_serializes_exactly() -> None:
    request = reservation.ReserveNowRequest(
        id=42,
        expiry_date_time=EXPIRY,
        connector_type=ConnectorType.C_CCS2,
        id_token=IdToken(id_token="12345", type=IdTokenType.ISO14443),
        evse_id=1,
        group_id_token=IdToken(id_token="00000", type=IdTokenType.CENTRAL),
    )
    expected = (
        '[2,"1234","ReserveNow",{"id":42,"expiryDateTime":"2026-11-25T14:30:00Z",'
        '"connectorType":"cCCS2","idToken":{"idToken":"12345","type":"ISO14443"},'
        '"evseId":1,"groupIdToken":{"idToken":"00000","type":"Central"}}]'
    )
    assert serialize_frame(Call("1234", "ReserveNow", request.to_payload())) == expected
    # And the same through a 2.0.1 session, the way the Central System sends it.
    session = Session(Role.CENTRAL_SYSTEM, version=OcppVersion.V201, id_factory=lambda: "1234")
    session.call(request, now=0.0)
    [frame] = session.data_to_send()
    assert frame.text == expected
    assert reservation.ReserveNowRequest.model_validate(json.loads(expected)[3]) == request


def test_the_smallest_reserve_now_and_its_answer_with_status_info() -> None:
    request = reservation.ReserveNowRequest.model_validate(
        {
            "id": 7,
            "expiryDateTime": "2026-11-25T16:30:00+02:00",
            "idToken": {"idToken": "AB12", "type": "KeyCode"},
        }
    )
    assert request.evse_id is None  # any EVSE
    assert request.expiry_date_time == EXPIRY
    assert request.to_payload() == {
        "id": 7,
        "expiryDateTime": "2026-11-25T14:30:00Z",
        "idToken": {"idToken": "AB12", "type": "KeyCode"},
    }
    answer = reservation.ReserveNowResponse.model_validate(
        {"status": "Rejected", "statusInfo": {"reasonCode": "NoEVSE", "additionalInfo": "busy"}}
    )
    assert answer.status is ReserveNowStatus.REJECTED
    assert answer.status_info == StatusInfo(reason_code="NoEVSE", additional_info="busy")


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param({"idToken": {"idToken": "A"}}, id="idToken without type"),
        pytest.param({"idToken": {"idToken": "x" * 37, "type": "Local"}}, id="idToken of 37"),
        pytest.param({"idToken": {"idToken": "A", "type": "RFID"}}, id="unknown token type"),
        pytest.param({"evseId": -1}, id="negative evseId"),
        pytest.param({"evseId": 1.0}, id="evseId as float"),
        pytest.param({"connectorType": "CCS2"}, id="connector type misspelled"),
        pytest.param({"reservationId": 7}, id="the 1.6 name of the id"),
    ],
)
def test_broken_reserve_now_is_refused(payload: dict[str, Any]) -> None:
    base = {
        "id": 7,
        "expiryDateTime": "2026-11-25T14:30:00Z",
        "idToken": {"idToken": "A", "type": "Local"},
    }
    with pytest.raises(ValidationError):
        reservation.ReserveNowRequest.model_validate({**base, **payload})


def test_an_empty_id_token_is_valid() -> None:
    # NoAuthorization tokens are empty: 2.0.1 has no lower bound (1.6 idTags have one).
    token = IdToken.model_validate({"idToken": "", "type": "NoAuthorization"})
    assert token.id_token == ""


def test_id_tokens_match_by_type_and_value_ignoring_case() -> None:
    card = IdToken(id_token="AbC123", type=IdTokenType.ISO14443)
    assert card.matches(IdToken(id_token="abc123", type=IdTokenType.ISO14443))
    assert not card.matches(IdToken(id_token="abc123", type=IdTokenType.ISO15693))
    assert not card.matches(IdToken(id_token="abc124", type=IdTokenType.ISO14443))
    assert not card.matches(None)


def test_custom_data_keeps_the_vendors_own_properties() -> None:
    payload = {
        "id": 1,
        "customData": {"vendorId": "com.example", "colour": "red", "note": None, "n": [1, 2]},
    }
    evse = EVSE.model_validate(payload)
    assert evse.custom_data is not None
    assert evse.custom_data.vendor_id == "com.example"
    assert evse.to_payload() == payload
    with pytest.raises(ValidationError):
        EVSE.model_validate({"id": 1, "customData": {"colour": "red"}})


def test_data_transfer_data_is_any_json_value() -> None:
    for data in ("text", 5, 2.5, True, [1, "a"], {"k": {"j": [None]}}):
        request = messages.DataTransferRequest.model_validate({"vendorId": "V", "data": data})
        assert request.to_payload() == {"vendorId": "V", "data": data}


def test_a_notify_event_of_a_reserved_connector() -> None:
    payload = {
        "generatedAt": "2026-11-25T14:00:00Z",
        "seqNo": 0,
        "eventData": [
            {
                "eventId": 1,
                "timestamp": "2026-11-25T14:00:00Z",
                "trigger": "Delta",
                "actualValue": "Reserved",
                "eventNotificationType": "HardWiredNotification",
                "component": {"name": "Connector", "evse": {"id": 1, "connectorId": 2}},
                "variable": {"name": "AvailabilityState"},
            }
        ],
    }
    event = device_model.NotifyEventRequest.model_validate(payload)
    [data] = event.event_data
    assert data.component.evse == EVSE(id=1, connector_id=2)
    assert (data.variable.name, data.actual_value) == ("AvailabilityState", "Reserved")
    assert event.to_payload() == payload
