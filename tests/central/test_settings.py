"""The settings file: round trip, a broken or newer file kept aside, atomic save, overrides."""

from __future__ import annotations

import argparse
import json
import logging
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from console.central.config import IdTagEntry
from console.central.paths import default_config_dir
from console.central.security import verify_authorization_key
from console.central.settings import (
    RESTART_FIELDS,
    SCHEMA_VERSION,
    ConsoleSettings,
    changed_fields,
    command_line_overrides,
    load_settings,
    save_settings,
    settings_path,
)
from console.ocpp.enums import AuthorizationStatus

NOW = datetime(2026, 11, 25, 14, 0, 0, tzinfo=UTC)


def full_settings(tmp_path: Path) -> ConsoleSettings:
    cert = tmp_path / "server.pem"
    key = tmp_path / "server.key"
    ca = tmp_path / "ca.pem"
    for path in (cert, key, ca):
        path.write_text("x", encoding="utf-8")
    return ConsoleSettings(
        host="127.0.0.1",
        port=9443,
        security_profile=3,
        certfile=cert,
        keyfile=key,
        cafile=ca,
        accept_unknown_stations=False,
        heartbeat_interval=60,
        call_timeout=12.5,
        trace_limit=5000,
        id_tags={
            "CARD-1": IdTagEntry(parent_id_tag="FLEET"),
            "LOST": IdTagEntry(status=AuthorizationStatus.BLOCKED),
        },
    ).with_authorization_key("CP-01", "secret-key-0123")


def test_the_settings_file_lives_in_the_per_user_config_folder() -> None:
    assert settings_path() == default_config_dir() / "settings.json"


def test_no_file_gives_the_defaults_without_a_message(tmp_path: Path) -> None:
    loaded = load_settings(tmp_path / "settings.json")
    assert loaded.settings == ConsoleSettings()
    assert loaded.message is None
    assert loaded.backup is None


def test_round_trip_keeps_every_field(tmp_path: Path) -> None:
    settings = full_settings(tmp_path)
    path = save_settings(settings, tmp_path / "conf" / "settings.json")
    document = json.loads(path.read_text(encoding="utf-8"))
    assert document["schema_version"] == SCHEMA_VERSION
    loaded = load_settings(path)
    assert loaded.message is None
    assert loaded.settings == settings
    assert loaded.settings.id_tags["CARD-1"].parent_id_tag == "FLEET"
    assert loaded.settings.id_tags["LOST"].status is AuthorizationStatus.BLOCKED


def test_keys_are_stored_hashed_only(tmp_path: Path) -> None:
    settings = full_settings(tmp_path)
    path = save_settings(settings, tmp_path / "settings.json")
    text = path.read_text(encoding="utf-8")
    assert "secret-key-0123" not in text
    stored = load_settings(path).settings.authorization_keys["CP-01"]
    assert verify_authorization_key("secret-key-0123", stored)
    assert not verify_authorization_key("another-key-000", stored)
    assert "CP-01" not in settings.with_authorization_key("CP-01", None).authorization_keys


