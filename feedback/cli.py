"""Command-line tools: `flask db`, `flask topics`, `flask demo-data`."""

from pathlib import Path

import click
from alembic import command
from alembic.config import Config
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext

from feedback import demo, topics
from feedback.db import get_session

MIGRATIONS = Path(__file__).resolve().parent / "migrations"

db_cli = AppGroup("db", help="Create or upgrade the database schema (Alembic).")
topics_cli = AppGroup("topics", help="List and add topics.")


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
    session.commit()
    click.echo(f"Added #{topic.slug} ({topic.name}).")


@click.command("demo-data")
@with_appcontext
@click.option("--force", is_flag=True, help="Add the examples even if ideas already exist.")
def demo_data(force: bool) -> None:
    """Fill the database with a few dozen realistic ideas, public and private."""
    session = get_session()
    try:
        count = demo.fill(session, force=force)
    except demo.NotEmptyError as exc:
        raise click.ClickException(str(exc)) from exc
    session.commit()
    click.echo(f"Added {count} example ideas.")


def init_app(app: Flask) -> None:
    app.cli.add_command(db_cli)
    app.cli.add_command(topics_cli)
    app.cli.add_command(demo_data)
