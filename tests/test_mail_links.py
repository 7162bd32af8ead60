"""No live link from a reader in any mail the app sends or any digest it shows people.

Mail clients turn anything that looks like a URL or a domain into a link, in plain text and in
HTML text alike, so reader text is defanged (hxxps[://]evil[.]example) and never an href.
"""

import io
import random
from email import message_from_bytes, policy
from email.message import EmailMessage
from html.parser import HTMLParser

import pytest
import sqlalchemy as sa
from markdown_it import MarkdownIt

from feedback import markup, notify
from feedback.db import get_session, utcnow
from feedback.digest import contents, delivery, formats
from feedback.markup import count_links, defang, find_links, mail_paragraphs, paragraphs
from feedback.models import Credit, Status, Submission, Topic, Visibility
from feedback.tokens import new_manage_token
from tests.conftest import OWNER_EMAIL, OWNER_PASSWORD, add_owner, form_data

PUBLIC_URL = "https://ideas.example.org"
AUTHOR = "author@example.org"


@pytest.mark.parametrize(
    ("text", "links"),
    [
        ("see https://evil.example/login now", ["https://evil.example/login"]),
        (
            "http://a.example and ftp://files.example/x",
            ["http://a.example", "ftp://files.example/x"],
        ),
        ("javascript:alert(1)", ["javascript:alert(1)"]),
        ("data:text/html,<b>x</b>", ["data:text/html"]),
        ("mailto:jane@example.org", ["mailto:jane@example.org"]),
        ("go to www.evil.example today", ["www.evil.example"]),
        ("www.anything", ["www.anything"]),
        ("evil.example", ["evil.example"]),
        ("bit.ly/abc and t.co/x", ["bit.ly/abc", "t.co/x"]),
        ("example.com, evil.zip; site.co.uk!", ["example.com", "evil.zip", "site.co.uk"]),
        ("any.tld/with-a-path", ["any.tld/with-a-path"]),
        ("evil.example:8080/x", ["evil.example:8080/x"]),
        ("Read https://evil.example/a.", ["https://evil.example/a"]),
        ("Really? https://evil.example/?q=1!", ["https://evil.example/?q=1"]),
        ("(see bit.ly/abc)", ["bit.ly/abc"]),
        ("(https://evil.example/x)", ["https://evil.example/x"]),
        (
            "https://en.wikipedia.org/wiki/HIMSS_(organization)",
            ["https://en.wikipedia.org/wiki/HIMSS_(organization)"],
        ),
        ('"https://evil.example/q"', ["https://evil.example/q"]),
        ("<https://evil.example>", ["https://evil.example"]),
        ("bücher.de and пример.рф", ["bücher.de", "пример.рф"]),
        ("xn--bcher-kva.de", ["xn--bcher-kva.de"]),
        ("evil\u3002example and evil\uff0eexample", ["evil\u3002example", "evil\uff0eexample"]),
        ("HTTPS://EVIL.EXAMPLE/LOGIN", ["HTTPS://EVIL.EXAMPLE/LOGIN"]),
        ("WWW.EVIL.EXAMPLE and Evil.COM", ["WWW.EVIL.EXAMPLE", "Evil.COM"]),
        ("write to jane@evil.example.", []),
        ("@priya@mastodon.social", []),
        ("jane@evil.example/login", ["evil.example/login"]),
        ("Node.js, e.g. 3.5 and v1.2.3, i.e. U.S.A.", []),
        ("2.5GB of 3.5mm cables by 10.30am", []),
        ("https:// and www. and .com", []),
    ],
)
def test_find_links(text, links):
    assert find_links(text) == links
    assert count_links(text) == len(links)


def test_the_quick_check_never_passes_over_a_link():
    """Text the quick check clears skips the full detector: it must hold no link at all."""
    pieces = ["a", "x1", "www", "http", "evil", "рф", "中国", "xn--p1ai", "com", " ", "\n"]
    pieces += list(".。．｡:/@-_#?") + ["e.g.", "Wi-Fi. ", "3.5mm"]
    chooser = random.Random(11)
    seen_links = 0
    for _ in range(50_000):
        text = "".join(chooser.choice(pieces) for _ in range(chooser.randint(1, 12)))
        full = [match.group(0) for match in markup._LINK.finditer(text)]
        seen_links += bool(full)
        if not markup._MAY_LINK.search(text):
            assert full == [], text
    assert seen_links > 1000


