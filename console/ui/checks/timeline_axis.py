"""The time axis of the check timeline: linear, or broken where the steps crowd.

A check's first steps run within milliseconds of each other, then step 7 waits twenty
seconds for an expiry. On a linear axis those steps fall on one pixel and cannot be told
apart. :func:`broken_axis` keeps the axis linear whenever everything that must be told apart
already is, and otherwise widens just the crowded stretches (each to the room its marks need)
and draws the rest, the long quiet stretches, linearly in what width is left. The widened
stretches are returned so that the picture can say where its axis is broken.

Pure arithmetic, seconds in and pixels out (no Qt): tested on its own.
"""

from __future__ import annotations

import bisect
import itertools
import math
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["Spread", "TimeAxis", "ZoomedStretch", "broken_axis", "linear_axis"]

MOST_FOR_STRETCHES = 0.75
"""At most this share of the width goes to widened stretches: the rest stays readable."""
_STRETCHED = 1.5
"""A piece drawn this many times wider than the linear scale would draw it is widened."""
_NOTABLE_EXTRA = 3.0
"""A stretch widened by fewer pixels than this is not worth a break in the axis."""
_SEARCH_ROUNDS = 60
_SAME_INSTANT = 1e-9


@dataclass(frozen=True, slots=True)
class Spread:
    """Two moments (seconds since the start) to draw at least ``pixels`` apart: two step
    marks whose numbers must not overlap, or the ends of a short status."""

    start: float
    end: float
    pixels: float


@dataclass(frozen=True, slots=True)
class ZoomedStretch:
    """A stretch of time drawn wider than the rest of the axis (seconds and pixels)."""

    start: float
    end: float
    left: float
    right: float
    factor: float
    """How many times wider than the rest of the axis it is drawn."""


@dataclass(frozen=True, slots=True)
class TimeAxis:
    """Where each moment goes: piecewise linear between knots (one piece if not broken)."""

    total: float
    """Seconds from the start to the end of the picture."""
    width: float
    """Pixels from the first to the last moment."""
    knots: tuple[float, ...]
    """Seconds, ascending, 0 and ``total`` included."""
    positions: tuple[float, ...]
    """The pixel of each knot."""
    scale: float
    """Pixels per second outside the zoomed stretches."""
    stretches: tuple[ZoomedStretch, ...] = ()

    @property
    def broken(self) -> bool:
        return bool(self.stretches)

    def position(self, seconds: float) -> float:
        """The pixel of a moment (clamped to the axis)."""
        if self.total <= 0:
            return 0.0
        seconds = min(self.total, max(0.0, seconds))
        index = bisect.bisect_right(self.knots, seconds) - 1
        index = min(max(index, 0), len(self.knots) - 2)
        return _between(self.knots, self.positions, index, seconds)

    def seconds_at(self, pixels: float) -> float:
        """The moment at a pixel (clamped to the axis): the inverse of :meth:`position`."""
        if self.width <= 0:
            return 0.0
        pixels = min(self.width, max(0.0, pixels))
        index = bisect.bisect_right(self.positions, pixels) - 1
        index = min(max(index, 0), len(self.positions) - 2)
        return _between(self.positions, self.knots, index, pixels)


def _between(xs: tuple[float, ...], ys: tuple[float, ...], index: int, x: float) -> float:
    x0, x1 = xs[index], xs[index + 1]
    y0, y1 = ys[index], ys[index + 1]
    if x1 <= x0:
        return y0
    return y0 + (x - x0) / (x1 - x0) * (y1 - y0)


def linear_axis(total: float, width: float) -> TimeAxis:
    total, width = max(0.0, total), max(0.0, width)
    scale = width / total if total > 0 else 0.0
    return TimeAxis(total, width, (0.0, total), (0.0, width), scale)


