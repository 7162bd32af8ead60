"""The owner's pages: the queue, each action, bulk actions, the item page, dashboard, blocks."""

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from feedback.db import get_session, utcnow
from feedback.models import (
    Block,
    ModerationEvent,
    Status,
    Submission,
    Topic,
    TrustedAuthor,
    Visibility,
)
from tests.conftest import OWNER_EMAIL, AuthActions, add_owner, form_data, get_item

PUBLIC, PRIVATE = Visibility.PUBLIC, Visibility.PRIVATE


@pytest.fixture
def owner_client(client, auth):
    auth.login()
    return client


def _events(app, item_id: int) -> list[tuple[str, str | None, str | None, str]]:
    with app.app_context():
        rows = get_session().scalars(
            sa.select(ModerationEvent)
            .where(ModerationEvent.submission_id == item_id)
            .order_by(ModerationEvent.id)
        )
        return [(e.action, e.from_value, e.to_value, e.actor) for e in rows]


def _act(client, item_id: int, action: str, **data):
    return client.post(f"/admin/items/{item_id}/{action}", data=data)


def test_queue_shows_pending_oldest_first_with_everything_to_decide(owner_client, make_submission):
    now = utcnow()
    make_submission(status=Status.APPROVED, body="Already approved idea text.")
    newer = make_submission(
        status=Status.PENDING, title="Newer one", created_at=now - timedelta(hours=1)
    )
    older = make_submission(
        status=Status.PENDING,
        visibility=PRIVATE,
        consent_to_publish=True,
        author_name="Private Person",
        email="private.person@example.org",
        website="https://private.example.org",
        title="Older one",
        body="The private note's full text.",
        created_at=now - timedelta(days=2),
    )
    page = owner_client.get("/admin/").get_data(as_text=True)
    assert "Already approved idea text." not in page
    assert page.index(f"#{older} Older one") < page.index(f"#{newer} Newer one")
    for text in (
        "PRIVATE",
        "PUBLIC",
        "Private Person",
        "private.person@example.org",
        "https://private.example.org",
        "#blog",
        "The private note&#39;s full text.",
        "Yes, the author consented",
        "UTC</time>",
    ):
        assert text in page, text
    assert re.search(r"Pending <span class=\"count\">2</span>", page)
    assert re.search(r"Approved <span class=\"count\">1</span>", page)


def test_queue_filters(app, owner_client, make_submission):
    with app.app_context():
        social = get_session().scalar(sa.select(Topic.id).where(Topic.slug == "social"))
    now = utcnow()
    make_submission(status=Status.PENDING, body="Alpha about badges.", created_at=now)
    make_submission(
        status=Status.PENDING, visibility=PRIVATE, body="Beta private.", created_at=now
    )
    make_submission(status=Status.PENDING, topic_id=social, body="Gamma social.", created_at=now)
    make_submission(
        status=Status.PENDING,
        email="findme@example.org",
        body="Delta old.",
        created_at=now - timedelta(days=40),
    )
    make_submission(status=Status.SPAM, body="Epsilon spam.", starred=True, created_at=now)

    def shown(query: str) -> set[str]:
        page = owner_client.get("/admin/?" + query).get_data(as_text=True)
        names = ("Alpha", "Beta", "Gamma", "Delta", "Epsilon")
        return {n for n in names if f"{n} " in page}

    assert shown("") == {"Alpha", "Beta", "Gamma", "Delta"}
    assert shown("visibility=private") == {"Beta"}
    assert shown(f"topic={social}") == {"Gamma"}
    assert shown("q=findme") == {"Delta"}
    assert shown("q=BADGES") == {"Alpha"}
    assert shown("q=100%25") == set()
    assert shown("status=spam") == {"Epsilon"}
    assert shown("status=all&starred=1") == {"Epsilon"}
    since = (now - timedelta(days=1)).date().isoformat()
    assert shown(f"since={since}") == {"Alpha", "Beta", "Gamma"}
    until = (now - timedelta(days=30)).date().isoformat()
    assert shown(f"until={until}") == {"Delta"}
    # Tab counts follow the other filters.
    page = owner_client.get("/admin/?visibility=private").get_data(as_text=True)
    assert re.search(r"Pending <span class=\"count\">1</span>", page)


