"""Confidentiality of the discloser's identity (s 17): sealed apart, released only with consent or a ground
(and then a second officer), every release audited and shown to the discloser; exports leave it out."""
from __future__ import annotations

import pytest

from portal.core.context import open_context
from tests.conftest import MARKER, add_account
from tests.support import csrf_token, database, files_containing
from tests.support.console import sign_in
from tests.support.workflow import disclose_to, officer_on_case, open_status, post

CONTACT = f"Jo, 021 555 0199 {MARKER}"
IDENTIFYING = "I am the only night-shift accountant."


@pytest.fixture
def case(app, installation):
    """A disclosure with contact details, read by Ana and Carol; their console clients, the case URL, the
    discloser's status client."""
    carol = add_account(installation.data_dir, "officer", "carol@agency.govt.nz", "Carol Second", ["Audit and Risk"])
    discloser = app.test_client()
    receipt = disclose_to(discloser, contact=CONTACT, identifying=IDENTIFYING)
    open_status(discloser, receipt)
    ana, url = officer_on_case(app, installation.officer)
    carol_client, _ = officer_on_case(app, carol)
    return {"ana": ana, "carol": carol_client, "url": url, "discloser": discloser, "passphrase": installation.officer.passphrase,
            "carol_passphrase": carol.passphrase}


def release(client, url, passphrase, **fields):
    return post(client, url + "/identity", url, confirm_passphrase=passphrase, **fields)


def events(installation, prefix="identity"):
    ctx = open_context(installation.data_dir)
    return [row[0] for row in ctx.db.execute("SELECT event FROM audit_log WHERE event LIKE ? ORDER BY seq",
                                             [prefix + "%"]).fetchall()]


def test_contact_details_are_sealed_apart_and_never_stored_in_clear(case, installation):
    ctx = open_context(installation.data_dir)
    assert ctx.db.execute("SELECT COUNT(*) FROM case_fields WHERE name = 'contact'").fetchone()[0] == 0
    assert ctx.db.execute("SELECT name FROM identity_fields ORDER BY name").fetchall() == [("contact",), ("identifying",)]
    assert ctx.db.execute("SELECT COUNT(*) FROM identity_keys").fetchone()[0] == 2   # Ana and Carol
    page = case["ana"].get(case["url"]).text
    assert "021 555 0199" in page and IDENTIFYING in page
    assert files_containing(installation.data_dir, MARKER.encode()) == []


def test_a_release_is_refused_without_consent_or_ground_and_asks_the_passphrase(case, installation):
    ana, url = case["ana"], case["url"]
    asked = post(ana, url + "/identity", url, recipient="Police", ground="investigation", reason="Assault.")
    assert asked.status_code == 200 and 'name="confirm_passphrase"' in asked.text
    refused = release(ana, url, case["passphrase"], recipient="Detective Smith, NZ Police", ground="", reason="Needed.")
    assert refused.status_code == 400 and "without one, the identity is not released" in refused.text
    refused = release(ana, url, case["passphrase"], recipient="Detective Smith, NZ Police", ground="gossip", reason="x")
    assert refused.status_code == 400
    assert events(installation) == []
    assert 'id="identity-releases"' not in case["discloser"].get("/status").text


def test_with_consent_asked_through_the_status_page(case, installation):
    ana, url, discloser = case["ana"], case["url"], case["discloser"]
    fields = dict(recipient="Ms Rangi, Office of the Auditor-General", ground="consent",
                  reason="They are investigating the same invoices.")
    first = release(ana, url, case["passphrase"], **fields)
    assert first.status_code == 400 and "has not consented" in first.text
    status = discloser.get("/status").text
    assert "may they tell Ms Rangi, Office of the Auditor-General who you are?" in status
    assert discloser.post("/status/consent", data={"csrf_token": csrf_token(status), "request": "1",
                                                   "answer": "yes"}).status_code == 303
    assert release(ana, url, case["passphrase"], **fields).status_code == 303
    page = ana.get(url).text
    assert 'data-release="1" data-state="released"' in page and 'data-answer="yes"' in page
    status = discloser.get("/status").text
    assert "your identity was given to Ms Rangi, Office of the Auditor-General" in status
    assert "They are investigating the same invoices." in status
    assert events(installation) == ["identity_consent_asked", "identity_release"]


def test_a_ground_without_consent_needs_a_second_officer(case, installation):
    ana, carol, url, discloser = case["ana"], case["carol"], case["url"], case["discloser"]
    unconsulted = release(ana, url, case["passphrase"], recipient="WorkSafe inspector", ground="health_safety",
                          reason="Workers are at risk of injury now.")
    assert unconsulted.status_code == 400 and "Record whether the discloser was consulted" in unconsulted.text
    assert release(ana, url, case["passphrase"], recipient="WorkSafe inspector", ground="health_safety",
                   reason="Workers are at risk of injury now.", consultation="not_practicable",
                   consultation_note="The risk is immediate.").status_code == 303
    assert ('Consulting the discloser first was not practicable:<div class="typed"><p>The risk is immediate.</p></div>'
            in ana.get(url).text)
    assert 'data-release="1" data-state="pending"' in ana.get(url).text
    assert "your identity was given" not in discloser.get("/status").text
    alone = post(ana, url + "/identity/1/confirm", url, confirm_passphrase=case["passphrase"])
    assert alone.status_code == 400 and "Another officer must confirm" in alone.text
    assert post(carol, url + "/identity/1/confirm", url, confirm_passphrase=case["carol_passphrase"]).status_code == 303
    assert 'data-release="1" data-state="released"' in ana.get(url).text
    status = discloser.get("/status").text
    assert "your identity was given to WorkSafe inspector" in status and "Workers are at risk" in status
    assert events(installation) == ["identity_release_requested", "identity_release"]


