"""One code path to every language model: the standard OpenAI chat.completions API.

``OPENAI_BASE_URL`` set → that endpoint (OpenAI, vLLM, Ollama, llama.cpp …) with ``OPENAI_API_KEY``
and ``QA_MODEL``; unset → the embedded llama.cpp engine (``qa.engine``) on a loopback port.

Usage::

    llm = get_llm(settings)
    c = llm.complete([{"role": "user", "content": "Hi"}], max_tokens=32)
    c.text, c.prompt_tokens, c.total_ms, c.prefill_ms, c.decode_tps

    s = llm.stream(messages, schema=ANSWER_SCHEMA, max_tokens=256)
    for delta in s:
        ...
    s.result  # Completion, once the stream is exhausted

Faults (refused, timed out, HTTP 5xx, malformed or empty output) are retried
``settings.llm_retries`` times, then raised as :class:`qa.errors.LLMError`.

Bounds, because a model endpoint may stream forever or one character at a time: every call has a
``deadline`` (a :func:`time.monotonic` instant; by default ``settings.answer_deadline_s`` from the call,
or pass one shared by all the calls of an answer, see :func:`deadline_after`). When it passes, the
call's socket is shut down and :class:`LLMError` is raised. A stream also stops after a client-side cap
of deltas and characters derived from ``max_tokens``, in case the server ignores ``max_tokens``.
Closing a stream (``s.close()``, or ``s.cancel()`` from another thread) closes its HTTP connection.
"""

from __future__ import annotations

import contextlib
import json
import re
import socket
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

from qa.config import Settings
from qa.errors import LLMError
from qa.grammar import Prefill, prefill

Message = dict[str, Any]

# Client-side caps of a stream, for servers that ignore max_tokens: a delta is usually one token, and a
# token rarely exceeds a few characters; past these the stream is cut and ends as finish_reason "length".
EXTRA_DELTAS = 16
MAX_CHARS_PER_TOKEN = 16


def deadline_after(seconds: float) -> float:
    """A deadline ``seconds`` from now, to pass to every model call of one answer."""
    return time.monotonic() + seconds


@dataclass(frozen=True)
class EngineTimings:
    """What llama.cpp reports in its ``timings`` object (absent on other servers)."""

    prompt_n: int = 0  # prompt tokens actually prefilled (the rest came from the prompt cache)
    prompt_ms: float = 0.0
    prompt_per_second: float = 0.0
    predicted_n: int = 0
    predicted_ms: float = 0.0
    predicted_per_second: float = 0.0
    cache_n: int = 0  # prompt tokens reused from the cache

    @classmethod
    def from_dict(cls, d: Any) -> EngineTimings | None:
        if not isinstance(d, dict):
            return None
        try:
            return cls(
                prompt_n=int(d.get("prompt_n", 0) or 0),
                prompt_ms=float(d.get("prompt_ms", 0.0) or 0.0),
                prompt_per_second=float(d.get("prompt_per_second", 0.0) or 0.0),
                predicted_n=int(d.get("predicted_n", 0) or 0),
                predicted_ms=float(d.get("predicted_ms", 0.0) or 0.0),
                predicted_per_second=float(d.get("predicted_per_second", 0.0) or 0.0),
                cache_n=int(d.get("cache_n", 0) or 0),
            )
        except (TypeError, ValueError):
            return None


@dataclass(frozen=True)
class Completion:
    """A finished completion and its cost. ``ttft_ms`` is only known for streams."""

    text: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    ttft_ms: float | None = None
    total_ms: float = 0.0
    finish_reason: str | None = None
    engine: EngineTimings | None = None  # llama.cpp's own timings, when the server reports them

    @property
    def prefill_ms(self) -> float | None:
        """Engine prefill time (llama.cpp ``prompt_ms``)."""
        return self.engine.prompt_ms if self.engine else None

    @property
    def decode_tps(self) -> float | None:
        """Decode speed in tokens/s (llama.cpp ``predicted_per_second``)."""
        return self.engine.predicted_per_second if self.engine else None

    @property
    def cached_tokens(self) -> int | None:
        """Prompt tokens the engine's prompt cache skipped (llama.cpp ``cache_n``); None if unknown."""
        if self.engine is None:
            return None
        if self.engine.cache_n:
            return self.engine.cache_n
        # older llama.cpp builds report only what they prefilled
        return max(0, self.prompt_tokens - self.engine.prompt_n) if self.prompt_tokens else 0