@pytest.mark.parametrize(
    "query",
    [
        "status=nonsense",
        "visibility=secret",
        "topic=abc",
        "since=yesterday",
        "until=2026-13-45",
        "order=random",
        "page=0",
        "q=" + "x" * 201,
    ],
)
def test_bad_queue_filters_are_a_400_with_a_message(owner_client, query):
    response = owner_client.get("/admin/?" + query)
    assert response.status_code == 400
    assert "must" in response.get_data(as_text=True)


def test_queue_pages(owner_client, make_submission):
    for n in range(55):
        make_submission(status=Status.PENDING, title=f"Queued {n:02d}")
    first = owner_client.get("/admin/").get_data(as_text=True)
    assert first.count('class="queue-item') == 50
    assert 'href="/admin/?status=pending&amp;order=oldest&amp;page=2"' in first
    second = owner_client.get("/admin/?page=2").get_data(as_text=True)
    assert second.count('class="queue-item') == 5


@pytest.mark.parametrize(
    ("action", "status"),
    [
        ("approve", Status.APPROVED),
        ("reject", Status.REJECTED),
        ("spam", Status.SPAM),
    ],
)
def test_status_actions_change_status_and_are_recorded(
    app, owner_client, make_submission, action, status
):
    item_id = make_submission(status=Status.PENDING)
    response = _act(owner_client, item_id, action, back="/admin/?status=pending")
    assert response.status_code == 303
    assert response.headers["Location"] == "/admin/?status=pending"
    assert get_item(app, item_id).status is status
    assert _events(app, item_id) == [("status", "pending", status.value, OWNER_EMAIL)]


def test_approve_puts_a_public_idea_on_the_front_page(owner_client, make_submission):
    item_id = make_submission(status=Status.PENDING, body="Approve me, please.")
    assert "Approve me, please." not in owner_client.get("/").get_data(as_text=True)
    _act(owner_client, item_id, "approve")
    assert "Approve me, please." in owner_client.get("/").get_data(as_text=True)


def test_restore_puts_an_item_back_to_pending(app, owner_client, make_submission):
    item_id = make_submission(status=Status.SPAM)
    _act(owner_client, item_id, "restore")
    assert get_item(app, item_id).status is Status.PENDING


def test_star_and_unstar(app, owner_client, make_submission):
    item_id = make_submission()
    _act(owner_client, item_id, "star")
    assert get_item(app, item_id).starred is True
    _act(owner_client, item_id, "unstar")
    assert get_item(app, item_id).starred is False
    assert [e[:3] for e in _events(app, item_id)] == [
        ("star", "False", "True"),
        ("star", "True", "False"),
    ]


def test_hiding_a_public_idea_takes_it_off_every_public_page(app, owner_client, make_submission):
    item_id = make_submission(body="Soon to be hidden.")
    assert "Soon to be hidden." in owner_client.get("/").get_data(as_text=True)
    assert _act(owner_client, item_id, "hide").status_code == 303
    assert get_item(app, item_id).visibility is PRIVATE
    assert "Soon to be hidden." not in owner_client.get("/").get_data(as_text=True)
    assert owner_client.get(f"/ideas/{item_id}").status_code == 404
    assert _events(app, item_id) == [("visibility", "public", "private", OWNER_EMAIL)]


def test_publishing_without_consent_is_refused_with_409(app, owner_client, make_submission):
    item_id = make_submission(
        visibility=PRIVATE, consent_to_publish=False, body="Keep me private."
    )
    page = owner_client.get(f"/admin/items/{item_id}").get_data(as_text=True)
    assert '<button type="button" class="action-publish" disabled' in page
    assert "The author did not consent to publishing." in page

    forged = _act(owner_client, item_id, "publish")
    assert forged.status_code == 409
    assert "did not allow this private note to be published" in forged.get_data(as_text=True)
    assert get_item(app, item_id).visibility is PRIVATE
    assert _events(app, item_id) == []
    assert "Keep me private." not in owner_client.get("/").get_data(as_text=True)


def test_publishing_with_consent_shows_it_on_the_front_page(app, owner_client, make_submission):
    item_id = make_submission(visibility=PRIVATE, consent_to_publish=True, body="Publish me.")
    assert _act(owner_client, item_id, "publish").status_code == 303
    assert get_item(app, item_id).visibility is PUBLIC
    assert "Publish me." in owner_client.get("/").get_data(as_text=True)
    assert _events(app, item_id) == [("visibility", "private", "public", OWNER_EMAIL)]


