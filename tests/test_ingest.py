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
ARTICLE_000_TITLE = (
    "Blinken and Mayorkas visit Mexico as enormous caravan of migrants heads north from South America"
)
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


# --------------------------------------------------------------------------------------------------
# Wide encodings (issue 13: UTF-16 with a BOM was refused as binary)

WIDE_TEXT = "Résumé of the day\n\nThe caravan of about 6,000 migrants reached Tapachula — “slowly”.\n"


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le", "utf-32-be"])
def test_utf16_and_utf32_with_bom_decode(encoding):
    bom = {
        "utf-16-le": b"\xff\xfe",
        "utf-16-be": b"\xfe\xff",
        "utf-32-le": b"\xff\xfe\x00\x00",
        "utf-32-be": b"\x00\x00\xfe\xff",
    }.get(encoding, b"")  # plain "utf-16"/"utf-32" write their own BOM
    [article] = parse_bytes("wide.txt", bom + WIDE_TEXT.encode(encoding))
    assert article.title == "Résumé of the day"
    assert "“slowly”" in article.text and "\ufeff" not in article.text


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_utf16_without_bom_decodes(encoding):
    [article] = parse_bytes("wide.txt", WIDE_TEXT.encode(encoding))
    assert article.text.startswith("Résumé of the day")


def test_utf16_same_id_as_utf8():
    assert (
        parse_bytes("a.txt", WIDE_TEXT.encode("utf-16"))[0].id
        == parse_bytes("b.txt", WIDE_TEXT.encode())[0].id
    )


def test_nul_bytes_without_a_wide_encoding_are_still_binary():
    with pytest.raises(IngestError, match="binary"):
        parse_bytes("a.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4)
    with pytest.raises(IngestError, match="UTF-16"):
        parse_bytes("a.txt", b"\xff\xfe" + b"\x00\xd8")  # a BOM, then a lone surrogate


# --------------------------------------------------------------------------------------------------
# Pathological JSON (issue 13: 100,000 nested "[" raised an uncaught RecursionError)

GOOD_RECORD = {"title": "Caravan", "source": "Wire", "text": "About 6,000 migrants walked north."}


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("[" * 100_000, "100,000 levels deep"),
        ('{"a":' * 50_000 + "1" + "}" * 50_000, "50,000 levels deep"),
        ('{"text": "x", "deep": ' + "[" * 5000 + "]" * 5000 + "}", "5,001 levels deep"),
        ("[" * 100_000 + '"', "levels deep"),  # and unterminated
        ("1" * 10_000, "not a JSON object"),
        ('"' + "a" * 100_000, "line 2"),  # unterminated string
        ("{" + '"k": 1, ' * 10_000, "line 2"),
    ],
)
def test_pathological_json_lines_are_skipped_per_line(tmp_path, line, reason):
    path = tmp_path / "bad.jsonl"
    path.write_text(
        json.dumps(GOOD_RECORD) + "\n" + line + "\n" + json.dumps(GOOD_RECORD | {"id": "b"}) + "\n"
    )
    result = read_articles([path])
    assert [a.id for a in result.articles][1:] == ["b"] and len(result.articles) == 2
    [skip] = result.skipped
    assert "line 2" in skip.reason and reason in skip.reason
    assert "RecursionError" not in skip.reason


def test_deep_nesting_through_parse_bytes_is_an_ingest_error_not_a_recursion_error():
    with pytest.raises(IngestError, match="no readable article lines"):
        parse_bytes("up.jsonl", b"[" * 100_000)


def test_strings_full_of_brackets_are_not_nesting():
    record = GOOD_RECORD | {"text": "Brackets [[[[ " + "[" * 1000 + " and {{{ " + '\\" [' * 50 + " are text."}
    [article] = parse_bytes("ok.jsonl", json.dumps(record).encode())
    assert article.text.startswith("Brackets [[[[")


