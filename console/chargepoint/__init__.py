"""The station side: reservation engines, OCPP-J client and a site simulator (no Qt).

The public contract (DESIGN.md) is importable from here: the reservation engines that
implement the station-side rules as plain code (:class:`ReservationEngine` for 1.6,
:class:`ReservationEngine201` for 2.0.1; time passed in), a client that speaks OCPP-J to
any Central System (:class:`StationClient` for 1.6, :class:`StationClient201` for 2.0.1),
and a simulator of N stations of either version (:class:`SiteSimulator`). Importing the
package imports the clients (and so websockets); the engines alone are in
:mod:`console.chargepoint.engine` and :mod:`console.chargepoint.engine201`.
"""

from console.chargepoint.client import ClientOptions, StationClient, StationIdentity
from console.chargepoint.client201 import StationClient201
from console.chargepoint.engine import ReservationEngine
from console.chargepoint.engine201 import ReservationEngine201
from console.chargepoint.simulator import (
    SimulatedStation,
    SimulatedStation201,
    SimulationOptions,
    SiteSimulator,
)

__all__ = [
    "ClientOptions",
    "ReservationEngine",
    "ReservationEngine201",
    "SimulatedStation",
    "SimulatedStation201",
    "SimulationOptions",
    "SiteSimulator",
    "StationClient",
    "StationClient201",
    "StationIdentity",
]
