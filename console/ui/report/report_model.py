"""What the commissioning report says, gathered before it is laid out (no painting here).

The same gathering serves the window's report (from the running Central System) and
``ocpp-console report`` (from the data folder, :class:`console.central.stored_site.StoredSite`):
both offer the read methods of :class:`ReportSource`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Protocol

from console import __version__
from console.central.check.model import CheckOutcome, CheckResult
from console.central.model import (
    ACTIVE_STATES,
    ConnectorSnapshot,
    ReservationRecord,
    ReservationState,
    StationSnapshot,
    TraceEntry,
)
from console.central.verdict import (
    SiteVerdict,
    StationVerdict,
    TraceProblem,
    by_the_check,
    is_problem,
    site_verdict,
    station_verdict,
    trace_problems,
)
from console.ui.trace.export import STORED_TRACE_LIMIT

__all__ = [
    "ReportData",
    "ReportSource",
    "StationReport",
    "ended_at",
    "finished_checks",
    "gather_report",
]


@dataclass(slots=True)
class StationReport:
    """What the report says about one station."""

    station: StationSnapshot
    connectors: list[ConnectorSnapshot] = field(default_factory=list)
    """Its connectors' last statuses (connector 0, the station itself, included)."""
    reservations: list[ReservationRecord] = field(default_factory=list)
    problems: list[TraceEntry] = field(default_factory=list)
    """Its trace lines that show a problem (a late call: its timeout and its late answer)."""
    frames_seen: int = 0
    checks: list[CheckResult] = field(default_factory=list)
    """Its finished reservation checks, oldest first (the report details the latest)."""

    @property
    def latest_check(self) -> CheckResult | None:
        return self.checks[-1] if self.checks else None

    @property
    def protocol_problems(self) -> list[TraceProblem]:
        """The problems, one per exchange (a late call counts once)."""
        return trace_problems(self.problems)

    @property
    def tested_reservations(self) -> list[ReservationRecord]:
        """The reservations the technician tried (not those its checks made)."""
        return [r for r in self.reservations if not by_the_check(r, self.checks)]

    def verdict(self, problems: Sequence[TraceProblem] | None = None) -> StationVerdict:
        """Ready or Needs attention, with the reasons (``problems``: if already worked out)."""
        return station_verdict(
            self.station.station_id,
            self.connectors,
            self.reservations,
            self.checks,
            self.protocol_problems if problems is None else problems,
        )


@dataclass(slots=True)
class ReportData:
    """Everything the report shows, gathered before it is laid out."""

    generated_at: datetime
    scope: str
    """"Site" or the station id(s)."""
    urls: list[str]
    security_profile: int
    stations: list[StationReport]
    version: str = __version__
    site_name: str | None = None
    """The site or customer the technician typed in, printed under the title."""
    stored_in: Path | None = None
    """The data folder it was read from without the console running (None: the console
    made it live, and "online"/"offline" is the connection at that moment)."""

    def verdict(self) -> SiteVerdict:
        """The verdict of every station in the report, the site's first."""
        return site_verdict(report.verdict() for report in self.stations)


def ended_at(record: ReservationRecord) -> datetime | None:
    """When the reservation reached the state it is in, unless it is still held (or sent).

    From the record's history: the last time it entered its current state.
    """
    if record.state in ACTIVE_STATES or record.state is ReservationState.SENDING:
        return None
    for state, moment in reversed(record.history):
        if state is record.state:
            return moment
    return record.updated_at


def finished_checks(results: Iterable[CheckResult]) -> dict[str, list[CheckResult]]:
    """The finished reservation checks of each station, oldest first (running ones left out)."""
    by_station: dict[str, list[CheckResult]] = {}
    for result in sorted(results, key=lambda r: r.started_at):
        if result.outcome is not CheckOutcome.RUNNING:
            by_station.setdefault(result.station_id, []).append(result)
    return by_station


class ReportSource(Protocol):
    """What the report reads: the running Central System, or a data folder's stored site.

    The trace is read from the database (``stored_trace``): it keeps more than memory does.
    """

    def stations(self) -> list[StationSnapshot]: ...

    def connectors(self, station_id: str | None = None) -> list[ConnectorSnapshot]: ...

    def reservations(self) -> list[ReservationRecord]: ...

    def urls(self) -> list[str]: ...

    @property
    def security_profile(self) -> int: ...

    async def stored_trace(
        self,
        limit: int = 10_000,
        station_id: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> list[TraceEntry]: ...


async def gather_report(
    source: ReportSource,
    station_ids: Sequence[str] | None,
    checks: Mapping[str, list[CheckResult]],
    *,
    generated_at: datetime,
    site_name: str | None = None,
    on_station: Callable[[int, int], None] | None = None,
    stopped: Callable[[], bool] | None = None,
    stored_in: Path | None = None,
) -> ReportData:
    """Collect what the report shows for these stations (None: the whole site).

    ``checks``: each station's finished checks (:func:`finished_checks`).
    ``on_station(done, total)`` after each station; the gathering stops there when
    ``stopped()`` says so.
    """
    stations = sorted(source.stations(), key=lambda s: s.station_id)
    if station_ids is not None:
        wanted = set(station_ids)
        stations = [s for s in stations if s.station_id in wanted]
    records = source.reservations()
    reports: list[StationReport] = []
    for number, station in enumerate(stations):
        sid = station.station_id
        trace = await source.stored_trace(limit=STORED_TRACE_LIMIT, station_id=sid)
        reports.append(
            StationReport(
                station=station,
                connectors=source.connectors(sid),
                reservations=[r for r in records if r.station_id == sid],
                problems=[entry for entry in trace if is_problem(entry)],
                frames_seen=sum(1 for entry in trace if entry.message_type is not None),
                checks=list(checks.get(sid, [])),
            )
        )
        if on_station is not None:
            on_station(number + 1, len(stations))
        await asyncio.sleep(0)
        if stopped is not None and stopped():
            break
    return ReportData(
        generated_at=generated_at,
        scope="Site" if station_ids is None else ", ".join(sorted(set(station_ids))),
        urls=source.urls(),
        security_profile=source.security_profile,
        stations=reports,
        site_name=site_name or None,
        stored_in=stored_in,
    )
