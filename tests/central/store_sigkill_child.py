"""Child process of the SIGKILL test: writes to a store and prints what was acknowledged.

Run as ``python store_sigkill_child.py DB_PATH``. Each line goes to stdout only after the
write it names was awaited (so committed); the test kills this process at some point and
checks that every printed line is in the database.

Lines: ``id N`` (an allocated reservation id), ``noted N`` (a caller-typed id),
``state N STATE CREATED`` (reservation N created at CREATED reached STATE).
"""

from __future__ import annotations

import asyncio
import dataclasses
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from console.central.model import ReservationRecord, ReservationState, TraceDirection, TraceEntry
from console.central.store import Store
from console.ocpp.reservation import ReservationStatus

ITERATIONS = 100_000


def _say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


async def _work(path: Path) -> None:
    store = Store.open(path)
    _say("ready")
    seq = 0
    for i in range(ITERATIONS):
        reservation_id = await store.allocate_reservation_id()
        _say(f"id {reservation_id}")
        if i % 10 == 0:
            noted = reservation_id + 5
            await store.note_reservation_id(noted)
            _say(f"noted {noted}")
        now = datetime.now(UTC)
        record = ReservationRecord(
            reservation_id=reservation_id,
            station_id=f"CP-{i % 3}",
            connector_id=1,
            id_tag="TAG",
            parent_id_tag=None,
            expiry_date=now + timedelta(hours=1),
            created_at=now,
            state=ReservationState.SENDING,
            updated_at=now,
            history=((ReservationState.SENDING, now),),
        )
        await store.save_reservation(record)
        _say(f"state {reservation_id} sending {record.created_at.isoformat()}")
        for _ in range(20):  # trace traffic in between, as a server would write
            seq += 1
            store.append_trace(
                TraceEntry(seq, now, record.station_id, TraceDirection.IN, "[2,...]")
            )
        later = now + timedelta(milliseconds=5)
        record = dataclasses.replace(
            record,
            state=ReservationState.ACCEPTED,
            confirmation=ReservationStatus.ACCEPTED,
            updated_at=later,
            history=(*record.history, (ReservationState.ACCEPTED, later)),
        )
        await store.save_reservation(record)
        _say(f"state {reservation_id} accepted {record.created_at.isoformat()}")


if __name__ == "__main__":
    asyncio.run(_work(Path(sys.argv[1])))
