"""Recovery with a channel's recovery key, and sealing earlier cases to it, in bounded batches (issue
23): at most progress.BATCH_CASES cases per transaction, each batch audited in its own transaction,
counted from the statements the portal runs; a run interrupted part way (a fault injected mid-run)
carries on when run again, does no case twice, and leaves `portal audit verify` intact."""
from __future__ import annotations

import re

import pytest

from portal.core.context import open_context
from portal.keys import access, recovery
from portal.store import progress
from tests.conftest import add_account, run_cli
from tests.keys.test_recovery import decide_in_console, printed_fingerprint, recover, seal_in_console
from tests.support.console import case_links, sign_in
from tests.support.tracing import traced, written_into
from tests.support.workflow import disclose_to

CASES = 7
BATCH = 3


@pytest.fixture
def batches(monkeypatch):
    monkeypatch.setattr(progress, "BATCH_CASES", BATCH)


def failing_on(monkeypatch, module, name: str, call: int, at: int = 1) -> list[str]:
    """Make module.name raise on its `call`-th call (the process stopped); returns the case ids
    (argument `at`) of the calls that went through."""
    real, calls = getattr(module, name), []

    def fails(*args, **kwargs):
        if len(calls) + 1 == call:
            calls.append(None)
            raise RuntimeError("the process was stopped")
        calls.append(args[at])
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, fails)
    return calls


def entries(data_dir, event: str) -> list[str]:
    ctx = open_context(data_dir)
    return [row[0] for row in ctx.db.execute(
        "SELECT detail FROM audit_log WHERE event = ? ORDER BY seq", [event])]


def batch_transactions(trace, table: str) -> list[list[str]]:
    return [t for t in trace.transactions() if written_into(t, table)]


def confirmed_recovery_key(app, installation):
    shares, public, words = printed_fingerprint(installation.data_dir)
    run_cli(installation.data_dir, "channel", "set-recovery", "Audit and Risk", public)
    ana = app.test_client()
    assert sign_in(ana, installation.officer).status_code == 303
    assert decide_in_console(ana, words).status_code == 303
    return ana, shares


def test_recover_on_the_command_line_goes_in_batches_and_carries_on_after_a_fault(
        app, installation, batches, monkeypatch):
    data_dir = installation.data_dir
    ana, shares = confirmed_recovery_key(app, installation)
    for number in range(CASES):
        disclose_to(app.test_client(), details=f"Case number {number}.")
    cat = add_account(data_dir, "officer", "cat@agency.govt.nz", "Cat Colleague", ["Audit and Risk"])

    calls = failing_on(monkeypatch, access, "seal_keys_to", 5)
    stopped = recover(data_dir, shares[:3], cat.email)
    assert stopped.exit_code != 0
    assert f"{BATCH} of {CASES} cases" in stopped.output  # the first batch committed, and said so
    assert f"{2 * BATCH} of {CASES} cases" not in stopped.output
    assert [json for json in entries(data_dir, "recovery_used")] == [
        '{"cases":3,"renewed":0,"without_copy":0}']
    assert run_cli(data_dir, "audit", "verify").exit_code == 0
    first_run = [case_id for case_id in calls if case_id is not None]
    assert len(first_run) == BATCH + 1  # the batch the fault stopped rolled back

    calls.clear()
    with traced() as trace:
        done = recover(data_dir, shares[1:4], cat.email)
    assert done.exit_code == 0, done.output
    assert f"{CASES} of {CASES} cases" in done.output
    assert "Carried on an interrupted recovery: 3 cases re-sealed by the earlier run" in done.output
    assert f"{CASES - BATCH} cases of 'Audit and Risk' re-sealed" in done.output
    # No case twice: the second run began after the last case of the committed batch.
    assert len(calls) == CASES - BATCH and not set(calls) & set(first_run[:BATCH])
    written = batch_transactions(trace, "case_keys")
    assert len(written) == -(-(CASES - BATCH) // BATCH)
    for statements in written:
        assert written_into(statements, "case_keys") <= BATCH
        assert written_into(statements, "audit_log") == 1  # the batch's entry, with it
        assert any("long_operations" in sql for sql in statements)
    cases = [json.split('"cases":')[1].split(",")[0] for json in entries(data_dir, "recovery_used")]
    assert sum(int(n) for n in cases) == CASES
    assert run_cli(data_dir, "audit", "verify").exit_code == 0
    assert open_context(data_dir).db.execute("SELECT COUNT(*) FROM long_operations").fetchone()[0] == 0
    cat_client = app.test_client()
    assert sign_in(cat_client, cat).status_code == 303
    assert len(case_links(cat_client.get("/console/").text)) == CASES


def test_sealing_earlier_cases_in_the_console_is_batched_audited_per_batch_and_resumes(
        app, installation, batches, monkeypatch):
    data_dir = installation.data_dir
    for number in range(CASES):
        disclose_to(app.test_client(), details=f"Case number {number}.")
    ana, _ = confirmed_recovery_key(app, installation)

    calls = failing_on(monkeypatch, recovery, "seal_case", 5, at=2)
    with pytest.raises(RuntimeError):
        seal_in_console(ana)
    assert entries(data_dir, "recovery_sealed") == ['{"cases":3,"left":0}']
    ctx = open_context(data_dir)
    assert ctx.db.execute("SELECT kind, done, total FROM long_operations").fetchall() == [
        (recovery.SEAL, BATCH, CASES)]
    assert run_cli(data_dir, "audit", "verify").exit_code == 0

    # The request's time budget: one batch, then the page says how far it got.
    calls.clear()
    monkeypatch.setattr("portal.web.keys.own_keys.SEAL_SECONDS", 0.0)
    with traced() as trace:
        answer = seal_in_console(ana)
    assert answer.status_code == 303
    page = ana.get(answer.headers["Location"]).text
    assert re.search(rf'id="seal-progress" data-done="{2 * BATCH}" data-total="{CASES}"', page)
    [written] = batch_transactions(trace, "recovery_copies")
    assert written_into(written, "recovery_copies") == BATCH * 3  # three keys a case
    assert written_into(written, "audit_log") == 1

    monkeypatch.setattr("portal.web.keys.own_keys.SEAL_SECONDS", 20.0)
    answer = seal_in_console(ana)
    assert 'id="seal-progress"' not in ana.get(answer.headers["Location"]).text
    sealed = [case_id for case_id in calls if case_id is not None]
    assert len(sealed) == len(set(sealed)) == CASES - BATCH  # no case sealed twice
    counts = [int(json.split('"cases":')[1].split(",")[0]) for json in entries(data_dir, "recovery_sealed")]
    assert counts == [3, 3, 1]
    assert ctx.db.execute("SELECT COUNT(*) FROM recovery_copies WHERE key_table = 'case_keys'"
                          ).fetchone()[0] == CASES
    assert recovery.unsealed_cases(ctx, 1) == []
    assert run_cli(data_dir, "audit", "verify").exit_code == 0
