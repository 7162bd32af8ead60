"""The digest built around themes: the first section, themes largest first in each topic,
confirmed near-duplicates folded, JSON version 2 and the CSV columns, sent digests frozen,
and theme labels treated as the reader text they are."""

import csv
import io
import json
import re
from datetime import timedelta
from email import message_from_bytes, policy
from pathlib import Path

import jsonschema
import pytest
import sqlalchemy as sa
from markdown_it import MarkdownIt

from feedback.db import get_session, utcnow
from feedback.digest import contents, delivery, formats
from feedback.digest.contents import Header, Options, ThemeCount
from feedback.models import (
    Credit,
    Digest,
    DigestItem,
    DuplicatePair,
    DuplicateState,
    Submission,
    Theme,
    ThemeMember,
    Topic,
    Visibility,
)
from feedback.themes import store
from tests.conftest import OWNER_EMAIL

SCHEMA = json.loads((Path(__file__).parent.parent / "docs" / "digest.schema.json").read_text())
PUBLIC, PRIVATE = Visibility.PUBLIC, Visibility.PRIVATE
READ = ("md", "txt", "html", "eml")  # the formats people read


def _export(app, fmt: str, options: Options | None = None) -> str:
    """The next digest in one format, as the owner's download writes it."""
    with app.app_context():
        draft = delivery.rendition(get_session(), app.config, options=options or Options())
        if fmt == "eml":
            raw = io.BytesIO()
            draft.write_eml(raw)
            return _readable(raw.getvalue())
        out = io.StringIO()
        formats.write(fmt, out, draft.head, draft.entries(), options=draft.options)
        return out.getvalue()


def _readable(raw: bytes) -> str:
    """Both parts of an email, decoded (quoted-printable would hide the words)."""
    message = message_from_bytes(raw, policy=policy.default)
    return "\n".join(message.get_body((part,)).get_content() for part in ("plain", "html"))


def _topics(app) -> dict[str, int]:
    with app.app_context():
        return dict(get_session().execute(sa.select(Topic.slug, Topic.id)).all())


def _theme(app, label: str, ideas: list[int], keywords=("wifi", "lounge")) -> int:
    """A theme holding ``ideas``, as a computation leaves one."""
    with app.app_context():
        session = get_session()
        theme = Theme(
            topic_id=session.get(Submission, ideas[0]).topic_id,
            label=label,
            keywords="\n".join(keywords),
            representative_id=ideas[0],
        )
        session.add(theme)
        session.flush()
        session.add_all(ThemeMember(submission_id=i, theme_id=theme.id) for i in ideas)
        session.commit()
        return theme.id


def _pair(app, duplicate: int, original: int, confirm: bool | None = True) -> None:
    """A near-duplicate suggested by a computation, then confirmed or dismissed by the owner
    (or left a suggestion with ``confirm=None``)."""
    with app.app_context():
        session = get_session()
        session.add(
            DuplicatePair(
                submission_id=duplicate,
                duplicate_of_id=original,
                state=DuplicateState.SUGGESTED,
                similarity=0.9,
                shared_words="wifi lounge",
            )
        )
        session.flush()
        if confirm is not None:
            store.decide_duplicate(session, duplicate, original, confirm=confirm, by=None)
        session.commit()


def _ids(app, options: Options | None = None) -> list[int]:
    with app.app_context():
        entries = contents.new_entries(get_session(), options or Options())
        return [entry.id for _item, entry in entries]


def _json(app, options: Options | None = None) -> dict:
    document = json.loads(_export(app, "json", options))
    jsonschema.validate(document, SCHEMA)
    return document


def _mark(app) -> Digest:
    with app.app_context():
        session = get_session()
        digest = delivery.mark_sent(session, app.config, Options(), created_by=OWNER_EMAIL)
        session.commit()
        return digest


def _download(client, url: str) -> bytes:
    with client.get(url) as response:
        assert response.status_code == 200, url
        return response.data


def _after(text: str, first: str, then: str) -> bool:
    return -1 < text.index(first) < text.index(then)


