"""The forms of officers' keys and access: passphrases, the second factor, confirming a weighty
action, channel membership decisions and grants of access."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from portal.web.forms import TypedLine


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


class ConfirmPassphraseForm(FlaskForm):
    """The passphrase asked again before a weighty action (portal.web.keys.confirm)."""

    confirm_passphrase = PasswordField(
        "Your passphrase", validators=[DataRequired("Type your passphrase."), Length(max=1024)]
    )


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


class RosterStatementForm(FlaskForm):
    """One roster statement to sign (portal.keys.roster_work): which channel, whom, what."""

    channel = HiddenField(validators=[DataRequired(), Length(max=20)])
    officer = HiddenField(validators=[Optional(), Length(max=20)])
    kind = HiddenField(validators=[DataRequired(), Length(max=10)])


class ResumeRotationForm(FlaskForm):
    """Carry on an interrupted key rotation: the NEW passphrase it began with."""

    passphrase = PasswordField(
        "Your new passphrase (the one you chose for your new keys)",
        validators=[DataRequired("Please type your new passphrase."), Length(max=1024)],
    )


class RecoveryKeyDecisionForm(FlaskForm):
    """Confirm or refuse a channel's pending recovery key, named by the fingerprint compared."""

    channel = HiddenField(validators=[DataRequired(), Length(max=20)])
    fingerprint = HiddenField(validators=[DataRequired(), Length(max=40)])


class SealRecoveryForm(FlaskForm):
    """Seal the earlier cases of a channel that you read to its recovery key."""

    channel = HiddenField(validators=[DataRequired(), Length(max=20)])
