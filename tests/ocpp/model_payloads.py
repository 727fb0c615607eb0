"""Our payload models against an official schema folder: instances, mutations, validators.

Shared by the conformance tests of the 1.6 models (``test_conformance.py``) and the 2.0.1
ones (``test_v201_conformance.py``):

* instance strategies derived from the models' own field information (types, lengths, bounds,
  lists), so a model added to a feature table is covered without a new strategy;
* the official schema as ``jsonschema`` reads it (Draft4Validator, what the ``ocpp`` package
  uses, numbers as Decimal, and a date-time check that takes only what we send: UTC, whole
  seconds, ``Z``);
* mutations of a valid payload that the schema rejects (a required field dropped, a wrong JSON
  type, a string one character too long, an unknown enum value, an unknown property, an
  integer past its bound, a list too short or too long), walking ``$ref``\\ s.
"""

from __future__ import annotations

import copy
import json
import re
import string
import types
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from enum import Enum
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Union, get_args, get_origin

import annotated_types
from hypothesis import strategies as st
from jsonschema import Draft4Validator, FormatChecker
from pydantic import AfterValidator, JsonValue, StringConstraints, ValidationError
from pydantic.fields import FieldInfo

from console.ocpp import messages
from console.ocpp.base import OcppModel
from console.ocpp.enums import UnitOfMeasure

WIRE_DATE = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")

# (model, field) -> enum values the official schema leaves out at that place.
SCHEMA_EXCLUDES: dict[tuple[type[OcppModel], str], frozenset[Enum]] = {
    (messages.TransactionSampledValue, "unit"): frozenset({UnitOfMeasure.HERTZ}),
}


# --- the official schemas -------------------------------------------------------------------


def schema_text(folder: Path, name: str) -> str:
    return (folder / f"{name}.json").read_text(encoding="utf-8-sig")


@cache
def validator(folder: Path, name: str) -> Draft4Validator:
    """The schema, numbers read as Decimal (as the ``ocpp`` package does for multipleOf)."""
    checker = FormatChecker()

    @checker.checks("date-time")
    def _wire_date(value: object) -> bool:
        # Stricter than RFC 3339: what we send is always UTC, whole seconds, with Z.
        return not isinstance(value, str) or WIRE_DATE.fullmatch(value) is not None

    schema = json.loads(schema_text(folder, name), parse_float=Decimal)
    Draft4Validator.check_schema(schema)
    return Draft4Validator(schema, format_checker=checker)


def as_decimal_json(payload: dict[str, Any]) -> Any:
    # Through JSON text, exactly as a peer would read it; floats as Decimal so that
    # multipleOf 0.1 is checked without binary rounding.
    return json.loads(json.dumps(payload), parse_float=Decimal)


def resolve(document: dict[str, Any], node: Any) -> Any:
    """``node`` with its ``$ref`` (into the same document) followed."""
    while isinstance(node, dict) and "$ref" in node:
        target: Any = document
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


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

JSON_VALUES: st.SearchStrategy[Any] = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**31), 2**31) | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
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
    if annotation is JsonValue:
        return JSON_VALUES
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
    fields = st.fixed_dictionaries(required, optional=optional)
    if model.model_config.get("extra") == "allow":
        # An open object (2.0.1 customData): properties of the vendor's own, beside the fields.
        taken = set(model.model_fields) | {
            field.alias for field in model.model_fields.values() if field.alias
        }
        extras = st.dictionaries(
            st.text(string.ascii_letters, min_size=1, max_size=8).filter(lambda k: k not in taken),
            JSON_VALUES,
            max_size=2,
        )
        fields = st.tuples(fields, extras).map(lambda parts: {**parts[1], **parts[0]})
    return fields.map(lambda kw: model(**kw))


# --- the models' fields and the schema's properties ----------------------------------------


def nested_model(annotation: Any) -> type[OcppModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, OcppModel):
        return annotation
    for argument in get_args(annotation):
        found = nested_model(argument)
        if found is not None:
            return found
    return None


