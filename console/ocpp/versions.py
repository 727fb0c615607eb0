"""The OCPP versions a connection can speak, and the WebSocket subprotocol naming each."""

from __future__ import annotations

from enum import StrEnum

__all__ = ["OcppVersion"]


class OcppVersion(StrEnum):
    """An OCPP-J version, valued as people write it ("1.6", "2.0.1")."""

    V16 = "1.6"
    V201 = "2.0.1"

    @property
    def subprotocol(self) -> str:
        """The Sec-WebSocket-Protocol name of this version (``ocpp1.6``, ``ocpp2.0.1``)."""
        return f"ocpp{self.value}"

    @classmethod
    def from_subprotocol(cls, name: str) -> OcppVersion | None:
        """The version a subprotocol name stands for; None for any other name.

        Exact and case-sensitive: RFC 6455 subprotocol names are compared as tokens.
        """
        for version in cls:
            if version.subprotocol == name:
                return version
        return None
