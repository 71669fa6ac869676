"""Keep the source's qualifiers: "may swell to 15,000" must not become a flat "15,000".

Only what the source writes right before the same figure is put back, so nothing is invented. Words
that read well before any figure ("about", "at least", "an estimated") are copied as written; a modal
run ("may swell to", "could reach") cannot be moved into another sentence's grammar, so it becomes
"possibly". A day keeps its hedge too: "until at least Friday", "Monday at the earliest".
"""

from __future__ import annotations

import re

from qa.grounding.text import MONTH_NAMES, WEEKDAY_NAMES, fold, wordset

# Words that, right before a figure, qualify it and read well in front of any figure.
QUALIFIERS = wordset(
    """about around roughly nearly almost approximately some over under more fewer less than at least most
    up to as many much an estimated reportedly"""
)
# Words that make a figure uncertain or future: "may swell to", "is expected to reach".
MODAL = wordset("may might could would expected projected likely swell grow reach rise climb top exceed")
_CONNECTORS = wordset("at to as than up be much many more less fewer")
_PHRASES = {
    ("at", "least"),
    ("at", "most"),
    ("up", "to"),
    ("as", "many"),
    ("as", "much"),
    ("more", "than"),
    ("less", "than"),
    ("fewer", "than"),
    ("much", "as"),
    ("many", "as"),
}
_FIGURE = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?")


def qualifiers_before(sentence: str, figure: str) -> list[str]:
    """The run of qualifier and modal words right before ``figure`` in ``sentence``."""
    m = re.search(rf"(?<![\w,.]){re.escape(figure)}(?!\w)", sentence)
    if not m:
        return []
    run: list[str] = []
    for w in reversed(sentence[: m.start()].split()):
        f = fold(w.strip("(,"))
        if f in QUALIFIERS or f in MODAL or (run and f in {"to", "be"}):
            run.insert(0, w.strip("(,"))
        else:
            break
    # a connector opens the run only as part of its phrase: "at least", not "stood at around"
    while (
        run and fold(run[0]) in _CONNECTORS and (len(run) < 2 or (fold(run[0]), fold(run[1])) not in _PHRASES)
    ):
        run.pop(0)
    return run


# A day is hedged by the phrase before or after it: "until at least Friday", "Monday at the earliest".
_DAY = re.compile(rf"\b(?:{'|'.join(WEEKDAY_NAMES)}|(?:{'|'.join(MONTH_NAMES)}) \d{{1,2}})\b")
_BEFORE_DAY = ("at least", "as early as", "no earlier than", "no later than", "not before", "not until")
_AFTER_DAY = ("at the earliest", "at the latest")


def _day_hedged(claim: str, sentence: str) -> str:
    """The claim's day with the phrase that hedges it in the source, unless the claim has it already."""
    m = _DAY.search(claim)
    at = sentence.find(m.group(0)) if m else -1
    if m is None or at < 0:
        return claim
    said = fold(claim)
    before = fold(sentence[:at]).rstrip()
    after = fold(sentence[at + len(m.group(0)) :]).lstrip(" ,")
    pre = next((p for p in _BEFORE_DAY if before.endswith(" " + p) and p not in said), "")
    post = next((p for p in _AFTER_DAY if after.startswith(p) and p not in said), "")
    if post:
        claim = f"{claim[: m.end()]} {post}{claim[m.end() :]}"
    if pre and m.start() == 0:  # before a bare day only: "reopens on at least Friday" reads wrong
        claim = f"{pre[:1].upper()}{pre[1:]} {claim}"
    return claim


def keep_qualifiers(claim: str, sentence: str) -> str:
    """The claim with the source's qualifiers in front of each figure it states flatly, and around its
    day ("Friday" → "Friday at the earliest")."""
    out = _day_hedged(claim, sentence)
    for m in reversed(list(_FIGURE.finditer(claim))):
        run = qualifiers_before(sentence, m.group(0))
        said = {fold(w) for w in claim[: m.start()].split()[-4:]}
        if not run or said & (QUALIFIERS | MODAL | {"possibly"}):
            continue
        prefix = "possibly" if any(fold(w) in MODAL for w in run) else " ".join(run)
        if m.start() == 0:
            prefix = prefix[:1].upper() + prefix[1:]
        out = out[: m.start()] + prefix + " " + out[m.start() :]
    return out
