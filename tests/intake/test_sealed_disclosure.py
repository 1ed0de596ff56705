"""A disclosure sealed in the discloser's browser (issue 27), through HTTP: the test plays the
browser with the Python crypto/ (tests/support/sealing.py), the server stores what it sealed, the
officers read it like a case the server sealed, and the discloser checks status with and without
script."""
from __future__ import annotations

import datetime as dt
import html
import json

import pytest

import crypto
from portal.casework import identity as identity_records
from portal.core.context import open_context
from portal.intake import sealed as sealed_domain
from portal.keys import accounts
from portal.records import casefiles
from tests.conftest import officer_key
from tests.support import csrf_token, receipt_from
from tests.support.console import sign_in
from tests.support.discloser import disclose, open_status
from tests.support.sealing import (
    disclose_sealed,
    get_setup,
    post_json,
    seal_disclosure,
    status_with_script,
)

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
    # The day to hear by in words, as the receipt page without script says it (review 26, L3).
    answer_by = dt.date.fromisoformat(response.get_json()["answer_by"])
    assert response.get_json()["answer_by_words"] == f"{answer_by.day} {answer_by:%B %Y}"

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
    # Never more than is true: what the discloser sends later without script the server seals (L1).
    assert "without script is opened and sealed by the server" in " ".join(html.unescape(page.text).split())
    assert VALUES["details"] in page.text
    # Listed in the inbox, its category is recorded in the clear from the sealed field (untrusted:
    # only one of the Act's), as for cases made before categories were kept in the clear.
    assert officer.get("/console/").status_code == 200
    ctx = open_context(installation.data_dir)
    assert ctx.db.execute("SELECT category FROM cases").fetchone()[0] == "public_funds"
    ctx.db.conn.close()

    # The receipt page of the sealing page's session says it too; the code is not on it.
    received = client.get("/disclose/sealed/received")
    assert "sealed in your browser" in received.text and sealed.receipt not in received.text
    assert 'id="answer-by"' in received.text
    assert client.get("/disclose/sealed/received").status_code == 404  # once: the session forgets it


def test_the_setup_gives_the_roster_for_the_browser_to_verify_itself(client, installation):
    from tests.support.sealing import unb64
    setup = get_setup(client)
    channel = next(c for c in setup["channels"] if c["name"] == "Audit and Risk")
    statements = [crypto.SignedStatement(unb64(s["body"]), tuple((unb64(a), unb64(b)) for a, b in s["signatures"]))
                  for s in channel["roster"]]
    [reader] = channel["readers"]
    root = crypto.decode_statement(statements[0].body).signing_key
    verified = crypto.verify_chain(root, channel["id"], statements)
    assert verified.ok and verified.readers[reader["officer"]].key == unb64(reader["public_key"])
    assert setup["limits"]["details"] == 800_000 and setup["proof"]["challenge"].startswith("p1.")


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


def _count_derivations(monkeypatch) -> list:
    """Every Argon2id run from now on, the server's and the test-as-browser's alike."""
    import crypto.kdf
    calls = []
    real = crypto.kdf.argon2id

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(crypto.kdf, "argon2id", counting)
    return calls


