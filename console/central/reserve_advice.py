"""What the console can tell a technician about a ReserveNow, before and after sending it.

Pure functions over the read models (no I/O, no clock): the answer a connector's reported
status makes certain (OCPP 1.6 ReserveNow: Faulted / Unavailable / Occupied when the station
or the connector is in that state), what a refused answer means, and which active
reservations a chosen reservation id would meet. The form shows them at its fields; the
wording is one place, so the form and any other view say the same.
"""

from __future__ import annotations

from collections.abc import Iterable

from console.central.model import ConnectorSnapshot, ReservationRecord, ReservationState
from console.ocpp.enums import ChargePointErrorCode, ChargePointStatus
from console.ocpp.v201.enums import ConnectorStatus
from console.ocpp.versions import OcppVersion

__all__ = ["expected_refusal", "id_collision", "refusal_meaning"]

# A connector in one of these is occupied: the station answers Occupied (1.6 ReserveNow).
_OCCUPIED = frozenset(
    {
        ChargePointStatus.PREPARING,
        ChargePointStatus.CHARGING,
        ChargePointStatus.SUSPENDED_EVSE,
        ChargePointStatus.SUSPENDED_EV,
        ChargePointStatus.FINISHING,
        ConnectorStatus.OCCUPIED,
    }
)


def expected_refusal(
    connector: ConnectorSnapshot | None,
    station: ConnectorSnapshot | None,
    reservation_id: int | None = None,
) -> str | None:
    """Why the station will refuse a ReserveNow for ``connector``, from its last status.

    ``station`` is connector 0's status (the station as a whole), ``reservation_id`` the id
    about to be sent: a connector Reserved under that very id is a replacement, not a
    refusal. None when nothing known stands in the way (the station may still refuse).
    The text names the status (and the error code of a fault) first, so it reads at a
    field: "Faulted (GroundFailure): the station will answer Faulted".
    """
    for snapshot, whole_station in ((station, True), (connector, False)):
        if snapshot is None or snapshot.status is None:
            continue
        # Short enough for three lines at the form's narrowest.
        subject, it = ("Station ", "it") if whole_station else ("", "the station")
        if snapshot.status is ChargePointStatus.FAULTED:
            return f"{subject}{_faulted(snapshot)}: {it} will answer Faulted"
        if snapshot.status is ChargePointStatus.UNAVAILABLE:
            return f"{subject}Unavailable: {it} will answer Unavailable"
    if connector is None or connector.status is None or connector.connector_id == 0:
        return None
    if connector.status in _OCCUPIED:
        return f"{connector.status.value}: the station will answer Occupied"
    held = connector.reservation_id
    if connector.status == ChargePointStatus.RESERVED and held != reservation_id:
        which = f" (reservation {held})" if held is not None else ""
        return f"Reserved{which}: the station will answer Occupied"
    return None


def refusal_meaning(
    record: ReservationRecord, connector: ConnectorSnapshot | None = None
) -> str | None:
    """What a refused ReserveNow means for the technician, or None for any other state.

    ``connector`` is what the console knows of the reserved connector (its error code
    names a fault).
    """
    state = record.state
    info = _status_info(record)
    if state is ReservationState.REJECTED and record.ocpp_version is OcppVersion.V201:
        if record.connector_id == 0:
            return (
                "The station takes no reservation without an EVSE "
                "(ReservationCtrlr.NonEvseSpecific), or reservations are disabled or "
                f"unavailable (ReservationCtrlr.Enabled, Available).{info}"
            )
        return (
            "Reservations are disabled or unavailable on the station "
            f"(ReservationCtrlr.Enabled, Available).{info}"
        )
    if state is ReservationState.REJECTED:
        if record.connector_id == 0:
            return (
                "The station does not take reservations of connector 0 "
                "(ReserveConnectorZeroSupported), or is configured not to accept reservations."
            )
        return "The station is configured not to accept reservations."
    if state is ReservationState.FAULTED:
        if connector is not None and connector.status == ChargePointStatus.FAULTED:
            where = f"Connector {connector.connector_id}" if connector.connector_id else "It"
            return f"{where} is {_faulted(connector)}: no reservation until it is repaired."
        return "The station or the connector is Faulted: no reservation until it is repaired."
    if state is ReservationState.UNAVAILABLE:
        return "The station or the connector is Unavailable (out of service, set inoperative)."
    if state is ReservationState.OCCUPIED:
        return "The connector is in use, or already reserved for an idTag."
    return None


def id_collision(
    reservation_id: int, station_id: str | None, active: Iterable[ReservationRecord]
) -> str | None:
    """A warning when ``reservation_id`` is held by an active reservation, or None.

    On the chosen station sending replaces that reservation (a deliberate OCPP action, so
    it is said plainly); on another station the same id would exist twice.
    """
    here: ReservationRecord | None = None
    elsewhere: list[str] = []
    for record in active:
        if record.reservation_id != reservation_id or not record.active:
            continue
        if record.station_id == station_id:
            here = record
        else:
            elsewhere.append(f"{record.station_id} ({_where(record)})")
    parts: list[str] = []
    if here is not None:
        parts.append(f"Replaces reservation {reservation_id} on this station ({_where(here)})")
    if elsewhere:
        on = ", ".join(sorted(elsewhere))
        parts.append(f"also active on {on}" if parts else f"Id {reservation_id} is active on {on}")
    return "; ".join(parts) or None


def _faulted(snapshot: ConnectorSnapshot) -> str:
    code = snapshot.error_code
    if code is None or code is ChargePointErrorCode.NO_ERROR:
        return "Faulted"
    return f"Faulted ({code.value})"


def _status_info(record: ReservationRecord) -> str:
    """The station's own reason (2.0.1 statusInfo), as a sentence to append."""
    if record.status_reason is None:
        return ""
    detail = f": {record.status_detail}" if record.status_detail else ""
    return f" The station says {record.status_reason}{detail}."


def _where(record: ReservationRecord) -> str:
    return f"connector {record.connector_id}" if record.connector_id else "any connector"
