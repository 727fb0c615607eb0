"""OCPP-J framing: text frames in, typed frames out, and back.

CALL ``[2, id, action, {..}]``, CALLRESULT ``[3, id, {..}]``,
CALLERROR ``[4, id, code, description, {details}]``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

from pydantic_core import PydanticSerializationError, to_json

from console.ocpp.base import OcppModel
from console.ocpp.errors import ErrorCode

__all__ = [
    "MAX_MESSAGE_ID_LENGTH",
    "Call",
    "CallError",
    "CallResult",
    "Frame",
    "FrameError",
    "MessageType",
    "parse_frame",
    "serialize_call",
    "serialize_frame",
    "serialize_result",
]

MAX_MESSAGE_ID_LENGTH = 36


class MessageType(IntEnum):
    CALL = 2
    CALL_RESULT = 3
    CALL_ERROR = 4


@dataclass(frozen=True, slots=True)
class Call:
    message_id: str
    action: str
    payload: dict[str, Any]

    message_type = MessageType.CALL


@dataclass(frozen=True, slots=True)
class CallResult:
    message_id: str
    payload: dict[str, Any]

    message_type = MessageType.CALL_RESULT


@dataclass(frozen=True, slots=True)
class CallError:
    message_id: str
    error_code: str
    description: str = ""
    details: dict[str, Any] = field(default_factory=dict)

    message_type = MessageType.CALL_ERROR


Frame = Call | CallResult | CallError


class FrameError(Exception):
    """A text frame that is not a valid OCPP-J message.

    ``message_id`` is None when the id could not be read: such a frame cannot be
    answered and is dropped (and traced). ``message_type`` is the frame's type where it
    could be read; only a broken CALL is answered with a CALLERROR.
    """

    def __init__(
        self,
        code: ErrorCode,
        description: str,
        message_id: str | None = None,
        message_type: int | None = None,
        action: str | None = None,
    ) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.message_id = message_id
        self.message_type = message_type
        self.action = action


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


# Built once: json.loads with any keyword argument builds a new decoder on every call,
# which costs as much as decoding a small frame.
_DECODER = json.JSONDecoder(parse_constant=_reject_constant)
# For text pydantic's (UTF-8 only) encoder refuses: lone surrogates a peer sent as
# "\ud800" escapes and that we echo (its message id, say) go out escaped again.
_ASCII_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=True)


def _decode(text: str | bytes) -> Any:
    if not isinstance(text, str):
        raise FrameError(ErrorCode.FORMATION_VIOLATION, "binary frame; OCPP-J uses text frames")
    try:
        return _DECODER.decode(text)
    except RecursionError:
        raise FrameError(ErrorCode.FORMATION_VIOLATION, "JSON nested too deeply") from None
    except ValueError as exc:
        raise FrameError(ErrorCode.FORMATION_VIOLATION, f"not JSON: {exc}") from None


def parse_frame(text: str | bytes) -> Frame:
    """Parse one text frame; raises ``FrameError`` for anything that is not OCPP-J."""
    data = _decode(text)
    if not isinstance(data, list) or not data:
        raise FrameError(ErrorCode.FORMATION_VIOLATION, "a frame must be a non-empty JSON array")
    kind = data[0]
    message_id = data[1] if len(data) > 1 else None
    if not isinstance(message_id, str):
        raise FrameError(ErrorCode.PROTOCOL_ERROR, "message id missing or not a string")
    # bool is an int in Python; a frame starting with true is not a message type.
    if type(kind) is not int or kind not in (2, 3, 4):
        raise FrameError(
            ErrorCode.PROTOCOL_ERROR, f"unknown message type {kind!r}", message_id, None
        )
    if not message_id or len(message_id) > MAX_MESSAGE_ID_LENGTH:
        raise FrameError(
            ErrorCode.PROTOCOL_ERROR,
            f"message id must be 1..{MAX_MESSAGE_ID_LENGTH} characters",
            message_id,
            kind,
        )
    if kind == MessageType.CALL:
        return _parse_call(data, message_id)
    if kind == MessageType.CALL_RESULT:
        if len(data) != 3:
            raise FrameError(
                ErrorCode.PROTOCOL_ERROR, "a CALLRESULT has 3 elements", message_id, kind
            )
        if not isinstance(data[2], dict):
            raise FrameError(
                ErrorCode.FORMATION_VIOLATION,
                "CALLRESULT payload is not an object",
                message_id,
                kind,
            )
        return CallResult(message_id, data[2])
    return _parse_call_error(data, message_id)


def _parse_call(data: list[Any], message_id: str) -> Call:
    action = data[2] if len(data) > 2 else None
    if not isinstance(action, str) or not action:
        raise FrameError(
            ErrorCode.PROTOCOL_ERROR, "CALL without an action name", message_id, MessageType.CALL
        )
    if len(data) != 4:
        raise FrameError(
            ErrorCode.PROTOCOL_ERROR, "a CALL has 4 elements", message_id, MessageType.CALL, action
        )
    if not isinstance(data[3], dict):
        raise FrameError(
            ErrorCode.FORMATION_VIOLATION,
            "CALL payload is not an object",
            message_id,
            MessageType.CALL,
            action,
        )
    return Call(message_id, action, data[3])


def _parse_call_error(data: list[Any], message_id: str) -> CallError:
    # Lenient on input: some firmware leaves out the details, or sends null for them.
    if len(data) not in (4, 5):
        raise FrameError(ErrorCode.PROTOCOL_ERROR, "a CALLERROR has 5 elements", message_id, 4)
    code, description = data[2], data[3]
    details = data[4] if len(data) == 5 else {}
    if not isinstance(code, str) or not isinstance(description, str):
        raise FrameError(
            ErrorCode.FORMATION_VIOLATION,
            "CALLERROR code and description must be strings",
            message_id,
            4,
        )
    if not isinstance(details, dict):
        details = {"details": details} if details is not None else {}
    return CallError(message_id, code, description, details)


def serialize_frame(frame: Frame) -> str:
    """The compact JSON text of a frame."""
    body: list[Any]
    if isinstance(frame, Call):
        body = [2, frame.message_id, frame.action, frame.payload]
    elif isinstance(frame, CallResult):
        body = [3, frame.message_id, frame.payload]
    else:
        body = [4, frame.message_id, frame.error_code, frame.description, frame.details]
    try:
        # pydantic-core's encoder: three times faster than json.dumps, same compact text.
        return to_json(body).decode()
    except PydanticSerializationError:
        return _ASCII_ENCODER.encode(body)


def serialize_call(message_id: str, action: str, request: OcppModel) -> str:
    """The text of a CALL carrying ``request``: the same text as :func:`serialize_frame` of
    ``Call(message_id, action, request.to_payload())``, written without the payload dict."""
    return _serialize_with_model([2, message_id, action], request)


def serialize_result(message_id: str, confirmation: OcppModel) -> str:
    """The text of a CALLRESULT carrying ``confirmation`` (as :func:`serialize_call`)."""
    return _serialize_with_model([3, message_id], confirmation)


def _serialize_with_model(head: list[Any], model: OcppModel) -> str:
    # pydantic-core writes the model's JSON straight from the model: for payloads of many small
    # objects (2.0.1 reports, meter values) a third faster than a dict first, then its JSON.
    # Same serializer, same options as to_payload: the same bytes.
    try:
        start = to_json(head)
        body = model.__pydantic_serializer__.to_json(model, by_alias=True, exclude_none=True)
    except PydanticSerializationError:
        # Text pydantic's encoder refuses (a peer's lone surrogate in an id we echo): the
        # escaping path of serialize_frame.
        return _ASCII_ENCODER.encode([*head, model.to_payload()])
    return (start[:-1] + b"," + body + b"]").decode()
