"""The question's specific terms (names, ids, numbers) and whether the evidence contains them.

A question about "Zorvik016" is not answered by a passage about "Zorvik004", however close the two are
in embedding space: an exact name or number of the question that the passages lack means no answer.
Pure functions over strings, so every decision has a unit test without a model.

>>> sorted(specific_terms("What is the population of Zorvik016 in 2023?"))
['2023', 'zorvik016']
>>> sorted(missing_terms("What is the population of Zorvik016?", "Zorvik004 has 578,814 people."))
['zorvik016']
"""

from __future__ import annotations

import json
import os
import re
from functools import cache

from qa.errors import QAError
from qa.grounding.text import fold, numbers, published_date, years


def _split(text: str) -> list[str]:
    return text.split()


# Function words (bm25s's English list plus the rest of the usual closed classes), question words, and
# words a question starts with that are never names ("Name the…", "According to…").
STOPWORDS = frozenset(
    _split(
        """a an and are as at be but by for if in into is it no not of on or such that the their then there
    these they this to was will with or nor so than too very s t just also up out down off again further
    once only own same other some any all each both few most more many much about above across after
    against along among around before behind below beneath beside besides between beyond during except
    inside near over since through throughout toward towards under until upon within without via per
    been being am do does did done doing has have had having would shall should can could may might must
    its he she him his her hers them theirs our ours we you your yours i me my mine us it's who's
    here where whereas whether while yet whose said says say according tell told from what's"""
    )
)
QUESTION_WORDS = frozenset(_split("what which who whom whose when where why how"))
# Imperatives and adverbs that open a question with a capital letter without being names.
OPENERS = frozenset(
    _split(
        """name list give tell describe explain compare find show identify summarize summarise provide state
    please approximately roughly exactly overall besides apart following regarding concerning considering
    given beyond excluding including except"""
    )
)
# Month and day names are paraphrased ("first 11 months" for "January to November"): not specific.
CALENDAR = frozenset(
    _split(
        """january february march april may june july august september october november december jan feb mar
    apr jun jul aug sep sept oct nov dec monday tuesday wednesday thursday friday saturday sunday"""
    )
)

WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)?", re.UNICODE)
NUMBER = re.compile(r"(?<![\w.])(\d{1,3}(?:[,\u202f\u00a0 ]\d{3})+|\d+)(?:\.(\d+))?(?!\w)")
ORDINALS = {
    w: str(i)
    for i, w in enumerate(
        _split("first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth"), 1
    )
}
MIN_FUZZY_LENGTH = 7  # a one-letter typo is forgiven only in longer purely alphabetic names ("Blinkin")


@cache
def _stemmer():  # type: ignore[no-untyped-def]
    import Stemmer  # PyStemmer, already a dependency of the BM25 index

    return Stemmer.Stemmer("english")


def _bare(word: str) -> str:
    """``mexico's`` → ``mexico``: a possessive is the same name."""
    return word[:-2] if word.endswith("'s") else word


def words(text: str) -> list[str]:
    """Folded words, possessives stripped."""
    return [_bare(w) for w in WORD.findall(fold(text))]


def stems(text: str) -> set[str]:
    """Stemmed content words (no stopwords, no question words)."""
    ws = [w for w in words(text) if w not in STOPWORDS and w not in QUESTION_WORDS]
    return set(_stemmer().stemWords(ws))


def is_identifier(term: str) -> bool:
    """Letters and digits in one token ("Zorvik016", "F16", "covid19"): an id, matched exactly."""
    return any(c.isdigit() for c in term) and any(c.isalpha() for c in term)


def _is_name(token: str, first: bool) -> bool:
    f = _bare(fold(token))
    if len(f) < 2 or f in STOPWORDS or f in QUESTION_WORDS or f in CALENDAR:
        return False
    if is_identifier(f):
        return True  # ids are specific in any case and in any position
    if not token[:1].isupper():
        return False
    if not first:
        return True
    # Every question starts with a capital: the first word is a name only when it is no common word
    # ("Blinken met whom?", not "Sanctions on which countries…?").
    return f not in OPENERS and f not in _lexicon()


@cache
def _lexicon() -> frozenset[str]:
    """Common English words: the whole words of BERT's uncased WordPiece vocabulary (MiniLM's copy).

    It also holds frequent names ("David", "Mexico"); such a first word is then not required, which
    errs towards answering, as before.
    """
    try:
        from qa.embed import DEFAULT_EMBEDDER, model_path

        lines = (model_path(DEFAULT_EMBEDDER) / "vocab.txt").read_text(encoding="utf-8").split()
    except (OSError, ImportError, QAError):
        return frozenset(STOPWORDS)  # without it, a capitalised first word that is no stopword counts
    return frozenset(w for w in lines if w.isalpha())