@pytest.fixture
def three_themes(app, make_submission):
    """Six ideas in one topic, in themes of three, two and one, plus a theme of two in a
    later topic. The smaller themes' ideas are the older ones, so order is by size alone."""
    topics = _topics(app)
    now = utcnow()

    def idea(title: str, days: int, **fields) -> int:
        return make_submission(
            title=title,
            body=f"{title}, as a reader wrote it.",
            created_at=now - timedelta(days=days),
            **fields,
        )

    lone = idea("Vegetarian lunch", 9)
    power = [idea("Power strips", 8), idea("More outlets", 7, visibility=PRIVATE)]
    wifi = [
        idea("Wi-Fi in the lounge", 3),
        idea("Wifi please", 2, visibility=PRIVATE),
        idea("Starred wifi", 1, starred=True),
    ]
    social = [
        idea("A chat hashtag", 6, topic_id=topics["social"]),
        idea("Tweet the keynotes", 5, topic_id=topics["social"]),
    ]
    themes = {
        "wifi": _theme(app, "Wi-Fi, lounge", wifi, ("wifi", "lounge", "bloggers")),
        "power": _theme(app, "Power strips, outlets", power, ("power", "outlets")),
        "lone": _theme(app, "Vegetarian lunch", [lone], ("vegetarian", "lunch")),
        "social": _theme(app, "Hashtag, tweets", social, ("hashtag", "tweet")),
    }
    return {"wifi": wifi, "power": power, "lone": [lone], "social": social, "themes": themes}


def test_the_first_section_lists_the_largest_themes_with_counts(app, three_themes):
    document = _json(app)
    labels = {theme["id"]: theme["label"] for theme in document["themes"]}
    wifi = three_themes["themes"]["wifi"]
    assert labels[wifi] == "Wi-Fi, lounge"
    assert next(t for t in document["themes"] if t["id"] == wifi) == {
        "id": wifi,
        "topic": "Conference blog",
        "label": "Wi-Fi, lounge",
        "keywords": ["wifi", "lounge", "bloggers"],
        "count": 3,
        "public": 2,
        "private": 1,
        "ideas": three_themes["wifi"][2:] + three_themes["wifi"][:2],
    }
    # Largest first across topics; equal ones (the two themes of two) in reading order.
    expected = [
        "Wi-Fi, lounge (Conference blog): 3 ideas: 2 public, 1 private · keywords: wifi, "
        "lounge, bloggers",
        "Power strips, outlets (Conference blog): 2 ideas: 1 public, 1 private · keywords: "
        "power, outlets",
        "Hashtag, tweets (Social media at the conference): 2 ideas: 2 public, 0 private · "
        "keywords: hashtag, tweet",
        "Vegetarian lunch (Conference blog): 1 idea: 1 public, 0 private · keywords: "
        "vegetarian, lunch",
    ]
    text = " ".join(_export(app, "txt").split())
    section = text.split("What readers asked for most -", 1)[1].lstrip("-").lstrip()
    assert section.startswith(" ".join(f"{n}. {line}" for n, line in enumerate(expected, 1)))
    markdown = _export(app, "md")
    section = markdown.split("## What readers asked for most\n\n", 1)[1].split("\n\n")[0]
    # The label in bold, then its topic, counts and keywords.
    assert section.startswith("1. **Wi-Fi, lounge** (Conference blog): 3 ideas")
    assert [re.sub(r"\\(.)", r"\1", line).replace("**", "") for line in section.split("\n")] == [
        f"{n}. {line}" for n, line in enumerate(expected, 1)
    ]
    html = _export(app, "html")
    items = re.findall(r"<li[^>]*><strong>([^<]+)</strong>", html)
    assert items == [line.split(" (")[0] for line in expected]
    assert "What readers asked for most" in _export(app, "eml")


def test_the_first_section_holds_the_ten_largest():
    themes = [
        ThemeCount(id=n, topic="Other", label=f"Theme {n}", keywords=(), public=n % 4, private=1)
        for n in range(12)
    ]
    most = Header("C", None, None, 0, 0, 0, themes=themes).most_asked()
    assert len(most) == 10
    assert [theme.count for theme in most] == sorted((t.count for t in themes), reverse=True)[:10]
    # Equal counts keep the reading order.
    assert [t.id for t in most if t.count == 4] == [3, 7, 11]


