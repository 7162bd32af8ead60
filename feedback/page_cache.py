"""Public pages rendered once for each content version, then served from memory.

A page is rendered with markers where each reader's own values go (their form token, the
form's start time and key, the time the page was made, whether they gave each idea a +1)
and kept as text split at those markers; each request reads the content version (one
primary-key read, ``content_version``) and fills in its own values. A change the public
could see raises the version in the database, in the change's own transaction, so the very
next request in every worker and on every host renders again. What the views put in a page
still comes through ``visibility``, the one privacy gate; the cache only keeps what it gave.

Each process keeps its own pages (a few per version; the version check is what must be
shared, and the database shares it). Pages for an owner or with a message waiting for this
reader are never kept, and nothing kept holds one reader's values.
"""

import re
import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass

from flask import Flask, Response, current_app, get_template_attribute, render_template, session
from flask_login import current_user
from flask_wtf import FlaskForm
from markupsafe import Markup

from feedback import content_version
from feedback.db import get_session

EXTENSION_KEY = "feedback.page_cache"
# Pages kept per process: every page, sort and topic a crawler walks stays well inside this.
MAX_PAGES = 512

# Drawn per process, so reader text (which cannot hold NUL anyway) never forges a marker.
_MARK = secrets.token_hex(8)
_SLOT = re.compile(f"\x00{_MARK}([a-z_]+)(?::([0-9]+))?\x00")
VOTE = "vote"


def mark(name: str, item_id: int | None = None) -> Markup:
    """The marker a page is rendered with where the value ``name`` goes."""
    suffix = "" if item_id is None else f":{item_id}"
    return Markup(f"\x00{_MARK}{name}{suffix}\x00")


def vote_mark(item_id: int) -> Markup:
    """Where an idea's +1 control goes: the reader's own state fills it."""
    return mark(VOTE, item_id)


def mark_form(form: FlaskForm, *fields: str) -> None:
    """Markers in a blank form: for its CSRF token, and for the named fields' values."""
    if form.meta.csrf:
        form.csrf_token.current_token = mark("csrf")
    for name in fields:
        form[name].data = mark(name)


@dataclass(frozen=True)
class Page:
    """A rendered page: text and slots taking turns (text first and last), the ideas it
    shows, and its +1 control for an idea not voted for and for one voted for."""

    parts: tuple[str, ...]
    item_ids: tuple[int, ...] = ()
    plus_one: tuple[str, str] = ("", "")

    def fill(self, values: Mapping[str, Callable[[], str]], voted: Collection[int]) -> str:
        """The page for one reader: each slot filled by its value (computed once)."""
        out = list(self.parts)
        computed: dict[str, str] = {}
        for i in range(1, len(out), 2):
            name, _, item_id = out[i].partition(":")
            if name == VOTE:
                out[i] = self.plus_one[int(item_id) in voted]
            else:
                if name not in computed:
                    computed[name] = values[name]()
                out[i] = computed[name]
        return "".join(out)


def split(text: str, item_ids: Collection[int] = ()) -> Page:
    """A page from text rendered with markers."""
    pieces = _SLOT.split(text)
    # re.split gives text, name, id, text, name, id, ..., text.
    parts: list[str] = [pieces[0]]
    for i in range(1, len(pieces), 3):
        name, item_id = pieces[i], pieces[i + 1]
        parts += [name if item_id is None else f"{name}:{item_id}", pieces[i + 2]]
    plus_one = ("", "")
    if VOTE in {p.partition(":")[0] for p in parts[1::2]}:
        macro = get_template_attribute("_macros.html", "plus_one")
        plus_one = (str(macro(False)), str(macro(True)))
    return Page(tuple(parts), tuple(item_ids), plus_one)


def render(template: str, item_ids: Collection[int] = (), **context) -> Page:
    """Render a template with markers for the reader's form token and +1 controls
    (``vote_mark``), and whatever markers ``context`` holds."""
    text = render_template(
        template, csrf_token=lambda: mark("csrf"), vote_mark=vote_mark, **context
    )
    return split(text, item_ids)


def usable() -> bool:
    """Whether this request may be served a kept page: not for an owner (their pages show
    owner links), nor for a reader with a message waiting to be shown."""
    return not current_user.is_authenticated and "_flashes" not in session


class _Store:
    """The pages of one content version, least recently used dropped first."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.version: tuple[str, int] | None = None
        self.pages: OrderedDict[tuple, Page] = OrderedDict()
        self.lock = threading.Lock()
        self.renders = 0

    def get(self, version: tuple[str, int], key: tuple) -> Page | None:
        with self.lock:
            if version != self.version:
                return None
            page = self.pages.get(key)
            if page is not None:
                self.pages.move_to_end(key)
            return page

    def put(self, version: tuple[str, int], key: tuple, page: Page) -> None:
        with self.lock:
            self.renders += 1
            if self.version and version[0] == self.version[0] and version[1] < self.version[1]:
                return  # rendered for a version another request has already moved past
            if version != self.version:
                self.version = version
                self.pages.clear()
            self.pages[key] = page
            while len(self.pages) > self.size:
                self.pages.popitem(last=False)


def store() -> _Store:
    return current_app.extensions[EXTENSION_KEY]


def cached(key: tuple, make: Callable[[], Page]) -> Page:
    """The page for ``key`` at the current content version: kept, or made now and kept.

    A page that fails to render (a 404 for a page past the last) is never kept.
    """
    version = content_version.read(get_session())
    if version is None:
        return make()
    kept = store().get(version, key)
    if kept is not None:
        return kept
    page = make()
    store().put(version, key, page)
    return page


def serve(key: tuple, make: Callable[[], Page]) -> Page:
    """A reader's page: the kept one when they may have it (``usable``), else made for them."""
    return cached(key, make) if usable() else make()


def respond(
    page: Page, values: Mapping[str, Callable[[], str]], voted: Collection[int]
) -> Response:
    """The HTML response for one reader."""
    return Response(page.fill(values, voted), mimetype="text/html")


def cached_text(key: tuple, make: Callable[[], str]) -> str:
    """A text the same for everyone (a feed, an API answer), kept like a page."""
    return cached(key, lambda: Page((make(),))).parts[0]


def init_app(app: Flask) -> None:
    app.extensions[EXTENSION_KEY] = _Store(MAX_PAGES)
