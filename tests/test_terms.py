"""The question's specific terms and the missing-term check (pure functions, no model)."""

from __future__ import annotations

import json

import pytest

from qa.config import PROJECT_ROOT
from qa.grounding.terms import (
    age_of_another,
    asked_role,
    asked_subject,
    clause_of_another,
    coverage,
    earlier_years,
    is_identifier,
    misattributed,
    missing_terms,
    names_another_entity,
    numbers,
    other_instance,
    respell,
    role_elsewhere,
    role_referent,
    shifted,
    specific_terms,
    titled_otherwise,
    unnamed,
    window_unstated,
)


@pytest.mark.parametrize(
    "question,expected",
    [
        ("What is the population of Zorvik016?", {"zorvik016"}),
        ("Zorvik016's population?", {"zorvik016"}),  # a name as the first word counts
        ("Blinken met whom in Mexico City?", {"blinken", "mexico", "city"}),
        ("How many migrants did Mexico detect in 2023?", {"mexico", "2023"}),
        ("Name the president of Zorvik016", {"zorvik016"}),  # an opener is no name
        ("Sanctions on which countries does López Obrador want lifted?", {"lopez", "obrador"}),
        ("From which town did the caravan leave?", set()),
        ("Why did one of the two largest railroads halt trains in September?", set()),  # words, months
        ("what is the population of zorvik016", {"zorvik016"}),  # ids count in any case
        ("How many people were at the 12,000-seat arena?", {"12000"}),
    ],
)
def test_specific_terms(question, expected):
    assert specific_terms(question) == expected


def test_numbers_are_canonical():
    assert numbers("about 6,000 people, later 6000, then one more") == {"6000", "1"}
    assert numbers("Twenty-two people") == {"22"}
    assert is_identifier("zorvik016") and not is_identifier("2023") and not is_identifier("blinken")


@pytest.mark.parametrize(
    "question,evidence,missing",
    [
        # ids match exactly: a near id is another entity
        ("What is the population of Zorvik016?", "Zorvik015 has a population of 578,814.", {"zorvik016"}),
        ("What is the population of Zorvik016?", "Zorvik016 has a population of 578,814.", set()),
        ("What is the population of Zorvik016?", "Zorvik016's population is 578,814.", set()),
        # short names are not forgiven a typo; long ones are
        ("Where is Zorvak?", "Zorvik is a town by the river.", {"zorvak"}),
        ("How old is Antony Blinkin?", "Antony Blinken, 61, arrived.", set()),
        # years and figures must be there, in any notation
        (
            "How many migrants did Mexico detect in 2021?",
            "Mexico detected 680,000 migrants in 2023.",
            {"2021"},
        ),
        ("Did 6,000 people join?", "About 6000 people joined.", set()),
        # the first word is checked too when it is a name
        ("Blinken met whom?", "Mayorkas met the president.", {"blinken"}),
        ("Mexico's troops?", "Mexico has 32,000 soldiers.", set()),
        ("Who leads the U.S. delegation?", "The United States sent a delegation.", set()),
    ],
)
def test_missing_terms(question, evidence, missing):
    assert missing_terms(question, evidence) == missing


def test_one_shared_generic_word_is_not_relevance():
    evidence = "The population of Zorvik004 is 578,814."
    assert coverage("What is the population of Zorvik999?", evidence) == 0.0  # a missing name
    assert coverage("What is the population growth rate of the region?", evidence) == 0.0  # one word
    assert coverage("What is the population of Zorvik004?", evidence) == 1.0
    assert coverage("How big is the caravan of migrants?", "The caravan of 6,000 migrants left.") > 0.5


def _eval_questions():
    with (PROJECT_ROOT / "eval" / "questions.jsonl").open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def test_no_answerable_eval_question_misses_a_term():
    """Zero false abstentions stays the rule: every answerable eval question's terms are in the corpus."""
    corpus = " ".join(p.read_text(encoding="utf-8") for p in sorted((PROJECT_ROOT / "articles").iterdir()))
    answerable = [q for q in _eval_questions() if q["type"] not in {"unanswerable", "injection"}]
    assert len(answerable) > 50
    flagged = {q["id"]: missing_terms(q["question"], corpus) for q in answerable}
    assert {k: v for k, v in flagged.items() if v} == {}


