"""The settings of the embedded Central System."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, SecretStr, StringConstraints, field_validator

from console.central.paths import default_data_dir
from console.ocpp.enums import AuthorizationStatus

__all__ = ["DATABASE_FILE_NAME", "CentralSystemConfig", "IdTagEntry"]

DATABASE_FILE_NAME = "central.sqlite3"


class IdTagEntry(BaseModel):
    """What Authorize and StartTransaction answer for one idTag."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    status: AuthorizationStatus = AuthorizationStatus.ACCEPTED
    parent_id_tag: Annotated[str, StringConstraints(min_length=1, max_length=20)] | None = None


class CentralSystemConfig(BaseModel):
    """Everything the Central System is started with.

    ``port=0`` picks a free port (read it back from ``CentralSystem.port``); ``data_dir``
    None means the per-user data folder. ``authorization_keys`` maps station ids to keys
    hashed with :func:`console.central.security.hash_authorization_key`; a station is
    "known" when it appears there or in ``stations``.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    host: str = "0.0.0.0"
    port: int = Field(default=9000, ge=0, le=65535)
    data_dir: Path | None = None
    call_timeout: float = Field(default=30.0, gt=0)
    heartbeat_interval: int = Field(default=300, gt=0)
    security_profile: int = Field(default=0, ge=0, le=3)
    authorization_keys: dict[str, str] = Field(default_factory=dict)
    stations: frozenset[str] = frozenset()
    accept_unknown_stations: bool = True
    certfile: Path | None = None
    keyfile: Path | None = None
    cafile: Path | None = None
    max_frame_size: int = Field(default=65536, ge=1024)
    handshake_timeout: float = Field(default=10.0, gt=0)
    ping_interval: float | None = Field(default=30.0, gt=0)
    ping_timeout: float | None = Field(default=30.0, gt=0)
    trace_limit: int = Field(default=200_000, ge=100)
    close_timeout: float = Field(default=10.0, gt=0)
    """How long a closing handshake may take before the TCP connection is dropped (a stalled
    link, e.g. one that stopped answering pings, is only let go after this)."""
    max_connections_per_address: int | None = Field(default=None, ge=1)
    """Open connections one IP address may hold; None: no limit (a site's stations may all
    come through one NAT address, and the load benchmarks run from 127.0.0.1)."""
    login_failures_allowed: int = Field(default=3, ge=1)
    """Failed logins (profiles 1 and 2) from one address before it must wait."""
    login_backoff: float = Field(default=1.0, gt=0)
    """The first wait after too many failed logins; it doubles with each further failure."""
    login_backoff_max: float = Field(default=60.0, gt=0)
    id_tags: dict[str, IdTagEntry] = Field(default_factory=dict)
    upstream_url: str | None = None
    """Proxy mode: each station is carried on to ``<upstream_url>/<station id>`` (the
    site's own CSMS); None: the console is the stations' Central System."""
    upstream_cafile: Path | None = None
    """The CA that signs a ``wss://`` upstream's certificate; None: the system store.
    The upstream's certificate is always verified."""
    upstream_credentials: dict[str, SecretStr] = Field(default_factory=dict)
    """Per station: the password the console sends upstream (HTTP Basic, user = station
    id) instead of the station's own credentials."""
    upstream_backoff: float = Field(default=1.0, gt=0)
    """After the upstream refused or dropped a station: the first wait before the console
    dials it again for that station (doubling with each failure)."""
    upstream_backoff_max: float = Field(default=60.0, gt=0)
    upstream_keep_stations: bool = False
    """Proxy mode, the CSMS unreachable or refusing a station: keep the station on the
    console alone (which answers it as its Central System) and have it reconnect through
    the proxy once the CSMS takes its link again; False: close the station's connection
    (it reconnects by its own logic) and refuse it until the backoff is over."""

    @field_validator("upstream_url")
    @classmethod
    def _upstream_is_websocket(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip().rstrip("/")
        if not value.startswith(("ws://", "wss://")):
            raise ValueError("the upstream URL must start with ws:// or wss://")
        return value

    def resolved_data_dir(self) -> Path:
        """The folder of the database: ``data_dir`` or the per-user data folder."""
        return self.data_dir if self.data_dir is not None else default_data_dir()

    def database_path(self) -> Path:
        return self.resolved_data_dir() / DATABASE_FILE_NAME

    def is_known_station(self, station_id: str) -> bool:
        return station_id in self.stations or station_id in self.authorization_keys

    def id_tag_entry(self, id_tag: str) -> IdTagEntry | None:
        """The settings' entry for an idTag (idTags compare case-insensitively)."""
        entry = self.id_tags.get(id_tag)
        if entry is not None:
            return entry
        folded = id_tag.casefold()
        for known, candidate in self.id_tags.items():
            if known.casefold() == folded:
                return candidate
        return None
