"""The catalog: articles, chunks and the keyword index in one SQLite database, changed in place.

SQLite's own transactions (WAL, ``synchronous=FULL``) make every write atomic and proportional to the
change: a write adds or deletes the rows of the articles it touches, nothing else. The keyword side is
FTS5 over the chunk texts (an external-content table kept in step by triggers), ranked with FTS5's
built-in ``bm25()``; ``bench/bench_index.py --keyword`` measured it against bm25s (README, Scale).

Damage. SQLite notices a broken page itself (``SQLITE_CORRUPT``); a flipped bit inside a text is
caught on read: every chunk and article row carries the hash of its text, checked whenever a row is
returned. Either is an :class:`IndexCorruptError` naming ``qa index --rebuild``.
"""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from qa.errors import IndexCorruptError
from qa.store.base import REBUILD_HINT
from qa.types import Article, Chunk

CATALOG = "catalog.sqlite"

SCHEMA = """
CREATE TABLE articles (
    id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    source TEXT NOT NULL,
    published_at TEXT,
    url TEXT,
    text TEXT NOT NULL,
    path TEXT,
    content_hash TEXT NOT NULL,
    origin TEXT NOT NULL DEFAULT 'articles',  -- 'articles' (the corpus folder) or 'upload' (the chat)
    file_hash TEXT,                           -- hash of the uploaded file's bytes (re-upload = no-op)
    added_at REAL
);
CREATE TABLE chunks (
    id INTEGER PRIMARY KEY,          -- == the vector id; never reused
    article_id TEXT NOT NULL REFERENCES articles(id),
    seq INTEGER NOT NULL,
    start INTEGER NOT NULL,
    "end" INTEGER NOT NULL,
    text TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    seg TEXT,                        -- the vector segment file holding this chunk's vector
    row INTEGER                      -- its row in that segment
);
CREATE INDEX chunks_article ON chunks(article_id, seq);
CREATE INDEX chunks_hash ON chunks(content_hash);
CREATE INDEX chunks_seg ON chunks(seg);
CREATE INDEX articles_source ON articles(source COLLATE NOCASE);
CREATE INDEX articles_origin ON articles(origin);
CREATE VIRTUAL TABLE chunks_fts USING fts5(
    text, content='chunks', content_rowid='id', tokenize='porter unicode61 remove_diacritics 2'
);
CREATE TRIGGER chunks_ai AFTER INSERT ON chunks BEGIN
    INSERT INTO chunks_fts(rowid, text) VALUES (new.id, new.text);
END;
CREATE TRIGGER chunks_ad AFTER DELETE ON chunks BEGIN
    INSERT INTO chunks_fts(chunks_fts, rowid, text) VALUES ('delete', old.id, old.text);
END;
CREATE TABLE segments (              -- immutable vector files and their checksums
    name TEXT PRIMARY KEY,
    rows INTEGER NOT NULL,
    bytes INTEGER NOT NULL,
    blake2b TEXT NOT NULL
);
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""

_CHUNK_COLS = 'id, article_id, seq, start, "end", text, content_hash'
_ARTICLE_COLS = "id, title, source, published_at, url, text, path, content_hash"


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


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
    origin: str = "articles"
    file_hash: str | None = None


@dataclass(frozen=True)
class ArticleInfo:
    """One line of ``qa list``: what the library holds, without the text."""

    id: str
    title: str
    source: str
    published_at: str | None
    chunks: int
    origin: str  # "articles" or "upload"
    path: str | None = None


def connect(path: Path, *, readonly: bool) -> sqlite3.Connection:
    if readonly:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False, isolation_level=None)
    else:
        con = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        con.execute("PRAGMA journal_mode=WAL")
        con.execute("PRAGMA synchronous=FULL")
    con.execute("PRAGMA busy_timeout=10000")
    return con


def create(path: Path) -> sqlite3.Connection:
    """A new, empty catalog (for a full build into a fresh folder)."""
    con = connect(path, readonly=False)
    con.executescript(SCHEMA)
    return con


# --------------------------------------------------------------------------------------------------
# Keyword queries (FTS5)

_WORD = re.compile(r"\w+", re.UNICODE)
_STOPWORDS: frozenset[str] | None = None


def _stopwords() -> frozenset[str]:
    global _STOPWORDS
    if _STOPWORDS is None:
        from bm25s.stopwords import STOPWORDS_EN

        _STOPWORDS = frozenset(STOPWORDS_EN)
    return _STOPWORDS


def fts_query(text: str) -> str | None:
    """An FTS5 OR-query of the text's words (stopwords dropped; FTS5 stems them), or None if none is left."""
    words: list[str] = []
    for w in _WORD.findall(text.lower()):
        if w not in _stopwords() and w not in words:
            words.append(w)
    if not words:
        return None
    return " OR ".join(f'"{w}"' for w in words[:64])


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
# Reading


