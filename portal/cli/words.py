"""What the command line says to an operator (its errors, results and prompts), in the operator's
language (issue 28): PORTAL_LANGUAGE if set, else the locale of their shell as gettext reads it
(LC_ALL, LC_MESSAGES, LANG), else English; a language without a catalogue is English.

The operator's own setting, not the installation's `default_language`: that one is for the pages
disclosers and officers read, and a command may run before any installation exists (`portal
init`) or across many (`portal service`). What machines read stays untranslated whatever the
language: JSON, `totp: SECRET`, `enrolment link: URL`, dates, keys and the other values a script
takes from a line (docs/translating.md)."""

from __future__ import annotations

import functools
import os

import click
from babel.support import NullTranslations, Translations

from portal.core import resources, words

_LOCALE_VARIABLES = ("PORTAL_LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")


def cli_language() -> str:
    """The language code the command line speaks ("mi", "en"), from the environment."""
    for name in _LOCALE_VARIABLES:
        code = os.environ.get(name, "").split(".")[0].split("@")[0]
        if code and code not in ("C", "POSIX"):
            return code
    return "en"


@functools.lru_cache(maxsize=8)
def _catalogue(code: str, folder: str) -> NullTranslations:
    return Translations.load(folder, [code])


def _translations() -> NullTranslations:
    return _catalogue(cli_language(), str(resources.translations_dir()))


def _(message: str, /, **values) -> str:
    """`message` (extracted into the catalogue) in the operator's language, `%(name)s` filled."""
    text = _translations().gettext(message)
    return text % values if values else text


def ngettext(singular: str, plural: str, n: int, /, **values) -> str:
    """The form for `n` (also given as `%(num)d`) in the operator's language."""
    return _translations().ngettext(singular, plural, n) % {"num": n, **values}


def said(exc: Exception) -> str:
    """What an error of the domain says, in the operator's language: its message when marked N_
    there or a words.Sentence (values that are Sentences translated too); other text as it is."""
    return translated(exc.args[0] if exc.args else str(exc))


def translated(message) -> str:
    """A message of the domain (marked N_ there, or a words.Sentence) in the operator's language;
    other text as it is."""
    if isinstance(message, words.Sentence):
        values = {
            k: translated(v) if isinstance(v, words.Sentence) else v
            for k, v in message.values.items()
        }
        text = _translations().gettext(message.msgid)
        return text % values if values else text
    if isinstance(message, str) and message:
        return _translations().gettext(message)
    return str(message)


class Refused(click.ClickException):
    """A command refused or failed: one plain line, "Error: ..." in the operator's language, exit
    code 1 (click's own ClickException says "Error:" in English)."""

    def show(self, file=None) -> None:
        click.echo(_("Error: %(message)s", message=self.format_message()), err=True, file=file)
