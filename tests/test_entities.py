"""Many near-identical entities: the exact name of the question wins, and a name nobody has is missing.

Over 320 generated town articles ("Zorvik004 … population 578,814"), dense retrieval alone puts a
near name ("Zorvik004") next to the asked one ("Zorvik016"); retrieval must rank the exact rare term
first, and the missing-term check must say that a town the corpus lacks is missing.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from qa.grounding.terms import missing_terms
from qa.types import Article

N_TOWNS = 320
PROVINCES = ["northern", "southern", "eastern", "western", "central"]


def _towns() -> dict[str, int]:
    rng = random.Random(16)
    return {f"Zorvik{i:03d}": rng.randint(100_000, 999_999) for i in range(N_TOWNS)}


def _article(name: str, population: int, i: int) -> Article:
    province = PROVINCES[i % len(PROVINCES)]
    text = (
        f"{name} is a town in the {province} province. "
        f"The population of {name} is {population:,}, according to the latest census. "
        f"The town council of {name} meets every month to discuss roads, schools and water supply."
    )
    return Article(f"town-{i:03d}", f"{name} census report", "Census Wire", None, None, text)


@pytest.fixture(scope="module")
def towns() -> dict[str, int]:
    return _towns()


@pytest.fixture(scope="module")
def town_retriever(tmp_path_factory: pytest.TempPathFactory, towns, embedder):
    from qa.config import Settings
    from qa.index import add_articles, open_index
    from qa.retrieve import Retriever

    index_dir = Path(tmp_path_factory.mktemp("towns"))
    settings = Settings.from_env(index_dir=index_dir)
    articles = [_article(name, pop, i) for i, (name, pop) in enumerate(towns.items())]
    add_articles(articles, index_dir, settings=settings, embedder=embedder)
    return Retriever(open_index(index_dir, settings=settings), embedder, settings)


@pytest.mark.parametrize("name", ["Zorvik016", "Zorvik004", "Zorvik161", "Zorvik299"])
def test_exact_name_is_retrieved_first(town_retriever, towns, name):
    passages = town_retriever.retrieve(f"What is the population of {name}?", k=5)
    assert name in passages[0].text and f"{towns[name]:,}" in passages[0].text
    # the other passages are near names, which the missing-term check tells apart
    assert not missing_terms(f"What is the population of {name}?", passages[0].text)
    assert all(missing_terms(f"What is the population of {name}?", p.text) for p in passages[1:])


def test_name_as_first_word_and_lowercase(town_retriever, towns):
    for question in ("Zorvik016's population is what?", "population of zorvik016"):
        passages = town_retriever.retrieve(question, k=3)
        assert "Zorvik016" in passages[0].text, question


def test_exact_name_wins_without_the_reranker(town_retriever, towns):
    from dataclasses import replace

    from qa.retrieve import Retriever

    plain = Retriever(
        town_retriever.index, town_retriever.embedder, replace(town_retriever.settings, rerank=False)
    )
    passages = plain.retrieve("What is the population of Zorvik016?", k=5)
    assert "Zorvik016" in passages[0].text and passages[0].rerank_score is None


def test_a_town_that_does_not_exist_is_missing(town_retriever):
    question = "What is the population of Zorvik999?"
    passages = town_retriever.retrieve(question, k=4)
    assert passages  # near names are retrieved…
    evidence = " ".join(p.text for p in passages)
    assert missing_terms(question, evidence) == {"zorvik999"}  # …and the asked name is not among them


def test_a_figure_finds_its_town(town_retriever, towns):
    name = "Zorvik123"
    passages = town_retriever.retrieve(f"Which town has a population of {towns[name]:,}?", k=3)
    assert name in passages[0].text
