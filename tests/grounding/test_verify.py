"""qa.grounding.verify: the phrases a cited sentence offers as the answer, by kind and shape."""

import pytest

from qa.grounding.verify import (
    _FIGURE_OR_DATE,
    answer_options,
    asked_kind,
    asked_thing,
    bound_figure,
    counted,
    counts_other,
    fits_question,
    is_publication_date,
    is_value,
    name_list,
    named_numbers,
    states_itself,
    support,
    unsupported_names,
    value_kind,
    values,
    without_years,
)


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("released on November 21 of 1998 in Japan", ["November 21 of 1998"]),
        ("was released on December 22nd, 1999 and", ["December 22nd, 1999"]),
        ("in June 2010 in Japan (2012 in North America)", ["June 2010", "2012"]),  # not "June 20"
        ("held on 5 January 2020 in Beverly Hills", ["5 January 2020"]),
        # a score or a range counts nothing: "3-1" offers neither "3" nor "1"
        ("Rovers won the final 3-1 before 18,240 spectators", ["18,240"]),
        ("in the 2019–20 season, 4 goals", ["4"]),
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
        ("2,000 lanterns", "figure"),  # a thousands separator: a count, not the year 2000
        ("three", "figure"),
        ("the total may swell to 50,000", "figure"),  # "may" is no month
    ],
)
def test_kind(phrase, kind):
    assert value_kind(phrase) == kind


def test_another_version_has_the_answers_shape():
    sentence = "The Re-Arranged Album was released on December 22nd, 1999 and is one of three soundtracks."
    options, _ = answer_options(
        "November 21, 1998", sentence, "When was Ocarina of Time released?", own=False
    )
    assert options == ["December 22nd, 1999"]


def test_names_the_question_gives_are_no_answers():
    q = "Who will meet López Obrador with Blinken?"
    s = "Blinken, 61, will meet with Mexican President Andrés Manuel López Obrador and Liz Sherwood-Randall."
    options, _ = answer_options("Liz Sherwood-Randall", s, q, own=False)
    assert options == ["Liz Sherwood-Randall"]


def test_a_place_answer_is_offered_places_and_a_person_answer_no_places():
    s = "Blinken will meet Homeland Security Secretary Alejandro Mayorkas at the National Palace in Mexico City."
    where, _ = answer_options("the national palace", s, "Where will Blinken meet López Obrador?", own=False)
    assert where == ["National Palace", "Mexico City"]
    who, _ = answer_options("Liz Sherwood-Randall", s, "Who will Blinken meet?", own=False)
    assert who == ["Homeland Security Secretary Alejandro Mayorkas"]


def test_a_name_loses_the_questions_own_leading_words():
    s = "Apple CEO Steve Jobs attends the opening of the new store."
    options, _ = answer_options("Tim Cook", s, "Who is the CEO of Apple?", own=False)
    assert options == ["Steve Jobs"]


def test_a_month_answer_is_offered_the_sentences_months_not_the_verb_may():
    s = "In May, Mexico agreed to accept migrants, and the numbers may swell by June 3, 2024."
    options, mine = answer_options("January", s, "In which month did Mexico agree?", own=False)
    assert options == ["June 3, 2024", "May"] and mine == []
    # a figure answer is never offered bare months
    assert answer_options("6,000", "In May about 6,000 came.", "How many came?") == (["6,000"], ["6,000"])


def test_numerals_and_lowercase_compounds_are_not_names():
    q = 'Who is the director of "The Godfather"?'
    s = 'Fifty years after he gave us "The Godfather," the iconic director is chasing his grandest project.'
    assert answer_options("Stanley Kubrick", s, q, own=False) is None  # "Fifty" is no director
    s = "The winner of the 2019 Maxwell Award will be announced in December, on Thursday."
    assert answer_options("Joe Burrow", s, "Who won the Maxwell Award in 2019?", own=False) is None
    s = "A Christopher Nolan-directed version of the film and an Obama-era rule"
    options, _ = answer_options("Joss Whedon", s, "Who directed the film?", own=False)
    assert options == ["Christopher Nolan", "Obama"]


