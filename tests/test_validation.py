"""Bad input on every form field: a 400 with a message next to the field, and the text kept."""

import html as html_lib
import io
from urllib.parse import quote

import pytest

from tests.conftest import count_submissions, form_data

TEXT_FIELDS = ["name", "email", "website", "title", "body"]
KEPT_BODY = "This text must survive a failed validation."

UTF8_MESSAGE = "This contains bytes that are not valid UTF-8 text. Please retype it."
NUL_MESSAGE = "This contains a NUL byte, which is not allowed."
LINE_MESSAGE = "This must be a single line, without line breaks."
CONTROL_MESSAGE = "This contains control characters, which are not allowed."
WEBSITE_MESSAGE = "Enter a web address starting with http:// or https://, or a handle like @name."
BIDI_MESSAGE = "This contains invisible text-direction characters, which are not allowed."
TOPIC_MESSAGE = "Please choose one of the listed topics."
VISIBILITY_MESSAGE = "Please choose a public comment or a private note."

CASES = [
    ("name", "", "Please tell us your name."),
    ("name", "   ", "Please tell us your name."),
    ("name", "x" * 81, "Please keep your name to 80 characters or fewer."),
    ("name", "<script>alert(1)</script>", "Names can&#39;t contain &lt; or &gt;."),
    ("name", "Eve\r\nBcc: victim@example.org", LINE_MESSAGE),
    ("name", "Eve\x00", NUL_MESSAGE),
    ("name", "Eve\x1b[31m", CONTROL_MESSAGE),
    ("name", "\u200b", "Please tell us your name, with at least one letter or digit."),
    ("name", "---", "Please tell us your name, with at least one letter or digit."),
    ("name", "Eve \u202egnp.exe", BIDI_MESSAGE),
    ("email", "", "Please give your email address."),
    ("email", "not-an-email", "That email address is not valid"),
    ("email", "ada@example", "That email address is not valid"),
    ("email", "ada@example.org\r\nBcc: victim@example.org", LINE_MESSAGE),
    ("email", "<script>@example.org", "That email address is not valid"),
    ("email", "a" * 250 + "@example.org", "An email address has at most 254 characters."),
    ("email", "ada\x00@example.org", NUL_MESSAGE),
    ("website", "javascript:alert(1)", WEBSITE_MESSAGE),
    ("website", "JavaScript://example.org/%0Aalert(1)", WEBSITE_MESSAGE),
    ("website", "data:text/html,<script>alert(1)</script>", WEBSITE_MESSAGE),
    ("website", "ftp://example.org", WEBSITE_MESSAGE),
    ("website", "example", WEBSITE_MESSAGE),
    ("website", "http://", WEBSITE_MESSAGE),
    ("website", "https://exa mple.org", WEBSITE_MESSAGE),
    ("website", "https://<script>.org", WEBSITE_MESSAGE),
    ("website", "@", WEBSITE_MESSAGE),
    ("website", "@bad handle", WEBSITE_MESSAGE),
    (
        "website",
        "https://example.org/" + "a" * 200,
        "Please keep this to 200 characters or fewer.",
    ),
    ("website", "https://example.org/\r\nX: y", LINE_MESSAGE),
    ("topic", "", TOPIC_MESSAGE),
    ("topic", "abc", TOPIC_MESSAGE),
    ("topic", "99999", TOPIC_MESSAGE),
    ("topic", "1; DROP TABLE submissions", TOPIC_MESSAGE),
    ("title", "t" * 121, "Please keep the title to 120 characters or fewer."),
    ("title", "Title\r\nBcc: victim@example.org", LINE_MESSAGE),
    ("title", "Title\x00", NUL_MESSAGE),
    ("title", "Title \u2066hidden\u2069", BIDI_MESSAGE),
    ("title", "Title \uffff", "not text (Unicode noncharacters)"),
    ("body", "A body with \ufdd0 a noncharacter", "not text (Unicode noncharacters)"),
    ("body", "", "Please write your idea."),
    ("body", "too short", "Your idea needs between 10 and 5000 characters (you have 9)."),
    ("body", "b" * 5001, "Your idea needs between 10 and 5000 characters (you have 5001)."),
    ("body", "b" * 100_000, "Your idea needs between 10 and 5000 characters (you have 100000)."),
    ("body", "A NUL \x00 byte in the middle", NUL_MESSAGE),
    ("body", "A bell \x07 in the middle of it", CONTROL_MESSAGE),
    ("visibility", None, VISIBILITY_MESSAGE),
    ("visibility", "secret", VISIBILITY_MESSAGE),
    ("visibility", "PUBLIC", VISIBILITY_MESSAGE),
]


