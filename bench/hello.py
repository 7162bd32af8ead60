"""The baseline for bench/front_page.py: a bare Flask app, served the same way."""

from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello() -> str:
    return "hello"
