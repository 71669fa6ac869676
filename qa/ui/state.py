"""What the chat's status line and articles panel show, kept by one object per server.

:class:`IndexState` runs three background jobs: the startup index build, the warm-up of the
language model (so the first question does not pay for loading it), and a watcher that polls the
index's version, so counts and the articles list follow changes made by any process (``qa index``
or ``qa remove`` in a terminal, an upload in another tab).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qa.config import Settings
from qa.types import IndexStats

log = logging.getLogger(__name__)

WATCH_INTERVAL_S = 1.0  # how often the index version is polled (one stat call)


@dataclass(frozen=True)
class ArticleInfo:
    """One row of the articles panel."""

    id: str
    title: str
    source: str
    published_at: str | None
    chunks: int
    path: str | None = None
    upload: str | None = None  # the uploaded file's name when the article came from an upload


@dataclass
class IndexState:
    """Index and model status for the status line, and a lock that serialises the chat's index writes."""

    settings: Settings
    phase: str = "starting"  # starting | indexing | ready | error
    progress: float | None = None
    detail: str = ""
    stats: IndexStats | None = None
    error: str | None = None
    model: str | None = None
    model_phase: str = "idle"  # idle | loading | ready | remote (an endpoint, not warmed) | error
    model_error: str | None = None
    generation: int = 0  # bumped whenever the index on disk changed
    version: Any = None
    ready: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    _library: tuple[int, list[ArticleInfo]] | None = None
    _stop: threading.Event = field(default_factory=threading.Event)

    @property
    def uploads_dir(self) -> Path:
        """Uploaded files live beside the index, never in the articles folder."""
        try:
            from qa import uploads  # type: ignore[attr-defined]

            folder = getattr(uploads, "uploads_dir", None)
            if callable(folder):
                return Path(folder(self.settings))
        except ImportError:
            pass
        return Path(self.settings.index_dir).parent / "uploads"

    def on_progress(self, *args: Any, **kwargs: Any) -> None:
        """Accepts (done, total[, desc]), (fraction[, desc]) or (desc) from the indexer."""
        numbers = [a for a in args if isinstance(a, int | float) and not isinstance(a, bool)]
        texts = [a for a in args if isinstance(a, str)] + [v for v in kwargs.values() if isinstance(v, str)]
        if len(numbers) >= 2 and numbers[1]:
            self.progress = max(0.0, min(1.0, numbers[0] / numbers[1]))
        elif len(numbers) == 1 and 0 <= numbers[0] <= 1:
            self.progress = float(numbers[0])
        if texts:
            self.detail = texts[0]

    # ----------------------------------------------------------------------------------------------
    # Background jobs

    def start(self, build: bool = True, warm: bool = True) -> None:
        threading.Thread(target=self._startup, args=(build,), name="qa-index-build", daemon=True).start()
        if warm:
            threading.Thread(target=self._warm, name="qa-model-warm", daemon=True).start()
        threading.Thread(target=self._watch, name="qa-index-watch", daemon=True).start()

    def stop(self) -> None:
        self._stop.set()

    def _startup(self, build: bool) -> None:
        try:
            self.model = _describe_model(self.settings)
        except Exception as exc:  # the status line must not die because the model cannot be described
            self.model = f"unavailable ({exc})"
        if not build:
            self.refresh(force=True)
            self.phase = "ready"
            self.ready.set()
            return
        from qa.index import build_index

        with self.lock:
            self.phase = "indexing"
            try:
                uploads = sorted(
                    p for p in self.uploads_dir.glob("*") if p.is_file() and not p.name.startswith(".")
                )
                paths = [self.settings.articles_dir, *uploads] if uploads else None
                self.stats = build_index(
                    paths, settings=self.settings, progress=False, progress_callback=self.on_progress
                )
                self.refresh(force=True)
                self.phase = "ready"
            except Exception as exc:
                log.exception("index build failed")
                self.phase, self.error = "error", str(exc)
            finally:
                self.progress = None
                self.ready.set()

    def _warm(self) -> None:
        """Load the model while the page is open, so the first question does not wait for it."""
        self.model_phase = "loading"
        try:
            self.model_phase = "ready" if warm_model(self.settings) else "remote"
        except Exception as exc:  # answers still work: they fall back to quoting the articles
            log.warning("model warm-up failed: %s", exc)
            self.model_phase, self.model_error = "error", str(exc)

    def _watch(self) -> None:
        while not self._stop.wait(WATCH_INTERVAL_S):
            try:
                self.refresh()
            except Exception:  # a transient read error must not end the watcher
                log.debug("index watch failed", exc_info=True)

    def refresh(self, force: bool = False) -> bool:
        """Re-read counts when the index on disk changed; True when it did."""
        version = _index_version(self.settings)
        if not force and version == self.version:
            return False
        self.version = version
        self.stats = index_stats(self.settings) or self.stats
        self.generation += 1
        return True

    def library(self) -> list[ArticleInfo]:
        """The indexed articles (cached until the index changes)."""
        cached = self._library
        if cached is not None and cached[0] == self.generation:
            return cached[1]
        rows = list_articles(self.settings, self.uploads_dir)
        self._library = (self.generation, rows)
        return rows