def test_huge_numbers_and_odd_field_types_do_not_cost_the_article():
    line = (
        '{"id": ["not", "an", "id"], "title": 12, "source": {"x": 1}, "published_at": "yesterday", '
        '"url": 5, "big": '
        + "9" * 20_000
        + ', "float": 1e999999, "nan": NaN, "text": "Migrants walked north."}'
    )
    [article] = parse_bytes("odd.jsonl", line.encode())
    assert article.text == "Migrants walked north."
    assert len(article.id) == 16  # the content hash, since the record's id is not a string
    assert article.title == "Migrants walked north."
    assert article.published_at is None and article.url is None
    assert article.source == "odd"  # the file name, since the record's source is not text


# --------------------------------------------------------------------------------------------------
# Outlet and date (issue 12: sources had no names; a file stem or hash was shown instead)


def test_default_articles_have_readable_sources_and_stable_ids(corpus):
    by_file = {Path(a.path).name: a for a in corpus.articles}
    # ids depend on title and text only, so indexes and eval references stay valid
    assert by_file["000_f201e7d1f3c5cdc5.txt"].id == "c6e697781db253d9"
    assert by_file["002_88f978f23a18d0ab.txt"].id == "336b6ed0a5ae1603"
    for name, article in by_file.items():
        assert Path(name).stem not in article.source and "f201e7d1" not in article.source
        assert not any(ch.isdigit() for ch in article.source.split()[0])
        # neither text names its outlet ("CNN reported" quotes another outlet): the headline stands in
        assert article.title.startswith(article.source.rstrip("…"))
        assert "CNN" not in article.source
        assert len(article.source) <= 61
        assert article.published_at is None  # neither text states when it was published


def test_jsonl_metadata_wins_and_dates_become_iso(tmp_path):
    records = [
        {"id": "a", "source": "Wire", "published_at": "2023-12-27T10:00:00Z", "text": "WASHINGTON (AP) — A."},
        {"id": "b", "url": "https://edition.cnn.com/2023/12/27/x.html", "text": "Text without byline."},
        {"id": "c", "published_at": "Dec. 27, 2023", "text": "LONDON, Dec 27 (Reuters) - Oil rose."},
        {
            "id": "d",
            "text": "Caravan\nBy Jane Doe, The Guardian\nPublished 26 December 2023\nMigrants walked.",
        },
        {"id": "e", "text": "Nothing names anybody here."},
    ]
    path = tmp_path / "wire_feed.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in records), encoding="utf-8")
    got = {a.id: (a.source, a.published_at, a.url) for a in read_articles([path]).articles}
    assert got == {
        "a": ("Wire", "2023-12-27", None),
        "b": ("cnn.com", None, "https://edition.cnn.com/2023/12/27/x.html"),
        "c": ("Reuters", "2023-12-27", None),
        "d": ("The Guardian", "2023-12-26", None),
        "e": ("wire feed", None, None),
    }


@pytest.mark.parametrize(
    ("text", "source", "published"),
    [
        ("WASHINGTON (AP) — The Senate voted on Tuesday.", "AP", None),
        ("MEXICO CITY (AP) — Migrants rested.", "AP", None),
        ("TAPACHULA, Mexico (AP) — Migrants walked.", "AP", None),
        ("LONDON, Dec 27 (Reuters) - Britain's economy shrank.", "Reuters", None),
        ("(Reuters) - Oil prices rose.", "Reuters", None),
        ("Headline\n\nBy the Associated Press\n\nMigrants walked.", "Associated Press", None),
        ("Headline\nBy Reuters\nMigrants walked.", "Reuters", None),
        (
            "Headline\nBy Jane Doe for the Daily Mail\nUpdated: Dec. 27, 2023 10:14 EST\nText.",
            "Daily Mail",
            "2023-12-27",
        ),
        ("Headline\nBy Jane Doe | CNN\nText.", "CNN", None),
        ("Headline\nText body.\nSource: BBC News", "BBC News", None),
        (
            "Headline\nText body.\n© 2023 The Associated Press. All rights reserved.",
            "The Associated Press",
            None,
        ),
        # quoted outlets, persons and parentheses inside sentences are not the publisher
        ("Headline\nBy Jane Doe\nMigrants walked, CNN reported.", None, None),
        ("Headline\nThe senator (D-Calif.) — said things.", None, None),
        ("Headline\nBy Sunday, the caravan had left.", None, None),
        (
            "Biden will visit Mexico on Dec. 27, 2023, officials said, in a long headline sentence.",
            None,
            None,
        ),
    ],
)
def test_outlet_and_date_from_datelines_and_bylines(text, source, published):
    from qa.metadata import describe_text

    found = describe_text(text)
    assert (found.source, found.published_at) == (source, published)


