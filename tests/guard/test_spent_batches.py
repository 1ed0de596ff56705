"""Old spent-proof rows are deleted in bounded batches, one per spend (issue 22, fresh review M5:
the first spend of a window deleted a whole window's rows in one transaction, 4.8 s of the write
lock at 300,000 rows). Counts of rows per transaction, driven by status checks over HTTP."""
from __future__ import annotations

import time

from portal.core.config import load_settings
from portal.core.context import open_context
from portal.guard import proofs
from tests.guard.test_flood import status_post, well_formed_receipt
from tests.support.tracing import traced


def test_each_spend_deletes_at_most_a_batch_of_old_spent_rows(app, installation, monkeypatch):
    window = proofs.retention_seconds(load_settings(installation.data_dir))
    start = (int(time.time()) // window + 1) * window + 10
    monkeypatch.setattr(proofs.time, "time", lambda: start)  # one window throughout
    stale = (start // window + 1) % 3  # the set of the window before the previous one
    db = open_context(installation.data_dir).db
    old = 2 * proofs.PRUNE_BATCH + 200
    with db.conn:
        db.conn.executemany("INSERT INTO spent_proofs VALUES (?, ?)",
                            [(f"old {n}", stale) for n in range(old)])

    def left() -> int:
        return db.execute("SELECT count(*) FROM spent_proofs WHERE generation = ?",
                          [stale]).fetchone()[0]

    remaining = []
    with traced() as trace:
        for _ in range(4):
            assert status_post(app.test_client(), well_formed_receipt(), script=True).status_code == 400
            remaining.append(left())
    assert remaining == [old - proofs.PRUNE_BATCH, 200, 0, 0]  # a batch a spend, then none
    # Each spend's transaction deletes with one bounded statement and keeps its own nonce.
    spends = [t for t in trace.transactions() if any("INTO spent_proofs" in sql for sql in t)]
    assert len(spends) == 4
    assert all(sum("DELETE FROM spent_proofs" in sql for sql in t) == 1 for t in spends)
    assert all("LIMIT" in sql for t in spends for sql in t if "DELETE FROM spent_proofs" in sql)
    assert db.execute("SELECT count(*) FROM spent_proofs").fetchone()[0] == 4  # the four spent now
