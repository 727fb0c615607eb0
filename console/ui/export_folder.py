"""Where the export and report dialogs propose to write, and what they call the file.

The last folder an export or report was written to is remembered between runs (an INI file
in the config folder) and proposed first; until then, and when it is gone, the user's
Documents folder, or the home folder where there is none. Never the working directory: a
console started from a desktop entry or an installer has one nobody chose.
"""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path

from PySide6.QtCore import QSettings, QStandardPaths

from console.central.paths import default_config_dir

__all__ = ["EXPORTS_FILE_NAME", "ExportFolder", "default_folder", "export_file_name"]

_log = logging.getLogger(__name__)

EXPORTS_FILE_NAME = "exports.ini"
_LAST_FOLDER_KEY = "exports/last_folder"


def default_folder() -> Path:
    """Documents if it exists, else the home folder.

    Qt names a Documents folder even where none was ever created (a fresh account, a
    server); proposing it made the first export fail.
    """
    folder = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
    if folder and Path(folder).is_dir():
        return Path(folder)
    return Path.home()


class ExportFolder:
    """The folder the dialogs propose: the last one written to (remembered), else
    :func:`default_folder`. One per window; every export and report dialog shares it."""

    def __init__(self, store: QSettings | None = None) -> None:
        if store is None:
            path = default_config_dir() / EXPORTS_FILE_NAME
            store = QSettings(str(path), QSettings.Format.IniFormat)
        self._store = store

    def folder(self) -> Path:
        """The folder to propose now."""
        last = self._store.value(_LAST_FOLDER_KEY)
        if isinstance(last, str) and last and Path(last).is_dir():
            return Path(last)
        return default_folder()

    def remember(self, written: Path) -> None:
        """A file was written to ``written``: propose its folder next time (and next run)."""
        folder = written.parent if not written.is_dir() else written
        folder = folder.expanduser().absolute()
        self._store.setValue(_LAST_FOLDER_KEY, str(folder))
        try:
            Path(self._store.fileName()).parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:  # only a hint is lost: the folder is not proposed next run
            _log.warning("cannot keep the export folder in %s: %s", self._store.fileName(), exc)
        self._store.sync()


def export_file_name(
    what: str, station_id: str | None, moment: datetime, suffix: str, *, seconds: bool = False
) -> str:
    """A file name that says what it holds: "ocpp-trace-CP-01-2026-11-25-1400.jsonl",
    "ocpp-reservations-all-stations-2026-11-25-1400.csv" (local time of ``moment``)."""
    who = "all-stations" if station_id is None else _safe(station_id)
    stamp = moment.astimezone().strftime("%Y-%m-%d-%H%M%S" if seconds else "%Y-%m-%d-%H%M")
    return f"{what}-{who}-{stamp}.{suffix}"


def _safe(text: str) -> str:
    # A station id is any URL path segment: keep what every file system takes.
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in text).strip(".") or "station"
