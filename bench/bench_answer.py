"""Answer latency through the embedded 1.5B model, per question and in total (figures, not a test).

    .venv/bin/python bench/bench_answer.py [--limit N] [--types fact,number] [--questions eval/questions.jsonl]

Every model call of an answer is recorded (the streamed answer, and any rewrite or verification call),
with the engine's own figures: prompt tokens, the prompt tokens its cache skipped (llama.cpp
``cache_n``), prefill time, decode speed. Per question: retrieval ms, the answer call's prompt tokens,
cached tokens, engine prefill, time to first token, decode tokens/s, the other calls, total seconds;
and, as the chat sees them, when the sources are shown and when the answer's first text is.
Summary: mean and p95 prompt tokens, p50 total, and so on. Questions abstained on before generation
have no model figures. The machine's load is printed first: figures drift with it.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


class RecordingLLM:
    """Passes calls to the real client and keeps every finished Completion, tagged by kind."""

    def __init__(self, llm: Any) -> None:
        self.llm = llm
        self.calls: list[tuple[str, Any]] = []

    def complete(self, messages: Any, **kw: Any) -> Any:
        c = self.llm.complete(messages, **kw)
        self.calls.append(("complete", c))
        return c

    def stream(self, messages: Any, **kw: Any) -> Any:
        return _RecordedStream(self.llm.stream(messages, **kw), self.calls)


class _RecordedStream:
    def __init__(self, inner: Any, sink: list[tuple[str, Any]]) -> None:
        self.inner, self.sink, self.done = inner, sink, False

    def __iter__(self) -> Any:
        yield from self.inner
        self._record()

    @property
    def result(self) -> Any:
        return self.inner.result

    def _record(self) -> None:
        if not self.done and self.inner.result is not None:
            self.sink.append(("stream", self.inner.result))
            self.done = True

    def close(self) -> None:
        self._record()
        self.inner.close()


def cached(c: Any) -> int | None:
    """Prompt tokens the engine's cache skipped (older checkouts lack Completion.cached_tokens)."""
    if hasattr(c, "cached_tokens"):
        return c.cached_tokens
    return c.engine.cache_n if c.engine is not None else None


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(q * (len(s) - 1))))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--questions", default=str(ROOT / "eval" / "questions.jsonl"))
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--types", default=None, help="comma-separated question types (default: all)")
    ap.add_argument("--json", default=None, help="also write the per-question figures to this file")
    args = ap.parse_args()

    from qa.answer import Pipeline
    from qa.config import Settings
    from qa.index import ensure_index
    from qa.llm import get_llm
    from qa.types import Delta, Final, Sources

    try:
        from qa.engine import warm
    except ImportError:  # an older checkout, measured for a before/after comparison

        def warm(settings: Any) -> float:
            from qa.engine import get_engine

            t = time.perf_counter()
            get_engine(settings).start()
            return time.perf_counter() - t

    settings = Settings.from_env()
    print(f"load: {' '.join(f'{x:.2f}' for x in os.getloadavg())} (1/5/15 min); cores: {os.cpu_count()}")
    if not settings.uses_embedded_llm:
        print("note: OPENAI_BASE_URL is set; measuring that endpoint, not the embedded engine")
    ensure_index(settings)
    rows = [json.loads(line) for line in Path(args.questions).read_text().splitlines() if line.strip()]
    if args.types:
        wanted = set(args.types.split(","))
        rows = [r for r in rows if r["type"] in wanted]
    rows = rows[: args.limit]

    took = warm(settings)  # engine start + a 1-token request holding the fixed instructions
    if took is not None:
        print(f"engine start and warm-up: {took:.1f} s")
    llm = RecordingLLM(get_llm(settings))
    pipeline = Pipeline(settings, llm=llm)
    pipeline.ask("warm-up: how many soldiers has Mexico assigned?")  # loads embedder and reranker

    header = (
        f"{'id':<6}{'retr ms':>8}{'prompt':>7}{'cached':>7}{'prefill':>8}{'ttft ms':>8}{'dec t/s':>8}"
        f"{'other calls':>13}{'total s':>8}  answer"
    )
    print(header)
    print("-" * len(header))
    got: dict[str, list[float]] = {
        k: []
        for k in (
            "retr",
            "sources",
            "prompt",
            "cached",
            "prefill",
            "ttft",
            "visible",
            "tps",
            "total",
            "other_ms",
            "other_n",
        )
    }
    records = []
    for r in rows:
        llm.calls.clear()
        history = r.get("history")
        t0 = time.perf_counter()
        a, visible_ms, sources_ms = None, None, None
        # as the chat sees it: sources, then the first streamed text of the answer, then the final answer
        for event in pipeline.ask_stream(
            r["question"], history=[(h["question"], h["answer"]) for h in history] if history else None
        ):
            if isinstance(event, Sources) and sources_ms is None:
                sources_ms = (time.perf_counter() - t0) * 1000
            elif isinstance(event, Delta) and visible_ms is None:
                visible_ms = (time.perf_counter() - t0) * 1000
            elif isinstance(event, Final):
                a = event.answer
        assert a is not None
        if sources_ms is not None:
            got["sources"].append(sources_ms)
        if visible_ms is not None:
            got["visible"].append(visible_ms)
        tm = a.timings
        main_call = next((c for kind, c in llm.calls if kind == "stream"), None)
        others = [c for kind, c in llm.calls if kind != "stream"]
        got["retr"].append(tm.retrieval_ms)
        got["total"].append(tm.total_ms / 1000)
        got["other_n"].append(len(others))
        got["other_ms"].append(sum(c.total_ms for c in others))
        if main_call is not None:
            got["prompt"].append(main_call.prompt_tokens)
            if cached(main_call) is not None:
                got["cached"].append(cached(main_call))
            for key, value in (
                ("ttft", main_call.ttft_ms),
                ("prefill", main_call.prefill_ms),
                ("tps", main_call.decode_tps),
            ):
                if value:
                    got[key].append(value)

        def f(v: float | None, fmt: str) -> str:
            return format(v, fmt) if v is not None else "-"

        mc = main_call
        other = f"{len(others)}: {sum(c.total_ms for c in others) / 1000:.1f} s" if others else "-"
        print(
            f"{r['id']:<6}{tm.retrieval_ms:>8.0f}{f(mc and mc.prompt_tokens, 'd'):>7}"
            f"{f(mc and cached(mc), 'd'):>7}{f(mc and mc.prefill_ms, '.0f'):>8}"
            f"{f(mc and mc.ttft_ms, '.0f'):>8}{f(mc and mc.decode_tps, '.1f'):>8}{other:>13}"
            f"{tm.total_ms / 1000:>8.1f}  {a.text[:60]!r}"
        )
        records.append(
            {
                "id": r["id"],
                "retrieval_ms": tm.retrieval_ms,
                "total_ms": tm.total_ms,
                "calls": [
                    {
                        "kind": kind,
                        "prompt_tokens": c.prompt_tokens,
                        "cached_tokens": cached(c),
                        "prefill_ms": c.prefill_ms,
                        "ttft_ms": c.ttft_ms,
                        "decode_tps": c.decode_tps,
                        "completion_tokens": c.completion_tokens,
                        "total_ms": c.total_ms,
                    }
                    for kind, c in llm.calls
                ],
                "answer": a.text,
            }
        )
    print("-" * len(header))
    for key, label in (
        ("retr", "retrieval ms"),
        ("sources", "sources shown ms"),
        ("prompt", "answer prompt tokens"),
        ("cached", "of which cached"),
        ("prefill", "engine prefill ms"),
        ("ttft", "time to first token ms"),
        ("visible", "first answer text ms"),
        ("tps", "decode tokens/s"),
        ("other_n", "other calls / question"),
        ("other_ms", "other calls ms"),
        ("total", "total s"),
    ):
        values = got[key]
        if values:
            print(
                f"{label:<24} mean {statistics.mean(values):9.2f}  p50 {statistics.median(values):9.2f}"
                f"  p95 {pct(values, 0.95):9.2f}  n={len(values)}"
            )
    print(f"questions: {len(rows)}; all questions took {sum(got['total']):.1f} s")
    print(f"load after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    if args.json:
        Path(args.json).write_text(json.dumps(records, indent=1))


if __name__ == "__main__":
    start = time.perf_counter()
    main()
    print(f"bench wall time: {time.perf_counter() - start:.0f} s")
