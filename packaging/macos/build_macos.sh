#!/usr/bin/env bash
# Build "OCPP Console.app" and a DMG on macOS; sign and notarize when an identity is given.
# Usage: packaging/macos/build_macos.sh
# Environment (all optional; without them the app is ad-hoc signed and not notarized):
#   MACOS_SIGN_IDENTITY   e.g. "Developer ID Application: Example GmbH (TEAMID)"
#   MACOS_NOTARY_PROFILE  a keychain profile made with `xcrun notarytool store-credentials`
#   or MACOS_NOTARY_APPLE_ID + MACOS_NOTARY_TEAM_ID + MACOS_NOTARY_PASSWORD (app-specific)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT="$ROOT/packaging/out"
PY=${PYTHON:-$ROOT/.venv/bin/python}
VERSION=$("$PY" -c 'import console; print(console.__version__)')
mkdir -p "$OUT"

"$PY" -m PyInstaller --noconfirm --clean --log-level WARN \
    --distpath "$OUT/dist" --workpath "$OUT/work" "$ROOT/packaging/ocpp-console.spec"
APP="$OUT/dist/OCPP Console.app"

QT_QPA_PLATFORM=offscreen "$APP/Contents/MacOS/ocpp-console" --self-test

IDENTITY=${MACOS_SIGN_IDENTITY:--}
codesign --force --deep --options runtime --timestamp=none --sign "$IDENTITY" "$APP"
if [ "$IDENTITY" != "-" ]; then
    codesign --force --deep --options runtime --timestamp --sign "$IDENTITY" "$APP"
fi

DMG="$OUT/ocpp-console-$VERSION.dmg"
rm -f "$DMG"
STAGE=$(mktemp -d)
cp -R "$APP" "$STAGE/"
ln -s /Applications "$STAGE/Applications"
hdiutil create -volname "OCPP Console" -srcfolder "$STAGE" -ov -format UDZO "$DMG"
rm -rf "$STAGE"

if [ "$IDENTITY" != "-" ]; then
    codesign --sign "$IDENTITY" --timestamp "$DMG"
    if [ -n "${MACOS_NOTARY_PROFILE:-}" ]; then
        xcrun notarytool submit "$DMG" --keychain-profile "$MACOS_NOTARY_PROFILE" --wait
    elif [ -n "${MACOS_NOTARY_APPLE_ID:-}" ]; then
        xcrun notarytool submit "$DMG" --apple-id "$MACOS_NOTARY_APPLE_ID" \
            --team-id "$MACOS_NOTARY_TEAM_ID" --password "$MACOS_NOTARY_PASSWORD" --wait
    fi
    if [ -n "${MACOS_NOTARY_PROFILE:-}${MACOS_NOTARY_APPLE_ID:-}" ]; then
        xcrun stapler staple "$DMG"
    fi
fi
echo "$DMG"
