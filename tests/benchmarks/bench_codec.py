"""How fast the protocol core reads and writes frames, next to the ``ocpp`` package and bare json.

Run: ``.venv/bin/python tests/benchmarks/bench_codec.py`` (add ``--quick`` for a rough run).

For ReserveNow, StatusNotification and a MeterValues with 10 sampled values (OCPP 1.6), and
ReserveNow, a TransactionEvent with 10 sampled values and a NotifyReport of 10 variables
(OCPP 2.0.1), it prints the microseconds per frame to

* parse + validate: text frame -> typed request (ours: ``parse_frame`` + the feature's
  ``model_validate``; the ``ocpp`` package: ``unpack`` + its synchronous JSON-schema
  validation ``_validate_payload`` as ``validate_payload`` runs it; bare: ``json.loads``);
* build + serialize: Python values -> text frame (ours: the pydantic model from field
  values and ``serialize_call``, as the session sends it; the ``ocpp`` package: its payload
  dataclass, camelCase conversion, ``remove_nones``, schema validation and ``pack``, as
  ``ChargePoint.call`` does; bare: ``json.dumps`` of the finished frame list).

Each figure is the best of several repeats (the least disturbed by other processes).
Targets: at least 5x faster than the ``ocpp`` package, within 4x of bare json.
"""

from __future__ import annotations

import json
import sys
import timeit
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ocpp import messages as ocpp_messages
from ocpp.charge_point import remove_nones, serialize_as_dict, snake_to_camel_case
from ocpp.v16 import call as ocpp_call
from ocpp.v16 import datatypes as ocpp_datatypes
from ocpp.v16 import enums as ocpp_enums
from ocpp.v201 import call as ocpp_call_201
from ocpp.v201 import datatypes as ocpp_datatypes_201

from console.ocpp.base import OcppModel
from console.ocpp.frames import Call, parse_frame, serialize_call, serialize_frame
from console.ocpp.messages import MeterValue, MeterValuesRequest, SampledValue
from console.ocpp.messages import StatusNotificationRequest as OurStatusNotification
from console.ocpp.reservation import ReserveNowRequest
from console.ocpp.tables import feature_table
from console.ocpp.v201 import device_model as ours_201_device_model
from console.ocpp.v201 import messages as ours_201
from console.ocpp.v201 import reservation as ours_201_reservation
from console.ocpp.v201 import types as ours_201_types
from console.ocpp.versions import OcppVersion

MESSAGE_ID = "9c1e6d3a-5f0b-4f8e-9a51-2b7c0d4e8f11"
WHEN = datetime(2026, 11, 25, 14, 30, 5, tzinfo=UTC)
WHEN_TEXT = "2026-11-25T14:30:05Z"

# The 10 sampled values of one MeterValues: (value, measurand, phase, unit).
SAMPLES = [
    ("12345.6", "Energy.Active.Import.Register", None, "Wh"),
    ("7200", "Power.Active.Import", None, "W"),
    ("16.1", "Current.Import", "L1", "A"),
    ("15.9", "Current.Import", "L2", "A"),
    ("16.0", "Current.Import", "L3", "A"),
    ("231.2", "Voltage", "L1-N", "V"),
    ("229.8", "Voltage", "L2-N", "V"),
    ("230.4", "Voltage", "L3-N", "V"),
    ("64", "SoC", None, "Percent"),
    ("32", "Temperature", None, "Celsius"),
]


def _sample_payload(value: str, measurand: str, phase: str | None, unit: str) -> dict[str, Any]:
    sample = {
        "value": value,
        "context": "Sample.Periodic",
        "format": "Raw",
        "measurand": measurand,
        "location": "Outlet",
        "unit": unit,
    }
    if phase is not None:
        sample["phase"] = phase
    return sample


# --- the three frames, as Python values and as text ---------------------------------------


def build_ours_reserve_now() -> OcppModel:
    return ReserveNowRequest(
        connector_id=1,
        expiry_date=WHEN,
        id_tag="04A2B3C4D5E6F7",
        parent_id_tag="FLEET-0042",
        reservation_id=42,
    )


def build_ours_status_notification() -> OcppModel:
    return OurStatusNotification(
        connector_id=2,
        error_code="NoError",
        status="Reserved",
        timestamp=WHEN,
        info="reserved for 04A2B3C4",
        vendor_id="com.example",
    )