def test_unknown_action_and_item_are_404(owner_client, make_submission):
    item_id = make_submission()
    assert _act(owner_client, item_id, "explode").status_code == 404
    assert _act(owner_client, 999999, "approve").status_code == 404
    assert owner_client.get("/admin/items/999999").status_code == 404


def test_withdrawn_items_cannot_be_moderated(app, owner_client, make_submission):
    item_id = make_submission(status=Status.WITHDRAWN)
    assert _act(owner_client, item_id, "approve").status_code == 409
    assert get_item(app, item_id).status is Status.WITHDRAWN


def test_back_only_returns_to_owner_pages(owner_client, make_submission):
    item_id = make_submission(status=Status.PENDING)
    for back in ("https://evil.example/", "//evil.example", "/\\evil.example", "/"):
        response = _act(owner_client, item_id, "star", back=back)
        assert response.headers["Location"] == "/admin/"


def test_bulk_actions(app, owner_client, make_submission):
    ids = [make_submission(status=Status.PENDING, body=f"Bulk idea {n}.") for n in range(3)]
    other = make_submission(status=Status.PENDING)
    response = owner_client.post(
        "/admin/items/bulk", data={"ids": [str(i) for i in ids], "action": "approve"}
    )
    assert response.status_code == 303
    assert [get_item(app, i).status for i in ids] == [Status.APPROVED] * 3
    assert get_item(app, other).status is Status.PENDING
    assert "Approve: done for 3 ideas." in owner_client.get("/admin/").get_data(as_text=True)


def test_bulk_publish_reports_the_items_without_consent(app, owner_client, make_submission):
    yes = make_submission(visibility=PRIVATE, consent_to_publish=True)
    no = make_submission(visibility=PRIVATE, consent_to_publish=False)
    owner_client.post("/admin/items/bulk", data={"ids": [str(yes), str(no)], "action": "publish"})
    assert get_item(app, yes).visibility is PUBLIC
    assert get_item(app, no).visibility is PRIVATE
    page = owner_client.get("/admin/").get_data(as_text=True)
    assert "Make public: done for 1 idea." in page
    assert f"Idea #{no} was left unchanged" in page


def test_edit_keeps_the_original_in_the_history(app, owner_client, make_submission):
    item_id = make_submission(title="Tpyo title", body="Teh original text with a typo.")
    response = owner_client.post(
        f"/admin/items/{item_id}/edit", data={"title": "Typo title", "body": "The fixed text."}
    )
    assert response.status_code == 303
    item = get_item(app, item_id)
    assert (item.title, item.body) == ("Typo title", "The fixed text.")
    assert ("edit_body", "Teh original text with a typo.", "The fixed text.", OWNER_EMAIL) in (
        _events(app, item_id)
    )
    history = owner_client.get(f"/admin/items/{item_id}").get_data(as_text=True)
    assert "Teh original text with a typo." in history
    assert "The fixed text." in owner_client.get("/").get_data(as_text=True)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"title": "", "body": ""}, "The text cannot be empty."),
        ({"title": "t" * 121, "body": "Fine text."}, "At most 120 characters."),
        ({"title": "a\r\nb", "body": "Fine text."}, "single line"),
        ({"title": "", "body": "x\x00y"}, "NUL byte"),
    ],
)
def test_bad_edits_are_a_400_with_a_message(app, owner_client, make_submission, data, message):
    item_id = make_submission(body="Unchanged text.")
    response = owner_client.post(f"/admin/items/{item_id}/edit", data=data)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert get_item(app, item_id).body == "Unchanged text."


def test_internal_note_is_never_public(app, owner_client, make_submission):
    item_id = make_submission(body="A public idea.")
    owner_client.post(f"/admin/items/{item_id}/note", data={"note": "Secret owner note XJ9."})
    assert get_item(app, item_id).owner_note == "Secret owner note XJ9."
    assert "Secret owner note XJ9." in owner_client.get("/admin/?status=approved").get_data(
        as_text=True
    )
    for url in ("/", f"/ideas/{item_id}"):
        assert "XJ9" not in owner_client.get(url).get_data(as_text=True)
    response = owner_client.post(f"/admin/items/{item_id}/note", data={"note": "n" * 2001})
    assert response.status_code == 400


def test_set_topic(app, owner_client, make_submission):
    item_id = make_submission()
    with app.app_context():
        social = get_session().scalar(sa.select(Topic.id).where(Topic.slug == "social"))
    owner_client.post(f"/admin/items/{item_id}/topic", data={"topic": str(social)})
    assert get_item(app, item_id).topic_id == social
    assert _events(app, item_id) == [("topic", "blog", "social", OWNER_EMAIL)]
    assert (
        owner_client.post(f"/admin/items/{item_id}/topic", data={"topic": "999"}).status_code
        == 400
    )


