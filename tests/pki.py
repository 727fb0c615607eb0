"""Throwaway certificates for TLS tests (security profiles 2 and 3), made with openssl."""

from __future__ import annotations

import subprocess
from pathlib import Path

__all__ = ["make_ca", "make_cert", "make_test_pki"]

_SERVER_EXTENSIONS = "subjectAltName=IP:127.0.0.1,DNS:localhost\n"


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


def make_ca(folder: Path, name: str) -> None:
    """``<name>.pem`` and ``<name>.key``: a self-signed CA."""
    _openssl(
        "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-days", "2", "-subj", f"/CN={name}", "-keyout", f"{name}.key", "-out", f"{name}.pem",
        cwd=folder,
    )  # fmt: skip


def make_cert(folder: Path, name: str, ca: str, subject: str, *, server: bool) -> None:
    """``<name>.pem`` and ``<name>.key`` signed by ``<ca>``; a server one is for 127.0.0.1."""
    _openssl(
        "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-subj", subject, "-keyout", f"{name}.key", "-out", f"{name}.csr", cwd=folder,
    )  # fmt: skip
    extra: list[str] = []
    if server:
        (folder / "server.ext").write_text(_SERVER_EXTENSIONS)
        extra = ["-extfile", "server.ext"]
    _openssl(
        "x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.pem", "-CAkey", f"{ca}.key",
        "-CAcreateserial", "-days", "2", "-out", f"{name}.pem", *extra, cwd=folder,
    )  # fmt: skip


def make_test_pki(folder: Path) -> Path:
    """``ca``, a ``server`` certificate for 127.0.0.1 and a ``client`` one for CP-TLS."""
    make_ca(folder, "ca")
    make_cert(folder, "server", "ca", "/CN=localhost", server=True)
    make_cert(folder, "client", "ca", "/CN=CP-TLS", server=False)
    return folder
