"""A full disk, on a served portal (issue 24, Why 2 and 3): the data directory on a small real tmpfs
that the test mounts (the tests run as root, as CI does) and fills to the last byte. The portal
starts all the same (its start-up writes are said and skipped), serves its pages saying that
disclosures are paused, gives a disclosure back with its text and stores nothing, says plainly that
the console is not available, and every command ends in a verdict. docs/deploy.md lists each."""
from __future__ import annotations

import contextlib
import gc
import html
import re
import shutil
import sqlite3
import subprocess
import sys

import pytest

from tests.conftest import MARKER
from tests.support.disks import small_tmpfs
from tests.support import (HttpClient, csrf_token, disclosure_fields, form_for, multipart, post_multipart,
                           receipt_from, start_server)
from tests.support.console import sign_in
from tests.support import database

pytestmark = pytest.mark.sqlite_only(reason="the data directory's disk filled: on PostgreSQL the"
                                 " database and its blobs are on the server's disk")

SAME_ORIGIN = {"Sec-Fetch-Site": "same-origin"}
SHORT_OF_SPACE_WAIT = 600  # seconds: "Please try again in about 10 minutes."
STORED_TEXT = "An account stored before the disk filled"


def _fill(disk) -> None:
    # Unbuffered: a buffered file would flush what did not fit again on close, and fail there.
    with open(disk / "filler", "wb", buffering=0) as filler:
        try:
            while True:
                filler.write(b"\0" * 65536)
                filler.flush()
        except OSError:
            pass
    # What the last partial write left: a byte at a time, to the very end.
    with open(disk / "filler-tail", "wb", buffering=0) as tail:
        try:
            while True:
                tail.write(b"\0")
        except OSError:
            pass
    assert shutil.disk_usage(disk).free == 0


@pytest.fixture
def small_disk(installation, tmp_path):
    """The installation on a 16 MiB tmpfs, with a case, a signed-in session that has since ended and
    an emptied directory of authorities (so that start-up has writing to do); and how to fill it.
    Every connection this process opened is closed before the disk is filled (the in-process app
    dropped with its requests'), so the database is as a stopped or idle server leaves it: its -wal
    and -shm files deleted by the last close (issue 24 review, H1)."""
    from portal.core.config import load_settings
    from portal.web.app import create_app

    with small_tmpfs(tmp_path / "disk", 16) as disk:
        data_dir = disk / "data"
        shutil.copytree(installation.data_dir, data_dir)
        app = create_app(settings=load_settings(data_dir, free_space_floor_bytes=0))
        client = app.test_client()
        token = csrf_token(client.get("/disclose").text)
        receipt = receipt_from(post_multipart(client, "/disclose", disclosure_fields(token, STORED_TEXT)).text)
        assert sign_in(client, installation.other_officer).status_code == 303
        with contextlib.closing(database.connect(data_dir)) as conn, conn:
            conn.execute("UPDATE sessions SET expires_at = 0")
            conn.execute("DELETE FROM authorities")
        del app, client
        gc.collect()
        assert sorted(p.name for p in data_dir.glob("portal.db*")) == ["portal.db"]
        yield data_dir, receipt, lambda: _fill(disk)


@pytest.fixture
def full_disk(small_disk):
    data_dir, receipt, fill = small_disk
    fill()
    return data_dir, receipt


def _stored(data_dir) -> tuple[int, list]:
    # Immutable: the full disk has no room for the -shm a plain read-only open makes, and with no
    # room for one no other connection can be writing.
    with contextlib.closing(sqlite3.connect(f"file:{data_dir / 'portal.db'}?mode=ro&immutable=1",
                                            uri=True)) as conn:
        cases = conn.execute("SELECT COUNT(*) FROM cases").fetchone()[0]
    return cases, sorted(p.name for p in (data_dir / "blobs").rglob("*"))