@pytest.mark.parametrize(
    ("field", "value", "message"), CASES, ids=[f"{c[0]}-{n}" for n, c in enumerate(CASES)]
)
def test_bad_field_is_a_400_with_a_message_and_the_text_kept(app, client, field, value, message):
    data = form_data(app, **{field: value})
    if field != "body":
        data["body"] = KEPT_BODY
    response = client.post("/ideas", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert message in page
    # The message stands in the wrong field's block, and the reader's other text survives.
    assert f'id="{field}-error"' in page
    if field != "body":
        assert KEPT_BODY in page
    if field != "name":
        assert 'value="Ada Reader"' in page
    assert count_submissions(app) == 0


@pytest.mark.parametrize("field", TEXT_FIELDS)
def test_non_utf8_url_encoded_bytes_are_refused_with_a_message(app, client, field):
    data = form_data(app, **{field: "PLACEHOLDER"})
    encoded = "&".join(f"{k}={quote(v)}" for k, v in data.items())
    raw = encoded.replace("PLACEHOLDER", "Bad%FF%FEbytes%C3here and long enough")
    response = client.post("/ideas", data=raw, content_type="application/x-www-form-urlencoded")
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert UTF8_MESSAGE in page
    assert f'id="{field}-error"' in page
    assert count_submissions(app) == 0


@pytest.mark.parametrize("field", TEXT_FIELDS)
def test_non_utf8_multipart_bytes_are_refused_with_a_message(app, client, field):
    data = form_data(app)
    boundary = "----boundary"
    parts = []
    for key, value in data.items():
        encoded = b"Bad\xff\xfebytes here, long enough" if key == field else value.encode()
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n'.encode()
            + encoded
            + b"\r\n"
        )
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    response = client.post(
        "/ideas", data=body, content_type=f"multipart/form-data; boundary={boundary}"
    )
    assert response.status_code == 400
    assert UTF8_MESSAGE in response.get_data(as_text=True)
    assert count_submissions(app) == 0


def test_html_in_title_and_body_is_accepted_and_kept_as_text(app, client):
    """People discussing web pages may write tags; they are stored as typed and shown escaped."""
    from feedback.db import get_session
    from feedback.models import Submission

    body = "Use <details> for long session abstracts & keep <script>it</script> simple."
    response = client.post("/ideas", data=form_data(app, title="<details> tags", body=body))
    assert response.status_code == 303
    thanks = client.get("/thanks").get_data(as_text=True)
    with app.app_context():
        stored = get_session().query(Submission).one()
        assert (stored.title, stored.body) == ("<details> tags", body)
    link = thanks.split('href="http://localhost')[1].split('"')[0]
    manage = client.get(link).get_data(as_text=True)
    assert "&lt;details&gt; tags" in manage
    assert "&amp; keep &lt;script&gt;it&lt;/script&gt; simple." in manage
    assert "<script>it" not in manage


@pytest.mark.parametrize("field", TEXT_FIELDS)
def test_a_file_in_a_text_field_is_a_400_not_a_crash(app, client, field):
    data = {k: v for k, v in form_data(app).items() if k != field}
    data[field] = (io.BytesIO(b"<script>alert(1)</script>"), "evil.html")
    response = client.post("/ideas", data=data, content_type="multipart/form-data")
    assert response.status_code in (303, 400)
    if field in ("name", "email", "body"):
        assert response.status_code == 400
        assert f'id="{field}-error"' in response.get_data(as_text=True)
    assert "<script>alert(1)" not in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "payload", [{"name": 5, "body": {"a": 1}}, ["a", "b"], {"body": None}], ids=str
)
def test_a_json_body_is_a_400_not_a_crash(app, client, payload):
    response = client.post("/ideas", json=payload)
    assert response.status_code == 400
    assert count_submissions(app) == 0


