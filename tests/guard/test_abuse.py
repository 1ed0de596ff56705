"""The portal stays open under abuse (issue 10), driven over HTTP through the Flask test client.

Each test replays one attack from the issue and checks that the genuine discloser or officer still
gets in, or that the request is refused clearly without growing memory or holding files open.
"""
from __future__ import annotations

import io
import os
import re
import threading
import tracemalloc

import pytest

import crypto
from portal.hidden_details import sandbox
from portal.guard import sign_in_budget, upload_slots, work_queues, work_slots
from portal.web.app import create_app
from portal.web.casework.sign_in import SIGN_IN_FAILED
from portal.core.config import load_settings
from portal.core.context import open_context
from tests.conftest import MARKER
import tests.support.hidden_files as made
from tests.support import csrf_token, database, disclosure_fields, multipart, post_multipart, receipt_from


@pytest.fixture(autouse=True)
def _one_sign_in_window(monkeypatch):
    """The sign-in budgets count in 15-minute windows aligned to the clock: a test that waits for fresh TOTP
    steps could cross a boundary and find its budget spent no more. One long window keeps them deterministic."""
    monkeypatch.setattr(sign_in_budget, "WINDOW_SECONDS", 10 ** 9)


def app_with(installation, **overrides):
    app = create_app(settings=load_settings(installation.data_dir, **overrides))
    app.config["TESTING"] = True
    return app


def disclose(client, details="What I saw. " + MARKER, files=()):
    token = csrf_token(client.get("/disclose").text)
    return post_multipart(client, "/disclose", disclosure_fields(token, details), files)


def open_status(client, receipt):
    return client.post("/status", data={"csrf_token": csrf_token(client.get("/status").text), "receipt": receipt})


def sign_in(client, email, passphrase, totp):
    token = csrf_token(client.get("/console/login").text)
    return client.post("/console/login", data={"csrf_token": token, "email": email, "passphrase": passphrase,
                                               "totp": totp})


# --- budgets count only what could have succeeded; no anonymous budget shuts the door -----------------

def test_an_empty_post_flood_leaves_a_genuine_disclosure_accepted(client):
    for _ in range(100):  # no cookie, no token, no body: the flood, 60 was enough before
        assert client.post("/disclose").status_code == 400
    for _ in range(20):  # and forms that fail CSRF
        assert post_multipart(client, "/disclose", disclosure_fields("forged", "x")).status_code == 400
    response = disclose(client)
    assert response.status_code == 200 and 'id="receipt"' in response.text


def test_many_valid_disclosures_never_shut_the_door_to_the_next(client):
    for _ in range(65):  # more than the old hourly budget of 60
        assert disclose(client, "spam").status_code == 200
    assert disclose(client).status_code == 200


def test_the_daily_byte_budget_slows_files_and_very_long_text_but_never_a_written_disclosure(installation):
    client = app_with(installation, upload_bytes_per_day=1000).test_client()
    response = disclose(client, files=[("attachments", "big.bin", os.urandom(2000))])
    assert response.status_code == 429 and 0 < int(response.headers["Retry-After"]) <= 86400
    assert "without the files" in response.text and MARKER in response.text  # what was typed comes back
    assert not database.blobs(installation.data_dir)
    assert disclose(client).status_code == 200  # a written disclosure is always accepted
    # Text beyond 16 KiB is stored bytes like a file's: it draws on the same budget, and comes back whole.
    long = MARKER + " " + "a long account of what happened. " * 1000
    refused = disclose(client, details=long, files=[])
    assert refused.status_code == 429 and "a long account of what happened." in refused.text
    assert disclose(client, details="x" * 15000, files=[]).status_code == 200


def test_a_cleaned_file_costs_its_cleaned_copy_and_its_original(installation):
    """The original of a cleaned file is stored too (kept for the discloser alone): a budget with room for the
    cleaned copy only answers as any spent budget does, the text given back and nothing stored."""
    photo = made.jpeg_with_gps()
    cleaned = sandbox.check(photo).cleaned
    assert cleaned and len(cleaned) < len(photo)
    both = crypto.padded_length(len(cleaned)) + crypto.padded_length(len(photo))

    def send(budget):
        client = app_with(installation, upload_bytes_per_day=budget).test_client()
        token = csrf_token(client.get("/disclose").text)
        fields = disclosure_fields(token, "What I saw. " + MARKER) + [("strip_metadata", "y")]
        return post_multipart(client, "/disclose", fields, [("attachments", "site.jpg", photo)])

    refused = send(both - 1)  # room for the cleaned copy, not for its original as well
    assert refused.status_code == 429 and "without the files" in refused.text and MARKER in refused.text
    assert not database.blobs(installation.data_dir)
    accepted = send(both)  # the refusal charged nothing: exactly both fit
    assert accepted.status_code == 200 and "location (GPS position)" in accepted.text