class Catalog:
    """Read access to ``catalog.sqlite``; each call sees the last committed write."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        try:
            self._con = connect(path, readonly=True)
            self._con.execute("SELECT count(*) FROM meta").fetchone()
        except sqlite3.Error as exc:
            raise self._corrupt() from exc

    def _corrupt(self) -> IndexCorruptError:
        return IndexCorruptError(f"the catalog {self.path} is corrupt: {REBUILD_HINT}")

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        try:
            with self._lock:
                return self._con.execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise self._corrupt() from exc

    def snapshot(self) -> Any:
        """A context manager holding one read transaction, so several queries see one state."""
        return _Snapshot(self)

    def close(self) -> None:
        with self._lock:
            self._con.close()

    @property
    def n_articles(self) -> int:
        return int(self._query("SELECT count(*) FROM articles")[0][0])

    @property
    def n_chunks(self) -> int:
        return int(self._query("SELECT count(*) FROM chunks")[0][0])

    def meta(self) -> dict[str, Any]:
        return {k: json.loads(v) for k, v in self._query("SELECT key, value FROM meta")}

    def _article(self, row: tuple) -> ArticleRow:
        id_, title, source, published_at, url, text, path, content_hash, origin, file_hash = row
        if text_hash(text) != content_hash:
            raise IndexCorruptError(
                f"article {id_!r} in {self.path} does not match its checksum, the catalog is corrupt: {REBUILD_HINT}"
            )
        return ArticleRow(
            Article(id_, title, source, published_at, url, text, path), content_hash, origin, file_hash
        )

    def article(self, article_id: str) -> Article | None:
        rows = self._query(
            f"SELECT {_ARTICLE_COLS}, origin, file_hash FROM articles WHERE id = ?", (article_id,)
        )
        return self._article(rows[0]).article if rows else None

    def articles(self) -> list[ArticleRow]:
        return [
            self._article(r)
            for r in self._query(f"SELECT {_ARTICLE_COLS}, origin, file_hash FROM articles ORDER BY rowid")
        ]

    def library(self) -> list[ArticleInfo]:
        rows = self._query(
            "SELECT a.id, a.title, a.source, a.published_at, count(c.id), a.origin, a.path "
            "FROM articles a LEFT JOIN chunks c ON c.article_id = a.id GROUP BY a.id "
            "ORDER BY a.origin, a.published_at IS NULL, a.published_at DESC, a.title"
        )
        return [ArticleInfo(*r) for r in rows]

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

    def _chunk(self, row: tuple) -> ChunkRow:
        c = ChunkRow(*row)
        if text_hash(c.text) != c.content_hash:
            raise IndexCorruptError(
                f"chunk {c.id} in {self.path} does not match its checksum, the catalog is corrupt: {REBUILD_HINT}"
            )
        return c

    def chunks(self, ids: Iterable[int] | None = None) -> list[ChunkRow]:
        if ids is None:
            return [ChunkRow(*r) for r in self._query(f"SELECT {_CHUNK_COLS} FROM chunks ORDER BY id")]
        ids = [int(i) for i in ids]
        out: list[ChunkRow] = []
        for i in range(0, len(ids), 500):
            part = ids[i : i + 500]
            marks = ",".join("?" * len(part))
            rows = self._query(f"SELECT {_CHUNK_COLS} FROM chunks WHERE id IN ({marks})", part)
            out.extend(self._chunk(r) for r in rows)
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

    def vector_rows(self) -> list[tuple[int, str, int]]:
        """(chunk id, segment, row) of every chunk, for loading the vectors."""
        return self._query("SELECT id, seg, row FROM chunks ORDER BY seg, row")

    def segments(self) -> list[tuple[str, int, int, str]]:
        return self._query("SELECT name, rows, bytes, blake2b FROM segments ORDER BY name")


class _Snapshot:
    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog

    def __enter__(self) -> Catalog:
        self.catalog._query("BEGIN")
        return self.catalog

    def __exit__(self, *exc: object) -> None:
        self.catalog._query("COMMIT")


class Fts5Keyword:
    """BM25 keyword search with SQLite FTS5 over the catalog's chunks (``bm25()``; higher is better here)."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog

    @property
    def ids(self) -> np.ndarray:
        """Every chunk id the keyword index holds."""
        rows = self.catalog._query("SELECT rowid FROM chunks_fts")
        return np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))

    def search(
        self,
        query: str,
        k: int,
        *,
        allowed: np.ndarray | None = None,
        source: str | None = None,
        since: str | None = None,
        until: str | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top ``k`` (scores, chunk ids), best first; ``allowed`` or the filters restrict the chunks."""
        empty = np.zeros(0, np.float32), np.zeros(0, np.int64)
        match = fts_query(query)
        if match is None:
            return empty
        sql = "SELECT chunks_fts.rowid, -bm25(chunks_fts) AS s FROM chunks_fts"
        params: list[Any] = [match]
        where = ["chunks_fts MATCH ?"]
        if source or since or until:
            cond, extra = article_filter_sql(source=source, since=since, until=until)
            sql += " JOIN chunks c ON c.id = chunks_fts.rowid JOIN articles a ON a.id = c.article_id"
            where.append(cond)
            params += extra
        if allowed is not None:
            where.append("chunks_fts.rowid IN (SELECT value FROM json_each(?))")
            params.append(json.dumps([int(i) for i in allowed]))
        sql += " WHERE " + " AND ".join(where) + " ORDER BY bm25(chunks_fts) LIMIT ?"
        params.append(int(k))
        rows = self.catalog._query(sql, params)
        rows = [r for r in rows if r[1] > 0]
        if not rows:
            return empty
        return (
            np.array([r[1] for r in rows], dtype=np.float32),
            np.array([r[0] for r in rows], dtype=np.int64),
        )
