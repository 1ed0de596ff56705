"""`portal migrate-to URL` (issue 30): an SQLite installation made as today's portal makes one
(`portal init`, officers, disclosures with files through HTTP, replies both ways with a file, a
referral) moved into an empty PostgreSQL database. With PORTAL_DATABASE_URL set and the SQLite
database and blob files removed, the officer reads every case and every file through HTTP, the
discloser's receipt opens their case with the officer's reply, a new disclosure comes into the
inbox (the triggers and identities work on), `portal audit verify` passes. A second migration into
the filled database is refused; a migration that fails part way (a blob file missing) leaves the
target empty, and the same command then succeeds; so does one killed while it copies. One whose
audit chain does not verify is not migrated. A plain dump of the database holds no plaintext.
"""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import sys
import time

import psycopg
import pytest
from click.testing import CliRunner

from portal.cli import main as portal_cli
from portal.operations.backup_postgres import tool
from portal.store import dialect
from tests.conftest import MARKER
from tests.support import csrf_token, post_multipart
from tests.support.console import case_links, disclose, sign_in
from tests.support.referral import authority_id
from tests.support.workflow import open_status, post

FIRST = os.urandom(300 * 1024) + MARKER.encode() + b" first file"
SECOND = os.urandom(700 * 1024) + MARKER.encode() + b" second file"  # three chunks of 256 KiB
REPLIED = MARKER.encode() + b" the discloser's later file"


@pytest.fixture(autouse=True)
def sqlite_installation(monkeypatch):
    """The installation is SQLite's, in its data directory: no database URL while it is made."""
    monkeypatch.delenv("PORTAL_DATABASE_URL", raising=False)


def migrate(data_dir, url):
    return CliRunner().invoke(portal_cli, ["--data", str(data_dir), "migrate-to", url])


def tables(url: str) -> int:
    with psycopg.connect(url) as conn:
        return conn.execute(dialect.OWN_TABLES).fetchone()[0]


def make_cases(app, installation) -> tuple[str, str]:
    """Two disclosures with files, an officer's reply and the discloser's answer with a file, and
    a referral of the second case: (first receipt, second receipt)."""
    first = disclose(app.test_client(), details=MARKER + " first case",
                     files=(("attachments", "first.pdf", FIRST),))
    second = disclose(app.test_client(), details=MARKER + " second case",
                      files=(("attachments", "second.pdf", SECOND),))
    officer = app.test_client()
    assert sign_in(officer, installation.officer).status_code == 303
    by_details = {}
    for link in case_links(officer.get("/console/").text):
        page = officer.get(link).text
        by_details["first" if "first case" in page else "second"] = link
    assert post(officer, by_details["first"] + "/reply",
                message="Thank you: we are assessing it.").status_code == 303
    discloser = app.test_client()
    page = open_status(discloser, first)
    answered = post_multipart(discloser, "/status/reply",
                              [("csrf_token", csrf_token(page)), ("message", "One more file.")],
                              [("attachments", "later.pdf", REPLIED)])
    assert answered.status_code == 303, answered.text
    page = officer.get(by_details["second"]).text
    oag = authority_id(page, "Controller and Auditor-General")
    assert post(officer, by_details["second"] + "/referral", authority=oag, concerns="general",
                consultation="consulted", consultation_note="Agreed by message.",
                reason="It concerns public funds.").status_code == 303
    return first, second


def read_everything(app, installation) -> dict[str, tuple[str, list[bytes]]]:
    """Every case in the officer's inbox: its page and every file downloaded, by case URL."""
    officer = app.test_client()
    assert sign_in(officer, installation.officer).status_code == 303
    seen = {}
    for link in case_links(officer.get("/console/").text):
        page = officer.get(link)
        assert page.status_code == 200
        files = re.findall(r'href="(/console/cases/[^"]+/attachments/[^"]+)"', page.text)
        seen[link] = (page.text, sorted(officer.get(url).data for url in set(files)))
    return seen


