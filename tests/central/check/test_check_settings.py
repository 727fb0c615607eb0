"""The reservation check's settings: defaults, bounds, older files, not restart fields."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from console.central.cli import settings_from_args
from console.central.config import CentralSystemConfig
from console.central.settings import (
    CHECK_FIELDS,
    RESTART_FIELDS,
    SCHEMA_VERSION,
    ConsoleSettings,
    changed_fields,
    load_settings,
    save_settings,
)

# settings.json as the console wrote it before the check's fields existed.
SETTINGS_BEFORE_THE_CHECK = {
    "schema_version": 1,
    "host": "127.0.0.1",
    "port": 9100,
    "security_profile": 0,
    "authorization_keys": {},
    "certfile": None,
    "keyfile": None,
    "cafile": None,
    "accept_unknown_stations": True,
    "heartbeat_interval": 120,
    "call_timeout": 15.0,
    "trace_limit": 5000,
    "id_tags": {},
}


def test_defaults() -> None:
    settings = ConsoleSettings()
    assert settings.check_step_timeout == 10.0
    assert settings.check_expiry_seconds == 20
    assert {"check_step_timeout", "check_expiry_seconds"} == CHECK_FIELDS


@pytest.mark.parametrize(
    ("name", "value", "valid"),
    [
        ("check_step_timeout", 1, True),
        ("check_step_timeout", 300, True),
        ("check_step_timeout", 2.5, True),
        ("check_step_timeout", 0.9, False),
        ("check_step_timeout", 300.1, False),
        ("check_expiry_seconds", 5, True),
        ("check_expiry_seconds", 600, True),
        ("check_expiry_seconds", 4, False),
        ("check_expiry_seconds", 601, False),
        ("check_expiry_seconds", 7.5, False),
    ],
)
def test_bounds(name: str, value: float, valid: bool) -> None:
    if valid:
        assert getattr(ConsoleSettings.model_validate({name: value}), name) == value
    else:
        with pytest.raises(ValidationError, match=name):
            ConsoleSettings.model_validate({name: value})


def test_a_file_written_before_the_check_fields_still_loads(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    path.write_text(json.dumps(SETTINGS_BEFORE_THE_CHECK), encoding="utf-8")
    loaded = load_settings(path)
    assert loaded.message is None
    assert loaded.backup is None
    assert path.exists()
    assert loaded.settings.port == 9100
    assert loaded.settings.check_step_timeout == 10.0
    assert loaded.settings.check_expiry_seconds == 20
    assert SCHEMA_VERSION == 1  # optional fields with defaults needed no new version


def test_chosen_values_survive_save_and_load(tmp_path: Path) -> None:
    chosen = ConsoleSettings(check_step_timeout=42.5, check_expiry_seconds=90)
    path = save_settings(chosen, tmp_path / "settings.json")
    assert json.loads(path.read_text(encoding="utf-8"))["check_expiry_seconds"] == 90
    assert load_settings(path).settings == chosen


def test_an_out_of_range_check_value_takes_its_default_and_keeps_the_rest(
    tmp_path: Path,
) -> None:
    """A typo in the check's tuning must not throw away a site's port, profile and keys."""
    path = tmp_path / "settings.json"
    written = {**SETTINGS_BEFORE_THE_CHECK, "check_step_timeout": 0, "check_expiry_seconds": 30}
    path.write_text(json.dumps(written), encoding="utf-8")
    loaded = load_settings(path)
    assert loaded.message is None
    assert loaded.backup is None
    assert loaded.note is not None
    assert "check_step_timeout" in loaded.note
    assert "check_expiry_seconds" not in loaded.note
    assert loaded.settings.check_step_timeout == ConsoleSettings().check_step_timeout
    assert loaded.settings.check_expiry_seconds == 30
    assert loaded.settings.port == 9100
    assert loaded.settings.call_timeout == 15.0
    assert path.exists()  # left in place: it was used
    # The headless commands read it the same way.
    assert settings_from_args(path).port == 9100
    assert settings_from_args(path).check_step_timeout == ConsoleSettings().check_step_timeout


def test_a_wrong_check_value_beside_another_wrong_value_sets_the_file_aside(
    tmp_path: Path,
) -> None:
    path = tmp_path / "settings.json"
    written = {**SETTINGS_BEFORE_THE_CHECK, "check_step_timeout": 0, "port": -1}
    path.write_text(json.dumps(written), encoding="utf-8")
    loaded = load_settings(path)
    assert loaded.message is not None
    assert "port" in loaded.message
    assert loaded.backup is not None
    assert loaded.settings == ConsoleSettings()


def test_they_are_not_restart_fields_and_do_not_reach_the_central_system() -> None:
    assert not CHECK_FIELDS & RESTART_FIELDS
    old = ConsoleSettings()
    new = old.model_copy(update={"check_step_timeout": 30.0, "check_expiry_seconds": 60})
    changed = changed_fields(old, new)
    assert changed == CHECK_FIELDS
    assert not changed & RESTART_FIELDS
    # The Central System's configuration has no such fields (extra="forbid" would refuse).
    config = new.to_config(port=0)
    assert isinstance(config, CentralSystemConfig)
    assert not CHECK_FIELDS & set(CentralSystemConfig.model_fields)
