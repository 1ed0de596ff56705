"""Dates and sizes as people write them in New Zealand: one way, for every page.

The app factory registers these as Jinja filters (portal/web/app.py)::

    {{ case.received_day|nz_date }}           <time datetime="2026-12-07">7 December 2026</time>
    {{ deadline.day|nz_date("due-date") }}    the same, with id="due-date"
    {{ day|nz_date("due-date", data_deadline="respond") }}   ... and data-deadline="respond"
    {{ case.received_day|date_words }}        7 December 2026 (plain text, for an attribute)
    {{ entry_time|nz_time }}                  7 December 2026, 15:08 (in a <time>, as nz_date)
    {{ attachment.size|file_size }}           512 bytes, 4 KB, 3.1 MB, 1.2 GB
    {{ limits.file_bytes|limit_size }}        2.1 GB for 2 GiB (rounded down: a limit)
    referred to {{ authority|in_sentence }}   referred to an Ombudsman, the Commissioner of Police
    {% set the, name = authority|sentence_parts %}   the article apart, to bold the name

A date inside `<time datetime="YYYY-MM-DD">` keeps the machine-readable value where CONTRACT.md
names it (`id="expected-by"`, `id="due-date"`). Sizes are decimal (1 KB = 1,000 bytes), as file
managers on phones and most operating systems now show them. Each takes the page's locale
(`locale="mi"`: "7 Tīhema 2026"; the default, New Zealand English, writes the day, the month's
name and the year, with no leading zero); the app's filters pass the page's own (issue 28), and
Babel's CLDR data names the months and writes the numbers.
"""

from __future__ import annotations

import datetime as dt
import re

from babel.dates import format_date
from babel.numbers import format_decimal
from markupsafe import Markup

from portal.core.text import count_of

NZ_ENGLISH = "en_NZ"


def _locale(locale: str | None) -> str:
    # Plain "en" is written as New Zealand writes it.
    return NZ_ENGLISH if not locale or locale == "en" else locale


def _as_date(day: str | dt.date | None) -> dt.date | None:
    if day is None or day == "":
        return None
    if isinstance(day, dt.datetime):
        return day.date()
    if isinstance(day, dt.date):
        return day
    return dt.date.fromisoformat(str(day)[:10])


def date_words(day: str | dt.date | None, locale: str | None = None) -> str:
    """ "7 December 2026" for 2026-12-07 (a `date`, a `datetime` or a string starting
    YYYY-MM-DD), in `locale` ("7 Tīhema 2026" in "mi"); "" for None or ""."""
    date = _as_date(day)
    if date is None:
        return ""
    return format_date(date, "d MMMM y", locale=_locale(locale))


def nz_date(
    day: str | dt.date | None, id: str | None = None, locale: str | None = None, **attributes: str
) -> Markup:
    """`<time datetime="2026-12-07">7 December 2026</time>`, with `id` when given and any other
    attribute named (`data_deadline="respond"` is written `data-deadline="respond"`); "" for no
    date."""
    date = _as_date(day)
    if date is None:
        return Markup("")
    extra = Markup("").join(
        Markup(' {}="{}"').format(name.replace("_", "-"), value)
        for name, value in attributes.items()
    )
    start = Markup('<time id="{}"').format(id) if id else Markup("<time")
    return start + Markup(' datetime="{}"{}>{}</time>').format(
        date.isoformat(), extra, date_words(date, locale)
    )


def nz_time(moment: str | None, locale: str | None = None) -> Markup:
    """A local time 'YYYY-MM-DD HH:MM' (as portal.records.audit_entries.local_time gives it) as
    `<time datetime="2026-12-07T15:08">7 December 2026, 15:08</time>`; a bare day as nz_date;
    "" for None."""
    if not moment:
        return Markup("")
    day, _, clock = str(moment).replace("T", " ").partition(" ")
    if not clock:
        return nz_date(day, locale=locale)
    clock = clock[:5]
    return Markup('<time datetime="{}T{}">{}, {}</time>').format(
        day, clock, date_words(day, locale), clock
    )


# Words that make a name an office or a body, which English gives "the" inside a sentence ("referred
# to the Director of the Serious Fraud Office", "to the Commerce Commission"); a name without one is
# a proper name that takes none ("to WorkSafe New Zealand", "to Maritime New Zealand").
_OFFICE_WORDS = frozenset({
    "agency", "authority", "bank", "board", "bureau", "commission", "commissioner", "corporation",
    "council", "court", "department", "director", "general", "inspector", "institute", "ministry",
    "office", "ombudsman", "registrar", "service", "society", "tribunal", "trust", "university",
})