@pytest.mark.parametrize(
    ("text", "defanged"),
    [
        ("https://evil.example/login", "hxxps[://]evil[.]example/login"),
        ("HTTP://EVIL.EXAMPLE", "HXXP[://]EVIL[.]EXAMPLE"),
        ("ftp://files.example/a.zip", "fxp[://]files[.]example/a[.]zip"),
        ("www.evil.example", "www[.]evil[.]example"),
        ("bit.ly/x", "bit[.]ly/x"),
        ("site: evil.example.", "site: evil[.]example."),
        ("javascript:alert(1)", "javascript[:]alert(1)"),
        ("evil.example:8080/x", "evil[.]example[:]8080/x"),
        ("evil\u3002example", "evil[.]example"),
        (
            "https://a.example/?next=https://b.example&j=javascript:x",
            "hxxps[://]a[.]example/?next=hxxps[://]b[.]example&j=javascript[:]x",
        ),
        ("(see bit.ly/abc)", "(see bit[.]ly/abc)"),
        ("Mail jane@example.org about Node.js", "Mail jane@example.org about Node.js"),
    ],
)
def test_defang_keeps_the_words_and_drops_the_link(text, defanged):
    assert defang(text) == defanged
    assert find_links(defanged) == []
    assert defang(defanged) == defanged


def test_mail_paragraphs_escape_and_never_link():
    html = mail_paragraphs(
        'See https://evil.example/x <a href="https://evil.example">\n\nwww.x.com'
    )
    assert html == (
        "<p>See hxxps[://]evil[.]example/x &lt;a href=&#34;hxxps[://]evil[.]example&#34;&gt;</p>\n"
        "<p>www[.]x[.]com</p>"
    )


def test_public_pages_still_link_web_addresses():
    html = paragraphs("See https://example.org/x, www.example.org and javascript:alert(1).")
    assert html == (
        '<p>See <a href="https://example.org/x" rel="nofollow ugc noopener">'
        "https://example.org/x</a>, www.example.org and javascript:alert(1).</p>"
    )


# Each case: the fields of a stored idea, and how each hostile field must read once defanged.
CASES = {
    "url in the body": (
        {"body": "Log in at https://evil.example/login to vote."},
        {"body": "hxxps[://]evil[.]example/login"},
    ),
    "www in the title": (
        {"title": "Visit www.evil.example now"},
        {"title": "www[.]evil[.]example"},
    ),
    "bare domain as website": ({"website": "evil.example"}, {"website": "evil[.]example"}),
    "short link in the body": (
        {"body": "Short link bit.ly/abc for details."},
        {"body": "bit[.]ly/abc"},
    ),
    "image tag typed as text": (
        {"body": 'Typed <img src="https://evil.example/pixel.png"> as text.'},
        {"body": "hxxps[://]evil[.]example/pixel[.]png"},
    ),
    "javascript in the body": (
        {"body": "Paste javascript:alert(1) in the bar."},
        {"body": "javascript[:]alert(1)"},
    ),
    "name, organisation and note": (
        {
            "author_name": "Ann of evil.example/x",
            "organisation": "www.corp.example",
            "credit": Credit.NAME_AND_ORGANISATION,
            "owner_note": "Compare corp.example/notes",
        },
        {
            "author_name": "evil[.]example/x",
            "organisation": "www[.]corp[.]example",
            "owner_note": "corp[.]example/notes",
        },
    ),
}
# The URL-bearing attributes of HTML; none may carry reader data.
URL_ATTRIBUTES = set(
    "href src srcset action formaction background poster cite data longdesc lowsrc ping "
    "manifest icon xlink:href codebase usemap".split()
)
LOADING_TAGS = set(
    "a img image iframe frame script link form object embed video audio source track area "
    "base svg style input button".split()
)
VOID = set("area base br col embed hr img input link meta source wbr".split())


class _Page(HTMLParser):
    """The tags, attributes and text of an HTML document, or of the element with one class."""

    def __init__(self, html: str, scope: str | None = None) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attributes: list[tuple[str, str]] = []
        self.text: list[str] = []
        self.found = scope is None
        self._scope = scope
        self._depth = 0
        self.feed(html)
        self.close()

    def _inside(self) -> bool:
        return self._scope is None or self._depth > 0

    def handle_starttag(self, tag, attrs):
        if not self._inside():
            if self._scope in (dict(attrs).get("class") or "").split():
                self.found, self._depth = True, 1
            return
        self.tags.append(tag)
        self.attributes.extend((name, value or "") for name, value in attrs)
        if self._scope is not None and tag not in VOID:
            self._depth += 1

    def handle_endtag(self, tag):
        if self._scope is not None and self._depth and tag not in VOID:
            self._depth -= 1

    def handle_data(self, data):
        if self._inside():
            self.text.append(data)


def _own(link: str) -> bool:
    return link.startswith(PUBLIC_URL)


