"""Shared fixtures: a fresh installation per test, set up through the `portal` command like an operator would."""
from __future__ import annotations

import contextlib
import datetime as dt
import itertools
import os
import shutil
import sqlite3
import time
from dataclasses import dataclass, replace
from pathlib import Path

import pyotp
import pytest
from click.testing import CliRunner

from portal.cli import main as portal_cli
from tests.support import roster as roster_support

MARKER = "MARKER-7f3a9c-do-not-store-in-clear"

# PORTAL_TEST_DATABASE=postgresql runs the suite against PostgreSQL (issue 30, docs/interface.md):
# one temporary cluster for the run (tests/store/postgres_server.py), one database per test.
ON_POSTGRES = os.environ.get("PORTAL_TEST_DATABASE", "sqlite") == "postgresql"
_database_numbers = itertools.count(1)


def _leave_out_the_other_engines(config, items) -> None:
    """Leave out the tests of the other engine: on PostgreSQL those marked sqlite_only (what they
    check is SQLite's own: its query plans, the file's pragmas, rowids; the marker's reason says
    which), on SQLite those marked postgres_only (their counterparts: PostgreSQL's plans)."""
    other = "sqlite_only" if ON_POSTGRES else "postgres_only"
    left_out = [item for item in items if item.get_closest_marker(other)]
    if left_out:
        config.hook.pytest_deselected(items=left_out)
        items[:] = [item for item in items if not item.get_closest_marker(other)]


class TotpClock:
    """The clock the portal reads TOTP steps from in tests that run it in this process: real time plus
    an offset that `Officer.code()` moves on by whole steps when every step in the window is used,
    instead of sleeping until the next real one. Tests whose server is another process (their TOTP
    steps come from its real clock) are marked `real_totp_clock` and wait as a person would."""

    def __init__(self, movable: bool):
        self.movable = movable
        self.offset = 0.0

    def seconds(self) -> float:
        return time.time() + self.offset


TOTP_CLOCK = TotpClock(movable=False)


@pytest.fixture(autouse=True)
def totp_clock(request, monkeypatch):
    global TOTP_CLOCK
    from portal.keys import second_factor

    TOTP_CLOCK = TotpClock(movable=request.node.get_closest_marker("real_totp_clock") is None)
    if TOTP_CLOCK.movable:
        monkeypatch.setattr(second_factor, "seconds_now", TOTP_CLOCK.seconds)
    yield TOTP_CLOCK


def totp_seconds() -> float:
    """Now, on the clock the portal under test reads TOTP steps from."""
    return TOTP_CLOCK.seconds()


def totp_now(secret: str) -> str:
    """The code of the current step on the clock the portal under test reads."""
    return pyotp.TOTP(secret).at(totp_seconds())


@dataclass
class Officer:
    email: str
    name: str
    passphrase: str
    totp_secret: str
    last_step: int = 0

    def code(self) -> str:
        """A code the portal will accept: the server refuses a time step already used (replay guard) and
        accepts only the current step or one either side, so take the earliest unused step that will still
        be in that window when the server checks it; if none is left, move the test's TOTP clock on a step
        (or, for a server in another process, wait for one). The step before the current one is used only
        early in the current step: checking can come seconds later (Argon2id on a busy machine), and by
        then a new step may have begun and put it out of the window."""
        totp = pyotp.TOTP(self.totp_secret)
        while True:
            moment = dt.datetime.fromtimestamp(TOTP_CLOCK.seconds(), dt.timezone.utc)
            now = totp.timecode(moment)
            into_step = moment.timestamp() % totp.interval
            earliest = now - 1 if into_step < totp.interval / 3 else now
            step = max(earliest, self.last_step + 1)
            if step <= now + 1:
                self.last_step = step
                return totp.generate_otp(step)
            if TOTP_CLOCK.movable:
                TOTP_CLOCK.offset += totp.interval
            else:
                time.sleep(1)


def run_cli(data_dir: Path, *args: str, input: str | None = None):
    result = CliRunner().invoke(portal_cli, ["--data", str(data_dir), *args], input=input)
    assert result.exit_code == 0, result.output
    return result


