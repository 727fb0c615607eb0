"""The small labels under a form field (its problem, or a hint) and the field's stack.

Shared by the reservation form and the reservation check dialog, so both show a field's
problem the same way (the style sheet colours ``role`` = ``field-error`` / ``field-hint``).
"""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

__all__ = ["error_label", "field_stack", "hint_label", "show_message"]


def _message_label(role: str) -> QLabel:
    label = QLabel()
    label.setProperty("role", role)
    label.setWordWrap(True)
    label.setVisible(False)
    return label


def error_label() -> QLabel:
    """A hidden label for a field's problem."""
    return _message_label("field-error")


def hint_label() -> QLabel:
    """A hidden label for a note about a field's value."""
    return _message_label("field-hint")


def show_message(label: QLabel, text: str) -> None:
    """Show ``text`` in ``label``, or hide the label when there is nothing to say."""
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
