"""The window's shortcuts work wherever the focus is, text fields included."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QEvent, QKeyCombination, Qt
from PySide6.QtGui import QAction, QKeyEvent, QKeySequence
from PySide6.QtWidgets import QLineEdit, QWidget

from console.app import build_window
from console.ui.trace.export import ExportDialog
from console.ui.window.main_window import MainWindow
from console.ui.window.shortcuts import is_window_wide_key
from tests.ui.fakes import FakeCentralSystem

pytestmark = pytest.mark.qt_log_ignore("This plugin does not support")

CTRL_E = QKeyCombination(Qt.KeyboardModifier.ControlModifier, Qt.Key.Key_E)


class LineEditAsOnLinux(QLineEdit):
    """A text field that claims Ctrl+E ("end of line") as QLineEdit, spin boxes and date
    fields do on Linux desktops (the X11 key scheme). The offscreen platform of the tests
    uses another key scheme, where a QLineEdit lets Ctrl+E through."""

    def event(self, event: QEvent) -> bool:
        if (
            event.type() == QEvent.Type.ShortcutOverride
            and isinstance(event, QKeyEvent)
            and event.keyCombination() == CTRL_E
        ):
            event.accept()
            self.end(False)
            return True
        return super().event(event)


@pytest.fixture
def window(qtbot) -> MainWindow:
    fake = FakeCentralSystem()
    fake.add_site(2, 2)
    main = build_window(fake, flush_interval_ms=10)
    qtbot.addWidget(main)
    main.start()
    main.show()
    qtbot.waitExposed(main)
    main.activateWindow()
    qtbot.waitActive(main)
    yield main
    dialog = main.trace_tools.dialog
    if dialog is not None:
        dialog.reject()
    main.allow_close()
    main.close()


def press_in(qtbot, window: MainWindow, field: QWidget, combination: QKeyCombination) -> None:
    field.setFocus()
    qtbot.waitUntil(field.hasFocus)
    qtbot.keyClick(field, combination.key(), combination.keyboardModifiers())


def test_ctrl_e_exports_the_trace_from_a_text_field_that_claims_it(
    qtbot, window: MainWindow
) -> None:
    field = LineEditAsOnLinux("CP-01")
    window.reservations_panel.layout().addWidget(field)
    field.setCursorPosition(0)
    press_in(qtbot, window, field, CTRL_E)
    assert isinstance(window.trace_tools.dialog, ExportDialog)
    qtbot.waitUntil(window.trace_tools.dialog.isVisible)
    assert field.cursorPosition() == 0  # the field did not take the key


@pytest.mark.parametrize(
    "field_name", ["filter_edit", "id_tag_edit", "trace_text", "reservation_text"]
)
def test_ctrl_e_exports_the_trace_from_every_text_field_of_the_window(
    qtbot, window: MainWindow, field_name: str
) -> None:
    fields = {
        "filter_edit": window.filter_edit,
        "id_tag_edit": window.form.id_tag_edit,
        "trace_text": window.trace_tools.panel.text_edit,
        "reservation_text": window.reservations_panel.text_edit,
    }
    field = fields[field_name]
    if field_name == "trace_text":
        window.bottom_panels.bring_to_front(window.trace_tools.dock)
    press_in(qtbot, window, field, CTRL_E)
    assert isinstance(window.trace_tools.dialog, ExportDialog)


def test_every_window_shortcut_is_taken_from_a_text_field_but_delete(
    window: MainWindow,
) -> None:
    guard = window.shortcut_guard
    handle = window.windowHandle()
    taken, left = set(), set()
    for action in window.findChildren(QAction):
        if action.shortcut().isEmpty() or not action.isEnabled():
            continue
        if action.shortcutContext() != Qt.ShortcutContext.WindowShortcut:
            continue
        combination = action.shortcut()[0]
        override = QKeyEvent(
            QEvent.Type.ShortcutOverride,
            combination.key(),
            combination.keyboardModifiers(),
        )
        override.ignore()
        name = action.shortcut().toString()
        (taken if guard.eventFilter(handle, override) else left).add(name)
        assert not override.isAccepted()
    assert {"Ctrl+E", "Ctrl+Alt+E", "Ctrl+P", "Ctrl+R", "Ctrl+F", "Ctrl+T", "F1"} <= taken
    assert left <= {"Del"}  # Delete edits text in a field (and cancels only elsewhere)


@pytest.mark.parametrize(
    ("key", "modifiers", "text", "window_wide"),
    [
        (Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier, "\x05", True),
        (Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier, "e", True),  # as on macOS
        (
            Qt.Key.Key_E,
            Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier,
            "e",
            True,
        ),
        (Qt.Key.Key_F1, Qt.KeyboardModifier.NoModifier, "", True),
        (Qt.Key.Key_Delete, Qt.KeyboardModifier.NoModifier, "\x7f", False),
        (Qt.Key.Key_E, Qt.KeyboardModifier.ShiftModifier, "E", False),
        (Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier, "\x01", False),
        (Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier, "\x16", False),
        (Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier, "\x1a", False),
        # AltGr on Windows arrives as Ctrl+Alt: typing "€" stays typing
        (
            Qt.Key.Key_E,
            Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier,
            "€",
            False,
        ),
    ],
    ids=[
        "ctrl-e",
        "ctrl-e-text",
        "ctrl-alt-e",
        "f1",
        "delete",
        "shift-e",
        "ctrl-a",
        "ctrl-v",
        "ctrl-z",
        "altgr-euro",
    ],
)
def test_which_keys_may_be_taken_from_a_text_field(
    qapp, key: Qt.Key, modifiers: Qt.KeyboardModifier, text: str, window_wide: bool
) -> None:
    event = QKeyEvent(QEvent.Type.ShortcutOverride, key, modifiers, text)
    assert is_window_wide_key(event) is window_wide
    assert QKeySequence(event.keyCombination()).count() == 1
