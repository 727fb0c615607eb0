"""The reservation form: pick a connector (1.6) or an EVSE (2.0.1), an idTag / idToken and
an expiry; send ReserveNow.

One thing despite its length: the form's fields, the rules checked at each of them as one
types (with the notes that warn without blocking), and the answer of the attempt it sent
to the chosen station. What an attempt became is followed in :mod:`.sent_attempts`; what a
status or a refusal means is worded in :mod:`console.central.reserve_advice`; the rules of
each version are :mod:`.reservation_rules`. The form adapts to the chosen station's version.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from PySide6.QtCore import QDateTime, Qt, QTimeZone, Signal
from PySide6.QtGui import QShowEvent, QStandardItemModel
from PySide6.QtWidgets import (
    QComboBox,
    QDateTimeEdit,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from console.central.model import (
    DEFAULT_ID_TOKEN_TYPE,
    ReservationRecord,
    ReservationState,
    ReserveRequest,
    StationSnapshot,
)
from console.central.reserve_advice import expected_refusal, id_collision, refusal_meaning
from console.ocpp.v201.enums import ConnectorType, IdTokenType
from console.ocpp.versions import OcppVersion
from console.ui.look.field_messages import (
    HINT_ROLE,
    WARNING_ROLE,
    error_label,
    field_stack,
    hint_label,
    message_room,
    show_message,
)
from console.ui.look.presentation import Look, reservation_answer_text, reservation_state_look
from console.ui.reservations.reservation_rules import (
    any_target_reason,
    id_tag_problem,
    refusal_meaning_201,
    reservation_id_problem,
    reservations_off_note,
    wording,
)
from console.ui.reservations.sent_attempts import SentAttempt, SentAttempts
from console.ui.stations.station_model import StationTreeModel

__all__ = ["ReservationDraft", "ReservationForm"]

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
    the change feed): the attempts it sent, from "sending" to the answer and any later change
    (a late answer, expiry, a cancel). Stations are independent: while one station has not
    answered, only that station waits, and the answer shown is the chosen station's.
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
        self._attempts = SentAttempts()
        self._id_tag_quiet = True
        """No "idTag is required" before the idTag was edited or a send was tried."""
        self._errors: dict[str, str] = {}

        self.station_combo = QComboBox()
        self.station_combo.setObjectName("station")
        self.station_combo.setMinimumContentsLength(12)
        self.connector_combo = QComboBox()
        self.connector_combo.setObjectName("connector")
        self.connector_hint = hint_label()
        self.connector_type_combo = QComboBox()
        """2.0.1: the connectorType to reserve (none: any plug of the EVSE)."""
        self.connector_type_combo.setObjectName("connector_type")
        self.connector_type_combo.addItem("any type", None)
        for kind in ConnectorType:
            self.connector_type_combo.addItem(kind.value, kind)
        self.id_tag_edit = QLineEdit()
        self.id_tag_edit.setObjectName("id_tag")
        self.id_tag_hint = hint_label()
        self.id_token_type_combo = _token_type_combo("id_token_type")
        """2.0.1: the idToken's type (default the console's own: Central)."""
        self.id_token_type_combo.setCurrentIndex(
            self.id_token_type_combo.findData(DEFAULT_ID_TOKEN_TYPE)
        )
        self.parent_edit = QLineEdit()
        self.parent_edit.setObjectName("parent_id_tag")
        self.group_token_type_combo = _token_type_combo("group_id_token_type")
        """2.0.1: the groupIdToken's type (first choice: the idToken's)."""
        self.group_token_type_combo.insertItem(0, "same type", None)
        self.group_token_type_combo.setCurrentIndex(0)
        # The labels of the rows a version names otherwise ("EVSE", "idToken").
        self.connector_label = QLabel("Connector")
        self.id_tag_label = QLabel("idTag")
        self.parent_label = QLabel("Parent idTag")
        self.connector_type_label = QLabel("Connector type")
        # Each type chooser under its token, so the token keeps the field's whole width.
        self._id_token_type_row = _type_row(self.id_token_type_combo)
        self._group_token_type_row = _type_row(self.group_token_type_combo)
        self._form = QFormLayout()
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
        self.answer_label.setVisible(False)
        self.waiting_label = hint_label()
        """Other stations still waiting for an answer (the form is free for this one)."""
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
        form = self._form
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setVerticalSpacing(4)  # the message rooms already set the rows apart
        # Each field's messages have their room from the start (as many lines as its longest
        # message takes at the dock's width): a message appearing moves nothing below it.
        errors = self.error_labels
        form.addRow(
            "Station",
            field_stack(self.station_combo, message_room(errors["station"], lines=1)),
        )
        form.addRow(
            self.connector_label,
            field_stack(
                self.connector_combo,
                message_room(self.connector_hint, errors["connector"], lines=3),
            ),
        )
        form.addRow(self.connector_type_label, self.connector_type_combo)
        form.addRow(
            self.id_tag_label,
            field_stack(
                self.id_tag_edit,
                self._id_token_type_row,
                message_room(self.id_tag_hint, errors["id_tag"], lines=2),
            ),
        )
        form.addRow(
            self.parent_label,
            field_stack(
                self.parent_edit,
                self._group_token_type_row,
                message_room(errors["parent_id_tag"], lines=2),
            ),
        )
        self._show_version(None)
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
            field_stack(self.expiry_edit, quick_row, message_room(errors["expiry"], lines=1)),
        )
        form.addRow(
            "Reservation id",
            field_stack(
                self.reservation_id_edit,
                message_room(self.reservation_id_hint, errors["reservation_id"], lines=2),
            ),
        )
        answer_row = QHBoxLayout()
        answer_row.addWidget(self.answer_icon, 0, Qt.AlignmentFlag.AlignTop)
        answer_row.addWidget(self.answer_label, 1)
        # The fields scroll on a short screen; Send, the answer and the waiting line stay
        # below them, always in view (at 1366x768 the dock has only the tree's height).
        fields = QWidget()
        fields_layout = QVBoxLayout(fields)
        # The dock's title is right above: little room above and below.
        fields_layout.setContentsMargins(9, 2, 9, 2)  # 9: the usual side margin in a dock
        fields_layout.addLayout(form)
        fields_layout.addStretch(1)
        self.fields_scroll = QScrollArea()
        self.fields_scroll.setObjectName("reservation_form_scroll")
        self.fields_scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.fields_scroll.setWidgetResizable(True)
        self.fields_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.fields_scroll.setWidget(fields)
        # Never narrower than the fields: a scroll bar down, never one across.
        self.fields_scroll.setMinimumWidth(
            fields.minimumSizeHint().width()
            + self.fields_scroll.verticalScrollBar().sizeHint().width()
        )
        footer = QVBoxLayout()
        footer.setContentsMargins(9, 2, 9, 2)
        footer.addWidget(self.send_button, 0, Qt.AlignmentFlag.AlignRight)
        footer.addLayout(answer_row)
        footer.addWidget(self.waiting_label)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)
        outer.addWidget(self.fields_scroll, 1)
        outer.addLayout(footer)

    def _connect_signals(self) -> None:
        self.station_combo.currentIndexChanged.connect(self._on_station_chosen)
        self.connector_combo.currentIndexChanged.connect(self.validate)
        self.connector_combo.activated.connect(self._on_connector_activated)
        self.id_tag_edit.textChanged.connect(self.validate)
        self.id_tag_edit.textEdited.connect(self._on_id_tag_edited)
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
        self._show_version(self._selected_station())
        self._fill_connectors()
        self.validate()

    def _show_version(self, station: StationSnapshot | None) -> None:
        """Name the fields as the chosen station's version does; 2.0.1's own fields only
        on a 2.0.1 station."""
        words = wording(station)
        v201 = station is not None and station.ocpp_version is OcppVersion.V201
        self.connector_label.setText(words.target)
        self.id_tag_label.setText(words.token)
        self.parent_label.setText(words.group)
        self.id_tag_edit.setPlaceholderText(
            f"the idToken, up to {words.token_max} characters"
            if v201
            else f"the card's idTag, 1 to {words.token_max} characters"
        )
        self.parent_edit.setPlaceholderText(f"optional, up to {words.token_max} characters")
        self._form.setRowVisible(self.connector_type_combo, v201)
        self._id_token_type_row.setVisible(v201)
        self._group_token_type_row.setVisible(v201)

    def _on_station_chosen(self) -> None:
        self._show_version(self._selected_station())
        self._fill_connectors()
        refuses_zero = any_target_reason(self._selected_station()) is not None
        if self.selected_connector_id() == 0 and refuses_zero and self.connector_combo.count() > 1:
            # "Any connector" carried over to a station that refuses it: connector 1, not a
            # choice that cannot be sent (connector 0 stays listed, disabled).
            self.connector_combo.setCurrentIndex(1)
        self.validate()
        # The answer shown is the chosen station's: another station's is never left standing.
        self._show_attempt()

    def _fill_connectors(self) -> None:
        station = self._selected_station()
        current = self.selected_connector_id()
        zero_reason = any_target_reason(station)
        entries: list[tuple[int, str]] = []
        # No station chosen: nothing to choose from (not a misleading "any connector").
        if station is not None and station.ocpp_version is OcppVersion.V201:
            # 2.0.1: "any EVSE" only where the station takes it (NonEvseSpecific).
            ids = self._stations.evse_ids(station.station_id)
            entries = [(0, wording(station).any_target)] if zero_reason is None else []
            entries += [(i, f"EVSE {i}") for i in ids]
        elif station is not None:
            ids = self._stations.connector_ids(station.station_id)
            entries = [(0, wording(station).any_target)] + [(i, f"Connector {i}") for i in ids]
        self.connector_combo.setEnabled(station is not None)
        listed = [
            (self.connector_combo.itemData(i), self.connector_combo.itemText(i))
            for i in range(self.connector_combo.count())
        ]
        if entries != listed:
            self.connector_combo.blockSignals(True)
            self.connector_combo.clear()
            for connector_id, label in entries:
                self.connector_combo.addItem(label, connector_id)
            position = self.connector_combo.findData(current) if current is not None else -1
            if entries and (position < 0 or (current == 0 and not self._zero_chosen)):
                # The first connector / EVSE unless the technician asked for "any".
                has_zero = entries[0][0] == 0
                position = 1 if has_zero and len(entries) > 1 else 0
            self.connector_combo.setCurrentIndex(position)
            self.connector_combo.blockSignals(False)
        # Connector 0 stays listed (so the reason can be read) but cannot be picked.
        item_model = self.connector_combo.model()
        zero_item = (
            item_model.item(0)
            if isinstance(item_model, QStandardItemModel) and item_model.rowCount()
            else None
        )
        if zero_item is not None and self.connector_combo.itemData(0) == 0:
            zero_item.setEnabled(zero_reason is None)
            zero_item.setToolTip(zero_reason or f"Let the station pick a free {_target(station)}")

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
        """Set the expiry to at least now + ``minutes``, on a whole minute."""
        moment = self._clock() + timedelta(minutes=minutes)
        self.set_expiry(moment)

    def set_expiry(self, moment: datetime, *, to_the_minute: bool = True) -> None:
        """Show ``moment``; what is shown is what is sent.

        The field shows minutes, so seconds are rounded up to the next whole minute (the
        reservation never holds for less than asked: "+15 min" is at least 15 minutes).
        ``to_the_minute=False`` (tests of short expiries) keeps the seconds and shows them,
        never hidden.
        """
        if to_the_minute:
            seconds = math.ceil(moment.timestamp() / 60) * 60
        else:
            seconds = int(moment.timestamp())
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
        if not self.id_tag_edit.text().strip():
            self._id_tag_quiet = True  # a fresh start: no red before the technician types
        self.refresh_reservation_id()  # the counter may have moved since (validates too)

    def showEvent(self, event: QShowEvent) -> None:
        # Shown again (the dock reopened, its tab chosen): the ids may have moved meanwhile.
        super().showEvent(event)
        if not event.spontaneous():
            self.prepare()

    def refresh_reservation_id(self) -> None:
        """Show the next id from the counter, unless the technician typed one.

        Called whenever the form is shown, after every batch of reservation changes (a check
        or another window may have used ids) and before sending the automatic id.
        """
        if not self._reservation_id_edited:
            # The counter only moves once the request is under way: never offer an id this
            # form has just sent.
            next_id = str(max(self._peek_reservation_id(), self._lowest_next_id))
            if self.reservation_id_edit.text() != next_id:  # (called often: keep the cursor)
                self.reservation_id_edit.setText(next_id)
        self.validate()

    def _on_reservation_id_edited(self, text: str) -> None:
        # An emptied field goes back to the automatic id on the next refresh.
        self._reservation_id_edited = bool(text.strip())
        self.validate()

    def _on_id_tag_edited(self) -> None:
        self._id_tag_quiet = False
        self.validate()

    # --- reading and checking ---------------------------------------------------------------

    def selected_station_id(self) -> str | None:
        data = self.station_combo.currentData()
        return data if isinstance(data, str) else None

    def selected_connector_id(self) -> int | None:
        data = self.connector_combo.currentData()
        return data if isinstance(data, int) else None

    def selected_connector_type(self) -> ConnectorType | None:
        """2.0.1: the connector type chosen (None: any)."""
        data = self.connector_type_combo.currentData()
        return None if data is None else ConnectorType(data)  # Qt hands a StrEnum back as str

    def selected_id_token_type(self) -> IdTokenType:
        """2.0.1: the idToken's type."""
        data = self.id_token_type_combo.currentData()
        return DEFAULT_ID_TOKEN_TYPE if data is None else IdTokenType(data)

    def selected_group_token_type(self) -> IdTokenType | None:
        """2.0.1: the groupIdToken's type (None: the idToken's)."""
        data = self.group_token_type_combo.currentData()
        return None if data is None else IdTokenType(data)

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
            errors["station"] = "No connected station to choose"
        elif not station.connected:
            errors["station"] = f"{station.station_id} is offline"
        connector_id = self.selected_connector_id()
        if connector_id is None:
            errors["connector"] = (
                f"Choose {'an EVSE' if _target(station) == 'EVSE' else 'a connector'}"
            )
        elif connector_id == 0 and station is not None:
            reason = any_target_reason(station)
            if reason:
                errors["connector"] = reason
        words = wording(station)
        id_tag = id_tag_problem(self.id_tag_edit.text(), name=words.token, limit=words.token_max)
        if id_tag:
            errors["id_tag"] = id_tag
        group_name = "groupIdToken" if words.token == "idToken" else "parentIdTag"
        parent = id_tag_problem(
            self.parent_edit.text(), name=group_name, required=False, limit=words.token_max
        )
        if parent:
            errors["parent_id_tag"] = parent
        if self.expiry() <= self._clock():
            errors["expiry"] = "Expiry must be in the future"
        reservation_id = reservation_id_problem(self.reservation_id_edit.text())
        if reservation_id:
            errors["reservation_id"] = reservation_id
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
            message = self._shown_error(name)
            show_message(label, message)
            widget = widgets[name]
            invalid = bool(message)
            if widget.property("invalid") != invalid:
                widget.setProperty("invalid", invalid)
                widget.style().unpolish(widget)
                widget.style().polish(widget)
            widget.setToolTip(message)
        self._show_notes()
        valid = not self._errors
        waiting = self._attempts.waiting(self.selected_station_id())
        self.send_button.setEnabled(valid and not waiting)
        self.send_button.setText("Sending…" if waiting else "Send ReserveNow")
        # A disabled button says why (the empty idTag's own line stays quiet until typed in).
        self.send_button.setToolTip("\n".join(self._errors.values()))
        return valid

    def _shown_error(self, name: str) -> str:
        """The problem shown at field ``name``: an empty idTag is not one until it was edited."""
        message = self._errors.get(name, "")
        if name == "id_tag" and self._id_tag_quiet and not self.id_tag_edit.text().strip():
            return ""
        return message

    def _show_notes(self) -> None:
        """Notes that do not block sending, at their field (none where an error is shown)."""
        texts = (self.id_tag_edit.text(), self.parent_edit.text())
        trimmed = any(text.strip() and text != text.strip() for text in texts)
        note = "Spaces at the ends are removed" if trimmed else ""
        show_message(self.id_tag_hint, "" if self._shown_error("id_tag") else note)

        connector_note, role = self.connector_note()
        if self._shown_error("connector"):
            connector_note = ""
        show_message(self.connector_hint, connector_note or "", role=role)

        id_note = "" if self._shown_error("reservation_id") else self.replacement_note()
        show_message(self.reservation_id_hint, id_note or "", role=WARNING_ROLE)

    def connector_note(self) -> tuple[str | None, str]:
        """A note at the connector, and its role: the answer its status makes certain (a
        warning), else why connector 0 cannot be chosen on this station (a hint)."""
        station = self._selected_station()
        connector_id = self.selected_connector_id()
        off = reservations_off_note(station)
        if off:
            return off, WARNING_ROLE
        by_evse = station is not None and station.ocpp_version is OcppVersion.V201
        if station is not None and connector_id is not None and not by_evse:
            station_id = station.station_id
            refusal = expected_refusal(
                self._stations.connector(station_id, connector_id),
                self._stations.connector(station_id, 0),
                self._typed_reservation_id(),
            )
            if refusal:
                return refusal, WARNING_ROLE
        if by_evse and connector_id != 0:
            return None, HINT_ROLE  # the reason for no "any EVSE" would only add noise here
        return any_target_reason(station), HINT_ROLE

    def replacement_note(self) -> str | None:
        """A warning when the chosen reservation id is active, on this station or another.

        On this station sending replaces it (said plainly); on another the same id would be
        held twice. Neither blocks sending.
        """
        reservation_id = self._typed_reservation_id()
        if reservation_id is None:
            return None
        held = (
            self._stations.reservation(snapshot.station_id, reservation_id)
            for snapshot in self._stations.station_snapshots()
        )
        active = [record for record in held if record is not None and record.active]
        return id_collision(reservation_id, self.selected_station_id(), active)

    def _typed_reservation_id(self) -> int | None:
        try:
            return int(self.reservation_id_edit.text().strip())
        except ValueError:
            return None

    def draft(self) -> ReservationDraft | None:
        """The reservation the form describes, or None while it is invalid."""
        if not self.validate():
            return None
        station_id = self.selected_station_id()
        connector_id = self.selected_connector_id()
        if station_id is None or connector_id is None:  # pragma: no cover - validated above
            return None
        parent = self.parent_edit.text().strip() or None
        station = self._selected_station()
        v201 = station is not None and station.ocpp_version is OcppVersion.V201
        return ReservationDraft(
            station_id=station_id,
            connector_id=connector_id,
            id_tag=self.id_tag_edit.text().strip(),
            parent_id_tag=parent,
            expiry_date=self.expiry(),
            reservation_id=int(self.reservation_id_edit.text().strip()),
            connector_type=self.selected_connector_type() if v201 else None,
            id_token_type=self.selected_id_token_type() if v201 else None,
            group_id_token_type=self.selected_group_token_type() if v201 and parent else None,
        )

    # --- sending and answers ----------------------------------------------------------------

    def send(self) -> None:
        """Ask for the reservation (the window sends it without blocking)."""
        self._id_tag_quiet = False  # a send was tried: every problem is shown now
        if self._attempts.waiting(self.selected_station_id()):
            # One ReserveNow at a time per station (a double click sends once); the other
            # stations do not wait for this one.
            self.validate()
            return
        if not self._reservation_id_edited:
            self.refresh_reservation_id()  # the counter may have moved since it was shown
        draft = self.draft()
        if draft is None:
            return
        known = (
            None
            if draft.reservation_id is None
            else self._stations.reservation(draft.station_id, draft.reservation_id)
        )
        self._attempts.start(draft, known.created_at if known is not None else None)
        self.sig_send_requested.emit(draft)
        if draft.reservation_id is not None:
            self._lowest_next_id = max(self._lowest_next_id, draft.reservation_id + 1)
        self._reservation_id_edited = False
        self.refresh_reservation_id()
        self._show_attempt()

    def show_record(self, record: ReservationRecord) -> None:
        """Follow a record if it is an attempt this form sent (the last one per station).

        That station's Send works again once it answered (or did not). A reservation id may
        be reused: only the exact attempt (station, id, created_at) counts, never an older
        reservation with the same id that the new one replaces.
        """
        if self._attempts.follow(record) is None:
            return
        self._show_attempt()
        if record.state is ReservationState.SENDING:
            self.validate()
        else:
            # The counter moved on: offer the next id (unless the technician typed one).
            self.refresh_reservation_id()

    def show_failure(self, draft: ReservationDraft, text: str) -> None:
        """Sending ``draft`` failed inside the console (not an answer from the station)."""
        if self._attempts.fail(draft, text) is None:
            return
        self._show_attempt()
        self.validate()

    def in_flight(self, station_id: str | None = None) -> bool:
        """A ReserveNow from this form to ``station_id`` (None: to any station) is unanswered."""
        if station_id is None:
            return bool(self._attempts.waiting_stations())
        return self._attempts.waiting(station_id)

    def answer_text(self) -> str:
        return self.answer_label.text()

    def _show_attempt(self) -> None:
        """Show the chosen station's last attempt (nothing if the form sent none there)."""
        attempt = self._attempts.of(self.selected_station_id())
        if attempt is None:
            self.answer_icon.clear()
            self.answer_label.clear()
            self.answer_label.setVisible(False)
        else:
            self._show(*self._attempt_text(attempt))
        others = [s for s in self._attempts.waiting_stations() if s != self.selected_station_id()]
        show_message(
            self.waiting_label,
            f"Still waiting for an answer from {', '.join(others)}" if others else "",
        )

    def _attempt_text(self, attempt: SentAttempt) -> tuple[Look, str]:
        draft, record = attempt.draft, attempt.record
        if attempt.failure is not None:
            return reservation_state_look(ReservationState.ERROR), attempt.failure
        if record is None:
            return (
                reservation_state_look(ReservationState.SENDING),
                f"Reservation {draft.reservation_id}: sending to {draft.station_id}…",
            )
        text = reservation_answer_text(record)
        if record.ocpp_version is OcppVersion.V201:
            meaning = refusal_meaning_201(record) or refusal_meaning(record)
        else:
            connector = self._stations.connector(record.station_id, record.connector_id)
            meaning = refusal_meaning(record, connector)
        return reservation_state_look(record.state), f"{text}\n{meaning}" if meaning else text

    def _show(self, look: Look, text: str) -> None:
        self.answer_icon.setPixmap(look.icon().pixmap(18, 18))
        self.answer_label.setText(text)
        self.answer_label.setVisible(True)
        self.answer_label.setStyleSheet(
            f"color: {look.screen_foreground}; background: {look.screen_background};"
        )


def _target(station: StationSnapshot | None) -> str:
    """What a reservation names on this station: "EVSE" (2.0.1) or "connector" (1.6)."""
    if station is not None and station.ocpp_version is OcppVersion.V201:
        return "EVSE"
    return "connector"


def _token_type_combo(name: str) -> QComboBox:
    combo = QComboBox()
    combo.setObjectName(name)
    combo.setToolTip("The token's type (IdTokenEnumType)")
    for kind in IdTokenType:
        combo.addItem(kind.value, kind)
    return combo


def _type_row(combo: QComboBox) -> QWidget:
    """ "type [ISO14443 v]": a token's type chooser, under the token."""
    row = QWidget()
    layout = QHBoxLayout(row)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.setSpacing(6)
    label = QLabel("type")
    label.setBuddy(combo)
    layout.addWidget(label)
    layout.addWidget(combo, 1)
    return row


def _station_label(station: StationSnapshot) -> str:
    return station.station_id if station.connected else f"{station.station_id} (offline)"
