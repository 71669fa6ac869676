"""qa.replay: recorded model calls are replayed, new ones asked once; cut replies are never kept."""

from __future__ import annotations

from qa.llm import Completion
from qa.replay import ReplayLLM


class Counting:
    """A model that answers with a counter, so a replayed reply is told apart from a fresh one."""

    def __init__(self, finish: str = "stop"):
        self.calls = 0
        self.finish = finish

    def complete(self, messages, *, schema=None, max_tokens, temperature=0.0, deadline=None):
        self.calls += 1
        return Completion(text=f"reply {self.calls}", prompt_tokens=10, finish_reason=self.finish)

    def stream(self, messages, *, schema=None, max_tokens, temperature=0.0, deadline=None):
        model = self

        class Stream:
            result = None

            def __iter__(self):
                model.calls += 1
                text = f"streamed {model.calls}"
                yield text[:4]
                yield text[4:]
                Stream.result = Completion(text=text, finish_reason=model.finish)

            def close(self):
                pass

        return Stream()


MSG = [{"role": "user", "content": "How many lanterns?"}]


def test_a_known_prompt_is_replayed_and_a_new_one_asked(tmp_path):
    live = Counting()
    llm = ReplayLLM(live, tmp_path / "calls.db", "model-a")
    assert llm.complete(MSG, max_tokens=8).text == "reply 1"
    assert llm.complete(MSG, max_tokens=8).text == "reply 1"  # replayed
    assert llm.complete(MSG, max_tokens=9).text == "reply 2"  # another cap is another call
    assert live.calls == 2 and (llm.hits, llm.misses) == (1, 2)
    # the file outlives the process; another model never shares its replies
    assert (
        ReplayLLM(Counting(), tmp_path / "calls.db", "model-a").complete(MSG, max_tokens=8).text == "reply 1"
    )
    other = Counting()
    ReplayLLM(other, tmp_path / "calls.db", "model-b").complete(MSG, max_tokens=8)
    assert other.calls == 1


def test_a_stream_is_recorded_once_it_has_run_to_the_end(tmp_path):
    live = Counting()
    llm = ReplayLLM(live, tmp_path / "calls.db", "m")
    first = llm.stream(MSG, max_tokens=8)
    assert "".join(first) == "streamed 1" and first.result.text == "streamed 1"
    again = llm.stream(MSG, max_tokens=8)
    assert "".join(again) == "streamed 1" and again.result.text == "streamed 1" and live.calls == 1


def test_a_cut_reply_is_not_kept(tmp_path):
    live = Counting(finish="length")
    llm = ReplayLLM(live, tmp_path / "calls.db", "m")
    llm.complete(MSG, max_tokens=8)
    llm.complete(MSG, max_tokens=8)
    assert live.calls == 2


def test_a_prefilled_reply_is_not_replayed_for_a_schema_one_nor_the_reverse(tmp_path):
    # the opening given rather than generated (qa.grammar) may change what follows it
    schema = {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]}
    live = Counting()
    llm = ReplayLLM(live, tmp_path / "calls.db", "model-a")
    assert llm.complete(MSG, schema=schema, max_tokens=8).text == "reply 1"
    live.prefill_supported = True
    assert llm.complete(MSG, schema=schema, max_tokens=8).text == "reply 2"
    assert llm.complete(MSG, max_tokens=8).text == "reply 3"  # no schema, nothing prefilled
    live.prefill_supported = False
    assert llm.complete(MSG, schema=schema, max_tokens=8).text == "reply 1"
    assert llm.complete(MSG, max_tokens=8).text == "reply 3"
