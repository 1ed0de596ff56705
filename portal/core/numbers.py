"""Whole numbers taken from a request (a URL, a form, an option): parsed strictly, never loosely.

Python's `int()` and `str.isdigit()` accept far more than a person means by a number: `int("٣")` is
3, `"²".isdigit()` is True but `int("²")` raises, and `int(" 1_0 ")` is 10. Every number a request
carries goes through `parse_whole_number` (or `whole_number_or` where a bad one should fall back to
a default, such as the first page of a list): ASCII digits only, at most `MAX_DIGITS` of them,
within a range.

Use it for any new numeric parameter::

    page = whole_number_or(request.args.get("page"), 1, minimum=1, maximum=1_000_000)
"""

from __future__ import annotations

import re

from portal.core.words import N_, Sentence

MAX_DIGITS = 18  # below 2**63, so a number never overflows an SQLite INTEGER
_DIGITS = re.compile(r"[0-9]{1,%d}" % MAX_DIGITS)


class NotAWholeNumber(ValueError):
    """The text is not a whole number written in ASCII digits within the allowed range."""


def parse_whole_number(
    text: str | None, *, minimum: int = 0, maximum: int = 10**MAX_DIGITS - 1
) -> int:
    """`text` as an int in [minimum, maximum]; only ASCII digits 0-9, no sign, space or underscore.

    Raises NotAWholeNumber (a ValueError) for anything else, including None and "".
    """
    if text is None or not _DIGITS.fullmatch(text):
        raise NotAWholeNumber(N_("Give a whole number written with the digits 0 to 9."))
    value = int(text)
    if not minimum <= value <= maximum:
        raise NotAWholeNumber(
            Sentence(N_("Give a whole number from %(low)d to %(high)d."), low=minimum, high=maximum)
        )
    return value


def whole_number_or(
    text: str | None, default: int, *, minimum: int = 0, maximum: int = 10**MAX_DIGITS - 1
) -> int:
    """`parse_whole_number`, or `default` when the text is missing or not a number in range."""
    try:
        return parse_whole_number(text, minimum=minimum, maximum=maximum)
    except NotAWholeNumber:
        return default
