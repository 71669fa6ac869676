"""qa.grounding.conflict: when two answers differ, and how versions are written."""

import pytest

from qa.grounding.conflict import (
    Version,
    agrees,
    attribution,
    compared_question,
    conflict_text,
    parallel_value,
    states,
)
from qa.types import Citation

Q = "How many visitors did the festival draw?"


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("An estimated 36,500 visitors.", "around 30,000", False),  # numbers
        ("36,500 visitors", "36,500", True),
        ("Lena Marsh was the safety officer.", "Ruth Okafor", False),  # names
        ("Facebook acquired WhatsApp.", "Facebook Inc.", True),
        ("Lena Marsh of Harrowgate", "Ruth Okafor of Harrowgate", False),  # one shared word of three
        ("Lena Marsh of Harrowgate", "Lena Marsh", True),
        ("It was held on June 14.", "June 21", False),  # dates
        ("Yes, it was cancelled.", "No", False),  # yes/no
        ("Yes.", "yes, according to police", True),
        ("The festival drew visitors.", "many visitors", True),  # nothing of its own: cannot disagree
        ("Last week", "Thursday", True),  # told relative to each article's date: not comparable
        ("until Friday at the earliest", "on Monday", False),  # two days of the week are two days
        ("Friday", "until Friday", True),
        ("It opened on May 2, 2023.", "May 3, 2023", False),  # the year alike, the day not
        ("May 2023", "June 2023", False),  # months are compared like numbers
        ("May 2023", "May 2, 2023", True),  # one is the other, more precisely
        ("more than 32,000", "32,000", True),
    ],
)
def test_agrees(a, b, same):
    question = "Who was the safety officer?" if "Marsh" in a else Q
    assert agrees(a, b, question) is same


def test_states_short_circuits_a_sentence_that_repeats_the_answer():
    assert states("The launch drew an estimated 36,500 visitors.", "36,500 visitors", Q)
    assert not states("Attendance stood at around 30,000.", "36,500 visitors", Q)


def _c(marker, source, date, title="T"):
    return Citation(marker, f"a{marker}", title, source, "quote", 0, 5, date)


def test_attribution_is_outlet_and_date():
    assert attribution(_c(1, "The Daily Ledger", "2024-05-02")) == "The Daily Ledger (May 2, 2024)"
    assert attribution(_c(1, "The Daily Ledger", None)) == "The Daily Ledger"


def test_conflict_text_names_each_version_with_its_marker():
    text = conflict_text(
        [
            Version("An estimated 36,500 visitors.", _c(1, "The Harrowgate Courier", "2025-06-15")),
            Version("around 30,000", _c(2, "Valmere Daily Post", "2025-06-16")),
        ]
    )
    assert text == (
        "The articles disagree: The Harrowgate Courier (June 15, 2025) gives “An estimated 36,500 visitors” [1]; "
        "Valmere Daily Post (June 16, 2025) gives “around 30,000” [2]."
    )


def test_same_outlet_twice_is_told_apart_by_headline():
    text = conflict_text(
        [
            Version("Norway", _c(1, "Snippets", None, "Medal table")),
            Version("U.S.", _c(2, "Snippets", None, "Final count")),
        ]
    )
    assert "“Medal table”" in text and "“Final count”" in text


@pytest.mark.parametrize(
    ("question", "underlying"),
    [
        (
            "Do the articles agree on the number of people in the caravan?",
            "What is the number of people in the caravan?",
        ),
        ("Do both sources agree about how many people were killed?", "How many people were killed?"),
        ("Do the two stories give the same figure for the crowd size?", "What is the crowd size?"),
        ("do the reports differ on who won", "Who won?"),
    ],
)
def test_a_comparison_question_is_answered_through_its_underlying_question(question, underlying):
    assert compared_question(question) == underlying


@pytest.mark.parametrize(
    "question",
    [
        "Do the articles agree?",
        "Did the mayor agree on the plan?",
        "In which month did Mexico agree to accept migrants?",
        "What did Biden and López Obrador agree was urgently needed?",
    ],
)
def test_other_questions_with_agree_are_not_comparisons(question):
    assert compared_question(question) is None


def test_a_number_written_in_words_states_the_same_figure():
    # "Fourteen people were taken to hospital" agrees with "At least 14": no version, no model call
    assert states("Fourteen people were taken to hospital, two of them hurt.", "At least 14", Q)


OSCAR = "What movie won the Oscar for Best Animated Film in 2021?"
TOY = "Pixar's Toy Story 2 has won the Oscar for Best Animated Feature, the studio's 11th win."


def test_a_reprinted_sentence_with_another_value_in_the_answers_place_gives_that_value():
    soul = "Pixar's Soul has won the Oscar for Best Animated Feature, the studio's 11th win."
    span = parallel_value(TOY, soul, "Toy Story 2", OSCAR)
    assert span is not None and soul[span[0] : span[1]] == "Soul"
    crowd = "Police said about 12,000 people marched through the city centre on Saturday."
    update = "Police said about 9,000 people marched through the city centre on Saturday."
    span = parallel_value(crowd, update, "about 12,000 people", "How many people marched?")
    assert span is not None and update[span[0] : span[1]] == "9,000"


@pytest.mark.parametrize(
    ("other", "why"),
    [
        ("Pixar's Toy Story 2 has won the Oscar for Best Animated Feature, the studio's 11th win.", "same"),
        (
            "Pixar's Toy Story 2 has won the Oscar for Best Animated Feature, the studio's 12th win.",
            "elsewhere",
        ),
        ("Pixar's Soul has won the Oscar for Best Animated Short, the studio's 12th win.", "two places"),
        ("Soul won.", "too little shared"),
        ("Disney's Encanto won big at the 94th Academy Awards, taking home the Oscar.", "another sentence"),
    ],
)
def test_no_parallel_value_without_one_difference_in_the_answers_place(other: str, why: str) -> None:
    assert parallel_value(TOY, other, "Toy Story 2", OSCAR) is None, why
