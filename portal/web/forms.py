"""Form definitions (flask-wtf): labels, limits and validation; every POST form carries csrf_token."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import PasswordField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from portal.disclosures import CATEGORIES, DISCLOSED_ELSEWHERE


def choices(options: dict[str, str]) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in options.items()]


class DiscloseForm(FlaskForm):
    channel = SelectField("Who should receive this disclosure?", validators=[DataRequired()])
    category = SelectField("What kind of serious wrongdoing is it?",
                           choices=choices(CATEGORIES), validators=[DataRequired()])
    summary = StringField("A short title", validators=[
        DataRequired("Please give a short title."), Length(max=200)])
    details = TextAreaField("What happened?", validators=[
        DataRequired("Please describe what happened."), Length(max=200_000)])
    disclosed_elsewhere = SelectField("Have you raised this anywhere else?",
                                      choices=choices(DISCLOSED_ELSEWHERE), validators=[DataRequired()])
    contact = TextAreaField("How to contact you (optional)", validators=[Optional(), Length(max=2000)])

    TEXT_FIELDS = ["csrf_token", "channel", "category", "summary", "details", "disclosed_elsewhere", "contact"]


class ConfirmReceiptForm(FlaskForm):
    receipt = StringField("Type your receipt code", validators=[DataRequired()])
    expected = StringField(validators=[DataRequired()])


class StatusForm(FlaskForm):
    receipt = StringField("Receipt code", validators=[DataRequired("Please type your receipt code.")])


class ReplyForm(FlaskForm):
    message = TextAreaField("Your message", validators=[DataRequired("Please write a message."), Length(max=200_000)])

    TEXT_FIELDS = ["csrf_token", "message"]


class EmptyForm(FlaskForm):
    """A form with only its CSRF token, for buttons such as 'Sign out'."""


class LoginForm(FlaskForm):
    email = StringField("Email address", validators=[DataRequired(), Length(max=320)])
    passphrase = PasswordField("Passphrase", validators=[DataRequired(), Length(max=1024)])
    totp = StringField("Six-digit code from your authenticator app", validators=[DataRequired(), Length(max=10)])


class StatusChangeForm(FlaskForm):
    status = SelectField("New status", validators=[DataRequired()])
    reason = TextAreaField("Reason, shown to the discloser (needed for 'referred' and 'no further action')",
                           validators=[Optional(), Length(max=20_000)])
    expected_timeframe = StringField("Expected timeframe, shown to the discloser (optional)",
                                     validators=[Optional(), Length(max=500)])


class AddChannelForm(FlaskForm):
    name = StringField("Channel name", validators=[DataRequired(), Length(max=200)])
    description = StringField("Description (optional)", validators=[Optional(), Length(max=1000)])


class ChannelMembershipForm(FlaskForm):
    officer = SelectField("Officer", validators=[DataRequired()])
    channel = SelectField("Channel", validators=[DataRequired()])
