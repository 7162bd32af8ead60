"""Rule 4: once the reader sees "thank you", the idea survives the server being killed."""

import http.cookiejar
import os
import re
import signal
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import sqlalchemy as sa

from feedback.db import get_session
from feedback.models import Submission
from tests.servers import NoRedirect, start_gunicorn

ROOT = Path(__file__).resolve().parent.parent


def test_acknowledged_submissions_survive_a_killed_server(app, database_url):
    process, base = start_gunicorn(database_url, workers=2)
    acknowledged = []
    try:
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirect())
        page = opener.open(base + "/").read().decode()
        csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        started = re.search(r'name="started" type="hidden" value="([^"]+)"', page).group(1)
        topic = re.search(r'<option value="(\d+)"', page).group(1)
        for n in range(10):
            body = urllib.parse.urlencode(
                {
                    "csrf_token": csrf,
                    "started": started,
                    "name": "Crash Tester",
                    "email": f"crash{n}@example.org",
                    "topic": topic,
                    "body": f"Idea {n} that must survive a crash.",
                    "visibility": "private" if n % 2 else "public",
                    "credit": "name",
                }
            ).encode()
            try:
                opener.open(base + "/ideas", data=body)
            except urllib.error.HTTPError as exc:
                assert exc.code == 303, exc.read()
                acknowledged.append(n)
    finally:
        # No shutdown, no cleanup: the whole process group dies at once.
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()

    assert acknowledged == list(range(10))
    with app.app_context():
        bodies = get_session().scalars(sa.select(Submission.body).order_by(Submission.id)).all()
    assert bodies == [f"Idea {n} that must survive a crash." for n in range(10)]
