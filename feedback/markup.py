"""Readers' plain text made safe: escaped HTML for the site, and defanged text for mail.

One detector, ``find_links``, decides what looks like a link in reader text. The public site
links the http(s) ones; mail shows every one defanged (``https://evil.example/x`` becomes
``hxxps[://]evil[.]example/x``), because mail clients turn anything that looks like a URL or
a domain into a live link, in plain text and in HTML text alike.
"""

import re
from collections.abc import Callable, Iterator

from markupsafe import Markup, escape

LINK_REL = "nofollow ugc noopener"

# Two-letter country codes (IANA root zone), so "bit.ly", "t.co" and "example.de" count.
_COUNTRY_TLDS = frozenset(
    """
    ac ad ae af ag ai al am ao aq ar as at au aw ax az ba bb bd be bf bg bh bi bj bm bn bo bq
    br bs bt bv bw by bz ca cc cd cf cg ch ci ck cl cm cn co cr cu cv cw cx cy cz de dj dk dm
    do dz ec ee eg er es et eu fi fj fk fm fo fr ga gb gd ge gf gg gh gi gl gm gn gp gq gr gs
    gt gu gw gy hk hm hn hr ht hu id ie il im in io iq ir is it je jm jo jp ke kg kh ki km kn
    kp kr kw ky kz la lb lc li lk lr ls lt lu lv ly ma mc md me mg mh mk ml mm mn mo mp mq mr
    ms mt mu mv mw mx my mz na nc ne nf ng ni nl no np nr nu nz om pa pe pf pg ph pk pl pm pn
    pr ps pt pw py qa re ro rs ru rw sa sb sc sd se sg sh si sj sk sl sm sn so sr ss st su sv
    sx sy sz tc td tf tg th tj tk tl tm tn to tr tt tv tw tz ua ug uk us uy uz va vc ve vg vi
    vn vu wf ws ye yt za zm zw
    """.split()
)
# Common generic TLDs, the reserved ones people use in examples, and a few IDN ones. Not
# every TLD: "Node.js" and "e.g." must stay words. Any TLD counts when a path follows.
_NAMED_TLDS = frozenset(
    """
    com org net edu gov mil int info biz name pro mobi aero coop museum jobs travel asia cat
    app dev page blog site online shop store xyz top club live link click zip mov tech cloud
    email news health care clinic hospital social media digital network systems solutions
    website space world today life events agency academy
    example test invalid localhost local onion
    рф рус укр бел срб мкд қаз 中国 中國 香港 台灣 台湾 新加坡 한국 ไทย भारत مصر ελ ею
    """.split()
)
_TLDS = "|".join(sorted(_COUNTRY_TLDS | _NAMED_TLDS, key=len, reverse=True))
# Schemes a mail client or browser acts on without "//" after the colon.
_SCHEMES = "https?|ftps?|sftp|file|javascript|vbscript|data|mailto|tel|sms|wss?|irc|ssh|smb"
# ASCII dots and the ones IDNA reads as dots (ideographic, full-width, half-width).
_DOTS = ".\u3002\uff0e\uff61"
_DOT = f"[{_DOTS}]"
_LABEL = r"[^\W_][\w-]*"
_REST = r"[^\s<>\"']"
_LINK = re.compile(
    # An email address comes first so its domain is never taken for a link.
    rf"(?P<email>(?<![\w.%+-])[\w.%+-]+@{_LABEL}(?:{_DOT}{_LABEL})+(?![\w/-]|{_DOT}\w))"
    rf"|(?<![a-z0-9])(?:{_SCHEMES}):{_REST}+"
    rf"|(?<![a-z0-9+-])[a-z0-9][a-z0-9+-]*://{_REST}+"
    rf"|(?<![\w.-])www{_DOT}{_LABEL}(?:{_DOT}{_LABEL})*(?::\d{{1,5}})?(?:[/?#]{_REST}*)?"
    rf"|(?<![\w.-])(?P<host>(?:{_LABEL}{_DOT})+)"
    rf"(?:(?P<tld>{_TLDS}|xn--[a-z0-9-]+)(?![\w-])(?::\d{{1,5}})?(?P<path>[/?#]{_REST}*)?"
    rf"|[^\W\d_]{{2,63}}(?::\d{{1,5}})?/{_REST}*)",
    re.IGNORECASE,
)
# Punctuation that usually ends a sentence rather than a URL.
_TRAILING = ".,;:!?)]}'\""
_HTTP = re.compile(r"^https?://", re.IGNORECASE)
_FANG = re.compile(rf"://|[:{_DOTS}]")
_SCHEME_NAME = re.compile(r"\b(h)(tt)(ps?:)|\b(f)(t)(ps?:)", re.IGNORECASE)
# What every kind of _LINK holds: a colon, or a dot between two word characters (an email's
# domain and a bare host have one). Text without either has no link, so _LINK, which tries
# each position, need not read it (most ideas: sentence dots are followed by a space).
_MAY_LINK = re.compile(rf":|[\w-]{_DOT}[^\W_]")


