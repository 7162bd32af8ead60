"""The owner's text search in the queue, through an index made for it.

The rule: an item matches when its author's name, email, title or body contains the text,
ignoring case (``ILIKE`` on PostgreSQL, ``lower(...) LIKE`` on SQLite, as before the index).
The index only narrows the rows that rule is checked on, so the results are the same with it
as without:

- SQLite: an FTS5 table with the trigram tokenizer over the four columns, kept in step with
  ``submissions`` by triggers; a quoted text matches every row holding it, Unicode case
  folded (a superset of what ``lower`` folds).
- PostgreSQL: a GIN trigram index (``pg_trgm``) on each column, which the planner uses for
  ``ILIKE '%text%'`` as it is.

A text of fewer than three characters has no trigram: it is checked on every row.

A later migration that rebuilds ``submissions`` on SQLite (Alembic's batch mode copies the
table and drops the old one, triggers with it) must call ``drop`` and ``create`` again.
"""

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ColumnElement

from feedback.models import Submission

COLUMNS = ("author_name", "email", "title", "body")
TRIGRAM = 3
_TABLE = "submission_search"
_NEW = ", ".join(f"new.{c}" for c in COLUMNS)
_OLD = ", ".join(f"old.{c}" for c in COLUMNS)
_LISTED = ", ".join(COLUMNS)
_SQLITE = [
    f"CREATE VIRTUAL TABLE {_TABLE} USING fts5({_LISTED}, content='submissions', "
    "content_rowid='id', tokenize='trigram')",
    f"CREATE TRIGGER {_TABLE}_insert AFTER INSERT ON submissions BEGIN "
    f"INSERT INTO {_TABLE}(rowid, {_LISTED}) VALUES (new.id, {_NEW}); END",
    f"CREATE TRIGGER {_TABLE}_delete AFTER DELETE ON submissions BEGIN "
    f"INSERT INTO {_TABLE}({_TABLE}, rowid, {_LISTED}) VALUES ('delete', old.id, {_OLD}); END",
    f"CREATE TRIGGER {_TABLE}_update AFTER UPDATE OF {_LISTED} ON submissions BEGIN "
    f"INSERT INTO {_TABLE}({_TABLE}, rowid, {_LISTED}) VALUES ('delete', old.id, {_OLD}); "
    f"INSERT INTO {_TABLE}(rowid, {_LISTED}) VALUES (new.id, {_NEW}); END",
    # Index what is already there.
    f"INSERT INTO {_TABLE}({_TABLE}) VALUES ('rebuild')",
]
_POSTGRESQL = [
    # A trusted extension since PostgreSQL 13: the database's owner may create it.
    "CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public",
    *(
        f"CREATE INDEX ix_submissions_{c}_trigram ON submissions "
        f"USING gin ({c} public.gin_trgm_ops)"
        for c in COLUMNS
    ),
]


def create(connection: Connection) -> None:
    """Build the index over the submissions there are (migration 0008, and ``create_all``
    through an event in ``models``)."""
    dialect = connection.dialect.name
    for statement in _SQLITE if dialect == "sqlite" else _POSTGRESQL:
        connection.exec_driver_sql(statement)


def drop(connection: Connection) -> None:
    if connection.dialect.name == "sqlite":
        for kind in ("insert", "delete", "update"):
            connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {_TABLE}_{kind}")
        connection.exec_driver_sql(f"DROP TABLE IF EXISTS {_TABLE}")
    else:
        for c in COLUMNS:
            connection.exec_driver_sql(f"DROP INDEX IF EXISTS ix_submissions_{c}_trigram")


def include_name(name: str | None, type_: str, _parents: dict) -> bool:
    """For Alembic's comparison with the models: the index is not a model, leave it be."""
    if type_ == "table":
        return not (name or "").startswith(_TABLE)
    if type_ == "index":
        return not (name or "").endswith("_trigram")
    return True


class _Candidates(ColumnElement[bool]):
    """The rows the SQLite index says may hold ``text`` (on PostgreSQL: every row, the
    planner takes the index for the ILIKE itself)."""

    inherit_cache = False
    type = sa.Boolean()
    # A condition as it is ("id IN (...)"), not compared with 1: SQLite then looks the rows up
    # by id instead of scanning the table.
    _is_implicitly_boolean = True

    def __init__(self, text: str):
        self.text = text


@compiles(_Candidates)
def _every_row(element: _Candidates, compiler, **kw) -> str:
    return compiler.process(sa.true(), **kw)


@compiles(_Candidates, "sqlite")
def _from_the_index(element: _Candidates, compiler, **kw) -> str:
    phrase = '"' + element.text.replace('"', '""') + '"'
    query = (
        sa.select(sa.column("rowid"))
        .select_from(sa.table(_TABLE))
        .where(sa.literal_column(_TABLE).op("MATCH")(phrase))
    )
    return compiler.process(Submission.id.in_(query), **kw)


def contains(text: str) -> ColumnElement[bool]:
    """The test itself: author name, email, title or body holds ``text``, ignoring case (a
    scan of every row on its own)."""
    return sa.or_(*(getattr(Submission, c).icontains(text, autoescape=True) for c in COLUMNS))


def matches(text: str) -> ColumnElement[bool]:
    """Items whose author name, email, title or body contain ``text``, ignoring case: the
    index names the candidates, ``contains`` decides."""
    if len(text) < TRIGRAM:
        return contains(text)
    return sa.and_(_Candidates(text), contains(text))