def test_within_a_topic_themes_go_largest_first(app, three_themes):
    wifi, power, lone, social = (three_themes[k] for k in ("wifi", "power", "lone", "social"))
    # Within a theme the order is today's: starred first, then oldest.
    assert _ids(app) == [wifi[2], wifi[0], wifi[1], *power, *lone, *social]
    markdown = _export(app, "md")
    theme_headings = re.findall(r"^### (.+)$", markdown, re.MULTILINE)
    assert theme_headings == [
        "Wi-Fi, lounge",
        "Power strips, outlets",
        "Vegetarian lunch",
        "Hashtag, tweets",
    ]
    assert "*3 ideas: 2 public, 1 private · keywords: wifi, lounge, bloggers*" in markdown
    rendered = MarkdownIt("commonmark").render(markdown)
    # Topics, then themes, then ideas, one level each.
    assert rendered.count("<h2>") == 3  # the first section and two topics
    assert rendered.count("<h3>") == 4
    assert rendered.count("<h4>") == 8
    text = _export(app, "txt")
    assert _after(text, "Theme: Wi-Fi, lounge", "Theme: Power strips, outlets")
    assert _after(text, "Theme: Power strips, outlets", "Theme: Vegetarian lunch")
    assert "  3 ideas: 2 public, 1 private · keywords: wifi, lounge, bloggers" in text
    html = _export(app, "html")
    assert re.findall(r"<h3[^>]*>([^<]+)</h3>", html) == [
        "Wi-Fi, lounge",
        "Power strips, outlets",
        "Vegetarian lunch",
        "Hashtag, tweets",
    ]
    document = _json(app)
    assert [item["theme"] for item in document["items"]] == [
        three_themes["themes"][k] for k in ["wifi"] * 3 + ["power"] * 2 + ["lone"] + ["social"] * 2
    ]


def test_new_ideas_are_placed_in_themes_before_a_digest(app, make_submission, auth, client):
    first = make_submission(title="Wi-Fi in the lounge", body="Decent Wi-Fi in the lounge.")
    second = make_submission(title="Vegetarian lunch", body="Vegan lunch options, labelled.")
    auth.login()
    page = client.get("/admin/digests/new").get_data(as_text=True)
    assert "What readers asked for most" in page
    # The preview put them in themes for good, so the digest sent after it shows the same.
    with app.app_context():
        placed = dict(
            get_session().execute(sa.select(ThemeMember.submission_id, ThemeMember.theme_id)).all()
        )
    assert set(placed) == {first, second}
    document = _json(app)
    assert [item["theme"] for item in document["items"]] == [placed[first], placed[second]]
    assert sorted(i for t in document["themes"] for i in t["ideas"]) == [first, second]


@pytest.fixture
def repeated(app, make_submission):
    """An idea sent again by a named reader, an anonymous one and one crediting an
    organisation, each with extra words; the owner confirmed all three."""
    now = utcnow()
    original = make_submission(
        title="Wi-Fi in the lounge",
        body="The bloggers' lounge needs decent Wi-Fi.",
        author_name="Olga Original",
        created_at=now - timedelta(days=5),
    )
    named = make_submission(
        title="Lounge wifi",
        body="Decent wifi in the bloggers' lounge, and at the press desk too.",
        author_name="Nora Named",
        website="https://nora.example",
        created_at=now - timedelta(days=4),
    )
    shy = make_submission(
        body="Wi-Fi in the lounge please, the upload speed matters for video.",
        author_name="Sam Secret",
        email="sam.secret@example.org",
        website="https://sam-secret.example",
        credit=Credit.ANONYMOUS,
        visibility=PRIVATE,
        created_at=now - timedelta(days=3),
    )
    org = make_submission(
        title="Wireless",
        body="Wireless that works in the lounge, with a printed password.",
        author_name="Ola Org",
        credit=Credit.NAME_AND_ORGANISATION,
        organisation="Mercy Clinic",
        created_at=now - timedelta(days=2),
    )
    other = make_submission(
        title="Vegetarian lunch", body="Vegan options.", created_at=now - timedelta(days=1)
    )
    _theme(app, "Wi-Fi, lounge", [original, named, shy, org])
    _theme(app, "Vegetarian lunch", [other], ("vegetarian",))
    for duplicate in (named, shy, org):
        _pair(app, duplicate, original)
    return {"original": original, "named": named, "shy": shy, "org": org, "other": other}


