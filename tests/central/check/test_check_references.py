"""Every step each version can plan has its title and official reference in the one table."""

from __future__ import annotations

import pytest

from console.central.check.model import STEPS_V16, STEPS_V201, CheckStep, StepResult
from console.central.check.references import REFERENCES
from console.ocpp.versions import OcppVersion


@pytest.mark.parametrize(
    ("version", "planned"), [(OcppVersion.V16, STEPS_V16), (OcppVersion.V201, STEPS_V201)]
)
def test_the_reference_table_is_complete(
    version: OcppVersion, planned: tuple[CheckStep, ...]
) -> None:
    for step in planned:
        row = REFERENCES[(step.value, version)]
        assert row.title, step
        assert row.requirement, step
        shown = StepResult(step, None, ocpp_version=version)
        assert shown.reference == row.text
        assert shown.title == row.title
    # No row for a step the version does not plan (a stale row is a wrong reference).
    assert {s for s, v in REFERENCES if v is version} == {s.value for s in planned}
    assert set(STEPS_V16) | set(STEPS_V201) == set(CheckStep)


def test_a_reference_names_the_test_case_then_the_requirement() -> None:
    expiry16 = StepResult(CheckStep.EXPIRY, 1).reference
    assert expiry16.startswith('TC_047_CS · 1.6 §5.13 "when a reservation expires')
    assert StepResult(CheckStep.EXPIRY, 1, ocpp_version=OcppVersion.V201).reference == (
        "TC_H_07 · H04 at expiryDateTime: ReservationStatusUpdate Expired, then Available"
    )
    # No test case: the requirement alone.
    replace16 = StepResult(CheckStep.REPLACE, 1).reference
    assert replace16.startswith("1.6 §5.13")
