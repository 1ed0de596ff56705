"""The discloser's forms: the disclosure, typing back the receipt, opening the status page by
receipt, and a reply."""

from __future__ import annotations

from wtforms import BooleanField, SelectField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from portal.casework.categories import CATEGORIES, DISCLOSED_ELSEWHERE
from portal.web.forms import (
    CHOOSE,
    CodeField,
    OneTimeForm,
    PortalForm,
    TypedLine,
    TypedParagraphs,
    choices,
)

STRIP_METADATA_LABEL = "Remove hidden details (author, edit history, location) from my files"


def strip_metadata_field() -> BooleanField:
    """The box, ticked by default, that asks for files' hidden details to be removed before they
    are kept (portal.intake.file_cleaning); left unticked, the officers see the details."""
    return BooleanField(STRIP_METADATA_LABEL, default=True)


class DiscloseForm(OneTimeForm):
    channel = SelectField(
        "Who should receive this disclosure?",
        validators=[DataRequired("Please choose who should receive it.")],
    )
    category = SelectField(
        "What kind of serious wrongdoing is it?",
        choices=choices(CATEGORIES, CHOOSE),
        validators=[DataRequired("Please choose the kind of wrongdoing.")],
    )
    summary = TypedLine(
        "A short title", validators=[DataRequired("Please give a short title."), Length(max=200)]
    )
    details = TypedParagraphs(
        "What happened?",
        validators=[DataRequired("Please describe what happened."), Length(max=200_000)],
    )
    disclosed_elsewhere = SelectField(
        "Have you raised this anywhere else?",
        choices=choices(DISCLOSED_ELSEWHERE, CHOOSE),
        validators=[DataRequired("Please say whether you have raised it elsewhere.")],
    )
    contact = TypedParagraphs(
        "How to contact you (optional)", validators=[Optional(), Length(max=2000)]
    )
    identifying = TypedParagraphs(
        "Anything else that could identify you (optional)",
        validators=[Optional(), Length(max=20_000)],
    )
    exclude = SelectMultipleField(
        "Officers who must not see this disclosure (optional)",
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
    receipt = CodeField("Type your receipt code", validators=[DataRequired()])
    expected = StringField(validators=[DataRequired()])


class StatusForm(PortalForm):
    receipt = CodeField(
        "Receipt code", validators=[DataRequired("Please type your receipt code.")]
    )


class ReplyForm(OneTimeForm):
    message = TypedParagraphs(
        "Your message", validators=[DataRequired("Please write a message."), Length(max=200_000)]
    )

    strip_metadata = strip_metadata_field()

    # "lang": a language button pressed (portal.web.languages).
    TEXT_FIELDS = ["csrf_token", "submission_token", "page_for", "message", "strip_metadata",
                   "lang"]
