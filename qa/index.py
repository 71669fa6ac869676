"""Build and update the index: ingest -> chunk -> embed -> store, incrementally by content hash.

Two verbs, after RAGatouille's ``index`` / ``add_to_index``:

- :func:`build_index` *syncs* the index to a corpus: after ``build_index(paths)`` the index holds exactly
  the articles read from ``paths`` (articles no longer there are removed). ``qa index`` calls it, with
  the default corpus ``settings.articles_dir`` when no path is given.
- :func:`add_articles` *adds* articles (objects or files) and never removes any; the UI's uploads use it.
  A file whose content changed replaces its previous version (same path, new content).

Both reuse whatever they can (like simonw/llm's ``embed_multi``): an article whose text is unchanged
keeps its chunks and vectors, and a chunk whose text is already in the index (hash) is never embedded
again, even when it moved to another article. The embedding model is only loaded when something needs
embedding or chunking, so re-indexing an unchanged corpus takes well under a second.

Every write builds a complete new index and swaps it in atomically (see :mod:`qa.store`); one writer
at a time (a thread lock plus a file lock); readers keep their open index and reopen when
:attr:`Index.version` changes.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from qa import store
from qa.config import Settings
from qa.errors import IngestError, QAIndexError
from qa.types import Article, IndexStats

if TYPE_CHECKING:
    from qa.embed import Embedder

ProgressCallback = Callable[[int, int, str], None]  # (done, total, stage) with stage in chunk/embed/write

EMBED_BATCH = 64
_WRITE_LOCK = threading.RLock()

Index = store.StoredIndex
"""An opened, read-only index; ``version`` changes on every write (compare with :func:`index_version`)."""


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def index_version(index_dir: Path | str) -> tuple[int, int] | None:
    return store.index_version(Path(index_dir))


def _expected(settings: Settings) -> dict[str, Any]:
    return store.expected_settings(
        settings.embedder, None, settings.chunk_max_tokens, settings.chunk_overlap_sentences
    )


def open_index(index_dir: Path | str | None = None, *, settings: Settings | None = None) -> Index:
    """Open the index in ``index_dir`` (default ``settings.index_dir``) for reading.

    Raises QAIndexError when there is none, IndexMismatchError when it was built with other
    embedder/chunker settings, IndexCorruptError when a file is damaged.
    """
    settings = settings or Settings.from_env()
    index_dir = Path(index_dir or settings.index_dir)
    store.recover(index_dir)
    return store.StoredIndex(index_dir, expected=_expected(settings))


def build_index(
    paths: Sequence[str | Path] | None = None,
    index_dir: Path | str | None = None,
    rebuild: bool = False,
    *,
    settings: Settings | None = None,
    progress: bool = True,
    progress_callback: ProgressCallback | None = None,
    embedder: Embedder | None = None,
) -> IndexStats:
    """Sync the index in ``index_dir`` to the articles under ``paths`` (default: ``settings.articles_dir``).

    ``rebuild=True`` ignores the existing index (use it after changing the embedder or chunker, or when
    the index is corrupt). Returns counts: articles and chunks in the index, chunks embedded now,
    files skipped by ingestion, and articles removed.

    >>> build_index(["articles/"], "/tmp/qa-index", progress=False)  # doctest: +SKIP
    IndexStats(articles=2, chunks=14, embedded=14, skipped=0, removed=0)
    """
    from qa.ingest import read_articles

    settings = settings or Settings.from_env()
    paths = list(paths) if paths else [settings.articles_dir]
    result = read_articles(paths)
    if not result.articles:
        reasons = "; ".join(f"{s.path}: {s.reason}" for s in result.skipped[:5])
        where = ", ".join(str(p) for p in paths)
        raise IngestError(f"no article could be read from {where}" + (f" ({reasons})" if reasons else ""))
    return _write(
        Path(index_dir or settings.index_dir),
        settings,
        result.articles,
        mode="sync",
        rebuild=rebuild,
        skipped=len(result.skipped),
        progress=progress,
        progress_callback=progress_callback,
        embedder=embedder,
    )


def add_articles(
    items: Iterable[Article | str | Path],
    index_dir: Path | str | None = None,
    *,
    settings: Settings | None = None,
    progress: bool = False,
    progress_callback: ProgressCallback | None = None,
    embedder: Embedder | None = None,
) -> IndexStats:
    """Add articles (``Article`` objects, files or folders) to the index without removing any.

    An article read from the same path as one already indexed replaces it (the file was edited).
    Creates the index if there is none.
    """
    from qa.ingest import read_articles

    settings = settings or Settings.from_env()
    articles: list[Article] = []
    files: list[str | Path] = []
    for item in items:
        (articles if isinstance(item, Article) else files).append(item)  # type: ignore[arg-type]
    skipped = 0
    if files:
        result = read_articles(files)
        articles.extend(result.articles)
        skipped = len(result.skipped)
    return _write(
        Path(index_dir or settings.index_dir),
        settings,
        articles,
        mode="add",
        rebuild=False,
        skipped=skipped,
        progress=progress,
        progress_callback=progress_callback,
        embedder=embedder,
    )


def _file_key(article: Article) -> tuple[str, str]:
    return (Path(article.path).name if article.path else "", article.source)


def _write(
    index_dir: Path,
    settings: Settings,
    articles: list[Article],
    *,
    mode: str,
    rebuild: bool,
    skipped: int,
    progress: bool,
    progress_callback: ProgressCallback | None,
    embedder: Embedder | None,
) -> IndexStats:
    from qa.chunk import chunk_article

    def report(done: int, total: int, stage: str) -> None:
        if progress_callback is not None:
            progress_callback(done, total, stage)

    _embedder: list[Embedder] = [embedder] if embedder is not None else []

    def get_embedder() -> Embedder:
        if not _embedder:
            from qa.embed import get_embedder as load

            _embedder.append(load(settings.embedder))
        return _embedder[0]

    with _WRITE_LOCK, store.write_lock(index_dir):
        store.cleanup_stale(index_dir)
        old: store.StoredIndex | None = None
        if not rebuild and store.exists(index_dir):
            old = store.StoredIndex(index_dir, expected=_expected(settings))  # mismatch/corrupt: raise
        try:
            return _write_locked(
                index_dir,
                settings,
                articles,
                old,
                mode=mode,
                skipped=skipped,
                progress=progress,
                report=report,
                get_embedder=get_embedder,
                chunk_article=chunk_article,
            )
        finally:
            if old is not None:
                old.close()


def _write_locked(
    index_dir: Path,
    settings: Settings,
    articles: list[Article],
    old: store.StoredIndex | None,
    *,
    mode: str,
    skipped: int,
    progress: bool,
    report: ProgressCallback,
    get_embedder: Callable[[], Embedder],
    chunk_article: Callable[..., list],
) -> IndexStats:
    # 1. The final set of articles (by id, first occurrence wins).
    old_articles = {r.article.id: r for r in old.catalog.articles()} if old else {}
    new: dict[str, Article] = {}
    for a in articles:
        new.setdefault(a.id, a)
    if mode == "add":
        replaced_paths = {a.path for a in new.values() if a.path}
        final = {
            id_: r.article
            for id_, r in old_articles.items()
            if id_ in new or not (r.article.path and r.article.path in replaced_paths)
        }
        final.update(new)
        removed = 0
    else:
        final = new
        # An article whose file is still in the corpus but changed was replaced, not removed: pair
        # vanished articles with new ones from a file of the same name and source.
        gone: dict[tuple, int] = {}
        for id_, r in old_articles.items():
            if id_ not in final:
                gone[_file_key(r.article)] = gone.get(_file_key(r.article), 0) + 1
        for id_, a in final.items():
            if id_ not in old_articles and gone.get(_file_key(a)):
                gone[_file_key(a)] -= 1
        removed = sum(gone.values())

    # 2. Chunks: reuse the rows of unchanged articles, chunk the others.
    old_chunks_by_article: dict[str, list[store.ChunkRow]] = {}
    if old:
        for c in old.catalog.chunks():
            old_chunks_by_article.setdefault(c.article_id, []).append(c)
    next_id = 0
    if old and old.vectors.count():
        next_id = int(old.vectors.ids().max()) + 1

    article_rows: list[store.ArticleRow] = []
    chunk_rows: list[store.ChunkRow] = []
    to_chunk = [
        a
        for a in final.values()
        if not (a.id in old_articles and old_articles[a.id].content_hash == content_hash(a.text))
    ]
    done = 0
    for a in final.values():
        h = content_hash(a.text)
        article_rows.append(store.ArticleRow(a, h))
        prev = old_articles.get(a.id)
        if prev is not None and prev.content_hash == h:
            chunk_rows.extend(old_chunks_by_article.get(a.id, []))
            continue
        count = get_embedder().count_tokens
        for c in chunk_article(
            a,
            max_tokens=settings.chunk_max_tokens,
            overlap_sentences=settings.chunk_overlap_sentences,
            count_tokens=count,
        ):
            chunk_rows.append(
                store.ChunkRow(next_id, a.id, c.seq, c.start, c.end, c.text, content_hash(c.text))
            )
            next_id += 1
        done += 1
        report(done, len(to_chunk), "chunk")

    # 3. Vectors: reuse by chunk hash, embed the rest (each distinct text once).
    dim = old.dim if old else get_embedder().dim
    vectors = np.zeros((len(chunk_rows), dim), dtype=np.float32)
    reuse: dict[str, np.ndarray] = {}
    if old and old.vectors.count():
        old_ids, old_vecs = old.vectors.all_vectors()
        row_of_id = {int(i): n for n, i in enumerate(old_ids)}
        for rows in old_chunks_by_article.values():
            for c in rows:
                if c.id in row_of_id:
                    reuse.setdefault(c.content_hash, old_vecs[row_of_id[c.id]])
    pending: dict[str, list[int]] = {}
    for n, c in enumerate(chunk_rows):
        v = reuse.get(c.content_hash)
        if v is not None:
            vectors[n] = v
        else:
            pending.setdefault(c.content_hash, []).append(n)
    embedded = 0
    if pending:
        embedder = get_embedder()
        order = sorted(pending, key=lambda h: -len(chunk_rows[pending[h][0]].text))  # less padding
        texts = [chunk_rows[pending[h][0]].text for h in order]
        bar = None
        if progress:
            from tqdm import tqdm

            bar = tqdm(total=len(texts), desc="embedding", unit="chunk", leave=False)
        step = EMBED_BATCH * 4
        report(0, len(texts), "embed")
        for i in range(0, len(texts), step):
            batch = embedder.encode(texts[i : i + step], batch_size=EMBED_BATCH)
            for h, v in zip(order[i : i + step], batch, strict=True):
                for n in pending[h]:
                    vectors[n] = v
            embedded += len(batch)
            if bar is not None:
                bar.update(len(batch))
            report(embedded, len(texts), "embed")
        if bar is not None:
            bar.close()

    # 4. Write and swap.
    report(0, 1, "write")
    manifest = store.make_manifest(
        embedder=settings.embedder,
        dim=dim,
        max_tokens=settings.chunk_max_tokens,
        overlap=settings.chunk_overlap_sentences,
        articles=len(article_rows),
        chunks=len(chunk_rows),
        created_at=old.manifest.get("created_at") if old else None,
    )
    store.write_index(index_dir, manifest=manifest, articles=article_rows, chunks=chunk_rows, vectors=vectors)
    report(1, 1, "write")
    return IndexStats(
        articles=len(article_rows),
        chunks=len(chunk_rows),
        embedded=embedded,
        skipped=skipped,
        removed=removed,
    )


def ensure_index(settings: Settings | None = None, *, progress: bool = True) -> Index:
    """Open the default index, building it over ``settings.articles_dir`` first if there is none."""
    settings = settings or Settings.from_env()
    try:
        return open_index(settings.index_dir, settings=settings)
    except QAIndexError as exc:
        if type(exc) is not QAIndexError:  # corrupt or mismatched: the user must decide to rebuild
            raise
    build_index(None, settings.index_dir, settings=settings, progress=progress)
    return open_index(settings.index_dir, settings=settings)