def test_with_a_full_disk_portal_serve_starts_and_its_pages_say_disclosures_are_paused(
        installation, full_disk, tmp_path):
    data_dir, receipt = full_disk
    server = start_server(data_dir, workers=1, output_dir=tmp_path)
    try:
        client = HttpClient("127.0.0.1", server.port)
        for path in ("/", "/disclose", "/status"):
            page = client.get(path)
            assert page.status == 200, (path, page.status)
            assert 'id="storage-notice"' in page.text and "Disclosures are paused" in page.text, path
        # Opening a case's thread needs its status session written: 503, said plainly, the receipt
        # not echoed.
        # The page's own fields are posted (proof of work, page mark): none is shown as typed.
        fields = dict(form_for(client.get("/status").text, "/status")["fields"], receipt=receipt)
        opened = client.post_form("/status", fields)
        assert opened.status == 503 and opened.headers["Retry-After"] == str(SHORT_OF_SPACE_WAIT), opened.text
        assert "short of storage space" in opened.text and receipt not in opened.text
        assert "still here" not in opened.text and fields["pow_challenge"] not in opened.text
        login = client.get("/console/login")
        assert login.status == 200 and "The console is not available" in login.text
        # Signing in needs to write (the session, the audit entry): it says so plainly, 503.
        answer = client.post_form("/console/login", {
            "csrf_token": csrf_token(login.text), "email": installation.officer.email,
            "passphrase": installation.officer.passphrase, "totp": installation.officer.code()})
        assert answer.status == 503 and int(answer.headers["Retry-After"]) > 0
        assert "The console is not available" in answer.text
        assert "cases cannot be opened" not in answer.text  # nobody signed in has a case to open
        assert installation.officer.passphrase not in answer.text
        output = server.output()
        assert "Start-up could not finish" in output and "storage fault: full" in output
    finally:
        output = server.stop()
    assert "Traceback" not in output


@pytest.mark.parametrize("floor", ["default", "0"])
def test_a_disclosure_sent_to_a_full_disk_gets_503_keeps_its_text_and_stores_nothing(
        installation, full_disk, floor, tmp_path):
    """With the default floor the portal refuses before storing (the file's bytes read and dropped);
    with no floor at all the write itself meets the full disk (ENOSPC, SQLITE_FULL), here with text
    only: a file streamed into a full disk with no floor is w22-uploads' (the floor checked as bytes
    arrive). The answer is the same either way."""
    data_dir, receipt = full_disk
    env = {} if floor == "default" else {"PORTAL_FREE_SPACE_FLOOR_BYTES": "0"}
    server = start_server(data_dir, workers=1, env=env, output_dir=tmp_path)
    try:
        before = _stored(data_dir)
        client = HttpClient("127.0.0.1", server.port)
        token = csrf_token(client.get("/disclose").text)
        files = [("attachments", "evidence.txt", b"some evidence " * 5000)] if floor == "default" else []
        body, content_type = multipart(disclosure_fields(token, MARKER), files)
        answer = client.request("POST", "/disclose", body,
                                {"Content-Type": content_type, **SAME_ORIGIN})
        assert answer.status == 503, answer.text
        # Refused at the floor or met by the full disk itself: one state, one wait (issue 24
        # review, L3; it was 600 s and 3600 s).
        assert answer.headers["Retry-After"] == str(SHORT_OF_SPACE_WAIT), answer.headers
        page = html.unescape(answer.text)
        assert "Nothing was stored" in page and "short of storage space" in page
        assert re.search(rf'<textarea[^>]*name="details"[^>]*>\s*{MARKER}</textarea>', page), page
        assert _stored(data_dir) == before
        assert not list(data_dir.rglob("*.part"))
    finally:
        output = server.stop()
    assert "Traceback" not in output


def _portal(data_dir, *args, stdin: str = ""):
    return subprocess.run([sys.executable, "-m", "portal", "--data", str(data_dir), *args],
                          input=stdin, capture_output=True, text=True, timeout=120)


