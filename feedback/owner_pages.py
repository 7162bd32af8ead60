"""The owner's pages: the moderation queue, one item with its history, dashboard, blocks."""

import sqlalchemy as sa
from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from wtforms import SelectChoice

from feedback import (
    antispam,
    collection,
    consent,
    mail_import,
    mailer,
    moderation,
    notify,
    queue_filters,
    stats,
)
from feedback.auth import login_manager
from feedback.db import get_session, utcnow
from feedback.digest import contents
from feedback.forms import (
    ActionForm,
    BulkForm,
    EditForm,
    NoteForm,
    ProposalForm,
    SpamPhraseForm,
    TopicChoiceForm,
    parse_item_id,
)
from feedback.models import (
    Block,
    SpamPhrase,
    Status,
    Submission,
    Topic,
    TrustedAuthor,
    Visibility,
)
from feedback.query_args import page_number
from feedback.request_security import local_path, no_store
from feedback.themes import store as themes
from feedback.topics import list_topics

bp = Blueprint("owner", __name__, url_prefix="/admin")
# Owner pages show emails and private notes: never keep them in any cache.
bp.after_request(no_store)


@bp.context_processor
def moderation_helpers() -> dict:
    """What the owner templates need to draw each item's buttons."""
    return {"buttons": moderation.buttons, "describe": moderation.describe}


@bp.before_request
def require_owner():
    """Every owner page, now and later, needs a logged-in owner."""
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    return None


def _item(item_id: int) -> Submission:
    item = get_session().get(Submission, item_id)
    if item is None:
        abort(404, description=f"There is no idea #{item_id}; it may have been deleted.")
    return item


def _back(default: str) -> str:
    """Where to return after an action: the owner page the button was on."""
    return local_path(request.form.get("back"), prefix="/admin") or default


def _topic_choices() -> list[SelectChoice]:
    return [SelectChoice(t.id, t.name) for t in list_topics(get_session())]


def _bulk_form(**kwargs) -> BulkForm:
    labels = {key: label for key, (label, _run) in moderation.ACTIONS.items()}
    return BulkForm(actions=labels, topics=_topic_choices(), **kwargs)


@bp.get("/", endpoint="queue")
def queue_page():
    """The queue: pending ideas oldest first by default, with filters and status tabs."""
    try:
        filters = queue_filters.parse_filters(request.args)
    except queue_filters.FilterError as exc:
        abort(400, description=str(exc))
    db = get_session()
    page = queue_filters.page(db, filters, page_number(), current_app.config["QUEUE_PER_PAGE"])
    return render_template(
        "owner/queue.html",
        page=page,
        filters=filters,
        counts=queue_filters.status_counts(db, filters),
        topics=list_topics(db),
        bulk=_bulk_form(formdata=None),
        args=queue_filters.to_args(filters),
        pairs=themes.pairs_by_idea(db, [item.id for item in page.items]),
    )


@bp.post("/items/<id:item_id>/<action>")
def act(item_id: int, action: str):
    """Run one queue action on one item.

    :raise 404: for an unknown action or item.
    :raise 409: when the rules refuse it (for example publishing without consent).
    """
    if action not in moderation.ACTIONS:
        abort(404, description=f"There is no action called {action!r}.")
    item = _item(item_id)
    label, run = moderation.ACTIONS[action]
    db = get_session()
    outcome = moderation.apply(db, run, [item], current_user)
    if outcome.refused:
        db.rollback()
        abort(409, description=outcome.refused[0][1])
    db.commit()
    message = f"{label}: done for idea #{item_id}."
    if action == "publish" and item.status is not Status.APPROVED:
        message += " It shows on the public page once you approve it."
    flash(message)
    return redirect(_back(url_for("owner.queue")), 303)


@bp.post("/items/bulk")
def bulk():
    """Run one action on every checked item; report those the rules refused."""
    form = _bulk_form()
    back = _back(url_for("owner.queue"))
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for error in errors:
                flash(error, "error")
        return redirect(back, 303)
    db = get_session()
    if form.action.data == "delete":
        # Deleting for good always asks first, listing exactly what will go.
        return redirect(url_for("owner.bulk_delete", ids=form.ids.data, back=back), 303)
    label, outcome = moderation.bulk(
        db,
        form.action.data,
        queue_filters.get_many(db, form.ids.data),
        current_user,
        topic=db.get(Topic, form.topic.data) if form.action.data == "set_topic" else None,
        note=form.note.data,
    )
    db.commit()
    flash(f"{label}: done for {outcome.done} idea{'s' if outcome.done != 1 else ''}.")
    for item_id, reason in outcome.refused:
        flash(f"Idea #{item_id} was left unchanged: {reason}", "error")
    return redirect(back, 303)


