"""Versions: when articles give different answers to the same question, each with its own citation.

Any kind of answer (a number, a name, a date, a place, yes or no) is compared the same way: on the
words and numbers that the answer adds to the question. Two articles that agree are not a conflict.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from difflib import SequenceMatcher

from qa.grounding.reply import strip_markers
from qa.grounding.text import (
    META,
    MONTHS,
    QUESTION_WORDS,
    WEEKDAY_NAMES,
    contains_phrase,
    numbers,
    one_line,
    published_date,
    stem,
    stems,
    words,
    wordset,
)
from qa.types import Citation

_YES_NO = wordset("yes no")
_WEEKDAYS = wordset(" ".join(WEEKDAY_NAMES).lower())
# Times told relative to the day an article was written: "last week" and "Thursday" can be one day.
_RELATIVE_TIME = _WEEKDAYS | wordset(
    """yesterday today tomorrow tonight ago last next this earlier later recently week weekend morning
    afternoon evening night"""
)


def _weekdays(answer: str, question: str) -> set[str]:
    """The days of the week an answer gives that the question does not, when it gives no number."""
    if numbers(answer):
        return set()
    return {w for w in words(strip_markers(answer)) if w in _WEEKDAYS} - set(words(question))


# "Do the articles agree on the size of the caravan?" asks for the versions of "the size of the caravan"
_COMPARISON = re.compile(
    r"^\s*(?:do|does|did|are|is|were)\s+(?:the\s+|these\s+|both\s+|all\s+)*(?:two\s+|three\s+)?"
    r"(?:articles?|sources?|reports?|outlets?|stories|story|papers?|texts?|accounts?)\s+"
    r"(?:(?:all|both)\s+)?(?:agree|disagree|differ|conflict|contradict\s+each\s+other|give\s+(?:the\s+)?same"
    r"(?:\s+\w+)?|report\s+(?:the\s+)?same(?:\s+\w+)?|say\s+the\s+same(?:\s+thing)?)\s+"
    r"(?:on|about|over|regarding|in|as\s+to|for)\s+(?P<topic>.+?)\s*\?*\s*$",
    re.I,
)


def compared_question(question: str) -> str | None:
    """The question behind "Do the articles agree on X?": its versions answer it; None otherwise.

    Asked whether they agree, the model answers "Yes" (FINDINGS.md: a comparison failed in every
    design), so the comparison is answered by the conflict path on the underlying question.
    """
    m = _COMPARISON.match(question)
    if not m:
        return None
    topic = m.group("topic").strip().rstrip("?. ")
    if not words(topic):
        return None
    if words(topic)[0] in QUESTION_WORDS:  # "… agree on how many people came?" → "How many people came?"
        return f"{topic[0].upper()}{topic[1:]}?"
    return f"What is {topic}?"


def agreement_text(answer: str) -> str:
    """The answer to "Do the articles agree on X?" when no retrieved article gives another version."""
    return f"The retrieved articles do not disagree on this: {answer}"


@dataclass(frozen=True)
class Version:
    """One article's answer: the words it gives, and the sentence that gives them."""

    value: str
    citation: Citation


def _months(text: str) -> set[str]:
    """Month names as keys that compare like numbers: "May 2023" and "June 2023" differ."""
    return {f"month:{MONTHS[w]}" for w in words(text) if w in MONTHS}


def answer_key(answer: str, question: str) -> tuple[set[str], set[str]]:
    """The numbers and content stems an answer adds to its question: what has to match to agree."""
    text = strip_markers(answer)
    nums = (numbers(text) | _months(text)) - numbers(question) - _months(question)
    content = stems(text) - stems(question) - {stem(w) for w in META}
    return nums, content


def _yes_no(answer: str) -> str | None:
    first = words(answer)[:1]
    return first[0] if first and first[0] in _YES_NO else None


def _relative_time(answer: str, question: str) -> bool:
    """An answer that dates something relative to its article ("last week", "on Thursday")."""
    asked = set(words(question))
    own = [w for w in words(strip_markers(answer)) if w not in asked]
    return bool(own) and not numbers(answer) and any(w in _RELATIVE_TIME for w in own)


