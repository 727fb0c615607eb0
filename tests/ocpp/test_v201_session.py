"""The session on OCPP 2.0.1 connections: a station and a Central System paired in memory.

What depends on the version: the feature table (which actions exist, which are typed, who
takes them) and the CALLERROR spellings sent (2.0.1: ``FormatViolation`` and
``OccurrenceConstraintViolation``; both spellings are read in either version). The rest
(queueing, timeouts, late answers) is the same machine, tested in ``test_session.py``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from console.ocpp import messages as m16
from console.ocpp import reservation as r16
from console.ocpp.errors import ErrorCode, wire_spelling
from console.ocpp.feature_table import Role
from console.ocpp.frames import MessageType
from console.ocpp.session import (
    CallReceived,
    CallRefused,
    ErrorReceived,
    Event,
    ResultReceived,
    Session,
)
from console.ocpp.v201 import device_model as d
from console.ocpp.v201 import messages as m
from console.ocpp.v201 import reservation as r
from console.ocpp.v201.enums import (
    AuthorizationStatus,
    BootReason,
    CancelReservationStatus,
    ConnectorStatus,
    GetVariableStatus,
    IdTokenType,
    RegistrationStatus,
    ReservationUpdateStatus,
    ReserveNowStatus,
    TransactionEventType,
    TriggerReason,
)
from console.ocpp.v201.features import FEATURES, KNOWN_ACTIONS
from console.ocpp.v201.types import EVSE, Component, IdToken, IdTokenInfo, StatusInfo, Variable
from console.ocpp.versions import OcppVersion

V16, V201 = OcppVersion.V16, OcppVersion.V201
NOW = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)
CARD = IdToken(id_token="04A2B3C4", type=IdTokenType.ISO14443)
SPELLINGS_2_0_1 = {wire_spelling(code, V201) for code in ErrorCode}
ONLY_1_6_SPELLINGS = {"FormationViolation", "OccurenceConstraintViolation"}


def counter(prefix: str) -> Callable[[], str]:
    numbers = iter(range(1, 1_000_000))
    return lambda: f"{prefix}-{next(numbers)}"


def central(version: OcppVersion = V201) -> Session:
    return Session(Role.CENTRAL_SYSTEM, version=version, id_factory=counter("cs"))


def station(version: OcppVersion = V201) -> Session:
    return Session(Role.CHARGE_POINT, version=version, id_factory=counter("cp"))


def one(events: list[Event]) -> Event:
    assert len(events) == 1, events
    return events[0]


def deliver(sender: Session, receiver: Session, now: float = 0.0) -> Event:
    """The one frame the sender has written, read by the receiver."""
    [frame] = sender.data_to_send()
    return one(receiver.receive(frame.text, now))


def exchange(caller: Session, callee: Session, request: Any, answer: Any) -> tuple[Any, Any]:
    """A call from caller to callee, answered: (the request the callee got, the answer)."""
    caller.call(request, now=0.0)
    received = deliver(caller, callee)
    assert isinstance(received, CallReceived), received
    assert received.request == request
    callee.respond(received.message_id, answer)
    result = deliver(callee, caller)
    assert isinstance(result, ResultReceived), result
    assert result.confirmation == answer
    return received.request, result.confirmation


# --- a whole 2.0.1 conversation --------------------------------------------------------------


def test_a_2_0_1_station_boots_reports_reserves_and_uses_its_reservation() -> None:
    cs, cp = central(), station()
    assert (cs.version, cp.version) == (V201, V201)

    exchange(
        cp,
        cs,
        m.BootNotificationRequest(
            charging_station=m.ChargingStation(model="X1", vendor_name="ACME"),
            reason=BootReason.POWER_UP,
        ),
        m.BootNotificationResponse(
            current_time=NOW, interval=300, status=RegistrationStatus.ACCEPTED
        ),
    )
    exchange(
        cp,
        cs,
        m.StatusNotificationRequest(
            timestamp=NOW, connector_status=ConnectorStatus.AVAILABLE, evse_id=1, connector_id=1
        ),
        m.StatusNotificationResponse(),
    )

    # Capability from the device model.
    controller = Component(name="ReservationCtrlr")
    names = ("Enabled", "Available", "NonEvseSpecific")
    _, variables = exchange(
        cs,
        cp,
        d.GetVariablesRequest(
            get_variable_data=[
                d.GetVariableData(component=controller, variable=Variable(name=name))
                for name in names
            ]
        ),
        d.GetVariablesResponse(
            get_variable_result=[
                d.GetVariableResult(
                    attribute_status=GetVariableStatus.ACCEPTED,
                    attribute_value="true",
                    component=controller,
                    variable=Variable(name=name),
                )
                for name in names
            ]
        ),
    )
    assert [v.attribute_value for v in variables.get_variable_result] == ["true"] * 3

    # The reservation, and the connector reported Reserved by NotifyEvent.
    exchange(
        cs,
        cp,
        r.ReserveNowRequest(
            id=42, expiry_date_time=NOW + timedelta(hours=1), id_token=CARD, evse_id=1
        ),
        r.ReserveNowResponse(status=ReserveNowStatus.ACCEPTED),
    )
    event, _ = exchange(
        cp,
        cs,
        d.NotifyEventRequest(
            generated_at=NOW,
            seq_no=0,
            event_data=[
                d.EventData(
                    event_id=1,
                    timestamp=NOW,
                    trigger="Delta",
                    actual_value="Reserved",
                    event_notification_type="HardWiredNotification",
                    component=Component(name="Connector", evse=EVSE(id=1, connector_id=1)),
                    variable=Variable(name="AvailabilityState"),
                )
            ],
        ),
        d.NotifyEventResponse(),
    )
    assert event.event_data[0].actual_value == "Reserved"

    # The card arrives: authorized, and the transaction carries the reservation.
    exchange(
        cp,
        cs,
        m.AuthorizeRequest(id_token=IdToken(id_token="04a2b3c4", type=IdTokenType.ISO14443)),
        m.AuthorizeResponse(id_token_info=IdTokenInfo(status=AuthorizationStatus.ACCEPTED)),
    )
    started, _ = exchange(
        cp,
        cs,
        m.TransactionEventRequest(
            event_type=TransactionEventType.STARTED,
            timestamp=NOW,
            trigger_reason=TriggerReason.AUTHORIZED,
            seq_no=0,
            reservation_id=42,
            transaction_info=m.Transaction(transaction_id="tx-1"),
            evse=EVSE(id=1, connector_id=1),
            id_token=CARD,
        ),
        m.TransactionEventResponse(),
    )
    assert started.reservation_id == 42
    assert started.id_token is not None
    assert started.id_token.matches(CARD)

    # Another reservation ends on its own; a cancel of an unknown one is rejected, with why.
    exchange(
        cp,
        cs,
        r.ReservationStatusUpdateRequest(
            reservation_id=43, reservation_update_status=ReservationUpdateStatus.EXPIRED
        ),
        r.ReservationStatusUpdateResponse(),
    )
    exchange(
        cs,
        cp,
        r.CancelReservationRequest(reservation_id=44),
        r.CancelReservationResponse(
            status=CancelReservationStatus.REJECTED,
            status_info=StatusInfo(reason_code="UnknownReservation"),
        ),
    )


def test_the_default_version_is_1_6() -> None:
    session = Session(Role.CENTRAL_SYSTEM)
    assert session.version is V16
    assert "StartTransaction" in session.table.features
    assert "TransactionEvent" not in session.table.known_actions


def test_call_takes_only_models_of_the_sessions_version() -> None:
    cs16, cs201 = central(V16), central(V201)
    reserve16 = r16.ReserveNowRequest(
        connector_id=1, expiry_date=NOW, id_tag="TAG", reservation_id=1
    )
    reserve201 = r.ReserveNowRequest(id=1, expiry_date_time=NOW, id_token=CARD)
    with pytest.raises(TypeError, match=r"OCPP 2\.0\.1 request of ReserveNow"):
        cs201.call(reserve16, now=0.0)
    with pytest.raises(TypeError, match=r"OCPP 1\.6 request of ReserveNow"):
        cs16.call(reserve201, now=0.0)
    # An action the version does not have, or one this role does not send.
    with pytest.raises(ValueError, match="does not send"):
        cs16.call(d.GetBaseReportRequest(request_id=1, report_base="FullInventory"), now=0.0)
    with pytest.raises(ValueError, match="does not send"):
        cs201.call(m.HeartbeatRequest(), now=0.0)
    assert cs201.call(reserve201, now=0.0).action == "ReserveNow"


def test_respond_takes_only_the_answer_of_the_sessions_version() -> None:
    cs, cp = central(), station()
    cs.call(r.CancelReservationRequest(reservation_id=1), now=0.0)
    received = deliver(cs, cp)
    assert isinstance(received, CallReceived)
    with pytest.raises(TypeError):
        cp.respond(
            received.message_id,
            r16.CancelReservationConfirmation(status=r16.CancelReservationStatus.ACCEPTED),
        )
    cp.respond(received.message_id, r.CancelReservationResponse(status="Accepted"))


# --- CALLERRORs we send: spelled per version ------------------------------------------------


def call_text(action: str, payload: object, message_id: str = "9") -> str:
    return json.dumps([2, message_id, action, payload])


STATUS = {"timestamp": "2026-11-25T14:00:00Z", "connectorStatus": "Reserved", "evseId": 1}
STATUS_1_6 = {"connectorId": 1, "errorCode": "NoError", "status": "Reserved"}


def refused(session: Session, text: str) -> tuple[CallRefused, str]:
    """The refusal of a call, and the code its CALLERROR carries on the wire."""
    event = one(session.receive(text, 0.0))
    assert isinstance(event, CallRefused), event
    [answer] = session.data_to_send()
    assert answer.message_type is MessageType.CALL_ERROR
    kind, message_id, code, description, details = json.loads(answer.text)
    assert (kind, message_id, description, details) == (4, event.message_id, event.description, {})
    assert answer.error_code == code
    return event, code


@pytest.mark.parametrize(
    ("text_2_0_1", "text_1_6", "code", "spelled_2_0_1"),
    [
        pytest.param(
            call_text("StatusNotification", STATUS),
            call_text("StatusNotification", {"connectorId": 1, "status": "Reserved"}),
            ErrorCode.OCCURENCE_CONSTRAINT_VIOLATION,
            "OccurrenceConstraintViolation",
            id="missing field",
        ),
        pytest.param(
            call_text("StatusNotification", {**STATUS, "connectorId": 1, "colour": "red"}),
            call_text("StatusNotification", {**STATUS_1_6, "colour": "red"}),
            ErrorCode.FORMATION_VIOLATION,
            "FormatViolation",
            id="unknown property",
        ),
        pytest.param(
            '[2,"9","Heartbeat",[]]',
            '[2,"9","Heartbeat",[]]',
            ErrorCode.FORMATION_VIOLATION,
            "FormatViolation",
            id="payload not an object",
        ),
        pytest.param(
            call_text("StatusNotification", {**STATUS, "connectorId": "1"}),
            call_text("StatusNotification", {**STATUS_1_6, "connectorId": "1"}),
            ErrorCode.TYPE_CONSTRAINT_VIOLATION,
            "TypeConstraintViolation",
            id="wrong type",
        ),
        pytest.param(
            call_text("Authorize", {"idToken": {"idToken": "x" * 37, "type": "Local"}}),
            call_text("Authorize", {"idTag": "x" * 21}),
            ErrorCode.PROPERTY_CONSTRAINT_VIOLATION,
            "PropertyConstraintViolation",
            id="too long",
        ),
        pytest.param(
            call_text("Teleport", {}),
            call_text("Teleport", {}),
            ErrorCode.NOT_IMPLEMENTED,
            "NotImplemented",
            id="unknown action",
        ),
        pytest.param(
            call_text("GetCertificateStatus", {}),
            call_text("SignCertificate", {"csr": "x"}),
            ErrorCode.NOT_SUPPORTED,
            "NotSupported",
            id="known action not modeled",
        ),
        pytest.param(
            call_text("ReserveNow", {}),
            call_text("ReserveNow", {}),
            ErrorCode.NOT_SUPPORTED,
            "NotSupported",
            id="an action the other role takes",
        ),
        pytest.param(
            json.dumps([2, "x" * 37, "Heartbeat", {}]),
            json.dumps([2, "x" * 37, "Heartbeat", {}]),
            ErrorCode.PROTOCOL_ERROR,
            "ProtocolError",
            id="id of 37 characters",
        ),
    ],
)
def test_call_errors_are_spelled_as_the_connections_version(
    text_2_0_1: str, text_1_6: str, code: ErrorCode, spelled_2_0_1: str
) -> None:
    event, wire = refused(central(V201), text_2_0_1)
    assert (event.code, wire) == (code, spelled_2_0_1)
    event, wire = refused(central(V16), text_1_6)
    assert (event.code, wire) == (code, code.value)


@pytest.mark.parametrize(
    ("action", "version", "code"),
    [
        # An action of the other version is no action of this one.
        ("StartTransaction", V201, ErrorCode.NOT_IMPLEMENTED),
        ("TransactionEvent", V16, ErrorCode.NOT_IMPLEMENTED),
        ("ReservationStatusUpdate", V16, ErrorCode.NOT_IMPLEMENTED),
        ("NotifyEVChargingNeeds", V201, ErrorCode.NOT_SUPPORTED),
        ("DiagnosticsStatusNotification", V201, ErrorCode.NOT_IMPLEMENTED),
    ],
)
def test_not_implemented_and_not_supported_follow_the_versions_table(
    action: str, version: OcppVersion, code: ErrorCode
) -> None:
    event, _ = refused(central(version), call_text(action, {}))
    assert event.code is code


def test_respond_error_is_spelled_as_the_connections_version_too() -> None:
    cs = central()
    received = one(cs.receive(call_text("Heartbeat", {}), 0.0))
    assert isinstance(received, CallReceived)
    cs.respond_error(received.message_id, ErrorCode.OCCURENCE_CONSTRAINT_VIOLATION, "why")
    [frame] = cs.data_to_send()
    assert json.loads(frame.text) == [4, "9", "OccurrenceConstraintViolation", "why", {}]
    assert frame.error_code == "OccurrenceConstraintViolation"


def test_message_ids_of_36_characters_are_taken() -> None:
    cs = central()
    received = one(cs.receive(json.dumps([2, "x" * 36, "Heartbeat", {}]), 0.0))
    assert isinstance(received, CallReceived)
    assert received.message_id == "x" * 36


# --- CALLERRORs we read: both spellings in both versions -------------------------------------


@pytest.mark.parametrize("version", [V16, V201])
@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("FormatViolation", ErrorCode.FORMATION_VIOLATION),
        ("FormationViolation", ErrorCode.FORMATION_VIOLATION),
        ("OccurrenceConstraintViolation", ErrorCode.OCCURENCE_CONSTRAINT_VIOLATION),
        ("OccurenceConstraintViolation", ErrorCode.OCCURENCE_CONSTRAINT_VIOLATION),
        ("NotSupported", ErrorCode.NOT_SUPPORTED),
        ("RpcFrameworkError", None),
        ("MessageTypeNotSupported", None),
    ],
)
def test_call_errors_are_read_in_both_spellings(
    version: OcppVersion, raw: str, code: ErrorCode | None
) -> None:
    cs = central(version)
    call = cs.call(
        r.CancelReservationRequest(reservation_id=1)
        if version is V201
        else r16.CancelReservationRequest(reservation_id=1),
        now=0.0,
    )
    cs.data_to_send()
    event = one(cs.receive(json.dumps([4, call.message_id, raw, "no", {"field": "x"}]), 2.0))
    assert isinstance(event, ErrorReceived)
    assert (event.code, event.raw_code, event.details) == (code, raw, {"field": "x"})
    assert event.call is call


# --- anything a peer sends -------------------------------------------------------------------

JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 3) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.text(max_size=8) | st.sampled_from(["idToken", "evseId", "status", "type"]),
            children,
            max_size=4,
        )
    ),
    max_leaves=12,
)
ACTIONS = st.sampled_from(sorted(KNOWN_ACTIONS)) | st.sampled_from(["StartTransaction", "Teleport"])
FRAMES = (
    st.tuples(st.just(2), st.text(max_size=40), ACTIONS, st.just({}) | JSON)
    | st.tuples(st.sampled_from([2, 3, 4, 5]), st.text(max_size=4), JSON)
    | st.tuples(
        st.just(4), st.text(max_size=4), st.sampled_from(sorted(SPELLINGS_2_0_1)), st.text(), JSON
    )
).map(lambda parts: json.dumps(list(parts)))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    texts_in=st.lists(FRAMES | st.text(max_size=30), min_size=1, max_size=5),
    role=st.sampled_from(list(Role)),
)
def test_every_call_error_we_send_is_spelled_as_2_0_1(texts_in: list[str], role: Role) -> None:
    session = Session(role, version=V201, id_factory=counter("me"))
    for step, text in enumerate(texts_in):
        events = session.receive(text, float(step))
        for event in events:
            if isinstance(event, CallReceived):
                assert event.action in FEATURES
                session.respond_error(event.message_id, ErrorCode.FORMATION_VIOLATION, "test")
        for frame in session.data_to_send():
            # We make no calls here: everything we write answers the peer with a CALLERROR.
            parts = json.loads(frame.text)
            assert parts[0] == MessageType.CALL_ERROR
            assert parts[2] in SPELLINGS_2_0_1
            assert parts[2] not in ONLY_1_6_SPELLINGS
            assert frame.error_code == parts[2]


def test_the_2_0_1_spellings() -> None:
    assert {wire_spelling(code, V201) for code in ErrorCode} == {
        "NotImplemented",
        "NotSupported",
        "InternalError",
        "ProtocolError",
        "SecurityError",
        "FormatViolation",
        "PropertyConstraintViolation",
        "OccurrenceConstraintViolation",
        "TypeConstraintViolation",
        "GenericError",
    }
    assert {wire_spelling(code) for code in ErrorCode} == {code.value for code in ErrorCode}
    # The 1.6 models stay what they were.
    assert m16.HeartbeatConfirmation.feature_name == "Heartbeat"


@pytest.mark.parametrize(
    ("version", "action", "snake_case"),
    [
        (
            V16,
            "StopTransaction",
            {"transaction_id": 7, "meter_stop": 1, "timestamp": "2026-11-25T14:00:00Z"},
        ),
        (
            V201,
            "ReservationStatusUpdate",
            {"reservation_id": 7, "reservation_update_status": "Expired"},
        ),
    ],
)
def test_a_payload_with_python_field_names_is_refused_on_the_wire(
    version: OcppVersion, action: str, snake_case: dict[str, Any]
) -> None:
    """Models are built by field name in code, but the wire speaks camelCase only: a
    snake_case property is unknown there (additionalProperties false in the schemas)."""
    cs = central(version)
    [event] = cs.receive(json.dumps([2, "snake-1", action, snake_case]), 0.0)
    assert isinstance(event, CallRefused)
    [frame] = cs.data_to_send()
    assert frame.message_type is MessageType.CALL_ERROR
