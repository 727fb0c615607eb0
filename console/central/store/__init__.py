"""SQLite persistence of the Central System: stations, connectors, reservations, ids, trace
and reservation check runs.

One database file in the data folder, in WAL mode. Startup reads are synchronous (they run
before the server listens). After that the event loop never touches the disk: every write is
put on a queue and a single writer thread commits whatever has queued up in one transaction,
so a burst of frames becomes one commit, not thousands.

What must survive a SIGKILL (a reservation state change the caller was told about, an id
handed out) is awaited: :meth:`Store.save_reservation` returns a future that resolves once
the change is committed, :meth:`Store.allocate_reservation_id` returns only after the
counter is, and :meth:`Store.save_check` only after the check run is. WAL with
``synchronous=NORMAL`` makes a commit durable against the process being killed (not
against the machine losing power, which would cost an fsync per commit).

When the disk fails under it (full, read-only, broken file), the store does not raise into
the server: it sets :attr:`Store.error`, calls ``on_error`` once per new problem, keeps the
important writes (stations, connectors, reservations, the counter) in memory to retry them,
drops trace lines, and resolves every future so nobody hangs.

The parts: :mod:`.schema` (the migrations, opening a file at a known version),
:mod:`.codecs` (records as rows and back), :mod:`.writes` (the queued writes and their
SQL), :mod:`.writer` (the writer thread) and :mod:`.database` (:class:`Store`, which
opens, reads and hands writes to the writer).
"""

from console.central.store.database import Store
from console.central.store.schema import SCHEMA_VERSION, StoreError

__all__ = ["SCHEMA_VERSION", "Store", "StoreError"]