def test_status_with_script_spends_no_derivation_and_without_script_compares_the_hash(client, installation, monkeypatch):
    sealed, response = disclose_sealed(client, VALUES)
    assert response.status_code == 201, response.text
    derivations = _count_derivations(monkeypatch)

    # With script: a wrong receipt's lookup costs the server no Argon2id derivation.
    wrong = crypto.derive_receipt_identity(crypto.new_receipt(), open_context(installation.data_dir).settings.install_salt,
                                           crypto.FAST_TEST_PARAMS).lookup_id
    derivations.clear()
    _, answer = status_with_script(client, wrong)
    assert answer.status_code == 404 and answer.get_json()["error"] == "not-found"
    _, answer = status_with_script(client, sealed.identity.lookup_id)
    assert answer.status_code == 200, answer.text
    assert derivations == []
    opened = answer.get_json()
    assert opened["case_id"] == sealed.case_id and opened["sealed_by"] == "browser"
    from tests.support.sealing import unb64
    assert crypto.open_sealed(sealed.identity.private_key, unb64(opened["sealed_case_key"])) == sealed.case_key
    [status] = opened["statuses"]
    assert status["status"] == "received"

    # Without script: the server derives the lookup from the typed receipt and compares its hash.
    fresh = client.application.test_client()
    assert open_status(fresh, sealed.receipt).status_code == 303
    assert derivations == [1]
    page = fresh.get("/status").text
    # The browser's own status record verifies, its fields open, and the page says how it was sealed.
    assert 'data-status="received"' in page and VALUES["details"] in page
    assert 'data-sealed-by="browser"' in page and "sealed in your browser" in page
    # It says what the server has just done, never that it saw nothing (the fresh review's L1).
    words = " ".join(page.split())
    assert "never saw" not in words and "the server opened your disclosure with your receipt" in words
    # A wrong receipt typed without script opens nothing.
    assert "We could not open a disclosure" in open_status(fresh, crypto.new_receipt()).text


LOW_ORDER = bytes.fromhex("e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800")


def _spoil(body: dict, how: str) -> dict:
    from tests.support.sealing import b64
    body = json.loads(json.dumps(body))
    if how == "plaintext member":
        body["details"] = "in clear"
    elif how == "unknown member":
        body["note"] = "x"
    elif how == "low-order key":
        body["discloser"]["public_key"] = b64(LOW_ORDER)
    elif how == "zero key":
        body["discloser"]["public_key"] = b64(bytes(32))
    elif how == "bad signing key":
        body["discloser"]["signing_key"] = b64(bytes(32))
    elif how == "field not a ciphertext":
        body["fields"]["summary"] = b64(b"Payments to a director's company")
    elif how == "field of the wrong size":
        body["fields"]["summary"] = b64(base64_field(body["fields"]["summary"])[:-1])
    elif how == "field too large":
        body["fields"]["summary"] = b64(crypto.encrypt_field(bytes(32), body["case_id"], "summary", b"x" * 1100))
    elif how == "short envelope":
        body["case_key"][0]["sealed"] = b64(base64_field(body["case_key"][0]["sealed"])[:-1])
    elif how == "low-order envelope":
        sealed = bytearray(base64_field(body["case_key"][0]["sealed"]))
        sealed[2:34] = LOW_ORDER
        body["case_key"][0]["sealed"] = b64(bytes(sealed))
    elif how == "a field missing":
        del body["fields"]["details"]
    elif how == "status record not the first":
        body["status"] = b64(crypto.encrypt_field(bytes(32), body["case_id"], "status", b"x" * 100))
    return body


def base64_field(text: str) -> bytes:
    from tests.support.sealing import unb64
    return unb64(text)


@pytest.mark.parametrize("how", ["plaintext member", "unknown member", "low-order key", "zero key", "bad signing key",
                                 "field not a ciphertext", "field of the wrong size", "field too large",
                                 "short envelope", "low-order envelope", "a field missing",
                                 "status record not the first"])
def test_anything_but_a_well_formed_sealed_disclosure_is_refused_and_nothing_is_stored(client, installation, how):
    setup = get_setup(client)
    body = _spoil(seal_disclosure(setup, VALUES).body, how)
    response = post_json(client, "/disclose/sealed", body, setup["csrf_token"])
    assert response.status_code == 400, response.text
    assert response.get_json()["error"] == ("plaintext" if how == "plaintext member" else "malformed")
    ctx = open_context(installation.data_dir)
    assert ctx.db.execute("SELECT COUNT(*) FROM cases").fetchone()[0] == 0
    # The one-time token was not spent: the same page can send it again, sealed properly.
    assert post_json(client, "/disclose/sealed", seal_disclosure(setup, VALUES).body,
                     setup["csrf_token"]).status_code == 201


