"""The message trace as a Qt table model: every frame in and out, filtered, without copies.

Two layers:

* :class:`TraceBuffer` (no Qt) holds the :class:`TraceEntry` objects the window keeps, oldest
  first, capped (the database keeps the configured amount), and links each request to its
  answer. Entries are addressed by an *absolute* number that never changes while the entry
  is held, so dropping the oldest ones costs nothing for the links.
* :class:`TraceTableModel` shows the entries that pass a :class:`TraceFilter` as a list of
  absolute numbers (ascending, so a row is found by bisection). Cells are formatted only when
  Qt asks for them; nothing is formatted per row in advance. Paused, it stops showing new
  entries (they are still buffered) until it is resumed.
"""

from __future__ import annotations

import bisect
import json
from collections.abc import Iterable
from dataclasses import dataclass
from enum import IntEnum, StrEnum
from typing import Any

from PySide6.QtCore import QModelIndex, QObject, Qt
from PySide6.QtGui import QColor, QFont, QIcon

from console.central.export import TRACE_MESSAGE_TYPES
from console.central.model import TraceDirection, TraceEntry
from console.ui.look.presentation import format_local_time
from console.ui.look.resources import icon
from console.ui.look.table_model import AnyIndex, ReadOnlyTableModel

__all__ = [
    "DEFAULT_CAPACITY",
    "Highlight",
    "TraceBuffer",
    "TraceColumn",
    "TraceFilter",
    "TraceTableModel",
    "format_frame",
    "highlight_of",
    "reservation_of_call",
]


DEFAULT_CAPACITY = 200_000
"""Entries the window holds; beyond, the oldest go (in chunks, see :meth:`TraceBuffer.extend`)."""

_REFUSED_NOTE = "handshake refused"
_CALL, _CALL_RESULT, _CALL_ERROR = 2, 3, 4

_PairKey = tuple[str, str, TraceDirection]
"""(station id, message id, direction of the CALL): ids are unique per sender only."""


class TraceColumn(IntEnum):
    """The columns of the trace table."""

    TIME = 0
    STATION = 1
    VERSION = 2
    DIRECTION = 3
    TYPE = 4
    ACTION = 5
    MESSAGE_ID = 6
    LATENCY = 7


_HEADERS = {
    TraceColumn.TIME: "Time",
    TraceColumn.STATION: "Station",
    TraceColumn.VERSION: "OCPP",
    TraceColumn.DIRECTION: "Direction",
    TraceColumn.TYPE: "Type",
    TraceColumn.ACTION: "Action",
    TraceColumn.MESSAGE_ID: "Id",
    TraceColumn.LATENCY: "Latency",
}
_LAST_COLUMN = max(TraceColumn)


class Highlight(StrEnum):
    """How much a trace line must stand out."""

    NORMAL = "normal"
    EVENT = "event"
    """A connection event (connected, disconnected)."""
    WARNING = "warning"
    """A late answer, or a call left without an answer."""
    ERROR = "error"
    """A CALLERROR (or an invalid answer), or a refused connection."""


_HIGHLIGHT_COLOURS = {
    Highlight.WARNING: ("#7a5200", "#fdf1d8", "state-timeout"),
    Highlight.ERROR: ("#a1141b", "#fde4e4", "state-error"),
}
_DIRECTION_TEXT = {
    TraceDirection.IN: ("← in", "trace-in"),
    TraceDirection.OUT: ("→ out", "trace-out"),
    TraceDirection.EVENT: ("• event", "trace-event"),
}


def highlight_of(entry: TraceEntry) -> Highlight:
    """Late answers, CALLERRORs, refusals and timeouts stand out; how much."""
    if entry.direction is TraceDirection.EVENT:
        if entry.note == _REFUSED_NOTE:
            return Highlight.ERROR
        if entry.message_id is not None:  # a call that got no answer
            return Highlight.WARNING
        return Highlight.EVENT
    if entry.message_type == _CALL_ERROR or entry.error_code is not None:
        return Highlight.ERROR
    if entry.late:
        return Highlight.WARNING
    return Highlight.NORMAL


