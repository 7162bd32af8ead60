"""The collection window (FEEDBACK_OPENS_AT, FEEDBACK_CLOSES_AT) and the final digest, on
SQLite and PostgreSQL: what readers see and may do before, during and after it."""

import csv
import io
import json
import re
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from pathlib import Path

import jsonschema
import pytest

from feedback import create_app
from feedback.collection import Phase, Window, time_left, window_of
from tests.conftest import (
    TEST_CONFIG,
    count_submissions,
    form_data,
    get_item,
    owner_client,
)

SCHEMA = json.loads((Path(__file__).parent.parent / "docs" / "digest.schema.json").read_text())
FORM = 'action="/ideas#share"'


def _iso(delta: timedelta) -> str:
    return (datetime.now(UTC) + delta).isoformat()


def test_without_dates_the_form_is_always_there(app, client):
    page = client.get("/").get_data(as_text=True)
    assert FORM in page
    assert "Collection" not in page and "left</strong>" not in page


def test_before_opening_the_page_says_when_and_a_post_is_refused(make_app):
    app = make_app(OPENS_AT="2999-01-01T09:00:00+01:00")
    client = app.test_client()
    page = client.get("/").get_data(as_text=True)
    assert "Collection opens on 1 January 2999, 08:00 UTC." in page
    assert FORM not in page
    response = client.post("/ideas", data=form_data(app, body="Too early, but kept for me."))
    assert response.status_code == 403
    assert "Too early, but kept for me." in response.get_data(as_text=True)
    assert count_submissions(app) == 0


def test_while_open_the_page_counts_down_at_every_request(make_app):
    app = make_app(CLOSES_AT=_iso(timedelta(days=3, hours=1)))
    client = app.test_client()
    page = client.get("/").get_data(as_text=True)
    assert FORM in page and "<strong>3 days left</strong>" in page
    # The kept page is the same; the time left is filled in for each request.
    app.config["CLOSES_AT"] = _iso(timedelta(hours=5, minutes=30))
    assert "<strong>5 hours left</strong>" in client.get("/").get_data(as_text=True)
    assert client.post("/ideas", data=form_data(app)).status_code == 303


def test_after_closing_a_late_post_keeps_the_text_and_machines_get_a_403(make_app):
    app = make_app(CLOSES_AT="2026-03-15T18:00:00Z")
    client = app.test_client()
    page = client.get("/").get_data(as_text=True)
    assert "<strong>Collection closed</strong> on 15 March 2026, 18:00 UTC" in page
    assert FORM not in page
    late = client.post(
        "/ideas", data=form_data(app, title="Late <b>idea</b>", body="Typed after the deadline.")
    )
    assert late.status_code == 403
    text = late.get_data(as_text=True)
    assert "Collection closed on 15 March 2026, 18:00 UTC" in text
    assert "Typed after the deadline.</textarea>" in text
    assert 'value="Late &lt;b&gt;idea&lt;/b&gt;"' in text
    machine = client.post("/ideas", data=form_data(app), headers={"Accept": "application/json"})
    assert machine.status_code == 403
    assert machine.get_json()["message"].startswith("Collection closed on 15 March 2026")
    assert count_submissions(app) == 0


def test_after_closing_reading_votes_links_and_moderation_go_on(app, make_submission):
    reader = app.test_client()
    public = make_submission(body="Approved before the deadline.")
    assert reader.post("/ideas", data=form_data(app, body="Sent while it was open.")).status_code
    thanks = reader.get("/thanks").get_data(as_text=True)
    path = re.search(r'href="http://localhost(/s/[A-Za-z0-9_-]{43})"', thanks).group(1)
    pending = public + 1
    app.config["CLOSES_AT"] = "2020-01-01"
    assert "Approved before the deadline." in reader.get("/").get_data(as_text=True)
    assert reader.get(f"/ideas/{public}").status_code == 200
    assert reader.post(f"/ideas/{public}/vote").status_code == 303
    assert get_item(app, public).vote_count == 1
    assert reader.get(path).status_code == 200
    edited = reader.post(
        f"{path}/edit",
        data={**form_data(app, body="Edited after the deadline."), "visibility": None},
    )
    assert edited.status_code in (200, 303)
    assert get_item(app, pending).body == "Edited after the deadline."
    owner = owner_client(app)
    assert owner.post(f"/admin/items/{pending}/approve").status_code == 303
    assert get_item(app, pending).status.value == "approved"


def test_the_dashboard_shows_the_window_and_counts_down(make_app):
    app = make_app(OPENS_AT=_iso(-timedelta(days=1)), CLOSES_AT=_iso(timedelta(days=3, minutes=5)))
    page = owner_client(app).get("/admin/dashboard").get_data(as_text=True)
    assert "<strong>Open</strong> since" in page and "<strong>3 days left</strong>" in page
    assert re.search(r"(2[0-9])% of the collection window has gone", page)
    app.config["CLOSES_AT"] = "2020-01-01"
    app.config["OPENS_AT"] = None
    closed = owner_client(app).get("/admin/dashboard").get_data(as_text=True)
    assert "<strong>Closed</strong> at the end of 1 January 2020 (UTC)." in closed
    assert "/admin/digests/new?final=1" in closed


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"CLOSES_AT": "2027-03-15T18:00"}, "FEEDBACK_CLOSES_AT needs a zone"),
        ({"OPENS_AT": "next monday"}, "FEEDBACK_OPENS_AT must be an ISO 8601 date"),
        ({"OPENS_AT": 20270315}, "FEEDBACK_OPENS_AT must be a date or a time"),
        (
            {"OPENS_AT": "2027-03-15", "CLOSES_AT": "2027-03-01"},
            "FEEDBACK_CLOSES_AT must come after FEEDBACK_OPENS_AT",
        ),
        ({"MAIL_CREDIT": "everyone"}, "FEEDBACK_MAIL_CREDIT must be one of"),
    ],
)
def test_unusable_settings_stop_the_app_with_their_name(settings, message):
    with pytest.raises(RuntimeError, match=message):
        create_app({**TEST_CONFIG, "DATABASE_URL": "sqlite://", **settings})


