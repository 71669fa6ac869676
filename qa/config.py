"""All settings in one place: a frozen dataclass read from the environment, passed down explicitly."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from qa.errors import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


_OFF = frozenset({"0", "false", "no", "off"})
_ON = frozenset({"1", "true", "yes", "on"})


def _switch(name: str, value: str) -> bool:
    """Parse an on/off environment variable; anything else ("maybe") is an error, not silently on."""
    v = value.strip().lower()
    if v in _ON or v in _OFF:
        return v in _ON
    raise ConfigError(f"{name} must be one of 1/0, true/false, yes/no, on/off; got {value!r}.")


def _number(kind: type[int] | type[float], name: str, value: str) -> int | float:
    """Parse an environment variable as a number, or raise ConfigError naming the variable."""
    try:
        return kind(value.strip())
    except ValueError:
        what = "a whole number" if kind is int else "a number"
        raise ConfigError(f"{name} must be {what}, got {value!r}.") from None


# The environment variable behind each field, so that a bad value is reported under the name the user set.
ENV_VARS = {
    "index_dir": "QA_INDEX_DIR",
    "articles_dir": "QA_ARTICLES_DIR",
    "base_url": "OPENAI_BASE_URL",
    "api_key": "OPENAI_API_KEY",
    "model": "QA_MODEL",
    "local_model_path": "QA_LOCAL_MODEL",
    "cache_dir": "QA_CACHE_DIR",
    "llm_timeout_s": "QA_LLM_TIMEOUT",
    "answer_deadline_s": "QA_ANSWER_DEADLINE",
    "query_encoder": "QA_QUERY_ENCODER",
    "k": "QA_K",
    "max_prompt_sentences": "QA_MAX_PROMPT_SENTENCES",
    "max_question_chars": "QA_MAX_QUESTION_CHARS",
    "max_upload_mb": "QA_MAX_UPLOAD_MB",
    "max_batch_mb": "QA_MAX_BATCH_MB",
    "max_upload_lines": "QA_MAX_UPLOAD_LINES",
    "max_json_depth": "QA_MAX_JSON_DEPTH",
    "rerank": "QA_RERANK",
    "verify_with_model": "QA_VERIFY",
    "llm_threads": "QA_LLM_THREADS",
    "rerank_candidates": "QA_RERANK_CANDIDATES",
    "store": "QA_STORE",
    "milvus_uri": "QA_MILVUS_URI",
    "milvus_token": "QA_MILVUS_TOKEN",
}

# Bounds checked at construction, beyond the type of each field (ints >= 1 and floats > 0 by default).
_AT_LEAST_ZERO = frozenset({"chunk_overlap_sentences", "llm_retries", "temperature"})
_UNIT_INTERVAL = frozenset({"min_support", "min_coverage"})
_COSINE = frozenset({"min_dense_score", "min_relevance", "conflict_topic_similarity", "conflict_margin"})


def _label(name: str) -> str:
    return f"{ENV_VARS[name]} (Settings.{name})" if name in ENV_VARS else f"Settings.{name}"


def _default_cache_dir() -> Path:
    base = _env("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "qa"


@dataclass(frozen=True)
class Settings:
    # corpus and index
    articles_dir: Path = PROJECT_ROOT / "articles"
    index_dir: Path = PROJECT_ROOT / "index"
    embedder: str = "all-MiniLM-L6-v2"
    query_encoder: str = "auto"  # QA_QUERY_ENCODER: onnx (a verified cached export), torch, or auto
    chunk_max_tokens: int = 200  # MiniLM truncates at 256 word pieces; keep headroom for special tokens
    chunk_overlap_sentences: int = 1
    store: str = "faiss"  # QA_STORE: the vector engine, faiss or milvus (recorded in the index's manifest)
    milvus_uri: str | None = None  # QA_MILVUS_URI; default: a Milvus Lite file inside the index folder
    milvus_token: str | None = None  # QA_MILVUS_TOKEN: "user:password" or an API key
    # retrieval
    k: int = 4  # passages given to the model (FINDINGS.md: k=4 beat k=6 on accuracy and time)
    rrf_k: int = 60
    rerank: bool = True  # QA_RERANK=0: no cross-encoder; passages stay in fused (RRF) order
    # QA_RERANK_CANDIDATES: fused passages the cross-encoder re-scores (~1 s of one core for 20)
    rerank_candidates: int = 20
    max_prompt_sentences: int = 6  # retrieved sentences shown to the model, best by the cross-encoder
    # LLM: an OpenAI-compatible endpoint when OPENAI_BASE_URL is set, else the embedded engine
    base_url: str | None = None
    api_key: str | None = None
    model: str | None = None
    local_model_path: Path | None = None  # QA_LOCAL_MODEL: another GGUF for the embedded engine
    cache_dir: Path = field(default_factory=_default_cache_dir)
    llm_timeout_s: float = 120.0
    answer_deadline_s: float = 180.0  # QA_ANSWER_DEADLINE: all model calls of one answer, retries included
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
    verify_with_model: bool = True  # QA_VERIFY=0: no model check that the cited phrase answers (qa.grounding)
    # questions
    max_question_chars: int = 2000
    # uploads (qa.uploads): checked before a file is read in full, parsed or stored
    max_upload_mb: float = 10.0  # per file (a 200 MB file was still being chunked after 55 minutes)
    max_batch_mb: float = 50.0  # all files of one upload together
    max_upload_lines: int = 100_000  # lines per file
    max_json_depth: int = 32  # nesting of a JSONL line (articles are flat; deeper is hostile)

    def __post_init__(self) -> None:
        """Refuse a value that would only fail later, deep inside retrieval or the engine."""
        for f in fields(self):
            value = getattr(self, f.name)
            kind = str(f.type)
            if value is None and "None" in kind:
                continue
            kind = kind.removesuffix(" | None")
            if kind == "bool":
                if not isinstance(value, bool):
                    raise ConfigError(f"{_label(f.name)} must be true or false, got {value!r}.")
                continue
            if kind.startswith("Path"):
                if isinstance(value, str) and value:
                    object.__setattr__(self, f.name, Path(value))
                elif not isinstance(value, Path):
                    raise ConfigError(f"{_label(f.name)} must be a path, got {value!r}.")
            elif kind.startswith("str"):
                if not isinstance(value, str):
                    raise ConfigError(f"{_label(f.name)} must be text, got {value!r}.")
            elif kind == "int":
                if not isinstance(value, int) or isinstance(value, bool):
                    raise ConfigError(f"{_label(f.name)} must be a whole number, got {value!r}.")
                low = 0 if f.name in _AT_LEAST_ZERO else 1
                if value < low:
                    raise ConfigError(f"{_label(f.name)} must be at least {low}, got {value}.")
            elif kind == "float":
                if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value):
                    raise ConfigError(f"{_label(f.name)} must be a finite number, got {value!r}.")
                if f.name in _UNIT_INTERVAL and not 0 <= value <= 1:
                    raise ConfigError(f"{_label(f.name)} must be between 0 and 1, got {value}.")
                elif f.name in _COSINE and not -1 <= value <= 1:
                    raise ConfigError(f"{_label(f.name)} must be between -1 and 1, got {value}.")
                elif f.name in _AT_LEAST_ZERO and value < 0:
                    raise ConfigError(f"{_label(f.name)} must be 0 or more, got {value}.")
                elif f.name not in _UNIT_INTERVAL | _COSINE | _AT_LEAST_ZERO and value <= 0:
                    raise ConfigError(f"{_label(f.name)} must be more than 0, got {value}.")

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        s = cls()
        env: dict[str, object] = {}
        if v := _env("QA_INDEX_DIR"):
            env["index_dir"] = Path(v)
        if v := _env("QA_ARTICLES_DIR"):
            env["articles_dir"] = Path(v)
        if v := _env("QA_STORE"):
            env["store"] = v.strip().lower()
        if v := _env("QA_MILVUS_URI"):
            env["milvus_uri"] = v
        if v := _env("QA_MILVUS_TOKEN"):
            env["milvus_token"] = v
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
            env["llm_timeout_s"] = _number(float, "QA_LLM_TIMEOUT", v)
        if v := _env("QA_K"):
            env["k"] = _number(int, "QA_K", v)
        if v := _env("QA_MAX_PROMPT_SENTENCES"):
            env["max_prompt_sentences"] = _number(int, "QA_MAX_PROMPT_SENTENCES", v)
        if v := _env("QA_MAX_QUESTION_CHARS"):
            env["max_question_chars"] = _number(int, "QA_MAX_QUESTION_CHARS", v)
        if v := _env("QA_MAX_UPLOAD_MB"):
            env["max_upload_mb"] = _number(float, "QA_MAX_UPLOAD_MB", v)
        if v := _env("QA_MAX_BATCH_MB"):
            env["max_batch_mb"] = _number(float, "QA_MAX_BATCH_MB", v)
        if v := _env("QA_MAX_UPLOAD_LINES"):
            env["max_upload_lines"] = _number(int, "QA_MAX_UPLOAD_LINES", v)
        if v := _env("QA_MAX_JSON_DEPTH"):
            env["max_json_depth"] = _number(int, "QA_MAX_JSON_DEPTH", v)
        if v := _env("QA_RERANK"):
            env["rerank"] = _switch("QA_RERANK", v)
        if v := _env("QA_VERIFY"):
            env["verify_with_model"] = _switch("QA_VERIFY", v)
        if v := _env("QA_ANSWER_DEADLINE"):
            env["answer_deadline_s"] = _number(float, "QA_ANSWER_DEADLINE", v)
        if v := _env("QA_QUERY_ENCODER"):
            env["query_encoder"] = v.strip().lower()
        if v := _env("QA_LLM_THREADS"):
            env["llm_threads"] = _number(int, "QA_LLM_THREADS", v)
        if v := _env("QA_RERANK_CANDIDATES"):
            env["rerank_candidates"] = _number(int, "QA_RERANK_CANDIDATES", v)
        env.update({k: v for k, v in overrides.items() if v is not None})
        return replace(s, **env)  # type: ignore[arg-type]

    @property
    def uses_embedded_llm(self) -> bool:
        return self.base_url is None
