"""Email over SMTP with the standard library: building messages (every notice from its
templates in ``templates/email/``) and sending them."""

import logging
import smtplib
import ssl
from collections.abc import Mapping
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import make_msgid

from flask import render_template
from jinja2 import TemplateNotFound

from feedback import markup

log = logging.getLogger(__name__)

SMTP_TIMEOUT = 10  # seconds; a hung mail server must not hold a worker for long


class MailError(RuntimeError):
    """Sending failed; the message says why in words an owner can act on."""


def one_line(text: str, limit: int = 120) -> str:
    """Text safe for a header: whitespace (including CR and LF) folded, length capped."""
    folded = " ".join(text.split())
    return folded if len(folded) <= limit else folded[: limit - 1] + "…"


def build_message(
    config: Mapping,
    *,
    to: list[str],
    subject: str,
    text: str,
    html: str | None = None,
    reply_to: Address | None = None,
) -> EmailMessage:
    """A complete message; header values are folded to one line so none can inject another."""
    message = EmailMessage()
    message["From"] = config["MAIL_FROM"]
    message["To"] = ", ".join(to)
    message["Subject"] = one_line(subject, 200)
    domain = config["MAIL_FROM"].rpartition("@")[2].strip(">") or None
    message["Message-ID"] = make_msgid(domain=domain)
    if reply_to is not None:
        message["Reply-To"] = reply_to
    message.set_content(text)
    if html is not None:
        message.add_alternative(html, subtype="html")
    return message


def from_templates(
    config: Mapping,
    name: str,
    *,
    to: list[str],
    subject: str,
    reply_to: Address | None = None,
    **context,
) -> EmailMessage:
    """A notice written by ``templates/email/<name>.txt`` (and ``<name>.html`` if there is one).

    The templates get ``defang`` for reader text (mail clients link anything that looks like
    a link) and Flask's usual context (``config``, ``url_for``), so this needs an app context.
    """
    text = render_template(f"email/{name}.txt", defang=markup.defang, **context)
    html_name = f"email/{name}.html"
    try:
        html = render_template(html_name, defang=markup.defang, **context)
    except TemplateNotFound as exc:
        if exc.name != html_name:  # a missing include inside the HTML is a real error
            raise
        html = None
    return build_message(config, to=to, subject=subject, text=text, html=html, reply_to=reply_to)


def _connect(config: Mapping) -> smtplib.SMTP:
    server = config.get("MAIL_SERVER")
    if not server:
        raise MailError("No mail server is configured (set MAIL_SERVER).")
    port = int(config.get("MAIL_PORT") or 25)
    try:
        smtp = smtplib.SMTP(server, port, timeout=SMTP_TIMEOUT)
        if config.get("MAIL_USE_TLS"):
            smtp.starttls(context=ssl.create_default_context())
        if config.get("MAIL_USERNAME"):
            smtp.login(config["MAIL_USERNAME"], config.get("MAIL_PASSWORD") or "")
    except (OSError, smtplib.SMTPException) as exc:
        raise MailError(f"Could not reach the mail server {server}:{port}: {exc}") from exc
    return smtp


def send(config: Mapping, message: EmailMessage) -> None:
    """Send one message through the configured SMTP server.

    :raise MailError: when the server cannot be reached, or refuses the message or any
        of its recipients.
    """
    with _connect(config) as smtp:
        try:
            refused = smtp.send_message(message)
        except (OSError, smtplib.SMTPException) as exc:
            raise MailError(f"The mail server did not take the message: {exc}") from exc
    if refused:
        raise MailError(f"The mail server refused these recipients: {', '.join(refused)}.")


def send_many(config: Mapping, messages: list[tuple[int, EmailMessage]]) -> set[int]:
    """Send several messages over one connection; return the keys of those that went.

    A message the server refuses is logged and skipped; the others still go.
    """
    sent: set[int] = set()
    try:
        with _connect(config) as smtp:
            for key, message in messages:
                try:
                    if not smtp.send_message(message):
                        sent.add(key)
                except smtplib.SMTPException:
                    log.exception("Mail %s not sent", key)
    except (MailError, OSError, smtplib.SMTPException):
        log.exception("Mail server failed after %d of %d messages", len(sent), len(messages))
    return sent