def test_dates_cover_whole_days_and_times_keep_their_zone():
    window = window_of({"OPENS_AT": "2027-03-01", "CLOSES_AT": "2027-03-15"})
    assert window == Window(datetime(2027, 3, 1, tzinfo=UTC), datetime(2027, 3, 16, tzinfo=UTC))
    assert window.phase(datetime(2027, 3, 15, 23, 59, tzinfo=UTC)) is Phase.OPEN
    assert window.phase(datetime(2027, 3, 16, tzinfo=UTC)) is Phase.CLOSED
    assert window.phase(datetime(2027, 2, 28, 23, 59, tzinfo=UTC)) is Phase.BEFORE
    zoned = window_of({"CLOSES_AT": "2027-03-15T18:00:00+01:00"})
    assert zoned.closes_at == datetime(2027, 3, 15, 17, tzinfo=UTC)
    now = datetime(2027, 3, 1, tzinfo=UTC)
    assert [
        time_left(now, now + delta)
        for delta in (
            timedelta(days=2, hours=3),
            timedelta(hours=47),
            timedelta(minutes=61),
            timedelta(seconds=59),
        )
    ] == ["2 days", "47 hours", "61 minutes", "less than a minute"]


def _export(app, fmt: str, *extra: str) -> str:
    result = app.test_cli_runner().invoke(
        args=["digest", "export", "--format", fmt, "--final", *extra]
    )
    assert result.exit_code == 0, result.output
    return result.output


def test_a_final_digest_says_so_in_every_format(app, make_submission, tmp_path):
    make_submission(body="The last idea before the programme is fixed.")
    for fmt in ("md", "txt", "html"):
        text = _export(app, fmt)
        assert "Final digest: Ideas for" in text
        assert "This is the final digest of the collection" in text
    rows = list(csv.DictReader(io.StringIO(_export(app, "csv").lstrip("\ufeff"))))
    assert [row["final_digest"] for row in rows] == ["yes"]
    document = json.loads(_export(app, "json"))
    jsonschema.validate(document, SCHEMA)
    assert document["final"] is True and document["options"]["final"] is True
    assert document["title"].startswith("Final digest: ")
    out = tmp_path / "final.eml"
    _export(app, "eml", "--out", str(out))
    message = message_from_bytes(out.read_bytes(), policy=policy.default)
    assert message["Subject"].startswith("Final digest: Ideas for")
    assert "This is the final digest" in message.get_body(("plain",)).get_content()
    # Without the flag, nothing says final.
    plain = app.test_cli_runner().invoke(args=["digest", "export", "--format", "csv"]).output
    assert "Final digest" not in plain and plain.rstrip().endswith(",no")


def test_the_final_digest_choice_on_the_digest_page(app, make_submission):
    make_submission(body="An idea for the final digest.")
    owner = owner_client(app)
    preview = owner.get("/admin/digests/new?final=1").get_data(as_text=True)
    assert "This is the final digest of the collection" in preview
    marked = owner.post(
        "/admin/digests/new/mark-sent",
        data={
            "final": "y",
            "expect": re.search(r'name="expect" value="([0-9a-f]+)"', preview).group(1),
        },
    )
    assert marked.status_code == 303
    assert "FINAL digest" in owner.get("/admin/digests/").get_data(as_text=True)


def test_a_date_closes_at_the_end_of_that_day_as_readers_read_it(make_app):
    app = make_app(CLOSES_AT="2020-03-15")
    client = app.test_client()
    page = client.get("/").get_data(as_text=True)
    assert "<strong>Collection closed</strong> at the end of 15 March 2020 (UTC)" in page
    late = client.post("/ideas", data=form_data(app), headers={"Accept": "application/json"})
    assert late.get_json()["message"] == (
        "Collection closed at the end of 15 March 2020 (UTC): no new ideas."
    )
    app.config["CLOSES_AT"] = (datetime.now(UTC) + timedelta(days=9)).date().isoformat()
    assert "Open until the end of" in client.get("/").get_data(as_text=True)


def test_a_kept_front_page_follows_the_window_as_it_closes_and_reopens(make_app):
    app = make_app(CLOSES_AT=_iso(timedelta(days=2)))
    client = app.test_client()
    assert FORM in client.get("/").get_data(as_text=True)
    app.config["CLOSES_AT"] = _iso(-timedelta(minutes=1))
    assert FORM not in client.get("/").get_data(as_text=True)
    app.config["CLOSES_AT"] = _iso(timedelta(days=2))
    assert FORM in client.get("/").get_data(as_text=True)
