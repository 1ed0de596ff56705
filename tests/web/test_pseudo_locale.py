"""Every page of every audience walked in a pseudo-locale built from the portal's own catalogue
(tests/support/pseudo_locale.py: every string accented and wrapped in ⟦ ⟧), issue 28.

Every page of every audience (the discloser's, the error pages, the officers' console and the
administrator's) must show no English left outside the catalogue. A pseudo right-to-left locale
sets dir="rtl" on every page.
"""
from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import pytest

import tests.support.pseudo_locale as pseudo_locale
from tests.support import ROOT
from tests.web.test_every_page import _build_world, _own_totp_clock

PSEUDO, PSEUDO_RTL = "eo", "ar"  # codes Babel knows (plural rules, text direction); strings ours
# Values the world typed or the portal holds as data (names, channels, files, authorities, the
# Act's signed statement): shown as they are, in any language.
DATA = re.compile(
    r"Audit and Risk|Procurement|Internal audit|Ana Officer|Ben Other|Ada Admin|Cal New|Dee Invited"
    r"|Eli Enrolled|Fay Invited|Old Timer|invoices\.pdf|Invoices paid twice|Secret passed abroad"
    r"|Told in person|An Ombudsman|PD-[A-Z0-9-]+|[A-Z0-9]{4}(?:-[A-Z0-9]{2,4}){3,}|https?://\S+"
    r"|[\w.+-]+@[\w-]+(?:\.[\w-]+)+"  # e-mail addresses
    r"|Esperanto"  # the pseudo-locale's language named by Babel (CLDR), as a case's language
    # The shipped directory of appropriate authorities: agencies' names and contacts, data the
    # portal holds.
    + "".join(f"|{re.escape(value)}" for value in sorted(
        (e[key] for e in json.loads((ROOT / "portal/data/authorities.json").read_text())["authorities"]
         for key in ("name", "contact", "covers", "source") if e.get(key)),
        key=len, reverse=True))
)


def _outside(text: str) -> str:
    """The text outside every ⟦ ⟧, each translated piece (nested ones too: a translated phrase
    inside a translated sentence) left as a NUL between the pieces."""
    while True:
        shorter = re.sub(r"⟦[^⟦⟧]*⟧", "\0", text)
        if shorter == text:
            return text
        text = shorter
SKIP_TAGS = {"script", "style", "code", "pre", "kbd", "samp", "time"}
# The console's and the administrator's endpoints (their pages share console_base.html's frame).
CONSOLE = ("console.", "admin.", "audit_log.", "statistics.", "confidentiality.", "oral.",
           "case_record.", "enrol.", "access.", "roster.", "own_keys.", "retention.")


class Untranslated(HTMLParser):
    """Text a person reads (text, title, aria-label, placeholder, alt) outside ⟦ ⟧."""

    def __init__(self, code: str, attributes: bool = True) -> None:
        super().__init__(convert_charrefs=True)
        self.code, self.found, self._open, self.text = code, [], [], []
        self.attributes = attributes

    def _skipped(self) -> bool:
        return any(tag in SKIP_TAGS or "typed" in (a.get("class") or "") or a.get("lang") not in (None, self.code)
                   for tag, a in self._open)

    def _check(self, text: str) -> None:
        left = DATA.sub("", _outside(text).replace("\0", " "))
        if re.search(r"[A-Za-z]{3,}", left) and not self._skipped():
            self.found.append(" ".join(left.split()))

    def close(self) -> None:
        # A translated sentence may hold tags (<strong>, <a>, <code>): its text is read whole.
        super().close()
        for piece in _outside("".join(self.text)).split("\0"):
            left = DATA.sub("", piece)
            if re.search(r"[A-Za-z]{3,}", left):
                self.found.append(" ".join(left.split()))

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self._open.append((tag, a))
        for name in ("title", "aria-label", "placeholder", "alt") if self.attributes else ():
            if a.get(name):
                self._check(a[name])
        if tag in ("input", "img", "meta", "link", "br", "wbr", "hr"):
            self._open.pop()

    def handle_endtag(self, tag):
        while self._open and self._open.pop()[0] != tag:
            pass

    def handle_data(self, data):
        if not self._skipped():
            self.text.append(data)
        elif not self.text or self.text[-1] != " ":
            self.text.append(" ")


def untranslated(html: str, code: str = PSEUDO, attributes: bool = True) -> list[str]:
    page = Untranslated(code, attributes)
    page.feed(html)
    page.close()
    return page.found


def _world(tmp_path_factory, code: str, build=pseudo_locale.build):
    with pytest.MonkeyPatch.context() as monkeypatch:
        from portal.core import resources
        folder = build(tmp_path_factory.mktemp("catalogues"), code)
        monkeypatch.setattr(resources, "translations_dir", lambda: folder)
        monkeypatch.setenv("PORTAL_DEFAULT_LANGUAGE", code)
        _own_totp_clock(monkeypatch)
        return _build_world(tmp_path_factory)


