"""Checks payloads and raw frames against the official OCPP 1.6 and 2.0.1 JSON schemas.

The schemas are the Open Charge Alliance's files, vendored as package data in
``console/ocpp/schemas/v16`` and ``console/ocpp/schemas/v201`` (see the README there). This
module is a small, strict validator for the part of JSON Schema those files use, so the
conformance check can validate every frame a station sends without the third-party ``ocpp`` or
``jsonschema`` packages at run time. Every function takes the OCPP version (1.6 unless told);
1.6 schemas are named ``<Action>.json`` and ``<Action>Response.json``, 2.0.1 ones
``<Action>Request.json`` and ``<Action>Response.json``.

It follows ``jsonschema.Draft4Validator``, which is what the ``ocpp`` package validates with, for
every file (also those that declare draft-06: the 1.6 security whitepaper's and all of 2.0.1's):

* ``"integer"`` is a whole number written without a fraction or exponent: ``true`` and ``1.0``
  are not integers (draft 4; draft 6 would take ``1.0``).
* ``$ref`` replaces its sibling keywords, and only refers into the same file (``#/...``).
* ``multipleOf`` is decided on the decimal value as written, not on binary floats: ``21.4`` is a
  multiple of ``0.1``. (The ``ocpp`` package gets the same answer by parsing the three schemas
  that use ``multipleOf``, and their payloads, with ``decimal.Decimal``.)

Formats, where we decide (the ``ocpp`` package validates without a format checker, so it checks
no format at all): ``"date-time"`` is checked, because a timestamp a Central System cannot read
is a real defect of a station. The rule is the one ``jsonschema``'s ``FormatChecker`` applies
when its date-time support (``rfc3339-validator``) is installed: RFC 3339 section 5.6, ``T`` and
``Z`` in either case, a fraction of any length, ``Z`` or a ``+hh:mm``/``-hh:mm`` offset, a real
calendar day, no leap second — except that a trailing newline is refused (that library's
regular expression lets one through). ``"uri"`` is not checked, as by every ``jsonschema``
without the optional ``rfc3987`` package; it only appears in requests the Central System sends.

The 2.0.1 files add ``maxItems``, ``minimum`` and ``maximum`` (inclusive bounds, compared on
the exact value as written), and the annotations ``comment``, ``javaType`` and ``default``.
A keyword this module does not know makes loading the schema fail (:class:`SchemaDefinitionError`),
so a new schema file can never be checked only in part.

One thing despite its length: a schema compiler and the checks it compiles to belong
together; each keyword's check is a few lines, and the frame-level checks use the same
problem texts.
"""

from __future__ import annotations

import calendar
import json
import numbers
import re
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from fractions import Fraction
from functools import cache
from importlib import resources
from typing import Final

from console.ocpp.errors import is_error_code
from console.ocpp.frames import MAX_MESSAGE_ID_LENGTH
from console.ocpp.versions import OcppVersion

__all__ = [
    "SchemaDefinitionError",
    "available_actions",
    "schema_problems",
    "station_frame_problems",
]

# Where each version's vendored files live, relative to the console.ocpp package, and the
# suffix of a request schema's name (1.6: none, 2.0.1: "Request").
_SCHEMA_FOLDERS: Final = {OcppVersion.V16: "v16", OcppVersion.V201: "v201"}
_REQUEST_SUFFIXES: Final = {OcppVersion.V16: "", OcppVersion.V201: "Request"}
_RESPONSE_SUFFIX: Final = "Response"

# Keywords that describe and never constrain.
_ANNOTATIONS: Final = frozenset(
    {
        "$schema",
        "$id",
        "id",
        "title",
        "description",
        "$comment",
        "comment",
        "default",
        "examples",
        "javaType",
    }
)
_KNOWN_DRAFTS: Final = frozenset(
    {
        "http://json-schema.org/draft-04/schema#",
        "http://json-schema.org/draft-06/schema#",
    }
)
# Formats left unchecked on purpose (see the module docstring).
_UNCHECKED_FORMATS: Final = frozenset({"uri"})

_ROOT_PATH: Final = "payload"
_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_RENDER_LIMIT: Final = 60

