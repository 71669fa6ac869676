"""The embedder: offline, normalised float32 vectors, exact token counts, lazy heavy imports."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

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


# -- the ONNX route (issue 10.3): same vectors without torch -------------------------------------------


@pytest.fixture(scope="session")
def onnx_cache(tmp_path_factory, embedder):
    """A cache folder holding a fresh, verified ONNX export of the embedder."""
    from qa.embed import export_onnx

    cache = tmp_path_factory.mktemp("qa-cache-onnx")
    export_onnx(embedder, cache)
    return cache


def _eval_questions() -> list[str]:
    lines = (PROJECT_ROOT / "eval" / "questions.jsonl").read_text().splitlines()
    return [json.loads(line)["question"] for line in lines if line.strip()]


def test_onnx_vectors_equal_torch_vectors_on_eval_questions(onnx_cache, embedder):
    from qa.embed import OnnxEncoder, onnx_path

    texts = [*_eval_questions(), "size of the caravan", "x", "Blinken, 61, met López Obrador. " * 40]
    onnx = OnnxEncoder(onnx_path(embedder.path, onnx_cache), embedder.path, embedder.max_seq_length)
    a, b = onnx.encode(texts), embedder.encode_torch(texts)
    assert a.shape == b.shape and a.dtype == np.float32
    cosines = np.sum(a * b, axis=1)
    assert cosines.min() >= 0.9999, texts[int(np.argmin(cosines))]


def test_embedder_uses_the_export_when_it_is_there(onnx_cache, monkeypatch):
    from qa.embed import Embedder, OnnxEncoder

    monkeypatch.setenv("QA_CACHE_DIR", str(onnx_cache))
    assert isinstance(Embedder().onnx_encoder(), OnnxEncoder)
    monkeypatch.setenv("QA_QUERY_ENCODER", "torch")
    assert Embedder().onnx_encoder() is None


def test_onnx_mode_without_an_export_names_the_fix(tmp_path, monkeypatch):
    from qa.embed import Embedder
    from qa.errors import QAError

    monkeypatch.setenv("QA_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("QA_QUERY_ENCODER", "onnx")
    with pytest.raises(QAError, match="qa prepare"):
        Embedder().encode(["a question"])
    monkeypatch.setenv("QA_QUERY_ENCODER", "auto")
    assert Embedder().onnx_encoder() is None  # auto: torch until the export exists


def test_search_in_a_new_process_does_not_import_torch(onnx_cache, built_index):
    code = (
        "import sys; from qa.cli import main\n"
        "try:\n    main(['search', 'size of the caravan', '--index-dir', sys.argv[1]])\n"
        "except SystemExit as e:\n    assert not e.code, e.code\n"
        "print(sorted(m for m in ('torch', 'sentence_transformers', 'transformers') if m in sys.modules))"
    )
    env = {**os.environ, "QA_CACHE_DIR": str(onnx_cache), "HF_HUB_OFFLINE": "1"}
    out = subprocess.run(
        [sys.executable, "-c", code, str(built_index)],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        env=env,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    assert "[1] " in out.stdout
    assert out.stdout.strip().splitlines()[-1] == "[]"
