"""What the simulated stations of both versions share: behaviours, timings, identities,
station ids, the demo's plan, and a station's own tasks.

The stations themselves are :class:`~console.chargepoint.simulator.SimulatedStation`
(1.6) and :class:`~console.chargepoint.simulator201.SimulatedStation201` (2.0.1); the
site of both is :class:`~console.chargepoint.simulator.SiteSimulator`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from console.chargepoint.base_client import BaseStationClient, ClientOptions, StationIdentity
from console.ocpp.versions import OcppVersion

__all__ = [
    "DEFAULT_PREFIX",
    "DEMO_ORDER",
    "DEMO_ORDER_201",
    "OCCUPYING_ID_TAG",
    "Behaviour",
    "SimulatedStationBase",
    "SimulationOptions",
    "demo_behaviours",
    "demo_versions",
    "identity_for",
    "station_ids",
]

logger = logging.getLogger(__name__)

DEFAULT_PREFIX = "CP-"
OCCUPYING_ID_TAG = "SIM-DRIVER"


class Behaviour(StrEnum):
    """How a simulated station behaves during a commissioning dry run."""

    NORMAL = "normal"
    FAULTED = "faulted"  # connector (2.0.1: EVSE) 1 is Faulted
    UNAVAILABLE = "unavailable"  # the whole station is Unavailable
    NO_RESERVATIONS = "no_reservations"  # answers every ReserveNow with Rejected
    # 1.6: ReserveConnectorZeroSupported = false; 2.0.1: NonEvseSpecific = false, which
    # is a 2.0.1 station's normal already.
    NO_CONNECTOR_ZERO = "no_connector_zero"
    SLOW = "slow"  # answers after a delay longer than a usual call timeout
    CARD_ARRIVES = "card_arrives"  # the reserved card shows up and charging starts
    OCCUPIED = "occupied"  # connector (2.0.1: EVSE) 1 is charging
    # 2.0.1: ReservationCtrlr.NonEvseSpecific = true (reservations without evseId);
    # a 1.6 station with it behaves as a normal one.
    NON_EVSE_SPECIFIC = "non_evse_specific"


DEMO_ORDER: tuple[Behaviour, ...] = (
    Behaviour.NORMAL,
    Behaviour.FAULTED,
    Behaviour.UNAVAILABLE,
    Behaviour.NO_RESERVATIONS,
    Behaviour.NO_CONNECTOR_ZERO,
    Behaviour.SLOW,
    Behaviour.CARD_ARRIVES,
)

DEMO_ORDER_201: tuple[Behaviour, ...] = tuple(
    Behaviour.NON_EVSE_SPECIFIC if b is Behaviour.NO_CONNECTOR_ZERO else b for b in DEMO_ORDER
)
"""The mix of an all-2.0.1 site: EVSE-specific-only is a 2.0.1 station's normal, so its
place goes to a station that takes reservations without evseId."""

# Made-up vendors (distinct per behaviour and version, so the console's table tells them
# apart). 2.0.1 models have at most 20 characters.
_IDENTITIES: dict[OcppVersion, dict[Behaviour, StationIdentity]] = {
    OcppVersion.V16: {
        Behaviour.NORMAL: StationIdentity("Voltaris", "VX-22 AC", "2.3.1"),
        Behaviour.FAULTED: StationIdentity("Ampere Works", "AW-50 DC", "1.8.30"),
        Behaviour.UNAVAILABLE: StationIdentity("Northgrid", "NG Wallbox 11", "5.17.2"),
        Behaviour.NO_RESERVATIONS: StationIdentity("Chargetec", "CT-Basic 7", "0.9.4"),
        Behaviour.NO_CONNECTOR_ZERO: StationIdentity("Kilowatt Labs", "KL Duo 22", "3.10.57"),
        Behaviour.SLOW: StationIdentity("Sluggo Energy", "SE-Legacy 1", "0.9.14-beta"),
        Behaviour.CARD_ARRIVES: StationIdentity("Fleetcharge", "FC-Depot 2x22", "1.42.0"),
        Behaviour.OCCUPIED: StationIdentity("Busybee EV", "BB-Street 11", "2.6.1"),
        Behaviour.NON_EVSE_SPECIFIC: StationIdentity("Voltaris", "VX-22 AC Flex", "2.3.1"),
    },
    OcppVersion.V201: {
        Behaviour.NORMAL: StationIdentity("Helion Charge", "HX Twin 22", "4.0.2"),
        Behaviour.FAULTED: StationIdentity("Gridhopper", "GH-DC 150", "2.1.7"),
        Behaviour.UNAVAILABLE: StationIdentity("Quantawatt", "QW Pillar 2", "7.3.0"),
        Behaviour.NO_RESERVATIONS: StationIdentity("Opencurrent", "OC-Lite", "1.0.9"),
        Behaviour.NO_CONNECTOR_ZERO: StationIdentity("Evergrid Systems", "EG Duo 2", "3.4.11"),
        Behaviour.SLOW: StationIdentity("Tardis Power", "TP-Classic", "0.7.3-rc2"),
        Behaviour.CARD_ARRIVES: StationIdentity("Depotline", "DL Fleet 4x22", "2.8.0"),
        Behaviour.OCCUPIED: StationIdentity("Parkvolt", "PV Curbside", "5.2.4"),
        Behaviour.NON_EVSE_SPECIFIC: StationIdentity("Poolcharge", "PC Any-EVSE 4", "1.12.0"),
    },
}


def identity_for(behaviour: Behaviour, version: OcppVersion, station_id: str) -> StationIdentity:
    """The made-up identity of a simulated station, with a serial number of its own."""
    identity = _IDENTITIES[version][behaviour]
    serial = f"SIM-{station_id}"[:25]
    return StationIdentity(identity.vendor, identity.model, identity.firmware, serial)


@dataclass(frozen=True, slots=True)
class SimulationOptions:
    """Timings of the simulated site (tests shorten them)."""

    client: ClientOptions = field(default_factory=ClientOptions)
    # The ``slow`` station's answer delay: longer than the console's 30 s call timeout.
    slow_answer_delay: float = 40.0
    # How long after an accepted reservation the ``card_arrives`` card shows up.
    card_arrives_after: float = 5.0


def station_ids(count: int, prefix: str = DEFAULT_PREFIX) -> list[str]:
    """``CP-01`` .. ``CP-NN`` (at least two digits, more when there are more stations)."""
    width = max(2, len(str(count)))
    return [f"{prefix}{index:0{width}d}" for index in range(1, count + 1)]


def demo_behaviours(count: int, prefix: str = DEFAULT_PREFIX) -> list[tuple[str, Behaviour]]:
    """Ids and behaviours of the console's ``--demo N``: the demo order, cycled."""
    return [
        (station_id, DEMO_ORDER[index % len(DEMO_ORDER)])
        for index, station_id in enumerate(station_ids(count, prefix))
    ]