# RFC 3339 section 5.6 date-time, matched on the upper-cased text.
_DATE_TIME = re.compile(
    r"(\d{4})-(0[1-9]|1[0-2])-(\d{2})"
    r"T(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d(?:\.\d+)?"
    r"(?:Z|[+-](?:[01]\d|2[0-3]):[0-5]\d)",
    re.ASCII,
)

# OCPP-J message types.
_CALL: Final = 2
_CALL_RESULT: Final = 3
_CALL_ERROR: Final = 4
_FRAME_LENGTHS: Final = {_CALL: 4, _CALL_RESULT: 3, _CALL_ERROR: 5}

# A compiled schema: (value, its JSON path, the list to append problems to).
_Check = Callable[[object, str, list[str]], None]


class SchemaDefinitionError(Exception):
    """A schema file uses something this validator does not implement (or is malformed)."""


# --- public API ------------------------------------------------------------------------------


def available_actions(version: OcppVersion = OcppVersion.V16) -> frozenset[str]:
    """The actions of ``version`` that have a request schema."""
    names = _schema_names(_SCHEMA_FOLDERS[version])
    if version is OcppVersion.V16:
        return frozenset(name for name in names if not name.endswith(_RESPONSE_SUFFIX))
    suffix = _REQUEST_SUFFIXES[version]
    return frozenset(name.removesuffix(suffix) for name in names if name.endswith(suffix))


def schema_problems(
    action: str, payload: object, *, response: bool, version: OcppVersion = OcppVersion.V16
) -> list[str]:
    """Validate ``payload`` against the request or response schema of ``action``.

    Returns readable problems, each starting with the JSON path of the value at fault
    (``payload`` is the whole payload); an empty list means the payload is valid. Numbers may be
    ``int``, ``float`` or ``Decimal`` (a frame parsed with ``parse_float=Decimal``).
    """
    folder = _SCHEMA_FOLDERS[version]
    name = action + (_RESPONSE_SUFFIX if response else _REQUEST_SUFFIXES[version])
    if name not in _schema_names(folder):
        which = " (response)" if response else ""
        return [f"no official OCPP {version} schema for action {_render(action)}{which}"]
    problems: list[str] = []
    _compiled(folder, name)(payload, _ROOT_PATH, problems)
    return problems


def station_frame_problems(
    text: str, answered_action: str | None = None, version: OcppVersion = OcppVersion.V16
) -> list[str]:
    """Problems with a raw OCPP-J frame a station of ``version`` sent; [] means it is valid.

    ``answered_action`` is the action of our CALL that a CALLRESULT answers (a CALLRESULT's
    payload can only be checked against the schema of the call it answers). A CALL is checked
    against its action's request schema, a CALLERROR against the OCPP-J frame rules.
    """
    try:
        frame = json.loads(text, parse_float=Decimal, parse_constant=_refuse_constant)
    except (ValueError, RecursionError) as error:
        return [f"frame: not JSON ({error})"]
    if not isinstance(frame, list):
        return [f"frame: a JSON {_json_type_name(frame)}, not an array [type, id, ...]"]
    if not frame:
        return ["frame: an empty array, not [type, id, ...]"]
    message_type = frame[0]
    # Only a JSON integer: True, 2.0 and Decimal("2.0") would all compare equal to a type id.
    if type(message_type) is not int or message_type not in _FRAME_LENGTHS:
        return [f"frame: unknown message type {_render(message_type)} (2, 3 or 4 expected)"]
    expected_length = _FRAME_LENGTHS[message_type]
    problems: list[str] = []
    if len(frame) != expected_length:
        shape = {
            _CALL: "[2, id, action, payload]",
            _CALL_RESULT: "[3, id, payload]",
            _CALL_ERROR: "[4, id, code, description, details]",
        }[message_type]
        problems.append(f"frame: {len(frame)} elements, a {shape} has {expected_length}")
        return problems + _message_id_problems(frame)
    problems.extend(_message_id_problems(frame))
    if message_type == _CALL:
        action = frame[2]
        if not isinstance(action, str):
            problems.append(f"frame: action {_render(action)} is not a string")
            return problems
        problems.extend(schema_problems(action, frame[3], response=False, version=version))
    elif message_type == _CALL_RESULT:
        if answered_action is None:
            problems.append("frame: cannot tell which call this answers")
        else:
            problems.extend(
                schema_problems(answered_action, frame[2], response=True, version=version)
            )
    else:
        problems.extend(_call_error_problems(frame[2], frame[3], frame[4], version))
    return problems


