"""Shared test helpers (moved here from the test modules that first used them)."""
from __future__ import annotations

import re

import pyotp

from tests.conftest import Officer, run_cli, totp_now
from tests.support import csrf_token

STRONG = "violet harbour engine quietly 1987"


def invite(data_dir, email, name, *channels) -> str:
    args = ["officer", "invite", "--email", email, "--name", name]
    for ch in channels:
        args += ["--channel", ch]
    out = run_cli(data_dir, *args).output
    [path] = re.findall(r"(/console/enrol/[A-Za-z0-9_-]+)", out)
    return path


def enrol(client, path, email, name, passphrase=STRONG):
    """Open an enrolment link and take every step; return the officer's credentials and the last page."""
    page = client.get(path)
    assert page.status_code == 200, page.text
    response = client.post(path, data={"csrf_token": csrf_token(page.text), "passphrase": passphrase,
                                       "passphrase_again": passphrase})
    assert response.status_code == 303 and response.headers["Location"].endswith("/console/setup/second-factor")
    return take_second_factor_step(client, Officer(email, name, passphrase, ""))


def take_second_factor_step(client, person: Officer):
    page = client.get("/console/setup/second-factor")
    assert page.status_code == 200
    assert "<svg" in page.text and "<script" not in page.text  # inline QR code, nothing to run or fetch
    person.totp_secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', page.text).group(1)
    done = client.post("/console/setup/second-factor", data={"csrf_token": csrf_token(page.text),
                                                            "totp": person.code()})
    assert done.status_code == 200, done.text
    codes = re.findall(r"<code>([A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4})</code>",
                       done.text.split('id="recovery-codes"')[1])
    assert len(codes) == 10
    return person, codes


def current(person: Officer) -> str:
    """The current code, for a sign-in expected to fail before the code is taken (old or wrong
    credentials; a valid code with a wrong passphrase is used up: take `person.code()` for that)."""
    return totp_now(person.totp_secret)


def sign_in(client, person, code=None, passphrase=None):
    token = csrf_token(client.get("/console/login").text)
    return client.post("/console/login", data={"csrf_token": token, "email": person.email,
                                               "passphrase": passphrase or person.passphrase,
                                               "totp": code or person.code()})
