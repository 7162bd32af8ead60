"""Command-line tools: `flask db`, `flask topics`, `flask owner`, `flask audit`, demo data,
the full backup; the digest's commands live in feedback/digest/commands.py."""

import contextlib
import sys
from pathlib import Path

import click
from alembic import command
from alembic.config import Config
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext

from feedback import accounts, backup, demo, moderation, topics
from feedback.db import get_engine, get_session
from feedback.digest import commands
from feedback.mail_commands import mail_cli
from feedback.themes.commands import themes_cli

MIGRATIONS = Path(__file__).resolve().parent / "migrations"

db_cli = AppGroup("db", help="Create or upgrade the database schema (Alembic).")
topics_cli = AppGroup("topics", help="List and add topics.")
owner_cli = AppGroup("owner", help="Create, list and remove site owners (moderators).")


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
    if not accounts.list_owners(get_session()):
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
    except (demo.NotEmptyError, demo.ExampleError) as exc:
        raise click.ClickException(str(exc)) from exc
    session.commit()
    click.echo(f"Added {count} example ideas.")


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


def _find_owner(email: str):
    owner = accounts.find(get_session(), email)
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
        owner = accounts.create(session, email, _read_password(password_stdin))
    except accounts.OwnerError as exc:
        raise click.ClickException(str(exc)) from exc
    moderation.record(session, None, None, "owner_create", None, owner.email)
    session.commit()
    click.echo(f"Created owner {owner.email}. Log in at /admin/login.")


@owner_cli.command("list")
def owner_list() -> None:
    """List owners with when they last logged in."""
    for owner in accounts.list_owners(get_session()):
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
        accounts.set_password(session, owner, _read_password(password_stdin))
    except accounts.OwnerError as exc:
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
    accounts.delete(session, owner)
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


def init_app(app: Flask) -> None:
    app.cli.add_command(db_cli)
    app.cli.add_command(commands.digest_cli)
    app.cli.add_command(themes_cli)
    app.cli.add_command(mail_cli)
    app.cli.add_command(topics_cli)
    app.cli.add_command(owner_cli)
    app.cli.add_command(demo_data)
    app.cli.add_command(audit)
    app.cli.add_command(export_all)
    app.cli.add_command(import_all)
