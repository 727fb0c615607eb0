"""What a settings change will do to the site, in words, said before the technician confirms.

Two things a change can do to stations that are working now: a new security profile, key
list or "accept unknown stations" changes which of them the handshake lets in
(:func:`admission_text`), and a new port, address or TLS changes the URL every station
must dial (:func:`restart_text`). The facts come from ``console.central`` (the handshake's
own rules, the URLs of a configuration); this module only words them.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from console.central.admission import Admission, AdmissionKind

__all__ = ["ADMISSION_FIELDS", "admission_text", "refused_text", "restart_text"]

ADMISSION_FIELDS = frozenset({"security_profile", "authorization_keys", "accept_unknown_stations"})
"""Settings that change which stations the handshake lets in."""

_LISTED_ONE_BY_ONE = 10
"""Up to this many stations get a line each; more are summed up per outcome."""
_IDS_IN_SUMMARY = 4

_PLURAL_OUTCOME = {
    AdmissionKind.LET_IN: "Let in",
    AdmissionKind.MUST_SEND_KEY: "Must send their key",
    AdmissionKind.MUST_SHOW_CERTIFICATE: "Must show a certificate naming them",
    AdmissionKind.REFUSED: "Will be refused",
}


def admission_text(admissions: Sequence[Admission]) -> str:
    """What happens to each connected station after OK, one line per station (or per
    outcome when there are many)."""
    if not admissions:
        return "No station is connected now."
    count = len(admissions)
    lines = [f"After OK, the {_stations(count)} connected now:"]
    if count <= _LISTED_ONE_BY_ONE:
        lines += [f"{a.station_id} — {_outcome(a)}" for a in admissions]
        return "\n".join(lines)
    for kind, title in _PLURAL_OUTCOME.items():
        ids = [a.station_id for a in admissions if a.kind is kind]
        if ids:
            lines.append(f"{title}: {len(ids)} ({_some(ids)})")
    return "\n".join(lines)


def refused_text(admissions: Sequence[Admission]) -> str:
    """One sentence on the connected stations that will be refused (empty if none)."""
    refused = [a.station_id for a in admissions if a.kind is AdmissionKind.REFUSED]
    if not refused:
        return ""
    return (
        f"{_stations(len(refused)).capitalize()} connected now will be refused after the "
        f"restart: {_some(refused)}."
    )


def restart_text(
    *,
    connected: Sequence[str],
    following: Collection[str],
    old_url: str,
    new_url: str | None,
) -> str:
    """What the restart does to the stations.

    ``connected``: the stations connected now; ``following``: those that follow the console
    to a new URL by themselves (the demo's simulated stations); ``new_url``: the URL after
    the restart (None when a free port is chosen then).
    """
    if new_url == old_url:
        if not connected:
            return "The Central System restarts to use them."
        return (
            f"The Central System restarts to use them: the {len(connected)} connected "
            "station(s) are disconnected and reconnect by themselves (real stations after "
            "their retry interval)."
        )
    template = f"{new_url}<station id>" if new_url else None
    lines = [
        "The Central System restarts to use them, and stations must then connect to "
        + (
            f"a new URL:\n{template}"
            if template
            else "a port chosen at the restart (the status bar shows it)."
        )
    ]
    same_scheme = new_url is not None and _scheme(new_url) == _scheme(old_url)
    followers = [s for s in connected if s in following] if same_scheme else []
    real = [s for s in connected if s not in followers]
    if followers:
        lines.append(
            f"The {_stations(len(followers))} of the demo follow the console there by themselves."
        )
    target = "it" if template else "the new port"
    if real:
        lines.append(
            f"Each real station must be re-pointed to {target} in its own configuration "
            f"(its Central System URL); until then it stays offline. Connected now: "
            f"{_some(real, 8)}."
        )
    elif not followers:
        lines.append(
            f"Each station must be re-pointed to {target} in its own configuration (its "
            "Central System URL); until then it cannot connect."
        )
    else:
        lines.append(f"Any real station must be re-pointed to {target} in its own configuration.")
    return "\n\n".join(lines)


def _outcome(admission: Admission) -> str:
    if admission.kind is AdmissionKind.REFUSED:
        return f"will be refused: {admission.reason}"
    return admission.reason


def _stations(count: int) -> str:
    return f"{count} station" if count == 1 else f"{count} stations"


def _some(ids: Sequence[str], shown: int = _IDS_IN_SUMMARY) -> str:
    if len(ids) <= shown:
        return ", ".join(ids)
    return f"{', '.join(ids[:shown])} and {len(ids) - shown} more"


def _scheme(url: str) -> str:
    return url.split("://", 1)[0]
