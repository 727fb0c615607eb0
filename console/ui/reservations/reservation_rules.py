"""The protocol's rules of a ReserveNow as the form checks them while one types, per version.

Plain functions of what was typed and of the station's snapshot (no Qt), so the form, the
check dialog and the tests use one wording. 1.6: idTag 1..20 characters, connector 0 only
with ReserveConnectorZeroSupported. 2.0.1: idToken (and groupIdToken) up to 36 characters,
a reservation without an EVSE only where ReservationCtrlr.NonEvseSpecific is true.
"""

from __future__ import annotations

from dataclasses import dataclass

from console.central.model import ReservationRecord, ReservationState, StationSnapshot
from console.ocpp.versions import OcppVersion

__all__ = [
    "ID_TAG_MAX",
    "ID_TOKEN_MAX",
    "INT32_MAX",
    "INT32_MIN",
    "Wording",
    "any_target_reason",
    "id_tag_problem",
    "refusal_meaning_201",
    "reservation_id_problem",
    "reservations_off_note",
    "wording",
]

ID_TAG_MAX = 20
"""1.6 IdToken: CiString20Type."""
ID_TOKEN_MAX = 36
"""2.0.1 IdTokenType.idToken: string(36)."""
INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1


@dataclass(frozen=True, slots=True)
class Wording:
    """How a version names the form's fields."""

    target: str
    """ "Connector" (1.6) or "EVSE" (2.0.1)."""
    token: str
    group: str
    token_max: int
    any_target: str
    """The choice of no particular connector / EVSE."""


_WORDING = {
    OcppVersion.V16: Wording("Connector", "idTag", "Parent idTag", ID_TAG_MAX, "0 — any connector"),
    OcppVersion.V201: Wording("EVSE", "idToken", "Group idToken", ID_TOKEN_MAX, "any EVSE"),
}


def wording(station: StationSnapshot | None) -> Wording:
    """The field names for ``station``'s version (1.6 while no station is chosen)."""
    return _WORDING[station.ocpp_version if station is not None else OcppVersion.V16]


def id_tag_problem(
    text: str, *, name: str = "idTag", required: bool = True, limit: int = ID_TAG_MAX
) -> str | None:
    """What is wrong with an idTag / idToken as typed (spaces at the ends are removed), or
    None. ``limit``: 20 on 1.6, 36 on 2.0.1."""
    value = text.strip()
    if not value:
        return f"{name} is required" if required else None
    if len(value) > limit:
        return f"{name} has {len(value)} characters; at most {limit}"
    return None


def reservation_id_problem(raw: str) -> str | None:
    """What is wrong with a reservation id as typed (an int32 on both versions), or None."""
    text = raw.strip()
    if not text:
        return "Reservation id is required"
    try:
        value = int(text)
    except ValueError:
        return "Reservation id must be a whole number"
    if not INT32_MIN <= value <= INT32_MAX:
        return "Reservation id must fit a 32-bit integer"
    return None


def any_target_reason(station: StationSnapshot | None) -> str | None:
    """Why no particular connector (1.6 connector 0) or EVSE (2.0.1, no evseId) may be
    reserved on this station, or None when it may."""
    if station is None:
        return None
    allowed = station.any_connector_reservable
    if allowed is True:
        return None
    if station.ocpp_version is OcppVersion.V201:
        if allowed is False:
            return f"{station.station_id} needs an EVSE: ReservationCtrlr.NonEvseSpecific = false"
        return f"{station.station_id} has not said whether it takes a reservation without an EVSE"
    if allowed is False:
        return f"{station.station_id} refuses connector 0: ReserveConnectorZeroSupported = false"
    return f"{station.station_id} has not said whether it allows reserving connector 0"


def reservations_off_note(station: StationSnapshot | None) -> str | None:
    """2.0.1: the answer a ReservationCtrlr switched off makes certain (Rejected), or None."""
    if station is None or station.ocpp_version is not OcppVersion.V201:
        return None
    for name, value in (
        ("Enabled", station.reservations_enabled),
        ("Available", station.reservations_available),
    ):
        if value is False:
            return f"ReservationCtrlr.{name} = false: the station will answer Rejected"
    return None


def refusal_meaning_201(record: ReservationRecord) -> str | None:
    """What a refused 2.0.1 ReserveNow means, where it differs from 1.6's wording."""
    if record.ocpp_version is not OcppVersion.V201:
        return None
    if record.state is ReservationState.REJECTED:
        without = (
            " or takes none without an EVSE (ReservationCtrlr.NonEvseSpecific)"
            if record.connector_id == 0
            else ""
        )
        return (
            "The station does not take reservations now (ReservationCtrlr Enabled or "
            f"Available false){without}."
        )
    if record.state is ReservationState.OCCUPIED:
        return "The EVSE is in use, or already reserved for another idToken."
    return None
