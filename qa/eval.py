"""Evaluate retrieval, answers, citations and abstention on a question set; write a report.

Usage::

    from qa.eval import run
    report = run(limit=10, retrieval_only=True)   # eval/questions.jsonl over the default index
    print(report.summary["hit@5"], report.out_dir)

The metric functions are pure and small, so they are unit-tested on hand-made cases. A metric with
nothing to measure (no answerable question, no citation, …) is ``None`` and prints as ``n/a``.
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
import string
import tempfile
import time
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from qa.config import PROJECT_ROOT, Settings
from qa.errors import QAError
from qa.grounding.text import MONTHS
from qa.types import Answer, Article, Citation, Passage

log = logging.getLogger(__name__)

DEFAULT_QUESTIONS = PROJECT_ROOT / "eval" / "questions.jsonl"
RETRIEVAL_K = 10  # depth of the retrieval run behind hit@1/3/5 and MRR@10

# What a question type expects: an answer, an abstention, or (RGB) resisting a planted wrong answer.
ABSTAIN_TYPES = frozenset({"unanswerable", "injection", "rejection"})
COUNTERFACTUAL_TYPES = frozenset({"counterfactual"})
CONFLICT_TYPES = frozenset({"conflict"})
EVAL_SET_TYPES = frozenset(
    {
        "fact",
        "number",
        "name",
        "place",
        "date",
        "both",
        "conflict",
        "paraphrase",
        "lowercase",
        "misspelled",
        "followup",
        "unanswerable",
        "injection",
    }
)
# RGB's own type names, mapped to ours (eval/README.md explains how each is scored).
RGB_TYPES = {
    "single_hop_news": "answerable",
    "counterfactual": "counterfactual",
    "conflicting": "conflict",
    "unanswerable": "rejection",
}

# ----------------------------------------------------------------------------- records


@dataclass(frozen=True)
class Evidence:
    quote: str
    file: str | None = None  # our eval set: file name in articles/
    article_id: str | None = None  # common benchmark format


@dataclass(frozen=True)
class EvalQuestion:
    id: str
    question: str
    answer: tuple[str, ...]
    evidence: tuple[Evidence, ...]
    type: str
    follows: str | None = None
    history: tuple[tuple[str, str], ...] = ()
    versions: tuple[str, ...] = ()  # conflict: versions an answer must all mention
    fake_answer: str | None = None  # RGB: the planted wrong answer
    # RGB rejection: the true answer, which the noise passages are meant not to state
    true_answer: tuple[str, ...] = ()

    @property
    def should_abstain(self) -> bool:
        return self.type in ABSTAIN_TYPES

    @property
    def is_counterfactual(self) -> bool:
        return self.type in COUNTERFACTUAL_TYPES

    @property
    def answerable(self) -> bool:
        return not self.should_abstain and not self.is_counterfactual


@dataclass(frozen=True)
class Span:
    """An evidence quote resolved to an article (offsets when the quote is found verbatim)."""

    article_id: str
    quote: str
    start: int | None = None
    end: int | None = None


@dataclass
class Row:
    """One question's result: what was asked, what came back, and the verdicts."""

    id: str
    type: str
    question: str
    gold: list[str]
    answer: str | None = None
    abstained: bool | None = None
    conflict: bool | None = None
    citations: list[dict[str, Any]] = field(default_factory=list)
    retrieved: list[str] = field(default_factory=list)  # article ids, best first
    rank: int | None = None  # 1-based rank of the first passage holding evidence
    em: float | None = None
    f1: float | None = None
    contains: bool | None = None
    cited_support: bool | None = None
    conflict_all_versions: bool | None = None
    misled: bool | None = None
    # RGB rejection: whether the passages the answer was given state the true answer after all
    states_true_answer: bool | None = None
    ttft_ms: float | None = None
    total_ms: float | None = None
    prompt_tokens: int | None = None
    error: str | None = None
    # carried for metrics, not printed
    should_abstain: bool = False
    answerable: bool = True
    has_evidence: bool = False


