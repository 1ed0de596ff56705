"""End to end over real HTTP against `portal serve` (gunicorn, gthread workers) run as its own process.

A discloser submits text and a multi-megabyte attachment with a marker string in both (Secure
cookies on, as shipped), opens the case again days later with the receipt, and replies with another
attachment. The server's TMPDIR (and TEMP, TMP) point below /dev/null, where nothing can be created
even by root, so a spooled upload would have to fall back to /tmp, which the checks below would see.

- test_disclosure_and_reply_over_http_write_only_ciphertext_and_decrypt_for_the_officer: the server
  runs under tests/support/audited_serve.py, a Python audit hook that records every file opened for writing in
  the master and in every forked worker. Each is an encrypted blob, the database or its journal;
  afterwards no file under the data directory holds the marker (nor any stretch of the attachments);
  the channel officer's private key opens the case key through the domain API, the fields read back,
  and both attachments decrypt byte-identical.
- test_at_the_system_call_level_only_blobs_and_the_database_are_written: the same, with the server
  under strace, which also sees what C code opens (SQLite's journal, WAL and temporary files), where
  the audit hook only sees the connection. Skipped where strace is missing or not permitted.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from portal.guard.tickets import LINE_BYTES
from portal.keys import accounts
from portal.records import case_attachments, case_history, casefiles
from portal.core.context import open_context
from tests.conftest import MARKER, officer_key
from tests.support import (ROOT, TRACED, HttpClient, ServerProcess, csrf_token, disclosure_fields, files_containing,
                           multipart, raw_request, receipt_from, start_server, strace_writes)
from tests.support import database

pytestmark = pytest.mark.slow

AUDITED_SERVE = ROOT / "tests" / "support" / "audited_serve.py"
UNUSABLE_TMPDIR = "/dev/null/no-temporary-files-here"  # below a character device: no one can create it
SERVER_ENV = {"TMPDIR": UNUSABLE_TMPDIR, "TEMP": UNUSABLE_TMPDIR, "TMP": UNUSABLE_TMPDIR,
              # Bytecode caches are not discloser content, but they would blur the list of written files.
              "PYTHONDONTWRITEBYTECODE": "1"}

ATTACHMENT = os.urandom(3 * 1024 * 1024) + MARKER.encode() + os.urandom(512 * 1024)
REPLY_MARKER = MARKER + "-reply"
REPLY_ATTACHMENT = os.urandom(1024 * 1024) + REPLY_MARKER.encode() + os.urandom(4096)
DETAILS = "What I saw at the March board meeting: " + MARKER
REPLY_TEXT = "More detail, as you asked: " + REPLY_MARKER
DATABASE_FILES = {"portal.db", "portal.db-wal", "portal.db-shm", "portal.db-journal"}
BLOB_NAME = re.compile(r"[0-9a-f]{32}\.(part|blob)")


def write_is_allowed(path: str, data_dir: Path, *, created_dir: bool = False) -> bool:
    p = Path(path)
    data_dir = Path(os.path.abspath(data_dir))
    if created_dir:
        return p == data_dir / "blobs"  # BlobStore makes sure its folder exists (mkdir, exist_ok)
    if p.parent == data_dir / "blobs" and BLOB_NAME.fullmatch(p.name):
        return True  # an encrypted blob: written as NAME.part, renamed to NAME.blob
    if p.parent == data_dir and p.name in DATABASE_FILES:
        return True
    if p.parent == Path("/dev/shm") and p.name.startswith("wgunicorn-"):
        # gunicorn's worker heartbeat (portal/web/server.py sets worker_tmp_dir=/dev/shm): made by mkstemp,
        # unlinked at once and never written to (only its times change), on tmpfs: memory, not disk.
        return True
    if p.parent == Path("/dev/shm") and re.fullmatch(r"portal-[0-9a-f]{16}-(receipt(_lane)?-\d+|writers)\.lock",
                                                     p.name):
        # A place in the receipt checks' share across processes (portal/guard/work_queues.py), or the
        # database's writers' lock (portal/store/db.py): an advisory lock on an empty file in memory;
        # it must stay empty.
        return not p.exists() or p.stat().st_size == 0
    if p.parent == Path("/dev/shm") and re.fullmatch(r"portal-[0-9a-f]{16}-[0-9a-f]{16}-(disclose|status)\.line",
                                                     p.name):
        # The no-script line shared by the workers (portal/guard/tickets.py): its next free turn and
        # its last places, LINE_BYTES in memory, never on disk.
        return not p.exists() or p.stat().st_size == LINE_BYTES
    return False


def discloser_session(port: int) -> None:
    """Disclose with an attachment, come back with the receipt, reply with an attachment."""
    discloser = HttpClient("127.0.0.1", port)
    form_page = discloser.get("/disclose")
    assert form_page.status == 200
    set_cookie = form_page.headers.get("Set-Cookie") or ""
    assert set_cookie.startswith("__Host-") and "Secure" in set_cookie and "HttpOnly" in set_cookie
    response = discloser.post_multipart("/disclose", disclosure_fields(csrf_token(form_page.text), DETAILS),
                                        [("attachments", "evidence.pdf", ATTACHMENT)])
    assert response.status == 200, response.text
    receipt = receipt_from(response.text)

    later = HttpClient("127.0.0.1", port)  # days later, a new visit
    status_page = later.get("/status")
    response = later.post_form("/status", {"csrf_token": csrf_token(status_page.text), "receipt": receipt})
    assert response.status == 303, response.text
    status_cookie = next(h for h in response.headers.get_all("Set-Cookie") if "pd_status" in h)
    assert status_cookie.startswith("__Host-") and "Secure" in status_cookie
    thread = later.get("/status")
    assert thread.status == 200 and 'data-status="received"' in thread.text and "evidence.pdf" in thread.text
    response = later.post_multipart("/status/reply", [("csrf_token", csrf_token(thread.text)), ("message", REPLY_TEXT)],
                                    [("attachments", "minutes.txt", REPLY_ATTACHMENT)])
    assert response.status == 303, response.text
    thread = later.get("/status")
    assert REPLY_TEXT in thread.text and "minutes.txt" in thread.text


def assert_nothing_in_clear(data_dir: Path, server_output: str) -> None:
    assert MARKER not in server_output
    for needle in (MARKER.encode(), REPLY_MARKER.encode(), ATTACHMENT[1000:1064], REPLY_ATTACHMENT[5000:5064],
                   b"March board meeting"):
        assert files_containing(data_dir, needle) == [], needle[:40]
    assert not database.blobs(data_dir, unfinished=True)


def assert_officer_decrypts_everything(installation) -> None:
    """The channel officer's private key opens the case key; fields and both attachments read back."""
    ctx = open_context(installation.data_dir)
    try:
        [(case_id,)] = ctx.db.execute("SELECT id FROM cases").fetchall()
        officer = installation.officer
        account, private_key = officer_key(ctx, officer)
        case_key = casefiles.open_case_key(ctx, case_id, f"account:{account.id}", private_key)
        fields = casefiles.read_fields(ctx, case_id, case_key)
        assert fields["details"] == DETAILS and fields["category"] == "public_funds"
        [attachment] = case_attachments.read_attachments(ctx, case_id, case_key)
        assert attachment.name == "evidence.pdf" and attachment.size == len(ATTACHMENT)
        _, chunks = case_attachments.attachment_stream(ctx, case_id, case_key, attachment.id)
        assert b"".join(chunks) == ATTACHMENT
        [message] = case_history.read_messages(ctx, case_id, case_key)
        assert message.author == "discloser" and message.body == REPLY_TEXT
        [reply_attachment] = message.attachments
        assert reply_attachment.name == "minutes.txt"
        _, chunks = case_attachments.attachment_stream(ctx, case_id, case_key, reply_attachment.id)
        assert b"".join(chunks) == REPLY_ATTACHMENT
    finally:
        ctx.db.conn.close()


