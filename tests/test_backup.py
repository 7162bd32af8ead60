"""The full backup: export-all and import-all, round trips between SQLite and PostgreSQL."""

import itertools
import json
import re
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask

from feedback import backup, submissions, topics
from feedback.db import get_engine, get_session, utcnow
from feedback.models import Credit, Status, Submission, Topic, Visibility
from feedback.tokens import new_manage_token
from tests.conftest import (
    TEST_CONFIG,
    AuthActions,
    add_owner,
    dispose,
    drop_schema,
    make_schema_url,
    require_postgres,
    setup_app,
)

UTC_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z")
# Rows that an owner or a reader made by hand: tokens, passwords and every status.
HAND_MADE = ("topics", "submissions", "owners")


def _sample(table: sa.Table, column: sa.Column, n: int):
    """A value of the column's type, different for each n, with text that JSON must escape."""
    kind = column.type.impl if isinstance(column.type, sa.TypeDecorator) else column.type
    if isinstance(kind, sa.Enum):
        return kind.enums[n % len(kind.enums)]
    if isinstance(kind, sa.Boolean):
        return n % 2 == 0
    if isinstance(kind, sa.Integer):
        return n * 7
    if isinstance(kind, sa.Float):
        return n / 3
    if isinstance(kind, sa.DateTime):
        moment = utcnow() - timedelta(days=n, microseconds=n)
        return moment if kind.timezone else moment.replace(tzinfo=None)
    if isinstance(kind, sa.Date):
        return date(2026, 3, n)
    if isinstance(kind, sa.String):
        text = f'{n} {table.name}.{column.name} Zoë “x” \\ "q"\n✓ 🎤'
        return text[: kind.length] if kind.length else text
    if isinstance(kind, sa.JSON):
        return {"n": n}
    if isinstance(kind, sa.LargeBinary):
        return bytes([n, 0, 255])
    raise AssertionError(f"no sample for {table.name}.{column.name}")


def _synthetic_row(conn: sa.Connection, table: sa.Table, n: int) -> dict:
    """Row 1 leaves every optional column empty; row 2 fills them all."""
    values = {}
    for column in table.columns:
        if column.primary_key and not column.foreign_keys:
            continue
        if n == 1 and column.nullable:
            values[column.key] = None
        elif column.foreign_keys:
            # Row 1 refers to the first parent, row 2 to the last (unique pairs stay unique).
            target = next(iter(column.foreign_keys)).column
            first_or_last = sa.func.min if n == 1 else sa.func.max
            values[column.key] = conn.scalar(sa.select(first_or_last(target)))
        else:
            values[column.key] = _sample(table, column, n)
    return values


def _fill(app: Flask) -> str:
    """Fill every table (ideas in each status and visibility, an owner); the first's token."""
    add_owner(app)
    tokens = []
    with app.app_context():
        session = get_session()
        topic_ids = session.scalars(sa.select(Topic.id).order_by(Topic.id)).all()
        for n, (status, visibility) in enumerate(itertools.product(Status, Visibility)):
            token, nonce, token_hash = new_manage_token(TEST_CONFIG["SECRET_KEY"])
            tokens.append(token)
            created = utcnow() - timedelta(days=n, microseconds=n)
            session.add(
                Submission(
                    visibility=visibility,
                    status=status,
                    author_name=f"Zoë Reader {n}",
                    email=f"zoe{n}@example.org",
                    website=None if n % 2 else "https://zoe.example.org",
                    topic_id=topic_ids[n % len(topic_ids)],
                    title=None if n % 3 == 0 else f"Idea “{n}” ✓",
                    body=f'Line one\nline two, "quoted" \\ {n} 🎤\u2028after',
                    consent_to_publish=n % 2 == 0,
                    starred=n % 4 == 0,
                    owner_note=f"note {n}" if n % 2 else None,
                    credit=list(Credit)[n % len(Credit)],
                    manage_token_hash=token_hash,
                    manage_nonce=nonce,
                    created_at=created,
                    approved_at=created if status is Status.APPROVED else None,
                )
            )
        session.commit()
        with get_engine().begin() as conn:
            for table in backup.backup_tables():
                if table.name not in HAND_MADE:
                    for n in (1, 2):
                        conn.execute(sa.insert(table), _synthetic_row(conn, table, n))
    return tokens[0]


