"""Backups and restore (issue 17): `portal backup` while disclosures stream in, `portal restore` into a
fresh folder, every case opening with the officer's own key; a damaged or incomplete backup refused
with a message naming what is wrong, and nothing left behind."""
from __future__ import annotations

import json
import re
import shutil
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from tests.conftest import MARKER
from tests.support import (HttpClient, ROOT, csrf_token, database, disclosure_fields, files_containing,
                           post_multipart, receipt_from, start_server)

# What these check is the SQLite backup's own form: portal.db and the blobs/ files, with their
# digests; a PostgreSQL installation's backup is a pg_dump, made and restored by
# tests/store/test_postgres_requests.py::test_a_postgresql_installation_is_backed_up_and_restored_into_an_empty_database.
SQLITE_BACKUP = "the SQLite backup's files (portal.db, blobs/); PostgreSQL's dump is tested in tests/store"


def portal(data_dir: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "portal", "--data", str(data_dir), *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)


def attachment_for(n: int) -> bytes:
    return (f"attachment {n} ".encode() + MARKER.encode()) * 2000


def sign_in(client, person):
    token = csrf_token(client.get("/console/login").text)
    answer = client.post("/console/login", data={"csrf_token": token, "email": person.email,
                                                 "passphrase": person.passphrase, "totp": person.code()})
    assert answer.status_code == 303, answer.text


def case_refs(data_dir: Path) -> list[str]:
    conn = database.connect(data_dir)
    try:
        return [row[0] for row in conn.execute("SELECT ref FROM cases ORDER BY ref")]
    finally:
        conn.close()


def assert_every_case_opens(data_dir: Path, officer) -> int:
    """Sign the officer in on the installation in `data_dir` and open every case and attachment there."""
    from portal.web.app import create_app

    app = create_app(data_dir)
    app.config["TESTING"] = True
    client = app.test_client()
    sign_in(client, officer)
    refs = case_refs(data_dir)
    for ref in refs:
        page = client.get(f"/console/cases/{ref}")
        assert page.status_code == 200 and MARKER in page.text, ref
        number = int(re.search(r"case number (\d+)", page.text).group(1))
        for url in re.findall(r'href="(/console/cases/[^"]+/attachments/[^"]+)"', page.text):
            assert client.get(url).data == attachment_for(number)
    return len(refs)


@pytest.mark.slow
@pytest.mark.sqlite_only(reason=SQLITE_BACKUP)
def test_backup_while_disclosures_stream_in_then_restore_opens_every_case(installation, tmp_path):
    server = start_server(installation.data_dir, workers=2)
    done: list[str] = []
    stop = threading.Event()
    errors: list[str] = []
    lock = threading.Lock()
    counter = iter(range(1, 10_000))

    def discloser() -> None:
        client = HttpClient("127.0.0.1", server.port)
        while not stop.is_set():
            with lock:
                n = next(counter)
            token = csrf_token(client.get("/disclose").text)
            answer = client.post_multipart("/disclose", disclosure_fields(token, f"case number {n} {MARKER}"),
                                           [("attachments", f"evidence-{n}.txt", attachment_for(n))])
            if answer.status != 200:
                errors.append(answer.text[:500])
                return
            with lock:
                done.append(receipt_from(answer.text))

    clients = [threading.Thread(target=discloser) for _ in range(3)]
    try:
        for thread in clients:
            thread.start()
        while len(done) < 6 and not errors:
            threading.Event().wait(0.1)
        with lock:
            before_backup = list(done)
        made = portal(installation.data_dir, "backup", str(tmp_path / "backup"))
        with lock:
            after_backup = list(done)
        while len(done) < len(after_backup) + 3 and not errors:
            threading.Event().wait(0.1)
    finally:
        stop.set()
        for thread in clients:
            thread.join(timeout=60)
        server.stop()
    assert not errors, errors
    assert made.returncode == 0, made.stderr
    assert re.match(r"Backed up \d+ cases? and \d+ files?", made.stdout)
    backup = tmp_path / "backup"
    # Ciphertext only: nothing a discloser sent is readable in any file of the backup.
    assert files_containing(backup, MARKER.encode()) == []
    manifest = json.loads((backup / "manifest.json").read_text())
    assert manifest["files"]["portal.db"]["sha256"]

    restored = tmp_path / "restored"
    result = portal(restored, "restore", str(backup))
    assert result.returncode == 0, result.stderr
    assert "the audit chain verifies" in result.stdout
    opened = assert_every_case_opens(restored, installation.officer)
    # Everything finished before the backup began is in it; disclosures that went on during and after it
    # are in it whole or not at all (each case above opened with its attachment).
    assert len(before_backup) <= opened <= len(after_backup) + 3 + 3
    assert opened < len(case_refs(installation.data_dir))

    # The discloser's receipt opens the restored case too (the installation salt came along).
    from portal.web.app import create_app
    client = create_app(restored).test_client()
    token = csrf_token(client.get("/status").text)
    page = client.post("/status", data={"csrf_token": token, "receipt": before_backup[0]}, follow_redirects=True)
    assert 'id="case-status"' in page.text


