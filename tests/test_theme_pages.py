"""The owner's theme pages: the list with its chart, one theme, the owner's decisions there
and in the queue, hostile input, and theme labels kept off every public page."""

import re
import threading
import time
from datetime import timedelta

import pytest
import sqlalchemy as sa

from feedback.db import get_engine, get_session, utcnow
from feedback.models import (
    DuplicatePair,
    DuplicateState,
    Status,
    Theme,
    ThemeMember,
    ThemeRun,
    Topic,
    Visibility,
)
from feedback.themes import background, engine, store
from tests.conftest import AuthActions, add_owner

PRIVATE = Visibility.PRIVATE

LOUNGE = [
    (
        "Wi-Fi in the bloggers' lounge",
        "The bloggers' lounge needs reliable Wi-Fi and power strips.",
    ),
    (
        "Power strips in the lounge",
        "Please put more power strips and outlets in the bloggers' lounge, the Wi-Fi was weak.",
    ),
    (
        "Wifi in the bloggers lounge",
        "Bloggers' lounge: reliable Wi-Fi and more power strips, thanks.",
    ),
    (
        "Wi-Fi in the bloggers' lounge",
        "The bloggers' lounge needs reliable Wi-Fi and power strips!",
    ),
]
SLIDES = [
    ("Slides online", "Put every session's slides online the same day so we can blog about them."),
    ("Publish the slides", "Publish the slides online after each session, bloggers link to them."),
    ("Slides for bloggers", "Session slides online quickly would help bloggers write posts."),
]


@pytest.fixture
def owner_client(client, auth):
    auth.login()
    return client


@pytest.fixture
def ideas(make_submission):
    """Seven ideas in two themes of the first topic (the second lounge one private, with 3
    +1s on the first); returns their ids by group."""
    lounge = [
        make_submission(
            title=title,
            body=body,
            visibility=PRIVATE if n == 1 else Visibility.PUBLIC,
            vote_count=3 if n == 0 else 0,
        )
        for n, (title, body) in enumerate(LOUNGE)
    ]
    slides = [make_submission(title=title, body=body) for title, body in SLIDES]
    return {"lounge": lounge, "slides": slides}


def _rebuild(app) -> None:
    with app.app_context():
        session = get_session()
        store.rebuild(session)
        session.commit()


def _theme_id(app, idea_id: int) -> int:
    with app.app_context():
        return store.theme_of(get_session(), idea_id).id


def _members(app, theme_id: int) -> set[int]:
    with app.app_context():
        theme = get_session().get(Theme, theme_id)
        return {item.id for item, _m in store.detail(get_session(), theme).members}


def _label(app, theme_id: int) -> str:
    with app.app_context():
        return get_session().get(Theme, theme_id).label


def _text(response) -> str:
    return response.get_data(as_text=True)


def test_every_themes_route_sends_anonymous_visitors_to_the_login(app, client, ideas):
    _rebuild(app)
    theme_id = _theme_id(app, ideas["lounge"][0])
    rules = [r for r in app.url_map.iter_rules() if r.endpoint.startswith("themes.")]
    assert len(rules) == 9
    for rule in rules:
        values = {"theme_id": theme_id, "idea_id": ideas["lounge"][2]}
        values["duplicate_of"] = ideas["lounge"][0]
        url = rule.build({a: values[a] for a in rule.arguments})[1]
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.open(url, method=method, data={"label": "Taken over"})
            assert response.status_code == 302, (method, url)
            assert response.headers["Location"].startswith("/admin/login?next="), (method, url)
    assert _label(app, theme_id) != "Taken over"
    with app.app_context():
        assert store.last_run(get_session()).id == 1


def test_with_no_ideas_the_page_says_so(owner_client):
    page = _text(owner_client.get("/admin/themes/"))
    assert "No themes yet: there are no ideas to group" in page
    assert "Never computed in full" in page
    assert "<svg" not in page
    assert '<a href="/admin/themes/">Themes</a>' in page


