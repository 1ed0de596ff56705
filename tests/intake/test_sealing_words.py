"""What the sealing pages' scripts say comes from the catalogue (issue 27, issue 28): the static
pages cannot be rendered in the discloser's language, so each setup hands the script its words
(portal/web/intake/sealing_words.py) and the scripts keep no English sentence of their own but the
one said before any setup came. The pages' own text is words too (data-word in static/seal/*.html),
whose English in the files is the catalogue's. Under the pseudo-locale (tests/support/pseudo_locale.py)
the refusal the page shows in Chromium is the translated one, and so is every other text of both
pages, with <html lang> the locale's."""
from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

import tests.support.pseudo_locale as pseudo_locale
from tests.support import ROOT
from tests.support.browser import browser, served  # noqa: F401  (fixture)
from tests.web.test_pseudo_locale import untranslated

SCRIPTS = [ROOT / "static" / "seal" / name for name in ("disclose.js", "status.js", "page.js")]
PAGES = [ROOT / "static" / "seal" / name for name in ("disclose.html", "status.html")]


def _asked() -> set[str]:
    """Every key the scripts (word('key')) and the pages (data-word, data-word-label) ask for, and
    the statuses status.js names by value (wordOr(`status_${status}`))."""
    from portal.records.casefiles import STATUSES
    return ({key for path in SCRIPTS for key in re.findall(r"\bword\('([a-z_]+)'", path.read_text())}
            | {key for path in PAGES for key in re.findall(r'data-word(?:-label)?="([a-z_]+)"', path.read_text())}
            | {f"status_{status}" for status in STATUSES})


def test_every_word_the_scripts_ask_for_is_in_the_setups_and_none_is_left_over(client):
    asked = _asked()
    for route in ("/disclose/sealed/setup", "/status/sealed/setup"):
        words = client.get(route).get_json()["words"]
        assert asked - set(words) == set(), route
        assert set(words) - asked == set(), route
    assert len(asked) >= 90
    # Every kind of hidden detail the browser's cleaning names has its words, so the page's per-file
    # receipt says none in English alone.
    script = (ROOT / "static" / "seal" / "hidden-details.js").read_text()
    named = set(re.findall(r"""^  [A-Z_]+: ['"](.+)['"],$""", script[script.index("KINDS"):script.index("});")], re.M))
    assert len(named) >= 20 and named <= set(client.get("/disclose/sealed/setup").get_json()["kind_words"])
    # A refusal, a progress line and a check of the form are words now, not literals of the script.
    text = SCRIPTS[0].read_text()
    assert "other keys for its readers" not in text and "Sending ${" not in text and "Please choose" not in text


class _Worded(HTMLParser):
    """The static page's text: each data-word element's English (a data-slot child as %(name)s),
    and any text or aria-label a person reads that no data-word covers (<noscript> aside: it shows
    only without script, when no words can come)."""

    VOID = {"input", "meta", "link", "br", "img", "hr", "progress"}

    def __init__(self, by_id: dict[str, str]):
        super().__init__(convert_charrefs=True)
        self.open, self.english, self.unworded, self.by_id = [], [], [], by_id

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if not a.get("data-word") and a.get("id") in self.by_id:
            a["data-word"] = self.by_id[a["id"]]
        if a.get("aria-label") and not a.get("data-word-label"):
            self.unworded.append(a["aria-label"])
        if a.get("data-slot"):
            self._worded()["text"].append(f"%({a['data-slot']})s")
        if tag not in self.VOID:
            self.open.append({"tag": tag, "key": a.get("data-word"), "text": []})

    def handle_endtag(self, tag):
        while self.open:
            frame = self.open.pop()
            if frame["key"]:
                self.english.append((frame["key"], " ".join("".join(frame["text"]).split())))
            if frame["tag"] == tag:
                return

    def _worded(self):
        return next((f for f in reversed(self.open) if f["key"]), None)

    def handle_data(self, data):
        if any(f["tag"] in ("noscript", "script", "style") for f in self.open):
            return
        frame = self._worded()
        if frame:
            frame["text"].append(data)
        elif re.search(r"[A-Za-z]{2,}", data):
            self.unworded.append(data.strip())


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_text_of_the_static_pages_is_a_word_whose_english_is_the_catalogues(client, page):
    # The English shipped in the page is what shows before the words come (and if they never do):
    # it must be the catalogue's own English, so the two never say different things.
    words = client.get("/disclose/sealed/setup", headers={"Accept-Language": "en"}).get_json()["words"]
    # An element the script words by its id (`$('id').textContent = word('key')`) counts as marked.
    by_id = dict(re.findall(r"\$\('([\w-]+)'\)\.textContent = word\('([a-z_]+)'\)",
                            "".join(path.read_text() for path in SCRIPTS)))
    parsed = _Worded(by_id)
    parsed.feed(page.read_text())
    assert parsed.unworded == []
    assert len(parsed.english) >= 15
    assert [(key, text) for key, text in parsed.english if words[key] != text] == []


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
        # The page's own text is the catalogue's too, and <html> says the language.
        pages = {"disclose": page.content()}
        page.goto(url + "/static/seal/status.html")
        page.locator("#open-form:not([hidden])").wait_for()
        pages["status"] = page.content()
        page.close()
    for name, html in pages.items():
        assert '<html lang="eo" dir="ltr">' in html, name
        assert untranslated(re.sub(r"<noscript>.*?</noscript>", "", html, flags=re.S)) == [], name
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


def test_the_setups_name_the_page_language_and_the_disclosure_setup_the_languages_one_may_say(client):
    from portal.web.languages import written_choices
    disclose = client.get("/disclose/sealed/setup", headers={"Accept-Language": "en"}).get_json()
    status = client.get("/status/sealed/setup", headers={"Accept-Language": "en"}).get_json()
    assert disclose["language"] == status["language"] == {"code": "en", "dir": "ltr"}
    with client.application.test_request_context():
        assert [(w["code"], w["name"]) for w in disclose["written"]] == written_choices()
    assert {"code": "mi", "name": "Te reo Māori"} in disclose["written"] and "written" not in status