@pytest.mark.parametrize("fmt", READ)
def test_a_confirmed_duplicate_is_folded_into_the_idea_it_repeats(app, repeated, fmt):
    output = _export(app, fmt, Options(include_contact=True))
    words = " ".join(output.split())
    assert "Also sent by 3 readers" in words
    # Each repeat after the idea it repeats, credited as its author chose, its words kept.
    original = words.index("The bloggers")
    for credit, text in [
        ("Nora Named", "and at the press desk too"),
        ("A reader", "the upload speed matters for video"),
        ("Ola Org (Mercy Clinic)", "with a printed password"),
    ]:
        assert original < words.index(credit, original) < words.index("Vegan options"), credit
        assert original < words.index(text) < words.index("Vegan options"), text
    # The anonymous reader shows no name, email or website, even with contact details.
    for secret in ("Sam Secret", "sam.secret", "sam-secret"):
        assert secret not in output, secret
    # One theme heading with all four counted; no repeat stands as an idea of its own.
    assert "4 ideas: 3 public, 1 private" in words
    assert "Lounge wifi" in words
    if fmt == "md":
        rendered = MarkdownIt("commonmark").render(output)
        assert rendered.count("<h4>") == 2  # the original and the lunch


def test_folded_duplicates_in_json_csv_and_the_ledger(app, repeated):
    document = _json(app, Options(include_contact=True))
    items = {item["id"]: item for item in document["items"]}
    original = repeated["original"]
    assert [item["id"] for item in document["items"]] == [
        original,
        repeated["named"],
        repeated["shy"],
        repeated["org"],
        repeated["other"],
    ]
    for key in ("named", "shy", "org"):
        assert items[repeated[key]]["duplicate_of"] == original
        assert items[repeated[key]]["theme"] == items[original]["theme"]
    assert items[original]["duplicate_of"] is None
    assert items[repeated["shy"]]["credit"] == "A reader"
    assert items[repeated["shy"]]["email"] is None and items[repeated["shy"]]["website"] is None
    assert document["themes"][0]["count"] == 4
    rows = list(csv.DictReader(io.StringIO(_export(app, "csv")[1:])))
    assert [r["duplicate_of"] for r in rows] == [
        "",
        str(original),
        str(original),
        str(original),
        "",
    ]
    assert {r["theme_label"] for r in rows[:4]} == {"Wi-Fi, lounge"}
    assert rows[4]["theme_label"] == "Vegetarian lunch"
    assert rows[0]["theme_id"] == str(items[original]["theme"])
    # Every idea is in the ledger, the folded ones too, and counted in the header.
    digest = _mark(app)
    assert digest.item_count == 5
    with app.app_context():
        session = get_session()
        recorded = session.scalars(
            sa.select(DigestItem.submission_id)
            .where(DigestItem.digest_id == digest.id)
            .order_by(DigestItem.position)
        ).all()
        head = Header.from_json(session.get(Digest, digest.id).header_json)
    assert recorded == [item["id"] for item in document["items"]]
    assert (head.total, head.public, head.private) == (5, 4, 1)
    assert head.per_topic == [("Conference blog", 5)]
    assert _ids(app) == []


def test_anonymising_the_digest_credits_every_repeat_as_a_reader(app, repeated):
    output = _export(app, "txt", Options(anonymise=True, include_contact=True))
    for secret in ("Olga", "Nora", "nora.example", "Sam", "Ola Org", "Mercy"):
        assert secret not in output, secret
    assert "Also sent by 3 readers" in output
    assert " ".join(output.split()).count("A reader ·") == 5


def test_suggested_and_dismissed_duplicates_are_not_folded(app, make_submission):
    original = make_submission(title="Wi-Fi", body="Wi-Fi in the lounge.")
    suggested = make_submission(title="Wifi", body="wifi in the lounge please")
    dismissed = make_submission(title="WiFi speed", body="Fast wifi in the lounge.")
    _theme(app, "Wi-Fi, lounge", [original, suggested, dismissed])
    _pair(app, suggested, original, confirm=None)
    _pair(app, dismissed, original, confirm=False)
    document = _json(app)
    assert [item["duplicate_of"] for item in document["items"]] == [None, None, None]
    assert [item["id"] for item in document["items"]] == [original, suggested, dismissed]
    for fmt in READ:
        assert "Also sent by" not in _export(app, fmt), fmt
    assert len(re.findall(r"^#### ", _export(app, "md"), re.MULTILINE)) == 3


