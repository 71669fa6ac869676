"""Read news articles from files into cleaned, stable :class:`~qa.types.Article` records.

One job: bytes in, articles out. Chunking lives in :mod:`qa.chunk`.

Supported formats: ``.txt``, ``.md``, ``.html``/``.htm`` and ``.jsonl`` (one article per line with the
keys ``id, title, source, published_at, url, text``). A file that cannot be read is skipped with a
reason (and a warning on the ``qa.ingest`` logger); one bad file never aborts a read.

Example::

    result = read_articles(["articles"])
    for skipped in result.skipped:
        print(skipped.path, skipped.reason)
"""

from __future__ import annotations

import codecs
import hashlib
import json
import logging
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import ftfy

from qa.errors import IngestError
from qa.metadata import provenance
from qa.types import Article

log = logging.getLogger("qa.ingest")

TEXT_EXTENSIONS = frozenset({".txt", ".md"})
HTML_EXTENSIONS = frozenset({".html", ".htm"})
JSONL_EXTENSIONS = frozenset({".jsonl"})
SUPPORTED_EXTENSIONS = TEXT_EXTENSIONS | HTML_EXTENSIONS | JSONL_EXTENSIONS


@dataclass(frozen=True)
class SkippedFile:
    path: str
    reason: str


@dataclass(frozen=True)
class IngestResult:
    articles: list[Article] = field(default_factory=list)
    skipped: list[SkippedFile] = field(default_factory=list)


# --------------------------------------------------------------------------------------------------
# Decoding


def decode_bytes(data: bytes) -> str:
    """Decode file bytes to text, or raise :class:`IngestError` saying why it is not text.

    UTF-16 and UTF-32 are recognised by their byte-order mark (Windows "Unicode" text files carry one),
    or, for UTF-16 without one, by NUL bytes in every other position of mostly-ASCII text.
    Then UTF-8 (with or without BOM). Otherwise charset-normalizer proposes candidates; when the
    Windows-1252 family is among them it wins, because the corpus is English news and the detector
    tends to rank cp1257/cp1250 first on short Western texts ("crème" would become "crčme").
    """
    if not data.strip():
        raise IngestError("the file is empty")
    wide = _decode_wide(data)
    if wide is not None:
        text = wide
    elif b"\x00" in data[:8192]:
        raise IngestError("the file looks binary (it contains NUL bytes), not text")
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = _decode_legacy(data)
    if _looks_binary(text):
        raise IngestError("the file looks binary (mostly non-text characters), not text")
    if not text.strip():
        raise IngestError("the file contains only whitespace")
    return text


# UTF-32 before UTF-16: the UTF-32-LE mark begins with the UTF-16-LE one.
_WIDE_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def _decode_wide(data: bytes) -> str | None:
    """UTF-16/UTF-32 text, or None when ``data`` is not in one of them."""
    for bom, codec in _WIDE_BOMS:
        if data.startswith(bom):
            try:
                return data.decode(codec)
            except UnicodeDecodeError as exc:
                raise IngestError(
                    f"the file starts with a {codec.upper()} byte-order mark but is not {codec.upper()}"
                ) from exc
    sample = data[:8192]
    if len(sample) >= 8:
        half = len(sample) // 2
        even_nul, odd_nul = sample[0::2].count(0) / half, sample[1::2].count(0) / half
        for codec, nul_share, other_share in (
            ("utf-16-le", odd_nul, even_nul),
            ("utf-16-be", even_nul, odd_nul),
        ):
            if nul_share > 0.9 and other_share < 0.05:
                try:
                    return data.decode(codec)
                except UnicodeDecodeError:
                    return None
    return None


def _decode_legacy(data: bytes) -> str:
    import charset_normalizer

    matches = charset_normalizer.from_bytes(data)
    encodings = [m.encoding for m in matches]
    for preferred in ("cp1252", "latin_1"):
        if preferred in encodings:
            try:
                return data.decode(preferred)
            except UnicodeDecodeError:
                continue
    best = matches.best()
    if best is None:
        raise IngestError("the file is not UTF-8 and its text encoding could not be detected")
    return str(best)


def _looks_binary(text: str) -> bool:
    sample = text[:8192]
    if not sample:
        return False
    bad = sum(1 for ch in sample if unicodedata.category(ch) in ("Cc", "Co", "Cs") and ch not in "\n\r\t\f")
    bad += sample.count("\ufffd")
    return bad / len(sample) > 0.05


# --------------------------------------------------------------------------------------------------
# Cleaning

