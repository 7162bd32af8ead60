"""The owner's theme pages: every theme with a chart, one theme with its members and the
owner's decisions, and the near-duplicate buttons the queue and item pages share."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response
from wtforms import SelectChoice, StringField
from wtforms.validators import DataRequired, Length

from feedback.db import get_session
from feedback.forms import ActionForm, TopicField, parse_item_id, single_line
from feedback.models import Theme
from feedback.owner_pages import require_owner
from feedback.query_args import page_number
from feedback.request_security import local_path, no_store
from feedback.themes import background, store

bp = Blueprint("themes", __name__, url_prefix="/admin/themes")
bp.before_request(require_owner)
# Labels and keywords can come from private notes: never keep these pages in any cache.
bp.after_request(no_store)

PER_PAGE = 100

F = TypeVar("F", bound=FlaskForm)


def _stripped(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


class RenameForm(FlaskForm):
    """The owner's label for a theme."""

    label = StringField(
        "New label",
        filters=[_stripped],
        validators=[
            DataRequired("A label cannot be empty."),
            Length(max=store.LABEL_LIMIT, message=f"At most {store.LABEL_LIMIT} characters."),
            single_line,
        ],
    )


class ThemeField(TopicField):
    """A theme chosen from a list; whether it may be chosen is the service's rule."""

    message = "Choose one of the listed themes."


class ThemeChoiceForm(FlaskForm):
    """Where a theme goes: into another theme."""

    theme = ThemeField(
        "Theme",
        coerce=parse_item_id,
        validate_choice=False,
        validators=[DataRequired(ThemeField.message)],
    )


class IdeaField(TopicField):
    """An idea chosen from a list; whether it may move is the service's rule."""

    message = "Choose one of the ideas in this theme."


class MoveForm(ThemeChoiceForm):
    """Which idea goes into which other theme."""

    idea = IdeaField(
        "Idea",
        coerce=parse_item_id,
        validate_choice=False,
        validators=[DataRequired(IdeaField.message)],
    )


@dataclass(frozen=True)
class Bar:
    """One theme of the chart, with its geometry in the SVG's own units."""

    theme: store.Summary
    name: str  # the label, shortened to fit beside the bar
    y: float
    public_width: float
    private_width: float


@dataclass(frozen=True)
class Chart:
    bars: list[Bar]
    width: int
    height: int
    row: int
    left: int  # where the bars start; the labels sit before it


def chart(themes: list[store.Summary], width: int = 600, row: int = 16, left: int = 220) -> Chart:
    """Lay out a bar per theme, public ideas then private ones; the largest fills the width."""
    peak = max((t.count for t in themes), default=0)
    room = width - left - 40  # leaves space for the count after the longest bar
    scale = room / peak if peak else 0
    bars = []
    for n, theme in enumerate(themes):
        name = theme.label if len(theme.label) <= 34 else theme.label[:33] + "…"
        bars.append(
            Bar(
                theme,
                name,
                n * row,
                round(theme.public * scale, 2),
                round(theme.private * scale, 2),
            )
        )
    return Chart(bars, width, max(len(themes), 1) * row, row, left)


def _commit_unless_raced(work: Callable[[Session], Any]) -> bool:
    """Run ``work`` and commit; False when another request wrote the same rows first."""
    session = get_session()
    try:
        work(session)
        session.commit()
    except sa.exc.IntegrityError:
        # Two page views placing the same new ideas, or two recomputations, at one moment:
        # the first one's themes stand.
        session.rollback()
        return False
    return True


def place_new_ideas() -> None:
    """Put new ideas in their themes for good before a page shows themes (the themes pages,
    a digest preview), so what is shown and what is sent after it agree."""
    _commit_unless_raced(store.place_new)


def _theme(theme_id: int) -> Theme:
    theme = get_session().get(Theme, theme_id)
    if theme is None:
        abort(
            404, description=f"There is no theme #{theme_id}; a recomputation may have removed it."
        )
    return theme


def _back(default: str) -> str:
    """Where to return after an action: the owner page the button was on."""
    return local_path(request.form.get("back"), prefix="/admin") or default


def _decide(
    change: Callable[[Session], Any], back: str, message: Callable[[Any], str]
) -> Response:
    """Run one owner decision, commit it, flash ``message(result)`` and go ``back``.

    :raise 409: with the reason when the decision cannot be made.
    """
    session = get_session()
    try:
        result = change(session)
    except store.ThemeError as exc:
        session.rollback()
        abort(409, description=str(exc))
    session.commit()
    flash(message(result))
    return redirect(back, 303)


def _valid(form: F) -> F:
    """The posted form, checked.

    :raise 400: with what is wrong when an idea or theme is missing or not a number.
    """
    if not form.validate_on_submit():
        abort(400, description=" ".join(e for errors in form.errors.values() for e in errors))
    return form


@bp.get("/")
def list_page():
    """Every theme largest first, with a chart of the largest and the last computation."""
    place_new_ideas()
    found = store.overview(get_session(), page_number(), PER_PAGE)
    return render_template(
        "owner/themes.html",
        overview=found,
        chart=chart(found.largest),
        action_form=ActionForm(),
    )