def test_typed_values_survive_in_every_field(app, client):
    data = form_data(
        app,
        name="Zoë Ünïcode",
        email="zoe@example.org",
        website="@zoe@mastodon.social",
        title="Café talks",
        body="too short",
        visibility="private",
        consent="y",
    )
    page = client.post("/ideas", data=data).get_data(as_text=True)
    assert 'value="Zoë Ünïcode"' in page
    assert 'value="zoe@example.org"' in page
    assert 'value="@zoe@mastodon.social"' in page
    assert 'value="Café talks"' in page
    assert ">\r\ntoo short</textarea>" in page
    assert '<input checked id="visibility-1"' in page
    assert '<input checked id="consent"' in page


def test_hostile_value_is_escaped_when_the_form_comes_back(app, client):
    data = form_data(app, title='"><script>alert(1)</script>', body="short")
    page = client.post("/ideas", data=data).get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page
    assert html_lib.escape('"><script>alert(1)</script>', quote=True).replace(
        "&#x27;", "&#39;"
    ) in page.replace("&#34;", "&quot;")


def test_crlf_is_normalised_in_the_body(app, client):
    from feedback.db import get_session
    from feedback.models import Submission

    body = "First line\r\nsecond line\r\n\r\nNew paragraph."
    assert client.post("/ideas", data=form_data(app, body=body)).status_code == 303
    with app.app_context():
        stored = get_session().query(Submission).one().body
    assert stored == "First line\nsecond line\n\nNew paragraph."


def test_email_is_stored_normalised(app, client):
    from feedback.db import get_session
    from feedback.models import Submission

    client.post("/ideas", data=form_data(app, email="  Ada@EXAMPLE.org "))
    with app.app_context():
        assert get_session().query(Submission).one().email == "Ada@example.org"


@pytest.mark.parametrize(
    "website",
    [
        "https://example.org",
        "http://blog.example.co.uk/path?q=1#top",
        "https://localhost.example:8080/",
        "@techguy",
        "@HealthITgirl",
        "@priya@mastodon.social",
        "@name.bsky.social",
        "jane.example.org",
        "jane.example.org/blog",
    ],
)
def test_good_websites_and_handles_are_accepted(app, client, website):
    from feedback.db import get_session
    from feedback.models import Submission

    assert client.post("/ideas", data=form_data(app, website=website)).status_code == 303
    with app.app_context():
        stored = get_session().query(Submission).one().website
    # A bare domain is read as an https address.
    assert stored == (website if "://" in website or website[0] == "@" else "https://" + website)


def test_error_summary_lists_every_wrong_field_with_a_link(app, client):
    data = form_data(app, name="", email="nope", body="short")
    page = client.post("/ideas", data=data).get_data(as_text=True)
    assert "Please fix these 3 things and send again" in page
    assert '<a href="#name">Your name</a>: Please tell us your name.' in page
    assert '<a href="#email">Your email</a>: That email address is not valid' in page
    assert '<a href="#body">Your idea</a>: Your idea needs between 10 and 5000' in page


def test_oversized_request_is_a_413_with_a_message(app, client):
    response = client.post("/ideas", data=form_data(app, body="x" * (2 * 1024 * 1024)))
    assert response.status_code == 413
    assert "Request Entity Too Large" in response.get_data(as_text=True)


def test_missing_form_timestamp_asks_to_resend_and_keeps_text(app, client):
    data = form_data(app, started=None)
    response = client.post("/ideas", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "This form had expired. Your text is kept below" in page
    assert "Give bloggers a corner with power strips" in page
    # The form now carries a fresh timestamp, so sending it again works.
    started = page.split('name="started" type="hidden" value="')[1].split('"')[0]
    assert client.post("/ideas", data={**data, "started": started}).status_code == 303
    assert count_submissions(app) == 1


def test_form_left_open_too_long_asks_to_resend(app, client, monkeypatch):
    from feedback import antispam

    monkeypatch.setattr(antispam, "MAX_FORM_AGE", -1)
    response = client.post("/ideas", data=form_data(app))
    assert response.status_code == 400
    assert "This form had expired." in response.get_data(as_text=True)


def test_forged_form_timestamp_is_treated_like_a_missing_one(app, client):
    response = client.post("/ideas", data=form_data(app, started="eyJ0IjoxfQ.forged"))
    assert response.status_code == 400
    assert count_submissions(app) == 0
