"""On-disk index: vector store (FAISS), catalog (SQLite), BM25 (bm25s) and a manifest, swapped in atomically.

Layout. ``index_dir`` (``QA_INDEX_DIR``, default ``<project>/index``) is never replaced itself, so
``index/.gitkeep`` survives; the live index is the folder ``index_dir/current``::

    index_dir/
      .lock                       # flock held by the one process writing
      current/                    # the live index, replaced as a whole by every write
        manifest.json             # format, embedder, dim, chunker settings, counts, build id, times
        vectors.faiss             # IndexIDMap2(IndexFlatIP(dim)); ids == chunks.id
        catalog.sqlite            # articles and chunks
        bm25/                     # bm25s index over chunks (ids.npy maps BM25 rows to chunk ids)
      .current.tmp-<pid>/         # a write in progress (deleted when stale)
      .current.old/               # the previous index during the swap (recovered if ``current`` is missing)

A write builds a complete new index into ``.current.tmp-<pid>``, fsyncs it, then swaps with two renames
(``current`` -> ``.current.old``, tmp -> ``current``) and deletes ``.current.old``. A process killed at
any point leaves either the old or the new index loadable: if it dies between the two renames,
the next open renames ``.current.old`` back.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np

from qa.errors import IndexCorruptError, IndexMismatchError, QAIndexError
from qa.types import Article, Chunk

if TYPE_CHECKING:
    import bm25s

FORMAT_VERSION = 1
CURRENT = "current"
MANIFEST = "manifest.json"
VECTORS = "vectors.faiss"
CATALOG = "catalog.sqlite"
BM25_DIR = "bm25"
REBUILD_HINT = "run `qa index --rebuild`"


# --------------------------------------------------------------------------------------------------
# Vector stores: one small interface, engines chosen by name.


@runtime_checkable
class VectorStore(Protocol):
    """What retrieval needs from a vector engine. Vectors are L2-normalised; scores are inner products."""

    dim: int

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None: ...
    def delete(self, ids: np.ndarray) -> int: ...
    def search(self, vectors: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]: ...
    def get(self, ids: np.ndarray) -> np.ndarray: ...
    def count(self) -> int: ...
    def ids(self) -> np.ndarray: ...
    def save(self, directory: Path) -> None: ...
    def load(self, directory: Path) -> None: ...


_FAISS_READY = False


def _faiss() -> Any:
    """faiss, with OpenMP limited to one thread.

    A single-query flat search is memory-bound; with 2 OpenMP threads on a busy 2-core machine the
    threads spin-wait for each other and a 100k-vector search takes ~150 ms instead of ~25 ms (measured).
    Concurrent questions run in their own Python threads instead.
    """
    global _FAISS_READY
    import faiss

    if not _FAISS_READY:
        faiss.omp_set_num_threads(1)
        _FAISS_READY = True
    return faiss


class FaissStore:
    """Exact inner-product search: ``IndexIDMap2(IndexFlatIP(dim))``; fast enough to ~10^6 chunks on 2 cores."""

    filename = VECTORS

    def __init__(self, dim: int) -> None:
        faiss = _faiss()

        self.dim = dim
        self._index = faiss.IndexIDMap2(faiss.IndexFlatIP(dim))

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        ids = np.ascontiguousarray(ids, dtype=np.int64)
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if len(ids) != len(vectors) or (len(vectors) and vectors.shape[1] != self.dim):
            raise ValueError(f"add: {len(ids)} ids for vectors of shape {vectors.shape}; dim is {self.dim}")
        if len(ids):
            self._index.add_with_ids(vectors, ids)

    def delete(self, ids: np.ndarray) -> int:
        faiss = _faiss()

        ids = np.ascontiguousarray(ids, dtype=np.int64)
        if not len(ids):
            return 0
        return int(self._index.remove_ids(faiss.IDSelectorBatch(ids)))

    def search(
        self, vectors: np.ndarray, k: int, *, allowed: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top ``k`` (scores, ids) per query row; ids are -1 where fewer than ``k`` exist.

        ``allowed`` restricts the search to those ids (used by metadata filters).
        """
        faiss = _faiss()

        vectors = np.ascontiguousarray(np.atleast_2d(vectors), dtype=np.float32)
        k = max(1, min(k, self.count()))
        if self.count() == 0:
            n = len(vectors)
            return np.zeros((n, 0), np.float32), np.zeros((n, 0), np.int64)
        if allowed is None:
            return self._index.search(vectors, k)
        params = faiss.SearchParameters(sel=faiss.IDSelectorBatch(np.ascontiguousarray(allowed, np.int64)))
        return self._index.search(vectors, k, params=params)

    def get(self, ids: np.ndarray) -> np.ndarray:
        """The stored vectors of ``ids`` (KeyError for an unknown id)."""
        ids = np.asarray(ids, dtype=np.int64)
        out = np.empty((len(ids), self.dim), dtype=np.float32)
        for i, id_ in enumerate(ids):
            try:
                out[i] = self._index.reconstruct(int(id_))
            except RuntimeError as exc:
                raise KeyError(int(id_)) from exc
        return out

    def all_vectors(self) -> tuple[np.ndarray, np.ndarray]:
        """(ids, vectors) of everything stored, without a per-id loop (used to reuse vectors on re-index)."""
        faiss = _faiss()

        n = self.count()
        ids = faiss.vector_to_array(self._index.id_map).astype(np.int64) if n else np.zeros(0, np.int64)
        if not n:
            return ids, np.zeros((0, self.dim), np.float32)
        flat = faiss.downcast_index(self._index.index)
        codes = faiss.vector_to_array(flat.codes)
        return ids, codes.view(np.float32).reshape(n, self.dim).copy()

    def ids(self) -> np.ndarray:
        faiss = _faiss()

        return faiss.vector_to_array(self._index.id_map).astype(np.int64)

    def count(self) -> int:
        return int(self._index.ntotal)

    def save(self, directory: Path) -> None:
        faiss = _faiss()

        faiss.write_index(self._index, str(Path(directory) / self.filename))

    def load(self, directory: Path) -> None:
        faiss = _faiss()

        path = Path(directory) / self.filename
        try:
            index = faiss.read_index(str(path))  # already downcast; a second downcast would free it
        except (RuntimeError, MemoryError, ValueError, OSError) as exc:
            raise IndexCorruptError(f"the vector file {path} is corrupt: {REBUILD_HINT}") from exc
        if not isinstance(index, faiss.IndexIDMap2) or index.d != self.dim:
            raise IndexCorruptError(f"the vector file {path} is corrupt: {REBUILD_HINT}")
        self._index = index


