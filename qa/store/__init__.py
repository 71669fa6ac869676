"""On-disk index: a vector engine, a catalog (SQLite) and a keyword index (BM25) behind one facade.

Modules, in the order data flows through them:

- :mod:`qa.store.base`: the small interfaces (``VectorEngine``, ``KeywordIndex``, ``CatalogReader``).
- :mod:`qa.store.engines`: vector engines by name (``QA_STORE``: ``faiss`` by default, or ``milvus``).
- :mod:`qa.store.catalog`, :mod:`qa.store.keyword`: articles and chunks; BM25.
- :mod:`qa.store.files`: the index folder's manifest, write lock, recovery and atomic swap.
- :mod:`qa.store.facade`: :class:`StoredIndex`, what retrieval and indexing talk to.

Layout. ``index_dir`` (``QA_INDEX_DIR``, default ``<project>/index``) is never replaced itself, so
``index/.gitkeep`` survives; the live index is the folder ``index_dir/current``::

    index_dir/
      .lock                       # flock held by the one process writing
      current/                    # the live index, changed in place by writes (SQLite transactions)
        manifest.json             # static: format, embedder, dim, chunker settings, vector engine
        catalog.sqlite            # articles, chunks, FTS5 keyword index, segment checksums, counts
        vectors/seg-<id>.f32      # immutable float32 vector segments (FAISS engine)
      .current.tmp-<pid>/         # a full build in progress (deleted when stale)
      .current.old/               # the previous index during a rebuild's swap (recovered if needed)

A first build or ``--rebuild`` writes a complete index into ``.current.tmp-<pid>`` and swaps it in
with two renames; every other write changes ``current`` in place (:mod:`qa.store.writer`).
"""

from qa.store.base import FORMAT_VERSION, REBUILD_HINT, CatalogReader, KeywordIndex, VectorEngine, VectorStore
from qa.store.catalog import (
    CATALOG,
    ArticleInfo,
    ArticleRow,
    Catalog,
    ChunkRow,
    Fts5Keyword,
    article_filter_sql,
    fts_query,
    text_hash,
)
from qa.store.engines import ENGINES, make_vector_store
from qa.store.facade import StoredIndex
from qa.store.faiss_engine import FaissStore
from qa.store.files import (
    CURRENT,
    MANIFEST,
    build_fresh,
    check_manifest,
    cleanup_stale,
    exists,
    expected_settings,
    index_version,
    live_dir,
    make_manifest,
    recover,
    tmp_dir,
    unwritable,
    write_index,
    write_lock,
)
from qa.store.writer import Writer

__all__ = [
    "CATALOG",
    "CURRENT",
    "ENGINES",
    "FORMAT_VERSION",
    "MANIFEST",
    "REBUILD_HINT",
    "ArticleInfo",
    "ArticleRow",
    "Catalog",
    "CatalogReader",
    "ChunkRow",
    "FaissStore",
    "Fts5Keyword",
    "Writer",
    "KeywordIndex",
    "StoredIndex",
    "VectorEngine",
    "VectorStore",
    "article_filter_sql",
    "build_fresh",
    "fts_query",
    "text_hash",
    "check_manifest",
    "cleanup_stale",
    "exists",
    "expected_settings",
    "index_version",
    "live_dir",
    "make_manifest",
    "make_vector_store",
    "recover",
    "tmp_dir",
    "unwritable",
    "write_index",
    "write_lock",
]
