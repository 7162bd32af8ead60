"""Command-line tools: `flask db`, `flask topics`, `flask owner`, `flask audit`, demo data."""

import contextlib
import functools
import sys
from pathlib import Path

import click
from alembic import command
from alembic.config import Config
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext

from feedback import backup, delivery, demo, digests, exporters, moderation, owners, topics
from feedback.db import get_engine, get_session
from feedback.forms import MAX_ITEM_ID
from feedback.models import Digest

MIGRATIONS = Path(__file__).resolve().parent / "migrations"

db_cli = AppGroup("db", help="Create or upgrade the database schema (Alembic).")
topics_cli = AppGroup("topics", help="List and add topics.")
owner_cli = AppGroup("owner", help="Create, list and remove site owners (moderators).")
digest_cli = AppGroup("digest", help="Build, export and send the digest for the organisers.")


def alembic_config() -> Config:
    """Alembic settings pointing at the package's migrations; env.py uses the app's engine."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def upgrade_database(revision: str = "head") -> int:
    """Bring the schema to ``revision`` and seed the configured topics into an empty database."""
    command.upgrade(alembic_config(), revision)
    session = get_session()
    created = topics.seed_topics(session, current_app.config["TOPICS"])
    session.commit()
    return created


@db_cli.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Create or upgrade the schema (safe to run again), then seed topics on first run."""
    created = upgrade_database(revision)
    suffix = f"; created {created} topics" if created else ""
    click.echo(f"Database is at revision {revision}{suffix}.")
    if not owners.list_owners(get_session()):
        click.echo(
            "No site owner yet. Create one to log in at /admin/login:\n"
            "    .venv/bin/flask owner create you@example.org"
        )


@db_cli.command("downgrade")
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    """Step the schema back to REVISION (for example -1 or base)."""
    command.downgrade(alembic_config(), revision)


@db_cli.command("current")
def db_current() -> None:
    """Show the schema's current revision."""
    command.current(alembic_config())


@db_cli.command("revision")
@click.option("-m", "--message", required=True)
@click.option("--autogenerate", is_flag=True, help="Compare the models with the database.")
def db_revision(message: str, autogenerate: bool) -> None:
    """Write a new migration file (for developers)."""
    command.revision(alembic_config(), message=message, autogenerate=autogenerate)


@topics_cli.command("list")
def topics_list() -> None:
    """List topics with their hashtag slugs."""
    for topic in topics.list_topics(get_session()):
        click.echo(f"#{topic.slug}\t{topic.name}")


@topics_cli.command("add")
@click.argument("name")
@click.option("--slug", help="The hashtag slug; made from the name when omitted.")
def topics_add(name: str, slug: str | None) -> None:
    """Add a topic at the end of the list."""
    session = get_session()
    try:
        topic = topics.add_topic(session, name, slug)
    except topics.TopicError as exc:
        raise click.ClickException(str(exc)) from exc
    moderation.record(session, None, None, "topic_add", None, f"#{topic.slug} {topic.name}")
    session.commit()
    click.echo(f"Added #{topic.slug} ({topic.name}).")


@click.command("demo-data")
@with_appcontext
@click.option("--force", is_flag=True, help="Add the examples even if ideas already exist.")
def demo_data(force: bool) -> None:
    """Fill the database with a few dozen realistic ideas, public and private."""
    session = get_session()
    try:
        count = demo.fill(session, current_app.config["SECRET_KEY"], force=force)
    except demo.NotEmptyError as exc:
        raise click.ClickException(str(exc)) from exc
    session.commit()
    click.echo(f"Added {count} example ideas.")


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


def _find_owner(email: str):
    owner = owners.find(get_session(), email)
    if owner is None:
        raise click.ClickException(f"There is no owner with the email {email}.")
    return owner


@owner_cli.command("create")
@click.argument("email")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def owner_create(email: str, password_stdin: bool) -> None:
    """Create an owner; asks for the password twice (at least 12 characters)."""
    session = get_session()
    try:
        owner = owners.create(session, email, _read_password(password_stdin))
    except owners.OwnerError as exc:
        raise click.ClickException(str(exc)) from exc
    moderation.record(session, None, None, "owner_create", None, owner.email)
    session.commit()
    click.echo(f"Created owner {owner.email}. Log in at /admin/login.")


@owner_cli.command("list")
def owner_list() -> None:
    """List owners with when they last logged in."""
    for owner in owners.list_owners(get_session()):
        last = (
            owner.last_login_at.strftime("%Y-%m-%d %H:%M UTC") if owner.last_login_at else "never"
        )
        click.echo(f"{owner.email}\tlast login: {last}")


@owner_cli.command("set-password")
@click.argument("email")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def owner_set_password(email: str, password_stdin: bool) -> None:
    """Set a new password; every session of that owner is logged out."""
    owner = _find_owner(email)
    session = get_session()
    try:
        owners.set_password(session, owner, _read_password(password_stdin))
    except owners.OwnerError as exc:
        raise click.ClickException(str(exc)) from exc
    moderation.record(session, None, None, "owner_password", None, owner.email)
    session.commit()
    click.echo(f"Password changed for {owner.email}; their sessions are logged out.")


