"""qa.llm against the stub OpenAI-compatible server: retries, streaming, JSON schema, describe()."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qa.config import Settings
from qa.errors import LLMError
from qa.llm import Completion, LLMClient, describe, get_llm
from tests.stub_openai import Fault, StubLLM, dead_base_url, last_user, settings_for

MSGS = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "What is the capital?"}]
SCHEMA = {
    "type": "object",
    "properties": {"answer": {"type": "string"}, "ids": {"type": "array", "items": {"type": "integer"}}},
    "required": ["answer", "ids"],
    "additionalProperties": False,
}
FAULTS = ["refuse", "hang", "500", "malformed", "garbage", "empty"]


@pytest.fixture
def fast(stub_llm: StubLLM, tmp_path: Path) -> Settings:
    stub_llm.hang_s = 1.5
    return settings_for(stub_llm, llm_timeout_s=0.5, cache_dir=tmp_path)


def test_complete_returns_text_and_stats(stub_settings: Settings, stub_llm: StubLLM) -> None:
    stub_llm.push("Paris is the capital.")
    c = LLMClient(stub_settings).complete(MSGS, max_tokens=20)
    assert isinstance(c, Completion)
    assert c.text == "Paris is the capital."
    assert c.prompt_tokens > 0 and c.completion_tokens == 4
    assert c.total_ms > 0
    assert c.engine is not None and c.prefill_ms is not None and c.decode_tps == 500.0
    req = stub_llm.last_request
    assert req["model"] == "stub" and req["messages"] == MSGS
    assert req["max_tokens"] == 20 and req["temperature"] == 0.0
    assert "response_format" not in req


@pytest.mark.parametrize("mode", FAULTS)
def test_fault_is_retried_once_then_llm_error(mode: str, fast: Settings, stub_llm: StubLLM) -> None:
    # garbage is only detectable as a fault when JSON is expected
    schema = SCHEMA if mode == "garbage" else None
    stub_llm.fault(mode, times=2)
    with pytest.raises(LLMError) as err:
        LLMClient(fast).complete(MSGS, schema=schema, max_tokens=20)
    assert stub_llm.request_count == 2
    assert "2 attempt" in str(err.value)


@pytest.mark.parametrize("mode", FAULTS)
def test_success_after_one_failure(mode: str, fast: Settings, stub_llm: StubLLM) -> None:
    good = json.dumps({"answer": "Paris", "ids": [1]})
    stub_llm.fault(mode).push(good)
    c = LLMClient(fast).complete(MSGS, schema=SCHEMA, max_tokens=20)
    assert json.loads(c.text) == {"answer": "Paris", "ids": [1]}
    assert stub_llm.request_count == 2


def test_no_retries_when_configured(fast: Settings, stub_llm: StubLLM) -> None:
    from dataclasses import replace

    stub_llm.fault("500", times=2)
    with pytest.raises(LLMError):
        LLMClient(replace(fast, llm_retries=0)).complete(MSGS, max_tokens=5)
    assert stub_llm.request_count == 1


def test_client_error_is_not_retried(fast: Settings, stub_llm: StubLLM) -> None:
    stub_llm.fault("400", times=2)
    with pytest.raises(LLMError, match="400"):
        LLMClient(fast).complete(MSGS, max_tokens=5)
    assert stub_llm.request_count == 1


def test_connection_refused_is_llm_error(tmp_path: Path) -> None:
    s = Settings(base_url=dead_base_url(), model="m", llm_timeout_s=1.0, cache_dir=tmp_path)
    with pytest.raises(LLMError, match="could not be reached"):
        LLMClient(s).complete(MSGS, max_tokens=5)
    with pytest.raises(LLMError):
        list(LLMClient(s).stream(MSGS, max_tokens=5))


def test_json_schema_is_sent(stub_settings: Settings, stub_llm: StubLLM) -> None:
    stub_llm.push(json.dumps({"answer": "x", "ids": []}))
    LLMClient(stub_settings).complete(MSGS, schema=SCHEMA, max_tokens=50)
    rf = stub_llm.last_request["response_format"]
    assert rf["type"] == "json_schema"
    assert rf["json_schema"]["schema"] == SCHEMA and rf["json_schema"]["strict"] is True
    assert rf["json_schema"]["name"]


def test_falls_back_to_json_object_after_400_and_remembers(
    stub_settings: Settings, stub_llm: StubLLM
) -> None:
    stub_llm.reject_json_schema = True
    stub_llm.responder = lambda req: json.dumps({"answer": "ok", "ids": [2]})
    llm = LLMClient(stub_settings)
    c = llm.complete(MSGS, schema=SCHEMA, max_tokens=50)
    assert json.loads(c.text)["ids"] == [2]
    kinds = [r["response_format"]["type"] for r in stub_llm.requests]
    assert kinds == ["json_schema", "json_object"]
    # the schema travels in the prompt instead
    assert '"ids"' in stub_llm.last_request["messages"][0]["content"]
    llm.complete(MSGS, schema=SCHEMA, max_tokens=50)
    assert stub_llm.requests[-1]["response_format"]["type"] == "json_object"
    assert len(stub_llm.requests) == 3
    # streams remember it too
    assert json.loads("".join(llm.stream(MSGS, schema=SCHEMA, max_tokens=50)))["answer"] == "ok"
    assert stub_llm.requests[-1]["response_format"]["type"] == "json_object"


def test_stream_deltas_concatenate(stub_settings: Settings, stub_llm: StubLLM) -> None:
    text = "Paris has been the capital of France for centuries."
    stub_llm.push(text)
    stub_llm.chunk_chars = 5
    s = LLMClient(stub_settings).stream(MSGS, max_tokens=50)
    deltas = list(s)
    assert len(deltas) >= 2
    assert "".join(deltas) == text
    assert s.result is not None and s.result.text == text
    assert s.result.ttft_ms is not None and 0 < s.result.ttft_ms <= s.result.total_ms
    assert s.result.prompt_tokens > 0 and s.result.completion_tokens == len(text.split())
    assert s.result.engine is not None and s.result.decode_tps == 500.0
    req = stub_llm.last_request
    assert req["stream"] is True and req["stream_options"] == {"include_usage": True}


def test_ttft_measures_the_wait(stub_settings: Settings, stub_llm: StubLLM) -> None:
    stub_llm.delay_s = 0.3
    s = LLMClient(stub_settings).stream(MSGS, max_tokens=50)
    "".join(s)
    assert s.result is not None and s.result.ttft_ms is not None and s.result.ttft_ms >= 300


def test_stream_tolerates_missing_usage(stub_settings: Settings, stub_llm: StubLLM) -> None:
    stub_llm.send_usage = False
    stub_llm.send_timings = False
    s = LLMClient(stub_settings).stream(MSGS, max_tokens=50)
    assert "".join(s) == stub_llm.default_reply
    assert s.result is not None and s.result.engine is None and s.result.prompt_tokens == 0


@pytest.mark.parametrize("mode", ["refuse", "hang", "500", "malformed", "empty"])
def test_stream_retries_before_first_token(mode: str, fast: Settings, stub_llm: StubLLM) -> None:
    stub_llm.fault(mode).push("recovered answer")
    assert "".join(LLMClient(fast).stream(MSGS, max_tokens=20)) == "recovered answer"
    assert stub_llm.request_count == 2


@pytest.mark.parametrize("mode", ["refuse", "500", "empty"])
def test_stream_gives_up_after_retry(mode: str, fast: Settings, stub_llm: StubLLM) -> None:
    stub_llm.fault(mode, times=2)
    with pytest.raises(LLMError):
        list(LLMClient(fast).stream(MSGS, max_tokens=20))
    assert stub_llm.request_count == 2


def test_stream_broken_after_tokens_raises(stub_settings: Settings, stub_llm: StubLLM) -> None:
    stub_llm.fault("break").push("never used")
    got: list[str] = []
    with pytest.raises(LLMError, match="broke off"):
        for d in LLMClient(stub_settings).stream(MSGS, max_tokens=20):
            got.append(d)
    assert got  # some text arrived before the break
    assert stub_llm.request_count == 1


def test_responder_scripts_answers_from_the_prompt(stub_settings: Settings, stub_llm: StubLLM) -> None:
    stub_llm.responder = lambda req: "yes" if "capital" in last_user(req) else Fault("500")
    llm = LLMClient(stub_settings)
    assert llm.complete(MSGS, max_tokens=5).text == "yes"
    with pytest.raises(LLMError):
        llm.complete([{"role": "user", "content": "other"}], max_tokens=5)


def test_model_taken_from_endpoint_when_unset(stub_llm: StubLLM, tmp_path: Path) -> None:
    stub_llm.models = ["first-model", "second"]
    s = settings_for(stub_llm, model=None, cache_dir=tmp_path)
    llm = LLMClient(s)
    llm.complete(MSGS, max_tokens=5)
    assert stub_llm.last_request["model"] == "first-model"
    assert llm.model == "first-model"


def test_no_models_listed_is_a_clear_error(stub_llm: StubLLM, tmp_path: Path) -> None:
    stub_llm.models = []
    with pytest.raises(LLMError, match="QA_MODEL"):
        LLMClient(settings_for(stub_llm, model=None, cache_dir=tmp_path)).complete(MSGS, max_tokens=5)


def test_describe_does_not_start_anything(tmp_path: Path) -> None:
    assert (
        describe(Settings(cache_dir=tmp_path)) == "embedded: qwen2.5-coder-1.5b-instruct (llama.cpp, local)"
    )
    s = Settings(base_url="http://gpu-box:8000/v1", model="Qwen/Qwen2.5-7B-Instruct")
    assert describe(s) == "endpoint: Qwen/Qwen2.5-7B-Instruct at gpu-box:8000"
    local = Settings(local_model_path=tmp_path / "my-model.Q4.gguf")
    assert describe(local) == "embedded: my-model.Q4 (llama.cpp, local)"
    from qa import engine

    assert not any(e.running for e in engine._engines.values() if e.settings.cache_dir == tmp_path)


def test_get_llm_is_cached_per_settings(stub_settings: Settings) -> None:
    from dataclasses import replace

    assert get_llm(stub_settings) is get_llm(stub_settings)
    assert get_llm(replace(stub_settings, k=7)) is not get_llm(stub_settings)


def test_import_qa_llm_does_not_import_openai() -> None:
    import subprocess
    import sys

    code = "import sys, qa.llm, qa.engine; print('openai' in sys.modules, 'xllamacpp' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
