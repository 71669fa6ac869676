"""Hybrid retrieval over the default corpus: quality, filters, scores, de-duplication, default retriever."""

from __future__ import annotations

import shutil
from dataclasses import replace

import numpy as np
import pytest

from qa.errors import QAError, QuestionError
from qa.retrieve import Retriever, UnknownSourceError, default_retriever, get_article, retrieve, rrf, unshared

# (question, a verbatim piece of the answer-bearing sentence)
QUESTIONS = [
    (
        "How many migrants are in the caravan making its way through Mexico?",
        "caravan of about 6,000 migrants",
    ),
    ("Where did another non-rail border crossing remain closed?", "Lukeville, Arizona"),
    ("How many migrants did Mexico detect moving through the country in 2023?", "680,000 migrants"),
    ("How many soldiers has Mexico assigned to enforce immigration laws?", "more than 32,000 soldiers"),
    ("How old is Antony Blinken?", "Blinken, 61"),
    ("How many asylum seekers set off for the US on Sunday?", "At least 8,000 asylum seekers"),
    ("How many people could the caravan swell to?", "swell to 15,000 people"),
    (
        "How many migrant encounters were there at the southern border since October 1?",
        "730,000 migrant encounters",
    ),
    ("Who said the Mexicans still have a relatively limited capacity?", "Earl Anthony Wayne"),
    ("When did the caravan leave Tapachula?", "Tapachula on December 24"),
    ("What sanctions did the Mexican president want reduced?", "sanctions on Cuba and Venezuela"),
    ("Why did one of Mexico's largest railroads halt its trains in September?", "over safety concerns"),
    ("What did Mexico agree to in May?", "Mexico agreed to accept migrants"),
    ("Who is the White House homeland security adviser attending the meeting?", "Liz Sherwood-Randall"),
    ("What did the White House fail to secure earlier this month?", "aid for Ukraine, Israel and the border"),
    ("How many people a day were Border Patrol agents encountering?", "more than 10,000 people a day"),
]


@pytest.mark.parametrize("question,quote", QUESTIONS, ids=[q for q, _ in QUESTIONS])
def test_answer_bearing_sentence_is_in_top_5(retriever, question, quote):
    passages = retriever.retrieve(question, k=5)
    assert any(quote in p.text for p in passages), [p.text[:80] for p in passages]


def test_passages_are_verbatim_slices_with_metadata(retriever):
    passages = retriever.retrieve("Blinken visit to Mexico City", k=5)
    assert len(passages) == 5
    for p in passages:
        article = retriever.get_article(p.article_id)
        assert article.text[p.start : p.end] == p.text
        assert p.title == article.title and p.source == article.source
    scores = [p.score for p in passages]
    assert scores == sorted(scores, reverse=True)


def test_every_passage_has_its_cosine(retriever, embedder):
    q = "Which railroad crossings did the U.S. close in Texas?"
    qv = embedder.encode([q])[0]
    for p in retriever.retrieve(q, k=6):
        cv = embedder.encode([p.text])[0]
        assert p.dense_score == pytest.approx(float(qv @ cv), abs=1e-4)
        assert -1.0 <= p.dense_score <= 1.0


def test_overlapping_chunks_are_deduplicated(retriever):
    passages = retriever.retrieve("migrants border Mexico", k=8)
    for i, a in enumerate(passages):
        for b in passages[i + 1 :]:
            assert a.article_id != b.article_id or a.end <= b.start or b.end <= a.start


def test_overlapping_chunks_keep_the_text_only_they_hold(retriever):
    """A neighbour that shares a sentence with a better-ranked chunk is cut to its own sentences, not
    dropped: each passage is still its article's text at its offsets, and no text is shown twice."""
    passages = retriever.retrieve("migrants border Mexico", k=12)
    for p in passages:
        assert p.text == retriever.get_article(p.article_id).text[p.start : p.end]
        assert p.text == p.text.strip()
    by_article: dict[str, list[tuple[int, int]]] = {}
    for p in passages:
        by_article.setdefault(p.article_id, []).append((p.start, p.end))
    assert any(len(v) > 1 for v in by_article.values())


@pytest.mark.parametrize(
    ("span", "taken", "left"),
    [
        ((0, 100), [], (0, 100)),
        ((0, 100), [(80, 200)], (0, 80)),  # the chunk after shares its last sentence
        ((100, 200), [(0, 130)], (130, 200)),  # the chunk before shares its first
        ((0, 100), [(0, 40), (70, 150)], (40, 70)),
        ((0, 100), [(0, 100)], (0, 0)),
        ((0, 100), [(200, 300)], (0, 100)),
    ],
)
def test_unshared_is_the_longest_part_not_taken(span, taken, left):
    start, end = unshared(*span, taken)
    assert (start, end) == left or (left[0] == left[1] and start == end)


