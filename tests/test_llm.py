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


# -- bounds: the answer deadline, the client-side cap, cancellation (issue 13.3) ----------------------


def _bounded(stub: StubLLM, tmp_path: Path, deadline_s: float = 1.0) -> Settings:
    """A long per-read timeout, so that only the overall deadline can end a call that keeps sending."""
    return settings_for(stub, llm_timeout_s=30.0, answer_deadline_s=deadline_s, cache_dir=tmp_path)


def _drain(stream) -> list[str]:
    got: list[str] = []
    for d in stream:
        got.append(d)
    return got


def _run_bounded(fn, limit_s: float = 30.0):
    """Run ``fn`` in a thread; fail (instead of hanging the suite) if it does not return at all."""
    import threading

    box: dict[str, object] = {}

    def target() -> None:
        try:
            box["value"] = fn()
        except BaseException as e:  # noqa: BLE001 — handed to the test
            box["error"] = e

    t = threading.Thread(target=target, daemon=True)
    t.start()
    t.join(limit_s)
    assert not t.is_alive(), "the call never returned: nothing bounds it"
    if "error" in box:
        raise box["error"]  # type: ignore[misc]
    return box.get("value")


@pytest.mark.parametrize("mode", ["endless", "trickle"])
def test_stream_that_never_ends_stops_at_the_deadline(mode: str, stub_llm: StubLLM, tmp_path: Path) -> None:
    stub_llm.trickle_s = 0.3
    stub_llm.fault(mode, times=2)
    llm = LLMClient(_bounded(stub_llm, tmp_path))
    with pytest.raises(LLMError, match="QA_ANSWER_DEADLINE"):
        _run_bounded(lambda: _drain(llm.stream(MSGS, max_tokens=100_000)))
    assert stub_llm.request_count == 1  # no retry once the deadline has passed
    assert stub_llm.disconnected.wait(10), "the connection to the model stayed open"


def test_complete_whose_body_never_ends_stops_at_the_deadline(stub_llm: StubLLM, tmp_path: Path) -> None:
    stub_llm.endless_interval_s = 0.05
    stub_llm.fault("endless", times=2)
    llm = LLMClient(_bounded(stub_llm, tmp_path))
    with pytest.raises(LLMError, match="QA_ANSWER_DEADLINE"):
        _run_bounded(lambda: llm.complete(MSGS, max_tokens=20))
    assert stub_llm.request_count == 1
    assert stub_llm.disconnected.wait(10)


def test_silent_server_is_bounded_by_the_deadline_not_the_read_timeout(
    stub_llm: StubLLM, tmp_path: Path
) -> None:
    stub_llm.hang_s = 5.0
    stub_llm.fault("hang", times=2)
    llm = LLMClient(_bounded(stub_llm, tmp_path, deadline_s=0.5))
    with pytest.raises(LLMError, match="QA_ANSWER_DEADLINE"):
        _run_bounded(lambda: _drain(llm.stream(MSGS, max_tokens=20)))
    assert stub_llm.request_count == 1


def test_calls_sharing_a_deadline_share_the_budget(stub_llm: StubLLM, tmp_path: Path) -> None:
    from qa.llm import deadline_after

    stub_llm.fault("endless")
    llm = LLMClient(_bounded(stub_llm, tmp_path, deadline_s=60.0))
    deadline = deadline_after(0.5)  # one answer: a follow-up's rewrite, then the answer
    with pytest.raises(LLMError):
        _run_bounded(lambda: llm.complete(MSGS, max_tokens=20, deadline=deadline))
    with pytest.raises(LLMError, match="QA_ANSWER_DEADLINE"):
        list(llm.stream(MSGS, max_tokens=20, deadline=deadline))
    assert stub_llm.request_count == 1  # the spent budget sends no second request


def test_stream_that_ignores_max_tokens_is_capped(stub_llm: StubLLM, tmp_path: Path) -> None:
    from qa.llm import EXTRA_DELTAS

    stub_llm.endless_interval_s = 0.001
    stub_llm.fault("endless")
    s = LLMClient(_bounded(stub_llm, tmp_path, deadline_s=60.0)).stream(MSGS, max_tokens=10)
    deltas = _run_bounded(lambda: _drain(s))
    assert len(deltas) == 10 + EXTRA_DELTAS
    assert s.result is not None and s.result.finish_reason == "length"
    assert stub_llm.disconnected.wait(10)


def test_closing_a_stream_closes_the_connection(stub_llm: StubLLM, tmp_path: Path) -> None:
    stub_llm.endless_interval_s = 0.02
    stub_llm.fault("endless")
    s = LLMClient(_bounded(stub_llm, tmp_path, deadline_s=60.0)).stream(MSGS, max_tokens=100_000)
    assert next(s) and next(s)  # the model is talking
    assert not stub_llm.disconnected.is_set()
    s.close()  # what ask_stream does when the user leaves or presses Stop
    assert stub_llm.disconnected.wait(10)


