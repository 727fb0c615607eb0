"""The base of every OCPP 2.0.1 payload, its field types, and the objects many messages share.

Class names are the official schemas' type names without ``Type`` (``IdTokenType`` ->
:class:`IdToken`, ``EVSEType`` -> :class:`EVSE`); fields are those of the schemas, snake_case
in Python and camelCase on the wire, with the schemas' lengths, lists and required sets.
Stricter than the schemas on purpose: EVSE and connector numbers are never negative, and
integers stay within 64 bits (as in 1.6, see ``console.ocpp.base``).
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import (
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    StringConstraints,
    model_serializer,
)

from console.ocpp.base import Integer, NonNegativeInteger, Number, OcppModel
from console.ocpp.dates import OcppDateTime
from console.ocpp.v201.enums import (
    AuthorizationStatus,
    HashAlgorithm,
    IdTokenType,
    Location,
    Measurand,
    MessageFormat,
    Phase,
    ReadingContext,
)

__all__ = [
    "EVSE",
    "AdditionalInfo",
    "Boolean",
    "Component",
    "CustomData",
    "EvseNumber",
    "IdToken",
    "IdTokenInfo",
    "MessageContent",
    "MeterValue",
    "OCSPRequestData",
    "SampledValue",
    "SignedMeterValue",
    "StatusInfo",
    "String8",
    "String16",
    "String20",
    "String25",
    "String32",
    "String36",
    "String40",
    "String50",
    "String128",
    "String255",
    "String500",
    "String512",
    "String1000",
    "String2500",
    "String5500",
    "UnitOfMeasure",
    "V201Model",
    "Variable",
]

# string[N] of the 2.0.1 specification: at most N characters (no lower bound: an idToken of
# type NoAuthorization is empty).
String8 = Annotated[str, StringConstraints(strict=True, max_length=8)]
String16 = Annotated[str, StringConstraints(strict=True, max_length=16)]
String20 = Annotated[str, StringConstraints(strict=True, max_length=20)]
String25 = Annotated[str, StringConstraints(strict=True, max_length=25)]
String32 = Annotated[str, StringConstraints(strict=True, max_length=32)]
String36 = Annotated[str, StringConstraints(strict=True, max_length=36)]
String40 = Annotated[str, StringConstraints(strict=True, max_length=40)]
String50 = Annotated[str, StringConstraints(strict=True, max_length=50)]
String128 = Annotated[str, StringConstraints(strict=True, max_length=128)]
String255 = Annotated[str, StringConstraints(strict=True, max_length=255)]
String500 = Annotated[str, StringConstraints(strict=True, max_length=500)]
String512 = Annotated[str, StringConstraints(strict=True, max_length=512)]
String1000 = Annotated[str, StringConstraints(strict=True, max_length=1000)]
String2500 = Annotated[str, StringConstraints(strict=True, max_length=2500)]
String5500 = Annotated[str, StringConstraints(strict=True, max_length=5500)]

Boolean = Annotated[bool, Field(strict=True)]
EvseNumber = NonNegativeInteger
"""An evseId or connectorId: 0 stands for the station as a whole, EVSEs count from 1."""


class CustomData(OcppModel):
    """Vendor data any 2.0.1 object may carry: a vendorId and any further properties.

    The one object the schemas leave open (no ``additionalProperties: false``): extra
    properties are kept as they came and sent back unchanged, a null among them too.
    """

    model_config = ConfigDict(extra="allow")

    vendor_id: String255

    @model_serializer(mode="wrap")
    def _keep_null_extras(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # exclude_none (how every payload is dumped) means "leave out unset fields"; a vendor's
        # own property that is null is a value, not an unset field.
        payload: dict[str, Any] = handler(self)
        for name, value in (self.model_extra or {}).items():
            if value is None:
                payload.setdefault(name, None)
        return payload


class V201Model(OcppModel):
    """An OCPP 2.0.1 payload or object: every one of them may carry ``customData``."""

    custom_data: CustomData | None = None


# --- identification ------------------------------------------------------------------------


class AdditionalInfo(V201Model):
    """A further identifier that goes with an idToken (its type agreed between parties)."""

    additional_id_token: String36
    type: String50


class IdToken(V201Model):
    """An identifier and its kind: an RFID card, a key code, an eMAID, ...

    The value is compared case-insensitively (see :meth:`matches`).
    """

    id_token: String36
    type: IdTokenType
    additional_info: Annotated[list[AdditionalInfo], Field(min_length=1)] | None = None

    def matches(self, other: IdToken | None) -> bool:
        """Whether ``other`` is the same token: the same type, the value equal ignoring case."""
        return (
            other is not None
            and other.type == self.type
            and other.id_token.casefold() == self.id_token.casefold()
        )


class MessageContent(V201Model):
    """A message for the driver, with its format and language."""

    format: MessageFormat
    language: String8 | None = None
    content: String512


class IdTokenInfo(V201Model):
    """What the Central System knows of an idToken: status, group, limits, a message."""

    status: AuthorizationStatus
    cache_expiry_date_time: OcppDateTime | None = None
    charging_priority: Integer | None = None
    language1: String8 | None = None
    evse_id: Annotated[list[EvseNumber], Field(min_length=1)] | None = None
    group_id_token: IdToken | None = None
    language2: String8 | None = None
    personal_message: MessageContent | None = None


class OCSPRequestData(V201Model):
    """Identifies a certificate for an OCSP request (ISO 15118 authorization)."""

    hash_algorithm: HashAlgorithm
    issuer_name_hash: String128
    issuer_key_hash: String128
    serial_number: String40
    responder_url: String512 = Field(alias="responderURL")


# --- where: EVSEs and the device model -----------------------------------------------------


class EVSE(V201Model):
    """An EVSE of the station (``id`` from 1), and optionally one of its connectors."""

    id: EvseNumber
    connector_id: EvseNumber | None = None


class StatusInfo(V201Model):
    """Why a station answered as it did: a reason code and optional text."""

    reason_code: String20
    additional_info: String512 | None = None


class Component(V201Model):
    """A component of the device model (``ReservationCtrlr``, ``Connector``, ...)."""

    name: String50
    instance: String50 | None = None
    evse: EVSE | None = None


class Variable(V201Model):
    """A variable of a component (``Enabled``, ``AvailabilityState``, ...)."""

    name: String50
    instance: String50 | None = None


# --- meter values --------------------------------------------------------------------------


class SignedMeterValue(V201Model):
    """A meter value signed by the meter, with what it takes to check the signature."""

    signed_meter_data: String2500
    signing_method: String50
    encoding_method: String50
    public_key: String2500


class UnitOfMeasure(V201Model):
    """The unit of a sampled value and its power of ten (absent: Wh and 0)."""

    unit: String20 | None = None
    multiplier: Integer | None = None


class SampledValue(V201Model):
    """One measured value (a number in 2.0.1, where 1.6 sent text)."""

    value: Number
    context: ReadingContext | None = None
    measurand: Measurand | None = None
    phase: Phase | None = None
    location: Location | None = None
    signed_meter_value: SignedMeterValue | None = None
    unit_of_measure: UnitOfMeasure | None = None


class MeterValue(V201Model):
    """Sampled values taken at one moment."""

    sampled_value: Annotated[list[SampledValue], Field(min_length=1)]
    timestamp: OcppDateTime