@cache
def _nationalities() -> dict[str, frozenset[tuple[str, ...]]]:
    """A country's name and its people's name stand for each other in news: "the French election" is
    about France, "Mexico's president" is the Mexican one. Word → the other forms, as word tuples, from
    countryinfo's table of 250 countries (MIT); ISO codes ("FR") are no names.
    """
    from importlib.util import find_spec
    from pathlib import Path

    spec = find_spec("countryinfo")
    if spec is None or spec.origin is None:
        return {}
    out: dict[str, set[tuple[str, ...]]] = {}
    for path in sorted((Path(spec.origin).parent / "data").glob("*.json")):
        try:
            country = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        people = tuple(words(country.get("demonym") or ""))
        if not people:
            continue
        codes = {str(c) for c in (country.get("ISO") or {}).values()}
        names = [country.get("name") or "", *(country.get("altSpellings") or [])]
        forms = {tuple(words(n)) for n in names if n and n not in codes} - {()}
        for form in forms:
            if len(form) == 1:
                out.setdefault(form[0], set()).add(people)
        if len(people) == 1:
            out.setdefault(people[0], set()).update(forms)
    return {k: frozenset(v) for k, v in out.items()}


MIN_ROOT_PREFIX = 6  # "presidential" is about a "president", "parliamentary" a "parliament"


def _same_root(term: str, word: str) -> bool:
    """One common word formed from the other: a shared start of six letters or more that is most of
    the shorter word."""
    n = len(os.path.commonprefix([term, word]))
    return n >= MIN_ROOT_PREFIX and n >= 0.75 * min(len(term), len(word))


def name_runs(question: str) -> list[list[str]]:
    """The question's names as written together: "Golden Globe Awards", "Blinken" (as written)."""
    runs: list[list[str]] = []
    last = -2
    for i, tok in enumerate(WORD.findall(question)):
        if tok[:1].isdigit() or not _is_name(tok, first=i == 0):
            continue
        if i == last + 1 and runs:
            runs[-1].append(tok)
        else:
            runs.append([tok])
        last = i
    return runs


def unnamed(question: str, known: str) -> list[str]:
    """The question's names (as written together) of which ``known`` has not one word: "Brennick County
    Infirmary" in a sentence about "the hospital's chief executive" and an article about St Aldric's.
    One word is enough ("Skov" for "Renata Skov"); numbers and years are left to their own checks."""
    missing, named = missing_terms(question, known), specific_terms(question)
    return [
        " ".join(run)
        for run in name_runs(question)
        if all(w in missing for w in (_bare(fold(t)) for t in run) if w in named)
    ]


def specific_terms(question: str) -> set[str]:
    """Terms a passage must contain to answer the question: numbers written in digits, names and ids.

    Names are capitalised words (the first word too, unless it is a function word, a question word or an
    opener such as "Name"); ids mix letters and digits. Numbers written as words ("one of the two
    largest") are paraphrased too often to be required.
    """
    terms = {_canonical(m) for m in NUMBER.finditer(question)}
    for i, tok in enumerate(WORD.findall(question)):
        if tok[:1].isdigit() and not is_identifier(tok):
            continue  # a number: handled above
        if _is_name(tok, first=i == 0):
            terms.add(_bare(fold(tok)))
    return terms


def _canonical(m: re.Match[str]) -> str:
    whole = re.sub(r"[,\u202f\u00a0 ]", "", m.group(1)).lstrip("0") or "0"
    frac = (m.group(2) or "").rstrip("0")
    return whole + (f".{frac}" if frac else "")


def _close(a: str, b: str) -> bool:
    """Edit distance ≤ 1 (one typo)."""
    from rapidfuzz.distance import Levenshtein

    return Levenshtein.distance(a, b, score_cutoff=1) <= 1


def fuzzy_ok(term: str) -> bool:
    """Only long, purely alphabetic names forgive a typo: "Zorvik016" vs "Zorvik015" never matches."""
    return term.isalpha() and len(term) >= MIN_FUZZY_LENGTH