def test_random_receipts_leave_the_real_discloser_able_to_get_in(client):
    receipt = receipt_from(disclose(client).text)
    guesser = client.application.test_client()
    for _ in range(60):  # 30 a minute locked every discloser out before
        assert open_status(guesser, crypto.new_receipt()).status_code == 400
    assert open_status(client, receipt).status_code == 303
    assert 'id="case-status"' in client.get("/status").text


def test_a_receipt_typo_costs_no_key_derivation(client, no_argon2):
    response = open_status(client, "AAAA-AAAA-AAAA-AAAA-AA")
    assert response.status_code == 400 and "typing mistake" in response.text


# --- sign-in budgets: per account, per installation for unknown emails, a share for known devices -------

def test_junk_sign_ins_leave_the_real_officer_able_to_get_in(client, installation):
    officer = installation.officer
    browser = client.application.test_client()
    assert sign_in(browser, officer.email, officer.passphrase, officer.code()).status_code == 303
    browser.post("/console/logout", data={"csrf_token": csrf_token(browser.get("/console/").text)})

    junk = client.application.test_client()
    answers = [sign_in(junk, officer.email, "wrong passphrase!", "000000").status_code for _ in range(40)]
    answers += [sign_in(junk, f"nobody{i}@agency.govt.nz", "wrong passphrase!", "000000").status_code
                for i in range(40)]
    assert 429 in answers  # the junk itself is slowed down

    response = sign_in(browser, officer.email, officer.passphrase, officer.code())
    assert response.status_code == 303, response.text
    assert "Disclosures you can read" in browser.get("/console/").text


def test_an_address_is_paused_then_locked_with_the_same_words_known_or_not(client, installation):
    officer = installation.officer
    for email in (officer.email, "nobody@agency.govt.nz"):
        answers = [sign_in(client, email, "wrong passphrase!", "000000")
                   for _ in range(sign_in_budget.FREE_FAILURES)]
        assert [a.status_code for a in answers] == [400] * sign_in_budget.FREE_FAILURES
        paused = sign_in(client, email, "wrong passphrase!", "000000")
        # The first pause: 15 s, rounded up to the minute as stored. Its words are any failure's.
        assert paused.status_code == 429 and 0 < int(paused.headers["Retry-After"]) <= 75
        assert SIGN_IN_FAILED in paused.text and SIGN_IN_FAILED in answers[0].text
    # Enough failures lock the address for a while, the same for a known address...
    ctx = open_context(installation.data_dir)
    ctx.db.execute("UPDATE sign_in_budgets SET failures = ?, paused_until = 0 WHERE bucket LIKE 'email:%'",
                   [sign_in_budget.LOCK_FAILURES - 1])
    for email in (officer.email, "nobody@agency.govt.nz"):
        assert sign_in(client, email, "wrong passphrase!", "000000").status_code == 400
        locked = sign_in(client, email, "wrong passphrase!", officer.code())
        assert locked.status_code == 429 and SIGN_IN_FAILED in locked.text
        assert 840 <= int(locked.headers["Retry-After"]) <= 960
    # ...but the lock turns away only what fails: the officer's right details still open the console.
    assert sign_in(client, officer.email, officer.passphrase, officer.code()).status_code == 303
    # The pause and the lock of the officer's own address are in the audit log, once each; unknown
    # addresses name no account, so they have no entry.
    pauses = ctx.db.execute("SELECT detail FROM audit_log WHERE event = 'sign_in_paused' AND subject = "
                            "(SELECT id FROM accounts WHERE email = ?) ORDER BY seq", [officer.email]).fetchall()
    assert pauses == [('{"locked":false}',), ('{"locked":true}',)]
    assert ctx.db.execute("SELECT COUNT(*) FROM audit_log WHERE event = 'sign_in_paused'").fetchone()[0] == 2


