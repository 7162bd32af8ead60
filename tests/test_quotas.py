"""Limits that protect data hold exactly across gunicorn workers, without Redis."""

import os
import signal
import threading
from collections import Counter
from datetime import timedelta

import pytest

from feedback import quotas
from feedback.models import Status
from tests.conftest import OWNER_EMAIL, add_owner, count_submissions, get_item
from tests.servers import Browser, start_gunicorn


def test_rules_are_read_from_the_settings_syntax():
    assert quotas.parse("5 per minute; 50 per hour") == (
        quotas.Rule(5, timedelta(minutes=1)),
        quotas.Rule(50, timedelta(hours=1)),
    )
    assert quotas.parse("1/second, 3 per 10 minutes") == (
        quotas.Rule(1, timedelta(seconds=1)),
        quotas.Rule(3, timedelta(minutes=10)),
    )
    assert quotas.parse("3 per day") == (quotas.Rule(3, timedelta(days=1)),)
    assert quotas.parse("") == ()


@pytest.mark.parametrize("text", ["lots", "5 per week", "5 per 2 days", "per minute", "-1/hour"])
def test_unreadable_rules_are_refused_with_a_message(text):
    with pytest.raises(ValueError, match="limit"):
        quotas.parse(text)


def _in_parallel(count: int, action) -> list:
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def run(n: int) -> None:
        barrier.wait()
        results[n] = action(n)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


@pytest.fixture
def server(database_url):
    """A gunicorn with four workers and every limit on, started by the test."""
    started = []

    def start(**settings: str) -> str:
        process, base = start_gunicorn(
            database_url, workers=4, FEEDBACK_RATELIMIT_ENABLED="true", **settings
        )
        started.append(process)
        return base

    yield start
    for process in started:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait()


def test_submissions_from_one_address_stop_at_the_limit_across_workers(app, server):
    base = server(FEEDBACK_SUBMIT_RATE_LIMIT="5 per minute")
    browsers = [Browser(base) for _ in range(20)]
    forms = [b.form("/") for b in browsers]

    def submit(n: int):
        data = {
            **forms[n],
            "name": "Flood Tester",
            "email": f"flood{n}@example.org",
            "body": f"Idea number {n} from one address.",
            "visibility": "private",
            "credit": "name",
        }
        return browsers[n].request("/ideas", data)

    answers = _in_parallel(20, submit)
    assert Counter(a.status for a in answers) == {303: 5, 429: 15}
    refused = [a for a in answers if a.status == 429]
    assert all("please wait 1 minute and send it again" in a.text for a in refused)
    assert all(1 <= int(a.headers["Retry-After"]) <= 60 for a in refused)
    # The refused reader's text is on the page they get back.
    numbers = [n for n, a in enumerate(answers) if a.status == 429]
    assert all(f"Idea number {n} from one address." in answers[n].text for n in numbers)
    assert count_submissions(app) == 5


def test_votes_from_one_address_stop_at_the_limit_across_workers(app, server, make_submission):
    ideas = [make_submission(body=f"Idea {n} to vote for.") for n in range(8)]
    base = server(FEEDBACK_VOTE_RATE_LIMIT="3 per minute")
    browsers = [Browser(base) for _ in range(8)]
    forms = [b.form(f"/ideas/{ideas[n]}") for n, b in enumerate(browsers)]
    answers = _in_parallel(
        8, lambda n: browsers[n].request(f"/ideas/{ideas[n]}/vote", {**forms[n]})
    )
    assert [a.status for a in answers] == [303] * 8
    assert sum(get_item(app, item_id).vote_count for item_id in ideas) == 3


def test_link_mails_from_one_address_stop_at_the_limit_across_workers(app, server):
    base = server(FEEDBACK_RESEND_RATE_LIMIT="2 per hour")
    browsers = [Browser(base) for _ in range(8)]
    forms = [b.form("/s/resend") for b in browsers]
    answers = _in_parallel(
        8,
        lambda n: browsers[n].request(
            "/s/resend", {**forms[n], "email": f"forgetful{n}@example.org"}
        ),
    )
    assert Counter(a.status for a in answers) == {303: 2, 429: 6}
    assert all("Please wait" in a.text for a in answers if a.status == 429)


def test_failed_logins_stop_at_the_limit_across_workers(app, server):
    add_owner(app)
    base = server(FEEDBACK_LOGIN_MAX_FAILURES="3")
    browsers = [Browser(base) for _ in range(10)]
    forms = [b.form("/admin/login") for b in browsers]
    answers = _in_parallel(
        10,
        lambda n: browsers[n].request(
            "/admin/login", {**forms[n], "email": OWNER_EMAIL, "password": f"wrong guess {n}"}
        ),
    )
    assert Counter(a.status for a in answers) == {401: 3, 429: 7}


def test_the_link_mail_limit_per_email_holds_from_any_network(make_app):
    app = make_app(
        RATELIMIT_ENABLED=True,
        RESEND_RATE_LIMIT="100 per hour",
        RESEND_EMAIL_RATE_LIMIT="2 per day",
    )
    codes = [
        app.test_client()
        .post(
            "/s/resend",
            data={"email": "Victim@Example.org" if n % 2 else "victim@example.org"},
            environ_base={"REMOTE_ADDR": f"203.0.113.{n}"},
        )
        .status_code
        for n in range(4)
    ]
    assert codes == [303, 303, 429, 429]


def test_refused_votes_say_why_and_count_nothing(make_app, make_submission):
    app = make_app(RATELIMIT_ENABLED=True, VOTE_RATE_LIMIT="1 per minute")
    first, second = make_submission(), make_submission(body="Another idea to vote for.")
    client = app.test_client()
    assert client.post(f"/ideas/{first}/vote").status_code == 303
    response = client.post(f"/ideas/{second}/vote", follow_redirects=True)
    assert "You have given many +1s in a short time; please wait 1 minute." in response.text
    assert get_item(app, second).vote_count == 0
    assert get_item(app, second).status is Status.APPROVED


def test_the_attempt_limit_sheds_load_and_keeps_the_text(make_app):
    app = make_app(RATELIMIT_ENABLED=True, ATTEMPT_RATE_LIMIT="2 per minute")
    client = app.test_client()
    for _ in range(2):
        assert client.post("/ideas", data={"body": "No name yet."}).status_code == 400
    response = client.post("/ideas", data={"body": "Still no name, third try."})
    assert response.status_code == 429
    assert "Many forms have come from this address in a short time" in response.text
    assert "Still no name, third try." in response.text
    assert int(response.headers["Retry-After"]) >= 1
    assert count_submissions(app) == 0
