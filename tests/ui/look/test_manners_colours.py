"""Light and dark: state colours, palette and style sheet follow the system's scheme."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from console.central.model import ReservationState
from console.ocpp.enums import ChargePointStatus
from console.ui.look.color_scheme import apply_color_scheme, dark_palette, follow_color_scheme
from console.ui.look.presentation import (
    connector_status_look,
    is_dark_scheme,
    reservation_state_look,
)

pytestmark = pytest.mark.qt_log_ignore("This plugin does not support")


def contrast(foreground: str, background: str) -> float:
    def luminance(colour: str) -> float:
        channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    high, low = sorted((luminance(foreground), luminance(background)), reverse=True)
    return (high + 0.05) / (low + 0.05)


@pytest.fixture
def restore_look(qapp: QApplication) -> Iterator[None]:
    palette, sheet = qapp.palette(), qapp.styleSheet()
    yield
    qapp.styleHints().unsetColorScheme()
    qapp.setPalette(palette)
    qapp.setStyleSheet(sheet)


def every_look():
    yield from (connector_status_look(status) for status in [*ChargePointStatus, None])
    yield from (reservation_state_look(state) for state in ReservationState)


def test_every_state_is_readable_in_both_schemes() -> None:
    for look in every_look():
        assert contrast(look.foreground, look.background) >= 4.5, look.text
        assert contrast(look.dark_foreground, look.dark_background) >= 7.0, look.text
        # the dark pair really is dark, the light pair light
        assert contrast(look.dark_background, "#000000") < contrast(look.background, "#000000")


def test_the_dark_scheme_switches_colours_palette_and_style(
    qapp: QApplication, restore_look: None
) -> None:
    follow_color_scheme(qapp)
    look = reservation_state_look(ReservationState.ACCEPTED)
    qapp.styleHints().setColorScheme(Qt.ColorScheme.Light)
    apply_color_scheme(qapp)
    assert not is_dark_scheme()
    assert look.foreground_color().name() == look.foreground
    assert qapp.palette().window().color().lightness() >= 128
    assert "#262a2f" not in qapp.styleSheet()

    qapp.styleHints().setColorScheme(Qt.ColorScheme.Dark)
    if qapp.styleHints().colorScheme() == Qt.ColorScheme.Unknown:
        # The offscreen plugin knows no scheme: then the palette says, as on old desktops.
        qapp.setPalette(dark_palette())
    assert apply_color_scheme(qapp)
    assert is_dark_scheme()
    assert look.foreground_color().name() == look.dark_foreground
    assert look.background_color().name() == look.dark_background
    assert look.screen_foreground == look.dark_foreground
    assert look.foreground == "#1d6b33"  # paper (the report) keeps the light colours
    assert qapp.palette().window().color().lightness() < 128
    assert "#262a2f" in qapp.styleSheet()  # the dark overrides are appended
