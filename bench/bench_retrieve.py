"""Hybrid retrieval latency (p50/p99) at 10k and 100k chunks.

    HF_HUB_OFFLINE=1 .venv/bin/python bench/bench_retrieve.py [--sizes 10000 100000] [--queries 200]

The stores are synthetic (random unit vectors; texts recombining words of the default corpus) and
written through the real index writer, so FAISS, BM25, SQLite and the retriever are the real ones.
Reported: end-to-end ``Retriever.retrieve`` (query embedding included) and the same without the
query embedding (store + BM25 + fusion + catalog).
"""

from __future__ import annotations

import argparse
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


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    ap.add_argument("--queries", type=int, default=200)
    args = ap.parse_args()

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


if __name__ == "__main__":
    main()