# --- frames ----------------------------------------------------------------------------------


def _refuse_constant(name: str) -> object:
    # json.loads takes NaN and Infinity by default; they are not JSON.
    raise ValueError(f"{name} is not a JSON value")


def _message_id_problems(frame: Sequence[object]) -> list[str]:
    if len(frame) < 2:
        return ["frame: no message id"]
    message_id = frame[1]
    if not isinstance(message_id, str):
        return [f"frame: message id {_render(message_id)} is not a string"]
    if len(message_id) > MAX_MESSAGE_ID_LENGTH:
        return [
            f"frame: message id {_render(message_id)} is {len(message_id)} characters long,"
            f" longer than {MAX_MESSAGE_ID_LENGTH}"
        ]
    return []


def _call_error_problems(
    code: object, description: object, details: object, version: OcppVersion
) -> list[str]:
    problems: list[str] = []
    if not isinstance(code, str):
        problems.append(f"frame: error code {_render(code)} is not a string")
    elif not is_error_code(code, version):
        problems.append(f"frame: error code {_render(code)} is not an OCPP {version} error code")
    if not isinstance(description, str):
        problems.append(f"frame: error description {_render(description)} is not a string")
    if not isinstance(details, dict):
        problems.append(f"frame: error details {_render(details)} is not an object")
    return problems


# --- loading ---------------------------------------------------------------------------------


@cache
def _schema_names(folder: str) -> frozenset[str]:
    # The names come from the folder itself, so an action received from a station can never
    # name a path outside it.
    directory = resources.files("console.ocpp").joinpath("schemas", folder)
    return frozenset(
        entry.name.removesuffix(".json")
        for entry in directory.iterdir()
        if entry.name.endswith(".json") and entry.is_file()
    )


@cache
def _compiled(folder: str, name: str) -> _Check:
    """The compiled check of one schema file, built on first use and kept."""
    data = resources.files("console.ocpp").joinpath("schemas", folder, f"{name}.json").read_bytes()
    try:
        document = json.loads(data.decode("utf-8-sig"), parse_float=Decimal)
    except ValueError as error:
        raise SchemaDefinitionError(f"{name}.json is not JSON: {error}") from error
    if not isinstance(document, dict):
        raise SchemaDefinitionError(f"{name}.json: the schema is not an object")
    draft = document.get("$schema")
    if draft is not None and draft not in _KNOWN_DRAFTS:
        raise SchemaDefinitionError(f"{name}.json: unsupported $schema {draft!r}")
    return _SchemaCompiler(name, document).compile(document, "#")


