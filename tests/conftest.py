"""Fixtures: every app-level test runs on a real SQLite file and on the real PostgreSQL."""

import os
import uuid
from collections.abc import Callable, Iterator
from email import message_from_bytes, policy

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from feedback import antispam, create_app
from feedback.db import Base, get_engine, get_session, utcnow
from feedback.models import Status, Submission, Topic, Visibility
from feedback.tokens import new_manage_token
from feedback.topics import seed_topics
from tests.servers import free_port

POSTGRES_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
TEST_CONFIG = {
    "TESTING": True,
    "SECRET_KEY": "test-secret",
    "WTF_CSRF_ENABLED": False,
    "MIN_FILL_SECONDS": 0,
    "RATELIMIT_ENABLED": False,
}


def _postgres_unreachable() -> str | None:
    engine = sa.create_engine(POSTGRES_URL, connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except Exception as exc:  # any failure means: cannot test against it here
        return f"PostgreSQL at {POSTGRES_URL} is not reachable ({type(exc).__name__}: {exc})"
    finally:
        engine.dispose()
    return None


def require_postgres() -> None:
    """Skip when PostgreSQL is down, except under CI where that is a failure."""
    reason = _postgres_unreachable()
    if reason is None:
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason}; CI must test PostgreSQL too.")
    pytest.skip(reason)


def make_schema_url() -> str:
    """Create an empty schema for this run and return a URL whose search_path points at it."""
    schema = f"test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    engine = sa.create_engine(POSTGRES_URL)
    with engine.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    engine.dispose()
    return f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"


def drop_schema(url: str) -> None:
    schema = url.rsplit("%3D", 1)[1]
    engine = sa.create_engine(POSTGRES_URL)
    with engine.begin() as conn:
        conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    engine.dispose()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """One schema for the whole run; each test empties its tables first."""
    require_postgres()
    url = make_schema_url()
    engine = sa.create_engine(url)
    Base.metadata.create_all(engine)
    engine.dispose()
    yield url
    drop_schema(url)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path) -> str:
    """A real database for one test: a fresh SQLite file, or PostgreSQL emptied for the test."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'feedback.sqlite'}"
    url = request.getfixturevalue("postgres_url")
    engine = sa.create_engine(url)
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(sa.text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()
    return url


@pytest.fixture
def empty_database_url(request, tmp_path) -> Iterator[str]:
    """A database with no tables at all, for migration tests (parametrised indirectly)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.sqlite'}"
        return
    require_postgres()
    url = make_schema_url()
    yield url
    drop_schema(url)


@pytest.fixture
def make_app(database_url) -> Iterator[Callable[..., Flask]]:
    """Build apps on the test's database with extra settings; their pools close afterwards."""
    built: list[Flask] = []

    def make(**overrides) -> Flask:
        app = setup_app(database_url, **overrides)
        built.append(app)
        return app

    yield make
    for app in built:
        dispose(app)


def setup_app(database_url: str, **overrides) -> Flask:
    """An app for tests on that database, with the schema in place and the topics seeded."""
    app = create_app({**TEST_CONFIG, "DATABASE_URL": database_url, **overrides})
    with app.app_context():
        Base.metadata.create_all(get_engine())
        session = get_session()
        seed_topics(session, app.config["TOPICS"])
        session.commit()
    return app


def dispose(app: Flask) -> None:
    """Close the app's connection pool (PostgreSQL warns about connections left to the GC)."""
    with app.app_context():
        get_engine().dispose()


@pytest.fixture
def app(make_app) -> Flask:
    return make_app()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


