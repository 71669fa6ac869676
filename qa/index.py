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
import sqlite3
import threading
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from qa import store
from qa.config import Settings
from qa.errors import IngestError, QAIndexError
from qa.store import ArticleInfo  # noqa: F401  (re-exported: the chat lists the library)
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
        settings.embedder,
        None,
        settings.chunk_max_tokens,
        settings.chunk_overlap_sentences,
        settings.store,
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
    origin: str = "upload",
) -> IndexStats:
    """Add articles (``Article`` objects, files or folders) to the index without removing any.

    They are recorded with ``origin`` ("upload" by default: ``qa index`` syncs the articles folder and
    leaves them alone). An article read from the same file as one already indexed replaces it (the
    file was edited); an article whose id belongs to another article gets a new id (``id~hash``, said
    in ``notes``); adding what is already indexed changes nothing (``unchanged``, ``notes``).
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
        origin=origin,
    )


def _file_key(path: str | None, source: str) -> tuple[str, str]:
    return (Path(path).name if path else "", source)


def _file_hash(path: str | None) -> str | None:
    """Hash of a file's bytes: an upload whose file was already indexed is a no-op."""
    if not path:
        return None
    try:
        return hashlib.blake2b(Path(path).read_bytes(), digest_size=16).hexdigest()
    except OSError:
        return None


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
    origin: str = "articles",
    remove: Sequence[str] = (),
) -> IndexStats:
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
        writer: store.Writer | None = None
        start_id = _next_chunk_id(index_dir) if rebuild else 0
        if not rebuild and store.exists(index_dir):
            static, _ = store.facade.read_manifest(index_dir)
            store.check_manifest(static, _expected(settings), index_dir)  # mismatch: raise
            writer = _open_writer(index_dir, settings, static)
        elif mode == "remove":
            raise QAIndexError(f"no index in {index_dir}: run `qa index` to build it")
        try:
            return _write_locked(
                index_dir,
                settings,
                articles,
                writer,
                start_id=start_id,
                mode=mode,
                origin=origin,
                remove=remove,
                skipped=skipped,
                progress=progress,
                report=report,
                get_embedder=get_embedder,
            )
        except (OSError, RuntimeError, sqlite3.OperationalError) as exc:  # disk full, read-only, I/O
            raise store.unwritable(index_dir, exc) from exc
        finally:
            if writer is not None:
                writer.close()


def _open_writer(index_dir: Path, settings: Settings, static: dict[str, Any]) -> store.Writer:
    folder = store.live_dir(index_dir)
    sink = None
    if static.get("vector_engine") == "milvus":
        from qa.store.milvus import MilvusEngine

        sink = MilvusEngine.open(folder, static, int(static["dim"]))
    writer = store.Writer(folder, int(static["dim"]), sink=sink)
    if sink is not None:  # chunks staged by a writer that died before its commit: never referenced
        sink.client.delete(sink.name, filter=f"id >= {int(writer.meta().get('next_chunk_id', 0))}")
    return writer


def _next_chunk_id(index_dir: Path) -> int:
    """The old index's next chunk id, so a rebuild never reuses an id a reader may still hold."""
    try:
        catalog = store.Catalog(store.live_dir(index_dir) / store.CATALOG)
        try:
            return int(catalog.meta().get("next_chunk_id", 0))
        finally:
            catalog.close()
    except Exception:  # a damaged or missing index: start from 0
        return 0


def _unique_id(id_: str, h: str, taken: Callable[[str], bool]) -> str:
    """A stable new id for an article whose id belongs to another article: ``id~<hash>``."""
    for n in (8, 16, 64):
        candidate = f"{id_}~{h[:n]}"
        if not taken(candidate):
            return candidate
    raise QAIndexError(f"cannot find a free id for article {id_!r}")


