"""One database layer, two engines (issue 30, second slice): the same calls, written once in
SQLite's SQL, give the same answers on SQLite and on PostgreSQL (portal.store.postgres.Connection,
its statements translated by portal.store.dialect):

- transaction() commits or rolls back, after_commit runs only after a commit, in_transaction says
  which, on both;
- the writers' lock: while one connection's write transaction is open another's waits, and past its
  busy timeout fails as "database is locked" (a 503 by portal.store.faults), as SQLite's does;
- a one-time token claimed twice is refused on both (a unique violation is sqlite3's
  IntegrityError);
- the SQLite-isms translated mechanically answer alike: `?`, `INSERT OR IGNORE`, `IS ?`, empty
  `IN ()` lists, `json_each(?)`, a subquery with no alias, `RETURNING`, sums as integers, PRAGMAs as nothing;
- what has no mechanical translation is refused, not guessed: `INSERT OR REPLACE`.
"""

from __future__ import annotations

import sqlite3

import pytest

from portal.guard import submissions
from portal.store import after_commit, connect, faults, in_transaction, open_database, transaction
from portal.store.dialect import NoTranslation


@pytest.fixture(params=["sqlite", "postgres"])
def engine(request, tmp_path, monkeypatch):
    """A function giving a new connection to one freshly migrated database of that engine."""
    path = tmp_path / "portal.db"
    if request.param == "postgres":
        url = request.getfixturevalue("migrated")("layer")
        monkeypatch.setenv("PORTAL_DATABASE_URL", url)
    else:
        monkeypatch.delenv("PORTAL_DATABASE_URL", raising=False)
    opened = [open_database(path)]

    def another(busy_timeout: float = 10.0):
        opened.append(connect(path, busy_timeout))
        return opened[-1]

    yield another
    for db in opened:
        db.conn.close()
    assert path.exists() == (request.param == "sqlite")


def _channel(db, name: str = "Audit") -> int:
    return db.execute("INSERT INTO channels (name) VALUES (?) RETURNING id", [name]).fetchone()[0]


def test_a_transaction_commits_or_rolls_back_and_after_commit_runs_only_on_commit(engine):
    db = engine()
    ran: list[str] = []
    assert not in_transaction(db)
    with transaction(db):
        assert in_transaction(db)
        _channel(db, "Kept")
        after_commit(db, lambda: ran.append("first"), key="head")
        after_commit(db, lambda: ran.append("latest"), key="head")
    assert ran == ["latest"] and not in_transaction(db)
    with pytest.raises(RuntimeError), transaction(db):
        _channel(db, "Gone")
        after_commit(db, lambda: ran.append("never"))
        raise RuntimeError("rolled back")
    assert not in_transaction(db)
    names = [row[0] for row in engine().execute("SELECT name FROM channels ORDER BY name")]
    assert names == ["Kept"] and ran == ["latest"]


def test_a_writer_waits_for_the_one_before_and_past_its_timeout_is_told_the_database_is_locked(
    engine,
):
    first, second = engine(), engine(busy_timeout=0.2)
    with transaction(first):
        _channel(first)
        with pytest.raises(sqlite3.OperationalError) as refused:
            with transaction(second):
                _channel(second, "Second")
        assert faults.classify(refused.value).kind == "locked"
        assert not in_transaction(second)
    with transaction(second):
        _channel(second, "Second")
    assert second.execute("SELECT count(*) FROM channels").fetchone()[0] == 2


def test_a_one_time_token_claimed_twice_is_refused_on_both_engines(engine):
    db = engine()
    with transaction(db):
        submissions.claim(db, "a-token-of-the-form-1234567890abcdef", "2026-12-07")
    with pytest.raises(submissions.AlreadySubmitted), transaction(db):
        submissions.claim(db, "a-token-of-the-form-1234567890abcdef", "2026-12-07")
    assert db.execute("SELECT count(*) FROM submission_tokens").fetchone()[0] == 1