def test_a_form_body_and_a_missing_token_are_refused_unread(client, installation):
    from tests.support import post_multipart
    setup = get_setup(client)
    form = post_multipart(client, "/disclose/sealed", [("details", "in clear")],
                          [("attachments", "a.txt", b"in clear")], headers={"X-CSRFToken": setup["csrf_token"]})
    assert form.status_code == 400 and form.get_json()["error"] == "plaintext"
    body = seal_disclosure(setup, VALUES).body
    assert post_json(client, "/disclose/sealed", body, "not the token").status_code == 403
    for junk in (b"not json", b"[" * 200_000, "\u00e9".encode("latin-1"), b'{"v": 1}'):
        answer = client.post("/disclose/sealed", data=junk, content_type="application/json",
                             headers={"X-CSRFToken": setup["csrf_token"]})
        assert answer.status_code == 400 and answer.get_json()["error"] == "malformed"
    other = client.application.test_client()  # another browser's session: the token is not theirs
    assert post_json(other, "/disclose/sealed", body, setup["csrf_token"]).status_code == 403
    ctx = open_context(installation.data_dir)
    assert ctx.db.execute("SELECT COUNT(*) FROM cases").fetchone()[0] == 0


def test_envelopes_must_go_exactly_to_the_verified_readers_and_a_token_stores_one_case(client, installation):
    setup = get_setup(client)
    [reader] = next(c for c in setup["channels"] if c["name"] == "Audit and Risk")["readers"]
    # To nobody: the verified reader would get no key.
    missing = seal_disclosure(setup, VALUES, readers=())
    answer = post_json(client, "/disclose/sealed", missing.body, setup["csrf_token"])
    assert answer.status_code == 409 and answer.get_json()["error"] == "roster-changed"
    # To the reader, but naming another key than the one the roster admits.
    wrong_key = seal_disclosure(setup, VALUES)
    wrong_key.body["case_key"][0]["key_id"] = crypto.key_fingerprint(crypto.generate_keypair()[1])
    assert post_json(client, "/disclose/sealed", wrong_key.body, setup["csrf_token"]).status_code == 409
    # To an officer of another channel as well.
    extra = seal_disclosure(setup, VALUES)
    ben = next(c for c in setup["channels"] if c["name"] == "Procurement")["readers"][0]
    from tests.support.sealing import envelope, unb64
    extra.body["case_key"].insert(0, envelope(ben["recipient"], unb64(ben["public_key"]), extra.case_key))
    assert post_json(client, "/disclose/sealed", extra.body, setup["csrf_token"]).status_code == 409
    ctx = open_context(installation.data_dir)
    assert ctx.db.execute("SELECT COUNT(*) FROM cases").fetchone()[0] == 0
    good = seal_disclosure(setup, VALUES)
    assert post_json(client, "/disclose/sealed", good.body, setup["csrf_token"]).status_code == 201
    again = post_json(client, "/disclose/sealed", good.body, setup["csrf_token"])
    assert again.status_code == 409 and again.get_json()["error"] == "already-received"
    assert ctx.db.execute("SELECT COUNT(*) FROM cases").fetchone()[0] == 1
    assert reader["key_id"] == crypto.key_fingerprint(unb64(reader["public_key"]))


