"""The live model of stations and connectors: immutable snapshots, replaced on change."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from typing import Any, TypeGuard

from console.central.events import ChangeFeed
from console.central.model import (
    ConnectorChanged,
    ConnectorRemoved,
    ConnectorSnapshot,
    StationChanged,
    StationSnapshot,
)
from console.central.persistence import SnapshotSink

__all__ = ["StationRegistry"]

# A station that talks often would otherwise announce a change per message only because
# its "last message" time moved; the UI shows that time at second resolution anyway.
_LAST_MESSAGE_RESOLUTION = timedelta(seconds=1)


class StationRegistry:
    """Stations and connectors as the console knows them; every change stored and announced."""

    def __init__(
        self,
        feed: ChangeFeed,
        store: SnapshotSink,
        stations: list[StationSnapshot] | None = None,
        connectors: list[ConnectorSnapshot] | None = None,
    ) -> None:
        self._feed = feed
        self._store = store
        self._stations: dict[str, StationSnapshot] = {s.station_id: s for s in stations or ()}
        self._connectors: dict[tuple[str, int | None, int], ConnectorSnapshot] = {
            c.key: c for c in connectors or ()
        }

    # --- reading ------------------------------------------------------------------------

    def station(self, station_id: str) -> StationSnapshot | None:
        return self._stations.get(station_id)

    def stations(self) -> list[StationSnapshot]:
        return sorted(self._stations.values(), key=lambda s: s.station_id)

    def connector(
        self, station_id: str, connector_id: int, evse_id: int | None = None
    ) -> ConnectorSnapshot | None:
        """1.6: connector ``connector_id``; 2.0.1: connector ``connector_id`` of ``evse_id``."""
        return self._connectors.get((station_id, evse_id, connector_id))

    def connectors(self, station_id: str | None = None) -> list[ConnectorSnapshot]:
        chosen = (
            c for c in self._connectors.values() if station_id is None or c.station_id == station_id
        )
        return sorted(chosen, key=_connector_order)

    def evse_connectors(self, station_id: str, evse_id: int) -> list[ConnectorSnapshot]:
        """2.0.1: the connectors of one EVSE, by number."""
        return sorted(
            (
                c
                for c in self._connectors.values()
                if c.station_id == station_id and c.evse_id == evse_id
            ),
            key=_connector_order,
        )

    def forget_connectors(self, station_id: str, keep_evse: bool) -> None:
        """Drop the station's connectors of the other numbering: a station that comes back
        with another version is that version from then on (1.6 connectors have no EVSE,
        2.0.1 ones do). ``keep_evse``: the station now speaks 2.0.1."""
        stale = [
            key
            for key, c in self._connectors.items()
            if c.station_id == station_id and (c.evse_id is not None) is not keep_evse
        ]
        if not stale:
            return
        self._store.forget_connectors(station_id, of_evses=not keep_evse)
        for key in stale:
            self._feed.emit(ConnectorRemoved(self._connectors.pop(key)))

    # --- changing -----------------------------------------------------------------------

    def update_station(self, station_id: str, **changes: Any) -> StationSnapshot:
        """Apply ``changes`` (StationSnapshot fields); store and announce if anything changed."""
        current = self._stations.get(station_id)
        if current is None:
            current = StationSnapshot(station_id=station_id, connected=False)
            updated = dataclasses.replace(current, **changes)
        else:
            updated = dataclasses.replace(current, **changes)
            if updated == current:
                return current
        self._stations[station_id] = updated
        self._store.save_station(updated)
        self._feed.emit(StationChanged(updated))
        return updated

    def touch_station(self, station_id: str, at: datetime) -> None:
        """Note a message from the station (kept to the second: at most one change a second)."""
        current = self._stations.get(station_id)
        if current is None:
            self.update_station(station_id, last_message_at=at)
            return
        previous = current.last_message_at
        if previous is not None and at - previous < _LAST_MESSAGE_RESOLUTION:
            # Within the resolution: not worth a new snapshot (a busy station sends often).
            return
        updated = dataclasses.replace(current, last_message_at=at)
        self._stations[station_id] = updated
        self._store.save_station(updated)
        self._feed.emit(StationChanged(updated))

    def update_connector(
        self, station_id: str, connector_id: int, *, evse_id: int | None = None, **changes: Any
    ) -> ConnectorSnapshot:
        """Apply ``changes`` (ConnectorSnapshot fields); store and announce if changed."""
        key = (station_id, evse_id, connector_id)
        current = self._connectors.get(key)
        if current is None:
            current = ConnectorSnapshot(
                station_id=station_id, connector_id=connector_id, evse_id=evse_id
            )
            updated = dataclasses.replace(current, **changes)
        else:
            updated = dataclasses.replace(current, **changes)
            if updated == current:
                return current
        self._connectors[key] = updated
        self._store.save_connector(updated)
        self._feed.emit(ConnectorChanged(updated))
        return updated

    def find_transaction(self, transaction_id: int | str) -> ConnectorSnapshot | None:
        for connector in self._connectors.values():
            if connector.transaction_id == transaction_id:
                return connector
        return None

    def max_transaction_id(self) -> int:
        """The highest numeric transaction id (1.6's; 2.0.1's are the station's texts)."""
        return max(
            (c.transaction_id for c in self._connectors.values() if _is_int(c.transaction_id)),
            default=0,
        )


def _connector_order(c: ConnectorSnapshot) -> tuple[str, int, int]:
    return (c.station_id, -1 if c.evse_id is None else c.evse_id, c.connector_id)


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)
