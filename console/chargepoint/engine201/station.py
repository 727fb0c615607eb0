"""The EVSEs and connectors of a 2.0.1 station as the reservation rules see them.

A :class:`StationState` knows the connector types, the faults and the availability (with
what ChangeAvailability scheduled), and on each EVSE the cable and the token authorized.
It knows nothing of reservations: :mod:`~console.chargepoint.engine201.engine` reads it to
judge them and to derive what each connector reports.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from console.chargepoint.engine201.values import ConnectorStatus, ConnectorType, IdToken

__all__ = ["Connector", "Evse", "StationState"]


@dataclass(slots=True)
class _Availability:
    faulted: bool = False
    operative: bool = True
    # ChangeAvailability(Inoperative) while an EVSE concerned is in use takes effect when
    # it no longer is.
    inoperative_scheduled: bool = False


@dataclass(slots=True, kw_only=True)
class Connector(_Availability):
    """One connector: its type, fault and availability."""

    type: ConnectorType


@dataclass(slots=True, kw_only=True)
class Evse(_Availability):
    """One EVSE: its connectors, fault and availability, the cable and the token here."""

    connectors: dict[int, Connector]
    cable: int | None = None  # the connector with a cable in
    # Plugged in while Reserved, without the right token: that changes nothing (G01.FR.09)
    # for as long as the EVSE stays reserved.
    cable_waiting: bool = False
    authorized: IdToken | None = None  # the token of the authorization (transaction) here

    @property
    def in_use(self) -> bool:
        return self.authorized is not None or self.cable is not None


class StationState:
    """The station's EVSEs (evseId -> connector types, connectorId 1, 2, ...) and their
    state; station-wide faults and availability apply to every connector."""

    def __init__(self, evses: Mapping[int, Sequence[ConnectorType]]) -> None:
        if not evses:
            raise ValueError("a station has at least one EVSE")
        self.station = _Availability()
        self.evses: dict[int, Evse] = {}
        for evse_id in sorted(evses):
            types = evses[evse_id]
            if evse_id < 1 or not types:
                raise ValueError(f"EVSE {evse_id}: ids start at 1 and an EVSE has connectors")
            connectors = {c: Connector(type=ConnectorType(t)) for c, t in enumerate(types, 1)}
            self.evses[evse_id] = Evse(connectors=connectors)

    def evse(self, evse_id: int) -> Evse:
        try:
            return self.evses[evse_id]
        except KeyError:
            raise ValueError(f"no EVSE {evse_id}") from None

    def connector(self, evse_id: int, connector_id: int) -> Connector:
        try:
            return self.evse(evse_id).connectors[connector_id]
        except KeyError:
            raise ValueError(f"no connector {connector_id} on EVSE {evse_id}") from None

    def knows(self, evse_id: int | None, connector_id: int | None = None) -> bool:
        """Whether the station has that EVSE (None: the station) and connector."""
        if evse_id is None:
            return True
        evse = self.evses.get(evse_id)
        return evse is not None and (connector_id is None or connector_id in evse.connectors)

    def target(self, evse_id: int | None, connector_id: int | None) -> _Availability:
        """What a fault or a ChangeAvailability for that place acts on."""
        if evse_id is None:
            return self.station
        if connector_id is None:
            return self.evse(evse_id)
        return self.connector(evse_id, connector_id)

    def connector_block(self, evse_id: int, connector_id: int) -> ConnectorStatus | None:
        """Faulted / Unavailable from the station, the EVSE or the connector, if so."""
        evse = self.evse(evse_id)
        levels = (self.station, evse, evse.connectors[connector_id])
        if any(level.faulted for level in levels):
            return ConnectorStatus.FAULTED
        if not all(level.operative for level in levels):
            return ConnectorStatus.UNAVAILABLE
        return None

    def evse_block(
        self, evse_id: int, connector_type: ConnectorType | None = None
    ) -> ConnectorStatus | None:
        """Faulted / Unavailable when no connector of the EVSE (of that type) can serve:
        Faulted when every one of them is faulted."""
        blocks = [
            self.connector_block(evse_id, c)
            for c, connector in self.evse(evse_id).connectors.items()
            if connector_type is None or connector.type is connector_type
        ]
        if any(b is None for b in blocks):
            return None
        if all(b is ConnectorStatus.FAULTED for b in blocks):
            return ConnectorStatus.FAULTED
        return ConnectorStatus.UNAVAILABLE

    def has_type(self, evse_id: int, connector_type: ConnectorType | None) -> bool:
        """Whether the EVSE has a connector of that type (None: any), in service or not."""
        return connector_type is None or any(
            c.type is connector_type for c in self.evse(evse_id).connectors.values()
        )

    def suits(self, evse_id: int, connector_type: ConnectorType | None) -> bool:
        """Whether the EVSE can serve that connector type (None: any) now."""
        return self.has_type(evse_id, connector_type) and (
            self.evse_block(evse_id, connector_type) is None
        )

    def apply_scheduled_availability(self) -> None:
        """Scheduled unavailability takes effect where nothing is in use any more."""
        if self.station.inoperative_scheduled and not any(e.in_use for e in self.evses.values()):
            self.station.operative = False
            self.station.inoperative_scheduled = False
        for evse in self.evses.values():
            if evse.in_use:
                continue
            for level in (evse, *evse.connectors.values()):
                if level.inoperative_scheduled:
                    level.operative = False
                    level.inoperative_scheduled = False
