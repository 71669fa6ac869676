"""The store's small interfaces: a vector engine, a keyword index and a catalog, behind one facade.

Engines are chosen by name (``QA_STORE``: ``faiss``, the default, or ``milvus``) and the name is recorded
in the manifest, so an index is always opened with the engine that built it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol, runtime_checkable

import numpy as np

from qa.types import Article

FORMAT_VERSION = 2  # 2: catalog changed in place (SQLite WAL + FTS5), vector segments
REBUILD_HINT = "run `qa index --rebuild`"


@runtime_checkable
class VectorStore(Protocol):
    """What retrieval needs from a vector engine. Vectors are L2-normalised; scores are inner products."""

    dim: int

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None: ...
    def delete(self, ids: np.ndarray) -> int: ...
    def search(
        self, vectors: np.ndarray, k: int, *, allowed: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]: ...
    def get(self, ids: np.ndarray) -> np.ndarray: ...
    def count(self) -> int: ...
    def ids(self) -> np.ndarray: ...


VectorEngine = VectorStore


@runtime_checkable
class KeywordIndex(Protocol):
    """Keyword (BM25) search over chunk texts; returns (scores, chunk ids) best first, positive scores only."""

    def search(
        self, query: str, k: int, *, allowed: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]: ...


@runtime_checkable
class CatalogReader(Protocol):
    """Articles and chunks by id, and the chunk ids that pass the retrieval filters."""

    n_articles: int
    n_chunks: int

    def article(self, article_id: str) -> Article | None: ...
    def article_meta(self, article_ids: Iterable[str]) -> dict[str, tuple]: ...
    def chunks(self, ids: Iterable[int] | None = None) -> list: ...
    def chunk_ids_where(
        self, *, source: str | None = None, since: str | None = None, until: str | None = None
    ) -> np.ndarray: ...