def form_data(app: Flask, **overrides) -> dict:
    """A valid submission as the form would post it; override or drop (None) any field."""
    with app.test_request_context():
        started = antispam.started_token()
        topic_id = get_session().scalar(sa.select(Topic.id).order_by(Topic.position))
    data = {
        "name": "Ada Reader",
        "email": "ada@example.org",
        "website": "https://ada.example.org",
        "topic": str(topic_id),
        "title": "A bloggers' corner",
        "body": "Give bloggers a corner with power strips and good Wi-Fi.",
        "visibility": "public",
        "credit": "name",
        "started": started,
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


@pytest.fixture
def make_submission(app: Flask):
    """Store a submission directly, bypassing the form; returns its id."""

    def make(**fields) -> int:
        with app.app_context():
            session = get_session()
            topic = session.scalars(sa.select(Topic).order_by(Topic.position)).first()
            values = {
                "visibility": Visibility.PUBLIC,
                "status": Status.APPROVED,
                "author_name": "Grace Example",
                "email": "grace@example.org",
                "topic_id": topic.id,
                "body": "An idea long enough to be stored.",
                "manage_token_hash": new_manage_token("test-secret")[2],
                "created_at": utcnow(),
            }
            values.update(fields)
            item = Submission(**values)
            session.add(item)
            session.commit()
            return item.id

    return make


def count_submissions(app: Flask) -> int:
    with app.app_context():
        return get_session().scalar(sa.select(sa.func.count()).select_from(Submission))


OWNER_EMAIL = "owner@example.org"
OWNER_PASSWORD = "correct horse battery staple"


def add_owner(app: Flask, email: str = OWNER_EMAIL, password: str = OWNER_PASSWORD) -> int:
    """Create an owner account in the app's database; returns its id."""
    from feedback import accounts

    with app.app_context():
        session = get_session()
        existing = accounts.find(session, email)
        if existing is not None:
            return existing.id
        created = accounts.create(session, email, password)
        session.commit()
        return created.id


def owner_client(app: Flask) -> FlaskClient:
    """A test client logged in as the owner (made if there is none yet)."""
    add_owner(app)
    client = app.test_client()
    client.post("/admin/login", data={"email": OWNER_EMAIL, "password": OWNER_PASSWORD})
    return client


def log_in_browser(page, base: str) -> None:
    """Log a browser page in as the owner through the login form."""
    page.goto(base + "/admin/login")
    page.get_by_label("Email").fill(OWNER_EMAIL)
    page.get_by_label("Password").fill(OWNER_PASSWORD)
    page.get_by_role("button", name="Log in").click()


@pytest.fixture
def owner(app: Flask) -> int:
    """An owner account; returns its id."""
    return add_owner(app)


class AuthActions:
    """Log the test client in and out as the owner."""

    def __init__(self, client: FlaskClient) -> None:
        self._client = client

    def login(self, email: str = OWNER_EMAIL, password: str = OWNER_PASSWORD, **extra):
        return self._client.post(
            "/admin/login", data={"email": email, "password": password, **extra}
        )

    def logout(self):
        return self._client.post("/admin/logout")


@pytest.fixture
def auth(client: FlaskClient, owner: int) -> AuthActions:
    return AuthActions(client)


def get_item(app: Flask, item_id: int) -> Submission | None:
    with app.app_context():
        return get_session().get(Submission, item_id)


class Inbox:
    """An aiosmtpd handler that keeps every message it receives."""

    def __init__(self) -> None:
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(
            (envelope.rcpt_tos, message_from_bytes(envelope.content, policy=policy.default))
        )
        return "250 Message accepted"


@pytest.fixture
def smtp():
    """A real SMTP server on loopback: its port, and the Inbox of what it received."""
    from aiosmtpd.controller import Controller

    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller.port, inbox
    controller.stop()


@pytest.fixture
def live_server(tmp_path) -> Iterator[tuple[str, Flask]]:
    """The app on a real HTTP port for a browser, on a SQLite file (the data layer is tested
    on both databases elsewhere): its base URL and the app."""
    import threading

    from werkzeug.serving import make_server

    app = setup_app(
        f"sqlite:///{tmp_path / 'browser.sqlite'}",
        MIN_FILL_SECONDS=1,
        WTF_CSRF_ENABLED=True,
        LIVE_POLL_SECONDS=0.5,
    )
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", app
    server.shutdown()
    thread.join()
    dispose(app)
