"""Deleting a case with many messages in bounded transactions (issue 23): the first ends every way
of reading it and records the deletion, then at most progress.BATCH_CASES of its attachments or
messages go per transaction, then the case row. A deletion stopped part way leaves a case nobody can
open, `portal audit verify` intact, and is finished from the retention page or by `portal retention
carry-on` (which prints its progress and may itself stop after a number of batches)."""
from __future__ import annotations

import contextlib
import datetime as dt
import re

from portal.core import clock
from portal.operations import retention
from portal.store import progress
from portal.web.app import create_app
from tests.conftest import run_cli
from tests.operations.test_retention import (
    cara,  # noqa: F401 (a fixture)
    case_ref_for,
    close_case,
    confirm,
    disclose,
    post,
    raw_files,
    sign_in,
    traces_of,
)
from tests.support import csrf_token
from tests.support.tracing import traced
from tests.support import database

BATCH = 2
REPLIES = 5


def reply(client, ref: str, text: str) -> None:
    page = client.get(f"/console/cases/{ref}")
    answer = client.post(f"/console/cases/{ref}/reply", data={"csrf_token": csrf_token(page.text),
                                                              "message": text})
    assert answer.status_code in (200, 303), answer.text


def deleted_rows(statements: list[str]) -> int:
    return sum(1 for sql in statements if re.match(r"\s*DELETE FROM (attachments|messages)\b", sql))


def requested_case_with_replies(installation, cara, monkeypatch):  # noqa: F811
    """A closed case with REPLIES officer replies and an attachment, past its retention period, whose
    deletion Ana has asked for: (app, Ana's client, Cara's client, its reference)."""
    data_dir = installation.data_dir
    monkeypatch.setattr(progress, "BATCH_CASES", BATCH)
    app = create_app(data_dir)
    app.config["TESTING"] = True
    disclose(app.test_client())
    ref = case_ref_for(data_dir, 0)
    run_cli(data_dir, "channel", "retention", "Audit and Risk", "--months", "1")
    ana, second = app.test_client(), app.test_client()
    sign_in(ana, installation.officer)
    sign_in(second, cara)
    for n in range(REPLIES):
        reply(ana, ref, f"Reply number {n}.")
    close_case(ana, ref)
    later = clock.now_utc() + dt.timedelta(days=40)
    monkeypatch.setattr(clock, "now_utc", lambda: later)
    assert post(ana, f"/console/retention/{ref}/request").status_code == 303
    return app, ana, second, ref


def stopped_deletion(installation, cara, monkeypatch):  # noqa: F811
    """A confirmed deletion whose process stopped inside its fourth transaction (its work rolled
    back): ((Ana's client, Cara's client, its reference, its traces on disk before), (its total
    rows, the rows done, the messages left))."""
    app, ana, second, ref = requested_case_with_replies(installation, cara, monkeypatch)
    conn = database.connect(installation.data_dir)
    (messages,) = conn.execute("SELECT COUNT(*) FROM messages").fetchone()
    (files,) = conn.execute("SELECT COUNT(*) FROM attachments").fetchone()
    conn.close()
    assert messages >= REPLIES and files == 1
    before = traces_of(installation.data_dir, ref)
    real, calls = retention.transaction, [0]

    @contextlib.contextmanager
    def stops_in_the_fourth(db):
        calls[0] += 1
        with real(db):
            yield
            if calls[0] == 4:
                raise RuntimeError("the process was stopped")

    monkeypatch.setattr(retention, "transaction", stops_in_the_fourth)
    try:
        confirm(second, ref, cara)
        raise AssertionError("the fault was not injected")
    except RuntimeError:
        pass
    monkeypatch.setattr(retention, "transaction", real)
    return (ana, second, ref, before), (files + messages, files + BATCH, messages - BATCH)


