"""A tiny scriptable OpenAI-compatible server for tests (stdlib only, one thread per request).

It serves ``GET /v1/models`` and ``POST /v1/chat/completions`` (plain JSON and SSE streaming, with
a final usage chunk and llama.cpp-style ``timings``) on 127.0.0.1 at a free port.

Usage (the ``stub_llm`` / ``stub_settings`` fixtures in tests/fixtures_llm.py do the first lines)::

    with StubLLM() as stub:
        settings = settings_for(stub)               # Settings(base_url=stub.base_url, model="stub", …)
        stub.push("first reply", "second reply")    # scripted replies, consumed in order
        stub.responder = lambda req: json.dumps({"answer": "x"}) if "Paris" in last_user(req) else "no"
        stub.fault("500", times=1)                  # the next request fails with HTTP 500
        ...
        stub.requests          # every chat request body received (dicts), oldest first
        stub.last_request      # the newest one; last_user(stub.last_request) is its last user message

What a chat request gets, in order of precedence:
1. the next item of the script queue (``push(*texts)`` adds replies, ``fault(mode, times)`` faults);
2. else ``responder(request) -> str`` when set (return a str, or a :class:`Fault` to fail);
3. else ``default_reply``.

Fault modes (``Fault.*`` constants, or their string values):
- ``"refuse"``   — the connection is reset without an answer (the client sees a connection error).
                   For a truly closed port use :func:`dead_base_url`.
- ``"hang"``     — sleep ``hang_s`` (default 5 s) before answering: set a short ``llm_timeout_s``.
- ``"500"``      — HTTP 500 with an OpenAI-style error body.
- ``"400"``      — HTTP 400 (not retried by the client).
- ``"malformed"``— HTTP 200 whose body is not valid JSON.
- ``"garbage"``  — HTTP 200 with well-formed JSON whose content is junk text (not JSON).
- ``"empty"``    — HTTP 200 with an empty content string.
- ``"break"``    — streaming only: a few deltas, then the connection drops (non-streaming: like refuse).
- ``"endless"``  — never finishes: a delta every ``endless_interval_s`` (non-streaming: a body that
                   never ends, a byte at that interval), until the client hangs up.
- ``"trickle"``  — like endless, but one character every ``trickle_s`` (default 5 s).
                   Both count the client's hang-up in ``disconnects`` and set the ``disconnected`` event.

Switches: ``reject_json_schema`` (answer 400 to ``response_format.type == "json_schema"``, as some
endpoints do), ``reject_grammar`` (answer 400 to a llama.cpp ``grammar``), ``send_usage`` (False: ignore ``stream_options.include_usage``), ``send_timings``
(False: no llama.cpp ``timings``), ``chunk_chars`` (size of stream deltas), ``delay_s`` (sleep before
the first delta / the response), ``models`` (ids listed by /v1/models).
"""

from __future__ import annotations

import contextlib
import json
import socket
import struct
import threading
import time
from collections import deque
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


class Fault(str):
    """A scripted failure; the constants below are the known modes."""

    REFUSE = "refuse"
    HANG = "hang"
    HTTP_500 = "500"
    HTTP_400 = "400"
    MALFORMED = "malformed"
    GARBAGE = "garbage"
    EMPTY = "empty"
    BREAK = "break"
    ENDLESS = "endless"
    TRICKLE = "trickle"


FAULT_MODES = {"refuse", "hang", "500", "400", "malformed", "garbage", "empty", "break", "endless", "trickle"}


def last_user(request: dict[str, Any]) -> str:
    """The text of the last user message of a chat request."""
    for m in reversed(request.get("messages", [])):
        if m.get("role") == "user":
            content = m.get("content")
            return content if isinstance(content, str) else json.dumps(content)
    return ""


def all_text(request: dict[str, Any]) -> str:
    """Every message's content joined: handy for asserting what a prompt contained."""
    return "\n".join(str(m.get("content", "")) for m in request.get("messages", []))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def dead_base_url() -> str:
    """A base URL on a loopback port nobody listens on: connections are refused."""
    return f"http://127.0.0.1:{_free_port()}/v1"


