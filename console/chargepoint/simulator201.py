"""A simulated OCPP 2.0.1 station, driven from code like a technician on site.

:class:`SimulatedStation201` is the 2.0.1 counterpart of
:class:`~console.chargepoint.simulator.SimulatedStation`: a
:class:`~console.chargepoint.client201.StationClient201` with its own
:class:`~console.chargepoint.engine201.ReservationEngine201`, behaving as its
:class:`~console.chargepoint.simulation.Behaviour` says, with the same hooks (present a
card, plug in, stop, fault, go offline). Where 1.6 says connector, 2.0.1 says EVSE: the
hooks take an ``evse_id`` (``present_id_tag(tag, n)`` presents it at EVSE ``n``, as the
console's reservation API maps connector ids to evseIds).

Its EVSEs (:func:`evse_layout`): odd ones have one Type 2 socket, even ones a DC pair
(CCS2 and CHAdeMO), so that "every connector of the EVSE" means more than one.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

import console.chargepoint.engine201 as e
from console.chargepoint.client201 import ChargingOutcome201, StationClient201
from console.chargepoint.simulation import (
    OCCUPYING_ID_TAG,
    Behaviour,
    SimulatedStationBase,
    SimulationOptions,
    identity_for,
)
from console.ocpp.v201.enums import Reason
from console.ocpp.versions import OcppVersion

__all__ = ["SimulatedStation201", "evse_layout"]

logger = logging.getLogger(__name__)

_AC = (e.ConnectorType.C_TYPE2,)
_DC = (e.ConnectorType.C_CCS2, e.ConnectorType.C_G105)


def evse_layout(count: int) -> dict[int, tuple[e.ConnectorType, ...]]:
    """``count`` EVSEs: odd ones one Type 2 socket, even ones a CCS2 + CHAdeMO pair."""
    if count < 1:
        raise ValueError("a station has at least one EVSE")
    return {evse_id: _AC if evse_id % 2 else _DC for evse_id in range(1, count + 1)}


def _settings(behaviour: Behaviour) -> e.ReservationSettings:
    return e.ReservationSettings(
        enabled=behaviour is not Behaviour.NO_RESERVATIONS,
        non_evse_specific=behaviour is Behaviour.NON_EVSE_SPECIFIC,
    )


class SimulatedStation201(SimulatedStationBase):
    """One simulated 2.0.1 station with ``evses`` EVSEs (or the layout given)."""

    version = OcppVersion.V201
    client: StationClient201

    def __init__(
        self,
        url: str,
        station_id: str,
        behaviour: Behaviour,
        evses: int | Mapping[int, Sequence[e.ConnectorType]],
        *,
        password: str | None,
        ssl_context: ssl.SSLContext | None,
        options: SimulationOptions,
    ) -> None:
        super().__init__(station_id, behaviour, options)
        layout = evse_layout(evses) if isinstance(evses, int) else evses
        engine = e.ReservationEngine201(layout, settings=_settings(behaviour))
        self.client = StationClient201(
            url,
            station_id,
            engine,
            identity=identity_for(behaviour, OcppVersion.V201, station_id),
            password=password,
            ssl_context=ssl_context,
            options=self._client_options(),
            on_reservation_accepted=(
                self._card_arrives_later if behaviour is Behaviour.CARD_ARRIVES else None
            ),
        )
        self.outcomes: list[ChargingOutcome201] = []
        self._apply_behaviour()

    def _apply_behaviour(self) -> None:
        # Before the first connection: the first boot reports these states.
        now = datetime.now(UTC)
        if self.behaviour is Behaviour.FAULTED:
            self.engine.set_fault(now, evse_id=1)
        elif self.behaviour is Behaviour.UNAVAILABLE:
            self.engine.change_availability(e.OperationalStatus.INOPERATIVE, now)

    # --- state --------------------------------------------------------------------------

    @property
    def engine(self) -> e.ReservationEngine201:
        return self.client.engine

    def transaction_id(self, evse_id: int) -> str | None:
        return self.client.transaction_id(evse_id)

    # --- behaviours ---------------------------------------------------------------------

    async def _occupy(self) -> None:
        await self.client.wait_booted()
        if self.client.transaction(1) is None:
            token = e.IdToken(OCCUPYING_ID_TAG, e.IdTokenType.LOCAL)
            self.outcomes.append(await self.client.present_id_token(token, 1, authorize=False))

    def _card_arrives_later(self, reservation: e.Reservation) -> None:
        self._spawn(self._card_arrives(reservation), f"card {reservation.id_token.id_token}")

    async def _card_arrives(self, reservation: e.Reservation) -> None:
        await asyncio.sleep(self.options.card_arrives_after)
        engine = self.engine
        if engine.reservation(reservation.reservation_id) != reservation:
            return  # cancelled, replaced or expired meanwhile
        token = reservation.id_token
        evse_id = reservation.evse_id or next(
            (
                candidate
                for candidate in engine.evse_ids
                if engine.cable(candidate) is None
                and engine.may_authorize(candidate, token).reservation_id
                == reservation.reservation_id
            ),
            1,
        )
        connector_id = next(
            (
                c
                for c in engine.connector_ids(evse_id)
                if reservation.connector_type in (None, engine.connector_type(evse_id, c))
            ),
            1,
        )
        logger.info(
            "station %s: the reserved card %s arrives at EVSE %s",
            self.station_id,
            token.id_token,
            evse_id,
        )
        self.outcomes.append(await self.client.present_id_token(token, evse_id, connector_id))

    # --- what a technician or driver does -----------------------------------------------

    async def present_id_token(
        self,
        id_token: str,
        evse_id: int = 1,
        connector_id: int = 1,
        token_type: e.IdTokenType = e.IdTokenType.ISO14443,
    ) -> ChargingOutcome201:
        """Hold a card to an EVSE's reader: Authorize, and the transaction if allowed."""
        token = e.IdToken(id_token, token_type)
        outcome = await self.client.present_id_token(token, evse_id, connector_id)
        self.outcomes.append(outcome)
        return outcome

    async def present_id_tag(self, id_tag: str, connector_id: int = 1) -> ChargingOutcome201:
        """As :meth:`present_id_token`, at EVSE ``connector_id`` (the console's mapping)."""
        return await self.present_id_token(id_tag, connector_id)

    async def plug_in(self, evse_id: int = 1, connector_id: int = 1) -> None:
        self.client.plug_in(evse_id, connector_id)

    async def unplug(self, evse_id: int = 1) -> None:
        self.client.unplug(evse_id)

    async def stop_transaction(self, evse_id: int = 1, reason: Reason = Reason.LOCAL) -> bool:
        """End the transaction on the EVSE and unplug; False if none ran."""
        return await self.client.stop_transaction(evse_id, reason)

    async def fault(self, evse_id: int = 1, connector_id: int | None = None) -> None:
        """The EVSE (or one connector of it; EVSE 0: the whole station) goes Faulted; the
        reservation on it ends with ReservationStatusUpdate Removed."""
        self.client.fault(evse_id or None, connector_id)

    async def clear_fault(self, evse_id: int = 1, connector_id: int | None = None) -> None:
        self.client.clear_fault(evse_id or None, connector_id)

    async def set_available(self, evse_id: int = 0, available: bool = True) -> None:
        """Take an EVSE (0: the station) in or out of service, as on site."""
        self.client.set_availability(available, evse_id or None)
