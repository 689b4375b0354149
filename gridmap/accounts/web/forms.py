"""The account forms (Flask-WTF: each carries its CSRF token)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

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
