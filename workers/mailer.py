"""Sending e-mail over SMTP, with failures sorted into transient and permanent."""

from __future__ import annotations

import logging
import smtplib
from email.message import EmailMessage

from flask import current_app

logger = logging.getLogger(__name__)


class MailTransientError(Exception):
    """The server could not take the message now; try again later."""


class MailPermanentError(Exception):
    """The server refused the message for good."""


def send(message: EmailMessage) -> None:
    config = current_app.config
    if "From" not in message:
        message["From"] = config["MAIL_FROM"]
    try:
        with smtplib.SMTP(
            config["MAIL_SERVER"], config["MAIL_PORT"], timeout=config["MAIL_TIMEOUT"]
        ) as smtp:
            if config["MAIL_USE_TLS"]:
                smtp.starttls()
            if config["MAIL_USERNAME"]:
                smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
            smtp.send_message(message)
    except smtplib.SMTPResponseException as exc:
        if 400 <= exc.smtp_code < 500:
            raise MailTransientError(f"SMTP {exc.smtp_code}") from exc
        raise MailPermanentError(f"SMTP {exc.smtp_code}") from exc
    except smtplib.SMTPRecipientsRefused as exc:
        raise MailPermanentError("recipient refused") from exc
    except (smtplib.SMTPException, OSError) as exc:
        raise MailTransientError(type(exc).__name__) from exc
    logger.info("mail sent", extra={"subject": message["Subject"]})
