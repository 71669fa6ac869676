"""qa: grounded question answering over news articles, with verified verbatim citations.

The public API is small: ``build_index``, ``retrieve``, ``get_article``, ``ask``, ``ask_stream``.
Heavy dependencies (torch, FAISS, the LLM engine) load lazily, so ``import qa`` stays fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from qa.errors import (
    IndexCorruptError,
    IndexMismatchError,
    LLMError,
    QAError,
    QAIndexError,
    QuestionError,
)
from qa.types import Answer, Article, Chunk, Citation, Delta, Final, IndexStats, Passage, Sources, Timings

if TYPE_CHECKING:
    from qa.answer import ask, ask_stream
    from qa.index import build_index
    from qa.retrieve import get_article, retrieve

__all__ = [
    "Answer",
    "Article",
    "Chunk",
    "Citation",
    "Delta",
    "Final",
    "IndexCorruptError",
    "IndexMismatchError",
    "IndexStats",
    "LLMError",
    "Passage",
    "QAError",
    "QAIndexError",
    "QuestionError",
    "Sources",
    "Timings",
    "ask",
    "ask_stream",
    "build_index",
    "get_article",
    "retrieve",
]

_LAZY = {
    "ask": "qa.answer",
    "ask_stream": "qa.answer",
    "build_index": "qa.index",
    "retrieve": "qa.retrieve",
    "get_article": "qa.retrieve",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'qa' has no attribute {name!r}")
