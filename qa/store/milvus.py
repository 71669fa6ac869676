"""Milvus, the distributed engine (``QA_STORE=milvus``): vectors and the BM25 keyword index in one collection.

The same code reaches Milvus Lite (a local file, the default: ``<index_dir>/milvus.db``), a standalone
or distributed Milvus, or Zilliz Cloud, by ``QA_MILVUS_URI`` (and ``QA_MILVUS_TOKEN``). Native features:

- a BM25 *function* turns each chunk's text into a sparse vector inside Milvus (the keyword side);
- :meth:`MilvusEngine.search_hybrid` runs ``hybrid_search`` (dense + BM25) with an RRF ranker;
- source and date filters are Milvus filter expressions, evaluated by the engine;
- a rebuild fills a new collection and then moves the index's *alias* onto it, so every client that
  searches the alias switches at once, and the old collection is dropped.

The catalog (articles, chunk offsets, checksums) stays in SQLite beside the manifest. Text is analysed
by qa before it reaches Milvus (lowercased, stopwords dropped, Snowball-stemmed), because Milvus Lite
3.x only offers the ``standard`` tokenizer and no filters; a cluster then ranks the same tokens.
"""

from __future__ import annotations

import json
import re
import threading
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from qa.errors import IndexCorruptError, QAIndexError
from qa.store.base import REBUILD_HINT

DEFAULT_FILE = "milvus.db"
_CLIENTS: dict[tuple[str, str], Any] = {}
_CLIENTS_LOCK = threading.Lock()
_WORD = re.compile(r"\w+", re.UNICODE)
_STEM: Any = None


def analyse(text: str) -> str:
    """Lowercased, stopword-free, stemmed tokens joined by spaces (what Milvus's BM25 function indexes)."""
    global _STEM
    from qa.store.catalog import _stopwords

    if _STEM is None:
        import Stemmer

        _STEM = Stemmer.Stemmer("english")
    words = [w for w in _WORD.findall(text.lower()) if w not in _stopwords()]
    return " ".join(_STEM.stemWords(words))


def resolve_uri(index_dir: Path, uri: str | None) -> str:
    """``QA_MILVUS_URI``, or the Milvus Lite file inside the index folder."""
    return uri or str(Path(index_dir).resolve() / DEFAULT_FILE)


def client(uri: str, token: str | None) -> Any:
    """One MilvusClient per (uri, token) per process (Milvus Lite opens its file once)."""
    try:
        from pymilvus import MilvusClient
    except ImportError as exc:
        raise QAIndexError(
            "QA_STORE=milvus needs pymilvus and milvus-lite: pip install 'qa[milvus]'"
        ) from exc
    key = (uri, token or "")
    with _CLIENTS_LOCK:
        if key not in _CLIENTS:
            try:
                _CLIENTS[key] = MilvusClient(uri=uri, token=token or "")
            except Exception as exc:  # pymilvus raises MilvusException or grpc errors
                hint = (
                    "Milvus Lite opens its folder in one process at a time: stop the other qa process, or "
                    "run `milvus-lite server --data-dir DIR` and set QA_MILVUS_URI=http://127.0.0.1:19530"
                    if "://" not in uri
                    else "check QA_MILVUS_URI and QA_MILVUS_TOKEN"
                )
                raise QAIndexError(f"cannot open Milvus at {uri} ({exc}): {hint}") from exc
        return _CLIENTS[key]


def _settings_uri_token(index_dir: Path) -> tuple[str, str | None]:
    from qa.config import Settings

    s = Settings.from_env()
    return resolve_uri(index_dir, s.milvus_uri), s.milvus_token


def _quote(value: str) -> str:
    return json.dumps(value)  # a double-quoted string with escapes, as Milvus expressions accept


def filter_expr(*, source: str | None = None, since: str | None = None, until: str | None = None) -> str:
    """A Milvus filter expression for the retrieval filters (dates compared on the filter's length)."""
    parts = []
    if source:
        parts.append(f"source == {_quote(source.lower())}")
    if since:
        parts.append(f'published_at != "" and published_at >= {_quote(since)}')
    if until:
        # "2023-12-27T18:00" must pass until="2023-12-27": ISO suffixes sort below "~" (0x7E).
        parts.append(f'published_at != "" and published_at <= {_quote(until + "~")}')
    return " and ".join(parts)


