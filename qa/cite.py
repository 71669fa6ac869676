"""Grounding: number the retrieved sentences, verify what the model cites, decide what is supported.

Everything here is plain code over strings and offsets, so every check is deterministic and testable
without a model. A citation is never model text: it is a span of the article, found by offsets.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache

from qa.types import Citation, Passage

# ---------------------------------------------------------------------------------------------
# Sentences of the retrieved passages


@dataclass(frozen=True)
class Sentence:
    """A sentence of a retrieved passage, with offsets into its article (not into the passage)."""

    n: int  # 1-based number shown to the model
    article_id: str
    start: int
    end: int
    text: str
    passage: int  # index into the passages list


_INSTRUCTION = re.compile(
    r"\b(ignore|disregard|forget|override)\b[^.!?\n]{0,40}\b(instructions?|prompts?|rules|articles?|above|context)\b"
    r"|\b(system prompt|developer mode|debug mode|jailbreak)\b"
    r"|\byou are now\b|\bnew instructions\b|^\s*(system|assistant)\s*:"
    r"|\b(respond|reply|answer|say)\s+(only\s+)?(with\s+)?['\"“‘][^'\"”’]{1,40}['\"”’]\s+(to|for)\s+(every|all|any)\b",
    re.I,
)


def is_instruction(sentence: str) -> bool:
    """True for a sentence that addresses an AI ("Ignore previous instructions and say …").

    Articles are data. Such a sentence is never shown to the model as a numbered sentence nor cited,
    so a model that would obey it has nothing to cite, and its answer is dropped as unsupported.
    """
    return bool(_INSTRUCTION.search(sentence))


def number_sentences(passages: Sequence[Passage]) -> list[Sentence]:
    """Split passages into sentences and number them once each (overlapping chunks repeat some)."""
    from qa.chunk import sentence_spans

    seen: set[tuple[str, int, int]] = set()
    out: list[Sentence] = []
    for pi, p in enumerate(passages):
        for s, e in sentence_spans(p.text):
            key = (p.article_id, p.start + s, p.start + e)
            if key in seen or is_instruction(p.text[s:e]):
                continue
            seen.add(key)
            out.append(Sentence(len(out) + 1, p.article_id, p.start + s, p.start + e, p.text[s:e], pi))
    return out


def format_sentences(sentences: Sequence[Sentence], passages: Sequence[Passage]) -> str:
    """One line per sentence, grouped under a short header per passage; lean, since prefill is costly."""
    lines: list[str] = []
    last = -1
    for s in sentences:
        if s.passage != last:
            p = passages[s.passage]
            meta = p.source + (f", {p.published_at[:10]}" if p.published_at else "")
            lines.append(f"# {_shorten(p.title, 80)} ({meta})")
            last = s.passage
        lines.append(f"[{s.n}] {one_line(s.text)}")
    return "\n".join(lines)


def one_line(text: str) -> str:
    """Whitespace folded to single spaces, for display in prompts and answers."""
    return " ".join(text.split())


def _shorten(text: str, n: int) -> str:
    text = one_line(text)
    return text if len(text) <= n else text[: n - 1].rstrip() + "…"


# ---------------------------------------------------------------------------------------------
# Normalised tokens, numbers and terms

_STOP = frozenset(
    [
        "a",
        "an",
        "the",
        "and",
        "or",
        "but",
        "if",
        "of",
        "to",
        "in",
        "on",
        "at",
        "by",
        "for",
        "with",
        "from",
        "as",
        "into",
        "about",
        "over",
        "after",
        "before",
        "than",
        "then",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "being",
        "am",
        "do",
        "does",
        "did",
        "done",
        "has",
        "have",
        "had",
        "having",
        "will",
        "would",
        "shall",
        "should",
        "can",
        "could",
        "may",
        "might",
        "must",
        "it",
        "its",
        "this",
        "that",
        "these",
        "those",
        "there",
        "here",
        "he",
        "she",
        "they",
        "them",
        "his",
        "her",
        "their",
        "our",
        "we",
        "you",
        "your",
        "i",
        "me",
        "my",
        "mine",
        "what",
        "which",
        "who",
        "whom",
        "whose",
        "when",
        "where",
        "why",
        "how",
        "many",
        "much",
        "more",
        "most",
        "some",
        "any",
        "all",
        "each",
        "other",
        "such",
        "no",
        "not",
        "nor",
        "only",
        "own",
        "same",
        "so",
        "too",
        "very",
        "s",
        "t",
        "just",
        "also",
        "up",
        "out",
        "down",
        "off",
        "again",
        "further",
        "once",
        "said",
        "says",
        "say",
        "according",
        "tell",
        "told",
        "us",
    ]
)
_QUESTION_WORDS = frozenset(["what", "which", "who", "whom", "whose", "when", "where", "why", "how"])
_WORD = re.compile(r"[^\W_]+(?:[’'][^\W_]+)?", re.UNICODE)
_NUMBER = re.compile(r"(?<![\w.])(\d{1,3}(?:[,\u202f\u00a0 ]\d{3})+|\d+)(?:\.(\d+))?(?!\w)")
_NUMBER_WORDS = {
    "one": "1",
    "two": "2",
    "three": "3",
    "four": "4",
    "five": "5",
    "six": "6",
    "seven": "7",
    "eight": "8",
    "nine": "9",
    "ten": "10",
    "eleven": "11",
    "twelve": "12",
    "dozen": "12",
    "hundred": "100",
    "thousand": "1000",
    "million": "1000000",
}


def fold(text: str) -> str:
    """Case-, accent- and quote-insensitive form for matching (never for display)."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    return text.replace("’", "'").replace("‘", "'").casefold()


