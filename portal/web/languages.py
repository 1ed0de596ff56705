"""The page's language (issue 28): chosen without script, remembered in the `lang` session cookie.

The locale of a request is, in order: a language button just pressed in a form (`name="lang"`),
the `lang` cookie, the browser's `Accept-Language`, the installation's `default_language`. Only
the languages the operator offers (`languages` in installation.json, or PORTAL_LANGUAGES) are ever
chosen: a catalogue not yet reviewed by a fluent speaker stays hidden until the operator turns it
on (docs/translating.md).

Two ways to switch, neither needing script:

- `GET /language/<code>?next=/path` sets the cookie and goes back to the page: the link in every
  page's header (templates/base.html), on pages with no form to lose.
- A submit button inside a form (`{{ language_buttons() }}`, templates/_macros.html). Pressed, the
  form is not acted on: the page is shown again, in the new language, from the same GET view
  with the posted form bound to it (flask-wtf binds a POST's form data), so what was typed is
  kept. The token is checked first, as for any POST.

The cookie carries the language code and nothing else; it has no Max-Age or Expires (it ends with
the browser: a lasting cookie is a trace on a shared device), and is Secure, HttpOnly and
SameSite=Strict like the portal's other cookies.
"""

from __future__ import annotations

import datetime as dt

from babel import Locale
from flask import Blueprint, Flask, abort, current_app, g, redirect, request
from flask_babel import Babel, get_locale, gettext, ngettext, refresh
from flask_wtf.csrf import CSRFError, validate_csrf
from markupsafe import Markup, escape
from werkzeug.exceptions import HTTPException

from portal.casework import authority_contacts
from portal.core import resources, words
from portal.core.words import N_
from portal.records.audit_entries import detail_parts
from portal.web import untranslated
from portal.web.responses import set_session_cookie

bp = Blueprint("languages", __name__)

# Each language named in itself; any other offered language takes Babel's own name for it.
NAMES = {"en": "English", "mi": "Te reo Māori", "sm": "Gagana Sāmoa", "to": "Lea fakatonga"}
# The languages a discloser may say they wrote in, besides those the portal offers: those most
# spoken in New Zealand after English and te reo Māori (issue 28).
WRITTEN_LANGUAGES = ("en", "mi", "sm", "to", "hi", "zh")
# Each of them as an officer reads its name, in the page's language.
READER_NAMES = {
    "en": N_("English"),
    "mi": N_("te reo Māori"),
    "sm": N_("Samoan"),
    "to": N_("Tongan"),
    "hi": N_("Hindi"),
    "zh": N_("Chinese"),
}


def offered() -> tuple[str, ...]:
    """The codes a person may choose here: the installation's default first, then the others it
    offers."""
    settings = current_app.config["PORTAL_SETTINGS"]
    rest = [code for code in settings.languages if code != settings.default_language]
    return (settings.default_language, *rest)


def name_of(code: str) -> str:
    """"Te reo Māori" for "mi": a language named in itself."""
    if code in NAMES:
        return NAMES[code]
    try:
        return Locale.parse(code).get_display_name(code) or code
    except (ValueError, LookupError):
        return code


def written_choices() -> list[tuple[str, str]]:
    """(code, name in itself) of each language a discloser may say they wrote in: those offered
    here, then WRITTEN_LANGUAGES."""
    codes = dict.fromkeys((*offered(), *WRITTEN_LANGUAGES))
    return [(code, name_of(code)) for code in codes]


def reader_name(code: str) -> str:
    """The name of the language `code` in the page's language ("te reo Māori" for "mi" on an
    English page); Babel's name for another code, or the code itself when Babel knows none (a
    sealed value is the discloser's: never trusted to be a code)."""
    if code in READER_NAMES:
        return gettext(READER_NAMES[code])
    try:
        return Locale.parse(code).get_display_name(str(get_locale())) or code
    except (ValueError, LookupError, TypeError):
        return code


def _valid(code: str | None) -> str | None:
    return code if code and code in offered() else None


def choose_locale() -> str:
    """Flask-Babel's locale selector (see the module docstring for the order)."""
    chosen = _valid(g.get("chosen_language")) or _valid(
        request.cookies.get(current_app.config["PORTAL_LANG_COOKIE"])
    )
    if chosen:
        return chosen
    settings = current_app.config["PORTAL_SETTINGS"]
    return request.accept_languages.best_match(offered()) or settings.default_language


def page_language() -> str:
    """The code of the page's locale ("mi", "en")."""
    return str(get_locale())


def text_direction() -> str:
    """"rtl" for a right-to-left locale, else "ltr" (for `dir` on `<html>`)."""
    try:
        return Locale.parse(str(get_locale())).text_direction
    except (ValueError, LookupError):
        return "ltr"


def _remember(response):
    code = g.get("chosen_language")
    if code:
        set_session_cookie(response, current_app.config["PORTAL_LANG_COOKIE"], code)
    return response


def _safe_next(target: str | None) -> str:
    # Only a path on this site: never another origin (an open redirect).
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return "/"
    return target


@bp.get("/language/<code>")
def choose(code: str):
    """Set the `lang` cookie and go back to `next` (a path on this site)."""
    if not _valid(code):
        abort(404)
    _choose(code)
    return redirect(_safe_next(request.args.get("next")), 303)