@owner_cli.command("delete")
@click.argument("email")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def owner_delete(email: str, yes: bool) -> None:
    """Remove an owner; the audit trail keeps their email."""
    owner = _find_owner(email)
    if not yes:
        click.confirm(f"Delete the owner {owner.email}?", abort=True)
    session = get_session()
    moderation.record(session, None, None, "owner_delete", owner.email, None)
    owners.delete(session, owner)
    session.commit()
    click.echo(f"Deleted owner {owner.email}.")


@click.command("audit")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 10_000))
@with_appcontext
def audit(limit: int) -> None:
    """Print the newest moderation events, newest first."""
    for event in moderation.recent_events(get_session(), limit):
        item = f"#{event.submission_id}" if event.submission_id else "-"
        change = ""
        if event.from_value is not None or event.to_value is not None:
            change = f"\t{_short(event.from_value)} -> {_short(event.to_value)}"
        when = event.created_at.strftime("%Y-%m-%d %H:%M:%S")
        click.echo(f"{when}\t{event.actor}\t{event.action}\t{item}{change}")


def _short(value: str | None) -> str:
    if value is None:
        return "(none)"
    folded = " ".join(value.split())
    return folded if len(folded) <= 60 else folded[:59] + "…"


@contextlib.contextmanager
def _backup_progress(total: int, label: str):
    """A progress bar's update function on a terminal's error stream; a no-op elsewhere."""
    if not sys.stderr.isatty():
        yield lambda rows: None
        return
    with click.progressbar(length=total, label=label, file=sys.stderr) as bar:
        yield bar.update


def _counted(counts: dict[str, int]) -> str:
    tables = ", ".join(f"{name} {count}" for name, count in counts.items())
    return f"{sum(counts.values())} rows ({tables})"


@click.command("export-all")
@click.argument("path", metavar="FILE.json", type=click.Path(dir_okay=False, allow_dash=True))
@with_appcontext
def export_all(path: str) -> None:
    """Write every row of every table to FILE.json ("-": standard output), for import-all."""
    try:
        with get_engine().connect() as connection, backup.writing(path) as out:
            backup.begin_snapshot(connection)
            counts = backup.count_rows(connection)
            left_out = backup.unlisted_tables(connection)
            with _backup_progress(sum(counts.values()), "Exporting") as progress:
                backup.write_backup(connection, out, counts, progress)
    except backup.BackupError as exc:
        raise click.ClickException(f"Cannot export to {path}: {exc}.") from exc
    if left_out:
        click.echo(f"Warning: no model defines {', '.join(left_out)}; left out.", err=True)
    click.echo(f"Exported {_counted(counts)} to {path}.", err=path == "-")


@click.command("import-all")
@click.argument(
    "path", metavar="FILE.json", type=click.Path(exists=True, dir_okay=False, allow_dash=True)
)
@click.option("--replace", is_flag=True, help="Delete every row first, in the same transaction.")
@with_appcontext
def import_all(path: str, replace: bool) -> None:
    """Load a file from export-all into an empty database, all or nothing."""
    try:
        with backup.reading(path) as source, get_engine().connect() as connection:
            reader = backup.BackupReader(source)
            with _backup_progress(reader.total, "Importing") as progress:
                restored = backup.restore(connection, reader, replace=replace, progress=progress)
            connection.commit()
    except backup.BackupError as exc:
        raise click.ClickException(
            f"Cannot import {path}: {exc}. The database is unchanged."
        ) from exc
    deleted = f", after deleting the {restored.deleted} rows it held" if restored.deleted else ""
    click.echo(f"Imported {_counted(restored.counts)} from {path}{deleted}.")


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
        ]
    ):
        command = decorator(command)
    return command


