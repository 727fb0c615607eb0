"""The device model of a simulated 2.0.1 station: its components and variables.

A :class:`StationVariables` holds one :class:`VariableSpec` per variable a station of ours
has: ``ReservationCtrlr`` (Enabled, Available, NonEvseSpecific: what the console reads to
know whether it may reserve, H01), the usual controllers (``OCPPCommCtrlr``,
``SampledDataCtrlr``, ``AuthCtrlr``, ``TxCtrlr``, ``DeviceDataCtrlr``), the station itself
and each EVSE and connector (AvailabilityState, Available, ConnectorType). Values are read
when asked (so they are always the engine's), and the writable ones change the station.

It answers GetVariables and SetVariables one item at a time (UnknownComponent,
UnknownVariable, NotSupportedAttributeType, Rejected for a read-only variable or a value
that does not fit) and gives the report data of GetBaseReport. Component and variable
names compare ignoring case, as the 2.0.1 specification asks of a station.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from console.ocpp.v201.device_model import (
    GetVariableData,
    GetVariableResult,
    ReportData,
    SetVariableData,
    SetVariableResult,
    VariableAttribute,
    VariableCharacteristics,
)
from console.ocpp.v201.enums import (
    AttributeType,
    DataType,
    GetVariableStatus,
    Mutability,
    ReportBase,
    SetVariableStatus,
)
from console.ocpp.v201.types import EVSE, Component, StatusInfo, Variable

__all__ = ["StationVariables", "VariableSpec", "parse_bool", "parse_seconds"]

Writer = Callable[[str], str | None]
"""Applies a new value; returns why it is refused (None: applied)."""


def parse_bool(text: str) -> bool | None:
    folded = text.strip().casefold()
    return {"true": True, "false": False}.get(folded)


def parse_seconds(text: str) -> int | None:
    try:
        value = int(text.strip())
    except ValueError:
        return None
    return value if value >= 0 else None


@dataclass(frozen=True, slots=True, kw_only=True)
class VariableSpec:
    """One variable of one component (of one EVSE or connector), and how to read it."""

    component: str
    variable: str
    read: Callable[[], str]
    data_type: DataType = DataType.STRING
    write: Writer | None = None
    evse_id: int | None = None
    connector_id: int | None = None
    values_list: str | None = None
    unit: str | None = None

    @property
    def mutability(self) -> Mutability:
        return Mutability.READ_ONLY if self.write is None else Mutability.READ_WRITE

    def key(self) -> tuple[str, int | None, int | None, str]:
        return (
            self.component.casefold(),
            self.evse_id,
            self.connector_id,
            self.variable.casefold(),
        )

    def component_model(self) -> Component:
        evse = (
            None if self.evse_id is None else EVSE(id=self.evse_id, connector_id=self.connector_id)
        )
        return Component(name=self.component, evse=evse)

    def report_data(self) -> ReportData:
        return ReportData(
            component=self.component_model(),
            variable=Variable(name=self.variable),
            variable_attribute=[
                VariableAttribute(
                    type=AttributeType.ACTUAL, value=self.read(), mutability=self.mutability
                )
            ],
            variable_characteristics=VariableCharacteristics(
                data_type=self.data_type,
                unit=self.unit,
                values_list=self.values_list,
                supports_monitoring=False,
            ),
        )


def _component_key(component: Component) -> tuple[str, int | None, int | None]:
    evse = component.evse
    return (
        component.name.casefold(),
        None if evse is None else evse.id,
        None if evse is None else evse.connector_id,
    )


class StationVariables:
    """The variables of one station, answering GetVariables / SetVariables items."""

    def __init__(self, specs: Iterable[VariableSpec]) -> None:
        self._specs: dict[tuple[str, int | None, int | None, str], VariableSpec] = {}
        for spec in specs:
            self._specs[spec.key()] = spec
        self._components = {key[:3] for key in self._specs}

    @property
    def specs(self) -> tuple[VariableSpec, ...]:
        return tuple(self._specs.values())

    def _find(
        self, component: Component, variable: Variable
    ) -> tuple[VariableSpec | None, GetVariableStatus]:
        where = _component_key(component)
        if where not in self._components:
            return None, GetVariableStatus.UNKNOWN_COMPONENT
        spec = self._specs.get((*where, variable.name.casefold()))
        if spec is None or variable.instance is not None:
            return None, GetVariableStatus.UNKNOWN_VARIABLE
        return spec, GetVariableStatus.ACCEPTED

    def get(self, item: GetVariableData) -> GetVariableResult:
        """One GetVariables item's result."""
        spec, status = self._find(item.component, item.variable)
        value: str | None = None
        if spec is not None:
            if item.attribute_type not in (None, AttributeType.ACTUAL):
                status = GetVariableStatus.NOT_SUPPORTED_ATTRIBUTE_TYPE
            else:
                value = spec.read()
        return GetVariableResult(
            attribute_status=status,
            attribute_type=item.attribute_type,
            attribute_value=value,
            component=item.component,
            variable=item.variable,
        )

    def set(self, item: SetVariableData) -> SetVariableResult:
        """One SetVariables item's result (applied when Accepted)."""
        spec, found = self._find(item.component, item.variable)
        info: StatusInfo | None = None
        if spec is None:
            status = SetVariableStatus(found.value)
        elif item.attribute_type not in (None, AttributeType.ACTUAL):
            status = SetVariableStatus.NOT_SUPPORTED_ATTRIBUTE_TYPE
        elif spec.write is None:
            status = SetVariableStatus.REJECTED
            info = StatusInfo(
                reason_code="ReadOnly", additional_info=f"{spec.variable} is read-only"
            )
        else:
            refusal = spec.write(item.attribute_value)
            if refusal is None:
                status = SetVariableStatus.ACCEPTED
            else:
                status = SetVariableStatus.REJECTED
                info = StatusInfo(reason_code="InvalidValue", additional_info=refusal)
        return SetVariableResult(
            attribute_type=item.attribute_type,
            attribute_status=status,
            attribute_status_info=info,
            component=item.component,
            variable=item.variable,
        )

    def report(self, base: ReportBase) -> list[ReportData]:
        """The report data of GetBaseReport: everything (FullInventory), the writable
        variables (ConfigurationInventory), or the availability (SummaryInventory)."""
        specs = self.specs
        if base is ReportBase.CONFIGURATION_INVENTORY:
            specs = tuple(s for s in specs if s.write is not None)
        elif base is ReportBase.SUMMARY_INVENTORY:
            specs = tuple(s for s in specs if s.variable == "AvailabilityState")
        return [spec.report_data() for spec in specs]
