"""qa.grounding.polar: which sentences say yes and which say no to a yes/no question."""

from __future__ import annotations

import pytest

from qa.grounding.polar import answer_polarity, is_yes_no, polarity, predicate


@pytest.mark.parametrize(
    ("question", "yes_no"),
    [
        ("Has anyone been arrested over the attack?", True),
        ("Is the bridge open to traffic?", True),
        ("Did the council approve the budget?", True),
        ("Do the articles agree on the size of the crowd?", False),  # a comparison asks for versions
        ("Who was arrested?", False),
        ("How many were arrested?", False),
    ],
)
def test_a_yes_no_question(question, yes_no):
    assert is_yes_no(question) is yes_no


def test_the_predicate_is_the_question_word_fewest_sentences_repeat():
    question = "Has anyone been arrested over the theft at the Pellworth museum?"
    sentences = [
        "Thieves broke into the museum overnight; the theft was found at dawn.",
        "The museum said the theft was the worst in its history.",
        "No one has been arrested, police said.",
    ]
    assert (
        predicate(question, "Yes, police have arrested thieves over the theft at the museum.", sentences)
        == "arrest"
    )
    # a word no sentence has decides nothing
    # nor the story's topic, which many sentences name
    assert (
        predicate(question, "Yes, police have arrested thieves at the Pellworth museum.", sentences[:2] * 3)
        is None
    )
    # not the question's name, nor "anyone"
    assert predicate(question, "Pellworth", sentences) is None
    assert predicate(question, "Anyone was", sentences) is None


@pytest.mark.parametrize(
    ("sentence", "said"),
    [
        ("No one has been arrested.", False),
        ("Police said on Sunday that they had arrested a 24-year-old man.", True),
        ("The man has not been arrested.", False),
        ("Officers haven't arrested anyone yet.", False),
        # a negation in another clause does not turn it
        ("The suspect, who was not named, was arrested on Monday.", True),
        ("Nobody was hurt, but two men were arrested.", True),
        ("The museum reopened on Thursday.", None),  # no predicate: says nothing
    ],
)
def test_polarity_of_a_sentence(sentence, said):
    assert polarity(sentence, "arrest") is said


def test_the_answer_says_yes_or_no_itself_or_through_its_sentence():
    assert answer_polarity("Yes, a man was held.", "", "arrest") is True
    assert answer_polarity("No.", "A man was arrested.", "arrest") is False
    assert answer_polarity("No one has been arrested.", "", "arrest") is False  # "No one" is no "No"
    assert answer_polarity("A man.", "A man was arrested on Monday.", "arrest") is True
    assert answer_polarity("A man.", "The museum reopened.", "arrest") is None
