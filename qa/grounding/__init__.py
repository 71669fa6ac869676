"""Grounding: what the model may see, which of its claims stand, and when articles disagree.

Modules follow the data flow: ``sentences`` (numbered sentences, citations) → ``reply`` (the model's
JSON) → ``verify`` (does the cited sentence state the answer?) → ``hedge`` (keep the source's
qualifiers) → ``conflict`` (versions across articles) and ``polar`` (yes/no answers across articles) →
``policy`` (the ``Grounder`` that decides).
``text`` holds the lexical primitives; thresholds live in ``settings.GroundingSettings``.
"""

from qa.grounding.policy import Draft, Evidence, Grounder, Judge, Scorer, abstention_text
from qa.grounding.reply import ANSWER_SCHEMA, AnswerFieldStream, parse_model_output, strip_markers
from qa.grounding.sentences import Sentence, make_citation, number_sentences
from qa.grounding.settings import GroundingSettings

__all__ = [
    "ANSWER_SCHEMA",
    "AnswerFieldStream",
    "Draft",
    "Evidence",
    "Grounder",
    "GroundingSettings",
    "Judge",
    "Scorer",
    "Sentence",
    "abstention_text",
    "make_citation",
    "number_sentences",
    "parse_model_output",
    "strip_markers",
]
