"""The URL stations use under a configuration (said before the Central System runs it)."""

from __future__ import annotations

from console.central.config import CentralSystemConfig
from console.central.site_urls import site_url, station_urls

ADDRESSES = ["127.0.0.1", "192.168.1.20"]


def test_a_wildcard_bind_gives_every_address_and_the_lan_one_for_the_site() -> None:
    config = CentralSystemConfig(host="0.0.0.0", port=9100)
    assert station_urls(config, addresses=ADDRESSES) == [
        "ws://127.0.0.1:9100/",
        "ws://192.168.1.20:9100/",
    ]
    assert site_url(config, addresses=ADDRESSES) == "ws://192.168.1.20:9100/"
    # no LAN address: the loopback one rather than nothing
    assert site_url(config, addresses=["127.0.0.1"]) == "ws://127.0.0.1:9100/"


def test_tls_profiles_the_running_port_and_a_fixed_host() -> None:
    config = CentralSystemConfig(host="10.0.0.5", port=0, security_profile=2)
    assert station_urls(config, port=39143) == ["wss://10.0.0.5:39143/"]
    assert site_url(CentralSystemConfig(host="::1", port=9000)) == "ws://[::1]:9000/"
