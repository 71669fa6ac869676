"""The retrieved passages as numbered sentences, with offsets into their articles, and citations.

A citation is never model text: it is a span of the article, found by offsets and checked against it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from qa.grounding.injection import is_instruction, is_instruction_at
from qa.grounding.text import one_line, shorten
from qa.types import Citation, Passage


@dataclass(frozen=True)
class Sentence:
    """A sentence of a retrieved passage, with offsets into its article (not into the passage)."""

    n: int  # 1-based number shown to the model
    article_id: str
    start: int
    end: int
    text: str
    passage: int  # index into the passages list

    @property
    def asks(self) -> bool:
        """A question states nothing: "What would a Nolan-directed Avengers look like?" answers none."""
        return self.text.rstrip(" \"'”’)]").endswith("?")


def number_sentences(
    passages: Sequence[Passage], article_text: Callable[[str], str] | None = None
) -> list[Sentence]:
    """Split passages into sentences and number them once each (overlapping chunks repeat some).

    Instruction-like sentences are left out: articles are data, and what is not numbered cannot be cited.
    With ``article_text`` they are found in the whole article (a note may run over several sentences);
    without it, sentence by sentence.
    """
    from qa.chunk import sentence_spans

    seen: set[tuple[str, int, int]] = set()
    out: list[Sentence] = []
    for pi, p in enumerate(passages):
        text = article_text(p.article_id) if article_text else None
        for s, e in sentence_spans(p.text):
            key = (p.article_id, p.start + s, p.start + e)
            if key in seen:
                continue
            if is_instruction_at(text, p.start + s, p.start + e) if text else is_instruction(p.text[s:e]):
                continue
            seen.add(key)
            out.append(Sentence(len(out) + 1, p.article_id, p.start + s, p.start + e, p.text[s:e], pi))
    return out


def label(passage: Passage) -> str:
    """'Outlet, 2024-05-02': how a version is attributed, in prompts and conflict reports."""
    source = shown(passage.source) or "an article"
    return source + (f", {passage.published_at[:10]}" if passage.published_at else "")


def shown(text: str | None) -> str:
    """Metadata (a headline, an outlet taken from one) as it may be shown to the model or in an answer.

    Titles are article text too: a headline that addresses an AI is dropped like any such sentence.
    """
    return "" if not text or is_instruction(text) else text


def format_sentences(sentences: Sequence[Sentence], passages: Sequence[Passage]) -> str:
    """One line per sentence under a compact header per article; lean, since prefill is costly."""
    lines: list[str] = []
    last = ""
    for s in sentences:
        if s.article_id != last:
            p = passages[s.passage]
            title = shorten(shown(p.title), 60) if shown(p.title) else ""
            lines.append(f"# {title} ({label(p)})" if title else f"# ({label(p)})")
            last = s.article_id
        lines.append(f"[{s.n}] {one_line(s.text)}")
    return "\n".join(lines)


def previous_sentence(sentences: Sequence[Sentence], article_text: Callable[[str], str]) -> dict[int, str]:
    """Each sentence with the sentence before it in its article, for facts that span both.

    News sentences lean on the previous one ("At least 8,000 asylum seekers…" follows "…a migrant
    caravan…"), so relevance is judged on the pair, read from the article itself. An instruction-like
    previous sentence is not context: it must lend no support.
    """
    from qa.chunk import sentence_spans

    out: dict[int, str] = {}
    for s in sentences:
        text = article_text(s.article_id)
        before = [(a, b) for a, b in sentence_spans(text) if b <= s.start]
        if before and not is_instruction_at(text, *before[-1]):
            out[s.n] = f"{text[before[-1][0] : before[-1][1]]} {s.text}"
        else:
            out[s.n] = s.text
    return out


def make_citation(marker: int, sentence: Sentence, passage: Passage, article_text: str) -> Citation | None:
    """A citation for ``sentence`` if, and only if, the article text at its offsets is that sentence."""
    if article_text[sentence.start : sentence.end] != sentence.text:
        return None
    return Citation(
        marker=marker,
        article_id=sentence.article_id,
        title=shown(passage.title) or shown(passage.source),
        source=shown(passage.source) or "an article",
        quote=sentence.text,
        start=sentence.start,
        end=sentence.end,
        published_at=passage.published_at,
    )