def test_a_name_sharing_a_word_with_the_question_names_the_topic_not_the_answer():
    q = "Which city hosted the olympic games in 2004?"
    s = "No fewer than eleven cities, Athens among them, applied to host the 2004 Summer Olympics."
    options, _ = answer_options("Rome", s, q, own=False)
    assert options == ["Athens"]
    s = "2019 CFDA Awards winners: Brandon Maxwell, Rick Owens take top honors."
    options, _ = answer_options("Joe Burrow", s, "Who is the Maxwell Award winner in 2019?", own=False)
    assert options == ["Rick Owens"]  # "Brandon Maxwell" holds the asked name, "CFDA Awards" the topic


def test_a_description_has_no_name_for_another_version():
    q = "What did Biden and López Obrador agree was urgently needed?"
    answer = "additional enforcement was urgently needed so that closed ports of entry could reopen"
    s = "Lopez Obrador discussed migration with Biden as migrants slept outside on Christmas Day."
    assert answer_options(answer, s, q, own=False) is None
    assert answer_options("Mayorkas", s, q, own=False) == (["Christmas Day"], [])  # a name answer has one
    # the question's own names do not make a description a name
    q = "What dialogue has Mexico proposed to President Joe Biden?"
    answer = "Mexico has proposed to President Joe Biden the opening of a bilateral dialogue between the US and Cuba"
    s = "President Biden has faced pressure from Republicans over the border."
    assert answer_options(answer, s, q, own=False) is None
    # an answer that restates the question around a name is a name answer
    q = "Who is the new CEO of Fidelity Investments?"
    s = "Abigail Johnson is the new CEO of Fidelity Investments, succeeding her father."
    assert answer_options("Tim Buckley is the new CEO of Fidelity Investments", s, q, own=False) == (
        ["Abigail Johnson"],
        [],
    )


def test_a_dateline_is_no_name():
    s = "LINDHOLM — Stellan Brenning, the former deputy director, was sentenced by Judge Maria Okonjo-Lind."
    options, _ = answer_options("Tove Alm", s, "Which judge sentenced Brenning?", own=False)
    assert options == ["Maria Okonjo-Lind"]  # not "LINDHOLM"
    # nor is its date a version of when something happened
    s = "VALMERE, June 16 (Valmere Daily Post) — The festival, held on June 14, drew its largest crowd."
    assert answer_options("June 15", s, "When was the festival held?", own=False)[0] == ["June 14"]


@pytest.mark.parametrize(
    ("claim", "question", "things"),
    [
        ("Corvane has 500 employees.", "How many people work for Corvane?", {"employe", "peopl"}),
        ("1.4 million pounds", "How much would a new roof cost?", {"pound"}),  # "would" is no thing
        ("At least 14", "How many people were hurt?", set()),  # the claim names nothing it counts
    ],
)
def test_what_a_figure_counts(claim, question, things):
    assert counted(claim, question) == things


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("Toy Story 2", {"2"}),
        ("It came out for the PlayStation 4 on Sept 7.", {"4"}),
        ("About 72 kilometers", set()),  # a sentence's first word: no name
        ("It left on December 24.", set()),  # a month is no name
        ("The US sent Ukraine 31 tanks.", set()),  # a count of a plural thing
        ("Blinken, 61, will meet Obrador.", set()),
        ("Harlow Rovers beat Castlemere Athletic 3-1.", set()),  # a score
    ],
)
def test_a_number_that_ends_a_name_is_part_of_it(text, named):
    assert named_numbers(text) == named


def test_a_numbered_title_is_a_name_and_its_versions_are_names():
    question = "What movie won the Oscar for Best Animated Film in 2021?"
    assert not is_value("Toy Story 2", question)
    own = answer_options("Toy Story 2", "“Toy Story 2” won the Academy Award for animated feature.", question)
    assert own is not None and own[1] == ["Toy Story 2"]
    other = answer_options(
        "Toy Story 2", "Pixar's Soul has won the Oscar for Best Animated Feature.", question, own=False
    )
    assert other is not None and "Pixar's Soul" in other[0]
    # a count stays a value, checked as one
    assert is_value("It has sold 12 million copies", "How many copies has Toy Story 2 sold?")


def test_a_name_the_cited_sentence_lacks_is_unsupported():
    kerber = (
        "Australia's Angelique Kerber finishes the year as the WTA Year-End World No.1 for the second year."
    )
    claim = "Angelique Kerber and Ashleigh Barty finished the year as the WTA Year-End World No.1."
    assert unsupported_names(claim, kerber) == {"ashleigh", "barty"}
    assert support(claim, kerber) == 0.0  # two words of thirteen, but a name is the answer
    assert support("Angelique Kerber finished the year as the WTA Year-End World No.1.", kerber) > 0.5
    # another form of a name the sentence gives, and names the question gives, are there
    assert not unsupported_names("The Mexican force is small.", "Mexico's force is small.")
    assert not unsupported_names("They meet in Mexico City.", "They meet on Mexico City’s main square.")
    assert not unsupported_names(
        "Blinken met López Obrador.", "They met López Obrador.", "Whom did Blinken meet?"
    )