def _write_locked(
    index_dir: Path,
    settings: Settings,
    articles: list[Article],
    writer: store.Writer | None,
    *,
    start_id: int = 0,
    mode: str,
    origin: str,
    remove: Sequence[str],
    skipped: int,
    progress: bool,
    report: ProgressCallback,
    get_embedder: Callable[[], Embedder],
) -> IndexStats:
    from qa.chunk import chunk_article

    old = writer.articles() if writer else {}  # id -> (content hash, path, origin, file hash)
    notes: list[str] = []
    # 1. Decide, per article, what changes. Identity belongs to the store: an article never replaces
    #    one of another origin, nor (for uploads) one that came from another file.
    incoming: dict[str, Article] = {}
    hashes: dict[str, str] = {}
    file_hashes: dict[str, str | None] = {}
    unchanged = 0
    for a in articles:
        h = content_hash(a.text)
        prev = old.get(a.id)
        if prev is not None and prev[0] == h:
            unchanged += a.id not in incoming
            incoming.setdefault(a.id, a)
            hashes[a.id] = h
            continue
        if prev is not None and (
            prev[2] != origin or (origin == "upload" and _file_key(prev[1], "") != _file_key(a.path, ""))
        ):
            new_id = _unique_id(a.id, h, lambda i: i in old or i in incoming)
            if new_id in old and old[new_id][0] == h:
                unchanged += 1
                incoming.setdefault(new_id, a)
                hashes[new_id] = h
                continue
            notes.append(
                f"article id {a.id!r} already belongs to another article ({prev[2]}); indexed this one as {new_id!r}"
            )
            a = Article(new_id, a.title, a.source, a.published_at, a.url, a.text, a.path)
        if a.id in incoming:
            continue
        incoming[a.id] = a
        hashes[a.id] = h
        if origin == "upload":
            file_hashes[a.id] = _file_hash(a.path)

    changed = {i: a for i, a in incoming.items() if not (i in old and old[i][0] == hashes[i])}
    if mode == "sync":
        gone = [i for i, v in old.items() if v[2] == origin and i not in incoming]
    elif mode == "add":
        paths = {a.path for a in incoming.values() if a.path}
        gone = [i for i, v in old.items() if v[2] == origin and v[1] in paths and i not in incoming]
    else:  # remove
        unknown = [i for i in dict.fromkeys(remove) if i not in old]
        if unknown:
            raise KeyError(
                f"no article {', '.join(map(repr, unknown))} in the index {index_dir} (see `qa list`)"
            )
        gone = list(dict.fromkeys(remove))
    replaced = [i for i in changed if i in old]
    # A vanished article paired with a new one from a file of the same name and source was replaced
    # (the file changed), not removed.
    pending: dict[tuple, int] = {}
    for i in gone:
        key = _file_key(old[i][1], "")
        pending[key] = pending.get(key, 0) + 1
    for i, a in changed.items():
        key = _file_key(a.path, "")
        if i not in old and pending.get(key):
            pending[key] -= 1
    removed = sum(pending.values()) if mode != "remove" else len(gone)

    if writer is not None and not changed and not gone:
        meta = writer.meta()["counts"]
        if mode == "add" and articles and unchanged:
            notes.append("already in the index, nothing changed")
        return IndexStats(
            articles=meta["articles"],
            chunks=meta["chunks"],
            embedded=0,
            skipped=skipped,
            removed=0,
            added=0,
            unchanged=unchanged,
            notes=tuple(notes),
        )

    # 2. Chunk the new and changed articles; ids are never reused.
    next_id = int(writer.meta().get("next_chunk_id", 0)) if writer else start_id
    fresh = writer is None
    todo = list(incoming.values()) if fresh else list(changed.values())
    article_rows: list[store.ArticleRow] = []
    chunk_rows: list[store.ChunkRow] = []
    count = None
    for done, a in enumerate(todo, 1):
        h = hashes[a.id]
        article_rows.append(store.ArticleRow(a, h, origin, file_hashes.get(a.id)))
        if count is None:
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
        report(done, len(todo), "chunk")

    # 3. Vectors: reuse by chunk hash, embed the rest (each distinct text once).
    dim = writer.dim if writer else get_embedder().dim
    vectors = np.zeros((len(chunk_rows), dim), dtype=np.float32)
    reuse = writer.vectors_by_hash(c.content_hash for c in chunk_rows) if writer else {}
    pending_rows: dict[str, list[int]] = {}
    for n, c in enumerate(chunk_rows):
        v = reuse.get(c.content_hash)
        if v is not None:
            vectors[n] = v
        else:
            pending_rows.setdefault(c.content_hash, []).append(n)
    embedded = _embed(chunk_rows, pending_rows, vectors, get_embedder, progress, report)

    # 4. One atomic write: in place, or a fresh folder swapped in for a first build or a rebuild.
    report(0, 1, "write")
    if writer is not None:
        meta = writer.commit(
            delete=list(gone) + replaced, articles=article_rows, chunks=chunk_rows, vectors=vectors
        )
    else:
        manifest = store.make_manifest(
            embedder=settings.embedder,
            dim=dim,
            max_tokens=settings.chunk_max_tokens,
            overlap=settings.chunk_overlap_sentences,
            engine=settings.store,
        )
        sink = None
        if settings.store == "milvus":
            from qa.store.milvus import MilvusEngine

            sink, extra = MilvusEngine.create(index_dir, settings, dim)
            manifest.update(extra)
        store.build_fresh(
            index_dir, manifest=manifest, articles=article_rows, chunks=chunk_rows, vectors=vectors, sink=sink
        )
        if sink is not None:
            sink.publish()
        meta = {"counts": {"articles": len(article_rows), "chunks": len(chunk_rows)}}
    report(1, 1, "write")
    added = sum(1 for i in changed if i not in old) if not fresh else len(article_rows)
    return IndexStats(
        articles=meta["counts"]["articles"],
        chunks=meta["counts"]["chunks"],
        embedded=embedded,
        skipped=skipped,
        removed=removed,
        added=added,
        unchanged=unchanged,
        notes=tuple(notes),
    )


