"""A site of simulated stations on one asyncio loop, with commissioning behaviours.

``SiteSimulator(url, stations=N, connectors=M, behaviours=[...])`` builds N stations (ids
``<prefix>01`` ...), each a :class:`~console.chargepoint.client.StationClient` with its own
:class:`~console.chargepoint.engine.ReservationEngine`, behaving as its
:class:`Behaviour` says. ``station(station_id)`` gives a :class:`SimulatedStation` that code
(tests, the console's demo) drives like a technician on site: present a card, plug in,
stop, fault a connector, go offline.

A station may also break one or more Reservation rules on purpose (``defects``, see
:mod:`console.chargepoint.defects`), to test the console's conformance check against it.

``demo_behaviours(n)`` gives the ids and behaviours of the console's ``--demo N``.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from console.chargepoint.client import (
    ChargingOutcome,
    ClientOptions,
    StationClient,
    StationIdentity,
)
from console.chargepoint.defects import Defect, DefectiveReservationEngine
from console.chargepoint.engine import Reservation, ReservationEngine
from console.ocpp.enums import ChargePointErrorCode, StopReason

__all__ = [
    "DEMO_ORDER",
    "Behaviour",
    "Defect",
    "SimulatedStation",
    "SimulationOptions",
    "SiteSimulator",
    "demo_behaviours",
    "station_ids",
]

logger = logging.getLogger(__name__)

DEFAULT_PREFIX = "CP-"
OCCUPYING_ID_TAG = "SIM-DRIVER"


class Behaviour(StrEnum):
    """How a simulated station behaves during a commissioning dry run."""

    NORMAL = "normal"
    FAULTED = "faulted"  # connector 1 is Faulted
    UNAVAILABLE = "unavailable"  # the whole station is Unavailable
    NO_RESERVATIONS = "no_reservations"  # answers every ReserveNow with Rejected
    NO_CONNECTOR_ZERO = "no_connector_zero"  # ReserveConnectorZeroSupported = false
    SLOW = "slow"  # answers after a delay longer than a usual call timeout
    CARD_ARRIVES = "card_arrives"  # the reserved card shows up and charging starts
    OCCUPIED = "occupied"  # connector 1 is charging


DEMO_ORDER: tuple[Behaviour, ...] = (
    Behaviour.NORMAL,
    Behaviour.FAULTED,
    Behaviour.UNAVAILABLE,
    Behaviour.NO_RESERVATIONS,
    Behaviour.NO_CONNECTOR_ZERO,
    Behaviour.SLOW,
    Behaviour.CARD_ARRIVES,
)

# Made-up vendors (distinct per behaviour, so the console's table tells them apart).
_IDENTITIES: dict[Behaviour, StationIdentity] = {
    Behaviour.NORMAL: StationIdentity("Voltaris", "VX-22 AC", "2.3.1"),
    Behaviour.FAULTED: StationIdentity("Ampere Works", "AW-50 DC", "1.8.30"),
    Behaviour.UNAVAILABLE: StationIdentity("Northgrid", "NG Wallbox 11", "5.17.2"),
    Behaviour.NO_RESERVATIONS: StationIdentity("Chargetec", "CT-Basic 7", "0.9.4"),
    Behaviour.NO_CONNECTOR_ZERO: StationIdentity("Kilowatt Labs", "KL Duo 22", "3.10.57"),
    Behaviour.SLOW: StationIdentity("Sluggo Energy", "SE-Legacy 1", "0.9.14-beta"),
    Behaviour.CARD_ARRIVES: StationIdentity("Fleetcharge", "FC-Depot 2x22", "1.42.0"),
    Behaviour.OCCUPIED: StationIdentity("Busybee EV", "BB-Street 11", "2.6.1"),
}


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


class SimulatedStation:
    """One simulated station, driven from code like a technician on site.

    ``defects`` names the Reservation rules it breaks on purpose (none by default).
    """

    def __init__(
        self,
        url: str,
        station_id: str,
        behaviour: Behaviour,
        connectors: int,
        *,
        password: str | None,
        ssl_context: ssl.SSLContext | None,
        options: SimulationOptions,
        defects: Iterable[Defect] = (),
    ) -> None:
        self.station_id = station_id
        self.behaviour = behaviour
        self.options = options
        self.defects = frozenset(defects)
        reservations_enabled = behaviour is not Behaviour.NO_RESERVATIONS
        zero_supported = behaviour is not Behaviour.NO_CONNECTOR_ZERO
        engine: ReservationEngine
        if self.defects:
            engine = DefectiveReservationEngine(
                connectors,
                defects=self.defects,
                reservations_enabled=reservations_enabled,
                reserve_connector_zero_supported=zero_supported,
            )
            logger.info(
                "station %s: deliberate reservation defects: %s",
                station_id,
                ", ".join(sorted(self.defects)),
            )
        else:
            engine = ReservationEngine(
                connectors,
                reservations_enabled=reservations_enabled,
                reserve_connector_zero_supported=zero_supported,
            )
        client_options = options.client
        if behaviour is Behaviour.SLOW:
            client_options = replace(client_options, answer_delay=options.slow_answer_delay)
        identity = _IDENTITIES[behaviour]
        serial = f"SIM-{station_id}"[:25]
        self.client = StationClient(
            url,
            station_id,
            engine,
            identity=StationIdentity(identity.vendor, identity.model, identity.firmware, serial),
            password=password,
            ssl_context=ssl_context,
            options=client_options,
            on_reservation_accepted=(
                self._card_arrives_later if behaviour is Behaviour.CARD_ARRIVES else None
            ),
        )
        self._apply_behaviour()
        self._tasks: set[asyncio.Task[Any]] = set()
        self.outcomes: list[ChargingOutcome] = []

    def _apply_behaviour(self) -> None:
        # Before the first connection: the first boot reports these states.
        engine = self.engine
        if self.behaviour is Behaviour.FAULTED:
            engine.set_fault(1, ChargePointErrorCode.GROUND_FAILURE)
        elif self.behaviour is Behaviour.UNAVAILABLE:
            engine.change_availability(0, operative=False)

    # --- state --------------------------------------------------------------------------

    @property
    def engine(self) -> ReservationEngine:
        return self.client.engine

    @property
    def connected(self) -> bool:
        return self.client.connected

    @property
    def booted(self) -> bool:
        return self.client.booted

    def transaction_id(self, connector_id: int) -> int | None:
        return self.client.transaction_id(connector_id)

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

    def _spawn(self, coroutine: Any, what: str) -> None:
        task = asyncio.create_task(coroutine, name=f"station {self.station_id} {what}")
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.warning(
                "station %s: %s failed: %s", self.station_id, task.get_name(), task.exception()
            )

    async def _occupy(self) -> None:
        await self.client.wait_booted()
        if not self.engine.in_transaction(1):
            self.outcomes.append(
                await self.client.present_id_tag(OCCUPYING_ID_TAG, 1, authorize=False)
            )

    def _card_arrives_later(self, reservation: Reservation) -> None:
        self._spawn(self._card_arrives(reservation), f"card {reservation.id_tag}")

    async def _card_arrives(self, reservation: Reservation) -> None:
        await asyncio.sleep(self.options.card_arrives_after)
        if self.engine.reservation(reservation.reservation_id) != reservation:
            return  # cancelled, replaced or expired meanwhile
        connector_id = reservation.connector_id or next(
            (
                c
                for c in self.engine.connector_ids
                if self.engine.may_start(c, reservation.id_tag).allowed
                and not self.engine.plugged_in(c)
            ),
            1,
        )
        logger.info(
            "station %s: the reserved card %s arrives at connector %s",
            self.station_id,
            reservation.id_tag,
            connector_id,
        )
        self.outcomes.append(await self.client.present_id_tag(reservation.id_tag, connector_id))

    # --- what a technician or driver does -----------------------------------------------

    async def present_id_tag(self, id_tag: str, connector_id: int = 1) -> ChargingOutcome:
        """Hold a card to the reader: Authorize, and StartTransaction if allowed."""
        outcome = await self.client.present_id_tag(id_tag, connector_id)
        self.outcomes.append(outcome)
        return outcome

    async def plug_in(self, connector_id: int = 1) -> None:
        self.client.plug_in(connector_id)

    async def unplug(self, connector_id: int = 1) -> None:
        self.client.unplug(connector_id)

    async def stop_transaction(
        self, connector_id: int = 1, reason: StopReason = StopReason.LOCAL
    ) -> bool:
        """End the transaction on the connector and unplug; False if none ran."""
        return await self.client.stop_transaction(connector_id, reason)

    async def fault(
        self,
        connector_id: int = 1,
        error_code: ChargePointErrorCode = ChargePointErrorCode.GROUND_FAILURE,
    ) -> None:
        """The connector (0: the whole station) goes Faulted; its reservation ends."""
        self.client.fault(connector_id, error_code)

    async def clear_fault(self, connector_id: int = 1) -> None:
        self.client.clear_fault(connector_id)

    async def set_available(self, connector_id: int = 0, available: bool = True) -> None:
        """Take a connector (0: the station) in or out of service, as on site."""
        self.client.set_availability(connector_id, available)

    async def go_offline(self) -> None:
        """Drop the connection and stay offline (reservations are kept)."""
        await self.client.go_offline()

    async def go_online(self) -> None:
        await self.client.go_online()


class SiteSimulator:
    """N simulated stations with M connectors each, on the running asyncio loop.

    ``behaviours`` is cycled over the stations (``[Behaviour.NORMAL]`` by default);
    ``station_specs`` (ids and behaviours, as :func:`demo_behaviours` gives) overrides
    ``stations``, ``prefix`` and ``behaviours``. ``defects`` maps station ids to the
    Reservation rules those stations break on purpose (every other station has none).
    """

    def __init__(
        self,
        url: str,
        stations: int = 1,
        connectors: int = 2,
        behaviours: Sequence[Behaviour] = (Behaviour.NORMAL,),
        *,
        prefix: str = DEFAULT_PREFIX,
        station_specs: Iterable[tuple[str, Behaviour]] | None = None,
        password: str | None = None,
        ssl: ssl.SSLContext | None = None,
        options: SimulationOptions | None = None,
        defects: Mapping[str, Iterable[Defect]] | None = None,
    ) -> None:
        if not behaviours:
            raise ValueError("at least one behaviour")
        if station_specs is None:
            station_specs = [
                (station_id, behaviours[index % len(behaviours)])
                for index, station_id in enumerate(station_ids(stations, prefix))
            ]
        station_specs = list(station_specs)
        defects = defects or {}
        strangers = set(defects) - {station_id for station_id, _ in station_specs}
        if strangers:
            raise ValueError(f"defects for stations not simulated: {sorted(strangers)}")
        self.url = url
        self.options = options or SimulationOptions()
        self._stations: dict[str, SimulatedStation] = {
            station_id: SimulatedStation(
                url,
                station_id,
                behaviour,
                connectors,
                password=password,
                ssl_context=ssl,
                options=self.options,
                defects=defects.get(station_id, ()),
            )
            for station_id, behaviour in station_specs
        }
        self._started = False

    @classmethod
    def demo(cls, url: str, count: int, connectors: int = 2, **kwargs: Any) -> SiteSimulator:
        """The console's ``--demo N`` site: ``CP-01``.. cycling through :data:`DEMO_ORDER`."""
        return cls(url, connectors=connectors, station_specs=demo_behaviours(count), **kwargs)

    @property
    def stations(self) -> list[SimulatedStation]:
        return list(self._stations.values())

    def station(self, station_id: str) -> SimulatedStation:
        """The simulated station with that id (``KeyError`` if none)."""
        return self._stations[station_id]

    async def start(self) -> None:
        """Start every station (they connect in the background)."""
        if self._started:
            return
        self._started = True
        for station in self._stations.values():
            await station.start()
        logger.info("simulating %d stations against %s", len(self._stations), self.url)

    async def stop(self) -> None:
        """Disconnect every station and end all their tasks."""
        if not self._started:
            return
        self._started = False
        await asyncio.gather(*(s.stop() for s in self._stations.values()))

    async def wait_booted(self) -> None:
        """Until every station is registered (wrap in ``asyncio.timeout``)."""
        await asyncio.gather(*(s.wait_booted() for s in self._stations.values()))

    def retarget(self, url: str) -> None:
        """Every station dials ``url`` from now on (the Central System moved), at once."""
        if url == self.url:
            return
        self.url = url
        for station in self._stations.values():
            station.client.retarget(url)
        logger.info("the %d simulated stations now connect to %s", len(self._stations), url)
