"""The timeline's time axis: linear while nothing crowds, broken where steps do (no Qt)."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from console.ui.checks.timeline_axis import (
    MOST_FOR_STRETCHES,
    Spread,
    broken_axis,
    linear_axis,
)


def test_an_axis_where_nothing_crowds_stays_linear() -> None:
    axis = broken_axis(60, 600, [10, 30], [Spread(9, 29, 18), Spread(10, 30, 4)])
    assert not axis.broken
    assert axis == linear_axis(60, 600)
    assert axis.position(30) == 300
    assert axis.seconds_at(150) == 15


def test_steps_a_millisecond_apart_get_room_and_the_wait_keeps_the_rest() -> None:
    # Steps 1-7 of a real run within 32 ms, then a 20 s wait for the expiry.
    starts = [0.00019, 0.0065, 0.0094, 0.0171, 0.0185, 0.026, 0.0316, 20.267]
    spreads = [Spread(a, b, 18) for a, b in itertools.pairwise(starts)]
    axis = broken_axis(20.272, 1000, [0.0054, 0.0202, 0.0337, 20.2648], spreads)
    assert axis.broken
    xs = [axis.position(s) for s in starts]
    assert all(b - a >= 18 - 1e-6 for a, b in itertools.pairwise(xs))
    [first, *_rest] = axis.stretches
    assert first.start <= starts[0]
    assert first.end >= starts[6]
    assert first.factor > 10
    # The wait: linear, with most of the width.
    assert axis.position(15) - axis.position(5) == pytest.approx(10 * axis.scale)
    assert axis.position(20) - axis.position(0.04) > 0.8 * 1000
    assert axis.position(0) == 0
    assert axis.position(20.272) == 1000


def test_too_much_to_part_gets_at_most_its_share_of_the_width() -> None:
    spreads = [Spread(i * 0.001, (i + 1) * 0.001, 50) for i in range(40)]
    axis = broken_axis(60, 400, [], spreads)
    assert axis.position(0.04) == pytest.approx(MOST_FOR_STRETCHES * 400, rel=0.01)
    assert axis.position(60) == 400


spreads = st.builds(
    Spread,
    st.floats(-10, 100, allow_nan=False),
    st.floats(-10, 100, allow_nan=False),
    st.floats(0, 200, allow_nan=False),
)


@settings(max_examples=300, deadline=None)
@given(
    total=st.floats(0, 1e6, allow_nan=False),
    width=st.floats(0, 5000, allow_nan=False),
    moments=st.lists(st.floats(-10, 1e6, allow_nan=False), max_size=20),
    wanted=st.lists(spreads, max_size=20),
    probes=st.lists(st.floats(-100, 2e6, allow_nan=False), min_size=2, max_size=10),
)
def test_any_axis_is_monotonic_fills_its_width_and_inverts(
    total: float, width: float, moments: list[float], wanted: list[Spread], probes: list[float]
) -> None:
    axis = broken_axis(total, width, moments, wanted)
    assert axis.position(0) == pytest.approx(0, abs=1e-6)
    if total > 0:
        assert axis.position(total) == pytest.approx(width, abs=1e-6)
    positions = [axis.position(p) for p in sorted(probes)]
    assert all(b >= a - 1e-6 for a, b in itertools.pairwise(positions))
    assert all(-1e-6 <= x <= width + 1e-6 for x in positions)
    for stretch in axis.stretches:
        assert 0 <= stretch.start < stretch.end <= total
        assert stretch.left <= stretch.right
    if total > 0 and width > 0:
        for probe in probes:
            seconds = min(total, max(0.0, probe))
            back = axis.seconds_at(axis.position(seconds))
            # Exact where the axis is not flat (a piece may get no width at all).
            assert axis.position(back) == pytest.approx(axis.position(seconds), abs=1e-6)
    # Honoured when they fit: each clipped spread gets its pixels.
    clipped = [
        (min(total, max(0.0, min(s.start, s.end))), min(total, max(0.0, s.start, s.end)), s)
        for s in wanted
    ]
    asked = sum(s.pixels for a, b, s in clipped if b - a >= 1e-9)
    if (
        total > 0
        and width > 0
        and asked <= MOST_FOR_STRETCHES * width * 0.5
        and all(
            # Nested or overlapping spreads may ask the same pieces twice: only disjoint ones.
            b1 <= a2 or b2 <= a1
            for (a1, b1, _), (a2, b2, _) in itertools.combinations(
                [c for c in clipped if c[1] - c[0] >= 1e-9], 2
            )
        )
    ):
        for a, b, spread in clipped:
            if b - a >= 1e-9:
                assert axis.position(b) - axis.position(a) >= spread.pixels - 1e-3