def test_the_list_shows_every_theme_with_counts_and_a_chart(app, owner_client, ideas):
    _rebuild(app)
    response = owner_client.get("/admin/themes/")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    page = _text(response)
    lounge, slides = _theme_id(app, ideas["lounge"][0]), _theme_id(app, ideas["slides"][0])
    assert "Computed <time" in page
    assert "7 ideas in 2 themes, 2 possible duplicates" in page
    rows = re.findall(
        r'<td><a href="/admin/themes/(\d+)">([^<]+)</a></td>\s*<td>#blog</td>\s*'
        r"<td>([^<]*)</td>\s*<td>(\d+)</td>\s*<td>(\d+)</td>\s*<td>(\d+)</td>\s*<td>(\d+)</td>",
        page,
    )
    assert [(int(r[0]), r[3:]) for r in rows] == [
        (lounge, ("4", "3", "1", "3")),
        (slides, ("3", "3", "0", "0")),
    ]
    assert rows[0][1] == _label(app, lounge)
    assert "lounge" in rows[0][2] and "slides" in rows[1][2]
    representative = re.search(
        rf'/admin/themes/{lounge}">.*?/admin/items/(\d+)">#\d+ ([^<]+)<', page, re.S
    )
    assert int(representative.group(1)) in ideas["lounge"]
    # The chart: a bar per theme and channel, with words for those who cannot see it.
    assert page.count('class="bar"') == 4
    assert 'aria-labelledby="theme-chart-title theme-chart-desc"' in page
    desc = re.search(r'<desc id="theme-chart-desc">([^<]+)</desc>', page).group(1)
    assert "4 (3 public, 1 private)" in desc and "3 (3 public, 0 private)" in desc
    assert "<script" not in page


def test_ideas_that_arrive_later_join_a_theme_when_the_page_is_opened(
    app, owner_client, ideas, make_submission
):
    _rebuild(app)
    later = make_submission(title="Lounge Wi-Fi", body="Wi-Fi and power strips in the lounge.")
    assert "5 (4 public, 1 private)" in _text(owner_client.get("/admin/themes/"))
    with app.app_context():
        assert store.theme_of(get_session(), later).id == _theme_id(app, ideas["lounge"][0])


def test_recompute_now_runs_and_reports(app, owner_client, ideas):
    response = owner_client.post("/admin/themes/recompute")
    assert response.status_code == 303
    assert response.headers["Location"] == "/admin/themes/"
    page = _text(owner_client.get("/admin/themes/"))
    assert "Recomputed: 7 ideas in 2 themes, 2 possible duplicates (" in page
    with app.app_context():
        assert store.last_run(get_session()).finished_at is not None


def test_with_many_ideas_recompute_runs_in_the_background(
    app, owner_client, ideas, monkeypatch, caplog
):
    caplog.set_level("INFO", logger="feedback.themes.background")
    monkeypatch.setattr(background, "INLINE_IDEAS", 3)
    response = owner_client.post("/admin/themes/recompute")
    assert response.status_code == 303
    page = _text(owner_client.get("/admin/themes/"))
    assert "Recomputing the themes of 7 ideas in the background" in page
    deadline = time.monotonic() + 60
    while "Computed <time" not in page and time.monotonic() < deadline:
        time.sleep(0.2)
        page = _text(owner_client.get("/admin/themes/"))
    assert "7 ideas in 2 themes, 2 possible duplicates" in page
    assert "Recomputing now" not in page
    assert _theme_id(app, ideas["lounge"][0]) != _theme_id(app, ideas["slides"][0])
    deadline = time.monotonic() + 10
    while "Recomputed 7 ideas" not in caplog.text and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "Recomputed 7 ideas into 2 themes" in caplog.text
    assert "failed" not in caplog.text


def test_a_backlog_larger_than_is_placed_at_once_waits_for_a_recomputation(
    app, owner_client, ideas, monkeypatch
):
    monkeypatch.setattr(store, "PLACE_AT_ONCE", 2)
    page = _text(owner_client.get("/admin/themes/"))
    assert "5 ideas not in a theme yet" in page
    # The digest still holds every idea, the waiting ones under their topic.
    download = owner_client.get("/admin/digests/new/download.txt")
    digest = _text(download)
    download.close()
    for title, _body in LOUNGE + SLIDES:
        assert title in digest
    # Each view places as many as it may: two by the download, two more now.
    assert "1 idea not in a theme yet" in _text(owner_client.get("/admin/themes/"))
    owner_client.post("/admin/themes/recompute")
    page = _text(owner_client.get("/admin/themes/"))
    assert "not in a theme yet" not in page
    assert "Recomputed: 7 ideas in 2 themes" in page