@pytest.fixture(scope="module")
def walk(tmp_path_factory):
    return _world(tmp_path_factory, PSEUDO)


def test_every_page_of_every_audience_is_all_in_the_catalogue(walk):
    # The discloser's pages, the error pages, the console's and the administrator's: every page
    # the walk meets (docs/translating.md lists what is wrapped: all of them).
    pages = {label: html for label, (_endpoint, html) in walk.pages.items()}
    assert len(pages) >= 60 and {"/console/statistics (officer)", "/console/audit (admin)",
                                 "/console/admin/authorities (admin)", "edit authority"} <= set(pages)
    report = [f"{label}: {text!r}" for label, html in pages.items() for text in untranslated(html)]
    assert report == [], "\n" + "\n".join(report)
    assert all(f'<html lang="{PSEUDO}" dir="ltr">' in html for html in pages.values())


def test_the_statistics_and_audit_pages_walked_show_what_they_word(walk):
    # The strict check above is only as good as what the pages show: tables and entries with details.
    assert '<table class="stats"' in walk.pages["/console/statistics (officer)"][1]
    assert '<span class="hint">(' in walk.pages["/console/audit (admin)"][1]


def test_every_kind_of_audit_detail_is_worded_in_the_page_language(walk):
    from portal.casework.categories import CATEGORIES
    from portal.records.casefiles import STATUSES
    from portal.web.languages import detail_words
    # Keys in words, flags, counts, days, statuses (one or a list) and references by their name; a
    # value the portal does not word (an id, a name typed) stays as it is.
    details = {"status": "assessing", "by_operator": True, "channels": 3, "day": "2026-12-07",
               "note_id": 4, "identity": False, "cases": list(STATUSES)}
    with walk.app.test_request_context("/console/audit"):
        worded = detail_words(details) + ", " + detail_words({"channels": 1, "authority_id": 999})
    parts = worded.split("⟧, ⟦")
    assert len(parts) == len(details) + 2 and untranslated(f"<p>{worded}</p>") == []
    # Nothing English inside a translated part either: every word is accented, a number or a day.
    bare = re.sub(r"⟦|⟧|[0-9]+|Decembro", " ", worded)
    english = [w for w in re.findall(r"[^\W\d_]{3,}", bare) if w.isascii()]
    assert english == [], worded


def test_the_check_finds_english_left_out():
    assert untranslated('<p>⟦Héllö⟧ <a title="Open it">⟦x⟧</a></p>') == ["Open it"]
    assert untranslated("<p>⟦Séñt⟧ Invoices paid twice <code>portal verify-ack</code></p>") == []
    assert untranslated('<p lang="en">English on purpose</p><p>Not on purpose</p>') == ["Not on purpose"]
    # A translated phrase inside a translated sentence, and English beside them.
    assert untranslated("<li>⟦Ön 7, <bdi>⟦àddéd⟧</bdi> (by ⟦öpérâtör⟧).⟧ added</li>") == ["added"]


def test_the_transform_keeps_placeholders_and_tags():
    assert pseudo_locale.transform('See <a href="%(x)s">it</a>, %(count)d') == '⟦Séé <a href="%(x)s">ît</a>, %(count)d⟧'


def test_every_page_of_every_audience_is_right_to_left_in_a_right_to_left_locale(tmp_path_factory):
    rtl = _world(tmp_path_factory, PSEUDO_RTL)
    assert len(rtl.pages) >= 40, sorted(rtl.pages)
    wrong = [label for label, (_endpoint, html) in rtl.pages.items()
             if f'<html lang="{PSEUDO_RTL}" dir="rtl">' not in html]
    assert wrong == []


def test_the_shipped_catalogues_hold_every_string_make_translations_extracts():
    # A stale messages.pot or .po leaves new strings out of every translator's work.
    from babel.messages.pofile import read_po

    from portal.core import resources
    folder = resources.translations_dir()
    for path in [folder / "messages.pot", *folder.glob("*/LC_MESSAGES/messages.po")]:
        with path.open("rb") as source:
            catalogue = read_po(source)
        missing = [m for m in pseudo_locale.messages() if (m[0] if isinstance(m, tuple) else m) not in catalogue]
        assert missing == [], f"{path.relative_to(folder)}: run `make translations`: {missing[:5]}"


def _frame(html: str) -> str:
    """The page's header and footer, the frame every console page shares (console_base.html)."""
    return "".join(re.findall(r"<header class=\"site\">.*?</header>|<footer class=\"site\">.*?</footer>", html, re.S))


