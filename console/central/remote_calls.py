"""The Central System's remote calls beyond reservations: availability, remote start and stop.

The same three calls for both versions, as the reservation calls are (``connector_id`` is
the 2.0.1 evseId; 0 is the whole station):

=====================  ================================  ===================================
call                   OCPP 1.6                          OCPP 2.0.1
=====================  ================================  ===================================
change_availability    ChangeAvailability(connectorId)   ChangeAvailability(evse)
remote_start           RemoteStartTransaction            RequestStartTransaction
remote_stop            RemoteStopTransaction             RequestStopTransaction
=====================  ================================  ===================================

Each returns a :class:`RemoteOutcome`: the status the station answered, as on the wire, or
why none came (not connected, CALLERROR, timeout, connection lost). Nothing here keeps a
record: what the station then does (StatusNotification, StartTransaction) reaches the
registry and the book as any other message does.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable
from dataclasses import dataclass

from console.central.model import DEFAULT_ID_TOKEN_TYPE
from console.central.station import StationConnection
from console.link.connection import CallOutcome
from console.ocpp import messages as m
from console.ocpp.base import OcppModel
from console.ocpp.enums import AvailabilityType
from console.ocpp.v201 import messages as m201
from console.ocpp.v201.enums import OperationalStatus
from console.ocpp.v201.types import EVSE, IdToken
from console.ocpp.versions import OcppVersion

__all__ = ["RemoteCalls", "RemoteOutcome", "call_error"]

logger = logging.getLogger(__name__)

ACCEPTED = "Accepted"


@dataclass(frozen=True, slots=True)
class RemoteOutcome:
    """What a station answered to one remote call, or why it did not."""

    action: str
    """The OCPP action sent (or that would have been sent)."""
    status: str | None = None
    """The station's status, spelled as on the wire (``Accepted``, ``Rejected``,
    ``Scheduled``); None when no answer came."""
    error: str | None = None
    """The CALLERROR code and text, the timeout, or why nothing was sent."""
    error_code: str | None = None
    """The CALLERROR's code (``NotImplemented``...), when the station answered one."""
    reason: str | None = None
    """2.0.1: the answer's ``statusInfo.reasonCode``."""
    transaction_id: str | None = None
    """2.0.1 RequestStartTransaction: the transaction already running there, if any."""

    @property
    def accepted(self) -> bool:
        return self.status == ACCEPTED

    @property
    def not_implemented(self) -> bool:
        """The station said it does not take this call (NotImplemented, NotSupported)."""
        return self.error_code in ("NotImplemented", "NotSupported")

    @property
    def text(self) -> str:
        """The answer for a reason line (``Accepted``, ``no answer within 10 s``...)."""
        if self.status is None:
            return self.error or "no answer"
        return self.status if self.reason is None else f"{self.status} ({self.reason})"


def call_error(outcome: CallOutcome) -> str:
    """Why a call got no valid answer: the CALLERROR, the timeout, or the lost connection."""
    if outcome.error_code is not None:
        detail = f": {outcome.error}" if outcome.error else ""
        return f"{outcome.error_code}{detail}"
    if outcome.timed_out:
        return outcome.error or "no answer"
    return f"connection lost: {outcome.error}"


class RemoteCalls:
    """The remote calls to the stations ``connection_of`` finds (the live connections)."""

    def __init__(self, connection_of: Callable[[str], StationConnection | None]) -> None:
        self._connection_of = connection_of
        # 2.0.1 RequestStartTransaction needs a remoteStartId; unique per run is enough
        # (the station echoes it in its TransactionEvent).
        self._remote_start_ids = itertools.count(1)

    async def change_availability(
        self, station_id: str, connector_id: int, operative: bool
    ) -> RemoteOutcome:
        """Make a connector (2.0.1: an EVSE; 0: the station) Operative or Inoperative."""
        if connector_id < 0:
            raise ValueError("connectorId (evseId) must be >= 0")
        connection, why = self._connection(station_id)
        if connection is None:
            return RemoteOutcome("ChangeAvailability", error=why)
        request: OcppModel
        if connection.version is OcppVersion.V201:
            request = m201.ChangeAvailabilityRequest(
                evse=EVSE(id=connector_id) if connector_id else None,
                operational_status=(
                    OperationalStatus.OPERATIVE if operative else OperationalStatus.INOPERATIVE
                ),
            )
        else:
            request = m.ChangeAvailabilityRequest(
                connector_id=connector_id,
                type=AvailabilityType.OPERATIVE if operative else AvailabilityType.INOPERATIVE,
            )
        return await self._call(connection, request)

    async def remote_start(self, station_id: str, connector_id: int, id_tag: str) -> RemoteOutcome:
        """Ask the station to start a transaction for ``id_tag`` on a connector (2.0.1: an
        EVSE; 0: the station chooses)."""
        if connector_id < 0:
            raise ValueError("connectorId (evseId) must be >= 0")
        connection, why = self._connection(station_id)
        if connection is None:
            action = "RemoteStartTransaction"
            if self._version_of(station_id) is OcppVersion.V201:
                action = "RequestStartTransaction"
            return RemoteOutcome(action, error=why)
        request: OcppModel
        if connection.version is OcppVersion.V201:
            request = m201.RequestStartTransactionRequest(
                evse_id=connector_id or None,
                id_token=IdToken(id_token=id_tag, type=DEFAULT_ID_TOKEN_TYPE),
                remote_start_id=next(self._remote_start_ids),
            )
        else:
            request = m.RemoteStartTransactionRequest(
                id_tag=id_tag, connector_id=connector_id or None
            )
        return await self._call(connection, request)

    async def remote_stop(self, station_id: str, transaction_id: int | str) -> RemoteOutcome:
        """Ask the station to stop a transaction (1.6: the integer the console gave it;
        2.0.1: the station's text)."""
        connection, why = self._connection(station_id)
        if connection is None:
            return RemoteOutcome("RemoteStopTransaction", error=why)
        request: OcppModel
        if connection.version is OcppVersion.V201:
            request = m201.RequestStopTransactionRequest(transaction_id=str(transaction_id))
        else:
            request = m.RemoteStopTransactionRequest(transaction_id=int(transaction_id))
        return await self._call(connection, request)

    # --- plumbing -------------------------------------------------------------------------

    def _connection(self, station_id: str) -> tuple[StationConnection | None, str]:
        connection = self._connection_of(station_id)
        if connection is None or connection.closed:
            return None, f"station {station_id} is not connected"
        return connection, ""

    def _version_of(self, station_id: str) -> OcppVersion | None:
        connection = self._connection_of(station_id)
        return None if connection is None else connection.version

    async def _call(self, connection: StationConnection, request: OcppModel) -> RemoteOutcome:
        action = request.feature_name
        outcome = await connection.call(request)
        answer = outcome.confirmation
        if answer is None:
            error = call_error(outcome)
            logger.warning("station %s: %s failed: %s", connection.station_id, action, error)
            return RemoteOutcome(action, error=error, error_code=outcome.error_code)
        status = getattr(answer, "status", None)
        info = getattr(answer, "status_info", None)
        transaction = getattr(answer, "transaction_id", None)
        logger.info("station %s: %s answered %s", connection.station_id, action, status)
        return RemoteOutcome(
            action,
            status=None if status is None else str(status),
            reason=None if info is None else str(info.reason_code),
            transaction_id=None if transaction is None else str(transaction),
        )
