"""Which EVSEs the reservations without an EVSE need: a matching of reservations to EVSEs.

A reservation without evseId (H01.FR.07), or with only a connectorType (H01.FR.09), is
kept when the station can still give every such reservation an EVSE of its own that
suits it. That is a bipartite matching: each reservation's *demand* is the set of
free EVSEs that suit it, and every demand must get a different EVSE. An EVSE is
*needed* when without it some demand can no longer be met; those are the EVSEs the
station reports Reserved and refuses to other tokens. Without connector types that is
exactly H01.FR.23 (as many reservations as free EVSEs: all of them are needed); with
types it is H01.FR.24 and the mixed cases it leaves open.

Stations have a handful of EVSEs, so the simple augmenting-path matching is plenty.
"""

from __future__ import annotations

from collections.abc import Sequence
from collections.abc import Set as AbstractSet

__all__ = ["assign", "feasible", "keep_oldest", "needed"]


def assign(demands: Sequence[AbstractSet[int]]) -> list[int] | None:
    """An EVSE for every demand, none given twice; None when that is impossible."""
    owner: dict[int, int] = {}  # EVSE -> index of the demand it serves

    def place(index: int, tried: set[int]) -> bool:
        for evse in sorted(demands[index]):
            if evse in tried:
                continue
            tried.add(evse)
            if evse not in owner or place(owner[evse], tried):
                owner[evse] = index
                return True
        return False

    for index in range(len(demands)):
        if not place(index, set()):
            return None
    chosen = [0] * len(demands)
    for evse, index in owner.items():
        chosen[index] = evse
    return chosen


def feasible(demands: Sequence[AbstractSet[int]]) -> bool:
    """Whether every demand can get an EVSE of its own."""
    return assign(demands) is not None


def needed(demands: Sequence[AbstractSet[int]]) -> frozenset[int]:
    """The EVSEs without which some demand could no longer be met (none if none can)."""
    if not feasible(demands):
        return frozenset()
    offered = frozenset().union(*demands)
    return frozenset(e for e in offered if not feasible([d - {e} for d in demands]))


def keep_oldest(demands: Sequence[AbstractSet[int]]) -> list[bool]:
    """Which demands (oldest first) to keep so that all kept ones can be met: each is kept
    when it fits beside the older ones kept, so the newest give way first."""
    kept: list[AbstractSet[int]] = []
    verdicts: list[bool] = []
    for demand in demands:
        fits = feasible([*kept, demand])
        if fits:
            kept.append(demand)
        verdicts.append(fits)
    return verdicts
