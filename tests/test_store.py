"""The on-disk index: vector store interface, catalog, BM25, manifest checks, corruption and swap recovery."""

from __future__ import annotations

import json
import os
import shutil

import numpy as np
import pytest

from qa import store
from qa.errors import IndexCorruptError, IndexMismatchError, QAIndexError
from qa.index import build_index, open_index


def _unit(n: int, d: int = 8, seed: int = 0) -> np.ndarray:
    v = np.random.default_rng(seed).standard_normal((n, d)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def test_faiss_store_add_search_get_delete_save_load(tmp_path):
    s = store.make_vector_store("faiss", 8)
    assert isinstance(s, store.VectorStore)
    vecs = _unit(20)
    ids = np.arange(100, 120, dtype=np.int64)
    s.add(ids, vecs)
    assert s.count() == 20
    scores, found = s.search(vecs[3], 3)
    assert found[0, 0] == 103 and scores[0, 0] == pytest.approx(1.0, abs=1e-5)
    np.testing.assert_allclose(s.get(np.array([105])), vecs[5:6])
    _, found = s.search(vecs[3], 3, allowed=np.array([110, 111]))
    assert set(found[0][found[0] >= 0].tolist()) <= {110, 111}
    assert s.delete(np.array([103])) == 1
    assert s.count() == 19 and 103 not in s.search(vecs[3], 5)[1][0]
    with pytest.raises(KeyError):
        s.get(np.array([103]))
    all_ids, all_vecs = s.all_vectors()
    assert len(all_ids) == 19 and all_vecs.shape == (19, 8)
    s.save(tmp_path)
    t = store.make_vector_store("faiss", 8)
    t.load(tmp_path)
    assert t.count() == 19
    np.testing.assert_allclose(t.get(np.array([119])), vecs[19:20])


def test_unknown_engine_is_a_clear_value_error():
    with pytest.raises(ValueError, match="known: \\['faiss'\\]"):
        store.make_vector_store("milvus", 8)


def test_bm25_round_trip_and_filter(tmp_path):
    texts = ["The caravan left Tapachula", "Railroad crossings closed in Texas", "Blinken met the president"]
    ids = np.array([7, 8, 9])
    b = store.BM25Index.build(ids, texts)
    b.save(tmp_path / "bm25")
    b = store.BM25Index.load(tmp_path / "bm25")
    scores, found = b.search("railroads crossing", 2)
    assert found[0] == 8  # stemmed: railroads -> railroad, crossing -> cross
    assert b.search("the of and", 3)[1].size == 0  # stopwords only
    assert b.search("caravan", 3, allowed=np.array([8, 9]))[1].size == 0


def test_missing_index_says_run_qa_index(tmp_path):
    with pytest.raises(QAIndexError, match="run `qa index`"):
        open_index(tmp_path / "nothing")


@pytest.mark.parametrize(
    "damage",
    [
        "truncate_faiss",
        "garbage_faiss",
        "garbage_sqlite",
        "truncate_sqlite",
        "garbage_manifest",
        "bm25_missing",
        "inconsistent",
    ],
)
def test_damaged_index_is_corrupt_error_and_rebuild_recovers(index_copy, core_settings, embedder, damage):
    live = index_copy / "current"
    if damage == "truncate_faiss":
        f = live / "vectors.faiss"
        f.write_bytes(f.read_bytes()[: f.stat().st_size // 2])
    elif damage == "garbage_faiss":
        (live / "vectors.faiss").write_bytes(os.urandom(4096))
    elif damage == "garbage_sqlite":
        (live / "catalog.sqlite").write_bytes(b"this is not a database" * 100)
    elif damage == "truncate_sqlite":
        f = live / "catalog.sqlite"
        f.write_bytes(f.read_bytes()[:1000])
    elif damage == "garbage_manifest":
        (live / "manifest.json").write_text("{not json", encoding="utf-8")
    elif damage == "bm25_missing":
        shutil.rmtree(live / "bm25")
    elif damage == "inconsistent":
        s = store.make_vector_store("faiss", 384)
        s.load(live)
        s.delete(np.array([0]))
        s.save(live)
    with pytest.raises(IndexCorruptError, match="is corrupt: run `qa index --rebuild`"):
        open_index(index_copy, settings=core_settings)
    with pytest.raises(IndexCorruptError):  # a plain re-index refuses too: the user must choose to rebuild
        build_index(None, index_copy, settings=core_settings, progress=False, embedder=embedder)
    stats = build_index(
        None, index_copy, rebuild=True, settings=core_settings, progress=False, embedder=embedder
    )
    assert stats.chunks == open_index(index_copy, settings=core_settings).vectors.count() > 0


@pytest.mark.parametrize(
    "field,value",
    [("embedder", "other-model"), ("chunker", {"max_tokens": 100, "overlap_sentences": 1}), ("format", 99)],
)
def test_mismatched_manifest_raises_mismatch(index_copy, core_settings, field, value):
    path = index_copy / "current" / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest[field] = value
    path.write_text(json.dumps(manifest))
    with pytest.raises(IndexMismatchError, match="qa index --rebuild"):
        open_index(index_copy, settings=core_settings)


def test_other_chunker_settings_mismatch(index_copy, core_settings):
    from dataclasses import replace

    with pytest.raises(IndexMismatchError, match="chunker"):
        open_index(index_copy, settings=replace(core_settings, chunk_max_tokens=120))


def test_interrupted_swap_is_recovered(index_copy, core_settings):
    # A crash between "current -> .current.old" and "tmp -> current" leaves only .current.old.
    os.rename(index_copy / "current", index_copy / ".current.old")
    (index_copy / ".current.tmp-999999").mkdir()
    ix = open_index(index_copy, settings=core_settings)
    assert ix.vectors.count() > 0
    assert (index_copy / "current").is_dir() and not (index_copy / ".current.old").exists()


def test_write_keeps_other_files_in_index_dir(index_copy, core_settings, embedder):
    (index_copy / ".gitkeep").write_text("")
    build_index(None, index_copy, settings=core_settings, progress=False, embedder=embedder)
    assert (index_copy / ".gitkeep").exists()
    assert not list(index_copy.glob(".current.*"))  # no temp or old folder left behind


def test_index_version_changes_on_write(index_copy, core_settings, embedder):
    before = store.index_version(index_copy)
    build_index(None, index_copy, settings=core_settings, progress=False, embedder=embedder)
    assert store.index_version(index_copy) not in (None, before)