def test_a_deletion_stopped_part_way_is_unreadable_and_finished_from_the_page(
        installation, cara, monkeypatch):  # noqa: F811
    data_dir = installation.data_dir
    (ana, second, ref, before), (total, done, left) = stopped_deletion(installation, cara, monkeypatch)
    assert ana.get(f"/console/cases/{ref}").status_code == 404  # nobody opens it any more
    page = second.get("/console/retention/").text
    assert f'data-done="{done}" data-total="{total}"' in page and "Carry on deleting" in page
    assert "Deletions that stopped part way" not in ana.get("/console/retention/").text  # cara's
    assert run_cli(data_dir, "audit", "verify").exit_code == 0

    with traced() as trace:
        answer = second.post("/console/retention/carry-on",
                             data={"csrf_token": csrf_token(page)})
    assert answer.status_code == 303
    batches = [t for t in trace.transactions() if deleted_rows(t)]
    assert len(batches) == -(-left // BATCH)
    assert all(deleted_rows(t) <= BATCH for t in batches)
    assert sum(deleted_rows(t) for t in batches) == left  # none twice
    assert "Deletions that stopped part way" not in second.get("/console/retention/").text
    conn = database.connect(data_dir)
    assert conn.execute("SELECT COUNT(*) FROM cases").fetchone()[0] == 0
    assert conn.execute("SELECT COUNT(*) FROM long_operations").fetchone()[0] == 0
    assert conn.execute("SELECT COUNT(*) FROM audit_log WHERE event = 'case_deleted'").fetchone()[0] == 1
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    on_disk = raw_files(data_dir)
    for label, trace_bytes in before.items():
        assert not [name for name, data in on_disk.items() if trace_bytes in data], label
    assert "intact" in run_cli(data_dir, "audit", "verify").output


def test_an_uninterrupted_deletion_is_bounded_too(installation, cara, monkeypatch):  # noqa: F811
    app, ana, second, ref = requested_case_with_replies(installation, cara, monkeypatch)
    with traced() as trace:
        assert confirm(second, ref, cara).status_code == 303
    written = [deleted_rows(t) for t in trace.transactions()]
    assert max(written) <= BATCH and sum(written) >= REPLIES + 1
    assert "intact" in run_cli(installation.data_dir, "audit", "verify").output


def test_the_command_line_carries_a_stopped_deletion_on_with_its_progress(
        installation, cara, monkeypatch):  # noqa: F811
    data_dir = installation.data_dir
    _, (total, done, left) = stopped_deletion(installation, cara, monkeypatch)
    assert run_cli(data_dir, "under-way").stdout.splitlines() == [
        f"a confirmed case deletion: {done} of {total} done; carried on by `portal retention"
        " carry-on`, or the console's retention page"]
    with traced() as trace:
        first = run_cli(data_dir, "retention", "carry-on", "--batches", "1")
        # One batch, then it stops: the deletion stays under way for the next run.
        assert first.stderr.splitlines() == [f"{done + BATCH} of {total} rows"]
        assert "0 deletions finished; 1 still under way." in first.stdout
        second = run_cli(data_dir, "retention", "carry-on")
    lines = second.stderr.splitlines()
    assert lines[-1] == f"{total} of {total} rows" and len(lines) == -(-(left - BATCH) // BATCH) + 1
    assert [int(line.split()[0]) for line in lines] == sorted(int(line.split()[0]) for line in lines)
    assert "1 deletion finished; 0 still under way." in second.stdout
    batches = [t for t in trace.transactions() if deleted_rows(t)]
    assert all(deleted_rows(t) <= BATCH for t in batches)
    assert sum(deleted_rows(t) for t in batches) == left  # each remaining row exactly once
    conn = database.connect(data_dir)
    assert conn.execute("SELECT COUNT(*) FROM cases").fetchone()[0] == 0
    assert conn.execute("SELECT COUNT(*) FROM long_operations").fetchone()[0] == 0
    conn.close()
    assert run_cli(data_dir, "under-way").stdout == "Nothing is under way.\n"
    again = run_cli(data_dir, "retention", "carry-on")  # nothing left: nothing done twice
    assert again.stderr == "" and "0 deletions finished; 0 still under way." in again.stdout
    assert "intact" in run_cli(data_dir, "audit", "verify").output


def test_under_way_names_every_kind_of_long_operation():
    from portal.cli.installation import UNDER_WAY
    from portal.keys import access, recovery

    assert set(UNDER_WAY) == {access.GRANT_ALL, recovery.SEAL, recovery.RECOVER, retention.DELETION}
