"""Split articles into sentences and pack whole sentences into token-bounded, overlapping chunks.

Every span is a pair of character offsets into ``Article.text``: ``text[start:end]`` is the sentence
or chunk verbatim, with no surrounding whitespace.

Example::

    chunks = chunk_article(article, max_tokens=200, overlap_sentences=1)
    assert all(article.text[c.start : c.end] == c.text for c in chunks)
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from functools import lru_cache

from qa.types import Article, Chunk

MAX_SENTENCE_CHARS = 1000  # longer "sentences" (tables, run-on lines) are cut at whitespace
_MAX_SEGMENT_CHARS = 5000  # pysbd gets slow on very long inputs; feed it pieces at most this long
# English runs at ~4-6 characters per MiniLM token; a chunk may hold at most this many per token allowed.
# Without a character bound, text the tokenizer squeezes into few tokens (a base64 line: one [UNK] per
# 100 characters) grows one chunk over the whole article, re-tokenizing it each step (quadratic: a 2 MB
# line never finished).
MAX_CHARS_PER_TOKEN = 10
_LINE = re.compile(r"[^\n]+")
_WORD = re.compile(r"\S+")
_SENTENCE_END = re.compile(r"[.!?][\"'”’)\]]*\s")


@lru_cache(maxsize=1)
def _segmenter():
    import pysbd

    return pysbd.Segmenter(language="en", clean=False, char_span=False)


def estimate_tokens(text: str) -> int:
    """Cheap word-piece estimate: 1.4 tokens per whitespace-separated word, rounded up."""
    return math.ceil(len(text.split()) * 1.4)


def _strip_span(text: str, start: int, end: int) -> tuple[int, int] | None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return (start, end) if start < end else None


def _cut(
    text: str, start: int, end: int, limit: int, boundary: re.Pattern[str] | None
) -> list[tuple[int, int]]:
    """Cut ``text[start:end]`` into pieces of at most ``limit`` chars, preferring ``boundary`` matches,
    then whitespace, then a hard cut."""
    pieces: list[tuple[int, int]] = []
    while end - start > limit:
        window = text[start : start + limit]
        cut = -1
        if boundary is not None:
            ends = [m.end() for m in boundary.finditer(window)]
            cut = ends[-1] if ends else -1
        if cut <= 0:
            cut = max(window.rfind(" "), window.rfind("\t")) + 1
        if cut <= 0:
            cut = limit
        pieces.append((start, start + cut))
        start += cut
    pieces.append((start, end))
    return pieces


def _segment(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Sentence spans of ``text[start:end]`` (a single line) found by pysbd, located by search.

    pysbd's own char spans drift when a sentence repeats, so each sentence it returns is searched for
    from the end of the previous one; if pysbd altered the text, the rest of the piece is kept whole.
    """
    piece = text[start:end]
    spans: list[tuple[int, int]] = []
    cursor = 0
    for sentence in _segmenter().segment(piece):
        sentence = sentence.strip()
        if not sentence:
            continue
        found = piece.find(sentence, cursor)
        if found < 0:
            break
        spans.append((start + found, start + found + len(sentence)))
        cursor = found + len(sentence)
    if piece[cursor:].strip():
        spans.append((start + cursor, end))
    return spans


