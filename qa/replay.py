"""Record model calls once and replay them, so a grounding change is re-measured in seconds.

An evaluation run spends nearly all its time in the model (prefill is ~16 ms a token on 2 cores),
yet most changes to grounding do not change what the model is asked. ``qa eval --replay FILE`` keeps
every call's reply in a SQLite file keyed by everything that determines it (model, messages, schema,
token cap, temperature); a later run asks the model only for prompts it has not seen. Replies are
deterministic at temperature 0, so a replayed run scores what a live run would.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from qa.llm import Completion, EngineTimings

Message = dict[str, Any]


class _Replayed:
    """A finished stream: its text as one delta, and ``result`` like a live stream's."""

    def __init__(self, completion: Completion) -> None:
        self.result = completion
        self._deltas = iter([completion.text])

    def __iter__(self) -> Iterator[str]:
        return self._deltas

    def close(self) -> None:
        self._deltas = iter(())


class ReplayLLM:
    """Wraps a client with ``complete`` and ``stream``; same calls, answered from the file when known."""

    def __init__(self, llm: Any, path: str | Path, model_tag: str) -> None:
        self.llm = llm
        self.model_tag = model_tag
        self.hits = self.misses = 0
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(path), check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS calls (key TEXT PRIMARY KEY, completion TEXT NOT NULL)")
        self._db.commit()

    def _key(self, kind: str, messages: Sequence[Message], schema: Any, max_tokens: int, temp: float) -> str:
        key: list[Any] = [self.model_tag, kind, list(messages), schema, max_tokens, temp]
        if schema is not None and getattr(self.llm, "prefill_supported", False):
            key.append("prefill")  # the reply's opening is given, not generated (qa.grammar)
        blob = json.dumps(key, sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()

    def _get(self, key: str) -> Completion | None:
        with self._lock:
            row = self._db.execute("SELECT completion FROM calls WHERE key = ?", (key,)).fetchone()
        if row is None:
            self.misses += 1
            return None
        self.hits += 1
        data = json.loads(row[0])
        engine = data.pop("engine", None)
        return Completion(**data, engine=EngineTimings(**engine) if engine else None)

    def _put(self, key: str, completion: Completion | None) -> None:
        if completion is None or not completion.text or completion.finish_reason not in (None, "stop"):
            return  # a cut or failed reply is not what the model says: never replay it
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO calls VALUES (?, ?)", (key, json.dumps(asdict(completion)))
            )
            self._db.commit()

    def complete(
        self,
        messages: Sequence[Message],
        *,
        schema: dict[str, Any] | None = None,
        max_tokens: int,
        temperature: float = 0.0,
        deadline: float | None = None,
    ) -> Completion:
        key = self._key("complete", messages, schema, max_tokens, temperature)
        known = self._get(key)
        if known is not None:
            return known
        out = self.llm.complete(
            messages, schema=schema, max_tokens=max_tokens, temperature=temperature, deadline=deadline
        )
        self._put(key, out)
        return out

    def stream(
        self,
        messages: Sequence[Message],
        *,
        schema: dict[str, Any] | None = None,
        max_tokens: int,
        temperature: float = 0.0,
        deadline: float | None = None,
    ) -> Any:
        key = self._key("stream", messages, schema, max_tokens, temperature)
        known = self._get(key)
        if known is not None:
            return _Replayed(known)
        live = self.llm.stream(
            messages, schema=schema, max_tokens=max_tokens, temperature=temperature, deadline=deadline
        )
        return _Recording(live, lambda c: self._put(key, c))


class _Recording:
    """A live stream that stores its reply once it has run to the end."""

    def __init__(self, live: Any, store: Any) -> None:
        self._live = live
        self._store = store

    @property
    def result(self) -> Completion | None:
        return getattr(self._live, "result", None)

    def __iter__(self) -> Iterator[str]:
        parts = []
        for delta in self._live:
            parts.append(delta)
            yield delta
        done = self.result
        if done is not None and done.text == "".join(parts):
            self._store(done)

    def close(self) -> None:
        close = getattr(self._live, "close", None)
        if close is not None:
            close()