# --- Python audit hook ------------------------------------------------------------------------------

def test_disclosure_and_reply_over_http_write_only_ciphertext_and_decrypt_for_the_officer(installation, tmp_path):
    data_dir = installation.data_dir
    log_path = tmp_path / "audit.log"
    assert not os.path.exists(UNUSABLE_TMPDIR)
    server = start_server(data_dir, env=SERVER_ENV, argv_prefix=[sys.executable, str(AUDITED_SERVE), str(log_path)])
    try:
        discloser_session(server.port)
    finally:
        output = server.stop()
    assert "Listening at" in output

    # Every file the server opened for writing: blobs, the database and its journal, nothing else.
    writes = [tuple(json.loads(line)) for line in log_path.read_text().splitlines()]
    unexpected = [(pid, event, path) for pid, event, path in writes
                  if not write_is_allowed(path, data_dir, created_dir=event == "os.mkdir")]
    assert unexpected == [], f"the server wrote outside its blobs and database: {unexpected}"
    # The hook was live in the workers that took the uploads: both attachments became blobs there
    # (os.replace raises the "os.rename" audit event). On PostgreSQL blobs and rows go to the
    # server, not to files: the officer reads the case and its file below.
    if not database.on_postgres():
        blob_renames = [w for w in writes if w[1] == "os.rename" and w[2].endswith(".blob")]
        assert len(blob_renames) >= 2, writes
        assert {pid for pid, *_ in blob_renames} - {server.process.pid}, "no blob was written by a worker"
        assert any(w[1] == "sqlite3.connect" for w in writes)

    assert_nothing_in_clear(data_dir, output)
    assert_officer_decrypts_everything(installation)


# --- strace: every process of the server, at the system-call level ------------------------------

def _stop_traced(server: ServerProcess) -> str:
    """Stop gunicorn's master itself (strace would pass a signal on only to its own child anyway)."""
    m = re.search(r"Listening at: \S+ \((\d+)\)", server.output())
    if m and server.process.poll() is None:
        os.kill(int(m.group(1)), signal.SIGTERM)
        try:
            server.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            pass
    return server.stop()


