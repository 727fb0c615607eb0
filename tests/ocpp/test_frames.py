"""OCPP-J framing: parse and serialize (also straight from a model, for both versions), and the
CALLERROR code of every broken frame."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from console.ocpp.errors import ErrorCode
from console.ocpp.frames import (
    MAX_MESSAGE_ID_LENGTH,
    Call,
    CallError,
    CallResult,
    Frame,
    FrameError,
    MessageType,
    parse_frame,
    serialize_call,
    serialize_frame,
    serialize_result,
)
from console.ocpp.tables import FEATURE_TABLES
from tests.ocpp.model_payloads import model_strategy

FORMATION = ErrorCode.FORMATION_VIOLATION
PROTOCOL = ErrorCode.PROTOCOL_ERROR


@pytest.mark.parametrize(
    ("text", "frame"),
    [
        ('[2,"1","Heartbeat",{}]', Call("1", "Heartbeat", {})),
        (
            '[2,"a-b","Authorize",{"idTag":"ABC"}]',
            Call("a-b", "Authorize", {"idTag": "ABC"}),
        ),
        ('[3,"1",{"currentTime":"x"}]', CallResult("1", {"currentTime": "x"})),
        ('[3,"1",{}]', CallResult("1", {})),
        (
            '[4,"1","NotImplemented","no such action",{"a":1}]',
            CallError("1", "NotImplemented", "no such action", {"a": 1}),
        ),
    ],
)
def test_parse_and_serialize_round_trip(text: str, frame: Frame) -> None:
    assert parse_frame(text) == frame
    assert serialize_frame(frame) == text
    assert parse_frame(serialize_frame(frame)) == frame


def test_message_types() -> None:
    assert parse_frame('[2,"1","Heartbeat",{}]').message_type is MessageType.CALL
    assert parse_frame('[3,"1",{}]').message_type is MessageType.CALL_RESULT
    assert parse_frame('[4,"1","GenericError","",{}]').message_type is MessageType.CALL_ERROR


def test_whitespace_and_unicode_are_read() -> None:
    frame = parse_frame(' [ 2 , "1" , "DataTransfer" , { "vendorId" : "Zürich ⚡" } ] \n')
    assert frame == Call("1", "DataTransfer", {"vendorId": "Zürich ⚡"})
    # Sent compact, non-ASCII as itself (the WebSocket layer encodes UTF-8).
    assert serialize_frame(frame) == '[2,"1","DataTransfer",{"vendorId":"Zürich ⚡"}]'


def test_a_call_error_without_details_or_with_null_details_is_read() -> None:
    assert parse_frame('[4,"1","InternalError","boom"]') == CallError("1", "InternalError", "boom")
    assert parse_frame('[4,"1","InternalError","boom",null]').details == {}
    assert parse_frame('[4,"1","InternalError","boom",[1]]').details == {"details": [1]}


def test_a_call_error_is_always_sent_with_five_elements() -> None:
    assert serialize_frame(CallError("7", "GenericError")) == '[4,"7","GenericError","",{}]'


def test_a_message_id_of_36_characters_is_fine() -> None:
    message_id = "x" * MAX_MESSAGE_ID_LENGTH
    assert parse_frame(f'[2,"{message_id}","Heartbeat",{{}}]').message_id == message_id


def test_lone_surrogates_a_peer_sent_go_back_escaped() -> None:
    # "\ud800" is valid JSON text that becomes a str no UTF-8 encoder takes.
    frame = parse_frame('[2,"\\ud800","Heartbeat",{}]')
    text = serialize_frame(CallError(frame.message_id, "NotSupported", "nope"))
    assert text.encode()  # encodable: the WebSocket layer can send it
    assert json.loads(text)[1] == "\ud800"


def broken(text: str | bytes) -> FrameError:
    with pytest.raises(FrameError) as caught:
        parse_frame(text)
    return caught.value


@pytest.mark.parametrize(
    ("text", "code"),
    [
        pytest.param("", FORMATION, id="empty"),
        pytest.param("hello", FORMATION, id="not JSON"),
        pytest.param('[2,"1","Heartbeat",{}', FORMATION, id="truncated"),
        pytest.param('[2,"1","Heartbeat",{}]]', FORMATION, id="trailing bracket"),
        pytest.param('{"id":"1"}', FORMATION, id="an object"),
        pytest.param('"text"', FORMATION, id="a string"),
        pytest.param("2", FORMATION, id="a number"),
        pytest.param("null", FORMATION, id="null"),
        pytest.param("[]", FORMATION, id="empty array"),
        pytest.param("[2]", PROTOCOL, id="type only"),
        pytest.param('[2,"1","MeterValues",{"v":NaN}]', FORMATION, id="NaN"),
        pytest.param('[2,"1","MeterValues",{"v":Infinity}]', FORMATION, id="Infinity"),
        pytest.param('[2,"1","MeterValues",{"v":-Infinity}]', FORMATION, id="-Infinity"),
        pytest.param('[2,1,"Heartbeat",{}]', PROTOCOL, id="id a number"),
        pytest.param('[2,null,"Heartbeat",{}]', PROTOCOL, id="id null"),
        pytest.param('[2,["1"],"Heartbeat",{}]', PROTOCOL, id="id a list"),
        pytest.param("[" * 100_000 + "]" * 100_000, FORMATION, id="deep nesting"),
    ],
)
def test_frames_without_a_readable_id_are_dropped(text: str, code: ErrorCode) -> None:
    error = broken(text)
    assert error.code is code
    assert error.message_id is None  # nothing to answer: the session drops it
    assert error.description


def test_a_binary_frame_is_a_formation_violation() -> None:
    for data in [b'[2,"1","Heartbeat",{}]', bytearray(b"[]"), memoryview(b"[]")]:
        error = broken(data)  # type: ignore[arg-type]
        assert error.code is FORMATION
        assert "binary" in error.description


@pytest.mark.parametrize(
    ("text", "code", "message_type", "action"),
    [
        pytest.param('[5,"9","Heartbeat",{}]', PROTOCOL, None, None, id="unknown type 5"),
        pytest.param('[0,"9"]', PROTOCOL, None, None, id="unknown type 0"),
        pytest.param('["2","9","Heartbeat",{}]', PROTOCOL, None, None, id="type as text"),
        pytest.param('[true,"9","Heartbeat",{}]', PROTOCOL, None, None, id="type true"),
        pytest.param('[2.0,"9","Heartbeat",{}]', PROTOCOL, None, None, id="type float"),
        pytest.param('[2,"9"]', PROTOCOL, 2, None, id="CALL without action"),
        pytest.param('[2,"9",7,{}]', PROTOCOL, 2, None, id="action a number"),
        pytest.param('[2,"9","",{}]', PROTOCOL, 2, None, id="action empty"),
        pytest.param('[2,"9","Heartbeat"]', PROTOCOL, 2, "Heartbeat", id="CALL of 3"),
        pytest.param('[2,"9","Heartbeat",{},{}]', PROTOCOL, 2, "Heartbeat", id="CALL of 5"),
        pytest.param('[2,"9","Heartbeat",[]]', FORMATION, 2, "Heartbeat", id="payload list"),
        pytest.param('[2,"9","Heartbeat",null]', FORMATION, 2, "Heartbeat", id="payload null"),
        pytest.param('[2,"9","Heartbeat","{}"]', FORMATION, 2, "Heartbeat", id="payload text"),
        pytest.param('[3,"9"]', PROTOCOL, 3, None, id="CALLRESULT of 2"),
        pytest.param('[3,"9",{},{}]', PROTOCOL, 3, None, id="CALLRESULT of 4"),
        pytest.param('[3,"9",[]]', FORMATION, 3, None, id="CALLRESULT payload list"),
        pytest.param('[3,"9",null]', FORMATION, 3, None, id="CALLRESULT payload null"),
        pytest.param('[4,"9","GenericError"]', PROTOCOL, 4, None, id="CALLERROR of 3"),
        pytest.param('[4,"9","GenericError","",{},1]', PROTOCOL, 4, None, id="CALLERROR of 6"),
        pytest.param('[4,"9",1,"",{}]', FORMATION, 4, None, id="CALLERROR code number"),
        pytest.param('[4,"9","GenericError",null,{}]', FORMATION, 4, None, id="description null"),
    ],
)
def test_frames_with_a_readable_id_keep_it(
    text: str, code: ErrorCode, message_type: int | None, action: str | None
) -> None:
    error = broken(text)
    assert error.code is code
    assert error.message_id == "9"
    assert error.message_type == message_type
    assert error.action == action


@pytest.mark.parametrize(
    "message_id",
    [pytest.param("", id="empty"), pytest.param("x" * 37, id="37 chars")],
)
def test_an_id_outside_1_to_36_characters_is_a_protocol_error(message_id: str) -> None:
    error = broken(json.dumps([2, message_id, "Heartbeat", {}]))
    assert error.code is PROTOCOL
    assert error.message_id == message_id
    assert error.message_type == MessageType.CALL


JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=10),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=5), children, max_size=5)
    ),
    max_leaves=20,
)


# A busy shared machine must not fail a test: no deadline, no speed health check.
@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(JSON_VALUES)
def test_any_json_value_parses_or_raises_frame_error(value: Any) -> None:
    text = json.dumps(value)
    try:
        frame = parse_frame(text)
    except FrameError as error:
        code = error.code
    else:
        code = None
    if code is not None:
        assert code in (FORMATION, PROTOCOL)
        return
    assert isinstance(value, list)
    assert value[0] in (2, 3, 4)
    assert 1 <= len(frame.message_id) <= MAX_MESSAGE_ID_LENGTH


# A busy shared machine must not fail a test: no deadline, no speed health check.
@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.text(min_size=1, max_size=MAX_MESSAGE_ID_LENGTH),
    st.text(min_size=1, max_size=30),
    st.dictionaries(st.text(max_size=8), JSON_VALUES, max_size=4),
)
def test_any_call_round_trips(message_id: str, action: str, payload: dict[str, Any]) -> None:
    frame = Call(message_id, action, payload)
    assert parse_frame(serialize_frame(frame)) == frame


# A busy shared machine must not fail a test: no deadline, no speed health check.
@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=60) | st.binary(max_size=20))
def test_any_text_parses_or_raises_frame_error(text: str | bytes) -> None:
    try:
        parse_frame(text)
    except FrameError as error:
        code: ErrorCode | None = error.code
    else:
        code = None
    assert code in (None, FORMATION, PROTOCOL)


# --- frames written straight from a model ----------------------------------------------------


def _every_model() -> list[Any]:
    return [
        pytest.param(model, id=f"{version}:{model.__name__}")
        for version, table in FEATURE_TABLES.items()
        for feature in table.features.values()
        for model in (feature.request, feature.confirmation)
    ]


@pytest.mark.parametrize("model", _every_model())
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_a_frame_written_from_a_model_is_the_frame_of_its_payload(
    model: Any, data: st.DataObject
) -> None:
    instance = data.draw(model_strategy(model))
    message_id = data.draw(st.text(max_size=36) | st.sampled_from(["\ud800", "é-1", "a\u2028b"]))
    payload = instance.to_payload()
    action = model.feature_name
    assert serialize_call(message_id, action, instance) == serialize_frame(
        Call(message_id, action, payload)
    )
    assert serialize_result(message_id, instance) == serialize_frame(
        CallResult(message_id, payload)
    )
