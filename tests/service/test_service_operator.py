"""The service operator (issue 29): an account of the service's own made at the command line
(passphrase and second factor), signing in at /service/, seeing per organisation only counts of
completed quarters in ranges, reaching no organisation's pages, and every action in the service's
own audit chain."""
from __future__ import annotations

import datetime as dt
import re
import sqlite3

from click.testing import CliRunner
from werkzeug.test import Client

from portal.casework.statistics_periods import recent_periods
from portal.cli import main as portal_cli
from portal.core.clock import today
from portal.service.dispatch import service_app
from portal.service.operator import operator_dir
from portal.service.registry import data_dir_of, organisation
from tests.conftest import MARKER, Officer, add_account, run_cli
from tests.service.test_organisations import make_service, portal
from tests.support import csrf_token, disclosure_fields, post_multipart

PASSPHRASE = "the operator's own long passphrase"


def add_operator(service) -> Officer:
    made = CliRunner().invoke(portal_cli, ["service", "operator", "add", "--email", "op@service.govt.nz",
                                           "--name", "Olive Operator", "--service", str(service),
                                           "--passphrase-stdin"], input=PASSPHRASE + "\n")
    assert made.exit_code == 0, made.output
    return Officer("op@service.govt.nz", "Olive Operator", PASSPHRASE, made.output.splitlines()[-1].removeprefix("totp: "))


def sign_in(client, prefix, person):
    token = csrf_token(client.get(f"{prefix}/console/login").text)
    return client.post(f"{prefix}/console/login", data={"csrf_token": token, "email": person.email,
                                                        "passphrase": person.passphrase, "totp": person.code()})


def disclose(client, slug) -> None:
    form = client.get(f"/o/{slug}/disclose")
    sent = post_multipart(client, f"/o/{slug}/disclose", disclosure_fields(csrf_token(form.text), MARKER))
    assert sent.status_code == 200, sent.text


def page_without_tokens(text: str) -> str:
    return re.sub(r'name="csrf_token" type="hidden" value="[^"]*"|value="[^"]*" name="csrf_token"', "", text)


def test_the_operator_sees_counts_of_completed_quarters_in_ranges_and_nothing_of_a_case(tmp_path):
    service = make_service(tmp_path)
    operator = add_operator(service)
    client = Client(service_app(service))
    # Five disclosures to a, put in the last quarter that has ended; b has none.
    for _ in range(5):
        disclose(client, "a")
    last_quarter = recent_periods(dt.date.fromisoformat(today("Pacific/Auckland")))[1]
    db = sqlite3.connect(data_dir_of(service, "a") / "portal.db")
    db.execute("UPDATE cases SET received_day = ?", [last_quarter.start.isoformat()])
    db.commit()
    refs = [ref for (ref,) in db.execute("SELECT ref FROM cases")]
    db.close()

    assert client.get("/service/organisations").status_code == 303  # signed out: to the sign-in
    signed = sign_in(client, "/service", operator)
    assert signed.status_code == 303
    page = client.get(signed.headers["Location"], follow_redirects=True)
    assert page.status_code == 200 and page.request.path == "/service/organisations"
    rows = dict(re.findall(r'<tr data-organisation="([a-z]+)">(.*?)</tr>', page.text))
    assert re.findall(r"<td>([^<]*)</td>", rows["a"]) == ["5–9", "0", "0", "0"]
    assert re.findall(r"<td>([^<]*)</td>", rows["b"]) == ["0", "0", "0", "0"]
    assert last_quarter.label in page.text
    assert MARKER not in page.text and not any(ref in page.text for ref in refs)

    # A disclosure today is in the quarter under way: the page does not move (never live).
    disclose(client, "b")
    assert page_without_tokens(client.get("/service/organisations").text) == page_without_tokens(page.text)

    # The operator installation's other pages are not the operator's: not found, signed in or not.
    for path in ("/service/disclose", "/service/status", "/service/console/admin", "/service/console/cases",
                 "/service/console/statistics"):
        assert client.get(path).status_code == 404, path
    assert client.get("/service/").headers["Location"].endswith("/service/organisations")
    # The operator's account exists in no organisation: its session and its credentials open nothing.
    assert client.get("/o/a/console/").status_code == 303
    assert sign_in(client, "/o/a", operator).status_code == 400


