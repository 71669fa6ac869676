"""Scale: cost of adding/removing one article vs index size, retrieval latency at 100k/1M chunks, memory.

    /work/bin/heavy .venv/bin/python bench/bench_scale.py                    # everything (~10 min, ~6 GB RAM)
    /work/bin/heavy .venv/bin/python bench/bench_scale.py --writes 1000,10000 --search 100000 --no-milvus

Synthetic data (no embedder): clustered unit vectors (dim 384, like MiniLM) and chunk texts drawn from a
Zipf vocabulary, so BM25 sees realistic term statistics. Every index lives in a temp folder.

1. Writes: an index of N chunks (articles of 10 chunks), then one article added and the same removed
   through :class:`qa.store.Writer` (catalog transaction + vector segment), median of 5; and the
   time for a reader to reopen the index after the write.
2. Retrieval: dense top-50 for FAISS flat and FAISS IVF (recall@10 against flat), keyword top-50
   (FTS5), and hybrid = both + RRF, as ``StoredIndex.search_dense``/``search_keyword`` run them;
   Milvus Lite hybrid_search on the same data. p50/p99 over the queries.
3. Memory: RSS of this process after opening the 1M-chunk index (flat, then IVF).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

from qa import store  # noqa: E402
from qa.retrieve import rrf  # noqa: E402
from qa.store import faiss_engine  # noqa: E402
from qa.types import Article  # noqa: E402

DIM = 384
CHUNKS_PER_ARTICLE = 10
VOCAB = 30_000
WORDS_PER_CHUNK = 60


def rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def vectors(n: int, seed: int = 0, centers: int = 4096) -> np.ndarray:
    """Unit vectors around ``centers`` cluster centres: real embeddings cluster by topic; uniform ones don't."""
    rng = np.random.default_rng(seed)
    c = rng.standard_normal((centers, DIM)).astype(np.float32)
    c /= np.linalg.norm(c, axis=1, keepdims=True)
    out = np.empty((n, DIM), np.float32)
    for i in range(0, n, 100_000):
        m = min(100_000, n - i)
        block = c[rng.integers(0, centers, m)] + 0.025 * rng.standard_normal((m, DIM)).astype(np.float32)
        out[i : i + m] = block / np.linalg.norm(block, axis=1, keepdims=True)
    return out


def texts(n: int, seed: int = 0) -> list[str]:
    rng = np.random.default_rng(seed + 1)
    words = rng.zipf(1.2, size=(n, WORDS_PER_CHUNK)) % VOCAB
    return [" ".join(f"w{w}" for w in row) for row in words]


