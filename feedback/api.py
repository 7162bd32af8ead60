"""The read-only public JSON API: public, approved ideas only, with an allow-list of fields."""

import hashlib
import json
from datetime import UTC, datetime

from flask import Blueprint, Response, abort, current_app, request, url_for
from wtforms import Form, TextAreaField
from wtforms.validators import DataRequired, Length

from feedback import forms, page_cache, similar, visibility
from feedback.db import get_session
from feedback.markup import paragraphs
from feedback.models import Submission
from feedback.query_args import MAX_ID, topic_or_404, whole_number_arg
from feedback.ratelimit import limiter

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


def _ideas_json(after: int, limit: int, since: datetime | None, slug: str | None) -> str:
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
    return json.dumps(document, ensure_ascii=False, sort_keys=True)


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
    body = page_cache.cached_text(
        ("api.ideas", after, limit, since, slug),
        lambda: _ideas_json(after, limit, since, slug),
    )
    response = Response(body, mimetype="application/json")
    response.set_etag(hashlib.sha256(body.encode()).hexdigest()[:32])
    response.headers["Cache-Control"] = "no-cache"
    return response.make_conditional(request)


# A reader pausing while typing asks about once a second at most.
SIMILAR_RATE_LIMIT = "60 per minute"
MAX_QUERY = 2000


def _clean_text(value: str | None) -> str | None:
    return value.replace("\r\n", "\n").replace("\r", "\n").strip() if value else value


class _SimilarQuery(Form):
    """The ``q`` of /api/similar: reader text, checked by the same rules as the idea form."""

    q = TextAreaField(
        filters=[_clean_text],
        validators=[
            DataRequired("q is required: the text to compare, as in ?q=wifi+in+the+lounge."),
            Length(max=MAX_QUERY, message=f"q must be at most {MAX_QUERY} characters."),
            forms.multi_line,
        ],
    )


@bp.get("/similar")
@limiter.limit(SIMILAR_RATE_LIMIT)
def similar_ideas():
    """Up to five public ideas like the text ``q``, most similar first (for the idea form).

    :raise 400: for a missing, empty, overlong or malformed ``q``.
    """
    if "q" in forms.undecodable_fields(request.query_string):
        abort(400, description=forms.NOT_UTF8)
    query = _SimilarQuery(request.args)
    if not query.validate():
        abort(400, description=query.q.errors[0])
    base = current_app.config["PUBLIC_URL"].rstrip("/")
    matches = similar.find(get_session(), query.q.data)
    ideas = [
        {
            "id": match.submission.id,
            "url": base + url_for("public.idea", item_id=match.submission.id),
            "title": match.submission.shown_title,
            "votes": match.submission.vote_count,
            "score": round(match.score, 3),
        }
        for match in matches
    ]
    response = Response(
        json.dumps({"ideas": ideas}, ensure_ascii=False), mimetype="application/json"
    )
    # The question is a reader's unsent text: no cache keeps it.
    response.headers["Cache-Control"] = "no-store"
    return response