# Characters that a UTF-8 lead byte (0xC2-0xEF) turns into when read as cp1250 / ISO-8859-2.
_LEAD_CHARS = frozenset(
    bytes(range(0xC2, 0xF0)).decode("cp1250", errors="ignore")
    + bytes(range(0xC2, 0xF0)).decode("iso-8859-2", errors="ignore")
)
# A run of non-ASCII characters inside a word: the only place this kind of damage can hide.
_NON_ASCII_RUN = re.compile(r"[^\x00-\x7f\s]+")
_FTFY_CONFIG = ftfy.TextFixerConfig(uncurl_quotes=False)


def _plausible_repair(original: str, repaired: str) -> bool:
    """A repaired run must be shorter (two or three damaged chars become one letter), free of
    replacement chars, and made only of Latin letters."""
    if not repaired or len(repaired) >= len(original) or "\ufffd" in repaired:
        return False
    return all(ch.isalpha() and "\u00c0" <= ch <= "\u024f" for ch in repaired)


def _case_anomalies(before: str, repaired: str) -> int:
    """Upper-case letters straight after a lower-case one ("JosÊ"): a sign the wrong codec was used."""
    context = before + repaired
    offset = len(before)
    return sum(
        1
        for i, ch in enumerate(repaired)
        if ch.isupper() and offset + i > 0 and context[offset + i - 1].islower()
    )


def _repair_runs(text: str, codecs: tuple[str, ...]) -> str:
    def repair(match: re.Match[str]) -> str:
        run = match.group(0)
        if not any(ch in _LEAD_CHARS for ch in run):
            return run
        before = text[max(match.start() - 1, 0) : match.start()]
        candidates: list[tuple[int, int, str]] = []
        for rank, codec in enumerate(codecs):
            try:
                repaired = run.encode(codec).decode("utf-8")
            except (UnicodeEncodeError, UnicodeDecodeError):
                continue
            anomalies = _case_anomalies(before, repaired)
            if _plausible_repair(run, repaired) and anomalies <= _case_anomalies(before, run):
                candidates.append((anomalies, rank, repaired))
        return min(candidates)[2] if candidates else run

    return _NON_ASCII_RUN.sub(repair, text)


def repair_central_european_mojibake(text: str) -> str:
    """Undo UTF-8 that was decoded as cp1250/ISO-8859-2 (``LĂłpez`` → ``López``), guardedly.

    ftfy does not handle this codec pair. Each run of non-ASCII characters that contains a character a
    UTF-8 lead byte maps to is re-encoded and decoded as UTF-8; the repair is kept only when it decodes
    strictly into fewer Latin letters without adding case oddities ("JosÊ"); cp1250 is tried first
    unless C1 control characters show ISO-8859-2. Genuine Czech, Polish or Romanian text ("Dvořák",
    "Łódź", "Ştefan") does not form valid UTF-8 byte sequences, so it stays unchanged.
    """
    # C1 control characters can only come from ISO-8859-2 (cp1250 maps those bytes to printable
    # characters), so their presence decides which codec is tried first.
    iso_first = re.search("[\x80-\x9f]", text) is not None
    codecs = ("iso-8859-2", "cp1250") if iso_first else ("cp1250", "iso-8859-2")
    return _repair_runs(text, codecs)


_SPACES = re.compile(r"[^\S\n]+")


