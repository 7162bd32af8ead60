"""`flask mail fetch`: new messages from an IMAP folder, read in as `flask mail import` reads
files (feedback/mail_import.py), with the standard library's imaplib.

The folder is opened read-only and messages are fetched with BODY.PEEK, so nothing on the
server changes (not even the \\Seen flag). Where it got to is kept per account and folder
(MailFolder): the next fetch asks only for UIDs after the last one read, unless the folder's
UIDVALIDITY changed, when it reads the folder again and the Message-IDs keep it from adding
anything twice.
"""

import contextlib
import imaplib
import re
import ssl
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import Session

from feedback import mail_import
from feedback.models import MailFolder

TIMEOUT = 30


class FetchError(Exception):
    """The IMAP server could not be used; the message says why, in one line."""


@dataclass(frozen=True)
class Account:
    """Where to fetch from: the MAIL_IMAP_* settings."""

    host: str
    port: int
    user: str
    password: str
    folder: str
    tls: bool
    ca_file: str | None

    @classmethod
    def of(cls, config) -> "Account":
        """:raise ValueError: naming the setting that is missing or unusable."""
        missing = [
            f"MAIL_IMAP_{name}"
            for name in ("HOST", "USER", "PASSWORD")
            if not config.get(f"MAIL_IMAP_{name}")
        ]
        if missing:
            raise ValueError(f"Set {', '.join(missing)} to fetch mail over IMAP.")
        folder = config["MAIL_IMAP_FOLDER"]
        if not folder or re.search(r"[\x00-\x1f\x7f]", folder) or not folder.isascii():
            raise ValueError("MAIL_IMAP_FOLDER must be a folder name in plain ASCII on one line.")
        tls = bool(config["MAIL_IMAP_TLS"])
        ca_file = config.get("MAIL_IMAP_CA_FILE") or None
        if ca_file and not Path(ca_file).is_file():
            raise ValueError(f"MAIL_IMAP_CA_FILE: there is no file {ca_file}.")
        return cls(
            host=config["MAIL_IMAP_HOST"],
            port=int(config["MAIL_IMAP_PORT"] or (993 if tls else 143)),
            user=config["MAIL_IMAP_USER"],
            password=config["MAIL_IMAP_PASSWORD"],
            folder=folder,
            tls=tls,
            ca_file=ca_file,
        )

    @property
    def key(self) -> str:
        return f"{self.user}@{self.host}:{self.port}/{self.folder}"


def _quoted(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


@contextlib.contextmanager
def _opened(account: Account) -> Iterator[imaplib.IMAP4]:
    """A logged-in connection with the folder selected read-only; logged out after."""
    try:
        if account.tls:
            context = ssl.create_default_context(cafile=account.ca_file)
            imap = imaplib.IMAP4_SSL(
                account.host, account.port, ssl_context=context, timeout=TIMEOUT
            )
        else:
            imap = imaplib.IMAP4(account.host, account.port, timeout=TIMEOUT)
    except (OSError, imaplib.IMAP4.error) as exc:
        raise FetchError(f"Could not reach {account.host}:{account.port}: {exc}") from None
    try:
        try:
            _login(imap, account.user, account.password)
        except imaplib.IMAP4.error:
            raise FetchError(f"{account.host} refused the login of {account.user}.") from None
        status, _data = imap.select(_quoted(account.folder), readonly=True)
        if status != "OK":
            raise FetchError(f"{account.host} has no folder {account.folder!r}.")
        yield imap
    except (OSError, imaplib.IMAP4.error) as exc:
        raise FetchError(f"The IMAP connection failed: {exc}") from None
    finally:
        with contextlib.suppress(OSError, imaplib.IMAP4.error):
            imap.logout()


def _login(imap: imaplib.IMAP4, user: str, password: str) -> None:
    if user.isascii() and password.isascii():
        imap.login(user, password)
        return
    # LOGIN takes ASCII only; AUTHENTICATE PLAIN carries UTF-8 (RFC 4616).
    credentials = f"\0{user}\0{password}".encode()
    imap.authenticate("PLAIN", lambda _challenge: credentials)


def _message(imap: imaplib.IMAP4, uid: int) -> bytes:
    _status, data = imap.uid("FETCH", str(uid), "(BODY.PEEK[])")
    return next((part[1] for part in data if isinstance(part, tuple)), b"")


def fetch(
    session: Session,
    account: Account,
    settings: mail_import.Settings,
    *,
    since: date | None = None,
    dry_run: bool = False,
    progress: Callable[[int], contextlib.AbstractContextManager] | None = None,
    report: Callable[[str], None] = lambda _line: None,
) -> mail_import.Summary:
    """Read the folder's new messages in (only those the server received on or after
    ``since``, if given), remembering after each batch the last one read (not with
    ``dry_run``), so an interrupted fetch goes on where it stopped.

    ``progress(total)`` is a context manager giving a function to call per message.
    """
    summary = mail_import.Summary()
    with _opened(account) as imap:
        validity = int(imap.response("UIDVALIDITY")[1][0])
        state = session.scalar(sa.select(MailFolder).where(MailFolder.account == account.key))
        if state is None:
            state = MailFolder(account=account.key, uid_validity=validity, last_uid=0)
        elif state.uid_validity != validity:
            state.uid_validity, state.last_uid = validity, 0
        start = state.last_uid + 1
        criteria = f"UID {start}:*" + (f" SINCE {since:%d-%b-%Y}" if since else "")
        _status, data = imap.uid("SEARCH", None, criteria)
        # "n:*" holds the highest UID even when it is below n: keep only the new ones.
        uids = sorted(uid for uid in map(int, data[0].split()) if uid >= start)
        bar = progress(len(uids)) if progress else contextlib.nullcontext(lambda _n: None)
        with bar as step:
            for first in range(0, len(uids), mail_import.BATCH):
                batch = uids[first : first + mail_import.BATCH]
                summary += mail_import.import_messages(
                    session,
                    (_message(imap, uid) for uid in batch),
                    settings,
                    dry_run=dry_run,
                    progress=step,
                    report=report,
                )
                if not dry_run:
                    state.last_uid = batch[-1]
                    session.add(state)
                    session.commit()
    return summary
