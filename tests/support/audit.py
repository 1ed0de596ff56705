"""Shared test helpers (moved here from the test modules that first used them)."""
from __future__ import annotations

from tests.support import database


def db(data_dir):
    """The installation's database, on either engine (tests.support.database)."""
    return database.connect(data_dir)


def events(data_dir) -> list[tuple]:
    with db(data_dir) as conn:
        return conn.execute("SELECT event, actor, subject, case_ref, detail FROM audit_log ORDER BY seq").fetchall()


def account_id(data_dir, email) -> int:
    with db(data_dir) as conn:
        return conn.execute("SELECT id FROM accounts WHERE email = ?", [email]).fetchone()[0]


def case_refs(data_dir) -> set[str]:
    """Every case's reference: the rows keep no order of arrival (issue 26), so a test tells which
    case is new by what was not there before."""
    with db(data_dir) as conn:
        return {ref for (ref,) in conn.execute("SELECT ref FROM cases")}
