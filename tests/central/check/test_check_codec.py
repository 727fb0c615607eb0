"""The reservation check result's JSON and CSV forms (console.central.check.codec)."""

from __future__ import annotations

import copy
import csv
import io
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from console.central.check.codec import (
    CHECK_CSV_COLUMNS,
    CHECK_FORMAT,
    CHECK_FORMAT_VERSION,
    check_from_dict,
    check_from_json,
    check_to_dict,
    check_to_json,
    checks_csv_lines,
    checks_to_csv_rows,
)
from console.central.check.model import (
    CheckOutcome,
    CheckResult,
    CheckStep,
    ReservationSpan,
    StatusPoint,
    StepResult,
    Verdict,
)
from console.central.model import TraceDirection, TraceEntry
from console.ocpp.versions import OcppVersion

T0 = datetime(2026, 11, 25, 15, 0, 0, tzinfo=UTC)


def frame(seq: int, station_id: str = "CP-1", **changes: Any) -> TraceEntry:
    values: dict[str, Any] = {
        "seq": seq,
        "at": T0 + timedelta(seconds=seq, microseconds=250_000),
        "station_id": station_id,
        "direction": TraceDirection.OUT,
        "text": f'[2,"m{seq}","ReserveNow",{{"connectorId":1}}]',
        "message_type": 2,
        "message_id": f"m{seq}",
        "action": "ReserveNow",
    }
    values.update(changes)
    return TraceEntry(**values)


def sample_result() -> CheckResult:
    return CheckResult(
        check_id=7,
        station_id="CP-1",
        started_at=T0,
        connectors=(1, 2),
        id_tag="TAG-1",
        vendor="Acme",
        model="Wallbox",
        firmware_version="1.2.3",
        serial_number=None,
        finished_at=T0 + timedelta(minutes=2),
        outcome=CheckOutcome.FAILED,
        steps=(
            StepResult(
                CheckStep.RESERVE,
                1,
                Verdict.PASSED,
                "Accepted, then Reserved",
                started_at=T0,
                finished_at=T0 + timedelta(seconds=1),
                evidence=(
                    frame(1),
                    frame(
                        2,
                        direction=TraceDirection.IN,
                        text='[3,"m1",{"status":"Accepted"}]',
                        message_type=3,
                        action=None,
                        latency=0.125,
                    ),
                ),
            ),
            StepResult(CheckStep.EXPIRY, 2, Verdict.FAILED, "never became Available"),
            StepResult(CheckStep.SCHEMAS, None, Verdict.SKIPPED, "cancelled"),
        ),
        statuses=(StatusPoint(T0 + timedelta(seconds=1), 1, "Reserved"),),
        spans=(ReservationSpan(41, 1, "TAG-1", T0, T0 + timedelta(seconds=5), "cancelled"),),
        left_behind=(43,),
    )


# --- encoding ------------------------------------------------------------------------------


def test_dict_is_json_ready_and_tagged() -> None:
    data = check_to_dict(sample_result())
    assert data["format"] == CHECK_FORMAT
    assert data["version"] == CHECK_FORMAT_VERSION == 2
    assert data["ocpp_version"] == "1.6"
    assert data["started_at"] == "2026-11-25T15:00:00Z"
    assert data["outcome"] == "failed"
    first = data["steps"][0]
    assert first["step"] == "reserve"
    assert first["number"] == 1
    assert first["title"] == "Reserve a free connector"
    assert first["verdict"] == "passed"
    assert data["steps"][2]["connector_id"] is None
    assert set(first["evidence"][0]) == {
        "seq",
        "at",
        "direction",
        "text",
        "message_type",
        "message_id",
        "action",
        "latency",
        "late",
        "error_code",
        "note",
        "ocpp_version",
    }
    assert first["evidence"][0]["at"] == "2026-11-25T15:00:01.250000Z"
    assert first["evidence"][1]["direction"] == "in"
    assert first["evidence"][1]["latency"] == 0.125
    # The standard library takes it as it is, strictly (no NaN, no objects).
    assert json.loads(json.dumps(data, allow_nan=False)) == data


