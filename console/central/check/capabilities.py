"""The capability probe (step 0): what the station says it can take, before any rule is judged.

Like the conformance statement (PICS) a test lab starts from: 1.6 reads
``SupportedFeatureProfiles``, ``ReserveConnectorZeroSupported`` and ``NumberOfConnectors``
(GetConfiguration, Core); 2.0.1 reads ``ReservationCtrlr`` ``Enabled``, ``Available`` and
``NonEvseSpecific`` and the EVSEs and connector types the station reported (the Central
System asked for them when it booted: the registry holds them). A step the station cannot
take is then N/A with the reason (:meth:`Capabilities.not_applicable`), never skipped
silently and never failed for it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from console.central.check.context import StepContext, StepVerdict
from console.central.check.model import CheckStep, Verdict
from console.ocpp.versions import OcppVersion

__all__ = [
    "NUMBER_OF_CONNECTORS",
    "RESERVATION_STEPS",
    "SUPPORTED_FEATURE_PROFILES",
    "Capabilities",
    "CapabilitiesVerdict",
    "probe",
]

SUPPORTED_FEATURE_PROFILES = "SupportedFeatureProfiles"
RESERVE_CONNECTOR_ZERO_SUPPORTED = "ReserveConnectorZeroSupported"
NUMBER_OF_CONNECTORS = "NumberOfConnectors"
_RESERVATION_PROFILE = "Reservation"

RESERVATION_STEPS = frozenset(CheckStep) - {CheckStep.CAPABILITIES, CheckStep.SCHEMAS}
"""The steps that make reservations (N/A on a station that takes none)."""


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What the station said it can take (None: it did not say; then the step runs)."""

    version: OcppVersion
    profiles: str | None = None
    """1.6: ``SupportedFeatureProfiles`` as the station wrote it."""
    connector_zero: bool | None = None
    """1.6: ``ReserveConnectorZeroSupported``."""
    number_of_connectors: int | None = None
    """1.6: ``NumberOfConnectors``."""
    enabled: bool | None = None
    """2.0.1: ``ReservationCtrlr.Enabled``."""
    available: bool | None = None
    """2.0.1: ``ReservationCtrlr.Available``."""
    non_evse_specific: bool | None = None
    """2.0.1: ``ReservationCtrlr.NonEvseSpecific``."""
    connector_types: dict[int, tuple[str, ...]] = field(default_factory=dict)
    """2.0.1: per EVSE, the connector types its connectors reported."""

    @property
    def reservation_profile(self) -> bool | None:
        """1.6: ``SupportedFeatureProfiles`` lists Reservation (None: not reported)."""
        if self.profiles is None:
            return None
        listed = {p.strip().casefold() for p in self.profiles.split(",")}
        return _RESERVATION_PROFILE.casefold() in listed

    def not_applicable(self, step: CheckStep) -> str | None:
        """Why the station cannot take ``step`` (None: it can, or did not say)."""
        if step in RESERVATION_STEPS:
            if self.version is OcppVersion.V16 and self.reservation_profile is False:
                return (
                    f"{SUPPORTED_FEATURE_PROFILES}={self.profiles} does not list "
                    f"{_RESERVATION_PROFILE}: the station takes no reservations"
                )
            if self.version is OcppVersion.V201 and self.enabled is False:
                return "ReservationCtrlr.Enabled is false: the station takes no reservations"
            if self.version is OcppVersion.V201 and self.available is False:
                return "ReservationCtrlr.Available is false: the station takes no reservations"
        if step is CheckStep.CONNECTOR_TYPE and not any(self.connector_types.values()):
            return "the station reported no connector type (NotifyReport) to reserve by"
        return None

    def summary(self) -> str:
        """What the probe found, for the step's reason line."""
        if self.version is OcppVersion.V16:
            return "; ".join(
                (
                    _said(SUPPORTED_FEATURE_PROFILES, self.profiles),
                    _said(RESERVE_CONNECTOR_ZERO_SUPPORTED, _bool(self.connector_zero)),
                    _said(NUMBER_OF_CONNECTORS, self.number_of_connectors),
                )
            )
        evses = "; ".join(
            f"EVSE {evse}: {', '.join(types) if types else 'no connector type'}"
            for evse, types in sorted(self.connector_types.items())
        )
        return "; ".join(
            (
                _said("ReservationCtrlr.Enabled", _bool(self.enabled)),
                _said("Available", _bool(self.available)),
                _said("NonEvseSpecific", _bool(self.non_evse_specific)),
                evses or "no EVSE reported",
            )
        )


def _bool(value: bool | None) -> str | None:
    return None if value is None else str(value).lower()


def _said(name: str, value: object) -> str:
    return f"{name} not reported" if value is None else f"{name}={value}"


@dataclass(frozen=True, slots=True)
class CapabilitiesVerdict(StepVerdict):
    """Step 0's verdict, with what the station said it can take."""

    found: Capabilities | None = None


def _true(value: str | None) -> bool | None:
    return None if value is None else value.strip().casefold() == "true"


async def probe(ctx: StepContext) -> CapabilitiesVerdict:
    """Step 0, ``CheckStep.CAPABILITIES``: read what the station can take."""
    station = ctx.system.station(ctx.station_id)
    if station is not None and station.ocpp_version is OcppVersion.V201:
        types: dict[int, list[str]] = {}
        for connector in ctx.system.connectors(ctx.station_id):
            if connector.evse_id is None:
                continue
            listed = types.setdefault(connector.evse_id, [])
            if connector.connector_type is not None:
                listed.append(str(connector.connector_type))
        found = Capabilities(
            OcppVersion.V201,
            enabled=station.reservations_enabled,
            available=station.reservations_available,
            non_evse_specific=station.non_evse_specific,
            connector_types={evse: tuple(t) for evse, t in types.items()},
        )
        return CapabilitiesVerdict(Verdict.PASSED, found.summary(), found=found)
    keys = [SUPPORTED_FEATURE_PROFILES, RESERVE_CONNECTOR_ZERO_SUPPORTED, NUMBER_OF_CONNECTORS]
    config = await ctx.calls.bounded(ctx.system.get_configuration(ctx.station_id, keys))
    if config is None:
        return CapabilitiesVerdict(
            Verdict.FAILED, ctx.no_answer("GetConfiguration"), found=Capabilities(OcppVersion.V16)
        )
    if config.error is not None:
        return CapabilitiesVerdict(
            Verdict.FAILED, f"GetConfiguration: {config.error}", found=Capabilities(OcppVersion.V16)
        )
    count = config.value(NUMBER_OF_CONNECTORS)
    try:
        number = None if count is None else int(count.strip())
    except ValueError:
        number = None
    found = Capabilities(
        OcppVersion.V16,
        profiles=config.value(SUPPORTED_FEATURE_PROFILES),
        connector_zero=_true(config.value(RESERVE_CONNECTOR_ZERO_SUPPORTED)),
        number_of_connectors=number,
    )
    return CapabilitiesVerdict(Verdict.PASSED, found.summary(), found=found)
