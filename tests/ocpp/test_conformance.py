"""Our payload models against the official OCPP 1.6 JSON schemas (shipped in ``ocpp``).

Both directions, for every request and confirmation model in ``FEATURES``:

* generated valid instances dump to payloads the official schema accepts (and that
  read back to the same payload);
* payloads the schema rejects (mutations of valid ones: a required field dropped, a
  wrong JSON type, a string one character too long, an unknown enum value, an unknown
  property) are rejected by our model.

Our models are stricter in a few places on purpose (connectorId >= 0, idTag at least one
character, at least one sampled value); that direction is not checked.

The instance strategies are derived from the models' own field information (types,
lengths, bounds), so a model added to ``FEATURES`` is covered without a new strategy
(``model_payloads.py``, shared with the 2.0.1 models' test).
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft4Validator
from pydantic import ValidationError

from console.ocpp import messages
from console.ocpp.base import OcppModel
from console.ocpp.features import FEATURES, KNOWN_ACTIONS
from tests.ocpp import model_payloads
from tests.ocpp.model_payloads import (
    accepted_schema_rejections,
    as_decimal_json,
    check_fields,
    model_strategy,
)

V16_SCHEMAS = Path(str(resources.files("ocpp"))) / "v16" / "schemas"
EXAMPLES = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def schema_text(name: str) -> str:
    return model_payloads.schema_text(V16_SCHEMAS, name)


def validator(name: str) -> Draft4Validator:
    return model_payloads.validator(V16_SCHEMAS, name)


MODELS = [
    pytest.param(feature.request, action, id=f"{action}.req")
    for action, feature in FEATURES.items()
] + [
    pytest.param(feature.confirmation, f"{action}Response", id=f"{action}.conf")
    for action, feature in FEATURES.items()
]


# --- valid instances -> payloads the schema accepts -----------------------------------------


def test_every_feature_has_both_official_schemas() -> None:
    for action in FEATURES:
        for name in (action, f"{action}Response"):
            schema = json.loads(schema_text(name))
            assert schema["type"] == "object", name
    # And every action we know of is an OCPP 1.6 action the package has a schema for.
    for action in KNOWN_ACTIONS:
        assert json.loads(schema_text(action))["type"] == "object"


@pytest.mark.parametrize(("model", "schema_name"), MODELS)
def test_model_fields_are_the_schema_properties(model: type[OcppModel], schema_name: str) -> None:
    """Same property names and required sets, at every level of nesting."""
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
    # The schemas say "string", so null is strictly a type error; but stations send null
    # for "not set" often enough that refusing their whole message would help nobody.
    # A null for a required property is still refused (checked by the mutations above).
    boot = messages.BootNotificationRequest.model_validate(
        {"chargePointVendor": "V", "chargePointModel": "M", "firmwareVersion": None}
    )
    assert boot.firmware_version is None
    assert boot.to_payload() == {"chargePointVendor": "V", "chargePointModel": "M"}
    with pytest.raises(ValidationError):
        messages.BootNotificationRequest.model_validate(
            {"chargePointVendor": None, "chargePointModel": "M"}
        )


@pytest.mark.parametrize(
    ("model", "payload"),
    [
        pytest.param(
            messages.ChargingSchedulePeriod, {"startPeriod": 0, "limit": 6.05}, id="limit 6.05"
        ),
        pytest.param(
            messages.ChargingSchedule,
            {"chargingRateUnit": "A", "chargingSchedulePeriod": [], "minChargingRate": 0.25},
            id="minChargingRate 0.25",
        ),
    ],
)
def test_numbers_that_are_no_multiple_of_a_tenth_are_rejected(
    model: type[OcppModel], payload: dict[str, Any]
) -> None:
    with pytest.raises(ValidationError):
        model.model_validate(payload)


def test_a_huge_integral_limit_is_a_multiple_of_a_tenth() -> None:
    # Checked without dividing: 1e308 / 0.1 overflows a float (and a 28-digit Decimal).
    period = messages.ChargingSchedulePeriod.model_validate({"startPeriod": 0, "limit": 1e308})
    assert period.limit == 1e308


@pytest.mark.parametrize("limit", [float("inf"), float("-inf"), float("nan"), 1e-5, 0.05])
def test_limits_that_are_no_finite_multiple_of_a_tenth_are_rejected(limit: float) -> None:
    with pytest.raises(ValidationError):
        messages.ChargingSchedulePeriod.model_validate({"startPeriod": 0, "limit": limit})


@pytest.mark.parametrize(
    "limit", [0.1, 0.3, 6.1, 32.0, 16, -0.7, 1234.5, 123456789.3, -904599273901.7]
)
def test_multiples_of_a_tenth_are_accepted_despite_binary_rounding(limit: float) -> None:
    period = messages.ChargingSchedulePeriod.model_validate({"startPeriod": 0, "limit": limit})
    assert period.limit == limit
    assert validator("RemoteStartTransaction").is_valid(
        as_decimal_json(
            {
                "idTag": "A",
                "chargingProfile": {
                    "chargingProfileId": 1,
                    "stackLevel": 0,
                    "chargingProfilePurpose": "TxProfile",
                    "chargingProfileKind": "Absolute",
                    "chargingSchedule": {
                        "chargingRateUnit": "A",
                        "chargingSchedulePeriod": [period.to_payload()],
                    },
                },
            }
        )
    )
