"""Vector engines by name (``QA_STORE``); register another engine in ``ENGINES`` to add one."""

from __future__ import annotations

from qa.store.faiss_engine import FaissStore

ENGINES: dict[str, type] = {"faiss": FaissStore}


def make_vector_store(engine: str, dim: int) -> FaissStore:
    """A vector store by name; a ValueError lists the known engines."""
    try:
        return ENGINES[engine](dim)
    except KeyError:
        raise ValueError(f"unknown vector engine {engine!r}; known: {sorted(ENGINES)}") from None