class _Watch:
    """Cuts one model call off at its deadline or on demand, by shutting its socket down.

    ``shutdown`` (unlike ``close``) wakes a thread blocked in ``recv`` on the socket, so a call stuck
    on a silent or trickling server ends at once, and the server sees the connection close.
    """

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline
        self.cut: str | None = None  # why the call was cut: "deadline", "cancelled" or "closed"
        self._sock: socket.socket | None = None
        self._lock = threading.Lock()
        self._timer = threading.Timer(max(0.0, deadline - time.monotonic()), self.fire, args=("deadline",))
        self._timer.daemon = True
        self._timer.start()

    def attach(self, sock: socket.socket | None) -> None:
        with self._lock:
            self._sock = sock
            cut = self.cut
        if cut is not None:
            _shutdown(sock)

    def fire(self, reason: str) -> None:
        with self._lock:
            if self.cut is None:
                self.cut = reason
            sock = self._sock
        _shutdown(sock)

    def expired(self) -> bool:
        """True once the deadline has passed or the call was cancelled."""
        if self.cut is None and time.monotonic() >= self.deadline:
            self.fire("deadline")
        return self.cut in ("deadline", "cancelled")

    def stop(self) -> None:
        self._timer.cancel()


def _shutdown(sock: socket.socket | None) -> None:
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


class TextStream(Iterator[str]):
    """Iterator of text deltas; :attr:`result` holds the :class:`Completion` once it is exhausted."""

    def __init__(self, gen: Iterator[str]):
        self._gen = gen
        self.result: Completion | None = None
        self._watch: _Watch | None = None  # the current attempt's, set by LLMClient._stream
        self._cancelled = False

    def __iter__(self) -> TextStream:
        return self

    def __next__(self) -> str:
        return next(self._gen)

    def cancel(self) -> None:
        """Stop the stream from any thread: its connection is shut down, the reader gets LLMError."""
        self._cancelled = True
        if self._watch is not None:
            self._watch.fire("cancelled")

    def close(self) -> None:
        """Abandon the stream: the HTTP connection to the model is closed (safe to call twice)."""
        self.cancel()
        close = getattr(self._gen, "close", None)
        if close:
            with contextlib.suppress(ValueError):  # running in another thread: cancel() has cut it
                close()


class _Retry(Exception):
    """An attempt failed in a way worth one more try."""


def _schema_name(schema: dict[str, Any]) -> str:
    name = str(schema.get("title") or "response")
    return re.sub(r"[^A-Za-z0-9_-]", "_", name)[:64] or "response"


def _check_json(text: str, schema: dict[str, Any]) -> None:
    """Raise _Retry unless ``text`` is a JSON object carrying the schema's required keys."""
    try:
        value = json.loads(text)
    except ValueError as e:
        raise _Retry(f"the model returned malformed JSON ({e})") from e
    if schema.get("type") == "object":
        if not isinstance(value, dict):
            raise _Retry("the model returned JSON that is not an object")
        missing = [k for k in schema.get("required", []) if k not in value]
        if missing:
            raise _Retry(f"the model's JSON lacks {', '.join(missing)}")


def _host(url: str) -> str:
    parsed = urlparse(url)
    return parsed.netloc or url


