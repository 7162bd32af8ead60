"""Bot traps, CSRF, rate limits and headers on the public form."""

import re

from tests.conftest import count_submissions, form_data


def test_honeypot_gets_a_normal_looking_answer_and_stores_nothing(app, client):
    response = client.post("/ideas", data=form_data(app, nickname="http://spam.example"))
    assert response.status_code == 303
    assert response.headers["Location"] == "/thanks#main"
    thanks = client.get("/thanks").get_data(as_text=True)
    assert "Thank you for your idea!" in thanks
    assert count_submissions(app) == 0


def test_too_fast_submission_is_not_stored_but_asked_again(make_app):
    """A bot that resends at once never gets in; a person reads the note and sends again."""
    app = make_app(MIN_FILL_SECONDS=30)
    client = app.test_client()
    response = client.post("/ideas", data=form_data(app, body="Typed in no time at all."))
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "That was quick! Please check your idea below" in page
    assert "Typed in no time at all." in page
    assert count_submissions(app) == 0
    started = re.search(r'name="started" type="hidden" value="([^"]+)"', page).group(1)
    again = client.post("/ideas", data=form_data(app, started=started))
    assert again.status_code == 200
    assert count_submissions(app) == 0


def test_form_filled_slowly_enough_is_stored(make_app):
    from feedback import antispam

    app = make_app(MIN_FILL_SECONDS=30)
    with app.test_request_context():
        started = antispam.started_token(backdate=31)
    response = app.test_client().post("/ideas", data=form_data(app, started=started))
    assert response.status_code == 303
    assert count_submissions(app) == 1


def _csrf_token(client) -> str:
    page = client.get("/").get_data(as_text=True)
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)


def test_missing_or_wrong_csrf_token_is_a_400_that_keeps_the_text(make_app):
    app = make_app(WTF_CSRF_ENABLED=True)
    client = app.test_client()
    token = _csrf_token(client)

    for bad in (None, "wrong-token", token[:-3] + "abc"):
        data = form_data(app, csrf_token=bad)
        response = client.post("/ideas", data=data)
        page = response.get_data(as_text=True)
        assert response.status_code == 400, bad
        assert "could not confirm the form came from this site" in page
        assert "Give bloggers a corner with power strips" in page
    assert count_submissions(app) == 0

    response = client.post("/ideas", data=form_data(app, csrf_token=token))
    assert response.status_code == 303
    assert count_submissions(app) == 1


def test_csrf_token_from_another_browser_session_is_refused(make_app):
    app = make_app(WTF_CSRF_ENABLED=True)
    token = _csrf_token(app.test_client())
    response = app.test_client().post("/ideas", data=form_data(app, csrf_token=token))
    assert response.status_code == 400
    assert count_submissions(app) == 0


def test_rate_limit_refuses_a_flood_and_keeps_the_text(make_app):
    app = make_app(RATELIMIT_ENABLED=True, SUBMIT_RATE_LIMIT="3 per minute")
    client = app.test_client()
    codes = [
        client.post("/ideas", data=form_data(app, email=f"f{n}@example.org")).status_code
        for n in range(3)
    ]
    assert codes == [303, 303, 303]
    response = client.post("/ideas", data=form_data(app, body="The fourth idea in a minute."))
    page = response.get_data(as_text=True)
    assert response.status_code == 429
    assert "please wait 1 minute and send it again" in page
    assert "The fourth idea in a minute." in page
    assert 1 <= int(response.headers["Retry-After"]) <= 61
    assert count_submissions(app) == 3
    # Reading the page is never limited.
    assert client.get("/").status_code == 200


def test_forms_sent_back_to_fix_do_not_count_against_the_limit(make_app):
    app = make_app(RATELIMIT_ENABLED=True, SUBMIT_RATE_LIMIT="2 per minute")
    client = app.test_client()
    for _ in range(5):
        assert (
            client.post("/ideas", data=form_data(app, website="javascript:x")).status_code == 400
        )
    assert client.post("/ideas", data=form_data(app)).status_code == 303
    assert count_submissions(app) == 1


def test_rate_limit_switch_turns_it_off(make_app):
    app = make_app(RATELIMIT_ENABLED=False, SUBMIT_RATE_LIMIT="1 per minute")
    client = app.test_client()
    for n in range(3):
        assert (
            client.post("/ideas", data=form_data(app, email=f"g{n}@example.org")).status_code
            == 303
        )


def test_security_headers(client):
    response = client.get("/")
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"


def test_page_loads_nothing_from_other_sites(client, make_submission):
    make_submission(website="https://example.org", body="See https://example.com for more.")
    page = client.get("/").get_data(as_text=True)
    sources = re.findall(r'(?:src|href)="([^"]+)"', page)
    assets = [s for s in sources if s.endswith((".css", ".js", ".svg", ".woff2", ".png"))]
    assert assets and all(s.startswith("/static/") for s in assets)
    scripts = re.findall(r"<script[^>]*>", page)
    assert scripts == [
        '<script src="/static/live.js" defer>',
        '<script src="/static/similar.js" defer>',
    ]