def test_delete_asks_first_then_forgets_the_text(app, owner_client, make_submission):
    item_id = make_submission(body="Please forget me entirely.", email="forget@example.org")
    owner_client.post(
        f"/admin/items/{item_id}/edit", data={"title": "", "body": "Edited, still mine."}
    )
    owner_client.post(f"/admin/items/{item_id}/note", data={"note": "About forget@example.org"})
    _act(owner_client, item_id, "trust")
    confirm = owner_client.get(f"/admin/items/{item_id}/delete?back=/admin/?status=spam")
    assert confirm.status_code == 200
    assert "cannot be undone" in confirm.get_data(as_text=True)
    assert get_item(app, item_id) is not None

    response = owner_client.post(
        f"/admin/items/{item_id}/delete", data={"back": "/admin/?status=spam"}
    )
    assert response.status_code == 303
    assert response.headers["Location"] == "/admin/?status=spam"
    assert get_item(app, item_id) is None
    events = _events(app, item_id)
    # The trail keeps every step, and the ID, but nothing the author wrote or their address.
    assert [e[0] for e in events] == ["edit_body", "note", "trust", "delete"]
    assert events[-1][1] == "public, approved"
    everything = " ".join(str(value) for event in events for value in event)
    assert "forget" not in everything.lower()
    assert "Edited, still mine." not in everything


def test_trusted_authors_skip_the_queue(app, owner_client, make_submission):
    item_id = make_submission(status=Status.PENDING, email="Trusty@Example.org")
    _act(owner_client, item_id, "trust")
    assert get_item(app, item_id).status is Status.APPROVED
    with app.app_context():
        assert get_session().scalar(sa.select(TrustedAuthor.email)) == "trusty@example.org"

    reader = app.test_client()
    trusted = {"email": "trusty@example.org", "name": "grace example"}

    def send(**fields) -> Submission:
        """Post an idea as a reader; it must be accepted, so return what was stored."""
        response = reader.post("/ideas", data=form_data(app, **fields))
        assert response.status_code == 303
        assert response.headers["Location"].startswith("/thanks")
        with app.app_context():
            return (
                get_session().scalars(sa.select(Submission).order_by(Submission.id.desc())).first()
            )

    assert send(body="Straight in.", **trusted).status is Status.APPROVED
    assert "Straight in." in reader.get("/").get_data(as_text=True)
    # Someone who knows only the address does not pass for the trusted author: their idea is
    # stored and waits for the owner.
    impostor = send(email="trusty@example.org", body="An impostor's idea.")
    assert (impostor.body, impostor.status) == ("An impostor's idea.", Status.PENDING)
    assert "impostor" not in reader.get("/").get_data(as_text=True)
    # Private notes from a trusted author still wait for the owner.
    note = send(visibility="private", **trusted)
    assert (note.visibility, note.status) == (PRIVATE, Status.PENDING)

    page = owner_client.get("/admin/blocks").get_data(as_text=True)
    trusted_id = re.search(r'action="/admin/trusted/(\d+)/remove"', page).group(1)
    owner_client.post(f"/admin/trusted/{trusted_id}/remove")
    waiting = send(body="Now I wait.", **trusted)
    assert (waiting.body, waiting.status) == ("Now I wait.", Status.PENDING)
    assert "Now I wait." not in reader.get("/").get_data(as_text=True)


def test_trust_switch_off_sends_everyone_through_the_queue(make_app):
    app = make_app(TRUST_APPROVED_AUTHORS=False)
    add_owner(app)
    with app.app_context():
        session = get_session()
        trusted = TrustedAuthor(
            email="ada@example.org", author_name="Ada Reader", created_by=OWNER_EMAIL
        )
        session.add(trusted)
        session.commit()
    reader = app.test_client()
    reader.post("/ideas", data=form_data(app, body="Waiting like everyone."))
    assert "Waiting like everyone." not in reader.get("/").get_data(as_text=True)


