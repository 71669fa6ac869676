"""Who published an article, and when: its outlet and date, for passages, citations and filters.

Readers judge a quote by where it comes from, so every article gets an outlet label, taken from the
best evidence available, in this order:

1. the article's own metadata: a JSONL record's ``source``/``published_at``/``url``; an HTML page's
   ``<meta>`` tags, read by trafilatura (site name, date, canonical URL); the domain of its URL;
2. a dateline or byline in the text: ``WASHINGTON (AP) —``, ``LONDON, Dec 27 (Reuters) -``,
   ``By the Associated Press``, ``By Jane Doe, Reuters``, ``Source: BBC News``, ``© 2023 Reuters``,
   and a date line such as ``Published 27 December 2023``;
3. the file name made readable (``bbc_caravan-report.txt`` → ``bbc caravan report``), when it has words;
4. the headline, shortened: the text names no outlet, and a file name made of a hash names nothing.

Names that a text only quotes ("CNN reported", "told the New York Times") are not taken as its outlet.

Example::

    >>> describe_text("WASHINGTON (AP) — The Senate voted on Tuesday.").source
    'AP'
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

# --------------------------------------------------------------------------------------------------
# Dates

_MONTHS = {
    name: n
    for n, names in enumerate(
        [
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ],
        start=1,
    )
    for name in names
}
_MONTH = r"(?P<month>" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_TEXT_DATES = [
    re.compile(r"\b(?P<year>(?:19|20)\d\d)-(?P<mon>\d\d)-(?P<day>\d\d)\b"),
    re.compile(_MONTH + r"\s+(?P<day>\d{1,2})(?:st|nd|rd|th)?,?\s+(?P<year>(?:19|20)\d\d)\b", re.I),
    re.compile(r"\b(?P<day>\d{1,2})(?:st|nd|rd|th)?\s+" + _MONTH + r",?\s+(?P<year>(?:19|20)\d\d)\b", re.I),
]


def _valid(year: int, month: int, day: int) -> str | None:
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        return None


def find_date(text: str) -> str | None:
    """The first full calendar date written in ``text`` ("Dec. 27, 2023", "27 December 2023",
    "2023-12-27"), as an ISO date."""
    found: list[tuple[int, str]] = []
    for pattern in _TEXT_DATES:
        for m in pattern.finditer(text):
            g = m.groupdict()
            month = int(g["mon"]) if g.get("mon") else _MONTHS[g["month"].lower()]
            iso = _valid(int(g["year"]), month, int(g["day"]))
            if iso:
                found.append((m.start(), iso))
                break
    return min(found)[1] if found else None


def iso_date(value: object) -> str | None:
    """A published date as ``YYYY-MM-DD`` (what the date filters compare), or None when there is none.

    Accepts ISO dates and timestamps (``2023-12-27T10:00:00Z``), Unix seconds, and written dates
    ("Dec. 27, 2023"). A value that names no calendar date gives None rather than a wrong date."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        try:
            return datetime.fromtimestamp(float(value)).date().isoformat() if 0 < value < 4e9 else None
        except (OverflowError, OSError, ValueError):
            return None
    text = str(value).strip()
    if not text:
        return None
    try:
        return datetime.fromisoformat(text).date().isoformat()
    except ValueError:
        pass
    return find_date(text[:200])


# --------------------------------------------------------------------------------------------------
# Outlets


def outlet_from_url(url: str | None) -> str | None:
    """The registrable domain of a URL (``https://edition.cnn.com/x`` → ``cnn.com``), or None."""
    if not url or not isinstance(url, str):
        return None
    import courlan

    try:
        domain = courlan.extract_domain(url.strip())
    except Exception:  # courlan raises assorted errors on malformed URLs; the URL is just not usable
        return None
    if not domain or "." not in domain:
        return None
    return domain.lower()


_NAME = r"[A-Z][\w&.'’-]*(?:[ \t]+(?:of[ \t]+|the[ \t]+|and[ \t]+|&[ \t]+)?[A-Z][\w&.'’-]*){0,5}"
# "WASHINGTON (AP) —", "LONDON, Dec 27 (Reuters) -", "(Reuters) -": the agency in brackets before a dash.
_PLACE = r"(?:[A-Z][A-Z .'’/-]{1,40}(?:,[ \t]*[A-Z][A-Za-z .]{1,30})?(?:,[ \t]*[A-Za-z]{3,9}\.?[ \t]+\d{1,2})?[ \t]*)?"
_DATELINE = re.compile(r"^" + _PLACE + r"\((?P<outlet>" + _NAME + r")\)[ \t]*(?:[-—–:]|--)", re.M)
# "By the Associated Press", "By Reuters", "By Jane Doe, Reuters", "By Jane Doe | CNN",
# "By Jane Doe for the Daily Mail", "By Jane Doe, The Guardian"
_BY_OUTLET = re.compile(r"^By[ \t]+the[ \t]+(?P<outlet>" + _NAME + r")[ \t]*[.,;|]?[ \t]*$", re.M)
_BY_ONE_WORD = re.compile(r"^By[ \t]+(?P<outlet>[A-Z][\w&.-]+)[ \t]*[.,;|]?[ \t]*$", re.M)
_BY_PERSON_OUTLET = re.compile(
    r"^By[ \t]+"
    + _NAME
    + r"(?:[ \t]*(?:,|\||/|—|–|-)[ \t]*|[ \t]+(?:for|of)[ \t]+)(?:the[ \t]+)?(?P<outlet>"
    + _NAME
    + r")[ \t]*\.?[ \t]*$",
    re.M,
)
_SOURCE_LINE = re.compile(
    r"^(?i:Source|Publisher|Published by|Originally published (?:by|in|at))[ \t]*:?[ \t]+(?:the[ \t]+)?(?P<outlet>"
    + _NAME
    + r")",
    re.M,
)
_COPYRIGHT = re.compile(
    r"(?:©|\(c\)|Copyright)[ \t]*(?:(?:19|20)\d\d[ \t]*)?(?:[-–][ \t]*(?:19|20)\d\d[ \t]*)?(?P<outlet>"
    + _NAME
    + r")"
)
_DATE_LABEL = re.compile(r"^(?:Published|Updated|Posted|First published)\b", re.I)
_NOT_OUTLETS = frozenset(
    {
        "updated",
        "published",
        "posted",
        "photo",
        "file",
        "video",
        "ap photo",
        "reuters photo",
        "pictured",
        "above",
    }
)