def format_frame(entry: TraceEntry) -> str:
    """The entry for the detail pane: a few metadata lines, then the frame as indented JSON."""
    header = [
        f"{entry.direction.value.upper()}  {entry.station_id}  "
        f"{entry.at.astimezone().isoformat(timespec='milliseconds')}",
    ]
    if entry.message_type is not None:
        kind = TRACE_MESSAGE_TYPES.get(entry.message_type, str(entry.message_type))
        header.append(f"{kind} {entry.action or ''} id={entry.message_id}".rstrip())
    if entry.latency is not None:
        header.append(f"latency {entry.latency * 1000:.0f} ms" + (" (LATE)" if entry.late else ""))
    elif entry.late:
        header.append("LATE answer")
    if entry.error_code:
        header.append(f"error code {entry.error_code}")
    if entry.note:
        header.append(f"note: {entry.note}")
    try:
        body = json.dumps(json.loads(entry.text), indent=2, ensure_ascii=False)
    except ValueError:
        body = entry.text
    return "\n".join(header) + "\n\n" + body


@dataclass(frozen=True, slots=True)
class TraceFilter:
    """What the trace shows; empty fields show everything."""

    station_id: str | None = None
    action: str | None = None
    direction: TraceDirection | None = None
    errors_only: bool = False
    text: str = ""
    """Case-insensitive substring of the raw frame text."""
    reservation_id: int | None = None
    """Only the frames about this reservation (with ``station_id``): the calls carrying its
    id (ReserveNow, CancelReservation, StartTransaction...), their answers, and the note
    that one got none."""

    @property
    def is_empty(self) -> bool:
        return self == _NO_FILTER


_NO_FILTER = TraceFilter()