def test_dates_in_other_offsets_are_written_in_utc() -> None:
    plus_two = timezone(timedelta(hours=2))
    result = CheckResult(None, "CP-1", datetime(2026, 1, 1, 2, 0, tzinfo=plus_two), (1,), "T")
    assert check_to_dict(result)["started_at"] == "2026-01-01T00:00:00Z"


def test_a_frame_of_another_station_keeps_its_station() -> None:
    step = StepResult(CheckStep.RESERVE, 1, evidence=(frame(1, station_id="OTHER"),))
    result = CheckResult(None, "CP-1", T0, (1,), "T", steps=(step,))
    data = check_to_dict(result)
    assert data["steps"][0]["evidence"][0]["station_id"] == "OTHER"
    assert check_from_dict(data) == result


def test_sample_round_trips_through_json_text() -> None:
    result = sample_result()
    assert check_from_json(check_to_json(result)) == result
    assert check_from_json(check_to_json(result, indent=2).encode()) == result


def test_lone_surrogates_from_a_station_survive_json_text() -> None:
    step = StepResult(CheckStep.SCHEMAS, None, evidence=(frame(1, text='["\ud800"]'),))
    result = CheckResult(None, "CP-1", T0, (1,), "T", steps=(step,))
    text = check_to_json(result)
    assert text.isascii()
    assert check_from_json(text) == result


# --- property: every result round-trips exactly --------------------------------------------

_dates = st.datetimes(
    min_value=datetime(1970, 1, 1),
    max_value=datetime(2200, 1, 1),
    timezones=st.sampled_from([UTC, timezone(timedelta(hours=5, minutes=30))]),
)
_texts = st.text(max_size=30)
_ints = st.integers(min_value=-(2**53), max_value=2**53)


@st.composite
def _frames(draw: st.DrawFn, station_id: str) -> TraceEntry:
    return TraceEntry(
        seq=draw(_ints),
        at=draw(_dates),
        station_id=station_id,
        direction=draw(st.sampled_from(TraceDirection)),
        text=draw(_texts),
        message_type=draw(st.none() | st.sampled_from([2, 3, 4])),
        message_id=draw(st.none() | _texts),
        action=draw(st.none() | _texts),
        latency=draw(st.none() | st.floats(allow_nan=False, allow_infinity=False)),
        late=draw(st.booleans()),
        error_code=draw(st.none() | _texts),
        note=draw(st.none() | _texts),
    )


@st.composite
def _results(draw: st.DrawFn) -> CheckResult:
    station_id = draw(st.text(min_size=1, max_size=20))
    steps = draw(
        st.lists(
            st.builds(
                StepResult,
                step=st.sampled_from(CheckStep),
                connector_id=st.none() | st.integers(0, 10),
                verdict=st.sampled_from(Verdict),
                reason=_texts,
                prompt=st.none() | _texts,
                started_at=st.none() | _dates,
                finished_at=st.none() | _dates,
                evidence=st.lists(_frames(station_id), max_size=4).map(tuple),
            ),
            max_size=9,
        )
    )
    return CheckResult(
        check_id=draw(st.none() | st.integers(1, 2**62)),
        station_id=station_id,
        started_at=draw(_dates),
        connectors=tuple(draw(st.lists(st.integers(0, 10), max_size=4))),
        id_tag=draw(_texts),
        vendor=draw(st.none() | _texts),
        model=draw(st.none() | _texts),
        firmware_version=draw(st.none() | _texts),
        serial_number=draw(st.none() | _texts),
        finished_at=draw(st.none() | _dates),
        outcome=draw(st.sampled_from(CheckOutcome)),
        reason=draw(_texts),
        steps=tuple(steps),
        statuses=tuple(
            draw(st.lists(st.builds(StatusPoint, _dates, st.integers(0, 10), _texts), max_size=5))
        ),
        spans=tuple(
            draw(
                st.lists(
                    st.builds(
                        ReservationSpan,
                        reservation_id=_ints,
                        connector_id=st.integers(0, 10),
                        id_tag=_texts,
                        start=_dates,
                        end=st.none() | _dates,
                        ended_by=st.none() | _texts,
                        expiry=st.none() | _dates,
                    ),
                    max_size=4,
                )
            )
        ),
        guided=draw(st.booleans()),
        left_behind=tuple(draw(st.lists(_ints, max_size=3))),
        through_proxy=draw(st.booleans()),
    )


