"""ask() and ask_stream(): check → rewrite → retrieve → prompt → stream → ground → Answer.

The model picks numbered sentences (``{"answer", "sentence_ids"}`` under a JSON schema), so citations
are article offsets, verbatim by construction. Everything the model cannot be trusted with — whether to
answer, what a claim may cite, whether articles disagree — is decided by ``qa.grounding.Grounder``.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from qa import prompts
from qa.config import Settings
from qa.errors import LLMError, ModelFileError
from qa.grounding import (
    ANSWER_SCHEMA,
    AnswerFieldStream,
    Grounder,
    GroundingSettings,
    abstention_text,
    parse_model_output,
    strip_markers,
)
from qa.grounding.conflict import agreement_text, compared_question
from qa.retrieve import check_question
from qa.types import Answer, Delta, Event, Final, Sources, Status, Timings

__all__ = ["LLM_UNAVAILABLE", "Pipeline", "abstention_text", "ask", "ask_stream", "parse_model_output"]

log = logging.getLogger("qa.answer")

LLM_UNAVAILABLE = (
    "The language model was unavailable, so these sentences are quoted directly from the articles "
    "instead of a written answer."
)
History = Sequence[tuple[str, str] | dict[str, str]]


def _history_pairs(history: History | None) -> list[tuple[str, str]]:
    pairs = []
    for item in history or []:
        if isinstance(item, dict):
            pairs.append((str(item.get("question", "")), str(item.get("answer", ""))))
        else:
            q, a = item
            pairs.append((str(q), str(a)))
    return [(q, a) for q, a in pairs if q.strip()]


class Pipeline:
    """Retriever + LLM + Grounder. Thread-safe: one instance serves concurrent questions."""

    def __init__(self, settings: Settings | None = None, retriever: Any = None, llm: Any = None) -> None:
        self.settings = settings or Settings.from_env()
        self._retriever = retriever
        self._llm = llm
        self._lock = threading.Lock()
        self.grounder = Grounder(
            GroundingSettings.from_settings(self.settings), self._article_text, self._embed, self._reranker()
        )

    # lazily built parts -------------------------------------------------------------------
    @property
    def retriever(self) -> Any:
        if self._retriever is not None:
            return self._retriever
        from qa.retrieve import default_retriever

        # Asked each time: it is cached, and reopens the index when an upload or `qa index` changed it.
        return default_retriever(self.settings)

    @property
    def llm(self) -> Any:
        if self._llm is None:
            with self._lock:
                if self._llm is None:
                    from qa.llm import get_llm

                    self._llm = get_llm(self.settings)
        return self._llm

    def _embed(self, texts: list[str]) -> np.ndarray:
        from qa.embed import get_embedder

        return get_embedder(self.settings.embedder).encode(texts)

    def _reranker(self) -> Any:
        """The cross-encoder, loaded on first use; None when switched off (QA_RERANK=0)."""
        if not getattr(self.settings, "rerank", True):
            return None
        try:
            from qa import rerank
        except ImportError:
            return None

        class Lazy:
            def score(self, query: str, texts: list[str]) -> np.ndarray:
                return rerank.get_reranker().score(query, texts)

        return Lazy()

    def _article_text(self, article_id: str) -> str:
        getter = getattr(self.retriever, "get_article", None)
        if getter is None:
            from qa.retrieve import get_article as getter
        return getter(article_id).text

    def _judge(
        self,
        messages: list[dict[str, Any]],
        schema: dict[str, Any],
        max_tokens: int,
        deadline: float | None = None,
    ) -> str | None:
        """A short verification call after the answer; its prefix is the answer's prompt, so it is cached."""
        try:
            return str(
                self.llm.complete(
                    messages, schema=schema, max_tokens=max_tokens, temperature=0.0, deadline=deadline
                ).text
            )
        except (LLMError, ModelFileError) as exc:
            log.warning("verification call failed: %s", exc)
            return None

    # public --------------------------------------------------------------------------------
    def ask(
        self, question: str, *, history: History | None = None, k: int | None = None, **filters: Any
    ) -> Answer:
        final: Answer | None = None
        for event in self.ask_stream(question, history=history, k=k, **filters):
            if isinstance(event, Final):
                final = event.answer
        assert final is not None
        return final

    def ask_stream(
        self, question: str, *, history: History | None = None, k: int | None = None, **filters: Any
    ) -> Iterator[Event]:
        s = self.settings
        t0 = time.perf_counter()
        deadline = time.monotonic() + s.answer_deadline_s  # shared by every model call of this answer
        question = check_question(question, s)
        pairs = _history_pairs(history)
        standalone = self._rewrite(question, pairs, deadline) if pairs else question
        # "Do the articles agree on X?" is answered by X's versions (the conflict path), not by "Yes"
        compared = compared_question(standalone)
        standalone = compared or standalone

        yield Status("retrieving", "Searching the articles…")
        t_r = time.perf_counter()
        passages = self.retriever.retrieve(standalone, k=k or s.k, **filters)
        retrieval_ms = (time.perf_counter() - t_r) * 1000
        yield Sources(passages)

        base = Answer(
            question=question,
            text="",
            answerable=False,
            passages=passages,
            standalone_question=standalone if standalone != question else None,
        )
        abstain = replace(base, text=abstention_text(standalone))

        def finish(answer: Answer, **timing: Any) -> Final:
            timings = Timings(retrieval_ms=retrieval_ms, total_ms=(time.perf_counter() - t0) * 1000, **timing)
            return Final(replace(answer, timings=timings))

        g = self.grounder
        ev = g.evidence(standalone, passages)
        reason = g.gate(ev)
        if reason is not None:
            log.info("abstain before generation: %s", reason)
            yield finish(abstain)
            return

        shown = g.select(ev)
        yield Status("reading", f"Reading {len(shown)} sentences…")
        messages = g.messages(ev, shown, standalone)
        yield Status("writing", "Writing the answer…")
        streamer = AnswerFieldStream()
        raw: list[str] = []
        stats: Any = None
        stream: Any = None
        try:
            stream = self.llm.stream(
                messages,
                schema=ANSWER_SCHEMA,
                max_tokens=s.max_answer_tokens,
                temperature=s.temperature,
                deadline=deadline,
            )
            for delta in stream:
                raw.append(delta)
                visible = streamer.feed(delta)
                if visible:
                    yield Delta(visible)
            stats = getattr(stream, "result", None)
        except (LLMError, ModelFileError) as exc:
            log.warning("LLM unavailable, answering extractively: %s", exc)
            quoted = g.extractive(ev)
            if quoted is None:
                yield finish(replace(abstain, extractive=True, notice=LLM_UNAVAILABLE))
            else:
                yield finish(
                    replace(
                        base,
                        text=quoted.text,
                        citations=quoted.citations,
                        answerable=True,
                        extractive=True,
                        notice=LLM_UNAVAILABLE,
                    )
                )
            return
        finally:
            if stream is not None and hasattr(stream, "close"):
                stream.close()  # a closed generator (the user left) closes the model's HTTP stream

        timing = {
            "prompt_tokens": getattr(stats, "prompt_tokens", 0) or 0,
            "ttft_ms": getattr(stats, "ttft_ms", None),
            "completion_tokens": getattr(stats, "completion_tokens", 0) or 0,
            "engine_prefill_ms": getattr(stats, "prefill_ms", None),
            "decode_tps": getattr(stats, "decode_tps", None),
            "cached_tokens": getattr(stats, "cached_tokens", None),
        }
        log.info("model output: %s", "".join(raw))
        yield Status("checking", "Checking the citations…")
        draft = g.ground(ev, "".join(raw), messages, functools.partial(self._judge, deadline=deadline))
        if draft is None:
            yield finish(abstain, **timing)
            return
        text = agreement_text(draft.text) if compared and not draft.conflict else draft.text
        yield finish(
            replace(base, text=text, citations=draft.citations, answerable=True, conflict=draft.conflict),
            **timing,
        )

    # follow-ups ----------------------------------------------------------------------------
    def _rewrite(self, question: str, pairs: list[tuple[str, str]], deadline: float | None = None) -> str:
        """Turn a follow-up into a standalone question; on any failure fall back to plain context."""
        recent = pairs[-3:]
        history = "\n".join(f"Q: {q}\nA: {strip_markers(a)[:300]}" for q, a in recent)
        messages = [
            {"role": "user", "content": prompts.render("rewrite", history=history, question=question)}
        ]
        try:
            out = self.llm.complete(messages, max_tokens=60, temperature=0.0, deadline=deadline)
            text = getattr(out, "text", out)
            rewritten = " ".join(str(text).strip().strip('"').split("\n")[0].split())
        except (LLMError, ModelFileError):
            rewritten = ""
        if not rewritten or len(rewritten) > 3 * len(question) + 200:
            return f"{recent[-1][0]} {question}"
        return rewritten


# ---------------------------------------------------------------------------------------------
# Module-level API over a lazily built default pipeline

_pipelines: dict[Settings, Pipeline] = {}
_pipelines_lock = threading.Lock()


def default_pipeline(settings: Settings | None = None) -> Pipeline:
    settings = settings or Settings.from_env()
    with _pipelines_lock:
        if settings not in _pipelines:
            _pipelines[settings] = Pipeline(settings)
        return _pipelines[settings]


def ask(
    question: str,
    *,
    history: History | None = None,
    k: int | None = None,
    settings: Settings | None = None,
    **filters: Any,
) -> Answer:
    """Answer ``question`` from the indexed articles; every citation is a verified verbatim span."""
    return default_pipeline(settings).ask(question, history=history, k=k, **filters)


def ask_stream(
    question: str,
    *,
    history: History | None = None,
    k: int | None = None,
    settings: Settings | None = None,
    **filters: Any,
) -> Iterator[Event]:
    """Yield Status stages, ``Sources``, ``Delta`` text, then ``Final`` with the verified Answer."""
    return default_pipeline(settings).ask_stream(question, history=history, k=k, **filters)
