"""The on-disk index: vector store interface, catalog, BM25, manifest checks, corruption and swap recovery."""

from __future__ import annotations

import json
import os
import sqlite3

import numpy as np
import pytest

from qa import store
from qa.errors import IndexCorruptError, IndexMismatchError, QAIndexError
from qa.index import add_articles, build_index, open_index
from qa.retrieve import Retriever
from qa.types import Article


def _unit(n: int, d: int = 8, seed: int = 0) -> np.ndarray:
    v = np.random.default_rng(seed).standard_normal((n, d)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def test_faiss_store_add_search_get_delete(tmp_path):
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


def test_unknown_engine_is_a_clear_value_error():
    with pytest.raises(ValueError, match="known: \\[.*'faiss'"):
        store.make_vector_store("annoy", 8)


def test_segment_round_trip_and_checksum(tmp_path):
    vecs = _unit(5)
    name, rows, nbytes, digest = store.segments.write_segment(tmp_path, vecs)
    got = store.segments.load_segment(tmp_path, name, rows, nbytes, digest, 8)
    np.testing.assert_array_equal(got, vecs)
    np.testing.assert_array_equal(
        store.segments.read_rows(tmp_path, name, rows, 8, np.array([3, 1])), vecs[[3, 1]]
    )
    with pytest.raises(IndexCorruptError, match="qa index --rebuild"):
        store.segments.load_segment(tmp_path, name, rows, nbytes, "0" * 32, 8)


def test_fts5_keyword_stems_drops_stopwords_and_filters(tmp_path):
    texts = ["The caravan left Tapachula", "Railroad crossings closed in Texas", "Blinken met the president"]
    w = store.Writer(tmp_path, 8, new=True)
    arts = [
        store.ArticleRow(
            Article(f"a{i}", f"T{i}", "Wire" if i else "Post", None, None, t, None), store.text_hash(t)
        )
        for i, t in enumerate(texts)
    ]
    chunks = [
        store.ChunkRow(7 + i, f"a{i}", 0, 0, len(t), t, store.text_hash(t)) for i, t in enumerate(texts)
    ]
    w.commit(delete=[], articles=arts, chunks=chunks, vectors=_unit(3))
    w.close()
    b = store.Fts5Keyword(store.Catalog(tmp_path / store.CATALOG))
    scores, found = b.search("railroads crossing", 2)
    assert found[0] == 8 and scores[0] > 0  # stemmed: railroads -> railroad, crossing -> cross
    assert b.search("the of and", 3)[1].size == 0  # stopwords only
    assert b.search("caravan", 3, allowed=np.array([8, 9]))[1].size == 0
    assert b.search("caravan", 3, source="wire")[1].size == 0
    assert b.search("caravan", 3, source="post")[1].tolist() == [7]
    assert sorted(b.ids.tolist()) == [7, 8, 9]


def test_missing_index_says_run_qa_index(tmp_path):
    with pytest.raises(QAIndexError, match="run `qa index`"):
        open_index(tmp_path / "nothing")


def _segment(live):
    return next((live / "vectors").glob("seg-*.f32"))


def _flip(path, offset: int) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x10
    path.write_bytes(bytes(data))


@pytest.mark.parametrize(
    "damage",
    [
        "truncate_vectors",
        "garbage_vectors",
        "flip_vector_bit",
        "missing_vectors",
        "garbage_sqlite",
        "truncate_sqlite",
        "garbage_manifest",
        "inconsistent",
    ],
)
def test_damaged_index_is_corrupt_error_and_rebuild_recovers(index_copy, core_settings, embedder, damage):
    live = index_copy / "current"
    if damage == "truncate_vectors":
        f = _segment(live)
        f.write_bytes(f.read_bytes()[: f.stat().st_size // 2])
    elif damage == "garbage_vectors":
        _segment(live).write_bytes(os.urandom(4096))
    elif damage == "flip_vector_bit":
        f = _segment(live)
        _flip(f, f.stat().st_size // 2)  # same size, one bit: only the checksum notices
    elif damage == "missing_vectors":
        _segment(live).unlink()
    elif damage == "garbage_sqlite":
        (live / "catalog.sqlite").write_bytes(b"this is not a database" * 100)
    elif damage == "truncate_sqlite":
        f = live / "catalog.sqlite"
        f.write_bytes(f.read_bytes()[:1000])
    elif damage == "garbage_manifest":
        (live / "manifest.json").write_text("{not json", encoding="utf-8")
    elif damage == "inconsistent":  # a chunk row pointing past the end of its vector file
        con = sqlite3.connect(live / "catalog.sqlite")
        con.execute("UPDATE chunks SET row = 10000 WHERE id = (SELECT min(id) FROM chunks)")
        con.commit()
        con.close()
    with pytest.raises(IndexCorruptError, match="corrupt: run `qa index --rebuild`"):
        open_index(index_copy, settings=core_settings)
    if "sqlite" in damage or "manifest" in damage:
        with pytest.raises(
            IndexCorruptError
        ):  # a plain re-index refuses too: the user must choose to rebuild
            build_index(None, index_copy, settings=core_settings, progress=False, embedder=embedder)
    stats = build_index(
        None, index_copy, rebuild=True, settings=core_settings, progress=False, embedder=embedder
    )
    assert stats.chunks == open_index(index_copy, settings=core_settings).vectors.count() > 0


def test_flipped_bit_in_a_chunk_text_is_corrupt_at_read(index_copy, core_settings, embedder):
    """SQLite has no page checksums; each row carries its text's hash, checked when it is read."""
    live = index_copy / "current"
    ix = open_index(index_copy, settings=core_settings)
    text = ix.catalog.chunks()[0].text
    ix.close()
    raw = (live / "catalog.sqlite").read_bytes()
    needle = text[:40].encode()
    hits = [i for i in range(len(raw)) if raw.startswith(needle, i)]
    assert hits
    for at in hits:  # the chunk's text and the article's copy of it: a letter's case flips in each
        _flip(live / "catalog.sqlite", at + 5)
    r = Retriever(open_index(index_copy, settings=core_settings), embedder, core_settings)
    with pytest.raises(IndexCorruptError, match="qa index --rebuild"):
        for q in ["How many migrants are in the caravan?", text[:80]]:
            r.retrieve(q, k=20)


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


def test_index_version_changes_on_write_and_not_on_a_no_op(index_copy, core_settings, embedder):
    before = store.index_version(index_copy)
    build_index(None, index_copy, settings=core_settings, progress=False, embedder=embedder)
    assert store.index_version(index_copy) == before  # nothing changed, nothing written
    extra = Article("v-1", "Snow", "Wire", None, None, "Snow closed the airport in Zumpango.")
    add_articles([extra], index_copy, settings=core_settings, embedder=embedder)
    assert store.index_version(index_copy) not in (None, before)


def test_other_engine_is_a_mismatch(index_copy, core_settings):
    from dataclasses import replace

    assert json.loads((index_copy / "current" / "manifest.json").read_text())["vector_engine"] == "faiss"
    with pytest.raises(IndexMismatchError, match="vector_engine='faiss'.*qa index --rebuild"):
        open_index(index_copy, settings=replace(core_settings, store="milvus"))


def test_ann_store_finds_what_exact_search_finds_and_filters():
    rng = np.random.default_rng(1)
    centers = _unit(200, 32, seed=2)
    vecs = centers[rng.integers(0, 200, 20000)] + 0.05 * rng.standard_normal((20000, 32)).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    ids = np.arange(5, 20005, dtype=np.int64)
    exact = store.FaissStore.build(ids, vecs, ann=False)
    ann = store.FaissStore.build(ids, vecs, ann=True)
    assert ann.ann and not exact.ann and ann.count() == exact.count() == 20000
    queries = vecs[:50] + 0.02 * rng.standard_normal((50, 32)).astype(np.float32)
    _, want = exact.search(queries, 10)
    _, got = ann.search(queries, 10)
    recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(want, got, strict=True)])
    assert recall >= 0.95
    np.testing.assert_allclose(ann.get(np.array([ids[7]])), vecs[7:8], rtol=1e-6)
    _, only = ann.search(queries[:1], 5, allowed=ids[100:110])
    assert set(only[0][only[0] >= 0].tolist()) <= set(ids[100:110].tolist())
    assert ann.delete(ids[:1]) == 1 and ann.count() == 19999
