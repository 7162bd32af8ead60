"""Error responses: an HTML page for people, JSON with a message for machines."""

import logging
import re

from flask import Flask, jsonify, render_template, request
from werkzeug.exceptions import HTTPException, InternalServerError

log = logging.getLogger(__name__)


def wants_json() -> bool:
    """Machine clients: the API, the health check, or an explicit JSON Accept header."""
    if request.path.startswith("/api/") or request.path == "/healthz":
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json"


def _respond(error: HTTPException):
    code = error.code or 500
    if wants_json():
        return jsonify(error=error.name, message=error.description), code
    return render_template("errors/error.html", error=error), code


def handle_http_error(error: HTTPException):
    """Render any 4xx/5xx the app raises, with its specific message."""
    return _respond(error)


def handle_unexpected(error: Exception):
    """Log the crash and answer 500 without revealing anything from the database."""
    # Manage links are secrets: keep them out of the logs.
    path = re.sub(r"^/s/[^/]+", "/s/<token>", request.path)
    log.exception("Unhandled error on %s %s", request.method, path)
    return _respond(InternalServerError())


def init_app(app: Flask) -> None:
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(Exception, handle_unexpected)
