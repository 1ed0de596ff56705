"""Conflicts of interest over HTTP: a discloser excludes officers (no key, not listed, 404), excluding everybody
is refused before anything is stored, and officers' declared interests are shown to fellow readers."""
from __future__ import annotations

import json
import re

import pytest

import crypto
from portal.core.context import open_context
from tests.conftest import MARKER, add_account
from tests.support import csrf_token, disclosure_fields, files_containing, post_multipart, receipt_from
from tests.support.console import case_links, sign_in
from tests.support.workflow import officer_on_case, open_status, post
from tests.support.conflicts import disclose_excluding


@pytest.fixture
def colleague(installation):
    return add_account(installation.data_dir, "officer", "cat@agency.govt.nz", "Cat Colleague", ["Audit and Risk"])






def private_key(installation, person) -> bytes:
    ctx = open_context(installation.data_dir)
    wrapped = ctx.db.execute("SELECT wrapped_private_key FROM accounts WHERE email = ?", [person.email]).fetchone()[0]
    return crypto.unwrap_private_key(wrapped, person.passphrase)


def test_an_excluded_officer_gets_no_key_no_listing_and_a_404(app, installation, colleague):
    discloser = app.test_client()
    response = disclose_excluding(discloser, "Cat Colleague", files=(("attachments", "ledger.csv", b"a,b\n" + MARKER.encode()),))
    assert response.status_code == 200, response.text
    receipt = receipt_from(response.text)

    ana, case = officer_on_case(app, installation.officer)
    page = ana.get(case).text
    assert re.search(r'id="excluded">Cat Colleague', page)
    readers = re.search(r'id="readers">(.*?)</dd>', page, re.S).group(1)
    assert "Ana Officer" in readers and "Cat Colleague" not in readers
    [download] = re.findall(r'href="(/console/cases/[^"]+/attachments/[^"]+)"', page)

    cat = app.test_client()
    assert sign_in(cat, colleague).status_code == 303
    assert case_links(cat.get("/console/").text) == []
    assert cat.get(case).status_code == 404
    assert cat.get(download).status_code == 404
    assert cat.get(case).text == cat.get("/console/cases/PD-NOSUCHCASE").text
    assert cat.post(case + "/notes", data={"csrf_token": csrf_token(cat.get("/console/").text),
                                           "note": "Let me see."}).status_code == 404

    # Cat's own key opens nothing of the case: no sealed copy of either key is addressed to Cat, and none opens.
    ctx = open_context(installation.data_dir)
    cat_key = private_key(installation, colleague)
    cat_id = ctx.db.execute("SELECT id FROM accounts WHERE email = ?", [colleague.email]).fetchone()[0]
    sealed = ctx.db.execute("SELECT account_id, sealed_key FROM case_keys UNION ALL "
                            "SELECT account_id, sealed_key FROM internal_keys").fetchall()
    assert sealed and cat_id not in {account for account, _ in sealed}
    for _, blob in sealed:
        with pytest.raises(crypto.DecryptionError):
            crypto.open_sealed(cat_key, blob)
    # Ana's key does open them (the test would prove nothing otherwise).
    ana_key = private_key(installation, installation.officer)
    assert crypto.open_sealed(ana_key, ctx.db.execute("SELECT sealed_key FROM case_keys WHERE recipient LIKE 'account:%'").fetchone()[0])

    # The list of who was excluded is ciphertext only: not in the case row, the audit log or any file.
    (exclusions_ct,) = ctx.db.execute("SELECT exclusions_ct FROM cases").fetchone()
    assert exclusions_ct and b"Cat" not in exclusions_ct
    # Nor is the exclusion in the audit log at all: its place in the chain would date the disclosure.
    assert all("Cat" not in str(row) and cat_id not in json.loads(row[1] or "{}").values()
               for row in ctx.db.execute("SELECT event, detail FROM audit_log").fetchall())
    assert ctx.db.execute("SELECT COUNT(*) FROM audit_log WHERE event = 'exclusion'").fetchone()[0] == 0
    assert files_containing(installation.data_dir, MARKER.encode()) == []
    # And the discloser's own view is unchanged.
    assert 'data-status="received"' in open_status(discloser, receipt)


def test_excluding_every_officer_of_the_channel_is_refused_before_anything_is_stored(app, installation, colleague):
    client = app.test_client()
    response = disclose_excluding(client, "Ana Officer", "Cat Colleague", details="Invoices paid twice.",
                                  files=(("attachments", "ledger.csv", b"x" * 4096 + MARKER.encode()),))
    assert response.status_code == 400
    assert "every integrity officer of Audit and Risk not see your disclosure" in response.text
    assert "Nothing was sent" in response.text
    assert "Invoices paid twice." in response.text  # what was typed comes back
    assert 'href="#exclude"' in response.text  # the problem summary links to the checkboxes
    ctx = open_context(installation.data_dir)
    assert ctx.db.execute("SELECT COUNT(*) FROM cases").fetchone()[0] == 0
    assert list((installation.data_dir / "blobs").rglob("*")) == [] or all(
        p.is_dir() for p in (installation.data_dir / "blobs").rglob("*"))
    # Excluding one of the two is accepted.
    response = disclose_excluding(client, "Cat Colleague", details="Invoices paid twice.")
    assert response.status_code == 200 and receipt_from(response.text)


def test_an_unknown_officer_cannot_be_excluded(app, installation):
    client = app.test_client()
    page = client.get("/disclose").text
    response = post_multipart(client, "/disclose", disclosure_fields(csrf_token(page), "Something.") + [("exclude", "999")])
    assert response.status_code == 400 and "Something." in response.text
    assert open_context(installation.data_dir).db.execute("SELECT COUNT(*) FROM cases").fetchone()[0] == 0


def test_declared_interests_are_shown_to_fellow_readers(app, installation, colleague):
    disclose_excluding(app.test_client())
    cat, case = officer_on_case(app, colleague)
    assert post(cat, "/console/interests", interest="My brother works in the Procurement team.").status_code == 303
    assert post(cat, "/console/interests", interest="   ").status_code == 400
    mine = cat.get("/console/interests").text
    assert "My brother works in the Procurement team." in mine
    ana, _ = officer_on_case(app, installation.officer)
    assert re.search(r'id="interests">.*Cat Colleague: My brother works in the Procurement team\.', ana.get(case).text, re.S)
    # Only your own declarations can be removed.
    interest_id = re.search(r'data-interest="([0-9]+)"', mine).group(1)
    refused = post(ana, f"/console/interests/{interest_id}/remove", page="/console/interests")
    assert refused.status_code == 404
    assert post(cat, f"/console/interests/{interest_id}/remove", page="/console/interests").status_code == 303
    assert "My brother" not in ana.get(case).text
    # Ben reads no case with Cat: nothing of Cat's is shown to him anywhere.
    ben = app.test_client()
    sign_in(ben, installation.other_officer)
    assert "Cat Colleague" not in ben.get("/console/interests").text
