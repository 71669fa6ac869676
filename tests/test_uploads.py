"""Uploads (qa.uploads): limits before any work, every file reported, complete files only, background index.

Real parts: the real ingest parsers, the real index (FAISS, catalog, BM25) and the real embedder. The
only simulated fault is the full disk (ENOSPC from ``os.write`` after part of the file was written).
"""

from __future__ import annotations

import errno
import json
import os
import threading
from pathlib import Path

import pytest

from qa import uploads
from qa.config import Settings
from qa.errors import IngestError
from qa.uploads import ADDED, FAILED, QUEUED, REFUSED, UNCHANGED, UploadLimits

GOOD_TEXT = (
    "Harbour board approves new ferry pier in Quillon\n\n"
    "QUILLON — The Quillon harbour board approved a new ferry pier on Monday. The pier will cost "
    "4.2 million crowns and is due to open in the spring of next year, the board's chairwoman "
    "Edda Ravnsborg said. Ferries to the outer islands will leave from the new pier every two hours.\n"
)


@pytest.fixture
def settings(tmp_path: Path, embedder) -> Settings:
    """A private index folder (uploads/ lands beside it); the session's embedder is already loaded."""
    return Settings.from_env(index_dir=tmp_path / "index")


def write(path: Path, data: str | bytes) -> Path:
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


def uploaded_files(settings: Settings) -> list[str]:
    folder = uploads.uploads_dir(settings)
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def catalog_titles(settings: Settings) -> list[str]:
    from qa.index import open_index

    index = open_index(settings=settings)
    try:
        return [r.article.title for r in index.catalog.articles()]
    finally:
        index.close()


# --------------------------------------------------------------------------------------------------
# Limits, before any work


def test_oversized_file_is_refused_from_its_size_without_being_read(tmp_path, settings, monkeypatch):
    big = tmp_path / "huge.txt"
    with big.open("wb") as f:  # sparse: 200 MB on paper, no blocks on disk
        f.truncate(200 * 1024 * 1024)
    opened: list[Path] = []
    real_open = Path.open

    def spy(self: Path, *args, **kwargs):
        opened.append(self)
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", spy)
    batch = uploads.upload_batch([big], settings)
    (report,) = batch.wait(0)
    assert report.status == REFUSED
    assert "200.0 MB" in report.message and "QA_MAX_UPLOAD_MB" in report.message
    assert big not in opened  # refused from stat alone
    assert uploaded_files(settings) == []


def test_batch_limit_refuses_the_file_that_overflows_it(tmp_path, monkeypatch):
    monkeypatch.setenv("QA_MAX_UPLOAD_MB", "0.01")  # 10 KB per file
    monkeypatch.setenv("QA_MAX_BATCH_MB", "0.015")  # 15 KB per batch
    settings = Settings.from_env(index_dir=tmp_path / "index")
    limits = UploadLimits.from_settings(settings)
    assert uploads.check_size(8_000, 0, limits) is None
    assert "QA_MAX_BATCH_MB" in (uploads.check_size(8_000, 8_000, limits) or "")
    assert "QA_MAX_UPLOAD_MB" in (uploads.check_size(20_000, 0, limits) or "")


def test_too_many_lines_are_refused_before_parsing(tmp_path, settings, monkeypatch):
    def no_parse(*_a, **_k):
        raise AssertionError("parsed a file that the line limit refuses")

    monkeypatch.setattr("qa.ingest.parse_bytes", no_parse)
    limits = UploadLimits(file_bytes=10**7, batch_bytes=10**7, lines=1000, json_depth=32)
    path = write(tmp_path / "lines.txt", "word\n" * 5000)
    report = uploads.check_file(path, 0, limits)
    assert isinstance(report, uploads.FileReport) and report.status == REFUSED
    assert "5,000 lines" in report.message and "QA_MAX_UPLOAD_LINES" in report.message


def test_json_depth_counts_brackets_outside_strings_only():
    assert uploads.json_depth(b'{"text": "a [[[[[[ bracketed ]]]]]] story", "tags": ["x"]}') == 2
    assert uploads.json_depth(b'{"a": "escaped \\" [[[[ quote"}') == 1
    assert uploads.json_depth(b"[" * 100_000) == 100_000
    assert uploads.json_depth(b"") == 0


def test_unsupported_type_is_refused_without_reading(tmp_path, settings):
    path = write(tmp_path / "slides.pptx", b"PK\x03\x04")
    (report,) = uploads.upload_batch([path], settings).wait(0)
    assert report.status == REFUSED and ".pptx" in report.message


