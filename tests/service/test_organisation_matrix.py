"""Route x role x organisation (issue 29): every route of an organisation's app, taken from its own
URL map, called through the service's dispatcher by every role of organisation a (anonymous, a
discloser with a receipt and its status session open, an officer, an administrator) and by the
service operator, at a (their own organisation) and at b (another). Who may do what within one
organisation is tests/keys/test_authorisation.py's table; this one is about where:

- at b, each of a's people gets exactly what a browser with no cookies gets there (status, where it
  is sent, and the page): nothing of a's sessions reaches b;
- the service operator, signed in at /service/, is nobody at a and at b alike;
- at a, a's officer and administrator are signed in (no console route sends them to sign in) and
  the discloser's status session is open;
- b's own officer, asking b for a's case or attachment, gets the same answer as for a case that does
  not exist.

CSRF is off here (as in the single installation's table); the test client, never a served process.
The installation, its people and their signed-in clients are made once for the module (`world`):
the first test calls a's people at a and b, the second b's officer at b, so neither's sessions
are the other's.
"""
from __future__ import annotations

import contextlib
import os
import re
import tempfile
from pathlib import Path

import pytest
from werkzeug.test import Client

from portal.keys import second_factor
from tests import conftest

from portal.service.dispatch import service_app
from portal.service.registry import data_dir_of
from tests.conftest import add_account
from tests.keys.test_authorisation import LAST, _call, _routes
from tests.service.test_organisations import make_service
from tests.service.test_service_operator import add_operator
from tests.support import disclosure_fields, post_multipart, receipt_from
from tests.support.console import ATTACHMENT

ROLES = ("anonymous", "discloser", "officer", "admin", "operator")
SIGNED_IN = ("officer", "admin")
# Well-formed identifiers of nothing: what "a page that does not exist" is asked with.
NO_CASE = {"ref": "PD-00000000", "attachment_id": "0" * 32}


class At:
    """A client whose paths are under one organisation's place (`/o/<slug>`)."""

    def __init__(self, client: Client, prefix: str) -> None:
        self.client, self.prefix = client, prefix

    def get(self, path, **kw):
        return self.client.get(self.prefix + path, **kw)

    def post(self, path, **kw):
        return self.client.post(self.prefix + path, **kw)

    def put(self, path, **kw):
        return self.client.put(self.prefix + path, **kw)


def _without_csrf(app):
    app.config.update(TESTING=True, WTF_CSRF_ENABLED=False)
    return app


def sign_in(client: Client, prefix: str, person):
    return client.post(f"{prefix}/console/login", data={"email": person.email, "passphrase": person.passphrase,
                                                        "totp": person.code()})


def _case_of(client: Client, slug: str) -> tuple[str, str]:
    """The reference and attachment id of the one case at `slug`, as its signed-in officer sees them."""
    inbox = client.get(f"/o/{slug}/console/").text
    ref = re.search(rf'href="/o/{slug}/console/cases/([^"/]+)"', inbox).group(1)
    attachment = re.search(r'/attachments/([^"]+)"', client.get(f"/o/{slug}/console/cases/{ref}").text).group(1)
    return ref, attachment


def _ids(ref: str, attachment: str, receipt: str) -> dict:
    """What tests/keys/test_authorisation.py's _request and _call read of their world."""
    return {"ref": ref, "attachment_id": attachment, "receipt": receipt, "token": "0" * 43,
            "authority_id": "1", "spare_authority_id": "2", "interest_id": "1", "ben_id": "0",
            "lou_id": "0", "audit_channel_id": "1"}


def _world(tmp_path):
    service = make_service(tmp_path)  # a and b, each with Audit and Risk and its officer Ana
    wsgi = service_app(service, _without_csrf)
    people, clients, worlds = {}, {}, {}
    for slug in ("a", "b"):
        # Olly joins before the disclosure, so it is sealed to him too.
        data_dir = data_dir_of(service, slug)
        officer = add_account(data_dir, "officer", f"olly@{slug}.govt.nz", "Olly Officer", ["Audit and Risk"])
        admin = add_account(data_dir, "admin", f"ada@{slug}.govt.nz", "Ada Admin")
        discloser = Client(wsgi)
        discloser.get(f"/o/{slug}/disclose")  # [flood] the form brings its no-script ticket
        sent = post_multipart(discloser, f"/o/{slug}/disclose", disclosure_fields("", f"Seen at {slug}."),
                              [("attachments", "minutes.pdf", ATTACHMENT)])
        receipt = receipt_from(sent.text)
        discloser.get(f"/o/{slug}/status")  # [flood] the page brings its no-script ticket
        assert discloser.post(f"/o/{slug}/status", data={"receipt": receipt}).status_code in (200, 303)
        signed = {}
        for role, person in (("officer", officer), ("admin", admin)):
            signed[role] = Client(wsgi)
            assert sign_in(signed[role], f"/o/{slug}", person).status_code == 303, (slug, role)
        worlds[slug] = _ids(*_case_of(signed["officer"], slug), receipt)
        people[slug] = {"officer": officer, "admin": admin}
        clients[slug] = {"anonymous": Client(wsgi), "discloser": discloser, **signed}
    clients["a"]["operator"] = Client(wsgi)
    assert sign_in(clients["a"]["operator"], "/service", add_operator(service)).status_code == 303
    app = wsgi.organisation_app("a")
    assert sorted(map(str, app.url_map.iter_rules())) == sorted(map(str, wsgi.organisation_app("b").url_map.iter_rules()))
    return app, clients, worlds, people


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """_world, once for the module. Made before any test's own TOTP clock (tests/conftest.py), so
    with a movable clock of its own, for the sign-ins it makes; the sessions outlive it. In memory
    where there is /dev/shm: some 1,200 requests' commits then wait for no disk (what is asserted
    is who reaches what, not what survives a crash)."""
    memory = Path("/dev/shm")
    with contextlib.ExitStack() as stack:
        if memory.is_dir() and os.access(memory, os.W_OK):
            where = Path(stack.enter_context(tempfile.TemporaryDirectory(dir=memory, prefix="matrix-")))
        else:
            where = tmp_path_factory.mktemp("matrix")
        with pytest.MonkeyPatch.context() as patch:
            clock = conftest.TotpClock(movable=True)
            patch.setattr(conftest, "TOTP_CLOCK", clock)
            patch.setattr(second_factor, "seconds_now", clock.seconds)
            built = _world(where)
        yield built