@bp.post("/recompute")
def recompute():
    """Recompute every theme and near-duplicate, keeping the owner's decisions: now, or in the
    background when there are many ideas."""
    session = get_session()
    under_way = store.running(session)
    if under_way is not None:
        flash(
            f"A recomputation started at {under_way.started_at:%H:%M} UTC is still running; "
            "this page shows its themes when it is done."
        )
        return redirect(url_for("themes.list_page"), 303)
    count = store.idea_count(session)
    if count > background.INLINE_IDEAS:
        session.rollback()
        if background.start(session.get_bind()):
            flash(
                f"Recomputing the themes of {count} ideas in the background (about a second "
                "per thousand ideas); reload this page to see them."
            )
        else:
            flash("A recomputation started from this server is still running.")
        return redirect(url_for("themes.list_page"), 303)
    if _commit_unless_raced(store.rebuild):
        run = store.last_run(get_session())
        flash(
            f"Recomputed: {run.ideas} ideas in {run.themes} themes, "
            f"{run.duplicates} possible duplicates ({run.seconds:.2f} s)."
        )
    else:
        flash("Another recomputation finished at the same moment; these are its themes.")
    return redirect(url_for("themes.list_page"), 303)


@bp.get("/<id:theme_id>")
def show(theme_id: int):
    """One theme: its members and why each is there, near-duplicates, the owner's decisions.

    :raise 404: for an unknown theme; a merged theme's page leads to the theme it joined.
    """
    theme = _theme(theme_id)
    if theme.merged_into_id is not None:
        return redirect(url_for("themes.show", theme_id=theme.merged_into_id))
    place_new_ideas()
    return _render_theme(theme)


def _render_theme(theme: Theme, rename_form: RenameForm | None = None, status: int = 200):
    found = store.detail(get_session(), theme)
    others = [SelectChoice(t.id, f"#{t.id} {t.label} ({n})") for t, n in found.others]
    return render_template(
        "owner/theme.html",
        detail=found,
        others=others,
        rename_form=rename_form or RenameForm(formdata=None, label=theme.label),
    ), status


@bp.post("/<id:theme_id>/rename")
def rename(theme_id: int):
    """Give the theme the owner's label, which no recomputation changes."""
    theme = _theme(theme_id)
    form = RenameForm()
    if not form.validate_on_submit():
        return _render_theme(theme, form, 400)
    return _decide(
        lambda session: store.rename(session, theme_id, form.label.data, current_user),
        url_for("themes.show", theme_id=theme_id),
        lambda renamed: f"Theme #{renamed.id} is now called “{renamed.label}”.",
    )


@bp.post("/<id:theme_id>/merge")
def merge(theme_id: int):
    """Bring the chosen theme's ideas into this one, for good."""
    _theme(theme_id)
    other = _valid(ThemeChoiceForm()).theme.data
    return _decide(
        lambda session: store.merge(session, theme_id, other, current_user),
        url_for("themes.show", theme_id=theme_id),
        lambda kept: f"Theme #{other} joined “{kept.label}”; its old page leads here.",
    )


@bp.post("/<id:theme_id>/move")
def move(theme_id: int):
    """Put one of the theme's ideas into another theme of its topic, for good."""
    _theme(theme_id)
    form = _valid(MoveForm())
    idea_id, target = form.idea.data, form.theme.data
    return _decide(
        lambda session: store.move(session, idea_id, target, current_user),
        url_for("themes.show", theme_id=theme_id),
        lambda theme: f"Idea #{idea_id} is now in “{theme.label}”.",
    )


@bp.post("/ideas/<id:idea_id>/split")
def split(idea_id: int):
    """Take an idea out of its theme into a theme of its own."""
    return _decide(
        lambda session: store.split(session, idea_id, current_user),
        _back(url_for("themes.list_page")),
        lambda theme: f"Idea #{idea_id} is now on its own, in theme #{theme.id}.",
    )


@bp.post("/duplicates/<id:idea_id>/<id:duplicate_of>/confirm")
def confirm_duplicate(idea_id: int, duplicate_of: int):
    """The owner's word: idea ``idea_id`` repeats ``duplicate_of``."""
    return _decide(
        lambda session: store.decide_duplicate(session, idea_id, duplicate_of, True, current_user),
        _back(url_for("owner.item", item_id=idea_id)),
        lambda _pair: f"Idea #{idea_id} is marked as the same as #{duplicate_of}.",
    )


@bp.post("/duplicates/<id:idea_id>/<id:duplicate_of>/dismiss")
def dismiss_duplicate(idea_id: int, duplicate_of: int):
    """The owner's word: ideas ``idea_id`` and ``duplicate_of`` are not the same."""
    return _decide(
        lambda session: store.decide_duplicate(
            session, idea_id, duplicate_of, False, current_user
        ),
        _back(url_for("owner.item", item_id=idea_id)),
        lambda _pair: f"Ideas #{idea_id} and #{duplicate_of} are marked as not the same.",
    )