@dataclass
class Report:
    summary: dict[str, Any]
    per_type: dict[str, dict[str, Any]]
    rows: list[Row]
    out_dir: Path | None
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def score(self) -> float | None:
        """The headline score: share of answerable questions whose answer contains a gold answer."""
        return self.summary.get("contains")

    @property
    def errors(self) -> int:
        return sum(1 for r in self.rows if r.error)

    def to_dict(self) -> dict[str, Any]:
        rows = []
        for r in self.rows:
            d = asdict(r)
            for k in ("should_abstain", "answerable", "has_evidence"):
                d.pop(k)
            rows.append(d)
        return {
            "meta": self.meta,
            "summary": self.summary,
            "per_type": self.per_type,
            "rows": rows,
        }


# ----------------------------------------------------------------------------- normalisation

_MARKER = re.compile(r"\[\d+\]")
_ARTICLES = re.compile(r"\b(a|an|the)\b")
_THOUSANDS = re.compile(r"(?<=\d)[,\u202f\u00a0](?=\d{3}\b)")
_PUNCT = set(string.punctuation) | set("“”‘’—–…«»")


def fold(text: str) -> str:
    """Lower-case, strip accents and collapse whitespace (for quote containment)."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = text.replace("’", "'").replace("‘", "'").replace("“", '"').replace("”", '"')
    return " ".join(text.lower().split())


def normalize_answer(text: str) -> str:
    """SQuAD-style: lower, drop accents, markers, punctuation and articles; "6,000" → "6000"."""
    text = _MARKER.sub(" ", text)
    text = fold(text)
    text = _THOUSANDS.sub("", text)
    text = re.sub(r"(?<=\d)\.(?=\d)", "\x00", text)  # keep decimal points through punctuation removal
    text = "".join(" " if c in _PUNCT else c for c in text)
    text = text.replace("\x00", ".")
    text = _ARTICLES.sub(" ", text)
    return " ".join(text.split())


def exact_match(prediction: str, golds: Sequence[str]) -> float:
    """1.0 when the normalised prediction equals a normalised gold answer."""
    p = normalize_answer(prediction)
    return 1.0 if any(p == normalize_answer(g) for g in golds if g) else 0.0


def token_f1(prediction: str, golds: Sequence[str]) -> float:
    """Token F1 between prediction and the best-matching gold answer (0.0 without golds)."""
    p_tokens = normalize_answer(prediction).split()
    best = 0.0
    for gold in golds:
        g_tokens = normalize_answer(gold).split()
        if not p_tokens or not g_tokens:
            continue
        common = 0
        remaining = list(g_tokens)
        for t in p_tokens:
            if t in remaining:
                remaining.remove(t)
                common += 1
        if common == 0:
            continue
        precision = common / len(p_tokens)
        recall = common / len(g_tokens)
        best = max(best, 2 * precision * recall / (precision + recall))
    return best


_MONTH_WORD = r"[A-Za-z]{3,9}"
# A full date in the forms news and benchmarks write it: "November 21, 1998", "November 21 of 1998",
# "Nov. 21st 1998", "21 November 1998", "11/21/1998" (US order), "1998-11-21".
_FULL_DATE = re.compile(
    rf"\b(?:(?P<m1>{_MONTH_WORD})\.? (?P<d1>\d{{1,2}})(?:st|nd|rd|th)?,? (?:of )?(?P<y1>\d{{4}})"
    rf"|(?P<d2>\d{{1,2}})(?:st|nd|rd|th)? (?:of )?(?P<m2>{_MONTH_WORD})\.?,? (?P<y2>\d{{4}})"
    r"|(?P<m3>\d{1,2})/(?P<d3>\d{1,2})/(?P<y3>\d{4})"
    r"|(?P<y4>\d{4})-(?P<m4>\d{2})-(?P<d4>\d{2}))\b"
)


def full_dates(text: str) -> set[tuple[int, int, int]]:
    """The (year, month, day) of every full date in the text, however it is written."""
    out = set()
    for m in _FULL_DATE.finditer(text):
        for i in "1234":
            if m.group(f"y{i}") is None:
                continue
            raw = m.group(f"m{i}")
            month = int(raw) if raw.isdigit() else MONTHS.get(raw.lower())
            day = int(m.group(f"d{i}"))
            if month and 1 <= month <= 12 and 1 <= day <= 31:
                out.add((int(m.group(f"y{i}")), month, day))
    return out


def contains_answer(prediction: str, golds: Sequence[str]) -> bool:
    """True when a normalised gold answer occurs as whole words in the normalised prediction, or a
    gold full date occurs written another way ("November 21 of 1998" for "November 21, 1998")."""
    p = f" {normalize_answer(prediction)} "
    for gold in golds:
        g = normalize_answer(gold)
        if g and f" {g} " in p:
            return True
    said = full_dates(prediction)
    return bool(said) and any(full_dates(g) & said for g in golds if g)


def all_versions_mentioned(prediction: str, versions: Sequence[str]) -> bool:
    """Conflict questions: every version (e.g. "6,000" and "8,000") occurs in the prediction."""
    return bool(versions) and all(contains_answer(prediction, [v]) for v in versions)


# ----------------------------------------------------------------------------- retrieval metrics


def passage_has_evidence(
    article_id: str, text: str, start: int | None, end: int | None, spans: Iterable[Span]
) -> bool:
    """A passage holds evidence when it contains a quote (folded) or overlaps its offsets."""
    folded = fold(text)
    for s in spans:
        if s.article_id != article_id:
            continue
        if fold(s.quote) in folded:
            return True
        if None not in (s.start, s.end, start, end) and start < s.end and s.start < end:  # type: ignore[operator]
            return True
    return False


def first_hit_rank(passages: Sequence[Passage], spans: Sequence[Span]) -> int | None:
    """1-based rank of the first passage holding evidence, or None."""
    for i, p in enumerate(passages, 1):
        if passage_has_evidence(p.article_id, p.text, p.start, p.end, spans):
            return i
    return None


def hit_at(ranks: Sequence[int | None], k: int) -> float | None:
    """Share of questions with evidence in the top k (None when there are no questions)."""
    if not ranks:
        return None
    return sum(1 for r in ranks if r is not None and r <= k) / len(ranks)


def mrr_at(ranks: Sequence[int | None], k: int = 10) -> float | None:
    """Mean reciprocal rank, counting ranks beyond k as 0."""
    if not ranks:
        return None
    return sum(1 / r for r in ranks if r is not None and r <= k) / len(ranks)


# ----------------------------------------------------------------------------- citation / abstention


def citation_supports(citation: Citation, spans: Sequence[Span], golds: Sequence[str]) -> bool:
    """A citation supports the answer when its quote holds an evidence quote (or overlaps one), or a gold answer."""
    if passage_has_evidence(citation.article_id, citation.quote, citation.start, citation.end, spans):
        return True
    quote = fold(citation.quote)
    if any(s.article_id == citation.article_id and quote and quote in fold(s.quote) for s in spans):
        return True  # a cited clause inside the evidence sentence
    return contains_answer(citation.quote, golds)


def is_verbatim(citation: Citation, article: Article | None) -> bool:
    """The citation's quote is exactly the article's text at its offsets."""
    return article is not None and article.text[citation.start : citation.end] == citation.quote


def ratio(numerator: float, denominator: float) -> float | None:
    """numerator / denominator, or None when there is nothing to divide."""
    return numerator / denominator if denominator else None


def abstention_scores(pairs: Sequence[tuple[bool, bool]]) -> dict[str, float | None]:
    """Precision and recall of abstaining, from (should_abstain, did_abstain) pairs."""
    tp = sum(1 for should, did in pairs if should and did)
    abstained = sum(1 for _, did in pairs if did)
    should = sum(1 for s, _ in pairs if s)
    return {"abstention_precision": ratio(tp, abstained), "abstention_recall": ratio(tp, should)}


def percentile(values: Sequence[float], p: float) -> float | None:
    """Linear-interpolated percentile (p in 0..100); None for no values."""
    vals = sorted(v for v in values if v is not None)
    if not vals:
        return None
    pos = (len(vals) - 1) * p / 100
    lo, hi = math.floor(pos), math.ceil(pos)
    return vals[lo] + (vals[hi] - vals[lo]) * (pos - lo)


def mean(values: Iterable[float | None]) -> float | None:
    vals = [v for v in values if v is not None]
    return sum(vals) / len(vals) if vals else None


def summarize(rows: Sequence[Row]) -> dict[str, Any]:
    """Aggregate metrics over rows; every metric with nothing to measure is None."""
    retr = [r for r in rows if r.has_evidence and r.error is None and r.retrieved is not None]
    ranks = [r.rank for r in retr]
    answered_rows = [r for r in rows if r.abstained is not None]
    gold_rows = [r for r in answered_rows if r.answerable]
    fact_rows = [r for r in answered_rows if not r.should_abstain]  # answerable + counterfactual
    cited = [c for r in answered_rows if not r.abstained for c in r.citations]
    given = [r for r in gold_rows if not r.abstained]
    conflict_rows = [r for r in answered_rows if r.type in CONFLICT_TYPES]
    cf_rows = [r for r in answered_rows if r.misled is not None]
    # RGB rejection questions whose passages do state the true answer (noise that is none) are scored
    # with the others; this also gives the recall over the rest, where declining is the only right reply
    unstated = [r for r in answered_rows if r.should_abstain and r.states_true_answer is False]
    abst_pairs = [
        (r.should_abstain, bool(r.abstained)) for r in answered_rows if r.answerable or r.should_abstain
    ]
    out: dict[str, Any] = {
        "questions": len(rows),
        "errors": sum(1 for r in rows if r.error),
        "hit@1": hit_at(ranks, 1),
        "hit@3": hit_at(ranks, 3),
        "hit@5": hit_at(ranks, 5),
        "mrr@10": mrr_at(ranks, 10),
        "em": mean([r.em for r in fact_rows]),
        "f1": mean([r.f1 for r in fact_rows]),
        "contains": mean([1.0 if r.contains else 0.0 for r in fact_rows]),
        "correct": mean(
            [1.0 if (r.abstained if r.should_abstain else r.contains) else 0.0 for r in answered_rows]
        ),
        "citation_precision": ratio(sum(1 for c in cited if c.get("supports")), len(cited)),
        "citation_recall": ratio(sum(1 for r in given if r.cited_support), len(given)),
        "verbatim_rate": ratio(sum(1 for c in cited if c.get("verbatim")), len(cited)),
        **abstention_scores(abst_pairs),
        "false_abstention_rate": ratio(sum(1 for r in gold_rows if r.abstained), len(gold_rows)),
        "conflict_flagged": ratio(sum(1 for r in conflict_rows if r.conflict), len(conflict_rows)),
        "conflict_all_versions": ratio(
            sum(1 for r in conflict_rows if r.conflict and r.conflict_all_versions), len(conflict_rows)
        ),
        "misled_rate": ratio(sum(1 for r in cf_rows if r.misled), len(cf_rows)),
        "true_answer_stated": sum(1 for r in answered_rows if r.states_true_answer) if unstated else None,
        "abstention_recall_unstated": ratio(sum(1 for r in unstated if r.abstained), len(unstated)),
        "ttft_p50_ms": percentile([r.ttft_ms for r in answered_rows if r.ttft_ms is not None], 50),
        "ttft_p95_ms": percentile([r.ttft_ms for r in answered_rows if r.ttft_ms is not None], 95),
        "total_p50_ms": percentile([r.total_ms for r in answered_rows if r.total_ms is not None], 50),
        "total_p95_ms": percentile([r.total_ms for r in answered_rows if r.total_ms is not None], 95),
        "prompt_tokens_mean": mean([r.prompt_tokens for r in answered_rows if r.prompt_tokens]),
    }
    return out


# ----------------------------------------------------------------------------- loading


def _history(value: Any) -> tuple[tuple[str, str], ...]:
    turns = []
    for turn in value or []:
        if isinstance(turn, dict):
            turns.append((str(turn.get("question", "")), str(turn.get("answer", ""))))
        else:
            q, a = turn
            turns.append((str(q), str(a)))
    return tuple(turns)


def _strings(value: Any) -> list[str]:
    """RGB's answers: a string, or lists (of lists) of a string's ways of writing it."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def load_questions(path: str | Path) -> list[EvalQuestion]:
    """Read a questions.jsonl (our eval set or the common benchmark format)."""
    questions = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                d = json.loads(line)
            except json.JSONDecodeError as e:
                raise QAError(f"{path}:{n}: not valid JSON ({e.msg}). Fix that line and rerun.") from e
            qtype = d.get("type") or "fact"
            if "fake_answer" in d or "answer_rgb" in d:  # an RGB record: its type names mean other things
                qtype = RGB_TYPES.get(qtype, qtype)
            answer = [] if qtype in ABSTAIN_TYPES else list(d.get("answer") or [])
            evidence = tuple(
                Evidence(quote=e["quote"], file=e.get("file"), article_id=e.get("article_id"))
                for e in d.get("evidence") or []
                if e.get("quote")
            )
            questions.append(
                EvalQuestion(
                    id=str(d.get("id") or f"q{n:02d}"),
                    question=d["question"],
                    answer=tuple(answer),
                    evidence=() if qtype in ABSTAIN_TYPES else evidence,
                    type=qtype,
                    follows=d.get("follows"),
                    history=_history(d.get("history")),
                    versions=tuple(d.get("versions") or (answer if qtype in CONFLICT_TYPES else [])),
                    fake_answer=d.get("fake_answer") if qtype in COUNTERFACTUAL_TYPES else None,
                    true_answer=tuple(_strings(d.get("answer_rgb"))) if qtype in ABSTAIN_TYPES else (),
                )
            )
    return questions


