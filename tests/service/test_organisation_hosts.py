"""Organisations at their own host names (issue 29): `portal org host SLUG HOSTNAME` and `portal
service host HOSTNAME`, and the dispatcher choosing by the Host header, through werkzeug's test
client (whose cookie jar keeps each host's cookies to that host, as a browser does)."""
from __future__ import annotations

import re
import sqlite3

from werkzeug.test import Client

from portal.service.dispatch import service_app
from portal.service.operator import operator_dir
from portal.service.registry import data_dir_of
from tests.conftest import MARKER, add_account, run_cli
from tests.service.test_organisations import make_service, portal
from tests.service.test_service_served import references
from tests.support import csrf_token, disclosure_fields, post_multipart, receipt_from

NORTH = "https://pd.north.govt.nz"
SERVICE = "https://pd.service.govt.nz"


def host(service, slug, name, *extra):
    made = portal("org", "host", slug, name, *extra, "--service", str(service))
    assert made.exit_code == 0, made.output
    return made


def cases_of(service, slug) -> list[str]:
    return references(data_dir_of(service, slug))


def test_an_organisation_at_its_own_host_name_has_its_pages_links_and_cookies_there(tmp_path):
    service = make_service(tmp_path)
    assert "pd.north.govt.nz" in host(service, "a", "PD.North.govt.nz.").output  # kept in lower case
    client = Client(service_app(service))

    front = client.get("/", base_url=NORTH)
    assert front.status_code == 200 and "/o/a" not in front.text
    form = client.get("/disclose", base_url=NORTH)
    assert 'action="/disclose"' in form.text and "/o/" not in form.text
    cookies = form.headers.getlist("Set-Cookie")
    assert cookies and all("Path=/" in c and "Domain" not in c for c in cookies)
    sent = post_multipart(client, "/disclose", disclosure_fields(csrf_token(form.text), MARKER),
                          base_url=NORTH)
    assert sent.status_code == 200, sent.text
    receipt = receipt_from(sent.text)
    [ref] = cases_of(service, "a")
    assert cases_of(service, "b") == []

    # The receipt opens the case at the host name; the session stays that host's.
    page = client.get("/status", base_url=NORTH)
    opened = client.post("/status", data={"csrf_token": csrf_token(page.text), "receipt": receipt},
                         base_url=NORTH, follow_redirects=True)
    assert 'id="case-status"' in opened.text and "/o/a" not in opened.text
    assert 'id="case-status"' not in client.get("/o/a/status", base_url=SERVICE).text
    # As well as at /o/a/ on the service's own name: the same organisation.
    assert client.get("/o/a/", base_url=SERVICE).status_code == 200
    # Another organisation's host name reaches only that one.
    host(service, "b", "pd.board-b.govt.nz")
    b_status = client.get("/status", base_url="https://pd.board-b.govt.nz")
    refused = client.post("/status", data={"csrf_token": csrf_token(b_status.text), "receipt": receipt},
                          base_url="https://pd.board-b.govt.nz")
    assert refused.status_code == 400 and ref not in refused.text
    # The operator's pages are not at a member's host name.
    assert client.get("/service/organisations", base_url=NORTH).status_code == 404
    # a's administrator, signed in at a's name, is signed in nowhere else: not at b's name, not
    # at /o/a/ on the service's (cookies are each host's), and b's answers are anyone's.
    admin = add_account(data_dir_of(service, "a"), "admin", "ada@north.govt.nz", "Ada Admin")
    login = client.get("/console/login", base_url=NORTH)
    signed = client.post("/console/login", base_url=NORTH, data={
        "csrf_token": csrf_token(login.text), "email": admin.email, "passphrase": admin.passphrase,
        "totp": admin.code()})
    assert signed.status_code == 303
    assert client.get("/console/admin/", base_url=NORTH).status_code == 200
    for base, path in (("https://pd.board-b.govt.nz", "/console/admin/"), (SERVICE, "/o/a/console/admin/")):
        answer = client.get(path, base_url=base)
        assert answer.status_code == 303 and "/console/login" in answer.headers["Location"], base

    log = run_cli(operator_dir(service), "audit", "verify")
    assert log.exit_code == 0
    db = sqlite3.connect(operator_dir(service) / "portal.db")
    events = [detail for (detail,) in db.execute("SELECT detail FROM audit_log WHERE event = 'organisation_host'")]
    db.close()
    assert len(events) == 2 and '"pd.north.govt.nz"' in events[0]


def test_an_unknown_host_is_answered_as_an_unknown_organisation(tmp_path):
    service = make_service(tmp_path)
    host(service, "a", "pd.north.govt.nz")
    client = Client(service_app(service))
    missing_at_a = client.get("/no-such-page", base_url=NORTH)
    assert missing_at_a.status_code == 404
    # Until the service names its own host names, any other name is the service's.
    assert client.get("/o/b/", base_url="https://other.example.nz").status_code == 200
    assert portal("service", "host", "pd.service.govt.nz", "--service", str(service)).exit_code == 0
    assert client.get("/o/b/", base_url=SERVICE).status_code == 200
    for path in ("/", "/o/b/", "/disclose", "/service/organisations", "/no-such-page"):
        unknown = client.get(path, base_url="https://pd.nobody.govt.nz")
        assert unknown.status_code == 404, path
        assert unknown.text == missing_at_a.text
        assert sorted(unknown.headers.items()) == sorted(missing_at_a.headers.items())
        assert "Set-Cookie" not in unknown.headers


def test_an_organisation_at_its_host_name_only_is_not_at_its_path(tmp_path):
    service = make_service(tmp_path)
    host(service, "a", "pd.north.govt.nz", "--only")
    client = Client(service_app(service))
    assert client.get("/", base_url=NORTH).status_code == 200
    at_path = client.get("/o/a/disclose", base_url=SERVICE)
    never = client.get("/o/zz/disclose", base_url=SERVICE)
    assert at_path.status_code == never.status_code == 404
    assert at_path.text.replace("/o/a/", "/o/?/") == never.text.replace("/o/zz/", "/o/?/")
    # Its invitations are links at its host name.
    made = portal("org", "invite", "a", "--role", "admin", "--email", "ada@north.govt.nz", "--name", "Ada",
                  "--service", str(service), "--base-url", SERVICE)
    assert made.exit_code == 0, made.output
    [path] = re.findall(r"https://pd\.north\.govt\.nz(/console/enrol/[A-Za-z0-9_-]+)", made.output)
    assert client.get(path, base_url=NORTH).status_code == 200
    # Given again without --only, it is at both.
    host(service, "a", "pd.north.govt.nz")
    assert client.get("/o/a/disclose", base_url=SERVICE).status_code == 200


def test_host_names_are_refused_when_malformed_taken_or_of_no_organisation(tmp_path):
    service = make_service(tmp_path)
    host(service, "a", "pd.north.govt.nz")
    assert portal("service", "host", "pd.service.govt.nz", "--service", str(service)).exit_code == 0
    for slug, name, words in (("b", "pd.north.govt.nz", "already in use"), ("b", "PD.SERVICE.govt.nz", "already in use"),
                              ("zz", "pd.zz.govt.nz", "no organisation"), ("b", "not a host", "not a host name"),
                              ("b", "localhost", "not a host name"), ("b", "pd.b.govt.nz:8080", "not a host name")):
        refused = portal("org", "host", slug, name, "--service", str(service))
        assert refused.exit_code != 0 and words in refused.output, (name, refused.output)
    taken = portal("service", "host", "pd.north.govt.nz", "--service", str(service))
    assert taken.exit_code != 0 and "already in use" in taken.output
