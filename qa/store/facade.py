"""The opened index: one facade over the vector engine, the catalog and the keyword index.

Retrieval talks to :meth:`StoredIndex.search_dense`, :meth:`StoredIndex.search_keyword` and the
catalog; indexing talks to :class:`qa.store.writer.Writer`. The engine (``vector_engine`` in the
manifest) decides where vectors and the keyword index live: FAISS in memory over checksummed segment
files plus FTS5 in the catalog, or a Milvus collection (dense + BM25 sparse) reached by URI.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from qa.errors import IndexCorruptError, QAIndexError
from qa.store import segments
from qa.store.base import REBUILD_HINT
from qa.store.catalog import CATALOG, Catalog, Fts5Keyword
from qa.store.engines import ENGINES
from qa.store.files import MANIFEST, check_manifest, live_dir

_EMPTY = (np.zeros(0, np.float32), np.zeros(0, np.int64))


def read_manifest(index_dir: Path) -> tuple[dict[str, Any], int]:
    """The static manifest of the live index and its inode; QAIndexError if none, corrupt if unreadable."""
    path = live_dir(index_dir) / MANIFEST
    try:
        stat = path.stat()
        manifest = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(manifest, dict) or "format" not in manifest or "dim" not in manifest:
            raise ValueError("incomplete manifest")
        int(manifest["dim"])
    except (FileNotFoundError, NotADirectoryError) as exc:
        raise QAIndexError(f"no index in {index_dir}: run `qa index` to build it") from exc
    except (ValueError, TypeError, OSError, UnicodeDecodeError) as exc:
        raise IndexCorruptError(f"the manifest {path} is corrupt: {REBUILD_HINT}") from exc
    return manifest, stat.st_ino


class StoredIndex:
    """A loaded, consistent, read-only view of ``index_dir/current``; reopen when :attr:`version` changes."""

    def __init__(
        self, index_dir: Path, *, expected: dict[str, Any] | None = None, settings: Any = None
    ) -> None:
        self.index_dir = Path(index_dir)
        self.folder = folder = live_dir(self.index_dir)
        static, inode = read_manifest(self.index_dir)
        if expected:
            check_manifest(static, expected, self.index_dir)
        self.dim = int(static["dim"])
        self.embedder_name: str = static.get("embedder", "")
        self.engine: str = static.get("vector_engine", "faiss")
        if not (folder / CATALOG).is_file():
            raise IndexCorruptError(f"{folder / CATALOG} is missing, the index is corrupt: {REBUILD_HINT}")
        self.catalog = Catalog(folder / CATALOG)
        for attempt in range(3):  # a concurrent compaction may delete a segment between listing and reading
            try:
                self._load(static, inode)
                break
            except FileNotFoundError as exc:
                if attempt == 2:
                    raise IndexCorruptError(
                        f"the vector file {exc.filename} is missing, the index is corrupt: {REBUILD_HINT}"
                    ) from exc

    def _load(self, static: dict[str, Any], inode: int) -> None:
        with self.catalog.snapshot() as cat:
            meta = cat.meta()
            self.manifest: dict[str, Any] = {**static, **meta}
            self.version: tuple[int, int] = (inode, int(meta.get("generation", 0)))
            if self.engine == "milvus":
                from qa.store.milvus import MilvusEngine

                self.vectors: Any = MilvusEngine.open(self.folder, static, self.dim)
                self.bm25: Any = self.vectors.keyword(self.catalog)
                return
            segs = {name: (rows, nbytes, digest) for name, rows, nbytes, digest in cat.segments()}
            placed = cat.vector_rows()
        by_seg: dict[str, list[tuple[int, int]]] = {}
        for id_, seg, row in placed:
            by_seg.setdefault(seg, []).append((id_, row))
        id_parts: list[np.ndarray] = []
        vec_parts: list[np.ndarray] = []
        for seg, items in by_seg.items():
            if seg not in segs:
                raise IndexCorruptError(
                    f"chunks point to a vector file {seg!r} the catalog lacks, the index is corrupt: {REBUILD_HINT}"
                )
            rows, nbytes, digest = segs[seg]
            data = segments.load_segment(self.folder, seg, rows, nbytes, digest, self.dim)
            which = np.fromiter((r for _, r in items), dtype=np.int64, count=len(items))
            if len(which) and (which.min() < 0 or which.max() >= rows):
                raise IndexCorruptError(
                    f"chunk rows point outside the vector file {seg!r}, the index is corrupt: {REBUILD_HINT}"
                )
            id_parts.append(np.fromiter((i for i, _ in items), dtype=np.int64, count=len(items)))
            vec_parts.append(data[which])
        if self.engine not in ENGINES:
            raise ValueError(f"unknown vector engine {self.engine!r}; known: {sorted(ENGINES)} and 'milvus'")
        ids = np.concatenate(id_parts) if id_parts else np.zeros(0, np.int64)
        vecs = np.concatenate(vec_parts) if vec_parts else np.zeros((0, self.dim), np.float32)
        self.vectors = ENGINES[self.engine].build(ids, vecs)
        self.bm25 = Fts5Keyword(self.catalog)

    # The verbs retrieval uses; filters are the retrieval filters (source, since, until), so an engine
    # that filters natively (Milvus expressions) never needs a list of allowed ids.

    def allowed(
        self, *, source: str | None = None, since: str | None = None, until: str | None = None
    ) -> np.ndarray | None:
        """Chunk ids passing the filters, or None when no filter is set."""
        if not (source or since or until):
            return None
        return self.catalog.chunk_ids_where(source=source, since=since, until=until)

    def search_dense(
        self,
        qvec: np.ndarray,
        n: int,
        *,
        source: str | None = None,
        since: str | None = None,
        until: str | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top ``n`` (cosine scores, chunk ids) for one query vector, best first."""
        if hasattr(self.vectors, "search_filtered"):
            return self.vectors.search_filtered(qvec, n, source=source, since=since, until=until)
        allowed = self.allowed(source=source, since=since, until=until)
        if allowed is not None and not len(allowed):
            return _EMPTY
        scores, ids = self.vectors.search(np.asarray(qvec, np.float32)[None, :], n, allowed=allowed)
        keep = ids[0] >= 0
        return scores[0][keep], ids[0][keep]

    def search_keyword(
        self,
        question: str,
        n: int,
        *,
        source: str | None = None,
        since: str | None = None,
        until: str | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top ``n`` (BM25 scores, chunk ids) with a positive score, best first."""
        return self.bm25.search(question, n, source=source, since=since, until=until)

    def close(self) -> None:
        self.catalog.close()