@settings(max_examples=150, deadline=None)
@given(_results())
def test_every_result_round_trips_exactly(result: CheckResult) -> None:
    data = check_to_dict(result)
    back = check_from_dict(json.loads(json.dumps(data, allow_nan=False)))
    assert back == result
    # And the dict form is canonical: encoding what was read gives the same dict.
    assert check_to_dict(back) == data


def test_a_result_stored_before_proxy_mode_reads_as_direct() -> None:
    data = check_to_dict(replace(sample_result(), through_proxy=True))
    assert data["through_proxy"] is True
    assert check_from_dict(data).through_proxy
    del data["through_proxy"]
    assert not check_from_dict(data).through_proxy


def test_a_span_keeps_its_expiry_and_one_stored_without_it_reads_as_unknown() -> None:
    expiry = T0 + timedelta(seconds=20)
    result = replace(
        sample_result(),
        spans=(ReservationSpan(41, 1, "TAG-1", T0, None, None, expiry=expiry),),
    )
    data = check_to_dict(result)
    assert data["spans"][0]["expiry"] == "2026-11-25T15:00:20Z"
    assert check_from_dict(data).spans[0].expiry == expiry
    del data["spans"][0]["expiry"]  # as results were stored before the expiry was kept
    assert check_from_dict(data).spans[0].expiry is None


# --- strict reading ------------------------------------------------------------------------


def _broken(change: Any) -> dict[str, Any]:
    data = copy.deepcopy(check_to_dict(sample_result()))
    change(data)
    return data


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.pop("format"), "not a reservation check result"),
        (lambda d: d.update(format="something-else"), "not a reservation check result"),
        (lambda d: d.pop("version"), "version: missing"),
        (lambda d: d.update(version="1"), "version: expected an integer"),
        (lambda d: d.update(version=0), "not a valid version"),
        (lambda d: d.pop("station_id"), "station_id: missing"),
        (lambda d: d.update(station_id=5), "station_id: expected a string"),
        (lambda d: d.update(check_id=True), "check_id: expected an integer or null"),
        (lambda d: d.update(started_at="yesterday"), "started_at: the string 'yesterday' is not"),
        (lambda d: d.update(started_at="2026-11-25T15:00:00"), "has no UTC offset"),
        (lambda d: d.update(finished_at=12), "finished_at: expected an ISO 8601 date"),
        (lambda d: d.update(outcome="great"), "outcome: 'great' is not one of running"),
        (lambda d: d.update(connectors=[1, "2"]), "connectors[1]: expected an integer"),
        (lambda d: d.update(connectors=1), "connectors: expected a list"),
        (lambda d: d.update(guided="yes"), "guided: expected true or false"),
        (lambda d: d.update(surprise=1), "unknown field(s) 'surprise'"),
        (lambda d: d["steps"][0].update(step="dance"), "steps[0].step: 'dance' is not one of"),
        (lambda d: d["steps"][1].update(verdict=None), "steps[1].verdict: expected a string"),
        (lambda d: d["steps"].append(3), "steps[3]: expected a JSON object"),
        (lambda d: d["steps"][0].update(extra=1), "steps[0]: unknown field(s) 'extra'"),
        (
            lambda d: d["steps"][0]["evidence"][1].update(latency="fast"),
            "steps[0].evidence[1].latency: expected a number or null",
        ),
        (
            lambda d: d["steps"][0]["evidence"][1].update(latency=float("inf")),
            "steps[0].evidence[1].latency: expected a finite number",
        ),
        (
            lambda d: d["steps"][0]["evidence"][0].update(direction="sideways"),
            "steps[0].evidence[0].direction: 'sideways' is not one of in, out, event",
        ),
        (lambda d: d["steps"][0]["evidence"][0].pop("late"), "evidence[0].late: missing"),
        (lambda d: d["statuses"][0].update(connector_id=None), "statuses[0].connector_id"),
        (lambda d: d["spans"][0].update(start=None), "spans[0].start: expected an ISO 8601"),
    ],
)
def test_malformed_input_is_refused_with_the_field_named(change: Any, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        check_from_dict(_broken(change))
    assert message in str(caught.value)


def test_a_newer_version_is_refused_before_its_fields_are_read() -> None:
    data = {"format": CHECK_FORMAT, "version": 3, "whatever": "new"}
    with pytest.raises(ValueError, match="newer console"):
        check_from_dict(data)


@pytest.mark.parametrize("data", [None, [], "text", 3])
def test_a_document_that_is_not_an_object_is_refused(data: object) -> None:
    with pytest.raises(ValueError, match="expected a JSON object"):
        check_from_dict(data)


def test_text_that_is_not_json_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="not JSON"):
        check_from_json("{broken")
    with pytest.raises(ValueError, match="not JSON"):
        check_from_json(b"\xff\xfe")


