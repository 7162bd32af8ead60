"""Notices to the owners, sent after the reader already has their answer."""

import logging
import time
from email.headerregistry import Address

from flask import Flask, url_for

from feedback import accounts, mailer, markup, submissions
from feedback.db import get_session
from feedback.models import Submission, Visibility

log = logging.getLogger(__name__)


# After a failure, skip notices for this long: a dead mail server must not tie up a worker
# on every new idea.
PAUSE_AFTER_FAILURE = 60.0
_STATE_KEY = "feedback.notify.last_failure"
SUBJECT_LIMIT = 200  # what mailer.build_message keeps of a Subject


def _header_text(text: str, limit: int) -> str:
    """Reader text for a header: one line, defanged, at most about limit characters."""
    line = markup.defang(" ".join(text.split()))
    if len(line) <= limit:
        return line
    # Cut between words: a cut inside one can make a link ("example.company", "example.com").
    cut = line[: limit - 1]
    return markup.defang(cut.rsplit(" ", 1)[0] if " " in cut else cut) + "…"


def new_idea_message(app: Flask, item: Submission, recipients: list[str]):
    """The owners' notice of one new idea, with the author as Reply-To.

    Reader text is defanged in the headers and the body; only the app's own links are links.
    """
    kind = "private note" if item.visibility is Visibility.PRIVATE else "public comment"
    opening = f"[{app.config['CONFERENCE_NAME']}] New {kind} from "
    name = _header_text(item.author_name, 60)
    room = max(SUBJECT_LIMIT - len(opening) - len(name) - 2, 20)
    subject = f"{opening}{name}: {_header_text(item.shown_title, room)}"
    reply_to = Address(display_name=_header_text(item.author_name, 120), addr_spec=item.email)
    return mailer.from_templates(
        app.config,
        "new_idea",
        to=recipients,
        subject=subject,
        reply_to=reply_to,
        item=item,
        kind=kind,
        queue_url=url_for("owner.item", item_id=item.id, _external=True),
    )


def send_new_idea_notice(app: Flask, item_id: int) -> None:
    """Mail every owner about a new idea; failures are logged, never raised.

    Links in the mail point at PUBLIC_URL, never at the Host header a request claimed.
    """
    last_failure = app.extensions.get(_STATE_KEY)
    if last_failure is not None and time.monotonic() - last_failure < PAUSE_AFTER_FAILURE:
        log.warning("New-idea notice for #%s skipped: the mail server failed just now", item_id)
        return
    with app.test_request_context(base_url=app.config["PUBLIC_URL"]):
        try:
            session = get_session()
            item = session.get(Submission, item_id)
            recipients = [owner.email for owner in accounts.list_owners(session)]
            if item is None or not recipients:
                return
            mailer.send(app.config, new_idea_message(app, item, recipients))
        except mailer.MailError:
            app.extensions[_STATE_KEY] = time.monotonic()
            log.exception("New-idea notice for #%s not sent", item_id)
        except Exception:  # the reader's idea is stored; a notice must never crash a worker
            log.exception("New-idea notice for #%s failed", item_id)


def send_manage_links(app: Flask, email: str) -> None:
    """Mail an address the links of its ideas; an address with none gets a short note
    instead, so the work (and its time) is the same either way. Failures are logged."""
    with app.test_request_context(base_url=app.config["PUBLIC_URL"]):
        try:
            session = get_session()
            items = submissions.by_email(session, email)
            links = [
                (item, submissions.manage_link_token(session, item, app.config["SECRET_KEY"]))
                for item in items
            ]
            # The owner of the transaction commits: after the response, that is this function,
            # which opened the context above.
            session.commit()
            message = mailer.from_templates(
                app.config,
                "links",
                to=[items[0].email if items else email],
                subject=f"Your ideas for {app.config['CONFERENCE_NAME']}",
                links=links,
            )
            mailer.send(app.config, message)
        except Exception:  # the answer was already given; a failure is only logged
            log.exception("Could not mail manage links")


def mail_consent_request(app: Flask, item: Submission, token: str) -> None:
    """Tell the author an owner asks to publish their note.

    :raise mailer.MailError: when the mail cannot be sent.
    """
    message = mailer.from_templates(
        app.config,
        "consent_request",
        to=[item.email],
        subject=f"May we publish your note to {app.config['CONFERENCE_NAME']}?",
        item=item,
        link=app.config["PUBLIC_URL"].rstrip("/") + url_for("manage.page", token=token),
        days=app.config["CONSENT_REQUEST_DAYS"],
    )
    mailer.send(app.config, message)
