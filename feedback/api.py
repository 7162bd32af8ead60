"""The read-only public JSON API: public, approved ideas only, with an allow-list of fields."""

import hashlib
import json
from datetime import UTC, datetime

from flask import Blueprint, Response, abort, current_app, request, url_for

from feedback import visibility
from feedback.db import get_session
from feedback.markup import paragraphs
from feedback.models import Submission
from feedback.query_args import MAX_ID, topic_or_404, whole_number_arg

bp = Blueprint("api", __name__, url_prefix="/api")

MAX_LIMIT = 100


def _public_fields(item: Submission) -> dict:
    """What the API shows of an idea; nothing else ever leaves (no email, no notes)."""
    base = current_app.config["PUBLIC_URL"].rstrip("/")
    author = visibility.public_author(item)
    return {
        "id": item.id,
        "url": base + url_for("public.idea", item_id=item.id),
        "title": item.title,
        "author": author.name,
        "author_url": author.url,
        "topic": {"slug": item.topic.slug, "name": item.topic.name},
        "created": item.created_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "published": _iso_micro(item.published_at or item.created_at),
        "body": item.body,
        "body_html": str(paragraphs(item.body)),
        "votes": item.vote_count,
    }


def _iso_micro(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _since() -> datetime | None:
    raw = request.args.get("since")
    if raw is None:
        return None
    try:
        moment = datetime.strptime(raw, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    except ValueError:
        abort(400, description="since must be a time like 2026-03-01T09:30:00.000000Z.")
    return moment


@bp.get("/ideas")
def ideas():
    """Public ideas, oldest first, at most ``limit``: with an id above ``after``, or (for
    live updates) published after ``since``, so ideas approved out of order are not missed.

    An unchanged answer is a 304 when the client sends the last ETag in If-None-Match.
    """
    after = whole_number_arg("after", 0, 0, MAX_ID)
    limit = whole_number_arg("limit", 20, 1, MAX_LIMIT)
    since = _since()
    slug = request.args.get("topic")
    topic = topic_or_404(slug) if slug is not None else None
    query = visibility.public_in_order(after=after, since=since, topic=topic)
    rows = get_session().scalars(query.limit(limit + 1)).all()
    items = [_public_fields(item) for item in rows[:limit]]
    document = {"ideas": items, "count": len(items), "more": len(rows) > limit}
    if document["more"] and since is None:
        document["next"] = url_for("api.ideas", after=items[-1]["id"], limit=limit, topic=slug)
    elif document["more"]:
        document["next"] = url_for(
            "api.ideas", since=items[-1]["published"], limit=limit, topic=slug
        )
    body = json.dumps(document, ensure_ascii=False, sort_keys=True)
    response = Response(body, mimetype="application/json")
    response.set_etag(hashlib.sha256(body.encode()).hexdigest()[:32])
    response.headers["Cache-Control"] = "no-cache"
    return response.make_conditional(request)