@pytest.mark.parametrize("ground", ["investigation", "natural_justice"])
def test_a_release_for_an_investigation_or_natural_justice_needs_the_discloser_consulted(case, installation, ground):
    """s 17(3): consulting first is required for these two grounds, not only where practicable."""
    ana, url = case["ana"], case["url"]
    refused = release(ana, url, case["passphrase"], recipient="The investigator", ground=ground, reason="Needed.",
                      consultation="not_practicable", consultation_note="Busy.")
    assert refused.status_code == 400 and "must be consulted before a release on this ground" in refused.text
    assert events(installation) == []
    assert release(ana, url, case["passphrase"], recipient="The investigator", ground=ground, reason="Needed.",
                   consultation="consulted", consultation_note="By message.").status_code == 303


def test_an_export_leaves_the_identity_out_by_default(case, installation):
    ana, url = case["ana"], case["url"]
    plain = post(ana, url + "/export", url, confirm_passphrase=case["passphrase"], recipient="")
    assert plain.status_code == 200 and plain.headers["Content-Disposition"].startswith("attachment;")
    assert "Invoices paid twice." in plain.text and "021 555 0199" not in plain.text and IDENTIFYING not in plain.text
    assert "left out" in plain.text
    refused = post(ana, url + "/export", url, confirm_passphrase=case["passphrase"], recipient="NZ Police",
                   include_identity="y")
    assert refused.status_code == 400 and "record the release first" in refused.text
    assert release(ana, url, case["passphrase"], recipient="NZ Police", ground="law_enforcement",
                   reason="A fraud inquiry.", consultation="consulted",
                   consultation_note="By message on Monday.").status_code == 303
    assert post(case["carol"], url + "/identity/1/confirm", url,
                confirm_passphrase=case["carol_passphrase"]).status_code == 303
    named = post(ana, url + "/export", url, confirm_passphrase=case["passphrase"], recipient="NZ Police",
                 include_identity="y")
    assert named.status_code == 200 and "021 555 0199" in named.text and IDENTIFYING in named.text
    assert events(installation, "case_export") == ["case_export", "case_export"]


def test_a_referral_offers_an_export_for_its_authority_that_leaves_the_identity_out(case, installation):
    from tests.support.referral import authority_id
    ana, url = case["ana"], case["url"]
    oag = authority_id(ana.get(url).text, "Controller and Auditor-General")
    assert post(ana, url + "/referral", url, authority=oag, concerns="general", consultation="consulted",
                consultation_note="Agreed by message.", reason="It concerns public funds.").status_code == 303
    page = ana.get(url).text
    button = page.split('id="referral-list"')[1].split("</ul>")[0]
    assert 'name="recipient" value="Controller and Auditor-General"' in button
    exported = post(ana, url + "/export", url, confirm_passphrase=case["passphrase"],
                    recipient="Controller and Auditor-General")
    assert exported.status_code == 200 and exported.headers["Content-Disposition"].startswith("attachment;")
    assert "Prepared for: Controller and Auditor-General" in exported.text
    assert "Referred (s 16) on " in exported.text and " to the Controller and Auditor-General" in exported.text
    assert "Invoices paid twice." in exported.text
    assert "021 555 0199" not in exported.text and IDENTIFYING not in exported.text and "left out" in exported.text
    # An export for anyone else does not mention the referral.
    other = post(ana, url + "/export", url, confirm_passphrase=case["passphrase"], recipient="An investigator")
    assert other.status_code == 200 and "Prepared for: An investigator" in other.text
    assert "Referred (s 16)" not in other.text and "Auditor-General" not in other.text
    assert events(installation, "case_export") == ["case_export", "case_export"]


def test_a_consent_or_release_written_into_the_database_counts_for_nothing(case, installation):
    ana, carol, url, discloser = case["ana"], case["carol"], case["url"], case["discloser"]
    fields = dict(recipient="A journalist", ground="consent", reason="They asked.")
    assert release(ana, url, case["passphrase"], **fields).status_code == 400
    assert release(ana, url, case["passphrase"], recipient="Someone", ground="investigation", reason="Needed.",
                   consultation="consulted").status_code == 303
    with database.connect(installation.data_dir) as conn:
        conn.execute("UPDATE consent_requests SET answer = 'yes', answer_day = '2026-01-01'")
        conn.execute("UPDATE identity_releases SET state = 'released', confirmed_day = '2026-01-01'")
    assert release(ana, url, case["passphrase"], **fields).status_code == 400     # no consent on record
    page = ana.get(url).text
    assert 'data-answer=""' in page and 'data-state="released"' not in page
    assert "your identity was given to" not in discloser.get("/status").text
    # And the confirmation a second officer gives afterwards is refused: the record no longer says pending.
    refused = post(carol, url + "/identity/1/confirm", url, confirm_passphrase=case["carol_passphrase"])
    assert refused.status_code == 400