class LLMClient:
    """Chat completions against the configured endpoint or the embedded engine.

    Thread-safe: one client may serve several questions at once (the engine batches them).
    """

    def __init__(self, settings: Settings):
        self.settings = settings
        self._lock = threading.Lock()
        self._client: Any = None
        self._model: str | None = None
        self._base_url: str | None = None
        self._local = threading.local()  # .watch: the _Watch of the call running in this thread
        # capabilities learned from the endpoint, remembered for this client
        self.json_schema_supported = True
        self.stream_usage_supported = True
        # the embedded llama.cpp continues a trailing assistant turn: a JSON reply's opening is prefilled
        self.prefill_supported = not settings.base_url

    # -- connection -----------------------------------------------------------------------------

    def _connect(self) -> tuple[Any, str]:
        with self._lock:
            if self._client is not None and self._model is not None:
                return self._client, self._model
            import openai

            s = self.settings
            model: str | None
            if s.base_url:
                base_url = s.base_url.rstrip("/")
                api_key = s.api_key or "not-needed"
                model = s.model  # None: ask the endpoint below
            else:
                from qa.engine import get_engine

                engine = get_engine(s)
                base_url = engine.base_url + "/v1"
                api_key = "not-needed"
                model = engine.model_name  # llama.cpp serves one model; the name is its alias
            # The response hook hands each call's socket to its _Watch (deadline, cancellation).
            http = openai.DefaultHttpxClient(event_hooks={"response": [self._on_response]})
            client = openai.OpenAI(
                base_url=base_url, api_key=api_key, max_retries=0, timeout=s.llm_timeout_s, http_client=http
            )
            if model is None:
                model = self._first_model(client, base_url)
            self._client, self._model, self._base_url = client, model, base_url
            return client, model

    def _first_model(self, client: Any, base_url: str) -> str:
        import openai

        try:
            models = [m.id for m in client.models.list().data]
        except openai.APIError as e:
            raise LLMError(
                f"Could not list the models at {_host(base_url)} ({_describe_error(e)}). "
                "Set QA_MODEL to the model name."
            ) from e
        if not models:
            raise LLMError(
                f"The endpoint at {_host(base_url)} lists no models. Set QA_MODEL to the model name."
            )
        return models[0]

    @property
    def model(self) -> str:
        return self._connect()[1]

    @property
    def base_url(self) -> str:
        self._connect()
        assert self._base_url is not None
        return self._base_url

    def _on_response(self, response: Any) -> None:
        """httpx response hook (runs in the calling thread once headers arrive): arm the call's watch."""
        watch: _Watch | None = getattr(self._local, "watch", None)
        if watch is None:
            return
        stream = response.extensions.get("network_stream")
        sock = stream.get_extra_info("socket") if stream is not None else None
        watch.attach(sock if isinstance(sock, socket.socket) else None)

    # -- requests -------------------------------------------------------------------------------

    def _prefill(self, schema: dict[str, Any] | None) -> Prefill | None:
        return prefill(schema) if self.prefill_supported else None

    def _request_args(
        self,
        messages: Sequence[Message],
        schema: dict[str, Any] | None,
        max_tokens: int,
        temperature: float,
        opening: Prefill | None = None,
    ) -> dict[str, Any]:
        msgs = [dict(m) for m in messages]
        args: dict[str, Any] = {"max_tokens": max_tokens, "temperature": temperature}
        if opening is not None:
            msgs.append({"role": "assistant", "content": opening.prefix})
        elif schema is not None:
            if self.json_schema_supported:
                args["response_format"] = {
                    "type": "json_schema",
                    "json_schema": {"name": _schema_name(schema), "schema": schema, "strict": True},
                }
            else:
                # json_object does not carry the schema, so state it in the prompt
                args["response_format"] = {"type": "json_object"}
                msgs.insert(
                    0,
                    {
                        "role": "system",
                        "content": "Reply with one JSON object matching this JSON schema:\n"
                        + json.dumps(schema),
                    },
                )
        args["messages"] = msgs
        extra: dict[str, Any] = {}
        if not self.settings.base_url:
            # llama.cpp: reuse the KV cache of the longest matching prefix (the fixed instructions)
            extra["cache_prompt"] = True
        if opening is not None:
            extra["grammar"] = opening.grammar
        if extra:
            args["extra_body"] = extra
        return args

    def _deadline(self, deadline: float | None) -> float:
        return deadline if deadline is not None else deadline_after(self.settings.answer_deadline_s)

    def _timeout(self, deadline: float) -> float:
        """The per-read timeout of an attempt: never past the deadline."""
        return max(0.05, min(self.settings.llm_timeout_s, deadline - time.monotonic()))

    def _late(self, deadline: float, calls: str = "model call") -> LLMError:
        total = self.settings.answer_deadline_s
        return LLMError(
            f"The language model at {_host(self._base_url or '')} did not finish within the {calls}'s "
            f"deadline ({total:.0f} s per answer, setting QA_ANSWER_DEADLINE)."
        )

    def _rejected_schema(self, e: Exception, schema: dict[str, Any] | None) -> bool:
        """A 400 while a prefill or json_schema was requested: fall back (prefill → json_schema →
        json_object) for good."""
        import openai

        if schema is None or not isinstance(e, openai.BadRequestError):
            return False
        if self._prefill(schema) is not None:
            self.prefill_supported = False
            return True
        if self.json_schema_supported:
            self.json_schema_supported = False
            return True
        return False

    def complete(
        self,
        messages: Sequence[Message],
        *,
        schema: dict[str, Any] | None = None,
        max_tokens: int,
        temperature: float = 0.0,
        deadline: float | None = None,
    ) -> Completion:
        """One chat completion; with ``schema`` the reply is constrained to (and checked as) JSON.

        ``deadline`` (``time.monotonic()`` instant, see :func:`deadline_after`) bounds the whole call,
        retries included; default ``settings.answer_deadline_s`` from now.
        """
        import openai

        deadline = self._deadline(deadline)
        client, model = self._connect()
        attempts = 1 + max(0, self.settings.llm_retries)
        last = "no attempt was made"
        attempt = 0
        while attempt < attempts:
            if time.monotonic() >= deadline:
                raise self._late(deadline)
            opening = self._prefill(schema)
            args = self._request_args(messages, schema, max_tokens, temperature, opening)
            t0 = time.perf_counter()
            watch = self._local.watch = _Watch(deadline)
            try:
                resp = client.chat.completions.create(model=model, timeout=self._timeout(deadline), **args)
                total_ms = (time.perf_counter() - t0) * 1000
                choice = resp.choices[0]
                text = choice.message.content or ""
                if not text.strip():
                    raise _Retry("the model returned an empty answer")
                if opening is not None:
                    text = opening.whole(text)
                if schema is not None:
                    _check_json(text, schema)
                usage = resp.usage
                extra = resp.model_extra or {}
                return Completion(
                    text=text,
                    prompt_tokens=(usage.prompt_tokens or 0) if usage else 0,
                    completion_tokens=(usage.completion_tokens or 0) if usage else 0,
                    ttft_ms=None,
                    total_ms=total_ms,
                    finish_reason=choice.finish_reason,
                    engine=EngineTimings.from_dict(extra.get("timings")),
                )
            except _Retry as e:
                last = str(e)
            except openai.APIStatusError as e:
                if self._rejected_schema(e, schema):
                    continue  # not a fault: retry at once with json_object, same attempt count
                if not _retryable_status(e.status_code):
                    raise LLMError(_status_message(e, self._base_url)) from e
                last = _describe_error(e)
            except openai.APIError as e:  # connection refused/reset, timeout, undecodable body
                if watch.expired():
                    raise self._late(deadline) from e
                last = _describe_error(e)
            except (ValueError, TypeError, AttributeError, IndexError, KeyError) as e:
                last = f"the server sent a malformed response ({type(e).__name__})"
            finally:
                watch.stop()
                self._local.watch = None
            attempt += 1
        raise LLMError(
            f"The language model at {_host(self._base_url or '')} failed after {attempts} attempt(s): {last}."
        )

    def stream(
        self,
        messages: Sequence[Message],
        *,
        schema: dict[str, Any] | None = None,
        max_tokens: int,
        temperature: float = 0.0,
        deadline: float | None = None,
    ) -> TextStream:
        """Stream text deltas. A failure before the first delta is retried; after it, LLMError.

        The returned iterator's ``result`` holds the final :class:`Completion` when it is exhausted.
        With ``schema`` the output is constrained, but not checked: the caller parses the whole text.
        ``deadline`` as in :meth:`complete`: past it the stream ends with LLMError. Past the client-side
        cap (``max_tokens`` + 16 deltas, 16 characters per token) it ends with ``finish_reason`` "length".
        """
        holder: list[TextStream] = []
        ts = TextStream(
            self._stream(messages, schema, max_tokens, temperature, self._deadline(deadline), holder)
        )
        holder.append(ts)
        return ts

    def _stream(
        self,
        messages: Sequence[Message],
        schema: dict[str, Any] | None,
        max_tokens: int,
        temperature: float,
        deadline: float,
        holder: list[TextStream],
    ) -> Iterator[str]:
        import httpx2
        import openai

        client, model = self._connect()
        attempts = 1 + max(0, self.settings.llm_retries)
        last = "no attempt was made"
        attempt = 0
        max_deltas, max_chars = max_tokens + EXTRA_DELTAS, max_tokens * MAX_CHARS_PER_TOKEN
        while attempt < attempts:
            if holder[0]._cancelled:
                raise LLMError("The answer was cancelled.")
            if time.monotonic() >= deadline:
                raise self._late(deadline)
            opening = self._prefill(schema)
            args = self._request_args(messages, schema, max_tokens, temperature, opening)
            if self.stream_usage_supported:
                args["stream_options"] = {"include_usage": True}
            t0 = time.perf_counter()
            ttft_ms: float | None = None
            parts: list[str] = []
            chars = 0
            usage: Any = None
            timings: Any = None
            finish: str | None = None
            complete = False  # the server ended the stream itself
            watch = self._local.watch = holder[0]._watch = _Watch(deadline)
            try:
                try:
                    response = client.chat.completions.create(
                        model=model, stream=True, timeout=self._timeout(deadline), **args
                    )
                finally:
                    self._local.watch = None  # the hook has run; this thread may serve other calls
                try:
                    for chunk in response:
                        if watch.expired():
                            break
                        extra = chunk.model_extra or {}
                        if extra.get("timings") is not None:
                            timings = extra["timings"]
                        if chunk.usage is not None:
                            usage = chunk.usage
                        for choice in chunk.choices or []:
                            if choice.finish_reason:
                                finish = choice.finish_reason
                            delta = choice.delta.content if choice.delta else None
                            if delta:
                                if ttft_ms is None:
                                    ttft_ms = (time.perf_counter() - t0) * 1000
                                    if opening is not None:
                                        delta = opening.whole(delta)
                                parts.append(delta)
                                chars += len(delta)
                                yield delta
                        if len(parts) >= max_deltas or chars >= max_chars:
                            finish = "length"  # the server ignores max_tokens: stop reading
                            watch.fire("closed")
                            break
                    else:
                        complete = True
                finally:
                    if not complete:
                        watch.fire("closed")  # abandoned, cut or broken mid-stream: hang up now
                    response.close()
                if finish is None and watch.expired():  # a shut-down socket can look like a clean end
                    raise _Cut(str(watch.cut))
                if not parts:
                    raise _Retry("the model returned an empty answer")
            except _Cut as e:
                raise self._cut_error(str(e), deadline) from None
            except _Retry as e:
                last = str(e)
            except openai.APIStatusError as e:
                if parts:
                    raise LLMError(_broken_stream(e)) from e
                if self._rejected_schema(e, schema):
                    continue
                if "stream_options" in args and isinstance(e, openai.BadRequestError):
                    self.stream_usage_supported = False  # some servers refuse stream_options
                    continue
                if not _retryable_status(e.status_code):
                    raise LLMError(_status_message(e, self._base_url)) from e
                last = _describe_error(e)
            except (
                openai.APIError,
                httpx2.HTTPError,
                OSError,
                ValueError,
                TypeError,
                AttributeError,
                IndexError,
                KeyError,
            ) as e:
                if watch.expired():
                    raise self._cut_error(str(watch.cut), deadline) from e
                if parts:
                    raise LLMError(_broken_stream(e)) from e
                last = _describe_error(e) if isinstance(e, openai.APIError) else f"malformed stream ({e})"
            else:
                text = "".join(parts)
                holder[0].result = Completion(
                    text=text,
                    prompt_tokens=(usage.prompt_tokens or 0) if usage else 0,
                    completion_tokens=(usage.completion_tokens or 0) if usage else len(parts),
                    ttft_ms=ttft_ms,
                    total_ms=(time.perf_counter() - t0) * 1000,
                    finish_reason=finish,
                    engine=EngineTimings.from_dict(timings),
                )
                return
            finally:
                watch.stop()
            attempt += 1
        raise LLMError(
            f"The language model at {_host(self._base_url or '')} failed after {attempts} attempt(s): {last}."
        )

    def _cut_error(self, reason: str, deadline: float) -> LLMError:
        if reason == "cancelled":
            return LLMError("The answer was cancelled.")
        return self._late(deadline)


