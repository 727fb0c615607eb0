#!/usr/bin/env bash
# Build the frozen one-folder app and wrap it in a .deb (installs to /opt/ocpp-console).
# Usage: packaging/linux/build_deb.sh [output-folder]   (default: packaging/out)
# Needs: the project's venv with pyinstaller (`.venv/bin/pip install pyinstaller`), dpkg-deb.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT=${1:-$ROOT/packaging/out}
PY=${PYTHON:-$ROOT/.venv/bin/python}
VERSION=$("$PY" -c 'import console; print(console.__version__)')
ARCH=$(dpkg --print-architecture)
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

"$PY" -m PyInstaller --noconfirm --clean --log-level WARN \
    --distpath "$OUT/dist" --workpath "$OUT/work" "$ROOT/packaging/ocpp-console.spec"

STAGE="$OUT/deb-root"
rm -rf "$STAGE"
mkdir -p "$STAGE/DEBIAN" "$STAGE/opt" "$STAGE/usr/bin" \
    "$STAGE/usr/share/applications" "$STAGE/usr/share/icons/hicolor/256x256/apps" \
    "$STAGE/usr/share/icons/hicolor/scalable/apps"
cp -a "$OUT/dist/ocpp-console" "$STAGE/opt/ocpp-console"
ln -s /opt/ocpp-console/ocpp-console "$STAGE/usr/bin/ocpp-console"
cp "$ROOT/resources/ocpp-console.desktop" "$STAGE/usr/share/applications/"
cp "$ROOT/resources/icons/app.png" "$STAGE/usr/share/icons/hicolor/256x256/apps/ocpp-console.png"
cp "$ROOT/resources/icons/app.svg" "$STAGE/usr/share/icons/hicolor/scalable/apps/ocpp-console.svg"

SIZE_KB=$(du -sk "$STAGE" | cut -f1)
# Qt's xcb platform plugin needs these at run time; they are not bundled on purpose
# (they must match the system's X server and GL drivers).
# The heredoc expands $VERSION and friends: no backticks or $( ) in its text, they would
# run at build time.
cat > "$STAGE/DEBIAN/control" <<CONTROL
Package: ocpp-console
Version: $VERSION
Section: electronics
Priority: optional
Architecture: $ARCH
Installed-Size: $SIZE_KB
Maintainer: OCPP Console developers <dev@ocpp-console.invalid>
Depends: libc6, libegl1, libgl1, libfontconfig1, libfreetype6, libglib2.0-0 | libglib2.0-0t64, libdbus-1-3, libx11-6, libx11-xcb1, libxcb1, libxcb-cursor0, libxcb-icccm4, libxcb-keysyms1, libxcb-image0, libxcb-render-util0, libxcb-randr0, libxcb-shape0, libxcb-xfixes0, libxcb-xkb1, libxkbcommon0, libxkbcommon-x11-0
Description: OCPP 1.6-J Central System console for commissioning EV chargers
 Shows every station and connector live, reserves a connector for an idTag
 (ReserveNow), cancels reservations (CancelReservation) and shows what each
 station answered. Run "ocpp-console --self-test" to check an installation.
CONTROL
find "$STAGE" -type d -exec chmod 755 {} +
DEB="$OUT/ocpp-console_${VERSION}_${ARCH}.deb"
dpkg-deb --root-owner-group -Zxz --build "$STAGE" "$DEB" >/dev/null
echo "$DEB"