_ENGINES: dict[str, type] = {"faiss": FaissStore}


def make_vector_store(engine: str, dim: int) -> FaissStore:
    """A vector store by name; register another engine in ``_ENGINES`` to add one."""
    try:
        return _ENGINES[engine](dim)
    except KeyError:
        raise ValueError(f"unknown vector engine {engine!r}; known: {sorted(_ENGINES)}") from None


# --------------------------------------------------------------------------------------------------
# Catalog (SQLite)

_SCHEMA = """
CREATE TABLE articles (
    id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    source TEXT NOT NULL,
    published_at TEXT,
    url TEXT,
    text TEXT NOT NULL,
    path TEXT,
    content_hash TEXT NOT NULL
);
CREATE TABLE chunks (
    id INTEGER PRIMARY KEY,          -- == the FAISS id
    article_id TEXT NOT NULL REFERENCES articles(id),
    seq INTEGER NOT NULL,
    start INTEGER NOT NULL,
    "end" INTEGER NOT NULL,
    text TEXT NOT NULL,
    content_hash TEXT NOT NULL
);
CREATE INDEX chunks_article ON chunks(article_id, seq);
CREATE INDEX chunks_hash ON chunks(content_hash);
CREATE INDEX articles_source ON articles(source COLLATE NOCASE);
"""


@dataclass(frozen=True)
class ChunkRow:
    id: int
    article_id: str
    seq: int
    start: int
    end: int
    text: str
    content_hash: str

    def to_chunk(self) -> Chunk:
        return Chunk(self.article_id, self.seq, self.start, self.end, self.text)


@dataclass(frozen=True)
class ArticleRow:
    article: Article
    content_hash: str


def write_catalog(path: Path, articles: Iterable[ArticleRow], chunks: Iterable[ChunkRow]) -> None:
    con = sqlite3.connect(str(path))
    try:
        con.executescript(_SCHEMA)
        con.executemany(
            "INSERT INTO articles VALUES (?,?,?,?,?,?,?,?)",
            (
                (a.id, a.title, a.source, a.published_at, a.url, a.text, a.path, r.content_hash)
                for r in articles
                for a in (r.article,)
            ),
        )
        con.executemany(
            "INSERT INTO chunks VALUES (?,?,?,?,?,?,?)",
            ((c.id, c.article_id, c.seq, c.start, c.end, c.text, c.content_hash) for c in chunks),
        )
        con.commit()
    finally:
        con.close()