def build_ours_meter_values() -> OcppModel:
    return MeterValuesRequest(
        connector_id=1,
        transaction_id=1017,
        meter_value=[
            MeterValue(
                timestamp=WHEN,
                sampled_value=[
                    SampledValue(
                        value=value,
                        context="Sample.Periodic",
                        format="Raw",
                        measurand=measurand,
                        phase=phase,
                        location="Outlet",
                        unit=unit,
                    )
                    for value, measurand, phase, unit in SAMPLES
                ],
            )
        ],
    )


def build_theirs_reserve_now() -> Any:
    return ocpp_call.ReserveNow(
        connector_id=1,
        expiry_date=WHEN_TEXT,
        id_tag="04A2B3C4D5E6F7",
        parent_id_tag="FLEET-0042",
        reservation_id=42,
    )


def build_theirs_status_notification() -> Any:
    return ocpp_call.StatusNotification(
        connector_id=2,
        error_code=ocpp_enums.ChargePointErrorCode.no_error,
        status=ocpp_enums.ChargePointStatus.reserved,
        timestamp=WHEN_TEXT,
        info="reserved for 04A2B3C4",
        vendor_id="com.example",
    )


def build_theirs_meter_values() -> Any:
    return ocpp_call.MeterValues(
        connector_id=1,
        transaction_id=1017,
        meter_value=[
            ocpp_datatypes.MeterValue(
                timestamp=WHEN_TEXT,
                sampled_value=[
                    ocpp_datatypes.SampledValue(
                        value=value,
                        context=ocpp_enums.ReadingContext.sample_periodic,
                        format=ocpp_enums.ValueFormat.raw,
                        measurand=ocpp_enums.Measurand(measurand),
                        phase=None if phase is None else ocpp_enums.Phase(phase),
                        location=ocpp_enums.Location.outlet,
                        unit=ocpp_enums.UnitOfMeasure(unit),
                    )
                    for value, measurand, phase, unit in SAMPLES
                ],
            )
        ],
    )


# --- the three 2.0.1 frames -------------------------------------------------------------------

# The 10 sampled values of one TransactionEvent: (value, measurand, phase, unit).
SAMPLES_201 = [
    (12345.6, "Energy.Active.Import.Register", None, "Wh"),
    (7200.0, "Power.Active.Import", None, "W"),
    (16.1, "Current.Import", "L1", "A"),
    (15.9, "Current.Import", "L2", "A"),
    (16.0, "Current.Import", "L3", "A"),
    (231.2, "Voltage", "L1-N", "V"),
    (229.8, "Voltage", "L2-N", "V"),
    (230.4, "Voltage", "L3-N", "V"),
    (64.0, "SoC", None, "Percent"),
    (11.0, "Power.Offered", None, "kW"),
]
# The 10 variables of one NotifyReport: (component, EVSE or None, variable, value, data type).
REPORTED = [
    ("ReservationCtrlr", None, "Enabled", "true", "boolean"),
    ("ReservationCtrlr", None, "Available", "true", "boolean"),
    ("ReservationCtrlr", None, "NonEvseSpecific", "false", "boolean"),
    ("EVSE", 1, "AvailabilityState", "Available", "OptionList"),
    ("EVSE", 2, "AvailabilityState", "Reserved", "OptionList"),
    ("Connector", 1, "AvailabilityState", "Available", "OptionList"),
    ("Connector", 2, "AvailabilityState", "Reserved", "OptionList"),
    ("Connector", 1, "ConnectorType", "cCCS2", "string"),
    ("Connector", 2, "ConnectorType", "cType2", "string"),
    ("OCPPCommCtrlr", None, "HeartbeatInterval", "300", "integer"),
]


def build_ours_reserve_now_201() -> OcppModel:
    return ours_201_reservation.ReserveNowRequest(
        id=42,
        expiry_date_time=WHEN,
        connector_type="cCCS2",
        id_token=ours_201_types.IdToken(id_token="04A2B3C4D5E6F7", type="ISO14443"),
        evse_id=1,
        group_id_token=ours_201_types.IdToken(id_token="FLEET-0042", type="Central"),
    )


