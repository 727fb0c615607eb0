"""Payloads generated from an official JSON schema, and ``jsonschema``'s verdict on them.

Shared by the tests of our schema validator for 1.6 (``test_schema.py``) and 2.0.1
(``test_v201_schema.py``): valid payloads, and sloppy ones (each value sometimes made wrong:
wrong types, missing or extra properties, strings too long, near-miss enum values, bad dates,
``true`` or ``1.0`` for integers, numbers that are no multiple of 0.1, integers past their
bounds, lists too short or too long).
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from hypothesis import strategies as st
from jsonschema import Draft4Validator, FormatChecker

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


def schema_document(folder: Path, name: str) -> dict[str, Any]:
    """A schema file, numbers read as Decimal (as the ``ocpp`` package does for multipleOf)."""
    document: dict[str, Any] = json.loads(
        (folder / f"{name}.json").read_text(encoding="utf-8-sig"), parse_float=Decimal
    )
    return document


@cache
def reference_validator(folder: Path, name: str) -> Draft4Validator:
    """``jsonschema``'s verdict: Draft4Validator (what the ``ocpp`` package validates every
    file with, 2.0.1's draft-06 ones too) with the reference date-time check."""
    checker = FormatChecker(formats=())
    checker.checks("date-time")(reference_date_time)
    document = schema_document(folder, name)
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
            maximum = min(node.get("maxItems", minimum + 2), minimum + 2)
            too_few = st.lists(item, max_size=max(minimum - 1, 0))
            if node.get("maxItems", 10) > 5:
                return st.lists(item, min_size=minimum, max_size=maximum), too_few
            # A short maxItems (3 or 4 in 2.0.1): one item too many is worth a try.
            too_many = st.lists(item, min_size=node["maxItems"] + 1, max_size=node["maxItems"] + 1)
            return st.lists(item, min_size=minimum, max_size=maximum), too_few | too_many
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
            low, high = node.get("minimum"), node.get("maximum")
            wrong = st.sampled_from([True, False, 1.0, 0.0, 3.0, Decimal("1"), Decimal("1.0"), 1.5])
            if low is not None or high is not None:
                # At the bounds and just past them (the bounds are written 0.0, 100.0).
                lowest = -(2**40) if low is None else int(low)
                highest = 2**40 if high is None else int(high)
                edges = [edge for edge in (low, high) if edge is not None]
                past = [int(low) - 1] if low is not None else []
                past += [int(high) + 1] if high is not None else []
                return (
                    st.integers(lowest, highest) | st.sampled_from([int(e) for e in edges]),
                    wrong | st.sampled_from(past),
                )
            return st.integers(min_value=-(2**40), max_value=2**40), wrong
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
