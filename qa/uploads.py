"""Uploads: limits checked before any work, complete files only, indexing on one background worker.

An upload batch goes through three steps, each of which can only refuse the file it is looking at:

1. :func:`check_file` — size (per file and per batch, from ``stat``, before a byte is read), file type,
   number of lines and JSONL nesting depth (a line of 100,000 ``[`` would exhaust the recursion of
   ``json.loads``), then parsing. Every refusal is a :class:`FileReport` with a reason a user can act on.
2. :func:`save_upload` — the bytes go to a hidden temporary name in ``uploads/`` and are renamed when
   complete and synced, so a full disk or a crash leaves no half-written file that a restart would index.
   A file whose articles are all in the index already is not saved again: a re-upload is a no-op that
   says so.
3. :class:`IndexWorker` — one thread per index folder adds the saved files to the index in order. The
   request that uploaded them only waits as long as it wants (:meth:`Batch.wait`); questions never wait
   for it, since index writes swap in a new index atomically and readers keep theirs.

:func:`upload_batch` runs the three; the chat's upload handler calls it and renders the reports.
"""

from __future__ import annotations

import errno
import hashlib
import logging
import os
import queue
import re
import secrets
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from qa.config import Settings
from qa.errors import IngestError, QAError
from qa.types import Article

log = logging.getLogger(__name__)

MB = 1024 * 1024
PARTIAL_PREFIX = ".upload-"  # hidden: the index build skips dot files, and stale ones are removed
PARTIAL_SUFFIX = ".part"
WRITE_BLOCK = 1 * MB

# FileReport.status values
ADDED = "added"  # saved and indexed: searchable now
QUEUED = "queued"  # saved, waiting for (or in) the background index write
UNCHANGED = "unchanged"  # every article of the file is in the index already: nothing done
REFUSED = "refused"  # not saved: the reason says why
FAILED = "failed"  # saved, but the index write failed: the file was removed again


@dataclass(frozen=True)
class UploadLimits:
    """What one file and one batch may hold; from ``Settings`` (``QA_MAX_UPLOAD_MB`` etc.)."""

    file_bytes: int
    batch_bytes: int
    lines: int
    json_depth: int

    @classmethod
    def from_settings(cls, settings: Settings) -> UploadLimits:
        return cls(
            file_bytes=int(settings.max_upload_mb * MB),
            batch_bytes=int(settings.max_batch_mb * MB),
            lines=settings.max_upload_lines,
            json_depth=settings.max_json_depth,
        )


@dataclass(frozen=True)
class FileReport:
    """The outcome for one file of a batch; ``message`` is the sentence shown to the user."""

    name: str
    status: str
    message: str
    articles: int = 0
    stored_as: str | None = None  # the file's name in uploads/ when it was saved
    saved: bool = False  # this upload wrote the file (False: it was in uploads/ before)

    @property
    def ok(self) -> bool:
        return self.status in (ADDED, QUEUED, UNCHANGED)


def uploads_dir(settings: Settings) -> Path:
    """Uploaded files live beside the index, never in the articles folder."""
    return Path(settings.index_dir).parent / "uploads"


def _size(n: int) -> str:
    return f"{n / MB:.1f} MB" if n >= MB / 10 else f"{n / 1024:.0f} KB"


def _articles_word(n: int) -> str:
    return "1 article" if n == 1 else f"{n} articles"


def _in_index(n: int) -> str:
    return "its article is in the index" if n == 1 else f"its {n} articles are in the index"


# --------------------------------------------------------------------------------------------------
# 1. Checks, cheapest first


def check_size(size: int, batch_so_far: int, limits: UploadLimits) -> str | None:
    """The reason a file of ``size`` bytes is refused (None: it fits), known from ``stat`` alone."""
    if size > limits.file_bytes:
        return (
            f"the file is {_size(size)}; the limit is {_size(limits.file_bytes)} per file "
            "(QA_MAX_UPLOAD_MB). Split it into smaller files."
        )
    if batch_so_far + size > limits.batch_bytes:
        return (
            f"this upload is over {_size(limits.batch_bytes)} in all (QA_MAX_BATCH_MB); "
            "upload this file separately."
        )
    return None


