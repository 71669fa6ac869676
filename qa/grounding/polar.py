"""Yes/no answers: which sentences say yes and which say no to a yes/no question.

A yes/no answer adds no figure, name or date that another article could give differently, so the
conflicts found by comparing values miss it: "No one has been arrested" in one article and "Police …
had arrested a 24-year-old man" in another. Both sentences carry the question's predicate
("arrested"); one negates it. Pure functions over strings: each decision has a unit test.

>>> polarity("No one has been arrested.", "arrest")
False
>>> polarity("Police said they had arrested a 24-year-old man.", "arrest")
True
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from qa.grounding.terms import WORD, specific_terms
from qa.grounding.text import STOP, stem, stems, words, wordset

_YES_NO_QUESTION = re.compile(
    r"^\W*(?:has|have|had|is|are|was|were|did|does|do|will|would|can|could|should)\s+(?!the\s+articles?\b)",
    re.I,
)
# words that turn the predicate after them to "no": "No one has been arrested", "had not been found"
_NEGATORS = wordset("no not never none nobody neither nor without cannot")
_CLAUSE_BREAK = re.compile(r"[,;:()—–]|\b(?:but|although|though|while|whereas)\b", re.I)
TOPIC_SHARE = 0.2  # a predicate is named by at most this share of the retrieved sentences
NEGATION_REACH = 5  # words before the predicate a negation may stand: "has not yet been formally charged"
# words of a yes/no question that are no predicate: "Has anyone …", "Is there …"
_NO_PREDICATE = wordset("anyone anybody anything someone somebody something there ever yet already still")


def is_yes_no(question: str) -> bool:
    """A question answered by yes or no: "Has anyone been arrested?", not "Do the articles agree…?"."""
    return bool(_YES_NO_QUESTION.match(question))


def predicate(question: str, claim: str, sentences: Sequence[str]) -> str | None:
    """The stem of the word a yes/no question turns on: of the question's own words (not its names)
    that the claim repeats, the one fewest ``sentences`` contain, but some do, and not many ("arrested"
    over "theft" and "museum", which every sentence of a story about a museum theft may name)."""
    names = set().union(*(stems(t) for t in specific_terms(question)))
    mine = stems(claim) & stems(question)
    asked = [
        s
        for w in words(question)
        if w not in STOP and w not in _NO_PREDICATE and len(w) > 2
        for s in [stem(w)]
        if s in mine and s not in names
    ]
    found = [stems(x) for x in sentences]
    counts = {s: n for s in dict.fromkeys(asked) if (n := sum(s in f for f in found))}
    if not counts:
        return None  # a word no sentence has decides nothing
    pred = min(counts, key=counts.__getitem__)
    # the story's topic, which many sentences name, is no predicate to negate
    return pred if counts[pred] <= max(2, TOPIC_SHARE * len(sentences)) else None


def polarity(sentence: str, pred: str) -> bool | None:
    """True when the sentence states the predicate, False when it negates it, None when it does not
    have it. A negation counts within its clause, at most ``NEGATION_REACH`` words before."""
    tokens = list(WORD.finditer(sentence))
    for i, m in enumerate(tokens):
        if stem(m.group(0).casefold()) != pred:
            continue
        before = tokens[max(0, i - NEGATION_REACH) : i]
        while before and _CLAUSE_BREAK.search(sentence[before[0].end() : m.start()]):
            before = before[1:]
        return not any(
            t.group(0).casefold() in _NEGATORS or t.group(0).casefold().endswith(("n't", "n’t"))
            for t in before
        )
    return None


def answer_polarity(claim: str, sentence: str, pred: str) -> bool | None:
    """The yes or no a claim gives: its own first word, else what it or its sentence says."""
    first = words(claim)[:1]
    if first and first[0] in ("yes", "no") and not re.match(r"\W*no\s+(?:one|longer)\b", claim, re.I):
        return first[0] == "yes"
    said = polarity(claim, pred)
    return said if said is not None else polarity(sentence, pred)