def term_in(term: str, ev_words: set[str], ev_stems: set[str], ev_numbers: set[str]) -> bool:
    """Whether one specific term occurs in evidence given as its words, stems and numbers."""
    if term[:1].isdigit() and not is_identifier(term):
        return term in ev_numbers
    if term in ev_words:
        return True
    if is_identifier(term):
        return False  # exact only
    if _stemmer().stemWord(term) in ev_stems:
        return True
    # "U.S." is written "US", "U.S." and "United States" interchangeably in news
    if term in {"us", "u"} and ({"us", "u"} & ev_words or "united" in ev_words):
        return True
    if any(set(form) <= ev_words for form in _nationalities().get(term, ())):
        return True  # "French" for an article that says "France"
    if term in _lexicon() and any(_same_root(term, w) for w in ev_words if w.isalpha()):
        return True  # a title-cased common word in another form: "Presidential" for "president"
    return fuzzy_ok(term) and any(
        _close(term, w) for w in ev_words if w.isalpha() and abs(len(w) - len(term)) <= 1
    )


def missing_terms(question: str, evidence: str) -> set[str]:
    """Specific terms of the question that the evidence lacks (typos forgiven in long names only)."""
    ev_words = set(words(evidence))
    ev_stems = set(_stemmer().stemWords(sorted(ev_words)))
    # "season 4" is "the fourth season" in an article
    ev_numbers = numbers(evidence) | {ORDINALS[w] for w in ev_words if w in ORDINALS}
    missing = {t for t in specific_terms(question) if not term_in(t, ev_words, ev_stems, ev_numbers)}
    # Title case makes names of common words, which news shortens: "the 77th Golden Globes" is the
    # "Golden Globe Awards", "Valhalla" is "Assassin's Creed Valhalla". A name of several words is there
    # when half of them are, or one of its rare words is, and every missing one is a common word; its
    # rare words ("Zorvik", "Blinken") are always required, and so is a place: the "British Open" is not
    # the "US Open", nor the "French Open".
    places = _nationalities().keys()
    for run in name_runs(question):
        folded = [_bare(fold(t)) for t in run]
        # title case only ("Awards"): an acronym ("AR") or a mixed-case name is always required
        common = {f for t, f in zip(run, folded, strict=True) if t[1:].islower()} & _lexicon() - places
        gone = missing.intersection(folded)
        rare_here = any(f not in _lexicon() and f not in missing for f in folded)
        if len(run) >= 2 and gone and (2 * len(gone) <= len(run) or rare_here) and gone <= common:
            missing -= gone
    return missing


MIN_RESPELL_RATIO = 80.0  # "soldirs" → "soldiers" (93), "imigration" → "immigration" (95)


def respell(question: str, evidence: str) -> str:
    """The question with each misspelt word replaced by the evidence's closest word, for scoring only.

    The cross-encoder gives "how many soldirs did mexico asign to imigration" a probability of 0 against
    the sentence that answers it; spelled right, near 1. Only words of four letters or more that the
    evidence lacks are touched, never numbers or ids, and never for the gate: a question about "Jonson"
    is still checked for "Jonson" (``missing_terms``).
    """
    from rapidfuzz import fuzz, process

    vocab = {w for w in words(evidence) if len(w) >= 4 and w.isalpha()}
    if not vocab:
        return question
    known = vocab | set(_stemmer().stemWords(sorted(vocab)))
    out = question
    for m in reversed(list(WORD.finditer(question))):
        w = _bare(fold(m.group(0)))
        if len(w) < 4 or not w.isalpha() or w in STOPWORDS or w in QUESTION_WORDS:
            continue
        if w in known or _stemmer().stemWord(w) in known:
            continue
        found = process.extractOne(w, vocab, scorer=fuzz.ratio, score_cutoff=MIN_RESPELL_RATIO)
        if found is not None:
            fixed = found[0].capitalize() if m.group(0)[:1].isupper() else found[0]
            out = out[: m.start()] + fixed + out[m.end() :]
    return out


def coverage(question: str, evidence: str) -> float:
    """Share of the question's content stems found in the evidence; 0 when a specific term is missing.

    One shared word is not relevance: "the population of Zorvik999" shares "population" with every town,
    so a question of two or more content words needs at least two of them in the evidence.
    """
    q = stems(question)
    if not q:
        return 1.0
    if missing_terms(question, evidence):
        return 0.0
    shared = len(q & stems(evidence))
    if len(q) >= 2 and shared < 2:
        return 0.0
    return shared / len(q)


