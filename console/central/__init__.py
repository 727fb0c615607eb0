"""The embedded OCPP 1.6-J Central System (asyncio, websockets, SQLite; no Qt).

The public contract (DESIGN.md) is importable from here::

    from console.central import CentralSystem, CentralSystemConfig, ReservationRecord

Importing the package imports the server (and so websockets); the read models alone are
in :mod:`console.central.model`.
"""

from console.central.config import CentralSystemConfig
from console.central.model import (
    CancelAttempt,
    CancelOutcome,
    CentralSystemApi,
    ChangeEvent,
    ConnectorChanged,
    ConnectorSnapshot,
    ReservationChanged,
    ReservationRecord,
    ReservationState,
    ReserveRequest,
    StationChanged,
    StationSnapshot,
    TraceAppended,
    TraceDirection,
    TraceEntry,
)
from console.central.server import CentralSystem

__all__ = [
    "CancelAttempt",
    "CancelOutcome",
    "CentralSystem",
    "CentralSystemApi",
    "CentralSystemConfig",
    "ChangeEvent",
    "ConnectorChanged",
    "ConnectorSnapshot",
    "ReservationChanged",
    "ReservationRecord",
    "ReservationState",
    "ReserveRequest",
    "StationChanged",
    "StationSnapshot",
    "TraceAppended",
    "TraceDirection",
    "TraceEntry",
]
