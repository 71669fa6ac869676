"""Indexing throughput vs raw encode(), and re-index time of an unchanged corpus.

    HF_HUB_OFFLINE=1 .venv/bin/python bench/bench_index.py [--articles 300] [--rgb]

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
    args = ap.parse_args()

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


if __name__ == "__main__":
    main()