def build_ours_transaction_event() -> OcppModel:
    return ours_201.TransactionEventRequest(
        event_type="Updated",
        timestamp=WHEN,
        trigger_reason="MeterValuePeriodic",
        seq_no=5,
        transaction_info=ours_201.Transaction(transaction_id="tx-1017", charging_state="Charging"),
        evse=ours_201_types.EVSE(id=1, connector_id=1),
        meter_value=[
            ours_201_types.MeterValue(
                timestamp=WHEN,
                sampled_value=[
                    ours_201_types.SampledValue(
                        value=value,
                        context="Sample.Periodic",
                        measurand=measurand,
                        phase=phase,
                        location="Outlet",
                        unit_of_measure=ours_201_types.UnitOfMeasure(unit=unit),
                    )
                    for value, measurand, phase, unit in SAMPLES_201
                ],
            )
        ],
    )


def build_ours_notify_report() -> OcppModel:
    d = ours_201_device_model
    return d.NotifyReportRequest(
        request_id=1,
        generated_at=WHEN,
        seq_no=0,
        tbc=False,
        report_data=[
            d.ReportData(
                component=ours_201_types.Component(
                    name=component,
                    evse=None if evse is None else ours_201_types.EVSE(id=evse),
                ),
                variable=ours_201_types.Variable(name=variable),
                variable_attribute=[
                    d.VariableAttribute(type="Actual", value=value, mutability="ReadOnly")
                ],
                variable_characteristics=d.VariableCharacteristics(
                    data_type=data_type, supports_monitoring=False
                ),
            )
            for component, evse, variable, value, data_type in REPORTED
        ],
    )


def build_theirs_reserve_now_201() -> Any:
    return ocpp_call_201.ReserveNow(
        id=42,
        expiry_date_time=WHEN_TEXT,
        connector_type="cCCS2",
        id_token=ocpp_datatypes_201.IdTokenType(id_token="04A2B3C4D5E6F7", type="ISO14443"),
        evse_id=1,
        group_id_token=ocpp_datatypes_201.IdTokenType(id_token="FLEET-0042", type="Central"),
    )


def build_theirs_transaction_event() -> Any:
    types = ocpp_datatypes_201
    return ocpp_call_201.TransactionEvent(
        event_type="Updated",
        timestamp=WHEN_TEXT,
        trigger_reason="MeterValuePeriodic",
        seq_no=5,
        transaction_info=types.TransactionType(transaction_id="tx-1017", charging_state="Charging"),
        evse=types.EVSEType(id=1, connector_id=1),
        meter_value=[
            types.MeterValueType(
                timestamp=WHEN_TEXT,
                sampled_value=[
                    types.SampledValueType(
                        value=value,
                        context="Sample.Periodic",
                        measurand=measurand,
                        phase=phase,
                        location="Outlet",
                        unit_of_measure=types.UnitOfMeasureType(unit=unit),
                    )
                    for value, measurand, phase, unit in SAMPLES_201
                ],
            )
        ],
    )


def build_theirs_notify_report() -> Any:
    types = ocpp_datatypes_201
    return ocpp_call_201.NotifyReport(
        request_id=1,
        generated_at=WHEN_TEXT,
        seq_no=0,
        tbc=False,
        report_data=[
            types.ReportDataType(
                component=types.ComponentType(
                    name=component, evse=None if evse is None else types.EVSEType(id=evse)
                ),
                variable=types.VariableType(name=variable),
                variable_attribute=[
                    types.VariableAttributeType(type="Actual", value=value, mutability="ReadOnly")
                ],
                variable_characteristics=types.VariableCharacteristicsType(
                    data_type=data_type, supports_monitoring=False
                ),
            )
            for component, evse, variable, value, data_type in REPORTED
        ],
    )


@dataclass(frozen=True)
class Case:
    """One frame measured every way."""

    action: str
    build_ours: Callable[[], OcppModel]
    build_theirs: Callable[[], Any]
    version: OcppVersion = OcppVersion.V16

    @property
    def label(self) -> str:
        return f"{self.action} {self.version}"

    @property
    def payload(self) -> dict[str, Any]:
        return self.build_ours().to_payload()

    @property
    def text(self) -> str:
        return serialize_frame(Call(MESSAGE_ID, self.action, self.payload))


