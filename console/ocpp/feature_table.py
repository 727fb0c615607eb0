"""What a feature table is: the actions of one OCPP version, their models, and who takes them.

Shared by both versions; the tables themselves are ``console.ocpp.features`` (1.6) and
``console.ocpp.v201.features`` (2.0.1), and :func:`console.ocpp.tables.feature_table` picks
one by version.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from console.ocpp.base import OcppModel

__all__ = ["BOTH", "CP", "CS", "Feature", "FeatureTable", "Role"]


class Role(StrEnum):
    """A side of a connection (2.0.1 says CSMS and Charging Station for the same two)."""

    CENTRAL_SYSTEM = "CentralSystem"
    CHARGE_POINT = "ChargePoint"


CS = frozenset({Role.CENTRAL_SYSTEM})
CP = frozenset({Role.CHARGE_POINT})
BOTH = CS | CP


@dataclass(frozen=True, slots=True)
class Feature:
    """One action: its models, its profile, and the roles that receive it.

    ``profile`` is the 1.6 feature profile (``Core``, ``Reservation``, ...) or the 2.0.1
    functional block (``Provisioning``, ``Reservation``, ...). ``confirmation`` is the answer's
    model (a 1.6 ``...Confirmation``, a 2.0.1 ``...Response``).
    """

    action: str
    request: type[OcppModel]
    confirmation: type[OcppModel]
    profile: str
    receivers: frozenset[Role]


@dataclass(frozen=True, slots=True)
class FeatureTable:
    """The actions of one OCPP version.

    ``features`` are the modeled ones (typed requests and answers). ``known_actions`` are
    every action of the version by who receives it, modeled or not: a call of a known action
    that is not modeled is answered NotSupported, one of an unknown action NotImplemented.
    """

    features: Mapping[str, Feature]
    known_actions: Mapping[str, frozenset[Role]]

    def receivable(self, role: Role) -> frozenset[str]:
        """The modeled actions ``role`` receives."""
        return frozenset(a for a, f in self.features.items() if role in f.receivers)