@pytest.mark.parametrize(
    ("name", "source"),
    [
        ("bbc_caravan-report.txt", "bbc caravan report"),
        ("My Article.md", "My Article"),
        ("2023-12-27-reuters-oil.txt", "reuters oil"),
        ("000_f201e7d1f3c5cdc5.txt", "Only a headline"),
        ("a1b2c3d4-1111-2222-3333-444455556666.txt", "Only a headline"),
        ("12345.txt", "Only a headline"),
    ],
)
def test_file_name_made_readable_else_headline(name, source):
    [article] = parse_bytes(name, b"Only a headline\n\nSomething happened, said nobody in particular.")
    assert article.source == source


def test_date_from_file_name_when_nothing_else_has_one():
    [article] = parse_bytes("2023-12-27-reuters-oil.txt", b"Oil\n\nOil rose.")
    assert article.published_at == "2023-12-27"


HTML_META = """<html><head><title>Caravan reaches Chiapas</title>
<meta name="date" content="2023-12-27">
<link rel="canonical" href="https://www.apnews.com/article/caravan-chiapas">
</head><body><article><h1>Caravan reaches Chiapas</h1>
<p>A caravan of about 6,000 migrants reached the southern state of Chiapas on Tuesday, walking along the
highway in the heat while officials watched from a distance and said nothing about it.</p>
<p>Many of the migrants came from Central America and Venezuela and hoped to reach the United States
before the end of the year, according to organisers of the march.</p></article></body></html>"""


def test_html_meta_date_and_domain():
    [article] = parse_bytes("page-3f9a2b1c7d.html", HTML_META.encode())
    assert article.published_at == "2023-12-27"
    assert article.url == "https://www.apnews.com/article/caravan-chiapas"
    assert article.source == "apnews.com"


@pytest.mark.parametrize(
    ("value", "iso"),
    [
        ("2023-12-27", "2023-12-27"),
        ("2023-12-27T23:30:00+00:00", "2023-12-27"),
        ("27 December 2023", "2023-12-27"),
        ("December 27th, 2023", "2023-12-27"),
        ("2023-02-30", None),
        ("soon", None),
        ("", None),
        (True, None),
    ],
)
def test_iso_date(value, iso):
    from qa.metadata import iso_date

    assert iso_date(value) == iso


@pytest.mark.parametrize(
    ("source", "title", "published", "expected"),
    [
        ("Reuters", "Oil rises", "2023-12-27T10:00:00Z", "Reuters, 2023-12-27"),
        ("Reuters", "Oil rises", None, "Reuters"),
        ("Blinken and Mayorkas visit Mexico as enormous caravan of…", ARTICLE_000_TITLE, None, ""),
        ("Short headline", "Short headline", "2024-01-02", "2024-01-02"),
    ],
)
def test_byline_never_repeats_the_headline(source, title, published, expected):
    from qa.metadata import byline

    assert byline(source, title, published) == expected


def test_default_articles_bylines_are_empty_as_their_source_is_the_headline(corpus):
    from qa.metadata import byline, names_an_outlet

    for a in corpus.articles:
        assert not names_an_outlet(a.source, a.title)
        assert byline(a.source, a.title, a.published_at) == ""


def test_a_date_label_inside_a_fact_is_not_a_publication_date():
    from qa.metadata import describe_text

    # from a real search snippet: the draft's date, not the page's
    text = (
        "Date: Thursday, July 29, 2021. Location: Brooklyn, New York. Number of Picks: 60 (55 played in NBA)."
    )
    assert describe_text(text).published_at is None
