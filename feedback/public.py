"""The readers' pages: the list of public ideas, the form, thank-you and manage pages."""

import functools
import logging
import secrets
import time
from collections.abc import Callable
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask import (
    session as browser_session,
)
from flask_wtf.csrf import generate_csrf
from itsdangerous import BadSignature, URLSafeSerializer
from markupsafe import Markup
from sqlalchemy.orm import Session
from wtforms import SelectChoice

from feedback import (
    antispam,
    collection,
    errors,
    feed,
    markup,
    notify,
    page_cache,
    quotas,
    similar,
    submissions,
    visibility,
    votes,
)
from feedback.db import Page, get_session, paginate, utcnow
from feedback.forms import SubmissionForm
from feedback.models import Credit, Status, Submission, Topic, Visibility
from feedback.query_args import page_number, sort_order, topic_or_404
from feedback.ratelimit import limiter
from feedback.request_security import csrf, local_path, secret_page
from feedback.tokens import client_hash
from feedback.topics import list_topics

bp = Blueprint("public", __name__)
log = logging.getLogger(__name__)


def _thanks_url() -> str:
    # An explicit fragment, or the browser carries the form's #share over to this page.
    return url_for("public.thanks", _anchor="main")


FEED_SIZE = 50
# Keys in the browser's session (the signed cookie, never the database's): where the
# thank-you page finds the author's manage token, or the idea a repeated post had stored.
_THANKS_KEY = "thanks"
_RECEIVED_KEY = "received"
# The form key of the last idea this browser stored: only its repeats may show the link again.
_POSTED_KEY = "posted"


_STATUS_TEXT = {
    (Status.PENDING, Visibility.PUBLIC): "Waiting for the site owner to approve it",
    (
        Status.PENDING,
        Visibility.PRIVATE,
    ): "Received; the site owner will pass it to the organisers",
    (Status.APPROVED, Visibility.PUBLIC): "Published on the public page",
    (
        Status.APPROVED,
        Visibility.PRIVATE,
    ): "Accepted; it goes to the organisers with the next digest",
    (Status.REJECTED, Visibility.PUBLIC): "Not accepted by the site owner",
    (Status.REJECTED, Visibility.PRIVATE): "Not accepted by the site owner",
    (Status.SPAM, Visibility.PUBLIC): "Not accepted by the site owner",
    (Status.SPAM, Visibility.PRIVATE): "Not accepted by the site owner",
    (Status.WITHDRAWN, Visibility.PUBLIC): "Withdrawn by you",
    (Status.WITHDRAWN, Visibility.PRIVATE): "Withdrawn by you",
}


@bp.app_template_filter("status_text")
def status_text(status: Status, item_visibility: Visibility) -> str:
    """A submission's status in plain words for its author."""
    return _STATUS_TEXT[(status, item_visibility)]


@bp.app_template_filter("paragraphs")
def paragraphs_filter(text: str) -> Markup:
    """Reader text as escaped HTML paragraphs with bare links."""
    return markup.paragraphs(text)


# App-wide: every public template credits authors by the rule the API and feeds use.
bp.add_app_template_filter(visibility.public_author, "public_author")
bp.add_app_template_filter(collection.when, "moment")
bp.add_app_template_filter(collection.closing, "closing")


@bp.app_template_filter("profile_url")
def profile_url_filter(website: str | None) -> str | None:
    """Where an author's website or handle links to."""
    return markup.profile_url(website, current_app.config["HANDLE_PROFILE_URL"])


def _public_page(topic: Topic | None = None) -> tuple[Page[Submission], str]:
    """One page of public ideas (SQL pagination) and its sort order.

    :raise 404: for a page past the last.
    """
    number = page_number()
    sort = sort_order()
    query = visibility.public_submissions(sort, topic)
    page = paginate(get_session(), query, number, current_app.config["PER_PAGE"])
    if number > 1 and not page.items:
        abort(404, description="There are no ideas on this page.")
    return page, sort


def _here(endpoint: str, page: Page, sort: str, **view_args) -> str:
    """A list page's own address, the same for every reader: where a +1 comes back to."""
    if page.number > 1:
        view_args["page"] = page.number
    if sort != "new":
        view_args["sort"] = sort
    return url_for(endpoint, **view_args)


def _now_micro() -> str:
    return utcnow().strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _respond(page: page_cache.Page, **values: Callable[[], str]) -> Response:
    """A page filled in for this reader: their form token, their +1s, ``values``."""
    voted = votes.has_voted(get_session(), list(page.item_ids), _voter_hash())
    return page_cache.respond(page, {"csrf": generate_csrf, **values}, voted)


