"""Request security: CSRF tokens on every POST, and the headers that keep pages from being
framed, sniffed, cached when private, or loading outside resources."""

import functools
from collections.abc import Callable
from urllib.parse import urlsplit

from flask import Flask, Response, has_request_context, make_response, request
from flask.sessions import SecureCookieSessionInterface
from flask_wtf.csrf import CSRFProtect

# Every POST needs its form's token; a view that checks it itself is exempted where it is
# defined (the submission form, which keeps the reader's text on a failure).
csrf = CSRFProtect()

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


def set_headers(response: Response) -> Response:
    """Add the security headers to every response."""
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    return response


def no_store(response: Response) -> Response:
    """Keep a private page out of every cache, the browser's back-button history included."""
    response.headers["Cache-Control"] = "no-store"
    return response


# Pages whose address or content holds a manage link name it in a Referer to this site only:
# never to another site, yet the site's own forms still carry the Referer that CSRF checks
# need over HTTPS (Flask-WTF refuses a POST without one there; "no-referrer" broke them).
SECRET_REFERRER_POLICY = "same-origin"


def secret_page(view: Callable) -> Callable:
    """For pages that show a manage link: never cached, never named in a Referer to another
    site."""

    @functools.wraps(view)
    def wrapped(*args, **kwargs) -> Response:
        response = no_store(make_response(view(*args, **kwargs)))
        response.headers["Referrer-Policy"] = SECRET_REFERRER_POLICY
        return response

    return wrapped


def local_path(target: str | None, prefix: str = "/") -> str | None:
    """``target`` if it is a path on this site under ``prefix``, else None.

    Refuses other hosts in every spelling browsers accept (``//host``, ``/\\host``,
    ``https:``), and control characters that could split a header.
    """
    if not target or "\\" in target or any(ord(c) < 32 or ord(c) == 127 for c in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or target.startswith("//") or not target.startswith(prefix):
        return None
    return target


class SessionInterface(SecureCookieSessionInterface):
    """Signed-cookie sessions whose cookie is Secure whenever the request came over HTTPS."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"]) or (
            has_request_context() and request.is_secure
        )


def init_app(app: Flask) -> None:
    csrf.init_app(app)
    app.session_interface = SessionInterface()
    app.after_request(set_headers)
