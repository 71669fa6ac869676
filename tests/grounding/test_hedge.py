"""qa.grounding.hedge: the source's qualifiers of a figure or a day survive in the answer."""

import pytest

from qa.grounding.hedge import keep_qualifiers

SOURCE = "Attendance stood at around 30,000 on Saturday night, but the total may swell to 50,000."


@pytest.mark.parametrize(
    ("claim", "sentence", "expected"),
    [
        ("30,000 people attended.", SOURCE, "Around 30,000 people attended."),
        ("The total is 50,000.", SOURCE, "The total is possibly 50,000."),
        (
            "It drew 36,500 visitors.",
            "which drew an estimated 36,500 visitors",
            "It drew an estimated 36,500 visitors.",
        ),
        (
            "Mexico assigned 32,000 soldiers.",
            "more than 32,000 soldiers",
            "Mexico assigned more than 32,000 soldiers.",
        ),
        (
            "More than 32,000 soldiers.",
            "more than 32,000 soldiers",
            "More than 32,000 soldiers.",
        ),  # already there
        ("The caravan may swell to 15,000.", "may swell to 15,000", "The caravan may swell to 15,000."),
        ("Paramedics treated 23 people.", "Paramedics treated 23 people.", "Paramedics treated 23 people."),
        # a day keeps the phrase that hedges it
        ("Friday", "The bridge will stay closed until Friday at the earliest.", "Friday at the earliest"),
        ("Friday", "Trains will stay suspended until at least Friday.", "At least Friday"),
        (
            "until at least Friday",
            "Trains will stay suspended until at least Friday.",
            "until at least Friday",
        ),
        # before a day inside a sentence it would not read: left as the claim wrote it
        (
            "The line reopens on Friday",
            "Trains stay suspended until at least Friday.",
            "The line reopens on Friday",
        ),
        ("June 14", "It was held on Saturday, June 14, with a rain date of June 21.", "June 14"),
    ],
)
def test_keep_qualifiers(claim, sentence, expected):
    assert keep_qualifiers(claim, sentence) == expected
