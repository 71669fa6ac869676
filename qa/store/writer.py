"""Writes to the live index, in place and proportional to the change (hold ``write_lock`` around them).

One write = stage the new vectors (a new segment file, or rows in Milvus), then one SQLite transaction
that deletes the rows of removed or replaced articles, inserts the new ones with their chunks, records
the segment's checksum and bumps the generation. A SIGKILL before the commit leaves an unreferenced
segment (deleted by the next write); after it, the new state. Never a mix.
"""

from __future__ import annotations

import json
import sqlite3
import time
import uuid
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from qa.errors import IndexCorruptError
from qa.store import segments
from qa.store.base import REBUILD_HINT
from qa.store.catalog import CATALOG, ArticleRow, ChunkRow, connect, create

COMPACT_DEAD_SHARE = 0.5  # compact when dead vector rows are more than half of all rows…
COMPACT_MAX_SEGMENTS = 64  # …or when there are this many segments


class Writer:
    """The single writer of one index folder."""

    def __init__(self, folder: Path, dim: int, *, new: bool = False, sink: Any = None) -> None:
        self.folder = Path(folder)
        self.dim = dim
        self.sink = sink  # a vector engine that stores vectors itself (Milvus); None: segment files
        path = self.folder / CATALOG
        try:
            self.con = create(path) if new else connect(path, readonly=False)
            self.con.execute("SELECT count(*) FROM meta").fetchone()
        except sqlite3.OperationalError as exc:
            if "no such table" not in str(exc) and "not a database" not in str(exc):
                raise
            raise IndexCorruptError(f"the catalog {path} is corrupt: {REBUILD_HINT}") from exc
        except sqlite3.Error as exc:
            raise IndexCorruptError(f"the catalog {path} is corrupt: {REBUILD_HINT}") from exc

    def close(self) -> None:
        self.con.close()

    def _q(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        try:
            return self.con.execute(sql, params).fetchall()
        except sqlite3.OperationalError:
            raise  # locked, read-only, disk full: not damage (the caller reports it as unwritable)
        except sqlite3.DatabaseError as exc:
            raise IndexCorruptError(f"the catalog in {self.folder} is corrupt: {REBUILD_HINT}") from exc

    # ---------------------------------------------------------------- reads that plan a write

    def meta(self) -> dict[str, Any]:
        return {k: json.loads(v) for k, v in self._q("SELECT key, value FROM meta")}

    def articles(self) -> dict[str, tuple[str, str | None, str, str | None]]:
        """id -> (content hash, path, origin, file hash) of every article (metadata only, no texts)."""
        return {
            r[0]: r[1:] for r in self._q("SELECT id, content_hash, path, origin, file_hash FROM articles")
        }

    def chunks_of(self, article_ids: Iterable[str]) -> list[ChunkRow]:
        ids = list(article_ids)
        out: list[ChunkRow] = []
        for i in range(0, len(ids), 500):
            part = ids[i : i + 500]
            marks = ",".join("?" * len(part))
            out += [
                ChunkRow(*r)
                for r in self._q(
                    f'SELECT id, article_id, seq, start, "end", text, content_hash FROM chunks '
                    f"WHERE article_id IN ({marks}) ORDER BY article_id, seq",
                    part,
                )
            ]
        return out

    def vectors_by_hash(self, hashes: Iterable[str]) -> dict[str, np.ndarray]:
        """Stored vectors of chunks with these text hashes (reused instead of embedding again)."""
        wanted = list(set(hashes))
        where: dict[str, tuple[int, str | None, int | None]] = {}
        for i in range(0, len(wanted), 500):
            part = wanted[i : i + 500]
            marks = ",".join("?" * len(part))
            for h, id_, seg, row in self._q(
                f"SELECT content_hash, id, seg, row FROM chunks WHERE content_hash IN ({marks})", part
            ):
                where.setdefault(h, (id_, seg, row))
        out: dict[str, np.ndarray] = {}
        if self.sink is not None:
            ids = np.array([v[0] for v in where.values()], dtype=np.int64)
            vecs = self.sink.get(ids) if len(ids) else np.zeros((0, self.dim), np.float32)
            return dict(zip(where, vecs, strict=True))
        sizes = dict((r[0], r[1]) for r in self._q("SELECT name, rows FROM segments"))
        by_seg: dict[str, list[tuple[str, int]]] = {}
        for h, (_, seg, row) in where.items():
            if seg in sizes and row is not None:
                by_seg.setdefault(seg, []).append((h, row))
        for seg, items in by_seg.items():
            rows = segments.read_rows(self.folder, seg, sizes[seg], self.dim, np.array([r for _, r in items]))
            out.update({h: rows[n] for n, (h, _) in enumerate(items)})
        return out

    # ---------------------------------------------------------------- the write

    def commit(
        self,
        *,
        delete: Iterable[str],
        articles: Sequence[ArticleRow],
        chunks: Sequence[ChunkRow],
        vectors: np.ndarray,
        static: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Apply one change atomically; returns the new meta (counts, generation, build id, times)."""
        delete = list(delete)
        seg: tuple[str, int, int, str] | None = None
        ids = np.fromiter((c.id for c in chunks), dtype=np.int64, count=len(chunks))
        if len(chunks):
            if self.sink is not None:
                self.sink.stage(ids, vectors, chunks, articles)
            else:
                seg = segments.write_segment(self.folder, vectors)
        gone_ids: list[int] = []
        now = time.time()
        con = self.con
        try:
            con.execute("BEGIN IMMEDIATE")
            for i in range(0, len(delete), 500):
                part = delete[i : i + 500]
                marks = ",".join("?" * len(part))
                if self.sink is not None:
                    gone_ids += [
                        r[0]
                        for r in con.execute(f"SELECT id FROM chunks WHERE article_id IN ({marks})", part)
                    ]
                con.execute(f"DELETE FROM chunks WHERE article_id IN ({marks})", part)
                con.execute(f"DELETE FROM articles WHERE id IN ({marks})", part)
            con.executemany(
                "INSERT INTO articles (id, title, source, published_at, url, text, path, content_hash, origin, "
                "file_hash, added_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (
                    (a.id, a.title, a.source, a.published_at, a.url, a.text, a.path, r.content_hash, r.origin,
                     r.file_hash, now)
                    for r in articles
                    for a in (r.article,)
                ),
            )  # fmt: skip
            segname = seg[0] if seg else None
            con.executemany(
                'INSERT INTO chunks (id, article_id, seq, start, "end", text, content_hash, seg, row) '
                "VALUES (?,?,?,?,?,?,?,?,?)",
                (
                    (
                        c.id,
                        c.article_id,
                        c.seq,
                        c.start,
                        c.end,
                        c.text,
                        c.content_hash,
                        segname,
                        n if seg else None,
                    )
                    for n, c in enumerate(chunks)
                ),
            )
            if seg:
                con.execute("INSERT INTO segments VALUES (?,?,?,?)", seg)
            con.execute(
                "DELETE FROM segments WHERE name NOT IN (SELECT DISTINCT seg FROM chunks WHERE seg IS NOT NULL)"
            )
            meta = self._meta_after(con, now, int(ids.max()) + 1 if len(ids) else 0, static)
            if gone_ids:
                con.execute("INSERT INTO meta VALUES ('pending_deletes', ?) ON CONFLICT(key) DO UPDATE SET value = "
                            "excluded.value", (json.dumps(gone_ids),))  # fmt: skip
            con.execute("COMMIT")
        except BaseException:
            if con.in_transaction:
                con.execute("ROLLBACK")
            raise
        self.after_commit()
        return meta

    def _meta_after(
        self, con: sqlite3.Connection, now: float, next_id: int, static: dict | None
    ) -> dict[str, Any]:
        old = {k: json.loads(v) for k, v in con.execute("SELECT key, value FROM meta")}
        meta = {
            "generation": int(old.get("generation", 0)) + 1,
            "build_id": uuid.uuid4().hex,
            "updated_at": now,
            "created_at": old.get("created_at", now),
            "next_chunk_id": max(int(old.get("next_chunk_id", 0)), next_id),
            "counts": {
                "articles": con.execute("SELECT count(*) FROM articles").fetchone()[0],
                "chunks": con.execute("SELECT count(*) FROM chunks").fetchone()[0],
            },
        }
        if static:
            meta.update(static)
        con.executemany(
            "INSERT INTO meta VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            ((k, json.dumps(v)) for k, v in meta.items()),
        )
        return meta

    def after_commit(self) -> None:
        """Finish what a commit leaves behind: Milvus deletes, unreferenced segment files, compaction."""
        if self.sink is not None:
            pending = self.meta().get("pending_deletes") or []
            if pending:
                self.sink.delete(np.asarray(pending, dtype=np.int64))
                self.con.execute("DELETE FROM meta WHERE key = 'pending_deletes'")
            return
        keep = {r[0] for r in self._q("SELECT name FROM segments")}
        segments.remove_unreferenced(self.folder, keep)
        self.compact_if_needed()

    def compact_if_needed(self, *, force: bool = False) -> bool:
        """Rewrite the live vectors into one segment when dead rows or segment count grow too large."""
        n_seg, total = self._q("SELECT count(*), coalesce(sum(rows), 0) FROM segments")[0]
        live = self._q("SELECT count(*) FROM chunks")[0][0]
        if not force and not (
            (total and (total - live) > COMPACT_DEAD_SHARE * total) or n_seg > COMPACT_MAX_SEGMENTS
        ):
            return False
        rows = self._q("SELECT id, seg, row FROM chunks ORDER BY id")
        sizes = {r[0]: r[1] for r in self._q("SELECT name, rows FROM segments")}
        vectors = np.zeros((len(rows), self.dim), np.float32)
        by_seg: dict[str, list[tuple[int, int]]] = {}
        for n, (_, seg, row) in enumerate(rows):
            by_seg.setdefault(seg, []).append((n, row))
        for seg, items in by_seg.items():
            got = segments.read_rows(self.folder, seg, sizes[seg], self.dim, np.array([r for _, r in items]))
            vectors[[n for n, _ in items]] = got
        seg = segments.write_segment(self.folder, vectors)
        con = self.con
        try:
            con.execute("BEGIN IMMEDIATE")
            con.executemany(
                "UPDATE chunks SET seg = ?, row = ? WHERE id = ?",
                ((seg[0], n, r[0]) for n, r in enumerate(rows)),
            )
            con.execute("DELETE FROM segments")
            con.execute("INSERT INTO segments VALUES (?,?,?,?)", seg)
            con.execute("UPDATE meta SET value = value + 1 WHERE key = 'generation'")
            con.execute("COMMIT")
        except BaseException:
            if con.in_transaction:
                con.execute("ROLLBACK")
            raise
        segments.remove_unreferenced(self.folder, {seg[0]})
        return True