def test_the_installation_budget_for_unknown_emails_spares_known_devices(client, installation, monkeypatch):
    monkeypatch.setattr(sign_in_budget, "UNKNOWN_EMAIL_FAILURES", 5)
    officer = installation.officer
    device = client.application.test_client()
    assert sign_in(device, officer.email, officer.passphrase, officer.code()).status_code == 303
    device_cookie = device.get_cookie("__Host-pd_device")
    assert device_cookie is not None and device_cookie.http_only and len(device_cookie.value) >= 40
    assert device_cookie.expires is not None  # long-lived, unlike the session cookies

    junk = client.application.test_client()
    for i in range(5):
        assert sign_in(junk, f"nobody{i}@agency.govt.nz", "wrong passphrase!", "000000").status_code == 400
    # Spent: a failure from a browser that never signed in answers 429, whatever the address (no hint
    # whether it exists)...
    fresh = client.application.test_client()
    assert sign_in(fresh, "someone-else@agency.govt.nz", "wrong passphrase!", "000000").status_code == 429
    assert sign_in(fresh, officer.email, "wrong passphrase!", "000000").status_code == 429
    # ...but the officer's own browser keeps its share...
    assert sign_in(device, officer.email, officer.passphrase, officer.code()).status_code == 303
    # ...and an officer in a new browser (a new laptop, a private window, Tor Browser) with a valid code
    # from their app is not shut out by what junk spent: only the second factor's holder can do that.
    assert sign_in(fresh, officer.email, officer.passphrase, officer.code()).status_code == 303
    # A wrong code, or the right one again (used up), does not get past the pause.
    other = client.application.test_client()
    assert sign_in(other, officer.email, officer.passphrase, "123456").status_code == 429


def test_junk_sign_ins_cost_no_argon2id_run_known_address_or_not(installation, monkeypatch):
    import nacl.pwhash.argon2id
    app = app_with(installation)
    calls = []
    real = nacl.pwhash.argon2id.kdf
    monkeypatch.setattr(nacl.pwhash.argon2id, "kdf", lambda *a, **k: calls.append(1) or real(*a, **k))
    client = app.test_client()
    officer = installation.officer
    assert sign_in(client, "nobody@agency.govt.nz", "wrong passphrase!", "000000").status_code == 400
    assert sign_in(client, officer.email, "wrong passphrase!", "000000").status_code == 400
    assert calls == []  # the code is checked first: no key is derived for a wrong one
    # A valid code with a wrong passphrase costs one derivation, and the same words.
    answer = sign_in(client, officer.email, "wrong passphrase!", officer.code())
    assert answer.status_code == 400 and SIGN_IN_FAILED in answer.text and len(calls) == 1


def test_when_every_key_derivation_slot_stays_taken_the_answer_is_503_with_retry_after(installation):
    client = app_with(installation, kdf_concurrency=1, kdf_wait_seconds=0).test_client()
    receipt = receipt_from(disclose(client).text)
    slots = work_queues.queue(load_settings(installation.data_dir, kdf_concurrency=1), work_queues.RECEIPT)
    assert slots.acquire(1)
    try:
        response = open_status(client, receipt)
        assert response.status_code == 503 and int(response.headers["Retry-After"]) > 0
    finally:
        slots.release()
    assert open_status(client, receipt).status_code == 303


def test_key_derivation_slots_are_handed_over_first_come_first_served():
    slots = work_slots.FairSlots(1)
    assert slots.acquire(0)
    order = []

    def wait(name):
        assert slots.acquire(5)
        order.append(name)
        slots.release()

    threads = []
    for name in ("first", "second", "third"):
        threads.append(threading.Thread(target=wait, args=(name,)))
        threads[-1].start()
        while len(slots._waiters) < len(threads):
            pass
    slots.release()
    for thread in threads:
        thread.join()
    assert order == ["first", "second", "third"]


# --- every request is bounded ----------------------------------------------------------------------------

class RepeatedParts(io.RawIOBase):
    """A multipart body of `count` parts of one text field, `size` bytes each, made as it is read."""

    def __init__(self, boundary: str, head: bytes, name: str, count: int, size: int) -> None:
        self._part = f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode() + \
            b"x" * size + b"\r\n"
        self._pending = head
        self._left = count
        self._end = f"--{boundary}--\r\n".encode()
        self.length = len(head) + count * len(self._part) + len(self._end)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while not self._pending:
            if self._left:
                self._pending, self._left = self._part, self._left - 1
            elif self._end:
                self._pending, self._end = self._end, b""
            else:
                return 0
        n = min(len(buffer), len(self._pending))
        buffer[:n], self._pending = self._pending[:n], self._pending[n:]
        return n