def test_a_computation_under_way_elsewhere_is_shown_and_not_started_twice(
    app, owner_client, ideas
):
    with app.app_context():
        session = get_session()
        session.add(ThemeRun(started_at=utcnow() - timedelta(minutes=2)))
        session.commit()
    response = owner_client.post("/admin/themes/recompute", follow_redirects=True)
    page = _text(response)
    assert "is still running; this page shows its themes when it is done." in page
    assert "Recomputing now: started" in page
    with app.app_context():
        assert store.last_run(get_session()) is None


def test_a_computation_unfinished_for_half_an_hour_no_longer_blocks_one(app, owner_client, ideas):
    with app.app_context():
        session = get_session()
        session.add(ThemeRun(started_at=utcnow() - store.STALE_RUN - timedelta(seconds=1)))
        session.commit()
    page = _text(owner_client.post("/admin/themes/recompute", follow_redirects=True))
    assert "Recomputing now" not in page
    assert "Recomputed: 7 ideas in 2 themes" in page


def test_a_failed_computation_leaves_nothing_under_way(app, ideas, monkeypatch):
    def broken(*_args, **_kwargs):
        raise MemoryError("out of memory")

    monkeypatch.setattr(engine, "compute", broken)
    with app.app_context():
        session = get_session()
        with pytest.raises(MemoryError):
            store.rebuild(session)
        assert store.running(session) is None
        assert session.scalar(sa.select(sa.func.count(ThemeRun.id))) == 0


def test_a_theme_page_shows_members_why_and_near_duplicates(app, owner_client, ideas):
    _rebuild(app)
    lounge = _theme_id(app, ideas["lounge"][0])
    response = owner_client.get(f"/admin/themes/{lounge}")
    assert response.headers["Cache-Control"] == "no-store"
    page = _text(response)
    for n, idea_id in enumerate(ideas["lounge"]):
        title = LOUNGE[n][0].replace("'", "&#39;")
        assert f'<a href="/admin/items/{idea_id}">#{idea_id} {title}</a>' in page
    assert page.count("PRIVATE</span>") == 1 and page.count("PUBLIC</span>") == 3
    assert len(re.findall(r"similarity to the rest 0\.\d\d", page)) == 4
    assert "placed by you" not in page
    first = ideas["lounge"][0]
    for dup in (ideas["lounge"][2], ideas["lounge"][3]):
        assert (
            f'#{dup}</a> is possibly the same as <a href="/admin/items/{first}">#{first}</a>'
            in page
        )
        assert f'action="/admin/themes/duplicates/{dup}/{first}/confirm"' in page
        assert f'action="/admin/themes/duplicates/{dup}/{first}/dismiss"' in page
    assert re.search(r"why: shared words [a-z, ]*lounge[a-z, ]*; similarity [01]\.\d\d", page)
    # Merging and moving offer the topic's other theme.
    slides = _theme_id(app, ideas["slides"][0])
    assert len(re.findall(rf'<option value="{slides}">#{slides} Slides[^<]*\(3\)<', page)) == 2


def test_a_rename_shows_escaped_and_survives_a_rebuild(app, owner_client, ideas):
    _rebuild(app)
    lounge = _theme_id(app, ideas["lounge"][0])
    label = "  Lounge: <script>alert(1)</script> & power  "
    response = owner_client.post(f"/admin/themes/{lounge}/rename", data={"label": label})
    assert response.status_code == 303
    assert response.headers["Location"] == f"/admin/themes/{lounge}"
    page = _text(owner_client.get(f"/admin/themes/{lounge}"))
    shown = "Lounge: &lt;script&gt;alert(1)&lt;/script&gt; &amp; power"
    assert f"<h1>{shown}</h1>" in page
    assert "<script>alert" not in page
    assert "named by you" in page
    _rebuild(app)
    assert _label(app, _theme_id(app, ideas["lounge"][0])) == label.strip()
    assert shown in _text(owner_client.get("/admin/themes/"))


