"""The owner's digest pages: past digests, a new one with a live preview, downloads, sending."""

import itertools
import json
import tempfile
from io import StringIO
from urllib.parse import urlencode

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_login import current_user
from werkzeug.datastructures import MultiDict
from wtforms import SelectChoice

from feedback.db import get_session
from feedback.digest import contents, delivery, formats
from feedback.forms import ActionForm, DigestOptionsForm
from feedback.models import Digest
from feedback.owner_pages import require_owner
from feedback.request_security import CONTENT_SECURITY_POLICY, no_store
from feedback.themes.pages import place_new_ideas
from feedback.topics import list_topics

bp = Blueprint("digest", __name__, url_prefix="/admin/digests")
bp.before_request(require_owner)
bp.after_request(no_store)


@bp.after_request
def allow_inline_styles(response: Response) -> Response:
    """The digest previews are the email's own HTML, styled inline as mail clients need."""
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY.replace(
        "style-src 'self'", "style-src 'self' 'unsafe-inline'"
    )
    return response


PREVIEW_LIMIT = 200  # entries shown on a page; downloads hold them all


@bp.app_template_filter("fromjson")
def from_json_filter(text: str):
    """Parse stored JSON in a template."""
    return json.loads(text)


@bp.app_template_filter("digest_options")
def digest_options_text(options: dict) -> str:
    """A digest's options in words."""
    words = ["FINAL digest"] if options.get("final") else []
    if not options["include_private"]:
        words.append("no private notes")
    if options["anonymise"]:
        words.append("anonymised")
    if options["starred_only"]:
        words.append("starred only")
    if options["since"] or options["until"]:
        words.append(f"received {options['since'] or '…'} to {options['until'] or '…'}")
    if options["topics"]:
        words.append("topics " + ", ".join(f"#{t}" for t in options["topics"]))
    if options["include_notes"]:
        words.append("with notes")
    if options["include_contact"]:
        words.append("with emails")
    return ", ".join(words) or "everything new"


def _options_form(data: MultiDict) -> DigestOptionsForm:
    form = DigestOptionsForm(formdata=data)
    form.topics.choices = [
        SelectChoice(t.slug, f"#{t.slug} {t.name}") for t in list_topics(get_session())
    ]
    return form


def _options(form: DigestOptionsForm) -> contents.Options:
    return contents.Options(
        include_private=not form.exclude_private.data,
        anonymise=form.anonymise.data,
        since=form.since.data,
        until=form.until.data,
        starred_only=form.starred_only.data,
        topics=tuple(form.topics.data or ()),
        include_notes=form.include_notes.data,
        include_contact=form.include_contact.data,
        final=form.final.data,
    )


def _valid_options(data: MultiDict) -> tuple[DigestOptionsForm, contents.Options]:
    """The options from the request.

    :raise 400: when a date or topic makes no sense.
    """
    form = _options_form(data)
    if not form.validate():
        problems = "; ".join(
            f"{form[name].label.text}: {errs[0]}" for name, errs in form.errors.items()
        )
        abort(400, description=f"Those digest options cannot be used: {problems}")
    return form, _options(form)


@bp.get("/")
def list_page():
    """Every digest sent so far, with what it held and downloads."""
    return render_template(
        "owner/digests.html",
        digests=contents.list_digests(get_session()),
        formats=formats.FORMATS,
    )


@bp.get("/new")
def new():
    """The next digest with the options asked for: counts, a preview, downloads, sending."""
    form, options = _valid_options(request.args)
    return _preview(form, options, request.query_string.decode())


def _preview(form: DigestOptionsForm, options: contents.Options, query: str, status: int = 200):
    """The new-digest page as it stands now, carrying the fingerprint of what it shows."""
    place_new_ideas()
    session = get_session()
    # Taken before the preview is read: an idea arriving in between makes sending refuse,
    # rather than go out unseen.
    expect = contents.selection_fingerprint(session, options)
    draft = delivery.rendition(session, current_app.config, options=options)
    entries = list(itertools.islice(draft.entries(), PREVIEW_LIMIT))
    page = render_template(
        "owner/digest_new.html",
        form=form,
        head=draft.head,
        expect=expect,
        preview=_html(draft.head, entries),
        shown=len(entries),
        query=query,
        action_form=ActionForm(),
        formats=formats.FORMATS,
        last=contents.last_digest(session),
        organisers=current_app.config["ORGANISER_EMAILS"],
    )
    return page, status


def _refresh(form: DigestOptionsForm, options: contents.Options, exc: contents.SelectionChanged):
    """409 with a fresh preview and why, when the posted preview is out of date."""
    get_session().rollback()
    flash(str(exc), "error")
    options_only = [
        (key, value)
        for key, value in request.form.items(multi=True)
        if key not in ("csrf_token", "expect")
    ]
    return _preview(form, options, urlencode(options_only), 409)


def _html(head: contents.Header, entries: list[contents.Entry]) -> str:
    out = StringIO()
    formats.write_html(out, head, entries, fragment=True)
    return out.getvalue()