def _trim(url: str) -> str:
    while url and url[-1] in _TRAILING:
        # Keep a closing parenthesis that belongs to the URL, as in Wikipedia links.
        if url[-1] == ")" and url.count("(") >= url.count(")"):
            break
        url = url[:-1]
    return url


def _is_measure(match: re.Match) -> bool:
    """A number with a unit that happens to be a country code: 2.5GB, 3.5mm, 1.In."""
    host, tld = match.group("host"), match.group("tld")
    if not host or not tld or len(tld) != 2 or match.group("path"):
        return False
    return all(label.isdigit() for label in re.split(_DOT, host) if label)


def _spans(text: str) -> Iterator[tuple[int, int]]:
    """Where each link in text starts and ends (emails are skipped)."""
    if not _MAY_LINK.search(text):
        return
    for match in _LINK.finditer(text):
        if match.group("email") or _is_measure(match):
            continue
        link = _trim(match.group(0))
        if not link.endswith(":") and not link.endswith("//"):
            yield match.start(), match.start() + len(link)


def find_links(text: str) -> list[str]:
    """Every link-like token in reader text: with a scheme, www. hosts and bare domains."""
    return [text[start:end] for start, end in _spans(text)]


def count_links(text: str) -> int:
    """How many links find_links sees in text."""
    return sum(1 for _span in _spans(text))


def _unscheme(match: re.Match) -> str:
    first, middle, rest = [g for g in match.groups() if g is not None]
    return first + ("X" if middle.isupper() else "x") * len(middle) + rest


def _defang_link(link: str) -> str:
    link = _SCHEME_NAME.sub(_unscheme, link)
    return _FANG.sub(lambda m: "[.]" if m.group(0) in _DOTS else f"[{m.group(0)}]", link)


def defang(text: str) -> str:
    """Text with every link readable but not clickable: hxxps[://]evil[.]example/x.

    Each link found gets its dots as [.], its colons as [:] (or [://]) and http/ftp as
    hxxp/fxp, so no mail client recognises it. Defang after any cutting: a cut can make one.
    """
    out: list[str] = []
    pos = 0
    for start, end in _spans(text):
        out.append(text[pos:start])
        out.append(_defang_link(text[start:end]))
        pos = end
    out.append(text[pos:])
    return "".join(out)


def _linkify(text: str) -> Markup:
    out: list[str] = []
    pos = 0
    for start, end in _spans(text):
        url = text[start:end]
        # Only web links: javascript:, data: and the others stay text.
        if _HTTP.match(url):
            out.append(escape(text[pos:start]))
            out.append(Markup('<a href="{0}" rel="{1}">{0}</a>').format(url, LINK_REL))
            pos = end
    out.append(escape(text[pos:]))
    return Markup("").join(out)


def _paragraphs(text: str, line: Callable[[str], Markup]) -> Markup:
    blocks = [b.strip("\n") for b in re.split(r"\n\s*\n", text.replace("\r\n", "\n"))]
    html = [
        Markup("<p>{}</p>").format(Markup("<br>\n").join(line(part) for part in b.split("\n")))
        for b in blocks
        if b.strip()
    ]
    return Markup("\n").join(html)


def paragraphs(text: str) -> Markup:
    """Escape text; blank lines make paragraphs, single newlines make line breaks."""
    return _paragraphs(text, _linkify)


def mail_paragraphs(text: str) -> Markup:
    """Like paragraphs, for mail: no links at all, and every link-like text defanged."""
    return _paragraphs(text, lambda part: escape(defang(part)))


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
