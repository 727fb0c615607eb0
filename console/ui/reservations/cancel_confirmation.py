"""Asking before a reservation is cancelled.

Delete on a reserved connector used to send CancelReservation at once: one stray key on a
site, and a driver's reservation was gone (a cancel cannot be taken back; only a new
ReserveNow would hold the connector again). The box says which reservation it is about and
is opened, never exec()'d: the event loop, and the stations, keep running while it shows.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QPushButton, QWidget

from console.central.model import ReservationRecord
from console.ocpp.versions import OcppVersion
from console.ui.look.presentation import format_local_time, reservation_target_text

__all__ = ["CancelConfirmation"]


class CancelConfirmation(QMessageBox):
    """Asks "Cancel reservation N on STATION?"; the safe answer (keep it) is the default.

    ``on_confirmed`` runs once the technician chose to cancel; nothing happens otherwise.
    """

    def __init__(
        self,
        station_id: str,
        reservation_id: int,
        record: ReservationRecord | None,
        on_confirmed: Callable[[], None],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("cancel_confirmation")
        self.station_id = station_id
        self.reservation_id = reservation_id
        self.setIcon(QMessageBox.Icon.Question)
        self.setWindowTitle("Cancel reservation")
        self.setText(f"Cancel reservation {reservation_id} on {station_id}?")
        self.setInformativeText(_details(record))
        self.confirm_button: QPushButton = self.addButton(
            "Cancel reservation", QMessageBox.ButtonRole.DestructiveRole
        )
        self.keep_button: QPushButton = self.addButton("Keep it", QMessageBox.ButtonRole.RejectRole)
        self.setDefaultButton(self.keep_button)
        self.setEscapeButton(self.keep_button)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self._on_confirmed = on_confirmed
        self.finished.connect(self._on_finished)

    def _on_finished(self, _result: int) -> None:
        if self.clickedButton() is self.confirm_button:
            self._on_confirmed()


def _details(record: ReservationRecord | None) -> str:
    if record is None:
        return "The station is sent CancelReservation."
    by_evse = record.ocpp_version is OcppVersion.V201
    if record.connector_id == 0:
        where = "any EVSE" if by_evse else "any connector"
    else:
        where = reservation_target_text(record)
    token, freed = ("idToken", "EVSE") if by_evse else ("idTag", "connector")
    return (
        f"Held for {token} {record.id_tag} on {where} until "
        f"{format_local_time(record.expiry_date)}. The station is sent CancelReservation and "
        f"frees the {freed}: this cannot be undone (only a new reservation holds it again)."
    )
