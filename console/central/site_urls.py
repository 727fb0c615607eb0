"""The URLs stations use to reach the Central System under a configuration.

Used where a URL must be said before the Central System runs with that configuration (the
settings' restart question names the URL each station must be re-pointed to).
"""

from __future__ import annotations

from collections.abc import Sequence

from console.central.config import CentralSystemConfig
from console.central.server import local_ipv4_addresses

__all__ = ["WILDCARD_HOSTS", "site_url", "station_urls"]

WILDCARD_HOSTS = frozenset({"0.0.0.0", "", "::"})
"""Bind addresses that listen on every network of the machine."""


def station_urls(
    config: CentralSystemConfig,
    port: int | None = None,
    addresses: Sequence[str] | None = None,
) -> list[str]:
    """``ws[s]://ADDRESS:PORT/`` for each address stations may use with ``config``.

    ``port``: the port really listened on (when ``config.port`` is 0); ``addresses``: this
    machine's addresses (found when not given and the bind address is a wildcard).
    """
    scheme = "wss" if config.security_profile >= 2 else "ws"
    chosen_port = port or config.port
    if config.host not in WILDCARD_HOSTS:
        hosts: Sequence[str] = [config.host]
    else:
        hosts = addresses if addresses is not None else local_ipv4_addresses()
    return [f"{scheme}://{_bracketed(host)}:{chosen_port}/" for host in hosts]


def site_url(
    config: CentralSystemConfig,
    port: int | None = None,
    addresses: Sequence[str] | None = None,
) -> str:
    """The one URL to give the site's stations: a LAN address when there is one (a station
    cannot reach the console's loopback address), else the first."""
    urls = station_urls(config, port, addresses)
    lan = [url for url in urls if not _is_loopback(url)]
    return (lan or urls)[0]


def _bracketed(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _is_loopback(url: str) -> bool:
    host = url.split("://", 1)[1].rsplit(":", 1)[0]
    return host.startswith("127.") or host in ("localhost", "[::1]")
