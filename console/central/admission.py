"""What the handshake will do with a station under a configuration, said before it applies.

The settings dialog shows, before OK, what a new security profile, key list or "accept
unknown stations" will do to each connected station. The prediction is made from the
handshake's own rules (:mod:`console.central.handshake`), never from a copy of them, so
what the dialog says and what the Central System then does cannot drift apart.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from urllib.parse import quote

from console.central.config import CentralSystemConfig
from console.central.handshake import (
    HandshakeRefusal,
    KeyRule,
    check_handshake,
    key_rule,
    no_key_reason,
)

__all__ = ["Admission", "AdmissionKind", "predict_admission"]


class AdmissionKind(enum.Enum):
    """How the handshake will treat a station (given it offers the OCPP subprotocol)."""

    LET_IN = "let in"
    """Connects as it is: no key and no certificate asked."""
    MUST_SEND_KEY = "must send key"
    """Has an AuthorizationKey and must send it (HTTP Basic)."""
    MUST_SHOW_CERTIFICATE = "must show certificate"
    """Must present a client certificate the CA signed, naming it (profile 3)."""
    REFUSED = "refused"
    """Refused whatever it sends (``reason`` says why)."""


@dataclass(frozen=True, slots=True)
class Admission:
    """The prediction for one station: what happens, and why in words."""

    station_id: str
    kind: AdmissionKind
    reason: str


def predict_admission(config: CentralSystemConfig, station_id: str) -> Admission:
    """What the handshake of a Central System started with ``config`` does with this station.

    Pure: no I/O, no hashing. It runs the handshake's checks that need no credentials, and
    asks the credential check's own rule whether a key will be demanded.
    """
    decision = check_handshake(config, "/" + quote(station_id, safe=""))
    if isinstance(decision, HandshakeRefusal):
        return Admission(station_id, AdmissionKind.REFUSED, decision.reason)
    if config.security_profile >= 3:
        return Admission(
            station_id,
            AdmissionKind.MUST_SHOW_CERTIFICATE,
            f"needs a client certificate for {station_id} (commonName), signed by the CA",
        )
    rule = key_rule(config, station_id)
    if rule is KeyRule.MUST_SEND:
        return Admission(station_id, AdmissionKind.MUST_SEND_KEY, "has a key: must send it")
    if rule is KeyRule.NONE_SET:
        return Admission(station_id, AdmissionKind.REFUSED, no_key_reason(station_id))
    if config.security_profile in (1, 2):
        return Admission(
            station_id, AdmissionKind.LET_IN, "no key: let in (unknown stations are accepted)"
        )
    return Admission(station_id, AdmissionKind.LET_IN, "no password asked")
