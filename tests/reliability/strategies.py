"""Hypothesis strategies for OCPP-J frames a station may send: valid ones and mutations.

``valid_station_frames`` gives well-formed station-to-central CALLs (as JSON lists);
``mutated_frames`` breaks them the ways firmware does (wrong types, missing and extra
fields, huge numbers, deep nesting, lone surrogates, ids longer than 36, unknown actions,
answers to calls never made, not JSON at all). ``peer_frames`` mixes valid frames, mutants
and binary frames; ``frame_sequences`` adds duplicate ids (the same frame twice in a row).
The same generators feed ``tests/benchmarks/fuzz_frames.py`` (through ``.example()``-free
random drawing, see :func:`random_frame`).
"""

from __future__ import annotations

import json
import random
from typing import Any

from hypothesis import strategies as st

__all__ = [
    "VALID_PAYLOADS",
    "frame_sequences",
    "mutated_frames",
    "peer_frames",
    "random_frame",
    "valid_station_frames",
]

_NOW = "2026-11-25T14:00:00Z"

# One valid payload per station-to-central action of OCPP 1.6 Core.
VALID_PAYLOADS: dict[str, dict[str, Any]] = {
    "Authorize": {"idTag": "TAG-1"},
    "BootNotification": {"chargePointVendor": "Fuzz", "chargePointModel": "F-1"},
    "DataTransfer": {"vendorId": "fuzz", "messageId": "m", "data": "d"},
    "DiagnosticsStatusNotification": {"status": "Idle"},
    "FirmwareStatusNotification": {"status": "Idle"},
    "Heartbeat": {},
    "MeterValues": {
        "connectorId": 1,
        "meterValue": [{"timestamp": _NOW, "sampledValue": [{"value": "12.5"}]}],
    },
    "StartTransaction": {
        "connectorId": 1,
        "idTag": "TAG-1",
        "meterStart": 0,
        "timestamp": _NOW,
    },
    "StatusNotification": {"connectorId": 1, "errorCode": "NoError", "status": "Available"},
    "StopTransaction": {"meterStop": 10, "timestamp": _NOW, "transactionId": 1},
}
# Answers the Central System sends are CALLs for it to refuse (NotSupported).
_CENTRAL_ACTIONS = ["ReserveNow", "CancelReservation", "GetConfiguration", "TriggerMessage"]
_UNKNOWN_ACTIONS = ["Reboot", "ReserveNowPlease", "", "heartbeat", "\u00e9t\u00e9", "A" * 300]

_IDS = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=36
)
_ODD_VALUES = st.sampled_from(
    [
        None,
        True,
        -1,
        0,
        2**31,
        2**63,
        10**30,
        -(10**30),
        1e308,
        -1e-308,
        1.5,
        "",
        "x" * 500,
        "\ud800",
        "\udfff\ud800",
        "\u0000",
        [],
        {},
        [1, 2],
        {"a": {"b": None}},
        _NOW,
        "2026-13-45T99:99:99Z",
    ]
)
_JSON_LEAVES = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
_JSON = st.recursive(
    _JSON_LEAVES,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)


def _dump(frame: Any) -> str:
    # ensure_ascii keeps lone surrogates as \ud800 escapes: the text stays sendable.
    return json.dumps(frame)


@st.composite
def valid_station_frames(draw: st.DrawFn) -> list[Any]:
    """A well-formed CALL a station sends: ``[2, id, action, payload]``."""
    action = draw(st.sampled_from(sorted(VALID_PAYLOADS)))
    return [2, draw(_IDS), action, dict(VALID_PAYLOADS[action])]


def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@st.composite
def mutated_frames(draw: st.DrawFn) -> str | bytes:
    """A valid frame broken one (or a few) of the ways firmware breaks them, as text."""
    frame = draw(valid_station_frames())
    payload: dict[str, Any] = frame[3]
    kind = draw(
        st.sampled_from(
            [
                "wrong_type",
                "missing_field",
                "extra_field",
                "huge_number",
                "deep_nesting",
                "lone_surrogate",
                "long_id",
                "unknown_action",
                "central_action",
                "answer_to_nothing",
                "error_to_nothing",
                "bad_message_type",
                "wrong_length",
                "payload_not_object",
                "id_not_string",
                "not_json",
                "not_a_list",
                "truncated",
                "huge_digits",
                "several",
            ]
        )
    )
    if kind in ("wrong_type", "several") and payload:
        key = draw(st.sampled_from(sorted(payload)))
        payload[key] = draw(_ODD_VALUES | _JSON)
    if kind in ("missing_field", "several") and payload:
        payload.pop(draw(st.sampled_from(sorted(payload))))
    if kind in ("extra_field", "several"):
        payload[draw(st.text(min_size=1, max_size=12))] = draw(_ODD_VALUES | _JSON)
    if kind == "huge_number":
        key = draw(st.sampled_from(sorted(payload) or ["connectorId"]))
        payload[key] = draw(st.sampled_from([10**40, -(10**40), 1e308, 2**64, -(2**63) - 1]))
    if kind == "lone_surrogate":
        frame[1] = draw(st.sampled_from(["\ud800", "id-\udfff", "\ud83d"]))
        payload["idTag"] = "\udc80"
    if kind == "long_id":
        frame[1] = "i" * draw(st.integers(37, 2000))
    if kind == "unknown_action":
        frame[2] = draw(st.sampled_from(_UNKNOWN_ACTIONS) | st.text(max_size=30))
    if kind == "central_action":
        frame[2] = draw(st.sampled_from(_CENTRAL_ACTIONS))
    if kind == "answer_to_nothing":
        return _dump([3, frame[1], draw(st.sampled_from([{}, {"status": "Accepted"}, payload]))])
    if kind == "error_to_nothing":
        code = draw(st.sampled_from(["GenericError", "FormatViolation", "Bogus", ""]))
        return _dump([4, frame[1], code, draw(st.text(max_size=20)), {}])
    if kind == "bad_message_type":
        frame[0] = draw(st.sampled_from([0, 1, 5, -2, 2.0, "2", True, None, 2**70]))
    if kind == "wrong_length":
        frame = frame[: draw(st.integers(0, 3))] + draw(st.lists(_JSON, max_size=2))
    if kind == "payload_not_object":
        frame[3] = draw(st.sampled_from([[], "payload", 1, None, [payload]]))
    if kind == "id_not_string":
        frame[1] = draw(st.sampled_from([1, None, [], {}, 1.5, True]))
    text = _dump(frame)
    if kind == "deep_nesting":
        depth = draw(st.sampled_from([50, 500, 5_000, 20_000]))
        return text[:-2] + ', "deep": ' + _nested(depth) + "}]" if payload else text
    if kind == "not_json":
        return draw(st.text(max_size=60) | st.sampled_from(["", "[", "]", "null", "[2,", "{}"]))
    if kind == "not_a_list":
        return _dump(draw(st.sampled_from([{"0": 2}, "frame", 2, None, payload])))
    if kind == "truncated":
        return text[: draw(st.integers(0, max(0, len(text) - 1)))]
    if kind == "huge_digits":
        return text.replace("1", "1" * 5000, 1) if "1" in text else text + "1" * 5000
    return text


