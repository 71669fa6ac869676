"""The public API on the ``qa`` package: complete, and stable however its submodules get imported.

Each check runs in a fresh interpreter, because what is under test is the state of the package object
after imports that a test process has long since done.
"""

from __future__ import annotations

import importlib
import inspect
import json
import subprocess
import sys
import textwrap

import pytest

import qa
import qa.errors

FUNCTIONS = ["ask", "ask_stream", "retrieve", "build_index", "remove_articles", "get_article"]


def _run(code: str) -> str:
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


@pytest.mark.parametrize(
    "imports",
    [
        "",  # the function first, its submodule later
        "import qa.retrieve",  # the submodule first
        "import qa.answer",  # a submodule that imports qa.retrieve
        "from qa.retrieve import Retriever",
        "import qa.index, qa.cli",
    ],
)
def test_retrieve_stays_the_function_whatever_was_imported(imports):
    out = _run(
        f"""
        import qa
        {imports}
        first = qa.retrieve
        import qa.retrieve, qa.answer, qa.index
        from qa.retrieve import get_article
        second = qa.retrieve
        assert callable(first) and first is second, (first, second)
        assert first.__module__ == "qa.retrieve" and first.__name__ == "retrieve"
        from qa import retrieve
        assert retrieve is first
        import sys
        assert sys.modules["qa.retrieve"].retrieve is first
        print("ok")
        """
    )
    assert out.strip() == "ok"


def test_every_public_function_resolves_to_its_implementation():
    out = _run(
        """
        import qa, sys
        import qa.answer, qa.index, qa.retrieve
        for name, module in [("ask", "qa.answer"), ("ask_stream", "qa.answer"),
                             ("build_index", "qa.index"), ("retrieve", "qa.retrieve"),
                             ("get_article", "qa.retrieve")]:
            for _ in range(3):
                assert getattr(qa, name) is getattr(sys.modules[module], name), name
        print("ok")
        """
    )
    assert out.strip() == "ok"


def test_import_qa_stays_light():
    out = _run(
        """
        import sys, qa
        heavy = [m for m in ("torch", "numpy", "faiss", "sentence_transformers", "openai", "xllamacpp")
                 if m in sys.modules]
        print(heavy)
        """
    )
    assert out.strip() == "[]"


def test_all_lists_the_agreed_api_and_every_name_exists():
    assert set(FUNCTIONS) <= set(qa.__all__)
    assert {"Status", "Sources", "Delta", "Final", "Answer", "Passage", "Citation", "IndexStats"} <= set(
        qa.__all__
    )
    not_written = []
    for name in qa.__all__:
        module = qa._LAZY.get(name)
        if module and not hasattr(importlib.import_module(module), name):
            not_written.append(f"{module}.{name}")  # wired, but its module does not define it yet
            continue
        assert getattr(qa, name) is not None, name
    assert sorted(qa.__all__) == qa.__all__
    if not_written:
        pytest.skip(f"not written yet by their owners: {', '.join(not_written)}")


def test_every_public_error_is_exported():
    errors = {
        name
        for name, obj in vars(qa.errors).items()
        if inspect.isclass(obj) and issubclass(obj, qa.errors.QAError) and not name.startswith("_")
    }
    assert {"IngestError", "ModelFileError", "ConfigError", "QuestionError", "LLMError"} <= errors
    missing = errors - set(qa.__all__)
    assert not missing, f"errors raised by qa but not exported from qa: {sorted(missing)}"
    for name in errors:
        assert getattr(qa, name) is getattr(qa.errors, name)


def test_unknown_attribute_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no_such_thing"):
        qa.no_such_thing  # noqa: B018


def test_a_wheel_of_the_project_is_complete_and_builds_without_warnings(tmp_path):
    """The package as installed elsewhere: every module and prompt file inside, an SPDX licence, and no
    setuptools deprecation warnings (``project.license`` as a table was one)."""
    import shutil
    import zipfile

    from qa.config import PROJECT_ROOT

    src = tmp_path / "src"
    skip = shutil.ignore_patterns(
        ".*", "__pycache__", "*.egg-info", "build", "dist", "index", "out", "uploads"
    )
    shutil.copytree(
        PROJECT_ROOT, src, ignore=lambda d, names: {"tests", "bench", "eval"} & set(names) | skip(d, names)
    )
    out = _run_in(
        src,
        """
        import json, warnings
        from setuptools import build_meta
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            name = build_meta.build_wheel("dist")
        print(json.dumps([name, [f"{w.category.__name__}: {w.message}" for w in caught]]))
        """,
    )
    name, warned = json.loads(out.strip().splitlines()[-1])
    assert warned == []
    with zipfile.ZipFile(src / "dist" / name) as wheel:
        names = set(wheel.namelist())
        metadata = wheel.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
    expected = {
        p.relative_to(PROJECT_ROOT).as_posix()
        for p in (PROJECT_ROOT / "qa").rglob("*")
        if p.suffix in {".py", ".txt", ".typed"} and "__pycache__" not in p.parts
    }
    assert {"qa/__init__.py", "qa/metadata.py", "qa/py.typed"} <= expected
    assert expected <= names, sorted(expected - names)
    assert "License-Expression: MIT" in metadata


def _run_in(cwd, code: str) -> str:
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], cwd=cwd, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout
