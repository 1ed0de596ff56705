"""The demo shows a team (issue 25): `portal demo` sets up two officers and an administrator, invented cases
at each stage, and makes every demo account replace its printed credentials at first sign-in; the
administrator's pages show none of the cases' content."""
from __future__ import annotations

import re

import pytest

from portal.operations import demo, demo_cases
from tests.conftest import Officer, finish_first_sign_in, run_cli
from tests.support import ROOT, form_for
from tests.support.console import sign_in
from tests.support.discloser import open_status

ADMIN_PAGES = ("/console/admin/", "/console/admin/officers", "/console/admin/invitations",
               "/console/admin/offboarding", "/console/admin/settings", "/console/admin/authorities")


@pytest.fixture
def demo_dir(tmp_path):
    data_dir = tmp_path / "demo"
    run_cli(data_dir, "init", "--insecure-fast-kdf")  # the suite's cheap key derivation, chosen explicitly
    printed = run_cli(data_dir, "demo", "--port", "0").output
    return data_dir, printed


def _printed_accounts(printed: str) -> dict[str, Officer]:
    found = re.findall(r"^  ([A-Z][a-z ]+): (\S+@demo\.example)\n\s+passphrase:\s+(\S+)\n\s+totp secret: (\S+)",
                       printed, re.M)
    return {label: Officer(email, label, passphrase, secret) for label, email, passphrase, secret in found}


def _app(data_dir):
    from portal.web.app import create_app
    app = create_app(data_dir)
    app.config["TESTING"] = True
    return app


def test_the_demo_prints_a_team_and_a_discloser_receipt_and_is_the_same_when_run_again(demo_dir):
    data_dir, printed = demo_dir
    assert set(_printed_accounts(printed)) == {"Officer", "Second officer", "Administrator"}
    assert "At first sign-in each demo account chooses a new passphrase and second factor" in printed
    assert re.search(r"receipt of the case with a conversation: [0-9A-Z-]+ \(at http://127\.0\.0\.1:0/status\)",
                     printed)
    assert run_cli(data_dir, "demo", "--port", "0").output == printed  # nothing made twice, nothing new printed


def test_every_demo_account_must_replace_its_printed_credentials(demo_dir):
    data_dir, printed = demo_dir
    app = _app(data_dir)
    accounts = _printed_accounts(printed)
    for person in accounts.values():
        client = app.test_client()
        answer = sign_in(client, person)
        assert answer.status_code == 303 and answer.headers["Location"].endswith("/console/setup/passphrase")
        assert client.get("/console/").status_code == 303  # nothing but the set-up steps opens
    admin = accounts["Administrator"]
    finish_first_sign_in(data_dir, admin)
    # An administrator gets no signing key from the set-up steps either (SECURITY.md, "Signing keys").
    from portal.core.context import open_context
    from portal.keys import accounts as account_rows
    from portal.keys import signing_keys
    ctx = open_context(data_dir)
    assert signing_keys.stored(ctx, account_rows.get_account_by_email(ctx, admin.email).id) == (None, None)
    ctx.db.conn.close()
    again = run_cli(data_dir, "demo", "--port", "0").output
    assert "Administrator admin@demo.example: has chosen their own passphrase and second factor." in again
    assert admin.passphrase not in again
    assert [e.email for e in demo.current_codes(data_dir)] == ["officer@demo.example", "second.officer@demo.example"]


def test_the_invented_cases_are_at_their_stages_for_both_officers_and_the_discloser(demo_dir):
    data_dir, printed = demo_dir
    app = _app(data_dir)
    accounts = _printed_accounts(printed)
    for label in ("Officer", "Second officer"):
        client = app.test_client()
        assert sign_in(client, finish_first_sign_in(data_dir, accounts[label])).status_code == 303
        inbox = client.get("/console/?status=").text
        for _, _, summary, _ in demo_cases.DEMO_CASES:
            assert summary in inbox, (label, summary)
        assert "(earlier form)" not in inbox  # the invented cases use the form's kinds of today
    # Each case at its stage, as the second officer's inbox shows it.
    shown = dict(re.findall(r'<p>([^<]+)</p></div></td>.*?data-status="([a-z_]+)"', inbox, re.S))
    assert shown == {"Fuel cards used at weekends": "received", "Guard removed from the bandsaw": "acknowledged",
                     "Invoices paid twice to one supplier": "assessing",
                     "Bribe offered for a building consent": "referred",
                     "Parking spaces given to managers": "no_further_action"}
    receipt = re.search(r"conversation: ([0-9A-Z-]+) ", printed).group(1)
    discloser = app.test_client()
    discloser.get("/status")
    status = open_status(discloser, receipt)
    page = discloser.get("/status").text if status.status_code == 303 else status.text
    # The conversation reads in the order it was written: the question, then the discloser's answer,
    # and no officer's thanks for the answer above it (a discloser's message sorts after the officers'
    # of its day, issue 26).
    thread = page[page.index('<ol class="thread"'):]
    thread = thread[:thread.index("</ol>")]
    assert 0 <= thread.index("Could you say roughly when") < thread.index("I first noticed them")
    assert thread.count('<li') == 2, thread
    assert "Being assessed" in page


