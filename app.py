"""Entry point for `flask run` and `gunicorn app:app`."""

from feedback import create_app

app = create_app()