def add_account(data_dir: Path, role: str, email: str, name: str, channels=(), passphrase="a long test passphrase",
                *, complete_setup: bool = True, vouched: bool = True):
    """An account made with `portal <role> add`. An officer made so must replace the credentials its
    maker saw at first sign-in; unless told not to, do that here and return the officer's own ones.
    A channel's first officer starts its signed roster at that first sign-in; a later one is admitted
    by an officer of the channel the test made before (tests.support.roster), unless `vouched` is
    False."""
    args = [role, "add", "--email", email, "--name", name, "--passphrase-stdin"]
    for ch in channels:
        args += ["--channel", ch]
    out = run_cli(data_dir, *args, input=passphrase + "\n").output
    secret = out.strip().splitlines()[-1].removeprefix("totp: ")
    person = Officer(email, name, passphrase, secret)
    if role == "officer" and complete_setup:
        person = finish_first_sign_in(data_dir, person)
        if vouched:
            roster_support.vouch_for(data_dir, person)
        roster_support.remember(data_dir, person)
    return person


def finish_first_sign_in(data_dir: Path, person: Officer, new_passphrase: str | None = None) -> Officer:
    """The forced first-sign-in steps, through the domain functions the console's pages call."""
    from portal.keys import accounts, credentials, enrolment
    from portal.core.context import open_context

    new_passphrase = new_passphrase or person.passphrase + " chosen by me"
    ctx = open_context(data_dir)
    try:
        signed = credentials.authenticate(ctx, person.email, person.passphrase, person.code())
        state = enrolment.choose_passphrase(ctx, enrolment.from_sign_in(signed), new_passphrase, new_passphrase)
        mine = Officer(person.email, person.name, new_passphrase, state.totp_secret)
        enrolment.finish(ctx, state, mine.code())
    finally:
        ctx.db.conn.close()
    return mine


def officer_key(ctx, person: Officer):
    """The officer's account and unwrapped private key, as a signed-in session would hold them."""
    from portal.keys import accounts, credentials
    account = accounts.get_account_by_email(ctx, person.email)
    return account, credentials.unwrap_with_passphrase(ctx, account.id, person.passphrase)


@pytest.fixture
def no_argon2(monkeypatch):
    """Any Argon2id call fails the test: proves a rejection happens before the expensive work."""
    import nacl.bindings
    import nacl.pwhash.argon2id

    def boom(*args, **kwargs):
        raise AssertionError("Argon2id was called")

    monkeypatch.setattr(nacl.pwhash.argon2id, "kdf", boom)
    monkeypatch.setattr(nacl.bindings, "crypto_pwhash_alg", boom)


@dataclass
class Installation:
    data_dir: Path
    officer: Officer
    other_officer: Officer
    channel: str = "Audit and Risk"
    other_channel: str = "Procurement"


def make_installation(data_dir: Path) -> Installation:
    # Cheap key derivation, chosen explicitly for tests; the shipped defaults are tested elsewhere.
    run_cli(data_dir, "init", "--insecure-fast-kdf")
    run_cli(data_dir, "channel", "add", "Audit and Risk", "--description", "Internal audit")
    run_cli(data_dir, "channel", "add", "Procurement")
    officer = add_account(data_dir, "officer", "ana@agency.govt.nz", "Ana Officer", ["Audit and Risk"])
    other = add_account(data_dir, "officer", "ben@agency.govt.nz", "Ben Other", ["Procurement"])
    return Installation(data_dir, officer, other)


# Files whose tests hold a wall-clock limit (a page within 2 s while a flood runs, a dead worker's
# files gone within seconds) or load the machine themselves (50 clients, a CPU burner): marked
# `serial`, so `make test` runs them alone after the two-worker pass, where another worker's load
# cannot fail them.
SERIAL_FILES = (
    "tests/operations/test_first_run.py",
    "tests/operations/test_crash_and_load.py",
    "tests/operations/test_notifications.py",
    "tests/guard/test_served_",
    "tests/intake/test_served_",
    "tests/store/test_postgres_nodes.py",
)


def pytest_collection_modifyitems(config, items):
    _leave_out_the_other_engines(config, items)
    for item in items:
        if item.nodeid.startswith(SERIAL_FILES):
            item.add_marker(pytest.mark.serial)


def _portal_environment() -> dict[str, str]:
    """The PORTAL_ settings an installation is made under; on PostgreSQL not the database's URL,
    which is each test's own (`own_database`)."""
    return {k: v for k, v in os.environ.items() if k.startswith("PORTAL_")
            and not (ON_POSTGRES and k == "PORTAL_DATABASE_URL")}


# The databases copied for each test on PostgreSQL: one migrated, one holding the template.
_MIGRATED, _INSTALLED = "template_migrated", "template_installation"


