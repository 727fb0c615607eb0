"""Credentials and TLS of the OCPP 1.6 security profiles.

Profile 1 and 2 stations send HTTP Basic credentials (user = station id, password = its
AuthorizationKey). Keys are stored only as salted scrypt (or PBKDF2) hashes in a
self-describing string, and compared in constant time. Nothing here logs a secret.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import ssl
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "BasicCredentials",
    "build_server_ssl_context",
    "hash_authorization_key",
    "parse_basic_authorization",
    "verify_authorization_key",
]

# scrypt with n=2**14, r=8 takes ~16 MiB and some tens of milliseconds: slow for guessing,
# fast enough for a handshake (run in a thread so the loop never waits for it).
_SCRYPT_N = 2**14
_SCRYPT_R = 8
_SCRYPT_P = 1
_PBKDF2_ITERATIONS = 200_000


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def hash_authorization_key(key: str, *, method: str = "scrypt") -> str:
    """Hash an AuthorizationKey for storing: ``scrypt$n$r$p$salt$hash`` (base64 parts).

    ``method="pbkdf2"`` gives ``pbkdf2_sha256$iterations$salt$hash`` instead.
    """
    salt = os.urandom(16)
    secret = key.encode("utf-8")
    if method == "scrypt":
        digest = hashlib.scrypt(secret, salt=salt, n=_SCRYPT_N, r=_SCRYPT_R, p=_SCRYPT_P, dklen=32)
        return f"scrypt${_SCRYPT_N}${_SCRYPT_R}${_SCRYPT_P}${_b64(salt)}${_b64(digest)}"
    if method == "pbkdf2":
        digest = hashlib.pbkdf2_hmac("sha256", secret, salt, _PBKDF2_ITERATIONS)
        return f"pbkdf2_sha256${_PBKDF2_ITERATIONS}${_b64(salt)}${_b64(digest)}"
    raise ValueError(f"unknown hash method {method!r} (scrypt or pbkdf2)")


def verify_authorization_key(key: str, hashed: str) -> bool:
    """Whether ``key`` matches ``hashed`` (a string from :func:`hash_authorization_key`).

    An unreadable ``hashed`` never matches. The comparison takes constant time.
    """
    secret = key.encode("utf-8")
    parts = hashed.split("$")
    try:
        if parts[0] == "scrypt" and len(parts) == 6:
            n, r, p = int(parts[1]), int(parts[2]), int(parts[3])
            salt = base64.b64decode(parts[4], validate=True)
            expected = base64.b64decode(parts[5], validate=True)
            actual = hashlib.scrypt(
                secret, salt=salt, n=n, r=r, p=p, dklen=len(expected), maxmem=2**26
            )
        elif parts[0] == "pbkdf2_sha256" and len(parts) == 4:
            iterations = int(parts[1])
            salt = base64.b64decode(parts[2], validate=True)
            expected = base64.b64decode(parts[3], validate=True)
            actual = hashlib.pbkdf2_hmac("sha256", secret, salt, iterations, len(expected))
        else:
            return False
    except (ValueError, binascii.Error):
        return False
    return hmac.compare_digest(actual, expected)


@dataclass(frozen=True, slots=True)
class BasicCredentials:
    """User and password of an HTTP Basic ``Authorization`` header."""

    user: str
    password: str

    def __repr__(self) -> str:
        # Never let the password reach a log line through a repr.
        return f"BasicCredentials(user={self.user!r}, password=***)"


def parse_basic_authorization(header: str | None) -> BasicCredentials | None:
    """Read an HTTP Basic ``Authorization`` header; None if absent or unreadable.

    OCPP passwords may be any bytes in theory; they are read as UTF-8, then Latin-1.
    """
    if not header:
        return None
    scheme, _, encoded = header.strip().partition(" ")
    if scheme.lower() != "basic" or not encoded.strip():
        return None
    try:
        raw = base64.b64decode(encoded.strip(), validate=True)
    except (ValueError, binascii.Error):
        return None
    try:
        decoded = raw.decode("utf-8")
    except UnicodeDecodeError:
        decoded = raw.decode("latin-1")
    user, colon, password = decoded.partition(":")
    if not colon:
        return None
    return BasicCredentials(user, password)


def build_server_ssl_context(
    security_profile: int,
    certfile: Path | None,
    keyfile: Path | None,
    cafile: Path | None,
) -> ssl.SSLContext | None:
    """The TLS context of profiles 2 (server certificate) and 3 (also client certificates).

    Returns None for profiles 0 and 1. Raises ``ValueError`` when a file the profile needs
    is not given, and ``OSError``/``ssl.SSLError`` when a file cannot be read.
    """
    if security_profile < 2:
        return None
    if certfile is None:
        raise ValueError(f"security profile {security_profile} needs a server certificate file")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(certfile, keyfile)
    if security_profile >= 3:
        if cafile is None:
            raise ValueError("security profile 3 needs a CA file to check station certificates")
        context.load_verify_locations(cafile)
        context.verify_mode = ssl.CERT_REQUIRED
    return context
