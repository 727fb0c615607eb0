"""The station side: reservation engines, OCPP-J client and a site simulator (no Qt).

The public contract (DESIGN.md) is importable from here: the reservation engines that
implement the station-side rules as plain code (:class:`ReservationEngine` for 1.6,
:class:`ReservationEngine201` for 2.0.1; time passed in), a client that speaks OCPP-J to
any Central System (:class:`StationClient`), and a simulator of N stations
(:class:`SiteSimulator`). Importing the package imports the client
(and so websockets); the engines alone are in :mod:`console.chargepoint.engine` and
:mod:`console.chargepoint.engine201`.
"""

from console.chargepoint.client import ClientOptions, StationClient, StationIdentity
from console.chargepoint.engine import ReservationEngine
from console.chargepoint.engine201 import ReservationEngine201
from console.chargepoint.simulator import SimulatedStation, SimulationOptions, SiteSimulator

__all__ = [
    "ClientOptions",
    "ReservationEngine",
    "ReservationEngine201",
    "SimulatedStation",
    "SimulationOptions",
    "SiteSimulator",
    "StationClient",
    "StationIdentity",
]
