"""qa.grounding.verify: the phrases a cited sentence offers as the answer, by kind and shape."""

import pytest

from qa.grounding.verify import _FIGURE_OR_DATE, _kind, answer_options


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("released on November 21 of 1998 in Japan", ["November 21 of 1998"]),
        ("was released on December 22nd, 1999 and", ["December 22nd, 1999"]),
        ("in June 2010 in Japan (2012 in North America)", ["June 2010", "2012"]),  # not "June 20"
        ("held on 5 January 2020 in Beverly Hills", ["5 January 2020"]),
    ],
)
def test_dates_are_read_whole(text, found):
    assert [m.group(0) for m in _FIGURE_OR_DATE.finditer(text)] == found


@pytest.mark.parametrize(
    ("phrase", "kind"),
    [
        ("November 21, 1998", "date"),
        ("Thursday, Nov. 12 at 9 p.m.", "date"),
        ("2012", "year"),
        ("three", "figure"),
        ("the total may swell to 50,000", "figure"),  # "may" is no month
    ],
)
def test_kind(phrase, kind):
    assert _kind(phrase) == kind


def test_another_version_has_the_answers_shape():
    sentence = "The Re-Arranged Album was released on December 22nd, 1999 and is one of three soundtracks."
    options, _ = answer_options(
        "November 21, 1998", sentence, "When was Ocarina of Time released?", own=False
    )
    assert options == ["December 22nd, 1999"]


def test_names_the_question_gives_are_no_answers():
    q = "Where will Blinken meet López Obrador?"
    s = "Blinken, 61, will meet with Mexican President Andrés Manuel López Obrador and Liz Sherwood-Randall."
    options, _ = answer_options("Liz Sherwood-Randall", s, q, own=False)
    assert options == ["Liz Sherwood-Randall"]


def test_a_name_loses_the_questions_own_leading_words():
    s = "Apple CEO Steve Jobs attends the opening of the new store."
    options, _ = answer_options("Tim Cook", s, "Who is the CEO of Apple?", own=False)
    assert options == ["Steve Jobs"]
