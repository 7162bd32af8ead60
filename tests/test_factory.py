"""Settings in their fixed order, the production guard, and the health check."""

import pytest

from feedback import create_app
from feedback.config import normalise_database_url


def test_testing_flag(app):
    assert app.testing
    assert not create_app({"TESTING": False, "SECRET_KEY": "x" * 32}).testing


def test_missing_secret_key_outside_testing_is_a_clear_error(monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("FEEDBACK_SECRET_KEY", raising=False)
    with pytest.raises(RuntimeError, match="SECRET_KEY is not set"):
        create_app({"TESTING": False, "SECRET_KEY": None})
    with pytest.raises(RuntimeError, match="SECRET_KEY is not set"):
        create_app({"TESTING": False, "SECRET_KEY": "dev"})


def test_environment_overrides_defaults(monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "from-the-environment")
    monkeypatch.setenv("FEEDBACK_AUTO_APPROVE_PUBLIC", "true")
    monkeypatch.setenv("FEEDBACK_MIN_FILL_SECONDS", "5")
    monkeypatch.setenv("FEEDBACK_RATELIMIT_ENABLED", "false")
    monkeypatch.setenv("FEEDBACK_CONFERENCE_NAME", "HIMSS 2007")
    monkeypatch.setenv("DATABASE_URL", "postgres://user@db.example/ideas")
    app = create_app()
    assert app.config["SECRET_KEY"] == "from-the-environment"
    assert app.config["AUTO_APPROVE_PUBLIC"] is True
    assert app.config["MIN_FILL_SECONDS"] == 5
    assert app.config["RATELIMIT_ENABLED"] is False
    assert app.config["CONFERENCE_NAME"] == "HIMSS 2007"
    assert app.config["DATABASE_URL"] == "postgresql+psycopg://user@db.example/ideas"


def test_test_config_wins_over_environment(monkeypatch):
    monkeypatch.setenv("FEEDBACK_CONFERENCE_NAME", "From env")
    app = create_app({"TESTING": True, "CONFERENCE_NAME": "From test"})
    assert app.config["CONFERENCE_NAME"] == "From test"


def test_default_database_is_sqlite_in_the_instance_folder(monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    app = create_app({"TESTING": True})
    assert app.config["DATABASE_URL"].startswith("sqlite:///")
    assert app.config["DATABASE_URL"].endswith("/instance/feedback.sqlite")


def test_redis_url_becomes_the_rate_limit_storage(monkeypatch):
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/0")
    app = create_app({"TESTING": True})
    assert app.config["RATELIMIT_STORAGE_URI"] == "redis://127.0.0.1:6379/0"


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgres://u@h/d", "postgresql+psycopg://u@h/d"),
        ("postgresql://u@h/d", "postgresql+psycopg://u@h/d"),
        ("postgresql+psycopg://u@h/d", "postgresql+psycopg://u@h/d"),
        ("sqlite:///x.sqlite", "sqlite:///x.sqlite"),
    ],
)
def test_database_url_normalisation(given, expected):
    assert normalise_database_url(given) == expected


def test_healthz_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_healthz_reports_an_unreachable_database(tmp_path):
    missing = tmp_path / "no-such-dir" / "db.sqlite"
    app = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{missing}"})
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["status"] == "error"


def test_errors_are_json_for_machines_and_html_for_people(client):
    assert client.get("/no-such-page").mimetype == "text/html"
    api = client.get("/no-such-page", headers={"Accept": "application/json"})
    assert api.status_code == 404
    assert api.get_json()["error"] == "Not Found"
    assert client.post("/").status_code == 405
