"""Does a cited sentence state the answer to the question asked? Three checks, cheapest first.

0. Before any: the claim is of the kind asked (``fits_question``): "how many" wants an amount, "how
   fast" a measure, not a clock time.
1. Lexical support (``support``): every number and name of the claim, and most of its content words,
   occur in the cited sentence and the one before it. A filter, never the proof: "41,000" occurs in a
   sentence about visitors as well as in one about lanterns.
2. Relevance: the cross-encoder's probability that the cited sentence answers the question (it is
   trained to judge exactly that); cosine and word coverage when the reranker is off.
3. The model's choice: among the cited sentence's phrases of the answer's kind (figures and dates, or
   names), which one answers the question — or "none". Appended to the cached prompt, so only the new
   turn is prefilled, and constrained to the options, so it costs a few tokens.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from qa.grounding.reply import strip_markers
from qa.grounding.sentences import Sentence
from qa.grounding.terms import CALENDAR, specific_terms
from qa.grounding.text import (
    COMPOUND_NUMBER,
    META,
    MONTH_ABBREVIATIONS,
    MONTH_NAMES,
    MONTHS,
    NUMBER_WORDS,
    NUMERALS,
    PRONOUN_ONE,
    QUESTION_WORDS,
    STOP,
    WEEKDAY_NAMES,
    contains_phrase,
    coverage,
    fold,
    numbers,
    published_date,
    stem,
    stems,
    word_numbers,
    words,
    wordset,
)


def unsupported_words(claim: str, evidence: str, question: str = "") -> set[str]:
    """Content words of the claim found neither in the evidence nor in the question."""
    allowed = stems(evidence) | stems(question) | {stem(w) for w in META}
    return stems(claim) - allowed - {"yes"}  # a reply's polarity is no word of the evidence


def unsupported_names(claim: str, evidence: str, question: str = "") -> set[str]:
    """Words of the claim's names found neither in the evidence nor in the question: a name is the
    answer, so none may come from elsewhere ("Kerber and Ashleigh Barty finished the year as No. 1"
    cited to a sentence about Kerber alone). A name's form may change ("Mexican" for "Mexico's"), so
    a word sharing its first five letters with one of the evidence counts as there; the claim's first
    word is capitalised anyway and not read as a name.
    """
    known = {w.removesuffix("'s") for w in words(f"{evidence} {question}")}  # "Mexico City's"
    prefixes = {w[:5] for w in known if len(w) >= 5}
    out: set[str] = set()
    for m in _NAME.finditer(claim):
        tokens = m.group(0).split()[1:] if not claim[: m.start()].strip(" “\"'(") else m.group(0).split()
        out |= {
            w
            for t in tokens
            for w in (x.removesuffix("'s") for x in words(t))
            if len(w) > 2 and w.isalpha() and w not in known and w not in STOP and w[:5] not in prefixes
        }
    return out


def support(claim: str, evidence: str, question: str = "") -> float:
    """How well ``evidence`` supports ``claim``: 0 when a number of the claim is absent, else stem overlap.

    A claim also scores 0 when more than a quarter of its content words come from nowhere (not the
    evidence, not the question): "The answer is PWNED." is not made true by a sentence about answers.
    """
    claim_numbers = numbers(claim)
    if claim_numbers and not claim_numbers <= numbers(evidence):
        return 0.0
    if unsupported_names(claim, evidence, question):
        return 0.0
    claim_stems = stems(claim)
    if claim_stems and len(unsupported_words(claim, evidence, question)) > 0.25 * len(claim_stems):
        return 0.0
    if not claim_stems:
        if claim_numbers:
            return 1.0
        # An answer made only of stopwords ("May", "Here") is matched word for word.
        claim_words = set(words(claim))
        return len(claim_words & set(words(evidence))) / len(claim_words) if claim_words else 0.0
    return len(claim_stems & stems(evidence)) / len(claim_stems)


def states_itself(claim: str, sentence: str, question: str, context: str = "", share: float = 0.75) -> bool:
    """The sentence alone holds the claim's figures and half of what the claim adds to the question,
    and with ``context`` (the sentence before) a ``share`` of it. The sentence before may bind the answer
    to the question ("Blinken, 61" after the one that names him), never state it: the quote shown must
    hold the answer ("Hinako Shibuno" is no answer cited to "The event will be the first major of
    2020", which follows the sentence naming her).
    """
    text = strip_markers(claim)
    figures = numbers(text) - numbers(question)
    sentence = undated(sentence)  # "PORT ELSBY, June 15 (Courier) —" dates the story, not the fact
    if not figures <= numbers(sentence):
        return False
    added = stems(text) - stems(question) - {"yes", "no"}  # a reply's polarity is no word of the sentence
    if not added:
        return True
    if len(added & stems(sentence)) + len(figures) < 0.5 * (len(added) + len(figures)):
        return False
    # a word's form may change ("Mexican" for "Mexico's"): one sharing its first five letters counts
    around = f"{context} {sentence}"
    said, prefixes = stems(around), {w[:5] for w in words(around) if len(w) >= 5}
    held = {a for a in added if a in said or (len(a) >= 5 and a[:5] in prefixes)}
    return len(held) + len(figures) >= share * (len(added) + len(figures))


def best_support(
    claim: str,
    candidates: Iterable[Sentence],
    question: str,
    context: dict[int, str],
    rel: dict[int, float],
    stated: float = 0.75,
) -> tuple[float, Sentence | None]:
    """The sentence that best supports ``claim``; ties broken by its relevance to the question.

    A sentence that supports the claim alone beats one that needs the sentence before it, so a citation
    next to the fact moves onto the fact. Questions state nothing, so they support nothing.
    """
    best: tuple[float, float] = (0.0, -1.0)
    chosen: Sentence | None = None
    for s in candidates:
        if s.asks or not states_itself(claim, s.text, question, context.get(s.n, ""), stated):
            continue
        alone = support(claim, s.text, question)
        with_context = support(claim, context.get(s.n, s.text), question) - 0.05
        score = (round(max(alone, with_context), 3), rel.get(s.n, 0.0))
        if score > best:
            best, chosen = score, s
    return best[0], chosen


def relevant(
    rel: float,
    *,
    reranked: bool,
    question: str,
    evidence: str,
    min_rerank: float,
    min_cov: float,
    min_cos: float,
) -> bool:
    """The cited sentence is about what was asked (cross-encoder; else word coverage or cosine)."""
    if reranked:
        return rel >= min_rerank
    return coverage(question, evidence) >= min_cov or rel >= min_cos


def claims_of(text: str) -> list[str]:
    """The answer's sentences: each is verified and cited on its own."""
    from qa.chunk import sentence_spans

    return [text[a:b] for a, b in sentence_spans(text)] or ([text] if text.strip() else [])


_LIST_SEP = re.compile(r",\s*(?:and\s+)?|\s+and\s+")


def name_list(claim: str) -> list[str]:
    """The names of a claim that only lists names ("Tabatha Rosproy and Juliana Urtubey"), or []."""
    text = strip_markers(claim).strip().rstrip(".")
    parts = [p.strip() for p in _LIST_SEP.split(text)]
    return parts if len(parts) > 1 and all(_NAME.fullmatch(p) for p in parts) else []


def keep_order(sentences: Sequence[Sentence]) -> list[Sentence]:
    """Unique sentences in reading order (by number)."""
    return sorted({s.n: s for s in sentences}.values(), key=lambda s: s.n)


# Options for the model's check: phrases of the cited sentence of the same kind as the answer.
_MONTHS = "|".join(MONTH_NAMES)
# the number words that count ("two", "forty"), not "zero" or a scale word
_COUNT_WORDS = [w for w in NUMBER_WORDS if w not in ("zero", "hundred", "thousand", "million")]
_ANY_MONTH = rf"(?:{_MONTHS}|(?:{'|'.join(MONTH_ABBREVIATIONS)})\b\.?)"  # "November", "Nov.", "Sept"
_MONTH_DAY = rf"{_ANY_MONTH} \d{{1,2}}(?:st|nd|rd|th)?"  # "November 12", "Nov. 12th"
_DAY_MONTH = rf"\d{{1,2}}(?:st|nd|rd|th)? {_ANY_MONTH}"  # "12 November", "12 Nov"
_FIGURE_OR_DATE = re.compile(
    rf"\b(?:{_MONTH_DAY}(?!\d)(?:,? (?:of )?\d{{4}})?"
    rf"|{_DAY_MONTH}(?:,? \d{{4}})?|{_ANY_MONTH},? \d{{4}})"
    # a score or a range ("won 3-1", "2019–20") is no count: numbers joined by a dash are not options
    # a figure keeps its scale and share: "1.8 million" and "11 percent" are what the
    # sentence states, "1.8" and "11" alone are not (the model's check chose "none" for "1.8")
    r"|(?:(?<![\w.])(?<!\d[-–])\d{1,3}(?:,\d{3})+(?:\.\d+)?(?!\w)(?![-–]\d)"
    r"|(?<![\w.,])(?<!\d[-–])\d+(?:\.\d+)?(?!\w|,\d)(?![-–]\d))"  # "Blinken, 61, will": 61
    r"(?:\s(?:million|billion|trillion)\b)?(?:\s?%|\s(?:percent|per cent)\b)?"
    rf"|{COMPOUND_NUMBER.pattern}"  # "Twenty-two" is one option, not "Twenty" and "two"
    rf"|\b(?:{'|'.join(_COUNT_WORDS)})\b",
    re.I,
)


def figures_and_dates(text: str) -> list[re.Match[str]]:
    """The figures and dates a text states; not "one" as a pronoun ("No one has been arrested")."""
    return [
        m
        for m in _FIGURE_OR_DATE.finditer(text)
        if not (m.group(0).casefold() == "one" and PRONOUN_ONE.search(text[max(0, m.start() - 10) : m.end()]))
    ]


_BARE_MONTH = re.compile(rf"\b(?:{_MONTHS})\b")  # capitalized: "may" is a verb
_WEEKDAY = re.compile(rf"\b(?:{'|'.join(WEEKDAY_NAMES)})\b")
# the number of a numbered name: no score or decimal ("3-1", "4.5") and no share ("5%", "5 per cent")
_NAME_NUMBER = r"\d{1,4}\b(?![.,:–-]\d|\s*(?:%|per))"
_NAME = re.compile(
    r"(?:[A-Z][\w’'.-]*[a-z.][\w’'-]*|[A-Z]{2,}|[A-Z]\.(?:[A-Z]\.)+)(?:\s+(?:(?:of|de|la|von|van|der|al)\s+)?(?:[A-Z][\w’'.-]*|[A-Z]{2,}))*"
    rf"(?: {_NAME_NUMBER})?"  # a numbered name: "Toy Story 2"
)


# a date is no numbered name: "March 2021" is the month "March" and a year
_DATED = re.compile(rf"\b((?:{'|'.join(CALENDAR)})\.?) \d{{1,4}}$", re.I)
# a name ends where a lowercase compound begins: "Christopher Nolan-directed version" → "Christopher Nolan"
_COMPOUND = re.compile(r"-[a-z].*$", re.S)
# A dateline ("LINDHOLM — ", "NEW YORK (Reuters) -- ", "VALMERE, June 16 (Daily Post) - ") says where and
# when the story was filed: no answer's name or date.
_DATELINE = re.compile(
    r"^\s*[A-Z][A-Z.'’ -]{2,}(?:,\s*[A-Z][\w.]*(?: \d{1,2})?)*\s*(?:\([^)]{1,40}\)\s*)?(?:—|–|--|(?<=\s)-(?=\s))\s*"
)
# A search result's snippet starts with the date its page was published: "Nov 21, 2022 ... Valhalla will"
_SNIPPET_DATE = re.compile(rf"^\s*{_MONTH_DAY},? \d{{4}}\s*(?:\.\.\.|…)\s*")


def undated(sentence: str) -> str:
    """The sentence without the dateline or snippet date that dates its story, not what it says."""
    return _SNIPPET_DATE.sub("", _DATELINE.sub("", sentence))


_NOT_NAMES = NUMERALS | CALENDAR  # "Fifty", "December": capitalised, but no answer to "who"
_LEADING = re.compile(r"^(?:The|A|An|In|On|At|By|For|But|And|Mr|Mrs|Ms|Dr)\.?\s+(?=[A-Z])")


_MONTH = re.compile(rf"\b(?:(?:{_MONTHS})\b|(?:{'|'.join(MONTH_ABBREVIATIONS)})\.?(?= \d))")


def value_kind(phrase: str) -> str:
    """The shape of a figure or date: "date" (names a month), "year", or "figure"."""
    if _MONTH.search(phrase):
        return "date"
    found = re.findall(r"\d[\d,.]*\d|\d", phrase)  # as written: "2,000" is a figure, "2000" a year
    if found and all(len(n) == 4 and n[:2] in ("19", "20") for n in found):
        return "year"
    return "figure"


# A number that ends a name is part of the name ("Toy Story 2", "iPhone 11", "Flight 370"): no
# figure. Not after a sentence's first word ("About 72 kilometers"), a month or a day ("December 24"),
# nor before a plural ("sent Ukraine 31 tanks").
_NUMBERED = re.compile(
    rf"(?<=[\w,;:’'\"“)] )((?:[A-Z]|[a-z]+[A-Z])[A-Za-z’'-]*) ({_NAME_NUMBER})(?!\s+[a-z]{{2,}}[a-rt-z]s\b)"
)


# …and so is a number word written with a capital after a name's word: "Xbox One", "Formula One"
_NUMBERED_WORD = re.compile(
    rf"(?<=[\w,;:’'\"“)] )((?:[A-Z]|[a-z]+[A-Z])[A-Za-z’'-]*) "
    rf"((?:{'|'.join(w.capitalize() for w in _COUNT_WORDS)})\b)"
)


def _numbered(text: str) -> list[re.Match[str]]:
    """The numbered names of ``text``: the name in group 1, its number in group 2."""
    found = [*_NUMBERED.finditer(text), *_NUMBERED_WORD.finditer(text)]
    return [m for m in found if fold(m.group(1)) not in STOP | _NOT_NAMES]


def named_numbers(text: str) -> set[str]:
    """Numbers of ``text`` that belong to a name rather than count or date something."""
    return {n for m in _numbered(text) for n in numbers(m.group(2))}


def values(claim: str, question: str) -> set[str]:
    """The figures, years and dates' numbers a claim gives that the question does not."""
    text = strip_markers(claim)
    return numbers(text) - numbers(question) - named_numbers(text)


def is_value(claim: str, question: str) -> bool:
    """The claim gives a figure or a date the question does not: a value, not a name or a description."""
    return bool(values(claim, question)) or value_kind(strip_markers(claim)) == "date"


_AFTER_FIGURE = re.compile(r"\d[\d,.]*\s+(?:(?:million|billion|thousand|more|of|the|new)\s+)*([^\W\d_]{3,})")
_HOW_MANY = re.compile(r"\bhow\s+(?:many|much)\s+(.*)", re.I)
_COUNTED_TOKEN = re.compile(r"[\w'’-]+")


def asked_thing(question: str) -> set[str]:
    """Stems of what a "how many" question counts: the lower-case words after it, past "of the", names,
    owners and numbers, up to a function word ("how many barges" → {"barg"}; "how many of the hospital's
    servers were" → {"server"}; "how many St Aldric's staff members had" → {"staff", "member"}), or nothing
    ("how much did")."""
    asked = _HOW_MANY.search(question)
    found: set[str] = set()
    for token in _COUNTED_TOKEN.findall(asked.group(1) if asked else ""):
        word = fold(token)
        owner = word.endswith(("'s", "’s"))
        if not found and (word in _BEFORE_COUNTED or owner or token[:1].isupper() or token[:1].isdigit()):
            if word in STOP - _BEFORE_COUNTED:
                break  # "how many more", "how much did"
            continue  # "of the", "St Aldric's", "42"
        if word in STOP or owner or token[:1].isupper() or len(word) < 3 or (found and word.endswith("ed")):
            break  # "… had", "… in", "people applied"
        found.add(stem(word))
        if word in _PLURALS or (word.endswith("s") and not word.endswith("ss")):
            break  # the counted noun ends the phrase: "refugees arrived", "people live"
    return found


_BEFORE_COUNTED = wordset("of the a an")
# plurals without an s; "people" ends a question's counted phrase but may count any persons asked about
_PERSON_PLURALS = wordset("children men women")
_PLURALS = _PERSON_PLURALS | {"people"}


_PLURAL = re.compile(r"[a-z][a-z'’-]+[^s\W]s")  # "lanterns", "stalls"; not "across"


def _plural(word: str) -> bool:
    """A plural noun's shape: "lanterns", "stalls", "children"; not "across" nor a function word, nor
    "people", which counts any persons asked about ("6,000 people" for how many migrants)."""
    return word in _PERSON_PLURALS or (bool(_PLURAL.fullmatch(word)) and word not in STOP)


_NEXT_WORDS = re.compile(r"\s+((?:[^\W\d_][\w'’-]*\s*){1,3})")


def counts_other(sentence: str, things: set[str]) -> bool:
    """Every figure of the sentence counts a thing it names, and none of ``things``: "1,870 lanterns"
    for how many barges. A figure without a plural noun right after it ("around 30,000 on Saturday",
    "30,000 attended") may count anything, and so may a figure written in words."""
    figures = [m for m in figures_and_dates(sentence) if is_figure(m.group(0))]
    for f in figures:
        after = _NEXT_WORDS.match(sentence, f.end())
        if not f.group(0)[:1].isdigit() or after is None:
            return False
        following = [fold(w) for w in after.group(1).split()]
        if following[0] in STOP or stems(" ".join(following)) & things:
            return False
        if not any(_plural(w) for w in following):
            return False  # "30,000 attended", "14 died": a verb, not the thing counted
    return bool(figures)


_SCALE = wordset("hundred thousand million billion trillion")
_SHARE = re.compile(r"%|\bper ?cent$")


def _counts(sentence: str, figure: re.Match[str], things: set[str]) -> bool | None:
    """Whether ``figure`` counts one of ``things`` (one of the two words after it, past a scale word:
    "235 nurses", "$4.8 million fines"); False when it counts another thing it names ("410 staff",
    "3,600 acres", or a share: "11 percent of the total force"); None when no content word follows
    ("1,900 in 2019", "about 300 last year") or a participle does ("and 312 rejected")."""
    if _SHARE.search(figure.group(0)):
        return False
    after = _NEXT_WORDS.match(sentence, figure.end())
    following = [fold(w) for w in after.group(1).split()] if after else []
    following = [w for w in following if w not in _SCALE][:2]
    if not following or following[0] in STOP:
        return None
    if following[0].endswith("ed") and not stems(following[0]) & things:
        # a participle, the thing left out: "41,208 ballot papers had been counted and 312 rejected"
        return None
    if len(following) == 2 and not _plural(following[0]) and _plural(following[1]):
        following = following[1:]  # the head noun counts: "730,000 migrant encounters" are no migrants
    return bool(stems(" ".join(following)) & things)


def bound_figure(sentence: str, things: set[str]) -> str | None:
    """The figure of ``sentence`` that counts the asked ``things`` with the words up to that thing
    ("235 nurses"), when it is the only one and every other figure counts another thing it names.

    Lexical binding, which the 1.5B model's choice lacked: among "410 staff, among them 235 nurses and
    midwives" it chose 410 for how many nurses, and among "1,450 hectares (roughly 3,600 acres)" it
    chose 3,600 for how many hectares. A figure followed by no named thing ("1,900 in 2019") may be the
    asked one, so then the model chooses as before; so it does when several figures count the thing.
    """
    if not things:
        return None
    bound: list[str] = []
    for m in figures_and_dates(sentence):
        if not is_figure(m.group(0)):
            continue
        counts = _counts(sentence, m, things)
        if counts is None:
            return None
        if counts:
            after = _NEXT_WORDS.match(sentence, m.end())
            tail = after.group(1).split() if after else []
            upto = next((i for i, w in enumerate(tail) if stem(fold(w)) in things), len(tail) - 1)
            bound.append(" ".join([m.group(0), *tail[: upto + 1]]).rstrip(",;:"))
    return bound[0] if len(bound) == 1 else None


def counted(claim: str, question: str) -> set[str]:
    """Stems of what a figure counts, in the claim ("500 employees") and the question ("how many
    people"); empty when the claim names no thing after its figure."""
    m = _AFTER_FIGURE.search(strip_markers(claim))
    if m is None or m.group(1).casefold() in STOP:
        return set()
    return {stem(fold(m.group(1)))} | asked_thing(question)


def is_publication_date(claim: str, published: Iterable[str | None]) -> bool:
    """The claim gives the date an article was published, which the prompt's header shows: the model
    read the header, so the cited sentence's own date is no correction of it ("June 15, 2025" for when
    the festival was held, then "announced on March 4" chosen from the cited sentence)."""
    dates = [m.group(0) for m in _FIGURE_OR_DATE.finditer(strip_markers(claim))]
    stated = {
        (MONTHS[month], frozenset(numbers(d)))
        for d in dates
        if value_kind(d) == "date"
        for month in words(d)
        if month in MONTHS
    }
    for d in filter(None, map(published_date, published)):
        if any(m == d.month and str(d.day) in n and n <= {str(d.day), str(d.year)} for m, n in stated):
            return True
    return False


def without_years(claim: str, dropped: Iterable[str]) -> str:
    """The claim with these years removed from its dates: "November 12, 2025" → "November 12".

    The model completes a date with the year of the article's header; the sentence says "on November
    12", so the completed date is in no sentence, though the sentence states it.
    """
    for year in dropped:
        if not re.fullmatch(r"\d{4}", year):
            continue
        claim = re.sub(rf"(\b(?:{_MONTH_DAY}|{_DAY_MONTH})),? {year}\b", r"\1", claim)
    return claim


def is_figure(phrase: str) -> bool:
    """A count or amount ("three", "1,870"), not a date or a year."""
    return bool(numbers(phrase)) and value_kind(phrase) == "figure"


def _own_part(name: str, asked: set[str]) -> str:
    """The name without the question's own leading words: "Apple CEO Steve Jobs" → "Steve Jobs"."""
    parts = name.split()
    while len(parts) > 1 and set(words(parts[0])) <= asked:
        parts = parts[1:]
    return " ".join(parts)


_PLACE_BEFORE = re.compile(
    r"\b(?:in|at|from|near|to|into|outside|inside|across|toward|towards)\s+(?:the\s+)?$", re.I
)


def _fits(wh: str, before: str) -> bool:
    """A name fits the question's kind by the word before it: places follow "in", "at", "from" …"""
    if wh == "where":
        return bool(_PLACE_BEFORE.search(before))
    if wh in ("who", "whom", "whose"):
        return not _PLACE_BEFORE.search(before)
    return True


def _name_shaped(text: str, question: str) -> bool:
    """What the answer adds to the question is short, or mostly names ("Tim Buckley is the new CEO of
    Fidelity"): not a description that mentions some ("Mexico has proposed to President Joe Biden the
    opening of a dialogue between the US and Cuba")."""
    asked = set(words(question))
    added = [w for w in text.split() if not set(words(w)) <= asked | STOP]  # what the answer adds
    named = sum(1 for m in _NAME.finditer(text) for w in m.group(0).split() if not set(words(w)) <= asked)
    return len(added) <= 2 or 2 * named > len(added)


def answer_options(
    claim: str, sentence: str, question: str, *, own: bool = True, typed: bool = True
) -> tuple[list[str], list[str]] | None:
    """The sentence's phrases of the answer's kind, and those the claim states; None when not comparable.

    Figures and dates when the claim gives a number, else proper names; phrases the question already
    contains are not candidates. Asking the model to *choose* among them (or "none") binds the answer
    to the question: "1,870" and "36,500" in one sentence, a companion and the person met. With
    ``own=False`` the sentence needs phrases of the kind only, not the claim's own (another version).
    ``typed=False`` counts every name the sentence gives besides the question's, of any kind.
    """
    text = strip_markers(claim)
    own_numbers = values(_ORDINAL_DAY.sub(r"\1", text), question)  # "December 6th" gives 6
    q_fold = fold(question)
    sentence = undated(sentence)
    if _WEEKDAY.search(text) and not own_numbers and not _MONTH.search(text):
        # a day of the week for a day of the week: "until Friday" is a version of "on Monday"
        days = [
            d for d in dict.fromkeys(m.group(0) for m in _WEEKDAY.finditer(sentence)) if fold(d) not in q_fold
        ]
        mine = [d for d in days if fold(d) in fold(text)]
        return (days, mine) if (mine if own else days) else None
    if is_value(text, question) and (asks_value(question) or not new_names(text, question)):
        # A clock time is one phrase: "7:40 p.m." offered as "7" and "40" gave "40" for how many lifeboats;
        # nor is the number of a name ("PlayStation 4, Windows") a count or a date
        clocks = list(_CLOCK.finditer(sentence))
        taken = [c.span() for c in clocks] + [m.span(2) for m in _numbered(sentence)]
        spans = [m for m in figures_and_dates(sentence) if not any(a <= m.start() < b for a, b in taken)]
        # a clock time on a date is one moment: "at 8 a.m. on Friday, July 24" offered as "8 a.m." and
        # "July 24" gave "8 a.m." for when a ban takes effect, and dropped the right "July 24"
        moments = {
            d.start(): c
            for c in clocks
            for d in spans
            if value_kind(d.group(0)) == "date" and _ON_DAY.fullmatch(sentence, c.end(), d.start())
        }
        found = [
            sentence[moments[m.start()].start() : m.end()] if m.start() in moments else m.group(0)
            for m in spans
        ]
        if not (_ASKS_AMOUNT.search(question) or _ASKS_MEASURE.search(question)):
            merged = set(moments.values())
            found += [c.group(0).strip() for c in clocks if c not in merged]
        if not own_numbers:  # a month for a month ("In May, Mexico agreed …"), when not inside a date
            found += [
                m.group(0)
                for m in _BARE_MONTH.finditer(sentence)
                if not any(d.start() <= m.start() < d.end() for d in spans)
            ]
        options = [o for o in dict.fromkeys(found) if not (numbers(o) and numbers(o) <= numbers(question))]
        if not own:  # another version is a phrase of the same shape: a date for a date, not "three"
            options = [o for o in options if value_kind(o) == value_kind(text)]
        mine = [o for o in options if numbers(_ORDINAL_DAY.sub(r"\1", o)) & own_numbers]
    else:
        if not own and not _name_shaped(text, question):
            return None  # a description ("agreed that enforcement was needed") has no name for a version
        wh = next((w for w in words(question) if w in QUESTION_WORDS), "")
        found = [
            _own_part(
                _DATED.sub(r"\1", _COMPOUND.sub("", _LEADING.sub("", m.group(0)))).rstrip("."),
                set(words(question)),
            )
            for m in _NAME.finditer(sentence)
            if not typed or _fits(wh, sentence[: m.start()])
        ]
        asked, topic = specific_terms(question), stems(question)
        options = [
            o
            for o in dict.fromkeys(found)
            if fold(o) not in q_fold
            and stems(o)
            and not asked & set(words(o))  # a name the question gives: "Where will Blinken meet …?"
            # Of the answer's kind only, so not when counting all the sentence names: a numeral or a
            # month is no name ("Fifty", "December"), and a name sharing a word with the question
            # names what was asked about ("the 2004 Summer Olympics", "CFDA Awards" for the Maxwell
            # Award winner).
            and not (typed and (set(words(o)) - numbers(o) <= _NOT_NAMES or topic & stems(o)))
        ]
        mine = [o for o in options if contains_phrase(text, o) or contains_phrase(o, text)]
    if not (mine if own else options):
        return None
    return options, mine


# A question asks for a value when it asks how many, how much, how long …, when, or for a date or year.
_ASKS_WHEN = re.compile(
    r"\bwhen\b|\b(?:what|which)\s+(?:\w+\s+){0,3}?(?:year|date|day|month|time|hour|season|week)s?\b", re.I
)


def asked_kind(question: str) -> str:
    """The shape of value a question asks for: "date" (when, which year or day), "figure" (how many,
    how much, how far …), or "" (a name, a place, a description)."""
    if _ASKS_AMOUNT.search(question) or _ASKS_MEASURE.search(question):
        return "figure"
    return "date" if _ASKS_WHEN.search(question) else ""


def asks_value(question: str) -> bool:
    """The question asks for a figure, a measure or a date, not for a name or a place."""
    return bool(
        _ASKS_AMOUNT.search(question) or _ASKS_MEASURE.search(question) or _ASKS_WHEN.search(question)
    )


_ON_DAY = re.compile(rf"\s+on\s+(?:(?:{'|'.join(WEEKDAY_NAMES)}),?\s+)?")
_ORDINAL_DAY = re.compile(r"\b(\d{1,2})(?:st|nd|rd|th)\b")
_UNIT_BEFORE = re.compile(r"\d[\d,.]*(?:\s+[a-z]+)?\s+$")


def new_names(text: str, question: str) -> list[str]:
    """The names a claim gives that the question does not: "Dunmore" in "Ridgeway will move production
    to its larger plant in Dunmore, about 200 kilometres to the north" for which plant."""
    asked = set(words(question))
    out = []
    for m in _NAME.finditer(text):
        if _UNIT_BEFORE.search(text[: m.start()]):
            continue  # the unit of a figure: "37.6 degrees Celsius" answers what temperature, no name
        name = _own_part(_LEADING.sub("", m.group(0)).rstrip("."), asked)
        if set(words(name)) - asked - STOP - _NOT_NAMES - numbers(name):
            out.append(name)
    return out


def choice_schema(options: Sequence[str]) -> dict[str, object]:
    """The check's reply: one of the options, or "none", under a JSON schema (a few tokens)."""
    return {
        "title": "verdict",
        "type": "object",
        "properties": {"choice": {"type": "string", "enum": [*options, "none"]}},
        "required": ["choice"],
        "additionalProperties": False,
    }


# "How many" and "how much" ask for an amount: a figure, or a word that gives one ("dozens").
_ASKS_AMOUNT = re.compile(
    r"\bhow\s+(?:many|much)\b|\bwhat\s+(?:percentage|percent|share|proportion|fraction|amount)\b", re.I
)
# "How fast", "how long" ask for a measure, which may be said in words too ("at low speed", "until
# Friday"), but not by a clock time or a date alone, nor by the asked word itself ("long waits").
_ASKS_MEASURE = re.compile(r"\bhow\s+(far|fast|old|long|often|big|large|tall|high|deep|heavy|wide)\b", re.I)
_CLOCK = re.compile(r"\b\d{1,2}[:.]\d{2}(?:\s*[ap]\.?m\.?)?|\b\d{1,2}\s*[ap]\.?m\.?(?!\w)", re.I)
_AMOUNT_WORDS = wordset(
    """none nobody zero half quarter third dozen dozens hundreds thousands millions billions tens scores
    double triple twice"""
)


# words that tell a time without a number ("later this year", "on Friday") or tie it to an event
# ("after the inquiry", "once repairs are complete")
_TIME_WORDS = wordset(
    """today tomorrow tonight yesterday now soon later earlier immediately morning afternoon evening night
    noon midnight week weekend weeks month months year years decade spring summer autumn fall winter season
    hour hours day days century after before until once since during following ago"""
)


def tells_time(text: str) -> bool:
    """The text gives a time: a number, a month or a day of the week, or a word of time."""
    return bool(re.search(r"\d", text) or set(words(text)) & (_TIME_WORDS | CALENDAR) or word_numbers(text))


# a question that asks for a time from its first words: not "Who went with her when she visited?", nor
# "In which city was this year's ceremony held?"
_OPENS_WHEN = re.compile(
    r"\W*(?:(?:on|in|at|by|until|since|from)\s+)?"
    r"(?:when\b|(?:what|which)\s+(?:exact\s+)?(?:year|date|day|month|time|hour|season|week)s?\b)",
    re.I,
)
_ASKS_NAME = re.compile(r"\bwhat\s+(?:is|was|are|were)\s+the\s+names?\s+of\b", re.I)


def fits_question(claim: str, question: str) -> bool:
    """The claim is an answer of the kind asked, when the question asks for a name, an amount or a
    measure.

    "About 11:40 p.m." is no answer to how fast a train went, nor "travellers complained of long waits"
    to how long they waited, nor "March 4" to how many were hurt; "No one was hurt", "dozens", "at low
    speed" and "until at least Friday" are answers.
    """
    text = strip_markers(claim)
    if _ASKS_NAME.search(question) and not new_names(text, question):
        return False  # "the one that halted the trains" names no railroad
    if _OPENS_WHEN.match(question) and not tells_time(text):
        return False  # "Authorities gave no timetable for lifting the evacuation order" tells no time
    amount, measure = _ASKS_AMOUNT.search(question), _ASKS_MEASURE.search(question)
    if amount is None and measure is None:
        return True
    plain = _CLOCK.sub(" ", text)
    for d in [d.group(0) for d in _FIGURE_OR_DATE.finditer(plain) if value_kind(d.group(0)) == "date"]:
        plain = plain.replace(d, " ")
    said = set(words(plain))
    if values(plain, question) or said & _AMOUNT_WORDS or "no one" in fold(plain):
        return True
    if amount is not None or values(text, question):
        return False  # no amount; or the claim's only numbers are a clock time or a date
    return measure.group(1).lower() not in said