_JSON_STRING = re.compile(rb'"(?:[^"\\\n]|\\.)*"')
_OPEN = np.zeros(256, dtype=np.int8)
_OPEN[[ord("["), ord("{")]] = 1
_OPEN[[ord("]"), ord("}")]] = -1


def json_depth(line: bytes) -> int:
    """Deepest bracket nesting of one JSON line, brackets inside strings not counted (linear, no parse)."""
    if line.count(b"[") + line.count(b"{") <= 1:
        return line.count(b"[") + line.count(b"{")
    bare = _JSON_STRING.sub(b'""', line)
    steps = _OPEN[np.frombuffer(bare, dtype=np.uint8)].astype(np.int64)
    return int(steps.cumsum().max(initial=0))


def check_content(name: str, data: bytes, limits: UploadLimits) -> str | None:
    """The reason the bytes are refused before parsing: too many lines, or a JSONL line nested too deep."""
    lines = data.count(b"\n") + (0 if data.endswith(b"\n") or not data else 1)
    if lines > limits.lines:
        return (
            f"the file has {lines:,} lines; the limit is {limits.lines:,} per file "
            "(QA_MAX_UPLOAD_LINES). Split it into smaller files."
        )
    if Path(name).suffix.lower() == ".jsonl":
        for lineno, line in enumerate(data.split(b"\n"), start=1):
            # Cheap bound first: a line cannot nest deeper than it has opening brackets.
            if line.count(b"[") + line.count(b"{") <= limits.json_depth:
                continue
            depth = json_depth(line)
            if depth > limits.json_depth:
                return (
                    f"line {lineno} is nested {depth:,} levels deep; an article record needs a few and "
                    f"the limit is {limits.json_depth} (QA_MAX_JSON_DEPTH)."
                )
    return None


def parse_upload(name: str, data: bytes) -> list[Article]:
    """Articles of one uploaded file, or IngestError with a reason; a parser failure never escapes."""
    from qa.ingest import parse_bytes

    try:
        articles = parse_bytes(name, data)
    except IngestError:
        raise
    except RecursionError:
        raise IngestError("the file is nested too deeply to be read") from None
    except (ValueError, UnicodeError, MemoryError) as exc:
        raise IngestError(f"the file could not be read ({type(exc).__name__}: {exc})") from None
    if not articles:
        raise IngestError("no article text found in it")
    return articles


SUPPORTED_SUFFIXES = frozenset({".txt", ".md", ".html", ".htm", ".jsonl"})


@dataclass(frozen=True)
class Checked:
    """A file that passed the checks: its bytes and articles, ready to be saved."""

    name: str
    data: bytes
    articles: tuple[Article, ...]


def check_file(path: str | Path, batch_so_far: int, limits: UploadLimits) -> Checked | FileReport:
    """Run every check on one uploaded file, reading it only once its size is known to fit."""
    path = Path(path)
    name = path.name

    def refuse(reason: str) -> FileReport:
        return FileReport(name, REFUSED, reason)

    if path.suffix.lower() not in SUPPORTED_SUFFIXES:
        kinds = ", ".join(sorted(SUPPORTED_SUFFIXES))
        return refuse(f"unsupported file type {path.suffix or '(none)'!r}; use one of {kinds}.")
    try:
        size = path.stat().st_size
        if reason := check_size(size, batch_so_far, limits):
            return refuse(reason)
        with path.open("rb") as f:
            data = f.read(limits.file_bytes + 1)  # the file may have grown since stat
    except OSError as exc:
        return refuse(f"could not read it ({exc.strerror or exc}).")
    if len(data) > limits.file_bytes:
        return refuse(check_size(len(data), 0, limits) or "the file is too large.")
    if reason := check_content(name, data, limits):
        return refuse(reason)
    try:
        articles = parse_upload(name, data)
    except IngestError as exc:
        return refuse(str(exc))
    return Checked(name, data, tuple(articles))


# --------------------------------------------------------------------------------------------------
# 2. Saving: complete files only, and never twice


def safe_name(name: str) -> str:
    """A plain file name for uploads/ (no path, no control characters, never a dot file)."""
    safe = re.sub(r"[^\w.\- ]+", "_", Path(name).name).strip(" .")
    return safe or "upload.txt"


