"""The console's saved settings: one versioned model, one JSON file in the per-user folder.

:class:`ConsoleSettings` is what the settings dialog edits and what is saved in
``<config dir>/settings.json``; :meth:`ConsoleSettings.to_config` turns it into the
:class:`CentralSystemConfig` the Central System is started with.

Reading never loses the technician's file: a file that is not JSON, holds invalid values or
was written by a newer console is moved aside to ``settings.json.broken-<timestamp>`` (kept
byte for byte), the console runs on defaults, and :func:`load_settings` says so in a message
for the window. Saving writes a temporary file and renames it over the old one, so a crash
mid-write leaves the previous file whole.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Final
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
)

from console.central.config import CentralSystemConfig, IdTagEntry
from console.central.paths import default_config_dir
from console.central.security import hash_authorization_key

__all__ = [
    "CHECK_FIELDS",
    "RESTART_FIELDS",
    "SCHEMA_VERSION",
    "SETTINGS_FILE_NAME",
    "ConsoleSettings",
    "SettingsLoad",
    "changed_fields",
    "command_line_overrides",
    "load_settings",
    "read_settings",
    "save_settings",
    "settings_path",
]

logger = logging.getLogger(__name__)

SCHEMA_VERSION: Final = 1
"""The version of the settings file this console writes (and the newest it reads)."""

SETTINGS_FILE_NAME: Final = "settings.json"

RESTART_FIELDS: Final = frozenset(
    {
        "host",
        "port",
        "security_profile",
        "certfile",
        "keyfile",
        "cafile",
        "authorization_keys",
        "heartbeat_interval",
        "call_timeout",
        "accept_unknown_stations",
        "trace_limit",
        "id_tags",
        "upstream_url",
        "upstream_cafile",
        "upstream_keep_stations",
    }
)
"""Fields the running Central System only takes when it is (re)started.

Every field that reaches :class:`CentralSystemConfig` is here: the Central System reads its
configuration once, at start, so a change applies through a restart (stations reconnect).
"""

CHECK_FIELDS: Final = frozenset({"check_step_timeout", "check_expiry_seconds"})
"""Fields of the reservation check: it reads them each time it starts, so a change applies
to the next check at once (no restart); the Central System does not take them."""

StationId = Annotated[str, StringConstraints(min_length=1, max_length=48)]
IdTag = Annotated[str, StringConstraints(min_length=1, max_length=20)]


class ConsoleSettings(BaseModel):
    """Everything the technician sets in the settings dialog (saved as JSON).

    ``authorization_keys`` maps station ids to keys already hashed with
    :func:`console.central.security.hash_authorization_key`: a key typed in the dialog is
    hashed at once (:meth:`with_authorization_key`) and never stored or shown in clear.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: int = SCHEMA_VERSION
    host: str = Field(default="0.0.0.0", min_length=1)
    port: int = Field(default=9000, ge=0, le=65535)
    """0 picks any free port (tests; a site needs a fixed one)."""
    security_profile: int = Field(default=0, ge=0, le=3)
    authorization_keys: dict[StationId, str] = Field(default_factory=dict)
    certfile: Path | None = None
    keyfile: Path | None = None
    cafile: Path | None = None
    accept_unknown_stations: bool = True
    heartbeat_interval: int = Field(default=300, gt=0, le=86_400)
    call_timeout: float = Field(default=30.0, gt=0, le=3600)
    trace_limit: int = Field(default=200_000, ge=100)
    id_tags: dict[IdTag, IdTagEntry] = Field(default_factory=dict)
    check_step_timeout: float = Field(default=10.0, ge=1, le=300)
    """Seconds a reservation check step waits for each answer or StatusNotification."""
    check_expiry_seconds: int = Field(default=20, ge=5, le=600)
    """How far ahead the check's expiry step sets expiryDate (it then waits that long)."""
    upstream_url: str | None = None
    """Proxy mode: the site's CSMS each station is carried on to (``<url>/<station id>``);
    None: the console is the stations' Central System."""
    upstream_cafile: Path | None = None
    """The CA that signs a ``wss://`` CSMS's certificate; None: the system's CAs."""
    upstream_keep_stations: bool = False
    """Proxy mode, the CSMS away: the console alone answers the station meanwhile."""

    @field_validator("upstream_url", mode="before")
    @classmethod
    def _upstream_url_is_websocket(cls, value: object) -> object:
        if not isinstance(value, str):
            return value  # None, or a wrong type pydantic reports itself
        return _clean_upstream_url(value)

    def to_config(self, **overrides: Any) -> CentralSystemConfig:
        """The Central System's configuration; ``overrides`` win (e.g. the command line)."""
        values = self.model_dump(exclude={"schema_version", *CHECK_FIELDS})
        values["id_tags"] = dict(self.id_tags)  # keep the IdTagEntry models as they are
        values.update(overrides)
        return CentralSystemConfig.model_validate(values)

    def with_authorization_key(self, station_id: str, key: str | None) -> ConsoleSettings:
        """A copy with this station's key set (hashed here) or, for None, removed."""
        keys = dict(self.authorization_keys)
        if key is None:
            keys.pop(station_id, None)
        else:
            keys[station_id] = hash_authorization_key(key)
        return self.model_copy(update={"authorization_keys": keys})

    def problems(self) -> dict[str, str]:
        """What prevents starting a Central System with these settings, per field.

        The model validates each value alone; these are the rules between fields and about
        the files on disk (checked again when saving from the dialog).
        """
        found: dict[str, str] = {}
        if self.security_profile >= 2:
            for name in ("certfile", "keyfile"):
                path: Path | None = getattr(self, name)
                if path is None:
                    found[name] = f"security profile {self.security_profile} needs this file"
        if self.security_profile >= 3 and self.cafile is None:
            found["cafile"] = "security profile 3 needs the CA that signs station certificates"
        for name in ("certfile", "keyfile", "cafile", "upstream_cafile"):
            path = getattr(self, name)
            if path is not None and name not in found and not path.is_file():
                found[name] = f"no such file: {path}"
        locked = self.security_profile in (1, 2) and not self.accept_unknown_stations
        if locked and not self.authorization_keys:
            found["authorization_keys"] = (
                "no station has a key: with unknown stations refused, none can connect"
            )
        if self.upstream_cafile is not None and not (self.upstream_url or "").startswith("wss:"):
            # Only TLS reads it: a CA kept for a ws:// URL would look used and is not.
            found.setdefault("upstream_cafile", "only a wss:// upstream URL uses a CA file")
        return found


