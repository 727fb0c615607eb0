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
lengths, bounds), so a model added to ``FEATURES`` is covered without a new strategy.
"""

from __future__ import annotations

import copy
import json
import re
import types
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from enum import Enum
from functools import cache
from importlib import resources
from typing import Annotated, Any, Union, get_args, get_origin

import annotated_types
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft4Validator, FormatChecker
from pydantic import AfterValidator, StringConstraints, ValidationError
from pydantic.fields import FieldInfo

from console.ocpp import messages
from console.ocpp.base import OcppModel
from console.ocpp.enums import UnitOfMeasure
from console.ocpp.features import FEATURES, KNOWN_ACTIONS

WIRE_DATE = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
EXAMPLES = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# (model, field) -> enum values the official schema leaves out at that place.
SCHEMA_EXCLUDES: dict[tuple[type[OcppModel], str], frozenset[Enum]] = {
    (messages.TransactionSampledValue, "unit"): frozenset({UnitOfMeasure.HERTZ}),
}


# --- the official schemas -------------------------------------------------------------------


def schema_text(name: str) -> str:
    path = resources.files("ocpp") / "v16" / "schemas" / f"{name}.json"
    return path.read_text(encoding="utf-8-sig")


@cache
def validator(name: str) -> Draft4Validator:
    """The schema, numbers read as Decimal (as the ``ocpp`` package does for multipleOf)."""
    checker = FormatChecker()

    @checker.checks("date-time")
    def _wire_date(value: object) -> bool:
        # Stricter than RFC 3339: what we send is always UTC, whole seconds, with Z.
        return not isinstance(value, str) or WIRE_DATE.fullmatch(value) is not None

    schema = json.loads(schema_text(name), parse_float=Decimal)
    Draft4Validator.check_schema(schema)
    return Draft4Validator(schema, format_checker=checker)


def as_decimal_json(payload: dict[str, Any]) -> Any:
    # Through JSON text, exactly as a peer would read it; floats as Decimal so that
    # multipleOf 0.1 is checked without binary rounding.
    return json.loads(json.dumps(payload), parse_float=Decimal)


MODELS = [
    pytest.param(feature.request, action, id=f"{action}.req")
    for action, feature in FEATURES.items()
] + [
    pytest.param(feature.confirmation, f"{action}Response", id=f"{action}.conf")
    for action, feature in FEATURES.items()
]


# --- strategies from field information ------------------------------------------------------


def flatten(metadata: Any) -> Iterator[Any]:
    for item in metadata:
        if isinstance(item, FieldInfo):
            yield from flatten(item.metadata)
        elif isinstance(item, StringConstraints):
            yield annotated_types.MinLen(item.min_length or 0)
            if item.max_length is not None:
                yield annotated_types.MaxLen(item.max_length)
        elif isinstance(item, annotated_types.GroupedMetadata):
            yield from flatten(list(item))
        else:
            yield item


def bounds(metadata: list[Any]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for item in flatten(metadata):
        if isinstance(item, annotated_types.MinLen):
            found["min_size"] = item.min_length
        elif isinstance(item, annotated_types.MaxLen):
            found["max_size"] = item.max_length
        elif isinstance(item, annotated_types.Ge):
            found["min_value"] = item.ge
        elif isinstance(item, annotated_types.Gt):
            found["min_value"] = item.gt + 1
        elif isinstance(item, annotated_types.Le):
            found["max_value"] = item.le
        elif isinstance(item, AfterValidator) and item.func.__name__ == "_tenths":
            found["tenths"] = True
    return found


AWARE_DATETIMES = st.datetimes(
    min_value=datetime(2000, 1, 1),
    max_value=datetime(2099, 12, 31),
    timezones=st.builds(
        timezone, st.integers(-14 * 4, 14 * 4).map(lambda q: timedelta(minutes=15 * q))
    ),
)


def strategy_for(
    annotation: Any,
    metadata: list[Any],
    excluded: frozenset[Enum] = frozenset(),
) -> st.SearchStrategy[Any]:
    origin = get_origin(annotation)
    if origin is Annotated:
        base, *extra = get_args(annotation)
        return strategy_for(base, [*metadata, *extra], excluded)
    if origin in (Union, types.UnionType):
        options = [a for a in get_args(annotation) if a is not type(None)]
        assert len(options) == 1, annotation
        return st.none() | strategy_for(options[0], metadata, excluded)
    found = bounds(metadata)
    if origin is list:
        [item] = get_args(annotation)
        return st.lists(
            strategy_for(item, [], excluded),
            min_size=found.get("min_size", 0),
            max_size=min(found.get("max_size", 3), 3),
        )
    if isinstance(annotation, type) and issubclass(annotation, OcppModel):
        return model_strategy(annotation)
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return st.sampled_from([v for v in annotation if v not in excluded])
    if annotation is bool:
        return st.booleans()
    if annotation is int:
        return st.integers(
            min_value=found.get("min_value", -(2**31)), max_value=found.get("max_value", 2**31 - 1)
        )
    if annotation is float:
        if found.get("tenths"):
            return st.integers(-100_000, 100_000).map(lambda tenths: tenths / 10)
        return st.floats(allow_nan=False, allow_infinity=False, width=32)
    if annotation is str:
        return st.text(min_size=found.get("min_size", 0), max_size=found.get("max_size", 30))
    if annotation is datetime:
        return AWARE_DATETIMES
    raise AssertionError(f"no strategy for {annotation!r}")


@cache
def model_strategy(model: type[OcppModel]) -> st.SearchStrategy[OcppModel]:
    required: dict[str, st.SearchStrategy[Any]] = {}
    optional: dict[str, st.SearchStrategy[Any]] = {}
    for name, field in model.model_fields.items():
        excluded = SCHEMA_EXCLUDES.get((model, name), frozenset())
        strategy = strategy_for(field.annotation, list(field.metadata), excluded)
        (required if field.is_required() else optional)[name] = strategy
    return st.fixed_dictionaries(required, optional=optional).map(lambda kw: model(**kw))


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


def nested_model(annotation: Any) -> type[OcppModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, OcppModel):
        return annotation
    for argument in get_args(annotation):
        found = nested_model(argument)
        if found is not None:
            return found
    return None


def check_fields(model: type[OcppModel], schema: dict[str, Any], where: str) -> None:
    properties = schema.get("properties", {})
    aliases = {field.alias or name: field for name, field in model.model_fields.items()}
    assert set(aliases) == set(properties), where
    required = {alias for alias, field in aliases.items() if field.is_required()}
    assert required == set(schema.get("required", [])), where
    for alias, field in aliases.items():
        inner = nested_model(field.annotation)
        if inner is not None:
            sub_schema = properties[alias]
            if sub_schema.get("type") == "array":
                sub_schema = sub_schema["items"]
            check_fields(inner, sub_schema, f"{where}.{alias}")


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


WRONG_TYPE: dict[str, list[Any]] = {
    "string": [12345, True, None, ["text"]],
    "integer": ["12", 1.5, True, None],
    "number": ["1.5", False, None],
    "boolean": ["true", 1, None],
    "object": ["object", [], 0],
    "array": ["array", {"item": 1}],
}


def at(document: Any, path: tuple[Any, ...]) -> Any:
    for step in path:
        document = document[step]
    return document


def mutations(
    schema: dict[str, Any], payload: Any, path: tuple[Any, ...] = (), optional: bool = False
) -> Iterator[tuple[str, tuple[Any, ...], Any]]:
    """(what, where, new value or a marker) for every mutation of ``payload`` at ``path``.

    ``optional``: the property may be left out, and then null is read as "left out"
    (a leniency kept on purpose, see test_null_for_an_optional_property_reads_as_absent).
    """
    kind = schema.get("type")
    here = at(payload, path)
    for wrong in WRONG_TYPE.get(kind, []):
        if wrong is None and optional:
            continue
        yield f"{kind} -> {wrong!r}", path, wrong
    if kind == "string" and "maxLength" in schema:
        yield "too long", path, "x" * (schema["maxLength"] + 1)
    if "enum" in schema:
        yield "unknown enum value", path, "NotAValue"
        yield "enum value in the wrong case", path, str(here).lower()
    if kind == "object":
        yield "unknown property", (*path, "unexpectedProperty"), "surprise"
        for name in schema.get("required", []):
            yield f"no {name}", (*path, name), DROP
        required = set(schema.get("required", []))
        for name, sub_schema in schema.get("properties", {}).items():
            if name in here:
                yield from mutations(sub_schema, payload, (*path, name), name not in required)
    if kind == "array" and here:
        yield from mutations(schema["items"], payload, (*path, 0))


DROP = object()


def mutate(payload: Any, path: tuple[Any, ...], value: Any) -> Any:
    changed = copy.deepcopy(payload)
    if not path:
        return value
    parent = at(changed, path[:-1])
    if value is DROP:
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    return changed


@pytest.mark.parametrize(("model", "schema_name"), MODELS)
@EXAMPLES
@given(data=st.data())
def test_payloads_the_schema_rejects_are_rejected(
    model: type[OcppModel], schema_name: str, data: st.DataObject
) -> None:
    payload = json.loads(json.dumps(data.draw(model_strategy(model)).to_payload()))
    schema = validator(schema_name).schema
    checked = 0
    accepted = []
    for what, path, value in mutations(schema, payload):
        changed = mutate(payload, path, value)
        if not isinstance(changed, dict) or validator(schema_name).is_valid(
            as_decimal_json(changed)
        ):
            continue  # the schema takes it (the whole payload replaced, say): not our case
        checked += 1
        try:
            model.model_validate(changed)
        except ValidationError:
            continue
        accepted.append(f"{what} at {path}: {changed}")
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
