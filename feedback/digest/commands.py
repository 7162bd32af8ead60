"""The digest's commands: `flask digest preview | export | send | list`."""

import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from feedback import moderation, topics
from feedback.db import DateRangeError, check_date_range, get_session
from feedback.digest import contents, delivery, formats
from feedback.models import Digest
from feedback.query_args import MAX_ID

digest_cli = AppGroup("digest", help="Build, export and send the digest for the organisers.")


def _digest_options(command):
    """The options every digest command shares."""
    day = click.DateTime(formats=["%Y-%m-%d"])
    for decorator in reversed(
        [
            click.option("--since", type=day, help="Only ideas received on or after this day."),
            click.option("--until", type=day, help="Only ideas received up to this day."),
            click.option("--no-private", is_flag=True, help="Leave private notes out."),
            click.option("--anonymise", is_flag=True, help="Credit every author as a reader."),
            click.option("--starred-only", is_flag=True, help="Only starred ideas."),
            click.option("--topic", "topics", multiple=True, help="Only this topic (slug)."),
            click.option("--include-notes", is_flag=True, help="Add the owners' notes."),
            click.option("--include-contact", is_flag=True, help="Add authors' emails."),
            click.option("--final", is_flag=True, help="The final digest of the collection."),
        ]
    ):
        command = decorator(command)
    return command


def _options(since, until, no_private, anonymise, starred_only, slugs, notes, contact, final):
    """The digest options from the command line, checked like the owner's form checks them."""
    since, until = since.date() if since else None, until.date() if until else None
    try:
        check_date_range(since, until)
    except DateRangeError as exc:
        raise click.BadParameter(str(exc), param_hint=f"--{exc.which}") from None
    known = {topic.slug for topic in topics.list_topics(get_session())}
    unknown = sorted(set(slugs) - known)
    if unknown:
        raise click.BadParameter(
            f"no topic {', '.join(unknown)}; known: {', '.join(sorted(known))}.",
            param_hint="--topic",
        )
    return contents.Options(
        include_private=not no_private,
        anonymise=anonymise,
        since=since,
        until=until,
        starred_only=starred_only,
        topics=tuple(slugs),
        include_notes=notes,
        include_contact=contact,
        final=final,
    )


def _progress(entries, total: int, enabled: bool):
    """Entries, with a progress bar on the terminal's error stream for long exports."""
    if not enabled:
        yield from entries
        return
    with click.progressbar(length=total, label="Exporting", file=sys.stderr) as bar:
        for entry in entries:
            yield entry
            bar.update(1)


def _write_export(fmt: str, out_path: str | None, export: delivery.Rendition, bar: bool) -> None:
    if fmt == "eml":
        if out_path:
            with open(out_path, "wb") as out:
                export.write_eml(out)
        else:
            export.write_eml(click.get_binary_stream("stdout"))
        return
    entries = _progress(export.entries(), export.head.total, bar)
    if out_path:
        # newline="" keeps the CSV module's CRLF line ends as they are.
        with open(out_path, "w", encoding="utf-8", newline="") as out:
            formats.write(fmt, out, export.head, entries, options=export.options)
    else:
        formats.write(fmt, sys.stdout, export.head, entries, options=export.options)


@digest_cli.command("preview")
@_digest_options
def digest_preview(**kwargs) -> None:
    """Show the next digest as plain text, and its fingerprint, without recording anything."""
    session = get_session()
    options = _options(*_option_values(kwargs))
    # Taken before the text is read, as on the owner's page: what arrives later is refused.
    expect = contents.selection_fingerprint(session, options)
    head = contents.header(session, options, current_app.config["CONFERENCE_NAME"])
    entries = (entry for _item, entry in contents.new_entries(session, options))
    formats.write_text(sys.stdout, head, entries)
    # On standard error, so the digest text can still be piped or redirected on its own.
    click.echo(
        f"Fingerprint: {expect} (send or mark exactly this with the same options and "
        f"--expect {expect})",
        err=True,
    )


_EXPECT = click.option(
    "--expect",
    metavar="FINGERPRINT",
    help="Refuse unless the ideas are those `flask digest preview` showed with this fingerprint.",
)


def _refused(session, exc: contents.DigestError) -> click.ClickException:
    """The error to exit with; nothing that was about to be recorded is kept."""
    session.rollback()
    if isinstance(exc, contents.SelectionChanged):
        return click.ClickException(
            "The ideas changed since the preview with that fingerprint; nothing was sent or "
            "recorded. Run `flask digest preview` again and pass its new fingerprint to --expect."
        )
    return click.ClickException(str(exc))


def _option_values(kwargs: dict) -> tuple:
    return (
        kwargs["since"],
        kwargs["until"],
        kwargs["no_private"],
        kwargs["anonymise"],
        kwargs["starred_only"],
        kwargs["topics"],
        kwargs["include_notes"],
        kwargs["include_contact"],
        kwargs["final"],
    )


