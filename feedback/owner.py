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

from feedback import moderation, queue, stats
from feedback.auth import login_manager
from feedback.db import get_session
from feedback.forms import ActionForm, BulkForm, EditForm, NoteForm, TopicChoiceForm
from feedback.models import Block, Status, Submission, Topic, TrustedAuthor, Visibility
from feedback.public import MAX_ID
from feedback.topics import list_topics

bp = Blueprint("owner", __name__, url_prefix="/admin")


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
    """Where to return after an action: the page the button was on, if it is ours."""
    target = request.form.get("back", "")
    if target.startswith("/admin") and not target.startswith("//") and "\\" not in target:
        return target
    return default


def _topic_choices() -> list[SelectChoice]:
    return [SelectChoice(t.id, t.name) for t in list_topics(get_session())]


def _page_number() -> int:
    raw = request.args.get("page", "1")
    if not (raw.isascii() and raw.isdecimal()) or len(raw) > 9 or int(raw) < 1:
        abort(400, description="The page number must be a whole number from 1 up.")
    return int(raw)


@bp.get("/", endpoint="queue")
def queue_page():
    """The queue: pending ideas oldest first by default, with filters and status tabs."""
    try:
        filters = queue.parse_filters(request.args)
    except queue.FilterError as exc:
        abort(400, description=str(exc))
    db = get_session()
    page = queue.page(db, filters, _page_number(), current_app.config["QUEUE_PER_PAGE"])
    bulk = BulkForm()
    bulk.action.choices = [SelectChoice(k, label) for k, (label, _) in moderation.ACTIONS.items()]
    return render_template(
        "owner/queue.html",
        page=page,
        filters=filters,
        counts=queue.status_counts(db, filters),
        topics=list_topics(db),
        bulk=bulk,
        action_form=ActionForm(),
        actions=moderation.ACTIONS,
        args={k: v for k, v in request.args.items() if k != "page"},
    )


@bp.post(f"/items/<int(max={MAX_ID}):item_id>/<action>")
def act(item_id: int, action: str):
    """Run one queue action on one item.

    :raise 404: for an unknown action or item.
    :raise 409: when the rules refuse it (for example publishing without consent).
    """
    if action not in moderation.ACTIONS:
        abort(404, description=f"There is no action called {action!r}.")
    item = _item(item_id)
    db = get_session()
    outcome = moderation.apply(db, action, [item], current_user)
    if outcome.refused:
        db.rollback()
        abort(409, description=outcome.refused[0][1])
    db.commit()
    flash(f"{moderation.ACTIONS[action][0]}: done for idea #{item_id}.")
    return redirect(_back(url_for("owner.queue")), 303)


@bp.post("/items/bulk")
def bulk():
    """Run one action on every checked item; report those the rules refused."""
    form = BulkForm()
    form.action.choices = [SelectChoice(k, label) for k, (label, _) in moderation.ACTIONS.items()]
    back = _back(url_for("owner.queue"))
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for error in errors:
                flash(error, "error")
        return redirect(back, 303)
    if form.action.data not in moderation.ACTIONS:
        abort(400, description="Choose one of the listed actions.")
    db = get_session()
    items = queue.get_many(db, form.ids.data)
    outcome = moderation.apply(db, form.action.data, items, current_user)
    db.commit()
    label = moderation.ACTIONS[form.action.data][0]
    flash(f"{label}: done for {outcome.done} idea{'s' if outcome.done != 1 else ''}.")
    for item_id, reason in outcome.refused:
        flash(f"Idea #{item_id} was left unchanged: {reason}", "error")
    return redirect(back, 303)


@bp.get(f"/items/<int(max={MAX_ID}):item_id>")
def item(item_id: int):
    """One idea with everything about it, its edit forms and its history."""
    item = _item(item_id)
    edit_form = EditForm(obj=item)
    note_form = NoteForm(note=item.owner_note)
    topic_form = TopicChoiceForm(topic=item.topic_id)
    topic_form.topic.choices = _topic_choices()
    return _render_item(item, edit_form, note_form, topic_form)


def _render_item(item, edit_form, note_form, topic_form, status: int = 200):
    return (
        render_template(
            "owner/item.html",
            item=item,
            events=moderation.history(get_session(), item),
            edit_form=edit_form,
            note_form=note_form,
            topic_form=topic_form,
            action_form=ActionForm(),
            actions=moderation.ACTIONS,
        ),
        status,
    )