def rows(n_chunks: int, first_article: int = 0, first_chunk: int = 0, seed: int = 0):
    ts = texts(n_chunks, seed)
    arts, chunks = [], []
    for a in range(n_chunks // CHUNKS_PER_ARTICLE):
        aid = f"a{first_article + a}"
        body = "\n\n".join(ts[a * CHUNKS_PER_ARTICLE : (a + 1) * CHUNKS_PER_ARTICLE])
        art = Article(aid, f"Title {aid}", f"Outlet {a % 50}", f"2024-{1 + a % 12:02d}-01", None, body, None)
        arts.append(store.ArticleRow(art, store.text_hash(body)))
        pos = 0
        for s in range(CHUNKS_PER_ARTICLE):
            t = ts[a * CHUNKS_PER_ARTICLE + s]
            chunks.append(
                store.ChunkRow(first_chunk + len(chunks), aid, s, pos, pos + len(t), t, store.text_hash(t))
            )
            pos += len(t) + 2
    return arts, chunks


def build(index_dir: Path, n: int, vecs: np.ndarray | None = None) -> float:
    arts, chunks = rows(n)
    vecs = vectors(n) if vecs is None else vecs
    manifest = store.make_manifest(embedder="synthetic", dim=DIM, max_tokens=200, overlap=1)
    t = time.perf_counter()
    with store.write_lock(index_dir):
        store.build_fresh(index_dir, manifest=manifest, articles=arts, chunks=chunks, vectors=vecs)
    return time.perf_counter() - t


def pct(xs: list[float], p: float) -> float:
    return float(np.percentile(np.asarray(xs) * 1000, p))


def bench_writes(sizes: list[int], tmp: Path) -> None:
    print("\n## add / remove one article (10 chunks), FAISS engine, median of 5")
    print(f"{'chunks':>9} {'build s':>8} {'add ms':>8} {'remove ms':>10} {'reopen ms':>10} {'files':>6}")
    for n in sizes:
        d = tmp / f"w{n}"
        built = build(d, n)
        live = store.live_dir(d)
        adds, removes, reopens = [], [], []
        for r in range(5):
            arts, chunks = rows(
                CHUNKS_PER_ARTICLE, first_article=10**8 + r, first_chunk=10**9 + 100 * r, seed=r + 7
            )
            vec = vectors(CHUNKS_PER_ARTICLE, seed=r + 7)
            with store.write_lock(d):
                w = store.Writer(live, DIM)
                t = time.perf_counter()
                w.commit(delete=[], articles=arts, chunks=chunks, vectors=vec)
                adds.append(time.perf_counter() - t)
                t = time.perf_counter()
                w.commit(
                    delete=[arts[0].article.id],
                    articles=[],
                    chunks=[],
                    vectors=np.zeros((0, DIM), np.float32),
                )
                removes.append(time.perf_counter() - t)
                w.close()
            t = time.perf_counter()
            store.StoredIndex(d).close()
            reopens.append(time.perf_counter() - t)
        files = len(list((live / "vectors").iterdir()))
        print(
            f"{n:>9,} {built:>8.1f} {statistics.median(adds) * 1000:>8.1f} "
            f"{statistics.median(removes) * 1000:>10.1f} {statistics.median(reopens) * 1000:>10.0f} {files:>6}"
        )


def bench_search(sizes: list[int], tmp: Path, milvus: bool, n_queries: int) -> None:
    print("\n## retrieval latency (top-50 per side), ms; recall@10 of IVF against flat")
    print(f"{'chunks':>9} {'engine':<22} {'p50':>7} {'p99':>7} {'recall@10':>9} {'RSS MB':>8}")
    for n in sizes:
        d = tmp / f"s{n}"
        vecs = vectors(n)
        build(d, n, vecs)
        rng = np.random.default_rng(9)
        pick = rng.integers(0, n, n_queries)
        qv = vecs[pick] + 0.01 * rng.standard_normal((n_queries, DIM)).astype(np.float32)
        qv /= np.linalg.norm(qv, axis=1, keepdims=True)
        # Questions: 6 words of a chunk, minus the 100 most frequent (what a stopword list removes).
        all_texts = texts(n)
        qtext = [
            " ".join([w for w in all_texts[int(p)].split() if int(w[1:]) > 100][:6]) or "w101" for p in pick
        ]
        bm25s_row(all_texts, qtext, n)
        del all_texts
        del vecs
        exact_top: list[np.ndarray] = []
        default_nprobe = faiss_engine.ANN_NPROBE
        for ann in (False, True):
            base = rss_mb()
            faiss_engine.ANN_MIN_VECTORS = 1 if ann else 10**12
            ix = store.StoredIndex(d)
            name = "faiss-ivf" if ann else "faiss-flat"
            mem = rss_mb() - base
            dense, kw, hybrid, recalls = [], [], [], []
            for i in range(n_queries):
                t = time.perf_counter()
                _, ids = ix.search_dense(qv[i], 50)
                dense.append(time.perf_counter() - t)
                if ann:
                    recalls.append(len(set(ids[:10].tolist()) & set(exact_top[i][:10].tolist())) / 10)
                else:
                    exact_top.append(ids)
                t = time.perf_counter()
                _, b = ix.search_keyword(qtext[i], 50)
                kw.append(time.perf_counter() - t)
                t = time.perf_counter()
                _, a = ix.search_dense(qv[i], 50)
                _, b = ix.search_keyword(qtext[i], 50)
                rrf([a, b])
                hybrid.append(time.perf_counter() - t)
            if ann:  # how many lists to probe: recall and latency per nprobe
                for nprobe in (8, 16, 32, 64, 128):
                    faiss_engine.ANN_NPROBE = nprobe
                    lat, rec_n = [], []
                    for i in range(n_queries):
                        t = time.perf_counter()
                        _, ids = ix.search_dense(qv[i], 50)
                        lat.append(time.perf_counter() - t)
                        rec_n.append(len(set(ids[:10].tolist()) & set(exact_top[i][:10].tolist())) / 10)
                    print(f"{n:>9,} {'  ivf nprobe=' + str(nprobe):<22} {pct(lat, 50):>7.1f} {pct(lat, 99):>7.1f} "
                          f"{np.mean(rec_n):>9.3f}")  # fmt: skip
                faiss_engine.ANN_NPROBE = default_nprobe
            rec = f"{np.mean(recalls):.3f}" if recalls else "1 (exact)"
            print(
                f"{n:>9,} {name + ' dense':<22} {pct(dense, 50):>7.1f} {pct(dense, 99):>7.1f} {rec:>9} {mem:>8.0f}"
            )
            if not ann:
                print(f"{n:>9,} {'fts5 keyword':<22} {pct(kw, 50):>7.1f} {pct(kw, 99):>7.1f} {'':>9} {'':>8}")
            print(
                f"{n:>9,} {name + ' hybrid':<22} {pct(hybrid, 50):>7.1f} {pct(hybrid, 99):>7.1f} {'':>9} {'':>8}"
            )
            ix.close()
            del ix
        faiss_engine.ANN_MIN_VECTORS = 200_000
        if milvus:
            bench_milvus(n, tmp, qv, qtext)


def bm25s_row(all_texts: list[str], qtext: list[str], n: int) -> None:
    """bm25s (the previous keyword index) on the same texts and queries, for the FTS5 comparison."""
    import bm25s

    t = time.perf_counter()
    model = bm25s.BM25()
    model.index(bm25s.tokenize(all_texts, stopwords="en", show_progress=False), show_progress=False)
    built = time.perf_counter() - t
    times = []
    for q in qtext:
        t = time.perf_counter()
        toks = bm25s.tokenize([q], stopwords="en", return_ids=False, show_progress=False)[0]
        ids = model.get_tokens_ids(toks)
        if ids:
            scores = model.get_scores_from_ids(ids)
            top = np.argpartition(-scores, 50)[:50]
            top[np.argsort(-scores[top])]
        times.append(time.perf_counter() - t)
    print(f"{n:>9,} {'bm25s keyword':<22} {pct(times, 50):>7.1f} {pct(times, 99):>7.1f} {'':>9} {'':>8}"
          f"  (index built in {built:.0f} s, not incremental)")  # fmt: skip


def bench_milvus(n: int, tmp: Path, qv: np.ndarray, qtext: list[str]) -> None:
    from dataclasses import replace

    from qa.config import Settings
    from qa.store.milvus import MilvusEngine

    settings = replace(Settings.from_env(), milvus_uri=None)
    d = tmp / f"m{n}"
    engine, _ = MilvusEngine.create(d, settings, DIM)
    arts, chunks = rows(n)
    vecs = vectors(n)
    t = time.perf_counter()
    for i in range(0, n, 20_000):
        engine.stage(np.arange(i, min(n, i + 20_000)), vecs[i : i + 20_000], chunks[i : i + 20_000], arts)
    load = time.perf_counter() - t
    dense, hybrid = [], []
    for i in range(min(len(qv), 10)):  # Milvus Lite 3.x is slow (seconds per query at 100k): 10 queries
        t = time.perf_counter()
        engine.search_filtered(qv[i], 50, source=None, since=None, until=None)
        dense.append(time.perf_counter() - t)
        t = time.perf_counter()
        engine.search_hybrid(qv[i], qtext[i], 50)
        hybrid.append(time.perf_counter() - t)
    print(
        f"{n:>9,} {'milvus-lite dense':<22} {pct(dense, 50):>7.1f} {pct(dense, 99):>7.1f} {'1 (FLAT)':>9} {'':>8}"
    )
    print(
        f"{n:>9,} {'milvus-lite hybrid':<22} {pct(hybrid, 50):>7.1f} {pct(hybrid, 99):>7.1f} {'':>9} {'':>8}"
    )
    print(f"{'':>9} (milvus-lite: {n:,} rows inserted in {load:.0f} s)")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--writes", default="1000,10000,100000")
    ap.add_argument("--search", default="100000,1000000")
    ap.add_argument("--milvus-max", type=int, default=100_000, help="largest size also run on Milvus Lite")
    ap.add_argument("--no-milvus", action="store_true")
    ap.add_argument("--queries", type=int, default=200)
    args = ap.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    print(f"load: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}")
    with tempfile.TemporaryDirectory() as tmp:
        if args.writes:
            bench_writes([int(x) for x in args.writes.split(",")], Path(tmp))
        if args.search:
            for n in [int(x) for x in args.search.split(",")]:
                bench_search([n], Path(tmp), not args.no_milvus and n <= args.milvus_max, args.queries)
    print(f"load after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