CASES = [
    Case("ReserveNow", build_ours_reserve_now, build_theirs_reserve_now),
    Case("StatusNotification", build_ours_status_notification, build_theirs_status_notification),
    Case("MeterValues", build_ours_meter_values, build_theirs_meter_values),
    Case("ReserveNow", build_ours_reserve_now_201, build_theirs_reserve_now_201, OcppVersion.V201),
    Case(
        "TransactionEvent",
        build_ours_transaction_event,
        build_theirs_transaction_event,
        OcppVersion.V201,
    ),
    Case("NotifyReport", build_ours_notify_report, build_theirs_notify_report, OcppVersion.V201),
]


# --- the six ways ---------------------------------------------------------------------------


def parse_ours(case: Case) -> Callable[[], object]:
    text = case.text
    request_model = feature_table(case.version).features[case.action].request

    def run() -> object:
        frame = parse_frame(text)
        assert isinstance(frame, Call)
        return request_model.from_payload(frame.payload)

    return run


def parse_theirs(case: Case) -> Callable[[], object]:
    text, version = case.text, str(case.version)

    def run() -> object:
        message = ocpp_messages.unpack(text)
        ocpp_messages._validate_payload(message, version)
        return message

    return run


def parse_bare(case: Case) -> Callable[[], object]:
    text = case.text
    return lambda: json.loads(text)


def build_ours(case: Case) -> Callable[[], object]:
    build, action = case.build_ours, case.action
    return lambda: serialize_call(MESSAGE_ID, action, build())


def build_theirs(case: Case) -> Callable[[], object]:
    build, action, version = case.build_theirs, case.action, str(case.version)

    def run() -> object:
        payload = remove_nones(snake_to_camel_case(serialize_as_dict(build())))
        message = ocpp_messages.Call(MESSAGE_ID, action, payload)
        ocpp_messages._validate_payload(message, version)
        return ocpp_messages.pack(message)

    return run


def build_bare(case: Case) -> Callable[[], object]:
    body = [2, MESSAGE_ID, case.action, case.payload]
    return lambda: json.dumps(body)


def measure(runs: list[Callable[[], object]], quick: bool) -> list[float]:
    """Best per-call time of each run, in microseconds.

    The runs take turns, many short rounds each, and the best round counts: on a shared
    machine that is the figure least disturbed by other processes.
    """
    number, rounds = (200, 3) if quick else (400, 25)
    for run in runs:
        run()  # warm caches (the ocpp package loads its schema on first use)
    best = [float("inf")] * len(runs)
    for _ in range(rounds):
        for index, run in enumerate(runs):
            best[index] = min(best[index], timeit.timeit(run, number=number) / number * 1e6)
    return best


def check_same_frames() -> None:
    """The three ways must handle the same frames, or the comparison means nothing."""
    for case in CASES:
        ours = json.loads(case.text)
        theirs = json.loads(build_theirs(case)())
        if ours != theirs:
            raise SystemExit(f"{case.label}: frames differ\n ours:   {ours}\n theirs: {theirs}")


def main(argv: list[str]) -> int:
    quick = "--quick" in argv
    check_same_frames()
    header = (
        f"{'frame':<24} {'direction':<18} {'ours µs':>8} {'ocpp µs':>8} {'json µs':>8} "
        f"{'ocpp/ours':>10} {'ours/json':>10}"
    )
    print(f"Python {sys.version.split()[0]}; best of repeats, microseconds per frame")
    print(header)
    print("-" * len(header))
    missed = []
    for case in CASES:
        ways = [
            ("parse + validate", parse_ours, parse_theirs, parse_bare),
            ("build + serialize", build_ours, build_theirs, build_bare),
        ]
        for direction, ours_way, theirs_way, bare_way in ways:
            ours, theirs, bare = measure([ours_way(case), theirs_way(case), bare_way(case)], quick)
            faster, slower = theirs / ours, ours / bare
            print(
                f"{case.label:<24} {direction:<18} {ours:8.1f} {theirs:8.1f} {bare:8.1f} "
                f"{faster:9.1f}x {slower:9.1f}x"
            )
            if faster < 5 or slower > 4:
                missed.append(f"{case.label} {direction}")
    print()
    print(
        "targets: ocpp/ours >= 5x, ours/json <= 4x:",
        "missed " + ", ".join(missed) if missed else "met",
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