def test_a_claim_that_gives_an_articles_publication_date_is_recognised():
    assert is_publication_date("June 15, 2025 [1]", ["2025-06-15"])
    assert is_publication_date("15 June", [None, "2025-06-15T08:00:00"])
    assert not is_publication_date("June 14, 2025", ["2025-06-15"])  # another day
    assert not is_publication_date("15 lanterns in June", ["2025-06-15"])  # no date
    assert not is_publication_date("June 15", ["not a date", None])


def test_a_year_lent_to_a_date_is_dropped_from_the_date_only():
    assert without_years("November 12, 2025 [1]", {"2025"}) == "November 12 [1]"
    assert without_years("It was held on 12 November 2025.", {"2025"}) == "It was held on 12 November."
    assert without_years("In 2025 it sold 5 million.", {"2025"}) == "In 2025 it sold 5 million."  # no date
    assert without_years("May 3, 2024", {"2025"}) == "May 3, 2024"  # another year
    assert without_years("May 3, 2025", {""}) == "May 3, 2025"  # no year known


@pytest.mark.parametrize("dash", ["—", "–", "--", "-"])  # wire copy in plain ASCII too
def test_a_datelines_date_states_no_fact(dash):
    s = f"PORT ELSBY, June 15 (Harrowgate Courier) {dash} Paper lanterns drifted over the estuary."
    assert not states_itself("June 15", s, "On what date was the festival held?")
    assert answer_options("April 21", s, "When is the meeting?", own=False) is None
    assert states_itself(
        "June 14", "The festival was held on June 14.", "On what date was the festival held?"
    )


@pytest.mark.parametrize(
    ("sentence", "other"),
    [
        ("Organisers said 1,870 lanterns were released from the harbour wall.", True),
        ("They were launched from 14 wooden barges moored offshore.", False),  # adjectives before the noun
        ("Attendance stood at around 30,000 on Saturday night.", False),  # no noun: may be any count
        ("Fourteen lanterns drifted away.", False),  # a figure in words is not read
        ("The bakery sold bread.", False),  # no figure
    ],
)
def test_a_figure_that_names_another_thing(sentence, other):
    assert counts_other(sentence, {"barg"}) is other


def test_a_number_written_as_two_words_is_one_option():
    sentence = "Twenty-two people were treated in hospital in Kallby for injuries."
    found = answer_options("22", sentence, "How many people were treated in hospital?")
    assert found == (["Twenty-two"], ["Twenty-two"])


@pytest.mark.parametrize(
    ("question", "claim", "fits"),
    [
        # a clock time or a date is no amount
        ("How fast was the freight train going?", "The freight train was going at about 11:40 p.m.", False),
        ("How many people were hurt?", "March 4", False),
        # a sentence without a figure does not say how long
        ("How long did travellers wait?", "Many travellers complained of long waits at the stop.", False),
        ("How many migrants did Mexico detect in 2023?", "2023", False),  # the question's own number
        ("How big is the caravan?", "a big caravan", False),  # the asked word is no measure
        ("How fast was the train going?", "about 80 km/h", True),
        ("How fast was the train going?", "at low speed", True),  # a measure in words
        ("How big is the migrant caravan?", "an enormous caravan of migrants", True),
        ("How long did travellers wait?", "up to two hours", True),
        ("How long will the line stay shut?", "until at least Friday", True),
        ("How many people were hurt?", "No one was hurt.", True),
        ("How many people were hurt?", "Dozens", True),
        ("How many buses were running?", "Forty", True),
        ("What percentage voted?", "about half", True),
        ("How often do trains run?", "twice an hour", True),
        ("Who won the race?", "Joe Burrow", True),  # not asked for an amount
        ("When did the train derail?", "at about 11:40 p.m.", True),
        # a name asked is answered by one the question does not give
        (
            "What is the name of the Mexican railroad that halted its trains?",
            "The Mexican railroad that halted its trains was the one that halted them over safety concerns.",
            False,
        ),
        ("What is the name of the Mexican railroad that halted its trains?", "Ferromex", True),
        # a time asked is answered by one: a date, a day, a word of time, or an event it waits for
        ("When will the evacuation order be lifted?", "Authorities gave no timetable for lifting it.", False),
        ("When will the road reopen?", "on Friday", True),
        ("When will the road reopen?", "later this year", True),
        ("When will the road reopen?", "once repairs are complete", True),
        ("When will the probe land?", "as early as 2035", True),
        ("On what date was the intrusion found?", "Staff noticed it first.", False),
        ("Who accompanied the minister when she visited?", "Idris Fane", True),  # "when" asks no time here
        ("In which city was this year's prize ceremony held?", "Lisbourne", True),  # nor "which … year"
    ],
)
def test_an_amount_or_measure_asked_is_answered_by_one(question, claim, fits):
    assert fits_question(claim, question) is fits