def test_a_reply_of_repeated_message_parts_is_refused_without_growing_memory(client):
    receipt = receipt_from(disclose(client).text)
    assert open_status(client, receipt).status_code == 303
    token = csrf_token(client.get("/status").text)
    head, content_type = multipart([("csrf_token", token)])
    boundary = content_type.split("boundary=")[1]
    head = head[: head.rindex(b"--" + boundary.encode() + b"--")]
    body = RepeatedParts(boundary, head, "message", 1500, 100_000)  # 150 MB of 100 kB parts
    tracemalloc.start()
    try:
        response = client.post("/status/reply", content_type=content_type, environ_overrides={
            "wsgi.input": body, "CONTENT_LENGTH": str(body.length)})
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert response.status_code in (400, 413)
    assert peak < 32 * 1024 * 1024, f"peak {peak / 2**20:.0f} MiB"


def test_a_disclosure_with_a_repeated_text_field_is_refused(client):
    token = csrf_token(client.get("/disclose").text)
    fields = disclosure_fields(token, "first") + [("details", "second")]
    response = post_multipart(client, "/disclose", fields)
    assert response.status_code == 400


def test_too_many_files_get_a_clear_413_and_leave_no_blob(installation):
    client = app_with(installation, max_files=5).test_client()
    response = disclose(client, files=[("attachments", f"{i}.txt", b"x") for i in range(6)])
    assert response.status_code == 413 and "number of files (more than 5) is too large" in response.text
    assert MARKER in response.text  # what was typed is kept
    assert not database.blobs(installation.data_dir)


@pytest.mark.sqlite_only(reason="counts the open files of the blobs folder; on PostgreSQL a blob is"
                                " rows written on the writer's connection")
def test_each_blob_is_closed_when_its_part_ends(installation, monkeypatch):
    from portal.intake import pending_files, receiving
    client = app_with(installation, max_files=300).test_client()
    blob_dir = str(installation.data_dir / "blobs")
    most_open = []
    real_init = pending_files.PendingFile.__init__

    def counting_init(self, *args, **kwargs):
        real_init(self, *args, **kwargs)
        fds = [os.readlink(f"/proc/self/fd/{fd}") for fd in os.listdir("/proc/self/fd")
               if os.path.exists(f"/proc/self/fd/{fd}")]
        most_open.append(sum(path.startswith(blob_dir) for path in fds))

    monkeypatch.setattr(pending_files.PendingFile, "__init__", counting_init)
    response = disclose(client, files=[("attachments", f"{i}.txt", b"x") for i in range(200)])
    assert response.status_code == 200
    assert max(most_open) == 1  # only the file being written; 200 were open at once before


def test_a_body_declared_larger_than_any_submission_is_refused_before_reading(installation):
    client = app_with(installation, max_submission_bytes=1024 * 1024).test_client()
    never_read = RepeatedParts("x", b"", "details", 10 ** 6, 1000)  # a gigabyte, if anyone read it
    response = client.post("/disclose", content_type="multipart/form-data; boundary=x", environ_overrides={
        "wsgi.input": never_read, "CONTENT_LENGTH": str(6 * 1024 * 1024)})
    assert response.status_code == 413 and never_read._left == 10 ** 6


# --- replies: per status session and per case, and a per-case quota officers can see ---------------------

def reply(client, text):
    token = csrf_token(client.get("/status").text)
    return post_multipart(client, "/status/reply", [("csrf_token", token), ("message", text)])


def test_replies_are_throttled_per_session_and_per_case_and_the_quota_is_shown_to_officers(installation):
    app = app_with(installation, replies_per_session=2, replies_per_case=3, case_quota_messages=4)
    first = app.test_client()
    receipt = receipt_from(disclose(first).text)
    assert open_status(first, receipt).status_code == 303
    assert [reply(first, f"message {i}").status_code for i in range(2)] == [303, 303]
    refused = reply(first, "one too many for this session")
    assert refused.status_code == 429 and 0 < int(refused.headers["Retry-After"]) <= 86400
    assert "one too many for this session" in refused.text  # still in its box

    second = app.test_client()  # a new status session of the same case
    assert open_status(second, receipt).status_code == 303
    assert reply(second, "third for the case").status_code == 303
    assert reply(second, "fourth for the case").status_code == 429

    officer = app.test_client()
    person = installation.officer
    assert sign_in(officer, person.email, person.passphrase, person.code()).status_code == 303
    [case_url] = re.findall(r'href="(/console/cases/[^"/]+)"', officer.get("/console/").text)
    page = officer.get(case_url).text
    assert 'id="discloser-quota"' in page and "3 of 4 messages" in page


