"""The reservation form: pick a connector, an idTag and an expiry; send ReserveNow."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from PySide6.QtCore import QDateTime, Qt, QTimeZone, Signal
from PySide6.QtGui import QStandardItemModel
from PySide6.QtWidgets import (
    QComboBox,
    QDateTimeEdit,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from console.central.model import (
    ReservationRecord,
    ReservationState,
    ReserveRequest,
    StationSnapshot,
)
from console.ui.look.field_messages import error_label, field_stack, hint_label, show_message
from console.ui.look.presentation import Look, reservation_answer_text, reservation_state_look
from console.ui.stations.station_model import StationTreeModel

__all__ = ["ReservationDraft", "ReservationForm", "id_tag_problem"]

ID_TAG_MAX = 20
INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
QUICK_EXPIRIES = (("+15 min", 15), ("+30 min", 30), ("+1 h", 60))
DEFAULT_EXPIRY_MINUTES = 30
_EXPIRY_FORMAT = "yyyy-MM-dd HH:mm"
_EXPIRY_FORMAT_SECONDS = "yyyy-MM-dd HH:mm:ss"

Clock = Callable[[], datetime]


ReservationDraft = ReserveRequest
"""What the technician asked for: one ReserveNow, not sent yet (the Central System's own
request object, so its parameters are spelled in one place)."""


class ReservationForm(QWidget):
    """A non-modal form for ReserveNow with the protocol's rules checked as one types.

    The form knows nothing of OCPP sessions: it emits :attr:`sig_send_requested` with a
    :class:`ReservationDraft`, then follows the records it is shown (:meth:`show_record`, from
    the change feed): the attempt it sent, from "sending" to the answer and any later change
    (a late answer, expiry, a cancel).
    """

    sig_send_requested = Signal(object)
    """ReservationDraft: the technician pressed Send on a valid form."""

    def __init__(
        self,
        stations: StationTreeModel,
        peek_reservation_id: Callable[[], int],
        parent: QWidget | None = None,
        *,
        clock: Clock | None = None,
    ) -> None:
        super().__init__(parent)
        self._stations = stations
        self._peek_reservation_id = peek_reservation_id
        self._clock: Clock = clock or (lambda: datetime.now(UTC))
        self._reservation_id_edited = False
        self._zero_chosen = False
        self._lowest_next_id = 0
        self._pending: ReservationDraft | None = None
        self._attempt: tuple[str, int, datetime] | None = None
        """(station, reservation id, created_at) of the attempt this form sent last, once known."""
        self._older_than: datetime | None = None
        """created_at of the attempt with the same id known when the form sent (not ours)."""
        self._in_flight = False
        self._errors: dict[str, str] = {}

        self.station_combo = QComboBox()
        self.station_combo.setObjectName("station")
        self.station_combo.setMinimumContentsLength(12)
        self.connector_combo = QComboBox()
        self.connector_combo.setObjectName("connector")
        self.connector_hint = hint_label()
        self.id_tag_edit = QLineEdit()
        self.id_tag_edit.setObjectName("id_tag")
        self.id_tag_edit.setPlaceholderText("the card's idTag, 1 to 20 characters")
        self.id_tag_hint = hint_label()
        self.parent_edit = QLineEdit()
        self.parent_edit.setObjectName("parent_id_tag")
        self.parent_edit.setPlaceholderText("optional, up to 20 characters")
        self.expiry_edit = QDateTimeEdit()
        self.expiry_edit.setObjectName("expiry")
        self.expiry_edit.setCalendarPopup(True)
        self.expiry_edit.setDisplayFormat(_EXPIRY_FORMAT)
        self.expiry_edit.setTimeZone(QTimeZone.systemTimeZone())
        self.quick_buttons: dict[str, QToolButton] = {}
        self.reservation_id_edit = QLineEdit()
        self.reservation_id_edit.setObjectName("reservation_id")
        self.reservation_id_hint = hint_label()
        self.send_button = QPushButton("Send ReserveNow")
        self.send_button.setObjectName("send")
        self.send_button.setDefault(True)
        self.answer_icon = QLabel()
        self.answer_label = QLabel()
        self.answer_label.setProperty("role", "answer")
        self.answer_label.setWordWrap(True)
        self.answer_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.answer_label.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.error_labels: dict[str, QLabel] = {
            name: error_label()
            for name in (
                "station",
                "connector",
                "id_tag",
                "parent_id_tag",
                "expiry",
                "reservation_id",
            )
        }
        self._build_layout()
        self._connect_signals()
        self.set_expiry_in(DEFAULT_EXPIRY_MINUTES)
        self.refresh_stations()
        self.refresh_reservation_id()
        self.validate()

    # --- layout and wiring ------------------------------------------------------------------

    def _build_layout(self) -> None:
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.addRow("Station", field_stack(self.station_combo, self.error_labels["station"]))
        form.addRow(
            "Connector",
            field_stack(self.connector_combo, self.connector_hint, self.error_labels["connector"]),
        )
        form.addRow(
            "idTag", field_stack(self.id_tag_edit, self.id_tag_hint, self.error_labels["id_tag"])
        )
        form.addRow(
            "Parent idTag", field_stack(self.parent_edit, self.error_labels["parent_id_tag"])
        )
        quick = QHBoxLayout()
        quick.setContentsMargins(0, 0, 0, 0)
        for text, minutes in QUICK_EXPIRIES:
            # Tool buttons: narrow enough that the form dock stays slim, wider when it is.
            button = QToolButton()
            button.setText(text)
            button.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
            button.clicked.connect(lambda _=False, m=minutes: self.set_expiry_in(m))
            self.quick_buttons[text] = button
            quick.addWidget(button)
        quick_row = QWidget()
        quick_row.setLayout(quick)
        form.addRow(
            "Expiry (local)",
            field_stack(self.expiry_edit, quick_row, self.error_labels["expiry"]),
        )
        form.addRow(
            "Reservation id",
            field_stack(
                self.reservation_id_edit,
                self.reservation_id_hint,
                self.error_labels["reservation_id"],
            ),
        )
        answer_row = QHBoxLayout()
        answer_row.addWidget(self.answer_icon, 0, Qt.AlignmentFlag.AlignTop)
        answer_row.addWidget(self.answer_label, 1)
        outer = QVBoxLayout(self)
        outer.addLayout(form)
        outer.addWidget(self.send_button, 0, Qt.AlignmentFlag.AlignRight)
        outer.addLayout(answer_row)
        outer.addStretch(1)

    def _connect_signals(self) -> None:
        self.station_combo.currentIndexChanged.connect(self._on_station_chosen)
        self.connector_combo.currentIndexChanged.connect(self.validate)
        self.connector_combo.activated.connect(self._on_connector_activated)
        self.id_tag_edit.textChanged.connect(self.validate)
        self.parent_edit.textChanged.connect(self.validate)
        self.expiry_edit.dateTimeChanged.connect(self._on_expiry_changed)
        self.reservation_id_edit.textEdited.connect(self._on_reservation_id_edited)
        self.send_button.clicked.connect(self.send)
        # Enter in any text field sends, as in a dialog (send() re-checks everything).
        for edit in (self.id_tag_edit, self.parent_edit, self.reservation_id_edit):
            edit.returnPressed.connect(self.send)
        # QAbstractSpinBox re-emits Enter as its line edit's returnPressed.
        expiry_line = self.expiry_edit.findChild(QLineEdit)
        if expiry_line is not None:
            expiry_line.returnPressed.connect(self.send)
        self._stations.sig_stations_changed.connect(self.refresh_stations)

    # --- filling ----------------------------------------------------------------------------

    def refresh_stations(self) -> None:
        """List the online stations (and the chosen one even if it went offline)."""
        current = self.selected_station_id()
        snapshots = self._stations.station_snapshots()
        wanted = sorted(
            (s for s in snapshots if s.connected or s.station_id == current),
            key=lambda s: s.station_id.casefold(),
        )
        listed = [
            (self.station_combo.itemData(i), self.station_combo.itemText(i))
            for i in range(self.station_combo.count())
        ]
        entries = [(s.station_id, _station_label(s)) for s in wanted]
        if entries != listed:
            self.station_combo.blockSignals(True)
            self.station_combo.clear()
            for station_id, label in entries:
                self.station_combo.addItem(label, station_id)
            position = self.station_combo.findData(current) if current else -1
            self.station_combo.setCurrentIndex(
                position if position >= 0 else (0 if entries else -1)
            )
            self.station_combo.blockSignals(False)
            if self.selected_station_id() != current:
                self._on_station_chosen()
                return
        self._fill_connectors()
        self.validate()

    def _on_station_chosen(self) -> None:
        self._fill_connectors()
        self.validate()

    def _fill_connectors(self) -> None:
        station = self._selected_station()
        current = self.selected_connector_id()
        ids = self._stations.connector_ids(station.station_id) if station else []
        # No station chosen: nothing to choose from (not a misleading "any connector").
        entries = (
            [(0, "0 — any connector")] + [(i, f"Connector {i}") for i in ids] if station else []
        )
        self.connector_combo.setEnabled(station is not None)
        listed = [
            (self.connector_combo.itemData(i), self.connector_combo.itemText(i))
            for i in range(self.connector_combo.count())
        ]
        zero_reason = _connector_zero_reason(station)
        self.connector_hint.setText(zero_reason or "")
        self.connector_hint.setVisible(bool(zero_reason))
        if entries != listed:
            self.connector_combo.blockSignals(True)
            self.connector_combo.clear()
            for connector_id, label in entries:
                self.connector_combo.addItem(label, connector_id)
            position = self.connector_combo.findData(current) if current is not None else -1
            if entries and (position < 0 or (current == 0 and not self._zero_chosen)):
                # Connector 1 unless the technician asked for "any connector".
                position = 1 if len(entries) > 1 else 0
            self.connector_combo.setCurrentIndex(position)
            self.connector_combo.blockSignals(False)
        # Connector 0 stays listed (so the reason can be read) but cannot be picked.
        item_model = self.connector_combo.model()
        zero_item = (
            item_model.item(0)
            if isinstance(item_model, QStandardItemModel) and item_model.rowCount()
            else None
        )
        if zero_item is not None:
            zero_item.setEnabled(zero_reason is None)
            zero_item.setToolTip(zero_reason or "Let the station pick a free connector")

    def set_target(self, station_id: str | None, connector_id: int | None) -> None:
        """Pre-fill the station and connector (from the selected row)."""
        if station_id is not None:
            position = self.station_combo.findData(station_id)
            if position < 0:
                snapshot = self._stations.station(station_id)
                if snapshot is not None:
                    self.station_combo.addItem(_station_label(snapshot), station_id)
                    position = self.station_combo.count() - 1
            if position >= 0:
                self.station_combo.setCurrentIndex(position)
        if connector_id is not None:
            self._zero_chosen = connector_id == 0
            position = self.connector_combo.findData(connector_id)
            if position >= 0:
                self.connector_combo.setCurrentIndex(position)
        self.validate()

    def _on_connector_activated(self, position: int) -> None:
        self._zero_chosen = self.connector_combo.itemData(position) == 0

    def set_expiry_in(self, minutes: int) -> None:
        """Set the expiry to now + ``minutes``."""
        moment = self._clock() + timedelta(minutes=minutes)
        self.set_expiry(moment)

    def set_expiry(self, moment: datetime, *, to_the_minute: bool = True) -> None:
        """Show ``moment``; what is shown is what is sent.

        The field shows minutes, so seconds are dropped. ``to_the_minute=False`` (tests of
        short expiries) keeps them and shows them, never hidden.
        """
        seconds = int(moment.timestamp())
        if to_the_minute:
            seconds = seconds // 60 * 60
        self.expiry_edit.setDisplayFormat(
            _EXPIRY_FORMAT if seconds % 60 == 0 else _EXPIRY_FORMAT_SECONDS
        )
        self.expiry_edit.setDateTime(
            QDateTime.fromSecsSinceEpoch(seconds, QTimeZone.systemTimeZone())
        )

    def _on_expiry_changed(self, stamp: QDateTime) -> None:
        seconds = stamp.toSecsSinceEpoch()
        shows_seconds = self.expiry_edit.displayFormat() == _EXPIRY_FORMAT_SECONDS
        if stamp.time().msec() or (seconds % 60 and not shows_seconds):
            # Typed or picked: keep what is shown, drop the hidden part (re-enters once).
            whole = seconds if shows_seconds else seconds // 60 * 60
            self.expiry_edit.setDateTime(
                QDateTime.fromSecsSinceEpoch(whole, QTimeZone.systemTimeZone())
            )
            return
        self.validate()

    def prepare(self) -> None:
        """The form is (re)opened: an expiry already in the past starts again at now + 15 min."""
        if self.expiry() <= self._clock():
            self.set_expiry_in(QUICK_EXPIRIES[0][1])
        self.refresh_reservation_id()  # the counter may have moved since (validates too)

    def refresh_reservation_id(self) -> None:
        """Show the next id from the counter, unless the technician typed one."""
        if not self._reservation_id_edited:
            # The counter only moves once the request is under way: never offer an id this
            # form has just sent.
            next_id = max(self._peek_reservation_id(), self._lowest_next_id)
            self.reservation_id_edit.setText(str(next_id))
        self.validate()

    def _on_reservation_id_edited(self, text: str) -> None:
        # An emptied field goes back to the automatic id on the next refresh.
        self._reservation_id_edited = bool(text.strip())
        self.validate()

    # --- reading and checking ---------------------------------------------------------------

    def selected_station_id(self) -> str | None:
        data = self.station_combo.currentData()
        return data if isinstance(data, str) else None

    def selected_connector_id(self) -> int | None:
        data = self.connector_combo.currentData()
        return data if isinstance(data, int) else None

    def expiry(self) -> datetime:
        return datetime.fromtimestamp(self.expiry_edit.dateTime().toSecsSinceEpoch(), UTC)

    def _selected_station(self) -> StationSnapshot | None:
        station_id = self.selected_station_id()
        return None if station_id is None else self._stations.station(station_id)

    def validation_errors(self) -> dict[str, str]:
        """Field name -> what is wrong with it (empty when the form can be sent)."""
        errors: dict[str, str] = {}
        station = self._selected_station()
        if station is None:
            errors["station"] = "Choose a station (only connected stations are listed)"
        elif not station.connected:
            errors["station"] = f"{station.station_id} is offline"
        connector_id = self.selected_connector_id()
        if connector_id is None:
            errors["connector"] = "Choose a connector"
        elif connector_id == 0 and station is not None:
            reason = _connector_zero_reason(station)
            if reason:
                errors["connector"] = reason
        id_tag = id_tag_problem(self.id_tag_edit.text())
        if id_tag:
            errors["id_tag"] = id_tag
        parent = id_tag_problem(self.parent_edit.text(), name="parentIdTag", required=False)
        if parent:
            errors["parent_id_tag"] = parent
        if self.expiry() <= self._clock():
            errors["expiry"] = "Expiry must be in the future"
        raw_id = self.reservation_id_edit.text().strip()
        if not raw_id:
            errors["reservation_id"] = "Reservation id is required"
        else:
            try:
                value = int(raw_id)
            except ValueError:
                errors["reservation_id"] = "Reservation id must be a whole number"
            else:
                if not INT32_MIN <= value <= INT32_MAX:
                    errors["reservation_id"] = "Reservation id must fit a 32-bit integer"
        return errors

    def validate(self) -> bool:
        """Show each field's problem at the field; enable Send only when there is none."""
        self._errors = self.validation_errors()
        widgets: dict[str, QWidget] = {
            "station": self.station_combo,
            "connector": self.connector_combo,
            "id_tag": self.id_tag_edit,
            "parent_id_tag": self.parent_edit,
            "expiry": self.expiry_edit,
            "reservation_id": self.reservation_id_edit,
        }
        for name, label in self.error_labels.items():
            message = self._errors.get(name, "")
            show_message(label, message)
            widget = widgets[name]
            invalid = bool(message)
            if widget.property("invalid") != invalid:
                widget.setProperty("invalid", invalid)
                widget.style().unpolish(widget)
                widget.style().polish(widget)
            widget.setToolTip(message)
        self._show_hints()
        valid = not self._errors
        self.send_button.setEnabled(valid and not self._in_flight)
        self.send_button.setText("Sending…" if self._in_flight else "Send ReserveNow")
        return valid

    def _show_hints(self) -> None:
        """Notes that do not block sending: trimmed spaces, a reservation id being replaced."""
        texts = (self.id_tag_edit.text(), self.parent_edit.text())
        trimmed = any(text.strip() and text != text.strip() for text in texts)
        show_message(self.id_tag_hint, "Spaces at the ends are removed" if trimmed else "")
        show_message(self.reservation_id_hint, self.replacement_note() or "")

    def replacement_note(self) -> str | None:
        """A warning when the chosen reservation id is active on the chosen station."""
        station_id = self.selected_station_id()
        try:
            reservation_id = int(self.reservation_id_edit.text().strip())
        except ValueError:
            return None
        if station_id is None:
            return None
        record = self._stations.reservation(station_id, reservation_id)
        if record is None or not record.active:
            return None
        where = f"connector {record.connector_id}" if record.connector_id else "the whole station"
        return f"id {reservation_id} is active on {station_id} {where}: sending replaces it"

    def draft(self) -> ReservationDraft | None:
        """The reservation the form describes, or None while it is invalid."""
        if not self.validate():
            return None
        station_id = self.selected_station_id()
        connector_id = self.selected_connector_id()
        if station_id is None or connector_id is None:  # pragma: no cover - validated above
            return None
        return ReservationDraft(
            station_id=station_id,
            connector_id=connector_id,
            id_tag=self.id_tag_edit.text().strip(),
            parent_id_tag=self.parent_edit.text().strip() or None,
            expiry_date=self.expiry(),
            reservation_id=int(self.reservation_id_edit.text().strip()),
        )

    # --- sending and answers ----------------------------------------------------------------

    def send(self) -> None:
        """Ask for the reservation (the window sends it without blocking)."""
        if self._in_flight:
            return  # one ReserveNow at a time from this form (a double click sends once)
        draft = self.draft()
        if draft is None:
            return
        self._pending = draft
        self._attempt = None
        known = (
            None
            if draft.reservation_id is None
            else self._stations.reservation(draft.station_id, draft.reservation_id)
        )
        self._older_than = known.created_at if known is not None else None
        self._in_flight = True
        self._show(
            reservation_state_look(ReservationState.SENDING),
            f"Reservation {draft.reservation_id}: sending to {draft.station_id}…",
        )
        self.sig_send_requested.emit(draft)
        if draft.reservation_id is not None:
            self._lowest_next_id = max(self._lowest_next_id, draft.reservation_id + 1)
        self._reservation_id_edited = False
        self.refresh_reservation_id()

    def show_record(self, record: ReservationRecord) -> None:
        """Show a record's state if it is the attempt this form sent last.

        Send works again once the station answered (or did not). A reservation id may be
        reused: only the exact attempt (station, id, created_at) counts, never an older
        reservation with the same id that the new one replaces.
        """
        pending = self._pending
        if pending is None:
            return
        if self._attempt is None:
            # Not known yet: the first record of this very request names it. The feed may
            # bring it already answered ("sending" and the answer in one batch); an older
            # attempt with the same id is never it.
            if not _same_request(pending, record) or (
                self._older_than is not None and record.created_at <= self._older_than
            ):
                return
            self._attempt = _attempt_key(record)
        elif _attempt_key(record) != self._attempt:
            return
        self._show(reservation_state_look(record.state), reservation_answer_text(record))
        if record.state is not ReservationState.SENDING:
            if self._in_flight:
                self._in_flight = False
                self.validate()
            # The counter moved on: offer the next id (unless the technician typed one).
            self._reservation_id_edited = False
            self.refresh_reservation_id()

    def show_failure(self, text: str) -> None:
        """Show that sending failed inside the console (not an answer from the station)."""
        self._in_flight = False
        self._show(reservation_state_look(ReservationState.ERROR), text)
        self.validate()

    def in_flight(self) -> bool:
        """A ReserveNow from this form has not been answered yet."""
        return self._in_flight

    def answer_text(self) -> str:
        return self.answer_label.text()

    def _show(self, look: Look, text: str) -> None:
        self.answer_icon.setPixmap(look.icon().pixmap(18, 18))
        self.answer_label.setText(text)
        self.answer_label.setStyleSheet(
            f"color: {look.screen_foreground}; background: {look.screen_background};"
        )