def test_off_corpus_eval_questions_miss_their_names():
    corpus = " ".join(p.read_text(encoding="utf-8") for p in sorted((PROJECT_ROOT / "articles").iterdir()))
    by_text = {q["question"]: q for q in _eval_questions()}
    assert missing_terms("Who acquired WhatsApp?", corpus) == {"whatsapp"}
    assert missing_terms("What is the capital of Australia?", corpus) == {"australia"}
    assert "Who acquired WhatsApp?" in by_text  # the eval set still asks it


@pytest.mark.parametrize(
    ("question", "evidence", "scored"),
    [
        (
            "how many soldirs did mexico asign to imigration",
            "Mexico has assigned more than 32,000 soldiers to enforce immigration laws.",
            "how many soldiers did mexico asign to immigration",
        ),
        ("How many lanterns?", "1,870 lanterns were released.", "How many lanterns?"),  # spelled right
        ("Who is Zorvik016?", "Zorvik015 is a town.", "Who is Zorvik016?"),  # ids are never respelled
        ("Who did Blinkin meet?", "Blinken met López Obrador.", "Who did Blinken meet?"),  # capital kept
    ],
)
def test_respell(question, evidence, scored):
    assert respell(question, evidence) == scored


def test_an_ordinal_in_the_evidence_is_the_asked_number():
    q = "When does season 4 of The Crown premiere?"
    assert missing_terms(q, "The fourth season of The Crown premiered on November 15, 2020.") == set()
    assert missing_terms(q, "The third season of The Crown premiered on November 17, 2019.") == {"4"}


def test_a_title_cased_name_of_common_words_may_be_shortened_its_rare_words_may_not():
    q = "When did the Golden Globe Awards 2020 take place?"
    assert missing_terms(q, "The 77th Golden Globes took place on January 5, 2020.") == set()
    assert missing_terms(q, "The Globes took place on January 5, 2020.") == {"golden", "awards"}  # half gone
    q = "Who won the Zorvik Valley Prize?"
    assert missing_terms(q, "The Valley Prize went to Ana Ruiz.") == {"zorvik"}  # a rare word stays required
    # one of its rare words names it: "Valhalla" is "Assassin's Creed Valhalla"; another rare word is not
    q = "When was Assassin's Creed Valhalla released?"
    assert missing_terms(q, "Valhalla was released for PlayStation 4 on November 10, 2020.") == set()
    assert missing_terms(q, "Assassin's Creed Odyssey was released in 2018.") == {"valhalla"}
    q = "What is the name of Microsoft's AR headset?"
    assert missing_terms(q, "Microsoft will produce mixed-reality headsets.") == {"ar"}  # so does an acronym


def test_the_place_in_a_name_is_always_required():
    # "Open" is half of "British Open", but the US Open is another tournament
    q = "Who won the British Open golf tournament in 2020?"
    assert missing_terms(q, "Dominic Thiem won the 2020 US Open.") == {"british"}
    assert missing_terms(q, "The 2020 British Open was canceled.") == set()
    # the country may stand for its people's name
    q = "Who won the French Open in 2021?"
    assert missing_terms(q, "The Open in France was won by Novak Djokovic in 2021.") == set()


ZELDA = "When was The Legend of Zelda: Ocarina of Time released?"
XENO = "When was xenoblade chronicles X released in Japan?"


@pytest.mark.parametrize(
    ("question", "sentence"),
    [
        (
            ZELDA,
            "The Legend of Zelda: Ocarina of Time Re-Arranged Album was released on December 22nd, 1999.",
        ),
        (XENO, "Xenoblade Chronicles: An RPG game released for the Wii console in June 2010 in Japan."),
        (XENO, "Xenoblade Chronicles was released in June 2010 in Japan."),  # without the question's "X"
        (ZELDA, "The Legend of Zelda: Ocarina of Time 3D came out on June 16, 2011."),
        (XENO, "Xenoblade Chronicles X: Definitive Edition arrives on March 20, 2025."),
        (
            "When will the soundtrack album for Saltmarsh Crown II be released?",
            "The Saltmarsh Crown Original Soundtrack album was released on June 2, 2023.",
        ),
    ],
)
def test_a_longer_or_shorter_name_is_another_entity(question: str, sentence: str) -> None:
    assert names_another_entity(question, sentence)


