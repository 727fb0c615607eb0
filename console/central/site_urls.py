"""The URLs stations use to reach the Central System under a configuration.

One place for them: the running Central System, the stored site of a report, the settings'
restart question (the URL each station must be re-pointed to) and the window's status bar
all list them from here, LAN addresses first (a station cannot reach the loopback one).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Sequence
from urllib.parse import urlsplit

from console.central.config import CentralSystemConfig

__all__ = [
    "WILDCARD_HOSTS",
    "is_loopback_url",
    "lan_first",
    "local_ipv4_addresses",
    "site_url",
    "station_urls",
]

WILDCARD_HOSTS = frozenset({"0.0.0.0", "", "::"})
"""Bind addresses that listen on every network of the machine."""


def local_ipv4_addresses() -> list[str]:
    """This machine's IPv4 addresses, 127.0.0.1 first (best effort, stdlib only)."""
    found: list[str] = ["127.0.0.1"]
    try:
        for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET):
            address = str(info[4][0])
            if address not in found:
                found.append(address)
    except OSError:
        pass
    # The address of the default route; connecting a UDP socket sends nothing.
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        probe.connect(("192.0.2.1", 9))
        address = str(probe.getsockname()[0])
        if address not in found and address != "0.0.0.0":
            found.append(address)
    except OSError:
        pass
    finally:
        probe.close()
    return found


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
    return lan_first(station_urls(config, port, addresses))[0]


def is_loopback_url(url: str) -> bool:
    """Whether a station URL names this computer only (127.x, ::1, localhost)."""
    host = urlsplit(url).hostname or ""
    if host.casefold() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def lan_first(urls: Sequence[str]) -> list[str]:
    """The URLs a station on the site network can use first, loopback ones last."""
    return [url for url in urls if not is_loopback_url(url)] + [
        url for url in urls if is_loopback_url(url)
    ]


def _bracketed(host: str) -> str:
    return f"[{host}]" if ":" in host else host
