"""A number the database raises with every change the public could see: the key under which
public pages are kept once rendered (``page_cache``).

The database keeps it, not the app, so no write escapes it, whoever makes it (a page, a
command, a restore, SQL typed by hand): triggers on ``submissions`` and ``topics`` raise
``content_version.value`` in the transaction of the change, so the new number and the new
rows become visible together. Only changes to rows that are or were public and approved
count: a new pending idea leaves every public page as it was.

- SQLite: a trigger per row and kind of change. Writers take turns there anyway.
- PostgreSQL: the triggers are deferred to the commit and raise the number once per
  transaction, so the row is locked only while the transaction commits (two writers can then
  never wait for each other in a cycle). ``TRUNCATE`` raises it at once.

``epoch`` is drawn when the row is made: a database made again (or another database) never
reuses a key a process still holds.

The table is no model: backups leave it out (restoring it would turn the number back), as
Alembic's comparison does (``include_name``).
"""

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

TABLE = "content_version"
_FUNCTION = "content_version_raise"
_FLAG = "feedback.content_version_raised"


def _public(row: str) -> str:
    return f"({row}.status = 'approved' AND {row}.visibility = 'public')"


# (table, event, condition on the row); an empty condition counts every row.
_WATCHED = [
    ("submissions", "INSERT", _public("new")),
    ("submissions", "UPDATE", f"{_public('old')} OR {_public('new')}"),
    ("submissions", "DELETE", _public("old")),
    ("topics", "INSERT", ""),
    ("topics", "UPDATE", ""),
    ("topics", "DELETE", ""),
]


def _trigger(table: str, event: str) -> str:
    return f"{TABLE}_{table}_{event.lower()}"


def _sqlite() -> list[str]:
    statements = [
        f"CREATE TABLE IF NOT EXISTS {TABLE} (id INTEGER PRIMARY KEY CHECK (id = 1), "
        "value INTEGER NOT NULL, epoch VARCHAR(32) NOT NULL)",
        f"INSERT OR IGNORE INTO {TABLE} (id, value, epoch) "
        "VALUES (1, 0, lower(hex(randomblob(16))))",
    ]
    for table, event, condition in _WATCHED:
        when = f" WHEN {condition}" if condition else ""
        statements.append(
            f"CREATE TRIGGER IF NOT EXISTS {_trigger(table, event)} AFTER {event} ON {table} "
            f"FOR EACH ROW{when} BEGIN UPDATE {TABLE} SET value = value + 1 WHERE id = 1; END"
        )
    return statements


def _postgresql() -> list[str]:
    statements = [
        f"CREATE TABLE IF NOT EXISTS {TABLE} (id INTEGER PRIMARY KEY CHECK (id = 1), "
        "value BIGINT NOT NULL, epoch VARCHAR(32) NOT NULL)",
        f"INSERT INTO {TABLE} (id, value, epoch) "
        "VALUES (1, 0, md5(random()::text || clock_timestamp()::text)) "
        "ON CONFLICT (id) DO NOTHING",
        # Once per transaction: the flag lives until the transaction ends.
        f"CREATE OR REPLACE FUNCTION {_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$ "
        f"BEGIN IF coalesce(current_setting('{_FLAG}', true), '') <> 'yes' THEN "
        f"UPDATE {TABLE} SET value = value + 1 WHERE id = 1; "
        f"PERFORM set_config('{_FLAG}', 'yes', true); END IF; RETURN NULL; END $$",
    ]
    for table, event, condition in _WATCHED:
        when = f" WHEN ({condition})" if condition else ""
        statements += [
            f"DROP TRIGGER IF EXISTS {_trigger(table, event)} ON {table}",
            f"CREATE CONSTRAINT TRIGGER {_trigger(table, event)} AFTER {event} ON {table} "
            f"DEFERRABLE INITIALLY DEFERRED FOR EACH ROW{when} EXECUTE FUNCTION {_FUNCTION}()",
        ]
    for table in ("submissions", "topics"):
        statements += [
            f"DROP TRIGGER IF EXISTS {_trigger(table, 'TRUNCATE')} ON {table}",
            f"CREATE TRIGGER {_trigger(table, 'TRUNCATE')} AFTER TRUNCATE ON {table} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {_FUNCTION}()",
        ]
    return statements


def create(connection: Connection) -> None:
    """Make the table, its row and the triggers (migration 0009, and ``create_all`` through
    an event in ``models``); the tables watched must exist."""
    for statement in _sqlite() if connection.dialect.name == "sqlite" else _postgresql():
        connection.exec_driver_sql(statement)


def drop(connection: Connection) -> None:
    sqlite = connection.dialect.name == "sqlite"
    events = [(table, event) for table, event, _ in _WATCHED]
    if not sqlite:
        events += [("submissions", "TRUNCATE"), ("topics", "TRUNCATE")]
    for table, event in events:
        on = "" if sqlite else f" ON {table}"
        connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {_trigger(table, event)}{on}")
    if not sqlite:
        connection.exec_driver_sql(f"DROP FUNCTION IF EXISTS {_FUNCTION}()")
    connection.exec_driver_sql(f"DROP TABLE IF EXISTS {TABLE}")


_READ = sa.text(f"SELECT epoch, value FROM {TABLE} WHERE id = 1")


def read(session: Session) -> tuple[str, int] | None:
    """The current (epoch, value), or None when the row is gone (its table emptied by hand):
    pages are then rendered for each request until the next migration makes it again."""
    row = session.execute(_READ).first()
    return (row[0], row[1]) if row else None


def include_name(name: str | None, type_: str, _parents: dict) -> bool:
    """For Alembic's comparison with the models and for backups: this table is no model."""
    return not (type_ == "table" and name == TABLE)