def test_a_day_of_the_week_is_a_version_of_a_day_of_the_week():
    q = "When is the Ferris Street bridge expected to reopen?"
    s = "The bridge, the main link to Cobbledene, will stay closed until Friday at the earliest."
    assert answer_options("Monday", s, q, own=False) == (["Friday"], [])
    assert answer_options("on Monday", "It reopens on Monday, officials said on Tuesday.", q) == (
        ["Monday", "Tuesday"],
        ["Monday"],
    )
    # a date with its month is compared as a date
    assert answer_options("Saturday, June 14", s, q, own=False) is None


@pytest.mark.parametrize(
    ("sentence", "question", "bound"),
    [
        # the one figure that counts what is asked, when every other figure counts another named thing
        (
            "The hospital employs 410 staff, among them 235 nurses and midwives, and expects 60 positions more.",
            "how many nurses and midwifes does the hospital emply",
            "235 nurses",
        ),
        (
            "It burned through about 1,450 hectares (roughly 3,600 acres) of forest.",
            "How many hectares has the fire burned?",
            "1,450 hectares",
        ),
        (
            "Forty replacement buses are now running.",
            "How many buses replace the trains?",
            "Forty replacement buses",
        ),
        (
            "The county spent an estimated 2.1 million euros on 12 new firebreaks.",
            "How many firebreaks were built?",
            "12 new firebreaks",
        ),
        # a figure followed by no named thing may be the asked one: the model chooses
        (
            "2,350 lanterns were launched this year, up from 1,900 in 2019.",
            "How many lanterns were launched in 2019?",
            None,
        ),
        # a participle after a figure leaves the thing out: it may be the asked one, so the model chooses
        (
            "The returning officer said 41,208 ballot papers had been counted and 312 rejected.",
            "How many ballot papers were rejected?",
            None,
        ),
        # two figures count the thing: the model chooses
        ("The village has 120 homes, and 40 homes were evacuated.", "How many homes were evacuated?", None),
        # none counts it
        ("Organisers said 1,870 lanterns drew 36,500 visitors.", "How many barges were moored?", None),
        ("The bakery sold bread.", "How many loaves were sold?", None),
        # a share counts nothing: "11 percent of the total force" is no second count of soldiers
        (
            "Mexico has deployed 32,000 soldiers, about 11 percent of the total force.",
            "How many soldiers has Mexico deployed?",
            "32,000 soldiers",
        ),
    ],
)
def test_the_figure_that_counts_the_asked_thing(sentence, question, bound):
    assert bound_figure(sentence, asked_thing(question)) == bound


@pytest.mark.parametrize(
    ("question", "things"),
    [
        ("How many barges were moored?", {"barg"}),
        # past "of", a possessive name and a number to the counted words
        ("How many of St Aldric's servers were taken offline?", {"server"}),
        ("How many of the hospital's servers were taken offline?", {"server"}),
        ("How many St Aldric's staff members had their data taken?", {"staff", "member"}),
        ("How many of the 42 objects were stolen?", {"object"}),
        # the counted noun ends the phrase; a verb after it is not counted
        ("How many people applied for the post?", {"peopl"}),
        ("How many Ukrainian refugees arrived?", {"refuge"}),
        ("how many calls did the helpline take", {"call"}),
        # nothing counted
        ("How much did the museum pay?", set()),
        ("How many more votes did Tallow get?", set()),
    ],
)
def test_what_a_how_many_question_counts(question, things):
    assert asked_thing(question) == things