def test_a_reply_sealed_in_the_browser_reaches_the_officer(client, installation):
    from tests.support.sealing import seal_reply
    sealed, response = disclose_sealed(client, VALUES)
    assert response.status_code == 201
    setup, opened = status_with_script(client, sealed.identity.lookup_id)
    text = "More from me: the invoices are in the shared drive."
    body = seal_reply(setup, opened.get_json(), sealed.identity, text)
    answer = post_json(client, "/status/sealed/reply", body, setup["csrf_token"])
    assert answer.status_code == 201, answer.text
    again = post_json(client, "/status/sealed/reply", body, setup["csrf_token"])
    assert again.status_code == 409 and again.get_json()["error"] == "already-received"
    # Without the keyless session, nothing is stored.
    stranger = client.application.test_client()
    stranger_setup = stranger.get("/status/sealed/setup").get_json()
    assert post_json(stranger, "/status/sealed/reply", {**body, "submission_token": "another"},
                     stranger_setup["csrf_token"]).status_code == 404
    # A keyless session opens none of the pages that decrypt.
    assert 'name="receipt"' in client.get("/status").text

    ctx, case = only_case(installation.data_dir)
    account, private_key = officer_key(ctx, installation.officer)
    case_key = casefiles.open_case_key(ctx, case.id, f"account:{account.id}", private_key)
    from portal.records import case_history
    [message] = case_history.read_messages(ctx, case.id, case_key)
    assert message.author == "discloser" and message.body == text and message.verified is True
    assert ctx.db.execute("SELECT messages FROM case_quota WHERE case_id = ?", [case.id]).fetchone()[0] == 1
    ctx.db.conn.close()
    officer = client.application.test_client()
    sign_in(officer, installation.officer)
    assert text in officer.get(f"/console/cases/{case.ref}").text
    # The discloser's next status check with script brings the reply back, sealed.
    _, reopened = status_with_script(client, sealed.identity.lookup_id)
    [mine] = reopened.get_json()["messages"]
    assert mine["author"] == "discloser" and mine["id"] == body["message_id"]


def test_a_key_swapped_in_the_database_gets_no_envelope_and_the_verified_readers_still_receive(client, installation):
    """The sealing page verifies the roster and seals only to the keys it admits; the server's own
    check of the same roster expects exactly those: the swapped key is refused, the disclosure goes
    through to the verified reader."""
    from tests.conftest import add_account
    from tests.support.sealing import swap_officer_key
    cat = add_account(installation.data_dir, "officer", "cat@agency.govt.nz", "Cat Colleague", ["Audit and Risk"])
    attacker_private, attacker_public = swap_officer_key(installation.data_dir, cat.email)
    setup = get_setup(client)
    readers = next(c for c in setup["channels"] if c["name"] == "Audit and Risk")["readers"]
    swapped = next(r for r in readers if r["name"] == "Cat Colleague")
    assert swapped["key_id"] == crypto.key_fingerprint(attacker_public)  # the database's key, listed
    to_all = seal_disclosure(setup, VALUES)
    answer = post_json(client, "/disclose/sealed", to_all.body, setup["csrf_token"])
    assert answer.status_code == 409 and answer.get_json()["error"] == "roster-changed"
    verified = [r["recipient"] for r in readers if r is not swapped]
    good = seal_disclosure(setup, VALUES, readers=verified)
    assert post_json(client, "/disclose/sealed", good.body, setup["csrf_token"]).status_code == 201
    ctx, case = only_case(installation.data_dir)
    recipients = {r for (r,) in ctx.db.execute("SELECT recipient FROM case_keys WHERE case_id = ?", [case.id])}
    assert recipients == set(verified) | {"discloser"}
    for (sealed_key,) in ctx.db.execute("SELECT sealed_key FROM case_keys").fetchall():
        with pytest.raises(crypto.DecryptionError):
            crypto.open_sealed(attacker_private, sealed_key)


def test_a_sealed_disclosure_pays_the_forms_proof_of_work_or_ticket(client, installation):
    from tests.support.proofs import drop_ticket, solve
    setup = get_setup(client)
    # Without the setup's ticket cookie and without a proof: told when to come back, nothing kept.
    drop_ticket(client, "disclose")
    unpaid = seal_disclosure(setup, VALUES)
    answer = post_json(client, "/disclose/sealed", unpaid.body, setup["csrf_token"])
    assert answer.status_code == 503 and answer.get_json()["error"] == "come-back"
    assert answer.headers["Retry-After"]
    challenge = answer.get_json()["proof"]["challenge"]
    ctx = open_context(installation.data_dir)
    assert ctx.db.execute("SELECT COUNT(*) FROM cases").fetchone()[0] == 0
    # With the proof solved, as the page's script solves it: kept.
    paid = {**unpaid.body, "pow_challenge": challenge, "pow_solution": solve(challenge)}
    drop_ticket(client, "disclose")
    assert post_json(client, "/disclose/sealed", paid, setup["csrf_token"]).status_code == 201
    # The same proof again, for another disclosure: spent.
    again = {**seal_disclosure(get_setup(client), VALUES).body, "pow_challenge": challenge,
             "pow_solution": paid["pow_solution"]}
    drop_ticket(client, "disclose")
    setup_csrf = client.get("/disclose/sealed/setup").get_json()["csrf_token"]
    drop_ticket(client, "disclose")
    assert post_json(client, "/disclose/sealed", again, setup_csrf).status_code == 503
    assert ctx.db.execute("SELECT COUNT(*) FROM cases").fetchone()[0] == 1