def test_a_merge_keeps_the_ideas_together_and_the_old_page_leads_on(app, owner_client, ideas):
    _rebuild(app)
    lounge, slides = _theme_id(app, ideas["lounge"][0]), _theme_id(app, ideas["slides"][0])
    response = owner_client.post(f"/admin/themes/{lounge}/merge", data={"theme": str(slides)})
    assert response.status_code == 303
    assert response.headers["Location"] == f"/admin/themes/{lounge}"
    page = _text(owner_client.get(f"/admin/themes/{lounge}"))
    assert f"Theme #{slides} joined" in page
    assert page.count("placed by you") == 7
    old = owner_client.get(f"/admin/themes/{slides}")
    assert old.status_code == 302 and old.headers["Location"] == f"/admin/themes/{lounge}"
    _rebuild(app)
    everyone = set(ideas["lounge"] + ideas["slides"])
    assert _members(app, lounge) == everyone
    assert (
        owner_client.get(f"/admin/themes/{slides}").headers["Location"]
        == f"/admin/themes/{lounge}"
    )
    assert "7 (6 public, 1 private)" in _text(owner_client.get("/admin/themes/"))


def test_a_moved_idea_stays_where_the_owner_put_it(app, owner_client, ideas):
    _rebuild(app)
    lounge, slides = _theme_id(app, ideas["lounge"][0]), _theme_id(app, ideas["slides"][0])
    moved = ideas["slides"][1]
    response = owner_client.post(
        f"/admin/themes/{slides}/move", data={"idea": str(moved), "theme": str(lounge)}
    )
    assert response.status_code == 303
    assert response.headers["Location"] == f"/admin/themes/{slides}"
    page = _text(owner_client.get(f"/admin/themes/{lounge}"))
    assert f"Idea #{moved} is now in" in page
    assert f"#{moved} Publish the slides</a>" in page and "placed by you" in page
    _rebuild(app)
    assert _theme_id(app, moved) == lounge
    assert f"#{moved} Publish the slides</a>" in _text(owner_client.get(f"/admin/themes/{lounge}"))


def test_a_move_leaves_both_themes_other_ideas_where_they_were(app, owner_client, ideas):
    _rebuild(app)
    lounge, slides = _theme_id(app, ideas["lounge"][0]), _theme_id(app, ideas["slides"][0])
    moved = ideas["slides"][1]
    owner_client.post(
        f"/admin/themes/{slides}/move", data={"idea": str(moved), "theme": str(lounge)}
    )
    _rebuild(app)
    assert _members(app, lounge) == set(ideas["lounge"]) | {moved}
    assert {_theme_id(app, i) for i in ideas["slides"] if i != moved} == {slides}


def test_a_split_idea_stays_on_its_own(app, owner_client, ideas):
    _rebuild(app)
    lounge = _theme_id(app, ideas["lounge"][0])
    alone = ideas["lounge"][1]  # in no near-duplicate pair
    response = owner_client.post(
        f"/admin/themes/ideas/{alone}/split", data={"back": f"/admin/themes/{lounge}"}
    )
    assert response.status_code == 303
    assert response.headers["Location"] == f"/admin/themes/{lounge}"
    own = _theme_id(app, alone)
    assert own != lounge
    page = _text(owner_client.get(f"/admin/themes/{own}"))
    assert "alone in this theme" in page and "split out by you" in page
    _rebuild(app)
    assert _members(app, _theme_id(app, alone)) == {alone}
    assert _theme_id(app, alone) == own
    assert _members(app, lounge) == set(ideas["lounge"]) - {alone}


def test_an_idea_with_near_duplicates_split_out_stays_alone_too(app, owner_client, ideas):
    _rebuild(app)
    original = ideas["lounge"][0]  # the third and fourth are suggested as its repeats
    owner_client.post(f"/admin/themes/ideas/{original}/split")
    _rebuild(app)
    assert _members(app, _theme_id(app, original)) == {original}


