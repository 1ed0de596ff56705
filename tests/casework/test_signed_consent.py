"""Consent answers signed by the discloser (issue 21): each answer to a consent question (s 17(2)(a)) is
signed with the discloser's Ed25519 key from the receipt, whose public half the case row stores beside a tag
keyed from installation.json, and the signed acknowledgement names. The case key, which every reader holds, is
not enough to forge a yes, and no audit entry is written at submission (its place would date the disclosure)."""
from __future__ import annotations

import re

import json

import pytest

import crypto
from portal.casework import consent
from portal.core.context import open_context
from portal.intake import cases
from tests.conftest import add_account, run_cli
from tests.support import csrf_token
from tests.support.workflow import disclose_to, officer_on_case, open_status, post, today  # noqa: F401

FIELDS = dict(recipient="Ms Rangi, Office of the Auditor-General", ground="consent",
              reason="They are investigating the same invoices.")


def _case(app, installation):
    carol = add_account(installation.data_dir, "officer", "carol@agency.govt.nz", "Carol Second", ["Audit and Risk"])
    discloser = app.test_client()
    receipt = disclose_to(discloser, contact="Jo, 021 555 0199")
    open_status(discloser, receipt)
    ana, url = officer_on_case(app, installation.officer)
    carol_client, _ = officer_on_case(app, carol)
    return {"ana": ana, "carol": carol_client, "url": url, "discloser": discloser, "receipt": receipt,
            "passphrase": installation.officer.passphrase, "carol_passphrase": carol.passphrase}


@pytest.fixture
def case(app, installation):
    """A disclosure read by Ana and Carol: their console clients, the case URL, the discloser's status client."""
    return _case(app, installation)


@pytest.fixture
def old_style_case(app, installation, monkeypatch):
    """A case stored as before this change: no signing key and no tag on the case."""
    store_case = cases.store_case

    def as_before(*args, **kwargs):
        kwargs["discloser_signing_key"] = None
        return store_case(*args[:10], **kwargs)

    monkeypatch.setattr(cases, "store_case", as_before)
    made = _case(app, installation)
    monkeypatch.setattr(cases, "store_case", store_case)
    return made


def release(client, url, passphrase):
    return post(client, url + "/identity", url, confirm_passphrase=passphrase, **FIELDS)


def answer(discloser, value="yes"):
    status = discloser.get("/status").text
    return discloser.post("/status/consent", data={"csrf_token": csrf_token(status), "request": "1", "answer": value})


def events(installation, prefix):
    ctx = open_context(installation.data_dir)
    return [row[0] for row in ctx.db.execute("SELECT event FROM audit_log WHERE event LIKE ? ORDER BY seq",
                                             [prefix + "%"]).fetchall()]


def submission_key(installation) -> bytes:
    """The discloser's signing key stored with the case, checked against its tag (keyed from installation.json)."""
    ctx = open_context(installation.data_dir)
    [(case_id, key, tag)] = ctx.db.execute("SELECT id, discloser_signing_key, discloser_key_tag FROM cases").fetchall()
    tag_key = crypto.derive_subkey(ctx.settings.secret_key, "discloser-tag")
    assert crypto.verify_discloser_key_tag(tag_key, case_id, key, tag)
    assert tag == crypto.discloser_key_tag(tag_key, case_id, key)
    return key


