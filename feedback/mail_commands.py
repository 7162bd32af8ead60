"""`flask mail import PATH...` and `flask mail fetch`: ideas that arrived by email."""

import contextlib
import sys

import click
from flask import current_app
from flask.cli import AppGroup

from feedback import collection, mail_fetch, mail_import
from feedback.db import get_session

mail_cli = AppGroup("mail", help="Ideas that arrived by email, read into the queue.")


@contextlib.contextmanager
def _progress(total: int):
    """A progress bar's update function on a terminal's error stream; a no-op elsewhere."""
    if not sys.stderr.isatty():
        yield lambda _n: None
        return
    with click.progressbar(length=total, label="Reading mail", file=sys.stderr) as bar:
        yield bar.update


def _settings() -> mail_import.Settings:
    return mail_import.Settings.of(current_app.config)


@mail_cli.command("import")
@click.argument("paths", nargs=-1, required=True, metavar="PATH...")
@click.option("--dry-run", is_flag=True, help="List what would be imported; change nothing.")
def import_mail(paths: tuple[str, ...], dry_run: bool) -> None:
    """Read mbox files, Maildir folders and .eml files into the queue, as private notes.

    A message read before (by its Message-ID) adds nothing; auto-replies, bounces and
    mailing-list mail are skipped and counted.
    """
    session = get_session()
    try:
        total, raws = mail_import.messages(paths)
        with _progress(total) as progress:
            summary = mail_import.import_messages(
                session,
                raws,
                _settings(),
                dry_run=dry_run,
                progress=progress,
                report=click.echo if dry_run else lambda _line: None,
            )
    except (ValueError, OSError) as exc:
        session.rollback()
        raise click.ClickException(str(exc)) from None
    prefix = "Dry run, nothing written. " if dry_run else ""
    click.echo(prefix + summary.line())


@mail_cli.command("fetch")
@click.option(
    "--since",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="Only mail the server received on or after this day (default: the day "
    "FEEDBACK_OPENS_AT opens, if set).",
)
@click.option("--dry-run", is_flag=True, help="List what would be imported; change nothing.")
def fetch_mail(since, dry_run: bool) -> None:
    """Read new messages from the IMAP folder in MAIL_IMAP_* into the queue, as `import`
    does; the next fetch starts after the last message read."""
    session = get_session()
    try:
        account = mail_fetch.Account.of(current_app.config)
        opens = collection.window_of(current_app.config).opens_at
        summary = mail_fetch.fetch(
            session,
            account,
            _settings(),
            since=since.date() if since else opens.date() if opens else None,
            dry_run=dry_run,
            progress=_progress,
            report=click.echo if dry_run else lambda _line: None,
        )
    except (ValueError, mail_fetch.FetchError) as exc:
        session.rollback()
        raise click.ClickException(str(exc)) from None
    prefix = "Dry run, nothing written. " if dry_run else ""
    click.echo(prefix + summary.line())
