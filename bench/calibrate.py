"""Print the abstention gate's signal for every eval question (figures, not a test).

    .venv/bin/python bench/calibrate.py [--questions eval/questions.jsonl]

For each question: the best retrieved *sentence* similarity (what `Settings.min_dense_score` gates), the
same with the previous sentence as context, whether the question names terms the passages lack, and
whether the question is answerable. Sorted by similarity, so the threshold can be read off: answerable
questions should sit above it, off-corpus ones below. Follow-ups are skipped (they are rewritten first).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--questions", default=str(ROOT / "eval" / "questions.jsonl"))
    ap.add_argument("-k", type=int, default=None)
    args = ap.parse_args()

    from qa import cite
    from qa.answer import Pipeline
    from qa.config import Settings

    settings = Settings.from_env()
    pipeline = Pipeline(settings)
    rows = [json.loads(line) for line in Path(args.questions).read_text().splitlines() if line.strip()]
    out = []
    for row in rows:
        if row.get("history"):
            continue
        q = row["question"]
        passages = pipeline.retriever.retrieve(q, k=args.k or settings.k)
        ev = pipeline._evidence(q, cite.number_sentences(passages))
        missing = cite.missing_terms(q, " ".join(p.text for p in passages))
        out.append(
            (
                float(ev.alone.max()),
                float(ev.near.max()),
                row["type"],
                row["id"],
                bool(row["answer"]),
                missing,
                q,
            )
        )
    print(f"{'sentence':>8} {'context':>8}  {'type':<12} {'id':<5} answerable  missing terms  question")
    for alone, near, typ, qid, answerable, missing, q in sorted(out):
        flag = "gate" if alone < settings.min_dense_score else "    "
        print(
            f"{alone:8.3f} {near:8.3f}  {typ:<12} {qid:<5} {answerable!s:<10} {flag} {sorted(missing)!s:<14} {q[:60]}"
        )
    print(f"threshold min_dense_score = {settings.min_dense_score}")


if __name__ == "__main__":
    main()
