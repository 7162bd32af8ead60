"""Turn readers' plain text into safe HTML: escaped, with paragraphs and bare links kept."""

import re

from markupsafe import Markup, escape

LINK_REL = "nofollow ugc noopener"

_URL = re.compile(r"https?://[^\s<>\"']+", re.IGNORECASE)
# Punctuation that usually ends a sentence rather than a URL.
_TRAILING = ".,;:!?)]}'\""


def _trim(url: str) -> str:
    while url and url[-1] in _TRAILING:
        # Keep a closing parenthesis that belongs to the URL, as in Wikipedia links.
        if url[-1] == ")" and url.count("(") >= url.count(")"):
            break
        url = url[:-1]
    return url


def _linkify(text: str) -> Markup:
    out: list[str] = []
    pos = 0
    for match in _URL.finditer(text):
        url = match.group(0)
        trimmed = _trim(url)
        out.append(escape(text[pos : match.start()]))
        out.append(Markup('<a href="{0}" rel="{1}">{0}</a>').format(trimmed, LINK_REL))
        pos = match.start() + len(trimmed)
    out.append(escape(text[pos:]))
    return Markup("").join(out)


def paragraphs(text: str) -> Markup:
    """Escape text; blank lines make paragraphs, single newlines make line breaks."""
    blocks = [b.strip("\n") for b in re.split(r"\n\s*\n", text.replace("\r\n", "\n"))]
    html = [
        Markup("<p>{}</p>").format(Markup("<br>\n").join(_linkify(line) for line in b.split("\n")))
        for b in blocks
        if b.strip()
    ]
    return Markup("\n").join(html)


def profile_url(website: str | None, handle_template: str) -> str | None:
    """Where an author's website or social handle points, or None when there is nothing."""
    if not website:
        return None
    if not website.startswith("@"):
        return website
    handle = website[1:]
    user, _, server = handle.partition("@")
    if server:
        return f"https://{server}/@{user}"
    if "." in handle:
        return f"https://bsky.app/profile/{handle}"
    return handle_template.format(handle=handle)
