"""Tests for qa.ingest: formats, cleaning, the guarded mojibake repair, skips and stable ids."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from qa.config import PROJECT_ROOT
from qa.errors import IngestError
from qa.ingest import clean_text, parse_bytes, read_articles

ARTICLES = PROJECT_ROOT / "articles"
CAPTION = "About 6,000 people are making their way through Mexico on their way to the U.S. border"


@pytest.fixture(scope="module")
def corpus():
    return read_articles([ARTICLES])


def test_default_corpus_loads_every_file(corpus):
    assert not corpus.skipped
    assert len(corpus.articles) == len(list(ARTICLES.glob("*.txt")))


def test_mojibake_repaired_on_default_corpus(corpus):
    raw = "".join(p.read_text(encoding="utf-8") for p in ARTICLES.glob("*.txt"))
    assert "LĂł" in raw and "PadrĂłn" in raw  # the damage is really in the input
    text = "\n".join(a.text for a in corpus.articles)
    assert "López" in text and "Padrón" in text
    assert "LĂł" not in text and "Ă" not in text


@pytest.mark.parametrize(
    "word",
    [
        "López",
        "Padrón",
        "Andrés Manuel López Obrador",
        "Dvořák",
        "Gdańsk",
        "Zażółć gęślą jaźń",
        "Příliš žluťoučký",
    ],
)
def test_cp1250_mojibake_repaired(word):
    damaged = word.encode("utf-8").decode("cp1250")
    assert damaged != word
    assert clean_text(damaged) == word


@pytest.mark.parametrize("word", ["Łódź", "română", "Ştefan", "Dvořák"])
def test_latin2_mojibake_with_control_chars_repaired(word):
    damaged = word.encode("utf-8").decode("iso-8859-2")
    assert clean_text(damaged) == word


def test_cp1252_mojibake_fixed_by_ftfy():
    assert clean_text("â€œquotedâ€\x9d") == "“quoted”"


@pytest.mark.parametrize(
    "correct",
    [
        "Ştefan cel Mare",
        "Łódź",
        "Dvořák",
        "română",
        "Kraków",
        "Příliš žluťoučký kůň úpěl ďábelské ódy",
        "Zażółć gęślą jaźń",
        "Grüße aus Köln, Äpfel und Öl",
        "Ça va, où êtes-vous? «élève» naïve",
        "CAFÉ” and DÉJÀ",
        "Ăsta e un test",
        "ÂNGELO ÎN ÎNTÂMPINARE",
    ],
)
def test_correct_text_unchanged(correct):
    assert clean_text(correct) == correct


def test_typographic_quotes_kept():
    assert clean_text("He said “hello” and ‘bye’.") == "He said “hello” and ‘bye’."
    assert clean_text("An “unbalanced quote.") == "An “unbalanced quote."


def test_caption_dedup_keeps_paragraphs(corpus):
    article = next(a for a in corpus.articles if CAPTION in a.text)
    assert article.text.count(CAPTION) == 1
    raw = next(p for p in ARTICLES.glob("*.txt") if CAPTION in p.read_text(encoding="utf-8"))
    assert raw.read_text(encoding="utf-8").count(CAPTION) == 2
    assert "\n\n" in article.text and "\n\n\n" not in article.text
    assert (
        article.title
        == "Blinken and Mayorkas visit Mexico as enormous caravan of migrants heads north from South America"
    )
    assert article.text.startswith(article.title + "\n\n")


def test_whitespace_normalised_and_repeats_dropped():
    raw = (
        "Title\r\n\r\n\r\n\r\nFirst   para\t here.  \r\nSame line\r\nSame line\r\n\r\nSame line\r\n\r\nOther."
    )
    assert clean_text(raw) == "Title\n\nFirst para here.\nSame line\n\nOther."


def test_repeats_not_adjacent_are_kept():
    assert clean_text("A.\n\nB.\n\nA.") == "A.\n\nB.\n\nA."


def test_markdown_title(tmp_path):
    (tmp_path / "note.md").write_text("\n\n# Big news  \n\nSomething happened today.\n", encoding="utf-8")
    [article] = read_articles([tmp_path]).articles
    assert article.title == "Big news"
    assert article.source == "note"
    assert article.published_at is None
    assert "Something happened today." in article.text


HTML = """<html><head><title>Storm hits coast | Daily Planet</title>
<meta property="og:site_name" content="Daily Planet">
<style>.x { color: red } STYLELEAK</style>
<script>var secret = "SCRIPTLEAK";</script></head>
<body><nav>Home | World | SCRIPTNAV</nav><article><h1>Storm hits coast</h1>
<p>A powerful storm hit the northern coast on Tuesday, damaging hundreds of homes and cutting power to
thousands of residents across the region.</p>
<script>document.write("SCRIPTLEAK2")</script>
<p>Officials said emergency crews were working through the night to restore electricity and clear roads
blocked by fallen trees.</p></article></body></html>"""


def test_html_extraction_without_scripts():
    [article] = parse_bytes("storm.html", HTML.encode())
    assert "powerful storm hit the northern coast" in article.text
    assert "restore electricity" in article.text
    for leak in ("SCRIPTLEAK", "STYLELEAK", "color: red", "<p>", "secret"):
        assert leak not in article.text
    assert "Storm hits coast" in article.title
    assert article.source == "Daily Planet"
    assert article.text.startswith(article.title)


def test_jsonl_with_bad_line(tmp_path, caplog):
    good = {
        "id": "a-1",
        "title": "Medals",
        "source": "Wire",
        "published_at": "2018-02-25",
        "url": "https://example.org/a",
        "text": "Norway won 39 medals.",
    }
    other = {
        "id": None,
        "title": None,
        "source": None,
        "text": "South Korea hosted the games in PyeongChang.",
    }
    lines = [json.dumps(good), "{not json", json.dumps({"id": "x"}), json.dumps(other)]
    path = tmp_path / "set.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="qa.ingest"):
        result = read_articles([path])
    assert [a.text for a in result.articles] == [good["text"], other["text"]]
    first = result.articles[0]
    assert (first.id, first.title, first.source, first.published_at, first.url) == (
        "a-1",
        "Medals",
        "Wire",
        "2018-02-25",
        "https://example.org/a",
    )
    assert result.articles[1].id and result.articles[1].title  # falls back to hash and first words
    reasons = " ".join(s.reason for s in result.skipped)
    assert "line 2" in reasons and "line 3" in reasons
    assert all(s.path == str(path) for s in result.skipped)
    assert "line 2" in caplog.text and str(path) in caplog.text


def test_real_benchmark_jsonl_parses():
    files = sorted(Path("/work/shared/benchmarks/rgb_en_fact").glob("*/small/articles.jsonl"))
    if not files:
        pytest.skip("benchmark files not present")
    result = read_articles([files[0]])
    expected = sum(1 for line in files[0].read_text(encoding="utf-8").splitlines() if line.strip())
    assert len(result.articles) + len(result.skipped) == expected
    assert result.articles and all(a.text for a in result.articles)


def test_unreadable_files_skipped_others_load(tmp_path, caplog):
    (tmp_path / "good.txt").write_text("Good title\n\nA fine article body.", encoding="utf-8")
    (tmp_path / "binary.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "blank.md").write_text("  \n\t\n  ", encoding="utf-8")
    (tmp_path / "garbage.txt").write_bytes(bytes(range(0x80, 0x100)) * 4)
    (tmp_path / "ignored.pdf").write_bytes(b"%PDF-1.4")
    with caplog.at_level(logging.WARNING, logger="qa.ingest"):
        result = read_articles([tmp_path])
    assert [a.title for a in result.articles] == ["Good title"]
    skipped = {Path(s.path).name: s.reason for s in result.skipped}
    assert set(skipped) == {"binary.txt", "empty.txt", "blank.md", "garbage.txt"}
    assert "binary" in skipped["binary.txt"]
    assert "empty" in skipped["empty.txt"] and "empty" in skipped["blank.md"]
    for name in skipped:
        assert name in caplog.text


def test_parse_bytes_raises_clear_errors():
    with pytest.raises(IngestError, match="empty"):
        parse_bytes("a.txt", b"   \n")
    with pytest.raises(IngestError, match="binary"):
        parse_bytes("a.txt", b"abc\x00def")
    with pytest.raises(IngestError, match="unsupported"):
        parse_bytes("a.docx", b"hello")


def test_missing_path_is_skipped(tmp_path):
    result = read_articles([tmp_path / "nope"])
    assert not result.articles and "no such" in result.skipped[0].reason


@pytest.mark.parametrize("encoding", ["cp1252", "latin-1"])
def test_legacy_encoding_decoded(tmp_path, encoding):
    body = "Café crème à la française. Le garçon était très âgé et naïf, déjà à la façade.\n" * 3
    text = "Résumé du jour\n\n" + body
    (tmp_path / "legacy.txt").write_bytes(text.encode(encoding))
    [article] = read_articles([tmp_path]).articles
    assert article.title == "Résumé du jour"
    assert "Café crème à la française" in article.text and "garçon était très âgé" in article.text


def test_ids_stable_and_duplicates_collapse(tmp_path):
    content = "Same title\n\nSame body text."
    (tmp_path / "a.txt").write_text(content, encoding="utf-8")
    (tmp_path / "b.txt").write_text(content, encoding="utf-8")
    (tmp_path / "c.txt").write_text(content + " Changed.", encoding="utf-8")
    first = read_articles([tmp_path])
    second = read_articles([tmp_path])
    assert [a.id for a in first.articles] == [a.id for a in second.articles]
    assert [Path(a.path).name for a in first.articles] == ["a.txt", "c.txt"]
    assert first.articles[0].id != first.articles[1].id
    assert len(first.articles[0].id) == 16 and int(first.articles[0].id, 16) >= 0
    [dup] = first.skipped
    assert Path(dup.path).name == "b.txt" and "duplicate of" in dup.reason and "a.txt" in dup.reason


def test_same_content_different_line_endings_same_id():
    a = parse_bytes("x.txt", b"Title\n\nBody here.")[0]
    b = parse_bytes("y.txt", b"\xef\xbb\xbfTitle\r\n\r\nBody  here.\r\n")[0]
    assert a.id == b.id and a.text == b.text
