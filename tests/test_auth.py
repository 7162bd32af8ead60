"""Owner login: sessions, cookies, the next parameter, the throttle, and the guard on /admin."""

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from feedback.db import get_session
from feedback.models import LoginAttempt
from tests.conftest import OWNER_EMAIL, OWNER_PASSWORD, AuthActions, add_owner


def test_login_and_logout(client, auth):
    assert client.get("/admin/").status_code == 302
    response = auth.login()
    assert response.status_code == 303
    assert response.headers["Location"] == "/admin/"
    page = client.get("/admin/").get_data(as_text=True)
    assert "Moderation queue" in page
    assert f"Log out {OWNER_EMAIL}" in page
    assert auth.logout().status_code == 303
    assert client.get("/admin/").status_code == 302


def test_logout_needs_a_post(client, auth):
    auth.login()
    assert client.get("/admin/logout").status_code == 405
    assert client.get("/admin/").status_code == 200


@pytest.mark.parametrize(
    ("email", "password"),
    [
        (OWNER_EMAIL, "wrong password here"),
        ("nobody@example.org", OWNER_PASSWORD),
        ("OWNER@example.org", "wrong password here"),
        ("not an email", OWNER_PASSWORD),
        (OWNER_EMAIL, "x" * 5000),
    ],
)
def test_wrong_credentials_get_one_plain_message(client, auth, email, password):
    response = auth.login(email, password)
    assert response.status_code == 401
    assert "That email and password do not match an owner account." in response.get_data(
        as_text=True
    )
    assert client.get("/admin/").status_code == 302


def test_email_is_matched_without_regard_to_case(client, auth):
    assert auth.login("Owner@Example.ORG").status_code == 303


def test_empty_fields_get_field_messages(client, auth):
    response = client.post("/admin/login", data={"email": "", "password": ""})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Please give your email address." in page
    assert "Please give your password." in page


def test_session_cookie_is_httponly_and_lax(client, auth):
    auth.login()
    cookie = client.get_cookie("session")
    assert cookie.http_only
    assert cookie.same_site == "Lax"
    assert not cookie.secure


def test_session_cookie_is_secure_over_https(app, owner):
    client = app.test_client()
    client.post(
        "/admin/login",
        data={"email": OWNER_EMAIL, "password": OWNER_PASSWORD},
        base_url="https://localhost",
    )
    assert client.get_cookie("session", domain="localhost").secure


def test_login_starts_a_fresh_session(client, auth):
    with client.session_transaction() as session:
        session["planted"] = "by someone else"
    before = client.get_cookie("session").value
    auth.login()
    with client.session_transaction() as session:
        assert "planted" not in session
        assert session["_user_id"] == f"{auth_owner_id(client)}:1"
    assert client.get_cookie("session").value != before


def auth_owner_id(client) -> int:
    from feedback import accounts

    with client.application.app_context():
        return accounts.find(get_session(), OWNER_EMAIL).id


def test_logout_ends_every_copy_of_the_session(app, client, auth):
    auth.login()
    copied = client.get_cookie("session").value
    auth.logout()
    thief = app.test_client()
    thief.set_cookie("session", copied)
    assert thief.get("/admin/").status_code == 302


@pytest.mark.parametrize(
    "email", ["own\x00er@example.org", "owner@example.org\r\nX: y", "o" * 300 + "@example.org"]
)
def test_hostile_login_email_is_a_400(client, auth, email):
    response = auth.login(email)
    assert response.status_code == 400


def test_login_page_is_never_cached(client):
    assert client.get("/admin/login").headers["Cache-Control"] == "no-store"


def test_password_change_logs_out_every_session(app, client, auth):
    from feedback import accounts

    auth.login()
    assert client.get("/admin/").status_code == 200
    with app.app_context():
        session = get_session()
        accounts.set_password(
            session, accounts.find(session, OWNER_EMAIL), "another long password"
        )
        session.commit()
    assert client.get("/admin/").status_code == 302


