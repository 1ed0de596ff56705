"""The forms of officers' keys and access: passphrases, the second factor, confirming a weighty
action, channel membership decisions and grants of access."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, HiddenField, PasswordField, SelectField
from wtforms.validators import DataRequired, Length, Optional

from portal.web.forms import CodeField, PortalForm, TypedLine


class GrantForm(PortalForm):
    """Give another officer of a channel access to one case, or (case left empty) to all its cases
    you read."""

    channel = SelectField(_l("Channel"), validators=[DataRequired(_l("Choose the channel."))])
    officer = SelectField(
        _l("Officer to give access to"), validators=[DataRequired(_l("Choose an officer."))]
    )
    case = TypedLine(
        _l("Case reference (leave empty for every case of this channel that you can read)"),
        validators=[Length(max=40)],
    )


class ConfirmPassphraseForm(PortalForm):
    """The passphrase asked again before a weighty action (portal.web.keys.confirm)."""

    confirm_passphrase = PasswordField(
        _l("Your passphrase"),
        validators=[DataRequired(_l("Type your passphrase.")), Length(max=1024)],
    )


class ChoosePassphraseForm(PortalForm):
    passphrase = PasswordField(
        _l("Choose a passphrase"),
        validators=[DataRequired(_l("Please choose a passphrase.")), Length(max=1024)],
    )
    passphrase_again = PasswordField(
        _l("Type the same passphrase again"),
        validators=[DataRequired(_l("Please type the passphrase again.")), Length(max=1024)],
    )


class ConfirmSecondFactorForm(PortalForm):
    totp = CodeField(
        _l("Six-digit code from your authenticator app"),
        validators=[DataRequired(_l("Please type the six-digit code.")), Length(max=10)],
    )


class ChangePassphraseForm(ChoosePassphraseForm):
    current_passphrase = PasswordField(
        _l("Your current passphrase"),
        validators=[DataRequired(_l("Please type your current passphrase.")), Length(max=1024)],
    )
    passphrase = PasswordField(
        _l("New passphrase"),
        validators=[DataRequired(_l("Please choose a new passphrase.")), Length(max=1024)],
    )
    passphrase_again = PasswordField(
        _l("Type the new passphrase again"),
        validators=[DataRequired(_l("Please type the new passphrase again.")), Length(max=1024)],
    )


class ConfirmNewSecondFactorForm(PortalForm):
    # Its own id: the account page also has the new-passphrase form's `passphrase` box.
    passphrase = PasswordField(
        _l("Your passphrase"),
        id="second-factor-passphrase",
        validators=[DataRequired(_l("Please type your passphrase.")), Length(max=1024)],
    )
    totp = CodeField(
        _l("Six-digit code the app shows for the new entry"),
        validators=[DataRequired(_l("Please type the six-digit code.")), Length(max=10)],
    )


class ReauthenticateForm(PortalForm):
    passphrase = PasswordField(
        _l("Your passphrase"),
        id="second-factor-passphrase",  # as ConfirmNewSecondFactorForm's, on the same page
        validators=[DataRequired(_l("Please type your passphrase.")), Length(max=1024)],
    )


class DailyReminderForm(PortalForm):
    wanted = BooleanField(_l("Send me the daily reminder by email"))


class MembershipDecisionForm(PortalForm):
    channel = HiddenField(validators=[DataRequired(), Length(max=20)])
    officer = HiddenField(validators=[DataRequired(), Length(max=20)])


class RosterStatementForm(PortalForm):
    """One roster statement to sign (portal.keys.roster_work): which channel, whom, what."""

    channel = HiddenField(validators=[DataRequired(), Length(max=20)])
    officer = HiddenField(validators=[Optional(), Length(max=20)])
    kind = HiddenField(validators=[DataRequired(), Length(max=10)])


class ResumeRotationForm(PortalForm):
    """Carry on an interrupted key rotation: the NEW passphrase it began with."""

    passphrase = PasswordField(
        _l("Your new passphrase (the one you chose for your new keys)"),
        validators=[DataRequired(_l("Please type your new passphrase.")), Length(max=1024)],
    )


class RecoveryKeyDecisionForm(PortalForm):
    """Confirm or refuse a channel's pending recovery key, named by the fingerprint compared."""

    channel = HiddenField(validators=[DataRequired(), Length(max=20)])
    fingerprint = HiddenField(validators=[DataRequired(), Length(max=40)])


class SealRecoveryForm(PortalForm):
    """Seal the earlier cases of a channel that you read to its recovery key."""

    channel = HiddenField(validators=[DataRequired(), Length(max=20)])


class ArrivalConfirmForm(PortalForm):
    """A receiving officer confirms a channel moved here from another organisation of the
    service (portal.keys.channel_arrivals), naming the roster head they were shown."""

    move = HiddenField(validators=[DataRequired(), Length(max=20)])
    roster_head = TypedLine(
        _l("The roster head the sending channel's officer read to you"),
        validators=[DataRequired(_l("Type the roster head you were given.")), Length(max=40)],
    )