def test_a_sealing_page_sending_a_ticket_past_its_time_is_told_so_and_its_sealed_body_goes_in_after(
        client, installation, monkeypatch):
    """As the no-script form says it (test_ticket_line): a ticket past its time is refused as such,
    "has run out", with a fresh proof; the same sealed body sent again with it goes in."""
    import time

    from tests.support.proofs import solve, ticket_name
    real = time.time

    def expired_ticket(purpose: str) -> str:
        """A ticket for `purpose`, bound to this session's form token, issued 45 minutes ago (past
        its coarse expiry), set as the page would have set it."""
        from portal.guard import tickets
        with client.session_transaction() as stored:
            bound = stored["csrf_token"]
        monkeypatch.setattr(time, "time", lambda: real() - 2700)
        value = tickets.ticket(client.application.config["PORTAL_SETTINGS"], purpose, bound).value
        monkeypatch.setattr(time, "time", real)
        client.set_cookie(ticket_name(purpose), value)
        return value

    def refused_then_sent(path: str, purpose: str, setup: dict, body: dict):
        old = expired_ticket(purpose)
        answer = post_json(client, path, body, setup["csrf_token"])
        message = answer.get_json()["message"]
        assert answer.status_code == 503 and answer.get_json()["error"] == "come-back"
        assert "has run out" in message and "What you wrote is still here" in message
        assert client.get_cookie(ticket_name(purpose)).value != old  # a fresh ticket with it
        challenge = answer.get_json()["proof"]["challenge"]
        paid = {**body, "pow_challenge": challenge, "pow_solution": solve(challenge)}
        return post_json(client, path, paid, setup["csrf_token"])

    setup = get_setup(client)
    sealed = seal_disclosure(setup, VALUES)
    assert refused_then_sent("/disclose/sealed", "disclose", setup, sealed.body).status_code == 201
    ctx, case = only_case(installation.data_dir)
    assert case.id == sealed.case_id
    ctx.db.conn.close()
    setup = client.get("/status/sealed/setup").get_json()
    opened = refused_then_sent("/status/sealed", "status", setup, {"v": 1, "lookup": sealed.identity.lookup_id})
    assert opened.status_code == 200, opened.text


def test_below_the_free_space_floor_nothing_sealed_is_taken(installation):
    from portal.core.config import load_settings
    from portal.web.app import create_app
    app = create_app(settings=load_settings(installation.data_dir, free_space_floor_bytes=2**62))
    app.config["TESTING"] = True
    client = app.test_client()
    setup = get_setup(client)
    answer = post_json(client, "/disclose/sealed", seal_disclosure(setup, VALUES).body, setup["csrf_token"])
    assert answer.status_code == 503 and answer.get_json()["error"] == "paused"
    upload = post_json(client, "/disclose/sealed/uploads", {"v": 1, "size": crypto.padded_blob_size(10)},
                       setup["csrf_token"])
    assert upload.status_code == 503 and upload.get_json()["error"] == "paused"
    ctx = open_context(installation.data_dir)
    assert ctx.db.execute("SELECT COUNT(*) FROM cases").fetchone()[0] == 0
    assert ctx.db.execute("SELECT COUNT(*) FROM sealed_uploads").fetchone()[0] == 0