def _window() -> collection.Window:
    return collection.window_of(current_app.config)


def _time_left() -> str:
    closes = _window().closes_at
    return collection.time_left(utcnow(), closes) if closes else ""


def _index(form: SubmissionForm, phase: collection.Phase) -> page_cache.Page:
    page, sort = _public_page()
    return page_cache.render(
        "public/index.html",
        item_ids=[item.id for item in page.items],
        form=form,
        page=page,
        sort=sort,
        here=_here("public.index", page, sort),
        topics=list_topics(get_session()),
        now_micro=page_cache.mark("now"),
        window=_window(),
        phase=phase,
        time_left=page_cache.mark("left"),
    )


def _render_index(form: SubmissionForm, status: int = 200) -> tuple[Response, int]:
    """The front page around a form the reader sent back (never kept: it holds their text)."""
    page = _index(form, _window().phase(utcnow()))
    return _respond(page, now=_now_micro, left=_time_left), status


def _new_form() -> SubmissionForm:
    form = SubmissionForm()
    form.topic.choices = [SelectChoice("", "Choose a topic…")] + [
        SelectChoice(t.id, t.name) for t in list_topics(get_session())
    ]
    return form


@bp.get("/")
def index():
    """The conference intro, the form (or, outside the collection window, a notice that
    says when it opens or that it closed), and the approved public ideas, newest first."""
    phase = _window().phase(utcnow())

    def blank() -> page_cache.Page:
        form = _new_form()
        page_cache.mark_form(form, "started", "form_key")
        return _index(form, phase)

    page = page_cache.serve(("index", page_number(), sort_order(), phase), blank)
    return _respond(
        page,
        started=antispam.started_token,
        form_key=submissions.new_form_key,
        now=_now_micro,
        left=_time_left,
    )


def _attempt_limit() -> str:
    return current_app.config["ATTEMPT_RATE_LIMIT"]


@bp.get("/ideas")
def ideas():
    """The list lives on the front page; this address only receives the form."""
    return redirect(url_for("public.index", _anchor="ideas"))


def _new_idea(form: SubmissionForm) -> submissions.NewIdea:
    return submissions.NewIdea(
        visibility=Visibility(form.visibility.data),
        author_name=form.name.data,
        email=form.email.data,
        website=form.website.data,
        topic_id=form.topic.data,
        title=form.title.data,
        body=form.body.data,
        consent_to_publish=form.consent.data,
        client_hash=client_hash(request.remote_addr, current_app.config["SECRET_KEY"]),
        credit=Credit(form.credit.data),
        organisation=form.organisation.data,
        notify_author=form.notify_author.data,
        form_key=submissions.usable_form_key(form.form_key.data),
    )


def _bot_check(form: SubmissionForm) -> tuple[str, int] | None:
    """Why the form goes back to the reader whatever its fields hold, and with which status.

    A form older than a day or the current secret key (or posted without loading the page)
    has expired; one sent faster than anyone types is a bot or a form the browser restored.
    A person reads the message and sends again, which is slow enough; a bot that resends at
    once never gets in.
    """
    elapsed = antispam.seconds_since_start(form.started.data)
    if elapsed is None:
        form.started.data = antispam.started_token(backdate=current_app.config["MIN_FILL_SECONDS"])
        return (
            "This form had expired. Your text is kept below: please check it and send it again.",
            400,
        )
    if antispam.too_fast(elapsed):
        log.info("Too-fast submission (%.1f s) from %s", elapsed, request.remote_addr)
        form.started.data = antispam.started_token()
        return "That was quick! Please check your idea below and press “Send my idea” again.", 200
    return None


@bp.post("/ideas")
# The form checks its own CSRF token, so that a failure keeps the reader's text.
@csrf.exempt
@limiter.limit(_attempt_limit)
def submit():
    """Store a reader's idea once and redirect to the thank-you page (303), or show what to fix.

    The same form posted again, or the same text from the same email within a day, is not
    stored twice: the answer is the thank-you page, saying so.
    """
    form = _new_form()
    if form.nickname.data:
        # Only bots fill the hidden field: answer as if all went well, store nothing.
        log.info("Honeypot caught a submission from %s", request.remote_addr)
        return redirect(_thanks_url(), 303)
    window = _window()
    if window.phase(utcnow()) is not collection.Phase.OPEN:
        return _outside_window(form, window)
    problem = _bot_check(form)
    valid = form.validate_on_submit()
    if problem is not None:
        form.form_errors.append(problem[0])
        return _render_index(form, problem[1])
    if not valid:
        return _render_index(form, 400)
    db = get_session()
    try:
        receipt = submissions.receive(
            db, _new_idea(form), submissions.Policy.from_config(current_app.config)
        )
    except submissions.SubmissionError as exc:
        db.rollback()
        return _refused(form, exc)
    return _acknowledged(db, receipt)


