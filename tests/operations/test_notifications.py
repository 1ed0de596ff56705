"""The daily reminder (issues 16 and 26), caught by a real SMTP server on loopback (aiosmtpd): one a day per
officer who wants it, at the operator's time, whether or not anything waits, the same words every day padded
to one size, headers with no time finer than the digest's slot, and nothing in it that names a case, category,
channel or any of the discloser's words."""
from __future__ import annotations

import datetime as dt
import email
import email.policy
import os
import re
import time
from zoneinfo import ZoneInfo

import pytest
from aiosmtpd.controller import Controller
from click.testing import CliRunner

from portal.operations import notifications
from portal.cli import main as portal_cli
from portal.core.context import open_context
from tests.conftest import MARKER, run_cli
from tests.support import HttpClient, csrf_token, disclosure_fields, form_for, free_port, start_server
from tests.support.workflow import disclose_to


class Inbox:
    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.bodies: list[bytes] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        self.bodies.append(envelope.content.split(b"\r\n\r\n", 1)[1])  # as sent
        return "250 OK"


@pytest.fixture
def smtp_server():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, inbox
    controller.stop()


ZONE = ZoneInfo("Pacific/Auckland")  # the installation's zone (the default)


def local(day: int, hour: int, minute: int, second: int = 0) -> dt.datetime:
    """A moment of March 2026 in the installation's zone, as UTC."""
    return dt.datetime(2026, 3, day, hour, minute, second, tzinfo=ZONE).astimezone(dt.timezone.utc)


@pytest.fixture
def at(monkeypatch):
    """Sets the time `portal notify` runs at: by default 4 s after the default digest time, 07:30."""
    moments = {"now": local(2, 7, 30, 4)}
    monkeypatch.setattr(notifications, "now_utc", lambda: moments["now"])
    return moments


def configure(data_dir, port: int) -> None:
    for name, value in (("smtp_host", "127.0.0.1"), ("smtp_port", str(port)), ("smtp_starttls", "no"),
                        ("smtp_from", "portal@agency.govt.nz"), ("public_url", "https://disclose.agency.govt.nz")):
        run_cli(data_dir, "setting", "set", name, value)


HEADERS = {"From", "To", "Subject", "Date", "Message-ID", "MIME-Version", "Content-Type",
           "Content-Transfer-Encoding"}


def _sent(data_dir, at, moment) -> str:
    at["now"] = moment
    return run_cli(data_dir, "notify").output


