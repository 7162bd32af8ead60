"""The themes' commands: `flask themes rebuild | list | merge | split | rename`.

They do what the owner's theme pages do, as the server's command line.
"""

import json

import click
from flask.cli import AppGroup

from feedback.db import get_session
from feedback.query_args import MAX_ID
from feedback.themes import store

themes_cli = AppGroup("themes", help="Themes: ideas that ask for the same thing.")

ID = click.IntRange(1, MAX_ID)


def _decide(change):
    """Run one owner decision and commit it, or stop with its message."""
    session = get_session()
    try:
        result = change(session)
    except store.ThemeError as exc:
        session.rollback()
        raise click.ClickException(str(exc)) from None
    session.commit()
    return result


@themes_cli.command("rebuild")
def rebuild() -> None:
    """Recompute every theme and near-duplicate from scratch, keeping the owner's decisions."""
    session = get_session()
    with click.progressbar(length=3, label="Themes", show_pos=True) as bar:

        def step(_what: str) -> None:
            bar.update(1)

        run = store.rebuild(session, progress=step)
    session.commit()
    click.echo(
        f"{run.ideas} ideas in {run.themes} themes, {run.duplicates} possible duplicates "
        f"({run.seconds:.2f} s)."
    )


@themes_cli.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for other tools.")
def list_themes(as_json: bool) -> None:
    """Every theme, largest first, and the near-duplicates."""
    session = get_session()
    store.place_new(session)
    session.commit()
    themes = store.summaries(session)
    pairs = store.duplicates(session)
    if as_json:
        document = {
            "themes": [
                {"id": t.id, "label": t.label, "keywords": t.keywords, "ideas": t.ideas}
                for t in themes
            ],
            "duplicates": [
                {
                    "idea": p.submission_id,
                    "duplicate_of": p.duplicate_of_id,
                    "confirmed": p.state is store.DuplicateState.CONFIRMED,
                }
                for p in pairs
            ],
        }
        click.echo(json.dumps(document, ensure_ascii=False, indent=2))
        return
    if not themes:
        click.echo("No themes yet: no ideas, or every idea is spam, rejected or withdrawn.")
    for t in themes:
        click.echo(
            f"#{t.id}\t{t.count} ideas ({t.public} public, {t.private} private)\t{t.label}"
            f"\t[{', '.join(t.keywords)}]"
        )
    for p in pairs:
        state = "confirmed" if p.state is store.DuplicateState.CONFIRMED else "possible"
        click.echo(f"duplicate ({state}): #{p.submission_id} repeats #{p.duplicate_of_id}")


@themes_cli.command("merge")
@click.argument("keep", type=ID)
@click.argument("other", type=ID)
def merge(keep: int, other: int) -> None:
    """Merge theme OTHER into theme KEEP, for good."""
    theme = _decide(lambda session: store.merge(session, keep, other, None))
    click.echo(f"Theme #{other} is now part of #{theme.id} ({theme.label}).")


@themes_cli.command("split")
@click.argument("idea", type=ID)
def split(idea: int) -> None:
    """Take idea IDEA out of its theme, into a theme of its own."""
    theme = _decide(lambda session: store.split(session, idea, None))
    click.echo(f"Idea #{idea} is now alone in theme #{theme.id}.")


@themes_cli.command("rename")
@click.argument("theme_id", metavar="ID", type=ID)
@click.argument("label")
def rename(theme_id: int, label: str) -> None:
    """Give theme ID the label LABEL; no recomputation changes it."""
    theme = _decide(lambda session: store.rename(session, theme_id, label, None))
    click.echo(f"Theme #{theme.id} is now called {theme.label!r}.")