class Catalog:
    """Read-only access to ``catalog.sqlite`` (the file is never modified after the swap)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        try:
            # immutable=1: no locking or change detection needed, the file is replaced, never edited.
            self._con = sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True, check_same_thread=False)
            self.n_articles = self._con.execute("SELECT count(*) FROM articles").fetchone()[0]
            self.n_chunks = self._con.execute("SELECT count(*) FROM chunks").fetchone()[0]
        except sqlite3.Error as exc:
            raise IndexCorruptError(f"the catalog {path} is corrupt: {REBUILD_HINT}") from exc

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        try:
            with self._lock:
                return self._con.execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise IndexCorruptError(f"the catalog {self.path} is corrupt: {REBUILD_HINT}") from exc

    def close(self) -> None:
        with self._lock:
            self._con.close()

    @staticmethod
    def _article(row: tuple) -> ArticleRow:
        id_, title, source, published_at, url, text, path, content_hash = row
        return ArticleRow(Article(id_, title, source, published_at, url, text, path), content_hash)

    def article(self, article_id: str) -> Article | None:
        rows = self._query("SELECT * FROM articles WHERE id = ?", (article_id,))
        return self._article(rows[0]).article if rows else None

    def articles(self) -> list[ArticleRow]:
        return [self._article(r) for r in self._query("SELECT * FROM articles ORDER BY rowid")]

    def article_meta(self, article_ids: Iterable[str]) -> dict[str, tuple]:
        """id -> (title, source, published_at, url) for ``article_ids``."""
        ids = list(set(article_ids))
        out: dict[str, tuple] = {}
        for i in range(0, len(ids), 500):
            part = ids[i : i + 500]
            marks = ",".join("?" * len(part))
            for row in self._query(
                f"SELECT id, title, source, published_at, url FROM articles WHERE id IN ({marks})", part
            ):
                out[row[0]] = row[1:]
        return out

    def chunks(self, ids: Iterable[int] | None = None) -> list[ChunkRow]:
        if ids is None:
            rows = self._query(
                'SELECT id, article_id, seq, start, "end", text, content_hash FROM chunks ORDER BY id'
            )
            return [ChunkRow(*r) for r in rows]
        ids = [int(i) for i in ids]
        out: list[ChunkRow] = []
        for i in range(0, len(ids), 500):
            part = ids[i : i + 500]
            marks = ",".join("?" * len(part))
            rows = self._query(
                f'SELECT id, article_id, seq, start, "end", text, content_hash FROM chunks WHERE id IN ({marks})',
                part,
            )
            out.extend(ChunkRow(*r) for r in rows)
        return out

    def chunk_ids_where(
        self, *, source: str | None = None, since: str | None = None, until: str | None = None
    ) -> np.ndarray:
        """Chunk ids whose article matches the filters (source case-insensitive; dates compared as ISO prefixes)."""
        where, params = article_filter_sql(source=source, since=since, until=until)
        rows = self._query(
            f"SELECT c.id FROM chunks c JOIN articles a ON a.id = c.article_id WHERE {where}", params
        )
        return np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))

    def sources(self) -> list[tuple[str, int]]:
        return [
            (r[0], r[1])
            for r in self._query("SELECT source, count(*) FROM articles GROUP BY source ORDER BY source")
        ]


def article_filter_sql(
    *, source: str | None = None, since: str | None = None, until: str | None = None
) -> tuple[str, list[Any]]:
    """A WHERE clause over ``articles a`` for the retrieval filters.

    Dates are ISO strings compared on the filter's length, so ``until="2023-12-27"`` keeps
    ``"2023-12-27T18:00"``. Articles without a date are excluded only when a date filter is set.
    """
    clauses, params = ["1"], []
    if source:
        clauses.append("a.source = ? COLLATE NOCASE")
        params.append(source)
    if since:
        clauses.append("a.published_at IS NOT NULL AND substr(a.published_at, 1, ?) >= ?")
        params += [len(since), since]
    if until:
        clauses.append("a.published_at IS NOT NULL AND substr(a.published_at, 1, ?) <= ?")
        params += [len(until), until]
    return " AND ".join(clauses), params


# --------------------------------------------------------------------------------------------------
# BM25

_STEMMER: Any = None


def _stemmer() -> Any:
    global _STEMMER
    if _STEMMER is None:
        import Stemmer

        _STEMMER = Stemmer.Stemmer("english")
    return _STEMMER


def bm25_tokenize(texts: list[str]) -> list[list[str]]:
    import bm25s

    return bm25s.tokenize(texts, stopwords="en", stemmer=_stemmer(), return_ids=False, show_progress=False)


class BM25Index:
    """bm25s over the chunk texts; ``ids[row]`` is the chunk id of BM25 document ``row``."""

    def __init__(self, model: bm25s.BM25 | None, ids: np.ndarray) -> None:
        self.model = model
        self.ids = ids
        self._row_of: dict[int, int] | None = None

    @classmethod
    def build(cls, ids: np.ndarray, texts: list[str]) -> BM25Index:
        import bm25s

        if not texts:
            return cls(None, np.zeros(0, np.int64))
        model = bm25s.BM25()
        tokens = bm25s.tokenize(texts, stopwords="en", stemmer=_stemmer(), show_progress=False)
        model.index(tokens, show_progress=False)
        return cls(model, np.asarray(ids, dtype=np.int64))

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        np.save(directory / "ids.npy", self.ids)
        if self.model is not None:
            self.model.save(str(directory), show_progress=False)

    @classmethod
    def load(cls, directory: Path) -> BM25Index:
        import bm25s

        try:
            ids = np.load(directory / "ids.npy", allow_pickle=False)
            if not len(ids):
                return cls(None, ids)
            model = bm25s.BM25.load(str(directory), show_progress=False)
            if int(model.scores["num_docs"]) != len(ids):
                raise ValueError("row count differs from ids.npy")
        except Exception as exc:  # bm25s raises a zoo of errors on damaged files
            raise IndexCorruptError(f"the BM25 index {directory} is corrupt: {REBUILD_HINT}") from exc
        return cls(model, ids.astype(np.int64))

    def search(
        self, query: str, k: int, *, allowed: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top ``k`` (scores, chunk ids) with a positive score, best first."""
        empty = np.zeros(0, np.float32), np.zeros(0, np.int64)
        if self.model is None:
            return empty
        tokens = bm25_tokenize([query])[0]
        token_ids = self.model.get_tokens_ids(tokens)
        if not token_ids:
            return empty
        scores = self.model.get_scores_from_ids(token_ids)
        if allowed is not None:
            mask = np.zeros(len(scores), dtype=bool)
            rows = self.rows_of(allowed)
            mask[rows[rows >= 0]] = True
            scores = np.where(mask, scores, 0.0)
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k] if k < len(scores) else np.arange(len(scores))
        top = top[np.argsort(-scores[top], kind="stable")]
        top = top[scores[top] > 0]
        return scores[top].astype(np.float32), self.ids[top]

    def rows_of(self, chunk_ids: np.ndarray) -> np.ndarray:
        if self._row_of is None:
            self._row_of = {int(c): i for i, c in enumerate(self.ids)}
        return np.fromiter(
            (self._row_of.get(int(c), -1) for c in chunk_ids), dtype=np.int64, count=len(chunk_ids)
        )