@pytest.mark.parametrize("case", [str, str.upper, str.lower])
def test_source_filter(retriever, case):
    known = [name for name, _ in retriever.index.catalog.sources()]
    assert len(known) >= 2
    for source in known:
        passages = retriever.retrieve("How many migrants are in the caravan?", k=5, source=case(source))
        assert passages and {p.source for p in passages} == {source}


def test_unknown_source_is_an_error_listing_the_known_sources(retriever):
    known = [name for name, _ in retriever.index.catalog.sources()]
    with pytest.raises(UnknownSourceError) as info:
        retriever.retrieve("caravan", k=5, source="No Such Outlet")
    assert isinstance(info.value, QAError)
    assert "No Such Outlet" in str(info.value)
    assert all(name in str(info.value) for name in known)


@pytest.mark.parametrize("command", ["search", "ask"])
def test_unknown_source_through_the_cli(retriever, built_index, command):
    from click.testing import CliRunner

    from qa.cli import cli

    known = [name for name, _ in retriever.index.catalog.sources()]
    args = [command, "How big is the caravan?", "--source", "No Such Outlet", "--index-dir", str(built_index)]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 1, result.output
    errors = [line for line in result.output.splitlines() if line.startswith("error: ")]  # after any status
    assert len(errors) == 1 and "Traceback" not in result.output
    assert "No Such Outlet" in errors[0] and all(name in errors[0] for name in known)


def test_date_filter_excludes_undated_articles(retriever):
    # The default articles carry no date: any date filter leaves nothing.
    assert retriever.retrieve("caravan", k=5, since="2023-01-01") == []
    assert retriever.retrieve("caravan", k=5, until="2030-01-01") == []


def test_date_filter_on_dated_articles(index_copy, core_settings, embedder):
    from qa.index import add_articles, open_index
    from qa.types import Article

    arts = [
        Article(
            f"d{i}",
            f"Flood report {i}",
            "Wire",
            date,
            None,
            f"River flooding report number {i} from the valley.",
        )
        for i, date in enumerate(["2023-12-01", "2023-12-27T18:00:00", "2024-02-10"])
    ]
    add_articles(arts, index_copy, settings=core_settings, embedder=embedder)
    r = Retriever(open_index(index_copy, settings=core_settings), embedder, core_settings)
    ids = lambda **f: {p.article_id for p in r.retrieve("river flooding report", k=10, **f)}  # noqa: E731
    assert ids(since="2023-12-27", until="2023-12-27") == {"d1"}
    assert ids(since="2024-01-01") == {"d2"}
    assert ids(until="2023-12-31") == {"d0", "d1"}


def test_rrf_fuses_ranks():
    fused = rrf([np.array([1, 2, 3]), np.array([3, 1])], k=60)
    assert fused[1] == pytest.approx(1 / 61 + 1 / 62)
    assert max(fused, key=fused.get) == 1


@pytest.mark.parametrize("question", ["", "   ", "\n\t"])
def test_empty_question_is_rejected(retriever, question):
    with pytest.raises(QuestionError):
        retriever.retrieve(question)


def test_too_long_question_is_rejected(retriever):
    with pytest.raises(QuestionError, match="limit"):
        retriever.retrieve("why " * 1000)


def test_stopword_only_question_still_uses_dense(retriever):
    assert len(retriever.retrieve("what is it", k=3)) == 3


def test_default_retriever_builds_then_reloads_after_a_write(tmp_path, core_settings, embedder, built_index):
    from qa.index import add_articles
    from qa.types import Article

    settings = replace(core_settings, index_dir=tmp_path / "ix")
    shutil.copytree(built_index, settings.index_dir, ignore=shutil.ignore_patterns(".lock"))
    r1 = default_retriever(settings)
    assert default_retriever(settings) is r1
    passages = retrieve("How old is Antony Blinken?", k=3, settings=settings)
    assert (
        get_article(passages[0].article_id, settings=settings).text[passages[0].start : passages[0].end]
        == passages[0].text
    )
    add_articles(
        [
            Article(
                "new-1",
                "Volcano",
                "Wire",
                None,
                None,
                "The volcano erupted at dawn, covering the town in ash.",
            )
        ],
        settings.index_dir,
        settings=settings,
        embedder=embedder,
    )
    r2 = default_retriever(settings)
    assert r2 is not r1
    assert retrieve("What covered the town in ash?", k=1, settings=settings)[0].article_id == "new-1"
    with pytest.raises(KeyError):
        get_article("no-such-id", settings=settings)


def test_default_retriever_builds_a_missing_index(tmp_path, core_settings):
    settings = replace(core_settings, index_dir=tmp_path / "fresh")
    passages = retrieve("Where is Lukeville?", k=2, settings=settings)
    assert passages and (settings.index_dir / "current" / "manifest.json").exists()
