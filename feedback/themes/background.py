"""Recomputing the themes in a thread, so that the owner's page never waits a minute for one.

The thread belongs to the process that was asked; every process sees that a computation is
under way by its unfinished ``ThemeRun`` row (``store.running``).
"""

import logging
import threading

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from feedback.themes import store

log = logging.getLogger(__name__)

# Up to this many ideas a recomputation runs during the request (5 000 take about 1.5 s).
INLINE_IDEAS = 2000

_threads: dict[Engine, threading.Thread] = {}
_lock = threading.Lock()


def start(engine: Engine) -> bool:
    """Start a recomputation in a thread of this process; False if one is already running."""
    with _lock:
        if engine in _threads and _threads[engine].is_alive():
            return False
        thread = threading.Thread(target=_recompute, args=(engine,), daemon=True)
        _threads[engine] = thread
        thread.start()
    return True


def _recompute(engine: Engine) -> None:
    try:
        with Session(engine, expire_on_commit=False) as session:
            run = store.rebuild(session)
        log.info(
            "Recomputed %d ideas into %d themes in %.1f s", run.ideas, run.themes, run.seconds
        )
    except sa.exc.IntegrityError:
        log.info("Another recomputation saved its themes first; they stand")
    except Exception:
        log.exception("Recomputing the themes failed")