def broken_axis(
    total: float, width: float, moments: Iterable[float], spreads: Iterable[Spread]
) -> TimeAxis:
    """The axis of ``total`` seconds in ``width`` pixels, with every spread honoured if the
    width allows (if not, each gets its share of :data:`MOST_FOR_STRETCHES` of the width).

    ``moments`` are where something is drawn (status changes, reservation ends): they
    become knots, so that widening one stretch never moves them off their neighbours.
    """
    linear = linear_axis(total, width)
    if not 0 < linear.scale < math.inf:
        return linear
    wanted = [
        clipped
        for spread in spreads
        if (clipped := _clip(spread, linear.total)) is not None and clipped.pixels > 0
    ]
    if all((s.end - s.start) * linear.scale >= s.pixels for s in wanted):
        return linear

    knots = sorted(
        {0.0, linear.total}
        | {min(linear.total, max(0.0, m)) for m in moments}
        | {s.start for s in wanted}
        | {s.end for s in wanted}
    )
    gaps = [b - a for a, b in itertools.pairwise(knots)]
    # The least width of each piece: every spread over it asks its share of its pixels.
    least = [0.0] * len(gaps)
    for spread in wanted:
        density = spread.pixels / (spread.end - spread.start)
        first = bisect.bisect_left(knots, spread.start)
        last = bisect.bisect_left(knots, spread.end)
        for index in range(first, last):
            least[index] = max(least[index], density * gaps[index])
    asked = sum(least)
    if asked > MOST_FOR_STRETCHES * width:
        least = [value * MOST_FOR_STRETCHES * width / asked for value in least]

    scale = _solve_scale(gaps, least, width, linear.scale)
    widths = [max(low, scale * gap) for low, gap in zip(least, gaps, strict=True)]
    drawn = sum(widths)
    widths = [w * width / drawn for w in widths]
    scale *= width / drawn
    positions = [0.0]
    for piece in widths:
        positions.append(positions[-1] + piece)
    positions[-1] = width
    axis = TimeAxis(linear.total, width, tuple(knots), tuple(positions), scale)
    stretches = tuple(_stretches(axis, gaps, widths))
    return TimeAxis(linear.total, width, tuple(knots), tuple(positions), scale, stretches)


def _clip(spread: Spread, total: float) -> Spread | None:
    start = min(total, max(0.0, min(spread.start, spread.end)))
    end = min(total, max(0.0, spread.start, spread.end))
    # Two marks at the same instant (to the nanosecond; the trace keeps microseconds) cannot
    # be drawn apart on any time axis.
    return Spread(start, end, spread.pixels) if end - start >= _SAME_INSTANT else None


def _solve_scale(gaps: list[float], least: list[float], width: float, upper: float) -> float:
    """The scale k with sum(max(least, k * gap)) == width (it grows with k)."""
    low, high = 0.0, upper
    for _ in range(_SEARCH_ROUNDS):
        middle = (low + high) / 2
        drawn = sum(max(a, middle * g) for a, g in zip(least, gaps, strict=True))
        if drawn > width:
            high = middle
        else:
            low = middle
    return low


def _stretches(axis: TimeAxis, gaps: list[float], widths: list[float]) -> Iterable[ZoomedStretch]:
    run: list[int] = []

    def finish() -> ZoomedStretch | None:
        first, last = run[0], run[-1]
        seconds = sum(gaps[first : last + 1])
        pixels = sum(widths[first : last + 1])
        if pixels - seconds * axis.scale < _NOTABLE_EXTRA:
            return None
        return ZoomedStretch(
            axis.knots[first],
            axis.knots[last + 1],
            axis.positions[first],
            axis.positions[last + 1],
            pixels / (seconds * axis.scale) if seconds * axis.scale > 0 else float("inf"),
        )

    for index, (gap, piece) in enumerate(zip(gaps, widths, strict=True)):
        if piece > gap * axis.scale * _STRETCHED:
            run.append(index)
            continue
        if run:
            stretch = finish()
            if stretch is not None:
                yield stretch
            run = []
    if run:
        stretch = finish()
        if stretch is not None:
            yield stretch
