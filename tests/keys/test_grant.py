"""Access grants over HTTP (issue 16): an officer who reads a case re-seals its keys (case key, officers-only
key, identity key) to a confirmed fellow officer of the channel, one case or the whole channel, skipping cases
that exclude that officer; the passphrase is asked again and each grant is audited."""
from __future__ import annotations

import re

import pytest

from portal.core.context import open_context
from tests.conftest import add_account
from tests.support import csrf_token, receipt_from
from tests.support.console import case_links, sign_in
from tests.support.conflicts import disclose_excluding
from tests.support.workflow import disclose_to, post
from tests.support.keys import CONTACT, NOTE



def refs(html: str, element_id: str) -> list[str]:
    m = re.search(rf'<ul id="{element_id}">(.*?)</ul>', html, re.S)
    return re.findall(r'data-ref="([^"]+)"', m.group(1)) if m else []


def option_value(html: str, label_start: str) -> str:
    m = re.search(rf'<option value="([0-9]+)">{re.escape(label_start)}', html)
    assert m, f"no option for {label_start}"
    return m.group(1)


def grant(client, person, *, channel="Audit and Risk", officer_label="Cat Colleague", case="", passphrase=None):
    """Post the grant form, then the passphrase page it answers with; return the final response."""
    page = client.get("/console/access/").text
    fields = {"csrf_token": csrf_token(page), "channel": channel, "officer": option_value(page, officer_label),
              "case": case}
    asked = client.post("/console/access/grant", data=fields)
    assert asked.status_code == 200 and 'name="confirm_passphrase"' in asked.text
    return client.post("/console/access/grant", data={**fields, "csrf_token": csrf_token(asked.text),
                                                      "confirm_passphrase": passphrase or person.passphrase})


@pytest.fixture
def cases(app, installation):
    """An earlier case (made before Cat joined, with a note and contact details), then Cat joins the channel,
    then a case whose discloser excluded Cat."""
    discloser = app.test_client()
    disclose_to(discloser, details="Invoices paid twice.", contact=CONTACT)
    ana = app.test_client()
    assert sign_in(ana, installation.officer).status_code == 303
    [earlier] = case_links(ana.get("/console/").text)
    assert post(ana, earlier + "/notes", note=NOTE).status_code == 303
    cat = add_account(installation.data_dir, "officer", "cat@agency.govt.nz", "Cat Colleague", ["Audit and Risk"])
    response = disclose_excluding(app.test_client(), "Cat Colleague", details="About Cat's team.")
    assert response.status_code == 200 and receipt_from(response.text)
    excluded = [link for link in case_links(ana.get("/console/").text) if link != earlier]
    assert len(excluded) == 1
    return ana, cat, earlier.rsplit("/", 1)[1], excluded[0].rsplit("/", 1)[1]


def test_a_channel_grant_shares_every_key_skips_the_excluded_case_and_is_audited(app, installation, cases):
    ana, cat, earlier, excluded = cases
    cat_client = app.test_client()
    assert sign_in(cat_client, cat).status_code == 303
    assert case_links(cat_client.get("/console/").text) == []
    assert cat_client.get(f"/console/cases/{earlier}").status_code == 404

    done = grant(ana, installation.officer)
    assert done.status_code == 200, done.text
    assert refs(done.text, "granted") == [earlier]
    assert refs(done.text, "skipped-excluded") == [excluded]

    # Cat now reads the earlier case whole: its fields, the officers-only note and the contact details.
    page = cat_client.get(f"/console/cases/{earlier}")
    assert page.status_code == 200
    assert "Invoices paid twice." in page.text and NOTE in page.text and CONTACT in page.text
    assert "Cat Colleague" in re.search(r'id="readers">(.*?)</dd>', page.text, re.S).group(1)
    assert cat_client.get(f"/console/cases/{excluded}").status_code == 404

    ctx = open_context(installation.data_dir)
    cat_id = ctx.db.execute("SELECT id FROM accounts WHERE email = ?", [cat.email]).fetchone()[0]
    for table in ("case_keys", "internal_keys", "identity_keys"):
        held = {r[0] for r in ctx.db.execute(f"SELECT c.ref FROM {table} k JOIN cases c ON c.id = k.case_id "
                                             "WHERE k.account_id = ?", [cat_id]).fetchall()}
        assert held == {earlier}, table
    entries = ctx.db.execute("SELECT actor, subject, case_ref FROM audit_log WHERE event = 'grant'").fetchall()
    ana_id = ctx.db.execute("SELECT id FROM accounts WHERE email = ?", [installation.officer.email]).fetchone()[0]
    assert entries == [(ana_id, cat_id, earlier)]

    # Granting again changes nothing and says so.
    again = grant(ana, installation.officer)
    assert refs(again.text, "granted") == [] and "1 case they could read already" in again.text


def test_a_single_case_grant_of_an_excluding_case_is_refused(app, installation, cases):
    ana, cat, earlier, excluded = cases
    refused = grant(ana, installation.officer, case=excluded)
    assert refused.status_code == 400
    assert "asked that Cat Colleague not see this case" in refused.text
    ctx = open_context(installation.data_dir)
    assert ctx.db.execute("SELECT COUNT(*) FROM audit_log WHERE event = 'grant'").fetchone()[0] == 0
    # One case by its reference (typed in lower case) is shared alone.
    done = grant(ana, installation.officer, case=earlier.lower())
    assert refs(done.text, "granted") == [earlier]


def test_a_wrong_passphrase_grants_nothing_and_strangers_cannot_be_granted(app, installation, cases):
    ana, cat, earlier, excluded = cases
    wrong = grant(ana, installation.officer, passphrase="not my passphrase at all")
    assert wrong.status_code == 400 and "Nothing was done yet" in wrong.text
    ctx = open_context(installation.data_dir)
    assert ctx.db.execute("SELECT COUNT(*) FROM audit_log WHERE event = 'grant'").fetchone()[0] == 0
    # Ben (another channel) is not offered and a forged id for him is refused.
    page = ana.get("/console/access/").text
    assert "Ben Other" not in page
    ben_id = ctx.db.execute("SELECT id FROM accounts WHERE email = ?", [installation.other_officer.email]).fetchone()[0]
    fields = {"csrf_token": csrf_token(page), "channel": "Audit and Risk", "officer": str(ben_id), "case": "",
              "confirm_passphrase": installation.officer.passphrase}
    assert ana.post("/console/access/grant", data=fields).status_code == 400
    # A case of another channel, or one that does not exist, answers 404 alike.
    fields["officer"] = option_value(page, "Cat Colleague")
    fields["case"] = "PD-NOSUCHCASE"
    assert ana.post("/console/access/grant", data=fields).status_code == 404
    assert ctx.db.execute("SELECT COUNT(*) FROM case_keys WHERE account_id = ?", [ben_id]).fetchone()[0] == 0