class _SchemaCompiler:
    """Turns one schema document into nested check functions (one pass, refs memoised)."""

    def __init__(self, file_name: str, document: dict[str, object]) -> None:
        self._file_name = file_name
        self._document = document
        self._refs: dict[str, _Check] = {}

    def _fail(self, where: str, message: str) -> SchemaDefinitionError:
        return SchemaDefinitionError(f"{self._file_name}.json at {where}: {message}")

    def compile(self, schema: object, where: str) -> _Check:
        if schema is True or schema == {}:
            return _accept_anything
        if not isinstance(schema, dict):
            raise self._fail(where, f"a schema must be an object, not {schema!r}")
        unknown = set(schema) - _KEYWORDS - _ANNOTATIONS
        if unknown:
            raise self._fail(where, f"unsupported keyword(s) {sorted(unknown)}")
        definitions = schema.get("definitions", {})
        if not isinstance(definitions, dict):
            raise self._fail(where, "definitions must be an object")
        for definition_name in definitions:
            # Compiled even when unused, so that every keyword in the file is vetted at load.
            self._compile_ref(f"{where}/definitions/{_escape_pointer(definition_name)}")
        if "$ref" in schema:
            # Draft 4 (what jsonschema does up to draft 7): $ref replaces its siblings.
            reference = schema["$ref"]
            if not isinstance(reference, str):
                raise self._fail(where, "$ref must be a string")
            return self._compile_ref(reference)
        return self._compile_keywords(schema, where)

    def _compile_ref(self, reference: str) -> _Check:
        if reference in self._refs:
            return self._refs[reference]
        if not (reference == "#" or reference.startswith("#/")):
            raise self._fail(reference, "only references inside the same file are supported")
        # A forwarding cell first, so that a schema referring to itself compiles.
        target: list[_Check] = []

        def forward(value: object, path: str, problems: list[str]) -> None:
            target[0](value, path, problems)

        self._refs[reference] = forward
        target.append(self.compile(self._resolve(reference), reference))
        self._refs[reference] = target[0]
        return target[0]

    def _resolve(self, reference: str) -> object:
        node: object = self._document
        for raw_part in reference[2:].split("/") if reference != "#" else []:
            part = raw_part.replace("~1", "/").replace("~0", "~")
            if isinstance(node, dict) and part in node:
                node = node[part]
            elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
                node = node[int(part)]
            else:
                raise self._fail(reference, "the reference points at nothing")
        return node

    def _compile_keywords(self, schema: Mapping[str, object], where: str) -> _Check:
        type_check = self._type_check(schema, where)
        checks: list[_Check] = []
        if "enum" in schema:
            checks.append(self._enum_check(schema["enum"], where))
        if "maxLength" in schema:
            checks.append(_max_length_check(self._count(schema, "maxLength", where)))
        if "format" in schema:
            format_check = self._format_check(schema["format"], where)
            if format_check is not None:
                checks.append(format_check)
        if "multipleOf" in schema:
            checks.append(self._multiple_of_check(schema["multipleOf"], where))
        if "minimum" in schema:
            checks.append(self._bound_check(schema["minimum"], where, lower=True))
        if "maximum" in schema:
            checks.append(self._bound_check(schema["maximum"], where, lower=False))
        if "minItems" in schema:
            checks.append(_min_items_check(self._count(schema, "minItems", where)))
        if "maxItems" in schema:
            checks.append(_max_items_check(self._count(schema, "maxItems", where)))
        if "items" in schema:
            checks.append(self._items_check(schema["items"], where))
        if "additionalItems" in schema:
            # Only constrains tuple-form "items", which _items_check refuses: nothing to check,
            # as in jsonschema, once the value is shown to be well-formed.
            additional_items = schema["additionalItems"]
            if not isinstance(additional_items, bool):
                self.compile(additional_items, f"{where}/additionalItems")
        if "required" in schema:
            checks.append(self._required_check(schema["required"], where))
        if {"properties", "additionalProperties"} & schema.keys():
            checks.append(self._properties_check(schema, where))
        return _combine(type_check, checks)

    # --- keyword compilers -------------------------------------------------------------------

    def _type_check(self, schema: Mapping[str, object], where: str) -> _Check | None:
        if "type" not in schema:
            return None
        declared = schema["type"]
        names = [declared] if isinstance(declared, str) else declared
        if not isinstance(names, list) or not names:
            raise self._fail(where, f"type must be a name or a list of names, not {declared!r}")
        tests = []
        for name in names:
            if name not in _TYPE_TESTS:
                raise self._fail(where, f"unknown type {name!r}")
            tests.append(_TYPE_TESTS[name])
        expected = " or ".join(repr(name) for name in names)

        if len(tests) == 1:
            (test,) = tests

            def check_type(value: object, path: str, problems: list[str]) -> None:
                if not test(value):
                    problems.append(f"{path}: {_render(value)} is not of type {expected}")

            return check_type

        def check_types(value: object, path: str, problems: list[str]) -> None:
            if not any(test(value) for test in tests):
                problems.append(f"{path}: {_render(value)} is not of type {expected}")

        return check_types

    def _enum_check(self, members: object, where: str) -> _Check:
        if not isinstance(members, list) or not all(isinstance(m, str) for m in members):
            # Non-string members would need jsonschema's bool-versus-number equality rules.
            raise self._fail(where, "only enums of strings are supported")
        allowed = frozenset(members)
        listing = repr(list(members))

        def check_enum(value: object, path: str, problems: list[str]) -> None:
            if not (isinstance(value, str) and value in allowed):
                problems.append(f"{path}: {_render(value)} is not one of {listing}")

        return check_enum

    def _count(self, schema: Mapping[str, object], keyword: str, where: str) -> int:
        count = schema[keyword]
        if not isinstance(count, int) or isinstance(count, bool) or count < 0:
            raise self._fail(where, f"{keyword} must be a non-negative integer")
        return count

    def _format_check(self, name: object, where: str) -> _Check | None:
        if name == "date-time":
            return _check_date_time
        if name in _UNCHECKED_FORMATS:
            return None
        raise self._fail(where, f"unsupported format {name!r}")

    def _multiple_of_check(self, divisor: object, where: str) -> _Check:
        if not isinstance(divisor, int | Decimal) or isinstance(divisor, bool) or not divisor > 0:
            raise self._fail(where, "multipleOf must be a positive number")
        exact_divisor = Fraction(divisor)

        def check_multiple_of(value: object, path: str, problems: list[str]) -> None:
            if not _is_number(value):
                return
            exact = _exact_number(value)
            if exact is None or (exact / exact_divisor).denominator != 1:
                problems.append(f"{path}: {_render(value)} is not a multiple of {divisor}")

        return check_multiple_of

    def _bound_check(self, bound: object, where: str, *, lower: bool) -> _Check:
        # Inclusive (draft 4 without exclusiveMinimum/exclusiveMaximum, which no file uses and
        # which therefore stay unknown keywords).
        if isinstance(bound, bool) or not isinstance(bound, int | Decimal):
            raise self._fail(where, "minimum and maximum must be numbers")
        if isinstance(bound, Decimal) and not bound.is_finite():
            raise self._fail(where, "minimum and maximum must be finite")
        exact_bound = Fraction(bound)

        def check_minimum(value: object, path: str, problems: list[str]) -> None:
            number = _comparable(value)
            if number is not None and number < exact_bound:
                problems.append(f"{path}: {_render(value)} is less than the minimum of {bound}")

        def check_maximum(value: object, path: str, problems: list[str]) -> None:
            number = _comparable(value)
            if number is not None and number > exact_bound:
                problems.append(f"{path}: {_render(value)} is more than the maximum of {bound}")

        return check_minimum if lower else check_maximum

    def _items_check(self, items: object, where: str) -> _Check:
        if not isinstance(items, dict | bool):
            raise self._fail(where, "only a single schema for items is supported")
        item_check = self.compile(items, f"{where}/items")
        if item_check is _accept_anything:
            return _accept_anything

        def check_items(value: object, path: str, problems: list[str]) -> None:
            if isinstance(value, list):
                for index, item in enumerate(value):
                    item_check(item, f"{path}[{index}]", problems)

        return check_items

    def _required_check(self, required: object, where: str) -> _Check:
        if not isinstance(required, list) or not all(isinstance(n, str) for n in required):
            raise self._fail(where, "required must be a list of names")
        names = tuple(required)

        def check_required(value: object, path: str, problems: list[str]) -> None:
            if isinstance(value, dict):
                for name in names:
                    if name not in value:
                        problems.append(f"{_child(path, name)}: missing (required)")

        return check_required

    def _properties_check(self, schema: Mapping[str, object], where: str) -> _Check:
        declared = schema.get("properties", {})
        if not isinstance(declared, dict):
            raise self._fail(where, "properties must be an object")
        property_checks = {
            name: self.compile(sub, f"{where}/properties/{_escape_pointer(name)}")
            for name, sub in declared.items()
        }
        additional = schema.get("additionalProperties", True)
        additional_check: _Check | None
        if additional is True:
            additional_check = None
        elif additional is False:
            additional_check = _refuse_property
        else:
            additional_check = self.compile(additional, f"{where}/additionalProperties")

        def check_properties(value: object, path: str, problems: list[str]) -> None:
            if not isinstance(value, dict):
                return
            for name, member in value.items():
                property_check = property_checks.get(name)
                if property_check is not None:
                    property_check(member, _child(path, name), problems)
                elif additional_check is not None:
                    additional_check(member, _child(path, name), problems)

        return check_properties


