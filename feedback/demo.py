"""Example ideas for a fresh database, so a new user sees a living page.

The examples live in ``demo_ideas.toml`` beside this module, one named table each.
"""

import tomllib
from dataclasses import dataclass
from datetime import timedelta
from importlib import resources

import sqlalchemy as sa
from sqlalchemy.orm import Session

from feedback.db import utcnow
from feedback.models import Status, Submission, Topic, Visibility
from feedback.submissions import NewIdea, create

EXAMPLES_FILE = "demo_ideas.toml"


@dataclass(frozen=True)
class Example:
    """One example idea as the data file describes it."""

    topic: int  # position in the topic list, wrapping around
    visibility: Visibility
    status: Status
    name: str
    body: str
    website: str | None = None
    title: str | None = None


class ExampleError(ValueError):
    """The examples file is malformed; the message names the example."""


_REQUIRED = ("topic", "visibility", "status", "name", "body")
_OPTIONAL = ("website", "title")


def parse_examples(text: str) -> list[Example]:
    """The examples in a TOML text of ``[[idea]]`` tables, checked field by field.

    :raise ExampleError: for a TOML error, an unknown or missing field, a wrong type, or an
        unknown visibility or status.
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ExampleError(f"{EXAMPLES_FILE}: {exc}") from exc
    if set(data) != {"idea"} or not isinstance(data["idea"], list) or not data["idea"]:
        raise ExampleError(f"{EXAMPLES_FILE}: expected only [[idea]] tables, at least one.")
    return [_example(n, table) for n, table in enumerate(data["idea"], start=1)]


def _example(n: int, table: dict) -> Example:
    where = f"{EXAMPLES_FILE}, idea {n}"
    if isinstance(table.get("name"), str):
        where += f" ({table['name']})"
    unknown = sorted(set(table) - set(_REQUIRED) - set(_OPTIONAL))
    if unknown:
        raise ExampleError(f"{where}: unknown field {', '.join(unknown)}.")
    missing = [field for field in _REQUIRED if field not in table]
    if missing:
        raise ExampleError(f"{where}: missing field {', '.join(missing)}.")
    # bool is an int in Python, but `topic = true` is a mistake, not position 1.
    if type(table["topic"]) is not int or table["topic"] < 0:
        raise ExampleError(f"{where}: topic must be a position, 0 or more.")
    for field in ("name", "body", *_OPTIONAL):
        value = table.get(field, "")
        if not isinstance(value, str) or (field in table and not value.strip()):
            raise ExampleError(f"{where}: {field} must be a non-empty string.")
    try:
        visibility = Visibility(table["visibility"])
    except ValueError:
        choices = ", ".join(v.value for v in Visibility)
        raise ExampleError(f"{where}: visibility must be one of {choices}.") from None
    try:
        status = Status(table["status"])
    except ValueError:
        choices = ", ".join(s.value for s in Status)
        raise ExampleError(f"{where}: status must be one of {choices}.") from None
    return Example(
        topic=table["topic"],
        visibility=visibility,
        status=status,
        name=table["name"],
        body=table["body"],
        website=table.get("website"),
        title=table.get("title"),
    )


def load_examples() -> list[Example]:
    """The examples shipped with the package."""
    return parse_examples(resources.files("feedback").joinpath(EXAMPLES_FILE).read_text("utf-8"))


class NotEmptyError(RuntimeError):
    """The database already holds ideas and the caller did not ask to add more."""


def fill(session: Session, secret_key: str, force: bool = False) -> int:
    """Add the examples, spread over the last three weeks; return how many were added.

    :raise ExampleError: when the examples file is malformed, before anything is added.
    """
    if not force and session.scalar(sa.select(sa.func.count()).select_from(Submission)):
        raise NotEmptyError("The database already has ideas; use --force to add examples.")
    topics = list(session.scalars(sa.select(Topic).order_by(Topic.position, Topic.id)))
    if not topics:
        raise NotEmptyError("There are no topics yet; run `flask db upgrade` first.")
    examples = load_examples()
    now = utcnow()
    for n, example in enumerate(examples):
        idea = NewIdea(
            visibility=example.visibility,
            author_name=example.name,
            email=f"reader{n + 1}@example.org",
            topic_id=topics[example.topic % len(topics)].id,
            body=example.body,
            website=example.website,
            title=example.title,
            consent_to_publish=n % 3 == 0,
        )
        # Examples arrive over the last three weeks.
        created = now - timedelta(hours=12 * (len(examples) - n), minutes=7 * n)
        item, _token = create(
            session, idea, secret_key=secret_key, auto_approve_public=False, now=created
        )
        # create() approves only public ideas, and only by its own rules; the file's status
        # is what the example is, so set it, as if moderated when it arrived.
        item.status = example.status
        item.approved_at = created if example.status is Status.APPROVED else None
    return len(examples)
