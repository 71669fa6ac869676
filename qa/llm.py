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
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

from qa.config import Settings
from qa.errors import LLMError

Message = dict[str, Any]


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


class TextStream(Iterator[str]):
    """Iterator of text deltas; :attr:`result` holds the :class:`Completion` once it is exhausted."""

    def __init__(self, gen: Iterator[str]):
        self._gen = gen
        self.result: Completion | None = None

    def __iter__(self) -> TextStream:
        return self

    def __next__(self) -> str:
        return next(self._gen)

    def close(self) -> None:
        """Abandon the stream (closes the HTTP response)."""
        close = getattr(self._gen, "close", None)
        if close:
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
        # capabilities learned from the endpoint, remembered for this client
        self.json_schema_supported = True
        self.stream_usage_supported = True

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
            client = openai.OpenAI(base_url=base_url, api_key=api_key, max_retries=0, timeout=s.llm_timeout_s)
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

    # -- requests -------------------------------------------------------------------------------

    def _request_args(
        self, messages: Sequence[Message], schema: dict[str, Any] | None, max_tokens: int, temperature: float
    ) -> dict[str, Any]:
        msgs = [dict(m) for m in messages]
        args: dict[str, Any] = {"max_tokens": max_tokens, "temperature": temperature}
        if schema is not None:
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
        return args

    def _rejected_schema(self, e: Exception, schema: dict[str, Any] | None) -> bool:
        """A 400 while json_schema was requested: switch this client to json_object for good."""
        import openai

        if schema is not None and self.json_schema_supported and isinstance(e, openai.BadRequestError):
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
    ) -> Completion:
        """One chat completion; with ``schema`` the reply is constrained to (and checked as) JSON."""
        import openai

        client, model = self._connect()
        attempts = 1 + max(0, self.settings.llm_retries)
        last = "no attempt was made"
        attempt = 0
        while attempt < attempts:
            args = self._request_args(messages, schema, max_tokens, temperature)
            t0 = time.perf_counter()
            try:
                resp = client.chat.completions.create(model=model, **args)
                total_ms = (time.perf_counter() - t0) * 1000
                choice = resp.choices[0]
                text = choice.message.content or ""
                if not text.strip():
                    raise _Retry("the model returned an empty answer")
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
                last = _describe_error(e)
            except (ValueError, TypeError, AttributeError, IndexError, KeyError) as e:
                last = f"the server sent a malformed response ({type(e).__name__})"
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
    ) -> TextStream:
        """Stream text deltas. A failure before the first delta is retried; after it, LLMError.

        The returned iterator's ``result`` holds the final :class:`Completion` when it is exhausted.
        With ``schema`` the output is constrained, but not checked: the caller parses the whole text.
        """
        holder: list[TextStream] = []
        ts = TextStream(self._stream(messages, schema, max_tokens, temperature, holder))
        holder.append(ts)
        return ts

    def _stream(
        self,
        messages: Sequence[Message],
        schema: dict[str, Any] | None,
        max_tokens: int,
        temperature: float,
        holder: list[TextStream],
    ) -> Iterator[str]:
        import openai

        client, model = self._connect()
        attempts = 1 + max(0, self.settings.llm_retries)
        last = "no attempt was made"
        attempt = 0
        while attempt < attempts:
            args = self._request_args(messages, schema, max_tokens, temperature)
            if self.stream_usage_supported:
                args["stream_options"] = {"include_usage": True}
            t0 = time.perf_counter()
            ttft_ms: float | None = None
            parts: list[str] = []
            usage: Any = None
            timings: Any = None
            finish: str | None = None
            try:
                response = client.chat.completions.create(model=model, stream=True, **args)
                try:
                    for chunk in response:
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
                                parts.append(delta)
                                yield delta
                finally:
                    response.close()
                if not parts:
                    raise _Retry("the model returned an empty answer")
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
            except (openai.APIError, ValueError, TypeError, AttributeError, IndexError, KeyError) as e:
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
            attempt += 1
        raise LLMError(
            f"The language model at {_host(self._base_url or '')} failed after {attempts} attempt(s): {last}."
        )


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