def _row_counts(app: Flask) -> dict[str, int]:
    with app.app_context(), get_engine().connect() as conn:
        return backup.count_rows(conn)


def _export(app: Flask, path: Path) -> bytes:
    result = app.test_cli_runner().invoke(args=["export-all", str(path)])
    assert result.exit_code == 0, result.output
    return path.read_bytes()


def _without_export_time(data: bytes) -> list[bytes]:
    lines = data.split(b"\n")
    assert lines[1].startswith(b'"exported_at": ')
    return lines[:1] + lines[2:]


@pytest.fixture
def other_url(database_url: str, tmp_path: Path) -> Iterator[str]:
    """The other kind of database: PostgreSQL for a SQLite test, SQLite for a PostgreSQL one."""
    if not database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'other.sqlite'}"
        return
    require_postgres()
    url = make_schema_url()
    yield url
    drop_schema(url)


@pytest.fixture
def other_app(other_url: str) -> Iterator[Flask]:
    """An app on the other database with the same secret key, its topics seeded."""
    app = setup_app(other_url)
    yield app
    dispose(app)


def test_round_trip_to_the_other_database_and_back_out(app, other_app, tmp_path):
    token = _fill(app)
    first = _export(app, tmp_path / "first.json")
    counts = json.loads(first)["counts"]
    assert all(counts.values()), counts  # every table is exercised

    imported = other_app.test_cli_runner().invoke(
        args=["import-all", str(tmp_path / "first.json")]
    )
    assert imported.exit_code == 0, imported.output
    assert imported.output.startswith(f"Imported {sum(counts.values())} rows (")
    assert _row_counts(other_app) == counts

    second = _export(other_app, tmp_path / "second.json")
    assert _without_export_time(second) == _without_export_time(first)

    # The author's old link and the owner's password work on the new database.
    client = other_app.test_client()
    page = client.get(f"/s/{token}")
    assert page.status_code == 200
    assert "Zoë Reader 0" in page.get_data(as_text=True)
    login = AuthActions(client).login()
    assert login.status_code == 303
    assert login.headers["Location"].endswith("/admin/")
    with other_app.app_context():
        session = get_session()
        item = submissions.get_by_token(session, token)
        # The same secret key derives the same link again (what /s/resend mails).
        assert submissions.manage_link_token(session, item, TEST_CONFIG["SECRET_KEY"]) == token


def test_new_rows_after_an_import_get_fresh_ids(app, other_app, tmp_path):
    _fill(app)
    _export(app, tmp_path / "backup.json")
    runner = other_app.test_cli_runner()
    assert runner.invoke(args=["import-all", str(tmp_path / "backup.json")]).exit_code == 0
    with other_app.app_context():
        session = get_session()
        highest = session.scalar(sa.select(sa.func.max(Submission.id)))
        template = session.get(Submission, highest)
        token, nonce, token_hash = new_manage_token(TEST_CONFIG["SECRET_KEY"])
        item = Submission(
            visibility=Visibility.PUBLIC,
            author_name="After the move",
            email="after@example.org",
            topic_id=template.topic_id,
            body="A new idea on the new database.",
            manage_token_hash=token_hash,
            manage_nonce=nonce,
        )
        session.add(item)
        topic = topics.add_topic(session, "After the move")
        session.commit()
        assert item.id == highest + 1
        assert topic.id == len(topics.list_topics(session))


def test_the_file_is_one_json_document_with_one_row_a_line(app, tmp_path):
    _fill(app)
    data = _export(app, tmp_path / "backup.json")
    lines = data.decode("utf-8").split("\n")
    assert lines[0] == '{"format": "conference-ideas-backup", "version": 1,'
    document = json.loads(data)
    assert UTC_TIME.fullmatch(document["exported_at"])
    assert document["schema_revision"] is None  # the tests' schema comes from create_all
    names = [table.name for table in backup.backup_tables()]
    assert list(document["counts"]) == list(document["tables"]) == names
    row_lines = sum(document["counts"].values())
    # Five header lines, a start and an end per table, one line per row, the end, "".
    assert len(lines) == 5 + 2 * len(names) + row_lines + 2

    rows = document["tables"]["submissions"]
    assert [row["id"] for row in rows] == sorted(row["id"] for row in rows)
    assert list(rows[0]) == [column.name for column in Submission.__table__.columns]
    assert {row["status"] for row in rows} == {status.value for status in Status}
    assert {row["starred"] for row in rows} == {True, False}
    assert all(UTC_TIME.fullmatch(row["created_at"]) for row in rows)
    assert rows[0]["approved_at"] is None
    assert "Zoë" in rows[0]["author_name"]  # UTF-8, not \u escapes
    assert all(row["manage_nonce"] and row["manage_token_hash"] for row in rows)


