"""Topics: owner-defined categories whose slugs double as hashtags."""

import re
import unicodedata

import sqlalchemy as sa
from sqlalchemy.orm import Session

from feedback.models import Topic


class TopicError(ValueError):
    """A topic that cannot be added as asked."""


def slugify(name: str) -> str:
    """A hashtag-friendly slug: ASCII letters and digits joined by hyphens."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:60]


def list_topics(session: Session) -> list[Topic]:
    """All topics in their configured order."""
    return list(session.scalars(sa.select(Topic).order_by(Topic.position, Topic.id)))


def add_topic(session: Session, name: str, slug: str | None = None) -> Topic:
    """Add a topic at the end of the list."""
    name = name.strip()
    if not name or len(name) > 80:
        raise TopicError("A topic name needs 1 to 80 characters.")
    slug = slugify(slug or name)
    if not slug:
        raise TopicError("The slug needs at least one letter or digit.")
    if session.scalar(sa.select(Topic.id).where(Topic.slug == slug)) is not None:
        raise TopicError(f"A topic with the slug '{slug}' already exists.")
    last = session.scalar(sa.select(sa.func.max(Topic.position))) or 0
    topic = Topic(name=name, slug=slug, position=last + 1)
    session.add(topic)
    session.flush()
    return topic


def seed_topics(session: Session, configured: list[str | tuple[str, str]]) -> int:
    """Create the configured topics when there are none yet; return how many were made.

    Each entry is a name, or a (name, slug) pair for a shorter hashtag.
    """
    if session.scalar(sa.select(sa.func.count()).select_from(Topic)):
        return 0
    for entry in configured:
        name, slug = (entry, None) if isinstance(entry, str) else entry
        add_topic(session, name, slug)
    return len(configured)