def peer_frames() -> st.SearchStrategy[str | bytes]:
    """Anything a station may send on its connection: valid, mutated or binary."""
    valid = valid_station_frames().map(_dump)
    binary = st.binary(max_size=64) | st.sampled_from(
        [b"\xff\xfe", b'[2,"1","Heartbeat",{}]', b"\x80abc", b"\xed\xa0\x80"]
    )
    return st.one_of(valid, mutated_frames(), binary)


@st.composite
def frame_sequences(draw: st.DrawFn, max_size: int = 8) -> list[str | bytes]:
    """Several frames in a row; sometimes one repeats right after itself (duplicate id)."""
    frames: list[str | bytes] = []
    for frame in draw(st.lists(peer_frames(), min_size=1, max_size=max_size)):
        frames.append(frame)
        if draw(st.booleans()) and draw(st.booleans()):
            frames.append(frame)
    return frames


def random_frame(rng: random.Random) -> str | bytes:
    """One frame drawn without hypothesis's engine (fast enough for 100,000 of them).

    Mirrors the strategies: about a fifth valid, the rest mutated, some binary.
    """
    action = rng.choice(sorted(VALID_PAYLOADS))
    message_id = f"f{rng.getrandbits(40):x}"
    payload: dict[str, Any] = json.loads(json.dumps(VALID_PAYLOADS[action]))
    frame: list[Any] = [2, message_id, action, payload]
    roll = rng.random()
    odd: list[Any] = [None, True, -1, 2**63, 10**30, 1e308, "", "x" * 300, "\ud800", [], {}]
    if roll < 0.2:
        return _dump(frame)
    if roll < 0.3:
        if payload:
            payload.pop(rng.choice(sorted(payload)))
        return _dump(frame)
    if roll < 0.4:
        if payload:
            payload[rng.choice(sorted(payload))] = rng.choice(odd)
        return _dump(frame)
    if roll < 0.45:
        payload[f"extra{rng.randrange(9)}"] = rng.choice(odd)
        return _dump(frame)
    if roll < 0.5:
        frame[1] = "i" * rng.randrange(37, 400)
        return _dump(frame)
    if roll < 0.55:
        frame[2] = rng.choice(_UNKNOWN_ACTIONS + _CENTRAL_ACTIONS)
        return _dump(frame)
    if roll < 0.6:
        return _dump([3, message_id, {"status": "Accepted"}])
    if roll < 0.63:
        return _dump([4, message_id, "GenericError", "nothing asked", {}])
    if roll < 0.67:
        return _dump(frame)[:-2] + ', "deep": ' + _nested(rng.choice([100, 2_000, 20_000])) + "}]"
    if roll < 0.7:
        frame[1] = rng.choice(["\ud800", "a\udfff"])
        return _dump(frame)
    if roll < 0.75:
        frame[0] = rng.choice([0, 1, 5, "2", None, True, 2.5])
        return _dump(frame)
    if roll < 0.8:
        text = _dump(frame)
        return text[: rng.randrange(len(text))]
    if roll < 0.85:
        return rng.choice(["", "null", "{}", "[]", "[2]", "garbage", "[2,1,2,3]", " "])
    if roll < 0.9:
        return bytes(rng.getrandbits(8) for _ in range(rng.randrange(1, 40)))
    if roll < 0.93:
        return _dump(frame).replace("1", "9" * 5000, 1) if "1" in _dump(frame) else "9" * 5000
    if roll < 0.96:
        frame[3] = rng.choice([[], "p", 1, None])
        return _dump(frame)
    return _dump(frame[: rng.randrange(0, 4)])