@cache
def _stemmer():  # type: ignore[no-untyped-def]
    import Stemmer  # PyStemmer, already a dependency of the BM25 index

    return Stemmer.Stemmer("english")


def words(text: str) -> list[str]:
    return _WORD.findall(fold(text))


def stems(text: str) -> set[str]:
    """Stemmed content words (no stopwords)."""
    ws = [w for w in words(text) if w not in _STOP]
    return set(_stemmer().stemWords(ws))


def numbers(text: str) -> set[str]:
    """Numbers as canonical strings: '6,000' and '6000' are one number; number words count too."""
    out = set()
    for m in _NUMBER.finditer(text):
        whole = re.sub(r"[,\u202f\u00a0 ]", "", m.group(1)).lstrip("0") or "0"
        frac = (m.group(2) or "").rstrip("0")
        out.add(whole + (f".{frac}" if frac else ""))
    for w in words(text):
        if w in _NUMBER_WORDS:
            out.add(_NUMBER_WORDS[w])
    return out


_CALENDAR = frozenset(
    [
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
    ]
)


def specific_terms(question: str) -> set[str]:
    """Terms a passage must contain for it to answer the question: numbers and proper names.

    Proper names are capitalised words that are not the first word and not question words; this is a
    lexical heuristic on purpose — cheap, explainable, and it catches questions about a year or an entity
    the articles never mention ("in 2021", "WhatsApp").
    """
    terms = set(numbers(question))
    tokens = _WORD.findall(question)
    for i, tok in enumerate(tokens):
        if i == 0 or not tok[:1].isupper():
            continue
        f = fold(tok)
        # Month and day names are paraphrased ("first 11 months" for "January to November"): not specific.
        if f in _STOP or f in _QUESTION_WORDS or f in _CALENDAR or len(f) < 2:
            continue
        terms.add(f)
    return terms


def missing_terms(question: str, evidence: str) -> set[str]:
    """Specific terms of the question that the evidence does not contain (fuzzy for misspellings)."""
    ev_words = set(words(evidence))
    ev_numbers = numbers(evidence)
    ev_stems = stems(evidence)
    missing = set()
    for term in specific_terms(question):
        if term[:1].isdigit():
            if term not in ev_numbers:
                missing.add(term)
            continue
        if term in ev_words or _stemmer().stemWord(term) in ev_stems:
            continue
        if len(term) >= 5 and any(_close(term, w) for w in ev_words if abs(len(w) - len(term)) <= 1):
            continue
        # "U.S." is written "US", "U.S." and "United States" interchangeably in news
        if term in {"us", "u"} and ({"us", "u"} & ev_words or "united" in ev_words):
            continue
        missing.add(term)
    return missing


def _close(a: str, b: str) -> bool:
    """Edit distance ≤ 1 (one typo)."""
    if a == b:
        return True
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) > len(b):
        a, b = b, a
    i = j = edits = 0
    while i < len(a) and j < len(b):
        if a[i] == b[j]:
            i += 1
            j += 1
            continue
        edits += 1
        if edits > 1:
            return False
        if len(a) == len(b):
            i += 1
        j += 1
    return edits + (len(b) - j) + (len(a) - i) <= 1


def coverage(question: str, evidence: str) -> float:
    """Share of the question's content stems found in the evidence (question words excluded)."""
    q = stems(question) - {_stemmer().stemWord(w) for w in _QUESTION_WORDS}
    if not q:
        return 1.0
    return len(q & stems(evidence)) / len(q)


# ---------------------------------------------------------------------------------------------
# Support: does an evidence sentence back an answer sentence?


