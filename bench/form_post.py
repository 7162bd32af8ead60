"""The baseline for POST /ideas in bench/front_page.py: a bare Flask form post that stores one
row durably (SQLite in WAL mode, synchronous=FULL, as the app) and redirects."""

import os
import sqlite3

from flask import Flask, g, redirect, request

app = Flask(__name__)


def _db() -> sqlite3.Connection:
    if "db" not in g:
        g.db = sqlite3.connect(os.environ["BENCH_FORM_DATABASE"], timeout=10)
        g.db.execute("PRAGMA journal_mode=WAL")
        g.db.execute("PRAGMA synchronous=FULL")
        g.db.execute(
            "CREATE TABLE IF NOT EXISTS ideas (id INTEGER PRIMARY KEY, name TEXT, email TEXT, "
            "title TEXT, body TEXT)"
        )
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