@pytest.mark.parametrize(
    ("question", "sentence"),
    [
        (
            ZELDA,
            "The Legend of Zelda: Ocarina of Time () is a Nintendo 64 classic released on November 21, 1998.",
        ),
        (XENO, "Xenoblade Chronicles X was published in Japan by Nintendo on April 29, 2015."),
        # a person or a role after the name does not make it another entity
        ("Who won the 2019 Australian Open?", "Australian Open Champion Novak Djokovic thanked the crowd."),
        ("Who is the CEO of Apple in 2021?", "Apple CEO Steve Jobs attends the opening of the store."),
        ("Who was MVP of Super Bowl LIV?", "Super Bowl LIV MVP Patrick Mahomes threw two touchdowns."),
        (
            "When were the Golden Globe Awards held?",
            "The 77th Golden Globe Awards Ceremony took place on January 5.",
        ),
        # an event after the name, and initials in the question ("U.S. Open")
        (
            "Who won the women's singles U.S. Open in 2019?",
            "The US Open Women's Singles Championship is presented by J.P. Morgan.",
        ),
        (
            "Who won the women's singles U.S. Open in 2019?",
            "Serena Williams lost to Bianca Andreescu on Saturday in the 2019 U.S. Open women's singles final.",
        ),
        # a year after the name is the question's date, not part of the name
        (
            "What is the release date of God of War (2018)?",
            "God of War will be released for PS4 on April 20, 2018.",
        ),
        # a plain mention beside a longer one: the sentence is about the asked entity too
        (
            ZELDA,
            "The Legend of Zelda: Ocarina of Time, unlike The Legend of Zelda: Ocarina of Time 3D, came in 1998.",
        ),
        # common words of a label are no name: the date after them is no part of one
        ("What is the release date for Super Mario Odyssey?", "Release Date:10/27/2017."),
        # one shared word is too little to tell ("Nintendo Switch" in a sentence about Nintendo's CEO)
        ("Who is the CEO of Nintendo?", "Nintendo Switch sales rose, CEO Shuntaro Furukawa said."),
    ],
)
def test_the_asked_entity_itself_is_not_another(question: str, sentence: str) -> None:
    assert not names_another_entity(question, sentence)


@pytest.mark.parametrize(
    ("question", "sentence", "moved"),
    [
        (
            "Who directed The Avengers?",
            "The next Avengers movie will be directed by Destin Daniel Cretton.",
            True,
        ),
        ("Who directed The Avengers?", "The Avengers was directed by Joss Whedon.", False),
        # the question asks about that other time itself
        (
            "Who will direct the next Avengers film?",
            "The next Avengers movie will be directed by Cretton.",
            False,
        ),
        (
            "Who is the CEO of Tesla?",
            "In March 2021, the outgoing CEO of Panasonic said it will rely less on Tesla.",
            True,
        ),
        # "new" is no shift: the new holder is the holder
        ("Who leads Corvane?", "Corvane's new chief executive, Renata Skov, leads it.", False),
    ],
)
def test_a_sentence_about_the_next_or_former_one_is_shifted(question, sentence, moved):
    assert shifted(question, sentence) is moved


@pytest.mark.parametrize(
    ("question", "evidence"),
    [
        ("Who won the French election?", "Voters in France chose Emmanuel Macron."),
        ("What did Mexico's president say?", "The Mexican president said it would help."),
        ("Who leads the UK?", "The British prime minister spoke on Friday."),
    ],
)
def test_a_country_and_its_people_name_each_other(question, evidence):
    assert not missing_terms(question, evidence)


def test_a_title_cased_common_word_is_there_in_another_form_but_a_name_is_not():
    q = "Who won the French Presidential Election 2017?"
    assert not missing_terms(q, "In 2017, voters in France chose Emmanuel Macron to be their next president.")
    assert missing_terms(q, "In 2017, voters in Germany chose their next president.") == {
        "french",
        "election",
    }
    assert (
        missing_terms("What did Zorvikstad announce?", "Zorvikstadt announced a plan.") == set()
    )  # one typo
    assert missing_terms("What did Zorvikland announce?", "Zorvikstadt announced a plan.") == {"zorvikland"}


VISIT = "Who did the transport minister visit at Velmora General Hospital?"
VISITED = (
    "In the afternoon, Transport Minister Aurelie Danske, accompanied by regional governor Piet Halloran, "
    "visited Wielke at Velmora General Hospital."
)


