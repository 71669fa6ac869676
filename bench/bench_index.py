"""Indexing throughput vs raw encode(), and re-index time of an unchanged corpus.

    HF_HUB_OFFLINE=1 .venv/bin/python bench/bench_index.py [--articles 300] [--rgb]
    HF_HUB_OFFLINE=1 .venv/bin/python bench/bench_index.py --keyword   # FTS5 bm25() vs bm25s, retrieval only

Corpus: ``--articles`` synthetic articles recombining lines of the default corpus (default), or with
``--rgb`` the read-only RGB answerable/small articles.jsonl. Everything is written to a temp folder.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from qa.config import PROJECT_ROOT, Settings  # noqa: E402

RGB = Path("/work/shared/benchmarks/rgb_en_fact/answerable/small/articles.jsonl")


def synthetic(dest: Path, n: int, seed: int = 0) -> Path:
    lines = []
    for f in sorted((PROJECT_ROOT / "articles").iterdir()):
        lines += [
            s.strip()
            for s in f.read_text(encoding="utf-8", errors="replace").splitlines()
            if len(s.strip()) > 40
        ]
    rng = random.Random(seed)
    dest.mkdir(parents=True)
    for i in range(n):
        body = "\n\n".join(rng.sample(lines, 12))
        (dest / f"a{i:04d}.txt").write_text(f"Synthetic article {i}\n\n{body}\n", encoding="utf-8")
    return dest


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--articles", type=int, default=300)
    ap.add_argument("--rgb", action="store_true")
    ap.add_argument("--keyword", action="store_true", help="compare FTS5 bm25() with bm25s on the eval sets")
    args = ap.parse_args()
    if args.keyword:
        return keyword_quality()

    from qa.chunk import chunk_article
    from qa.embed import get_embedder
    from qa.index import build_index
    from qa.ingest import read_articles

    with tempfile.TemporaryDirectory() as tmp:
        corpus = RGB if args.rgb else synthetic(Path(tmp) / "corpus", args.articles)
        settings = Settings.from_env(index_dir=Path(tmp) / "index")
        emb = get_embedder(settings.embedder)
        emb.encode(["warm up"])  # load the model outside the timings

        arts = read_articles([corpus]).articles
        chunks = [
            c
            for a in arts
            for c in chunk_article(
                a,
                max_tokens=settings.chunk_max_tokens,
                overlap_sentences=settings.chunk_overlap_sentences,
                count_tokens=emb.count_tokens,
            )
        ]
        texts = list(dict.fromkeys(c.text for c in chunks))  # what build_index embeds (distinct texts)
        t = time.perf_counter()
        emb.encode(texts, batch_size=64)
        raw = time.perf_counter() - t

        t = time.perf_counter()
        stats = build_index([corpus], settings.index_dir, settings=settings, progress=False, embedder=emb)
        full = time.perf_counter() - t

        t = time.perf_counter()
        again = build_index([corpus], settings.index_dir, settings=settings, progress=False, embedder=emb)
        unchanged = time.perf_counter() - t

        print(
            f"corpus: {'RGB answerable/small' if args.rgb else f'{args.articles} synthetic articles'}, "
            f"{stats.articles} articles, {stats.chunks} chunks, {len(texts)} distinct chunk texts"
        )
        print(f"raw encode():        {len(texts) / raw:8.1f} chunks/s ({raw:.2f} s)")
        print(
            f"build_index (full):  {stats.embedded / full:8.1f} chunks/s ({full:.2f} s, {stats.embedded} embedded)"
            f"  -> {raw / full:.2f}x raw"
        )
        print(f"re-index unchanged:  {unchanged:.2f} s ({again.embedded} embedded)")


def _bm25s(texts: list[str]):
    """The keyword index qa used before FTS5: bm25s, English stopwords, Snowball stemmer."""
    import bm25s
    import Stemmer

    stem = Stemmer.Stemmer("english")
    model = bm25s.BM25()
    model.index(bm25s.tokenize(texts, stopwords="en", stemmer=stem, show_progress=False), show_progress=False)

    def search(q: str, k: int):
        import numpy as np

        toks = bm25s.tokenize([q], stopwords="en", stemmer=stem, return_ids=False, show_progress=False)[0]
        ids = model.get_tokens_ids(toks)
        if not ids:
            return np.zeros(0, np.int64)
        scores = model.get_scores_from_ids(ids)
        top = np.argsort(-scores, kind="stable")[:k]
        return top[scores[top] > 0]

    return search


def keyword_quality() -> None:
    """hit@1/hit@5/MRR@10 of the evidence chunk: keyword only, and hybrid (dense + keyword, RRF)."""
    import numpy as np

    from qa.embed import get_embedder
    from qa.eval import load_questions, passage_has_evidence, resolve_spans
    from qa.index import build_index, open_index
    from qa.ingest import read_articles
    from qa.retrieve import rrf

    sets = [
        (
            "eval/questions.jsonl (default corpus)",
            PROJECT_ROOT / "articles",
            PROJECT_ROOT / "eval" / "questions.jsonl",
        )
    ]
    if RGB.exists():
        sets.append(("RGB answerable/small", RGB, RGB.parent / "questions.jsonl"))
    emb = get_embedder(Settings.from_env().embedder)
    for label, corpus, qpath in sets:
        with tempfile.TemporaryDirectory() as tmp:
            settings = Settings.from_env(index_dir=Path(tmp) / "index")
            build_index([corpus], settings.index_dir, settings=settings, progress=False, embedder=emb)
            ix = open_index(settings.index_dir, settings=settings)
            chunks = ix.catalog.chunks()
            by_id = {c.id: c for c in chunks}
            ids = np.array([c.id for c in chunks])
            bm = _bm25s([c.text for c in chunks])
            articles = {a.id: a for a in read_articles([corpus]).articles}
            qs = [q for q in load_questions(qpath) if q.evidence and q.answerable]
            ranks: dict[str, list[int | None]] = {
                k: [] for k in ("fts5", "bm25s", "hybrid+fts5", "hybrid+bm25s")
            }
            times: dict[str, list[float]] = {"fts5": [], "bm25s": []}
            for q in qs:
                spans = resolve_spans(q, articles)
                t = time.perf_counter()
                _, f = ix.search_keyword(q.question, 50)
                times["fts5"].append(time.perf_counter() - t)
                t = time.perf_counter()
                b = ids[bm(q.question, 50)]
                times["bm25s"].append(time.perf_counter() - t)
                _, d = ix.search_dense(emb.encode([q.question])[0], 50)
                for name, order in (
                    ("fts5", f.tolist()),
                    ("bm25s", b.tolist()),
                    ("hybrid+fts5", _fused(rrf, d, f)),
                    ("hybrid+bm25s", _fused(rrf, d, b)),
                ):
                    rank = None
                    for n, cid in enumerate(order[:10], 1):
                        c = by_id[cid]
                        if passage_has_evidence(c.article_id, c.text, c.start, c.end, spans):
                            rank = n
                            break
                    ranks[name].append(rank)
            print(f"\n{label}: {len(qs)} questions with evidence, {len(chunks)} chunks")
            print(f"{'keyword index':<16} {'hit@1':>6} {'hit@5':>6} {'MRR@10':>7} {'p50 ms':>7}")
            for name, r in ranks.items():
                h1 = sum(1 for x in r if x and x <= 1) / len(r)
                h5 = sum(1 for x in r if x and x <= 5) / len(r)
                mrr = sum(1 / x for x in r if x) / len(r)
                ms = f"{np.median(times[name]) * 1000:7.2f}" if name in times else ""
                print(f"{name:<16} {h1:6.3f} {h5:6.3f} {mrr:7.3f} {ms:>7}")


def _fused(rrf, dense, keyword) -> list[int]:
    fused = rrf([dense, keyword])
    return sorted(fused, key=lambda i: -fused[i])


if __name__ == "__main__":
    main()
