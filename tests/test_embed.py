"""The embedder: offline, normalised float32 vectors, exact token counts, lazy heavy imports."""

from __future__ import annotations

import subprocess
import sys

import numpy as np

from qa.config import PROJECT_ROOT
from qa.embed import get_embedder, model_path


def test_vectors_are_unit_float32(embedder):
    v = embedder.encode(["Blinken visits Mexico City.", "A caravan of migrants heads north."])
    assert v.shape == (2, embedder.dim) == (2, 384)
    assert v.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)


def test_empty_input_gives_an_empty_matrix(embedder):
    assert embedder.encode([]).shape == (0, 384)


def test_similar_texts_are_closer(embedder):
    a, b, c = embedder.encode(
        ["migrants cross the border", "people crossing the frontier", "a recipe for cake"]
    )
    assert a @ b > a @ c


def test_count_tokens_matches_the_model_tokenizer(embedder):
    text = "Andrés Manuel López Obrador warned that the migration problem will continue to grow."
    hf = embedder._load().tokenizer(text, add_special_tokens=False)["input_ids"]
    assert embedder.count_tokens(text) == len(hf)
    long = text * 40  # beyond the 128 truncation stored in tokenizer.json
    assert embedder.count_tokens(long) > 256


def test_get_embedder_is_cached():
    assert get_embedder() is get_embedder()


def test_model_is_the_bundled_local_folder():
    path = model_path("all-MiniLM-L6-v2")
    assert (path / "model.safetensors").exists()
    assert "site-packages" in str(path)


def test_import_qa_does_not_import_torch_or_faiss():
    code = "import sys, qa, qa.embed, qa.store, qa.index, qa.retrieve, qa.cli; print(sorted(m for m in ('torch', 'faiss', 'sentence_transformers', 'bm25s') if m in sys.modules))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=PROJECT_ROOT, check=True
    )
    assert out.stdout.strip() == "[]"