def test_a_duplicate_whose_original_is_not_in_the_digest_stands_alone(app, make_submission):
    original = make_submission(title="Wi-Fi", body="Wi-Fi in the lounge.")
    _mark(app)
    repeat = make_submission(title="Wifi again", body="wifi in the lounge please")
    other_topic = make_submission(
        title="Wifi tweets",
        body="wifi in the lounge, said on Twitter",
        topic_id=_topics(app)["social"],
    )
    elsewhere = make_submission(title="Wi-Fi for the chat", body="Wi-Fi in the lounge.")
    _theme(app, "Wi-Fi, lounge", [repeat, elsewhere])
    _pair(app, repeat, original)  # sent in the first digest
    _pair(app, other_topic, elsewhere)  # in another topic: folding would move it
    document = _json(app)
    assert {item["id"]: item["duplicate_of"] for item in document["items"]} == {
        repeat: None,
        elsewhere: None,
        other_topic: None,
    }
    assert "Also sent by" not in _export(app, "txt")


def test_a_chain_of_confirmed_duplicates_folds_into_its_first_idea(app, make_submission):
    first = make_submission(title="Wi-Fi", body="Wi-Fi in the lounge.")
    second = make_submission(title="Wifi", body="wifi in the lounge please")
    third = make_submission(title="WiFi!", body="WIFI in the lounge!!")
    _theme(app, "Wi-Fi, lounge", [first, second, third])
    _pair(app, second, first)
    _pair(app, third, second)
    _pair(app, first, third)  # a loop the owner could make: it is never followed
    document = _json(app)
    assert [(item["id"], item["duplicate_of"]) for item in document["items"]] == [
        (first, None),
        (second, first),
        (third, first),
    ]
    assert "Also sent by 2 readers" in _export(app, "txt")


def test_a_sent_digest_downloads_identically_after_themes_change(
    app, repeated, make_submission, auth, client
):
    digest = _mark(app)
    auth.login()
    url = f"/admin/digests/{digest.id}/download."
    before = {fmt: _download(client, url + fmt) for fmt in formats.FORMATS}
    page = client.get(f"/admin/digests/{digest.id}").get_data(as_text=True)
    assert "What readers asked for most" in page and "Also sent by 3 readers" in page
    # The owner renames the theme, undoes a duplicate, and everything is recomputed.
    with app.app_context():
        session = get_session()
        theme_id = session.scalar(
            sa.select(ThemeMember.theme_id).where(
                ThemeMember.submission_id == repeated["original"]
            )
        )
        store.rename(session, theme_id, "Renamed afterwards", by=None)
        session.execute(sa.update(DuplicatePair).values(state=DuplicateState.DISMISSED))
        store.rebuild(session)
        session.commit()
    make_submission(title="A later idea", body="Arrives after the digest went out.")
    for fmt in formats.FORMATS:
        again = _download(client, url + fmt)
        assert again == before[fmt], fmt
        assert b"Renamed afterwards" not in again
    decoded = _readable(before["eml"])
    assert "Wi-Fi, lounge" in decoded and "Also sent by 3 readers" in decoded


def test_a_digest_recorded_before_themes_still_downloads(app, make_submission, auth, client):
    """Snapshots and headers written before themes carry neither: one theme-less group."""
    item_id = make_submission(title="Old idea", body="Recorded before themes existed.")
    snapshot = {
        "id": item_id,
        "topic": "Conference blog",
        "topic_slug": "blog",
        "title": "Old idea",
        "credit": "Grace Example",
        "visibility": "public",
        "received": "2026-01-05",
        "body": "Recorded before themes existed.",
        "starred": False,
        "website": None,
        "email": None,
        "note": None,
        "updated_since": None,
    }
    header = {
        "conference": "HIMSS",
        "period_start": "2026-01-05",
        "period_end": "2026-01-05",
        "total": 1,
        "public": 1,
        "private": 0,
        "per_topic": [["Conference blog", 1]],
        "generated": "2026-01-06",
    }
    with app.app_context():
        session = get_session()
        digest = Digest(
            method="marked",
            recipients="",
            created_by=OWNER_EMAIL,
            options_json=Options().to_json(),
            header_json=json.dumps(header),
            item_count=1,
            message_id="<old@example.org>",
        )
        session.add(digest)
        session.flush()
        session.add(
            DigestItem(
                digest_id=digest.id,
                submission_id=item_id,
                position=0,
                content_hash="old",
                snapshot_json=json.dumps(snapshot),
            )
        )
        session.commit()
        digest_id = digest.id
    auth.login()
    url = f"/admin/digests/{digest_id}/download."
    for fmt in READ:
        output = _download(client, url + fmt)
        text = _readable(output) if fmt == "eml" else output.decode()
        assert "Recorded before themes existed." in text, fmt
        assert "What readers asked for most" not in text and "Theme:" not in text, fmt
    assert "### Old idea" in _download(client, url + "md").decode()
    document = json.loads(_download(client, url + "json"))
    jsonschema.validate(document, SCHEMA)
    assert document["themes"] == []
    assert (document["items"][0]["theme"], document["items"][0]["duplicate_of"]) == (None, None)
    rows = list(csv.DictReader(io.StringIO(_download(client, url + "csv").decode()[1:])))
    assert (rows[0]["theme_id"], rows[0]["duplicate_of"]) == ("", "")