def _clean_upstream_url(text: str) -> str | None:
    """``text`` as the upstream URL (trimmed, no trailing ``/``; empty is None), or
    ``ValueError`` saying what is wrong with it."""
    text = text.strip().rstrip("/")
    if not text:
        return None
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError as exc:
        raise ValueError(f"not a URL: {exc}") from None
    if parts.scheme not in ("ws", "wss"):
        raise ValueError("the upstream URL must start with ws:// or wss://")
    if not parts.hostname:
        raise ValueError("the upstream URL needs a host, e.g. wss://csms.example.com/ocpp")
    if parts.query or parts.fragment:
        raise ValueError(
            "the upstream URL takes no ?query or #fragment (the station id follows it)"
        )
    return text


@dataclass(frozen=True, slots=True)
class SettingsLoad:
    """What :func:`load_settings` found: the settings to use and what to tell the user."""

    settings: ConsoleSettings
    path: Path
    message: str | None = None
    """Why the defaults are used (a broken or newer file), for the window; None if all went well."""
    backup: Path | None = None
    """Where the unreadable file was moved to, if it was."""
    note: str | None = None
    """The file was used, but some of its values were not (they were invalid), for the
    window; None if all of it was used."""


def settings_path() -> Path:
    """``<per-user config folder>/settings.json``."""
    return default_config_dir() / SETTINGS_FILE_NAME


def load_settings(path: Path | None = None, *, now: datetime | None = None) -> SettingsLoad:
    """Read the settings; defaults when there is no file, or when it cannot be used.

    A file that cannot be used is moved to ``<name>.broken-<UTC timestamp>`` beside it, never
    overwritten nor deleted, and the returned message says what was wrong and where it is.
    """
    path = path or settings_path()
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return SettingsLoad(ConsoleSettings(), path)
    except OSError as exc:
        # Unreadable (permissions, a folder of that name): set aside like a broken file, so
        # that saving from the dialog later cannot replace it unseen.
        problem: str | None = f"it cannot be read ({exc.strerror or exc})"
    else:
        problem = _problem_with(raw)
        if problem is None:
            settings, note = read_settings(raw)
            logger.info("settings read from %s", path)
            if note is not None:
                # Only the check's own values are wrong: everything else (security, keys,
                # port) still applies; the file stays where it is.
                shown = f"The settings file {path} {note}."
                logger.warning("%s", shown)
                return SettingsLoad(settings, path, note=shown)
            return SettingsLoad(settings, path)
    backup = _move_aside(path, now or datetime.now(UTC))
    kept = f"It was kept as {backup}." if backup is not None else "It was left in place."
    message = (
        f"The settings file {path} could not be used: {problem}. "
        f"The console started with the default settings. {kept}"
    )
    logger.error("%s", message)
    return SettingsLoad(ConsoleSettings(), path, message, backup)


