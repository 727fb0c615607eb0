"""The prediction the settings dialog shows: what the handshake will do with a station."""

from __future__ import annotations

import base64
import itertools

import pytest

from console.central.admission import AdmissionKind, predict_admission
from console.central.config import CentralSystemConfig
from console.central.handshake import (
    HandshakeRefusal,
    check_credentials,
    check_handshake,
)
from console.central.security import hash_authorization_key

KEY = "0123456789abcdef-secret"
HASHED = hash_authorization_key(KEY, method="pbkdf2")


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def config(profile: int, *, accept_unknown: bool = True, **extra: object) -> CentralSystemConfig:
    return CentralSystemConfig.model_validate(
        {
            "security_profile": profile,
            "accept_unknown_stations": accept_unknown,
            "authorization_keys": {"CP-01": HASHED},
            **extra,
        }
    )


def test_profile_0_lets_every_station_in() -> None:
    for station_id in ("CP-01", "CP-02"):
        admission = predict_admission(config(0), station_id)
        assert admission.kind is AdmissionKind.LET_IN
        assert admission.station_id == station_id


def test_profile_1_with_unknown_stations_accepted_asks_a_key_only_of_the_keyed_station() -> None:
    keyed = predict_admission(config(1), "CP-01")
    assert keyed.kind is AdmissionKind.MUST_SEND_KEY
    assert keyed.reason == "has a key: must send it"
    other = predict_admission(config(1), "CP-02")
    assert other.kind is AdmissionKind.LET_IN
    assert other.reason == "no key: let in (unknown stations are accepted)"


def test_unknown_stations_refused_refuses_the_stations_without_a_key() -> None:
    strict = config(1, accept_unknown=False)
    assert predict_admission(strict, "CP-01").kind is AdmissionKind.MUST_SEND_KEY
    refused = predict_admission(strict, "CP-02")
    assert refused.kind is AdmissionKind.REFUSED
    assert "unknown station CP-02" in refused.reason
    # known (registered) but without a key: the password check refuses it
    known = predict_admission(strict.model_copy(update={"stations": frozenset({"CP-02"})}), "CP-02")
    assert known.kind is AdmissionKind.REFUSED
    assert "no AuthorizationKey" in known.reason
    # profile 0 refuses unknown stations too when told to
    assert predict_admission(config(0, accept_unknown=False), "CP-02").kind is (
        AdmissionKind.REFUSED
    )


def test_profile_3_asks_a_certificate_naming_the_station() -> None:
    admission = predict_admission(config(3), "CP-02")
    assert admission.kind is AdmissionKind.MUST_SHOW_CERTIFICATE
    assert "CP-02" in admission.reason


@pytest.mark.parametrize(
    ("profile", "accept_unknown", "known"),
    list(itertools.product((0, 1, 2), (True, False), (False, True))),
)
def test_the_prediction_is_what_the_handshake_does(
    profile: int, accept_unknown: bool, known: bool
) -> None:
    # For each station: without credentials, with a wrong key, with the right key.
    cfg = config(
        profile,
        accept_unknown=accept_unknown,
        stations=frozenset({"CP-03"}) if known else frozenset(),
    )
    for station_id in ("CP-01", "CP-02", "CP-03"):
        predicted = predict_admission(cfg, station_id).kind

        def admitted(authorization: str | None, station_id: str = station_id) -> bool:
            if isinstance(check_handshake(cfg, f"/{station_id}"), str):
                return check_credentials(cfg, station_id, authorization) is None
            return False

        without = admitted(None)
        wrong = admitted(basic(station_id, "not-the-key"))
        right = admitted(basic(station_id, KEY))
        if predicted is AdmissionKind.LET_IN:
            assert (without, wrong, right) == (True, True, True)
        elif predicted is AdmissionKind.MUST_SEND_KEY:
            assert (without, wrong, right) == (False, False, True)
        else:
            assert predicted is AdmissionKind.REFUSED
            assert (without, wrong, right) == (False, False, False)
            refusal = check_handshake(cfg, f"/{station_id}")
            if not isinstance(refusal, HandshakeRefusal):
                refusal = check_credentials(cfg, station_id, basic(station_id, KEY))
            assert refusal is not None
            assert refusal.reason == predict_admission(cfg, station_id).reason
