"""Notification digests (issue 16), caught by a real SMTP server on loopback (aiosmtpd): one digest per officer
per sending time, only when something new waits, and nothing in it that names a case, category, channel or any
of the discloser's words."""
from __future__ import annotations

import datetime as dt
import email
import email.policy
import os
import time

import pytest
from aiosmtpd.controller import Controller
from click.testing import CliRunner

from portal.operations import notifications
from portal.cli import main as portal_cli
from portal.core.context import open_context
from tests.conftest import MARKER, run_cli
from tests.support import HttpClient, csrf_token, disclosure_fields, free_port, start_server
from tests.support.workflow import disclose_to


class Inbox:
    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 OK"


@pytest.fixture
def smtp_server():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, inbox
    controller.stop()


@pytest.fixture
def at(monkeypatch):
    """Sets the time `portal notify` runs at."""
    moments = {"now": dt.datetime(2026, 3, 2, 1, 0, 4, tzinfo=dt.timezone.utc)}
    monkeypatch.setattr(notifications, "now_utc", lambda: moments["now"])
    return moments


def configure(data_dir, port: int) -> None:
    for name, value in (("smtp_host", "127.0.0.1"), ("smtp_port", str(port)), ("smtp_starttls", "no"),
                        ("smtp_from", "portal@agency.govt.nz"), ("public_url", "https://disclose.agency.govt.nz")):
        run_cli(data_dir, "setting", "set", name, value)


def test_a_digest_reaches_the_officer_without_naming_anything_once_per_sending_time(app, installation, smtp_server, at):
    controller, inbox = smtp_server
    data_dir = installation.data_dir
    not_configured = CliRunner().invoke(portal_cli, ["--data", str(data_dir), "notify"])
    assert not_configured.exit_code != 0 and "No SMTP server is set" in not_configured.output
    configure(data_dir, controller.port)
    assert "0 digest(s) sent" in run_cli(data_dir, "notify").output  # nothing waits yet

    disclose_to(app.test_client(), details=f"Invoices paid twice. {MARKER}", contact="ring 021 555 0199",
                category="public_funds")
    assert "1 digest(s) sent" in run_cli(data_dir, "notify").output
    [mail] = inbox.messages
    assert mail["To"] == installation.officer.email
    assert mail["Date"].datetime == dt.datetime(2026, 3, 2, 1, 0, tzinfo=dt.timezone.utc)  # the hour, not the minute
    text = mail.as_string()
    ref = open_context(data_dir).db.execute("SELECT ref FROM cases").fetchone()[0]
    for secret in (ref, "public_funds", "public funds", "Audit and Risk", "Internal audit", MARKER, "Invoices",
                   "021 555 0199", installation.other_officer.email):
        assert secret.lower() not in text.lower(), secret
    assert "a new disclosure" in mail.get_content()
    assert "https://disclose.agency.govt.nz/console/" in mail.get_content()

    # Another disclosure in the same hour: no second digest until the next sending time.
    disclose_to(app.test_client(), details="Second one.")
    assert "0 digest(s) sent" in run_cli(data_dir, "notify").output
    at["now"] = dt.datetime(2026, 3, 2, 2, 0, 1, tzinfo=dt.timezone.utc)
    assert "1 digest(s) sent" in run_cli(data_dir, "notify").output
    # Nothing changed since: no digest at the hour after.
    at["now"] = dt.datetime(2026, 3, 2, 3, 0, 1, tzinfo=dt.timezone.utc)
    assert "0 digest(s) sent" in run_cli(data_dir, "notify").output
    assert len(inbox.messages) == 2 and all(m["To"] == installation.officer.email for m in inbox.messages)


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
    """Pids of `portal notify --every-hour` processes for this data directory."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                argv = open(f"/proc/{entry}/cmdline", "rb").read().split(b"\0")
            except OSError:
                continue
            if b"--every-hour" in argv and str(data_dir).encode() in argv:
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
    """No cron needed: with an SMTP server set, `portal serve` keeps `portal notify --every-hour` beside it
    (the test configuration shortens the hour to 3 s), and the notifier ends when the server does, even
    when the server is killed."""
    controller, inbox = smtp_server
    data_dir = installation.data_dir
    configure(data_dir, controller.port)
    server = start_server(data_dir, env={"PORTAL_NOTIFY_PERIOD_SECONDS": "3"})
    try:
        assert _wait_for(lambda: len(_notifiers(data_dir)) == 1, 10), server.output()
        client = HttpClient("127.0.0.1", server.port)
        token = csrf_token(client.get("/disclose").text)
        page = client.post_multipart("/disclose", disclosure_fields(token, f"Invoices paid twice. {MARKER}"))
        assert page.status == 200 and 'id="receipt"' in page.text
        assert _wait_for(lambda: len(inbox.messages) == 1, 30), server.output()
        [mail] = inbox.messages
        assert mail["To"] == installation.officer.email and MARKER not in mail.as_string()
        time.sleep(4)   # the next sending time: nothing new, so nothing sent
        assert len(inbox.messages) == 1
        assert "portal notify: 1 digest(s) sent." in server.output()
    finally:
        if ending == "kill":
            server.process.kill()
            server.process.wait()
        server.stop()
    assert _wait_for(lambda: _notifiers(data_dir) == [], 10), "the notifier outlived the server"


def test_two_senders_in_the_same_hour_send_one_digest(app, installation, smtp_server, at):
    """A cron job left in place beside `portal serve`'s own sender: whichever claims the digest first sends
    it; the other, holding the same list of due digests, sends nothing."""
    controller, inbox = smtp_server
    data_dir = installation.data_dir
    configure(data_dir, controller.port)
    disclose_to(app.test_client())
    first, second = open_context(data_dir), open_context(data_dir)
    stale = notifications.due_digests(second, at["now"])
    assert [d.email for d in stale] == [installation.officer.email]
    assert notifications.send_due(first) == (1, 0)
    assert notifications.send_digests(second, stale, at["now"]) == (0, 0)
    assert len(inbox.messages) == 1


def test_a_refused_digest_is_given_back_for_the_next_hour(app, installation, smtp_server, at, monkeypatch):
    controller, inbox = smtp_server
    data_dir = installation.data_dir
    configure(data_dir, controller.port)
    disclose_to(app.test_client())
    import smtplib

    def refuse(self, *args, **kwargs):
        raise smtplib.SMTPRecipientsRefused({})
    with monkeypatch.context() as patched:
        patched.setattr(smtplib.SMTP, "send_message", refuse)
        assert notifications.send_due(open_context(data_dir)) == (0, 1)
    assert open_context(data_dir).db.execute("SELECT COUNT(*) FROM notification_digests").fetchone()[0] == 0
    assert notifications.send_due(open_context(data_dir)) == (1, 0)     # the same hour: not marked sent before
    assert len(inbox.messages) == 1


def test_a_notifier_whose_server_died_before_it_started_stops_at_once(installation):
    """`portal serve` names itself with --parent-pid: a notifier that finds another parent (the server was
    killed while it started, and it was handed to init) ends instead of sending for ever."""
    import subprocess
    import sys
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "portal", "--data", str(installation.data_dir), "notify",
                           "--every-hour", "--parent-pid", "1"], timeout=60, capture_output=True)
    assert done.returncode == 0 and time.monotonic() - started < 30, done.stderr
