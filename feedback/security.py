"""HTTP headers that keep pages from being framed, sniffed, or loading outside resources."""

import functools
from collections.abc import Callable

from flask import Flask, Response, make_response

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


def init_app(app: Flask) -> None:
    app.after_request(set_headers)
