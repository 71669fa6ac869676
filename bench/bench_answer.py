"""Answer latency through the embedded 1.5B model, per question and in total (figures, not a test).

    .venv/bin/python bench/bench_answer.py [--limit N] [--types fact,number] [--questions eval/questions.jsonl]

Prints retrieval ms, prompt tokens, time to first token, the engine's own prefill time, decode tokens/s,
total time, and TTFT ÷ engine prefill (goal ≤ 1.15: little overhead between the engine and the user).
Questions answered before generation (abstained by the retrieval gate) have no model figures.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--questions", default=str(ROOT / "eval" / "questions.jsonl"))
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--types", default=None, help="comma-separated question types (default: all)")
    args = ap.parse_args()

    from qa.answer import Pipeline
    from qa.config import Settings
    from qa.engine import get_engine
    from qa.index import ensure_index

    settings = Settings.from_env()
    if not settings.uses_embedded_llm:
        print("note: OPENAI_BASE_URL is set; measuring that endpoint, not the embedded engine")
    ensure_index(settings)
    rows = [json.loads(line) for line in Path(args.questions).read_text().splitlines() if line.strip()]
    if args.types:
        wanted = set(args.types.split(","))
        rows = [r for r in rows if r["type"] in wanted]
    rows = rows[: args.limit]

    pipeline = Pipeline(settings)
    t = time.perf_counter()
    if settings.uses_embedded_llm:
        get_engine(settings).start()
        print(f"engine start: {time.perf_counter() - t:.1f} s")
    pipeline.ask("warm-up: how many soldiers has Mexico assigned?")  # loads embedder, fills prompt cache

    header = f"{'id':<6}{'retr ms':>9}{'prompt':>8}{'ttft ms':>9}{'prefill':>9}{'dec t/s':>9}{'total s':>9}{'ratio':>7}  answer"
    print(header)
    print("-" * len(header))
    got: dict[str, list[float]] = {
        k: [] for k in ("retr", "prompt", "ttft", "prefill", "tps", "total", "ratio")
    }
    for r in rows:
        history = r.get("history")
        a = pipeline.ask(
            r["question"], history=[(h["question"], h["answer"]) for h in history] if history else None
        )
        tm = a.timings
        ratio = tm.ttft_ms / tm.engine_prefill_ms if tm.ttft_ms and tm.engine_prefill_ms else None
        got["retr"].append(tm.retrieval_ms)
        got["total"].append(tm.total_ms / 1000)
        if tm.prompt_tokens:
            got["prompt"].append(tm.prompt_tokens)
        for key, value in (("ttft", tm.ttft_ms), ("prefill", tm.engine_prefill_ms), ("tps", tm.decode_tps)):
            if value:
                got[key].append(value)
        if ratio:
            got["ratio"].append(ratio)

        def f(v: float | None, fmt: str) -> str:
            return format(v, fmt) if v else "-"

        print(
            f"{r['id']:<6}{tm.retrieval_ms:>9.0f}{tm.prompt_tokens or '-':>8}{f(tm.ttft_ms, '.0f'):>9}"
            f"{f(tm.engine_prefill_ms, '.0f'):>9}{f(tm.decode_tps, '.1f'):>9}{tm.total_ms / 1000:>9.1f}"
            f"{f(ratio, '.2f'):>7}  {a.text[:70]}"
        )
    print("-" * len(header))
    for key, label in (
        ("retr", "retrieval ms"),
        ("prompt", "prompt tokens"),
        ("ttft", "time to first token ms"),
        ("prefill", "engine prefill ms"),
        ("tps", "decode tokens/s"),
        ("total", "total s"),
        ("ratio", "TTFT / prefill"),
    ):
        values = got[key]
        if values:
            print(
                f"{label:<24} mean {statistics.mean(values):9.2f}  p50 {statistics.median(values):9.2f}  n={len(values)}"
            )
    print(f"questions: {len(rows)}; all questions took {sum(got['total']):.1f} s")


if __name__ == "__main__":
    main()