def demo_versions(count: int, prefix: str = DEFAULT_PREFIX) -> dict[str, OcppVersion]:
    """The versions of the mixed demo site: the first half 1.6, the second half 2.0.1.

    With the usual seven stations CP-01..CP-04 speak 1.6 (normal, faulted, unavailable,
    refusing reservations) and CP-05..CP-07 speak 2.0.1 (EVSE-specific reservations only,
    slow, the card arrives); a single station speaks 1.6.
    """
    first_201 = (count + 1) // 2
    return {
        station_id: OcppVersion.V201 if index >= first_201 else OcppVersion.V16
        for index, station_id in enumerate(station_ids(count, prefix))
    }


class SimulatedStationBase:
    """What a simulated station of either version has: its id, behaviour and client, and
    the tasks it runs beside the client (which it ends when it stops)."""

    version: OcppVersion
    client: BaseStationClient

    def __init__(self, station_id: str, behaviour: Behaviour, options: SimulationOptions) -> None:
        self.station_id = station_id
        self.behaviour = behaviour
        self.options = options
        self._tasks: set[asyncio.Task[Any]] = set()

    def _client_options(self) -> ClientOptions:
        if self.behaviour is Behaviour.SLOW:
            return replace(self.options.client, answer_delay=self.options.slow_answer_delay)
        return self.options.client

    # --- state --------------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        return self.client.connected

    @property
    def booted(self) -> bool:
        return self.client.booted

    async def wait_booted(self) -> None:
        """Until registered (wrap in ``asyncio.timeout``)."""
        await self.client.wait_booted()

    # --- lifecycle ----------------------------------------------------------------------

    async def start(self) -> None:
        await self.client.start()
        if self.behaviour is Behaviour.OCCUPIED:
            self._spawn(self._occupy(), "occupy")

    async def stop(self) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self.client.stop()

    async def _occupy(self) -> None:
        """The ``occupied`` behaviour: a driver charges at connector (EVSE) 1."""
        raise NotImplementedError

    def _spawn(self, coroutine: Coroutine[Any, Any, Any], what: str) -> None:
        task = asyncio.create_task(coroutine, name=f"station {self.station_id} {what}")
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.warning(
                "station %s: %s failed: %s", self.station_id, task.get_name(), task.exception()
            )

    async def go_offline(self) -> None:
        """Drop the connection and stay offline (reservations are kept)."""
        await self.client.go_offline()

    async def go_online(self) -> None:
        await self.client.go_online()
