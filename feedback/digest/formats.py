"""The digest in every format, written entry by entry to a stream. No Flask here.

The formats people read (md, txt, html, eml) open with the themes readers raised most, then
go topic by topic and, in a topic, theme by theme (label, counts, keywords), with each
idea's folded repeats under it ("also sent by 2 readers", each credited and with its text).
A digest without themes (one recorded before them) reads as it always did.

Reader text is escaped for each format by construction: Markdown escapes, HTML autoescaping,
CSV formula neutralising, JSON by json.dumps, and email headers by the email package. Theme
labels and keywords come from readers' words (or an owner's) and are reader text too. In the
formats people read every link a reader typed is also defanged, never a live link: the
organisers' inbox must not become a phishing channel. CSV and JSON are data for programs and
keep the raw values.
"""

import csv
import email.policy
import hashlib
import json
import re
import textwrap
from collections.abc import Callable, Iterable, Iterator
from contextlib import closing
from dataclasses import asdict, dataclass
from datetime import date
from email import quoprimime
from email.message import EmailMessage
from email.utils import format_datetime
from io import StringIO
from typing import BinaryIO, TextIO

from jinja2 import Environment, FileSystemLoader, select_autoescape

from feedback import ROOT
from feedback.digest.contents import Entry, Header, Options, ThemeCount
from feedback.markup import defang, mail_paragraphs

FORMATS = ("md", "txt", "html", "csv", "json", "eml")
MEDIA_TYPES = {
    "md": "text/markdown; charset=utf-8",
    "txt": "text/plain; charset=utf-8",
    "html": "text/html; charset=utf-8",
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
    "eml": "message/rfc822",
}
JSON_VERSION = 2
MOST_ASKED_TITLE = "What readers asked for most"
WIDTH = 72
CSV_COLUMNS = (
    "id",
    "topic",
    "title",
    "credit",
    "visibility",
    "received",
    "starred",
    "updated_since",
    "body",
    "website",
    "email",
    "note",
    "theme_id",
    "theme_label",
    "duplicate_of",
    "final_digest",
)

_TEMPLATES = ROOT / "templates"
_env = Environment(
    loader=FileSystemLoader(_TEMPLATES),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)
_env.filters["defang"] = defang
_env.filters["mail_paragraphs"] = mail_paragraphs


def period_text(head: Header) -> str:
    """The period a digest covers, in words."""
    start, end = _day(head.period_start), _day(head.period_end)
    if not start and not end:
        return "no ideas"
    if start == end or not end:
        return start
    return f"{start} to {end}"


def _day(iso: str | None) -> str:
    return date.fromisoformat(iso).strftime("%-d %B %Y") if iso else ""


def subject(head: Header) -> str:
    """The digest's email subject and document title (the final one says so first)."""
    count = f"{head.total} idea{'s' if head.total != 1 else ''}"
    final = "Final digest: " if head.final else ""
    return f"{final}Ideas for {head.conference}: {period_text(head)} ({count})"


@dataclass(frozen=True)
class _Block:
    """One idea as the formats people read lay it out, with the repeats folded into it."""

    entry: Entry
    repeats: list[Entry]
    new_topic: bool  # it opens a topic
    heading: ThemeCount | None  # the theme it opens, if it opens one
    theme: ThemeCount | None  # the theme it is in (none in a digest made before themes)


def _folded(entries: Iterable[Entry]) -> Iterator[list[Entry]]:
    """Each idea with the repeats that follow it (entries come in reading order)."""
    group: list[Entry] = []
    for entry in entries:
        if group and entry.duplicate_of == group[0].id:
            group.append(entry)
            continue
        if group:
            yield group
        group = [entry]
    if group:
        yield group


def _blocks(head: Header, entries: Iterable[Entry]) -> Iterator[_Block]:
    """The entries as blocks, each knowing whether it opens a topic or a theme."""
    themes = {theme.id: theme for theme in head.themes}
    topic = group = None
    for entry, *repeats in _folded(entries):
        theme = themes.get(entry.theme)
        opens = (entry.topic, entry.theme) != group
        yield _Block(entry, repeats, entry.topic != topic, theme if opens else None, theme)
        topic, group = entry.topic, (entry.topic, entry.theme)