# --------------------------------------------------------------------------------------------------
# A hostile file next to a good one: each reported, the good one indexed


def test_nested_jsonl_line_is_reported_and_good_file_of_same_batch_is_indexed(tmp_path, settings):
    deep = write(tmp_path / "deep.jsonl", "[" * 100_000 + "\n")
    good = write(tmp_path / "quillon.txt", GOOD_TEXT)
    batch = uploads.upload_batch([deep, good], settings)
    reports = {r.name: r for r in batch.wait(300)}
    assert batch.done.is_set()
    assert reports["deep.jsonl"].status == REFUSED
    assert "line 1" in reports["deep.jsonl"].message and "QA_MAX_JSON_DEPTH" in reports["deep.jsonl"].message
    assert reports["quillon.txt"].status == ADDED, reports["quillon.txt"]
    assert reports["quillon.txt"].articles == 1
    assert uploaded_files(settings) == ["quillon.txt"]
    assert catalog_titles(settings) == ["Harbour board approves new ferry pier in Quillon"]


def test_deep_line_past_the_upload_check_is_still_a_refusal_not_an_exception(tmp_path, monkeypatch):
    monkeypatch.setenv("QA_MAX_JSON_DEPTH", str(10**6))  # let the line reach the parser
    settings = Settings.from_env(index_dir=tmp_path / "index")
    deep = write(tmp_path / "deep.jsonl", "[" * 100_000 + "\n")
    (report,) = uploads.upload_batch([deep], settings).wait(0)
    assert report.status == REFUSED and report.message
    assert uploaded_files(settings) == []


def test_recursion_error_from_a_parser_becomes_a_reason(monkeypatch):
    def recurse(name: str, data: bytes):
        return recurse(name, data)

    monkeypatch.setattr("qa.ingest.parse_bytes", recurse)
    with pytest.raises(IngestError, match="nested too deeply"):
        uploads.parse_upload("deep.html", b"<div>" * 10)


def test_reupload_of_the_same_file_is_a_noop_that_says_so(tmp_path, settings):
    from qa.index import index_version

    good = write(tmp_path / "quillon.txt", GOOD_TEXT)
    (first,) = uploads.upload_batch([good], settings).wait(300)
    assert first.status == ADDED
    version = index_version(settings.index_dir)
    again = write(tmp_path / "copy-of-quillon.txt", GOOD_TEXT)  # same bytes, another name
    (second,) = uploads.upload_batch([again], settings).wait(300)
    assert second.status == UNCHANGED
    assert "already uploaded as quillon.txt" in second.message
    assert index_version(settings.index_dir) == version
    assert uploaded_files(settings) == ["quillon.txt"]


def test_same_name_other_content_is_kept_beside_the_first(tmp_path, settings):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    a = write(tmp_path / "a" / "notes.txt", GOOD_TEXT)
    b = write(tmp_path / "b" / "notes.txt", GOOD_TEXT.replace("4.2 million", "5.1 million"))
    reports = uploads.upload_batch([a, b], settings).wait(300)
    assert [r.status for r in reports] == [ADDED, ADDED]
    names = uploaded_files(settings)
    assert len(names) == 2 and "notes.txt" in names
    assert len(catalog_titles(settings)) == 2


# --------------------------------------------------------------------------------------------------
# Nothing half-written


def test_disk_full_while_saving_leaves_no_partial_file(tmp_path, settings, monkeypatch):
    real_write = os.write
    calls = {"n": 0}

    def write_then_fill_up(fd: int, data) -> int:
        calls["n"] += 1
        if calls["n"] == 1:
            return real_write(fd, data)  # the first block reaches the disk…
        raise OSError(errno.ENOSPC, "No space left on device")  # …then the disk is full

    monkeypatch.setattr(uploads, "WRITE_BLOCK", 1024)
    monkeypatch.setattr(uploads.os, "write", write_then_fill_up)
    path = write(tmp_path / "long.txt", GOOD_TEXT * 20)
    (report,) = uploads.upload_batch([path], settings).wait(0)
    assert calls["n"] == 2
    assert report.status == REFUSED and "disk is full" in report.message
    assert uploaded_files(settings) == []  # neither the file nor its temporary

    monkeypatch.setattr(uploads.os, "write", real_write)
    (retry,) = uploads.upload_batch([path], settings).wait(300)
    assert retry.status == ADDED
    assert (uploads.uploads_dir(settings) / "long.txt").read_bytes() == path.read_bytes()


