"""Long operations in bounded batches of short transactions that resume where they stopped.

Giving an officer every case of a channel, or re-sealing a channel's cases with its recovery key,
touches every case of the channel. Done in one transaction it would hold the write lock for
minutes and every disclosure meanwhile would time out. `run()` instead works through the cases in
order (of id, or the order its caller walks them in), at most BATCH_CASES cases per transaction,
and records in the same transaction how far it got (`long_operations`: the position of the last
case done and the counts so far). An interrupted run (a
killed process, an exception, a request that ran out of its time) leaves the row behind, and the
next run of the same operation starts after the last case done, so no case is done twice and each
batch's audit entries commit with its work.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Callable

from sqlite_utils import Database

from portal.store.db import YIELD_SECONDS, transaction, yield_to_writers

# At most this many cases per write transaction (each case writes a handful of rows: its sealed key
# copies and an audit entry). Small enough to keep each transaction well under a second.
BATCH_CASES = 100
# A batch also ends, with fewer cases, once it has held the write lock this long (seconds): on a
# busy machine 100 cases can take seconds, and every disclosure meanwhile waits.
BATCH_SECONDS = 0.5
# Page cache of the connection while it runs a long operation (KiB; SQLite's default is 2 MiB).
# Each case it does inserts into indexes keyed by random case ids (the case's keys, the officer's
# queue and its indexes), so with the default cache the share of pages read back from the file
# grows with the installation (bench/bench_grants.py at 100,000 cases). Restored, and the memory
# given back, when the operation returns.
CACHE_KIB = 65536
# Between batches, waiting writers get at most this share of the time the batch took.
YIELD_SHARE = 1.0


@dataclass
class Progress:
    kind: str
    scope: str
    actor: int | None
    cursor: str = ""
    total: int = 0
    done: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)  # case references left out, to be named
    finished: bool = False

    def line(self) -> str:
        """How far it got, for a console page or the command line."""
        return f"{self.done} of {self.total} case{'' if self.total == 1 else 's'} done"


def load(db: Database, kind: str, scope: str) -> Progress | None:
    """The operation's recorded progress, if one is under way (begun and not finished)."""
    row = db.execute(
        "SELECT actor, cursor, total, done, counts, skipped FROM long_operations"
        " WHERE kind = ? AND scope = ?",
        [kind, scope],
    ).fetchone()
    if row is None:
        return None
    actor, cursor, total, done, counts, skipped = row
    return Progress(
        kind,
        scope,
        actor,
        cursor,
        total,
        done,
        json.loads(counts),
        [r for r in skipped.split(",") if r],
    )


def under_way(db: Database, kind: str, actor: int) -> list[Progress]:
    """The operations of this kind begun by this account and not finished."""
    scopes = db.execute(
        "SELECT scope FROM long_operations WHERE kind = ? AND actor = ? ORDER BY scope",
        [kind, actor],
    ).fetchall()
    return [p for (scope,) in scopes if (p := load(db, kind, scope)) is not None]


def every_one_under_way(db: Database) -> list[Progress]:
    """Every operation begun and not finished, whoever began it, by kind then scope."""
    scopes = db.execute("SELECT kind, scope FROM long_operations ORDER BY kind, scope").fetchall()
    return [p for (kind, scope) in scopes if (p := load(db, kind, scope)) is not None]


def begin(db: Database, kind: str, scope: str, actor: int | None, total: int) -> Progress:
    """Resume the operation if it is under way, else record it as begun (its own transaction)."""
    with transaction(db):
        found = load(db, kind, scope)
        if found is not None:
            return found
        db.execute(
            "INSERT INTO long_operations (kind, scope, actor, total) VALUES (?, ?, ?, ?)",
            [kind, scope, actor, total],
        )
    return Progress(kind, scope, actor, total=total)


def run(
    db: Database,
    op: Progress,
    next_ids: Callable[[str, int], list[str]],
    handle: Callable[[str], tuple[str, str | None]],
    *,
    after_batch: Callable[[dict[str, int], Progress], None] | None = None,
    report: Callable[[Progress], None] | None = None,
    deadline: float | None = None,
    position: Callable[[str], str] | None = None,
) -> Progress:
    """Carry `op` on, batch by batch. `next_ids(cursor, n)` gives the next at most n case ids
    after `cursor` (in id order); `handle(case_id)` does one case and says what came of it (a
    count's name, and a case reference to name among those skipped, or None); `after_batch(counts,
    op)` runs at the end of each batch's transaction; `report(op)` after each commit. Stops when no
    case is left (the row is deleted, `op.finished`) or, between batches, once time.monotonic()
    passes `deadline` (the row stays, for the next run). `position(case_id)` gives the cursor to
    record after a batch's last case when the cases are not walked in id order (default: the id)."""
    # SQLite's page cache, bounded for the run; PostgreSQL has none per connection (no row).
    cache = db.execute("PRAGMA cache_size").fetchone()
    db.execute(f"PRAGMA cache_size = -{int(CACHE_KIB)}")
    try:
        return _run(db, op, next_ids, handle, after_batch, report, deadline, position or str)
    finally:
        if cache is not None:
            db.execute(f"PRAGMA cache_size = {int(cache[0])}")
        db.execute("PRAGMA shrink_memory")


def _run(db, op, next_ids, handle, after_batch, report, deadline, position) -> Progress:
    while True:
        begun = time.monotonic()
        with transaction(db):
            ids = next_ids(op.cursor, BATCH_CASES)[:BATCH_CASES]
            last = len(ids) < BATCH_CASES  # nothing is left after this batch
            started, handled = time.monotonic(), 0
            batch: dict[str, int] = {}
            for case_id in ids:
                outcome, named = handle(case_id)
                batch[outcome] = batch.get(outcome, 0) + 1
                if named is not None:
                    op.skipped.append(named)
                handled += 1
                if handled < len(ids) and time.monotonic() - started >= BATCH_SECONDS:
                    last = False  # a slow batch (a busy machine) ends early: the rest next time
                    break
            ids = ids[:handled]
            if ids:
                op.cursor, op.done = position(ids[-1]), op.done + len(ids)
            for name, count in batch.items():
                op.counts[name] = op.counts.get(name, 0) + count
            if after_batch is not None and ids:
                after_batch(batch, op)
            if last:
                db.execute(
                    "DELETE FROM long_operations WHERE kind = ? AND scope = ?", [op.kind, op.scope]
                )
                op.finished = True
            else:
                db.execute(
                    "UPDATE long_operations SET cursor = ?, done = ?, counts = ?, skipped = ?"
                    " WHERE kind = ? AND scope = ?",
                    [
                        op.cursor,
                        op.done,
                        json.dumps(op.counts, sort_keys=True),
                        ",".join(op.skipped),
                        op.kind,
                        op.scope,
                    ],
                )
        if report is not None:
            report(op)
        if op.finished or (deadline is not None and time.monotonic() >= deadline):
            return op
        # The writers that queued behind this batch (disclosures) go in before the next one, for
        # at most as long again as the batch took: under a steady stream of them the operation
        # still gets half the time.
        yield_to_writers(db, min(YIELD_SECONDS, YIELD_SHARE * (time.monotonic() - begun)))
