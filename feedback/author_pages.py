"""The author's private page behind their manage link: see, edit, withdraw, consent."""

import functools
import logging
from datetime import timedelta

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from wtforms import SelectChoice

from feedback import antispam, consent, notify, quotas, submissions, visibility
from feedback.db import get_session
from feedback.digest import contents
from feedback.forms import ActionForm, AuthorEditForm, ResendForm
from feedback.models import ConsentRequest, Submission, Topic
from feedback.ratelimit import limiter
from feedback.request_security import SECRET_REFERRER_POLICY, no_store
from feedback.tokens import client_hash
from feedback.topics import list_topics

bp = Blueprint("manage", __name__, url_prefix="/s")
log = logging.getLogger(__name__)


@bp.after_request
def keep_links_secret(response):
    """Every answer under /s/, errors included: never cached, never named in a Referer to
    another site."""
    response.headers["Referrer-Policy"] = SECRET_REFERRER_POLICY
    return no_store(response)


def _item(token: str) -> Submission:
    """The idea behind a manage link.

    :raise 404: for a token that matches nothing, with no hint why.
    """
    item = submissions.get_by_token(get_session(), token)
    if item is None:
        abort(404)
    return item


SAVED = "Your changes are saved."
SAVED_FOR_REVIEW = (
    "Your changes are saved. The site owner will look at them before they show again."
)


def _rules() -> submissions.EditRules:
    config = current_app.config
    return submissions.EditRules(
        window=timedelta(minutes=config["EDIT_WINDOW_MINUTES"]),
        reapprove=config["REAPPROVE_EDITS"],
        max_links=int(config["MAX_LINKS"]),
        spam_phrases=tuple(antispam.phrases_from_setting(config["SPAM_WORDS"])),
    )


def _edit_form(item: Submission | None = None) -> AuthorEditForm:
    form = AuthorEditForm(obj=item) if item is not None else AuthorEditForm()
    if item is not None:
        form.topic.data = item.topic_id
    form.topic.choices = [SelectChoice(t.id, t.name) for t in list_topics(get_session())]
    return form


def _render(token: str, item: Submission, edit_form: AuthorEditForm | None = None, status=200):
    session = get_session()
    return (
        render_template(
            "public/manage.html",
            token=token,
            item=item,
            sent_in=contents.sent_in(session, item),
            can_edit=submissions.can_edit(item, _rules()),
            edit_form=edit_form or _edit_form(item),
            request_open=consent.open_request(session, item),
            public=visibility.is_public(item),
            action_form=ActionForm(),
        ),
        status,
    )


@bp.get("/<token>")
def page(token: str):
    """The author's own view of their idea, whatever its visibility, with what they can do."""
    return _render(token, _item(token))


@bp.post("/<token>/edit")
def edit(token: str):
    """Save the author's changes (while pending, or shortly after approval)."""
    item = _item(token)
    form = _edit_form()
    if not form.validate_on_submit():
        return _render(token, item, form, 400)
    session = get_session()
    try:
        back_to_queue = submissions.edit_by_author(
            session,
            item,
            _rules(),
            title=form.title.data,
            body=form.body.data,
            topic=session.get(Topic, form.topic.data),
            website=form.website.data,
        )
    except submissions.AuthorActionRefused as exc:
        session.rollback()
        abort(409, description=str(exc))
    session.commit()
    flash(SAVED_FOR_REVIEW if back_to_queue else SAVED)
    return redirect(url_for("manage.page", token=token), 303)


@bp.post("/<token>/withdraw")
def withdraw(token: str):
    """Withdraw the idea from every public page and every future digest."""
    item = _item(token)
    session = get_session()
    submissions.withdraw(session, item)
    session.commit()
    flash("Your idea is withdrawn. It no longer shows anywhere and goes in no digest.")
    return redirect(url_for("manage.page", token=token), 303)


@bp.post("/<token>/consent")
def set_consent(token: str):
    """Give or take back consent to publish a private note."""
    item = _item(token)
    choice = request.form.get("consent")
    if choice not in ("yes", "no"):
        abort(400, description="Answer consent with yes or no.")
    session = get_session()
    try:
        submissions.set_consent(session, item, choice == "yes")
    except submissions.AuthorActionRefused as exc:
        abort(409, description=str(exc))
    session.commit()
    flash(
        "Thank you: the site owner may publish your note."
        if choice == "yes"
        else "Your note stays private."
    )
    return redirect(url_for("manage.page", token=token), 303)


@bp.post("/<token>/requests/<id:request_id>")
def answer(token: str, request_id: int):
    """Publish the proposed version, or keep the note private."""
    item = _item(token)
    session = get_session()
    ask = session.get(ConsentRequest, request_id)
    if ask is None or ask.submission_id != item.id:
        abort(404)
    choice = request.form.get("answer")
    if choice not in ("publish", "keep"):
        abort(400, description="Answer with publish or keep.")
    try:
        consent.answer(session, item, ask, accept=choice == "publish")
    except consent.ConsentError as exc:
        abort(409, description=str(exc))
    session.commit()
    flash(
        "Thank you: this version is now public."
        if choice == "publish"
        else "Your note stays private; the site owner sees your answer."
    )
    return redirect(url_for("manage.page", token=token), 303)


def _resend_claims(email: str) -> list[quotas.Claim]:
    config = current_app.config
    address = client_hash(request.remote_addr, config["SECRET_KEY"])
    mailbox = client_hash(f"email:{email.strip().lower()}", config["SECRET_KEY"])
    return [
        quotas.Claim("resend", address, quotas.parse(config["RESEND_RATE_LIMIT"])),
        # Per email too, so nobody can flood someone's mailbox from many networks.
        quotas.Claim("resend-email", mailbox, quotas.parse(config["RESEND_EMAIL_RATE_LIMIT"])),
    ]


@bp.route("/resend", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["ATTEMPT_RATE_LIMIT"], methods=["POST"])
def resend():
    """Mail the links of an address's ideas again; the answer never says if there are any."""
    form = ResendForm()
    if not form.validate_on_submit():
        return render_template("public/resend.html", form=form), 400 if form.errors else 200
    if current_app.config["RATELIMIT_ENABLED"]:
        session = get_session()
        try:
            quotas.take(session, _resend_claims(form.email.data))
        except quotas.QuotaExceeded as exc:
            session.rollback()
            form.form_errors.append(
                "Links were mailed several times for this address or from your network a "
                f"short while ago. Please wait {exc.wait_words} and ask again."
            )
            response = make_response(render_template("public/resend.html", form=form), 429)
            response.headers["Retry-After"] = str(exc.retry_after)
            return response
        session.commit()
    response = redirect(url_for("manage.resend_sent"), 303)
    # After the response, so neither its content nor its timing tells whether ideas exist.
    response.call_on_close(
        functools.partial(
            notify.send_manage_links, current_app._get_current_object(), form.email.data
        )
    )
    return response


@bp.get("/resend/sent")
def resend_sent():
    """The same answer for every address."""
    return render_template("public/resend_sent.html")