# --- CSV -----------------------------------------------------------------------------------


def test_csv_rows_one_per_step_with_header() -> None:
    other = CheckResult(None, "CP-2", T0, (1,), "T", steps=(StepResult(CheckStep.CARDS, 1),))
    rows = checks_to_csv_rows([sample_result(), other])
    assert rows[0] == list(CHECK_CSV_COLUMNS)
    assert len(rows) == 1 + 3 + 1
    assert all(len(row) == len(CHECK_CSV_COLUMNS) for row in rows)
    assert rows[1] == [
        "CP-1",
        "Acme",
        "Wallbox",
        "1.2.3",
        "1.6",
        "2026-11-25T15:00:00.000Z",
        "1",
        "Reserve a free connector",
        'TC_046_2_CS · 1.6 §5.13 "Accepted if a connector is reserved", then '
        "StatusNotification Reserved",
        "1",
        "passed",
        "Accepted, then Reserved",
        "2026-11-25T15:00:00.000Z",
        "2026-11-25T15:00:01.000Z",
    ]
    assert rows[3][6:12] == [
        "9",
        "Every frame valid against the official schemas",
        "OCPP-J 1.6 §4; the official 1.6 JSON schemas",
        "",
        "skipped",
        "cancelled",
    ]
    assert rows[4][:6] == ["CP-2", "", "", "", "1.6", "2026-11-25T15:00:00.000Z"]
    assert rows[4][10] == "pending"
    assert rows[4][12:] == ["", ""]


def test_csv_lines_parse_back_to_the_rows() -> None:
    tricky = CheckResult(
        None,
        "CP-1",
        T0,
        (1,),
        "T",
        steps=(StepResult(CheckStep.RESERVE, 1, Verdict.FAILED, 'said "no",\nthen left'),),
    )
    text = "".join(checks_csv_lines([tricky]))
    assert list(csv.reader(io.StringIO(text))) == checks_to_csv_rows([tricky])


def test_a_version_1_result_reads_as_1_6_and_a_2_0_1_one_round_trips() -> None:
    """Results stored before 2.0.1 was checked (format version 1, no ocpp_version, no
    reference) still load, as 1.6; a 2.0.1 result with an N/A step and EVSE statuses comes
    back exactly, its steps titled and referenced as 2.0.1's."""
    old = check_to_dict(sample_result())
    old["version"] = 1
    del old["ocpp_version"]
    for step in old["steps"]:
        del step["ocpp_version"], step["reference"]
    assert check_from_dict(old) == sample_result()
    v201 = replace(
        sample_result(),
        ocpp_version=OcppVersion.V201,
        steps=(
            StepResult(CheckStep.RESERVE, 1, Verdict.PASSED, "ok", ocpp_version=OcppVersion.V201),
            StepResult(
                CheckStep.CONNECTOR_TYPE,
                None,
                Verdict.NOT_APPLICABLE,
                "no type",
                ocpp_version=OcppVersion.V201,
            ),
        ),
        statuses=(StatusPoint(T0, 2, "Reserved", evse_id=1),),
    )
    data = check_to_dict(v201)
    assert data["steps"][0]["title"] == "Reserve a specific EVSE"
    assert data["steps"][1]["reference"].startswith("TC_H_15 · ")
    assert data["steps"][1]["verdict"] == "n/a"
    assert check_from_json(check_to_json(v201)) == v201