def test_the_administrator_sees_no_content_of_the_demo_cases(demo_dir):
    data_dir, printed = demo_dir
    app = _app(data_dir)
    admin = finish_first_sign_in(data_dir, _printed_accounts(printed)["Administrator"])
    client = app.test_client()
    assert sign_in(client, admin).status_code == 303
    for path in ADMIN_PAGES:
        page = client.get(path).text
        for _, _, summary, details in demo_cases.DEMO_CASES:
            assert summary not in page and details not in page, path
    assert 'data-channel="Demo integrity team"' in client.get("/console/admin/").text
    officers = client.get("/console/admin/officers").text
    assert officers.count('data-state="set_up"') == 2  # both officers still hold their printed credentials


def _send(client, page: str, action: str, **fields):
    """Send the form of `page` that posts to `action`, as a browser would, with `fields` filled in."""
    form = dict(form_for(client.get(page).text, action)["fields"]) | fields
    return client.post(action, data=form)


def test_once_each_account_has_replaced_its_credentials_every_two_person_action_can_be_tried(demo_dir):
    """What the printed text says to try: the roster started by one officer, the identity release the
    first officer asked for confirmed by the second, the recovery key confirmed by its printed fingerprint,
    and an offboarding the administrator asks for signed by the other officer."""
    data_dir, printed = demo_dir
    app = _app(data_dir)
    printed_accounts = _printed_accounts(printed)
    people = {label: finish_first_sign_in(data_dir, person) for label, person in printed_accounts.items()}
    clients = {}
    for label, person in people.items():
        clients[label] = app.test_client()
        assert sign_in(clients[label], person).status_code == 303
    first, second, admin = clients["Officer"], clients["Second officer"], clients["Administrator"]
    assert "To try what needs two people" in printed

    # The roster: the officer starts it, and both officers are admitted.
    started = _send(first, "/console/roster", "/console/roster/sign", kind="start")
    assert started.status_code == 303
    assert "has no signed roster yet" not in second.get("/console/roster").text

    # The identity release waits in the second officer's "What needs you", and only there.
    release_ref = re.search(r"the Officer asked for one in (PD-[0-9A-Z]+);", printed).group(1)
    link = f'href="/console/cases/{release_ref}#identity"'
    assert link in second.get("/console/").text and link not in first.get("/console/").text
    url = f"/console/cases/{release_ref}"
    confirmed = _send(second, url, url + "/identity/1/confirm",
                      confirm_passphrase=people["Second officer"].passphrase)
    assert confirmed.status_code == 303
    assert "release-confirmed" in confirmed.headers["Location"]
    assert link not in second.get("/console/").text

    # The recovery key, by the fingerprint the demo printed.
    fingerprint = re.search(r"as custodians would read it to you: ([A-Z0-9-]+)\.", printed).group(1)
    memberships = first.get("/console/memberships").text
    assert fingerprint in memberships
    decided = _send(first, "/console/memberships", form_action(memberships, "recovery"), decision="confirm")
    assert decided.status_code == 303
    assert "No recovery key is waiting." in first.get("/console/memberships").text

    # Offboarding: the administrator asks; the officer signs it from "What needs you".
    offboarding = admin.get("/console/admin/offboarding").text
    second_id = re.search(r'<option value="(\d+)">Second Officer', offboarding).group(1)
    asked = _send(admin, "/console/admin/offboarding", "/console/admin/offboarding", leaver=second_id)
    assert asked.status_code == 303
    assert f'href="/console/roster#offboard-{second_id}"' in first.get("/console/").text
    signed = _send(first, "/console/roster", "/console/roster/sign", kind="offboard", officer=second_id,
                   confirm_passphrase=people["Officer"].passphrase)
    assert signed.status_code == 303
    assert sign_in(app.test_client(), people["Second officer"]).status_code != 303


def form_action(html: str, word: str) -> str:
    [action] = {a for a in re.findall(r'<form method="post" action="([^"]+)"', html) if word in a}
    return action


def test_the_demo_signs_the_sealing_pages_bundle_with_the_roots_it_serves(demo_dir, monkeypatch):
    # `make run`'s sealing page needs a signed bundle whose roots are the portal's own, and serves
    # its release key from the data directory only as the Makefile says (the demo's, unchecked).
    from crypto import bundle
    from tests.support.sealing import unb64
    data_dir, _ = demo_dir
    makefile = (ROOT / "Makefile").read_text()
    assert "PORTAL_RELEASE_KEY=$(abspath $(DATA))/seal-bundle/release-key.json PORTAL_RELEASE_KEY_UNCHECKED=1" in makefile
    assert _app(data_dir).test_client().get("/static/seal/release-key.json").status_code == 404
    monkeypatch.setenv("PORTAL_RELEASE_KEY", str(data_dir.absolute() / "seal-bundle" / "release-key.json"))
    monkeypatch.setenv("PORTAL_RELEASE_KEY_UNCHECKED", "1")
    client = _app(data_dir).test_client()
    got = {name: client.get(f"/static/seal/{name}")
           for name in ("release-key.json", "bundle-manifest.json", "bundle-manifest.json.sig")}
    assert {name: r.status_code for name, r in got.items()} == dict.fromkeys(got, 200)
    signature = got["bundle-manifest.json.sig"].data
    signed = bundle.verify_manifest(got["bundle-manifest.json"].data, signature, bundle.signer_of(signature))
    served = client.get("/disclose/sealed/roots").get_json()["roots"]
    # (A fresh demo's channel has no roster yet; `make run` signs again at each start.)
    assert {str(c): r for c, r in signed.roots.items()} == {c: unb64(r) for c, r in served.items()}