def test_at_the_system_call_level_only_blobs_and_the_database_are_written(installation, tmp_path):
    assert shutil.which("strace"), "strace is missing: scripts/install-system-packages installs it"
    data_dir = installation.data_dir
    trace_path = tmp_path / "strace.txt"
    # execve and the forks too: to tell bubblewrap's own set-up of its private tmpfs from the server.
    strace = ["strace", "-f", "-qq", "-e", "signal=none",
              "-e", "trace=" + ",".join(TRACED + ("execve", "clone", "clone3", "fork", "vfork")),
              "-s", "4096", "-o", str(trace_path)]
    server = start_server(data_dir, env=SERVER_ENV, argv_prefix=strace + [sys.executable, "-m", "portal"])
    try:
        discloser_session(server.port)
    finally:
        output = _stop_traced(server)
    assert "Listening at" in output
    # The start-up line that says how discloser files are checked here (SECURITY.md, "Hidden details").
    assert "File checks run in bubblewrap" in output or "File checks run in a plain child process" in output

    trace = trace_path.read_text(errors="replace")
    writes = strace_writes(trace)
    sandbox_pids = _bubblewrap_pids(trace)
    unexpected = [(pid, call, path) for pid, call, path in writes
                  if not write_is_allowed(path, data_dir, created_dir=call.startswith("mkdir"))
                  and not (pid in sandbox_pids and _bubblewrap_setup(path))]
    assert unexpected == [], f"the server wrote outside its blobs and database: {unexpected}"
    # The trace is live: SQLite's write-ahead log and both attachments' blobs were seen being written
    # (on PostgreSQL they go to the server: the officer reads the case and its file below).
    written = {Path(path).name for _, _, path in writes}
    if not database.on_postgres():
        assert "portal.db-wal" in written
        assert len([name for name in written if name.endswith(".blob")]) >= 2, writes

    assert_nothing_in_clear(data_dir, output)
    assert_officer_decrypts_everything(installation)


def _bubblewrap_pids(trace: str) -> set[str]:
    """The processes that are bubblewrap (the file checks' sandbox, portal/hidden_details/sandbox.py)
    and the ones it forks before it runs the checking child: a process that runs anything else is not
    one of them."""
    runs: dict[str, str] = {}
    forks: list[tuple[str, str]] = []
    for line in trace.splitlines():
        if m := re.match(r'^(\d+)\s+execve\("([^"]+)"', line):
            if not re.search(r"\) = -\d", line):
                runs[m.group(1)] = m.group(2)
        elif m := re.match(r"^(\d+)\s+(?:<\.\.\. )?(?:clone3?|v?fork)\b.*= (\d+)$", line):
            forks.append((m.group(1), m.group(2)))
    sandbox = {pid for pid, program in runs.items() if program.endswith("/bwrap")}
    for parent, child in forks:  # in the order they happened
        if parent in sandbox and child not in runs:
            sandbox.add(child)
    return sandbox


def _bubblewrap_setup(path: str) -> bool:
    """What bubblewrap writes to set up its sandbox: its user namespace's maps, and the mount points
    of the new root on the private tmpfs it mounts in its own mount namespace (nothing on disk)."""
    return (path in ("newroot", "oldroot", "uid_map", "gid_map", "setgroups")
            or path.startswith(("/newroot/", "/proc/self/")))


# --- Aborted uploads ----------------------------------------------------------------------------

def _cut_off_upload(port: int, chunked: bool) -> bytes:
    """Send the start of a disclosure with a large attachment, stop mid-file and close the sending
    side; return the server's answer (its status line and page)."""
    client = HttpClient("127.0.0.1", port)
    token = csrf_token(client.get("/disclose").text)
    body, content_type = multipart(disclosure_fields(token, DETAILS), [("attachments", "evidence.pdf", ATTACHMENT)])
    sent = body[: len(body) // 2]  # the text fields and half the attachment
    cookie = "; ".join(f"{k}={v}" for k, v in client.cookies.items())
    head = (f"POST /disclose HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: {content_type}\r\n"
            f"Cookie: {cookie}\r\nConnection: close\r\n")
    if chunked:  # one chunk that announces the whole body and stops half way
        head += "Transfer-Encoding: chunked\r\n\r\n"
        payload = f"{len(body):x}\r\n".encode() + sent
    else:
        head += f"Content-Length: {len(body)}\r\n\r\n"
        payload = sent
    return raw_request("127.0.0.1", port, head.encode() + payload, timeout=30)


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_an_upload_cut_off_midway_is_refused_and_leaves_no_blob_and_no_traceback(installation, chunked):
    server = start_server(installation.data_dir, env=SERVER_ENV)
    try:
        answer = _cut_off_upload(server.port, chunked)
        # Refused as incomplete (400), not stored as if whole, and not a server error.
        assert answer.startswith(b"HTTP/1.1 400 "), answer[:200]
        assert database.blobs(installation.data_dir) == []
        assert HttpClient("127.0.0.1", server.port).get("/").status == 200
    finally:
        output = server.stop()
    assert "Traceback" not in output, output
    assert files_containing(installation.data_dir, b"March board meeting") == []
    ctx = open_context(installation.data_dir)
    try:
        assert ctx.db.execute("SELECT COUNT(*) FROM cases").fetchone()[0] == 0
    finally:
        ctx.db.conn.close()