_SAVE_LOCK = threading.Lock()  # two uploads at once (two tabs) must not pick the same free name


def _writer_alive(partial: Path) -> bool:
    """Whether the process named in a temporary file's name (``.upload-<pid>-…``) may still write it."""
    pid = partial.name[len(PARTIAL_PREFIX) :].split("-", 1)[0]
    if not pid.isdigit() or int(pid) == os.getpid():
        return False  # ours: saves run under _SAVE_LOCK, so none is in progress while we clean up
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists, but not ours to signal
        return True
    return True


def remove_partials(folder: Path) -> int:
    """Delete temporary files left by an interrupted save (a crash or a full disk); returns how many.

    A temporary file of another live process (a second server on the same folder) is left alone.
    """
    removed = 0
    with _SAVE_LOCK:
        for p in folder.glob(f"{PARTIAL_PREFIX}*{PARTIAL_SUFFIX}"):
            if _writer_alive(p):
                continue
            try:
                p.unlink()
                removed += 1
            except OSError:
                log.debug("cannot remove %s", p, exc_info=True)
    return removed


def write_atomic(target: Path, data: bytes) -> None:
    """Write ``data`` to ``target`` through a hidden temporary file, renamed only when complete.

    On any error (ENOSPC, EIO, …) the temporary file is removed and the error raised: ``target``
    either does not exist or holds all of ``data``.
    """
    tmp = target.with_name(
        f"{PARTIAL_PREFIX}{os.getpid()}-{secrets.token_hex(6)}-{target.name}{PARTIAL_SUFFIX}"
    )
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        try:
            view = memoryview(data)
            while view:
                written = os.write(fd, view[:WRITE_BLOCK])
                if written <= 0:
                    raise OSError(errno.EIO, "short write")
                view = view[written:]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    try:  # make the rename itself durable
        dir_fd = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except OSError:
        pass


def _same_file(folder: Path, data: bytes) -> Path | None:
    """An upload already in ``folder`` with exactly these bytes (only files of the same size are read)."""
    digest = hashlib.sha256(data).digest()
    for p in folder.iterdir():
        if p.name.startswith(".") or not p.is_file():
            continue
        try:
            if p.stat().st_size == len(data) and hashlib.sha256(p.read_bytes()).digest() == digest:
                return p
        except OSError:
            continue
    return None


def _target(folder: Path, name: str, data: bytes) -> Path:
    """The file's own name, or a content-suffixed one when another file already has that name."""
    target = folder / safe_name(name)
    if target.exists():
        digest = hashlib.sha256(data).hexdigest()[:10]
        target = folder / f"{target.stem}-{digest}{target.suffix}"
    return target


def indexed_already(articles: Iterable[Article], settings: Settings) -> bool:
    """True when every article is in the index with the same title and text (a re-upload)."""
    from qa import store

    catalog_path = store.live_dir(Path(settings.index_dir)) / store.CATALOG
    if not catalog_path.exists():
        return False
    try:
        catalog = store.Catalog(catalog_path)
    except QAError:
        return False
    try:
        for a in articles:
            old = catalog.article(a.id)
            if old is None or old.text != a.text or old.title != a.title:
                return False
        return True
    except QAError:
        return False
    finally:
        catalog.close()


def save_upload(checked: Checked, folder: Path, settings: Settings) -> FileReport:
    """Store a checked file in ``folder`` (or find it there); QUEUED, UNCHANGED or REFUSED."""
    with _SAVE_LOCK:
        return _save_upload(checked, folder, settings)


def _save_upload(checked: Checked, folder: Path, settings: Settings) -> FileReport:
    n = len(checked.articles)
    existing = _same_file(folder, checked.data)
    if existing is not None and indexed_already(checked.articles, settings):
        return FileReport(
            checked.name,
            UNCHANGED,
            f"already uploaded as {existing.name}; {_in_index(n)}, nothing changed.",
            n,
            existing.name,
        )
    if existing is not None:  # saved before but not (or no longer) indexed: index that file again
        return FileReport(checked.name, QUEUED, "indexing…", n, existing.name)
    if indexed_already(checked.articles, settings):
        return FileReport(checked.name, UNCHANGED, f"{_in_index(n)} already, nothing changed.", n)
    target = _target(folder, checked.name, checked.data)
    try:
        write_atomic(target, checked.data)
    except OSError as exc:
        reason = "the disk is full" if exc.errno == errno.ENOSPC else (exc.strerror or str(exc))
        return FileReport(checked.name, REFUSED, f"could not be saved ({reason}); nothing was kept.")
    return FileReport(checked.name, QUEUED, "indexing…", n, target.name, saved=True)


