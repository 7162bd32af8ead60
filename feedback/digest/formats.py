"""The digest in every format, written entry by entry to a stream. No Flask here.

Reader text is escaped for each format by construction: Markdown escapes, HTML autoescaping,
CSV formula neutralising, JSON by json.dumps, and email headers by the email package. In the
formats people read (md, txt, html, eml) every link a reader typed is also defanged, never a
live link: the organisers' inbox must not become a phishing channel. CSV and JSON are data for
programs and keep the raw values.
"""

import csv
import hashlib
import json
import re
import textwrap
from collections.abc import Iterable, Iterator
from dataclasses import asdict
from datetime import date
from email.message import EmailMessage
from email.utils import format_datetime
from io import StringIO
from typing import TextIO

from jinja2 import Environment, FileSystemLoader, select_autoescape

from feedback import ROOT
from feedback.digest.contents import Entry, Header, Options
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
JSON_VERSION = 1
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
    """The digest's email subject and document title."""
    count = f"{head.total} idea{'s' if head.total != 1 else ''}"
    return f"Ideas for {head.conference}: {period_text(head)} ({count})"


def _grouped(entries: Iterable[Entry]) -> Iterator[tuple[bool, Entry]]:
    """Each entry with whether it opens a new topic group (entries come sorted by topic)."""
    topic = None
    for entry in entries:
        yield entry.topic != topic, entry
        topic = entry.topic


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


def _counts_line(head: Header) -> str:
    return f"{head.total} ideas: {head.public} public, {head.private} private."


def write_markdown(out: TextIO, head: Header, entries: Iterable[Entry]) -> None:
    out.write(f"# {md_escape(subject(head))}\n\n")
    out.write(f"{_counts_line(head)}\n\n")
    for topic, count in head.per_topic:
        out.write(f"- {md_escape(defang(topic))}: {count}\n")
    for first, entry in _grouped(entries):
        if first:
            out.write(f"\n## {md_escape(defang(entry.topic))} (#{entry.topic_slug})\n")
        out.write(f"\n### {md_escape(defang(entry.title))}\n\n")
        out.write(f"*{md_escape(_byline(entry))}*\n\n")
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
    return "public comment" if entry.visibility == "public" else "private note"


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


def _wrap(text: str, indent: str = "") -> str:
    lines = []
    for line in text.split("\n"):
        if not line.strip():
            lines.append("")
            continue
        lines.extend(
            textwrap.wrap(
                line,
                WIDTH,
                initial_indent=indent,
                subsequent_indent=indent,
                break_on_hyphens=False,
            )
        )
    return "\n".join(lines)


def write_text(out: TextIO, head: Header, entries: Iterable[Entry]) -> None:
    title = subject(head)
    out.write(_wrap(title) + "\n" + "=" * min(len(title), WIDTH) + "\n\n")
    out.write(_wrap(_counts_line(head)) + "\n")
    for topic, count in head.per_topic:
        out.write(_wrap(f"{defang(topic)}: {count}", "  ") + "\n")
    for first, entry in _grouped(entries):
        if first:
            heading = f"{defang(entry.topic)} (#{entry.topic_slug})"
            out.write("\n\n" + _wrap(heading) + "\n" + "-" * min(len(heading), WIDTH) + "\n")
        out.write("\n" + _wrap(f"* {defang(entry.title)}") + "\n")
        out.write(_wrap(_byline(entry), "  ") + "\n\n")
        out.write(_wrap(defang(entry.body), "  ") + "\n")
        for label, value in _extras(entry):
            out.write(_wrap(f"{label}: {value}", "  ") + "\n")


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
        groups=_grouped(entries),
        byline=_byline,
        extras=_extras,
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
    for entry in entries:
        row = asdict(entry)
        row["starred"] = "yes" if entry.starred else "no"
        writer.writerow([csv_cell(row[column]) for column in CSV_COLUMNS])


def write_json(
    out: TextIO, head: Header, entries: Iterable[Entry], options: Options | None = None
) -> None:
    """The digest as JSON (schema: docs/digest.schema.json), one item written at a time."""
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
    }
    opening = json.dumps(document, ensure_ascii=False, indent=2)[:-2]
    out.write(opening + ',\n  "items": [')
    separator = "\n    "
    for entry in entries:
        out.write(separator + json.dumps(asdict(entry), ensure_ascii=False, sort_keys=True))
        separator = ",\n    "
    out.write("\n  ]\n}\n")


def build_eml(
    head: Header,
    entries: list[Entry],
    *,
    sender: str,
    recipients: list[str],
    message_id: str,
    sent_at,
) -> EmailMessage:
    """The digest as a complete email: plain text and HTML alternatives."""
    text, html = StringIO(), StringIO()
    write_text(text, head, entries)
    write_html(html, head, entries)
    message = EmailMessage()
    message["From"] = sender
    message["To"] = ", ".join(recipients) if recipients else sender
    message["Subject"] = " ".join(subject(head).split())
    message["Date"] = format_datetime(sent_at)
    message["Message-ID"] = message_id
    # Quoted-printable keeps every line 7-bit and short, as any mail server and client wants.
    message.set_content(text.getvalue(), cte="quoted-printable")
    message.add_alternative(html.getvalue(), subtype="html", cte="quoted-printable")
    # A boundary fixed by the Message-ID, so a sent digest downloads byte for byte the same.
    message.set_boundary("==digest-" + hashlib.sha256(message_id.encode()).hexdigest()[:32])
    return message


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
