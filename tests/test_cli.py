"""The command line: schema migrations, topics, demo data."""

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from feedback import create_app, models
from feedback.db import Base, get_engine, get_session
from feedback.models import Submission, Topic
from tests.conftest import TEST_CONFIG


@pytest.fixture
def fresh_app(empty_database_url):
    app = create_app({**TEST_CONFIG, "DATABASE_URL": empty_database_url})
    yield app
    with app.app_context():
        get_engine().dispose()


@pytest.mark.parametrize("empty_database_url", ["sqlite", "postgresql"], indirect=True)
def test_db_upgrade_creates_everything_and_is_idempotent(fresh_app):
    runner = fresh_app.test_cli_runner()
    first = runner.invoke(args=["db", "upgrade"])
    assert first.exit_code == 0, first.output
    assert "created 4 topics" in first.output
    second = runner.invoke(args=["db", "upgrade"])
    assert second.exit_code == 0, second.output
    assert "created" not in second.output

    with fresh_app.app_context():
        engine = get_engine()
        with engine.connect() as conn:
            # The migrations build exactly what the models describe.
            context = MigrationContext.configure(conn, opts={"include_name": models.include_name})
            diff = compare_metadata(context, Base.metadata)
            assert diff == []
        slugs = get_session().scalars(sa.select(Topic.slug).order_by(Topic.position)).all()
        assert slugs == ["blog", "sessions", "social", "other"]


@pytest.mark.parametrize("empty_database_url", ["sqlite"], indirect=True)
def test_sqlite_connections_use_wal_busy_timeout_and_foreign_keys(fresh_app):
    with fresh_app.app_context(), get_engine().connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 10000
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL


@pytest.mark.parametrize("empty_database_url", ["sqlite", "postgresql"], indirect=True)
def test_db_downgrade_to_base_and_back(fresh_app):
    runner = fresh_app.test_cli_runner()
    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
    result = runner.invoke(args=["db", "downgrade", "base"])
    assert result.exit_code == 0, result.output
    with fresh_app.app_context():
        assert "submissions" not in sa.inspect(get_engine()).get_table_names()
    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0


def test_topics_list_and_add(runner):
    listed = runner.invoke(args=["topics", "list"])
    assert "#sessions\tSessions and speakers" in listed.output
    added = runner.invoke(args=["topics", "add", "Patient voices", "--slug", "patients"])
    assert added.exit_code == 0
    assert "Added #patients (Patient voices)." in added.output
    assert "#patients\tPatient voices" in runner.invoke(args=["topics", "list"]).output


def test_topics_add_refuses_duplicates_and_empty_names(runner):
    duplicate = runner.invoke(args=["topics", "add", "Sessions", "--slug", "sessions"])
    assert duplicate.exit_code != 0
    assert "already exists" in duplicate.output
    empty = runner.invoke(args=["topics", "add", "   "])
    assert empty.exit_code != 0
    assert "1 to 80 characters" in empty.output


def test_added_topic_is_offered_on_the_form(runner, client):
    runner.invoke(args=["topics", "add", "Exhibit hall"])
    assert "Exhibit hall</option>" in client.get("/").get_data(as_text=True)


def test_demo_data_fills_a_living_page(app, runner, client):
    result = runner.invoke(args=["demo-data"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        rows = get_session().scalars(sa.select(Submission)).all()
    assert len(rows) >= 24
    assert {r.visibility.value for r in rows} == {"public", "private"}
    page = client.get("/").get_data(as_text=True)
    assert page.count('class="idea"') == 20
    assert 'rel="next"' in page
    again = runner.invoke(args=["demo-data"])
    assert again.exit_code != 0
    assert "--force" in again.output


def test_owner_create_asks_twice_and_refuses_weak_passwords(app, runner):
    result = runner.invoke(
        args=["owner", "create", "Blogger@Example.org"], input="long enough pw!\nlong enough pw!\n"
    )
    assert result.exit_code == 0, result.output
    assert "Created owner blogger@example.org" in result.output

    mismatch = runner.invoke(
        args=["owner", "create", "b@example.org"], input="long enough pw!\nsomething else!\n"
    )
    assert mismatch.exit_code != 0

    weak = runner.invoke(args=["owner", "create", "c@example.org"], input="short\nshort\n")
    assert weak.exit_code != 0
    assert "at least 12 characters" in weak.output

    duplicate = runner.invoke(
        args=["owner", "create", "blogger@example.org", "--password-stdin"],
        input="another long pw\n",
    )
    assert duplicate.exit_code != 0
    assert "already exists" in duplicate.output

    bad = runner.invoke(
        args=["owner", "create", "not an email", "--password-stdin"], input="another long pw\n"
    )
    assert "not valid" in bad.output


def test_owner_list_set_password_and_delete(app, runner, client):
    runner.invoke(
        args=["owner", "create", "o@example.org", "--password-stdin"], input="first password!\n"
    )
    assert "o@example.org\tlast login: never" in runner.invoke(args=["owner", "list"]).output

    changed = runner.invoke(
        args=["owner", "set-password", "o@example.org", "--password-stdin"],
        input="second password!\n",
    )
    assert changed.exit_code == 0, changed.output
    login = {"email": "o@example.org", "password": "second password!"}
    assert client.post("/admin/login", data=login).status_code == 303

    missing = runner.invoke(args=["owner", "set-password", "x@example.org", "--password-stdin"])
    assert "There is no owner with the email x@example.org." in missing.output

    deleted = runner.invoke(args=["owner", "delete", "o@example.org", "--yes"])
    assert deleted.exit_code == 0
    assert runner.invoke(args=["owner", "list"]).output == ""
    # A deleted owner's session ends at once.
    assert client.get("/admin/").status_code == 302


@pytest.mark.parametrize("empty_database_url", ["sqlite"], indirect=True)
def test_db_upgrade_says_how_to_create_the_first_owner(fresh_app):
    output = fresh_app.test_cli_runner().invoke(args=["db", "upgrade"]).output
    assert "No site owner yet." in output
    assert "flask owner create you@example.org" in output


def test_audit_prints_recent_events(app, runner, auth, client, make_submission):
    item_id = make_submission()
    auth.login()
    client.post(f"/admin/items/{item_id}/hide")
    client.post(f"/admin/items/{item_id}/star")
    output = runner.invoke(args=["audit", "--limit", "10"]).output.splitlines()
    assert len(output) == 2
    assert output[0].split("\t")[1:4] == ["owner@example.org", "star", f"#{item_id}"]
    assert output[1].endswith("\tpublic -> private")
