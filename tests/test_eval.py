"""Tests for qa.eval: metric functions on hand-made cases, the eval set's validity, a real run."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from qa import eval as ev
from qa.config import PROJECT_ROOT, Settings
from qa.types import Article, Citation, Passage

QUESTIONS = PROJECT_ROOT / "eval" / "questions.jsonl"
ARTICLES = PROJECT_ROOT / "articles"


def _passage(article_id: str, text: str, start: int = 0, end: int | None = None) -> Passage:
    return Passage(article_id, "t", "s", None, text, start, start + len(text) if end is None else end, 1.0)


def _citation(quote: str, article_id: str = "a", start: int = 0, end: int | None = None) -> Citation:
    return Citation(1, article_id, "t", "s", quote, start, start + len(quote) if end is None else end)


# ----------------------------------------------------------------------------- normalisation


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("About 6,000 migrants.", "about 6000 migrants"),
        ("The  caravan [1]", "caravan"),
        ("López Obrador", "lopez obrador"),
        ("“urgently needed”", "urgently needed"),
        ("11.5 percent", "11.5 percent"),
        ("", ""),
    ],
)
def test_normalize_answer(text: str, expected: str) -> None:
    assert ev.normalize_answer(text) == expected


def test_exact_match_takes_any_acceptable_answer() -> None:
    assert ev.exact_match("6000", ["about 6,000", "6,000"]) == 1.0
    assert ev.exact_match("The 6,000.", ["6000"]) == 1.0
    assert ev.exact_match("7,000", ["6,000"]) == 0.0
    assert ev.exact_match("", ["6,000"]) == 0.0
    assert ev.exact_match("", []) == 0.0


def test_token_f1_is_max_over_answers() -> None:
    assert ev.token_f1("Cuba and Venezuela", ["Cuba and Venezuela"]) == 1.0
    # prediction "cuba" vs gold "cuba venezuela" ("and" is kept): p=1, r=1/3 → 0.5
    assert ev.token_f1("Cuba", ["Cuba and Venezuela"]) == pytest.approx(0.5)
    assert ev.token_f1("Cuba", ["Haiti", "Cuba"]) == 1.0
    assert ev.token_f1("", ["Cuba"]) == 0.0
    assert ev.token_f1("Cuba", []) == 0.0
    assert ev.token_f1("Haiti", ["Cuba"]) == 0.0


def test_contains_answer_matches_whole_words_only() -> None:
    assert ev.contains_answer("Mexico assigned more than 32,000 soldiers [1].", ["32000"])
    assert ev.contains_answer("He is 61 years old.", ["61"])
    assert not ev.contains_answer("He is 610 years old.", ["61"])
    assert not ev.contains_answer("anything", [])
    assert not ev.contains_answer("", ["61"])
    assert not ev.contains_answer("something", [""])


@pytest.mark.parametrize(
    "text",
    [
        "released on November 21 of 1998 in Japan",
        "Release: 11/21/1998 ;",
        "21 Nov. 1998",
        "on 1998-11-21",
        "Nov. 21st, 1998",
    ],
)
def test_contains_answer_reads_a_full_date_written_another_way(text: str) -> None:
    assert ev.contains_answer(text, ["November 21, 1998"])


@pytest.mark.parametrize(
    "text",
    [
        "November 21, 1999",  # another year
        "November 12, 1998",  # another day
        "Saturday, Nov. 21",  # no year: not the full date
        "21/11/1998",  # no month 21
    ],
)
def test_contains_answer_does_not_take_another_date(text: str) -> None:
    assert not ev.contains_answer(text, ["November 21, 1998"])


def test_all_versions_mentioned() -> None:
    text = "One article says about 6,000 [1]; the other at least 8,000 [2]."
    assert ev.all_versions_mentioned(text, ["6,000", "8,000"])
    assert not ev.all_versions_mentioned("About 6,000 people.", ["6,000", "8,000"])
    assert not ev.all_versions_mentioned(text, [])


# ----------------------------------------------------------------------------- retrieval metrics


def test_passage_evidence_by_containment_or_overlap() -> None:
    span = ev.Span("a", "Mexico has assigned more than 32,000 soldiers", 100, 145)
    # containment ignores case and whitespace
    assert ev.passage_has_evidence("a", "x MEXICO has  assigned more than\n32,000 soldiers y", 0, 50, [span])
    # overlap of offsets without containment
    assert ev.passage_has_evidence("a", "unrelated text", 140, 200, [span])
    # same offsets but another article
    assert not ev.passage_has_evidence("b", "unrelated text", 140, 200, [span])
    # adjacent, not overlapping
    assert not ev.passage_has_evidence("a", "unrelated text", 145, 200, [span])
    # a span without offsets counts by containment only
    assert not ev.passage_has_evidence("a", "unrelated", 0, 10**6, [ev.Span("a", "soldiers")])


def test_ranks_hit_and_mrr() -> None:
    spans = [ev.Span("a", "needle")]
    passages = [_passage("b", "needle"), _passage("a", "hay"), _passage("a", "the needle here")]
    assert ev.first_hit_rank(passages, spans) == 3
    assert ev.first_hit_rank([], spans) is None
    ranks = [1, 3, None, 6]
    assert ev.hit_at(ranks, 1) == 0.25
    assert ev.hit_at(ranks, 3) == 0.5
    assert ev.hit_at(ranks, 5) == 0.5
    assert ev.mrr_at(ranks, 10) == pytest.approx((1 + 1 / 3 + 1 / 6) / 4)
    assert ev.mrr_at(ranks, 5) == pytest.approx((1 + 1 / 3) / 4)
    assert ev.hit_at([], 5) is None
    assert ev.mrr_at([]) is None


# ----------------------------------------------------------------------------- citations, abstention


def test_citation_supports() -> None:
    spans = [ev.Span("a", "Mexico has assigned more than 32,000 soldiers", 100, 145)]
    assert ev.citation_supports(
        _citation("Mexico has assigned more than 32,000 soldiers and more"), spans, []
    )
    assert ev.citation_supports(_citation("more than 32,000", start=120), spans, [])  # inside the quote
    assert ev.citation_supports(_citation("It was 32,000 people.", start=900), spans, ["32,000"])
    assert not ev.citation_supports(_citation("Something else.", start=900), spans, ["32,000"])
    assert not ev.citation_supports(_citation("Something else.", start=900), [], [])


def test_is_verbatim() -> None:
    art = Article("a", "t", "s", None, None, "Hello world. Bye.")
    assert ev.is_verbatim(_citation("world", start=6), art)
    assert not ev.is_verbatim(_citation("World", start=6), art)
    assert not ev.is_verbatim(_citation("world", start=6), None)


def test_ratio_and_abstention_scores() -> None:
    assert ev.ratio(1, 0) is None
    assert ev.ratio(1, 4) == 0.25
    pairs = [(True, True), (True, False), (False, True), (False, False)]
    assert ev.abstention_scores(pairs) == {"abstention_precision": 0.5, "abstention_recall": 0.5}
    assert ev.abstention_scores([]) == {"abstention_precision": None, "abstention_recall": None}
    assert ev.abstention_scores([(False, False)]) == {"abstention_precision": None, "abstention_recall": None}


def test_percentile_and_mean() -> None:
    assert ev.percentile([], 50) is None
    assert ev.percentile([5.0], 95) == 5.0
    assert ev.percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.5
    assert ev.percentile([1.0, 2.0, 3.0, 4.0, 5.0], 95) == pytest.approx(4.8)
    assert ev.mean([]) is None
    assert ev.mean([None, 2.0, 4.0]) == 3.0


def _row(**kw: object) -> ev.Row:
    base: dict[str, object] = {"id": "x", "type": "fact", "question": "?", "gold": ["1"]}
    base.update(kw)
    return ev.Row(**base)  # type: ignore[arg-type]


def test_summarize_mixed_rows() -> None:
    rows = [
        # answered correctly with one supporting verbatim citation
        _row(
            abstained=False,
            contains=True,
            em=1.0,
            f1=1.0,
            cited_support=True,
            has_evidence=True,
            rank=1,
            citations=[{"supports": True, "verbatim": True}],
            ttft_ms=100.0,
            total_ms=1000.0,
            prompt_tokens=500,
        ),
        # answerable but abstained
        _row(abstained=True, contains=False, em=0.0, f1=0.0, has_evidence=True, rank=None, total_ms=500.0),
        # unanswerable, abstained
        _row(type="unanswerable", gold=[], abstained=True, should_abstain=True, answerable=False),
        # injection, answered (wrong), no citations
        _row(type="injection", gold=[], abstained=False, should_abstain=True, answerable=False),
        # conflict flagged with both versions, unsupported citation
        _row(
            type="conflict",
            abstained=False,
            conflict=True,
            conflict_all_versions=True,
            contains=True,
            em=0.0,
            f1=0.5,
            cited_support=False,
            has_evidence=True,
            rank=4,
            citations=[{"supports": False, "verbatim": True}],
        ),
        # an error: no verdicts at all
        _row(error="LLMError: boom", has_evidence=True),
    ]
    s = ev.summarize(rows)
    assert s["questions"] == 6 and s["errors"] == 1
    assert s["hit@1"] == pytest.approx(1 / 3)
    assert s["hit@5"] == pytest.approx(2 / 3)
    assert s["contains"] == pytest.approx(2 / 3)
    assert s["correct"] == pytest.approx(3 / 5)
    assert s["citation_precision"] == 0.5
    assert s["citation_recall"] == 0.5
    assert s["verbatim_rate"] == 1.0
    assert s["abstention_precision"] == 0.5
    assert s["abstention_recall"] == 0.5
    assert s["false_abstention_rate"] == pytest.approx(1 / 3)
    assert s["conflict_flagged"] == 1.0 and s["conflict_all_versions"] == 1.0
    assert s["misled_rate"] is None
    assert s["ttft_p50_ms"] == 100.0
    assert s["total_p50_ms"] == 750.0
    assert s["prompt_tokens_mean"] == 500


def test_summarize_rejection_whose_passages_state_the_true_answer() -> None:
    rejection = {"type": "rejection", "gold": [], "should_abstain": True, "answerable": False}
    rows = [
        _row(**rejection, abstained=False, states_true_answer=True),
        _row(**rejection, abstained=True, states_true_answer=False),
        _row(**rejection, abstained=False, states_true_answer=False),
    ]
    s = ev.summarize(rows)
    assert s["abstention_recall"] == pytest.approx(1 / 3)  # still scored with the others
    assert s["true_answer_stated"] == 1
    assert s["abstention_recall_unstated"] == 0.5


def test_summarize_empty_is_all_na() -> None:
    s = ev.summarize([])
    assert s["questions"] == 0
    assert all(v is None for k, v in s.items() if k not in ("questions", "errors"))
    assert ev._fmt(None) == "n/a"


# ----------------------------------------------------------------------------- loading


def test_load_questions_maps_rgb_types(tmp_path: Path) -> None:
    lines = [
        {
            "id": "r1",
            "question": "Q?",
            "answer": ["Norway"],
            "type": "single_hop_news",
            "fake_answer": "U.S.",
        },
        {"id": "r2", "question": "Q?", "answer": ["Norway"], "fake_answer": "U.S.", "type": "counterfactual"},
        {
            "id": "r3",
            "question": "Q?",
            "answer": ["Insufficient."],
            "type": "unanswerable",
            "fake_answer": "U.S.",
        },
        {"id": "r4", "question": "Q?", "answer": ["Norway"], "type": "conflicting", "fake_answer": "U.S."},
        {
            "id": "r5",
            "question": "And then?",
            "answer": ["x"],
            "type": "followup",
            "history": [["first?", "first answer"], {"question": "second?", "answer": "b"}],
        },
    ]
    path = tmp_path / "q.jsonl"
    path.write_text("\n".join(json.dumps(d) for d in lines) + "\n\n", encoding="utf-8")
    qs = ev.load_questions(path)
    assert [q.type for q in qs] == ["answerable", "counterfactual", "rejection", "conflict", "followup"]
    assert qs[0].answerable and not qs[0].should_abstain
    assert qs[1].is_counterfactual and qs[1].fake_answer == "U.S." and not qs[1].answerable
    assert qs[2].should_abstain and qs[2].answer == ()
    assert qs[3].versions == ("Norway",)
    assert qs[4].history == (("first?", "first answer"), ("second?", "b"))
    assert qs[2].true_answer == () and qs[0].true_answer == ()


def test_load_questions_keeps_the_true_answer_of_rgb_rejection(tmp_path: Path) -> None:
    dates = [["November 17 2019", "Nov 17, 2019"]]
    lines = [
        {
            "id": "r1",
            "question": "Q?",
            "answer": ["Insufficient."],
            "type": "unanswerable",
            "answer_rgb": dates,
        },
        {
            "id": "r2",
            "question": "Q?",
            "answer": ["Insufficient."],
            "type": "unanswerable",
            "answer_rgb": "Joe Biden",
        },
    ]
    path = tmp_path / "q.jsonl"
    path.write_text("\n".join(json.dumps(d) for d in lines), encoding="utf-8")
    qs = ev.load_questions(path)
    assert qs[0].true_answer == ("November 17 2019", "Nov 17, 2019")
    assert qs[1].true_answer == ("Joe Biden",) and qs[1].answer == ()


def test_load_questions_keeps_our_types() -> None:
    qs = ev.load_questions(QUESTIONS)
    assert {q.type for q in qs} <= ev.EVAL_SET_TYPES
    assert sum(q.should_abstain for q in qs) >= 8


def test_load_questions_reports_bad_json(tmp_path: Path) -> None:
    path = tmp_path / "q.jsonl"
    path.write_text('{"id": "a", "question": "ok?", "answer": []}\n{oops\n', encoding="utf-8")
    with pytest.raises(ev.QAError, match=r"q.jsonl:2"):
        ev.load_questions(path)


# ----------------------------------------------------------------------------- the eval set


def _eval_set() -> list[dict]:
    return [json.loads(line) for line in QUESTIONS.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_eval_set_format() -> None:
    qs = _eval_set()
    assert len(qs) >= 40
    ids = [q["id"] for q in qs]
    assert len(ids) == len(set(ids))
    types = [q["type"] for q in qs]
    assert set(types) <= ev.EVAL_SET_TYPES
    assert types.count("unanswerable") >= 6
    assert types.count("injection") >= 2
    assert types.count("conflict") >= 2
    for q in qs:
        assert q["question"].strip()
        assert isinstance(q["answer"], list) and isinstance(q["evidence"], list)
        if q["type"] in ("unanswerable", "injection"):
            assert q["answer"] == [] and q["evidence"] == []
        else:
            assert q["answer"] and q["evidence"], q["id"]
        if q["type"] == "followup":
            assert q["follows"] in ids and ids.index(q["follows"]) < ids.index(q["id"])
            assert q["history"] and all(set(t) == {"question", "answer"} for t in q["history"])
        if q["type"] == "both":
            assert len({e["file"] for e in q["evidence"]}) == 2, q["id"]


def test_eval_set_quotes_are_verbatim_in_cleaned_articles() -> None:
    from qa.ingest import read_articles

    by_file = {os.path.basename(a.path): a for a in read_articles([ARTICLES]).articles}
    facts_per_file = dict.fromkeys(by_file, 0)
    for q in _eval_set():
        for e in q["evidence"]:
            assert e["file"] in by_file, (q["id"], e["file"])
            assert e["quote"] in by_file[e["file"]].text, (q["id"], e["quote"])
        if q["type"] in ("fact", "number", "name", "place", "date") and len(q["evidence"]) == 1:
            facts_per_file[q["evidence"][0]["file"]] += 1
    assert all(n >= 10 for n in facts_per_file.values()), facts_per_file


def test_eval_set_gold_answers_occur_in_their_evidence() -> None:
    for q in _eval_set():
        if q["answer"]:
            quotes = " ".join(e["quote"] for e in q["evidence"])
            assert ev.contains_answer(quotes, q["answer"]), q["id"]


@pytest.mark.parametrize(
    "name",
    [
        "traps",
        "fresh",
        "wire",
        "blind",
        "blind2",
        "blind3",
        "blind4",
        "blind5",
        "blind6",
        "blind7",
        "blind8",
        "blind9",
    ],
)  # not heldout: never read by tests
def test_written_sets_quote_their_articles_verbatim(name: str) -> None:
    from qa.ingest import read_articles

    folder = PROJECT_ROOT / "eval" / name
    by_id = {a.id: a for a in read_articles([folder / "articles.jsonl"]).articles}
    rows = [json.loads(line) for line in (folder / "questions.jsonl").read_text("utf-8").splitlines() if line]
    assert len({q["id"] for q in rows}) == len(rows) and {q["type"] for q in rows} <= ev.EVAL_SET_TYPES
    for q in rows:
        assert (q["type"] == "unanswerable") == (q["answer"] == []), q["id"]
        for e in q["evidence"]:
            assert e["quote"] in by_id[e["article_id"]].text, (q["id"], e["quote"])
        if q["answer"]:
            assert ev.contains_answer(" ".join(e["quote"] for e in q["evidence"]), q["answer"]), q["id"]


# ----------------------------------------------------------------------------- a real run


@pytest.fixture(scope="module")
def default_index_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings with an index of the default articles in a temporary folder (real embedder)."""
    from qa.index import build_index

    tmp = tmp_path_factory.mktemp("eval-index")
    settings = Settings(index_dir=tmp / "index", cache_dir=tmp / "cache")
    build_index([ARTICLES], index_dir=settings.index_dir, settings=settings, progress=False)
    return settings


