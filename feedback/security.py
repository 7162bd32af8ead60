"""HTTP headers that keep pages from being framed, sniffed, or loading outside resources."""

import functools
from collections.abc import Callable

from flask import Flask, Response, has_request_context, make_response, request
from flask.sessions import SecureCookieSessionInterface

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


def secret_page(view: Callable) -> Callable:
    """For pages that show a manage link: never cached, never named in a Referer header."""

    @functools.wraps(view)
    def wrapped(*args, **kwargs) -> Response:
        response = make_response(view(*args, **kwargs))
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["Cache-Control"] = "no-store"
        return response

    return wrapped


class SessionInterface(SecureCookieSessionInterface):
    """Signed-cookie sessions whose cookie is Secure whenever the request came over HTTPS."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"]) or (
            has_request_context() and request.is_secure
        )


def init_app(app: Flask) -> None:
    app.session_interface = SessionInterface()
    app.after_request(set_headers)
