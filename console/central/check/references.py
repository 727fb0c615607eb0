"""What each step of the reservation check is called, and the official reference it stands for.

One table (:data:`REFERENCES`) for both versions, so the window, the command line, the
exports and the report print the same words, and a test lab and a vendor speak the same
language: the Open Charge Alliance's compliance test case (OCTT ``TC_...``) where one covers
the rule, and the specification's section or requirement. A step the compliance tool has no
test case for names the requirement alone. A test keeps the table complete (every step of
each version's plan has a row).

Keyed by the step's value (``CheckStep.value``) so the model can import it.
"""

from __future__ import annotations

from dataclasses import dataclass

from console.ocpp.versions import OcppVersion

__all__ = ["REFERENCES", "StepReference", "step_reference", "step_title"]

V16 = OcppVersion.V16
V201 = OcppVersion.V201


@dataclass(frozen=True, slots=True)
class StepReference:
    """A step's title and the official test case and requirement it stands for."""

    title: str
    requirement: str
    """The specification's section or requirement ids (``1.6 §5.13 ...``, ``H01.FR.02``)."""
    test_case: str | None = None
    """The compliance tool's test case (``TC_047_CS``), when one covers the rule."""

    @property
    def text(self) -> str:
        """``TC_047_CS · 1.6 §5.13 ...``, or the requirement alone."""
        if self.test_case is None:
            return self.requirement
        return f"{self.test_case} · {self.requirement}"


REFERENCES: dict[tuple[str, OcppVersion], StepReference] = {
    # --- OCPP 1.6 -------------------------------------------------------------------------
    ("capabilities", V16): StepReference(
        "Capabilities (SupportedFeatureProfiles, ReserveConnectorZeroSupported, "
        "NumberOfConnectors)",
        "1.6 §9.1 GetConfiguration; prerequisite of TC_046-053: Reservation profile",
    ),
    ("reserve", V16): StepReference(
        "Reserve a free connector",
        '1.6 §5.13 "Accepted if a connector is reserved", then StatusNotification Reserved',
        "TC_046_2_CS",
    ),
    ("second_reservation", V16): StepReference(
        "Second reservation on a reserved connector is Occupied",
        '1.6 §5.13 "Occupied if ... already reserved for any idTag"',
        "TC_048_2_CS",
    ),
    ("replace", V16): StepReference(
        "Same reservationId replaces the reservation",
        '1.6 §5.13 "same reservationId ... replace the reservation"',
    ),
    ("cancel_unknown", V16): StepReference(
        "Cancelling an unknown reservation is Rejected",
        '1.6 §5.2 "else Rejected"',
        "TC_052_CS",
    ),
    ("cancel_held", V16): StepReference(
        "Cancelling the held reservation frees the connector",
        "1.6 §5.2 CancelReservation Accepted, then Available",
        "TC_051_CS",
    ),
    ("connector_zero", V16): StepReference(
        "Connector 0 follows ReserveConnectorZeroSupported",
        "1.6 §5.13 connectorId 0; §9.1 ReserveConnectorZeroSupported",
    ),
    ("expiry", V16): StepReference(
        "A reservation expires by itself",
        '1.6 §5.13 "when a reservation expires ... Available" (same connectorId)',
        "TC_047_CS",
    ),
    ("cards", V16): StepReference(
        "Only the reserved card may charge (guided)",
        "1.6 §5.13 only the reserved idTag (or its parent) charges; StartTransaction "
        "carries reservationId",
        "TC_046_1_CS",
    ),
    ("schemas", V16): StepReference(
        "Every frame valid against the official schemas",
        "OCPP-J 1.6 §4; the official 1.6 JSON schemas",
    ),
    ("inoperative", V16): StepReference(
        "Inoperative ends the reservation",
        '1.6 §5.13 "a reservation ends when the connector goes Unavailable"; §5.2 '
        "cancelling it afterwards Rejected; §5.3 ChangeAvailability Operative, then Available",
    ),
    ("reserve_inoperative", V16): StepReference(
        "Reserving an Inoperative connector is Unavailable",
        '1.6 §5.13 "Unavailable if the ... connector is in that state"',
        "TC_048_3_CS",
    ),
    ("remote_start_other", V16): StepReference(
        "A remote start for another idTag keeps the reservation",
        '1.6 §5.13 "refuse charging for every idTag ... except the reserved idTag"; '
        "§5.11 RemoteStartTransaction",
    ),
    ("replace_occupied", V16): StepReference(
        "A replacement onto a reserved connector is Occupied",
        '1.6 §5.13 "same reservationId ... replace"; "Occupied if ... already reserved '
        'for any idTag" (the other reservation stays)',
    ),
    # --- OCPP 2.0.1 -----------------------------------------------------------------------
    ("capabilities", V201): StepReference(
        "Capabilities (ReservationCtrlr Enabled, Available, NonEvseSpecific; EVSEs)",
        "2.0.1 B06 GetVariables ReservationCtrlr; B07 NotifyReport (EVSEs, connector types)",
    ),
    ("reserve", V201): StepReference(
        "Reserve a specific EVSE",
        "H01.FR.20 Accepted, then Reserved for every connector of the EVSE",
    ),
    ("second_reservation", V201): StepReference(
        "Second reservation on a reserved EVSE is Occupied",
        "H01 Occupied: the EVSE is reserved for another idToken",
    ),
    ("replace", V201): StepReference(
        "Same id replaces the reservation",
        "H01.FR.02 same id: replace the reservation",
        "TC_H_23",
    ),
    ("cancel_unknown", V201): StepReference(
        "Cancelling an unknown reservation is Rejected",
        "H02.FR.02 no reservation with that id: Rejected",
    ),
    ("cancel_held", V201): StepReference(
        "Cancelling the held reservation frees the EVSE",
        "H02.FR.01 Accepted, then Available for each connector (no ReservationStatusUpdate)",
        "TC_H_17",
    ),
    ("connector_zero", V201): StepReference(
        "No evseId follows NonEvseSpecific",
        "H01.FR.19 no evseId while NonEvseSpecific is not true: Rejected",
        "TC_H_08",
    ),
    ("expiry", V201): StepReference(
        "A reservation expires by itself",
        "H04 at expiryDateTime: ReservationStatusUpdate Expired, then Available",
        "TC_H_07",
    ),
    ("cards", V201): StepReference(
        "Only the reserved idToken may charge (guided)",
        "H03.FR.09/10, G01.FR.09: another idToken refused; TransactionEvent carries reservationId",
        "TC_H_19",
    ),
    ("schemas", V201): StepReference(
        "Every frame valid against the official schemas",
        "OCPP-J 2.0.1 part 4; the official 2.0.1 JSON schemas",
    ),
    ("connector_type", V201): StepReference(
        "A reservation for a connector type",
        "H01 S3 ReserveNow with connectorType: Accepted",
        "TC_H_15",
    ),
}
"""Every step of each version's plan: its title and its official reference."""


def _row(step: str, version: OcppVersion) -> StepReference:
    found = REFERENCES.get((step, version))
    if found is None:
        # A step stored by a 1.6 check read back with another version's table (or a step
        # this console does not plan for that version): the 1.6 row still names it.
        found = REFERENCES.get((step, V16))
    if found is None:
        return StepReference(step.replace("_", " ").capitalize(), "")
    return found


def step_title(step: str, version: OcppVersion) -> str:
    """What the window, the report and the command line call ``step`` on ``version``."""
    return _row(step, version).title


def step_reference(step: str, version: OcppVersion) -> str:
    """The official reference of ``step`` on ``version``, as one line."""
    return _row(step, version).text
