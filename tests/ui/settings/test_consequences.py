"""The words of the settings' consequences (no Qt): many stations, a free port, TLS."""

from __future__ import annotations

from console.central.admission import Admission, AdmissionKind
from console.ui.settings.consequences import admission_text, refused_text, restart_text

OLD = "ws://192.168.1.20:9000/"


def test_many_stations_are_summed_up_per_outcome() -> None:
    admissions = [
        Admission(f"CP-{n:02d}", AdmissionKind.LET_IN, "no key: let in") for n in range(1, 12)
    ] + [Admission("CP-99", AdmissionKind.REFUSED, "unknown station CP-99")]
    assert admission_text(admissions).splitlines() == [
        "After OK, the 12 stations connected now:",
        "Let in: 11 (CP-01, CP-02, CP-03, CP-04 and 7 more)",
        "Will be refused: 1 (CP-99)",
    ]
    assert refused_text(admissions) == (
        "1 station connected now will be refused after the restart: CP-99."
    )
    assert admission_text([]) == "No station is connected now."
    assert refused_text(admissions[:3]) == ""


def test_the_same_url_means_the_stations_come_back_by_themselves() -> None:
    text = restart_text(connected=["CP-01"], following=(), old_url=OLD, new_url=OLD)
    assert "reconnect by themselves" in text
    assert restart_text(connected=[], following=(), old_url=OLD, new_url=OLD) == (
        "The Central System restarts to use them."
    )


def test_a_new_port_with_nobody_connected_still_says_re_point() -> None:
    text = restart_text(connected=[], following=(), old_url=OLD, new_url="ws://192.168.1.20:9100/")
    assert "ws://192.168.1.20:9100/<station id>" in text
    assert "Each station must be re-pointed to it" in text


def test_a_free_port_chosen_at_the_restart_points_to_the_status_bar() -> None:
    text = restart_text(connected=["CP-01"], following=(), old_url=OLD, new_url=None)
    assert "a port chosen at the restart (the status bar shows it)" in text
    assert "must be re-pointed to the new port" in text


def test_demo_and_real_stations_together() -> None:
    text = restart_text(
        connected=["CP-01", "CP-02", "SITE-7"],
        following={"CP-01", "CP-02"},
        old_url=OLD,
        new_url="ws://192.168.1.20:9100/",
    )
    assert "The 2 stations of the demo follow the console there by themselves." in text
    assert "Connected now: SITE-7." in text


def test_the_demo_does_not_follow_to_tls() -> None:
    # The simulated stations trust no certificate: they cannot follow to wss://.
    text = restart_text(
        connected=["CP-01"],
        following={"CP-01"},
        old_url=OLD,
        new_url="wss://192.168.1.20:9000/",
    )
    assert "follow the console" not in text
    assert "Connected now: CP-01." in text