# --- keyword checks that need no compiler state ---------------------------------------------


def _accept_anything(value: object, path: str, problems: list[str]) -> None:
    del value, path, problems


def _refuse_property(value: object, path: str, problems: list[str]) -> None:
    del value
    problems.append(f"{path}: not allowed (the schema has no such property)")


def _check_date_time(value: object, path: str, problems: list[str]) -> None:
    if isinstance(value, str) and not _is_date_time(value):
        problems.append(f"{path}: {_render(value)} is not an RFC 3339 date-time")


def _is_date_time(text: str) -> bool:
    match = _DATE_TIME.fullmatch(text.upper())
    if match is None:
        return False
    year, month, day = (int(part) for part in match.groups())
    return year >= 1 and 1 <= day <= calendar.monthrange(year, month)[1]


def _max_length_check(limit: int) -> _Check:
    def check_max_length(value: object, path: str, problems: list[str]) -> None:
        if isinstance(value, str) and len(value) > limit:
            problems.append(
                f"{path}: {_render(value)} has {len(value)} characters, more than {limit}"
            )

    return check_max_length


def _min_items_check(minimum: int) -> _Check:
    def check_min_items(value: object, path: str, problems: list[str]) -> None:
        if isinstance(value, list) and len(value) < minimum:
            problems.append(f"{path}: {len(value)} item(s), fewer than {minimum}")

    return check_min_items