def _options(since, until, no_private, anonymise, starred_only, slugs, notes, contact):
    """The digest options from the command line, checked like the owner's form checks them."""
    since, until = since.date() if since else None, until.date() if until else None
    for day in (since, until):
        if day and not 1900 <= day.year <= 9000:
            raise click.BadParameter("dates must be between the years 1900 and 9000.")
    if since and until and since > until:
        raise click.BadParameter("--since must not be later than --until.")
    known = {topic.slug for topic in topics.list_topics(get_session())}
    unknown = sorted(set(slugs) - known)
    if unknown:
        raise click.BadParameter(
            f"no topic {', '.join(unknown)}; known: {', '.join(sorted(known))}.",
            param_hint="--topic",
        )
    return digests.Options(
        include_private=not no_private,
        anonymise=anonymise,
        since=since,
        until=until,
        starred_only=starred_only,
        topics=tuple(slugs),
        include_notes=notes,
        include_contact=contact,
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


def _write_export(fmt, out_path, head, entries, options, message) -> None:
    if fmt == "eml":
        data = message().as_bytes()
        if out_path:
            Path(out_path).write_bytes(data)
        else:
            click.get_binary_stream("stdout").write(data)
        return
    if out_path:
        # newline="" keeps the CSV module's CRLF line ends as they are.
        with open(out_path, "w", encoding="utf-8", newline="") as out:
            exporters.write(fmt, out, head, entries, options=options)
    else:
        exporters.write(fmt, sys.stdout, head, entries, options=options)


@digest_cli.command("preview")
@_digest_options
def digest_preview(**kwargs) -> None:
    """Show the next digest as plain text, and its fingerprint, without recording anything."""
    session = get_session()
    options = _options(*_option_values(kwargs))
    # Taken before the text is read, as on the owner's page: what arrives later is refused.
    expect = digests.selection_fingerprint(session, options)
    head = digests.header(session, options, current_app.config["CONFERENCE_NAME"])
    entries = (entry for _item, entry in digests.new_entries(session, options))
    exporters.write_text(sys.stdout, head, entries)
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


def _refused(session, exc: digests.DigestError) -> click.ClickException:
    """The error to exit with; nothing that was about to be recorded is kept."""
    session.rollback()
    if isinstance(exc, digests.SelectionChanged):
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
    )


_DIGEST_ID = click.IntRange(1, MAX_ITEM_ID)


@digest_cli.command("export")
@click.option("--format", "fmt", type=click.Choice(exporters.FORMATS), required=True)
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
    if digest_id is not None:
        digest = session.get(Digest, digest_id)
        if digest is None:
            raise click.ClickException(f"There is no digest {digest_id}; see `flask digest list`.")
        head = digests.Header.from_json(digest.header_json)
        options = digests.Options.from_json(digest.options_json)
        entries = digests.sent_entries(session, digest)
        message = functools.partial(delivery.digest_message, config, session, digest)
    else:
        head = digests.header(session, options, config["CONFERENCE_NAME"])
        entries = (entry for _item, entry in digests.new_entries(session, options))
        message = functools.partial(delivery.new_message, config, head, entries)
    show_bar = bool(out_path) and sys.stderr.isatty() and head.total >= 1000
    _write_export(fmt, out_path, head, _progress(entries, head.total, show_bar), options, message)
    if out_path:
        click.echo(f"Wrote {head.total} ideas as {fmt} to {out_path}.", err=True)


def _export_and_mark(session, config, fmt: str, out: Path, options, expect: str | None) -> None:
    """Record the digest, write it from what was recorded, and only then let it count.

    If writing fails (a missing folder, a full disk), nothing is recorded.
    """
    try:
        digest = delivery.mark_sent(
            session, config, options, created_by=moderation.COMMAND_LINE, expected=expect
        )
    except digests.DigestError as exc:
        raise _refused(session, exc) from exc
    head = digests.Header.from_json(digest.header_json)
    partial = out.with_name(out.name + ".partial")
    try:
        entries = digests.sent_entries(session, digest)
        message = functools.partial(delivery.digest_message, config, session, digest)
        show_bar = sys.stderr.isatty() and head.total >= 1000
        _write_export(
            fmt, str(partial), head, _progress(entries, head.total, show_bar), options, message
        )
    except OSError as exc:
        session.rollback()
        partial.unlink(missing_ok=True)
        raise click.ClickException(f"Could not write {out}: {exc}. Nothing was recorded.") from exc
    session.commit()
    partial.replace(out)
    delivery.tell_authors(session, config)
    click.echo(
        f"Wrote {head.total} ideas as {fmt} to {out}; recorded as digest {digest.id}.", err=True
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
            click.echo(f"Sent digest {digest.id} again to {digest.recipients}.")
            return
        digest = delivery.send(
            session,
            config,
            _options(*_option_values(kw)),
            created_by=moderation.COMMAND_LINE,
            expected=expect,
        )
    except digests.DigestError as exc:
        raise _refused(session, exc) from exc
    click.echo(f"Sent digest {digest.id} with {digest.item_count} ideas to {digest.recipients}.")


@digest_cli.command("list")
def digest_list() -> None:
    """List sent digests, newest first."""
    for digest in digests.list_digests(get_session()):
        when = digest.sent_at.strftime("%Y-%m-%d %H:%M UTC")
        how = {
            "email": f"emailed to {digest.recipients}",
            "marked": "marked as sent",
            digests.SENDING: "SENDING NEVER FINISHED: send it again or discard it",
        }[digest.method]
        again = f", sent {digest.send_count} times" if digest.send_count > 1 else ""
        click.echo(f"{digest.id}\t{when}\t{digest.item_count} ideas\t{how}{again}")


def init_app(app: Flask) -> None:
    app.cli.add_command(db_cli)
    app.cli.add_command(digest_cli)
    app.cli.add_command(topics_cli)
    app.cli.add_command(owner_cli)
    app.cli.add_command(demo_data)
    app.cli.add_command(audit)
    app.cli.add_command(export_all)
    app.cli.add_command(import_all)