@pytest.mark.parametrize(
    "target",
    ["/admin/?status=spam", "/admin/dashboard", "/admin/items/1"],
)
def test_next_brings_the_owner_back(client, auth, target):
    assert auth.login(next=target).headers["Location"] == target


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/",
        "///evil.example/",
        "/\\evil.example/",
        "\\\\evil.example",
        "javascript:alert(1)",
        "http:/evil.example",
        "\t//evil.example",
        "/%0d%0aSet-Cookie:x=1",
        "evil.example",
        "/admin\r\nLocation: https://evil.example",
    ],
)
def test_next_never_leaves_the_site(client, auth, target):
    location = auth.login(next=target).headers["Location"]
    assert location == "/admin/" or (location.startswith("/") and "evil" not in location)
    assert "\n" not in location and "\r" not in location


def test_anonymous_visit_remembers_where_it_was_going(client, auth):
    response = client.get("/admin/?status=spam")
    assert response.headers["Location"] == "/admin/login?next=/admin/?status%3Dspam"
    login_page = client.get(response.headers["Location"]).get_data(as_text=True)
    next_value = re.search(r'name="next" type="hidden" value="([^"]*)"', login_page).group(1)
    assert next_value == "/admin/?status=spam"
    assert auth.login(next=next_value).headers["Location"] == "/admin/?status=spam"


def test_every_owner_url_requires_login(app, client):
    """Walk the URL map: every owner endpoint sends an anonymous visitor to the login."""
    rules = [r for r in app.url_map.iter_rules() if r.endpoint.startswith("owner.")]
    assert len(rules) >= 10
    for rule in rules:
        url = rule.build({arg: 1 for arg in rule.arguments} | {"action": "approve"})[1]
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.open(url, method=method)
            assert response.status_code == 302, (method, url)
            assert response.headers["Location"].startswith("/admin/login?next="), (method, url)


def _fail(auth: AuthActions, email: str = OWNER_EMAIL, times: int = 5) -> None:
    for _ in range(times):
        assert auth.login(email, "wrong password here").status_code == 401


@pytest.fixture
def guarded(make_app):
    """An app with rate limits (and so the login throttle) on, and an owner."""
    app = make_app(RATELIMIT_ENABLED=True)
    add_owner(app)
    return app


def test_five_failures_for_an_account_lock_it_for_a_while(guarded):
    client = guarded.test_client()
    auth = AuthActions(client)
    _fail(auth)
    response = auth.login()
    page = response.get_data(as_text=True)
    assert response.status_code == 429
    assert "Too many failed logins for this account or from your network." in page
    assert "Please try again in 15 minutes." in page
    assert int(response.headers["Retry-After"]) > 800
    assert client.get("/admin/").status_code == 302

    # When the window has passed, the right password works again.
    with guarded.app_context():
        session = get_session()
        for attempt in session.scalars(sa.select(LoginAttempt)):
            attempt.created_at -= timedelta(minutes=16)
        session.commit()
    assert auth.login().status_code == 303


def test_failures_from_one_address_lock_every_account_from_it(guarded):
    auth = AuthActions(guarded.test_client())
    for n in range(5):
        auth.login(f"guess{n}@example.org", "wrong password here")
    assert auth.login().status_code == 429


def test_the_lock_is_per_address_and_account(guarded):
    _fail(AuthActions(guarded.test_client()), "someone@example.org")
    # The owner, from another address, is not locked out by someone else's guesses.
    response = guarded.test_client().post(
        "/admin/login",
        data={"email": OWNER_EMAIL, "password": OWNER_PASSWORD},
        environ_base={"REMOTE_ADDR": "192.0.2.7"},
    )
    assert response.status_code == 303


def test_a_success_clears_earlier_failures(guarded):
    auth = AuthActions(guarded.test_client())
    _fail(auth, times=4)
    assert auth.login().status_code == 303
    auth.logout()
    _fail(auth, times=4)
    assert auth.login().status_code == 303


@pytest.mark.parametrize(
    "variant", ["OWNER@EXAMPLE.ORG", " owner@example.org ", "owner@\uff45xample.org"]
)
def test_other_spellings_of_a_locked_email_stay_locked(guarded, variant):
    auth = AuthActions(guarded.test_client())
    _fail(auth)
    other_network = guarded.test_client()
    response = other_network.post(
        "/admin/login",
        data={"email": variant, "password": OWNER_PASSWORD},
        environ_base={"REMOTE_ADDR": "192.0.2.99"},
    )
    assert response.status_code == 429


def test_throttle_follows_the_rate_limit_switch(client, auth):
    _fail(auth, times=6)
    assert auth.login().status_code == 303