def test_a_sealed_reply_carries_a_file_uploaded_in_parts(client, installation):
    import os

    from tests.support.sealing import b64, seal_file, seal_reply, unb64, upload_blob
    sealed, response = disclose_sealed(client, VALUES)
    assert response.status_code == 201
    setup, opened = status_with_script(client, sealed.identity.lookup_id)
    body = seal_reply(setup, opened.get_json(), sealed.identity, "The minutes are attached.")
    data = os.urandom(150_000)
    attachment_id, blob, _ = seal_file(sealed.case_key, sealed.case_id, "minutes.pdf", data)
    meta = {"name": "minutes.pdf", "type": "application/pdf", "size": len(data), "message": body["message_id"],
            "hidden": "unknown", "hidden_kinds": []}  # a PDF: the browser cannot check one
    meta_ct = crypto.encrypt_field(sealed.case_key, sealed.case_id, f"attachment:{attachment_id}",
                                   json.dumps(meta).encode())
    upload = upload_blob(client, setup["csrf_token"], blob)
    body["attachments"] = [{"id": attachment_id, "upload": upload, "meta": b64(meta_ct)}]
    answer = post_json(client, "/status/sealed/reply", body, setup["csrf_token"])
    assert answer.status_code == 201, answer.text
    _, reopened = status_with_script(client, sealed.identity.lookup_id)
    [listed] = reopened.get_json()["attachments"]
    assert listed["id"] == attachment_id and listed["message_id"] == body["message_id"]
    assert unb64(listed["meta"]) == meta_ct
    # The discloser's browser fetches the file as stored, and opens it with the case key.
    import io
    stored = client.get(f"/status/sealed/attachments/{attachment_id}")
    assert stored.status_code == 200 and stored.data == blob
    key = crypto.stream_key(sealed.case_key, sealed.case_id, attachment_id)
    opened_file = io.BytesIO()
    crypto.decrypt_stream(key, io.BytesIO(stored.data), opened_file, crypto.attachment_ad(sealed.case_id, attachment_id))
    assert opened_file.getvalue() == data
    assert client.get(f"/status/sealed/attachments/{'0' * 32}").status_code == 404
    assert client.application.test_client().get(f"/status/sealed/attachments/{attachment_id}").status_code == 404

    ctx, case = only_case(installation.data_dir)
    padded = crypto.padded_length(len(data)) + crypto.field_shape(unb64(body["body"]))
    assert ctx.db.execute("SELECT bytes FROM case_quota").fetchone()[0] == padded
    ctx.db.conn.close()
    officer = client.application.test_client()
    sign_in(officer, installation.officer)
    page = officer.get(f"/console/cases/{case.ref}").text
    assert "minutes.pdf" in page
    # Issue 26 review, L3: the browser could not check it; the portal can (a clean copy).
    assert "not checked by the discloser's browser" in page and "a kind of file the portal cannot check" not in page
    assert officer.get(f"/console/cases/{case.ref}/attachments/{attachment_id}").data == data


def test_an_oral_disclosures_printed_receipt_is_replaced_only_by_the_status_form(client, installation):
    from tests.support import receipt_from
    from tests.support.oral import record_oral
    officer = client.application.test_client()
    sign_in(officer, installation.officer)
    printed = receipt_from(record_oral(officer).text)
    ctx = open_context(installation.data_dir)
    lookup = crypto.derive_receipt_identity(printed, ctx.settings.install_salt, ctx.settings.receipt_params).lookup_id
    _, answer = status_with_script(client, lookup)
    assert answer.status_code == 409 and answer.get_json()["error"] == "new-receipt"
    replaced = open_status(client, printed)
    assert replaced.status_code == 200 and "receipt" in replaced.text
    fresh = receipt_from(replaced.text)
    lookup = crypto.derive_receipt_identity(fresh, ctx.settings.install_salt, ctx.settings.receipt_params).lookup_id
    _, answer = status_with_script(client, lookup)
    assert answer.status_code == 200 and answer.get_json()["sealed_by"] == "server"