def test_a_genuine_signed_yes_releases_as_before_and_the_key_is_the_receipts(case, installation):
    ana, url, discloser = case["ana"], case["url"], case["discloser"]
    assert release(ana, url, case["passphrase"]).status_code == 400     # the question is put
    answered = answer(discloser)
    assert answered.status_code == 303 and answered.headers["Location"].endswith("/status?done=consent#notice")
    # The page the answer leads to says it was recorded (role="status").
    assert re.search(r'role="status" id="notice">Your answer was recorded',
                     discloser.get(answered.headers["Location"]).text)
    assert release(ana, url, case["passphrase"]).status_code == 303
    page = ana.get(url).text
    assert 'data-release="1" data-state="released"' in page
    assert 'data-answer="yes" data-signature="verified"' in page and "the discloser agreed on" in page
    assert events(installation, "identity") == ["identity_consent_asked", "identity_release"]
    # The key is the one the receipt derives, stored with the case and vouched for by its tag; no audit entry
    # is written for the disclosure.
    assert events(installation, "disclosure") == []
    ctx = open_context(installation.data_dir)
    identity = crypto.derive_receipt_identity(case["receipt"], ctx.settings.install_salt, ctx.settings.receipt_params)
    assert submission_key(installation) == identity.signing_public_key
    assert ctx.db.execute("SELECT discloser_signing_key FROM cases").fetchone()[0] == identity.signing_public_key
    case_id, day, signature = ctx.db.execute(
        "SELECT case_id, answer_day, answer_signature FROM consent_requests").fetchone()
    question = (FIELDS["recipient"], FIELDS["reason"])
    assert crypto.verify_consent(identity.signing_public_key, case_id, 1, "yes", day, *question, signature)
    # The signature names the question the discloser was shown: it is no yes to anyone else.
    assert not crypto.verify_consent(identity.signing_public_key, case_id, 1, "yes", day, "The CEO",
                                     FIELDS["reason"], signature)
    assert run_cli(installation.data_dir, "audit", "verify").exit_code == 0


def _case_key(installation, officer) -> tuple[str, bytes]:
    """What an officer reader holds: the case key, opened with their own private key."""
    from portal.records import casefiles
    ctx = open_context(installation.data_dir)
    account_id, wrapped = ctx.db.execute("SELECT id, wrapped_private_key FROM accounts WHERE email = ?",
                                         [officer.email]).fetchone()
    private_key = crypto.unwrap_private_key(wrapped, officer.passphrase)
    case_id = ctx.db.execute("SELECT id FROM cases").fetchone()[0]
    return case_id, casefiles.open_case_key(ctx, case_id, f"account:{account_id}", private_key)


@pytest.mark.parametrize("forgery", ["own-key", "own-key-no-tag", "other-case-tag", "no-signature", "garbage"])
def test_a_yes_forged_with_the_case_key_shows_tampered_and_releases_nothing(case, installation, forgery):
    """An officer who can write the database re-encrypts the answer with the case key, as the portal would,
    and even puts a key of their own on the case and signs with it: without installation.json they cannot
    make its tag, so the answer does not verify."""
    ana, url, discloser = case["ana"], case["url"], case["discloser"]
    assert release(ana, url, case["passphrase"]).status_code == 400
    case_id, case_key = _case_key(installation, installation.officer)
    ctx = open_context(installation.data_dir)
    day, ct = ctx.db.execute("SELECT day, detail_ct FROM consent_requests WHERE case_id = ? AND seq = 1",
                             [case_id]).fetchone()
    values = {**consent.open_detail(case_key, case_id, "consent", 1, day, ct), "answer": "yes", "answer_day": day}
    forged_ct = consent.detail(case_key, case_id, "consent", 1, day, values)
    signature = None
    if forgery.startswith("own-key") or forgery == "other-case-tag":
        seed = crypto.new_signing_key()
        signature = crypto.sign_consent(seed, case_id, 1, "yes", day, FIELDS["recipient"], FIELDS["reason"])
        public = crypto.signing_public_key(seed)
        # A tag made with a key other than the installation's, none, or one made for another case id.
        tag = {"own-key": crypto.discloser_key_tag(bytes(32), case_id, public), "own-key-no-tag": None,
               "other-case-tag": crypto.discloser_key_tag(
                   crypto.derive_subkey(ctx.settings.secret_key, "discloser-tag"), case_id + "x", public)}[forgery]
        ctx.db.execute("UPDATE cases SET discloser_signing_key = ?, discloser_key_tag = ? WHERE id = ?",
                       [public, tag, case_id])
    elif forgery == "garbage":
        signature = bytes(64)
    ctx.db.execute("UPDATE consent_requests SET answer = 'yes', answer_day = ?, detail_ct = ?, answer_signature = ?"
                   " WHERE case_id = ? AND seq = 1", [day, forged_ct, signature, case_id])
    ctx.db.commit()

    page = ana.get(url).text
    assert 'data-answer="" data-signature="tampered"' in page and "Tampered:" in page
    assert "the discloser agreed" not in page
    refused = release(ana, url, case["passphrase"])
    assert refused.status_code == 400 and "does not verify" in refused.text
    assert 'id="identity-releases"' not in ana.get(url).text
    export = post(ana, url + "/export", url, confirm_passphrase=case["passphrase"], recipient=FIELDS["recipient"],
                  include_identity="y")
    assert export.status_code == 400 and "record the release first" in export.text
    assert "attachment" not in export.headers.get("Content-Disposition", "")
    assert "identity_release" not in events(installation, "identity")
    assert "your identity was given" not in discloser.get("/status").text
    # The question is put again, and the discloser's own answer to it verifies.
    assert answer_seq(discloser, 2, "yes").status_code == 303
    assert release(ana, url, case["passphrase"]).status_code == 303
    assert 'data-release="1" data-state="released"' in ana.get(url).text