# --------------------------------------------------------------------------------------------------
# Manifest


def make_manifest(
    *,
    embedder: str,
    dim: int,
    max_tokens: int,
    overlap: int,
    articles: int,
    chunks: int,
    created_at: float | None,
) -> dict[str, Any]:
    now = time.time()
    return {
        "format": FORMAT_VERSION,
        "embedder": embedder,
        "dim": dim,
        "vector_engine": "faiss",
        "chunker": {"max_tokens": max_tokens, "overlap_sentences": overlap},
        "counts": {"articles": articles, "chunks": chunks},
        "created_at": created_at or now,
        "updated_at": now,
        "build_id": uuid.uuid4().hex,
    }


def expected_settings(embedder: str, dim: int | None, max_tokens: int, overlap: int) -> dict[str, Any]:
    out: dict[str, Any] = {
        "format": FORMAT_VERSION,
        "embedder": embedder,
        "chunker": {"max_tokens": max_tokens, "overlap_sentences": overlap},
    }
    if dim is not None:
        out["dim"] = dim
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


# --------------------------------------------------------------------------------------------------
# The opened index


class StoredIndex:
    """A loaded, consistent, read-only index folder (``index_dir/current``)."""

    def __init__(self, index_dir: Path, *, expected: dict[str, Any] | None = None) -> None:
        self.index_dir = Path(index_dir)
        folder = live_dir(self.index_dir)
        self.folder = folder
        manifest_path = folder / MANIFEST
        try:
            stat = manifest_path.stat()
            self.manifest: dict[str, Any] = json.loads(manifest_path.read_text(encoding="utf-8"))
            if (
                not isinstance(self.manifest, dict)
                or "format" not in self.manifest
                or "dim" not in self.manifest
            ):
                raise ValueError("incomplete manifest")
        except (FileNotFoundError, NotADirectoryError) as exc:
            raise QAIndexError(f"no index in {self.index_dir}: run `qa index` to build it") from exc
        except (ValueError, OSError, UnicodeDecodeError) as exc:
            raise IndexCorruptError(f"the manifest {manifest_path} is corrupt: {REBUILD_HINT}") from exc
        self.version: tuple[int, int] = (stat.st_ino, stat.st_mtime_ns)
        if expected:
            check_manifest(self.manifest, expected, self.index_dir)
        self.dim = int(self.manifest["dim"])
        self.embedder_name: str = self.manifest.get("embedder", "")
        for name in (VECTORS, CATALOG, BM25_DIR):
            if not (folder / name).exists():
                raise IndexCorruptError(f"{folder / name} is missing, the index is corrupt: {REBUILD_HINT}")
        self.vectors = make_vector_store(self.manifest.get("vector_engine", "faiss"), self.dim)
        self.vectors.load(folder)
        self.catalog = Catalog(folder / CATALOG)
        self.bm25 = BM25Index.load(folder / BM25_DIR)
        n_vec, n_rows, n_bm25 = self.vectors.count(), self.catalog.n_chunks, len(self.bm25.ids)
        if not (n_vec == n_rows == n_bm25):
            raise IndexCorruptError(
                f"the index in {self.index_dir} is inconsistent ({n_vec} vectors, {n_rows} chunk rows, "
                f"{n_bm25} BM25 rows), so it is corrupt: {REBUILD_HINT}"
            )

    def close(self) -> None:
        self.catalog.close()


