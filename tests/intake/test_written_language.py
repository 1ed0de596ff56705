"""The language a disclosure was written in (issue 28): the discloser says it on the form ("I would
rather not say" chosen until they do: never guessed from the page's language), it is sealed with the case like its other fields, and the
officer's case page shows it so that they know which language to answer in. Through HTTP."""
from __future__ import annotations

import re

import crypto
from portal.core.config import load_settings
from portal.core.context import open_context
from portal.records import casefiles
from portal.web.app import create_app
from tests.conftest import officer_key
from tests.support import csrf_token, disclosure_fields, files_containing, page_forms, post_multipart
from tests.support.console import sign_in
from tests.support.discloser import disclose
from tests.support.sealing import b64, disclose_sealed, get_setup, post_json, seal_disclosure
from tests.support import database

WRITTEN_IN = re.compile(r'<dt>Written in</dt><dd id="written-in">([^<]*)</dd>')


def _client(installation):
    settings = load_settings(installation.data_dir, languages=("en", "mi"), secure_cookies=False)
    app = create_app(settings=settings)
    app.config["TESTING"] = True
    return app.test_client()


def _only_case(installation):
    ctx = open_context(installation.data_dir)
    [(case_id,)] = ctx.db.execute("SELECT id FROM cases").fetchall()
    return ctx, casefiles.get_case(ctx, case_id=case_id)


def _case_page(installation, ref: str) -> str:
    officer = _client(installation)
    sign_in(officer, installation.officer)
    page = officer.get(f"/console/cases/{ref}", headers={"Accept-Language": "en"})
    assert page.status_code == 200, page.text
    return page.text


def test_a_disclosure_made_in_te_reo_shows_so_on_the_officers_case_page(installation):
    discloser = _client(installation)
    discloser.set_cookie("lang", "mi")
    # The form offers each language named in itself, "I would rather not say" chosen.
    [form] = [f for f in page_forms(discloser.get("/disclose").text) if f["action"] == "/disclose"]
    assert ("mi", False) in form["selects"]["language"] and ("", True) in form["selects"]["language"]
    response = disclose(discloser, details="Kua utua ngā nama e rua", files=(), language="mi")
    assert response.status_code == 200, response.text

    ctx, case = _only_case(installation)
    ctx.db.conn.close()
    assert WRITTEN_IN.findall(_case_page(installation, case.ref)) == ["te reo Māori"]


def test_the_language_is_sealed_and_nowhere_in_the_clear(installation):
    discloser = _client(installation)
    discloser.set_cookie("lang", "mi")
    assert disclose(discloser, details="Kua utua ngā nama e rua", files=(), language="mi").status_code == 200
    english = _client(installation)
    assert disclose(english, details="Paid twice", files=(), language="").status_code == 200

    ctx = open_context(installation.data_dir)
    rows = ctx.db.execute(
        "SELECT case_id, value_ct FROM case_fields WHERE name = 'language' ORDER BY case_id").fetchall()
    account, private_key = officer_key(ctx, installation.officer)
    opened = sorted(crypto.decrypt_field(casefiles.open_case_key(ctx, case_id, f"account:{account.id}", private_key),
                                         case_id, "language", ct).decode() for case_id, ct in rows)
    assert opened == ["", "mi"]
    # Said or not, the ciphertext is the same size: its length tells nothing.
    assert len({len(ct) for _case_id, ct in rows}) == 1
    ctx.db.conn.close()

    # No row of any table holds the code in the clear, and no file the language's name.
    conn = database.connect(installation.data_dir)
    try:
        clear = [(table, column) for table, row in database.every_row(conn)
                 for column, value in enumerate(row) if value in ("mi", b"mi", "Te reo Māori", "te reo Māori")]
    finally:
        conn.close()
    assert clear == []
    for needle in ("Māori".encode(), b"reo M", b'"mi"', b"'mi'", b"language=mi", b"lang=mi"):
        assert files_containing(installation.data_dir, needle) == [], needle


def test_rather_not_say_shows_nothing(installation):
    discloser = _client(installation)
    discloser.set_cookie("lang", "mi")
    assert disclose(discloser, details="Kua utua", files=(), language="").status_code == 200
    ctx, case = _only_case(installation)
    ctx.db.conn.close()
    page = _case_page(installation, case.ref)
    assert 'id="written-in"' not in page and "Kua utua" in page


def test_a_form_sent_without_the_field_seals_no_guess(installation):
    # The page is in te reo Māori (here from Accept-Language alone), the field never touched: the
    # officer is told nothing.
    discloser = _client(installation)
    headers = {"Accept-Language": "mi"}
    page = discloser.get("/disclose", headers=headers).text
    assert '<html lang="mi"' in page
    [form] = [f for f in page_forms(page) if f["action"] == "/disclose"]
    assert [code for code, chosen in form["selects"]["language"] if chosen] == [""]
    sent = post_multipart(discloser, "/disclose", disclosure_fields(csrf_token(page), "Kua utua"),
                          headers=headers)
    assert sent.status_code == 200, sent.text
    ctx, case = _only_case(installation)
    ctx.db.conn.close()
    page = _case_page(installation, case.ref)
    assert "Kua utua" in page and 'id="written-in"' not in page and "Written in" not in page