def _disclose(client, n: int) -> None:
    token = csrf_token(client.get("/disclose").text)
    answer = post_multipart(client, "/disclose", disclosure_fields(token, f"case number {n} {MARKER}"),
                            [("attachments", f"evidence-{n}.txt", attachment_for(n))])
    assert answer.status_code == 200, answer.text


@pytest.fixture
def good_backup(installation, client, tmp_path) -> Path:
    for n in (1, 2):
        _disclose(client, n)
    assert portal(installation.data_dir, "backup", str(tmp_path / "backup")).returncode == 0
    return tmp_path / "backup"


@pytest.mark.sqlite_only(reason=SQLITE_BACKUP)
def test_a_backups_blobs_carry_the_days_time_only_not_when_they_were_last_read(installation, client, tmp_path):
    import os

    from portal.operations.backup import make_backup
    _disclose(client, 1)
    [blob] = (installation.data_dir / "blobs").iterdir()
    day = blob.stat().st_mtime
    os.utime(blob, (day + 4321.5, day))  # read since (an officer's download), or by the copy itself
    make_backup(installation.data_dir, tmp_path / "backup")
    [copied] = (tmp_path / "backup" / "blobs").iterdir()
    assert copied.stat().st_mtime == day and copied.stat().st_atime == day


def _variant(good: Path, tmp_path: Path, name: str) -> Path:
    copy = tmp_path / name
    shutil.copytree(good, copy)
    return copy