def test_an_organisations_people_cannot_reach_the_operator_page(tmp_path):
    service = make_service(tmp_path)
    client = Client(service_app(service))
    admin = add_account(data_dir_of(service, "a"), "admin", "ada@a.govt.nz", "Ada Admin")
    assert sign_in(client, "/o/a", admin).status_code == 303
    assert client.get("/o/a/console/admin/").status_code == 200
    assert client.get("/service/organisations").status_code == 303  # to the operator's sign-in
    assert sign_in(client, "/service", admin).status_code == 400


def test_a_language_button_reaches_only_what_a_get_reaches_on_the_operators_pages(tmp_path):
    # The switch answers a POST as the GET of its path, after every hook: the narrowing to the
    # operator's pages too (the review of issue 28 reached /service/status this way).
    service = make_service(tmp_path)
    operator = add_operator(service)
    client = Client(service_app(service))

    def both_ways(paths, token_page):
        token = csrf_token(client.get(token_page).text)
        for path in paths:
            pressed = client.post(path, data={"csrf_token": token, "lang": "en"})
            assert pressed.status_code == client.get(path).status_code, path
        return pressed

    both_ways(("/service/disclose", "/service/status", "/service/verify", "/service/console/cases",
               "/service/console/admin/", "/service/console/login"), "/service/console/login")
    assert client.post("/service/status", data={"csrf_token": csrf_token(client.get(
        "/service/console/login").text), "lang": "en"}).status_code == 404
    assert sign_in(client, "/service", operator).status_code == 303
    both_ways(("/service/disclose", "/service/console/cases", "/service/console/admin/",
               "/service/console/statistics", "/service/console/account", "/service/organisations"),
              "/service/organisations")
    token = csrf_token(client.get("/service/organisations").text)
    for path in ("/service/console/admin/", "/service/console/account"):
        assert client.post(path, data={"csrf_token": token, "lang": "en"}).status_code == 404
    shown = client.post("/service/organisations", data={"csrf_token": token, "lang": "en"})
    assert shown.status_code == 200 and '<html lang="en"' in shown.text


def test_the_service_audit_chains_the_operators_sign_in_and_organisations_made(tmp_path):
    service = make_service(tmp_path)
    operator = add_operator(service)
    client = Client(service_app(service))
    assert sign_in(client, "/service", operator).status_code == 303
    log = client.get("/service/console/audit")
    assert log.status_code == 200
    events = re.findall(r'<tr data-event="([a-z_]+)"', log.text)
    assert events[:2] == ["sign_in", "account_add"] and events.count("organisation_add") == 2
    assert "Organisation made on the service" in log.text and f"organisation: {organisation(service, 'a').id}" in log.text
    # Hash-chained as any installation's audit: `portal audit verify` checks it, and finds an edit.
    run_cli(operator_dir(service), "audit", "verify")
    db = sqlite3.connect(operator_dir(service) / "portal.db")
    db.execute("""UPDATE audit_log SET detail = '{"organisation":"zz"}' WHERE event = 'organisation_add'""")
    db.commit()
    db.close()
    assert CliRunner().invoke(portal_cli, ["--data", str(operator_dir(service)), "audit", "verify"]).exit_code != 0


def test_an_operator_needs_a_service_directory(tmp_path):
    made = CliRunner().invoke(portal_cli, ["service", "operator", "add", "--email", "o@x.nz", "--name", "O",
                                           "--service", str(tmp_path / "none"), "--passphrase-stdin"], input=PASSPHRASE + "\n")
    assert made.exit_code != 0 and "not a service directory" in made.output
    assert portal("service", "serve", str(tmp_path / "none"), "--port", "1").exit_code != 0
