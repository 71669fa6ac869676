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

    UTF-8 (with or without BOM) first. Otherwise charset-normalizer proposes candidates; when the
    Windows-1252 family is among them it wins, because the corpus is English news and the detector
    tends to rank cp1257/cp1250 first on short Western texts ("crème" would become "crčme").
    """
    if not data.strip():
        raise IngestError("the file is empty")
    if b"\x00" in data[:8192]:
        raise IngestError("the file looks binary (it contains NUL bytes), not text")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = _decode_legacy(data)
    if _looks_binary(text):
        raise IngestError("the file looks binary (mostly non-text characters), not text")
    if not text.strip():
        raise IngestError("the file contains only whitespace")
    return text


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
    # text keeps the title line, so offsets into the file's text stay simple.
    return [
        Article(
            id=article_id(title, text),
            title=title,
            source=Path(name).stem,
            published_at=None,
            url=None,
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
    return [
        Article(
            id=article_id(title, text),
            title=title,
            source=(doc.sitename or "").strip() or Path(name).stem,
            published_at=doc.date or None,
            url=doc.url or None,
            text=text,
            path=name,
        )
    ]


def _optional_str(value: object) -> str | None:
    if value is None:
        return None
    value = str(value).strip()
    return value or None


def _parse_jsonl(name: str, data: bytes, *, on_bad_line=None) -> list[Article]:
    """One article per line. The record's own ``id`` is kept when present (benchmarks refer to it);
    otherwise the content hash is used. A bad line is reported through ``on_bad_line(lineno, reason)``
    and skipped."""
    articles: list[Article] = []
    for lineno, line in enumerate(decode_bytes(data).splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            if not isinstance(record, dict):
                raise ValueError("the line is not a JSON object")
            raw_text = record.get("text")
            if not isinstance(raw_text, str) or not raw_text.strip():
                raise ValueError("the line has no 'text'")
            text = clean_text(raw_text)
            title = _cut_title(clean_text(str(record.get("title") or "")).replace("\n", " "))
            articles.append(
                Article(
                    id=_optional_str(record.get("id")) or article_id(title, text),
                    title=title or _short_title(text),
                    source=_optional_str(record.get("source")) or Path(name).stem,
                    published_at=_optional_str(record.get("published_at")),
                    url=_optional_str(record.get("url")),
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