def test_one_reminder_a_day_at_the_set_time_to_every_officer_who_wants_one_the_same_every_day(
        app, installation, smtp_server, at):
    """Issue 26: at most one digest a day, at the operator's time, to every officer who wants one whether or not
    anything happened, the same words every day padded to one size, and headers with no time finer than the
    digest's slot."""
    from tests.conftest import add_account
    from tests.support.console import sign_in
    controller, inbox = smtp_server
    data_dir = installation.data_dir
    not_configured = CliRunner().invoke(portal_cli, ["--data", str(data_dir), "notify"])
    assert not_configured.exit_code != 0 and "No SMTP server is set" in not_configured.output
    configure(data_dir, controller.port)
    run_cli(data_dir, "setting", "set", "digest_time", "08:15")
    bad = CliRunner().invoke(portal_cli, ["--data", str(data_dir), "setting", "set", "digest_time", "8 am"])
    assert bad.exit_code != 0 and "HH:MM" in bad.output
    # A third officer turns the reminder off on their account page.
    cat = add_account(data_dir, "officer", "cat@agency.govt.nz", "Cat Third", ["Audit and Risk"])
    from portal.web.app import create_app
    client = create_app(data_dir).test_client()  # started after the setting, as a restart would
    assert sign_in(client, cat).status_code == 303
    page = client.get("/console/account").text
    assert "Send me the daily reminder by email" in page and "08:15" in page
    fields = {k: v for k, v in form_for(page, "/console/account/daily-reminder")["fields"] if k != "wanted"}
    assert client.post("/console/account/daily-reminder", data=fields).status_code == 303
    assert "You will not get the daily reminder." in client.get("/console/account?done=reminder-off").text
    wanting = {installation.officer.email, installation.other_officer.email}

    # Only at the set time: not before it, not hours after it, once in the day however often it runs.
    assert "0 digest(s) sent" in _sent(data_dir, at, local(2, 8, 14, 59))
    assert "2 digest(s) sent" in _sent(data_dir, at, local(2, 8, 15, 3))   # nothing has happened: still sent
    first = {m["To"]: m for m in inbox.messages}
    assert set(first) == wanting and len(inbox.messages) == 2
    disclose_to(app.test_client(), details=f"Invoices paid twice. {MARKER}", contact="ring 021 555 0199",
                category="public_funds")
    assert "0 digest(s) sent" in _sent(data_dir, at, local(2, 8, 16))
    assert "0 digest(s) sent" in _sent(data_dir, at, local(2, 14, 0))
    assert "0 digest(s) sent" in _sent(data_dir, at, local(3, 8, 14))
    assert "2 digest(s) sent" in _sent(data_dir, at, local(3, 8, 40, 17))  # a late run sends it, dated 08:15
    second = {m["To"]: m for m in inbox.messages[2:]}
    assert set(second) == wanting
    ref = open_context(data_dir).db.execute("SELECT ref FROM cases").fetchone()[0]
    for day, mails, slot in ((2, first, local(2, 8, 15)), (3, second, local(3, 8, 15))):
        for mail in mails.values():
            # The slot, to the minute the operator chose: not when it was sent.
            assert mail["Date"].datetime == slot and ":00 " in mail["Date"]
            assert set(mail.keys()) <= HEADERS, mail.keys()
            message_id = mail["Message-ID"]
            assert re.fullmatch(r"<[0-9a-f]{32}@agency\.govt\.nz>", message_id), message_id
            assert str(os.getpid()) not in message_id and str(int(slot.timestamp()))[:6] not in message_id
            text = mail.as_string()
            for secret in (ref, "public_funds", "public funds", "Audit and Risk", "Internal audit", MARKER,
                           "Invoices", "021 555 0199"):
                assert secret.lower() not in text.lower(), secret
    # The same words every day, and one size, though a disclosure now waits for Ana and not for Ben.
    ana, ben = installation.officer.email, installation.other_officer.email
    bodies = {mail.get_content() for mail in (*first.values(), *second.values())}
    assert len(bodies) == 1
    [body] = bodies
    assert "Your daily reminder: sign in to see what needs you." in body
    assert "https://disclose.agency.govt.nz/console/" in body
    assert {len(sent) for sent in inbox.bodies} == {notifications.BODY_SIZE}
    assert first[ana]["Subject"] == second[ben]["Subject"]
    assert first[ana]["Message-ID"] != second[ana]["Message-ID"]

    # Counts only when the operator turns them on: still one size.
    run_cli(data_dir, "setting", "set", "digest_counts", "yes")
    assert "2 digest(s) sent" in _sent(data_dir, at, local(4, 8, 15, 1))
    third = {m["To"]: m.get_content() for m in inbox.messages[4:]}
    assert "new disclosures, or cases newly shared with you: 1" in third[ana]
    assert "new disclosures, or cases newly shared with you: 0" in third[ben]
    assert {len(sent) for sent in inbox.bodies[4:]} == {notifications.BODY_SIZE}
    assert len(inbox.messages) == 6


def test_an_unreachable_mail_server_fails_the_command_clearly_and_marks_nothing(app, installation, at):
    data_dir = installation.data_dir
    configure(data_dir, free_port())  # nobody listens there
    disclose_to(app.test_client())
    failed = CliRunner().invoke(portal_cli, ["--data", str(data_dir), "notify"])
    assert failed.exit_code != 0 and "could not be reached" in failed.output
    assert open_context(data_dir).db.execute("SELECT COUNT(*) FROM notification_digests").fetchone()[0] == 0
    # The portal's own pages never wait for mail: a disclosure still goes through at once.
    disclose_to(app.test_client(), details="Still accepted.")


