"""Settings are validated when they are made: a bad value is a ConfigError naming what to change."""

from __future__ import annotations

import re
from dataclasses import fields, replace
from pathlib import Path

import pytest

import qa
from qa.config import ENV_VARS, Settings
from qa.errors import ConfigError, QAError

CONFIG_SOURCE = Path(qa.config.__file__).read_text(encoding="utf-8")
ENV_READ = sorted(set(re.findall(r'_env\("((?:QA|OPENAI)_\w+)"\)', CONFIG_SOURCE)))


def test_defaults_are_valid():
    s = Settings()
    assert s.k >= 1 and s.index_dir.name == "index"


def test_config_error_is_a_public_qa_error():
    assert issubclass(ConfigError, QAError) and issubclass(ConfigError, ValueError)
    assert qa.ConfigError is ConfigError


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"k": 0}, "QA_K"),
        ({"k": -3}, "QA_K"),
        ({"k": "4"}, "QA_K"),
        ({"k": True}, "QA_K"),
        ({"k": 2.5}, "QA_K"),
        ({"max_question_chars": 0}, "QA_MAX_QUESTION_CHARS"),
        ({"llm_timeout_s": 0.0}, "QA_LLM_TIMEOUT"),
        ({"llm_timeout_s": float("inf")}, "QA_LLM_TIMEOUT"),
        ({"llm_timeout_s": float("nan")}, "QA_LLM_TIMEOUT"),
        ({"llm_threads": 0}, "QA_LLM_THREADS"),
        ({"chunk_max_tokens": 0}, "Settings.chunk_max_tokens"),
        ({"chunk_overlap_sentences": -1}, "Settings.chunk_overlap_sentences"),
        ({"min_support": 1.5}, "Settings.min_support"),
        ({"min_dense_score": 2.0}, "Settings.min_dense_score"),
        ({"temperature": -0.1}, "Settings.temperature"),
        ({"index_dir": 3}, "QA_INDEX_DIR"),
        ({"model": 7}, "QA_MODEL"),
        ({"rerank": "no"}, "QA_RERANK"),
    ],
)
def test_bad_values_are_refused_at_construction(overrides, named):
    with pytest.raises(ConfigError, match=re.escape(named)):
        Settings(**overrides)
    with pytest.raises(ConfigError, match=re.escape(named)):
        replace(Settings(), **overrides)


@pytest.mark.parametrize(
    "overrides",
    [
        {"k": 1},
        {"chunk_overlap_sentences": 0},
        {"llm_retries": 0},
        {"temperature": 0.0},
        {"llm_timeout_s": 1},  # an int where a float is declared is fine
        {"min_dense_score": -1.0},
        {"base_url": None},
    ],
)
def test_edge_values_that_make_sense_are_accepted(overrides):
    s = Settings(**overrides)
    for name, value in overrides.items():
        assert getattr(s, name) == value


def test_a_path_given_as_text_becomes_a_path(tmp_path):
    s = Settings(index_dir=str(tmp_path / "ix"))
    assert s.index_dir == tmp_path / "ix" and isinstance(s.index_dir, Path)


@pytest.mark.parametrize(
    ("var", "value", "message"),
    [
        ("QA_K", "abc", "QA_K must be a whole number, got 'abc'"),
        ("QA_K", "4.5", "QA_K must be a whole number"),
        ("QA_K", "0", "QA_K (Settings.k) must be at least 1, got 0"),
        ("QA_LLM_TIMEOUT", "soon", "QA_LLM_TIMEOUT must be a number, got 'soon'"),
        ("QA_LLM_TIMEOUT", "-5", "QA_LLM_TIMEOUT (Settings.llm_timeout_s) must be more than 0"),
        ("QA_MAX_QUESTION_CHARS", "1e3", "QA_MAX_QUESTION_CHARS must be a whole number"),
    ],
)
def test_bad_environment_names_the_variable(monkeypatch, var, value, message):
    monkeypatch.setenv(var, value)
    with pytest.raises(ConfigError) as info:
        Settings.from_env()
    assert message in str(info.value)


def test_environment_values_are_read(monkeypatch):
    monkeypatch.setenv("QA_K", " 6 ")
    monkeypatch.setenv("QA_LLM_TIMEOUT", "2.5")
    s = Settings.from_env()
    assert (s.k, s.llm_timeout_s) == (6, 2.5)


def test_every_variable_read_from_the_environment_fails_only_as_a_config_error(monkeypatch):
    """Generic guard for settings added later: garbage in any variable is accepted or a ConfigError
    naming that variable, never a raw ValueError or TypeError traceback."""
    assert "QA_K" in ENV_READ and len(ENV_READ) >= 8
    for var in ENV_READ:
        for garbage in ("abc", "-1", "0", "nan"):
            monkeypatch.setenv(var, garbage)
            try:
                Settings.from_env()
            except ConfigError as exc:
                assert var in str(exc), (var, garbage, str(exc))
            monkeypatch.delenv(var)


def test_env_var_table_matches_the_fields_and_the_reader():
    names = {f.name for f in fields(Settings)}
    assert set(ENV_VARS) <= names
    assert set(ENV_VARS.values()) <= set(ENV_READ)


def test_cli_reports_a_bad_setting_without_a_traceback(monkeypatch):
    from click.testing import CliRunner

    from qa.cli import cli

    monkeypatch.setenv("QA_K", "abc")
    result = CliRunner().invoke(cli, ["search", "caravan"])
    assert result.exit_code != 0
    assert "QA_K must be a whole number" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("var", ["QA_RERANK", "QA_VERIFY"])
def test_switches_read_on_and_off_and_refuse_anything_else(monkeypatch, var):
    field = {"QA_RERANK": "rerank", "QA_VERIFY": "verify_with_model"}[var]
    monkeypatch.setenv(var, "off")
    assert getattr(Settings.from_env(), field) is False
    monkeypatch.setenv(var, "Yes")
    assert getattr(Settings.from_env(), field) is True
    monkeypatch.setenv(var, "maybe")
    with pytest.raises(ConfigError, match=var):
        Settings.from_env()


def test_rerank_candidates_from_the_environment(monkeypatch):
    monkeypatch.setenv("QA_RERANK_CANDIDATES", "10")
    assert Settings.from_env().rerank_candidates == 10
    monkeypatch.setenv("QA_RERANK_CANDIDATES", "0")
    with pytest.raises(ConfigError, match="QA_RERANK_CANDIDATES"):
        Settings.from_env()
