"""The CSMS's reservation calls on a proxied station, followed to their end.

The relay forwards the upstream's ReserveNow and CancelReservation unchanged; the console
still has to know what came of them (DESIGN.md: reservations the CSMS makes are shown as
made by the CSMS, with their answers and lifecycle). :class:`UpstreamCallWatch` pairs each
such call with the station's answer (in time or late), its timeout, or the end of the link,
and hands the request and a :class:`~console.link.CallOutcome` to the book.
"""

from __future__ import annotations

import json
import logging
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from pydantic import ValidationError

from console.central.proxy.relay import PeekedFrame
from console.link import CallOutcome
from console.ocpp.base import OcppModel
from console.ocpp.errors import describe_validation, error_code_for_validation
from console.ocpp.feature_table import Feature, FeatureTable
from console.ocpp.frames import MessageType

__all__ = ["WATCHED_ACTIONS", "UpstreamCallObserver", "UpstreamCallWatch"]

logger = logging.getLogger(__name__)

WATCHED_ACTIONS = frozenset({"ReserveNow", "CancelReservation"})
"""The CSMS's calls whose outcome the console keeps (the same names in 1.6 and 2.0.1)."""

_KEPT = 256
"""Calls kept for a late answer (a CSMS sends few reservation calls)."""

UpstreamCallObserver = Callable[[str, OcppModel, CallOutcome, datetime], None]
"""Called with the station id, the CSMS's request, how it ended, and when it was sent."""


@dataclass(slots=True)
class _Forwarded:
    feature: Feature
    request: OcppModel
    sent_at: datetime
    timed_out: bool = False


class UpstreamCallWatch:
    """The watched calls of one proxied station between forwarding and their answer."""

    def __init__(
        self, station_id: str, table: FeatureTable, observer: UpstreamCallObserver
    ) -> None:
        self._station_id = station_id
        self._table = table
        self._observer = observer
        self._calls: OrderedDict[str, _Forwarded] = OrderedDict()

    def forwarded(self, frame: PeekedFrame, now: datetime) -> OcppModel | None:
        """The CSMS's CALL was written to the station at ``now``; returns its request when
        it is watched (one the station may refuse as malformed is not: it reserves nothing)."""
        action, message_id = frame.action, frame.message_id
        if action not in WATCHED_ACTIONS or message_id is None:
            return None
        feature = self._table.features.get(action)
        if feature is None or not isinstance(frame.payload, dict):
            return None
        try:
            request = feature.request.from_payload(frame.payload)
        except ValidationError:
            return None
        self._calls[message_id] = _Forwarded(feature, request, now)
        while len(self._calls) > _KEPT:
            self._calls.popitem(last=False)
        return request

    def answered(self, text: str, frame: PeekedFrame, now: datetime) -> None:
        """The station's answer went upstream: if it answers a watched call, tell."""
        if frame.message_id is None or frame.message_type is MessageType.CALL:
            return
        call = self._calls.pop(frame.message_id, None)
        if call is None:
            return
        latency = (now - call.sent_at).total_seconds()
        self._tell(call, _answer_outcome(text, frame, call.feature, latency))

    def timed_out(self, message_id: str | None, timeout: float) -> None:
        """The station did not answer the CSMS's call in time (a late answer may come)."""
        call = None if message_id is None else self._calls.get(message_id)
        if call is None or call.timed_out:
            return
        call.timed_out = True
        outcome = CallOutcome(message_id, timed_out=True, error=f"no answer within {timeout:g} s")
        self._tell(call, outcome)

    def link_ended(self, reason: str) -> None:
        """The link ended: a call still waiting for its answer gets none."""
        calls, self._calls = self._calls, OrderedDict()
        for message_id, call in calls.items():
            if not call.timed_out:
                self._tell(call, CallOutcome(message_id, aborted=True, error=reason))

    def _tell(self, call: _Forwarded, outcome: CallOutcome) -> None:
        try:
            self._observer(self._station_id, call.request, outcome, call.sent_at)
        except Exception:
            logger.exception(
                "station %s: following the CSMS's %s failed", self._station_id, call.feature.action
            )


def _answer_outcome(text: str, frame: PeekedFrame, feature: Feature, latency: float) -> CallOutcome:
    message_id = frame.message_id
    if frame.message_type is MessageType.CALL_RESULT and isinstance(frame.payload, dict):
        try:
            answer = feature.confirmation.from_payload(frame.payload)
        except ValidationError as exc:
            return CallOutcome(
                message_id,
                error_code=error_code_for_validation(exc).value,
                error=f"invalid answer: {describe_validation(exc)}",
                latency=latency,
            )
        return CallOutcome(message_id, confirmation=answer, latency=latency)
    if frame.message_type is MessageType.CALL_ERROR:
        code = frame.payload if isinstance(frame.payload, str) else "GenericError"
        data = json.loads(text)  # peek_frame read it: it is a JSON list
        description = data[3] if len(data) > 3 and isinstance(data[3], str) else None
        return CallOutcome(message_id, error_code=code, error=description or None, latency=latency)
    return CallOutcome(message_id, error_code="FormationViolation", error="broken answer")
