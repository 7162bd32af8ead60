"""The engine, one session per app context, and the declarative base."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Generic, TypeVar

import sqlalchemy as sa
from flask import Flask, current_app, g
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.pool import StaticPool

# Stable constraint names, so migrations can refer to them on every database.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

EXTENSION_KEY = "feedback.db"

T = TypeVar("T")


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC."""
    return datetime.now(UTC)


class DateRangeError(ValueError):
    """A date range no filter can use; ``which`` is "since" or "until"."""

    def __init__(self, which: str, message: str) -> None:
        super().__init__(message)
        self.which = which


def check_date_range(since: date | None, until: date | None) -> None:
    """The one rule for date filters (queue, digest form, CLI): real years, in order.

    :raise DateRangeError: naming the date that is wrong.
    """
    for which, day in (("since", since), ("until", until)):
        if day is not None and not 1900 <= day.year <= 9000:
            raise DateRangeError(which, "Dates must be between the years 1900 and 9000.")
    if since is not None and until is not None and since > until:
        raise DateRangeError("until", "The end date must not be before the start date.")


def day_start(day: date) -> datetime:
    """Midnight UTC at the start of a day, for filtering timestamps by date."""
    return datetime.combine(day, time.min, tzinfo=UTC)


class UTCDateTime(sa.TypeDecorator):
    """A timestamp stored in UTC and always read back timezone-aware (SQLite drops the zone)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime; use feedback.db.utcnow()")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def make_engine(url: str) -> Engine:
    """Create an engine; SQLite gets WAL, a busy timeout and foreign keys on every connection."""
    if not url.startswith("sqlite"):
        engine = sa.create_engine(url, pool_pre_ping=True)
        sa.event.listen(engine, "connect", _configure_postgresql)
        return engine
    kwargs: dict = {}
    if url in ("sqlite://", "sqlite:///:memory:"):
        # One shared connection, or every session would see its own empty database.
        kwargs = {"poolclass": StaticPool, "connect_args": {"check_same_thread": False}}
    engine = sa.create_engine(url, **kwargs)
    sa.event.listen(engine, "connect", _configure_sqlite)
    return engine


def _configure_postgresql(dbapi_connection, connection_record) -> None:
    # Day boundaries (the dashboard's ideas per day) are UTC days, whatever the server's zone.
    with dbapi_connection.cursor() as cursor:
        cursor.execute("SET TIME ZONE 'UTC'")
    dbapi_connection.commit()


def _configure_sqlite(dbapi_connection, connection_record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    # FULL makes every acknowledged commit survive a power cut, not only a process crash.
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.close()


def init_app(app: Flask) -> None:
    """Create the app's engine and close each app context's session on teardown."""
    engine = make_engine(app.config["DATABASE_URL"])
    app.extensions[EXTENSION_KEY] = sessionmaker(bind=engine, expire_on_commit=False)
    app.teardown_appcontext(close_session)


def get_engine() -> Engine:
    """The current app's engine."""
    return current_app.extensions[EXTENSION_KEY].kw["bind"]


def get_session() -> Session:
    """The session of the current app context, created on first use."""
    if "db_session" not in g:
        g.db_session = current_app.extensions[EXTENSION_KEY]()
    return g.db_session


def close_session(exc: BaseException | None = None) -> None:
    """Close the app context's session, rolling back anything uncommitted."""
    session = g.pop("db_session", None)
    if session is not None:
        session.close()


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a query's results, with whether there are newer or older ones."""

    items: list[T]
    number: int
    has_prev: bool
    has_next: bool


def paginate(session: Session, query: sa.Select[tuple[T]], number: int, per_page: int) -> Page[T]:
    """Fetch one page in SQL: one row more than a page tells whether another follows."""
    rows = list(session.scalars(query.limit(per_page + 1).offset((number - 1) * per_page)))
    return Page(rows[:per_page], number, number > 1, len(rows) > per_page)