def agrees(a: str, b: str, question: str) -> bool:
    """True unless the two answers to ``question`` visibly differ.

    Numbers decide when both give some; else content words (one sharing half of the other's agrees,
    "Facebook" and "Facebook Inc."); an answer with nothing of its own cannot disagree.
    """
    ya, yb = _yes_no(a), _yes_no(b)
    if ya and yb:
        return ya == yb
    da, db = _weekdays(a, question), _weekdays(b, question)
    if da and db and not da & db:
        return False  # "until Friday" and "on Monday" are two days, whatever the articles' dates
    if _relative_time(a, question) or _relative_time(b, question):
        return True  # not comparable without the articles' dates
    na, sa = answer_key(a, question)
    nb, sb = answer_key(b, question)
    if na and nb:
        # one may be the other's more precise form ("May 2023", "May 2, 2023"; "6,000" of "6,000 to 8,000")
        return na <= nb or nb <= na
    if not (sa or na) or not (sb or nb):
        return True
    if sa and sb:
        # sharing half of the shorter one: "Facebook" and "Facebook Inc." agree, "Shane Lowry of Ireland"
        # and "Hideki Matsuyama of Ireland" do not
        shared = len(sa & sb)
        return (
            (shared > 0 and 2 * shared >= min(len(sa), len(sb)))
            or contains_phrase(a, b)
            or contains_phrase(b, a)
        )
    return True  # one gives a number, the other only words: not comparable


def states(sentence: str, answer: str, question: str) -> bool:
    """The sentence already contains the answer's own numbers or words: it agrees, no need to ask."""
    nums, content = answer_key(answer, question)
    if nums:
        return nums <= numbers(sentence)
    return bool(content) and content <= stems(sentence)


_TOKEN = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|[^\W_]+(?:['’][^\W_]+)?|[^\w\s]")
MIN_PARALLEL_SHARED = 5  # tokens two sentences must share around the one place where they differ
MIN_PARALLEL_SHARE = 0.6  # … and of the longer sentence's tokens
MAX_PARALLEL_SPAN = 6  # tokens of a value


def parallel_value(primary: str, other: str, answer: str, question: str) -> tuple[int, int] | None:
    """What ``other`` says in place of the answer, when it is the answer's sentence with another value.

    Wire copy is reprinted and updated: "Pixar's Soul has won the Oscar for Best Animated Feature" and
    "Pixar's Toy Story 2 has won the Oscar for Best Animated Feature" differ in one place, and that place
    holds the answer, so the other sentence gives another version of it, with no reading needed. Two
    places of difference ("Season 3 … 2019", "Season 4 … 2020") make another event, not a version.
    The value is the other sentence's own text: its span ``(start, end)`` in ``other``.
    """
    a = list(_TOKEN.finditer(primary))
    b = list(_TOKEN.finditer(other))
    fa = [m.group().lower() for m in a]
    fb = [m.group().lower() for m in b]
    ops = [op for op in SequenceMatcher(None, fa, fb, autojunk=False).get_opcodes() if op[0] != "equal"]
    if len(ops) != 1 or ops[0][0] != "replace":
        return None
    _, i1, i2, j1, j2 = ops[0]
    shared = len(fa) - (i2 - i1)
    if shared < MIN_PARALLEL_SHARED or shared < MIN_PARALLEL_SHARE * max(len(fa), len(fb)):
        return None
    if i2 - i1 > MAX_PARALLEL_SPAN or j2 - j1 > MAX_PARALLEL_SPAN:
        return None
    nums, content = answer_key(answer, question)
    mine = primary[a[i1].start() : a[i2 - 1].end()]
    if not (nums & numbers(mine) or content & stems(mine)):
        return None  # the sentences differ elsewhere than in the answer
    start, end = b[j1].start(), b[j2 - 1].end()
    return None if agrees(answer, other[start:end], question) else (start, end)


def _when(published_at: str | None) -> str:
    d = published_date(published_at)
    return f"{d:%B} {d.day}, {d.year}" if d else ""


def attribution(c: Citation) -> str:
    """'The Daily Ledger (May 2, 2024)'; the outlet alone when the date is unknown."""
    when = _when(c.published_at)
    return f"{c.source} ({when})" if when else c.source


def conflict_text(versions: list[Version]) -> str:
    """'The articles disagree: The Daily Ledger (May 2, 2024) gives 12,000 [1]; the City Times … [2].'"""
    labels = [attribution(v.citation) for v in versions]
    if len(set(labels)) < len(labels):  # same outlet twice: tell the articles apart by headline
        labels = [
            f"{lab}, “{one_line(v.citation.title)[:60]}”" if v.citation.title else lab
            for lab, v in zip(labels, versions, strict=True)
        ]
    parts = [
        f"{lab} gives “{one_line(strip_markers(v.value)).rstrip('.')}” [{v.citation.marker}]"
        for lab, v in zip(labels, versions, strict=True)
    ]
    return "The articles disagree: " + "; ".join(parts) + "."