@pytest.mark.parametrize("changed", ["recipient", "reason"])
def test_a_question_re_encrypted_after_a_yes_shows_tampered_and_releases_nothing(case, installation, changed):
    """The discloser says yes to Ms Rangi; an officer who can write the database re-encrypts the question with
    the case key, keeping the answer and its genuine signature, so that it names the CEO (or gives another
    reason). The signed statement names the question the discloser was shown, so the answer no longer
    verifies: it is tampered, no release on it is made (to the CEO or to Ms Rangi), nor can one be confirmed."""
    ana, carol, url, discloser = case["ana"], case["carol"], case["url"], case["discloser"]
    assert release(ana, url, case["passphrase"]).status_code == 400
    assert answer(discloser).status_code == 303
    assert 'data-answer="yes" data-signature="verified"' in ana.get(url).text
    case_id, case_key = _case_key(installation, installation.officer)
    ctx = open_context(installation.data_dir)
    day, ct = ctx.db.execute("SELECT day, detail_ct FROM consent_requests WHERE case_id = ? AND seq = 1",
                             [case_id]).fetchone()
    values = consent.open_detail(case_key, case_id, "consent", 1, day, ct)
    assert (values["recipient"], values["answer"]) == (FIELDS["recipient"], "yes")
    values[changed] = {"recipient": "The CEO", "reason": "The CEO asked who it was."}[changed]
    ctx.db.execute("UPDATE consent_requests SET detail_ct = ? WHERE case_id = ? AND seq = 1",
                   [consent.detail(case_key, case_id, "consent", 1, day, values), case_id])
    ctx.db.commit()

    page = ana.get(url).text
    assert 'data-consent="1" data-answer="" data-signature="tampered"' in page and "Tampered:" in page
    assert "the discloser agreed" not in page and 'data-signature="verified"' not in page
    to_ceo = {**FIELDS, "recipient": "The CEO"}
    for client, passphrase in ((ana, case["passphrase"]), (carol, case["carol_passphrase"])):
        refused = post(client, url + "/identity", url, confirm_passphrase=passphrase, **to_ceo)
        assert refused.status_code == 400
        if changed == "recipient":
            assert "does not verify" in refused.text
        assert release(client, url, passphrase).status_code == 400
    page = ana.get(url).text
    assert 'id="identity-releases"' not in page and "data-release=" not in page
    assert post(carol, url + "/identity/1/confirm", url, confirm_passphrase=case["carol_passphrase"]).status_code == 400
    for recipient in ("The CEO", FIELDS["recipient"]):
        export = post(ana, url + "/export", url, confirm_passphrase=case["passphrase"], recipient=recipient,
                      include_identity="y")
        assert export.status_code == 400 and "record the release first" in export.text
    assert [e for e in events(installation, "identity") if e.startswith("identity_release")] == []
    ctx = open_context(installation.data_dir)
    assert ctx.db.execute("SELECT COUNT(*) FROM identity_releases").fetchone()[0] == 0
    assert "your identity was given" not in discloser.get("/status").text


