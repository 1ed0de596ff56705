"""What every form shares (flask-wtf); each audience's forms are in portal/web/<concern>/forms.py
(labels, limits and validation); every POST form carries csrf_token.

Shared pieces every form (and every form added later) should use, so careless or unusual input is
handled the same way everywhere:

- `TypedLine` and `TypedParagraphs` for anything a person types. A field missing from the request is
  an empty one (""), never None, and line breaks are normalised to LF (`portal.core.text`) before
  any length check or storage, so the server counts what the browser counted.
- `choices(options, prompt=...)` for a required choice: it starts on an empty prompt, so nothing is
  chosen for the person; pair it with `DataRequired("Please choose ...")`.
- `OneTimeForm` for a form whose POST creates something (a case, a message, a status change, a
  channel). Its hidden `submission_token` is fresh on every page; pass `form.submission_token.data`
  to the domain function, which claims it in the same transaction as what it creates
  (`portal.guard.submissions.claim`), so the same form sent twice creates one thing.
- Numbers from a request go through `portal.core.numbers`, never `int()`.
- `CodeField` for a code a person types or pastes (receipt, six-digit or recovery code): invisible
  characters and spaces are dropped (`portal.core.text.normalise_code`).
- `PortalForm` is the base of every form: its CSRF token renders with the hidden `page_for` field
  beside it, so every form names what its page was for and the two-tab rule
  (portal.web.page_marks) holds for every form, including those added later.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.csrf import _FlaskFormCSRF
from markupsafe import Markup
from wtforms import HiddenField, IntegerField, StringField, TextAreaField
from wtforms.csrf.core import CSRFTokenField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional

from portal.core.numbers import NotAWholeNumber, parse_whole_number
from portal.core.text import normalise_code, normalise_line_breaks
from portal.guard import submissions
from portal.web import page_marks


def choices(options: dict[str, str], prompt: str | None = None) -> list[SelectChoice]:
    """Select options, their labels (marked N_ in the domain) and `prompt` in the page's language;
    with `prompt`, an empty first option so that a required choice starts unselected."""
    first = [SelectChoice("", _l(prompt))] if prompt else []
    return first + [SelectChoice(value, _l(label)) for value, label in options.items()]


class _Typed:
    """Typed text: a missing field is "", line breaks are LF before validators count them."""

    def process_formdata(self, valuelist):
        self.data = normalise_line_breaks(valuelist[0]) if valuelist else ""

    def process_data(self, value):
        self.data = normalise_line_breaks(value) if value is not None else ""


class TypedLine(_Typed, StringField):
    """A one-line text input (see the module docstring)."""


class TypedParagraphs(_Typed, TextAreaField):
    """A text area whose paragraphs are kept (see the module docstring)."""


class _MarkedTokenField(CSRFTokenField):
    """The CSRF token, with the page's `page_for` mark beside it (portal.web.page_marks)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # Still a CSRF token to the pages: their problem summary leaves its error out
        # (templates/_macros.html), for the views say in plain words what it means.
        self.type = "CSRFTokenField"

    def __call__(self, **kwargs) -> Markup:
        return super().__call__(**kwargs) + page_marks.hidden_field()


class _MarkedCSRF(_FlaskFormCSRF):
    field_class = _MarkedTokenField


class PortalForm(FlaskForm):
    """The base of every form (see the module docstring)."""

    class Meta:
        csrf_class = _MarkedCSRF

        def render_field(self, field, render_kw):
            # A hidden field needs no id (no label names it), and a page of several forms would
            # otherwise repeat `csrf_token` and `submission_token` as ids.
            if getattr(field.widget, "input_type", None) == "hidden":
                render_kw = {"id": False, **render_kw}
            return super().render_field(field, render_kw)


class CodeField(StringField):
    """A typed or pasted code (see the module docstring)."""

    def process_formdata(self, valuelist):
        self.data = normalise_code(valuelist[0]) if valuelist else ""


class OneTimeForm(PortalForm):
    """A form whose POST creates something; `submission_token` recognises the same form sent
    twice."""

    submission_token = HiddenField(
        default=submissions.new_token, validators=[Optional(), Length(max=100)]
    )


CHOOSE = _l("Choose one")


class WholeNumberField(IntegerField):
    """An IntegerField parsed strictly (portal.core.numbers): ASCII digits only, at most 18 of them;
    anything else is "not a whole number", never `int()`'s looser reading or an overflow."""

    def process_formdata(self, valuelist):
        if valuelist:
            try:
                self.data = parse_whole_number(valuelist[0].strip())
            except NotAWholeNumber:
                self.data = None
                raise ValueError(
                    self.gettext("Give a whole number written with the digits 0 to 9.")
                ) from None


class EmptyForm(PortalForm):
    """A form with only its CSRF token, for buttons such as 'Sign out'."""
