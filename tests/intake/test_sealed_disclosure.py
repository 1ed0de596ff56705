"""A disclosure sealed in the discloser's browser (issue 27), through HTTP: the test plays the
browser with the Python crypto/ (tests/support/sealing.py), the server stores what it sealed, the
officers read it like a case the server sealed, and the discloser checks status with and without
script."""
from __future__ import annotations

import json

import pytest

import crypto
from portal.core.context import open_context
from portal.intake import sealed as sealed_domain
from portal.keys import accounts
from portal.records import casefiles
from portal.casework import identity as identity_records
from tests.conftest import officer_key
from tests.support import csrf_token, receipt_from
from tests.support.console import sign_in
from tests.support.discloser import disclose, open_status
from tests.support.sealing import (disclose_sealed, get_setup, post_json, seal_disclosure,
                                   status_with_script)

VALUES = {"category": "public_funds", "summary": "Payments to a director's company",
          "details": "The director approved invoices from a company he owns.",
          "disclosed_elsewhere": "no", "contact": "call 021 555 0101", "identifying": "I sit in finance"}


def only_case(data_dir):
    ctx = open_context(data_dir)
    [(case_id,)] = ctx.db.execute("SELECT id FROM cases").fetchall()
    return ctx, casefiles.get_case(ctx, case_id=case_id)


def test_a_disclosure_sealed_in_the_browser_is_stored_as_sent_and_the_officer_reads_it(client, installation):
    sealed, response = disclose_sealed(client, VALUES)
    assert response.status_code == 201, response.text
    assert response.get_json()["sealed_by"] == "browser"

    ctx, case = only_case(installation.data_dir)
    assert case.id == sealed.case_id and case.sealed_by == "browser" and case.status == "received"
    account, private_key = officer_key(ctx, installation.officer)
    case_key = casefiles.open_case_key(ctx, case.id, f"account:{account.id}", private_key)
    assert case_key == sealed.case_key
    fields = casefiles.read_fields(ctx, case.id, case_key)
    assert fields["details"] == VALUES["details"] and fields["category"] == "public_funds"
    assert identity_records.read_identity(ctx, case.id, account.id, private_key, fields) == {
        "contact": VALUES["contact"], "identifying": VALUES["identifying"]}
    # The database keeps a hash of the browser's lookup, never the lookup itself.
    (stored,) = ctx.db.execute("SELECT receipt_lookup FROM cases").fetchone()
    assert stored == crypto.lookup_hash(sealed.identity.lookup_id) != sealed.identity.lookup_id
    ctx.db.conn.close()

    # The officer's case page says how it was sealed, and shows what the browser sealed.
    officer = client.application.test_client()
    sign_in(officer, installation.officer)
    page = officer.get(f"/console/cases/{case.ref}")
    assert page.status_code == 200, page.text
    assert 'data-sealed-by="browser"' in page.text and "Sealed in" in page.text
    assert VALUES["details"] in page.text

    # The receipt page of the sealing page's session says it too; the code is not on it.
    received = client.get("/disclose/sealed/received")
    assert "sealed in your browser" in received.text and sealed.receipt not in received.text


def test_the_plaintext_form_still_says_sealed_by_the_server(client, installation):
    response = disclose(client, details="A plain disclosure", files=())
    assert "sealed by the portal&#39;s server" in response.text or "sealed by the portal's server" in response.text
    receipt = receipt_from(response.text)
    ctx, case = only_case(installation.data_dir)
    assert case.sealed_by == "server"
    ctx.db.conn.close()
    assert open_status(client, receipt).status_code == 303
    page = client.get("/status").text
    assert 'data-sealed-by="server"' in page
    officer = client.application.test_client()
    sign_in(officer, installation.officer)
    assert 'data-sealed-by="server"' in officer.get(f"/console/cases/{case.ref}").text
