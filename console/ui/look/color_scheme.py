"""Light and dark: the window follows the system's colour scheme, also when it changes.

Qt 6.5+ reports the scheme (``QStyleHints.colorScheme``). Fusion takes the platform's dark
palette where the platform gives one; where it does not (some Linux desktops), a dark
palette is set here. The style sheet gets its dark overrides, and the state colours of
:mod:`console.ui.look.presentation` pick their dark pair (views repaint with them).
"""

from __future__ import annotations

import logging

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

from console.ui.look.presentation import is_dark_scheme
from console.ui.look.resources import resource_path, style_sheet

__all__ = ["apply_color_scheme", "dark_palette", "follow_color_scheme", "scheme_style_sheet"]

_log = logging.getLogger(__name__)


def dark_palette() -> QPalette:
    """A calm dark palette for Fusion (used when the platform has none)."""
    palette = QPalette()
    window, base, text = QColor("#202327"), QColor("#181a1d"), QColor("#e6e8eb")
    disabled = QColor("#7d838b")
    roles = {
        QPalette.ColorRole.Window: window,
        QPalette.ColorRole.WindowText: text,
        QPalette.ColorRole.Base: base,
        QPalette.ColorRole.AlternateBase: QColor("#262a2f"),
        QPalette.ColorRole.ToolTipBase: QColor("#2b2f34"),
        QPalette.ColorRole.ToolTipText: text,
        QPalette.ColorRole.PlaceholderText: disabled,
        QPalette.ColorRole.Text: text,
        QPalette.ColorRole.Button: QColor("#2b2f34"),
        QPalette.ColorRole.ButtonText: text,
        QPalette.ColorRole.BrightText: QColor("#ff6b6b"),
        QPalette.ColorRole.Link: QColor("#8cb8f0"),
        QPalette.ColorRole.Highlight: QColor("#2d4f7c"),
        QPalette.ColorRole.HighlightedText: QColor("#ffffff"),
        # The 3D roles too: left at Qt's light defaults, the line under the bottom area's
        # tabs (and other frames) shows white on the dark window.
        QPalette.ColorRole.Light: QColor("#3b4046"),
        QPalette.ColorRole.Midlight: QColor("#31353a"),
        QPalette.ColorRole.Mid: QColor("#26292d"),
        QPalette.ColorRole.Dark: QColor("#141618"),
        QPalette.ColorRole.Shadow: QColor("#0b0c0d"),
    }
    for role, colour in roles.items():
        palette.setColor(role, colour)
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText):
        palette.setColor(QPalette.ColorGroup.Disabled, role, disabled)
    palette.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.WindowText, disabled)
    return palette


def scheme_style_sheet(dark: bool) -> str:
    """The application style sheet, with the dark overrides when ``dark``."""
    base = style_sheet()
    if not dark:
        return base
    try:
        return base + "\n" + resource_path("style-dark.qss").read_text(encoding="utf-8")
    except OSError:
        _log.warning("dark style sheet not found; the light one is used")
        return base


def apply_color_scheme(app: QApplication) -> bool:
    """Set the palette and style sheet of the current scheme; True when dark."""
    dark = is_dark_scheme()
    if dark and app.palette().window().color().lightness() >= 128:
        app.setPalette(dark_palette())
    elif not dark and app.palette().window().color().lightness() < 128:
        app.setPalette(app.style().standardPalette())
    app.setStyleSheet(scheme_style_sheet(dark))
    _log.info("colour scheme: %s", "dark" if dark else "light")
    return dark


def follow_color_scheme(app: QApplication) -> None:
    """Apply the scheme now and whenever the system switches (e.g. at sunset)."""
    apply_color_scheme(app)

    def on_changed(_scheme: Qt.ColorScheme) -> None:
        apply_color_scheme(app)
        # Cells take their colours when painted: repaint every window.
        for widget in app.topLevelWidgets():
            widget.update()

    app.styleHints().colorSchemeChanged.connect(on_changed)
