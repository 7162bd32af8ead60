"""Atom 1.0 feeds of public ideas, built with ElementTree (escaped by construction)."""

import re
from collections.abc import Iterable
from datetime import datetime
from xml.etree import ElementTree as ET

from feedback.markup import paragraphs
from feedback.models import Submission
from feedback.visibility import public_author

ATOM = "http://www.w3.org/2005/Atom"
ET.register_namespace("", ATOM)


def _tag(name: str) -> str:
    return f"{{{ATOM}}}{name}"


# Characters XML 1.0 cannot carry at all; a second guard behind the forms' checks.
_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _text(parent: ET.Element, name: str, text: str, **attrs) -> ET.Element:
    element = ET.SubElement(parent, _tag(name), attrs)
    element.text = _NOT_XML.sub("\ufffd", text)
    return element


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def atom_feed(
    items: Iterable[Submission],
    *,
    title: str,
    feed_url: str,
    page_url: str,
    idea_url,
    feed_id: str,
    updated: datetime,
) -> bytes:
    """An Atom feed document; ``idea_url(item)`` gives each idea's permalink."""
    root = ET.Element(_tag("feed"))
    _text(root, "title", title)
    _text(root, "id", feed_id)
    _text(root, "updated", _iso(updated))
    ET.SubElement(root, _tag("link"), {"rel": "self", "href": feed_url})
    ET.SubElement(root, _tag("link"), {"rel": "alternate", "type": "text/html", "href": page_url})
    for item in items:
        entry = ET.SubElement(root, _tag("entry"))
        _text(entry, "title", item.shown_title)
        _text(entry, "id", f"{feed_id}:idea:{item.id}")
        _text(entry, "published", _iso(item.created_at))
        _text(entry, "updated", _iso(item.approved_at or item.created_at))
        ET.SubElement(entry, _tag("link"), {"rel": "alternate", "href": idea_url(item)})
        credit = public_author(item)
        author = ET.SubElement(entry, _tag("author"))
        _text(author, "name", credit.name)
        if credit.url:
            _text(author, "uri", credit.url)
        ET.SubElement(entry, _tag("category"), {"term": item.topic.slug, "label": item.topic.name})
        _text(entry, "content", str(paragraphs(item.body)), type="html")
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)
