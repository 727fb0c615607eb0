"""How fast station frames are checked against the official OCPP 1.6 schemas.

Run: ``.venv/bin/python tests/benchmarks/bench_schema.py`` (add ``--quick`` for a rough run).

For a StatusNotification CALL, a CALLRESULT to ReserveNow and a MeterValues CALL with 10 sampled
values it prints frames per second and microseconds per frame for

* ours: ``console.ocpp.schema.station_frame_problems(text)`` — JSON parsing (numbers with a
  fraction as Decimal), frame shape, message id and the payload against the schema, with the
  date-time format checked;
* jsonschema: ``json.loads(text, parse_float=Decimal)`` and ``Draft4Validator.is_valid`` of the
  payload, the validator built once (as the ``ocpp`` package caches it), with a
  ``FormatChecker`` whose date-time check is a compiled regular expression (cheaper than
  rfc3339-validator; so jsonschema's figure is, if anything, flattering).

Each figure is the best of several repeats (the least disturbed by other processes).
Target: a StatusNotification frame well under 100 µs with ours.
"""

from __future__ import annotations

import json
import re
import sys
import timeit
from collections.abc import Callable
from decimal import Decimal
from importlib import resources

from jsonschema import Draft4Validator, FormatChecker

from console.ocpp.schema import station_frame_problems

MESSAGE_ID = "9c1e6d3a-5f0b-4f8e-9a51-2b7c0d4e8f11"
WHEN = "2026-11-25T14:30:05Z"
DATE_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)", re.ASCII)

STATUS_NOTIFICATION = json.dumps(
    [
        2,
        MESSAGE_ID,
        "StatusNotification",
        {"connectorId": 1, "errorCode": "NoError", "status": "Reserved", "timestamp": WHEN},
    ]
)
RESERVE_NOW_RESULT = json.dumps([3, MESSAGE_ID, {"status": "Accepted"}])
METER_VALUES = json.dumps(
    [
        2,
        MESSAGE_ID,
        "MeterValues",
        {
            "connectorId": 1,
            "transactionId": 42,
            "meterValue": [
                {
                    "timestamp": WHEN,
                    "sampledValue": [
                        {
                            "value": str(index * 10.5),
                            "context": "Sample.Periodic",
                            "measurand": "Current.Import",
                            "phase": "L1",
                            "unit": "A",
                        }
                        for index in range(10)
                    ],
                }
            ],
        },
    ]
)

# (label, frame text, schema file, action of the call a CALLRESULT answers)
CASES = [
    ("StatusNotification CALL", STATUS_NOTIFICATION, "StatusNotification", None),
    ("ReserveNow CALLRESULT", RESERVE_NOW_RESULT, "ReserveNowResponse", "ReserveNow"),
    ("MeterValues CALL (10 values)", METER_VALUES, "MeterValues", None),
]


def jsonschema_validator(schema_name: str) -> Draft4Validator:
    checker = FormatChecker(formats=())
    checker.checks("date-time")(
        lambda value: not isinstance(value, str) or DATE_TIME.fullmatch(value) is not None
    )
    path = resources.files("console.ocpp") / "schemas" / "v16" / f"{schema_name}.json"
    schema = json.loads(path.read_text(encoding="utf-8-sig"), parse_float=Decimal)
    return Draft4Validator(schema, format_checker=checker)


def best_microseconds(function: Callable[[], object], number: int, repeat: int) -> float:
    return min(timeit.repeat(function, number=number, repeat=repeat)) / number * 1e6


def main() -> None:
    quick = "--quick" in sys.argv
    number, repeat = (2_000, 3) if quick else (20_000, 7)
    print(f"{'frame':<30} {'ours':>22} {'jsonschema':>22} {'ratio':>7}")
    for label, text, schema_name, answered_action in CASES:
        validator = jsonschema_validator(schema_name)
        payload_index = 2 if text.startswith("[3") else 3

        def ours(text: str = text, answered_action: str | None = answered_action) -> object:
            return station_frame_problems(text, answered_action)

        def theirs(
            text: str = text, validator: Draft4Validator = validator, index: int = payload_index
        ) -> object:
            return validator.is_valid(json.loads(text, parse_float=Decimal)[index])

        assert ours() == [], ours()
        assert theirs() is True
        our_us = best_microseconds(ours, number, repeat)
        their_us = best_microseconds(theirs, number, repeat)
        print(
            f"{label:<30} {1e6 / our_us:>9,.0f}/s {our_us:>7.1f} µs"
            f" {1e6 / their_us:>9,.0f}/s {their_us:>7.1f} µs {their_us / our_us:>6.1f}x"
        )


if __name__ == "__main__":
    main()