def test_cancel_from_another_thread_stops_the_reader(stub_llm: StubLLM, tmp_path: Path) -> None:
    import threading

    stub_llm.trickle_s = 0.2
    stub_llm.fault("trickle")
    s = LLMClient(_bounded(stub_llm, tmp_path, deadline_s=60.0)).stream(MSGS, max_tokens=100_000)
    first = threading.Event()

    def read() -> list[str]:
        got = []
        for d in s:
            got.append(d)
            first.set()
        return got

    threading.Timer(0.1, lambda: first.wait(10) and s.cancel()).start()
    with pytest.raises(LLMError, match="cancelled"):
        _run_bounded(read)
    assert stub_llm.disconnected.wait(10)


def test_cache_prompt_is_only_sent_to_the_embedded_engine(stub_settings: Settings, stub_llm: StubLLM) -> None:
    LLMClient(stub_settings).complete(MSGS, max_tokens=5)
    assert "cache_prompt" not in stub_llm.last_request  # an OpenAI endpoint would refuse the unknown key
    args = LLMClient(Settings(cache_dir=stub_settings.cache_dir))._request_args(MSGS, None, 5, 0.0)
    assert args["extra_body"] == {"cache_prompt": True}


def test_cached_tokens_come_from_the_engine_timings() -> None:
    from qa.llm import EngineTimings

    assert (
        Completion("x", prompt_tokens=600, engine=EngineTimings(prompt_n=100, cache_n=500)).cached_tokens
        == 500
    )
    assert Completion("x", prompt_tokens=600, engine=EngineTimings(prompt_n=100)).cached_tokens == 500
    assert Completion("x", prompt_tokens=600).cached_tokens is None


def test_qa_ask_with_an_endless_model_falls_back_within_the_deadline(
    stub_llm: StubLLM, built_index: Path, tmp_path: Path
) -> None:
    from qa.answer import Pipeline

    stub_llm.fault("trickle", times=3)
    stub_llm.trickle_s = 0.5
    settings = settings_for(
        stub_llm, llm_timeout_s=60.0, answer_deadline_s=2.0, index_dir=built_index, cache_dir=tmp_path
    )
    answer = _run_bounded(lambda: Pipeline(settings).ask("How many soldiers has Mexico assigned?"), 120)
    assert answer.extractive and answer.notice  # quoted sentences, and a note saying why
    assert stub_llm.request_count == 1
    assert stub_llm.disconnected.wait(10)


def test_prefill_sends_the_opening_and_the_grammar_of_the_rest(
    stub_settings: Settings, stub_llm: StubLLM
) -> None:
    llm = LLMClient(stub_settings)
    llm.prefill_supported = True  # as for the embedded engine
    stub_llm.push('Paris", "ids": [1]}')  # a stream carries the continuation only
    s = llm.stream(MSGS, schema=SCHEMA, max_tokens=50)
    deltas = list(s)
    assert deltas[0].startswith('{"answer": "')
    assert s.result is not None and json.loads(s.result.text) == {"answer": "Paris", "ids": [1]}
    req = stub_llm.last_request
    assert req["messages"][-1] == {"role": "assistant", "content": '{"answer": "'}
    assert req["grammar"].startswith("root ::= char*") and "response_format" not in req
    # a whole reply that echoes the opening is not given it twice
    stub_llm.push('{"answer": "Lyon", "ids": []}')
    assert json.loads(llm.complete(MSGS, schema=SCHEMA, max_tokens=50).text)["answer"] == "Lyon"
    stub_llm.push('Nice", "ids": [2]}')
    assert json.loads(llm.complete(MSGS, schema=SCHEMA, max_tokens=50).text)["answer"] == "Nice"


def test_refused_prefill_falls_back_to_the_schema_and_remembers(
    stub_settings: Settings, stub_llm: StubLLM
) -> None:
    stub_llm.reject_grammar = True
    stub_llm.responder = lambda req: json.dumps({"answer": "ok", "ids": [2]})
    llm = LLMClient(stub_settings)
    llm.prefill_supported = True
    assert json.loads(llm.complete(MSGS, schema=SCHEMA, max_tokens=50).text)["ids"] == [2]
    assert ["grammar" in r for r in stub_llm.requests] == [True, False]
    assert stub_llm.last_request["response_format"]["type"] == "json_schema"
    assert json.loads("".join(llm.stream(MSGS, schema=SCHEMA, max_tokens=50)))["answer"] == "ok"
    assert "grammar" not in stub_llm.last_request and not llm.prefill_supported
