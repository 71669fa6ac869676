"""qa.grounding.text: the lexical primitives."""

import pytest

from qa.grounding.text import contains_phrase, coverage, fold, numbers, stems, wordset, years

ARTICLE = "Mexico has assigned more than 32,000 soldiers to enforce immigration laws."


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("about 6,000 migrants", {"6000"}),
        ("6000 people", {"6000"}),
        ("11 percent of 32,000", {"11", "32000"}),
        ("in 2023 and 2024", {"2023", "2024"}),
        ("three soldiers", {"3"}),
        ("Fourteen people, two of them hurt", {"14", "2"}),  # teens and tens are numbers too
        ("forty years", {"40"}),
        ("Twenty-two people were treated", {"22"}),  # one number, not 20 and 2
        ("thirty five of them, ninety-nine in all", {"35", "99"}),
        ("no figures here", set()),
        ("version 1.50", {"1.5"}),
    ],
)
def test_numbers_are_canonical(text, expected):
    assert numbers(text) == expected


def test_years_are_the_four_digit_numbers_of_dates():
    assert years("On May 2, 2019, 2,350 lanterns") == {"2019"}


def test_fold_ignores_case_accents_and_curly_quotes():
    assert fold("López’s") == fold("lopez's")


def test_stems_drop_stopwords_and_inflection():
    assert stems("The soldiers were assigned") == {"soldier", "assign"}


def test_coverage_ignores_question_words():
    assert coverage("How many soldiers did Mexico assign?", ARTICLE) == 1.0
    assert coverage("Who won the election?", ARTICLE) == 0.0


def test_contains_phrase_is_whole_words_only():
    assert contains_phrase("Meta Platforms bought it", "meta platforms")
    assert not contains_phrase("Metamorphosis", "Meta")


def test_wordset_reads_one_string():
    assert wordset(" a  b\nc ") == frozenset({"a", "b", "c"})