class StubLLM:
    """The server. ``start()``/``stop()`` or use it as a context manager."""

    model = "stub"

    def __init__(self, default_reply: str = "This is the stub's answer."):
        self.default_reply = default_reply
        self.responder: Callable[[dict[str, Any]], str] | None = None
        self.script: deque[str] = deque()
        self.requests: list[dict[str, Any]] = []
        self.paths: list[str] = []  # every path requested, /v1/models included
        self.hang_s = 5.0
        self.delay_s = 0.0
        self.chunk_chars = 4
        self.reject_json_schema = False
        self.reject_grammar = False
        self.send_usage = True
        self.send_timings = True
        self.models = ["stub"]
        self.endless_interval_s = 0.01
        self.trickle_s = 5.0
        self.disconnects = 0  # endless/trickle replies the client hung up on
        self.disconnected = threading.Event()
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- scripting --------------------------------------------------------------------------------

    def push(self, *replies: str) -> StubLLM:
        """Queue reply texts, consumed one per chat request."""
        with self._lock:
            self.script.extend(replies)
        return self

    def fault(self, mode: str, times: int = 1) -> StubLLM:
        """Queue ``times`` failures of ``mode`` (see the module docstring)."""
        if mode not in FAULT_MODES:
            raise ValueError(f"unknown fault mode {mode!r}; known: {sorted(FAULT_MODES)}")
        with self._lock:
            self.script.extend(Fault(mode) for _ in range(times))
        return self

    def reset(self) -> None:
        with self._lock:
            self.script.clear()
            self.requests.clear()
            self.paths.clear()
        self.responder = None

    @property
    def request_count(self) -> int:
        return len(self.requests)

    @property
    def last_request(self) -> dict[str, Any]:
        return self.requests[-1]

    def _next(self, request: dict[str, Any]) -> str:
        with self._lock:
            if self.script:
                return self.script.popleft()
        if self.responder is not None:
            return self.responder(request)
        return self.default_reply

    # -- lifecycle --------------------------------------------------------------------------------

    @property
    def port(self) -> int:
        assert self._httpd is not None, "stub not started"
        return self._httpd.server_address[1]

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>/v1`` — what OPENAI_BASE_URL would hold."""
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> StubLLM:
        stub = self

        class Handler(_Handler):
            pass

        Handler.stub = stub
        httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        httpd.daemon_threads = True  # a hanging handler must not block stop()
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever, args=(0.05,), name="stub-openai", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> StubLLM:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def settings_for(stub: StubLLM, **overrides: Any):
    """Settings pointing qa at ``stub`` (model "stub", short timeout). Overrides win."""
    from qa.config import Settings

    values: dict[str, Any] = {
        "base_url": stub.base_url,
        "api_key": "test-key",
        "model": stub.model,
        "llm_timeout_s": 2.0,
        "llm_retries": 1,
    }
    values.update(overrides)
    if "cache_dir" in values:
        values["cache_dir"] = Path(values["cache_dir"])
    return Settings(**values)


def _approx_tokens(text: str) -> int:
    return max(1, len(text.split()))


class _Handler(BaseHTTPRequestHandler):
    stub: StubLLM
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 — silence the access log
        pass

    def _json(self, status: int, payload: Any) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _error(self, status: int, message: str) -> None:
        self._json(status, {"error": {"message": message, "type": "stub_error", "code": status}})

    def _reset_connection(self) -> None:
        # SO_LINGER 0 makes close() send RST: the client sees "connection reset", no response
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True
        self.connection.close()

    def do_GET(self) -> None:
        self.stub.paths.append(self.path)
        if self.path.rstrip("/").endswith("/models"):
            data = [{"id": m, "object": "model", "created": 0, "owned_by": "stub"} for m in self.stub.models]
            self._json(200, {"object": "list", "data": data})
        elif self.path.rstrip("/").endswith("/health"):
            self._json(200, {"status": "ok"})
        else:
            self._error(404, f"no route {self.path}")

    def do_POST(self) -> None:
        stub = self.stub
        stub.paths.append(self.path)
        length = int(self.headers.get("Content-Length", 0))
        raw = self.rfile.read(length)
        if not self.path.rstrip("/").endswith("/chat/completions"):
            self._error(404, f"no route {self.path}")
            return
        try:
            req = json.loads(raw)
        except ValueError:
            self._error(400, "request body is not JSON")
            return
        with stub._lock:
            stub.requests.append(req)
        fmt = (req.get("response_format") or {}).get("type")
        if stub.reject_grammar and "grammar" in req:
            self._error(400, "grammar is not supported")
            return
        if stub.reject_json_schema and fmt == "json_schema":
            self._error(400, "response_format json_schema is not supported")
            return
        reply = stub._next(req)
        streaming = bool(req.get("stream"))
        if isinstance(reply, Fault):
            self._fault(str(reply), req, streaming)
            return
        if stub.delay_s:
            time.sleep(stub.delay_s)
        if streaming:
            self._stream(req, reply)
        else:
            self._complete(req, reply)

    def _fault(self, mode: str, req: dict[str, Any], streaming: bool) -> None:
        if mode == "refuse" or (mode == "break" and not streaming):
            self._reset_connection()
        elif mode == "hang":
            time.sleep(self.stub.hang_s)
            with contextlib.suppress(OSError):  # the client has usually given up
                self._complete(req, "too late")
        elif mode == "500":
            self._error(500, "stub internal error")
        elif mode == "400":
            self._error(400, "stub bad request")
        elif mode == "malformed":
            body = b'{"id": "x", "choices": [{"message": {"content": "trunc'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        elif mode == "garbage":
            self._complete(req, "\u0000#@! ~~ garbage ]]{ not json", streaming=streaming)
        elif mode == "empty":
            self._complete(req, "", streaming=streaming)
        elif mode == "break":
            self._stream(req, "This answer will break off in the middle of", broken=True)
        elif mode in ("endless", "trickle"):
            interval = self.stub.endless_interval_s if mode == "endless" else self.stub.trickle_s
            self._forever(req, streaming, interval)

    def _forever(self, req: dict[str, Any], streaming: bool, interval: float) -> None:
        """Send forever, one piece per ``interval``, until writing fails because the client left."""
        stub = self.stub
        try:
            if streaming:
                self._stream_head()
                base = self._chunk_base(req)
                self._send({**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}}]})
                while True:
                    time.sleep(interval)
                    self._send({**base, "choices": [{"index": 0, "delta": {"content": "a "}}]})
            else:
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(10**9))
                self.end_headers()
                self.wfile.write(b'{"id": "x", "choices": [{"message": {"content": "')
                self.wfile.flush()
                while True:
                    time.sleep(interval)
                    self.wfile.write(b"a")
                    self.wfile.flush()
        except OSError:  # BrokenPipe / ConnectionReset: the client hung up
            with stub._lock:
                stub.disconnects += 1
            stub.disconnected.set()
            self.close_connection = True

    def _usage(self, req: dict[str, Any], text: str) -> dict[str, int]:
        prompt = _approx_tokens(all_text(req))
        completion = _approx_tokens(text) if text else 0
        return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}

    def _timings(self, usage: dict[str, int]) -> dict[str, float]:
        return {
            "cache_n": 0,
            "prompt_n": usage["prompt_tokens"],
            "prompt_ms": 1.5 * usage["prompt_tokens"],
            "prompt_per_second": 666.0,
            "predicted_n": usage["completion_tokens"],
            "predicted_ms": 2.0 * usage["completion_tokens"],
            "predicted_per_second": 500.0,
        }

    def _complete(self, req: dict[str, Any], text: str, streaming: bool = False) -> None:
        if streaming:
            self._stream(req, text)
            return
        usage = self._usage(req, text)
        payload: dict[str, Any] = {
            "id": "chatcmpl-stub",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": req.get("model", self.stub.model),
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": text},
                    "finish_reason": "stop",
                }
            ],
            "usage": usage,
        }
        if self.stub.send_timings:
            payload["timings"] = self._timings(usage)
        self._json(200, payload)

    def _stream_head(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True

    def _chunk_base(self, req: dict[str, Any]) -> dict[str, Any]:
        base = {"id": "chatcmpl-stub", "object": "chat.completion.chunk", "created": int(time.time())}
        base["model"] = req.get("model", self.stub.model)
        return base

    def _send(self, obj: Any) -> None:
        data = obj if isinstance(obj, str) else json.dumps(obj)
        self.wfile.write(f"data: {data}\n\n".encode())
        self.wfile.flush()

    def _stream(self, req: dict[str, Any], text: str, broken: bool = False) -> None:
        stub = self.stub
        self._stream_head()
        base = self._chunk_base(req)
        send = self._send

        send({**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}}]})
        n = max(1, stub.chunk_chars)
        pieces = [text[i : i + n] for i in range(0, len(text), n)]
        if broken:
            pieces = pieces[:3]
        for piece in pieces:
            send({**base, "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}]})
        if broken:
            self._reset_connection()
            return
        send({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
        include_usage = bool((req.get("stream_options") or {}).get("include_usage"))
        if include_usage and stub.send_usage:
            usage = self._usage(req, text)
            final: dict[str, Any] = {**base, "choices": [], "usage": usage}
            if stub.send_timings:
                final["timings"] = self._timings(usage)
            send(final)
        send("[DONE]")
