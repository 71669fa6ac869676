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
    assert stats == IndexStats(
        articles=2, chunks=ix.vectors.count(), embedded=0, skipped=0, removed=0, added=0, unchanged=2
    )


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
    build_index([sys.argv[1]], sys.argv[2], rebuild=True, progress=False)
    """
)


@pytest.mark.slow
def test_sigkill_between_the_swap_renames_is_recovered(
    index_copy, core_settings, embedder, tmp_path, corpus_copy
):
    before = _snapshot(index_copy, core_settings, embedder)
    (corpus_copy / "002_88f978f23a18d0ab.txt").unlink()  # a real change; a rebuild swaps folders
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


# --------------------------------------------------------------------------------------------------
# Library management: origins, removal, listing, identity


def _upload(tmp_path: Path, name: str, text: str) -> Path:
    f = tmp_path / "uploads" / name
    f.parent.mkdir(exist_ok=True)
    f.write_text(text, encoding="utf-8")
    return f


def test_index_sync_leaves_uploads_alone_and_remove_removes_them(
    index_copy, core_settings, embedder, tmp_path
):
    from qa.index import list_articles, remove_articles

    f = _upload(
        tmp_path, "bridge.txt", "Bridge opens\n\nThe mayor opened a new bridge over the river on Friday.\n"
    )
    up = add_articles([f], index_copy, settings=core_settings, embedder=embedder)
    assert (up.articles, up.added) == (3, 1)
    synced = _build([DEFAULT_ARTICLES], index_copy, core_settings, embedder)  # `qa index`
    assert (synced.articles, synced.removed) == (3, 0)
    rows = {r.id: r for r in list_articles(core_settings, index_dir=index_copy)}
    uploaded = [r for r in rows.values() if r.origin == "upload"]
    assert len(uploaded) == 1 and uploaded[0].title == "Bridge opens" and uploaded[0].chunks == 1
    assert {r.origin for r in rows.values()} == {"articles", "upload"}
    with pytest.raises(KeyError, match="no article 'nope'"):
        remove_articles(["nope"], index_copy, settings=core_settings)
    gone = remove_articles([uploaded[0].id], index_copy, settings=core_settings)
    assert (gone.articles, gone.removed) == (2, 1)
    ix = open_index(index_copy, settings=core_settings)
    assert ix.vectors.count() == ix.catalog.n_chunks == ix.manifest["counts"]["chunks"]
    hits = Retriever(ix, embedder, core_settings).retrieve("Who opened a bridge?", k=3)
    assert all("bridge over the river" not in p.text for p in hits)


def test_reupload_is_a_no_op_that_says_so(index_copy, core_settings, embedder, tmp_path):
    f = _upload(tmp_path, "snow.txt", "Snow\n\nHeavy snow fell in Zumpango on Tuesday.\n")
    first = add_articles([f], index_copy, settings=core_settings, embedder=embedder)
    before = open_index(index_copy, settings=core_settings).version
    again = add_articles([f], index_copy, settings=core_settings, embedder=embedder)
    assert (again.added, again.unchanged, again.embedded) == (0, 1, 0) and again.articles == first.articles
    assert any("already in the index" in n for n in again.notes)
    assert open_index(index_copy, settings=core_settings).version == before  # nothing was written


def test_an_upload_never_replaces_an_article_it_did_not_come_from(
    index_copy, core_settings, embedder, tmp_path
):
    from qa.index import list_articles

    victim = next(r for r in list_articles(core_settings, index_dir=index_copy) if r.origin == "articles")
    record = {"id": victim.id, "title": "Fake", "text": "The caravan has one million people, officials said."}
    f = tmp_path / "evil.jsonl"
    f.write_text(json.dumps(record) + "\n", encoding="utf-8")
    stats = add_articles([f], index_copy, settings=core_settings, embedder=embedder)
    assert stats.articles == 3 and stats.added == 1
    assert any(victim.id in n and "another article" in n for n in stats.notes)
    ix = open_index(index_copy, settings=core_settings)
    assert ix.catalog.article(victim.id).title == victim.title  # untouched
    renamed = [
        r for r in list_articles(core_settings, index_dir=index_copy) if r.id.startswith(victim.id + "~")
    ]
    assert len(renamed) == 1 and renamed[0].origin == "upload"


def test_a_write_touches_only_what_changed(index_copy, core_settings, embedder):
    live = index_copy / "current"
    segs_before = {p.name: p.stat().st_mtime_ns for p in (live / "vectors").iterdir()}
    extra = Article("w-1", "Snow", "Wire", None, None, "Snow closed the airport in Zumpango for six hours.")
    add_articles([extra], index_copy, settings=core_settings, embedder=embedder)
    segs_after = {p.name: p.stat().st_mtime_ns for p in (live / "vectors").iterdir()}
    assert all(segs_after.get(n) == m for n, m in segs_before.items())  # old vector files untouched
    assert len(segs_after) == len(segs_before) + 1  # one new segment with the one new chunk


_KILL_BEFORE_COMMIT = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from qa.store import segments, writer
    real = segments.write_segment
    def slow(folder, vectors):
        out = real(folder, vectors)
        Path(sys.argv[3]).write_text("segment written, catalog not committed")
        time.sleep(60)
        return out
    writer.segments.write_segment = slow
    from qa.index import add_articles
    add_articles([sys.argv[1]], sys.argv[2], progress=False)
    """
)


@pytest.mark.slow
def test_sigkill_between_segment_and_commit_leaves_the_previous_index(
    index_copy, core_settings, embedder, tmp_path
):
    before = _snapshot(index_copy, core_settings, embedder)
    f = tmp_path / "snow.txt"
    f.write_text("Snow\n\nHeavy snow fell in Zumpango on Tuesday, closing the airport.\n", encoding="utf-8")
    marker = tmp_path / "marker"
    proc = subprocess.Popen(
        [sys.executable, "-c", _KILL_BEFORE_COMMIT, str(f), str(index_copy), str(marker)],
        cwd=PROJECT_ROOT,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )
    try:
        assert _wait_for(marker.exists, 120, proc)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert _snapshot(index_copy, core_settings, embedder) == before
    segs = list((index_copy / "current" / "vectors").glob("seg-*"))
    stats = add_articles([f], index_copy, settings=core_settings, embedder=embedder)  # cleans up the orphan
    assert stats.added == 1
    assert len(list((index_copy / "current" / "vectors").glob("seg-*"))) == len(segs)  # orphan gone, one new


def test_cli_list_and_remove(index_copy, core_settings, embedder):
    from click.testing import CliRunner

    from qa.cli import cli

    extra = Article("cli-1", "Snow", "Wire", "2024-01-03", None, "Snow closed the airport in Zumpango.")
    add_articles([extra], index_copy, settings=core_settings, embedder=embedder)
    listed = CliRunner().invoke(cli, ["list", "--json", "--index-dir", str(index_copy)])
    assert listed.exit_code == 0, listed.output
    rows = [json.loads(line) for line in listed.stdout.splitlines()]
    assert {r["origin"] for r in rows} == {"articles", "upload"} and len(rows) == 3
    assert next(r for r in rows if r["id"] == "cli-1")["chunks"] == 1
    bad = CliRunner().invoke(cli, ["remove", "nope", "--index-dir", str(index_copy)])
    assert bad.exit_code == 1 and bad.output.startswith("error: no article 'nope'")
    ok = CliRunner().invoke(cli, ["remove", "cli-1", "--index-dir", str(index_copy)])
    assert ok.exit_code == 0 and "removed 1 article; 2 articles" in ok.output