# Words that make a name of common words another work: "… Ocarina of Time Re-Arranged Album", "…:
# Definitive Edition". Only these: most words after a name are its role or its event ("Australian Open
# Champion", "US Open Women's Singles Championship"), not another entity.
_DERIVED = frozenset(
    _split(
        """album albums soundtrack soundtracks ost edition editions remaster remastered remake remakes sequel
    prequel reboot spinoff spin trailer teaser dlc expansion collection trilogy anthology bundle demo beta
    port remix remixes deluxe definitive anniversary arranged rearranged reissue"""
    )
)
_CONNECTORS = frozenset(_split("of the and de del la le"))  # inside titles: "The Lord of the Rings"
_JOINS = re.compile(r"\s*[:\-–—]?\s*")  # what may stand between two words of one name
_INITIAL_JOIN = re.compile(r"\.\s*")  # "U.S. Open"
_SHORT_PART = re.compile(r"(?:[A-Z]|[IVX]{2,}|\d{1,3}|\d?[A-Z]{1,2}\d?)")  # "X", "III", "2", "3D"


def _title_runs(text: str) -> list[list[str]]:
    """Capitalised runs as written, joined by "of"/"the"/":" ("The Legend of Zelda: Ocarina of Time")."""
    runs: list[list[str]] = []
    current: list[str] = []
    pending: list[str] = []  # connectors waiting for the next capitalised word
    end = 0
    for m in WORD.finditer(text):
        tok = m.group(0)
        gap = text[end : m.start()]
        joined = _JOINS.fullmatch(gap) is not None or (
            len(current[-1:][0] if current else "") == 1 and _INITIAL_JOIN.fullmatch(gap) is not None
        )
        end = m.end()
        if current and not joined:
            runs.append(current)
            current, pending = [], []
        if tok[:1].isupper() or tok[:1].isdigit():
            current += [*pending, tok] if current else [tok]
            pending = []
        elif current and tok.casefold() in _CONNECTORS:
            pending.append(tok)
        elif current:
            runs.append(current)
            current, pending = [], []
    if current:
        runs.append(current)
    return runs


def names_another_entity(question: str, sentence: str) -> bool:
    """The sentence names the question's name of several words only as part of another one.

    "The Legend of Zelda: Ocarina of Time Re-Arranged Album" is an album, not the game asked about;
    "Xenoblade Chronicles" (the 2010 game) is not "Xenoblade Chronicles X". A name followed by a
    short part (a letter, numeral or number) or a word of a derived work ("Album", "Edition") that the
    question lacks, or a name without the short part the question gives right after it, is another
    work. A person, role or event after the name ("Apple CEO Tim Cook", "US Open Women's Singles
    Championship") is not.
    """
    q_tokens = WORD.findall(question)
    q_folded = [_bare(fold(t)) for t in q_tokens]
    q_stems = stems(question)
    named = specific_terms(question)
    stem = _stemmer().stemWord
    other = plain = False
    for run in _title_runs(sentence):
        folded = [_bare(fold(t)) for t in run]
        shared = [
            i
            for i, f in enumerate(folded)
            if len(f) > 1 and f.isalpha() and f not in STOPWORDS and stem(f) in q_stems
        ]
        # a name of the question's, not a label of common words ("Release Date:10/27/2017")
        if len(shared) < 2 or not any(folded[i] in named or folded[i] not in _lexicon() for i in shared):
            continue
        j = shared[-1]
        tail = folded[j + 1 :]
        extended = any(
            (_SHORT_PART.fullmatch(t) or f in _DERIVED) and f not in q_folded
            for t, f in zip(run[j + 1 :], tail, strict=True)
        )
        # the question's name goes on with a short part right after a shared word ("… Chronicles X
        # released", "Saltmarsh Crown II be released"), which the sentence's name lacks
        cut = False
        for i in shared:
            for k in (k + 1 for k, f in enumerate(q_folded) if f == folded[i]):
                after = q_tokens[k] if k < len(q_tokens) else ""
                ends = k + 1 >= len(q_tokens) or not q_tokens[k + 1][:1].isupper()  # not "U" of "U.S."
                if after and ends and _SHORT_PART.fullmatch(after) and fold(after) not in folded:
                    cut = True
        if extended or cut:
            other = True
        else:
            plain = True
    return other and not plain


# Words that move what follows to another time or holder: "the next Avengers movie", "the former
# Soviet Union". ("new" is not one: "the new CEO" is the CEO.)
_SHIFTS = frozenset(_split("former previous next upcoming outgoing future ex then prior"))