def live_dir(index_dir: Path) -> Path:
    return Path(index_dir) / CURRENT


def _old_dir(index_dir: Path) -> Path:
    return Path(index_dir) / f".{CURRENT}.old"


def tmp_dir(index_dir: Path) -> Path:
    return Path(index_dir) / f".{CURRENT}.tmp-{os.getpid()}"


def index_version(index_dir: Path) -> tuple[int, int] | None:
    """A cheap fingerprint of the live index (changes on every write), or None if there is none."""
    try:
        st = (live_dir(index_dir) / MANIFEST).stat()
    except OSError:
        return None
    return (st.st_ino, st.st_mtime_ns)


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


def write_index(
    index_dir: Path,
    *,
    manifest: dict[str, Any],
    articles: Sequence[ArticleRow],
    chunks: Sequence[ChunkRow],
    vectors: np.ndarray,
) -> None:
    """Write a complete index to a temp folder and swap it in atomically. Hold ``write_lock`` around it.

    A write that fails (read-only folder, disk full) removes its temp folder, leaves the previous index
    live, and raises QAIndexError saying what to do.
    """
    index_dir = Path(index_dir)
    tmp = tmp_dir(index_dir)
    try:
        _write_and_swap(index_dir, tmp, manifest, articles, chunks, vectors)
    except (OSError, sqlite3.Error, RuntimeError) as exc:  # faiss reports I/O errors as RuntimeError
        live, old = live_dir(index_dir), _old_dir(index_dir)
        with contextlib.suppress(OSError):
            if not live.exists() and old.exists():
                os.rename(old, live)
        shutil.rmtree(tmp, ignore_errors=True)
        raise unwritable(index_dir, exc) from exc


def _write_and_swap(
    index_dir: Path,
    tmp: Path,
    manifest: dict[str, Any],
    articles: Sequence[ArticleRow],
    chunks: Sequence[ChunkRow],
    vectors: np.ndarray,
) -> None:
    index_dir.mkdir(parents=True, exist_ok=True)
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir()
    ids = np.fromiter((c.id for c in chunks), dtype=np.int64, count=len(chunks))
    store = make_vector_store(manifest.get("vector_engine", "faiss"), int(manifest["dim"]))
    store.add(ids, vectors)
    store.save(tmp)
    write_catalog(tmp / CATALOG, articles, chunks)
    BM25Index.build(ids, [c.text for c in chunks]).save(tmp / BM25_DIR)
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