def _download(fmt: str, digest: delivery.Rendition, name: str) -> Response:
    """Write an export to a spooled file (memory up to 8 MB, then disk) and send it."""
    if fmt not in formats.FORMATS:
        abort(404, description=f"Unknown format; use one of {', '.join(formats.FORMATS)}.")
    spool = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)
    if fmt == "eml":
        digest.write_eml(spool)
    else:
        text = _TextSpool(spool)
        formats.write(fmt, text, digest.head, digest.entries(), options=digest.options)
        text.flush()
    spool.seek(0)
    return send_file(
        spool,
        mimetype=formats.MEDIA_TYPES[fmt],
        as_attachment=True,
        download_name=f"{name}.{fmt}",
    )


class _TextSpool:
    """A text writer onto a binary spool (UTF-8), without closing it when done."""

    def __init__(self, spool) -> None:
        self._spool = spool

    def write(self, text: str) -> int:
        self._spool.write(text.encode("utf-8"))
        return len(text)

    def flush(self) -> None:
        self._spool.flush()


@bp.get("/new/download.<fmt>")
def download_new(fmt: str):
    """Download the next digest, not recorded as sent."""
    _form, options = _valid_options(request.args)
    place_new_ideas()
    draft = delivery.rendition(get_session(), current_app.config, options=options)
    name = f"digest-draft-{draft.head.generated}"
    return _download(fmt, draft, name)


@bp.post("/new/mark-sent")
def mark_sent():
    """Record the next digest as sent (the owner sent it another way).

    :raise 409: when the preview it was posted from is out of date (with a fresh one), or
        there is nothing new.
    """
    form, options = _valid_options(request.form)
    session = get_session()
    config = current_app.config
    try:
        digest = delivery.mark_sent(
            session, config, options, created_by=current_user.email, expected=_expected()
        )
    except contents.SelectionChanged as exc:
        return _refresh(form, options, exc)
    except contents.DigestError as exc:
        session.rollback()
        abort(409, description=str(exc))
    session.commit()
    delivery.tell_authors(session, config)
    session.commit()
    flash(f"Digest {digest.id} with {digest.item_count} ideas is recorded as sent.")
    return redirect(url_for("digest.show", digest_id=digest.id), 303)


@bp.post("/new/send")
def send():
    """Email the next digest to the organisers and record it; a failure records nothing.

    :raise 409: when the preview it was posted from is out of date (with a fresh one).
    """
    form, options = _valid_options(request.form)
    session = get_session()
    try:
        digest = delivery.send(
            session,
            current_app.config,
            options,
            created_by=current_user.email,
            expected=_expected(),
        )
    except contents.SelectionChanged as exc:
        return _refresh(form, options, exc)
    except contents.DigestError as exc:
        session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("digest.new", **request.form.to_dict(flat=False)), 303)
    delivery.tell_authors(session, current_app.config)
    session.commit()
    flash(f"Digest {digest.id} with {digest.item_count} ideas went to {digest.recipients}.")
    return redirect(url_for("digest.show", digest_id=digest.id), 303)


def _expected() -> str:
    """The preview's fingerprint of the items it showed.

    :raise 400: when the form does not carry one.
    """
    expected = request.form.get("expect", "")
    if not expected:
        abort(400, description="Send from the preview page, so you send what you looked at.")
    return expected


def _digest(digest_id: int) -> Digest:
    digest = get_session().get(Digest, digest_id)
    if digest is None:
        abort(404, description=f"There is no digest {digest_id}.")
    return digest


@bp.get("/<id:digest_id>")
def show(digest_id: int):
    """One sent digest: when, to whom, which options, and its content as it went out."""
    digest = _digest(digest_id)
    sent = delivery.rendition(get_session(), current_app.config, digest=digest)
    entries = list(itertools.islice(sent.entries(), PREVIEW_LIMIT))
    return render_template(
        "owner/digest.html",
        digest=digest,
        head=sent.head,
        preview=_html(sent.head, entries),
        shown=len(entries),
        formats=formats.FORMATS,
        action_form=ActionForm(),
    )


@bp.get("/<id:digest_id>/download.<fmt>")
def download(digest_id: int, fmt: str):
    """Download a sent digest again, identical to the first time."""
    digest = _digest(digest_id)
    sent = delivery.rendition(get_session(), current_app.config, digest=digest)
    return _download(fmt, sent, f"digest-{digest.id}-{digest.sent_at.date().isoformat()}")


@bp.post("/<id:digest_id>/resend")
def resend(digest_id: int):
    """Email a sent digest again, unchanged; no new record."""
    digest = _digest(digest_id)
    session = get_session()
    try:
        delivery.resend(session, current_app.config, digest)
    except contents.DigestError as exc:
        flash(str(exc), "error")
    else:
        session.commit()
        delivery.tell_authors(session, current_app.config)
        session.commit()
        flash(f"Digest {digest.id} went to {digest.recipients}.")
    return redirect(url_for("digest.show", digest_id=digest.id), 303)


@bp.post("/<id:digest_id>/discard")
def discard(digest_id: int):
    """Forget a digest whose sending never finished; its ideas are offered again."""
    digest = _digest(digest_id)
    try:
        delivery.discard(get_session(), digest)
    except contents.DigestError as exc:
        abort(409, description=str(exc))
    get_session().commit()
    flash(f"Digest {digest_id} is discarded; its ideas go in the next digest.")
    return redirect(url_for("digest.list_page"), 303)