# --------------------------------------------------------------------------------------------------
# 3. Indexing in the background


class Batch:
    """The reports of one upload; the queued ones become ADDED or FAILED when the worker is done."""

    def __init__(self, reports: Sequence[FileReport]) -> None:
        self._reports = list(reports)
        self._lock = threading.Lock()
        self.done = threading.Event()
        if not any(r.status == QUEUED for r in self._reports):
            self.done.set()

    @property
    def reports(self) -> list[FileReport]:
        with self._lock:
            return list(self._reports)

    def queued(self) -> list[FileReport]:
        return [r for r in self.reports if r.status == QUEUED]

    def _settle(self, outcome: dict[str, FileReport]) -> None:
        with self._lock:
            self._reports = [
                outcome.get(r.stored_as or "", r) if r.status == QUEUED else r for r in self._reports
            ]
        self.done.set()

    def wait(
        self, timeout: float | None = None, *, tick: Callable[[], None] | None = None, every: float = 0.5
    ) -> list[FileReport]:
        """The reports once indexed, or as they stand after ``timeout`` (queued files keep indexing)."""
        if tick is None:
            self.done.wait(timeout)
        else:
            import time

            deadline = None if timeout is None else time.monotonic() + timeout
            while not self.done.wait(every):
                tick()
                if deadline is not None and time.monotonic() >= deadline:
                    break
        return self.reports


@dataclass(frozen=True)
class _Job:
    batch: Batch
    folder: Path
    settings: Settings
    lock: Any  # a context manager held around the index write (the chat's write lock), or None
    ready: threading.Event | None  # set when the startup build is done
    on_progress: Callable[..., None] | None
    on_indexed: Callable[[], None] | None


class IndexWorker:
    """One daemon thread that adds uploaded files to one index, one batch at a time, in order."""

    def __init__(self, name: str = "qa-upload-index") -> None:
        self._queue: queue.Queue[_Job] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def submit(self, job: _Job) -> None:
        self._queue.put(job)

    def pending(self) -> int:
        return self._queue.qsize()

    def _run(self) -> None:
        while True:
            job = self._queue.get()
            try:
                job.batch._settle(_index_job(job))
            except BaseException as exc:  # the worker must outlive any one batch
                log.exception("upload indexing failed")
                reason = f"could not be indexed ({type(exc).__name__}: {exc})."
                job.batch._settle(
                    {r.stored_as or "": replace(r, status=FAILED, message=reason) for r in job.batch.queued()}
                )
            finally:
                self._queue.task_done()


def _add(path: Path, job: _Job) -> Any:
    """One file into the index (``origin="upload"``: it can never replace another origin's article)."""
    from qa.index import add_articles

    def progress(*args: Any) -> None:
        if job.on_progress is not None:
            job.on_progress(*args)

    if job.lock is None:
        return add_articles([path], settings=job.settings, progress_callback=progress)
    with job.lock:
        return add_articles([path], settings=job.settings, progress_callback=progress)


def _indexed_report(r: FileReport, stats: Any, folder: Path) -> FileReport:
    """ADDED with what the store did, or UNCHANGED when it already held every article of the file."""
    added = getattr(stats, "added", None)
    unchanged = getattr(stats, "unchanged", 0) or 0
    notes = " ".join(f"{n.rstrip('.')}." for n in getattr(stats, "notes", ()) or ())
    if added == 0 and unchanged >= r.articles:
        if r.saved:  # a second copy of indexed articles: keep uploads/ free of it
            (folder / (r.stored_as or "")).unlink(missing_ok=True)
        message = f"{_in_index(r.articles)} already, nothing changed."
        return replace(r, status=UNCHANGED, message=message, stored_as=None if r.saved else r.stored_as)
    n = r.articles if added is None else added
    message = f"{_articles_word(n)} added, searchable now."
    if unchanged:
        message += f" {unchanged} already in the index."
    return replace(r, status=ADDED, message=f"{message} {notes}".strip())


