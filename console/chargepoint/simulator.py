"""A site of simulated stations on one asyncio loop, with commissioning behaviours.

``SiteSimulator(url, stations=N, connectors=M, behaviours=[...])`` builds N stations (ids
``<prefix>01`` ...), each behaving as its :class:`Behaviour` says and speaking its OCPP
version (``ocpp_version=``, 1.6 unless told; ``versions=`` per station): a 1.6 station is a
:class:`SimulatedStation` (a :class:`~console.chargepoint.client.StationClient` with its own
:class:`~console.chargepoint.engine.ReservationEngine`, M connectors), a 2.0.1 one a
:class:`~console.chargepoint.simulator201.SimulatedStation201` (M EVSEs).
``station(station_id)`` gives the simulated station, which code (tests, the console's demo)
drives like a technician on site: present a card, plug in, stop, fault a connector, go
offline.

A station may also break one or more Reservation rules on purpose (``defects``, see
:mod:`console.chargepoint.defects`), to test the console's conformance check against it.

``demo_behaviours(n)`` gives the ids and behaviours of the console's ``--demo N``, and
``demo_versions(n)`` their versions (a mixed site).
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from console.chargepoint.client import ChargingOutcome, StationClient
from console.chargepoint.defects import Defect, DefectiveReservationEngine
from console.chargepoint.engine import Reservation, ReservationEngine
from console.chargepoint.simulation import (
    DEFAULT_PREFIX,
    DEMO_ORDER,
    OCCUPYING_ID_TAG,
    Behaviour,
    SimulatedStationBase,
    SimulationOptions,
    demo_behaviours,
    demo_versions,
    identity_for,
    station_ids,
)
from console.chargepoint.simulator201 import SimulatedStation201
from console.ocpp.enums import ChargePointErrorCode, StopReason
from console.ocpp.versions import OcppVersion

__all__ = [
    "DEMO_ORDER",
    "AnySimulatedStation",
    "Behaviour",
    "Defect",
    "SimulatedStation",
    "SimulatedStation201",
    "SimulationOptions",
    "SiteSimulator",
    "demo_behaviours",
    "demo_versions",
    "station_ids",
]

logger = logging.getLogger(__name__)


class SimulatedStation(SimulatedStationBase):
    """One simulated 1.6 station, driven from code like a technician on site.

    ``defects`` names the Reservation rules it breaks on purpose (none by default).
    """

    version = OcppVersion.V16
    client: StationClient

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
        super().__init__(station_id, behaviour, options)
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
        self.client = StationClient(
            url,
            station_id,
            engine,
            identity=identity_for(behaviour, OcppVersion.V16, station_id),
            options=self._client_options(),
            password=password,
            ssl_context=ssl_context,
            on_reservation_accepted=(
                self._card_arrives_later if behaviour is Behaviour.CARD_ARRIVES else None
            ),
        )
        self._apply_behaviour()
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

    def transaction_id(self, connector_id: int) -> int | None:
        return self.client.transaction_id(connector_id)

    # --- behaviours ---------------------------------------------------------------------

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


AnySimulatedStation = SimulatedStation | SimulatedStation201
"""A simulated station of either version."""


class SiteSimulator:
    """N simulated stations with M connectors (2.0.1: M EVSEs) each, on the running loop.

    ``behaviours`` is cycled over the stations (``[Behaviour.NORMAL]`` by default);
    ``station_specs`` (ids and behaviours, as :func:`demo_behaviours` gives) overrides
    ``stations``, ``prefix`` and ``behaviours``. Every station speaks ``ocpp_version``
    (1.6 unless told) except those ``versions`` names. ``defects`` maps (1.6) station ids
    to the Reservation rules those stations break on purpose (every other has none).
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
        ocpp_version: OcppVersion = OcppVersion.V16,
        versions: Mapping[str, OcppVersion] | None = None,
    ) -> None:
        if not behaviours:
            raise ValueError("at least one behaviour")
        if station_specs is None:
            station_specs = [
                (station_id, behaviours[index % len(behaviours)])
                for index, station_id in enumerate(station_ids(stations, prefix))
            ]
        station_specs = list(station_specs)
        defects = {k: frozenset(v) for k, v in (defects or {}).items()}
        versions = dict(versions or {})
        known = {station_id for station_id, _ in station_specs}
        for what, named in (("defects", defects), ("versions", versions)):
            strangers = set(named) - known
            if strangers:
                raise ValueError(f"{what} for stations not simulated: {sorted(strangers)}")
        self.url = url
        self.options = options or SimulationOptions()
        self._stations: dict[str, AnySimulatedStation] = {}
        for station_id, behaviour in station_specs:
            version = versions.get(station_id, ocpp_version)
            station: AnySimulatedStation
            if version is OcppVersion.V201:
                if defects.get(station_id):
                    raise ValueError(f"station {station_id}: defects are 1.6 stations' only")
                station = SimulatedStation201(
                    url,
                    station_id,
                    behaviour,
                    connectors,
                    password=password,
                    ssl_context=ssl,
                    options=self.options,
                )
            else:
                station = SimulatedStation(
                    url,
                    station_id,
                    behaviour,
                    connectors,
                    password=password,
                    ssl_context=ssl,
                    options=self.options,
                    defects=defects.get(station_id, ()),
                )
            self._stations[station_id] = station
        self._started = False

    @classmethod
    def demo(
        cls,
        url: str,
        count: int,
        connectors: int = 2,
        *,
        ocpp_version: OcppVersion | None = None,
        **kwargs: Any,
    ) -> SiteSimulator:
        """The console's ``--demo N`` site: ``CP-01``.. cycling through :data:`DEMO_ORDER`,
        a mixed site (:func:`demo_versions`) unless ``ocpp_version`` names one version."""
        versions = demo_versions(count) if ocpp_version is None else {}
        return cls(
            url,
            connectors=connectors,
            station_specs=demo_behaviours(count),
            ocpp_version=ocpp_version or OcppVersion.V16,
            versions=versions,
            **kwargs,
        )

    @property
    def stations(self) -> list[AnySimulatedStation]:
        return list(self._stations.values())

    def station(self, station_id: str) -> AnySimulatedStation:
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
