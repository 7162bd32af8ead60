"""The full backup: every row of every table to one JSON file, and back into an empty database.

The file is one JSON document laid out one row a line, so it can be written and read in
flat memory and still opened by any JSON tool::

    {"format": "conference-ideas-backup", "version": 1,
    "exported_at": "2026-03-02T09:15:00.000000Z",
    "schema_revision": "0005",
    "counts": {"topics": 4, "submissions": 2, ...},
    "tables": {
    "topics": [
    {"id": 1, "slug": "blog", ...},
    ...
    ],
    ...
    ]
    }}

Tables come parents first (``Base.metadata.sorted_tables``), rows by primary key, keys in
column order; times are ISO 8601 in UTC with a "Z", enums their stored value.
"""

import functools
import json
import math
import os
import re
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO, ParamSpec, TypeVar

import sqlalchemy as sa
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from feedback import models
from feedback.db import Base, utcnow

FORMAT = "conference-ideas-backup"
VERSION = 1
BATCH_ROWS = 1000
# Far beyond any row the app stores: a longer line means a file that is not a backup.
MAX_LINE_BYTES = 64 * 1024 * 1024
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
_TABLE_START = re.compile(r'("(?:[^"\\]|\\.)*"): \[')
_encode = json.JSONEncoder(ensure_ascii=False).encode

Progress = Callable[[int], None]
P = ParamSpec("P")
R = TypeVar("R")


class BackupError(Exception):
    """A backup that cannot be written or loaded; the message is one line for a person."""


class _Invalid(ValueError):
    """A value that does not fit its column; the message says what would."""


def _plain_errors(function: Callable[P, R]) -> Callable[P, R]:
    """Turn a database failure (a missing table, a lock) into a one-line BackupError."""

    @functools.wraps(function)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return function(*args, **kwargs)
        except sa.exc.DBAPIError as exc:
            raise BackupError(f"the database failed: {_first_line(exc)}") from exc

    return wrapper


def backup_tables() -> list[sa.Table]:
    """Every table the models define, each after the tables it refers to."""
    return [table for table in Base.metadata.sorted_tables if table.name != "alembic_version"]


@_plain_errors
def schema_revision(connection: Connection) -> str | None:
    """The Alembic revision the database is at, or None when it has none."""
    return MigrationContext.configure(connection).get_current_revision()


@_plain_errors
def unlisted_tables(connection: Connection) -> list[str]:
    """Tables in the database that no model defines: a backup leaves them out. (The text
    search index and the content version are not among them: the database keeps them.)"""
    known = {table.name for table in backup_tables()} | {"alembic_version"}
    found = set(sa.inspect(connection).get_table_names()) - known
    return sorted(name for name in found if models.include_name(name, "table", {}))


# Values: database to JSON and back, chosen by column type.


@dataclass(frozen=True)
class _Codec:
    dump: Callable[[Any], Any] | None  # None: the value is already what JSON holds
    load: Callable[[Any], Any]


