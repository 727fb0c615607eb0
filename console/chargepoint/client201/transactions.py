"""The transactions of a simulated 2.0.1 station, and the TransactionEvents telling them.

One :class:`Transaction201` per EVSE in use: its id (a UUID, as 2.0.1 stations make their
own), the token, the reservation it consumed (told once, in the ``Started`` event, H03),
the meter at its start and the event counter ``seqNo``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime

import console.chargepoint.engine201 as e
from console.chargepoint.client201.mapping import id_token_model
from console.ocpp.v201.enums import (
    ChargingState,
    Measurand,
    ReadingContext,
    Reason,
    TransactionEventType,
    TriggerReason,
)
from console.ocpp.v201.messages import Transaction, TransactionEventRequest
from console.ocpp.v201.types import EVSE, MeterValue, SampledValue, UnitOfMeasure

__all__ = ["SIMULATED_POWER_W", "Transaction201", "energy_sample", "stop_trigger"]

SIMULATED_POWER_W = 11000.0

_STOP_TRIGGERS = {
    Reason.LOCAL: TriggerReason.STOP_AUTHORIZED,
    Reason.REMOTE: TriggerReason.REMOTE_STOP,
    Reason.DE_AUTHORIZED: TriggerReason.DEAUTHORIZED,
    Reason.EV_DISCONNECTED: TriggerReason.EV_COMMUNICATION_LOST,
}


def stop_trigger(reason: Reason) -> TriggerReason:
    """The triggerReason of the Ended event for a stoppedReason."""
    return _STOP_TRIGGERS.get(reason, TriggerReason.ABNORMAL_CONDITION)


def energy_sample(wh: int, context: ReadingContext, now: datetime) -> MeterValue:
    """The energy register, as one meter value."""
    return MeterValue(
        timestamp=now,
        sampled_value=[
            SampledValue(
                value=wh,
                context=context,
                measurand=Measurand.ENERGY_ACTIVE_IMPORT_REGISTER,
                unit_of_measure=UnitOfMeasure(unit="Wh"),
            )
        ],
    )


@dataclass(slots=True, kw_only=True)
class Transaction201:
    """A transaction on one EVSE."""

    evse_id: int
    connector_id: int
    id_token: e.IdToken
    meter_start: int
    started_at: float  # the loop's clock, for the simulated meter
    reservation_id: int | None = None
    remote_start_id: int | None = None
    transaction_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    plugged: bool = False
    _seq_no: int = 0

    def meter(self, loop_time: float) -> int:
        """The energy register now, in Wh."""
        elapsed = max(loop_time - self.started_at, 0.0)
        return self.meter_start + int(elapsed * SIMULATED_POWER_W / 3600)

    def event(
        self,
        event_type: TransactionEventType,
        trigger: TriggerReason,
        now: datetime,
        *,
        wh: int | None = None,
        context: ReadingContext = ReadingContext.SAMPLE_PERIODIC,
        charging_state: ChargingState | None = None,
        stopped_reason: Reason | None = None,
    ) -> TransactionEventRequest:
        """The next TransactionEvent of this transaction (its seqNo counts up from 0).

        ``Started`` carries the token, the EVSE and connector, the remoteStartId and the
        reservation the token consumed; later events name only the transaction.
        """
        started = event_type is TransactionEventType.STARTED
        seq_no = self._seq_no
        self._seq_no += 1
        return TransactionEventRequest(
            event_type=event_type,
            timestamp=now,
            trigger_reason=trigger,
            seq_no=seq_no,
            meter_value=None if wh is None else [energy_sample(wh, context, now)],
            reservation_id=self.reservation_id if started else None,
            transaction_info=Transaction(
                transaction_id=self.transaction_id,
                charging_state=charging_state,
                stopped_reason=stopped_reason,
                remote_start_id=self.remote_start_id if started else None,
            ),
            evse=EVSE(id=self.evse_id, connector_id=self.connector_id) if started else None,
            id_token=(
                id_token_model(self.id_token)
                if started or event_type is TransactionEventType.ENDED
                else None
            ),
        )