def test_duplicates_are_decided_from_the_queue_and_stay_decided(
    app, owner_client, make_submission
):
    first = make_submission(status=Status.PENDING, title=LOUNGE[0][0], body=LOUNGE[0][1])
    copy = make_submission(status=Status.PENDING, title=LOUNGE[3][0], body=LOUNGE[3][1])
    near = make_submission(status=Status.PENDING, title=LOUNGE[2][0], body=LOUNGE[2][1])
    _rebuild(app)
    queue = _text(owner_client.get("/admin/?status=pending"))
    assert f'Possibly the same as <a href="/admin/items/{first}">#{first}</a>' in queue
    assert f'<a href="/admin/items/{copy}">#{copy}</a> is possibly the same as this idea' in queue
    assert "why: shared words" in queue
    back = "/admin/?status=pending&order=oldest&page=1"
    assert f'name="back" value="{back.replace("&", "&amp;")}"' in queue
    response = owner_client.post(
        f"/admin/themes/duplicates/{copy}/{first}/confirm", data={"back": back}
    )
    assert response.status_code == 303 and response.headers["Location"] == back
    response = owner_client.post(
        f"/admin/themes/duplicates/{near}/{first}/dismiss", data={"back": back}
    )
    assert response.status_code == 303 and response.headers["Location"] == back
    queue = _text(owner_client.get(back))
    assert f"Idea #{copy} is marked as the same as #{first}." in queue
    assert f"Ideas #{near} and #{first} are marked as not the same." in queue
    assert f'The same as <a href="/admin/items/{first}">#{first}</a>' in queue
    assert "confirmed by you" in queue
    assert f"/admin/themes/duplicates/{near}/{first}/" not in queue
    _rebuild(app)
    with app.app_context():
        states = dict(
            get_session()
            .execute(sa.select(DuplicatePair.submission_id, DuplicatePair.state))
            .all()
        )
    assert states == {copy: DuplicateState.CONFIRMED, near: DuplicateState.DISMISSED}
    item = _text(owner_client.get(f"/admin/items/{copy}"))
    lounge = _theme_id(app, first)
    assert f'In <a href="/admin/themes/{lounge}">' in item
    assert f'The same as <a href="/admin/items/{first}">#{first}</a>' in item
    assert f'name="back" value="/admin/items/{copy}"' in item


def test_the_queue_reads_every_pair_on_the_page_in_one_query(app, owner_client, make_submission):
    def statements(path: str) -> int:
        seen = []
        with app.app_context():
            engine = get_engine()

        def count(conn, cursor, statement, *args):
            seen.append(statement)

        sa.event.listen(engine, "before_cursor_execute", count)
        try:
            assert owner_client.get(path).status_code == 200
        finally:
            sa.event.remove(engine, "before_cursor_execute", count)
        return len([s for s in seen if "duplicate_pairs" in s]), len(seen)

    for title, body in LOUNGE[:2]:
        make_submission(status=Status.PENDING, title=title, body=body)
    _rebuild(app)
    few = statements("/admin/")
    for title, body in LOUNGE[2:] * 3:
        make_submission(status=Status.PENDING, title=title, body=body)
    _rebuild(app)
    many = statements("/admin/")
    assert few == many and many[0] == 1


def test_the_item_page_says_when_an_idea_is_in_no_theme(app, owner_client, make_submission):
    waiting = make_submission()
    assert "Not in a theme yet" in _text(owner_client.get(f"/admin/items/{waiting}"))
    _rebuild(app)
    assert 'In <a href="/admin/themes/' in _text(owner_client.get(f"/admin/items/{waiting}"))
    # Marked spam after the computation: out of its theme at once, not at the next one.
    assert owner_client.post(f"/admin/items/{waiting}/spam").status_code == 303
    page = _text(owner_client.get(f"/admin/items/{waiting}"))
    assert "In no theme: spam, rejected and withdrawn" in page


def test_every_themes_post_needs_a_csrf_token(make_app, make_submission):
    app = make_app(WTF_CSRF_ENABLED=True)
    add_owner(app)
    ids = [make_submission(title=t, body=b) for t, b in LOUNGE + SLIDES]
    _rebuild(app)
    client = app.test_client()
    page = _text(client.get("/admin/login"))
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    assert AuthActions(client).login(csrf_token=token).status_code == 303
    lounge, slides = _theme_id(app, ids[0]), _theme_id(app, ids[4])
    posts = {
        f"/admin/themes/{lounge}/rename": {"label": "Changed"},
        f"/admin/themes/{lounge}/merge": {"theme": str(slides)},
        f"/admin/themes/{slides}/move": {"idea": str(ids[4]), "theme": str(lounge)},
        f"/admin/themes/ideas/{ids[4]}/split": {},
        f"/admin/themes/duplicates/{ids[3]}/{ids[0]}/confirm": {},
        f"/admin/themes/duplicates/{ids[3]}/{ids[0]}/dismiss": {},
        "/admin/themes/recompute": {},
    }
    rules = [r for r in app.url_map.iter_rules() if r.endpoint.startswith("themes.")]
    assert len(posts) == len([r for r in rules if "POST" in r.methods])
    for url, data in posts.items():
        assert client.post(url, data=data).status_code == 400, url
    assert _label(app, lounge) != "Changed"
    assert _members(app, slides) == set(ids[4:])
    with app.app_context():
        assert get_session().scalar(sa.select(sa.func.count()).select_from(ThemeRun)) == 1
    # With the token the page carries, the same buttons work.
    theme_page = _text(client.get(f"/admin/themes/{lounge}"))
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', theme_page).group(1)
    response = client.post(
        f"/admin/themes/{lounge}/rename", data={"label": "Changed", "csrf_token": token}
    )
    assert response.status_code == 303
    assert _label(app, lounge) == "Changed"