def shifted(question: str, sentence: str) -> bool:
    """The sentence speaks of the asked thing at another time or in other hands, as the question does not.

    "The next Avengers movie, The Kang Dynasty, will be directed by Destin Daniel Cretton" says who
    directs the next film, not who directed "The Avengers". Only the question's names count: a shifted
    role ("took over from former CEO Steve Jobs") leaves the rest of the sentence about the asked
    thing. A question that asks about another time itself ("the next Avengers film") is not shifted.
    """
    asked = set(words(question))
    names = specific_terms(question)  # the asked work or body itself, not a role ("former CEO Steve Jobs")
    tokens = words(sentence)
    for i, w in enumerate(tokens):
        if w in _SHIFTS and w not in asked:
            after = [t for t in tokens[i + 1 : i + 4] if t not in STOPWORDS]
            if any(t in names for t in after[:2]):
                return True
    return False


# "Who did the transport minister visit?": after "who" and an auxiliary, the wh-word is the object and
# what follows opens the subject, whom the question already names.
_OBJECT_QUESTION = re.compile(
    r"^\W*(?:who|whom)\s+(?:did|does|do|will|would|could|can|should|has|have|had)\s+(.+)", re.I | re.S
)
_DETERMINERS = frozenset(_split("the a an"))


def asked_subject(question: str, claim: str, sentence: str) -> bool:
    """The claim names the one the question asks about, not the one it asks for.

    "Who did the transport minister visit?" is not answered by "Transport Minister Aurelie Danske", nor
    by "Aurelie Danske" cited to "Transport Minister Aurelie Danske … visited Wielke"; "Who did Blinken
    meet?" is not answered by "Antony Blinken". The subject is found by position only: the words right
    after the auxiliary must be the title the claim or the sentence gives the name.
    """
    m = _OBJECT_QUESTION.match(question)
    if not m:
        return False
    raw = WORD.findall(m.group(1))
    while raw and fold(raw[0]) in _DETERMINERS:
        raw = raw[1:]
    rest = [_bare(fold(t)) for t in raw]
    said = words(claim)
    if not rest or not said:
        return False

    def opens_subject(title: list[str]) -> bool:
        """A role the question writes in lower case ("the transport minister visit"), whole: not the
        "President" of "President Biden", nor the "Manchester" of "Manchester United"."""
        n = len(title)
        return (
            0 < n < len(raw)
            and title[-1] not in STOPWORDS
            and rest[:n] == title
            and all(t.islower() for t in raw[: n + 1])
        )

    # the name the subject is: the claim ends with it ("Antony Blinken" for "Blinken")
    if any(said[-k:] == rest[:k] and said[-1] not in STOPWORDS for k in range(1, len(said) + 1)):
        return True
    # the claim gives the subject's title before a name: "Transport Minister Aurelie Danske"
    if any(opens_subject(said[:k]) for k in range(1, len(said))):
        return True
    # the sentence does: "In the afternoon, Transport Minister Aurelie Danske, accompanied by …"
    at = fold(sentence).find(fold(claim))
    if at <= 0:
        return False
    before = re.split(r"[^\w\s'’-]", sentence[:at].rstrip())[-1]  # a title stops at punctuation
    title: list[str] = []
    for w in reversed(words(before)):
        if w in STOPWORDS:
            break
        title.insert(0, w)
    return opens_subject(title)


def _title_before(sentence: str, claim: str) -> list[str]:
    """The lower-case title a sentence writes right before the claim's name: "chief executive" in
    "Stonecrest chief executive Harlan Pruett", nothing in "President Joe Biden"."""
    at = fold(sentence).find(fold(claim))
    if at <= 0:
        return []
    before = re.split(r"[^\w\s'’-]", sentence[:at].rstrip())[-1]  # a title stops at punctuation
    title: list[str] = []
    for t in reversed(WORD.findall(before)):
        if not t.islower() or fold(t) in STOPWORDS:
            break
        title.insert(0, fold(t))
    return title


# someone the question refers to by a role, after a preposition: "with Stonecrest's chief executive"
_REFERRED = r"\b(?:with|by|to|for|from|against|alongside|beside|besides|than|under|behind)\s+(?:the|its|his|her|their|[\w'’-]+['’]s)\s+"


def role_referent(question: str, claim: str, sentence: str) -> bool:
    """The claim is someone the question refers to by a role, not the one it asks for.

    "Who attended the hearing with Stonecrest's chief executive?" is not answered by "Harlan Pruett",
    whom the sentence calls "Stonecrest chief executive Harlan Pruett". Only a role the question writes
    after a preposition counts: in "Who was named the new chief executive?" the role is what is asked.
    """
    title = _title_before(sentence, claim)
    asked = fold(asked_role(question))
    if not title or (asked and asked in title):
        return False
    q = fold(question)
    return any(re.search(_REFERRED + re.escape(" ".join(title[i:])) + r"\b", q) for i in range(len(title)))


