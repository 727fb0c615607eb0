"""The rows of the station tree as plain containers (no Qt): stations, EVSEs, connectors.

A 1.6 station's children are its connectors 1..n (connector 0 is the station row itself).
A 2.0.1 station's children are its EVSEs, each with its connectors below. While a station
changes version both kinds may stand side by side for a moment (until the old connectors'
removal arrives), so the children are one list ordered 1.6 connectors first, then EVSEs.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

from console.central.model import ConnectorSnapshot, StationSnapshot

__all__ = ["Child", "EvseNode", "StationNode", "child_order", "connector_position"]


@dataclass(slots=True, eq=False)
class EvseNode:
    """A 2.0.1 EVSE: a row under its station with its connectors below."""

    key: int
    """Stable, never reused: its connectors' indexes carry it as internal id."""
    station: StationNode = field(repr=False)
    evse_id: int
    connectors: list[ConnectorSnapshot] = field(default_factory=list)
    """By connector number within the EVSE."""
    row: int = 0
    """Its row under the station (kept up to date on every insert and removal there)."""


Child = ConnectorSnapshot | EvseNode


@dataclass(slots=True, eq=False)
class StationNode:
    """A station row and its children."""

    key: int
    """Stable, never reused: its children's indexes carry it as internal id."""
    snapshot: StationSnapshot
    children: list[Child] = field(default_factory=list)
    """1.6 connectors by id, then 2.0.1 EVSEs by id."""
    zero: ConnectorSnapshot | None = None
    """1.6 connector 0: the station as a whole."""
    evses: dict[int, EvseNode] = field(default_factory=dict)

    def connector_position(self, connector_id: int) -> tuple[int, bool]:
        """Where 1.6 connector ``connector_id`` stands (or would be inserted), and whether
        it is there."""
        return _position(self.children, (0, connector_id))

    def evse_position(self, evse_id: int) -> tuple[int, bool]:
        return _position(self.children, (1, evse_id))

    def renumber(self, start: int = 0) -> None:
        """Tell the EVSEs from ``start`` on their row (after an insert or a removal)."""
        for row in range(start, len(self.children)):
            child = self.children[row]
            if isinstance(child, EvseNode):
                child.row = row


def child_order(child: Child) -> tuple[int, int]:
    """1.6 connectors first (by id), then EVSEs (by id)."""
    if isinstance(child, EvseNode):
        return (1, child.evse_id)
    return (0, child.connector_id)


def connector_position(connectors: list[ConnectorSnapshot], connector_id: int) -> tuple[int, bool]:
    """Where ``connector_id`` stands in a list ordered by connector id, and whether it is there."""
    position = bisect.bisect_left(connectors, connector_id, key=lambda c: c.connector_id)
    found = position < len(connectors) and connectors[position].connector_id == connector_id
    return position, found


def _position(children: list[Child], order: tuple[int, int]) -> tuple[int, bool]:
    position = bisect.bisect_left(children, order, key=child_order)
    found = position < len(children) and child_order(children[position]) == order
    return position, found
