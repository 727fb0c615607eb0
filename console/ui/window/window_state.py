"""Window geometry and layout remembered between runs (QSettings in the config folder).

The main window's geometry and dock/toolbar state (which lower panel is in front, the
bottom area's height), any named splitter, and the column widths and order of every named
tree or table are saved on close and restored on start. A layout from another version of
the window (other docks) is simply ignored: Qt refuses a state whose version differs.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QMainWindow,
    QSplitter,
    QTableView,
    QTreeView,
)

from console.central.paths import default_config_dir

__all__ = ["LAYOUT_FILE_NAME", "LAYOUT_VERSION", "layout_store", "restore_layout", "save_layout"]

_log = logging.getLogger(__name__)

LAYOUT_FILE_NAME = "window.ini"
LAYOUT_VERSION = 4
"""Bump when the docks change so an old saved state is not forced onto a new window.

2: the Reservation checks dock (a version 1 state put it beside the trace, squeezed).
3: the reservations in a dock, a tab of the bottom area with the trace and the checks (a
version 2 state would float the new dock or leave the trace a strip under the tree).
4: the OCPP version columns (a saved header of fewer columns would misplace the widths)."""


def layout_store(path: Path | None = None) -> QSettings:
    """The INI file holding the layout: ``<config dir>/window.ini`` unless told otherwise."""
    path = path or default_config_dir() / LAYOUT_FILE_NAME
    path.parent.mkdir(parents=True, exist_ok=True)
    return QSettings(str(path), QSettings.Format.IniFormat)


def save_layout(window: QMainWindow, store: QSettings) -> None:
    """Remember the window's geometry, docks, splitters and columns."""
    store.setValue("window/version", LAYOUT_VERSION)
    store.setValue("window/geometry", window.saveGeometry())
    store.setValue("window/state", window.saveState(LAYOUT_VERSION))
    for name, splitter in _splitters(window).items():
        store.setValue(f"splitters/{name}", splitter.saveState())
    for name, view in _views(window).items():
        store.setValue(f"columns/{name}", _header(view).saveState())
    store.sync()
    _log.debug("window layout saved to %s", store.fileName())


def restore_layout(window: QMainWindow, store: QSettings) -> bool:
    """Put the window back as it was; False when nothing (usable) was saved."""
    if _int(store.value("window/version")) != LAYOUT_VERSION:
        return False
    geometry = store.value("window/geometry")
    if not isinstance(geometry, QByteArray) or not window.restoreGeometry(geometry):
        return False
    state = store.value("window/state")
    if isinstance(state, QByteArray):
        window.restoreState(state, LAYOUT_VERSION)
    for name, splitter in _splitters(window).items():
        saved = store.value(f"splitters/{name}")
        if isinstance(saved, QByteArray):
            splitter.restoreState(saved)
    for name, view in _views(window).items():
        saved = store.value(f"columns/{name}")
        if isinstance(saved, QByteArray):
            _header(view).restoreState(saved)
    _log.debug("window layout restored from %s", store.fileName())
    return True


def _splitters(window: QMainWindow) -> dict[str, QSplitter]:
    found: dict[str, QSplitter] = {}
    central = window.centralWidget()
    if isinstance(central, QSplitter):
        found["central"] = central
    for splitter in window.findChildren(QSplitter):
        if splitter.objectName():
            found[splitter.objectName()] = splitter
    return found


def _views(window: QMainWindow) -> dict[str, QAbstractItemView]:
    return {
        view.objectName(): view
        for view in window.findChildren(QAbstractItemView)
        if view.objectName() and isinstance(view, QTreeView | QTableView)
    }


def _header(view: QAbstractItemView) -> QHeaderView:
    if isinstance(view, QTreeView):
        return view.header()
    if isinstance(view, QTableView):
        return view.horizontalHeader()
    raise TypeError(f"no header on {view!r}")


def _int(value: object) -> int | None:
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return None
