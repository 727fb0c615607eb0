"""The plan of a reservation check: which steps run, in which order, on which connectors.

Also what the plan needs to know of the station before each connector's steps: whether the
connectors asked for are Available (a connector that is not is skipped, with the reason),
and the idTag the steps use for "another card".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from console.central.check.capabilities import Capabilities
from console.central.check.model import CheckOptions, CheckRequest, CheckStep
from console.ocpp.enums import ChargePointStatus
from console.ocpp.v201.enums import ConnectorType
from console.ocpp.versions import OcppVersion

if TYPE_CHECKING:
    from console.central.server import CentralSystem

__all__ = [
    "AVAILABILITY_STEPS",
    "FIRST_CONNECTOR_STEPS",
    "MAX_ID_TAG",
    "PER_CONNECTOR_STEPS",
    "ConnectorFindings",
    "available_now",
    "checked_request",
    "connector_type_choice",
    "derive_other_id_tag",
    "plan_steps",
]

FIRST_CONNECTOR_STEPS = (
    CheckStep.RESERVE,
    CheckStep.SECOND_RESERVATION,
    CheckStep.REPLACE,
    CheckStep.CANCEL_UNKNOWN,
    CheckStep.CANCEL_HELD,
)
"""Steps 1-5, run on each connector asked for, one connector after the other."""

PER_CONNECTOR_STEPS = (*FIRST_CONNECTOR_STEPS, CheckStep.EXPIRY)
"""Every step planned once per connector (skipped together when it is not Available)."""

AVAILABILITY_STEPS = (
    CheckStep.INOPERATIVE,
    CheckStep.RESERVE_INOPERATIVE,
    CheckStep.REMOTE_START_OTHER,
    CheckStep.REPLACE_OCCUPIED,
)
"""1.6 steps 11-14, on the first connector asked for (after the expiries, before the
guided step)."""

MAX_ID_TAG = 20
_OTHER_SUFFIX = "-OTHER"


def derive_other_id_tag(id_tag: str) -> str:
    """An idTag that differs from ``id_tag`` case-insensitively, at most 20 characters."""
    other = id_tag[: MAX_ID_TAG - len(_OTHER_SUFFIX)] + _OTHER_SUFFIX
    if other.casefold() == id_tag.casefold():
        other = "CHECK" + _OTHER_SUFFIX
    return other


def plan_steps(request: CheckRequest, version: OcppVersion) -> list[tuple[CheckStep, int | None]]:
    """The steps of a run with the connector each runs on, in the order they run (the
    order of their numbers for one connector)."""
    plan: list[tuple[CheckStep, int | None]] = [(CheckStep.CAPABILITIES, None)]
    plan.extend(
        (step, connector) for connector in request.connectors for step in FIRST_CONNECTOR_STEPS
    )
    plan.append((CheckStep.CONNECTOR_ZERO, None))
    if version is OcppVersion.V201:
        plan.append((CheckStep.CONNECTOR_TYPE, None))
    plan.extend((CheckStep.EXPIRY, connector) for connector in request.connectors)
    if version is OcppVersion.V16:
        plan.extend((step, request.connectors[0]) for step in AVAILABILITY_STEPS)
    if request.guided:
        plan.append((CheckStep.CARDS, request.connectors[0]))
    plan.append((CheckStep.SCHEMAS, None))
    return plan


def available_now(
    system: CentralSystem, station_id: str, wanted: Sequence[int], version: OcppVersion
) -> dict[int, str | None]:
    """What blocks each connector of ``wanted`` (None: Available). 2.0.1: ``wanted`` are
    EVSEs, and an EVSE is Available when every connector of it is."""
    connectors = system.connectors(station_id)
    found: dict[int, str | None] = {}
    for number in wanted:
        if version is OcppVersion.V201:
            mine = [c.status for c in connectors if c.evse_id == number]
            if mine and all(s == ChargePointStatus.AVAILABLE for s in mine):
                found[number] = None
            else:
                shown = ", ".join(str(s) for s in mine) or "of unknown status"
                found[number] = f"EVSE {number} is {shown}, not Available"
            continue
        status = next((c.status for c in connectors if c.connector_id == number), None)
        if status is ChargePointStatus.AVAILABLE:
            found[number] = None
        else:
            shown = "of unknown status" if status is None else status.value
            found[number] = f"connector {number} is {shown}, not Available"
    return found


@dataclass(frozen=True, slots=True)
class ConnectorFindings:
    """What steps 1-5 on the connectors found that steps 6 and 7 need."""

    rejected: frozenset[int] = frozenset()
    """Connectors whose step 1 reservation the station Rejected."""
    accepts_unknown_cancel: bool = False
    """Step 4 on some connector: the station accepts cancelling an id it never got."""
    accepts_second: bool = False
    """Step 2 on some connector: the station accepts a second reservation on a reserved
    connector (step 14 then says nothing more)."""


def checked_request(request: CheckRequest, options: CheckOptions) -> tuple[CheckRequest, str]:
    """``request`` with each connector once, and the other idTag of steps 2 and 3; raises
    ValueError on a request the check cannot run."""
    if not request.connectors:
        raise ValueError("the check needs at least one connector")
    if any(c < 1 for c in request.connectors):
        raise ValueError("connectors are numbered from 1 (connector 0 is step 6's)")
    if not 1 <= len(request.id_tag) <= MAX_ID_TAG:
        raise ValueError("the idTag must have 1 to 20 characters")
    other = options.other_id_tag or derive_other_id_tag(request.id_tag)
    if other.casefold() == request.id_tag.casefold() or len(other) > MAX_ID_TAG:
        raise ValueError("the other idTag must differ from the idTag and have <= 20 chars")
    # A connector asked for twice is checked once.
    return replace(request, connectors=tuple(dict.fromkeys(request.connectors))), other


def connector_type_choice(
    capabilities: Capabilities, available: list[int]
) -> tuple[int, ConnectorType] | None:
    """Step 10 (2.0.1): the first EVSE checked with a connector type from the enum, and
    that type (None: no EVSE checked reported one)."""
    for evse in available:
        for value in capabilities.connector_types.get(evse, ()):
            try:
                return evse, ConnectorType(value)
            except ValueError:
                continue
    return None
