"""A real gunicorn with several workers, and a cookie-keeping client that sees redirects."""

import html
import http.cookiejar
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gunicorn(
    database_url: str, workers: int = 4, **settings: str
) -> tuple[subprocess.Popen, str]:
    """Start ``gunicorn -w N app:app`` on the database; ``settings`` go in as environment."""
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if k != "REDIS_URL"},
        "DATABASE_URL": database_url,
        "SECRET_KEY": "gunicorn-test",
        "FEEDBACK_MIN_FILL_SECONDS": "0",
        "FEEDBACK_RATELIMIT_ENABLED": "false",
        **settings,
    }
    gunicorn = Path(sys.executable).parent / "gunicorn"
    process = subprocess.Popen(
        [str(gunicorn), "-w", str(workers), "-b", f"127.0.0.1:{port}", "app:app"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(base + "/healthz", timeout=1)
            return process, base
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("gunicorn did not start")


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


@dataclass
class Answer:
    status: int
    headers: dict
    text: str


class Browser:
    """One visitor: keeps its cookies, reports redirects instead of following them."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self._opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), NoRedirect()
        )

    def request(self, path: str, data: dict | None = None) -> Answer:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        try:
            with self._opener.open(self.base + path, data=body, timeout=60) as response:
                return Answer(response.status, dict(response.headers), response.read().decode())
        except urllib.error.HTTPError as exc:
            return Answer(exc.code, dict(exc.headers), exc.read().decode())

    def form(self, path: str) -> dict:
        """The hidden fields (CSRF token, form keys) and the first topic of a page's form."""
        page = self.request(path).text
        fields = {}
        for tag in re.findall(r"<input[^>]*>", page):
            name, value = re.search(r'name="(\w+)"', tag), re.search(r'value="([^"]*)"', tag)
            if 'type="hidden"' in tag and name and value:
                fields.setdefault(name[1], html.unescape(value[1]))
        topic = re.search(r'<option value="(\d+)"', page)
        if topic:
            fields["topic"] = topic.group(1)
        return fields


DOVECOT = "/usr/sbin/dovecot"


@dataclass
class ImapServer:
    """A real Dovecot on loopback, TLS only, with one user whose Maildir the test fills."""

    process: subprocess.Popen
    port: int
    user: str
    password: str
    ca_file: str
    maildir: Path
    owner: tuple[int, int]

    def deliver(self, raw: bytes) -> None:
        """Put a message in the user's inbox, as a delivery agent would."""
        import mailbox

        box = mailbox.Maildir(self.maildir, create=True)
        key = box.add(raw)
        box.close()
        for path in [self.maildir, *self.maildir.rglob("*")]:
            os.chown(path, *self.owner)
        assert key

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)
        self.process.stderr.close()
        shutil.rmtree(self.maildir.parent.parent, ignore_errors=True)


def imap_unavailable() -> str | None:
    """Why a Dovecot test server cannot run here, or None."""
    if not Path(DOVECOT).exists():
        return "Dovecot is not installed (Debian: apt-get install dovecot-imapd)"
    if not shutil.which("openssl"):
        return "openssl is not installed (it makes the test server's certificate)"
    return None


def start_dovecot(password: str = "imap test password") -> ImapServer:
    """Dovecot as its own server in a new folder: IMAPS on a free port with a self-signed
    certificate (the ``ca_file`` a client trusts), one passwd-file user."""
    import pwd
    import tempfile

    # Its own folder, readable by Dovecot's unprivileged processes (pytest's are not).
    folder = Path(tempfile.mkdtemp(prefix="dovecot-"))
    folder.chmod(0o755)
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2"]
        + ["-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"]
        + ["-keyout", str(folder / "key.pem"), "-out", str(folder / "cert.pem")],
        check=True,
        capture_output=True,
    )
    if os.getuid() == 0:
        # Root runs the master; mail is handled as Dovecot's own unprivileged users.
        internal, login = "dovecot", "dovenull"
        mail_user = pwd.getpwnam("dovecot")
    else:
        internal = login = pwd.getpwuid(os.getuid()).pw_name
        mail_user = pwd.getpwuid(os.getuid())
    owner = (mail_user.pw_uid, mail_user.pw_gid)
    home = folder / "home"
    maildir = home / "Maildir"
    for sub in ("cur", "new", "tmp"):
        (maildir / sub).mkdir(parents=True, exist_ok=True)
    for path in [home, *home.rglob("*")]:
        os.chown(path, *owner)
    user = "reader"
    (folder / "passwd").write_text(f"{user}:{{PLAIN}}{password}\n", encoding="utf-8")
    port = free_port()
    (folder / "dovecot.conf").write_text(
        f"""
protocols = imap
listen = 127.0.0.1
base_dir = {folder}/run
state_dir = {folder}/state
log_path = {folder}/dovecot.log
default_internal_user = {internal}
default_login_user = {login}
first_valid_uid = 1
ssl = required
ssl_cert = <{folder}/cert.pem
ssl_key = <{folder}/key.pem
auth_mechanisms = plain
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {folder}/passwd
}}
userdb {{
  driver = static
  args = uid={owner[0]} gid={owner[1]} home={home}
}}
mail_location = maildir:{maildir}
service imap-login {{
  inet_listener imap {{
    port = 0
  }}
  inet_listener imaps {{
    port = {port}
    ssl = yes
  }}
}}
"""
    )
    process = subprocess.Popen(
        [DOVECOT, "-F", "-c", str(folder / "dovecot.conf")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"Dovecot stopped: {process.stderr.read().decode()[:2000]}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            time.sleep(0.1)
    else:
        process.terminate()
        raise RuntimeError("Dovecot did not start listening in 20 s")
    return ImapServer(process, port, user, password, str(folder / "cert.pem"), maildir, owner)
