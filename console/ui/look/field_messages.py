"""The small labels under a form field (its problem, or a hint) and the field's stack.

Shared by the reservation form and the reservation check dialog, so both show a field's
problem the same way (the style sheet colours ``role`` = ``field-error`` / ``field-hint`` /
``field-warning``). A :func:`message_room` keeps the messages' room from the start, so that
a message appearing while one types never moves what is below it.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

__all__ = [
    "ERROR_ROLE",
    "HINT_ROLE",
    "WARNING_ROLE",
    "MessageRoom",
    "error_label",
    "field_stack",
    "hint_label",
    "message_room",
    "show_message",
]

ERROR_ROLE = "field-error"
HINT_ROLE = "field-hint"
WARNING_ROLE = "field-warning"


def _message_label(role: str) -> QLabel:
    label = QLabel()
    label.setProperty("role", role)
    label.setWordWrap(True)
    label.setVisible(False)
    return label


def error_label() -> QLabel:
    """A hidden label for a field's problem."""
    return _message_label(ERROR_ROLE)


def hint_label() -> QLabel:
    """A hidden label for a note about a field's value (a hint, or a warning)."""
    return _message_label(HINT_ROLE)


def show_message(label: QLabel, text: str, *, role: str | None = None) -> None:
    """Show ``text`` in ``label``, or hide the label when there is nothing to say.

    ``role`` switches a note between a hint and a warning (``WARNING_ROLE``).
    """
    if role is not None and label.property("role") != role:
        label.setProperty("role", role)
        label.style().unpolish(label)
        label.style().polish(label)
    if label.text() != text:
        label.setText(text)
    label.setVisible(bool(text))


def field_stack(*widgets: QWidget) -> QWidget:
    """The field and its labels, one above the other, tight."""
    holder = QWidget()
    layout = QVBoxLayout(holder)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.setSpacing(2)
    for widget in widgets:
        layout.addWidget(widget)
    return holder


class MessageRoom(QWidget):
    """The room under a field for its message labels, ``lines`` lines high even when empty.

    The labels inside are shown and hidden as before (:func:`show_message`); the room keeps
    its height, so the fields below (and a Send button) stay where the technician's mouse
    is. A message longer than the room makes it grow: word the messages to fit.
    """

    def __init__(self, labels: tuple[QLabel, ...], lines: int) -> None:
        super().__init__()
        self._labels = labels
        self._lines = lines
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        for label in labels:
            layout.addWidget(label)
        layout.addStretch(1)
        self._keep_room()

    def reserved_height(self) -> int:
        """The height kept for the messages: ``lines`` lines of their (smaller) font."""
        label = self._labels[0] if self._labels else self
        label.ensurePolished()  # the style sheet sets the labels' font size
        return self._lines * label.fontMetrics().lineSpacing()

    def _keep_room(self) -> None:
        # A minimum height, not a size hint: layouts ask a widget with a layout for the
        # layout's height-for-width, and bound it by the widget's minimum height only.
        self.setMinimumHeight(self.reserved_height())

    def showEvent(self, event: QShowEvent) -> None:
        self._keep_room()  # the labels are polished (their font known) by now
        super().showEvent(event)

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() in (QEvent.Type.FontChange, QEvent.Type.StyleChange):
            self._keep_room()


def message_room(*labels: QLabel, lines: int = 1) -> MessageRoom:
    """Put a field's message labels in a room of ``lines`` lines kept from the start."""
    return MessageRoom(labels, lines)
