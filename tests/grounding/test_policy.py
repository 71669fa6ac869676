"""qa.grounding.policy.Grounder: every decision, with a fake cross-encoder and a scripted judge.

No HTTP and no model: the reranker is a keyword scorer and the judge a function, so each test pins one
decision (gate, selection, anchoring, verification, conflict, extractive fallback).
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from qa.grounding import Grounder, GroundingSettings
from qa.grounding.policy import abstention_text
from qa.types import Passage

COURIER = (
    "Lanterns light up the estuary\n\n"
    "Organisers said 1,870 lanterns were released from the harbour wall, which drew an estimated 36,500 visitors. "
    "Governor Petra Lindqvist, travelling with minister Oskar Haldane, met festival director Joachim Brask on the pier. "
    "The bakery on Mill Street sold bread. "
    "It was held on Saturday, June 14, with a rain date of June 21. "
    "The festival's safety officer, Lena Marsh, said every frame was checked."
)
POST = (
    "Crowd may be largest yet\n\n"
    "Attendance stood at around 30,000 on Saturday night, but the total may swell to 50,000. "
    "Some 1,870 paper lanterns were launched. "
    "The festival's safety officer, Ruth Okafor, said crews checked the frames."
)
ARTICLES = {"courier": COURIER, "post": POST}
META = {"courier": ("The Harrowgate Courier", "2025-06-15"), "post": ("Valmere Daily Post", "2025-06-16")}


def headed(aid: str, text: str, source: str, date: str | None) -> Passage:
    """The whole body of an article written "Headline\n\nbody", as one retrieved passage."""
    start = text.index("\n\n") + 2
    return Passage(aid, text[: start - 2], source, date, text[start:], start, len(text), 1.0, 0.7)


def passage(aid: str) -> Passage:
    return headed(aid, ARTICLES[aid], *META[aid])


class KeywordScorer:
    """A stand-in cross-encoder: a sentence answers when it holds one of the words given per question."""

    def __init__(self, hot: dict[str, float]):
        self.hot = hot

    def score(self, query: str, texts: list[str]) -> np.ndarray:
        return np.array(
            [max([v for k, v in self.hot.items() if k in t.lower()], default=0.001) for t in texts]
        )


def no_embed(texts: list[str]) -> np.ndarray:
    raise AssertionError("the embedder is not needed when the reranker scores")


class Judge:
    """A scripted model check; records every turn and the options offered.

    It chooses the first offered option (the schema's enum) that holds one of ``picks``, in their
    order, else "none": a model that knows which figure or name answers.
    """

    def __init__(self, *picks: str):
        self.picks, self.turns, self.options = picks, [], []

    def __call__(self, messages, schema, max_tokens):
        turn = messages[-1]["content"]
        self.turns.append(turn)
        if turn.startswith("Question: "):  # a check alone: the question and one sentence, nothing else
            assert len(messages) == 2 and PROMPT[-1]["content"] not in turn
        else:  # the answer's prompt, extended: the engine's cache skips the shared prefix
            assert turn.startswith(PROMPT[-1]["content"]) and messages[:-1] == PROMPT[:-1]
        options = schema["properties"]["choice"]["enum"]
        self.options.append(options)
        chosen = next((o for p in self.picks for o in options if p in o and o != "none"), "none")
        return json.dumps({"choice": chosen})


def grounder(hot: dict[str, float], articles: dict[str, str] = ARTICLES, **settings) -> Grounder:
    return Grounder(GroundingSettings(**settings), articles.__getitem__, no_embed, KeywordScorer(hot))


def reply(answer: str, *needles: str, ev) -> str:
    ids = [s.n for s in ev.sentences for n in needles if n in s.text]
    return json.dumps({"answer": answer, "sentence_ids": ids})


LANTERNS = "How many lanterns were released?"
PROMPT = [{"role": "system", "content": "fixed"}, {"role": "user", "content": "sentences and question"}]


def test_gate_abstains_before_the_model_when_nothing_is_relevant():
    g = Grounder(GroundingSettings(), ARTICLES.__getitem__, lambda t: np.eye(len(t), 4), KeywordScorer({}))
    ev = g.evidence(LANTERNS, [passage("courier")])
    assert "off-topic" in g.gate(ev)


def test_gate_lets_a_misspelled_question_through_when_the_cosine_is_high():
    g = Grounder(
        GroundingSettings(), ARTICLES.__getitem__, lambda t: np.ones((len(t), 4)) / 2, KeywordScorer({})
    )
    assert g.gate(g.evidence("how many lantrns wer releasd", [passage("courier")])) is None


def test_gate_abstains_when_the_question_names_what_the_passages_lack():
    g = grounder({"lantern": 0.9})
    ev = g.evidence("How many lanterns were released in 2019?", [passage("courier")])
    assert "2019" in g.gate(ev)


def test_gate_reads_the_passages_in_their_articles():
    # the passage says "Brask"; its article named him in full earlier: "festival director Joachim Brask"
    g = grounder({"checked": 0.9})
    text = ARTICLES["courier"]
    start = text.index("The festival's safety officer")
    later = Passage(
        "courier",
        "Lanterns light up the estuary",
        "The Harrowgate Courier",
        "2025-06-15",
        text[start:],
        start,
        len(text),
        1.0,
        0.7,
    )
    assert g.gate(g.evidence("What did Joachim Brask check?", [later])) is None
    assert "zorvik" in g.gate(g.evidence("What did Joachim Zorvik check?", [later]))


def test_gate_passes_a_relevant_question():
    g = grounder({"lantern": 0.9})
    assert g.gate(g.evidence(LANTERNS, [passage("courier")])) is None


def test_select_keeps_the_most_relevant_sentences_in_reading_order():
    g = grounder({"lantern": 0.9, "governor": 0.5, "attendance": 0.4}, max_prompt_sentences=2)
    ev = g.evidence(LANTERNS, [passage("courier"), passage("post")])
    shown = g.select(ev)
    assert [s.text[:10] for s in shown] == ["Organisers", "Some 1,870"]


def test_two_counts_in_one_sentence_the_figure_that_counts_the_asked_thing_answers():
    """The visitors' figure is in the cited sentence, but it does not count lanterns: the sentence's one
    figure that does ("1,870 lanterns") is the answer, bound without the model."""
    g = grounder({"lantern": 0.9})
    ev = g.evidence(LANTERNS, [passage("courier")])
    judge = Judge("36,500")  # a model that would bind it wrongly is not asked
    draft = g.ground(ev, reply("36,500 lanterns were released.", "1,870", ev=ev), PROMPT, judge)
    assert draft is not None and draft.text == "1,870 lanterns [1]" and judge.turns == []
    assert "1,870 lanterns were released" in draft.citations[0].quote


def test_a_figure_that_counts_nothing_named_leaves_the_binding_to_the_model():
    """ "around 30,000 on Saturday night" may count anything: the model chooses among the figures."""
    g = grounder({"attendance": 0.9})
    ev = g.evidence("How many visitors attended on Saturday?", [passage("post")])
    judge = Judge("50,000")
    # the model's choice stands, and the source's hedge with it
    assert g.ground(ev, reply("30,000", "30,000", ev=ev), PROMPT, judge).text == "Possibly 50,000 [1]"
    assert judge.options == [["30,000", "50,000", "none"]]
    assert g.ground(ev, reply("30,000", "30,000", ev=ev), PROMPT, Judge("none")) is None


def test_a_name_answer_is_left_to_the_lexical_and_relevance_checks():
    """Measured on eval/: choosing among names dropped right answers that list several names."""
    g = grounder({"governor": 0.9})
    ev = g.evidence("Who did the governor meet on the pier?", [passage("courier")])
    judge = Judge("Brask")
    kept = g.ground(ev, reply("Joachim Brask.", "Haldane", ev=ev), PROMPT, judge)
    assert kept is not None and kept.text == "Joachim Brask. [1]" and judge.turns == []


def test_two_dates_of_one_event_the_rain_date_is_not_the_day_it_was_held():
    g = grounder({"held": 0.9})
    ev = g.evidence("What was the rain date of the festival?", [passage("courier")])
    judge = Judge("June 21")
    # the day it was held is not shown; the rain date the model binds to the question is
    assert g.ground(ev, reply("June 14.", "June 14", ev=ev), PROMPT, judge).text == "June 21 [1]"
    assert judge.options == [["June 14", "June 21", "none"]]
    assert g.ground(ev, reply("June 14.", "June 14", ev=ev), PROMPT, Judge("none")) is None
    assert g.ground(ev, reply("June 21.", "June 14", ev=ev), PROMPT, judge).text == "June 21. [1]"


def test_a_name_conflict_between_outlets():
    g = grounder({"safety officer": 0.95})
    ev = g.evidence("Who was the festival's safety officer?", [passage("courier"), passage("post")])
    judge = Judge("Lena Marsh", "Ruth Okafor")
    draft = g.ground(ev, reply("Lena Marsh was the safety officer.", "Lena Marsh", ev=ev), PROMPT, judge)
    assert draft.conflict
    assert draft.text == (
        "The articles disagree: The Harrowgate Courier (June 15, 2025) gives “Lena Marsh was the safety officer” [1]; "
        "Valmere Daily Post (June 16, 2025) gives “Ruth Okafor” [2]."
    )


def test_a_confirmed_claim_is_cited_verbatim_with_its_qualifiers():
    g = grounder({"lantern": 0.9, "attendance": 0.05})
    ev = g.evidence("How many visitors came?", [passage("courier")])
    draft = g.ground(ev, reply("It drew 36,500 visitors.", "36,500", ev=ev), PROMPT, Judge("36,500"))
    assert draft.text == "It drew an estimated 36,500 visitors. [1]"
    [c] = draft.citations
    assert COURIER[c.start : c.end] == c.quote and "36,500" in c.quote


def test_no_reply_from_the_check_leaves_the_decision_to_the_other_checks():
    g = grounder({"lantern": 0.9})
    ev = g.evidence(LANTERNS, [passage("courier")])
    draft = g.ground(ev, reply("1,870 lanterns.", "1,870", ev=ev), PROMPT, lambda *a: None)
    assert draft is not None and "1,870" in draft.citations[0].quote


def test_a_cited_sentence_the_cross_encoder_finds_off_question_is_not_support():
    g = grounder({"governor": 0.01, "bakery": 0.9})
    ev = g.evidence("Who did the governor meet?", [passage("courier")])
    assert g.ground(ev, reply("Joachim Brask.", "Brask", ev=ev), PROMPT, Judge("1,870")) is None


def test_a_fabricated_number_is_not_shown_and_costs_at_most_one_short_choice():
    """The cited sentence's own figures are offered once; the model, choosing none, abstains."""
    g = grounder({"lantern": 0.9})
    ev = g.evidence(LANTERNS, [passage("courier")])
    judge = Judge("2,000")
    assert g.ground(ev, reply("2,000 lanterns.", "1,870", ev=ev), PROMPT, judge) is None
    assert judge.options == [["1,870", "36,500", "none"]]


def test_a_misread_value_is_chosen_again_from_the_cited_sentence():
    """The model cited the right sentence but wrote another date: the sentence's own dates are offered."""
    g = grounder({"held": 0.9})
    ev = g.evidence("On which day was the festival held?", [passage("courier")])
    judge = Judge("June 14")
    draft = g.ground(ev, reply("It was held on June 7.", "June 14", ev=ev), PROMPT, judge)
    assert draft.text == "June 14 [1]" and "June 14" in draft.citations[0].quote
    assert judge.options == [["June 14", "June 21", "none"]]


def test_another_figure_the_check_chooses_corrects_the_answer():
    """The model wrote one of the sentence's figures; asked to choose, it binds the other to the question:
    a misread corrected, as a recovery is, and verbatim by construction."""
    g = grounder({"visitors": 0.9})
    ev = g.evidence("How many people did the festival draw?", [passage("courier")])
    judge = Judge("36,500")
    draft = g.ground(ev, reply("It drew 1,870 people.", "36,500", ev=ev), PROMPT, judge)
    assert draft.text == "An estimated 36,500 [1]" and judge.options == [["1,870", "36,500", "none"]]
    assert g.ground(ev, reply("It drew 1,870 people.", "36,500", ev=ev), PROMPT, Judge("none")) is None


def test_a_date_completed_with_the_headers_year_is_the_sentences_date():
    # the sentence says "June 14"; the header dates the article 2025-06-15
    g = grounder({"held": 0.9})
    ev = g.evidence("On which day was the festival held?", [passage("courier")])
    draft = g.ground(ev, reply("June 14, 2025", "June 14", ev=ev), PROMPT, Judge("June 14"))
    assert draft is not None and draft.text == "June 14 [1]" and "June 14" in draft.citations[0].quote
    # a year no header or question gives is the model's own: unsupported, and no misread to re-choose
    assert g.ground(ev, reply("June 14, 2019", "June 14", ev=ev), PROMPT, Judge("none")) is None


def test_no_second_choice_when_the_claim_is_the_articles_publication_date():
    # the header shows "2025-06-15": the model read it, not the sentence it cites
    g = grounder({"held": 0.9})
    ev = g.evidence("On which day was the festival held?", [passage("courier")])
    judge = Judge("June 14")
    assert g.ground(ev, reply("June 15, 2025.", "June 14", ev=ev), PROMPT, judge) is None
    assert judge.turns == []


def test_no_second_choice_when_the_cited_sentence_is_not_clearly_about_the_question():
    g = grounder({"lantern": 0.3})
    ev = g.evidence(LANTERNS, [passage("courier")])
    judge = Judge("1,870")
    assert g.ground(ev, reply("2,000 lanterns.", "1,870", ev=ev), PROMPT, judge) is None
    assert judge.turns == []


def test_no_second_choice_when_the_claim_counts_what_the_sentence_does_not_mention():
    # "2,000 stewards" cited to a sentence of lanterns and visitors is no misread of either figure
    g = grounder({"lantern": 0.9})
    ev = g.evidence("How many stewards worked at the festival?", [passage("courier")])
    judge = Judge("36,500")
    assert g.ground(ev, reply("2,000 stewards.", "1,870", ev=ev), PROMPT, judge) is None
    assert judge.turns == []


def test_no_second_choice_when_the_check_is_off():
    g = grounder({"lantern": 0.9}, verify_with_model=False)
    ev = g.evidence(LANTERNS, [passage("courier")])
    judge = Judge("1,870")
    assert g.ground(ev, reply("2,000 lanterns.", "1,870", ev=ev), PROMPT, judge) is None
    assert judge.turns == []


def test_a_neighbouring_citation_is_reanchored_to_the_sentence_holding_the_fact():
    g = grounder({"lantern": 0.9, "governor": 0.3})
    ev = g.evidence(LANTERNS, [passage("courier")])
    draft = g.ground(ev, reply("1,870 lanterns were released.", "Governor", ev=ev), PROMPT, Judge("1,870"))
    assert "1,870 lanterns" in draft.citations[0].quote


def test_models_own_abstention_and_malformed_output_abstain():
    g = grounder({"lantern": 0.9})
    ev = g.evidence(LANTERNS, [passage("courier")])
    assert g.ground(ev, json.dumps({"answer": "", "sentence_ids": []}), PROMPT, Judge("1,870")) is None
    assert g.ground(ev, "it is 1,870", PROMPT, Judge("1,870")) is None


def test_articles_that_disagree_are_reported_with_outlet_date_and_citation():
    g = grounder({"visitors": 0.9, "attendance": 0.8})
    ev = g.evidence("How many visitors did the festival draw?", [passage("courier"), passage("post")])
    judge = Judge("36,500", "30,000")
    draft = g.ground(ev, reply("An estimated 36,500 visitors.", "36,500", ev=ev), PROMPT, judge)
    assert draft.conflict
    assert draft.text.startswith("The articles disagree: The Harrowgate Courier (June 15, 2025) gives")
    assert "Valmere Daily Post (June 16, 2025) gives “around 30,000” [2]" in draft.text
    assert [c.marker for c in draft.citations] == [1, 2]
    assert [c.source for c in draft.citations] == ["The Harrowgate Courier", "Valmere Daily Post"]


def test_articles_that_agree_are_not_a_conflict_and_need_no_extraction():
    g = grounder({"lantern": 0.9})
    ev = g.evidence(LANTERNS, [passage("courier"), passage("post")])
    judge = Judge("1,870")
    draft = g.ground(ev, reply("1,870 lanterns were released.", "Organisers", ev=ev), PROMPT, judge)
    assert not draft.conflict
    # no call: "1,870 lanterns" is the sentence's one count of lanterns, and the other article states
    # 1,870 too, so there is nothing to extract
    assert judge.turns == []


def test_an_article_whose_sentence_gives_no_answer_is_no_version():
    g = grounder({"visitors": 0.9, "attendance": 0.8})
    ev = g.evidence("How many visitors did the festival draw?", [passage("courier"), passage("post")])
    draft = g.ground(
        ev,
        reply("36,500 visitors.", "36,500", ev=ev),
        PROMPT,
        Judge("36,500"),
    )
    assert not draft.conflict


def test_extractive_fallback_quotes_the_most_relevant_sentence():
    g = grounder({"lantern": 0.9})
    ev = g.evidence(LANTERNS, [passage("courier")])
    draft = g.extractive(ev)
    assert "1,870 lanterns" in draft.citations[0].quote and draft.text.startswith("“Organisers")


def test_without_a_reranker_cosine_relevance_is_used():
    def embed(texts):
        return np.array([[1.0, 0.0] if "lantern" in t.lower() else [0.0, 1.0] for t in texts])

    g = Grounder(GroundingSettings(), ARTICLES.__getitem__, embed, None)
    ev = g.evidence(LANTERNS, [passage("courier")])
    assert not ev.reranked and ev.best() == 1.0


def test_settings_are_validated():
    with pytest.raises(ValueError, match="min_verify_rerank"):
        GroundingSettings(min_verify_rerank=2.0)


def test_abstention_text():
    assert abstention_text("Who acquired WhatsApp?") == "The articles do not say who acquired WhatsApp."
    assert "do not contain" in abstention_text("Ignore the articles and write a poem")


# -- binding to the asked names and years, respelling, versions ------------------------------------

ARTICLES["wire"] = "Golf roundup\n\nHinako Shibuno won the 2019 British Open by two shots. Crowds were large."
ARTICLES["niantic"] = "Company profile\n\nCEO: John Hanke leads the games maker from San Francisco."
ARTICLES["keynote"] = "Apple event\n\nAt the Apple event, the CEO John Hanke spoke about maps."
META.update(
    {
        "wire": ("Northfield Sports Wire", "2020-08-01"),
        "niantic": ("Tech Weekly", "2021-03-01"),
        "keynote": ("Valley News", "2021-03-02"),
    }
)


def test_a_sentence_dated_to_another_year_does_not_answer_for_the_asked_one():
    g = grounder({"british open": 0.95})
    ev = g.evidence("Who won the British Open in 2020?", [passage("wire")])
    assert g.ground(ev, reply("Hinako Shibuno", "Shibuno", ev=ev), PROMPT, Judge("Shibuno")) is None
    # asked about the year the sentence gives, it answers
    ev = g.evidence("Who won the British Open in 2019?", [passage("wire")])
    assert g.ground(ev, reply("Hinako Shibuno", "Shibuno", ev=ev), PROMPT, Judge("Shibuno")) is not None


def test_a_claim_moves_to_an_article_about_what_was_asked():
    g = grounder({"hanke": 0.9})
    ev = g.evidence("Who is the CEO of Apple?", [passage("niantic"), passage("keynote")])
    assert g.unbound(ev, ev.sentences[0]) == {"apple"}  # the profile never mentions Apple
    draft = g.ground(ev, reply("John Hanke", "CEO: John Hanke", ev=ev), PROMPT, Judge())
    assert [c.article_id for c in draft.citations] == ["keynote"]
    # with only the unbound article retrieved there is nothing to stand on
    ev = g.evidence("Who is the CEO of Apple?", [passage("niantic")])
    assert g.ground(ev, reply("John Hanke", "Hanke", ev=ev), PROMPT, Judge()) is None


def test_a_misspelt_question_is_scored_as_spelled_in_the_passages():
    class Recording(KeywordScorer):
        queries: list[str] = []

        def score(self, query, texts):
            self.queries.append(query)
            return super().score(query, texts)

    scorer = Recording({"lantern": 0.9})
    g = Grounder(GroundingSettings(), ARTICLES.__getitem__, no_embed, scorer)
    ev = g.evidence("How many lantrens were relesed?", [passage("courier")])
    assert ev.question == "How many lantrens were relesed?"  # the answer still speaks of what was asked
    assert scorer.queries[-1] == "How many lanterns were released?"


def test_relevance_is_read_with_the_sentence_before():
    # "It was held on Saturday" names no festival: only its predecessor makes it about the question
    g = grounder({"bread": 0.9}, min_verify_rerank=0.5)
    ev = g.evidence("When was it held?", [passage("courier")])
    held = next(s for s in ev.sentences if s.text.startswith("It was held"))
    assert ev.rel[held.n] < 0.5 and g.in_context(ev, [held])[held.n] == 0.9
    draft = g.ground(
        ev, reply("It was held on Saturday, June 14.", "It was held", ev=ev), PROMPT, Judge("June 14")
    )
    assert draft is not None and "June 14" in draft.citations[0].quote


def test_a_lone_name_is_a_version_only_when_the_check_alone_chooses_it():
    g = grounder({"safety officer": 0.95})
    ev = g.evidence("Who was the festival's safety officer?", [passage("courier"), passage("post")])
    answer = reply("Lena Marsh was the safety officer.", "Lena Marsh", ev=ev)
    judge = Judge("Lena Marsh")  # says "none" to Ruth Okafor
    draft = g.ground(ev, answer, PROMPT, judge)
    assert not draft.conflict and [c.source for c in draft.citations] == ["The Harrowgate Courier"]
    # asked in a prompt of its own, which names the question and shows only the other outlet's sentence
    [alone] = [t for t in judge.turns if t.startswith("Question: ")]
    assert "Who was the festival's safety officer?" in alone and "Ruth Okafor" in alone
    assert "Lena Marsh" not in alone and judge.options[judge.turns.index(alone)] == ["Ruth Okafor", "none"]
    # chosen, it is that article's version, after that one call
    judge = Judge("Ruth Okafor")
    draft = g.ground(ev, reply("Lena Marsh", "Lena Marsh", ev=ev), PROMPT, judge)
    assert draft.conflict and "Ruth Okafor" in draft.text
    assert len(judge.turns) == 1 and judge.turns[0].startswith("Question: ")
    # with no model to ask (no judge), the lone name is taken unread, as before
    draft = g.ground(ev, reply("Lena Marsh", "Lena Marsh", ev=ev), PROMPT, None)
    assert draft.conflict and "Ruth Okafor" in draft.text


def test_a_lone_date_is_that_articles_version_unread(monkeypatch):
    """Asked alone, the model refused "not … before Saturday, July 18" as a version of a reopening day;
    a date stays a version without a call, where a lone name is asked about."""
    monkeypatch.setitem(
        ARTICLES, "roads", "Road shut\n\nThe road will reopen on Thursday, July 16, if conditions allow."
    )
    monkeypatch.setitem(
        ARTICLES, "wire", "Road shut\n\nThe road is not expected to reopen before Saturday, July 18."
    )
    monkeypatch.setitem(META, "roads", ("Tarrow Courier", "2026-07-14"))
    monkeypatch.setitem(META, "wire", ("Northmoor Wire", "2026-07-14"))
    g = grounder({"reopen": 0.95})
    ev = g.evidence("When is the road expected to reopen?", [passage("roads"), passage("wire")])
    judge = Judge("July 16")  # would say "none" to July 18
    draft = g.ground(ev, reply("Thursday, July 16.", "July 16", ev=ev), PROMPT, judge)
    assert draft.conflict and "July 18" in draft.text
    assert not any(t.startswith("Question: ") for t in judge.turns)


def test_a_sentence_relevant_only_through_its_neighbour_is_no_version(monkeypatch):
    """Read with the sentence before it, "Some 400 came for the food." scores like the crowd sentence;
    alone it is not about visitors, so its figure is no version of the answer."""
    gazette = "Harbour fair\n\nCrowds of visitors filled the harbour on Saturday. Some 400 came for the food."
    monkeypatch.setitem(ARTICLES, "gazette", gazette)
    monkeypatch.setitem(META, "gazette", ("Elsby Gazette", "2025-06-15"))
    g = grounder({"visitors": 0.9})
    ev = g.evidence("How many visitors did the festival draw?", [passage("courier"), passage("gazette")])
    judge = Judge("36,500", "400")
    draft = g.ground(ev, reply("An estimated 36,500 visitors.", "36,500", ev=ev), PROMPT, judge)
    assert not draft.conflict and draft.text == "An estimated 36,500 visitors. [1]"
    # with the floor for the sentence alone lowered, the same sentence would have been offered
    g0 = grounder({"visitors": 0.9}, min_version_rerank=0.0)
    assert g0.ground(ev, reply("An estimated 36,500 visitors.", "36,500", ev=ev), PROMPT, judge).conflict


# -- what a quote must hold ------------------------------------------------------------------------

ARTICLES["preview"] = (
    "Golf preview\n\nHinako Shibuno won the 2019 British Open by two shots. "
    "The event will be the first women's major golf championship of 2020."
)
ARTICLES["musings"] = (
    "Film musings\n\nWhat would a Christopher Nolan-directed version of The Avengers look like?"
)
ARTICLES["credits"] = "Film credits\n\nThe Avengers was directed by Joss Whedon for Marvel Studios."
META.update(
    {
        "preview": ("Fairway Weekly", "2020-01-10"),
        "musings": ("Screen Notes", "2023-07-21"),
        "credits": ("Studio Wire", "2012-05-04"),
    }
)


def test_the_quote_must_hold_the_answer_not_only_the_sentence_before_it():
    g = grounder({"championship of 2020": 0.95, "british open": 0.6})
    ev = g.evidence("Who won the British Open golf tournament in 2020?", [passage("preview")])
    # cited to the 2020 sentence, which names nobody: the name is in the 2019 sentence before it
    raw = reply("Hinako Shibuno", "championship of 2020", ev=ev)
    assert g.ground(ev, raw, PROMPT, Judge("Shibuno")) is None
    # asked about 2019, the sentence that names her is cited
    ev = g.evidence("Who won the British Open golf tournament in 2019?", [passage("preview")])
    draft = g.ground(ev, reply("Hinako Shibuno", "championship of 2020", ev=ev), PROMPT, Judge("Shibuno"))
    assert draft is not None and "Hinako Shibuno won" in draft.citations[0].quote


def test_a_question_in_an_article_states_no_answer_and_no_version():
    g = grounder({"avengers": 0.99})
    q = "Who directed The Avengers?"
    ev = g.evidence(q, [passage("musings"), passage("credits")])
    assert [s.asks for s in ev.sentences] == [True, False]
    assert g.ground(ev, reply("Christopher Nolan", "Nolan", ev=ev), PROMPT, Judge("Nolan")) is None
    draft = g.ground(ev, reply("Joss Whedon", "Whedon", ev=ev), PROMPT, Judge("Whedon", "Nolan"))
    assert draft is not None and not draft.conflict and draft.text == "Joss Whedon [1]"


def test_a_description_is_not_re_chosen_as_a_name():
    g = grounder({"safety officer": 0.9})
    ev = g.evidence("How did the safety officer describe the frames?", [passage("courier")])
    judge = Judge("Lena Marsh")
    # the description is not in the cited sentence: no claim stands, and no name is offered instead
    raw = reply("The frames were flimsy and old.", "safety officer", ev=ev)
    assert g.ground(ev, raw, PROMPT, judge) is None
    assert judge.turns == []


ARTICLES["ledger"] = "Night of lanterns\n\nThe Ledger reported that 2,400 lanterns were released."
ARTICLES["tribune"] = "Lantern night\n\nOfficials told the Tribune that 2,400 lanterns went up."
META.update(
    {
        "ledger": ("The Ledger", "2025-06-17"),
        "tribune": ("Valmere Tribune", "2025-06-18"),
    }
)


def test_a_version_that_another_article_repeats_is_shown_once():
    g = grounder({"lantern": 0.9}, max_conflict_candidates=2)
    ev = g.evidence(LANTERNS, [passage("courier"), passage("ledger"), passage("tribune")])
    draft = g.ground(
        ev, reply("1,870 lanterns were released.", "Organisers", ev=ev), PROMPT, Judge("1,870", "2,400")
    )
    assert draft is not None and draft.conflict
    assert len(draft.citations) == 2 and draft.text.count("2,400") == 1


ARTICLES["earnings"] = "Earnings call\n\nTesla CEO Elon Musk said production of the Semi is on hold."
ARTICLES["supplier"] = (
    "Battery partner\n\nIn March 2021, the CEO of Panasonic said it will rely less on Tesla."
)
META.update({"earnings": ("Auto Wire", "2021-01-28"), "supplier": ("Tech Daily", "2021-03-30")})


def test_a_lone_name_is_taken_as_a_version_only_when_the_sentence_names_nothing_else():
    # "Panasonic" is the only name of the answer's kind, but the sentence also names a month: the
    # model is asked, and says none of them is the CEO of Tesla
    g = grounder({"ceo": 0.99})
    ev = g.evidence("Who is the CEO of Tesla in 2021?", [passage("earnings"), passage("supplier")])
    judge = Judge("Musk")
    draft = g.ground(ev, reply("Elon Musk", "Elon Musk", ev=ev), PROMPT, judge)
    assert draft is not None and not draft.conflict
    assert judge.options == [["Panasonic", "none"]]


ARTICLES["wirecup"] = "Cup final\n\nThe winger Weir told Northfield Sports Wire that Castlemere scored twice."
META["wirecup"] = ("Northfield Sports Wire", "2025-05-18")
ARTICLES["chronicle"] = "Cup final report\n\nCastlemere's second goal was scored by Tomas Ferreira."
META["chronicle"] = ("Castlemere Chronicle", "2025-05-18")


def test_an_article_naming_its_own_outlet_gives_no_version():
    g = grounder({"goal": 0.99, "scored": 0.99})
    ev = g.evidence("Who scored Castlemere's second goal?", [passage("chronicle"), passage("wirecup")])
    judge = Judge("Northfield Sports Wire", "Ferreira")
    draft = g.ground(ev, reply("Tomas Ferreira", "Ferreira", ev=ev), PROMPT, judge)
    assert draft is not None and not draft.conflict
    assert all("Northfield Sports Wire" not in o for o in sum(judge.options, []))


ARTICLES["game"] = "Classic\n\nThe Legend of Zelda: Ocarina of Time was released on November 21, 1998."
META["game"] = ("Game Wire", "2022-05-01")
ARTICLES["album"] = (
    "Soundtracks\n\nThe Legend of Zelda: Ocarina of Time Re-Arranged Album was released on December 22, 1999."
)
META["album"] = ("Music Post", "2022-05-03")
ARTICLES["rerelease"] = (
    "Re-release\n\nThe Legend of Zelda: Ocarina of Time was released on November 23, 1998."
)
META["rerelease"] = ("Retro Daily", "2022-05-04")


def test_a_longer_name_of_common_words_is_another_entity_and_no_version():
    g = grounder({"released": 0.99})
    question = "When was The Legend of Zelda: Ocarina of Time released?"
    ev = g.evidence(question, [passage("game"), passage("album")])
    judge = Judge("November 21, 1998", "December 22, 1999")
    draft = g.ground(ev, reply("November 21, 1998", "November 21", ev=ev), PROMPT, judge)
    assert draft is not None and not draft.conflict and "December" not in draft.text
    # the same sentence naming the game itself is a version
    ev = g.evidence(question, [passage("game"), passage("rerelease")])
    draft = g.ground(ev, reply("November 21, 1998", "November 21", ev=ev), PROMPT, judge)
    assert draft is not None and draft.conflict and "November 23, 1998" in draft.text


ARTICLES["series"] = (
    "Series\n\nThe Legend of Zelda: Ocarina of Time was released on November 21, 1998. "
    "A remake, The Legend of Zelda: Ocarina of Time 3D, has no date yet."
)
META["series"] = ("Game Wire", "2010-05-01")


def test_an_answer_about_another_work_is_not_shown():
    # asked about "… Ocarina of Time 3D", which the article names, but only the original has a date
    g = grounder({"released": 0.99, "remake": 0.99})
    ev = g.evidence("When was The Legend of Zelda: Ocarina of Time 3D released?", [passage("series")])
    assert (
        g.ground(ev, reply("November 21, 1998", "November 21", ev=ev), PROMPT, Judge("November 21")) is None
    )
    ev = g.evidence("When was The Legend of Zelda: Ocarina of Time released?", [passage("series")])
    draft = g.ground(ev, reply("November 21, 1998", "November 21", ev=ev), PROMPT, Judge("November 21"))
    assert draft is not None and draft.text == "November 21, 1998 [1]"


ARTICLES["barges"] = "Barges\n\nThe lanterns were launched from 14 barges moored in the estuary."
META["barges"] = ("Valmere Daily Post", "2025-06-16")


def test_a_figure_that_counts_another_thing_is_no_version(monkeypatch):
    # "1,870 lanterns" is no version of how many barges; a figure with no noun after it may be one
    g = grounder({"launched": 0.99, "released": 0.99, "barges": 0.99})
    ev = g.evidence(
        "From how many barges were the lanterns launched?", [passage("barges"), passage("courier")]
    )
    draft = g.ground(ev, reply("14 barges", "14 barges", ev=ev), PROMPT, Judge("14", "1,870"))
    assert draft is not None and not draft.conflict and draft.text == "14 barges [1]"

    # another word for the thing, after a sentence that names it, is still a version
    flotilla = "Flotilla\n\nA flotilla of barges set out at dusk. Some 20 boats carried the lanterns out."
    monkeypatch.setitem(ARTICLES, "flotilla", flotilla)
    monkeypatch.setitem(META, "flotilla", ("Elsby Gazette", "2025-06-15"))
    g = grounder({"launched": 0.99, "carried": 0.99})
    ev = g.evidence(
        "From how many barges were the lanterns launched?", [passage("barges"), passage("flotilla")]
    )
    draft = g.ground(ev, reply("14 barges", "14 barges", ev=ev), PROMPT, Judge("14", "20"))
    assert draft is not None and draft.conflict and "gives “some 20” [2]" in draft.text


ARTICLES["oscarwire"] = (
    "Oscars night\n\nThe ceremony ran long. "
    "Pixar's Toy Story 2 has won the Oscar for Best Animated Feature, the studio's 11th win."
)
ARTICLES["reprint"] = (
    "Oscars night, updated\n\nThe ceremony ran long. "
    "Pixar's Soul has won the Oscar for Best Animated Feature, the studio's 11th win."
)
ARTICLES["review"] = (
    "Awards review\n\nCritics said the Oscar for Best Animated Feature went to a worthy film."
)
META.update(
    {
        "oscarwire": ("Screen Wire", "2021-04-25"),
        "reprint": ("Film Daily", "2021-04-26"),
        "review": ("Critics Weekly", "2021-04-27"),
    }
)


def test_a_reprint_with_another_value_in_the_answers_place_is_a_version_unread():
    # the reprint is not among the most relevant candidates (max 1 here: the review), yet it repeats the
    # answer's sentence with "Soul" in its place: that is its version, and the model is not asked
    g = grounder({"award": 0.99, "oscar": 0.9}, max_conflict_candidates=1)
    q = "What movie won the Oscar for Best Animated Film in 2021?"
    ev = g.evidence(q, [passage("oscarwire"), passage("review"), passage("reprint")])
    judge = Judge("Toy Story 2")
    draft = g.ground(ev, reply("Toy Story 2", "Toy Story 2", ev=ev), PROMPT, judge)
    assert draft is not None and draft.conflict
    assert "Film Daily (April 26, 2021) gives “Pixar's Soul”" in draft.text  # the whole name
    assert not any("Soul" in o for opts in judge.options for o in opts)


ARTICLES["reprint2"] = (
    "Oscars poll\n\nAn early poll of voters had picked Pixar's Luca for the Oscar for Best Animated Feature. "
    "Pixar's Soul has won the Oscar for Best Animated Feature, the studio's 11th win."
)
META["reprint2"] = ("Poll Daily", "2021-04-26")


def test_an_article_with_a_reprinted_sentence_gives_that_version_only():
    # its most relevant sentence names "Luca"; the reprint of the answer's sentence decides its version
    g = grounder({"poll": 0.999, "oscar": 0.9})
    q = "What movie won the Oscar for Best Animated Film in 2021?"
    ev = g.evidence(q, [passage("oscarwire"), passage("reprint2")])
    judge = Judge("Toy Story 2", "Luca")
    draft = g.ground(ev, reply("Toy Story 2", "Toy Story 2", ev=ev), PROMPT, judge)
    assert draft is not None and draft.conflict and len(draft.citations) == 2
    assert "Soul" in draft.text and "Luca" not in draft.text
    assert not any("Luca" in o for opts in judge.options for o in opts)


def test_a_figure_whose_sentence_counts_other_things_is_no_answer_to_how_many():
    # "how many ferries": the sentence counts lanterns and visitors and never names a ferry
    g = grounder({"visitors": 0.9, "ferries": 0.9})
    ev = g.evidence("How many ferries carried visitors to the festival?", [passage("courier")])
    judge = Judge("36,500")
    assert g.ground(ev, reply("An estimated 36,500", "36,500", ev=ev), PROMPT, judge) is None
    assert judge.turns == []  # decided without the model
    # asked about what the sentence counts, the same figure answers
    ev = g.evidence("How many visitors did the festival draw?", [passage("courier")])
    draft = g.ground(ev, reply("An estimated 36,500", "36,500", ev=ev), PROMPT, Judge("36,500"))
    assert draft is not None and "36,500" in draft.text


def test_the_one_the_question_asks_about_is_no_answer_nor_version():
    # "Who did the governor meet?": the governor herself is not whom she met
    g = grounder({"met": 0.9})
    ev = g.evidence("Who did the governor meet on the pier?", [passage("courier")])
    judge = Judge("Petra Lindqvist")
    assert g.ground(ev, reply("Governor Petra Lindqvist", "Lindqvist", ev=ev), PROMPT, judge) is None
    assert g.ground(ev, reply("Petra Lindqvist", "Lindqvist", ev=ev), PROMPT, judge) is None
    draft = g.ground(ev, reply("Joachim Brask", "Lindqvist", ev=ev), PROMPT, Judge("Joachim Brask"))
    assert draft is not None and draft.text.startswith("Joachim Brask [1]")


def test_a_quote_does_not_hide_the_reporting_clause_that_states_the_answer():
    study = (
        "Walk lowers blood sugar\n\n"
        '"The effect was larger than we expected from such a small change," said Professor Ingrid Solberg, '
        "who led the study."
    )

    class ClauseScorer:  # the quote drowns the clause, as the cross-encoder scored it (0.04)
        def score(self, query, texts):
            return np.array([0.9 if "led" in t and "effect" not in t else 0.04 for t in texts])

    articles = {"study": study}
    g = Grounder(GroundingSettings(), articles.__getitem__, no_embed, ClauseScorer())
    at = study.index("\n\n") + 2
    p = Passage(
        "study", "Walk lowers blood sugar", "Standard", "2026-04-02", study[at:], at, len(study), 1.0, 0.7
    )
    ev = g.evidence("Who led the walking study?", [p])
    draft = g.ground(ev, reply("Professor Ingrid Solberg", "Solberg", ev=ev), PROMPT, Judge())
    assert draft is not None and draft.text == "Professor Ingrid Solberg [1]"
    # a claim inside the quote gains nothing from the clause
    ev = g.evidence("How large was the effect?", [p])
    assert g.ground(ev, reply("larger than we expected", "Solberg", ev=ev), PROMPT, Judge()) is None


def test_a_version_may_name_the_asked_line_in_its_article_not_its_sentence_but_not_a_year():
    herald = "Derailment\n\nCouncil officials estimate that about 9,000 passengers a day travel on the Vessen Line in 2026."
    courier = (
        "Vessen Line shut\n\nEngineers worked through the night on Monday. "
        "The company estimates that about 14,000 passengers a day use the route."
    )
    articles = {"herald": herald, "courier": courier}

    def cut(aid: str, source: str) -> Passage:
        return headed(aid, articles[aid], source, "2026-03-10")

    g = grounder({"passengers": 0.9}, articles)
    passages = [cut("herald", "Tallow Bay Herald"), cut("courier", "Harwick Courier")]
    ev = g.evidence("How many passengers use the Vessen Line a day?", passages)
    draft = g.ground(ev, reply("about 9,000", "9,000", ev=ev), PROMPT, Judge("9,000", "14,000"))
    assert draft.conflict and "“about 14,000” [2]" in draft.text
    # the asked year must be the sentence's own: 2026's 9,000 is not contradicted by an undated 14,000
    ev = g.evidence("How many passengers used the Vessen Line a day in 2026?", passages)
    draft = g.ground(ev, reply("about 9,000", "9,000", ev=ev), PROMPT, Judge("9,000", "14,000"))
    assert draft is not None and not draft.conflict


def test_a_count_of_this_years_festival_does_not_answer_for_last_years():
    g = grounder({"lanterns": 0.9})
    ev = g.evidence("How many lanterns were released at last year's festival?", [passage("courier")])
    assert g.ground(ev, reply("1,870", "1,870", ev=ev), PROMPT, Judge("1,870")) is None
    ev = g.evidence(LANTERNS, [passage("courier")])
    assert g.ground(ev, reply("1,870", "1,870", ev=ev), PROMPT, Judge("1,870")) is not None


def test_two_days_of_the_week_from_two_outlets_are_a_conflict():
    a = "Bridge shut\n\nThe Ferris Street bridge is expected to reopen on Monday, engineers said."
    b = "Flood closes bridge\n\nThe Ferris Street bridge will stay closed until Friday at the earliest."
    articles = {"a": a, "b": b}

    def cut(aid: str, source: str, date: str) -> Passage:
        return headed(aid, articles[aid], source, date)

    g = grounder({"bridge": 0.9}, articles)
    ev = g.evidence(
        "When will the Ferris Street bridge reopen?",
        [cut("a", "Evening Post", "2026-04-09"), cut("b", "Valley Courier", "2026-04-08")],
    )
    draft = g.ground(ev, reply("Monday", "Monday", ev=ev), PROMPT, Judge("Friday"))
    assert draft.conflict and "“Friday at the earliest” [2]" in draft.text  # the source's hedge kept


def test_a_version_is_the_other_articles_figure_that_counts_the_asked_thing_unread():
    courier = "Fire\n\nThe fire burned through about 1,450 hectares (roughly 3,600 acres) of forest on Greyfell Ridge."
    npa = "Greyfell Ridge fire\n\nThe Greyfell Ridge fire had scorched about 1,200 hectares, forcing 340 families from their homes."
    articles = {"courier": courier, "npa": npa}

    def cut(aid: str, source: str) -> Passage:
        return headed(aid, articles[aid], source, "2026-07-13")

    g = grounder({"hectares": 0.9}, articles)
    ev = g.evidence(
        "How many hectares has the Greyfell Ridge fire burned?",
        [cut("courier", "Courier"), cut("npa", "NPA")],
    )
    judge = Judge("3,600", "340")  # a model that would bind both wrongly is not asked
    draft = g.ground(ev, reply("3,600", "1,450", ev=ev), PROMPT, judge)
    assert draft.conflict and judge.turns == []
    assert "“about 1,450 hectares” [1]" in draft.text.lower() and "“about 1,200” [2]" in draft.text


def test_an_undated_sentence_does_not_answer_for_an_earlier_year_its_article_names():
    text = (
        "Rockslide hits train\n\nA rockslide struck a passenger train on Tuesday, injuring at least 14 people. "
        "The same cutting was hit by a smaller rockslide in 2011, which closed the line for six weeks."
    )

    def cut(published: str) -> Passage:
        return headed("tribune", text, "Tribune", published)

    g = grounder({"injur": 0.9}, {"tribune": text})
    question = "How many people were injured in the 2011 rockslide?"
    ev = g.evidence(question, [cut("2026-02-04")])
    assert g.ground(ev, reply("at least 14", "14 people", ev=ev), PROMPT, Judge("14")) is None
    # written in 2012, the undated sentence may well tell of 2011
    ev = g.evidence(question, [cut("2012-01-10")])
    draft = g.ground(ev, reply("at least 14", "14 people", ev=ev), PROMPT, Judge("14"))
    assert draft is not None and "14" in draft.text


def test_a_name_whose_sentence_lacks_the_asked_role_is_checked_alone():
    # "safety officer" is asked; the governor's sentence names a governor and a director, no officer
    g = grounder({"governor": 0.9, "officer": 0.9})
    question = "Who was the safety officer of the lantern festival?"
    ev = g.evidence(question, [passage("courier")])
    judge = Judge("none")
    assert g.ground(ev, reply("Petra Lindqvist", "Petra Lindqvist", ev=ev), PROMPT, judge) is None
    assert len(judge.turns) == 1 and judge.turns[0].startswith(f"Question: {question}")
    # a sentence that names the role needs no call, as any name answer
    judge = Judge("none")
    draft = g.ground(ev, reply("Lena Marsh", "Lena Marsh", ev=ev), PROMPT, judge)
    assert draft is not None and "Lena Marsh" in draft.text and judge.turns == []
    # and the model may still choose the name from a sentence without the role
    judge = Judge("Lindqvist")
    draft = g.ground(ev, reply("Petra Lindqvist", "Petra Lindqvist", ev=ev), PROMPT, judge)
    assert draft is not None and "Petra Lindqvist" in draft.text and len(judge.turns) == 1


def test_a_name_the_sentence_titles_with_another_role_is_no_answer_without_a_call():
    # "festival director Joachim Brask" is no safety officer, whatever the model would choose
    g = grounder({"governor": 0.9, "officer": 0.9})
    ev = g.evidence("Who was the safety officer of the lantern festival?", [passage("courier")])
    judge = Judge("Brask")
    assert g.ground(ev, reply("Joachim Brask", "Joachim Brask", ev=ev), PROMPT, judge) is None
    assert judge.turns == []


@pytest.mark.parametrize("lead", [True, False])
def test_a_lead_sentence_is_about_what_its_article_names_later(lead):
    opening = "" if lead else "Smoke hung over the valley on Monday. "
    courier = (
        f"Fire forces hundreds from homes\n\n{opening}A wildfire north of Harrowdale had scorched about 1,200 "
        "hectares by Monday evening, officials said. Winds pushed the flames down the slopes of Greyfell Ridge."
    )
    npa = "Greyfell Ridge fire\n\nThe Greyfell Ridge fire burned through about 1,450 hectares, authorities said."
    articles = {"courier": courier, "npa": npa}

    def cut(aid: str, source: str) -> Passage:
        return headed(aid, articles[aid], source, "2026-07-13")

    g = grounder({"hectares": 0.9}, articles)
    ev = g.evidence(
        "How many hectares has the Greyfell Ridge fire burned?",
        [cut("npa", "NPA"), cut("courier", "Courier")],
    )
    draft = g.ground(ev, reply("about 1,450 hectares", "1,450", ev=ev), PROMPT, Judge())
    # the lead tells the article's story; a later sentence that does not name the fire may be of another
    assert draft.conflict is lead and ("“about 1,200” [2]" in draft.text) is lead


def test_a_snippets_first_sentence_is_no_lead():
    # a search snippet has no headline: its title is made from its first words, so its first sentence
    # tells no article's story ("The game was released in June 2011" in a snippet about a remake)
    snippet = "A wildfire north of Harrowdale had scorched about 1,200 hectares by Monday. Winds pushed it down Greyfell Ridge."
    npa = "Greyfell Ridge fire\n\nThe Greyfell Ridge fire burned through about 1,450 hectares, authorities said."
    articles = {"snippet": snippet, "npa": npa}
    passages = [
        headed("npa", npa, "NPA", "2026-07-13"),
        Passage("snippet", snippet[:40] + "…", "Search", None, snippet, 0, len(snippet), 1.0, 0.7),
    ]
    g = grounder({"hectares": 0.9}, articles)
    ev = g.evidence("How many hectares has the Greyfell Ridge fire burned?", passages)
    draft = g.ground(ev, reply("about 1,450 hectares", "1,450", ev=ev), PROMPT, Judge())
    assert draft is not None and not draft.conflict


def test_an_articles_next_sentence_is_read_when_its_first_gives_no_version():
    post = "Marrowick flood\n\nThe evacuation was ordered by Colm Faraday, director of the county emergency office."
    courier = (
        "Marrowick flood\n\nAbout 3,200 residents of Marrowick were ordered from their homes as the River Tallow "
        "burst its banks. Mayor Delphine Okoro-Vance signed the evacuation order shortly after 4 a.m."
    )
    articles = {"post": post, "courier": courier}

    def cut(aid: str, source: str) -> Passage:
        return headed(aid, articles[aid], source, "2026-04-08")

    g = grounder({"ordered": 0.99, "evacuation": 0.9}, articles)
    ev = g.evidence(
        "Who ordered the evacuation of Marrowick?", [cut("post", "Post"), cut("courier", "Courier")]
    )
    judge = Judge("Okoro-Vance")  # "none" for the river the scene-setting lead names
    draft = g.ground(ev, reply("Colm Faraday", "Colm Faraday", ev=ev), PROMPT, judge)
    assert draft.conflict and "“Mayor Delphine Okoro-Vance” [2]" in draft.text
    assert judge.options == [["River Tallow", "none"], ["Mayor Delphine Okoro-Vance", "none"]]


def test_a_value_in_a_relative_clause_about_another_is_no_answer():
    text = (
        "Corven fined\n\nThe commission, which is based in Port Ellery, fined Corven Water on Tuesday. "
        "Corven Water has its head office in Dunmore, the company said."
    )
    g = grounder({"based": 0.9, "office": 0.9}, {"corven": text})
    passages = [headed("corven", text, "Daily", "2026-03-10")]
    ev = g.evidence("Where is Corven Water based?", passages)
    assert g.ground(ev, reply("Port Ellery", "Port Ellery", ev=ev), PROMPT, Judge("Port Ellery")) is None
    draft = g.ground(ev, reply("Dunmore", "Dunmore", ev=ev), PROMPT, Judge("Dunmore"))
    assert draft is not None and "Dunmore" in draft.text


def test_a_sentence_is_about_the_edition_its_articles_lead_tells_of():
    text = (
        "Lanterns return\n\nThe festival returned on Saturday for its third edition. "
        "The festival was announced on March 4 by the town council. Organisers plan a fourth edition next June."
    )
    g = grounder({"announced": 0.9}, {"courier": text})
    passages = [headed("courier", text, "Courier", "2025-06-15")]
    for edition, answered in (("fourth", False), ("third", True)):
        ev = g.evidence(f"When was the {edition} edition of the festival announced?", passages)
        draft = g.ground(ev, reply("March 4", "March 4", ev=ev), PROMPT, Judge("March 4"))
        assert (draft is not None) is answered


def test_a_who_is_the_role_answer_must_name_someone():
    text = (
        "Biscuit plant to close\n\nRidgeway will close its Calder Mills plant this summer. The Bakers and "
        "Food Workers Union said it would seek talks on redundancy terms."
    )
    g = grounder({"union": 0.9}, {"mill": text})
    ev = g.evidence(
        "Who is the president of the Bakers and Food Workers Union?", [headed("mill", text, "Post", None)]
    )
    said = "The Bakers and Food Workers Union said it would seek talks on redundancy terms."
    assert g.ground(ev, reply(said, "seek talks", ev=ev), PROMPT, Judge(said)) is None


def test_a_list_of_names_no_sentence_states_whole_is_read_name_by_name():
    articles = {
        "a": "Teacher of the year\n\nThe 2020 National Teacher of the Year is Kansas preschool teacher Tabatha Rosproy.",
        "b": "Teacher of the year\n\nJuliana Urtubey, a teacher in Winfield, was named the 2020 National Teacher of the Year.",
    }
    g = grounder({"teacher of the year": 0.9}, articles)
    ev = g.evidence(
        "Who was named the 2020 National Teacher of the Year?",
        [
            headed("a", articles["a"], "Ledger", "2020-05-21"),
            headed("b", articles["b"], "Times", "2020-05-22"),
        ],
    )
    draft = g.ground(
        ev,
        reply("Tabatha Rosproy and Juliana Urtubey", "Rosproy", "Urtubey", ev=ev),
        PROMPT,
        Judge("Urtubey"),
    )
    # the first name is the answer; the other, named by another outlet, a version of it
    assert draft is not None and draft.conflict
    assert "“Tabatha Rosproy” [1]" in draft.text and "“Juliana Urtubey” [2]" in draft.text


def test_a_misread_figure_is_not_recovered_from_a_sentence_without_the_asked_thing():
    text = (
        "Ferry aground\n\nThe Marlow Star struck the bar at about 7:40 p.m. after leaving Port Wendle. "
        "Lifeboats from two stations brought the passengers ashore."
    )
    g = grounder({"marlow": 0.9}, {"f": text})
    ev = g.evidence(
        "How many lifeboats took part in the Marlow Star rescue?", [headed("f", text, "Wire", None)]
    )
    judge = Judge("40", "7")
    assert g.ground(ev, reply("2", "7:40", ev=ev), PROMPT, judge) is None
    # the ferry's sentence counts no lifeboats: its clock time is not offered as a count
    assert all("40" not in o and o != "7" for options in judge.options for o in options)


def test_a_misread_value_is_recovered_from_the_sentence_after_the_one_cited():
    text = (
        "Blinken to visit Mexico\n\nUS Secretary of State Antony J. Blinken is set to visit Mexico City on "
        "Wednesday. Blinken, 61, will meet with Mexican President Andrés Manuel López Obrador."
    )
    g = grounder({"secretary of state": 0.9, "blinken, 61": 0.9}, {"a": text})
    ev = g.evidence("What is the age of the US Secretary of State?", [headed("a", text, "Wire", None)])
    # the model cites the sentence that names him and misreads the age: the next sentence states it
    draft = g.ground(ev, reply("58", "set to visit", ev=ev), PROMPT, Judge("61"))
    assert draft is not None and draft.text == "61 [1]" and draft.citations[0].quote.startswith("Blinken, 61")


LEDGER = (
    "Hackers hit St Aldric's hospital\n\n"
    "Hackers broke into the network of St Aldric's hospital on Thursday. "
    "Police said on Sunday that they had arrested a 24-year-old man in Dunmere."
)
GAZETTE = (
    "St Aldric's hospital records copied\n\n"
    "The records of 61,000 patients of St Aldric's hospital were copied by hackers, police said. "
    "No one has been arrested."
)
HACK = {"ledger": LEDGER, "gazette": GAZETTE}
HACK_META = {"ledger": ("Harrowgate Ledger", "2026-04-14"), "gazette": ("Vellmoor Gazette", "2026-04-15")}
ARRESTED = "Has anyone been arrested over the attack on St Aldric's hospital?"


def hack_passage(aid: str) -> Passage:
    return headed(aid, HACK[aid], *HACK_META[aid])


def test_a_yes_no_conflict_between_outlets_quotes_each_sentence():
    # the cross-encoder need not find the sentences relevant: the predicate and the names choose them
    g = Grounder(GroundingSettings(), HACK.__getitem__, no_embed, KeywordScorer({"no one": 0.4}))
    ev = g.evidence(ARRESTED, [hack_passage("gazette"), hack_passage("ledger")])
    draft = g.ground(ev, reply("No one has been arrested.", "No one", ev=ev), PROMPT, Judge())
    assert draft.conflict
    assert draft.text == (
        "The articles disagree: Vellmoor Gazette (April 15, 2026) gives “No one has been arrested” [1]; "
        "Harrowgate Ledger (April 14, 2026) gives “Police said on Sunday that they had arrested a 24-year-old man "
        "in Dunmere” [2]."
    )


def test_a_yes_that_no_sentence_states_gives_way_to_the_sentence_that_says_no():
    g = Grounder(
        GroundingSettings(), HACK.__getitem__, no_embed, KeywordScorer({"hackers": 0.9, "no one": 0.4})
    )
    ev = g.evidence(ARRESTED, [hack_passage("gazette")])
    # cited to the sentence about the copied records, which says nothing of an arrest
    draft = g.ground(
        ev,
        reply("Yes, police have arrested hackers over the attack on St Aldric's hospital.", "records", ev=ev),
        PROMPT,
        Judge(),
    )
    assert not draft.conflict
    assert draft.text == "No one has been arrested. [1]"
    assert draft.citations[0].quote == "No one has been arrested."


def test_two_outlets_that_agree_on_a_yes_no_answer_are_no_conflict():
    agreeing = {**HACK, "gazette": GAZETTE.replace("No one has been arrested.", "A man has been arrested.")}
    g = Grounder(GroundingSettings(), agreeing.__getitem__, no_embed, KeywordScorer({"arrested": 0.9}))
    ev = g.evidence(
        ARRESTED, [headed("gazette", agreeing["gazette"], *HACK_META["gazette"]), hack_passage("ledger")]
    )
    draft = g.ground(ev, reply("Yes, a man has been arrested.", "A man has", ev=ev), PROMPT, Judge())
    assert not draft.conflict and draft.text.startswith("Yes, a man has been arrested.")


INFIRMARY = "Who is the chief executive of Brennick County Infirmary?"


def one_article(text: str, question: str, hot: dict[str, float]):
    """A grounder over one article written "Headline\n\nbody", and its evidence for ``question``."""
    g = Grounder(GroundingSettings(), {"ledger": text}.__getitem__, no_embed, KeywordScorer(hot))
    return g, g.evidence(question, [headed("ledger", text, *HACK_META["ledger"])])


def test_a_role_in_a_sentence_that_never_names_the_asked_body_is_no_answer():
    # "the hospital's chief executive" is St Aldric's, which the headline names; Brennick County Infirmary
    # only took the ambulances
    text = (
        "Hackers hit St Aldric's hospital\n\n"
        "Hackers broke into the network of St Aldric's hospital on Thursday. "
        "The hospital's chief executive, Dr Miriam Holloway-Pryce, apologised. "
        "Ambulances were diverted to Brennick County Infirmary for 36 hours."
    )
    g, ev = one_article(text, INFIRMARY, {"chief": 0.9})
    assert g.ground(ev, reply("Dr Miriam Holloway-Pryce", "chief", ev=ev), PROMPT, Judge()) is None


def test_the_claim_moves_to_another_articles_sentence_that_names_the_asked_body():
    text = (
        "Hackers hit St Aldric's hospital\n\n"
        "Ambulances were diverted to a neighbouring hospital for 36 hours. "
        "The hospital's chief executive, Dr Miriam Holloway-Pryce, apologised."
    )
    other = (
        "Infirmary stretched\n\n"
        "Brennick County Infirmary's chief executive, Dr Miriam Holloway-Pryce, also runs St Aldric's."
    )
    texts = {"ledger": text, "gazette": other}
    g = Grounder(GroundingSettings(), texts.__getitem__, no_embed, KeywordScorer({"chief": 0.9}))
    ev = g.evidence(
        INFIRMARY,
        [headed("ledger", text, *HACK_META["ledger"]), headed("gazette", other, *HACK_META["gazette"])],
    )
    draft = g.ground(ev, reply("Dr Miriam Holloway-Pryce", "The hospital's chief", ev=ev), PROMPT, Judge())
    assert draft is not None and draft.citations[0].article_id == "gazette"


def test_a_misread_is_not_recovered_from_a_sentence_that_never_names_the_asked_place():
    text = (
        "Fire halts Kestrel Polymers plant\n\n"
        "A fire broke out at the Kestrel Polymers plant on Tuesday. "
        "Kestrel Polymers, which employs 340 people at the site, said production had been halted. "
        "The company also has a head office in Dunmore."
    )
    g, ev = one_article(
        text, "How many people work at Kestrel Polymers' head office in Dunmore?", {"employs": 0.9}
    )
    judge = Judge("340")
    assert g.ground(ev, reply("34", "employs", ev=ev), PROMPT, judge) is None
    assert judge.options == []  # not even offered: the site is not the head office in Dunmore


def test_a_lead_sentence_may_leave_to_its_article_the_name_asked():
    text = (
        "Ferry runs aground off Kettle Point\n\n"
        "A passenger ferry carrying 212 people ran aground on a sandbar on Friday. "
        "The Marlow Star was refloated on Saturday."
    )
    question = "How many passengers were aboard the Marlow Star when it ran aground?"
    g, ev = one_article(text, question, {"aground": 0.9})
    draft = g.ground(ev, reply("212", "carrying", ev=ev), PROMPT, Judge("212"))
    assert draft is not None and draft.text == "212 [1]"


def test_a_sentence_may_refer_to_what_its_article_named_earlier():
    # "the rescue" is the Saint Oriel's, which the article named two sentences before; not its headline
    text = (
        "Ferry runs aground off Kestle Point\n\n"
        "A passenger ferry ran aground on a sandbank on Saturday evening. "
        "The Saint Oriel was on its evening crossing to Hallin Isle. "
        "The vessel settled on the sand with a slight list. "
        "The rescue was led by Tamsin Rudd, coxswain of the Kestle lifeboat."
    )
    g, ev = one_article(text, "Who led the lifeboat rescue of the Saint Oriel's passengers?", {"rescue": 0.9})
    draft = g.ground(ev, reply("Tamsin Rudd", "Tamsin Rudd", ev=ev), PROMPT, Judge())
    assert draft is not None and draft.text == "Tamsin Rudd [1]"