@pytest.mark.parametrize(
    ("question", "claim", "sentence", "subject"),
    [
        # the claim or its sentence gives the name the title the question opens its subject with
        (VISIT, "Transport Minister Aurelie Danske", VISITED, True),
        (VISIT, "Aurelie Danske", VISITED, True),
        (VISIT, "Wielke", VISITED, False),
        (VISIT, "Piet Halloran", VISITED, False),
        ("Who did the mayor thank?", "Ines Rautio", "Mayor Ines Rautio thanked the volunteers.", True),
        # the subject's own name
        ("Who did Blinken meet?", "Antony Blinken", "Antony Blinken met López Obrador.", True),
        ("Who did Blinken meet?", "López Obrador", "Antony Blinken met López Obrador.", False),
        # the role after the verb is what is asked for, not who asks
        (
            "Who did the president appoint as secretary of state?",
            "Antony Blinken",
            "The president named Secretary of State Antony Blinken.",
            False,
        ),
        # capitalised words open a name, not a title: "Manchester" of "Manchester United"
        ("Who does Manchester United play next?", "Manchester City", "United play Manchester City.", False),
        ("Who did President Biden meet?", "President Macron", "Biden met President Macron.", False),
        # the wh-word is the subject: the title is the answer's
        ("Who is the transport minister?", "Aurelie Danske", VISITED, False),
    ],
)
def test_the_one_a_question_asks_about_is_not_its_answer(question, claim, sentence, subject):
    assert asked_subject(question, claim, sentence) is subject


HARWICK = (
    "Harwick's mayor, Tobias Lenk, who visited the site with the town's chief engineer, Sabine Kort, spoke."
)


@pytest.mark.parametrize(
    ("question", "claim", "sentence", "elsewhere"),
    [
        ("Who is the mayor of Tallow Bay?", "Tobias Lenk", HARWICK, True),
        ("Who is Tallow Bay's mayor?", "Tobias Lenk", HARWICK, True),
        ("Who is the mayor of Tallow Bay?", "Tobias Lenk", "Tobias Lenk, the mayor of Harwick, said.", True),
        ("Who is the CEO of Nintendo?", "Doug Bowser", "Nintendo of America's CEO Doug Bowser said.", True),
        # the same holder, however written
        ("Who is the mayor of Harwick?", "Tobias Lenk", HARWICK, False),
        ("Who is the CEO of Nintendo?", "Doug Bowser", "Nintendo's CEO Doug Bowser said.", False),
        (
            "Who is the mayor of Tallow Bay?",
            "Tobias Lenk",
            "Tobias Lenk, the Mayor of Tallow Bay, said.",
            False,
        ),
        # no holder beside the name, or another role: left to the other checks
        ("Who is the mayor of Brevik?", "Tomas Lindgard", "Mayor Tomas Lindgard said.", False),
        ("Who is the mayor of Tallow Bay?", "Sabine Kort", HARWICK.replace("mayor", "deputy"), False),
    ],
)
def test_a_role_the_sentence_gives_another_holder_is_no_answer(question, claim, sentence, elsewhere):
    assert role_elsewhere(question, claim, sentence) is elsewhere


@pytest.mark.parametrize(
    ("question", "evidence", "published", "missing"),
    [
        ("How many copies did it sell in its first week?", "It has sold 3.2 million copies.", None, {"week"}),
        (
            "How many copies did it sell in its first week?",
            "It sold 400,000 copies in its first week.",
            None,
            set(),
        ),
        (
            "How many were treated at last year's festival?",
            "Paramedics treated 23 people.",
            "2025-06-15",
            {"year"},
        ),
        (
            "How many were treated at last year's festival?",
            "Last year, medics treated 11.",
            "2025-06-15",
            set(),
        ),
        # a year written as a number: the one before the article's
        (
            "How many were treated at last year's festival?",
            "In 2024, medics treated 11.",
            "2025-06-15",
            set(),
        ),
        (
            "How many goals did they score in last year's final?",
            "Their first win since 1994.",
            "2026-05-16",
            {"year"},
        ),
        ("How many goals did they score in last year's final?", "Their first win since 1994.", None, set()),
        # a window with a count: "in its first six hours" is not "since it opened on Monday"
        (
            "How many calls did the helpline take in its first six hours?",
            "A helpline for patients has received more than 5,000 calls since it opened on Monday.",
            None,
            {"hour"},
        ),
        (
            "How many calls did the helpline take in its first six hours?",
            "A helpline opened on Monday and took 2,950 calls in its first six hours.",
            None,
            set(),
        ),
        # "this year" is the article's own time; a year-end ranking names no window
        ("Who won the award this year?", "Ada Lind won the award.", None, set()),
        (
            "What is women's year-end No 1 in tennis in 2020?",
            "Barty finished the year as No. 1.",
            None,
            set(),
        ),
    ],
)
def test_a_window_of_time_the_question_asks_about_must_be_named(question, evidence, published, missing):
    assert window_unstated(question, evidence, published) == missing