def resolve_spans(question: EvalQuestion, articles: dict[str, Article]) -> list[Span]:
    """Map each evidence quote to an article id (by file name or id) and its offsets."""
    by_file = {os.path.basename(a.path): a for a in articles.values() if a.path}
    spans = []
    for e in question.evidence:
        art = articles.get(e.article_id) if e.article_id else by_file.get(os.path.basename(e.file or ""))
        if art is None:
            log.warning("%s: evidence article %s not in the corpus", question.id, e.article_id or e.file)
            continue
        start = art.text.find(e.quote)
        spans.append(
            Span(art.id, e.quote, start if start >= 0 else None, start + len(e.quote) if start >= 0 else None)
        )
    return spans


# ----------------------------------------------------------------------------- running


def _make_retriever(settings: Settings) -> Any:
    """The retriever ask() itself uses (shared through the default pipeline), so it loads only once."""
    try:
        from qa.answer import default_pipeline

        return default_pipeline(settings).retriever
    except ImportError:
        from qa.retrieve import default_retriever

        return default_retriever(settings)


def _replaying_ask(settings: Settings, path: str | Path) -> Callable[..., Answer]:
    """``ask`` through a pipeline whose model calls go through a replay file (``qa.replay``)."""
    from qa.answer import Pipeline
    from qa.llm import get_llm
    from qa.replay import ReplayLLM

    tag = settings.model or str(settings.local_model_path or "embedded")
    pipe = Pipeline(settings, llm=ReplayLLM(get_llm(settings), path, f"{settings.base_url}|{tag}"))

    def ask(question: str, *, settings: Settings | None = None, **kwargs: Any) -> Answer:
        return pipe.ask(question, **kwargs)

    return ask