class MilvusEngine:
    """The vector engine and keyword index of one qa index, in one Milvus collection (searched by alias)."""

    def __init__(self, cli: Any, name: str, dim: int, *, lite: bool) -> None:
        self.client = cli
        self.name = name  # the alias (or a concrete collection during a build)
        self.dim = dim
        self.lite = lite

    # ---------------------------------------------------------------- opening and building

    @classmethod
    def open(cls, folder: Path, static: dict[str, Any], dim: int) -> MilvusEngine:
        info = static.get("milvus") or {}
        index_dir = Path(folder).parent
        uri, token = _settings_uri_token(index_dir)
        cli = client(uri, token)
        name = info.get("alias") or info.get("collection")
        if not name:
            raise IndexCorruptError(f"the manifest in {folder} names no Milvus collection: {REBUILD_HINT}")
        try:
            if not cli.has_collection(name):
                raise IndexCorruptError(f"the Milvus collection {name!r} is missing at {uri}: {REBUILD_HINT}")
            cli.load_collection(name)
        except IndexCorruptError:
            raise
        except Exception as exc:
            raise QAIndexError(f"cannot open the Milvus collection {name!r} at {uri} ({exc})") from exc
        return cls(cli, name, dim, lite=not uri.startswith(("http://", "https://", "tcp://", "grpc://")))

    @classmethod
    def create(cls, index_dir: Path, settings: Any, dim: int) -> tuple[MilvusEngine, dict[str, Any]]:
        """A new, empty collection for a full build; :meth:`publish` moves the alias onto it."""
        from pymilvus import DataType, Function, FunctionType

        uri = resolve_uri(index_dir, settings.milvus_uri)
        lite = not uri.startswith(("http://", "https://", "tcp://", "grpc://"))
        if lite:
            Path(index_dir).mkdir(parents=True, exist_ok=True)
        cli = client(uri, settings.milvus_token)
        alias = _alias_for(index_dir)
        collection = f"{alias}_{uuid.uuid4().hex[:8]}"
        schema = cli.create_schema(auto_id=False)
        schema.add_field("id", DataType.INT64, is_primary=True)
        schema.add_field("vector", DataType.FLOAT_VECTOR, dim=dim)
        schema.add_field("text", DataType.VARCHAR, max_length=65535, enable_analyzer=True)
        schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
        schema.add_field("source", DataType.VARCHAR, max_length=1024)
        schema.add_field("published_at", DataType.VARCHAR, max_length=64)
        schema.add_field("article_id", DataType.VARCHAR, max_length=1024)
        schema.add_function(
            Function(
                name="bm25",
                function_type=FunctionType.BM25,
                input_field_names=["text"],
                output_field_names=["sparse"],
            )
        )
        params = cli.prepare_index_params()
        # Exact search on Lite; a cluster builds HNSW (its AUTOINDEX) for the dense side.
        params.add_index("vector", index_type="FLAT" if lite else "AUTOINDEX", metric_type="IP")
        params.add_index("sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25")
        cli.create_collection(collection, schema=schema, index_params=params)
        engine = cls(cli, collection, dim, lite=lite)
        engine.alias = alias
        return engine, {"milvus": {"alias": alias, "collection": collection, "uri": None if lite else uri}}

    def publish(self) -> None:
        """Point the alias at this collection (atomic for every client) and drop the previous one."""
        alias = getattr(self, "alias", None)
        if not alias:
            return
        previous = None
        if alias in (self.client.list_aliases().get("aliases") or []):
            previous = self.client.describe_alias(alias).get("collection_name")
        if previous is None:
            self.client.create_alias(self.name, alias)
        else:
            self.client.alter_alias(self.name, alias)
            if previous != self.name:
                self.client.drop_collection(previous)

    # ---------------------------------------------------------------- writes (Writer's sink)

    def stage(
        self, ids: np.ndarray, vectors: np.ndarray, chunks: Sequence[Any], articles: Sequence[Any]
    ) -> None:
        """Upsert the new chunks before the catalog commits (ids never reused, so a retry overwrites)."""
        meta = {r.article.id: (r.article.source, r.article.published_at) for r in articles}
        rows = []
        for i, c in enumerate(chunks):
            source, published = meta.get(c.article_id, ("", None))
            rows.append(
                {
                    "id": int(ids[i]),
                    "vector": np.asarray(vectors[i], np.float32).tolist(),
                    "text": analyse(c.text) or "-",
                    "source": (source or "").lower(),
                    "published_at": published or "",
                    "article_id": c.article_id,
                }
            )
        for i in range(0, len(rows), 1000):
            self.client.upsert(self.name, rows[i : i + 1000])
        if not self.lite:
            self.client.flush(self.name)

    def delete(self, ids: np.ndarray) -> int:
        ids = [int(i) for i in ids]
        for i in range(0, len(ids), 1000):
            self.client.delete(self.name, ids=ids[i : i + 1000])
        return len(ids)

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        self.client.upsert(
            self.name,
            [{"id": int(i), "vector": np.asarray(v, np.float32).tolist(), "text": "-", "source": "",
              "published_at": "", "article_id": ""} for i, v in zip(ids, vectors, strict=True)],
        )  # fmt: skip

    # ---------------------------------------------------------------- reads

    def count(self) -> int:
        res = self.client.query(self.name, filter="", output_fields=["count(*)"])
        return int(res[0]["count(*)"])

    def ids(self) -> np.ndarray:
        out: list[int] = []
        it = self.client.query_iterator(self.name, batch_size=1000, filter="id >= 0", output_fields=["id"])
        while True:
            batch = it.next()
            if not batch:
                it.close()
                break
            out += [int(r["id"]) for r in batch]
        return np.asarray(sorted(out), dtype=np.int64)

    def get(self, ids: np.ndarray) -> np.ndarray:
        ids = [int(i) for i in np.asarray(ids).ravel()]
        if not ids:
            return np.zeros((0, self.dim), np.float32)
        rows = {
            int(r["id"]): r["vector"] for r in self.client.get(self.name, ids=ids, output_fields=["vector"])
        }
        missing = [i for i in ids if i not in rows]
        if missing:
            raise KeyError(missing[0])
        return np.asarray([rows[i] for i in ids], dtype=np.float32)

    def _dense(self, qvecs: np.ndarray, k: int, expr: str) -> tuple[np.ndarray, np.ndarray]:
        qvecs = np.atleast_2d(np.asarray(qvecs, np.float32))
        res = self.client.search(
            self.name,
            data=[q.tolist() for q in qvecs],
            anns_field="vector",
            limit=max(1, int(k)),
            filter=expr,
            search_params={"metric_type": "IP"},
            output_fields=["id"],
        )
        scores = np.full((len(qvecs), k), -np.inf, np.float32)
        ids = np.full((len(qvecs), k), -1, np.int64)
        for n, hits in enumerate(res):
            for j, h in enumerate(list(hits)[:k]):
                scores[n, j], ids[n, j] = h["distance"], h["id"]
        return scores, ids

    def search(
        self, vectors: np.ndarray, k: int, *, allowed: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        expr = ""
        if allowed is not None:
            if not len(allowed):
                n = len(np.atleast_2d(vectors))
                return np.zeros((n, 0), np.float32), np.zeros((n, 0), np.int64)
            expr = f"id in {json.dumps([int(i) for i in allowed])}"
        return self._dense(vectors, k, expr)

    def search_filtered(
        self, qvec: np.ndarray, n: int, *, source: str | None, since: str | None, until: str | None
    ) -> tuple[np.ndarray, np.ndarray]:
        scores, ids = self._dense(qvec, n, filter_expr(source=source, since=since, until=until))
        keep = ids[0] >= 0
        return scores[0][keep], ids[0][keep]

    def search_hybrid(
        self,
        qvec: np.ndarray,
        question: str,
        n: int,
        *,
        rrf_k: int = 60,
        source: str | None = None,
        since: str | None = None,
        until: str | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Dense + BM25 fused by Milvus's RRF ranker: (fused scores, chunk ids), best first."""
        from pymilvus import AnnSearchRequest, RRFRanker

        expr = filter_expr(source=source, since=since, until=until)
        reqs = [
            AnnSearchRequest(
                [np.asarray(qvec, np.float32).tolist()], "vector", {"metric_type": "IP"}, n, expr=expr
            )
        ]
        tokens = analyse(question)
        if tokens:
            reqs.append(AnnSearchRequest([tokens], "sparse", {"metric_type": "BM25"}, n, expr=expr))
        res = self.client.hybrid_search(self.name, reqs, RRFRanker(rrf_k), limit=n, output_fields=["id"])
        hits = list(res[0]) if res else []
        return (
            np.array([h["distance"] for h in hits], dtype=np.float32),
            np.array([h["id"] for h in hits], dtype=np.int64),
        )

    def keyword(self, catalog: Any) -> MilvusKeyword:
        return MilvusKeyword(self)


class MilvusKeyword:
    """The keyword side on Milvus: its BM25 function's sparse vectors, searched with the analysed query."""

    def __init__(self, engine: MilvusEngine) -> None:
        self.engine = engine

    @property
    def ids(self) -> np.ndarray:
        return self.engine.ids()

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
        empty = np.zeros(0, np.float32), np.zeros(0, np.int64)
        tokens = analyse(query)
        if not tokens:
            return empty
        expr = filter_expr(source=source, since=since, until=until)
        if allowed is not None:
            if not len(allowed):
                return empty
            ids_expr = f"id in {json.dumps([int(i) for i in allowed])}"
            expr = f"{expr} and {ids_expr}" if expr else ids_expr
        e = self.engine
        res = e.client.search(
            e.name,
            data=[tokens],
            anns_field="sparse",
            limit=max(1, int(k)),
            filter=expr,
            search_params={"metric_type": "BM25"},
            output_fields=["id"],
        )
        # Only chunks sharing a token come back, best first. Milvus Lite 3.x reports BM25 as a negated
        # distance (-score), a cluster as the score itself: the magnitude is the same either way.
        hits = list(res[0]) if res else []
        if not hits:
            return empty
        return (
            np.array([abs(h["distance"]) for h in hits], dtype=np.float32),
            np.array([h["id"] for h in hits], dtype=np.int64),
        )


def _alias_for(index_dir: Path) -> str:
    """A stable alias per index folder (several indexes can share one Milvus)."""
    import hashlib

    digest = hashlib.blake2b(str(Path(index_dir).resolve()).encode(), digest_size=6).hexdigest()
    return f"qa_{digest}"
