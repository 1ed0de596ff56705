"""The day's budget on new cases (issue 22) is spent in the case's own transaction: the count and the
case are saved whole or not at all (issue 22's second review). Through HTTP, for the form the server
seals and for a disclosure sealed in the browser: a paid disclosure that is not stored spends none of
the budget, a stored one spends one, and a fault injected after the budget's write and before the
commit leaves neither the case nor the count. Counts of rows and statements, never times."""
from __future__ import annotations

import sqlite3

import pytest

from portal.core.context import open_context
from portal.guard import flood
from portal.web import context
from tests.conftest import MARKER
from tests.guard.test_flood import app_with, disclose
from tests.support import csrf_token, disclosure_fields, post_multipart, receipt_from
from tests.support.proofs import drop_ticket, solved
from tests.support.sealing import get_setup, post_json, seal_disclosure

VALUES = {"category": "public_funds", "summary": "Payments to a director's company",
          "details": "The director approved invoices. " + MARKER, "disclosed_elsewhere": "no"}


def counted(installation) -> tuple[int, int]:
    """(today's count of new cases against the budget, the cases stored)."""
    ctx = open_context(installation.data_dir)
    try:
        cases = ctx.db.execute("SELECT COUNT(*) FROM cases").fetchone()[0]
        return flood.today(ctx).cases, cases
    finally:
        ctx.db.conn.close()


def is_budget_write(statement: str, params) -> bool:
    return statement.lstrip().upper().startswith("INSERT INTO THROTTLE") and bool(
        params) and params[0] == "flood:day:cases"


@pytest.fixture
def requests_db(monkeypatch):
    """Every statement each request's connection runs, as (its transaction's number, the
    statement, its parameters); with `fail_after_budget` set, the first statement run after the
    budget's write fails as a full disk does (SQLITE_FULL), once."""
    seen = {"ran": [], "fail_after_budget": False, "failed": 0}
    real_connect = context.connect

    def connect(*args, **kwargs):
        db = real_connect(*args, **kwargs)
        execute = db.execute
        state = {"transaction": 0, "budget_written": False}

        def watched(statement, params=None):
            upper = statement.lstrip().upper()
            if upper.startswith("BEGIN"):
                state["transaction"] += 1
            if state["budget_written"] and seen["fail_after_budget"] and not seen["failed"]:
                seen["failed"] += 1
                raise sqlite3.OperationalError("database or disk is full")
            seen["ran"].append((state["transaction"], statement, params))
            result = execute(statement, params) if params is not None else execute(statement)
            state["budget_written"] = state["budget_written"] or is_budget_write(statement, params)
            return result

        db.execute = watched
        return db

    monkeypatch.setattr(context, "connect", connect)
    return seen


def transaction_of(ran, found) -> set[int]:
    return {number for number, statement, params in ran if found(statement, params)}


def inserts_a_case(statement: str, params) -> bool:
    return statement.lstrip().upper().startswith("INSERT INTO CASES")


def sealed_disclosure(client, **kwargs):
    """A disclosure sealed in the browser, paid with the setup's ticket (as without the proof)."""
    setup = get_setup(client)
    sealed = seal_disclosure(setup, VALUES, **kwargs)
    return sealed, post_json(client, "/disclose/sealed", sealed.body, setup["csrf_token"])


def test_a_paid_form_that_fails_validation_spends_no_budget_and_a_stored_one_spends_one(
        installation):
    app = app_with(installation, cases_per_day=5)
    client = app.test_client()
    page = client.get("/disclose").text
    drop_ticket(client, "disclose")
    unfinished = [(name, value) for name, value in disclosure_fields(csrf_token(page), "x")
                  if name != "details"] + solved(page)  # paid, but no account of what was seen
    answer = post_multipart(client, "/disclose", unfinished)
    assert answer.status_code == 400
    assert counted(installation) == (0, 0)
    stored = disclose(app.test_client(), script=True)
    assert stored.status_code == 200 and receipt_from(stored.text)
    assert counted(installation) == (1, 1)


def test_the_budget_is_written_in_the_cases_transaction(installation, requests_db):
    app = app_with(installation, cases_per_day=5)
    assert disclose(app.test_client(), script=True).status_code == 200
    budget = transaction_of(requests_db["ran"], is_budget_write)
    assert len(budget) == 1 and budget == transaction_of(requests_db["ran"], inserts_a_case)
    # The same for a disclosure sealed in the browser.
    requests_db["ran"].clear()
    assert sealed_disclosure(app.test_client())[1].status_code == 201
    budget = transaction_of(requests_db["ran"], is_budget_write)
    assert len(budget) == 1 and budget == transaction_of(requests_db["ran"], inserts_a_case)
    assert counted(installation) == (2, 2)


def test_a_fault_after_the_budgets_write_leaves_neither_the_case_nor_the_count(installation,
                                                                              requests_db):
    app = app_with(installation, cases_per_day=5)
    requests_db["fail_after_budget"] = True
    client = app.test_client()
    answer = disclose(client, "Seen on the third floor. " + MARKER, script=True)
    assert requests_db["failed"] == 1  # the fault was met, after the budget's write
    assert answer.status_code == 503 and "Seen on the third floor." in answer.text  # text kept
    assert counted(installation) == (0, 0)
    # Sent again, with nothing failing: one case, one spent.
    assert disclose(client, "Seen on the third floor. " + MARKER, script=True).status_code == 200
    assert counted(installation) == (1, 1)


def test_a_fault_after_the_budgets_write_leaves_no_sealed_case_and_no_count(installation,
                                                                           requests_db):
    app = app_with(installation, cases_per_day=5)
    requests_db["fail_after_budget"] = True
    _, answer = sealed_disclosure(app.test_client())
    assert requests_db["failed"] == 1
    assert answer.status_code == 503
    assert counted(installation) == (0, 0)
    assert sealed_disclosure(app.test_client())[1].status_code == 201
    assert counted(installation) == (1, 1)


def test_a_paid_sealed_disclosure_refused_in_its_transaction_spends_no_budget(installation):
    """A sealed disclosure naming a case id already taken pays, then is refused under the write
    lock (sealed.CaseIdTaken), after the budget's write: rolled back with it."""
    app = app_with(installation, cases_per_day=5)
    first, answer = sealed_disclosure(app.test_client())
    assert answer.status_code == 201 and counted(installation) == (1, 1)
    _, again = sealed_disclosure(app.test_client(), case_id=first.case_id)
    assert again.status_code == 409, again.text
    assert counted(installation) == (1, 1)