@pytest.mark.sqlite_only(reason=SQLITE_BACKUP)
def test_restore_refuses_a_damaged_or_incomplete_backup_naming_what_is_wrong(installation, good_backup, tmp_path):
    blob = sorted((good_backup / "blobs").iterdir())[0]
    relative = f"blobs/{blob.name}"

    removed = _variant(good_backup, tmp_path, "removed")
    (removed / relative).unlink()
    altered = _variant(good_backup, tmp_path, "altered")
    data = bytearray((altered / relative).read_bytes())
    data[len(data) // 2] ^= 0x01
    (altered / relative).write_bytes(bytes(data))
    unfinished = _variant(good_backup, tmp_path, "unfinished")
    (unfinished / "manifest.json").unlink()
    database = _variant(good_backup, tmp_path, "database")
    (database / "portal.db").write_bytes((database / "portal.db").read_bytes()[:4096])

    for source, message in ((removed, f"incomplete: {relative} is missing"),
                            (altered, f"damaged: {relative} does not match its digest"),
                            (unfinished, "incomplete: it has no manifest.json"),
                            (database, "damaged: portal.db does not match its digest")):
        target = tmp_path / f"into-{source.name}"
        result = portal(target, "restore", str(source))
        assert result.returncode == 1, result.stdout
        assert message in result.stderr, result.stderr
        assert "Traceback" not in result.stderr
        assert not target.exists() or list(target.iterdir()) == []  # nothing left behind

    # The good one restores, and only into an empty folder.
    assert portal(tmp_path / "fresh", "restore", str(good_backup)).returncode == 0
    again = portal(tmp_path / "fresh", "restore", str(good_backup))
    assert again.returncode == 1 and "is not empty" in again.stderr
    assert assert_every_case_opens(tmp_path / "fresh", installation.officer) == 2


@pytest.mark.sqlite_only(reason=SQLITE_BACKUP)
def test_restore_refuses_a_backup_whose_database_needs_a_blob_it_does_not_list(good_backup, tmp_path):
    # A consistent-looking manifest (digests recomputed) that leaves a blob out.
    broken = _variant(good_backup, tmp_path, "short")
    manifest = json.loads((broken / "manifest.json").read_text())
    dropped = next(name for name in manifest["files"] if name.startswith("blobs/"))
    del manifest["files"][dropped]
    (broken / dropped).unlink()
    (broken / "manifest.json").write_text(json.dumps(manifest))
    result = portal(tmp_path / "target", "restore", str(broken))
    assert result.returncode == 1
    assert f"the database needs {dropped}" in result.stderr


def test_backup_refuses_a_folder_that_is_not_empty(installation, tmp_path):
    dest = tmp_path / "dest"
    dest.mkdir()
    (dest / "something").write_text("x")
    result = portal(installation.data_dir, "backup", str(dest))
    assert result.returncode == 1 and "is not empty" in result.stderr


@pytest.mark.sqlite_only(reason=SQLITE_BACKUP)
def test_a_backup_edited_and_re_digested_is_refused_against_the_digest_printed_when_it_was_made(
        installation, client, tmp_path):
    """Someone who can write where backups are kept swaps the channel's recovery key in the copied database
    and recomputes the manifest: the files agree with each other, but not with the manifest digest printed
    when the backup was made, which the operator keeps off the server."""
    import hashlib
    _disclose(client, 1)
    made = portal(installation.data_dir, "backup", str(tmp_path / "backup"))
    assert made.returncode == 0, made.stderr
    digest = re.search(r"manifest sha256: ([0-9a-f]{64})", made.stdout).group(1)
    tampered = _variant(tmp_path / "backup", tmp_path, "tampered")
    conn = sqlite3.connect(tampered / "portal.db")
    conn.execute("UPDATE channels SET recovery_public_key = ?", [bytes(range(32))])
    conn.commit()
    conn.close()
    manifest = json.loads((tampered / "manifest.json").read_text())
    data = (tampered / "portal.db").read_bytes()
    manifest["files"]["portal.db"] = {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    (tampered / "manifest.json").write_text(json.dumps(manifest))
    refused = portal(tmp_path / "into-tampered", "restore", str(tampered), "--expect", digest)
    assert refused.returncode == 1 and "changed after it was made" in refused.stderr, refused.stderr
    assert not (tmp_path / "into-tampered").exists() or list((tmp_path / "into-tampered").iterdir()) == []
    assert portal(tmp_path / "fresh", "restore", str(tmp_path / "backup"), "--expect", digest).returncode == 0
    # A manifest entry that is not a size and digest is named, never a traceback.
    odd = _variant(tmp_path / "backup", tmp_path, "odd")
    manifest = json.loads((odd / "manifest.json").read_text())
    manifest["files"]["portal.db"] = ["not", "an", "object"]
    (odd / "manifest.json").write_text(json.dumps(manifest))
    result = portal(tmp_path / "into-odd", "restore", str(odd))
    assert result.returncode == 1 and "is not a size and digest" in result.stderr and "Traceback" not in result.stderr


def test_restore_into_a_folder_that_cannot_be_made_says_so(good_backup, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("in the way")
    result = portal(blocker / "restored", "restore", str(good_backup))
    assert result.returncode == 1 and "could not be restored" in result.stderr and "Traceback" not in result.stderr