@bp.post(f"/items/<int(max={MAX_ID}):item_id>/edit")
def edit(item_id: int):
    """Fix typos in the title or body; the original stays in the history."""
    item = _item(item_id)
    form = EditForm()
    if not form.validate_on_submit():
        topic_form = TopicChoiceForm(topic=item.topic_id)
        topic_form.topic.choices = _topic_choices()
        return _render_item(item, form, NoteForm(note=item.owner_note), topic_form, 400)
    db = get_session()
    moderation.edit_text(db, item, form.title.data, form.body.data, current_user)
    db.commit()
    flash("The text is saved; the original is in the history.")
    return redirect(url_for("owner.item", item_id=item_id), 303)


@bp.post(f"/items/<int(max={MAX_ID}):item_id>/note")
def note(item_id: int):
    """Save the internal note."""
    item = _item(item_id)
    form = NoteForm()
    if not form.validate_on_submit():
        topic_form = TopicChoiceForm(topic=item.topic_id)
        topic_form.topic.choices = _topic_choices()
        return _render_item(item, EditForm(obj=item), form, topic_form, 400)
    db = get_session()
    moderation.set_note(db, item, form.note.data, current_user)
    db.commit()
    flash("The note is saved.")
    return redirect(_back(url_for("owner.item", item_id=item_id)), 303)


@bp.post(f"/items/<int(max={MAX_ID}):item_id>/topic")
def set_topic(item_id: int):
    """Move the idea to another topic."""
    item = _item(item_id)
    form = TopicChoiceForm()
    form.topic.choices = _topic_choices()
    if not form.validate_on_submit():
        return _render_item(item, EditForm(obj=item), NoteForm(note=item.owner_note), form, 400)
    db = get_session()
    moderation.set_topic(db, item, db.get(Topic, form.topic.data), current_user)
    db.commit()
    flash(f"Idea #{item_id} moved to #{item.topic.slug}.")
    return redirect(_back(url_for("owner.item", item_id=item_id)), 303)


@bp.route(f"/items/<int(max={MAX_ID}):item_id>/delete", methods=["GET", "POST"])
def delete(item_id: int):
    """Ask to confirm, then delete the idea for good."""
    item = _item(item_id)
    form = ActionForm()
    if not form.validate_on_submit():
        return render_template("owner/delete.html", item=item, form=form)
    db = get_session()
    moderation.delete(db, item, current_user)
    db.commit()
    flash(f"Idea #{item_id} is deleted for good. The history keeps only that it happened.")
    return redirect(url_for("owner.queue"), 303)


@bp.get("/dashboard")
def dashboard():
    """Counts by status, visibility and topic, and ideas per day for the last 30 days."""
    db = get_session()
    counts = stats.by_status_and_visibility(db)
    return render_template(
        "owner/dashboard.html",
        counts=counts,
        statuses=list(Status),
        visibilities=list(Visibility),
        topics=stats.by_topic(db),
        chart=stats.chart(stats.per_day(db)),
    )


@bp.get("/blocks")
def blocks():
    """Blocked emails and addresses, and trusted authors, each with a way back."""
    db = get_session()
    return render_template(
        "owner/blocks.html",
        blocks=db.scalars(sa.select(Block).order_by(Block.id.desc())).all(),
        trusted=db.scalars(sa.select(TrustedAuthor).order_by(TrustedAuthor.id.desc())).all(),
        form=ActionForm(),
    )


@bp.post("/blocks/<int(max=2147483647):block_id>/remove")
def unblock(block_id: int):
    """Accept ideas from a blocked email or address again."""
    db = get_session()
    block = db.get(Block, block_id) or abort(404)
    moderation.unblock(db, block, current_user)
    db.commit()
    flash(f"Unblocked {block.label}.")
    return redirect(url_for("owner.blocks"), 303)


@bp.post("/trusted/<int(max=2147483647):trusted_id>/remove")
def untrust(trusted_id: int):
    """Send an email's public comments through the queue again."""
    db = get_session()
    trusted = db.get(TrustedAuthor, trusted_id) or abort(404)
    moderation.untrust(db, trusted, current_user)
    db.commit()
    flash(f"{trusted.email} is no longer trusted.")
    return redirect(url_for("owner.blocks"), 303)
