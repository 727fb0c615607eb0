"""Which variables a simulated 2.0.1 station has, and where each value comes from.

``ReservationCtrlr`` is what the CSMS reads to know whether it may reserve (H01):
``Enabled`` (writable: a CSMS may switch reservations on or off), ``Available`` and
``NonEvseSpecific`` (read-only: what the station can do). The rest is what a station
normally reports: its identity and availability, each EVSE and connector (with the
connector types), the heartbeat interval, the meter sampling and the transaction settings.
"""

from __future__ import annotations

from dataclasses import replace

from console.chargepoint.client201.device_model import (
    StationVariables,
    VariableSpec,
    parse_bool,
    parse_seconds,
)
from console.chargepoint.client201.mapping import connector_type
from console.chargepoint.client201.station import Station201
from console.ocpp.v201.enums import DataType

__all__ = ["station_variables"]

_AVAILABILITY_STATES = "Available,Occupied,Reserved,Unavailable,Faulted"


def _flag(value: bool) -> str:
    return "true" if value else "false"


def station_variables(client: Station201) -> StationVariables:
    """The device model of ``client``'s station."""
    engine = client.engine

    def set_enabled(text: str) -> str | None:
        value = parse_bool(text)
        if value is None:
            return "true or false"
        engine.settings = replace(engine.settings, enabled=value)
        return None

    def set_heartbeat(text: str) -> str | None:
        seconds = parse_seconds(text)
        if not seconds:
            return "a whole number of seconds, at least 1"
        client.set_heartbeat_interval(float(seconds))
        return None

    def station_state() -> str:
        statuses = {change.status.value for change in engine.all_statuses()}
        if statuses == {"Faulted"}:
            return "Faulted"
        if statuses <= {"Unavailable", "Faulted"}:
            return "Unavailable"
        return "Available"

    specs = [
        VariableSpec(
            component="ReservationCtrlr",
            variable="Enabled",
            data_type=DataType.BOOLEAN,
            read=lambda: _flag(engine.settings.enabled),
            write=set_enabled,
        ),
        VariableSpec(
            component="ReservationCtrlr",
            variable="Available",
            data_type=DataType.BOOLEAN,
            read=lambda: _flag(engine.settings.available),
        ),
        VariableSpec(
            component="ReservationCtrlr",
            variable="NonEvseSpecific",
            data_type=DataType.BOOLEAN,
            read=lambda: _flag(engine.settings.non_evse_specific),
        ),
        VariableSpec(
            component="OCPPCommCtrlr",
            variable="HeartbeatInterval",
            data_type=DataType.INTEGER,
            unit="s",
            read=lambda: str(int(client.heartbeat_interval)),
            write=set_heartbeat,
        ),
        VariableSpec(
            component="SampledDataCtrlr",
            variable="TxUpdatedInterval",
            data_type=DataType.INTEGER,
            unit="s",
            read=lambda: str(int(client.options.meter_interval)),
        ),
        VariableSpec(
            component="SampledDataCtrlr",
            variable="TxUpdatedMeasurands",
            data_type=DataType.MEMBER_LIST,
            read=lambda: "Energy.Active.Import.Register",
        ),
        VariableSpec(
            component="AuthCtrlr",
            variable="Enabled",
            data_type=DataType.BOOLEAN,
            read=lambda: "true",
        ),
        VariableSpec(
            component="AuthCtrlr",
            variable="AuthorizeRemoteStart",
            data_type=DataType.BOOLEAN,
            read=lambda: "false",
        ),
        VariableSpec(
            component="TxCtrlr",
            variable="TxStartPoint",
            data_type=DataType.MEMBER_LIST,
            read=lambda: "Authorized",
        ),
        VariableSpec(
            component="TxCtrlr",
            variable="TxStopPoint",
            data_type=DataType.MEMBER_LIST,
            read=lambda: "EVConnected,Authorized",
        ),
        VariableSpec(
            component="DeviceDataCtrlr",
            variable="ItemsPerMessage",
            data_type=DataType.INTEGER,
            read=lambda: "20",
        ),
        VariableSpec(
            component="ChargingStation",
            variable="Model",
            read=lambda: client.identity.model,
        ),
        VariableSpec(
            component="ChargingStation",
            variable="VendorName",
            read=lambda: client.identity.vendor,
        ),
        VariableSpec(
            component="ChargingStation",
            variable="AvailabilityState",
            data_type=DataType.OPTION_LIST,
            values_list=_AVAILABILITY_STATES,
            read=station_state,
        ),
    ]
    for evse_id in engine.evse_ids:
        specs.extend(_evse_specs(client, evse_id))
    return StationVariables(specs)


def _evse_specs(client: Station201, evse_id: int) -> list[VariableSpec]:
    engine = client.engine
    connectors = engine.connector_ids(evse_id)

    def evse_state() -> str:
        statuses = {engine.status(evse_id, c).value for c in connectors}
        return statuses.pop() if len(statuses) == 1 else "Available"

    specs = [
        VariableSpec(
            component="EVSE",
            variable="AvailabilityState",
            evse_id=evse_id,
            data_type=DataType.OPTION_LIST,
            values_list=_AVAILABILITY_STATES,
            read=evse_state,
        ),
        VariableSpec(
            component="EVSE",
            variable="Available",
            evse_id=evse_id,
            data_type=DataType.BOOLEAN,
            read=lambda: _flag(evse_state() not in ("Unavailable", "Faulted")),
        ),
    ]
    for connector_id in connectors:
        specs.extend(_connector_specs(client, evse_id, connector_id))
    return specs


def _connector_specs(client: Station201, evse_id: int, connector_id: int) -> list[VariableSpec]:
    engine = client.engine
    kind = connector_type(engine.connector_type(evse_id, connector_id))

    def state() -> str:
        return engine.status(evse_id, connector_id).value

    return [
        VariableSpec(
            component="Connector",
            variable="AvailabilityState",
            evse_id=evse_id,
            connector_id=connector_id,
            data_type=DataType.OPTION_LIST,
            values_list=_AVAILABILITY_STATES,
            read=state,
        ),
        VariableSpec(
            component="Connector",
            variable="Available",
            evse_id=evse_id,
            connector_id=connector_id,
            data_type=DataType.BOOLEAN,
            read=lambda: _flag(state() not in ("Unavailable", "Faulted")),
        ),
        VariableSpec(
            component="Connector",
            variable="ConnectorType",
            evse_id=evse_id,
            connector_id=connector_id,
            data_type=DataType.OPTION_LIST,
            read=lambda: kind.value,
        ),
    ]
