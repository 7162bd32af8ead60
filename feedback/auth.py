"""Owner login and logout, and the guard on every owner page."""

import math
from datetime import timedelta

from flask import (
    Blueprint,
    Flask,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import LoginManager, current_user, login_user, logout_user

from feedback import accounts
from feedback.db import get_session, utcnow
from feedback.forms import LoginForm
from feedback.models import Owner
from feedback.request_security import local_path, no_store
from feedback.tokens import client_hash

bp = Blueprint("auth", __name__, url_prefix="/admin")
login_manager = LoginManager()


@login_manager.user_loader
def load_owner(session_id: str) -> Owner | None:
    """The logged-in owner, unless the account is gone or its sessions were revoked."""
    owner_id, _, version = session_id.partition(":")
    if not owner_id.isdigit() or not version.isdigit():
        return None
    owner = get_session().get(Owner, int(owner_id))
    if owner is None or owner.session_version != int(version):
        return None
    return owner


@login_manager.unauthorized_handler
def to_login():
    """Send anonymous visitors of owner pages to the login, to come back afterwards."""
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


def safe_next(target: str | None) -> str:
    """A path on this site to go to after login; anything else goes to the queue."""
    return local_path(target) or url_for("owner.queue")


def _throttle() -> accounts.Throttle:
    return accounts.Throttle(
        max_failures=current_app.config["LOGIN_MAX_FAILURES"],
        window=timedelta(minutes=current_app.config["LOGIN_WINDOW_MINUTES"]),
    )


def _refused(form: LoginForm, wait: int):
    """429 with the login form, saying how long to wait."""
    minutes = math.ceil(wait / 60)
    form.form_errors.append(
        "Too many failed logins for this account or from your network. "
        f"Please try again in {minutes} minute{'s' if minutes > 1 else ''}."
    )
    response = current_app.make_response((render_template("auth/login.html", form=form), 429))
    response.headers["Retry-After"] = str(wait)
    return response


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Log an owner in; repeated failures for an account or an address are refused a while."""
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next")))
    form = LoginForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
    if not form.validate_on_submit():
        return render_template("auth/login.html", form=form), 400 if form.errors else 200
    db = get_session()
    address = client_hash(request.remote_addr, current_app.config["SECRET_KEY"])
    throttle = _throttle() if current_app.config["RATELIMIT_ENABLED"] else None
    try:
        attempt = accounts.begin_attempt(db, form.email.data, address, throttle)
    except accounts.LoginRefused as exc:
        db.rollback()
        return _refused(form, exc.wait)
    # Committed as a failure before the (slow) password check, so requests sent in parallel
    # see each other's tries.
    db.commit()
    owner = accounts.authenticate(db, form.email.data, form.password.data)
    if owner is None:
        form.form_errors.append("That email and password do not match an owner account.")
        return render_template("auth/login.html", form=form), 401
    attempt.succeeded = True
    owner.last_login_at = utcnow()
    db.commit()
    # A fresh session at login: nothing from before (or planted by someone else) carries over.
    session.clear()
    login_user(owner)
    return redirect(safe_next(form.next.data), 303)


@bp.post("/logout")
def logout():
    """Log out everywhere (a POST, checked for CSRF like every POST).

    Sessions live in signed cookies, so a copy of one would stay valid; moving the owner's
    session version on ends every copy.
    """
    if current_user.is_authenticated:
        current_user.session_version += 1
        get_session().commit()
    logout_user()
    session.clear()
    flash("You are logged out.")
    return redirect(url_for("auth.login"), 303)


bp.after_request(no_store)


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.session_protection = "strong"
    app.register_blueprint(bp)
