"""What the sealing pages' scripts say comes from the catalogue (issue 27, issue 28): the static
pages cannot be rendered in the discloser's language, so each setup hands the script its words
(portal/web/intake/sealing_words.py) and the scripts keep no English sentence of their own but the
one said before any setup came. Under the pseudo-locale (tests/support/pseudo_locale.py) the refusal
the page shows in Chromium is the translated one."""
from __future__ import annotations

import re

import pytest

import tests.support.pseudo_locale as pseudo_locale
from tests.support import ROOT
from tests.support.browser import browser, served  # noqa: F401  (fixture)

SCRIPTS = [ROOT / "static" / "seal" / name for name in ("disclose.js", "status.js", "page.js")]


def test_every_word_the_scripts_ask_for_is_in_the_setups_and_none_is_left_over(client):
    asked = {key for path in SCRIPTS for key in re.findall(r"\bword\('([a-z_]+)'", path.read_text())}
    for route in ("/disclose/sealed/setup", "/status/sealed/setup"):
        words = client.get(route).get_json()["words"]
        assert asked - set(words) == set(), route
        assert set(words) - asked == set(), route
    assert len(asked) >= 40
    # Every kind of hidden detail the browser's cleaning names has its words, so the page's per-file
    # receipt says none in English alone.
    script = (ROOT / "static" / "seal" / "hidden-details.js").read_text()
    named = set(re.findall(r"""^  [A-Z_]+: ['"](.+)['"],$""", script[script.index("KINDS"):script.index("});")], re.M))
    assert len(named) >= 20 and named <= set(client.get("/disclose/sealed/setup").get_json()["kind_words"])
    # A refusal, a progress line and a check of the form are words now, not literals of the script.
    text = SCRIPTS[0].read_text()
    assert "other keys for its readers" not in text and "Sending ${" not in text and "Please choose" not in text


@pytest.fixture
def pseudo(tmp_path_factory, monkeypatch):
    from portal.core import resources
    folder = pseudo_locale.build(tmp_path_factory.mktemp("catalogues"), "eo")
    monkeypatch.setattr(resources, "translations_dir", lambda: folder)
    monkeypatch.setenv("PORTAL_DEFAULT_LANGUAGE", "eo")


def test_under_the_pseudo_locale_the_page_shows_the_translated_refusal(pseudo, installation, browser):
    from portal.web.app import create_app
    app = create_app(installation.data_dir)  # no signed bundle: the page refuses to seal
    setup = app.test_client().get("/disclose/sealed/setup").get_json()
    words, kinds = setup["words"], setup["kind_words"]
    assert [key for key, sentence in words.items() if not sentence.startswith("⟦")] == []
    assert [kind for kind, said in kinds.items() if not said.startswith("⟦")] == []
    with served(app) as url:
        page = browser.new_page()
        page.goto(url + "/static/seal/disclose.html")
        page.locator("#problem:not([hidden])").wait_for()
        shown = page.locator("#problem").inner_text()
        page.close()
    english = "This page will not seal your disclosure: its signed list of files and keys could not be checked"
    assert shown.startswith(pseudo_locale.transform(english)[:-1][:60]) and "⟧" in shown
    assert english not in shown


def test_under_the_pseudo_locale_the_sealed_routes_refuse_in_the_catalogues_words(pseudo, installation):
    from portal.web.app import create_app
    from tests.support.sealing import disclose_sealed, post_json
    client = create_app(installation.data_dir).test_client()
    sealed, first = disclose_sealed(client, {"category": "offence", "summary": "Fuel", "details": "Cards.",
                                             "disclosed_elsewhere": "no"})
    assert first.status_code == 201, first.text
    again = post_json(client, "/disclose/sealed", sealed.body, client.get("/disclose/sealed/setup").get_json()["csrf_token"])
    stale = post_json(client, "/disclose/sealed", sealed.body, "not the page's token")
    for answer, code in ((again, "already-received"), (stale, "csrf")):
        assert answer.get_json()["error"] == code
        assert answer.get_json()["message"].startswith("⟦") and answer.get_json()["message"].endswith("⟧")