def settings_problem(raw: bytes) -> str | None:
    """Why these bytes cannot be used as settings, or None when they can."""
    return _problem_with(raw)


def read_settings(raw: bytes) -> tuple[ConsoleSettings, str | None]:
    """The settings in ``raw`` (which :func:`settings_problem` accepted), and a note when
    the reservation check's values were invalid and its defaults are used instead.

    Those values only tune the check: a typo in them must not throw away the security
    profile, keys and port of a site (as an unusable file does).
    """
    try:
        return ConsoleSettings.model_validate_json(raw), None
    except ValidationError as exc:
        document = json.loads(raw)
        wrong = _check_field_errors(exc)
        if wrong is None:
            raise
        for name in wrong:
            document.pop(name, None)
        details = "; ".join(f"{name}: {message}" for name, message in wrong.items())
        note = (
            f"holds invalid reservation check values ({details}); the check uses its "
            "defaults for them, every other setting was read"
        )
        return ConsoleSettings.model_validate(document), note


def _check_field_errors(exc: ValidationError) -> dict[str, str] | None:
    """The invalid fields by name when all of them are the check's, else None."""
    wrong: dict[str, str] = {}
    for error in exc.errors():
        name = error["loc"][0] if error["loc"] else None
        if name not in CHECK_FIELDS:
            return None
        wrong[str(name)] = error["msg"]
    return wrong


def _problem_with(raw: bytes) -> str | None:
    try:
        document = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return f"it is not valid JSON ({exc})"
    if not isinstance(document, dict):
        return "it does not hold a JSON object"
    version = document.get("schema_version")
    if not isinstance(version, int) or isinstance(version, bool):
        return "it has no schema_version number"
    if version > SCHEMA_VERSION:
        return (
            f"it was written by a newer console (settings version {version}; this console "
            f"reads up to version {SCHEMA_VERSION})"
        )
    try:
        ConsoleSettings.model_validate(document)
    except ValidationError as exc:
        if _check_field_errors(exc) is not None:
            return None  # read_settings takes the defaults for those
        details = "; ".join(
            f"{'.'.join(str(part) for part in error['loc']) or 'file'}: {error['msg']}"
            for error in exc.errors()[:5]
        )
        return f"it holds invalid values ({details})"
    return None


def _move_aside(path: Path, now: datetime) -> Path | None:
    stamp = now.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    backup = path.with_name(f"{path.name}.broken-{stamp}")
    counter = 1
    while backup.exists():  # two failures in one second: never overwrite a backup
        backup = path.with_name(f"{path.name}.broken-{stamp}-{counter}")
        counter += 1
    try:
        path.rename(backup)
    except OSError as exc:
        logger.error("cannot move the unusable settings file %s aside: %s", path, exc)
        return None
    return backup


def save_settings(
    settings: ConsoleSettings, path: Path | None = None, *, keep_existing: bool = False
) -> Path:
    """Write the settings atomically (temporary file + rename); returns the path.

    ``keep_existing`` first moves a file already there aside (as :func:`load_settings` does
    with a broken one) and raises ``OSError`` if it cannot: for a file that could not be
    used nor moved at start, which must not be replaced unseen.
    """
    path = path or settings_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    present = path.exists() or path.is_symlink()
    if keep_existing and present and _move_aside(path, datetime.now(UTC)) is None:
        raise OSError(f"{path} cannot be moved aside; it is left as it is")
    text = settings.model_dump_json(indent=2) + "\n"
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    logger.info("settings saved to %s", path)
    return path


_COMMAND_LINE_FIELDS: Final = (
    "host",
    "port",
    "data_dir",
    "heartbeat_interval",
    "call_timeout",
    "security_profile",
    "certfile",
    "keyfile",
    "cafile",
)


def command_line_overrides(args: argparse.Namespace) -> dict[str, Any]:
    """The options given on the command line (they win over the settings, for this run)."""
    return {
        name: getattr(args, name)
        for name in _COMMAND_LINE_FIELDS
        if getattr(args, name, None) is not None
    }


def changed_fields(old: ConsoleSettings, new: ConsoleSettings) -> set[str]:
    """The names of the fields whose values differ."""
    before: Mapping[str, Any] = dict(old)
    after: Mapping[str, Any] = dict(new)
    return {name for name in after if before.get(name) != after[name]}