def _article_lookup(retriever: Any, corpus: dict[str, Article]) -> Callable[[str], Article | None]:
    """get_article from the index, else the corpus read here (same cleaning, hence the same ids)."""
    getter = getattr(retriever, "get_article", None)
    if getter is None:
        try:
            from qa.retrieve import get_article as getter
        except ImportError:
            getter = None

    def lookup(article_id: str) -> Article | None:
        if getter is not None:
            try:
                article = getter(article_id)
                if article is not None:
                    return article
            except (QAError, KeyError, LookupError):
                pass
        return corpus.get(article_id)

    return lookup


def _evaluate_question(
    q: EvalQuestion,
    spans: list[Span],
    retrieve_fn: Callable[..., list[Passage]],
    ask_fn: Callable[..., Answer] | None,
    lookup: Callable[[str], Article | None],
    settings: Settings,
    k: int | None,
) -> Row:
    row = Row(
        id=q.id,
        type=q.type,
        question=q.question,
        gold=list(q.answer),
        should_abstain=q.should_abstain,
        answerable=q.answerable,
        has_evidence=bool(spans),
    )
    answer: Answer | None = None
    try:
        if ask_fn is not None:
            answer = ask_fn(q.question, history=list(q.history) or None, k=k, settings=settings)
        # Retrieval is scored on its own run at depth 10 (the answer sees only k passages). A follow-up
        # is retrieved as the answer pipeline rewrote it, else together with the turn it follows.
        query = (answer.standalone_question if answer else None) or " ".join(
            [t[0] for t in q.history[-1:]] + [q.question]
        )
        passages = retrieve_fn(query, k=RETRIEVAL_K)
        row.retrieved = [p.article_id for p in passages]
        row.rank = first_hit_rank(passages, spans) if spans else None
    except QAError as e:
        row.error = f"{type(e).__name__}: {e}"
        return row
    if answer is None:
        return row
    text = _MARKER.sub("", answer.text).strip()
    row.answer = answer.text
    row.abstained = not answer.answerable
    row.conflict = answer.conflict
    row.ttft_ms = answer.timings.ttft_ms
    row.total_ms = answer.timings.total_ms
    row.prompt_tokens = answer.timings.prompt_tokens
    scored_text = "" if row.abstained else text
    if not q.should_abstain:
        row.em = exact_match(scored_text, q.answer)
        row.f1 = token_f1(scored_text, q.answer)
        row.contains = contains_answer(scored_text, q.answer)
    if q.type in CONFLICT_TYPES:
        row.conflict_all_versions = all_versions_mentioned(scored_text, q.versions)
    if q.is_counterfactual and q.fake_answer:
        row.misled = contains_answer(scored_text, [q.fake_answer]) and not answer.conflict
    if q.true_answer:
        row.states_true_answer = any(contains_answer(p.text, q.true_answer) for p in answer.passages)
    supports_any = False
    for c in answer.citations:
        supports = citation_supports(c, spans, q.answer)
        supports_any = supports_any or supports
        row.citations.append(
            {
                "marker": c.marker,
                "article_id": c.article_id,
                "quote": c.quote,
                "supports": supports,
                "verbatim": is_verbatim(c, lookup(c.article_id)),
            }
        )
    if not row.abstained and q.answerable:
        row.cited_support = supports_any
    return row