def _outside_window(form: SubmissionForm, window: collection.Window) -> Response:
    """A 403 that says collection has closed (or not opened), with the reader's text on the
    page to copy; for machines, the same message as JSON."""
    if window.closes_at is not None and utcnow() >= window.closes_at:
        message = f"Collection closed {collection.closing(window.closes_at)}: no new ideas."
    else:
        message = f"Collection opens on {collection.when(window.opens_at)}: please come back."
    if errors.wants_json():
        return make_response(jsonify(error="Forbidden", message=message), 403)
    form.form_errors.append(message + " What you wrote is kept below, to copy.")
    return make_response(_render_index(form, 403))


def _refused(form: SubmissionForm, exc: submissions.SubmissionError) -> Response:
    """The form again, with the rule's message next to its field (or above the form)."""
    (getattr(form, exc.field).errors if exc.field else form.form_errors).append(str(exc))
    response = make_response(_render_index(form, exc.status))
    if exc.retry_after:
        response.headers["Retry-After"] = str(exc.retry_after)
    return response


def _acknowledged(db: Session, receipt: submissions.Receipt) -> Response:
    """Commit, then send the reader to the thank-you page with what it should show them."""
    token = receipt.token or submissions.show_link(
        db, receipt, browser_session.get(_POSTED_KEY), current_app.config["SECRET_KEY"]
    )
    db.commit()
    if receipt.token and receipt.item.form_key:
        browser_session[_POSTED_KEY] = receipt.item.form_key
    if token:
        browser_session[_THANKS_KEY] = token
    else:
        browser_session[_RECEIVED_KEY] = receipt.item.id
    response = redirect(_thanks_url(), 303)
    if receipt.repeat is None and current_app.config["NOTIFY_NEW"]:
        # After the response is sent: a slow or broken mail server never delays the reader.
        response.call_on_close(
            functools.partial(
                notify.send_new_idea_notice, current_app._get_current_object(), receipt.item.id
            )
        )
    return response


@bp.errorhandler(429)
def too_many_submissions(error):
    """Keep the reader's text when the rate limit refuses a submission."""
    if request.endpoint != "public.submit":
        return errors.handle_http_error(error)
    form = _new_form()
    form.validate()
    current = limiter.current_limit
    wait = max(1, current.reset_at - int(time.time())) if current else 60
    minutes = max(1, round(wait / 60))
    form.form_errors.append(
        "Many forms have come from this address in a short time. Your text is kept "
        f"below: please wait {minutes} minute{'s' if minutes > 1 else ''} and send it again."
    )
    response = make_response(_render_index(form, 429))
    response.headers["Retry-After"] = str(wait)
    return response


@bp.get("/thanks")
@secret_page
def thanks():
    """Say what happens next, and give the author their private manage link, once.

    The link leaves the session as it is shown, so the next person at a shared computer
    cannot open this page and find it.
    """
    db = get_session()
    token = browser_session.pop(_THANKS_KEY, None)
    item = submissions.get_by_token(db, token) if token else None
    if item is not None:
        submissions.mark_link_shown(db, item)
        db.commit()
        # For a reader without JavaScript, what the form would have suggested while typing.
        like = similar.find(db, f"{item.title or ''}\n{item.body}", exclude=item.id)
        return render_template("public/thanks.html", item=item, token=token, similar=like)
    earlier = browser_session.pop(_RECEIVED_KEY, None)
    item = db.get(Submission, earlier) if isinstance(earlier, int) else None
    return render_template("public/thanks.html", item=None, earlier=item)


@bp.get("/ideas/<id:item_id>")
def idea(item_id: int):
    """One public idea on its own page.

    :raise 404: when it does not exist or is not public.
    """

    def make() -> page_cache.Page:
        item = visibility.get_public(get_session(), item_id)
        if item is None:
            abort(404)
        here = url_for("public.idea", item_id=item.id)
        return page_cache.render("public/idea.html", item_ids=[item.id], item=item, here=here)

    return _respond(page_cache.serve(("idea", item_id), make))


