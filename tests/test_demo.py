"""The example ideas: the data file, its checks, and what `flask demo-data` stores from it."""

import tomllib
from pathlib import Path

import pytest
import sqlalchemy as sa

from feedback import demo
from feedback.db import get_session
from feedback.models import Status, Submission, Visibility

ROOT = Path(__file__).resolve().parent.parent

ONE_OF_EACH = '''
[[idea]]
topic = 0
visibility = "private"
status = "approved"
name = "Private Approved"
body = "Approved although private: an owner read it and kept it."

[[idea]]
topic = 1
visibility = "public"
status = "pending"
name = "Public Pending"
website = "https://example.org/pp"
title = "Waiting"
body = """
First paragraph.

Second paragraph."""

[[idea]]
topic = 2
visibility = "public"
status = "rejected"
name = "Public Rejected"
body = "Off topic."

[[idea]]
topic = 7
visibility = "public"
status = "approved"
name = "Public Approved"
body = "Shown on the page."
'''


def _stored(app) -> list[Submission]:
    with app.app_context():
        session = get_session()
        rows = list(session.scalars(sa.select(Submission).order_by(Submission.id)))
        session.expunge_all()
    return rows


def test_the_packaged_file_holds_the_examples():
    examples = demo.load_examples()
    assert len(examples) == 36
    assert {e.visibility for e in examples} == {Visibility.PUBLIC, Visibility.PRIVATE}
    assert {e.status for e in examples} >= {Status.APPROVED, Status.PENDING}
    package_data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"][
        "package-data"
    ]["feedback"]
    assert demo.EXAMPLES_FILE in package_data


def test_every_example_is_stored_with_the_files_status_and_visibility(app, runner):
    result = runner.invoke(args=["demo-data"])
    assert result.exit_code == 0, result.output
    assert result.output == "Added 36 example ideas.\n"
    rows = _stored(app)
    examples = demo.load_examples()
    stored = [(r.author_name, r.visibility, r.status, r.title, r.body) for r in rows]
    expected = [(e.name, e.visibility, e.status, e.title, e.body) for e in examples]
    assert stored == expected
    assert [r.approved_at is not None for r in rows] == [
        e.status is Status.APPROVED for e in examples
    ]


def test_a_private_approved_example_is_approved_not_left_pending(app, client, monkeypatch):
    monkeypatch.setattr(demo, "load_examples", lambda: demo.parse_examples(ONE_OF_EACH))
    with app.app_context():
        session = get_session()
        assert demo.fill(session, "test-secret") == 4
        session.commit()
    rows = _stored(app)
    assert [(r.visibility, r.status) for r in rows] == [
        (Visibility.PRIVATE, Status.APPROVED),
        (Visibility.PUBLIC, Status.PENDING),
        (Visibility.PUBLIC, Status.REJECTED),
        (Visibility.PUBLIC, Status.APPROVED),
    ]
    assert rows[1].website == "https://example.org/pp"
    assert rows[1].body == "First paragraph.\n\nSecond paragraph."
    # Approved is not published: the public page still shows only the public approved idea.
    page = client.get("/").get_data(as_text=True)
    assert "Shown on the page." in page
    assert "Approved although private" not in page
    assert "Off topic." not in page
    assert "Second paragraph." not in page


GOOD = 'topic = 0\nvisibility = "public"\nstatus = "approved"\nname = "Ann Example"\nbody = "Hi"\n'


@pytest.mark.parametrize(
    ("table", "message"),
    [
        (GOOD + 'colour = "red"\n', "idea 2 (Ann Example): unknown field colour."),
        (GOOD.replace('status = "approved"\n', ""), "idea 2 (Ann Example): missing field status."),
        (GOOD.replace('"public"', '"secret"'), "visibility must be one of public, private."),
        (GOOD.replace('"approved"', '"published"'), "idea 2 (Ann Example): status must be one of"),
        (GOOD.replace("topic = 0", "topic = true"), "topic must be a position, 0 or more."),
        (GOOD.replace("topic = 0", "topic = -1"), "topic must be a position, 0 or more."),
        (GOOD.replace('body = "Hi"', 'body = "  "'), "body must be a non-empty string."),
        (GOOD + "title = 3\n", "title must be a non-empty string."),
    ],
)
def test_a_malformed_example_is_refused_by_number_and_name(table, message):
    text = f"[[idea]]\n{GOOD}\n[[idea]]\n{table}"
    with pytest.raises(demo.ExampleError) as excinfo:
        demo.parse_examples(text)
    assert "demo_ideas.toml, idea 2" in str(excinfo.value)
    assert message in str(excinfo.value)


@pytest.mark.parametrize("text", ["", 'title = "no tables"\n', "[[idea]\n"])
def test_a_file_without_idea_tables_is_refused(text):
    with pytest.raises(demo.ExampleError, match="demo_ideas.toml"):
        demo.parse_examples(text)


def test_a_malformed_file_adds_nothing(app, runner, monkeypatch):
    bad = ONE_OF_EACH + '\n[[idea]]\ntopic = 0\nvisibility = "public"\nname = "No Status"\n'
    monkeypatch.setattr(demo, "load_examples", lambda: demo.parse_examples(bad))
    result = runner.invoke(args=["demo-data"])
    # A clear message on the terminal, not a traceback.
    assert result.exit_code == 1
    assert "Error: " in result.output
    assert "idea 5 (No Status): missing field status, body." in result.output
    assert _stored(app) == []
