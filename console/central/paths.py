"""Where the console keeps its files by default: the per-user folders of each OS.

Linux follows the XDG base directory variables; Windows uses ``%APPDATA%``; macOS uses
``~/Library/Application Support``. Tests redirect the XDG variables to a temporary folder.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

__all__ = ["APP_FOLDER", "default_config_dir", "default_data_dir"]

APP_FOLDER = "ocpp-console"


def _windows_base() -> Path:
    appdata = os.environ.get("APPDATA")
    return Path(appdata) if appdata else Path.home() / "AppData" / "Roaming"


def _macos_base() -> Path:
    return Path.home() / "Library" / "Application Support"


def _xdg(variable: str, fallback: str) -> Path:
    value = os.environ.get(variable)
    # The XDG specification says relative values are to be ignored.
    if value and Path(value).is_absolute():
        return Path(value)
    return Path.home() / fallback


def default_data_dir() -> Path:
    """The per-user folder for the database (not created here)."""
    if sys.platform == "win32":
        return _windows_base() / APP_FOLDER
    if sys.platform == "darwin":
        return _macos_base() / APP_FOLDER
    return _xdg("XDG_DATA_HOME", ".local/share") / APP_FOLDER


def default_config_dir() -> Path:
    """The per-user folder for settings (not created here)."""
    if sys.platform == "win32":
        return _windows_base() / APP_FOLDER
    if sys.platform == "darwin":
        return _macos_base() / APP_FOLDER
    return _xdg("XDG_CONFIG_HOME", ".config") / APP_FOLDER