def _read_corpus(paths: Sequence[Path]) -> dict[str, Article]:
    from qa.ingest import read_articles

    return {a.id: a for a in read_articles(paths).articles}


def run(
    questions_path: str | Path | None = None,
    articles: str | Path | None = None,
    *,
    index_dir: str | Path | None = None,
    limit: int | None = None,
    types: Iterable[str] | None = None,
    retrieval_only: bool = False,
    out_dir: str | Path | None = None,
    settings: Settings | None = None,
    progress: bool = True,
    k: int | None = None,
    replay: str | Path | None = None,
) -> Report:
    """Run the evaluation and write report.json, report.md and scores.png into ``out_dir``.

    ``articles`` is a corpus in the common format (a folder holding articles.jsonl and
    questions.jsonl, or the articles.jsonl itself): it is indexed into a temporary folder, and its
    questions.jsonl is used unless ``questions_path`` is given. Without it, the default corpus and
    index from ``settings`` are used.
    """
    settings = settings or Settings.from_env()
    if index_dir is not None:
        settings = replace(settings, index_dir=Path(index_dir))
    tmp: tempfile.TemporaryDirectory[str] | None = None
    t0 = time.perf_counter()
    try:
        if articles is not None:
            apath = Path(articles)
            corpus_file = apath / "articles.jsonl" if apath.is_dir() else apath
            if not corpus_file.is_file():
                raise QAError(
                    f"No articles.jsonl at {apath}. Pass a folder holding articles.jsonl + questions.jsonl."
                )
            if questions_path is None:
                questions_path = corpus_file.parent / "questions.jsonl"
            tmp = tempfile.TemporaryDirectory(prefix="qa-eval-")
            settings = replace(settings, index_dir=Path(tmp.name), articles_dir=corpus_file.parent)
            from qa.index import build_index

            build_index([corpus_file], index_dir=settings.index_dir, settings=settings, progress=progress)
            corpus = _read_corpus([corpus_file])
        else:
            corpus = _read_corpus([settings.articles_dir])
        questions_path = Path(questions_path or DEFAULT_QUESTIONS)
        if not questions_path.is_file():
            raise QAError(f"No question file at {questions_path}. Pass --questions FILE.")
        questions = load_questions(questions_path)
        if types:
            wanted = {t.strip() for t in types if t.strip()}
            questions = [q for q in questions if q.type in wanted]
        if limit is not None:
            questions = questions[:limit]

        retriever = _make_retriever(settings)
        retrieve_fn = retriever.retrieve
        ask_fn = None
        if not retrieval_only:
            from qa.answer import ask as ask_fn

            if replay is not None:
                ask_fn = _replaying_ask(settings, replay)
        lookup = _article_lookup(retriever, corpus)

        rows: list[Row] = []
        bar = _progress(questions, progress)
        for q in bar:
            rows.append(
                _evaluate_question(q, resolve_spans(q, corpus), retrieve_fn, ask_fn, lookup, settings, k)
            )
            if hasattr(bar, "set_postfix"):
                s = summarize(rows)
                key = "hit@5" if retrieval_only else "contains"
                bar.set_postfix_str(f"{key}={_fmt(s[key])}")
    finally:
        if tmp is not None:
            tmp.cleanup()

    per_type = {t: summarize([r for r in rows if r.type == t]) for t in sorted({r.type for r in rows})}
    report = Report(
        summary=summarize(rows),
        per_type=per_type,
        rows=rows,
        out_dir=None,
        meta={
            "questions_file": str(questions_path),
            "articles": str(articles) if articles else str(settings.articles_dir),
            "retrieval_only": retrieval_only,
            "k": k or settings.k,
            "embedder": settings.embedder,
            "model": settings.model
            or (str(settings.local_model_path) if settings.local_model_path else "default"),
            "started": datetime.now().isoformat(timespec="seconds"),
            "seconds": round(time.perf_counter() - t0, 1),
        },
    )
    report.out_dir = write_report(report, out_dir)
    return report


