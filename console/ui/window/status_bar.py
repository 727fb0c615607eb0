"""The status bar's "Stations connect to" part: the URLs to give stations, and a copy button.

A technician reads the first URL off the bar and types it into a station's configuration
page, so the first one is the address the site network can reach (the LAN), the loopback
address last (it only works on this computer), and ``<station id>`` shows what to append.
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QGuiApplication, QResizeEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QToolButton, QWidget

from console.central.site_urls import lan_first

__all__ = ["STATION_ID_PLACEHOLDER", "StationUrlsBar"]

STATION_ID_PLACEHOLDER = "<station id>"


def _with_placeholder(url: str) -> str:
    return url + STATION_ID_PLACEHOLDER if url.endswith("/") else url


class _ElidingLabel(QLabel):
    """A label that shows as much of its text as its width allows, ending in "…".

    Too narrow for the whole text, it shows the shorter one if that fits (the URLs without
    "Stations connect to:"): the first URL is what must be read whole.
    """

    def __init__(self) -> None:
        super().__init__()
        self._full_text = ""
        self._short_text = ""

    def set_full_text(self, text: str, short_text: str = "") -> None:
        self._full_text = text
        self._short_text = short_text
        self.updateGeometry()
        self._elide()

    def width_for(self, text: str) -> int:
        """The label's width that shows ``text`` whole."""
        margins = self.contentsMargins()
        return self.fontMetrics().horizontalAdvance(text) + margins.left() + margins.right() + 4

    def sizeHint(self) -> QSize:
        return QSize(self.width_for(self._full_text), super().sizeHint().height())

    def minimumSizeHint(self) -> QSize:
        return QSize(40, super().minimumSizeHint().height())

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._elide()

    def _elide(self) -> None:
        room = max(self.contentsRect().width(), 20)
        metrics = self.fontMetrics()
        text = self._full_text
        if self._short_text and metrics.horizontalAdvance(text) > room:
            first_whole = self._full_text[: len(self._full_text) - len(self._short_text)]
            first_whole += self._short_text.split("   ")[0]
            if metrics.horizontalAdvance(first_whole) > room:
                text = self._short_text
        elided = metrics.elidedText(text, Qt.TextElideMode.ElideRight, room)
        if elided != self.text():
            self.setText(elided)


class StationUrlsBar(QWidget):
    """The station URLs, the LAN one first, elided to ``max_width``, and a copy button.

    The button copies the first URL (without the placeholder: the station id is pasted or
    typed after it). The full list is in the tooltip.
    """

    sig_copied = Signal(str)
    """A URL was copied to the clipboard (the window says so in the status bar)."""

    def __init__(self, *, max_width: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("station_urls")
        self._urls: list[str] = []
        self._full_text = ""
        self.label = _ElidingLabel()
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.copy_button = QToolButton()
        self.copy_button.setObjectName("copy_station_url")
        self.copy_button.setText("Copy URL")
        self.copy_button.setAutoRaise(True)
        self.copy_button.setEnabled(False)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.copy_button)
        self.setMaximumWidth(max_width)
        self.copy_button.clicked.connect(self.copy_first_url)

    def set_urls(self, urls: list[str]) -> None:
        """Show these URLs (any order: the LAN ones are put first)."""
        ordered = lan_first(urls)
        if ordered != self._urls or not self._full_text:
            self._show(ordered)

    def _show(self, ordered: list[str]) -> None:
        self._urls = ordered
        shown = [_with_placeholder(url) for url in ordered]
        self._full_text = "Stations connect to: " + "   ".join(shown) if shown else ""
        self.label.set_full_text(self._full_text, "   ".join(shown))
        tooltip = (
            "Configure each station with one of these URLs followed by its id"
            + (f", e.g. {ordered[0]}CP-01" if ordered and ordered[0].endswith("/") else "")
            + ":\n"
            + "\n".join(shown)
        )
        self.label.setToolTip(tooltip)
        self.setToolTip(tooltip)
        self.copy_button.setEnabled(bool(ordered))
        self.copy_button.setToolTip(
            f"Copy {ordered[0]} to the clipboard; add the station's id after it"
            if ordered
            else "No URL yet: the Central System is not listening"
        )

    def width_for_first_url(self) -> int:
        """The width that shows the first URL (and its ``<station id>``) whole."""
        if not self._urls:
            return 0
        layout = self.layout()
        spacing = layout.spacing() if layout is not None else 0
        return (
            self.label.width_for(_with_placeholder(self._urls[0]))
            + spacing
            + self.copy_button.sizeHint().width()
        )

    def urls(self) -> list[str]:
        """The URLs in the order shown."""
        return list(self._urls)

    def full_text(self) -> str:
        return self._full_text

    def text(self) -> str:
        """What the label shows (may end in "…")."""
        return self.label.text()

    def copy_first_url(self) -> None:
        """Put the first URL on the clipboard."""
        if not self._urls:
            return
        clipboard = QGuiApplication.clipboard()
        clipboard.setText(self._urls[0])
        self.sig_copied.emit(self._urls[0])