def _embed(
    chunk_rows: list[store.ChunkRow],
    pending: dict[str, list[int]],
    vectors: np.ndarray,
    get_embedder: Callable[[], Embedder],
    progress: bool,
    report: ProgressCallback,
) -> int:
    if not pending:
        return 0
    embedder = get_embedder()
    order = sorted(pending, key=lambda h: -len(chunk_rows[pending[h][0]].text))  # less padding
    texts = [chunk_rows[pending[h][0]].text for h in order]
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(texts), desc="embedding", unit="chunk", leave=False)
    step = EMBED_BATCH * 4
    embedded = 0
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
    return embedded


def remove_articles(
    ids: Iterable[str], index_dir: Path | str | None = None, *, settings: Settings | None = None
) -> IndexStats:
    """Remove articles (any origin) by id; unknown ids are a KeyError naming them, and nothing changes.

    >>> remove_articles(["extra-1"])  # doctest: +SKIP
    IndexStats(articles=2, chunks=14, embedded=0, skipped=0, removed=1)
    """
    settings = settings or Settings.from_env()
    ids = [str(i) for i in ids]
    index_dir = Path(index_dir or settings.index_dir)
    return _write(
        index_dir,
        settings,
        [],
        mode="remove",
        rebuild=False,
        skipped=0,
        progress=False,
        progress_callback=None,
        embedder=None,
        remove=ids,
    )


def list_articles(
    settings: Settings | None = None, *, index_dir: Path | str | None = None
) -> list[ArticleInfo]:
    """Every indexed article: id, title, outlet, date, chunk count and origin ("articles" or "upload").

    Reads the catalog only (no vectors are loaded), so it is cheap to call on every refresh.
    """
    settings = settings or Settings.from_env()
    index_dir = Path(index_dir or settings.index_dir)
    store.recover(index_dir)
    store.facade.read_manifest(index_dir)  # no index: QAIndexError
    catalog = store.Catalog(store.live_dir(index_dir) / store.CATALOG)
    try:
        return catalog.library()
    finally:
        catalog.close()


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