def _stored_uploads(settings: Settings, folder: Path) -> list[Path]:
    try:
        from qa.uploads import stored_uploads  # complete files within the size limit only
    except ImportError:
        return sorted(p for p in folder.glob("*") if p.is_file() and not p.name.startswith("."))
    return stored_uploads(settings)


def _describe_model(settings: Settings) -> str:
    from qa.llm import describe

    return describe(settings)


def warm_model(settings: Settings) -> bool:
    """Join the model file, start the engine and prime its prompt cache (:func:`qa.engine.warm`).

    False when there was nothing to warm: a remote endpoint is not sent a request it may bill.
    """
    try:
        from qa.engine import warm
    except ImportError:  # an engine module without warm(): a one-token completion does the same
        if not settings.uses_embedded_llm:
            return False
        from qa.llm import get_llm

        get_llm(settings).complete([{"role": "user", "content": "Say OK."}], max_tokens=1)
        return True
    return warm(settings) is not None


def _index_version(settings: Settings) -> Any:
    from qa.index import index_version

    return index_version(settings.index_dir)


def _live_folder(settings: Settings) -> Path:
    try:
        from qa.store import live_dir  # type: ignore[attr-defined]

        return Path(live_dir(Path(settings.index_dir)))
    except ImportError:
        return Path(settings.index_dir) / "current"


def index_stats(settings: Settings) -> IndexStats | None:
    """Article and chunk counts of the live index, from its manifest (``counts``), else its catalog."""
    try:
        manifest = json.loads((_live_folder(settings) / "manifest.json").read_text("utf-8"))
        counts = manifest.get("counts") or manifest
        return IndexStats(int(counts["articles"]), int(counts["chunks"]), 0, 0, 0)
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        pass
    rows = list_articles(settings, None)
    if rows:
        return IndexStats(len(rows), sum(r.chunks for r in rows), 0, 0, 0)
    return None


def _upload_name(path: str | None, uploads_dir: Path | None) -> str | None:
    if not path or uploads_dir is None:
        return None
    try:
        p = Path(path).resolve()
        return p.name if p.parent == uploads_dir.resolve() else None
    except OSError:
        return None


def list_articles(settings: Settings, uploads_dir: Path | None) -> list[ArticleInfo]:
    """The indexed articles (``qa.index.list_articles``), each with its uploaded file's name if any."""
    from qa.index import list_articles as library

    try:
        rows = library(settings)
    except Exception:
        log.debug("listing articles failed", exc_info=True)
        return []
    out = []
    for r in rows:
        upload = _upload_name(r.path, uploads_dir)
        if upload is None and r.origin == "upload" and r.path:
            upload = Path(r.path).name
        out.append(ArticleInfo(r.id, r.title or "", r.source or "", r.published_at, r.chunks, r.path, upload))
    return out


# --------------------------------------------------------------------------------------------------
# Login


class LoginThrottle:
    """A ``user:password`` check for Gradio's login that slows down repeated wrong passwords.

    After each failure the next check waits twice as long (0.25 s, 0.5 s, … up to 8 s), one check
    at a time, so 200 guesses take minutes instead of seconds; a success resets the delay.
    """

    def __init__(self, user: str, password: str, *, base_delay_s: float = 0.25, max_delay_s: float = 8.0):
        self._user = hashlib.sha256(user.encode()).digest()
        self._password = hashlib.sha256(password.encode()).digest()
        self.base_delay_s = base_delay_s
        self.max_delay_s = max_delay_s
        self.failures = 0
        self._lock = threading.Lock()

    def delay(self) -> float:
        if self.failures == 0:
            return 0.0
        return min(self.max_delay_s, self.base_delay_s * 2 ** (self.failures - 1))

    def __call__(self, username: str, password: str) -> bool:
        with self._lock:  # one check at a time, so parallel guesses queue behind the delay
            time.sleep(self.delay())
            ok_user = hmac.compare_digest(hashlib.sha256((username or "").encode()).digest(), self._user)
            ok_pass = hmac.compare_digest(hashlib.sha256((password or "").encode()).digest(), self._password)
            if ok_user and ok_pass:
                self.failures = 0
                return True
            self.failures += 1
            log.warning("wrong chat login (%d in a row)", self.failures)
            return False


def parse_auth(value: str | None) -> tuple[str, str] | None:
    """``"user:pass"`` → ("user", "pass"); empty → None."""
    if not value:
        return None
    user, sep, password = value.partition(":")
    if not sep or not user or not password:
        raise ValueError('QA_AUTH must look like "user:password"')
    return user, password


# --------------------------------------------------------------------------------------------------
# Dates in the settings panel

_DATE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")


def check_date(value: str | None, what: str) -> str | None:
    """``""`` → None; ``2023``, ``2023-12`` or ``2023-12-27`` kept; anything else a ValueError."""
    value = (value or "").strip()
    if not value:
        return None
    if not _DATE.match(value):
        raise ValueError(f"The {what} date “{value[:40]}” should look like 2023-12-27 (or 2023-12, or 2023).")
    parts = [int(p) for p in value.split("-")]
    if len(parts) > 1 and not 1 <= parts[1] <= 12 or len(parts) > 2 and not 1 <= parts[2] <= 31:
        raise ValueError(f"The {what} date “{value}” is not a real date.")
    return value