def sentence_parts(name: str) -> tuple[str, str]:
    """A name split into the article it takes inside a sentence and the rest: ("an ", "Ombudsman")
    for "An Ombudsman" (a leading article in lower case), ("the ", "Director of the Serious Fraud
    Office") for an office or a body, ("", "WorkSafe New Zealand") for a proper name."""
    for article in ("a ", "an ", "the "):
        if name.lower().startswith(article) and len(name) > len(article):
            return article, name[len(article):]
    words = name.replace("-", " ").lower().split()
    return ("the " if _OFFICE_WORDS.intersection(words) else ""), name


# What an officer may type before the organisation's name, already said by "The head of".
_HEAD_OF_TYPED = re.compile(r"^(?:the\s+)?head\s+of(?:\s+|$)", re.IGNORECASE)


def head_of(organisation: str) -> str:
    """The name the discloser is given for the head of an organisation typed by an officer, read
    right whatever was typed (review N3): "Ministry of Health", "the Ministry of Health" and "The
    head of the Ministry of Health." all give "The head of the Ministry of Health"; a proper name
    takes no article ("Te Whatu Ora" gives "The head of Te Whatu Ora"), as sentence_parts says."""
    article, rest = sentence_parts(organisation_name(organisation))
    return f"The head of {article.lower()}{rest}"


def organisation_name(typed: str) -> str:
    """The organisation's name as typed, its spaces and end punctuation tidied and any "the head
    of" before it taken off."""
    return _HEAD_OF_TYPED.sub("", " ".join(typed.split()).rstrip(".,;: "))


def in_sentence(name: str) -> str:
    """A name as it reads inside a sentence, with its article (sentence_parts): "Referred to an
    Ombudsman", "Referred to the Commissioner of Police", never "Referred to An Ombudsman" or
    "Referred to Commissioner of Police"; "Referred to WorkSafe New Zealand"."""
    return "".join(sentence_parts(name))


def file_size(n: int, locale: str | None = None, bytes_words=None) -> str:
    """A size in bytes as people read it: "1 byte", "999 bytes", "4 KB", "3.1 MB", "1.2 GB"
    (decimal units; the number written as `locale` writes it, "3,1 MB" in a comma locale).
    `bytes_words(n)` says a size under 1 KB in the page's language (an ngettext); English
    without it."""
    locale = _locale(locale)
    if n < 1000:
        return bytes_words(n) if bytes_words else count_of(n, "byte")
    if n < 999_500:  # 999,500 bytes and more read as 1.0 MB, never 1000 KB
        return f"{format_decimal(round(n / 1000), locale=locale)} KB"
    if n < 1_000_000_000:
        return f"{format_decimal(round(n / 1_000_000, 1), '0.0', locale=locale)} MB"
    return f"{format_decimal(round(n / 1_000_000_000, 1), '0.0', locale=locale)} GB"


def limit_size(n: int, locale: str | None = None, bytes_words=None) -> str:
    """A limit in bytes as a page states it ("Up to 2.1 GB each"): the units of file_size, rounded
    down, so a file of the size stated is never refused (2 GiB, 2,147,483,648 bytes: "2.1 GB")."""
    locale = _locale(locale)
    if n < 1000:
        return bytes_words(n) if bytes_words else count_of(n, "byte")
    if n < 1_000_000:
        return f"{format_decimal(n // 1000, locale=locale)} KB"
    unit, name = (1_000_000, "MB") if n < 1_000_000_000 else (1_000_000_000, "GB")
    tenths = n * 10 // unit
    return f"{format_decimal(tenths / 10, '0.#', locale=locale)} {name}"


def N_(text: str) -> str:
    """Marks a string of the domain for the message catalogue (`make translations` extracts it);
    the page translates it where it is shown (`{{ _(label) }}`). Returns `text` unchanged."""
    return text


class Sentence(str):
    """A sentence of the domain with values in it: the English text (`str`), which keeps its
    message (`msgid`, a string marked N_ with `%(name)s` placeholders) and its `values`, so that
    a page can say it in its own language (the `translated` filter, portal.web.languages).
    Values that are Sentences are translated in turn; others are data and shown as they are.

        Sentence(N_("The roster of %(name)s does not verify."), name="Audit")
    """

    msgid: str
    values: dict

    def __new__(cls, msgid: str, **values) -> Sentence:
        made = super().__new__(cls, msgid % values if values else msgid)
        made.msgid, made.values = msgid, values
        return made
