"""Normalised words, stems and numbers: the cheap lexical layer under every grounding check.

Matching is case-, accent- and quote-insensitive (``fold``); display text is never altered.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from functools import cache


def wordset(words: str) -> frozenset[str]:
    """A word list written as one whitespace-separated string: easy to read and to review."""
    return frozenset(words.split())


# Function words that carry no claim. One list, written once; stems of these never count as evidence.
STOP = wordset(
    """a an the and or but if of to in on at by for with from as into about over after before than then
    is are was were be been being am do does did done has have had having will would shall should can
    could may might must it its this that these those there here he she they them his her their our we
    you your i me my mine what which who whom whose when where why how many much more most some any all
    each other such no not nor only own same so too very s t just also up out down off again further
    once said says say according tell told us"""
)
QUESTION_WORDS = wordset("what which who whom whose when where why how")
# Month names in English, whatever the process locale (``calendar`` follows it), and their short forms.
MONTH_NAMES = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
MONTH_ABBREVIATIONS = (*(m[:3] for m in MONTH_NAMES), "Sept")
WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
# folded name or short form → month number
MONTHS = {
    w.lower(): i
    for i, m in enumerate(MONTH_NAMES, 1)
    for w in (m, *(a for a in MONTH_ABBREVIATIONS if m.startswith(a)))
}
# Words an answer may add around the facts without making a claim of its own.
META = wordset(
    """article articles report reports reported according mention mentioned state stated states answer
    text source sources year years old"""
)
_WORD = re.compile(r"[^\W_]+(?:[’'][^\W_]+)?", re.UNICODE)
_NUMBER = re.compile(r"(?<![\w.])(\d{1,3}(?:[,\u202f\u00a0 ]\d{3})+|\d+)(?:\.(\d+))?(?!\w)")
_ONES = """zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen
seventeen eighteen nineteen"""
_TENS = "twenty thirty forty fifty sixty seventy eighty ninety"
# "Fourteen people were taken to hospital" states 14
NUMBER_WORDS = (
    {w: str(i) for i, w in enumerate(_ONES.split())}
    | {w: str(10 * i) for i, w in enumerate(_TENS.split(), 2)}
    | {"dozen": "12", "hundred": "100", "thousand": "1000", "million": "1000000"}
)
# "Twenty-two people were treated" states 22, not 20 and 2
COMPOUND_NUMBER = re.compile(
    rf"\b({'|'.join(_TENS.split())})[-‐‑ ]({'|'.join(_ONES.split()[1:10])})\b", re.IGNORECASE
)


# "one" as a pronoun counts nothing: "No one has been arrested", "the one that sank"
PRONOUN_ONE = re.compile(r"\b(?:no|any|every|each|some|this|that|which|the|another)\s+one\b", re.I)


def word_numbers(text: str) -> set[str]:
    """The numbers a text writes in words: "fourteen" → 14, "twenty-two" → 22."""
    out = {
        str(int(NUMBER_WORDS[t.lower()]) + int(NUMBER_WORDS[u.lower()]))
        for t, u in COMPOUND_NUMBER.findall(text)
    }
    rest = PRONOUN_ONE.sub(" ", COMPOUND_NUMBER.sub(" ", text))
    out.update(NUMBER_WORDS[w] for w in words(rest) if w in NUMBER_WORDS)
    return out


# Numerals are never names, even capitalised at the start of a sentence ("Fifty years after …").
NUMERALS = wordset(
    f"""{_ONES} {_TENS} hundred hundreds thousand thousands million millions billion billions dozen dozens
    first second third fourth fifth sixth seventh eighth ninth tenth"""
)
_YEAR = re.compile(r"(1[89]|20)\d\d")


def fold(text: str) -> str:
    """Case-, accent- and quote-insensitive form for matching (never for display)."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    return text.replace("’", "'").replace("‘", "'").casefold()


def one_line(text: str) -> str:
    """Whitespace folded to single spaces, for display in prompts and answers."""
    return " ".join(text.split())


def shorten(text: str, n: int) -> str:
    text = one_line(text)
    return text if len(text) <= n else text[: n - 1].rstrip() + "…"


@cache
def _stemmer():  # type: ignore[no-untyped-def]
    import Stemmer  # PyStemmer, already a dependency of the BM25 index

    return Stemmer.Stemmer("english")


def stem(word: str) -> str:
    return str(_stemmer().stemWord(word))


def words(text: str) -> list[str]:
    return _WORD.findall(fold(text))


def stems(text: str) -> set[str]:
    """Stemmed content words: no stopwords, and no numbers (``numbers`` compares those, "two" = "2")."""
    ws = [w for w in words(text) if w not in STOP and w not in NUMBER_WORDS and not w.isdigit()]
    return set(_stemmer().stemWords(ws))


def numbers(text: str) -> set[str]:
    """Numbers as canonical strings: '6,000' and '6000' are one number; number words count too."""
    out = set()
    for m in _NUMBER.finditer(text):
        whole = re.sub(r"[,\u202f\u00a0 ]", "", m.group(1)).lstrip("0") or "0"
        frac = (m.group(2) or "").rstrip("0")
        out.add(whole + (f".{frac}" if frac else ""))
    out.update(word_numbers(text))
    return out


def years(text: str) -> set[str]:
    return {n for n in numbers(text) if _YEAR.fullmatch(n)}


def coverage(question: str, evidence: str) -> float:
    """Share of the question's content stems found in the evidence (question words excluded)."""
    q = stems(question) - {stem(w) for w in QUESTION_WORDS}
    if not q:
        return 1.0
    return len(q & stems(evidence)) / len(q)


def contains_phrase(haystack: str, needle: str) -> bool:
    """``needle`` occurs in ``haystack`` as whole words, ignoring case, accents and punctuation."""
    n = words(needle)
    if not n:
        return False
    h = words(haystack)
    return any(h[i : i + len(n)] == n for i in range(len(h) - len(n) + 1))


def published_date(iso: str | None) -> dt.date | None:
    """The day of an ISO date or timestamp ("2025-06-15T08:00:00"), or None when there is none."""
    try:
        return dt.date.fromisoformat((iso or "")[:10])
    except ValueError:
        return None