class _Cut(Exception):
    """The watch cut the call (deadline or cancel): not worth a retry."""


def _retryable_status(code: int) -> bool:
    return code >= 500 or code in (408, 409, 429)


def _describe_error(e: Exception) -> str:
    import openai

    if isinstance(e, openai.APITimeoutError):
        return "it timed out"
    if isinstance(e, openai.APIConnectionError):
        return "it could not be reached"
    if isinstance(e, openai.APIStatusError):
        return f"HTTP {e.status_code}"
    if isinstance(e, openai.APIResponseValidationError):
        return "it sent a malformed response"
    return f"{type(e).__name__}: {e}"


def _status_message(e: Any, base_url: str | None) -> str:
    host = _host(base_url or "")
    code = e.status_code
    if code in (401, 403):
        return f"The endpoint at {host} refused the API key (HTTP {code}). Check OPENAI_API_KEY."
    if code == 404:
        return f"The endpoint at {host} does not know this model or path (HTTP 404). Check QA_MODEL and OPENAI_BASE_URL."
    return f"The endpoint at {host} rejected the request (HTTP {code}): {str(e)[:200]}"


def _broken_stream(e: Exception) -> str:
    return f"The language model's answer broke off mid-stream ({_describe_error(e)})."


def describe(settings: Settings) -> str:
    """One line for the UI status; never starts the engine."""
    if settings.base_url:
        return f"endpoint: {settings.model or 'first listed model'} at {_host(settings.base_url)}"
    if settings.local_model_path is not None:
        from pathlib import Path

        return f"embedded: {Path(settings.local_model_path).stem} (llama.cpp, local)"
    from qa.engine import MODEL_NAME

    return f"embedded: {MODEL_NAME} (llama.cpp, local)"


_clients: dict[Settings, LLMClient] = {}
_clients_lock = threading.Lock()


def get_llm(settings: Settings | None = None) -> LLMClient:
    """The shared client for these settings (``Settings.from_env()`` when omitted)."""
    settings = settings if settings is not None else Settings.from_env()
    with _clients_lock:
        client = _clients.get(settings)
        if client is None:
            client = _clients[settings] = LLMClient(settings)
        return client