def test_the_original_of_a_file_cleaned_in_the_browser_is_kept_for_the_discloser_alone_until_handed_over(
        client, installation):
    """Issue 26 review, M3: the sealing page keeps the original of a file it cleaned as the form
    does, its key sealed to the discloser's receipt; the officers open it only once handed over."""
    import hashlib
    import io
    import re

    from portal.hidden_details.images import clean_jpeg
    from tests.support import form_for
    from tests.support.hidden_files import PERSON, jpeg_with_gps
    from tests.support.sealing import b64, upload_blob
    photo = jpeg_with_gps()
    cleaned, found = clean_jpeg(photo)
    setup = get_setup(client)
    sealed = seal_disclosure(setup, VALUES)
    case_key, case_id = sealed.case_key, sealed.case_id
    attachment_id = "ab" * 16
    sink = io.BytesIO()
    crypto.encrypt_stream(crypto.stream_key(case_key, case_id, attachment_id), io.BytesIO(cleaned), sink,
                          crypto.attachment_ad(case_id, attachment_id))
    meta = {"name": "site.jpg", "type": "image/jpeg", "size": len(cleaned), "message": None,
            "sha256": hashlib.sha256(cleaned).hexdigest(), "hidden": "removed", "hidden_kinds": sorted(found)}
    own_key = crypto.new_case_key()
    original_blob = io.BytesIO()
    crypto.encrypt_stream(crypto.stream_key(own_key, case_id, attachment_id), io.BytesIO(photo), original_blob,
                          crypto.attachment_ad(case_id, f"original:{attachment_id}"))
    original_meta = {"name": "site.jpg", "size": len(photo), "sha256": hashlib.sha256(photo).hexdigest()}
    csrf = setup["csrf_token"]
    sealed.body["attachments"] = [{"id": attachment_id, "upload": upload_blob(client, csrf, sink.getvalue()),
                                   "meta": b64(crypto.encrypt_field(case_key, case_id, f"attachment:{attachment_id}",
                                                                    json.dumps(meta).encode()))}]
    original = {"id": attachment_id, "upload": upload_blob(client, csrf, original_blob.getvalue()),
                "sealed_key": b64(crypto.seal_to(sealed.identity.public_key, own_key)),
                "meta": b64(crypto.encrypt_field(own_key, case_id, f"original:{attachment_id}",
                                                 json.dumps(original_meta).encode()))}
    # An original of no attachment, or in an upload named twice, is refused before anything is kept.
    for wrong in ({**original, "id": "cd" * 16}, {**original, "upload": sealed.body["attachments"][0]["upload"]}):
        refused = post_json(client, "/disclose/sealed", {**sealed.body, "originals": [wrong]}, csrf)
        assert refused.status_code == 400, refused.text
    sealed.body["originals"] = [original]
    assert post_json(client, "/disclose/sealed", sealed.body, csrf).status_code == 201

    officer = client.application.test_client()
    sign_in(officer, installation.officer)
    ctx, case = only_case(installation.data_dir)
    ctx.db.conn.close()
    case_url = f"/console/cases/{case.ref}"
    page = officer.get(case_url).text
    assert "/originals/" not in page and "removed at the discloser" in " ".join(page.split())
    assert officer.get(f"{case_url}/attachments/{attachment_id}").data == cleaned
    assert officer.get(f"{case_url}/originals/{attachment_id}").status_code == 404
    discloser = client.application.test_client()
    assert open_status(discloser, sealed.receipt).status_code == 303
    status_page = discloser.get("/status").text
    assert 'id="original-files"' in status_page and "site.jpg" in status_page
    form = form_for(status_page, f"/status/originals/{attachment_id}")
    assert discloser.post(form["action"], data=dict(form["fields"], understood="y")).status_code == 303
    [original_url] = re.findall(r'href="(/console/cases/[^"]+/originals/[^"]+)"', officer.get(case_url).text)
    handed = officer.get(original_url).data
    assert handed == photo and PERSON.encode() in handed