def test_block_email_refuses_later_ideas_until_unblocked(app, owner_client):
    reader = app.test_client()
    reader.post("/ideas", data=form_data(app, email="Spammer@Example.org"))
    with app.app_context():
        item_id = get_session().scalar(sa.select(Submission.id))
    _act(owner_client, item_id, "block_email")
    assert get_item(app, item_id).status is Status.REJECTED

    response = reader.post("/ideas", data=form_data(app, email="spammer@example.org"))
    assert response.status_code == 403
    assert "does not accept ideas from this email address" in response.get_data(as_text=True)

    page = owner_client.get("/admin/blocks").get_data(as_text=True)
    assert "spammer@example.org" in page
    block_id = re.search(r'action="/admin/blocks/(\d+)/remove"', page).group(1)
    owner_client.post(f"/admin/blocks/{block_id}/remove")
    assert (
        reader.post("/ideas", data=form_data(app, email="spammer@example.org")).status_code == 303
    )
    with app.app_context():
        assert get_session().scalar(sa.select(sa.func.count()).select_from(Block)) == 0


def test_block_address_refuses_that_network_only(app, owner_client):
    bad = app.test_client()
    bad.post("/ideas", data=form_data(app), environ_base={"REMOTE_ADDR": "198.51.100.9"})
    with app.app_context():
        item_id = get_session().scalar(sa.select(Submission.id))
    _act(owner_client, item_id, "block_address")
    refused = bad.post(
        "/ideas",
        data=form_data(app, email="new@example.org"),
        environ_base={"REMOTE_ADDR": "198.51.100.9"},
    )
    assert refused.status_code == 403
    assert "does not accept ideas from your network" in refused.get_data(as_text=True)
    fine = app.test_client().post(
        "/ideas", data=form_data(app), environ_base={"REMOTE_ADDR": "203.0.113.5"}
    )
    assert fine.status_code == 303


def test_item_page_shows_the_history(app, owner_client, make_submission):
    item_id = make_submission(status=Status.PENDING)
    _act(owner_client, item_id, "approve")
    _act(owner_client, item_id, "hide")
    page = owner_client.get(f"/admin/items/{item_id}").get_data(as_text=True)
    history = page[page.index("<h2>History</h2>") :]
    rows = re.findall(r"<td>(Received|Status|Visibility)</td>", history)
    assert rows == ["Received", "Status", "Visibility"]
    assert re.search(r'<td class="value">pending</td>\s*<td class="value">approved</td>', history)
    assert OWNER_EMAIL in history


def test_dashboard_counts_and_chart(owner_client, make_submission):
    now = utcnow()
    make_submission(status=Status.PENDING, created_at=now)
    make_submission(status=Status.APPROVED, created_at=now - timedelta(days=2))
    make_submission(visibility=PRIVATE, status=Status.PENDING, created_at=now - timedelta(days=2))
    make_submission(status=Status.SPAM, created_at=now - timedelta(days=45))
    page = owner_client.get("/admin/dashboard").get_data(as_text=True)
    assert page.count('<rect x="') == 30
    assert "3 ideas in 30 days; busiest day: 2." in page
    assert re.search(r'<rect x="[\d.]+" y="[\d.]+" width="[\d.]+" height="116.0"', page)
    counts = re.findall(r"<th><a [^>]*>(\w+)</a></th>\s*<td>(\d+)</td><td>(\d+)</td>", page)
    assert ("Pending", "1", "1") in counts
    assert ("Spam", "1", "0") in counts
    assert "<script" not in page


