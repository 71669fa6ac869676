"""ask() and ask_stream(): retrieve, let the model pick numbered sentences, verify, and decide in code.

Design (measured in FINDINGS.md and again on eval/): the model sees the retrieved passages as numbered
sentences and returns ``{"answer", "sentence_ids"}`` under a JSON schema. Citations are those sentences'
article offsets, so they are verbatim by construction; code then checks that each answer sentence is
supported by what it cites (re-anchoring to a better retrieved sentence when the model points at a
neighbour), decides abstention (retrieval gate, specific-term check, grounding), and reports conflicts
between articles through its own code path, because the model reports one number or says they agree.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from qa import cite, prompts
from qa.cite import Sentence
from qa.config import Settings
from qa.errors import LLMError, ModelFileError
from qa.retrieve import check_question
from qa.types import Answer, Citation, Delta, Event, Final, Passage, Sources, Timings

log = logging.getLogger("qa.answer")

ANSWER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "answer": {"type": "string", "maxLength": 400},
        "sentence_ids": {"type": "array", "items": {"type": "integer"}, "maxItems": 3},
    },
    "required": ["answer", "sentence_ids"],
    "additionalProperties": False,
}

LLM_UNAVAILABLE = (
    "The language model was unavailable, so these sentences are quoted directly from the articles "
    "instead of a written answer."
)
History = Sequence[tuple[str, str] | dict[str, str]]


# ---------------------------------------------------------------------------------------------
# Input checks


def _history_pairs(history: History | None) -> list[tuple[str, str]]:
    pairs = []
    for item in history or []:
        if isinstance(item, dict):
            pairs.append((str(item.get("question", "")), str(item.get("answer", ""))))
        else:
            q, a = item
            pairs.append((str(q), str(a)))
    return [(q, a) for q, a in pairs if q.strip()]


# ---------------------------------------------------------------------------------------------
# Streaming the "answer" field out of a JSON object as it is generated


class AnswerFieldStream:
    """Incrementally decodes the string value of ``"answer"`` from partial JSON text."""

    _KEY = re.compile(r'"answer"\s*:\s*"')

    def __init__(self) -> None:
        self.buffer = ""
        self.pos: int | None = None  # index in buffer of the next undecoded character of the value
        self.done = False

    def feed(self, chunk: str) -> str:
        self.buffer += chunk
        if self.done:
            return ""
        if self.pos is None:
            m = self._KEY.search(self.buffer)
            if not m:
                return ""
            self.pos = m.end()
        out: list[str] = []
        i = self.pos
        buf = self.buffer
        while i < len(buf):
            ch = buf[i]
            if ch == '"':
                self.done = True
                i += 1
                break
            if ch == "\\":
                if i + 1 >= len(buf):
                    break
                esc = buf[i + 1]
                if esc == "u":
                    if i + 6 > len(buf):
                        break
                    with contextlib.suppress(ValueError):
                        out.append(chr(int(buf[i + 2 : i + 6], 16)))
                    i += 6
                    continue
                out.append({"n": "\n", "t": "\t", "r": "", "b": "", "f": ""}.get(esc, esc))
                i += 2
                continue
            out.append(ch)
            i += 1
        self.pos = i
        return "".join(out)


def parse_model_output(text: str) -> tuple[str, list[int]] | None:
    """Parse ``{"answer", "sentence_ids"}``; None when the output is not that object."""
    text = text.strip()
    if text.startswith("```"):
        text = text.strip("`").removeprefix("json").strip()
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        m = re.search(r"\{.*\}", text, re.S)
        if not m:
            return None
        try:
            data = json.loads(m.group(0))
        except json.JSONDecodeError:
            return None
    if not isinstance(data, dict):
        return None
    answer = data.get("answer", "")
    ids = data.get("sentence_ids", [])
    if not isinstance(answer, str) or not isinstance(ids, list):
        return None
    clean_ids = []
    for i in ids:
        try:
            clean_ids.append(int(i))
        except (TypeError, ValueError):
            continue
    return answer.strip(), clean_ids


# ---------------------------------------------------------------------------------------------
# The pipeline


@dataclass
class _Draft:
    text: str
    citations: list[Citation]
    conflict: bool = False


@dataclass
class _Evidence:
    """The retrieved sentences with their context and embeddings, computed once per question."""

    question: str
    sentences: list[Sentence]
    context: dict[int, str]  # sentence number → previous sentence + sentence
    texts: dict[str, str]  # article id → article text, read once per question
    q: np.ndarray  # question vector
    alone: np.ndarray  # cosine of each sentence alone to the question
    near: np.ndarray  # cosine of each sentence with its context to the question
    vectors: np.ndarray  # context vectors, for comparing sentences with each other

    def index(self, s: Sentence) -> int:
        return s.n - 1


class Pipeline:
    """Retriever + LLM + grounding rules. Thread-safe: one instance serves concurrent questions."""

    def __init__(self, settings: Settings | None = None, retriever: Any = None, llm: Any = None) -> None:
        self.settings = settings or Settings.from_env()
        self._retriever = retriever
        self._llm = llm
        self._lock = threading.Lock()

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

    def _article_text(self, article_id: str) -> str:
        getter = getattr(self.retriever, "get_article", None)
        if getter is None:
            from qa.retrieve import get_article as getter
        return getter(article_id).text

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
        question = check_question(question, s)
        pairs = _history_pairs(history)
        standalone = self._rewrite(question, pairs) if pairs else question

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

        def finish(answer: Answer, **timing: Any) -> Final:
            timings = Timings(retrieval_ms=retrieval_ms, total_ms=(time.perf_counter() - t0) * 1000, **timing)
            return Final(replace(answer, timings=timings))

        sentences = cite.number_sentences(passages)
        ev = self._evidence(standalone, sentences)
        gate = self._gate(ev, passages)
        if gate is not None:
            log.info("abstain before generation: %s", gate)
            yield finish(self._abstain(base, standalone))
            return

        shown = self._select(ev)
        messages = [
            {"role": "system", "content": prompts.load("system")},
            {
                "role": "user",
                "content": prompts.render(
                    "answer", sentences=cite.format_sentences(shown, passages), question=standalone
                ),
            },
        ]
        streamer = AnswerFieldStream()
        raw: list[str] = []
        stats: Any = None
        try:
            stream = self.llm.stream(
                messages, schema=ANSWER_SCHEMA, max_tokens=s.max_answer_tokens, temperature=s.temperature
            )
            for delta in stream:
                raw.append(delta)
                visible = streamer.feed(delta)
                if visible:
                    yield Delta(visible)
            stats = getattr(stream, "result", None)
        except (LLMError, ModelFileError) as exc:
            log.warning("LLM unavailable, answering extractively: %s", exc)
            yield finish(self._extractive(base, ev, passages))
            return

        timing = {
            "prompt_tokens": getattr(stats, "prompt_tokens", 0) or 0,
            "ttft_ms": getattr(stats, "ttft_ms", None),
            "completion_tokens": getattr(stats, "completion_tokens", 0) or 0,
            "engine_prefill_ms": getattr(stats, "prefill_ms", None),
            "decode_tps": getattr(stats, "decode_tps", None),
        }
        parsed = parse_model_output("".join(raw))
        log.info("model output: %s", "".join(raw))
        if parsed is None:
            log.info("model output is not the expected JSON; abstaining")
            yield finish(self._abstain(base, standalone), **timing)
            return
        text, ids = parsed
        draft = self._ground(ev, text, ids, passages)
        if draft is None:
            yield finish(self._abstain(base, standalone), **timing)
            return
        conflict = self._conflict(ev, draft, passages)
        if conflict is not None:
            draft = conflict
        yield finish(
            replace(
                base, text=draft.text, citations=draft.citations, answerable=True, conflict=draft.conflict
            ),
            **timing,
        )

    def _evidence(self, question: str, sentences: list[Sentence]) -> _Evidence:
        texts = {aid: self._article_text(aid) for aid in dict.fromkeys(s.article_id for s in sentences)}
        context = _neighbourhood(sentences, texts.__getitem__)
        n = len(sentences)
        vecs = self._embed([question, *(s.text for s in sentences), *(context[s.n] for s in sentences)])
        q = vecs[0]
        return _Evidence(
            question, sentences, context, texts, q, vecs[1 : n + 1] @ q, vecs[n + 1 :] @ q, vecs[n + 1 :]
        )

    def _select(self, ev: _Evidence) -> list[Sentence]:
        """The sentences worth showing the model: the most relevant ones, in reading order.

        Every prompt token costs ~16 ms of prefill on 2 cores, and most sentences of a retrieved chunk
        are about something else. Grounding still searches all retrieved sentences, so a fact the model
        was not shown can still anchor a citation.
        """
        limit = self.settings.max_prompt_sentences
        if limit <= 0 or len(ev.sentences) <= limit:
            return ev.sentences
        cover = np.array([cite.coverage(ev.question, ev.context[s.n]) for s in ev.sentences])
        scores = np.maximum(ev.alone, ev.near) + 0.3 * cover
        keep = set(np.argsort(-scores)[:limit].tolist())
        return [s for i, s in enumerate(ev.sentences) if i in keep]

    # follow-ups ----------------------------------------------------------------------------
    def _rewrite(self, question: str, pairs: list[tuple[str, str]]) -> str:
        """Turn a follow-up into a standalone question; on any failure fall back to plain context."""
        recent = pairs[-3:]
        history = "\n".join(f"Q: {q}\nA: {_strip_markers(a)[:300]}" for q, a in recent)
        messages = [
            {"role": "user", "content": prompts.render("rewrite", history=history, question=question)}
        ]
        try:
            out = self.llm.complete(messages, max_tokens=60, temperature=0.0)
            text = getattr(out, "text", out)
            rewritten = " ".join(str(text).strip().strip('"').split("\n")[0].split())
        except (LLMError, ModelFileError):
            rewritten = ""
        if not rewritten or len(rewritten) > 3 * len(question) + 200:
            return f"{recent[-1][0]} {question}"
        return rewritten

    # abstention ----------------------------------------------------------------------------
    def _gate(self, ev: _Evidence, passages: Sequence[Passage]) -> str | None:
        """Reasons to abstain before spending a model call, or None.

        The gate is the best *sentence* similarity, not the chunk's: a short fact inside a 200-token
        chunk scores low at chunk level, which made chunk scores overlap between answerable and
        off-corpus questions on eval/ (see bench/calibrate.py).
        """
        if not ev.sentences:
            return "nothing retrieved"
        top = float(np.max(ev.alone))
        if top < self.settings.min_dense_score:
            return f"best sentence similarity {top:.2f} < {self.settings.min_dense_score}"
        missing = cite.missing_terms(ev.question, " ".join(p.text for p in passages))
        if missing:
            return f"the passages never mention {sorted(missing)}"
        return None

    def _abstain(self, base: Answer, question: str) -> Answer:
        return replace(base, text=abstention_text(question), answerable=False, citations=[])

    # grounding -----------------------------------------------------------------------------
    def _ground(self, ev: _Evidence, text: str, ids: list[int], passages: Sequence[Passage]) -> _Draft | None:
        """Keep only answer sentences that verified citations support; None means abstain."""
        from qa.chunk import sentence_spans

        if not text or _says_unknown(text):
            return None
        question, sentences, context = ev.question, ev.sentences, ev.context
        by_n = {s.n: s for s in sentences}
        cited = [by_n[i] for i in dict.fromkeys(ids) if i in by_n]  # out-of-range ids are dropped
        claims = [text[a:b] for a, b in sentence_spans(text)] or [text]

        markers: dict[tuple[str, int, int], int] = {}
        citations: list[Citation] = []
        parts: list[str] = []
        for claim in claims:
            # Prefer what the model cited; re-anchor when another retrieved sentence supports it better.
            score_cited, best_cited = cite.best_support(claim, cited, question, context)
            score_all, best_all = cite.best_support(claim, sentences, question, context)
            if best_cited and score_cited >= max(score_all, self.settings.min_support) - 1e-9:
                chosen = best_cited
            elif best_all and score_all >= self.settings.min_support:
                chosen = best_all
            else:
                log.info(
                    "dropped unsupported claim %r (support %.2f cited, %.2f best)",
                    claim,
                    score_cited,
                    score_all,
                )
                continue
            if not self._relevant(ev, claim, chosen):
                log.info("dropped claim %r: its evidence is not about the question", claim)
                continue
            claim_markers = []
            for s in chosen:
                key = (s.article_id, s.start, s.end)
                if key not in markers:
                    c = cite.make_citation(len(citations) + 1, s, passages[s.passage], ev.texts[s.article_id])
                    if c is None:
                        continue
                    markers[key] = c.marker
                    citations.append(c)
                claim_markers.append(markers[key])
            if claim_markers:
                parts.append(claim.rstrip() + "".join(f" [{m}]" for m in claim_markers))
        if not citations:
            return None
        return _Draft(" ".join(parts), citations)

    def _relevant(self, ev: _Evidence, claim: str, chosen: list[Sentence]) -> bool:
        """Near-miss check: the cited evidence must be about what was asked, not just nearby.

        Either most of the question's content words occur around the cited sentence, or the sentence is
        semantically close to the question (paraphrases share few words). An age must be bound to the
        person asked about: news writes "Blinken, 61," and a model asked another name's age picks it up.
        """
        if not cite.age_bound(ev.question, claim, [s.text for s in chosen]):
            return False
        evidence = " ".join(ev.context[s.n] for s in chosen)
        if cite.coverage(ev.question, evidence) >= self.settings.min_coverage:
            return True
        best = max(max(ev.alone[ev.index(s)], ev.near[ev.index(s)]) for s in chosen)
        return float(best) >= self.settings.min_relevance

    # conflicts -----------------------------------------------------------------------------
    def _conflict(self, ev: _Evidence, draft: _Draft, passages: Sequence[Passage]) -> _Draft | None:
        """When another article states a different number for the same thing, report both versions."""
        if not draft.citations:
            return None
        answer_numbers = cite.numbers(_strip_markers(draft.text))
        if not answer_numbers or not _asks_quantity(ev.question):
            return None
        primary = draft.citations[0]
        sentences = ev.sentences
        first = next(s for s in sentences if (s.article_id, s.start) == (primary.article_id, primary.start))
        others = [s for s in sentences if s.article_id != primary.article_id and cite.numbers(s.text)]
        if not others:
            return None
        rel_primary = float(ev.near[ev.index(first)])
        rel = np.array([ev.near[ev.index(s)] for s in others])
        best = int(np.argmax(rel))
        candidate = others[best]
        if rel[best] < max(self.settings.min_relevance, rel_primary - self.settings.conflict_margin):
            return None
        if float(ev.vectors[ev.index(candidate)] @ ev.vectors[ev.index(first)]) < (
            self.settings.conflict_topic_similarity
        ):
            return None  # a different subject that merely has a number
        alt_numbers = cite.numbers(candidate.text) - _years_of(candidate.text)
        if not alt_numbers or alt_numbers & answer_numbers:
            return None
        # A following sentence that revises the figure ("may swell to 15,000") belongs to this version.
        group = [candidate]
        nxt = next(
            (s for s in sentences if s.n == candidate.n + 1 and s.article_id == candidate.article_id), None
        )
        if (
            nxt is not None
            and cite.numbers(nxt.text) - _years_of(nxt.text)
            and ev.near[ev.index(nxt)] >= self.settings.min_relevance
        ):
            group.append(nxt)
        primary = replace(primary, marker=1)
        alt_citations: list[Citation] = []
        for s in group:
            c = cite.make_citation(len(alt_citations) + 2, s, passages[s.passage], ev.texts[s.article_id])
            if c is not None:
                alt_citations.append(c)
        if not alt_citations:
            return None
        said_first = _join(_figure_phrases(primary.quote, answer_numbers) or sorted(answer_numbers))
        said_second = " and ".join(
            f"{_join(_figure_phrases(c.quote, cite.numbers(c.quote) - _years_of(c.quote)))} [{c.marker}]"
            for c in alt_citations
        )
        text = (
            f"The articles disagree. “{_short_title(primary.title)}” says {said_first} [1]; "
            f"“{_short_title(alt_citations[0].title)}” says {said_second}."
        )
        return _Draft(text, [primary, *alt_citations], conflict=True)

    # extractive fallback -------------------------------------------------------------------
    def _extractive(self, base: Answer, ev: _Evidence, passages: Sequence[Passage]) -> Answer:
        """Quote the best-supported sentences when the model is unavailable; still verified."""
        question, sentences = ev.question, ev.sentences
        if not sentences:
            return replace(self._abstain(base, question), extractive=True, notice=LLM_UNAVAILABLE)
        scores = np.maximum(ev.alone, ev.near) + 0.1 * np.array(
            [cite.coverage(question, s.text) for s in sentences]
        )
        order = [int(i) for i in np.argsort(-scores)[:2]]
        citations = []
        for i in order:
            s = sentences[i]
            c = cite.make_citation(len(citations) + 1, s, passages[s.passage], ev.texts[s.article_id])
            if c is not None:
                citations.append(c)
        if not citations:
            return replace(self._abstain(base, question), extractive=True, notice=LLM_UNAVAILABLE)
        text = " ".join(f"“{cite.one_line(c.quote)}” [{c.marker}]" for c in citations)
        return replace(
            base, text=text, citations=citations, answerable=True, extractive=True, notice=LLM_UNAVAILABLE
        )


# ---------------------------------------------------------------------------------------------
# Small text helpers

_MARKER = re.compile(r"\s*\[\d+\]")
_QUANTITY = re.compile(
    r"\b(how (many|much|big|large|old|long|far)|number of|size|amount|total|count|figure|percent|percentage)\b",
    re.I,
)
_UNKNOWN = re.compile(
    r"\b(do(es)? not (say|mention|state|specify|provide)|not (mentioned|stated|specified|provided)|"
    r"no information|cannot (be )?(answer|determine)|unknown|not available)\b",
    re.I,
)


def _strip_markers(text: str) -> str:
    return _MARKER.sub("", text)


def _says_unknown(text: str) -> bool:
    return bool(_UNKNOWN.search(text))


def _asks_quantity(question: str) -> bool:
    return bool(_QUANTITY.search(question))


def _years_of(text: str) -> set[str]:
    return {n for n in cite.numbers(text) if re.fullmatch(r"(1[89]|20)\d\d", n)}


def _neighbourhood(sentences: Sequence[Sentence], article_text: Callable[[str], str]) -> dict[int, str]:
    """Each sentence with the sentence before it in its article, for claims that span both.

    News sentences lean on the previous one ("At least 8,000 asylum seekers…" follows "…a massive migrant
    caravan…"), so relevance and support are judged on the pair, read from the article itself.
    """
    from qa.chunk import sentence_spans

    out: dict[int, str] = {}
    for s in sentences:
        text = article_text(s.article_id)
        before = [(a, b) for a, b in sentence_spans(text) if b <= s.start]
        out[s.n] = f"{text[before[-1][0] : before[-1][1]]} {s.text}" if before else s.text
    return out


def _figure_phrases(quote: str, wanted: set[str]) -> list[str]:
    """'about 6,000', 'at least 8,000': the figures of a quote with their qualifiers, as written."""
    phrases = []
    for m in re.finditer(
        r"(?:(?:about|around|roughly|nearly|almost|over|more than|fewer than|less than|at least|at most|"
        r"up to|some|approximately|an estimated|as many as)\s+)?\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?",
        quote,
        re.I,
    ):
        found = m.group(0)
        if cite.numbers(found) & wanted and not _years_of(found):
            phrases.append(found[0].lower() + found[1:])  # "At least 8,000" reads mid-sentence
    return phrases


def _join(items: Sequence[str]) -> str:
    items = list(dict.fromkeys(items))
    return ", ".join(items[:-1]) + " and " + items[-1] if len(items) > 1 else "".join(items)


def _short_title(title: str, n: int = 60) -> str:
    title = cite.one_line(title)
    return title if len(title) <= n else title[: n - 1].rsplit(" ", 1)[0] + "…"


def abstention_text(question: str) -> str:
    """'The articles do not say who acquired WhatsApp.' — or a generic line for non-questions."""
    q = question.strip().rstrip("?.! ")
    first = q.split(" ", 1)[0].lower() if q else ""
    if first in {"who", "what", "when", "where", "why", "how", "which", "whom", "whose"} and len(q) < 200:
        return f"The articles do not say {q[0].lower()}{q[1:]}."
    return "The articles do not contain an answer to that question."


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
    """Yield ``Sources`` (retrieved passages), then ``Delta`` text, then ``Final`` with the verified Answer."""
    return default_pipeline(settings).ask_stream(question, history=history, k=k, **filters)