def test_standard_output_and_input_and_replace(app, runner):
    _fill(app)
    before = _row_counts(app)
    exported = runner.invoke(args=["export-all", "-"])
    assert exported.exit_code == 0, exported.output
    assert exported.stderr.startswith("Exported ")
    data = exported.stdout_bytes
    assert json.loads(data)["counts"] == before

    replaced = runner.invoke(args=["import-all", "-", "--replace"], input=data)
    assert replaced.exit_code == 0, replaced.output
    assert f"after deleting the {sum(before.values())} rows it held" in replaced.output
    assert _row_counts(app) == before
    again = runner.invoke(args=["export-all", "-"])
    assert _without_export_time(again.stdout_bytes) == _without_export_time(data)


def test_refuses_a_database_that_holds_more_than_topics(app, runner, make_submission, tmp_path):
    path = tmp_path / "backup.json"
    _export(app, path)  # the seeded topics only
    make_submission(title="Already here")
    before = _row_counts(app)
    result = runner.invoke(args=["import-all", str(path)])
    assert result.exit_code == 1
    assert "the database is not empty (submissions 1)" in result.output
    assert "--replace" in result.output
    assert _row_counts(app) == before


def test_an_empty_backup_replaces_the_seeded_topics(app, runner, tmp_path):
    path = tmp_path / "backup.json"
    _export(app, path)
    with app.app_context():
        topics.add_topic(get_session(), "Only here")
        get_session().commit()
    result = runner.invoke(args=["import-all", str(path)])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert "Only here" not in {topic.name for topic in topics.list_topics(get_session())}


def _lines_edit(change: Callable[[list[bytes]], None]) -> Callable[[bytes], bytes]:
    def edit(data: bytes) -> bytes:
        lines = data.split(b"\n")
        change(lines)
        return b"\n".join(lines)

    return edit


def _row_edit(table: str, index: int, change: Callable[[dict], None]) -> Callable[[bytes], bytes]:
    """Change one row of a table, keeping its line's comma."""

    def edit_lines(lines: list[bytes]) -> None:
        at = lines.index(json.dumps(table).encode() + b": [") + 1 + index
        comma = lines[at].endswith(b",")
        row = json.loads(lines[at].rstrip(b","))
        change(row)
        lines[at] = json.dumps(row, ensure_ascii=False).encode() + (b"," if comma else b"")

    return _lines_edit(edit_lines)


def _first_row_at(lines: list[bytes], table: str) -> int:
    return lines.index(json.dumps(table).encode() + b": [") + 1


def _rename_table(lines: list[bytes]) -> None:
    lines[3] = lines[3].replace(b'"votes":', b'"widgets":')
    lines[lines.index(b'"votes": [')] = b'"widgets": ['


def _drop_middle_row(lines: list[bytes]) -> None:
    del lines[_first_row_at(lines, "submissions") + 1]


def _repeat_first_row(lines: list[bytes]) -> None:
    at = _first_row_at(lines, "submissions")
    lines.insert(at, lines[at])


def _break_utf8(lines: list[bytes]) -> None:
    at = _first_row_at(lines, "submissions")
    lines[at] = lines[at].replace("Zoë".encode(), b"Zo\xff", 1)


def _row_not_json(lines: list[bytes]) -> None:
    at = _first_row_at(lines, "submissions")
    lines[at] = lines[at][:-10] + b"},"


def _set(column: str, value) -> Callable[[dict], None]:
    return lambda row: row.__setitem__(column, value)


def _copy_token_hash(lines: list[bytes]) -> None:
    at = _first_row_at(lines, "submissions")
    first, second = json.loads(lines[at].rstrip(b",")), json.loads(lines[at + 1].rstrip(b","))
    second["manage_token_hash"] = first["manage_token_hash"]
    lines[at + 1] = json.dumps(second, ensure_ascii=False).encode() + b","


def _nest_first_row(data: bytes) -> bytes:
    lines = data.split(b"\n")
    first = next(n for n, line in enumerate(lines) if line.startswith(b'{"id": 1,'))
    lines[first] = b"[" * 100_000 + b"]" * 100_000 + b","
    return b"\n".join(lines)


