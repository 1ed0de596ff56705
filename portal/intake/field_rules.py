"""The rules the disclosure form holds a discloser's fields to (portal/web/intake/forms.py takes
its limits from here), checked again on a case sealed in the discloser's browser, whose fields the
server never saw before storing them (issue 27; SECURITY.md, "Fields sealed in a browser"): the
officers' case page flags each value the form would have refused, and shows it as sent."""

from __future__ import annotations

from collections.abc import Collection

from portal.casework.categories import CATEGORIES, DISCLOSED_ELSEWHERE
from portal.core.words import N_, Sentence
from portal.records.casefiles import UNOPENED_FIELD

# The form's limits, in characters after line breaks are made LF (portal.web.forms, _Typed).
LIMITS = {"summary": 200, "details": 200_000, "contact": 2000, "identifying": 20_000}
REQUIRED = ("category", "summary", "details", "disclosed_elsewhere")
ONE_LINE = ("summary",)  # a text input: a browser's own form cannot put a line break in it


def field_problems(
    fields: dict[str, str], languages: Collection[str], *, skip: Collection[str] = ()
) -> dict[str, Sentence]:
    """Field name -> why the disclosure form would have refused its value (for the officer, in
    plain words), for `fields` as decrypted (casefiles.read_fields, the identity fields with
    them); `languages`: the codes the form offers for "language" ("" is always allowed); `skip`:
    fields not to check (withheld from this officer). Empty when every field is one the form
    takes."""
    problems: dict[str, Sentence] = {}
    choices = {"category": CATEGORIES, "disclosed_elsewhere": DISCLOSED_ELSEWHERE,
               "language": {"": "", **dict.fromkeys(languages, "")}}
    for name, value in fields.items():
        if name in skip:
            continue
        if value == UNOPENED_FIELD:
            problems[name] = Sentence(N_(
                "Could not be opened: what the discloser's browser sealed does not open, or is not"
                " text."))
        elif name in REQUIRED and not value.strip():
            problems[name] = Sentence(N_("Empty: the form does not take a disclosure without it."))
        elif name in choices and value not in choices[name]:
            problems[name] = Sentence(N_(
                "Not one of the form's choices: this is the text the discloser's browser sent,"
                " not a choice the portal offered."))
        elif name in LIMITS and len(value) > LIMITS[name]:
            problems[name] = Sentence(
                N_("Longer than the form allows: %(count)s characters, where the form takes"
                   " %(limit)s."), count=len(value), limit=LIMITS[name])
        elif name in ONE_LINE and "\n" in value:
            problems[name] = Sentence(N_(
                "On more than one line, which the form's one-line field cannot send."))
    return problems
