"""The reservation form checks every field as one types and only then lets one send."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from PySide6.QtCore import Qt

from console.central.model import ReservationRecord, ReservationState, StationSnapshot
from console.ocpp.enums import ChargePointErrorCode, ChargePointStatus
from console.ocpp.reservation import ReservationStatus
from console.ui.change_feed import ChangeFeed
from console.ui.reservations.reservation_form import ReservationDraft, ReservationForm
from console.ui.stations.station_model import StationTreeModel
from tests.ui.fakes import FakeCentralSystem

# The offscreen platform says this on every show(); it is not the window's doing.
pytestmark = pytest.mark.qt_log_ignore("This plugin does not support")


@pytest.fixture
def fake() -> FakeCentralSystem:
    central = FakeCentralSystem()
    central.add_site(2, 2)
    central.set_station("CP-02", reserve_connector_zero_supported=False)
    central.set_station("CP-03", reserve_connector_zero_supported=None, number_of_connectors=1)
    central.set_connector("CP-03", 1, status=ChargePointStatus.AVAILABLE)
    central.set_station("CP-04", connected=False)
    return central


@pytest.fixture
def form(qtbot, fake: FakeCentralSystem) -> ReservationForm:
    model = StationTreeModel()
    feed = ChangeFeed(fake)
    feed.sig_stations.connect(model.apply_stations)
    feed.sig_connectors.connect(model.apply_connectors)
    feed.start()
    widget = ReservationForm(model, fake.peek_reservation_id)
    widget._test_refs = (model, feed)  # type: ignore[attr-defined]  # keep them alive
    qtbot.addWidget(widget)
    widget.show()
    return widget


def fill_valid(qtbot, form: ReservationForm) -> None:
    form.set_target("CP-01", 1)
    form.id_tag_edit.clear()
    qtbot.keyClicks(form.id_tag_edit, "TAG-0001")


def test_lists_online_stations_and_prefills_the_next_id(form: ReservationForm) -> None:
    listed = [form.station_combo.itemData(i) for i in range(form.station_combo.count())]
    assert listed == ["CP-01", "CP-02", "CP-03"]  # CP-04 is offline
    assert form.reservation_id_edit.text() == "1"
    # an empty idTag is the only thing wrong with a fresh form
    assert set(form.validation_errors()) == {"id_tag"}
    assert not form.send_button.isEnabled()


def test_id_tag_is_checked_as_one_types(qtbot, form: ReservationForm) -> None:
    fill_valid(qtbot, form)
    assert form.validation_errors() == {}
    assert form.send_button.isEnabled()
    qtbot.keyClicks(form.id_tag_edit, "X" * 13)  # 21 characters now
    assert form.validation_errors()["id_tag"] == "idTag has 21 characters; at most 20"
    assert form.error_labels["id_tag"].isVisible()
    assert form.id_tag_edit.property("invalid") is True
    assert not form.send_button.isEnabled()
    qtbot.keyClick(form.id_tag_edit, Qt.Key.Key_Backspace)
    assert "id_tag" not in form.validation_errors()
    assert not form.error_labels["id_tag"].isVisible()
    assert form.send_button.isEnabled()
    form.id_tag_edit.clear()
    assert form.validation_errors()["id_tag"] == "idTag is required"


def test_parent_id_tag_is_optional_but_bounded(qtbot, form: ReservationForm) -> None:
    fill_valid(qtbot, form)
    qtbot.keyClicks(form.parent_edit, "P" * 20)
    assert form.validation_errors() == {}
    qtbot.keyClicks(form.parent_edit, "P")
    assert form.validation_errors() == {
        "parent_id_tag": "parentIdTag has 21 characters; at most 20"
    }
    assert not form.send_button.isEnabled()


def test_expiry_must_be_in_the_future_and_quick_choices_set_it(
    qtbot, form: ReservationForm
) -> None:
    fill_valid(qtbot, form)
    form.set_expiry(datetime.now(UTC) - timedelta(minutes=1))
    assert form.validation_errors() == {"expiry": "Expiry must be in the future"}
    assert not form.send_button.isEnabled()
    # rounded up to a whole minute: at least the chosen time from the click on
    clicked = datetime.now(UTC)
    qtbot.mouseClick(form.quick_buttons["+1 h"], Qt.MouseButton.LeftButton)
    assert form.validation_errors() == {}
    left = form.expiry() - clicked
    assert timedelta(hours=1) <= left < timedelta(minutes=61)
    clicked = datetime.now(UTC)
    qtbot.mouseClick(form.quick_buttons["+15 min"], Qt.MouseButton.LeftButton)
    left = form.expiry() - clicked
    assert timedelta(minutes=15) <= left < timedelta(minutes=16)


def test_reservation_id_must_be_a_whole_number(qtbot, form: ReservationForm) -> None:
    fill_valid(qtbot, form)
    form.reservation_id_edit.clear()
    qtbot.keyClicks(form.reservation_id_edit, "12a")
    assert form.validation_errors() == {"reservation_id": "Reservation id must be a whole number"}
    form.reservation_id_edit.clear()
    qtbot.keyClicks(form.reservation_id_edit, "99999999999")
    assert form.validation_errors() == {
        "reservation_id": "Reservation id must fit a 32-bit integer"
    }
    form.reservation_id_edit.clear()
    assert form.validation_errors() == {"reservation_id": "Reservation id is required"}
    qtbot.keyClicks(form.reservation_id_edit, "42")
    assert form.validation_errors() == {}


def test_connector_zero_only_where_the_station_supports_it(qtbot, form: ReservationForm) -> None:
    fill_valid(qtbot, form)
    form.set_target("CP-01", 0)
    assert form.selected_connector_id() == 0
    assert form.validation_errors() == {}
    assert not form.connector_hint.isVisible()

    form.set_target("CP-02", None)
    zero_item = form.connector_combo.model().item(0)
    assert not zero_item.isEnabled()
    assert "ReserveConnectorZeroSupported = false" in form.connector_hint.text()
    assert form.connector_hint.isVisible()
    form.connector_combo.setCurrentIndex(0)  # forced: the check still refuses it
    assert "ReserveConnectorZeroSupported = false" in form.validation_errors()["connector"]

    form.set_target("CP-03", None)
    assert "has not said" in form.connector_hint.text()
    assert [form.connector_combo.itemData(i) for i in range(form.connector_combo.count())] == [
        0,
        1,
    ]


def test_a_station_going_offline_is_flagged(qtbot, form: ReservationForm, fake) -> None:
    fill_valid(qtbot, form)
    fake.set_station("CP-01", connected=False)
    feed = form._test_refs[1]  # type: ignore[attr-defined]
    with qtbot.waitSignal(feed.sig_flushed, timeout=2000):
        pass
    assert form.selected_station_id() == "CP-01"
    assert form.validation_errors() == {"station": "CP-01 is offline"}
    assert not form.send_button.isEnabled()


def test_send_emits_the_draft_and_shows_the_answer(qtbot, form: ReservationForm) -> None:
    fill_valid(qtbot, form)
    qtbot.keyClicks(form.parent_edit, "FLEET")
    form.set_target("CP-01", 2)
    with qtbot.waitSignal(form.sig_send_requested, timeout=1000) as blocker:
        qtbot.mouseClick(form.send_button, Qt.MouseButton.LeftButton)
    draft = blocker.args[0]
    assert isinstance(draft, ReservationDraft)
    assert (draft.station_id, draft.connector_id, draft.id_tag) == ("CP-01", 2, "TAG-0001")
    assert draft.parent_id_tag == "FLEET"
    assert draft.reservation_id == 1
    assert "sending" in form.answer_text()
    # the counter has not moved yet, but the form never offers the id it just sent
    assert form.reservation_id_edit.text() == "2"
    record = ReservationRecord(
        reservation_id=1,
        station_id="CP-01",
        connector_id=2,
        id_tag="TAG-0001",
        parent_id_tag="FLEET",
        expiry_date=draft.expiry_date,
        created_at=datetime.now(UTC),
        state=ReservationState.OCCUPIED,
        confirmation=ReservationStatus.OCCUPIED,
    )
    form.show_record(record)  # the answer, as the feed brings it
    assert "Occupied" in form.answer_text()
    # an answer about another reservation does not overwrite this one
    form.show_record(
        ReservationRecord(
            reservation_id=7,
            station_id="CP-01",
            connector_id=1,
            id_tag="OTHER",
            parent_id_tag=None,
            expiry_date=draft.expiry_date,
            created_at=datetime.now(UTC),
            state=ReservationState.ACCEPTED,
        )
    )
    assert "Occupied" in form.answer_text()


def test_enter_sends_a_valid_form_and_not_an_invalid_one(qtbot, form: ReservationForm) -> None:
    with qtbot.assertNotEmitted(form.sig_send_requested):
        qtbot.keyClick(form.id_tag_edit, Qt.Key.Key_Return)  # idTag still empty
    fill_valid(qtbot, form)
    with qtbot.waitSignal(form.sig_send_requested, timeout=1000):
        qtbot.keyClick(form.id_tag_edit, Qt.Key.Key_Return)


def record_for(draft: ReservationDraft, state: ReservationState, **fields: object):
    values: dict[str, object] = {
        "reservation_id": draft.reservation_id,
        "station_id": draft.station_id,
        "connector_id": draft.connector_id,
        "id_tag": draft.id_tag,
        "parent_id_tag": draft.parent_id_tag,
        "expiry_date": draft.expiry_date,
        "created_at": datetime.now(UTC),
        "state": state,
    }
    values.update(fields)
    return ReservationRecord(**values)  # type: ignore[arg-type]


def test_a_reused_id_shows_only_this_attempt_and_warns_first(
    qtbot, form: ReservationForm, fake: FakeCentralSystem
) -> None:
    model = form._stations
    older = ReservationRecord(
        reservation_id=1,
        station_id="CP-01",
        connector_id=2,
        id_tag="OLD",
        parent_id_tag=None,
        expiry_date=datetime.now(UTC) + timedelta(hours=1),
        created_at=datetime.now(UTC) - timedelta(minutes=5),
        state=ReservationState.ACCEPTED,
        confirmation=ReservationStatus.ACCEPTED,
    )
    model.apply_reservations([older])
    fill_valid(qtbot, form)
    form.reservation_id_edit.setText("1")
    form._reservation_id_edited = True
    form.validate()
    # a visible note, not an error: sending stays possible
    assert form.reservation_id_hint.isVisible()
    assert form.reservation_id_hint.text() == (
        "Replaces reservation 1 on this station (connector 2)"
    )
    assert form.send_button.isEnabled()
    with qtbot.waitSignal(form.sig_send_requested, timeout=1000) as blocker:
        form.send()
    draft = blocker.args[0]
    assert (draft.connector_id, draft.reservation_id) == (1, 1)
    sending = record_for(draft, ReservationState.SENDING)
    form.show_record(sending)
    # the older reservation with the same id ends because of the new one: not our answer
    form.show_record(replace(older, state=ReservationState.ENDED, error="replaced"))
    assert "connector 2" not in form.answer_text()
    accepted = replace(
        sending, state=ReservationState.ACCEPTED, confirmation=ReservationStatus.ACCEPTED
    )
    form.show_record(accepted)
    assert "Accepted" in form.answer_text()
    form.show_record(replace(older, state=ReservationState.ENDED, error="replaced"))
    assert "Accepted" in form.answer_text()


def test_send_is_disabled_while_the_request_is_in_flight(qtbot, form: ReservationForm) -> None:
    fill_valid(qtbot, form)
    drafts: list[ReservationDraft] = []
    form.sig_send_requested.connect(drafts.append)
    qtbot.mouseClick(form.send_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(form.send_button, Qt.MouseButton.LeftButton)
    form.send()  # Enter, too, sends nothing more
    assert len(drafts) == 1
    assert not form.send_button.isEnabled()
    assert form.send_button.text() == "Sending…"
    form.show_record(
        record_for(drafts[0], ReservationState.ACCEPTED, confirmation=ReservationStatus.ACCEPTED)
    )
    assert form.send_button.isEnabled()
    assert form.send_button.text() == "Send ReserveNow"
    form.send()
    assert len(drafts) == 2
    form.show_failure(drafts[1], "Reserving on CP-01 failed: boom")
    assert form.send_button.isEnabled()


def test_expiry_is_sent_exactly_as_shown_to_the_minute(qtbot, form: ReservationForm) -> None:
    fill_valid(qtbot, form)
    form.quick_buttons["+15 min"].click()
    assert form.expiry().second == 0
    assert form.expiry().microsecond == 0
    # a typed or picked time keeps no hidden seconds either
    shown = form.expiry_edit.dateTime()
    form.expiry_edit.setDateTime(shown.addSecs(37).addMSecs(250))
    assert form.expiry().second == 0
    assert form.expiry_edit.dateTime().time().msec() == 0
    with qtbot.waitSignal(form.sig_send_requested, timeout=1000) as blocker:
        form.send()
    sent = blocker.args[0].expiry_date
    assert sent.second == 0
    assert sent.microsecond == 0
    assert sent.astimezone().strftime("%Y-%m-%d %H:%M") == form.expiry_edit.text()


def test_reopening_with_a_past_expiry_starts_at_now_plus_15_minutes(form: ReservationForm) -> None:
    form.set_expiry(datetime.now(UTC) - timedelta(minutes=3))
    assert "expiry" in form.validation_errors()
    reopened = datetime.now(UTC)
    form.prepare()
    assert "expiry" not in form.validation_errors()
    ahead = form.expiry() - reopened
    assert timedelta(minutes=15) <= ahead < timedelta(minutes=16)  # rounded up, never short


def test_enter_in_the_expiry_field_sends(qtbot, form: ReservationForm) -> None:
    fill_valid(qtbot, form)
    with qtbot.waitSignal(form.sig_send_requested, timeout=1000):
        qtbot.keyClick(form.expiry_edit, Qt.Key.Key_Return)


def test_id_tag_spaces_are_trimmed_and_only_spaces_is_empty(qtbot, form: ReservationForm) -> None:
    form.set_target("CP-01", 1)
    qtbot.keyClicks(form.id_tag_edit, "   ")
    assert form.validation_errors()["id_tag"] == "idTag is required"
    assert not form.send_button.isEnabled()
    form.id_tag_edit.setText("  TAG-7 ")
    assert "id_tag" not in form.validation_errors()
    assert form.id_tag_hint.isVisible()
    assert form.id_tag_hint.text() == "Spaces at the ends are removed"
    form.parent_edit.setText(" ")
    with qtbot.waitSignal(form.sig_send_requested, timeout=1000) as blocker:
        form.send()
    assert blocker.args[0].id_tag == "TAG-7"
    assert blocker.args[0].parent_id_tag is None


def test_no_station_means_no_connector_choice(qtbot) -> None:
    empty = FakeCentralSystem()
    model = StationTreeModel()
    widget = ReservationForm(model, empty.peek_reservation_id)
    qtbot.addWidget(widget)
    assert widget.selected_station_id() is None
    assert widget.connector_combo.count() == 0
    assert not widget.connector_combo.isEnabled()
    model.apply_stations(
        [StationSnapshot(station_id="CP-09", connected=True, number_of_connectors=2)]
    )
    assert widget.selected_station_id() == "CP-09"
    assert widget.connector_combo.isEnabled()
    assert widget.selected_connector_id() == 1


def test_reopening_offers_the_current_next_id(
    qtbot, form: ReservationForm, fake: FakeCentralSystem
) -> None:
    assert form.reservation_id_edit.text() == "1"
    fake._next_id = 5  # reservations made meanwhile (another window, the history)
    form.prepare()
    assert form.reservation_id_edit.text() == "5"


def send_to(qtbot, form: ReservationForm, station_id: str, connector_id: int) -> ReservationDraft:
    form.set_target(station_id, connector_id)
    with qtbot.waitSignal(form.sig_send_requested, timeout=1000) as blocker:
        form.send()
    draft: ReservationDraft = blocker.args[0]
    return draft


def test_a_waiting_station_holds_up_only_itself(qtbot, form: ReservationForm) -> None:
    fill_valid(qtbot, form)
    slow = send_to(qtbot, form, "CP-01", 1)
    sending = record_for(slow, ReservationState.SENDING)
    form.show_record(sending)
    assert not form.send_button.isEnabled()
    assert form.send_button.text() == "Sending…"

    # another station is usable at once, and says which one is still waiting
    form.set_target("CP-02", 1)
    assert form.send_button.isEnabled()
    assert form.send_button.text() == "Send ReserveNow"
    assert form.waiting_label.text() == "Still waiting for an answer from CP-01"
    quick = send_to(qtbot, form, "CP-02", 1)
    assert quick.reservation_id == slow.reservation_id + 1
    form.show_record(
        record_for(quick, ReservationState.ACCEPTED, confirmation=ReservationStatus.ACCEPTED)
    )
    assert "CP-02 connector 1: Accepted" in form.answer_text()
    assert form.send_button.isEnabled()
    assert form.in_flight("CP-01")

    # the waiting one still waits, and shows it
    form.set_target("CP-01", 1)
    assert not form.send_button.isEnabled()
    assert form.answer_text() == f"Reservation {slow.reservation_id}: sending to CP-01…"
    assert not form.waiting_label.isVisible()
    form.show_record(replace(sending, state=ReservationState.NO_RESPONSE, error="no answer"))
    assert form.send_button.isEnabled()
    assert not form.in_flight()


def test_a_station_switch_never_leaves_another_stations_answer(
    qtbot, form: ReservationForm
) -> None:
    fill_valid(qtbot, form)
    draft = send_to(qtbot, form, "CP-01", 1)
    form.show_record(
        record_for(draft, ReservationState.OCCUPIED, confirmation=ReservationStatus.OCCUPIED)
    )
    assert "CP-01 connector 1: Occupied" in form.answer_text()
    form.set_target("CP-02", 1)
    assert form.answer_text() == ""
    assert not form.answer_label.isVisible()
    form.set_target("CP-01", 2)
    assert "CP-01 connector 1: Occupied" in form.answer_text()  # that station's own answer


def test_the_automatic_id_is_read_again_when_shown_and_before_sending(
    qtbot, form: ReservationForm, fake: FakeCentralSystem
) -> None:
    fill_valid(qtbot, form)
    assert form.reservation_id_edit.text() == "1"
    form.hide()
    fake._next_id = 4  # a check used ids 1-3 meanwhile
    form.show()  # the dock shown again
    assert form.reservation_id_edit.text() == "4"
    fake._next_id = 6  # used while the form was open, no event seen yet
    draft = send_to(qtbot, form, "CP-01", 1)
    assert draft.reservation_id == 6
    # a typed id is the technician's: sent as typed
    form.reservation_id_edit.clear()
    qtbot.keyClicks(form.reservation_id_edit, "42")
    fake._next_id = 9
    form.show_record(
        record_for(draft, ReservationState.ACCEPTED, confirmation=ReservationStatus.ACCEPTED)
    )
    assert form.reservation_id_edit.text() == "42"
    assert send_to(qtbot, form, "CP-02", 1).reservation_id == 42
    assert form.reservation_id_edit.text() == "43"  # never below an id just sent


def test_an_id_active_on_another_station_is_warned_about(qtbot, form: ReservationForm) -> None:
    model = form._stations
    model.apply_reservations(
        [
            ReservationRecord(
                reservation_id=4,
                station_id="CP-02",
                connector_id=1,
                id_tag="OTHER",
                parent_id_tag=None,
                expiry_date=datetime.now(UTC) + timedelta(hours=1),
                created_at=datetime.now(UTC),
                state=ReservationState.ACCEPTED,
                confirmation=ReservationStatus.ACCEPTED,
            )
        ]
    )
    fill_valid(qtbot, form)
    form.reservation_id_edit.clear()
    qtbot.keyClicks(form.reservation_id_edit, "4")
    assert form.reservation_id_hint.isVisible()
    assert form.reservation_id_hint.text() == "Id 4 is active on CP-02 (connector 1)"
    assert form.reservation_id_hint.property("role") == "field-warning"
    assert form.send_button.isEnabled()  # a warning, not a block
    form.set_target("CP-02", 2)
    assert form.reservation_id_hint.text() == (
        "Replaces reservation 4 on this station (connector 1)"
    )
    assert form.send_button.isEnabled()


def test_messages_appearing_while_typing_move_nothing_below(qtbot, form: ReservationForm) -> None:
    form.resize(330, 520)
    form.set_target("CP-01", 1)

    def places() -> dict[str, int]:
        widgets = {
            "parent": form.parent_edit,
            "expiry": form.expiry_edit,
            "reservation id": form.reservation_id_edit,
            "send": form.send_button,
        }
        return {name: w.mapTo(form, w.rect().topLeft()).y() for name, w in widgets.items()}

    qtbot.waitUntil(lambda: form.send_button.y() > 0)
    start = places()
    qtbot.keyClicks(form.id_tag_edit, "X" * 21)  # "idTag has 21 characters; at most 20"
    assert form.error_labels["id_tag"].isVisible()
    qtbot.wait(50)
    assert places() == start
    form.id_tag_edit.clear()
    qtbot.keyClicks(form.id_tag_edit, " TAG ")  # "Spaces at the ends are removed"
    qtbot.keyClicks(form.parent_edit, "P" * 21)
    assert form.id_tag_hint.isVisible()
    assert form.error_labels["parent_id_tag"].isVisible()
    qtbot.wait(50)
    assert places() == start
    send_y = start["send"]
    form.reservation_id_edit.clear()  # "Reservation id is required"
    qtbot.keyClicks(form.reservation_id_edit, "x")  # "... must be a whole number"
    assert form.error_labels["reservation_id"].isVisible()
    qtbot.wait(50)
    assert form.send_button.mapTo(form, form.send_button.rect().topLeft()).y() == send_y
    # choosing a station with a long note at the connector moves nothing either
    form.set_target("CP-02", 1)
    assert form.connector_hint.text().startswith("CP-02 refuses connector 0")
    qtbot.wait(50)
    assert places() == start


def test_no_idtag_problem_is_shown_before_the_idtag_was_typed(qtbot, form: ReservationForm) -> None:
    # not sendable, but nothing red on a fresh form: the Send button's tooltip says why
    assert form.validation_errors() == {"id_tag": "idTag is required"}
    assert not form.send_button.isEnabled()
    assert not form.error_labels["id_tag"].isVisible()
    assert form.id_tag_edit.property("invalid") is not True
    assert form.send_button.toolTip() == "idTag is required"
    # typed in, then emptied: now it is a problem worth showing
    qtbot.keyClicks(form.id_tag_edit, "A")
    qtbot.keyClick(form.id_tag_edit, Qt.Key.Key_Backspace)
    assert form.error_labels["id_tag"].isVisible()
    assert form.error_labels["id_tag"].text() == "idTag is required"
    # reopened empty: quiet again; Enter (a send attempt) shows it
    form.prepare()
    assert not form.error_labels["id_tag"].isVisible()
    with qtbot.assertNotEmitted(form.sig_send_requested):
        qtbot.keyClick(form.reservation_id_edit, Qt.Key.Key_Return)
    assert form.error_labels["id_tag"].isVisible()
    assert form.id_tag_edit.property("invalid") is True


@pytest.mark.parametrize(
    ("now", "minutes", "expected"),
    [
        (datetime(2025, 3, 1, 13, 48, 37, tzinfo=UTC), 15, datetime(2025, 3, 1, 14, 4, tzinfo=UTC)),
        (datetime(2025, 3, 1, 13, 48, 0, tzinfo=UTC), 15, datetime(2025, 3, 1, 14, 3, tzinfo=UTC)),
        (
            datetime(2025, 3, 1, 13, 48, 0, 1, tzinfo=UTC),
            60,
            datetime(2025, 3, 1, 14, 49, tzinfo=UTC),
        ),
    ],
)
def test_quick_expiries_round_up_to_a_whole_minute(
    qtbot, fake: FakeCentralSystem, now: datetime, minutes: int, expected: datetime
) -> None:
    widget = ReservationForm(StationTreeModel(), fake.peek_reservation_id, clock=lambda: now)
    qtbot.addWidget(widget)
    widget.set_expiry_in(minutes)
    assert widget.expiry() == expected  # never less than asked for
    assert widget.expiry() - now >= timedelta(minutes=minutes)


def test_a_faulted_connector_is_announced_before_sending(
    qtbot, form: ReservationForm, fake: FakeCentralSystem
) -> None:
    fake.set_connector(
        "CP-01", 1, status=ChargePointStatus.FAULTED, error_code=ChargePointErrorCode.GROUND_FAILURE
    )
    feed = form._test_refs[1]  # type: ignore[attr-defined]
    with qtbot.waitSignal(feed.sig_flushed, timeout=2000):
        pass
    fill_valid(qtbot, form)
    assert form.connector_hint.isVisible()
    assert form.connector_hint.text() == (
        "Faulted (GroundFailure): the station will answer Faulted"
    )
    assert form.connector_hint.property("role") == "field-warning"
    assert form.send_button.isEnabled()  # the technician may mean to see the answer
    form.set_target("CP-01", 2)
    assert not form.connector_hint.isVisible()


def test_a_refused_answer_says_what_it_means(qtbot, form: ReservationForm) -> None:
    fill_valid(qtbot, form)
    draft = send_to(qtbot, form, "CP-01", 1)
    form.show_record(
        record_for(draft, ReservationState.REJECTED, confirmation=ReservationStatus.REJECTED)
    )
    assert "connector 1: Rejected" in form.answer_text()
    assert "The station is configured not to accept reservations." in form.answer_text()
