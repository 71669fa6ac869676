"""build_index / add_articles: incremental by content hash, sync semantics, atomic under SIGKILL."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from qa.config import PROJECT_ROOT
from qa.errors import IngestError
from qa.index import add_articles, build_index, open_index
from qa.retrieve import Retriever
from qa.types import Article, IndexStats
from tests.fixtures_core import DEFAULT_ARTICLES, synthetic_corpus


def _build(paths, index_dir, settings, embedder, **kw) -> IndexStats:
    return build_index(paths, index_dir, settings=settings, progress=False, embedder=embedder, **kw)


def _chunks_of(index_dir: Path, settings) -> dict[str, int]:
    ix = open_index(index_dir, settings=settings)
    out: dict[str, int] = {}
    for c in ix.catalog.chunks():
        out[c.article_id] = out.get(c.article_id, 0) + 1
    return out


def test_first_build_embeds_everything_second_nothing(built_index, core_settings, embedder):
    ix = open_index(built_index, settings=core_settings)
    assert ix.manifest["counts"] == {"articles": 2, "chunks": ix.vectors.count()}
    stats = _build([DEFAULT_ARTICLES], built_index, core_settings, embedder)
    assert stats == IndexStats(articles=2, chunks=ix.vectors.count(), embedded=0, skipped=0, removed=0)


def test_modifying_one_article_re_embeds_only_its_changed_chunks(
    index_copy, corpus_copy, core_settings, embedder
):
    before = _chunks_of(index_copy, core_settings)
    f = corpus_copy / "002_88f978f23a18d0ab.txt"
    f.write_text(
        f.read_text(encoding="utf-8") + "\nA spokesperson said talks would resume in January.\n",
        encoding="utf-8",
    )
    stats = _build([corpus_copy], index_copy, core_settings, embedder)
    after = _chunks_of(index_copy, core_settings)
    changed = next(a for a in after if a not in before)
    assert 0 < stats.embedded <= after[changed]
    assert stats.embedded < stats.chunks
    assert stats.removed == 0  # the file is still there: it was replaced, not removed
    assert stats.articles == 2 and len(after) == 2
    r = Retriever(open_index(index_copy, settings=core_settings), embedder, core_settings)
    assert any("talks would resume in January" in p.text for p in r.retrieve("When will talks resume?", k=5))


def test_removing_an_article_removes_its_chunks(index_copy, corpus_copy, core_settings, embedder):
    (corpus_copy / "002_88f978f23a18d0ab.txt").unlink()
    stats = _build([corpus_copy], index_copy, core_settings, embedder)
    assert (stats.articles, stats.embedded, stats.removed) == (1, 0, 1)
    r = Retriever(open_index(index_copy, settings=core_settings), embedder, core_settings)
    passages = r.retrieve("What did former US Ambassador Earl Anthony Wayne tell CNN?", k=5)
    assert passages and all(p.source != "002_88f978f23a18d0ab" for p in passages)
    assert all("Earl Anthony Wayne" not in p.text for p in passages)


def test_add_articles_never_removes_and_reuses(index_copy, core_settings, embedder, tmp_path):
    extra = Article(
        id="extra-1",
        title="Snow in Zumpango",
        source="Test Wire",
        published_at="2024-01-03",
        url=None,
        text="Heavy snow fell in Zumpango on Tuesday, closing the airport for six hours.",
    )
    stats = add_articles([extra], index_copy, settings=core_settings, embedder=embedder)
    assert (stats.articles, stats.embedded, stats.removed) == (3, 1, 0)
    again = add_articles([extra], index_copy, settings=core_settings, embedder=embedder)
    assert (again.articles, again.embedded) == (3, 0)
    r = Retriever(open_index(index_copy, settings=core_settings), embedder, core_settings)
    top = r.retrieve("How long was the airport closed by snow?", k=1)[0]
    assert top.article_id == "extra-1" and top.published_at == "2024-01-03"
    f = tmp_path / "upload.txt"
    f.write_text(
        "Upload title\n\nThe mayor opened a new bridge over the river on Friday.\n", encoding="utf-8"
    )
    s1 = add_articles([f], index_copy, settings=core_settings, embedder=embedder)
    assert s1.articles == 4
    f.write_text(
        "Upload title\n\nThe mayor opened a new tunnel under the river on Friday.\n", encoding="utf-8"
    )
    s2 = add_articles([f], index_copy, settings=core_settings, embedder=embedder)
    assert s2.articles == 4  # the edited file replaced its previous version


def test_no_readable_article_is_an_error_and_keeps_the_index(index_copy, core_settings, embedder, tmp_path):
    before = open_index(index_copy, settings=core_settings).manifest["build_id"]
    with pytest.raises(IngestError, match="no article could be read"):
        _build([tmp_path / "missing"], index_copy, core_settings, embedder)
    assert open_index(index_copy, settings=core_settings).manifest["build_id"] == before


def test_progress_callback_reports_stages(tmp_path, core_settings, embedder):
    seen = []
    build_index(
        [DEFAULT_ARTICLES],
        tmp_path / "ix",
        settings=core_settings,
        progress=False,
        embedder=embedder,
        progress_callback=lambda d, t, s: seen.append((d, t, s)),
    )
    stages = [s for _, _, s in seen]
    assert {"chunk", "embed", "write"} <= set(stages)
    embeds = [(d, t) for d, t, s in seen if s == "embed"]
    assert embeds[0][0] == 0 and embeds[-1][0] == embeds[-1][1]


def _snapshot(index_dir: Path, settings, embedder):
    ix = open_index(index_dir, settings=settings)
    r = Retriever(ix, embedder, settings)
    results = [
        (p.article_id, p.start, p.end) for p in r.retrieve("How many migrants are in the caravan?", k=5)
    ]
    return ix.manifest["counts"], ix.manifest["build_id"], results


def _wait_for(predicate, timeout: float, proc: subprocess.Popen) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        if proc.poll() is not None:
            return False
        time.sleep(0.01)
    return False


@pytest.mark.slow
def test_sigkill_during_indexing_leaves_the_previous_index(index_copy, core_settings, embedder, tmp_path):
    before = _snapshot(index_copy, core_settings, embedder)
    corpus = synthetic_corpus(tmp_path / "synthetic", 120)
    err = tmp_path / "stderr.txt"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "QA_INDEX_DIR": str(index_copy)}
    with open(err, "w") as fh:
        proc = subprocess.Popen(
            [sys.executable, "-m", "qa.cli", "index", str(corpus), "--index-dir", str(index_copy)],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=fh,
            stderr=fh,
        )
    try:
        assert _wait_for(lambda: "embedding" in err.read_text(), 120, proc), err.read_text()
        time.sleep(1.0)  # well inside the embedding of ~hundreds of chunks
        assert proc.poll() is None, "indexing finished before it could be killed"
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert _snapshot(index_copy, core_settings, embedder) == before
    # and the next write cleans up after the dead one
    stats = _build([DEFAULT_ARTICLES], index_copy, core_settings, embedder)
    assert stats.embedded == 0 and not list(index_copy.glob(".current.tmp-*"))


_KILL_BETWEEN_RENAMES = textwrap.dedent(
    """
    import os, sys, time
    from pathlib import Path
    real_rename = os.rename
    def slow_rename(src, dst):
        real_rename(src, dst)
        if str(dst).endswith(".current.old"):
            Path(sys.argv[3]).write_text("between renames")
            time.sleep(60)
    os.rename = slow_rename
    from qa.index import build_index
    build_index([sys.argv[1]], sys.argv[2], progress=False)
    """
)


@pytest.mark.slow
def test_sigkill_between_the_swap_renames_is_recovered(
    index_copy, core_settings, embedder, tmp_path, corpus_copy
):
    before = _snapshot(index_copy, core_settings, embedder)
    (corpus_copy / "002_88f978f23a18d0ab.txt").unlink()  # a real change, but nothing to embed
    marker = tmp_path / "marker"
    proc = subprocess.Popen(
        [sys.executable, "-c", _KILL_BETWEEN_RENAMES, str(corpus_copy), str(index_copy), str(marker)],
        cwd=PROJECT_ROOT,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )
    try:
        assert _wait_for(marker.exists, 120, proc)
        assert not (index_copy / "current").exists()  # the worst moment: no live index on disk
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert _snapshot(index_copy, core_settings, embedder) == before


def test_manifest_records_settings(built_index):
    m = json.loads((built_index / "current" / "manifest.json").read_text())
    assert m["embedder"] == "all-MiniLM-L6-v2" and m["dim"] == 384
    assert m["chunker"] == {"max_tokens": 200, "overlap_sentences": 1}
