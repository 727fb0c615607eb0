"""The words, colours and icons the window uses for statuses, answers and times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QIcon

from console.central.model import CancelOutcome, ReservationRecord, ReservationState
from console.ocpp.enums import ChargePointStatus
from console.ocpp.reservation import CancelReservationStatus, ReservationStatus
from console.ui.look.presentation import (
    cancel_outcome_text,
    connector_status_look,
    format_age,
    format_countdown,
    format_latency,
    reservation_answer_text,
    reservation_state_look,
)

NOW = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)


def attempt(state: ReservationState, **fields: object) -> ReservationRecord:
    return ReservationRecord(
        reservation_id=12,
        station_id="CP-03",
        connector_id=2,
        id_tag="CARD",
        parent_id_tag=None,
        expiry_date=NOW + timedelta(minutes=30),
        created_at=NOW,
        state=state,
        **fields,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize(
    ("record", "expected"),
    [
        (
            attempt(ReservationState.ACCEPTED, confirmation=ReservationStatus.ACCEPTED),
            "Reservation 12 on CP-03 connector 2: Accepted",
        ),
        (
            attempt(
                ReservationState.ERROR,
                error_code="NotSupported",
                error="Reservation profile not supported",
            ),
            "Reservation 12 on CP-03 connector 2: Error (CALLERROR) — NotSupported "
            "— Reservation profile not supported",
        ),
        (
            attempt(ReservationState.NO_RESPONSE, error="no answer within 30 s"),
            "Reservation 12 on CP-03 connector 2: No answer (timeout) — no answer within 30 s",
        ),
        (
            attempt(ReservationState.OFFLINE, error="CP-03 is not connected"),
            "Reservation 12 on CP-03 connector 2: Station offline — CP-03 is not connected",
        ),
        (
            attempt(ReservationState.USED, confirmation=ReservationStatus.ACCEPTED),
            "Reservation 12 on CP-03 connector 2: Used (station answered Accepted)",
        ),
    ],
)
def test_answer_texts_say_what_happened(record: ReservationRecord, expected: str) -> None:
    assert reservation_answer_text(record) == expected


def test_cancel_texts() -> None:
    assert (
        cancel_outcome_text(CancelOutcome(12, "CP-03", CancelReservationStatus.REJECTED))
        == "Cancel reservation 12 on CP-03: Rejected"
    )
    assert (
        cancel_outcome_text(
            CancelOutcome(12, "CP-03", None, error="no answer within 30 s", error_code=None)
        )
        == "Cancel reservation 12 on CP-03: no answer within 30 s"
    )


def test_every_status_and_state_has_words_and_an_icon(qapp) -> None:
    for status in [*ChargePointStatus, None]:
        look = connector_status_look(status)
        assert look.text
        assert not look.icon().isNull()
    for state in ReservationState:
        look = reservation_state_look(state)
        assert look.text
        assert not look.icon().isNull()
        assert look.foreground_color().isValid()


def test_times() -> None:
    assert format_countdown(NOW + timedelta(minutes=1, seconds=5), NOW) == "1:05 left"
    assert format_countdown(NOW + timedelta(hours=2, seconds=1), NOW) == "2:00:01 left"
    assert format_countdown(NOW - timedelta(seconds=1), NOW) == "expired"
    assert format_age(None, NOW) == "—"
    assert format_age(NOW - timedelta(seconds=4), NOW) == "4 s ago"
    assert format_age(NOW - timedelta(minutes=125), NOW) == "2 h 5 min ago"


def test_latency_shows_seconds_from_one_second_on() -> None:
    assert format_latency(None) == ""
    assert format_latency(0.0123) == "12 ms"
    assert format_latency(40.148) == "40.1 s"
    assert format_latency(125.4) == "125 s"


def test_a_look_gives_a_cell_its_icon_and_colours_and_nothing_else(qapp) -> None:
    look = reservation_state_look(ReservationState.REJECTED)
    icon = look.role_data(Qt.ItemDataRole.DecorationRole)
    assert isinstance(icon, QIcon)
    assert not icon.isNull()
    assert look.role_data(Qt.ItemDataRole.ForegroundRole) == look.foreground_color()
    assert look.role_data(Qt.ItemDataRole.BackgroundRole) == look.background_color()
    for role in (
        Qt.ItemDataRole.DisplayRole,
        Qt.ItemDataRole.ToolTipRole,
        Qt.ItemDataRole.UserRole,
    ):
        assert look.role_data(role) is None