def test_the_translated_sqlite_isms_answer_alike(engine):
    db = engine()
    with transaction(db):
        first, second = _channel(db, "A"), _channel(db, "B")
        db.execute("INSERT OR IGNORE INTO channels (id, name) VALUES (?, ?)", [first, "A again"])
        db.execute("UPDATE channels SET description = ?, recovery_public_key = ? WHERE id = ?",
                   ["50% of it", b"key", second])
    assert db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall() in ([], [(0, 0, 0)])
    ask = db.execute
    assert [r[0] for r in ask("SELECT name FROM channels ORDER BY id")] == ["A", "B"]
    nulls = "SELECT id FROM channels WHERE recovery_public_key IS ?"
    assert ask(nulls, [None]).fetchall() == [(first,)]
    assert ask(nulls, [b"key"]).fetchall() == [(second,)]
    assert ask(nulls.replace("IS", "IS NOT"), [None]).fetchall() == [(second,)]
    assert ask("SELECT recovery_public_key FROM channels WHERE id = ?", [second]).fetchone() == (
        b"key",)
    assert ask("SELECT count(*) FROM channels WHERE id IN ()").fetchone()[0] == 0
    assert ask("SELECT count(*) FROM channels WHERE id NOT IN ()").fetchone()[0] == 2
    assert ask("SELECT name FROM channels WHERE name IN (SELECT value FROM json_each(?))",
               ['["B", "C"]']).fetchall() == [("B",)]
    assert ask("SELECT description FROM channels WHERE description LIKE '%of%'").fetchall() == [
        ("50% of it",)]
    assert len(ask("SELECT id FROM channels ORDER BY id LIMIT ?", [-1]).fetchall()) == 2
    assert ask("SELECT id FROM channels ORDER BY id LIMIT ?", [1]).fetchall() == [(first,)]
    assert ask("SELECT COUNT(*) FROM (SELECT id FROM channels UNION SELECT id FROM channels"
               " WHERE id = ?)", [first]).fetchone()[0] == 2
    total = ask("SELECT SUM(id) FROM channels").fetchone()[0]
    assert total == first + second and type(total) is int
    assert ask("DELETE FROM channels WHERE id = ?", [second]).rowcount == 1
    assert ask("DELETE FROM channels WHERE id = ?", [second]).fetchone() is None


def test_sql_with_no_mechanical_translation_is_refused_on_postgresql(engine, request):
    db = engine()
    replace = "INSERT OR REPLACE INTO throttle (bucket, window_start, count) VALUES (?, ?, 1)"
    if "postgres" in request.node.callspec.id:
        with pytest.raises(NoTranslation):
            db.execute(replace, ["b", 1])
    else:
        db.execute(replace, ["b", 1])
    upsert = ("INSERT INTO throttle (bucket, window_start, count) VALUES (?, ?, 1) ON CONFLICT"
              " (bucket) DO UPDATE SET count = throttle.count + 1")
    for _ in range(2):
        db.execute(upsert, ["c", 1])
    assert db.execute("SELECT count FROM throttle WHERE bucket = 'c'").fetchone()[0] == 2


def _waits(db) -> tuple[str, str]:
    """(how long a write waits for the lock, whether a commit waits for the disk), as the engine
    says them."""
    if isinstance(db.conn, sqlite3.Connection):
        return (f"{db.execute('PRAGMA busy_timeout').fetchone()[0]}ms",
                # NORMAL in WAL mode: a commit does not wait for the disk.
                {1: "off", 2: "on"}[db.execute("PRAGMA synchronous").fetchone()[0]])
    return (db.execute("SHOW lock_timeout").fetchone()[0],
            db.execute("SHOW synchronous_commit").fetchone()[0])


def test_housekeeping_waits_briefly_and_the_floods_writes_do_not_wait_for_the_disk(engine):
    """waits.put_off_briefly and without_waiting_for_the_disk mean the same on both engines:
    SQLite's busy_timeout and synchronous NORMAL, PostgreSQL's lock_timeout and synchronous_commit
    off, each only for its block."""
    from portal.store import put_off_briefly, without_waiting_for_the_disk

    db = engine(busy_timeout=10.0)
    before = _waits(db)
    assert before[0] in ("10000ms", "10s") and before[1] == "on"
    seen = []
    assert put_off_briefly(db, lambda: seen.append(_waits(db)[0])) is None
    with without_waiting_for_the_disk(db), transaction(db):
        seen.append(_waits(db)[1])
    assert seen == ["250ms", "off"]
    assert _waits(db) == before