def _notifiers(data_dir) -> list[int]:
    """Pids of `portal notify --keep-running` processes for this data directory."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                argv = open(f"/proc/{entry}/cmdline", "rb").read().split(b"\0")
            except OSError:
                continue
            if b"--keep-running" in argv and str(data_dir).encode() in argv:
                found.append(int(entry))
    return found


def _wait_for(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return condition()


@pytest.mark.parametrize("ending", ["terminate", "kill"])
def test_portal_serve_sends_the_digests_itself_and_its_notifier_ends_with_it(installation, smtp_server, ending):
    """No cron needed: with an SMTP server set, `portal serve` keeps `portal notify --keep-running` beside it
    (the test configuration shortens the day to 3 s), which sends each officer one reminder per slot whether or
    not anything happened, and the notifier ends when the server does, even when the server is killed."""
    controller, inbox = smtp_server
    data_dir = installation.data_dir
    configure(data_dir, controller.port)
    server = start_server(data_dir, env={"PORTAL_NOTIFY_PERIOD_SECONDS": "3"})
    officers = {installation.officer.email, installation.other_officer.email}
    try:
        assert _wait_for(lambda: len(_notifiers(data_dir)) == 1, 10), server.output()
        client = HttpClient("127.0.0.1", server.port)
        token = csrf_token(client.get("/disclose").text)
        page = client.post_multipart("/disclose", disclosure_fields(token, f"Invoices paid twice. {MARKER}"))
        assert page.status == 200 and 'id="receipt"' in page.text
        assert _wait_for(lambda: len(inbox.messages) >= 4, 30), server.output()
        slots = [m["Date"].datetime for m in inbox.messages[:4]]
        assert {m["To"] for m in inbox.messages[:4]} == officers and len(set(slots)) == 2
        assert all(MARKER not in m.as_string() for m in inbox.messages)
        assert "portal notify: 2 digest(s) sent." in server.output()
    finally:
        if ending == "kill":
            server.process.kill()
            server.process.wait()
        server.stop()
    assert _wait_for(lambda: _notifiers(data_dir) == [], 10), "the notifier outlived the server"


def test_two_senders_in_the_same_slot_send_one_digest_each(app, installation, smtp_server, at):
    """A cron job left in place beside `portal serve`'s own sender: whichever claims the digest first sends
    it; the other, holding the same list of due digests, sends nothing."""
    controller, inbox = smtp_server
    data_dir = installation.data_dir
    configure(data_dir, controller.port)
    disclose_to(app.test_client())
    first, second = open_context(data_dir), open_context(data_dir)
    stale = notifications.due_digests(second, at["now"])
    assert [d.email for d in stale] == [installation.officer.email, installation.other_officer.email]
    assert notifications.send_due(first) == (2, 0)
    assert notifications.send_digests(second, stale, at["now"]) == (0, 0)
    assert len(inbox.messages) == 2


def test_a_refused_digest_is_given_back_for_the_next_run(app, installation, smtp_server, at, monkeypatch):
    controller, inbox = smtp_server
    data_dir = installation.data_dir
    configure(data_dir, controller.port)
    disclose_to(app.test_client())
    import smtplib

    def refuse(self, *args, **kwargs):
        raise smtplib.SMTPRecipientsRefused({})
    with monkeypatch.context() as patched:
        patched.setattr(smtplib.SMTP, "send_message", refuse)
        assert notifications.send_due(open_context(data_dir)) == (0, 2)
    assert open_context(data_dir).db.execute("SELECT COUNT(*) FROM notification_digests").fetchone()[0] == 0
    assert notifications.send_due(open_context(data_dir)) == (2, 0)     # the same slot: not marked sent before
    assert len(inbox.messages) == 2


def test_a_notifier_whose_server_died_before_it_started_stops_at_once(installation):
    """`portal serve` names itself with --parent-pid: a notifier that finds another parent (the server was
    killed while it started, and it was handed to init) ends instead of sending for ever."""
    import subprocess
    import sys
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "portal", "--data", str(installation.data_dir), "notify",
                           "--every-hour", "--parent-pid", "1"], timeout=60, capture_output=True)
    assert done.returncode == 0 and time.monotonic() - started < 30, done.stderr