def test_a_question_that_does_not_open_cannot_be_answered(case, installation):
    """The discloser signs the question as their status page shows it; one whose ciphertext does not open is
    not signed at all."""
    ana, url, discloser = case["ana"], case["url"], case["discloser"]
    assert release(ana, url, case["passphrase"]).status_code == 400
    ctx = open_context(installation.data_dir)
    case_id, day = ctx.db.execute("SELECT case_id, day FROM consent_requests").fetchone()
    other_key = consent.detail(bytes(32), case_id, "consent", 1, day, {"recipient": "The CEO", "reason": "x"})
    ctx.db.execute("UPDATE consent_requests SET detail_ct = ?", [other_key])
    ctx.db.commit()
    refused = answer(discloser)
    assert refused.status_code == 400 and "changed outside the portal" in refused.text
    assert ctx.db.execute("SELECT answer, answer_signature FROM consent_requests").fetchone() == (None, None)


def answer_seq(discloser, seq, value):
    status = discloser.get("/status").text
    assert f'name="request" value="{seq}"' in status
    return discloser.post("/status/consent", data={"csrf_token": csrf_token(status), "request": str(seq),
                                                   "answer": value})


def test_an_unsigned_answer_on_an_old_style_case_needs_a_second_officer(old_style_case, installation):
    case = old_style_case
    ana, carol, url, discloser = case["ana"], case["carol"], case["url"], case["discloser"]
    assert events(installation, "disclosure") == []
    assert release(ana, url, case["passphrase"]).status_code == 400
    assert answer(discloser).status_code == 303
    page = ana.get(url).text
    assert 'data-answer="yes" data-signature="unsigned"' in page and "needs a second officer" in page
    assert release(ana, url, case["passphrase"]).status_code == 303
    assert 'data-release="1" data-state="pending"' in ana.get(url).text
    alone = post(ana, url + "/identity/1/confirm", url, confirm_passphrase=case["passphrase"])
    assert alone.status_code == 400 and "Another officer must confirm" in alone.text
    assert "your identity was given" not in discloser.get("/status").text
    confirmed = post(carol, url + "/identity/1/confirm", url, confirm_passphrase=case["carol_passphrase"])
    assert confirmed.status_code == 303
    assert 'data-release="1" data-state="released"' in ana.get(url).text
    assert events(installation, "identity") == ["identity_consent_asked", "identity_release_requested",
                                                "identity_release"]


def test_a_key_put_on_an_old_style_case_does_not_make_its_answers_count(old_style_case, installation):
    """A database writer who gives an old case a key (theirs) and signs a yes gets a tampered answer."""
    case = old_style_case
    ana, url = case["ana"], case["url"]
    assert release(ana, url, case["passphrase"]).status_code == 400
    case_id, case_key = _case_key(installation, installation.officer)
    ctx = open_context(installation.data_dir)
    day, ct = ctx.db.execute("SELECT day, detail_ct FROM consent_requests").fetchone()
    values = {**consent.open_detail(case_key, case_id, "consent", 1, day, ct), "answer": "yes", "answer_day": day}
    seed = crypto.new_signing_key()
    ctx.db.execute("UPDATE cases SET discloser_signing_key = ?", [crypto.signing_public_key(seed)])
    ctx.db.execute("UPDATE consent_requests SET answer = 'yes', answer_day = ?, detail_ct = ?, answer_signature = ?",
                   [day, consent.detail(case_key, case_id, "consent", 1, day, values),
                    crypto.sign_consent(seed, case_id, 1, "yes", day, FIELDS["recipient"], FIELDS["reason"])])
    ctx.db.commit()
    assert 'data-signature="tampered"' in ana.get(url).text
    assert release(ana, url, case["passphrase"]).status_code == 400
    assert "identity_release" not in events(installation, "identity")