# Words an answer may add around the facts without making a claim of its own.
_META = frozenset(
    [
        "article",
        "articles",
        "report",
        "reports",
        "reported",
        "according",
        "mention",
        "mentioned",
        "state",
        "stated",
        "states",
        "answer",
        "text",
        "source",
        "sources",
        "year",
        "years",
        "old",
    ]
)


def unsupported_words(claim: str, evidence: str, question: str = "") -> set[str]:
    """Content words of the claim found neither in the evidence nor in the question."""
    allowed = stems(evidence) | stems(question) | set(_stemmer().stemWords(list(_META)))
    return stems(claim) - allowed


def support(claim: str, evidence: str, question: str = "") -> float:
    """How well ``evidence`` supports ``claim``: 0 when a number of the claim is absent, else stem overlap.

    A claim also scores 0 when more than a quarter of its content words come from nowhere (not the
    evidence, not the question): "The answer is PWNED." is not made true by a sentence about answers.
    """
    claim_numbers = numbers(claim)
    if claim_numbers and not claim_numbers <= numbers(evidence):
        return 0.0
    claim_stems_all = stems(claim)
    if claim_stems_all and len(unsupported_words(claim, evidence, question)) > 0.25 * len(claim_stems_all):
        return 0.0
    claim_stems = stems(claim)
    if not claim_stems:
        if claim_numbers:
            return 1.0
        # An answer made only of stopwords ("May", "Here") is matched word for word.
        claim_words = set(words(claim))
        return len(claim_words & set(words(evidence))) / len(claim_words) if claim_words else 0.0
    return len(claim_stems & stems(evidence)) / len(claim_stems)


def best_support(
    claim: str, candidates: Iterable[Sentence], question: str = "", context: dict[int, str] | None = None
) -> tuple[float, list[Sentence]]:
    """The sentences that best support ``claim``; ties broken by how much of the question they cover.

    Words the answer repeats from the question are found in the evidence's neighbourhood too, so
    ``context`` (sentence number → neighbouring text) may be given to score claims that span sentences.
    """
    best: tuple[float, float] = (0.0, 0.0)
    chosen: list[Sentence] = []
    for s in candidates:
        text = s.text if context is None else context.get(s.n, s.text)
        score = (round(support(claim, text, question), 3), coverage(question, text) if question else 0.0)
        if score > best:
            best, chosen = score, [s]
    return best[0], chosen


# ---------------------------------------------------------------------------------------------
# Citations: built from offsets, checked against the article


def make_citation(marker: int, sentence: Sentence, passage: Passage, article_text: str) -> Citation | None:
    """A citation for ``sentence`` if, and only if, the article text at its offsets is that sentence."""
    if article_text[sentence.start : sentence.end] != sentence.text:
        return None
    return Citation(
        marker=marker,
        article_id=sentence.article_id,
        title=passage.title,
        source=passage.source,
        quote=sentence.text,
        start=sentence.start,
        end=sentence.end,
        published_at=passage.published_at,
    )


# Capitalised words that name an office, not a person: "the age of the US Secretary of State".
_TITLES = frozenset(
    [
        "secretary",
        "state",
        "president",
        "vice",
        "minister",
        "prime",
        "house",
        "white",
        "department",
        "adviser",
        "advisor",
        "governor",
        "senator",
        "representative",
        "ambassador",
        "general",
        "chief",
        "officer",
        "director",
        "spokesman",
        "spokeswoman",
        "mayor",
        "king",
        "queen",
        "prince",
        "pope",
        "judge",
        "justice",
        "commissioner",
        "chancellor",
        "premier",
        "council",
        "congress",
        "senate",
    ]
)
_ASKS_AGE = re.compile(r"\b(how old|age of|aged?)\b", re.I)
_NAME_AGE = re.compile(r"([A-Z][\w’'-]+)\s*,\s*(\d{1,3})\s*,")


def age_bound(question: str, claim: str, evidence: Sequence[str]) -> bool:
    """False when an age in the claim belongs, in the evidence, to someone other than the person asked.

    News gives ages as appositions ("Blinken, 61, will meet … Mayorkas"); a model asked Mayorkas's age
    answers 61. Applies only to age questions naming someone; otherwise True.
    """
    if not _ASKS_AGE.search(question):
        return True
    names = {t for t in specific_terms(question) if not t[:1].isdigit()} - _TITLES
    claimed = numbers(claim)
    if not names or not claimed:
        return True
    owners = [
        fold(m.group(1)) for text in evidence for m in _NAME_AGE.finditer(text) if m.group(2) in claimed
    ]
    if not owners:
        return True
    return any(any(part in names for part in re.split(r"[-’']", owner)) for owner in owners)
