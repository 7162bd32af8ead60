"""Reader text to HTML: escaped, paragraphs and bare links kept; profile links."""

import pytest

from feedback.markup import paragraphs, profile_url


def test_paragraphs_and_line_breaks():
    assert paragraphs("One\ntwo\n\n\nThree") == "<p>One<br>\ntwo</p>\n<p>Three</p>"


def test_everything_is_escaped():
    out = paragraphs('<script>alert("x")</script> & <a href="javascript:1">y</a>')
    assert "<script>" not in out
    assert "<a href" not in out
    assert "&lt;script&gt;" in out
    assert "&amp;" in out


@pytest.mark.parametrize(
    ("text", "href"),
    [
        ("see https://example.org.", "https://example.org"),
        ("(https://example.org/x)", "https://example.org/x"),
        ("https://en.wikipedia.org/wiki/HIMSS_(organization)", None),
        ("http://example.org/?a=1&b=2", "http://example.org/?a=1&amp;b=2"),
    ],
)
def test_bare_links(text, href):
    out = paragraphs(text)
    expected = href or text
    assert f'<a href="{expected}" rel="nofollow ugc noopener">' in out


def test_link_cannot_break_out_of_its_attribute():
    out = paragraphs('https://example.org/"onmouseover="alert(1)')
    assert 'href="https://example.org/"' in out
    assert 'onmouseover="' not in out


def test_javascript_urls_are_never_linked():
    assert "<a" not in paragraphs("javascript:alert(1) and data:text/html,x")


@pytest.mark.parametrize(
    ("website", "url"),
    [
        (None, None),
        ("", None),
        ("https://example.org", "https://example.org"),
        ("@techguy", "https://x.com/techguy"),
        ("@priya@mastodon.social", "https://mastodon.social/@priya"),
        ("@name.bsky.social", "https://bsky.app/profile/name.bsky.social"),
    ],
)
def test_profile_url(website, url):
    assert profile_url(website, "https://x.com/{handle}") == url
