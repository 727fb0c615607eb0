; Inno Setup script: a per-user installer (no administrator rights needed) with a
; Start-menu entry, an uninstaller, and an optional firewall rule for the OCPP port.
; Built by packaging/windows/build_windows.ps1 (iscc /DAppVersion=... /DSourceDir=...).

#ifndef AppVersion
  #define AppVersion "0.0.0"
#endif
#ifndef SourceDir
  #define SourceDir "..\out\dist\ocpp-console"
#endif
#ifndef OutputDir
  #define OutputDir "..\out"
#endif

[Setup]
AppId={{7B0E3C52-5C1C-4C4B-9D1A-0CA0C0E5F16A}
AppName=OCPP Console
AppVersion={#AppVersion}
AppPublisher=OCPP Console developers
DefaultDirName={localappdata}\Programs\OCPP Console
DefaultGroupName=OCPP Console
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
OutputDir={#OutputDir}
OutputBaseFilename=ocpp-console-{#AppVersion}-setup
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
UninstallDisplayIcon={app}\ocpp-console.exe
SetupIconFile=..\..\resources\icons\app.ico
ArchitecturesInstallIn64BitMode=x64compatible

[Files]
Source: "{#SourceDir}\*"; DestDir: "{app}"; Flags: recursesubdirs createallsubdirs ignoreversion

[Icons]
Name: "{group}\OCPP Console"; Filename: "{app}\ocpp-console.exe"
Name: "{group}\OCPP Console self-test"; Filename: "{app}\ocpp-console.exe"; Parameters: "--self-test"
Name: "{group}\Uninstall OCPP Console"; Filename: "{uninstallexe}"

[Tasks]
Name: "firewall"; Description: "Allow charging stations to reach the console (Windows Firewall rule for TCP port 9000; needs administrator rights)"; Flags: unchecked

[Run]
; Stations connect to the console on TCP 9000. Without this rule Windows asks on first start.
Filename: "{sys}\netsh.exe"; Parameters: "advfirewall firewall add rule name=""OCPP Console"" dir=in action=allow protocol=TCP localport=9000 program=""{app}\ocpp-console.exe"""; Flags: runhidden shellexec; Verb: runas; Tasks: firewall
Filename: "{app}\ocpp-console.exe"; Description: "Start OCPP Console"; Flags: nowait postinstall skipifsilent

[UninstallRun]
Filename: "{sys}\netsh.exe"; Parameters: "advfirewall firewall delete rule name=""OCPP Console"""; Flags: runhidden; RunOnceId: "DelFirewallRule"