def _ideas(count: int) -> str:
    return f"{count} idea{'s' if count != 1 else ''}"


def _readers(count: int) -> str:
    return f"Also sent by {count} reader{'s' if count != 1 else ''}"


def _one_line(text: str) -> str:
    """A label or keyword defanged, on one line: it goes in headings and list items."""
    return defang(" ".join(text.split()))


def _theme_label(theme: ThemeCount) -> str:
    return _one_line(theme.label)


def _theme_line(theme: ThemeCount) -> str:
    """A theme's counts and keywords in words, defanged."""
    line = f"{_ideas(theme.count)}: {theme.public} public, {theme.private} private"
    if theme.keywords:
        line += " · keywords: " + ", ".join(_one_line(word) for word in theme.keywords)
    return line


def _most_asked_line(theme: ThemeCount) -> str:
    return f"{_theme_label(theme)} ({_one_line(theme.topic)}): {_theme_line(theme)}"


def _repeat_line(entry: Entry) -> str:
    """A folded repeat's credit and title, defanged."""
    return f"{_byline(entry)}: {defang(entry.title)}"


# Markdown: entities for HTML's characters, backslashes for inline syntax, and the first
# character of a line that would start a heading, quote, list or rule.
_MD_INLINE = re.compile(r"([\\`*_\[\]~|])")
_MD_LINE_START = re.compile(r"^(\s*)(?:([#>+\-=])|(\d+)([.)]))")


def _escape_line_start(match: re.Match) -> str:
    indent, marker, number, dot = match.groups()
    if marker:
        return f"{indent}\\{marker}"
    # "1." starts a list; "1\." does not, and reads the same.
    return f"{indent}{number}\\{dot}"


