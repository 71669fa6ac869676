"""Files of the index folder: manifest, write lock, crash recovery and the atomic swap of a full build."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from qa.errors import IndexMismatchError, QAIndexError
from qa.store.base import FORMAT_VERSION, REBUILD_HINT
from qa.store.catalog import CATALOG, ArticleRow, ChunkRow

CURRENT = "current"
MANIFEST = "manifest.json"


def make_manifest(
    *, embedder: str, dim: int, max_tokens: int, overlap: int, engine: str = "faiss", **extra: Any
) -> dict[str, Any]:
    """The static part of the manifest (what the index was built with); counts and times live in the catalog."""
    return {
        "format": FORMAT_VERSION,
        "embedder": embedder,
        "dim": dim,
        "vector_engine": engine,
        "chunker": {"max_tokens": max_tokens, "overlap_sentences": overlap},
        **extra,
    }


def expected_settings(
    embedder: str, dim: int | None, max_tokens: int, overlap: int, engine: str | None = None
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "format": FORMAT_VERSION,
        "embedder": embedder,
        "chunker": {"max_tokens": max_tokens, "overlap_sentences": overlap},
    }
    if dim is not None:
        out["dim"] = dim
    if engine is not None:
        out["vector_engine"] = engine
    return out


def check_manifest(manifest: dict[str, Any], expected: dict[str, Any], where: Path) -> None:
    """Raise IndexMismatchError naming the first setting that differs."""
    for key, want in expected.items():
        have = manifest.get(key)
        if have != want:
            raise IndexMismatchError(
                f"the index in {where} was built with {key}={have!r}, but the current setting is {want!r}: "
                f"{REBUILD_HINT}"
            )


def live_dir(index_dir: Path) -> Path:
    return Path(index_dir) / CURRENT


def _old_dir(index_dir: Path) -> Path:
    return Path(index_dir) / f".{CURRENT}.old"


def tmp_dir(index_dir: Path) -> Path:
    return Path(index_dir) / f".{CURRENT}.tmp-{os.getpid()}"


def index_version(index_dir: Path) -> tuple[int, int] | None:
    """A cheap fingerprint of the live index (changes on every write), or None if there is none.

    (inode of the manifest, which changes when a rebuild swaps the folder; the catalog's generation,
    which every in-place write increments in its transaction).
    """
    live = live_dir(index_dir)
    try:
        st = (live / MANIFEST).stat()
        con = sqlite3.connect(f"file:{live / CATALOG}?mode=ro", uri=True)
        try:
            row = con.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()
        finally:
            con.close()
    except (OSError, sqlite3.Error):
        return None
    return (st.st_ino, int(row[0]) if row else 0)


def exists(index_dir: Path) -> bool:
    recover(index_dir)
    return (live_dir(index_dir) / MANIFEST).exists()


def unwritable(index_dir: Path, exc: Exception) -> QAIndexError:
    """The error for an index folder that cannot be written (read-only, not a folder, disk full)."""
    return QAIndexError(
        f"cannot write the index in {index_dir} ({getattr(exc, 'strerror', None) or exc}): make that folder writable, "
        "or index into another one with `qa index --index-dir DIR` (or set QA_INDEX_DIR)"
    )


@contextlib.contextmanager
def write_lock(index_dir: Path) -> Iterator[None]:
    """Exclusive lock for writers (across processes); readers never take it."""
    index_dir = Path(index_dir)
    try:
        index_dir.mkdir(parents=True, exist_ok=True)
        fh = open(index_dir / ".lock", "a+")  # noqa: SIM115 — closed by the with below
    except OSError as exc:
        raise unwritable(index_dir, exc) from exc
    with fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def recover(index_dir: Path) -> None:
    """Finish a swap interrupted by a crash: bring ``.current.old`` back if ``current`` is missing."""
    index_dir = Path(index_dir)
    old, live = _old_dir(index_dir), live_dir(index_dir)
    if live.exists() or not old.exists():
        return
    with write_lock(index_dir):
        if not live.exists() and old.exists():
            os.rename(old, live)


def cleanup_stale(index_dir: Path) -> None:
    """Remove temp folders of dead writers and a leftover ``.current.old``; call while holding the write lock."""
    index_dir = Path(index_dir)
    live, old = live_dir(index_dir), _old_dir(index_dir)
    if not live.exists() and old.exists():
        os.rename(old, live)
    elif old.exists():
        shutil.rmtree(old, ignore_errors=True)
    for p in index_dir.glob(f".{CURRENT}.tmp-*"):
        shutil.rmtree(p, ignore_errors=True)


def _fsync_tree(folder: Path) -> None:
    for p in sorted(folder.rglob("*")):
        if p.is_file():
            fd = os.open(p, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def build_fresh(
    index_dir: Path,
    *,
    manifest: dict[str, Any],
    articles: Sequence[ArticleRow],
    chunks: Sequence[ChunkRow],
    vectors: np.ndarray,
    sink: Any = None,
    meta: dict[str, Any] | None = None,
) -> None:
    """Write a complete index to a temp folder and swap it in atomically (a first build or a rebuild).

    Hold ``write_lock`` around it. A write that fails (read-only folder, disk full) removes its temp
    folder, leaves the previous index live, and raises QAIndexError saying what to do.
    """
    index_dir = Path(index_dir)
    tmp = tmp_dir(index_dir)
    try:
        _write_and_swap(index_dir, tmp, manifest, articles, chunks, vectors, sink, meta)
    except (OSError, sqlite3.OperationalError, RuntimeError) as exc:
        live, old = live_dir(index_dir), _old_dir(index_dir)
        with contextlib.suppress(OSError):
            if not live.exists() and old.exists():
                os.rename(old, live)
        shutil.rmtree(tmp, ignore_errors=True)
        raise unwritable(index_dir, exc) from exc


write_index = build_fresh


def _write_and_swap(
    index_dir: Path,
    tmp: Path,
    manifest: dict[str, Any],
    articles: Sequence[ArticleRow],
    chunks: Sequence[ChunkRow],
    vectors: np.ndarray,
    sink: Any,
    meta: dict[str, Any] | None,
) -> None:
    from qa.store.writer import Writer

    index_dir.mkdir(parents=True, exist_ok=True)
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir()
    writer = Writer(tmp, int(manifest["dim"]), new=True, sink=sink)
    try:
        writer.commit(delete=[], articles=articles, chunks=chunks, vectors=vectors, static=meta)
        writer.con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        writer.close()
    # The manifest goes last: a folder without one is never mistaken for an index.
    (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    _fsync_tree(tmp)

    live, old = live_dir(index_dir), _old_dir(index_dir)
    if old.exists():
        shutil.rmtree(old)
    if live.exists():
        os.rename(live, old)
    os.rename(tmp, live)
    dfd = os.open(index_dir, os.O_RDONLY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)
    shutil.rmtree(old, ignore_errors=True)
