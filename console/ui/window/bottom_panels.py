"""The lower panels (reservations, message trace, reservation checks) as tabs of one area.

On a laptop screen (1366x768) the station tree, the reservations table and the trace one
above the other left one trace row and two reservation rows. As tabs of one bottom dock
area, the tree and whichever panel is in front both get useful room; the tabs say what is
behind. The View menu's entries for these panels bring a panel behind another to the front
(a plain dock toggle would hide it instead, which is not what a technician means).
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtWidgets import QDockWidget, QMainWindow, QTabBar, QTabWidget, QWidget

__all__ = ["BOTTOM_MIN_HEIGHT", "BOTTOM_SHARE", "BottomPanels", "in_front"]

BOTTOM_SHARE = 0.45
"""Of the window's height, for the bottom area at first start: the tree keeps the rest."""
BOTTOM_MIN_HEIGHT = 230
"""A few rows of the panel in front, however small the window."""

_AREA = Qt.DockWidgetArea.BottomDockWidgetArea


class BottomPanels(QObject):
    """Places ``docks`` as tabs of the window's bottom area, the first one in front.

    The area spans the window's width under the station tree and the form dock (wide
    tables: the reservations, the trace with its frame beside it, the checks with their
    steps beside them).
    """

    def __init__(self, window: QMainWindow, docks: Sequence[QDockWidget]) -> None:
        super().__init__(window)
        self._window = window
        self.docks = list(docks)
        self._refresh_pending = False
        window.setTabPosition(_AREA, QTabWidget.TabPosition.North)
        window.addDockWidget(_AREA, self.docks[0])
        for previous, dock in zip(self.docks, self.docks[1:], strict=False):
            window.tabifyDockWidget(previous, dock)
        for dock in self.docks:
            self._bring_to_front_on_toggle(dock)
            dock.topLevelChanged.connect(self._refresh_title_bars_later)
            dock.dockLocationChanged.connect(self._refresh_title_bars_later)
            dock.visibilityChanged.connect(self._refresh_title_bars_later)
        self.docks[0].raise_()
        self._refresh_title_bars()

    def front(self) -> QDockWidget | None:
        """The panel shown now (None when every one is hidden or floating)."""
        for dock in self.docks:
            if in_front(dock) and not dock.isFloating():
                return dock
        return None

    def bring_to_front(self, dock: QDockWidget) -> None:
        """Show ``dock`` (also when it was closed) as the tab in front."""
        dock.show()
        dock.raise_()

    def tab_bar(self) -> QTabBar | None:
        """The tab bar of the bottom area (None while fewer than two panels are docked)."""
        for bar in self._window.findChildren(QTabBar):
            if bar.parent() is self._window and bar.isVisible() and bar.count() > 1:
                titles = {bar.tabText(i) for i in range(bar.count())}
                if titles & {dock.windowTitle() for dock in self.docks}:
                    return bar
        return None

    def apply_default_height(self, window_height: int) -> None:
        """The first-start share of the window's height for the bottom area."""
        front = self.front() or self.docks[0]
        height = max(BOTTOM_MIN_HEIGHT, int(window_height * BOTTOM_SHARE))
        bar = self.tab_bar()
        if bar is not None:  # the tabs come out of the area's share
            height -= bar.height()
        self._window.resizeDocks([front], [height], Qt.Orientation.Vertical)

    def has_title_bar(self, dock: QDockWidget) -> bool:
        """Whether the dock shows its own title bar (not while its tab names it)."""
        return dock.titleBarWidget() is None

    def _refresh_title_bars_later(self) -> None:
        # Once the docks have settled (a drag emits several changes), and never while the
        # window is being destroyed: the timer dies with this object.
        if not self._refresh_pending:
            self._refresh_pending = True
            QTimer.singleShot(0, self, self._refresh_title_bars)

    def _refresh_title_bars(self) -> None:
        self._refresh_pending = False
        # A docked panel sharing the area with others is named by its tab: its title bar
        # would repeat the name and take a table row. Alone or floating, it keeps it (the
        # name, and the buttons to float and close it).
        for dock in self.docks:
            tabbed = not dock.isFloating() and any(
                not other.isHidden() and not other.isFloating()
                for other in self._window.tabifiedDockWidgets(dock)
            )
            if tabbed and dock.titleBarWidget() is None:
                dock.setTitleBarWidget(QWidget(dock))
            elif not tabbed and dock.titleBarWidget() is not None:
                old = dock.titleBarWidget()
                dock.setTitleBarWidget(None)  # type: ignore[arg-type]  # None: the native one
                old.deleteLater()

    def _bring_to_front_on_toggle(self, dock: QDockWidget) -> None:
        # The dock's own toggle hides a panel that is behind another tab; here it comes to
        # the front, and hides only when it is already in front.
        action = dock.toggleViewAction()
        action.triggered.disconnect()
        action.triggered.connect(lambda _checked, d=dock: self._toggle(d))

    def _toggle(self, dock: QDockWidget) -> None:
        if dock.isHidden() or not in_front(dock):
            self.bring_to_front(dock)
        else:
            dock.close()
        dock.toggleViewAction().setChecked(not dock.isHidden())


def in_front(dock: QDockWidget) -> bool:
    """Shown and not behind another tab (a tab behind is "visible" but off the screen)."""
    return dock.isVisible() and not dock.visibleRegion().isEmpty()
