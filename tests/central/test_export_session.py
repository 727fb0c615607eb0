"""Where "today's session" starts, for the export dialog's "From" (no Qt)."""

from __future__ import annotations

from datetime import datetime, timedelta

from console.central.export import session_start
from console.central.model import TraceDirection, TraceEntry

NOW = datetime(2026, 11, 25, 15, 0).astimezone()  # 15:00 local time, whatever the zone
MIDNIGHT = NOW.astimezone().replace(hour=0, minute=0, second=0, microsecond=0)
RUN = NOW - timedelta(hours=2)
"""This run of the console began at 13:00; an earlier run of today ended before it."""


def frame(seq: int, station_id: str, at: datetime) -> TraceEntry:
    return TraceEntry(seq=seq, at=at, station_id=station_id, direction=TraceDirection.IN, text="[]")


def frames() -> list[TraceEntry]:
    return [
        frame(1, "CP-01", MIDNIGHT - timedelta(hours=3)),  # yesterday
        frame(2, "CP-01", MIDNIGHT + timedelta(hours=1)),  # today, an earlier run
        frame(3, "CP-02", RUN + timedelta(seconds=5)),  # the first frame of this run
        frame(4, "CP-01", RUN + timedelta(seconds=9)),
        frame(5, "CP-03", RUN + timedelta(minutes=30)),
    ]


def test_all_stations_from_the_first_frame_of_this_run_one_from_its_first_today() -> None:
    session = session_start(frames(), run_started=RUN, now=NOW, limit=10_000)
    assert session.complete
    assert session.of(None) == RUN + timedelta(seconds=5)
    assert session.of("CP-01") == MIDNIGHT + timedelta(hours=1)  # not yesterday's frame
    assert session.of("CP-03") == RUN + timedelta(minutes=30)
    assert session.of("CP-99") == RUN + timedelta(seconds=5)  # no frame today: this run


def test_a_run_without_frames_starts_when_it_began() -> None:
    session = session_start([], run_started=RUN, now=NOW, limit=10_000)
    assert session.of(None) == RUN
    assert session.of("CP-01") == RUN


def test_frames_that_do_not_reach_back_to_midnight_give_midnight_for_a_station() -> None:
    # The memory is full and holds only frames of this afternoon: the station may well
    # have sent earlier ones today, so its "From" is midnight (nothing left out).
    full = [frame(seq, "CP-01", RUN + timedelta(seconds=seq)) for seq in range(1, 11)]
    session = session_start(full, run_started=RUN, now=NOW, limit=10)
    assert not session.complete
    assert session.of("CP-01") == MIDNIGHT
    assert session.of(None) == RUN + timedelta(seconds=1)
    # Not full: those are all the frames there are.
    assert session_start(full, run_started=RUN, now=NOW, limit=11).of("CP-01") == RUN + timedelta(
        seconds=1
    )


def test_a_run_begun_before_midnight_is_one_session() -> None:
    late_run = MIDNIGHT - timedelta(hours=1)
    entries = [
        frame(1, "CP-01", late_run + timedelta(minutes=5)),
        frame(2, "CP-01", MIDNIGHT + timedelta(minutes=5)),
    ]
    session = session_start(entries, run_started=late_run, now=NOW, limit=10_000)
    assert session.of("CP-01") == late_run + timedelta(minutes=5)
