"""Every digest format parsed back and compared with its source; hostile text stays text."""

import csv
import io
import json
import random
import re
import textwrap
from dataclasses import replace
from email import message_from_bytes, policy
from email.utils import parsedate_to_datetime
from pathlib import Path

import jsonschema
import pytest
from markdown_it import MarkdownIt

from feedback.db import utcnow
from feedback.digest import formats
from feedback.digest.contents import Entry, Header, Options, ThemeCount

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
    # The theme columns come after the idea's, empty for entries without themes, then
    # whether this is the final digest.
    assert list(rows[0])[-4:] == ["theme_id", "theme_label", "duplicate_of", "final_digest"]
    assert {r["final_digest"] for r in rows} == {"no"}
    assert {(r["theme_id"], r["theme_label"], r["duplicate_of"]) for r in rows} == {("", "", "")}


@pytest.mark.parametrize(
    "value", ["=1+1", "+1", "-1", "@A1", "\t=1", "\r=1", "\n=1", "  =1+1", "\u00a0=1"]
)
def test_csv_cell_neutralises_every_formula_start(value):
    assert formats.csv_cell(value) == "'" + value


def test_json_matches_its_schema_and_the_source():
    # Entries without themes, as a digest recorded before themes holds them.
    document = json.loads(_text("json"))
    jsonschema.validate(document, SCHEMA)
    assert document["version"] == 2
    assert document["themes"] == []
    assert {(item["theme"], item["duplicate_of"]) for item in document["items"]} == {(None, None)}
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
    assert document["themes"] == []


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


def test_text_wraps_every_line_as_textwrap_does():
    """The quick wrap for plain lines of words gives textwrap's lines, and hands it the rest."""
    pieces = ["a", "bb", "word", "é", "x" * 30, "y" * 69, "z" * 75, "a-b", " ", "  ", "\t"]
    pieces += ["\u00a0", "\u3000", "\x1c", " " * 80]
    chooser = random.Random(5)
    for _ in range(20_000):
        line = "".join(chooser.choice(pieces) for _ in range(chooser.randint(1, 40)))
        if not line.strip():
            continue
        indent = chooser.choice(["", "  ", "    "])
        hang = chooser.choice([indent, "    "])
        wanted = textwrap.wrap(
            line, 72, initial_indent=indent, subsequent_indent=hang, break_on_hyphens=False
        )
        assert formats._wrap(line, indent, hang) == "\n".join(wanted), repr(line)


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


def test_eml_written_as_it_is_encoded_is_byte_for_byte_the_whole_message():
    """The streamed .eml (downloads and exports) against the email package's own message."""
    tricky = [
        replace(entry, body=entry.body + extra)
        for entry, extra in zip(
            _entries(),
            [
                " trailing spaces   \n=3D literal \u2028 line separator \x85 next line",
                "\r\nCRLF and a lone \r and emoji 🙂 " + "long-" * 40 + "\n\n\n",
                "\f form feed, \v tab, = at the end=",
            ],
            strict=True,
        )
    ]
    cases = [
        (_head(), tricky),
        _themed(),
        (_head(total=0), []),
        (_head(conference=f"{formats._TEXT_MARK} {formats._HTML_MARK}"), tricky),
    ]
    for head, entries in cases:
        addressing = {
            "sender": "Blog Ideas <ideas@example.org>",
            "recipients": ["Zoë Organiser <zoe.org@example.org>"],
            "message_id": "<digest-7@example.org>",
            "sent_at": utcnow(),
        }
        streamed = io.BytesIO()
        formats.write_eml(streamed, head, lambda entries=entries: iter(entries), **addressing)
        whole = formats.build_eml(head, entries, **addressing).as_bytes()
        assert streamed.getvalue() == whole
        plain = message_from_bytes(whole, policy=policy.default).get_body(("plain",))
        for entry in entries:
            assert entry.title in plain.get_content()


def _themed() -> tuple[Header, list[Entry]]:
    """The same entries in two themes, the second idea folded into the first as its repeat."""
    first, second, third = _entries()
    themes = [
        ThemeCount(7, "Sessions and speakers", "Slides, <b>speakers</b>", ("slides",), 1, 1),
        ThemeCount(9, "Other", "Sums", ("sum", "=cmd"), 1, 0),
    ]
    entries = [
        replace(first, theme=7),
        replace(second, theme=7, duplicate_of=1),
        replace(third, theme=9),
    ]
    return _head(themes=themes), entries


@pytest.mark.parametrize("fmt", ["md", "txt", "html"])
def test_themes_and_folded_repeats_in_the_formats_people_read(fmt):
    head, entries = _themed()
    out = io.StringIO()
    formats.write(fmt, out, head, entries)
    text = out.getvalue()
    if fmt == "md":
        text = MarkdownIt("commonmark").render(text)
        assert text.count("<h3>") == 2 and text.count("<h4>") == 2
        assert "<b>" not in text and "&lt;b&gt;speakers&lt;/b&gt;" in text
    if fmt == "html":
        assert re.findall(r"<h3[^>]*>([^<]+)<", text) == [
            "Slides, &lt;b&gt;speakers&lt;/b&gt;",
            "Sums",
        ]
        assert len(re.findall(r"<h4[^>]*>", text)) == 2
    words = " ".join(text.split())
    assert "What readers asked for most" in words
    assert "2 ideas: 1 public, 1 private" in words
    assert "Also sent by 1 reader" in words
    # The repeat's credit and text come under the idea it repeats, before the next theme.
    repeat = words.index("Also sent by")
    assert (
        words.index("Slides") < repeat < words.index("not a heading") < words.index("Sums", repeat)
    )


def test_themes_in_csv_and_json():
    head, entries = _themed()
    out = io.StringIO()
    formats.write_csv(out, head, entries)
    rows = list(csv.DictReader(io.StringIO(out.getvalue()[1:])))
    assert list(rows[0])[: len(formats.CSV_COLUMNS) - 3] == list(formats.CSV_COLUMNS[:-3])
    assert [(r["theme_id"], r["theme_label"], r["duplicate_of"]) for r in rows] == [
        ("7", "Slides, <b>speakers</b>", ""),
        ("7", "Slides, <b>speakers</b>", "1"),
        ("9", "Sums", ""),
    ]
    out = io.StringIO()
    formats.write_json(out, head, entries, Options())
    document = json.loads(out.getvalue())
    jsonschema.validate(document, SCHEMA)
    assert document["themes"] == [
        {
            "id": 7,
            "topic": "Sessions and speakers",
            "label": "Slides, <b>speakers</b>",
            "keywords": ["slides"],
            "count": 2,
            "public": 1,
            "private": 1,
            "ideas": [1, 2],
        },
        {
            "id": 9,
            "topic": "Other",
            "label": "Sums",
            "keywords": ["sum", "=cmd"],
            "count": 1,
            "public": 1,
            "private": 0,
            "ideas": [3],
        },
    ]
    assert [(i["theme"], i["duplicate_of"]) for i in document["items"]] == [
        (7, None),
        (7, 1),
        (9, None),
    ]