def _progress(items: list[EvalQuestion], enabled: bool) -> Iterable[EvalQuestion]:
    if not enabled:
        return items
    from tqdm import tqdm

    return tqdm(items, desc="eval", unit="q")


# ----------------------------------------------------------------------------- output

SUMMARY_KEYS = [
    "questions",
    "errors",
    "hit@1",
    "hit@3",
    "hit@5",
    "mrr@10",
    "em",
    "f1",
    "contains",
    "correct",
    "citation_precision",
    "citation_recall",
    "verbatim_rate",
    "abstention_precision",
    "abstention_recall",
    "false_abstention_rate",
    "conflict_flagged",
    "conflict_all_versions",
    "misled_rate",
    "true_answer_stated",
    "abstention_recall_unstated",
    "ttft_p50_ms",
    "ttft_p95_ms",
    "total_p50_ms",
    "total_p95_ms",
    "prompt_tokens_mean",
]
TYPE_COLUMNS = ["questions", "hit@5", "mrr@10", "contains", "f1", "correct", "citation_precision"]


def _fmt(value: Any) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return f"{value:.0f}" if abs(value) >= 100 else f"{value:.3f}"
    return str(value)


def format_table(report: Report) -> str:
    """A plain aligned table: the summary, then one line per question type."""
    lines = ["metric                   value"]
    for key in SUMMARY_KEYS:
        lines.append(f"{key:<24} {_fmt(report.summary.get(key))}")
    lines.append("")
    widths = [max(len(c), 5) + 2 for c in TYPE_COLUMNS]
    lines.append(f"{'type':<14}" + "".join(f"{c:>{w}}" for c, w in zip(TYPE_COLUMNS, widths, strict=True)))
    for t, s in report.per_type.items():
        cells = (f"{_fmt(s.get(c)):>{w}}" for c, w in zip(TYPE_COLUMNS, widths, strict=True))
        lines.append(f"{t:<14}" + "".join(cells))
    return "\n".join(lines)


