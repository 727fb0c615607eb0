"""The station side: reservation engine, OCPP-J client and a site simulator (no Qt).

The public contract (DESIGN.md) is importable from here: the reservation engine that
implements the station-side rules as plain code (:class:`ReservationEngine`, time passed
in), a client that speaks OCPP-J to any Central System (:class:`StationClient`), and a
simulator of N stations (:class:`SiteSimulator`). Importing the package imports the client
(and so websockets); the engine alone is in :mod:`console.chargepoint.engine`.
"""

from console.chargepoint.client import ClientOptions, StationClient, StationIdentity
from console.chargepoint.engine import ReservationEngine
from console.chargepoint.simulator import SimulatedStation, SimulationOptions, SiteSimulator

__all__ = [
    "ClientOptions",
    "ReservationEngine",
    "SimulatedStation",
    "SimulationOptions",
    "SiteSimulator",
    "StationClient",
    "StationIdentity",
]