_CAP = r"[A-Z][\w'’.&-]*(?:\s+[A-Z][\w'’.&-]*)*"  # a run of capitalised words: "Tallow Bay"
_ROLE = r"(?:[a-z]+|[A-Z]{2,4})"  # a lower-case word or an acronym: "mayor", "CEO"
_ROLE_OF = re.compile(
    rf"\b((?:{_ROLE}\s+){{0,2}}{_ROLE})\s+of\s+(?:the\s+)?({_CAP})"
)  # the mayor of Tallow Bay
_ROLE_POSSESSED = re.compile(rf"({_CAP})['’]s\s+((?:{_ROLE}\s+){{0,2}}{_ROLE})")  # Tallow Bay's mayor
ROLE_REACH = 40  # characters between a name and the role given to it: "Harwick's mayor, Tobias Lenk"


def role_elsewhere(question: str, claim: str, sentence: str) -> bool:
    """The sentence gives the answer the asked role of another holder than the question's.

    "Who is the mayor of Tallow Bay?" is not answered by "Harwick's mayor, Tobias Lenk", nor "Who is
    the president of Nintendo?" by "Nintendo of America's president, Doug Bowser". Only a role written
    right beside the name counts, and the holders are compared by their words.
    """
    asked: list[tuple[str, set[str]]] = []
    for m in _ROLE_OF.finditer(question):
        asked.append((fold(m.group(1).split()[-1]), set(words(m.group(2)))))
    for m in _ROLE_POSSESSED.finditer(question):
        asked.append((fold(m.group(2).split()[0]), set(words(m.group(1)))))
    asked = [(role, owner) for role, owner in asked if role not in STOPWORDS and owner - STOPWORDS]
    at = fold(sentence).find(fold(claim))
    if not asked or at < 0:
        return False
    near = (max(0, at - ROLE_REACH), at + len(claim) + ROLE_REACH)
    for role, owner in asked:
        found = [
            (h.start(), set(words(h.group(1))))
            for h in re.finditer(rf"({_CAP})['’]s\s+(?:{_ROLE}\s+){{0,2}}(?i:{re.escape(role)})\b", sentence)
        ] + [
            (h.start(), set(words(h.group(1))))
            for h in re.finditer(rf"\b(?i:{re.escape(role)})\s+of\s+(?:the\s+)?({_CAP})", sentence)
        ]
        if any(near[0] <= start <= near[1] and not holder & owner for start, holder in found):
            return True
    return False


# A window of time other than the article's present: "in its first week", "last year's final". ("This
# year" is the article's own time, which its date gives.)
_WINDOW = re.compile(
    r"\b(first|last|next|opening|final|previous|second|third|fourth)\s+"
    r"(?:(?:\d+|a|two|three|four|five|six|seven|eight|nine|ten|twelve|24|48|72)\s+)?"  # "first six hours"
    r"(day|days|week|weeks|weekend|month|months|quarter|year|years|season|half|decade|night|hour|hours)\b",
    re.I,
)


def window_unstated(question: str, evidence: str, published: str | None = None) -> set[str]:
    """The windows of time the question asks about that the evidence does not name.

    "How many copies did it sell in its first week?" is not answered by "It has sold more than 3.2
    million copies", nor "How many people were treated at last year's festival?" by this year's count:
    the window's unit ("week", "year") must be in the evidence, as an asked year must. A year may be
    written as a number: for "last year" or "next year", the one before or after the article's
    ``published`` date (any year when the date is unknown).
    """
    said, found = set(words(evidence)), years(evidence)
    missing = set()
    for m in _WINDOW.finditer(question):
        which, unit = fold(m.group(1)), fold(m.group(2)).rstrip("s")
        if unit in said or unit + "s" in said:
            continue
        if unit == "year" and found:
            year = int(published[:4]) if published and published[:4].isdigit() else None
            shift = {"last": -1, "previous": -1, "next": 1}.get(which)
            if year is None or shift is None or str(year + shift) in found:
                continue
        missing.add(unit)
    return missing


