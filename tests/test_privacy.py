"""Rule 1 and 3: private or unapproved items and email addresses never reach a public URL."""

import itertools

import sqlalchemy as sa

from feedback import visibility
from feedback.db import get_session
from feedback.models import Credit, Status, Submission, Visibility

HIDDEN = [
    (v, s)
    for v, s in itertools.product(Visibility, Status)
    if not (v is Visibility.PUBLIC and s is Status.APPROVED)
]


def test_the_gate_selects_only_public_approved_items(app, make_submission):
    for item_visibility, status in itertools.product(Visibility, Status):
        make_submission(visibility=item_visibility, status=status, body=f"{item_visibility}")
    with app.app_context():
        rows = get_session().scalars(visibility.public_submissions()).all()
        assert [(r.visibility, r.status) for r in rows] == [(Visibility.PUBLIC, Status.APPROVED)]
        assert all(visibility.is_public(r) for r in rows)
        others = get_session().scalars(
            sa.select(Submission).where(Submission.id.not_in([r.id for r in rows]))
        )
        assert not any(visibility.is_public(r) for r in others)


def test_public_list_uses_the_index(app):
    """The public query is served by the index on what it filters and sorts by."""
    from datetime import timedelta

    from feedback.db import utcnow
    from feedback.models import Topic

    with app.app_context():
        session = get_session()
        topic_id = session.scalar(sa.select(Topic.id))
        now = utcnow()
        # Enough rows of every kind for the planner's statistics to mean something.
        rows = [
            {
                "visibility": Visibility.PUBLIC if n % 3 else Visibility.PRIVATE,
                "status": list(Status)[n % 5],
                "author_name": "R",
                "email": "r@example.org",
                "topic_id": topic_id,
                "body": "An idea long enough.",
                "manage_token_hash": f"{n:064d}",
                "content_hash": f"{n:064d}",
                "created_at": now - timedelta(minutes=n),
                "updated_at": now,
            }
            for n in range(3000)
        ]
        session.execute(sa.insert(Submission), rows)
        session.commit()
        session.execute(sa.text("ANALYZE"))
        query = visibility.public_submissions().limit(21)
        compiled = query.compile(session.bind, compile_kwargs={"literal_binds": True})
        if session.bind.dialect.name == "sqlite":
            plan = [str(row) for row in session.execute(sa.text(f"EXPLAIN QUERY PLAN {compiled}"))]
        else:
            plan = session.execute(sa.text(f"EXPLAIN {compiled}")).scalars().all()
        # An index gives the rows in order (PostgreSQL may pick the created_at index and
        # filter, which is as cheap for the first page); the table is never read whole.
        assert any(
            name in line
            for line in plan
            for name in ("ix_submissions_public_list", "ix_submissions_created")
        ), plan
        assert not any("SEQ SCAN ON SUBMISSIONS" in line.upper() for line in plan), plan
        assert not any(line.upper().startswith("SCAN SUBMISSIONS") for line in plan), plan
        # No sorting step: the index already gives newest first.
        assert not any(w in line.upper() for line in plan for w in ("SORT", "TEMP B-TREE")), plan


def test_no_public_url_leaks_a_marker(app, client, make_submission):
    """Every public URL the app has, fetched with hidden ideas and an anonymous author."""
    from feedback.models import Topic

    with app.app_context():
        topics = get_session().scalars(sa.select(Topic.slug)).all()
    hidden = [
        make_submission(
            visibility=v,
            status=s,
            title=f"LEAKMARK title {v} {s}",
            body=f"LEAKMARK body {v} {s}",
            author_name="LEAKMARK Person",
            email="leakmark@example.org",
            website="https://leakmark.example.org",
            owner_note="LEAKMARK note",
        )
        for v, s in HIDDEN
    ]
    shown = make_submission(
        body="A public idea on every page.",
        email="public-author-leakmark@example.org",
        owner_note="LEAKMARK note of a public idea",
    )
    # Public, but its author chose anonymity: shown everywhere, credited only as "A reader".
    anonymous = make_submission(
        body="An anonymous public idea on every page.",
        credit=Credit.ANONYMOUS,
        author_name="LEAKMARK Person",
        organisation="LEAKMARK Organisation",
        website="https://leakmark.example.org",
        email="leakmark@example.org",
    )
    # Each URL with the status a visitor gets: a hidden idea's page is not found, as is a page
    # past the last one (two public ideas fit on the first).
    urls = {
        "/": 200,
        "/?sort=top": 200,
        "/?sort=new": 200,
        "/?page=1": 200,
        "/?page=2": 404,
        "/?page=bad": 400,
        "/feed.atom": 200,
        "/api/ideas": 200,
        "/api/ideas?after=0": 200,
        # The hidden ideas' own words as the question: none of them may come back.
        "/api/similar?q=LEAKMARK+title+body+public+private+pending+approved": 200,
    }
    urls |= {f"/ideas/{item_id}": 404 for item_id in [*hidden, 999999]}
    urls |= {f"/ideas/{shown}": 200, f"/ideas/{anonymous}": 200}
    for slug in topics:
        urls |= {f"/topics/{slug}": 200, f"/topics/{slug}?sort=top": 200}
        urls |= {f"/topics/{slug}/feed.atom": 200, f"/api/ideas?topic={slug}": 200}
    urls |= {"/thanks": 200, "/s/resend": 200, "/s/resend/sent": 200, "/healthz": 200}
    urls |= {"/no-such-page": 404, "/ideas": 302, "/s/" + "A" * 43: 404}
    urls |= {"/static/style.css": 200, "/static/live.js": 200}

    # Every public GET endpoint is fetched (owner, digest and login pages are not public).
    private_prefixes = ("owner.", "digest.", "themes.", "auth.")
    endpoints = {
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if "GET" in rule.methods and not rule.endpoint.startswith(private_prefixes)
    }
    adapter = app.url_map.bind("localhost")
    fetched = {adapter.match(url.split("?")[0])[0] for url in urls if url != "/no-such-page"}
    assert fetched == endpoints

    for url, status in urls.items():
        with client.get(url) as response:
            assert response.status_code == status, url
            text = response.get_data(as_text=True).lower()
        # Every marker has a space or an @, which no random token on a page contains.
        for marker in (
            "leakmark title",
            "leakmark body",
            "leakmark person",
            "leakmark@",
            "leakmark.example",
            "leakmark note",
            "leakmark organisation",
        ):
            assert marker not in text, (url, marker)
    # The same pages do show what is public, so the absences above mean something.
    front = client.get("/").get_data(as_text=True)
    assert "A public idea on every page." in front
    assert "An anonymous public idea on every page." in front
    assert "A public idea on every page." in client.get(f"/ideas/{shown}").get_data(as_text=True)
    assert "A reader" in client.get(f"/ideas/{anonymous}").get_data(as_text=True)