def test_to_config_carries_every_value_and_the_overrides_win(tmp_path: Path) -> None:
    settings = full_settings(tmp_path)
    config = settings.to_config(port=0, data_dir=tmp_path / "data")
    assert config.port == 0
    assert config.data_dir == tmp_path / "data"
    assert config.host == "127.0.0.1"
    assert config.security_profile == 3
    assert config.cafile == settings.cafile
    assert config.heartbeat_interval == 60
    assert config.call_timeout == 12.5
    assert config.trace_limit == 5000
    assert config.accept_unknown_stations is False
    assert config.authorization_keys == settings.authorization_keys
    assert config.is_known_station("CP-01")
    entry = config.id_tag_entry("card-1")
    assert entry is not None
    assert entry.parent_id_tag == "FLEET"


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"{ not json", "not valid JSON"),
        (b"\xff\xfe garbage", "not valid JSON"),
        (b"[1, 2]", "does not hold a JSON object"),
        (b'{"port": 9000}', "no schema_version"),
        (b'{"schema_version": 1, "port": 70000}', "port"),
        (b'{"schema_version": 1, "heartbeat_interval": 0}', "heartbeat_interval"),
        (b'{"schema_version": 1, "colour": "red"}', "colour"),
    ],
)
def test_a_broken_file_is_kept_aside_and_the_defaults_are_used(
    tmp_path: Path, content: bytes, expected: str, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "settings.json"
    path.write_bytes(content)
    with caplog.at_level(logging.ERROR, logger="console.central.settings"):
        loaded = load_settings(path, now=NOW)
    assert loaded.settings == ConsoleSettings()
    assert loaded.message is not None
    assert expected in loaded.message
    assert "default settings" in loaded.message
    assert loaded.backup == tmp_path / "settings.json.broken-20261125T140000Z"
    assert str(loaded.backup) in loaded.message
    assert loaded.backup.read_bytes() == content  # byte for byte
    assert not path.exists()  # nothing left to be overwritten silently
    assert any("could not be used" in record.getMessage() for record in caplog.records)


def test_a_newer_schema_version_is_kept_aside_with_a_clear_message(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    content = json.dumps({"schema_version": SCHEMA_VERSION + 1, "port": 9100, "new": 1}).encode()
    path.write_bytes(content)
    loaded = load_settings(path, now=NOW)
    assert loaded.settings == ConsoleSettings()
    assert loaded.message is not None
    assert "newer console" in loaded.message
    assert loaded.backup is not None
    assert loaded.backup.read_bytes() == content


def test_saving_after_a_broken_file_never_touches_the_backup(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    path.write_bytes(b"{ broken")
    first = load_settings(path, now=NOW)
    save_settings(first.settings.model_copy(update={"port": 9100}), path)
    path.write_bytes(b"{ broken again")
    second = load_settings(path, now=NOW)  # the same second: a second backup, not over it
    assert first.backup is not None
    assert second.backup is not None
    assert first.backup != second.backup
    assert first.backup.read_bytes() == b"{ broken"
    assert second.backup.read_bytes() == b"{ broken again"


def test_save_is_atomic_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    save_settings(ConsoleSettings(port=9001), path)
    save_settings(ConsoleSettings(port=9002), path)
    assert load_settings(path).settings.port == 9002
    assert [p.name for p in tmp_path.iterdir()] == ["settings.json"]


def test_command_line_options_override_without_saving() -> None:
    args = argparse.Namespace(port=9999, host=None, data_dir=Path("/tmp/x"), demo=3)
    assert command_line_overrides(args) == {"port": 9999, "data_dir": Path("/tmp/x")}


def test_problems_between_fields(tmp_path: Path) -> None:
    assert ConsoleSettings().problems() == {}
    profile_three = ConsoleSettings(security_profile=3)
    assert set(profile_three.problems()) == {"certfile", "keyfile", "cafile"}
    missing = ConsoleSettings(security_profile=2, certfile=tmp_path / "no.pem")
    assert "no such file" in missing.problems()["certfile"]
    assert set(full_settings(tmp_path).problems()) == set()
    locked = ConsoleSettings(security_profile=1, accept_unknown_stations=False)
    assert "authorization_keys" in locked.problems()


def test_changed_fields() -> None:
    old = ConsoleSettings()
    new = old.model_copy(update={"port": 9100, "heartbeat_interval": 30})
    assert changed_fields(old, new) == {"port", "heartbeat_interval"}
    assert changed_fields(old, old) == set()


def test_an_unreadable_settings_path_is_set_aside_too(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    path.mkdir()  # a folder where the file should be: reading fails with an OSError
    (path / "inside").write_text("kept", encoding="utf-8")
    loaded = load_settings(path, now=NOW)
    assert loaded.settings == ConsoleSettings()
    assert loaded.message is not None
    assert "cannot be read" in loaded.message
    assert loaded.backup is not None
    assert (loaded.backup / "inside").read_text(encoding="utf-8") == "kept"
    assert not path.exists()


def test_keep_existing_moves_the_old_file_aside_before_saving(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    path.write_bytes(b"left in place at start")
    save_settings(ConsoleSettings(port=9100), path, keep_existing=True)
    assert load_settings(path).settings.port == 9100
    kept = list(tmp_path.glob("settings.json.broken-*"))
    assert len(kept) == 1
    assert kept[0].read_bytes() == b"left in place at start"


# --- proxy mode (Settings → Proxy) ------------------------------------------------------------


def test_proxy_settings_round_trip_and_reach_the_central_system(tmp_path: Path) -> None:
    ca = tmp_path / "csms-ca.pem"
    ca.write_text("x", encoding="utf-8")
    settings = ConsoleSettings(
        upstream_url=" wss://csms.example.com:8443/ocpp/ ",
        upstream_cafile=ca,
        upstream_keep_stations=True,
    )
    assert settings.upstream_url == "wss://csms.example.com:8443/ocpp"  # trimmed, no final /
    assert settings.problems() == {}
    loaded = load_settings(save_settings(settings, tmp_path / "settings.json"))
    assert loaded.message is None
    assert loaded.settings == settings
    config = loaded.settings.to_config()
    assert config.upstream_url == "wss://csms.example.com:8443/ocpp"
    assert config.upstream_cafile == ca
    assert config.upstream_keep_stations is True


def test_a_file_without_the_proxy_fields_loads_with_proxy_mode_off(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    path.write_text('{"schema_version": 1, "port": 9100}', encoding="utf-8")
    loaded = load_settings(path)
    assert loaded.message is None
    assert loaded.settings.port == 9100
    assert loaded.settings.upstream_url is None
    assert loaded.settings.upstream_cafile is None
    assert loaded.settings.upstream_keep_stations is False
    assert loaded.settings.to_config().upstream_url is None
    assert ConsoleSettings(upstream_url="  ").upstream_url is None  # empty field: no proxy


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://csms.example.com", "must start with ws:// or wss://"),
        ("csms.example.com/ocpp", "must start with ws:// or wss://"),
        ("wss://", "needs a host"),
        ("ws:///ocpp", "needs a host"),
        ("ws://csms:port/ocpp", "not a URL"),
        ("wss://csms.example.com/ocpp?x=1", "no ?query"),
    ],
)
def test_an_upstream_url_that_is_not_a_websocket_url_is_refused_clearly(
    url: str, expected: str
) -> None:
    with pytest.raises(ValueError, match=re.escape(expected)):
        ConsoleSettings(upstream_url=url)


def test_a_broken_upstream_url_in_the_file_is_kept_aside_with_a_clear_message(
    tmp_path: Path,
) -> None:
    content = b'{"schema_version": 1, "port": 9100, "upstream_url": "http://csms"}'
    path = tmp_path / "settings.json"
    path.write_bytes(content)
    loaded = load_settings(path, now=NOW)
    assert loaded.settings == ConsoleSettings()
    assert loaded.message is not None
    assert "upstream_url" in loaded.message
    assert "ws:// or wss://" in loaded.message
    assert loaded.backup is not None
    assert loaded.backup.read_bytes() == content  # nothing lost: byte for byte


def test_the_upstream_ca_must_exist_and_only_goes_with_wss(tmp_path: Path) -> None:
    missing = tmp_path / "nope.pem"
    problems = ConsoleSettings(upstream_url="wss://csms", upstream_cafile=missing).problems()
    assert problems == {"upstream_cafile": f"no such file: {missing}"}
    ca = tmp_path / "ca.pem"
    ca.write_text("x", encoding="utf-8")
    problems = ConsoleSettings(upstream_url="ws://csms", upstream_cafile=ca).problems()
    assert problems == {"upstream_cafile": "only a wss:// upstream URL uses a CA file"}


def test_the_proxy_fields_need_a_restart() -> None:
    assert {"upstream_url", "upstream_cafile", "upstream_keep_stations"} <= RESTART_FIELDS