_DIGEST_ID = click.IntRange(1, MAX_ID)


@digest_cli.command("export")
@click.option("--format", "fmt", type=click.Choice(formats.FORMATS), required=True)
@click.option("--out", "out_path", type=click.Path(dir_okay=False), help="File to write.")
@click.option("--digest", "digest_id", type=_DIGEST_ID, help="Export a sent digest again.")
@click.option("--mark-sent", is_flag=True, help="Record the digest as sent to the organisers.")
@_EXPECT
@_digest_options
def digest_export(
    fmt: str,
    out_path: str | None,
    digest_id: int | None,
    mark_sent: bool,
    expect: str | None,
    **kw,
):
    """Write the next digest (or a sent one) in one format, to a file or standard output."""
    session = get_session()
    config = current_app.config
    if digest_id is not None and mark_sent:
        raise click.UsageError("--digest exports a digest already sent; drop --mark-sent.")
    if mark_sent and not out_path:
        raise click.UsageError(
            "--mark-sent needs --out, so the digest is written before it counts."
        )
    if expect is not None and not mark_sent:
        raise click.UsageError("--expect checks a digest being recorded; add --mark-sent.")
    options = _options(*_option_values(kw))
    if mark_sent:
        _export_and_mark(session, config, fmt, Path(out_path), options, expect)
        return
    digest = None
    if digest_id is not None:
        digest = session.get(Digest, digest_id)
        if digest is None:
            raise click.ClickException(f"There is no digest {digest_id}; see `flask digest list`.")
    export = delivery.rendition(session, config, options=options, digest=digest)
    show_bar = bool(out_path) and sys.stderr.isatty() and export.head.total >= 1000
    _write_export(fmt, out_path, export, show_bar)
    if out_path:
        click.echo(f"Wrote {export.head.total} ideas as {fmt} to {out_path}.", err=True)


def _export_and_mark(session, config, fmt: str, out: Path, options, expect: str | None) -> None:
    """Record the digest, write it from what was recorded, and only then let it count.

    If writing fails (a missing folder, a full disk), nothing is recorded.
    """
    try:
        digest = delivery.mark_sent(
            session, config, options, created_by=moderation.COMMAND_LINE, expected=expect
        )
    except contents.DigestError as exc:
        raise _refused(session, exc) from exc
    sent = delivery.rendition(session, config, digest=digest)
    partial = out.with_name(out.name + ".partial")
    try:
        _write_export(fmt, str(partial), sent, sys.stderr.isatty() and sent.head.total >= 1000)
    except OSError as exc:
        session.rollback()
        partial.unlink(missing_ok=True)
        raise click.ClickException(f"Could not write {out}: {exc}. Nothing was recorded.") from exc
    session.commit()
    partial.replace(out)
    delivery.tell_authors(session, config)
    session.commit()
    click.echo(
        f"Wrote {sent.head.total} ideas as {fmt} to {out}; recorded as digest {digest.id}.",
        err=True,
    )


@digest_cli.command("send")
@click.option("--digest", "digest_id", type=_DIGEST_ID, help="Send a sent digest again.")
@_EXPECT
@_digest_options
def digest_send(digest_id: int | None, expect: str | None, **kw) -> None:
    """Email the next digest to ORGANISER_EMAILS and record it (nothing new: nothing sent)."""
    session = get_session()
    config = current_app.config
    if digest_id is not None and expect is not None:
        raise click.UsageError("--digest sends a digest already recorded; drop --expect.")
    try:
        if digest_id is not None:
            digest = session.get(Digest, digest_id)
            if digest is None:
                raise click.ClickException(f"There is no digest {digest_id}.")
            delivery.resend(session, config, digest)
            session.commit()
            delivery.tell_authors(session, config)
            session.commit()
            click.echo(f"Sent digest {digest.id} again to {digest.recipients}.")
            return
        digest = delivery.send(
            session,
            config,
            _options(*_option_values(kw)),
            created_by=moderation.COMMAND_LINE,
            expected=expect,
        )
    except contents.DigestError as exc:
        raise _refused(session, exc) from exc
    delivery.tell_authors(session, config)
    session.commit()
    click.echo(f"Sent digest {digest.id} with {digest.item_count} ideas to {digest.recipients}.")


@digest_cli.command("list")
def digest_list() -> None:
    """List sent digests, newest first."""
    for digest in contents.list_digests(get_session()):
        when = digest.sent_at.strftime("%Y-%m-%d %H:%M UTC")
        how = {
            "email": f"emailed to {digest.recipients}",
            "marked": "marked as sent",
            contents.SENDING: "SENDING NEVER FINISHED: send it again or discard it",
        }[digest.method]
        again = f", sent {digest.send_count} times" if digest.send_count > 1 else ""
        click.echo(f"{digest.id}\t{when}\t{digest.item_count} ideas\t{how}{again}")
