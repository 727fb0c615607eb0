# Build the frozen folder and the per-user Inno Setup installer on Windows.
# Usage (PowerShell, from the repository root):
#   py -3.12 -m venv .venv; .venv\Scripts\pip install -e . pyinstaller
#   packaging\windows\build_windows.ps1
# Needs Inno Setup 6 (iscc.exe on PATH or in its default folder).
$ErrorActionPreference = "Stop"
$Root = Resolve-Path "$PSScriptRoot\..\.."
$Out = Join-Path $Root "packaging\out"
$Py = Join-Path $Root ".venv\Scripts\python.exe"
$Version = & $Py -c "import console; print(console.__version__)"

& $Py -m PyInstaller --noconfirm --clean --log-level WARN `
    --distpath "$Out\dist" --workpath "$Out\work" "$Root\packaging\ocpp-console.spec"
if ($LASTEXITCODE -ne 0) { throw "PyInstaller failed" }

# The frozen build must pass its own self-test before it is wrapped.
$env:QT_QPA_PLATFORM = "offscreen"
& "$Out\dist\ocpp-console\ocpp-console.exe" --self-test
if ($LASTEXITCODE -ne 0) { throw "self-test of the frozen build failed" }
Remove-Item Env:\QT_QPA_PLATFORM

$Iscc = (Get-Command iscc.exe -ErrorAction SilentlyContinue).Source
if (-not $Iscc) { $Iscc = "${env:ProgramFiles(x86)}\Inno Setup 6\ISCC.exe" }
& $Iscc "/DAppVersion=$Version" "/DSourceDir=$Out\dist\ocpp-console" "/DOutputDir=$Out" `
    "$Root\packaging\windows\ocpp-console.iss"
if ($LASTEXITCODE -ne 0) { throw "Inno Setup failed" }
Get-ChildItem "$Out\ocpp-console-*-setup.exe"