@pytest.mark.parametrize(
    ("sentence", "other"),
    [
        # "people" may be any persons asked about; "children" are no staff members
        ("The hospital employs about 4,600 people, the largest employer in the county.", False),
        ("The ward treated 40 children last year.", True),
        ("The records of 61,000 patients were copied.", True),
        ("Hackers reached 212 of the hospital's 4,600 staff members.", False),
    ],
)
def test_a_figure_counts_another_thing_than_the_staff_asked_but_people_may_be_staff(sentence, other):
    assert counts_other(sentence, asked_thing("How many of the hospital's staff members were hit?")) is other


def test_a_clock_time_is_one_option_and_no_count():
    sentence = "The Marlow Star struck the bar at about 7:40 p.m. shortly after leaving Port Wendle."
    # "7" and "40" of a clock time counted nothing: "40" was chosen for how many lifeboats took part
    assert answer_options("40", sentence, "How many lifeboats took part in the rescue?") is None
    options, mine = answer_options("7:40 p.m.", sentence, "When did the Marlow Star strike the bar?")
    assert "7:40 p.m." in options and mine == ["7:40 p.m."]
    assert not {"7", "40"} & set(options)


@pytest.mark.parametrize(
    ("question", "mine"),
    [
        ("To which Ridgeway plant will production move?", ["Dunmore"]),  # a place: checked among names
        ("How far is the Dunmore plant from Calder Mills?", ["200"]),  # a measure: among figures
    ],
)
def test_the_kind_checked_is_the_kind_asked(question, mine):
    sentence = "Ridgeway said production would move to its larger plant in Dunmore, about 200 kilometres to the north."
    claim = "Ridgeway will move production to its larger plant in Dunmore, about 200 kilometres to the north."
    assert answer_options(claim, sentence, question)[1] == mine


@pytest.mark.parametrize(
    ("claim", "names"),
    [
        ("Tabatha Rosproy and Juliana Urtubey", ["Tabatha Rosproy", "Juliana Urtubey"]),
        ("Ada Byron, Alan Turing and Grace Hopper.", ["Ada Byron", "Alan Turing", "Grace Hopper"]),
        ("Tabatha Rosproy", []),
        ("Rosproy and her class won", []),
    ],
)
def test_a_claim_that_only_lists_names(claim, names):
    assert name_list(claim) == names


def test_a_figure_before_a_comma_is_an_option():
    # "61," was no option: a comma after a number was read as a thousands separator
    options, mine = answer_options(
        "61", "Blinken, 61, will meet with Mexican President López Obrador.", "How old is Blinken?"
    )
    assert options == ["61"] and mine == ["61"]


@pytest.mark.parametrize(
    ("sentence", "bound"),
    [
        # the head noun is what is counted: encounters of migrants are no migrants
        ("There have been more than 730,000 migrant encounters at the border since October.", None),
        (
            "A caravan of about 6,000 migrants set off on Sunday, and 730,000 migrant encounters were logged.",
            "6,000 migrants",
        ),
    ],
)
def test_a_figure_counts_its_head_noun(sentence, bound):
    assert bound_figure(sentence, {"migrant"}) == bound


def test_the_number_of_a_name_is_no_option():
    sentence = "Valhalla was released for PlayStation 4, Windows and Stadia on November 10, 2020."
    options, _ = answer_options("November 10, 2020", sentence, "When was Assassin's Creed Valhalla released?")
    assert options == ["November 10, 2020"]


@pytest.mark.parametrize(
    ("sentence", "option"),
    [
        ("Thieves took pieces worth about 1.8 million pounds.", "1.8 million"),
        ("The fine was $4.8 million, the regulator said.", "4.8 million"),
        ("Turnout fell to 41 percent on Sunday.", "41 percent"),
        ("Turnout fell to 41% on Sunday.", "41%"),
    ],
)
def test_a_figure_keeps_its_currency_scale_and_share(sentence, option):
    # "1.8" alone was offered, and the model's check chose "none" for what the pieces were worth; with a
    # currency sign ("$4.2 million") it chose "none" too
    options, mine = answer_options(option, sentence, "What is it?")
    assert options == [option] and mine == [option]


def test_a_unit_after_a_figure_is_no_name():
    # "Celsius" made "37.6 degrees Celsius" a name answer, and "37.6" was never offered
    sentence = "The temperature in Vellmouth reached 37.6 degrees Celsius on Tuesday, the highest since 1911."
    options, mine = answer_options("37.6 degrees Celsius", sentence, "What temperature did Vellmouth reach?")
    assert options == ["37.6", "1911"] and mine == ["37.6"]