def test_portal_commands_give_a_verdict_on_a_full_disk(full_disk):
    data_dir, receipt = full_disk
    verify = _portal(data_dir, "audit", "verify")
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert "Traceback" not in verify.stdout + verify.stderr
    assert len((verify.stdout + verify.stderr).strip().splitlines()) == 1
    for args in (["channel", "add", "Finance"], ["officer", "invite", "--email", "c@agency.govt.nz",
                                                  "--name", "Cy", "--channel", "Procurement"]):
        result = _portal(data_dir, *args)
        said = (result.stdout + result.stderr).strip()
        assert result.returncode != 0 and "Traceback" not in said, said
        assert said.splitlines()[-1].startswith("Error: The disk is full"), said
        assert len(said.splitlines()) == 1, said


@contextlib.contextmanager
def _closed_cleanly(installation, tmp_path):
    """(disk, data directory, audit entries): a copy of the installation on a 16 MiB tmpfs whose
    database was closed cleanly (no -wal and -shm beside it)."""
    with small_tmpfs(tmp_path / "disk", 16) as disk:
        data_dir = disk / "data"
        shutil.copytree(installation.data_dir, data_dir)
        with contextlib.closing(database.connect(data_dir)) as conn:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            entries = conn.execute("SELECT COUNT(*) FROM audit_log").fetchone()[0]
        for name in ("portal.db-wal", "portal.db-shm"):
            (data_dir / name).unlink(missing_ok=True)
        yield disk, data_dir, entries


def test_audit_verify_gives_its_verdict_on_a_full_disk_whose_database_was_closed_cleanly(
        installation, tmp_path):
    """With no -wal and -shm beside the database (its last connection closed cleanly) the disk has
    no room to open it as usual; a verify only reads, so it opens it read-only (issue 24 review,
    M1) and says whether the chain is intact, changing nothing."""
    with _closed_cleanly(installation, tmp_path) as (disk, data_dir, entries):
        database = (data_dir / "portal.db").read_bytes()
        _fill(disk)
        verify = _portal(data_dir, "audit", "verify")
        said = (verify.stdout + verify.stderr).strip()
        assert verify.returncode == 0 and said == f"The audit log is intact: {entries} entries.", said
        assert (data_dir / "portal.db").read_bytes() == database


def test_an_officer_signed_in_before_the_disk_filled_sees_the_inbox_and_why_a_case_will_not_open(
        installation, small_disk, tmp_path):
    """Opening a case is recorded in the audit log before it is shown: with nothing recordable the
    case stays shut (503, said plainly), never shown unrecorded."""
    data_dir, receipt, fill = small_disk
    server = start_server(data_dir, workers=1, output_dir=tmp_path)
    try:
        client = HttpClient("127.0.0.1", server.port)
        discloser = HttpClient("127.0.0.1", server.port)
        fields = dict(form_for(discloser.get("/status").text, "/status")["fields"], receipt=receipt)
        assert discloser.post_form("/status", fields).status == 303
        officer = installation.officer
        login = client.get("/console/login")
        signed = client.post_form("/console/login", {
            "csrf_token": csrf_token(login.text), "email": officer.email,
            "passphrase": officer.passphrase, "totp": officer.code()})
        assert signed.status == 303, signed.text
        # The fallback is what this exercises: only the database file, no -wal or -shm (review L1).
        assert sorted(p.name for p in data_dir.glob("portal.db*")) == ["portal.db"]
        fill()
        # A running server, idle when the disk filled: its last connection closed, so the -wal and
        # -shm are gone; its public pages still answer, read-only (issue 24 review, H1).
        for path in ("/disclose", "/status"):
            page = HttpClient("127.0.0.1", server.port).get(path)
            assert page.status == 200 and "Disclosures are paused" in page.text, (path, page.status)
        inbox = client.get("/console/")
        assert inbox.status == 200 and 'id="storage-notice"' in inbox.text
        assert "cases cannot be opened" in inbox.text
        ref = re.search(r'href="/console/cases/([^"/]+)"', inbox.text).group(1)
        case = client.get(f"/console/cases/{ref}")
        assert case.status == 503 and int(case.headers["Retry-After"]) > 0
        assert "short of storage space" in case.text and STORED_TEXT not in case.text
        # Signing out on a full disk (issue 24, review 24c L2): the session's row cannot be ended,
        # so the cookie is cleared and the page says the session ends on this computer only.
        for who, page_path, logout, cookie in ((client, "/console/", "/console/logout", "console"),
                                               (discloser, "/status", "/status/logout", "status")):
            page = who.get(page_path)
            assert page.status == 200, (page_path, page.status)
            answer = who.post_form(logout, form_for(page.text, logout)["fields"])
            assert answer.status == 303, (logout, answer.status, answer.text)
            assert any(cookie in c and ("Max-Age=0" in c or "1970" in c)
                       for c in answer.headers.get_all("Set-Cookie") or []), answer.headers
            told = who.get(answer.headers["Location"])
            assert told.status == 200 and "You are signed out on this computer" in told.text, told.text
        assert client.get("/console/").status == 303 and 'id="case-status"' not in discloser.get("/status").text
    finally:
        output = server.stop()
    assert "Traceback" not in output