@pytest.fixture(scope="session")
def postgres_server():
    """On PostgreSQL, the run's one temporary cluster, with a database at the current schema that
    each test's is copied from (CREATE DATABASE ... TEMPLATE); None on SQLite."""
    if not ON_POSTGRES:
        yield None
        return
    from portal.store import postgres
    from tests.store.postgres_server import PostgresServer

    server = PostgresServer().start()
    try:
        postgres.migrate(server.database(_MIGRATED))
        yield server
    finally:
        server.stop()


def _close_shared_state() -> None:
    """Close the connection portal.store.shared_state keeps per thread: a database being copied
    must have none open."""
    from portal.store import shared_state

    conn = getattr(shared_state._local, "conn", None)
    if conn is not None:
        conn.close()
        shared_state._local.conn = None


@dataclass
class OwnDatabase:
    """The test's own PostgreSQL database: its name, and `fresh(template)` to make it again as a
    copy of `template` (dropped first)."""
    server: object
    name: str

    def fresh(self, template: str) -> str:
        _close_shared_state()
        return self.server.database(self.name, template=template)


@pytest.fixture(autouse=True)
def own_database(request):
    """On PostgreSQL, a database of the test's own named by PORTAL_DATABASE_URL before any other
    fixture: a copy of the installation template's when the test uses `installation`, else an
    empty one at the current schema (for `portal init` and the like). None on SQLite."""
    if not ON_POSTGRES:
        yield None
        return
    server = request.getfixturevalue("postgres_server")
    database = OwnDatabase(server, f"test_{next(_database_numbers)}")
    installed = "installation" in request.fixturenames
    if installed:
        request.getfixturevalue("installation_template")
    # A MonkeyPatch of its own: a test's monkeypatch.undo() must not take the database away.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PORTAL_DATABASE_URL", database.fresh(_INSTALLED if installed else _MIGRATED))
        yield database
    _close_shared_state()


@pytest.fixture(scope="session")
def installation_template(tmp_path_factory, postgres_server) -> tuple[Installation, dict[str, str]]:
    """One installation made by `make_installation` for the whole run, and the PORTAL_ settings it
    was made under. Its TOTP steps are the real clock's (so always behind a test's), and its
    database is checkpointed so that a copy is its one file (on PostgreSQL: a database of its own,
    which each test's is copied from)."""
    global TOTP_CLOCK
    from portal.keys import second_factor

    made_under = _portal_environment()
    before = TOTP_CLOCK
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(second_factor, "seconds_now", time.time)
        if postgres_server is not None:
            patch.setenv("PORTAL_DATABASE_URL",
                         postgres_server.database(_INSTALLED, template=_MIGRATED))
        TOTP_CLOCK = TotpClock(movable=False)
        try:
            template = make_installation(tmp_path_factory.mktemp("template") / "data")
        finally:
            TOTP_CLOCK = before
            if postgres_server is not None:
                _close_shared_state()
    if postgres_server is None:
        with contextlib.closing(sqlite3.connect(template.data_dir / "portal.db")) as conn:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return template, made_under


@pytest.fixture
def installation(tmp_path, installation_template, own_database) -> Installation:
    """A fresh installation of its own for the test: a copy of the run's template (made in about
    0.5 s, copied in milliseconds), or made anew when the test set PORTAL_ settings first (another
    database, roster roots elsewhere) that the template was not made under."""
    data_dir = tmp_path / "data"
    template, made_under = installation_template
    ours = own_database is not None and \
        os.environ.get("PORTAL_DATABASE_URL") == own_database.server.url(own_database.name)
    if _portal_environment() != made_under or (own_database is not None and not ours):
        # Other settings, or on PostgreSQL a database the test chose itself (tests/store's).
        if ours:
            own_database.fresh(_MIGRATED)  # the template's copy: empty it for `portal init`
        return make_installation(data_dir)
    shutil.copytree(template.data_dir, data_dir, copy_function=shutil.copy)
    officer, other = replace(template.officer), replace(template.other_officer)
    for person in (officer, other):
        roster_support.remember(data_dir, person)
    return Installation(data_dir, officer, other)


@pytest.fixture
def app(installation):
    from portal.web.app import create_app
    app = create_app(installation.data_dir)
    app.config["TESTING"] = True
    return app


@pytest.fixture
def client(app):
    return app.test_client()

