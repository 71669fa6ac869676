"""Typed records that cross module boundaries.

Every offset is a character offset into ``Article.text`` (the cleaned text), so that
``article.text[start:end]`` always reproduces a chunk, passage or citation verbatim.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Article:
    id: str  # stable: derived from the cleaned content, so the same file always gives the same id
    title: str
    source: str  # outlet or file name
    published_at: str | None  # ISO date when known
    url: str | None
    text: str  # cleaned text; all offsets point into this
    path: str | None = None


@dataclass(frozen=True)
class Chunk:
    article_id: str
    seq: int  # position of the chunk inside its article
    start: int
    end: int
    text: str  # == article.text[start:end]


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk, carrying what the answer and the UI need without another lookup."""

    article_id: str
    title: str
    source: str
    published_at: str | None
    text: str
    start: int
    end: int
    score: float  # fused retrieval score (higher is better)
    dense_score: float = 0.0  # cosine similarity of question and chunk; used by the abstention gate
    url: str | None = None
    rerank_score: float | None = None  # cross-encoder probability that it answers the question (None: off)


@dataclass(frozen=True)
class Citation:
    marker: int  # the [n] in Answer.text
    article_id: str
    title: str
    source: str
    quote: str  # == get_article(article_id).text[start:end]
    start: int
    end: int
    published_at: str | None = None


@dataclass(frozen=True)
class Timings:
    retrieval_ms: float = 0.0
    prompt_tokens: int = 0
    ttft_ms: float | None = None  # time to first generated token
    total_ms: float = 0.0
    completion_tokens: int = 0
    engine_prefill_ms: float | None = None  # the engine's own prompt-processing time, when reported
    decode_tps: float | None = None  # generated tokens per second, when reported
    cached_tokens: int | None = None  # prompt tokens the engine's prompt cache skipped, when reported


@dataclass(frozen=True)
class Answer:
    question: str
    text: str  # answer with inline markers [1], [2] …
    answerable: bool
    citations: list[Citation] = field(default_factory=list)
    passages: list[Passage] = field(default_factory=list)
    conflict: bool = False
    extractive: bool = False  # True when the LLM was unavailable and sentences were picked by code
    timings: Timings = field(default_factory=Timings)
    notice: str | None = None  # a plain-language note for the user, e.g. "the model was unavailable"
    standalone_question: str | None = None  # the follow-up rewritten for retrieval, when history was used


@dataclass(frozen=True)
class IndexStats:
    articles: int
    chunks: int
    embedded: int
    skipped: int
    removed: int
    added: int = 0  # articles new to the index in this write (replaced ones not counted)
    unchanged: int = 0  # articles given that the index already held as they are (a re-upload: no-op)
    notes: tuple[str, ...] = ()  # what the user should know: an id taken by another article, a no-op


# Events yielded by ask_stream(), in this order:
#   Status("retrieving"), Sources, Status("reading"), Status("writing"), Delta*, Status("checking"), Final.
# Status events may be skipped (an abstention before generation goes straight to Final).
@dataclass(frozen=True)
class Status:
    """A stage of the answer as it happens, for progress displays ("Reading 9 sentences…")."""

    stage: str  # "retrieving" | "reading" | "writing" | "checking"
    message: str


@dataclass(frozen=True)
class Sources:
    passages: list[Passage]


@dataclass(frozen=True)
class Delta:
    text: str


@dataclass(frozen=True)
class Final:
    answer: Answer


Event = Status | Sources | Delta | Final