@bp.route("/items/bulk-delete", methods=["GET", "POST"])
def bulk_delete():
    """Confirm, then delete the checked ideas for good."""
    try:
        ids = [parse_item_id(value) for value in request.values.getlist("ids")]
    except ValueError:
        abort(400, description="The ideas to delete must be given by their numbers.")
    if not ids:
        abort(400, description="Tick at least one idea to delete.")
    db = get_session()
    items = queue_filters.get_many(db, ids)
    back = local_path(request.values.get("back"), prefix="/admin") or url_for("owner.queue")
    form = ActionForm()
    if not form.validate_on_submit():
        return render_template("owner/bulk_delete.html", items=items, back=back, form=form)
    for item in items:
        moderation.delete(db, item, current_user)
    db.commit()
    flash(f"Deleted {len(items)} idea{'s' if len(items) != 1 else ''} for good.")
    return redirect(back, 303)


@bp.get("/items/<id:item_id>")
def item(item_id: int):
    """One idea with everything about it, its edit forms and its history."""
    return _render_item(_item(item_id))


def _render_item(item: Submission, status: int = 200, **forms):
    """The item page; ``forms`` replaces a default form (one sent back with errors)."""
    topic_form = forms.get("topic_form") or TopicChoiceForm(formdata=None, topic=item.topic_id)
    proposal_form = forms.get("proposal_form") or ProposalForm(
        formdata=None, title=item.title, body=item.body
    )
    topic_form.topic.choices = _topic_choices()
    return (
        render_template(
            "owner/item.html",
            item=item,
            events=moderation.history(get_session(), item),
            edit_form=forms.get("edit_form") or EditForm(formdata=None, obj=item),
            note_form=forms.get("note_form") or NoteForm(formdata=None, note=item.owner_note),
            topic_form=topic_form,
            proposal_form=proposal_form,
            request_open=consent.open_request(get_session(), item),
            pairs=themes.pairs_by_idea(get_session(), [item.id]),
            theme=themes.theme_of(get_session(), item.id),
            mail=mail_import.message_of(get_session(), item) if item.by_email else None,
        ),
        status,
    )


def _refused(exc: moderation.ModerationError):
    abort(exc.status, description=str(exc))


@bp.post("/items/<id:item_id>/edit")
def edit(item_id: int):
    """Fix typos in the title or body; the original stays in the history."""
    item = _item(item_id)
    form = EditForm()
    if not form.validate_on_submit():
        return _render_item(item, 400, edit_form=form)
    db = get_session()
    try:
        moderation.edit_text(db, item, form.title.data, form.body.data, current_user)
    except moderation.ModerationError as exc:
        _refused(exc)
    db.commit()
    flash("The text is saved; the original is in the history.")
    return redirect(url_for("owner.item", item_id=item_id), 303)


@bp.post("/items/<id:item_id>/note")
def note(item_id: int):
    """Save the internal note."""
    item = _item(item_id)
    form = NoteForm()
    if not form.validate_on_submit():
        return _render_item(item, 400, note_form=form)
    db = get_session()
    moderation.set_note(db, item, form.note.data, current_user)
    db.commit()
    flash("The note is saved.")
    return redirect(_back(url_for("owner.item", item_id=item_id)), 303)


@bp.post("/items/<id:item_id>/topic")
def set_topic(item_id: int):
    """Move the idea to another topic."""
    item = _item(item_id)
    form = TopicChoiceForm()
    form.topic.choices = _topic_choices()
    if not form.validate_on_submit():
        return _render_item(item, 400, topic_form=form)
    db = get_session()
    try:
        moderation.set_topic(db, item, db.get(Topic, form.topic.data), current_user)
    except moderation.ModerationError as exc:
        _refused(exc)
    db.commit()
    flash(f"Idea #{item_id} moved to #{item.topic.slug}.")
    return redirect(_back(url_for("owner.item", item_id=item_id)), 303)


@bp.post("/items/<id:item_id>/ask")
def ask(item_id: int):
    """Ask the author of a private note to let it be published, maybe in a trimmed version."""
    item = _item(item_id)
    form = ProposalForm()
    if not form.validate_on_submit():
        return _render_item(item, 400, proposal_form=form)
    db = get_session()
    config = current_app.config
    try:
        token = consent.ask(
            db,
            item,
            current_user,
            title=form.title.data,
            body=form.body.data,
            days=config["CONSENT_REQUEST_DAYS"],
            secret_key=config["SECRET_KEY"],
        )
    except consent.ConsentError as exc:
        db.rollback()
        abort(409, description=str(exc))
    db.commit()
    flash(*_mail_consent_request(item, token))
    return redirect(url_for("owner.item", item_id=item_id), 303)