@pytest.mark.slow
def test_retrieval_only_run_on_default_corpus(default_index_settings: Settings, tmp_path: Path) -> None:
    out = tmp_path / "out"
    report = ev.run(retrieval_only=True, out_dir=out, settings=default_index_settings, progress=False)
    assert (out / "report.json").is_file()
    assert (out / "report.md").is_file()
    assert (out / "scores.png").stat().st_size > 0
    assert report.errors == 0
    assert report.summary["hit@5"] is not None and report.summary["hit@5"] >= 0.8
    assert report.summary["contains"] is None  # nothing was answered
    data = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert data["summary"]["hit@5"] == report.summary["hit@5"]
    assert len(data["rows"]) == len(_eval_set())
    assert set(report.per_type) <= ev.EVAL_SET_TYPES
    assert report.per_type["unanswerable"]["hit@5"] is None  # no evidence to find
    assert "hit@5" in ev.format_table(report)


@pytest.mark.slow
def test_cli_eval_retrieval_only_and_min_score(default_index_settings: Settings, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from qa.cli import cli

    index_dir = str(default_index_settings.index_dir)
    args = [
        "eval",
        "--retrieval-only",
        "--types",
        "number,place",
        "--limit",
        "5",
        "-q",
        "--index-dir",
        index_dir,
    ]
    env = {"QA_CACHE_DIR": str(default_index_settings.cache_dir)}
    ok = CliRunner().invoke(cli, [*args, "--out", str(tmp_path / "a"), "--min-score", "0.5"], env=env)
    assert ok.exit_code == 0, ok.output
    assert "hit@5" in ok.output and (tmp_path / "a" / "report.md").is_file()
    rows = json.loads((tmp_path / "a" / "report.json").read_text(encoding="utf-8"))["rows"]
    assert len(rows) == 5 and {r["type"] for r in rows} <= {"number", "place"}
    unreachable = CliRunner().invoke(
        cli, [*args, "--types", "unanswerable", "--out", str(tmp_path / "c"), "--min-score", "0.1"], env=env
    )
    assert unreachable.exit_code == 1  # no evidence questions: hit@5 is n/a, below any bar
    assert "below --min-score" in unreachable.output
