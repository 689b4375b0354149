"""The account forms (Flask-WTF: each carries its CSRF token)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, PasswordField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from gridmap.accounts.credentials import MAX_PASSWORD_CHARS


class SignInForm(FlaskForm):  # type: ignore[misc]
    """User name and password."""

    username = StringField("username", validators=[DataRequired(), Length(max=64)])
    password = PasswordField("password", validators=[DataRequired(),
                                                     Length(max=MAX_PASSWORD_CHARS)])


class PasswordForm(FlaskForm):  # type: ignore[misc]
    """Change one's own password."""

    current = PasswordField("current", validators=[DataRequired()])
    new = PasswordField("new", validators=[DataRequired()])
    repeat = PasswordField("repeat", validators=[DataRequired()])


class TokenForm(FlaskForm):  # type: ignore[misc]
    """Name a new personal API token."""

    name = StringField("name", validators=[DataRequired(), Length(max=80)])


class EmailForm(FlaskForm):  # type: ignore[misc]
    """A notification e-mail address (blank: none); checked by the service."""

    email = StringField("email", validators=[Optional(), Length(max=254)])


class ConfirmForm(FlaskForm):  # type: ignore[misc]
    """A button that changes something (deactivate, reset, revoke): only its CSRF token."""


class DeactivateForm(FlaskForm):  # type: ignore[misc]
    """Deactivate an account: the box must be ticked (sessions end, tokens go, cases go back)."""

    confirm = BooleanField("confirm", validators=[DataRequired()])


class NewAccountForm(FlaskForm):  # type: ignore[misc]
    """A new account, for an existing person (``person_id``) or a new one (``name``)."""

    username = StringField("username", validators=[DataRequired(), Length(max=64)])
    role = StringField("role", validators=[DataRequired(), Length(max=24)])
    area_code = StringField("area_code", validators=[Optional(), Length(max=15)])
    department_code = StringField("department_code", validators=[Optional(), Length(max=40)])
    person_id = IntegerField("person_id", validators=[Optional(), NumberRange(min=1)])
    name = StringField("name", validators=[Optional(), Length(max=40)])
    phone = StringField("phone", validators=[Optional(), Length(max=20)])


class ScopeForm(FlaskForm):  # type: ignore[misc]
    """An account's new role and scope."""

    role = StringField("role", validators=[DataRequired(), Length(max=24)])
    area_code = StringField("area_code", validators=[Optional(), Length(max=15)])
    department_code = StringField("department_code", validators=[Optional(), Length(max=40)])


class PersonForm(FlaskForm):  # type: ignore[misc]
    """Choose a person (a grid's new worker)."""

    person_id = IntegerField("person_id", validators=[InputRequired(), NumberRange(min=1)])


class EnrolmentForm(FlaskForm):  # type: ignore[misc]
    """Enrol a department's staff member in a grid."""

    department_code = StringField("department_code", validators=[DataRequired(), Length(max=40)])
    person_id = IntegerField("person_id", validators=[InputRequired(), NumberRange(min=1)])


class ClientForm(FlaskForm):  # type: ignore[misc]
    """A new Open311 client."""

    name = StringField("name", validators=[DataRequired(), Length(max=80)])
    contact = StringField("contact", validators=[Optional(), Length(max=200)])