def _assert_text_safe(text: str, shown: dict[str, str], fields: set[str]) -> None:
    stray = [link for link in find_links(text) if not _own(link)]
    assert stray == [], stray
    words = " ".join(text.split())
    for field, defanged in shown.items():
        if field in fields:
            assert defanged in words, (field, defanged)


def _assert_html_safe(
    html: str, shown: dict[str, str], fields: set[str], scope: str | None = None
) -> None:
    page = _Page(html, scope)
    assert page.found, scope
    assert not LOADING_TAGS & set(page.tags), LOADING_TAGS & set(page.tags)
    for name, value in page.attributes:
        loads = name in URL_ATTRIBUTES or name.startswith("on") or "url(" in value.lower()
        assert not loads or _own(value), (name, value)
        assert all(_own(link) for link in find_links(value)), (name, value)
    _assert_text_safe("".join(page.text), shown, fields)


def _assert_message_safe(message: EmailMessage, shown: dict[str, str], fields: set[str]) -> None:
    for name, value in message.items():
        if name.lower() != "message-id":
            assert [link for link in find_links(str(value)) if not _own(link)] == [], name
    parts = [part for part in message.walk() if not part.is_multipart()]
    assert parts
    for part in parts:
        if part.get_content_type() == "text/html":
            _assert_html_safe(part.get_content(), shown, fields)
        else:
            assert part.get_content_type() == "text/plain"
            _assert_text_safe(part.get_content(), shown, fields)


ALL_FIELDS = {"title", "body", "author_name", "organisation", "website", "owner_note"}


def _store(app, **fields) -> int:
    """A private pending idea whose author asked to be told, stored as given; returns its id."""
    with app.app_context():
        session = get_session()
        values = {
            "visibility": Visibility.PRIVATE,
            "status": Status.PENDING,
            "author_name": "Grace Example",
            "email": AUTHOR,
            "topic_id": session.scalar(sa.select(Topic.id).order_by(Topic.position)),
            "body": "An idea long enough to be stored.",
            "notify_author": True,
            "manage_token_hash": new_manage_token("test-secret")[2],
            "created_at": utcnow(),
            **fields,
        }
        item = Submission(**values)
        session.add(item)
        session.commit()
        return item.id


def _logged_in(app):
    add_owner(app)
    client = app.test_client()
    client.post("/admin/login", data={"email": OWNER_EMAIL, "password": OWNER_PASSWORD})
    return client


def _download(client, url: str) -> bytes:
    with client.get(url) as response:
        assert response.status_code == 200, url
        return response.data


@pytest.mark.parametrize("case", CASES)
def test_digest_formats_people_read_carry_no_reader_link(app, case):
    fields, shown = CASES[case]
    _store(app, **fields)
    options = contents.Options(include_contact=True, include_notes=True)
    with app.app_context():
        session = get_session()
        draft = delivery.rendition(session, app.config, options=options)
        head, entries = draft.head, list(draft.entries())
        raw = io.BytesIO()
        draft.write_eml(raw)
        outputs = {}
        for fmt in ("txt", "md", "html"):
            out = io.StringIO()
            formats.write(fmt, out, head, entries, options=options)
            outputs[fmt] = out.getvalue()
        fragment = io.StringIO()
        formats.write_html(fragment, head, entries, fragment=True)
    parsed = message_from_bytes(raw.getvalue(), policy=policy.default)
    assert parsed.get_content_type() == "multipart/alternative"
    _assert_message_safe(parsed, shown, ALL_FIELDS)
    _assert_text_safe(parsed.get_body(("plain",)).get_content(), shown, ALL_FIELDS)
    _assert_html_safe(parsed.get_body(("html",)).get_content(), shown, ALL_FIELDS)
    _assert_text_safe(outputs["txt"], shown, ALL_FIELDS)
    _assert_html_safe(outputs["html"], shown, ALL_FIELDS)
    _assert_html_safe(fragment.getvalue(), shown, ALL_FIELDS)
    _assert_html_safe(MarkdownIt("commonmark").render(outputs["md"]), shown, ALL_FIELDS)


@pytest.mark.parametrize("case", CASES)
def test_owner_preview_and_downloads_carry_no_reader_link(app, case):
    fields, shown = CASES[case]
    _store(app, **fields)
    client = _logged_in(app)
    query = "?include_contact=y&include_notes=y"
    page = client.get("/admin/digests/new" + query).get_data(as_text=True)
    _assert_html_safe(page, shown, ALL_FIELDS, scope="digest-preview")
    eml = message_from_bytes(
        _download(client, "/admin/digests/new/download.eml" + query), policy=policy.default
    )
    _assert_message_safe(eml, shown, ALL_FIELDS)
    html = _download(client, "/admin/digests/new/download.html" + query).decode()
    _assert_html_safe(html, shown, ALL_FIELDS)
    text = _download(client, "/admin/digests/new/download.txt" + query).decode()
    _assert_text_safe(text, shown, ALL_FIELDS)


