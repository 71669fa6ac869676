"""Fixtures for ingestion, index and retrieval (owned by the core).

The real embedder, real FAISS and the default corpus (``articles/``, never modified). No test may
write into the project's ``index/``: ``QA_INDEX_DIR`` points at a temporary folder for the session.
"""

from __future__ import annotations

import os
import random
import shutil
from pathlib import Path

import pytest

from qa.config import PROJECT_ROOT, Settings

DEFAULT_ARTICLES = PROJECT_ROOT / "articles"


@pytest.fixture(scope="session", autouse=True)
def _isolated_index_dir(tmp_path_factory: pytest.TempPathFactory):
    """Every test session gets its own default index folder (never the project's index/)."""
    previous = os.environ.get("QA_INDEX_DIR")
    os.environ["QA_INDEX_DIR"] = str(tmp_path_factory.mktemp("default-index"))
    yield
    if previous is None:
        os.environ.pop("QA_INDEX_DIR", None)
    else:
        os.environ["QA_INDEX_DIR"] = previous


@pytest.fixture(scope="session")
def embedder():
    from qa.embed import get_embedder

    return get_embedder()


@pytest.fixture(scope="session")
def core_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings whose index folder is a session temp dir, over the default corpus."""
    return Settings.from_env(index_dir=tmp_path_factory.mktemp("core-index"), articles_dir=DEFAULT_ARTICLES)


@pytest.fixture(scope="session")
def built_index(core_settings: Settings, embedder) -> Path:
    """The default corpus indexed once per session; treat as read-only (copy it to modify)."""
    from qa.index import build_index

    build_index(
        [DEFAULT_ARTICLES], core_settings.index_dir, settings=core_settings, progress=False, embedder=embedder
    )
    return core_settings.index_dir


@pytest.fixture(scope="session")
def retriever(built_index: Path, core_settings: Settings, embedder):
    from qa.index import open_index
    from qa.retrieve import Retriever

    return Retriever(open_index(built_index, settings=core_settings), embedder, core_settings)


@pytest.fixture
def index_copy(built_index: Path, tmp_path: Path) -> Path:
    """A private copy of the built index, for tests that modify or damage it."""
    dest = tmp_path / "index"
    shutil.copytree(built_index, dest, ignore=shutil.ignore_patterns(".lock"))
    return dest


@pytest.fixture
def corpus_copy(tmp_path: Path) -> Path:
    """A writable copy of the default corpus."""
    dest = tmp_path / "articles"
    dest.mkdir()
    for f in sorted(DEFAULT_ARTICLES.iterdir()):
        if f.is_file():
            shutil.copyfile(f, dest / f.name)
    return dest


def synthetic_corpus(dest: Path, n_articles: int, *, seed: int = 0, sentences: int = 12) -> Path:
    """``n_articles`` text files made by recombining lines of the default corpus (for scale and kill tests)."""
    lines: list[str] = []
    for f in sorted(DEFAULT_ARTICLES.iterdir()):
        lines += [
            s.strip()
            for s in f.read_text(encoding="utf-8", errors="replace").splitlines()
            if len(s.strip()) > 40
        ]
    rng = random.Random(seed)
    dest.mkdir(parents=True, exist_ok=True)
    for i in range(n_articles):
        body = "\n\n".join(rng.sample(lines, min(sentences, len(lines))))
        (dest / f"synthetic_{i:04d}.txt").write_text(f"Synthetic article {i}\n\n{body}\n", encoding="utf-8")
    return dest