def test_partial_files_from_an_interrupted_save_are_removed_and_never_indexed(tmp_path, settings):
    folder = uploads.uploads_dir(settings)
    folder.mkdir(parents=True)
    stale = write(
        folder / f"{uploads.PARTIAL_PREFIX}{os.getpid()}-abc-cut.txt{uploads.PARTIAL_SUFFIX}", "The car"
    )
    # a save in progress in another live process (our parent stands for it) is left alone
    other = write(
        folder / f"{uploads.PARTIAL_PREFIX}{os.getppid()}-def-cut.txt{uploads.PARTIAL_SUFFIX}", "The"
    )
    write(folder / "whole.txt", GOOD_TEXT)
    assert [p.name for p in uploads.stored_uploads(settings)] == ["whole.txt"]
    good = write(tmp_path / "other.txt", GOOD_TEXT.replace("Quillon", "Marrow Bay"))
    uploads.upload_batch([good], settings).wait(300)
    assert not stale.exists()
    assert other.exists()


def test_index_write_failure_reports_the_file_and_removes_it(tmp_path):
    not_a_dir = tmp_path / "index"
    not_a_dir.write_text("this is a file where the index folder should be")
    settings = Settings.from_env(index_dir=not_a_dir)
    good = write(tmp_path / "quillon.txt", GOOD_TEXT)
    (report,) = uploads.upload_batch([good], settings).wait(300)
    assert report.status == FAILED and "could not be indexed" in report.message
    assert uploaded_files(settings) == []  # a restart must not index what the index refused


# --------------------------------------------------------------------------------------------------
# Background indexing


def test_upload_returns_before_indexing_and_the_worker_finishes_it(tmp_path, settings):
    write_lock = threading.Lock()  # stands for the chat's index write lock, held by another writer
    indexed = threading.Event()
    write_lock.acquire()
    try:
        good = write(tmp_path / "quillon.txt", GOOD_TEXT)
        batch = uploads.upload_batch([good], settings, lock=write_lock, on_indexed=indexed.set)
        (report,) = batch.reports
        assert report.status == QUEUED  # saved and reported; the index write waits for the lock
        assert uploaded_files(settings) == ["quillon.txt"]
        assert not batch.done.is_set() and not indexed.is_set()
    finally:
        write_lock.release()
    (report,) = batch.wait(300)
    assert report.status == ADDED and indexed.is_set()
    assert catalog_titles(settings) == ["Harbour board approves new ferry pier in Quillon"]


def test_upload_reusing_an_indexed_articles_id_never_replaces_it(tmp_path, settings):
    record = {"id": "a1", "title": "Quillon pier", "text": GOOD_TEXT}
    first = write(tmp_path / "first.jsonl", json.dumps(record) + "\n")
    (report,) = uploads.upload_batch([first], settings).wait(300)
    assert report.status == ADDED
    record["text"] = "The Quillon pier was cancelled and will never open."
    hostile = write(tmp_path / "hostile.jsonl", json.dumps(record) + "\n")
    (report,) = uploads.upload_batch([hostile], settings).wait(300)
    assert report.status == ADDED, report  # added beside it, under another id
    from qa.index import open_index

    index = open_index(settings=settings)
    try:
        original = index.catalog.article("a1")
        assert original is not None and "4.2 million crowns" in original.text
        assert len(index.catalog.articles()) == 2
    finally:
        index.close()


def test_two_uploads_at_once_with_one_name_keep_both_files(tmp_path, settings):
    dirs = [tmp_path / f"tab{i}" for i in range(4)]
    paths = []
    for i, d in enumerate(dirs):
        d.mkdir()
        paths.append(write(d / "notes.txt", GOOD_TEXT.replace("4.2 million", f"{i + 1}.5 million")))
    results: list = [None] * len(paths)

    def upload(i: int) -> None:
        results[i] = uploads.upload_batch([paths[i]], settings).wait(300)

    threads = [threading.Thread(target=upload, args=(i,)) for i in range(len(paths))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [r[0].status for r in results] == [ADDED] * len(paths), [r[0].message for r in results]
    folder = uploads.uploads_dir(settings)
    stored = {r[0].stored_as for r in results}
    assert len(stored) == len(paths)  # four names, each holding the bytes of its own upload
    for i, r in enumerate(results):
        assert (folder / r[0].stored_as).read_bytes() == paths[i].read_bytes()