def check_fields(
    model: type[OcppModel],
    schema: dict[str, Any],
    where: str,
    document: dict[str, Any] | None = None,
) -> None:
    """Same property names and required sets, at every level of nesting."""
    document = schema if document is None else document
    schema = resolve(document, schema)
    properties = schema.get("properties", {})
    aliases = {field.alias or name: field for name, field in model.model_fields.items()}
    assert set(aliases) == set(properties), where
    required = {alias for alias, field in aliases.items() if field.is_required()}
    assert required == set(schema.get("required", [])), where
    # An open object in the schema is an open model, and a closed one a closed model.
    open_object = schema.get("additionalProperties", True) is not False
    assert (model.model_config.get("extra") == "allow") == open_object, where
    for alias, field in aliases.items():
        inner = nested_model(field.annotation)
        if inner is not None:
            sub_schema = resolve(document, properties[alias])
            if sub_schema.get("type") == "array":
                sub_schema = resolve(document, sub_schema["items"])
            check_fields(inner, sub_schema, f"{where}.{alias}", document)


# --- payloads the schema rejects ------------------------------------------------------------


WRONG_TYPE: dict[str, list[Any]] = {
    "string": [12345, True, None, ["text"]],
    "integer": ["12", 1.5, True, None],
    "number": ["1.5", False, None],
    "boolean": ["true", 1, None],
    "object": ["object", [], 0],
    "array": ["array", {"item": 1}],
}

DROP = object()


def at(document: Any, path: tuple[Any, ...]) -> Any:
    for step in path:
        document = document[step]
    return document


def mutations(
    schema: dict[str, Any],
    payload: Any,
    path: tuple[Any, ...] = (),
    optional: bool = False,
    document: dict[str, Any] | None = None,
) -> Iterator[tuple[str, tuple[Any, ...], Any]]:
    """(what, where, new value or a marker) for every mutation of ``payload`` at ``path``.

    ``optional``: the property may be left out, and then null is read as "left out"
    (a leniency kept on purpose, see test_null_for_an_optional_property_reads_as_absent).
    """
    document = schema if document is None else document
    schema = resolve(document, schema)
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
    if kind == "integer" and "minimum" in schema:
        yield "below the minimum", path, int(schema["minimum"]) - 1
    if kind == "integer" and "maximum" in schema:
        yield "above the maximum", path, int(schema["maximum"]) + 1
    if kind == "object":
        yield "unknown property", (*path, "unexpectedProperty"), "surprise"
        for name in schema.get("required", []):
            yield f"no {name}", (*path, name), DROP
        required = set(schema.get("required", []))
        for name, sub_schema in schema.get("properties", {}).items():
            if name in here:
                yield from mutations(
                    sub_schema, payload, (*path, name), name not in required, document
                )
    if kind == "array":
        if "minItems" in schema:
            yield "too few items", path, here[: schema["minItems"] - 1]
        if here and schema.get("maxItems", 100) < 100:
            yield "too many items", path, here + [here[0]] * (schema["maxItems"] - len(here) + 1)
        if here:
            yield from mutations(schema["items"], payload, (*path, 0), False, document)


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


def accepted_schema_rejections(
    model: type[OcppModel], payload: dict[str, Any], schema: Draft4Validator
) -> tuple[int, list[str]]:
    """Each mutation of ``payload`` that the official ``schema`` rejects, tried on ``model``:
    how many were tried, and those the model wrongly accepted (both versions' tests)."""
    checked = 0
    accepted = []
    for what, path, value in mutations(schema.schema, payload):
        changed = mutate(payload, path, value)
        if not isinstance(changed, dict) or schema.is_valid(as_decimal_json(changed)):
            continue  # the schema takes it (the whole payload replaced, say): not our case
        checked += 1
        try:
            model.model_validate(changed)
        except ValidationError:
            continue
        accepted.append(f"{what} at {path}: {changed}")
    return checked, accepted