@bp.get("/topics/<slug>")
def topic(slug: str):
    """One topic's public ideas, paginated and sorted like the front page.

    :raise 404: for an unknown topic.
    """

    def make() -> page_cache.Page:
        found = topic_or_404(slug)
        page, sort = _public_page(found)
        return page_cache.render(
            "public/topic.html",
            item_ids=[item.id for item in page.items],
            topic=found,
            page=page,
            sort=sort,
            here=_here("public.topic", page, sort, slug=found.slug),
        )

    return _respond(page_cache.serve(("topic", slug, page_number(), sort_order()), make))


# A browser's voter id lives in this signed cookie; only its keyed hash is stored.
VOTER_COOKIE = "voter"
_VOTER_SALT = "feedback.voter"


def _voter_id() -> str | None:
    raw = request.cookies.get(VOTER_COOKIE)
    if not raw:
        return None
    try:
        return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=_VOTER_SALT).loads(raw)
    except BadSignature:
        return None


def _voter_hash() -> str | None:
    voter = _voter_id()
    return client_hash(f"voter:{voter}", current_app.config["SECRET_KEY"]) if voter else None


@bp.post("/ideas/<id:item_id>/vote")
@limiter.limit(_attempt_limit)
def vote(item_id: int):
    """Give a public idea a +1 ("me too"), once per browser.

    :raise 404: when the idea is not public.
    """
    db = get_session()
    item = visibility.get_public(db, item_id)
    if item is None:
        abort(404)
    voter = _voter_id() or secrets.token_urlsafe(16)
    voter_hash = client_hash(f"voter:{voter}", current_app.config["SECRET_KEY"])
    address = client_hash(request.remote_addr, current_app.config["SECRET_KEY"])
    try:
        count = votes.cast(
            db,
            item,
            voter_hash,
            address,
            current_app.config["VOTES_PER_ADDRESS"],
            quotas.parse(current_app.config["VOTE_RATE_LIMIT"])
            if current_app.config["RATELIMIT_ENABLED"]
            else None,
        )
    except votes.VoteRefused as exc:
        db.rollback()
        flash(str(exc))
    else:
        db.commit()
        flash(f"Thanks for your +1: this idea now has {count}.")
    back = local_path(request.form.get("back")) or url_for("public.idea", item_id=item_id)
    response = redirect(back, 303)
    signed = URLSafeSerializer(current_app.config["SECRET_KEY"], salt=_VOTER_SALT).dumps(voter)
    response.set_cookie(
        VOTER_COOKIE, signed, max_age=3 * 365 * 86400, httponly=True, samesite="Lax"
    )
    return response


def _feed(items, title: str, feed_url: str, page_url: str) -> str:
    base = current_app.config["PUBLIC_URL"].rstrip("/")
    items = list(items)
    updated = max((i.approved_at or i.created_at for i in items), default=None) or utcnow()
    return feed.atom_feed(
        items,
        title=title,
        feed_url=base + feed_url,
        page_url=base + page_url,
        idea_url=lambda item: base + url_for("public.idea", item_id=item.id),
        feed_id=f"tag:{urlsplit(base).hostname or 'localhost'},2026:{feed_url}",
        updated=updated,
    )


def _site_feed() -> str:
    query = visibility.public_submissions().limit(FEED_SIZE)
    items = get_session().scalars(query)
    name = current_app.config["CONFERENCE_NAME"]
    return _feed(items, f"Ideas for {name}", url_for("public.site_feed"), "/")


@bp.get("/feed.atom")
def site_feed():
    """The newest public ideas as an Atom feed."""
    body = page_cache.cached_text(("feed",), _site_feed)
    return Response(body, mimetype="application/atom+xml")


def _topic_feed(slug: str) -> str:
    found = topic_or_404(slug)
    items = get_session().scalars(visibility.public_submissions(topic=found).limit(FEED_SIZE))
    name = current_app.config["CONFERENCE_NAME"]
    return _feed(
        items,
        f"Ideas for {name}: #{found.slug}",
        url_for("public.topic_feed", slug=found.slug),
        url_for("public.topic", slug=found.slug),
    )


@bp.get("/topics/<slug>/feed.atom")
def topic_feed(slug: str):
    """One topic's newest public ideas as an Atom feed.

    :raise 404: for an unknown topic.
    """
    body = page_cache.cached_text(("feed", slug), lambda: _topic_feed(slug))
    return Response(body, mimetype="application/atom+xml")


@bp.get("/healthz")
def healthz():
    """200 when the database answers, 503 when it does not."""
    try:
        get_session().execute(sa.text("SELECT 1"))
    except sa.exc.SQLAlchemyError:
        log.exception("Health check: database unreachable")
        return jsonify(status="error", message="The database does not answer."), 503
    return jsonify(status="ok")
