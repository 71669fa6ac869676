"""All settings in one place: a frozen dataclass read from the environment, passed down explicitly."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def _default_cache_dir() -> Path:
    base = _env("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "qa"


@dataclass(frozen=True)
class Settings:
    # corpus and index
    articles_dir: Path = PROJECT_ROOT / "articles"
    index_dir: Path = PROJECT_ROOT / "index"
    embedder: str = "all-MiniLM-L6-v2"
    chunk_max_tokens: int = 200  # MiniLM truncates at 256 word pieces; keep headroom for special tokens
    chunk_overlap_sentences: int = 1
    # retrieval
    k: int = 4  # passages given to the model (FINDINGS.md: k=4 beat k=6 on accuracy and time)
    rrf_k: int = 60
    max_prompt_sentences: int = (
        10  # of the retrieved passages' sentences, the most relevant shown to the model
    )
    # LLM: an OpenAI-compatible endpoint when OPENAI_BASE_URL is set, else the embedded engine
    base_url: str | None = None
    api_key: str | None = None
    model: str | None = None
    local_model_path: Path | None = None  # QA_LOCAL_MODEL: another GGUF for the embedded engine
    cache_dir: Path = field(default_factory=_default_cache_dir)
    llm_timeout_s: float = 120.0
    llm_retries: int = 1
    llm_threads: int = 2
    llm_ctx: int = 4096
    llm_parallel: int = 2
    max_answer_tokens: int = 256
    temperature: float = 0.0
    # grounding and abstention (tuned on eval/questions.jsonl; see bench/calibrate.py)
    min_dense_score: float = 0.40  # best retrieved sentence's cosine below this: off-topic, abstain unasked
    min_support: float = 0.5  # share of an answer sentence's content words its citation must contain
    min_coverage: float = 0.5  # share of the question's content words found around the cited sentence…
    min_relevance: float = 0.30  # …or else the cited sentence's cosine to the question must reach this
    conflict_margin: float = 0.12  # another article's figure counts if nearly as relevant as the answer's
    conflict_topic_similarity: float = 0.35  # and if it is about the same thing as the answer's sentence
    # questions
    max_question_chars: int = 2000

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        s = cls()
        env: dict[str, object] = {}
        if v := _env("QA_INDEX_DIR"):
            env["index_dir"] = Path(v)
        if v := _env("QA_ARTICLES_DIR"):
            env["articles_dir"] = Path(v)
        if v := _env("OPENAI_BASE_URL"):
            env["base_url"] = v
        if v := _env("OPENAI_API_KEY"):
            env["api_key"] = v
        if v := _env("QA_MODEL"):
            env["model"] = v
        if v := _env("QA_LOCAL_MODEL"):
            env["local_model_path"] = Path(v)
        if v := _env("QA_CACHE_DIR"):
            env["cache_dir"] = Path(v)
        if v := _env("QA_LLM_TIMEOUT"):
            env["llm_timeout_s"] = float(v)
        if v := _env("QA_K"):
            env["k"] = int(v)
        if v := _env("QA_MAX_PROMPT_SENTENCES"):
            env["max_prompt_sentences"] = int(v)
        if v := _env("QA_MAX_QUESTION_CHARS"):
            env["max_question_chars"] = int(v)
        if v := _env("QA_LLM_THREADS"):
            env["llm_threads"] = int(v)
        env.update({k: v for k, v in overrides.items() if v is not None})
        return replace(s, **env)  # type: ignore[arg-type]

    @property
    def uses_embedded_llm(self) -> bool:
        return self.base_url is None