def test_an_sqlite_installation_moves_to_postgresql_and_every_case_is_read_there(
        app, installation, server, monkeypatch, tmp_path):
    first, _ = make_cases(app, installation)
    url = server.database("moved")
    done = migrate(installation.data_dir, url)
    assert done.exit_code == 0, done.output
    assert "2 cases moved into PostgreSQL, with 3 files" in done.output
    assert "verifies there" in done.output and "PORTAL_DATABASE_URL" in done.output

    again = migrate(installation.data_dir, url)
    assert again.exit_code == 1 and "not empty" in again.output
    assert len(again.output.strip().splitlines()) == 1

    # What the database held is no longer on the disk: everything read below is PostgreSQL's.
    for path in installation.data_dir.glob("portal.db*"):
        path.unlink()
    for path in (installation.data_dir / "blobs").iterdir():
        path.unlink()
    monkeypatch.setenv("PORTAL_DATABASE_URL", url)
    from portal.web.app import create_app

    moved = create_app(installation.data_dir)
    moved.config["TESTING"] = True
    seen = read_everything(moved, installation)
    assert len(seen) == 2
    pages = " ".join(page for page, _ in seen.values())
    assert "first case" in pages and "second case" in pages and "One more file." in pages
    assert "referred to the Controller and Auditor-General" in pages
    assert sorted(data for _, files in seen.values() for data in files) == sorted(
        [FIRST, SECOND, REPLIED])
    status = open_status(moved.test_client(), first)
    assert "Thank you: we are assessing it." in status and "One more file." in status

    # The portal goes on writing there: a new case reaches the inbox (the queue's triggers are
    # on again; each identity column carries on past the ids copied).
    disclose(moved.test_client(), details="A third case, after the move.",
             files=(("attachments", "third.pdf", b"third"),))
    assert len(read_everything(moved, installation)) == 3
    added = CliRunner().invoke(portal_cli, ["--data", str(installation.data_dir), "channel", "add",
                                            "Finance"])
    assert added.exit_code == 0, added.output  # a new id, past the channels copied
    verified = CliRunner().invoke(portal_cli, ["--data", str(installation.data_dir), "audit",
                                               "verify"])
    assert verified.exit_code == 0, verified.output

    dump = tmp_path / "plain.sql"
    subprocess.run([tool("pg_dump"), "--format=plain", f"--file={dump}", f"--dbname={url}"],
                   check=True)
    text = dump.read_bytes()
    assert b"COPY public.blob_chunks" in text and b"COPY public.cases" in text
    assert MARKER.encode() not in text and b"first case" not in text
    assert b"One more file" not in text and b"assessing" not in text


def test_a_migration_that_fails_part_way_leaves_the_target_empty_and_can_be_run_again(
        app, installation, server):
    make_cases(app, installation)
    url = server.database("failed")
    blobs = sorted((installation.data_dir / "blobs").iterdir())
    # The last blob copied goes missing: every table's rows were copied before it.
    aside = blobs[-1].with_suffix(".aside")
    blobs[-1].rename(aside)
    failed = migrate(installation.data_dir, url)
    assert failed.exit_code == 1 and "is missing from the data directory" in failed.output
    assert "Nothing was migrated." in failed.output
    assert tables(url) == 0  # the schema and every row rolled back with it

    aside.rename(blobs[-1])
    done = migrate(installation.data_dir, url)
    assert done.exit_code == 0, done.output
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT count(*) FROM cases").fetchone()[0] == 2
        assert conn.execute(dialect.FINISHED_BLOBS).fetchone()[0] == 3


def test_an_installation_already_on_postgresql_is_not_migrated(installation, server, monkeypatch):
    monkeypatch.setenv("PORTAL_DATABASE_URL", server.database("elsewhere"))
    refused = migrate(installation.data_dir, server.database("target"))
    assert refused.exit_code == 1 and "PostgreSQL already" in refused.output
    assert tables(server.url("target")) == 0


def test_a_migration_killed_while_it_copies_leaves_the_target_empty(app, installation, server):
    """`portal migrate-to` run as its own process, stopped while it copies a blob's chunks (its
    transaction open, nothing of it visible to another connection), then killed with SIGKILL: the
    server rolls the transaction back, the target has no table, and the command then succeeds."""
    make_cases(app, installation)
    url = server.database("killed")
    env = {k: v for k, v in os.environ.items() if k != "PORTAL_DATABASE_URL"}
    command = [sys.executable, "-m", "portal", "--data", str(installation.data_dir), "migrate-to",
               url]
    copying = ("SELECT pid FROM pg_stat_activity WHERE datname = 'killed'"
               " AND query LIKE 'COPY blob_chunks%' AND xact_start IS NOT NULL")
    with psycopg.connect(server.url(), autocommit=True) as watcher:
        for attempt in range(20):  # on a fast machine the copy may end before it is seen
            process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL,
                                       stderr=subprocess.DEVNULL)
            seen = None
            while seen is None and process.poll() is None:
                seen = watcher.execute(copying).fetchone()
            if seen is not None:
                break
            process.wait()
            assert tables(url) > 0  # it finished: drop it and try again
            url = server.database("killed")
        assert seen is not None, "the copy was never seen under way"
        process.send_signal(signal.SIGSTOP)
        (backend,) = seen
        assert watcher.execute("SELECT xact_start IS NOT NULL FROM pg_stat_activity"
                               " WHERE pid = %s", (backend,)).fetchone() == (True,)
        assert tables(url) == 0  # what it made so far is its transaction's alone
        process.kill()
        process.wait()
        deadline = time.monotonic() + 30
        while watcher.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s",
                              (backend,)).fetchone() and time.monotonic() < deadline:
            time.sleep(0.05)
    assert tables(url) == 0
    done = migrate(installation.data_dir, url)
    assert done.exit_code == 0, done.output
    assert tables(url) > 0


def test_an_installation_whose_audit_chain_does_not_verify_is_not_migrated(installation, server):
    conn = sqlite3.connect(installation.data_dir / "portal.db")
    with conn:
        conn.execute("UPDATE audit_log SET event = event || '!' WHERE seq = 2")
    conn.close()
    url = server.database("altered")
    refused = migrate(installation.data_dir, url)
    assert refused.exit_code == 1, refused.output
    assert "does not verify in the SQLite database: Entry 2 was altered" in refused.output
    assert tables(url) == 0
