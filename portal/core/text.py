"""Text a person typed: one way to normalise it on arrival and one way to show it.

Browsers count a line break in a text box as one character but send it as CR LF (HTML's form
encoding), so a field that fitted its `maxlength` in the browser would be longer on the server.
Every typed value is therefore normalised by `normalise_line_breaks` before any length check and
before it is stored; the text fields of `portal.web.forms` (`TypedLine`, `TypedParagraphs`) do it
for every form.

Every page shows typed text (disclosure fields, messages, status reasons, history, notes, anything
added later) through the Jinja filter `typed`, registered by the app factory::

    <div class="typed">{{ message.body|typed }}</div>

It escapes the text and keeps its paragraphs (a blank line) and line breaks; nothing the person
typed is ever interpreted as markup.
"""

from __future__ import annotations

import re

from markupsafe import Markup, escape

_LINE_BREAK = re.compile(r"\r\n|\r|\n|\u2028|\u0085")
_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n\s*|\u2029")


def normalise_line_breaks(text: str | None) -> str:
    """`text` with every line break (CR LF, CR, LF, NEL, U+2028) as a single LF; None becomes ""."""
    if not text:
        return ""
    return _LINE_BREAK.sub("\n", text)


def typed(text: str | None) -> Markup:
    """HTML for typed text: escaped, each paragraph in <p>, single line breaks as <br>."""
    paragraphs = [
        p for p in _PARAGRAPH_BREAK.split(normalise_line_breaks(text).strip("\n")) if p.strip()
    ]
    return Markup("").join(
        Markup("<p>{}</p>").format(Markup("<br>").join(escape(line) for line in p.split("\n")))
        for p in paragraphs
    )
