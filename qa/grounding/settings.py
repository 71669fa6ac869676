"""Every threshold of grounding in one frozen record, built from ``qa.config.Settings``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class GroundingSettings:
    """Thresholds tuned on eval/ and the odd-numbered half of RGB (bench/calibrate.py prints them).

    ``*_rerank`` thresholds are cross-encoder probabilities of (question, sentence with the sentence
    before it); the cosine thresholds apply only when the reranker is off (``QA_RERANK=0``).
    """

    max_prompt_sentences: int = 6  # shown to the model, best first by relevance, in reading order
    min_prompt_sentences: int = 3  # … at least these, and beyond them only sentences reaching:
    # 0.05: 11 fewer prompt tokens a question on eval/ than 0.02 (351 → 339), same answers on eval/; on
    # the tuning half of RGB two answers changed (one right answer more, one abstention on an answer
    # whose second name its sentence lacks). 0.1 saved 6 more but answered a rejection question.
    min_show_rerank: float = 0.05
    # before generation: the best sentence must be about the question at all
    min_gate_rerank: float = 0.02
    min_dense_score: float = 0.40
    # a claim: its words and numbers must be in what it cites …
    min_support: float = 0.5
    # … and its sentence, read with the one before, three quarters of what the claim adds to the
    # question ("Selwyn Oddie is a tour guide" is not stated by "… toured the museum with Selwyn Oddie";
    # of the claims kept on the development sets and the RGB tuning halves only four missed any word)
    min_stated: float = 0.75
    # … the cited sentence must be about the question …
    min_verify_rerank: float = 0.05
    min_coverage: float = 0.5  # (cosine fallback) share of the question's words around the sentence…
    min_relevance: float = 0.30  # …or else its cosine to the question
    # … and, when on, the model must confirm that the sentence states this answer to this question
    verify_with_model: bool = True
    # a misread (the cited sentence states another value of the answer's kind) is re-chosen from the
    # cited sentence only when the cross-encoder is this sure the sentence answers the question
    min_recover_rerank: float = 0.5
    # conflicts: another article's best sentence counts as a version when it is this relevant
    min_conflict_rerank: float = 0.30  # read with the sentence before it
    min_version_rerank: float = 0.5  # read alone
    conflict_margin: float = 0.12  # (cosine fallback) nearly as relevant as the answer's sentence
    max_conflict_candidates: int = 2  # other articles' sentences read for a version

    @classmethod
    def from_settings(cls, settings: Any) -> GroundingSettings:
        """The fields ``qa.config.Settings`` carries override the defaults (env ``QA_…``)."""
        values = {f: getattr(settings, f) for f in cls.__dataclass_fields__ if hasattr(settings, f)}
        return cls(**values)

    def __post_init__(self) -> None:
        if self.max_prompt_sentences < 0 or self.max_conflict_candidates < 0:
            raise ValueError("max_prompt_sentences and max_conflict_candidates must be ≥ 0")
        for name in (
            "min_gate_rerank",
            "min_show_rerank",
            "min_verify_rerank",
            "min_conflict_rerank",
            "min_recover_rerank",
            "min_version_rerank",
            "min_support",
        ):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1")