def _snippet(text: str, n: int = 90) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def format_markdown(report: Report) -> str:
    m = report.meta
    out = [
        "# qa evaluation",
        "",
        f"- questions: `{m.get('questions_file')}`",
        f"- articles: `{m.get('articles')}`",
        f"- retrieval only: {m.get('retrieval_only')}; k = {m.get('k')}; embedder: {m.get('embedder')}; "
        f"model: {m.get('model')}",
        f"- started {m.get('started')}, took {m.get('seconds')} s",
        "",
        "## Summary",
        "",
        "| metric | value |",
        "|---|---|",
    ]
    out += [f"| {k} | {_fmt(report.summary.get(k))} |" for k in SUMMARY_KEYS]
    out += ["", "## Per type", "", "| type | " + " | ".join(TYPE_COLUMNS) + " |"]
    out.append("|---" * (len(TYPE_COLUMNS) + 1) + "|")
    for t, s in report.per_type.items():
        out.append(f"| {t} | " + " | ".join(_fmt(s.get(c)) for c in TYPE_COLUMNS) + " |")
    out += [
        "",
        "## Questions",
        "",
        "| id | type | question | gold | answer | citations | rank | verdict |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in report.rows:
        cites = "<br>".join(
            f"[{c['marker']}] {'✓' if c['supports'] else '✗'}{'' if c['verbatim'] else ' (not verbatim)'} "
            f"“{_snippet(c['quote'], 70)}”"
            for c in r.citations
        )
        out.append(
            "| "
            + " | ".join(
                _md_cell(x)
                for x in (
                    r.id,
                    r.type,
                    r.question,
                    "; ".join(r.gold) or "(abstain)",
                    r.error or ("(abstained)" if r.abstained else _snippet(r.answer or "", 160)),
                    cites,
                    _fmt(r.rank),
                    _verdict(r),
                )
            )
            + " |"
        )
    return "\n".join(out) + "\n"


def _verdict(r: Row) -> str:
    if r.error:
        return "error"
    if r.abstained is None:
        return "retrieved" if r.rank else ("no evidence found" if r.has_evidence else "-")
    if r.should_abstain:
        return "ok: abstained" if r.abstained else "WRONG: answered"
    if r.abstained:
        return "WRONG: abstained"
    parts = ["ok" if r.contains else "WRONG"]
    if r.type in CONFLICT_TYPES:
        parts.append("conflict flagged" if r.conflict else "conflict missed")
    if r.misled:
        parts.append("misled")
    if r.cited_support is False:
        parts.append("no supporting citation")
    return ", ".join(parts)


def write_chart(report: Report, path: Path) -> None:
    """Bar chart of per-type scores (contains, or hit@5 for a retrieval-only run)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    key = "hit@5" if report.meta.get("retrieval_only") else "correct"
    types = list(report.per_type)
    values = [report.per_type[t].get(key) or 0.0 for t in types]
    fig, ax = plt.subplots(figsize=(max(6, 0.6 * len(types) + 2), 4))
    ax.bar(types, values, color="#4C72B0")
    ax.set_ylim(0, 1)
    ax.set_ylabel(key)
    ax.set_title(f"qa eval: {key} per question type")
    ax.tick_params(axis="x", rotation=45)
    for lbl in ax.get_xticklabels():
        lbl.set_horizontalalignment("right")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def write_report(report: Report, out_dir: str | Path | None) -> Path:
    out = Path(out_dir) if out_dir else PROJECT_ROOT / "out" / f"eval-{datetime.now():%Y%m%d-%H%M%S}"
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(
        json.dumps(report.to_dict(), indent=2, ensure_ascii=False), encoding="utf-8"
    )
    (out / "report.md").write_text(format_markdown(report), encoding="utf-8")
    write_chart(report, out / "scores.png")
    return out
