"""Every code block of the README, run exactly as written.

Python blocks run in a fresh interpreter (twice in a row, since the README's API must work repeatedly in
one process) over a temporary index of the default articles, with the model served by the stub
OpenAI-compatible server (``OPENAI_BASE_URL``). Bash lines run through bash from the project root; the
few that are not run here (they install, serve until stopped, or run the whole suite) are listed in
``NOT_RUN`` with the reason, and a README line that is neither run nor listed fails the test.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import textwrap
from typing import Any

import pytest

from qa.config import PROJECT_ROOT
from tests.stub_openai import StubLLM, last_user

README = PROJECT_ROOT / "README.md"
FENCE = re.compile(
    r"^(?P<indent>[ \t]*)```(?P<lang>[\w-]*)[ \t]*\n(?P<body>.*?)^(?P=indent)```[ \t]*$", re.M | re.S
)

# README commands that this test does not run, by the start of the line, and why.
NOT_RUN = {
    "make chat": "installs everything and serves the chat until stopped; the chat has its own browser tests",
    "make test": "runs the whole suite, this test included",
    ".venv/bin/qa eval": "answers the whole evaluation set with the model (minutes of CPU); see tests/test_eval.py",
    ".venv/bin/python app.py": "serves the chat until stopped; the chat has its own browser tests",
}

# Placeholders in README commands, and how this test fills them in before running the line.
PLACEHOLDERS = {"ARTICLE_ID…": "the id of the first article `qa list --json` shows"}

pytestmark = pytest.mark.slow


def code_blocks(lang: str) -> list[str]:
    text = README.read_text(encoding="utf-8")
    return [
        textwrap.dedent(m.group("body").replace("\n" + m.group("indent"), "\n"))
        for m in FENCE.finditer(text)
        if m.group("lang") == lang
    ]


def bash_lines() -> list[str]:
    lines = []
    for block in code_blocks("bash"):
        for line in block.splitlines():
            stripped = line.strip()
            if stripped and not stripped.startswith("#"):
                lines.append(stripped)
    return lines


def test_readme_has_the_blocks_this_test_knows_how_to_run():
    langs = {m.group("lang") for m in FENCE.finditer(README.read_text(encoding="utf-8"))}
    assert langs <= {"bash", "python"}, f"a README block in a language this test does not run: {langs}"
    assert code_blocks("python") and bash_lines()
    for line in bash_lines():
        runnable = line.startswith((".venv/bin/qa ", "export "))
        assert runnable or line.startswith(tuple(NOT_RUN)), f"README command neither run nor listed: {line}"
        words = set(shlex.split(line, comments=True))
        unknown = {w for w in words if w.isupper() and len(w) > 3 and "=" not in w} - set(PLACEHOLDERS)
        assert not unknown, f"a placeholder this test cannot fill in: {unknown} in {line}"


# ------------------------------------------------------------------------------------------------
# A stub model that answers any schema agreeably: the sentence that shares most words with the question


def _words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z0-9,]+", text.lower()) if len(w) > 3}


def _fill(schema: dict[str, Any], sentence: str, n: int) -> Any:
    kind = schema.get("type")
    if "enum" in schema:
        return "yes" if "yes" in schema["enum"] else schema["enum"][0]
    if kind == "object":
        props = schema.get("properties", {})
        return {k: _fill(v, sentence, n) for k, v in props.items()}
    if kind == "array":
        return [_fill(schema.get("items", {}), sentence, n)]
    if kind == "integer":
        return n
    if kind == "boolean":
        return True
    return sentence


def agreeable_model(request: dict[str, Any]) -> str:
    prompt = last_user(request)
    question = (
        re.findall(r"Question: (.+)", prompt) or re.findall(r'question "([^"]+)"', prompt) or [prompt]
    )[0]
    numbered = [(int(n), s) for n, s in re.findall(r"^\[(\d+)\] (.+)$", prompt, re.M)]
    quoted = re.findall(r'sentence(?: alone)?: "([^"]+)"', prompt)
    n, sentence = (
        max(numbered, key=lambda ns: len(_words(ns[1]) & _words(question)), default=(1, ""))
        if numbered
        else (1, quoted[0] if quoted else "")
    )
    fmt = request.get("response_format") or {}
    schema = (fmt.get("json_schema") or {}).get("schema")
    if schema is None:
        schema = {
            "type": "object",
            "properties": {
                "answer": {"type": "string"},
                "sentence_ids": {"type": "array", "items": {"type": "integer"}},
            },
        }
    return json.dumps(_fill(schema, sentence, n))


@pytest.fixture(scope="module")
def readme_env(tmp_path_factory):
    """Environment for README code: a fresh index folder, the default articles, the stub model."""
    with StubLLM() as stub:
        stub.responder = agreeable_model
        tmp = tmp_path_factory.mktemp("readme")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("QA_", "OPENAI_"))}
        env.update(
            QA_INDEX_DIR=str(tmp / "index"),
            QA_ARTICLES_DIR=str(PROJECT_ROOT / "articles"),
            QA_CACHE_DIR=str(tmp / "cache"),
            OPENAI_BASE_URL=stub.base_url,
            OPENAI_API_KEY="unused",
            QA_MODEL="stub",
            QA_LLM_TIMEOUT="30",
            PYTHONPATH=str(PROJECT_ROOT),
            PYTHONWARNINGS="default::DeprecationWarning,default::PendingDeprecationWarning",
        )
        yield env, stub


def _run(args: list[str], env: dict[str, str], timeout: float = 600) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(args, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    assert "DeprecationWarning" not in proc.stderr, f"{args}: a deprecation warning\n{proc.stderr}"
    return proc


# ------------------------------------------------------------------------------------------------
# Bash


def _first_article_id(env: dict[str, str]) -> str:
    proc = _run(["bash", "-c", ".venv/bin/qa list --json"], env)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.splitlines()[0])["id"]


def test_readme_bash_commands_run_as_written(readme_env):
    env, stub = readme_env
    ran = []
    for line in bash_lines():
        if line.startswith(tuple(NOT_RUN)):
            continue
        if line.startswith("export "):
            continue  # test_readme_export_lines_configure_the_endpoint
        command = line
        removed = None
        if "ARTICLE_ID…" in command:
            removed = _first_article_id(env)
            command = command.replace("ARTICLE_ID…", shlex.quote(removed))
        proc = _run(["bash", "-c", command], env)
        assert proc.returncode == 0, f"{command}\n{proc.stdout}\n{proc.stderr}"
        ran.append((line, proc.stdout))
        if removed is not None:  # the README's removal worked; put the article back for the lines after it
            assert removed not in _run(["bash", "-c", ".venv/bin/qa list --json"], env).stdout
            assert _run(["bash", "-c", ".venv/bin/qa index"], env).returncode == 0
    commands = [shlex.split(line, comments=True)[1] for line, _ in ran]
    assert commands[0] == "index" and "search" in commands, commands  # search has an index to read
    from qa.ingest import read_articles
    from qa.metadata import byline

    search_out = next(out for line, out in ran if shlex.split(line, comments=True)[1] == "search")
    articles = read_articles([PROJECT_ROOT / "articles"]).articles
    # each passage is shown with its outlet and date, or its headline where nothing names an outlet
    assert all((byline(a.source, a.title, a.published_at) or a.title) in search_out for a in articles), (
        search_out
    )
    assert "000_f201e7d1f3c5cdc5" not in search_out


def test_readme_export_lines_configure_the_endpoint(readme_env):
    env, _ = readme_env
    exports = [line for line in bash_lines() if line.startswith("export ")]
    assert exports
    for line in exports:
        assigned = dict(part.split("=", 1) for part in shlex.split(line, comments=True)[1:])
        probe = f"{line}\n{shlex.quote(sys.executable)} -c " + shlex.quote(
            "import json; from qa.config import Settings; s = Settings.from_env(); "
            "print(json.dumps([s.base_url, s.api_key, s.model]))"
        )
        proc = _run(["bash", "-c", probe], env)
        assert proc.returncode == 0, proc.stderr
        base_url, api_key, model = json.loads(proc.stdout)
        assert base_url == assigned.get("OPENAI_BASE_URL", base_url)
        assert api_key == assigned.get("OPENAI_API_KEY", api_key)
        assert model == assigned.get("QA_MODEL", model)


# ------------------------------------------------------------------------------------------------
# Python

CHECK = """
import qa as _qa
assert isinstance(answer, _qa.Answer), answer
assert answer.citations, "the README's citation check ran over no citation"
assert isinstance(event, _qa.Final), event
assert passages and all(isinstance(p, _qa.Passage) for p in passages)
assert all(p.source and "000_f201e7d1f3c5cdc5" not in p.source for p in passages)  # outlet, never a stem
assert all(c.source and "_" not in c.source for c in answer.citations)
print("README-BLOCK-OK", len(answer.citations), [p.source for p in passages][:2])
"""


@pytest.mark.parametrize("index", range(len(code_blocks("python"))))
def test_readme_python_block_runs_twice_in_one_process(readme_env, index):
    env, stub = readme_env
    block = code_blocks("python")[index]
    check = CHECK if index == 0 else 'print("README-BLOCK-OK")'
    program = f"{block}\n{check}\n{block}\n{check}\n"
    proc = _run([sys.executable, "-c", program], env)
    assert proc.returncode == 0, f"README python block {index + 1} failed:\n{proc.stdout}\n{proc.stderr}"
    assert proc.stdout.count("README-BLOCK-OK") == 2, proc.stdout
    if index == 0:
        assert "No article comes from the source 'Reuters'" in proc.stdout
        assert stub.requests, "the README's questions never reached the model"


def test_every_environment_variable_qa_reads_is_in_the_readme():
    """A setting nobody can find is a setting nobody can use: each QA_*/OPENAI_* variable read anywhere
    in qa/ or app.py is named in the README."""
    pattern = re.compile(r"""(?:_env|environ\.get|getenv)\(\s*["']((?:QA|OPENAI)_[A-Z0-9_]+)["']""")
    sources = [*sorted((PROJECT_ROOT / "qa").rglob("*.py")), PROJECT_ROOT / "app.py"]
    read = {name for path in sources for name in pattern.findall(path.read_text(encoding="utf-8"))}
    assert {"QA_K", "QA_INDEX_DIR", "QA_PORT", "OPENAI_BASE_URL"} <= read
    readme = README.read_text(encoding="utf-8")
    missing = sorted(name for name in read if f"`{name}`" not in readme)
    assert not missing, f"read by qa but not in the README: {missing}"