# What differs from one request to the next whoever asks: tokens, challenges, nonces, form values.
_PER_REQUEST = re.compile(r'"(csrf_token|challenge|submission_token)": ?"[^"]*"|(nonce|value)="[^"]*"')


def _answer(response, with_page: bool) -> tuple:
    """What a caller learns: the status, where a redirect sends them, and (`with_page`) the page with
    its per-request values taken out."""
    body = ""
    if with_page and not 300 <= response.status_code < 400:
        body = _PER_REQUEST.sub("", response.get_data().decode("utf-8", errors="replace"))
    return response.status_code, response.headers.get("Location", ""), body


def test_no_role_of_one_organisation_gets_anything_of_another_on_any_route(world):
    app, clients, worlds, _ = world
    routes = sorted(_routes(app), key=lambda r: (r[0] in LAST, LAST.index(r[0]) if r[0] in LAST else 0))
    assert len(routes) > 100  # the whole map, not a few routes
    wrong = []
    for endpoint, method, rule in routes:
        for slug in ("a", "b"):
            answers = {}
            for role in ROLES:
                client = At(clients["a"][role], f"/o/{slug}")
                answers[role] = _answer(_call(client, worlds[slug], endpoint, method, rule, role), method == "GET")
            nobody = answers["anonymous"]
            strangers = ROLES[1:] if slug == "b" else ("operator",)
            for role in strangers:
                if answers[role] != nobody:
                    wrong.append(f"{method} {endpoint} as {role} of a at {slug}: {answers[role][:2]}, "
                                 f"not as anyone's {nobody[:2]}")
            if slug == "a" and nobody[:2] == (303, "/o/a/console/login") and endpoint != "console.logout":
                wrong += [f"{method} {endpoint} as a's {role} at a: sent to sign in"
                          for role in SIGNED_IN if answers[role][:2] == nobody[:2]]
        if (endpoint, method) == ("discloser.status", "GET"):
            assert 'id="case-status"' in clients["a"]["discloser"].get("/o/a/status").text
    assert not wrong, "\n".join(wrong)


def test_an_organisations_case_asked_of_another_is_a_case_that_does_not_exist(world):
    app, clients, worlds, people = world
    b_officer = At(clients["b"]["officer"], "/o/b")
    # b's officer opens b's case: the officer's session and key are live at b.
    assert b_officer.get(f"/console/cases/{worlds['b']['ref']}").status_code == 200
    asked = 0
    for endpoint, method, rule in sorted(_routes(app)):
        if not {"ref", "attachment_id"} & set(rule.arguments) or endpoint in LAST:
            continue
        a_case = {**worlds["b"], "ref": worlds["a"]["ref"], "attachment_id": worlds["a"]["attachment_id"]}
        no_case = {**worlds["b"], **NO_CASE}
        # Each answer with the identifiers asked for put back to one name (a form echoes them).
        got, none = (
            tuple(str(part).replace(ids["ref"], "REF").replace(ids["attachment_id"], "ID") for part in
                  _answer(_call(b_officer, ids, endpoint, method, rule, "officer"), True))
            for ids in (a_case, no_case))
        assert got == none, endpoint
        # Refused, or the step that asks the passphrase again before anything is looked up.
        assert got[0] in ("303", "400", "404") or 'name="confirm_passphrase"' in got[2], (endpoint, got[:2])
        asked += 1
    assert asked > 20
    # a's officer's credentials are nobody's at b: refused as any wrong ones are.
    a_officer = people["a"]["officer"]
    stranger = sign_in(Client(clients["b"]["anonymous"].application), "/o/b", a_officer)
    assert stranger.status_code == 400 and "Those details did not work" in stranger.text
