"""The base of every payload model, and the constrained field types OCPP uses."""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Annotated, Any, ClassVar, Self

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticCustomError

__all__ = [
    "CiString20",
    "CiString25",
    "CiString50",
    "CiString255",
    "CiString500",
    "ConnectorId",
    "Decimal1",
    "IdToken",
    "Integer",
    "NonNegativeInteger",
    "Number",
    "OcppModel",
    "PositiveConnectorId",
    "Text",
    "same_id_tag",
]


class OcppModel(BaseModel):
    """A frozen OCPP payload: snake_case fields, camelCase on the wire, nothing extra."""

    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        alias_generator=to_camel,
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
    )

    feature_name: ClassVar[str] = ""

    def to_payload(self) -> dict[str, Any]:
        """The JSON-ready wire payload."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)

    @classmethod
    def from_payload(cls, payload: Any) -> Self:
        """Validate a wire payload; raises ``pydantic.ValidationError``.

        The wire spells fields in camelCase only: a snake_case name (which Python code may
        use to build a model) is an unknown property there, as the official schemas say.
        """
        return cls.model_validate(payload, by_alias=True, by_name=False)


# CiStringNType of the 1.6 specification: at most N characters.
CiString20 = Annotated[str, StringConstraints(strict=True, max_length=20)]
CiString25 = Annotated[str, StringConstraints(strict=True, max_length=25)]
CiString50 = Annotated[str, StringConstraints(strict=True, max_length=50)]
CiString255 = Annotated[str, StringConstraints(strict=True, max_length=255)]
CiString500 = Annotated[str, StringConstraints(strict=True, max_length=500)]
IdToken = Annotated[str, StringConstraints(strict=True, min_length=1, max_length=20)]
"""An idTag: 1..20 characters (compared case-insensitively by the protocol)."""


def same_id_tag(left: object, right: object) -> bool:
    """Whether two idTags are the same card: both strings, equal ignoring case."""
    return isinstance(left, str) and isinstance(right, str) and left.casefold() == right.casefold()


Text = Annotated[str, StringConstraints(strict=True)]

# The schemas say "integer" with no bound; we keep integers within 64 bits so that a
# 4,000-digit reservationId from a broken peer is refused at the edge (PropertyConstraint)
# instead of failing later in SQLite, which stores 64-bit integers.
_INT64_MIN = -(2**63)
_INT64_MAX = 2**63 - 1
Integer = Annotated[int, Field(strict=True, ge=_INT64_MIN, le=_INT64_MAX)]
NonNegativeInteger = Annotated[int, Field(strict=True, ge=0, le=_INT64_MAX)]
ConnectorId = NonNegativeInteger
PositiveConnectorId = Annotated[int, Field(strict=True, gt=0, le=_INT64_MAX)]


_TENTH = Decimal("0.1")


def _tenths(value: float) -> float:
    # The schemas say multipleOf 0.1. Checked on the number as written on the wire (the
    # shortest repr of the float), as validators reading JSON numbers as decimals do:
    # binary rounding never refuses 0.3, and no size makes the check overflow.
    if not math.isfinite(value):
        # json reads 1e400 as infinity; it is no number a station can apply.
        raise PydanticCustomError("finite_number", "must be a finite number")
    if float(value).is_integer():
        return value
    if Decimal(repr(float(value))) % _TENTH != 0:
        raise PydanticCustomError("multiple_of", "must be a multiple of 0.1")
    return value


Number = Annotated[float, Field(strict=True)]
Decimal1 = Annotated[float, Field(strict=True), AfterValidator(_tenths)]
