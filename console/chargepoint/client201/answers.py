"""How a simulated 2.0.1 station answers the CSMS's calls.

:class:`CallAnswers201` turns each call into its answer and what to do once the answer is
sent (the statuses a reservation changed, the NotifyReport of GetBaseReport, the
transaction a RequestStartTransaction starts). ReserveNow and CancelReservation are the
engine's (H01, H02); the device model's calls are the station's
:class:`~console.chargepoint.client201.device_model.StationVariables`'.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import console.chargepoint.engine201 as e
from console.chargepoint.base_client import Answer
from console.chargepoint.client201.mapping import (
    availability_status,
    cancel_status,
    id_token,
    operational_status,
    reservation_request,
    reserve_now_status,
    status_info,
)
from console.chargepoint.client201.station import Station201
from console.ocpp.base import OcppModel
from console.ocpp.v201.device_model import (
    GetBaseReportRequest,
    GetBaseReportResponse,
    GetVariablesRequest,
    GetVariablesResponse,
    NotifyReportRequest,
    ReportData,
    SetVariablesRequest,
    SetVariablesResponse,
)
from console.ocpp.v201.enums import (
    BootReason,
    DataTransferStatus,
    GenericDeviceModelStatus,
    MessageTrigger,
    ReadingContext,
    Reason,
    RequestStartStopStatus,
    TransactionEventType,
    TriggerMessageStatus,
    TriggerReason,
)
from console.ocpp.v201.messages import (
    ChangeAvailabilityRequest,
    ChangeAvailabilityResponse,
    DataTransferResponse,
    HeartbeatRequest,
    RequestStartTransactionRequest,
    RequestStartTransactionResponse,
    RequestStopTransactionRequest,
    RequestStopTransactionResponse,
    TriggerMessageRequest,
    TriggerMessageResponse,
)
from console.ocpp.v201.reservation import (
    CancelReservationRequest,
    CancelReservationResponse,
    ReserveNowRequest,
    ReserveNowResponse,
)
from console.ocpp.v201.types import StatusInfo

__all__ = ["REPORT_ITEMS_PER_MESSAGE", "CallAnswers201"]

logger = logging.getLogger(__name__)

REPORT_ITEMS_PER_MESSAGE = 20


class CallAnswers201:
    """The answers of one 2.0.1 station to the CSMS's calls."""

    def __init__(self, client: Station201) -> None:
        self.client = client
        self._handlers: dict[type[OcppModel], Callable[[OcppModel], Answer]] = {
            ReserveNowRequest: self._reserve_now,
            CancelReservationRequest: self._cancel_reservation,
            GetVariablesRequest: self._get_variables,
            SetVariablesRequest: self._set_variables,
            GetBaseReportRequest: self._get_base_report,
            ChangeAvailabilityRequest: self._change_availability,
            TriggerMessageRequest: self._trigger_message,
            RequestStartTransactionRequest: self._request_start,
            RequestStopTransactionRequest: self._request_stop,
        }

    @property
    def _sid(self) -> str:
        return self.client.station_id

    def dispatch(self, request: OcppModel) -> Answer:
        handler = self._handlers.get(type(request))
        if handler is None:
            # DataTransfer is the only other call a station takes: no vendor extensions here.
            return DataTransferResponse(status=DataTransferStatus.UNKNOWN_VENDOR_ID), None
        return handler(request)

    # --- H01 / H02 ----------------------------------------------------------------------

    def _reserve_now(self, request: OcppModel) -> Answer:
        assert isinstance(request, ReserveNowRequest)
        client = self.client
        result = client.engine.reserve_now(reservation_request(request), client.now())
        logger.info(
            "station %s: ReserveNow %s (EVSE %s, %s) -> %s",
            self._sid,
            request.id,
            request.evse_id,
            request.id_token.id_token,
            result.status.value,
        )
        client.wake_expiry()

        def after() -> None:
            client.apply(result)
            reservation = client.engine.reservation(request.id)
            if (
                result.status is e.ReserveNowStatus.ACCEPTED
                and reservation is not None
                and client.on_reservation_accepted is not None
            ):
                client.on_reservation_accepted(reservation)

        answer = ReserveNowResponse(
            status=reserve_now_status(result.status),
            status_info=status_info(result.status_info),
        )
        return answer, after

    def _cancel_reservation(self, request: OcppModel) -> Answer:
        assert isinstance(request, CancelReservationRequest)
        client = self.client
        result = client.engine.cancel_reservation(request.reservation_id, client.now())
        logger.info(
            "station %s: CancelReservation %s -> %s",
            self._sid,
            request.reservation_id,
            result.status.value,
        )
        answer = CancelReservationResponse(
            status=cancel_status(result.status),
            status_info=status_info(result.status_info),
        )
        return answer, lambda: client.apply(result)

    # --- device model -------------------------------------------------------------------

    def _get_variables(self, request: OcppModel) -> Answer:
        assert isinstance(request, GetVariablesRequest)
        variables = self.client.variables
        results = [variables.get(item) for item in request.get_variable_data]
        return GetVariablesResponse(get_variable_result=results), None

    def _set_variables(self, request: OcppModel) -> Answer:
        assert isinstance(request, SetVariablesRequest)
        variables = self.client.variables
        results = [variables.set(item) for item in request.set_variable_data]
        for item, result in zip(request.set_variable_data, results, strict=True):
            logger.info(
                "station %s: SetVariables %s.%s = %s -> %s",
                self._sid,
                item.component.name,
                item.variable.name,
                item.attribute_value,
                result.attribute_status.value,
            )
        return SetVariablesResponse(set_variable_result=results), None

    def _get_base_report(self, request: OcppModel) -> Answer:
        assert isinstance(request, GetBaseReportRequest)
        data = self.client.variables.report(request.report_base)
        if not data:
            return GetBaseReportResponse(status=GenericDeviceModelStatus.EMPTY_RESULT_SET), None
        request_id = request.request_id
        return (
            GetBaseReportResponse(status=GenericDeviceModelStatus.ACCEPTED),
            lambda: self._send_report(request_id, data),
        )

    def _send_report(self, request_id: int, data: list[ReportData]) -> None:
        """NotifyReport in parts (seqNo from 0; tbc on every part but the last)."""
        client = self.client
        parts = [
            data[start : start + REPORT_ITEMS_PER_MESSAGE]
            for start in range(0, len(data), REPORT_ITEMS_PER_MESSAGE)
        ]
        generated_at = client.now()
        for seq_no, part in enumerate(parts):
            client.send_nowait(
                NotifyReportRequest(
                    request_id=request_id,
                    generated_at=generated_at,
                    report_data=part,
                    tbc=seq_no < len(parts) - 1,
                    seq_no=seq_no,
                )
            )

    # --- availability and triggers ------------------------------------------------------

    def _change_availability(self, request: OcppModel) -> Answer:
        assert isinstance(request, ChangeAvailabilityRequest)
        client = self.client
        evse = request.evse
        evse_id = None if evse is None or evse.id == 0 else evse.id
        connector_id = None if evse is None or evse_id is None else evse.connector_id
        result = client.engine.change_availability(
            operational_status(request.operational_status),
            client.now(),
            evse_id=evse_id,
            connector_id=connector_id,
        )
        answer = ChangeAvailabilityResponse(
            status=availability_status(result.status),
            status_info=status_info(result.status_info),
        )
        return answer, lambda: client.apply(result)

    def _trigger_message(self, request: OcppModel) -> Answer:
        assert isinstance(request, TriggerMessageRequest)
        client = self.client
        engine = client.engine
        evse = request.evse
        evse_id = None if evse is None else evse.id
        if evse_id is not None and evse_id not in engine.evse_ids:
            return _trigger(TriggerMessageStatus.REJECTED, "UnknownEvse"), None
        evse_ids = engine.evse_ids if evse_id is None else (evse_id,)
        wanted = request.requested_message
        after: Callable[[], None]
        if wanted is MessageTrigger.BOOT_NOTIFICATION:
            # F06.FR.17: a station whose boot was accepted does not boot again on request.
            if client.booted:
                return _trigger(TriggerMessageStatus.REJECTED, "AlreadyAccepted"), None
            boot = client.boot_request(BootReason.TRIGGERED)
            after = lambda: client.send_nowait(boot)  # noqa: E731
        elif wanted is MessageTrigger.HEARTBEAT:
            after = lambda: client.send_nowait(HeartbeatRequest())  # noqa: E731
        elif wanted is MessageTrigger.STATUS_NOTIFICATION:
            connector_id = None if evse is None else evse.connector_id
            chosen = tuple(
                s
                for s in engine.all_statuses()
                if s.evse_id in evse_ids and connector_id in (None, s.connector_id)
            )
            if not chosen:
                return _trigger(TriggerMessageStatus.REJECTED, "UnknownConnector"), None
            after = lambda: client.report_statuses(chosen)  # noqa: E731
        elif wanted is MessageTrigger.METER_VALUES:

            def after() -> None:
                for chosen_evse in evse_ids:
                    client.send_meter_values(chosen_evse, ReadingContext.TRIGGER)

        elif wanted is MessageTrigger.TRANSACTION_EVENT:
            transactions = [t for t in client.transactions if t.evse_id in evse_ids]
            if not transactions:
                return _trigger(TriggerMessageStatus.REJECTED, "NoTransaction"), None

            def after() -> None:
                for transaction in transactions:
                    client.send_nowait(
                        transaction.event(
                            TransactionEventType.UPDATED,
                            TriggerReason.TRIGGER,
                            client.now(),
                            wh=client.meter_wh(transaction.evse_id),
                            context=ReadingContext.TRIGGER,
                        )
                    )

        else:
            return _trigger(TriggerMessageStatus.NOT_IMPLEMENTED), None
        return _trigger(TriggerMessageStatus.ACCEPTED), after

    # --- remote start and stop ----------------------------------------------------------

    def _request_start(self, request: OcppModel) -> Answer:
        assert isinstance(request, RequestStartTransactionRequest)
        client = self.client
        engine = client.engine
        token = id_token(request.id_token)
        group = None if request.group_id_token is None else request.group_id_token.id_token
        candidates = engine.evse_ids if request.evse_id is None else (request.evse_id,)
        chosen = next(
            (
                evse_id
                for evse_id in candidates
                if evse_id in engine.evse_ids
                and client.transaction(evse_id) is None
                and engine.may_authorize(evse_id, token, group).allowed
            ),
            None,
        )
        if chosen is None:
            refused = RequestStartTransactionResponse(
                status=RequestStartStopStatus.REJECTED,
                status_info=StatusInfo(
                    reason_code="NoEvseAvailable",
                    additional_info="no EVSE may start a transaction for this idToken",
                ),
            )
            return refused, None
        result = engine.authorize(chosen, token, client.now(), group)
        logger.info(
            "station %s: RequestStartTransaction %s for %s on EVSE %s",
            self._sid,
            request.remote_start_id,
            token.id_token,
            chosen,
        )
        remote_start_id = request.remote_start_id

        def after() -> None:
            client.apply(result)
            client.spawn(
                client.start_transaction(
                    chosen,
                    1,
                    token,
                    result.reservation_id,
                    TriggerReason.REMOTE_START,
                    remote_start_id,
                ),
                "remote start",
            )

        return RequestStartTransactionResponse(status=RequestStartStopStatus.ACCEPTED), after

    def _request_stop(self, request: OcppModel) -> Answer:
        assert isinstance(request, RequestStopTransactionRequest)
        client = self.client
        chosen = next(
            (t.evse_id for t in client.transactions if t.transaction_id == request.transaction_id),
            None,
        )
        if chosen is None:
            return RequestStopTransactionResponse(status=RequestStartStopStatus.REJECTED), None
        return (
            RequestStopTransactionResponse(status=RequestStartStopStatus.ACCEPTED),
            lambda: client.spawn(client.stop_transaction(chosen, Reason.REMOTE), "remote stop"),
        )


def _trigger(status: TriggerMessageStatus, reason: str | None = None) -> TriggerMessageResponse:
    info = None if reason is None else StatusInfo(reason_code=reason)
    return TriggerMessageResponse(status=status, status_info=info)
