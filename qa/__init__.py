"""qa: grounded question answering over news articles, with verified verbatim citations.

The public API is small: ``build_index``, ``remove_articles``, ``retrieve``, ``get_article``, ``ask``,
``ask_stream``, plus the typed records and errors. Heavy dependencies (torch, FAISS, the LLM engine) load
lazily, so ``import qa`` stays fast.

``qa.retrieve`` is both a function (the public API) and a submodule (``qa/retrieve.py``). Python's import
system binds a submodule on its package the first time it is imported, which would replace the function
with the module (``TypeError: 'module' object is not callable`` on the next call). The package therefore
refuses to let a submodule overwrite a public function of the same name; the submodule stays reachable
through ``from qa.retrieve import …`` and ``sys.modules``.
"""

from __future__ import annotations

import importlib
import sys
from types import ModuleType
from typing import TYPE_CHECKING, Any

from qa.errors import (
    ConfigError,
    IndexCorruptError,
    IndexMismatchError,
    IngestError,
    LLMError,
    ModelFileError,
    QAError,
    QAIndexError,
    QuestionError,
)
from qa.types import (
    Answer,
    Article,
    Chunk,
    Citation,
    Delta,
    Event,
    Final,
    IndexStats,
    Passage,
    Sources,
    Status,
    Timings,
)

if TYPE_CHECKING:
    from qa.answer import ask, ask_stream
    from qa.index import build_index, remove_articles
    from qa.retrieve import UnknownSourceError, get_article, retrieve

__all__ = [
    "Answer",
    "Article",
    "Chunk",
    "Citation",
    "ConfigError",
    "Delta",
    "Event",
    "Final",
    "IndexCorruptError",
    "IndexMismatchError",
    "IndexStats",
    "IngestError",
    "LLMError",
    "ModelFileError",
    "Passage",
    "QAError",
    "QAIndexError",
    "QuestionError",
    "Sources",
    "Status",
    "Timings",
    "UnknownSourceError",
    "ask",
    "ask_stream",
    "build_index",
    "get_article",
    "remove_articles",
    "retrieve",
]

# Public functions, loaded from their module on first use.
_LAZY = {
    "ask": "qa.answer",
    "ask_stream": "qa.answer",
    "build_index": "qa.index",
    "remove_articles": "qa.index",
    "retrieve": "qa.retrieve",
    "get_article": "qa.retrieve",
    "UnknownSourceError": "qa.retrieve",  # raised by a source filter; lives with retrieval
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'qa' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later look-ups find it directly
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


class _Package(ModuleType):
    """The ``qa`` package object: a submodule import never shadows a public function of the same name."""

    def __setattr__(self, name: str, value: object) -> None:
        if name in _LAZY and isinstance(value, ModuleType):
            return  # the import system binding `qa.retrieve` (the module) over `qa.retrieve` (the function)
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