@lru_cache(maxsize=2048)
def _sentence_spans(text: str) -> tuple[tuple[int, int], ...]:
    spans: list[tuple[int, int]] = []
    for line in _LINE.finditer(text):  # lines are paragraphs in news text; a title line stays alone
        for p_start, p_end in _cut(text, line.start(), line.end(), _MAX_SEGMENT_CHARS, _SENTENCE_END):
            for s_start, s_end in _segment(text, p_start, p_end):
                for c_start, c_end in _cut(text, s_start, s_end, MAX_SENTENCE_CHARS, None):
                    stripped = _strip_span(text, c_start, c_end)
                    if stripped is not None:
                        spans.append(stripped)
    return tuple(spans)


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Sentence boundaries of ``text`` as ``(start, end)`` character offsets, in order.

    Sentences never cross a line break (news paragraphs are lines; the title line is its own sentence)
    and ``text[start:end]`` has no leading or trailing whitespace. Over-long sentences are cut at
    whitespace into pieces of at most ``MAX_SENTENCE_CHARS`` characters. Results are cached.
    """
    return list(_sentence_spans(text))


def _fit_prefix(text: str, start: int, end: int, max_tokens: int, count: Callable[[str], int]) -> int:
    """Largest ``cut`` in ``(start, end]`` with ``count(text[start:cut]) <= max_tokens`` (binary search)."""
    lo, hi = start + 1, end
    if count(text[start:lo]) > max_tokens:
        raise ValueError(f"max_tokens={max_tokens} is too small to hold even one character")
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if count(text[start:mid]) <= max_tokens:
            lo = mid
        else:
            hi = mid - 1
    return lo


def _word_windows(
    text: str, start: int, end: int, max_tokens: int, count: Callable[[str], int]
) -> list[tuple[int, int]]:
    """Split an over-long sentence into consecutive word windows that each fit ``max_tokens``."""
    words = [(start + m.start(), start + m.end()) for m in _WORD.finditer(text[start:end])]
    windows: list[tuple[int, int]] = []
    i = 0
    while i < len(words):
        w_start, w_end = words[i]
        if count(text[w_start:w_end]) > max_tokens:  # one enormous "word": cut it by characters
            while w_start < w_end:
                cut = _fit_prefix(text, w_start, w_end, max_tokens, count)
                windows.append((w_start, cut))
                w_start = cut
            i += 1
            continue
        j = i
        while j + 1 < len(words) and count(text[w_start : words[j + 1][1]]) <= max_tokens:
            j += 1
        windows.append((w_start, words[j][1]))
        i = j + 1
    return windows


def _units(text: str, max_tokens: int, count: Callable[[str], int]) -> list[tuple[int, int]]:
    units: list[tuple[int, int]] = []
    for start, end in sentence_spans(text):
        if count(text[start:end]) <= max_tokens:
            units.append((start, end))
        else:
            units.extend(_word_windows(text, start, end, max_tokens, count))
    return units


def chunk_article(
    article: Article,
    *,
    max_tokens: int = 200,
    overlap_sentences: int = 1,
    count_tokens: Callable[[str], int] | None = None,
) -> list[Chunk]:
    """Pack whole sentences of ``article.text`` greedily into chunks of at most ``max_tokens`` tokens.

    ``count_tokens`` measures a piece of text (default :func:`estimate_tokens`; the index passes the
    embedder's tokenizer). A sentence longer than ``max_tokens`` is split into word windows. Consecutive
    chunks share ``overlap_sentences`` sentences, unless sharing them would leave no room for a new one.
    Chunks may span paragraphs; ``chunk.text == article.text[chunk.start:chunk.end]`` always holds.
    """
    if max_tokens < 1:
        raise ValueError(f"max_tokens must be at least 1, got {max_tokens}")
    if overlap_sentences < 0:
        raise ValueError(f"overlap_sentences must be 0 or more, got {overlap_sentences}")
    count = count_tokens or estimate_tokens
    text = article.text
    units = _units(text, max_tokens, count)
    max_chars = max_tokens * MAX_CHARS_PER_TOKEN

    def fits(first: int, last: int) -> bool:
        start, end = units[first][0], units[last][1]
        return end - start <= max_chars and count(text[start:end]) <= max_tokens

    chunks: list[Chunk] = []
    next_new = 0  # first unit not yet in any chunk
    while next_new < len(units):
        first = max(next_new - overlap_sentences, 0)
        while first < next_new and not fits(first, next_new):
            first += 1  # drop overlap rather than leave no room for new text
        last = next_new
        while last + 1 < len(units) and fits(first, last + 1):
            last += 1
        start, end = units[first][0], units[last][1]
        chunks.append(
            Chunk(article_id=article.id, seq=len(chunks), start=start, end=end, text=text[start:end])
        )
        next_new = last + 1
    return chunks
