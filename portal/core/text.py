"""Text a person typed: one way to normalise it on arrival and one way to show it.

Browsers count a line break in a text box as one character but send it as CR LF (HTML's form
encoding), so a field that fitted its `maxlength` in the browser would be longer on the server.
Every typed value is therefore normalised by `normalise_line_breaks` before any length check and
before it is stored; the text fields of `portal.web.forms` (`TypedLine`, `TypedParagraphs`) do it
for every form.

Every page shows typed text (disclosure fields, messages, status reasons, history, notes, anything
added later) through the Jinja filter `typed`, registered by the app factory::

    <div class="typed">{{ message.body|typed }}</div>

A discloser's text on an officer's page carries the language they wrote in:
`{{ view.fields.details|typed(view.fields.language) }}` gives `<p lang="mi">`. It escapes the
text and keeps its paragraphs (a blank line) and line breaks; nothing the person typed is ever
interpreted as markup.

Codes a person types or pastes (a receipt, a case reference, a six-digit or recovery code) go
through `normalise_code`: a code pasted from a chat or a PDF often carries a zero-width space, a
byte-order mark, a soft hyphen or a no-break space that nobody can see. Counts shown in words go
through `count_of` (the Jinja filter `count_of`), so "1 byte", never "1 bytes".
"""

from __future__ import annotations

import re
import unicodedata

from markupsafe import Markup, escape

_LINE_BREAK = re.compile(r"\r\n|\r|\n|\u2028|\u0085")
_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n\s*|\u2029")


def normalise_line_breaks(text: str | None) -> str:
    """`text` with every line break (CR LF, CR, LF, NEL, U+2028) as a single LF; None becomes ""."""
    if not text:
        return ""
    return _LINE_BREAK.sub("\n", text)


# A language tag's shape (RFC 5646, section 2.1, loosely: letters, digits and hyphens).
_LANGUAGE_TAG = re.compile(r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*")


def typed(text: str | None, language: str | None = None) -> Markup:
    """HTML for typed text: escaped, each paragraph in <p>, single line breaks as <br>.
    `language`, the code of the language it was written in ("mi"), puts `lang` on each paragraph
    (WCAG 2.2 SC 3.1.2) when it has a language tag's shape (RFC 5646); anything else is left out
    (a discloser's sealed `language` field is never trusted to be a code)."""
    paragraphs = [
        p for p in _PARAGRAPH_BREAK.split(normalise_line_breaks(text).strip("\n")) if p.strip()
    ]
    opening = Markup("<p>")
    if language and _LANGUAGE_TAG.fullmatch(language):
        opening = Markup('<p lang="{}">').format(language)
    return Markup("").join(
        opening + Markup("<br>").join(escape(line) for line in p.split("\n")) + Markup("</p>")
        for p in paragraphs
    )


def normalise_code(text: str | None) -> str:
    """A typed code as meant: NFKC (full-width digits become digits, a no-break space a space), then
    without Unicode format characters (category Cf: zero-width spaces and joiners, the byte-order
    mark, the soft hyphen, direction marks) and without whitespace. None becomes ""."""
    if not text:
        return ""
    return "".join(
        c
        for c in unicodedata.normalize("NFKC", text)
        if not c.isspace() and unicodedata.category(c) != "Cf"
    )


def count_of(n: int, singular: str, plural: str | None = None) -> str:
    """ "1 byte", "2 bytes", "0 bytes": a count with its noun in the right number."""
    noun = singular if n == 1 else (plural or singular + "s")
    return f"{n:,} {noun}" if n >= 10_000 else f"{n} {noun}"
