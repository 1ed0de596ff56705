"""The administrators' forms: channels and their officers, invitations, the directory of appropriate
authorities and their contacts, and retention holds."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, HiddenField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from portal.casework.referrals import CONCERNS
from portal.intake.cases import EXAMPLE_REF
from portal.web.forms import (
    CodeField,
    OneTimeForm,
    PortalForm,
    TypedLine,
    TypedParagraphs,
    choices,
)


class AuthorityForm(OneTimeForm):
    name = TypedLine(_l("Name"), validators=[DataRequired(), Length(max=200)])
    covers = TypedParagraphs(_l("What it covers"), validators=[DataRequired(), Length(max=2000)])
    source = TypedLine(
        _l("Source (a section of the Act, or who added it)"),
        validators=[DataRequired(), Length(max=300)],
    )
    exclusive_for = SelectField(
        _l("Exclusive route (s 25)"),
        choices=[SelectChoice("", _l("Not an exclusive route"))]
        + choices({k: v for k, v in CONCERNS.items() if k != "general"}),
        validators=[Optional()],
    )


class AuthorityContactForm(OneTimeForm):
    """An authority's contact as disclosers are given it; checked in the domain
    (portal.casework.authority_contacts), which says plainly what is wrong with a part."""

    website = TypedLine(_l("Website (its address, starting https://)"))
    email = TypedLine(_l("Email address (optional)"))
    phone = TypedLine(_l("Phone number (optional)"))
    checked = BooleanField(_l("I checked this contact against the authority's own website today"))


class HoldForm(PortalForm):
    ref = CodeField(
        _l("Case reference"),
        validators=[
            DataRequired(_l("Type the case's reference, such as %(ref)s.", ref=EXAMPLE_REF)),
            Length(max=40),
        ],
    )


class AddChannelForm(OneTimeForm):
    name = TypedLine(_l("Channel name"), validators=[DataRequired(), Length(max=200)])
    description = TypedLine(_l("Description (optional)"), validators=[Optional(), Length(max=1000)])
    regime = SelectField(
        _l("Statutory clock"),
        default="nz",
        validators=[Optional()],
        choices=[
            SelectChoice(
                "nz", _l("New Zealand: 20 working days (Protected Disclosures Act 2022, s 13)")
            ),
            SelectChoice(
                "eu", _l("European Union: 7 days to acknowledge, 3 months to give feedback")
            ),
        ],
    )


class ChannelMembershipForm(OneTimeForm):
    officer = SelectField(_l("Officer"), validators=[DataRequired(_l("Please choose an officer."))])
    channel = SelectField(_l("Channel"), validators=[DataRequired(_l("Please choose a channel."))])


class InviteForm(OneTimeForm):
    # Field names of their own: the administration page has other forms with `name` and `channel`
    # fields.
    invite_email = StringField(
        _l("Email address"),
        validators=[DataRequired(_l("Please give an email address.")), Length(max=320)],
    )
    display_name = StringField(
        _l("Display name (unique: shown to disclosers and fellow officers)"),
        validators=[DataRequired(_l("Please give a display name.")), Length(max=200)],
    )
    invite_channel = SelectField(
        _l("Channel they will read (once an officer of it confirms)"),
        validators=[DataRequired(_l("Please choose a channel."))],
    )


class RemoveMembershipForm(PortalForm):
    member = SelectField(_l("Officer to remove"), validators=[DataRequired()])
    from_channel = SelectField(_l("From channel"), validators=[DataRequired()])


class InvitationForm(PortalForm):
    """Names one pending invitation, on its revoke and resend buttons: its row and its email."""

    invitation = HiddenField(validators=[DataRequired()])
    email = HiddenField(validators=[DataRequired()])


class OffboardForm(PortalForm):
    leaver = SelectField(
        _l("Officer to offboard"), validators=[DataRequired(_l("Please choose an officer."))]
    )


class WithdrawOffboardingForm(PortalForm):
    account = HiddenField(validators=[DataRequired()])


class SettingForm(PortalForm):
    """One console setting (portal.operations.admin_console.CONSOLE_SETTINGS): its own form."""

    setting = HiddenField(validators=[DataRequired()])
    value = StringField(_l("Value"), validators=[Length(max=320)])