def language_button_pressed():
    """Before a form's view: a language button pressed shows the same page again in that
    language, from its GET view with the posted text bound to its form (see the docstring)."""
    if request.method != "POST" or request.endpoint in current_app.config["OWN_LANGUAGE_BUTTON"]:
        return None
    code = _valid(request.form.get("lang"))
    if code is None:
        return None
    try:
        validate_csrf(request.form.get("csrf_token"))
    except Exception as exc:  # flask-wtf raises ValidationError for a missing or stale token
        raise CSRFError(str(exc)) from exc
    adapter = current_app.url_map.bind_to_environ(request.environ)
    try:
        endpoint, args = adapter.match(request.path, method="GET")
    except HTTPException:
        _choose(code)
        return redirect(request.path, 303)
    _choose(code)
    return current_app.view_functions[endpoint](**args)


def _choose(code: str) -> None:
    g.chosen_language = code
    refresh()  # the locale, if already looked up in this request, is looked up again


def switched(form, fields) -> bool:
    """For a view that reads its own body (a streamed form, `fields` as read): True when the
    form's language button was pressed with a good token. The language is then chosen for this
    response and the form's problems are cleared: the view shows the form again, as it was
    typed, instead of acting on it."""
    code = _valid(fields.get("lang") if fields is not None else None)
    if code is None:
        return False
    form.validate()
    if form.csrf_token.errors:
        return False  # the view answers a stale form in its own words
    for f in form:
        f.errors = []
    _choose(code)
    return True


def translated(text):
    """A string of the domain (marked N_ there) or a words.Sentence, in the page's language; a
    Sentence's values that are Sentences too are translated first, days (`date`) written in the
    page's language, and a list's items each so, joined by "; ". Anything else as it is."""
    if isinstance(text, words.Sentence):
        values = {k: _value_in(v) for k, v in text.values.items()}
        return gettext(text.msgid, **values) if values else gettext(text.msgid)
    return gettext(text) if isinstance(text, str) and text else text


def _value_in(value):
    # A value put in a translated Sentence.
    if isinstance(value, words.Sentence):
        return translated(value)
    if isinstance(value, dt.date):
        return day_words(value)
    if isinstance(value, list):
        return "; ".join(str(_value_in(item)) for item in value)
    return value


def detail_words(detail: dict, authorities: dict[int, str] | None = None) -> str:
    """An audit entry's detail in the page's language (audit_entries.detail_parts)."""
    return ", ".join(translated(part) for part in detail_parts(detail, authorities))


def day_words(day) -> str:
    """"7 December 2026" in the page's language (words.date_words)."""
    return words.date_words(day, page_language())


def said(exc: Exception) -> str:
    """What an error of the domain says (its first argument, marked N_ or a words.Sentence), in
    the page's language."""
    return translated(exc.args[0]) if exc.args else str(exc)


def _bytes_words(n: int) -> str:
    return ngettext("%(num)d byte", "%(num)d bytes", n)


def limit_words(n: int) -> str:
    """A limit of `n` bytes as this page states it (the `limit_size` filter: "2.1 GB")."""
    return words.limit_size(n, str(get_locale()), _bytes_words)


def with_te_reo(shown: str, name: str | None = None) -> Markup:
    """An authority's name (`shown`: the directory's name, or its part after the article) with its
    official te reo Māori name (portal.casework.authority_contacts.te_reo_names, looked up by the
    whole directory name `name`, else `shown`) beside it, each marked with its language (WCAG 2.2
    SC 3.1.2): on a te reo Māori page the te reo first, the English in brackets; on any other page
    the English first. A name without one is `shown`, escaped."""
    te_reo = authority_contacts.te_reo_names().get(name or shown)
    if not te_reo:
        return escape(shown)
    if page_language() == "mi":
        return Markup('{} (<span lang="en">{}</span>)').format(te_reo, shown)
    return Markup('{} (<span lang="mi">{}</span>)').format(shown, te_reo)


def add_locale_filters(app: Flask) -> None:
    """`nz_date`, `nz_time`, `date_words`, `file_size` and `limit_size` (portal.core.words) in
    the page's locale."""
    app.add_template_filter(
        lambda day, id=None, **attrs: words.nz_date(day, id, str(get_locale()), **attrs),
        "nz_date",
    )
    app.add_template_filter(lambda m: words.nz_time(m, str(get_locale())), "nz_time")
    app.add_template_filter(lambda d: words.date_words(d, str(get_locale())), "date_words")
    app.add_template_filter(
        lambda n: words.file_size(n, str(get_locale()), _bytes_words), "file_size"
    )
    app.add_template_filter(limit_words, "limit_size")
    # A string of the domain, marked N_ there, in the page's language: `kinds|map("translated")`.
    app.add_template_filter(translated, "translated")
    app.add_template_filter(with_te_reo, "with_te_reo")


def init_app(app: Flask) -> None:
    """Flask-Babel with the portal's own catalogues (portal/translations, compiled at install),
    the selector, the switch's routes and the cookie."""
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(resources.translations_dir()))
    app.config["BABEL_DEFAULT_LOCALE"] = app.config["PORTAL_SETTINGS"].default_language
    app.config.setdefault("OWN_LANGUAGE_BUTTON", frozenset())
    Babel(app, locale_selector=choose_locale)
    # English shown for a string the page's catalogue lacks is marked lang="en" (untranslated.py).
    untranslated.init_app(app)
    # Whitespace inside {% trans %} is folded, as `make translations` extracts it (babel.cfg).
    app.jinja_env.policies["ext.i18n.trimmed"] = True
    app.register_blueprint(bp)
    app.before_request(language_button_pressed)
    app.after_request(_remember)

    # Globals, so that imported macros see them too (templates/_macros.html language_buttons).
    app.jinja_env.globals.update(
        page_language=page_language,
        page_direction=text_direction,
        language_choices=lambda: [(code, name_of(code)) for code in offered()],
        language_name=reader_name,
    )