def _normalise_whitespace(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _drop_repeated_lines(text: str) -> str:
    """Drop a line that exactly repeats the previous non-empty line (duplicated photo captions)."""
    paragraphs: list[str] = []
    previous: str | None = None
    for paragraph in text.split("\n\n"):
        kept: list[str] = []
        for line in paragraph.split("\n"):
            if line and line == previous:
                continue
            kept.append(line)
            previous = line
        if any(kept):
            paragraphs.append("\n".join(kept))
    return "\n\n".join(paragraphs)


def clean_text(raw: str) -> str:
    """Return article text fixed for encoding damage, with tidy whitespace and no repeated lines.

    Steps: ftfy (mojibake such as ``â€œ`` becomes ``“``); the guarded cp1250 repair above; whitespace
    (``\\r\\n`` → ``\\n``, runs of spaces/tabs collapsed, lines stripped, paragraphs separated by exactly
    one blank line, single line breaks kept); a line equal to the one just before it is dropped.

    Quotes: typographic quotes are kept as they are (they are part of the verbatim text that citations
    quote back); only broken ones produced by encoding damage are fixed, and unbalanced quotes are left
    alone, since guessing where a quote should close would alter the article.
    """
    text = ftfy.fix_text(raw, _FTFY_CONFIG)
    text = repair_central_european_mojibake(text)
    text = _normalise_whitespace(text)
    return _drop_repeated_lines(text)


# --------------------------------------------------------------------------------------------------
# Parsing


def article_id(title: str, text: str) -> str:
    """Stable id: the first 16 hex digits of sha256 over the cleaned title and text."""
    return hashlib.sha256(f"{title}\n{text}".encode()).hexdigest()[:16]


# A longer first line is a paragraph (or a 2 MB line without newlines), not a headline: titles travel
# with every passage and citation, so they are cut. Real headlines stay whole, and so do their ids.
MAX_TITLE_CHARS = 300


def _cut_title(title: str, limit: int = MAX_TITLE_CHARS) -> str:
    if len(title) <= limit:
        return title
    return title[:limit].rsplit(" ", 1)[0].rstrip(" ,;:")[:limit] + "…"


def _first_line_title(text: str, limit: int = MAX_TITLE_CHARS) -> str:
    first = next((line for line in text.split("\n") if line.strip()), "")
    return _cut_title(first.lstrip("#").strip(), limit)


def _short_title(text: str, limit: int = 80) -> str:
    """A title for a record that has none: its first line, cut at a word boundary."""
    return _first_line_title(text, limit)


def _parse_plain(name: str, data: bytes) -> list[Article]:
    text = clean_text(decode_bytes(data))
    if not text:
        raise IngestError("the file has no text after cleaning")
    title = _first_line_title(text)
    meta = provenance(text=text, title=title, path=name)
    # text keeps the title line, so offsets into the file's text stay simple.
    return [
        Article(
            id=article_id(title, text),
            title=title,
            source=meta.source,
            published_at=meta.published_at,
            url=meta.url,
            text=text,
            path=name,
        )
    ]


def _parse_html(name: str, data: bytes) -> list[Article]:
    import trafilatura

    html = decode_bytes(data)
    options = {"include_comments": False, "with_metadata": True}
    doc = trafilatura.bare_extraction(html, favor_precision=True, **options)
    if doc is None or not (doc.text or "").strip():
        doc = trafilatura.bare_extraction(html, favor_recall=True, **options)
    if doc is None or not (doc.text or "").strip():
        raise IngestError("no article text could be found in the HTML")
    body = clean_text(doc.text)
    title = _cut_title(clean_text(doc.title or "").replace("\n", " ")) or _first_line_title(body)
    # Keep the title as the first line, as for plain text (trafilatura often already puts it there).
    text = body if body.split("\n", 1)[0].strip() == title else f"{title}\n\n{body}"
    # trafilatura reads <meta> tags, JSON-LD and bylines: site name, date (htmldate), canonical URL.
    meta = provenance(
        text=text, title=title, path=name, source=doc.sitename, published_at=doc.date, url=doc.url
    )
    return [
        Article(
            id=article_id(title, text),
            title=title,
            source=meta.source,
            published_at=meta.published_at,
            url=meta.url,
            text=text,
            path=name,
        )
    ]


def _optional_str(value: object) -> str | None:
    if value is None:
        return None
    value = str(value).strip()
    return value or None


# An article record is one object of strings: two levels of nesting are plenty. Deeper lines are
# refused before parsing, because json.loads recurses once per level (100,000 "[" is a RecursionError).
MAX_JSON_DEPTH = 32
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_JSON_BRACKET = re.compile(r"[\[\]{}]")


def json_depth(line: str) -> int:
    """The deepest nesting of arrays and objects in a JSON text, without parsing it."""
    depth = deepest = 0
    for m in _JSON_BRACKET.finditer(_JSON_STRING.sub('""', line)):
        depth += 1 if m.group(0) in "[{" else -1
        deepest = max(deepest, depth)
    return deepest


def _int_or_float(digits: str) -> int | float:
    """Python refuses ints of over 4,300 digits; such a number in a field nobody reads must not cost
    the article."""
    return int(digits) if len(digits) <= 4000 else float(digits)


def _load_record(line: str) -> dict:
    """One JSONL line as a dict, or ValueError saying what is wrong with it."""
    depth = json_depth(line)
    if depth > MAX_JSON_DEPTH:
        raise ValueError(
            f"the line nests arrays or objects {depth:,} levels deep (the limit is {MAX_JSON_DEPTH})"
        )
    try:
        record = json.loads(line, parse_int=_int_or_float)
    except RecursionError:  # the depth check should make this unreachable; never let it escape
        raise ValueError("the line nests arrays or objects too deeply") from None
    if not isinstance(record, dict):
        raise ValueError("the line is not a JSON object")
    return record


def _parse_jsonl(name: str, data: bytes, *, on_bad_line=None) -> list[Article]:
    """One article per line. The record's own ``id`` is kept when present (benchmarks refer to it);
    otherwise the content hash is used. A bad line is reported through ``on_bad_line(lineno, reason)``
    and skipped."""
    articles: list[Article] = []
    for lineno, line in enumerate(decode_bytes(data).splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = _load_record(line)
            raw_text = record.get("text")
            if not isinstance(raw_text, str) or not raw_text.strip():
                raise ValueError("the line has no 'text'")
            text = clean_text(raw_text)
            raw_title = record.get("title")
            title = _cut_title(clean_text(raw_title if isinstance(raw_title, str) else "").replace("\n", " "))
            title = title or _short_title(text)
            meta = provenance(
                text=text,
                title=title,
                path=name,
                source=record.get("source"),
                published_at=record.get("published_at"),
                url=record.get("url"),
            )
            raw_id = record.get("id")
            own_id = (
                _optional_str(raw_id)
                if isinstance(raw_id, str | int) and not isinstance(raw_id, bool)
                else None
            )
            articles.append(
                Article(
                    id=own_id or article_id(title, text),
                    title=title,
                    source=meta.source,
                    published_at=meta.published_at,
                    url=meta.url,
                    text=text,
                    path=name,
                )
            )
        except ValueError as exc:  # json.JSONDecodeError is a ValueError
            reason = f"line {lineno}: {exc}"
            if on_bad_line is None:
                log.warning("%s: skipped %s", name, reason)
            else:
                on_bad_line(lineno, reason)
    if not articles:
        raise IngestError("the JSONL file has no readable article lines")
    return articles


def parse_bytes(name: str, data: bytes) -> list[Article]:
    """Parse one file's bytes (format chosen by the extension of ``name``) into articles.

    Raises :class:`IngestError` with a user-readable reason when the input cannot be read. Bad lines of
    a JSONL file are skipped with a warning naming the file and line number.
    """
    suffix = Path(name).suffix.lower()
    if suffix in TEXT_EXTENSIONS:
        return _parse_plain(name, data)
    if suffix in HTML_EXTENSIONS:
        return _parse_html(name, data)
    if suffix in JSONL_EXTENSIONS:
        return _parse_jsonl(name, data)
    allowed = ", ".join(sorted(SUPPORTED_EXTENSIONS))
    raise IngestError(f"unsupported file type {suffix or '(none)'!r}; use one of {allowed}")


# --------------------------------------------------------------------------------------------------
# Reading files


def _expand(paths: Iterable[str | Path], skipped: list[SkippedFile]) -> list[Path]:
    files: list[Path] = []
    for p in paths:
        path = Path(p)
        if path.is_dir():
            files.extend(
                sorted(f for f in path.rglob("*") if f.is_file() and f.suffix.lower() in SUPPORTED_EXTENSIONS)
            )
        elif path.is_file():
            files.append(path)
        else:
            skipped.append(SkippedFile(str(path), "no such file or folder"))
    return files


def _skip(skipped: list[SkippedFile], path: str, reason: str) -> None:
    log.warning("skipped %s: %s", path, reason)
    skipped.append(SkippedFile(path, reason))


def read_articles(paths: Iterable[str | Path]) -> IngestResult:
    """Read every supported file under ``paths`` (folders are searched recursively, in sorted order).

    Unreadable files, bad JSONL lines and duplicates (same id as an article read before, e.g. the same
    content under another file name) are skipped, logged, and listed in ``IngestResult.skipped``.
    """
    skipped: list[SkippedFile] = []
    articles: list[Article] = []
    seen: dict[str, str] = {}
    files = _expand(paths, skipped)
    for s in skipped:
        log.warning("skipped %s: %s", s.path, s.reason)
    for file in files:
        name = str(file)
        try:
            data = file.read_bytes()
        except OSError as exc:
            _skip(skipped, name, f"cannot be read ({exc.strerror or exc})")
            continue
        try:
            if file.suffix.lower() in JSONL_EXTENSIONS:
                parsed = _parse_jsonl(
                    name, data, on_bad_line=lambda _n, reason, name=name: _skip(skipped, name, reason)
                )
            else:
                parsed = parse_bytes(name, data)
        except IngestError as exc:
            _skip(skipped, name, str(exc))
            continue
        except Exception as exc:  # a parser bug must not abort the whole read
            _skip(skipped, name, f"could not be parsed ({type(exc).__name__}: {exc})")
            continue
        for article in parsed:
            if article.id in seen:
                _skip(skipped, name, f"duplicate of {seen[article.id]}")
                continue
            seen[article.id] = name
            articles.append(article)
    return IngestResult(articles=articles, skipped=skipped)
