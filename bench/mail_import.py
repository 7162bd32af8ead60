"""Time and peak memory of `flask mail import` on a 10 000-message mbox, next to reading the
same mbox with the standard library alone (each message parsed and its text part read).

    .venv/bin/python bench/mail_import.py [--messages 10000] [--database-url URL]

The mbox is made fresh: replies with quoted text and signatures, HTML-only mail, encoded
senders, repeats of the same message, auto-replies, bounces, list mail and attachment-only
messages, in the proportions a blogger's inbox might hold. Each run is its own process, so
its peak resident memory (bench/processes.py) is its own. The import runs twice: the
second finds every message already there.
"""

import argparse
import mailbox
import random
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import processes  # noqa: E402
from bench.front_page import fill  # noqa: E402

WORDS = (
    "bloggers lounge power strips wifi keynote stream captions session speakers slides "
    "hashtag meetup coffee quiet room schedule mobile app badge networking evening "
    "interoperability patients clinicians nurses data privacy"
).split()
BASELINE = """
import email, email.policy, mailbox, sys
box = mailbox.mbox(sys.argv[1], factory=None, create=False)
for key in box.iterkeys():
    message = email.message_from_bytes(box.get_bytes(key), policy=email.policy.default)
    body = message.get_body(("plain", "html"))
    if body is not None:
        body.get_content()
"""


def _text(chooser: random.Random, words: int) -> str:
    return " ".join(chooser.choice(WORDS) for _ in range(words)).capitalize() + "."


def _message(n: int, chooser: random.Random) -> EmailMessage:
    kind = chooser.choices(
        ["plain", "reply", "html", "auto", "bounce", "list", "attachment"],
        weights=[60, 15, 10, 5, 3, 4, 3],
    )[0]
    message = EmailMessage()
    name = f"Reader {n}" if n % 4 else "=?utf-8?b?WsO2ZSDDnG7Dr2PDtmRl?="
    message["From"] = f"{name} <reader{n}@example.org>"
    message["To"] = "blog@example.org"
    message["Subject"] = ("Re: " if kind == "reply" else "") + _text(chooser, 5)
    message["Date"] = format_datetime(datetime(2026, 3, 1, tzinfo=UTC) + timedelta(minutes=n))
    message["Message-ID"] = make_msgid(idstring=str(n), domain="example.org")
    body = "\n\n".join(_text(chooser, chooser.randint(12, 60)) for _ in range(3))
    if kind == "reply":
        body += "\n\nBest,\nReader\n-- \nReader, Example Clinic\n\nOn Mon, 2 Mar 2026, "
        body += "Blog <blog@example.org> wrote:\n> " + _text(chooser, 30) + "\n"
    if kind == "auto":
        message["Auto-Submitted"] = "auto-replied"
    if kind == "list":
        message["List-Id"] = "News <news.example.org>"
    if kind == "bounce":
        message.replace_header("From", "MAILER-DAEMON@mx.example.org")
    if kind == "html":
        message.set_content(
            f"<html><body><p>{body}</p><img src='https://t.example/p.gif'></body></html>",
            subtype="html",
        )
    elif kind == "attachment":
        message.add_attachment(
            b"%PDF-1.4 " * 100, maintype="application", subtype="pdf", filename="slides.pdf"
        )
    else:
        message.set_content(body)
    return message


def make_mbox(path: Path, count: int) -> int:
    """An mbox of ``count`` messages, 3% of them repeats of an earlier one; how many it holds."""
    chooser = random.Random(7)
    box = mailbox.mbox(path)
    made: list[bytes] = []
    for n in range(count):
        if made and chooser.random() < 0.03:
            raw = chooser.choice(made)
        else:
            raw = _message(n, chooser).as_bytes()
            made.append(raw)
        box.add(raw)
    box.close()
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        box = Path(tmp) / "inbox.mbox"
        make_mbox(box, args.messages)
        url = args.database_url or f"sqlite:///{tmp}/mail.sqlite"
        fill(url, 0)
        base = processes.run([sys.executable, "-c", BASELINE, str(box)])
        first = processes.run_flask(url, "mail", "import", str(box))
        again = processes.run_flask(url, "mail", "import", str(box))
    print(f"\n{args.messages:,} messages, {url.split(':', 1)[0]}\n")
    print("| run | seconds | peak MiB | ratio to stdlib parse | summary |")
    print("|---|---:|---:|---:|---|")
    stdlib = f"{base.seconds:.2f} | {base.peak_mib:.0f}"
    print(f"| stdlib: read and parse each message | {stdlib} | 1.00 | |")
    for name, done in [("flask mail import", first), ("the same mbox again", again)]:
        ratio = done.seconds / base.seconds
        summary = done.output.strip().splitlines()[-1]
        print(f"| {name} | {done.seconds:.2f} | {done.peak_mib:.0f} | {ratio:.2f} | {summary} |")


if __name__ == "__main__":
    main()