BAD_FILES = {
    "deeply nested row": (_nest_first_row, "is not valid JSON"),
    "not JSON": (lambda data: b"id,title\n1,Power strips\n", "not a Conference Ideas backup"),
    "empty": (lambda data: b"", "the file is empty"),
    "JSON of another kind": (lambda data: b'{"ideas": []}\n', "not laid out as"),
    "another format": (
        lambda data: data.replace(b'"conference-ideas-backup"', b'"wordpress-export"', 1),
        "its format is \"wordpress-export\", not 'conference-ideas-backup'",
    ),
    "unknown version": (
        lambda data: data.replace(b'"version": 1,', b'"version": 2,', 1),
        "backup format version 2; this version of the app reads version 1 only",
    ),
    "other schema revision": (
        lambda data: data.replace(b'"schema_revision": null', b'"schema_revision": "0005"', 1),
        "schema revision 0005 and this database has none: run `flask db upgrade 0005` first",
    ),
    "unknown table": (_lines_edit(_rename_table), "a table this version of the app does not know"),
    "unknown column": (
        _row_edit("submissions", 0, _set("colour", "red")),
        "(table submissions, row 1): unknown column 'colour' for the table submissions",
    ),
    "text for a number": (
        _row_edit("submissions", 1, _set("vote_count", "three")),
        'row 2): vote_count must be a whole number, not "three"',
    ),
    "number for a boolean": (
        _row_edit("submissions", 0, _set("starred", 1)),
        "starred must be true or false, not 1",
    ),
    "not a time": (
        _row_edit("submissions", 0, _set("created_at", "yesterday")),
        "created_at must be an ISO 8601 time with a zone",
    ),
    "time without a zone": (
        _row_edit("submissions", 0, _set("created_at", "2026-03-02T09:15:00")),
        "created_at must be an ISO 8601 time with a zone",
    ),
    "unknown status": (
        _row_edit("submissions", 0, _set("status", "lost")),
        "status must be one of pending, approved, rejected, spam, withdrawn",
    ),
    "text too long": (
        _row_edit("submissions", 0, _set("author_name", "x" * 81)),
        "author_name must be at most 80 characters long (it has 81)",
    ),
    "required value missing": (
        _row_edit("submissions", 0, lambda row: row.pop("body")),
        "body is required but missing",
    ),
    "required value null": (
        _row_edit("submissions", 0, _set("body", None)),
        "body is required but null",
    ),
    "NUL character": (
        _row_edit("submissions", 0, _set("body", "a\x00b")),
        "body must not contain NUL characters",
    ),
    "not UTF-8": (_lines_edit(_break_utf8), "is not UTF-8 text"),
    "cut in a line": (lambda data: data[: len(data) // 2], "it is truncated"),
    "cut at a line's end": (
        lambda data: b"\n".join(data.split(b"\n")[:-4]) + b"\n",
        "before the backup does: it is truncated",
    ),
    "more after the end": (
        lambda data: data + b"[]\n",
        "comes after the end of the backup",
    ),
    "row removed": (
        _lines_edit(_drop_middle_row),
        "the table submissions holds 9 rows but the header promises 10",
    ),
    "row not JSON": (
        _lines_edit(_row_not_json),
        "row 1) is not valid JSON: Unterminated string starting at (column ",
    ),
    "duplicate id": (_lines_edit(_repeat_first_row), "row 2): id 1 appears twice"),
    "foreign key to nothing": (
        _row_edit("votes", 1, _set("submission_id", 999_999)),
        "(table votes, row 2): submission_id 999999 points to no row of submissions",
    ),
    "duplicate unique value": (
        _lines_edit(_copy_token_hash),
        "(table submissions, row 2): the database refused it",
    ),
}


@pytest.mark.parametrize("case", BAD_FILES)
def test_a_bad_file_is_refused_with_one_line_and_changes_nothing(app, runner, tmp_path, case):
    _fill(app)
    good = _export(app, tmp_path / "good.json")
    spoil, message = BAD_FILES[case]
    bad = tmp_path / "bad.json"
    bad.write_bytes(spoil(good))
    before = _row_counts(app)
    result = runner.invoke(args=["import-all", str(bad), "--replace"])
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit)
    output = result.output.strip()
    assert "\n" not in output
    assert output.startswith(f"Error: Cannot import {bad}: ")
    assert output.endswith(". The database is unchanged.")
    assert message in output
    assert _row_counts(app) == before
    # The good file still loads: the refusal left nothing half done.
    again = runner.invoke(args=["import-all", str(tmp_path / "good.json"), "--replace"])
    assert again.exit_code == 0, again.output


def test_paths_that_are_not_backup_files(runner, tmp_path):
    missing = runner.invoke(args=["import-all", str(tmp_path / "missing.json")])
    assert missing.exit_code == 2
    assert "does not exist" in missing.output
    folder = runner.invoke(args=["import-all", str(tmp_path)])
    assert folder.exit_code == 2
    assert "is a directory" in folder.output
    into_folder = runner.invoke(args=["export-all", str(tmp_path)])
    assert into_folder.exit_code == 2
    assert "is a directory" in into_folder.output
    nowhere = runner.invoke(args=["export-all", str(tmp_path / "no" / "such" / "backup.json")])
    assert nowhere.exit_code == 1
    assert "Cannot export to" in nowhere.output
    assert "No such file or directory" in nowhere.output
    assert not list(tmp_path.rglob("*.partial"))


@pytest.mark.parametrize(
    ("in_file", "in_database", "advice"),
    [
        ("0005", "0004", "newer than this database's 0004: run `flask db upgrade 0005` here"),
        ("0004", "0005", "older than this database's 0005: run `flask db upgrade` where it"),
        ("0004", "0005", "or `flask db downgrade 0004` here"),
        ("ffff", "0005", "which this version of the app does not know"),
        ("0005", None, "this database has none: run `flask db upgrade 0005` first"),
        (None, "0005", "export from a database made by `flask db upgrade`"),
    ],
)
def test_revision_advice_says_what_to_run(in_file, in_database, advice):
    assert advice in backup.revision_advice(in_file, in_database)


def test_times_keep_their_instant_and_come_back_aware():
    codec = backup._TableCodec(Submission.__table__)
    position = codec.names.index("created_at")
    moment = datetime(2026, 3, 2, 9, 15, 0, 120, tzinfo=UTC)
    row = [None] * len(codec.names)
    row[position] = moment
    assert codec.dump(row)["created_at"] == "2026-03-02T09:15:00.000120Z"
    load = codec.codecs[position].load
    assert load("2026-03-02T10:15:00.000120+01:00") == moment
    assert load("2026-03-02T09:15:00.000120Z").tzinfo is not None


def test_progress_counts_every_row(app, tmp_path):
    _fill(app)
    path = tmp_path / "backup.json"
    written, loaded = [], []
    with app.app_context(), get_engine().connect() as conn:
        backup.begin_snapshot(conn)
        counts = backup.count_rows(conn)
        with open(path, "wb") as out:
            backup.write_backup(conn, out, counts, written.append)
    with app.app_context(), get_engine().connect() as conn, open(path, "rb") as source:
        reader = backup.BackupReader(source)
        backup.restore(conn, reader, replace=True, progress=loaded.append)
        conn.rollback()
    assert sum(written) == sum(loaded) == reader.total == sum(counts.values())


def test_a_table_no_model_defines_is_named_in_a_warning(app, runner, tmp_path):
    with app.app_context(), get_engine().begin() as conn:
        conn.execute(sa.text("CREATE TABLE leftover (id INTEGER PRIMARY KEY)"))
    try:
        result = runner.invoke(args=["export-all", str(tmp_path / "backup.json")])
        assert result.exit_code == 0, result.output
        assert "Warning: no model defines leftover; left out." in result.stderr
    finally:
        with app.app_context(), get_engine().begin() as conn:
            conn.execute(sa.text("DROP TABLE leftover"))


def test_a_schema_behind_the_models_is_a_one_line_error(app, runner, tmp_path):
    path = tmp_path / "backup.json"
    _export(app, path)
    votes = backup.Base.metadata.tables["votes"]
    with app.app_context():
        votes.drop(get_engine())
    try:
        exported = runner.invoke(args=["export-all", str(tmp_path / "other.json")])
        imported = runner.invoke(args=["import-all", str(path)])
    finally:
        with app.app_context():
            votes.create(get_engine())
    for result in (exported, imported):
        assert result.exit_code == 1
        assert "the database failed: " in result.output
        assert "votes" in result.output
        assert result.output.strip().count("\n") == 0