def _dump_utc(value: datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def _load_datetime(value: Any) -> datetime:
    try:
        parsed = datetime.fromisoformat(value) if type(value) is str else None
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        raise _Invalid("must be an ISO 8601 time with a zone such as 2026-03-02T09:15:00Z")
    return parsed.astimezone(UTC)


def _load_bool(value: Any) -> bool:
    if type(value) is not bool:
        raise _Invalid("must be true or false")
    return value


def _load_int(bits: int) -> Callable[[Any], int]:
    low, high = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1

    def load(value: Any) -> int:
        if type(value) is not int:
            raise _Invalid("must be a whole number")
        if not low <= value <= high:
            raise _Invalid(f"must be between {low} and {high}")
        return value

    return load


def _load_float(value: Any) -> float:
    if type(value) not in (int, float) or not math.isfinite(value):
        raise _Invalid("must be a finite number")
    return float(value)


def _load_text(length: int | None) -> Callable[[Any], str]:
    def load(value: Any) -> str:
        if type(value) is not str:
            raise _Invalid("must be text")
        if length is not None and len(value) > length:
            raise _Invalid(f"must be at most {length} characters long (it has {len(value)})")
        if "\x00" in value:
            raise _Invalid("must not contain NUL characters, which PostgreSQL cannot store")
        if not value.isascii():
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                raise _Invalid("must be valid Unicode (it holds a lone surrogate)") from None
        return value

    return load


def _load_enum(allowed: Sequence[str]) -> Callable[[Any], str]:
    def load(value: Any) -> str:
        if type(value) is not str or value not in allowed:
            raise _Invalid(f"must be one of {', '.join(allowed)}")
        return value

    return load


def _dump_enum(value: Any) -> Any:
    return getattr(value, "value", value)


def _codec(table: sa.Table, column: sa.Column) -> _Codec:
    kind = column.type.impl if isinstance(column.type, sa.TypeDecorator) else column.type
    # Enum before String: the first is a subclass of the second.
    if isinstance(kind, sa.Enum):
        return _Codec(_dump_enum, _load_enum(list(kind.enums)))
    if isinstance(kind, sa.Boolean):
        return _Codec(None, _load_bool)
    if isinstance(kind, sa.Integer):
        # Checked on every database alike, so what SQLite holds also fits PostgreSQL.
        return _Codec(None, _load_int(64 if isinstance(kind, sa.BigInteger) else 32))
    if isinstance(kind, sa.Float):
        return _Codec(None, _load_float)
    if isinstance(kind, sa.DateTime) and kind.timezone:
        return _Codec(_dump_utc, _load_datetime)
    if isinstance(kind, sa.String):
        return _Codec(None, _load_text(kind.length))
    raise BackupError(
        f"the column {table.name}.{column.name} has the type {column.type!r}, "
        "which feedback/backup.py does not know how to write yet"
    )


def _show(value: Any) -> str:
    shown = json.dumps(value, ensure_ascii=False)
    return shown if len(shown) <= 40 else shown[:39] + "…"


class _TableCodec:
    """How one table's rows become JSON objects and back."""

    def __init__(self, table: sa.Table) -> None:
        self.table = table
        self.columns = list(table.columns)
        self.codecs = [_codec(table, column) for column in self.columns]
        self.names = [column.name for column in self.columns]
        self.known = frozenset(self.names)
        self.primary_key = [column.key for column in table.primary_key.columns]

    def select(self) -> sa.Select:
        order = list(self.table.primary_key.columns) or self.columns
        return sa.select(*self.columns).order_by(*order)

    def dump(self, row: Sequence[Any]) -> dict[str, Any]:
        return {
            name: value if value is None or codec.dump is None else codec.dump(value)
            for name, codec, value in zip(self.names, self.codecs, row, strict=True)
        }

    def load(self, raw: Any, where: str) -> dict[str, Any]:
        if not isinstance(raw, dict):
            raise BackupError(f"{where}: a row must be a JSON object, not {_show(raw)}")
        for name in raw:
            if name not in self.known:
                raise BackupError(
                    f"{where}: unknown column {name!r} for the table {self.table.name}"
                )
        values = {}
        for column, codec in zip(self.columns, self.codecs, strict=True):
            value = raw.get(column.name)
            if value is None:
                if not column.nullable:
                    state = "null" if column.name in raw else "missing"
                    raise BackupError(f"{where}: {column.name} is required but {state}")
                values[column.key] = None
                continue
            try:
                values[column.key] = codec.load(value)
            except _Invalid as exc:
                raise BackupError(f"{where}: {column.name} {exc}, not {_show(value)}") from None
        return values


# Writing.


@contextmanager
def writing(path: str) -> Iterator[BinaryIO]:
    """A binary file to write the backup to, renamed into place only once it is complete."""
    if path == "-":
        out = sys.stdout.buffer
        yield out
        out.flush()
        return
    partial = Path(path + ".partial")
    try:
        with open(partial, "wb", buffering=1024 * 1024) as out:
            yield out
        os.replace(partial, path)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise BackupError(exc.strerror or str(exc)) from exc
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


@_plain_errors
def begin_snapshot(connection: Connection) -> None:
    """Start a transaction that reads every table as it was at one moment."""
    if connection.dialect.name == "postgresql":
        connection.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
    elif connection.dialect.name == "sqlite":
        # pysqlite starts no transaction for SELECTs, so each table would be read at its own
        # moment; in WAL mode an explicit one is a snapshot that does not block writers.
        connection.exec_driver_sql("BEGIN")


@_plain_errors
def count_rows(connection: Connection) -> dict[str, int]:
    """Rows per table, parents first."""
    return {
        table.name: connection.scalar(sa.select(sa.func.count()).select_from(table))
        for table in backup_tables()
    }


@_plain_errors
def write_backup(
    connection: Connection,
    out: BinaryIO,
    counts: dict[str, int],
    progress: Progress | None = None,
) -> None:
    """Write the header and every table's rows (in the snapshot ``counts`` was taken in)."""
    codecs = [_TableCodec(table) for table in backup_tables()]
    head = _encode({"format": FORMAT, "version": VERSION})
    out.write(f"{head[:-1]},\n".encode())
    for key, value in (
        ("exported_at", _dump_utc(utcnow())),
        ("schema_revision", schema_revision(connection)),
        ("counts", counts),
    ):
        out.write(f"{_encode(key)}: {_encode(value)},\n".encode())
    out.write(b'"tables": {\n')
    for number, codec in enumerate(codecs, 1):
        name = codec.table.name
        out.write(f"{_encode(name)}: [\n".encode())
        written = 0
        result = connection.execute(codec.select().execution_options(yield_per=BATCH_ROWS))
        for rows in result.partitions():
            lines = [_encode(codec.dump(row)) for row in rows]
            if written:
                out.write(b",\n")
            out.write(",\n".join(lines).encode())
            written += len(lines)
            if progress:
                progress(len(lines))
        if written != counts[name]:
            raise BackupError(f"the table {name} changed while it was read; export again")
        out.write(b"\n]" if written else b"]")
        out.write(b",\n" if number < len(codecs) else b"\n")
    out.write(b"}}\n")


# Reading.


@contextmanager
def reading(path: str) -> Iterator[BinaryIO]:
    """The backup file opened for reading (standard input for "-")."""
    if path == "-":
        yield sys.stdin.buffer
        return
    try:
        source = open(path, "rb")
    except OSError as exc:
        raise BackupError(exc.strerror or str(exc)) from exc
    with source:
        yield source


class BackupReader:
    """A backup read line by line: the header at once, then each table's rows as asked."""

    def __init__(self, source: BinaryIO) -> None:
        self._source = source
        self.line_no = 0
        self._read_head()
        self.exported_at: str = self._member("exported_at", str)
        self.schema_revision: str | None = self._member("schema_revision", (str, type(None)))
        counts = self._member("counts", dict)
        for name, count in counts.items():
            if type(count) is not int or count < 0:
                raise BackupError(f"line {self.line_no}: the count for {name!r} is not a number")
        self.counts: dict[str, int] = counts
        if self._line() != '"tables": {':
            raise BackupError(f'line {self.line_no} should be "tables": {{')

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def _line(self, first: bool = False) -> str:
        raw = self._source.readline(MAX_LINE_BYTES)
        if not raw:
            if first:
                raise BackupError("the file is empty")
            raise BackupError(
                f"the file ends after line {self.line_no}, before the backup does: it is truncated"
            )
        self.line_no += 1
        if len(raw) == MAX_LINE_BYTES and not raw.endswith(b"\n"):
            raise BackupError(f"line {self.line_no} is longer than any line of a backup")
        # Every line of a backup ends with a newline: one without is where a copy was cut.
        if not first and not raw.endswith(b"\n") and raw.rstrip() != b"}}":
            raise BackupError(
                f"the file ends in the middle of line {self.line_no}: it is truncated"
            )
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise BackupError(
                f"line {self.line_no} is not UTF-8 text (byte {exc.start + 1} of the line)"
            ) from None
        return text.rstrip("\n").rstrip("\r")

    def _read_head(self) -> None:
        text = self._line(first=True)
        head = None
        if text.startswith("{") and text.endswith(","):
            try:
                head = json.loads(text[:-1] + "}")
            except (ValueError, RecursionError):
                pass
        if not isinstance(head, dict):
            raise BackupError(_not_a_backup(text))
        if head.get("format") != FORMAT:
            raise BackupError(f"its format is {_show(head.get('format'))}, not {FORMAT!r}")
        version = head.get("version")
        if type(version) is not int:
            raise BackupError("its header has no format version")
        if version != VERSION:
            raise BackupError(
                f"it is backup format version {version}; this version of the app reads "
                f"version {VERSION} only"
            )

    def _member(self, key: str, kinds: type | tuple[type, ...]) -> Any:
        text = self._line()
        pair = None
        if text.endswith(","):
            try:
                pair = json.loads("{" + text[:-1] + "}")
            except (ValueError, RecursionError):
                pass
        if not isinstance(pair, dict) or list(pair) != [key] or not isinstance(pair[key], kinds):
            raise BackupError(f"line {self.line_no} should hold the header's {key!r}")
        return pair[key]

    def sections(self) -> Iterator[tuple[str, Iterator[tuple[int, Any]]]]:
        """Each table's name and rows as (line number, JSON); read each to its end in turn."""
        names = list(self.counts)
        for number, name in enumerate(names, 1):
            text = self._line()
            match = _TABLE_START.fullmatch(text)
            if match is None or json.loads(match.group(1)) != name:
                raise BackupError(
                    f"line {self.line_no} should start the table {name!r}, next in the header"
                )
            yield name, self._rows(name, last=number == len(names))
        if self._line() != "}}":
            raise BackupError(f"line {self.line_no} should end the backup with }}}}")
        while raw := self._source.readline(MAX_LINE_BYTES):
            self.line_no += 1
            if raw.strip():
                raise BackupError(f"line {self.line_no} comes after the end of the backup")

    def _rows(self, name: str, last: bool) -> Iterator[tuple[int, Any]]:
        count = 0
        more = None  # whether the previous row ended with a comma
        while True:
            text = self._line()
            if text in ("]", "],"):
                if more or (text == "],") == last:
                    raise BackupError(f"line {self.line_no}: the commas around it are misplaced")
                break
            if more is False:
                raise BackupError(f"line {self.line_no - 1} should end with a comma")
            more = text.endswith(",")
            count += 1
            try:
                row = json.loads(text[:-1] if more else text)
            except (ValueError, RecursionError) as exc:
                reason = f"{exc.msg} (column {exc.colno})" if hasattr(exc, "msg") else exc
                raise BackupError(
                    f"line {self.line_no} (table {name}, row {count}) is not valid JSON: {reason}"
                ) from None
            yield self.line_no, row
        if count != self.counts[name]:
            raise BackupError(
                f"the table {name} holds {count} rows but the header promises "
                f"{self.counts[name]}: rows were cut or added"
            )


def _not_a_backup(first_line: str) -> str:
    try:
        value = json.loads(first_line)
    except (ValueError, RecursionError):
        return "it is not a Conference Ideas backup (its first line is not a backup's header)"
    if isinstance(value, dict) and "format" in value and value["format"] != FORMAT:
        return f"its format is {_show(value['format'])}, not {FORMAT!r}"
    return "it is JSON but not laid out as `flask export-all` writes a backup"


# Loading.


@dataclass(frozen=True)
class Restored:
    """What an import loaded, and how many rows it deleted first."""

    counts: dict[str, int]
    deleted: int


@_plain_errors
def restore(
    connection: Connection,
    reader: BackupReader,
    *,
    replace: bool = False,
    progress: Progress | None = None,
) -> Restored:
    """Load a backup into an empty database in the connection's transaction; caller commits."""
    tables = {table.name: table for table in backup_tables()}
    _lock(connection, list(tables.values()))
    _check_revision(reader.schema_revision, schema_revision(connection))
    for name in reader.counts:
        if name not in tables:
            raise BackupError(f"it has a table this version of the app does not know: {name}")
    for name in tables:
        if name not in reader.counts:
            raise BackupError(f"it has no table {name}, which this database has")
    codecs = {name: _TableCodec(table) for name, table in tables.items()}
    # `flask db upgrade` seeds topics into a new database: rows there alone still mean empty,
    # and the file's topics replace them.
    held = {
        name: count for name, count in count_rows(connection).items() if count and name != "topics"
    }
    if held and not replace:
        listed = ", ".join(f"{name} {count}" for name, count in held.items())
        raise BackupError(
            f"the database is not empty ({listed}); import into an empty database, "
            "or pass --replace to delete everything in it first"
        )
    deleted = 0
    for table in reversed(tables.values()):
        deleted += connection.execute(sa.delete(table)).rowcount
    for name, rows in reader.sections():
        _load_table(connection, codecs[name], rows, progress)
    _reset_sequences(connection, list(tables.values()))
    return Restored(dict(reader.counts), deleted)


def _lock(connection: Connection, tables: list[sa.Table]) -> None:
    # Nothing may be written between the emptiness check and the commit.
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    elif connection.dialect.name == "postgresql":
        quote = connection.dialect.identifier_preparer.format_table
        names = ", ".join(quote(table) for table in tables)
        connection.exec_driver_sql(f"LOCK TABLE {names} IN EXCLUSIVE MODE")


def _load_table(
    connection: Connection,
    codec: _TableCodec,
    rows: Iterator[tuple[int, Any]],
    progress: Progress | None,
) -> None:
    name = codec.table.name
    batch: list[tuple[str, dict[str, Any]]] = []
    previous: tuple | None = None
    # A row may point to a later row of its own table (a theme merged into a newer one): such
    # columns are written empty first and filled once the whole table is in.
    own = [fk.parent.key for fk in codec.table.foreign_keys if fk.column.table is codec.table]
    later: list[tuple[str, dict[str, Any], dict[str, Any]]] = []
    for number, (line_no, raw) in enumerate(rows, 1):
        where = f"line {line_no} (table {name}, row {number})"
        values = codec.load(raw, where)
        key = tuple(values[column] for column in codec.primary_key)
        if previous is not None and key <= previous:
            pairs = zip(codec.primary_key, key, strict=True)
            shown = ", ".join(f"{column} {value}" for column, value in pairs)
            if key == previous:
                raise BackupError(f"{where}: {shown} appears twice")
            raise BackupError(f"{where}: {shown} comes after a higher one; ids must increase")
        previous = key
        pointing = {column: values[column] for column in own if values[column] is not None}
        if pointing:
            later.append((where, dict(zip(codec.primary_key, key, strict=True)), pointing))
            values = {**values, **dict.fromkeys(pointing)}
        batch.append((where, values))
        if len(batch) == BATCH_ROWS:
            _insert(connection, codec.table, batch)
            if progress:
                progress(len(batch))
            batch = []
    if batch:
        _insert(connection, codec.table, batch)
        if progress:
            progress(len(batch))
    for where, key, pointing in later:
        match = [codec.table.c[column] == value for column, value in key.items()]
        try:
            with connection.begin_nested():
                connection.execute(sa.update(codec.table).where(*match).values(pointing))
        except sa.exc.DBAPIError as exc:
            values = {**key, **pointing}
            raise BackupError(
                f"{where}: {_refusal(connection, codec.table, values, exc)}"
            ) from exc


def _insert(connection: Connection, table: sa.Table, batch: list[tuple[str, dict]]) -> None:
    statement = sa.insert(table)
    try:
        with connection.begin_nested():
            connection.execute(statement, [values for _where, values in batch])
        return
    except (sa.exc.IntegrityError, sa.exc.DataError):
        pass
    except sa.exc.DBAPIError as exc:
        raise BackupError(
            f"{batch[0][0]} and on: the database failed: {_first_line(exc)}"
        ) from exc
    # Again row by row, to name the row the database refuses.
    for where, values in batch:
        try:
            with connection.begin_nested():
                connection.execute(statement, values)
        except sa.exc.DBAPIError as exc:
            raise BackupError(f"{where}: {_refusal(connection, table, values, exc)}") from exc


def _refusal(connection: Connection, table: sa.Table, values: dict, exc: Exception) -> str:
    for foreign_key in table.foreign_keys:
        value = values.get(foreign_key.parent.key)
        target = foreign_key.column
        if value is None:
            continue
        if connection.scalar(sa.select(sa.literal(1)).where(target == value).limit(1)) is None:
            return (
                f"{foreign_key.parent.name} {value} points to no row of {target.table.name} "
                f"(no {target.name} {value} there)"
            )
    return f"the database refused it: {_first_line(exc)}"


def _first_line(exc: Exception) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _reset_sequences(connection: Connection, tables: list[sa.Table]) -> None:
    # Rows came with their ids, which PostgreSQL's sequences did not see: move each past them.
    if connection.dialect.name != "postgresql":
        return
    preparer = connection.dialect.identifier_preparer
    for table in tables:
        key = list(table.primary_key.columns)
        if len(key) != 1 or not isinstance(key[0].type, sa.Integer):
            continue
        column = preparer.quote(key[0].name)
        connection.execute(
            sa.text(
                "SELECT setval(pg_get_serial_sequence(:table, :column), "
                f"COALESCE(MAX({column}), 0) + 1, false) FROM {preparer.format_table(table)}"
            ),
            {"table": preparer.format_table(table), "column": key[0].name},
        )


# Schema revisions.


def _check_revision(file_revision: str | None, database_revision: str | None) -> None:
    if file_revision != database_revision:
        raise BackupError(revision_advice(file_revision, database_revision))


def revision_advice(file_revision: str | None, database_revision: str | None) -> str:
    """Why a backup from one schema revision does not load into another, and what to run."""
    if file_revision is None:
        return (
            "it comes from a database without a schema revision, and this one is at "
            f"{database_revision}: export from a database made by `flask db upgrade`"
        )
    source = f"it is from schema revision {file_revision}"
    if database_revision is None:
        return f"{source} and this database has none: run `flask db upgrade {file_revision}` first"
    revisions = {
        script.revision: script for script in ScriptDirectory(str(MIGRATIONS)).walk_revisions()
    }
    if file_revision not in revisions:
        return (
            f"{source}, which this version of the app does not know (this database is at "
            f"{database_revision}): install the version that wrote it, then import"
        )
    if database_revision not in revisions:
        return (
            f"{source}, but this database is at {database_revision}, which this version of "
            "the app does not know: install the version that made it, then import"
        )
    if file_revision in _ancestors(revisions, database_revision):
        return (
            f"{source}, older than this database's {database_revision}: run `flask db upgrade` "
            f"where it came from and export again, or `flask db downgrade {file_revision}` here"
        )
    return (
        f"{source}, newer than this database's {database_revision}: "
        f"run `flask db upgrade {file_revision}` here first"
    )


def _ancestors(revisions: dict, revision: str) -> set[str]:
    seen: set[str] = set()
    todo = [revision]
    while todo:
        down = revisions[todo.pop()].down_revision
        for parent in (down,) if isinstance(down, str) else down or ():
            if parent not in seen:
                seen.add(parent)
                todo.append(parent)
    return seen
