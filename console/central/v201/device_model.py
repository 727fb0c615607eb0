"""What the console reads of a 2.0.1 station's device model: the reservation controller's
variables (GetVariables) and its EVSEs, connectors and connector types (NotifyReport).

Pure: answers in, the values to keep out. :class:`~console.central.v201.responder.Responder201`
makes the calls and keeps the values in the registry.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from console.central.core import parse_bool
from console.ocpp.v201.device_model import (
    GetVariableData,
    GetVariablesRequest,
    GetVariablesResponse,
    ReportData,
)
from console.ocpp.v201.enums import ConnectorStatus, ConnectorType, GetVariableStatus
from console.ocpp.v201.types import Component, Variable

__all__ = [
    "RESERVATION_CONTROLLER",
    "ConnectorFact",
    "ReservationCapability",
    "connector_facts",
    "reservation_capability",
    "reservation_variables_request",
]

RESERVATION_CONTROLLER: Final = "ReservationCtrlr"
_ENABLED, _AVAILABLE, _NON_EVSE_SPECIFIC = "Enabled", "Available", "NonEvseSpecific"
_ASKED: Final = (_ENABLED, _AVAILABLE, _NON_EVSE_SPECIFIC)

# The answers that say a station does not have the variable (rather than that it could
# not answer now): a missing NonEvseSpecific means "not true" (H01.FR.19).
_ABSENT: Final = frozenset(
    {
        GetVariableStatus.UNKNOWN_COMPONENT,
        GetVariableStatus.UNKNOWN_VARIABLE,
        GetVariableStatus.NOT_SUPPORTED_ATTRIBUTE_TYPE,
    }
)


@dataclass(frozen=True, slots=True)
class ReservationCapability:
    """``ReservationCtrlr`` as the station reported it (None: it did not say)."""

    enabled: bool | None
    available: bool | None
    non_evse_specific: bool | None


def reservation_variables_request() -> GetVariablesRequest:
    """GetVariables for ``ReservationCtrlr.Enabled``, ``Available`` and ``NonEvseSpecific``."""
    component = Component(name=RESERVATION_CONTROLLER)
    return GetVariablesRequest(
        get_variable_data=[
            GetVariableData(component=component, variable=Variable(name=name)) for name in _ASKED
        ]
    )


def reservation_capability(response: GetVariablesResponse) -> ReservationCapability:
    """The capability an answer to :func:`reservation_variables_request` gives.

    Fallbacks when a variable is missing: ``NonEvseSpecific`` counts as false (a station
    that does not have it takes no reservation without an EVSE); ``Enabled`` and
    ``Available`` stay unknown (the station's answer to ReserveNow will tell).
    """
    values: dict[str, bool | None] = dict.fromkeys(_ASKED)
    absent: set[str] = set()
    for result in response.get_variable_result:
        if result.component.name != RESERVATION_CONTROLLER:
            continue
        name = result.variable.name
        if name not in values:
            continue
        if result.attribute_status is GetVariableStatus.ACCEPTED:
            values[name] = parse_bool(result.attribute_value)
        elif result.attribute_status in _ABSENT:
            absent.add(name)
    non_evse = values[_NON_EVSE_SPECIFIC]
    if non_evse is None and _NON_EVSE_SPECIFIC in absent:
        non_evse = False
    return ReservationCapability(values[_ENABLED], values[_AVAILABLE], non_evse)


@dataclass(frozen=True, slots=True)
class ConnectorFact:
    """What a report says of one connector of one EVSE."""

    evse_id: int
    connector_id: int
    connector_type: ConnectorType | None = None
    status: ConnectorStatus | None = None


def connector_facts(report: Iterable[ReportData]) -> list[ConnectorFact]:
    """The connectors a NotifyReport names (component ``Connector`` with an EVSE and a
    connector id), with their ``ConnectorType`` and ``AvailabilityState`` where given.
    Values outside the 2.0.1 enumerations are left out (the station's own names)."""
    facts: dict[tuple[int, int], ConnectorFact] = {}
    for data in report:
        evse = data.component.evse
        if data.component.name != "Connector" or evse is None or evse.connector_id is None:
            continue
        key = (evse.id, evse.connector_id)
        fact = facts.get(key, ConnectorFact(evse.id, evse.connector_id))
        actual = next(
            (a.value for a in data.variable_attribute if a.type in (None, "Actual")), None
        )
        if data.variable.name == "ConnectorType" and actual in _CONNECTOR_TYPES:
            fact = ConnectorFact(
                fact.evse_id, fact.connector_id, ConnectorType(actual), fact.status
            )
        elif data.variable.name == "AvailabilityState" and actual in _STATUSES:
            fact = ConnectorFact(
                fact.evse_id, fact.connector_id, fact.connector_type, ConnectorStatus(actual)
            )
        facts[key] = fact
    return list(facts.values())


_CONNECTOR_TYPES: Final = frozenset(t.value for t in ConnectorType)
_STATUSES: Final = frozenset(s.value for s in ConnectorStatus)