ROCKSLIDE = (
    "A rockslide struck a passenger train on Tuesday, injuring at least 14 people, police said. "
    "The same cutting was hit by a smaller rockslide in 2011, which closed the line for six weeks."
)


@pytest.mark.parametrize(
    ("asked", "published", "earlier"),
    [
        ({"2011"}, "2026-02-04", {"2011"}),  # an event the article names apart, long before it was written
        ({"2025"}, "2026-01-10", set()),  # the year before: a January report tells of it undated
        ({"2026"}, "2026-02-04", set()),  # the article's own year
        ({"2019"}, "2026-02-04", set()),  # a year the article never names: the gate's and missing terms' case
        ({"2011"}, None, set()),  # no date, no anchor: RGB's snippets
    ],
)
def test_an_undated_sentence_is_not_about_a_year_long_before_its_article(asked, published, earlier):
    article = ROCKSLIDE if "2019" not in asked else ROCKSLIDE.replace("2011", "2012")
    assert earlier_years(asked, article, published) == earlier


@pytest.mark.parametrize(
    ("question", "role"),
    [
        ("Who is the lead actress in The Shape of Water?", "actress"),
        ("Who was the master of ceremonies at this year's Verrin Prize ceremony?", "master"),
        ("Who is the new CEO of Fidelity Investments?", "CEO"),
        ("who is the mayor of harwick", "mayor"),
        ("Who is the Heisman Trophy winner in 2012?", ""),  # a named title, not a role noun
        ("Who is travelling to Mexico City with Mayorkas?", ""),  # a verb
        ("Who did the transport minister visit?", ""),
        ("Who is the person leading the response?", ""),
    ],
)
def test_the_role_a_who_question_asks_for(question, role):
    assert asked_role(question) == role


COMMISSION = "The commission, which is based in Port Ellery, found that Corven Water recorded 41 spills."


@pytest.mark.parametrize(
    ("question", "claim", "sentence", "other"),
    [
        # the clause describes the commission, and the sentence names Corven Water outside it
        ("Where is Corven Water headquartered?", "Port Ellery", COMMISSION, True),
        # asked about the commission, the clause answers
        ("Where is the Lowmarsh Water Services Commission based?", "Port Ellery", COMMISSION, False),
        (
            "How many staff does Corven employ?",
            "300",
            "The regulator, which employs 300 staff, fined Corven.",
            True,
        ),
        # the clause describes the one asked about
        ("How old is Blinken?", "61", "Blinken, who is 61, will meet López Obrador.", False),
        # outside the clause
        ("How many spills did Corven Water record?", "41", COMMISSION, False),
        # the question's names are not all in the rest of the sentence: no decision
        ("Where is Vessen Rail based?", "Port Ellery", COMMISSION, False),
    ],
)
def test_a_relative_clause_describes_the_words_before_it(question, claim, sentence, other):
    assert clause_of_another(question, claim, sentence) is other


LEAD = "Paper lanterns drifted over the estuary as the festival returned for its third edition."


@pytest.mark.parametrize(
    ("question", "evidence", "lead", "other"),
    [
        # no ordinal in the sentence: the lead's edition is the one it tells of
        (
            "When was the fourth edition of the festival announced?",
            "It was announced on March 4.",
            LEAD,
            {"fourth edition"},
        ),
        (
            "When was the third edition of the festival announced?",
            "It was announced on March 4.",
            LEAD,
            set(),
        ),
        # the sentence's own ordinal decides, before the lead's
        ("When was the fourth edition announced?", "A fourth edition was announced on May 2.", LEAD, set()),
        ("When was the 12th race held?", "The 11th race was held in May.", "", {"12th race"}),
        # no lead and no ordinal: nothing is decided (a snippet)
        ("When was the fourth edition announced?", "It was announced on March 4.", "", set()),
        ("Who won the race?", "Maslenko won.", LEAD, set()),
    ],
)
def test_an_instance_of_a_recurring_event_is_the_one_its_sentence_or_lead_numbers(
    question, evidence, lead, other
):
    assert other_instance(question, evidence, lead) == other


_HEARING = (
    "Stonecrest chief executive Harlan Pruett, who attended the hearing with his deputy, operations "
    "director Nadia Okafor, said the company was disappointed."
)


