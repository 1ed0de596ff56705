"""Form definitions (flask-wtf): labels, limits and validation; every POST form carries csrf_token.

Shared pieces every form (and every form added later) should use, so careless or unusual input is
handled the same way everywhere:

- `TypedLine` and `TypedParagraphs` for anything a person types. A field missing from the request is
  an empty one (""), never None, and line breaks are normalised to LF (`portal.core.text`) before
  any
  length check or storage, so the server counts what the browser counted.
- `choices(options, prompt=...)` for a required choice: it starts on an empty prompt, so nothing is
  chosen for the person; pair it with `DataRequired("Please choose ...")`.
- `OneTimeForm` for a form whose POST creates something (a case, a message, a status change, a
  channel). Its hidden `submission_token` is fresh on every page; pass `form.submission_token.data`
  to
  the domain function, which claims it in the same transaction as what it creates
  (`portal.guard.submissions.claim`), so the same form sent twice creates one thing.
- Numbers from a request go through `portal.core.numbers`, never `int()`.
"""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    HiddenField,
    IntegerField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.widgets import CheckboxInput, ListWidget
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from portal.guard import submissions
from portal.core.numbers import NotAWholeNumber, parse_whole_number
from portal.casework.categories import CATEGORIES, DISCLOSED_ELSEWHERE
from portal.casework.identity import CONSULTATION as IDENTITY_CONSULTATION, GROUNDS
from portal.casework.referrals import CONCERNS, CONSULTATION
from portal.core.text import normalise_line_breaks


def choices(options: dict[str, str], prompt: str | None = None) -> list[SelectChoice]:
    """Select options; with `prompt`, an empty first option so that a required choice starts
    unselected."""
    first = [SelectChoice("", prompt)] if prompt else []
    return first + [SelectChoice(value, label) for value, label in options.items()]


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


class OneTimeForm(FlaskForm):
    """A form whose POST creates something; `submission_token` recognises the same form sent
    twice."""

    submission_token = HiddenField(
        default=submissions.new_token, validators=[Optional(), Length(max=100)]
    )


CHOOSE = "Choose one"


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
    ]
    REPEATABLE = (
        "exclude",
    )  # checkboxes: one part per ticked box; any other field sent twice is refused


class ConfirmReceiptForm(FlaskForm):
    receipt = StringField("Type your receipt code", validators=[DataRequired()])
    expected = StringField(validators=[DataRequired()])


class StatusForm(FlaskForm):
    receipt = StringField(
        "Receipt code", validators=[DataRequired("Please type your receipt code.")]
    )


class ReplyForm(OneTimeForm):
    message = TypedParagraphs(
        "Your message", validators=[DataRequired("Please write a message."), Length(max=200_000)]
    )

    TEXT_FIELDS = ["csrf_token", "submission_token", "message"]


class OfficerReplyForm(ReplyForm):
    progress_update = BooleanField("This message is a progress update under s 13(2)")


class StepForm(FlaskForm):
    step = SelectField("Step", validators=[DataRequired()])


class WholeNumberField(IntegerField):
    """An IntegerField parsed strictly (portal.core.numbers): ASCII digits only, at most 18 of them;
    anything
    else is "not a whole number", never `int()`'s looser reading or an overflow."""

    def process_formdata(self, valuelist):
        if valuelist:
            try:
                self.data = parse_whole_number(valuelist[0].strip())
            except NotAWholeNumber:
                self.data = None
                raise ValueError(
                    self.gettext("Give a whole number written with the digits 0 to 9.")
                ) from None


class ExtensionForm(OneTimeForm):
    expected_timeframe = TypedLine(
        "How long you expect to take, shown to the discloser (s 13(2))",
        validators=[
            DataRequired("Tell the discloser how long you expect to take."),
            Length(max=500),
        ],
    )
    update_every = WholeNumberField(
        "Give a progress update every this many working days",
        default=20,
        validators=[
            InputRequired("Give a number of working days."),
            NumberRange(1, 60, "Choose between 1 and 60 working days."),
        ],
    )


class AssignForm(OneTimeForm):
    officer = SelectField("Assign to", validators=[Optional()])


class NoteForm(OneTimeForm):
    note = TypedParagraphs(
        "Internal note (officers only, never shown to the discloser)",
        validators=[DataRequired("Write the note first."), Length(max=20_000)],
    )


class OralConfirmForm(FlaskForm):
    understanding = TypedParagraphs(
        "Our understanding of the disclosure, as it will be sent to the discloser (s 13)",
        validators=[
            DataRequired("Write a summary of your understanding of the disclosure first."),
            Length(max=20_000),
        ],
    )


