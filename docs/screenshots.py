"""`make screenshots`: the main pages of both sides as PNGs in docs/screenshots/, at desktop
(1280 x 800) and phone (390 x 844) width, in the light and the dark scheme.

A fresh SQLite database is filled with `flask demo-data` and an owner made with `flask owner
create`; the app is served on a free loopback port and Debian's Chromium (Playwright,
/usr/bin/chromium) takes each page's first screen, as a visitor sees it on arrival.
"""

import logging
import os
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import sqlalchemy as sa
from werkzeug.serving import make_server

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from feedback import create_app  # noqa: E402
from feedback.db import get_engine, get_session  # noqa: E402
from feedback.models import Status, Submission, Visibility  # noqa: E402

OUT = ROOT / "docs" / "screenshots"
CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync"]
EMAIL, PASSWORD = "owner@example.org", "screenshots password"
SIZES = {"desktop": (1280, 800), "phone": (390, 844)}
PUBLIC = [("front", "/"), ("idea", "/ideas/{idea}"), ("topic", "/topics/{topic}")]
OWNER = [
    ("queue", "/admin/"),
    ("item", "/admin/items/{private}"),
    ("dashboard", "/admin/dashboard"),
    ("themes", "/admin/themes"),
    ("digest", "/admin/digests/new"),
]


def _flask(env: dict, *args: str, stdin: str | None = None) -> None:
    subprocess.run(
        [sys.executable, "-m", "flask", "--app", "app.py", *args],
        cwd=ROOT,
        env=env,
        input=stdin,
        text=True,
        check=True,
        capture_output=True,
    )


def _ids(app) -> dict:
    with app.app_context():
        session = get_session()
        public = session.scalar(
            sa.select(Submission).where(
                Submission.status == Status.APPROVED, Submission.visibility == Visibility.PUBLIC
            )
        )
        private = session.scalar(
            sa.select(Submission.id).where(
                Submission.visibility == Visibility.PRIVATE, Submission.status == Status.PENDING
            )
        )
        return {"idea": public.id, "topic": public.topic.slug, "private": private}


def main() -> None:
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.exists():
        sys.exit(f"Chromium not found at {CHROMIUM}: apt-get install chromium")
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/screenshots.sqlite"
        env = {**os.environ, "DATABASE_URL": url, "FEEDBACK_TESTING": "true"}
        _flask(env, "db", "upgrade")
        _flask(env, "demo-data")
        _flask(env, "owner", "create", EMAIL, "--password-stdin", stdin=PASSWORD + "\n")
        app = create_app({"TESTING": True, "DATABASE_URL": url, "MIN_FILL_SECONDS": 0})
        ids = _ids(app)
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        base = f"http://127.0.0.1:{server.server_port}"
        written = 0
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            for size, (width, height) in SIZES.items():
                for scheme in ("light", "dark"):
                    context = browser.new_context(
                        viewport={"width": width, "height": height}, color_scheme=scheme
                    )
                    page = context.new_page()
                    for name, path in PUBLIC:
                        page.goto(base + path.format(**ids))
                        page.screenshot(path=OUT / f"{name}-{size}-{scheme}.png")
                        written += 1
                    page.goto(base + "/admin/login")
                    page.get_by_label("Email").fill(EMAIL)
                    page.get_by_label("Password").fill(PASSWORD)
                    page.get_by_role("button", name="Log in").click()
                    for name, path in OWNER:
                        page.goto(base + path.format(**ids))
                        page.screenshot(path=OUT / f"{name}-{size}-{scheme}.png")
                        written += 1
                    context.close()
            browser.close()
        server.shutdown()
        with app.app_context():
            get_engine().dispose()
    print(f"Wrote {written} screenshots to {OUT.relative_to(ROOT)}/")


if __name__ == "__main__":
    main()