def md_escape(text: str) -> str:
    """Reader text that Markdown shows as typed, never as markup."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    lines = []
    for line in _MD_INLINE.sub(r"\\\1", text).split("\n"):
        lines.append(_MD_LINE_START.sub(_escape_line_start, line))
    return "\n".join(lines)


def _md_block(text: str) -> str:
    # Keep the author's line breaks (two trailing spaces) and paragraphs.
    return "\n".join(line + "  " if line.strip() else "" for line in md_escape(text).split("\n"))


FINAL_NOTE = "This is the final digest of the collection: no more ideas will follow it."


def _counts_line(head: Header) -> str:
    counts = f"{head.total} ideas: {head.public} public, {head.private} private."
    return f"{FINAL_NOTE} {counts}" if head.final else counts


def write_markdown(out: TextIO, head: Header, entries: Iterable[Entry]) -> None:
    out.write(f"# {md_escape(subject(head))}\n\n")
    out.write(f"{_counts_line(head)}\n\n")
    for topic, count in head.per_topic:
        out.write(f"- {md_escape(defang(topic))}: {count}\n")
    most = head.most_asked()
    if most:
        out.write(f"\n## {MOST_ASKED_TITLE}\n\n")
        for number, theme in enumerate(most, 1):
            rest = f"({_one_line(theme.topic)}): {_theme_line(theme)}"
            out.write(f"{number}. **{md_escape(_theme_label(theme))}** {md_escape(rest)}\n")
    for block in _blocks(head, entries):
        entry = block.entry
        if block.new_topic:
            out.write(f"\n## {md_escape(defang(entry.topic))} (#{entry.topic_slug})\n")
        if block.heading:
            out.write(f"\n### {md_escape(_theme_label(block.heading))}\n\n")
            out.write(f"*{md_escape(_theme_line(block.heading))}*\n")
        level = "####" if block.theme else "###"
        out.write(f"\n{level} {md_escape(defang(entry.title))}\n\n")
        out.write(f"*{md_escape(_byline(entry))}*\n\n")
        _md_text(out, entry)
        if block.repeats:
            out.write(f"\n**{_readers(len(block.repeats))}:**\n")
        for repeat in block.repeats:
            out.write(f"\n*{md_escape(_repeat_line(repeat))}*\n\n")
            _md_text(out, repeat)


def _md_text(out: TextIO, entry: Entry) -> None:
    out.write(_md_block(defang(entry.body)).rstrip() + "\n")
    for label, value in _extras(entry):
        out.write(f"\n{label}: {md_escape(value)}\n")


def _byline(entry: Entry) -> str:
    parts = [defang(entry.credit), _visibility_label(entry), _day(entry.received)]
    if entry.starred:
        parts.append("starred")
    if entry.updated_since:
        parts.append(f"updated since the digest of {_day(entry.updated_since)}")
    return " · ".join(parts)


def _visibility_label(entry: Entry) -> str:
    label = "public comment" if entry.visibility == "public" else "private note"
    return label + " by email" if entry.by_email else label


def _extras(entry: Entry) -> list[tuple[str, str]]:
    """The labelled extras of an entry, defanged: a website is shown, never linked."""
    extras = []
    if entry.website:
        extras.append(("Website", defang(entry.website)))
    if entry.email:
        extras.append(("Email", defang(entry.email)))
    if entry.note:
        extras.append(("Owner's note", defang(entry.note)))
    return extras


def _wrap(text: str, indent: str = "", hang: str | None = None) -> str:
    """Text wrapped at WIDTH, each line indented (after the first by ``hang``, if given)."""
    hang = indent if hang is None else hang
    lines = []
    for line in text.split("\n"):
        if not line.strip():
            lines.append("")
            continue
        lines.extend(
            _wrap_words(line, indent, hang)
            or textwrap.wrap(
                line, WIDTH, initial_indent=indent, subsequent_indent=hang, break_on_hyphens=False
            )
        )
    return "\n".join(lines)


def _wrap_words(line: str, indent: str, hang: str) -> list[str] | None:
    """The lines textwrap.wrap makes of a line of words between single spaces that each fit
    on a line (nearly every line of an idea), at a third of its cost; None for any other."""
    # textwrap drops the spaces that end a line.
    words = line.rstrip(" ").split(" ")
    # Any other whitespace, or spaces at the start or side by side, make the two differ.
    if words != line.split() or max(map(len, words)) > WIDTH - max(len(indent), len(hang)):
        return None
    lines = []
    prefix, room = indent, WIDTH - len(indent)
    start, used = 0, -1
    for end, word in enumerate(words):
        if used + 1 + len(word) > room:
            lines.append(prefix + " ".join(words[start:end]))
            prefix, room = hang, WIDTH - len(hang)
            start, used = end, -1
        used += 1 + len(word)
    lines.append(prefix + " ".join(words[start:]))
    return lines


def write_text(out: TextIO, head: Header, entries: Iterable[Entry]) -> None:
    title = subject(head)
    out.write(_wrap(title) + "\n" + "=" * min(len(title), WIDTH) + "\n\n")
    out.write(_wrap(_counts_line(head)) + "\n")
    for topic, count in head.per_topic:
        out.write(_wrap(f"{defang(topic)}: {count}", "  ") + "\n")
    most = head.most_asked()
    if most:
        out.write(_underlined(MOST_ASKED_TITLE))
        for number, theme in enumerate(most, 1):
            mark = f"{number}. "
            line = _wrap(f"{mark}{_most_asked_line(theme)}", "  ", " " * (2 + len(mark)))
            out.write("\n" + line + "\n")
    for block in _blocks(head, entries):
        entry = block.entry
        if block.new_topic:
            out.write(_underlined(f"{defang(entry.topic)} (#{entry.topic_slug})"))
        if block.heading:
            out.write("\n" + _wrap(f"Theme: {_theme_label(block.heading)}") + "\n")
            out.write(_wrap(_theme_line(block.heading), "  ") + "\n")
        out.write("\n" + _wrap(f"* {defang(entry.title)}") + "\n")
        out.write(_wrap(_byline(entry), "  ") + "\n\n")
        _text_body(out, entry, "  ")
        if block.repeats:
            out.write("\n" + _wrap(f"{_readers(len(block.repeats))}:", "  ") + "\n")
        for repeat in block.repeats:
            out.write("\n" + _wrap(f"- {_repeat_line(repeat)}", "  ", "    ") + "\n")
            _text_body(out, repeat, "    ")


def _underlined(heading: str) -> str:
    return "\n\n" + _wrap(heading) + "\n" + "-" * min(len(heading), WIDTH) + "\n"


def _text_body(out: TextIO, entry: Entry, indent: str) -> None:
    out.write(_wrap(defang(entry.body), indent) + "\n")
    for label, value in _extras(entry):
        out.write(_wrap(f"{label}: {value}", indent) + "\n")


def write_html(
    out: TextIO, head: Header, entries: Iterable[Entry], fragment: bool = False
) -> None:
    """A self-contained page with inline styles (mail clients drop style sheets), or only
    its body as a fragment for the owner's preview."""
    template = _env.get_template("email/_digest_body.html" if fragment else "email/digest.html")
    for chunk in template.generate(
        head=head,
        title=subject(head),
        period=period_text(head),
        most_asked=head.most_asked(),
        most_asked_title=MOST_ASKED_TITLE,
        final_note=FINAL_NOTE,
        blocks=_blocks(head, entries),
        byline=_byline,
        extras=_extras,
        theme_label=_theme_label,
        theme_line=_theme_line,
        one_line=_one_line,
        readers=_readers,
        repeat_line=_repeat_line,
    ):
        out.write(chunk)