def _max_items_check(maximum: int) -> _Check:
    def check_max_items(value: object, path: str, problems: list[str]) -> None:
        if isinstance(value, list) and len(value) > maximum:
            problems.append(f"{path}: {len(value)} items, more than {maximum}")

    return check_max_items


def _combine(type_check: _Check | None, checks: list[_Check]) -> _Check:
    if type_check is None and not checks:
        return _accept_anything
    if type_check is None:
        if len(checks) == 1:
            return checks[0]

        def check_all(value: object, path: str, problems: list[str]) -> None:
            for check in checks:
                check(value, path, problems)

        return check_all
    if not checks:
        return type_check
    fixed_type_check = type_check

    def check_typed(value: object, path: str, problems: list[str]) -> None:
        before = len(problems)
        fixed_type_check(value, path, problems)
        # A value of the wrong type is reported once, not once per keyword on top.
        if len(problems) == before:
            for check in checks:
                check(value, path, problems)

    return check_typed


# --- values ----------------------------------------------------------------------------------


def _is_integer(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> bool:
    return isinstance(value, numbers.Number) and not isinstance(value, bool)


_TYPE_TESTS: Final[dict[str, Callable[[object], bool]]] = {
    "string": lambda value: isinstance(value, str),
    "integer": _is_integer,
    "number": _is_number,
    "boolean": lambda value: isinstance(value, bool),
    "object": lambda value: isinstance(value, dict),
    "array": lambda value: isinstance(value, list),
    "null": lambda value: value is None,
}

_KEYWORDS: Final = frozenset(
    {
        "type",
        "properties",
        "additionalProperties",
        "required",
        "enum",
        "maxLength",
        "minItems",
        "maxItems",
        "minimum",
        "maximum",
        "items",
        "additionalItems",
        "multipleOf",
        "format",
        "$ref",
        "definitions",
    }
)


def _exact_number(value: object) -> Fraction | None:
    """The exact value of a number; None for infinities and NaN (no multiple of anything).

    Floats count by their shortest decimal form (``21.4``, not its binary approximation),
    which is what the sender wrote.
    """
    try:
        if isinstance(value, float):
            return Fraction(repr(value))
        if isinstance(value, int | Decimal | Fraction):
            return Fraction(value)
        return Fraction(str(value))
    except (ValueError, OverflowError, TypeError):
        return None


def _comparable(value: object) -> Fraction | float | None:
    """A number's value for comparing with a bound: exact where finite; None for no number.

    Infinities compare as floats do (as in jsonschema); NaN is below and above nothing.
    """
    if not _is_number(value):
        return None
    exact = _exact_number(value)
    if exact is not None:
        return exact
    if isinstance(value, float | Decimal):
        try:
            return float(value)
        except ValueError:  # a signalling NaN
            return None
    return None


def _child(path: str, name: str) -> str:
    if _PLAIN_KEY.fullmatch(name):
        return name if path == _ROOT_PATH else f"{path}.{name}"
    quoted = json.dumps(name, ensure_ascii=False)
    return f"{'' if path == _ROOT_PATH else path}[{quoted}]"


def _render(value: object) -> str:
    text = str(value) if isinstance(value, Decimal) else repr(value)
    if len(text) > _RENDER_LIMIT:
        return text[: _RENDER_LIMIT - 1] + "…"
    return text


def _json_type_name(value: object) -> str:
    if isinstance(value, dict):
        return "object"
    if isinstance(value, str):
        return "string"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    return "number"


def _escape_pointer(name: str) -> str:
    return name.replace("~", "~0").replace("/", "~1")
