"""The daily reminder in the installation's default language (issue 28): every string of it from the
catalogue, the same words for every officer, and still one size in bytes as sent when its words are
not ASCII. Built in the pseudo-locale (every string accented and wrapped in ⟦ ⟧), caught by a real
SMTP server on loopback."""
from __future__ import annotations

import re

import tests.support.pseudo_locale as pseudo_locale
from portal.operations import notifications
from tests.conftest import run_cli
from tests.operations.test_notifications import at, configure, local, smtp_server  # noqa: F401


def test_the_reminder_is_written_in_the_default_language_and_keeps_its_size(
        installation, smtp_server, at, monkeypatch, tmp_path):  # noqa: F811
    folder = pseudo_locale.build(tmp_path / "catalogues", "eo")
    monkeypatch.setenv("PORTAL_TRANSLATIONS", str(folder))
    monkeypatch.setenv("PORTAL_DEFAULT_LANGUAGE", "eo")
    controller, inbox = smtp_server
    configure(installation.data_dir, controller.port)
    run_cli(installation.data_dir, "setting", "set", "digest_counts", "yes")
    at["now"] = local(2, 7, 30, 4)
    assert "2 digest(s) sent" in run_cli(installation.data_dir, "notify").output

    assert len(inbox.messages) == 2
    bodies = {mail.get_content().replace("\r\n", "\n") for mail in inbox.messages}
    assert len(bodies) == 1
    [body] = bodies
    subject = inbox.messages[0]["Subject"]
    assert subject == pseudo_locale.transform(notifications.SUBJECT)
    # No English left outside ⟦ ⟧ but the address, the counts' dashes and numbers, and padding.
    left = re.sub(r"https://\S+", "", re.sub(r"⟦[^⟧]*⟧", "", body.replace("\n", " ")))
    assert not re.search(r"[A-Za-z]{2,}", left), left
    assert "https://disclose.agency.govt.nz/console/" in body
    assert pseudo_locale.transform("Waiting for you:") in body
    assert {len(sent) for sent in inbox.bodies} == {notifications.BODY_SIZE}
    assert inbox.messages[0]["Content-Transfer-Encoding"] == "8bit"


def test_the_english_reminder_is_as_it_was(installation, smtp_server, at):  # noqa: F811
    controller, inbox = smtp_server
    configure(installation.data_dir, controller.port)
    assert "2 digest(s) sent" in run_cli(installation.data_dir, "notify").output
    [body] = {mail.get_content().replace("\r\n", "\n") for mail in inbox.messages}
    assert body.startswith(
        "Hello,\n\nYour daily reminder: sign in to see what needs you.\n\n"
        "Sign in to the portal's console: https://disclose.agency.govt.nz/console/\n\n"
        "Every officer who asked for it gets this reminder at the same time each\n"
        "day, with the same words, whether or not anything is waiting: details\n"
        "are only in the portal.\n")
    assert inbox.messages[0]["Content-Transfer-Encoding"] == "7bit"
    assert {len(sent) for sent in inbox.bodies} == {notifications.BODY_SIZE}