def csv_cell(value: object) -> str:
    """A cell spreadsheet programs show as text, never run as a formula."""
    text = "" if value is None else str(value)
    # Some programs trim leading spaces before deciding; look past them too.
    stripped = text.lstrip(" \u00a0")
    if text and (text[0] in "=+-@\t\r\n" or (stripped and stripped[0] in "=+-@")):
        return "'" + text
    return text


def write_csv(out: TextIO, head: Header, entries: Iterable[Entry]) -> None:
    # Raw values, links not defanged: CSV is data for programs, which do not follow links.
    # The byte-order mark tells spreadsheet programs the file is UTF-8 (accents intact).
    out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    labels = {theme.id: theme.label for theme in head.themes}
    for entry in entries:
        row = entry.as_dict()
        row["starred"] = "yes" if entry.starred else "no"
        row["theme_id"] = entry.theme
        row["theme_label"] = labels.get(entry.theme)
        row["final_digest"] = "yes" if head.final else "no"
        writer.writerow([csv_cell(row[column]) for column in CSV_COLUMNS])


def write_json(
    out: TextIO, head: Header, entries: Iterable[Entry], options: Options | None = None
) -> None:
    """The digest as JSON (schema: docs/digest.schema.json), one item written at a time.

    The themes come after the items, which name their ideas as they go by.
    """
    # Raw values, links not defanged: JSON is data for programs, which do not follow links.
    document = {
        "version": JSON_VERSION,
        "conference": head.conference,
        "title": subject(head),
        "period": {"start": head.period_start, "end": head.period_end},
        "generated": head.generated,
        "counts": {
            "total": head.total,
            "public": head.public,
            "private": head.private,
            "per_topic": [{"topic": t, "count": c} for t, c in head.per_topic],
        },
        "options": json.loads(options.to_json()) if options else None,
        "final": head.final,
    }
    opening = json.dumps(document, ensure_ascii=False, indent=2)[:-2]
    out.write(opening + ',\n  "items": [')
    ideas: dict[int, list[int]] = {theme.id: [] for theme in head.themes}
    separator = "\n    "
    for entry in entries:
        out.write(separator + json.dumps(entry.as_dict(), ensure_ascii=False, sort_keys=True))
        separator = ",\n    "
        if entry.theme in ideas:
            ideas[entry.theme].append(entry.id)
    out.write('\n  ],\n  "themes": [')
    separator = "\n    "
    for theme in head.themes:
        data = {**asdict(theme), "count": theme.count, "ideas": ideas[theme.id]}
        out.write(separator + json.dumps(data, ensure_ascii=False, sort_keys=True))
        separator = ",\n    "
    out.write("\n  ]\n}\n")


