"""The one way to reach the plain files in the top-level ``resources/`` folder.

Icons, the style sheet, the desktop entry and the app icon are ordinary files (no .qrc), so
designers can edit them and the installers can ship them as they are. They are found:

* from the source tree or an editable install: ``resources/`` next to the ``console``
  package (``Path(console.__file__).parent.parent / "resources"``), located through
  :mod:`importlib.resources` so the lookup does not depend on the working directory;
* from a frozen (PyInstaller) build: ``sys._MEIPASS / "resources"`` — the spec file copies
  the folder there;
* or from ``OCPP_CONSOLE_RESOURCES`` when set (a packager's escape hatch).
"""

from __future__ import annotations

import functools
import logging
import os
import sys
from importlib import resources as importlib_resources
from pathlib import Path

from PySide6.QtGui import QIcon

__all__ = ["icon", "resource_path", "resources_folder", "style_sheet"]

_log = logging.getLogger(__name__)


@functools.cache
def resources_folder() -> Path:
    """The folder holding ``icons/``, ``style.qss`` and the rest."""
    override = os.environ.get("OCPP_CONSOLE_RESOURCES")
    if override:
        return Path(override)
    frozen_root = getattr(sys, "_MEIPASS", None)
    if frozen_root is not None:
        return Path(frozen_root) / "resources"
    package_folder = Path(str(importlib_resources.files("console")))
    return package_folder.parent / "resources"


def resource_path(*parts: str) -> Path:
    """The path of one resource file, e.g. ``resource_path("icons", "reserve.svg")``."""
    return resources_folder().joinpath(*parts)


@functools.cache
def icon(name: str) -> QIcon:
    """The icon ``icons/<name>.svg`` (or ``.png``); an empty icon, logged, if it is missing."""
    for suffix in (".svg", ".png"):
        path = resource_path("icons", name + suffix)
        if path.is_file():
            return QIcon(str(path))
    _log.warning("icon %r not found under %s", name, resources_folder())
    return QIcon()


def style_sheet() -> str:
    """The application style sheet, or an empty one if the file is missing."""
    path = resource_path("style.qss")
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        _log.warning("style sheet not found at %s", path)
        return ""
