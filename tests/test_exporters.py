"""Every digest format parsed back and compared with its source; hostile text stays text."""

import csv
import io
import json
import re
from email import message_from_bytes, policy
from email.utils import parsedate_to_datetime
from pathlib import Path

import jsonschema
import pytest
from markdown_it import MarkdownIt

from feedback.db import utcnow
from feedback.digest import formats
from feedback.digest.contents import Entry, Header, Options

SCHEMA = json.loads((Path(__file__).parent.parent / "docs" / "digest.schema.json").read_text())

HOSTILE = (
    '<script>alert("x")</script> [click](javascript:alert(1)) **bold** `code`\n'
    "# not a heading\n> not a quote\n- not a list\n1. not a list\n---\n"
    "=cmd|' /C calc'!A0 & <b>tags</b>"
)


def _head(**changes) -> Header:
    values = {
        "conference": "HIMSS Zoë",
        "period_start": "2026-03-01",
        "period_end": "2026-03-15",
        "total": 3,
        "public": 2,
        "private": 1,
        "per_topic": [("Sessions and speakers", 2), ("Other", 1)],
        "generated": "2026-03-16",
    }
    values.update(changes)
    return Header(**values)


def _entries() -> list[Entry]:
    return [
        Entry(
            id=1,
            topic="Sessions and speakers",
            topic_slug="sessions",
            title="Slides within a day",
            credit="Zoë Ünïcode (Café Clinic)",
            visibility="public",
            received="2026-03-02",
            body="First paragraph with a long line that must be wrapped at seventy-two columns "
            "by the plain text export.\n\nSecond paragraph.",
            starred=True,
            website="https://zoe.example.org",
            email="zoe@example.org",
        ),
        Entry(
            id=2,
            topic="Sessions and speakers",
            topic_slug="sessions",
            title='<img src=x onerror=alert(1)> "title"',
            credit="A reader",
            visibility="private",
            received="2026-03-05",
            body=HOSTILE,
            note='=HYPERLINK("http://evil")',
            updated_since="2026-02-20",
        ),
        Entry(
            id=3,
            topic="Other",
            topic_slug="other",
            title="+SUM(A1:A2)",
            credit="-Minus Name",
            visibility="public",
            received="2026-03-10",
            body="@mention\tand\rmore",
        ),
    ]


def _text(fmt: str) -> str:
    out = io.StringIO()
    formats.write(fmt, out, _head(), _entries(), options=Options())
    return out.getvalue()


def test_csv_parses_back_with_formula_cells_neutralised():
    text = _text("csv")
    assert text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text[1:])))
    assert [int(r["id"]) for r in rows] == [1, 2, 3]
    assert rows[0]["credit"] == "Zoë Ünïcode (Café Clinic)"
    assert rows[0]["starred"] == "yes"
    assert rows[1]["note"] == '\'=HYPERLINK("http://evil")'
    assert rows[2]["title"] == "'+SUM(A1:A2)"
    assert rows[2]["credit"] == "'-Minus Name"
    assert rows[2]["body"] == "'@mention\tand\rmore"
    assert rows[1]["body"] == HOSTILE  # starts with "<": left alone, text stays text
    for row in rows:
        for value in row.values():
            assert not value or value[0] not in "=+-@\t\r"


@pytest.mark.parametrize(
    "value", ["=1+1", "+1", "-1", "@A1", "\t=1", "\r=1", "\n=1", "  =1+1", "\u00a0=1"]
)
def test_csv_cell_neutralises_every_formula_start(value):
    assert formats.csv_cell(value) == "'" + value


def test_json_matches_its_schema_and_the_source():
    document = json.loads(_text("json"))
    jsonschema.validate(document, SCHEMA)
    assert document["version"] == 1
    assert document["counts"]["per_topic"] == [
        {"topic": "Sessions and speakers", "count": 2},
        {"topic": "Other", "count": 1},
    ]
    assert [item["id"] for item in document["items"]] == [1, 2, 3]
    assert document["items"][1]["body"] == HOSTILE
    assert document["items"][0]["credit"] == "Zoë Ünïcode (Café Clinic)"


def test_empty_json_digest_is_valid():
    out = io.StringIO()
    formats.write_json(out, _head(total=0, public=0, private=0, per_topic=[]), [], Options())
    document = json.loads(out.getvalue())
    jsonschema.validate(document, SCHEMA)
    assert document["items"] == []


def test_html_escapes_hostile_text():
    html = _text("html")
    assert "<script>" not in html
    assert "<img src=x" not in html
    assert "&lt;script&gt;" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert 'href="javascript' not in html
    # A reader's website is shown defanged, never linked.
    assert "<a " not in html
    assert "hxxps[://]zoe[.]example[.]org" in html
    assert "Zoë Ünïcode (Café Clinic)" in html
    headings = re.findall(r"<h2[^>]*>([^<]+)<", html)
    assert headings == ["Sessions and speakers ", "Other "]


def test_markdown_escapes_hostile_markdown_and_html():
    text = _text("md")
    rendered = MarkdownIt("commonmark").render(text)
    assert "<script>" not in rendered
    assert "<img" not in rendered
    assert 'href="javascript' not in rendered
    assert "<strong>bold</strong>" not in rendered
    assert "<code>" not in rendered
    assert "<blockquote>" not in rendered
    assert rendered.count("<h1>") == 1
    # Headings: the digest's title, two topics, three ideas; nothing from the readers.
    assert rendered.count("<h2>") == 2
    assert rendered.count("<h3>") == 3
    assert "# not a heading" in rendered
    assert "**bold**" in rendered
    for tag in ("<ol", "<ul", "<li", "<hr", "<a "):
        assert tag not in rendered.split("<h3>", 1)[1], tag
    # Escapes never show: the reader's words come out as typed.
    assert "1. not a list" in rendered
    assert "\\" not in rendered


def test_text_is_wrapped_at_72_columns_and_keeps_paragraphs():
    text = _text("txt")
    assert all(len(line) <= 72 for line in text.splitlines())
    assert "  First paragraph with a long line" in text
    assert "\n\n  Second paragraph." in text
    words = " ".join(text.split())
    assert "updated since the digest of 20 February 2026" in words
    assert "Email: zoe@example.org" in words
    assert "Website: hxxps[://]zoe[.]example[.]org" in words


def test_eml_is_a_complete_multipart_message():
    sent_at = utcnow()
    message = formats.build_eml(
        _head(),
        _entries(),
        sender="Blog Ideas <ideas@example.org>",
        recipients=["Zoë Organiser <zoe.org@example.org>", "team@example.org"],
        message_id="<digest-1@example.org>",
        sent_at=sent_at,
    )
    raw = message.as_bytes()
    assert all(line.isascii() for line in raw.splitlines())
    parsed = message_from_bytes(raw, policy=policy.default)
    assert parsed["Subject"] == "Ideas for HIMSS Zoë: 1 March 2026 to 15 March 2026 (3 ideas)"
    assert parsed["To"].addresses[0].display_name == "Zoë Organiser"
    assert parsed["From"].addresses[0].addr_spec == "ideas@example.org"
    assert parsed["Message-ID"] == "<digest-1@example.org>"
    assert abs((parsedate_to_datetime(parsed["Date"]) - sent_at).total_seconds()) < 1
    assert parsed.get_content_type() == "multipart/alternative"
    plain = parsed.get_body(("plain",)).get_content()
    html = parsed.get_body(("html",)).get_content()
    assert "Zoë Ünïcode (Café Clinic)" in plain
    assert "Zoë Ünïcode (Café Clinic)" in html
    assert "<script>" not in html
