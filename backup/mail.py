"""Mailing the weekly report: SMTP with STARTTLS, SSL or neither; the password from a 0600 file."""

from __future__ import annotations

import smtplib
import ssl
import time
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

from dangan.config.schema import ReportConfig


def build(settings: ReportConfig, subject: str, text: str, html: str, to: list[str] | None = None) -> EmailMessage:
    """A text + HTML mail to ``to`` (default: the report's recipients)."""
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = settings.mail_from
    message["To"] = ", ".join(settings.recipients if to is None else to)
    message["Date"] = formatdate(localtime=True)
    message["Message-ID"] = make_msgid(domain="dangan.local")
    message.set_content(text, charset="utf-8")
    message.add_alternative(html, subtype="html", charset="utf-8")
    return message


def send(settings: ReportConfig, message: EmailMessage, attempts: int = 3, pause: float = 2.0) -> None:
    """Send, retrying with back-off; raises the last error."""
    password = None
    if settings.smtp_password_file:
        from dangan.backup.keys import require_private

        path = Path(settings.smtp_password_file)
        require_private(path)
        password = path.read_text(encoding="utf-8").strip()
    last: Exception | None = None
    for attempt in range(attempts):
        try:
            _send_once(settings, message, password)
            return
        except (OSError, smtplib.SMTPException) as exc:
            last = exc
            if attempt + 1 < attempts:  # no pause after the final attempt: nothing follows it
                time.sleep(pause * 2 ** attempt)
    raise last  # type: ignore[misc]


def _send_once(settings: ReportConfig, message: EmailMessage, password: str | None) -> None:
    context = ssl.create_default_context()
    if settings.smtp_security == "ssl":
        client: smtplib.SMTP = smtplib.SMTP_SSL(settings.smtp_host, settings.smtp_port, timeout=60, context=context)
    else:
        client = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=60)
    with client:
        if settings.smtp_security == "starttls":
            client.starttls(context=context)
        if settings.smtp_user:
            client.login(settings.smtp_user, password or "")
        client.send_message(message)
