"""Reading the URL: ids in paths, whole numbers, page numbers, sort orders and topic slugs.

Every route takes ids as ``<id:name>``: a whole number up to the largest id the databases
store (32-bit on PostgreSQL), so anything larger is a 404 from the router, not an error.
"""

import sqlalchemy as sa
from flask import Flask, abort, request
from werkzeug.routing import IntegerConverter

from feedback import visibility
from feedback.db import get_session
from feedback.models import Topic

MAX_ID = 2**31 - 1


class IdConverter(IntegerConverter):
    """``<id:name>``: an id from 0 to MAX_ID."""

    def __init__(self, url_map, *args, **kwargs) -> None:
        super().__init__(url_map, max=MAX_ID)


def init_app(app: Flask) -> None:
    """Teach the router ``<id:...>``; call before any blueprint is registered."""
    app.url_map.converters["id"] = IdConverter


def whole_number_arg(
    name: str, default: int, low: int, high: int, message: str | None = None
) -> int:
    """A whole-number query argument within ``low``..``high``.

    :raise 400: for anything else, with ``message`` or a default one.
    """
    raw = request.args.get(name, str(default))
    # isdecimal() alone admits digits from other scripts; int() of 5000 digits raises.
    if not (raw.isascii() and raw.isdecimal()) or len(raw) > 10 or not low <= int(raw) <= high:
        abort(400, description=message or f"{name} must be a whole number from {low} to {high}.")
    return int(raw)


def page_number() -> int:
    """The ``page`` query argument: a positive whole number, 1 when absent.

    :raise 400: when it is anything else.
    """
    message = "The page number must be a whole number from 1 up."
    return whole_number_arg("page", 1, 1, 10**9 - 1, message)


def topic_or_404(slug: str) -> Topic:
    """The topic with that slug.

    :raise 404: for an unknown slug, including ones no slug could be (NUL bytes, too long).
    """
    if len(slug) > 60 or not slug.isascii() or not slug.replace("-", "").isalnum():
        abort(404, description="There is no such topic.")
    topic = get_session().scalar(sa.select(Topic).where(Topic.slug == slug))
    if topic is None:
        abort(404, description="There is no such topic.")
    return topic


def sort_order() -> str:
    """The ``sort`` query argument: "new" (the default) or "top".

    :raise 400: for an unknown order.
    """
    sort = request.args.get("sort", "new")
    if sort not in visibility.SORTS:
        abort(400, description="Unknown sort order; use sort=new or sort=top.")
    return sort