def test_the_acknowledgement_names_the_discloser_key_and_verifies(case, installation, tmp_path):
    ana, url, discloser = case["ana"], case["url"], case["discloser"]
    assert post(ana, url + "/steps", step="acknowledge").status_code == 303
    data = discloser.get("/status/acknowledgement").data
    statement = json.loads(data)["statement"]
    assert bytes.fromhex(statement["discloser_signing_key"]) == submission_key(installation)
    path = tmp_path / "ack.json"
    path.write_bytes(data)
    key = run_cli(installation.data_dir, "signing-key").output.strip()
    verified = run_cli(installation.data_dir, "verify-ack", str(path), "--key", key)
    assert verified.exit_code == 0, verified.output
    assert f"discloser_signing_key: {statement['discloser_signing_key']}" in verified.output
    # A database writer who swaps the case's key cannot make its tag: the swapped key is never signed, and the
    # file the discloser already holds still names theirs.
    ctx = open_context(installation.data_dir)
    swapped = crypto.signing_public_key(crypto.new_signing_key())
    ctx.db.execute("UPDATE cases SET discloser_signing_key = ?", [swapped])
    ctx.db.commit()
    again = json.loads(discloser.get("/status/acknowledgement").data)["statement"]
    assert "discloser_signing_key" not in again and swapped.hex() not in json.dumps(again)


def test_an_old_style_case_acknowledgement_has_no_key_and_still_verifies(old_style_case, installation, tmp_path):
    case = old_style_case
    assert post(case["ana"], case["url"] + "/steps", step="acknowledge").status_code == 303
    data = case["discloser"].get("/status/acknowledgement").data
    assert "discloser_signing_key" not in json.loads(data)["statement"]
    path = tmp_path / "ack.json"
    path.write_bytes(data)
    verified = run_cli(installation.data_dir, "verify-ack", str(path))
    assert verified.exit_code == 0, verified.output
    assert "discloser_signing_key" not in verified.output


def test_an_oral_disclosures_new_receipt_signs_and_its_key_has_its_own_tag(app, installation):
    """The receipt replaced at the first visit brings a new signing key with a new tag (its replacement is
    not audited: that would date the visit); the first receipt's key, put back by a database writer with its
    old tag, or any key without its tag, makes the answer tampered."""
    from tests.support.oral import open_status as first_visit
    from tests.support.oral import record_oral
    from tests.support import receipt_from
    from tests.support.console import case_links, sign_in

    ana = app.test_client()
    assert sign_in(ana, installation.officer).status_code == 303
    printed = receipt_from(record_oral(ana).text)
    [url] = case_links(ana.get("/console/").text)
    first_key, first_tag = open_context(installation.data_dir).db.execute(
        "SELECT discloser_signing_key, discloser_key_tag FROM cases").fetchone()
    assert submission_key(installation) == first_key            # the printed receipt's key, with its tag
    discloser = app.test_client()
    assert first_visit(discloser, printed).status_code == 200          # the receipt is replaced
    ctx = open_context(installation.data_dir)
    assert submission_key(installation) != first_key
    assert [d for (d,) in ctx.db.execute("SELECT detail FROM audit_log WHERE event = 'oral_disclosure'")] == ["{}"]
    assert release(ana, url, installation.officer.passphrase).status_code == 400
    assert answer(discloser).status_code == 303
    assert 'data-answer="yes" data-signature="verified"' in ana.get(url).text
    ctx.db.execute("UPDATE cases SET discloser_key_tag = ?", [bytes(32)])
    ctx.db.commit()
    assert 'data-signature="tampered"' in ana.get(url).text
    assert release(ana, url, installation.officer.passphrase).status_code == 400
    # The first receipt's key and tag were genuine once; put back, they verify, but the new receipt's
    # answer was not signed with that key.
    ctx.db.execute("UPDATE cases SET discloser_signing_key = ?, discloser_key_tag = ?", [first_key, first_tag])
    ctx.db.commit()
    assert 'data-signature="tampered"' in ana.get(url).text
