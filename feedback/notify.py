"""Notices to the owners, sent after the reader already has their answer."""

import logging
import time
from email.headerregistry import Address

from flask import Flask, render_template, url_for

from feedback import mailer, owners
from feedback.db import get_session
from feedback.models import Submission, Visibility

log = logging.getLogger(__name__)


# After a failure, skip notices for this long: a dead mail server must not tie up a worker
# on every new idea.
PAUSE_AFTER_FAILURE = 60.0
_STATE_KEY = "feedback.notify.last_failure"


def new_idea_message(app: Flask, item: Submission, recipients: list[str]):
    """The owners' notice of one new idea, with the author as Reply-To."""
    kind = "private note" if item.visibility is Visibility.PRIVATE else "public comment"
    subject = f"New {kind} from {item.author_name}: {item.title or item.body}"
    text = render_template(
        "email/new_idea.txt",
        item=item,
        kind=kind,
        queue_url=url_for("owner.item", item_id=item.id, _external=True),
    )
    reply_to = Address(display_name=mailer.one_line(item.author_name), addr_spec=item.email)
    return mailer.build_message(
        app.config,
        to=recipients,
        subject=f"[{app.config['CONFERENCE_NAME']}] {subject}",
        text=text,
        reply_to=reply_to,
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
            recipients = [owner.email for owner in owners.list_owners(session)]
            if item is None or not recipients:
                return
            mailer.send(app.config, new_idea_message(app, item, recipients))
        except mailer.MailError:
            app.extensions[_STATE_KEY] = time.monotonic()
            log.exception("New-idea notice for #%s not sent", item_id)
        except Exception:  # the reader's idea is stored; a notice must never crash a worker
            log.exception("New-idea notice for #%s failed", item_id)