def test_audit_verify_reads_again_when_space_comes_back_and_a_write_lands_under_it(
        installation, tmp_path, monkeypatch):
    """The read-only fallback's `immutable` promise holds only while the disk stays full (issue 24
    review, N4): space freed and an entry appended (and checkpointed) by another connection while
    the verify reads must not give a torn or stale read, nor a false TAMPERED: it reads again."""
    from click.testing import CliRunner

    from portal.cli import main as portal_cli
    from portal.core.context import open_context
    from portal.records import audit, audit_verify

    with _closed_cleanly(installation, tmp_path) as (disk, data_dir, entries):
        _fill(disk)
        real_link, writes = audit_verify.crypto.audit_link, []

        def link_after_a_write(*args):
            if not writes:  # the verify has read its first entry: space comes back, another writes
                writes.append(None)
                (disk / "filler").unlink()
                other = open_context(data_dir)
                writes[0] = audit.record(other, "settings_changed", actor=None, detail={"n": 1})
                other.db.conn.close()  # its checkpoint rewrites the file under the verify
            return real_link(*args)

        monkeypatch.setattr(audit_verify.crypto, "audit_link", link_after_a_write)
        result = CliRunner().invoke(portal_cli, ["--data", str(data_dir), "audit", "verify"])
        assert writes == [entries + 1]
        assert result.exit_code == 0, result.output
        assert result.output.strip() == f"The audit log is intact: {entries + 1} entries.", result.output


def test_portal_backup_copies_a_full_disk_to_another_and_leaves_nothing_when_it_cannot(full_disk, tmp_path):
    """A backup only reads the installation, so a full disk under it is no obstacle (issue 24 review,
    N5); a backup that cannot be written leaves its destination as it was, so a retry is not refused
    as "not empty"."""
    data_dir, _receipt = full_disk
    onto_full = data_dir.parent / "backup"  # the full disk itself: nothing fits
    failed = _portal(data_dir, "backup", str(onto_full))
    said = (failed.stdout + failed.stderr).strip()
    assert failed.returncode == 1 and "Traceback" not in said and len(said.splitlines()) == 1, said
    assert not onto_full.exists(), said
    elsewhere = tmp_path / "backup"
    made = _portal(data_dir, "backup", str(elsewhere))
    said = made.stdout + made.stderr
    assert made.returncode == 0 and "Backed up 1 case" in said, said
    from portal.operations.backup import check_backup

    assert check_backup(elsewhere)["cases"] >= 1  # whole: every file there with its digest