def earlier_years(asked: set[str], article: str, published: str | None) -> set[str]:
    """The asked years that an undated sentence of this article is not about: years its article
    names apart, two or more years before it was written.

    News tells what happened lately; an earlier year it names is another event ("The same cutting was
    hit by a smaller rockslide in 2011", "In 2023 the regulator fined the company $900,000"), so its
    undated sentences ("injuring at least 14 people") answer nothing about that year. The year before
    publication is spared: a January report on "the 2025 season" tells of it in undated sentences. An
    article without a date, or one that never names the asked year, decides nothing here.
    """
    date = published_date(published)
    if date is None:
        return set()
    return {y for y in asked & years(article) if int(y) <= date.year - 2}


# "Who is the lead actress in …", "Who was the safety officer of …": a role asked for by its noun
_ROLE_QUESTION = re.compile(
    r"^\W*(?i:who)\s+(?:is|was|were|are|will\s+be|has\s+been|had\s+been)\s+(?:the|a|an)\s+"
    r"((?:[a-z][\w-]*|[A-Z]{2,5})(?:\s+(?:[a-z][\w-]*|[A-Z]{2,5}))*)"
)


def asked_role(question: str) -> str:
    """The noun of the role a "who is the …" question asks for ("actress" for "Who is the lead actress
    in The Shape of Water?", "master" for "master of ceremonies"), or "" for any other question."""
    m = _ROLE_QUESTION.match(question)
    if not m:
        return ""
    role = []
    for w in m.group(1).split():
        if fold(w) in STOPWORDS:
            break
        role.append(w)
    return role[-1] if role and not role[-1].endswith(("ing", "ed")) else ""


# A non-restrictive relative clause: ", which is based in Port Ellery," describes the words before it.
_RELATIVE = re.compile(r",\s+(?:which|who|whose|whom)\b[^,;:()—–]*(?=,)")


def clause_of_another(question: str, claim: str, sentence: str) -> bool:
    """The claim is said, in a relative clause, of another than the question's subject.

    "Where is Corven Water headquartered?" is not answered by "The commission, which is based in Port
    Ellery, found that Corven Water …": the clause describes the commission. Only when the words before
    the clause name none of the question's names and the rest of the sentence names them all.
    """
    asked = {t for t in specific_terms(question) if not t[:1].isdigit()}
    at = fold(sentence).find(fold(claim.strip(" .")))
    if not asked or at < 0:
        return False
    for m in _RELATIVE.finditer(sentence):
        if not m.start() < at < m.end():
            continue
        before = re.split(r"[,;:()—–]", sentence[: m.start()])[-1]
        rest = sentence[: m.start()] + sentence[m.end() :]
        return not asked & set(words(before)) and asked <= set(words(rest))
    return False


# "the fourth edition", "its 12th season": which instance of a recurring event
_ORDINAL_NOUN = re.compile(rf"\b({'|'.join(ORDINALS)}|\d{{1,3}}(?:st|nd|rd|th))\s+([^\W\d_]+)", re.I)


def _instance(ordinal: str, noun: str) -> tuple[str, str]:
    """("fourth", "edition") → ("4", stem of "edition")."""
    return ORDINALS.get(fold(ordinal), ordinal[:-2]), _stemmer().stemWord(fold(noun))


def _instances(text: str) -> dict[str, set[str]]:
    """Stem of each noun an ordinal is given to → those ordinals, as numbers ("third edition")."""
    found: dict[str, set[str]] = {}
    for ordinal, noun in _ORDINAL_NOUN.findall(text):
        n, stemmed = _instance(ordinal, noun)
        found.setdefault(stemmed, set()).add(n)
    return found


def other_instance(question: str, evidence: str, lead: str) -> set[str]:
    """The instances the question asks about ("fourth edition") that the evidence is not about.

    A sentence that numbers another ("its third edition") is about that one; one that numbers none is
    about the instance its article's lead tells of: "The festival was announced on March 4", in an
    article whose lead says the festival "returned for its third edition", is not when the fourth
    edition was announced. With no lead (a snippet), nothing is decided here.
    """
    stated, told = _instances(evidence), _instances(lead)
    missing = set()
    for m in _ORDINAL_NOUN.finditer(question):
        n, noun = _instance(m.group(1), m.group(2))
        here = stated.get(noun) or told.get(noun)
        if here and n not in here:
            missing.add(m.group(0))
    return missing


