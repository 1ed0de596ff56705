"""The discloser's forms: the disclosure, typing back the receipt, opening the status page by
receipt, and a reply."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, SelectField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from portal.casework.categories import CATEGORIES, DISCLOSED_ELSEWHERE
from portal.intake.field_rules import LIMITS
from portal.web.forms import (
    CHOOSE,
    CodeField,
    OneTimeForm,
    PortalForm,
    TypedLine,
    TypedParagraphs,
    choices,
)

STRIP_METADATA_LABEL = _l(
    "Remove hidden details (author, edit history, location) from my files"
)


def strip_metadata_field() -> BooleanField:
    """The box, ticked by default, that asks for files' hidden details to be removed before they
    are kept (portal.intake.file_cleaning); left unticked, the officers see the details."""
    return BooleanField(STRIP_METADATA_LABEL, default=True)


def elsewhere_field(label: str, problem: str) -> SelectField:
    """Whether the disclosure was raised elsewhere (s 13(1)(c)), worded for who fills it in."""
    return SelectField(
        label,
        choices=choices(DISCLOSED_ELSEWHERE, CHOOSE),
        validators=[DataRequired(problem)],
    )


def contact_field(label: str) -> TypedParagraphs:
    return TypedParagraphs(label, validators=[Optional(), Length(max=LIMITS["contact"])])


def identifying_field(label: str) -> TypedParagraphs:
    return TypedParagraphs(label, validators=[Optional(), Length(max=LIMITS["identifying"])])


class DiscloseForm(OneTimeForm):
    channel = SelectField(
        _l("Who should receive this disclosure?"),
        validators=[DataRequired(_l("Please choose who should receive it."))],
    )
    category = SelectField(
        _l("What kind of serious wrongdoing is it?"),
        choices=choices(CATEGORIES, CHOOSE),
        validators=[DataRequired(_l("Please choose the kind of wrongdoing."))],
    )
    summary = TypedLine(
        _l("A short title"),
        validators=[DataRequired(_l("Please give a short title.")), Length(max=LIMITS["summary"])],
    )
    details = TypedParagraphs(
        _l("What happened?"),
        validators=[
            DataRequired(_l("Please describe what happened.")),
            Length(max=LIMITS["details"]),
        ],
    )
    disclosed_elsewhere = elsewhere_field(
        _l("Have you raised this anywhere else?"),
        _l("Please say whether you have raised it elsewhere."),
    )
    # Sealed with the case (casefiles.CASE_FIELDS): the choices are set by the view
    # (languages.written_choices); "" is "rather not say", chosen until the discloser says.
    language = SelectField(_l("The language you wrote in"), validators=[Optional()])
    contact = contact_field(_l("How to contact you (optional)"))
    identifying = identifying_field(_l("Anything else that could identify you (optional)"))
    exclude = SelectMultipleField(
        _l("Officers who must not see this disclosure (optional)"),
        coerce=int,
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
        validators=[Optional()],
    )
    strip_metadata = strip_metadata_field()

    TEXT_FIELDS = [
        "csrf_token",
        "submission_token",
        "channel",
        "category",
        "summary",
        "details",
        "disclosed_elsewhere",
        "language",
        "contact",
        "identifying",
        "exclude",
        "strip_metadata",
        "pow_challenge",  # the proof of work the page's script solved (portal.web.intake.payment)
        "pow_solution",
        "lang",  # a language button pressed (portal.web.languages)
    ]
    REPEATABLE = (
        "exclude",
    )  # checkboxes: one part per ticked box; any other field sent twice is refused


class ConfirmReceiptForm(PortalForm):
    receipt = CodeField(_l("Type your receipt code"), validators=[DataRequired()])
    expected = StringField(validators=[DataRequired()])


class StatusForm(PortalForm):
    receipt = CodeField(
        _l("Receipt code"), validators=[DataRequired(_l("Please type your receipt code."))]
    )


class ReplyForm(OneTimeForm):
    message = TypedParagraphs(
        _l("Your message"),
        validators=[DataRequired(_l("Please write a message.")), Length(max=200_000)],
    )

    strip_metadata = strip_metadata_field()

    # "lang": a language button pressed (portal.web.languages).
    TEXT_FIELDS = ["csrf_token", "submission_token", "page_for", "message", "strip_metadata",
                   "lang"]