def test_the_cases_byte_quota_counts_the_originals_kept_of_cleaned_files(installation):
    """Issue 26: a cleaned file's original is stored beside its cleaned copy, so the case's lifetime quota counts
    both; a quota with room for the cleaned copy only refuses the reply, its text kept, nothing stored."""
    photo = made.jpeg_with_gps()
    cleaned = sandbox.check(photo).cleaned
    text = "The photo of the site."
    both = (crypto.padded_length(len(text.encode())) + crypto.padded_length(len(cleaned))
            + crypto.padded_length(len(photo)))

    def send(quota):
        client = app_with(installation, case_quota_bytes=quota).test_client()
        receipt = receipt_from(disclose(client).text)
        assert open_status(client, receipt).status_code == 303
        token = csrf_token(client.get("/status").text)
        fields = [("csrf_token", token), ("message", text), ("strip_metadata", "y")]
        return post_multipart(client, "/status/reply", fields, [("attachments", "site.jpg", photo)])

    def stored():
        ctx = open_context(installation.data_dir)
        return (ctx.db.execute("SELECT COUNT(*) FROM messages WHERE author = 'discloser'").fetchone()[0],
                ctx.db.execute("SELECT COALESCE(SUM(bytes), 0) FROM case_quota").fetchone()[0])

    refused = send(both - 1)  # room for the text and the cleaned copy, not for its original as well
    assert refused.status_code == 413 and text in refused.text
    assert stored() == (0, 0) and not database.blobs(installation.data_dir)
    accepted = send(both)
    assert accepted.status_code == 303
    assert stored() == (1, both)


# --- only the day on disk --------------------------------------------------------------------------------

def test_expired_session_rows_are_purged_on_every_resume_and_at_start(client, installation):
    receipt = receipt_from(disclose(client).text)
    assert open_status(client, receipt).status_code == 303
    ctx = open_context(installation.data_dir)
    ctx.db.execute("UPDATE sessions SET expires_at = expires_at - 3600")
    other = client.application.test_client()
    other.get("/status", headers={"Cookie": "__Host-pd_status=nothing.here"})  # anyone's resume purges
    assert ctx.db.execute("SELECT COUNT(*) FROM sessions").fetchone()[0] == 0

    assert open_status(other, receipt).status_code == 303
    ctx.db.execute("UPDATE sessions SET expires_at = expires_at - 3600")
    app_with(installation)  # a restart
    assert ctx.db.execute("SELECT COUNT(*) FROM sessions").fetchone()[0] == 0
    # A counter from days back (an ended session's replies) goes with them: it says only that it was used.
    import time
    ctx.db.execute("INSERT INTO throttle VALUES ('reply-session:old', ?, 3)", [int(time.time()) - 3 * 86400])
    other.get("/status", headers={"Cookie": "__Host-pd_status=nothing.here"})
    assert ctx.db.execute("SELECT COUNT(*) FROM throttle WHERE bucket = 'reply-session:old'").fetchone()[0] == 0


def times_finer_than_a_day(data_dir) -> set:
    """Every value in the database that looks like a time (epoch seconds within three days of now, or
    an ISO date with a time) and is not a whole day: a midnight in the installation's zone, whose dates
    the portal keeps (a UTC midnight would tell the hour of the local day)."""
    import time

    from portal.core.clock import utc_offset_seconds
    now, offset = time.time(), utc_offset_seconds("Pacific/Auckland")
    db = database.connect(data_dir)
    finer = set()
    for table, row in database.every_row(db):
        for value in row:
            if isinstance(value, (int, float)) and abs(value - now) < 3 * 86400 and (value + offset) % 86400:
                finer.add((table, value))
            if isinstance(value, str) and len(value) > 10 and value[:4].isdigit() and value[10:11] in "T ":
                finer.add((table, value))
    db.close()
    return finer