class ReferralForm(OneTimeForm):
    # Checked against the directory by referrals.refer, which also takes an entry's exact name
    # (scripts).
    authority = SelectField(
        "Appropriate authority",
        validate_choice=False,
        validators=[DataRequired("Choose an appropriate authority.")],
    )
    concerns = SelectField(
        "Does the information concern either of these?",
        choices=choices(CONCERNS),
        default="general",
        validators=[DataRequired()],
    )
    consultation = SelectField(
        "Consulting the discloser (s 16)",
        choices=choices(CONSULTATION, CHOOSE),
        validators=[DataRequired("Record whether the discloser was consulted.")],
    )
    consultation_note = TypedParagraphs(
        "How they were consulted, or why it was not practicable",
        validators=[Optional(), Length(max=5000)],
    )
    reason = TypedParagraphs(
        "Reason for referring, shown to the discloser with the authority's name",
        validators=[DataRequired("Give the discloser the reason."), Length(max=20_000)],
    )


class AuthorityForm(OneTimeForm):
    name = TypedLine("Name", validators=[DataRequired(), Length(max=200)])
    covers = TypedParagraphs("What it covers", validators=[DataRequired(), Length(max=2000)])
    source = TypedLine(
        "Source (a section of the Act, or who added it)",
        validators=[DataRequired(), Length(max=300)],
    )
    exclusive_for = SelectField(
        "Exclusive route (s 25)",
        choices=[SelectChoice("", "None")]
        + choices({k: v for k, v in CONCERNS.items() if k != "general"}),
        validators=[Optional()],
    )


class InterestForm(OneTimeForm):
    interest = TypedLine(
        "Declare an interest",
        validators=[DataRequired("Describe the interest first."), Length(max=1000)],
    )


class GrantForm(FlaskForm):
    """Give another officer of a channel access to one case, or (case left empty) to all its cases
    you read."""

    channel = SelectField("Channel", validators=[DataRequired("Choose the channel.")])
    officer = SelectField(
        "Officer to give access to", validators=[DataRequired("Choose an officer.")]
    )
    case = TypedLine(
        "Case reference (leave empty for every case of this channel that you can read)",
        validators=[Length(max=40)],
    )


class HoldForm(FlaskForm):
    ref = StringField(
        "Case reference",
        validators=[DataRequired("Type the case's reference, such as PD-…"), Length(max=40)],
    )


class EmptyForm(FlaskForm):
    """A form with only its CSRF token, for buttons such as 'Sign out'."""


class LoginForm(FlaskForm):
    email = StringField("Email address", validators=[DataRequired(), Length(max=320)])
    passphrase = PasswordField("Passphrase", validators=[DataRequired(), Length(max=1024)])
    totp = StringField(
        "Six-digit code from your authenticator app (or a recovery code)",
        validators=[DataRequired(), Length(max=40)],
    )


class ConfirmPassphraseForm(FlaskForm):
    """The passphrase asked again before a weighty action (portal.web.keys.confirm)."""

    confirm_passphrase = PasswordField(
        "Your passphrase", validators=[DataRequired("Type your passphrase."), Length(max=1024)]
    )


class StatusChangeForm(OneTimeForm):
    status = SelectField("New status", validators=[DataRequired()])
    reason = TypedParagraphs(
        "Reason, shown to the discloser (needed for 'referred' and 'no further action')",
        validators=[Optional(), Length(max=20_000)],
    )
    expected_timeframe = TypedLine(
        "Expected timeframe, shown to the discloser (optional)",
        validators=[Optional(), Length(max=500)],
    )


class AddChannelForm(OneTimeForm):
    name = TypedLine("Channel name", validators=[DataRequired(), Length(max=200)])
    description = TypedLine("Description (optional)", validators=[Optional(), Length(max=1000)])
    regime = SelectField(
        "Statutory clock",
        default="nz",
        validators=[Optional()],
        choices=[
            SelectChoice(
                "nz", "New Zealand: 20 working days (Protected Disclosures Act 2022, s 13)"
            ),
            SelectChoice("eu", "European Union: 7 days to acknowledge, 3 months to give feedback"),
        ],
    )


class ChannelMembershipForm(OneTimeForm):
    officer = SelectField("Officer", validators=[DataRequired("Please choose an officer.")])
    channel = SelectField("Channel", validators=[DataRequired("Please choose a channel.")])