def test_a_language_not_offered_on_the_form_is_refused(installation):
    response = disclose(_client(installation), details="Paid twice", files=(), language="xx-not-one")
    assert response.status_code == 400
    assert open_context(installation.data_dir).db.execute("SELECT COUNT(*) FROM cases").fetchone()[0] == 0


def test_a_sealed_disclosure_may_say_its_language_or_leave_it_out(client, installation):
    values = {"category": "public_funds", "summary": "Sealed without it", "details": "Older page",
              "disclosed_elsewhere": "no"}
    sealed, response = disclose_sealed(client, values)
    assert response.status_code == 201, response.text
    ctx, case = _only_case(installation)
    ctx.db.conn.close()
    page = _case_page(installation, case.ref)
    assert "Older page" in page and 'id="written-in"' not in page

    # A newer page seals it among the fields; in the clear beside them it is refused.
    setup = get_setup(client)
    sealed = seal_disclosure(setup, {**values, "details": "Sealed with it"})
    sealed.body["fields"]["language"] = b64(crypto.encrypt_field(sealed.case_key, sealed.case_id, "language", b"mi"))
    plain = {**sealed.body, "language": "mi"}
    refused = post_json(client, "/disclose/sealed", plain, setup["csrf_token"])
    assert refused.status_code == 400 and refused.get_json()["error"] == "plaintext"
    assert post_json(client, "/disclose/sealed", sealed.body, setup["csrf_token"]).status_code == 201
    ctx = open_context(installation.data_dir)
    ref = casefiles.get_case(ctx, case_id=sealed.case_id).ref
    ctx.db.conn.close()
    assert WRITTEN_IN.findall(_case_page(installation, ref)) == ["te reo Māori"]


def test_the_officer_reads_the_disclosers_words_marked_in_the_language_they_wrote_in(installation):
    # M2 of issue 28's review: te reo Māori inside an English console page is marked lang="mi"
    # (WCAG 2.2 SC 3.1.2), so a screen reader speaks it as te reo; the officer's own words are not.
    from tests.support.workflow import open_status
    discloser = _client(installation)
    discloser.set_cookie("lang", "mi")
    answer = disclose(discloser, details="Kua utua ngā nama e rua.\n\nI te marama o Hereturikōkā.",
                      summary="Utu rua", contact="Waea mai i te ahiahi", files=(), language="mi")
    receipt = re.search(r'name="expected" value="([^"]+)"', answer.text).group(1)
    status = open_status(discloser, receipt)
    mark = re.search(r'name="page_for" value="([^"]*)"', status).group(1)
    token = re.search(r'name="csrf_token" value="([^"]+)"', status).group(1)
    from tests.support import post_multipart
    sent = post_multipart(discloser, "/status/reply", [("csrf_token", token), ("page_for", mark),
                                                      ("message", "He kōrero anō")])
    assert sent.status_code in (200, 303), sent.text
    ctx, case = _only_case(installation)
    ctx.db.conn.close()
    page = _case_page(installation, case.ref)
    assert re.search(r'<html lang="en"', page)
    for words in ("Kua utua ngā nama e rua.", "I te marama o Hereturikōkā.", "Utu rua",
                  "Waea mai i te ahiahi", "He kōrero anō"):
        assert f'<p lang="mi">{words}</p>' in page, words
    record = _client(installation)
    sign_in(record, installation.officer)
    printed = record.get(f"/console/cases/{case.ref}/record", headers={"Accept-Language": "en"})
    assert printed.status_code == 200
    assert '<p lang="mi">Kua utua ngā nama e rua.</p>' in printed.text
    assert '<p lang="mi">He kōrero anō</p>' in printed.text


def test_a_language_said_in_english_or_not_at_all_marks_nothing_on_the_officers_page(installation):
    english = _client(installation)
    assert disclose(english, details="Paid twice", files=(), language="").status_code == 200
    ctx, case = _only_case(installation)
    ctx.db.conn.close()
    page = _case_page(installation, case.ref)
    assert "<p>Paid twice</p>" in page and '<p lang=' not in page


def test_a_sealed_language_that_is_no_code_marks_no_language(client, installation):
    # The sealed value is the discloser's browser's: what has no language tag's shape is not put
    # in an attribute.
    setup = get_setup(client)
    values = {"category": "public_funds", "summary": "Sealed", "details": "Odd language",
              "disclosed_elsewhere": "no"}
    sealed = seal_disclosure(setup, values)
    sealed.body["fields"]["language"] = b64(crypto.encrypt_field(
        sealed.case_key, sealed.case_id, "language", b'mi" onclick="x'))
    assert post_json(client, "/disclose/sealed", sealed.body, setup["csrf_token"]).status_code == 201
    ctx = open_context(installation.data_dir)
    ref = casefiles.get_case(ctx, case_id=sealed.case_id).ref
    ctx.db.conn.close()
    page = _case_page(installation, ref)
    assert "<p>Odd language</p>" in page and "onclick" not in page.split('id="written-in"')[0]
    assert '<p lang=' not in page