# "How old is Ilse Varga?", "What is the age of the plant manager?": whose age is asked
_AGE_QUESTION = re.compile(
    r"^\W*(?:how\s+old\s+(?:is|was|are|were|will\s+\w+\s+be)|what\s+(?:is|was)\s+(?:the\s+)?age\s+of)\s+"
    r"(?P<who>[^?]+?)\s*\??\s*$",
    re.I,
)
# An age as news writes it: "Colm Driscoll, 52,", "aged 52", "52 years old", "a 52-year-old", "(52)"
_APPOSED_AGE = re.compile(
    r"((?:[A-Z][\w'’.-]*\s+)*[A-Z][\w'’.-]*),\s+(\d{1,3})(?=[,;)]|\s+(?:and|said|says|is|was|will|who)\b)"
)
_AGE_FORM = re.compile(
    r"\baged\s+(\d{1,3})\b|\b(\d{1,3})(?:\s+years?\s+old\b|-years?-old\b)|\((\d{1,3})\)|,\s+(\d{1,3})(?=[,;)])"
)
# characters before a name that may hold the title a question asks by: "Plant manager Colm Driscoll"
AGE_REACH = 60
_CLAUSE_END = re.compile(r"[,;:!?()]|(?<=[a-z]{2}[.!?])\s")  # a title runs up to its name in one clause


_NAME_JOINS = frozenset(_split("of de del la le von van der al"))  # "Secretary of State", not "and"


def _title_run(text: str) -> list[str]:
    """The words right before a name that title it, back to the first other word: "Plant manager Colm"
    of "… said. Plant manager Colm", "US Secretary of State Antony J." but nothing of "with Mayorkas and"."""
    run: list[str] = []
    for w in reversed(words(text)):
        if w in STOPWORDS and w not in _NAME_JOINS:
            break
        run.insert(0, w)
    return run


def age_of_another(question: str, figure: str, sentence: str, article: str) -> str | None:
    """Why a figure is no answer to "How old is X?", or None.

    An age is written in one of a few forms, and the apposed one ("Blinken, 61, will meet … alongside
    Alejandro Mayorkas") belongs to the name before it: not to Mayorkas, nor to the chief executive when
    it follows "Plant manager Colm Driscoll". The name is the asked one when it shares a word with the
    question, or when its article writes half of the question's words as its title ("US Secretary of
    State Antony J. Blinken" for the age of the Secretary of State).
    """
    m = _AGE_QUESTION.match(question)
    if not m:
        return None
    own = numbers(figure)
    if not own:
        return None  # no figure to bind: the other checks decide
    ages = {next(g for g in a.groups() if g) for a in _AGE_FORM.finditer(sentence)}
    if not own & ages:
        return "the figure is no age the sentence gives"  # "employs 340 people" for how old
    who = m.group("who")
    asked = {w for w in words(who) if w not in STOPWORDS}
    for a in _APPOSED_AGE.finditer(sentence):
        if a.group(2) not in own:
            continue  # another's age, not the claim's
        name = a.group(1)
        named = [w for w in words(name) if w not in STOPWORDS]
        if not named or asked & set(named):
            return None
        # the article calls this person by the question's words: "Plant manager Colm Driscoll"
        surname = re.escape(name.split()[-1])
        for hit in re.finditer(rf"\b{surname}\b", article):
            title = _title_run(_CLAUSE_END.split(article[max(0, hit.start() - AGE_REACH) : hit.start()])[-1])
            if len(asked & set(title)) * 2 >= len(asked):
                return None
        return f"the sentence gives the age of {name}"
    return None


def titled_otherwise(question: str, claim: str, sentence: str) -> bool:
    """The sentence titles the claim's name with another role than the one asked, and never writes the
    asked one: "Kirkbride manager Harold Imrie" is no answer to who is Kirkbride's chairman. (Without a
    title, or with the asked role anywhere in the sentence, the other checks decide.)"""
    role = asked_role(question)
    title = _title_before(sentence, claim)
    if not role or not title:
        return False
    asked = _stemmer().stemWord(fold(role))
    return asked not in stems(" ".join(title)) and asked not in stems(sentence)


def misattributed(question: str, claim: str, sentence: str, article: str = "") -> str | None:
    """Why the sentence's ``claim`` is not the one asked for, or None: it is whom the question asks
    about, someone it refers to by a role, another's holder of the asked role, named in a clause about
    another, or another's age (read with the sentence's ``article``)."""
    if asked_subject(question, claim, sentence):
        return "it names whom the question asks about, not for"
    if role_referent(question, claim, sentence):
        return "it names someone the question refers to by a role"
    if role_elsewhere(question, claim, sentence):
        return "the sentence gives it the role of another"
    if titled_otherwise(question, claim, sentence):
        return "the sentence gives it another role"
    if clause_of_another(question, claim, sentence):
        return "the sentence says it of another, in a relative clause"
    return age_of_another(question, claim, sentence, article or sentence)