def id_tag_problem(text: str, *, name: str = "idTag", required: bool = True) -> str | None:
    """What is wrong with an idTag as typed (spaces at the ends are removed), or None.

    The protocol's rule (1..20 characters); the check dialog uses it too.
    """
    value = text.strip()
    if not value:
        return f"{name} is required" if required else None
    if len(value) > ID_TAG_MAX:
        return f"{name} has {len(value)} characters; at most {ID_TAG_MAX}"
    return None


def _connector_zero_reason(station: StationSnapshot | None) -> str | None:
    """Why connector 0 (any connector) cannot be reserved on this station, or None."""
    if station is None:
        return None
    if station.reserve_connector_zero_supported is True:
        return None
    if station.reserve_connector_zero_supported is False:
        return (
            f"{station.station_id} does not allow reserving connector 0 "
            "(ReserveConnectorZeroSupported = false)"
        )
    return f"{station.station_id} has not said whether it allows reserving connector 0"


def _attempt_key(record: ReservationRecord) -> tuple[str, int, datetime]:
    return (record.station_id, record.reservation_id, record.created_at)


def _same_request(draft: ReservationDraft, record: ReservationRecord) -> bool:
    """Whether ``record`` is what ``draft`` asked for (its created_at is not known yet)."""
    return (
        record.station_id == draft.station_id
        and (draft.reservation_id is None or record.reservation_id == draft.reservation_id)
        and record.connector_id == draft.connector_id
        and record.id_tag == draft.id_tag
    )


def _station_label(station: StationSnapshot) -> str:
    return station.station_id if station.connected else f"{station.station_id} (offline)"
