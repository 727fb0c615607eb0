"""The frozen build and its .deb: built, installed, and its self-test run offscreen.

Slow (a PyInstaller build and xz compression, about two minutes), so it has its own marker
and is not part of the default run: `.ci/run` runs it with `pytest -m packaging`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.packaging

ROOT = Path(__file__).resolve().parents[2]
# Qt's xcb platform needs these from the system; the package must say so.
XCB_DEPENDENCIES = ("libxcb-cursor0", "libxcb-icccm4", "libxcb-keysyms1", "libxkbcommon-x11-0")


def _needs(tool: str) -> None:
    if shutil.which(tool) is None:
        pytest.skip(f"{tool} is not installed")


@pytest.fixture(scope="module")
def deb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    _needs("dpkg-deb")
    pytest.importorskip("PyInstaller")
    out = tmp_path_factory.mktemp("packaging")
    env = {**os.environ, "PYTHON": sys.executable}
    built = subprocess.run(
        [str(ROOT / "packaging" / "linux" / "build_deb.sh"), str(out)],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert built.returncode == 0, built.stderr[-3000:]
    path = Path(built.stdout.strip().splitlines()[-1])
    assert path.is_file()
    return path


def _self_test_env(home: Path) -> dict[str, str]:
    return {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / "config"),
        "XDG_DATA_HOME": str(home / "data"),
    }


def _run_self_test(executable: Path, home: Path) -> subprocess.CompletedProcess[str]:
    home.mkdir(parents=True, exist_ok=True)
    return subprocess.run(
        [str(executable), "--self-test"],
        env=_self_test_env(home),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.timeout(1200)
def test_deb_metadata_and_contents(deb: Path) -> None:
    fields = subprocess.run(
        ["dpkg-deb", "-f", str(deb), "Package", "Depends", "Installed-Size"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "Package: ocpp-console" in fields
    description = subprocess.run(
        ["dpkg-deb", "-f", str(deb), "Description"], capture_output=True, text=True, check=True
    ).stdout
    # Words from the build script, not the output of a command run while building.
    assert 'Run "ocpp-console --self-test" to check an installation.' in description
    for dependency in XCB_DEPENDENCIES:
        assert dependency in fields
    contents = subprocess.run(
        ["dpkg-deb", "-c", str(deb)], capture_output=True, text=True, check=True
    ).stdout
    for path in (
        "./opt/ocpp-console/ocpp-console",
        "./usr/bin/ocpp-console -> /opt/ocpp-console/ocpp-console",
        "./usr/share/applications/ocpp-console.desktop",
        "./usr/share/icons/hicolor/256x256/apps/ocpp-console.png",
        "resources/style.qss",
    ):
        assert path in contents
    # Only PySide6-Essentials' widgets stack: no QML, no Quick, no WebEngine.
    for unwanted in ("libQt6Quick", "libQt6Qml.", "WebEngine", "screenshots/"):
        assert unwanted not in contents
    assert deb.stat().st_size < 80 * 2**20


@pytest.mark.timeout(1200)
def test_self_test_of_the_package_in_a_throwaway_root(deb: Path, tmp_path: Path) -> None:
    _needs("dpkg")
    root = tmp_path / "root"
    subprocess.run(["dpkg", "-x", str(deb), str(root)], check=True)
    result = _run_self_test(root / "opt" / "ocpp-console" / "ocpp-console", tmp_path / "home")
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    assert "self-test: OK" in result.stdout


@pytest.mark.timeout(1200)
def test_apt_installs_the_package_and_it_runs(deb: Path, tmp_path: Path) -> None:
    # Installing on the machine needs root (CI runs as root); elsewhere the throwaway root
    # above is the check.
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        pytest.skip("installing a package needs root and apt-get")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    installed = subprocess.run(
        ["apt-get", "install", "-y", "-q", str(deb)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if installed.returncode != 0:
        # A new machine may have no package lists yet for the dependencies.
        subprocess.run(["apt-get", "update", "-qq"], env=env, timeout=600, check=False)
        installed = subprocess.run(
            ["apt-get", "install", "-y", "-q", str(deb)],
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
    assert installed.returncode == 0, installed.stdout[-2000:] + installed.stderr[-2000:]
    try:
        launcher = Path("/usr/bin/ocpp-console")
        assert launcher.resolve() == Path("/opt/ocpp-console/ocpp-console")
        result = _run_self_test(launcher, tmp_path / "home")
        assert result.returncode == 0, result.stdout + result.stderr[-3000:]
        assert "self-test: OK" in result.stdout
    finally:
        subprocess.run(
            ["apt-get", "remove", "-y", "-q", "ocpp-console"],
            env=env,
            capture_output=True,
            timeout=300,
            check=False,
        )