def _mail_consent_request(item: Submission, token: str) -> tuple[str, str]:
    """Mail the author the saved request; the flash message and category that say how it went."""
    try:
        notify.mail_consent_request(current_app._get_current_object(), item, token)
    except mailer.MailError as exc:
        return (
            f"The request is saved, but the email to the author failed: {exc} The author sees "
            "it on their page when they next visit.",
            "error",
        )
    asked = f"The author of idea #{item.id} is asked; you see their answer in the history."
    return asked, "message"


@bp.route("/items/<id:item_id>/delete", methods=["GET", "POST"])
def delete(item_id: int):
    """Ask to confirm, then delete the idea for good."""
    item = _item(item_id)
    form = ActionForm()
    back = local_path(request.values.get("back"), prefix="/admin") or url_for("owner.queue")
    if not form.validate_on_submit():
        return render_template("owner/delete.html", item=item, form=form, back=back)
    db = get_session()
    moderation.delete(db, item, current_user)
    db.commit()
    flash(f"Idea #{item_id} is deleted for good. The history keeps only that it happened.")
    return redirect(back, 303)


@bp.get("/dashboard")
def dashboard():
    """Counts by status, visibility and topic, and ideas per day for the last 30 days."""
    db = get_session()
    return render_template(
        "owner/dashboard.html",
        counts=stats.by_status_and_visibility(db),
        statuses=list(Status),
        visibilities=list(Visibility),
        topics=stats.by_topic(db),
        chart=stats.chart(stats.per_day(db)),
        last_digest=contents.last_digest(db),
        waiting=contents.waiting(db, contents.Options()),
        ago=stats.ago,
        window=stats.window_chart(collection.window_of(current_app.config), utcnow()),
    )


@bp.get("/blocks")
def blocks(phrase_form: SpamPhraseForm | None = None, status: int = 200):
    """Blocked emails and addresses, trusted authors and spam phrases, each with a way back."""
    db = get_session()
    return render_template(
        "owner/blocks.html",
        blocks=db.scalars(sa.select(Block).order_by(Block.id.desc())).all(),
        trusted=db.scalars(sa.select(TrustedAuthor).order_by(TrustedAuthor.id.desc())).all(),
        phrases=db.scalars(sa.select(SpamPhrase).order_by(SpamPhrase.phrase)).all(),
        configured=antispam.phrases_from_setting(current_app.config["SPAM_WORDS"]),
        form=ActionForm(),
        phrase_form=phrase_form or SpamPhraseForm(),
    ), status


@bp.post("/spam-phrases")
def add_spam_phrase():
    """Add a word or phrase that sends new ideas to the spam tab."""
    form = SpamPhraseForm()
    if not form.validate_on_submit():
        return blocks(form, 400)
    db = get_session()
    try:
        added = moderation.add_spam_phrase(db, form.phrase.data, current_user)
    except moderation.ModerationError as exc:
        db.rollback()
        form.phrase.errors.append(str(exc))
        return blocks(form, exc.status)
    db.commit()
    flash(f"New ideas with “{added.phrase}” now go to the spam tab.")
    return redirect(url_for("owner.blocks", _anchor="spam-phrases"), 303)


@bp.post("/spam-phrases/<id:phrase_id>/remove")
def remove_spam_phrase(phrase_id: int):
    """Take a word or phrase off the spam list."""
    db = get_session()
    phrase = db.get(SpamPhrase, phrase_id) or abort(404)
    moderation.remove_spam_phrase(db, phrase, current_user)
    db.commit()
    flash(f"“{phrase.phrase}” is off the spam list.")
    return redirect(url_for("owner.blocks", _anchor="spam-phrases"), 303)


@bp.post("/blocks/<id:block_id>/remove")
def unblock(block_id: int):
    """Accept ideas from a blocked email or address again."""
    db = get_session()
    block = db.get(Block, block_id) or abort(404)
    moderation.unblock(db, block, current_user)
    db.commit()
    flash(f"Unblocked {block.label}.")
    return redirect(url_for("owner.blocks"), 303)


@bp.post("/trusted/<id:trusted_id>/remove")
def untrust(trusted_id: int):
    """Send an author's public comments through the queue again."""
    db = get_session()
    trusted = db.get(TrustedAuthor, trusted_id) or abort(404)
    moderation.untrust(db, trusted, current_user)
    db.commit()
    flash(f"{trusted.email} is no longer trusted.")
    return redirect(url_for("owner.blocks"), 303)
