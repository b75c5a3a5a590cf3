"""The e-mails we send, composed from rows; tasks deliver them."""

from __future__ import annotations

from email.message import EmailMessage

from flask import current_app

from app.models import User


def _message(to: str, subject: str, body: str) -> EmailMessage:
    message = EmailMessage()
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    return message


def welcome(user: User) -> EmailMessage:
    base_url = current_app.config["PUBLIC_BASE_URL"]
    return _message(
        user.email,
        "Welcome to NemoRDP",
        f"Hello,\n\nyour NemoRDP account is ready. Order your first desktop at {base_url}/app .\n\n"
        "— The NemoRDP team\n",
    )