HOSTILE_LABELS = [
    '<script>alert("x")</script>',
    "*[x](javascript:alert(1))*",
    "https://evil.example/phish",
    '=HYPERLINK("http://evil.example")',
    "# not a heading",
]


@pytest.mark.parametrize("label", HOSTILE_LABELS)
def test_a_hostile_theme_label_stays_text_in_every_format(app, make_submission, label):
    item_id = make_submission(title="Plain idea", body="Nothing odd in here.")
    theme_id = _theme(app, "Computed", [item_id], ("javascript:alert(2)", "<b>bold</b>"))
    with app.app_context():
        session = get_session()
        store.rename(session, theme_id, label, by=None)
        session.commit()
    markdown = _export(app, "md")
    rendered = MarkdownIt("commonmark").render(markdown)
    html = _export(app, "html")
    for shown in (rendered, html):
        assert "<script>" not in shown and "<b>" not in shown
        assert "<a " not in shown and "href=" not in shown
        assert "javascript:" not in shown  # defanged: javascript[:]
        assert "evil.example" not in shown  # defanged: evil[.]example
    assert rendered.count("<h1>") == 1 and rendered.count("<h3>") == 1
    assert "<em>" not in rendered.split("<h3>", 1)[1].split("</h3>", 1)[0]
    if label.startswith("<script>"):
        assert "&lt;script&gt;" in html
    # Plain text shows the label as typed (nothing runs there), links defanged.
    for text in (_export(app, "txt"), _export(app, "eml")):
        assert "evil.example" not in text and "javascript:" not in text
    with app.app_context():
        draft = delivery.rendition(get_session(), app.config, options=Options())
        raw = io.BytesIO()
        draft.write_eml(raw)
        message = message_from_bytes(raw.getvalue(), policy=policy.default)
    assert "<script>" not in message.get_body(("html",)).get_content()
    if label.startswith("https"):
        assert "hxxps[://]evil[.]example/phish" in _export(app, "txt")
    rows = list(csv.DictReader(io.StringIO(_export(app, "csv")[1:])))
    expected = "'" + label if label[0] in "=+-@" else label
    assert rows[0]["theme_label"] == expected
    document = _json(app)
    assert document["themes"][0]["label"] == label  # data for programs: the raw value
    assert document["themes"][0]["keywords"] == ["javascript:alert(2)", "<b>bold</b>"]


def test_the_real_computation_folds_a_confirmed_suggestion(app, make_submission):
    """End to end with the engine: a recomputation suggests, the owner confirms, and the
    digest folds; the suggestion it did not confirm stays on its own."""
    first = make_submission(
        title="Wi-Fi in the bloggers' lounge",
        body="The bloggers' lounge needs decent Wi-Fi this year.",
        created_at=utcnow() - timedelta(days=2),
    )
    again = make_submission(
        title="Wi-Fi in the bloggers' lounge",
        body="The bloggers' lounge needs decent Wi-Fi this year!!",
        author_name="Rita Repeat",
    )
    make_submission(title="Vegetarian lunch", body="Vegetarian and vegan lunch, labelled.")
    with app.app_context():
        session = get_session()
        store.rebuild(session)
        session.commit()
        suggested = {(p.submission_id, p.duplicate_of_id) for p in store.duplicates(session)}
    assert suggested == {(again, first)}
    assert "Also sent by" not in _export(app, "txt")
    with app.app_context():
        session = get_session()
        store.decide_duplicate(session, again, first, confirm=True, by=None)
        session.commit()
    text = " ".join(_export(app, "txt").split())
    assert "Also sent by 1 reader: - Rita Repeat · public comment" in text
