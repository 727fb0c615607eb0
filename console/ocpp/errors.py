"""OCPP-J CALLERROR codes and the mapping from validation failures to them."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import ValidationError

from console.ocpp.versions import OcppVersion

__all__ = [
    "V201_ONLY_ERROR_CODES",
    "ErrorCode",
    "OcppError",
    "error_code_for_validation",
    "is_error_code",
    "parse_error_code",
    "wire_spelling",
]


class ErrorCode(StrEnum):
    """CALLERROR codes, valued as OCPP 1.6-J spells them on the wire.

    The same codes serve both versions; :func:`wire_spelling` gives a 2.0.1 connection its
    own spelling of the two that 2.0.1 corrected.
    """

    NOT_IMPLEMENTED = "NotImplemented"
    NOT_SUPPORTED = "NotSupported"
    INTERNAL_ERROR = "InternalError"
    PROTOCOL_ERROR = "ProtocolError"
    SECURITY_ERROR = "SecurityError"
    FORMATION_VIOLATION = "FormationViolation"
    PROPERTY_CONSTRAINT_VIOLATION = "PropertyConstraintViolation"
    OCCURENCE_CONSTRAINT_VIOLATION = "OccurenceConstraintViolation"
    TYPE_CONSTRAINT_VIOLATION = "TypeConstraintViolation"
    GENERIC_ERROR = "GenericError"


# OCPP 2.0.1 corrected two spellings; peers mixing versions send them, so we read both.
_ALIASES = {
    "FormatViolation": ErrorCode.FORMATION_VIOLATION,
    "OccurrenceConstraintViolation": ErrorCode.OCCURENCE_CONSTRAINT_VIOLATION,
}


_V201_SPELLINGS = {code: spelling for spelling, code in _ALIASES.items()}

V201_ONLY_ERROR_CODES = frozenset({"MessageTypeNotSupported", "RpcFrameworkError"})
"""Codes only OCPP 2.0.1 has: a 2.0.1 peer may send them; they have no :class:`ErrorCode`."""


def parse_error_code(text: str) -> ErrorCode | None:
    """The code for a received spelling, 1.6 or 2.0.1; None if it is no known code."""
    try:
        return ErrorCode(text)
    except ValueError:
        return _ALIASES.get(text)


def wire_spelling(code: ErrorCode, version: OcppVersion = OcppVersion.V16) -> str:
    """How ``code`` is spelled in a CALLERROR on a connection of ``version``."""
    if version is OcppVersion.V201:
        return _V201_SPELLINGS.get(code, code.value)
    return code.value


def is_error_code(text: str, version: OcppVersion = OcppVersion.V16) -> bool:
    """Whether a peer of ``version`` may send ``text`` as a CALLERROR code.

    Both spellings of the corrected codes count in both versions (peers mix them up).
    """
    return parse_error_code(text) is not None or (
        version is OcppVersion.V201 and text in V201_ONLY_ERROR_CODES
    )


class OcppError(Exception):
    """An error to be answered as a CALLERROR."""

    def __init__(
        self, code: ErrorCode, description: str = "", details: dict[str, Any] | None = None
    ) -> None:
        super().__init__(f"{code}: {description}")
        self.code = code
        self.description = description
        self.details = details or {}


_MISSING = frozenset({"missing", "missing_argument"})
_EXTRA = frozenset({"extra_forbidden", "unexpected_keyword_argument", "model_attributes_type"})
_TYPE = frozenset(
    {
        "int_type",
        "int_parsing",
        "int_from_float",
        "float_type",
        "float_parsing",
        "string_type",
        "bool_type",
        "bool_parsing",
        "list_type",
        "dict_type",
        "model_type",
        "datetime_type",
        "datetime_parsing",
        "datetime_from_date_parsing",
        "is_instance_of",
        "string_unicode",
    }
)


def error_code_for_validation(error: ValidationError) -> ErrorCode:
    """Map a payload's validation failure to the CALLERROR code the spec asks for.

    The first problem decides: a missing field is an occurrence problem, a wrong JSON
    type a type problem, a broken bound (length, range, enum) a property problem, and an
    unknown property a formation problem.
    """
    errors = error.errors(include_url=False, include_context=False)
    kinds = [e["type"] for e in errors]
    for kind in kinds:
        if kind in _EXTRA:
            return ErrorCode.FORMATION_VIOLATION
    for kind in kinds:
        if kind in _MISSING:
            return ErrorCode.OCCURENCE_CONSTRAINT_VIOLATION
    for item in errors:
        # An enum value is a string: a number or null there is a wrong type, not a
        # value outside the list.
        if item["type"] in _TYPE or (item["type"] == "enum" and not isinstance(item["input"], str)):
            return ErrorCode.TYPE_CONSTRAINT_VIOLATION
    return ErrorCode.PROPERTY_CONSTRAINT_VIOLATION


def describe_validation(error: ValidationError, limit: int = 3) -> str:
    """A short, readable description of what was wrong (no payload values)."""
    parts = []
    for item in error.errors(include_url=False, include_input=False)[:limit]:
        where = ".".join(str(p) for p in item["loc"]) or "payload"
        parts.append(f"{where}: {item['msg']}")
    more = error.error_count() - limit
    if more > 0:
        parts.append(f"and {more} more")
    return "; ".join(parts)