@dataclass(frozen=True)
class TextMetadata:
    source: str | None = None
    published_at: str | None = None


def _clean_outlet(name: str | None) -> str | None:
    if not name:
        return None
    name = re.split(r"\.\s", " ".join(name.split()))[0].strip(" .,;:|-—–")  # "Press. All rights…"
    if len(name) < 2 or len(name) > 60 or name.lower() in _NOT_OUTLETS:
        return None
    return name


def _head_and_tail(text: str, head: int = 6, tail: int = 4) -> tuple[str, str]:
    lines = [line.strip() for line in text.split("\n") if line.strip()]
    # Long lines are paragraphs; a dateline only counts at the start of one, so keep their first 200 chars.
    lines = [line[:200] for line in lines]
    return "\n".join(lines[:head]), "\n".join(lines[-tail:] if len(lines) > head else [])


def describe_text(text: str) -> TextMetadata:
    """Outlet and date from a dateline, byline, source or copyright line near the start or end of ``text``.

    Only the first few and last few lines are read: that is where bylines and datelines sit, and a name
    further in is far more likely quoted ("CNN reported") than the publisher."""
    head, tail = _head_and_tail(text)
    source = None
    for pattern, where in (
        (_DATELINE, head),
        (_BY_OUTLET, head),
        (_BY_PERSON_OUTLET, head),
        (_BY_ONE_WORD, head),
        (_SOURCE_LINE, head + "\n" + tail),
        (_COPYRIGHT, head + "\n" + tail),
    ):
        m = pattern.search(where)
        if m and (source := _clean_outlet(m.group("outlet"))):
            break
    published = None
    for line in head.split("\n"):
        # A date line ("Published 27 December 2023", or a short line holding little but a date); a date
        # inside a sentence is an event, not the publication.
        if (_DATE_LABEL.match(line) or len(line) <= 40) and (published := find_date(line)):
            break
    return TextMetadata(source, published)


# --------------------------------------------------------------------------------------------------
# File names and headlines

_HASHLIKE = re.compile(
    r"^(?=[0-9a-f]*\d)[0-9a-f]{6,}$|^\d+$|^[0-9a-f]{8}(?:-[0-9a-f]{4}){3}-[0-9a-f]{12}$", re.I
)


def readable_file_name(name: str | None) -> str | None:
    """A file name as words (``bbc_caravan-report.txt`` → ``bbc caravan report``), or None when nothing but
    numbers and hashes is left (``000_f201e7d1f3c5cdc5.txt``)."""
    if not name:
        return None
    stem = Path(name).name
    for _ in range(2):  # "a.tar.gz"-like double suffixes
        stem = (
            Path(stem).stem
            if Path(stem).suffix.lower() in {".txt", ".md", ".html", ".htm", ".jsonl", ".gz"}
            else stem
        )
    words = [w for w in re.split(r"[\s_.\-+]+", stem) if w and not _HASHLIKE.match(w)]
    if not any(sum(ch.isalpha() for ch in w) >= 2 for w in words):
        return None
    return " ".join(words)


def short_headline(title: str, limit: int = 60) -> str:
    """The headline cut at a word boundary, for an article whose outlet nothing names."""
    title = " ".join(title.split())
    if len(title) <= limit:
        return title
    return title[:limit].rsplit(" ", 1)[0].rstrip(" ,;:—–-") + "…"


# --------------------------------------------------------------------------------------------------
# Putting it together


@dataclass(frozen=True)
class Provenance:
    source: str  # never empty, never a hash
    published_at: str | None  # ISO date
    url: str | None


def provenance(
    *,
    text: str,
    title: str,
    path: str | None,
    source: object = None,
    published_at: object = None,
    url: object = None,
) -> Provenance:
    """Outlet, date and URL of one article from its own metadata (``source``, ``published_at``, ``url``,
    any of them possibly missing or junk), else from its text, else its file name, else its headline."""
    url_text = url.strip() if isinstance(url, str) and url.strip() else None
    outlet = _clean_outlet(source) if isinstance(source, str) else None
    date_ = iso_date(published_at)
    if outlet is None or date_ is None:
        found = describe_text(text)
        outlet = outlet or outlet_from_url(url_text) or found.source
        date_ = date_ or found.published_at
    outlet = outlet or readable_file_name(path) or short_headline(title) or "untitled article"
    date_ = date_ or (find_date(Path(path).name) if path else None)  # "2023-12-27-caravan.txt"
    return Provenance(outlet, date_, url_text)


def names_an_outlet(source: str, title: str) -> bool:
    """False when ``source`` is only the headline standing in for an outlet that nothing names."""
    return not (source and title and title.startswith(source.rstrip("…")))


def byline(source: str, title: str, published_at: str | None) -> str:
    """What to print beside a headline: ``"Reuters, 2023-12-27"``; without the outlet when the source is
    only the headline again (the default articles), so a display never shows the headline twice."""
    parts = [source] if names_an_outlet(source, title) else []
    if published_at:
        parts.append(published_at[:10])
    return ", ".join(parts)