def test_a_clock_time_on_a_date_is_one_moment():
    # offered as "8 a.m." and "July 24", the model chose "8 a.m." and the right date was dropped
    sentence = "Tollmere Water announced a hosepipe ban that takes effect at 8 a.m. on Friday, July 24, its first since 2022."
    question = "When does the hosepipe ban take effect?"
    for claim in ("Friday, July 24", "8 a.m."):
        options, mine = answer_options(claim, sentence, question)
        assert options == ["8 a.m. on Friday, July 24", "2022"] and mine == ["8 a.m. on Friday, July 24"]


def test_a_lower_case_name_keeps_its_number():
    # "iPhone 11," was read as a figure once a comma no longer hid it
    assert named_numbers("Apple released the iPhone 11, its cheapest model, on September 20.") == {"11"}


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("How many complaints has Brenholt received?", "figure"),
        ("How far is the plant from the town?", "figure"),
        ("When does the ban take effect?", "date"),
        ("On what date was the festival held?", "date"),
        ("What is the premiere date of season 17?", "date"),
        ("What is the name of the railroad?", ""),
        ("Who led the study?", ""),
    ],
)
def test_the_kind_of_value_a_question_asks_for(question, kind):
    assert asked_kind(question) == kind


def test_an_abbreviated_month_makes_a_date_option():
    # "Nov. 12" was offered as "12", and the model's check chose "none" for the premiere date
    options, mine = answer_options(
        "Thursday, Nov. 12",
        "Season 17 premieres Thursday, Nov. 12 at 9 p.m. on ABC.",
        "When does season 17 premiere?",
    )
    assert options == ["Nov. 12", "9 p.m."] and mine == ["Nov. 12"]


def test_a_search_snippets_own_date_is_no_option_and_an_ordinal_day_is_the_claims():
    sentence = "Nov 21, 2022 ... Valhalla will arrive on Steam on December 6th."
    options, mine = answer_options("December 6th", sentence, "When will Valhalla arrive on Steam?")
    assert options == ["December 6th"] and mine == ["December 6th"]


def test_a_number_word_in_a_name_is_the_names():
    # "Xbox One" offered "One" as a date's rival option
    sentence = "Valhalla came out for Windows, Xbox One and PlayStation 4 on November 10, 2020."
    assert named_numbers(sentence) == {"1", "4"}
    assert answer_options("November 10, 2020", sentence, "When did Valhalla come out?")[0] == [
        "November 10, 2020"
    ]


@pytest.mark.parametrize(
    ("claim", "sentence", "question", "stated"),
    [
        (  # "tour" is there ("toured"), "guide" is not
            "Selwyn Oddie is a tour guide at the museum.",
            "Fane, who toured the museum on Monday morning with Selwyn Oddie, said officers were examining footage.",
            "What is Selwyn Oddie's job?",
            False,
        ),
        (  # a word's form may change
            "The Mexican immigration force is underfunded.",
            "Wayne said Mexico's immigration force was underfunded and small.",
            "How did Earl Anthony Wayne describe the immigration force?",
            True,
        ),
        (
            "Yes, a man was arrested.",
            "A 41-year-old man was arrested on Monday.",
            "Has anyone been arrested?",
            True,
        ),
    ],
)
def test_a_sentence_states_most_of_what_a_claim_adds(claim, sentence, question, stated):
    assert states_itself(claim, sentence, question) is stated


def test_the_sentence_before_may_hold_a_word_a_claim_adds():
    claim = "The Mexican immigration force is underfunded and small."
    sentence = "He called the immigration force underfunded and small."
    question = "How did Earl Anthony Wayne describe the immigration force?"
    assert not states_itself(claim, sentence, question)
    assert states_itself(claim, sentence, question, "Wayne spoke of Mexico on Tuesday.")


@pytest.mark.parametrize(
    ("claim", "figures"),
    [
        ("No one has been arrested.", set()),  # "one" as a pronoun counts nothing
        ("The one that sank was older.", set()),
        ("One man was arrested.", {"1"}),
        ("Only one of the 42 objects was found.", {"1", "42"}),
    ],
)
def test_one_as_a_pronoun_is_no_figure(claim, figures):
    assert values(claim, "Has anyone been arrested?") == figures
    if not figures:
        assert answer_options(claim, claim, "Has anyone been arrested?") is None  # nothing to check