def test_csv_and_json_keep_the_raw_values(app):
    _store(app, body="Log in at https://evil.example/login to vote.", website="evil.example")
    client = _logged_in(app)
    for fmt in ("csv", "json"):
        data = _download(client, f"/admin/digests/new/download.{fmt}").decode("utf-8-sig")
        assert "https://evil.example/login" in data, fmt
        assert "evil[.]example" not in data, fmt


@pytest.mark.parametrize("case", CASES)
def test_no_mail_the_app_sends_carries_a_reader_link(make_app, smtp, case):
    port, inbox = smtp
    app = make_app(
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=port,
        PUBLIC_URL=PUBLIC_URL,
        ORGANISER_EMAILS=["organisers@example.org"],
    )
    fields, shown = CASES[case]
    item_id = _store(app, **fields)
    owner = _logged_in(app)

    notify.send_new_idea_notice(app, item_id)
    ask = owner.post(f"/admin/items/{item_id}/ask", data={"body": "A shorter public version."})
    assert ask.status_code == 303
    with app.test_client() as reader, reader.post("/s/resend", data={"email": AUTHOR}) as r:
        assert r.status_code == 303
    sent = app.test_cli_runner().invoke(args=["digest", "send"])
    assert sent.exit_code == 0, sent.output

    by_subject = {str(message["Subject"]): message for _to, message in inbox.messages}
    assert len(by_subject) == len(inbox.messages) == 5, list(by_subject)

    def mail(start: str) -> EmailMessage:
        return next(m for subject, m in by_subject.items() if subject.startswith(start))

    name_title_body = {"author_name", "title", "body"}
    checks = {
        "[HIMSS Conference] New private note": {"author_name", "website", "title", "body"},
        "May we publish your note": {"author_name"},
        "Your ideas for": {"title"} if "title" in fields else {"body"},
        "Ideas for": ALL_FIELDS - {"owner_note"},
        "Your idea went to the organisers": name_title_body,
    }
    for start, shown_fields in checks.items():
        _assert_message_safe(mail(start), shown, shown_fields)
    # The app's own links stay links.
    assert f"{PUBLIC_URL}/admin/items/{item_id}" in mail("[HIMSS").get_content()
    assert f"{PUBLIC_URL}/s/" in mail("May we publish").get_content()
    assert f"{PUBLIC_URL}/s/" in mail("Your ideas for").get_content()


def test_a_new_idea_from_the_form_is_noticed_defanged(make_app, smtp):
    port, inbox = smtp
    app = make_app(NOTIFY_NEW=True, MAIL_SERVER="127.0.0.1", MAIL_PORT=port, PUBLIC_URL=PUBLIC_URL)
    add_owner(app)
    data = form_data(
        app,
        name="Mallory www.evil.example",
        title="Free passes at evil.example/passes",
        body="Claim them at https://evil.example/login before Friday.",
        website="https://evil.example/me",
    )
    with app.test_client() as client, client.post("/ideas", data=data) as response:
        assert response.status_code == 303
    (_to, message), *_ = inbox.messages
    assert message["Subject"] == (
        "[HIMSS Conference] New public comment from Mallory www[.]evil[.]example: "
        "Free passes at evil[.]example/passes"
    )
    assert message["Reply-To"].addresses[0].display_name == "Mallory www[.]evil[.]example"
    shown = {
        "body": "hxxps[://]evil[.]example/login",
        "website": "hxxps[://]evil[.]example/me",
    }
    _assert_message_safe(message, shown, set(shown))
    assert f"{PUBLIC_URL}/admin/items/1" in message.get_content()


def test_subject_cut_between_words_never_makes_a_link(make_app):
    app = make_app(PUBLIC_URL=PUBLIC_URL)
    opening = f"[{app.config['CONFERENCE_NAME']}] New private note from "
    room = notify.SUBJECT_LIMIT - len(opening) - len("Grace Example: ")
    # A cut at the limit would end the body's first words at "example.com".
    body = "y" * (room - 13) + " example.company and more words after it"
    assert find_links(body[: room - 1]) == ["example.com"]
    item_id = _store(app, title=None, body=body)
    with app.test_request_context(base_url=PUBLIC_URL):
        item = get_session().get(Submission, item_id)
        message = notify.new_idea_message(app, item, [OWNER_EMAIL])
    subject = str(message["Subject"])
    assert len(subject) <= notify.SUBJECT_LIMIT
    assert subject.endswith("…")
    assert find_links(subject) == []