@pytest.mark.parametrize(
    ("label", "message"),
    [
        ("", "A label cannot be empty."),
        ("   ", "A label cannot be empty."),
        ("x" * 121, "At most 120 characters."),
        ("Wi-Fi\r\nSet-Cookie: x", "This must be a single line, without line breaks."),
        ("Wi-Fi\x00", "This contains a NUL byte, which is not allowed."),
        ("Wi-Fi\u202eiF-iW", "This contains invisible text-direction characters"),
    ],
)
def test_a_bad_label_is_refused_next_to_the_field(app, owner_client, ideas, label, message):
    _rebuild(app)
    lounge = _theme_id(app, ideas["lounge"][0])
    before = _label(app, lounge)
    response = owner_client.post(f"/admin/themes/{lounge}/rename", data={"label": label})
    assert response.status_code == 400
    page = _text(response)
    assert f"<li>{message}" in page
    assert 'aria-invalid="true"' in page
    assert _label(app, lounge) == before


def test_a_label_of_120_characters_is_fine(app, owner_client, ideas):
    _rebuild(app)
    lounge = _theme_id(app, ideas["lounge"][0])
    label = "é" * 120
    response = owner_client.post(f"/admin/themes/{lounge}/rename", data={"label": label})
    assert response.status_code == 303
    assert _label(app, lounge) == label


def _other_topic_theme(app, make_submission) -> int:
    with app.app_context():
        topic = get_session().scalar(sa.select(Topic).where(Topic.slug == "sessions"))
        topic_id = topic.id
    idea = make_submission(topic_id=topic_id, title="Shorter talks", body="Twenty minute talks.")
    _rebuild(app)
    return _theme_id(app, idea)


@pytest.mark.parametrize(
    ("path", "data", "status", "message"),
    [
        ("/admin/themes/abc", None, 404, None),
        ("/admin/themes/-1", None, 404, None),
        ("/admin/themes/99999999999", None, 404, None),
        ("/admin/themes/2147483647", None, 404, "There is no theme #2147483647"),
        ("/admin/themes/2147483647/rename", {"label": "New"}, 404, "There is no theme"),
        ("/admin/themes/99999999999/merge", {"theme": "1"}, 404, None),
        (
            "/admin/themes/{lounge}/merge",
            {"theme": "{lounge}"},
            409,
            "cannot be merged with itself",
        ),
        ("/admin/themes/{lounge}/merge", {"theme": "{other}"}, 409, "different topics"),
        ("/admin/themes/{lounge}/merge", {"theme": "abc"}, 400, "Choose one of the listed themes"),
        ("/admin/themes/{lounge}/merge", {}, 400, "Choose one of the listed themes"),
        ("/admin/themes/{lounge}/merge", {"theme": "99999999999"}, 400, "Choose one of the"),
        ("/admin/themes/{lounge}/merge", {"theme": "2147483647"}, 409, "no theme #2147483647"),
        (
            "/admin/themes/{lounge}/move",
            {"idea": "{idea}", "theme": "2147483647"},
            409,
            "no theme",
        ),
        ("/admin/themes/{lounge}/move", {"idea": "{idea}", "theme": "{other}"}, 409, "own topic"),
        (
            "/admin/themes/{lounge}/move",
            {"idea": "{idea}", "theme": "1\x00"},
            400,
            "listed themes",
        ),
        ("/admin/themes/{lounge}/move", {"theme": "{lounge}"}, 400, "Choose one of the ideas in"),
        ("/admin/themes/{lounge}/move", {"idea": "x", "theme": "y"}, 400, "ideas in this theme."),
        (
            "/admin/themes/{lounge}/move",
            {"idea": "2147483647", "theme": "{lounge}"},
            409,
            "no theme",
        ),
        ("/admin/themes/2147483647/move", {"idea": "{idea}", "theme": "{lounge}"}, 404, None),
        ("/admin/themes/ideas/2147483647/split", {}, 409, "is in no theme"),
        ("/admin/themes/ideas/abc/split", {}, 404, None),
        ("/admin/themes/duplicates/{idea}/{lounge}/confirm", {}, 409, "is not suggested"),
        ("/admin/themes/duplicates/1/99999999999/dismiss", {}, 404, None),
    ],
)
def test_hostile_ids_and_choices_get_a_clear_answer(
    app, owner_client, ideas, make_submission, path, data, status, message
):
    other = _other_topic_theme(app, make_submission)
    lounge = _theme_id(app, ideas["lounge"][0])
    values = {"lounge": lounge, "other": other, "idea": ideas["lounge"][1]}
    url = path.format(**values)
    form = {k: v.format(**values) for k, v in (data or {}).items()}
    response = owner_client.get(url) if data is None else owner_client.post(url, data=form)
    assert response.status_code == status
    if message:
        assert message in _text(response)
    assert _members(app, lounge) == set(ideas["lounge"])