def build_eml(head: Header, entries: Iterable[Entry], **addressing) -> EmailMessage:
    """The digest as a complete email in memory (to send it): plain text and HTML parts.

    ``addressing``: sender, recipients, message_id, sent_at.
    """
    text, html = StringIO(), StringIO()
    entries = list(entries)
    write_text(text, head, entries)
    write_html(html, head, entries)
    return _email(head, text.getvalue(), html.getvalue(), **addressing)


def write_eml(
    out: BinaryIO, head: Header, entries: Callable[[], Iterable[Entry]], **addressing
) -> None:
    """The same bytes as ``build_eml(...).as_bytes()``, each part encoded as it is written,
    so memory stays flat however many ideas there are. ``entries`` is read twice, once for
    each part."""
    skeleton = _email(head, _TEXT_MARK, _HTML_MARK, **addressing).as_bytes()
    # Looked for from the end: the headers before the parts may hold the same words.
    rest, after = skeleton.rsplit(f"\n\n{_HTML_MARK}\n".encode(), 1)
    before, between = rest.rsplit(f"\n\n{_TEXT_MARK}\n".encode(), 1)
    before, between = before + b"\n\n", between + b"\n\n"
    out.write(before)
    with closing(_QuotedPrintable(out)) as part:
        write_text(part, head, entries())
    out.write(between)
    with closing(_QuotedPrintable(out)) as part:
        write_html(part, head, entries())
    out.write(after)


# Stand-ins for the parts' text while the email's frame is built (quoted-printable as is).
_TEXT_MARK = "DIGESTPLAINTEXTPART"
_HTML_MARK = "DIGESTHTMLPART"


def _email(
    head: Header,
    text: str,
    html: str,
    *,
    sender: str,
    recipients: list[str],
    message_id: str,
    sent_at,
) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = ", ".join(recipients) if recipients else sender
    message["Subject"] = " ".join(subject(head).split())
    message["Date"] = format_datetime(sent_at)
    message["Message-ID"] = message_id
    # Quoted-printable keeps every line 7-bit and short, as any mail server and client wants.
    message.set_content(text, cte="quoted-printable")
    message.add_alternative(html, subtype="html", cte="quoted-printable")
    # A boundary fixed by the Message-ID, so a sent digest downloads byte for byte the same.
    message.set_boundary("==digest-" + hashlib.sha256(message_id.encode()).hexdigest()[:32])
    return message


class _QuotedPrintable:
    """A text stream that writes what it is given quoted-printable, whole lines at a time
    (about 64 KiB of them), exactly as the email package encodes a whole part: it encodes
    line by line too, so where the text is cut between lines changes nothing."""

    BATCH = 1 << 16

    def __init__(self, out: BinaryIO):
        self.out = out
        self.pending: list[str] = []
        self.size = 0

    def write(self, text: str) -> int:
        self.pending.append(text)
        self.size += len(text)
        if self.size >= self.BATCH:
            held = "".join(self.pending)
            end = held.rfind("\n") + 1
            if end:
                self._encode(held[:end])
            self.pending = [held[end:]]
            self.size = len(self.pending[0])
        return len(text)

    def close(self) -> None:
        rest = "".join(self.pending)
        if rest:
            self._encode(rest)

    def _encode(self, lines: str) -> None:
        # What email.contentmanager does with a part's text: UTF-8, lines ending in \n.
        body = b"\n".join(lines.encode("utf-8").splitlines()) + b"\n"
        encoded = quoprimime.body_encode(
            body.decode("latin-1"), email.policy.default.max_line_length
        )
        self.out.write(encoded.encode("ascii"))


def write(fmt: str, out: TextIO, head: Header, entries: Iterable[Entry], **kwargs) -> None:
    """Write one of the text formats (all but eml)."""
    if fmt == "md":
        write_markdown(out, head, entries)
    elif fmt == "txt":
        write_text(out, head, entries)
    elif fmt == "html":
        write_html(out, head, entries)
    elif fmt == "csv":
        write_csv(out, head, entries)
    elif fmt == "json":
        write_json(out, head, entries, kwargs.get("options"))
    else:
        raise ValueError(f"Unknown format {fmt!r}; use one of {', '.join(FORMATS)}.")