def test_the_console_frame_is_all_in_the_catalogue_on_every_console_page(walk):
    # Officers' and administrator's sessions: the header's links, "Sign out" and the footer's notice
    # (on the pages wrapped whole too, which the strict check reads in full).
    pages = {label: html for label, (endpoint, html) in walk.pages.items() if endpoint.startswith(CONSOLE)}
    signed_in = {label: html for label, html in pages.items() if 'action="/console/logout"' in html}
    assert len(signed_in) >= 20 and any("/console/retention" in html for html in signed_in.values())
    report = [f"{label}: {text!r}" for label, html in pages.items() for text in untranslated(_frame(html))]
    assert report == [], "\n" + "\n".join(report)


def test_every_page_half_translated_shows_its_english_inside_lang_en(tmp_path_factory):
    # A language with every other string missing (M2 of issue 28's review): each English string
    # shown for want of a translation is inside an element with lang="en" (portal.web.untranslated),
    # on every page of every audience. What cannot be marked is left out of the check: attributes
    # (aria-label) and <title> hold text only, so no element can carry a part's language there.
    half = _world(tmp_path_factory, PSEUDO, pseudo_locale.build_half)
    assert len(half.pages) >= 60
    marked = sum(html.count('<span lang="en">') for _endpoint, html in half.pages.values())
    assert marked > 500  # the check below is not passing for want of English shown
    no_title = {label: re.sub(r"<title[^>]*>.*?</title>", "", html, flags=re.S)
                for label, (_endpoint, html) in half.pages.items()}
    report = [f"{label}: {text!r}" for label, html in no_title.items()
              for text in untranslated(html, attributes=False)]
    # The one exception: the reason the close-many form suggests, composed in the view as the
    # officer's text to edit in its box (portal.web.casework.bulk_close).
    report = [r for r in report if not r.startswith("/console/close-many (officer): 'We have read")]
    assert report == [], "\n" + "\n".join(report)
    # No marker is left anywhere, in text, attributes or links.
    leaks = [label for label, (_endpoint, html) in half.pages.items()
             if re.search("[\ue000-\ue002]|%EE%80%8[0-2]", html, re.I)]
    assert leaks == []


def test_the_flood_pages_are_all_in_the_catalogue(installation, tmp_path, monkeypatch):
    # The pages a flood brings (issue 22, fresh review M3), which the walk's idle installation
    # never shows: the no-script wait, sent too soon, a ticket past its time, a full line, and past
    # the day's budget the turn for a new case.
    import time

    import crypto

    from portal.core import resources
    from portal.core.config import load_settings
    from portal.web.app import create_app
    from tests.guard.test_flood import disclose, hoard_places
    from tests.support import csrf_token, disclosure_fields, post_multipart

    folder = pseudo_locale.build(tmp_path / "catalogues", PSEUDO)
    monkeypatch.setattr(resources, "translations_dir", lambda: folder)
    monkeypatch.setenv("PORTAL_DEFAULT_LANGUAGE", PSEUDO)
    now = [time.time()]
    monkeypatch.setattr(time, "time", lambda: now[0])

    def app_with(**overrides):
        app = create_app(settings=load_settings(installation.data_dir, **overrides))
        app.config["TESTING"] = True
        return app

    pages, TYPED = {}, "Invoices paid twice"  # noqa: N806 (data: shown as typed)
    waiting = app_with(no_script_wait_seconds=3, cases_per_day=1)
    client = waiting.test_client()
    pages["disclose, a wait"] = page = client.get("/disclose").text
    assert "<noscript>" in page
    # The sign the page's script fills in while it finishes the proof after Send, in the language.
    assert re.search(r'<p role="status" aria-live="polite" data-proof-status\s+data-text="⟦', page)
    soon = post_multipart(client, "/disclose", disclosure_fields(csrf_token(page), TYPED))
    assert soon.status_code == 503
    pages["sent too soon"] = soon.text
    now[0] += 7200  # the ticket is past its time
    late = post_multipart(client, "/disclose", disclosure_fields(csrf_token(soon.text), TYPED))
    assert late.status_code == 503
    pages["ticket past its time"] = late.text
    for _ in range(4):  # the day's budget and the burst of turns past it, then no turn free
        assert disclose(waiting.test_client(), script=True).status_code == 200
    no_turn = waiting.test_client()
    pages["disclose, no turn"] = page = no_turn.get("/disclose").text
    now[0] += 3
    told = post_multipart(no_turn, "/disclose", disclosure_fields(csrf_token(page), TYPED))
    assert told.status_code == 503
    pages["no turn for a new case"] = told.text

    full = app_with(tickets_per_minute=2, ticket_line_seconds=60, no_script_wait_seconds=0)
    assert hoard_places(full.test_client(), 4) == [400, 503, 503, 503]
    late = full.test_client()
    pages["status, a full line"] = page = late.get("/status").text
    answer = late.post("/status", data={"csrf_token": csrf_token(page), "receipt": crypto.new_receipt()})
    pages["status, the line full"] = answer.text
    assert all(f'<html lang="{PSEUDO}"' in html for html in pages.values())
    report = [f"{label}: {text!r}" for label, html in pages.items() for text in untranslated(html)]
    assert report == [], "\n" + "\n".join(report)