def test_a_back_path_off_the_owner_pages_is_ignored(app, owner_client, ideas):
    _rebuild(app)
    idea = ideas["lounge"][1]
    for back in ("https://evil.example/", "//evil.example/", "/\\evil.example", "/ideas/1"):
        response = owner_client.post(f"/admin/themes/ideas/{idea}/split", data={"back": back})
        assert response.status_code == 303
        assert response.headers["Location"] == "/admin/themes/"


def test_an_idea_of_one_very_long_word_does_not_break_the_pages(
    app, owner_client, make_submission
):
    idea = make_submission(title=None, body="lounge" + "x" * 4000)
    assert owner_client.get("/admin/themes/").status_code == 200
    _rebuild(app)
    theme = _theme_id(app, idea)
    assert owner_client.get(f"/admin/themes/{theme}").status_code == 200
    assert owner_client.post(f"/admin/themes/ideas/{idea}/split").status_code == 303


def test_no_theme_label_or_keyword_reaches_a_public_page(app, owner_client, make_submission):
    # The theme's words come from private notes; one public comment shares the theme.
    for body in (
        "Zorblax lanyards for the bloggers, zorblax colours please.",
        "Zorblax lanyards in bright colours for every blogger.",
        "Bright zorblax lanyards so bloggers find each other.",
    ):
        make_submission(visibility=PRIVATE, title="Zorblax lanyards", body=body)
    public = make_submission(title="Lanyards", body="Coloured lanyards for bloggers.")
    renamed = make_submission(title="Quiet room", body="A quiet room to write posts in.")
    _rebuild(app)
    zorblax = _theme_id(app, public)
    assert "zorblax" in _label(app, zorblax).casefold()
    owner_client.post(
        f"/admin/themes/{_theme_id(app, renamed)}/rename", data={"label": "Ouagadougou label"}
    )
    with app.app_context():
        keywords = get_session().get(Theme, zorblax).keyword_list
    assert any("zorblax" in k for k in keywords)
    owner_client.post("/admin/logout")
    for url in (
        "/",
        "/?sort=top",
        f"/ideas/{public}",
        f"/ideas/{renamed}",
        "/topics/blog",
        "/api/ideas",
        "/feed.atom",
        "/topics/blog/feed.atom",
    ):
        response = owner_client.get(url)
        assert response.status_code == 200, url
        text = _text(response).casefold()
        assert "zorblax" not in text, url
        assert "ouagadougou" not in text, url
        assert "/admin/themes" not in text, url


def test_two_page_views_placing_the_same_new_idea_at_once_both_answer(
    app, owner_client, ideas, make_submission
):
    _rebuild(app)
    later = make_submission(title="Lounge Wi-Fi", body="Wi-Fi and power strips in the lounge.")
    answers = []
    with app.app_context():
        # Another request's transaction, caught between placing the idea and committing.
        other = get_session()
        other.add(ThemeMember(submission_id=later, theme_id=_theme_id(app, ideas["slides"][0])))
        other.flush()
        view = threading.Thread(target=lambda: answers.append(owner_client.get("/admin/themes/")))
        view.start()
        time.sleep(1)
        other.commit()
    view.join(30)
    assert answers[0].status_code == 200
    assert _theme_id(app, later) == _theme_id(app, ideas["slides"][0])
