"""The officers' forms in the console: signing in, a case's replies, steps, status, notes,
referrals, interests, s 17 releases and exports, oral disclosures; and the discloser's answer to a
consent question."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from portal.casework.identity_releases import CONSULTATION as IDENTITY_CONSULTATION
from portal.casework.identity_releases import GROUNDS
from portal.casework.referrals import CONCERNS, CONSULTATION
from portal.web.forms import (
    CHOOSE,
    CodeField,
    OneTimeForm,
    PortalForm,
    TypedLine,
    TypedParagraphs,
    WholeNumberField,
    choices,
)
from portal.web.intake.forms import (
    DiscloseForm,
    ReplyForm,
    contact_field,
    elsewhere_field,
    identifying_field,
)


class OfficerReplyForm(ReplyForm):
    progress_update = BooleanField(_l("This message is a progress update under s 13(2)"))


class AcknowledgeForm(OneTimeForm):
    """s 13(1)(a) in one step: the message sent to the discloser with the acknowledgement."""

    message = TypedParagraphs(
        _l("Message to the discloser"),
        validators=[
            DataRequired(_l("Write the message to the discloser first.")),
            Length(max=200_000),
        ],
    )


class StepForm(PortalForm):
    step = SelectField(_l("Step"), validators=[DataRequired()])


class ExtensionForm(OneTimeForm):
    expected_timeframe = TypedLine(
        _l("How long you expect to take, shown to the discloser (s 13(2))"),
        validators=[
            DataRequired(_l("Tell the discloser how long you expect to take.")),
            Length(max=500),
        ],
    )
    update_every = WholeNumberField(
        _l("Give a progress update every this many working days"),
        default=20,
        validators=[
            InputRequired(_l("Give a number of working days.")),
            NumberRange(1, 60, _l("Choose between 1 and 60 working days.")),
        ],
    )


class AssignForm(OneTimeForm):
    officer = SelectField(_l("Assign to"), validators=[Optional()])


class NoteForm(OneTimeForm):
    note = TypedParagraphs(
        _l("Internal note (officers only, never shown to the discloser)"),
        validators=[DataRequired(_l("Write the note first.")), Length(max=20_000)],
    )


class OralConfirmForm(PortalForm):
    understanding = TypedParagraphs(
        _l("Our understanding of the disclosure, as it will be sent to the discloser (s 13)"),
        validators=[
            DataRequired(_l("Write a summary of your understanding of the disclosure first.")),
            Length(max=20_000),
        ],
    )


class ReferralForm(OneTimeForm):
    # Checked against the directory by referrals.refer, which also takes an entry's exact name
    # (scripts).
    authority = SelectField(
        _l("Appropriate authority"),
        validate_choice=False,
        validators=[DataRequired(_l("Choose an appropriate authority."))],
    )
    # Required by referrals.refer for "The head of any public sector organisation" alone.
    organisation = TypedLine(
        _l('Which organisation, for "The head of any public sector organisation"'),
        validators=[Optional(), Length(max=200)],
    )
    organisation_contact = TypedLine(
        _l("How the discloser can contact that organisation (optional)"),
        validators=[Optional(), Length(max=200)],
    )
    concerns = SelectField(
        _l("Does the information concern either of these?"),
        choices=choices(CONCERNS),
        default="general",
        validators=[DataRequired()],
    )
    consultation = SelectField(
        _l("Consulting the discloser (s 16)"),
        choices=choices(CONSULTATION, CHOOSE),
        validators=[DataRequired(_l("Record whether the discloser was consulted."))],
    )
    consultation_note = TypedParagraphs(
        _l("How they were consulted, or why it was not practicable"),
        validators=[Optional(), Length(max=5000)],
    )
    reason = TypedParagraphs(
        _l("Reason for referring, shown to the discloser with the authority's name"),
        validators=[DataRequired(_l("Give the discloser the reason.")), Length(max=20_000)],
    )


class MemberReferralForm(OneTimeForm):
    # The choices: portal.web.casework.member_referral.member_form.
    channel = SelectField(
        _l("The organisation and channel"),
        validate_choice=False,
        validators=[DataRequired(_l("Choose the organisation and channel."))],
    )
    # The same s 16 and s 25 answers, and the same reason, as a referral to an authority of the
    # directory.
    concerns = ReferralForm.concerns
    consultation = ReferralForm.consultation
    consultation_note = ReferralForm.consultation_note
    reason = ReferralForm.reason
    with_identity = BooleanField(
        _l("Send the discloser's contact details and what identifies them too (only with a"
           " release to that organisation and channel recorded under s 17)")
    )


class InterestForm(OneTimeForm):
    interest = TypedLine(
        _l("Declare an interest"),
        validators=[DataRequired(_l("Describe the interest first.")), Length(max=1000)],
    )


class LoginForm(PortalForm):
    email = StringField(_l("Email address"), validators=[DataRequired(), Length(max=320)])
    passphrase = PasswordField(_l("Passphrase"), validators=[DataRequired(), Length(max=1024)])
    totp = CodeField(
        _l("Six-digit code from your authenticator app (or a recovery code)"),
        validators=[DataRequired(), Length(max=40)],
    )


class StatusChangeForm(OneTimeForm):
    status = SelectField(_l("New status"), validators=[DataRequired()])
    reason = TypedParagraphs(
        _l("Reason, shown to the discloser (needed for 'referred' and 'no further action')"),
        validators=[Optional(), Length(max=20_000)],
    )
    expected_timeframe = TypedLine(
        _l("Expected timeframe, shown to the discloser (optional)"),
        validators=[Optional(), Length(max=500)],
    )


class IdentityReleaseForm(OneTimeForm):
    """s 17: releasing the discloser's identity beyond the case's readers."""

    recipient = TypedLine(
        _l("To whom (a person and their organisation), shown to the discloser"),
        validators=[
            DataRequired(_l("Say to whom the identity would be released.")),
            Length(max=300),
        ],
    )
    ground = SelectField(
        _l("On what basis (s 17(2))"),
        choices=choices(GROUNDS, CHOOSE),
        validators=[
            DataRequired(
                _l(
                    "Choose the discloser's consent or a ground of s 17(2)(b): "
                    "without one, the identity is not released."
                )
            )
        ],
    )
    reason = TypedParagraphs(
        _l("Why, shown to the discloser"),
        validators=[
            DataRequired(_l("Give the reason: the discloser will see it.")),
            Length(max=5000),
        ],
    )
    consultation = SelectField(
        _l("Consulting the discloser first (needed for a ground other than consent)"),
        choices=choices(IDENTITY_CONSULTATION, CHOOSE),
        validators=[Optional()],
    )
    consultation_note = TypedParagraphs(
        _l("How they were consulted, or why it was not practicable"),
        validators=[Optional(), Length(max=5000)],
    )


class ConsentAnswerForm(PortalForm):
    request = WholeNumberField(_l("Question"), validators=[InputRequired()])
    answer = SelectField(
        _l("Your answer"),
        choices=[SelectChoice("yes", _l("Yes, I agree")), SelectChoice("no", _l("No"))],
        validators=[DataRequired(_l("Answer yes or no."))],
    )


class CaseExportForm(PortalForm):
    include_identity = BooleanField(
        _l(
            "Include the discloser's contact details (only after a release to this "
            "recipient is on record)"
        )
    )
    recipient = TypedLine(
        _l("For whom (as in the release)"), validators=[Optional(), Length(max=300)]
    )


class OralDisclosureForm(DiscloseForm):
    """The disclosure form's fields, filled in by an officer for a disclosure made in person or by
    phone: labelled for the officer, who is not the "you" of the discloser's form."""

    disclosed_elsewhere = elsewhere_field(
        _l("Has the discloser raised this anywhere else?"),
        _l("Please say whether the discloser has raised it elsewhere."),
    )
    contact = contact_field(_l("How to contact the discloser (optional)"))
    identifying = identifying_field(
        _l("Anything else that could identify the discloser (optional)")
    )
    exclude = None
    language = None  # what the discloser says of themselves, in their own form only
    TEXT_FIELDS = [f for f in DiscloseForm.TEXT_FIELDS if f not in ("exclude", "language")]
    REPEATABLE = ()


class BulkCloseForm(PortalForm):
    """Closing the chosen cases as needing no action (s 15); the cases come as `case` checkboxes."""

    reason = TypedParagraphs(
        _l("Reason, shown to each discloser on their status page (s 15)"),
        validators=[Optional(), Length(max=20_000)],
    )
