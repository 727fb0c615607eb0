"""The window's shortcuts work wherever the focus is, a text field included.

A text field claims some keys for editing before any shortcut sees them: on Linux (the X11
key scheme) a QLineEdit, a spin box, a date field or an editable combo box takes Ctrl+E as
"end of line", so File > Export trace (Ctrl+E) did nothing while the cursor was in a field,
and most of the window is fields. Qt asks the focused widget first (a ShortcutOverride
event); the :class:`WindowShortcutGuard` answers that question for the window's own
shortcuts before the field does. Keys a field needs to edit text (Delete, Backspace,
letters, Ctrl+A/C/V/X/Z, AltGr characters) are never taken from it.
"""

from __future__ import annotations

import shiboken6
from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QAction, QKeyEvent, QKeySequence
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QDockWidget,
    QLineEdit,
    QPlainTextEdit,
    QTextEdit,
    QWidget,
)

__all__ = ["WindowShortcutGuard", "is_window_wide_key"]

_WINDOW_CONTEXTS = (Qt.ShortcutContext.WindowShortcut, Qt.ShortcutContext.ApplicationShortcut)
_COMMAND_MODIFIERS = (
    Qt.KeyboardModifier.ControlModifier
    | Qt.KeyboardModifier.AltModifier
    | Qt.KeyboardModifier.MetaModifier
)
_TEXT_EDITING = (
    QKeySequence.StandardKey.SelectAll,
    QKeySequence.StandardKey.Copy,
    QKeySequence.StandardKey.Cut,
    QKeySequence.StandardKey.Paste,
    QKeySequence.StandardKey.Undo,
    QKeySequence.StandardKey.Redo,
    QKeySequence.StandardKey.DeleteStartOfWord,
    QKeySequence.StandardKey.DeleteEndOfWord,
    QKeySequence.StandardKey.MoveToNextWord,
    QKeySequence.StandardKey.MoveToPreviousWord,
    QKeySequence.StandardKey.SelectNextWord,
    QKeySequence.StandardKey.SelectPreviousWord,
)
_TEXT_INPUTS = (QLineEdit, QAbstractSpinBox, QComboBox, QTextEdit, QPlainTextEdit)
"""The widgets that claim keys for editing (a spin box or a combo box around its field)."""


def is_window_wide_key(event: QKeyEvent) -> bool:
    """A key that may be taken from a text field: a Ctrl/Alt/Meta chord or a function key,
    and none of the keys that edit text."""
    key = event.key()
    function_key = Qt.Key.Key_F1.value <= key <= Qt.Key.Key_F35.value
    if not function_key and not event.modifiers() & _COMMAND_MODIFIERS:
        return False
    if _typed_with_altgr(event):
        return False
    return not any(event.matches(standard) for standard in _TEXT_EDITING)


def _typed_with_altgr(event: QKeyEvent) -> bool:
    # AltGr arrives as Ctrl+Alt on Windows: Ctrl+Alt+E that types "€" is typing, not a chord.
    modifiers = event.modifiers()
    both = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier
    text = event.text()
    if modifiers & both != both or not text or not text.isprintable():
        return False
    return text.casefold() != QKeySequence(event.key()).toString().casefold()


class WindowShortcutGuard(QObject):
    """Gives the window's enabled shortcuts precedence over the focused text field.

    It watches only the text field that has the focus (and the spin box or combo box it
    belongs to), following the application's focus: nothing per paint or timer elsewhere.
    """

    def __init__(self, window: QWidget) -> None:
        super().__init__(window)
        self._window = window
        self._watched: list[QWidget] = []
        app = QApplication.instance()
        if isinstance(app, QApplication):
            app.focusChanged.connect(self._follow_focus)

    def _follow_focus(self, _old: QWidget | None, new: QWidget | None) -> None:
        for watched in self._watched:
            if shiboken6.isValid(watched):  # a field may have gone with its dialog
                watched.removeEventFilter(self)
        self._watched = []
        if new is None or not self._in_window(new):
            return
        widget: QWidget | None = new
        while widget is not None and widget is not self._window:
            if isinstance(widget, _TEXT_INPUTS):
                widget.installEventFilter(self)
                self._watched.append(widget)
            widget = widget.parentWidget()

    def _in_window(self, widget: QWidget) -> bool:
        # The window itself and its docks, floating ones too (their window is the dock).
        top = widget.window()
        if top is self._window:
            return True
        return isinstance(top, QDockWidget) and top.parentWidget() is self._window

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() != QEvent.Type.ShortcutOverride or not isinstance(event, QKeyEvent):
            return False
        if not is_window_wide_key(event) or not self.is_window_shortcut(event):
            return False
        # Not accepted, and the field never hears of it: Qt goes on to the shortcut.
        event.ignore()
        return True

    def is_window_shortcut(self, event: QKeyEvent) -> bool:
        """Whether an enabled action of the window answers this key, wherever the focus is."""
        pressed = QKeySequence(event.keyCombination())
        for action in self._window.findChildren(QAction):
            if not action.isEnabled() or action.shortcutContext() not in _WINDOW_CONTEXTS:
                continue
            if any(
                shortcut.matches(pressed) is QKeySequence.SequenceMatch.ExactMatch
                for shortcut in action.shortcuts()
            ):
                return True
        return False