@pytest.mark.parametrize(
    ("question", "claim", "referent"),
    [
        # the question refers to him by his role: he is not whom it asks for
        ("Who attended the hearing with Stonecrest's chief executive?", "Harlan Pruett", True),
        ("Who attended the hearing with Stonecrest's chief executive?", "Nadia Okafor", False),
        # the role is what is asked
        ("Who is the chief executive of Stonecrest?", "Harlan Pruett", False),
        ("Who was named the new chief executive?", "Harlan Pruett", False),
    ],
)
def test_someone_the_question_refers_to_by_a_role(question, claim, referent):
    assert role_referent(question, claim, _HEARING) is referent
    assert (misattributed(question, claim, _HEARING) is not None) is referent


_CAPITAL = (
    "US Secretary of State Antony J. Blinken is set to visit Mexico City with Mayorkas and Blinken's aides. "
    "Blinken, 61, will meet President López Obrador alongside Homeland Security Secretary Alejandro Mayorkas."
)
_BLINKEN = _CAPITAL.split(". ", 1)[1]
_PLANT = (
    "Kestrel Polymers, which employs 340 people at the Marrowby site, said production would stop. "
    "Plant manager Colm Driscoll, 52, said Building C had passed a fire safety inspection."
)
_DRISCOLL = _PLANT.split(". ", 1)[1]


@pytest.mark.parametrize(
    ("question", "claim", "sentence", "article", "another"),
    [
        ("How old is Alejandro Mayorkas?", "61", _BLINKEN, _CAPITAL, True),  # Blinken's age
        ("How old is Antony Blinken?", "61", _BLINKEN, _CAPITAL, False),
        # the article titles him so: "US Secretary of State Antony J. Blinken"
        ("What is the age of the US Secretary of State?", "61", _BLINKEN, _CAPITAL, False),
        ("How old is Ilse Varga, the chief executive?", "52", _DRISCOLL, _PLANT, True),
        ("how old is the plant manager", "52", _DRISCOLL, _PLANT, False),
        ("how old is the plant manager", "340", _PLANT.split(". ")[0], _PLANT, True),  # no age at all
        ("How old is Jana Okonkwo-Reyes?", "She is 22.", "Mirelli, 22, had lost to Okonkwo-Reyes.", "", True),
        ("How many people work there?", "340", _PLANT.split(". ")[0], _PLANT, False),  # no age asked
    ],
)
def test_an_age_belongs_to_the_name_it_is_apposed_to(question, claim, sentence, article, another):
    assert (age_of_another(question, claim, sentence, article) is not None) is another
    assert (misattributed(question, claim, sentence, article) is not None) is another


@pytest.mark.parametrize(
    ("question", "known", "left_out"),
    [
        # another hospital's chief executive: the sentence, its headline and its lead never name it
        (
            "Who is the chief executive of Brennick County Infirmary?",
            "the hospital's chief executive, Dr Miriam Holloway-Pryce. Records copied in St Aldric's hack",
            ["Brennick County Infirmary"],
        ),
        # one word of a name is enough: "Skov" for "Renata Skov"
        ("When did Renata Skov become chief executive of Corvane?", "Skov took over at Corvane in 2024.", []),
        # numbers and years are left to their own checks
        ("Who won the 2026 Aldermere Half Marathon?", "Joel Marangu won the Aldermere Half Marathon.", []),
        (
            "who leads the green lowlands party",
            "Anselm Raike leads the Civic Alliance.",
            [],
        ),  # no names written
    ],
)
def test_the_names_a_text_leaves_out(question, known, left_out):
    assert unnamed(question, known) == left_out


@pytest.mark.parametrize(
    ("question", "claim", "sentence", "other"),
    [
        (
            "Who is the chairman of Kirkbride Athletic?",
            "Harold Imrie",
            "Kirkbride manager Harold Imrie said so.",
            True,
        ),
        # the asked role as the title, or anywhere in the sentence
        (
            "Who is the manager of Kirkbride Athletic?",
            "Harold Imrie",
            "Kirkbride manager Harold Imrie said so.",
            False,
        ),
        (
            "Who is the chairman of Kirkbride Athletic?",
            "Harold Imrie",
            "Kirkbride manager Harold Imrie, who is also the club's chairman, said so.",
            False,
        ),
        # no title written before the name: the other checks decide
        ("Who is the chairman of Kirkbride Athletic?", "Harold Imrie", "Harold Imrie said so.", False),
        (
            "Who is the chairman of Kirkbride Athletic?",
            "Harold Imrie",
            "Chairman Harold Imrie said so.",
            False,
        ),
    ],
)
def test_a_name_titled_with_another_role(question, claim, sentence, other):
    assert titled_otherwise(question, claim, sentence) is other
