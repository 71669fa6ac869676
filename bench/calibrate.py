"""Print grounding's signals per question, to tune ``GroundingSettings`` (figures, not a test).

    .venv/bin/python bench/calibrate.py [--questions eval/questions.jsonl] [--articles DIR]

For each question: the best retrieved sentence's relevance (cross-encoder probability; cosine with
QA_RERANK=0), which the gate compares with ``min_gate_rerank``; the relevance of the best sentence that
holds a gold answer string (what a correct citation must reach, ``min_verify_rerank``); whether the
question names terms the passages lack; and whether it is answerable. Sorted by the gate signal, so a
threshold can be read off. Tune on one half of a set (e.g. odd ids), report the other. Follow-ups are
skipped (they are rewritten first).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--questions", default=None)
    ap.add_argument(
        "--articles", default=None, help="a corpus folder (articles.jsonl), indexed into a temp dir"
    )
    ap.add_argument("-k", type=int, default=None)
    args = ap.parse_args()

    from qa.answer import Pipeline
    from qa.config import Settings
    from qa.grounding.text import contains_phrase

    overrides = {}
    if args.articles:
        from qa.index import build_index

        tmp = tempfile.mkdtemp(prefix="qa-calibrate-")
        overrides = {"index_dir": Path(tmp), "articles_dir": Path(args.articles)}
        build_index([Path(args.articles)], settings=Settings.from_env(**overrides))
    settings = Settings.from_env(**overrides)
    pipeline = Pipeline(settings)
    g = pipeline.grounder
    qfile = args.questions or str(
        Path(args.articles) / "questions.jsonl" if args.articles else ROOT / "eval" / "questions.jsonl"
    )
    rows = [json.loads(line) for line in Path(qfile).read_text().splitlines() if line.strip()]
    out = []
    for row in rows:
        if row.get("history"):
            continue
        q = row["question"]
        answers = [a for a in row.get("answer") or [] if row.get("evidence")]
        ev = g.evidence(q, pipeline.retriever.retrieve(q, k=args.k or settings.k))
        gold = [ev.rel[s.n] for s in ev.sentences if any(contains_phrase(s.text, a) for a in answers)]
        reason = g.gate(ev)
        out.append((ev.best(), max(gold, default=float("nan")), row["id"], bool(answers), reason or "", q))
    floor = g.settings.min_gate_rerank
    print(f"gate floor {floor} (cross-encoder: {g.reranker is not None})")
    print(f"{'best':>7} {'gold':>7}  {'id':<9} answerable  gate reason / question")
    for best, gold, qid, answerable, reason, q in sorted(out):
        print(f"{best:7.3f} {gold:7.3f}  {qid:<9} {answerable!s:<10} {reason[:40] or q[:70]}")


if __name__ == "__main__":
    main()
