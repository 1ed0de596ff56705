"""Text the page's catalogue lacks, shown in English and marked `lang="en"` (issue 28; WCAG 2.2
SC 3.1.2, Language of Parts).

A te reo Māori page whose catalogue has no translation for a string shows the English `msgid`.
A screen reader reading that English with Māori pronunciation is unintelligible, so the English
must sit inside an element with `lang="en"`. Which strings fall back is known only when gettext
looks them up, and where each lands (element content, an attribute, a `<title>`, an `<option>`) is
known only in the finished HTML: the portal has about 1,000 gettext calls in its templates and
about 280 lazy strings (form labels among them) rendered by Python while a template renders,
and some land in attributes (`aria-label`, `placeholder`, an `<input>`'s `value`). So the marking
is done in two steps, neither depending on each call site:

1. While an HTML template renders (`.html`, in a request whose language is not English), a
   gettext lookup that misses the catalogue (the catalogue's fallback is asked only then) returns
   the English between two markers, private-use characters around a number drawn afresh for this
   render.
2. The rendered page is then read once: markers in element content become `<span lang="en">` and
   `</span>`; inside a tag (an attribute), a comment, `<script>` or `<style>` they are dropped; in
   `<title>`, `<textarea>` and `<option>`, which cannot hold a `<span>`, they are dropped and the
   element itself gets `lang="en"` when all its words are English.

Nothing else is touched: gettext outside an HTML render (e-mails, the command line, JSON, headers,
a redirect's notice composed in a view) returns the plain English, as before. A marker with
another render's number (text a person typed to imitate one, or a string kept from an earlier
render) is removed, never turned into markup.
"""

from __future__ import annotations

import contextvars
import re
import secrets

from babel.support import NullTranslations
from flask import has_request_context
from flask_babel import get_locale, get_translations
from jinja2 import Template

SOURCE_LANGUAGE = "en"  # the language of every msgid
_OPEN, _CLOSE, _END = "\ue000", "\ue001", "\ue002"
_render = contextvars.ContextVar("untranslated_render", default=None)
# A marker of any render: what a person could type to imitate one is removed like a stale one.
_ANY_MARKER = re.compile(f"[{_OPEN}{_END}][0-9]*{_CLOSE}?")
_TAG = re.compile(
    r"<!--.*?-->|<(/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\"[^\"]*\"|'[^']*'|[^'\">])*)>", re.S
)
_RAW = {"script", "style"}  # markup inside is not markup: markers are dropped
_LABELLED = {"title", "textarea", "option"}  # text only: the element itself takes lang="en"


class _EnglishMarks(NullTranslations):
    """The last fallback of a catalogue: asked only for a msgid the catalogue lacks. A text that
    is one of the catalogue's own translations (looked up a second time) is not English: left as
    it is."""

    def __init__(self, translations: frozenset[str]) -> None:
        super().__init__()
        self.translations = translations

    def _marked(self, message: str) -> str:
        number = _render.get()
        if not number or message in self.translations:
            return message
        return f"{_OPEN}{number}{_CLOSE}{message}{_END}{number}{_CLOSE}"

    def gettext(self, message):
        return self._marked(message)

    def ngettext(self, singular, plural, n):
        return self._marked(singular if n == 1 else plural)

    def pgettext(self, context, message):
        return self._marked(message)

    def npgettext(self, context, singular, plural, n):
        return self._marked(singular if n == 1 else plural)

    ugettext, ungettext, upgettext, unpgettext = gettext, ngettext, pgettext, npgettext


def _with_marks(translations) -> None:
    # Flask-Babel keeps one Translations per locale for the app's life: the marks are added once.
    last = translations
    while getattr(last, "_fallback", None) is not None:
        if isinstance(last, _EnglishMarks):
            return
        last = last._fallback
    if not isinstance(last, _EnglishMarks):
        catalogue = getattr(translations, "_catalog", {})
        own = frozenset(v for v in catalogue.values() if isinstance(v, str))
        last.add_fallback(_EnglishMarks(own))


def _marking_wanted() -> bool:
    if not has_request_context():
        return False
    locale = get_locale()
    return locale is not None and locale.language != SOURCE_LANGUAGE


class MarkingTemplate(Template):
    """A Jinja template whose HTML render marks English fallbacks (see the module docstring)."""

    def render(self, *args, **kwargs) -> str:
        if not (self.name or "").endswith(".html") or not _marking_wanted():
            return super().render(*args, **kwargs)
        _with_marks(get_translations())
        number = str(secrets.randbelow(10**12)).zfill(12)
        token = _render.set(number)
        try:
            html = super().render(*args, **kwargs)
        finally:
            _render.reset(token)
        return mark_english(html, number)


def mark_english(html: str, number: str) -> str:
    """`html` with the fallbacks marked for this render (`number`) turned into `lang="en"`, and
    every marker removed (module docstring, step 2)."""
    opening, closing = f"{_OPEN}{number}{_CLOSE}", f"{_END}{number}{_CLOSE}"
    if opening not in html and _OPEN not in html and _END not in html:
        return html
    out: list[str] = []
    spans = 0  # spans opened in element content and not yet closed
    inside: str | None = None  # a raw or text-only element we are in
    start_at = 0  # its start tag's index in `out`
    held: list[str] = []  # its text, markers kept, to decide on lang="en"

    def content(text: str) -> None:
        nonlocal spans
        if inside in _RAW:
            out.append(_ANY_MARKER.sub("", text))
            return
        if inside in _LABELLED:
            held.append(text)
            out.append(_ANY_MARKER.sub("", text))
            return
        for piece in re.split(f"({re.escape(opening)}|{re.escape(closing)})", text):
            if piece == opening:
                out.append('<span lang="en">')
                spans += 1
            elif piece == closing:
                if spans:
                    out.append("</span>")
                    spans -= 1
            else:
                out.append(_ANY_MARKER.sub("", piece))

    def leave() -> None:
        nonlocal inside
        if inside in _LABELLED and _all_english("".join(held), opening, closing):
            tag = out[start_at]
            if not re.search(r"\slang\s*=", tag):
                out[start_at] = re.sub(r"^(<[a-zA-Z]+)", r'\1 lang="en"', tag)
        inside = None
        held.clear()

    pos = 0
    for m in _TAG.finditer(html):
        content(html[pos:m.start()])
        pos = m.end()
        closing_tag, name = m.group(1), (m.group(2) or "").lower()
        if inside in _RAW and not (closing_tag and name == inside):
            out.append(_ANY_MARKER.sub("", m.group(0)))  # "<" inside a script is not a tag
            continue
        if inside == "option" and name in ("option", "optgroup", "select"):
            leave()  # an <option>'s end tag may be left out
        elif inside and closing_tag and name == inside:
            leave()
        out.append(_ANY_MARKER.sub("", m.group(0)))
        if not closing_tag and name in _RAW | _LABELLED and not m.group(0).startswith("<!--"):
            inside, start_at = name, len(out) - 1
    content(html[pos:])
    if inside:
        leave()
    out.append("</span>" * spans)
    return "".join(out)


def _all_english(text: str, opening: str, closing: str) -> bool:
    # Every word of a text-only element inside this render's markers.
    if opening not in text:
        return False
    outside = re.sub(f"{re.escape(opening)}.*?{re.escape(closing)}", "", text, flags=re.S)
    return not re.search(r"\w", _ANY_MARKER.sub("", outside))


def init_app(app) -> None:
    """Render the app's templates with MarkingTemplate (before any is loaded)."""
    app.jinja_env.template_class = MarkingTemplate