class IdentityReleaseForm(OneTimeForm):
    """s 17: releasing the discloser's identity beyond the case's readers."""

    recipient = TypedLine(
        "To whom (a person and their organisation), shown to the discloser",
        validators=[DataRequired("Say to whom the identity would be released."), Length(max=300)],
    )
    ground = SelectField(
        "On what basis (s 17(2))",
        choices=choices(GROUNDS, CHOOSE),
        validators=[
            DataRequired(
                "Choose the discloser's consent or a ground of s 17(2)(b): "
                "without one, the identity is not released."
            )
        ],
    )
    reason = TypedParagraphs(
        "Why, shown to the discloser",
        validators=[DataRequired("Give the reason: the discloser will see it."), Length(max=5000)],
    )
    consultation = SelectField(
        "Consulting the discloser first (needed for a ground other than consent)",
        choices=choices(IDENTITY_CONSULTATION, CHOOSE),
        validators=[Optional()],
    )
    consultation_note = TypedParagraphs(
        "How they were consulted, or why it was not practicable",
        validators=[Optional(), Length(max=5000)],
    )


class ConsentAnswerForm(FlaskForm):
    request = WholeNumberField("Question", validators=[InputRequired()])
    answer = SelectField(
        "Your answer",
        choices=[SelectChoice("yes", "Yes, I agree"), SelectChoice("no", "No")],
        validators=[DataRequired("Answer yes or no.")],
    )


class CaseExportForm(FlaskForm):
    include_identity = BooleanField(
        "Include the discloser's contact details (only after a release to this "
        "recipient is on record)"
    )
    recipient = TypedLine("For whom (as in the release)", validators=[Optional(), Length(max=300)])


class OralDisclosureForm(DiscloseForm):
    """The disclosure form's fields, filled in by an officer for a disclosure made in person or by
    phone."""

    exclude = None
    TEXT_FIELDS = [f for f in DiscloseForm.TEXT_FIELDS if f != "exclude"]
    REPEATABLE = ()


class ChoosePassphraseForm(FlaskForm):
    passphrase = PasswordField(
        "Choose a passphrase",
        validators=[DataRequired("Please choose a passphrase."), Length(max=1024)],
    )
    passphrase_again = PasswordField(
        "Type the same passphrase again",
        validators=[DataRequired("Please type the passphrase again."), Length(max=1024)],
    )


class ConfirmSecondFactorForm(FlaskForm):
    totp = StringField(
        "Six-digit code from your authenticator app",
        validators=[DataRequired("Please type the six-digit code."), Length(max=10)],
    )


class ChangePassphraseForm(ChoosePassphraseForm):
    current_passphrase = PasswordField(
        "Your current passphrase",
        validators=[DataRequired("Please type your current passphrase."), Length(max=1024)],
    )
    passphrase = PasswordField(
        "New passphrase",
        validators=[DataRequired("Please choose a new passphrase."), Length(max=1024)],
    )
    passphrase_again = PasswordField(
        "Type the new passphrase again",
        validators=[DataRequired("Please type the new passphrase again."), Length(max=1024)],
    )


class ConfirmNewSecondFactorForm(FlaskForm):
    passphrase = PasswordField(
        "Your passphrase",
        validators=[DataRequired("Please type your passphrase."), Length(max=1024)],
    )
    totp = StringField(
        "Six-digit code the app shows for the new entry",
        validators=[DataRequired("Please type the six-digit code."), Length(max=10)],
    )


class ReauthenticateForm(FlaskForm):
    passphrase = PasswordField(
        "Your passphrase",
        validators=[DataRequired("Please type your passphrase."), Length(max=1024)],
    )


class MembershipDecisionForm(FlaskForm):
    channel = HiddenField(validators=[DataRequired(), Length(max=20)])
    officer = HiddenField(validators=[DataRequired(), Length(max=20)])


class InviteForm(FlaskForm):
    # Field names of their own: the administration page has other forms with `name` and `channel`
    # fields.
    invite_email = StringField(
        "Email address", validators=[DataRequired("Please give an email address."), Length(max=320)]
    )
    display_name = StringField(
        "Display name (unique: shown to disclosers and fellow officers)",
        validators=[DataRequired("Please give a display name."), Length(max=200)],
    )
    invite_channel = SelectField(
        "Channel they will read (once an officer of it confirms)",
        validators=[DataRequired("Please choose a channel.")],
    )


class RemoveMembershipForm(FlaskForm):
    member = SelectField("Officer to remove", validators=[DataRequired()])
    from_channel = SelectField("From channel", validators=[DataRequired()])