class TraceBuffer:
    """The trace entries the window holds, oldest first, with requests linked to answers."""

    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self.capacity = capacity
        self.entries: list[TraceEntry] = []
        self.base = 0
        """Absolute number of ``entries[0]``; grows as the oldest entries are dropped."""
        self._request_of: dict[_PairKey, int] = {}
        self._partner: dict[int, int] = {}
        self._answer_action: dict[int, str] = {}

    def __len__(self) -> int:
        return len(self.entries)

    @property
    def end(self) -> int:
        """The absolute number the next entry gets."""
        return self.base + len(self.entries)

    def get(self, absolute: int) -> TraceEntry | None:
        position = absolute - self.base
        if 0 <= position < len(self.entries):
            return self.entries[position]
        return None

    def extend(self, entries: Iterable[TraceEntry]) -> int:
        """Append entries; returns how many of the oldest were dropped to stay within the
        capacity.

        Sequence numbers are not used to skip anything: a restarted Central System (a new
        data folder, or its in-memory fallback) may number from 1 again. Dropping goes in
        chunks of 1/20 of the capacity so a full trace does not shift its whole list on
        every append.
        """
        for entry in entries:
            absolute = self.end
            self.entries.append(entry)
            self._link(entry, absolute)
        excess = len(self.entries) - self.capacity
        if excess <= 0:
            return 0
        dropped = min(len(self.entries), excess + self.capacity // 20)
        for absolute in range(self.base, self.base + dropped):
            partner = self._partner.pop(absolute, None)
            if partner is not None:
                self._partner.pop(partner, None)
            self._answer_action.pop(absolute, None)
        del self.entries[:dropped]
        self.base += dropped
        return dropped

    def partner(self, absolute: int) -> int | None:
        """The absolute number of the request's answer, or of the answer's request."""
        partner = self._partner.get(absolute)
        if partner is None or partner < self.base:
            return None
        return partner

    def call_of(self, absolute: int, entry: TraceEntry) -> TraceEntry | None:
        """The CALL an entry belongs to: itself, the request it answers, or the call a
        "no answer" note is about (None when not held)."""
        if entry.message_type == _CALL and entry.direction is not TraceDirection.EVENT:
            return entry
        if entry.direction is TraceDirection.EVENT:
            if entry.message_id is None:
                return None
            # Only the console's calls time out in the trace: the call went out.
            request = self._request_of.get((entry.station_id, entry.message_id, TraceDirection.OUT))
        else:
            request = self.partner(absolute)
        return None if request is None else self.get(request)

    def action_of(self, absolute: int, entry: TraceEntry) -> str | None:
        """The entry's action; for an answer sent without one, its request's action."""
        return entry.action or self._answer_action.get(absolute)

    def _link(self, entry: TraceEntry, absolute: int) -> None:
        if entry.message_id is None or entry.direction is TraceDirection.EVENT:
            return
        if entry.message_type == _CALL:
            self._request_of[(entry.station_id, entry.message_id, entry.direction)] = absolute
            return
        # An answer (or an invalid one) travels opposite to its CALL.
        call_direction = (
            TraceDirection.OUT if entry.direction is TraceDirection.IN else TraceDirection.IN
        )
        request = self._request_of.get((entry.station_id, entry.message_id, call_direction))
        if request is None or request < self.base:
            return
        self._partner[request] = absolute
        self._partner[absolute] = request
        if entry.action is None:
            request_entry = self.get(request)
            if request_entry is not None and request_entry.action:
                self._answer_action[absolute] = request_entry.action


def reservation_of_call(call: TraceEntry) -> int | None:
    """The reservation id a CALL carries (``reservationId``; ReserveNow 2.0.1: ``id``)."""
    text = call.text
    if "reservationId" not in text and call.action != "ReserveNow":
        return None  # most frames: no parsing
    try:
        frame = json.loads(text)
    except ValueError:
        return None
    if not isinstance(frame, list) or len(frame) < 4 or not isinstance(frame[3], dict):
        return None
    payload = frame[3]
    value = payload.get("reservationId")
    if value is None and call.action == "ReserveNow":
        value = payload.get("id")
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _matches(entry: TraceEntry, action: str | None, flt: TraceFilter, needle: str) -> bool:
    if flt.station_id is not None and entry.station_id != flt.station_id:
        return False
    if flt.direction is not None and entry.direction is not flt.direction:
        return False
    if flt.action is not None and action != flt.action:
        return False
    if flt.errors_only and highlight_of(entry) not in (Highlight.ERROR, Highlight.WARNING):
        return False
    return not needle or needle in entry.text.casefold()


class TraceTableModel(ReadOnlyTableModel):
    """The trace entries that pass the filter, one row each, oldest first."""

    def __init__(
        self,
        parent: QObject | None = None,
        *,
        capacity: int = DEFAULT_CAPACITY,
    ) -> None:
        super().__init__(TraceColumn, _HEADERS, parent)
        self.buffer = TraceBuffer(capacity)
        self._rows: list[int] = []
        self._filter = _NO_FILTER
        self._paused = False
        self._shown_end = 0
        """Absolute number up to which the buffer has been considered for the view."""
        self._bold = QFont()
        self._bold.setBold(True)
        self._italic = QFont()
        self._italic.setItalic(True)
        self._event_colour = QColor("#4b5058")
        self._looks = {
            highlight: (QColor(fg), QColor(bg), icon(icon_name))
            for highlight, (fg, bg, icon_name) in _HIGHLIGHT_COLOURS.items()
        }
        self._direction_icons: dict[TraceDirection, QIcon] = {
            direction: icon(name) for direction, (_text, name) in _DIRECTION_TEXT.items()
        }
        self._stations: set[str] = set()
        self._actions: set[str] = set()

    # --- feeding ----------------------------------------------------------------------------

    def append(self, entries: Iterable[TraceEntry]) -> None:
        """Hold new entries; show those passing the filter unless paused."""
        before = self.buffer.end
        dropped = self.buffer.extend(entries)
        if dropped:
            self._forget_dropped()
        for absolute in range(max(before, self.buffer.base), self.buffer.end):
            entry = self.buffer.entries[absolute - self.buffer.base]
            self._stations.add(entry.station_id)
            action = self.buffer.action_of(absolute, entry)
            if action:
                self._actions.add(action)
        if not self._paused:
            self._show_up_to(self.buffer.end)

    def _forget_dropped(self) -> None:
        base = self.buffer.base
        self._shown_end = max(self._shown_end, base)
        gone = bisect.bisect_left(self._rows, base)
        if gone:
            self.beginRemoveRows(QModelIndex(), 0, gone - 1)
            del self._rows[:gone]
            self.endRemoveRows()

    def _show_up_to(self, end: int) -> None:
        start = max(self._shown_end, self.buffer.base)
        if start >= end:
            return
        new = self._select(start, end)
        self._shown_end = end
        if new:
            first = len(self._rows)
            self.beginInsertRows(QModelIndex(), first, first + len(new) - 1)
            self._rows.extend(new)
            self.endInsertRows()

    def _select(self, start: int, end: int) -> list[int]:
        buffer = self.buffer
        base = buffer.base
        entries = buffer.entries
        flt = self._filter
        if flt.is_empty:
            return list(range(start, end))
        needle = flt.text.casefold()
        return [
            absolute
            for absolute in range(start, end)
            if _matches(
                entries[absolute - base],
                buffer.action_of(absolute, entries[absolute - base])
                if flt.action is not None
                else None,
                flt,
                needle,
            )
            and (
                flt.reservation_id is None
                or self._about_reservation(absolute, entries[absolute - base], flt.reservation_id)
            )
        ]

    def _about_reservation(self, absolute: int, entry: TraceEntry, reservation_id: int) -> bool:
        call = self.buffer.call_of(absolute, entry)
        return call is not None and reservation_of_call(call) == reservation_id

    # --- filter and pause -------------------------------------------------------------------

    @property
    def trace_filter(self) -> TraceFilter:
        return self._filter

    def set_filter(self, trace_filter: TraceFilter) -> None:
        """Show only what passes ``trace_filter`` (among the entries shown so far if paused)."""
        if trace_filter == self._filter:
            return
        self.beginResetModel()
        self._filter = trace_filter
        self._rows = self._select(self.buffer.base, max(self._shown_end, self.buffer.base))
        self.endResetModel()

    @property
    def paused(self) -> bool:
        return self._paused

    def set_paused(self, paused: bool) -> None:
        """Paused: new entries are held but not shown. Resumed: they are shown at once."""
        self._paused = paused
        if not paused:
            self._show_up_to(self.buffer.end)

    def waiting_count(self) -> int:
        """Entries held but not yet considered for the view (while paused)."""
        return self.buffer.end - max(self._shown_end, self.buffer.base)

    def stations(self) -> list[str]:
        return sorted(self._stations)

    def actions(self) -> list[str]:
        return sorted(self._actions)

    # --- rows -------------------------------------------------------------------------------

    def entry(self, row: int) -> TraceEntry:
        absolute = self._rows[row]
        entry = self.buffer.get(absolute)
        assert entry is not None  # rows never hold dropped entries (see _forget_dropped)
        return entry

    def absolute(self, row: int) -> int:
        """The buffer's number of the entry on ``row`` (stable while the entry is held)."""
        return self._rows[row]

    def entries(self) -> list[TraceEntry]:
        """The entries shown, in order (a new list; the entries themselves are shared)."""
        base = self.buffer.base
        return [self.buffer.entries[absolute - base] for absolute in self._rows]

    def row_of_absolute(self, absolute: int) -> int | None:
        position = bisect.bisect_left(self._rows, absolute)
        if position < len(self._rows) and self._rows[position] == absolute:
            return position
        return None

    def partner_row(self, row: int) -> int | None:
        """The row of the answer to this request (or of the request of this answer)."""
        partner = self.buffer.partner(self._rows[row])
        return None if partner is None else self.row_of_absolute(partner)

    def has_partner(self, row: int) -> bool:
        """Whether the linked request/answer is held (it may be hidden by the filter)."""
        return self.buffer.partner(self._rows[row]) is not None

    # --- QAbstractTableModel ----------------------------------------------------------------

    def row_total(self) -> int:
        return len(self._rows)

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        absolute = self._rows[index.row()]
        entry = self.buffer.entries[absolute - self.buffer.base]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(absolute, entry, column)
        if role == Qt.ItemDataRole.DecorationRole:
            if column == TraceColumn.DIRECTION:
                return self._direction_icons[entry.direction]
            if column == TraceColumn.TYPE:
                look = self._looks.get(highlight_of(entry))
                return look[2] if look is not None else None
            return None
        if role in (Qt.ItemDataRole.ForegroundRole, Qt.ItemDataRole.BackgroundRole):
            highlight = highlight_of(entry)
            look = self._looks.get(highlight)
            if look is None:
                if highlight is Highlight.EVENT and role == Qt.ItemDataRole.ForegroundRole:
                    return self._event_colour
                return None
            return look[0] if role == Qt.ItemDataRole.ForegroundRole else look[1]
        if role == Qt.ItemDataRole.FontRole:
            highlight = highlight_of(entry)
            if highlight in (Highlight.ERROR, Highlight.WARNING):
                return self._bold
            if highlight is Highlight.EVENT:
                return self._italic
            return None
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(entry)
        if role == Qt.ItemDataRole.TextAlignmentRole and column == TraceColumn.LATENCY:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def _display(self, absolute: int, entry: TraceEntry, column: int) -> str:
        match column:
            case TraceColumn.TIME:
                local = entry.at.astimezone()
                return local.strftime("%H:%M:%S.") + f"{local.microsecond // 1000:03d}"
            case TraceColumn.STATION:
                return entry.station_id
            case TraceColumn.VERSION:
                # the version of the connection the frame went over (none for some events)
                return entry.ocpp_version.value if entry.ocpp_version is not None else ""
            case TraceColumn.DIRECTION:
                return _DIRECTION_TEXT[entry.direction][0]
            case TraceColumn.TYPE:
                if entry.direction is TraceDirection.EVENT:
                    if entry.note == _REFUSED_NOTE:
                        return "refused"
                    return "no answer" if entry.message_id is not None else "event"
                if entry.message_type is None:
                    return "invalid answer"
                kind = TRACE_MESSAGE_TYPES.get(entry.message_type, str(entry.message_type))
                if entry.error_code and entry.message_type == _CALL_ERROR:
                    return f"{kind} {entry.error_code}"
                return kind
            case TraceColumn.ACTION:
                action = self.buffer.action_of(absolute, entry) or ""
                if entry.direction is TraceDirection.EVENT and not action:
                    return entry.text
                return action
            case TraceColumn.MESSAGE_ID:
                return entry.message_id or ""
            case TraceColumn.LATENCY:
                if entry.latency is None:
                    return "LATE" if entry.late else ""
                text = f"{entry.latency * 1000:.0f} ms"
                return f"{text} LATE" if entry.late else text
        return ""

    def _tooltip(self, entry: TraceEntry) -> str | None:
        highlight = highlight_of(entry)
        if highlight is Highlight.NORMAL:
            return None
        parts = [format_local_time(entry.at)]
        if entry.late:
            parts.append("late answer (after the call had timed out)")
        if entry.error_code:
            parts.append(f"error {entry.error_code}")
        if entry.note:
            parts.append(entry.note)
        if entry.direction is TraceDirection.EVENT:
            parts.append(entry.text)
        return " — ".join(parts)
