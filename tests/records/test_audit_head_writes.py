"""One write of the audit chain's head file per transaction (issue 23), however many entries it
records; `portal audit verify` still finds a cut-off tail or an edit of such a transaction's entries."""
from __future__ import annotations

from click.testing import CliRunner

from portal.cli import main as portal_cli
from portal.core.context import open_context
from portal.records import audit, audit_head
from portal.store import transaction
from tests.support.audit import db

ENTRIES = 2000


def verify(data_dir):
    return CliRunner().invoke(portal_cli, ["--data", str(data_dir), "audit", "verify"])


def test_a_transaction_of_2000_entries_writes_the_head_once(installation, monkeypatch):
    writes = []
    real = audit_head.write_head
    monkeypatch.setattr(audit, "write_head", lambda *args: (writes.append(args), real(*args)))
    ctx = open_context(installation.data_dir)
    with transaction(ctx.db):
        last = [audit.record(ctx, "case_view", actor=1, detail={"n": n}) for n in range(ENTRIES)][-1]
    assert len(writes) == 1 and writes[0][1] == last
    assert audit_head.read_head(installation.data_dir).length == last
    # A transaction that rolls back writes none; one entry on its own writes one.
    try:
        with transaction(ctx.db):
            audit.record(ctx, "case_view", actor=1)
            raise KeyError("stop")
    except KeyError:
        pass
    audit.record(ctx, "case_view", actor=1)
    assert len(writes) == 2 and writes[1][1] == last + 1
    assert verify(installation.data_dir).exit_code == 0

    with db(installation.data_dir) as conn:
        conn.execute("UPDATE audit_log SET actor = 2 WHERE seq = ?", [last - 7])
    edited = verify(installation.data_dir)
    assert edited.exit_code != 0 and f"Entry {last - 7} was altered" in edited.output
    with db(installation.data_dir) as conn:
        conn.execute("UPDATE audit_log SET actor = 1 WHERE seq = ?", [last - 7])
        conn.execute("DELETE FROM audit_log WHERE seq >= ?", [last - 10])
    cut = verify(installation.data_dir)
    assert cut.exit_code != 0 and f"cut off: it ends at entry {last - 11}" in cut.output