def _index_job(job: _Job) -> dict[str, FileReport]:
    """Index the batch's queued files one by one, so that each gets its own outcome."""
    if job.ready is not None:
        job.ready.wait()
    outcome: dict[str, FileReport] = {}
    for r in job.batch.queued():
        path = job.folder / (r.stored_as or "")
        try:
            outcome[r.stored_as or ""] = _indexed_report(r, _add(path, job), job.folder)
        except Exception as exc:  # QAError, OSError, or a bug in a later stage: one file, one reason
            if not isinstance(exc, QAError | OSError):
                log.exception("indexing the upload %s failed", path)
            # Not in the index, so it must not stay in uploads/ for the next start to index.
            path.unlink(missing_ok=True)
            outcome[r.stored_as or ""] = replace(
                r, status=FAILED, message=f"could not be indexed ({exc}); the file was not kept."
            )
        finally:
            if job.on_indexed is not None:
                try:
                    job.on_indexed()
                except Exception:
                    log.debug("on_indexed callback failed", exc_info=True)
    return outcome


_WORKERS: dict[Path, IndexWorker] = {}
_WORKERS_LOCK = threading.Lock()


def worker_for(settings: Settings) -> IndexWorker:
    """The one worker of ``settings.index_dir`` in this process (created on first use)."""
    key = Path(settings.index_dir).resolve()
    with _WORKERS_LOCK:
        if key not in _WORKERS:
            _WORKERS[key] = IndexWorker()
        return _WORKERS[key]


# --------------------------------------------------------------------------------------------------
# The whole batch


def upload_batch(
    paths: Sequence[str | Path],
    settings: Settings,
    *,
    lock: Any = None,
    ready: threading.Event | None = None,
    on_progress: Callable[..., None] | None = None,
    on_indexed: Callable[[], None] | None = None,
) -> Batch:
    """Check and save every file of an upload and queue the good ones for indexing; one report per file.

    Returns at once (after reading and parsing the files, never after indexing them): call
    :meth:`Batch.wait` to see the queued files become ADDED or FAILED. ``lock`` is held around each
    index write, ``ready`` waited for before it (the chat passes its write lock and its startup event);
    ``on_indexed`` runs after each batch's write, ``on_progress`` receives the indexer's progress.
    """
    limits = UploadLimits.from_settings(settings)
    folder = uploads_dir(settings)
    reports: list[FileReport] = []
    try:
        folder.mkdir(parents=True, exist_ok=True)
        remove_partials(folder)
    except OSError as exc:
        why = f"the uploads folder {folder} cannot be written ({exc.strerror or exc})."
        return Batch([FileReport(Path(p).name, REFUSED, why) for p in paths])
    total = 0
    seen: dict[str, str] = {}  # stored name -> the first file of this batch stored there
    for path in paths:
        checked = check_file(path, total, limits)
        if isinstance(checked, FileReport):
            reports.append(checked)
            continue
        total += len(checked.data)
        report = save_upload(checked, folder, settings)
        if report.status == QUEUED and report.stored_as in seen:
            report = FileReport(
                checked.name,
                UNCHANGED,
                f"same content as {seen[report.stored_as]} in this upload.",
                report.articles,
            )
        elif report.stored_as:
            seen[report.stored_as] = checked.name
        reports.append(report)
    batch = Batch(reports)
    if not batch.done.is_set():
        worker_for(settings).submit(_Job(batch, folder, settings, lock, ready, on_progress, on_indexed))
    return batch


def stored_uploads(settings: Settings) -> list[Path]:
    """Files in uploads/ that a start should index: complete (no temporaries) and within the size limit."""
    folder = uploads_dir(settings)
    if not folder.is_dir():
        return []
    limit = UploadLimits.from_settings(settings).file_bytes
    keep: list[Path] = []
    for p in sorted(folder.iterdir()):
        if p.name.startswith(".") or not p.is_file():
            continue
        try:
            if p.stat().st_size > limit:
                log.warning("not indexing %s: over the upload limit (QA_MAX_UPLOAD_MB)", p)
                continue
        except OSError:
            continue
        keep.append(p)
    return keep
