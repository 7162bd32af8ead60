"""The baseline for POST /ideas in bench/front_page.py: a bare Flask form post that stores one
row durably (SQLite in WAL mode, synchronous=FULL, as the app) and redirects."""

import os
import sqlite3
import time

from flask import Flask, g, redirect, request

app = Flask(__name__)


def _connect() -> sqlite3.Connection:
    return sqlite3.connect(os.environ["BENCH_FORM_DATABASE"], timeout=10)


def _prepare() -> None:
    """Once per worker, before any request: WAL (it stays set in the file) and the table.
    Switching the journal mode while another worker does fails at once, so try again."""
    for _attempt in range(100):
        try:
            with _connect() as setup:
                setup.execute("PRAGMA journal_mode=WAL")
                setup.execute(
                    "CREATE TABLE IF NOT EXISTS ideas (id INTEGER PRIMARY KEY, name TEXT, "
                    "email TEXT, title TEXT, body TEXT)"
                )
            return
        except sqlite3.OperationalError:
            time.sleep(0.05)
    raise RuntimeError("the bench database stayed locked")


_prepare()


def _db() -> sqlite3.Connection:
    if "db" not in g:
        g.db = _connect()
        g.db.execute("PRAGMA synchronous=FULL")
    return g.db


@app.teardown_appcontext
def _close(_exc) -> None:
    db = g.pop("db", None)
    if db is not None:
        db.close()


@app.get("/")
def ready() -> str:
    return "ready"


@app.post("/ideas")
def post():
    form = request.form
    with _db() as db:
        db.execute(
            "INSERT INTO ideas (name, email, title, body) VALUES (?, ?, ?, ?)",
            (form["name"], form["email"], form.get("title"), form["body"]),
        )
    return redirect("/thanks", 303)