def test_every_owner_post_needs_a_csrf_token(make_app, make_submission):
    app = make_app(WTF_CSRF_ENABLED=True)
    add_owner(app)
    client = app.test_client()
    page = client.get("/admin/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    assert AuthActions(client).login(csrf_token=token).status_code == 303
    item_id = make_submission(status=Status.PENDING)
    posts = [
        r
        for r in app.url_map.iter_rules()
        if "POST" in r.methods and r.endpoint.startswith(("owner.", "auth."))
    ]
    assert len(posts) >= 8
    for rule in posts:
        url = rule.build({a: item_id for a in rule.arguments} | {"action": "approve"})[1]
        response = client.post(url, data={"ids": [str(item_id)], "action": "approve"})
        assert response.status_code == 400, url
    assert get_item(app, item_id).status is Status.PENDING
    assert client.get("/admin/").status_code == 200


def test_a_hidden_public_comment_can_be_shown_again(app, owner_client, make_submission):
    item_id = make_submission(consent_to_publish=True, body="Hidden by a slip.")
    _act(owner_client, item_id, "hide")
    assert _act(owner_client, item_id, "publish").status_code == 303
    assert "Hidden by a slip." in owner_client.get("/").get_data(as_text=True)


@pytest.mark.parametrize("action", ["star", "hide", "approve", "trust", "block_email"])
def test_no_action_changes_a_withdrawn_idea(app, owner_client, make_submission, action):
    item_id = make_submission(status=Status.WITHDRAWN)
    response = _act(owner_client, item_id, action)
    assert response.status_code == 409
    assert "withdrew" in response.get_data(as_text=True)
    assert _events(app, item_id) == []
    edit = owner_client.post(f"/admin/items/{item_id}/edit", data={"body": "Changed text."})
    assert edit.status_code == 409


@pytest.mark.parametrize(
    "query",
    [
        "endpoint=x",
        "_method=DELETE",
        "_anchor=evil",
        "_external=1",
        "_scheme=javascript",
        # A repeated argument is not an error: the first value counts.
        "status=pending&status=spam",
    ],
)
def test_hostile_queue_arguments_leave_the_queue_and_its_links_alone(owner_client, query):
    response = owner_client.get("/admin/?" + query)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "<h1>Moderation queue</h1>" in page
    assert "evil" not in page
    assert "javascript:" not in page
    main = page.split("<main")[1].split("</main>")[0]
    # url_for's own arguments (_external, _scheme, _anchor) must not reach the links.
    assert 'href="/admin/' in main
    assert 'href="http' not in main


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("until=9999-12-31", "until: Dates must be between the years 1900 and 9000."),
        ("since=0001-01-01", "since: Dates must be between the years 1900 and 9000."),
        (
            "since=2026-05-02&until=2026-05-01",
            "until: The end date must not be before the start date.",
        ),
        ("q=%00", "The search text must be at most 200 characters, without NUL bytes."),
    ],
)
def test_impossible_queue_filters_are_a_400_that_says_why(owner_client, query, message):
    response = owner_client.get("/admin/?" + query)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)


def test_owner_pages_are_never_cached(owner_client, make_submission):
    item_id = make_submission()
    for url in ("/admin/", f"/admin/items/{item_id}", "/admin/dashboard", "/admin/blocks"):
        assert owner_client.get(url).headers["Cache-Control"] == "no-store", url


def test_bulk_move_note_and_delete(app, owner_client, make_submission):
    ids = [str(make_submission(status=Status.PENDING, body=f"Bulk {n} text.")) for n in range(2)]
    with app.app_context():
        social = get_session().scalar(sa.select(Topic.id).where(Topic.slug == "social"))
    owner_client.post(
        "/admin/items/bulk", data={"ids": ids, "action": "set_topic", "topic": str(social)}
    )
    assert {get_item(app, int(i)).topic_id for i in ids} == {social}
    owner_client.post("/admin/items/bulk", data={"ids": ids, "action": "add_note", "note": "One"})
    owner_client.post("/admin/items/bulk", data={"ids": ids, "action": "add_note", "note": "Two"})
    assert get_item(app, int(ids[0])).owner_note == "One\nTwo"

    asked = owner_client.post("/admin/items/bulk", data={"ids": ids, "action": "delete"})
    assert asked.status_code == 303
    confirm = owner_client.get(asked.headers["Location"])
    assert "Delete 2 ideas for good?" in confirm.get_data(as_text=True)
    assert all(get_item(app, int(i)) is not None for i in ids)
    done = owner_client.post("/admin/items/bulk-delete", data={"ids": ids})
    assert done.status_code == 303
    assert all(get_item(app, int(i)) is None for i in ids)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"ids": ["99999999999999999999"], "action": "approve"}, "Tick at least one idea"),
        ({"ids": ["3000000000"], "action": "approve"}, "Tick at least one idea"),
        ({"ids": ["1"], "action": ""}, "Choose one of the listed actions."),
        ({"ids": ["1"], "action": "set_topic", "topic": ""}, "Choose the topic"),
        ({"ids": ["1"], "action": "add_note", "note": ""}, "Write the note to add."),
        ({"ids": ["1"], "action": "approve", "back": "/admin/\r\nX: y"}, "done for"),
    ],
)
def test_bad_bulk_requests_say_what_is_wrong(owner_client, make_submission, data, message):
    make_submission(status=Status.PENDING)
    response = owner_client.post("/admin/items/bulk", data=data)
    assert response.status_code == 303
    assert "\n" not in response.headers["Location"]
    assert message in owner_client.get(response.headers["Location"]).get_data(as_text=True)