def test_no_time_finer_than_the_day_in_the_data_directory_after_a_disclosure_and_a_status_check(
        client, installation):
    # Setting up the officers is audited to the second (officers' actions); the discloser adds nothing finer.
    before = times_finer_than_a_day(installation.data_dir)
    receipt = receipt_from(disclose(client, files=[("attachments", "a.pdf", os.urandom(5000))]).text)
    assert open_status(client, receipt).status_code == 303
    assert reply(client, "more").status_code == 303
    client.post("/status/logout")

    assert times_finer_than_a_day(installation.data_dir) - before == set()
    if database.on_postgres():
        return  # its blobs are rows keeping the day only (migration 48): no file times
    # File times: a blob's modification and access times, and its folder's, are the day's start. Its
    # change and birth times cannot be set: the documented exception (SECURITY.md).
    ctx = open_context(installation.data_dir)
    from portal.core.clock import day_start_timestamp, today
    midnight = day_start_timestamp(today(ctx.settings.timezone), ctx.settings.timezone)
    blobs = list((installation.data_dir / "blobs").iterdir())  # (listing the folder touches its access time)
    assert len(blobs) == 1 and (installation.data_dir / "blobs").stat().st_mtime == midnight
    for path in blobs:
        assert path.stat().st_mtime == midnight and path.stat().st_atime == midnight, path


def test_uploads_beyond_the_cap_get_503_before_their_body_is_read_but_small_forms_do_not(installation):
    client = app_with(installation, max_concurrent_uploads=1).test_client()
    slots = upload_slots.UploadSlots(1, 8 * 1024, 10)
    upload_slots._slots[(1, 8 * 1024, 10)] = slots
    holder = slots.acquire()  # one upload is streaming, within its grace: it is not pre-empted
    assert holder is not None
    try:
        big = disclose(client, files=[("attachments", "big.bin", os.urandom(100 * 1024))])
        assert big.status_code == 503 and int(big.headers["Retry-After"]) > 0
        assert big.headers["Connection"] == "close"
        assert disclose(client).status_code == 200  # a text-only form is not an upload
    finally:
        slots.release(holder)
    assert disclose(client, files=[("attachments", "big.bin", os.urandom(100 * 1024))]).status_code == 200


def test_an_upload_below_the_useful_rate_yields_its_slot_to_one_that_finds_every_slot_taken(installation):
    client = app_with(installation, max_concurrent_uploads=1).test_client()
    slots = upload_slots.UploadSlots(1, 8 * 1024, 10)
    upload_slots._slots[(1, 8 * 1024, 10)] = slots
    slow = slots.acquire()
    slow.started -= 11  # held for 11 s, past its grace, with nothing received: below the useful rate
    big = disclose(client, files=[("attachments", "big.bin", os.urandom(100 * 1024))])
    assert big.status_code == 200 and 'id="receipt"' in big.text
    assert slow.preempted and slots.preemptions == 1
    with pytest.raises(upload_slots.Preempted):
        slow.note(1)


def test_a_reply_past_its_budget_is_refused_before_its_files_are_checked(installation, monkeypatch):
    # Attack review (issue 22): the file checks (up to 40 s of sandbox CPU each) ran before the
    # reply budgets, so replies past the day's limit still bought them, without a proof of work.
    from portal.hidden_details import sandbox
    import tests.support.hidden_files as made
    app = app_with(installation, replies_per_session=1, replies_per_case=5)
    client = app.test_client()
    assert open_status(client, receipt_from(disclose(client).text)).status_code == 303
    assert reply(client, "the one for today").status_code == 303
    checks = []
    real_check = sandbox.check
    monkeypatch.setattr(sandbox, "check", lambda data, *a, **k: checks.append(1) or real_check(data, *a, **k))
    token = csrf_token(client.get("/status").text)
    refused = post_multipart(client, "/status/reply",
                             [("csrf_token", token), ("message", "one too many"), ("strip_metadata", "y")],
                             [("attachments", "site.jpg", made.jpeg_with_gps())])
    assert refused.status_code == 429 and "one too many" in refused.text
    assert checks == []


@pytest.mark.sqlite_only(reason="the blobs folder's times; PostgreSQL keeps no blob files")
def test_a_refused_upload_leaves_the_blob_folder_times_as_they_were(client, installation):
    # Attack review (issue 26): a refused form with a file created and removed its .part, which
    # stamped the blob folder with the second of the attempt; only a commit blurred it again.
    folder = installation.data_dir / "blobs"
    os.utime(folder, (86400, 86400))
    token = csrf_token(client.get("/disclose").text)
    fields = [(name, value) for name, value in disclosure_fields(token, "What I saw.") if name != "category"]
    refused = post_multipart(client, "/disclose", fields, [("attachments", "r.bin", os.urandom(100_000))])
    assert refused.status_code == 400
    assert not list(folder.glob("*.part")) and folder.stat().st_mtime == 86400
